//! dpkg's database: `var/lib/dpkg/status` and distroless `var/lib/dpkg/status.d/*`, RFC 822-style
//! stanzas separated by blank lines, continuation lines starting with a space or a tab.

use super::{DbPackage, DbRecords, Notes};

/// States in which a package's files are on disk and configured (`ii`, `it`, `iw`).
const INSTALLED: &[&str] = &["installed", "triggers-pending", "triggers-awaited"];
/// States in which files are (partly) on disk but the package is not configured.
const PARTIAL: &[&str] = &["unpacked", "half-configured", "half-installed"];

/// Reads a dpkg status file. `status_d` is for distroless `status.d/` files, whose stanzas have
/// no `Status` field: there a missing `Status` means installed.
///
/// A package counts when its `Status` state is `installed` (or `triggers-*`: configured, with
/// triggers still to run), whatever the wanted action (`install`, `hold`, `deinstall`): its
/// files are on disk. Partly installed packages (`unpacked`, `half-*`) are named in a note.
pub fn parse_status(bytes: &[u8], path: &str, status_d: bool) -> DbRecords {
    let text = String::from_utf8_lossy(bytes);
    let mut out = DbRecords::default();
    let mut notes = Notes::new(path);
    let mut partial: Vec<String> = Vec::new();
    let mut stanza: Vec<(String, String)> = Vec::new();
    let mut start = 0usize;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            if !stanza.is_empty() {
                finish(&stanza, start, status_d, &mut out, &mut notes, &mut partial);
                stanza.clear();
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match stanza.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => notes.push(format!(
                    "line {lineno}: a continuation line outside a field"
                )),
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            notes.push(format!("line {lineno}: not a `Field: value` line"));
            continue;
        };
        if stanza.is_empty() {
            start = lineno;
        }
        stanza.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    if !stanza.is_empty() {
        finish(&stanza, start, status_d, &mut out, &mut notes, &mut partial);
    }
    if !partial.is_empty() {
        notes.push(format!(
            "{} package(s) only partly installed (unpacked or half-configured), not counted: {}",
            partial.len(),
            partial.join(", ")
        ));
    }
    out.notes = notes.finish();
    out
}

fn finish(
    stanza: &[(String, String)],
    line: usize,
    status_d: bool,
    out: &mut DbRecords,
    notes: &mut Notes,
    partial: &mut Vec<String>,
) {
    let field = |name: &str| {
        stanza
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let Some(name) = field("package") else {
        notes.push(format!("line {line}: a stanza without `Package`"));
        return;
    };
    match field("status") {
        Some(status) => {
            let words: Vec<&str> = status.split_whitespace().collect();
            let [_want, _flag, state] = words[..] else {
                notes.push(format!(
                    "line {line}: {name}: malformed `Status: {status}`, not counted"
                ));
                return;
            };
            if PARTIAL.contains(&state) {
                partial.push(name.to_owned());
                return;
            }
            if !INSTALLED.contains(&state) {
                return;
            }
        }
        None if status_d => {}
        None => {
            notes.push(format!("line {line}: {name} has no `Status`, not counted"));
            return;
        }
    }
    let Some(version) = field("version") else {
        notes.push(format!("line {line}: {name} has no `Version`, not counted"));
        return;
    };
    let (source_name, source_version) = match field("source") {
        Some(source) => match source.split_once('(') {
            Some((n, v)) => (
                n.trim().to_owned(),
                v.trim().trim_end_matches(')').trim().to_owned(),
            ),
            None => (source.to_owned(), version.to_owned()),
        },
        None => (name.to_owned(), version.to_owned()),
    };
    let source_version = if source_version.is_empty() {
        version.to_owned()
    } else {
        source_version
    };
    out.packages.push(DbPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        arch: field("architecture").map(str::to_owned),
        source_name: Some(if source_name.is_empty() {
            name.to_owned()
        } else {
            source_name
        }),
        source_version: Some(source_version),
        licenses: Vec::new(),
        epoch: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\
Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 This package is part of the OpenSSL project's implementation.
 .
 More text.

Package: zlib1g
Status: hold ok installed
Architecture: amd64
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1+b1

Package: gone
Status: deinstall ok config-files
Version: 1.0

Package: half
Status: install ok unpacked
Version: 2.0

Package: noversion
Status: install ok installed
";

    #[test]
    fn stanzas() {
        let r = parse_status(STATUS.as_bytes(), "var/lib/dpkg/status", false);
        let got: Vec<_> = r
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source_name.as_deref().unwrap(),
                    p.source_version.as_deref().unwrap(),
                    p.arch.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "libssl3",
                    "3.0.11-1~deb12u2",
                    "openssl",
                    "3.0.11-1~deb12u2",
                    Some("amd64")
                ),
                (
                    "zlib1g",
                    "1:1.2.13.dfsg-1+b1",
                    "zlib",
                    "1:1.2.13.dfsg-1",
                    Some("amd64")
                ),
            ]
        );
        assert_eq!(
            r.notes,
            [
                "var/lib/dpkg/status: line 25: noversion has no `Version`, not counted",
                "var/lib/dpkg/status: 1 package(s) only partly installed (unpacked or half-configured), not counted: half",
            ]
        );
    }

    #[test]
    fn status_d_needs_no_status() {
        let r = parse_status(
            b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
            "var/lib/dpkg/status.d/base",
            true,
        );
        assert_eq!(r.packages.len(), 1);
        assert!(r.notes.is_empty());
        let r = parse_status(
            b"Package: base-files\nVersion: 12.4\n",
            "var/lib/dpkg/status",
            false,
        );
        assert!(r.packages.is_empty());
        assert_eq!(r.notes.len(), 1);
    }
}
