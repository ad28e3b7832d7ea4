//! Signed webhooks: partners pushing events to `POST /webhooks/{source}`, and subscribers
//! notified of audit entries, on SQLite and (when configured) PostgreSQL.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use backroom_server::webhooks::notify::{Notifier, NotifierOptions};
use backroom_server::webhooks::signature::{self, signature_header};
use backroom_server::webhooks::{BodyKind, InboundWebhook, OutboundWebhook, WebhookSecret, WebhooksConfig};
use backroom_server::{Config, ServerError};
use backroom_store::{AuditEntry, EventQuery};
use chrono::Utc;
use serde_json::{Value, json};
use support::{Reply, STORE, TestApp, assert_error, receipt};

const SECRET: &str = "pos-cloud-secret-0001";
const OLD_SECRET: &str = "rotating-old-secret-01";
const NEW_SECRET: &str = "rotating-new-secret-02";
const SUBSCRIBER_SECRET: &str = "subscriber-secret-0003";

fn inbound(source: &str, secrets: &[&str]) -> InboundWebhook {
    InboundWebhook {
        source: source.to_owned(),
        secrets: secrets.iter().map(|s| WebhookSecret::new(*s)).collect(),
        tolerance_seconds: 300,
        body: BodyKind::Events,
    }
}

fn config() -> Config {
    Config {
        max_body_bytes: support::MAX_BODY,
        webhooks: WebhooksConfig {
            inbound: vec![inbound("pos-cloud", &[SECRET]), inbound("pos-rotating", &[OLD_SECRET, NEW_SECRET])],
            outbound: vec![],
        },
        ..Config::default()
    }
}

/// A delivery to `/webhooks/{source}` of `body`, signed at `timestamp` with `secrets`.
fn delivery(source: &str, body: &Value, secrets: &[&str], timestamp: i64) -> Request<Body> {
    let body = body.to_string();
    let secrets: Vec<WebhookSecret> = secrets.iter().map(|s| WebhookSecret::new(*s)).collect();
    Request::builder()
        .method(Method::POST)
        .uri(format!("/webhooks/{source}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Backroom-Timestamp", timestamp.to_string())
        .header("Backroom-Signature", signature_header(&secrets, timestamp, body.as_bytes()))
        .body(Body::from(body))
        .expect("request")
}

fn now() -> i64 {
    Utc::now().timestamp()
}

/// The events of the log with this id.
async fn logged(t: &TestApp, id: &str) -> Vec<Value> {
    t.all_events().await.into_iter().filter(|e| e["id"] == id).collect()
}

fn refused(reply: &Reply, status: u16, code: &str) {
    let kind = if status == 401 { "authentication_error" } else { "invalid_request" };
    assert_error(reply, status, code, kind, &["nothing"]);
}

async fn signed_batches_are_recorded_once_and_everything_else_is_refused(t: TestApp) {
    let batch = json!([receipt("WH-1", STORE, "5"), receipt("WH-2", STORE, "3")]);
    let accepted = t.send(delivery("pos-cloud", &batch, &[SECRET], now())).await.expect(200).json();
    assert_eq!(accepted["accepted"], 2, "{accepted}");
    for id in ["WH-1", "WH-2"] {
        let events = logged(&t, id).await;
        assert_eq!(events.len(), 1, "{id} is in the log once");
        assert_eq!(events[0]["source"], "pos-cloud", "events take the webhook's source name");
    }

    // The same delivery again (same signature) is refused and records nothing.
    let sent_at = now();
    let again = json!(receipt("WH-3", STORE, "1"));
    t.send(delivery("pos-cloud", &again, &[SECRET], sent_at)).await.expect(200);
    let replay = t.send(delivery("pos-cloud", &again, &[SECRET], sent_at)).await;
    assert_error(&replay, 409, "webhook_replayed", "invalid_request", &["already accepted"]);
    assert_eq!(logged(&t, "WH-3").await.len(), 1);

    // Refused deliveries: each with its code, none recorded.
    let cases: Vec<(&str, Request<Body>, u16, &str)> = vec![
        (
            "wrong secret",
            delivery("pos-cloud", &json!(receipt("WH-10", STORE, "1")), &["not-the-secret-at-all"], now()),
            401,
            "webhook_signature_invalid",
        ),
        (
            "expired timestamp",
            delivery("pos-cloud", &json!(receipt("WH-11", STORE, "1")), &[SECRET], now() - 301),
            401,
            "webhook_timestamp_expired",
        ),
        (
            "timestamp beyond the tolerance ahead",
            delivery("pos-cloud", &json!(receipt("WH-12", STORE, "1")), &[SECRET], now() + 301),
            401,
            "webhook_timestamp_expired",
        ),
    ];
    for (what, request, status, code) in cases {
        let reply = t.send(request).await;
        assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
        refused(&reply, status, code);
    }
    // A signature over another body (the body was changed on the way).
    let mut tampered = delivery("pos-cloud", &json!(receipt("WH-13", STORE, "1")), &[SECRET], now());
    *tampered.body_mut() = Body::from(json!(receipt("WH-13", STORE, "1000")).to_string());
    refused(&t.send(tampered).await, 401, "webhook_signature_invalid");
    // A garbled and a missing signature.
    let mut garbled = delivery("pos-cloud", &json!(receipt("WH-14", STORE, "1")), &[SECRET], now());
    garbled.headers_mut().insert("Backroom-Signature", "v1=deadbeef".parse().expect("header"));
    refused(&t.send(garbled).await, 401, "webhook_signature_invalid");
    let mut unsigned = delivery("pos-cloud", &json!(receipt("WH-15", STORE, "1")), &[SECRET], now());
    unsigned.headers_mut().remove("Backroom-Signature");
    refused(&t.send(unsigned).await, 401, "webhook_signature_invalid");
    // An API key is no credential here.
    let keyed = Request::post("/webhooks/pos-cloud")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.secret))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!(receipt("WH-16", STORE, "1")).to_string()))
        .expect("request");
    refused(&t.send(keyed).await, 401, "webhook_signature_invalid");
    for id in ["WH-10", "WH-11", "WH-12", "WH-13", "WH-14", "WH-15", "WH-16"] {
        assert!(logged(&t, id).await.is_empty(), "{id} was refused, so it is not in the log");
    }

    // An unknown source.
    let reply = t.send(delivery("nobody", &json!(receipt("WH-17", STORE, "1")), &[SECRET], now())).await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["nobody"]);
    t.close().await;
}

