//! Artifact URIs → paths relative to the scanned root.
//!
//! SARIF locates files with an `artifactLocation` (`uri` + optional `uriBaseId`); the run's
//! `originalUriBaseIds` say what each base id stood for on the analysis machine (often
//! `file:///home/runner/work/app/app/`). evident wants repository-relative paths with `/`
//! separators, so a URI is composed with its base chain, the `file://` scheme is dropped, it is
//! percent-decoded, and it is made relative to the widest base it lies under. Web URLs (DAST
//! results) are kept exactly as given.

use std::collections::BTreeMap;

/// How deep `uriBaseId` chains are followed (guards against cycles).
const MAX_BASE_DEPTH: usize = 8;

/// One `originalUriBaseIds` entry: its URI and the base id it is itself relative to.
#[derive(Debug, Clone, Default)]
pub(crate) struct BaseEntry {
    pub uri: Option<String>,
    pub base_id: Option<String>,
}

/// The run's `originalUriBaseIds`, ready to resolve against.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bases {
    entries: BTreeMap<String, BaseEntry>,
    /// Absolute local paths of the bases, each ending in `/`, shortest (widest) first.
    roots: Vec<String>,
}

impl Bases {
    pub fn new(entries: BTreeMap<String, BaseEntry>) -> Self {
        let mut bases = Self {
            entries,
            roots: Vec::new(),
        };
        let mut roots: Vec<String> = bases
            .entries
            .values()
            .filter_map(|entry| {
                let uri = entry.uri.as_deref()?;
                let full = bases.compose(uri, entry.base_id.as_deref());
                let path = local_path(&full)?;
                is_absolute_path(&path).then(|| {
                    let mut root = normalize(&path);
                    if !root.ends_with('/') {
                        root.push('/');
                    }
                    root
                })
            })
            .collect();
        roots.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        roots.dedup();
        bases.roots = roots;
        bases
    }

    /// `uri` with its `uriBaseId` chain prepended, as far as the chain is known.
    fn compose(&self, uri: &str, base_id: Option<&str>) -> String {
        let mut full = uri.to_owned();
        let mut base_id = base_id.map(str::to_owned);
        for _ in 0..MAX_BASE_DEPTH {
            if has_scheme(&full) || is_absolute_path(&full) {
                break;
            }
            let Some(entry) = base_id.as_deref().and_then(|id| self.entries.get(id)) else {
                break;
            };
            let Some(base_uri) = entry.uri.as_deref() else {
                break;
            };
            full = if base_uri.ends_with('/') || base_uri.is_empty() {
                format!("{base_uri}{full}")
            } else {
                format!("{base_uri}/{full}")
            };
            base_id.clone_from(&entry.base_id);
        }
        full
    }

    /// The path evident records for an artifact location.
    pub fn resolve(&self, uri: &str, base_id: Option<&str>) -> String {
        let full = self.compose(uri.trim(), base_id);
        let Some(path) = local_path(&full) else {
            // A web URL (DAST) or another scheme: kept as given.
            return full;
        };
        let path = normalize(&path);
        if is_absolute_path(&path) {
            for root in &self.roots {
                if let Some(relative) = path.strip_prefix(root.as_str())
                    && !relative.is_empty()
                {
                    return relative.to_owned();
                }
            }
        }
        path
    }
}

/// `scheme:` at the start (two or more letters, so that `C:` is a drive, not a scheme).
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `/x`, `C:/x` or `C:\x`.
fn is_absolute_path(s: &str) -> bool {
    let bytes = s.as_bytes();
    s.starts_with('/')
        || s.starts_with('\\')
        || (bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'/' | b'\\'))
}

/// The local file path a URI stands for, or `None` for a non-file URI (e.g. `https://…`).
fn local_path(uri: &str) -> Option<String> {
    let path = if has_scheme(uri) {
        let (scheme, rest) = uri.split_once(':')?;
        if !scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        // file:///abs, file://localhost/abs, file:/abs; a remote host stays in the path.
        match rest.strip_prefix("//") {
            Some(authority_and_path) => {
                let (host, path) = match authority_and_path.find('/') {
                    Some(slash) => authority_and_path.split_at(slash),
                    None => (authority_and_path, ""),
                };
                if host.is_empty() || host.eq_ignore_ascii_case("localhost") {
                    path.to_owned()
                } else {
                    format!("//{host}{path}")
                }
            }
            None => rest.to_owned(),
        }
    } else {
        uri.to_owned()
    };
    let decoded = percent_decode(&path).replace('\\', "/");
    // file:///C:/x → /C:/x → C:/x
    let bytes = decoded.as_bytes();
    if bytes.len() >= 3 && bytes[0] == b'/' && bytes[1].is_ascii_alphabetic() && bytes[2] == b':' {
        return Some(decoded[1..].to_owned());
    }
    Some(decoded)
}

