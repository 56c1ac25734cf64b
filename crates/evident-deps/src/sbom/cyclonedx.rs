//! CycloneDX 1.6 JSON.
//!
//! Choices where the specification leaves room:
//! - Every package is a `library` (OS packages too); the distribution of an image, when
//!   [`SbomMeta::os`] names it, is an `operating-system` component.
//! - `bom-ref` is the purl. Packages sharing a purl are one component with one
//!   `evident:source` property per lockfile or database it was found in.
//! - Names: the npm scope (`@babel`) and the Maven group become `group`, the Composer vendor
//!   too; Go modules keep their whole path as `name` (the CycloneDX Go tooling does the same).
//! - Development dependencies have `scope: "excluded"` ("component usage for test and other
//!   non-runtime purposes … not reachable within a call graph at runtime"); `optional` means
//!   something else (not installed or not callable at runtime). Other components have no
//!   `scope` (the default, `required`). A package that is a development dependency in one
//!   lockfile and a runtime one in another is not excluded.
//! - Licences: one SPDX id on the list → `{"license": {"id"}}`; an expression (compound,
//!   `+`, `WITH`, `LicenseRef-`) whose licences are all on the SPDX list → `{"expression"}`,
//!   several of them joined with `AND`; anything else → `{"license": {"name"}}` as written
//!   (the schema allows one expression or a list of licences, never both). SPDX's
//!   `NOASSERTION` and `NONE` are not licences: they are left out.
//! - `dependencies`: the root depends on every component nothing else depends on (and on
//!   one member of each cycle nothing outside depends on); a component gets an entry when
//!   its source records the graph (an empty entry then means "no dependencies", as the
//!   specification reads it); edges to purls not in the BOM are dropped.
//! - An inventory with errors is marked incomplete: `compositions` with aggregate
//!   `incomplete`, and one `evident:error` property per error in the metadata.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::license::{self, Expr, Simple};
use super::{Component, SbomMeta, components, timestamp, top_level};
use crate::model::{Ecosystem, Inventory, Package};

/// A known vulnerability of a package of the inventory, for the `vulnerabilities` section.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vulnerability {
    /// `GHSA-…`, `CVE-…`, `RUSTSEC-…`, `PYSEC-…`, …
    pub id: String,
    /// Other ids of the same vulnerability (OSV `aliases`).
    pub aliases: Vec<String>,
    /// The advisory's page; derived from the id when absent (NVD, GitHub, osv.dev).
    pub source_url: Option<String>,
    /// One line (OSV `summary`) → CycloneDX `description`.
    pub summary: Option<String>,
    /// The long text (OSV `details`) → CycloneDX `detail`.
    pub details: Option<String>,
    /// `critical`, `high`, `medium` (or `moderate`), `low`, `info`, `none`; others → `unknown`.
    pub severity: Option<String>,
    /// `CVSS:3.1/AV:N/…`, `CVSS:4.0/…`, or a CVSS v2 vector.
    pub cvss_vector: Option<String>,
    pub cvss_score: Option<f64>,
    /// The first version that fixes it, if any.
    pub fixed: Option<String>,
    /// The purl of the affected package: a purl of the inventory (one that is not is listed
    /// as an `evident:unmatched-purl` property of the vulnerability rather than as a dangling
    /// `affects` reference).
    pub affects_purl: String,
}

const SCHEMA: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

/// The bom-ref of the root component: never a purl, so never equal to a package's.
fn root_ref(meta: &SbomMeta) -> String {
    match &meta.version {
        Some(v) => format!("root:{}@{v}", meta.name),
        None => format!("root:{}", meta.name),
    }
}

/// `(group, name)` as CycloneDX splits the package's name.
fn group_and_name(p: &Package) -> (Option<&str>, &str) {
    match p.ecosystem {
        Ecosystem::Npm if p.name.starts_with('@') => match p.name.split_once('/') {
            Some((scope, rest)) => (Some(scope), rest),
            None => (None, p.name.as_str()),
        },
        Ecosystem::Maven => match p.name.split_once(':') {
            Some((group, artifact)) => (Some(group), artifact),
            None => (None, p.name.as_str()),
        },
        Ecosystem::Packagist => match p.name.split_once('/') {
            Some((vendor, name)) => (Some(vendor), name),
            None => (None, p.name.as_str()),
        },
        _ => (None, p.name.as_str()),
    }
}

