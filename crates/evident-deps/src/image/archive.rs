//! Image archives: `docker save` tarballs (`manifest.json` → `Layers`) and OCI image layouts
//! (`oci-layout`, `index.json` → manifest → `layers`, blobs under `blobs/<alg>/<hex>`), as a
//! tarball (plain or gzip) or, for OCI, a directory.
//!
//! Two passes over the archive, so a gzip-compressed archive never needs seeking or a copy on
//! disk: the first lists the members and keeps the small JSON documents, the second reads only
//! the layers the chosen manifest names (verifying `sha256` blob digests as it goes).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::layers::{
    Budget, GZIP_MAGIC, LayerDelta, ZSTD_MAGIC, join_lexical, normalize, parse_layer,
};
use super::{ImageError, ScanOptions};

/// Where archive members come from.
pub(crate) enum Source {
    /// A tarball; `gzip` when the whole archive is compressed.
    Tar { path: PathBuf, gzip: bool },
    /// An OCI image layout directory.
    Dir(PathBuf),
}

/// A member's kind as listed.
#[derive(Debug, Clone)]
enum Member {
    File,
    /// A symlink or hard link, with its target resolved to a member path.
    Link(String),
}

type Visit<'a> = dyn FnMut(&str, &mut dyn Read) -> Result<(), ImageError> + 'a;

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Tar { path, .. } | Source::Dir(path) => path.display().to_string(),
        }
    }

    fn io(&self, context: &str, source: io::Error) -> ImageError {
        ImageError::Io {
            path: self.name(),
            context: context.to_owned(),
            source,
        }
    }

    /// Lists the members and calls `visit` for each regular file.
    fn walk(
        &self,
        members: &mut BTreeMap<String, Member>,
        visit: &mut Visit<'_>,
    ) -> Result<(), ImageError> {
        match self {
            Source::Tar { path, gzip } => {
                let file = std::fs::File::open(path).map_err(|e| self.io("cannot open", e))?;
                if *gzip {
                    let decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file));
                    let mut tar = tar::Archive::new(decoder);
                    let entries = tar
                        .entries()
                        .map_err(|e| self.io("cannot read the tarball", e))?;
                    self.walk_tar(entries, members, visit)
                } else {
                    let mut tar = tar::Archive::new(file);
                    let entries = tar
                        .entries_with_seek()
                        .map_err(|e| self.io("cannot read the tarball", e))?;
                    self.walk_tar(entries, members, visit)
                }
            }
            Source::Dir(root) => self.walk_dir(root, "", 0, members, visit),
        }
    }

    fn walk_tar<R: Read>(
        &self,
        entries: tar::Entries<'_, R>,
        members: &mut BTreeMap<String, Member>,
        visit: &mut Visit<'_>,
    ) -> Result<(), ImageError> {
        for (i, entry) in entries.enumerate() {
            let mut entry = entry.map_err(|e| {
                if i == 0 {
                    ImageError::NotAnImage {
                        path: self.name(),
                        reason: format!("not a tarball ({e})"),
                    }
                } else {
                    self.io("bad tar entry", e)
                }
            })?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = normalize(&raw).filter(|n| !n.is_empty()) else {
                continue;
            };
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    members.insert(name.clone(), Member::File);
                    visit(&name, &mut entry)?;
                }
                tar::EntryType::Symlink => {
                    let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                    let target = join_lexical(dir, &link);
                    members.insert(name, Member::Link(target));
                }
                tar::EntryType::Link => {
                    members.insert(name, Member::Link(join_lexical("", &link)));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn walk_dir(
        &self,
        dir: &Path,
        rel: &str,
        depth: usize,
        members: &mut BTreeMap<String, Member>,
        visit: &mut Visit<'_>,
    ) -> Result<(), ImageError> {
        if depth > 4 {
            return Ok(());
        }
        let rd = std::fs::read_dir(dir).map_err(|e| self.io("cannot list", e))?;
        let mut names: Vec<_> = rd.filter_map(Result::ok).collect();
        names.sort_by_key(std::fs::DirEntry::file_name);
        for e in names {
            let name = e.file_name().to_string_lossy().into_owned();
            let member = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                self.walk_dir(&e.path(), &member, depth + 1, members, visit)?;
            } else if ft.is_symlink() {
                if let Ok(target) = std::fs::read_link(e.path()) {
                    members.insert(
                        member,
                        Member::Link(join_lexical(rel, &target.to_string_lossy())),
                    );
                }
            } else if ft.is_file() {
                let mut f = std::fs::File::open(e.path())
                    .map_err(|err| self.io(&format!("cannot open {member}"), err))?;
                members.insert(member.clone(), Member::File);
                visit(&member, &mut f)?;
            }
        }
        Ok(())
    }
}

