//! Each ecosystem's version order: tables of tricky cases, and properties (total order, no
//! panics) on generated versions.

use std::cmp::Ordering;

use evident_deps::Ecosystem;
use evident_deps::version::{compare, compare_semver, validate};
use proptest::prelude::*;

/// Asserts that `chain` is strictly increasing (every pair, not only neighbours).
fn ascending(eco: Ecosystem, chain: &[&str]) {
    for (i, a) in chain.iter().enumerate() {
        for (j, b) in chain.iter().enumerate() {
            let got = compare(eco, a, b).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, i.cmp(&j), "{eco}: {a} vs {b}");
        }
    }
}

fn equal(eco: Ecosystem, pairs: &[(&str, &str)]) {
    for (a, b) in pairs {
        assert_eq!(
            compare(eco, a, b).unwrap_or_else(|e| panic!("{e}")),
            Ordering::Equal,
            "{eco}: {a} = {b}"
        );
    }
}

fn invalid(eco: Ecosystem, versions: &[&str]) {
    for v in versions {
        assert!(validate(eco, v).is_err(), "{eco}: `{v}` should be refused");
    }
}

#[test]
fn pypi_pep440() {
    ascending(
        Ecosystem::PyPI,
        &[
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
            "1.10",
            "1!0.1",
        ],
    );
    equal(
        Ecosystem::PyPI,
        &[
            ("1.0", "1.0.0"),
            ("1.0", "v1.0"),
            ("1.0RC1", "1.0rc1"),
            ("1.0c1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
            ("0!2.0", "2.0"),
        ],
    );
    invalid(Ecosystem::PyPI, &["", "1.0-beta-gamma", "not a version"]);
}

#[test]
fn cargo_semver() {
    ascending(
        Ecosystem::CratesIo,
        &[
            "0.0.0-0",
            "0.0.0",
            "0.9.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.2.0",
            "1.10.0",
        ],
    );
    equal(Ecosystem::CratesIo, &[("1.0.0+build.1", "1.0.0+build.2")]);
    invalid(
        Ecosystem::CratesIo,
        &["v1.0.0", "1.0", "01.0.0", "1.0.0-", ""],
    );
}

#[test]
fn npm_semver() {
    ascending(
        Ecosystem::Npm,
        &[
            "0.0.1",
            "1.0.0-0",
            "1.0.0-alpha",
            "1.0.0",
            "v1.0.1",
            "=1.1.0",
            "2.0.0",
        ],
    );
    equal(
        Ecosystem::Npm,
        &[
            ("v1.2.3", "1.2.3"),
            ("=1.2.3", "1.2.3"),
            (" 1.2.3 ", "1.2.3"),
        ],
    );
    invalid(Ecosystem::Npm, &["1.2", "latest", "^1.2.3"]);
}

#[test]
fn go_semver_and_pseudo_versions() {
    ascending(
        Ecosystem::Go,
        &[
            "v0.0.0-20190101000000-abcdefabcdef",
            "v0.0.0-20220314234659-1baeb1ce4c0b",
            "v0.1.0",
            "v1.2.3-pre",
            // A pseudo-version on top of a pre-release sorts after it…
            "v1.2.3-pre.0.20220101000000-abcdefabcdef",
            "v1.2.3",
            // …and one built after v1.2.3 is v1.2.4-0.… (before v1.2.4).
            "v1.2.4-0.20220101000000-abcdefabcdef",
            "v1.2.4",
            "v2.0.0+incompatible",
            "v11.3.0-rc1+incompatible",
            "v11.3.0",
        ],
    );
    equal(
        Ecosystem::Go,
        &[
            ("v1.2.3", "1.2.3"),
            ("v2.0.0+incompatible", "2.0.0"),
            ("v1", "v1.0.0"),
            ("v1.2", "1.2.0"),
            ("go1.21.3", "1.21.3"),
            ("go1.21rc2", "1.21.0-rc.2"),
        ],
    );
    ascending(
        Ecosystem::Go,
        &["go1.20", "go1.21rc1", "go1.21rc2", "go1.21.0", "1.21.1"],
    );
    invalid(Ecosystem::Go, &["", "latest", "v1.02.0"]);
}

#[test]
fn semver_ranges_are_lenient() {
    assert_eq!(
        compare_semver(Ecosystem::Go, "v1.2", "1.2.0").unwrap(),
        Ordering::Equal
    );
    assert_eq!(
        compare_semver(Ecosystem::CratesIo, "0.0.0-0", "0.1.0").unwrap(),
        Ordering::Less
    );
}

#[test]
fn maven_comparable_version() {
    ascending(
        Ecosystem::Maven,
        &[
            "1-alpha",
            "1-alpha2",
            "1-alpha-10",
            "1-beta",
            "1-b2",
            "1-milestone",
            "1-m2",
            "1-rc",
            "1-cr2",
            "1-rc3",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-abc",
            "1-xyz",
            "1-1",
            "1.0.1",
            "1.1",
            "1.1.0.1",
            "1.2-SNAPSHOT",
            "1.2",
            "1.10",
            "2.0.0-M1",
            "2.0.0",
            "2.0.0.Final-1",
        ],
    );
    equal(
        Ecosystem::Maven,
        &[
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1", "1-ga"),
            ("1", "1.final"),
            ("1", "1-release"),
            ("1.0-alpha1", "1.0-ALPHA-1"),
            ("1a1", "1-alpha-1"),
            ("1-rc1", "1-cr1"),
            ("1.0.0.Final", "1.0.0"),
            ("2.14.1", "2.14.1.0"),
            ("1.00001", "1.1"),
        ],
    );
    // JBoss-style dotted qualifiers, build numbers after trimmed zeros.
    ascending(
        Ecosystem::Maven,
        &[
            "5.0.0.Alpha1",
            "5.0.0.Beta2",
            "5.0.0.CR1",
            "5.0.0",
            "5.0.0-1",
            "5.0.0.SP1",
            "5.0.1",
        ],
    );
    // Where Maven itself is not transitive (`1.sp` < `1-alpha` there), the side of the release
    // decides.
    ascending(Ecosystem::Maven, &["1-alpha", "1", "1.sp"]);
    // Log4Shell boundaries.
    ascending(
        Ecosystem::Maven,
        &[
            "2.0-beta9",
            "2.0-rc1",
            "2.0",
            "2.3.1",
            "2.12.2",
            "2.15.0",
            "2.16.0",
            "2.17.1",
        ],
    );
    invalid(Ecosystem::Maven, &["", "1 0"]);
}

#[test]
fn rubygems_gem_version() {
    ascending(
        Ecosystem::RubyGems,
        &[
            "0.9", "1.0.a", "1.0.a2", "1.0.a10", "1.0.b1", // `-1` reads as `.pre.1`.
            "1.0-1", "1.0.rc1", "1.0", "1.0.1", "1.1", "1.10", "5.2.4.3", "5.2.4.4",
        ],
    );
    equal(
        Ecosystem::RubyGems,
        &[
            ("1.0", "1"),
            ("1.0.0", "1"),
            ("1.0.a", "1.a"),
            ("1.0-rc1", "1.0.pre.rc1"),
            ("", "0"),
            ("  1.2 ", "1.2"),
        ],
    );
    invalid(Ecosystem::RubyGems, &["a.1", "1..2", "1.2_3", "junk"]);
}

#[test]
fn nuget_versions() {
    ascending(
        Ecosystem::NuGet,
        &[
            "1.0.0-alpha",
            "1.0.0-Alpha.1",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-RC.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "13.0.1",
            "13.0.3",
        ],
    );
    equal(
        Ecosystem::NuGet,
        &[
            ("1.0", "1.0.0"),
            ("1", "1.0.0.0"),
            ("1.0.0-BETA", "1.0.0-beta"),
            ("1.0.0+metadata", "1.0.0"),
            ("1.0.0-rc.1+a", "1.0.0-RC.1+b"),
            ("01.0.0", "1.0.0"),
        ],
    );
    invalid(Ecosystem::NuGet, &["1.0.0.0.0", "1..0", "1.0.0-", "abc"]);
}

#[test]
fn packagist_composer() {
    ascending(
        Ecosystem::Packagist,
        &[
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-alpha2",
            "1.0.0-beta",
            "1.0.0-beta1-dev",
            "1.0.0-beta1",
            "1.0.0-beta.2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.0.1",
            "1.0.1",
            "v1.1",
            "1.x-dev",
            "2.0",
        ],
    );
    equal(
        Ecosystem::Packagist,
        &[
            ("v1.0", "1.0.0.0"),
            ("1.0.0-b2", "1.0.0-beta2"),
            ("1.0.0-pl1", "1.0.0-patch1"),
            ("1.0.0-stable", "1.0.0"),
            ("1.0.0+build", "1.0.0"),
            ("1.0.0rc1", "1.0.0-RC1"),
        ],
    );
    invalid(
        Ecosystem::Packagist,
        &["dev-main", "1.0.0-foo", "1.0.0.0.0", ""],
    );
}

#[test]
fn debian_dpkg() {
    ascending(
        Ecosystem::Debian,
        &[
            "1.0~~",
            "1.0~~a",
            "1.0~",
            "1.0",
            "1.0-1",
            // Letters sort before other characters.
            "1.0a",
            "1.0+dfsg-1",
            "1.1",
            "3.0.11-1~deb12u1",
            "3.0.11-1~deb12u2",
            "3.0.11-1",
            "3.0.11-1+deb12u1",
            "1:0.1",
            "2:0.0.1",
        ],
    );
    equal(
        Ecosystem::Debian,
        &[("0:1.0", "1.0"), ("1.0-0", "1.0"), ("1.01", "1.1")],
    );
    invalid(Ecosystem::Debian, &["", "a1.0", "1.0 1", "1.0_x"]);
}

#[test]
fn alpine_apk() {
    ascending(
        Ecosystem::Alpine,
        &[
            "1.2.3_alpha",
            "1.2.3_alpha1",
            "1.2.3_beta1",
            "1.2.3_pre1",
            "1.2.3_rc1",
            "1.2.3_rc2",
            "1.2.3",
            "1.2.3-r0",
            "1.2.3-r1",
            "1.2.3-r10",
            "1.2.3_cvs1",
            "1.2.3_svn1",
            "1.2.3_git20200101",
            "1.2.3_hg1",
            "1.2.3_p1",
            "1.2.3_p1-r1",
            "1.2.3_p2",
            "1.2.3a",
            "1.2.3b",
            "1.2.3.1",
            "1.2.4",
            "1.10",
        ],
    );
    ascending(
        Ecosystem::Alpine,
        &["3.0.8-r0", "3.0.10-r0", "3.1.4-r5", "3.1.4-r6"],
    );
    equal(Ecosystem::Alpine, &[("1.0", "1.00"), ("1.010", "1.01")]);
    // Later components with a leading zero compare as decimal fractions.
    ascending(Ecosystem::Alpine, &["1.001", "1.01", "1.1"]);
    invalid(
        Ecosystem::Alpine,
        &["", "a1", "1.2.3_foo", "1.2.3-r", "1.2.3-1", "1.2.3AB"],
    );
}

#[test]
fn rpm_rpmvercmp() {
    ascending(
        Ecosystem::Rpm,
        &[
            "1.0~rc1",
            "1.0~rc2",
            "1.0",
            "1.0-1",
            "1.0-2.el8",
            "1.0-10.el8",
            "1.0^git1",
            "1.0^git2",
            // Letters sort before numbers.
            "1.0a",
            "1.0.1",
            "1.1",
            "1.10",
            "1:0.9",
        ],
    );
    equal(
        Ecosystem::Rpm,
        &[
            ("0:1.0", "1.0"),
            ("1.0", "1_0"),
            ("1.01", "1.1"),
            ("1.0-1", "1.0-01"),
        ],
    );
    // Letters sort before numbers.
    ascending(Ecosystem::Rpm, &["1.a", "1.1"]);
    invalid(Ecosystem::Rpm, &["", "x:1.0", "1.0 1", ":1.0"]);
}

// ---------- properties ----------

fn semver_core() -> impl Strategy<Value = String> {
    (0u8..4, 0u8..4, 0u8..4).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

fn pre_ident() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("alpha".to_owned()),
        Just("beta".to_owned()),
        Just("rc".to_owned()),
        Just("Beta".to_owned()),
        (0u8..12).prop_map(|n| n.to_string()),
        "[a-z]{1,3}",
    ]
}

