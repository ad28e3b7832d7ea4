//! The reference ERP, WMS and POS over HTTP, as a connector meets them.

use std::time::{Duration, Instant};

use backroom_sim::refsys::{Faults, RefSystem, System, openapi};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn ephemeral() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn start(system: System) -> RefSystem {
    RefSystem::start(system, ":memory:", ephemeral(), Faults::default()).await.unwrap()
}

fn master() -> Value {
    json!({
        "locations": [
            {"code": "S001", "kind": "store", "region": "R-NORTH", "district": "D-N1", "name": "Store 1 Hamburg Altona"},
            {"code": "S002", "kind": "store", "region": "R-NORTH", "district": "D-N1", "name": "Store 2 Hamburg Eppendorf"},
            {"code": "DC-NORTH", "kind": "distribution_centre", "region": "R-NORTH", "name": "North DC"}
        ],
        "suppliers": [
            {"id": "SUP-001", "name": "Acme Foods", "lead_time_days": 5},
            {"id": "SUP-002", "name": "Nordic Dairy", "lead_time_days": 3}
        ],
        "items": [
            {"sku": "SKU-00001", "gtin": "04006381333931", "name": "Oat milk 1l", "category": "dairy",
             "unit": "EA", "cost": "0.82", "price": "1.49", "supplier": "SUP-001"},
            {"sku": "SKU-00002", "gtin": "05012345678900", "name": "Rye bread 500g", "category": "bakery",
             "unit": "EA", "cost": "1.10", "price": "2.29", "supplier": "SUP-001"},
            {"sku": "SKU-00003", "name": "Espresso beans 1kg", "category": "coffee",
             "unit": "EA", "cost": "9.40", "price": "17.90", "supplier": "SUP-002"}
        ],
        "stock": [
            {"location": "DC-NORTH", "item": "SKU-00001", "on_hand": "480"},
            {"location": "DC-NORTH", "item": "SKU-00003", "on_hand": "60"},
            {"location": "S001", "item": "SKU-00001", "on_hand": "100"},
            {"location": "S001", "item": "04006381333931", "on_hand": "100"},
            {"location": "S001", "item": "SKU-00002", "on_hand": "35"}
        ],
        "budgets": [{"location": "S001", "amount": "50000.00"}],
        "currency": "EUR"
    })
}

/// A thin JSON client for one system.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn of(system: &RefSystem) -> Api {
        let api = Api { http: client(), base: system.url() };
        let (status, body) = api.send("PUT", "/admin/master", None, Some(master())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        api
    }

    async fn send(&self, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        (status, value)
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send("GET", path, None, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send("POST", path, Some(key), Some(body)).await
    }

    async fn ok(&self, path: &str, key: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, key, body).await;
        assert!(status.is_success(), "POST {path}: {status} {answer}");
        answer
    }

    async fn count(&self, table: &str) -> i64 {
        self.get("/admin/state").await["tables"][table].as_i64().unwrap()
    }
}

fn purchase_order(po: &str, quantity: &str) -> Value {
    json!({
        "po_number": po, "supplier": "SUP-001", "location": "S001", "currency": "EUR",
        "lines": [
            {"line": 1, "item": "SKU-00001", "quantity": quantity, "unit_price": "0.80"},
            {"line": 2, "item": "05012345678900", "quantity": "200", "unit_price": "1.05"}
        ],
        "expected_on": "2026-11-30"
    })
}

