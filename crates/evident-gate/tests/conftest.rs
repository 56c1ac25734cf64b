//! Inputs parsed the way Conftest parses them: exact JSON shapes, errors with locations, and
//! parsers that never panic.

use std::path::Path;

use evident_gate::conftest::{Parser, documents, parse_file};
use proptest::prelude::*;
use serde_json::{Value, json};

fn parse(parser: Parser, text: &str) -> Value {
    parser
        .parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("{parser} input should parse: {e}"))
}

#[test]
fn parsers_are_chosen_by_file_name_like_conftest() {
    let cases = [
        ("deploy.yaml", Some(Parser::Yaml)),
        ("ci.YML", Some(Parser::Yaml)),
        ("package.json", Some(Parser::Json)),
        ("main.tf", Some(Parser::Hcl2)),
        ("prod.tfvars", Some(Parser::Hcl2)),
        ("terragrunt.hcl", Some(Parser::Hcl2)),
        ("Dockerfile", Some(Parser::Dockerfile)),
        ("Dockerfile.prod", Some(Parser::Dockerfile)),
        ("api.Dockerfile", Some(Parser::Dockerfile)),
        ("pyproject.toml", Some(Parser::Toml)),
        ("README.md", None),
        ("LICENSE", None),
    ];
    for (name, expected) in cases {
        assert_eq!(Parser::for_path(Path::new(name)), expected, "{name}");
    }
    // Named on the command line, a file without an extension is YAML, as in Conftest.
    assert_eq!(
        Parser::for_named_file(Path::new("manifest")),
        Some(Parser::Yaml)
    );
    assert_eq!(Parser::for_named_file(Path::new("notes.txt")), None);
    assert_eq!("HCL2".parse::<Parser>(), Ok(Parser::Hcl2));
    assert!("hcl".parse::<Parser>().unwrap_err().contains("hcl2"));
}

#[test]
fn multi_document_yaml_is_a_list_evaluated_document_by_document() {
    let text = "\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: api}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          securityContext:
            runAsNonRoot: true
---
# the service in front of it
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  type: LoadBalancer
  ports:
    - port: 443
      targetPort: 8443
---
";
    let value = parse(Parser::Yaml, text);
    assert_eq!(
        value,
        json!([
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "api", "labels": {"app": "api"}},
                "spec": {
                    "replicas": 2,
                    "template": {"spec": {"containers": [{
                        "name": "api",
                        "image": "registry.example.com/api:1.4.2",
                        "securityContext": {"runAsNonRoot": true}
                    }]}}
                }
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "api"},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 443, "targetPort": 8443}]}
            }
        ])
    );
    let docs = documents(value);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1]["kind"], "Service");
}

#[test]
fn a_single_yaml_document_is_the_value_itself() {
    assert_eq!(
        parse(Parser::Yaml, "name: app\nenabled: true\nports: [80, 443]\n"),
        json!({"name": "app", "enabled": true, "ports": [80, 443]})
    );
    assert_eq!(parse(Parser::Yaml, ""), Value::Null);
    // A top-level list is evaluated item by item, as Conftest does.
    assert_eq!(
        documents(parse(Parser::Yaml, "- a: 1\n- a: 2\n")),
        vec![json!({"a": 1}), json!({"a": 2})]
    );
}

