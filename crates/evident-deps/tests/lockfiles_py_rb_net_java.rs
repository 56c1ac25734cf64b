//! The Python, Ruby, NuGet, Gradle and Maven lockfile / manifest parsers against realistic
//! fixtures: exact package lists as snapshots, the tricky cases asserted one by one, and no
//! panic on arbitrary input.

use std::path::{Path, PathBuf};

use evident_deps::lockfile::{gemfile, gradle, maven, nuget, pipfile, poetry, requirements, uv};
use evident_deps::{Package, ParseError, Parsed};
use proptest::prelude::*;
use serde_json::{Value, json};

type ParseFn = fn(&Path, &str) -> Result<Parsed, ParseError>;

/// (snapshot name, fixture folder, file parsed in it, parser).
const CASES: [(&str, &str, &str, ParseFn); 11] = [
    (
        "poetry_v1",
        "python/poetry-v1",
        "poetry.lock",
        poetry::parse,
    ),
    (
        "poetry_v2",
        "python/poetry-v2",
        "poetry.lock",
        poetry::parse,
    ),
    ("uv", "python/uv", "uv.lock", uv::parse),
    ("pipfile", "python/pipenv", "Pipfile.lock", pipfile::parse),
    (
        "requirements",
        "python/requirements",
        "requirements.txt",
        requirements::parse,
    ),
    (
        "requirements_dev",
        "python/requirements",
        "requirements-dev.txt",
        requirements::parse,
    ),
    ("gemfile", "ruby", "Gemfile.lock", gemfile::parse),
    ("nuget", "nuget", "packages.lock.json", nuget::parse),
    ("gradle", "gradle", "gradle.lockfile", gradle::parse),
    ("maven_app", "maven/app", "pom.xml", maven::parse),
    (
        "maven_multi_service",
        "maven/multi",
        "service/pom.xml",
        maven::parse,
    ),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles")
}

fn run(dir: &str, rel: &str, parse: ParseFn) -> Parsed {
    parse(&fixtures().join(dir), rel).unwrap_or_else(|e| panic!("{dir}/{rel}: {e}"))
}

/// What a reviewer needs to see: every package field, then the notes.
fn view(parsed: &Parsed) -> Value {
    json!({
        "packages": parsed.packages.iter().map(|p| json!({
            "ecosystem": p.ecosystem,
            "name": p.name,
            "version": p.version,
            "purl": p.purl,
            "source": p.source,
            "dev": p.dev,
            "hashes": p.hashes.iter().map(|h| format!("{}:{}", h.alg, h.value)).collect::<Vec<_>>(),
            "dependencies": p.dependencies,
        })).collect::<Vec<_>>(),
        "notes": parsed.notes,
    })
}

#[test]
fn snapshots() {
    // Sorted keys: serde_json's map order depends on workspace features (`preserve_order`).
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind(|| {
        for (name, dir, rel, parse) in CASES {
            insta::assert_json_snapshot!(name, view(&run(dir, rel, parse)));
        }
    });
}

/// insta leaves a snapshot behind when a case is renamed or dropped: none of ours may remain.
#[test]
fn no_unreferenced_snapshots() {
    let prefix = "lockfiles_py_rb_net_java__";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    found.sort();
    let mut expected: Vec<String> = CASES
        .iter()
        .map(|(name, ..)| format!("{prefix}{name}.snap"))
        .collect();
    expected.sort();
    assert_eq!(found, expected, "remove snapshots no test refers to");
}

fn find<'a>(parsed: &'a Parsed, name: &str) -> &'a Package {
    parsed
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name} in {:#?}", parsed.packages))
}

fn has_note(parsed: &Parsed, needle: &str) -> bool {
    parsed.notes.iter().any(|n| n.contains(needle))
}

