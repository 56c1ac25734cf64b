//! OS packages in images: docker-archive and OCI layout tarballs built here with the `tar`
//! crate, root filesystem directories, and the database parsers under arbitrary input.

use std::io::Write;
use std::path::Path;

use evident_deps::Ecosystem;
use evident_deps::image::{
    ImageError, ImageInventory, ScanOptions, apk, dpkg, osrelease, rpm, scan_image, scan_image_with,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const STATUS_BASE: &[u8] = include_bytes!("fixtures/image/dpkg-status-base");
const STATUS_UPGRADED: &[u8] = include_bytes!("fixtures/image/dpkg-status-upgraded");
const APK_INSTALLED: &[u8] = include_bytes!("fixtures/image/apk-installed");
const OS_DEBIAN: &[u8] = include_bytes!("fixtures/image/os-release-debian");
const OS_ALPINE: &[u8] = include_bytes!("fixtures/image/os-release-alpine");
const OS_ROCKY: &[u8] = include_bytes!("fixtures/image/os-release-rocky");

/// One tar entry.
enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

/// A tarball of the entries, names written as given (no validation, so `..` can be tested).
fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data): (&str, &[u8]) = match e {
            E::File(p, d) => {
                h.set_entry_type(tar::EntryType::Regular);
                (*p, *d)
            }
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                (*p, &[])
            }
            E::Sym(p, t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_link_name_literal(t).unwrap();
                (*p, &[])
            }
            E::Hard(p, t) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_link_name_literal(t).unwrap();
                (*p, &[])
            }
        };
        let field = &mut h.as_old_mut().name;
        assert!(name.len() < field.len());
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// (ecosystem, name, version, file) of every package.
fn summary(inv: &ImageInventory) -> Vec<(Ecosystem, String, String, String)> {
    inv.packages
        .iter()
        .map(|p| {
            (
                p.ecosystem,
                p.name.clone(),
                p.version.clone(),
                p.source.clone(),
            )
        })
        .collect()
}

fn row(
    eco: Ecosystem,
    name: &str,
    version: &str,
    file: &str,
) -> (Ecosystem, String, String, String) {
    (eco, name.into(), version.into(), file.into())
}

