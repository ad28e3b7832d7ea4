//! The shipped retail workflows (`workflows/*.yaml`) on the runner with a real store: the events
//! a retailer's systems send, and the commands the ERP receives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backroom_engine::clock::SystemClock;
use backroom_engine::connector::{Call, Connectors, InProcessConnector};
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_model::validate_event;
use backroom_store::{InstanceQuery, Store, StoreConfig, TaskQuery};
use serde_json::{Value, json};

fn shipped(name: &str) -> String {
    let path = format!("{}/../../workflows/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn event(id: &str, event_type: &str, at: &str, data: Value) -> backroom_model::NewEvent {
    let raw = json!({"id": id, "type": event_type, "source": "erp", "occurred_at": at, "data": data});
    validate_event(&raw).unwrap_or_else(|e| panic!("{id}: {e:?}"))
}

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The ERP: records every command it applies.
fn erp() -> (Arc<InProcessConnector>, Arc<Mutex<Vec<Call>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let erp = InProcessConnector::new(move |call| {
        seen.lock().expect("calls").push(call.clone());
        Ok(match call.operation.as_str() {
            "budget_check" => json!({"sufficient": true, "available": "100000.00"}),
            _ => json!({"status": "ok"}),
        })
    });
    (Arc::new(erp), calls)
}

async fn start(dir: &std::path::Path, workflow: &str) -> (Store, Engine, Arc<Mutex<Vec<Call>>>) {
    let store = Store::open(&StoreConfig::sqlite(dir)).await.expect("store");
    let (erp, calls) = erp();
    let config = EngineConfig { poll: Duration::from_millis(50), ..EngineConfig::default() };
    let engine = Engine::start(store.clone(), config, Connectors::new().with("erp", erp), Arc::new(SystemClock))
        .await
        .expect("engine");
    engine.save_definition(&shipped(workflow), Some("ops-admin")).await.expect("definition is valid");
    (store, engine, calls)
}

async fn outcome(store: &Store, workflow: &str) -> String {
    wait_for(&format!("{workflow} to end"), async || {
        let all = store.instances(&InstanceQuery::default()).await.ok()?;
        let i = all.into_iter().find(|i| i.workflow == workflow && !i.is_open)?;
        i.outcome.clone().or(Some(i.status))
    })
    .await
}

fn operations(calls: &Mutex<Vec<Call>>) -> Vec<String> {
    calls.lock().expect("calls").iter().map(|c| c.operation.clone()).collect()
}

fn order() -> Value {
    json!({"po_number": "PO-1001", "supplier": "SUP-001", "ship_to": "DC-01", "ordered_on": "2026-11-02",
           "currency": "EUR", "buyer": "bea",
           "lines": [{"line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": "100"},
                      "unit_price": {"amount": "2.00", "currency": "EUR"}}]})
}

fn receipt(qty: &str) -> Value {
    json!({"receipt_number": "GR-1", "location": "DC-01", "supplier": "SUP-001", "po_number": "PO-1001",
           "lines": [{"line": 1, "po_line": 1, "item": {"sku": "SKU-1"}, "received": {"value": qty}}]})
}

