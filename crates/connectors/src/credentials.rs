//! Credentials read from the environment at load, and request signing.
//!
//! Secret values live only in [`Secret`], whose `Debug` shows nothing, and are never put into an
//! error or a log line.

use std::fmt;

use hmac::{Hmac, Mac};
use reqwest::header::{HeaderName, HeaderValue};
use sha2::Sha256;

use crate::config::{ConfigError, HttpConfig};

/// Where settings that name environment variables read them: the process environment, or a
/// function standing in for it.
pub type Environment<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A value that must not be shown.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub(crate) enum Credentials {
    /// No authentication.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic <username:password>`.
    Basic { username: String, password: Secret },
    /// A signature header over the request.
    Hmac { secret: Secret, header: HeaderName, key_id: Option<String> },
}

impl Credentials {
    /// Reads the credentials a configuration names; at most one kind may be set.
    pub(crate) fn load(config: &HttpConfig, env: Environment<'_>) -> Result<Self, ConfigError> {
        let chosen = [config.bearer_token_env.is_some(), config.basic.is_some(), config.hmac.is_some()];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err(ConfigError::field(
                "bearer_token_env, basic, hmac",
                "more than one authentication is set; choose one of bearer_token_env, basic or hmac",
            ));
        }
        let read = |field: &str, var: &str| -> Result<Secret, ConfigError> {
            if var.trim().is_empty() {
                return Err(ConfigError::field(field, "names no environment variable; write its name"));
            }
            env(var).map(Secret).ok_or_else(|| {
                ConfigError::field(field, format!("names the environment variable {var}, which is not set"))
            })
        };
        if let Some(var) = &config.bearer_token_env {
            return Ok(Credentials::Bearer(read("bearer_token_env", var)?));
        }
        if let Some(basic) = &config.basic {
            let password = read("basic.password_env", &basic.password_env)?;
            return Ok(Credentials::Basic { username: basic.username.clone(), password });
        }
        if let Some(hmac) = &config.hmac {
            let secret = read("hmac.secret_env", &hmac.secret_env)?;
            let header = HeaderName::from_bytes(hmac.header.as_bytes()).map_err(|_| {
                ConfigError::field(
                    "hmac.header",
                    format!("{:?} is not a header name; write e.g. X-Signature", hmac.header),
                )
            })?;
            if let Some(kid) = &hmac.key_id
                && (kid.is_empty() || kid.contains([',', '=']) || HeaderValue::from_str(kid).is_err())
            {
                return Err(ConfigError::field(
                    "hmac.key_id",
                    format!("{kid:?} cannot be sent in a header; use visible characters other than ',' and '='"),
                ));
            }
            return Ok(Credentials::Hmac { secret, header, key_id: hmac.key_id.clone() });
        }
        Ok(Credentials::None)
    }

    /// The kind, for display (`none`, `bearer`, `basic`, `hmac`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Credentials::None => "none",
            Credentials::Bearer(_) => "bearer",
            Credentials::Basic { .. } => "basic",
            Credentials::Hmac { .. } => "hmac",
        }
    }
}

/// The signature header value for a request:
/// `t=<unix>,v1=<hex of HMAC-SHA256(secret, "<unix>.<METHOD>.<path_and_query>.<body>")>`, with
/// `,kid=<key_id>` appended when a key id is configured.
pub(crate) fn signature(
    secret: &Secret,
    unix_seconds: i64,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    key_id: Option<&str>,
) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes()).expect("any key length");
    mac.update(format!("{unix_seconds}.{method}.{path_and_query}.").as_bytes());
    mac.update(body);
    let digest = hex::encode(mac.finalize().into_bytes());
    match key_id {
        Some(kid) => format!("t={unix_seconds},v1={digest},kid={kid}"),
        None => format!("t={unix_seconds},v1={digest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BasicAuthConfig, HmacConfig};

    #[test]
    fn the_signature_covers_time_method_target_and_body() {
        let secret = Secret("wms-signing-secret".to_owned());
        let sign = |t, m, pq, body: &[u8]| signature(&secret, t, m, pq, body, None);
        let base = sign(1_767_225_600, "POST", "/api/transfer-orders", b"{\"item\":\"SKU-1\"}");
        assert!(base.starts_with("t=1767225600,v1=") && base.len() == "t=1767225600,v1=".len() + 64, "{base}");
        assert_ne!(base, sign(1_767_225_600, "POST", "/api/transfer-orders", b"{\"item\":\"SKU-2\"}"));
        assert_ne!(base, sign(1_767_225_600, "PUT", "/api/transfer-orders", b"{\"item\":\"SKU-1\"}"));
        assert_ne!(base, sign(1_767_225_600, "POST", "/api/transfer-orders?dc=DC1", b"{\"item\":\"SKU-1\"}"));
        assert_ne!(base[16..], sign(1_767_225_601, "POST", "/api/transfer-orders", b"{\"item\":\"SKU-1\"}")[16..]);
        let with_kid = signature(&secret, 1, "GET", "/a?b=c", b"", Some("2026-01"));
        assert!(with_kid.starts_with("t=1,v1=") && with_kid.ends_with(",kid=2026-01"), "{with_kid}");
    }

    #[test]
    fn secrets_are_read_once_and_never_shown() {
        let env = |var: &str| (var == "ERP_PASSWORD").then(|| "s3cret-pass".to_owned());
        let mut config = HttpConfig::new("http://127.0.0.1:9100/api");
        config.basic = Some(BasicAuthConfig { username: "backroom".into(), password_env: "ERP_PASSWORD".into() });
        let credentials = Credentials::load(&config, &env).expect("loaded");
        assert!(!format!("{credentials:?}").contains("s3cret-pass"));
        assert_eq!(credentials.kind(), "basic");

        config.hmac = Some(HmacConfig { secret_env: "WMS_SECRET".into(), header: "X-Signature".into(), key_id: None });
        let both = Credentials::load(&config, &env).expect_err("two kinds").to_string();
        assert!(both.contains("choose one"), "{both}");

        config.basic = None;
        let missing = Credentials::load(&config, &env).expect_err("unset").to_string();
        assert!(missing.contains("hmac.secret_env") && missing.contains("WMS_SECRET"), "{missing}");
    }
}
