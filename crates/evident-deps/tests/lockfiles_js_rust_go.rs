//! The Cargo, npm, yarn, pnpm, Go and Composer lockfile parsers against realistic fixtures:
//! exact package lists as snapshots, the tricky cases asserted one by one, discovery through
//! `lockfile::scan`, this workspace's own Cargo.lock, and no panic on arbitrary input.

use std::path::{Path, PathBuf};

use evident_deps::lockfile::{self, cargo, composer, gomod, npm, pnpm, yarn};
use evident_deps::{Ecosystem, Package, ParseError, Parsed};
use proptest::prelude::*;
use serde::Serialize;

type ParseFn = fn(&Path, &str) -> Result<Parsed, ParseError>;

/// (snapshot name, fixture folder, file parsed in it, parser).
const CASES: [(&str, &str, &str, ParseFn); 11] = [
    ("cargo_v4", "cargo", "Cargo.lock", cargo::parse),
    ("cargo_v1", "cargo", "v1/Cargo.lock", cargo::parse),
    ("npm_v3", "npm", "package-lock.json", npm::parse),
    ("npm_v1", "npm", "v1/npm-shrinkwrap.json", npm::parse),
    ("yarn_v1", "yarn", "v1/yarn.lock", yarn::parse),
    ("yarn_berry", "yarn", "berry/yarn.lock", yarn::parse),
    ("pnpm_v5", "pnpm", "v5/pnpm-lock.yaml", pnpm::parse),
    ("pnpm_v6", "pnpm", "v6/pnpm-lock.yaml", pnpm::parse),
    ("pnpm_v9", "pnpm", "v9/pnpm-lock.yaml", pnpm::parse),
    ("gomod", "go", "go.mod", gomod::parse),
    ("composer", "composer", "composer.lock", composer::parse),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles")
}

fn run(dir: &str, rel: &str, parse: ParseFn) -> Parsed {
    parse(&fixtures().join(dir), rel).unwrap_or_else(|e| panic!("{dir}/{rel}: {e}"))
}

#[derive(Serialize)]
struct View<'a> {
    packages: &'a [Package],
    notes: &'a [String],
}

#[test]
fn snapshots() {
    for (name, dir, rel, parse) in CASES {
        let parsed = run(dir, rel, parse);
        let mut settings = insta::Settings::clone_current();
        settings.set_sort_maps(true);
        settings.set_description(format!("{dir}/{rel}"));
        settings.bind(|| {
            insta::assert_json_snapshot!(
                name,
                View {
                    packages: &parsed.packages,
                    notes: &parsed.notes,
                }
            );
        });
    }
}

fn find<'a>(parsed: &'a Parsed, purl: &str) -> &'a Package {
    parsed
        .packages
        .iter()
        .find(|p| p.purl == purl)
        .unwrap_or_else(|| panic!("{purl} missing from {:#?}", parsed.packages))
}

fn purls(parsed: &Parsed) -> Vec<&str> {
    parsed.packages.iter().map(|p| p.purl.as_str()).collect()
}

fn no_package_named(parsed: &Parsed, name: &str) {
    assert!(
        parsed.packages.iter().all(|p| p.name != name),
        "{name} should not be a package"
    );
}

// ---------------------------------------------------------------------------------------------
// Cargo

#[test]
fn cargo_workspace_members_git_sources_and_ambiguous_edges() {
    let p = run("cargo", "Cargo.lock", cargo::parse);
    no_package_named(&p, "demo-app");
    no_package_named(&p, "demo-core");
    no_package_named(&p, "vendored-helper");
    assert!(p.notes[0].contains("demo-app 0.3.0") && p.notes[0].contains("vendored-helper"));
    // Two itoa versions stay apart; `itoa 1.0.10` in tiny-git's list picks the right one.
    find(&p, "pkg:cargo/itoa@0.4.8");
    let git = find(&p, "pkg:cargo/tiny-git@0.1.0");
    assert_eq!(git.dependencies, ["pkg:cargo/itoa@1.0.10"]);
    assert!(git.hashes.is_empty());
    let serde = find(&p, "pkg:cargo/serde@1.0.197");
    assert_eq!(serde.hashes.len(), 1);
    assert_eq!(serde.hashes[0].alg, "SHA-256");
    assert_eq!(serde.dependencies, ["pkg:cargo/serde_derive@1.0.197"]);
    assert!(
        p.packages
            .iter()
            .all(|p| p.ecosystem == Ecosystem::CratesIo && !p.dev)
    );
}

