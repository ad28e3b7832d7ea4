//! Governance through the API: approval policies saved in versions and audited, delegations
//! honoured only inside their window and recorded as such, segregation of duties across a
//! delegation, and the demotion of a policy after a burst of overturned automatic decisions.

mod support;

use std::time::Duration;

use axum::http::Method;
use chrono::Utc;
use serde_json::{Value, json};
use support::{TestApp, assert_error};

/// Refunds approved under the `refund` policy at the store of the return; the customer is the
/// requester.
const REFUND: &str = r#"
id: refund_approval
title: Refund approval
trigger: { event: return.requested }
inputs:
  location: event.data.location
steps:
  - id: approve
    kind: approval
    policy: refund
    amount: event.data.requested_refund.amount
    location: inputs.location
    requester: event.data.customer
    outcomes: { approved: refunded, rejected: refused }
  - { id: refunded, kind: end, outcome: refunded }
  - { id: refused, kind: end, outcome: refused }
"#;

fn hierarchy() -> Value {
    json!([
        {"id": "ACME", "kind": "company", "name": "Acme Retail", "time_zone": "Europe/Paris"},
        {"id": "R-NORTH", "kind": "region", "name": "North", "parent": "ACME", "time_zone": "Europe/Paris"},
        {"id": "S042", "kind": "store", "name": "Lille Centre", "parent": "R-NORTH", "time_zone": "Europe/Paris"},
        {"id": "R-SOUTH", "kind": "region", "name": "South", "parent": "ACME", "time_zone": "Europe/Paris"},
        {"id": "S077", "kind": "store", "name": "Marseille Port", "parent": "R-SOUTH", "time_zone": "Europe/Paris"},
    ])
}

/// A customer's request to return a pen and be refunded `amount` at S042.
fn refund_request(id: &str, customer: &str, amount: &str) -> Value {
    json!({
        "id": id, "type": "return.requested", "source": "store-app", "occurred_at": "2026-11-23T10:00:00Z",
        "data": {
            "return_number": id, "location": "S042", "channel": "store", "customer": customer,
            "original_sale": {"transaction_id": "T-1", "location": "S042"},
            "requested_refund": {"amount": amount, "currency": "EUR"},
            "lines": [{"line": 1, "item": {"gtin": support::PEN_GTIN}, "quantity": {"value": "1"},
                       "reason": "damaged"}]
        }
    })
}

async fn setup(t: &TestApp, policy: &Value) {
    t.call(Method::PUT, "/v1/locations", None, Some(("application/json", hierarchy().to_string()))).await.expect(200);
    put_policy(t, policy, None).await.expect(200);
    t.call(Method::POST, "/v1/workflows", None, Some(("application/yaml", REFUND.to_owned()))).await.expect(201);
}

async fn put_policy(t: &TestApp, policy: &Value, secret: Option<&str>) -> support::Reply {
    t.call(Method::PUT, "/v1/policies/refund", secret, Some(("application/json", policy.to_string()))).await
}

async fn post(t: &TestApp, uri: &str, secret: Option<&str>, body: &Value) -> support::Reply {
    t.call(Method::POST, uri, secret, Some(("application/json", body.to_string()))).await
}

/// Polls `probe` until it answers, for up to ten seconds.
async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The instances of the refund workflow once there are `n`, each with its status.
async fn instances(t: &TestApp, n: usize, status: &str) -> Vec<Value> {
    wait_for(&format!("{n} {status} refunds"), async || {
        let page = t.get(&format!("/v1/instances?workflow=refund_approval&status={status}")).await.expect(200).json();
        let list = page["instances"].as_array().cloned().unwrap_or_default();
        (list.len() == n).then_some(list)
    })
    .await
}

/// The open task of the instance started by the event `event_id`.
async fn task_of(t: &TestApp, event_id: &str) -> Value {
    wait_for(&format!("the task of {event_id}"), async || {
        let tasks = t.get("/v1/tasks").await.expect(200).json()["tasks"].as_array().cloned().unwrap_or_default();
        for task in tasks {
            let detail = t.get(&format!("/v1/instances/{}", task["instance"].as_str()?)).await.expect(200).json();
            if detail["instance"]["state"]["context"]["event"]["id"] == event_id {
                return Some(task);
            }
        }
        None
    })
    .await
}

