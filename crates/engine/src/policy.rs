//! Approval policies: who approves an action of a kind (a refund, a purchase order, a transfer, a
//! write-off, an invoice release), from which amount, and how much of it the system may decide
//! alone.
//!
//! A policy is a document named by its action type and a scope (the company, or a location code;
//! the most specific scope up the location hierarchy wins), saved in versions:
//!
//! ```
//! use backroom_engine::policy::{ApprovalPolicy, AutonomyLevel};
//! use rust_decimal::Decimal;
//!
//! let policy = ApprovalPolicy::from_json(&serde_json::json!({
//!     "action": "refund", "scope": "R-NORTH",
//!     "levels": [{"above": "0", "role": "store_manager"}, {"above": "500", "role": "finance_controller"}],
//!     "four_eyes_above": "2000",
//!     "autonomy": {"level": "auto", "max_amount": "50", "max_daily_amount": "400", "min_confidence": "0.9",
//!                  "demotion": {"window_hours": 168, "min_decisions": 10, "max_overturned_share": "0.2"}}
//! }))
//! .map_err(|e| e.to_string())?;
//! assert_eq!(policy.autonomy.level, AutonomyLevel::Auto);
//! // `above` is strictly greater: 500 reaches the first level only.
//! let roles = |amount: &str| -> Vec<String> {
//!     policy.chain(amount.parse::<Decimal>().unwrap()).into_iter().map(|s| s.role).collect()
//! };
//! assert_eq!(roles("500"), ["store_manager"]);
//! assert_eq!(roles("500.01"), ["store_manager", "finance_controller"]);
//! // Above `four_eyes_above`, the last level needs a second, different approver.
//! assert_eq!(roles("2500"), ["store_manager", "finance_controller", "finance_controller"]);
//! # Ok::<(), String>(())
//! ```
//!
//! Amounts are decimals written as strings, in company currency. The workflow engine reads
//! policies through a [`PolicyBook`] (see the `approval` step kind in [`crate::workflow`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The actor recorded when the system demotes a policy's autonomy.
pub const AUTONOMY_ACTOR: &str = "system:autonomy";

/// A field of a policy document that is wrong, and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct PolicyError {
    /// The field's path, such as `levels[1].above`.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl PolicyError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError { field: field.into(), message: message.into() }
    }
}

/// How much the system decides alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutonomyLevel {
    /// Recommend only: no one is asked and nothing is approved.
    Suggest,
    /// Prepare the action; people approve it, level by level.
    Approve,
    /// Approve alone within the limits; outside them, people approve.
    Auto,
}

impl AutonomyLevel {
    /// Its name: `suggest`, `approve`, `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            AutonomyLevel::Suggest => "suggest",
            AutonomyLevel::Approve => "approve",
            AutonomyLevel::Auto => "auto",
        }
    }
}

/// One approval level: from which amount (strictly above) which role approves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalLevel {
    /// The level applies to amounts strictly greater than this.
    pub above: Decimal,
    /// The role that approves at this level.
    pub role: String,
}

/// When automatic decisions are taken away from a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demotion {
    /// The window looked at, in hours back from an overturn.
    pub window_hours: u32,
    /// Automatic decisions the window must hold before a demotion is considered.
    pub min_decisions: u32,
    /// The share of overturned decisions that is still tolerated (a larger share demotes).
    pub max_overturned_share: Decimal,
}

/// The autonomy of a policy and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autonomy {
    /// The level.
    pub level: AutonomyLevel,
    /// The largest amount one automatic decision may approve.
    pub max_amount: Option<Decimal>,
    /// The largest total of automatic approvals per location and UTC day.
    pub max_daily_amount: Option<Decimal>,
    /// The lowest model confidence an automatic decision accepts.
    pub min_confidence: Option<Decimal>,
    /// When people overturn too many automatic decisions, the policy falls back to `approve`.
    pub demotion: Option<Demotion>,
}

impl Default for Autonomy {
    fn default() -> Self {
        Autonomy {
            level: AutonomyLevel::Approve,
            max_amount: None,
            max_daily_amount: None,
            min_confidence: None,
            demotion: None,
        }
    }
}