#[test]
fn requirements_unpinned_lines_are_notes_with_file_and_line() {
    let parsed = run(
        "python/requirements",
        "requirements.txt",
        requirements::parse,
    );
    assert!(
        parsed.notes.contains(
            &"requirements.txt:19: `flask>=2` is not pinned; it cannot be matched against \
          advisories — pin it (pip-compile) or use a lockfile"
                .to_owned()
        )
    );
    assert!(has_note(
        &parsed,
        "requirements.txt:20: `gunicorn` is not pinned"
    ));
    // `redis` is unpinned but `-c constraints.txt` pins it, as pip would install it.
    assert_eq!(find(&parsed, "redis").version, "5.0.1");
    assert!(!has_note(&parsed, "`redis`"));
    // A constraint alone is never a package.
    assert_eq!(
        parsed
            .packages
            .iter()
            .filter(|p| p.name == "requests")
            .count(),
        1
    );
    // Continued lines: markers, extras and both hashes; the purl normalises the name.
    let django = find(&parsed, "Django");
    assert_eq!(django.purl, "pkg:pypi/django@4.2.7");
    assert_eq!(django.hashes.len(), 2);
    // Included packages keep the file they are written in.
    assert_eq!(find(&parsed, "urllib3").source, "requirements/base.txt");
    assert_eq!(
        find(&parsed, "charset_normalizer").purl,
        "pkg:pypi/charset-normalizer@3.3.2"
    );
    assert_eq!(find(&parsed, "zope.interface").version, "6.1");
    assert!(has_note(
        &parsed,
        "`-e ./libs/internal-auth` is an editable install"
    ));
    assert!(has_note(&parsed, "`billing-client @ git+https://"));

    // The dev file includes the runtime one: its own lines are dev, the included ones are not.
    let dev = run(
        "python/requirements",
        "requirements-dev.txt",
        requirements::parse,
    );
    assert!(find(&dev, "pytest").dev);
    assert!(!find(&dev, "Django").dev);
    assert!(has_note(
        &dev,
        "requirements-dev.txt:5: `mypy>=1.7` is not pinned"
    ));
}

#[test]
fn requirements_include_cycle_and_missing_include_are_errors() {
    let err = requirements::parse(
        &fixtures().join("python/requirements-cycle"),
        "requirements.txt",
    )
    .unwrap_err();
    assert_eq!(err.path, "requirements/common.txt");
    assert_eq!(err.line, Some(2));
    assert_eq!(
        err.to_string(),
        "requirements/common.txt:2: `--requirement ../requirements.txt` makes an include \
         cycle: requirements.txt → requirements/common.txt → requirements.txt"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "six==1.16.0\n-r extra.txt\n",
    )
    .unwrap();
    let err = requirements::parse(dir.path(), "requirements.txt").unwrap_err();
    assert_eq!((err.path.as_str(), err.line), ("requirements.txt", Some(2)));
    assert!(
        err.message
            .starts_with("`-r extra.txt`: cannot read extra.txt"),
        "{err}"
    );
}

#[test]
fn maven_properties_management_and_unresolved_versions() {
    let parsed = run("maven/app", "pom.xml", maven::parse);
    // Nested property interpolation.
    assert_eq!(
        find(&parsed, "com.fasterxml.jackson.core:jackson-databind").version,
        "2.15.3"
    );
    // `${project.version}` is itself `${revision}${changelist}`.
    assert_eq!(
        find(&parsed, "com.example.orders:orders-api").purl,
        "pkg:maven/com.example.orders/orders-api@2.3.0-SNAPSHOT"
    );
    // A version from <dependencyManagement>, itself a property.
    assert_eq!(
        find(&parsed, "org.apache.logging.log4j:log4j-core").version,
        "2.14.1"
    );
    // Scope from management; a hard requirement is a version.
    assert!(find(&parsed, "org.mockito:mockito-core").dev);
    assert!(find(&parsed, "org.junit.jupiter:junit-jupiter").dev);
    assert!(!find(&parsed, "jakarta.servlet:jakarta.servlet-api").dev);
    assert_eq!(
        find(&parsed, "com.google.code.findbugs:jsr305").version,
        "3.0.2"
    );
    // Ranges, undefined properties, BOM-managed versions and system jars are notes.
    for gone in [
        "commons-io:commons-io",
        "io.micrometer:micrometer-core",
        "com.fasterxml.jackson.datatype:jackson-datatype-jsr310",
        "com.oracle:ojdbc8",
        "org.postgresql:postgresql",
        "org.apache.maven.plugins:maven-compiler-plugin",
    ] {
        assert!(
            parsed.packages.iter().all(|p| p.name != gone),
            "{gone} should not be a package"
        );
    }
    assert!(has_note(&parsed, "`[2.11.0,3.0)` is a version range"));
    assert!(has_note(
        &parsed,
        "the property `micrometer.version`, which is not defined"
    ));
    assert!(has_note(
        &parsed,
        "managed by the imported BOM `com.fasterxml.jackson:jackson-bom:2.15.3`"
    ));

    // The parent POM in the tree lends its properties and management; the child's win.
    let service = run("maven/multi", "service/pom.xml", maven::parse);
    assert_eq!(
        find(&service, "io.netty:netty-handler").version,
        "4.1.94.Final"
    );
    assert_eq!(
        find(&service, "com.google.guava:guava").version,
        "32.1.3-jre"
    );
    assert_eq!(
        find(&service, "com.example.platform:platform-model").version,
        "1.8.0"
    );
    assert!(find(&service, "org.assertj:assertj-core").dev);
    // The grandparent (Spring Boot's parent) is not in the tree: its managed version is unknown.
    assert!(has_note(
        &service,
        "`org.springframework.boot:spring-boot-starter-web` has no resolvable version"
    ));
    assert!(has_note(
        &service,
        "the parent POM `org.springframework.boot:spring-boot-starter-parent:3.1.5`"
    ));
}

