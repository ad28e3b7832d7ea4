//! The HTTP API as an integration engineer meets it: ingest and read back, all-or-nothing
//! batches, every error answer, the OpenAPI document, schemas, metrics and health — and random
//! bodies that must never make the server fail. Requests go through the app in-process.

mod support;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, header};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{Value, json};
use support::{PEN_GTIN, STORE, TestApp, assert_error, count, ndjson, problems, receipt, sale, transfer};

on_both_backends!(
    ingest_read_back_and_projections,
    a_rejected_batch_stores_nothing,
    an_event_the_model_cannot_type_is_refused_not_dropped,
    a_nul_in_a_query_parameter_is_a_client_error,
);

/// Events posted one, as an array and as NDJSON come back from the log with their seq, subject
/// and data; re-posting is answered as duplicates; stock and daily sales follow.
async fn ingest_read_back_and_projections(t: TestApp) {
    // One event.
    let one = t.ingest(&receipt("R-1", STORE, "5")).await;
    assert_eq!(one["accepted"], 1);
    assert_eq!(one["duplicates"], 0);
    assert_eq!(one["results"].as_array().expect("results").len(), 1);
    assert_eq!(one["results"][0]["duplicate"], false);
    let r1 = one["results"][0]["seq"].as_i64().expect("seq");
    assert!(r1 >= 1);

    // An array: a sale of 2 pens and a sale at another store.
    let batch = json!([sale("T-1", STORE, 2), sale("T-2", "S043", 1)]);
    let two = t.ingest(&batch).await;
    assert_eq!((two["accepted"].as_i64(), two["duplicates"].as_i64()), (Some(2), Some(0)));
    let seqs: Vec<i64> =
        two["results"].as_array().expect("results").iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(r1 < seqs[0] && seqs[0] < seqs[1], "seq grows in request order: {r1} then {seqs:?}");

    // NDJSON with a blank line (and a CRLF line ending) between the events.
    let body = format!("{}\n\r\n{}\r\n", transfer("TR-1", "shipped", "S043", STORE, "4"), count("C-1", "S044", "9"));
    let three = t.post_events(Some("application/x-ndjson"), body).await.expect(200).json();
    assert_eq!(three["accepted"], 2);
    let nd: Vec<i64> =
        three["results"].as_array().expect("results").iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(seqs[1] < nd[0] && nd[0] < nd[1], "{seqs:?} then {nd:?}");

    // The same again: duplicates with the original seq, nothing new.
    let again = t.ingest(&batch).await;
    assert_eq!((again["accepted"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(2)));
    for (result, seq) in again["results"].as_array().expect("results").iter().zip(&seqs) {
        assert_eq!(result["duplicate"], true);
        assert_eq!(result["seq"], *seq);
    }
    let again = t.ingest(&receipt("R-1", STORE, "5")).await;
    assert_eq!(again["results"][0], json!({"seq": r1, "duplicate": true}));
    let twice = t.ingest(&json!([sale("T-3", "S045", 1), sale("T-3", "S045", 1)])).await;
    assert_eq!((twice["accepted"].as_i64(), twice["duplicates"].as_i64()), (Some(1), Some(1)), "{twice}");
    assert_eq!(twice["results"][1]["seq"], twice["results"][0]["seq"], "the repeat within a request is the same event");
    let t3 = twice["results"][0]["seq"].as_i64().unwrap();

    // The log holds each event once, in seq order, with its subject and data.
    let log = t.all_events().await;
    let ids: Vec<&str> = log.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["R-1", "T-1", "T-2", "TR-1-shipped", "C-1", "T-3"]);
    let log_seqs: Vec<i64> = log.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(log_seqs, [r1, seqs[0], seqs[1], nd[0], nd[1], t3]);
    let t1 = &log[1];
    assert_eq!(t1["type"], "pos.sale");
    assert_eq!(t1["source"], "pos/store-042");
    let occurred: chrono::DateTime<chrono::Utc> =
        t1["occurred_at"].as_str().expect("occurred_at").parse().expect("RFC 3339");
    assert_eq!(occurred.to_rfc3339(), "2026-11-23T09:15:02+00:00", "occurred_at is kept, in UTC");
    assert!(t1["recorded_at"].as_str().is_some_and(|s| s.parse::<chrono::DateTime<chrono::Utc>>().is_ok()));
    assert_eq!(t1["subject"]["locations"], json!([STORE]));
    assert_eq!(t1["subject"]["items"], json!(["04006381333931"]));
    assert_eq!(t1["data"]["transaction_id"], "T-1");
    assert_eq!(t1["data"]["lines"][0]["quantity"]["value"].to_string().trim_matches('"'), "2");
    assert_eq!(log[3]["subject"]["locations"], json!(["S043", STORE]), "a transfer names both ends");

    // Filters.
    let page = t.get("/v1/events?type=pos.sale").await.expect(200).json();
    let sales: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(sales, ["T-1", "T-2", "T-3"]);
    assert_eq!(page["next_after_seq"], t3);
    let page = t.get(&format!("/v1/events?location={STORE}&item={PEN_GTIN}")).await.expect(200).json();
    let here: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(here, ["R-1", "T-1", "TR-1-shipped"]);
    let page = t.get(&format!("/v1/events?after_seq={r1}&limit=1")).await.expect(200).json();
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    assert_eq!(page["events"][0]["seq"], seqs[0]);
    assert_eq!(page["next_after_seq"], seqs[0]);
    let page =
        t.get("/v1/events?since=2026-11-23T12:00:00Z&until=2026-11-23T18:00:00%2B00:00").await.expect(200).json();
    let midday: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(midday, ["TR-1-shipped"], "since is inclusive, until exclusive");

    // Stock: received 5, sold 2; 4 on the way in; the other store sold 1 and shipped 4; 9 counted.
    let stock = t.get(&format!("/v1/stock?location={STORE}&item={PEN_GTIN}")).await.expect(200).json();
    let positions = stock["positions"].as_array().expect("positions");
    assert_eq!(positions.len(), 1, "{stock}");
    let p = &positions[0];
    assert_eq!(p["location"], STORE);
    assert_eq!(p["item"], "04006381333931");
    assert_eq!(p["unit"], "EA");
    assert_eq!(p["on_hand"], "3", "5 received, 2 sold: {p}");
    assert_eq!(p["in_transit"], "4", "{p}");
    let all = t.stock().await;
    let by_location: Vec<(&str, &str)> =
        all.iter().map(|p| (p["location"].as_str().unwrap(), p["on_hand"].as_str().unwrap())).collect();
    assert_eq!(by_location, [(STORE, "3"), ("S043", "-5"), ("S044", "9"), ("S045", "-1")]);
    assert_eq!(all[2]["last_seq"], nd[1]);
    assert!(all[2]["last_counted_at"].is_string(), "a counted position says when: {}", all[2]);

    // Daily sales.
    let days =
        t.get(&format!("/v1/sales/daily?location={STORE}&from=2026-11-23&to=2026-11-23")).await.expect(200).json();
    let days = days["days"].as_array().expect("days");
    assert_eq!(days.len(), 1, "{days:?}");
    let d = &days[0];
    assert_eq!((d["location"].as_str(), d["item"].as_str()), (Some(STORE), Some("04006381333931")));
    assert_eq!(d["business_day"], "2026-11-23");
    assert_eq!(d["currency"], "EUR");
    assert_eq!(d["sold"], "2");
    assert_eq!(d["revenue"], "2.98");
    assert_eq!(d["returned"], "0");
    assert_eq!(d["transactions"], 1);
    let other_day = t.get("/v1/sales/daily?from=2026-11-24").await.expect(200).json();
    assert_eq!(other_day["days"], json!([]));

    // Readiness names the backend and the last seq.
    let ready = t.get_anonymous("/readyz").await.expect(200).json();
    assert_eq!(ready, json!({"status": "ready", "backend": t.store.backend_name(), "last_seq": t3}));
    t.close().await;
}