/// One step of an approval chain: the level and the role that approves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStep {
    /// The level, from 1.
    pub level: u32,
    /// The role.
    pub role: String,
    /// Whether this is the second approver of a four-eyes level.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second: bool,
}

/// An approval policy document, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// The action type: `refund`, `purchase_order`, `transfer`, `write_off`, `invoice_release`
    /// or any `[a-z_]+`.
    pub action: String,
    /// The location code it applies to (and below); `None` for the company.
    pub scope: Option<String>,
    /// The levels, by increasing `above`.
    pub levels: Vec<ApprovalLevel>,
    /// Above this amount the last level needs a second, different approver.
    pub four_eyes_above: Option<Decimal>,
    /// How much the system decides alone.
    pub autonomy: Autonomy,
}

fn is_action(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

fn decimal(value: &Value, field: &str) -> Result<Decimal, PolicyError> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(PolicyError::new(
                field,
                format!("must be a decimal amount as a string such as \"500\", not {other}"),
            ));
        }
    };
    text.parse::<Decimal>().map(|d| d.normalize()).map_err(|_| {
        PolicyError::new(field, format!("must be a decimal amount such as \"500\" or \"0.9\", not {text:?}"))
    })
}

fn opt_decimal(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<Decimal>, PolicyError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let d = decimal(v, &format!("{path}{key}"))?;
            if d.is_sign_negative() {
                return Err(PolicyError::new(format!("{path}{key}"), "must not be negative"));
            }
            Ok(Some(d))
        }
    }
}

fn object<'v>(value: &'v Value, field: &str, keys: &[&str]) -> Result<&'v Map<String, Value>, PolicyError> {
    let Some(map) = value.as_object() else {
        return Err(PolicyError::new(field, format!("must be an object with {}", keys.join(", "))));
    };
    if let Some(unknown) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        let at = if field.is_empty() { unknown.clone() } else { format!("{field}.{unknown}") };
        return Err(PolicyError::new(at, format!("is not a policy field; the fields here are {}", keys.join(", "))));
    }
    Ok(map)
}

