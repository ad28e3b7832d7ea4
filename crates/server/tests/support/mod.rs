//! Shared support for the API tests: an in-process app (with its workflow engine) on SQLite or
//! PostgreSQL, requests sent with `tower::ServiceExt::oneshot` (no sockets), retail events and
//! the error-shape check.

#![allow(dead_code)]

pub mod workflows;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use backroom_engine::clock::SystemClock;
use backroom_engine::connector::{ConnectorError, Connectors, InProcessConnector};
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_store::{NewApiKey, Store, StoreConfig};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The body limit the tests configure.
pub const MAX_BODY: usize = 64 * 1024;

/// The connectors of the test engine: `erp` acknowledges every call; `broken` refuses every
/// call permanently (`unknown item`), so its actions become dead letters.
pub fn test_connectors() -> Connectors {
    Connectors::new().with("erp", Arc::new(InProcessConnector::acknowledging())).with(
        "broken",
        Arc::new(InProcessConnector::new(|_| Err(ConnectorError::Permanent { message: "unknown item".into() }))),
    )
}

/// An app under test, its store, its engine and an admin key.
pub struct TestApp {
    pub app: Router,
    /// The state the app shares (rate limits, webhooks, delivery board).
    pub state: backroom_server::AppState,
    pub store: Store,
    pub engine: Engine,
    /// The secret of an admin key.
    pub secret: String,
    _dir: tempfile::TempDir,
}

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON, panicking with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} answered a body that is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body))
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of a header, or "" when absent.
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text());
        self
    }
}

static SCHEMAS: AtomicU64 = AtomicU64::new(0);

impl TestApp {
    /// An app over a fresh SQLite store in a temporary directory.
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with_limit(MAX_BODY).await
    }

    /// An app over a fresh SQLite store with this body limit.
    pub async fn sqlite_with_limit(max_body: usize) -> TestApp {
        let config = backroom_server::Config { max_body_bytes: max_body, ..backroom_server::Config::default() };
        Self::sqlite_configured(&config).await
    }

    /// An app over a fresh SQLite store with the body limit, rate limits and webhooks of
    /// `config`.
    pub async fn sqlite_configured(config: &backroom_server::Config) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&StoreConfig::sqlite(dir.path())).await.expect("open sqlite");
        Self::over(store, dir, config).await
    }

    /// An app over PostgreSQL in a schema of its own, or `None` (with a note) when
    /// `BACKROOM_TEST_DATABASE_URL` is unset. A set but unreachable URL fails the test.
    pub async fn postgres() -> Option<TestApp> {
        let config = backroom_server::Config { max_body_bytes: MAX_BODY, ..backroom_server::Config::default() };
        Self::postgres_configured(&config).await
    }

    /// As [`TestApp::postgres`], with the body limit, rate limits and webhooks of `config`.
    pub async fn postgres_configured(config: &backroom_server::Config) -> Option<TestApp> {
        let url = match std::env::var("BACKROOM_TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                eprintln!("BACKROOM_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let schema = format!("api_{nanos}_{}_{}", std::process::id(), SCHEMAS.fetch_add(1, Ordering::Relaxed));
        let store = Store::open(&StoreConfig::postgres(&url, Some(&schema)))
            .await
            .unwrap_or_else(|e| panic!("BACKROOM_TEST_DATABASE_URL is set but the store cannot open: {e}"));
        Some(Self::over(store, tempfile::tempdir().expect("tempdir"), config).await)
    }

    /// An app over a fresh SQLite store with these identity settings (sessions, throttling,
    /// identity provider).
    pub async fn sqlite_with_identity(identity: backroom_server::identity::Identity) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&StoreConfig::sqlite(dir.path())).await.expect("open sqlite");
        let config = backroom_server::Config { max_body_bytes: MAX_BODY, ..backroom_server::Config::default() };
        Self::over_with(store, dir, &config, identity).await
    }

    async fn over(store: Store, dir: tempfile::TempDir, config: &backroom_server::Config) -> TestApp {
        Self::over_with(store, dir, config, backroom_server::identity::Identity::default()).await
    }

    async fn over_with(
        store: Store,
        dir: tempfile::TempDir,
        config: &backroom_server::Config,
        identity: backroom_server::identity::Identity,
    ) -> TestApp {
        let key = NewApiKey { name: "test".into(), roles: vec!["admin".into()], scopes: vec![] };
        let (_key, secret) = store.create_key(&key, "test").await.expect("create key");
        let engine_config = EngineConfig { poll: Duration::from_millis(50), ..EngineConfig::default() };
        let engine = Engine::start(store.clone(), engine_config, test_connectors(), Arc::new(SystemClock))
            .await
            .unwrap_or_else(|e| panic!("the engine cannot start: {e}"));
        let state = backroom_server::state_with(store.clone(), engine.clone(), config).with_identity(identity);
        let app = backroom_server::app(state.clone(), config.max_body_bytes);
        TestApp { app, state, store, engine, secret, _dir: dir }
    }

    /// Stops the engine and closes the store.
    pub async fn close(self) {
        self.engine.shutdown().await;
        self.store.close().await;
    }

    /// Creates a key with these roles and location scopes; returns its secret.
    pub async fn key(&self, name: &str, roles: &[&str], scopes: &[&str]) -> String {
        let key = NewApiKey {
            name: name.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        self.store.create_key(&key, "test").await.expect("create key").1
    }

    /// Sends `method uri` with the admin key (or `secret` when given) and, when `body` is
    /// given, that body with its content type.
    pub async fn call(&self, method: Method, uri: &str, secret: Option<&str>, body: Option<(&str, String)>) -> Reply {
        let secret = secret.unwrap_or(&self.secret);
        let mut request =
            Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {secret}"));
        let body = match body {
            Some((content_type, body)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Body::from(body)
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    /// `POST` JSON with the admin key.
    pub async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        self.call(Method::POST, uri, None, Some(("application/json", body.to_string()))).await
    }

    /// `POST` without a body with the admin key.
    pub async fn post_empty(&self, uri: &str) -> Reply {
        self.call(Method::POST, uri, None, None).await
    }

    /// Sends a request as it is.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("read the response body").to_bytes();
        Reply { status: parts.status, headers: parts.headers, body }
    }

    /// A request builder carrying the admin key.
    pub fn authorized(&self, method: Method, uri: &str) -> axum::http::request::Builder {
        Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {}", self.secret))
    }

    /// `GET` with the admin key.
    pub async fn get(&self, uri: &str) -> Reply {
        self.send(self.authorized(Method::GET, uri).body(Body::empty()).expect("request")).await
    }

    /// `GET` without credentials.
    pub async fn get_anonymous(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("request")).await
    }

    /// `POST /v1/events` with the admin key and this content type (none when `None`).
    pub async fn post_events(&self, content_type: Option<&str>, body: impl Into<Body>) -> Reply {
        let mut request = self.authorized(Method::POST, "/v1/events");
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        self.send(request.body(body.into()).expect("request")).await
    }

    /// Posts events as JSON (one object or an array) and expects 200.
    pub async fn ingest(&self, body: &Value) -> Value {
        self.post_events(Some("application/json"), body.to_string()).await.expect(200).json()
    }

    /// Every event in the log, read through the API page by page.
    pub async fn all_events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.get(&format!("/v1/events?after_seq={after}&limit=2")).await.expect(200).json();
            let events = page["events"].as_array().expect("events").clone();
            if events.is_empty() {
                assert_eq!(page["next_after_seq"], after, "an empty page keeps the cursor");
                return out;
            }
            after = page["next_after_seq"].as_i64().expect("next_after_seq");
            assert_eq!(after, events.last().expect("last")["seq"], "the cursor is the page's last seq");
            out.extend(events);
        }
    }

    /// Every stock position.
    pub async fn stock(&self) -> Vec<Value> {
        self.get("/v1/stock").await.expect(200).json()["positions"].as_array().expect("positions").clone()
    }
}