#[test]
fn gemfile_platform_suffixes_merge_into_one_version() {
    let parsed = run("ruby", "Gemfile.lock", gemfile::parse);
    let nokogiri: Vec<&Package> = parsed
        .packages
        .iter()
        .filter(|p| p.name == "nokogiri")
        .collect();
    assert_eq!(nokogiri.len(), 1);
    assert_eq!(nokogiri[0].version, "1.15.5");
    assert_eq!(nokogiri[0].purl, "pkg:gem/nokogiri@1.15.5");
    assert_eq!(
        nokogiri[0].hashes.len(),
        3,
        "one checksum per platform build"
    );
    assert!(parsed.packages.iter().all(|p| p.name != "billing"));
    assert!(has_note(
        &parsed,
        "`billing` comes from a local path (engines/billing)"
    ));
    assert!(
        find(&parsed, "audit_trail")
            .dependencies
            .contains(&"pkg:gem/activerecord@7.1.2".to_owned())
    );
}

#[test]
fn nuget_frameworks_projects_and_hashes() {
    let parsed = run("nuget", "packages.lock.json", nuget::parse);
    let json: Vec<&Package> = parsed
        .packages
        .iter()
        .filter(|p| p.name == "Newtonsoft.Json")
        .collect();
    assert_eq!(json.len(), 1, "one package across three frameworks");
    assert_eq!(json[0].hashes[0].alg, "SHA-512");
    assert_eq!(json[0].hashes[0].value.len(), 128);
    assert!(parsed.packages.iter().all(|p| p.name != "contoso.shared"));
    // Two versions of one package from two frameworks, each with its own edges.
    let logging: Vec<&Package> = parsed
        .packages
        .iter()
        .filter(|p| p.name == "Microsoft.Extensions.Logging")
        .collect();
    assert_eq!(logging.len(), 2);
    assert_eq!(
        logging[1].dependencies,
        ["pkg:nuget/Microsoft.Extensions.DependencyInjection.Abstractions@8.0.0"]
    );
}

