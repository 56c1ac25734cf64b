//! SPDX 2.3 JSON.
//!
//! Choices where the specification leaves room:
//! - `documentNamespace` is `https://spdx.org/spdxdocs/<name>-<uuid>`, the UUID being the one
//!   of [`SbomMeta::serial`] (the pattern of the specification's examples and of SPDX's own
//!   tools); so the same serial gives the same namespace, a new serial a new one.
//! - Packages are identified `SPDXRef-Package-<type>-<name>-<version>-<8 hex of SHA-256 of
//!   the purl>` (letters, digits, `.` and `-` only); the project or image is `SPDXRef-Root`
//!   (purpose `APPLICATION`), its distribution, when known, `SPDXRef-OperatingSystem`
//!   (purpose `OPERATING_SYSTEM`, contained by the root).
//! - Each package: `downloadLocation`, `licenseConcluded` `NOASSERTION`, `filesAnalyzed`
//!   false, purpose `LIBRARY`, the purl as an external reference of category
//!   `PACKAGE-MANAGER` (the spelling of the 2.3 specification and of every 2.3 JSON schema;
//!   `PACKAGE_MANAGER` was only added later as an alternative), the lockfiles it was found in
//!   as `sourceInfo`.
//! - `licenseDeclared`: the package's expressions joined with `AND`, ids spelled as the SPDX
//!   list spells them. What the list does not know becomes a `LicenseRef-` declared in
//!   `hasExtractedLicensingInfos` with the text as written: an unknown id (`Foo-1.0` →
//!   `LicenseRef-Foo-1.0`), an unknown exception (the whole `X WITH y`), a `DocumentRef-`,
//!   or a whole string that does not parse. Refs whose text had to be changed to fit the
//!   allowed characters carry 8 hex of the text's SHA-256. No licence → `NOASSERTION`.
//! - Relationships: the document `DESCRIBES` the root; the root `DEPENDS_ON` every package
//!   nothing else depends on (and one member of each otherwise unreachable cycle), except
//!   development ones, which are `DEV_DEPENDENCY_OF` the root instead; each package
//!   `DEPENDS_ON` its dependencies.
//! - An inventory with errors says so in the document `comment`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::license::{self, Expr, Simple};
use super::{Component, SbomMeta, components, serial_uuid, timestamp, top_level};
use crate::model::Inventory;

const ROOT_ID: &str = "SPDXRef-Root";
const OS_ID: &str = "SPDXRef-OperatingSystem";

/// Keeps letters, digits, `.` and `-`; other runs become one `-`; no `-` at either end.
fn sanitise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..4])
}

fn package_id(c: &Component<'_>) -> String {
    let p = c.package;
    let parts = [
        p.ecosystem.purl_type(),
        &sanitise(&p.name),
        &sanitise(&p.version),
    ];
    let readable: Vec<&str> = parts.into_iter().filter(|s| !s.is_empty()).collect();
    format!(
        "SPDXRef-Package-{}-{}",
        readable.join("-"),
        short_hash(&p.purl)
    )
}

/// The `LicenseRef-`s minted for one document: id → text as written.
#[derive(Default)]
struct Extracted(BTreeMap<String, String>);

impl Extracted {
    /// A `LicenseRef-` for `text`, registered with `text` as its extracted text.
    fn mint(&mut self, text: &str) -> Simple {
        self.mint_as(text, text)
    }

    /// A `LicenseRef-` named after `name` (plus a hash of it when its characters had to be
    /// changed), registered with `text` as its extracted text.
    fn mint_as(&mut self, name: &str, text: &str) -> Simple {
        let clean = sanitise(name);
        let name = if clean == name && !clean.is_empty() {
            clean
        } else if clean.is_empty() {
            short_hash(name)
        } else {
            format!("{clean}-{}", short_hash(name))
        };
        self.register(&name, text);
        Simple::Ref {
            document: None,
            name,
        }
    }

    fn register(&mut self, name: &str, text: &str) {
        self.0
            .entry(format!("LicenseRef-{name}"))
            .or_insert_with(|| text.to_owned());
    }

    fn simple(&mut self, s: &Simple) -> Simple {
        match s {
            Simple::Id { id, or_later } => match license::canonical_license_id(id) {
                Some(c) => Simple::Id {
                    id: c.to_owned(),
                    or_later: *or_later,
                },
                None if *or_later => self.mint_as(&format!("{id}-or-later"), &s.to_string()),
                None => self.mint(id),
            },
            Simple::Ref {
                document: None,
                name,
            } => {
                self.register(name, &s.to_string());
                s.clone()
            }
            Simple::Ref { .. } => self.mint(&s.to_string()),
        }
    }

    /// The expression with everything SPDX does not know replaced by minted refs.
    fn expr(&mut self, e: &Expr) -> Expr {
        match e {
            Expr::Simple(s) => Expr::Simple(self.simple(s)),
            Expr::With { license, exception } => match license::canonical_exception_id(exception) {
                Some(x) => Expr::With {
                    license: self.simple(license),
                    exception: x.to_owned(),
                },
                None => Expr::Simple(self.mint(&e.to_string())),
            },
            Expr::And(items) => Expr::And(items.iter().map(|i| self.expr(i)).collect()),
            Expr::Or(items) => Expr::Or(items.iter().map(|i| self.expr(i)).collect()),
        }
    }

