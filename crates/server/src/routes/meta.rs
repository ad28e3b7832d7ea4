//! Health, readiness, metrics, schemas and API documentation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use backroom_model::{EventType, event_schema};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode, error_page};

/// Liveness.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    pub status: &'static str,
}

/// Whether the process is alive (it answers).
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready`, or `unavailable` when the store does not answer.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The last `seq` in the log.
    pub last_seq: Option<i64>,
}

/// Whether the process can serve: the store answers.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Ready), (status = 503, description = "The store does not answer", body = Ready))
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let backend = state.store.backend_name();
    match state.store.last_seq().await {
        Ok(seq) => Json(Ready { status: "ready", backend, last_seq: Some(seq) }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Ready { status: "unavailable", backend, last_seq: None }))
                .into_response()
        }
    }
}

/// Prometheus metrics: ingest counts, group-commit sizes, commit latency, HTTP latency.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// The OpenAPI 3.1 description of every route.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi.clone()).into_response()
}

/// What each error code means.
#[utoipa::path(get, path = "/docs/errors", tag = "operations", responses((status = 200, description = "HTML table of error codes", body = String, content_type = "text/html")))]
pub async fn errors() -> Html<String> {
    Html(error_page())
}

/// One event type of the catalogue.
#[derive(Serialize, ToSchema)]
pub struct EventTypeInfo {
    /// The dotted name.
    pub name: &'static str,
    /// What an event of this type means.
    pub description: &'static str,
    /// Where its JSON Schema is served.
    pub schema: String,
}

/// The catalogue of event types.
#[utoipa::path(
    get, path = "/v1/schemas/events", tag = "schemas", operation_id = "list_event_types",
    responses((status = 200, body = Vec<EventTypeInfo>), (status = 401, body = ErrorBody)),
    security(("api_key" = []))
)]
pub async fn event_types() -> Json<Vec<EventTypeInfo>> {
    Json(
        EventType::ALL
            .iter()
            .map(|t| EventTypeInfo {
                name: t.as_str(),
                description: t.description(),
                schema: format!("/v1/schemas/events/{}", t.as_str()),
            })
            .collect(),
    )
}

/// The JSON Schema (draft 2020-12) of the `data` of one event type.
#[utoipa::path(
    get, path = "/v1/schemas/events/{type}", tag = "schemas", operation_id = "event_schema",
    params(("type" = String, Path, description = "Event type, such as pos.sale")),
    responses(
        (status = 200, description = "JSON Schema", body = Object),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown event type", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn event_schema_of(Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let t = EventType::parse(&name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("no event type {name:?}; known types: {}", EventType::ALL.map(EventType::as_str).join(", ")),
        )
    })?;
    Ok(Json(event_schema(t).clone()))
}
