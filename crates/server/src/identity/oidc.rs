//! Bearer tokens from an OpenID Connect identity provider: JWTs signed with RS256 or ES256,
//! checked against the provider's published keys (JWKS), and their claims mapped to grants.
//!
//! The keys come from a file read at start, or from a URL fetched at start and fetched again
//! when a token names a key id (`kid`) the cached set does not hold — at most once per
//! [`REFRESH_EVERY`], so a flood of tokens with made-up key ids cannot make Backroom hammer the
//! provider. The issuer (`iss`), audience (`aud`), expiry (`exp`) and not-before time (`nbf`)
//! are checked with `leeway_seconds` of tolerance for clock skew.
//!
//! Grants come from two places, both optional: `grants_claim` holds grant strings as Backroom
//! writes them (`store_manager@S001`, `auditor`); `roles_claim` holds the provider's group or
//! role names, which `[oidc.role_map]` maps to Backroom roles, scoped to the location code in
//! `location_claim` (the whole company when the token has none). A token whose claims map to no
//! grant still authenticates — its caller may then do nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use backroom_model::{Grant, Role};
use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Caller, CallerKind};

/// The shortest time between two fetches of the key set triggered by unknown key ids.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// How long a key set fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The `[oidc]` section of the configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer tokens must name in `iss`, exactly (such as `https://login.example.com/realms/retail`).
    pub issuer: String,
    /// The audience tokens must name in `aud` (the client id Backroom is registered under).
    pub audience: String,
    /// Where the provider publishes its signing keys (JWKS), fetched at start and when a token
    /// names an unknown key id. Give this or `jwks_file`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// A file holding the signing keys (JWKS), read at start. Give this or `jwks_url`.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// The claim holding grant strings (`store_manager@S001`, `auditor`); default `backroom_grants`.
    #[serde(default = "default_grants_claim")]
    pub grants_claim: String,
    /// The claim holding the provider's group or role names, mapped through `role_map`
    /// (a dotted path such as `realm_access.roles` reaches into nested claims).
    #[serde(default)]
    pub roles_claim: Option<String>,
    /// Provider group or role name → Backroom role name.
    #[serde(default)]
    pub role_map: BTreeMap<String, String>,
    /// The claim holding the location code that scopes the roles mapped from `roles_claim`;
    /// when the token has none, they apply to the whole company.
    #[serde(default)]
    pub location_claim: Option<String>,
    /// Seconds of clock skew tolerated on `exp` and `nbf` (default 60).
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
}

fn default_grants_claim() -> String {
    "backroom_grants".to_owned()
}

fn default_leeway() -> u64 {
    60
}

/// A problem with the `[oidc]` configuration or the provider's key set.
#[derive(Debug, thiserror::Error)]
#[error("oidc: {0}")]
pub struct OidcSetupError(String);

/// Why a token was refused. The message is for the caller: it never holds the token.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenRefused(pub String);

/// One usable signing key.
struct SigningKey {
    key: DecodingKey,
    /// The algorithm the key set pins it to, when it does.
    alg: Option<Algorithm>,
}

/// Where the signing keys come from.
enum KeySource {
    File,
    Url { url: String, client: reqwest::Client },
}

