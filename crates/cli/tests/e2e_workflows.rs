//! The shipped workflows end to end (invoice three-way match, returns): simulator scenarios feed Backroom's log, the
//! engine runs the shipped workflow, and the actions reach the reference ERP over HTTP through
//! the connector profile in `connectors/reference.toml`. The assertions read the ERP's state.

use std::sync::Arc;
use std::time::Duration;

use backroom_engine::clock::SystemClock;
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_sim::refsys::{Faults, RefSystem, System};
use backroom_sim::simulator::scenarios::{self, InvoicedLine};
use backroom_sim::simulator::{Retailer, SimConfig};
use backroom_store::{InstanceQuery, Store, StoreConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    for _ in 0..600 {
        if let Some(v) = probe().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eprintln!("timed out waiting for {what}");
    None
}

struct World {
    retailer: Retailer,
    erp: RefSystem,
    store: Store,
    _engine: Engine,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        Self::start_with("invoice_three_way_match.yaml").await
    }

    /// The world running one shipped workflow.
    async fn start_with(workflow: &str) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("dir");
        let retailer = Retailer::generate(&SimConfig::default());
        let erp_db = dir.path().join("erp.db");
        let erp = RefSystem::start(
            System::Erp,
            erp_db.to_str().expect("path"),
            "127.0.0.1:0".parse().expect("addr"),
            Faults::default(),
        )
        .await
        .expect("the ERP starts");
        let http = reqwest::Client::new();
        let loaded = http.put(format!("{}/admin/master", erp.url())).json(&retailer.master_data()).send().await;
        assert!(loaded.expect("master").status().is_success());

        let profile = std::fs::read_to_string(format!("{ROOT}/connectors/reference.toml")).expect("profile");
        let profile = profile.replace("http://127.0.0.1:9100/api", &format!("{}/api", erp.url()));
        let connectors = backroom_connectors::from_toml(&profile, "reference.toml").expect("connectors");
        let store = Store::open(&StoreConfig::sqlite(dir.path())).await.expect("store");
        let config = EngineConfig { poll: Duration::from_millis(50), ..EngineConfig::default() };
        let engine =
            Engine::start(store.clone(), config, connectors, Arc::new(SystemClock)).await.expect("engine starts");
        let workflow = std::fs::read_to_string(format!("{ROOT}/workflows/{workflow}")).expect("yaml");
        engine.save_definition(&workflow, Some("ops-admin")).await.expect("valid workflow");
        World { retailer, erp, store, _engine: engine, http, _dir: dir }
    }

    async fn erp(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}/api{path}", self.erp.url()));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("ERP answers");
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "ERP {path}: {status} {value}");
        value
    }

    async fn append(&self, events: &[Value]) {
        let validated: Vec<_> =
            events.iter().map(|e| backroom_model::validate_event(e).expect("a valid simulated event")).collect();
        self.store.append(validated).await.expect("appended");
    }

    /// Every instance's history and outbox, for a failure message.
    async fn dump(&self) -> String {
        let mut out = String::new();
        for i in self.store.instances(&InstanceQuery::default()).await.unwrap_or_default() {
            out.push_str(&format!("instance {} {} {:?}\n", i.id, i.status, i.outcome));
            for h in self.store.history(&i.id).await.unwrap_or_default() {
                out.push_str(&format!("  {} {:?} {}\n", h.kind, h.step, h.data));
            }
        }
        for o in self.store.outbox(None, None, 100).await.unwrap_or_default() {
            out.push_str(&format!("outbox {o:?}\n"));
        }
        out
    }

    async fn outcome(&self, key: &str) -> String {
        let found = wait_for(&format!("the instance for {key} to end"), async || {
            let all = self.store.instances(&InstanceQuery::default()).await.ok()?;
            let i = all.into_iter().find(|i| i.correlation_key.as_deref() == Some(key) && !i.is_open)?;
            i.outcome.clone().or(Some(i.status))
        })
        .await;
        match found {
            Some(o) => o,
            None => panic!("no outcome for {key}:\n{}", self.dump().await),
        }
    }

    async fn invoice_state(&self, invoice_id: &str) -> Option<Value> {
        let response =
            self.http.get(format!("{}/api/supplier-invoices/{invoice_id}", self.erp.url())).send().await.ok()?;
        if response.status().is_success() { response.json().await.ok() } else { None }
    }
}

