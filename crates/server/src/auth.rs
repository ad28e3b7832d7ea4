//! Authentication of `/v1` requests by API key.
//!
//! Keys are looked up by the SHA-256 of the presented secret. Positive lookups are cached for a
//! few seconds so that a busy integration does not cost a database read per request; a revoked
//! key is therefore refused within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use backroom_store::{ApiKey, hash_key};

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

/// The key a request was authenticated with, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct Caller(pub ApiKey);

/// Middleware: refuses a request without a valid bearer key with 401.
pub async fn require_key(
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
            ApiError::new(ErrorCode::Unauthorized, "this route needs an `Authorization: Bearer <api key>` header")
        })?;
    let hash = hash_key(secret);
    let key = match state.keys.get(&hash) {
        Some(k) => k,
        None => {
            let k = state
                .store
                .authenticate(secret)
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "the API key is unknown or revoked"))?;
            state.keys.put(hash, k.clone());
            k
        }
    };
    request.extensions_mut().insert(Caller(key));
    Ok(next.run(request).await)
}
