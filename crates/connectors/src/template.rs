//! Templates that shape a request from a call's payload: paths, query parameters and bodies.
//!
//! A placeholder is `{field.path}`: dotted segments of letters, digits, `_` and `-`, looked up
//! in the payload object by object (a numeric segment indexes an array: `{lines.0.sku}`). `{{`
//! and `}}` stand for literal braces.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// A dotted path into the payload: `order.number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    text: String,
    segments: Vec<String>,
}

impl FieldPath {
    /// Parses `order.number`; the error says what is wrong.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("an empty field name; write {field} or {field.sub_field}".to_owned());
        }
        let mut segments = Vec::new();
        for segment in text.split('.') {
            if segment.is_empty() {
                return Err(format!("field {text:?} has an empty segment; write segments joined by single dots"));
            }
            if let Some(bad) = segment.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
                return Err(format!(
                    "field {text:?} contains {bad:?}; field names use letters, digits, '_' and '-', joined by '.'"
                ));
            }
            segments.push(segment.to_owned());
        }
        Ok(FieldPath { text: text.to_owned(), segments })
    }

    /// The path as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The top-level field.
    pub(crate) fn first(&self) -> &str {
        &self.segments[0]
    }

    /// The innermost field (a query parameter's name).
    pub(crate) fn last(&self) -> &str {
        &self.segments[self.segments.len() - 1]
    }

    /// The value at this path, if there is one.
    pub(crate) fn lookup<'a>(&self, payload: &'a Value) -> Option<&'a Value> {
        self.segments.iter().try_fold(payload, |value, segment| match value {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// Why a template could not be filled from a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FillError {
    /// The payload lacks a field the template needs.
    #[error("the payload has no field {field:?}, which the {place} needs")]
    Missing {
        /// The field path.
        field: String,
        /// Where the template is (`path`, `body`).
        place: &'static str,
    },
    /// A path placeholder holds an object, an array or null.
    #[error("field {field:?} is {kind}; the {place} needs a string, number or boolean")]
    NotScalar {
        /// The field path.
        field: String,
        /// What the value is.
        kind: &'static str,
        /// Where the template is.
        place: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Field(FieldPath),
}

/// Text with placeholders: `/transfers/{transfer_id}/ship`, `stockout at {to}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextTemplate {
    pieces: Vec<Piece>,
}

impl TextTemplate {
    /// Parses a template; the error says what is wrong and where.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!(
                            "{text:?}: the '{{' at position {at} is not closed; write {{field}}, or {{{{ for a literal brace"
                        ));
                    };
                    let field = FieldPath::parse(&rest[..end]).map_err(|e| format!("{text:?}: {e}"))?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Field(field));
                    for _ in 0..rest[..=end].chars().count() {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "{text:?}: the '}}' at position {at} closes nothing; write }}}} for a literal brace"
                    ));
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(TextTemplate { pieces })
    }

    /// A template that is exactly `text`, with no placeholder.
    pub(crate) fn verbatim(text: String) -> Self {
        TextTemplate { pieces: vec![Piece::Text(text)] }
    }

    /// The literal text around the placeholders, for checking what a template can produce.
    pub(crate) fn literal_text(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::Field(_) => "",
            })
            .collect()
    }

    /// The fields the template uses.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &FieldPath> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Field(f) => Some(f),
            Piece::Text(_) => None,
        })
    }

    /// The field when the template is exactly one placeholder (`"{qty}"`).
    fn single_field(&self) -> Option<&FieldPath> {
        match self.pieces.as_slice() {
            [Piece::Field(f)] => Some(f),
            _ => None,
        }
    }

    /// The text when the template has no placeholder.
    fn literal(&self) -> Option<String> {
        match self.pieces.as_slice() {
            [] => Some(String::new()),
            [Piece::Text(t)] => Some(t.clone()),
            _ => None,
        }
    }

    /// Fills the template, turning each value into text with `show`.
    fn fill(
        &self,
        payload: &Value,
        place: &'static str,
        show: impl Fn(&FieldPath, &Value) -> Result<String, FillError>,
    ) -> Result<String, FillError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => {
                    let value =
                        f.lookup(payload).ok_or_else(|| FillError::Missing { field: f.as_str().to_owned(), place })?;
                    out.push_str(&show(f, value)?);
                }
            }
        }
        Ok(out)
    }

    /// Fills a path template: each value is one percent-encoded path segment.
    pub(crate) fn fill_path(&self, payload: &Value) -> Result<String, FillError> {
        self.fill(payload, "path", |field, value| match scalar_text(value) {
            Some(text) => Ok(encode_segment(&text)),
            None => Err(FillError::NotScalar { field: field.as_str().to_owned(), kind: kind_of(value), place: "path" }),
        })
    }

    /// Fills a text template: strings as they are, null as nothing, other values as JSON.
    fn fill_text(&self, payload: &Value) -> Result<String, FillError> {
        self.fill(payload, "body", |_, value| {
            Ok(match value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        })
    }
}