#[test]
fn cargo_v1_metadata_checksums() {
    let p = run("cargo", "v1/Cargo.lock", cargo::parse);
    assert_eq!(
        purls(&p),
        ["pkg:cargo/itoa@0.4.8", "pkg:cargo/serde@1.0.197"]
    );
    assert_eq!(
        find(&p, "pkg:cargo/itoa@0.4.8").hashes[0].value,
        "819396ff0a0824614ae1750aebb1b40f29b12382b85e1db09922d90ad3beea93"
    );
    // `<none>` is no checksum.
    assert!(find(&p, "pkg:cargo/serde@1.0.197").hashes.is_empty());
}

/// This workspace's own lockfile: hundreds of crates, our crates left out.
#[test]
fn cargo_reads_this_workspace_lockfile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = cargo::parse(&root, "Cargo.lock").expect("the workspace Cargo.lock parses");
    assert!(p.packages.len() > 300, "{} packages", p.packages.len());
    let serde: Vec<&Package> = p.packages.iter().filter(|p| p.name == "serde").collect();
    assert!(!serde.is_empty());
    assert!(
        serde
            .iter()
            .all(|s| s.hashes.len() == 1 && s.hashes[0].alg == "SHA-256")
    );
    assert!(p.packages.iter().all(|p| !p.name.starts_with("evident")));
    assert!(p.notes.iter().any(|n| n.contains("evident-deps")));
    // Every edge points at a package of the inventory.
    let all: std::collections::BTreeSet<&str> =
        p.packages.iter().map(|p| p.purl.as_str()).collect();
    for pkg in &p.packages {
        for d in &pkg.dependencies {
            assert!(all.contains(d.as_str()), "{} → {d}", pkg.purl);
        }
    }
    let with_deps = p
        .packages
        .iter()
        .filter(|p| !p.dependencies.is_empty())
        .count();
    assert!(with_deps > 100);
}

// ---------------------------------------------------------------------------------------------
// npm

#[test]
fn npm_v3_nested_copies_links_aliases_dev() {
    let p = run("npm", "package-lock.json", npm::parse);
    // The root, the workspace folder and its link are not packages; nor is the file: tarball.
    no_package_named(&p, "web-monorepo");
    no_package_named(&p, "@acme/ui");
    no_package_named(&p, "is-number");
    // Nested copies at other versions stay apart.
    for purl in [
        "pkg:npm/regenerator-runtime@0.13.11",
        "pkg:npm/regenerator-runtime@0.14.1",
        "pkg:npm/strip-ansi@6.0.1",
        "pkg:npm/strip-ansi@7.1.0",
        "pkg:npm/ansi-regex@5.0.1",
        "pkg:npm/ansi-regex@6.0.1",
    ] {
        find(&p, purl);
    }
    // Node's resolution: the workspace's own strip-ansi 7 uses its nested ansi-regex 6; the
    // hoisted strip-ansi 6 uses the hoisted ansi-regex 5.
    assert_eq!(
        find(&p, "pkg:npm/strip-ansi@7.1.0").dependencies,
        ["pkg:npm/ansi-regex@6.0.1"]
    );
    assert_eq!(
        find(&p, "pkg:npm/strip-ansi@6.0.1").dependencies,
        ["pkg:npm/ansi-regex@5.0.1"]
    );
    assert_eq!(
        find(&p, "pkg:npm/%40babel/runtime@7.24.0").dependencies,
        ["pkg:npm/regenerator-runtime@0.14.1"]
    );
    // The alias folder `string-width-cjs` holds string-width.
    let sw = find(&p, "pkg:npm/string-width@4.2.3");
    assert_eq!(sw.dependencies, ["pkg:npm/strip-ansi@6.0.1"]);
    assert_eq!(sw.hashes[0].alg, "SHA-512");
    assert_eq!(sw.hashes[0].value.len(), 128);
    assert!(find(&p, "pkg:npm/typescript@5.4.5").dev);
    assert!(find(&p, "pkg:npm/regenerator-runtime@0.14.1").dev);
    assert!(!find(&p, "pkg:npm/react@18.2.0").dev);
    assert_eq!(find(&p, "pkg:npm/js-tokens@4.0.0").hashes[0].alg, "SHA-1");
    // A git dependency keeps its package.json version.
    find(&p, "pkg:npm/tiny-js@0.2.0");
    assert!(p.notes.iter().any(|n| n.contains("packages/ui")));
}

