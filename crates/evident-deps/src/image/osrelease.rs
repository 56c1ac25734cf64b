//! `os-release` (freedesktop.org): `KEY=value` lines, values optionally quoted.

use serde::{Deserialize, Serialize};

/// What an image says about its distribution (`/etc/os-release`, else `/usr/lib/os-release`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`: `debian`, `alpine`, `rhel`, `rocky`, … (`linux` when the file omits it).
    pub id: String,
    /// `VERSION_ID`: `12`, `3.19.1`, `9.3`.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`: `Debian GNU/Linux 12 (bookworm)`.
    pub pretty_name: Option<String>,
    /// `VERSION_CODENAME`: `bookworm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_codename: Option<String>,
}

/// Reads an os-release file; unknown keys and malformed lines are ignored (as systemd does).
pub fn parse(bytes: &[u8]) -> OsRelease {
    let text = String::from_utf8_lossy(bytes);
    let mut out = OsRelease {
        id: "linux".to_owned(),
        ..OsRelease::default()
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        match key.trim() {
            "ID" if !value.is_empty() => out.id = value,
            "VERSION_ID" => out.version_id = non_empty(value),
            "PRETTY_NAME" => out.pretty_name = non_empty(value),
            "VERSION_CODENAME" => out.version_codename = non_empty(value),
            _ => {}
        }
    }
    out
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Shell-style value: `"…"` with `\"`, `\\`, `\$`, `` \` `` escapes, `'…'` literal, or bare.
fn unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (None, '#') => break,
            (_, c) => out.push(c),
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values() {
        let r = parse(
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME='Debian'\nVERSION_ID=\"12\"\n\
              ID=debian\nVERSION_CODENAME=bookworm\nHOME_URL=\"https://www.debian.org/\"\n\
              # comment\nBROKEN LINE\nX=\"a \\\"q\\\" b\"\n",
        );
        assert_eq!(r.id, "debian");
        assert_eq!(r.version_id.as_deref(), Some("12"));
        assert_eq!(
            r.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(r.version_codename.as_deref(), Some("bookworm"));
        assert_eq!(unquote(r#""a \"q\" b""#), r#"a "q" b"#);
        assert_eq!(unquote("'it''s'"), "its");
        assert_eq!(unquote("bare # comment"), "bare");
    }

    #[test]
    fn missing_id_is_linux() {
        assert_eq!(parse(b"").id, "linux");
    }
}