#[test]
fn json_documents_and_top_level_arrays() {
    let value = parse(
        Parser::Json,
        r#"{"name": "api", "replicas": 3, "tags": ["a"]}"#,
    );
    assert_eq!(value, json!({"name": "api", "replicas": 3, "tags": ["a"]}));
    assert_eq!(documents(value.clone()), vec![value]);
    assert_eq!(
        documents(parse(Parser::Json, r#"[{"id": 1}, {"id": 2}]"#)),
        vec![json!({"id": 1}), json!({"id": 2})]
    );
}

#[test]
fn terraform_blocks_nest_by_type_and_labels_with_bodies_in_lists() {
    let text = r#"
terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "tags" {}

locals {
  name     = "logs-${var.env}"
  replicas = 3
  ratio    = 0.5
  offset   = -1
  enabled  = true
  nothing  = null
}

resource "aws_s3_bucket" "logs" {
  bucket = local.name
  tags   = { Team = "platform", "cost-center" = "42" }

  versioning {
    enabled = true
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "aws:kms"
      }
    }
  }

  lifecycle_rule {
    id      = "expire"
    enabled = var.env == "prod" ? true : false
  }

  lifecycle_rule {
    id = "archive"
  }
}

resource "aws_s3_bucket" "assets" {
  bucket = "assets"
  acl    = "public-read"
}

module "network" {
  source = "./modules/network"
  cidrs  = [for i in range(3) : cidrsubnet("10.0.0.0/16", 8, i)]
}

output "bucket_arn" {
  value = aws_s3_bucket.logs.arn
}
"#;
    let value = parse(Parser::Hcl2, text);
    assert_eq!(
        value,
        json!({
            "terraform": [{"required_version": ">= 1.5"}],
            "provider": {"aws": [{"region": "${var.region}"}]},
            "variable": {
                "region": [{"type": "${string}", "default": "eu-west-1"}],
                "tags": [{}]
            },
            "locals": [{
                "name": "logs-${var.env}",
                "replicas": 3,
                "ratio": 0.5,
                "offset": -1,
                "enabled": true,
                "nothing": null
            }],
            "resource": {
                "aws_s3_bucket": {
                    "logs": [{
                        "bucket": "${local.name}",
                        "tags": {"Team": "platform", "cost-center": "42"},
                        "versioning": [{"enabled": true}],
                        "server_side_encryption_configuration": [{
                            "rule": [{
                                "apply_server_side_encryption_by_default": [{
                                    "sse_algorithm": "aws:kms"
                                }]
                            }]
                        }],
                        "lifecycle_rule": [
                            {"id": "expire", "enabled": "${var.env == \"prod\" ? true : false}"},
                            {"id": "archive"}
                        ]
                    }],
                    "assets": [{"bucket": "assets", "acl": "public-read"}]
                }
            },
            "module": {"network": [{
                "source": "./modules/network",
                "cidrs": "${[for i in range(3) : cidrsubnet(\"10.0.0.0/16\", 8, i)]}"
            }]},
            "output": {"bucket_arn": [{"value": "${aws_s3_bucket.logs.arn}"}]}
        })
    );
    // One document: the whole file.
    assert_eq!(documents(value).len(), 1);
}

#[test]
fn hcl_templates_and_heredocs_are_strings_like_hcl2json() {
    let text = r#"
locals {
  single   = "${var.name}"
  number   = "${4}"
  mixed    = "${var.a}-${"b"}-c"
  cond     = "x%{if var.on}yes%{else}no%{endif}"
  loop     = "ids: %{for k, v in var.m}${v},%{endfor}"
  escaped  = "$${literal} %%{x} \"q\""
  heredoc  = <<-EOT
    line one
      line two ${var.x}
    EOT
  raw      = <<EOT
  kept
EOT
  object   = { "${var.k}" = 1, a.b = 2, 3 = "three" }
  not      = !true
  negative = -var.offset
}
"#;
    let value = parse(Parser::Hcl2, text);
    assert_eq!(
        value["locals"][0],
        json!({
            "single": "${var.name}",
            "number": 4,
            "mixed": "${var.a}-b-c",
            "cond": "x%{if var.on}yes%{else}no%{endif}",
            "loop": "ids: %{for k, v in var.m}${v},%{endfor}",
            "escaped": "${literal} %{x} \"q\"",
            "heredoc": "line one\n  line two ${var.x}\n",
            "raw": "  kept\n",
            "object": {"${var.k}": 1, "a.b": 2, "3": "three"},
            "not": false,
            "negative": "${-var.offset}"
        })
    );
}

