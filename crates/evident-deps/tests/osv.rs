//! The OSV database against real records (the shared test data) and small hand-written ones
//! (`tests/fixtures/osv`): import, status, and exact matches at range boundaries.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use evident_core::Severity;
use evident_deps::osv::{Db, Match, OsvError, update};
use evident_deps::{Ecosystem, Package};
use jiff::Timestamp;

fn shared_osv() -> PathBuf {
    let base = std::env::var_os("EVIDENT_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    base.join("osv")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn now() -> Timestamp {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

/// A database holding exactly these files of the shared data.
fn db_with(files: &[&str]) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("osv.sqlite")).unwrap();
    for f in files {
        let summary = db.import(&shared_osv().join(f), now()).unwrap();
        assert_eq!(summary.errors, [], "{f}");
        assert_eq!(summary.records, 1, "{f}");
    }
    (dir, db)
}

fn fixture_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("osv.sqlite")).unwrap();
    let summary = db.import(&fixtures(), now()).unwrap();
    assert_eq!(summary.errors, []);
    assert_eq!(summary.records, 10);
    (dir, db)
}

fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
    Package::new(eco, name, version, "test")
}

/// A distribution package with the purl qualifiers image scanners write.
fn distro_pkg(eco: Ecosystem, name: &str, version: &str, qualifiers: &str) -> Package {
    let mut p = pkg(eco, name, version);
    p.purl = format!("{}?{qualifiers}", p.purl);
    p
}

/// The matches of one package.
fn matches(db: &Db, p: Package) -> Vec<Match> {
    db.match_packages(&[p]).unwrap()
}

/// The ids matched for one package.
fn ids(db: &Db, p: Package) -> Vec<String> {
    matches(db, p).into_iter().map(|m| m.id).collect()
}

/// The single match for one package.
fn one(db: &Db, p: Package) -> Match {
    let shown = format!("{} {} {}", p.ecosystem, p.name, p.version);
    let mut m = matches(db, p);
    assert_eq!(m.len(), 1, "{shown}: {m:?}");
    m.remove(0)
}

fn none(db: &Db, p: Package) {
    let shown = format!("{} {} {}", p.ecosystem, p.name, p.version);
    let m = matches(db, p);
    assert!(m.is_empty(), "{shown} should not match: {m:?}");
}

// ---------- real records ----------

#[test]
fn imports_all_shared_data_and_reports_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("osv.sqlite")).unwrap();
    let source = shared_osv();
    let started = Instant::now();
    let summary = db.import(&source, now()).unwrap();
    let took = started.elapsed();
    println!(
        "imported {} OSV records from {} in {:.2?}",
        summary.records,
        source.display(),
        took
    );
    assert_eq!(summary.errors, []);
    assert_eq!(summary.records, 8158);
    assert_eq!(summary.added, 8158);
    assert_eq!((summary.replaced, summary.unchanged), (0, 0));
    assert_eq!(
        summary.to_string(),
        "8158 records (8158 added, 0 replaced, 0 unchanged)"
    );

    let status = db.status().unwrap();
    assert_eq!(status.advisories, 8158);
    assert_eq!(status.withdrawn, 40);
    let per: Vec<(&str, u64)> = status
        .ecosystems
        .iter()
        .map(|e| (e.ecosystem.as_str(), e.advisories))
        .collect();
    assert_eq!(per, [("Go", 4291), ("PyPI", 2661), ("crates.io", 1206)]);
    assert!(
        status
            .ecosystems
            .iter()
            .all(|e| e.newest_modified.is_some())
    );
    assert!(status.newest_modified.is_some());
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.sources[0].source, source.display().to_string());
    assert_eq!(status.sources[0].imported_at, now());
    assert_eq!(status.sources[0].records, 8158);

    // Importing again changes nothing, and is recorded with its own time.
    let later: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
    let again = db.import(&source, later).unwrap();
    assert_eq!((again.added, again.replaced, again.unchanged), (0, 0, 8158));
    let status = db.status().unwrap();
    assert_eq!(status.advisories, 8158);
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.sources[0].imported_at, later);

    // Matching works at this size, for several ecosystems at once.
    let found = db
        .match_packages(&[
            pkg(Ecosystem::CratesIo, "smallvec", "0.6.12"),
            pkg(Ecosystem::PyPI, "Py", "1.11.0"),
            pkg(
                Ecosystem::Go,
                "github.com/square/go-jose",
                "v0.0.0-20160101000000-abcdefabcdef",
            ),
            pkg(Ecosystem::Npm, "lodash", "4.17.20"),
        ])
        .unwrap();
    let got: Vec<(usize, &str)> = found.iter().map(|m| (m.package, m.id.as_str())).collect();
    assert!(got.contains(&(0, "RUSTSEC-2018-0018")), "{got:?}");
    assert!(got.contains(&(1, "PYSEC-2022-42969")), "{got:?}");
    assert!(got.contains(&(2, "GO-2020-0009")), "{got:?}");
    assert!(!got.iter().any(|(p, _)| *p == 3), "no npm data imported");
}

