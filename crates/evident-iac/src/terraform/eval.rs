//! The expression evaluator: as far as values are known, never guessing. Whatever depends on
//! something unknown (a computed attribute, a variable without a value, a function it does not
//! implement) becomes `Value::Unknown` naming what it depends on.

use hcl::edit::Span;
use hcl::edit::expr::{
    BinaryOperator, Expression, ForExpr, FuncCall, ObjectKey, Traversal, TraversalOperator,
    UnaryOperator,
};
use hcl::edit::structure::{Attribute, Body, Structure};
use hcl::edit::template::{Directive, Element, Template};

use super::functions;
use super::module::{Children, Instance};
use super::parse::SourceFile;
use super::value::{
    Eval, Fail, MapBuilder, add_refs, as_bool, as_index, as_number, as_text, boolean, equal, list,
    map, number, refs_of, relined, sorted_entries, string, unknown,
};
use crate::model::{Node, Value};

/// How deep evaluation may recurse (expressions, locals referring to locals, module outputs)
/// before giving up with an unknown value.
const MAX_DEPTH: u32 = 400;

/// Arguments of a resource or module block that are not part of its body.
pub(crate) const META_ARGS: &[&str] = &["count", "for_each", "depends_on", "provider"];

/// An evaluation context: a module instance, the file being evaluated and the names bound by
/// `count`, `for_each`, `dynamic` blocks and `for` expressions.
pub(crate) struct Cx<'a, 's> {
    pub inst: &'a Instance<'s>,
    pub file: &'a SourceFile,
    pub bindings: Vec<(String, Node)>,
}

impl<'a, 's> Cx<'a, 's> {
    pub fn new(inst: &'a Instance<'s>, file: &'a SourceFile) -> Self {
        Cx {
            inst,
            file,
            bindings: Vec::new(),
        }
    }

    fn line(&self, item: &impl Span) -> u32 {
        self.file.line_of(item, 0)
    }

    /// An attribute's value, on the attribute's line; an error becomes an unknown value.
    pub fn eval_attr(&mut self, attr: &Attribute) -> Node {
        let line = self.line(attr);
        let mut node = self
            .eval(&attr.value)
            .unwrap_or_else(|Fail| unknown(line, Vec::new()));
        node.line = line;
        node
    }

