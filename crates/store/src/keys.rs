//! API keys: random secrets stored only as their SHA-256 hash.
//!
//! A key is `brk_` followed by 48 hex digits (192 random bits). SHA-256 is the right hash for
//! random secrets of that strength (argon2 is for passwords people choose).

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a new key should be.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    /// A name saying who or what uses the key.
    pub name: String,
    /// The roles the key holds (`admin` until roles come with governance).
    pub roles: Vec<String>,
    /// The location codes the key is limited to; empty for the whole company.
    pub scopes: Vec<String>,
}

/// A stored API key (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// The key's id.
    pub id: String,
    /// Who or what uses it.
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its location scopes; empty for the whole company.
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The hex SHA-256 of a secret.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn prefix_of(secret: &str) -> String {
    secret.chars().take(12).collect()
}

pub(crate) fn generate(key: &NewApiKey) -> (ApiKey, String) {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("brk_{}", hex::encode(bytes));
    let record = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        name: key.name.clone(),
        prefix: prefix_of(&secret),
        roles: key.roles.clone(),
        scopes: key.scopes.clone(),
        created_at: micros_to_time(Utc::now().timestamp_micros()),
        revoked_at: None,
    };
    (record, secret)
}

pub(crate) fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A database URL with its password replaced, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let new = NewApiKey { name: "n".into(), roles: vec!["admin".into()], scopes: vec![] };
        let (a, sa) = generate(&new);
        let (b, sb) = generate(&new);
        assert_ne!(sa, sb);
        assert_ne!(a.id, b.id);
        assert!(sa.starts_with("brk_") && sa.len() == 52);
        assert_eq!(hash_key(&sa).len(), 64);
        assert_eq!(a.prefix, &sa[..12]);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
