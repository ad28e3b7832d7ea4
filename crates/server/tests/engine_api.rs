//! The workflow engine through the HTTP API, as an operations team meets it: definitions
//! uploaded, validated, versioned and (de)activated; locations saved; a stockout becoming a task
//! in a regional manager's inbox, claimed and decided; the instance's timeline; dead letters
//! skipped, retried and compensated; cancellation; and what a key without the `admin` role may
//! not do. On SQLite, and on PostgreSQL when `BACKROOM_TEST_DATABASE_URL` is set.

mod support;

use axum::http::{Method, header};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{Value, json};
use support::workflows::{REPLENISHMENT, hierarchy, inbox, put_locations, stockout, upload, wait_for, wait_for_status};
use support::{TestApp, assert_error, definition_problems, problems};

on_both_backends!(
    definitions_are_uploaded_versioned_and_activated,
    an_invalid_definition_is_refused_with_every_problem,
    locations_are_saved_whole_or_not_at_all,
    a_stockout_becomes_a_task_decided_through_the_api,
    dead_letters_are_skipped_retried_and_compensated,
    an_instance_is_cancelled_with_its_reason,
    a_key_without_the_admin_role_reads_and_decides_but_does_not_edit,
);

/// A workflow whose first action goes to the `broken` connector (every call refused for good),
/// then notifies the ERP.
const BROKEN: &str = r#"id: stockout_broken_erp
title: Stockout through a broken ERP
trigger:
  event: inventory.stockout_reported
  key: event.data.location + "/" + event.data.item.sku
inputs:
  location: event.data.location
  sku: event.data.item.sku
steps:
  - id: transfer
    kind: action
    connector: broken
    operation: create_transfer
    with: { sku: inputs.sku, to: inputs.location, quantity: 12 }
    next: notify
  - id: notify
    kind: action
    connector: erp
    operation: notify
    with: { sku: inputs.sku }
    next: done
  - { id: done, kind: end, outcome: replenished }
"#;

fn kinds(timeline: &Value) -> Vec<String> {
    timeline.as_array().expect("timeline").iter().map(|h| h["kind"].as_str().expect("kind").to_owned()).collect()
}

/// Upload answers 201 for a new version and 200 for the same text; versions are listed with
/// their active flags; deactivating the newest makes the older one the active one.
async fn definitions_are_uploaded_versioned_and_activated(t: TestApp) {
    assert_eq!(t.get("/v1/workflows").await.expect(200).json(), json!({"workflows": []}));

    let reply = upload(&t, REPLENISHMENT).await.expect(201);
    assert_eq!(reply.header(header::LOCATION), "/v1/workflows/stockout_replenishment/versions/1");
    let v1 = reply.json();
    assert_eq!(v1["workflow"], "stockout_replenishment");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["title"], "Store stockout replenishment");
    assert_eq!(v1["active"], true);
    assert_eq!(v1["created_by"], "test", "the uploader is the key's name");
    assert_eq!(v1["source"], REPLENISHMENT);

    // The same text, as YAML or as JSON: unchanged.
    let same = upload(&t, REPLENISHMENT).await.expect(200).json();
    assert_eq!(same, v1, "the same record, to the microsecond");
    let as_json = t.post_json("/v1/workflows", &json!({"source": REPLENISHMENT})).await.expect(200).json();
    assert_eq!(as_json["version"], 1);
    let text_yaml = t
        .call(Method::POST, "/v1/workflows", None, Some(("text/yaml; charset=utf-8", REPLENISHMENT.to_owned())))
        .await
        .expect(200);
    assert_eq!(text_yaml.json()["version"], 1);

    // A changed text: version 2, active.
    let retitled = REPLENISHMENT.replace("title: Store stockout replenishment", "title: Shelf gap replenishment");
    let v2 = t.post_json("/v1/workflows", &json!({"source": retitled})).await.expect(201).json();
    assert_eq!((v2["version"].as_i64(), v2["active"].as_bool()), (Some(2), Some(true)));

    let list = t.get("/v1/workflows").await.expect(200).json();
    let workflows = list["workflows"].as_array().expect("workflows");
    assert_eq!(workflows.len(), 1, "{list}");
    let w = &workflows[0];
    assert_eq!(w["id"], "stockout_replenishment");
    assert_eq!(w["title"], "Shelf gap replenishment", "the newest version's title");
    assert_eq!(w["active_version"], 2);
    assert_eq!(w["latest_version"], 2);
    let versions: Vec<(i64, bool)> = w["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(versions, [(1, true), (2, true)]);
    assert!(w["versions"][0].get("source").is_none(), "the list leaves the text out: {w}");

    assert_eq!(&t.get("/v1/workflows/stockout_replenishment").await.expect(200).json(), w);
    let one = t.get("/v1/workflows/stockout_replenishment/versions/1").await.expect(200).json();
    assert_eq!(one["source"], REPLENISHMENT);
    assert_eq!(one["title"], "Store stockout replenishment");

    // Deactivate version 2: version 1 is the one new instances start on.
    let off = t.post_empty("/v1/workflows/stockout_replenishment/versions/2/deactivate").await.expect(200).json();
    assert_eq!((off["version"].as_i64(), off["active"].as_bool()), (Some(2), Some(false)));
    let w = t.get("/v1/workflows/stockout_replenishment").await.expect(200).json();
    assert_eq!(w["active_version"], 1);
    assert_eq!(w["versions"][1]["active"], false);
    t.post_empty("/v1/workflows/stockout_replenishment/versions/1/deactivate").await.expect(200);
    let w = t.get("/v1/workflows/stockout_replenishment").await.expect(200).json();
    assert_eq!(w["active_version"], Value::Null, "no version is active: {w}");
    let on = t.post_empty("/v1/workflows/stockout_replenishment/versions/2/activate").await.expect(200).json();
    assert_eq!(on["active"], true);
    assert_eq!(t.get("/v1/workflows/stockout_replenishment").await.expect(200).json()["active_version"], 2);

    // Unknown workflows and versions.
    let reply = t.get("/v1/workflows/nothing_here").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["nothing_here"]);
    let reply = t.get("/v1/workflows/stockout_replenishment/versions/3").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["no version 3"]);
    let reply = t.get("/v1/workflows/stockout_replenishment/versions/two").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &[]);
    let reply = t.post_empty("/v1/workflows/stockout_replenishment/versions/7/activate").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["no version 7"]);
    let reply = t.post_empty("/v1/workflows/nothing_here/versions/1/deactivate").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &[]);
    t.close().await;
}

