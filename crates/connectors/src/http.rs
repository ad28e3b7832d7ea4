//! [`HttpConnector`]: one system of record reached over HTTP, shaped entirely by its settings.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use backroom_engine::connector::{BoxFuture, Call, CallKind, Connector, ConnectorError, ConnectorHealth};
use chrono::Utc;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value};

use crate::config::{ConfigError, HttpConfig, Method, OperationConfig};
use crate::credentials::{Credentials, Environment, signature};
use crate::health::HealthRecord;
use crate::retry_after::parse_retry_after;
use crate::template::{BodyTemplate, FieldPath, TextTemplate, encode_segment, query_pairs};

/// How much of a refusing system's answer is kept in the error.
const ANSWER_EXCERPT_CHARS: usize = 2000;

/// Which payload fields go into the query string.
#[derive(Debug, Clone)]
enum QueryFields {
    /// None.
    None,
    /// These fields.
    Listed(Vec<FieldPath>),
    /// Every top-level field the path does not use (`GET` and `DELETE` by default).
    Rest,
}

/// One operation, checked and ready to fill from payloads.
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    path: TextTemplate,
    query: QueryFields,
    body: Option<BodyTemplate>,
    response: Option<Vec<(String, String)>>,
    timeout: Duration,
}

/// A request filled from a payload.
struct Filled {
    url: Url,
    body: Option<Vec<u8>>,
}

impl Operation {
    /// An operation without settings: `POST {url}/{operation}` with the payload as the body.
    fn unlisted(name: &str, timeout: Duration) -> Self {
        Operation {
            method: Method::Post,
            path: TextTemplate::verbatim(format!("/{}", encode_segment(name))),
            query: QueryFields::None,
            body: None,
            response: None,
            timeout,
        }
    }

