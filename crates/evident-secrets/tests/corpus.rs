//! Accuracy on a realistic repository: recall and precision of the working-tree scanner over
//! `tests/fixtures/corpus/`, a fake project mixing synthetic true secrets with the decoys real
//! repositories are full of (documentation keys, placeholders, variable references, hashes,
//! UUIDs, public keys, field names, fake test data, lockfiles, minified assets).
//!
//! The truth is `tests/fixtures/corpus.expected.toml`: every true secret as `(path, line)`, the
//! line where the secret starts (multi-line keys: the BEGIN line). A non-suppressed finding at a
//! listed `(path, line)` is a true positive, at any other `(path, line)` a false positive; a
//! listed secret without a finding is a false negative. Only detection is measured, not naming.
//!
//! Nothing printed here contains a secret: findings are shown by path, line, rule and their
//! (redacted) snippet, and the test fails if a snippet or message carries a secret in clear.
//!
//! Run with `cargo test -p evident-secrets --test corpus -- --nocapture` to see the tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use evident_core::{Finding, sha256_hex};
use evident_secrets::{Options, Scanner};

const MIN_RECALL: f64 = 0.95;
const MIN_PRECISION: f64 = 0.95;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One `[[secret]]` or `[[decoy]]` entry of the manifest.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    line: u32,
    kind: String,
}

fn entries(manifest: &toml::Table, table: &str) -> Vec<Entry> {
    let Some(items) = manifest.get(table) else {
        return Vec::new();
    };
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("`{table}` must be an array of tables"));
    items
        .iter()
        .map(|item| {
            let path = item.get("path").and_then(toml::Value::as_str);
            let line = item.get("line").and_then(toml::Value::as_integer);
            let (Some(path), Some(line)) = (path, line) else {
                panic!("every `[[{table}]]` needs `path` and `line`: {item:?}");
            };
            Entry {
                path: path.to_owned(),
                line: u32::try_from(line).expect("line fits in u32"),
                kind: item
                    .get("kind")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            }
        })
        .collect()
}

fn count_files(dir: &Path) -> u64 {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("corpus directory is readable") {
        let entry = entry.expect("corpus entry is readable");
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            n += count_files(&entry.path());
        } else if kind.is_file() {
            n += 1;
        }
    }
    n
}

/// Byte offset of the start of 1-based `line` in `data`.
fn line_offset(data: &[u8], line: u32) -> Option<usize> {
    if line == 1 {
        return Some(0);
    }
    memchr_nth_newline(data, line as usize - 1).map(|i| i + 1)
}

fn memchr_nth_newline(data: &[u8], n: usize) -> Option<usize> {
    data.iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .nth(n - 1)
        .map(|(i, _)| i)
}

fn line_end(data: &[u8], from: usize) -> usize {
    data[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| from + i)
}

/// The secret behind `finding`, recovered from the fixture by its SHA-256 (the finding only
/// carries the digest). `None` when the secret is not verbatim in the file (e.g. base64-decoded
/// Kubernetes Secret values).
fn recover_secret(root: &Path, finding: &Finding) -> Option<(Vec<u8>, Vec<u8>)> {
    let digest = finding.secret_sha256.as_deref()?;
    let path = finding.location.path.as_deref()?;
    let line = finding.location.line?;
    let column = finding.location.column?;
    let data = std::fs::read(root.join(path)).ok()?;
    let line_start = line_offset(&data, line)?;
    let raw_line = data[line_start..line_end(&data, line_start)].to_vec();
    let text = String::from_utf8_lossy(&data[line_start..]);
    let start = line_start
        + text
            .chars()
            .take(column as usize - 1)
            .map(char::len_utf8)
            .sum::<usize>();
    let last_line = finding.location.end_line.unwrap_or(line).max(line);
    let last_start = line_offset(&data, last_line)?.max(start + 1);
    let last_end = line_end(&data, last_start);
    (last_start..=last_end)
        .find(|&end| sha256_hex(&data[start..end]) == digest)
        .map(|end| (data[start..end].to_vec(), raw_line))
}

