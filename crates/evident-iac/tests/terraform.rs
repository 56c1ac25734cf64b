//! The Terraform loader on fixture folders under `tests/fixtures/terraform/`: variables,
//! locals, templates, expansion, dynamic blocks, references between resources, local modules,
//! syntax errors and plan JSON.

use std::path::{Path, PathBuf};

use evident_iac::model::{Attr, Model, Platform, Resource, Value};
use evident_iac::{Loaded, Options, terraform};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(name)
}

/// Every directory under `root` holding a `.tf` file (what the engine hands the loader).
fn tf_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut has_tf = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir);
        }
    }
    out.sort();
    out
}

fn load_with(name: &str, options: &Options) -> Loaded {
    let root = fixture(name);
    terraform::load_dirs(&root, &tf_dirs(&root), options)
}

fn load(name: &str) -> Loaded {
    load_with(name, &Options::default())
}

fn find<'a>(loaded: &'a Loaded, address: &str) -> &'a Resource {
    loaded
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| {
            let all: Vec<&str> = loaded
                .resources
                .iter()
                .map(|r| r.address.as_str())
                .collect();
            panic!("no resource {address}; have {all:?}")
        })
}

fn str_at<'a>(r: &'a Resource, path: &str) -> &'a str {
    r.attr(path)
        .str()
        .unwrap_or_else(|| panic!("{}: {path} is {:?}", r.address, r.attr(path)))
}

fn refs_at(r: &Resource, path: &str) -> Vec<String> {
    let mut node = &r.body;
    for seg in path.split('.') {
        node = match &node.value {
            Value::List(items) => &items[seg.parse::<usize>().unwrap()],
            _ => node.get(seg).unwrap_or_else(|| panic!("{path}: no {seg}")),
        };
    }
    assert!(node.is_unknown(), "{path} is known: {:?}", node.value);
    node.refs().to_vec()
}

#[test]
fn variables_come_from_defaults_tfvars_var_files_and_cli() {
    let plain = load("vars");
    assert!(plain.errors.is_empty(), "{:?}", plain.errors);
    let b = find(&plain, "aws_s3_bucket.b");
    // terraform.tfvars overrides the default.
    assert_eq!(str_at(b, "bucket"), "staging-logs");
    assert_eq!(str_at(b, "tags.team"), "platform");
    // replicas = "2" in a.auto.tfvars, converted to the declared number.
    let web = find(&plain, "aws_instance.web[1]");
    assert!(
        plain
            .resources
            .iter()
            .all(|r| r.address != "aws_instance.web[2]")
    );
    // terraform.tfvars < a.auto.tfvars < b.auto.tfvars.json.
    assert_eq!(str_at(web, "tags.region"), "ap-south-1");
    // "true" converted to the declared bool.
    assert_eq!(
        web.attr("ebs_block_device.0.encrypted")
            .known()
            .unwrap()
            .value,
        Value::Bool(true)
    );
    // No value anywhere: unknown, naming the variable.
    assert_eq!(refs_at(web, "instance_type"), ["var.unset"]);
    assert_eq!(str_at(web, "tags.from_file"), "default");
    assert_eq!(str_at(web, "tags.cidrs"), "");

    let options = Options {
        var_files: vec![fixture("vars-extra.tfvars")],
        vars: vec![
            ("from_cli".to_owned(), "cli-value".to_owned()),
            (
                "list_from_cli".to_owned(),
                "[\"10.0.0.0/8\", \"10.1.0.0/16\"]".to_owned(),
            ),
            ("replicas".to_owned(), "3".to_owned()),
        ],
        ..Options::default()
    };
    let l = load_with("vars", &options);
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(str_at(find(&l, "aws_s3_bucket.b"), "bucket"), "prod-logs");
    let web = find(&l, "aws_instance.web[2]");
    assert_eq!(str_at(web, "tags.from_file"), "from-var-file");
    assert_eq!(str_at(web, "tags.from_cli"), "cli-value");
    assert_eq!(str_at(web, "tags.cidrs"), "10.0.0.0/8,10.1.0.0/16");
    assert_eq!(
        l.resources
            .iter()
            .filter(|r| r.kind == "aws_instance")
            .count(),
        3
    );
}

