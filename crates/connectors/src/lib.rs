//! Connectors from the Backroom engine to systems of record.
//!
//! [`HttpConnector`] calls a system's HTTP API: each operation is a request (by default
//! `POST {url}/{operation}` with the payload as JSON). Commands carry their idempotency key in the
//! `Idempotency-Key` header, so a system that honours it applies a repeated delivery once.
//! Failures are classified for the engine: timeouts, connection errors, `408`, `429` (with its
//! `Retry-After`) and `5xx` are retryable; other `4xx` are permanent, with the system's answer
//! kept for the dead-letter view.
//!
//! Connectors are configured in TOML ([`ConnectorsFile`]):
//!
//! ```toml
//! [erp]
//! url = "http://127.0.0.1:9100/api"
//! timeout_ms = 5000
//! bearer_token_env = "ERP_TOKEN"        # optional: the token is read from this variable
//!
//! [erp.operations.create_transfer]       # optional: how one operation is called
//! method = "POST"
//! path = "/transfers"
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backroom_engine::connector::{BoxFuture, Call, CallKind, Connector, ConnectorError, Connectors};
use serde::Deserialize;
use serde_json::Value;

/// A connectors file: connector name → its configuration.
pub type ConnectorsFile = BTreeMap<String, HttpConfig>;

/// How to reach one system over HTTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Base URL; operation paths are appended to it.
    pub url: String,
    /// Longest wait for an answer, in milliseconds (default 10,000).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// The name of an environment variable holding a bearer token.
    #[serde(default)]
    pub bearer_token_env: Option<String>,
    /// Operations that are not `POST {url}/{operation}`.
    #[serde(default)]
    pub operations: BTreeMap<String, OperationConfig>,
}

fn default_timeout() -> u64 {
    10_000
}

/// How one operation is called.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationConfig {
    /// `POST` (default), `PUT`, `PATCH`, `GET` or `DELETE`.
    #[serde(default)]
    pub method: Option<String>,
    /// The path after the base URL (default `/{operation}`).
    #[serde(default)]
    pub path: Option<String>,
}

/// A connectors file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Reads a connectors file and builds the connectors it names.
pub fn from_toml(text: &str, file: &str) -> Result<Connectors, ConfigError> {
    let parsed: ConnectorsFile = toml::from_str(text).map_err(|e| ConfigError(format!("{file}: {e}")))?;
    let mut connectors = Connectors::new();
    for (name, config) in parsed {
        let connector = HttpConnector::new(&name, config).map_err(|e| ConfigError(format!("{file}: [{name}]: {e}")))?;
        connectors = connectors.with(&name, Arc::new(connector));
    }
    Ok(connectors)
}

/// A connector that calls a system's HTTP API.
pub struct HttpConnector {
    name: String,
    config: HttpConfig,
    client: reqwest::Client,
    token: Option<String>,
}

impl HttpConnector {
    /// A connector named `name`.
    pub fn new(name: &str, config: HttpConfig) -> Result<Self, ConfigError> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| ConfigError(format!("url {:?} is not a URL: {e}", config.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError(format!("url {:?} must start with http:// or https://", config.url)));
        }
        for (op, o) in &config.operations {
            if let Some(m) = &o.method
                && !matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "GET" | "DELETE")
            {
                return Err(ConfigError(format!("operations.{op}.method {m:?}: use POST, PUT, PATCH, GET or DELETE")));
            }
        }
        let token = match &config.bearer_token_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                ConfigError(format!("bearer_token_env names {var}, which is not set in the environment"))
            })?),
            None => None,
        };
        // TLS runs on ring; installing it is a no-op when the process already has a provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| ConfigError(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpConnector { name: name.to_owned(), config, client, token })
    }

    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let op = self.config.operations.get(&call.operation);
        let path = op.and_then(|o| o.path.clone()).unwrap_or_else(|| format!("/{}", call.operation));
        let url = format!("{}{}", self.config.url.trim_end_matches('/'), path);
        let method = op.and_then(|o| o.method.as_deref()).unwrap_or("POST");
        let mut request = match method {
            "GET" => self.client.get(&url).query(&flat_query(&call.payload)),
            "DELETE" => self.client.delete(&url),
            "PUT" => self.client.put(&url).json(&call.payload),
            "PATCH" => self.client.patch(&url).json(&call.payload),
            _ => self.client.post(&url).json(&call.payload),
        };
        if let (CallKind::Command, Some(key)) = (call.kind, &call.idempotency_key) {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }
}

/// A flat JSON object as query parameters (for `GET` queries).
fn flat_query(payload: &Value) -> Vec<(String, String)> {
    payload
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect())
        .unwrap_or_default()
}

impl Connector for HttpConnector {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, ConnectorError>> {
        Box::pin(async move {
            let what = format!("{}.{}", self.name, call.operation);
            let response = self.request(&call).send().await.map_err(|e| ConnectorError::Retryable {
                message: format!("{what}: {}", if e.is_timeout() { "timed out".to_owned() } else { e.to_string() }),
                retry_after: None,
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.text().await.map_err(|e| ConnectorError::Retryable {
                message: format!("{what}: reading the answer failed: {e}"),
                retry_after: None,
            })?;
            if status.is_success() {
                return Ok(if body.trim().is_empty() {
                    Value::Object(Default::default())
                } else {
                    serde_json::from_str(&body).unwrap_or(Value::String(body))
                });
            }
            let excerpt: String = body.chars().take(2000).collect();
            let message = format!("{what}: HTTP {status}: {excerpt}");
            if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
                Err(ConnectorError::Retryable { message, retry_after })
            } else {
                Err(ConnectorError::Permanent { message })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_connectors_file() {
        let connectors = from_toml(
            "[erp]\nurl = \"http://127.0.0.1:9/api\"\n[erp.operations.lookup]\nmethod = \"GET\"\npath = \"/items\"\n",
            "connectors.toml",
        )
        .expect("valid");
        assert_eq!(connectors.names(), ["erp"]);
        let bad = from_toml("[erp]\nurl = \"ftp://x\"\n", "c.toml").err().expect("refused").to_string();
        assert!(bad.contains("[erp]") && bad.contains("http://"), "{bad}");
        let unknown =
            from_toml("[erp]\nurl = \"http://x\"\nretries = 3\n", "c.toml").err().expect("refused").to_string();
        assert!(unknown.contains("retries"), "{unknown}");
    }
}
