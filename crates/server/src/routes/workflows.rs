//! Workflow definitions: list, upload, validate, read versions, activate and deactivate.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use backroom_engine::workflow::{Problem, Problems};
use backroom_store::DefinitionRecord;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiPath, content_type, json_body};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};

/// The file name problems of a posted definition carry.
pub const UPLOAD: &str = "upload";

/// The content types a definition may be posted as, besides JSON.
const YAML_TYPES: [&str; 4] = ["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"];

/// A definition posted as JSON.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    /// The definition's YAML text.
    pub source: String,
}

/// A saved version of a workflow definition, with its text.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DefinitionView {
    /// The workflow id.
    workflow: String,
    /// The version, from 1.
    version: i64,
    /// The title.
    title: String,
    /// The YAML text.
    source: String,
    /// Hex SHA-256 of the text.
    digest: String,
    /// Whether new instances may start on it.
    active: bool,
    /// When it was saved.
    created_at: DateTime<Utc>,
    /// The API key (or `backroom` for a built-in definition) that saved it.
    created_by: Option<String>,
}

/// One version in a workflow's list (without its text).
#[derive(Serialize, ToSchema)]
pub struct VersionSummary {
    /// The version, from 1.
    pub version: i64,
    /// The title of this version.
    pub title: String,
    /// Hex SHA-256 of the text.
    pub digest: String,
    /// Whether new instances may start on it.
    pub active: bool,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Who saved it.
    pub created_by: Option<String>,
}

/// A workflow and its versions.
#[derive(Serialize, ToSchema)]
pub struct WorkflowSummary {
    /// The workflow id.
    pub id: String,
    /// The title of its newest version.
    pub title: String,
    /// The newest active version: the one new instances start on; none when every version is
    /// inactive.
    pub active_version: Option<i64>,
    /// The newest version.
    pub latest_version: i64,
    /// Every version, oldest first.
    pub versions: Vec<VersionSummary>,
}

impl WorkflowSummary {
    /// The summary of one workflow's records (in version order; not empty).
    fn of(records: &[DefinitionRecord]) -> Option<Self> {
        let newest = records.iter().max_by_key(|r| r.version)?;
        Some(WorkflowSummary {
            id: newest.workflow.clone(),
            title: newest.title.clone(),
            active_version: records.iter().filter(|r| r.active).map(|r| r.version).max(),
            latest_version: newest.version,
            versions: records
                .iter()
                .map(|r| VersionSummary {
                    version: r.version,
                    title: r.title.clone(),
                    digest: r.digest.clone(),
                    active: r.active,
                    created_at: r.created_at,
                    created_by: r.created_by.clone(),
                })
                .collect(),
        })
    }
}

/// Every workflow.
#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    /// The workflows, by id.
    pub workflows: Vec<WorkflowSummary>,
}

/// A definition that passed validation.
#[derive(Serialize, ToSchema)]
pub struct Validated {
    /// Always `true` (an invalid definition is answered 422 `definition_invalid`).
    pub valid: bool,
    /// The workflow id it declares.
    pub workflow: String,
    /// Its title.
    pub title: String,
    /// The event type that starts it.
    pub trigger: String,
    /// How many steps it has.
    pub steps: usize,
}

/// The (line, column) of a byte offset in a text, 1-based.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn problem_at(text: &str, offset: usize, message: String) -> ApiError {
    let (line, column) = position(text, offset);
    ApiError::definition_invalid(&Problems(vec![Problem {
        file: UPLOAD.to_owned(),
        line,
        column,
        step: None,
        message,
    }]))
}

