//! The runner: carries the functional core out against the store.
//!
//! One [`Engine`] per process runs three loops:
//! - **triggers** read the log after the engine's cursor, start instances of the workflows an
//!   event triggers (or deliver it to the open instance with the same correlation key), and move
//!   the cursor in the same transaction (the move is compare-and-set, so two processes never
//!   consume the same events);
//! - **inbox** takes due commands and timers, applies them, and persists each instance's
//!   transition with its history and effects in one transaction (grouped across instances by
//!   the store's writer);
//! - **outbox** delivers actions to their connectors with the idempotency key, retries retryable
//!   failures with backoff, keeps a circuit breaker per connector, and feeds the result back to
//!   the instance in the same transaction that marks the delivery.
//!
//! On PostgreSQL several processes share the work: inbox and outbox rows are claimed with
//! `FOR UPDATE SKIP LOCKED` under leases that expire when a process dies, and every instance
//! write checks the revision it was computed from, so a transition is never applied twice.

mod breaker;
mod drive;
mod governance;
mod loops;
mod registry;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use backroom_model::Location;
use backroom_store::{
    AuditEntry, DefinitionRecord, EngineWrite, InstanceRecord, OutboxRecord, OutboxUpdate, Store, StoreError,
    TaskRecord,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{Notify, broadcast, mpsc, watch};

pub use breaker::{Breaker, BreakerConfig, BreakerState};
pub use governance::{MAX_DELEGATION_DAYS, NewDelegation, Overturned};

use crate::connector::Connectors;
use crate::core::{ActionOutcome, Clock, Command, Delegated, Directory, Instance, Rejection, TokenState};
use crate::workflow::{Problems, Workflow};

/// How the runner behaves.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This process's name in leases (unique per process).
    pub owner: String,
    /// How long a claim on inbox or outbox work lasts before another process may take it.
    pub lease: chrono::Duration,
    /// How often to look for work that no notification announced (other processes' events,
    /// due timers).
    pub poll: std::time::Duration,
    /// Events read per trigger batch; rows per claim.
    pub batch: usize,
    /// Deliveries in flight at once.
    pub deliveries_in_flight: usize,
    /// Longest wait for a connector call.
    pub call_timeout: std::time::Duration,
    /// Directory of built-in definitions and the table files they refer to.
    pub workflows_dir: Option<PathBuf>,
    /// Circuit breakers.
    pub breaker: BreakerConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            owner: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()),
            lease: chrono::Duration::seconds(15),
            poll: std::time::Duration::from_millis(250),
            batch: 1000,
            deliveries_in_flight: 256,
            call_timeout: std::time::Duration::from_secs(10),
            workflows_dir: None,
            breaker: BreakerConfig::default(),
        }
    }
}

/// What a person does with a dead-lettered action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterAction {
    /// Deliver it again (same idempotency key); the instance stays on the step.
    Retry,
    /// Let the instance go on as if it had succeeded.
    Skip,
    /// Fail the instance and undo what took effect.
    Compensate,
}

/// What the engine announces after a commit (for benchmarks, tests and live views).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// The instance.
    pub instance: String,
    /// Its status after the commit.
    pub status: String,
    /// The `seq` of the event that started it.
    pub trigger_seq: Option<i64>,
    /// Tasks opened by the commit.
    pub tasks_opened: usize,
}

/// Counters since start.
#[derive(Debug, Default)]
pub struct Counters {
    /// Instances started.
    pub started: AtomicU64,
    /// Instances that reached an end (completed, failed, cancelled).
    pub ended: AtomicU64,
    /// Steps completed (durable transitions).
    pub steps: AtomicU64,
    /// Actions delivered.
    pub delivered: AtomicU64,
    /// Instance writes refused because another writer moved the instance first.
    pub conflicts: AtomicU64,
}