#[test]
fn pypi_last_affected_is_inclusive() {
    let (_d, db) = db_with(&["PyPI/py/PYSEC-2022-42969.yaml"]);
    let m = one(&db, pkg(Ecosystem::PyPI, "py", "1.11.0"));
    assert_eq!(m.id, "PYSEC-2022-42969");
    assert_eq!(m.aliases, ["CVE-2022-42969", "GHSA-w596-4wvx-j9j6"]);
    assert_eq!(m.fixed, None);
    assert!(
        m.summary.starts_with("The py library through 1.11.0"),
        "{}",
        m.summary
    );
    one(&db, pkg(Ecosystem::PyPI, "py", "1.10.0"));
    one(&db, pkg(Ecosystem::PyPI, "py", "0.8.0-alpha2"));
    none(&db, pkg(Ecosystem::PyPI, "py", "1.11.1"));
    none(&db, pkg(Ecosystem::PyPI, "py", "2.0"));
    // Not a concrete version: nothing to match.
    none(&db, pkg(Ecosystem::PyPI, "py", ""));
}

#[test]
fn pypi_fixed_boundary_names_pre_releases_and_cvss() {
    let (_d, db) = db_with(&["PyPI/aiohttp/PYSEC-2023-246.yaml"]);
    let m = one(&db, pkg(Ecosystem::PyPI, "AioHTTP", "3.8.5"));
    assert_eq!(m.id, "PYSEC-2023-246");
    assert_eq!(m.fixed.as_deref(), Some("3.8.6"));
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N = 7.5
    assert_eq!(m.severity, Some(Severity::High));
    assert_eq!(
        m.cvss.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N")
    );
    one(&db, pkg(Ecosystem::PyPI, "aiohttp", "3.8.0a7"));
    one(&db, pkg(Ecosystem::PyPI, "aiohttp", "3.8.6rc1"));
    none(&db, pkg(Ecosystem::PyPI, "aiohttp", "3.8.6"));
    none(&db, pkg(Ecosystem::PyPI, "aiohttp", "3.9.0"));
    none(&db, pkg(Ecosystem::PyPI, "aiohttp-session", "2.0.0"));
}

#[test]
fn pypi_explicit_versions_list() {
    let (_d, db) = db_with(&["PyPI/gratient/PYSEC-2024-1.yaml"]);
    let m = one(&db, pkg(Ecosystem::PyPI, "gratient", "0.5"));
    assert_eq!(
        m.summary,
        "gratient 0.5 contains credential harvesting code"
    );
    assert_eq!(m.fixed, None);
    assert_eq!(m.severity, None);
    // PEP 440 equality.
    one(&db, pkg(Ecosystem::PyPI, "gratient", "0.5.0"));
    none(&db, pkg(Ecosystem::PyPI, "gratient", "0.4"));
    none(&db, pkg(Ecosystem::PyPI, "gratient", "0.6"));
}

#[test]
fn withdrawn_records_never_match() {
    let (_d, db) = db_with(&[
        "PyPI/redis/PYSEC-2023-73.yaml",
        "Go/GO-2024-2730.json",
        "crates.io/RUSTSEC-2020-0053.json",
    ]);
    none(&db, pkg(Ecosystem::PyPI, "redis", "4.5.5"));
    none(
        &db,
        pkg(Ecosystem::Go, "github.com/gorilla/sessions", "v1.2.1"),
    );
    none(&db, pkg(Ecosystem::CratesIo, "dirs", "1.0.5"));
    assert_eq!(db.status().unwrap().withdrawn, 3);
}

#[test]
fn pypi_aliases_merge_into_one_match() {
    let (_d, db) = db_with(&[
        "PyPI/distributed/PYSEC-2021-871.yaml",
        "PyPI/distributed/PYSEC-2021-872.yaml",
    ]);
    let m = one(&db, pkg(Ecosystem::PyPI, "distributed", "2021.9.1"));
    assert_eq!(m.id, "PYSEC-2021-871");
    assert_eq!(
        m.aliases,
        [
            "CVE-2021-42343",
            "GHSA-hwqr-f3v9-hwxr",
            "GHSA-j8fq-86c5-5v2r",
            "PYSEC-2021-872"
        ]
    );
    assert_eq!(m.fixed.as_deref(), Some("2021.10.0"));
    none(&db, pkg(Ecosystem::PyPI, "distributed", "2021.10.0"));
}