/// The definition's text from a request body: YAML as it is, or JSON `{"source": "…"}`.
pub fn definition_source(headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let essence = content_type(headers);
    let source = if YAML_TYPES.contains(&essence.as_str()) {
        match std::str::from_utf8(body) {
            Ok(s) => s.to_owned(),
            Err(e) => {
                let valid = String::from_utf8_lossy(&body[..e.valid_up_to()]).into_owned();
                return Err(problem_at(&valid, valid.len(), "the definition is not UTF-8 text".to_owned()));
            }
        }
    } else if essence == "application/json" {
        json_body::<SourceBody>(headers, body, None)?.source
    } else {
        let got = if essence.is_empty() { "no Content-Type".to_owned() } else { format!("content type {essence:?}") };
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "{got}: send the definition as application/yaml (or text/yaml), or as application/json {{\"source\": \"…\"}}"
            ),
        ));
    };
    if let Some(offset) = source.find(|c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        let c = source[offset..].chars().next().map_or(0, u32::from);
        return Err(problem_at(
            &source,
            offset,
            format!("the control character U+{c:04X} is not allowed in a definition"),
        ));
    }
    Ok(source)
}

/// List workflows.
///
/// Every saved workflow with its versions, which of them are active, and the newest active
/// version (the one new instances start on).
#[utoipa::path(
    get,
    path = "/v1/workflows",
    operation_id = "list_workflows",
    tag = "workflows",
    responses(
        (status = 200, description = "Every workflow", body = WorkflowList),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read workflows", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<WorkflowList>, ApiError> {
    let records = state.store.definitions(None).await?;
    let workflows = records.chunk_by(|a, b| a.workflow == b.workflow).filter_map(WorkflowSummary::of).collect();
    Ok(Json(WorkflowList { workflows }))
}

/// Upload a workflow definition.
///
/// The body is the definition's YAML text (`Content-Type: application/yaml` or `text/yaml`), or
/// JSON `{"source": "…"}`. The definition is checked whole: when it is not valid, the answer is
/// 422 `definition_invalid` listing every problem with its file, line, column and step, and
/// nothing is saved. A text that differs from the workflow's newest version is saved as a new
/// version, active at once (201); the same text again answers the newest version unchanged (200).
#[utoipa::path(
    post,
    path = "/v1/workflows",
    operation_id = "upload_workflow",
    tag = "workflows",
    request_body(
        description = "The definition: YAML, or JSON with the YAML in `source`",
        content(
            (String = "application/yaml"),
            (String = "text/yaml"),
            (SourceBody = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "Saved as a new version (active)", body = DefinitionView,
            headers(("Location" = String, description = "The version's URL"))),
        (status = 200, description = "The same text as the newest version: unchanged", body = DefinitionView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not edit workflows", body = ErrorBody),
        (status = 413, description = "Body larger than max_body_bytes", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "The definition is not valid: `problems` lists each", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let source = definition_source(&headers, &body)?;
    let (mut record, new) = state.engine.save_definition(&source, Some(&caller.name)).await?;
    // The store keeps microseconds; answer the time as it will be read back.
    record.created_at = record.created_at.trunc_subsecs(6);
    if !new {
        return Ok(Json(record).into_response());
    }
    let mut response = (StatusCode::CREATED, Json(&record)).into_response();
    if let Ok(url) = HeaderValue::from_str(&format!("/v1/workflows/{}/versions/{}", record.workflow, record.version)) {
        response.headers_mut().insert(header::LOCATION, url);
    }
    Ok(response)
}

/// Validate a workflow definition without saving it.
///
/// Takes the same bodies as `POST /v1/workflows`. Answers 200 `{valid: true, …}` or 422
/// `definition_invalid` listing every problem.
#[utoipa::path(
    post,
    path = "/v1/workflows/validate",
    operation_id = "validate_workflow",
    tag = "workflows",
    request_body(
        description = "The definition: YAML, or JSON with the YAML in `source`",
        content(
            (String = "application/yaml"),
            (String = "text/yaml"),
            (SourceBody = "application/json"),
        )
    ),
    responses(
        (status = 200, description = "The definition is valid", body = Validated),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not validate workflows", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "The definition is not valid: `problems` lists each", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn validate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Validated>, ApiError> {
    let source = definition_source(&headers, &body)?;
    let workflow = state.engine.validate_definition(UPLOAD, &source).map_err(|p| ApiError::definition_invalid(&p))?;
    Ok(Json(Validated {
        valid: true,
        workflow: workflow.id.clone(),
        title: workflow.title.clone(),
        trigger: workflow.trigger.event.clone(),
        steps: workflow.steps.len(),
    }))
}

async fn records_of(state: &AppState, id: &str) -> Result<Vec<DefinitionRecord>, ApiError> {
    let records = state.store.definitions(Some(id)).await?;
    if records.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no workflow has the id {id:?}; see GET /v1/workflows"),
        ));
    }
    Ok(records)
}

