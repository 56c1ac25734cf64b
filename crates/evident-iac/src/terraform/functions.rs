//! Terraform's built-in functions, on known arguments. A function not implemented here gives an
//! unknown value naming the references of its arguments.

use super::value::{
    Eval, Fail, MapBuilder, add_refs, as_bool, as_index, as_number, as_text, boolean, deep_refs,
    equal, from_json, has_unknown, list, map, number, quoted_key, refs_of, sorted_entries, string,
    to_json, unknown,
};
use crate::model::{Node, Value};

/// The functions evaluated on known arguments.
const IMPLEMENTED: &[&str] = &[
    "abs",
    "alltrue",
    "anytrue",
    "ceil",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "endswith",
    "flatten",
    "floor",
    "format",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "one",
    "range",
    "replace",
    "reverse",
    "setunion",
    "slice",
    "sort",
    "split",
    "startswith",
    "substr",
    "sum",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "values",
    "zipmap",
];

/// The most items `range` builds.
const MAX_RANGE: usize = 10_000;

/// Calls `name` on evaluated arguments.
pub(crate) fn call(name: &str, args: Vec<Node>, line: u32) -> Eval {
    if !IMPLEMENTED.contains(&name) {
        let mut refs = Vec::new();
        for a in &args {
            deep_refs(a, &mut refs);
        }
        return Ok(unknown(line, refs));
    }
    if name == "coalesce" {
        return coalesce(args, line);
    }
    if args.iter().any(Node::is_unknown) {
        return Ok(unknown(line, refs_of(&args)));
    }
    let a = Args { args: &args };
    match name {
        "lower" => Ok(string(line, a.text(0)?.to_lowercase())),
        "upper" => Ok(string(line, a.text(0)?.to_uppercase())),
        "title" => Ok(string(line, title(&a.text(0)?))),
        "trimspace" => Ok(string(line, a.text(0)?.trim())),
        "trim" => {
            let chars: Vec<char> = a.text(1)?.chars().collect();
            Ok(string(line, a.text(0)?.trim_matches(chars.as_slice())))
        }
        "trimprefix" => {
            let s = a.text(0)?;
            let p = a.text(1)?;
            Ok(string(line, s.strip_prefix(p.as_str()).unwrap_or(&s)))
        }
        "trimsuffix" => {
            let s = a.text(0)?;
            let p = a.text(1)?;
            Ok(string(line, s.strip_suffix(p.as_str()).unwrap_or(&s)))
        }
        "startswith" => Ok(boolean(line, a.text(0)?.starts_with(a.text(1)?.as_str()))),
        "endswith" => Ok(boolean(line, a.text(0)?.ends_with(a.text(1)?.as_str()))),
        "substr" => substr(&a, line),
        "replace" => {
            let s = a.text(0)?;
            let from = a.text(1)?;
            if from.len() >= 2 && from.starts_with('/') && from.ends_with('/') {
                // A regular expression: not evaluated.
                return Ok(unknown(line, Vec::new()));
            }
            if from.is_empty() {
                return Ok(string(line, s));
            }
            Ok(string(line, s.replace(from.as_str(), &a.text(2)?)))
        }
        "format" => {
            let fmt = a.text(0)?;
            match format(&fmt, &args[1..])? {
                Some(s) => Ok(string(line, s)),
                None => Ok(unknown(line, Vec::new())),
            }
        }
        "join" => join(&a, line),
        "split" => {
            let sep = a.text(0)?;
            let s = a.text(1)?;
            let parts: Vec<Node> = if sep.is_empty() {
                s.chars().map(|c| string(line, c.to_string())).collect()
            } else {
                s.split(sep.as_str()).map(|p| string(line, p)).collect()
            };
            Ok(list(line, parts))
        }
        "concat" => {
            let mut out = Vec::new();
            for i in 0..args.len() {
                out.extend(a.list(i)?.iter().cloned());
            }
            Ok(list(line, out))
        }
        "merge" => merge(args, line),
        "lookup" => {
            let entries = a.map(0)?;
            let key = a.text(1)?;
            match entries.iter().find(|(k, _)| *k == key) {
                Some((_, v)) => Ok(v.clone()),
                None => args.get(2).cloned().ok_or(Fail),
            }
        }
        "element" => {
            let items = a.list(0)?;
            let i = a.index(1)?;
            if items.is_empty() {
                return Err(Fail);
            }
            Ok(items[i % items.len()].clone())
        }
        "index" => {
            let items = a.list(0)?;
            let target = a.get(1)?;
            for (i, item) in items.iter().enumerate() {
                match equal(item, target) {
                    Some(true) => return Ok(number(line, i as f64)),
                    None => return Ok(unknown(line, refs_of(items))),
                    Some(false) => {}
                }
            }
            Err(Fail)
        }
        "length" => match &a.get(0)?.value {
            Value::List(items) => Ok(number(line, items.len() as f64)),
            Value::Map(entries) => Ok(number(line, entries.len() as f64)),
            Value::String(s) => Ok(number(line, s.chars().count() as f64)),
            _ => Err(Fail),
        },
        "contains" => {
            let items = a.list(0)?;
            let target = a.get(1)?;
            let mut unknown_item = false;
            for item in items {
                match equal(item, target) {
                    Some(true) => return Ok(boolean(line, true)),
                    None => unknown_item = true,
                    Some(false) => {}
                }
            }
            if unknown_item {
                Ok(unknown(line, refs_of(items)))
            } else {
                Ok(boolean(line, false))
            }
        }
        "coalescelist" => {
            for (i, arg) in args.iter().enumerate() {
                if !a.list(i)?.is_empty() {
                    return Ok(arg.clone());
                }
            }
            Err(Fail)
        }
        "compact" => {
            let items = a.list(0)?;
            if items.iter().any(Node::is_unknown) {
                return Ok(unknown(line, refs_of(items)));
            }
            let out = items
                .iter()
                .filter(|n| match &n.value {
                    Value::Null => false,
                    Value::String(s) => !s.is_empty(),
                    _ => true,
                })
                .cloned()
                .collect();
            Ok(list(line, out))
        }
        "distinct" => {
            let items = a.list(0)?;
            if items.iter().any(has_unknown) {
                let mut refs = Vec::new();
                for n in items {
                    deep_refs(n, &mut refs);
                }
                return Ok(unknown(line, refs));
            }
            Ok(list(line, distinct(items.iter().cloned())))
        }
        "toset" => match &a.get(0)?.value {
            Value::Null => Ok(Node::new(line, Value::Null)),
            Value::List(items) => Ok(to_set(items.clone(), line)),
            _ => Err(Fail),
        },
        "setunion" => {
            let mut all = Vec::new();
            for i in 0..args.len() {
                all.extend(a.list(i)?.iter().cloned());
            }
            Ok(to_set(all, line))
        }
        "flatten" => {
            let mut out = Vec::new();
            let mut refs = Vec::new();
            flatten(a.list(0)?, &mut out, &mut refs, 0)?;
            if refs.is_empty() {
                Ok(list(line, out))
            } else {
                Ok(unknown(line, refs))
            }
        }
        "keys" => {
            let entries = sorted_entries(a.map(0)?.to_vec());
            Ok(list(
                line,
                entries.into_iter().map(|(k, _)| string(line, k)).collect(),
            ))
        }
        "values" => {
            let entries = sorted_entries(a.map(0)?.to_vec());
            Ok(list(line, entries.into_iter().map(|(_, v)| v).collect()))
        }
        "zipmap" => {
            let keys = a.list(0)?;
            let values = a.list(1)?;
            if keys.len() != values.len() {
                return Err(Fail);
            }
            if keys.iter().any(Node::is_unknown) {
                return Ok(unknown(line, refs_of(keys)));
            }
            let mut out = MapBuilder::with_capacity(keys.len());
            for (k, v) in keys.iter().zip(values) {
                out.insert(as_text(k).ok_or(Fail)?.into_owned(), v.clone());
            }
            Ok(map(line, out.finish()))
        }
        "tostring" => match &a.get(0)?.value {
            Value::Null => Ok(Node::new(line, Value::Null)),
            _ => Ok(string(line, a.text(0)?)),
        },
        "tonumber" => match &a.get(0)?.value {
            Value::Null => Ok(Node::new(line, Value::Null)),
            _ => as_number(a.get(0)?).map(|n| number(line, n)).ok_or(Fail),
        },
        "tobool" => match &a.get(0)?.value {
            Value::Null => Ok(Node::new(line, Value::Null)),
            _ => as_bool(a.get(0)?).map(|b| boolean(line, b)).ok_or(Fail),
        },
        "tolist" => match &a.get(0)?.value {
            Value::List(_) | Value::Null => Ok(args[0].clone()),
            _ => Err(Fail),
        },
        "tomap" => match &a.get(0)?.value {
            Value::Map(_) | Value::Null => Ok(args[0].clone()),
            _ => Err(Fail),
        },
        "jsonencode" => {
            if let Some(text) = to_json(a.get(0)?) {
                return Ok(string(line, text));
            }
            let mut refs = Vec::new();
            deep_refs(a.get(0)?, &mut refs);
            Ok(unknown(line, refs))
        }
        "jsondecode" => {
            let text = a.text(0)?;
            serde_json::from_str::<serde_json::Value>(&text)
                .map(|v| from_json(v, line))
                .map_err(|_| Fail)
        }
        "min" | "max" => {
            let mut nums = Vec::with_capacity(args.len());
            for i in 0..args.len() {
                nums.push(a.number(i)?);
            }
            let first = *nums.first().ok_or(Fail)?;
            let v = nums.into_iter().fold(first, |acc, n| {
                if name == "min" {
                    acc.min(n)
                } else {
                    acc.max(n)
                }
            });
            Ok(number(line, v))
        }
        "abs" => Ok(number(line, a.number(0)?.abs())),
        "ceil" => Ok(number(line, a.number(0)?.ceil())),
        "floor" => Ok(number(line, a.number(0)?.floor())),
        "sum" => {
            let items = a.list(0)?;
            if items.is_empty() {
                return Err(Fail);
            }
            if items.iter().any(Node::is_unknown) {
                return Ok(unknown(line, refs_of(items)));
            }
            let mut total = 0.0;
            for item in items {
                total += as_number(item).ok_or(Fail)?;
            }
            Ok(number(line, total))
        }
        "alltrue" | "anytrue" => {
            let items = a.list(0)?;
            let all = name == "alltrue";
            let mut unknown_item = false;
            for item in items {
                if item.is_unknown() {
                    unknown_item = true;
                    continue;
                }
                let b = as_bool(item).ok_or(Fail)?;
                if b != all {
                    return Ok(boolean(line, b));
                }
            }
            if unknown_item {
                Ok(unknown(line, refs_of(items)))
            } else {
                Ok(boolean(line, all))
            }
        }
        "one" => {
            let items = a.list(0)?;
            match items.len() {
                0 => Ok(Node::new(line, Value::Null)),
                1 => Ok(items[0].clone()),
                _ => Err(Fail),
            }
        }
        "reverse" => {
            let mut items = a.list(0)?.to_vec();
            items.reverse();
            Ok(list(line, items))
        }
        "slice" => {
            let items = a.list(0)?;
            let start = a.index(1)?;
            let end = a.index(2)?;
            if start > end || end > items.len() {
                return Err(Fail);
            }
            Ok(list(line, items[start..end].to_vec()))
        }
        "sort" => {
            let items = a.list(0)?;
            if items.iter().any(Node::is_unknown) {
                return Ok(unknown(line, refs_of(items)));
            }
            let mut texts = Vec::with_capacity(items.len());
            for item in items {
                texts.push(as_text(item).ok_or(Fail)?.into_owned());
            }
            texts.sort();
            Ok(list(
                line,
                texts.into_iter().map(|t| string(line, t)).collect(),
            ))
        }
        "range" => range(&a, args.len(), line),
        _ => Ok(unknown(line, Vec::new())),
    }
}