/// A refused or failed engine operation, for the API.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Not found.
    #[error("{0}")]
    NotFound(String),
    /// The command does not fit the instance's state.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A definition is not valid.
    #[error("{0}")]
    Invalid(Problems),
    /// The request is not valid.
    #[error("{0}")]
    BadRequest(String),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) config: EngineConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) connectors: Connectors,
    registry: RwLock<registry::Registry>,
    locations: RwLock<Arc<HashMap<String, Location>>>,
    policies: RwLock<governance::PolicyCache>,
    pub(crate) lease_new_work: bool,
    pub(crate) counters: Counters,
    pub(crate) notices: broadcast::Sender<Notice>,
    pub(crate) wake_inbox: Notify,
    pub(crate) outbox_tx: mpsc::UnboundedSender<OutboxRecord>,
    pub(crate) breakers: Mutex<HashMap<String, Breaker>>,
    pub(crate) shutdown: watch::Sender<bool>,
    /// Open instances this process committed last, with their revision: a transition starts
    /// from here instead of reading the store. A stale entry (another process moved the
    /// instance) fails its write with a conflict and is dropped.
    cache: Mutex<HashMap<String, (i64, Instance)>>,
}

/// Instances kept in the cache at most.
const CACHE_LIMIT: usize = 200_000;

/// The locations known at one moment.
pub(crate) struct LocationMap(Arc<HashMap<String, Location>>);

impl Directory for LocationMap {
    fn location(&self, id: &str) -> Option<Location> {
        self.0.get(id).cloned()
    }
}

