//! `POST /webhooks/{source}`: events or a partner document pushed by a configured partner,
//! authenticated by its signature instead of an API key.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use backroom_store::{EngineWrite, StoreError, WebhookReceipt};
use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::signature::{self, SignatureError};
use super::{BodyKind, InboundWebhook};
use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::ApiPath;
use crate::routes::documents::{self, DocumentResponse};
use crate::routes::events::{self, IngestResponse};

/// The answer to an accepted delivery: as `POST /v1/events` answers for an `events` source, as
/// `POST /v1/documents` answers for a `document` source.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum WebhookResponse {
    /// The events' outcomes.
    Events(IngestResponse),
    /// The document's events and the acknowledgements for the partner.
    Document(DocumentResponse),
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refused(source: &str, e: &SignatureError) -> ApiError {
    let code = match e {
        SignatureError::Expired { .. } => ErrorCode::WebhookTimestampExpired,
        _ => ErrorCode::WebhookSignatureInvalid,
    };
    tracing::warn!(source, reason = %e, "refused a webhook delivery");
    ApiError::new(code, format!("webhook {source:?}: {e}; nothing was stored"))
}

fn replayed(source: &str) -> ApiError {
    ApiError::new(
        ErrorCode::WebhookReplayed,
        format!("webhook {source:?}: a delivery with this signature was already accepted; nothing was recorded again"),
    )
}

/// Gives every raw event the webhook's source name.
fn with_source(mut raw: Vec<Value>, source: &str) -> Vec<Value> {
    for event in &mut raw {
        if let Value::Object(map) = event {
            map.insert("source".to_owned(), Value::String(source.to_owned()));
        }
    }
    raw
}

/// Receive a signed webhook delivery.
///
/// For a source configured under `[[webhooks.inbound]]`. The delivery carries
/// `Backroom-Timestamp: <unix seconds>` and `Backroom-Signature: v1=<hex HMAC-SHA256(secret,
/// "<timestamp>.<raw body>")>` (several comma-separated `v1=` values are allowed, so that a
/// secret can be rotated). The body is what `POST /v1/events` takes (an `events` source; every
/// event is recorded with the source's name as its `source`) or a partner document as `POST
/// /v1/documents` takes it (a `document` source). A delivery is accepted once: the same
/// signature again is answered 409 `webhook_replayed`.
#[utoipa::path(
    post,
    path = "/webhooks/{source}",
    operation_id = "receive_webhook",
    tag = "webhooks",
    params(("source" = String, Path, description = "The configured source name")),
    request_body(
        description = "Events (JSON, an array, or NDJSON) or a partner document, as the source is configured",
        content(
            (serde_json::Value = "application/json"),
            (String = "application/x-ndjson"),
            (String = "application/octet-stream"),
        )
    ),
    responses(
        (status = 200, description = "Every event is durably recorded (or was already)", body = WebhookResponse),
        (status = 400, description = "Malformed JSON, with line and column", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature (`webhook_signature_invalid`) or timestamp outside the tolerance (`webhook_timestamp_expired`)", body = ErrorBody),
        (status = 404, description = "No webhook source of this name is configured", body = ErrorBody),
        (status = 409, description = "This delivery was already accepted", body = ErrorBody),
        (status = 413, description = "Body larger than max_body_bytes", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "An event or the document is invalid; nothing was stored", body = ErrorBody),
        (status = 429, description = "The source sent more than its rate allows; see Retry-After", body = ErrorBody),
        (status = 503, description = "The store cannot take the request; retry", body = ErrorBody),
    ),
    security(("webhook_signature" = []))
)]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath(source): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookResponse>, ApiError> {
    let Some(hook) = state.webhooks.inbound(&source).cloned() else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no webhook source named {source:?} is configured (see [[webhooks.inbound]])"),
        ));
    };
    let now = Utc::now();
    let verified = signature::verify(
        &hook.secrets,
        header(&headers, signature::TIMESTAMP_HEADER),
        header(&headers, signature::SIGNATURE_HEADER),
        &body,
        now.timestamp(),
        hook.tolerance_seconds,
    )
    .map_err(|e| refused(&source, &e))?;
    // Limited after the signature is checked, so that unsigned traffic cannot use up a
    // partner's rate.
    state.limits.check(&format!("webhook:{source}"), &format!("webhook source {source:?}"))?;
    if state.store.webhook_receipt_exists(&source, &verified.receipt).await? {
        return Err(replayed(&source));
    }
    let receipt = receipt(&hook, verified.receipt, now);
    let write = || EngineWrite { webhook_receipts: vec![receipt.clone()], ..EngineWrite::default() };
    let answer = match hook.body {
        BodyKind::Events => {
            let raw = with_source(events::parse_body(&headers, &body)?, &source);
            let events = events::validate(raw).await?;
            let outcomes = state.store.commit_engine(write(), events).await.map_err(|e| stored(&source, e))?;
            WebhookResponse::Events(IngestResponse::from_outcomes(&outcomes))
        }
        BodyKind::Document => {
            let (document, events) = documents::read(&state, body, Some(source.clone())).await?;
            let outcomes = state.store.commit_engine(write(), events).await.map_err(|e| stored(&source, e))?;
            WebhookResponse::Document(document.answer(&outcomes))
        }
    };
    Ok(Json(answer))
}

/// The receipt recorded with the delivery's events; receipts older than twice the tolerance
/// are pruned in the same transaction (their timestamps are refused anyway).
fn receipt(hook: &InboundWebhook, signature: String, now: chrono::DateTime<Utc>) -> WebhookReceipt {
    let keep = i64::try_from(hook.tolerance_seconds.saturating_mul(2)).ok().and_then(Duration::try_seconds);
    WebhookReceipt {
        source: hook.source.clone(),
        signature,
        received_at: now,
        prune_before: keep.and_then(|k| now.checked_sub_signed(k)).unwrap_or(chrono::DateTime::<Utc>::UNIX_EPOCH),
    }
}

/// A failed commit: the receipt already there (a concurrent replay) is `webhook_replayed`.
fn stored(source: &str, e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => replayed(source),
        other => other.into(),
    }
}