/// (name, version) as OSV matching sees them.
fn osv(inv: &ImageInventory) -> Vec<(String, String)> {
    inv.osv_packages()
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn docker_archive_with_whiteouts_and_opaque_dirs() {
    let layer1 = tar(&[
        E::Dir("etc/"),
        E::Dir("usr/lib/"),
        E::File("usr/lib/os-release", OS_DEBIAN),
        E::Sym("etc/os-release", "../usr/lib/os-release"),
        E::Dir("var/lib/dpkg/"),
        E::File("var/lib/dpkg/status", STATUS_BASE),
        E::Dir("var/lib/dpkg/status.d/"),
        E::File(
            "var/lib/dpkg/status.d/stale",
            b"Package: stale\nVersion: 1\n",
        ),
        E::File("var/lib/rpm/Packages", b"\0\0\0\0berkeley"),
        E::File("usr/bin/curl", b"\x7fELF"),
    ]);
    // apt-get upgrade + remove: a new dpkg directory hides everything below it.
    let layer2 = gzip(&tar(&[
        E::Dir("var/lib/dpkg/"),
        E::File("var/lib/dpkg/.wh..wh..opq", b""),
        E::File("var/lib/dpkg/status", STATUS_UPGRADED),
        E::File("var/lib/rpm/.wh.Packages", b""),
        E::File("usr/bin/.wh.curl", b""),
    ]));
    let layer3 = tar(&[
        E::Dir("lib/apk/db/"),
        E::File("lib/apk/db/installed", APK_INSTALLED),
    ]);
    let manifest = br#"[{"Config":"cfg.json","RepoTags":["example:1"],
        "Layers":["l1/layer.tar","l2/layer.tar","l3/layer.tar"]}]"#;
    // `docker save` de-duplicates layers with symlinks; l3 is one.
    let outer = tar(&[
        E::File("cfg.json", b"{}"),
        E::File("l1/layer.tar", &layer1),
        E::File("l2/layer.tar", &layer2),
        E::File("shared/layer.tar", &layer3),
        E::Sym("l3/layer.tar", "../shared/layer.tar"),
        E::File("manifest.json", manifest),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "image.tar", &outer);
    let inv = scan_image(&path).unwrap();

    assert_eq!(inv.layers, 3);
    let os = inv.os.clone().unwrap();
    assert_eq!(
        (
            os.id.as_str(),
            os.version_id.as_deref(),
            os.pretty_name.as_deref()
        ),
        ("debian", Some("12"), Some("Debian GNU/Linux 12 (bookworm)"))
    );
    assert_eq!(inv.osv_ecosystem().as_deref(), Some("Debian:12"));
    let status = "var/lib/dpkg/status";
    let apk_db = "lib/apk/db/installed";
    assert_eq!(
        summary(&inv),
        [
            row(Ecosystem::Debian, "base-files", "12.4+deb12u5", status),
            row(Ecosystem::Debian, "libssl3", "3.0.13-1~deb12u1", status),
            row(Ecosystem::Debian, "zlib1g", "1:1.2.13.dfsg-1+b1", status),
            row(Ecosystem::Alpine, "musl", "1.2.4_git20230717-r4", apk_db),
            row(Ecosystem::Alpine, "libcrypto3", "3.1.4-r5", apk_db),
            row(Ecosystem::Alpine, "libssl3", "3.1.4-r5", apk_db),
        ]
    );
    assert_eq!(
        inv.packages[2].purl,
        "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1%2Bb1?arch=amd64&distro=debian-12"
    );
    assert_eq!(inv.packages[4].licenses, ["Apache-2.0"]);
    assert_eq!(
        osv(&inv),
        pairs(&[
            ("base-files", "12.4+deb12u5"),
            ("openssl", "3.0.13-1~deb12u1"),
            ("zlib", "1:1.2.13.dfsg-1"),
            ("musl", "1.2.4_git20230717-r4"),
            ("openssl", "3.1.4-r5"),
        ])
    );
    assert_eq!(inv.notes, Vec::<String>::new());
}

/// Builds an rpmdb.sqlite with the given header blobs.
fn rpmdb(blobs: &[Vec<u8>]) -> Vec<u8> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rpmdb.sqlite");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        for blob in blobs {
            sqlx::query("INSERT INTO Packages (blob) VALUES (?)")
                .bind(blob.clone())
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    });
    std::fs::read(&file).unwrap()
}

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const LICENSE: u32 = 1014;
const ARCH: u32 = 1022;
const SOURCERPM: u32 = 1044;
const STRING: u32 = 6;
const INT32: u32 = 4;
const BIN: u32 = 7;

