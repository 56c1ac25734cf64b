//! The YAML, Kubernetes, CloudFormation and Dockerfile loaders on realistic inputs
//! (tests/fixtures/loaders/): addresses, lines, resolved values and errors.

use std::path::{Path, PathBuf};

use evident_iac::model::{Node, Resource, Value};
use evident_iac::{Loaded, cloudformation, dockerfile, kubernetes, yaml};
use proptest::prelude::*;

fn fixture(name: &str) -> (String, String) {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/loaders")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    (name.to_owned(), text)
}

fn load_fixture(name: &str, loader: fn(&str, &str) -> Loaded) -> Loaded {
    let (label, text) = fixture(name);
    loader(&label, &text)
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_with(text: &str, needle: &str) -> u32 {
    let i = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}"));
    u32::try_from(i + 1).unwrap()
}

fn resource<'a>(l: &'a Loaded, address: &str) -> &'a Resource {
    l.resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("no resource {address} in {:?}", addresses(l)))
}

fn addresses(l: &Loaded) -> Vec<&str> {
    l.resources.iter().map(|r| r.address.as_str()).collect()
}

fn refs<'a>(r: &'a Resource, path: &str) -> &'a [String] {
    let mut node = &r.body;
    for segment in path.split('.') {
        node = match segment.parse::<usize>() {
            Ok(i) => &node.as_list().unwrap()[i],
            Err(_) => node
                .get(segment)
                .unwrap_or_else(|| panic!("{path}: no {segment}")),
        };
    }
    node.refs()
}

/// The same tree with every line set to 0.
fn without_lines(node: &Node) -> Node {
    let value = match &node.value {
        Value::List(items) => Value::List(items.iter().map(without_lines).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), without_lines(v)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node::new(0, value)
}

#[test]
fn kubernetes_multi_document_manifest() {
    let (label, text) = fixture("k8s-app.yaml");
    let l = kubernetes::load(&label, &text);
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(
        addresses(&l),
        [
            "Deployment.default.web",
            "Service.shop.web",
            "CronJob.shop.nightly-report",
            "ConfigMap.default.settings",
            "ClusterRole.reader",
        ]
    );
    for r in &l.resources {
        assert_eq!(r.platform, evident_iac::model::Platform::Kubernetes);
        assert_eq!(r.file, "k8s-app.yaml");
        assert_eq!(r.attr("kind").str(), Some(r.kind.as_str()));
    }

    let deploy = resource(&l, "Deployment.default.web");
    assert_eq!(deploy.kind, "Deployment");
    assert_eq!(deploy.line, line_with(&text, "apiVersion: apps/v1"));
    assert_eq!(deploy.end_line, line_with(&text, "args: [\"--port\""));
    assert_eq!(deploy.attr("spec.replicas").number(), Some(3.0));
    // Alias and merge key.
    assert_eq!(
        deploy.attr("spec.selector.matchLabels.tier").str(),
        Some("frontend")
    );
    let labels = deploy
        .attr("spec.template.metadata.labels")
        .known()
        .unwrap();
    let keys: Vec<&str> = labels
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["app", "tier", "version"]);
    assert_eq!(
        deploy.attr("spec.template.metadata.labels.version").str(),
        Some("1.4")
    );
    let image = "spec.template.spec.containers.0.image";
    assert_eq!(
        deploy.attr(image).str(),
        Some("registry.example.com/shop/web:1.4.2")
    );
    assert_eq!(
        deploy.line_of(image),
        line_with(&text, "image: registry.example.com")
    );
    assert_eq!(
        deploy
            .attr("spec.template.spec.containers.0.securityContext.allowPrivilegeEscalation")
            .bool(),
        Some(false)
    );
    assert_eq!(
        deploy.line_of("spec.template.spec.containers.0.securityContext"),
        line_with(&text, "securityContext:")
    );
    assert_eq!(
        deploy.attr("spec.template.spec.containers.0.args.2").str(),
        Some("--verbose")
    );
    assert_eq!(
        deploy
            .attr("spec.template.spec.containers.0.ports.0.containerPort")
            .number(),
        Some(8080.0)
    );

    let svc = resource(&l, "Service.shop.web");
    assert_eq!(svc.line, line_with(&text, "kind: Service") - 1);
    assert_eq!(svc.end_line, line_with(&text, "targetPort: 8080"));

    let cron = resource(&l, "CronJob.shop.nightly-report");
    assert_eq!(cron.line, line_with(&text, "apiVersion: batch/v1"));
    assert_eq!(cron.end_line, line_with(&text, "  date"));
    assert_eq!(cron.attr("spec.schedule").str(), Some("0 3 * * *"));
    assert_eq!(
        cron.attr("spec.jobTemplate.spec.template.spec.containers.0.command.2")
            .str(),
        Some("echo building report\ndate\n")
    );

    let cm = resource(&l, "ConfigMap.default.settings");
    assert_eq!(cm.line, line_with(&text, "kind: ConfigMap") - 1);
    assert_eq!(cm.end_line, line_with(&text, "mode: \"production\""));
    let role = resource(&l, "ClusterRole.reader");
    assert_eq!(role.line, line_with(&text, "kind: ClusterRole") - 1);
    assert_eq!(role.end_line, line_with(&text, "verbs:"));
    assert_eq!(role.attr("rules.0.verbs.1").str(), Some("list"));
}