/// Follows member links to a regular member.
fn physical(members: &BTreeMap<String, Member>, name: &str) -> Option<String> {
    let mut cur = name.to_owned();
    for _ in 0..16 {
        match members.get(&cur)? {
            Member::File => return Some(cur),
            Member::Link(target) => cur.clone_from(target),
        }
    }
    None
}

/// What the first pass learns.
struct Listing {
    members: BTreeMap<String, Member>,
    /// Small JSON members, by name.
    json: HashMap<String, Vec<u8>>,
}

/// The layers to apply, bottom first, with the digest each must have (hex sha256).
struct Plan {
    layers: Vec<(String, Option<String>)>,
    notes: Vec<String>,
}

/// Reads an image archive into its stacked layers; returns them, bottom first, and notes.
pub(crate) fn read_layers(
    source: &Source,
    opts: &ScanOptions,
) -> Result<(Vec<Arc<LayerDelta>>, Vec<String>), ImageError> {
    let archive = source.name();
    let listing = list(source, opts)?;
    let plan = plan(&archive, &listing)?;

    // Second pass: the layers the plan names, each read once however often it is named.
    let mut wanted: HashMap<String, Option<String>> = HashMap::new();
    for (member, digest) in &plan.layers {
        wanted.insert(member.clone(), digest.clone());
    }
    let mut deltas: HashMap<String, Arc<LayerDelta>> = HashMap::new();
    let mut budget = Budget::default();
    let mut members = BTreeMap::new();
    source.walk(&mut members, &mut |name, reader| {
        let Some(expected) = wanted.get(name) else {
            return Ok(());
        };
        let mut hashing = HashingReader {
            inner: reader,
            hasher: Sha256::new(),
        };
        let delta = parse_layer(&mut hashing, &archive, name, opts, &mut budget)?;
        io::copy(&mut hashing, &mut io::sink()).map_err(|e| ImageError::BadLayer {
            archive: archive.clone(),
            layer: name.to_owned(),
            message: format!("cannot read: {e}"),
        })?;
        let actual = hex::encode(hashing.hasher.finalize());
        if let Some(expected) = expected
            && *expected != actual
        {
            return Err(ImageError::DigestMismatch {
                archive: archive.clone(),
                file: name.to_owned(),
                expected: expected.clone(),
                actual,
            });
        }
        deltas.insert(name.to_owned(), Arc::new(delta));
        Ok(())
    })?;
    let mut layers = Vec::with_capacity(plan.layers.len());
    let mut notes = plan.notes;
    for (member, _) in &plan.layers {
        let Some(delta) = deltas.get(member) else {
            return Err(ImageError::LayerNotFound {
                archive: archive.clone(),
                layer: member.clone(),
            });
        };
        notes.extend(delta.notes.iter().cloned());
        layers.push(delta.clone());
    }
    Ok((layers, notes))
}

/// First pass: every member's name, and the JSON documents small enough to be metadata.
fn list(source: &Source, opts: &ScanOptions) -> Result<Listing, ImageError> {
    let archive = source.name();
    let mut json = HashMap::new();
    let mut members = BTreeMap::new();
    source.walk(&mut members, &mut |name, reader| {
        let metadata = matches!(name, "manifest.json" | "index.json" | "oci-layout");
        let blob = name.starts_with("blobs/");
        if !metadata && !blob {
            return Ok(());
        }
        let mut buffered = BufReader::new(reader);
        let head = buffered.fill_buf().map_err(|e| ImageError::Io {
            path: archive.clone(),
            context: format!("cannot read {name}"),
            source: e,
        })?;
        let looks_json = head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !metadata
            && (!looks_json || head.starts_with(&GZIP_MAGIC) || head.starts_with(&ZSTD_MAGIC))
        {
            return Ok(());
        }
        let mut buf = Vec::new();
        buffered
            .take(opts.max_json_bytes.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| ImageError::Io {
                path: archive.clone(),
                context: format!("cannot read {name}"),
                source: e,
            })?;
        if buf.len() as u64 > opts.max_json_bytes {
            if metadata {
                return Err(ImageError::Limit {
                    archive: archive.clone(),
                    what: name.to_owned(),
                    limit: opts.max_json_bytes,
                });
            }
            return Ok(());
        }
        json.insert(name.to_owned(), buf);
        Ok(())
    })?;
    if members.is_empty() {
        return Err(ImageError::NotAnImage {
            path: archive,
            reason: "an empty archive".to_owned(),
        });
    }
    Ok(Listing { members, json })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerImage {
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Debug, Clone)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Descriptor>,
}