/// A batch with invalid events is refused whole, listing every problem; nothing is stored.
async fn a_rejected_batch_stores_nothing(t: TestApp) {
    t.ingest(&receipt("R-0", STORE, "10")).await;
    let before_log = t.all_events().await;
    let before_stock = t.stock().await;

    let mut negative = sale("T-9", STORE, 1);
    negative["data"]["lines"][0]["quantity"]["value"] = json!("-1");
    let mut looped = transfer("TR-9", "shipped", STORE, STORE, "1");
    looped["seq"] = json!(7);
    let batch = json!([receipt("R-9", STORE, "100"), negative, looped]);
    let reply = t.post_events(Some("application/json"), batch.to_string()).await;
    let body =
        assert_error(&reply, 422, "validation_failed", "invalid_request", &["nothing from this request was stored"]);
    let found = problems(&body);
    for expected in [(1, "$.data.lines[0].quantity.value"), (2, "$.seq"), (2, "$.data.to")] {
        assert!(found.contains(&(expected.0, expected.1.to_owned())), "{expected:?} not in {found:?}");
    }
    assert!(found.iter().all(|(i, _)| *i != 0), "the valid event has no problem: {found:?}");
    assert!(body["message"].as_str().unwrap().contains("2 event(s)"), "{body}");

    // The same through NDJSON: the index is the event's, line by line.
    let reply = t.post_events(Some("application/x-ndjson"), ndjson(batch.as_array().unwrap())).await;
    let body = assert_error(&reply, 422, "validation_failed", "invalid_request", &[]);
    assert!(problems(&body).contains(&(1, "$.data.lines[0].quantity.value".to_owned())));

    // NDJSON whose third line is cut off: malformed, and the two good lines are not stored.
    let cut = format!(
        "{}{}{{\"id\": \"R-11\",",
        ndjson(&[receipt("R-10", STORE, "1")]),
        ndjson(&[count("C-10", STORE, "1")])
    );
    let reply = t.post_events(Some("application/x-ndjson"), cut).await;
    assert_error(&reply, 400, "malformed_json", "invalid_request", &["line 3"]);

    assert_eq!(t.all_events().await, before_log, "the log is unchanged");
    assert_eq!(t.stock().await, before_stock, "stock is unchanged");
    let page = t.get("/v1/events?type=receipt.posted").await.expect(200).json();
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "only R-0: {page}");
    t.close().await;
}

