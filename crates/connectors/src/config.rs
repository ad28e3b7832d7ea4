//! The TOML shape of a connectors file, and the errors a file that cannot be used gives.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// A connectors file: connector name → its configuration.
pub type ConnectorsFile = BTreeMap<String, HttpConfig>;

/// How to reach one system over HTTP (`[name]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Base URL; operation paths are appended to it (`http://127.0.0.1:9100/api`).
    pub url: String,
    /// Longest wait for an answer, in milliseconds (default 10,000); an operation may set its own.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Bearer authentication: the name of an environment variable holding the token.
    #[serde(default)]
    pub bearer_token_env: Option<String>,
    /// Basic authentication.
    #[serde(default)]
    pub basic: Option<BasicAuthConfig>,
    /// Request signing with HMAC-SHA256.
    #[serde(default)]
    pub hmac: Option<HmacConfig>,
    /// Outbound rate limit: requests per second (fractions allowed, `0.5` is one every two
    /// seconds). Calls beyond it wait for their turn; none is refused. No limit when absent.
    #[serde(default)]
    pub rate_per_second: Option<f64>,
    /// How many requests may go at once before the rate applies (default: the rate rounded up,
    /// at least 1). Only with `rate_per_second`.
    #[serde(default)]
    pub burst: Option<u32>,
    /// Idle connections kept open to the system (default 32).
    #[serde(default = "default_max_idle")]
    pub max_idle_per_host: usize,
    /// How long an idle connection is kept, in milliseconds (default 90,000).
    #[serde(default)]
    pub pool_idle_timeout_ms: Option<u64>,
    /// Headers sent with every request (`headers = { "X-Tenant" = "acme" }`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How operations are called; an operation not listed is `POST {url}/{operation}` with the
    /// payload as its body.
    #[serde(default)]
    pub operations: BTreeMap<String, OperationConfig>,
}

impl HttpConfig {
    /// A configuration for `url` with every other setting at its default.
    pub fn new(url: &str) -> Self {
        HttpConfig {
            url: url.to_owned(),
            timeout_ms: default_timeout(),
            bearer_token_env: None,
            basic: None,
            hmac: None,
            rate_per_second: None,
            burst: None,
            max_idle_per_host: default_max_idle(),
            pool_idle_timeout_ms: None,
            headers: BTreeMap::new(),
            operations: BTreeMap::new(),
        }
    }
}

fn default_timeout() -> u64 {
    10_000
}

fn default_max_idle() -> usize {
    32
}

fn default_signature_header() -> String {
    "X-Signature".to_owned()
}

/// Basic authentication (`basic = { username = "backroom", password_env = "ERP_PASSWORD" }`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthConfig {
    /// The user name.
    pub username: String,
    /// The name of an environment variable holding the password.
    pub password_env: String,
}

/// Request signing (`hmac = { secret_env = "WMS_SIGNING_SECRET" }`): see the crate documentation
/// for the exact string signed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmacConfig {
    /// The name of an environment variable holding the shared secret.
    pub secret_env: String,
    /// The header carrying the signature (default `X-Signature`).
    #[serde(default = "default_signature_header")]
    pub header: String,
    /// Which key signed, for systems that rotate keys; sent as `kid=` in the header.
    #[serde(default)]
    pub key_id: Option<String>,
}

/// An HTTP method an operation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Reads; the payload goes in the query string.
    Get,
    /// Creates or acts; the payload goes in the body.
    Post,
    /// Replaces; the payload goes in the body.
    Put,
    /// Amends; the payload goes in the body.
    Patch,
    /// Removes; the payload goes in the query string.
    Delete,
}

impl Method {
    /// Whether requests with this method carry a body.
    pub fn has_body(self) -> bool {
        matches!(self, Method::Post | Method::Put | Method::Patch)
    }

