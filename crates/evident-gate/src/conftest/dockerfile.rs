//! Dockerfiles as Conftest's `dockerfile` parser gives them to policies.
//!
//! Conftest parses with BuildKit's Dockerfile parser and turns every instruction into
//! `{"Cmd", "SubCmd", "JSON", "Flags", "Value", "Stage"}`:
//!
//! - `Cmd` is the instruction in lower case (`from`, `run`, …); comments directly above an
//!   instruction come first as `{"Cmd": "comment", "Value": ["the text"]}`;
//! - `SubCmd` is the instruction under `ONBUILD` (lower case), otherwise `""`;
//! - `JSON` is true when the arguments were written as a JSON array (`CMD ["a", "b"]`);
//! - `Flags` are the `--flag=value` words before the arguments (`[]` when there are none,
//!   `null` when the instruction has no arguments at all);
//! - `Value` holds the arguments the way BuildKit splits them: `FROM`, `EXPOSE`, `COPY`, `ADD`,
//!   `VOLUME` split on whitespace; `RUN`, `CMD`, `ENTRYPOINT`, `SHELL` keep the shell string as
//!   one value; `USER`, `WORKDIR`, `MAINTAINER`, `STOPSIGNAL` one value; `ENV` and `LABEL` as
//!   `key, value, "="` triples (`key, value, ""` for the old `ENV key value` form); `ARG` one
//!   value per word; `HEALTHCHECK` the type (`CMD`/`NONE`) then the command;
//! - `Stage` counts `FROM` instructions from 0.
//!
//! The whole file is one list inside another list (`[[…]]`); Conftest evaluates the inner list
//! as `input`, so policies iterate `input[_]`.
//!
//! Heredoc bodies (`RUN <<EOF`) are skipped; the instruction keeps its `<<EOF` word.

use serde_json::{Value, json};

use super::{ParseError, Parser};

pub(super) fn parse(text: &str) -> Result<Value, ParseError> {
    let mut directives = Directives::default();
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // A trailing newline does not start another line.
    let count = if text.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    let mut commands: Vec<Value> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let mut stage: Option<u64> = None;
    let mut index = 0;
    while index < count {
        let raw = lines[index];
        let number = index + 1;
        index += 1;
        if is_comment(raw) {
            let comment = raw.trim_start()[1..].trim();
            if comment.is_empty() {
                comments.clear();
            } else {
                comments.push(comment.to_owned());
            }
        }
        let processed = directives
            .process(raw, true)
            .map_err(|m| error(m, number))?;
        let (mut line, mut end) = directives.trim_continuation(&processed);
        if end && line.is_empty() {
            continue;
        }
        while !end && index < count {
            let raw = lines[index];
            index += 1;
            let processed = directives
                .process(raw, false)
                .map_err(|m| error(m, index))?;
            if is_comment(raw) || processed.trim().is_empty() {
                continue;
            }
            let (more, finished) = directives.trim_continuation(&processed);
            line.push_str(&more);
            end = finished;
        }
        // Heredoc bodies belong to the instruction but are not part of its arguments.
        for (delimiter, strip_tabs) in heredocs(&line) {
            while index < count {
                let body = lines[index];
                index += 1;
                let candidate = if strip_tabs {
                    body.trim_start_matches('\t')
                } else {
                    body
                };
                if candidate == delimiter {
                    break;
                }
            }
        }
        let node = Node::parse(&line, directives.escape).map_err(|m| error(m, number))?;
        if node.cmd == "from" {
            stage = Some(stage.map_or(0, |s| s + 1));
        }
        let stage_index = stage.unwrap_or(0);
        for comment in comments.drain(..) {
            commands.push(json!({
                "Cmd": "comment",
                "SubCmd": "",
                "JSON": false,
                "Flags": null,
                "Value": [comment],
                "Stage": stage_index,
            }));
        }
        commands.push(json!({
            "Cmd": node.cmd,
            "SubCmd": node.sub_cmd,
            "JSON": node.json,
            "Flags": node.flags,
            "Value": node.value,
            "Stage": stage_index,
        }));
    }
    if commands.iter().all(|c| c["Cmd"] == "comment") {
        return Err(ParseError::new(
            Parser::Dockerfile,
            "the file has no instructions",
        ));
    }
    Ok(Value::Array(vec![Value::Array(commands)]))
}

fn error(message: String, line: usize) -> ParseError {
    ParseError::new(Parser::Dockerfile, message).at(line, None)
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// BuildKit's whitespace class for splitting arguments.
fn is_blank(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Parser directives (`# escape=`, `# syntax=`) at the top of the file.
struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            escape: '\\',
            done: false,
            seen: Vec::new(),
        }
    }
}