#[test]
fn terraform_variables_files_are_flat_attributes() {
    assert_eq!(
        parse(
            Parser::Hcl2,
            "env = \"prod\"\nzones = [\"a\", \"b\"]\nsize = 2\n"
        ),
        json!({"env": "prod", "zones": ["a", "b"], "size": 2})
    );
}

#[test]
fn a_multi_stage_dockerfile_is_one_list_of_instructions() {
    let text = r#"# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY --chown=app:app go.mod go.sum ./
# build a static binary
RUN CGO_ENABLED=0 \
    go build -o /out/api ./cmd/api

FROM gcr.io/distroless/static:nonroot
LABEL org.opencontainers.image.title="api" team=platform
ENV PORT=8080 MODE="prod"
ENV LEGACY value with spaces
COPY --from=build /out/api /api
EXPOSE 8080/tcp 9090
USER nonroot:nonroot
HEALTHCHECK --interval=30s CMD ["/api", "health"]
ONBUILD RUN echo hello
ENTRYPOINT ["/api"]
CMD serve --port 8080
"#;
    let value = parse(Parser::Dockerfile, text);
    let expected = json!([[
        {"Cmd": "comment", "SubCmd": "", "JSON": false, "Flags": null, "Value": ["syntax=docker/dockerfile:1"], "Stage": 0},
        {"Cmd": "arg", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["GO_VERSION=1.22"], "Stage": 0},
        {"Cmd": "from", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["golang:${GO_VERSION}", "AS", "build"], "Stage": 0},
        {"Cmd": "workdir", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["/src"], "Stage": 0},
        {"Cmd": "copy", "SubCmd": "", "JSON": false, "Flags": ["--chown=app:app"], "Value": ["go.mod", "go.sum", "./"], "Stage": 0},
        {"Cmd": "comment", "SubCmd": "", "JSON": false, "Flags": null, "Value": ["build a static binary"], "Stage": 0},
        {"Cmd": "run", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["CGO_ENABLED=0     go build -o /out/api ./cmd/api"], "Stage": 0},
        {"Cmd": "from", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["gcr.io/distroless/static:nonroot"], "Stage": 1},
        {"Cmd": "label", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["org.opencontainers.image.title", "\"api\"", "=", "team", "platform", "="], "Stage": 1},
        {"Cmd": "env", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["PORT", "8080", "=", "MODE", "\"prod\"", "="], "Stage": 1},
        {"Cmd": "env", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["LEGACY", "value with spaces", ""], "Stage": 1},
        {"Cmd": "copy", "SubCmd": "", "JSON": false, "Flags": ["--from=build"], "Value": ["/out/api", "/api"], "Stage": 1},
        {"Cmd": "expose", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["8080/tcp", "9090"], "Stage": 1},
        {"Cmd": "user", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["nonroot:nonroot"], "Stage": 1},
        {"Cmd": "healthcheck", "SubCmd": "", "JSON": true, "Flags": ["--interval=30s"], "Value": ["CMD", "/api", "health"], "Stage": 1},
        {"Cmd": "onbuild", "SubCmd": "run", "JSON": false, "Flags": [], "Value": ["echo hello"], "Stage": 1},
        {"Cmd": "entrypoint", "SubCmd": "", "JSON": true, "Flags": [], "Value": ["/api"], "Stage": 1},
        {"Cmd": "cmd", "SubCmd": "", "JSON": false, "Flags": [], "Value": ["serve --port 8080"], "Stage": 1}
    ]]);
    assert_eq!(value, expected);
    // Conftest evaluates the inner list: policies see `input[_].Cmd`.
    let docs = documents(value);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0][2]["Cmd"], "from");
}