#[test]
fn npm_v1_tree() {
    let p = run("npm", "v1/npm-shrinkwrap.json", npm::parse);
    assert_eq!(
        find(&p, "pkg:npm/%40babel/runtime@7.24.0").dependencies,
        ["pkg:npm/regenerator-runtime@0.14.1"]
    );
    find(&p, "pkg:npm/regenerator-runtime@0.13.11");
    let lodash = find(&p, "pkg:npm/lodash@4.17.21");
    assert_eq!(
        lodash
            .hashes
            .iter()
            .map(|h| h.alg.as_str())
            .collect::<Vec<_>>(),
        ["SHA-1", "SHA-512"]
    );
    assert!(find(&p, "pkg:npm/strip-ansi@6.0.1").dev);
    assert_eq!(
        find(&p, "pkg:npm/string-width@4.2.3").dependencies,
        ["pkg:npm/strip-ansi@6.0.1"]
    );
    no_package_named(&p, "tiny-js");
    no_package_named(&p, "is-number");
    assert!(p.notes[0].contains("node_modules/tiny-js") && p.notes[0].contains("is-number"));
}

// ---------------------------------------------------------------------------------------------
// yarn

#[test]
fn yarn_v1_descriptors_aliases_and_fragments() {
    let p = run("yarn", "v1/yarn.lock", yarn::parse);
    // Two descriptors, one entry.
    let runtime = find(&p, "pkg:npm/%40babel/runtime@7.24.0");
    assert_eq!(runtime.dependencies, ["pkg:npm/regenerator-runtime@0.14.1"]);
    // integrity (SHA-512) plus the tarball URL's SHA-1.
    assert_eq!(runtime.hashes.len(), 2);
    // No integrity: the fragment alone.
    let jst = find(&p, "pkg:npm/js-tokens@4.0.0");
    assert_eq!(jst.hashes.len(), 1);
    assert_eq!(
        jst.hashes[0].value,
        "055c87d9ddc940ccb43ce54945241cba544f567e"
    );
    // Edges through optionalDependencies and quoted ranges with spaces.
    let react = find(&p, "pkg:npm/react@18.2.0");
    assert_eq!(
        react.dependencies,
        [
            "pkg:npm/%40babel/runtime@7.24.0",
            "pkg:npm/loose-envify@1.4.0"
        ]
    );
    assert_eq!(
        find(&p, "pkg:npm/loose-envify@1.4.0").dependencies,
        ["pkg:npm/js-tokens@4.0.0"]
    );
    find(&p, "pkg:npm/string-width@4.2.3");
    no_package_named(&p, "string-width-cjs");
    no_package_named(&p, "local-utils");
    // The codeload fragment-less git tarball: no hash, version kept.
    assert!(find(&p, "pkg:npm/tiny-js@0.2.0").hashes.is_empty());
    assert!(p.packages.iter().all(|p| !p.dev));
}

