//! The HTTP connector against a small HTTP server: keys, answers, and failure classes.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use backroom_connectors::{HttpConfig, HttpConnector};
use backroom_engine::connector::{Call, CallKind, Connector, ConnectorError};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn answer(
    State(seen): State<Seen>,
    Path(op): Path<String>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    seen.lock().expect("lock").push((op.clone(), key));
    match op.as_str() {
        "create_transfer" => {
            (StatusCode::CREATED, [("retry-after", "0")], json!({"transfer": "TR-1", "echo": body}).to_string())
        }
        "busy" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")], String::new()),
        "broken" => (StatusCode::BAD_GATEWAY, [("retry-after", "0")], "upstream down".to_owned()),
        _ => {
            (StatusCode::UNPROCESSABLE_ENTITY, [("retry-after", "0")], "{\"error\":\"unknown item SKU-9\"}".to_owned())
        }
    }
}

fn call(operation: &str) -> Call {
    Call {
        operation: operation.to_owned(),
        kind: CallKind::Command,
        payload: json!({"sku": "SKU-1"}),
        idempotency_key: Some("inst-1/transfer".to_owned()),
    }
}

#[tokio::test]
async fn sends_the_key_and_classifies_failures() {
    let seen: Seen = Arc::default();
    let app = Router::new().route("/api/{op}", post(answer)).with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = HttpConfig {
        url: format!("http://{addr}/api"),
        timeout_ms: 2000,
        bearer_token_env: None,
        operations: Default::default(),
    };
    let erp = HttpConnector::new("erp", config).expect("connector");

    let ok = erp.call(call("create_transfer")).await.expect("created");
    assert_eq!(ok["transfer"], "TR-1");
    assert_eq!(
        serde_json::from_str::<Value>(ok["echo"].as_str().expect("echo")).expect("json"),
        json!({"sku": "SKU-1"})
    );
    assert_eq!(seen.lock().expect("lock")[0], ("create_transfer".to_owned(), Some("inst-1/transfer".to_owned())));

    match erp.call(call("busy")).await {
        Err(ConnectorError::Retryable { retry_after, .. }) => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)))
        }
        other => panic!("429 is retryable: {other:?}"),
    }
    assert!(matches!(erp.call(call("broken")).await, Err(ConnectorError::Retryable { .. })));
    match erp.call(call("unknown")).await {
        Err(ConnectorError::Permanent { message }) => assert!(message.contains("unknown item SKU-9"), "{message}"),
        other => panic!("422 is permanent: {other:?}"),
    }
    let closed = HttpConnector::new(
        "wms",
        HttpConfig {
            url: "http://127.0.0.1:9".into(),
            timeout_ms: 500,
            bearer_token_env: None,
            operations: Default::default(),
        },
    )
    .expect("connector");
    assert!(
        matches!(closed.call(call("x")).await, Err(ConnectorError::Retryable { .. })),
        "refused connections are retried"
    );
}
