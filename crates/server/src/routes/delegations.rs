//! Delegations of approval authority: lend one's role at a scope to someone for a time.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use backroom_engine::runner::NewDelegation;
use backroom_model::Role;
use backroom_store::DelegationRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiPath, check_text, json_body};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};

/// A delegation to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationBody {
    /// Whose role is lent; only an admin may name someone other than the caller (default: the
    /// caller).
    pub from: Option<String>,
    /// Who receives the role.
    pub to: String,
    /// The role lent, such as `store_manager`.
    pub role: String,
    /// The location it covers (and below); null for the company.
    pub scope: Option<String>,
    /// From when (RFC 3339).
    pub starts_at: String,
    /// Until when (RFC 3339, exclusive); after `starts_at`, at most 90 days later.
    pub ends_at: String,
    /// Why.
    pub reason: String,
}

/// A delegation.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DelegationView {
    /// Its id.
    id: String,
    /// Whose role is lent.
    from: String,
    /// Who receives it.
    to: String,
    /// The role.
    role: String,
    /// The location it covers; null for the company.
    scope: Option<String>,
    /// From when.
    starts_at: String,
    /// Until when (exclusive).
    ends_at: String,
    /// Why.
    reason: String,
    /// When it was created.
    created_at: String,
    /// Who created it.
    created_by: String,
    /// When it was revoked.
    revoked_at: Option<String>,
    /// Who revoked it.
    revoked_by: Option<String>,
}

/// Delegations.
#[derive(Serialize, ToSchema)]
pub struct DelegationList {
    /// Oldest first.
    #[schema(value_type = Vec<DelegationView>)]
    pub delegations: Vec<DelegationRecord>,
}

/// Whether a grant or delegation at `scope` (`None`: the company) covers `location` (`None`:
/// something company-wide): the location itself or one below it.
pub(crate) fn covers(engine: &backroom_engine::runner::Engine, scope: Option<&str>, location: Option<&str>) -> bool {
    match (scope, location) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(s), Some(l)) => s == l || engine.locations_under(s).iter().any(|c| c == l),
    }
}

pub(crate) fn is_admin(caller: &Caller) -> bool {
    caller.grants.iter().any(|g| g.role == Role::Admin)
}

fn time(field: &str, text: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text.trim()).map(|t| t.with_timezone(&chrono::Utc)).map_err(|e| {
        ApiError::new(
            ErrorCode::ValidationFailed,
            format!("`{field}` must be an RFC 3339 time such as 2026-11-23T09:00:00Z, got {text:?}: {e}"),
        )
    })
}

/// Delegate a role.
///
/// The caller lends a role they hold at a scope covering `scope` to `to`, from `starts_at` until
/// `ends_at` (at most 90 days). While it is in force, `to` may claim and decide the tasks of
/// that role within the scope; each decision is recorded as made for the delegator, and
/// segregation of duties applies to both. Audited as `delegation.created`.
#[utoipa::path(
    post,
    path = "/v1/delegations",
    operation_id = "create_delegation",
    tag = "delegations",
    request_body(content = DelegationBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The delegation", body = DelegationView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The caller does not hold the role at that scope", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "A field is not valid", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: DelegationBody = json_body(&headers, &body, None)?;
    for (field, text) in [("to", body.to.as_str()), ("role", &body.role), ("reason", &body.reason)] {
        check_text(field, text, field == "reason")?;
    }
    if let Some(scope) = &body.scope {
        check_text("scope", scope, false)?;
    }
    let admin = is_admin(&caller);
    let from = match &body.from {
        Some(from) if !from.trim().eq_ignore_ascii_case(&caller.name) && !admin => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("{:?} may delegate only their own roles; only an admin may set `from`", caller.name),
            ));
        }
        Some(from) => {
            check_text("from", from, false)?;
            from.trim().to_owned()
        }
        None => caller.name.clone(),
    };
    let role = body.role.trim().to_owned();
    if !admin {
        let holds = caller
            .grants
            .iter()
            .any(|g| g.role.as_str() == role && covers(&state.engine, g.scope.as_deref(), body.scope.as_deref()));
        if !holds {
            let at = body.scope.as_deref().map_or_else(|| "over the company".to_owned(), |s| format!("at {s}"));
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "{:?} does not hold the role {role} {at}, so cannot delegate it; their grants: {}",
                    caller.name,
                    caller.grants_text()
                ),
            ));
        }
    }
    let new = NewDelegation {
        from,
        to: body.to,
        role,
        scope: body.scope.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        starts_at: time("starts_at", &body.starts_at)?,
        ends_at: time("ends_at", &body.ends_at)?,
        reason: body.reason,
    };
    let record = state.engine.create_delegation(new, &caller.name).await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

/// List delegations.
///
/// An admin sees every delegation; anyone else the delegations from or to them.
#[utoipa::path(
    get,
    path = "/v1/delegations",
    operation_id = "list_delegations",
    tag = "delegations",
    responses(
        (status = 200, description = "The delegations", body = DelegationList),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not delegate", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<DelegationList>, ApiError> {
    let mut delegations = state.engine.delegations(None).await?;
    if !is_admin(&caller) {
        let me = caller.name.to_lowercase();
        delegations.retain(|d| d.from.to_lowercase() == me || d.to.to_lowercase() == me);
    }
    Ok(Json(DelegationList { delegations }))
}

/// Revoke a delegation.
///
/// The delegator, whoever created it, or an admin ends it now. Audited as `delegation.revoked`.
#[utoipa::path(
    post,
    path = "/v1/delegations/{id}/revoke",
    operation_id = "revoke_delegation",
    tag = "delegations",
    params(("id" = String, Path, description = "The delegation id")),
    responses(
        (status = 200, description = "The delegation, revoked", body = DelegationView),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "Not the caller's delegation", body = ErrorBody),
        (status = 404, description = "No such delegation", body = ErrorBody),
        (status = 409, description = "Already ended or revoked", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DelegationRecord>, ApiError> {
    let Some(record) = state.store.delegation(&id).await? else {
        return Err(ApiError::new(ErrorCode::NotFound, format!("no delegation has the id {id:?}")));
    };
    let me = caller.name.to_lowercase();
    if !is_admin(&caller) && record.from.to_lowercase() != me && record.created_by.to_lowercase() != me {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{:?} may revoke only their own delegations; this one is {}'s", caller.name, record.from),
        ));
    }
    Ok(Json(state.engine.revoke_delegation(&id, &caller.name).await?))
}