impl ApprovalPolicy {
    /// Reads and checks a policy document (JSON). Every error names the field.
    pub fn from_json(value: &Value) -> Result<ApprovalPolicy, PolicyError> {
        let map = object(value, "", &["action", "scope", "levels", "four_eyes_above", "autonomy"])?;
        let action = match map.get("action") {
            Some(Value::String(s)) if is_action(s) => s.clone(),
            Some(other) => {
                return Err(PolicyError::new(
                    "action",
                    format!(
                        "must be an action type of lower-case letters and `_` such as refund, purchase_order, transfer, \
                         write_off or invoice_release, not {other}"
                    ),
                ));
            }
            None => return Err(PolicyError::new("action", "is required (refund, purchase_order, transfer, …)")),
        };
        let scope = match map.get("scope") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() && !s.chars().any(char::is_control) => {
                Some(s.trim().to_owned())
            }
            Some(other) => {
                return Err(PolicyError::new(
                    "scope",
                    format!("must be a location code or null (the company), not {other}"),
                ));
            }
        };
        let Some(Value::Array(items)) = map.get("levels") else {
            return Err(PolicyError::new("levels", "is required: a list of {above, role}, lowest threshold first"));
        };
        if items.is_empty() {
            return Err(PolicyError::new("levels", "must hold at least one level {above, role}"));
        }
        let mut levels: Vec<ApprovalLevel> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("levels[{i}]");
            let level = object(item, &path, &["above", "role"])?;
            let above = decimal(level.get("above").unwrap_or(&Value::Null), &format!("{path}.above"))?;
            if above.is_sign_negative() {
                return Err(PolicyError::new(format!("{path}.above"), "must not be negative"));
            }
            let role = match level.get("role") {
                Some(Value::String(r)) if is_action(r) => r.clone(),
                other => {
                    return Err(PolicyError::new(
                        format!("{path}.role"),
                        format!("must be a role name such as store_manager, not {}", other.unwrap_or(&Value::Null)),
                    ));
                }
            };
            if let Some(previous) = levels.last()
                && above <= previous.above
            {
                return Err(PolicyError::new(
                    format!("{path}.above"),
                    format!(
                        "must be greater than the level before it ({}): levels go from low to high",
                        previous.above
                    ),
                ));
            }
            levels.push(ApprovalLevel { above, role });
        }
        let four_eyes_above = opt_decimal(map, "four_eyes_above", "")?;
        let autonomy = match map.get("autonomy") {
            None | Some(Value::Null) => Autonomy::default(),
            Some(value) => Self::autonomy(value)?,
        };
        Ok(ApprovalPolicy { action, scope, levels, four_eyes_above, autonomy })
    }

    fn autonomy(value: &Value) -> Result<Autonomy, PolicyError> {
        let keys = ["level", "max_amount", "max_daily_amount", "min_confidence", "demotion"];
        let map = object(value, "autonomy", &keys)?;
        let level = match map.get("level").and_then(Value::as_str) {
            Some("suggest") => AutonomyLevel::Suggest,
            Some("approve") => AutonomyLevel::Approve,
            Some("auto") => AutonomyLevel::Auto,
            _ => {
                return Err(PolicyError::new(
                    "autonomy.level",
                    format!("must be suggest, approve or auto, not {}", map.get("level").unwrap_or(&Value::Null)),
                ));
            }
        };
        let max_amount = opt_decimal(map, "max_amount", "autonomy.")?;
        let max_daily_amount = opt_decimal(map, "max_daily_amount", "autonomy.")?;
        let min_confidence = opt_decimal(map, "min_confidence", "autonomy.")?;
        if let Some(c) = min_confidence
            && c > Decimal::ONE
        {
            return Err(PolicyError::new("autonomy.min_confidence", "must be from 0 to 1"));
        }
        if level == AutonomyLevel::Auto && max_amount.is_none() {
            return Err(PolicyError::new(
                "autonomy.max_amount",
                "is required with level auto: the largest amount the system may approve alone",
            ));
        }
        let demotion = match map.get("demotion") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let d = object(value, "autonomy.demotion", &["window_hours", "min_decisions", "max_overturned_share"])?;
                let count = |key: &str, max: u64| -> Result<u32, PolicyError> {
                    d.get(key)
                        .and_then(Value::as_u64)
                        .filter(|n| (1..=max).contains(n))
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            PolicyError::new(
                                format!("autonomy.demotion.{key}"),
                                format!("must be a whole number from 1 to {max}"),
                            )
                        })
                };
                let window_hours = count("window_hours", 24 * 366)?;
                let min_decisions = count("min_decisions", 1_000_000)?;
                let share = decimal(
                    d.get("max_overturned_share").unwrap_or(&Value::Null),
                    "autonomy.demotion.max_overturned_share",
                )?;
                if share.is_sign_negative() || share > Decimal::ONE {
                    return Err(PolicyError::new("autonomy.demotion.max_overturned_share", "must be from 0 to 1"));
                }
                Some(Demotion { window_hours, min_decisions, max_overturned_share: share })
            }
        };
        Ok(Autonomy { level, max_amount, max_daily_amount, min_confidence, demotion })
    }

    /// Reads a policy document written as JSON or YAML text.
    pub fn parse(text: &str) -> Result<ApprovalPolicy, PolicyError> {
        Self::from_json(&read_document(text)?)
    }

    /// The document as JSON (amounts as strings), as it is stored and shown.
    pub fn to_json(&self) -> Value {
        let mut autonomy = json!({"level": self.autonomy.level.as_str()});
        let a = &self.autonomy;
        for (key, value) in [
            ("max_amount", a.max_amount),
            ("max_daily_amount", a.max_daily_amount),
            ("min_confidence", a.min_confidence),
        ] {
            if let Some(v) = value {
                autonomy[key] = json!(v.to_string());
            }
        }
        if let Some(d) = &a.demotion {
            autonomy["demotion"] = json!({
                "window_hours": d.window_hours, "min_decisions": d.min_decisions,
                "max_overturned_share": d.max_overturned_share.to_string(),
            });
        }
        let mut doc = json!({
            "action": self.action,
            "scope": self.scope,
            "levels": self.levels.iter().map(|l| json!({"above": l.above.to_string(), "role": l.role})).collect::<Vec<_>>(),
            "autonomy": autonomy,
        });
        if let Some(f) = self.four_eyes_above {
            doc["four_eyes_above"] = json!(f.to_string());
        }
        doc
    }

    /// The approvals an amount needs, in order: one per level whose `above` it exceeds, and one
    /// more at the last level when it exceeds `four_eyes_above`. Empty when it reaches no level.
    pub fn chain(&self, amount: Decimal) -> Vec<ChainStep> {
        let mut steps: Vec<ChainStep> = self
            .levels
            .iter()
            .enumerate()
            .filter(|(_, l)| amount > l.above)
            .map(|(i, l)| ChainStep {
                level: u32::try_from(i + 1).unwrap_or(u32::MAX),
                role: l.role.clone(),
                second: false,
            })
            .collect();
        if let (Some(four_eyes), Some(last)) = (self.four_eyes_above, steps.last().cloned())
            && amount > four_eyes
        {
            steps.push(ChainStep { second: true, ..last });
        }
        steps
    }
}

