//! SPDX licence expressions (SPDX 2.3 Annex D) and a licence policy.
//!
//! [`parse`] turns `MIT OR (Apache-2.0 AND GPL-2.0-or-later WITH Classpath-exception-2.0)` into
//! an [`Expr`]; its [`Display`](std::fmt::Display) prints it back in a canonical form that parses
//! to the same tree. Operators are matched case-insensitively (`and`, `Or`, `WITH`) and printed
//! in upper case; `WITH` binds tighter than `AND`, which binds tighter than `OR`; chains are kept
//! flat (`A AND B AND C` is one [`Expr::And`] of three), parenthesised groups stay nested.
//!
//! [`LicensePolicy::evaluate`] judges an expression against deny and allow lists; the rules are
//! on [`LicensePolicy`].

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

/// The SPDX License List 3.28.0 licence ids (deprecated ones included), one a line.
const LICENSE_IDS: &str = include_str!("spdx-licenses.txt");
/// The SPDX License List 3.28.0 exception ids, one a line.
const EXCEPTION_IDS: &str = include_str!("spdx-exceptions.txt");
/// The licence list version the two lists come from (SPDX `creationInfo.licenseListVersion`).
pub const LICENSE_LIST_VERSION: &str = "3.28";

/// How deep parentheses may nest: deeper input is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

fn index(list: &'static str) -> HashMap<String, &'static str> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|id| (id.to_ascii_lowercase(), id))
        .collect()
}

static LICENSES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| index(LICENSE_IDS));
static EXCEPTIONS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| index(EXCEPTION_IDS));

/// The SPDX list's spelling of a licence id, matched case-insensitively (`mit` → `MIT`), or
/// `None` when the id is not on the SPDX licence list.
pub fn canonical_license_id(id: &str) -> Option<&'static str> {
    LICENSES.get(&id.to_ascii_lowercase()).copied()
}

/// The SPDX list's spelling of a licence exception id, or `None` when it is not on the list.
pub fn canonical_exception_id(id: &str) -> Option<&'static str> {
    EXCEPTIONS.get(&id.to_ascii_lowercase()).copied()
}

/// A licence on its own: an SPDX id (possibly with `+`, "or any later version") or a
/// `LicenseRef-`, possibly from another document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Simple {
    /// A licence id as written (`MIT`, `GPL-2.0-or-later`, or an id not on the SPDX list).
    Id { id: String, or_later: bool },
    /// `[DocumentRef-<document>:]LicenseRef-<name>`: `name` and `document` without prefixes.
    Ref {
        document: Option<String>,
        name: String,
    },
}

/// A parsed SPDX licence expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    Simple(Simple),
    /// `<licence> WITH <exception>` (the grammar allows an exception on a simple licence only).
    With {
        license: Simple,
        exception: String,
    },
    /// Two or more operands, all of which apply.
    And(Vec<Expr>),
    /// Two or more operands, of which the licensee may choose one.
    Or(Vec<Expr>),
}

impl fmt::Display for Simple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Simple::Id { id, or_later } => {
                f.write_str(id)?;
                if *or_later {
                    f.write_str("+")?;
                }
                Ok(())
            }
            Simple::Ref { document, name } => {
                if let Some(doc) = document {
                    write!(f, "DocumentRef-{doc}:")?;
                }
                write!(f, "LicenseRef-{name}")
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Simple(s) => s.fmt(f),
            Expr::With { license, exception } => write!(f, "{license} WITH {exception}"),
            Expr::And(items) => join(f, items, " AND ", |e| {
                matches!(e, Expr::And(_) | Expr::Or(_))
            }),
            Expr::Or(items) => join(f, items, " OR ", |e| matches!(e, Expr::Or(_))),
        }
    }
}