#[test]
fn yarn_berry_patches_and_workspaces() {
    let p = run("yarn", "berry/yarn.lock", yarn::parse);
    let resolves: Vec<&Package> = p.packages.iter().filter(|p| p.name == "resolve").collect();
    assert_eq!(
        resolves.len(),
        1,
        "the patch: entry merges with resolve@npm"
    );
    assert_eq!(
        resolves[0].dependencies,
        [
            "pkg:npm/is-core-module@2.13.1",
            "pkg:npm/path-parse@1.0.7",
            "pkg:npm/supports-preserve-symlinks-flag@1.0.0"
        ]
    );
    no_package_named(&p, "my-app");
    no_package_named(&p, "@acme/ui");
    no_package_named(&p, "local-utils");
    assert!(p.packages.iter().all(|p| p.hashes.is_empty()));
    assert!(p.notes[0].contains("my-app@workspace:."));
    assert_eq!(
        find(&p, "pkg:npm/loose-envify@1.4.0").dependencies,
        ["pkg:npm/js-tokens@4.0.0"]
    );
}

// ---------------------------------------------------------------------------------------------
// pnpm

#[test]
fn pnpm_v5_peer_suffix_alias_and_dev() {
    let p = run("pnpm", "v5/pnpm-lock.yaml", pnpm::parse);
    let dom = find(&p, "pkg:npm/react-dom@18.2.0");
    assert_eq!(
        dom.dependencies,
        [
            "pkg:npm/loose-envify@1.4.0",
            "pkg:npm/react@18.2.0",
            "pkg:npm/scheduler@0.23.0"
        ]
    );
    assert!(find(&p, "pkg:npm/typescript@5.4.5").dev);
    assert!(!find(&p, "pkg:npm/react@18.2.0").dev);
    find(&p, "pkg:npm/%40babel/runtime@7.24.0");
    find(&p, "pkg:npm/string-width@4.2.3");
    no_package_named(&p, "@acme/ui");
    assert_eq!(p.packages.len(), 11);
}

#[test]
fn pnpm_v6_local_directory_left_out() {
    let p = run("pnpm", "v6/pnpm-lock.yaml", pnpm::parse);
    no_package_named(&p, "@acme/local");
    assert!(p.notes[0].contains("file:../local"));
    assert!(find(&p, "pkg:npm/%40types/react@18.2.64").dev);
    assert_eq!(
        find(&p, "pkg:npm/%40types/react@18.2.64").dependencies,
        [
            "pkg:npm/%40types/prop-types@15.7.11",
            "pkg:npm/csstype@3.1.3"
        ]
    );
    assert!(!find(&p, "pkg:npm/scheduler@0.23.0").dev);
}

#[test]
fn pnpm_v9_snapshots_patches_and_derived_dev() {
    let p = run("pnpm", "v9/pnpm-lock.yaml", pnpm::parse);
    // Patched and peer-suffixed snapshots fold into their package.
    assert!(find(&p, "pkg:npm/is-number@7.0.0").hashes.len() == 1);
    assert_eq!(
        find(&p, "pkg:npm/react-dom@18.2.0").dependencies,
        [
            "pkg:npm/loose-envify@1.4.0",
            "pkg:npm/react@18.2.0",
            "pkg:npm/scheduler@0.23.0"
        ]
    );
    // Dev: only reachable from devDependencies.
    assert!(find(&p, "pkg:npm/typescript@5.4.5").dev);
    assert!(find(&p, "pkg:npm/%40types/react@18.2.64").dev);
    assert!(find(&p, "pkg:npm/csstype@3.1.3").dev);
    // js-tokens is a dev dependency of packages/ui but also under react: not dev.
    assert!(!find(&p, "pkg:npm/js-tokens@4.0.0").dev);
    // The alias `string-width-cjs: string-width@4.2.3` makes string-width a prod package.
    assert!(!find(&p, "pkg:npm/string-width@4.2.3").dev);
    assert!(!find(&p, "pkg:npm/ansi-regex@5.0.1").dev);
    // A tarball dependency named by its own `version`.
    assert!(!find(&p, "pkg:npm/tiny-js@0.2.0").dev);
    no_package_named(&p, "@acme/ui");
    assert_eq!(p.packages.len(), 14);
}

