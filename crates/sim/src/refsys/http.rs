//! What every reference system shares over HTTP: the error body, request extraction, the
//! idempotent write transaction and the fault layer.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, body::Bytes};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::System;
use super::faults::{FaultState, Refusal};

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// State shared by the handlers of one reference system.
#[derive(Clone)]
pub(crate) struct AppState {
    /// Which system this is.
    pub system: System,
    /// Readers and the writer's connections.
    pub pool: SqlitePool,
    /// Serialises write transactions, so that a check and the change it guards see one state.
    pub writer: Arc<Mutex<()>>,
    /// Faults in force and their random stream.
    pub faults: Arc<std::sync::Mutex<FaultState>>,
}

/// An error answer: `{"error", "message", "field"}` with its HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>, field: Option<String>) -> Self {
        Self { status, code, message: message.into(), field, retry_after: None }
    }

    /// 422 `validation`: the request names something unknown or breaks a rule; `field` is the
    /// JSON path of the offending value.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message, Some(field.into()))
    }

    /// 422 `validation` about the state of a document rather than one request field.
    pub fn transition(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message, None)
    }

    /// 422 `insufficient_stock` on the quantity at `field`.
    pub fn insufficient_stock(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_stock", message, Some(field.into()))
    }

    /// 409 with a specific conflict code such as `duplicate_invoice`.
    pub fn conflict(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message, Some(field.into()))
    }

    /// 404 `not_found` for an unknown id in a GET path.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message, None)
    }

    /// 400 `bad_request`: the request cannot be read at all.
    pub fn bad_request(code: &'static str, message: impl Into<String>, field: Option<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, field)
    }

    /// 500 `internal`: the stored state could not be read or written.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message, None)
    }

    /// 503 `unavailable`, optionally with `Retry-After` seconds.
    pub fn unavailable(message: impl Into<String>, retry_after: Option<u64>) -> Self {
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message, None);
        error.retry_after = retry_after;
        error
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "reference system database error");
        ApiError::internal(format!("database error: {error}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "message": self.message, "field": self.field});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Why a write handler stops early: an error, or a repeated `Idempotency-Key` whose stored
/// answer is returned as it was.
#[derive(Debug)]
pub(crate) enum Halt {
    /// An error answer.
    Error(ApiError),
    /// The stored answer to an earlier request with the same key.
    Replay(StatusCode, Value),
}

impl From<ApiError> for Halt {
    fn from(error: ApiError) -> Self {
        Halt::Error(error)
    }
}

impl From<sqlx::Error> for Halt {
    fn from(error: sqlx::Error) -> Self {
        Halt::Error(error.into())
    }
}

impl IntoResponse for Halt {
    fn into_response(self) -> Response {
        match self {
            Halt::Error(error) => error.into_response(),
            Halt::Replay(status, body) => {
                let mut response = (status, Json(body)).into_response();
                response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
                response
            }
        }
    }
}

/// The result of a write handler.
pub(crate) type Answer = Result<Response, Halt>;

/// The result of a read handler.
pub(crate) type Reading = Result<Json<Value>, ApiError>;

/// A write request: its JSON body, parsed into `T`, and what identifies it for idempotency.
pub(crate) struct Command<T> {
    /// The parsed body.
    pub body: T,
    key: Option<String>,
    fingerprint: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Command<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let key = match req.headers().get("idempotency-key") {
            None => None,
            Some(value) => {
                let key = value.to_str().ok().map(str::trim).unwrap_or_default();
                if key.is_empty() || key.len() > MAX_KEY_LEN {
                    return Err(ApiError::bad_request(
                        "invalid_idempotency_key",
                        format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
                        Some("Idempotency-Key".to_string()),
                    ));
                }
                Some(key.to_string())
            }
        };
        let target = format!("{} {}", req.method(), req.uri().path());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request("bad_request", format!("cannot read the request body: {e}"), None))?;
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"), None)
            })?
        };
        let fingerprint = format!("{target}\n{}", serde_json::to_string(&value).unwrap_or_default());
        let body = serde_json::from_value::<T>(value).map_err(|e| shape_error(&e))?;
        Ok(Command { body, key, fingerprint })
    }
}