/// Typed access to arguments.
struct Args<'a> {
    args: &'a [Node],
}

impl<'a> Args<'a> {
    fn get(&self, i: usize) -> Result<&'a Node, Fail> {
        self.args.get(i).ok_or(Fail)
    }

    fn text(&self, i: usize) -> Result<String, Fail> {
        as_text(self.get(i)?)
            .map(std::borrow::Cow::into_owned)
            .ok_or(Fail)
    }

    fn number(&self, i: usize) -> Result<f64, Fail> {
        as_number(self.get(i)?).ok_or(Fail)
    }

    fn index(&self, i: usize) -> Result<usize, Fail> {
        as_index(self.get(i)?).ok_or(Fail)
    }

    fn list(&self, i: usize) -> Result<&'a [Node], Fail> {
        self.get(i)?.as_list().ok_or(Fail)
    }

    fn map(&self, i: usize) -> Result<&'a [(String, Node)], Fail> {
        self.get(i)?.as_map().ok_or(Fail)
    }
}

fn coalesce(args: Vec<Node>, line: u32) -> Eval {
    for arg in args {
        match &arg.value {
            Value::Unknown { refs } => return Ok(unknown(line, refs.clone())),
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            _ => return Ok(arg),
        }
    }
    Err(Fail)
}

fn join(a: &Args<'_>, line: u32) -> Eval {
    let sep = a.text(0)?;
    let mut out = String::new();
    let mut refs: Option<Vec<String>> = None;
    let mut first = true;
    for i in 1..a.args.len() {
        for item in a.list(i)? {
            if let Value::Unknown { refs: r } = &item.value {
                add_refs(refs.get_or_insert_with(Vec::new), r);
                continue;
            }
            if !first {
                out.push_str(&sep);
            }
            first = false;
            out.push_str(&as_text(item).ok_or(Fail)?);
        }
    }
    match refs {
        Some(refs) => Ok(unknown(line, refs)),
        None => Ok(string(line, out)),
    }
}

