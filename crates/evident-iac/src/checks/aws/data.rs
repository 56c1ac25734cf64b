//! Data stores: encryption at rest (EBS, RDS, DynamoDB, SQS, SNS, KMS, EFS, ElastiCache,
//! Redshift, OpenSearch, CloudWatch Logs) and backups / deletion protection.

use evident_core::Severity;

use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Node, Resource};

use super::{
    AT_REST, BACKUP, Flag, at, flag, flag_at, get, is_cfn, present, require_true, setting, string,
};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-ebs-volume-unencrypted",
            "EBS volume is not encrypted",
            Severity::High,
            AT_REST,
            "An unencrypted EBS volume, and every snapshot taken of it, holds its data in clear; encryption at rest is a baseline auditors test on every data store.",
            "Set `encrypted = true` (and `kms_key_id` for a customer managed key) on the volume (CloudFormation: `Encrypted: true`), or turn on `aws_ebs_encryption_by_default { enabled = true }` for the account and region.",
            &["aws_ebs_volume", "AWS::EC2::Volume"],
            ebs_volume,
        ),
        check(
            "aws-ec2-block-device-unencrypted",
            "EC2 instance block device is not encrypted",
            Severity::High,
            AT_REST,
            "Volumes created with an instance are as sensitive as the instance's data; an unencrypted one leaves that data and its snapshots in clear.",
            "Set `encrypted = true` in `root_block_device` and every `ebs_block_device` (CloudFormation: `BlockDeviceMappings[].Ebs.Encrypted: true`), or enable `aws_ebs_encryption_by_default`.",
            &[
                "aws_instance",
                "aws_launch_configuration",
                "AWS::EC2::Instance",
            ],
            instance_block_devices,
        ),
        check(
            "aws-launch-template-unencrypted",
            "Launch template creates unencrypted EBS volumes",
            Severity::High,
            AT_REST,
            "Every instance an Auto Scaling group starts from this template gets a volume with encryption explicitly turned off, multiplying clear-text copies of the data.",
            "Set `encrypted = \"true\"` in `block_device_mappings { ebs { ... } }` (CloudFormation: `LaunchTemplateData.BlockDeviceMappings[].Ebs.Encrypted: true`).",
            &["aws_launch_template", "AWS::EC2::LaunchTemplate"],
            launch_template,
        ),
        check(
            "aws-rds-instance-unencrypted",
            "RDS DB instance storage is not encrypted",
            Severity::High,
            AT_REST,
            "RDS does not encrypt storage unless asked, and encryption cannot be turned on later without a snapshot copy and a restore; the database, its backups and read replicas stay in clear.",
            "Set `storage_encrypted = true` (optionally `kms_key_id`) on `aws_db_instance` (CloudFormation: `StorageEncrypted: true`).",
            &["aws_db_instance", "AWS::RDS::DBInstance"],
            rds_instance_unencrypted,
        ),
        check(
            "aws-rds-cluster-unencrypted",
            "Aurora / DocumentDB / Neptune cluster storage is not encrypted",
            Severity::High,
            AT_REST,
            "Cluster storage is unencrypted unless `storage_encrypted` is set (except Aurora Serverless v1), and it cannot be changed in place; the data and its snapshots stay in clear.",
            "Set `storage_encrypted = true` (optionally `kms_key_id`) on the cluster (CloudFormation: `StorageEncrypted: true`).",
            &[
                "aws_rds_cluster",
                "aws_docdb_cluster",
                "aws_neptune_cluster",
                "AWS::RDS::DBCluster",
                "AWS::DocDB::DBCluster",
                "AWS::Neptune::DBCluster",
            ],
            cluster_unencrypted,
        ),
        check(
            "aws-dynamodb-no-kms",
            "DynamoDB table is encrypted with an AWS owned key only",
            Severity::Low,
            AT_REST,
            "DynamoDB always encrypts tables, but by default with a key AWS owns: its use does not appear in CloudTrail and access to it cannot be restricted or revoked, so auditors asking for managed keys on sensitive data get no evidence.",
            "Add `server_side_encryption { enabled = true  kms_key_arn = aws_kms_key.ddb.arn }` (CloudFormation: `SSESpecification: { SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: ... }`).",
            &["aws_dynamodb_table", "AWS::DynamoDB::Table"],
            dynamodb_kms,
        ),
        check(
            "aws-dynamodb-pitr",
            "DynamoDB table has no point-in-time recovery",
            Severity::Medium,
            BACKUP,
            "Without point-in-time recovery a bad write, a buggy migration or a deletion of items cannot be undone: there are no continuous backups to restore from.",
            "Add `point_in_time_recovery { enabled = true }` (CloudFormation: `PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }`).",
            &["aws_dynamodb_table", "AWS::DynamoDB::Table"],
            dynamodb_pitr,
        ),
        check(
            "aws-sqs-unencrypted",
            "SQS queue has encryption turned off",
            Severity::Medium,
            AT_REST,
            "New queues are encrypted with SQS-managed keys by default; turning that off without a KMS key stores every message in clear.",
            "Remove `sqs_managed_sse_enabled = false` or set `kms_master_key_id = aws_kms_key.sqs.id` (CloudFormation: `SqsManagedSseEnabled: true` or `KmsMasterKeyId`).",
            &["aws_sqs_queue", "AWS::SQS::Queue"],
            sqs_unencrypted,
        ),
        check(
            "aws-sns-unencrypted",
            "SNS topic is not encrypted with KMS",
            Severity::Medium,
            AT_REST,
            "SNS stores messages unencrypted at rest unless the topic has a KMS key, and notifications often carry alerts or data that should not sit in clear.",
            "Set `kms_master_key_id` (e.g. `\"alias/aws/sns\"` or a customer managed key) on the topic (CloudFormation: `KmsMasterKeyId`).",
            &["aws_sns_topic", "AWS::SNS::Topic"],
            sns_unencrypted,
        ),
        check(
            "aws-kms-key-rotation",
            "KMS key has automatic rotation turned off",
            Severity::Medium,
            &["soc2:CC6.1", "iso27001:A.8.24", "nist-800-53:SC-12"],
            "A symmetric key that never rotates protects ever more data with the same key material, and key rotation is a documented requirement of most cryptography policies.",
            "Set `enable_key_rotation = true` (optionally `rotation_period_in_days`) on `aws_kms_key` (CloudFormation: `EnableKeyRotation: true`).",
            &["aws_kms_key", "AWS::KMS::Key"],
            kms_rotation,
        ),
        check(
            "aws-efs-unencrypted",
            "EFS file system is not encrypted",
            Severity::High,
            AT_REST,
            "EFS file systems are created unencrypted unless asked, and encryption cannot be added later; shared files stay in clear on disk.",
            "Set `encrypted = true` (optionally `kms_key_id`) on `aws_efs_file_system` (CloudFormation: `Encrypted: true`).",
            &["aws_efs_file_system", "AWS::EFS::FileSystem"],
            efs_unencrypted,
        ),
        check(
            "aws-elasticache-at-rest-unencrypted",
            "ElastiCache replication group is not encrypted at rest",
            Severity::Medium,
            AT_REST,
            "A Redis replication group writes snapshots and swap to disk in clear unless encryption at rest is on, and it cannot be enabled on an existing group.",
            "Set `at_rest_encryption_enabled = true` (optionally `kms_key_id`) on `aws_elasticache_replication_group` (CloudFormation: `AtRestEncryptionEnabled: true`).",
            &[
                "aws_elasticache_replication_group",
                "AWS::ElastiCache::ReplicationGroup",
            ],
            elasticache_at_rest,
        ),
        check(
            "aws-redshift-unencrypted",
            "Redshift cluster has encryption turned off",
            Severity::High,
            AT_REST,
            "A data warehouse concentrates the organization's data; with encryption explicitly off its blocks and snapshots are stored in clear.",
            "Set `encrypted = true` (optionally `kms_key_id`) on `aws_redshift_cluster` (CloudFormation: `Encrypted: true`).",
            &["aws_redshift_cluster", "AWS::Redshift::Cluster"],
            redshift_unencrypted,
        ),
        check(
            "aws-opensearch-unencrypted",
            "OpenSearch / Elasticsearch domain is not encrypted at rest",
            Severity::High,
            AT_REST,
            "Search indices hold copies of application data and logs; without encryption at rest they, their logs and snapshots are stored in clear.",
            "Add `encrypt_at_rest { enabled = true }` (CloudFormation: `EncryptionAtRestOptions: { Enabled: true }`).",
            &[
                "aws_opensearch_domain",
                "aws_elasticsearch_domain",
                "AWS::OpenSearchService::Domain",
                "AWS::Elasticsearch::Domain",
            ],
            opensearch_at_rest,
        ),
        check(
            "aws-cloudwatch-log-group-kms",
            "CloudWatch log group is not encrypted with a KMS key",
            Severity::Low,
            AT_REST,
            "CloudWatch Logs encrypts log data with a service key by default; a customer managed key lets access to sensitive logs be restricted and audited, which some control sets require.",
            "Set `kms_key_id = aws_kms_key.logs.arn` on `aws_cloudwatch_log_group` (the key policy must allow `logs.<region>.amazonaws.com`; CloudFormation: `KmsKeyId`).",
            &["aws_cloudwatch_log_group", "AWS::Logs::LogGroup"],
            log_group_kms,
        ),
        check(
            "aws-rds-backup-retention",
            "RDS automated backups are kept less than 7 days",
            Severity::Medium,
            BACKUP,
            "With 0 days automated backups are off, and RDS keeps only 1 day when nothing is set: an error noticed after the weekend cannot be restored, short of the one-week minimum most backup policies state.",
            "Set `backup_retention_period = 7` or more (up to 35) (CloudFormation: `BackupRetentionPeriod: 7`).",
            &[
                "aws_db_instance",
                "aws_rds_cluster",
                "AWS::RDS::DBInstance",
                "AWS::RDS::DBCluster",
            ],
            rds_backup_retention,
        ),
        check(
            "aws-rds-deletion-protection",
            "RDS database has no deletion protection",
            Severity::Low,
            BACKUP,
            "Without deletion protection a mistaken `terraform destroy`, a rename that forces replacement or a console click deletes the production database at once.",
            "Set `deletion_protection = true` on `aws_db_instance` / `aws_rds_cluster` (CloudFormation: `DeletionProtection: true`).",
            &[
                "aws_db_instance",
                "aws_rds_cluster",
                "AWS::RDS::DBInstance",
                "AWS::RDS::DBCluster",
            ],
            rds_deletion_protection,
        ),
    ]
}

