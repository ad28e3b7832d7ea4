//! The durable store of Backroom: the event log, its projections, the API keys and people's
//! accounts.
//!
//! One [`Store`] surface over two backends with identical behaviour — SQLite (embedded, the
//! default) and PostgreSQL (shared by several processes). Appends go through one writer thread per
//! process that **group-commits**: every append request waiting when a transaction starts joins
//! it, so many callers share one transaction and one fsync. A caller's events are acknowledged
//! only after that transaction has committed, and a request is never split across transactions.

pub mod audit;
mod backend;
mod engine;
mod fixed;
pub mod governance;
mod keys;
mod postgres;
mod projections;
mod query;
mod rows;
mod sqlite;
pub mod users;
mod webhooks;
mod write;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;

use backroom_model::{EventEnvelope, NewEvent};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

pub use audit::{AuditEntry, AuditQuery, AuditRecord, ChainBreak, ChainReport};
pub use engine::{
    DefinitionRecord, EngineWrite, HistoryRecord, InboxRecord, InstanceQuery, InstanceRecord, InstanceWrite, KeyChange,
    OutboxRecord, OutboxUpdate, TaskQuery, TaskRecord, TaskUpdate,
};
pub use fixed::SCALE as PROJECTION_SCALE;
pub use governance::{DelegationChange, DelegationRecord, LedgerQuery, LedgerRecord, Overturn, PolicyRecord};
pub use keys::{ApiKey, NewApiKey, hash_key};
pub use query::{EventQuery, SalesQuery, StockQuery};
pub use users::{NewUser, SessionToken, User, UserChange};
pub use webhooks::WebhookReceipt;

/// The pragmas the SQLite backend tunes beyond WAL and `synchronous=FULL` (name, value), for
/// benchmarks that compare with plain SQLite on equal terms.
pub const SQLITE_PRAGMAS: [(&str, &str); 3] = [
    ("cache_size", sqlite::CACHE_SIZE),
    ("wal_autocheckpoint", sqlite::WAL_AUTOCHECKPOINT),
    ("temp_store", sqlite::TEMP_STORE),
];

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded database refused or failed a write.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store could not be opened as configured.
    #[error("{0}")]
    Config(String),
    /// The writer has shut down; nothing more can be appended.
    #[error("the store is shutting down")]
    Closed,
    /// A named thing was not found.
    #[error("{0}")]
    NotFound(String),
    /// A request conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// A request's field is not acceptable; the message names the field and what would be.
    #[error("{0}")]
    Invalid(String),
}

/// Result of store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Where and how to open the store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `postgres://…` for PostgreSQL; `None` for SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// Directory of the SQLite file (`backroom.db`).
    pub data_dir: PathBuf,
    /// PostgreSQL schema to use (created if missing); `None` for the connection's default.
    pub schema: Option<String>,
    /// Largest number of events one group commit takes.
    pub max_group_events: usize,
    /// Connections for readers.
    pub read_connections: u32,
}

impl StoreConfig {
    /// SQLite under `data_dir`, with defaults for the rest.
    pub fn sqlite(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: None,
            data_dir: data_dir.into(),
            schema: None,
            max_group_events: 8192,
            read_connections: 8,
        }
    }

    /// PostgreSQL at `url`, in `schema` when given.
    pub fn postgres(url: &str, schema: Option<&str>) -> Self {
        Self {
            database_url: Some(url.to_owned()),
            schema: schema.map(str::to_owned),
            ..Self::sqlite(PathBuf::from("."))
        }
    }
}

/// The outcome of appending one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Appended {
    /// The event's position in the log (the original position for a duplicate).
    pub seq: i64,
    /// Whether an event with the same `(source, id)` was already recorded.
    pub duplicate: bool,
}

/// Stock of one item at one location.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StockPosition {
    /// The location code.
    pub location: String,
    /// The item key (GTIN-14 or SKU).
    pub item: String,
    /// The unit of the quantities.
    pub unit: String,
    /// Stock on hand.
    pub on_hand: Decimal,
    /// Stock shipped towards the location and not yet received.
    pub in_transit: Decimal,
    /// When stock was last counted.
    pub last_counted_at: Option<DateTime<Utc>>,
    /// The last event that changed the position.
    pub last_seq: i64,
    /// When the position last changed.
    pub updated_at: DateTime<Utc>,
}