async fn audit(t: &TestApp, kind: &str) -> Vec<Value> {
    let page = t.get(&format!("/v1/audit?type={kind}&limit=1000")).await.expect(200).json();
    page["entries"].as_array().cloned().unwrap_or_default()
}

fn company_policy(autonomy: Value) -> Value {
    json!({"action": "refund", "scope": null, "levels": [{"above": "0", "role": "store_manager"}], "autonomy": autonomy})
}

/// Saving creates versions; lists show the version in force, reads every version; each save is
/// audited with the caller and the version before and after; a wrong document names the field.
async fn policies_are_saved_in_versions_and_audited(t: TestApp) {
    assert_eq!(t.get("/v1/policies").await.expect(200).json(), json!({"policies": []}));
    let reply = t.get("/v1/policies/refund").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["refund", "PUT /v1/policies/refund"]);

    let v1 = json!({"action": "refund", "scope": "R-NORTH",
        "levels": [{"above": "0", "role": "store_manager"}, {"above": "500", "role": "finance_controller"}]});
    let saved = put_policy(&t, &v1, None).await.expect(200).json();
    assert_eq!((saved["version"].as_i64(), saved["scope"].as_str()), (Some(1), Some("R-NORTH")));
    assert_eq!(saved["document"]["autonomy"]["level"], "approve", "the default autonomy");
    assert_eq!(saved["created_by"], "test");

    let yaml = "scope: R-NORTH\nlevels:\n  - { above: '0', role: store_manager }\n  - { above: '1000', role: finance_controller }\nfour_eyes_above: '5000'\n";
    let v2 = t.call(Method::PUT, "/v1/policies/refund", None, Some(("application/yaml", yaml.to_owned()))).await;
    let v2 = v2.expect(200).json();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["document"]["levels"][1]["above"], "1000");
    put_policy(&t, &company_policy(json!({"level": "suggest"})), None).await.expect(200);

    let list = t.get("/v1/policies").await.expect(200).json();
    let current: Vec<(Option<&str>, i64)> = list["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| (p["scope"].as_str(), p["version"].as_i64().expect("version")))
        .collect();
    assert_eq!(current, [(None, 1), (Some("R-NORTH"), 2)]);
    let refund = t.get("/v1/policies/refund").await.expect(200).json();
    assert_eq!(refund["versions"].as_array().map(Vec::len), Some(3));
    assert_eq!(refund["current"].as_array().map(Vec::len), Some(2));

    let changes = audit(&t, "policy.changed").await;
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[1]["subject"], "policy/refund@R-NORTH");
    assert_eq!(changes[1]["actor"], "test");
    assert_eq!(changes[1]["before"]["version"], 1);
    assert_eq!(changes[1]["after"]["version"], 2);
    assert!(changes[0]["before"].is_null(), "the first version has nothing before it");

    for (doc, field) in [
        (json!({"levels": [{"above": "ten", "role": "store_manager"}]}), "levels[0].above"),
        (
            json!({"levels": [{"above": "0", "role": "store_manager"}], "autonomy": {"level": "auto"}}),
            "autonomy.max_amount",
        ),
        (json!({"action": "write_off", "levels": [{"above": "0", "role": "store_manager"}]}), "action"),
    ] {
        let reply = put_policy(&t, &doc, None).await;
        assert_error(&reply, 422, "validation_failed", "invalid_request", &[field]);
    }
    assert_eq!(t.get("/v1/policies/refund").await.expect(200).json()["versions"].as_array().map(Vec::len), Some(3));

    let manager = t.key("north-manager", &["store_manager"], &["R-NORTH"]).await;
    t.call(Method::GET, "/v1/policies", Some(&manager), None).await.expect(200);
    let reply = put_policy(&t, &v1, Some(&manager)).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["edit approval policies"]);
    t.close().await;
}