    /// A block body as a map: attributes evaluated, nested blocks as lists of maps (grouped by
    /// type, even when written once), `dynamic` blocks expanded. `skip` names top-level
    /// arguments left out.
    pub fn body_map(&mut self, body: &Body, line: u32, skip: &[&str]) -> Node {
        let mut entries: Vec<(String, Node)> = Vec::with_capacity(body.len());
        for structure in body {
            match structure {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if skip.contains(&key) {
                        continue;
                    }
                    let node = self.eval_attr(a);
                    match entries.iter_mut().find(|(k, _)| k == key) {
                        Some(slot) => slot.1 = node,
                        None => entries.push((key.to_owned(), node)),
                    }
                }
                Structure::Block(b) => {
                    let block_line = self.line(b);
                    if b.ident.as_str() == "dynamic" {
                        let Some(label) = b.labels.first() else {
                            continue;
                        };
                        let name = label.as_str();
                        let expanded = self.dynamic(&b.body, name, block_line);
                        push_blocks(&mut entries, name, expanded, block_line);
                    } else {
                        let node = self.body_map(&b.body, block_line, &[]);
                        push_blocks(&mut entries, b.ident.as_str(), Ok(vec![node]), block_line);
                    }
                }
            }
        }
        map(line, entries)
    }

    /// The blocks a `dynamic` block generates, or the unknown value its `for_each` is.
    fn dynamic(&mut self, body: &Body, name: &str, line: u32) -> Result<Vec<Node>, Node> {
        let Some(for_each) = body.get_attribute("for_each") else {
            return Err(unknown(line, Vec::new()));
        };
        let iterator = body
            .get_attribute("iterator")
            .and_then(|a| a.value.as_variable())
            .map_or(name, |v| v.as_str())
            .to_owned();
        let Some(content) = body
            .iter()
            .filter_map(Structure::as_block)
            .find(|b| b.ident.as_str() == "content")
        else {
            return Ok(Vec::new());
        };
        let coll = self.eval_attr(for_each);
        let items: Vec<(Node, Node)> = match coll.value {
            Value::Unknown { refs } => return Err(unknown(line, refs)),
            Value::Null => Vec::new(),
            Value::List(items) => {
                if items.iter().any(Node::is_unknown) {
                    return Err(unknown(line, refs_of(&items)));
                }
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (number(v.line, i as f64), v))
                    .collect()
            }
            Value::Map(entries) => sorted_entries(entries)
                .into_iter()
                .map(|(k, v)| (string(v.line, k), v))
                .collect(),
            _ => return Err(unknown(line, Vec::new())),
        };
        let mut out = Vec::with_capacity(items.len());
        for (key, value) in items {
            self.bindings.push((
                iterator.clone(),
                map(line, vec![("key".into(), key), ("value".into(), value)]),
            ));
            out.push(self.body_map(&content.body, line, &[]));
            self.bindings.pop();
        }
        Ok(out)
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, expr: &Expression) -> Eval {
        let run = &self.inst.run;
        let depth = run.depth.get();
        if depth >= MAX_DEPTH {
            return Ok(unknown(self.line(expr), Vec::new()));
        }
        run.depth.set(depth + 1);
        let result = self.eval_inner(expr);
        run.depth.set(depth);
        result
    }

    fn eval_inner(&mut self, expr: &Expression) -> Eval {
        let line = self.line(expr);
        match expr {
            Expression::Null(_) => Ok(Node::new(line, Value::Null)),
            Expression::Bool(b) => Ok(boolean(line, *b.value())),
            Expression::Number(n) => Ok(n
                .value()
                .as_f64()
                .map_or_else(|| unknown(line, Vec::new()), |f| number(line, f))),
            Expression::String(s) => Ok(string(line, s.value().clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item)?);
                }
                Ok(list(line, out))
            }
            Expression::Object(object) => {
                let mut entries = MapBuilder::with_capacity(object.len());
                let mut key_refs: Option<Vec<String>> = None;
                for (key, value) in object {
                    let key = match key {
                        ObjectKey::Ident(i) => i.as_str().to_owned(),
                        ObjectKey::Expression(e) => {
                            let k = self.key_expr(e)?;
                            match (&k.value, as_text(&k)) {
                                (Value::Unknown { refs }, _) => {
                                    add_refs(key_refs.get_or_insert_with(Vec::new), refs);
                                    continue;
                                }
                                (_, Some(t)) => t.into_owned(),
                                _ => return Err(Fail),
                            }
                        }
                    };
                    let v = self.eval(value.expr())?;
                    entries.insert(key, v);
                }
                match key_refs {
                    Some(refs) => Ok(unknown(line, refs)),
                    None => Ok(map(line, entries.finish())),
                }
            }
            Expression::StringTemplate(t) => self.template(t, line),
            Expression::HeredocTemplate(h) => self.template(&h.template, line),
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => self.root(v.as_str(), &[], line),
            Expression::Conditional(c) => {
                let cond = self.eval(&c.cond_expr)?;
                match &cond.value {
                    Value::Unknown { refs } => {
                        let mut refs = refs.clone();
                        let t = self.eval(&c.true_expr);
                        let f = self.eval(&c.false_expr);
                        if let (Ok(t), Ok(f)) = (&t, &f)
                            && equal(t, f) == Some(true)
                        {
                            return Ok(t.clone());
                        }
                        for side in [t, f].iter().flatten() {
                            add_refs(&mut refs, side.refs());
                        }
                        Ok(unknown(line, refs))
                    }
                    _ => match as_bool(&cond) {
                        Some(true) => self.eval(&c.true_expr),
                        Some(false) => self.eval(&c.false_expr),
                        None => Err(Fail),
                    },
                }
            }
            Expression::FuncCall(call) => self.call(call, line),
            Expression::Traversal(t) => self.traversal(t, line),
            Expression::UnaryOp(op) => {
                let v = self.eval(&op.expr)?;
                if v.is_unknown() {
                    return Ok(v);
                }
                match op.operator.value() {
                    UnaryOperator::Neg => as_number(&v).map(|n| number(line, -n)).ok_or(Fail),
                    UnaryOperator::Not => as_bool(&v).map(|b| boolean(line, !b)).ok_or(Fail),
                }
            }
            Expression::BinaryOp(op) => {
                let l = self.eval(&op.lhs_expr)?;
                let r = self.eval(&op.rhs_expr)?;
                binary(*op.operator.value(), &l, &r, line)
            }
            Expression::ForExpr(f) => self.for_expr(f, line),
        }
    }

    /// An object key written as an expression: a bare name is the name itself.
    fn key_expr(&mut self, e: &Expression) -> Eval {
        match e {
            Expression::Variable(v) => Ok(string(self.line(e), v.as_str())),
            other => self.eval(other),
        }
    }

    fn template(&mut self, t: &Template, line: u32) -> Eval {
        if let Some(Element::Interpolation(i)) = t.as_single_element()
            && !i.strip.strip_start()
            && !i.strip.strip_end()
        {
            return self.eval(&i.expr);
        }
        let mut st = Rendered::default();
        self.render(t, &mut st)?;
        if st.unknown {
            Ok(unknown(line, st.refs))
        } else {
            Ok(string(line, st.out))
        }
    }

    fn render(&mut self, t: &Template, st: &mut Rendered) -> Result<(), Fail> {
        for element in t {
            match element {
                Element::Literal(s) => {
                    let s: &str = s.as_str();
                    if st.trim_next {
                        st.out.push_str(s.trim_start());
                    } else {
                        st.out.push_str(s);
                    }
                    st.trim_next = false;
                }
                Element::Interpolation(i) => {
                    if i.strip.strip_start() {
                        st.trim_end();
                    }
                    let v = self.eval(&i.expr)?;
                    st.push(&v)?;
                    st.trim_next = i.strip.strip_end();
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        if d.if_expr.strip.strip_start() {
                            st.trim_end();
                        }
                        let cond = self.eval(&d.if_expr.cond_expr)?;
                        if let Value::Unknown { refs } = &cond.value {
                            st.unknown = true;
                            add_refs(&mut st.refs, refs);
                        } else {
                            match as_bool(&cond) {
                                Some(true) => {
                                    st.trim_next = d.if_expr.strip.strip_end();
                                    self.render(&d.if_expr.template, st)?;
                                    if let Some(e) = &d.else_expr
                                        && e.strip.strip_start()
                                    {
                                        st.trim_end();
                                    }
                                }
                                Some(false) => {
                                    if let Some(e) = &d.else_expr {
                                        st.trim_next = e.strip.strip_end();
                                        self.render(&e.template, st)?;
                                    }
                                }
                                None => return Err(Fail),
                            }
                        }
                        if d.endif_expr.strip.strip_start() {
                            st.trim_end();
                        }
                        st.trim_next = d.endif_expr.strip.strip_end();
                    }
                    Directive::For(d) => {
                        let f = &d.for_expr;
                        if f.strip.strip_start() {
                            st.trim_end();
                        }
                        let coll = self.eval(&f.collection_expr)?;
                        match iterate(coll)? {
                            Err(refs) => {
                                st.unknown = true;
                                add_refs(&mut st.refs, &refs);
                            }
                            Ok(items) => {
                                for (k, v) in items {
                                    let pushed = self.bind_pair(
                                        f.key_var.as_ref().map(|i| i.as_str()),
                                        f.value_var.as_str(),
                                        k,
                                        v,
                                    );
                                    st.trim_next = f.strip.strip_end();
                                    let r = self.render(&f.template, st);
                                    self.bindings.truncate(self.bindings.len() - pushed);
                                    r?;
                                    if d.endfor_expr.strip.strip_start() {
                                        st.trim_end();
                                    }
                                }
                            }
                        }
                        st.trim_next = d.endfor_expr.strip.strip_end();
                    }
                },
            }
        }
        Ok(())
    }

    fn bind_pair(&mut self, key_var: Option<&str>, value_var: &str, k: Node, v: Node) -> usize {
        let mut pushed = 1;
        if let Some(kv) = key_var {
            self.bindings.push((kv.to_owned(), k));
            pushed += 1;
        }
        self.bindings.push((value_var.to_owned(), v));
        pushed
    }

    fn for_expr(&mut self, f: &ForExpr, line: u32) -> Eval {
        let coll = self.eval(&f.intro.collection_expr)?;
        let items = match iterate(coll)? {
            Ok(items) => items,
            Err(refs) => return Ok(unknown(line, refs)),
        };
        let key_var = f.intro.key_var.as_ref().map(|i| i.as_str());
        let value_var = f.intro.value_var.as_str();
        let mut out_list = Vec::new();
        let mut out_map = MapBuilder::default();
        let mut refs: Option<Vec<String>> = None;
        for (k, v) in items {
            let pushed = self.bind_pair(key_var, value_var, k, v);
            let r = self.for_item(f, line, &mut out_list, &mut out_map, &mut refs);
            self.bindings.truncate(self.bindings.len() - pushed);
            r?;
        }
        if let Some(refs) = refs {
            return Ok(unknown(line, refs));
        }
        if f.key_expr.is_some() {
            Ok(map(line, out_map.finish()))
        } else {
            Ok(list(line, out_list))
        }
    }

    fn for_item(
        &mut self,
        f: &ForExpr,
        line: u32,
        out_list: &mut Vec<Node>,
        out_map: &mut MapBuilder,
        refs: &mut Option<Vec<String>>,
    ) -> Result<(), Fail> {
        if let Some(cond) = &f.cond {
            let c = self.eval(&cond.expr)?;
            if let Value::Unknown { refs: r } = &c.value {
                add_refs(refs.get_or_insert_with(Vec::new), r);
                return Ok(());
            }
            if !as_bool(&c).ok_or(Fail)? {
                return Ok(());
            }
        }
        let value = self.eval(&f.value_expr)?;
        match &f.key_expr {
            None => out_list.push(value),
            Some(key_expr) => {
                let key = self.eval(key_expr)?;
                if let Value::Unknown { refs: r } = &key.value {
                    add_refs(refs.get_or_insert_with(Vec::new), r);
                    return Ok(());
                }
                let key = as_text(&key).ok_or(Fail)?.into_owned();
                let slot = out_map.get_mut(&key);
                match (slot, f.grouping) {
                    (
                        Some(Node {
                            value: Value::List(items),
                            ..
                        }),
                        true,
                    ) => items.push(value),
                    (Some(_), false) => return Err(Fail),
                    (Some(_), true) => {}
                    (None, true) => out_map.insert(key, list(line, vec![value])),
                    (None, false) => out_map.insert(key, value),
                }
            }
        }
        Ok(())
    }

    fn call(&mut self, call: &FuncCall, line: u32) -> Eval {
        let name = call.name.name.as_str();
        if call.name.is_namespaced() {
            return Ok(unknown(line, self.arg_refs(call)));
        }
        match name {
            "try" => {
                for arg in &call.args {
                    if let Ok(v) = self.eval(arg) {
                        return Ok(v);
                    }
                }
                Err(Fail)
            }
            "can" => match call.args.iter().next().map(|a| self.eval(a)) {
                Some(Ok(v)) if v.is_unknown() => Ok(unknown(line, v.refs().to_vec())),
                Some(Ok(_)) => Ok(boolean(line, true)),
                Some(Err(Fail)) => Ok(boolean(line, false)),
                None => Err(Fail),
            },
            _ => {
                let mut args = Vec::with_capacity(call.args.len());
                for arg in &call.args {
                    args.push(self.eval(arg)?);
                }
                if call.args.expand_final() {
                    match args.pop() {
                        Some(Node {
                            value: Value::List(items),
                            ..
                        }) => args.extend(items),
                        Some(n) if n.is_unknown() => return Ok(unknown(line, n.refs().to_vec())),
                        _ => return Err(Fail),
                    }
                }
                functions::call(name, args, line)
            }
        }
    }

    /// The references of a call's arguments (for a function that is not evaluated).
    fn arg_refs(&mut self, call: &FuncCall) -> Vec<String> {
        let mut refs = Vec::new();
        for arg in &call.args {
            if let Ok(v) = self.eval(arg) {
                super::value::deep_refs(&v, &mut refs);
            }
        }
        refs
    }

    fn traversal(&mut self, t: &Traversal, line: u32) -> Eval {
        match &t.expr {
            Expression::Variable(v) => self.root(v.as_str(), &t.operators, line),
            other => {
                let base = self.eval(other)?;
                self.apply(base, &t.operators, line)
            }
        }
    }

    /// A traversal starting at a name: a bound name, `var`, `local`, `module`, `count`,
    /// `each`, `path`, or a resource / data source reference.
    fn root(
        &mut self,
        name: &str,
        ops: &[hcl::edit::Decorated<TraversalOperator>],
        line: u32,
    ) -> Eval {
        if let Some(pos) = self.bindings.iter().rposition(|(n, _)| n == name) {
            let value = relined(&self.bindings[pos].1, line);
            return self.apply(value, ops, line);
        }
        let first = ops.first().and_then(|op| match op.value() {
            TraversalOperator::GetAttr(a) => Some(a.as_str()),
            _ => None,
        });
        match (name, first) {
            ("var", Some(v)) => {
                let value = match self.inst.vars.get(v) {
                    Some(n) => relined(n, line),
                    None => unknown(line, vec![format!("var.{v}")]),
                };
                self.apply(value, &ops[1..], line)
            }
            ("local", Some(l)) => {
                let value = self.inst.local(l, line);
                self.apply(value, &ops[1..], line)
            }
            ("path", Some("module")) => {
                let value = string(line, self.inst.path_module.clone());
                self.apply(value, &ops[1..], line)
            }
            ("path", Some("root")) => {
                let value = string(line, self.inst.path_root.clone());
                self.apply(value, &ops[1..], line)
            }
            ("module", Some(m)) => self.module_ref(m, &ops[1..], ops, line),
            _ => {
                let text = self.render_ref(name, ops);
                Ok(unknown(line, vec![text]))
            }
        }
    }

    /// `module.NAME...`: outputs of a local module call, evaluated in the module.
    fn module_ref(
        &mut self,
        name: &str,
        rest: &[hcl::edit::Decorated<TraversalOperator>],
        all: &[hcl::edit::Decorated<TraversalOperator>],
        line: u32,
    ) -> Eval {
        let children = self.inst.children(name);
        let unknown_ref = |cx: &mut Self| Ok(unknown(line, vec![cx.render_ref("module", all)]));
        match &*children {
            Children::None | Children::Unknown(_) => unknown_ref(self),
            Children::Single(child) => match rest.first().map(hcl::edit::Decorated::value) {
                Some(TraversalOperator::GetAttr(out)) => {
                    let value = child.output(out.as_str(), line);
                    self.apply(value, &rest[1..], line)
                }
                Some(_) => unknown_ref(self),
                None => Ok(child.outputs_map(line)),
            },
            Children::Keyed(instances) => {
                let Some(op) = rest.first() else {
                    return unknown_ref(self);
                };
                let key = match op.value() {
                    TraversalOperator::Index(e) => self.eval(e)?,
                    TraversalOperator::LegacyIndex(i) => number(line, *i.value() as f64),
                    _ => return unknown_ref(self),
                };
                if key.is_unknown() {
                    return unknown_ref(self);
                }
                let key_text = as_text(&key).map(std::borrow::Cow::into_owned);
                let Some((_, child)) = instances
                    .iter()
                    .find(|(k, _)| key_text.as_deref() == Some(k.text().as_str()))
                else {
                    return Err(Fail);
                };
                match rest.get(1).map(hcl::edit::Decorated::value) {
                    Some(TraversalOperator::GetAttr(out)) => {
                        let value = child.output(out.as_str(), line);
                        self.apply(value, &rest[2..], line)
                    }
                    Some(_) => unknown_ref(self),
                    None => Ok(child.outputs_map(line)),
                }
            }
        }
    }

    /// A reference as written, with known indexes rendered (`aws_s3_bucket.b["x"].id`) and
    /// unknown indexes and splats left out (so it names every instance).
    fn render_ref(
        &mut self,
        name: &str,
        ops: &[hcl::edit::Decorated<TraversalOperator>],
    ) -> String {
        let mut out = name.to_owned();
        for op in ops {
            match op.value() {
                TraversalOperator::GetAttr(a) => {
                    out.push('.');
                    out.push_str(a.as_str());
                }
                TraversalOperator::LegacyIndex(i) => {
                    out.push_str(&format!("[{}]", i.value()));
                }
                TraversalOperator::Index(e) => match self.eval(e) {
                    Ok(Node {
                        value: Value::Number(n),
                        ..
                    }) => out.push_str(&format!("[{}]", super::value::number_text(n))),
                    Ok(Node {
                        value: Value::String(s),
                        ..
                    }) => {
                        out.push('[');
                        out.push_str(&super::value::quoted_key(&s));
                        out.push(']');
                    }
                    _ => {}
                },
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {}
            }
        }
        out
    }

    /// Applies traversal operators to a value.
    fn apply(
        &mut self,
        mut node: Node,
        ops: &[hcl::edit::Decorated<TraversalOperator>],
        line: u32,
    ) -> Eval {
        for (i, op) in ops.iter().enumerate() {
            if node.is_unknown() {
                return Ok(node);
            }
            node = match op.value() {
                TraversalOperator::GetAttr(a) => get_attr(node, a.as_str())?,
                TraversalOperator::Index(e) => {
                    let key = self.eval(e)?;
                    if key.is_unknown() {
                        return Ok(unknown(line, key.refs().to_vec()));
                    }
                    index(node, &key)?
                }
                TraversalOperator::LegacyIndex(n) => index(node, &number(line, *n.value() as f64))?,
                TraversalOperator::FullSplat(_) => return self.splat(node, &ops[i + 1..], line),
                TraversalOperator::AttrSplat(_) => {
                    let rest = &ops[i + 1..];
                    let n = rest
                        .iter()
                        .take_while(|o| {
                            matches!(
                                o.value(),
                                TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_)
                            )
                        })
                        .count();
                    let out = self.splat(node, &rest[..n], line)?;
                    return self.apply(out, &rest[n..], line);
                }
            };
        }
        Ok(node)
    }

    fn splat(
        &mut self,
        node: Node,
        ops: &[hcl::edit::Decorated<TraversalOperator>],
        line: u32,
    ) -> Eval {
        match node.value {
            Value::Unknown { .. } => Ok(node),
            Value::Null => Ok(list(line, Vec::new())),
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.apply(item, ops, line)?);
                }
                Ok(list(line, out))
            }
            _ => {
                let v = self.apply(node, ops, line)?;
                Ok(list(line, vec![v]))
            }
        }
    }
}

