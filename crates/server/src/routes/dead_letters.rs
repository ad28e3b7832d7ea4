//! The dead-letter list: actions whose delivery failed for good, and what a person does about
//! them (retry, skip, compensate).

use axum::Json;
use axum::extract::{Extension, State};
use backroom_engine::runner::DeadLetterAction;
use backroom_store::OutboxRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{ApiPath, ApiQuery, parse_limit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// An action in the outbox.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OutboxView {
    /// The idempotency key, `instance/step`: sent to the system with every delivery.
    key: String,
    /// The instance.
    instance: String,
    /// The connector.
    connector: String,
    /// The operation.
    operation: String,
    /// The request.
    payload: Value,
    /// `pending`, `delivered`, `failed`, `dead`, `skipped` or `abandoned`.
    status: String,
    /// Deliveries tried.
    attempts: i64,
    /// Deliveries allowed before it fails.
    max_attempts: i64,
    /// The first backoff, in milliseconds.
    backoff_ms: i64,
    /// The longest backoff, in milliseconds.
    max_interval_ms: i64,
    /// When the next delivery may be tried.
    next_attempt_at: DateTime<Utc>,
    /// The last failure.
    last_error: Option<String>,
    /// The system's answer.
    response: Option<Value>,
    /// When it was queued.
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
}

/// Filters on the dead-letter list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterParams {
    /// Only the dead letters of this instance.
    pub instance: Option<String>,
    /// At most this many, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
}

/// The dead-letter list.
#[derive(Serialize, ToSchema)]
pub struct DeadLetterPage {
    /// Actions in status `dead`, oldest first. Their instances are `blocked` until a person
    /// retries, skips or compensates them.
    #[schema(value_type = Vec<OutboxView>)]
    pub dead_letters: Vec<OutboxRecord>,
}

/// List dead letters.
///
/// Actions whose delivery failed permanently (or ran out of retries) and had no `on_error`
/// route; each blocks its instance.
#[utoipa::path(
    get,
    path = "/v1/dead-letters",
    operation_id = "list_dead_letters",
    tag = "dead letters",
    params(DeadLetterParams),
    responses(
        (status = 200, description = "The dead letters, oldest first", body = DeadLetterPage),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read dead letters", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<DeadLetterParams>,
) -> Result<Json<DeadLetterPage>, ApiError> {
    let limit = parse_limit(p.limit, 100, 1000)?;
    let dead_letters = state.store.outbox(p.instance.as_deref(), Some("dead"), limit).await?;
    Ok(Json(DeadLetterPage { dead_letters }))
}

async fn resolve(
    state: &AppState,
    caller: &Caller,
    key: &str,
    action: DeadLetterAction,
) -> Result<Json<OutboxRecord>, ApiError> {
    let entry = state.engine.resolve_dead_letter(key, action, &caller.name).await?;
    tracing::info!(key = %key, action = ?action, by = %caller.name, "dead letter resolved");
    Ok(Json(entry))
}

/// Retry a dead letter.
///
/// The action is delivered again (with the same idempotency key) and its instance resumes. The
/// key is `instance/step`: send its `/` percent-encoded as `%2F` so that the key is one path
/// segment, e.g. `/v1/dead-letters/0190…%2Ftransfer/retry`.
#[utoipa::path(
    post,
    path = "/v1/dead-letters/{key}/retry",
    operation_id = "retry_dead_letter",
    tag = "dead letters",
    params(
        ("key" = String, Path, description = "The action's idempotency key, `instance/step`, with `/` sent as `%2F`"),
    ),
    responses(
        (status = 200, description = "The outbox entry, pending again", body = OutboxView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not resolve dead letters", body = ErrorBody),
        (status = 404, description = "No outbox entry has this key", body = ErrorBody),
        (status = 409, description = "The entry is not a dead letter (any more)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn retry(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<OutboxRecord>, ApiError> {
    resolve(&state, &caller, &key, DeadLetterAction::Retry).await
}

/// Skip a dead letter.
///
/// The instance goes on as if the action had succeeded (with an empty answer); the timeline
/// records who skipped it. The key is `instance/step` with `/` sent as `%2F`.
#[utoipa::path(
    post,
    path = "/v1/dead-letters/{key}/skip",
    operation_id = "skip_dead_letter",
    tag = "dead letters",
    params(
        ("key" = String, Path, description = "The action's idempotency key, `instance/step`, with `/` sent as `%2F`"),
    ),
    responses(
        (status = 200, description = "The outbox entry, skipped", body = OutboxView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not resolve dead letters", body = ErrorBody),
        (status = 404, description = "No outbox entry has this key", body = ErrorBody),
        (status = 409, description = "The entry is not a dead letter (any more)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn skip(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<OutboxRecord>, ApiError> {
    resolve(&state, &caller, &key, DeadLetterAction::Skip).await
}

/// Compensate a dead letter.
///
/// The instance fails and the actions that took effect before are undone (their compensations
/// run). The key is `instance/step` with `/` sent as `%2F`.
#[utoipa::path(
    post,
    path = "/v1/dead-letters/{key}/compensate",
    operation_id = "compensate_dead_letter",
    tag = "dead letters",
    params(
        ("key" = String, Path, description = "The action's idempotency key, `instance/step`, with `/` sent as `%2F`"),
    ),
    responses(
        (status = 200, description = "The outbox entry, abandoned", body = OutboxView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not resolve dead letters", body = ErrorBody),
        (status = 404, description = "No outbox entry has this key", body = ErrorBody),
        (status = 409, description = "The entry is not a dead letter (any more)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn compensate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<OutboxRecord>, ApiError> {
    resolve(&state, &caller, &key, DeadLetterAction::Compensate).await
}
