//! The HTTP routes.

pub mod events;
pub mod meta;
pub mod projections;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

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
