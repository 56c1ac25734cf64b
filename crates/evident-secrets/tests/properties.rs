//! Property tests for every parser and for the engine, plus large-file streaming.

use std::io::Write as _;

use evident_core::Config;
use evident_secrets::{Engine, InputKind, Options, Scanner, builtin_rules, decode, gitleaks};
use proptest::prelude::*;

fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(builtin_rules().unwrap()).unwrap())
}

/// A synthetic AWS access key id (not a documentation example).
fn aws_key(seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut key = String::from("AKIA");
    for _ in 0..16 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        key.push(ALPHABET[(x % 32) as usize] as char);
    }
    key
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_never_panics_and_is_deterministic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let a = engine().scan(&data, InputKind::default());
        let b = engine().scan(&data, InputKind::default());
        prop_assert_eq!(&a, &b);
        for c in &a {
            prop_assert!(c.start <= c.secret_start && c.secret_end <= c.end && c.end <= data.len());
        }
    }

    #[test]
    fn a_planted_key_is_found_on_its_line_whatever_surrounds_it(
        before in proptest::collection::vec("[a-z0-9 =:_.]{0,60}", 0..20),
        after in proptest::collection::vec("[a-z0-9 =:_.]{0,60}", 0..20),
        seed in any::<u64>(),
    ) {
        let key = aws_key(seed);
        let mut text = String::new();
        for line in &before { text.push_str(line); text.push('\n'); }
        text.push_str("aws_access_key_id = ");
        text.push_str(&key);
        text.push('\n');
        for line in &after { text.push_str(line); text.push('\n'); }
        let scanner = Scanner::new(&Options::default()).unwrap();
        let report = scanner.scan_input("app.env", text.as_bytes());
        let hit = report.findings.iter().find(|f| f.check == "aws-access-key-id");
        prop_assert!(hit.is_some(), "key not found");
        let hit = hit.unwrap();
        prop_assert_eq!(hit.location.line, Some(before.len() as u32 + 1));
        prop_assert_eq!(hit.location.column, Some(21));
        let json = serde_json::to_string(&report).unwrap();
        prop_assert!(!json.contains(&key[4..]), "the key leaked into the report");
    }

    #[test]
    fn the_gitleaks_parser_never_panics(text in "\\PC{0,400}") {
        let _ = gitleaks::parse("fuzz.toml", &text);
    }

    #[test]
    fn the_gitleaks_parser_never_panics_on_rule_shaped_input(id in "[a-zA-Z0-9_ -]{0,20}", regex in "\\PC{0,40}", group in 0usize..4) {
        let text = format!("[[rules]]\nid = {id:?}\nregex = {regex:?}\nsecretGroup = {group}\n");
        let _ = gitleaks::parse("fuzz.toml", &text);
    }

    #[test]
    fn the_rule_file_parser_never_panics(text in "\\PC{0,400}") {
        let _ = evident_secrets::rules::parse_rule_file("fuzz.toml", &text);
    }

    #[test]
    fn validators_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        use evident_secrets::validate::Validator;
        for v in [Validator::GithubCrc32, Validator::NpmCrc32, Validator::Jwt, Validator::PemBody] {
            let _ = v.check(&data);
        }
    }

    #[test]
    fn the_config_parser_never_panics(text in "\\PC{0,400}") {
        let _ = Config::parse("evident.toml", &text);
    }

    #[test]
    fn the_kubernetes_decoder_never_panics(lines in proptest::collection::vec("[ a-zA-Z0-9:=+/\"'#-]{0,40}", 0..30)) {
        let text = format!("kind: Secret\ndata:\n{}", lines.join("\n"));
        for entry in decode::kubernetes_secret_entries(text.as_bytes()) {
            prop_assert!(entry.value_start <= entry.value_end && entry.value_end <= text.len());
        }
    }
}

#[test]
fn large_files_are_streamed_and_seams_do_not_hide_secrets() {
    use evident_secrets::source::{CHUNK, WHOLE_FILE_LIMIT};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let filler =
        "2026-03-01T10:00:00Z INFO request served in 12 ms status 200 path /api/v1/items\n";
    let keys = [aws_key(1), aws_key(2), aws_key(3)];
    let mut written = 0usize;
    let mut line = 1u32;
    let mut expected = Vec::new();
    // One key near the start, one straddling the first chunk seam, one at the very end.
    let write_line = |text: &str,
                      file: &mut std::io::BufWriter<std::fs::File>,
                      written: &mut usize,
                      line: &mut u32| {
        file.write_all(text.as_bytes()).unwrap();
        *written += text.len();
        *line += 1;
    };
    write_line(
        &format!("key = {}\n", keys[0]),
        &mut file,
        &mut written,
        &mut line,
    );
    expected.push(1);
    while written + filler.len() < CHUNK - 10 {
        write_line(filler, &mut file, &mut written, &mut line);
    }
    let seam = format!("{}key = {}\n", " ".repeat(CHUNK - 10 - written), keys[1]);
    expected.push(line);
    write_line(&seam, &mut file, &mut written, &mut line);
    while written as u64 <= WHOLE_FILE_LIMIT + 1024 {
        write_line(filler, &mut file, &mut written, &mut line);
    }
    expected.push(line);
    write_line(
        &format!("key = {}\n", keys[2]),
        &mut file,
        &mut written,
        &mut line,
    );
    drop(file);

    let scanner = Scanner::new(&Options::default()).unwrap();
    let report = scanner.scan_tree(dir.path());
    let mut lines: Vec<u32> = report
        .findings
        .iter()
        .filter(|f| f.check == "aws-access-key-id")
        .filter_map(|f| f.location.line)
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, expected);
    assert_eq!(report.stats.files, 1);
    assert_eq!(report.stats.bytes, written as u64);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}