fn semver_version() -> impl Strategy<Value = String> {
    (
        semver_core(),
        prop::collection::vec(pre_ident(), 0..3),
        prop::option::of("[a-z0-9]{1,3}"),
    )
        .prop_map(|(core, pre, build)| {
            let mut v = core;
            if !pre.is_empty() {
                v.push('-');
                v.push_str(&pre.join("."));
            }
            if let Some(b) = build {
                v.push('+');
                v.push_str(&b);
            }
            v
        })
}

/// Versions of `eco` built from its own pieces, so the properties see many equal and nearly
/// equal versions.
fn version_of(eco: Ecosystem) -> BoxedStrategy<String> {
    match eco {
        Ecosystem::CratesIo | Ecosystem::NuGet => semver_version().boxed(),
        Ecosystem::Npm => (
            prop_oneof![Just(""), Just("v"), Just("=")],
            semver_version(),
        )
            .prop_map(|(p, v)| format!("{p}{v}"))
            .boxed(),
        Ecosystem::Go => prop_oneof![
            (prop_oneof![Just(""), Just("v")], semver_version())
                .prop_map(|(p, v)| format!("{p}{v}")),
            (semver_core(), 2019u16..2023, "[0-9a-f]{12}")
                .prop_map(|(c, y, h)| format!("v{c}-0.{y}0101000000-{h}")),
            (0u8..3).prop_map(|m| format!("v{m}")),
        ]
        .boxed(),
        Ecosystem::PyPI => (
            0u8..2,
            prop::collection::vec(0u8..4, 1..4),
            prop::option::of((prop_oneof![Just("a"), Just("b"), Just("rc")], 0u8..3)),
            prop::option::of(0u8..3),
            prop::option::of(0u8..3),
            prop::option::of("[a-z0-9]{1,3}(\\.[a-z0-9]{1,2})?"),
        )
            .prop_map(|(epoch, release, pre, post, dev, local)| {
                let mut v = String::new();
                if epoch > 0 {
                    v.push_str(&format!("{epoch}!"));
                }
                let parts: Vec<String> = release.iter().map(ToString::to_string).collect();
                v.push_str(&parts.join("."));
                if let Some((l, n)) = pre {
                    v.push_str(&format!("{l}{n}"));
                }
                if let Some(p) = post {
                    v.push_str(&format!(".post{p}"));
                }
                if let Some(d) = dev {
                    v.push_str(&format!(".dev{d}"));
                }
                if let Some(l) = local {
                    v.push_str(&format!("+{l}"));
                }
                v
            })
            .boxed(),
        Ecosystem::Maven => prop::collection::vec(
            (
                prop_oneof![Just("."), Just("-"), Just("")],
                prop_oneof![
                    (0u8..4).prop_map(|n| n.to_string()),
                    Just("alpha".to_owned()),
                    Just("a".to_owned()),
                    Just("beta".to_owned()),
                    Just("m".to_owned()),
                    Just("RC".to_owned()),
                    Just("cr".to_owned()),
                    Just("SNAPSHOT".to_owned()),
                    Just("ga".to_owned()),
                    Just("final".to_owned()),
                    Just("sp".to_owned()),
                    Just("foo".to_owned()),
                    Just("zz".to_owned()),
                ],
            ),
            0..5,
        )
        .prop_map(|parts| {
            let mut v = String::from("1");
            for (sep, item) in parts {
                v.push_str(sep);
                v.push_str(&item);
            }
            v
        })
        .boxed(),
        Ecosystem::RubyGems => (
            prop::collection::vec(
                prop_oneof![
                    (0u8..4).prop_map(|n| n.to_string()),
                    Just("a".to_owned()),
                    Just("b".to_owned()),
                    Just("rc".to_owned()),
                    Just("pre".to_owned()),
                    Just("a1".to_owned()),
                ],
                0..4,
            ),
            prop::option::of(prop_oneof![Just("1"), Just("rc"), Just("a.1")]),
        )
            .prop_map(|(segs, pre)| {
                let mut v = String::from("1");
                for s in segs {
                    v.push('.');
                    v.push_str(&s);
                }
                if let Some(p) = pre {
                    v.push('-');
                    v.push_str(p);
                }
                v
            })
            .boxed(),
        Ecosystem::Packagist => (
            prop_oneof![Just(""), Just("v")],
            prop::collection::vec(0u8..3, 1..5),
            prop::option::of((
                prop_oneof![
                    Just("alpha"),
                    Just("a"),
                    Just("beta"),
                    Just("RC"),
                    Just("patch"),
                    Just("pl"),
                    Just("stable")
                ],
                prop::option::of(0u8..3),
            )),
            any::<bool>(),
        )
            .prop_map(|(v, parts, stab, dev)| {
                let nums: Vec<String> = parts.iter().map(ToString::to_string).collect();
                let mut s = format!("{v}{}", nums.join("."));
                if let Some((word, n)) = stab {
                    s.push('-');
                    s.push_str(word);
                    if let Some(n) = n {
                        s.push_str(&n.to_string());
                    }
                }
                if dev {
                    s.push_str("-dev");
                }
                s
            })
            .boxed(),
        Ecosystem::Debian => (
            prop::option::of(0u8..3),
            "[0-9][0-9a-z.+~]{0,6}",
            prop::option::of("[0-9a-z+.~]{1,5}"),
        )
            .prop_map(|(epoch, up, rev)| {
                let mut v = String::new();
                if let Some(e) = epoch {
                    v.push_str(&format!("{e}:"));
                }
                v.push_str(&up);
                if let Some(r) = rev {
                    v.push('-');
                    v.push_str(&r);
                }
                v
            })
            .boxed(),
        Ecosystem::Alpine => (
            prop::collection::vec(
                prop_oneof![Just("0"), Just("1"), Just("2"), Just("01"), Just("10")],
                1..4,
            ),
            prop::option::of(prop_oneof![Just("a"), Just("b")]),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("alpha"),
                        Just("beta"),
                        Just("pre"),
                        Just("rc"),
                        Just("cvs"),
                        Just("git"),
                        Just("p")
                    ],
                    prop::option::of(0u8..3),
                ),
                0..3,
            ),
            prop::option::of(0u8..3),
        )
            .prop_map(|(nums, letter, sufs, rev)| {
                let mut v = nums.join(".");
                if let Some(l) = letter {
                    v.push_str(l);
                }
                for (s, n) in sufs {
                    v.push('_');
                    v.push_str(s);
                    if let Some(n) = n {
                        v.push_str(&n.to_string());
                    }
                }
                if let Some(r) = rev {
                    v.push_str(&format!("-r{r}"));
                }
                v
            })
            .boxed(),
        Ecosystem::Rpm => (
            prop::option::of(0u8..3),
            "[0-9][0-9a-z.~^_]{0,6}",
            prop::option::of("[0-9a-z.~^]{1,4}"),
        )
            .prop_map(|(epoch, version, release)| {
                let mut v = String::new();
                if let Some(e) = epoch {
                    v.push_str(&format!("{e}:"));
                }
                v.push_str(&version);
                if let Some(r) = release {
                    v.push('-');
                    v.push_str(&r);
                }
                v
            })
            .boxed(),
    }
}

