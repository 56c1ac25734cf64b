//! Exact matching of packages against OSV records.
//!
//! The rules, in order:
//! - only a package's concrete version is matched; names compare normalised per ecosystem
//!   ([`Ecosystem::normalize_name`]), and for Debian, Alpine and RPM also by the source package
//!   named in the purl's `upstream` qualifier, restricted to the release in its `distro`
//!   qualifier when there is one;
//! - an `affected[]` entry matches when the version is in its `versions[]` list or in one of its
//!   `SEMVER`/`ECOSYSTEM` ranges; `GIT` ranges are ignored (an inventory has no commits);
//! - a range's events are sorted with the ecosystem's comparator (`introduced: "0"` first, and on
//!   equal versions `introduced` before the others) and walked up to the version: an
//!   `introduced` at or below it opens the range, a `fixed` at or below it or a `last_affected`
//!   below it closes it; the version is affected if the range is open at the end and the version
//!   is below every `limit`. Events whose version the comparator cannot read are left out, and a
//!   version the comparator cannot read is only looked up in `versions[]`;
//! - several entries and ranges are OR-ed; withdrawn records never match;
//! - records that name each other (or share an alias) are one vulnerability: one [`Match`] per
//!   package, under the preferred id (see [`preferred_rank`]), the other ids in `aliases`.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

use evident_core::Severity;
use serde::Serialize;

use super::cvss;
use super::record::{Advisory, Affected, Range};
use crate::model::{Ecosystem, Package};
use crate::version;

/// A package affected by a vulnerability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// Index of the package in the slice that was matched.
    pub package: usize,
    /// The preferred id of the vulnerability (see [`preferred_rank`]).
    pub id: String,
    /// Every other id it is known by (the merged records' ids and all their aliases), sorted.
    pub aliases: Vec<String>,
    /// The record's summary, or the first line of its details.
    pub summary: String,
    /// From the CVSS base score (≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low); a v4 vector only
    /// counts through the database's own severity word. The highest of the merged records.
    pub severity: Option<Severity>,
    /// The vector the severity was taken from (or the record's only vector).
    pub cvss: Option<String>,
    /// The nearest fixed version above the installed one in the matching range(s); when
    /// several records or ranges match, the highest of those.
    pub fixed: Option<String>,
    /// RustSec's informational kind (`unmaintained`, `unsound`, `notice`): a warning about the
    /// crate, not a vulnerability.
    pub informational: Option<String>,
    /// Reference URLs, de-duplicated, in record order.
    pub references: Vec<String>,
    /// Go: the affected import paths (`ecosystem_specific.imports`), for information only — the
    /// module is matched whatever packages of it are used.
    pub imports: Vec<String>,
}

/// How an id is preferred as the name of a merged match (lower first): GitHub advisories
/// (`GHSA-`, reviewed, cross-ecosystem, what most tools show), then the ecosystems' own
/// databases (`RUSTSEC-`, `GO-`, `PYSEC-`, distributions' ids, …), then `CVE-` ids; ties by the
/// id itself. Only ids of records in the database can be chosen.
pub fn preferred_rank(id: &str) -> u8 {
    if id.starts_with("GHSA-") {
        0
    } else if id.starts_with("CVE-") {
        2
    } else {
        1
    }
}

/// What matching needs of a package, computed once.
pub(crate) struct Wanted {
    pub ecosystem: Ecosystem,
    /// Normalised names: the package's, and a source package's for distributions.
    pub names: Vec<String>,
    /// The OSV release suffix (`12`, `v3.19`) when the purl says which distribution release.
    pub release: Option<String>,
}

impl Wanted {
    pub(crate) fn of(package: &Package) -> Wanted {
        let eco = package.ecosystem;
        let mut names = vec![eco.normalize_name(&package.name)];
        let qualifiers = purl_qualifiers(&package.purl);
        let mut release = None;
        if matches!(eco, Ecosystem::Debian | Ecosystem::Alpine | Ecosystem::Rpm) {
            if let Some(upstream) = qualifiers.get("upstream").map(|u| source_name(eco, u))
                && !upstream.is_empty()
                && !names.contains(&upstream)
            {
                names.push(upstream);
            }
            release = qualifiers.get("distro").and_then(|d| osv_release(eco, d));
        }
        Wanted {
            ecosystem: eco,
            names,
            release,
        }
    }

