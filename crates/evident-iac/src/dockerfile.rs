//! Dockerfiles (multi-stage) into one resource per file.
//!
//! The body is
//! `{ "args": [{"name", "default"}], "stages": [{"index", "name", "image", "platform",
//! "instructions": [{"cmd", "value", "flags", "exec_form"}]}] }`: `args` are the ARGs before
//! the first FROM, a stage's instructions are those after its FROM (the FROM itself is the
//! stage's `image`/`platform`/`name`). Every node carries the line its instruction starts on.
//!
//! Read as BuildKit reads it: the `# escape=` directive (backslash or backtick), line
//! continuations (comment and empty lines inside them skipped, the pieces joined with a
//! space), heredocs (`RUN <<EOF` … `EOF`, `<<-`, quoted words, several per line: the bodies
//! are appended to the value, one line each), lowercase instructions, leading `--flags`
//! (a flag given twice is a list of its values, a flag without `=` is `true`), JSON exec form
//! (`CMD ["a", "b"]`: `exec_form` true and the words joined with a space), and global ARG
//! defaults substituted into FROM (`$X`, `${X}`, `${X:-word}`, `${X:+word}`; an ARG without
//! default stays as written).

use evident_core::ScanError;

use crate::Loaded;
use crate::model::{Node, Platform, Resource, Value};

const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// One logical instruction as read from the file.
#[derive(Debug)]
struct Instruction {
    line: u32,
    cmd: String,
    flags: Vec<(String, Option<String>)>,
    /// The arguments after the flags (continuations joined, heredoc bodies appended).
    rest: String,
}

/// Loads a Dockerfile. `label` is the path shown in findings.
pub fn load(label: &str, text: &str) -> Loaded {
    let mut out = Loaded::default();
    let (instructions, problems, last_line) = read(text);
    let mut errors: Vec<(u32, String)> = problems;
    let mut args: Vec<Node> = Vec::new();
    let mut globals: Vec<(String, Option<String>)> = Vec::new();
    let mut stages: Vec<Node> = Vec::new();
    let mut current: Option<Stage> = None;
    for ins in instructions {
        let line = ins.line;
        if ins.cmd == "FROM" {
            if let Some(stage) = current.take() {
                stages.push(stage.into_node());
            }
            match from(&ins, &globals, stages.len()) {
                Ok(stage) => current = Some(stage),
                Err(message) => errors.push((line, message)),
            }
            continue;
        }
        match current.as_mut() {
            Some(stage) => stage.instructions.push(instruction_node(&ins)),
            None if ins.cmd == "ARG" => {
                for (name, default) in arg_pairs(&ins.rest) {
                    let d = default.clone().map_or(Value::Null, Value::String);
                    args.push(map(
                        line,
                        vec![("name", Value::String(name.clone())), ("default", d)],
                    ));
                    globals.retain(|(n, _)| *n != name);
                    globals.push((name, default));
                }
            }
            None => errors.push((
                line,
                format!(
                    "`{}` before the first FROM (only ARG may come first)",
                    ins.cmd
                ),
            )),
        }
    }
    if let Some(stage) = current.take() {
        stages.push(stage.into_node());
    }
    if stages.is_empty() && errors.is_empty() {
        errors.push((1, "no FROM instruction: not a Dockerfile".to_owned()));
    }
    errors.sort_by_key(|(line, _)| *line);
    for (line, message) in errors {
        out.errors.push(ScanError {
            path: label.to_owned(),
            message: format!("line {line}: {message}"),
        });
    }
    if stages.is_empty() {
        return out;
    }
    let args_line = args.first().map_or(1, |a| a.line);
    let stages_line = stages.first().map_or(1, |s| s.line);
    let body = Node::new(
        1,
        Value::Map(vec![
            ("args".to_owned(), Node::new(args_line, Value::List(args))),
            (
                "stages".to_owned(),
                Node::new(stages_line, Value::List(stages)),
            ),
        ]),
    );
    out.resources.push(Resource {
        platform: Platform::Dockerfile,
        kind: "Dockerfile".to_owned(),
        address: "Dockerfile".to_owned(),
        file: label.to_owned(),
        line: 1,
        end_line: last_line.max(1),
        body,
        module: None,
    });
    out
}