/// An rpm header blob: index entries (tag, type, offset, count), then the data store. Starts
/// with a region tag as rpm writes it.
fn header(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    let mut all = vec![(63u32, BIN, vec![0u8; 16])];
    all.extend(entries.iter().cloned());
    for (tag, ty, value) in &all {
        if *ty == INT32 {
            while data.len() % 4 != 0 {
                data.push(0);
            }
        }
        for v in [*tag, *ty, data.len() as u32, 1] {
            index.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(value);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(all.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(data);
    out
}

fn s(v: &str) -> Vec<u8> {
    let mut b = v.as_bytes().to_vec();
    b.push(0);
    b
}

fn rpm_package(
    name: &str,
    version: &str,
    release: &str,
    epoch: Option<u32>,
    srpm: &str,
) -> Vec<u8> {
    let mut e = vec![
        (NAME, STRING, s(name)),
        (VERSION, STRING, s(version)),
        (RELEASE, STRING, s(release)),
        (ARCH, STRING, s("x86_64")),
        (LICENSE, STRING, s("GPLv3+")),
        (SOURCERPM, STRING, s(srpm)),
    ];
    if let Some(epoch) = epoch {
        e.push((EPOCH, INT32, epoch.to_be_bytes().to_vec()));
    }
    header(&e)
}

#[test]
fn oci_layout_gzip_index_manifest_and_rpmdb() {
    let mut truncated = rpm_package("broken", "1", "1", None, "broken-1-1.src.rpm");
    truncated.truncate(40);
    let db = rpmdb(&[
        rpm_package(
            "openssl-libs",
            "3.0.7",
            "25.el9_3",
            Some(1),
            "openssl-3.0.7-25.el9_3.src.rpm",
        ),
        rpm_package(
            "bash",
            "5.1.8",
            "6.el9_1",
            Some(0),
            "bash-5.1.8-6.el9_1.src.rpm",
        ),
        header(&[
            (NAME, STRING, s("gpg-pubkey")),
            (VERSION, STRING, s("350d275d")),
            (RELEASE, STRING, s("6279464b")),
        ]),
        truncated,
    ]);
    let os_94 = String::from_utf8_lossy(OS_ROCKY).replace("9.3", "9.4");
    let layer1 = gzip(&tar(&[
        E::File("usr/lib/os-release", OS_ROCKY),
        E::Sym("etc/os-release", "../usr/lib/os-release"),
        E::File("usr/lib/sysimage/rpm/rpmdb.sqlite", &db),
        E::Sym("var/lib/rpm", "../../usr/lib/sysimage/rpm"),
    ]));
    // The next layer updates os-release: the file and a hard link to it.
    let layer2 = gzip(&tar(&[
        E::File("usr/lib/os-release", os_94.as_bytes()),
        E::Hard("etc/os-release", "usr/lib/os-release"),
    ]));
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},
        "layers":[
          {{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{}","size":{}}},
          {{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{}","size":{}}}]}}"#,
        sha(config),
        config.len(),
        sha(&layer1),
        layer1.len(),
        sha(&layer2),
        layer2.len()
    );
    // An arm64 manifest whose layer is not in the archive: never followed.
    let missing = "0".repeat(64);
    let arm = format!(
        r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{missing}","size":1}}]}}"#
    );
    let image_index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
          {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":{},"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
          {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":{},"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
        sha(arm.as_bytes()),
        arm.len(),
        sha(manifest.as_bytes()),
        manifest.len()
    );
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{}","size":{}}}]}}"#,
        sha(image_index.as_bytes()),
        image_index.len()
    );
    let blob = |b: &[u8]| format!("blobs/sha256/{}", sha(b));
    let (n1, n2, n3, n4, n5, n6) = (
        blob(&layer1),
        blob(&layer2),
        blob(config),
        blob(manifest.as_bytes()),
        blob(arm.as_bytes()),
        blob(image_index.as_bytes()),
    );
    let outer = tar(&[
        E::File("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        E::Dir("blobs/sha256/"),
        E::File(&n1, &layer1),
        E::File(&n2, &layer2),
        E::File(&n3, config),
        E::File(&n4, manifest.as_bytes()),
        E::File(&n5, arm.as_bytes()),
        E::File(&n6, image_index.as_bytes()),
        E::File("index.json", index.as_bytes()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "image.tar.gz", &gzip(&outer));
    let inv = scan_image(&path).unwrap();

    assert_eq!(inv.layers, 2);
    let os = inv.os.clone().unwrap();
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("rocky", Some("9.4"))
    );
    assert_eq!(inv.osv_ecosystem().as_deref(), Some("Rocky Linux:9"));
    // var/lib/rpm links to usr/lib/sysimage/rpm: one database, read once.
    let db_path = "usr/lib/sysimage/rpm/rpmdb.sqlite";
    assert_eq!(
        summary(&inv),
        [
            row(Ecosystem::Rpm, "openssl-libs", "1:3.0.7-25.el9_3", db_path),
            row(Ecosystem::Rpm, "bash", "5.1.8-6.el9_1", db_path),
        ]
    );
    assert_eq!(
        inv.packages[0].purl,
        "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3?arch=x86_64&distro=rocky-9.4&epoch=1"
    );
    assert_eq!(inv.packages[0].licenses, ["GPLv3+"]);
    assert_eq!(
        (
            inv.sources[0].name.as_str(),
            inv.sources[0].version.as_str()
        ),
        ("openssl", "1:3.0.7-25.el9_3")
    );
    assert_eq!(
        osv(&inv),
        pairs(&[
            ("openssl-libs", "1:3.0.7-25.el9_3"),
            ("bash", "5.1.8-6.el9_1")
        ])
    );
    assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
    assert!(
        inv.notes[0].starts_with("usr/lib/sysimage/rpm/rpmdb.sqlite: package 4: "),
        "{:?}",
        inv.notes
    );

    // The same layout as a directory.
    let layout = dir.path().join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    let mut ar = tar::Archive::new(outer.as_slice());
    ar.unpack(&layout).unwrap();
    let from_dir = scan_image(&layout).unwrap();
    assert_eq!(summary(&from_dir), summary(&inv));
    assert_eq!(from_dir.layers, 2);

    // A layer blob that does not match its digest is refused.
    let mut tampered = layer1.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let outer = tar(&[
        E::File(&n1, &tampered),
        E::File(&n2, &layer2),
        E::File(&n4, manifest.as_bytes()),
        E::File(&n6, image_index.as_bytes()),
        E::File("index.json", index.as_bytes()),
    ]);
    let path = write(dir.path(), "tampered.tar", &outer);
    let err = scan_image(&path).unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&n1), "{err}");
}

#[cfg(unix)]
#[test]
fn root_filesystem_directory() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in [
        "etc",
        "usr/lib",
        "lib/apk/db",
        "var/lib/rpm",
        "var/lib/dpkg",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    write(root, "usr/lib/os-release", OS_ALPINE);
    // Absolute links resolve inside the root, never on the host.
    symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
    symlink(
        "../../../../../../../../etc/passwd",
        root.join("var/lib/dpkg/status"),
    )
    .unwrap();
    write(root, "lib/apk/db/installed", APK_INSTALLED);
    write(root, "var/lib/rpm/Packages", b"\0\0\0\0berkeley");

    let inv = scan_image(root).unwrap();
    assert_eq!(inv.layers, 0);
    assert_eq!(inv.os.as_ref().unwrap().id, "alpine");
    assert_eq!(inv.osv_ecosystem().as_deref(), Some("Alpine:v3.19"));
    assert_eq!(
        summary(&inv)
            .iter()
            .map(|r| (r.0, r.1.as_str(), r.2.as_str()))
            .collect::<Vec<_>>(),
        [
            (Ecosystem::Alpine, "musl", "1.2.4_git20230717-r4"),
            (Ecosystem::Alpine, "libcrypto3", "3.1.4-r5"),
            (Ecosystem::Alpine, "libssl3", "3.1.4-r5"),
        ]
    );
    assert_eq!(
        inv.packages[1].purl,
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1"
    );
    assert_eq!(
        inv.notes,
        [
            "var/lib/rpm/Packages: an rpm database in BerkeleyDB format, which evident does not \
          read; the image's rpm packages are not listed"
        ]
    );

    // Limits: a database larger than allowed is named, not read.
    let opts = ScanOptions {
        max_file_bytes: 64,
        ..ScanOptions::default()
    };
    let small = scan_image_with(root, &opts).unwrap();
    assert!(small.packages.is_empty());
    assert!(
        small
            .notes
            .iter()
            .any(|n| n == "lib/apk/db/installed: not read: larger than the limit of 64 bytes"),
        "{:?}",
        small.notes
    );
}

#[test]
fn distroless_status_d() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("var/lib/dpkg/status.d")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    write(root, "etc/os-release", OS_DEBIAN);
    write(
        root,
        "var/lib/dpkg/status.d/base",
        b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
    );
    write(
        root,
        "var/lib/dpkg/status.d/libssl3",
        b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl\nArchitecture: amd64\n",
    );
    write(
        root,
        "var/lib/dpkg/status.d/libssl3.md5sums",
        b"abc  usr/lib/x\n",
    );
    let inv = scan_image(root).unwrap();
    assert_eq!(
        summary(&inv),
        [
            row(
                Ecosystem::Debian,
                "base-files",
                "12.4+deb12u5",
                "var/lib/dpkg/status.d/base"
            ),
            row(
                Ecosystem::Debian,
                "libssl3",
                "3.0.11-1~deb12u2",
                "var/lib/dpkg/status.d/libssl3"
            ),
        ]
    );
    assert_eq!(
        osv(&inv),
        pairs(&[
            ("base-files", "12.4+deb12u5"),
            ("openssl", "3.0.11-1~deb12u2")
        ])
    );
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
}

#[test]
fn hostile_or_broken_rpmdb_is_a_note() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/rpm")).unwrap();
    // A view that would generate rows without end.
    let db = root.join("var/lib/rpm/rpmdb.sqlite");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT x AS hnum, zeroblob(1000) AS blob FROM c",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    });
    let inv = scan_image(&root).unwrap();
    assert!(inv.packages.is_empty());
    assert!(
        inv.notes
            .iter()
            .any(|n| n == "var/lib/rpm/rpmdb.sqlite: not read: `Packages` is a view, not a table"),
        "{:?}",
        inv.notes
    );

    std::fs::write(&db, b"this is not SQLite at all").unwrap();
    let inv = scan_image(&root).unwrap();
    assert!(
        inv.notes
            .iter()
            .any(|n| n.starts_with("var/lib/rpm/rpmdb.sqlite: not read: not an SQLite database")),
        "{:?}",
        inv.notes
    );
}

fn docker_archive(layers: &[&[u8]]) -> Vec<u8> {
    let names: Vec<String> = (0..layers.len())
        .map(|i| format!("l{i}/layer.tar"))
        .collect();
    let manifest = serde_json::json!([{ "Layers": names }]).to_string();
    let mut entries: Vec<E<'_>> = names
        .iter()
        .zip(layers)
        .map(|(n, l)| E::File(n, l))
        .collect();
    entries.push(E::File("manifest.json", manifest.as_bytes()));
    tar(&entries)
}

#[test]
fn traversal_and_limits_in_layers() {
    let layer = tar(&[
        E::File("../../../etc/os-release", b"ID=evil\n"),
        E::File("etc/../../os-release", b"ID=evil\n"),
        E::Hard("etc/os-release", "../../etc/shadow"),
        E::File("var/lib/dpkg/status", STATUS_BASE),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "img.tar", &docker_archive(&[&layer]));
    let inv = scan_image(&path).unwrap();
    assert!(inv.os.is_none());
    assert_eq!(inv.packages.len(), 3);
    assert_eq!(
        inv.notes,
        [
            "layer l0/layer.tar: 3 entries with `..` in their path or link were refused",
            "no os-release found (etc/os-release, usr/lib/os-release)",
        ]
    );

    let opts = ScanOptions {
        max_file_bytes: 100,
        ..ScanOptions::default()
    };
    let inv = scan_image_with(&path, &opts).unwrap();
    assert!(inv.packages.is_empty());
    assert!(
        inv.notes
            .contains(&"var/lib/dpkg/status: not read: larger than the per-file limit".to_owned()),
        "{:?}",
        inv.notes
    );

    let opts = ScanOptions {
        max_entries: 2,
        ..ScanOptions::default()
    };
    let err = scan_image_with(&path, &opts).unwrap_err();
    assert!(matches!(err, ImageError::Limit { limit: 2, .. }), "{err}");
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();

    let text = write(
        dir.path(),
        "notes.txt",
        &b"just some text, not a tarball\n".repeat(40),
    );
    let err = scan_image(&text).unwrap_err();
    assert!(matches!(err, ImageError::NotAnImage { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"), "{err}");

    let empty = write(dir.path(), "empty.tar", b"");
    assert!(matches!(
        scan_image(&empty).unwrap_err(),
        ImageError::NotAnImage { .. }
    ));

    let no_manifest = write(
        dir.path(),
        "plain.tar",
        &tar(&[E::File("hello.txt", b"hi")]),
    );
    let err = scan_image(&no_manifest).unwrap_err();
    assert!(matches!(err, ImageError::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("manifest.json"), "{err}");

    let missing_layer = tar(&[E::File(
        "manifest.json",
        br#"[{"Layers":["abc/layer.tar"]}]"#,
    )]);
    let path = write(dir.path(), "missing.tar", &missing_layer);
    let err = scan_image(&path).unwrap_err();
    assert!(matches!(err, ImageError::LayerNotFound { .. }), "{err}");
    assert!(err.to_string().contains("abc/layer.tar"), "{err}");

    let bad_json = tar(&[E::File("manifest.json", b"{not json")]);
    let path = write(dir.path(), "badjson.tar", &bad_json);
    let err = scan_image(&path).unwrap_err();
    assert!(matches!(err, ImageError::BadMetadata { .. }), "{err}");

    let traversal = tar(&[E::File(
        "manifest.json",
        br#"[{"Layers":["../../etc/passwd"]}]"#,
    )]);
    let path = write(dir.path(), "traversal.tar", &traversal);
    assert!(matches!(
        scan_image(&path).unwrap_err(),
        ImageError::BadMetadata { .. }
    ));

    let zstd_layer: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0];
    let path = write(dir.path(), "zstd.tar", &docker_archive(&[zstd_layer]));
    let err = scan_image(&path).unwrap_err();
    assert!(matches!(err, ImageError::Unsupported { .. }), "{err}");

    let garbage_layer = vec![0x55u8; 2048];
    let path = write(
        dir.path(),
        "garbage.tar",
        &docker_archive(&[&garbage_layer]),
    );
    let err = scan_image(&path).unwrap_err();
    assert!(matches!(err, ImageError::BadLayer { .. }), "{err}");
    assert!(err.to_string().contains("l0/layer.tar"), "{err}");

    let err = scan_image(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, ImageError::Io { .. }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = dpkg::parse_status(&bytes, "status", false);
        let _ = dpkg::parse_status(&bytes, "status.d/x", true);
        let _ = apk::parse_installed(&bytes, "installed");
        let _ = rpm::parse_header(&bytes);
        let _ = osrelease::parse(&bytes);
    }

    #[test]
    fn text_like_databases_never_panic(
        lines in proptest::collection::vec("[A-Za-z:() \t.-]{0,24}", 0..40)
    ) {
        let text = lines.join("\n");
        let _ = dpkg::parse_status(text.as_bytes(), "status", false);
        let _ = apk::parse_installed(text.as_bytes(), "installed");
    }

    #[test]
    fn mutated_rpm_headers_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut blob = rpm_package("openssl-libs", "3.0.7", "25.el9", Some(1), "openssl-3.0.7-25.el9.src.rpm");
        for (at, b) in edits {
            let i = at.index(blob.len());
            blob[i] = b;
        }
        let keep = cut.index(blob.len() + 1);
        let _ = rpm::parse_header(&blob);
        let _ = rpm::parse_header(&blob[..keep]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn arbitrary_layers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "img.tar", &docker_archive(&[&bytes]));
        let _ = scan_image(&path);
        let raw = write(dir.path(), "raw.tar", &bytes);
        let _ = scan_image(&raw);
    }
}
