//! `GET /v1/webhooks`: the configured webhooks and how far each subscriber was notified.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::webhooks::{BodyKind, display_url};

/// A subscriber and the state of its deliveries.
#[derive(Serialize, ToSchema)]
pub struct SubscriberView {
    /// Its name.
    pub name: String,
    /// Where entries are posted (without credentials or query).
    pub url: String,
    /// The audit entry kinds it receives (`*`: all).
    pub kinds: Vec<String>,
    /// The `seq` of the audit chain up to which it was notified (its durable cursor).
    pub last_delivered_seq: i64,
    /// Entries of its kinds recorded after that and not delivered yet.
    pub pending: i64,
    /// Why the last attempt failed, while the entry it tried is still undelivered (as seen by
    /// this process).
    pub last_error: Option<String>,
    /// When that attempt failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failed attempts at the entry being delivered.
    pub failed_attempts: u32,
    /// When this process last delivered an entry.
    pub last_delivered_at: Option<DateTime<Utc>>,
}

/// A partner allowed to push deliveries.
#[derive(Serialize, ToSchema)]
pub struct SourceView {
    /// The name in `POST /webhooks/{source}` and on its events.
    pub source: String,
    /// What its body holds.
    pub body: BodyKind,
    /// How far its signed timestamps may lie from the server's clock.
    pub tolerance_seconds: u64,
}

/// The configured webhooks.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    /// Subscribers notified of audit entries.
    pub outbound: Vec<SubscriberView>,
    /// Partners that push events or documents.
    pub inbound: Vec<SourceView>,
}

/// List webhooks.
///
/// The outbound subscribers with their delivery state (the last audit entry delivered, how many
/// wait, the last error), and the inbound sources. Secrets are never shown.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "Every configured webhook", body = WebhookList),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read webhooks", body = ErrorBody),
        (status = 429, description = "Over the key's rate limit; see Retry-After", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<WebhookList>, ApiError> {
    let mut outbound = Vec::with_capacity(state.webhooks.outbound.len());
    for hook in &state.webhooks.outbound {
        let last_delivered_seq = state.store.cursor(&hook.cursor()).await?;
        let pending = state.store.audit_count(last_delivered_seq, hook.kind_filter()).await?;
        let local = state.deliveries.get(&hook.name);
        outbound.push(SubscriberView {
            name: hook.name.clone(),
            url: display_url(&hook.url),
            kinds: hook.kinds.clone(),
            last_delivered_seq,
            pending,
            last_error: local.last_error,
            last_error_at: local.last_error_at,
            failed_attempts: local.failed_attempts,
            last_delivered_at: local.last_delivered_at,
        });
    }
    let inbound = state
        .webhooks
        .inbound
        .iter()
        .map(|w| SourceView { source: w.source.clone(), body: w.body, tolerance_seconds: w.tolerance_seconds })
        .collect();
    Ok(Json(WebhookList { outbound, inbound }))
}
