//! The surface the engine calls to reach systems of record: [`Connector`].
//!
//! A connector has named operations. Queries (`enrich` steps) change nothing and may be
//! repeated; commands (`action` steps, through the outbox) carry an idempotency key that the
//! system must honour, so that a repeated delivery never applies twice. Failures are typed:
//! [`ConnectorError::Retryable`] (timeouts, 429, 5xx) is retried with backoff;
//! [`ConnectorError::Permanent`] (other 4xx) goes to `on_error` or the dead-letter list.
//!
//! [`InProcessConnector`] answers from a function inside the process: for tests, benchmarks and
//! systems embedded in the same binary. The HTTP connector lives in `backroom-connectors`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A boxed future, for the dyn-compatible [`Connector`] trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Whether a call may change the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Reads only (an `enrich` step).
    Query,
    /// Changes something (an `action` step or a compensation).
    Command,
}

/// One call to a connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The operation, e.g. `create_transfer`.
    pub operation: String,
    /// Query or command.
    pub kind: CallKind,
    /// The request body.
    pub payload: Value,
    /// The idempotency key (commands): `instance/step`.
    pub idempotency_key: Option<String>,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectorError {
    /// It may work later (timeout, 429, 5xx, connection refused).
    #[error("{message}")]
    Retryable {
        /// What happened.
        message: String,
        /// How long the system asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// It will not work as sent (4xx other than 429, an unknown operation).
    #[error("{message}")]
    Permanent {
        /// What happened, with the system's answer.
        message: String,
    },
}

impl ConnectorError {
    /// Whether a retry may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ConnectorError::Retryable { .. })
    }
}

/// How a connector's calls have gone since the process started, as the connector itself saw
/// them (the engine's circuit breaker keeps its own count of consecutive failures).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorHealth {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed, retryable or permanent.
    pub failures: u64,
    /// The share of the last 100 calls (or fewer, if fewer were made) that failed, from 0.0 to
    /// 1.0; 0.0 before the first call.
    pub recent_error_rate: f64,
    /// When a call last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// When a call last failed.
    pub last_failure: Option<DateTime<Utc>>,
    /// What the last failure said (never a secret).
    pub last_error: Option<String>,
}

/// A system of record the engine reaches through named operations.
pub trait Connector: Send + Sync {
    /// Carries out a call.
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, ConnectorError>>;

    /// How the connector's calls have gone, for operators; `None` when it keeps no record.
    fn health(&self) -> Option<ConnectorHealth> {
        None
    }
}

/// The connectors an engine can call, by name. Built in one place (the server's start-up) and
/// handed to the engine.
#[derive(Clone, Default)]
pub struct Connectors {
    by_name: HashMap<String, Arc<dyn Connector>>,
}

impl Connectors {
    /// No connectors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a connector.
    pub fn with(mut self, name: &str, connector: Arc<dyn Connector>) -> Self {
        self.by_name.insert(name.to_owned(), connector);
        self
    }

    /// The connector with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Connector>> {
        self.by_name.get(name)
    }

    /// The health the connector with this name reports (`None` when there is no such connector
    /// or it keeps no record).
    pub fn health(&self, name: &str) -> Option<ConnectorHealth> {
        self.by_name.get(name).and_then(|c| c.health())
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.keys().cloned().collect();
        names.sort();
        names
    }
}

type Handler = dyn Fn(&Call) -> Result<Value, ConnectorError> + Send + Sync;

/// A connector answered by a function in the process. Commands are idempotent by key: a key
/// seen before returns the first answer without calling the function again, as a real system
/// honouring `Idempotency-Key` does.
pub struct InProcessConnector {
    handler: Box<Handler>,
    applied: Mutex<HashMap<String, Value>>,
}

impl InProcessConnector {
    /// A connector answering every call with `handler`.
    pub fn new(handler: impl Fn(&Call) -> Result<Value, ConnectorError> + Send + Sync + 'static) -> Self {
        InProcessConnector { handler: Box::new(handler), applied: Mutex::new(HashMap::new()) }
    }

    /// A connector that acknowledges every call at once with `{"acknowledged": true, "key": …}`.
    pub fn acknowledging() -> Self {
        Self::new(|call| Ok(serde_json::json!({"acknowledged": true, "key": call.idempotency_key})))
    }

    /// How many distinct commands it has applied.
    pub fn applied(&self) -> usize {
        self.applied.lock().map_or(0, |a| a.len())
    }
}

impl Connector for InProcessConnector {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, ConnectorError>> {
        let result = match (&call.kind, &call.idempotency_key) {
            (CallKind::Command, Some(key)) => {
                let known = self.applied.lock().ok().and_then(|a| a.get(key).cloned());
                match known {
                    Some(first) => Ok(first),
                    None => {
                        let answer = (self.handler)(&call);
                        if let (Ok(value), Ok(mut applied)) = (&answer, self.applied.lock()) {
                            applied.insert(key.clone(), value.clone());
                        }
                        answer
                    }
                }
            }
            _ => (self.handler)(&call),
        };
        Box::pin(async move { result })
    }
}
