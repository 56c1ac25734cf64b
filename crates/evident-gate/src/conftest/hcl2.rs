//! HCL 2 (Terraform) as Conftest's `hcl2` parser gives it to policies.
//!
//! Conftest converts HCL with `tmccombs/hcl2json` (default options). The shape, reproduced here
//! from the parsed syntax (hcl-edit, with source spans):
//!
//! - a block nests one object per label and ends in a *list* of bodies:
//!   `resource "aws_s3_bucket" "b" { … }` → `{"resource": {"aws_s3_bucket": {"b": [{…}]}}}`;
//!   blocks without labels, and nested blocks, are lists too (`"versioning": [{…}]`); a second
//!   block with the same type and labels appends to the list;
//! - literals keep their JSON type (strings, numbers, booleans, null; `-1` is a number);
//! - any other expression becomes its source text wrapped in `${…}` (`"${var.name}"`,
//!   `"${[for s in var.list : upper(s)]}"`); a quoted template keeps its literal text and wraps
//!   each interpolation (`"${var.env}-logs"`), with `%{if}`/`%{for}` directives written back in
//!   template syntax; heredocs are strings (`<<-` strips the indentation);
//! - object keys are their text (`a`, `"b"`, `c.d`; an interpolated key keeps its `${…}`).

use std::ops::Range;

use hcl::edit::Span as _;
use hcl::edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl::edit::structure::{Body, Structure};
use hcl::edit::template::{Directive, Element};
use serde_json::{Map, Value};

use super::{ParseError, Parser, line_column};

pub(super) fn parse(text: &str) -> Result<Value, ParseError> {
    let body = hcl::edit::parser::parse_body(text).map_err(|e| {
        let location = e.location();
        ParseError::new(Parser::Hcl2, e.message().to_owned())
            .at(location.line(), Some(location.column()))
    })?;
    let converter = Converter { source: text };
    converter.body(&body).map(Value::Object)
}

struct Converter<'a> {
    source: &'a str,
}