    /// Whether an `affected[]` entry is about this package.
    fn wants(&self, affected: &Affected) -> bool {
        let Some(pkg) = &affected.package else {
            return false;
        };
        if Ecosystem::from_osv(&pkg.ecosystem) != Some(self.ecosystem) {
            return false;
        }
        if let (Some(want), Some((_, suffix))) = (&self.release, pkg.ecosystem.split_once(':'))
            && !suffix.is_empty()
            && suffix != want
        {
            return false;
        }
        let name = self.ecosystem.normalize_name(&pkg.name);
        self.names.contains(&name)
    }
}

/// `?a=b&c=d` of a purl, percent-decoded.
fn purl_qualifiers(purl: &str) -> HashMap<String, String> {
    let purl = purl.split('#').next().unwrap_or(purl);
    let Some((_, q)) = purl.split_once('?') else {
        return HashMap::new();
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_ascii_lowercase(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The source package in an `upstream` qualifier: `openssl`, `openssl@3.0.11-1` (deb, apk),
/// `openssl-3.0.7-24.el9.src.rpm` (rpm).
fn source_name(eco: Ecosystem, upstream: &str) -> String {
    let name = upstream.split(['@', ' ', '(']).next().unwrap_or(upstream);
    if eco == Ecosystem::Rpm
        && let Some(base) = name.strip_suffix(".src.rpm")
    {
        // name-version-release
        let mut parts = base.rsplitn(3, '-');
        let (_release, _version) = (parts.next(), parts.next());
        return parts.next().unwrap_or(base).to_owned();
    }
    eco.normalize_name(name)
}

/// The OSV release suffix of a purl `distro` qualifier: `debian-12`, `bookworm` → `12`;
/// `alpine-3.19.1`, `3.19` → `v3.19`. RPM distributions are not narrowed.
fn osv_release(eco: Ecosystem, distro: &str) -> Option<String> {
    let d = distro.trim().to_ascii_lowercase();
    match eco {
        Ecosystem::Debian => {
            let v = d.strip_prefix("debian-").unwrap_or(&d);
            let major = match v {
                "stretch" => "9",
                "buster" => "10",
                "bullseye" => "11",
                "bookworm" => "12",
                "trixie" => "13",
                "forky" => "14",
                v => v.split('.').next().unwrap_or(v),
            };
            (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
                .then(|| major.to_owned())
        }
        Ecosystem::Alpine => {
            let v = d.strip_prefix("alpine-").unwrap_or(&d);
            let v = v.strip_prefix('v').unwrap_or(v);
            let mut parts = v.split('.');
            let (major, minor) = (parts.next()?, parts.next()?);
            (major.bytes().all(|b| b.is_ascii_digit()) && minor.bytes().all(|b| b.is_ascii_digit()))
                .then(|| format!("v{major}.{minor}"))
        }
        _ => None,
    }
}

/// A record's verdict on one package.
#[derive(Debug, Clone, Default)]
struct Hit {
    fixed: Option<String>,
    informational: Option<String>,
    imports: Vec<String>,
    entries: Vec<usize>,
}

/// A range event, its version read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

type Cmp = fn(Ecosystem, &str, &str) -> Result<Ordering, version::VersionError>;

/// The order of a range's versions: `ECOSYSTEM` ranges in the ecosystem's own; `SEMVER` ranges
/// as lenient SemVer, or, for Go and npm, in their own order (SemVer with the version forms
/// their tools write: `v` prefixes, toolchain names, `=`).
fn comparator(range: &Range, eco: Ecosystem) -> Option<Cmp> {
    match range.kind.as_str() {
        "SEMVER" if matches!(eco, Ecosystem::Go | Ecosystem::Npm) => Some(version::compare),
        "SEMVER" => Some(version::compare_semver),
        "ECOSYSTEM" => Some(version::compare),
        _ => None,
    }
}

/// The events of a range in ascending order; `None` stands for `introduced: "0"`.
fn sorted_events(eco: Ecosystem, range: &Range, cmp: Cmp) -> Vec<(Kind, Option<&str>)> {
    let mut events: Vec<(Kind, Option<&str>)> = Vec::new();
    for e in &range.events {
        let (kind, v) = if let Some(v) = &e.introduced {
            (Kind::Introduced, v)
        } else if let Some(v) = &e.fixed {
            (Kind::Fixed, v)
        } else if let Some(v) = &e.last_affected {
            (Kind::LastAffected, v)
        } else if let Some(v) = &e.limit {
            (Kind::Limit, v)
        } else {
            continue;
        };
        if kind == Kind::Introduced && v.trim() == "0" {
            events.push((kind, None));
        } else if cmp(eco, v, v).is_ok() {
            events.push((kind, Some(v.as_str())));
        }
    }
    // Insertion sort: a handful of events, and no panic even if a comparator misbehaved.
    let order = |a: &(Kind, Option<&str>), b: &(Kind, Option<&str>)| -> Ordering {
        let by_version = match (a.1, b.1) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp(eco, x, y).unwrap_or(Ordering::Equal),
        };
        by_version.then_with(|| (a.0 != Kind::Introduced).cmp(&(b.0 != Kind::Introduced)))
    };
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 && order(&events[j - 1], &events[j]) == Ordering::Greater {
            events.swap(j - 1, j);
            j -= 1;
        }
    }
    events
}

/// A version inside a range, and the range's nearest fixed version above it.
struct Inside {
    fixed: Option<String>,
}

/// Whether `v` is in the range.
fn in_range(eco: Ecosystem, range: &Range, v: &str) -> Option<Inside> {
    let cmp = comparator(range, eco)?;
    // An installed version the comparator cannot read cannot be placed in a range.
    cmp(eco, v, v).ok()?;
    let events = sorted_events(eco, range, cmp);
    let at_or_below = |x: Option<&str>| x.is_none_or(|x| le(cmp, eco, x, v));
    let mut affected = false;
    for (kind, x) in &events {
        match kind {
            Kind::Introduced if at_or_below(*x) => affected = true,
            Kind::Fixed if at_or_below(*x) => affected = false,
            Kind::LastAffected if x.is_some_and(|x| lt(cmp, eco, x, v)) => affected = false,
            _ => {}
        }
    }
    let limited = events
        .iter()
        .any(|(kind, x)| *kind == Kind::Limit && at_or_below(*x));
    if !affected || limited {
        return None;
    }
    Some(Inside {
        fixed: next_fixed(eco, &events, cmp, v),
    })
}

/// The lowest `fixed` event above `v`.
fn next_fixed(
    eco: Ecosystem,
    events: &[(Kind, Option<&str>)],
    cmp: Cmp,
    v: &str,
) -> Option<String> {
    events
        .iter()
        .filter(|(kind, _)| *kind == Kind::Fixed)
        .filter_map(|(_, x)| *x)
        .find(|x| lt(cmp, eco, v, x))
        .map(str::to_owned)
}

fn le(cmp: Cmp, eco: Ecosystem, a: &str, b: &str) -> bool {
    cmp(eco, a, b).is_ok_and(Ordering::is_le)
}

fn lt(cmp: Cmp, eco: Ecosystem, a: &str, b: &str) -> bool {
    cmp(eco, a, b).is_ok_and(Ordering::is_lt)
}

/// The higher of two versions (by `eco`'s order; the first when they cannot be compared).
fn higher(eco: Ecosystem, a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let o = version::compare(eco, &a, &b).or_else(|_| version::compare_semver(eco, &a, &b));
            if o.is_ok_and(Ordering::is_lt) {
                Some(b)
            } else {
                Some(a)
            }
        }
        (a, b) => a.or(b),
    }
}