/// An event whose data matches its schema but whose values do not fit the model (a decimal
/// beyond 28 digits, a line number over 2^32) must be refused with its path, never dropped.
async fn an_event_the_model_cannot_type_is_refused_not_dropped(t: TestApp) {
    let mut huge_quantity = sale("T-1", STORE, 1);
    huge_quantity["data"]["lines"][0]["quantity"]["value"] = json!("99999999999999999999999999999999");
    let mut huge_price = sale("T-2", STORE, 1);
    huge_price["data"]["lines"][0]["unit_price"]["amount"] = json!(1e30);
    let mut huge_line = sale("T-3", STORE, 1);
    huge_line["data"]["lines"][0]["line"] = json!(u64::MAX);
    let batch = json!([receipt("R-1", STORE, "5"), huge_quantity, huge_price, huge_line]);
    let reply = t.post_events(Some("application/json"), batch.to_string()).await;
    let results = reply.json()["results"].as_array().map_or(0, Vec::len);
    let body = assert_error(&reply, 422, "validation_failed", "invalid_request", &[]);
    let found = problems(&body);
    for expected in
        [(1, "$.data.lines[0].quantity.value"), (2, "$.data.lines[0].unit_price.amount"), (3, "$.data.lines[0].line")]
    {
        assert!(
            found.contains(&(expected.0, expected.1.to_owned())),
            "{expected:?} not in {found:?} ({results} results)"
        );
    }
    assert_eq!(t.all_events().await, Vec::<Value>::new(), "nothing is stored");
    t.close().await;
}

/// A query parameter that no stored value can equal is a client's mistake or simply matches
/// nothing — on either backend, never a server error.
async fn a_nul_in_a_query_parameter_is_a_client_error(t: TestApp) {
    t.ingest(&receipt("R-1", STORE, "5")).await;
    for uri in
        ["/v1/events?location=S%00", "/v1/events?item=A%00", "/v1/stock?location=%00", "/v1/sales/daily?item=%00"]
    {
        let reply = t.get(uri).await;
        assert!(
            reply.status.as_u16() == 200 || reply.status.as_u16() == 400,
            "{uri}: {} {}",
            reply.status,
            reply.text()
        );
        if reply.status.as_u16() == 400 {
            assert_error(&reply, 400, "invalid_query", "invalid_request", &[]);
        }
    }
    t.close().await;
}

/// A batch big enough to be validated off the async workers is stored whole, or refused whole
/// with the index of the bad event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_is_all_or_nothing() {
    let t = TestApp::sqlite_with_limit(1 << 20).await;
    let events: Vec<Value> = (0..300).map(|i| receipt(&format!("R-{i}"), STORE, "1")).collect();
    let mut bad = events.clone();
    bad[299]["data"]["lines"][0]["received"]["value"] = json!("-1");
    bad.push(count("C-1", STORE, "1"));
    let reply = t.post_events(Some("application/x-ndjson"), ndjson(&bad)).await;
    let body = assert_error(&reply, 422, "validation_failed", "invalid_request", &["1 event(s)"]);
    let found = problems(&body);
    assert!(
        !found.is_empty() && found.iter().all(|(i, path)| *i == 299 && path.starts_with("$.data.lines[0].received")),
        "{body}"
    );
    assert_eq!(t.stock().await, Vec::<Value>::new());

    let answer = t.post_events(Some("application/x-ndjson"), ndjson(&events)).await.expect(200).json();
    assert_eq!(answer["accepted"], 300);
    let seqs: Vec<i64> = answer["results"].as_array().unwrap().iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs.len(), 300);
    assert!(seqs.windows(2).all(|w| w[0] + 1 == w[1]), "one request, one run of seqs");
    assert_eq!(t.stock().await[0]["on_hand"], "300");
    t.close().await;
}

