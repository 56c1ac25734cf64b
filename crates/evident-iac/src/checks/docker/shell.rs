//! A small reader for the shell in `RUN` instructions: splits a command line into pipelines of
//! simple commands whose words are unquoted, and follows `sh -c '…'`. Enough to tell what runs
//! and with which arguments; not a POSIX parser (no expansion, `case` or functions).

/// The words of one simple command (`curl -fsSL https://x`), unquoted.
pub(crate) type Command = Vec<String>;

/// Commands joined by `|`.
pub(crate) type Pipeline = Vec<Command>;

/// Shells whose `-c` argument is read as more commands, and that run a script piped to them.
pub(crate) const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ash", "ksh", "mksh"];

/// How deep `sh -c "bash -c '…'"` is followed.
const MAX_NESTING: usize = 4;

/// The pipelines of a shell command line, including those inside `sh -c` arguments.
pub(crate) fn parse(text: &str) -> Vec<Pipeline> {
    let mut out = Vec::new();
    parse_into(text, 0, &mut out);
    out
}

/// The pipelines of an exec-form instruction (`["sh", "-c", "…"]`): the words are one
/// command, whose `-c` script is followed like in [`parse`].
pub(crate) fn parse_exec(words: &[String]) -> Vec<Pipeline> {
    let mut out = vec![vec![words.to_vec()]];
    if let Some(script) = shell_script(words) {
        parse_into(script, 1, &mut out);
    }
    out
}

fn parse_into(text: &str, depth: usize, out: &mut Vec<Pipeline>) {
    let pipelines = lex(text);
    let mut nested = Vec::new();
    if depth < MAX_NESTING {
        for p in &pipelines {
            for c in p {
                if let Some(script) = shell_script(c) {
                    nested.push(script.to_owned());
                }
            }
        }
    }
    out.extend(pipelines);
    for script in nested {
        parse_into(&script, depth + 1, out);
    }
}

/// The script of `sh -c 'script'` (also `bash -ec`, `sudo sh -c`).
fn shell_script(words: &[String]) -> Option<&str> {
    let c = Cmd::of(words)?;
    if !SHELLS.contains(&c.name) {
        return None;
    }
    let mut args = c.args.iter();
    while let Some(a) = args.next() {
        if a.starts_with('-') && !a.starts_with("--") && a[1..].contains('c') {
            return args.next().map(String::as_str);
        }
        if !a.starts_with('-') {
            return None;
        }
    }
    None
}

/// A simple command seen through its prefix: assignments (`A=1 cmd`), `sudo`, `env`, `exec`
/// and shell keywords (`if`, `then`, `do`, `!`) are skipped to reach the program that runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cmd<'a> {
    /// Base name of the program (`/usr/bin/curl` → `curl`).
    pub name: &'a str,
    pub args: &'a [String],
    /// Whether the program runs through `sudo` or `doas`.
    pub sudo: bool,
}

const KEYWORDS: &[&str] = &[
    "!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until",
];