/// How one licence string can be written in CycloneDX.
enum Lic {
    /// A single id on the SPDX list (canonical spelling).
    Id(&'static str),
    /// A valid SPDX expression (canonical spelling).
    Expr(Expr),
    /// Anything else, as written.
    Name(String),
}

fn classify(raw: &str) -> Lic {
    match license::parse(raw) {
        Ok(Expr::Simple(Simple::Id {
            id,
            or_later: false,
        })) => match license::canonical_license_id(&id) {
            Some(c) => Lic::Id(c),
            None => Lic::Name(raw.to_owned()),
        },
        Ok(expr) if expr.is_spdx_valid() => Lic::Expr(expr.canonical()),
        _ => Lic::Name(raw.to_owned()),
    }
}

/// The `licenses` array of a component (`None` when it declares none).
fn licenses(raw: &[String]) -> Option<Value> {
    let classified: Vec<Lic> = raw
        .iter()
        .map(|r| r.trim())
        .filter(|r| {
            !r.is_empty()
                && !r.eq_ignore_ascii_case("NOASSERTION")
                && !r.eq_ignore_ascii_case("NONE")
        })
        .map(classify)
        .collect();
    if classified.is_empty() {
        return None;
    }
    let any_expr = classified.iter().any(|l| matches!(l, Lic::Expr(_)));
    let any_name = classified.iter().any(|l| matches!(l, Lic::Name(_)));
    if any_expr && !any_name {
        let mut items: Vec<Expr> = classified
            .into_iter()
            .map(|l| match l {
                Lic::Id(id) => Expr::Simple(Simple::Id {
                    id: id.to_owned(),
                    or_later: false,
                }),
                Lic::Expr(e) => e,
                Lic::Name(_) => unreachable!("no names here"),
            })
            .collect();
        let expr = if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        };
        return Some(json!([{ "expression": expr.to_string() }]));
    }
    let list: Vec<Value> = classified
        .into_iter()
        .map(|l| match l {
            Lic::Id(id) => json!({ "license": { "id": id } }),
            Lic::Expr(e) => json!({ "license": { "name": e.to_string() } }),
            Lic::Name(n) => json!({ "license": { "name": n } }),
        })
        .collect();
    Some(Value::Array(list))
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

fn component(c: &Component<'_>) -> Value {
    let p = c.package;
    let (group, name) = group_and_name(p);
    let mut m = Map::new();
    m.insert("type".into(), "library".into());
    m.insert("bom-ref".into(), p.purl.clone().into());
    if let Some(g) = group {
        m.insert("group".into(), g.into());
    }
    m.insert("name".into(), name.into());
    if !p.version.is_empty() {
        m.insert("version".into(), p.version.clone().into());
    }
    if c.dev {
        m.insert("scope".into(), "excluded".into());
    }
    if !c.hashes.is_empty() {
        let hashes: Vec<Value> = c
            .hashes
            .iter()
            .map(|(alg, value)| json!({ "alg": alg.cyclonedx_name(), "content": value }))
            .collect();
        m.insert("hashes".into(), hashes.into());
    }
    if let Some(l) = licenses(&c.licenses) {
        m.insert("licenses".into(), l);
    }
    m.insert("purl".into(), p.purl.clone().into());
    let props: Vec<Value> = c
        .sources
        .iter()
        .map(|s| property("evident:source", s))
        .collect();
    m.insert("properties".into(), props.into());
    Value::Object(m)
}

/// CVSS scoring method from the vector's prefix.
fn method(vector: &str) -> &'static str {
    let v = vector.trim();
    if v.starts_with("CVSS:3.1/") {
        "CVSSv31"
    } else if v.starts_with("CVSS:3.0/") {
        "CVSSv3"
    } else if v.starts_with("CVSS:4.0/") {
        "CVSSv4"
    } else if v.starts_with("AV:") || v.starts_with("(AV:") {
        "CVSSv2"
    } else {
        "other"
    }
}