/// The text of a string, number or boolean.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Percent-encodes text as one path segment: everything but `A-Z a-z 0-9 - . _ ~` is encoded,
/// so `SUP-001:INV-77` becomes `SUP-001%3AINV-77` and a `/` cannot start a new segment.
pub(crate) fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A JSON-shaped body template, from the operation's `body` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BodyTemplate {
    /// `"{field}"`: the payload value, keeping its JSON type.
    Field(FieldPath),
    /// A string with embedded placeholders, filled as text.
    Text(TextTemplate),
    /// A value sent as written.
    Literal(Value),
    /// An array of templates.
    Array(Vec<BodyTemplate>),
    /// An object of templates (keys are literal).
    Object(Vec<(String, BodyTemplate)>),
}

impl BodyTemplate {
    /// Reads a template from TOML; `at` is the field path used in errors (`body.lines`).
    pub(crate) fn from_toml(value: &toml::Value, at: &str) -> Result<Self, (String, String)> {
        Ok(match value {
            toml::Value::String(s) => {
                let template = TextTemplate::parse(s).map_err(|e| (at.to_owned(), e))?;
                if let Some(field) = template.single_field() {
                    BodyTemplate::Field(field.clone())
                } else if let Some(text) = template.literal() {
                    BodyTemplate::Literal(Value::String(text))
                } else {
                    BodyTemplate::Text(template)
                }
            }
            toml::Value::Integer(i) => BodyTemplate::Literal(Value::Number((*i).into())),
            toml::Value::Float(x) => match Number::from_f64(*x) {
                Some(n) => BodyTemplate::Literal(Value::Number(n)),
                None => return Err((at.to_owned(), format!("{x} is not a JSON number; write a finite number"))),
            },
            toml::Value::Boolean(b) => BodyTemplate::Literal(Value::Bool(*b)),
            toml::Value::Datetime(d) => BodyTemplate::Literal(Value::String(d.to_string())),
            toml::Value::Array(items) => BodyTemplate::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| BodyTemplate::from_toml(item, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(table) => BodyTemplate::Object(
                table
                    .iter()
                    .map(|(k, v)| {
                        Ok::<_, (String, String)>((k.clone(), BodyTemplate::from_toml(v, &format!("{at}.{k}"))?))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// The body for a payload.
    pub(crate) fn fill(&self, payload: &Value) -> Result<Value, FillError> {
        Ok(match self {
            BodyTemplate::Field(f) => f
                .lookup(payload)
                .cloned()
                .ok_or_else(|| FillError::Missing { field: f.as_str().to_owned(), place: "body" })?,
            BodyTemplate::Text(t) => Value::String(t.fill_text(payload)?),
            BodyTemplate::Literal(v) => v.clone(),
            BodyTemplate::Array(items) => {
                Value::Array(items.iter().map(|i| i.fill(payload)).collect::<Result<_, _>>()?)
            }
            BodyTemplate::Object(fields) => {
                let mut map = Map::new();
                for (k, t) in fields {
                    map.insert(k.clone(), t.fill(payload)?);
                }
                Value::Object(map)
            }
        })
    }
}

/// Query parameters for one value: strings, numbers and booleans as text, one parameter per
/// array element, objects as JSON, null left out.
pub(crate) fn query_pairs(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|item| query_pairs(name, item, out)),
        Value::Object(_) => out.push((name.to_owned(), value.to_string())),
        scalar => out.push((name.to_owned(), scalar_text(scalar).unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_path_takes_encoded_segments_from_the_payload() {
        let path = TextTemplate::parse("/supplier-invoices/{invoice_id}/release").expect("valid");
        let filled = path.fill_path(&json!({"invoice_id": "SUP-001:INV-77"})).expect("filled");
        assert_eq!(filled, "/supplier-invoices/SUP-001%3AINV-77/release");
        let dotted = TextTemplate::parse("/orders/{order.number}/lines/{order.lines.0.line}").expect("valid");
        assert_eq!(
            dotted.fill_path(&json!({"order": {"number": "WEB 1/2", "lines": [{"line": 3}]}})).expect("filled"),
            "/orders/WEB%201%2F2/lines/3"
        );
        assert_eq!(
            path.fill_path(&json!({"supplier": "SUP-001"})),
            Err(FillError::Missing { field: "invoice_id".into(), place: "path" })
        );
        assert!(matches!(path.fill_path(&json!({"invoice_id": null})), Err(FillError::NotScalar { .. })));
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        assert!(TextTemplate::parse("/transfers/{transfer_id/ship").expect_err("unclosed").contains("not closed"));
        assert!(TextTemplate::parse("/transfers/{}").expect_err("empty").contains("empty field"));
        assert!(TextTemplate::parse("/transfers/{a..b}").expect_err("empty segment").contains("empty segment"));
        assert!(TextTemplate::parse("/t/{a b}").expect_err("space").contains("letters, digits"));
        assert!(TextTemplate::parse("/t/x}").expect_err("stray").contains("closes nothing"));
        let literal = TextTemplate::parse("{{literal}}").expect("escaped");
        assert_eq!(literal.fill_path(&json!({})).expect("filled"), "{literal}");
    }

    #[test]
    fn a_body_template_keeps_types_and_interpolates_text() {
        let table: toml::Table = toml::from_str(
            r#"
            item = "{item}"
            quantity = "{quantity}"
            note = "stockout at {to}, {quantity} units"
            channel = "store"
            urgent = true
            lines = [{ sku = "{item}", qty = "{quantity}" }]
            "#,
        )
        .expect("toml");
        let body = BodyTemplate::from_toml(&toml::Value::Table(table), "body").expect("valid");
        let filled = body.fill(&json!({"item": "SKU-1001", "quantity": 12, "to": "STORE-042"})).expect("filled");
        assert_eq!(
            filled,
            json!({
                "item": "SKU-1001",
                "quantity": 12,
                "note": "stockout at STORE-042, 12 units",
                "channel": "store",
                "urgent": true,
                "lines": [{"sku": "SKU-1001", "qty": 12}]
            })
        );
        assert_eq!(
            body.fill(&json!({"item": "SKU-1001", "to": "STORE-042"})),
            Err(FillError::Missing { field: "quantity".into(), place: "body" })
        );
        let bad = toml::Value::Table(toml::from_str("note = \"at {to\"").expect("toml"));
        let (at, why) = BodyTemplate::from_toml(&bad, "body").expect_err("refused");
        assert_eq!(at, "body.note");
        assert!(why.contains("not closed"), "{why}");
    }

    #[test]
    fn query_values_become_parameters() {
        let mut out = Vec::new();
        query_pairs("status", &json!(["open", "confirmed"]), &mut out);
        query_pairs("amount", &json!(1250.5), &mut out);
        query_pairs("note", &Value::Null, &mut out);
        assert_eq!(
            out,
            [
                ("status".into(), "open".into()),
                ("status".into(), "confirmed".into()),
                ("amount".into(), "1250.5".into())
            ]
        );
    }
}