/// Decodes `%XX` escapes; input that does not decode to UTF-8 is returned unchanged.
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Drops `.` segments and empty segments (`a//b`), keeping a leading `/` and `..` segments.
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let trailing = path.ends_with('/') && path.len() > 1;
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let mut out = String::with_capacity(path.len());
    if absolute {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bases(entries: &[(&str, Option<&str>, Option<&str>)]) -> Bases {
        Bases::new(
            entries
                .iter()
                .map(|(id, uri, base)| {
                    (
                        (*id).to_owned(),
                        BaseEntry {
                            uri: uri.map(str::to_owned),
                            base_id: base.map(str::to_owned),
                        },
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn relative_uris_stay_relative() {
        let none = Bases::default();
        assert_eq!(none.resolve("src/app.py", None), "src/app.py");
        assert_eq!(none.resolve("src/app.py", Some("%SRCROOT%")), "src/app.py");
        assert_eq!(none.resolve("./src//app.py", None), "src/app.py");
        assert_eq!(none.resolve("src\\win\\App.cs", None), "src/win/App.cs");
    }

    #[test]
    fn uri_base_ids_are_resolved_and_made_relative() {
        let b = bases(&[("ROOTPATH", Some("file:///home/runner/work/app/"), None)]);
        assert_eq!(b.resolve("src/app.py", Some("ROOTPATH")), "src/app.py");
        assert_eq!(
            b.resolve("file:///home/runner/work/app/src/app.py", None),
            "src/app.py"
        );
        // Outside every base: kept absolute.
        assert_eq!(b.resolve("file:///opt/other/x.py", None), "/opt/other/x.py");
        assert_eq!(b.resolve("/opt/other/x.py", None), "/opt/other/x.py");
    }

    #[test]
    fn chained_bases_resolve_to_the_widest_root() {
        let b = bases(&[
            ("ROOT", Some("file:///repo/"), None),
            ("SRC", Some("src/"), Some("ROOT")),
            ("LOOP_A", Some("a/"), Some("LOOP_B")),
            ("LOOP_B", Some("b/"), Some("LOOP_A")),
            ("UNKNOWN", None, None),
        ]);
        assert_eq!(b.resolve("main.go", Some("SRC")), "src/main.go");
        assert_eq!(b.resolve("main.go", Some("UNKNOWN")), "main.go");
        // A cycle stops after a few steps and leaves a relative path.
        let looped = b.resolve("x.go", Some("LOOP_A"));
        assert!(
            looped.ends_with("x.go") && !looped.starts_with('/'),
            "{looped}"
        );
    }

    #[test]
    fn percent_encoding_and_file_uris() {
        let none = Bases::default();
        assert_eq!(none.resolve("path%20to/ec2.tf", None), "path to/ec2.tf");
        assert_eq!(none.resolve("caf%C3%A9.txt", None), "café.txt");
        // Not UTF-8 once decoded, or a stray `%`: kept as given.
        assert_eq!(none.resolve("bad%FF.txt", None), "bad%FF.txt");
        assert_eq!(none.resolve("100%.txt", None), "100%.txt");
        assert_eq!(none.resolve("a%2", None), "a%2");
        assert_eq!(
            none.resolve("file://localhost/etc/app.conf", None),
            "/etc/app.conf"
        );
        let win = bases(&[("SRCROOT", Some("file:///C:/work/repo/"), None)]);
        assert_eq!(
            win.resolve("file:///C:/work/repo/src/App.cs", None),
            "src/App.cs"
        );
    }

    #[test]
    fn urls_are_kept() {
        let b = bases(&[("ROOT", Some("file:///repo/"), None)]);
        assert_eq!(
            b.resolve("https://example.com/login?next=%2Fhome", None),
            "https://example.com/login?next=%2Fhome"
        );
    }
}
