//! `POST /v1/events` (ingest) and `GET /v1/events` (read the log).

use axum::Json;
use axum::body::Bytes;
use std::collections::HashSet;

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, header};
use backroom_model::{EventEnvelope, EventType, NewEvent, validate_events};
use backroom_store::{Appended, EventQuery};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, parse_limit, parse_time};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode, EventProblem};
use crate::permissions::{Action, list_scope, outside_scope, visible_locations};

/// Batches at least this large are validated off the async workers.
const BLOCKING_VALIDATION: usize = 256;

/// The outcome of one ingested event.
#[derive(Serialize, ToSchema)]
pub struct EventResult {
    /// The event's position in the log (the original position for a duplicate).
    pub seq: i64,
    /// Whether the event had been recorded before (same source and id).
    pub duplicate: bool,
}

/// The answer to an accepted ingest request: one result per event, in request order.
#[derive(Serialize, ToSchema)]
pub struct IngestResponse {
    /// Events newly recorded.
    pub accepted: usize,
    /// Events already recorded before.
    pub duplicates: usize,
    /// One result per event.
    pub results: Vec<EventResult>,
}

impl IngestResponse {
    /// Builds the answer from the store's outcomes.
    pub fn from_outcomes(outcomes: &[Appended]) -> Self {
        let duplicates = outcomes.iter().filter(|o| o.duplicate).count();
        Self {
            accepted: outcomes.len() - duplicates,
            duplicates,
            results: outcomes.iter().map(|o| EventResult { seq: o.seq, duplicate: o.duplicate }).collect(),
        }
    }
}

/// Splits a request body into raw events according to its content type.
pub fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Value>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => {
            let value: Value = serde_json::from_slice(body).map_err(|e| malformed(&e, None))?;
            match value {
                Value::Array(events) if events.is_empty() => Err(no_events("the array holds no events")),
                Value::Array(events) => Ok(events),
                other => Ok(vec![other]),
            }
        }
        "application/x-ndjson" => {
            let mut events = Vec::new();
            for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                events.push(serde_json::from_slice(line).map_err(|e| malformed(&e, Some(i + 1)))?);
            }
            if events.is_empty() {
                return Err(no_events("the body holds no events"));
            }
            Ok(events)
        }
        "" => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the request has no Content-Type: send application/json or application/x-ndjson",
        )),
        other => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("content type {other:?} is not accepted: send application/json or application/x-ndjson"),
        )),
    }
}

fn no_events(message: &str) -> ApiError {
    ApiError::validation(vec![EventProblem { index: 0, path: "$".to_owned(), message: message.to_owned() }])
        .with_message(message)
}

/// serde_json's message without its trailing " at line L column C".
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn malformed(e: &serde_json::Error, ndjson_line: Option<usize>) -> ApiError {
    let message = match ndjson_line {
        Some(line) => format!("malformed JSON on line {line}, column {}: {}", e.column(), without_position(e)),
        None => format!("malformed JSON at line {}, column {}: {}", e.line(), e.column(), without_position(e)),
    };
    ApiError::new(ErrorCode::MalformedJson, message)
}

/// Validates raw events; on any problem, answers every problem of every event.
pub fn check(raw: &[Value]) -> Result<Vec<backroom_model::NewEvent>, ApiError> {
    validate_events(raw).map_err(|errors| {
        ApiError::validation(
            errors.into_iter().map(|(index, e)| EventProblem { index, path: e.path, message: e.message }).collect(),
        )
    })
}

/// Validates raw events as [`check`] does, off the async workers for large batches.
pub(crate) async fn validate(raw: Vec<Value>) -> Result<Vec<backroom_model::NewEvent>, ApiError> {
    if raw.len() >= BLOCKING_VALIDATION {
        tokio::task::spawn_blocking(move || check(&raw))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("validation did not finish: {e}")))?
    } else {
        check(&raw)
    }
}