fn merge(args: Vec<Node>, line: u32) -> Eval {
    let mut out = MapBuilder::default();
    for arg in args {
        match arg.value {
            Value::Null => {}
            Value::Map(entries) => {
                for (k, v) in entries {
                    out.insert(k, v);
                }
            }
            _ => return Err(Fail),
        }
    }
    Ok(map(line, out.finish()))
}

fn substr(a: &Args<'_>, line: u32) -> Eval {
    let s: Vec<char> = a.text(0)?.chars().collect();
    let offset = a.number(1)?;
    let length = a.number(2)?;
    let len = s.len() as f64;
    let start = if offset < 0.0 { len + offset } else { offset };
    if start < 0.0 || start > len {
        return Err(Fail);
    }
    let start = start as usize;
    let end = if length < 0.0 {
        s.len()
    } else {
        start.saturating_add(length as usize).min(s.len())
    };
    Ok(string(line, s[start..end].iter().collect::<String>()))
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        if at_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_start = !c.is_alphanumeric();
    }
    out
}

fn distinct(items: impl IntoIterator<Item = Node>) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    let mut strings: std::collections::HashSet<String> = std::collections::HashSet::new();
    for item in items {
        let new = match &item.value {
            Value::String(s) => strings.insert(s.clone()),
            _ => !out.iter().any(|o| equal(o, &item) == Some(true)),
        };
        if new {
            out.push(item);
        }
    }
    out
}

