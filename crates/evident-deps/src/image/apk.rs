//! apk's database, `lib/apk/db/installed`: `K:value` lines, one blank-line-separated block per
//! installed package (`P` name, `V` version, `A` arch, `o` origin, `L` licence).

use super::{DbPackage, DbRecords, Notes};

/// Reads an apk `installed` database.
pub fn parse_installed(bytes: &[u8], path: &str) -> DbRecords {
    let text = String::from_utf8_lossy(bytes);
    let mut out = DbRecords::default();
    let mut notes = Notes::new(path);
    let mut block = Block::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            block.finish(&mut out, &mut notes);
            continue;
        }
        if block.line == 0 {
            block.line = lineno;
        }
        let Some((key, value)) = line.split_once(':') else {
            notes.push(format!("line {lineno}: not a `K:value` line"));
            continue;
        };
        let value = value.trim();
        match key {
            "P" => block.name = Some(value.to_owned()),
            "V" => block.version = Some(value.to_owned()),
            "A" => block.arch = Some(value.to_owned()),
            "o" => block.origin = Some(value.to_owned()),
            "L" => block.license = Some(value.to_owned()),
            _ => {}
        }
    }
    block.finish(&mut out, &mut notes);
    out.notes = notes.finish();
    out
}

#[derive(Default)]
struct Block {
    line: usize,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    origin: Option<String>,
    license: Option<String>,
}

impl Block {
    fn finish(&mut self, out: &mut DbRecords, notes: &mut Notes) {
        let b = std::mem::take(self);
        if b.line == 0 {
            return;
        }
        let line = b.line;
        let Some(name) = b.name.filter(|n| !n.is_empty()) else {
            notes.push(format!("line {line}: a package without `P:`"));
            return;
        };
        let Some(version) = b.version.filter(|v| !v.is_empty()) else {
            notes.push(format!("line {line}: {name} has no `V:`, not counted"));
            return;
        };
        out.packages.push(DbPackage {
            source_name: Some(b.origin.filter(|o| !o.is_empty()).unwrap_or(name.clone())),
            source_version: Some(version.clone()),
            name,
            version,
            arch: b.arch.filter(|a| !a.is_empty()),
            licenses: b.license.filter(|l| !l.is_empty()).into_iter().collect(),
            epoch: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        let db = "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\nm:Someone\n\n\
                  P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\n\nP:broken\nA:x86_64\n\n\n";
        let r = parse_installed(db.as_bytes(), "lib/apk/db/installed");
        assert_eq!(r.packages.len(), 2);
        let p = &r.packages[0];
        assert_eq!(
            (
                p.name.as_str(),
                p.version.as_str(),
                p.source_name.as_deref(),
                p.arch.as_deref()
            ),
            ("libcrypto3", "3.1.4-r5", Some("openssl"), Some("x86_64"))
        );
        assert_eq!(p.licenses, ["Apache-2.0"]);
        assert_eq!(r.packages[1].source_name.as_deref(), Some("musl"));
        assert_eq!(
            r.notes,
            ["lib/apk/db/installed: line 14: broken has no `V:`, not counted"]
        );
    }
}