fn join(
    f: &mut fmt::Formatter<'_>,
    items: &[Expr],
    op: &str,
    needs_parens: impl Fn(&Expr) -> bool,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(op)?;
        }
        if needs_parens(item) {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

impl Expr {
    /// Every simple licence in the expression, left to right.
    pub fn licenses(&self) -> Vec<&Simple> {
        let mut out = Vec::new();
        self.visit(&mut |e| match e {
            Expr::Simple(s) | Expr::With { license: s, .. } => out.push(s),
            Expr::And(_) | Expr::Or(_) => {}
        });
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        if let Expr::And(items) | Expr::Or(items) = self {
            for item in items {
                item.visit(f);
            }
        }
    }

    /// True when every licence id is on the SPDX list (`LicenseRef-`s count as valid), every
    /// exception is on the SPDX exception list, and no `DocumentRef-` is used.
    pub fn is_spdx_valid(&self) -> bool {
        let mut ok = true;
        self.visit(&mut |e| {
            let (license, exception) = match e {
                Expr::Simple(s) => (s, None),
                Expr::With { license, exception } => (license, Some(exception)),
                Expr::And(_) | Expr::Or(_) => return,
            };
            ok &= match license {
                Simple::Id { id, .. } => canonical_license_id(id).is_some(),
                Simple::Ref { document, .. } => document.is_none(),
            };
            ok &= exception.is_none_or(|x| canonical_exception_id(x).is_some());
        });
        ok
    }

    /// The same expression with known ids spelled as the SPDX list spells them.
    #[must_use]
    pub fn canonical(&self) -> Expr {
        let simple = |s: &Simple| match s {
            Simple::Id { id, or_later } => Simple::Id {
                id: canonical_license_id(id).map_or_else(|| id.clone(), str::to_owned),
                or_later: *or_later,
            },
            Simple::Ref { .. } => s.clone(),
        };
        match self {
            Expr::Simple(s) => Expr::Simple(simple(s)),
            Expr::With { license, exception } => Expr::With {
                license: simple(license),
                exception: canonical_exception_id(exception)
                    .map_or_else(|| exception.clone(), str::to_owned),
            },
            Expr::And(items) => Expr::And(items.iter().map(Expr::canonical).collect()),
            Expr::Or(items) => Expr::Or(items.iter().map(Expr::canonical).collect()),
        }
    }
}

/// Why an expression does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
#[non_exhaustive]
pub struct ExprError {
    /// Byte offset in the input (0-based).
    pub offset: usize,
    /// Character position in the input (1-based), as shown in the message.
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Open,
    Close,
    And,
    Or,
    With,
    Word { text: &'a str, plus: bool },
    End,
}

impl Tok<'_> {
    fn describe(&self) -> String {
        match self {
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::And => "`AND`".into(),
            Tok::Or => "`OR`".into(),
            Tok::With => "`WITH`".into(),
            Tok::Word { text, plus } => format!("`{text}{}`", if *plus { "+" } else { "" }),
            Tok::End => "the end of the expression".into(),
        }
    }
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<(usize, Tok<'a>)>,
    pos: usize,
    depth: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':')
}

fn lex(input: &str) -> Result<Vec<(usize, Tok<'_>)>, (usize, String)> {
    let mut toks = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            toks.push((start, Tok::Open));
        } else if c == ')' {
            chars.next();
            toks.push((start, Tok::Close));
        } else if is_word_char(c) {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let text = &input[start..end];
            let plus = chars.peek().is_some_and(|&(_, c)| c == '+');
            if plus {
                chars.next();
            }
            let tok = match text.to_ascii_uppercase().as_str() {
                "AND" | "OR" | "WITH" if plus => {
                    return Err((end, "`+` must follow a licence id".into()));
                }
                "AND" => Tok::And,
                "OR" => Tok::Or,
                "WITH" => Tok::With,
                _ => Tok::Word { text, plus },
            };
            toks.push((start, tok));
        } else if c == '+' {
            return Err((start, "`+` must follow a licence id directly".into()));
        } else {
            return Err((start, format!("unexpected character `{c}`")));
        }
    }
    toks.push((input.len(), Tok::End));
    Ok(toks)
}