fn push_blocks(
    entries: &mut Vec<(String, Node)>,
    name: &str,
    blocks: Result<Vec<Node>, Node>,
    line: u32,
) {
    let slot = entries.iter_mut().find(|(k, _)| k == name);
    match (slot, blocks) {
        (Some((_, existing)), Ok(new)) => {
            if let Value::List(items) = &mut existing.value {
                items.extend(new);
            }
        }
        (Some((_, existing)), Err(u)) => {
            let mut refs = existing.refs().to_vec();
            add_refs(&mut refs, u.refs());
            *existing = unknown(existing.line, refs);
        }
        (None, Ok(new)) => entries.push((name.to_owned(), list(line, new))),
        (None, Err(u)) => entries.push((name.to_owned(), u)),
    }
}

/// The text of a template, or what makes it unknown.
#[derive(Default)]
struct Rendered {
    out: String,
    unknown: bool,
    refs: Vec<String>,
    trim_next: bool,
}

impl Rendered {
    fn trim_end(&mut self) {
        let len = self.out.trim_end().len();
        self.out.truncate(len);
    }

    fn push(&mut self, v: &Node) -> Result<(), Fail> {
        if let Value::Unknown { refs } = &v.value {
            self.unknown = true;
            add_refs(&mut self.refs, refs);
        } else {
            let text = as_text(v).ok_or(Fail)?;
            self.out.push_str(&text);
        }
        Ok(())
    }
}

