//! The HTTP connector against a small HTTP server: request shaping from TOML, keys,
//! authentication, failure classes, rate limits, health and configuration errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use backroom_connectors::{from_toml_with_env, parse_file};
use backroom_engine::connector::{Call, CallKind, ConnectorError, Connectors};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// What the server checks before answering.
#[derive(Clone)]
enum Check {
    Nothing,
    Bearer(&'static str),
    Basic(&'static str),
    Hmac(&'static str),
}

/// One request as the server saw it, with the server's own arrival time.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: HeaderMap,
    body: String,
    at: Instant,
}

#[derive(Clone)]
struct Reference {
    check: Check,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Recomputes the documented signature: HMAC-SHA256 over
/// `{unix_seconds}.{METHOD}.{path_and_query}.{body}`, header `t=<unix>,v1=<hex>`.
fn verify_signature(secret: &str, header: Option<&str>, method: &str, target: &str, body: &str) -> bool {
    let Some(header) = header else { return false };
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let Ok(unix) = t.parse::<i64>() else { return false };
    if (Utc::now().timestamp() - unix).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{method}.{target}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn answer(
    State(reference): State<Reference>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    reference.seen.lock().expect("lock").push(Seen {
        method: method.to_string(),
        target: target.clone(),
        headers: headers.clone(),
        body: body.clone(),
        at: Instant::now(),
    });
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let allowed = match &reference.check {
        Check::Nothing => true,
        Check::Bearer(token) => authorization == Some(&format!("Bearer {token}")),
        Check::Basic(encoded) => authorization == Some(&format!("Basic {encoded}")),
        Check::Hmac(secret) => verify_signature(
            secret,
            headers.get("x-signature").and_then(|v| v.to_str().ok()),
            method.as_str(),
            &target,
            &body,
        ),
    };
    if !allowed {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"bad credentials\"}").into_response();
    }
    match uri.path() {
        "/api/unavailable" => (StatusCode::SERVICE_UNAVAILABLE, "ERP maintenance window").into_response(),
        "/api/busy" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")], "slow down").into_response(),
        "/api/busy-until" => {
            let until = (Utc::now() + chrono::Duration::seconds(120)).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", until)], "slow down").into_response()
        }
        "/api/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            (StatusCode::OK, "{}").into_response()
        }
        "/api/write-offs" => {
            (StatusCode::UNPROCESSABLE_ENTITY, "{\"error\":\"unknown item SKU-9 at STORE-042\",\"field\":\"item\"}")
                .into_response()
        }
        _ => {
            let echoed = serde_json::from_str::<Value>(&body).unwrap_or(Value::Null);
            let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
            let reply = json!({
                "method": method.as_str(),
                "target": target,
                "body": echoed,
                "idempotency_key": key,
                "lines": [{"item": "SKU-1001", "available": 7}],
            });
            (StatusCode::OK, [("content-type", "application/json")], reply.to_string()).into_response()
        }
    }
}

/// A reference system on an ephemeral port: its base URL and what it saw.
async fn serve(check: Check) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(answer).with_state(Reference { check, seen: Arc::clone(&seen) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/api"), seen)
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Connectors {
    match from_toml_with_env(text, "connectors.toml", env) {
        Ok(connectors) => connectors,
        Err(e) => panic!("connectors.toml should load: {e}"),
    }
}

fn command(operation: &str, payload: Value, key: &str) -> Call {
    Call { operation: operation.to_owned(), kind: CallKind::Command, payload, idempotency_key: Some(key.to_owned()) }
}

fn query(operation: &str, payload: Value) -> Call {
    Call { operation: operation.to_owned(), kind: CallKind::Query, payload, idempotency_key: None }
}

#[tokio::test]
async fn templates_shape_the_request_and_the_output() {
    let (url, seen) = serve(Check::Nothing).await;
    let connectors = load(
        &format!(
            r#"
            [erp]
            url = "{url}"
            headers = {{ "X-Tenant" = "acme" }}

            [erp.operations.ship_transfer]
            method = "POST"
            path = "/transfers/{{transfer_id}}/ship"
            body = {{ carrier = "{{carrier}}", quantity = "{{quantity}}", note = "stockout at {{to}}", lines = "{{lines}}", source = "backroom", priority = 2 }}
            response = {{ method = "/method", shipped = "/body/quantity", first_available = "/lines/0/available", missing = "/no/such/field" }}

            [erp.operations.release_invoice]
            method = "POST"
            path = "/supplier-invoices/{{invoice_id}}/release"

            [erp.operations.get_stock]
            method = "GET"
            path = "/stock"
            query = ["location", "item"]

            [erp.operations.get_order]
            method = "GET"
            path = "/orders/{{order.number}}"
            "#
        ),
        &no_env,
    );
    let erp = connectors.get("erp").expect("erp");

    let shipped = erp
        .call(command(
            "ship_transfer",
            json!({
                "transfer_id": "TR-2026-0042",
                "carrier": "DHL",
                "quantity": 24,
                "to": "STORE-042",
                "lines": [{"item": "SKU-1001", "quantity": 24}],
                "ignored": "not in the template"
            }),
            "inst-7/ship",
        ))
        .await
        .expect("shipped");
    assert_eq!(shipped, json!({"method": "POST", "shipped": 24, "first_available": 7, "missing": null}));
    let request = seen.lock().expect("lock")[0].clone();
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/api/transfers/TR-2026-0042/ship");
    assert_eq!(
        serde_json::from_str::<Value>(&request.body).expect("json body"),
        json!({
            "carrier": "DHL",
            "quantity": 24,
            "note": "stockout at STORE-042",
            "lines": [{"item": "SKU-1001", "quantity": 24}],
            "source": "backroom",
            "priority": 2
        })
    );
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["x-tenant"], "acme");

    let released = erp
        .call(command(
            "release_invoice",
            json!({"invoice_id": "SUP-001:INV-77", "amount": "1250.00"}),
            "inst-8/release",
        ))
        .await
        .expect("released");
    assert_eq!(released["target"], "/api/supplier-invoices/SUP-001%3AINV-77/release");
    assert_eq!(released["body"], json!({"invoice_id": "SUP-001:INV-77", "amount": "1250.00"}), "payload is the body");

    let stock = erp
        .call(query("get_stock", json!({"location": "STORE-042", "item": "SKU-1001", "reason": "stockout"})))
        .await
        .expect("stock");
    assert_eq!(stock["method"], "GET");
    assert_eq!(stock["target"], "/api/stock?location=STORE-042&item=SKU-1001");
    assert_eq!(stock["lines"][0]["available"], 7, "without `response` the whole answer is the output");

    let order = erp
        .call(query("get_order", json!({"order": {"number": "WEB-100234"}, "channel": "web shop"})))
        .await
        .expect("order");
    assert_eq!(order["target"], "/api/orders/WEB-100234?channel=web+shop");
    assert_eq!(seen.lock().expect("lock").last().expect("seen").body, "", "a GET has no body");

    let before = seen.lock().expect("lock").len();
    match erp.call(command("ship_transfer", json!({"carrier": "DHL", "quantity": 1}), "inst-9/ship")).await {
        Err(ConnectorError::Permanent { message }) => {
            assert!(message.contains("erp.ship_transfer") && message.contains("transfer_id"), "{message}")
        }
        other => panic!("a missing path field is permanent: {other:?}"),
    }
    assert_eq!(seen.lock().expect("lock").len(), before, "nothing was sent");
}

#[tokio::test]
async fn commands_carry_the_idempotency_key_and_queries_do_not() {
    let (url, seen) = serve(Check::Nothing).await;
    let connectors = load(
        &format!(
            "[wms]\nurl = \"{url}\"\n[wms.operations.reserve_transfer_order]\npath = \"/transfer-orders\"\n\
             [wms.operations.availability]\nmethod = \"GET\"\npath = \"/availability\"\nquery = [\"item\", \"dc\"]\n"
        ),
        &no_env,
    );
    let wms = connectors.get("wms").expect("wms");
    wms.call(command("reserve_transfer_order", json!({"item": "SKU-1001", "quantity": 12}), "inst-3/reserve"))
        .await
        .expect("reserved");
    let mut lookup = query("availability", json!({"item": "SKU-1001", "dc": "DC-NORTH"}));
    lookup.idempotency_key = Some("inst-3/lookup".to_owned());
    wms.call(lookup).await.expect("available");
    // An operation not listed is POST /{operation}.
    wms.call(command("ping_dock", json!({"dock": 4}), "inst-3/ping")).await.expect("answered");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen[0].target, "/api/transfer-orders");
    assert_eq!(seen[0].headers["idempotency-key"], "inst-3/reserve");
    assert_eq!(seen[1].target, "/api/availability?item=SKU-1001&dc=DC-NORTH");
    assert!(seen[1].headers.get("idempotency-key").is_none(), "queries carry no key");
    assert_eq!((seen[2].method.as_str(), seen[2].target.as_str()), ("POST", "/api/ping_dock"));
}

#[tokio::test]
async fn bearer_basic_and_hmac_are_verified_by_the_system() {
    let env = |var: &str| match var {
        "ERP_TOKEN" => Some("erp-token-123".to_owned()),
        "POS_PASSWORD" => Some("pos-pass-1".to_owned()),
        "WMS_SIGNING_SECRET" => Some("wms-signing-secret-9f2c".to_owned()),
        _ => None,
    };

    let (erp_url, _) = serve(Check::Bearer("erp-token-123")).await;
    let (pos_url, _) = serve(Check::Basic("YmFja3Jvb206cG9zLXBhc3MtMQ==")).await;
    let (wms_url, wms_seen) = serve(Check::Hmac("wms-signing-secret-9f2c")).await;
    let connectors = load(
        &format!(
            r#"
            [erp]
            url = "{erp_url}"
            bearer_token_env = "ERP_TOKEN"

            [pos]
            url = "{pos_url}"
            basic = {{ username = "backroom", password_env = "POS_PASSWORD" }}

            [wms]
            url = "{wms_url}"
            hmac = {{ secret_env = "WMS_SIGNING_SECRET", key_id = "2026-01" }}
            [wms.operations.availability]
            method = "GET"
            path = "/availability"
            [wms.operations.pick_transfer_order]
            path = "/transfer-orders/{{order_id}}/pick"
            "#
        ),
        &env,
    );
    let erp = connectors.get("erp").expect("erp");
    erp.call(command("create_transfer", json!({"from": "STORE-017", "to": "STORE-042"}), "i/1")).await.expect("bearer");
    let pos = connectors.get("pos").expect("pos");
    pos.call(command("notify", json!({"location": "STORE-042", "text": "Reorder SKU-1001"}), "i/2"))
        .await
        .expect("basic");
    let wms = connectors.get("wms").expect("wms");
    wms.call(query("availability", json!({"item": "SKU-1001", "dc": "DC-NORTH"}))).await.expect("signed GET");
    wms.call(command("pick_transfer_order", json!({"order_id": "TO 55/1", "lines": [{"item": "SKU-1001"}]}), "i/3"))
        .await
        .expect("signed POST");
    let signature = wms_seen.lock().expect("lock")[1].headers["x-signature"].to_str().expect("ascii").to_owned();
    assert!(signature.starts_with("t=") && signature.contains(",v1=") && signature.ends_with(",kid=2026-01"));

    // The same systems refuse wrong credentials, and the refusal is permanent.
    let wrong = |var: &str| match var {
        "ERP_TOKEN" => Some("stale-token".to_owned()),
        "WMS_SIGNING_SECRET" => Some("old-secret".to_owned()),
        _ => None,
    };
    let stale = load(
        &format!(
            "[erp]\nurl = \"{erp_url}\"\nbearer_token_env = \"ERP_TOKEN\"\n\
             [wms]\nurl = \"{wms_url}\"\nhmac = {{ secret_env = \"WMS_SIGNING_SECRET\" }}\n"
        ),
        &wrong,
    );
    for name in ["erp", "wms"] {
        match stale.get(name).expect("connector").call(command("create_transfer", json!({}), "i/4")).await {
            Err(ConnectorError::Permanent { message }) => {
                assert!(message.contains("401") && !message.contains("stale-token") && !message.contains("old-secret"))
            }
            other => panic!("{name}: wrong credentials are refused: {other:?}"),
        }
    }
}

#[tokio::test]
async fn failures_are_classified_for_the_engine() {
    let (url, _) = serve(Check::Nothing).await;
    let connectors = load(
        &format!(
            r#"
            [erp]
            url = "{url}"
            [erp.operations.maintenance]
            path = "/unavailable"
            [erp.operations.throttled]
            path = "/busy"
            [erp.operations.throttled_until]
            path = "/busy-until"
            [erp.operations.slow_report]
            method = "GET"
            path = "/slow"
            timeout_ms = 200
            [erp.operations.write_off]
            path = "/write-offs"

            [closed]
            url = "http://127.0.0.1:9/api"
            timeout_ms = 1000
            "#
        ),
        &no_env,
    );
    let erp = connectors.get("erp").expect("erp");
    let call =
        |op: &str| command(op, json!({"location": "STORE-042", "item": "SKU-9", "quantity": 3}), "inst-5/write-off");

    match erp.call(call("maintenance")).await {
        Err(ConnectorError::Retryable { message, retry_after }) => {
            assert!(message.contains("503") && message.contains("ERP maintenance window"), "{message}");
            assert_eq!(retry_after, None);
        }
        other => panic!("503 is retryable: {other:?}"),
    }
    match erp.call(call("throttled")).await {
        Err(ConnectorError::Retryable { retry_after, .. }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("429 is retryable: {other:?}"),
    }
    match erp.call(call("throttled_until")).await {
        Err(ConnectorError::Retryable { retry_after: Some(wait), .. }) => {
            assert!(wait > Duration::from_secs(60) && wait <= Duration::from_secs(121), "{wait:?}")
        }
        other => panic!("429 with an HTTP date is retryable with a wait: {other:?}"),
    }
    match erp.call(query("slow_report", json!({"location": "STORE-042"}))).await {
        Err(ConnectorError::Retryable { message, .. }) => assert!(message.contains("timed out"), "{message}"),
        other => panic!("a timeout is retryable: {other:?}"),
    }
    match erp.call(call("write_off")).await {
        Err(ConnectorError::Permanent { message }) => {
            assert!(message.contains("422") && message.contains("unknown item SKU-9 at STORE-042"), "{message}")
        }
        other => panic!("422 is permanent: {other:?}"),
    }
    let closed = connectors.get("closed").expect("closed");
    assert!(matches!(closed.call(call("write_off")).await, Err(ConnectorError::Retryable { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_spaces_calls_out() {
    let (url, seen) = serve(Check::Nothing).await;
    let connectors = load(&format!("[pos]\nurl = \"{url}\"\nrate_per_second = 5\nburst = 1\n"), &no_env);
    let pos = Arc::clone(connectors.get("pos").expect("pos"));
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let pos = Arc::clone(&pos);
            tokio::spawn(async move { pos.call(command("notify", json!({"n": i}), &format!("inst-{i}/notify"))).await })
        })
        .collect();
    for call in calls {
        call.await.expect("joined").expect("answered, not refused");
    }
    let arrivals: Vec<Instant> = seen.lock().expect("lock").iter().map(|s| s.at).collect();
    assert_eq!(arrivals.len(), 6);
    let first = arrivals.iter().min().expect("first");
    let last = arrivals.iter().max().expect("last");
    // Five waits of 200 ms at 5/s; allow slack for scheduling.
    assert!(*last - *first >= Duration::from_millis(600), "spread {:?}", *last - *first);
}

#[tokio::test]
async fn health_follows_the_calls() {
    let (url, _) = serve(Check::Nothing).await;
    let connectors =
        load(&format!("[erp]\nurl = \"{url}\"\n[erp.operations.maintenance]\npath = \"/unavailable\"\n"), &no_env);
    let erp = connectors.get("erp").expect("erp");
    let fresh = erp.health().expect("the HTTP connector keeps a record");
    assert_eq!((fresh.calls, fresh.failures, fresh.recent_error_rate), (0, 0, 0.0));
    assert!(fresh.last_success.is_none() && fresh.last_failure.is_none() && fresh.last_error.is_none());

    for i in 0..3 {
        erp.call(command("create_transfer", json!({"n": i}), &format!("i/{i}"))).await.expect("ok");
    }
    let good = erp.health().expect("health");
    assert_eq!((good.calls, good.failures, good.recent_error_rate), (3, 0, 0.0));
    let succeeded = good.last_success.expect("last success");
    assert!(good.last_failure.is_none());

    erp.call(command("maintenance", json!({}), "i/9")).await.expect_err("503");
    let bad = erp.health().expect("health");
    assert_eq!((bad.calls, bad.failures, bad.recent_error_rate), (4, 1, 0.25));
    assert_eq!(bad.last_success, Some(succeeded));
    assert!(bad.last_failure.expect("last failure") >= succeeded);
    assert!(bad.last_error.expect("last error").contains("503"));

    erp.call(command("create_transfer", json!({}), "i/10")).await.expect("ok");
    let recovered = erp.health().expect("health");
    assert_eq!((recovered.calls, recovered.failures), (5, 1));
    assert!(recovered.last_success.expect("last success") >= bad.last_failure.expect("failure"));
}

fn refused(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    match from_toml_with_env(text, "connectors.toml", env) {
        Ok(_) => panic!("should be refused:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn configuration_errors_name_the_file_the_connector_and_the_field() {
    let unknown = refused("[erp]\nurl = \"http://127.0.0.1:9100/api\"\nrate_limit = 5\n", &no_env);
    assert!(unknown.starts_with("connectors.toml: [erp]") && unknown.contains("rate_limit"), "{unknown}");
    let nested = refused(
        "[erp]\nurl = \"http://127.0.0.1:9100/api\"\n[erp.operations.get_stock]\nmethod = \"GET\"\nparams = []\n",
        &no_env,
    );
    assert!(nested.starts_with("connectors.toml: [erp] operations.get_stock") && nested.contains("params"), "{nested}");
    let inline = refused(
        "[pos]\nurl = \"http://127.0.0.1:9300/api\"\nbasic = { user = \"backroom\", password_env = \"POS_PASSWORD\" }\n",
        &no_env,
    );
    assert!(inline.contains("[pos]") && inline.contains("user"), "{inline}");

    let method =
        refused("[pos]\nurl = \"http://127.0.0.1:9300/api\"\n[pos.operations.get_sale]\nmethod = \"FETCH\"\n", &no_env);
    assert!(
        method.contains("[pos] operations.get_sale") && method.contains("FETCH") && method.contains("GET"),
        "{method}"
    );

    let env = |var: &str| (var == "POS_PASSWORD").then(|| "pos-pass-1".to_owned());
    let missing =
        refused("[wms]\nurl = \"http://127.0.0.1:9200/api\"\nhmac = { secret_env = \"WMS_SIGNING_SECRET\" }\n", &env);
    assert_eq!(
        missing,
        "connectors.toml: [wms] hmac.secret_env: names the environment variable WMS_SIGNING_SECRET, which is not set"
    );
    let two = refused(
        "[pos]\nurl = \"http://127.0.0.1:9300/api\"\nbasic = { username = \"backroom\", password_env = \"POS_PASSWORD\" }\n\
         bearer_token_env = \"POS_PASSWORD\"\n",
        &env,
    );
    assert!(two.contains("[pos]") && two.contains("choose one") && !two.contains("pos-pass-1"), "{two}");

    let template = refused(
        "[erp]\nurl = \"http://127.0.0.1:9100/api\"\n[erp.operations.ship_transfer]\npath = \"/transfers/{transfer id}/ship\"\n",
        &no_env,
    );
    assert!(template.starts_with("connectors.toml: [erp] operations.ship_transfer.path:"), "{template}");
    let body = refused(
        "[pos]\nurl = \"http://127.0.0.1:9300/api\"\n[pos.operations.notify]\nbody = { text = \"stockout at {location\" }\n",
        &no_env,
    );
    assert!(body.starts_with("connectors.toml: [pos] operations.notify.body.text:"), "{body}");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let env = |var: &str| (var == "POS_PASSWORD").then(|| "pos-pass-1".to_owned());
    let file = parse_file(
        "[pos]\nurl = \"http://127.0.0.1:9300/api\"\nbasic = { username = \"backroom\", password_env = \"POS_PASSWORD\" }\n",
        "connectors.toml",
    )
    .expect("parses");
    let pos = backroom_connectors::HttpConnector::with_env("pos", file["pos"].clone(), &env).expect("loads");
    let shown = format!("{pos:?}");
    assert!(shown.contains("basic") && !shown.contains("pos-pass-1"), "{shown}");
}
