//! Every route of the OpenAPI document against the permission table: 401 without credentials,
//! 403 for a caller whose roles do not allow the route, 403 or filtered results outside the
//! caller's location scope, and allowed for the role the route is meant for. A route added
//! without a row in `permissions::ROUTES` fails here, as does a route made public by accident.
//! On SQLite, and on PostgreSQL when `BACKROOM_TEST_DATABASE_URL` is set.

mod support;

use axum::http::Method;
use backroom_model::Role;
use backroom_server::permissions::{Action, ROUTES, role_allows, route_action};
use serde_json::{Value, json};
use support::workflows::{REPLENISHMENT, hierarchy, inbox, put_locations, stockout, upload, wait_for};
use support::{Reply, TestApp, assert_error, sale};

on_both_backends!(every_route_is_authenticated_authorised_and_scoped);

/// The routes outside `/v1`, by operation id: open without a bearer credential (logging in is
/// how a person gets one; a webhook delivery is authenticated by its signature, tested in
/// `webhooks.rs`). Adding one is a decision to make here, deliberately.
const PUBLIC: &[&str] = &["healthz", "readyz", "metrics", "openapi", "errors", "login", "receive_webhook"];

/// One operation of the API.
#[derive(Debug, Clone)]
struct Operation {
    id: String,
    method: Method,
    /// The path template, such as `/v1/tasks/{id}`.
    template: String,
}

fn operations() -> Vec<Operation> {
    let doc = serde_json::to_value(backroom_server::openapi()).expect("openapi");
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operation id"));
            ops.push(Operation { id: id.to_owned(), method, template: path.clone() });
        }
    }
    ops.sort_by(|a, b| a.id.cmp(&b.id));
    ops
}

/// What the scenario created, to fill path parameters with things that exist.
struct Scene {
    task: String,
    instance: String,
}

impl Scene {
    fn uri(&self, op: &Operation) -> String {
        let id = if op.template.starts_with("/v1/instances") { &self.instance } else { &self.task };
        op.template
            .replace("{id}", id)
            .replace("{name}", "stockout_replenishment")
            .replace("{workflow}", "stockout_replenishment")
            .replace("{version}", "1")
            .replace("{type}", "pos.sale")
            .replace("{key}", "none%2Fstep")
            .replace("{login}", "nobody")
            .replace("{action}", "refund")
            .replace("{source}", "nowhere")
            .replace("{instance}", &self.instance)
            .replace("{step}", "approve")
    }

    /// A body the route can read (so that a refusal is about the caller, not the body).
    fn body(&self, op: &Operation) -> Option<(&'static str, String)> {
        match (op.method.as_str(), op.id.as_str()) {
            ("GET", _) => None,
            (_, "upload_workflow" | "validate_workflow") => Some(("application/yaml", REPLENISHMENT.to_owned())),
            (_, "ingest_events") => Some(("application/json", stockout("perm-probe", "S042", "PEN-RED").to_string())),
            (_, "save_locations") => Some(("application/json", hierarchy().to_string())),
            (_, "ingest_document") => Some(("application/xml", "<Unknown/>".to_owned())),
            _ => Some(("application/json", json!({}).to_string())),
        }
    }
}

/// The role a route is meant for: the store manager where the table allows it (the role the
/// scenario's task is for), otherwise the first role other than admin that it allows.
fn intended(action: Action) -> Role {
    if role_allows(Role::StoreManager, action) {
        return Role::StoreManager;
    }
    Role::ALL.into_iter().find(|r| *r != Role::Admin && role_allows(*r, action)).unwrap_or(Role::Admin)
}

/// The collection a list answers with, if the operation lists.
fn listed(reply: &Reply) -> Option<Vec<Value>> {
    let body = reply.json();
    let object = body.as_object()?;
    object.values().find_map(|v| v.as_array().cloned()).or_else(|| body.as_array().cloned())
}