impl Converter<'_> {
    fn error(&self, span: Option<Range<usize>>, message: String) -> ParseError {
        let error = ParseError::new(Parser::Hcl2, message);
        match span {
            Some(span) => {
                let (line, column) = line_column(self.source.as_bytes(), span.start);
                error.at(line, Some(column))
            }
            None => error,
        }
    }

    fn body(&self, body: &Body) -> Result<Map<String, Value>, ParseError> {
        let mut out = Map::new();
        for structure in body {
            if let Structure::Attribute(attribute) = structure {
                let key = attribute.key.as_str();
                if out.contains_key(key) {
                    return Err(self.error(
                        attribute.span(),
                        format!("attribute `{key}` is defined more than once"),
                    ));
                }
                out.insert(key.to_owned(), self.expression(&attribute.value));
            }
        }
        for structure in body {
            if let Structure::Block(block) = structure {
                let value = Value::Object(self.body(&block.body)?);
                let mut map = &mut out;
                let mut key = block.ident.as_str().to_owned();
                for label in &block.labels {
                    let entry = map
                        .entry(key.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    map = match entry {
                        Value::Object(inner) => inner,
                        _ => {
                            return Err(self.error(
                                block.span(),
                                format!(
                                    "block `{}` clashes with an attribute or block named `{key}`",
                                    block.ident.as_str()
                                ),
                            ));
                        }
                    };
                    label.as_str().clone_into(&mut key);
                }
                match map
                    .entry(key.clone())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    Value::Array(list) => list.push(value),
                    _ => {
                        return Err(self.error(
                            block.span(),
                            format!(
                                "block `{}` clashes with an attribute named `{key}`",
                                block.ident.as_str()
                            ),
                        ));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The source text of a parsed node.
    fn text(&self, span: Option<Range<usize>>) -> &str {
        span.and_then(|s| self.source.get(s)).unwrap_or_default()
    }

    /// `${…}` around the expression's source text.
    fn wrap(&self, expr: &Expression) -> String {
        format!("${{{}}}", self.text(expr.span()))
    }

    fn expression(&self, expr: &Expression) -> Value {
        match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => number(n.value()),
            Expression::String(s) => Value::String(s.value().clone()),
            Expression::Array(items) => {
                Value::Array(items.iter().map(|e| self.expression(e)).collect())
            }
            Expression::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| (self.object_key(key), self.expression(value.expr())))
                    .collect(),
            ),
            Expression::StringTemplate(template) => {
                // A template that is a single interpolation is its expression (hcl2json
                // converts the wrapped expression itself).
                let elements: Vec<&Element> = template.iter().collect();
                if let [Element::Interpolation(interp)] = elements.as_slice()
                    && !interp.strip.strip_start()
                    && !interp.strip.strip_end()
                {
                    return self.expression(&interp.expr);
                }
                Value::String(self.template(template.iter()))
            }
            Expression::HeredocTemplate(heredoc) => {
                Value::String(self.template(heredoc.template.iter()))
            }
            Expression::UnaryOp(op) => match (op.operator.value(), &op.expr) {
                (UnaryOperator::Neg, Expression::Number(n)) => {
                    negate(n.value()).unwrap_or_else(|| Value::String(self.wrap(expr)))
                }
                (UnaryOperator::Not, Expression::Bool(b)) => Value::Bool(!*b.value()),
                _ => Value::String(self.wrap(expr)),
            },
            _ => Value::String(self.wrap(expr)),
        }
    }

    fn object_key(&self, key: &ObjectKey) -> String {
        match key {
            ObjectKey::Ident(ident) => ident.as_str().to_owned(),
            ObjectKey::Expression(Expression::Traversal(t)) => self.text(t.span()).to_owned(),
            ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_owned(),
            ObjectKey::Expression(expr) => self.string_part(expr),
        }
    }

    /// An expression embedded in a template, as text.
    fn string_part(&self, expr: &Expression) -> String {
        match expr {
            Expression::Null(_) => "null".to_owned(),
            Expression::Bool(b) => b.value().to_string(),
            Expression::Number(n) => match number(n.value()) {
                Value::Number(n) => n.to_string(),
                _ => self.wrap(expr),
            },
            Expression::String(s) => s.value().clone(),
            Expression::StringTemplate(t) => self.template(t.iter()),
            Expression::HeredocTemplate(h) => self.template(h.template.iter()),
            Expression::Conditional(c) => {
                let true_part = self.string_part(&c.true_expr);
                let false_part = self.string_part(&c.false_expr);
                conditional(self.text(c.cond_expr.span()), &true_part, &false_part)
            }
            _ => self.wrap(expr),
        }
    }

    fn template<'t>(&self, elements: impl Iterator<Item = &'t Element>) -> String {
        let mut out = String::new();
        let mut trim_next = false;
        for element in elements {
            match element {
                Element::Literal(text) => {
                    if trim_next {
                        out.push_str(text.value().trim_start());
                    } else {
                        out.push_str(text.value());
                    }
                    trim_next = false;
                }
                Element::Interpolation(interp) => {
                    if interp.strip.strip_start() {
                        out.truncate(out.trim_end().len());
                    }
                    out.push_str(&self.string_part(&interp.expr));
                    trim_next = interp.strip.strip_end();
                }
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(d) => {
                        if d.if_expr.strip.strip_start() {
                            out.truncate(out.trim_end().len());
                        }
                        let true_part = self.template(d.if_expr.template.iter());
                        let false_part = d
                            .else_expr
                            .as_ref()
                            .map(|e| self.template(e.template.iter()))
                            .unwrap_or_default();
                        out.push_str(&conditional(
                            self.text(d.if_expr.cond_expr.span()),
                            &true_part,
                            &false_part,
                        ));
                        trim_next = d.endif_expr.strip.strip_end();
                    }
                    Directive::For(d) => {
                        if d.for_expr.strip.strip_start() {
                            out.truncate(out.trim_end().len());
                        }
                        out.push_str("%{for ");
                        if let Some(key) = &d.for_expr.key_var {
                            out.push_str(key.as_str());
                            out.push_str(", ");
                        }
                        out.push_str(d.for_expr.value_var.as_str());
                        out.push_str(" in ");
                        out.push_str(self.text(d.for_expr.collection_expr.span()));
                        out.push('}');
                        out.push_str(&self.template(d.for_expr.template.iter()));
                        out.push_str("%{endfor}");
                        trim_next = d.endfor_expr.strip.strip_end();
                    }
                },
            }
        }
        out
    }
}

fn conditional(condition: &str, true_part: &str, false_part: &str) -> String {
    let mut out = format!("%{{if {condition}}}{true_part}");
    if !false_part.is_empty() {
        out.push_str("%{else}");
        out.push_str(false_part);
    }
    out.push_str("%{endif}");
    out
}

/// A number as JSON: integral values as integers (`1e3` is `1000`, as cty prints it).
fn number(n: &hcl::Number) -> Value {
    if let Some(i) = n.as_i64() {
        return Value::from(i);
    }
    if let Some(u) = n.as_u64() {
        return Value::from(u);
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    #[allow(clippy::float_cmp)]
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn negate(n: &hcl::Number) -> Option<Value> {
    match number(n) {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.checked_neg().map(Value::from)
            } else {
                n.as_f64()
                    .and_then(|f| serde_json::Number::from_f64(-f))
                    .map(Value::Number)
            }
        }
        _ => None,
    }
}
