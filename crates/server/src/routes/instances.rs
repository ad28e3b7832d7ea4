//! Workflow instances: list, read with the timeline, cancel.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use backroom_store::{HistoryRecord, InboxRecord, InstanceQuery, InstanceRecord, OutboxRecord, TaskQuery, TaskRecord};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::dead_letters::OutboxView;
use super::tasks::TaskView;
use super::{ApiPath, ApiQuery, check_text, json_body, parse_limit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::permissions::{Action, outside_scope, visible_locations};

/// The statuses an instance can have.
pub const STATUSES: [&str; 6] = ["running", "blocked", "compensating", "completed", "failed", "cancelled"];

/// Filters on instances.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InstanceParams {
    /// Only instances of this workflow id.
    pub workflow: Option<String>,
    /// Only instances in this status: `running`, `blocked`, `compensating`, `completed`, `failed`
    /// or `cancelled`.
    pub status: Option<String>,
    /// Only instances with this correlation key.
    pub key: Option<String>,
    /// At most this many, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
}

/// A workflow instance.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct InstanceView {
    /// Its id.
    id: String,
    /// The workflow id.
    workflow: String,
    /// The workflow version it runs on.
    version: i64,
    /// `running`, `blocked` (an action is a dead letter), `compensating`, `completed`, `failed`
    /// or `cancelled`.
    status: String,
    /// Whether it is still open.
    is_open: bool,
    /// Its correlation key: events with this key reach it while it is open.
    correlation_key: Option<String>,
    /// The outcome of the end it reached.
    outcome: Option<String>,
    /// The executor's state: tokens, context (`event`, `inputs`, `steps`), tasks, actions.
    state: Value,
    /// Transitions persisted.
    rev: i64,
    /// The `seq` of the event that started it.
    trigger_seq: Option<i64>,
    /// When it started.
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
}

/// Instances, newest first.
#[derive(Serialize, ToSchema)]
pub struct InstancePage {
    /// The instances, newest first.
    #[schema(value_type = Vec<InstanceView>)]
    pub instances: Vec<InstanceRecord>,
}

/// One line of an instance's timeline.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TimelineEntry {
    /// Its number within the instance, from 1.
    n: i64,
    /// When.
    at: DateTime<Utc>,
    /// What: `started`, `step_completed`, `branch_taken`, `task_opened`, `task_decided`,
    /// `action_sent`, `cancelled`, …
    kind: String,
    /// The step it is about.
    step: Option<String>,
    /// The person (API key name) or system that acted.
    actor: Option<String>,
    /// Details: a step's output, a decision table's matched rules (`matched`), an error, a key.
    data: Option<Value>,
}

/// A command or timer waiting for an instance.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PendingView {
    /// Its id.
    id: String,
    /// The instance.
    instance: String,
    /// When it is due.
    due_at: DateTime<Utc>,
    /// The command: a correlated event, a timer (due time, escalation, reminder, timeout), …
    command: Value,
}

/// An instance with everything that happened to it and everything it waits for.
#[derive(Serialize, ToSchema)]
pub struct InstanceDetail {
    /// The instance.
    #[schema(value_type = InstanceView)]
    pub instance: InstanceRecord,
    /// Its history, in order.
    #[schema(value_type = Vec<TimelineEntry>)]
    pub timeline: Vec<HistoryRecord>,
    /// Its tasks, highest priority then earliest due first.
    #[schema(value_type = Vec<TaskView>)]
    pub tasks: Vec<TaskRecord>,
    /// Its actions in the outbox (deliveries), oldest first.
    #[schema(value_type = Vec<OutboxView>)]
    pub outbox: Vec<OutboxRecord>,
    /// Commands and timers waiting for it, with their due times.
    #[schema(value_type = Vec<PendingView>)]
    pub pending: Vec<InboxRecord>,
}

