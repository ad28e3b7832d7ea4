//! Governance records: approval policies (versioned), delegations of approval authority, and
//! the autonomy ledger of automatic approvals (for daily limits and automatic demotion).
//!
//! They are written through [`crate::Store::commit_engine`] with the audit entries that record
//! them, in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::keys::micros_to_time;
use crate::query::{Param, Sql};
use crate::rows::RowExt;

/// A saved version of an approval policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyRecord {
    /// The action type it governs (`refund`, `purchase_order`, …).
    pub action: String,
    /// The location code it applies to; `None` for the company.
    pub scope: Option<String>,
    /// The version, from 1 for each action and scope.
    pub version: i64,
    /// The policy document (JSON, amounts as strings).
    pub document: Value,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Who saved it (`system:autonomy` for a demotion).
    pub created_by: String,
}

/// A delegation of one person's role, at a scope, to another for a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DelegationRecord {
    /// Its id.
    pub id: String,
    /// Whose authority is delegated.
    pub from: String,
    /// Who receives it.
    pub to: String,
    /// The role delegated.
    pub role: String,
    /// The location it covers (and below); `None` for the company.
    pub scope: Option<String>,
    /// From when (inclusive).
    pub starts_at: DateTime<Utc>,
    /// Until when (exclusive).
    pub ends_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
}

impl DelegationRecord {
    /// Whether it is in force at `at`: started, not ended, not revoked.
    pub fn is_active(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at && self.revoked_at.is_none_or(|r| at < r)
    }
}

/// A change to the delegations.
#[derive(Debug, Clone, PartialEq)]
pub enum DelegationChange {
    /// A new delegation.
    Create(DelegationRecord),
    /// Revokes the delegation with this id (at, by); fails with a conflict unless it is in force
    /// or yet to start.
    Revoke(String, DateTime<Utc>, String),
}

/// One automatic approval in the autonomy ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRecord {
    /// The instance.
    pub instance: String,
    /// The approval step.
    pub step: String,
    /// The policy's action type.
    pub policy: String,
    /// The scope of the policy version that decided; `None` for the company.
    pub policy_scope: Option<String>,
    /// The version that decided.
    pub policy_version: i64,
    /// The location the amount was for; `None` for company-wide.
    pub location: Option<String>,
    /// The UTC day.
    pub day: NaiveDate,
    /// The amount approved.
    pub amount: Decimal,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether a person overturned it.
    pub overturned: bool,
    /// When it was overturned.
    pub overturned_at: Option<DateTime<Utc>>,
    /// Who overturned it.
    pub overturned_by: Option<String>,
    /// Why.
    pub overturn_reason: Option<String>,
}