#[tokio::test]
async fn erp_purchase_order_is_approved_on_two_levels_and_received_into_stock() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;

    let created = api.ok("/api/purchase-orders", "po-1", purchase_order("PO-4711", "6000")).await;
    assert_eq!(created["status"], "pending_approval");
    assert_eq!(created["total"], "5010.00");
    assert_eq!(created["approvals_required"], 2);

    let level1 = json!({"decision": "approved", "level": 1, "approver": "alice", "comment": null});
    let first = api.ok("/api/purchase-orders/PO-4711/approval", "po-1-a1", level1).await;
    assert_eq!(first["status"], "pending_approval");

    let same_person = json!({"decision": "approved", "level": 2, "approver": "alice"});
    let (status, error) = api.post("/api/purchase-orders/PO-4711/approval", "po-1-a2x", same_person).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "approver");

    let level2 = json!({"decision": "approved", "level": 2, "approver": "bob", "comment": "seasonal volume"});
    let second = api.ok("/api/purchase-orders/PO-4711/approval", "po-1-a2", level2).await;
    assert_eq!(second["status"], "approved");
    assert_eq!(second["approvals"].as_array().unwrap().len(), 2);

    let expedite = json!({"reason": "promotion starts 2026-11-23"});
    let expedited = api.ok("/api/purchase-orders/PO-4711/expedite", "po-1-exp", expedite).await;
    assert_eq!(expedited["expedited"], true);
    assert_eq!(api.get("/api/purchase-orders/PO-4711").await["expedited"], true);

    let budget = api.get("/api/budget?location=S001&amount=1200.00").await;
    assert_eq!(budget["committed"], "5010.00");
    assert_eq!(budget["available"], "44990.00");
    assert_eq!(budget["sufficient"], true);
    let too_much = api.get("/api/budget?location=S001&amount=45000.00").await;
    assert_eq!(too_much["sufficient"], false);

    let open = api.get("/api/purchase-orders?location=S001&item=SKU-00001&status=open").await;
    assert_eq!(open["purchase_orders"].as_array().unwrap().len(), 1);

    let receipt = json!({
        "receipt_number": "GR-9001", "po_number": "PO-4711", "location": "S001", "received_on": "2026-11-28",
        "lines": [{"po_line": 1, "item": "SKU-00001", "quantity": "6000"},
                  {"po_line": 2, "item": "SKU-00002", "quantity": "150"}]
    });
    let received = api.ok("/api/goods-receipts", "gr-1", receipt).await;
    assert_eq!(received["po_status"], "partially_received");

    let stock = api.get("/api/stock?location=S001&item=SKU-00001").await;
    assert_eq!(stock["on_hand"], "6100");
    let bread = api.get("/api/stock?location=S001&item=05012345678900").await;
    assert_eq!(bread["on_hand"], "185");

    let po = api.get("/api/purchase-orders/PO-4711").await;
    assert_eq!(po["status"], "partially_received");
    assert_eq!(po["lines"][1]["received"], "150");
    let receipts = api.get("/api/gl-postings?kind=receipt").await;
    assert_eq!(receipts["postings"][0]["amount"], "4957.50");
    erp.stop().await;
}

async fn approved_order(api: &Api) {
    api.ok("/api/purchase-orders", "po-small", purchase_order("PO-1000", "100")).await;
    let approve = json!({"decision": "approved", "level": 1, "approver": "carol"});
    let approved = api.ok("/api/purchase-orders/PO-1000/approval", "po-small-a1", approve).await;
    assert_eq!(approved["status"], "approved");
}

fn invoice(number: &str) -> Value {
    json!({
        "invoice_number": number, "supplier": "SUP-001", "po_number": "PO-1000", "currency": "EUR", "total": "290.00",
        "lines": [{"line": 1, "po_line": 1, "item": "SKU-00001", "quantity": "100", "unit_price": "0.80", "net_amount": "80.00"},
                  {"line": 2, "po_line": 2, "item": "SKU-00002", "quantity": "200", "unit_price": "1.05", "net_amount": "210.00"}]
    })
}