impl<'a> Cmd<'a> {
    pub fn of(words: &'a [String]) -> Option<Cmd<'a>> {
        let mut i = 0;
        let mut sudo = false;
        while i < words.len() {
            let w = words[i].as_str();
            if is_assignment(w) || KEYWORDS.contains(&w) {
                i += 1;
                continue;
            }
            let base = basename(w);
            let takes_value: &[&str] = match base {
                "sudo" | "doas" => {
                    sudo = true;
                    &["-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D"]
                }
                "env" => &["-u", "-C", "-S"],
                "exec" | "time" | "nohup" | "command" | "builtin" | "nice" | "stdbuf" => &["-n"],
                _ => {
                    return Some(Cmd {
                        name: base,
                        args: &words[i + 1..],
                        sudo,
                    });
                }
            };
            i += 1;
            while i < words.len() && words[i].starts_with('-') {
                i += if takes_value.contains(&words[i].as_str()) {
                    2
                } else {
                    1
                };
            }
        }
        None
    }
}

/// `NAME=value` with a valid variable name.
pub(crate) fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The variables a command sets: prefix assignments (`A=1 cmd`), `export A=1`, `env A=1 cmd`.
pub(crate) fn assignments(words: &[String]) -> Vec<(&str, &str)> {
    let exporting = words
        .iter()
        .find(|w| !is_assignment(w))
        .is_some_and(|w| matches!(basename(w), "export" | "env" | "declare" | "typeset"));
    let mut out = Vec::new();
    for w in words {
        if is_assignment(w) {
            if let Some(pair) = w.split_once('=') {
                out.push(pair);
            }
        } else if !exporting && !matches!(basename(w), "sudo" | "env") {
            break;
        }
    }
    out
}

fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

/// Splits into pipelines of commands of words.
#[allow(clippy::too_many_lines)]
fn lex(text: &str) -> Vec<Pipeline> {
    struct State {
        pipelines: Vec<Pipeline>,
        pipeline: Pipeline,
        command: Command,
        word: String,
        in_word: bool,
    }
    impl State {
        fn end_word(&mut self) {
            if self.in_word {
                self.command.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        }
        fn end_command(&mut self) {
            self.end_word();
            if !self.command.is_empty() {
                self.pipeline.push(std::mem::take(&mut self.command));
            }
        }
        fn end_pipeline(&mut self) {
            self.end_command();
            if !self.pipeline.is_empty() {
                self.pipelines.push(std::mem::take(&mut self.pipeline));
            }
        }
        fn push(&mut self, c: char) {
            self.word.push(c);
            self.in_word = true;
        }
        fn push_all(&mut self, cs: &[char]) {
            self.word.extend(cs);
            self.in_word = true;
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut s = State {
        pipelines: Vec::new(),
        pipeline: Vec::new(),
        command: Vec::new(),
        word: String::new(),
        in_word: false,
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\r' => s.end_word(),
            '\n' | ';' | '(' | ')' => s.end_pipeline(),
            '&' if s.word.ends_with(['>', '<']) || next == Some('>') => s.push(c),
            '&' => {
                s.end_pipeline();
                if next == Some('&') {
                    i += 1;
                }
            }
            '|' => {
                if next == Some('|') {
                    s.end_pipeline();
                    i += 1;
                } else {
                    s.end_command();
                    if next == Some('&') {
                        i += 1;
                    }
                }
            }
            '#' if !s.in_word => {
                while i + 1 < chars.len() && chars[i + 1] != '\n' {
                    i += 1;
                }
            }
            '\'' => {
                s.in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    s.word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                s.in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    match chars[i] {
                        '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                            s.word.push(chars[i + 1]);
                            i += 1;
                        }
                        '$' if chars.get(i + 1) == Some(&'(') => {
                            let end = balanced(&chars, i + 1);
                            s.word.extend(&chars[i..=end]);
                            i = end;
                        }
                        '`' => {
                            let end = closing_backtick(&chars, i);
                            s.word.extend(&chars[i..=end]);
                            i = end;
                        }
                        ch => s.word.push(ch),
                    }
                    i += 1;
                }
            }
            '\\' => {
                if let Some(n) = next {
                    if n != '\n' {
                        s.push(n);
                    }
                    i += 1;
                }
            }
            '$' | '<' | '>' if next == Some('(') => {
                let end = balanced(&chars, i + 1);
                s.push_all(&chars[i..=end]);
                i = end;
            }
            '`' => {
                let end = closing_backtick(&chars, i);
                s.push_all(&chars[i..=end]);
                i = end;
            }
            _ => s.push(c),
        }
        i += 1;
    }
    s.end_pipeline();
    s.pipelines
}

/// The index of the `)` closing the `(` at `open` (quotes inside skipped), or the last index.
fn balanced(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            '\\' => i += 1,
            q @ ('\'' | '"') => {
                i += 1;
                while i < chars.len() && chars[i] != q {
                    if q == '"' && chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    chars.len().saturating_sub(1)
}

fn closing_backtick(chars: &[char], open: usize) -> usize {
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '`' => return i,
            _ => {}
        }
        i += 1;
    }
    chars.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(p: &[Pipeline]) -> Vec<Vec<Vec<&str>>> {
        p.iter()
            .map(|pl| {
                pl.iter()
                    .map(|c| c.iter().map(String::as_str).collect())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn splits_pipelines_commands_and_words() {
        let p = parse(
            "apt-get update && curl -fsSL 'https://x/y z' 2>&1 | sudo -E bash - ; echo \"a \\\"b\\\"\" # c | sh",
        );
        assert_eq!(
            words(&p),
            vec![
                vec![vec!["apt-get", "update"]],
                vec![
                    vec!["curl", "-fsSL", "https://x/y z", "2>&1"],
                    vec!["sudo", "-E", "bash", "-"]
                ],
                vec![vec!["echo", "a \"b\""]],
            ]
        );
        let c = Cmd::of(&p[1][1]).unwrap();
        assert_eq!(c.name, "bash");
        assert!(c.sudo);
    }

    #[test]
    fn keeps_substitutions_in_one_word_and_follows_sh_c() {
        let p = parse(r#"bash -c "$(curl -fsSL "https://x/install.sh")""#);
        assert_eq!(p[0][0][2], r#"$(curl -fsSL "https://x/install.sh")"#);
        let p = parse("sh -ec 'wget -qO- https://x | sh'");
        assert_eq!(p.len(), 2);
        assert_eq!(Cmd::of(&p[1][0]).unwrap().name, "wget");
        assert_eq!(Cmd::of(&p[1][1]).unwrap().name, "sh");
        let exec = parse_exec(&["/bin/sh".to_owned(), "-c".to_owned(), "sudo ls".to_owned()]);
        assert!(
            exec.iter()
                .flatten()
                .any(|c| Cmd::of(c).is_some_and(|c| c.sudo))
        );
    }

    #[test]
    fn prefixes_and_assignments() {
        let p = parse(
            "GIT_SSL_NO_VERIFY=1 git clone x && export A=1 B=2 && if true; then /usr/bin/curl x; fi",
        );
        assert_eq!(assignments(&p[0][0]), vec![("GIT_SSL_NO_VERIFY", "1")]);
        assert_eq!(Cmd::of(&p[0][0]).unwrap().name, "git");
        assert_eq!(assignments(&p[1][0]), vec![("A", "1"), ("B", "2")]);
        assert_eq!(Cmd::of(&p[3][0]).unwrap().name, "curl");
        assert!(Cmd::of(&["A=1".to_owned()]).is_none());
    }
}
