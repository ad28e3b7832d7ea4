//! Per-caller rate limits: one keyed token bucket per process, shared by all its connections.
//!
//! Every authenticated caller (by [`Caller::id`]) and every inbound webhook source has a bucket
//! of `rate_limit_burst` requests, refilled at `rate_limit_per_second`. A request finding its
//! bucket empty is answered 429 `rate_limited` with `Retry-After` (whole seconds until a request
//! would be allowed); one caller's burst never slows another.

use std::num::NonZeroU32;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// Buckets kept before idle ones (full again) are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// The rate limiter of a process.
pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    per_second: u32,
    burst: u32,
}

impl RateLimits {
    /// Buckets of `burst` requests refilled at `per_second` (each at least 1).
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = per_second.max(1);
        let burst = burst.max(1);
        let quota = Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default(), per_second, burst }
    }

    /// Takes one request from `key`'s bucket, or answers `rate_limited` naming `who`.
    pub fn check(&self, key: &str, who: &str) -> Result<(), ApiError> {
        if self.limiter.len() > PRUNE_ABOVE {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "{who} sent more than {} requests at once ({} per second sustained); retry in {} s",
                        self.burst,
                        self.per_second,
                        seconds.max(1)
                    ),
                )
                .with_retry_after(seconds.max(1)))
            }
        }
    }
}

/// Middleware on `/v1` (after authentication): refuses a caller over its rate with 429.
pub async fn limit_callers(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(caller) = request.extensions().get::<Caller>() {
        state.limits.check(&format!("caller:{}", caller.id), &format!("{:?}", caller.name))?;
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_burst_waits_while_another_key_goes_on() {
        let limits = RateLimits::new(1, 3);
        for _ in 0..3 {
            limits.check("a", "a").expect("within the burst");
        }
        let refused = limits.check("a", "a").expect_err("over the burst");
        assert_eq!(refused.code(), ErrorCode::RateLimited);
        assert_eq!(refused.retry_after(), Some(1));
        limits.check("b", "b").expect("another key has its own bucket");
    }
}