/// The (key, value) pairs of a collection, or the references of an unknown collection.
pub(crate) type Items = Result<Vec<(Node, Node)>, Vec<String>>;

/// The (key, value) pairs of a collection: lists by index, maps in key order. `Ok(Err(refs))`
/// when the collection is unknown.
pub(crate) fn iterate(coll: Node) -> Result<Items, Fail> {
    let line = coll.line;
    match coll.value {
        Value::Unknown { refs } => Ok(Err(refs)),
        Value::List(items) => Ok(Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (number(line, i as f64), v))
            .collect())),
        Value::Map(entries) => Ok(Ok(sorted_entries(entries)
            .into_iter()
            .map(|(k, v)| (string(line, k), v))
            .collect())),
        _ => Err(Fail),
    }
}

fn get_attr(node: Node, name: &str) -> Eval {
    match node.value {
        Value::Map(entries) => entries
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or(Fail),
        _ => Err(Fail),
    }
}

fn index(node: Node, key: &Node) -> Eval {
    match node.value {
        Value::List(items) => {
            let i = as_index(key).ok_or(Fail)?;
            items.into_iter().nth(i).ok_or(Fail)
        }
        Value::Map(entries) => {
            let k = as_text(key).ok_or(Fail)?;
            entries
                .into_iter()
                .find(|(name, _)| *name == *k)
                .map(|(_, v)| v)
                .ok_or(Fail)
        }
        _ => Err(Fail),
    }
}

