//! Fault injection: latency, slow requests, 503 errors and outage windows.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The faults a reference system injects into its `/api` requests. The default injects none.
///
/// `error_rate` and `slow_rate` are drawn from a random stream seeded with `seed`, so the same
/// sequence of requests meets the same faults on every run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Milliseconds added to every request.
    pub latency_ms: u64,
    /// Share of requests answered 503 (0.0..=1.0).
    pub error_rate: f64,
    /// Share of requests delayed by `slow_ms` (0.0..=1.0).
    pub slow_rate: f64,
    /// Extra delay of a slow request, in milliseconds.
    pub slow_ms: u64,
    /// A window during which every request is answered 503 with `Retry-After`.
    pub outage: Option<Outage>,
    /// Seed of the random stream that decides which requests fail or are slow.
    pub seed: u64,
}

/// A window of unavailability: requests in `[from, until)` are answered 503.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// Start of the outage.
    pub from: DateTime<Utc>,
    /// End of the outage (exclusive).
    pub until: DateTime<Utc>,
}

impl Faults {
    /// Checks the ranges; on failure returns the field and what would be accepted.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        for (field, rate) in [("error_rate", self.error_rate), ("slow_rate", self.slow_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err((field, format!("{rate} is out of range; expected a share between 0.0 and 1.0")));
            }
        }
        if let Some(outage) = &self.outage
            && outage.until <= outage.from
        {
            return Err(("outage.until", "must be later than outage.from".to_string()));
        }
        Ok(())
    }
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Milliseconds to wait before answering (latency plus, for a slow request, `slow_ms`).
    pub delay_ms: u64,
    /// Refuse the request with 503; `Some(seconds)` adds `Retry-After`.
    pub refuse: Option<Refusal>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A random error drawn from `error_rate`.
    Error,
    /// Inside an outage window; retry after this many seconds.
    Outage { retry_after_secs: u64 },
}

/// The current faults and their random stream.
pub(crate) struct FaultState {
    faults: Faults,
    rng: ChaCha8Rng,
}

impl FaultState {
    /// Starts the random stream from the faults' seed.
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(faults.seed);
        Self { faults, rng }
    }

    /// The faults in force.
    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the faults and restarts the random stream from the new seed.
    pub(crate) fn replace(&mut self, faults: Faults) {
        *self = Self::new(faults);
    }

    /// Decides the fate of one request arriving at `now`.
    pub(crate) fn judge(&mut self, now: DateTime<Utc>) -> Verdict {
        let faults = &self.faults;
        let mut delay_ms = faults.latency_ms;
        // Both draws happen for every request so that the stream stays aligned whatever the rates.
        let error_draw: f64 = self.rng.random();
        let slow_draw: f64 = self.rng.random();
        if slow_draw < faults.slow_rate {
            delay_ms = delay_ms.saturating_add(faults.slow_ms);
        }
        let refuse = match &faults.outage {
            Some(outage) if outage.from <= now && now < outage.until => {
                let millis = (outage.until - now).num_milliseconds().max(0) as u64;
                Some(Refusal::Outage { retry_after_secs: millis.div_ceil(1000).max(1) })
            }
            _ if error_draw < faults.error_rate => Some(Refusal::Error),
            _ => None,
        };
        Verdict { delay_ms, refuse }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, m, s).unwrap()
    }

    #[test]
    fn error_rate_is_deterministic_for_a_seed() {
        let faults = Faults { error_rate: 0.3, seed: 42, ..Faults::default() };
        let run = |f: &Faults| {
            let mut state = FaultState::new(f.clone());
            (0..200).map(|_| state.judge(at(9, 0, 0)).refuse.is_some()).collect::<Vec<_>>()
        };
        let first = run(&faults);
        assert_eq!(first, run(&faults));
        let refused = first.iter().filter(|r| **r).count();
        assert!((30..=90).contains(&refused), "{refused} of 200 refused at a 30% error rate");
        assert_ne!(first, run(&Faults { seed: 43, ..faults.clone() }));
    }

    #[test]
    fn outage_window_gives_retry_after_until_its_end() {
        let faults = Faults { outage: Some(Outage { from: at(9, 0, 0), until: at(9, 10, 0) }), ..Faults::default() };
        let mut state = FaultState::new(faults);
        assert_eq!(state.judge(at(8, 59, 59)).refuse, None);
        assert_eq!(state.judge(at(9, 8, 30)).refuse, Some(Refusal::Outage { retry_after_secs: 90 }));
        assert_eq!(state.judge(at(9, 10, 0)).refuse, None);
    }

    #[test]
    fn rates_outside_the_unit_interval_are_refused() {
        let bad = Faults { slow_rate: 1.5, ..Faults::default() };
        assert_eq!(bad.validate().unwrap_err().0, "slow_rate");
        assert!(Faults { error_rate: 1.0, ..Faults::default() }.validate().is_ok());
    }
}