async fn a_rotated_secret_is_accepted_beside_the_old_one(t: TestApp) {
    t.send(delivery("pos-rotating", &json!(receipt("ROT-1", STORE, "1")), &[OLD_SECRET], now())).await.expect(200);
    t.send(delivery("pos-rotating", &json!(receipt("ROT-2", STORE, "1")), &[NEW_SECRET], now())).await.expect(200);
    // A sender mid-rotation signs with both.
    t.send(delivery("pos-rotating", &json!(receipt("ROT-3", STORE, "1")), &[NEW_SECRET, OLD_SECRET], now()))
        .await
        .expect(200);
    // Dropping one of two signatures does not make a replay new.
    let at = now();
    let both = json!(receipt("ROT-4", STORE, "1"));
    t.send(delivery("pos-rotating", &both, &[OLD_SECRET, NEW_SECRET], at)).await.expect(200);
    let stripped = t.send(delivery("pos-rotating", &both, &[NEW_SECRET], at)).await;
    assert_error(&stripped, 409, "webhook_replayed", "invalid_request", &[]);
    // One source's secret is no good for another.
    let other = t.send(delivery("pos-cloud", &json!(receipt("ROT-5", STORE, "1")), &[NEW_SECRET], now())).await;
    refused(&other, 401, "webhook_signature_invalid");
    let events = t.store.events(&EventQuery { limit: 100, ..EventQuery::default() }).await.expect("events");
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["ROT-1", "ROT-2", "ROT-3", "ROT-4"]);
    t.close().await;
}

/// What the test subscriber received.
#[derive(Default)]
struct Received {
    /// Every attempt: (Idempotency-Key, seq in the body, answered status).
    attempts: Vec<(String, i64, u16)>,
    /// Attempts whose signature did not verify.
    bad_signatures: usize,
}

/// A subscriber that checks each delivery's signature and answers 500 to the very first one,
/// then 200.
async fn subscriber() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    async fn hook(State(received): State<Arc<Mutex<Received>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let secret = WebhookSecret::new(SUBSCRIBER_SECRET);
        let verified = signature::verify(
            std::slice::from_ref(&secret),
            get("backroom-timestamp").as_deref(),
            get("backroom-signature").as_deref(),
            &body,
            Utc::now().timestamp(),
            300,
        );
        let entry: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut r = received.lock().expect("lock");
        if verified.is_err() {
            r.bad_signatures += 1;
            return StatusCode::UNAUTHORIZED;
        }
        let status = if r.attempts.is_empty() { 500 } else { 200 };
        r.attempts.push((get("idempotency-key").unwrap_or_default(), entry["seq"].as_i64().unwrap_or(-1), status));
        StatusCode::from_u16(status).expect("status")
    }
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/hook?token=not-shown"), received)
}

fn fast() -> NotifierOptions {
    NotifierOptions {
        poll: Duration::from_millis(20),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
        ..NotifierOptions::default()
    }
}

async fn decided(t: &TestApp, task: &str) {
    let entry = AuditEntry::new(Utc::now(), "store-manager", "task.decided", &format!("task/{task}"));
    let noise = AuditEntry::new(Utc::now(), "ops", "location.saved", "location/S042");
    t.store.record_audit(vec![entry, noise]).await.expect("audit");
}

/// The seqs of the `task.decided` entries in the chain.
async fn decided_seqs(t: &TestApp) -> Vec<i64> {
    let q = backroom_store::AuditQuery { kind: Some("task.decided".into()), limit: 1000, ..Default::default() };
    t.store.audit(&q).await.expect("audit").iter().map(|r| r.seq).collect()
}