/// Whether `advisory` affects the package, and how.
fn hit(advisory: &Advisory, package: &Package, wanted: &Wanted) -> Option<Hit> {
    if advisory.withdrawn.is_some() || package.version.trim().is_empty() {
        return None;
    }
    let eco = wanted.ecosystem;
    let v = package.version.trim();
    let mut out: Option<Hit> = None;
    for (index, affected) in advisory.affected.iter().enumerate() {
        if !wanted.wants(affected) {
            continue;
        }
        let mut matched = false;
        let mut fixed = None;
        for range in &affected.ranges {
            if let Some(inside) = in_range(eco, range, v) {
                matched = true;
                fixed = higher(eco, fixed, inside.fixed);
            }
        }
        let listed = affected.versions.iter().any(|listed| {
            listed == v || version::compare(eco, listed, v).is_ok_and(Ordering::is_eq)
        });
        if listed && !matched {
            // Listed explicitly: the nearest fix the ranges know of, if any.
            for range in &affected.ranges {
                if let Some(cmp) = comparator(range, eco) {
                    let events = sorted_events(eco, range, cmp);
                    fixed = higher(eco, fixed, next_fixed(eco, &events, cmp, v));
                }
            }
        }
        if !(matched || listed) {
            continue;
        }
        let h = out.get_or_insert_with(Hit::default);
        h.fixed = higher(eco, h.fixed.take(), fixed);
        h.entries.push(index);
        if h.informational.is_none() {
            h.informational = affected.informational().map(str::to_owned);
        }
        for import in affected.go_imports() {
            if !h.imports.contains(&import) {
                h.imports.push(import);
            }
        }
    }
    let mut h = out?;
    if h.informational.is_none() {
        h.informational = advisory
            .database_string("informational")
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
    }
    Some(h)
}