/// Sales of one item at one location on one business day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DailySales {
    /// The location code.
    pub location: String,
    /// The item key.
    pub item: String,
    /// The store's business day.
    pub business_day: NaiveDate,
    /// The currency of the amounts.
    pub currency: String,
    /// Quantity sold.
    pub sold: Decimal,
    /// Quantity returned.
    pub returned: Decimal,
    /// Net amount of sales.
    pub revenue: Decimal,
    /// Net amount refunded on returns.
    pub refunded: Decimal,
    /// Sales transactions with a line of the item.
    pub transactions: i64,
    /// The last event that changed the row.
    pub last_seq: i64,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// The event log, its projections and the key table.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    writer: Arc<writer::WriterHandle>,
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(b) => b.$method($($arg),*).await,
            Backend::Postgres(b) => b.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens (and creates or migrates) the store.
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        match config.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let pg = postgres::PgStore::open(url, config).await?;
                let committer = writer::Committer::Postgres(pg.clone(), tokio::runtime::Handle::current());
                let writer = writer::WriterHandle::spawn(committer, config.max_group_events)?;
                Ok(Store { backend: Backend::Postgres(pg), writer: Arc::new(writer) })
            }
            Some(url) if url.starts_with("sqlite:") => {
                let path = PathBuf::from(url.trim_start_matches("sqlite://").trim_start_matches("sqlite:"));
                let (lite, conn) = sqlite::SqliteStore::open_file(&path, config).await?;
                let writer = writer::WriterHandle::spawn(writer::Committer::Sqlite(conn), config.max_group_events)?;
                Ok(Store { backend: Backend::Sqlite(lite), writer: Arc::new(writer) })
            }
            Some(other) => Err(StoreError::Config(format!(
                "database URL {:?} is not supported: use postgres://user@host/db, sqlite:PATH, or leave it unset for SQLite under the data directory",
                keys::redact_url(other)
            ))),
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                    StoreError::Config(format!("cannot create the data directory {}: {e}", config.data_dir.display()))
                })?;
                let path = config.data_dir.join("backroom.db");
                let (lite, conn) = sqlite::SqliteStore::open_file(&path, config).await?;
                let writer = writer::WriterHandle::spawn(writer::Committer::Sqlite(conn), config.max_group_events)?;
                Ok(Store { backend: Backend::Sqlite(lite), writer: Arc::new(writer) })
            }
        }
    }

    /// Which backend this is: `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Appends a batch of events atomically: after the transaction that holds them has committed,
    /// returns one [`Appended`] per event, in order. Events whose `(source, id)` is already in the
    /// log (or earlier in the same batch) are not stored again and come back as duplicates with
    /// the original `seq`.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.append(events).await
    }

    /// Reads events in `seq` order.
    pub async fn events(&self, q: &EventQuery) -> Result<Vec<EventEnvelope>> {
        dispatch!(self.events(q))
    }

    /// The highest `seq` in the log (0 when empty).
    pub async fn last_seq(&self) -> Result<i64> {
        dispatch!(self.last_seq())
    }

    /// Reads stock positions.
    pub async fn stock(&self, q: &StockQuery) -> Result<Vec<StockPosition>> {
        dispatch!(self.stock(q))
    }

    /// Reads daily sales.
    pub async fn daily_sales(&self, q: &SalesQuery) -> Result<Vec<DailySales>> {
        dispatch!(self.daily_sales(q))
    }

    /// Creates an API key; the returned secret is shown once and stored only as a hash. The
    /// key and its audit entry (by `actor`) are committed together.
    pub async fn create_key(&self, key: &NewApiKey, actor: &str) -> Result<(ApiKey, String)> {
        let (record, secret) = keys::generate(key);
        self.commit_key(KeyChange::Create(record.clone(), hash_key(&secret)), key_entry(actor, "key.created", &record))
            .await?;
        Ok((record, secret))
    }

    /// Stores a key whose secret was chosen by the operator (the bootstrap admin key).
    pub async fn import_key(&self, key: &NewApiKey, secret: &str, actor: &str) -> Result<ApiKey> {
        let (record, _) = keys::generate(key);
        // An operator's secret may be short and guessable in part: keep only enough to recognise it.
        let record = ApiKey { prefix: format!("{}…", secret.chars().take(4).collect::<String>()), ..record };
        self.commit_key(KeyChange::Create(record.clone(), hash_key(secret)), key_entry(actor, "key.imported", &record))
            .await?;
        Ok(record)
    }

    async fn commit_key(&self, change: KeyChange, entry: AuditEntry) -> Result<()> {
        let write = EngineWrite { keys: vec![change], audit: vec![entry], ..EngineWrite::default() };
        match self.writer.commit_engine(write, Vec::new()).await {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(m)) if m.contains("already exists") => {
                Err(StoreError::Conflict("a key with this secret already exists".to_owned()))
            }
            Err(e) => Err(e),
        }
    }

    /// Every key, newest first, revoked ones included.
    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        dispatch!(self.list_keys())
    }

    /// How many keys exist (revoked included).
    pub async fn key_count(&self) -> Result<i64> {
        dispatch!(self.key_count())
    }

    /// Revokes the key with this id, or the single active key with this name, recording who
    /// did it in the audit chain in the same transaction.
    pub async fn revoke_key(&self, id_or_name: &str, actor: &str) -> Result<ApiKey> {
        let active: Vec<ApiKey> = self
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_none() && (k.id == id_or_name || k.name == id_or_name))
            .collect();
        let key = match active.as_slice() {
            [] => {
                return Err(StoreError::NotFound(format!(
                    "no active key has the id or name {id_or_name:?}; `backroom keys list` shows them"
                )));
            }
            [k] => k.clone(),
            _ => {
                return Err(StoreError::Conflict(format!(
                    "{} active keys are named {id_or_name:?}: revoke one by its id",
                    active.len()
                )));
            }
        };
        // Stored times keep microseconds: the answer shows what a later read will show.
        let now = keys::micros_to_time(Utc::now().timestamp_micros());
        let revoked = ApiKey { revoked_at: Some(now), ..key.clone() };
        let entry = AuditEntry { before: Some(key_view(&key)), ..key_entry(actor, "key.revoked", &revoked) };
        self.commit_key(KeyChange::Revoke(key.id.clone(), now), entry).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::NotFound(format!("the key {id_or_name:?} was revoked meanwhile")),
            other => other,
        })?;
        Ok(revoked)
    }

    /// Creates a person's account. The password (at least 12 characters) is kept only as an
    /// Argon2id hash; the account and its `user.created` audit entry (by `actor`) are committed
    /// together. A login already taken is a [`StoreError::Conflict`].
    pub async fn create_user(&self, new: &NewUser, actor: &str) -> Result<User> {
        users::check_new(new)?;
        let record = users::new_record(new);
        let password = new.password.clone();
        let phc = users::blocking(move || users::hash_password(&password)).await??;
        let entry = user_entry(actor, "user.created", &record);
        self.commit_user(UserChange::Create(record.clone(), phc), Some(entry)).await.map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("the login {:?} is taken: choose another", new.login))
            }
            other => other,
        })?;
        Ok(record)
    }

    async fn commit_user(&self, change: UserChange, entry: Option<AuditEntry>) -> Result<()> {
        let write = EngineWrite { users: vec![change], audit: entry.into_iter().collect(), ..EngineWrite::default() };
        self.writer.commit_engine(write, Vec::new()).await.map(|_| ())
    }

    /// Every account, by login, disabled ones included.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        dispatch!(self.list_users())
    }

    /// The account with this login.
    pub async fn user(&self, login: &str) -> Result<Option<User>> {
        Ok(dispatch!(self.user_credentials(login))?.map(|(u, _)| u))
    }

    async fn existing_user(&self, login: &str) -> Result<User> {
        self.user(login).await?.ok_or_else(|| {
            StoreError::NotFound(format!("no account has the login {login:?}; `backroom users list` shows them"))
        })
    }

    /// Disables an account and ends its sessions, recording `user.disabled` by `actor` in the
    /// same transaction. Disabling a disabled account is a [`StoreError::Conflict`].
    pub async fn disable_user(&self, login: &str, actor: &str) -> Result<User> {
        let user = self.existing_user(login).await?;
        if user.disabled_at.is_some() {
            return Err(StoreError::Conflict(format!("the account {login:?} is already disabled")));
        }
        let now = keys::micros_to_time(Utc::now().timestamp_micros());
        let disabled = User { disabled_at: Some(now), ..user.clone() };
        let entry = AuditEntry { before: Some(users::view(&user)), ..user_entry(actor, "user.disabled", &disabled) };
        self.commit_user(UserChange::Disable(user.id.clone(), now), Some(entry)).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!("the account {login:?} was disabled meanwhile")),
            other => other,
        })?;
        Ok(disabled)
    }

    /// Replaces an account's password (at least 12 characters) and ends its sessions, recording
    /// `user.password_changed` by `actor` (without the password or its hash).
    pub async fn set_password(&self, login: &str, password: &str, actor: &str) -> Result<User> {
        users::check_password(password)?;
        let user = self.existing_user(login).await?;
        let password = password.to_owned();
        let phc = users::blocking(move || users::hash_password(&password)).await??;
        let entry = user_entry(actor, "user.password_changed", &user);
        self.commit_user(UserChange::SetPassword(user.id.clone(), phc), Some(entry)).await?;
        Ok(user)
    }

    /// Checks a login and password and, when they match an active account, opens a session of
    /// `ttl`. An unknown login costs the same password check as a known one, so the time taken
    /// does not tell whether the login exists. `None` for a wrong login or password, or a
    /// disabled account.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ttl: chrono::Duration,
    ) -> Result<Option<(User, SessionToken)>> {
        let found = dispatch!(self.user_credentials(login))?;
        let (user, phc) = match found {
            Some((u, phc)) => (Some(u), phc),
            None => (None, users::decoy_hash().to_owned()),
        };
        let password = password.to_owned();
        let matches = users::blocking(move || users::verify_password(&password, &phc)).await?;
        let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else {
            return Ok(None);
        };
        let (secret, hash) = users::session_secret();
        let now = keys::micros_to_time(Utc::now().timestamp_micros());
        let expires_at = now + ttl;
        let change = UserChange::OpenSession { hash, user_id: user.id.clone(), created_at: now, expires_at };
        self.commit_user(change, None).await?;
        Ok(Some((user, SessionToken { secret, expires_at })))
    }

    /// The active account whose live session this secret opened: `None` when the secret is
    /// unknown, its session expired or ended, or the account is disabled.
    pub async fn session(&self, secret: &str) -> Result<Option<User>> {
        let now = Utc::now().timestamp_micros();
        dispatch!(self.session_user(&hash_key(secret), now))
    }

    /// Records entries in the audit chain on their own (for changes that write nothing else).
    pub async fn record_audit(&self, entries: Vec<AuditEntry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let write = EngineWrite { audit: entries, ..EngineWrite::default() };
        self.writer.commit_engine(write, Vec::new()).await.map(|_| ())
    }

    /// Reads the audit record, in chain order.
    pub async fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        dispatch!(self.audit_entries(q))
    }

    /// Walks the whole audit chain and reports the first broken link: an entry edited,
    /// deleted, inserted or moved since it was written. `known_head` is a `(seq, hash)` seen
    /// earlier (from a previous verification); a chain that no longer reaches it was truncated.
    pub async fn verify_audit(&self, known_head: Option<(i64, &str)>) -> Result<ChainReport> {
        let mut head: Option<(i64, String)> = None;
        loop {
            let q = AuditQuery {
                after_seq: head.as_ref().map_or(0, |h| h.0),
                limit: audit::MAX_AUDIT_PAGE,
                ..AuditQuery::default()
            };
            let page = self.audit(&q).await?;
            if page.is_empty() {
                break;
            }
            match audit::check(head.clone(), &page) {
                Ok(h) => head = h,
                Err(broken) => {
                    return Ok(ChainReport {
                        entries: head.as_ref().map_or(0, |h| h.0),
                        head: head.map(|h| h.1),
                        broken: Some(broken),
                    });
                }
            }
        }
        let entries = head.as_ref().map_or(0, |h| h.0);
        let broken = match known_head {
            Some((seq, _)) if seq > entries => Some(ChainBreak::Truncated { entries }),
            Some((seq, hash)) => {
                let at = self.audit(&AuditQuery { after_seq: seq - 1, limit: 1, ..AuditQuery::default() }).await?;
                (at.first().map(|r| r.hash.as_str()) != Some(hash)).then_some(ChainBreak::Unlinked { seq })
            }
            None => None,
        };
        Ok(ChainReport { entries, head: head.map(|h| h.1), broken })
    }

    /// The active key whose secret this is.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>> {
        dispatch!(self.key_by_hash(&hash_key(secret)))
    }

    /// Commits an engine write (and the events its transitions emit) in one transaction,
    /// grouped with other writes. Fails whole with [`StoreError::Conflict`] when an instance
    /// changed since it was read or a cursor moved; returns the emitted events' outcomes.
    pub async fn commit_engine(&self, write: EngineWrite, events: Vec<NewEvent>) -> Result<Vec<Appended>> {
        if write.is_empty() && events.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.commit_engine(write, events).await
    }

    /// The highest `seq` this process has appended, updated after every commit that appended
    /// something: the engine waits on it for new events to trigger workflows.
    pub fn appended(&self) -> tokio::sync::watch::Receiver<i64> {
        self.writer.appended()
    }

    /// Saved workflow definitions (of one workflow, or all), by workflow then version.
    pub async fn definitions(&self, workflow: Option<&str>) -> Result<Vec<DefinitionRecord>> {
        dispatch!(self.definitions(workflow))
    }

    /// One instance.
    pub async fn instance(&self, id: &str) -> Result<Option<InstanceRecord>> {
        dispatch!(self.instance(id))
    }

    /// Instances, newest first.
    pub async fn instances(&self, q: &InstanceQuery) -> Result<Vec<InstanceRecord>> {
        dispatch!(self.instances(q))
    }

    /// The open instances of a workflow with one of these correlation keys.
    pub async fn open_instances(&self, workflow: &str, keys: &[String]) -> Result<Vec<InstanceRecord>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self.open_instances(workflow, keys))
    }

    /// An instance's history, in order.
    pub async fn history(&self, instance: &str) -> Result<Vec<HistoryRecord>> {
        dispatch!(self.history(instance))
    }

    /// Tasks, highest priority then earliest due first.
    pub async fn tasks(&self, q: &TaskQuery) -> Result<Vec<TaskRecord>> {
        dispatch!(self.tasks(q))
    }

    /// One task.
    pub async fn task(&self, id: &str) -> Result<Option<TaskRecord>> {
        dispatch!(self.task(id))
    }

    /// Outbox rows (of one instance, in one status), oldest first.
    pub async fn outbox(&self, instance: Option<&str>, status: Option<&str>, limit: i64) -> Result<Vec<OutboxRecord>> {
        dispatch!(self.outbox_for(instance, status, limit))
    }

    /// One outbox row.
    pub async fn outbox_entry(&self, key: &str) -> Result<Option<OutboxRecord>> {
        dispatch!(self.outbox_entry(key))
    }

    /// The commands and timers waiting for an instance.
    pub async fn inbox(&self, instance: &str) -> Result<Vec<InboxRecord>> {
        dispatch!(self.inbox_for(instance))
    }

    /// Takes due inbox rows for `owner` until `lease_until` (on PostgreSQL with `FOR UPDATE
    /// SKIP LOCKED`; on SQLite, where one process owns the file, a read).
    pub async fn claim_inbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<InboxRecord>> {
        let (now, until) = (now.timestamp_micros(), lease_until.timestamp_micros());
        dispatch!(self.claim_inbox(owner, now, until, limit))
    }

    /// Takes due pending outbox rows as [`Store::claim_inbox`] does.
    pub async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>> {
        let (now, until) = (now.timestamp_micros(), lease_until.timestamp_micros());
        dispatch!(self.claim_outbox(owner, now, until, limit))
    }

    /// Extends the leases `owner` holds on these outbox rows (PostgreSQL; a no-op on SQLite,
    /// where one process owns the file).
    pub async fn renew_outbox_leases(&self, owner: &str, keys: &[String], until: DateTime<Utc>) -> Result<()> {
        match &self.backend {
            Backend::Postgres(b) if !keys.is_empty() => {
                b.renew_outbox_leases(owner, keys, until.timestamp_micros()).await
            }
            _ => Ok(()),
        }
    }

    /// The earliest due time of a queued command, timer or outbox delivery.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(dispatch!(self.next_due())?.map(keys::micros_to_time))
    }

    /// How far the named consumer has read the log.
    pub async fn cursor(&self, name: &str) -> Result<i64> {
        dispatch!(self.cursor(name))
    }

    /// Whether a signed inbound delivery of `source` with this signature was already accepted
    /// (and its receipt not yet pruned).
    pub async fn webhook_receipt_exists(&self, source: &str, signature: &str) -> Result<bool> {
        dispatch!(self.webhook_receipt_exists(source, signature))
    }

    /// How many audit entries come after `after_seq`, of one of `kinds` (of any kind when
    /// `None`).
    pub async fn audit_count(&self, after_seq: i64, kinds: Option<&[String]>) -> Result<i64> {
        dispatch!(self.audit_count(after_seq, kinds))
    }

    /// Takes (or renews) the lease on the named log cursor for `owner` until `until`, so that
    /// one process at a time consumes it; returns whether `owner` holds it. On SQLite, where
    /// one process owns the file, the lease is always granted.
    pub async fn lease_cursor(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(true),
            Backend::Postgres(b) => b.lease_cursor(name, owner, now.timestamp_micros(), until.timestamp_micros()).await,
        }
    }

    /// Gives up `owner`'s lease on the named cursor (PostgreSQL; nothing to do on SQLite).
    pub async fn release_cursor(&self, name: &str, owner: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(b) => b.release_cursor(name, owner).await,
        }
    }

    /// Every saved location: (code, JSON).
    pub async fn locations(&self) -> Result<Vec<(String, serde_json::Value)>> {
        dispatch!(self.locations())
    }

    /// Approval policy versions (of one action, or all), by action, scope and version.
    pub async fn policies(&self, action: Option<&str>) -> Result<Vec<PolicyRecord>> {
        dispatch!(self.policies(action))
    }

    /// Delegations (to one person, compared case-insensitively, or all), oldest first.
    pub async fn delegations(&self, to: Option<&str>) -> Result<Vec<DelegationRecord>> {
        dispatch!(self.delegations(to, None))
    }

    /// One delegation.
    pub async fn delegation(&self, id: &str) -> Result<Option<DelegationRecord>> {
        Ok(dispatch!(self.delegations(None, Some(id)))?.into_iter().next())
    }

    /// Rows of the autonomy ledger, oldest first.
    pub async fn ledger(&self, q: &LedgerQuery) -> Result<Vec<LedgerRecord>> {
        dispatch!(self.ledger(q))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self.ping())
    }

    /// Stops accepting appends, commits what is queued, and closes connections.
    pub async fn close(&self) {
        self.writer.close().await;
        match &self.backend {
            Backend::Sqlite(b) => b.close().await,
            Backend::Postgres(b) => b.close().await,
        }
    }
}

/// A key as the audit record shows it: never its secret or hash.
fn key_view(k: &ApiKey) -> serde_json::Value {
    serde_json::json!({
        "id": k.id, "name": k.name, "prefix": k.prefix, "roles": k.roles, "scopes": k.scopes,
        "revoked_at": k.revoked_at,
    })
}

fn user_entry(actor: &str, kind: &str, u: &User) -> AuditEntry {
    AuditEntry { after: Some(users::view(u)), ..AuditEntry::new(Utc::now(), actor, kind, &format!("user/{}", u.login)) }
}

fn key_entry(actor: &str, kind: &str, k: &ApiKey) -> AuditEntry {
    AuditEntry { after: Some(key_view(k)), ..AuditEntry::new(Utc::now(), actor, kind, &format!("key/{}", k.id)) }
}
