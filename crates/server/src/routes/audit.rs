//! `GET /v1/audit`: the tamper-evident record of every decision and change, and
//! `GET /v1/audit/verify`: the chain walked and checked.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use backroom_store::{AuditQuery, AuditRecord, ChainReport, audit::MAX_AUDIT_PAGE};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiQuery, parse_limit, parse_time};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// Filters on the audit record.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only entries by this actor (a key or user name, `system`).
    pub actor: Option<String>,
    /// Only entries about this subject (`instance/…`, `key/…`); with a trailing `/`, everything under it.
    pub subject: Option<String>,
    /// Only entries of this kind (`task.decided`, `dead_letter.retried`, `key.created`, `action.completed`…).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only entries at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Only entries before this RFC 3339 time.
    pub until: Option<String>,
    /// Only entries after this position in the chain (for paging).
    pub after_seq: Option<i64>,
    /// At most this many, 1 to 10,000 (default 100).
    pub limit: Option<i64>,
    /// `ndjson` to receive one entry per line (an export); JSON otherwise.
    pub format: Option<String>,
}

/// Read the audit record.
///
/// Entries in chain order, each with actor, role, scope, time, kind, subject, the state
/// before and after, the reason, and its place in the hash chain (`prev_hash`, `hash`). With
/// `format=ndjson` the answer is one entry per line, for export.
#[utoipa::path(
    get,
    path = "/v1/audit",
    operation_id = "list_audit",
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "The entries, in chain order", body = serde_json::Value),
        (status = 400, description = "A filter is malformed", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "Only auditors and admins read the audit record", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>, ApiQuery(p): ApiQuery<AuditParams>) -> Result<Response, ApiError> {
    let q = AuditQuery {
        actor: p.actor,
        subject: p.subject,
        kind: p.kind,
        since: parse_time("since", p.since.as_deref())?,
        until: parse_time("until", p.until.as_deref())?,
        after_seq: p.after_seq.unwrap_or(0),
        limit: parse_limit(p.limit, 100, MAX_AUDIT_PAGE)?,
    };
    let entries: Vec<AuditRecord> = state.store.audit(&q).await?;
    if p.format.as_deref() == Some("ndjson") {
        let mut body = String::new();
        for e in &entries {
            body.push_str(&serde_json::to_string(e).unwrap_or_default());
            body.push('\n');
        }
        return Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response());
    }
    let next = entries.last().map_or(q.after_seq, |e| e.seq);
    Ok(Json(serde_json::json!({ "entries": entries, "next_after_seq": next })).into_response())
}

/// Verify the audit chain.
///
/// Walks every entry and reports the first one that was edited, deleted, inserted or moved
/// since it was written, or that the chain is intact, with its head hash to keep.
#[utoipa::path(
    get,
    path = "/v1/audit/verify",
    operation_id = "verify_audit",
    tag = "audit",
    responses(
        (status = 200, description = "What the walk found", body = serde_json::Value),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "Only auditors and admins verify the audit record", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn verify(State(state): State<AppState>) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(state.store.verify_audit(None).await?))
}