/// Every client error has its status, code, type, link and a message that helps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_error_has_the_one_error_shape() {
    let t = TestApp::sqlite().await;
    let mut codes = BTreeSet::new();
    let mut check = |reply: &support::Reply, status: u16, code: &'static str, kind: &str, has: &[&str]| {
        codes.insert(code);
        assert_error(reply, status, code, kind, has)
    };

    // 401: no header, an unknown key, another scheme, a revoked key.
    let reply = t.get_anonymous("/v1/events").await;
    check(&reply, 401, "unauthorized", "authentication_error", &["Authorization: Bearer"]);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), "Bearer");
    let wrong = Request::get("/v1/events").header(header::AUTHORIZATION, format!("Bearer {}x", t.secret));
    let reply = t.send(wrong.body(Body::empty()).unwrap()).await;
    check(&reply, 401, "unauthorized", "authentication_error", &["unknown or revoked"]);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), "Bearer");
    let basic = Request::get("/v1/stock").header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz");
    check(&t.send(basic.body(Body::empty()).unwrap()).await, 401, "unauthorized", "authentication_error", &[]);
    let empty = Request::get("/v1/stock").header(header::AUTHORIZATION, "Bearer ");
    check(&t.send(empty.body(Body::empty()).unwrap()).await, 401, "unauthorized", "authentication_error", &[]);
    let new = backroom_store::NewApiKey { name: "leaver".into(), roles: vec!["admin".into()], scopes: vec![] };
    let (key, secret) = t.store.create_key(&new, "test").await.expect("key");
    t.store.revoke_key(&key.id, "test").await.expect("revoke");
    let revoked = Request::post("/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_TYPE, "application/json");
    let reply = t.send(revoked.body(Body::from(receipt("R-X", STORE, "1").to_string())).unwrap()).await;
    check(&reply, 401, "unauthorized", "authentication_error", &["unknown or revoked"]);

    // 400 malformed JSON, with the line and column of the fault.
    let body = "[\n  {\"id\": \"R-1\",\n   \"type\": oops}\n]";
    let reply = t.post_events(Some("application/json"), body).await;
    check(&reply, 400, "malformed_json", "invalid_request", &["line 3, column 12"]);
    let reply = t.post_events(Some("application/json; charset=utf-8"), "{\"id\": \"R-1\"").await;
    check(&reply, 400, "malformed_json", "invalid_request", &["line 1, column"]);
    let body = format!("{}\n\n{{\"id\": [}}\n", receipt("R-1", STORE, "1"));
    let reply = t.post_events(Some("application/x-ndjson"), body).await;
    check(&reply, 400, "malformed_json", "invalid_request", &["line 3, column"]);

    // 415.
    let json = receipt("R-1", STORE, "1").to_string();
    let reply = t.post_events(Some("text/plain"), json.clone()).await;
    check(
        &reply,
        415,
        "unsupported_media_type",
        "invalid_request",
        &["text/plain", "application/json", "application/x-ndjson"],
    );
    let reply = t.post_events(None, json.clone()).await;
    check(&reply, 415, "unsupported_media_type", "invalid_request", &["no Content-Type", "application/json"]);

    // 413: a declared length over the limit, and a chunked body without a length.
    let big = format!("[{}]", vec![json.as_str(); support::MAX_BODY / json.len() + 1].join(","));
    assert!(big.len() > support::MAX_BODY);
    let declared = t
        .authorized(Method::POST, "/v1/events")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .unwrap();
    check(&t.send(declared).await, 413, "payload_too_large", "invalid_request", &["max_body_bytes"]);
    let streamed = t
        .authorized(Method::POST, "/v1/events")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(support::chunked(8, 16 * 1024))
        .unwrap();
    check(&t.send(streamed).await, 413, "payload_too_large", "invalid_request", &["max_body_bytes"]);
    let under = t
        .authorized(Method::POST, "/v1/events")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(support::chunked(3, 16 * 1024))
        .unwrap();
    check(&t.send(under).await, 422, "validation_failed", "invalid_request", &["no events"]);

    // 422: an empty array, an unknown type, a field the server assigns.
    check(
        &t.post_events(Some("application/json"), "[]").await,
        422,
        "validation_failed",
        "invalid_request",
        &["no events"],
    );
    let mut teleport = receipt("R-1", STORE, "1");
    teleport["type"] = json!("pos.teleport");
    let reply = t.post_events(Some("application/json"), teleport.to_string()).await;
    let body = check(&reply, 422, "validation_failed", "invalid_request", &["1 problem(s) in 1 event(s)"]);
    assert_eq!(problems(&body), [(0, "$.type".to_owned())]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("receipt.posted"), "lists known types: {body}");
    let mut with_seq = receipt("R-1", STORE, "1");
    with_seq["seq"] = json!(1);
    let reply = t.post_events(Some("application/json"), with_seq.to_string()).await;
    let body = check(&reply, 422, "validation_failed", "invalid_request", &[]);
    assert_eq!(problems(&body), [(0, "$.seq".to_owned())]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("assigned by Backroom"), "{body}");

    // 400 invalid_query.
    for (uri, has) in [
        ("/v1/events?limit=0", &["limit", "between 1 and 10000", "0"][..]),
        ("/v1/events?limit=10001", &["limit", "10001"]),
        ("/v1/events?since=yesterday", &["since", "RFC 3339", "yesterday"]),
        ("/v1/events?until=2026-11-23", &["until", "RFC 3339"]),
        ("/v1/events?type=pos.teleport", &["pos.teleport", "pos.sale"]),
        ("/v1/events?colour=red", &["colour"]),
        ("/v1/events?after_seq=first", &["after_seq"]),
        ("/v1/stock?limit=0", &["limit"]),
        ("/v1/stock?shelf=3", &["shelf"]),
        ("/v1/sales/daily?from=23.11.2026", &["from", "YYYY-MM-DD"]),
        ("/v1/sales/daily?from=2026-11-24&to=2026-11-23", &["before"]),
    ] {
        let reply = t.get(uri).await;
        check(&reply, 400, "invalid_query", "invalid_request", has);
    }

    // 404: an unknown route (with or without a key) and an unknown schema type.
    check(&t.get_anonymous("/v2/events").await, 404, "not_found", "invalid_request", &["/openapi.json"]);
    check(&t.get("/v1/nothing-here").await, 404, "not_found", "invalid_request", &[]);
    let reply = t.get("/v1/schemas/events/pos.teleport").await;
    check(&reply, 404, "not_found", "invalid_request", &["pos.teleport", "receipt.posted"]);

    // 405.
    let delete = t.authorized(Method::DELETE, "/v1/events").body(Body::empty()).unwrap();
    let reply = t.send(delete).await;
    check(&reply, 405, "method_not_allowed", "invalid_request", &["method"]);
    let allow = reply.header(header::ALLOW);
    assert!(allow.contains("GET") && allow.contains("POST"), "405 says which methods the path takes: {allow:?}");
    let put = Request::put("/healthz").body(Body::empty()).unwrap();
    check(&t.send(put).await, 405, "method_not_allowed", "invalid_request", &[]);

    // None of the refused requests stored anything.
    assert_eq!(t.all_events().await, Vec::<Value>::new());

    // Every link resolves to an entry of the error page.
    let page = t.get_anonymous("/docs/errors").await.expect(200);
    assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));
    for code in &codes {
        assert!(page.text().contains(&format!("id=\"{code}\"")), "/docs/errors has no entry for {code}");
    }
    assert_eq!(codes.len(), 8, "{codes:?}");
    t.close().await;
}