/// A definition with mistakes is refused with every problem, each with its line, column and
/// step; nothing is saved. Validation answers the same without saving either way.
async fn an_invalid_definition_is_refused_with_every_problem(t: TestApp) {
    let broken = REPLENISHMENT.replace("next: check", "next: chek").replace("due: 4h", "due: four hours");
    let reply = upload(&t, &broken).await;
    let body = assert_error(&reply, 422, "definition_invalid", "invalid_request", &["problem(s)", "nothing was saved"]);
    let found = definition_problems(&body);
    assert!(found.len() >= 2, "both mistakes are reported: {body}");
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).expect("needle") as u64 + 1;
    let chek = found.iter().find(|p| p.3.contains("chek")).unwrap_or_else(|| panic!("the typo is named: {body}"));
    assert_eq!(chek.0, line_of("next: chek"), "{body}");
    assert!(chek.1 > 0, "with a column: {body}");
    assert_eq!(chek.2.as_deref(), Some("route"), "in the step route: {body}");
    let due = found.iter().find(|p| p.3.contains("four hours")).unwrap_or_else(|| panic!("{body}"));
    assert_eq!((due.0, due.1), (line_of("due: four hours"), 10), "{body}");
    assert_eq!(due.2.as_deref(), Some("approve"), "{body}");
    assert_eq!(body["problems"][0]["file"], "upload");

    // Not YAML at all; a definition with a NUL; not UTF-8.
    let reply = upload(&t, "id: x\n  steps: [\n").await;
    let body = assert_error(&reply, 422, "definition_invalid", "invalid_request", &[]);
    assert!(definition_problems(&body).iter().all(|p| p.0 > 0), "a syntax error has its line: {body}");
    let reply = upload(&t, "id: x\ntitle: a\u{0}b\n").await;
    let body = assert_error(&reply, 422, "definition_invalid", "invalid_request", &["U+0000"]);
    assert_eq!(definition_problems(&body)[0].0, 2);
    assert_eq!(definition_problems(&body)[0].1, 9);
    let latin1 = axum::http::Request::post("/v1/workflows")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.secret))
        .header(header::CONTENT_TYPE, "application/yaml")
        .body(axum::body::Body::from(b"id: caf\xe9\n".to_vec()))
        .unwrap();
    let reply = t.send(latin1).await;
    let body = assert_error(&reply, 422, "definition_invalid", "invalid_request", &["UTF-8"]);
    assert_eq!((definition_problems(&body)[0].0, definition_problems(&body)[0].1), (1, 8));

    // Wrong content types and bodies.
    let reply = t.call(Method::POST, "/v1/workflows", None, Some(("text/plain", REPLENISHMENT.to_owned()))).await;
    assert_error(&reply, 415, "unsupported_media_type", "invalid_request", &["application/yaml", "text/plain"]);
    let reply = t.call(Method::POST, "/v1/workflows", None, None).await;
    assert_error(&reply, 415, "unsupported_media_type", "invalid_request", &["no Content-Type"]);
    let reply = t.call(Method::POST, "/v1/workflows", None, Some(("application/json", "{\"source\": ".into()))).await;
    assert_error(&reply, 400, "malformed_json", "invalid_request", &["line 1"]);
    let reply = t.post_json("/v1/workflows", &json!({"yaml": REPLENISHMENT})).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["yaml"]);
    assert_eq!(t.get("/v1/workflows").await.expect(200).json(), json!({"workflows": []}), "nothing was saved");

    // Validation without saving.
    let valid = t
        .call(Method::POST, "/v1/workflows/validate", None, Some(("application/yaml", REPLENISHMENT.to_owned())))
        .await
        .expect(200)
        .json();
    assert_eq!(
        valid,
        json!({"valid": true, "workflow": "stockout_replenishment", "title": "Store stockout replenishment",
               "trigger": "inventory.stockout_reported", "steps": 8})
    );
    let reply = t.post_json("/v1/workflows/validate", &json!({"source": broken})).await;
    let body = assert_error(&reply, 422, "definition_invalid", "invalid_request", &[]);
    assert!(definition_problems(&body).len() >= 2, "{body}");
    assert_eq!(t.get("/v1/workflows").await.expect(200).json(), json!({"workflows": []}), "validation saves nothing");
    t.close().await;
}

