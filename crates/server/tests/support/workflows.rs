//! Workflow fixtures shared by the API tests: the replenishment workflow, a location
//! hierarchy, stockout events, and waiting for instances and tasks.

use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};

use super::{Reply, TestApp};

/// The replenishment workflow of the engine's tests: a stockout is checked against stock; an
/// empty shelf asks the store manager to approve a transfer, which the ERP then creates.
pub const REPLENISHMENT: &str = r#"id: stockout_replenishment
title: Store stockout replenishment
trigger:
  event: inventory.stockout_reported
  key: event.data.location + "/" + event.data.item.sku
inputs:
  location: event.data.location
  sku: event.data.item.sku
tables:
  replenishment_action:
    hit_policy: FIRST
    inputs: [{ name: on_hand }]
    outputs: [{ name: action }]
    rules:
      - { id: empty, when: { on_hand: "<= 0" }, then: { action: transfer } }
      - { id: stocked, when: { on_hand: "> 0" }, then: { action: recount } }
steps:
  - { id: stock, kind: enrich, projection: stock, location: inputs.location, item: inputs.sku, next: route }
  - id: route
    kind: decide
    table: replenishment_action
    inputs: { on_hand: steps.stock.on_hand }
    next: check
  - id: check
    kind: branch
    cases:
      - { when: 'steps.route.action == "transfer"', next: approve }
    otherwise: recount
  - id: approve
    kind: task
    role: store_manager
    location: inputs.location
    title: '"Transfer " + inputs.sku + " to " + inputs.location'
    due: 4h
    outcomes:
      approve: transfer
      reject: rejected
  - id: transfer
    kind: action
    connector: erp
    operation: create_transfer
    with: { sku: inputs.sku, to: inputs.location, quantity: 12 }
    compensate: { operation: cancel_transfer, with: { transfer: steps.transfer.key } }
    next: done
  - { id: recount, kind: end, outcome: recount_requested }
  - { id: rejected, kind: end, outcome: rejected }
  - { id: done, kind: end, outcome: replenished }
"#;

/// A company, two regions, and a store in each, with opening hours and time zones.
pub fn hierarchy() -> Value {
    let weekly: Vec<Value> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        .iter()
        .map(|d| json!({"day": d, "opens": "09:00:00", "closes": "20:00:00"}))
        .collect();
    json!([
        {"id": "ACME", "kind": "company", "name": "Acme Retail", "time_zone": "Europe/Paris"},
        {"id": "R-NORTH", "kind": "region", "name": "North", "parent": "ACME", "time_zone": "Europe/Paris"},
        {"id": "R-SOUTH", "kind": "region", "name": "South", "parent": "ACME", "time_zone": "Europe/Paris"},
        {"id": "S042", "kind": "store", "name": "Lille Centre", "parent": "R-NORTH", "time_zone": "Europe/Paris",
         "opening_hours": {"weekly": weekly, "closed_on": ["2026-12-25"]}},
        {"id": "S077", "kind": "store", "name": "Marseille Port", "parent": "R-SOUTH", "time_zone": "Europe/Paris",
         "opening_hours": {"weekly": weekly}},
    ])
}

/// A shelf reported empty.
pub fn stockout(id: &str, location: &str, sku: &str) -> Value {
    json!({
        "id": id, "type": "inventory.stockout_reported", "source": "store-app",
        "occurred_at": "2026-11-20T10:00:00Z",
        "data": {"location": location, "item": {"sku": sku}, "reported_by": "associate-7"},
    })
}

pub async fn upload(t: &TestApp, yaml: &str) -> Reply {
    t.call(Method::POST, "/v1/workflows", None, Some(("application/yaml", yaml.to_owned()))).await
}

pub async fn put_locations(t: &TestApp, body: &Value, secret: Option<&str>) -> Reply {
    t.call(Method::PUT, "/v1/locations", secret, Some(("application/json", body.to_string()))).await
}

/// Polls `probe` until it answers, for up to ten seconds.
pub async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits for the instance to reach `status`; returns its detail.
pub async fn wait_for_status(t: &TestApp, instance: &str, status: &str) -> Value {
    wait_for(&format!("instance {instance} to be {status}"), async || {
        let detail = t.get(&format!("/v1/instances/{instance}")).await.expect(200).json();
        (detail["instance"]["status"] == status).then_some(detail)
    })
    .await
}

/// The open tasks a query of the inbox shows.
pub async fn inbox(t: &TestApp, query: &str, secret: Option<&str>) -> Vec<Value> {
    let reply = t.call(Method::GET, &format!("/v1/tasks{query}"), secret, None).await.expect(200);
    reply.json()["tasks"].as_array().expect("tasks").clone()
}
