//! Approval policies, delegations and automatic decisions, as the runner keeps and changes them:
//! policies cached for `approval` steps (refreshed on change), today's automatic totals read for
//! each transition that may need them, policy versions and delegations saved with their audit
//! entries, and overturns that demote a policy whose automatic decisions people reverse too often.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use backroom_model::Role;
use backroom_store::{
    AuditEntry, DelegationChange, DelegationRecord, EngineWrite, LedgerQuery, LedgerRecord, Overturn, PolicyRecord,
    StoreError,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Engine, EngineError, Inner};
use crate::policy::{AUTONOMY_ACTOR, ApprovalPolicy, AutonomyLevel, PolicyBook, PolicyVersion};
use crate::workflow::{StepKind, Workflow};

/// How long cached policies are used before they are read again (changes made by this process
/// refresh them at once; this bounds how long another process's change goes unseen).
const POLICY_CACHE: StdDuration = StdDuration::from_secs(2);

/// The longest delegation.
pub const MAX_DELEGATION_DAYS: i64 = 90;

type Newest = HashMap<(String, Option<String>), Arc<PolicyVersion>>;

/// The policies a process knows, and when they were read.
#[derive(Default)]
pub(crate) struct PolicyCache {
    read_at: Option<Instant>,
    newest: Arc<Newest>,
}

/// What one transition may read of the policies.
pub(crate) struct PolicySnapshot {
    newest: Arc<Newest>,
    totals: HashMap<(String, Option<String>), Decimal>,
    day: Option<NaiveDate>,
}

impl PolicyBook for PolicySnapshot {
    fn policy(&self, action: &str, scope: Option<&str>) -> Option<Arc<PolicyVersion>> {
        self.newest.get(&(action.to_owned(), scope.map(str::to_owned))).cloned()
    }

    fn automatic_total(&self, action: &str, location: Option<&str>, day: NaiveDate) -> Decimal {
        if self.day != Some(day) {
            return Decimal::ZERO;
        }
        self.totals.get(&(action.to_owned(), location.map(str::to_owned))).copied().unwrap_or_default()
    }
}

/// A version of a stored policy, read back.
fn version_of(record: &PolicyRecord) -> Result<PolicyVersion, String> {
    let policy = ApprovalPolicy::from_json(&record.document).map_err(|e| e.to_string())?;
    Ok(PolicyVersion {
        version: record.version,
        policy,
        created_at: record.created_at,
        created_by: record.created_by.clone(),
    })
}

fn scope_text(scope: Option<&str>) -> String {
    scope.map_or_else(|| "company".to_owned(), str::to_owned)
}

/// A delegation to create.
#[derive(Debug, Clone)]
pub struct NewDelegation {
    /// Whose role is lent.
    pub from: String,
    /// To whom.
    pub to: String,
    /// The role.
    pub role: String,
    /// Where (and below); `None` for the company.
    pub scope: Option<String>,
    /// From when.
    pub starts_at: DateTime<Utc>,
    /// Until when (exclusive).
    pub ends_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// What an overturn did.
#[derive(Debug, Clone)]
pub struct Overturned {
    /// The ledger row, now overturned.
    pub decision: LedgerRecord,
    /// The new policy version when the overturn demoted the policy.
    pub demoted: Option<PolicyRecord>,
}

impl Inner {
    /// The policies for a transition of `workflow`: with today's automatic totals when it has
    /// `approval` steps.
    pub(crate) async fn policy_snapshot(&self, workflow: &Workflow, now: DateTime<Utc>) -> PolicySnapshot {
        let approvals = workflow.steps.iter().any(|s| matches!(s.kind, StepKind::Approval(_)));
        if !approvals {
            return PolicySnapshot { newest: Arc::default(), totals: HashMap::new(), day: None };
        }
        let stale = self.policies.read().map(|c| c.read_at.is_none_or(|t| t.elapsed() > POLICY_CACHE)).unwrap_or(true);
        if stale && let Err(e) = self.reload_policies().await {
            tracing::warn!(error = %e, "approval policies could not be read; using the cached ones");
        }
        let newest = self.policies.read().map(|c| Arc::clone(&c.newest)).unwrap_or_default();
        let day = now.date_naive();
        let mut totals: HashMap<(String, Option<String>), Decimal> = HashMap::new();
        match self.store.ledger(&LedgerQuery { day: Some(day), ..LedgerQuery::default() }).await {
            Ok(rows) => {
                for r in rows {
                    *totals.entry((r.policy, r.location)).or_default() += r.amount;
                }
            }
            Err(e) => {
                // Unknown totals must not let automatic approvals through: count the day as full.
                tracing::warn!(error = %e, "today's automatic approvals could not be read; none will be automatic");
                for key in newest.keys() {
                    totals.insert((key.0.clone(), None), Decimal::from(i64::MAX));
                }
                return PolicySnapshot { newest, totals, day: None };
            }
        }
        PolicySnapshot { newest, totals, day: Some(day) }
    }

