//! SBOMs: snapshots of both formats for a small hand-built inventory, validation of both by the
//! official tools (CycloneDX's own Python library with the 1.6 JSON schema, SPDX's
//! `spdx-tools`), and the licence expression parser and policy.
//!
//! The validators run through the Python of EVIDENT_TEST_PYTHON (scripts/test.sh installs
//! them into its virtual environment), falling back to `python3`. A missing validator fails
//! the test and says so; nothing is skipped.

use std::path::Path;
use std::process::Command;

use evident_deps::model::{Ecosystem, Inventory, Package, PackageHash, ParseError};
use evident_deps::sbom::license::{self, Expr, Simple};
use evident_deps::sbom::{
    LicensePolicy, OperatingSystem, SbomMeta, Verdict, Vulnerability, cyclonedx, serial_from, spdx,
};
use proptest::prelude::*;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// The inventory

fn pkg(eco: Ecosystem, name: &str, version: &str, source: &str) -> Package {
    Package::new(eco, name, version, source)
}

fn hash(alg: &str, value: &str) -> PackageHash {
    PackageHash {
        alg: alg.into(),
        value: value.into(),
    }
}

fn purl(eco: Ecosystem, name: &str, version: &str) -> String {
    evident_deps::purl(eco, name, version)
}

/// npm (scoped, a dev dependency, the same package from two lockfiles, a dependency that is
/// not in the inventory), Maven, PyPI, Debian, with hashes and licences of every kind.
fn inventory() -> Inventory {
    use Ecosystem::{Debian, Maven, Npm, PyPI};
    let web = "web/package-lock.json";
    let admin = "admin/package-lock.json";

    let mut core = pkg(Npm, "@babel/core", "7.24.0", web);
    core.licenses = vec!["MIT".into()];
    core.hashes = vec![hash("SHA-512", &"ab".repeat(64))];
    core.dependencies = vec![
        purl(Npm, "@babel/parser", "7.24.0"),
        purl(Npm, "debug", "2.6.8"),
        purl(Npm, "not-in-the-inventory", "1.0.0"),
    ];
    let mut parser = pkg(Npm, "@babel/parser", "7.24.0", web);
    parser.licenses = vec!["mit".into()];
    let mut debug_web = pkg(Npm, "debug", "2.6.8", web);
    debug_web.licenses = vec!["MIT".into()];
    debug_web.dependencies = vec![purl(Npm, "ms", "2.0.0")];
    debug_web.hashes = vec![
        hash("SHA-1", &"12".repeat(20)),
        hash("sha1", "not-hex"),
        hash("CRC32", "deadbeef"),
    ];
    // The same package from a second lockfile, where it is only a development dependency.
    let mut debug_admin = debug_web.clone();
    debug_admin.source = admin.into();
    debug_admin.dev = true;
    let mut ms = pkg(Npm, "ms", "2.0.0", web);
    ms.licenses = vec!["MIT".into()];
    let mut jest = pkg(Npm, "jest", "29.7.0", admin);
    jest.dev = true;
    jest.licenses = vec!["MIT".into()];
    jest.dependencies = vec![purl(Npm, "debug", "2.6.8")];

    let mut log4j = pkg(
        Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.17.0",
        "pom.xml",
    );
    log4j.licenses = vec!["Apache-2.0".into()];
    log4j.hashes = vec![hash("SHA-1", &"cd".repeat(20))];

    let mut django = pkg(PyPI, "Django", "4.2.0", "requirements.txt");
    django.licenses = vec!["BSD-3-Clause".into()];
    django.hashes = vec![hash("sha256", &"EF".repeat(32))];
    let mut crypto = pkg(PyPI, "cryptography", "42.0.5", "requirements.txt");
    crypto.licenses = vec!["Apache-2.0 or BSD-3-Clause".into()];
    let mut internal = pkg(PyPI, "acme-internal", "1.0", "requirements.txt");
    internal.licenses = vec!["Proprietary; see LICENSE.txt".into(), "Foo-1.0".into()];

    let mut libc = pkg(Debian, "libc6", "2.36-9+deb12u4", "var/lib/dpkg/status");
    libc.licenses = vec![
        "LGPL-2.1+".into(),
        "GPL-2.0-or-later WITH GCC-exception-2.0".into(),
    ];
    let mut libssl = pkg(Debian, "libssl3", "3.0.11-1~deb12u2", "var/lib/dpkg/status");
    libssl.licenses = vec!["Apache-2.0".into()];
    libssl.dependencies = vec![purl(Debian, "libc6", "2.36-9+deb12u4")];

    Inventory {
        packages: vec![
            core,
            parser,
            debug_web,
            ms,
            debug_admin,
            jest,
            log4j,
            django,
            crypto,
            internal,
            libc,
            libssl,
        ],
        ..Inventory::default()
    }
}