fn bad_metadata(archive: &str, file: &str, message: impl Into<String>) -> ImageError {
    ImageError::BadMetadata {
        archive: archive.to_owned(),
        file: file.to_owned(),
        message: message.into(),
    }
}

fn plan(archive: &str, listing: &Listing) -> Result<Plan, ImageError> {
    if let Some(bytes) = listing.json.get("manifest.json") {
        return plan_docker(archive, listing, bytes);
    }
    if let Some(bytes) = listing.json.get("index.json") {
        return plan_oci(archive, listing, bytes);
    }
    Err(ImageError::MissingFile {
        archive: archive.to_owned(),
        file: "manifest.json (docker-archive) or index.json (OCI layout)".to_owned(),
    })
}

fn plan_docker(archive: &str, listing: &Listing, bytes: &[u8]) -> Result<Plan, ImageError> {
    let images: Vec<DockerImage> = serde_json::from_slice(bytes)
        .map_err(|e| bad_metadata(archive, "manifest.json", e.to_string()))?;
    let Some(image) = images.first() else {
        return Err(bad_metadata(archive, "manifest.json", "lists no image"));
    };
    let mut notes = Vec::new();
    if images.len() > 1 {
        let tags = image.repo_tags.clone().unwrap_or_default().join(", ");
        notes.push(format!(
            "{archive}: the archive holds {} images; only the first ({}) was scanned",
            images.len(),
            if tags.is_empty() { "untagged" } else { &tags }
        ));
    }
    let mut layers = Vec::new();
    for layer in &image.layers {
        let name = normalize(layer).filter(|n| !n.is_empty()).ok_or_else(|| {
            bad_metadata(
                archive,
                "manifest.json",
                format!("bad layer path {layer:?}"),
            )
        })?;
        let member =
            physical(&listing.members, &name).ok_or_else(|| ImageError::LayerNotFound {
                archive: archive.to_owned(),
                layer: name.clone(),
            })?;
        // Docker 25+ writes OCI blobs; their names are their digests.
        let digest = member
            .strip_prefix("blobs/sha256/")
            .filter(|h| is_hex64(h))
            .map(str::to_owned);
        layers.push((member, digest));
    }
    Ok(Plan { layers, notes })
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// `sha256:<hex>` → (`blobs/sha256/<hex>`, Some(hex)); other algorithms are not verified.
fn blob_path(
    archive: &str,
    file: &str,
    digest: &str,
) -> Result<(String, Option<String>), ImageError> {
    let bad = || bad_metadata(archive, file, format!("bad digest {digest:?}"));
    let (alg, enc) = digest.split_once(':').ok_or_else(bad)?;
    let alg_ok = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let enc_ok = !enc.is_empty()
        && enc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    if !alg_ok || !enc_ok {
        return Err(bad());
    }
    let check = (alg == "sha256").then(|| enc.to_owned());
    if check.as_deref().is_some_and(|h| !is_hex64(h)) {
        return Err(bad());
    }
    Ok((format!("blobs/{alg}/{enc}"), check))
}

/// A JSON blob, its digest verified.
fn json_blob<'a>(
    archive: &str,
    listing: &'a Listing,
    from: &str,
    digest: &str,
) -> Result<(String, &'a [u8]), ImageError> {
    let (path, check) = blob_path(archive, from, digest)?;
    let member = physical(&listing.members, &path).ok_or_else(|| ImageError::LayerNotFound {
        archive: archive.to_owned(),
        layer: format!("{path} (named by {from})"),
    })?;
    let Some(bytes) = listing.json.get(&member) else {
        return Err(bad_metadata(
            archive,
            &path,
            "not a JSON document within the metadata size limit",
        ));
    };
    if let Some(expected) = check {
        let actual = hex::encode(Sha256::digest(bytes));
        if actual != expected {
            return Err(ImageError::DigestMismatch {
                archive: archive.to_owned(),
                file: path,
                expected,
                actual,
            });
        }
    }
    Ok((path, bytes))
}