/// List instances.
///
/// Newest first, filtered by workflow, status and correlation key.
#[utoipa::path(
    get,
    path = "/v1/instances",
    operation_id = "list_instances",
    tag = "instances",
    params(InstanceParams),
    responses(
        (status = 200, description = "Instances, newest first", body = InstancePage),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read instances", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(p): ApiQuery<InstanceParams>,
) -> Result<Json<InstancePage>, ApiError> {
    if let Some(s) = &p.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`status` must be one of {}, got {s:?}", STATUSES.join(", ")),
        ));
    }
    let q = InstanceQuery {
        workflow: p.workflow,
        status: p.status,
        key: p.key,
        id: None,
        within: visible_locations(&state.engine, &caller, Action::ReadInstances),
        limit: parse_limit(p.limit, 100, 1000)?,
    };
    Ok(Json(InstancePage { instances: state.store.instances(&q).await? }))
}

/// Read an instance with its timeline.
///
/// The instance, its timeline (every history line with its time, actor, step and data — a
/// decision table's matched rules are in `data.matched`), its tasks, its outbox deliveries and
/// the commands and timers it waits for.
#[utoipa::path(
    get,
    path = "/v1/instances/{id}",
    operation_id = "get_instance",
    tag = "instances",
    params(("id" = String, Path, description = "The instance id")),
    responses(
        (status = 200, description = "The instance and its timeline", body = InstanceDetail),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read instances", body = ErrorBody),
        (status = 404, description = "No such instance", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstanceDetail>, ApiError> {
    let instance = state.engine.instance(&id).await?;
    check_scope(&state, &caller, Action::ReadInstances, &id).await?;
    let tasks = TaskQuery { instance: Some(id.clone()), limit: 1000, ..Default::default() };
    let (timeline, tasks, outbox, pending) = tokio::try_join!(
        state.store.history(&id),
        state.store.tasks(&tasks),
        state.store.outbox(Some(&id), None, 1000),
        state.store.inbox(&id),
    )?;
    Ok(Json(InstanceDetail { instance, timeline, tasks, outbox, pending }))
}

/// Why an instance is cancelled.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// The reason, for the timeline.
    pub reason: Option<String>,
}

/// Cancel an instance.
///
/// Its open tasks are cancelled and the actions that took effect are compensated. The timeline
/// records the caller's key name and the reason. The body is optional.
#[utoipa::path(
    post,
    path = "/v1/instances/{id}/cancel",
    operation_id = "cancel_instance",
    tag = "instances",
    params(("id" = String, Path, description = "The instance id")),
    request_body(content = CancelBody, content_type = "application/json", description = "Optional"),
    responses(
        (status = 200, description = "The instance after the cancellation", body = InstanceView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not cancel instances", body = ErrorBody),
        (status = 404, description = "No such instance", body = ErrorBody),
        (status = 409, description = "The instance has ended", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "The body does not fit", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<InstanceRecord>, ApiError> {
    state.engine.instance(&id).await?;
    check_scope(&state, &caller, Action::CancelInstance, &id).await?;
    let body: CancelBody = json_body(&headers, &body, Some(CancelBody::default()))?;
    if let Some(reason) = &body.reason {
        check_text("reason", reason, true)?;
    }
    let record = state.engine.cancel(&id, &caller.name, body.reason).await?;
    Ok(Json(record))
}

/// Refuses an instance outside the caller's scopes for `action`: an instance is at the
/// locations its trigger event names.
async fn check_scope(state: &AppState, caller: &Caller, action: Action, id: &str) -> Result<(), ApiError> {
    let Some(within) = visible_locations(&state.engine, caller, action) else {
        return Ok(());
    };
    let q = InstanceQuery { id: Some(id.to_owned()), within: Some(within), limit: 1, ..Default::default() };
    if state.store.instances(&q).await?.is_empty() {
        return Err(outside_scope(caller, action, "an instance started by an event elsewhere"));
    }
    Ok(())
}