/// Locations are saved all together or not at all; a wrong one is named by its index and field.
async fn locations_are_saved_whole_or_not_at_all(t: TestApp) {
    assert_eq!(t.get("/v1/locations").await.expect(200).json(), json!({"locations": []}));
    let mut wrong = hierarchy();
    wrong[1]["time_zone"] = json!("Europe/Lille");
    wrong[3]["opening_hours"]["weekly"][0]["closes"] = json!("08:00:00");
    wrong[4]["parent"] = json!("R-WEST");
    wrong[2]["colour"] = json!("red");
    let reply = put_locations(&t, &wrong, None).await;
    let body = assert_error(&reply, 422, "validation_failed", "invalid_request", &["nothing was saved"]);
    let found = problems(&body);
    for expected in [(1, "$.time_zone"), (2, "$.colour"), (3, "$.opening_hours.weekly[0].closes"), (4, "$.parent")] {
        assert!(found.contains(&(expected.0, expected.1.to_owned())), "{expected:?} not in {found:?}");
    }
    assert!(body["errors"].to_string().contains("R-WEST"), "{body}");
    assert_eq!(t.get("/v1/locations").await.expect(200).json(), json!({"locations": []}), "nothing was saved");

    // A store under the company directly: the wrong kind of parent.
    let mut flat = hierarchy();
    flat[3]["parent"] = json!("ACME");
    let body = assert_error(&put_locations(&t, &flat, None).await, 422, "validation_failed", "invalid_request", &[]);
    assert_eq!(problems(&body), [(3, "$.parent".to_owned())]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("district or region"), "{body}");
    let body = assert_error(
        &put_locations(&t, &json!({"id": "ACME"}), None).await,
        422,
        "validation_failed",
        "invalid_request",
        &["array"],
    );
    assert!(body.get("errors").is_none());
    assert_error(&put_locations(&t, &json!([]), None).await, 422, "validation_failed", "invalid_request", &[]);

    let saved = put_locations(&t, &hierarchy(), None).await.expect(200).json();
    assert_eq!(saved, json!({"saved": 5}));
    let list = t.get("/v1/locations").await.expect(200).json();
    let codes: Vec<&str> = list["locations"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(codes, ["ACME", "R-NORTH", "R-SOUTH", "S042", "S077"]);
    let s042 = &list["locations"][3];
    assert_eq!(s042["parent"], "R-NORTH");
    assert_eq!(s042["opening_hours"]["closed_on"], json!(["2026-12-25"]));
    assert_eq!(s042["opening_hours"]["weekly"][0], json!({"day": "Mon", "opens": "09:00:00", "closes": "20:00:00"}));

    // A later request may name a saved parent; replacing a location keeps the others.
    let renamed = json!([{"id": "S042", "kind": "store", "name": "Lille Grand Place", "parent": "R-NORTH",
                          "time_zone": "Europe/Paris"}]);
    assert_eq!(put_locations(&t, &renamed, None).await.expect(200).json(), json!({"saved": 1}));
    let list = t.get("/v1/locations").await.expect(200).json();
    assert_eq!(list["locations"].as_array().unwrap().len(), 5);
    assert_eq!(list["locations"][3]["name"], "Lille Grand Place");
    t.close().await;
}

/// A stockout reported through `POST /v1/events` opens a task in the North region's inbox; the
/// manager claims and decides it; the transfer is delivered and the instance completes, and its
/// timeline shows every step, who acted, and the decision table's match.
async fn a_stockout_becomes_a_task_decided_through_the_api(t: TestApp) {
    put_locations(&t, &hierarchy(), None).await.expect(200);
    upload(&t, REPLENISHMENT).await.expect(201);
    t.ingest(&stockout("so-1", "S042", "PEN-BLUE")).await;

    let tasks = wait_for("the approval task", async || {
        let tasks = inbox(&t, "?role=store_manager&location=R-NORTH", None).await;
        (!tasks.is_empty()).then_some(tasks)
    })
    .await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let task = &tasks[0];
    let id = task["id"].as_str().expect("task id").to_owned();
    let instance = task["instance"].as_str().expect("instance").to_owned();
    assert_eq!(task["location"], "S042");
    assert_eq!(task["status"], "open");
    assert_eq!(task["title"], "Transfer PEN-BLUE to S042");
    assert_eq!(task["workflow"], "stockout_replenishment");
    assert!(task["due_at"].is_string(), "{task}");
    let outcomes = task["outcomes"].to_string();
    assert!(outcomes.contains("approve") && outcomes.contains("reject"), "{outcomes}");

    // The inbox by location: the store itself, its region, the company; not the other region.
    assert_eq!(inbox(&t, "?location=S042", None).await.len(), 1);
    assert_eq!(inbox(&t, "?location=ACME&status=open", None).await.len(), 1);
    assert_eq!(inbox(&t, "?location=R-SOUTH", None).await, Vec::<Value>::new());
    assert_eq!(inbox(&t, "?role=buyer", None).await, Vec::<Value>::new());
    assert_eq!(inbox(&t, "?due_before=2000-01-01T00:00:00Z", None).await, Vec::<Value>::new());
    assert_eq!(inbox(&t, "?status=decided", None).await, Vec::<Value>::new());
    for (uri, has) in [
        ("/v1/tasks?status=later", &["status", "later"][..]),
        ("/v1/tasks?due_before=tomorrow", &["due_before", "RFC 3339"]),
        ("/v1/tasks?limit=0", &["limit"]),
        ("/v1/tasks?shelf=3", &["shelf"]),
        ("/v1/instances?status=asleep", &["status", "asleep"]),
        ("/v1/dead-letters?limit=5000", &["limit"]),
    ] {
        assert_error(&t.get(uri).await, 400, "invalid_query", "invalid_request", has);
    }

    // Keys scoped to a region see that region's inbox only.
    let north = t.key("north-manager", &["store_manager"], &["R-NORTH"]).await;
    let south = t.key("south-manager", &["store_manager"], &["R-SOUTH"]).await;
    assert_eq!(inbox(&t, "", Some(&north)).await.len(), 1);
    assert_eq!(inbox(&t, "?location=ACME", Some(&north)).await.len(), 1, "scopes narrow the company");
    assert_eq!(inbox(&t, "", Some(&south)).await, Vec::<Value>::new());
    let reply = t.call(Method::GET, "/v1/tasks?location=S042", Some(&south), None).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["R-SOUTH", "S042"]);
    let reply = t.call(Method::GET, &format!("/v1/tasks/{id}"), Some(&south), None).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["R-SOUTH"]);
    let reply = t.call(Method::POST, &format!("/v1/tasks/{id}/claim"), Some(&south), None).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &[]);
    let seen = t.call(Method::GET, &format!("/v1/tasks/{id}"), Some(&north), None).await.expect(200).json();
    assert_eq!(&seen, task);

    // Claimed by the admin key ("test"): the north manager can no longer claim or decide it.
    let claimed = t.post_empty(&format!("/v1/tasks/{id}/claim")).await.expect(200).json();
    assert_eq!((claimed["status"].as_str(), claimed["claimed_by"].as_str()), (Some("claimed"), Some("test")));
    t.post_empty(&format!("/v1/tasks/{id}/claim")).await.expect(200);
    let reply = t.call(Method::POST, &format!("/v1/tasks/{id}/claim"), Some(&north), None).await;
    assert_error(&reply, 409, "conflict", "invalid_request", &["claimed by test"]);
    let approve = json!({"outcome": "approve"}).to_string();
    let reply = t
        .call(Method::POST, &format!("/v1/tasks/{id}/decision"), Some(&north), Some(("application/json", approve)))
        .await;
    assert_error(&reply, 409, "conflict", "invalid_request", &["claimed by test"]);
    assert_eq!(inbox(&t, "?status=claimed", None).await.len(), 1);

    // A refused decision: an outcome the task does not allow. Then bodies that do not fit.
    let reply = t.post_json(&format!("/v1/tasks/{id}/decision"), &json!({"outcome": "maybe"})).await;
    assert_error(&reply, 422, "task_refused", "invalid_request", &["maybe", "approve"]);
    let reply = t.post_json(&format!("/v1/tasks/{id}/decision"), &json!({"comment": "no outcome"})).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["outcome"]);
    let reply =
        t.post_json(&format!("/v1/tasks/{id}/decision"), &json!({"outcome": "approve", "comment": "a\u{0}"})).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["comment", "U+0000"]);
    let reply = t.post_empty(&format!("/v1/tasks/{id}/decision")).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["JSON body"]);
    let reply = t.post_json("/v1/tasks/no-such-task/decision", &json!({"outcome": "approve"})).await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["no-such-task"]);
    assert_eq!(t.get(&format!("/v1/tasks/{id}")).await.expect(200).json()["status"], "claimed", "nothing changed");

    // The decision.
    let decision = json!({"outcome": "approve", "comment": "DC has plenty", "fields": {}});
    let decided = t.post_json(&format!("/v1/tasks/{id}/decision"), &decision).await.expect(200).json();
    assert_eq!(decided["status"], "decided");
    assert_eq!(decided["decided_by"], "test");
    assert_eq!(decided["outcome"], "approve");
    let reply = t.post_json(&format!("/v1/tasks/{id}/decision"), &json!({"outcome": "reject"})).await;
    assert_error(&reply, 409, "conflict", "invalid_request", &[]);

    // The instance completes; its detail tells the whole story.
    let detail = wait_for_status(&t, &instance, "completed").await;
    assert_eq!(detail["instance"]["id"], instance.as_str());
    assert_eq!(detail["instance"]["outcome"], "replenished");
    assert_eq!(detail["instance"]["correlation_key"], "S042/PEN-BLUE");
    let timeline = &detail["timeline"];
    let kinds = kinds(timeline);
    assert!(
        kinds.starts_with(
            &["started", "step_completed", "step_completed", "branch_taken", "task_opened"].map(String::from)
        ),
        "{kinds:?}"
    );
    for entry in timeline.as_array().unwrap() {
        assert!(entry["at"].as_str().is_some_and(|a| a.parse::<chrono::DateTime<chrono::Utc>>().is_ok()), "{entry}");
        assert!(entry["n"].as_i64().is_some(), "{entry}");
    }
    let route = timeline.as_array().unwrap().iter().find(|h| h["step"] == "route").expect("the decide step");
    assert_eq!(route["data"]["matched"], json!(["empty"]), "the decision's match is in the timeline: {route}");
    let decided = timeline.as_array().unwrap().iter().find(|h| h["kind"] == "task_decided").expect("the decision");
    assert_eq!(decided["actor"], "test");
    assert_eq!(decided["step"], "approve");
    assert!(decided["data"].to_string().contains("DC has plenty"), "the comment is kept: {decided}");
    let claimed = timeline.as_array().unwrap().iter().find(|h| h["kind"] == "task_claimed");
    assert!(claimed.is_some_and(|c| c["actor"] == "test"), "{kinds:?}");
    assert_eq!(detail["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(detail["tasks"][0]["status"], "decided");
    let outbox = detail["outbox"].as_array().expect("outbox");
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0]["key"], format!("{instance}/transfer"));
    assert_eq!(outbox[0]["status"], "delivered");
    assert_eq!(outbox[0]["payload"], json!({"sku": "PEN-BLUE", "to": "S042", "quantity": 12}));
    assert!(detail["pending"].as_array().unwrap().iter().all(|p| p["due_at"].is_string()), "{detail}");

    // The instance list and its filters.
    let list = t.get("/v1/instances?workflow=stockout_replenishment").await.expect(200).json();
    assert_eq!(list["instances"].as_array().unwrap().len(), 1);
    assert_eq!(list["instances"][0]["id"], instance.as_str());
    let list = t.get("/v1/instances?status=completed&key=S042/PEN-BLUE&limit=5").await.expect(200).json();
    assert_eq!(list["instances"].as_array().unwrap().len(), 1);
    let list = t.get("/v1/instances?status=running").await.expect(200).json();
    assert_eq!(list["instances"], json!([]));
    assert_eq!(t.get("/v1/instances?workflow=other").await.expect(200).json()["instances"], json!([]));
    assert_error(&t.get("/v1/instances/nothing").await, 404, "not_found", "invalid_request", &["nothing"]);
    assert_error(&t.get("/v1/instances/a%00b").await, 404, "not_found", "invalid_request", &[]);
    assert_error(&t.get("/v1/tasks/nothing").await, 404, "not_found", "invalid_request", &[]);
    assert_eq!(inbox(&t, "?status=all", None).await.len(), 1);
    assert_eq!(inbox(&t, "", None).await, Vec::<Value>::new(), "the open inbox is empty again");

    // The audit record holds the automatic decision with its receipt, the person's claim and
    // decision with the reason, and the external effect; only auditors and admins read it.
    let audit = t.get(&format!("/v1/audit?subject=instance/{instance}/")).await.expect(200).json();
    let entries = audit["entries"].as_array().expect("entries");
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap_or("")).collect();
    // The admin claimed twice (a repeated claim by the holder is recorded too), then decided.
    assert_eq!(
        kinds,
        ["decision.automatic", "task.claimed", "task.claimed", "task.decided", "action.completed"],
        "{audit:#}"
    );
    assert_eq!(entries[0]["actor"], "system");
    assert_eq!(entries[0]["after"]["matched"], json!(["empty"]), "the receipt names the rows matched");
    assert_eq!(entries[0]["after"]["workflow"], "stockout_replenishment@1");
    assert_eq!((entries[1]["actor"].as_str(), entries[2]["actor"].as_str()), (Some("test"), Some("test")));
    assert_eq!(entries[3]["actor"], "test");
    assert_eq!(entries[3]["reason"], "DC has plenty");
    assert_eq!(entries[4]["subject"], format!("instance/{instance}/transfer"));
    for pair in entries.windows(2) {
        assert!(pair[1]["seq"].as_i64() > pair[0]["seq"].as_i64(), "chain order");
    }
    let auditor = t.key("internal-audit", &["auditor"], &[]).await;
    let reply = t.call(Method::GET, "/v1/audit?type=task.decided", Some(&auditor), None).await.expect(200).json();
    assert_eq!(reply["entries"].as_array().map(Vec::len), Some(1), "{reply}");
    let reply = t.call(Method::GET, "/v1/audit", Some(&north), None).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["auditor"]);
    let verified = t.call(Method::GET, "/v1/audit/verify", Some(&auditor), None).await.expect(200).json();
    assert_eq!(verified["broken"], Value::Null, "{verified}");
    assert!(verified["entries"].as_i64().is_some_and(|n| n >= 6), "keys, the definition and the decisions: {verified}");
    t.close().await;
}