impl Directives {
    /// Strips leading whitespace (first lines only) and comments, and reads directives.
    fn process(&mut self, line: &str, strip_left: bool) -> Result<String, String> {
        let line = if strip_left { line.trim_start() } else { line };
        self.directive(line)?;
        if line.starts_with('#') {
            Ok(String::new())
        } else {
            Ok(line.to_owned())
        }
    }

    fn directive(&mut self, line: &str) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = line
            .strip_prefix('#')
            .and_then(|rest| rest.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, v)| {
                !v.is_empty()
                    && k.starts_with(|c: char| c.is_ascii_alphabetic())
                    && k.chars().all(|c| c.is_ascii_alphanumeric())
            })
        else {
            self.done = true;
            return Ok(());
        };
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(format!("only one {key} parser directive can be used"));
        }
        self.seen.push(key.clone());
        if key == "escape" {
            self.escape = match value {
                "`" => '`',
                "\\" => '\\',
                other => {
                    return Err(format!("invalid escape token `{other}`; use ` or \\"));
                }
            };
        }
        Ok(())
    }

    /// Removes a trailing escape character (line continuation); `true` when the line ends here.
    fn trim_continuation(&self, line: &str) -> (String, bool) {
        let trimmed = line.trim_end_matches([' ', '\t']);
        match trimmed.strip_suffix(self.escape) {
            Some(rest) => (rest.to_owned(), false),
            None => (line.to_owned(), true),
        }
    }
}

/// Heredoc words (`<<EOF`, `<<-EOF`, `<<"EOF"`) of a `RUN`, `COPY` or `ADD` line, in order,
/// with whether tabs are stripped before the closing delimiter.
fn heredocs(line: &str) -> Vec<(String, bool)> {
    let mut words = line.split(is_blank).filter(|w| !w.is_empty());
    let Some(cmd) = words.next() else {
        return Vec::new();
    };
    if !["run", "copy", "add"].contains(&cmd.to_ascii_lowercase().as_str()) {
        return Vec::new();
    }
    words
        .filter_map(|word| {
            let rest = word.strip_prefix("<<")?;
            let (strip, rest) = match rest.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let name = rest.trim_matches(|c| c == '"' || c == '\'');
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| (name.to_owned(), strip))
        })
        .collect()
}

/// One instruction, split the way BuildKit splits it.
struct Node {
    cmd: String,
    sub_cmd: String,
    json: bool,
    flags: Option<Vec<String>>,
    value: Option<Vec<String>>,
}

impl Node {
    fn parse(line: &str, escape: char) -> Result<Node, String> {
        let trimmed = line.trim();
        let (cmd, rest) = match trimmed.find(is_blank) {
            Some(i) => (
                &trimmed[..i],
                Some(trimmed[i..].trim_start_matches(is_blank)),
            ),
            None => (trimmed, None),
        };
        let (args, flags) = match rest {
            Some(rest) => {
                let (args, flags) = builder_flags(rest);
                (args.trim().to_owned(), Some(flags))
            }
            None => (String::new(), None),
        };
        let lower = cmd.to_ascii_lowercase();
        let mut node = Node {
            cmd: lower.clone(),
            sub_cmd: String::new(),
            json: false,
            flags,
            value: None,
        };
        if lower == "onbuild" {
            if !args.is_empty() {
                let child = Node::parse(&args, escape)?;
                node.sub_cmd = child.cmd;
                node.json = child.json;
                node.value = child.value;
            }
            return Ok(node);
        }
        let (value, json) = arguments(&lower, cmd, &args, escape)?;
        node.value = value;
        node.json = json;
        Ok(node)
    }
}

type Parsed = (Option<Vec<String>>, bool);

fn arguments(lower: &str, cmd: &str, args: &str, escape: char) -> Result<Parsed, String> {
    match lower {
        "add" | "copy" | "volume" => maybe_json_list(args),
        "arg" => Ok((non_empty(words(args, escape)), false)),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(args),
        "env" => Ok((name_value(args, "ENV", escape)?, false)),
        "label" => Ok((name_value(args, "LABEL", escape)?, false)),
        "expose" | "from" => Ok((whitespace_list(args), false)),
        "healthcheck" => health_check(args),
        "maintainer" | "stopsignal" | "user" | "workdir" => {
            Ok(((!args.is_empty()).then(|| vec![args.to_owned()]), false))
        }
        _ => Err(format!("unknown instruction `{cmd}`")),
    }
}

fn non_empty(items: Vec<String>) -> Option<Vec<String>> {
    (!items.is_empty()).then_some(items)
}