#[test]
fn rustsec_duplicates_merge_and_ranges_reopen() {
    let (_d, db) = db_with(&[
        "crates.io/RUSTSEC-2022-0016.json",
        "crates.io/RUSTSEC-2022-0099.json",
    ]);
    // Both records match: one vulnerability.
    let m = one(&db, pkg(Ecosystem::CratesIo, "wasmtime", "0.34.1"));
    assert_eq!(m.id, "RUSTSEC-2022-0016");
    assert_eq!(
        m.aliases,
        ["CVE-2022-24791", "GHSA-gwc9-348x-qwv2", "RUSTSEC-2022-0099"]
    );
    assert_eq!(m.fixed.as_deref(), Some("0.34.2"));
    // Only the record that starts at the beginning matches.
    let m = one(&db, pkg(Ecosystem::CratesIo, "wasmtime", "0.33.0"));
    assert_eq!(m.id, "RUSTSEC-2022-0099");
    assert_eq!(m.aliases, ["CVE-2022-24791", "GHSA-gwc9-348x-qwv2"]);
    none(&db, pkg(Ecosystem::CratesIo, "wasmtime", "0.34.2"));
    let m = one(&db, pkg(Ecosystem::CratesIo, "wasmtime", "0.35.0"));
    assert_eq!(m.fixed.as_deref(), Some("0.35.2"));
    one(&db, pkg(Ecosystem::CratesIo, "wasmtime", "0.35.1"));
    none(&db, pkg(Ecosystem::CratesIo, "wasmtime", "0.35.2"));
    none(&db, pkg(Ecosystem::CratesIo, "wasmtime", "1.0.0"));
}

#[test]
fn rustsec_severity_fixed_and_references() {
    let (_d, db) = db_with(&["crates.io/RUSTSEC-2016-0001.json"]);
    let m = one(&db, pkg(Ecosystem::CratesIo, "openssl", "0.8.3"));
    assert_eq!(m.id, "RUSTSEC-2016-0001");
    assert_eq!(m.aliases, ["CVE-2016-10931", "GHSA-34p9-f4q3-c4r7"]);
    // CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H = 8.1
    assert_eq!(m.severity, Some(Severity::High));
    assert_eq!(m.fixed.as_deref(), Some("0.9.0"));
    assert_eq!(m.informational, None);
    assert_eq!(
        m.references,
        [
            "https://crates.io/crates/openssl",
            "https://rustsec.org/advisories/RUSTSEC-2016-0001.html",
            "https://github.com/sfackler/rust-openssl/releases/tag/v0.9.0"
        ]
    );
    // A pre-release of the fixed version is still before it.
    one(&db, pkg(Ecosystem::CratesIo, "openssl", "0.9.0-alpha.1"));
    none(&db, pkg(Ecosystem::CratesIo, "openssl", "0.9.0"));
    none(&db, pkg(Ecosystem::CratesIo, "openssl-sys", "0.8.3"));
}

#[test]
fn rustsec_informational_advisories() {
    let (_d, db) = db_with(&[
        "crates.io/RUSTSEC-2016-0005.json",
        "crates.io/RUSTSEC-2018-0018.json",
        "crates.io/RUSTSEC-2020-0011.json",
    ]);
    let m = one(&db, pkg(Ecosystem::CratesIo, "rust-crypto", "0.2.36"));
    assert_eq!(m.informational.as_deref(), Some("unmaintained"));
    assert_eq!(m.fixed.as_deref(), Some("0.2.37-0"));
    assert_eq!(m.severity, None);
    let m = one(&db, pkg(Ecosystem::CratesIo, "smallvec", "0.6.12"));
    assert_eq!(m.id, "RUSTSEC-2018-0018");
    assert_eq!(m.informational.as_deref(), Some("unsound"));
    assert_eq!(m.fixed.as_deref(), Some("0.6.13"));
    none(&db, pkg(Ecosystem::CratesIo, "smallvec", "0.6.13"));
    none(&db, pkg(Ecosystem::CratesIo, "smallvec", "1.13.2"));
    let m = one(&db, pkg(Ecosystem::CratesIo, "plutonium", "0.5.2"));
    assert_eq!(m.informational.as_deref(), Some("notice"));
    assert_eq!(m.fixed, None);
}

