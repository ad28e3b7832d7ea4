//! Connectors from the Backroom engine to systems of record.
//!
//! [`HttpConnector`] calls a system's HTTP API. Everything about a system — its operations'
//! methods, paths, query parameters, bodies and answers, its authentication, rate limit and
//! connection pool — comes from a TOML file ([`from_toml`]); no code is written per system.
//!
//! # Settings
//!
//! ```toml
//! [erp]                                   # the name workflows use: `connector: erp`
//! url = "http://127.0.0.1:9100/api"       # base URL; operation paths are appended
//! timeout_ms = 5000                       # default 10000
//! rate_per_second = 20                    # optional: at most 20 requests a second (waits, never refuses)
//! burst = 5                               # optional: requests that may go at once (default: the rate)
//! max_idle_per_host = 32                  # idle pooled connections (default 32)
//! pool_idle_timeout_ms = 90000            # how long an idle connection is kept
//! headers = { "X-Tenant" = "acme" }       # sent with every request
//! bearer_token_env = "ERP_TOKEN"          # authentication: at most one of bearer_token_env,
//! # basic = { username = "backroom", password_env = "ERP_PASSWORD" }
//! # hmac = { secret_env = "ERP_SIGNING_SECRET", header = "X-Signature", key_id = "2026-01" }
//!
//! [erp.operations.ship_transfer]
//! method = "POST"                         # GET, POST (default), PUT, PATCH or DELETE
//! path = "/transfers/{transfer_id}/ship"  # placeholders come from the payload
//! query = ["dc"]                          # payload fields sent as query parameters
//! body = { carrier = "{carrier}", note = "shipped to {to}", lines = "{lines}" }
//! response = { shipment = "/shipment_id", first_qty = "/lines/0/quantity" }
//! timeout_ms = 15000                      # this operation only
//! ```
//!
//! **Paths.** `{field}` and dotted `{order.number}` placeholders are filled from the call's
//! payload (a numeric segment indexes an array: `{lines.0.sku}`). Each value must be a string,
//! number or boolean and is percent-encoded as one path segment: only `A-Z a-z 0-9 - . _ ~` are
//! kept, so `SUP-001:INV-77` is sent as `SUP-001%3AINV-77`. A missing field is a permanent
//! error naming the operation and the field. `{{` and `}}` are literal braces. Without `path` an
//! operation is `/{operation}`; an operation not listed at all is `POST /{operation}` with the
//! payload as its body.
//!
//! **Query.** `query` lists payload fields (dotted paths allowed) sent as query parameters named
//! by their last segment; a field that is missing or null is left out, an array gives one
//! parameter per element, an object is sent as JSON text. For `GET` and `DELETE` the default is
//! every top-level payload field that the path does not use; for other methods, none.
//!
//! **Body.** `POST`, `PUT` and `PATCH` send JSON. Without `body`, the payload is the body. With
//! it, the TOML value is a template: a string that is exactly `"{field.path}"` is replaced by the
//! payload value with its JSON type (number, object, array…); a string with embedded
//! placeholders (`"stockout at {to}"`) is filled as text (strings as they are, null as nothing,
//! other values as JSON); every other value is sent as written. A missing field is a permanent
//! error naming it. `GET` and `DELETE` take no `body`.
//!
//! **Response.** `response` maps output names to JSON pointers (RFC 6901) into the answer;
//! without it the whole answer is the output. *A pointer that does not resolve gives `null`, not
//! an error*, so optional parts of an answer may be mapped. An empty answer is `{}`; an answer
//! that is not JSON is a string.
//!
//! **Commands and failures.** Commands carry their idempotency key in the `Idempotency-Key`
//! header (queries never do), so a system that honours it applies a repeated delivery once.
//! Timeouts, connection errors, `408`, `429` and `5xx` are retryable, with `Retry-After` in
//! seconds or as an HTTP date; other `4xx` are permanent, with the first 2,000 characters of the
//! system's answer for the dead-letter view.
//!
//! # Authentication
//!
//! Secrets are read from the environment when the file is loaded; a variable that is not set is
//! a configuration error naming the variable. Secret values never appear in errors, logs or
//! `Debug` output.
//!
//! - `bearer_token_env = "VAR"` sends `Authorization: Bearer <token>`.
//! - `basic = { username = "…", password_env = "VAR" }` sends `Authorization: Basic …`.
//! - `hmac = { secret_env = "VAR", header = "X-Signature", key_id = "…" }` signs each request.
//!   The signed string is
//!
//!   ```text
//!   {unix_seconds}.{METHOD}.{path_and_query}.{body}
//!   ```
//!
//!   where `unix_seconds` is the signing time in whole seconds, `METHOD` is upper case,
//!   `path_and_query` is the request target exactly as sent, starting at `/` and including the
//!   base URL's path and the query string if any (`/api/availability?item=SKU-1&dc=DC-1`), and
//!   `body` is the exact bytes sent (empty for `GET` and `DELETE`). The header (default
//!   `X-Signature`) carries `t=<unix_seconds>,v1=<lowercase hex HMAC-SHA256(secret, string)>`,
//!   followed by `,kid=<key_id>` when `key_id` is set. A receiver recomputes the HMAC over the
//!   same string and should refuse timestamps far from its own clock.
//!
//! # Health
//!
//! Each connector counts its calls and failures (retryable or permanent, including payloads that
//! do not fill its templates), the error rate over its last 100 calls, and when it last
//! succeeded and failed, reported through [`Connector::health`].