// ---------------------------------------------------------------------------------------------
// Go

#[test]
fn go_replace_exclude_pseudo_versions_and_sums() {
    let p = run("go", "go.mod", gomod::parse);
    // Replaced by another module: that module, with its go.sum hash.
    let fork = find(&p, "pkg:golang/github.com/myfork/yaml@v3.0.2-fix");
    assert_eq!(fork.hashes[0].alg, "SHA-256");
    assert_eq!(fork.hashes[0].value.len(), 64);
    no_package_named(&p, "gopkg.in/yaml.v3");
    // Replaced by a directory, excluded: left out with notes.
    no_package_named(&p, "example.com/internal/shared");
    no_package_named(&p, "github.com/old/broken");
    assert!(p.notes.iter().any(|n| n.contains("=> ../shared")));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("github.com/old/broken v1.0.0"))
    );
    // Versions verbatim.
    find(
        &p,
        "pkg:golang/golang.org/x/sys@v0.0.0-20220811171246-fbc7d0a398ab",
    );
    let jwt = p
        .packages
        .iter()
        .find(|p| p.name == "github.com/dgrijalva/jwt-go")
        .unwrap();
    assert_eq!(jwt.version, "v3.2.0+incompatible");
    // The module itself is not a package; stdlib comes from the toolchain line.
    no_package_named(&p, "example.com/payments");
    let stdlib = p.packages.iter().find(|p| p.name == "stdlib").unwrap();
    assert_eq!(stdlib.version, "1.22.3");
    // No go.sum line, no hash.
    assert!(
        find(&p, "pkg:golang/github.com/golang/protobuf@v1.5.3")
            .hashes
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Composer

#[test]
fn composer_dev_licences_shasums_paths() {
    let p = run("composer", "composer.lock", composer::parse);
    assert!(find(&p, "pkg:composer/phpunit/phpunit@10.5.11").dev);
    assert!(!find(&p, "pkg:composer/guzzlehttp/guzzle@7.8.1").dev);
    assert_eq!(
        find(&p, "pkg:composer/guzzlehttp/guzzle@7.8.1").dependencies,
        ["pkg:composer/psr/http-client@1.0.3"]
    );
    assert!(
        find(&p, "pkg:composer/guzzlehttp/guzzle@7.8.1")
            .hashes
            .is_empty()
    );
    assert_eq!(
        find(&p, "pkg:composer/psr/http-client@1.0.3").hashes[0].alg,
        "SHA-1"
    );
    assert_eq!(
        find(&p, "pkg:composer/laminas/laminas-code@4.13.0").licenses,
        ["BSD-3-Clause OR GPL-2.0-or-later"]
    );
    find(&p, "pkg:composer/symfony/polyfill-mbstring@v1.29.0");
    no_package_named(&p, "acme/billing-core");
    assert!(p.notes[0].contains("acme/billing-core"));
}

// ---------------------------------------------------------------------------------------------
// Discovery

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

#[test]
fn scan_finds_every_lockfile_and_skips_node_modules() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let f = fixtures();
    copy(&f.join("cargo/Cargo.lock"), &root.join("Cargo.lock"));
    copy(
        &f.join("npm/package-lock.json"),
        &root.join("web/package-lock.json"),
    );
    // An installed package's own lockfile: never read.
    copy(
        &f.join("npm/v1/npm-shrinkwrap.json"),
        &root.join("web/node_modules/lodash/npm-shrinkwrap.json"),
    );
    copy(
        &f.join("yarn/berry/yarn.lock"),
        &root.join("tools/yarn.lock"),
    );
    copy(
        &f.join("pnpm/v9/pnpm-lock.yaml"),
        &root.join("front/pnpm-lock.yaml"),
    );
    copy(&f.join("go/go.mod"), &root.join("svc/go.mod"));
    copy(&f.join("go/go.sum"), &root.join("svc/go.sum"));
    copy(
        &f.join("composer/composer.lock"),
        &root.join("php/composer.lock"),
    );
    std::fs::create_dir_all(root.join("broken")).unwrap();
    std::fs::write(root.join("broken/package-lock.json"), "{ not json").unwrap();

    let inv = lockfile::scan(root);
    let files: Vec<(&str, Ecosystem)> = inv.files.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        files,
        [
            ("Cargo.lock", Ecosystem::CratesIo),
            ("front/pnpm-lock.yaml", Ecosystem::Npm),
            ("php/composer.lock", Ecosystem::Packagist),
            ("svc/go.mod", Ecosystem::Go),
            ("tools/yarn.lock", Ecosystem::Npm),
            ("web/package-lock.json", Ecosystem::Npm),
        ]
    );
    assert_eq!(inv.errors.len(), 1);
    assert_eq!(inv.errors[0].path, "broken/package-lock.json");
    assert!(
        inv.packages
            .iter()
            .all(|p| !p.source.contains("node_modules"))
    );
    // Sources are the relative paths; the go.sum beside go.mod was used.
    let fork = inv
        .packages
        .iter()
        .find(|p| p.name == "github.com/myfork/yaml")
        .unwrap();
    assert_eq!(fork.source, "svc/go.mod");
    assert_eq!(fork.hashes.len(), 1);
    // The same package from two lockfiles is listed once per lockfile.
    let reacts: Vec<&str> = inv
        .packages
        .iter()
        .filter(|p| p.purl == "pkg:npm/react@18.2.0")
        .map(|p| p.source.as_str())
        .collect();
    assert_eq!(
        reacts,
        [
            "front/pnpm-lock.yaml",
            "tools/yarn.lock",
            "web/package-lock.json"
        ]
    );
    let expected: usize = [
        ("cargo", "Cargo.lock", cargo::parse as ParseFn),
        ("npm", "package-lock.json", npm::parse),
        ("yarn", "berry/yarn.lock", yarn::parse),
        ("pnpm", "v9/pnpm-lock.yaml", pnpm::parse),
        ("go", "go.mod", gomod::parse),
        ("composer", "composer.lock", composer::parse),
    ]
    .into_iter()
    .map(|(d, r, p)| run(d, r, p).packages.len())
    .sum();
    assert_eq!(inv.packages.len(), expected);
}