/// Is EBS encryption by default turned on for the account (in this model)?
fn ebs_default_encryption(ctx: &Ctx<'_>, r: &Resource) -> bool {
    ctx.model.of_kind("aws_ebs_encryption_by_default").any(|d| {
        d.platform == r.platform && !matches!(flag(d, "enabled"), Flag::Off(_) | Flag::Unknown)
    })
}

fn ebs_volume(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (enc, snapshot) = if is_cfn(r) {
        ("Encrypted", "SnapshotId")
    } else {
        ("encrypted", "snapshot_id")
    };
    let default_off = !ebs_default_encryption(ctx, r) && present(r, snapshot) == Some(false);
    require_true(r, out, enc, default_off);
}

/// Reports a block device node whose encryption is off (or missing while `default_off`).
fn block_device(
    r: &Resource,
    out: &mut Vec<Hit>,
    dev: &Node,
    enc: &str,
    what: &str,
    default_off: bool,
) {
    match flag_at(dev, enc) {
        Flag::Off(l) => out.push(
            Hit::new(
                if l > 0 { l } else { dev.line_or(r.line) },
                format!("{what}: {enc} is false"),
            )
            .key(what.to_owned()),
        ),
        Flag::Missing if default_off => out.push(
            Hit::new(
                dev.line_or(r.line),
                format!("{what}: {enc} is not set (the default is unencrypted)"),
            )
            .key(what.to_owned()),
        ),
        _ => {}
    }
}