/// Read a workflow and its versions.
#[utoipa::path(
    get,
    path = "/v1/workflows/{id}",
    operation_id = "get_workflow",
    tag = "workflows",
    params(("id" = String, Path, description = "The workflow id, such as `stockout_replenishment`")),
    responses(
        (status = 200, description = "The workflow and every version", body = WorkflowSummary),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read workflows", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkflowSummary>, ApiError> {
    let records = records_of(&state, &id).await?;
    WorkflowSummary::of(&records).map(Json).ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no versions"))
}

/// Read one version of a workflow, with its text.
#[utoipa::path(
    get,
    path = "/v1/workflows/{id}/versions/{version}",
    operation_id = "get_workflow_version",
    tag = "workflows",
    params(
        ("id" = String, Path, description = "The workflow id"),
        ("version" = i64, Path, description = "The version, from 1"),
    ),
    responses(
        (status = 200, description = "The version with its YAML text", body = DefinitionView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read workflows", body = ErrorBody),
        (status = 404, description = "No such workflow or version", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn version(
    State(state): State<AppState>,
    ApiPath((id, version)): ApiPath<(String, i64)>,
) -> Result<Json<DefinitionRecord>, ApiError> {
    let records = records_of(&state, &id).await?;
    let newest = records.iter().map(|r| r.version).max().unwrap_or(0);
    records.into_iter().find(|r| r.version == version).map(Json).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("workflow {id:?} has no version {version}; its versions are 1 to {newest}"),
        )
    })
}

async fn set_active(
    state: &AppState,
    caller: &Caller,
    id: &str,
    version: i64,
    active: bool,
) -> Result<Json<DefinitionRecord>, ApiError> {
    let record = state.engine.set_active(id, version, active, &caller.name).await?;
    tracing::info!(workflow = %id, version, active, by = %caller.name, "workflow version activation changed");
    Ok(Json(record))
}

/// Activate a version: new instances may start on it (the newest active version is used).
#[utoipa::path(
    post,
    path = "/v1/workflows/{id}/versions/{version}/activate",
    operation_id = "activate_workflow_version",
    tag = "workflows",
    params(
        ("id" = String, Path, description = "The workflow id"),
        ("version" = i64, Path, description = "The version, from 1"),
    ),
    responses(
        (status = 200, description = "The version, now active", body = DefinitionView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not edit workflows", body = ErrorBody),
        (status = 404, description = "No such workflow or version", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn activate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((id, version)): ApiPath<(String, i64)>,
) -> Result<Json<DefinitionRecord>, ApiError> {
    set_active(&state, &caller, &id, version, true).await
}

/// Deactivate a version: no new instance starts on it; running instances finish on it.
#[utoipa::path(
    post,
    path = "/v1/workflows/{id}/versions/{version}/deactivate",
    operation_id = "deactivate_workflow_version",
    tag = "workflows",
    params(
        ("id" = String, Path, description = "The workflow id"),
        ("version" = i64, Path, description = "The version, from 1"),
    ),
    responses(
        (status = 200, description = "The version, now inactive", body = DefinitionView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not edit workflows", body = ErrorBody),
        (status = 404, description = "No such workflow or version", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn deactivate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((id, version)): ApiPath<(String, i64)>,
) -> Result<Json<DefinitionRecord>, ApiError> {
    set_active(&state, &caller, &id, version, false).await
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        assert_eq!(position("abc", 0), (1, 1));
        assert_eq!(position("a\nbé\nc", 5), (2, 3));
        assert_eq!(position("a\n", 2), (2, 1));
    }
}