fn meta() -> SbomMeta {
    let mut m = SbomMeta::new(
        "acme-shop",
        "2024-05-06T07:08:09.123Z".parse().expect("timestamp"),
        serial_from(b"acme-shop@1.2.3"),
        "0.1.0",
    );
    m.version = Some("1.2.3".into());
    m
}

fn vulnerabilities() -> Vec<Vulnerability> {
    use Ecosystem::{Maven, Npm, PyPI};
    vec![
        Vulnerability {
            id: "GHSA-8489-44mv-ggj8".into(),
            aliases: vec!["CVE-2021-44832".into()],
            summary: Some("Remote code execution via JDBC Appender".into()),
            severity: Some("MODERATE".into()),
            cvss_vector: Some("CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H".into()),
            cvss_score: Some(6.6),
            fixed: Some("2.17.1".into()),
            affects_purl: purl(Maven, "org.apache.logging.log4j:log4j-core", "2.17.0"),
            ..Vulnerability::default()
        },
        Vulnerability {
            id: "GHSA-gxpj-cx7g-858c".into(),
            aliases: vec!["CVE-2017-16137".into()],
            source_url: Some("https://github.com/advisories/GHSA-gxpj-cx7g-858c".into()),
            summary: Some("Regular Expression Denial of Service in debug".into()),
            details: Some("The debug module is vulnerable to regular expression denial of service when untrusted user input is passed into the o formatter.".into()),
            severity: Some("low".into()),
            cvss_vector: Some("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L".into()),
            cvss_score: Some(3.7),
            fixed: Some("2.6.9".into()),
            affects_purl: purl(Npm, "debug", "2.6.8"),
        },
        Vulnerability {
            id: "PYSEC-2024-0001".into(),
            severity: Some("high".into()),
            cvss_vector: Some(
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N".into(),
            ),
            affects_purl: purl(PyPI, "django", "4.2.0"),
            ..Vulnerability::default()
        },
        Vulnerability {
            id: "PYSEC-2024-0001".into(),
            affects_purl: purl(PyPI, "cryptography", "42.0.5"),
            fixed: Some("42.0.6".into()),
            ..Vulnerability::default()
        },
        Vulnerability {
            id: "OSV-2024-0002".into(),
            affects_purl: "pkg:npm/left-pad@1.3.0".into(),
            ..Vulnerability::default()
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Snapshots

fn snapshot(name: &str, value: &Value) {
    insta::with_settings!({
        sort_maps => true,
        snapshot_path => "fixtures/sbom/snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_json_snapshot!(name, value);
    });
}

#[test]
fn cyclonedx_snapshot() {
    snapshot(
        "cyclonedx",
        &cyclonedx(&inventory(), &meta(), &vulnerabilities()),
    );
}

#[test]
fn spdx_snapshot() {
    snapshot("spdx", &spdx(&inventory(), &meta()));
}

#[test]
fn output_does_not_depend_on_input_order() {
    let inv = inventory();
    let mut reversed = inv.clone();
    reversed.packages.reverse();
    let mut vulns = vulnerabilities();
    vulns.reverse();
    // The first package of a purl gives its name: the duplicate is an exact copy here.
    assert_eq!(
        cyclonedx(&inv, &meta(), &vulnerabilities()),
        cyclonedx(&reversed, &meta(), &vulns)
    );
    assert_eq!(spdx(&inv, &meta()), spdx(&reversed, &meta()));
}

#[test]
fn duplicate_purls_become_one_component_with_both_sources() {
    let bom = cyclonedx(&inventory(), &meta(), &[]);
    let debug: Vec<&Value> = bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["name"] == "debug")
        .collect();
    assert_eq!(debug.len(), 1);
    assert_eq!(
        debug[0]["properties"],
        serde_json::json!([
            {"name": "evident:source", "value": "admin/package-lock.json"},
            {"name": "evident:source", "value": "web/package-lock.json"},
        ])
    );
    // Runtime in one lockfile: not excluded.
    assert!(debug[0].get("scope").is_none());
}

/// A cycle nothing else depends on is still reached from the root, through its first member.
#[test]
fn dependency_cycles_hang_from_the_root() {
    let mut a = pkg(Ecosystem::Npm, "a", "1.0.0", "package-lock.json");
    let mut b = pkg(Ecosystem::Npm, "b", "1.0.0", "package-lock.json");
    let c = pkg(Ecosystem::Npm, "c", "1.0.0", "package-lock.json");
    a.dependencies = vec![b.purl.clone(), a.purl.clone()];
    b.dependencies = vec![a.purl.clone(), c.purl.clone()];
    let inv = Inventory {
        packages: vec![b, a, c],
        ..Inventory::default()
    };
    let bom = cyclonedx(&inv, &meta(), &[]);
    assert_eq!(
        bom["dependencies"][0]["dependsOn"],
        serde_json::json!(["pkg:npm/a@1.0.0"])
    );
    // No self-edge.
    assert_eq!(
        bom["dependencies"][1]["dependsOn"],
        serde_json::json!(["pkg:npm/b@1.0.0"])
    );
    let doc = spdx(&inv, &meta());
    let from_root: Vec<&Value> = doc["relationships"]
        .as_array()
        .expect("relationships")
        .iter()
        .filter(|r| r["spdxElementId"] == "SPDXRef-Root")
        .collect();
    assert_eq!(from_root.len(), 1, "{from_root:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    validate_cyclonedx(&[write(dir.path(), "cycle.cdx.json", &bom)]);
    validate_spdx(&write(dir.path(), "cycle.spdx.json", &doc));
}

#[test]
fn an_incomplete_inventory_says_so() {
    let mut inv = inventory();
    inv.errors
        .push(ParseError::new("go.sum", Some(3), "malformed line"));
    let bom = cyclonedx(&inv, &meta(), &[]);
    assert_eq!(bom["compositions"][0]["aggregate"], "incomplete");
    assert_eq!(
        bom["metadata"]["properties"][0]["value"],
        "go.sum:3: malformed line"
    );
    let doc = spdx(&inv, &meta());
    assert!(
        doc["comment"]
            .as_str()
            .is_some_and(|c| c.contains("go.sum:3: malformed line")),
        "{doc}"
    );
}

// ---------------------------------------------------------------------------------------------
// Validation by the official tools

/// The Python with the validators (scripts/test.sh installs them and sets EVIDENT_TEST_PYTHON).
fn python(module: &str, package: &str) -> String {
    let python = std::env::var("EVIDENT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`{python}` cannot import {module} ({package}): run the suite with `bash scripts/test.sh`, \
         which installs it into its virtual environment and sets EVIDENT_TEST_PYTHON\n{}",
        out.map_or_else(
            |e| e.to_string(),
            |o| String::from_utf8_lossy(&o.stderr).into_owned()
        )
    );
    python
}

fn write(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
    path
}

/// Validates with CycloneDX's JsonStrictValidator for 1.6 (the official JSON schema, the SPDX
/// licence id list included), then loads the BOM into the library's model and runs its own
/// checks (bom-refs unique, every dependency and `affects` reference known).
fn run_cyclonedx_validator(paths: &[std::path::PathBuf]) -> (bool, String) {
    let python = python(
        "cyclonedx.validation.json, jsonschema, referencing",
        "cyclonedx-python-lib[json-validation]",
    );
    let script = r#"
import json, sys, warnings
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.model.bom import Bom
validator = JsonStrictValidator(SchemaVersion.V1_6)
bad = 0
for path in sys.argv[1:]:
    text = open(path).read()
    errors = validator.validate_str(text, all_errors=True)
    if errors:
        bad += 1
        for e in errors:
            print(path, ":", e)
        continue
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bom = Bom.from_json(json.loads(text))
        bom.validate()
    refs = {str(c.bom_ref) for c in bom.components} | {str(bom.metadata.component.bom_ref)}
    for v in bom.vulnerabilities:
        for t in v.affects:
            if str(t.ref) not in refs:
                bad += 1
                print(path, ": affects an unknown ref", t.ref)
sys.exit(1 if bad else 0)
"#;
    let out = Command::new(python)
        .args(["-c", script])
        .args(paths)
        .output()
        .expect("python runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

fn validate_cyclonedx(paths: &[std::path::PathBuf]) {
    let (ok, report) = run_cyclonedx_validator(paths);
    assert!(ok, "CycloneDX validation failed:\n{report}");
}

/// Validates with `pyspdxtools -i` (spdx-tools: parses the document and checks it against the
/// SPDX 2.3 rules, licence expressions and relationships included).
fn run_spdx_validator(path: &Path) -> (bool, String) {
    let python = python("spdx_tools.spdx.clitools.pyspdxtools", "spdx-tools");
    let out = Command::new(python)
        .args(["-m", "spdx_tools.spdx.clitools.pyspdxtools", "-i"])
        .arg(path)
        .output()
        .expect("python runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

fn validate_spdx(path: &Path) {
    let (ok, report) = run_spdx_validator(path);
    assert!(ok, "pyspdxtools rejects {}:\n{report}", path.display());
}

/// The keys the SPDX 2.3 JSON schema allows (every object there has `additionalProperties:
/// false`; spdx-tools ignores unknown keys, so they are checked here).
fn check_spdx_keys(doc: &Value) {
    fn keys(v: &Value, allowed: &[&str], what: &str) {
        for k in v.as_object().expect("object").keys() {
            assert!(
                allowed.contains(&k.as_str()),
                "{what}: `{k}` is not in the SPDX 2.3 schema"
            );
        }
    }
    keys(
        doc,
        &[
            "SPDXID",
            "annotations",
            "comment",
            "creationInfo",
            "dataLicense",
            "externalDocumentRefs",
            "hasExtractedLicensingInfos",
            "name",
            "revieweds",
            "spdxVersion",
            "documentNamespace",
            "documentDescribes",
            "packages",
            "files",
            "snippets",
            "relationships",
        ],
        "document",
    );
    keys(
        &doc["creationInfo"],
        &["comment", "created", "creators", "licenseListVersion"],
        "creationInfo",
    );
    for p in doc["packages"].as_array().expect("packages") {
        keys(
            p,
            &[
                "SPDXID",
                "annotations",
                "attributionTexts",
                "builtDate",
                "checksums",
                "comment",
                "copyrightText",
                "description",
                "downloadLocation",
                "externalRefs",
                "filesAnalyzed",
                "hasFiles",
                "homepage",
                "licenseComments",
                "licenseConcluded",
                "licenseDeclared",
                "licenseInfoFromFiles",
                "name",
                "originator",
                "packageFileName",
                "packageVerificationCode",
                "primaryPackagePurpose",
                "releaseDate",
                "sourceInfo",
                "summary",
                "supplier",
                "validUntilDate",
                "versionInfo",
            ],
            "package",
        );
        for r in p["externalRefs"].as_array().into_iter().flatten() {
            keys(
                r,
                &[
                    "comment",
                    "referenceCategory",
                    "referenceLocator",
                    "referenceType",
                ],
                "externalRef",
            );
            assert_eq!(r["referenceCategory"], "PACKAGE-MANAGER");
        }
        for c in p["checksums"].as_array().into_iter().flatten() {
            keys(c, &["algorithm", "checksumValue"], "checksum");
        }
    }
    for e in doc["hasExtractedLicensingInfos"]
        .as_array()
        .into_iter()
        .flatten()
    {
        keys(
            e,
            &[
                "comment",
                "crossRefs",
                "extractedText",
                "licenseId",
                "name",
                "seeAlsos",
            ],
            "extracted licensing info",
        );
    }
    for r in doc["relationships"].as_array().expect("relationships") {
        keys(
            r,
            &[
                "spdxElementId",
                "comment",
                "relatedSpdxElement",
                "relationshipType",
            ],
            "relationship",
        );
    }
}

#[test]
fn cyclonedx_follows_the_official_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut inv = inventory();
    let mut m = meta();
    let plain = write(dir.path(), "plain.cdx.json", &cyclonedx(&inv, &m, &[]));
    let with_vulns = write(
        dir.path(),
        "vulns.cdx.json",
        &cyclonedx(&inv, &m, &vulnerabilities()),
    );
    inv.errors
        .push(ParseError::new("go.sum", None, "unreadable"));
    m.os = Some(OperatingSystem {
        name: "debian".into(),
        version: Some("12".into()),
    });
    m.version = None;
    let image = write(dir.path(), "image.cdx.json", &cyclonedx(&inv, &m, &[]));
    let empty = write(
        dir.path(),
        "empty.cdx.json",
        &cyclonedx(&Inventory::default(), &meta(), &[]),
    );
    validate_cyclonedx(&[plain, with_vulns, image, empty]);
}

#[test]
fn the_vulnerabilities_section_is_there_and_valid() {
    let bom = cyclonedx(&inventory(), &meta(), &vulnerabilities());
    let vulns = bom["vulnerabilities"].as_array().expect("vulnerabilities");
    let ids: Vec<&str> = vulns
        .iter()
        .map(|v| v["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "GHSA-8489-44mv-ggj8",
            "GHSA-gxpj-cx7g-858c",
            "OSV-2024-0002",
            "PYSEC-2024-0001"
        ]
    );
    assert_eq!(vulns[0]["ratings"][0]["method"], "CVSSv31");
    assert_eq!(vulns[0]["ratings"][0]["severity"], "medium");
    assert_eq!(vulns[0]["recommendation"], "Upgrade to 2.17.1");
    assert_eq!(vulns[1]["ratings"][0]["method"], "CVSSv3");
    assert_eq!(vulns[3]["ratings"][0]["method"], "CVSSv4");
    assert_eq!(vulns[3]["affects"].as_array().map(Vec::len), Some(2));
    // A purl that is not in the BOM is never a dangling reference.
    assert!(vulns[2].get("affects").is_none());
    assert_eq!(vulns[2]["properties"][0]["value"], "pkg:npm/left-pad@1.3.0");
    let dir = tempfile::tempdir().expect("tempdir");
    validate_cyclonedx(&[write(dir.path(), "vulns.cdx.json", &bom)]);
}

#[test]
fn spdx_passes_spdx_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut inv = inventory();
    let mut m = meta();
    let doc = spdx(&inv, &m);
    check_spdx_keys(&doc);
    validate_spdx(&write(dir.path(), "plain.spdx.json", &doc));

    inv.errors
        .push(ParseError::new("go.sum", None, "unreadable"));
    m.os = Some(OperatingSystem {
        name: "debian".into(),
        version: Some("12".into()),
    });
    let doc = spdx(&inv, &m);
    check_spdx_keys(&doc);
    validate_spdx(&write(dir.path(), "image.spdx.json", &doc));

    let doc = spdx(&Inventory::default(), &meta());
    check_spdx_keys(&doc);
    validate_spdx(&write(dir.path(), "empty.spdx.json", &doc));
}

/// Licences of every kind, each on its own package: how each format writes them (a snapshot),
/// and both validators accept the result.
#[test]
fn odd_licences_stay_valid_in_both_formats() {
    let odd = [
        "MIT",
        "mit OR apache-2.0",
        "GPL-2.0+",
        "GPL-2.0",
        "GPL-3.0-only WITH Classpath-exception-2.0",
        "GPL-3.0-only WITH Unknown-exception",
        "LicenseRef-Acme",
        "DocumentRef-other:LicenseRef-X",
        "Foo-1.0+",
        "(MIT",
        "BSD",
        "Public Domain",
        "UNLICENSED",
        "NOASSERTION",
        "NONE",
        "",
        "MIT AND (LGPL-2.1-or-later OR BSD-3-Clause) AND LicenseRef-x",
    ];
    let inv = Inventory {
        packages: odd
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut p = pkg(
                    Ecosystem::CratesIo,
                    &format!("p{i:02}"),
                    "1.0.0",
                    "Cargo.lock",
                );
                p.licenses = vec![(*l).into()];
                p
            })
            .collect(),
        ..Inventory::default()
    };
    let bom = cyclonedx(&inv, &meta(), &[]);
    let doc = spdx(&inv, &meta());
    let table: Vec<Value> = odd
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let name = format!("p{i:02}");
            let component = bom["components"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["name"] == name.as_str()))
                .expect("component");
            let package = doc["packages"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == name.as_str()))
                .expect("package");
            serde_json::json!({
                "input": l,
                "cyclonedx": component.get("licenses"),
                "spdx": package["licenseDeclared"],
            })
        })
        .collect();
    snapshot(
        "licences",
        &serde_json::json!({
            "packages": table,
            "hasExtractedLicensingInfos": doc["hasExtractedLicensingInfos"],
        }),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    validate_cyclonedx(&[write(dir.path(), "odd.cdx.json", &bom)]);
    check_spdx_keys(&doc);
    validate_spdx(&write(dir.path(), "odd.spdx.json", &doc));
}