    /// The method's name, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one operation is called (`[name.operations.op]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationConfig {
    /// `GET`, `POST` (default), `PUT`, `PATCH` or `DELETE`.
    #[serde(default)]
    pub method: Option<Method>,
    /// The path after the base URL (default `/{operation}`), with placeholders filled from the
    /// payload: `/transfers/{transfer_id}/ship`, `/orders/{order.number}`.
    #[serde(default)]
    pub path: Option<String>,
    /// Payload fields sent as query parameters, named by their last segment. For `GET` and
    /// `DELETE` the default is every top-level payload field the path does not use.
    #[serde(default)]
    pub query: Option<Vec<String>>,
    /// The body, as a template (`POST`, `PUT` and `PATCH` only); the payload itself without it.
    #[serde(default)]
    pub body: Option<toml::Value>,
    /// Output name → JSON pointer into the answer (`available = "/lines/0/available"`); the whole
    /// answer without it. A pointer that does not resolve gives `null`, not an error.
    #[serde(default)]
    pub response: Option<BTreeMap<String, String>>,
    /// Longest wait for this operation's answer, in milliseconds (default: the connector's).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// A connectors file, or one connector's settings, that cannot be used. It names the file, the
/// connector and the field where it can, and never contains a secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    file: Option<String>,
    connector: Option<String>,
    field: Option<String>,
    message: String,
}

impl ConfigError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { file: None, connector: None, field: Some(field.into()), message: message.into() }
    }

    pub(crate) fn in_connector(mut self, connector: &str) -> Self {
        self.connector.get_or_insert_with(|| connector.to_owned());
        self
    }

    pub(crate) fn in_file(mut self, file: &str) -> Self {
        self.file.get_or_insert_with(|| file.to_owned());
        self
    }

    /// The file, when known.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The connector (`erp` for `[erp]`), when known.
    pub fn connector(&self) -> Option<&str> {
        self.connector.as_deref()
    }

    /// The field path inside the connector (`operations.ship_transfer.path`), when known.
    pub fn field_path(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What is wrong and what would be accepted.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some(connector) = &self.connector {
            write!(f, "[{connector}] ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Parses a connectors file. Errors carry the line and the `[connector]` table they are in.
pub fn parse_file(text: &str, file: &str) -> Result<ConnectorsFile, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start).min(text.len());
        let line = text[..start].matches('\n').count() + 1;
        let (connector, field) = table_at(text, start);
        ConfigError { file: Some(file.to_owned()), connector, field, message: format!("line {line}: {}", e.message()) }
    })
}

/// The table header in force at byte `offset`, split into the connector and the rest:
/// `[erp.operations.get_stock]` → (`erp`, `operations.get_stock`).
fn table_at(text: &str, offset: usize) -> (Option<String>, Option<String>) {
    let mut header = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > offset {
            break;
        }
        let trimmed = line.trim();
        if trimmed.starts_with('[')
            && let Some(end) = trimmed.find(']')
        {
            header = Some(trimmed[..end].trim_start_matches('[').trim().to_owned());
        }
        at += line.len();
    }
    let Some(header) = header else { return (None, None) };
    let mut parts = header.splitn(2, '.');
    let connector = parts.next().map(|c| c.trim().trim_matches('"').to_owned()).filter(|c| !c.is_empty());
    let rest = parts.next().map(|r| r.trim().to_owned());
    (connector, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_names_the_file_the_connector_and_the_field() {
        let text =
            "[erp]\nurl = \"http://127.0.0.1:9100/api\"\n\n[erp.operations.get_stock]\nmethod = \"GET\"\nretries = 3\n";
        let error = parse_file(text, "connectors.toml").expect_err("refused");
        assert_eq!(error.file(), Some("connectors.toml"));
        assert_eq!(error.connector(), Some("erp"));
        assert_eq!(error.field_path(), Some("operations.get_stock"));
        let shown = error.to_string();
        assert!(shown.starts_with("connectors.toml: [erp] operations.get_stock: line 6:"), "{shown}");
        assert!(shown.contains("retries"), "{shown}");
    }

    #[test]
    fn a_bad_method_lists_the_accepted_ones() {
        let text = "[pos]\nurl = \"http://127.0.0.1:9300/api\"\n[pos.operations.get_sale]\nmethod = \"FETCH\"\n";
        let shown = parse_file(text, "c.toml").expect_err("refused").to_string();
        assert!(shown.contains("[pos]") && shown.contains("FETCH") && shown.contains("GET"), "{shown}");
    }

    #[test]
    fn defaults_apply() {
        let file = parse_file("[wms]\nurl = \"http://127.0.0.1:9200/api\"\n", "c.toml").expect("valid");
        assert_eq!(file["wms"], HttpConfig::new("http://127.0.0.1:9200/api"));
    }
}