fn instance_block_devices(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_cfn(r) {
        if let Attr::Known(list) = get(r, "BlockDeviceMappings") {
            for dev in list.items() {
                let name = at(dev, "DeviceName").str().unwrap_or("block device");
                if let Some(ebs) = dev.get("Ebs") {
                    block_device(r, out, ebs, "Encrypted", name, false);
                }
            }
        }
        return;
    }
    let default_on = ebs_default_encryption(ctx, r);
    if let Attr::Known(root) = get(r, "root_block_device") {
        for dev in root.items() {
            // The root volume follows the AMI's snapshot when nothing is set.
            block_device(r, out, dev, "encrypted", "root_block_device", false);
        }
    }
    if let Attr::Known(list) = get(r, "ebs_block_device") {
        for dev in list.items() {
            let name = at(dev, "device_name").str().unwrap_or("ebs_block_device");
            let from_snapshot = !matches!(at(dev, "snapshot_id"), Attr::Missing);
            block_device(
                r,
                out,
                dev,
                "encrypted",
                name,
                !default_on && !from_snapshot,
            );
        }
    }
}

fn launch_template(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (list, ebs, enc, name) = if is_cfn(r) {
        (
            "LaunchTemplateData.BlockDeviceMappings",
            "Ebs",
            "Encrypted",
            "DeviceName",
        )
    } else {
        ("block_device_mappings", "ebs", "encrypted", "device_name")
    };
    if let Attr::Known(list) = get(r, list) {
        for dev in list.items() {
            let dname = at(dev, name).str().unwrap_or("block device");
            if let Attr::Known(e) = at(dev, ebs) {
                for e in e.items() {
                    block_device(r, out, e, enc, dname, false);
                }
            }
        }
    }
}

