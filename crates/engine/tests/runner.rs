//! The runner against a real store: triggers, tasks, the outbox, and restarts.

use std::sync::Arc;
use std::time::Duration;

use backroom_engine::clock::SystemClock;
use backroom_engine::connector::{Connectors, InProcessConnector};
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_model::validate_event;
use backroom_store::{InstanceQuery, Store, StoreConfig, TaskQuery};
use serde_json::{Map, Value, json};

const REPLENISHMENT: &str = include_str!("runner/replenishment.yaml");

fn stockout(id: &str, location: &str, sku: &str) -> backroom_model::NewEvent {
    validate_event(&json!({
        "id": id, "type": "inventory.stockout_reported", "source": "store-app",
        "occurred_at": "2026-11-20T10:00:00Z",
        "data": {"location": location, "item": {"sku": sku}, "reported_by": "associate-7"},
    }))
    .expect("valid event")
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

async fn engine(store: &Store, erp: Arc<InProcessConnector>) -> Engine {
    let config = EngineConfig { poll: Duration::from_millis(50), ..EngineConfig::default() };
    let connectors = Connectors::new().with("erp", erp);
    Engine::start(store.clone(), config, connectors, Arc::new(SystemClock)).await.expect("engine starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stockout_becomes_an_approved_transfer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreConfig::sqlite(dir.path())).await.expect("store");
    let erp = Arc::new(InProcessConnector::new(|call| {
        Ok(json!({"transfer_id": format!("TR-{}", call.idempotency_key.as_deref().unwrap_or("?").len())}))
    }));
    let engine = engine(&store, Arc::clone(&erp)).await;
    let (record, new) = engine.save_definition(REPLENISHMENT, Some("ops-admin")).await.expect("saved");
    assert!(new);
    assert_eq!(record.version, 1);
    let (again, new) = engine.save_definition(REPLENISHMENT, Some("ops-admin")).await.expect("saved");
    assert!(!new, "the same text is not a new version");
    assert_eq!(again.version, 1);

    store.append(vec![stockout("so-1", "STORE-0042", "SKU-1")]).await.expect("appended");
    let task = wait_for("the approval task", async || {
        let q = TaskQuery { role: Some("store_manager".into()), status: Some("open".into()), ..Default::default() };
        store.tasks(&q).await.ok()?.into_iter().next()
    })
    .await;
    assert_eq!(task.location.as_deref(), Some("STORE-0042"));
    assert_eq!(task.title, "Transfer SKU-1 to STORE-0042");
    assert!(task.due_at.is_some());

    // A second report of the same shelf goes to the open instance, not to a new one.
    store.append(vec![stockout("so-2", "STORE-0042", "SKU-1")]).await.expect("appended");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = store.instances(&InstanceQuery::default()).await.expect("instances");
    assert_eq!(all.len(), 1, "one instance per open correlation key");

    let wrong = engine.decide_task(&task.id, "maybe", Map::new(), None, "manager-1").await;
    assert!(wrong.is_err(), "an outcome the task does not allow is refused");
    let decided = engine
        .decide_task(&task.id, "approve", Map::new(), Some("DC has plenty".into()), "manager-1")
        .await
        .expect("decided");
    assert_eq!(decided.status, "decided");
    assert_eq!(decided.decided_by.as_deref(), Some("manager-1"));

    let instance = wait_for("completion", async || {
        let i = store.instance(&task.instance).await.ok()??;
        (i.status == "completed").then_some(i)
    })
    .await;
    assert_eq!(instance.outcome.as_deref(), Some("replenished"));
    assert_eq!(erp.applied(), 1);
    let history = store.history(&instance.id).await.expect("history");
    let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
    assert!(
        kinds.starts_with(&["started", "step_completed", "step_completed", "branch_taken", "task_opened"]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"event_received"), "{kinds:?}");
    let decided = history.iter().find(|h| h.kind == "task_decided").expect("decision recorded");
    assert_eq!(decided.actor.as_deref(), Some("manager-1"));
    let route = history.iter().find(|h| h.step.as_deref() == Some("route")).expect("decide step");
    assert_eq!(route.data["matched"], json!(["empty"]));
    let outbox = store.outbox(Some(&instance.id), None, 10).await.expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].key, format!("{}/transfer", instance.id));
    assert_eq!(outbox[0].status, "delivered");
    assert_eq!(outbox[0].payload, json!({"sku": "SKU-1", "to": "STORE-0042", "quantity": 12}));
    engine.shutdown().await;
    store.close().await;
    let _ = Value::Null;
}