/// An action its system refuses for good becomes a dead letter and blocks its instance; a
/// person skips it (the instance goes on), retries it (it fails again) or compensates it (the
/// instance fails).
async fn dead_letters_are_skipped_retried_and_compensated(t: TestApp) {
    upload(&t, BROKEN).await.expect(201);
    t.ingest(&json!([stockout("so-1", "S042", "PEN-BLUE"), stockout("so-2", "S042", "PEN-RED")])).await;
    let dead = wait_for("two dead letters", async || {
        let page = t.get("/v1/dead-letters").await.expect(200).json();
        let dead = page["dead_letters"].as_array().expect("dead_letters").clone();
        (dead.len() == 2).then_some(dead)
    })
    .await;
    for d in &dead {
        assert_eq!(d["status"], "dead");
        assert_eq!(d["connector"], "broken");
        assert_eq!(d["operation"], "create_transfer");
        assert!(d["last_error"].as_str().is_some_and(|e| e.contains("unknown item")), "{d}");
        let key = d["key"].as_str().unwrap();
        let instance = d["instance"].as_str().unwrap();
        assert_eq!(key, format!("{instance}/transfer"));
        wait_for_status(&t, instance, "blocked").await;
    }
    let first = dead[0]["key"].as_str().unwrap().to_owned();
    let second = dead[1]["key"].as_str().unwrap().to_owned();
    let (first_instance, second_instance) =
        (dead[0]["instance"].as_str().unwrap().to_owned(), dead[1]["instance"].as_str().unwrap().to_owned());
    let one = t.get(&format!("/v1/dead-letters?instance={first_instance}")).await.expect(200).json();
    assert_eq!(one["dead_letters"].as_array().unwrap().len(), 1);
    assert_eq!(one["dead_letters"][0]["key"], first.as_str());

    // The connectors and their breakers (a permanent refusal shows the system answers).
    let connectors = t.get("/v1/connectors").await.expect(200).json();
    let names: Vec<&str> =
        connectors["connectors"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["broken", "erp"]);
    for c in connectors["connectors"].as_array().unwrap() {
        assert_eq!(c["state"], "closed", "{c}");
        assert!(c["failures"].is_u64() && c.get("until").is_some(), "{c}");
    }

    // Skip the first: the instance goes on to the ERP notification and completes.
    let encoded = |key: &str| key.replace('/', "%2F");
    let skipped = t.post_empty(&format!("/v1/dead-letters/{}/skip", encoded(&first))).await.expect(200).json();
    assert_eq!(skipped["key"], first.as_str());
    assert_eq!(skipped["status"], "skipped");
    let detail = wait_for_status(&t, &first_instance, "completed").await;
    assert_eq!(detail["instance"]["outcome"], "replenished");
    let skip = detail["timeline"].as_array().unwrap().iter().find(|h| h.to_string().contains("skip"));
    assert!(skip.is_some_and(|s| s["actor"] == "test"), "the timeline says who skipped: {}", detail["timeline"]);
    let statuses: Vec<(&str, &str)> = detail["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["key"].as_str().unwrap(), o["status"].as_str().unwrap()))
        .collect();
    assert!(statuses.contains(&(first.as_str(), "skipped")), "{statuses:?}");
    assert!(statuses.contains(&(format!("{first_instance}/notify").as_str(), "delivered")), "{statuses:?}");
    let reply = t.post_empty(&format!("/v1/dead-letters/{}/skip", encoded(&first))).await;
    assert_error(&reply, 409, "conflict", "invalid_request", &["skipped"]);

    // Retry the second: sent again, refused again, dead again.
    let retried = t.post_empty(&format!("/v1/dead-letters/{}/retry", encoded(&second))).await.expect(200).json();
    assert_eq!(retried["key"], second.as_str());
    assert_ne!(retried["status"], "dead", "{retried}");
    wait_for("the retried action to be dead again", async || {
        let page = t.get(&format!("/v1/dead-letters?instance={second_instance}")).await.expect(200).json();
        (page["dead_letters"].as_array()?.len() == 1).then_some(())
    })
    .await;

    // Compensate it: the instance fails.
    let abandoned = t.post_empty(&format!("/v1/dead-letters/{}/compensate", encoded(&second))).await.expect(200).json();
    assert_eq!(abandoned["key"], second.as_str());
    assert_ne!(abandoned["status"], "dead");
    wait_for_status(&t, &second_instance, "failed").await;
    assert_eq!(t.get("/v1/dead-letters").await.expect(200).json(), json!({"dead_letters": []}));

    // Unknown keys; a key with a bare `/` is two path segments, so no such route.
    let reply = t.post_empty("/v1/dead-letters/nothing%2Ftransfer/retry").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["nothing/transfer"]);
    let reply = t.post_empty(&format!("/v1/dead-letters/{second}/retry")).await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["no route"]);
    t.close().await;
}