/// The running engine of one process. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Engine {
    /// Loads the saved definitions and locations, saves the built-in definitions of
    /// `config.workflows_dir` (a new version only when one changed), and starts the loops.
    pub async fn start(
        store: Store,
        config: EngineConfig,
        connectors: Connectors,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, EngineError> {
        let (outbox_tx, outbox_rx) = mpsc::unbounded_channel();
        let (shutdown, _) = watch::channel(false);
        let lease_new_work = store.backend_name() == "postgres";
        let inner = Arc::new(Inner {
            store,
            config,
            clock,
            connectors,
            registry: RwLock::new(registry::Registry::default()),
            locations: RwLock::new(Arc::new(HashMap::new())),
            policies: RwLock::new(governance::PolicyCache::default()),
            lease_new_work,
            counters: Counters::default(),
            notices: broadcast::channel(65_536).0,
            wake_inbox: Notify::new(),
            outbox_tx,
            breakers: Mutex::new(HashMap::new()),
            shutdown,
            cache: Mutex::new(HashMap::new()),
        });
        inner.reload_locations().await?;
        inner.reload_policies().await?;
        inner.refresh_definitions().await?;
        if let Some(dir) = inner.config.workflows_dir.clone() {
            inner.save_builtin(&dir).await?;
        }
        let engine = Engine { inner: Arc::clone(&inner), tasks: Arc::new(Mutex::new(Vec::new())) };
        let handles = vec![
            tokio::spawn(loops::triggers(Arc::clone(&inner))),
            tokio::spawn(loops::inbox(Arc::clone(&inner))),
            tokio::spawn(loops::outbox(Arc::clone(&inner), outbox_rx)),
        ];
        if let Ok(mut tasks) = engine.tasks.lock() {
            tasks.extend(handles);
        }
        Ok(engine)
    }

    /// Stops the loops (work in flight is finished or left for the next start).
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        self.inner.wake_inbox.notify_waiters();
        let handles: Vec<_> = self.tasks.lock().map(|mut t| t.drain(..).collect()).unwrap_or_default();
        for h in handles {
            let _ = h.await;
        }
    }

    /// Announcements after each commit.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.inner.notices.subscribe()
    }

    /// Counters since start.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// The circuit breakers, by connector.
    pub fn breakers(&self) -> HashMap<String, Breaker> {
        self.inner.breakers.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// The connectors' names.
    pub fn connector_names(&self) -> Vec<String> {
        self.inner.connectors.names()
    }

    /// The health the named connector reports, if it keeps a record.
    pub fn connector_health(&self, name: &str) -> Option<crate::connector::ConnectorHealth> {
        self.inner.connectors.health(name)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    // ----- definitions ----------------------------------------------------------------------

    /// Validates and saves a definition: a new version when the text differs from the newest
    /// saved one (active at once), the newest one unchanged otherwise. Returns the record and
    /// whether it is new.
    pub async fn save_definition(
        &self,
        source: &str,
        actor: Option<&str>,
    ) -> Result<(DefinitionRecord, bool), EngineError> {
        self.inner.save_definition(source, actor, "upload").await
    }

    /// Checks a definition without saving it.
    pub fn validate_definition(&self, name: &str, source: &str) -> Result<Workflow, Problems> {
        let resolve = registry::resolver(self.inner.config.workflows_dir.clone());
        crate::workflow::load(name, source, &resolve)
    }

    /// Activates or deactivates a version.
    pub async fn set_active(
        &self,
        workflow: &str,
        version: i64,
        active: bool,
        actor: &str,
    ) -> Result<DefinitionRecord, EngineError> {
        let records = self.inner.store.definitions(Some(workflow)).await?;
        let Some(record) = records.into_iter().find(|r| r.version == version) else {
            return Err(EngineError::NotFound(format!("workflow {workflow} has no version {version}")));
        };
        let entry = AuditEntry {
            before: Some(serde_json::json!({"active": record.active})),
            after: Some(serde_json::json!({"active": active})),
            ..AuditEntry::new(
                self.inner.clock.now(),
                actor,
                if active { "workflow.activated" } else { "workflow.deactivated" },
                &format!("workflow/{workflow}@{version}"),
            )
        };
        let write = EngineWrite {
            activations: vec![(workflow.to_owned(), version, active)],
            audit: vec![entry],
            ..Default::default()
        };
        self.inner.store.commit_engine(write, Vec::new()).await?;
        self.inner.refresh_definitions().await?;
        Ok(DefinitionRecord { active, ..record })
    }

    // ----- locations ------------------------------------------------------------------------

    /// Saves locations (whole: all are checked first, none is saved if one is wrong).
    pub async fn save_locations(&self, locations: Vec<Location>, actor: &str) -> Result<usize, EngineError> {
        let mut problems = Vec::new();
        for (i, l) in locations.iter().enumerate() {
            if let Err(errors) = l.validate() {
                for e in errors {
                    problems.push(format!("[{i}] ({}): {}: {}", l.id, e.path, e.message));
                }
            }
            if let Err(e) = crate::calendar::BusinessCalendar::for_location(l) {
                problems.push(format!("[{i}] ({}): {e}", l.id));
            }
        }
        if !problems.is_empty() {
            return Err(EngineError::BadRequest(problems.join("; ")));
        }
        let n = locations.len();
        let before = self.inner.directory().0;
        let now = self.inner.clock.now();
        let audit = locations
            .iter()
            .map(|l| AuditEntry {
                before: before.get(l.id.as_str()).and_then(|b| serde_json::to_value(b).ok()),
                after: serde_json::to_value(l).ok(),
                ..AuditEntry::new(now, actor, "location.saved", &format!("location/{}", l.id))
            })
            .collect();
        let write = EngineWrite {
            audit,
            locations: locations
                .into_iter()
                .map(|l| (l.id.to_string(), serde_json::to_value(&l).unwrap_or(Value::Null)))
                .collect(),
            ..Default::default()
        };
        self.inner.store.commit_engine(write, Vec::new()).await?;
        self.inner.reload_locations().await?;
        Ok(n)
    }

    /// The locations known.
    pub fn locations(&self) -> Vec<Location> {
        let map = self.inner.directory().0;
        let mut all: Vec<Location> = map.values().cloned().collect();
        all.sort_by_key(|a| a.id.to_string());
        all
    }

    /// The location codes at or below `code` in the hierarchy (for scoped inboxes).
    pub fn locations_under(&self, code: &str) -> Vec<String> {
        let map = self.inner.directory().0;
        map.values()
            .filter(|l| {
                let mut cursor = Some(l.id.to_string());
                let mut hops = 0;
                while let Some(c) = cursor {
                    if c == code {
                        return true;
                    }
                    hops += 1;
                    if hops > 16 {
                        return false;
                    }
                    cursor = map.get(&c).and_then(|x| x.parent.as_ref().map(ToString::to_string));
                }
                false
            })
            .map(|l| l.id.to_string())
            .chain(std::iter::once(code.to_owned()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    // ----- tasks, instances, dead letters ---------------------------------------------------

    /// Claims a task for `actor`.
    pub async fn claim_task(&self, task: &str, actor: &str) -> Result<TaskRecord, EngineError> {
        self.claim_task_as(task, actor, None).await
    }

    /// Claims a task for `actor`, acting through a delegation when `on_behalf_of` is given
    /// (segregation of duties then applies to both people).
    pub async fn claim_task_as(
        &self,
        task: &str,
        actor: &str,
        on_behalf_of: Option<Delegated>,
    ) -> Result<TaskRecord, EngineError> {
        let record = self.task_record(task).await?;
        let command = Command::TaskClaimed { task: task.to_owned(), actor: actor.to_owned(), on_behalf_of };
        self.inner.command_now(&record.instance, command, None).await?;
        self.task_record(task).await
    }

    /// Records a person's decision on a task; the instance moves on in the same transaction.
    pub async fn decide_task(
        &self,
        task: &str,
        outcome: &str,
        fields: Map<String, Value>,
        comment: Option<String>,
        actor: &str,
    ) -> Result<TaskRecord, EngineError> {
        self.decide_task_as(task, outcome, fields, comment, actor, None).await
    }

    /// Records a decision made through a delegation when `on_behalf_of` is given: history and
    /// audit show "bob for alice, delegation <id>", and segregation of duties applies to both.
    pub async fn decide_task_as(
        &self,
        task: &str,
        outcome: &str,
        fields: Map<String, Value>,
        comment: Option<String>,
        actor: &str,
        on_behalf_of: Option<Delegated>,
    ) -> Result<TaskRecord, EngineError> {
        let record = self.task_record(task).await?;
        let command = Command::TaskDecided {
            task: task.to_owned(),
            outcome: outcome.to_owned(),
            fields,
            comment,
            actor: actor.to_owned(),
            on_behalf_of,
        };
        self.inner.command_now(&record.instance, command, None).await?;
        self.task_record(task).await
    }

    async fn task_record(&self, task: &str) -> Result<TaskRecord, EngineError> {
        self.inner.store.task(task).await?.ok_or_else(|| EngineError::NotFound(format!("no task has the id {task}")))
    }

    /// Cancels an instance (its compensations run when actions took effect).
    pub async fn cancel(
        &self,
        instance: &str,
        actor: &str,
        reason: Option<String>,
    ) -> Result<InstanceRecord, EngineError> {
        let command = Command::Cancel { actor: actor.to_owned(), reason };
        self.inner.command_now(instance, command, None).await?;
        self.instance(instance).await
    }

    /// One instance.
    pub async fn instance(&self, id: &str) -> Result<InstanceRecord, EngineError> {
        self.inner
            .store
            .instance(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no instance has the id {id}")))
    }

    /// Acts on a dead-lettered action: `retry` sends it again, `skip` lets the instance go on
    /// as if it had succeeded, `compensate` fails the instance and undoes what took effect.
    pub async fn resolve_dead_letter(
        &self,
        key: &str,
        action: DeadLetterAction,
        actor: &str,
    ) -> Result<OutboxRecord, EngineError> {
        let Some(entry) = self.inner.store.outbox_entry(key).await? else {
            return Err(EngineError::NotFound(format!("no outbox entry has the key {key}")));
        };
        if entry.status != "dead" {
            return Err(EngineError::Conflict(format!("{key} is {}, not in the dead-letter list", entry.status)));
        }
        let (_, instance, _) = self.inner.load(&entry.instance).await?;
        let waiting = instance.tokens.iter().any(
            |t| matches!(&t.state, TokenState::Action { key: k } | TokenState::Compensation { key: k } if k == key),
        );
        if !waiting {
            return Err(EngineError::Conflict(format!(
                "instance {} no longer waits for {key} (it is {}): nothing to retry, skip or compensate",
                entry.instance,
                instance.status.as_str()
            )));
        }
        let now = self.inner.clock.now();
        let actor = actor.to_owned();
        let (command, status) = match action {
            DeadLetterAction::Retry => (Command::ActionRetried { key: key.to_owned(), actor }, "pending"),
            DeadLetterAction::Skip => {
                (Command::ActionResult { key: key.to_owned(), result: ActionOutcome::Skipped { actor } }, "skipped")
            }
            DeadLetterAction::Compensate => (
                Command::ActionResult { key: key.to_owned(), result: ActionOutcome::Compensate { actor } },
                "abandoned",
            ),
        };
        let retry = action == DeadLetterAction::Retry;
        let update = OutboxUpdate {
            key: key.to_owned(),
            status: status.to_owned(),
            attempts: retry.then_some(0),
            next_attempt_at: retry.then_some(now),
            last_error: None,
            response: None,
            only_pending: false,
        };
        self.inner.command_now(&entry.instance, command, Some(update)).await?;
        let entry = self.inner.store.outbox_entry(key).await?.ok_or_else(|| EngineError::NotFound(key.to_owned()))?;
        if retry {
            let _ = self.inner.outbox_tx.send(entry.clone());
        }
        Ok(entry)
    }
}

impl Inner {
    pub(crate) fn directory(&self) -> LocationMap {
        LocationMap(self.locations.read().map(|l| Arc::clone(&l)).unwrap_or_default())
    }

    pub(crate) fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    async fn reload_locations(&self) -> Result<(), StoreError> {
        let rows = self.store.locations().await?;
        let mut map = HashMap::new();
        for (code, data) in rows {
            match serde_json::from_value::<Location>(data) {
                Ok(l) => {
                    map.insert(code, l);
                }
                Err(e) => tracing::warn!(location = %code, error = %e, "stored location is not readable"),
            }
        }
        if let Ok(mut l) = self.locations.write() {
            *l = Arc::new(map);
        }
        Ok(())
    }

    pub(crate) async fn refresh_definitions(&self) -> Result<(), StoreError> {
        let records = self.store.definitions(None).await?;
        let resolve = registry::resolver(self.config.workflows_dir.clone());
        let problems = match self.registry.write() {
            Ok(mut r) => r.refresh(records, &resolve),
            Err(_) => Vec::new(),
        };
        for p in problems {
            tracing::error!(problem = %p, "a saved workflow definition does not compile");
        }
        Ok(())
    }

    pub(crate) fn workflow(&self, id: &str, version: u32) -> Option<Arc<Workflow>> {
        self.registry.read().ok()?.get(id, version)
    }

    pub(crate) fn triggered_by(&self, event_type: &str) -> Vec<Arc<Workflow>> {
        self.registry.read().map(|r| r.triggered_by(event_type).to_vec()).unwrap_or_default()
    }

    pub(crate) fn correlated_by(&self, event_type: &str) -> Vec<(String, crate::workflow::Expr)> {
        self.registry.read().map(|r| r.correlated_by(event_type).to_vec()).unwrap_or_default()
    }

    pub(crate) fn any_active(&self) -> bool {
        self.registry.read().map(|r| r.any_active()).unwrap_or(false)
    }

    async fn save_builtin(&self, dir: &std::path::Path) -> Result<(), EngineError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Err(EngineError::BadRequest(format!("cannot read the workflows directory {}", dir.display())));
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for file in files {
            let source = std::fs::read_to_string(&file)
                .map_err(|e| EngineError::BadRequest(format!("cannot read {}: {e}", file.display())))?;
            let (record, new) = self.save_definition(&source, Some("backroom"), &file.display().to_string()).await?;
            if new {
                tracing::info!(workflow = %record.workflow, version = record.version, "built-in workflow saved");
            }
        }
        Ok(())
    }

    async fn save_definition(
        &self,
        source: &str,
        actor: Option<&str>,
        name: &str,
    ) -> Result<(DefinitionRecord, bool), EngineError> {
        let resolve = registry::resolver(self.config.workflows_dir.clone());
        let workflow = crate::workflow::load(name, source, &resolve).map_err(EngineError::Invalid)?;
        let digest = registry::digest(source);
        let existing = self.store.definitions(Some(&workflow.id)).await?;
        if let Some(newest) = existing.iter().max_by_key(|r| r.version)
            && newest.digest == digest
        {
            return Ok((newest.clone(), false));
        }
        let record = DefinitionRecord {
            workflow: workflow.id.clone(),
            version: existing.iter().map(|r| r.version).max().unwrap_or(0) + 1,
            title: workflow.title.clone(),
            source: source.to_owned(),
            digest,
            active: true,
            created_at: self.clock.now(),
            created_by: actor.map(str::to_owned),
        };
        let entry = AuditEntry {
            after: Some(serde_json::json!({"digest": record.digest, "title": record.title, "active": true})),
            ..AuditEntry::new(
                record.created_at,
                actor.unwrap_or("system"),
                "workflow.saved",
                &format!("workflow/{}@{}", record.workflow, record.version),
            )
        };
        let write = EngineWrite { definitions: vec![record.clone()], audit: vec![entry], ..Default::default() };
        self.store.commit_engine(write, Vec::new()).await?;
        self.refresh_definitions().await?;
        Ok((record, true))
    }

    /// Loads an instance and its workflow.
    pub(crate) async fn load(&self, id: &str) -> Result<(Arc<Workflow>, Instance, i64), EngineError> {
        // Taken, not copied: the commit puts the new state back.
        let cached = self.cache.lock().ok().and_then(|mut c| c.remove(id));
        if let Some((rev, instance)) = cached
            && let Some(workflow) = self.workflow(&instance.workflow, instance.version)
        {
            return Ok((workflow, instance, rev));
        }
        let Some(record) = self.store.instance(id).await? else {
            return Err(EngineError::NotFound(format!("no instance has the id {id}")));
        };
        let instance: Instance = serde_json::from_value(record.state)
            .map_err(|e| StoreError::Config(format!("instance {id}: stored state is not readable: {e}")))?;
        let version = instance.version;
        let workflow = match self.workflow(&instance.workflow, version) {
            Some(w) => w,
            None => {
                self.refresh_definitions().await?;
                self.workflow(&instance.workflow, version).ok_or_else(|| {
                    EngineError::NotFound(format!("workflow {}@v{version} is not known", instance.workflow))
                })?
            }
        };
        Ok((workflow, instance, record.rev))
    }

    /// Applies one command to an instance now and persists it (with `update` to the outbox),
    /// retrying on a conflict with another writer.
    pub(crate) async fn command_now(
        &self,
        id: &str,
        command: Command,
        update: Option<OutboxUpdate>,
    ) -> Result<(), EngineError> {
        for _ in 0..8 {
            let (workflow, instance, rev) = self.load(id).await?;
            let mut driven = self.drive(&workflow, instance, rev, vec![command.clone()], None).await?;
            if let Some(u) = &update {
                driven.write.outbox_updates.insert(0, u.clone());
            }
            match self.commit(driven).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Store(StoreError::Conflict(format!(
            "instance {id} kept changing while this command was applied; try again"
        ))))
    }

    /// Commits a driven instance and announces it.
    pub(crate) async fn commit(&self, driven: drive::Driven) -> Result<(), StoreError> {
        let outbox: Vec<OutboxRecord> = driven.write.outbox.clone();
        let inbox_now = driven.write.inbox.iter().any(|r| r.due_at <= self.clock.now());
        let result = self.store.commit_engine(driven.write, driven.events).await;
        if let Err(e) = &result {
            if matches!(e, StoreError::Conflict(_)) {
                self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut c) = self.cache.lock() {
                c.remove(&driven.instance.id);
            }
            return result.map(|_| ());
        }
        self.committed(driven.instance, driven.rev, driven.steps, driven.tasks_opened);
        for o in outbox {
            let _ = self.outbox_tx.send(o);
        }
        if inbox_now {
            self.wake_inbox.notify_one();
        }
        Ok(())
    }

    /// Records a committed transition: the cache, the counters, the notice.
    pub(crate) fn committed(&self, instance: Instance, rev: i64, steps: u32, tasks_opened: usize) {
        self.announce(&instance, steps, tasks_opened);
        if let Ok(mut c) = self.cache.lock() {
            if instance.status.is_open() {
                if c.len() >= CACHE_LIMIT {
                    c.clear();
                }
                c.insert(instance.id.clone(), (rev, instance));
            } else {
                c.remove(&instance.id);
            }
        }
    }

    fn announce(&self, instance: &Instance, steps: u32, tasks_opened: usize) {
        self.counters.steps.fetch_add(u64::from(steps), Ordering::Relaxed);
        metrics::counter!("backroom_engine_steps_total").increment(u64::from(steps));
        if !instance.status.is_open() {
            self.counters.ended.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("backroom_engine_instances_ended_total", "status" => instance.status.as_str())
                .increment(1);
        }
        let trigger_seq = instance.context.get("event").and_then(|e| e.get("seq")).and_then(Value::as_i64);
        let _ = self.notices.send(Notice {
            instance: instance.id.clone(),
            status: instance.status.as_str().to_owned(),
            trigger_seq,
            tasks_opened,
        });
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