/// A delegate decides only while the delegation is in force; the decision is recorded as made
/// for the delegator; segregation of duties applies to the delegator too.
async fn delegations_are_honoured_only_inside_their_window(t: TestApp) {
    setup(&t, &company_policy(json!({"level": "approve"}))).await;
    let alice = t.key("alice", &["store_manager"], &["S042"]).await;
    let bob = t.key("bob", &["store_associate"], &["S042"]).await;
    t.ingest(&json!([refund_request("RMA-1", "carol", "120")])).await;
    let task = task_of(&t, "RMA-1").await;
    let id = task["id"].as_str().expect("task id").to_owned();
    assert_eq!((task["role"].as_str(), task["location"].as_str()), (Some("store_manager"), Some("S042")));
    let decide = |secret: String| {
        let uri = format!("/v1/tasks/{id}/decision");
        let t = &t;
        async move { post(t, &uri, Some(&secret), &json!({"outcome": "approve", "comment": "receipt checked"})).await }
    };

    // Without a delegation, bob does not hold the role.
    let reply = decide(bob.clone()).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["store_manager", "bob"]);

    let now = Utc::now();
    let window = |from_h: i64, to_h: i64| {
        json!({"to": "bob", "role": "store_manager", "scope": "S042",
               "starts_at": (now + chrono::Duration::hours(from_h)).to_rfc3339(),
               "ends_at": (now + chrono::Duration::hours(to_h)).to_rfc3339(), "reason": "holiday"})
    };
    // Before the window, and after it.
    let later = post(&t, "/v1/delegations", Some(&alice), &window(1, 2)).await.expect(201).json();
    assert_eq!((later["from"].as_str(), later["created_by"].as_str()), (Some("alice"), Some("alice")));
    assert_error(&decide(bob.clone()).await, 403, "forbidden", "permission_error", &["no delegation"]);
    let later_id = later["id"].as_str().expect("id");
    post(&t, &format!("/v1/delegations/{later_id}/revoke"), Some(&alice), &json!({})).await.expect(200);
    post(&t, "/v1/delegations", Some(&alice), &window(-3, -1)).await.expect(201);
    assert_error(&decide(bob.clone()).await, 403, "forbidden", "permission_error", &["no delegation"]);
    assert_eq!(t.get(&format!("/v1/tasks/{id}")).await.expect(200).json()["status"], "open");

    // Inside the window.
    let inside = post(&t, "/v1/delegations", Some(&alice), &window(-1, 1)).await.expect(201).json();
    let delegation = inside["id"].as_str().expect("id").to_owned();
    let decided = decide(bob.clone()).await.expect(200).json();
    assert_eq!((decided["status"].as_str(), decided["decided_by"].as_str()), (Some("decided"), Some("bob")));
    let instance = decided["instance"].as_str().expect("instance").to_owned();
    let detail = wait_for("the refund to complete", async || {
        let d = t.get(&format!("/v1/instances/{instance}")).await.expect(200).json();
        (d["instance"]["status"] == "completed").then_some(d)
    })
    .await;
    let decision = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|h| h["kind"] == "task_decided")
        .cloned()
        .expect("the decision is in the timeline");
    assert_eq!(decision["data"]["acting_as"], format!("bob for alice, delegation {delegation}"));
    let audited = audit(&t, "task.decided").await;
    let entry = audited.iter().find(|e| e["subject"] == format!("instance/{instance}/approve")).expect("audited");
    assert_eq!(entry["actor"], "bob");
    assert_eq!(entry["after"]["on_behalf_of"], json!({"delegator": "alice", "delegation": delegation}));
    assert_eq!(audit(&t, "delegation.created").await.len(), 3);
    assert_eq!(audit(&t, "delegation.revoked").await.len(), 1);

    // Segregation of duties covers the delegator: bob may not approve alice's own refund.
    t.ingest(&json!([refund_request("RMA-2", "Alice", "80")])).await;
    let own = task_of(&t, "RMA-2").await;
    let uri = format!("/v1/tasks/{}/decision", own["id"].as_str().expect("id"));
    let reply = post(&t, &uri, Some(&bob), &json!({"outcome": "approve"})).await;
    assert_error(
        &reply,
        403,
        "segregation_of_duties",
        "permission_error",
        &["bob acts for alice", "Alice requested this refund"],
    );
    let reply = post(&t, &uri, Some(&alice), &json!({"outcome": "approve"})).await;
    assert_error(&reply, 403, "segregation_of_duties", "permission_error", &["Alice requested this refund"]);

    // What a delegation may be.
    let mut long = window(0, 24 * 91);
    let reply = post(&t, "/v1/delegations", Some(&alice), &long).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["ends_at", "90 days"]);
    long["ends_at"] = long["starts_at"].clone();
    let reply = post(&t, "/v1/delegations", Some(&alice), &long).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["ends_at", "after starts_at"]);
    let mut foreign = window(0, 1);
    foreign["role"] = json!("finance_controller");
    let reply = post(&t, "/v1/delegations", Some(&alice), &foreign).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["finance_controller"]);
    foreign["role"] = json!("store_manager");
    foreign["scope"] = json!("S077");
    let reply = post(&t, "/v1/delegations", Some(&alice), &foreign).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["S077"]);
    let mine = t.call(Method::GET, "/v1/delegations", Some(&alice), None).await.expect(200).json();
    assert_eq!(mine["delegations"].as_array().map(Vec::len), Some(3));
    t.close().await;
}