/// What a breakage does, and how.
type Breakage = (&'static str, fn(&mut Value));

/// The validators are not vacuous: they reject what the formats forbid.
#[test]
fn the_validators_reject_broken_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = cyclonedx(&inventory(), &meta(), &vulnerabilities());
    let breakages: [Breakage; 4] = [
        ("an id not on the SPDX list", |b| {
            b["components"][0]["licenses"] =
                serde_json::json!([{ "license": { "id": "Foo-1.0" } }]);
        }),
        ("an unknown key", |b| {
            b["components"][0]["colour"] = "red".into();
        }),
        ("a dependency on an unknown ref", |b| {
            b["dependencies"][1]["dependsOn"] = serde_json::json!(["pkg:npm/nowhere@1"]);
        }),
        ("a vulnerability affecting an unknown ref", |b| {
            b["vulnerabilities"][0]["affects"] =
                serde_json::json!([{ "ref": "pkg:npm/nowhere@1" }]);
        }),
    ];
    for (what, breakage) in breakages {
        let mut bad = good.clone();
        breakage(&mut bad);
        let (ok, report) = run_cyclonedx_validator(&[write(dir.path(), "bad.cdx.json", &bad)]);
        assert!(!ok, "the CycloneDX validator accepts {what}:\n{report}");
    }

    let good = spdx(&inventory(), &meta());
    let breakages: [Breakage; 3] = [
        ("an id not on the SPDX list", |d| {
            d["packages"][1]["licenseDeclared"] = "Foo-1.0".into();
        }),
        ("a relationship to an unknown element", |d| {
            d["relationships"][1]["relatedSpdxElement"] = "SPDXRef-Nowhere".into();
        }),
        ("a bad SPDXID", |d| {
            d["packages"][1]["SPDXID"] = "SPDXRef-a_b".into();
        }),
    ];
    for (what, breakage) in breakages {
        let mut bad = good.clone();
        breakage(&mut bad);
        let (ok, report) = run_spdx_validator(&write(dir.path(), "bad.spdx.json", &bad));
        assert!(!ok, "pyspdxtools accepts {what}:\n{report}");
    }
}