/// The severity of a record (for the matched entries) and the vector it came from.
pub(crate) fn severity(
    advisory: &Advisory,
    entries: &[usize],
) -> (Option<Severity>, Option<String>) {
    let scores = advisory.severity.iter().chain(
        entries
            .iter()
            .filter_map(|i| advisory.affected.get(*i))
            .flat_map(|a| a.severity.iter()),
    );
    let mut v3: Option<(f64, &str)> = None;
    let mut v2: Option<(f64, &str)> = None;
    let mut v4: Option<&str> = None;
    for s in scores {
        match s.kind.as_str() {
            "CVSS_V3" => {
                if let Some(score) = cvss::v3_base_score(&s.score)
                    && v3.is_none_or(|(best, _)| score > best)
                {
                    v3 = Some((score, &s.score));
                }
            }
            "CVSS_V2" => {
                if let Some(score) = cvss::v2_base_score(&s.score)
                    && v2.is_none_or(|(best, _)| score > best)
                {
                    v2 = Some((score, &s.score));
                }
            }
            "CVSS_V4" => {
                v4 = v4.or(Some(s.score.as_str()));
            }
            _ => {}
        }
    }
    let word = advisory
        .database_string("severity")
        .and_then(cvss::severity_of_word);
    if let Some((score, vector)) = v3 {
        return (
            Some(cvss::severity_of_score(score)),
            Some(vector.to_owned()),
        );
    }
    if let Some(vector) = v4 {
        return (word, Some(vector.to_owned()));
    }
    if let Some((score, vector)) = v2 {
        return (
            Some(cvss::severity_of_score(score)),
            Some(vector.to_owned()),
        );
    }
    (word, None)
}

fn summary_of(advisory: &Advisory) -> String {
    if let Some(s) = advisory
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return s.to_owned();
    }
    let details = advisory.details.as_deref().unwrap_or("").trim();
    let line = details.lines().next().unwrap_or("").trim();
    if line.chars().count() > 160 {
        let cut: String = line.chars().take(157).collect();
        format!("{cut}...")
    } else {
        line.to_owned()
    }
}

/// Matches every package against every record (in memory).
pub fn match_advisories(packages: &[Package], advisories: &[Advisory]) -> Vec<Match> {
    let pairs: Vec<(usize, &Advisory)> = (0..packages.len())
        .flat_map(|p| advisories.iter().map(move |a| (p, a)))
        .collect();
    match_pairs(packages, &pairs)
}