/// A burst of overturned automatic decisions demotes the policy to `approve`: a new version by
/// `system:autonomy`, audited with the numbers, counted in the metrics; later refunds ask people.
async fn overturned_automatic_decisions_demote_the_policy(t: TestApp) {
    let auto = json!({"level": "auto", "max_amount": "50", "max_daily_amount": "1000",
        "demotion": {"window_hours": 24, "min_decisions": 4, "max_overturned_share": "0.5"}});
    setup(&t, &company_policy(auto)).await;
    let events: Vec<Value> = (1..=4).map(|i| refund_request(&format!("RMA-{i}"), "carol", "20")).collect();
    t.ingest(&Value::Array(events)).await;
    let done = instances(&t, 4, "completed").await;
    let ids: Vec<String> = done.iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect();
    for instance in &done {
        assert_eq!(instance["outcome"], "refunded", "approved automatically");
    }
    let receipts = audit(&t, "decision.automatic").await;
    let receipt = receipts.iter().find(|e| e["subject"] == format!("instance/{}/approve", ids[0])).expect("receipt");
    assert_eq!(receipt["after"]["receipt"]["inputs"]["amount"], "20");
    assert_eq!(receipt["after"]["receipt"]["policy"]["version"], 1);

    let overturn = |i: usize| {
        let uri = format!("/v1/decisions/{}/approve/overturn", ids[i]);
        let t = &t;
        async move { post(t, &uri, None, &json!({"reason": "no receipt"})).await }
    };
    let first = overturn(0).await.expect(200).json();
    assert_eq!(first["decision"]["overturned"], true);
    assert_eq!(first["decision"]["overturned_by"], "test");
    assert!(first["demoted"].is_null(), "1 of 4 is not enough");
    assert!(overturn(1).await.expect(200).json()["demoted"].is_null(), "2 of 4 is exactly the tolerated share");
    let reply = overturn(1).await;
    assert_error(&reply, 409, "conflict", "invalid_request", &["already overturned"]);
    let reply = post(&t, &format!("/v1/decisions/{}/approve/overturn", ids[2]), None, &json!({"reason": " "})).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["reason"]);
    let reply = post(&t, "/v1/decisions/nothing/approve/overturn", None, &json!({"reason": "x"})).await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["nothing"]);

    let third = overturn(2).await.expect(200).json();
    let demoted = &third["demoted"];
    assert_eq!(demoted["version"], 2);
    assert_eq!(demoted["created_by"], "system:autonomy");
    assert_eq!(demoted["document"]["autonomy"]["level"], "approve");
    let refund = t.get("/v1/policies/refund").await.expect(200).json();
    assert_eq!(refund["current"][0]["document"]["autonomy"]["level"], "approve");

    let demotions = audit(&t, "autonomy.demoted").await;
    assert_eq!(demotions.len(), 1);
    assert_eq!(demotions[0]["actor"], "system:autonomy");
    assert_eq!(demotions[0]["after"]["decisions"], 4);
    assert_eq!(demotions[0]["after"]["overturned"], 3);
    assert_eq!(audit(&t, "decision.overturned").await.len(), 3);
    let changed = audit(&t, "policy.changed").await;
    assert_eq!(changed.last().map(|e| e["actor"].clone()), Some(json!("system:autonomy")));

    let metrics = t.get_anonymous("/metrics").await.expect(200).text();
    assert!(
        metrics.lines().any(|l| l.starts_with("backroom_autonomy_demotions_total{") && l.contains("policy=\"refund\"")),
        "the demotion is counted"
    );

    // Later refunds ask a person.
    t.ingest(&json!([refund_request("RMA-5", "carol", "20")])).await;
    let task = task_of(&t, "RMA-5").await;
    assert_eq!(task["role"], "store_manager");
    t.close().await;
}

on_both_backends!(
    policies_are_saved_in_versions_and_audited,
    delegations_are_honoured_only_inside_their_window,
    overturned_automatic_decisions_demote_the_policy,
);