#[test]
fn serials_are_deterministic_uuids() {
    let s = serial_from(b"x");
    assert_eq!(s, serial_from(b"x"));
    assert_ne!(s, serial_from(b"y"));
    assert!(s.starts_with("urn:uuid:"));
    assert_eq!(s.len(), "urn:uuid:".len() + 36);
}

// ---------------------------------------------------------------------------------------------
// Licence expressions

fn id(s: &str) -> Expr {
    Expr::Simple(Simple::Id {
        id: s.into(),
        or_later: false,
    })
}

#[test]
fn parses_precedence_and_forms() {
    let e = license::parse("MIT or Apache-2.0 AND GPL-2.0+ WITH Classpath-exception-2.0")
        .expect("parses");
    assert_eq!(
        e,
        Expr::Or(vec![
            id("MIT"),
            Expr::And(vec![
                id("Apache-2.0"),
                Expr::With {
                    license: Simple::Id {
                        id: "GPL-2.0".into(),
                        or_later: true
                    },
                    exception: "Classpath-exception-2.0".into()
                }
            ])
        ])
    );
    assert_eq!(
        e.to_string(),
        "MIT OR Apache-2.0 AND GPL-2.0+ WITH Classpath-exception-2.0"
    );
    let e = license::parse("(MIT OR Apache-2.0) AND (BSD-3-Clause)").expect("parses");
    assert_eq!(
        e,
        Expr::And(vec![
            Expr::Or(vec![id("MIT"), id("Apache-2.0")]),
            id("BSD-3-Clause")
        ])
    );
    assert_eq!(e.to_string(), "(MIT OR Apache-2.0) AND BSD-3-Clause");
    assert_eq!(
        license::parse("DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2").expect("parses"),
        Expr::Simple(Simple::Ref {
            document: Some("spdx-tool-1.2".into()),
            name: "MIT-Style-2".into()
        })
    );
    assert_eq!(
        license::parse("A AND B AND C").expect("parses"),
        Expr::And(vec![id("A"), id("B"), id("C")])
    );
    assert_eq!(
        license::parse("A AND (B AND C)")
            .expect("parses")
            .to_string(),
        "A AND (B AND C)"
    );
    let e = license::parse("gpl-2.0-or-later with classpath-exception-2.0").expect("parses");
    assert_eq!(
        e.canonical().to_string(),
        "GPL-2.0-or-later WITH Classpath-exception-2.0"
    );
    assert!(e.is_spdx_valid());
    assert!(!license::parse("Foo-1.0").expect("parses").is_spdx_valid());
}

