//! Partner documents through `POST /v1/documents`, as an integration engineer meets it: a
//! supplier's X12 purchase order recorded with its 997 answered, a UBL invoice recorded, the
//! same document sent twice recorded once, and a broken document refused whole with the place
//! of every problem. On SQLite, and on PostgreSQL when `BACKROOM_TEST_DATABASE_URL` is set.

mod support;

use axum::http::Method;
use serde_json::Value;
use support::{TestApp, assert_error};

on_both_backends!(
    an_x12_order_is_recorded_and_acknowledged,
    a_ubl_invoice_is_recorded_once,
    a_broken_document_is_refused_whole,
    an_unknown_document_is_refused,
);

fn sample(path: &str) -> String {
    let full = format!("{}/../../../shared/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

async fn post_document(app: &TestApp, body: String) -> support::Reply {
    app.call(Method::POST, "/v1/documents", None, Some(("application/octet-stream", body))).await
}

async fn an_x12_order_is_recorded_and_acknowledged(app: TestApp) {
    let answer = post_document(&app, sample("x12/x12/node-x12/850.edi")).await.expect(200).json();
    assert_eq!(answer["format"], "x12");
    assert_eq!(answer["accepted"], 1, "{answer:#}");
    let event = &answer["events"][0]["event"];
    assert_eq!(event["type"], "po.created");
    assert_eq!(event["data"]["po_number"], "08292233294");
    assert_eq!(event["data"]["lines"][0]["quantity"]["value"], "120");
    let replies = answer["replies"].as_array().expect("replies");
    assert_eq!(replies.len(), 1, "one 997 per functional group");
    assert_eq!(replies[0]["kind"], "x12_997");
    let ack = replies[0]["body"].as_str().expect("body");
    assert!(ack.contains("AK1*PO*1421"), "the 997 acknowledges group 1421: {ack}");
    let log = app.all_events().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["data"]["po_number"], "08292233294");
    app.close().await;
}

async fn a_ubl_invoice_is_recorded_once(app: TestApp) {
    let invoice = sample("ubl/peppol-bis-billing-3/examples/base-example.xml");
    let first = post_document(&app, invoice.clone()).await.expect(200).json();
    assert_eq!(first["format"], "ubl");
    assert_eq!(first["accepted"], 1);
    let data = &first["events"][0]["event"]["data"];
    assert_eq!(first["events"][0]["event"]["type"], "invoice.received");
    assert_eq!(data["invoice_number"], "Snippet1");
    assert_eq!(data["kind"], "invoice");
    let again = post_document(&app, invoice).await.expect(200).json();
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["duplicates"], 1);
    assert_eq!(again["events"][0]["seq"], first["events"][0]["seq"], "a duplicate answers the original seq");
    assert_eq!(app.all_events().await.len(), 1);
    app.close().await;
}

async fn a_broken_document_is_refused_whole(app: TestApp) {
    // The transaction set trailer SE01 (its segment count) is made wrong.
    let good = sample("x12/x12/node-x12/850.edi");
    let broken = good.replacen("SE*", "SE*9", 1);
    let reply = post_document(&app, broken).await;
    let body = assert_error(&reply, 422, "document_invalid", "invalid_request", &["x12", "nothing was stored"]);
    let problems = body["document_problems"].as_array().expect("document_problems");
    let se = problems.iter().find(|p| p["tag"] == "SE").unwrap_or_else(|| panic!("an SE problem: {body:#}"));
    assert!(se["segment"].as_u64().is_some_and(|s| s > 3), "{se}");
    assert_eq!(se["element"], 1, "SE01 is the count: {se}");
    assert!(app.all_events().await.is_empty(), "nothing from the document is stored");
    app.close().await;
}

async fn an_unknown_document_is_refused(app: TestApp) {
    let reply = post_document(&app, "<order><id>1</id></order>".to_owned()).await;
    let body = assert_error(&reply, 422, "document_invalid", "invalid_request", &["not in a supported format"]);
    let problems: &Vec<Value> = body["document_problems"].as_array().expect("document_problems");
    assert!(problems[0]["message"].as_str().is_some_and(|m| m.contains("<order>") && m.contains("UBL")), "{body:#}");
    let anonymous = app.call(Method::POST, "/v1/documents", Some("not-a-key"), Some(("text/plain", "x".into()))).await;
    assert_error(&anonymous, 401, "unauthorized", "authentication_error", &[]);
    app.close().await;
}
