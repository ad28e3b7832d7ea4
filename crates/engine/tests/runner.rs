//! The runner against a real store: triggers, tasks, the outbox, and restarts.

use std::sync::Arc;
use std::time::Duration;

use backroom_engine::clock::SystemClock;
use backroom_engine::connector::{Connectors, InProcessConnector};
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_model::validate_event;
use backroom_store::{InstanceQuery, Store, StoreConfig, TaskQuery};
use serde_json::{Map, json};

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_instances_finish_on_their_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreConfig::sqlite(dir.path())).await.expect("store");
    let erp = Arc::new(InProcessConnector::new(|call| Ok(json!({"transfer_id": "TR-1", "op": call.operation}))));
    let engine = engine(&store, Arc::clone(&erp)).await;
    engine.save_definition(REPLENISHMENT, Some("ops-admin")).await.expect("v1");
    store.append(vec![stockout("v1-event", "STORE-0001", "SKU-1")]).await.expect("appended");
    let first = wait_for("the v1 task", async || {
        let q = TaskQuery { status: Some("open".into()), ..Default::default() };
        store.tasks(&q).await.ok()?.into_iter().next()
    })
    .await;

    // v2 renames the approving role and the outcome; the open v1 instance keeps v1's steps.
    let v2_text = REPLENISHMENT
        .replace("role: store_manager", "role: district_manager")
        .replace("outcome: replenished", "outcome: replenished_v2");
    let (v2, new) = engine.save_definition(&v2_text, Some("ops-admin")).await.expect("v2");
    assert!(new);
    assert_eq!(v2.version, 2);
    store.append(vec![stockout("v2-event", "STORE-0002", "SKU-1")]).await.expect("appended");
    let second = wait_for("the v2 task", async || {
        let q = TaskQuery { role: Some("district_manager".into()), status: Some("open".into()), ..Default::default() };
        store.tasks(&q).await.ok()?.into_iter().next()
    })
    .await;
    assert_eq!(first.role, "store_manager", "the v1 task keeps its role");
    for task in [&first, &second] {
        engine.decide_task(&task.id, "approve", Map::new(), None, "lead-1").await.expect("decided");
    }
    for (task, version, outcome) in [(&first, 1, "replenished"), (&second, 2, "replenished_v2")] {
        let done = wait_for("completion", async || {
            let i = store.instance(&task.instance).await.ok()??;
            (i.status == "completed").then_some(i)
        })
        .await;
        assert_eq!((done.version, done.outcome.as_deref()), (version, Some(outcome)));
    }

    // Deactivating v2 sends new events to v1 again (the newest active version).
    engine.set_active("stockout_replenishment", 2, false, "ops-admin").await.expect("deactivated");
    store.append(vec![stockout("v1-again", "STORE-0003", "SKU-1")]).await.expect("appended");
    let third = wait_for("a task from v1 again", async || {
        let q = TaskQuery { role: Some("store_manager".into()), status: Some("open".into()), ..Default::default() };
        store.tasks(&q).await.ok()?.into_iter().next()
    })
    .await;
    assert_eq!(store.instance(&third.instance).await.expect("read").expect("instance").version, 1);
    engine.shutdown().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_system_opens_the_breaker_and_work_resumes_after_a_probe() {
    use backroom_engine::connector::ConnectorError;
    use backroom_engine::runner::{BreakerConfig, BreakerState};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreConfig::sqlite(dir.path())).await.expect("store");
    let up = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let erp = {
        let (up, calls) = (Arc::clone(&up), Arc::clone(&calls));
        Arc::new(InProcessConnector::new(move |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            if up.load(Ordering::SeqCst) {
                Ok(json!({"transfer_id": "TR-1"}))
            } else {
                Err(ConnectorError::Retryable { message: "503 Service Unavailable".into(), retry_after: None })
            }
        }))
    };
    let config = EngineConfig {
        poll: Duration::from_millis(50),
        breaker: BreakerConfig {
            failures_to_open: 3,
            open_for: chrono::Duration::milliseconds(600),
            max_open_for: chrono::Duration::seconds(2),
        },
        ..EngineConfig::default()
    };
    let engine = Engine::start(store.clone(), config, Connectors::new().with("erp", erp), Arc::new(SystemClock))
        .await
        .expect("engine");
    let auto = r#"
id: auto_transfer
title: Automatic transfer on stockout
trigger:
  event: inventory.stockout_reported
  key: event.data.location + "/" + event.data.item.sku
steps:
  - id: transfer
    kind: action
    connector: erp
    operation: create_transfer
    with: { sku: event.data.item.sku, to: event.data.location }
    retry: { attempts: 50, backoff: 50ms, max_interval: 100ms }
    next: done
  - { id: done, kind: end, outcome: replenished }
"#;
    engine.save_definition(auto, None).await.expect("saved");
    let events: Vec<_> = (0..5).map(|i| stockout(&format!("b-{i}"), "STORE-0009", &format!("SKU-{i}"))).collect();
    store.append(events).await.expect("appended");

    wait_for("the breaker to open", async || {
        (engine.breakers().get("erp").map(|b| b.state) == Some(BreakerState::Open)).then_some(())
    })
    .await;
    let while_open = calls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(calls.load(Ordering::SeqCst), while_open, "no calls while the breaker is open");

    up.store(true, Ordering::SeqCst);
    let done = wait_for("every instance to complete after the probe", async || {
        let q = InstanceQuery { status: Some("completed".into()), ..Default::default() };
        let n = store.instances(&q).await.ok()?.len();
        (n == 5).then_some(n)
    })
    .await;
    assert_eq!(done, 5);
    assert_eq!(engine.breakers()["erp"].state, BreakerState::Closed);
    engine.shutdown().await;
    store.close().await;
}