fn binary(op: BinaryOperator, lhs: &Node, rhs: &Node, line: u32) -> Eval {
    let both_refs = || refs_of([lhs, rhs]);
    match op {
        BinaryOperator::And | BinaryOperator::Or => {
            let lb = if lhs.is_unknown() {
                None
            } else {
                Some(as_bool(lhs).ok_or(Fail)?)
            };
            let rb = if rhs.is_unknown() {
                None
            } else {
                Some(as_bool(rhs).ok_or(Fail)?)
            };
            let and = op == BinaryOperator::And;
            match (lb, rb) {
                (Some(a), Some(b)) => Ok(boolean(line, if and { a && b } else { a || b })),
                (Some(x), None) | (None, Some(x)) if x != and => Ok(boolean(line, x)),
                _ => Ok(unknown(line, both_refs())),
            }
        }
        BinaryOperator::Eq | BinaryOperator::NotEq => match equal(lhs, rhs) {
            Some(e) => Ok(boolean(line, e == (op == BinaryOperator::Eq))),
            None => Ok(unknown(line, both_refs())),
        },
        _ => {
            if lhs.is_unknown() || rhs.is_unknown() {
                return Ok(unknown(line, both_refs()));
            }
            let x = as_number(lhs).ok_or(Fail)?;
            let y = as_number(rhs).ok_or(Fail)?;
            let num = |v: f64| Ok(number(line, v));
            let cmp = |v: bool| Ok(boolean(line, v));
            match op {
                BinaryOperator::Plus => num(x + y),
                BinaryOperator::Minus => num(x - y),
                BinaryOperator::Mul => num(x * y),
                BinaryOperator::Div | BinaryOperator::Mod if y == 0.0 => Err(Fail),
                BinaryOperator::Div => num(x / y),
                BinaryOperator::Mod => num(x % y),
                BinaryOperator::Less => cmp(x < y),
                BinaryOperator::LessEq => cmp(x <= y),
                BinaryOperator::Greater => cmp(x > y),
                BinaryOperator::GreaterEq => cmp(x >= y),
                _ => Err(Fail),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::terraform::module::{Run, Shared};

    /// Evaluates `src` with nothing in scope; a failure is `Err`.
    fn eval(src: &str) -> Eval {
        let shared = Shared::new(PathBuf::from("."));
        let run = Run::new(&shared);
        let inst = Instance::constant(&run);
        let file = SourceFile::new("t.tf".into(), src);
        let expr = hcl::edit::parser::parse_expr(src).unwrap();
        Cx::new(&inst, &file).eval(&expr)
    }

    fn json(src: &str) -> serde_json::Value {
        let n = eval(src).unwrap();
        serde_json::from_str(&super::super::value::to_json(&n).expect("known")).unwrap()
    }

    #[test]
    fn templates() {
        assert_eq!(json(r#""a${1 + 1}b""#), "a2b");
        assert_eq!(json(r#""${[1, 2]}""#), serde_json::json!([1, 2]));
        assert_eq!(json(r#""x %{ if true }yes%{ else }no%{ endif }""#), "x yes");
        assert_eq!(json(r#""[ ${~ "a" ~} ]""#), "[a]");
        assert_eq!(
            json("\"%{ for k, v in { b = 2, a = 1 } }${k}=${v},%{ endfor }\""),
            "a=1,b=2,"
        );
        assert_eq!(json("<<EOT\nline ${\"x\"}\nEOT"), "line x\n");
        assert!(eval(r#""a${null}""#).is_err());
        let u = eval(r#""${aws_s3_bucket.b.id}-x""#).unwrap();
        assert_eq!(u.refs(), ["aws_s3_bucket.b.id".to_owned()]);
    }

    #[test]
    fn traversals_and_splats() {
        assert_eq!(json("{ a = [10, 20] }.a[1]"), 20);
        assert_eq!(
            json("[{ n = 1 }, { n = 2 }][*].n"),
            serde_json::json!([1, 2])
        );
        assert_eq!(
            json("[{ n = 1 }, { n = 2 }].*.n"),
            serde_json::json!([1, 2])
        );
        assert_eq!(json("{ n = 1 }[*].n"), serde_json::json!([1]));
        assert!(eval("{ a = 1 }.b").is_err());
        let r = eval(r#"aws_s3_bucket.b["x"].arn"#).unwrap();
        assert_eq!(r.refs(), ["aws_s3_bucket.b[\"x\"].arn".to_owned()]);
        let r = eval("aws_instance.web[*].id").unwrap();
        assert_eq!(r.refs(), ["aws_instance.web.id".to_owned()]);
        let r = eval("data.aws_iam_policy_document.p.json").unwrap();
        assert_eq!(r.refs(), ["data.aws_iam_policy_document.p.json".to_owned()]);
        let r = eval("var.missing").unwrap();
        assert_eq!(r.refs(), ["var.missing".to_owned()]);
    }

    #[test]
    fn operators_and_conditionals() {
        assert_eq!(json("1 + 2 * 3"), 7);
        assert_eq!(json(r#""2" * 3"#), 6);
        assert_eq!(json("-(3 - 5)"), 2);
        assert_eq!(json("[1, \"a\"] == [1, \"a\"]"), true);
        assert_eq!(json("false && aws_x.y.z"), false);
        assert_eq!(json("true || aws_x.y.z"), true);
        assert!(eval("true && aws_x.y.z").unwrap().is_unknown());
        assert!(eval("1 / 0").is_err());
        assert_eq!(json(r#"1 > 2 ? "a" : "b""#), "b");
        let c = eval(r#"aws_x.y.enabled ? aws_k.k.arn : "none""#).unwrap();
        assert_eq!(
            c.refs(),
            ["aws_x.y.enabled".to_owned(), "aws_k.k.arn".to_owned()]
        );
        assert_eq!(json(r#"aws_x.y.enabled ? "same" : "same""#), "same");
    }

    #[test]
    fn for_expressions() {
        assert_eq!(
            json("[for x in [1, 2, 3] : x * 2 if x > 1]"),
            serde_json::json!([4, 6])
        );
        assert_eq!(
            json("{ for k, v in { a = 1, b = 2 } : upper(k) => v }"),
            serde_json::json!({"A": 1, "B": 2})
        );
        assert_eq!(
            json(r#"{ for s in ["a1", "a2", "b1"] : substr(s, 0, 1) => s... }"#),
            serde_json::json!({"a": ["a1", "a2"], "b": ["b1"]})
        );
        assert!(eval("[for x in aws_x.y.list : x]").unwrap().is_unknown());
        assert!(eval(r#"{ for s in ["a", "a"] : s => 1 }"#).is_err());
        assert_eq!(json(r#"try([][0], "fallback")"#), "fallback");
        assert_eq!(json("can(tonumber(\"x\"))"), false);
        assert_eq!(
            json(r#"{ "a-b" = 1, (upper("c")) = 2 }"#),
            serde_json::json!({"a-b": 1, "C": 2})
        );
    }
}