/// Marks a ledger row overturned; fails with a conflict when it already is.
#[derive(Debug, Clone, PartialEq)]
pub struct Overturn {
    /// The instance.
    pub instance: String,
    /// The step.
    pub step: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// `''` stands for "none" in key columns (the company scope, a company-wide location).
fn key_text(v: &Option<String>) -> Param {
    Param::Text(v.clone().unwrap_or_default())
}

fn from_key(text: String) -> Option<String> {
    if text.is_empty() { None } else { Some(text) }
}

fn opt(v: &Option<String>) -> Param {
    Param::OptText(v.clone())
}

/// The statements of a write's governance changes.
pub(crate) fn statements(w: &crate::EngineWrite) -> Vec<Sql> {
    let mut out = Vec::new();
    for p in &w.policies {
        let mut s = Sql::default();
        s.bind(
            "INSERT INTO approval_policies (action, scope, version, document, created_at, created_by) VALUES (?",
            Param::Text(p.action.clone()),
        );
        s.bind(", ?", key_text(&p.scope));
        s.bind(", ?", Param::Int(p.version));
        s.bind(", ?", Param::Text(serde_json::to_string(&p.document).unwrap_or_else(|_| "null".to_owned())));
        s.bind(", ?", Param::Int(p.created_at.timestamp_micros()));
        s.bind(", ?)", Param::Text(p.created_by.clone()));
        s.must_change = true;
        out.push(s);
    }
    for d in &w.delegations {
        let mut s = Sql::default();
        match d {
            DelegationChange::Create(d) => {
                s.bind(
                    "INSERT INTO delegations (id, from_actor, to_actor, role, scope, starts_at, ends_at, reason, \
                     created_at, created_by) VALUES (?",
                    Param::Text(d.id.clone()),
                );
                s.bind(", ?", Param::Text(d.from.clone()));
                s.bind(", ?", Param::Text(d.to.clone()));
                s.bind(", ?", Param::Text(d.role.clone()));
                s.bind(", ?", opt(&d.scope));
                s.bind(", ?", Param::Int(d.starts_at.timestamp_micros()));
                s.bind(", ?", Param::Int(d.ends_at.timestamp_micros()));
                s.bind(", ?", Param::Text(d.reason.clone()));
                s.bind(", ?", Param::Int(d.created_at.timestamp_micros()));
                s.bind(", ?)", Param::Text(d.created_by.clone()));
            }
            DelegationChange::Revoke(id, at, by) => {
                s.bind("UPDATE delegations SET revoked_at = ?", Param::Int(at.timestamp_micros()));
                s.bind(", revoked_by = ?", Param::Text(by.clone()));
                s.bind(" WHERE id = ? AND revoked_at IS NULL", Param::Text(id.clone()));
                s.bind(" AND ends_at > ?", Param::Int(at.timestamp_micros()));
            }
        }
        s.must_change = true;
        out.push(s);
    }
    for l in &w.ledger {
        let mut s = Sql::default();
        s.bind(
            "INSERT INTO autonomy_ledger (instance, step, policy, policy_scope, policy_version, location, day, amount, \
             at, overturned) VALUES (?",
            Param::Text(l.instance.clone()),
        );
        s.bind(", ?", Param::Text(l.step.clone()));
        s.bind(", ?", Param::Text(l.policy.clone()));
        s.bind(", ?", key_text(&l.policy_scope));
        s.bind(", ?", Param::Int(l.policy_version));
        s.bind(", ?", key_text(&l.location));
        s.bind(", ?", Param::Text(l.day.to_string()));
        s.bind(", ?", Param::Text(l.amount.normalize().to_string()));
        s.bind(", ?, 0)", Param::Int(l.at.timestamp_micros()));
        // A transition recomputed after a crash records its decision once.
        s.push(" ON CONFLICT (instance, step) DO NOTHING");
        out.push(s);
    }
    for o in &w.overturns {
        let mut s = Sql::default();
        s.bind("UPDATE autonomy_ledger SET overturned = 1, overturned_at = ?", Param::Int(o.at.timestamp_micros()));
        s.bind(", overturned_by = ?", Param::Text(o.by.clone()));
        s.bind(", overturn_reason = ?", Param::Text(o.reason.clone()));
        s.bind(" WHERE instance = ?", Param::Text(o.instance.clone()));
        s.bind(" AND step = ? AND overturned = 0", Param::Text(o.step.clone()));
        s.must_change = true;
        out.push(s);
    }
    out
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} is not valid: {e}").into())
}

pub(crate) fn policy_row(r: &impl RowExt) -> sqlx::Result<PolicyRecord> {
    Ok(PolicyRecord {
        action: r.text("action")?,
        scope: from_key(r.text("scope")?),
        version: r.int("version")?,
        document: serde_json::from_str(&r.text("document")?).map_err(|e| corrupt("policy document", e))?,
        created_at: micros_to_time(r.int("created_at")?),
        created_by: r.text("created_by")?,
    })
}

pub(crate) fn delegation_row(r: &impl RowExt) -> sqlx::Result<DelegationRecord> {
    Ok(DelegationRecord {
        id: r.text("id")?,
        from: r.text("from_actor")?,
        to: r.text("to_actor")?,
        role: r.text("role")?,
        scope: r.opt_text("scope")?,
        starts_at: micros_to_time(r.int("starts_at")?),
        ends_at: micros_to_time(r.int("ends_at")?),
        reason: r.text("reason")?,
        created_at: micros_to_time(r.int("created_at")?),
        created_by: r.text("created_by")?,
        revoked_at: r.opt_int("revoked_at")?.map(micros_to_time),
        revoked_by: r.opt_text("revoked_by")?,
    })
}