#[test]
fn errors_say_what_and_where() {
    let cases = [
        ("", 1, "empty licence expression"),
        ("   ", 4, "empty licence expression"),
        (
            "MIT AND",
            8,
            "expected a licence or `(`, found the end of the expression",
        ),
        (
            "MIT Apache-2.0",
            5,
            "expected `AND`, `OR` or the end, found `Apache-2.0`",
        ),
        (
            "(MIT OR BSD",
            12,
            "expected `)` to close the `(` at column 1, found the end",
        ),
        ("MIT)", 4, "`)` without a matching `(`"),
        ("MIT / BSD", 5, "unexpected character `/`"),
        ("MIT +", 5, "`+` must follow a licence id directly"),
        (
            "MIT WITH",
            9,
            "expected a licence exception id after `WITH`",
        ),
        ("LicenseRef-x+", 1, "`+` cannot follow a LicenseRef"),
        ("LicenseRef-", 1, "invalid LicenseRef id"),
        (
            "DocumentRef-x:MIT",
            1,
            "a DocumentRef must be followed by `:LicenseRef-<id>`",
        ),
        ("a:b", 1, "`:` is only allowed in"),
        ("AND", 1, "expected a licence or `(`, found `AND`"),
        (
            "MIT WITH (X)",
            10,
            "expected a licence exception id after `WITH`, found `(`",
        ),
        ("é OR MIT", 1, "unexpected character `é`"),
        ("MIT OR é", 8, "unexpected character `é`"),
    ];
    for (input, column, message) in cases {
        let err = license::parse(input).expect_err(input);
        assert_eq!(err.column, column, "{input}: {err}");
        assert!(
            err.message.contains(message),
            "{input}: `{}` does not contain `{message}`",
            err.message
        );
        assert!(
            err.to_string().ends_with(&format!("at column {column}")),
            "{err}"
        );
    }
    let deep = format!("{}MIT{}", "(".repeat(100), ")".repeat(100));
    let err = license::parse(&deep).expect_err("too deep");
    assert!(err.message.contains("nest more than"), "{err}");
    let ok = format!("{}MIT{}", "(".repeat(60), ")".repeat(60));
    assert_eq!(license::parse(&ok).expect("60 deep"), id("MIT"));
}