#[test]
fn errors_name_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, ParseFn, Option<usize>); 6] = [
        (
            "Cargo.lock",
            "version = 4\n\n[[package]\n",
            cargo::parse,
            Some(3),
        ),
        (
            "package-lock.json",
            "{\n  \"packages\": {\n    \"x\": 1\n",
            npm::parse,
            Some(3),
        ),
        ("yarn.lock", "a@^1:\n  version \"1\n", yarn::parse, Some(2)),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [\n",
            pnpm::parse,
            None,
        ),
        (
            "go.mod",
            "module m\n\nrequire (\n\tgithub.com/a/b\n)\n",
            gomod::parse,
            Some(4),
        ),
        (
            "composer.lock",
            "{\"packages\": [{\"name\": \"a/b\"}]}",
            composer::parse,
            Some(1),
        ),
    ];
    for (name, text, parse, line) in cases {
        std::fs::write(tmp.path().join(name), text).unwrap();
        let e = parse(tmp.path(), name).unwrap_err();
        assert_eq!(e.path, name);
        if line.is_some() {
            assert_eq!(e.line, line, "{name}: {e}");
        } else {
            assert!(e.line.is_some(), "{name}: {e}");
        }
    }
    // A missing file is an error too, not a panic.
    let e = cargo::parse(tmp.path(), "nope/Cargo.lock").unwrap_err();
    assert_eq!(e.path, "nope/Cargo.lock");
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// Deeply nested input (where a format nests) is an error or ignored, never a stack overflow.
#[test]
fn deep_nesting_is_not_a_stack_overflow() {
    let depth = 100_000;
    let deep_json = format!(
        "{{\"lockfileVersion\": 3, \"x\": {}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let deep_yaml = format!(
        "lockfileVersion: '9.0'\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let deep_toml = format!(
        "version = 4\nx = {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let mut deep_block = String::new();
    for i in 0..2_000 {
        deep_block.push_str(&" ".repeat(i));
        deep_block.push_str("a:\n");
    }
    for (name, parse, text) in [
        ("package-lock.json", npm::parse as ParseFn, &deep_json),
        ("composer.lock", composer::parse, &deep_json),
        ("pnpm-lock.yaml", pnpm::parse, &deep_yaml),
        (
            "yarn.lock",
            yarn::parse,
            &format!("__metadata:\n  version: 8\n{deep_yaml}"),
        ),
        ("Cargo.lock", cargo::parse, &deep_toml),
        ("yarn.lock", yarn::parse, &deep_block),
    ] {
        let started = std::time::Instant::now();
        parse_text(name, parse, text);
        assert!(
            started.elapsed().as_secs() < 20,
            "{name}: {:?}",
            started.elapsed()
        );
    }
}

const PARSERS: [(&str, ParseFn); 6] = [
    ("Cargo.lock", cargo::parse),
    ("package-lock.json", npm::parse),
    ("yarn.lock", yarn::parse),
    ("pnpm-lock.yaml", pnpm::parse),
    ("go.mod", gomod::parse),
    ("composer.lock", composer::parse),
];

fn parse_text(name: &str, parse: ParseFn, text: &str) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(name), text).unwrap();
    // go.mod also reads a go.sum beside it.
    std::fs::write(tmp.path().join("go.sum"), text).unwrap();
    let _ = parse(tmp.path(), name);
}

