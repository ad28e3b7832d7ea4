//! Automatic decisions: overturning one, which may demote its policy's autonomy.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use backroom_store::{LedgerRecord, PolicyRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiPath, check_text, json_body};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::permissions::{Action, authorize};

/// Why a decision is overturned.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverturnBody {
    /// Why (required).
    pub reason: String,
}

/// What an overturn did.
#[derive(Serialize, ToSchema)]
pub struct OverturnResult {
    /// The automatic decision, now overturned: policy, policy scope and version, location, day,
    /// amount, who overturned it, when and why.
    #[schema(value_type = Object)]
    pub decision: LedgerRecord,
    /// The policy's new version when the overturn demoted it to `approve`; null otherwise.
    #[schema(value_type = Option<Object>)]
    pub demoted: Option<PolicyRecord>,
}

/// Overturn an automatic decision.
///
/// Marks the automatic approval of the step overturned (audited as `decision.overturned`). If,
/// within the policy's demotion window, enough automatic decisions were taken and too large a
/// share of them is now overturned, the policy is demoted at once: a new version with autonomy
/// `approve` saved by `system:autonomy` (audited as `autonomy.demoted`, counted in
/// `backroom_autonomy_demotions_total`); later approval steps then ask people.
#[utoipa::path(
    post,
    path = "/v1/decisions/{instance}/{step}/overturn",
    operation_id = "overturn_decision",
    tag = "policies",
    params(
        ("instance" = String, Path, description = "The instance"),
        ("step" = String, Path, description = "The approval step"),
    ),
    request_body(content = OverturnBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The decision overturned, and the demotion if any", body = OverturnResult),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not overturn decisions at this location", body = ErrorBody),
        (status = 404, description = "No automatic decision for this step", body = ErrorBody),
        (status = 409, description = "Already overturned", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn overturn(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((instance, step)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<OverturnResult>, ApiError> {
    let body: OverturnBody = json_body(&headers, &body, None)?;
    check_text("reason", &body.reason, true)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::ValidationFailed, "`reason` is required: say why the decision was wrong"));
    }
    authorize(&state.engine, &caller, Action::OverturnDecision, None)?;
    let done = state.engine.overturn_decision(&instance, &step, body.reason.trim(), &caller.name).await?;
    Ok(Json(OverturnResult { decision: done.decision, demoted: done.demoted }))
}
