//! Maven's `ComparableVersion`, re-implemented.
//!
//! A version is split into a list of items at `.`, at `-` (which opens a sub-list) and at every
//! transition between letters and digits (which also opens a sub-list). Numbers compare as
//! numbers; strings are qualifiers ordered alpha < beta < milestone < rc (= cr) < snapshot <
//! release (`""`, `ga`, `final`, `release`) < sp < unknown qualifiers (lexically); `a1`, `b1`, `m1`
//! are alpha-1, beta-1, milestone-1. Trailing "null" items (0, release qualifiers, empty lists)
//! are dropped, and a missing item compares as null, so `1` = `1.0` = `1-ga` and `1-rc` < `1`.
//!
//! Maven's own comparison is not transitive for some mixtures of kinds (it says `1.sp` <
//! `1-alpha`, `1-alpha` < `1` and `1` < `1.sp`), and a sort needs a total order. So each item
//! first falls on a side of "null" (the end of a version): below it (pre-release qualifiers,
//! lists that start below it, a zero or release qualifier followed by something below it), or
//! above it (everything else). Items on different sides compare by side; items on the same side
//! compare as Maven does (string < list < number, then by value). Where Maven is transitive the
//! result is Maven's; where it is not, the side of null decides (`1-alpha` < `1` < `1.sp`).

use std::cmp::Ordering;

use super::Digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(Digits),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: usize = 5;

/// Ranks a qualifier: known ones by position, unknown ones after all of them, lexically.
fn qualifier_rank(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

impl Item {
    fn string(value: &str, followed_by_digit: bool) -> Item {
        let value = match (followed_by_digit, value) {
            (true, "a") => "alpha",
            (true, "b") => "beta",
            (true, "m") => "milestone",
            (_, "ga" | "final" | "release") => "",
            (_, "cr") => "rc",
            (_, v) => v,
        };
        Item::Str(value.to_owned())
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_zero(),
            Item::Str(s) => qualifier_rank(s) == (RELEASE, ""),
            Item::List(l) => l.is_empty(),
        }
    }

    /// Compares with a missing item (padding).
    fn cmp_null(&self) -> Ordering {
        match self {
            Item::Int(d) => {
                if d.is_zero() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Item::Str(s) => qualifier_rank(s).cmp(&(RELEASE, "")),
            Item::List(l) => l
                .iter()
                .map(Item::cmp_null)
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
        }
    }
}

/// Which side of null (the end of a version) an item falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Below,
    /// Only an item whose remaining items are all null (never after normalisation).
    Null,
    Above,
}

impl Side {
    fn of(o: Ordering) -> Side {
        match o {
            Ordering::Less => Side::Below,
            Ordering::Equal => Side::Null,
            Ordering::Greater => Side::Above,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str((usize, String)),
    List(Vec<Keyed>),
    Int(Digits),
}

/// An item with its side; Maven's kind order (string < list < number) is the order of the
/// [`Value`] variants.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keyed {
    side: Side,
    value: Value,
}

impl Keyed {
    fn kind(&self) -> u8 {
        match self.value {
            Value::Str(_) => 0,
            Value::List(_) => 1,
            Value::Int(_) => 2,
        }
    }
}

impl Ord for Keyed {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.side, self.kind())
            .cmp(&(other.side, other.kind()))
            .then_with(|| match (&self.value, &other.value) {
                (Value::Int(a), Value::Int(b)) => a.cmp(b),
                (Value::Str(a), Value::Str(b)) => a.cmp(b),
                (Value::List(a), Value::List(b)) => cmp_keyed(a, b),
                _ => Ordering::Equal,
            })
    }
}

impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Lexicographic, a missing item being null (between the two sides).
fn cmp_keyed(left: &[Keyed], right: &[Keyed]) -> Ordering {
    for i in 0..left.len().max(right.len()) {
        let ord = match (left.get(i), right.get(i)) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(x), None) => x.side.cmp(&Side::Null),
            (None, Some(y)) => Side::Null.cmp(&y.side),
            (None, None) => Ordering::Equal,
        };
        if ord.is_ne() {
            return ord;
        }
    }
    Ordering::Equal
}

/// Gives every item of a normalised list its side.
fn key(list: &[Item]) -> Vec<Keyed> {
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let own = item.cmp_null();
            // A null item (0, a release qualifier) sits on the side of what follows it.
            let side = if own.is_eq() {
                Side::of(
                    list[i + 1..]
                        .iter()
                        .map(Item::cmp_null)
                        .find(|o| o.is_ne())
                        .unwrap_or(Ordering::Equal),
                )
            } else {
                Side::of(own)
            };
            let value = match item {
                Item::Int(d) => Value::Int(d.clone()),
                Item::Str(s) => {
                    let (rank, text) = qualifier_rank(s);
                    Value::Str((rank, text.to_owned()))
                }
                Item::List(l) => Value::List(key(l)),
            };
            Keyed { side, value }
        })
        .collect()
}

/// A parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MavenVersion(Vec<Keyed>);

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_keyed(&self.0, &other.0)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::Int(Digits::new(buf))
    } else {
        Item::string(buf, false)
    }
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Folds the stack of open lists: each is normalised and pushed into its parent.
fn close(stack: &mut Vec<Vec<Item>>) -> Vec<Item> {
    while stack.len() > 1 {
        let mut top = stack.pop().unwrap_or_default();
        normalize(&mut top);
        if let Some(parent) = stack.last_mut() {
            parent.push(Item::List(top));
        }
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

/// Maven accepts any string; evident refuses empty ones and whitespace, which no repository
/// publishes.
pub(super) fn parse(v: &str) -> Result<MavenVersion, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty version".to_owned());
    }
    if v.chars().any(char::is_whitespace) {
        return Err("whitespace inside the version".to_owned());
    }
    let version = v.to_lowercase();
    // The open lists, innermost last. Nothing is added to a list once a sub-list is opened in
    // it, so each sub-list is pushed into its parent when the parse closes them all.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(list) = stack.last_mut() {
            list.push(item);
        }
    };
    let mut is_digit = false;
    let mut start = 0usize;
    for (i, c) in version.char_indices() {
        if c == '.' || c == '-' {
            let item = if i == start {
                Item::Int(Digits::new("0"))
            } else {
                parse_item(is_digit, &version[start..i])
            };
            push(&mut stack, item);
            start = i + 1;
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                push(&mut stack, Item::string(&version[start..i], true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(&mut stack, parse_item(true, &version[start..i]));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if version.len() > start {
        push(&mut stack, parse_item(is_digit, &version[start..]));
    }
    Ok(MavenVersion(key(&close(&mut stack))))
}
