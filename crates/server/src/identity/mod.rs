//! Who may call the API besides API keys: people with local accounts (login, password, session
//! token) and tokens from an OpenID Connect identity provider.

pub mod oidc;
pub mod throttle;

use std::time::Duration;

use crate::config::Config;

/// How people authenticate: session length, login throttling, and the identity provider.
#[derive(Debug)]
pub struct Identity {
    /// How long a session opened by logging in lasts.
    pub session_ttl: chrono::Duration,
    /// Failed logins, counted in this process.
    pub throttle: throttle::LoginThrottle,
    /// The OpenID Connect provider whose tokens are accepted, when one is configured.
    pub oidc: Option<oidc::OidcVerifier>,
}

impl Default for Identity {
    /// Sessions of 8 hours, 5 failures per 15 minutes, no identity provider.
    fn default() -> Self {
        Identity {
            session_ttl: chrono::Duration::minutes(480),
            throttle: throttle::LoginThrottle::new(5, Duration::from_secs(900)),
            oidc: None,
        }
    }
}

impl Identity {
    /// The identity settings of a configuration; loads the identity provider's keys when
    /// `[oidc]` is configured.
    pub async fn from_config(config: &Config) -> Result<Identity, oidc::OidcSetupError> {
        let oidc = match &config.oidc {
            Some(c) => Some(oidc::OidcVerifier::new(c.clone()).await?),
            None => None,
        };
        Ok(Identity {
            session_ttl: chrono::Duration::minutes(i64::from(config.session_ttl_minutes)),
            throttle: throttle::LoginThrottle::new(
                config.login_max_failures,
                Duration::from_secs(config.login_window_seconds),
            ),
            oidc,
        })
    }
}
