//! Text taken from SARIF: placeholders filled, embedded links flattened, HTML tags dropped,
//! trimmed to a size that fits a finding.

/// Longest finding message, in characters.
pub(crate) const MAX_MESSAGE: usize = 1000;
/// Longest title, in characters.
pub(crate) const MAX_TITLE: usize = 200;
/// Longest "why" / "fix" / suppression reason, in characters.
pub(crate) const MAX_PROSE: usize = 600;

/// `text` cut to at most `max` characters (an ellipsis marks the cut), trimmed.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text[cut..].chars().nth(1).is_some() => {
            format!("{}…", text[..cut].trim_end())
        }
        _ => text.to_owned(),
    }
}

/// Fills SARIF placeholders `{0}`, `{1}`, … with `arguments` (SARIF §3.11.5). Doubled braces
/// stand for literal ones. Placeholders without an argument are left as written.
pub(crate) fn fill_placeholders(template: &str, arguments: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{')
            && let Some(close) = tail.find('}')
            && let Ok(index) = tail[1..close].parse::<usize>()
            && let Some(argument) = arguments.get(index)
        {
            out.push_str(argument);
            rest = &tail[close + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// Flattens SARIF embedded links `[text](target)` (SARIF §3.11.6) to `text` when the target is a
/// location id (a number), as CodeQL writes for "[user-provided value](1)".
pub(crate) fn flatten_embedded_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        // An escaped bracket is literal.
        if open > 0 && rest.as_bytes()[open - 1] == b'\\' {
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        }
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let link = tail.find("](").and_then(|mid| {
            let label = &tail[1..mid];
            let after = &tail[mid + 2..];
            let close = after.find(')')?;
            let target = &after[..close];
            (!label.contains('[')
                && !target.is_empty()
                && target.bytes().all(|b| b.is_ascii_digit()))
            .then_some((label, mid + 2 + close + 1))
        });
        if let Some((label, consumed)) = link {
            out.push_str(label);
            rest = &tail[consumed..];
        } else {
            out.push('[');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// HTML tags that rule descriptions use (SonarQube, ZAP): dropped, with block tags turned into
/// line breaks. Anything else in angle brackets (`List<String>`) is kept.
const HTML_TAGS: &[&str] = &[
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
];
const BLOCK_TAGS: &[&str] = &[
    "blockquote",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ol",
    "p",
    "pre",
    "table",
    "tr",
    "ul",
];

/// Drops known HTML tags and decodes the common entities.
pub(crate) fn strip_html(text: &str) -> String {
    if !text.contains('<') && !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let tag = tail.find('>').and_then(|close| {
            let inner = tail[1..close].trim_start_matches('/');
            let name: String = inner
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            let rest_of_tag = &inner[name.len()..];
            let well_formed =
                rest_of_tag.is_empty() || rest_of_tag.starts_with([' ', '/', '\t', '\n']);
            (well_formed && HTML_TAGS.contains(&name.as_str())).then_some((name, close))
        });
        if let Some((name, close)) = tag {
            if name.len() == 2 && name.starts_with('h') {
                // Headings become markdown headings, so sections can be found by title.
                out.push_str(if tail[1..].starts_with('/') {
                    "\n\n"
                } else {
                    "\n\n# "
                });
            } else if BLOCK_TAGS.contains(&name.as_str()) {
                out.push('\n');
                if name == "p" {
                    out.push('\n');
                }
            }
            rest = &tail[close + 1..];
        } else {
            out.push('<');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Is `line` a markdown heading (`# Title`, `## Title`)?
fn heading(line: &str) -> Option<&str> {
    let title = line.trim_start_matches('#');
    (title.len() < line.len() && line.len() - title.len() <= 6 && title.starts_with(' '))
        .then(|| title.trim())
}

/// The paragraphs of `text` (separated by blank lines or headings), each with the heading it
/// sits under, lines trimmed.
fn paragraphs(text: &str) -> Vec<(Option<&str>, String)> {
    let mut out = Vec::new();
    let mut under = None;
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        let title = heading(line);
        if line.is_empty() || title.is_some() {
            if !lines.is_empty() {
                out.push((under, lines.join("\n")));
                lines.clear();
            }
            if title.is_some() {
                under = title;
            }
            continue;
        }
        lines.push(line);
    }
    if !lines.is_empty() {
        out.push((under, lines.join("\n")));
    }
    out
}

/// Prose for `why` from a rule description: HTML dropped, the first paragraph that is not a
/// heading, trimmed.
pub(crate) fn prose(text: &str) -> Option<String> {
    let text = strip_html(text);
    paragraphs(&text)
        .into_iter()
        .map(|(_, paragraph)| truncate(&paragraph, MAX_PROSE))
        .find(|paragraph| !paragraph.is_empty())
}

/// Prose for `fix`: the first paragraph under a heading such as "Recommendation" or "How to fix
/// it" (CodeQL, SonarQube help), if there is one.
pub(crate) fn remedy(text: &str) -> Option<String> {
    const HEADINGS: [&str; 5] = ["recommend", "fix", "remediat", "solution", "mitigat"];
    let text = strip_html(text);
    paragraphs(&text)
        .into_iter()
        .find(|(under, _)| {
            under.is_some_and(|title| {
                let title = title.to_ascii_lowercase();
                HEADINGS.iter().any(|h| title.contains(h))
            })
        })
        .map(|(_, paragraph)| truncate(&paragraph, MAX_PROSE))
        .filter(|paragraph| !paragraph.is_empty())
}

/// The first sentence of `text` (up to the first `.` followed by whitespace), on one line.
pub(crate) fn first_sentence(text: &str) -> String {
    let text = one_line(&strip_html(text));
    let end = text
        .char_indices()
        .find(|&(i, c)| c == '.' && text[i + 1..].starts_with(' '))
        .map_or(text.len(), |(i, _)| i + 1);
    text[..end].to_owned()
}

/// One line: whitespace runs (newlines included) collapsed to one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("  short  ", 10), "short");
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("ééééééé", 3), "éé…");
        assert_eq!(truncate("", 3), "");
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            fill_placeholders("Variable {0} is used before {1}.", &["x", "init"]),
            "Variable x is used before init."
        );
        assert_eq!(fill_placeholders("{{0}} {0} {2}", &["a"]), "{0} a {2}");
        assert_eq!(fill_placeholders("{ not } {x}", &[]), "{ not } {x}");
        assert_eq!(fill_placeholders("tail {", &[]), "tail {");
        assert_eq!(fill_placeholders("é{0}é", &["ü"]), "éüé");
    }

    #[test]
    fn embedded_links() {
        assert_eq!(
            flatten_embedded_links("depends on a [user-provided value](1) and [this](22)."),
            "depends on a user-provided value and this."
        );
        assert_eq!(
            flatten_embedded_links("see [docs](https://x.test) \\[not](1) [a [b](2) [c]"),
            "see [docs](https://x.test) \\[not](1) [a b [c]"
        );
    }

    #[test]
    fn html() {
        assert_eq!(
            strip_html("<p>Use <code>PreparedStatement</code>.</p><p>More &amp; more</p>"),
            "\n\nUse PreparedStatement.\n\n\n\nMore & more\n\n"
        );
        assert_eq!(strip_html("List<String> x < y"), "List<String> x < y");
        assert_eq!(
            prose("<p>First paragraph\n  continues.</p><p>Second.</p>").as_deref(),
            Some("First paragraph\ncontinues.")
        );
        assert_eq!(prose("  \n\n "), None);
    }

    #[test]
    fn sections() {
        let sonar = "<h2>Why is this an issue?</h2>\n<p>Injections happen.</p>\n<h2>How to fix it</h2>\n<p>Use <code>PreparedStatement</code>.</p>";
        assert_eq!(prose(sonar).as_deref(), Some("Injections happen."));
        assert_eq!(remedy(sonar).as_deref(), Some("Use PreparedStatement."));
        let codeql = "# Database query built from user-controlled sources\nIf a query is built from user data, it can be abused.\n\n\n## Recommendation\nUse query parameters.\n";
        assert_eq!(
            prose(codeql).as_deref(),
            Some("If a query is built from user data, it can be abused.")
        );
        assert_eq!(remedy(codeql).as_deref(), Some("Use query parameters."));
        assert_eq!(remedy("Just text.\n\nMore text."), None);
        // `#checkov:skip` and `#!/bin/sh` are not headings.
        assert_eq!(
            prose("#checkov:skip=X\nmore").as_deref(),
            Some("#checkov:skip=X\nmore")
        );
    }

    #[test]
    fn sentences() {
        assert_eq!(
            first_sentence("Detected the use of eval(). eval() can be dangerous."),
            "Detected the use of eval()."
        );
        assert_eq!(first_sentence("No period here"), "No period here");
        assert_eq!(
            first_sentence("Version 1.2 is old.\nUpgrade."),
            "Version 1.2 is old."
        );
    }
}