fn severity(s: &str) -> &'static str {
    match s.trim().to_ascii_lowercase().as_str() {
        "critical" => "critical",
        "high" => "high",
        "medium" | "moderate" => "medium",
        "low" => "low",
        "info" | "informational" => "info",
        "none" => "none",
        _ => "unknown",
    }
}

/// The publisher of a vulnerability id, with the id's page there.
fn source_of(id: &str) -> (&'static str, String) {
    if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if id.starts_with("GHSA-") {
        ("GitHub", format!("https://github.com/advisories/{id}"))
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    }
}

fn vulnerability(
    id: &str,
    records: &[&Vulnerability],
    present: &BTreeSet<&str>,
    names: &BTreeMap<&str, String>,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), id.into());
    let (source_name, derived_url) = source_of(id);
    let url = records
        .iter()
        .find_map(|r| r.source_url.clone())
        .unwrap_or(derived_url);
    m.insert("source".into(), json!({ "name": source_name, "url": url }));
    let aliases: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| r.aliases.iter().map(String::as_str))
        .filter(|a| *a != id && !a.is_empty())
        .collect();
    if !aliases.is_empty() {
        let refs: Vec<Value> = aliases
            .iter()
            .map(|a| {
                let (name, url) = source_of(a);
                json!({ "id": a, "source": { "name": name, "url": url } })
            })
            .collect();
        m.insert("references".into(), refs.into());
    }
    let rated = records
        .iter()
        .find(|r| r.cvss_vector.is_some() || r.cvss_score.is_some() || r.severity.is_some());
    if let Some(r) = rated {
        let mut rating = Map::new();
        if let Some(score) = r.cvss_score.and_then(serde_json::Number::from_f64) {
            rating.insert("score".into(), Value::Number(score));
        }
        if let Some(s) = &r.severity {
            rating.insert("severity".into(), severity(s).into());
        }
        if let Some(v) = &r.cvss_vector {
            rating.insert("method".into(), method(v).into());
            rating.insert("vector".into(), v.trim().into());
        }
        m.insert("ratings".into(), json!([rating]));
    }
    if let Some(s) = records.iter().find_map(|r| r.summary.as_deref()) {
        m.insert("description".into(), s.into());
    }
    if let Some(d) = records.iter().find_map(|r| r.details.as_deref()) {
        m.insert("detail".into(), d.into());
    }
    // One recommendation per fixed affected package.
    let fixes: BTreeSet<(&str, &str)> = records
        .iter()
        .filter_map(|r| Some((r.affects_purl.as_str(), r.fixed.as_deref()?)))
        .collect();
    match fixes.len() {
        0 => {}
        1 if records.len() == 1 => {
            let (_, fixed) = fixes.first().expect("one fix");
            m.insert(
                "recommendation".into(),
                format!("Upgrade to {fixed}").into(),
            );
        }
        _ => {
            let parts: Vec<String> = fixes
                .iter()
                .map(|(purl, fixed)| {
                    let name = names.get(purl).map_or(*purl, String::as_str);
                    format!("Upgrade {name} to {fixed}")
                })
                .collect();
            m.insert("recommendation".into(), parts.join("; ").into());
        }
    }
    let affected: BTreeSet<&str> = records.iter().map(|r| r.affects_purl.as_str()).collect();
    let (matched, unmatched): (Vec<&str>, Vec<&str>) =
        affected.into_iter().partition(|p| present.contains(p));
    if !matched.is_empty() {
        let affects: Vec<Value> = matched.iter().map(|p| json!({ "ref": p })).collect();
        m.insert("affects".into(), affects.into());
    }
    if !unmatched.is_empty() {
        let props: Vec<Value> = unmatched
            .iter()
            .map(|p| property("evident:unmatched-purl", p))
            .collect();
        m.insert("properties".into(), props.into());
    }
    Value::Object(m)
}