fn arb_idstring() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.-]{0,11}"
}

fn arb_simple() -> impl Strategy<Value = Simple> {
    prop_oneof![
        (arb_idstring(), any::<bool>())
            .prop_filter("not an operator or a ref", |(id, _)| {
                let l = id.to_ascii_lowercase();
                !matches!(l.as_str(), "and" | "or" | "with")
                    && !l.starts_with("licenseref-")
                    && !l.starts_with("documentref-")
            })
            .prop_map(|(id, or_later)| Simple::Id { id, or_later }),
        (proptest::option::of(arb_idstring()), arb_idstring())
            .prop_map(|(document, name)| Simple::Ref { document, name }),
    ]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        arb_simple().prop_map(Expr::Simple),
        (arb_simple(), arb_idstring())
            .prop_filter("exception is not an operator", |(_, x)| {
                !matches!(x.to_ascii_lowercase().as_str(), "and" | "or" | "with")
            })
            .prop_map(|(license, exception)| Expr::With { license, exception }),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            proptest::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

proptest! {
    #[test]
    fn parse_never_panics(input in ".{0,64}") {
        let _ = license::parse(&input);
    }

    #[test]
    fn parse_never_panics_on_expression_like_input(
        input in "[A-Za-z0-9 ()+:.-]{0,40}|((MIT|AND|OR|WITH|\\(|\\)|\\+|LicenseRef-a|DocumentRef-b:|:| ){0,20})"
    ) {
        if let Ok(expr) = license::parse(&input) {
            // Whatever parses prints to something that parses to the same tree.
            let reparsed = license::parse(&expr.to_string());
            prop_assert_eq!(reparsed, Ok(expr));
        }
    }

    #[test]
    fn printing_then_parsing_gives_the_same_tree(expr in arb_expr()) {
        let printed = expr.to_string();
        prop_assert_eq!(license::parse(&printed), Ok(expr), "printed: {}", printed);
    }

    #[test]
    fn policies_never_panic(input in ".{0,40}", deny in proptest::collection::vec("[A-Za-z0-9.+-]{1,12}", 0..3)) {
        let policy = LicensePolicy { deny, allow: Vec::new() };
        let _ = policy.evaluate(&input);
        let _ = policy.problems();
    }
}

// ---------------------------------------------------------------------------------------------
// Licence policy

fn policy(deny: &[&str], allow: &[&str]) -> LicensePolicy {
    LicensePolicy {
        deny: deny.iter().map(ToString::to_string).collect(),
        allow: allow.iter().map(ToString::to_string).collect(),
    }
}

#[derive(Debug, PartialEq)]
enum V {
    Allowed,
    Denied,
    Unknown,
}

fn short(v: &Verdict) -> V {
    match v {
        Verdict::Allowed => V::Allowed,
        Verdict::Denied { .. } => V::Denied,
        Verdict::Unknown { .. } => V::Unknown,
    }
}

#[test]
fn policy_table() {
    let gpl3 = &["GPL-3.0-only"][..];
    let gpl2_and_3 = &["GPL-2.0-only", "GPL-3.0-only"][..];
    let gpl2_or_later = &["GPL-2.0-or-later"][..];
    let gpl3_or_later = &["GPL-3.0-or-later"][..];
    let agpl = &["AGPL-3.0-only", "AGPL-3.0-or-later"][..];
    let none: &[&str] = &[];
    let permissive = &["MIT", "Apache-2.0", "BSD-3-Clause"][..];
    let cases: &[(&str, &[&str], &[&str], V)] = &[
        // Plain deny.
        ("MIT", gpl3, none, V::Allowed),
        ("GPL-3.0-only", gpl3, none, V::Denied),
        ("gpl-3.0-ONLY", gpl3, none, V::Denied),
        // The deprecated plain id means -only.
        ("GPL-3.0", gpl3, none, V::Denied),
        // -or-later lets the licensee choose an earlier version that is not denied.
        ("GPL-2.0-or-later", gpl3, none, V::Allowed),
        ("GPL-2.0+", gpl3, none, V::Allowed),
        ("GPL-2.0-or-later", gpl2_and_3, none, V::Denied),
        ("GPL-2.0+", gpl2_and_3, none, V::Denied),
        ("GPL-3.0-or-later", gpl3, none, V::Denied),
        // A deny of -or-later covers that version and every later one, and nothing earlier.
        ("GPL-3.0-only", gpl3_or_later, none, V::Denied),
        ("GPL-2.0-only", gpl3_or_later, none, V::Allowed),
        ("GPL-2.0-or-later", gpl3_or_later, none, V::Allowed),
        ("GPL-2.0-only", gpl2_or_later, none, V::Denied),
        ("GPL-3.0-only", gpl2_or_later, none, V::Denied),
        ("GPL-1.0-or-later", gpl2_or_later, none, V::Allowed),
        // Same family only: LGPL and AGPL are not GPL versions.
        ("LGPL-2.1-or-later", gpl2_or_later, none, V::Allowed),
        ("AGPL-3.0-only", gpl3_or_later, none, V::Allowed),
        ("AGPL-3.0-or-later", agpl, none, V::Denied),
        // OR: either side; AND: both sides.
        ("MIT OR GPL-3.0-only", gpl3, none, V::Allowed),
        ("GPL-3.0-only OR MIT", gpl3, none, V::Allowed),
        ("MIT AND GPL-3.0-only", gpl3, none, V::Denied),
        (
            "(MIT OR GPL-3.0-only) AND Apache-2.0",
            gpl3,
            none,
            V::Allowed,
        ),
        (
            "(MIT AND GPL-3.0-only) OR Apache-2.0",
            gpl3,
            none,
            V::Allowed,
        ),
        (
            "(MIT AND GPL-3.0-only) OR AGPL-3.0-only",
            &["GPL-3.0-only", "AGPL-3.0-only"],
            none,
            V::Denied,
        ),
        // WITH is judged on the licence.
        (
            "GPL-3.0-only WITH Classpath-exception-2.0",
            gpl3,
            none,
            V::Denied,
        ),
        (
            "GPL-2.0-only WITH Classpath-exception-2.0",
            gpl3,
            none,
            V::Allowed,
        ),
        (
            "GPL-2.0-with-classpath-exception",
            &["GPL-2.0-only"],
            none,
            V::Denied,
        ),
        // Allow lists: only what they cover.
        ("MIT", none, permissive, V::Allowed),
        ("GPL-2.0-only", none, permissive, V::Denied),
        ("MIT OR GPL-2.0-only", none, permissive, V::Allowed),
        ("MIT AND GPL-2.0-only", none, permissive, V::Denied),
        ("LicenseRef-Acme", none, permissive, V::Denied),
        ("LicenseRef-Acme", none, &["LicenseRef-acme"], V::Allowed),
        ("GPL-2.0-or-later", none, &["GPL-3.0-only"], V::Allowed),
        ("GPL-3.0-only", none, &["GPL-2.0-or-later"], V::Allowed),
        ("GPL-2.0-only", none, &["GPL-3.0-or-later"], V::Denied),
        // Deny wins over allow.
        ("MIT", &["MIT"], &["MIT"], V::Denied),
        // Unknowns, with an empty allow list.
        ("LicenseRef-Acme", gpl3, none, V::Unknown),
        ("LicenseRef-Acme", &["LicenseRef-Acme"], none, V::Denied),
        ("Foo-1.0", gpl3, none, V::Unknown),
        ("Foo-1.0 OR MIT", gpl3, none, V::Allowed),
        ("Foo-1.0 OR GPL-3.0-only", gpl3, none, V::Unknown),
        ("Foo-1.0 AND GPL-3.0-only", gpl3, none, V::Denied),
        ("Foo-1.0 AND MIT", gpl3, none, V::Unknown),
        ("NOASSERTION", gpl3, none, V::Unknown),
        ("", gpl3, none, V::Unknown),
        ("MIT OR", gpl3, none, V::Unknown),
    ];
    for (expr, deny, allow, want) in cases {
        let got = policy(deny, allow).evaluate(expr);
        assert_eq!(
            short(&got),
            *want,
            "`{expr}` with deny {deny:?} allow {allow:?}: {got:?}"
        );
    }
}

#[test]
fn denials_explain_themselves() {
    let p = policy(&["GPL-2.0-only", "GPL-3.0-or-later"], &[]);
    assert_eq!(
        p.evaluate("MIT AND GPL-2.0+ WITH Classpath-exception-2.0"),
        Verdict::Denied {
            because: vec![
                "`GPL-2.0+ WITH Classpath-exception-2.0`: every version it permits is \
                 unacceptable: GPL-2.0 is denied (deny: `GPL-2.0-only`); GPL-3.0 is denied \
                 (deny: `GPL-3.0-or-later`)"
                    .into()
            ]
        }
    );
    assert_eq!(
        policy(&[], &["MIT"]).evaluate("MIT AND ISC"),
        Verdict::Denied {
            because: vec!["`ISC`: ISC is not on the allow list".into()]
        }
    );
    assert_eq!(
        policy(&[], &[]).evaluate("LicenseRef-Acme"),
        Verdict::Unknown {
            because: vec![
                "`LicenseRef-Acme`: LicenseRef-Acme is not on the SPDX licence list".into()
            ]
        }
    );
    assert_eq!(
        policy(&["GPL-3.0-only"], &[]).evaluate_all(&["MIT".into(), "GPL-3.0".into()]),
        Verdict::Denied {
            because: vec!["`GPL-3.0`: GPL-3.0 is denied (deny: `GPL-3.0-only`)".into()]
        }
    );
    assert!(matches!(
        policy(&[], &[]).evaluate_all(&[]),
        Verdict::Unknown { .. }
    ));
}

#[test]
fn policy_problems_are_reported() {
    let p = policy(
        &["GPL-3.0-only", "Nonsense-9", "MIT OR ISC"],
        &["GPL-3.0-only", "LicenseRef-x"],
    );
    assert_eq!(
        p.problems(),
        [
            "deny entry `Nonsense-9` is not an SPDX licence id",
            "deny entry `MIT OR ISC` must be a single licence id, not an expression",
            "`GPL-3.0-only` is both denied and allowed (deny wins)",
        ]
    );
}