/// Is any of `keys` set (or unknown)?
fn any_set(r: &Resource, keys: &[&str]) -> bool {
    keys.iter().any(|k| present(r, k) != Some(false))
}

fn is_aurora(r: &Resource) -> bool {
    let key = setting(r, "engine", "Engine");
    string(r, key).is_some_and(|e| e.starts_with("aurora"))
}

fn rds_instance_unencrypted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_aurora(r) {
        return;
    }
    if is_cfn(r) {
        let inherits = any_set(
            r,
            &[
                "DBClusterIdentifier",
                "SourceDBInstanceIdentifier",
                "DBSnapshotIdentifier",
                "KmsKeyId",
            ],
        );
        require_true(r, out, "StorageEncrypted", !inherits);
    } else {
        let inherits = any_set(
            r,
            &["replicate_source_db", "snapshot_identifier", "kms_key_id"],
        );
        require_true(r, out, "storage_encrypted", !inherits);
    }
}

fn cluster_unencrypted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_cfn(r) {
        let inherits = any_set(
            r,
            &[
                "SnapshotIdentifier",
                "SourceDBClusterIdentifier",
                "KmsKeyId",
                "RestoreToTime",
            ],
        ) || string(r, "EngineMode") == Some("serverless");
        require_true(r, out, "StorageEncrypted", !inherits);
    } else {
        let inherits = any_set(
            r,
            &[
                "snapshot_identifier",
                "replication_source_identifier",
                "kms_key_id",
                "restore_to_point_in_time",
                "global_cluster_identifier",
            ],
        ) || string(r, "engine_mode") == Some("serverless");
        require_true(r, out, "storage_encrypted", !inherits);
    }
}

fn dynamodb_kms(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = setting(
        r,
        "server_side_encryption.enabled",
        "SSESpecification.SSEEnabled",
    );
    match flag(r, path) {
        Flag::Off(l) => out.push(Hit::new(
            if l > 0 { l } else { r.line },
            format!("{path} is false: the table uses an AWS owned key"),
        )),
        Flag::Missing => out.push(Hit::new(
            r.line,
            format!("{path} is not set: the table uses an AWS owned key"),
        )),
        _ => {}
    }
}

fn dynamodb_pitr(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = setting(
        r,
        "point_in_time_recovery.enabled",
        "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled",
    );
    require_true(r, out, path, true);
}