    /// Reads every policy version again.
    pub(crate) async fn reload_policies(&self) -> Result<(), StoreError> {
        let records = self.store.policies(None).await?;
        let mut newest: Newest = HashMap::new();
        for record in &records {
            match version_of(record) {
                Ok(v) => {
                    let key = (record.action.clone(), record.scope.clone());
                    if newest.get(&key).is_none_or(|p| p.version < v.version) {
                        newest.insert(key, Arc::new(v));
                    }
                }
                Err(e) => tracing::error!(policy = %record.action, version = record.version, error = %e,
                    "a saved approval policy is not readable"),
            }
        }
        if let Ok(mut cache) = self.policies.write() {
            *cache = PolicyCache { read_at: Some(Instant::now()), newest: Arc::new(newest) };
        }
        Ok(())
    }

    /// The write that saves `policy` as the next version of its action and scope, by `actor`.
    async fn policy_write(
        &self,
        policy: &ApprovalPolicy,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(PolicyRecord, AuditEntry), EngineError> {
        let versions: Vec<PolicyRecord> =
            self.store.policies(Some(&policy.action)).await?.into_iter().filter(|r| r.scope == policy.scope).collect();
        let before = versions.iter().max_by_key(|r| r.version);
        let record = PolicyRecord {
            action: policy.action.clone(),
            scope: policy.scope.clone(),
            version: before.map_or(1, |b| b.version + 1),
            document: policy.to_json(),
            created_at: now,
            created_by: actor.to_owned(),
        };
        let entry = AuditEntry {
            scope: policy.scope.clone(),
            before: before.map(|b| json!({"version": b.version, "document": b.document})),
            after: Some(json!({"version": record.version, "document": record.document})),
            ..AuditEntry::new(
                now,
                actor,
                "policy.changed",
                &format!("policy/{}@{}", policy.action, scope_text(policy.scope.as_deref())),
            )
        };
        Ok((record, entry))
    }
}

fn conflict(e: StoreError, what: &str) -> EngineError {
    match e {
        StoreError::Conflict(_) => EngineError::Conflict(format!("{what} changed meanwhile: read it again and retry")),
        other => EngineError::Store(other),
    }
}

impl Engine {
    /// The engine's current time (the injected clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Saved policy versions (of one action, or all).
    pub async fn policies(&self, action: Option<&str>) -> Result<Vec<PolicyRecord>, EngineError> {
        Ok(self.inner.store.policies(action).await?)
    }

    /// Saves a policy as the next version of its action and scope, audited as `policy.changed`
    /// with the version before and after; later `approval` steps use it at once.
    pub async fn save_policy(&self, policy: &ApprovalPolicy, actor: &str) -> Result<PolicyRecord, EngineError> {
        let now = self.now();
        let (record, entry) = self.inner.policy_write(policy, actor, now).await?;
        let write = EngineWrite { policies: vec![record.clone()], audit: vec![entry], ..EngineWrite::default() };
        self.inner.store.commit_engine(write, Vec::new()).await.map_err(|e| conflict(e, "the policy"))?;
        self.inner.reload_policies().await?;
        Ok(record)
    }

    /// Delegations (to one person, or all), oldest first.
    pub async fn delegations(&self, to: Option<&str>) -> Result<Vec<DelegationRecord>, EngineError> {
        Ok(self.inner.store.delegations(to).await?)
    }