/// Cancelling records who and why, cancels the open task, and ends the instance; an ended
/// instance cannot be cancelled again.
async fn an_instance_is_cancelled_with_its_reason(t: TestApp) {
    put_locations(&t, &hierarchy(), None).await.expect(200);
    upload(&t, REPLENISHMENT).await.expect(201);
    t.ingest(&stockout("so-1", "S077", "PEN-BLUE")).await;
    let task =
        wait_for("the approval task", async || inbox(&t, "?location=R-SOUTH", None).await.into_iter().next()).await;
    let instance = task["instance"].as_str().unwrap().to_owned();
    let detail = t.get(&format!("/v1/instances/{instance}")).await.expect(200).json();
    assert_eq!(detail["instance"]["status"], "running");
    assert!(
        detail["pending"].as_array().unwrap().iter().all(|p| p["due_at"].is_string() && p["command"].is_object()),
        "pending timers and commands have due times: {}",
        detail["pending"]
    );

    let reply = t
        .call(Method::POST, &format!("/v1/instances/{instance}/cancel"), None, Some(("application/json", "{".into())))
        .await;
    assert_error(&reply, 400, "malformed_json", "invalid_request", &[]);
    let reply = t.post_json(&format!("/v1/instances/{instance}/cancel"), &json!({"why": "x"})).await;
    assert_error(&reply, 422, "validation_failed", "invalid_request", &["why"]);

    let cancelled = t
        .post_json(&format!("/v1/instances/{instance}/cancel"), &json!({"reason": "shelf refilled from the back room"}))
        .await
        .expect(200)
        .json();
    assert_eq!(cancelled["id"], instance.as_str());
    let detail = wait_for_status(&t, &instance, "cancelled").await;
    let entry = detail["timeline"].as_array().unwrap().iter().find(|h| h["kind"] == "cancelled").expect("cancelled");
    assert_eq!(entry["actor"], "test");
    assert_eq!(entry["data"]["reason"], "shelf refilled from the back room");
    assert_eq!(detail["tasks"][0]["status"], "cancelled");
    assert_eq!(inbox(&t, "", None).await, Vec::<Value>::new());

    let reply = t.post_empty(&format!("/v1/instances/{instance}/cancel")).await;
    assert_error(&reply, 409, "conflict", "invalid_request", &["ended"]);
    let reply = t.post_empty("/v1/instances/nothing/cancel").await;
    assert_error(&reply, 404, "not_found", "invalid_request", &["nothing"]);
    t.close().await;
}