#[test]
fn cvss_v4_without_a_database_severity_has_no_severity() {
    let dir = shared_osv().join("crates.io");
    let mut v4_only = None;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("CVSS_V4") && !text.contains("CVSS_V3") && !text.contains("\"withdrawn\"")
        {
            v4_only = Some(path);
            break;
        }
    }
    let path = v4_only.expect("a RustSec record with only a CVSS v4 vector");
    let advisory = evident_deps::osv::Advisory::from_json(&std::fs::read(&path).unwrap()).unwrap();
    let affected = &advisory.affected[0];
    let name = affected.package.as_ref().unwrap().name.clone();
    let version = match affected.ranges[0]
        .events
        .iter()
        .find_map(|e| e.fixed.clone())
    {
        // Just below the fix, as a SemVer pre-release of it.
        Some(fixed) => format!("{fixed}-0"),
        None => "0.0.1".to_owned(),
    };
    let db_dir = tempfile::tempdir().unwrap();
    let db = Db::open(&db_dir.path().join("osv.sqlite")).unwrap();
    db.import(&path, now()).unwrap();
    let m = one(&db, pkg(Ecosystem::CratesIo, &name, &version));
    assert_eq!(m.id, advisory.id);
    assert_eq!(m.severity, None);
    assert!(m.cvss.as_deref().unwrap().starts_with("CVSS:4.0/"), "{m:?}");
}

#[test]
fn go_pseudo_versions() {
    let (_d, db) = db_with(&["Go/GO-2020-0004.json", "Go/GO-2020-0009.json"]);
    let module = "github.com/nanobox-io/golang-nanoauth";
    let m = one(
        &db,
        pkg(Ecosystem::Go, module, "v0.0.0-20190101000000-abcdefabcdef"),
    );
    assert_eq!(m.id, "GO-2020-0004");
    assert_eq!(m.aliases, ["CVE-2020-36569", "GHSA-hrm3-3xm6-x33h"]);
    assert_eq!(
        m.fixed.as_deref(),
        Some("0.0.0-20200131131040-063a3fb69896")
    );
    assert_eq!(m.imports, [module]);
    // The introducing commit itself is affected; the fixing one is not.
    one(
        &db,
        pkg(Ecosystem::Go, module, "v0.0.0-20160722212129-ac0cc4484ad4"),
    );
    none(
        &db,
        pkg(Ecosystem::Go, module, "v0.0.0-20160101000000-abcdefabcdef"),
    );
    none(
        &db,
        pkg(Ecosystem::Go, module, "v0.0.0-20200131131040-063a3fb69896"),
    );
    none(&db, pkg(Ecosystem::Go, module, "v0.1.0"));
    // Imports are information only: the module matches whichever of its packages is used.
    let m = one(
        &db,
        pkg(
            Ecosystem::Go,
            "github.com/square/go-jose",
            "v0.0.0-20160903044733-000000000000",
        ),
    );
    assert_eq!(
        m.imports,
        [
            "github.com/square/go-jose/cipher",
            "github.com/square/go-jose"
        ]
    );
    none(
        &db,
        pkg(
            Ecosystem::Go,
            "github.com/square/go-jose",
            "v0.0.0-20160903044734-789a4c4bd4c1",
        ),
    );
    none(
        &db,
        pkg(Ecosystem::Go, "github.com/square/go-jose", "v1.1.0"),
    );
}

#[test]
fn go_several_affected_entries_for_one_module() {
    let (_d, db) = db_with(&["Go/GO-2023-1497.json"]);
    let module = "github.com/sylabs/scs-library-client";
    let m = one(&db, pkg(Ecosystem::Go, module, "v1.3.3"));
    assert_eq!(m.fixed.as_deref(), Some("1.3.4"));
    none(&db, pkg(Ecosystem::Go, module, "v1.3.4"));
    let m = one(&db, pkg(Ecosystem::Go, module, "v1.4.0"));
    assert_eq!(m.fixed.as_deref(), Some("1.4.2"));
    one(&db, pkg(Ecosystem::Go, module, "v1.4.1"));
    none(&db, pkg(Ecosystem::Go, module, "v1.4.2"));
}

#[test]
fn go_overlapping_ranges_report_the_fix_that_leaves_them_all() {
    let (_d, db) = db_with(&["Go/GO-2025-3540.json"]);
    let module = "github.com/redis/go-redis/v9";
    let m = one(&db, pkg(Ecosystem::Go, module, "v9.5.2"));
    assert_eq!(m.fixed.as_deref(), Some("9.6.3"));
    let m = one(&db, pkg(Ecosystem::Go, module, "v9.7.0-beta.2"));
    assert_eq!(m.fixed.as_deref(), Some("9.7.3"));
    none(&db, pkg(Ecosystem::Go, module, "v9.6.3"));
    none(&db, pkg(Ecosystem::Go, module, "v9.7.3"));
    // No fixed version for the old module path.
    let m = one(
        &db,
        pkg(
            Ecosystem::Go,
            "github.com/redis/go-redis",
            "v6.15.9+incompatible",
        ),
    );
    assert_eq!(m.fixed, None);
}