/// Checks tokens of the configured provider and turns them into callers.
pub struct OidcVerifier {
    config: OidcConfig,
    role_map: Vec<(String, Role)>,
    source: KeySource,
    keys: RwLock<HashMap<String, std::sync::Arc<SigningKey>>>,
    /// When an unknown key id last made us fetch the set (serialises those fetches too).
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// Checks the configuration and loads the key set: from the file (which must hold at least
    /// one usable key), or from the URL (a provider unreachable at start is logged, and asked
    /// again when the first token arrives).
    pub async fn new(config: OidcConfig) -> Result<Self, OidcSetupError> {
        if config.issuer.trim().is_empty() || config.audience.trim().is_empty() {
            return Err(OidcSetupError("`issuer` and `audience` must both be set".to_owned()));
        }
        let mut role_map = Vec::new();
        for (group, role) in &config.role_map {
            let role: Role = role.parse().map_err(|e| OidcSetupError(format!("role_map.{group:?}: {e}")))?;
            role_map.push((group.clone(), role));
        }
        let source = match (&config.jwks_url, &config.jwks_file) {
            (Some(url), None) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(OidcSetupError(format!("jwks_url {url:?} must be an http:// or https:// URL")));
                }
                // TLS runs on ring; installing it is a no-op when the process already has a provider.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .build()
                    .map_err(|e| OidcSetupError(format!("cannot build the HTTP client: {e}")))?;
                KeySource::Url { url: url.clone(), client }
            }
            (None, Some(_)) => KeySource::File,
            _ => return Err(OidcSetupError("give exactly one of `jwks_url` and `jwks_file`".to_owned())),
        };
        let verifier = OidcVerifier {
            config,
            role_map,
            source,
            keys: RwLock::new(HashMap::new()),
            last_refresh: tokio::sync::Mutex::new(None),
        };
        match &verifier.source {
            KeySource::File => {
                let path = verifier.config.jwks_file.clone().unwrap_or_default();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| OidcSetupError(format!("cannot read jwks_file {}: {e}", path.display())))?;
                let keys = parse_key_set(&text).map_err(|e| OidcSetupError(format!("{}: {e}", path.display())))?;
                if keys.is_empty() {
                    return Err(OidcSetupError(format!(
                        "{} holds no RSA or P-256 signing key: Backroom accepts RS256 and ES256 tokens",
                        path.display()
                    )));
                }
                verifier.replace_keys(keys);
            }
            KeySource::Url { url, .. } => match verifier.fetch().await {
                Ok(keys) => verifier.replace_keys(keys),
                Err(e) => {
                    tracing::warn!(%url, error = %e, "cannot load the identity provider's keys; trying again on the first token")
                }
            },
        }
        Ok(verifier)
    }

    fn replace_keys(&self, keys: HashMap<String, std::sync::Arc<SigningKey>>) {
        if let Ok(mut current) = self.keys.write() {
            *current = keys;
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, std::sync::Arc<SigningKey>>, String> {
        let KeySource::Url { url, client } = &self.source else {
            return Err("the keys come from a file".to_owned());
        };
        let response = client.get(url).send().await.map_err(|e| format!("cannot fetch {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let text = response.text().await.map_err(|e| format!("cannot read {url}: {e}"))?;
        parse_key_set(&text)
    }

    fn lookup(&self, kid: Option<&str>) -> Option<std::sync::Arc<SigningKey>> {
        let keys = self.keys.read().ok()?;
        match kid {
            Some(kid) => keys.get(kid).cloned(),
            // A token without a key id is accepted only when the set leaves no doubt.
            None if keys.len() == 1 => keys.values().next().cloned(),
            None => None,
        }
    }

    /// The key for `kid`, fetching the set again (at most once per [`REFRESH_EVERY`]) when it
    /// is unknown and the keys come from a URL.
    async fn key_for(&self, kid: Option<&str>) -> Result<std::sync::Arc<SigningKey>, TokenRefused> {
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        let unknown = || {
            TokenRefused(match kid {
                Some(kid) => {
                    format!("the token is signed with key {kid:?}, which the identity provider does not publish")
                }
                None => "the token names no signing key (`kid`) and the identity provider publishes several".to_owned(),
            })
        };
        if matches!(self.source, KeySource::File) {
            return Err(unknown());
        }
        let mut last = self.last_refresh.lock().await;
        // Another request may have fetched the set while this one waited.
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        if last.is_some_and(|at| at.elapsed() < REFRESH_EVERY) {
            return Err(unknown());
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => self.replace_keys(keys),
            Err(e) => {
                tracing::warn!(error = %e, "cannot refresh the identity provider's keys");
            }
        }
        drop(last);
        self.lookup(kid).ok_or_else(unknown)
    }

    /// Checks a token's signature and claims and returns the caller it stands for.
    pub async fn verify(&self, token: &str) -> Result<Caller, TokenRefused> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenRefused(format!("the bearer token is not a readable JWT: {e}")))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(TokenRefused(format!(
                "the token is signed with {:?}; Backroom accepts RS256 and ES256",
                header.alg
            )));
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        if key.key.family() != header.alg.family() || key.alg.is_some_and(|a| a != header.alg) {
            return Err(TokenRefused(format!("the token's algorithm {:?} does not match its signing key", header.alg)));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway_seconds;
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| TokenRefused(refusal(e.kind())))?;
        let claims = data.claims;
        let subject = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        if subject.is_empty() {
            return Err(TokenRefused("the token has an empty subject (`sub`)".to_owned()));
        }
        let grants = self.grants(&claims);
        Ok(Caller { kind: CallerKind::Token, id: subject.clone(), name: subject, grants })
    }

    /// The grants a token's claims carry.
    fn grants(&self, claims: &serde_json::Map<String, Value>) -> Vec<Grant> {
        let mut grants: Vec<Grant> =
            strings(claim(claims, &self.config.grants_claim)).iter().filter_map(|g| g.parse().ok()).collect();
        if let Some(roles_claim) = &self.config.roles_claim {
            let location = self
                .config
                .location_claim
                .as_deref()
                .and_then(|c| claim(claims, c))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|l| !l.is_empty());
            for group in strings(claim(claims, roles_claim)) {
                for (_, role) in self.role_map.iter().filter(|(g, _)| *g == group) {
                    grants.push(match location {
                        Some(l) => Grant::at(*role, l),
                        None => Grant::company(*role),
                    });
                }
            }
        }
        grants.sort();
        grants.dedup();
        grants
    }
}

