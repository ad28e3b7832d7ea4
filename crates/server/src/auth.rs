//! Authentication of `/v1` requests: by API key, by a person's session token, or by a token
//! from the configured OpenID Connect provider ([`crate::identity`]).
//!
//! Keys are looked up by the SHA-256 of the presented secret. Positive lookups are cached for a
//! few seconds so that a busy integration does not cost a database read per request; a revoked
//! key is therefore refused within [`CACHE_TTL`]. Sessions are looked up on every request, so
//! a disabled account's session is refused at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use backroom_model::{Grant, Role};
use backroom_store::{ApiKey, hash_key};
use serde::Serialize;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// How long a successful key lookup is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

/// Recently authenticated keys, by secret hash.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (ApiKey, Instant)>>,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<ApiKey> {
        let entries = self.entries.lock().ok()?;
        entries.get(hash).filter(|(_, at)| at.elapsed() < CACHE_TTL).map(|(k, _)| k.clone())
    }

    fn put(&self, hash: String, key: ApiKey) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_MAX {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(hash, (key, Instant::now()));
        }
    }
}

/// How a caller proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    /// A system, with an API key.
    Key,
    /// A person with a local account, with a session token from logging in.
    User,
    /// A person or system with a bearer token from the configured OpenID Connect issuer.
    Token,
}

/// Who sent a request, available to handlers as an extension: the name recorded as the actor of
/// what it does, and its grants (roles at scopes) that [`crate::permissions`] weighs.
#[derive(Clone, Debug, Serialize)]
pub struct Caller {
    /// How it authenticated.
    pub kind: CallerKind,
    /// The key's id, the user's id, or the token's subject.
    pub id: String,
    /// The name recorded as actor: the key's name, the user's login, or the token's subject.
    pub name: String,
    /// Its roles at their scopes.
    pub grants: Vec<Grant>,
}

impl Caller {
    /// The caller an API key stands for: each of its roles at each of its scopes (or over the
    /// company when it has none). Role names the model does not know grant nothing.
    pub fn from_key(key: &ApiKey) -> Caller {
        let roles = key.roles.iter().filter_map(|r| r.parse::<Role>().ok());
        let grants = if key.scopes.is_empty() {
            roles.map(Grant::company).collect()
        } else {
            roles.flat_map(|role| key.scopes.iter().map(move |s| Grant::at(role, s.clone()))).collect()
        };
        Caller { kind: CallerKind::Key, id: key.id.clone(), name: key.name.clone(), grants }
    }

    /// Its grants as text (`store_manager@S001, auditor`), for messages.
    pub fn grants_text(&self) -> String {
        if self.grants.is_empty() {
            return "no roles".to_owned();
        }
        self.grants.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// Whether a bearer secret has the shape of a JWT: three non-empty base64url segments.
pub fn looks_like_jwt(secret: &str) -> bool {
    let segments: Vec<&str> = secret.split('.').collect();
    segments.len() == 3
        && segments
            .iter()
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

impl Caller {
    /// The caller a person's session stands for: the account's login and grants.
    pub fn from_user(user: &backroom_store::User) -> Caller {
        Caller { kind: CallerKind::User, id: user.id.clone(), name: user.login.clone(), grants: user.grants.clone() }
    }
}

/// Middleware: finds who sent the request from its `Authorization: Bearer …` header — an API key
/// (`brk_…`), a session token from logging in (`brs_…`), or a JWT from the configured OpenID
/// Connect provider — and refuses the request with 401 when there is none or it is not valid.
pub async fn require_caller(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let secret = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "this route needs an `Authorization: Bearer <api key, session token or identity provider token>` header",
            )
        })?;
    let caller = if secret.starts_with("brs_") {
        let user = state.store.session(secret).await?.ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "the session token is unknown, expired or ended: log in again")
        })?;
        Caller::from_user(&user)
    } else if looks_like_jwt(secret) {
        let Some(oidc) = &state.identity.oidc else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "identity provider tokens are not accepted: this server has no [oidc] configuration",
            ));
        };
        oidc.verify(secret).await.map_err(|e| ApiError::new(ErrorCode::Unauthorized, e.0))?
    } else {
        Caller::from_key(&key_for(&state, secret).await?)
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

async fn key_for(state: &AppState, secret: &str) -> Result<ApiKey, ApiError> {
    let hash = hash_key(secret);
    if let Some(k) = state.keys.get(&hash) {
        return Ok(k);
    }
    let k = state
        .store
        .authenticate(secret)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "the API key is unknown or revoked"))?;
    state.keys.put(hash, k.clone());
    Ok(k)
}