/// A fixture's text with a slice cut out and some text spliced in: near-valid input.
fn mutated(fixture: &str, cut: (usize, usize), insert: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    let len = text.len();
    let mut a = cut.0 % (len + 1);
    let mut b = (a + cut.1 % 64).min(len);
    while !text.is_char_boundary(a) {
        a -= 1;
    }
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    format!("{}{insert}{}", &text[..a], &text[b.max(a)..])
}

const FIXTURE_FILES: [(&str, usize); 9] = [
    ("cargo/Cargo.lock", 0),
    ("cargo/v1/Cargo.lock", 0),
    ("npm/package-lock.json", 1),
    ("npm/v1/npm-shrinkwrap.json", 1),
    ("yarn/v1/yarn.lock", 2),
    ("yarn/berry/yarn.lock", 2),
    ("pnpm/v9/pnpm-lock.yaml", 3),
    ("go/go.mod", 4),
    ("composer/composer.lock", 5),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        for (name, parse) in PARSERS {
            parse_text(name, parse, &text);
        }
    }

    #[test]
    fn line_noise_never_panics(
        text in "([a-z@/._:\"' ()\\[\\]{}=>,#^~+-]|\\n|  |\t|//|v1\\.2\\.3|node_modules/|__metadata:){0,120}"
    ) {
        for (name, parse) in PARSERS {
            parse_text(name, parse, &text);
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..FIXTURE_FILES.len(),
        start in any::<usize>(),
        len in any::<usize>(),
        insert in "(\\PC|\\n){0,12}",
    ) {
        let (fixture, parser) = FIXTURE_FILES[which];
        let (name, parse) = PARSERS[parser];
        parse_text(name, parse, &mutated(fixture, (start, len), &insert));
    }
}