/// Turns a serde error about the body's shape into a 422 naming the field where serde says which.
fn shape_error(error: &serde_json::Error) -> ApiError {
    let message = error.to_string();
    let field = message
        .split_once("field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| "$".to_string());
    ApiError::validation(field, format!("the body does not have the expected shape: {message}"))
}

/// Query-string parameters; a malformed query is a 400 in the shared error shape.
pub(crate) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::bad_request("bad_query", format!("invalid query string: {e}"), None))
    }
}

/// A write transaction that records its answer under the request's `Idempotency-Key`.
///
/// Dropping it without [`Change::commit`] rolls the change back and records nothing, so a request
/// that failed may be retried with the same key.
pub(crate) struct Change {
    tx: Transaction<'static, Sqlite>,
    _writer: OwnedMutexGuard<()>,
    key: Option<String>,
    fingerprint: String,
}

impl Change {
    /// Takes the writer, begins a transaction and looks the key up: a known key with the same
    /// request halts with the stored answer, with a different request halts with 422.
    pub async fn begin<T>(state: &AppState, command: &Command<T>) -> Result<Change, Halt> {
        let writer = Arc::clone(&state.writer).lock_owned().await;
        let mut tx = state.pool.begin().await?;
        if let Some(key) = &command.key {
            let stored: Option<(String, i64, String)> =
                sqlx::query_as("SELECT fingerprint, status, body FROM idempotency_keys WHERE key = ?1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((fingerprint, status, body)) = stored {
                if fingerprint != command.fingerprint {
                    return Err(Halt::Error(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency_key_reused",
                        "this Idempotency-Key was already used for a different request; use a new key",
                        Some("Idempotency-Key".to_string()),
                    )));
                }
                let status = u16::try_from(status)
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .ok_or_else(|| ApiError::internal("stored idempotent answer has an invalid status"))?;
                let body = serde_json::from_str(&body)
                    .map_err(|e| ApiError::internal(format!("stored idempotent answer is not JSON: {e}")))?;
                return Err(Halt::Replay(status, body));
            }
        }
        Ok(Change { tx, _writer: writer, key: command.key.clone(), fingerprint: command.fingerprint.clone() })
    }

    /// The transaction's connection.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// Records the answer under the key (if any) and commits, in one transaction.
    pub async fn commit(mut self, status: StatusCode, body: Value) -> Answer {
        if let Some(key) = &self.key {
            sqlx::query(
                "INSERT INTO idempotency_keys (key, fingerprint, status, body, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(key)
            .bind(&self.fingerprint)
            .bind(i64::from(status.as_u16()))
            .bind(body.to_string())
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *self.tx)
            .await?;
        }
        self.tx.commit().await?;
        Ok((status, Json(body)).into_response())
    }
}

/// The fault layer in front of `/api`: adds latency, refuses with 503 during an outage or on a
/// random error. A refused request never reaches its handler, so it changes nothing.
pub(crate) async fn inject_faults(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let verdict = {
        let mut faults = state.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        faults.judge(chrono::Utc::now())
    };
    if verdict.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(verdict.delay_ms)).await;
    }
    match verdict.refuse {
        Some(Refusal::Outage { retry_after_secs }) => ApiError::unavailable(
            format!("the {} is down for maintenance; retry in {retry_after_secs} s", state.system.title()),
            Some(retry_after_secs),
        )
        .into_response(),
        Some(Refusal::Error) => {
            ApiError::unavailable(format!("the {} is temporarily unavailable", state.system.title()), None)
                .into_response()
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_errors_name_the_missing_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Transfer {
            from: String,
            to: String,
        }
        let error = serde_json::from_value::<Transfer>(json!({"from": "S001"})).unwrap_err();
        let api = shape_error(&error);
        assert_eq!(api.field.as_deref(), Some("to"));
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