    /// Creates a delegation, audited as `delegation.created` by `actor`. `ends_at` must be after
    /// `starts_at`, at most 90 days later; `role` must be a role; no one delegates to themself.
    pub async fn create_delegation(&self, d: NewDelegation, actor: &str) -> Result<DelegationRecord, EngineError> {
        let bad = |field: &str, message: String| EngineError::BadRequest(format!("`{field}`: {message}"));
        if d.role.parse::<Role>().is_err() {
            return Err(bad("role", format!("{:?} is not a role; the roles are {}", d.role, Role::names())));
        }
        if d.to.trim().is_empty() {
            return Err(bad("to", "name the person who receives the role".to_owned()));
        }
        if d.to.trim().eq_ignore_ascii_case(d.from.trim()) {
            return Err(bad("to", format!("{} cannot delegate to themself", d.from)));
        }
        if d.ends_at <= d.starts_at {
            return Err(bad("ends_at", format!("must be after starts_at ({})", d.starts_at.to_rfc3339())));
        }
        if d.ends_at - d.starts_at > Duration::days(MAX_DELEGATION_DAYS) {
            return Err(bad(
                "ends_at",
                format!("a delegation lasts at most {MAX_DELEGATION_DAYS} days from starts_at"),
            ));
        }
        if d.reason.trim().is_empty() {
            return Err(bad("reason", "say why the role is delegated".to_owned()));
        }
        let now = self.now();
        let record = DelegationRecord {
            id: uuid::Uuid::now_v7().to_string(),
            from: d.from.trim().to_owned(),
            to: d.to.trim().to_owned(),
            role: d.role,
            scope: d.scope,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            reason: d.reason,
            created_at: now,
            created_by: actor.to_owned(),
            revoked_at: None,
            revoked_by: None,
        };
        let entry = AuditEntry {
            role: Some(record.role.clone()),
            scope: record.scope.clone(),
            after: serde_json::to_value(&record).ok(),
            reason: Some(record.reason.clone()),
            ..AuditEntry::new(now, actor, "delegation.created", &format!("delegation/{}", record.id))
        };
        let write = EngineWrite {
            delegations: vec![DelegationChange::Create(record.clone())],
            audit: vec![entry],
            ..EngineWrite::default()
        };
        self.inner.store.commit_engine(write, Vec::new()).await?;
        Ok(record)
    }

    /// Revokes a delegation that is in force or yet to start, audited as `delegation.revoked`.
    pub async fn revoke_delegation(&self, id: &str, actor: &str) -> Result<DelegationRecord, EngineError> {
        let Some(record) = self.inner.store.delegation(id).await? else {
            return Err(EngineError::NotFound(format!("no delegation has the id {id}")));
        };
        let now = self.now();
        if record.revoked_at.is_some() || record.ends_at <= now {
            return Err(EngineError::Conflict(format!("delegation {id} has already ended or been revoked")));
        }
        let revoked = DelegationRecord { revoked_at: Some(now), revoked_by: Some(actor.to_owned()), ..record.clone() };
        let entry = AuditEntry {
            role: Some(record.role.clone()),
            scope: record.scope.clone(),
            before: serde_json::to_value(&record).ok(),
            after: serde_json::to_value(&revoked).ok(),
            ..AuditEntry::new(now, actor, "delegation.revoked", &format!("delegation/{id}"))
        };
        let write = EngineWrite {
            delegations: vec![DelegationChange::Revoke(id.to_owned(), now, actor.to_owned())],
            audit: vec![entry],
            ..EngineWrite::default()
        };
        self.inner.store.commit_engine(write, Vec::new()).await.map_err(|e| conflict(e, "the delegation"))?;
        Ok(revoked)
    }

