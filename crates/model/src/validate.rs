//! Validation of incoming events: every problem is reported, each with its JSON path.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::catalogue::{EventPayload, EventType};
use crate::event::NewEvent;

/// One problem found in an input document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where the problem is, as a JSONPath from the event (`$.data.lines[0].quantity.value`).
    pub path: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

/// Where a value sits in a document, built without allocating and rendered as a JSONPath
/// (`$.data.lines[0].item`) only when a problem is reported.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root(&'a str),
    Field(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// A path starting at `root`, itself a JSONPath such as `$.data`.
    pub(crate) fn root(root: &'a str) -> Self {
        Path { parent: None, segment: Segment::Root(root) }
    }

    /// The member `name` of this object.
    pub(crate) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path { parent: Some(self), segment: Segment::Field(name) }
    }

    /// The element `i` of this array.
    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path { parent: Some(self), segment: Segment::Index(i) }
    }

    fn render(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.render(out);
        }
        match self.segment {
            Segment::Root(r) => out.push_str(r),
            Segment::Field(f) => {
                out.push('.');
                out.push_str(f);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.render(&mut s);
        f.write_str(&s)
    }
}

/// Collects problems while walking a document.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) errors: Vec<FieldError>,
}

impl Checker {
    /// Reports a problem at a path.
    pub(crate) fn error(&mut self, path: &Path<'_>, message: String) {
        self.errors.push(FieldError { path: path.to_string(), message });
    }

    /// Reports a problem at a path given as text.
    pub(crate) fn error_at(&mut self, path: &str, message: String) {
        self.errors.push(FieldError { path: path.to_owned(), message });
    }

    /// Reports a repeated line number within one document.
    pub(crate) fn unique_lines(&mut self, path: &Path<'_>, lines: impl Iterator<Item = u32>) {
        let mut seen = HashSet::new();
        for (i, line) in lines.enumerate() {
            if !seen.insert(line) {
                self.error(&path.index(i).field("line"), format!("line number {line} appears more than once"));
            }
        }
    }

    /// Reports a list that must not be empty.
    pub(crate) fn non_empty<T>(&mut self, path: &Path<'_>, items: &[T], what: &str) {
        if items.is_empty() {
            self.error(path, format!("{what} needs at least one entry"));
        }
    }

    /// Reports free text that is empty or too long.
    pub(crate) fn text(&mut self, path: &Path<'_>, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.error(path, "must not be empty".to_owned());
        } else if value.chars().count() > max {
            self.error(path, format!("is longer than {max} characters"));
        }
    }
}

/// Longest event id or source accepted.
const ID_MAX: usize = 256;
/// Oldest and newest `occurred_at` accepted.
const YEAR_RANGE: std::ops::RangeInclusive<i32> = 1970..=9999;

/// Turns a JSON Pointer (`/data/lines/0`) into a JSONPath (`$.data.lines[0]`).
pub(crate) fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&segment);
            out.push(']');
        } else if segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !segment.is_empty() {
            out.push('.');
            out.push_str(&segment);
        } else {
            out.push_str(&format!("[{}]", serde_json::Value::String(segment)));
        }
    }
    out
}