struct Stage {
    line: u32,
    index: usize,
    name: Option<String>,
    image: String,
    platform: Option<String>,
    instructions: Vec<Node>,
}

impl Stage {
    fn into_node(self) -> Node {
        let line = self.line;
        let opt = |s: Option<String>| s.map_or(Value::Null, Value::String);
        map(
            line,
            vec![
                ("index", Value::Number(self.index as f64)),
                ("name", opt(self.name)),
                ("image", Value::String(self.image)),
                ("platform", opt(self.platform)),
                ("instructions", Value::List(self.instructions)),
            ],
        )
    }
}

/// A map whose entries all sit on `line`.
fn map(line: u32, entries: Vec<(&str, Value)>) -> Node {
    Node::new(
        line,
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Node::new(line, v)))
                .collect(),
        ),
    )
}

fn from(
    ins: &Instruction,
    globals: &[(String, Option<String>)],
    index: usize,
) -> Result<Stage, String> {
    let words: Vec<&str> = ins.rest.split_whitespace().collect();
    let (image, name) = match words.as_slice() {
        [image] => (*image, None),
        [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => (*image, Some(*name)),
        [] => return Err("FROM names no image".to_owned()),
        _ => {
            return Err(format!(
                "FROM `{}`: expected `FROM image [AS name]`",
                ins.rest
            ));
        }
    };
    let platform = ins
        .flags
        .iter()
        .find(|(k, _)| k == "platform")
        .and_then(|(_, v)| v.as_deref())
        .map(|p| substitute(p, globals));
    Ok(Stage {
        line: ins.line,
        index,
        name: name.map(str::to_owned),
        image: substitute(image, globals),
        platform,
        instructions: Vec::new(),
    })
}

fn instruction_node(ins: &Instruction) -> Node {
    let line = ins.line;
    let mut flags: Vec<(String, Node)> = Vec::new();
    for (name, value) in &ins.flags {
        let v = value.clone().map_or(Value::Bool(true), Value::String);
        match flags.iter_mut().find(|(k, _)| k == name) {
            Some((_, existing)) => {
                if let Value::List(items) = &mut existing.value {
                    items.push(Node::new(line, v));
                } else {
                    let first = std::mem::replace(&mut existing.value, Value::Null);
                    existing.value = Value::List(vec![Node::new(line, first), Node::new(line, v)]);
                }
            }
            None => flags.push((name.clone(), Node::new(line, v))),
        }
    }
    let (value, exec_form) = match exec_words(&ins.rest) {
        Some(words) => (words.join(" "), true),
        None => (ins.rest.clone(), false),
    };
    map(
        line,
        vec![
            ("cmd", Value::String(ins.cmd.clone())),
            ("value", Value::String(value)),
            ("flags", Value::Map(flags)),
            ("exec_form", Value::Bool(exec_form)),
        ],
    )
}

/// The words of a JSON exec form (`["a", "b"]`).
fn exec_words(rest: &str) -> Option<Vec<String>> {
    let t = rest.trim();
    if !t.starts_with('[') {
        return None;
    }
    // Heredoc bodies follow on their own lines; the JSON is the first line.
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// `NAME[=default]` pairs of an ARG (several per line allowed, quotes removed).
fn arg_pairs(rest: &str) -> Vec<(String, Option<String>)> {
    shell_words(rest)
        .into_iter()
        .filter_map(|w| {
            let (name, default) = match w.split_once('=') {
                Some((n, d)) => (n.to_owned(), Some(d.to_owned())),
                None => (w, None),
            };
            (!name.is_empty()).then_some((name, default))
        })
        .collect()
}

/// Splits on whitespace outside quotes, removing the quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has_word = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                has_word = true;
            }
            None if c.is_whitespace() => {
                if has_word {
                    words.push(std::mem::take(&mut cur));
                    has_word = false;
                }
            }
            None => {
                cur.push(c);
                has_word = true;
            }
        }
    }
    if has_word {
        words.push(cur);
    }
    words
}

