//! The HTTP routes.

pub mod audit;
pub mod connectors;
pub mod dead_letters;
pub mod decisions;
pub mod delegations;
pub mod documents;
pub mod events;
pub mod instances;
pub mod locations;
pub mod meta;
pub mod policies;
pub mod projections;
pub mod tasks;
pub mod users;
pub mod webhooks;
pub mod workflows;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

/// Query-string extractor whose rejection is an `invalid_query` error in the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Codes never hold control characters; refusing them here keeps them (a NUL, say) away
        // from the database, which would fail rather than find nothing.
        if let Some(q) = parts.uri.query() {
            let decoded = percent_decoded(q);
            if decoded.iter().any(|b| b.is_ascii_control()) {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    "query parameters must not contain control characters",
                ));
            }
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

/// Path-parameter extractor: parameters are percent-decoded (so `%2F` in one segment is a `/`
/// inside the parameter); a path that holds control characters, or a parameter that does not
/// parse, names nothing and is answered `not_found` in the API's error shape.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if percent_decoded(parts.uri.path()).iter().any(|b| b.is_ascii_control()) {
            return Err(ApiError::new(ErrorCode::NotFound, "no resource has a name with control characters"));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("no resource at this path: {}", e.body_text())))
    }
}

/// The essence of the request's content type (`application/json` of
/// `application/json; charset=utf-8`), lower-case; empty when absent.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Reads a JSON request body as `T`. An empty body is `empty` when the body is optional (and
/// refused when it is not); a body needs `Content-Type: application/json`. Malformed JSON is
/// `malformed_json` (400) with the line and column; well-formed JSON of the wrong shape is
/// `validation_failed` (422).
pub(crate) fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    empty: Option<T>,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return empty
            .ok_or_else(|| ApiError::new(ErrorCode::ValidationFailed, "the request needs a JSON body; it is empty"));
    }
    match content_type(headers).as_str() {
        "application/json" => {}
        "" => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the request has no Content-Type: send application/json",
            ));
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("content type {other:?} is not accepted here: send application/json"),
            ));
        }
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

/// A serde_json error as the API answers it.
pub(crate) fn json_error(e: &serde_json::Error) -> ApiError {
    let text = e.to_string();
    let what = text.rfind(" at line ").map_or(text.as_str(), |i| &text[..i]);
    match e.classify() {
        serde_json::error::Category::Data => ApiError::new(
            ErrorCode::ValidationFailed,
            format!("the body does not fit this request at line {}, column {}: {what}", e.line(), e.column()),
        ),
        _ => ApiError::new(
            ErrorCode::MalformedJson,
            format!("malformed JSON at line {}, column {}: {what}", e.line(), e.column()),
        ),
    }
}

/// Refuses control characters (NUL above all, which the database cannot store) in a free-text
/// field; line breaks and tabs are allowed where `multiline`.
pub(crate) fn check_text(field: &str, text: &str, multiline: bool) -> Result<(), ApiError> {
    let bad = text.chars().find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    match bad {
        None => Ok(()),
        Some(c) => Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("`{field}` holds the control character U+{:04X}; send text without it", u32::from(c)),
        )),
    }
}

/// Refuses control characters other than line breaks and tabs in any string (or key) of a JSON
/// value.
pub(crate) fn check_json_text(field: &str, value: &Value) -> Result<(), ApiError> {
    match value {
        Value::String(s) => check_text(field, s, true),
        Value::Array(items) => items.iter().try_for_each(|v| check_json_text(field, v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check_text(field, k, false)?;
            check_json_text(field, v)
        }),
        _ => Ok(()),
    }
}

/// The bytes of a percent-encoded query string, decoded (`+` stays as is: it is not a control).
fn percent_decoded(q: &str) -> Vec<u8> {
    let bytes = q.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Parses an RFC 3339 query parameter.
pub(crate) fn parse_time(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v).map(|t| t.with_timezone(&Utc)).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("`{name}` must be an RFC 3339 time such as 2026-11-23T00:00:00Z, got {v:?}: {e}"),
                )
            })
        })
        .transpose()
}

/// Checks a `limit` parameter.
pub(crate) fn parse_limit(value: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match value {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(ErrorCode::InvalidQuery, format!("`limit` must be between 1 and {max}, got {n}"))),
    }
}