pub(crate) fn ledger_row(r: &impl RowExt) -> sqlx::Result<LedgerRecord> {
    Ok(LedgerRecord {
        instance: r.text("instance")?,
        step: r.text("step")?,
        policy: r.text("policy")?,
        policy_scope: from_key(r.text("policy_scope")?),
        policy_version: r.int("policy_version")?,
        location: from_key(r.text("location")?),
        day: r.text("day")?.parse().map_err(|e| corrupt("ledger day", e))?,
        amount: r.text("amount")?.parse().map_err(|e| corrupt("ledger amount", e))?,
        at: micros_to_time(r.int("at")?),
        overturned: r.int("overturned")? != 0,
        overturned_at: r.opt_int("overturned_at")?.map(micros_to_time),
        overturned_by: r.opt_text("overturned_by")?,
        overturn_reason: r.opt_text("overturn_reason")?,
    })
}

/// Which ledger rows to read.
#[derive(Debug, Clone, Default)]
pub struct LedgerQuery {
    /// Only this policy (action type).
    pub policy: Option<String>,
    /// Only decisions of the policy version at this scope (`Some(None)`: the company's).
    pub policy_scope: Option<Option<String>>,
    /// Only this UTC day.
    pub day: Option<NaiveDate>,
    /// Only decisions at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only this instance and step.
    pub instance_step: Option<(String, String)>,
}

pub(crate) fn ledger_sql(q: &LedgerQuery) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT * FROM autonomy_ledger WHERE 1 = 1");
    if let Some(p) = &q.policy {
        s.bind(" AND policy = ?", Param::Text(p.clone()));
    }
    if let Some(scope) = &q.policy_scope {
        s.bind(" AND policy_scope = ?", key_text(scope));
    }
    if let Some(day) = q.day {
        s.bind(" AND day = ?", Param::Text(day.to_string()));
    }
    if let Some(t) = q.since {
        s.bind(" AND at >= ?", Param::Int(t.timestamp_micros()));
    }
    if let Some((instance, step)) = &q.instance_step {
        s.bind(" AND instance = ?", Param::Text(instance.clone()));
        s.bind(" AND step = ?", Param::Text(step.clone()));
    }
    s.push(" ORDER BY at, instance, step");
    s
}

pub(crate) fn policies_sql(action: Option<&str>) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT * FROM approval_policies");
    if let Some(a) = action {
        s.bind(" WHERE action = ?", Param::Text(a.to_owned()));
    }
    s.push(" ORDER BY action, scope, version");
    s
}

pub(crate) fn delegations_sql(to: Option<&str>, id: Option<&str>) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT * FROM delegations WHERE 1 = 1");
    if let Some(to) = to {
        s.bind(" AND LOWER(to_actor) = ?", Param::Text(to.trim().to_lowercase()));
    }
    if let Some(id) = id {
        s.bind(" AND id = ?", Param::Text(id.to_owned()));
    }
    s.push(" ORDER BY created_at, id");
    s
}

/// Expands the governance reads for a backend.
macro_rules! governance_operations {
    ($store:ty) => {
        impl $store {
            pub(crate) async fn policies(
                &self,
                action: Option<&str>,
            ) -> $crate::Result<Vec<$crate::governance::PolicyRecord>> {
                let rows = Self::query($crate::governance::policies_sql(action)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::governance::policy_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn delegations(
                &self,
                to: Option<&str>,
                id: Option<&str>,
            ) -> $crate::Result<Vec<$crate::governance::DelegationRecord>> {
                let rows = Self::query($crate::governance::delegations_sql(to, id)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::governance::delegation_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn ledger(
                &self,
                q: &$crate::governance::LedgerQuery,
            ) -> $crate::Result<Vec<$crate::governance::LedgerRecord>> {
                let rows = Self::query($crate::governance::ledger_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::governance::ledger_row).collect::<sqlx::Result<_>>()?)
            }
        }
    };
}

pub(crate) use governance_operations;