/// A set: distinct items, strings in lexical order (as Terraform orders sets of strings).
fn to_set(items: Vec<Node>, line: u32) -> Node {
    if items.iter().any(has_unknown) {
        let mut refs = Vec::new();
        for n in &items {
            deep_refs(n, &mut refs);
        }
        return unknown(line, refs);
    }
    let mut out = distinct(items);
    if out.iter().all(|n| matches!(n.value, Value::String(_))) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    list(line, out)
}

fn flatten(
    items: &[Node],
    out: &mut Vec<Node>,
    refs: &mut Vec<String>,
    depth: u32,
) -> Result<(), Fail> {
    if depth > 64 {
        return Err(Fail);
    }
    for item in items {
        match &item.value {
            Value::List(inner) => flatten(inner, out, refs, depth + 1)?,
            Value::Unknown { refs: r } => add_refs(refs, r),
            _ => out.push(item.clone()),
        }
    }
    Ok(())
}

fn range(a: &Args<'_>, n: usize, line: u32) -> Eval {
    let (start, end, step) = match n {
        1 => (0.0, a.number(0)?, 1.0),
        2 => (a.number(0)?, a.number(1)?, 1.0),
        3 => (a.number(0)?, a.number(1)?, a.number(2)?),
        _ => return Err(Fail),
    };
    if step == 0.0 || (end - start) / step < 0.0 {
        return if (end - start).abs() < f64::EPSILON {
            Ok(list(line, Vec::new()))
        } else {
            Err(Fail)
        };
    }
    let count = ((end - start) / step).ceil();
    if count > MAX_RANGE as f64 {
        return Ok(unknown(line, Vec::new()));
    }
    let items = (0..count as usize)
        .map(|i| number(line, start + step * i as f64))
        .collect();
    Ok(list(line, items))
}