/// A store associate's key reads the operation, but may not upload or (de)activate workflows,
/// save locations, cancel instances, resolve dead letters, or take a store manager's task.
async fn a_key_without_the_admin_role_reads_and_decides_but_does_not_edit(t: TestApp) {
    let clerk = t.key("clerk", &["store_associate"], &[]).await;
    let me = Some(clerk.as_str());
    let yaml = Some(("application/yaml", REPLENISHMENT.to_owned()));
    let reply = t.call(Method::POST, "/v1/workflows", me, yaml.clone()).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["clerk", "edit workflows", "admin"]);
    assert_eq!(t.get("/v1/workflows").await.expect(200).json(), json!({"workflows": []}), "nothing was saved");
    t.call(Method::POST, "/v1/workflows/validate", me, yaml).await.expect(200);

    put_locations(&t, &hierarchy(), None).await.expect(200);
    upload(&t, REPLENISHMENT).await.expect(201);
    for (method, uri) in [
        (Method::POST, "/v1/workflows/stockout_replenishment/versions/1/deactivate"),
        (Method::POST, "/v1/workflows/stockout_replenishment/versions/1/activate"),
        (Method::POST, "/v1/instances/any/cancel"),
        (Method::POST, "/v1/dead-letters/any%2Fstep/skip"),
        (Method::POST, "/v1/dead-letters/any%2Fstep/retry"),
        (Method::POST, "/v1/dead-letters/any%2Fstep/compensate"),
    ] {
        let reply = t.call(method.clone(), uri, me, None).await;
        assert_error(&reply, 403, "forbidden", "permission_error", &["clerk"]);
    }
    let reply = put_locations(&t, &hierarchy(), me).await;
    assert_error(&reply, 403, "forbidden", "permission_error", &["edit locations"]);

    for uri in [
        "/v1/workflows",
        "/v1/workflows/stockout_replenishment",
        "/v1/workflows/stockout_replenishment/versions/1",
        "/v1/instances",
        "/v1/tasks",
        "/v1/locations",
    ] {
        t.call(Method::GET, uri, me, None).await.expect(200);
    }
    for uri in ["/v1/dead-letters", "/v1/connectors", "/v1/audit"] {
        let reply = t.call(Method::GET, uri, me, None).await;
        assert_error(&reply, 403, "forbidden", "permission_error", &["clerk", "store_associate"]);
    }

    // The clerk sees the store manager's task but may not take it; S042's manager decides it.
    t.ingest(&stockout("so-1", "S042", "PEN-BLUE")).await;
    let task = wait_for("the approval task", async || inbox(&t, "", me).await.into_iter().next()).await;
    let id = task["id"].as_str().unwrap();
    let body = Some(("application/json", json!({"outcome": "reject", "comment": "not now"}).to_string()));
    for action in ["claim", "decision"] {
        let reply = t.call(Method::POST, &format!("/v1/tasks/{id}/{action}"), me, body.clone()).await;
        assert_error(&reply, 403, "forbidden", "permission_error", &["store_manager", "clerk", "store_associate"]);
    }
    let manager = t.key("manager", &["store_manager"], &["S042"]).await;
    let boss = Some(manager.as_str());
    let claimed = t.call(Method::POST, &format!("/v1/tasks/{id}/claim"), boss, None).await.expect(200).json();
    assert_eq!(claimed["claimed_by"], "manager");
    let decided = t.call(Method::POST, &format!("/v1/tasks/{id}/decision"), boss, body).await.expect(200).json();
    assert_eq!((decided["decided_by"].as_str(), decided["outcome"].as_str()), (Some("manager"), Some("reject")));
    let detail = wait_for_status(&t, task["instance"].as_str().unwrap(), "completed").await;
    assert_eq!(detail["instance"]["outcome"], "rejected");

    // The new codes are explained on the error page.
    let page = t.get_anonymous("/docs/errors").await.expect(200).text();
    for code in ["forbidden", "conflict", "definition_invalid", "task_refused"] {
        assert!(page.contains(&format!("id=\"{code}\"")), "/docs/errors has no entry for {code}");
    }
    t.close().await;
}