/// A purchase order from the DC's first supplier, recorded in the ERP (where orders are raised)
/// and in Backroom's log; the goods received in the ERP and the log.
async fn ordered_and_received(
    w: &World,
    received: impl Fn(Decimal) -> Decimal,
) -> (backroom_model::PurchaseOrder, Vec<Decimal>) {
    let supplier = w.retailer.suppliers[0].id.clone();
    let scenario = scenarios::purchase_order(&w.retailer, "DC-01", &supplier, &[], None).expect("scenario");
    let po = scenario.purchase_order().expect("a purchase order");
    let lines: Vec<Value> = po
        .lines
        .iter()
        .map(|l| {
            json!({"line": l.line, "item": l.item.sku.as_ref().expect("sku").as_str(),
                   "quantity": l.quantity.value.to_string(), "unit_price": l.unit_price.amount.to_string()})
        })
        .collect();
    w.erp(
        reqwest::Method::POST,
        "/purchase-orders",
        Some(json!({"po_number": po.po_number.as_str(), "supplier": supplier, "location": po.ship_to.as_str(),
                    "currency": po.currency.as_str(), "lines": lines})),
    )
    .await;
    // The buyer approves it in the ERP: goods are received only against approved orders.
    let po_path = format!("/purchase-orders/{}/approval", po.po_number);
    w.erp(reqwest::Method::POST, &po_path, Some(json!({"decision": "approved", "level": 1, "approver": "buyer-bea"})))
        .await;
    let status = w.erp(reqwest::Method::GET, &format!("/purchase-orders/{}", po.po_number), None).await;
    if status["status"] == "pending_approval" {
        w.erp(
            reqwest::Method::POST,
            &po_path,
            Some(json!({"decision": "approved", "level": 2, "approver": "finance-fay"})),
        )
        .await;
    }
    w.append(&scenario.events).await;
    let quantities: Vec<Decimal> = po.lines.iter().map(|l| received(l.quantity.value)).collect();
    (po, quantities)
}