/// The OpenAPI document is 3.1, lists every route, and every `/v1` operation needs the key —
/// which the running app enforces for each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route_and_its_security() {
    let t = TestApp::sqlite().await;
    let reply = t.get_anonymous("/openapi.json").await.expect(200);
    assert!(reply.header(header::CONTENT_TYPE).starts_with("application/json"));
    let doc = reply.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "OpenAPI 3.1: {}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Backroom API");
    assert_eq!(doc["components"]["securitySchemes"]["api_key"], json!({"type": "http", "scheme": "bearer"}));
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/v1/events",
        "/v1/stock",
        "/v1/sales/daily",
        "/v1/schemas/events",
        "/v1/schemas/events/{type}",
        "/v1/workflows",
        "/v1/workflows/validate",
        "/v1/workflows/{id}",
        "/v1/workflows/{id}/versions/{version}",
        "/v1/workflows/{id}/versions/{version}/activate",
        "/v1/workflows/{id}/versions/{version}/deactivate",
        "/v1/instances",
        "/v1/instances/{id}",
        "/v1/instances/{id}/cancel",
        "/v1/tasks",
        "/v1/tasks/{id}",
        "/v1/tasks/{id}/claim",
        "/v1/tasks/{id}/decision",
        "/v1/dead-letters",
        "/v1/dead-letters/{key}/retry",
        "/v1/dead-letters/{key}/skip",
        "/v1/dead-letters/{key}/compensate",
        "/v1/locations",
        "/v1/connectors",
        "/v1/webhooks",
        "/v1/documents",
        "/v1/audit",
        "/v1/audit/verify",
        "/v1/policies",
        "/v1/policies/{action}",
        "/v1/delegations",
        "/v1/delegations/{id}/revoke",
        "/v1/decisions/{instance}/{step}/overturn",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs/errors",
        "/webhooks/{source}",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented; paths: {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert!(paths["/v1/events"].get("post").is_some() && paths["/v1/events"].get("get").is_some());

    let methods = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];
    let mut operation_ids = BTreeSet::new();
    let mut v1 = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            if !methods.contains(&method.as_str()) {
                continue;
            }
            let uri = path
                .replace("{type}", "pos.sale")
                .replace("{id}", "nothing")
                .replace("{version}", "1")
                .replace("{key}", "nothing%2Fstep")
                .replace("{login}", "nobody")
                .replace("{action}", "refund")
                .replace("{instance}", "nothing")
                .replace("{step}", "approve");
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has an operationId"));
            assert!(operation_ids.insert(id.to_owned()), "{method} {path}: the operationId {id} is taken");
            let method: Method = method.to_uppercase().parse().expect("method");
            if path.starts_with("/v1/") {
                assert_eq!(
                    operation["security"],
                    json!([{"api_key": []}]),
                    "{method} {path} must declare the api_key security"
                );
                assert!(operation["responses"].get("401").is_some(), "{method} {path} documents its 401 answer");
                v1.push((method, uri));
            } else if path == "/auth/token" {
                // Logging in is open without a key; an empty attempt is refused for its body.
                let reply =
                    t.send(Request::builder().method(method.clone()).uri(&uri).body(Body::empty()).unwrap()).await;
                assert_error(&reply, 422, "validation_failed", "invalid_request", &["body"]);
            } else if path.starts_with("/webhooks/") {
                // Inbound webhooks take no key: the signature is the credential.
                assert_eq!(
                    operation["security"],
                    json!([{"webhook_signature": []}]),
                    "{method} {path} must declare the webhook_signature security"
                );
                assert!(operation["responses"].get("401").is_some(), "{method} {path} documents its 401 answer");
            } else {
                // Documented public routes exist and answer without a key.
                let reply =
                    t.send(Request::builder().method(method.clone()).uri(&uri).body(Body::empty()).unwrap()).await;
                assert_eq!(reply.status.as_u16(), 200, "{method} {uri}: {}", reply.text());
            }
        }
    }
    assert_eq!(v1.len(), 41, "{v1:?}");
    for (method, uri) in &v1 {
        let anonymous = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(receipt("R-1", STORE, "1").to_string()))
            .unwrap();
        let reply = t.send(anonymous).await;
        assert_error(&reply, 401, "unauthorized", "authentication_error", &[]);
        assert_eq!(reply.header(header::WWW_AUTHENTICATE), "Bearer", "{method} {uri}");
        // With the key, the documented operation exists: it answers (an event is no workflow,
        // task or location, and `nothing` names no resource), but never "no such route".
        let keyed = t
            .authorized(method.clone(), uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(receipt("R-1", STORE, "1").to_string()))
            .unwrap();
        let reply = t.send(keyed).await;
        let status = reply.status.as_u16();
        if ["/v1/events", "/v1/stock", "/v1/sales/daily", "/v1/schemas/events"].contains(&uri.as_str())
            || uri.starts_with("/v1/schemas/")
        {
            assert_eq!(status, 200, "{method} {uri}: {}", reply.text());
        }
        assert!(status < 500 && ![401, 403, 405].contains(&status), "{method} {uri}: {status} {}", reply.text());
        let answer = reply.json();
        if status == 404 {
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(!message.contains("no route"), "{method} {uri} is documented but not routed: {answer}");
        }
        if !reply.status.is_success() {
            assert_eq!(answer["link"], format!("/docs/errors#{}", answer["code"].as_str().unwrap_or_default()));
        }
    }
    assert_eq!(t.all_events().await.len(), 1, "only the authorised POST stored its event");
    t.close().await;
}

