//! Login throttling: after too many failed logins for one login name or from one client address
//! within a window, further attempts are refused until the oldest failure leaves the window.
//!
//! The counts live in the memory of the process: they start empty when it starts, and several
//! processes sharing a PostgreSQL database each count their own attempts.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys (logins and addresses) tracked before old ones are swept out.
const MAX_TRACKED: usize = 100_000;

/// Failed logins per login name and per client address, within a sliding window.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// Refuses attempts after `max_failures` failures within `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { max_failures: max_failures.max(1), window, failures: Mutex::new(HashMap::new()) }
    }

    fn keys(login: &str, ip: Option<IpAddr>) -> Vec<String> {
        let mut keys = vec![format!("login:{login}")];
        keys.extend(ip.map(|ip| format!("ip:{ip}")));
        keys
    }

    /// How long to wait before the next attempt for this login from this address is heard;
    /// `None` when it may be tried now.
    pub fn wait(&self, login: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let failures = self.failures.lock().ok()?;
        Self::keys(login, ip)
            .iter()
            .filter_map(|k| failures.get(k))
            .filter_map(|times| {
                let recent: Vec<&Instant> = times.iter().filter(|t| now.duration_since(**t) < self.window).collect();
                (recent.len() >= self.max_failures as usize).then(|| {
                    // The attempt is heard again once enough failures have left the window.
                    let freeing = recent[recent.len() - self.max_failures as usize];
                    self.window.saturating_sub(now.duration_since(*freeing))
                })
            })
            .max()
    }

    /// Counts a failed attempt against the login and the address.
    pub fn failed(&self, login: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        for key in Self::keys(login, ip) {
            let times = failures.entry(key).or_default();
            while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                times.pop_front();
            }
            times.push_back(now);
        }
    }

    /// Forgets the failures of a login once its password was given correctly (the address's
    /// failures stay counted).
    pub fn succeeded(&self, login: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&format!("login:{login}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_after_the_limit_waits_for_the_window() {
        let t = LoginThrottle::new(3, Duration::from_secs(900));
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        for _ in 0..3 {
            assert!(t.wait("anna", Some(ip)).is_none());
            t.failed("anna", Some(ip));
        }
        let wait = t.wait("anna", None).expect("the login is throttled");
        assert!(wait > Duration::from_secs(890) && wait <= Duration::from_secs(900), "{wait:?}");
        assert!(t.wait("bert", Some(ip)).is_some(), "the address is throttled for every login");
        assert!(t.wait("bert", None).is_none(), "another login from elsewhere is not");
        t.succeeded("anna");
        assert!(t.wait("anna", None).is_none());
    }

    #[test]
    fn failures_leave_the_window() {
        let t = LoginThrottle::new(1, Duration::ZERO);
        t.failed("anna", None);
        assert!(t.wait("anna", None).is_none());
    }
}