/// A CycloneDX 1.6 JSON BOM of an inventory, with the given vulnerabilities (choices in the
/// module documentation).
pub fn cyclonedx(inv: &Inventory, meta: &SbomMeta, vulns: &[Vulnerability]) -> Value {
    let comps = components(inv);
    let root = root_ref(meta);

    let mut root_component = Map::new();
    root_component.insert("type".into(), "application".into());
    root_component.insert("bom-ref".into(), root.clone().into());
    root_component.insert("name".into(), meta.name.clone().into());
    if let Some(v) = &meta.version {
        root_component.insert("version".into(), v.clone().into());
    }

    let mut metadata = Map::new();
    metadata.insert("timestamp".into(), timestamp(meta.timestamp).into());
    metadata.insert(
        "tools".into(),
        json!({ "components": [{
            "type": "application",
            "name": "evident",
            "version": meta.tool_version,
        }] }),
    );
    metadata.insert("component".into(), Value::Object(root_component));
    if !inv.errors.is_empty() {
        let props: Vec<Value> = inv
            .errors
            .iter()
            .map(|e| property("evident:error", &e.to_string()))
            .collect();
        metadata.insert("properties".into(), props.into());
    }

    let mut component_list: Vec<Value> = Vec::new();
    if let Some(os) = &meta.os {
        let mut m = Map::new();
        m.insert("type".into(), "operating-system".into());
        let os_ref = match &os.version {
            Some(v) => format!("os:{}@{v}", os.name),
            None => format!("os:{}", os.name),
        };
        m.insert("bom-ref".into(), os_ref.into());
        m.insert("name".into(), os.name.clone().into());
        if let Some(v) = &os.version {
            m.insert("version".into(), v.clone().into());
        }
        component_list.push(Value::Object(m));
    }
    component_list.extend(comps.iter().map(component));

    let mut dependencies = vec![json!({ "ref": root, "dependsOn": top_level(&comps) })];
    for c in comps.iter().filter(|c| c.graph_known) {
        let mut d = Map::new();
        d.insert("ref".into(), c.package.purl.clone().into());
        if !c.dependencies.is_empty() {
            d.insert("dependsOn".into(), c.dependencies.clone().into());
        }
        dependencies.push(Value::Object(d));
    }

    let mut bom = Map::new();
    bom.insert("$schema".into(), SCHEMA.into());
    bom.insert("bomFormat".into(), "CycloneDX".into());
    bom.insert("specVersion".into(), "1.6".into());
    bom.insert("serialNumber".into(), meta.serial.clone().into());
    bom.insert("version".into(), 1.into());
    bom.insert("metadata".into(), Value::Object(metadata));
    bom.insert("components".into(), component_list.into());
    bom.insert("dependencies".into(), dependencies.into());
    if !inv.errors.is_empty() {
        bom.insert(
            "compositions".into(),
            json!([{ "aggregate": "incomplete", "assemblies": [root], "dependencies": [root] }]),
        );
    }

    if !vulns.is_empty() {
        let present: BTreeSet<&str> = comps.iter().map(|c| c.package.purl.as_str()).collect();
        let names: BTreeMap<&str, String> = comps
            .iter()
            .map(|c| {
                (
                    c.package.purl.as_str(),
                    format!("{}@{}", c.package.name, c.package.version),
                )
            })
            .collect();
        let mut by_id: BTreeMap<&str, Vec<&Vulnerability>> = BTreeMap::new();
        for v in vulns {
            by_id.entry(v.id.as_str()).or_default().push(v);
        }
        for records in by_id.values_mut() {
            records.sort_by(|a, b| (&a.affects_purl, &a.fixed).cmp(&(&b.affects_purl, &b.fixed)));
        }
        let list: Vec<Value> = by_id
            .iter()
            .map(|(id, records)| vulnerability(id, records, &present, &names))
            .collect();
        bom.insert("vulnerabilities".into(), list.into());
    }
    Value::Object(bom)
}