/// Go-style `format`: `%s %d %v %q %t %f %x %X %o %b %%` with flags, width and precision.
/// `Ok(None)` for a verb it does not render.
fn format(fmt: &str, args: &[Node]) -> Result<Option<String>, Fail> {
    let mut out = String::with_capacity(fmt.len());
    let mut chars = fmt.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        let mut space = false;
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = 0usize;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = width
                .saturating_mul(10)
                .saturating_add(d as usize)
                .min(1000);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize).min(100);
                chars.next();
            }
            precision = Some(p);
        }
        let Some(verb) = chars.next() else {
            return Err(Fail);
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args.get(next_arg).ok_or(Fail)?;
        next_arg += 1;
        let numeric = matches!(verb, 'd' | 'f' | 'x' | 'X' | 'o' | 'b');
        let mut text = match verb {
            'v' => match &arg.value {
                Value::Null => "null".to_owned(),
                Value::List(_) | Value::Map(_) => to_json(arg).ok_or(Fail)?,
                _ => as_text(arg).ok_or(Fail)?.into_owned(),
            },
            's' => {
                let s = as_text(arg).ok_or(Fail)?.into_owned();
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'q' => quoted_key(&as_text(arg).ok_or(Fail)?),
            't' => as_bool(arg).ok_or(Fail)?.to_string(),
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let n = as_number(arg).ok_or(Fail)?;
                if n.fract() != 0.0 || n.abs() >= 9.0e18 {
                    return Err(Fail);
                }
                let i = n as i64;
                let magnitude = i.unsigned_abs();
                let body = match verb {
                    'd' => magnitude.to_string(),
                    'x' => format!("{magnitude:x}"),
                    'X' => format!("{magnitude:X}"),
                    'o' => format!("{magnitude:o}"),
                    _ => format!("{magnitude:b}"),
                };
                sign(i < 0, plus, space) + &body
            }
            'f' => {
                let n = as_number(arg).ok_or(Fail)?;
                let body = format!("{:.*}", precision.unwrap_or(6), n.abs());
                sign(n < 0.0, plus, space) + &body
            }
            _ => return Ok(None),
        };
        let len = text.chars().count();
        if len < width {
            let pad = width - len;
            if left {
                text.extend(std::iter::repeat_n(' ', pad));
            } else if zero && numeric {
                let sign_len = usize::from(text.starts_with(['-', '+', ' ']));
                let (s, digits) = text.split_at(sign_len);
                text = format!("{s}{}{digits}", "0".repeat(pad));
            } else {
                text = " ".repeat(pad) + &text;
            }
        }
        out.push_str(&text);
    }
    Ok(Some(out))
}