fn whitespace_list(args: &str) -> Option<Vec<String>> {
    if args.is_empty() {
        return None;
    }
    Some(
        args.split(is_blank)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

enum Json {
    Strings(Vec<String>),
    NotArray,
    NotStrings,
}

fn json_array(args: &str) -> Json {
    let args = args.trim_start();
    if !args.starts_with('[') {
        return Json::NotArray;
    }
    match serde_json::from_str::<Vec<Value>>(args) {
        Ok(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map_or(Json::NotStrings, Json::Strings),
        Err(_) => Json::NotArray,
    }
}

const NOT_STRINGS: &str = "when using JSON array syntax, arrays must be comprised of strings only";

fn maybe_json(args: &str) -> Result<Parsed, String> {
    if args.is_empty() {
        return Ok((None, false));
    }
    match json_array(args) {
        Json::Strings(items) => Ok((Some(items), true)),
        Json::NotStrings => Err(NOT_STRINGS.to_owned()),
        Json::NotArray => Ok((Some(vec![args.to_owned()]), false)),
    }
}

fn maybe_json_list(args: &str) -> Result<Parsed, String> {
    match json_array(args) {
        Json::Strings(items) => Ok((Some(items), true)),
        Json::NotStrings => Err(NOT_STRINGS.to_owned()),
        Json::NotArray => Ok((whitespace_list(args), false)),
    }
}

fn health_check(args: &str) -> Result<Parsed, String> {
    let sep = args.find(char::is_whitespace).unwrap_or(args.len());
    if sep == 0 {
        return Ok((None, false));
    }
    let kind = &args[..sep];
    let rest = args[sep..].trim_start();
    let (command, json) = maybe_json(rest)?;
    let mut value = vec![kind.to_owned()];
    value.extend(command.unwrap_or_default());
    Ok((Some(value), json))
}

/// `ENV`/`LABEL`: `key=value …` as `key, value, "="` triples, or the old `key value` form as
/// `key, value, ""`.
fn name_value(args: &str, keyword: &str, escape: char) -> Result<Option<Vec<String>>, String> {
    let words = words(args, escape);
    let Some(first) = words.first() else {
        return Ok(None);
    };
    if !first.contains('=') {
        let Some(i) = args.find(is_blank) else {
            return Err(format!("{keyword} must have two arguments"));
        };
        let value = args[i..].trim_start_matches(is_blank);
        return Ok(Some(vec![
            args[..i].to_owned(),
            value.to_owned(),
            String::new(),
        ]));
    }
    let mut out = Vec::new();
    for word in &words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!(
                "syntax error - can't find = in {word:?}; must be of the form: name=value"
            ));
        };
        out.extend([key.to_owned(), value.to_owned(), "=".to_owned()]);
    }
    Ok(Some(out))
}

/// Splits on whitespace outside quotes; quotes and escapes are kept, as BuildKit does at this
/// stage.
fn words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut word = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(ch) = chars.next() {
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                continue;
            }
            phase = Phase::Word;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                // An escape at the very end is dropped.
                if let Some(next) = chars.next() {
                    word.push(ch);
                    word.push(next);
                }
                continue;
            }
            word.push(ch);
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            match chars.next() {
                Some(next) => {
                    word.push(ch);
                    word.push(next);
                }
                None => phase = Phase::Word,
            }
            continue;
        }
        word.push(ch);
    }
    if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// Splits leading `--flag` words off the arguments.
fn builder_flags(line: &str) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut flags = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut i = 0;
    while i < chars.len() {
        let (pos, ch) = chars[i];
        match phase {
            Phase::Spaces => {
                if ch.is_whitespace() {
                    i += 1;
                    continue;
                }
                let next_is_dash = chars.get(i + 1).is_some_and(|&(_, c)| c == '-');
                if ch != '-' || !next_is_dash {
                    return (line[pos..].to_owned(), flags);
                }
                phase = Phase::Word;
            }
            Phase::Word => {
                if ch.is_whitespace() {
                    phase = Phase::Spaces;
                    if word == "--" {
                        return (line[pos..].to_owned(), flags);
                    }
                    if blank_ok || !word.is_empty() {
                        flags.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    blank_ok = false;
                    i += 1;
                    continue;
                }
                if ch == '\'' || ch == '"' {
                    quote = ch;
                    blank_ok = true;
                    phase = Phase::Quote;
                    i += 1;
                    continue;
                }
                if ch == '\\' {
                    i += 1;
                    if let Some(&(_, next)) = chars.get(i) {
                        word.push(next);
                    }
                    i += 1;
                    continue;
                }
                word.push(ch);
                i += 1;
            }
            Phase::Quote => {
                if ch == quote {
                    phase = Phase::Word;
                    i += 1;
                    continue;
                }
                if ch == '\\' {
                    i += 1;
                    match chars.get(i) {
                        Some(&(_, next)) => word.push(next),
                        None => phase = Phase::Word,
                    }
                    i += 1;
                    continue;
                }
                word.push(ch);
                i += 1;
            }
        }
    }
    if phase != Phase::Spaces && word != "--" && (blank_ok || !word.is_empty()) {
        flags.push(word);
    }
    (String::new(), flags)
}