/// The JSON value of a document written as JSON or YAML text (not checked yet).
pub fn read_document(text: &str) -> Result<Value, PolicyError> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(json_error) => serde_saphyr::from_str::<Value>(text).map_err(|yaml_error| {
            PolicyError::new(
                "(document)",
                format!("is neither valid JSON ({json_error}) nor valid YAML ({yaml_error})"),
            )
        }),
    }
}

/// A saved version of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    /// The version, from 1 for each action and scope.
    pub version: i64,
    /// The document.
    pub policy: ApprovalPolicy,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Who saved it.
    pub created_by: String,
}

/// What the workflow engine may read of the policies: the newest version of each, and the
/// automatic approvals already given today.
pub trait PolicyBook: Send + Sync {
    /// The newest version of the policy for `action` at exactly `scope` (`None`: the company).
    fn policy(&self, action: &str, scope: Option<&str>) -> Option<Arc<PolicyVersion>>;
    /// The total amount approved automatically on `day` (UTC) under the policy for `action` at
    /// `location` (`None`: company-wide).
    fn automatic_total(&self, action: &str, location: Option<&str>, day: NaiveDate) -> Decimal;
}

/// A book without policies (workflows without `approval` steps).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPolicies;

impl PolicyBook for NoPolicies {
    fn policy(&self, _: &str, _: Option<&str>) -> Option<Arc<PolicyVersion>> {
        None
    }

    fn automatic_total(&self, _: &str, _: Option<&str>, _: NaiveDate) -> Decimal {
        Decimal::ZERO
    }
}

/// Policies and today's automatic totals held in memory.
#[derive(Debug, Clone, Default)]
pub struct PolicyCatalog {
    /// The newest version by (action, scope).
    pub newest: HashMap<(String, Option<String>), Arc<PolicyVersion>>,
    /// Automatic totals by (action, location, day).
    pub totals: HashMap<(String, Option<String>, NaiveDate), Decimal>,
}

impl PolicyCatalog {
    /// Adds a version (kept when it is the newest of its action and scope).
    pub fn add(&mut self, version: PolicyVersion) {
        let key = (version.policy.action.clone(), version.policy.scope.clone());
        let newer = self.newest.get(&key).is_none_or(|v| v.version < version.version);
        if newer {
            self.newest.insert(key, Arc::new(version));
        }
    }
}

impl PolicyBook for PolicyCatalog {
    fn policy(&self, action: &str, scope: Option<&str>) -> Option<Arc<PolicyVersion>> {
        self.newest.get(&(action.to_owned(), scope.map(str::to_owned))).cloned()
    }

    fn automatic_total(&self, action: &str, location: Option<&str>, day: NaiveDate) -> Decimal {
        self.totals.get(&(action.to_owned(), location.map(str::to_owned), day)).copied().unwrap_or_default()
    }
}

/// One who may not claim or decide a task, and why ("alice requested this refund").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// The person.
    pub actor: String,
    /// Why.
    pub reason: String,
}

impl Exclusion {
    /// Whether `actor` is this person (names compare case-insensitively).
    pub fn is(&self, actor: &str) -> bool {
        self.actor.trim().to_lowercase() == actor.trim().to_lowercase()
    }
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}