#[test]
fn go_incompatible_and_stdlib() {
    let (_d, db) = db_with(&["Go/GO-2021-0072.json", "Go/GO-2023-2185.json"]);
    let module = "github.com/docker/distribution";
    let m = one(&db, pkg(Ecosystem::Go, module, "v2.6.2+incompatible"));
    assert_eq!(m.fixed.as_deref(), Some("2.7.0-rc.0+incompatible"));
    none(&db, pkg(Ecosystem::Go, module, "v2.7.0-rc.0+incompatible"));
    none(&db, pkg(Ecosystem::Go, module, "v2.7.0+incompatible"));
    // The standard library, by toolchain version, over two affected entries.
    let m = one(&db, pkg(Ecosystem::Go, "stdlib", "1.20.10"));
    assert_eq!(m.fixed.as_deref(), Some("1.20.11"));
    let m = one(&db, pkg(Ecosystem::Go, "stdlib", "1.20.11"));
    assert_eq!(m.fixed.as_deref(), Some("1.20.12"));
    let m = one(&db, pkg(Ecosystem::Go, "stdlib", "go1.21.4"));
    assert_eq!(m.fixed.as_deref(), Some("1.21.5"));
    one(&db, pkg(Ecosystem::Go, "stdlib", "go1.21rc2"));
    none(&db, pkg(Ecosystem::Go, "stdlib", "1.20.12"));
    none(&db, pkg(Ecosystem::Go, "stdlib", "go1.21.5"));
}

// ---------- hand-written records ----------

#[test]
fn npm_alias_records_merge_under_the_ghsa_id() {
    let (_d, db) = fixture_db();
    let m = one(&db, pkg(Ecosystem::Npm, "lodash", "4.17.20"));
    assert_eq!(m.id, "GHSA-35jh-r3h4-6jhm");
    assert_eq!(m.aliases, ["CVE-2021-23337"]);
    assert_eq!(m.summary, "Command Injection in lodash");
    // CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H = 7.2
    assert_eq!(m.severity, Some(Severity::High));
    assert_eq!(m.fixed.as_deref(), Some("4.17.21"));
    assert_eq!(
        m.references,
        [
            "https://nvd.nist.gov/vuln/detail/CVE-2021-23337",
            "https://github.com/lodash/lodash",
            "https://github.com/lodash/lodash/commit/3469357cff396a26c363f8c1b5a91dde28ba4b1c"
        ]
    );
    // npm's tolerated prefixes.
    assert_eq!(
        ids(&db, pkg(Ecosystem::Npm, "lodash", "v4.17.20")),
        ["GHSA-35jh-r3h4-6jhm"]
    );
    none(&db, pkg(Ecosystem::Npm, "lodash", "4.17.21"));
    none(&db, pkg(Ecosystem::Npm, "lodash-es", "4.17.20"));
}

#[test]
fn npm_scoped_package_with_pre_release_ranges() {
    let (_d, db) = fixture_db();
    let name = "@babel/traverse";
    let m = one(&db, pkg(Ecosystem::Npm, name, "7.23.1"));
    assert_eq!(m.fixed.as_deref(), Some("7.23.2"));
    none(&db, pkg(Ecosystem::Npm, name, "7.23.2"));
    none(&db, pkg(Ecosystem::Npm, name, "8.0.0-0"));
    let m = one(&db, pkg(Ecosystem::Npm, name, "8.0.0-alpha.3"));
    assert_eq!(m.fixed.as_deref(), Some("8.0.0-alpha.4"));
    none(&db, pkg(Ecosystem::Npm, name, "8.0.0-alpha.4"));
    none(&db, pkg(Ecosystem::Npm, name, "8.0.0"));
}

#[test]
fn maven_log4shell_boundaries() {
    let (_d, db) = fixture_db();
    let core = "org.apache.logging.log4j:log4j-core";
    let fixed = |v: &str| one(&db, pkg(Ecosystem::Maven, core, v)).fixed;
    assert_eq!(fixed("2.14.1").as_deref(), Some("2.15.0"));
    assert_eq!(fixed("2.0-beta9").as_deref(), Some("2.3.1"));
    assert_eq!(fixed("2.0-rc1").as_deref(), Some("2.3.1"));
    assert_eq!(fixed("2.0").as_deref(), Some("2.3.1"));
    assert_eq!(fixed("2.4").as_deref(), Some("2.12.2"));
    assert_eq!(fixed("2.12.1").as_deref(), Some("2.12.2"));
    assert_eq!(fixed("2.13.0").as_deref(), Some("2.15.0"));
    for v in [
        "2.0-beta8",
        "2.0-alpha1",
        "2.3.1",
        "2.3.2",
        "2.12.2",
        "2.12.4",
        "2.15.0",
        "2.17.1",
    ] {
        none(&db, pkg(Ecosystem::Maven, core, v));
    }
    let m = one(&db, pkg(Ecosystem::Maven, core, "2.14.1"));
    assert_eq!(m.id, "GHSA-jfh8-c2jp-5v3q");
    assert_eq!(m.severity, Some(Severity::Critical));
    // The second affected package of the record.
    let m = one(
        &db,
        pkg(
            Ecosystem::Maven,
            "org.ops4j.pax.logging:pax-logging-log4j2",
            "1.11.9",
        ),
    );
    assert_eq!(m.fixed.as_deref(), Some("1.11.10"));
    none(
        &db,
        pkg(
            Ecosystem::Maven,
            "org.ops4j.pax.logging:pax-logging-log4j2",
            "1.10.0",
        ),
    );
}