fn string_field<'a>(c: &mut Checker, obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    let path = format!("$.{name}");
    match obj.get(name) {
        None => {
            c.error_at(&path, format!("missing required field `{name}`"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            c.error_at(&path, format!("must be a string, found {}", kind_of(other)));
            None
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_identifier(c: &mut Checker, path: &str, s: &str) {
    if s.is_empty() {
        c.error_at(path, "must not be empty".to_owned());
    } else if s.len() > ID_MAX {
        c.error_at(path, format!("is longer than {ID_MAX} bytes"));
    } else if s.chars().any(char::is_control) {
        c.error_at(path, "must not contain control characters".to_owned());
    }
}

/// Validates one event as received from a source (`{id, type, source, occurred_at, data}`) and
/// returns it typed, or every problem found, each with its JSON path.
pub fn validate_event(value: &Value) -> Result<NewEvent, Vec<FieldError>> {
    let mut c = Checker::default();
    let Value::Object(obj) = value else {
        c.error_at("$", format!("an event must be a JSON object, found {}", kind_of(value)));
        return Err(c.errors);
    };
    for key in obj.keys() {
        match key.as_str() {
            "id" | "type" | "source" | "occurred_at" | "data" => {}
            "seq" | "recorded_at" | "subject" => c.error_at(
                &format!("$.{key}"),
                format!("`{key}` is assigned by Backroom when the event is recorded; leave it out"),
            ),
            other => c.error_at(
                &pointer_to_path(&format!("/{other}")),
                "unknown field; an event has the fields id, type, source, occurred_at and data".to_owned(),
            ),
        }
    }
    let id = string_field(&mut c, obj, "id");
    if let Some(id) = id {
        check_identifier(&mut c, "$.id", id);
    }
    let source = string_field(&mut c, obj, "source");
    if let Some(source) = source {
        check_identifier(&mut c, "$.source", source);
    }
    let event_type = string_field(&mut c, obj, "type").and_then(|t| match EventType::parse(t) {
        Some(t) => Some(t),
        None => {
            c.error_at(
                "$.type",
                format!("unknown event type {t:?}; known types: {}", EventType::ALL.map(EventType::as_str).join(", ")),
            );
            None
        }
    });
    let occurred_at = string_field(&mut c, obj, "occurred_at").and_then(|s| match DateTime::parse_from_rfc3339(s) {
        Ok(t) => {
            let t = t.with_timezone(&Utc);
            let before = c.errors.len();
            check_time(&mut c, &Path::root("$.occurred_at"), &t);
            (c.errors.len() == before).then_some(t)
        }
        Err(e) => {
            c.error_at(
                "$.occurred_at",
                format!("{s:?} is not an RFC 3339 timestamp with an offset, such as 2026-11-23T09:30:00+01:00 ({e})"),
            );
            None
        }
    });
    let payload = match (obj.get("data"), event_type) {
        (None, _) => {
            c.error_at("$.data", "missing required field `data`".to_owned());
            None
        }
        (Some(data), Some(t)) => t.validate_data(data, &mut c),
        (Some(_), None) => None,
    };
    match (id, source, event_type, occurred_at, payload) {
        (Some(id), Some(source), Some(event_type), Some(occurred_at), Some(payload)) if c.errors.is_empty() => {
            Ok(NewEvent::new(id.to_owned(), event_type, source.to_owned(), occurred_at, payload))
        }
        _ if c.errors.is_empty() => {
            Err(vec![FieldError { path: "$".to_owned(), message: "the event could not be read".to_owned() }])
        }
        _ => Err(c.errors),
    }
}

/// Validates a batch: every event valid gives the typed batch, otherwise every problem of every
/// event, each paired with the index of its event in the batch.
pub fn validate_events(values: &[Value]) -> Result<Vec<NewEvent>, Vec<(usize, FieldError)>> {
    let mut ok = Vec::with_capacity(values.len());
    let mut errors = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match validate_event(value) {
            Ok(e) => ok.push(e),
            Err(es) => errors.extend(es.into_iter().map(|e| (i, e))),
        }
    }
    if errors.is_empty() { Ok(ok) } else { Err(errors) }
}

impl EventType {
    /// Checks `data` against this type's JSON Schema, then its business rules.
    fn validate_data(self, data: &Value, c: &mut Checker) -> Option<EventPayload> {
        match EventPayload::from_json(self, data) {
            // Typed reading enforces the schema's structure (types, required fields, enums, no
            // unknown fields) and the business rules check every value the schema constrains
            // (codes, GTINs, currencies, units), so a payload that passes both needs no walk of
            // the schema: that walk is kept for documents with problems.
            Ok(payload) => {
                let before = c.errors.len();
                payload.check(c, &Path::root("$.data"));
                (c.errors.len() == before).then_some(payload)
            }
            Err(e) => {
                let schema_errors: Vec<FieldError> = crate::catalogue::validator(self)
                    .iter_errors(data)
                    .map(|err| FieldError {
                        path: pointer_to_path(&format!("/data{}", err.instance_path())),
                        message: err.to_string(),
                    })
                    .collect();
                // The schema cannot express every limit of the typed model (a number too large
                // for its type, say): such a value is an error too, never a silent drop.
                if schema_errors.is_empty() {
                    let (path, message) =
                        EventPayload::locate_error(self, data).unwrap_or_else(|| ("".into(), e.to_string()));
                    let path =
                        if path.is_empty() || path == "." { "$.data".to_owned() } else { format!("$.data.{path}") };
                    c.error_at(&path, format!("cannot be read as {} data: {message}", self.as_str()));
                }
                c.errors.extend(schema_errors);
                None
            }
        }
    }
}

/// Checks that a timestamp lies in the accepted range (used for documents' own times).
pub(crate) fn check_time(c: &mut Checker, path: &Path<'_>, t: &DateTime<Utc>) {
    use chrono::Datelike;
    if !YEAR_RANGE.contains(&t.year()) {
        c.error(path, format!("{t} is outside the years 1970 to 9999"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_json_paths() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(pointer_to_path("/data/lines/0/item"), "$.data.lines[0].item");
        assert_eq!(pointer_to_path("/a b"), "$[\"a b\"]");
    }
}