/// The catalogue lists every event type with its schema; each schema is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_describe_every_event_type() {
    let t = TestApp::sqlite().await;
    let list = t.get("/v1/schemas/events").await.expect(200).json();
    let types = list.as_array().expect("a list of event types");
    assert_eq!(types.len(), 23, "{list}");
    let names: BTreeSet<&str> = types.iter().map(|t| t["name"].as_str().expect("name")).collect();
    assert_eq!(names.len(), 23, "names are unique");
    for name in
        ["pos.sale", "pos.return", "inventory.counted", "receipt.posted", "transfer.shipped", "promotion.scheduled"]
    {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    for entry in types {
        let name = entry["name"].as_str().unwrap();
        assert!(entry["description"].as_str().is_some_and(|d| !d.is_empty()), "{entry}");
        assert_eq!(entry["schema"], format!("/v1/schemas/events/{name}"));
        let schema = t.get(entry["schema"].as_str().unwrap()).await.expect(200).json();
        assert_eq!(schema["type"], "object", "{name}: {schema}");
        assert!(schema["properties"].is_object(), "{name}");
    }
    let receipt = t.get("/v1/schemas/events/receipt.posted").await.expect(200).json();
    let required: Vec<&str> =
        receipt["required"].as_array().expect("required").iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"receipt_number") && required.contains(&"lines"), "{required:?}");
    assert!(receipt["properties"]["receipt_number"].is_object());
    t.close().await;
}