/// Ingest events.
///
/// Accepts one event (a JSON object), a JSON array of events, or NDJSON (one event per line).
/// The request is all-or-nothing: if any event is invalid, the answer is 422 listing every
/// problem and nothing is stored. Events already recorded (same `source` and `id`) are answered
/// with their original `seq` and `duplicate: true`. The answer comes only after the events are
/// durably committed.
#[utoipa::path(
    post,
    path = "/v1/events",
    operation_id = "ingest_events",
    tag = "events",
    request_body(
        description = "One event, an array of events, or NDJSON",
        content(
            (serde_json::Value = "application/json"),
            (String = "application/x-ndjson"),
        )
    ),
    responses(
        (status = 200, description = "Every event is durably recorded (or was already)", body = IngestResponse),
        (status = 400, description = "Malformed JSON, with line and column", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 413, description = "Body larger than max_body_bytes", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "Some event is invalid; nothing was stored", body = ErrorBody),
        (status = 503, description = "The store cannot take the request; retry", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn ingest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestResponse>, ApiError> {
    let raw = parse_body(&headers, &body)?;
    let events = validate(raw).await?;
    check_scope(&state, &caller, &events)?;
    let outcomes = state.store.append(events).await?;
    Ok(Json(IngestResponse::from_outcomes(&outcomes)))
}

/// Filters on the log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Only events after this `seq` (default 0).
    pub after_seq: Option<i64>,
    /// At most this many events, 1 to 10,000 (default 100).
    pub limit: Option<i64>,
    /// Only this event type, such as `pos.sale`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Only events naming this location code.
    pub location: Option<String>,
    /// Only events naming this item (GTIN or SKU).
    pub item: Option<String>,
    /// Only events naming this document number (purchase order, receipt, invoice, transaction).
    pub document: Option<String>,
    /// Only events that occurred at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Only events that occurred before this RFC 3339 time.
    pub until: Option<String>,
}

/// An event as recorded.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct EventView {
    /// The source's id for the event.
    id: String,
    /// The event type.
    #[serde(rename = "type")]
    event_type: String,
    /// The producing system.
    source: String,
    /// When it happened (RFC 3339, UTC).
    occurred_at: String,
    /// When Backroom recorded it.
    recorded_at: String,
    /// Its position in the log.
    seq: i64,
    /// The locations, items and documents it names.
    subject: serde_json::Value,
    /// The payload, as described by `/v1/schemas/events/{type}`.
    data: serde_json::Value,
}

/// A page of the log.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    /// The events, in `seq` order.
    #[schema(value_type = Vec<EventView>)]
    pub events: Vec<EventEnvelope>,
    /// Pass as `after_seq` to read the next page.
    pub next_after_seq: i64,
}

/// Read the event log.
///
/// Events come in `seq` order; page with `after_seq` = the previous page's `next_after_seq`.
#[utoipa::path(
    get,
    path = "/v1/events",
    operation_id = "list_events",
    tag = "events",
    params(EventParams),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(p): ApiQuery<EventParams>,
) -> Result<Json<EventPage>, ApiError> {
    if let Some(t) = &p.event_type
        && EventType::parse(t).is_none()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("unknown event type {t:?}; known types: {}", EventType::ALL.map(EventType::as_str).join(", ")),
        ));
    }
    let within = list_scope(&state.engine, &caller, Action::ReadEvents, p.location.as_deref())?;
    let after_seq = p.after_seq.unwrap_or(0);
    let q = EventQuery {
        after_seq,
        limit: parse_limit(p.limit, 100, backroom_store::EventQuery::MAX_PAGE)?,
        event_type: p.event_type,
        location: p.location,
        item: p.item,
        since: parse_time("since", p.since.as_deref())?,
        until: parse_time("until", p.until.as_deref())?,
        within,
        documents: p.document.into_iter().collect(),
    };
    let events = state.store.events(&q).await?;
    let next_after_seq = events.last().map_or(after_seq, |e| e.seq);
    Ok(Json(EventPage { events, next_after_seq }))
}

/// Refuses a batch from a caller scoped to locations when an event names none of them: a
/// store's till sends that store's sales; a transfer names both ends, so either may send it.
/// The batch is refused whole, naming the first such event.
fn check_scope(state: &AppState, caller: &Caller, events: &[NewEvent]) -> Result<(), ApiError> {
    let Some(visible) = visible_locations(&state.engine, caller, Action::IngestEvents) else {
        return Ok(());
    };
    let visible: HashSet<&str> = visible.iter().map(String::as_str).collect();
    for (i, event) in events.iter().enumerate() {
        if !event.subject.locations.iter().any(|l| visible.contains(l.as_str())) {
            let named = event.subject.locations.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ");
            let what = format!(
                "event {i} ({:?}) at {}",
                event.id,
                if named.is_empty() { "no location".to_owned() } else { named }
            );
            return Err(outside_scope(caller, Action::IngestEvents, &what));
        }
    }
    Ok(())
}
