//! A connector's own record of how its calls went.

use std::collections::VecDeque;
use std::sync::Mutex;

use backroom_engine::connector::{ConnectorError, ConnectorHealth};
use chrono::{DateTime, Utc};

/// How many recent calls the error rate covers.
pub const RECENT_CALLS: usize = 100;

#[derive(Debug, Default)]
struct Record {
    calls: u64,
    failures: u64,
    recent: VecDeque<bool>,
    last_success: Option<DateTime<Utc>>,
    last_failure: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

/// Counts calls and failures, and keeps the outcome of the last [`RECENT_CALLS`] calls.
#[derive(Debug, Default)]
pub struct HealthRecord {
    record: Mutex<Record>,
}

impl HealthRecord {
    /// Records one call's outcome at `at`.
    pub fn record<T>(&self, outcome: &Result<T, ConnectorError>, at: DateTime<Utc>) {
        let Ok(mut r) = self.record.lock() else { return };
        r.calls += 1;
        if r.recent.len() == RECENT_CALLS {
            r.recent.pop_front();
        }
        match outcome {
            Ok(_) => {
                r.recent.push_back(false);
                r.last_success = Some(at);
            }
            Err(e) => {
                r.failures += 1;
                r.recent.push_back(true);
                r.last_failure = Some(at);
                r.last_error = Some(e.to_string());
            }
        }
    }

    /// The record as the engine's [`ConnectorHealth`].
    pub fn snapshot(&self) -> ConnectorHealth {
        let Ok(r) = self.record.lock() else {
            return ConnectorHealth {
                calls: 0,
                failures: 0,
                recent_error_rate: 0.0,
                last_success: None,
                last_failure: None,
                last_error: None,
            };
        };
        let failed = r.recent.iter().filter(|f| **f).count();
        ConnectorHealth {
            calls: r.calls,
            failures: r.failures,
            recent_error_rate: if r.recent.is_empty() { 0.0 } else { failed as f64 / r.recent.len() as f64 },
            last_success: r.last_success,
            last_failure: r.last_failure,
            last_error: r.last_error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_error_rate_covers_the_last_hundred_calls() {
        let health = HealthRecord::default();
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("time");
        let failure: Result<(), _> =
            Err(ConnectorError::Retryable { message: "erp: HTTP 503".into(), retry_after: None });
        for i in 0..50 {
            health.record(&failure, start + chrono::Duration::seconds(i));
        }
        for i in 50..150 {
            health.record(&Ok::<_, ConnectorError>(()), start + chrono::Duration::seconds(i));
        }
        let h = health.snapshot();
        assert_eq!((h.calls, h.failures), (150, 50));
        assert_eq!(h.recent_error_rate, 0.0, "the failures are older than the last 100 calls");
        assert_eq!(h.last_failure, Some(start + chrono::Duration::seconds(49)));
        assert_eq!(h.last_success, Some(start + chrono::Duration::seconds(149)));
        assert_eq!(h.last_error.as_deref(), Some("erp: HTTP 503"));
        for i in 150..175 {
            health.record(&failure, start + chrono::Duration::seconds(i));
        }
        assert_eq!(health.snapshot().recent_error_rate, 0.25);
    }
}