fn ecosystem() -> impl Strategy<Value = Ecosystem> {
    prop::sample::select(Ecosystem::ALL.to_vec())
}

fn le(o: Ordering) -> bool {
    o != Ordering::Greater
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_comparator_is_a_total_order(
        (eco, a, b, c) in ecosystem().prop_flat_map(|e| (Just(e), version_of(e), version_of(e), version_of(e)))
    ) {
        let ab = compare(eco, &a, &b);
        let ba = compare(eco, &b, &a);
        let bc = compare(eco, &b, &c);
        let ac = compare(eco, &a, &c);
        let (Ok(ab), Ok(ba), Ok(bc), Ok(ac)) = (ab, ba, bc, ac) else {
            return Err(TestCaseError::fail(format!(
                "{eco}: generated versions must be valid: {a:?} {b:?} {c:?}"
            )));
        };
        prop_assert_eq!(compare(eco, &a, &a).ok(), Some(Ordering::Equal), "{} reflexive {}", eco, a);
        prop_assert_eq!(ab, ba.reverse(), "{} antisymmetric {} {}", eco, a, b);
        if le(ab) && le(bc) {
            prop_assert!(le(ac), "{} transitive {} <= {} <= {} but {:?}", eco, a, b, c, ac);
        }
        if ab == Ordering::Equal && bc == Ordering::Equal {
            prop_assert_eq!(ac, Ordering::Equal, "{} equality transitive {} {} {}", eco, a, b, c);
        }
    }

    #[test]
    fn every_comparator_is_total_on_whatever_it_accepts(
        eco in ecosystem(),
        a in "[0-9a-zA-Z.+~^_:=-]{0,10}",
        b in "[0-9a-zA-Z.+~^_:=-]{0,10}",
        c in "[0-9a-zA-Z.+~^_:=-]{0,10}",
    ) {
        if let (Ok(ab), Ok(ba), Ok(bc), Ok(ac)) = (
            compare(eco, &a, &b),
            compare(eco, &b, &a),
            compare(eco, &b, &c),
            compare(eco, &a, &c),
        ) {
            prop_assert_eq!(ab, ba.reverse(), "{} antisymmetric {:?} {:?}", eco, a, b);
            if le(ab) && le(bc) {
                prop_assert!(le(ac), "{} transitive {:?} <= {:?} <= {:?}", eco, a, b, c);
            }
        }
    }

    #[test]
    fn no_comparator_panics_on_arbitrary_strings(eco in ecosystem(), a in any::<String>(), b in any::<String>()) {
        let _ = compare(eco, &a, &b);
        let _ = compare_semver(eco, &a, &b);
    }
}