/// Strips an ASCII prefix case-insensitively.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok<'a> {
        &self.toks[self.pos].1
    }

    fn offset(&self) -> usize {
        self.toks[self.pos].0
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ExprError {
        let column = self.input[..offset].chars().count() + 1;
        ExprError {
            offset,
            column,
            message: message.into(),
        }
    }

    fn bump(&mut self) -> (usize, Tok<'a>) {
        let tok = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    fn or_expr(&mut self) -> Result<Expr, ExprError> {
        let mut items = vec![self.and_expr()?];
        while *self.peek() == Tok::Or {
            self.bump();
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ExprError> {
        let mut items = vec![self.primary()?];
        while *self.peek() == Tok::And {
            self.bump();
            items.push(self.primary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let (offset, tok) = self.bump();
        match tok {
            Tok::Open => {
                if self.depth >= MAX_DEPTH {
                    return Err(self.error(
                        offset,
                        format!("parentheses nest more than {MAX_DEPTH} deep"),
                    ));
                }
                self.depth += 1;
                let inner = self.or_expr()?;
                self.depth -= 1;
                let (close_at, close) = self.bump();
                if close != Tok::Close {
                    return Err(self.error(
                        close_at,
                        format!(
                            "expected `)` to close the `(` at column {}, found {}",
                            self.input[..offset].chars().count() + 1,
                            close.describe()
                        ),
                    ));
                }
                Ok(inner)
            }
            Tok::Word { text, plus } => {
                let license = self.simple(offset, text, plus)?;
                if *self.peek() != Tok::With {
                    return Ok(Expr::Simple(license));
                }
                self.bump();
                let (exc_at, exc) = self.bump();
                match exc {
                    Tok::Word { text, plus: false } if !text.contains(':') => Ok(Expr::With {
                        license,
                        exception: text.to_owned(),
                    }),
                    other => Err(self.error(
                        exc_at,
                        format!(
                            "expected a licence exception id after `WITH`, found {}",
                            other.describe()
                        ),
                    )),
                }
            }
            other => Err(self.error(
                offset,
                format!("expected a licence or `(`, found {}", other.describe()),
            )),
        }
    }

    fn simple(&self, offset: usize, text: &str, plus: bool) -> Result<Simple, ExprError> {
        let (document, rest) = if let Some(after) = strip_prefix_ci(text, "DocumentRef-") {
            let Some((doc, rest)) = after.split_once(':') else {
                return Err(self.error(
                    offset,
                    format!("`{text}`: expected `DocumentRef-<id>:LicenseRef-<id>`"),
                ));
            };
            if doc.is_empty() {
                return Err(self.error(offset, format!("`{text}`: empty DocumentRef id")));
            }
            if strip_prefix_ci(rest, "LicenseRef-").is_none() {
                return Err(self.error(
                    offset,
                    format!("`{text}`: a DocumentRef must be followed by `:LicenseRef-<id>`"),
                ));
            }
            (Some(doc.to_owned()), rest)
        } else {
            (None, text)
        };
        if let Some(name) = strip_prefix_ci(rest, "LicenseRef-") {
            if name.is_empty() || name.contains(':') {
                return Err(self.error(offset, format!("`{text}`: invalid LicenseRef id")));
            }
            if plus {
                return Err(
                    self.error(offset, format!("`{text}+`: `+` cannot follow a LicenseRef"))
                );
            }
            return Ok(Simple::Ref {
                document,
                name: name.to_owned(),
            });
        }
        if text.contains(':') {
            return Err(self.error(
                offset,
                format!("`{text}`: `:` is only allowed in `DocumentRef-<id>:LicenseRef-<id>`"),
            ));
        }
        Ok(Simple::Id {
            id: text.to_owned(),
            or_later: plus,
        })
    }
}

/// Parses an SPDX licence expression. Ids are kept as written (see [`Expr::canonical`]); ids
/// that are not on the SPDX list parse (see [`Expr::is_spdx_valid`]).
pub fn parse(input: &str) -> Result<Expr, ExprError> {
    let toks = match lex(input) {
        Ok(toks) => toks,
        Err((offset, message)) => {
            return Err(ExprError {
                offset,
                column: input[..offset].chars().count() + 1,
                message,
            });
        }
    };
    let mut p = Parser {
        input,
        toks,
        pos: 0,
        depth: 0,
    };
    if *p.peek() == Tok::End {
        return Err(p.error(p.offset(), "empty licence expression"));
    }
    let expr = p.or_expr()?;
    let (offset, tok) = p.bump();
    if tok != Tok::End {
        let message = if tok == Tok::Close {
            "`)` without a matching `(`".to_owned()
        } else {
            format!("expected `AND`, `OR` or the end, found {}", tok.describe())
        };
        return Err(p.error(offset, message));
    }
    Ok(expr)
}

// ---------------------------------------------------------------------------------------------
// Policy

/// A licence policy: ids that are not acceptable, and (when not empty) the only ids that are.
///
/// Entries are simple licences: SPDX ids (`GPL-3.0-only`, `GPL-3.0-or-later`, `GPL-2.0+`) or
/// `LicenseRef-…`s, matched case-insensitively. The rules of [`LicensePolicy::evaluate`]:
///
/// - **Versions.** `-only`, `-or-later` and `+` are read as version sets: `GPL-2.0-or-later`
///   and `GPL-2.0+` mean GPL-2.0 *or any later GPL version on the SPDX list* (GPL-3.0);
///   `GPL-2.0-only` and the deprecated plain `GPL-2.0` mean GPL-2.0 alone. "Later versions"
///   are the ids of the same family (the id without its trailing version number) with a
///   higher version: `LGPL-2.0+` covers LGPL-2.1 and LGPL-3.0 but not GPL; versions not yet
///   published are not counted. Deprecated ids with an exception in their name
///   (`GPL-2.0-with-classpath-exception`) are judged as their licence (`GPL-2.0`, only).
/// - **A deny entry** denies the versions it covers: `GPL-3.0-only` denies GPL-3.0;
///   `GPL-3.0-or-later` denies GPL-3.0 and every later GPL.
/// - **An allow entry** allows the versions it covers, the same way. When `allow` is empty
///   every version that is not denied is acceptable; when it is not, only allowed ones are.
///   Deny wins over allow.
/// - **An or-later licence** in an expression is acceptable when *any* of its versions is,
///   because the licensee may choose which version to comply with: with `GPL-3.0-only`
///   denied, `GPL-2.0-or-later` is allowed (choose GPL-2.0); with `GPL-2.0-only` and
///   `GPL-3.0-only` both denied, it is denied.
/// - **`A OR B`** is acceptable when either side is (the licensee chooses); **`A AND B`** only
///   when both are. **`X WITH exc`** is judged on `X`, the exception kept in explanations.
/// - **Unknown**: with an empty `allow`, a licence that is neither denied nor on the SPDX
///   list (a `LicenseRef-…`, a misspelt id) cannot be judged. In `OR`, an allowed side makes
///   the whole allowed, otherwise an unknown side makes it unknown; in `AND`, a denied side
///   makes it denied, otherwise an unknown side makes it unknown (three-valued logic). An
///   expression that does not parse, `NOASSERTION` and `NONE` are unknown too. With a
///   non-empty `allow`, anything not allowed is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicensePolicy {
    pub deny: Vec<String>,
    pub allow: Vec<String>,
}

/// What a policy says about a licence expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Not acceptable; each reason names the licence and the policy entry (or the missing
    /// allow entry) that decided.
    Denied {
        because: Vec<String>,
    },
    /// The policy cannot decide (unknown licences, no licence, an expression that does not
    /// parse); the reasons say which part.
    Unknown {
        because: Vec<String>,
    },
}

/// A licence reduced to what the policy compares: its base id (no `-only`/`-or-later`/`+`)
/// and whether later versions of it are included.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    /// Lower-case base id, e.g. `gpl-2.0` or `licenseref-foo`.
    base: String,
    or_later: bool,
}

/// Splits a lower-case base id into its family and trailing version (`gpl-2.0` → `gpl`, [2, 0]).
fn family_version(base: &str) -> Option<(&str, Vec<u32>)> {
    let (family, version) = base.rsplit_once('-')?;
    let parts: Option<Vec<u32>> = version.split('.').map(|p| p.parse().ok()).collect();
    Some((family, parts?))
}

impl Term {
    fn from_simple(s: &Simple) -> Term {
        match s {
            Simple::Ref { .. } => Term {
                base: s.to_string().to_ascii_lowercase(),
                or_later: false,
            },
            Simple::Id { id, or_later } => {
                let lower = id.to_ascii_lowercase();
                if let Some(b) = lower.strip_suffix("-or-later") {
                    return Term {
                        base: b.to_owned(),
                        or_later: true,
                    };
                }
                let base = lower
                    .strip_suffix("-only")
                    .or_else(|| lower.split_once("-with-").map(|(b, _)| b))
                    .unwrap_or(&lower);
                Term {
                    base: base.to_owned(),
                    or_later: *or_later,
                }
            }
        }
    }

    /// The concrete versions this term lets the licensee choose from (lower-case base ids).
    fn versions(&self) -> Vec<String> {
        let mut out = vec![self.base.clone()];
        if self.or_later
            && let Some((family, version)) = family_version(&self.base)
        {
            for id in LICENSES.keys() {
                let other = Term::from_simple(&Simple::Id {
                    id: id.clone(),
                    or_later: false,
                });
                if let Some((f, v)) = family_version(&other.base)
                    && f == family
                    && v > version
                    && !out.contains(&other.base)
                {
                    out.push(other.base);
                }
            }
        }
        out.sort_by(|a, b| {
            let va = family_version(a).map(|(_, v)| v);
            let vb = family_version(b).map(|(_, v)| v);
            va.cmp(&vb).then_with(|| a.cmp(b))
        });
        out
    }

    /// Whether this term, as a policy entry, covers the concrete version `base`.
    fn covers(&self, base: &str) -> bool {
        if self.base == base {
            return true;
        }
        if !self.or_later {
            return false;
        }
        match (family_version(&self.base), family_version(base)) {
            (Some((f1, v1)), Some((f2, v2))) => f1 == f2 && v2 >= v1,
            _ => false,
        }
    }
}

/// How one licence version fares.
enum Judgement {
    Acceptable,
    Denied(String),
    Unknown(String),
}

/// The SPDX spelling of a lower-case base id (`gpl-2.0` → `GPL-2.0`), if the list has it
/// (plain or with `-only`).
fn canonical_base(base: &str) -> Option<&'static str> {
    canonical_license_id(base).or_else(|| {
        canonical_license_id(&format!("{base}-only")).map(|id| id.trim_end_matches("-only"))
    })
}

/// The display spelling of a lower-case base id.
fn display_base(base: &str) -> String {
    canonical_base(base).map_or_else(|| base.to_owned(), str::to_owned)
}

impl LicensePolicy {
    fn entries(list: &[String]) -> Vec<(String, Term)> {
        list.iter()
            .filter_map(|entry| match parse(entry.trim()) {
                Ok(Expr::Simple(s)) => Some((entry.trim().to_owned(), Term::from_simple(&s))),
                _ => None,
            })
            .collect()
    }

    /// Problems with the policy itself: entries that are not a single licence, ids that are
    /// not on the SPDX list, and entries both denied and allowed.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (list, name) in [(&self.deny, "deny"), (&self.allow, "allow")] {
            for entry in list {
                match parse(entry.trim()) {
                    Ok(Expr::Simple(Simple::Id { id, .. })) => {
                        if canonical_license_id(&id).is_none() {
                            out.push(format!("{name} entry `{entry}` is not an SPDX licence id"));
                        }
                    }
                    Ok(Expr::Simple(Simple::Ref { .. })) => {}
                    Ok(_) => out.push(format!(
                        "{name} entry `{entry}` must be a single licence id, not an expression"
                    )),
                    Err(e) => out.push(format!("{name} entry `{entry}`: {e}")),
                }
            }
        }
        for entry in &self.deny {
            if self.allow.iter().any(|a| a.eq_ignore_ascii_case(entry)) {
                out.push(format!("`{entry}` is both denied and allowed (deny wins)"));
            }
        }
        out
    }

    fn judge_version(
        &self,
        base: &str,
        shown: &str,
        deny: &[(String, Term)],
        allow: &[(String, Term)],
    ) -> Judgement {
        if let Some((entry, _)) = deny.iter().find(|(_, t)| t.covers(base)) {
            return Judgement::Denied(format!("{shown} is denied (deny: `{entry}`)"));
        }
        if !self.allow.is_empty() {
            return if allow.iter().any(|(_, t)| t.covers(base)) {
                Judgement::Acceptable
            } else {
                Judgement::Denied(format!("{shown} is not on the allow list"))
            };
        }
        if canonical_base(base).is_some() {
            Judgement::Acceptable
        } else {
            Judgement::Unknown(format!("{shown} is not on the SPDX licence list"))
        }
    }

    fn judge_simple(
        &self,
        simple: &Simple,
        exception: Option<&str>,
        deny: &[(String, Term)],
        allow: &[(String, Term)],
    ) -> Verdict {
        let term = Term::from_simple(simple);
        let shown = match exception {
            Some(x) => format!("{simple} WITH {x}"),
            None => simple.to_string(),
        };
        let versions = term.versions();
        let mut denied = Vec::new();
        let mut unknown = Vec::new();
        for v in &versions {
            let shown_v = if *v == term.base && canonical_base(v).is_none() {
                match simple {
                    Simple::Id { id, .. } => id.clone(),
                    Simple::Ref { .. } => simple.to_string(),
                }
            } else {
                display_base(v)
            };
            match self.judge_version(v, &shown_v, deny, allow) {
                Judgement::Acceptable => return Verdict::Allowed,
                Judgement::Denied(why) => denied.push(why),
                Judgement::Unknown(why) => unknown.push(why),
            }
        }
        let prefix = if versions.len() > 1 {
            format!("`{shown}`: every version it permits is unacceptable: ")
        } else {
            format!("`{shown}`: ")
        };
        if unknown.is_empty() {
            Verdict::Denied {
                because: vec![format!("{prefix}{}", denied.join("; "))],
            }
        } else {
            Verdict::Unknown {
                because: vec![format!("{prefix}{}", unknown.join("; "))],
            }
        }
    }

    fn judge(&self, expr: &Expr, deny: &[(String, Term)], allow: &[(String, Term)]) -> Verdict {
        match expr {
            Expr::Simple(s) => self.judge_simple(s, None, deny, allow),
            Expr::With { license, exception } => {
                self.judge_simple(license, Some(exception), deny, allow)
            }
            Expr::Or(items) => {
                let mut denied = Vec::new();
                let mut unknown = Vec::new();
                for item in items {
                    match self.judge(item, deny, allow) {
                        Verdict::Allowed => return Verdict::Allowed,
                        Verdict::Denied { because } => denied.extend(because),
                        Verdict::Unknown { because } => unknown.extend(because),
                    }
                }
                if unknown.is_empty() {
                    Verdict::Denied { because: denied }
                } else {
                    Verdict::Unknown { because: unknown }
                }
            }
            Expr::And(items) => {
                let mut denied = Vec::new();
                let mut unknown = Vec::new();
                for item in items {
                    match self.judge(item, deny, allow) {
                        Verdict::Allowed => {}
                        Verdict::Denied { because } => denied.extend(because),
                        Verdict::Unknown { because } => unknown.extend(because),
                    }
                }
                if !denied.is_empty() {
                    Verdict::Denied { because: denied }
                } else if !unknown.is_empty() {
                    Verdict::Unknown { because: unknown }
                } else {
                    Verdict::Allowed
                }
            }
        }
    }

    /// Judges a parsed expression (rules on [`LicensePolicy`]).
    pub fn evaluate_expr(&self, expr: &Expr) -> Verdict {
        let deny = Self::entries(&self.deny);
        let allow = Self::entries(&self.allow);
        self.judge(expr, &deny, &allow)
    }

    /// Judges an SPDX expression as written (rules on [`LicensePolicy`]).
    pub fn evaluate(&self, expr: &str) -> Verdict {
        let trimmed = expr.trim();
        if trimmed.is_empty()
            || trimmed.eq_ignore_ascii_case("NOASSERTION")
            || trimmed.eq_ignore_ascii_case("NONE")
        {
            let what = if trimmed.is_empty() {
                "no licence"
            } else {
                trimmed
            };
            return Verdict::Unknown {
                because: vec![format!("{what} declared")],
            };
        }
        match parse(trimmed) {
            Ok(parsed) => self.evaluate_expr(&parsed),
            Err(e) => Verdict::Unknown {
                because: vec![format!("`{trimmed}` is not an SPDX expression: {e}")],
            },
        }
    }

    /// Judges a package's licences ([`crate::Package::licenses`]), which all apply: an empty
    /// list is unknown.
    pub fn evaluate_all(&self, licenses: &[String]) -> Verdict {
        if licenses.is_empty() {
            return Verdict::Unknown {
                because: vec!["no licence declared".into()],
            };
        }
        let mut denied = Vec::new();
        let mut unknown = Vec::new();
        for l in licenses {
            match self.evaluate(l) {
                Verdict::Allowed => {}
                Verdict::Denied { because } => denied.extend(because),
                Verdict::Unknown { because } => unknown.extend(because),
            }
        }
        if !denied.is_empty() {
            Verdict::Denied { because: denied }
        } else if !unknown.is_empty() {
            Verdict::Unknown { because: unknown }
        } else {
            Verdict::Allowed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_loaded() {
        assert_eq!(canonical_license_id("mit"), Some("MIT"));
        assert_eq!(
            canonical_license_id("gpl-2.0-or-later"),
            Some("GPL-2.0-or-later")
        );
        assert_eq!(canonical_license_id("Classpath-exception-2.0"), None);
        assert_eq!(
            canonical_exception_id("classpath-exception-2.0"),
            Some("Classpath-exception-2.0")
        );
        assert!(LICENSES.len() > 700, "{}", LICENSES.len());
    }

    #[test]
    fn versions_of_or_later() {
        let t = Term::from_simple(&Simple::Id {
            id: "LGPL-2.0".into(),
            or_later: true,
        });
        assert_eq!(t.versions(), ["lgpl-2.0", "lgpl-2.1", "lgpl-3.0"]);
        let t = Term::from_simple(&Simple::Id {
            id: "GPL-2.0-or-later".into(),
            or_later: false,
        });
        assert_eq!(t.versions(), ["gpl-2.0", "gpl-3.0"]);
    }
}