/// A claim by name, or by dotted path into nested objects when no claim has the whole name.
fn claim<'a>(claims: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// The strings of a claim: an array of strings, or one string of space-separated names.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn refusal(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => "the token's signature does not verify with the identity provider's key".to_owned(),
        K::ExpiredSignature => "the token has expired".to_owned(),
        K::ImmatureSignature => "the token is not valid yet (`nbf` is in the future)".to_owned(),
        K::InvalidIssuer => "the token was issued by another issuer than the one configured".to_owned(),
        K::InvalidAudience => "the token is meant for another audience than Backroom's".to_owned(),
        K::MissingRequiredClaim(c) => format!("the token lacks the `{c}` claim"),
        K::InvalidClaimFormat(c) => format!("the token's `{c}` claim is malformed"),
        other => format!("the token is not valid: {other:?}"),
    }
}

/// The RS256/ES256 signing keys of a JWKS document, by key id (`""` for a key without one).
fn parse_key_set(text: &str) -> Result<HashMap<String, std::sync::Arc<SigningKey>>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
            Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
            Some(_) => continue,
        };
        let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
        if !matches!(key.family(), jsonwebtoken::AlgorithmFamily::Rsa | jsonwebtoken::AlgorithmFamily::Ec) {
            continue;
        }
        let kid = jwk.common.key_id.clone().unwrap_or_default();
        keys.insert(kid, std::sync::Arc::new(SigningKey { key, alg }));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_by_name_or_dotted_path() {
        let claims: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
            "https://example.com/roles": ["a"], "realm_access": {"roles": ["store-managers"]}, "scope": "x y"
        }))
        .expect("claims");
        assert_eq!(strings(claim(&claims, "https://example.com/roles")), ["a"]);
        assert_eq!(strings(claim(&claims, "realm_access.roles")), ["store-managers"]);
        assert_eq!(strings(claim(&claims, "scope")), ["x", "y"]);
        assert!(claim(&claims, "realm_access.missing").is_none());
    }
}
