//! The PostgreSQL backend: the same schema, shared by any number of processes.
//!
//! Appends take a transaction-scoped advisory lock before reading the last `seq`, so sequence
//! numbers are assigned in commit order across processes: a reader paging by `seq` never sees a
//! later event before an earlier one has committed.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Postgres};

use crate::backend::common_operations;
use crate::engine::{engine_operations, pg_claim_inbox, pg_claim_outbox};
use crate::keys::redact_url;
use crate::query::Sql;
use crate::write::GroupPlan;
use crate::{Result, StoreConfig, StoreError};

const SCHEMA: &str = include_str!("../migrations/postgres.sql");
/// Advisory lock keys (arbitrary constants, "BR" + purpose).
const APPEND_LOCK: i64 = 0x4252_0001;
/// Serialises extending the audit chain across processes.
const AUDIT_LOCK: i64 = 0x4252_0002;
const MIGRATE_LOCK: i64 = 0x4252_0002;

#[derive(Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    fn sql(s: &Sql) -> String {
        s.numbered()
    }

    pub(crate) async fn open(url: &str, config: &StoreConfig) -> Result<Self> {
        let unreachable =
            |e: sqlx::Error| StoreError::Config(format!("cannot connect to PostgreSQL at {}: {e}", redact_url(url)));
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("the database URL {} is not valid: {e}", redact_url(url))))?;
        options = options.disable_statement_logging();
        if let Some(schema) = &config.schema {
            if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || schema.is_empty() {
                return Err(StoreError::Config(format!(
                    "schema name {schema:?} may hold only letters, digits and underscores"
                )));
            }
            let mut conn = options.connect().await.map_err(unreachable)?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            options = options.options([("search_path", schema.as_str())]);
        }
        let mut conn = options.connect().await.map_err(unreachable)?;
        sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATE_LOCK).execute(&mut conn).await?;
        let migrated = sqlx::raw_sql(SCHEMA).execute(&mut conn).await;
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATE_LOCK).execute(&mut conn).await?;
        migrated?;
        conn.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.read_connections.max(2) + 1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        Ok(Self { pool })
    }

    /// Commits one group in one transaction, serialised across processes.
    pub(crate) async fn commit_group(
        &self,
        events: &[backroom_model::NewEvent],
        engine: &[&crate::engine::EngineWrite],
        recorded_at: i64,
    ) -> Result<GroupPlan> {
        let mut tx = self.pool.begin().await?;
        if !events.is_empty() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(APPEND_LOCK).execute(&mut *tx).await?;
        }
        let mut known = std::collections::HashMap::new();
        for s in crate::write::existing_sql(events) {
            for row in Self::query(s).fetch_all(&mut *tx).await? {
                use crate::rows::RowExt;
                known.insert((row.text("source")?, row.text("id")?), row.int("seq")?);
            }
        }
        let last = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM events").fetch_one(&mut *tx).await?;
        let last = crate::rows::RowExt::int(&last, "seq")?;
        let mut plan = crate::write::plan_group(events, known, last, recorded_at);
        let engine_statements = engine.iter().flat_map(|w| crate::engine::statements(w, recorded_at));
        for s in std::mem::take(&mut plan.statements).into_iter().chain(engine_statements) {
            let must_change = s.must_change;
            let message = if must_change { crate::engine::conflict_message(&s) } else { String::new() };
            let changed = match Self::query(s).execute(&mut *tx).await {
                Ok(done) => done.rows_affected(),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(StoreError::Conflict(format!("a row already exists: {}", e.message())));
                }
                Err(e) => return Err(e.into()),
            };
            if must_change && changed == 0 {
                return Err(StoreError::Conflict(message));
            }
        }
        let audit: Vec<crate::audit::AuditEntry> = engine.iter().flat_map(|w| w.audit.iter().cloned()).collect();
        if !audit.is_empty() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *tx).await?;
            let last = sqlx::query(crate::audit::LAST_SQL).fetch_optional(&mut *tx).await?;
            let last = match last {
                Some(row) => {
                    use crate::rows::RowExt;
                    Some((row.int("seq")?, row.text("hash")?))
                }
                None => None,
            };
            for chunk in crate::audit::link(last, &audit).chunks(500) {
                Self::query(crate::audit::insert_sql(chunk)).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(plan)
    }
}

impl PgStore {
    pub(crate) async fn lease_cursor(&self, name: &str, owner: &str, now: i64, until: i64) -> Result<bool> {
        Self::query(crate::webhooks::cursor_row_sql(name)).execute(&self.pool).await?;
        let done = Self::query(crate::webhooks::lease_cursor_sql(name, owner, now, until)).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn release_cursor(&self, name: &str, owner: &str) -> Result<()> {
        Self::query(crate::webhooks::release_cursor_sql(name, owner)).execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) async fn renew_outbox_leases(&self, owner: &str, keys: &[String], until: i64) -> Result<()> {
        for chunk in keys.chunks(1000) {
            let mut s = Sql::default();
            s.bind("UPDATE outbox SET lease_until = ?", crate::query::Param::Int(until));
            s.bind(" WHERE lease_owner = ?", crate::query::Param::Text(owner.to_owned()));
            s.push(" AND status = 'pending' AND key IN (");
            for (i, k) in chunk.iter().enumerate() {
                s.bind(if i == 0 { "?" } else { ", ?" }, crate::query::Param::Text(k.clone()));
            }
            s.push(")");
            Self::query(s).execute(&self.pool).await?;
        }
        Ok(())
    }
}

common_operations!(PgStore, Postgres);
engine_operations!(PgStore, pg_claim_inbox, pg_claim_outbox);
crate::governance::governance_operations!(PgStore);
