//! A circuit breaker per connector: stop calling a system that keeps failing, probe it after a
//! pause, resume when a probe succeeds.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How a breaker behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive retryable failures that open it.
    pub failures_to_open: u32,
    /// How long it stays open before a probe.
    pub open_for: Duration,
    /// The longest pause after repeated failed probes (the pause doubles after each).
    pub max_open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failures_to_open: 5, open_for: Duration::seconds(5), max_open_for: Duration::minutes(2) }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// No calls until `until`.
    Open,
    /// One probe call is allowed; its result closes or reopens it.
    HalfOpen,
}

/// One connector's breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breaker {
    /// Where it stands.
    pub state: BreakerState,
    /// Consecutive failures.
    pub failures: u32,
    /// While open: when the probe may go.
    pub until: Option<DateTime<Utc>>,
    /// The current pause.
    #[serde(skip)]
    pause: Duration,
    /// Whether the probe is out.
    #[serde(skip)]
    probing: bool,
    #[serde(skip)]
    config: BreakerConfig,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            state: BreakerState::Closed,
            failures: 0,
            until: None,
            pause: config.open_for,
            probing: false,
            config,
        }
    }

    /// Whether a call may go now; `Err(t)` says when to ask again.
    pub fn allow(&mut self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open => {
                let until = self.until.unwrap_or(now);
                if now < until {
                    return Err(until);
                }
                self.state = BreakerState::HalfOpen;
                self.probing = true;
                Ok(())
            }
            BreakerState::HalfOpen if self.probing => Err(now + Duration::milliseconds(100)),
            BreakerState::HalfOpen => {
                self.probing = true;
                Ok(())
            }
        }
    }

    /// A call succeeded (or failed permanently, which shows the system answers).
    pub fn success(&mut self) {
        self.state = BreakerState::Closed;
        self.failures = 0;
        self.until = None;
        self.pause = self.config.open_for;
        self.probing = false;
    }

    /// A call failed in a way that may pass (timeout, 5xx, refused).
    pub fn failure(&mut self, now: DateTime<Utc>) {
        self.failures += 1;
        match self.state {
            BreakerState::HalfOpen => {
                self.pause = (self.pause * 2).min(self.config.max_open_for);
                self.open(now);
            }
            BreakerState::Closed if self.failures >= self.config.failures_to_open => self.open(now),
            _ => {}
        }
    }

    fn open(&mut self, now: DateTime<Utc>) {
        self.state = BreakerState::Open;
        self.until = Some(now + self.pause);
        self.probing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_probes_and_closes() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut b = Breaker::new(BreakerConfig { failures_to_open: 2, ..Default::default() });
        assert_eq!(b.allow(t0), Ok(()));
        b.failure(t0);
        assert_eq!(b.state, BreakerState::Closed);
        b.failure(t0);
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.allow(t0 + Duration::seconds(1)), Err(t0 + Duration::seconds(5)));
        assert_eq!(b.allow(t0 + Duration::seconds(5)), Ok(()), "the probe goes");
        assert_eq!(b.state, BreakerState::HalfOpen);
        assert!(b.allow(t0 + Duration::seconds(5)).is_err(), "one probe at a time");
        b.failure(t0 + Duration::seconds(6));
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.until, Some(t0 + Duration::seconds(16)), "the pause doubled");
        assert_eq!(b.allow(t0 + Duration::seconds(16)), Ok(()));
        b.success();
        assert_eq!(b.state, BreakerState::Closed);
        assert_eq!(b.allow(t0 + Duration::seconds(16)), Ok(()));
    }
}