/// The goods received in the ERP; the receipt and invoice events for Backroom's log, not yet sent.
async fn receive_and_invoice(
    w: &World,
    po: &backroom_model::PurchaseOrder,
    received: &[Decimal],
    billed: &[InvoicedLine],
) -> (String, Vec<Value>) {
    let scenario = scenarios::receipt_and_invoice(&w.retailer, po, received, billed).expect("scenario");
    let receipt_number = scenario.document("receipt_number").expect("receipt number").to_owned();
    let lines: Vec<Value> = po
        .lines
        .iter()
        .zip(received)
        .map(|(l, q)| json!({"po_line": l.line, "item": l.item.sku.as_ref().expect("sku").as_str(), "quantity": q.to_string()}))
        .collect();
    w.erp(
        reqwest::Method::POST,
        "/goods-receipts",
        Some(json!({"receipt_number": receipt_number, "po_number": po.po_number.as_str(),
                    "location": po.ship_to.as_str(), "lines": lines})),
    )
    .await;
    let invoice = scenario.document("invoice_number").expect("invoice number").to_owned();
    (format!("{}:{invoice}", po.supplier), scenario.events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_invoice_is_released_for_payment_in_the_erp() {
    let w = World::start().await;
    let (po, received) = ordered_and_received(&w, |q| q).await;
    let billed: Vec<InvoicedLine> =
        po.lines.iter().map(|l| InvoicedLine { quantity: l.quantity.value, unit_price: l.unit_price.amount }).collect();
    let (invoice_id, events) = receive_and_invoice(&w, &po, &received, &billed).await;
    w.append(&events).await;

    assert_eq!(w.outcome(&invoice_id).await, "released");
    let state = w.invoice_state(&invoice_id).await.expect("the ERP knows the invoice");
    assert_eq!(state["status"], "released", "{state}");
    assert_eq!(state["lines"].as_array().map(Vec::len), Some(po.lines.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_delivery_billed_in_full_stays_on_hold_in_the_erp_with_the_discrepancy() {
    let w = World::start().await;
    let (po, received) = ordered_and_received(&w, |q| q - Decimal::from(2)).await;
    let billed: Vec<InvoicedLine> =
        po.lines.iter().map(|l| InvoicedLine { quantity: l.quantity.value, unit_price: l.unit_price.amount }).collect();
    let (invoice_id, events) = receive_and_invoice(&w, &po, &received, &billed).await;
    w.append(&events).await;

    let state = wait_for("the invoice on hold with a reason", async || {
        let s = w.invoice_state(&invoice_id).await?;
        (s["status"] == "on_hold" && s["reason"].as_str().is_some_and(|r| r.contains("billed"))).then_some(s)
    })
    .await;
    let Some(state) = state else { panic!("the invoice was not held:\n{}", w.dump().await) };
    let reason = state["reason"].as_str().expect("reason");
    assert!(reason.contains("received"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erp_outage_delays_the_release_and_nothing_is_posted_twice() {
    let w = World::start().await;
    let (po, received) = ordered_and_received(&w, |q| q).await;
    let billed: Vec<InvoicedLine> =
        po.lines.iter().map(|l| InvoicedLine { quantity: l.quantity.value, unit_price: l.unit_price.amount }).collect();
    let (invoice_id, events) = receive_and_invoice(&w, &po, &received, &billed).await;
    // The ERP is down for the next three seconds: it answers 503 with Retry-After.
    let now = chrono::Utc::now();
    let outage =
        json!({"outage": {"from": now.to_rfc3339(), "until": (now + chrono::Duration::seconds(3)).to_rfc3339()}});
    let set = w.http.put(format!("{}/admin/faults", w.erp.url())).json(&outage).send().await.expect("faults");
    assert!(set.status().is_success());
    w.append(&events).await;

    assert_eq!(w.outcome(&invoice_id).await, "released");
    let outbox = w.store.outbox(None, None, 10).await.expect("outbox");
    let register = outbox.iter().find(|o| o.operation == "register_invoice").expect("the register command");
    assert!(register.attempts >= 2, "the outage was met and retried: {register:?}");
    let state = w.invoice_state(&invoice_id).await.expect("the ERP knows the invoice");
    assert_eq!(state["status"], "released");
    let payments = w.erp(reqwest::Method::GET, "/gl-postings?kind=invoice", None).await;
    let postings = payments["postings"].as_array().expect("postings");
    let ours = postings.iter().filter(|p| p["reference"].as_str().is_some_and(|r| r.contains(&invoice_id))).count();
    assert_eq!(ours, 1, "one liability posting for the invoice: {payments}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_the_erp_refuses_is_dead_lettered_with_the_erps_message() {
    let w = World::start().await;
    // The order reached Backroom's log but was never raised in the ERP.
    let supplier = w.retailer.suppliers[0].id.clone();
    let scenario = scenarios::purchase_order(&w.retailer, "DC-01", &supplier, &[], None).expect("scenario");
    let po = scenario.purchase_order().expect("order");
    w.append(&scenario.events).await;
    let received: Vec<Decimal> = po.lines.iter().map(|l| l.quantity.value).collect();
    let billed: Vec<InvoicedLine> =
        po.lines.iter().map(|l| InvoicedLine { quantity: l.quantity.value, unit_price: l.unit_price.amount }).collect();
    let events = scenarios::receipt_and_invoice(&w.retailer, &po, &received, &billed).expect("scenario").events;
    w.append(&events).await;

    let dead = wait_for("the dead letter", async || {
        let rows = w.store.outbox(None, Some("dead"), 10).await.ok()?;
        rows.into_iter().next()
    })
    .await
    .unwrap_or_else(|| panic!("nothing was dead-lettered"));
    assert_eq!(dead.operation, "register_invoice");
    assert_eq!(dead.attempts, 1, "a 422 is not retried");
    let error = dead.last_error.expect("the ERP's answer is kept");
    assert!(error.contains("422") && error.contains("po_number"), "{error}");
}

/// The returns workflow against the reference ERP: a return within policy is refunded at the
/// original price, and the ERP posts the refund to the ledger and puts the goods back in stock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_within_policy_is_refunded_and_restocked_in_the_erp() {
    let w = World::start_with("return_refund.yaml").await;
    let item = w.retailer.items[0].clone();
    let stock = |v: Value| v["on_hand"].as_str().expect("on_hand").parse::<Decimal>().expect("decimal");
    let before = stock(w.erp(reqwest::Method::GET, &format!("/stock?location=S001&item={}", item.sku), None).await);
    let scenario = scenarios::sale_and_return(&w.retailer, "S001", "C-1001", Decimal::from(3), Decimal::from(2), 5)
        .expect("scenario");
    w.append(&scenario.events).await;
    let return_id = scenario.document("return").expect("return number").to_owned();

    assert_eq!(w.outcome(&return_id).await, "refunded");
    let refunds = w.erp(reqwest::Method::GET, &format!("/refunds?return_id={return_id}"), None).await;
    let refund = &refunds["refunds"][0];
    assert_eq!(refund["amount"], (item.price * Decimal::from(2)).to_string(), "{refunds}");
    let after = stock(w.erp(reqwest::Method::GET, &format!("/stock?location=S001&item={}", item.sku), None).await);
    assert_eq!(after - before, Decimal::from(2), "the two returned are back in stock");
    let postings = w.erp(reqwest::Method::GET, "/gl-postings?kind=refund", None).await;
    let postings = postings["postings"].as_array().expect("postings");
    let accounts: Vec<(&str, &str)> = postings
        .iter()
        .map(|p| (p["debit_account"].as_str().unwrap_or(""), p["credit_account"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(accounts, [("4100 Sales returns", "1000 Cash"), ("1400 Inventory", "5000 Cost of goods sold")]);
    assert_eq!(postings[0]["amount"], refund["amount"], "the refund posted once, at the original price");
}