#[test]
fn locals_templates_and_functions() {
    let l = load("locals");
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let logs = find(&l, "aws_s3_bucket.logs");
    assert_eq!(str_at(logs, "bucket"), "acme-prod-DATA");
    assert_eq!(logs.line, 27);
    assert_eq!(logs.end_line, 29);
    assert_eq!(logs.line_of("bucket"), 28);

    let policy = find(&l, "aws_iam_policy.p");
    assert_eq!(str_at(policy, "name"), "acme-prod-007");
    assert_eq!(
        str_at(policy, "policy"),
        r#"{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Resource":"arn:aws:s3:::acme-prod-DATA/*"}],"Version":"2012-10-17"}"#
    );
    assert_eq!(policy.line_of("policy"), 33);
    // A policy built from an unknown ARN stays unknown, naming the bucket.
    let unknown_policy = find(&l, "aws_iam_policy.unknown");
    assert_eq!(
        refs_at(unknown_policy, "policy"),
        ["aws_s3_bucket.logs.arn"]
    );

    let vals = find(&l, "null_resource.values");
    let t = |k: &str| format!("triggers.{k}");
    assert_eq!(str_at(vals, &t("public")), "80,443");
    assert_eq!(vals.attr(&t("by_name")).number(), Some(443.0));
    assert_eq!(refs_at(vals, &t("cycle")).len(), 1);
    assert_eq!(vals.attr(&t("retention")).number(), Some(365.0));
    let names: Vec<&str> = vals
        .attr(&t("names"))
        .known()
        .unwrap()
        .items()
        .filter_map(|n| n.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(vals.attr(&t("admins.0")).str(), Some("a"));
    assert!(vals.attr(&t("admins.1")).is_missing());
    assert_eq!(vals.attr(&t("math")).number(), Some(6.0));
    assert_eq!(vals.attr(&t("cmp")).bool(), Some(true));
    assert_eq!(str_at(vals, &t("heredoc")), "hello prod\nbye\n");
    assert_eq!(str_at(vals, &t("directive")), "80;443;");
    assert_eq!(str_at(vals, &t("lookup")), "fallback");
    assert_eq!(vals.attr(&t("merged")).number(), Some(2.0));
    assert_eq!(str_at(vals, &t("try")), "none");
    assert_eq!(vals.attr(&t("can")).bool(), Some(false));
    assert!(vals.attr(&t("unknown_fn")).is_unknown());
    // An unknown reference keeps its name through a local.
    assert_eq!(refs_at(vals, &t("bucket_id")), ["aws_s3_bucket.logs.id"]);
    assert_eq!(vals.attr(&t("spread")).number(), Some(443.0));
    assert_eq!(vals.attr(&t("decoded")).number(), Some(2.0));
}

#[test]
fn count_for_each_and_dynamic_blocks() {
    let l = load("expand");
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let web1 = find(&l, "aws_instance.web[1]");
    assert_eq!(str_at(web1, "ami"), "ami-1");
    assert_eq!(str_at(web1, "tags.Name"), "web-2");
    assert!(web1.attr("count").is_missing());
    assert!(
        l.resources
            .iter()
            .all(|r| !r.address.starts_with("aws_instance.none"))
    );

    let a = find(&l, "aws_subnet.s[\"a\"]");
    assert_eq!(str_at(a, "cidr_block"), "10.0.1.0/24");
    assert_eq!(str_at(a, "tags.Name"), "subnet-a");
    assert_eq!(
        str_at(find(&l, "aws_s3_bucket.set[\"data\"]"), "bucket"),
        "acme-data"
    );
    assert_eq!(
        str_at(find(&l, "aws_s3_bucket.set[\"logs\"]"), "bucket"),
        "acme-logs"
    );

    // Unknown count / for_each: one instance without index, unknown count.index / each.*.
    let dc = find(&l, "aws_instance.dyn_count");
    assert!(dc.attr("ami").is_unknown());
    let de = find(&l, "aws_subnet.dyn_each");
    assert_eq!(refs_at(de, "cidr_block"), ["data.aws_subnets.all.ids"]);
    assert!(
        l.notes
            .iter()
            .any(|n| n.contains("aws_instance.dyn_count") && n.contains("count"))
    );
    assert!(
        l.notes
            .iter()
            .any(|n| n.starts_with("main.tf:46: aws_subnet.dyn_each"))
    );

    let sg = find(&l, "aws_security_group.sg");
    let ingress = sg.attr("ingress").known().unwrap().as_list().unwrap();
    assert_eq!(ingress.len(), 3);
    assert_eq!(sg.attr("ingress.0.from_port").number(), Some(80.0));
    assert_eq!(sg.attr("ingress.2.from_port").number(), Some(443.0));
    assert_eq!(sg.attr("ingress.2.cidr_blocks.0").str(), Some("0.0.0.0/0"));
    assert_eq!(sg.attr("ingress.1.description").str(), Some("rule 0"));
    assert_eq!(sg.line_of("ingress.2.cidr_blocks"), 65);
    assert_eq!(sg.attr("egress.1.from_port").number(), Some(443.0));
    assert!(sg.attr("tag").is_unknown());
    // A block written once is a list of one map.
    assert_eq!(sg.attr("versioning.0.enabled").bool(), Some(true));
    assert_eq!(sg.attr("versioning.enabled").bool(), Some(true));

    let doc = find(&l, "data.aws_iam_policy_document.doc");
    assert_eq!(doc.kind, "data.aws_iam_policy_document");
    assert_eq!(doc.attr("statement.0.actions.0").str(), Some("s3:*"));
}

#[test]
fn references_link_resources() {
    let l = load("linked");
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let sse = find(&l, "aws_s3_bucket_server_side_encryption_configuration.x");
    assert_eq!(refs_at(sse, "bucket"), ["aws_s3_bucket.x.id"]);
    assert_eq!(
        refs_at(
            sse,
            "rule.0.apply_server_side_encryption_by_default.0.kms_master_key_id"
        ),
        ["aws_kms_key.k.arn"]
    );
    let model = Model::new(l.resources);
    let x = model
        .resources
        .iter()
        .find(|r| r.address == "aws_s3_bucket.x")
        .unwrap();
    let other = model
        .resources
        .iter()
        .find(|r| r.address == "aws_s3_bucket.other")
        .unwrap();
    let kind = "aws_s3_bucket_server_side_encryption_configuration";
    assert_eq!(
        model.linked(kind, "bucket", x, &["acme-evidence"]).count(),
        1
    );
    assert_eq!(
        model.linked(kind, "bucket", other, &["acme-other"]).count(),
        0
    );
}

#[test]
fn local_modules_are_followed_with_their_arguments() {
    let l = load("modules");
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    // The module directories are not roots of their own.
    assert!(
        l.resources
            .iter()
            .all(|r| r.address.starts_with("module.") || r.file == "app/main.tf")
    );

    let b = find(&l, "module.bucket.aws_s3_bucket.this");
    assert_eq!(str_at(b, "bucket"), "acme-prod-data");
    assert_eq!(b.file, "modules/bucket/main.tf");
    assert_eq!(b.line, 1);
    assert_eq!(b.line_of("bucket"), 2);
    let call = b.module.as_ref().unwrap();
    assert_eq!(call.address, "module.bucket");
    assert_eq!(call.file, "app/main.tf");
    assert_eq!(call.line, 12);

    let v = find(&l, "module.bucket.aws_s3_bucket_versioning.this");
    assert_eq!(str_at(v, "versioning_configuration.0.status"), "Enabled");
    let sse = find(
        &l,
        "module.bucket.aws_s3_bucket_server_side_encryption_configuration.this",
    );
    let algo = "rule.0.apply_server_side_encryption_by_default.0.sse_algorithm";
    // `kms_key` is an unknown ARN: whether it is null is not known either.
    assert!(sse.attr(algo).is_unknown());
    // A caller reference is unknown inside the module, named by the variable.
    assert_eq!(
        refs_at(
            sse,
            "rule.0.apply_server_side_encryption_by_default.0.kms_master_key_id"
        ),
        ["var.kms_key"]
    );
    let each_sse = find(
        &l,
        "module.each[\"audit\"].aws_s3_bucket_server_side_encryption_configuration.this",
    );
    assert_eq!(str_at(each_sse, algo), "AES256");
    assert_eq!(
        str_at(
            find(&l, "module.each[\"logs\"].aws_s3_bucket.this"),
            "bucket"
        ),
        "prod-logs"
    );
    assert_eq!(
        find(&l, "module.each[\"logs\"].aws_s3_bucket.this")
            .module
            .as_ref()
            .unwrap()
            .address,
        "module.each[\"logs\"]"
    );
    assert_eq!(
        str_at(find(&l, "module.counted[1].aws_s3_bucket.this"), "bucket"),
        "counted-1"
    );

    // Nested module: address, outermost call, path.module.
    let logging = find(&l, "module.bucket.module.logs.aws_s3_bucket_logging.this");
    assert_eq!(logging.file, "modules/logs/main.tf");
    let call = logging.module.as_ref().unwrap();
    assert_eq!(call.address, "module.bucket.module.logs");
    assert_eq!((call.file.as_str(), call.line), ("app/main.tf", 12));
    assert_eq!(refs_at(logging, "bucket"), ["var.bucket"]);
    assert_eq!(str_at(logging, "target_prefix"), "../modules/logs/");

    // Outputs flow back to the caller.
    assert_eq!(
        str_at(find(&l, "aws_ssm_parameter.bucket_name"), "value"),
        "acme-prod-data"
    );
    assert_eq!(
        str_at(find(&l, "aws_ssm_parameter.counted"), "value"),
        "counted-1"
    );
    let arn = refs_at(find(&l, "aws_ssm_parameter.arn"), "value");
    assert!(
        arn.contains(&"module.bucket.aws_s3_bucket.this.arn".to_owned()),
        "{arn:?}"
    );
    assert_eq!(
        refs_at(find(&l, "aws_ssm_parameter.remote"), "value"),
        ["module.remote.s3_bucket_id"]
    );

    // Remote modules are noted, not followed.
    assert!(
        l.notes.iter().any(|n| n
            == "app/main.tf:31: module.remote: remote source `terraform-aws-modules/s3-bucket/aws` is not followed; scan a plan (`terraform show -json`) to check it"),
        "{:?}",
        l.notes
    );

    // Links stay inside one module instance.
    let model = Model::new(l.resources);
    let bucket = model
        .resources
        .iter()
        .find(|r| r.address == "module.bucket.aws_s3_bucket.this")
        .unwrap();
    let linked: Vec<&str> = model
        .linked("aws_s3_bucket_versioning", "bucket", bucket, &[])
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(linked, ["module.bucket.aws_s3_bucket_versioning.this"]);
}

#[test]
fn syntax_errors_are_named_and_other_files_still_load() {
    let l = load("errors");
    let bad = l
        .errors
        .iter()
        .find(|e| e.path == "bad.tf")
        .expect("bad.tf error");
    assert!(bad.message.starts_with("line 7, column"), "{}", bad.message);
    let vars = l
        .errors
        .iter()
        .find(|e| e.path == "bad.auto.tfvars")
        .expect("tfvars error");
    assert!(
        vars.message.starts_with("line 2, column"),
        "{}",
        vars.message
    );
    assert_eq!(str_at(find(&l, "aws_s3_bucket.good"), "bucket"), "good");
    assert_eq!(l.files, 3);
}

#[test]
fn files_given_together_form_one_module() {
    let dir = fixture("linked");
    let l = terraform::load_files(&dir, &[dir.join("main.tf")], &Options::default());
    assert!(l.errors.is_empty());
    assert_eq!(l.resources.len(), 4);
    assert!(
        l.resources
            .iter()
            .all(|r| r.file == "main.tf" && r.platform == Platform::Terraform)
    );
    assert_eq!(l.files, 1);
}

#[test]
fn plan_json_loads_planned_values() {
    let text = std::fs::read_to_string(fixture("plan/plan.json")).unwrap();
    assert!(terraform::plan::looks_like_plan(&text));
    let l = terraform::plan::load("plan.json", &text);
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    // 7 planned, plus the data source only the prior state holds.
    assert_eq!(l.resources.len(), 8);
    assert!(
        l.resources
            .iter()
            .all(|r| r.platform == Platform::TerraformPlan)
    );

    let b = find(&l, "aws_s3_bucket.b");
    assert_eq!(b.kind, "aws_s3_bucket");
    assert_eq!(b.line, 11);
    assert_eq!(str_at(b, "bucket"), "acme-prod-evidence");
    assert!(b.attr("versioning").is_unknown());
    assert!(b.attr("arn").is_unknown());

    let pab = find(&l, "aws_s3_bucket_public_access_block.b");
    assert_eq!(
        refs_at(pab, "bucket"),
        ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]
    );
    assert_eq!(pab.attr("restrict_public_buckets").bool(), Some(false));

    let sg = find(&l, "aws_security_group.web");
    assert_eq!(sg.attr("ingress.0.cidr_blocks.0").str(), Some("0.0.0.0/0"));
    assert_eq!(sg.attr("ingress.from_port").number(), Some(22.0));

    let app = find(&l, "aws_instance.app[0]");
    assert_eq!(
        app.attr("metadata_options.0.http_tokens").str(),
        Some("optional")
    );
    assert!(app.attr("metadata_options.0.http_endpoint").is_unknown());
    assert_eq!(
        refs_at(app, "subnet_id"),
        ["data.aws_subnet.main.id", "data.aws_subnet.main"]
    );

    let doc = find(&l, "data.aws_iam_policy_document.p");
    assert_eq!(doc.kind, "data.aws_iam_policy_document");
    assert_eq!(doc.attr("statement.0.actions.0").str(), Some("s3:*"));
    let me = find(&l, "data.aws_caller_identity.current");
    assert_eq!(str_at(me, "account_id"), "111122223333");

    let v = find(&l, "module.logs.aws_s3_bucket_versioning.this");
    assert_eq!(str_at(v, "versioning_configuration.0.status"), "Enabled");
    assert!(matches!(
        v.attr("versioning_configuration.0.mfa_delete"),
        Attr::Unknown
    ));
    assert_eq!(
        refs_at(v, "bucket"),
        [
            "module.logs.aws_s3_bucket.this.id",
            "module.logs.aws_s3_bucket.this"
        ]
    );
    assert_eq!(v.module.as_ref().unwrap().address, "module.logs");

    let model = Model::new(l.resources);
    let root_bucket = model
        .resources
        .iter()
        .find(|r| r.address == "aws_s3_bucket.b")
        .unwrap();
    let logs_bucket = model
        .resources
        .iter()
        .find(|r| r.address == "module.logs.aws_s3_bucket.this")
        .unwrap();
    assert_eq!(
        model
            .linked(
                "aws_s3_bucket_public_access_block",
                "bucket",
                root_bucket,
                &[]
            )
            .count(),
        1
    );
    let versioning: Vec<&str> = model
        .linked("aws_s3_bucket_versioning", "bucket", logs_bucket, &[])
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(versioning, ["module.logs.aws_s3_bucket_versioning.this"]);
    assert_eq!(
        model
            .linked("aws_s3_bucket_versioning", "bucket", root_bucket, &[])
            .count(),
        0
    );
}