/// Does `shown` (a snippet or message) give away `secret`, which sits on `raw_line`?
fn leaks(shown: &str, secret: &[u8], raw_line: &[u8]) -> bool {
    let secret = String::from_utf8_lossy(secret);
    let chars: Vec<char> = secret.chars().collect();
    // Redaction may keep a 4-character type prefix of a secret of 16 characters or more.
    let hidden: Vec<char> = if chars.len() >= 16 {
        chars[4..].to_vec()
    } else {
        chars.clone()
    };
    if hidden.len() >= 12 {
        return hidden
            .windows(12)
            .any(|w| shown.contains(&w.iter().collect::<String>()));
    }
    if chars.len() < 6 {
        return false;
    }
    // A short secret may legitimately appear elsewhere on its line (`postgres://postgres:postgres@`):
    // it leaks only if every occurrence on the line survived into the output.
    let raw = String::from_utf8_lossy(raw_line);
    let in_raw = raw.matches(secret.as_ref()).count();
    in_raw > 0 && shown.matches(secret.as_ref()).count() >= in_raw
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

#[test]
fn corpus_recall_and_precision() {
    let root = fixtures().join("corpus");
    let manifest_text = std::fs::read_to_string(fixtures().join("corpus.expected.toml"))
        .expect("manifest is readable");
    let manifest: toml::Table = toml::from_str(&manifest_text).expect("manifest is valid TOML");
    let secrets = entries(&manifest, "secret");
    let decoys = entries(&manifest, "decoy");
    assert!(!secrets.is_empty(), "the manifest lists no secrets");

    let mut truth: BTreeMap<(String, u32), String> = BTreeMap::new();
    for s in &secrets {
        assert!(
            root.join(&s.path).is_file(),
            "manifest names a missing file: {}",
            s.path
        );
        let previous = truth.insert((s.path.clone(), s.line), s.kind.clone());
        assert!(
            previous.is_none(),
            "manifest lists {}:{} twice",
            s.path,
            s.line
        );
    }
    let decoy_kind: BTreeMap<(String, u32), String> = decoys
        .iter()
        .map(|d| ((d.path.clone(), d.line), d.kind.clone()))
        .collect();

    let scanner = Scanner::new(&Options::default()).expect("built-in scanner builds");
    let report = scanner.scan_tree(&root);

    let on_disk = count_files(&root);
    let walked = report.stats.files + report.stats.skipped_binary;

    let active: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    let suppressed = report.findings.len() - active.len();
    let mut found: BTreeMap<(String, u32), Vec<&Finding>> = BTreeMap::new();
    for f in &active {
        let path = f.location.path.clone().unwrap_or_default();
        let line = f.location.line.unwrap_or(0);
        found.entry((path, line)).or_default().push(f);
    }

    let true_positives: BTreeSet<&(String, u32)> =
        truth.keys().filter(|k| found.contains_key(*k)).collect();
    let false_negatives: Vec<(&(String, u32), &String)> = truth
        .iter()
        .filter(|(k, _)| !found.contains_key(*k))
        .collect();
    let false_positives: Vec<(&(String, u32), &Vec<&Finding>)> = found
        .iter()
        .filter(|(k, _)| !truth.contains_key(*k))
        .collect();

    let tp = true_positives.len();
    let recall = ratio(tp, truth.len());
    let precision = ratio(tp, tp + false_positives.len());

    // Redaction: no snippet or message may carry a secret in clear.
    let mut leaked = Vec::new();
    let mut unrecovered = 0usize;
    for f in &report.findings {
        let at = format!(
            "{}:{} [{}]",
            f.location.path.as_deref().unwrap_or("?"),
            f.location.line.unwrap_or(0),
            f.check
        );
        let snippet = f.snippet.as_deref().unwrap_or("");
        if f.snippet.is_some() && !snippet.contains("********") {
            leaked.push(format!("{at}: snippet carries no redaction mask"));
        }
        match recover_secret(&root, f) {
            Some((secret, raw_line)) => {
                if leaks(snippet, &secret, &raw_line) {
                    leaked.push(format!("{at}: snippet shows the secret"));
                }
                if leaks(&f.message, &secret, &raw_line) {
                    leaked.push(format!("{at}: message shows the secret"));
                }
            }
            None => unrecovered += 1,
        }
    }

    // Recall per kind of secret, to see which families are weak.
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (key, kind) in &truth {
        let slot = per_kind.entry(kind.as_str()).or_default();
        slot.1 += 1;
        if found.contains_key(key) {
            slot.0 += 1;
        }
    }

    let mut out = String::new();
    let _ = writeln!(out, "\n=== evident-secrets accuracy corpus ===");
    let _ = writeln!(
        out,
        "files on disk {on_disk}, walked {walked} (binary {}), scan errors {}",
        report.stats.skipped_binary,
        report.errors.len()
    );
    for e in &report.errors {
        let _ = writeln!(out, "  error: {}: {}", e.path, e.message);
    }
    let _ = writeln!(
        out,
        "true secrets {}, documented decoys {}, findings {} ({} suppressed inline)",
        truth.len(),
        decoy_kind.len(),
        report.findings.len(),
        suppressed
    );
    let _ = writeln!(
        out,
        "TP {tp}  FN {}  FP {}  recall {recall:.3}  precision {precision:.3}",
        false_negatives.len(),
        false_positives.len()
    );
    let _ = writeln!(out, "\n--- recall by kind (found/total) ---");
    for (kind, (hit, total)) in &per_kind {
        let mark = if hit == total { " " } else { "!" };
        let _ = writeln!(out, "{mark} {hit:>2}/{total:<2} {kind}");
    }
    let _ = writeln!(out, "\n--- true positives ({tp}) ---");
    for key in &true_positives {
        let rules: BTreeSet<&str> = found[*key].iter().map(|f| f.check.as_str()).collect();
        let _ = writeln!(
            out,
            "TP {}:{}  [{}]",
            key.0,
            key.1,
            rules.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let _ = writeln!(out, "\n--- false negatives ({}) ---", false_negatives.len());
    for ((path, line), kind) in &false_negatives {
        let _ = writeln!(out, "FN {path}:{line}  ({kind})");
    }
    let _ = writeln!(out, "\n--- false positives ({}) ---", false_positives.len());
    for ((path, line), findings) in &false_positives {
        let rules: BTreeSet<&str> = findings.iter().map(|f| f.check.as_str()).collect();
        let decoy = decoy_kind
            .get(&(path.clone(), *line))
            .map_or_else(|| "undocumented line".to_owned(), |k| format!("decoy: {k}"));
        let snippet = findings[0].snippet.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "FP {path}:{line}  [{}]  ({decoy})  {snippet}",
            rules.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n--- redaction: {} problem(s); {unrecovered} finding(s) whose secret is not verbatim in the file ---",
        leaked.len()
    );
    for l in &leaked {
        let _ = writeln!(out, "LEAK {l}");
    }
    println!("{out}");

    let mut problems = Vec::new();
    if walked != on_disk {
        problems.push(format!(
            "the walk saw {walked} of {on_disk} corpus files: an ignore file hides fixtures"
        ));
    }
    if recall < MIN_RECALL {
        problems.push(format!(
            "recall {recall:.3} < {MIN_RECALL} ({} false negatives)",
            false_negatives.len()
        ));
    }
    if precision < MIN_PRECISION {
        problems.push(format!(
            "precision {precision:.3} < {MIN_PRECISION} ({} false positives)",
            false_positives.len()
        ));
    }
    if !leaked.is_empty() {
        problems.push(format!(
            "{} finding(s) show a secret in clear",
            leaked.len()
        ));
    }
    assert!(
        problems.is_empty(),
        "corpus accuracy:\n  {}\n(see the tables above)",
        problems.join("\n  ")
    );
}