fn sqs_unencrypted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (sse, key) = if is_cfn(r) {
        ("SqsManagedSseEnabled", "KmsMasterKeyId")
    } else {
        ("sqs_managed_sse_enabled", "kms_master_key_id")
    };
    if let Flag::Off(l) = flag(r, sse)
        && present(r, key) == Some(false)
    {
        out.push(Hit::new(
            if l > 0 { l } else { r.line },
            format!("{sse} is false and no {key} is set"),
        ));
    }
}

fn sns_unencrypted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = setting(r, "kms_master_key_id", "KmsMasterKeyId");
    if present(r, key) == Some(false) {
        out.push(Hit::new(r.line, format!("{key} is not set")));
    }
}

fn kms_rotation(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (spec, usage, rotation) = if is_cfn(r) {
        ("KeySpec", "KeyUsage", "EnableKeyRotation")
    } else {
        (
            "customer_master_key_spec",
            "key_usage",
            "enable_key_rotation",
        )
    };
    // Only symmetric encryption keys can rotate automatically.
    let symmetric = match get(r, spec) {
        Attr::Missing => true,
        Attr::Known(n) => n.as_str() == Some("SYMMETRIC_DEFAULT"),
        Attr::Unknown => false,
    };
    let encrypt = match get(r, usage) {
        Attr::Missing => true,
        Attr::Known(n) => n.as_str() == Some("ENCRYPT_DECRYPT"),
        Attr::Unknown => false,
    };
    if symmetric && encrypt {
        require_true(r, out, rotation, true);
    }
}

fn efs_unencrypted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = setting(r, "encrypted", "Encrypted");
    require_true(r, out, key, true);
}

fn elasticache_at_rest(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (key, engine) = if is_cfn(r) {
        ("AtRestEncryptionEnabled", "Engine")
    } else {
        ("at_rest_encryption_enabled", "engine")
    };
    // Valkey groups are encrypted at rest by default.
    let default_off = match get(r, engine) {
        Attr::Missing => true,
        Attr::Known(n) => n.as_str().is_some_and(|e| e.eq_ignore_ascii_case("redis")),
        Attr::Unknown => false,
    };
    require_true(r, out, key, default_off);
}

fn redshift_unencrypted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    // New clusters are encrypted by default since 2025: only an explicit `false` is reported.
    let key = setting(r, "encrypted", "Encrypted");
    require_true(r, out, key, false);
}

fn opensearch_at_rest(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = setting(
        r,
        "encrypt_at_rest.enabled",
        "EncryptionAtRestOptions.Enabled",
    );
    require_true(r, out, path, true);
}

fn log_group_kms(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = setting(r, "kms_key_id", "KmsKeyId");
    if present(r, key) == Some(false) {
        out.push(Hit::new(r.line, format!("{key} is not set")));
    }
}

fn rds_backup_retention(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let cluster = r.kind.contains("luster");
    let (key, skip): (&str, &[&str]) = match (is_cfn(r), cluster) {
        (true, false) => (
            "BackupRetentionPeriod",
            &["DBClusterIdentifier", "SourceDBInstanceIdentifier"],
        ),
        (true, true) => ("BackupRetentionPeriod", &[]),
        (false, false) => ("backup_retention_period", &["replicate_source_db"]),
        (false, true) => ("backup_retention_period", &[]),
    };
    // Aurora instances and read replicas take the cluster's / source's backups.
    if (!cluster && is_aurora(r)) || any_set(r, skip) {
        return;
    }
    match get(r, key) {
        Attr::Known(n) => {
            if let Some(days) = n.as_f64()
                && days < 7.0
            {
                let what = if days < 1.0 {
                    "automated backups are off".to_owned()
                } else {
                    format!("backups are kept {days} day(s)")
                };
                out.push(Hit::new(
                    n.line_or(r.line),
                    format!("{key} = {days}: {what}"),
                ));
            }
        }
        Attr::Missing => out.push(Hit::new(
            r.line,
            format!("{key} is not set: RDS keeps automated backups 1 day"),
        )),
        Attr::Unknown => {}
    }
}

