//! Approval policies: list them, read one with its versions, save a new version.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use backroom_engine::policy::ApprovalPolicy;
use backroom_store::PolicyRecord;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{ApiPath, check_json_text, content_type};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};

/// The content types a policy document is accepted in besides JSON.
const YAML_TYPES: [&str; 4] = ["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"];

/// A saved version of a policy.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PolicyView {
    /// The action type it governs.
    action: String,
    /// The location code it applies to (and below); null for the company.
    scope: Option<String>,
    /// The version, from 1 for each action and scope.
    version: i64,
    /// The document: `{action, scope, levels: [{above, role}], four_eyes_above, autonomy: {level,
    /// max_amount, max_daily_amount, min_confidence, demotion: {window_hours, min_decisions,
    /// max_overturned_share}}}`, amounts as strings.
    #[schema(value_type = Object)]
    document: Value,
    /// When it was saved.
    created_at: String,
    /// Who saved it (`system:autonomy` for an automatic demotion).
    created_by: String,
}

/// The policies in force.
#[derive(Serialize, ToSchema)]
pub struct PolicyList {
    /// The newest version of each action and scope, by action then scope.
    #[schema(value_type = Vec<PolicyView>)]
    pub policies: Vec<PolicyRecord>,
}

/// One action's policies, every version.
#[derive(Serialize, ToSchema)]
pub struct PolicyVersions {
    /// The action type.
    pub action: String,
    /// The newest version of each scope.
    #[schema(value_type = Vec<PolicyView>)]
    pub current: Vec<PolicyRecord>,
    /// Every version, by scope then version.
    #[schema(value_type = Vec<PolicyView>)]
    pub versions: Vec<PolicyRecord>,
}

/// The newest version of each (action, scope).
fn newest(records: Vec<PolicyRecord>) -> Vec<PolicyRecord> {
    let mut by_key: BTreeMap<(String, Option<String>), PolicyRecord> = BTreeMap::new();
    for r in records {
        let key = (r.action.clone(), r.scope.clone());
        if by_key.get(&key).is_none_or(|b| b.version < r.version) {
            by_key.insert(key, r);
        }
    }
    by_key.into_values().collect()
}

/// List approval policies.
///
/// The version in force of each action type and scope.
#[utoipa::path(
    get,
    path = "/v1/policies",
    operation_id = "list_policies",
    tag = "policies",
    responses(
        (status = 200, description = "The policies in force", body = PolicyList),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read policies", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<PolicyList>, ApiError> {
    Ok(Json(PolicyList { policies: newest(state.engine.policies(None).await?) }))
}

/// Read an action's policies with every version.
#[utoipa::path(
    get,
    path = "/v1/policies/{action}",
    operation_id = "get_policy",
    tag = "policies",
    params(("action" = String, Path, description = "The action type, such as refund")),
    responses(
        (status = 200, description = "The policies of the action, every version", body = PolicyVersions),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read policies", body = ErrorBody),
        (status = 404, description = "No policy for this action", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(action): ApiPath<String>,
) -> Result<Json<PolicyVersions>, ApiError> {
    let versions = state.engine.policies(Some(&action)).await?;
    if versions.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no policy governs the action {action:?}; save one with PUT /v1/policies/{action}"),
        ));
    }
    Ok(Json(PolicyVersions { action, current: newest(versions.clone()), versions }))
}

/// Reads the body as a policy document (JSON, or YAML with a YAML content type).
fn document(headers: &HeaderMap, body: &[u8], action: &str) -> Result<ApprovalPolicy, ApiError> {
    let invalid = |m: String| ApiError::new(ErrorCode::ValidationFailed, m);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("the request needs a policy document as its body; it is empty".to_owned()));
    }
    let text = std::str::from_utf8(body).map_err(|_| invalid("the policy document is not UTF-8 text".to_owned()))?;
    let mut value: Value = match content_type(headers).as_str() {
        "application/json" => serde_json::from_str(text).map_err(|e| super::json_error(&e))?,
        t if YAML_TYPES.contains(&t) => yaml_value(text).map_err(invalid)?,
        "" => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the request has no Content-Type: send application/json (or application/yaml)",
            ));
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("content type {other:?} is not accepted here: send application/json (or application/yaml)"),
            ));
        }
    };
    check_json_text("policy", &value)?;
    if let Some(map) = value.as_object_mut() {
        match map.get("action") {
            None => {
                map.insert("action".to_owned(), Value::String(action.to_owned()));
            }
            Some(Value::String(a)) if a == action => {}
            Some(other) => {
                return Err(invalid(format!(
                    "`action`: the document governs {other} but was sent to /v1/policies/{action}; they must agree"
                )));
            }
        }
    }
    ApprovalPolicy::from_json(&value).map_err(|e| invalid(format!("the policy is not valid: {e}; nothing was saved")))
}

fn yaml_value(text: &str) -> Result<Value, String> {
    backroom_engine::policy::read_document(text).map_err(|e| e.to_string())
}

/// Save an approval policy.
///
/// The body is the policy document (JSON, or YAML with `Content-Type: application/yaml`); it
/// becomes the next version of its action and scope and applies at once to later approval
/// steps. The change is audited as `policy.changed` with the version before and after. A
/// document that is not valid is refused whole with 422 `validation_failed` naming the field.
#[utoipa::path(
    put,
    path = "/v1/policies/{action}",
    operation_id = "save_policy",
    tag = "policies",
    params(("action" = String, Path, description = "The action type, such as refund")),
    request_body(content = Object, content_type = "application/json",
        description = "The policy document"),
    responses(
        (status = 200, description = "The version saved", body = PolicyView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not edit policies", body = ErrorBody),
        (status = 409, description = "Another version was saved meanwhile", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "The document is not valid", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(action): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PolicyRecord>, ApiError> {
    let policy = document(&headers, &body, &action)?;
    Ok(Json(state.engine.save_policy(&policy, &caller.name).await?))
}