fn plan_oci(archive: &str, listing: &Listing, index: &[u8]) -> Result<Plan, ImageError> {
    let mut notes = Vec::new();
    if !listing.members.contains_key("oci-layout") {
        notes.push(format!(
            "{archive}: index.json without oci-layout; read as an OCI layout"
        ));
    }
    let mut file = "index.json".to_owned();
    let mut doc: serde_json::Value =
        serde_json::from_slice(index).map_err(|e| bad_metadata(archive, &file, e.to_string()))?;
    for _ in 0..8 {
        if doc.get("manifests").is_some() {
            let idx: Index = serde_json::from_value(doc)
                .map_err(|e| bad_metadata(archive, &file, e.to_string()))?;
            let chosen = choose(archive, &file, &idx.manifests)?;
            let (path, bytes) = json_blob(archive, listing, &file, &chosen.digest)?;
            doc = serde_json::from_slice(bytes)
                .map_err(|e| bad_metadata(archive, &path, e.to_string()))?;
            file = path;
        } else if doc.get("layers").is_some() {
            let manifest: Manifest = serde_json::from_value(doc)
                .map_err(|e| bad_metadata(archive, &file, e.to_string()))?;
            let mut layers = Vec::new();
            for layer in &manifest.layers {
                if layer
                    .media_type
                    .as_deref()
                    .is_some_and(|m| m.contains("zstd"))
                {
                    return Err(ImageError::Unsupported {
                        archive: archive.to_owned(),
                        what: format!("layer {} is zstd-compressed", layer.digest),
                    });
                }
                let (path, check) = blob_path(archive, &file, &layer.digest)?;
                let member =
                    physical(&listing.members, &path).ok_or_else(|| ImageError::LayerNotFound {
                        archive: archive.to_owned(),
                        layer: layer.digest.clone(),
                    })?;
                layers.push((member, check));
            }
            return Ok(Plan { layers, notes });
        } else {
            return Err(bad_metadata(
                archive,
                &file,
                "neither an image index (`manifests`) nor a manifest (`layers`)",
            ));
        }
    }
    Err(bad_metadata(
        archive,
        &file,
        "image indexes nest too deeply",
    ))
}

/// The manifest of an index to follow: the only one, else linux/amd64, else the only one left
/// once attestations (`unknown/unknown`) are set aside.
fn choose<'a>(
    archive: &str,
    file: &str,
    all: &'a [Descriptor],
) -> Result<&'a Descriptor, ImageError> {
    if let [only] = all {
        return Ok(only);
    }
    let is_attestation = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get("vnd.docker.reference.type"))
            .is_some_and(|t| t == "attestation-manifest")
            || d.platform.as_ref().is_some_and(|p| p.os == "unknown")
    };
    if let Some(d) = all.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
    }) {
        return Ok(d);
    }
    let images: Vec<&Descriptor> = all.iter().filter(|d| !is_attestation(d)).collect();
    if let [only] = images[..] {
        return Ok(only);
    }
    let platforms: Vec<String> = all
        .iter()
        .map(|d| match &d.platform {
            Some(p) => match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            },
            None => "unknown".to_owned(),
        })
        .collect();
    Err(ImageError::NoManifest {
        archive: archive.to_owned(),
        message: format!(
            "{file} lists {} manifests ({}) and none is linux/amd64",
            all.len(),
            platforms.join(", ")
        ),
    })
}

struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_name_blobs_safely() {
        let hex = "a".repeat(64);
        assert_eq!(
            blob_path("x", "index.json", &format!("sha256:{hex}")).unwrap(),
            (format!("blobs/sha256/{hex}"), Some(hex.clone()))
        );
        assert!(blob_path("x", "index.json", "sha256:../../etc/passwd").is_err());
        assert!(blob_path("x", "index.json", "sha256:abc").is_err());
        assert!(blob_path("x", "index.json", "nodigest").is_err());
        assert_eq!(
            blob_path("x", "f", "sha512:abcd").unwrap(),
            ("blobs/sha512/abcd".to_owned(), None)
        );
    }
}