fn rds_deletion_protection(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if !r.kind.contains("luster") && is_aurora(r) {
        return;
    }
    let key = setting(r, "deletion_protection", "DeletionProtection");
    require_true(r, out, key, true);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfn, run_on, tf};
    use serde_json::json;

    #[test]
    fn ebs_default_encryption_silences_missing() {
        let v = tf("aws_ebs_volume", "v", &json!({"size": 10}));
        assert_eq!(
            run_on("aws-ebs-volume-unencrypted", vec![v.clone()], 0).len(),
            1
        );
        let d = tf(
            "aws_ebs_encryption_by_default",
            "d",
            &json!({"enabled": true}),
        );
        assert!(run_on("aws-ebs-volume-unencrypted", vec![v, d.clone()], 0).is_empty());
        let off = tf("aws_ebs_volume", "v", &json!({"encrypted": false}));
        assert_eq!(
            run_on("aws-ebs-volume-unencrypted", vec![off, d], 0).len(),
            1
        );
    }

    #[test]
    fn instance_block_devices() {
        let i = tf(
            "aws_instance",
            "i",
            &json!({"root_block_device": [{"volume_size": 8}],
                    "ebs_block_device": [{"device_name": "/dev/sdb"}, {"device_name": "/dev/sdc", "snapshot_id": "snap-1"},
                                         {"device_name": "/dev/sdd", "encrypted": true}]}),
        );
        let hits = run_on("aws-ec2-block-device-unencrypted", vec![i], 0);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].key, "/dev/sdb");
        let c = cfn(
            "AWS::EC2::Instance",
            "I",
            &json!({"BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": "false"}}]}),
        );
        assert_eq!(
            run_on("aws-ec2-block-device-unencrypted", vec![c], 0).len(),
            1
        );
    }

    #[test]
    fn rds_inherited_encryption_and_backups() {
        let replica = tf(
            "aws_db_instance",
            "r",
            &json!({"replicate_source_db": "db1"}),
        );
        assert!(run_on("aws-rds-instance-unencrypted", vec![replica.clone()], 0).is_empty());
        assert!(run_on("aws-rds-backup-retention", vec![replica], 0).is_empty());
        let db = tf(
            "aws_db_instance",
            "d",
            &json!({"backup_retention_period": 0, "storage_encrypted": true}),
        );
        let hits = run_on("aws-rds-backup-retention", vec![db.clone()], 0);
        assert!(hits[0].message.contains("off"), "{hits:?}");
        assert!(run_on("aws-rds-instance-unencrypted", vec![db], 0).is_empty());
        let ok = cfn(
            "AWS::RDS::DBCluster",
            "C",
            &json!({"BackupRetentionPeriod": "14"}),
        );
        assert!(run_on("aws-rds-backup-retention", vec![ok], 0).is_empty());
        let serverless = tf(
            "aws_rds_cluster",
            "s",
            &json!({"engine_mode": "serverless"}),
        );
        assert!(run_on("aws-rds-cluster-unencrypted", vec![serverless], 0).is_empty());
    }

    #[test]
    fn kms_rotation_only_for_symmetric_keys() {
        let asym = tf(
            "aws_kms_key",
            "k",
            &json!({"customer_master_key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}),
        );
        assert!(run_on("aws-kms-key-rotation", vec![asym], 0).is_empty());
        let sym = tf("aws_kms_key", "k", &json!({}));
        assert_eq!(run_on("aws-kms-key-rotation", vec![sym], 0).len(), 1);
    }

    #[test]
    fn sqs_only_explicit_off_without_key() {
        let q = tf(
            "aws_sqs_queue",
            "q",
            &json!({"sqs_managed_sse_enabled": false}),
        );
        assert_eq!(run_on("aws-sqs-unencrypted", vec![q], 0).len(), 1);
        let q = tf(
            "aws_sqs_queue",
            "q",
            &json!({"sqs_managed_sse_enabled": false, "kms_master_key_id": "alias/aws/sqs"}),
        );
        assert!(run_on("aws-sqs-unencrypted", vec![q], 0).is_empty());
        let q = tf("aws_sqs_queue", "q", &json!({}));
        assert!(run_on("aws-sqs-unencrypted", vec![q], 0).is_empty());
    }
}