fn invoice(qty: &str, price: &str) -> Value {
    let net = qty.parse::<rust_decimal::Decimal>().expect("qty") * price.parse::<rust_decimal::Decimal>().expect("p");
    json!({"invoice_number": "INV-77", "kind": "invoice", "supplier": "SUP-001", "issued_on": "2026-11-06",
           "currency": "EUR", "po_number": "PO-1001",
           "lines": [{"line": 1, "po_line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": qty},
                      "unit_price": {"amount": price, "currency": "EUR"},
                      "net_amount": {"amount": net.to_string(), "currency": "EUR"}}],
           "tax_total": {"amount": "0", "currency": "EUR"}, "total": {"amount": net.to_string(), "currency": "EUR"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_invoice_is_registered_and_released() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, _engine, calls) = start(dir.path(), "invoice_three_way_match.yaml").await;
    store
        .append(vec![
            event("po", "po.created", "2026-11-02T09:00:00Z", order()),
            event("gr", "receipt.posted", "2026-11-05T09:00:00Z", receipt("100")),
            event("inv", "invoice.received", "2026-11-06T09:00:00Z", invoice("100", "2.00")),
        ])
        .await
        .expect("appended");
    assert_eq!(outcome(&store, "invoice_three_way_match").await, "released");
    assert_eq!(operations(&calls), ["register_invoice", "release_invoice"]);
    let release = calls.lock().expect("calls")[1].clone();
    assert_eq!(release.payload["invoice_id"], "SUP-001:INV-77");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_billed_invoice_is_held_for_accounts_payable_with_the_discrepancy() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, engine, calls) = start(dir.path(), "invoice_three_way_match.yaml").await;
    store
        .append(vec![
            event("po", "po.created", "2026-11-02T09:00:00Z", order()),
            event("gr", "receipt.posted", "2026-11-05T09:00:00Z", receipt("80")),
            event("inv", "invoice.received", "2026-11-06T09:00:00Z", invoice("100", "2.00")),
        ])
        .await
        .expect("appended");
    let task = wait_for("the accounts-payable task", async || {
        let q = TaskQuery { role: Some("ap_clerk".into()), status: Some("open".into()), ..Default::default() };
        store.tasks(&q).await.ok()?.into_iter().next()
    })
    .await;
    assert!(task.title.contains("UQ QTY") && task.title.contains("billed 100 but received 80"), "{}", task.title);
    assert_eq!(operations(&calls), ["register_invoice", "hold_invoice"]);

    // Accounts payable asks for a credit note; the supplier credits the 20 not delivered and the
    // invoice matches and is released.
    engine.decide_task(&task.id, "request_credit_note", serde_json::Map::new(), None, "ap-ann").await.expect("decided");
    let credit = json!({"invoice_number": "CN-5", "kind": "credit_note", "supplier": "SUP-001",
        "issued_on": "2026-11-08", "currency": "EUR", "po_number": "PO-1001", "credited_invoice": "INV-77",
        "lines": [{"line": 1, "po_line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": "20"},
                   "unit_price": {"amount": "2.00", "currency": "EUR"},
                   "net_amount": {"amount": "40.00", "currency": "EUR"}}],
        "tax_total": {"amount": "0", "currency": "EUR"}, "total": {"amount": "40.00", "currency": "EUR"}});
    tokio::time::sleep(Duration::from_millis(200)).await;
    store.append(vec![event("cn", "invoice.received", "2026-11-08T09:00:00Z", credit)]).await.expect("appended");
    assert_eq!(outcome(&store, "invoice_three_way_match").await, "released");
    assert_eq!(operations(&calls), ["register_invoice", "hold_invoice", "release_invoice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_invoice_is_rejected_without_touching_the_erp() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, _engine, calls) = start(dir.path(), "invoice_three_way_match.yaml").await;
    store
        .append(vec![
            event("po", "po.created", "2026-11-02T09:00:00Z", order()),
            event("gr", "receipt.posted", "2026-11-05T09:00:00Z", receipt("100")),
            event("inv", "invoice.received", "2026-11-06T09:00:00Z", invoice("100", "2.00")),
        ])
        .await
        .expect("appended");
    assert_eq!(outcome(&store, "invoice_three_way_match").await, "released");
    // The same invoice again, under another event id, while the first is closed.
    store
        .append(vec![event("inv-again", "invoice.received", "2026-11-07T09:00:00Z", invoice("100", "2.00"))])
        .await
        .expect("appended");
    wait_for("the duplicate to be rejected", async || {
        let all = store.instances(&InstanceQuery::default()).await.ok()?;
        all.iter().any(|i| i.outcome.as_deref() == Some("rejected")).then_some(())
    })
    .await;
    assert_eq!(operations(&calls), ["register_invoice", "release_invoice"], "nothing more reached the ERP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_return_within_policy_is_refunded_at_the_original_price() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, _engine, calls) = start(dir.path(), "return_refund.yaml").await;
    let sale = json!({"transaction_id": "T-9001", "location": "S001", "business_day": "2026-11-10",
        "customer": "C-42", "currency": "EUR",
        "lines": [{"line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": "3"},
                   "unit_price": {"amount": "4.99", "currency": "EUR"},
                   "net_amount": {"amount": "14.97", "currency": "EUR"}}],
        "tenders": [{"method": "card", "amount": {"amount": "14.97", "currency": "EUR"}}],
        "total": {"amount": "14.97", "currency": "EUR"}});
    let request = json!({"return_number": "RMA-1", "location": "S001", "channel": "store", "customer": "C-42",
        "original_sale": {"transaction_id": "T-9001", "location": "S001"},
        "requested_refund": {"amount": "12.00", "currency": "EUR"},
        "lines": [{"line": 1, "item": {"sku": "SKU-1"}, "quantity": {"value": "2"}, "reason": "changed_mind"}]});
    store
        .append(vec![
            event("sale", "pos.sale", "2026-11-10T15:00:00Z", sale),
            event("rma", "return.requested", "2026-11-12T10:00:00Z", request),
        ])
        .await
        .expect("appended");
    assert_eq!(outcome(&store, "return_refund").await, "refunded");
    let refund = calls.lock().expect("calls")[0].clone();
    assert_eq!(refund.operation, "post_refund");
    assert_eq!(refund.payload["amount"], "9.98", "two at the original 4.99, not the 12.00 asked");
    assert_eq!(refund.payload["lines"][0]["quantity"], "2");
}