#[test]
fn kubernetes_syntax_error_keeps_the_other_documents() {
    let (label, text) = fixture("k8s-broken.yaml");
    let l = kubernetes::load(&label, &text);
    assert_eq!(
        addresses(&l),
        ["ServiceAccount.default.builder", "Secret.default.token"]
    );
    assert_eq!(
        resource(&l, "Secret.default.token").line,
        line_with(&text, "kind: Secret") - 1
    );
    assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
    assert_eq!(l.errors[0].path, "k8s-broken.yaml");
    let broken = line_with(&text, "key: [unclosed");
    let ok = [broken, broken + 1].iter().any(|n| {
        l.errors[0]
            .message
            .starts_with(&format!("line {n}: not valid YAML"))
    });
    assert!(ok, "{:?}", l.errors);
}

#[test]
fn cloudformation_yaml_short_form_equals_json_long_form() {
    let (ylabel, ytext) = fixture("cfn-bucket.yaml");
    let (jlabel, jtext) = fixture("cfn-bucket.json");
    let y = cloudformation::load(&ylabel, &ytext);
    let j = cloudformation::load(&jlabel, &jtext);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    assert!(j.errors.is_empty(), "{:?}", j.errors);
    assert_eq!(
        addresses(&y),
        ["LogBucket", "EvidenceBucket", "BucketPolicy"]
    );
    assert_eq!(addresses(&y), addresses(&j));
    for (a, b) in y.resources.iter().zip(&j.resources) {
        assert_eq!(a.kind, b.kind);
        assert_eq!(
            without_lines(&a.body),
            without_lines(&b.body),
            "{} differs between YAML and JSON",
            a.address
        );
    }

    for (l, text) in [(&y, &ytext), (&j, &jtext)] {
        let bucket = resource(l, "EvidenceBucket");
        assert_eq!(bucket.kind, "AWS::S3::Bucket");
        assert_eq!(
            bucket.platform,
            evident_iac::model::Platform::CloudFormation
        );
        assert_eq!(bucket.line, line_with(text, "EvidenceBucket"));
        let sse =
            "BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault";
        // `!Ref` to a parameter with a default: the default.
        assert_eq!(
            bucket.attr(&format!("{sse}.SSEAlgorithm")).str(),
            Some("aws:kms")
        );
        assert_eq!(
            bucket.line_of(&format!("{sse}.SSEAlgorithm")),
            line_with(text, "SSEAlgorithm")
        );
        // Without default: unknown naming the parameter.
        assert_eq!(
            refs(bucket, &format!("{sse}.KMSMasterKeyID")),
            ["KmsKeyArn"]
        );
        assert_eq!(
            bucket
                .attr("BucketEncryption.ServerSideEncryptionConfiguration.0.BucketKeyEnabled")
                .bool(),
            Some(true)
        );
        // `!Sub` with a pseudo parameter stays unknown; with known parts it is the string.
        assert_eq!(refs(bucket, "BucketName"), ["AWS::AccountId"]);
        assert_eq!(
            resource(l, "LogBucket").attr("BucketName").str(),
            Some("evidence-logs-prod")
        );
        // `!If`: equal branches are known, different ones are not.
        assert_eq!(
            bucket.attr("VersioningConfiguration.Status").str(),
            Some("Enabled")
        );
        assert!(bucket.attr("ObjectLockEnabled").is_unknown());
        assert_eq!(
            refs(bucket, "LoggingConfiguration.DestinationBucketName"),
            ["LogBucket"]
        );
        assert_eq!(
            bucket.attr("LoggingConfiguration.LogFilePrefix").str(),
            Some("prod/access")
        );
        // `!GetAtt A.B` and `[A, B]` alike; `AWS::NoValue` drops the item.
        assert_eq!(refs(bucket, "Tags.0.Value"), ["LogBucket.Arn"]);
        assert_eq!(
            bucket
                .attr("Tags")
                .known()
                .unwrap()
                .as_list()
                .unwrap()
                .len(),
            1
        );
        let policy = resource(l, "BucketPolicy");
        assert_eq!(refs(policy, "Bucket"), ["EvidenceBucket"]);
        assert_eq!(
            refs(policy, "PolicyDocument.Statement.0.Resource"),
            ["EvidenceBucket.Arn"]
        );
        assert_eq!(
            policy
                .attr("PolicyDocument.Statement.0.Condition.Bool.aws:SecureTransport")
                .bool(),
            Some(false)
        );
    }

    // Where each definition ends.
    let bucket = resource(&y, "EvidenceBucket");
    assert_eq!(bucket.end_line, line_with(&ytext, "- !Ref AWS::NoValue"));
    assert_eq!(
        resource(&y, "LogBucket").end_line,
        line_with(&ytext, "evidence-logs-")
    );
    assert_eq!(
        resource(&y, "BucketPolicy").end_line,
        line_with(&ytext, "aws:SecureTransport")
    );
    let bucket = resource(&j, "EvidenceBucket");
    assert_eq!(bucket.end_line, line_with(&jtext, "\"BucketPolicy\"") - 1);
}