/// Delivered (answered 200) seqs, in the order received.
fn delivered(received: &Mutex<Received>) -> Vec<i64> {
    received.lock().expect("lock").attempts.iter().filter(|a| a.2 == 200).map(|a| a.1).collect()
}

async fn wait_for_deliveries(received: &Mutex<Received>, n: usize) {
    for _ in 0..500 {
        if delivered(received).len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected {n} deliveries, got {:?}", received.lock().expect("lock").attempts);
}

/// The configuration with a subscriber at `url`.
fn with_subscriber(url: &str) -> Config {
    let mut config = config();
    config.webhooks.outbound.push(OutboundWebhook {
        name: "ops-feed".into(),
        url: url.to_owned(),
        secrets: vec![WebhookSecret::new(SUBSCRIBER_SECRET)],
        kinds: vec!["task.decided".into()],
    });
    config
}

/// Starts the notifier for the app's subscribers, as `serve` does.
fn notifier(t: &TestApp) -> Result<Notifier, ServerError> {
    let subscribers = t.state.webhooks.outbound.clone();
    Notifier::start(t.store.clone(), subscribers, Arc::clone(&t.state.deliveries), fast())
        .map_err(|e| ServerError::Startup(e.to_string()))
}

mod subscribers_get_each_entry_once_in_order_across_restarts {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let (url, received) = subscriber().await;
        let t = TestApp::sqlite_configured(&with_subscriber(&url)).await;
        subscribers_get_each_entry_once_in_order_across_restarts(t, &url, received).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let (url, received) = subscriber().await;
        if let Some(t) = TestApp::postgres_configured(&with_subscriber(&url)).await {
            subscribers_get_each_entry_once_in_order_across_restarts(t, &url, received).await;
        }
    }
}

async fn subscribers_get_each_entry_once_in_order_across_restarts(
    t: TestApp,
    url: &str,
    received: Arc<Mutex<Received>>,
) {
    for task in ["T-1", "T-2", "T-3"] {
        decided(&t, task).await;
    }
    let running = notifier(&t).expect("start");
    wait_for_deliveries(&received, 3).await;
    running.shutdown().await;

    let seqs = decided_seqs(&t).await;
    assert_eq!(delivered(&received), seqs, "each task.decided entry once, in chain order, nothing else");
    {
        let r = received.lock().expect("lock");
        assert_eq!(r.bad_signatures, 0, "every delivery is signed");
        assert_eq!(r.attempts[0].2, 500, "the subscriber failed the first attempt");
        assert_eq!(r.attempts[0].1, r.attempts[1].1, "the failed entry is sent again before any other");
        for (key, seq, _) in &r.attempts {
            assert_eq!(key, &format!("audit-{seq}"), "the idempotency key names the entry");
        }
    }

    let listed = t.get("/v1/webhooks").await.expect(200).json();
    let feed = &listed["outbound"][0];
    assert_eq!(feed["name"], "ops-feed");
    assert_eq!(feed["url"], url.split('?').next().expect("url"), "the query (which may hold a token) is not shown");
    assert!(feed["last_delivered_seq"].as_i64().expect("seq") >= *seqs.last().expect("last"), "{feed}");
    assert_eq!(feed["pending"], 0, "{feed}");
    assert!(!listed.to_string().contains(SUBSCRIBER_SECRET) && !listed.to_string().contains(SECRET));

    // Entries recorded while it is stopped wait for it, counted as pending.
    decided(&t, "T-4").await;
    decided(&t, "T-5").await;
    let listed = t.get("/v1/webhooks").await.expect(200).json();
    assert_eq!(listed["outbound"][0]["pending"], 2, "{listed}");
    let running = notifier(&t).expect("restart");
    wait_for_deliveries(&received, 5).await;
    // Give a wrongly restarted notifier the chance to send something twice.
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.shutdown().await;
    assert_eq!(delivered(&received), decided_seqs(&t).await, "after the restart, only the new entries");
    let listed = t.get("/v1/webhooks").await.expect(200).json();
    assert_eq!(listed["outbound"][0]["pending"], 0, "{listed}");
    t.close().await;
}

/// `GET /v1/webhooks` lists the configured webhooks without their secrets, for readers of
/// connectors only.
async fn the_webhook_list_shows_no_secret_and_needs_a_permission(t: TestApp) {
    let listed = t.get("/v1/webhooks").await.expect(200).json();
    assert_eq!(listed["inbound"][0], json!({"source": "pos-cloud", "body": "events", "tolerance_seconds": 300}));
    assert!(!listed.to_string().contains(SECRET));
    let clerk = t.key("till", &["store_associate"], &[]).await;
    let reply = t.call(Method::GET, "/v1/webhooks", Some(&clerk), None).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &[]);
    t.close().await;
}

macro_rules! on_both_backends_with {
    ($config:ident: $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::support::TestApp::sqlite_configured(&super::$config()).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = super::support::TestApp::postgres_configured(&super::$config()).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

on_both_backends_with!(config:
    signed_batches_are_recorded_once_and_everything_else_is_refused,
    a_rotated_secret_is_accepted_beside_the_old_one,
    the_webhook_list_shows_no_secret_and_needs_a_permission,
);