    /// Checks one `[connector.operations.name]` table.
    fn from_config(name: &str, config: &OperationConfig, base: &str, timeout: Duration) -> Result<Self, ConfigError> {
        let at = |field: &str| format!("operations.{name}.{field}");
        let method = config.method.unwrap_or(Method::Post);
        let path = match &config.path {
            None => TextTemplate::verbatim(format!("/{}", encode_segment(name))),
            Some(text) => {
                let template = TextTemplate::parse(text).map_err(|e| ConfigError::field(at("path"), e))?;
                let literal = template.literal_text();
                if !text.starts_with('/') {
                    return Err(ConfigError::field(at("path"), format!("{text:?} must start with '/'")));
                }
                if literal.contains(['?', '#']) {
                    return Err(ConfigError::field(
                        at("path"),
                        format!("{text:?} contains '?' or '#'; send query parameters with `query`"),
                    ));
                }
                if Url::parse(&format!("{base}{literal}")).is_err() || literal.contains(char::is_whitespace) {
                    return Err(ConfigError::field(at("path"), format!("{text:?} does not make a URL after {base}")));
                }
                template
            }
        };
        let query = match &config.query {
            Some(fields) => QueryFields::Listed(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        FieldPath::parse(f).map_err(|e| ConfigError::field(format!("{}[{i}]", at("query")), e))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            None if !method.has_body() => QueryFields::Rest,
            None => QueryFields::None,
        };
        let body = match &config.body {
            Some(_) if !method.has_body() => {
                return Err(ConfigError::field(
                    at("body"),
                    format!("{method} sends no body; send fields with `query`, or use POST, PUT or PATCH"),
                ));
            }
            Some(template) => Some(
                BodyTemplate::from_toml(template, &at("body"))
                    .map_err(|(field, why)| ConfigError::field(field, why))?,
            ),
            None => None,
        };
        let response = match &config.response {
            Some(map) => {
                for (output, pointer) in map {
                    if !(pointer.is_empty() || pointer.starts_with('/')) {
                        return Err(ConfigError::field(
                            format!("{}.{output}", at("response")),
                            format!(
                                "{pointer:?} is not a JSON pointer; write e.g. \"/transfer_id\" or \"/lines/0/available\""
                            ),
                        ));
                    }
                }
                Some(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            None => None,
        };
        let timeout = match config.timeout_ms {
            Some(0) => return Err(ConfigError::field(at("timeout_ms"), "must be at least 1 (milliseconds)")),
            Some(ms) => Duration::from_millis(ms),
            None => timeout,
        };
        Ok(Operation { method, path, query, body, response, timeout })
    }

    /// The URL and body for a payload; the error names the missing or unusable field.
    fn fill(&self, base: &str, payload: &Value) -> Result<Filled, String> {
        let path = self.path.fill_path(payload).map_err(|e| e.to_string())?;
        let mut url =
            Url::parse(&format!("{base}{path}")).map_err(|e| format!("the path {path:?} is not a URL: {e}"))?;
        let mut pairs = Vec::new();
        match &self.query {
            QueryFields::None => {}
            QueryFields::Listed(fields) => {
                for field in fields {
                    if let Some(value) = field.lookup(payload) {
                        query_pairs(field.last(), value, &mut pairs);
                    }
                }
            }
            QueryFields::Rest => {
                let used: BTreeSet<&str> = self.path.fields().map(FieldPath::first).collect();
                if let Value::Object(map) = payload {
                    for (name, value) in map.iter().filter(|(k, _)| !used.contains(k.as_str())) {
                        query_pairs(name, value, &mut pairs);
                    }
                }
            }
        }
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        let body = if self.method.has_body() {
            let value = match &self.body {
                Some(template) => template.fill(payload).map_err(|e| e.to_string())?,
                None => payload.clone(),
            };
            Some(serde_json::to_vec(&value).map_err(|e| format!("the body cannot be written as JSON: {e}"))?)
        } else {
            None
        };
        Ok(Filled { url, body })
    }

    /// The output for an answer: the mapped fields, or the whole answer.
    fn output(&self, answer: Value) -> Value {
        match &self.response {
            None => answer,
            Some(mapping) => Value::Object(
                mapping
                    .iter()
                    .map(|(name, pointer)| (name.clone(), answer.pointer(pointer).cloned().unwrap_or(Value::Null)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// A connector that calls a system's HTTP API. It keeps one connection pool, one rate limiter
/// and one health record for the system.
pub struct HttpConnector {
    name: String,
    base: String,
    operations: HashMap<String, Operation>,
    timeout: Duration,
    client: reqwest::Client,
    credentials: Credentials,
    headers: HeaderMap,
    limiter: Option<DefaultDirectRateLimiter>,
    health: HealthRecord,
}

impl fmt::Debug for HttpConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut operations: Vec<&String> = self.operations.keys().collect();
        operations.sort();
        f.debug_struct("HttpConnector")
            .field("name", &self.name)
            .field("url", &self.base)
            .field("auth", &self.credentials.kind())
            .field("rate_limited", &self.limiter.is_some())
            .field("operations", &operations)
            .finish_non_exhaustive()
    }
}

impl HttpConnector {
    /// A connector named `name`, reading the secrets its settings name from the process
    /// environment.
    pub fn new(name: &str, config: HttpConfig) -> Result<Self, ConfigError> {
        Self::with_env(name, config, &|var| std::env::var(var).ok())
    }

    /// A connector named `name`, reading the secrets its settings name through `env`.
    pub fn with_env(name: &str, config: HttpConfig, env: Environment<'_>) -> Result<Self, ConfigError> {
        Self::build(name, &config, env).map_err(|e| e.in_connector(name))
    }

    fn build(name: &str, config: &HttpConfig, env: Environment<'_>) -> Result<Self, ConfigError> {
        let url = Url::parse(&config.url)
            .map_err(|e| ConfigError::field("url", format!("{:?} is not a URL: {e}", config.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::field("url", format!("{:?} must start with http:// or https://", config.url)));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::field(
                "url",
                format!("{:?} has a query or fragment; give the base URL and send parameters with `query`", config.url),
            ));
        }
        let base = config.url.trim_end_matches('/').to_owned();
        if config.timeout_ms == 0 {
            return Err(ConfigError::field("timeout_ms", "must be at least 1 (milliseconds)"));
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        let mut operations = HashMap::new();
        for (op, settings) in &config.operations {
            operations.insert(op.clone(), Operation::from_config(op, settings, &base, timeout)?);
        }
        let credentials = Credentials::load(config, env)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (key, value) in &config.headers {
            let header = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| ConfigError::field(format!("headers.{key}"), "is not a header name"))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                ConfigError::field(format!("headers.{key}"), "the value has characters a header cannot carry")
            })?;
            headers.insert(header, value);
        }
        let limiter = rate_limiter(config)?;
        // TLS runs on ring; installing it is a no-op when the process already has a provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut client = reqwest::Client::builder().timeout(timeout).pool_max_idle_per_host(config.max_idle_per_host);
        if let Some(ms) = config.pool_idle_timeout_ms {
            client = client.pool_idle_timeout(Duration::from_millis(ms));
        }
        let client =
            client.build().map_err(|e| ConfigError::field("url", format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpConnector {
            name: name.to_owned(),
            base,
            operations,
            timeout,
            client,
            credentials,
            headers,
            limiter,
            health: HealthRecord::default(),
        })
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn perform(&self, call: &Call) -> Result<Value, ConnectorError> {
        let what = format!("{}.{}", self.name, call.operation);
        let unlisted;
        let operation = match self.operations.get(&call.operation) {
            Some(o) => o,
            None => {
                unlisted = Operation::unlisted(&call.operation, self.timeout);
                &unlisted
            }
        };
        let filled = operation
            .fill(&self.base, &call.payload)
            .map_err(|message| ConnectorError::Permanent { message: format!("{what}: {message}") })?;
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let mut request = self
            .client
            .request(operation.method.to_reqwest(), filled.url.clone())
            .timeout(operation.timeout)
            .headers(self.headers.clone());
        if let (CallKind::Command, Some(key)) = (call.kind, &call.idempotency_key) {
            request = request.header("Idempotency-Key", key);
        }
        request = match &self.credentials {
            Credentials::None => request,
            Credentials::Bearer(token) => request.bearer_auth(token.expose()),
            Credentials::Basic { username, password } => request.basic_auth(username, Some(password.expose())),
            Credentials::Hmac { secret, header, key_id } => {
                let target = match filled.url.query() {
                    Some(query) => format!("{}?{query}", filled.url.path()),
                    None => filled.url.path().to_owned(),
                };
                let body = filled.body.as_deref().unwrap_or_default();
                let value = signature(
                    secret,
                    Utc::now().timestamp(),
                    operation.method.as_str(),
                    &target,
                    body,
                    key_id.as_deref(),
                );
                request.header(header.clone(), value)
            }
        };
        if let Some(body) = filled.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|e| ConnectorError::Retryable {
            message: format!("{what}: {}", describe(&e, operation.timeout)),
            retry_after: None,
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        let text = response.text().await.map_err(|e| ConnectorError::Retryable {
            message: format!("{what}: reading the answer failed: {}", describe(&e, operation.timeout)),
            retry_after: None,
        })?;
        if status.is_success() {
            let answer = if text.trim().is_empty() {
                Value::Object(Map::new())
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            return Ok(operation.output(answer));
        }
        let excerpt: String = text.chars().take(ANSWER_EXCERPT_CHARS).collect();
        let message = format!("{what}: HTTP {status}: {excerpt}");
        if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
            Err(ConnectorError::Retryable { message, retry_after })
        } else {
            Err(ConnectorError::Permanent { message })
        }
    }
}

/// The outbound rate limiter the settings ask for.
fn rate_limiter(config: &HttpConfig) -> Result<Option<DefaultDirectRateLimiter>, ConfigError> {
    let Some(rate) = config.rate_per_second else {
        if config.burst.is_some() {
            return Err(ConfigError::field("burst", "applies only with rate_per_second; set both or neither"));
        }
        return Ok(None);
    };
    if !(rate.is_finite() && rate > 0.0) {
        return Err(ConfigError::field("rate_per_second", format!("{rate} is not a positive number of requests")));
    }
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))
        .ok_or_else(|| ConfigError::field("rate_per_second", format!("{rate} is too high; use at most 1000000000")))?;
    let burst = match config.burst {
        Some(b) => NonZeroU32::new(b).ok_or_else(|| ConfigError::field("burst", "must be at least 1"))?,
        None => NonZeroU32::new(rate.ceil().min(f64::from(u32::MAX)) as u32).unwrap_or(NonZeroU32::MIN),
    };
    Ok(Some(RateLimiter::direct(quota.allow_burst(burst))))
}

/// A failed exchange in words: timeouts and refused connections said plainly, otherwise the
/// innermost cause.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    if error.is_connect() { format!("cannot connect: {cause}") } else { format!("{error}: {cause}") }
}

impl Connector for HttpConnector {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Value, ConnectorError>> {
        Box::pin(async move {
            let outcome = self.perform(&call).await;
            if let Err(error) = &outcome {
                tracing::debug!(connector = %self.name, operation = %call.operation, %error, "connector call failed");
            }
            self.health.record(&outcome, Utc::now());
            outcome
        })
    }

    fn health(&self) -> Option<ConnectorHealth> {
        Some(self.health.snapshot())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn operation(toml_text: &str) -> Result<Operation, ConfigError> {
        let config: OperationConfig = toml::from_str(toml_text).expect("toml");
        Operation::from_config("ship_transfer", &config, "http://127.0.0.1:9100/api", Duration::from_secs(5))
    }

    #[test]
    fn a_get_sends_the_fields_the_path_does_not_use() {
        let op = operation("method = \"GET\"\npath = \"/sales/{transaction_id}\"").expect("valid");
        let filled = op.fill("http://127.0.0.1:9300/api", &json!({"transaction_id": "T-1/7", "store": "STORE-042"}));
        let filled = filled.expect("filled");
        assert_eq!(filled.url.as_str(), "http://127.0.0.1:9300/api/sales/T-1%2F7?store=STORE-042");
        assert!(filled.body.is_none());
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let no_slash = operation("path = \"transfers\"").expect_err("refused").to_string();
        assert!(no_slash.contains("operations.ship_transfer.path") && no_slash.contains("start with '/'"));
        let query_in_path = operation("path = \"/transfers?x=1\"").expect_err("refused").to_string();
        assert!(query_in_path.contains("`query`"), "{query_in_path}");
        let get_body = operation("method = \"GET\"\nbody = { a = 1 }").expect_err("refused").to_string();
        assert!(get_body.contains("operations.ship_transfer.body") && get_body.contains("GET sends no body"));
        let pointer = operation("response = { id = \"transfer_id\" }").expect_err("refused").to_string();
        assert!(pointer.contains("operations.ship_transfer.response.id"), "{pointer}");
        let query = operation("query = [\"location\", \"item name\"]").expect_err("refused").to_string();
        assert!(query.contains("operations.ship_transfer.query[1]"), "{query}");
    }

    #[test]
    fn a_missing_pointer_gives_null() {
        let op = operation("response = { transfer = \"/transfer_id\", first = \"/lines/0/qty\", gone = \"/nope\" }")
            .expect("valid");
        assert_eq!(
            op.output(json!({"transfer_id": "TR-9", "lines": [{"qty": 4}]})),
            json!({"transfer": "TR-9", "first": 4, "gone": null})
        );
    }

    #[test]
    fn rate_settings_are_checked() {
        let mut config = HttpConfig::new("http://127.0.0.1:9100/api");
        config.burst = Some(2);
        assert!(rate_limiter(&config).expect_err("burst alone").to_string().contains("rate_per_second"));
        config.rate_per_second = Some(-1.0);
        assert!(rate_limiter(&config).expect_err("negative").to_string().contains("positive"));
        config.rate_per_second = Some(0.5);
        assert!(rate_limiter(&config).expect("valid").is_some());
    }
}