#[test]
fn cloudformation_template_errors_name_the_line() {
    let (label, text) = fixture("cfn-no-type.yaml");
    let l = cloudformation::load(&label, &text);
    assert_eq!(addresses(&l), ["Queue"]);
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].path, "cfn-no-type.yaml");
    assert_eq!(
        l.errors[0].message,
        format!(
            "line {}: resource `Topic` has no Type",
            line_with(&text, "Topic:")
        )
    );

    let l = load_fixture("cfn-broken.yaml", cloudformation::load);
    assert!(l.resources.is_empty());
    assert_eq!(l.errors.len(), 1);
    assert!(
        l.errors[0].message.starts_with("line 6: not valid YAML"),
        "{:?}",
        l.errors
    );

    let l = cloudformation::load("t.yaml", "AWSTemplateFormatVersion: '2010-09-09'\n");
    assert!(
        l.errors[0].message.contains("no Resources"),
        "{:?}",
        l.errors
    );
}

#[test]
fn dockerfile_multi_stage() {
    let (label, text) = fixture("multi-stage.Dockerfile");
    let l = dockerfile::load(&label, &text);
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(l.resources.len(), 1);
    let r = &l.resources[0];
    assert_eq!(
        (r.kind.as_str(), r.address.as_str(), r.file.as_str()),
        ("Dockerfile", "Dockerfile", "multi-stage.Dockerfile")
    );
    assert_eq!(r.platform, evident_iac::model::Platform::Dockerfile);
    assert_eq!(
        (r.line, r.end_line),
        (1, u32::try_from(text.lines().count()).unwrap())
    );

    assert_eq!(r.attr("args").known().unwrap().as_list().unwrap().len(), 3);
    assert_eq!(r.attr("args.0.name").str(), Some("GO_VERSION"));
    assert_eq!(r.attr("args.0.default").str(), Some("1.22"));
    assert_eq!(r.attr("args.2.default").known().unwrap().value, Value::Null);
    assert_eq!(r.line_of("args.1.name"), line_with(&text, "ARG BASE_IMAGE"));

    let build = "stages.0";
    assert_eq!(r.attr(&format!("{build}.index")).number(), Some(0.0));
    assert_eq!(r.attr(&format!("{build}.name")).str(), Some("build"));
    assert_eq!(
        r.attr(&format!("{build}.image")).str(),
        Some("golang:1.22-alpine")
    );
    assert_eq!(
        r.attr(&format!("{build}.platform")).str(),
        Some("$BUILDPLATFORM")
    );
    assert_eq!(
        r.line_of(&format!("{build}.image")),
        line_with(&text, "FROM --platform")
    );
    let ins =
        |stage: usize, i: usize, field: &str| format!("stages.{stage}.instructions.{i}.{field}");
    assert_eq!(r.attr(&ins(0, 0, "cmd")).str(), Some("WORKDIR"));
    // The comment line is not an instruction.
    assert_eq!(r.attr(&ins(0, 1, "value")).str(), Some("go.mod go.sum ./"));
    assert_eq!(r.attr(&ins(0, 2, "value")).str(), Some("go mod download"));
    assert_eq!(
        r.attr(&ins(0, 2, "flags.mount.0")).str(),
        Some("type=cache,target=/go/pkg/mod")
    );
    assert_eq!(
        r.attr(&ins(0, 2, "flags.mount.1")).str(),
        Some("type=secret,id=netrc,target=/root/.netrc")
    );
    assert_eq!(
        r.line_of(&ins(0, 2, "value")),
        line_with(&text, "RUN --mount")
    );
    // Lowercase instruction, comment and empty line inside the continuation.
    assert_eq!(r.attr(&ins(0, 4, "cmd")).str(), Some("RUN"));
    assert_eq!(
        r.attr(&ins(0, 4, "value")).str(),
        Some("CGO_ENABLED=0 go build -ldflags=\"-s -w\" -o /out/app ./cmd/app")
    );
    assert_eq!(r.attr(&ins(0, 4, "exec_form")).bool(), Some(false));
    assert_eq!(
        r.attr(&ins(0, 5, "value")).str(),
        Some("<<EOF\nset -eux\ngo test ./...\nEOF")
    );
    assert_eq!(
        r.line_of(&ins(0, 5, "value")),
        line_with(&text, "RUN <<EOF")
    );
    assert!(r.attr(&ins(0, 6, "cmd")).is_missing());

    let runtime = "stages.1";
    assert_eq!(r.attr(&format!("{runtime}.name")).str(), Some("runtime"));
    assert_eq!(
        r.attr(&format!("{runtime}.image")).str(),
        Some("registry.example.com/base/distroless:nonroot")
    );
    assert_eq!(
        r.attr(&format!("{runtime}.platform"))
            .known()
            .unwrap()
            .value,
        Value::Null
    );
    assert_eq!(r.attr(&ins(1, 0, "flags.from")).str(), Some("build"));
    assert_eq!(r.attr(&ins(1, 0, "flags.chown")).str(), Some("1000:1000"));
    assert_eq!(
        r.attr(&ins(1, 1, "value")).str(),
        Some("<<-\"CONFIG\" /etc/app.conf\nlisten=:8080\nCONFIG")
    );
    assert_eq!(r.attr(&ins(1, 2, "value")).str(), Some("1000:1000"));
    assert_eq!(r.line_of(&ins(1, 2, "cmd")), line_with(&text, "USER 1000"));
    assert_eq!(r.attr(&ins(1, 4, "cmd")).str(), Some("HEALTHCHECK"));
    assert_eq!(r.attr(&ins(1, 4, "flags.interval")).str(), Some("30s"));
    assert_eq!(
        r.attr(&ins(1, 4, "value")).str(),
        Some("CMD [\"/app\", \"health\"]")
    );
    assert_eq!(r.attr(&ins(1, 5, "value")).str(), Some("/app"));
    assert_eq!(r.attr(&ins(1, 5, "exec_form")).bool(), Some(true));
    assert_eq!(r.attr(&ins(1, 6, "cmd")).str(), Some("CMD"));
    assert_eq!(r.attr(&ins(1, 6, "value")).str(), Some("serve --port 8080"));
    assert_eq!(r.attr(&ins(1, 6, "exec_form")).bool(), Some(true));

    // An ARG without default stays as written.
    assert_eq!(
        r.attr("stages.2.image").str(),
        Some("registry.example.com/base/distroless:$BASE_TAG")
    );
    assert_eq!(r.attr("stages.2.index").number(), Some(2.0));
    assert_eq!(r.attr("stages.2.name").known().unwrap().value, Value::Null);
}

