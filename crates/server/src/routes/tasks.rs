//! The task inbox: list, read, claim, decide.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use backroom_store::{TaskQuery, TaskRecord};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::delegations::{covers, is_admin};
use super::{ApiPath, ApiQuery, check_json_text, check_text, json_body, parse_limit, parse_time};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::permissions::{Action, authorize, location_filter};
use backroom_engine::core::Delegated;

/// The `status` filter's values; `open` includes claimed tasks.
pub const STATUSES: [&str; 5] = ["open", "claimed", "decided", "cancelled", "all"];

/// Filters on the task inbox.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskParams {
    /// Only tasks for this role, such as `store_manager`.
    pub role: Option<String>,
    /// Only tasks at this location code or any location below it in the hierarchy.
    pub location: Option<String>,
    /// `open` (the default: open and claimed tasks), `claimed`, `decided`, `cancelled` or `all`.
    pub status: Option<String>,
    /// Only tasks due before this RFC 3339 time.
    pub due_before: Option<String>,
    /// At most this many, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
}

/// A human task.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TaskView {
    /// Its id.
    id: String,
    /// The instance it belongs to.
    instance: String,
    /// The workflow.
    workflow: String,
    /// The step that opened it.
    step: String,
    /// The role that decides it.
    role: String,
    /// The location it is scoped to; none for the whole company.
    location: Option<String>,
    /// `open`, `claimed`, `decided` or `cancelled`.
    status: String,
    /// Higher first.
    priority: i64,
    /// What to decide.
    title: String,
    /// When it is due.
    due_at: Option<DateTime<Utc>>,
    /// Whether the due time passed while it was open.
    overdue: bool,
    /// Escalation rungs passed.
    escalation_level: i64,
    /// What the decider sees.
    evidence: Value,
    /// The allowed outcomes: `[{name, fields: [{name, type, required}]}]`.
    outcomes: Value,
    /// Who claimed it.
    claimed_by: Option<String>,
    /// Who decided it.
    decided_by: Option<String>,
    /// When it was decided.
    decided_at: Option<DateTime<Utc>>,
    /// The outcome chosen.
    outcome: Option<String>,
    /// The last reminder.
    reminded_at: Option<DateTime<Utc>>,
    /// When it was opened.
    created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
}

/// A page of the inbox.
#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    /// Highest priority first, then the earliest due (tasks without a due time last).
    #[schema(value_type = Vec<TaskView>)]
    pub tasks: Vec<TaskRecord>,
}

/// Read the task inbox.
///
/// Tasks sorted by priority, then due time. `location` takes the location and everything below
/// it. A key with location scopes sees only the tasks of its scopes and the locations below them.
#[utoipa::path(
    get,
    path = "/v1/tasks",
    operation_id = "list_tasks",
    tag = "tasks",
    params(TaskParams),
    responses(
        (status = 200, description = "The inbox", body = TaskPage),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read tasks", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(p): ApiQuery<TaskParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let status = match p.status.as_deref() {
        None | Some("open") => Some("open".to_owned()),
        Some("all") => None,
        Some(s) if STATUSES.contains(&s) => Some(s.to_owned()),
        Some(s) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("`status` must be one of {}, got {s:?}", STATUSES.join(", ")),
            ));
        }
    };
    let locations = location_filter(&state.engine, &caller, Action::ReadTasks, p.location.as_deref())?;
    let q = TaskQuery {
        role: p.role,
        locations,
        status,
        due_before: parse_time("due_before", p.due_before.as_deref())?,
        instance: None,
        limit: parse_limit(p.limit, 100, 1000)?,
    };
    Ok(Json(TaskPage { tasks: state.store.tasks(&q).await? }))
}

/// The task, when the caller may perform `action` on it (its location weighed).
async fn task_for(state: &AppState, caller: &Caller, action: Action, id: &str) -> Result<TaskRecord, ApiError> {
    let task = state
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no task has the id {id:?}")))?;
    authorize(&state.engine, caller, action, task.location.as_deref())?;
    Ok(task)
}

