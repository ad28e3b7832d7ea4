//! The connectors the engine calls, and their circuit breakers.

use axum::Json;
use axum::extract::State;
use backroom_engine::runner::BreakerState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// One connector and its circuit breaker.
#[derive(Serialize, ToSchema)]
pub struct ConnectorView {
    /// The name workflows use in `connector:`.
    pub name: String,
    /// `closed` (calls go through), `open` (no calls until `until`) or `half_open` (one probe
    /// call decides).
    pub state: String,
    /// Consecutive retryable failures.
    pub failures: u32,
    /// While open: when the next probe may go.
    pub until: Option<DateTime<Utc>>,
}

/// Every connector.
#[derive(Serialize, ToSchema)]
pub struct ConnectorList {
    /// The connectors, by name.
    pub connectors: Vec<ConnectorView>,
}

fn state_name(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
    }
}

/// List connectors.
///
/// The connectors configured in this process, with the state of each one's circuit breaker (a
/// connector not called yet is `closed`).
#[utoipa::path(
    get,
    path = "/v1/connectors",
    operation_id = "list_connectors",
    tag = "connectors",
    responses(
        (status = 200, description = "Every connector", body = ConnectorList),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read connectors", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<ConnectorList>, ApiError> {
    let breakers = state.engine.breakers();
    let mut names = state.engine.connector_names();
    // Breakers of connectors no longer configured still tell what happened.
    names.extend(breakers.keys().filter(|k| !names.contains(k)).cloned().collect::<Vec<_>>());
    names.sort();
    let connectors = names
        .into_iter()
        .map(|name| match breakers.get(&name) {
            Some(b) => {
                ConnectorView { state: state_name(b.state).to_owned(), failures: b.failures, until: b.until, name }
            }
            None => ConnectorView { name, state: "closed".to_owned(), failures: 0, until: None },
        })
        .collect();
    Ok(Json(ConnectorList { connectors }))
}