#[test]
fn python_lockfiles_dev_and_local_sources() {
    let v1 = run("python/poetry-v1", "poetry.lock", poetry::parse);
    assert!(find(&v1, "pytest").dev);
    assert!(v1.packages.iter().all(|p| p.name != "internal-utils"));
    assert!(has_note(
        &v1,
        "`internal-utils` comes from a local directory"
    ));
    assert!(has_note(&v1, "`toolbox` 1.4.0 comes from git"));
    assert_eq!(
        find(&v1, "Jinja2").dependencies,
        ["pkg:pypi/markupsafe@2.1.3"]
    );

    let v2 = run("python/poetry-v2", "poetry.lock", poetry::parse);
    assert!(find(&v2, "black").dev);
    assert!(!find(&v2, "click").dev, "in main and lint: runtime");
    assert!(find(&v2, "pandas-stubs").dev);
    assert_eq!(
        find(&v2, "pandas-stubs").dependencies,
        ["pkg:pypi/numpy@1.26.4", "pkg:pypi/numpy@2.2.3"]
    );

    let uv = run("python/uv", "uv.lock", uv::parse);
    assert!(
        uv.packages
            .iter()
            .all(|p| !["shop", "billing", "company-theme"].contains(&p.name.as_str()))
    );
    assert!(find(&uv, "pytest").dev);
    assert!(find(&uv, "pluggy").dev);
    assert!(
        !find(&uv, "colorama").dev,
        "reachable from click at runtime too"
    );
    assert!(!find(&uv, "requests").dev, "an extra is not dev");
    assert_eq!(
        find(&uv, "legacy-client").dependencies,
        ["pkg:pypi/urllib3@1.26.20"]
    );

    let pipenv = run("python/pipenv", "Pipfile.lock", pipfile::parse);
    assert!(
        !find(&pipenv, "sqlparse").dev,
        "in default and develop: runtime"
    );
    assert!(find(&pipenv, "Pygments").dev);
}

#[test]
fn gradle_test_classpaths_are_dev() {
    let parsed = run("gradle", "gradle.lockfile", gradle::parse);
    assert!(find(&parsed, "org.junit.jupiter:junit-jupiter-engine").dev);
    assert!(find(&parsed, "org.testcontainers:postgresql").dev);
    assert!(!find(&parsed, "org.apache.logging.log4j:log4j-core").dev);
    assert!(!find(&parsed, "org.projectlombok:lombok").dev);
    assert_eq!(
        find(&parsed, "com.google.guava:guava").purl,
        "pkg:maven/com.google.guava/guava@32.1.3-jre"
    );
}

/// Each parser with the file name it reads and a fixture to mutate.
const FUZZ: [(&str, &str, ParseFn); 8] = [
    ("poetry.lock", "python/poetry-v1/poetry.lock", poetry::parse),
    ("uv.lock", "python/uv/uv.lock", uv::parse),
    ("Pipfile.lock", "python/pipenv/Pipfile.lock", pipfile::parse),
    (
        "requirements.txt",
        "python/requirements/requirements.txt",
        requirements::parse,
    ),
    ("Gemfile.lock", "ruby/Gemfile.lock", gemfile::parse),
    (
        "packages.lock.json",
        "nuget/packages.lock.json",
        nuget::parse,
    ),
    ("gradle.lockfile", "gradle/gradle.lockfile", gradle::parse),
    ("pom.xml", "maven/app/pom.xml", maven::parse),
];

/// Writes `text` as `name` in a fresh directory and runs every parser that reads that name.
fn parse_text(name: &str, parse: ParseFn, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    // Errors are fine; panics are not.
    let _ = parse(dir.path(), name);
}

/// `text` with `insert` spliced in at about `at` (a fraction of its length), cut at `cut`.
fn mutate(text: &str, at: f64, insert: &str, cut: f64) -> String {
    let boundary = |f: f64| {
        let mut i = ((text.len() as f64) * f) as usize;
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (a, c) = (boundary(at), boundary(cut));
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..a]);
    out.push_str(insert);
    out.push_str(&text[a..c.max(a)]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in "\\PC{0,400}", which in 0usize..FUZZ.len()) {
        let (name, _, parse) = FUZZ[which];
        parse_text(name, parse, &text);
    }

    #[test]
    fn parsers_never_panic_on_mutated_fixtures(
        which in 0usize..FUZZ.len(),
        at in 0.0f64..1.0,
        cut in 0.0f64..=1.0,
        insert in prop_oneof![
            Just(String::new()),
            "[\\[\\]{}()<>=:,;#\"'\\\\\n -]{1,8}",
            "\\PC{0,16}",
        ],
    ) {
        let (name, fixture, parse) = FUZZ[which];
        let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
        parse_text(name, parse, &mutate(&text, at, &insert, cut));
    }
}