/// Whether the caller may claim or decide `task`: they must hold its role (or be an admin) at a
/// scope covering its location, directly (`None`) or through a delegation in force now (the
/// delegation).
async fn authority(state: &AppState, caller: &Caller, task: &TaskRecord) -> Result<Option<Delegated>, ApiError> {
    let location = task.location.as_deref();
    let direct = caller.grants.iter().any(|g| {
        (g.role == backroom_model::Role::Admin || g.role.as_str() == task.role)
            && covers(&state.engine, g.scope.as_deref(), location)
    });
    if direct {
        return Ok(None);
    }
    let now = state.engine.now();
    let delegations = state.engine.delegations(Some(&caller.name)).await?;
    let through = delegations
        .iter()
        .find(|d| d.role == task.role && d.is_active(now) && covers(&state.engine, d.scope.as_deref(), location));
    if let Some(d) = through {
        return Ok(Some(Delegated { delegator: d.from.clone(), delegation: d.id.clone() }));
    }
    let at = location.map_or_else(|| "company-wide".to_owned(), |l| format!("at {l}"));
    Err(ApiError::new(
        ErrorCode::Forbidden,
        format!(
            "task {} is for the role {} {at}; {:?} holds {} and no delegation of that role in force now",
            task.id,
            task.role,
            caller.name,
            caller.grants_text()
        ),
    ))
}

/// The task, when the caller may act on it as its decider; with the delegation they act through.
async fn decider_for(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: &str,
) -> Result<(TaskRecord, Option<Delegated>), ApiError> {
    let task = state
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no task has the id {id:?}")))?;
    if is_admin(caller) {
        authorize(&state.engine, caller, action, task.location.as_deref())?;
        return Ok((task, None));
    }
    let through = authority(state, caller, &task).await?;
    Ok((task, through))
}

/// Read a task.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}",
    operation_id = "get_task",
    tag = "tasks",
    params(("id" = String, Path, description = "The task id")),
    responses(
        (status = 200, description = "The task", body = TaskView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read this task", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskRecord>, ApiError> {
    Ok(Json(task_for(&state, &caller, Action::ReadTasks, &id).await?))
}

/// Claim a task.
///
/// The caller's key name holds it: no one else may decide it until it is decided (or escalated).
/// Claiming a task one already holds changes nothing. The caller must hold the task's role at a
/// scope covering its location, or act through a delegation of it in force now; someone who
/// requested what the task approves, or approved an earlier level of its chain, is refused with
/// 403 `segregation_of_duties`.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/claim",
    operation_id = "claim_task",
    tag = "tasks",
    params(("id" = String, Path, description = "The task id")),
    responses(
        (status = 200, description = "The task, claimed", body = TaskView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not claim this task (`forbidden`), or segregation of duties \
            forbids it (`segregation_of_duties`)", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "Claimed by someone else, already decided, or the instance ended",
            body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskRecord>, ApiError> {
    let (_, through) = decider_for(&state, &caller, Action::ClaimTask, &id).await?;
    Ok(Json(state.engine.claim_task_as(&id, &caller.name, through).await?))
}

/// A decision on a task.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// One of the task's outcomes.
    pub outcome: String,
    /// The outcome's fields, by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// A comment, for the timeline.
    pub comment: Option<String>,
}

/// Decide a task.
///
/// Records the outcome, with its fields and a comment, under the caller's key name; the
/// instance moves on in the same transaction. An outcome the task does not allow, or a missing
/// or wrong field, is refused with 422 `task_refused`; a task claimed by someone else, already
/// decided, or of an ended instance with 409 `conflict`. The decider must hold the task's role at a
/// scope covering its location, or act through a delegation of it in force now (the decision is
/// then recorded as "bob for alice, delegation <id>"); segregation of duties refuses with 403
/// `segregation_of_duties` whoever requested what the task approves or approved an earlier level
/// of its chain, and a delegate acting for such a person.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/decision",
    operation_id = "decide_task",
    tag = "tasks",
    params(("id" = String, Path, description = "The task id")),
    request_body(content = DecisionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The task, decided", body = TaskView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not decide this task (`forbidden`), or segregation of duties \
            forbids it (`segregation_of_duties`)", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "Claimed by someone else, already decided, or the instance ended",
            body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "The outcome or a field is refused (`task_refused`), or the body does not fit",
            body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TaskRecord>, ApiError> {
    let (_, through) = decider_for(&state, &caller, Action::DecideTask, &id).await?;
    let body: DecisionBody = json_body(&headers, &body, None)?;
    check_text("outcome", &body.outcome, false)?;
    if let Some(comment) = &body.comment {
        check_text("comment", comment, true)?;
    }
    for (name, value) in &body.fields {
        check_text("fields", name, false)?;
        check_json_text(&format!("fields.{name}"), value)?;
    }
    let task =
        state.engine.decide_task_as(&id, &body.outcome, body.fields, body.comment, &caller.name, through).await?;
    Ok(Json(task))
}