/// Matches candidate (package index, record) pairs, merging aliases per package.
pub(crate) fn match_pairs(packages: &[Package], pairs: &[(usize, &Advisory)]) -> Vec<Match> {
    let mut wanted: HashMap<usize, Wanted> = HashMap::new();
    let mut hits: Vec<(usize, &Advisory, Hit)> = Vec::new();
    // The same record twice for one package (several candidate names) counts once.
    let mut seen: HashSet<(usize, &str)> = HashSet::new();
    for (p, advisory) in pairs {
        let Some(package) = packages.get(*p) else {
            continue;
        };
        if !seen.insert((*p, advisory.id.as_str())) {
            continue;
        }
        let w = wanted.entry(*p).or_insert_with(|| Wanted::of(package));
        if let Some(h) = hit(advisory, package, w) {
            hits.push((*p, advisory, h));
        }
    }
    let mut out = Vec::new();
    let mut by_package: HashMap<usize, Vec<(&Advisory, Hit)>> = HashMap::new();
    for (p, a, h) in hits {
        by_package.entry(p).or_default().push((a, h));
    }
    let mut package_ids: Vec<usize> = by_package.keys().copied().collect();
    package_ids.sort_unstable();
    for p in package_ids {
        let records = by_package.remove(&p).unwrap_or_default();
        for group in alias_groups(&records) {
            out.push(merge(p, packages[p].ecosystem, &records, &group));
        }
    }
    out.sort_by(|a, b| a.package.cmp(&b.package).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Groups records that are the same vulnerability: one names the other, or they share an alias.
fn alias_groups(records: &[(&Advisory, Hit)]) -> Vec<Vec<usize>> {
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let n = records.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, (a, _)) in records.iter().enumerate() {
        for id in std::iter::once(a.id.as_str()).chain(a.aliases.iter().map(String::as_str)) {
            match owner.get(id) {
                Some(&j) => {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    if ri != rj {
                        parent[ri.max(rj)] = ri.min(rj);
                    }
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort();
    groups
}

fn merge(package: usize, eco: Ecosystem, records: &[(&Advisory, Hit)], group: &[usize]) -> Match {
    let primary = group
        .iter()
        .copied()
        .min_by(|&a, &b| {
            let (x, y) = (&records[a].0.id, &records[b].0.id);
            preferred_rank(x)
                .cmp(&preferred_rank(y))
                .then_with(|| x.cmp(y))
        })
        .unwrap_or(group[0]);
    let (advisory, _) = &records[primary];
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut references: Vec<String> = Vec::new();
    let mut best: Option<(Severity, Option<String>)> = None;
    let mut any_vector: Option<String> = None;
    let mut fixed: Option<String> = None;
    let mut informational: Option<String> = records[primary].1.informational.clone();
    let mut imports: Vec<String> = Vec::new();
    let mut summary = summary_of(advisory);
    // The preferred record first, then the others in id order.
    let mut order: Vec<usize> = group.to_vec();
    order.sort_by_key(|&i| (i != primary, records[i].0.id.clone()));
    for &i in &order {
        let (a, h) = &records[i];
        ids.insert(a.id.clone());
        ids.extend(a.aliases.iter().cloned());
        for r in &a.references {
            if !r.url.is_empty() && !references.contains(&r.url) {
                references.push(r.url.clone());
            }
        }
        let (s, v) = self::severity(a, &h.entries);
        if any_vector.is_none() {
            any_vector.clone_from(&v);
        }
        if let Some(s) = s
            && best.as_ref().is_none_or(|(b, _)| s > *b)
        {
            best = Some((s, v));
        }
        fixed = higher(eco, fixed, h.fixed.clone());
        if informational.is_none() {
            informational.clone_from(&h.informational);
        }
        for import in &h.imports {
            if !imports.contains(import) {
                imports.push(import.clone());
            }
        }
        if summary.is_empty() {
            summary = summary_of(a);
        }
    }
    ids.remove(&advisory.id);
    let (severity, cvss) = match best {
        Some((s, v)) => (Some(s), v.or(any_vector)),
        None => (None, any_vector),
    };
    Match {
        package,
        id: advisory.id.clone(),
        aliases: ids.into_iter().collect(),
        summary,
        severity,
        cvss,
        fixed,
        informational,
        references,
        imports,
    }
}