/// Metrics show ingest and HTTP latency; health and readiness answer without a key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_readiness() {
    let t = TestApp::sqlite().await;
    assert_eq!(t.get_anonymous("/healthz").await.expect(200).json(), json!({"status": "ok"}));
    let ready = t.get_anonymous("/readyz").await.expect(200).json();
    assert_eq!(ready, json!({"status": "ready", "backend": "sqlite", "last_seq": 0}));

    t.ingest(&json!([receipt("R-1", STORE, "5"), sale("T-1", STORE, 1)])).await;
    let metrics = t.get_anonymous("/metrics").await.expect(200);
    assert!(metrics.header(header::CONTENT_TYPE).starts_with("text/plain"));
    let text = metrics.text();
    for name in ["backroom_events_appended_total", "backroom_http_request_duration_seconds"] {
        assert!(text.contains(name), "{name} missing from /metrics:\n{text}");
    }
    assert!(
        text.lines().any(|l| l.starts_with("backroom_http_request_duration_seconds")
            && l.contains("route=\"/v1/events\"")
            && l.contains("method=\"POST\"")
            && l.contains("status=\"200\"")),
        "the ingest is recorded per route, method and status:\n{text}"
    );
    let ready = t.get_anonymous("/readyz").await.expect(200).json();
    assert_eq!(ready["last_seq"], 2);
    t.close().await;
}

/// Events that the validator must weigh: valid ones with one value replaced by something odd.
fn mutated_event() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        sale("P-1", STORE, 2),
        receipt("P-2", STORE, "5"),
        count("P-3", STORE, "7"),
        transfer("P-4", "shipped", STORE, "S043", "1"),
    ]);
    let odd = prop::sample::select(vec![
        json!(null),
        json!(""),
        json!("\u{0}"),
        json!([]),
        json!({}),
        json!(-1),
        json!("-0"),
        json!(1e300),
        json!("1e400"),
        json!("99999999999999999999999999999999"),
        json!("999999999999.9999"),
        json!("0.00000000000000000000000001"),
        json!(u64::MAX),
        json!("9999-12-31T23:59:59Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("2026-02-30"),
        json!("x".repeat(3000)),
        json!("ÄÖÜ—🙂"),
        json!(true),
    ]);
    (base, prop::collection::vec(any::<prop::sample::Index>(), 1..4), odd).prop_map(|(mut event, picks, odd)| {
        for pick in picks {
            replace_a_leaf(&mut event, pick, odd.clone());
        }
        event.to_string()
    })
}

/// Replaces one of the value's leaves (or containers), chosen by `pick`.
fn replace_a_leaf(value: &mut Value, pick: prop::sample::Index, with: Value) {
    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<String>) {
        out.push(format!("/{}", at.join("/")));
        match v {
            Value::Object(m) => m.iter().for_each(|(k, v)| {
                at.push(k.clone());
                paths(v, at, out);
                at.pop();
            }),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
                at.push(i.to_string());
                paths(v, at, out);
                at.pop();
            }),
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(value, &mut Vec::new(), &mut all);
    let pointer = pick.get(&all[1..]).clone();
    if let Some(slot) = value.pointer_mut(&pointer) {
        *slot = with;
    }
}

/// Bodies built from a small grammar of JSON characters and event fragments.
fn json_ish() -> impl Strategy<Value = String> {
    let valid = sale("F-1", STORE, 1).to_string();
    let fragment = prop_oneof![
        proptest::string::string_regex("[{}\\[\\]\",:0-9a-z \n.-]{1,12}").expect("regex"),
        prop::sample::select(vec![
            "{".to_owned(),
            "}".to_owned(),
            "[".to_owned(),
            "]".to_owned(),
            ",".to_owned(),
            "\n".to_owned(),
            "\"id\":\"F-2\"".to_owned(),
            "\"type\":\"receipt.posted\"".to_owned(),
            "\"source\":\"wms\"".to_owned(),
            "\"occurred_at\":\"2026-11-23T06:00:00Z\"".to_owned(),
            "\"data\":".to_owned(),
            "\"seq\":1".to_owned(),
            "\"lines\":[{\"line\":1,\"item\":{\"sku\":\"A\"},\"received\":{\"value\":\"5\"}}]".to_owned(),
            "\"quantity\":{\"value\":\"1e999\"}".to_owned(),
            "\"\\u0000\"".to_owned(),
            "\"\\ud800\"".to_owned(),
            valid.clone(),
            valid[..valid.len() / 2].to_owned(),
            receipt("F-3", STORE, "2").to_string(),
        ]),
    ];
    prop::collection::vec(fragment, 0..16).prop_map(|parts| parts.concat())
}

