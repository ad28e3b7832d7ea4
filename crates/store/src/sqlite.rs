//! The embedded SQLite backend: WAL, `synchronous=FULL`, one writer connection on its own thread,
//! readers on a pool.

use rusqlite::OptionalExtension;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Sqlite};

use crate::backend::common_operations;
use crate::engine::{engine_operations, sqlite_claim_inbox, sqlite_claim_outbox};
use crate::query::{Param, Sql};
use crate::write::{GroupPlan, existing_sql, plan_group};
use crate::{Result, StoreConfig, StoreError};

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = include_str!("../migrations/sqlite.sql");
/// Page cache per connection, in KiB (negative = KiB in SQLite's pragma): projections are
/// updated at random keys, so the working set must stay in memory.
pub const CACHE_SIZE: &str = "-65536";
/// Pages of WAL between automatic checkpoints (SQLite's default is 1,000) for connections that
/// checkpoint on commit; the store's writer checkpoints from a thread of its own instead.
pub const WAL_AUTOCHECKPOINT: &str = "10000";
/// Statement journals of multi-row upserts in memory rather than in temporary files.
pub const TEMP_STORE: &str = "memory";

#[derive(Clone)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    fn sql(s: &Sql) -> String {
        s.text.clone()
    }

    /// Opens the database file, creating and migrating it; returns the store (readers on a
    /// pool) and the writer's own connection.
    pub(crate) async fn open_file(path: &Path, config: &StoreConfig) -> Result<(Self, SqliteWriter)> {
        let writer = SqliteWriter::open(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("cache_size", CACHE_SIZE)
            .pragma("temp_store", TEMP_STORE)
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(config.read_connections.max(1))
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok((Self { pool }, writer))
    }
}

/// The connection appends go through, used from the writer thread only.
///
/// It is a plain synchronous SQLite connection: a group commit runs its statements back to back
/// on the writer's own thread, with no hand-off per statement.
pub(crate) struct SqliteWriter {
    conn: rusqlite::Connection,
    _checkpointer: Checkpointer,
}

/// Copies the WAL back into the database file from a thread of its own, so that no commit waits
/// for a checkpoint (with automatic checkpoints, the commit that crosses the threshold runs it,
/// and every request in its group waits). A passive checkpoint never blocks the writer.
struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often the checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

impl Checkpointer {
    fn spawn(path: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open(path).map_err(|e| {
            StoreError::Config(format!("cannot open the SQLite database {} to checkpoint it: {e}", path.display()))
        })?;
        let _ = conn.busy_timeout(BUSY_TIMEOUT);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("backroom-checkpoint".to_owned())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "WAL checkpoint failed; it will be tried again");
                    }
                }
            })
            .map_err(|e| StoreError::Config(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl SqliteWriter {
    fn open(path: &Path) -> Result<Self> {
        let cannot =
            |e: rusqlite::Error| StoreError::Config(format!("cannot open the SQLite database {}: {e}", path.display()));
        let conn = rusqlite::Connection::open(path).map_err(cannot)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(cannot)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(cannot)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Config(format!(
                "{} cannot use WAL journaling (it reports {mode})",
                path.display()
            )));
        }
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA cache_size = {CACHE_SIZE}; \
             PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}; PRAGMA temp_store = {TEMP_STORE};"
        ))
        .map_err(cannot)?;
        conn.execute_batch(SCHEMA).map_err(cannot)?;
        conn.set_prepared_statement_cache_capacity(256);
        // Checkpoints run on their own thread (see `Checkpointer`); the automatic ones are off.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;").map_err(cannot)?;
        Ok(Self { conn, _checkpointer: Checkpointer::spawn(path)? })
    }

    /// Commits one group in one `BEGIN IMMEDIATE` transaction.
    pub(crate) fn commit_group(
        &mut self,
        events: &[backroom_model::NewEvent],
        engine: &[&crate::engine::EngineWrite],
        recorded_at: i64,
    ) -> Result<GroupPlan> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut known = HashMap::new();
        for s in existing_sql(events) {
            let mut stmt = tx.prepare_cached(&s.text)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(s.params.iter().map(param)))?;
            while let Some(row) = rows.next()? {
                known.insert((row.get::<_, String>(0)?, row.get::<_, String>(1)?), row.get::<_, i64>(2)?);
            }
        }
        let last: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
        let mut plan = plan_group(events, known, last, recorded_at);
        let engine_statements = engine.iter().flat_map(|w| crate::engine::statements(w, recorded_at));
        for s in std::mem::take(&mut plan.statements).into_iter().chain(engine_statements) {
            let changed =
                match tx.prepare_cached(&s.text)?.execute(rusqlite::params_from_iter(s.params.iter().map(param))) {
                    Ok(n) => n,
                    Err(rusqlite::Error::SqliteFailure(e, message))
                        if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(StoreError::Conflict(format!(
                            "a row already exists: {}",
                            message.unwrap_or_else(|| e.to_string())
                        )));
                    }
                    Err(e) => return Err(e.into()),
                };
            if s.must_change && changed == 0 {
                return Err(StoreError::Conflict(crate::engine::conflict_message(&s)));
            }
        }
        let audit: Vec<crate::audit::AuditEntry> = engine.iter().flat_map(|w| w.audit.iter().cloned()).collect();
        if !audit.is_empty() {
            let last = tx
                .query_row(crate::audit::LAST_SQL, [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .optional()?;
            for chunk in crate::audit::link(last, &audit).chunks(500) {
                let s = crate::audit::insert_sql(chunk);
                tx.prepare_cached(&s.text)?.execute(rusqlite::params_from_iter(s.params.iter().map(param)))?;
            }
        }
        tx.commit()?;
        Ok(plan)
    }
}

fn param(p: &Param) -> rusqlite::types::ToSqlOutput<'_> {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    match p {
        Param::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
        Param::OptInt(Some(v)) => ToSqlOutput::Owned(Value::Integer(*v)),
        Param::OptInt(None) => ToSqlOutput::Owned(Value::Null),
        Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Param::OptText(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Param::OptText(None) => ToSqlOutput::Owned(Value::Null),
    }
}

common_operations!(SqliteStore, Sqlite);
engine_operations!(SqliteStore, sqlite_claim_inbox, sqlite_claim_outbox);
crate::governance::governance_operations!(SqliteStore);
