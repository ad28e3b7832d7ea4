//! The embedded SQLite backend: WAL, `synchronous=FULL`, one writer connection, readers on a pool.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Sqlite, SqliteConnection};

use crate::backend::common_operations;
use crate::query::Sql;
use crate::write::GroupPlan;
use crate::{Result, StoreConfig, StoreError};

const SCHEMA: &str = include_str!("../migrations/sqlite.sql");
/// Page cache per connection, in KiB (negative = KiB in SQLite's pragma): projections are
/// updated at random keys, so the working set must stay in memory.
pub const CACHE_SIZE: &str = "-65536";
/// Pages of WAL between checkpoints (SQLite's default is 1,000): fewer, larger checkpoints.
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

    /// Opens the database file, creating and migrating it; returns the store (readers) and the
    /// connection reserved for the writer.
    pub(crate) async fn open_file(path: &Path, config: &StoreConfig) -> Result<(Self, SqliteConnection)> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", CACHE_SIZE)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT)
            .pragma("temp_store", TEMP_STORE)
            .disable_statement_logging();
        let mut writer = options
            .connect()
            .await
            .map_err(|e| StoreError::Config(format!("cannot open the SQLite database {}: {e}", path.display())))?;
        sqlx::raw_sql(SCHEMA).execute(&mut writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(config.read_connections.max(1))
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok((Self { pool }, writer))
    }

    /// Commits one group in one `BEGIN IMMEDIATE` transaction.
    pub(crate) async fn commit_group(
        conn: &mut SqliteConnection,
        events: &[backroom_model::NewEvent],
        recorded_at: i64,
    ) -> Result<GroupPlan> {
        let mut tx = Connection::begin_with(conn, "BEGIN IMMEDIATE").await?;
        let plan = Self::execute_group_on(&mut tx, events, recorded_at).await?;
        tx.commit().await?;
        Ok(plan)
    }
}

common_operations!(SqliteStore, Sqlite);