/// Random bytes, JSON-ish text and odd events, as JSON or NDJSON: never a server error, and
/// every answer is either an ingest result or an error in the one shape. On SQLite, and on
/// PostgreSQL when configured.
#[test]
fn random_bodies_never_cause_a_server_error() {
    let runtime = runtime();
    let t = runtime.block_on(TestApp::sqlite());
    post_random_bodies(&runtime, &t);
    runtime.block_on(t.close());
    if let Some(t) = runtime.block_on(TestApp::postgres()) {
        post_random_bodies(&runtime, &t);
        runtime.block_on(t.close());
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn post_random_bodies(runtime: &tokio::runtime::Runtime, t: &TestApp) {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_ish().prop_map(String::into_bytes),
        mutated_event().prop_map(String::into_bytes),
        prop::collection::vec(mutated_event(), 1..4).prop_map(|events| format!("[{}]", events.join(",")).into_bytes()),
        prop::collection::vec(mutated_event(), 1..4).prop_map(|events| events.join("\n").into_bytes()),
    ];
    let content_type = prop::sample::select(vec!["application/json", "application/x-ndjson"]);
    let mut runner =
        TestRunner::new(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() });
    runner
        .run(&(body, content_type), |(body, content_type)| {
            let reply = runtime.block_on(t.post_events(Some(content_type), body.clone()));
            prop_assert!(
                !reply.status.is_server_error(),
                "{} on {} for {content_type} body {:?}: {}",
                reply.status,
                t.store.backend_name(),
                String::from_utf8_lossy(&body),
                reply.text()
            );
            let answer = reply.json();
            if reply.status.is_success() {
                prop_assert!(answer["results"].is_array(), "{answer}");
            } else {
                let code = answer["code"].as_str().unwrap_or_default();
                prop_assert!(["malformed_json", "validation_failed"].contains(&code), "{}: {answer}", reply.status);
                let link = format!("/docs/errors#{code}");
                prop_assert_eq!(answer["link"].as_str(), Some(link.as_str()));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Query strings with random names and values (NUL and invalid UTF-8 included) on every read
/// route: 200, or 400 `invalid_query`, never a server error.
#[test]
fn random_query_strings_never_cause_a_server_error() {
    let runtime = runtime();
    let t = runtime.block_on(TestApp::sqlite());
    runtime.block_on(t.ingest(&json!([receipt("R-1", STORE, "5"), sale("T-1", STORE, 2)])));
    let name = prop::sample::select(vec![
        "after_seq",
        "limit",
        "type",
        "location",
        "item",
        "since",
        "until",
        "from",
        "to",
        "x",
        "",
        "limit[]",
    ]);
    let value = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        prop::sample::select(vec![
            "0",
            "-1",
            "1",
            "10000",
            "99999999999999999999",
            "S042",
            PEN_GTIN,
            "pos.sale",
            "2026-11-23",
            "2026-11-23T00:00:00Z",
            "2026-11-23T00:00:00+01:00",
            "9999-12-31",
            "1e3",
            "%",
            "&",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    let route = prop::sample::select(vec!["/v1/events", "/v1/stock", "/v1/sales/daily"]);
    let query = (route, prop::collection::vec((name, value), 0..4));
    let mut runner =
        TestRunner::new(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() });
    runner
        .run(&query, |(route, params)| {
            let query: Vec<String> =
                params.iter().map(|(n, v)| format!("{}={}", encode(n.as_bytes()), encode(v))).collect();
            let uri = format!("{route}?{}", query.join("&"));
            let reply = runtime.block_on(t.get(&uri));
            prop_assert!(
                reply.status.as_u16() == 200 || reply.status.as_u16() == 400,
                "{uri}: {} {}",
                reply.status,
                reply.text()
            );
            let answer = reply.json();
            if reply.status.as_u16() == 400 {
                prop_assert_eq!(answer["code"].as_str(), Some("invalid_query"), "{}", answer);
                prop_assert_eq!(answer["link"].as_str(), Some("/docs/errors#invalid_query"));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(t.close());
}

/// Percent-encodes every byte but ASCII letters and digits.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| if b.is_ascii_alphanumeric() { (*b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
