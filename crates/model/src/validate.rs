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

/// Collects problems while walking a document.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) errors: Vec<FieldError>,
}

impl Checker {
    pub(crate) fn error(&mut self, path: &str, message: String) {
        self.errors.push(FieldError { path: path.to_owned(), message });
    }

    /// Reports a repeated line number within one document.
    pub(crate) fn unique_lines(&mut self, path: &str, lines: impl Iterator<Item = u32>) {
        let mut seen = HashSet::new();
        for (i, line) in lines.enumerate() {
            if !seen.insert(line) {
                self.error(&format!("{path}[{i}].line"), format!("line number {line} appears more than once"));
            }
        }
    }

    /// Reports a list that must not be empty.
    pub(crate) fn non_empty<T>(&mut self, path: &str, items: &[T], what: &str) {
        if items.is_empty() {
            self.error(path, format!("{what} needs at least one entry"));
        }
    }

    /// Reports free text that is empty or too long.
    pub(crate) fn text(&mut self, path: &str, value: &str, max: usize) {
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
            c.error(&path, format!("missing required field `{name}`"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            c.error(&path, format!("must be a string, found {}", kind_of(other)));
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
        c.error(path, "must not be empty".to_owned());
    } else if s.len() > ID_MAX {
        c.error(path, format!("is longer than {ID_MAX} bytes"));
    } else if s.chars().any(char::is_control) {
        c.error(path, "must not contain control characters".to_owned());
    }
}

/// Validates one event as received from a source (`{id, type, source, occurred_at, data}`) and
/// returns it typed, or every problem found, each with its JSON path.
pub fn validate_event(value: &Value) -> Result<NewEvent, Vec<FieldError>> {
    let mut c = Checker::default();
    let Value::Object(obj) = value else {
        c.error("$", format!("an event must be a JSON object, found {}", kind_of(value)));
        return Err(c.errors);
    };
    for key in obj.keys() {
        match key.as_str() {
            "id" | "type" | "source" | "occurred_at" | "data" => {}
            "seq" | "recorded_at" | "subject" => c.error(
                &format!("$.{key}"),
                format!("`{key}` is assigned by Backroom when the event is recorded; leave it out"),
            ),
            other => c.error(
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
            c.error(
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
            check_time(&mut c, "$.occurred_at", &t);
            (c.errors.len() == before).then_some(t)
        }
        Err(e) => {
            c.error(
                "$.occurred_at",
                format!("{s:?} is not an RFC 3339 timestamp with an offset, such as 2026-11-23T09:30:00+01:00 ({e})"),
            );
            None
        }
    });
    let payload = match (obj.get("data"), event_type) {
        (None, _) => {
            c.error("$.data", "missing required field `data`".to_owned());
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
        let schema_errors: Vec<FieldError> = crate::catalogue::validator(self)
            .iter_errors(data)
            .map(|err| FieldError {
                path: pointer_to_path(&format!("/data{}", err.instance_path())),
                message: err.to_string(),
            })
            .collect();
        // A value that breaks only a pattern still deserialises: check its business rules too,
        // so that one response lists every problem. Where both report the same field, the
        // business rule's message (which says what is accepted) wins.
        let payload = match EventPayload::from_json(self, data) {
            Ok(payload) => payload,
            Err(e) => {
                // The schema cannot express every limit of the typed model (a number too large
                // for its type, say): such a value is an error too, never a silent drop.
                if schema_errors.is_empty() {
                    let (path, message) =
                        EventPayload::locate_error(self, data).unwrap_or_else(|| ("".into(), e.to_string()));
                    let path =
                        if path.is_empty() || path == "." { "$.data".to_owned() } else { format!("$.data.{path}") };
                    c.error(&path, format!("cannot be read as {} data: {message}", self.as_str()));
                }
                c.errors.extend(schema_errors);
                return None;
            }
        };
        let mut rules = Checker::default();
        payload.check(&mut rules, "$.data");
        let ok = schema_errors.is_empty() && rules.errors.is_empty();
        c.errors.extend(schema_errors.into_iter().filter(|s| !rules.errors.iter().any(|r| r.path == s.path)));
        c.errors.extend(rules.errors);
        ok.then_some(payload)
    }
}

/// Checks that a timestamp lies in the accepted range (used for documents' own times).
pub(crate) fn check_time(c: &mut Checker, path: &str, t: &DateTime<Utc>) {
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