#[test]
fn nuget_names_are_case_insensitive_and_v4_uses_the_database_severity() {
    let (_d, db) = fixture_db();
    let m = one(&db, pkg(Ecosystem::NuGet, "newtonsoft.json", "12.0.3"));
    assert_eq!(m.id, "GHSA-5crp-9r3c-p9vr");
    assert_eq!(m.severity, Some(Severity::High));
    assert!(m.cvss.as_deref().unwrap().starts_with("CVSS:4.0/"));
    assert_eq!(m.fixed.as_deref(), Some("13.0.1"));
    one(
        &db,
        pkg(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1-beta1"),
    );
    none(&db, pkg(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1"));
    none(&db, pkg(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.3"));
}

#[test]
fn rubygems_four_part_fixes() {
    let (_d, db) = fixture_db();
    let fixed = |v: &str| one(&db, pkg(Ecosystem::RubyGems, "rack", v)).fixed;
    assert_eq!(fixed("2.0.9").as_deref(), Some("2.0.9.1"));
    assert_eq!(fixed("2.1.0").as_deref(), Some("2.1.4.1"));
    assert_eq!(fixed("2.1.4").as_deref(), Some("2.1.4.1"));
    assert_eq!(fixed("2.2.3").as_deref(), Some("2.2.3.1"));
    // A pre-release of 2.2.0 is after 2.1.4.1 and before 2.2.0.
    for v in ["2.0.9.1", "2.1.4.1", "2.2.0.rc1", "2.2.3.1", "3.0.0"] {
        none(&db, pkg(Ecosystem::RubyGems, "rack", v));
    }
}

#[test]
fn debian_source_packages_and_releases() {
    let (_d, db) = fixture_db();
    let bookworm = "arch=amd64&distro=debian-12&upstream=openssl";
    let m = one(
        &db,
        distro_pkg(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u1", bookworm),
    );
    assert_eq!(m.id, "DSA-5532-1");
    assert_eq!(m.fixed.as_deref(), Some("3.0.11-1~deb12u2"));
    none(
        &db,
        distro_pkg(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u2", bookworm),
    );
    // The binary package's own name is not in the record.
    none(&db, pkg(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u1"));
    let m = one(
        &db,
        distro_pkg(
            Ecosystem::Debian,
            "openssl",
            "1.1.1n-0+deb11u5",
            "distro=debian-11",
        ),
    );
    assert_eq!(m.fixed.as_deref(), Some("1.1.1w-0+deb11u1"));
    none(
        &db,
        distro_pkg(
            Ecosystem::Debian,
            "openssl",
            "1.1.1w-0+deb11u1",
            "distro=bullseye",
        ),
    );
    // Without the release, every release's ranges apply (here: Debian 12's).
    let m = one(&db, pkg(Ecosystem::Debian, "openssl", "1.1.1w-0+deb11u1"));
    assert_eq!(m.fixed.as_deref(), Some("3.0.11-1~deb12u2"));
}

#[test]
fn alpine_origins_releases_and_suffixes() {
    let (_d, db) = fixture_db();
    let m = one(
        &db,
        distro_pkg(
            Ecosystem::Alpine,
            "openssl",
            "3.1.3-r0",
            "distro=alpine-3.18.4",
        ),
    );
    assert_eq!(m.id, "ALPINE-CVE-2023-5363");
    assert_eq!(m.fixed.as_deref(), Some("3.1.4-r0"));
    assert!(m.summary.starts_with("Issue summary:"));
    none(
        &db,
        distro_pkg(
            Ecosystem::Alpine,
            "openssl",
            "3.1.4-r0",
            "distro=alpine-3.18.4",
        ),
    );
    let m = one(
        &db,
        distro_pkg(
            Ecosystem::Alpine,
            "libcrypto3",
            "3.0.11-r0",
            "distro=alpine-3.17.5&upstream=openssl",
        ),
    );
    assert_eq!(m.fixed.as_deref(), Some("3.0.12-r0"));
    none(
        &db,
        distro_pkg(
            Ecosystem::Alpine,
            "libcrypto3",
            "3.0.12-r0",
            "distro=alpine-3.17.5&upstream=openssl",
        ),
    );
    // `_p2` is after the release, `-r5` only a rebuild of it.
    let m = one(
        &db,
        distro_pkg(
            Ecosystem::Alpine,
            "busybox",
            "1.36.1-r5",
            "distro=alpine-3.18",
        ),
    );
    assert_eq!(m.fixed.as_deref(), Some("1.36.1_p2-r0"));
    none(
        &db,
        distro_pkg(
            Ecosystem::Alpine,
            "busybox",
            "1.36.1_p2-r0",
            "distro=alpine-3.18",
        ),
    );
}

#[test]
fn packagist_composer_versions() {
    let (_d, db) = fixture_db();
    let m = one(&db, pkg(Ecosystem::Packagist, "GuzzleHttp/Guzzle", "7.4.2"));
    assert_eq!(m.id, "GHSA-cwmx-hcrq-mhc3");
    assert_eq!(m.fixed.as_deref(), Some("7.4.3"));
    // CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N = 5.9
    assert_eq!(m.severity, Some(Severity::Medium));
    one(
        &db,
        pkg(Ecosystem::Packagist, "guzzlehttp/guzzle", "v7.4.2"),
    );
    let m = one(&db, pkg(Ecosystem::Packagist, "guzzlehttp/guzzle", "6.5.5"));
    assert_eq!(m.fixed.as_deref(), Some("6.5.6"));
    for v in ["7.4.3", "7.0.0-beta.1", "6.5.6", "dev-master"] {
        none(&db, pkg(Ecosystem::Packagist, "guzzlehttp/guzzle", v));
    }
}

#[test]
fn rpm_epochs_and_source_rpms() {
    let (_d, db) = fixture_db();
    let q = "distro=rocky-9.3&upstream=openssl-3.0.7-24.el9.src.rpm";
    let m = one(
        &db,
        distro_pkg(Ecosystem::Rpm, "openssl-libs", "1:3.0.7-24.el9", q),
    );
    assert_eq!(m.id, "RLSA-2023:7877");
    assert_eq!(m.fixed.as_deref(), Some("1:3.0.7-25.el9_3"));
    // No vector: the database's own severity word.
    assert_eq!(m.severity, Some(Severity::Medium));
    assert_eq!(m.cvss, None);
    none(
        &db,
        distro_pkg(Ecosystem::Rpm, "openssl-libs", "1:3.0.7-25.el9_3", q),
    );
    // Epoch 0 is older than any version of epoch 1.
    one(
        &db,
        distro_pkg(Ecosystem::Rpm, "openssl-libs", "3.0.7-27.el9", q),
    );
}

#[test]
fn newer_records_replace_older_ones_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("osv.sqlite")).unwrap();
    let record = |modified: &str, fixed: &str| {
        format!(
            r#"{{"id": "GHSA-test-0001", "modified": "{modified}", "summary": "fixed in {fixed}",
                "affected": [{{"package": {{"ecosystem": "npm", "name": "left-pad"}},
                  "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#
        )
    };
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let v1 = write("v1.json", record("2024-01-01T00:00:00Z", "1.1.0"));
    let s = db.import(&v1, now()).unwrap();
    assert_eq!((s.added, s.replaced, s.unchanged), (1, 0, 0));
    assert_eq!(
        one(&db, pkg(Ecosystem::Npm, "left-pad", "1.0.0"))
            .fixed
            .as_deref(),
        Some("1.1.0")
    );
    // Newer (by a fraction of a second): replaces, and its ranges replace the old ones.
    let v2 = write("v2.json", record("2024-01-01T00:00:00.5Z", "1.0.0"));
    let s = db.import(&v2, now()).unwrap();
    assert_eq!((s.added, s.replaced, s.unchanged), (0, 1, 0));
    none(&db, pkg(Ecosystem::Npm, "left-pad", "1.0.0"));
    assert_eq!(
        one(&db, pkg(Ecosystem::Npm, "left-pad", "0.9.0")).summary,
        "fixed in 1.0.0"
    );
    // Older: ignored.
    let s = db.import(&v1, now()).unwrap();
    assert_eq!((s.added, s.replaced, s.unchanged), (0, 0, 1));
    none(&db, pkg(Ecosystem::Npm, "left-pad", "1.0.0"));
    assert_eq!(
        db.advisory("GHSA-test-0001").unwrap().unwrap().modified,
        "2024-01-01T00:00:00.5Z"
    );
    // Broken files are reported, not stored.
    let bad = write(
        "bad.json",
        r#"{"id": "X", "modified": "yesterday"}"#.to_owned(),
    );
    let s = db.import(&bad, now()).unwrap();
    assert_eq!(s.records, 0);
    assert_eq!(s.errors.len(), 1);
    assert!(s.errors[0].message.contains("modified"), "{:?}", s.errors);
    assert!(matches!(
        db.import(&dir.path().join("osv.sqlite"), now()),
        Err(OsvError::Source(_))
    ));
}

// ---------- archives and downloads ----------

/// A zip of the hand-written records, as osv.dev lays out `all.zip` (records at the root), plus
/// one broken entry and one that is not a record.
fn fixtures_zip() -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for eco in ["npm", "Maven"] {
        for entry in std::fs::read_dir(fixtures().join(eco)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            zip.start_file(name, options).unwrap();
            zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
        }
    }
    zip.start_file("broken.json", options).unwrap();
    zip.write_all(b"{ not json").unwrap();
    zip.start_file("README.txt", options).unwrap();
    zip.write_all(b"not a record").unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn imports_a_zip_archive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("all.zip");
    std::fs::write(&archive, fixtures_zip()).unwrap();
    let db = Db::open(&dir.path().join("osv.sqlite")).unwrap();
    let s = db.import(&archive, now()).unwrap();
    assert_eq!((s.records, s.added), (4, 4));
    assert_eq!(s.errors.len(), 1);
    assert_eq!(s.errors[0].file, "broken.json");
    assert_eq!(
        ids(&db, pkg(Ecosystem::Npm, "lodash", "4.17.20")),
        ["GHSA-35jh-r3h4-6jhm"]
    );
    one(
        &db,
        pkg(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
        ),
    );
    let status = db.status().unwrap();
    let per: Vec<(&str, u64)> = status
        .ecosystems
        .iter()
        .map(|e| (e.ecosystem.as_str(), e.advisories))
        .collect();
    assert_eq!(per, [("Maven", 1), ("npm", 3)]);
    assert_eq!(status.sources[0].source, archive.display().to_string());
    assert_eq!(status.sources[0].errors, 1);
}

/// Serves `GET /npm/all.zip` on 127.0.0.1 (404 for anything else), for `connections`
/// connections, with a hand-written HTTP/1.1 responder.
fn serve(zip: Vec<u8>, connections: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut paths = Vec::new();
        for _ in 0..connections {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header == "\r\n" || header.is_empty() {
                    break;
                }
            }
            let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
            let mut stream = stream;
            if request_line.starts_with("GET ") && path == "/npm/all.zip" {
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    zip.len()
                )
                .unwrap();
                stream.write_all(&zip).unwrap();
            } else {
                stream
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .unwrap();
            }
            stream.flush().unwrap();
            paths.push(path);
        }
        paths
    });
    (base, handle)
}

#[test]
fn update_downloads_and_imports_archives() {
    let (base, server) = serve(fixtures_zip(), 2);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("osv.sqlite")).unwrap();
    let summaries = update(&db, &format!("{base}/"), &["npm"], now())
        .unwrap()
        .imports;
    assert_eq!(summaries.len(), 1);
    let url = format!("{base}/npm/all.zip");
    assert_eq!(summaries[0].source, url);
    assert_eq!(summaries[0].added, 4);
    assert_eq!(
        ids(&db, pkg(Ecosystem::Npm, "lodash", "4.17.20")),
        ["GHSA-35jh-r3h4-6jhm"]
    );
    let status = db.status().unwrap();
    assert_eq!(status.sources[0].source, url);
    assert_eq!(status.sources[0].imported_at, now());
    // An archive the server does not have is an error naming the URL.
    let err = update(&db, &base, &["Red Hat"], now()).unwrap_err();
    match err {
        OsvError::Http { url, .. } => assert_eq!(url, format!("{base}/Red%20Hat/all.zip")),
        other => panic!("{other}"),
    }
    assert_eq!(
        server.join().unwrap(),
        ["/npm/all.zip", "/Red%20Hat/all.zip"]
    );
}

#[test]
fn in_memory_matching_agrees_with_the_database() {
    let text = std::fs::read(fixtures().join("Maven/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    let advisory = evident_deps::osv::Advisory::from_json(&text).unwrap();
    let packages = [
        pkg(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
        ),
        pkg(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.17.1",
        ),
        pkg(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-api",
            "2.14.1",
        ),
    ];
    let found = evident_deps::osv::match_advisories(&packages, &[advisory]);
    let got: Vec<(usize, &str, Option<&str>)> = found
        .iter()
        .map(|m| (m.package, m.id.as_str(), m.fixed.as_deref()))
        .collect();
    assert_eq!(got, [(0, "GHSA-jfh8-c2jp-5v3q", Some("2.15.0"))]);
}