    /// Overturns an automatic decision (audited as `decision.overturned`). When, within the
    /// policy's demotion window, at least `min_decisions` automatic decisions were taken under
    /// the policy and its scope and the overturned share is above `max_overturned_share`, the
    /// policy is demoted in the same transaction: a new version with autonomy `approve`, saved
    /// by `system:autonomy` and audited as `autonomy.demoted`.
    pub async fn overturn_decision(
        &self,
        instance: &str,
        step: &str,
        reason: &str,
        actor: &str,
    ) -> Result<Overturned, EngineError> {
        let q = LedgerQuery { instance_step: Some((instance.to_owned(), step.to_owned())), ..LedgerQuery::default() };
        let Some(row) = self.inner.store.ledger(&q).await?.into_iter().next() else {
            return Err(EngineError::NotFound(format!(
                "no automatic decision was recorded for step {step} of instance {instance}"
            )));
        };
        if row.overturned {
            return Err(EngineError::Conflict(format!(
                "the automatic decision of step {step} of instance {instance} was already overturned by {}",
                row.overturned_by.as_deref().unwrap_or("someone")
            )));
        }
        let now = self.now();
        let decision = LedgerRecord {
            overturned: true,
            overturned_at: Some(now),
            overturned_by: Some(actor.to_owned()),
            overturn_reason: Some(reason.to_owned()),
            ..row.clone()
        };
        let subject = format!("instance/{instance}/{step}");
        let mut write = EngineWrite {
            overturns: vec![Overturn {
                instance: instance.to_owned(),
                step: step.to_owned(),
                at: now,
                by: actor.to_owned(),
                reason: reason.to_owned(),
            }],
            audit: vec![AuditEntry {
                scope: row.location.clone(),
                before: serde_json::to_value(&row).ok(),
                after: serde_json::to_value(&decision).ok(),
                reason: Some(reason.to_owned()),
                ..AuditEntry::new(now, actor, "decision.overturned", &subject)
            }],
            ..EngineWrite::default()
        };
        let demotion = self.demotion(&row, now).await?;
        let demoted = match demotion {
            Some((policy, numbers)) => {
                let (record, mut entry) = self.inner.policy_write(&policy, AUTONOMY_ACTOR, now).await?;
                entry.reason = Some(format!(
                    "{} of {} automatic decisions in the last {} hours were overturned",
                    numbers["overturned"], numbers["decisions"], numbers["window_hours"]
                ));
                let demoted_entry = AuditEntry {
                    scope: policy.scope.clone(),
                    after: Some(numbers),
                    reason: entry.reason.clone(),
                    ..AuditEntry::new(
                        now,
                        AUTONOMY_ACTOR,
                        "autonomy.demoted",
                        &format!("policy/{}@{}", policy.action, scope_text(policy.scope.as_deref())),
                    )
                };
                write.policies.push(record.clone());
                write.audit.push(entry);
                write.audit.push(demoted_entry);
                Some(record)
            }
            None => None,
        };
        self.inner.store.commit_engine(write, Vec::new()).await.map_err(|e| conflict(e, "the decision"))?;
        if let Some(record) = &demoted {
            metrics::counter!("backroom_autonomy_demotions_total", "policy" => record.action.clone()).increment(1);
            tracing::warn!(policy = %record.action, scope = ?record.scope, version = record.version,
                "automatic decisions were overturned too often: the policy now asks people to approve");
            self.inner.reload_policies().await?;
        }
        Ok(Overturned { decision, demoted })
    }

    /// The demoted policy and the numbers behind it, when overturning `row` (not yet marked)
    /// demotes its policy.
    async fn demotion(
        &self,
        row: &LedgerRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApprovalPolicy, Value)>, EngineError> {
        let versions: Vec<PolicyRecord> = self
            .inner
            .store
            .policies(Some(&row.policy))
            .await?
            .into_iter()
            .filter(|r| r.scope == row.policy_scope)
            .collect();
        let Some(newest) = versions.iter().max_by_key(|r| r.version) else { return Ok(None) };
        let Ok(current) = version_of(newest) else { return Ok(None) };
        let mut policy = current.policy;
        let Some(rule) = policy.autonomy.demotion.clone() else { return Ok(None) };
        if policy.autonomy.level != AutonomyLevel::Auto {
            return Ok(None);
        }
        let since = now - Duration::hours(i64::from(rule.window_hours));
        let q = LedgerQuery {
            policy: Some(row.policy.clone()),
            policy_scope: Some(row.policy_scope.clone()),
            since: Some(since),
            ..LedgerQuery::default()
        };
        let rows = self.inner.store.ledger(&q).await?;
        let decisions = rows.len();
        let overturned =
            rows.iter().filter(|r| r.overturned || (r.instance == row.instance && r.step == row.step)).count();
        if decisions == 0 || decisions < rule.min_decisions as usize {
            return Ok(None);
        }
        let share = Decimal::from(overturned as u64) / Decimal::from(decisions as u64);
        if share <= rule.max_overturned_share {
            return Ok(None);
        }
        policy.autonomy.level = AutonomyLevel::Approve;
        let numbers = json!({
            "policy": row.policy, "scope": row.policy_scope, "from_version": newest.version,
            "window_hours": rule.window_hours, "decisions": decisions, "overturned": overturned,
            "overturned_share": share.round_dp(4).normalize().to_string(),
            "max_overturned_share": rule.max_overturned_share.to_string(),
            "min_decisions": rule.min_decisions, "level": {"from": "auto", "to": "approve"},
        });
        Ok(Some((policy, numbers)))
    }
}