#[test]
fn many_resources_load_completely() {
    let dir = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for d in 0..20 {
        let sub = dir.path().join(format!("stack{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join("variables.tf"),
            "variable \"env\" {\n  default = \"prod\"\n}\nlocals {\n  tags = { env = var.env, team = \"x\" }\n}\n",
        )
        .unwrap();
        for f in 0..10 {
            let mut text = String::new();
            for r in 0..25 {
                text.push_str(&format!(
                    "resource \"aws_s3_bucket\" \"b{f}_{r}\" {{\n  bucket = \"${{var.env}}-{d}-{f}-{r}\"\n  tags   = local.tags\n  versioning {{\n    enabled = true\n  }}\n}}\n\nresource \"aws_s3_bucket_public_access_block\" \"b{f}_{r}\" {{\n  bucket = aws_s3_bucket.b{f}_{r}.id\n  block_public_acls = true\n}}\n\n"
                ));
            }
            std::fs::write(sub.join(format!("main{f}.tf")), text).unwrap();
        }
        dirs.push(sub);
    }
    // Speed is measured by bench/iac.sh; this checks that a large input loads completely.
    let l = terraform::load_dirs(dir.path(), &dirs, &Options::default());
    assert!(l.errors.is_empty());
    assert_eq!(l.resources.len(), 10_000);
    assert_eq!(l.files, 220);
}

fn sample_module() -> &'static str {
    r#"variable "env" { default = "prod" }
locals {
  a = "${var.env}-x"
  m = { for k, v in { a = 1, b = 2 } : k => v * 2 }
}
resource "aws_s3_bucket" "b" {
  count  = 2
  bucket = "${local.a}-${count.index}"
  dynamic "rule" {
    for_each = local.m
    content { id = rule.key }
  }
  policy = jsonencode({ a = [1, "x", true, null] })
}
module "m" {
  source = "./m"
  for_each = toset(["a"])
}
"#
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.tf");
        std::fs::write(&path, &text).unwrap();
        let _ = terraform::load_files(dir.path(), &[path], &Options::default());
        let _ = terraform::plan::load("plan.json", &text);
    }

    #[test]
    fn mutated_modules_never_panic(cut in 0usize..600, insert in "[{}\\[\\]()\"$%~=.*:?!<>a-z0-9 \n-]{0,12}") {
        let base = sample_module();
        let cut = cut.min(base.len());
        let cut = (0..=cut).rev().find(|&i| base.is_char_boundary(i)).unwrap_or(0);
        let text = format!("{}{}{}", &base[..cut], insert, &base[cut..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.tf");
        std::fs::write(&path, &text).unwrap();
        let sub = dir.path().join("m");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("main.tf"), &text).unwrap();
        let l = terraform::load_files(dir.path(), &[path], &Options::default());
        for e in &l.errors {
            prop_assert!(e.message.starts_with("line "), "{}", e.message);
        }
    }
}

#[test]
fn long_local_chains_stay_on_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("deep");
    std::fs::create_dir_all(&sub).unwrap();
    let mut text = String::from("locals {\n");
    for i in 0..3000 {
        text.push_str(&format!("  l{i} = [local.l{}]\n", i + 1));
    }
    text.push_str("  l3000 = \"end\"\n}\n");
    text.push_str(
        "resource \"null_resource\" \"n\" {\n  triggers = { v = jsonencode(local.l0) }\n}\n",
    );
    std::fs::write(sub.join("main.tf"), text).unwrap();
    let l = terraform::load_dirs(dir.path(), &[sub], &Options::default());
    assert!(l.errors.is_empty());
    // Too deep to evaluate: unknown, not a crash.
    assert!(find(&l, "null_resource.n").attr("triggers.v").is_unknown());
}