async fn every_route_is_authenticated_authorised_and_scoped(t: TestApp) {
    put_locations(&t, &hierarchy(), None).await.expect(200);
    upload(&t, REPLENISHMENT).await.expect(201);
    t.ingest(&stockout("so-1", "S042", "PEN-BLUE")).await;
    t.ingest(&sale("sale-1", "S042", 2)).await;
    let task = wait_for("the approval task", async || inbox(&t, "", None).await.into_iter().next()).await;
    let scene = Scene {
        task: task["id"].as_str().expect("task id").to_owned(),
        instance: task["instance"].as_str().expect("instance").to_owned(),
    };

    let ops = operations();
    let (v1, public): (Vec<_>, Vec<_>) = ops.into_iter().partition(|o| o.template.starts_with("/v1/"));
    let mut public_ids: Vec<&str> = public.iter().map(|o| o.id.as_str()).collect();
    public_ids.sort_unstable();
    let mut expected_public = PUBLIC.to_vec();
    expected_public.sort_unstable();
    assert_eq!(public_ids, expected_public, "routes outside /v1 are open without credentials");

    // Every route declares its permission.
    let undeclared: Vec<&str> = v1.iter().map(|o| o.id.as_str()).filter(|id| route_action(id).is_none()).collect();
    assert!(undeclared.is_empty(), "routes without a row in permissions::ROUTES: {undeclared:?}");
    let stale: Vec<&str> = ROUTES.iter().map(|(id, _)| *id).filter(|id| !v1.iter().any(|o| o.id == *id)).collect();
    assert!(stale.is_empty(), "rows in permissions::ROUTES for no route: {stale:?}");

    // 401 without credentials, and with an unknown key.
    for op in &v1 {
        let uri = scene.uri(op);
        let reply = t.call(op.method.clone(), &uri, Some(""), scene.body(op)).await;
        assert_error(&reply, 401, "unauthorized", "authentication_error", &[]);
        let reply = t
            .call(op.method.clone(), &uri, Some("brk_000000000000000000000000000000000000000000000000"), scene.body(op))
            .await;
        assert_error(&reply, 401, "unauthorized", "authentication_error", &[]);
    }

    // 403 for a key with no role, and for every role the table does not allow the route.
    let nobody = t.key("no-roles", &[], &[]).await;
    let mut keys = std::collections::HashMap::new();
    for role in Role::ALL {
        keys.insert(role, t.key(&format!("{role}-company"), &[role.as_str()], &[]).await);
    }
    let mut refusals = 0;
    for op in &v1 {
        let action = route_action(&op.id).expect("declared");
        let uri = scene.uri(op);
        let reply = t.call(op.method.clone(), &uri, Some(&nobody), scene.body(op)).await;
        assert_error(&reply, 403, "forbidden", "permission_error", &["no-roles", action.describe()]);
        for role in Role::ALL.into_iter().filter(|r| !role_allows(*r, action)) {
            let reply = t.call(op.method.clone(), &uri, Some(&keys[&role]), scene.body(op)).await;
            let body = assert_error(&reply, 403, "forbidden", "permission_error", &[role.as_str()]);
            assert!(body["message"].as_str().unwrap_or("").contains(action.describe()), "{} {body}", op.id);
            refusals += 1;
        }
    }
    assert!(refusals > 100, "the table refuses roles on many routes; {refusals} refusals");

    // Outside the caller's scope: a key of the intended role in the other region is refused a
    // resource at S042, and a list shows it nothing; the same role in S042's region sees it.
    for op in v1.iter().filter(|o| route_action(&o.id).expect("declared").is_located()) {
        let role = intended(route_action(&op.id).expect("declared"));
        let south = t.key(&format!("{}-south", op.id), &[role.as_str()], &["R-SOUTH"]).await;
        let north = t.key(&format!("{}-north", op.id), &[role.as_str()], &["R-NORTH"]).await;
        let uri = scene.uri(op);
        let reply = t.call(op.method.clone(), &uri, Some(&south), scene.body(op)).await;
        if op.method == Method::GET && !op.template.ends_with("}") {
            assert_eq!(reply.status.as_u16(), 200, "{} for a key elsewhere: {}", op.id, reply.text());
            assert_eq!(listed(&reply), Some(vec![]), "{} shows another region's records", op.id);
            let seen = t.call(op.method.clone(), &uri, Some(&north), None).await.expect(200);
            assert!(!listed(&seen).unwrap_or_default().is_empty(), "{} shows the region's own records", op.id);
        } else {
            assert_error(&reply, 403, "forbidden", "permission_error", &["R-SOUTH"]);
        }
    }

    // Allowed for the role it is meant for (the answer may still refuse the request itself).
    for op in &v1 {
        let role = intended(route_action(&op.id).expect("declared"));
        let reply = t.call(op.method.clone(), &scene.uri(op), Some(&keys[&role]), scene.body(op)).await;
        assert!(
            ![401, 403].contains(&reply.status.as_u16()),
            "{} {} refused to {role}: {} {}",
            op.method,
            op.id,
            reply.status,
            reply.text()
        );
    }
    t.close().await;
}