/// Random definitions, decisions and location batches: never a server error, and every refusal
/// is in the one error shape.
#[test]
fn random_engine_bodies_never_cause_a_server_error() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let t = runtime.block_on(TestApp::sqlite());
    runtime.block_on(async {
        put_locations(&t, &hierarchy(), None).await.expect(200);
        upload(&t, REPLENISHMENT).await.expect(201);
        t.ingest(&stockout("so-1", "S042", "PEN-BLUE")).await;
    });
    let task = runtime.block_on(wait_for("the task", async || inbox(&t, "", None).await.into_iter().next()));
    let decision_uri = format!("/v1/tasks/{}/decision", task["id"].as_str().unwrap());

    // Definitions: the replenishment text cut, spliced and sprinkled with odd fragments.
    let fragment = prop::sample::select(vec![
        "",
        "\n",
        ":",
        "- ",
        "{",
        "}",
        "[",
        "]",
        "'",
        "\"",
        "&a",
        "*a",
        "!!binary",
        "next: nowhere",
        "kind: task",
        "kind: wait",
        "due: -1h",
        "outcomes: {}",
        "steps: []",
        "\t",
        "\u{feff}",
        "é",
        "<<: *a",
        "? x",
        "%YAML 1.2",
        "---",
        "...",
        "|",
        ">",
        "#",
        "0x10",
        "1e999",
        "null",
        "~",
    ]);
    let definition = (0..REPLENISHMENT.len(), 0..REPLENISHMENT.len(), prop::collection::vec(fragment, 0..6)).prop_map(
        |(a, b, fragments)| {
            let (a, b) = (a.min(b), a.max(b));
            let cut = |i: usize| (0..=i).rev().find(|i| REPLENISHMENT.is_char_boundary(*i)).unwrap_or(0);
            format!("{}{}{}", &REPLENISHMENT[..cut(a)], fragments.concat(), &REPLENISHMENT[cut(b)..])
        },
    );
    let odd = prop::sample::select(vec![
        json!(null),
        json!(""),
        json!("\u{0}"),
        json!([]),
        json!({}),
        json!(-1),
        json!(1e300),
        json!("approve"),
        json!("reject"),
        json!({"a": {"b": [1, "\u{7}"]}}),
        json!("x".repeat(3000)),
        json!(true),
    ]);
    let decision = (odd.clone(), odd.clone(), odd.clone()).prop_map(|(outcome, fields, comment)| {
        json!({"outcome": outcome, "fields": fields, "comment": comment}).to_string()
    });
    let locations =
        (0usize..5, prop::sample::select(vec!["id", "kind", "parent", "time_zone", "opening_hours", "name"]), odd)
            .prop_map(|(i, field, value)| {
                let mut all = hierarchy();
                all[i][field] = value;
                all.to_string()
            });
    let request = prop_oneof![
        definition.prop_map(|d| (Method::POST, "/v1/workflows/validate".to_owned(), "application/yaml", d)),
        decision.prop_map({
            let uri = decision_uri.clone();
            move |d| (Method::POST, uri.clone(), "application/json", d)
        }),
        locations.prop_map(|l| (Method::PUT, "/v1/locations".to_owned(), "application/json", l)),
    ];
    let mut runner =
        TestRunner::new(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() });
    runner
        .run(&request, |(method, uri, content_type, body)| {
            let reply = runtime.block_on(t.call(method.clone(), &uri, None, Some((content_type, body.clone()))));
            prop_assert!(
                !reply.status.is_server_error(),
                "{} on {method} {uri} with {body:?}: {}",
                reply.status,
                reply.text()
            );
            let answer = reply.json();
            if !reply.status.is_success() {
                let code = answer["code"].as_str().unwrap_or_default();
                let link = format!("/docs/errors#{code}");
                prop_assert_eq!(answer["link"].as_str(), Some(link.as_str()), "{}", answer);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(t.close());
}