    /// `licenseDeclared` for a package's licence strings.
    fn declared(&mut self, raw: &[String]) -> String {
        let mut items: Vec<Expr> = Vec::new();
        for r in raw {
            let r = r.trim();
            if r.is_empty() || r.eq_ignore_ascii_case("NOASSERTION") {
                continue;
            }
            if r.eq_ignore_ascii_case("NONE") {
                if raw.len() == 1 {
                    return "NONE".into();
                }
                continue;
            }
            let e = match license::parse(r) {
                Ok(e) => self.expr(&e),
                Err(_) => Expr::Simple(self.mint(r)),
            };
            if !items.contains(&e) {
                items.push(e);
            }
        }
        match items.len() {
            0 => "NOASSERTION".into(),
            1 => items.remove(0).to_string(),
            _ => Expr::And(items).to_string(),
        }
    }
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({ "spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to })
}

/// An SPDX 2.3 JSON document of an inventory (choices in the module documentation).
pub fn spdx(inv: &Inventory, meta: &SbomMeta) -> Value {
    let comps = components(inv);
    let ids: BTreeMap<&str, String> = comps
        .iter()
        .map(|c| (c.package.purl.as_str(), package_id(c)))
        .collect();
    let mut extracted = Extracted::default();

    let mut root = Map::new();
    root.insert("SPDXID".into(), ROOT_ID.into());
    root.insert("name".into(), meta.name.clone().into());
    if let Some(v) = &meta.version {
        root.insert("versionInfo".into(), v.clone().into());
    }
    root.insert("downloadLocation".into(), "NOASSERTION".into());
    root.insert("filesAnalyzed".into(), false.into());
    root.insert("primaryPackagePurpose".into(), "APPLICATION".into());
    let mut packages = vec![Value::Object(root)];

    if let Some(os) = &meta.os {
        let mut m = Map::new();
        m.insert("SPDXID".into(), OS_ID.into());
        m.insert("name".into(), os.name.clone().into());
        if let Some(v) = &os.version {
            m.insert("versionInfo".into(), v.clone().into());
        }
        m.insert("downloadLocation".into(), "NOASSERTION".into());
        m.insert("filesAnalyzed".into(), false.into());
        m.insert("primaryPackagePurpose".into(), "OPERATING_SYSTEM".into());
        packages.push(Value::Object(m));
    }

    for c in &comps {
        let p = c.package;
        let mut m = Map::new();
        m.insert("SPDXID".into(), ids[p.purl.as_str()].clone().into());
        m.insert("name".into(), p.name.clone().into());
        if !p.version.is_empty() {
            m.insert("versionInfo".into(), p.version.clone().into());
        }
        m.insert("downloadLocation".into(), "NOASSERTION".into());
        m.insert("filesAnalyzed".into(), false.into());
        m.insert("licenseConcluded".into(), "NOASSERTION".into());
        m.insert(
            "licenseDeclared".into(),
            extracted.declared(&c.licenses).into(),
        );
        if !c.hashes.is_empty() {
            let sums: Vec<Value> = c
                .hashes
                .iter()
                .map(|(alg, value)| json!({ "algorithm": alg.spdx_name(), "checksumValue": value }))
                .collect();
            m.insert("checksums".into(), sums.into());
        }
        m.insert(
            "externalRefs".into(),
            json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }]),
        );
        m.insert(
            "sourceInfo".into(),
            format!("package found in: {}", c.sources.join(", ")).into(),
        );
        m.insert("primaryPackagePurpose".into(), "LIBRARY".into());
        packages.push(Value::Object(m));
    }

    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", ROOT_ID)];
    if meta.os.is_some() {
        relationships.push(relationship(ROOT_ID, "CONTAINS", OS_ID));
    }
    let by_purl: BTreeMap<&str, &Component<'_>> =
        comps.iter().map(|c| (c.package.purl.as_str(), c)).collect();
    for purl in top_level(&comps) {
        let id = &ids[purl.as_str()];
        if by_purl[purl.as_str()].dev {
            relationships.push(relationship(id, "DEV_DEPENDENCY_OF", ROOT_ID));
        } else {
            relationships.push(relationship(ROOT_ID, "DEPENDS_ON", id));
        }
    }
    for c in &comps {
        let from = &ids[c.package.purl.as_str()];
        for dep in &c.dependencies {
            relationships.push(relationship(from, "DEPENDS_ON", &ids[dep.as_str()]));
        }
    }

    let mut doc = Map::new();
    doc.insert("spdxVersion".into(), "SPDX-2.3".into());
    doc.insert("dataLicense".into(), "CC0-1.0".into());
    doc.insert("SPDXID".into(), "SPDXRef-DOCUMENT".into());
    doc.insert("name".into(), meta.name.clone().into());
    let namespace_name = match sanitise(&meta.name) {
        n if n.is_empty() => "sbom".to_owned(),
        n => n,
    };
    doc.insert(
        "documentNamespace".into(),
        format!(
            "https://spdx.org/spdxdocs/{namespace_name}-{}",
            serial_uuid(&meta.serial)
        )
        .into(),
    );
    doc.insert(
        "creationInfo".into(),
        json!({
            "created": timestamp(meta.timestamp),
            "creators": [format!("Tool: evident-{}", meta.tool_version)],
            "licenseListVersion": license::LICENSE_LIST_VERSION,
        }),
    );
    if !inv.errors.is_empty() {
        let errors: Vec<String> = inv.errors.iter().map(ToString::to_string).collect();
        doc.insert(
            "comment".into(),
            format!("Incomplete: evident could not read {}", errors.join("; ")).into(),
        );
    }
    doc.insert("packages".into(), packages.into());
    if !extracted.0.is_empty() {
        let infos: Vec<Value> = extracted
            .0
            .iter()
            .map(|(id, text)| {
                json!({
                    "licenseId": id,
                    "name": text,
                    "extractedText": text,
                    "comment": "Declared by a package as written; evident has no licence text for it.",
                })
            })
            .collect();
        doc.insert("hasExtractedLicensingInfos".into(), infos.into());
    }
    doc.insert("relationships".into(), relationships.into());
    Value::Object(doc)
}
