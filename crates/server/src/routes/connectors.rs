//! The connectors the engine calls, and their circuit breakers.

use axum::Json;
use axum::extract::State;
use backroom_engine::connector::ConnectorHealth;
use backroom_engine::runner::BreakerState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// How a connector's calls have gone since this process started, as the connector reports it.
#[derive(Serialize, ToSchema)]
pub struct ConnectorHealthView {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed, retryable or permanent.
    pub failures: u64,
    /// The share of the last 100 calls that failed, from 0.0 to 1.0 (0.0 before any call).
    pub recent_error_rate: f64,
    /// When a call last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// When a call last failed.
    pub last_failure: Option<DateTime<Utc>>,
    /// What the last failure said.
    pub last_error: Option<String>,
}

impl From<ConnectorHealth> for ConnectorHealthView {
    fn from(h: ConnectorHealth) -> Self {
        ConnectorHealthView {
            calls: h.calls,
            failures: h.failures,
            recent_error_rate: h.recent_error_rate,
            last_success: h.last_success,
            last_failure: h.last_failure,
            last_error: h.last_error,
        }
    }
}

/// One connector, its circuit breaker and its health.
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
    /// The connector's own record of its calls; null when it keeps none (or is no longer
    /// configured).
    pub health: Option<ConnectorHealthView>,
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
/// connector not called yet is `closed`) and, when the connector keeps one, its health: calls,
/// failures, the error rate over its last 100 calls, and its last success, failure and error.
#[utoipa::path(
    get,
    path = "/v1/connectors",
    operation_id = "list_connectors",
    tag = "connectors",
    responses(
        (status = 200, description = "Every connector, with its circuit breaker and health", body = ConnectorList),
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
        .map(|name| {
            let health = state.engine.connector_health(&name).map(ConnectorHealthView::from);
            match breakers.get(&name) {
                Some(b) => ConnectorView {
                    state: state_name(b.state).to_owned(),
                    failures: b.failures,
                    until: b.until,
                    health,
                    name,
                },
                None => ConnectorView { name, state: "closed".to_owned(), failures: 0, until: None, health },
            }
        })
        .collect();
    Ok(Json(ConnectorList { connectors }))
}
