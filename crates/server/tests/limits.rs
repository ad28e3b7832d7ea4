//! Per-caller rate limits: a key over its burst is refused with 429 and `Retry-After` while
//! other keys go on; webhook sources are limited the same way.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, header};
use backroom_server::Config;
use backroom_server::webhooks::signature::signature_header;
use backroom_server::webhooks::{BodyKind, InboundWebhook, WebhookSecret, WebhooksConfig};
use chrono::Utc;
use serde_json::json;
use support::{STORE, TestApp, assert_error, receipt};

const SECRET: &str = "limits-test-secret-01";

fn config() -> Config {
    Config {
        rate_limit_per_second: 1,
        rate_limit_burst: 3,
        webhooks: WebhooksConfig {
            inbound: vec![InboundWebhook {
                source: "pos-cloud".into(),
                secrets: vec![WebhookSecret::new(SECRET)],
                tolerance_seconds: 300,
                body: BodyKind::Events,
            }],
            outbound: vec![],
        },
        ..Config::default()
    }
}

async fn a_key_over_its_burst_waits_while_another_key_goes_on(t: TestApp) {
    let busy = t.key("busy-integration", &["integration"], &[]).await;
    let quiet = t.key("quiet-integration", &["integration"], &[]).await;
    for _ in 0..3 {
        t.call(Method::GET, "/v1/locations", Some(&busy), None).await.expect(200);
    }
    let reply = t.call(Method::GET, "/v1/locations", Some(&busy), None).await;
    assert_error(&reply, 429, "rate_limited", "rate_limit_error", &["busy-integration", "retry in"]);
    let retry: u64 = reply.header(header::RETRY_AFTER).parse().expect("Retry-After in whole seconds");
    assert!(retry >= 1, "Retry-After: {retry}");
    t.call(Method::GET, "/v1/locations", Some(&quiet), None).await.expect(200);
    // Open routes are not limited.
    for _ in 0..5 {
        t.get_anonymous("/healthz").await.expect(200);
    }
    // Credentials are checked before the rate: an unknown key is unauthorized, not limited.
    let reply = t.call(Method::GET, "/v1/locations", Some("not-a-key"), None).await;
    assert_error(&reply, 401, "unauthorized", "authentication_error", &[]);
    t.close().await;
}

async fn a_webhook_source_over_its_burst_is_limited(t: TestApp) {
    let secrets = [WebhookSecret::new(SECRET)];
    let send = |id: String| {
        let body = json!(receipt(&id, STORE, "1")).to_string();
        let at = Utc::now().timestamp();
        Request::post("/webhooks/pos-cloud")
            .header(header::CONTENT_TYPE, "application/json")
            .header("Backroom-Timestamp", at.to_string())
            .header("Backroom-Signature", signature_header(&secrets, at, body.as_bytes()))
            .body(Body::from(body))
            .expect("request")
    };
    for i in 0..3 {
        t.send(send(format!("RL-{i}"))).await.expect(200);
    }
    let reply = t.send(send("RL-9".into())).await;
    assert_error(&reply, 429, "rate_limited", "rate_limit_error", &["pos-cloud"]);
    assert!(!reply.header(header::RETRY_AFTER).is_empty());
    // Read from the store: the admin key has a burst of three as well.
    let events =
        t.store.events(&backroom_store::EventQuery { limit: 100, ..Default::default() }).await.expect("events");
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["RL-0", "RL-1", "RL-2"], "the refused delivery is not recorded");
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
    a_key_over_its_burst_waits_while_another_key_goes_on,
    a_webhook_source_over_its_burst_is_limited,
);