/// Substitutes the known global ARGs into `s`; unknown ones stay as written.
fn substitute(s: &str, globals: &[(String, Option<String>)]) -> String {
    let lookup = |name: &str| -> Option<Option<&str>> {
        globals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_deref())
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            let Some(close) = braced.find('}') else {
                out.push_str(&rest[at..]);
                return out;
            };
            let inner = &braced[..close];
            let written = &rest[at..=(at + 2 + close)];
            rest = &braced[close + 1..];
            let (name, op, word) = if let Some((n, w)) = inner.split_once(":-") {
                (n, "-", w)
            } else if let Some((n, w)) = inner.split_once(":+") {
                (n, "+", w)
            } else {
                (inner, "", "")
            };
            if !is_name(name) {
                out.push_str(written);
                continue;
            }
            match (lookup(name), op) {
                (Some(Some(v)), "") => out.push_str(v),
                (Some(Some(v)), "-") if !v.is_empty() => out.push_str(v),
                (Some(Some(_)) | None, "-") => out.push_str(word),
                (Some(Some(v)), "+") if !v.is_empty() => out.push_str(word),
                (Some(Some(_)) | None, "+") => {}
                _ => out.push_str(written),
            }
        } else {
            let len = after
                .char_indices()
                .find(|&(i, c)| {
                    !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
                })
                .map_or(after.len(), |(i, _)| i);
            let name = &after[..len];
            rest = &after[len..];
            match lookup(name) {
                Some(Some(v)) if !name.is_empty() => out.push_str(v),
                _ => {
                    out.push('$');
                    out.push_str(name);
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Reads the logical instructions: `(instructions, problems, last line with content)`.
fn read(text: &str) -> (Vec<Instruction>, Vec<(u32, String)>, u32) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let last_line = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(1, line_no);
    let mut problems = Vec::new();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: `# key=value` lines at the very top.
    while let Some(l) = lines.get(i) {
        let Some(d) = l.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = d.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
        if key.eq_ignore_ascii_case("escape") {
            match value.trim() {
                "\\" => escape = '\\',
                "`" => escape = '`',
                other => problems.push((
                    line_no(i),
                    format!("escape directive `{other}`: only a backslash or a backtick"),
                )),
            }
        }
        i += 1;
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let first = lines[i].trim();
        if first.is_empty() || first.starts_with('#') {
            i += 1;
            continue;
        }
        let start = line_no(i);
        let mut pieces: Vec<&str> = Vec::new();
        let mut cur = first;
        i += 1;
        loop {
            let Some(body) = continued(cur, escape) else {
                pieces.push(cur);
                break;
            };
            pieces.push(body.trim());
            // Comment and empty lines inside a continuation are skipped.
            while lines
                .get(i)
                .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            {
                i += 1;
            }
            match lines.get(i) {
                Some(next) => {
                    cur = next.trim();
                    i += 1;
                }
                None => break,
            }
        }
        let logical = pieces
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let (word, args) = match logical.find(char::is_whitespace) {
            Some(at) => (&logical[..at], logical[at..].trim()),
            None => (logical.as_str(), ""),
        };
        let cmd = word.to_ascii_uppercase();
        if !INSTRUCTIONS.contains(&cmd.as_str()) {
            problems.push((start, format!("unknown instruction `{word}`")));
            continue;
        }
        let (flags, rest) = split_flags(args);
        let mut rest = rest.to_owned();
        if matches!(cmd.as_str(), "RUN" | "COPY" | "ADD") {
            for (word, strip_tabs) in heredoc_words(&rest) {
                let mut body = Vec::new();
                let mut closed = false;
                while let Some(l) = lines.get(i) {
                    i += 1;
                    let candidate = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if candidate == word {
                        closed = true;
                        break;
                    }
                    body.push(candidate);
                }
                if !closed {
                    problems.push((start, format!("heredoc `{word}` is never closed")));
                }
                for b in body {
                    rest.push('\n');
                    rest.push_str(b);
                }
                rest.push('\n');
                rest.push_str(&word);
            }
        }
        out.push(Instruction {
            line: start,
            cmd,
            flags,
            rest,
        });
    }
    (out, problems, last_line)
}

fn line_no(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// The line without its continuation escape, when it has one.
fn continued(line: &str, escape: char) -> Option<&str> {
    line.trim_end().strip_suffix(escape)
}

/// Leading `--name[=value]` words.
fn split_flags(args: &str) -> (Vec<(String, Option<String>)>, &str) {
    let mut flags = Vec::new();
    let mut rest = args.trim_start();
    while let Some(flag) = rest.strip_prefix("--") {
        let end = flag.find(char::is_whitespace).unwrap_or(flag.len());
        let word = &flag[..end];
        if word.is_empty() {
            // A bare `--` ends the flags.
            rest = flag[end..].trim_start();
            break;
        }
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v).to_owned())),
            None => (word, None),
        };
        flags.push((name.to_ascii_lowercase(), value));
        rest = flag[end..].trim_start();
    }
    (flags, rest)
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// The heredoc words of an instruction (`<<EOF`, `<<-EOF`, `<<"EOF"`): `(word, strip tabs)`.
fn heredoc_words(s: &str) -> Vec<(String, bool)> {
    let mut words = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find("<<") {
        let abs = s.len() - rest.len() + at;
        let mut after = &rest[at + 2..];
        // A heredoc starts a word (`$((1<<2))` is no heredoc).
        if !(abs == 0 || s[..abs].ends_with(char::is_whitespace)) {
            rest = after;
            continue;
        }
        if after.starts_with('<') {
            // `<<<` is a here-string, not a heredoc.
            rest = after.trim_start_matches('<');
            continue;
        }
        let strip = after.starts_with('-');
        if strip {
            after = &after[1..];
        }
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            after = &after[1..];
            if let Some(end) = after.find(q) {
                let word = &after[..end];
                if !word.is_empty() && !word.contains(char::is_whitespace) {
                    words.push((word.to_owned(), strip));
                }
                rest = &after[end + 1..];
            } else {
                rest = after;
            }
            continue;
        }
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(after.len());
        if len > 0 {
            words.push((after[..len].to_owned(), strip));
        }
        rest = &after[len..];
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stage(r: &Resource, i: usize) -> &Node {
        &r.body.get("stages").unwrap().as_list().unwrap()[i]
    }

    #[test]
    fn stages_args_and_instructions() {
        let text = "# syntax=docker/dockerfile:1\n# escape=\\\nARG BASE=golang\nARG TAG=\"1.22\"\nARG REG\nFROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS build\nrun go build \\\n  # a comment\n\n  -o /app .\nFROM ${REG:-docker.io}/library/alpine:$TAG\nCOPY --from=build --chown=1000:1000 /app /app\nRUN --mount=type=secret,id=x --mount=type=cache,target=/c --network=none cat /run/secrets/x\nCMD [\"/app\", \"--serve\"]\nFROM $REG/x\nFROM ${MIRROR:-docker.io}/y${NONE:+-z}\n";
        let l = load("Dockerfile", text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let r = &l.resources[0];
        assert_eq!((r.line, r.end_line), (1, 16));
        assert_eq!(r.attr("args.1.default").str(), Some("1.22"));
        assert!(r.attr("args.2.default").known().unwrap().value == Value::Null);
        let s0 = stage(r, 0);
        assert_eq!(s0.lookup("image").str(), Some("golang:1.22"));
        assert_eq!(s0.lookup("platform").str(), Some("$BUILDPLATFORM"));
        assert_eq!(s0.lookup("name").str(), Some("build"));
        assert_eq!(s0.line, 6);
        assert_eq!(s0.lookup("instructions.0.cmd").str(), Some("RUN"));
        assert_eq!(
            s0.lookup("instructions.0.value").str(),
            Some("go build -o /app .")
        );
        let s1 = stage(r, 1);
        // REG has no default: it stays as written.
        assert_eq!(
            s1.lookup("image").str(),
            Some("${REG:-docker.io}/library/alpine:1.22")
        );
        assert_eq!(s1.lookup("instructions.0.flags.from").str(), Some("build"));
        assert_eq!(
            s1.lookup("instructions.0.flags.chown").str(),
            Some("1000:1000")
        );
        assert_eq!(
            s1.lookup("instructions.1.flags.mount.1").str(),
            Some("type=cache,target=/c")
        );
        assert_eq!(s1.lookup("instructions.1").known().unwrap().line, 13);
        assert_eq!(
            s1.lookup("instructions.2.value").str(),
            Some("/app --serve")
        );
        assert_eq!(s1.lookup("instructions.2.exec_form").bool(), Some(true));
        assert_eq!(stage(r, 2).lookup("image").str(), Some("$REG/x"));
        // Undeclared: empty, so `:-` gives its word and `:+` nothing.
        assert_eq!(stage(r, 3).lookup("image").str(), Some("docker.io/y"));
    }

    #[test]
    fn heredocs_and_backtick_escape() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir C:\\ `\n  /s\nRUN echo $((1<<2)) <<<x\nRUN <<EOF\napt-get update\nEOF\nCOPY <<-\"A\" /a <<B /b\n\tone\n\tA\ntwo\nB\nUSER app\n";
        let l = load("Dockerfile", text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let s = stage(&l.resources[0], 0);
        assert_eq!(s.lookup("instructions.0.value").str(), Some("dir C:\\ /s"));
        assert_eq!(
            s.lookup("instructions.1.value").str(),
            Some("echo $((1<<2)) <<<x")
        );
        assert_eq!(
            s.lookup("instructions.2.value").str(),
            Some("<<EOF\napt-get update\nEOF")
        );
        assert_eq!(
            s.lookup("instructions.3.value").str(),
            Some("<<-\"A\" /a <<B /b\none\nA\ntwo\nB")
        );
        assert_eq!(s.lookup("instructions.4.cmd").str(), Some("USER"));
        assert_eq!(s.lookup("instructions.4").known().unwrap().line, 14);
    }

    #[test]
    fn errors_name_the_line() {
        let l = load(
            "Dockerfile",
            "ARG X=1\nRUN echo\nFROM alpine\nFOO bar\nRUN <<EOF\nx\n",
        );
        let messages: Vec<&str> = l.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("line 2: `RUN` before the first FROM"));
        assert!(messages[1].starts_with("line 4: unknown instruction"));
        assert!(messages[2].starts_with("line 5: heredoc"));
        assert_eq!(l.resources.len(), 1);
        let l = load("Dockerfile", "# just a comment\n");
        assert!(l.resources.is_empty());
        assert_eq!(l.errors.len(), 1);
    }

    proptest! {
        #[test]
        fn never_panics(text in "(FROM |RUN |ARG |COPY |cmd |AS |--[a-z]+=|\\$\\{?[A-Z]*:?[-+]?\\}?|<<-?['\"]?[A-Z]*|[\\[\\]\"',=` \t#\\\\]|\n|[a-z0-9]{1,3}|\u{e9}|\u{feff}){0,60}") {
            let _ = load("Dockerfile", &text);
        }

        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
            let _ = load("Dockerfile", &text);
        }
    }
}