#[test]
fn dockerfile_errors_name_the_line() {
    let (label, text) = fixture("broken.Dockerfile");
    let l = dockerfile::load(&label, &text);
    let messages: Vec<&str> = l.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            format!(
                "line {}: `RUN` before the first FROM (only ARG may come first)",
                line_with(&text, "too early")
            ),
            format!(
                "line {}: unknown instruction `FETCH`",
                line_with(&text, "FETCH")
            ),
        ]
    );
    assert!(l.errors.iter().all(|e| e.path == "broken.Dockerfile"));
    // What could be read is still there.
    assert_eq!(l.resources.len(), 1);
    assert_eq!(
        l.resources[0].attr("stages.0.image").str(),
        Some("alpine:3.20")
    );
}

#[test]
fn yaml_errors_name_the_line() {
    let e = yaml::parse_documents("a: 1\nb:\n  - c\n  d: e\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    let e = yaml::parse_documents("ok: true\n---\nx: \"open\n").unwrap_err();
    assert!(e.line >= 3, "{e}");
    assert!(e.to_string().starts_with(&format!("line {}: ", e.line)));
}

#[test]
fn engine_classifies_and_loads_the_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loaders");
    let options = evident_iac::Options::default();
    for name in [
        "k8s-app.yaml",
        "cfn-bucket.yaml",
        "cfn-bucket.json",
        "multi-stage.Dockerfile",
    ] {
        let report = evident_iac::scan_files(&dir, &[dir.join(name)], &options);
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        assert_eq!(report.stats.files, 1, "{name}");
    }
    let report = evident_iac::scan_files(&dir, &[dir.join("k8s-broken.yaml")], &options);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].path, "k8s-broken.yaml");
    // Helm output on standard input, `# Source:` comments and all.
    let (_, text) = fixture("k8s-app.yaml");
    let report = evident_iac::scan_stdin(&text, &options);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

const FIXTURES: &[&str] = &[
    "k8s-app.yaml",
    "k8s-broken.yaml",
    "cfn-bucket.yaml",
    "cfn-bucket.json",
    "cfn-no-type.yaml",
    "cfn-broken.yaml",
    "multi-stage.Dockerfile",
    "broken.Dockerfile",
];

fn all_loaders(label: &str, text: &str) {
    let _ = yaml::parse_documents(text);
    let _ = kubernetes::load(label, text);
    let _ = cloudformation::load(label, text);
    let _ = dockerfile::load(label, text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn loaders_never_panic_on_arbitrary_text(text in "\\PC{0,300}") {
        all_loaders("x", &text);
    }

    #[test]
    fn loaders_never_panic_on_mutated_fixtures(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..8, "[-:{}\\[\\]!&*|>\"'#\\\\`$<\n \t]{0,3}"), 1..6),
    ) {
        let (_, original) = fixture(FIXTURES[which]);
        let mut text = original;
        for (at, cut, insert) in edits {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, &insert);
        }
        all_loaders(FIXTURES[which], &text);
    }
}