#[tokio::test]
async fn erp_invoice_is_registered_on_hold_released_and_credited() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;
    approved_order(&api).await;

    let registered = api.ok("/api/supplier-invoices", "inv-1", invoice("INV-2026-0042")).await;
    assert_eq!(registered["invoice_id"], "SUP-001:INV-2026-0042");
    assert_eq!(registered["status"], "on_hold");

    let (status, error) = api.post("/api/supplier-invoices", "inv-1-again", invoice("INV-2026-0042")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"], "duplicate_invoice");

    let credit = json!({"credit_note_number": "CN-77", "supplier": "SUP-001", "invoice_number": "INV-2026-0042",
                        "amount": "21.00", "reason": "10 loaves damaged"});
    let credited = api.ok("/api/credit-notes", "cn-1", credit).await;
    assert_eq!(credited["payable"], "269.00");

    let released = api.ok("/api/supplier-invoices/SUP-001:INV-2026-0042/release", "inv-1-rel", json!({})).await;
    assert_eq!(released["status"], "released");
    assert_eq!(released["payment"]["amount"], "269.00");

    let stored = api.get("/api/supplier-invoices/SUP-001:INV-2026-0042").await;
    assert_eq!(stored["status"], "released");
    assert_eq!(stored["payable"], "269.00");
    assert_eq!(stored["payments"].as_array().unwrap().len(), 1);
    assert_eq!(stored["credit_notes"][0]["credit_note_number"], "CN-77");
    let postings = api.get("/api/gl-postings?kind=invoice").await;
    assert_eq!(postings["postings"][0]["amount"], "269.00");
    assert_eq!(postings["postings"][0]["credit_account"], "2000 Accounts payable");

    let (status, error) =
        api.post("/api/supplier-invoices/SUP-001:INV-2026-0042/reject", "inv-1-rej", json!({"reason": "late"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    api.ok("/api/supplier-invoices", "inv-2", invoice("INV-2026-0043")).await;
    api.ok("/api/supplier-invoices/SUP-001:INV-2026-0043/reject", "inv-2-rej", json!({"reason": "duplicate billing"}))
        .await;
    let (status, error) =
        api.post("/api/supplier-invoices/SUP-001:INV-2026-0043/release", "inv-2-rel", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"], "validation");

    let (status, _) = api.send("GET", "/api/supplier-invoices/SUP-001:NOPE", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    erp.stop().await;
}

#[tokio::test]
async fn erp_transfer_received_short_posts_a_write_off() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;
    let request = json!({"from": "S001", "to": "S002", "lines": [{"item": "SKU-00001", "quantity": "40"}],
                         "reason": "rebalance", "reference": "EXC-881"});
    let created = api.ok("/api/transfers", "tr-1", request).await;
    assert_eq!(created["status"], "requested");
    let id = created["transfer_id"].as_str().unwrap().to_string();

    let shipped = api.ok(&format!("/api/transfers/{id}/ship"), "tr-1-ship", json!({})).await;
    assert_eq!(shipped["status"], "in_transit");
    let origin = api.get("/api/stock?location=S001&item=SKU-00001").await;
    assert_eq!(origin["on_hand"], "60");
    let destination = api.get("/api/stock?location=S002&item=SKU-00001").await;
    assert_eq!(destination["in_transit"], "40");

    let receipt = json!({"lines": [{"item": "SKU-00001", "quantity": "38"}]});
    let received = api.ok(&format!("/api/transfers/{id}/receive"), "tr-1-recv", receipt).await;
    assert_eq!(received["status"], "received");
    assert_eq!(received["discrepancies"][0]["difference"], "2");

    let destination = api.get("/api/stock?location=S002&item=SKU-00001").await;
    assert_eq!(destination["on_hand"], "38");
    assert_eq!(destination["in_transit"], "0");

    let transfers = api.get("/api/gl-postings?kind=transfer").await;
    let amounts: Vec<&str> =
        transfers["postings"].as_array().unwrap().iter().map(|p| p["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["32.80", "31.16"]);
    let write_offs = api.get("/api/gl-postings?kind=write_off").await;
    assert_eq!(write_offs["postings"][0]["amount"], "1.64");
    assert_eq!(write_offs["postings"][0]["reference"], id);
    assert_eq!(write_offs["postings"][0]["debit_account"], "5400 Inventory shrinkage");

    let (status, _) = api.post(&format!("/api/transfers/{id}/cancel"), "tr-1-cancel", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let valuation = api.get("/api/valuation?location=S002").await;
    assert_eq!(valuation["total"], "31.16");

    let too_much = json!({"from": "S002", "to": "S001", "lines": [{"item": "SKU-00001", "quantity": "39"}]});
    let (status, error) = api.post("/api/transfers", "tr-2", too_much).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "lines[0].quantity");
    erp.stop().await;
}

#[tokio::test]
async fn erp_cancelled_shipment_returns_stock_to_origin() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;
    let request = json!({"from": "DC-NORTH", "to": "S002", "lines": [{"item": "SKU-00003", "quantity": "12"}]});
    let id = api.ok("/api/transfers", "tr-c", request).await["transfer_id"].as_str().unwrap().to_string();
    api.ok(&format!("/api/transfers/{id}/ship"), "tr-c-ship", json!({})).await;
    let cancelled = api.ok(&format!("/api/transfers/{id}/cancel"), "tr-c-cancel", json!({})).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(api.get("/api/stock?location=DC-NORTH&item=SKU-00003").await["on_hand"], "60");
    assert_eq!(api.get("/api/stock?location=S002&item=SKU-00003").await["in_transit"], "0");
    erp.stop().await;
}

#[tokio::test]
async fn erp_refund_posts_to_the_ledger_and_restocks() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;
    let refund = json!({"return_id": "RET-5521", "location": "S001", "sale_id": "T-S001-20261120-0042", "currency": "EUR",
                        "amount": "4.58", "lines": [{"item": "SKU-00002", "quantity": "2", "unit_price": "2.29"}],
                        "restock": true});
    let posted = api.ok("/api/refunds", "rf-1", refund).await;
    assert_eq!(posted["status"], "posted");
    let refund_id = posted["refund_id"].as_str().unwrap();

    let postings = api.get("/api/gl-postings?kind=refund").await;
    let postings = postings["postings"].as_array().unwrap();
    assert_eq!(postings[0]["amount"], "4.58");
    assert_eq!(postings[0]["debit_account"], "4100 Sales returns");
    assert_eq!(postings[1]["amount"], "2.20");
    assert_eq!(api.get("/api/stock?location=S001&item=SKU-00002").await["on_hand"], "37");

    let listed = api.get("/api/refunds?return_id=RET-5521").await;
    assert_eq!(listed["refunds"][0]["refund_id"], refund_id);
    assert_eq!(api.get(&format!("/api/refunds/{refund_id}")).await["lines"][0]["item"], "SKU-00002");

    let again = json!({"return_id": "RET-5521", "location": "S001", "currency": "EUR", "amount": "4.58"});
    let (status, error) = api.post("/api/refunds", "rf-2", again).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"], "duplicate_refund");

    let write_off = json!({"location": "S001", "item": "SKU-00002", "quantity": "5", "reason": "damaged"});
    let written = api.ok("/api/write-offs", "wo-1", write_off).await;
    assert_eq!(written["value"], "5.50");
    assert_eq!(written["on_hand"], "32");
    erp.stop().await;
}

#[tokio::test]
async fn erp_refuses_unknown_references_and_malformed_requests() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;
    let mut order = purchase_order("PO-2000", "10");
    order["lines"][1]["item"] = json!("SKU-99999");
    let (status, error) = api.post("/api/purchase-orders", "bad-1", order).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"], "validation");
    assert_eq!(error["field"], "lines[1].item");
    assert!(error["message"].as_str().unwrap().contains("SKU-99999"));

    let mut order = purchase_order("PO-2001", "10");
    order["supplier"] = json!("SUP-404");
    let (status, error) = api.post("/api/purchase-orders", "bad-2", order).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("supplier")));

    let (status, error) = api.post("/api/purchase-orders", "bad-3", purchase_order("PO-2002", "-3")).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lines[0].quantity")));

    let receipt = json!({"receipt_number": "GR-1", "po_number": "PO-NOPE", "location": "S001",
                         "lines": [{"po_line": 1, "quantity": "1"}]});
    let (status, error) = api.post("/api/goods-receipts", "bad-4", receipt).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("po_number")));

    let response = api
        .http
        .post(format!("{}/api/transfers", api.base))
        .header("content-type", "application/json")
        .body("{\"from\": \"S001\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "malformed_json");

    let (status, error) = api.post("/api/transfers", "bad-5", json!({"from": "S001", "lines": []})).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")));

    let (status, _) = api.send("GET", "/api/purchase-orders/PO-NOPE", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.send("GET", "/api/items/SKU-99999", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/api/items/4006381333931").await["sku"], "SKU-00001");
    assert_eq!(api.get("/api/suppliers/SUP-002").await["lead_time_days"], 3);
    assert_eq!(api.count("purchase_orders").await, 0);
    erp.stop().await;
}

#[tokio::test]
async fn repeated_idempotency_key_returns_the_first_answer_and_changes_nothing() {
    let erp = start(System::Erp).await;
    let api = Api::of(&erp).await;
    let request = json!({"from": "S001", "to": "S002", "lines": [{"item": "SKU-00001", "quantity": "5"}],
                         "reason": "rebalance", "reference": "EXC-900"});
    let first = api.http.post(format!("{}/api/transfers", api.base)).header("Idempotency-Key", "wf-17/step-3");
    let first = first.json(&request).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let second = api.http.post(format!("{}/api/transfers", api.base)).header("Idempotency-Key", "wf-17/step-3");
    let second = second.json(&request).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers().get("idempotent-replayed").unwrap(), "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);

    let listed = api.get("/api/transfers?reference=EXC-900").await;
    assert_eq!(listed["transfers"].as_array().unwrap().len(), 1);

    let mut changed = request.clone();
    changed["lines"][0]["quantity"] = json!("6");
    let (status, error) = api.post("/api/transfers", "wf-17/step-3", changed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"], "idempotency_key_reused");
    assert_eq!(api.count("transfers").await, 1);

    // A failed request records nothing: the same key may be used once the problem is fixed.
    let early = json!({"from": "S001", "to": "S002", "lines": [{"item": "SKU-00009", "quantity": "1"}]});
    let (status, _) = api.post("/api/transfers", "wf-18/step-1", early).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fixed = json!({"from": "S001", "to": "S002", "lines": [{"item": "SKU-00002", "quantity": "1"}]});
    let (status, _) = api.post("/api/transfers", "wf-18/step-1", fixed).await;
    assert_eq!(status, StatusCode::CREATED);
    erp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_with_one_key_create_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("erp.sqlite");
    let erp = RefSystem::start(System::Erp, path.to_str().unwrap(), ephemeral(), Faults::default()).await.unwrap();
    let api = std::sync::Arc::new(Api::of(&erp).await);
    let request = json!({"from": "DC-NORTH", "to": "S001", "lines": [{"item": "SKU-00001", "quantity": "24"}],
                         "reference": "EXC-1200"});
    let mut deliveries = Vec::new();
    for _ in 0..8 {
        let (api, request) = (api.clone(), request.clone());
        deliveries.push(tokio::spawn(async move { api.post("/api/transfers", "wf-40/step-2", request).await }));
    }
    let mut answers = Vec::new();
    for delivery in deliveries {
        let (status, body) = delivery.await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
        answers.push(body);
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(api.count("transfers").await, 1);
    erp.stop().await;
}

#[tokio::test]
async fn a_restarted_system_keeps_its_state_and_idempotency_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("erp.sqlite");
    let path = path.to_str().unwrap();
    let erp = RefSystem::start(System::Erp, path, ephemeral(), Faults::default()).await.unwrap();
    let api = Api::of(&erp).await;
    let first = api.ok("/api/purchase-orders", "restart-po", purchase_order("PO-3000", "10")).await;
    erp.stop().await;

    let erp = RefSystem::start(System::Erp, path, ephemeral(), Faults::default()).await.unwrap();
    let api = Api { http: client(), base: erp.url() };
    assert_eq!(api.get("/api/purchase-orders/PO-3000").await["status"], "pending_approval");
    let (status, again) = api.post("/api/purchase-orders", "restart-po", purchase_order("PO-3000", "10")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, first);
    assert_eq!(api.count("purchase_orders").await, 1);
    assert_eq!(api.get("/api/stock?location=S001&item=SKU-00001").await["on_hand"], "100");
    erp.stop().await;
}

#[tokio::test]
async fn injected_errors_refuse_requests_without_changing_state() {
    let faults = Faults { error_rate: 1.0, seed: 7, ..Faults::default() };
    let erp = RefSystem::start(System::Erp, ":memory:", ephemeral(), faults).await.unwrap();
    let api = Api::of(&erp).await;
    let refund = json!({"return_id": "RET-1", "location": "S001", "currency": "EUR", "amount": "1.49"});
    let (status, error) = api.post("/api/refunds", "fault-1", refund.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error["error"], "unavailable");
    assert_eq!(api.count("refunds").await, 0);
    assert_eq!(api.count("idempotency_keys").await, 0);
    let (status, _) = api.send("GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = api.send("PUT", "/admin/faults", None, Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.post("/api/refunds", "fault-1", refund).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(api.count("refunds").await, 1);
    erp.stop().await;
}

#[tokio::test]
async fn an_outage_answers_503_with_retry_after_until_cleared() {
    let wms = start(System::Wms).await;
    let api = Api::of(&wms).await;
    let now = chrono::Utc::now();
    let outage =
        json!({"outage": {"from": now - chrono::Duration::minutes(1), "until": now + chrono::Duration::minutes(10)}});
    let (status, faults) = api.send("PUT", "/admin/faults", None, Some(outage)).await;
    assert_eq!(status, StatusCode::OK, "{faults}");
    assert!(api.get("/admin/faults").await["outage"].is_object());

    let response = api.http.get(format!("{}/api/availability?item=SKU-00001", api.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry_after), "Retry-After {retry_after}");

    let (status, _) = api.send("PUT", "/admin/faults", None, Some(json!({"outage": null}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.get("/api/availability?item=SKU-00001").await["lines"][0]["on_hand"], "480");

    let (status, error) = api.send("PUT", "/admin/faults", None, Some(json!({"error_rate": 2.0}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "error_rate");
    wms.stop().await;
}

#[tokio::test]
async fn injected_latency_delays_api_requests() {
    let faults = Faults { latency_ms: 150, ..Faults::default() };
    let pos = RefSystem::start(System::Pos, ":memory:", ephemeral(), faults).await.unwrap();
    let api = Api::of(&pos).await;
    let started = Instant::now();
    api.get("/api/prices?location=S001&item=SKU-00001").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    pos.stop().await;
}

#[tokio::test]
async fn wms_reserves_picks_and_ships_a_transfer_order() {
    let wms = start(System::Wms).await;
    let api = Api::of(&wms).await;
    let order = json!({"reference": "TR-000001", "from_dc": "DC-NORTH", "to": "S001",
                       "lines": [{"item": "04006381333931", "quantity": "120"}]});
    let created = api.ok("/api/transfer-orders", "to-1", order).await;
    assert_eq!(created["status"], "reserved");
    let id = created["order_id"].as_str().unwrap().to_string();

    let available = api.get("/api/availability?item=SKU-00001&dc=DC-NORTH").await;
    assert_eq!(available["lines"][0]["reserved"], "120");
    assert_eq!(available["lines"][0]["available"], "360");

    let too_much = json!({"reference": "TR-000002", "from_dc": "DC-NORTH", "to": "S002",
                          "lines": [{"item": "SKU-00001", "quantity": "361"}]});
    let (status, error) = api.post("/api/transfer-orders", "to-2", too_much).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"], "insufficient_stock");
    assert_eq!(error["field"], "lines[0].quantity");

    assert_eq!(api.ok(&format!("/api/transfer-orders/{id}/pick"), "to-1-pick", json!({})).await["status"], "picked");
    assert_eq!(api.ok(&format!("/api/transfer-orders/{id}/ship"), "to-1-ship", json!({})).await["status"], "shipped");
    let after = api.get("/api/availability?item=SKU-00001").await;
    assert_eq!(after["lines"][0]["on_hand"], "360");
    assert_eq!(after["lines"][0]["reserved"], "0");
    let (status, _) = api.post(&format!("/api/transfer-orders/{id}/cancel"), "to-1-cancel", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api.get("/api/transfer-orders?reference=TR-000001").await["transfer_orders"][0]["status"], "shipped");

    let order = json!({"reference": "TR-000003", "from_dc": "DC-NORTH", "to": "S002",
                       "lines": [{"item": "SKU-00003", "quantity": "10"}]});
    let id = api.ok("/api/transfer-orders", "to-3", order).await["order_id"].as_str().unwrap().to_string();
    api.ok(&format!("/api/transfer-orders/{id}/cancel"), "to-3-cancel", json!({})).await;
    assert_eq!(api.get("/api/availability?item=SKU-00003").await["lines"][0]["available"], "60");

    let receipt =
        json!({"dc": "DC-NORTH", "reference": "ASN-4711", "lines": [{"item": "SKU-00003", "quantity": "24"}]});
    api.ok("/api/receipts", "rc-1", receipt).await;
    assert_eq!(api.get("/api/availability?item=SKU-00003").await["lines"][0]["on_hand"], "84");

    let from_store =
        json!({"reference": "X", "from_dc": "S001", "to": "S002", "lines": [{"item": "SKU-00001", "quantity": "1"}]});
    let (status, error) = api.post("/api/transfer-orders", "to-4", from_store).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from_dc")));
    wms.stop().await;
}

fn sale() -> Value {
    json!({"transaction_id": "T-S001-20261120-0042", "location": "S001", "customer": "C-1001",
           "business_day": "2026-11-20", "currency": "EUR",
           "lines": [{"line": 1, "item": "SKU-00001", "quantity": "3", "unit_price": "1.49"},
                     {"line": 2, "item": "SKU-00002", "quantity": "1", "unit_price": "2.29"}]})
}

#[tokio::test]
async fn pos_refuses_returns_beyond_what_was_sold() {
    let pos = start(System::Pos).await;
    let api = Api::of(&pos).await;
    assert_eq!(api.ok("/api/sales", "sale-1", sale()).await["total"], "6.76");

    let first = json!({"return_id": "RET-1", "transaction_id": "T-S001-20261120-0042", "lines": [{"line": 1, "quantity": "2"}]});
    assert_eq!(api.ok("/api/returns", "ret-1", first).await["refund"], "2.98");

    let over = json!({"return_id": "RET-2", "transaction_id": "T-S001-20261120-0042", "lines": [{"line": 1, "quantity": "2"}]});
    let (status, error) = api.post("/api/returns", "ret-2", over).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "lines[0].quantity");

    let unknown = json!({"return_id": "RET-3", "transaction_id": "T-NOPE", "lines": [{"line": 1, "quantity": "1"}]});
    let (status, error) = api.post("/api/returns", "ret-3", unknown).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("transaction_id")));

    let sold = api.get("/api/sales/T-S001-20261120-0042").await;
    assert_eq!(sold["lines"][0]["returned"], "2");
    assert_eq!(sold["lines"][1]["returned"], "0");
    let returns = api.get("/api/returns?transaction_id=T-S001-20261120-0042").await;
    assert_eq!(returns["returns"].as_array().unwrap().len(), 1);
    pos.stop().await;
}

#[tokio::test]
async fn pos_orders_are_rerouted_cancelled_and_notified() {
    let pos = start(System::Pos).await;
    let api = Api::of(&pos).await;
    let order = |n: &str| {
        json!({"order_number": n, "customer": "C-2002", "fulfilment": "pickup", "fulfilment_location": "S001",
               "promised_at": "2026-11-21T16:00:00Z", "currency": "EUR",
               "lines": [{"line": 1, "item": "SKU-00003", "quantity": "2", "unit_price": "17.90"}]})
    };
    assert_eq!(api.ok("/api/orders", "ord-1", order("WEB-10001")).await["total"], "35.80");
    api.ok("/api/orders", "ord-2", order("WEB-10002")).await;

    let reroute = json!({"location": "S002", "promised_at": "2026-11-22T10:00:00Z"});
    let moved = api.ok("/api/orders/WEB-10001/reroute", "ord-1-rr", reroute).await;
    assert_eq!(moved["fulfilment_location"], "S002");
    let open_at_s001 = api.get("/api/orders?location=S001&status=open").await;
    let numbers: Vec<&str> =
        open_at_s001["orders"].as_array().unwrap().iter().map(|o| o["order_number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["WEB-10002"]);

    let cancelled = api.ok("/api/orders/WEB-10002/cancel", "ord-2-c", json!({"reason": "out of stock"})).await;
    assert_eq!(cancelled["status"], "cancelled");
    let (status, _) = api.post("/api/orders/WEB-10002/reroute", "ord-2-rr", json!({"location": "S002"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api.get("/api/orders?item=SKU-00003&status=open").await["orders"].as_array().unwrap().len(), 1);

    assert_eq!(api.ok("/api/orders/WEB-10001/fulfil", "ord-1-f1", json!({})).await["status"], "ready");
    assert_eq!(api.ok("/api/orders/WEB-10001/fulfil", "ord-1-f2", json!({})).await["status"], "collected");

    let note = json!({"to": "customer", "order_number": "WEB-10002", "location": null,
                      "subject": "Your order was cancelled", "message": "Sorry, the espresso beans sold out."});
    let sent = api.ok("/api/notifications", "note-1", note).await;
    assert!(sent["notification_id"].is_string());
    let note = json!({"to": "customer", "order_number": "WEB-99999", "subject": "x", "message": "y"});
    let (status, error) = api.post("/api/notifications", "note-2", note).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("order_number")));
    let listed = api.get("/api/notifications?to=customer&order_number=WEB-10002").await;
    assert_eq!(listed["notifications"].as_array().unwrap().len(), 1);

    let promo = json!({"location": "S001", "item": "SKU-00001",
                       "promotional": {"price": "1.19", "from": "2026-11-23", "to": "2026-11-29"}});
    let (status, price) = api.send("PUT", "/api/prices", Some("price-1"), Some(promo)).await;
    assert_eq!(status, StatusCode::OK, "{price}");
    let price = api.get("/api/prices?location=S001&item=SKU-00001").await;
    assert_eq!(price["regular"], "1.49");
    assert_eq!(price["promotional"]["price"], "1.19");
    pos.stop().await;
}

#[tokio::test]
async fn openapi_documents_every_system() {
    let erp = openapi(System::Erp);
    assert!(erp["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/purchase-orders",
        "/api/purchase-orders/{po}/approval",
        "/api/supplier-invoices/{invoice_id}/release",
        "/api/transfers/{id}/receive",
        "/api/refunds",
        "/api/gl-postings",
        "/api/valuation",
    ] {
        assert!(erp["paths"][path].is_object(), "ERP documents {path}");
    }
    assert!(erp["paths"]["/api/purchase-orders"]["post"]["responses"]["201"].is_object());
    assert!(openapi(System::Wms)["paths"]["/api/transfer-orders/{id}/ship"]["post"].is_object());
    assert!(openapi(System::Pos)["paths"]["/api/prices"]["put"].is_object());

    let erp_system = start(System::Erp).await;
    let served: Value =
        client().get(format!("{}/api/openapi.json", erp_system.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, erp);
    erp_system.stop().await;
}