#[test]
fn dockerfile_heredocs_and_escape_directive() {
    let text = "# escape=`\nFROM alpine\nRUN <<EOF\napk add curl\nEOF\nRUN echo a `\n  b\n";
    let value = parse(Parser::Dockerfile, text);
    let cmds: Vec<(&str, &Value)> = value[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["Cmd"].as_str().unwrap(), &c["Value"]))
        .collect();
    assert_eq!(
        cmds,
        vec![
            ("comment", &json!(["escape=`"])),
            ("from", &json!(["alpine"])),
            ("run", &json!(["<<EOF"])),
            ("run", &json!(["echo a   b"])),
        ]
    );
}

#[test]
fn toml_tables_arrays_and_dates() {
    let text = r#"
title = "service"
released = 2024-05-01T10:00:00Z

[server]
port = 8443
tls = true
ratio = 0.25

[[backend]]
name = "a"

[[backend]]
name = "b"
"#;
    assert_eq!(
        parse(Parser::Toml, text),
        json!({
            "title": "service",
            "released": "2024-05-01T10:00:00Z",
            "server": {"port": 8443, "tls": true, "ratio": 0.25},
            "backend": [{"name": "a"}, {"name": "b"}]
        })
    );
}

#[test]
fn bad_inputs_are_errors_with_locations() {
    let cases = [
        (Parser::Yaml, "a: 1\nb: c: d\n", 2),
        (Parser::Json, "{\n  \"a\": 1,\n}", 3),
        (Parser::Hcl2, "resource \"x\" \"y\" {\n  a = \n}\n", 2),
        (Parser::Toml, "a = 1\nb = \n", 2),
        (Parser::Dockerfile, "FROM alpine\nFROBNICATE now\n", 2),
    ];
    for (parser, text, line) in cases {
        let error = parser
            .parse(text.as_bytes())
            .expect_err(&format!("{parser}: {text:?} should not parse"));
        assert_eq!(error.parser, parser);
        assert_eq!(error.line, Some(line), "{parser}: {error}");
        assert!(
            error.to_string().starts_with(&format!("line {line}")),
            "{error}"
        );
    }
    let error = Parser::Dockerfile.parse(b"# only a comment\n").unwrap_err();
    assert!(error.message.contains("no instructions"), "{error}");
    let error = Parser::Json.parse(b"{\"a\": \"\xff\"}").unwrap_err();
    assert_eq!((error.line, error.column), (Some(1), Some(8)));
    assert!(error.message.contains("UTF-8"), "{error}");
}

#[test]
fn file_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, "a: 1\nb: c: d\n").unwrap();
    let error = parse_file(&path, None).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}:2:", path.display())),
        "{error}"
    );
    assert!(error.contains("cannot parse as yaml"), "{error}");
    let error = parse_file(&dir.path().join("notes.txt"), None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("--parser"), "{error}");
    let error = parse_file(&dir.path().join("missing.json"), None)
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing.json"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for parser in Parser::ALL {
            let _ = parser.parse(&bytes);
        }
    }

    #[test]
    fn parsers_never_panic_on_text(text in "[ -~\\n\\t]{0,300}") {
        for parser in Parser::ALL {
            let _ = parser.parse(text.as_bytes());
        }
    }

    #[test]
    fn parsers_never_panic_on_format_like_text(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("resource \"a\" \"b\" {\n"), Just("}\n"), Just("x = "), Just("\"${"),
                Just("%{if a}"), Just("%{endif}"), Just("<<-EOT\n"), Just("EOT\n"),
                Just("FROM a\n"), Just("RUN <<EOF\n"), Just("ENV a=b c\n"), Just("\\\n"),
                Just("# escape=`\n"), Just("---\n"), Just("- a: [1, {b: c}]\n"), Just("&x "),
                Just("*x\n"), Just("[t]\n"), Just("k = 1979-05-27\n"), Just("{\"a\": ["),
                Just("ONBUILD "), Just("HEALTHCHECK "), Just("CMD [\"a\", 1]\n"), Just("--\n"),
            ],
            0..24,
        )
    ) {
        let text: String = parts.concat();
        for parser in Parser::ALL {
            let _ = parser.parse(text.as_bytes());
        }
    }
}