fn sign(negative: bool, plus: bool, space: bool) -> String {
    if negative {
        "-".to_owned()
    } else if plus {
        "+".to_owned()
    } else if space {
        " ".to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &str) -> Node {
        string(1, v)
    }

    #[allow(clippy::needless_pass_by_value)]
    fn j(v: serde_json::Value) -> Node {
        Node::from_json(&v, 1)
    }

    #[test]
    fn strings() {
        assert_eq!(
            call("lower", vec![s("AbC")], 1).unwrap().as_str(),
            Some("abc")
        );
        assert_eq!(
            call(
                "format",
                vec![
                    s("%s-%03d-%v-%.2f"),
                    s("a"),
                    number(1, 7.0),
                    boolean(1, true),
                    number(1, 1.5)
                ],
                1
            )
            .unwrap()
            .as_str(),
            Some("a-007-true-1.50")
        );
        assert_eq!(
            call("join", vec![s("-"), j(json!(["a", "b", 1]))], 1)
                .unwrap()
                .as_str(),
            Some("a-b-1")
        );
        assert_eq!(
            call("replace", vec![s("a-b-c"), s("-"), s("_")], 1)
                .unwrap()
                .as_str(),
            Some("a_b_c")
        );
        assert!(
            call("replace", vec![s("a"), s("/a/"), s("b")], 1)
                .unwrap()
                .is_unknown()
        );
        assert_eq!(
            call(
                "substr",
                vec![s("hello"), number(1, 1.0), number(1, 3.0)],
                1
            )
            .unwrap()
            .as_str(),
            Some("ell")
        );
    }

    #[test]
    fn collections() {
        let merged = call(
            "merge",
            vec![j(json!({"a": 1, "b": 2})), j(json!({"b": 3}))],
            1,
        )
        .unwrap();
        assert_eq!(merged.lookup("b").number(), Some(3.0));
        let set = call("toset", vec![j(json!(["b", "a", "b"]))], 1).unwrap();
        assert_eq!(set, j(json!(["a", "b"])));
        let flat = call("flatten", vec![j(json!([["a"], [["b"]], "c"]))], 1).unwrap();
        assert_eq!(flat, j(json!(["a", "b", "c"])));
        assert_eq!(
            call("length", vec![j(json!({"a": 1}))], 1)
                .unwrap()
                .as_f64(),
            Some(1.0)
        );
        assert_eq!(
            call("element", vec![j(json!(["a", "b"])), number(1, 3.0)], 1)
                .unwrap()
                .as_str(),
            Some("b")
        );
        assert_eq!(
            call("keys", vec![j(json!({"b": 1, "a": 2}))], 1).unwrap(),
            j(json!(["a", "b"]))
        );
        assert_eq!(
            call(
                "coalesce",
                vec![Node::new(1, Value::Null), s(""), s("x")],
                1
            )
            .unwrap()
            .as_str(),
            Some("x")
        );
        assert!(call("lookup", vec![j(json!({"a": 1})), s("b")], 1).is_err());
        assert_eq!(
            call("lookup", vec![j(json!({"a": 1})), s("b"), s("d")], 1)
                .unwrap()
                .as_str(),
            Some("d")
        );
    }

    #[test]
    fn unknown_arguments_and_functions() {
        let u = unknown(1, vec!["aws_s3_bucket.b.id".into()]);
        let r = call("lower", vec![u.clone()], 1).unwrap();
        assert_eq!(r.refs(), ["aws_s3_bucket.b.id".to_owned()]);
        let r = call(
            "cidrsubnet",
            vec![s("10.0.0.0/16"), number(1, 8.0), u.clone()],
            1,
        )
        .unwrap();
        assert_eq!(r.refs(), ["aws_s3_bucket.b.id".to_owned()]);
        let r = call("jsonencode", vec![map(1, vec![("a".into(), u)])], 1).unwrap();
        assert!(r.is_unknown());
        assert_eq!(r.refs().len(), 1);
    }
}
