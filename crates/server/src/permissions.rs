//! Who may do what: the one place where the API decides whether a caller's key allows a request.
//!
//! Every workflow, instance, task, dead-letter, location and connector handler calls
//! [`authorize`] with the [`Action`] it performs (and the location the action concerns, when
//! there is one) before it reads or changes anything.
//!
//! **For now** the rule is coarse: a key with the role `admin` may do everything; any other key
//! may do the read actions and claim and decide tasks. The governance issue replaces the body of
//! [`authorize`] with the permission table (role × action × location scope); the handlers do not
//! change.
//!
//! Location scopes: a key with `scopes` (location codes) sees the task inbox of those locations
//! and every location below them ([`visible_locations`]), and may read, claim and decide only
//! those tasks ([`check_location`]).

use std::collections::BTreeSet;

use backroom_engine::runner::Engine;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// What a request does, for [`authorize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// List workflows and read their definitions.
    ReadWorkflows,
    /// Check a definition without saving it.
    ValidateWorkflow,
    /// Upload a definition, activate or deactivate a version.
    EditWorkflows,
    /// List and read instances with their timelines.
    ReadInstances,
    /// Cancel an instance.
    CancelInstance,
    /// Read the task inbox and tasks.
    ReadTasks,
    /// Claim a task.
    ClaimTask,
    /// Decide a task.
    DecideTask,
    /// List dead-lettered actions.
    ReadDeadLetters,
    /// Retry, skip or compensate a dead-lettered action.
    ResolveDeadLetter,
    /// Read the location hierarchy.
    ReadLocations,
    /// Save locations.
    EditLocations,
    /// Read connectors and their circuit breakers.
    ReadConnectors,
    /// Send partner documents (EPCIS, UBL, EDI, POSLog) to be recorded as events.
    IngestDocuments,
    /// Read and verify the audit record.
    ReadAudit,
}

impl Action {
    /// Its name in messages, such as `edit workflows`.
    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadWorkflows => "read workflows",
            Action::ValidateWorkflow => "validate workflow definitions",
            Action::EditWorkflows => "edit workflows",
            Action::ReadInstances => "read instances",
            Action::CancelInstance => "cancel instances",
            Action::ReadTasks => "read tasks",
            Action::ClaimTask => "claim tasks",
            Action::DecideTask => "decide tasks",
            Action::ReadDeadLetters => "read dead letters",
            Action::ResolveDeadLetter => "resolve dead letters",
            Action::ReadLocations => "read locations",
            Action::EditLocations => "edit locations",
            Action::ReadConnectors => "read connectors",
            Action::IngestDocuments => "ingest documents",
            Action::ReadAudit => "read the audit record",
        }
    }

    /// Whether it changes nothing (or only checks).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Action::ReadWorkflows
                | Action::ValidateWorkflow
                | Action::ReadInstances
                | Action::ReadTasks
                | Action::ReadDeadLetters
                | Action::ReadLocations
                | Action::ReadConnectors
        )
    }
}

/// The role that may do everything.
pub const ADMIN: &str = "admin";
/// The role that may read the audit record (besides admins).
pub const AUDITOR: &str = "auditor";

/// Whether the caller's key may perform `action` (on `scope`, the location code the action
/// concerns, when it concerns one).
///
/// Today: `admin` keys may do everything; other keys may do the read actions, claim and
/// decide tasks, and ingest documents (as any key may ingest events). `scope` is not weighed
/// here yet (location scopes are applied to tasks by [`check_location`] and
/// [`visible_locations`]); the governance issue replaces this body with the permission table,
/// which will weigh it.
pub fn authorize(caller: &Caller, action: Action, scope: Option<&str>) -> Result<(), ApiError> {
    let _ = scope;
    let key = &caller.0;
    if key.roles.iter().any(|r| r == ADMIN) {
        return Ok(());
    }
    if action == Action::ReadAudit {
        if key.roles.iter().any(|r| r == AUDITOR) {
            return Ok(());
        }
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "the API key {:?} may not read the audit record: it needs the role `{AUDITOR}` or `{ADMIN}`",
                key.name
            ),
        ));
    }
    if action.is_read() || matches!(action, Action::ClaimTask | Action::DecideTask | Action::IngestDocuments) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        format!(
            "the API key {:?} (roles: {}) may not {}: it needs the role `{ADMIN}`",
            key.name,
            if key.roles.is_empty() { "none".to_owned() } else { key.roles.join(", ") },
            action.describe()
        ),
    ))
}

/// The location codes whose tasks the caller may see: `None` for a key without scopes (the
/// whole company), otherwise each scope and every location below it.
pub fn visible_locations(engine: &Engine, caller: &Caller) -> Option<Vec<String>> {
    let scopes = &caller.0.scopes;
    if scopes.is_empty() {
        return None;
    }
    let all: BTreeSet<String> = scopes.iter().flat_map(|s| engine.locations_under(s)).collect();
    Some(all.into_iter().collect())
}

/// Refuses a task (or other location-bound resource) outside the caller's location scopes. A
/// resource without a location (company-wide) is outside every scope.
pub fn check_location(engine: &Engine, caller: &Caller, location: Option<&str>) -> Result<(), ApiError> {
    let Some(visible) = visible_locations(engine, caller) else {
        return Ok(());
    };
    match location {
        Some(l) if visible.iter().any(|v| v == l) => Ok(()),
        other => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "the API key {:?} is scoped to {} and the locations below; this is {}",
                caller.0.name,
                caller.0.scopes.join(", "),
                other.map_or_else(|| "company-wide".to_owned(), |l| format!("at {l}"))
            ),
        )),
    }
}