/// Runs each async test body `fn(TestApp)` on SQLite, and on PostgreSQL when configured.
/// Attributes before a name (such as `#[ignore = "…"]`) apply to both runs.
#[macro_export]
macro_rules! on_both_backends {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$meta])*
                async fn sqlite() {
                    super::$name(super::support::TestApp::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$meta])*
                async fn postgres() {
                    if let Some(app) = super::support::TestApp::postgres().await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

/// Asserts that a reply is an error in the API's one shape, `{code, message, type, link}` (plus
/// `errors` for a `validation_failed` that lists problems), with this status, code and type, and
/// a message containing each of `message_has`. Returns the body.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str, kind: &str, message_has: &[&str]) -> Value {
    assert_eq!(reply.status.as_u16(), status, "status of a {code} error; body: {}", reply.text());
    assert!(
        reply.header(header::CONTENT_TYPE).starts_with("application/json"),
        "a {code} error is JSON, not {:?}",
        reply.header(header::CONTENT_TYPE)
    );
    let body = reply.json();
    let keys: BTreeSet<&str> =
        body.as_object().expect("an error body is an object").keys().map(String::as_str).collect();
    let mut expected: BTreeSet<&str> = ["code", "message", "type", "link"].into();
    if code == "validation_failed" && keys.contains("errors") {
        expected.insert("errors");
    }
    if code == "definition_invalid" {
        expected.insert("problems");
    }
    if code == "document_invalid" {
        expected.insert("document_problems");
    }
    assert_eq!(keys, expected, "the error shape of {code}: {body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], kind, "{body}");
    assert_eq!(body["link"], format!("/docs/errors#{code}"), "{body}");
    let message = body["message"].as_str().expect("message is a string");
    assert!(message.len() >= 10, "a {code} message says what went wrong: {message:?}");
    for part in message_has {
        assert!(message.contains(part), "the {code} message {message:?} should mention {part:?}");
    }
    body
}

/// `(line, column, step, message)` of every problem in a `definition_invalid` body.
pub fn definition_problems(body: &Value) -> Vec<(u64, u64, Option<String>, String)> {
    body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            assert!(p["file"].is_string(), "every problem names its file: {p}");
            (
                p["line"].as_u64().expect("line"),
                p["column"].as_u64().expect("column"),
                p["step"].as_str().map(str::to_owned),
                p["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

/// `(index, path)` of every problem in a `validation_failed` body.
pub fn problems(body: &Value) -> Vec<(u64, String)> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|p| {
            let message = p["message"].as_str().expect("problem message");
            assert!(!message.is_empty(), "every problem says what is wrong: {p}");
            (p["index"].as_u64().expect("index"), p["path"].as_str().expect("path").to_owned())
        })
        .collect()
}

/// The pen of the tests, by GTIN (its item key is the GTIN-14 `04006381333931`).
pub const PEN_GTIN: &str = "4006381333931";
/// The store of the tests.
pub const STORE: &str = "S042";

/// A till sale of `quantity` pens at 1.49 each at `location`.
pub fn sale(id: &str, location: &str, quantity: u32) -> Value {
    let net = format!("{:.2}", 1.49 * f64::from(quantity));
    json!({
        "id": id,
        "type": "pos.sale",
        "source": "pos/store-042",
        "occurred_at": "2026-11-23T10:15:02+01:00",
        "data": {
            "transaction_id": id,
            "location": location,
            "workstation": "07",
            "business_day": "2026-11-23",
            "currency": "EUR",
            "lines": [
                {"line": 1, "item": {"gtin": PEN_GTIN, "sku": "PEN-BLUE"}, "quantity": {"value": quantity.to_string()},
                 "unit_price": {"amount": "1.49", "currency": "EUR"}, "net_amount": {"amount": net, "currency": "EUR"}}
            ],
            "tenders": [{"method": "card", "amount": {"amount": net, "currency": "EUR"}}],
            "total": {"amount": net, "currency": "EUR"}
        }
    })
}

/// A goods receipt of `quantity` pens at `location`.
pub fn receipt(id: &str, location: &str, quantity: &str) -> Value {
    json!({
        "id": id,
        "type": "receipt.posted",
        "source": "wms",
        "occurred_at": "2026-11-23T06:00:00Z",
        "data": {"receipt_number": id, "location": location, "po_number": "PO-1",
                 "lines": [{"line": 1, "item": {"gtin": PEN_GTIN}, "received": {"value": quantity}}]}
    })
}

/// A cycle count of `counted` pens at `location`.
pub fn count(id: &str, location: &str, counted: &str) -> Value {
    json!({
        "id": id,
        "type": "inventory.counted",
        "source": "handheld",
        "occurred_at": "2026-11-23T18:00:00Z",
        "data": {"count_number": id, "location": location, "scope": "cycle",
                 "lines": [{"item": {"gtin": PEN_GTIN}, "counted": {"value": counted}}]}
    })
}

/// A transfer event (`requested`, `shipped` or `received`) of pens between two stores.
pub fn transfer(number: &str, kind: &str, from: &str, to: &str, quantity: &str) -> Value {
    json!({
        "id": format!("{number}-{kind}"),
        "type": format!("transfer.{kind}"),
        "source": "erp",
        "occurred_at": "2026-11-23T12:00:00Z",
        "data": {"transfer_number": number, "from": from, "to": to,
                 "lines": [{"line": 1, "item": {"gtin": PEN_GTIN}, "quantity": {"value": quantity}}]}
    })
}

/// Events as NDJSON, one per line.
pub fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// A request body without a length that arrives in chunks, as a chunked upload does.
pub struct Chunked {
    chunks: std::collections::VecDeque<Full<Bytes>>,
}

/// A body of `count` chunks of `size` spaces each, without a length.
pub fn chunked(count: usize, size: usize) -> Body {
    let chunk = Bytes::from(vec![b' '; size]);
    Body::new(Chunked { chunks: (0..count).map(|_| Full::new(chunk.clone())).collect() })
}

/// What one frame poll yields (`Option<Result<http_body::Frame<Bytes>, Infallible>>`).
type NextFrame = <http_body_util::combinators::Frame<'static, Full<Bytes>> as std::future::Future>::Output;

impl HttpBody for Chunked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<NextFrame> {
        while let Some(front) = self.chunks.front_mut() {
            match Pin::new(front).poll_frame(cx) {
                Poll::Ready(None) => {
                    self.chunks.pop_front();
                }
                other => return other,
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }
}