mod config;
mod credentials;
mod health;
mod http;
mod retry_after;
mod template;

use std::sync::Arc;

use backroom_engine::connector::Connectors;

pub use config::{
    BasicAuthConfig, ConfigError, ConnectorsFile, HmacConfig, HttpConfig, Method, OperationConfig, parse_file,
};
pub use credentials::Environment;
pub use health::{HealthRecord, RECENT_CALLS};
pub use http::HttpConnector;
pub use retry_after::parse_retry_after;

#[cfg(doc)]
use backroom_engine::connector::Connector;

/// Reads a connectors file and builds the connectors it names, reading secrets from the process
/// environment. `file` names the file in errors.
pub fn from_toml(text: &str, file: &str) -> Result<Connectors, ConfigError> {
    from_toml_with_env(text, file, &|var| std::env::var(var).ok())
}

/// Reads a connectors file and builds the connectors it names, reading secrets through `env`.
pub fn from_toml_with_env(text: &str, file: &str, env: Environment<'_>) -> Result<Connectors, ConfigError> {
    let parsed = parse_file(text, file)?;
    let mut connectors = Connectors::new();
    for (name, config) in parsed {
        let connector = HttpConnector::with_env(&name, config, env).map_err(|e| e.in_file(file))?;
        connectors = connectors.with(&name, Arc::new(connector));
    }
    Ok(connectors)
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
        assert_eq!(bad, "c.toml: [erp] url: \"ftp://x\" must start with http:// or https://");
        let unknown =
            from_toml("[erp]\nurl = \"http://x\"\nretries = 3\n", "c.toml").err().expect("refused").to_string();
        assert!(unknown.starts_with("c.toml: [erp] line 3:") && unknown.contains("retries"), "{unknown}");
        let template = from_toml(
            "[erp]\nurl = \"http://x\"\n[erp.operations.ship_transfer]\npath = \"/transfers/{transfer_id/ship\"\n",
            "c.toml",
        )
        .err()
        .expect("refused")
        .to_string();
        assert!(template.starts_with("c.toml: [erp] operations.ship_transfer.path:"), "{template}");
    }

    #[test]
    fn the_example_file_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../connectors/example.toml");
        let text = std::fs::read_to_string(path).expect("connectors/example.toml");
        let connectors = from_toml_with_env(&text, path, &|_| None).err();
        assert!(connectors.is_none(), "{connectors:?}");
    }

    #[test]
    fn the_reference_profiles_load_with_every_fixed_operation() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../connectors/reference.toml");
        let text = std::fs::read_to_string(path).expect("connectors/reference.toml");
        let file = parse_file(&text, path).expect("parses");
        let connectors = from_toml_with_env(&text, path, &|_| None).expect("loads without secrets");
        assert_eq!(connectors.names(), ["erp", "pos", "wms"]);
        let expected: [(&str, &[&str]); 3] = [
            (
                "erp",
                &[
                    "get_stock",
                    "open_purchase_orders",
                    "create_purchase_order",
                    "approve_purchase_order",
                    "budget_check",
                    "expedite_purchase_order",
                    "register_invoice",
                    "release_invoice",
                    "hold_invoice",
                    "reject_invoice",
                    "create_credit_note",
                    "create_transfer",
                    "ship_transfer",
                    "receive_transfer",
                    "cancel_transfer",
                    "post_refund",
                    "write_off",
                ],
            ),
            (
                "wms",
                &[
                    "availability",
                    "reserve_transfer_order",
                    "pick_transfer_order",
                    "ship_transfer_order",
                    "cancel_transfer_order",
                ],
            ),
            ("pos", &["get_sale", "open_orders", "get_order", "reroute_order", "cancel_order", "notify", "get_price"]),
        ];
        for (connector, operations) in expected {
            let listed: Vec<&str> = file[connector].operations.keys().map(String::as_str).collect();
            let mut wanted = operations.to_vec();
            wanted.sort_unstable();
            assert_eq!(listed, wanted, "[{connector}] operations");
        }
        assert_eq!(file["erp"].url, "http://127.0.0.1:9100/api");
        assert_eq!(file["wms"].url, "http://127.0.0.1:9200/api");
        assert_eq!(file["pos"].url, "http://127.0.0.1:9300/api");
        let ship = &file["erp"].operations["ship_transfer"];
        assert_eq!(ship.method, Some(Method::Post));
        assert_eq!(ship.path.as_deref(), Some("/transfers/{transfer_id}/ship"));
        let stock = &file["erp"].operations["get_stock"];
        assert_eq!(stock.method, Some(Method::Get));
        assert_eq!(stock.query.as_deref(), Some(&["location".to_owned(), "item".to_owned()][..]));
    }
}
