//! Who may do what: the one table of permissions, and the checks every route goes through.
//!
//! Every `/v1` route is declared in [`ROUTES`] with the [`Action`] it performs, by its OpenAPI
//! operation id. The authorisation middleware ([`require_permission`]) refuses a request whose
//! route is not declared there (deny by default: a new route is unreachable until it is
//! declared) or whose caller holds no role that [`ROLES`] allows the action. Handlers then weigh
//! the location the request concerns against the scopes of the caller's grants:
//! [`authorize`] for one resource at one location, [`visible_locations`] to filter lists.
//!
//! A grant at a location covers that location and every location below it in the hierarchy
//! (company → region → district → store/DC). A grant over the company covers everything,
//! including company-wide resources that have no location.

use std::collections::{BTreeSet, HashMap};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use backroom_engine::runner::Engine;
use backroom_model::Role;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// What a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Send events (POS, inventory, documents already in the canonical model).
    IngestEvents,
    /// Send partner documents (EPCIS, UBL, EDI, POSLog) to be recorded as events.
    IngestDocuments,
    /// Read the event log.
    ReadEvents,
    /// Read projections: stock positions, daily sales.
    ReadReports,
    /// Read the event catalogue and its schemas.
    ReadSchemas,
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
    /// Read connectors (with their circuit breakers) and webhooks (with their deliveries).
    ReadConnectors,
    /// Read and verify the audit record.
    ReadAudit,
    /// List people's accounts.
    ReadUsers,
    /// Create, change and disable people's accounts.
    ManageUsers,
    /// Read approval and autonomy policies and automatic decisions.
    ReadPolicies,
    /// Change approval and autonomy policies.
    EditPolicies,
    /// Overturn an automatic decision.
    OverturnDecision,
    /// Delegate one's own approval authority for a time, or read delegations.
    Delegate,
}

impl Action {
    /// Its name in messages, such as `edit workflows`.
    pub fn describe(self) -> &'static str {
        match self {
            Action::IngestEvents => "send events",
            Action::IngestDocuments => "send partner documents",
            Action::ReadEvents => "read the event log",
            Action::ReadReports => "read stock and sales reports",
            Action::ReadSchemas => "read the event catalogue",
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
            Action::ReadConnectors => "read connectors and webhooks",
            Action::ReadAudit => "read the audit record",
            Action::ReadUsers => "read user accounts",
            Action::ManageUsers => "manage user accounts",
            Action::ReadPolicies => "read approval policies",
            Action::EditPolicies => "edit approval policies",
            Action::OverturnDecision => "overturn automatic decisions",
            Action::Delegate => "delegate approvals",
        }
    }

    /// Whether the action concerns resources at locations (so that a grant at a location allows
    /// it there and below); the others concern the company's configuration as a whole, which a
    /// grant at any scope lets its role read as far as [`ROLES`] allows.
    pub fn is_located(self) -> bool {
        matches!(
            self,
            Action::IngestEvents
                | Action::ReadEvents
                | Action::ReadReports
                | Action::ReadInstances
                | Action::CancelInstance
                | Action::ReadTasks
                | Action::ClaimTask
                | Action::DecideTask
        )
    }
}

use Action::*;

/// What reading the operation of a store needs: the log, reports, catalogue, locations,
/// workflows, instances and the task inbox.
const OPERATE: &[Action] = &[
    ReadEvents,
    ReadReports,
    ReadSchemas,
    ReadLocations,
    ReadWorkflows,
    ValidateWorkflow,
    ReadInstances,
    ReadTasks,
    ClaimTask,
    DecideTask,
];

/// The permission table: what each role may do. Nothing else grants anything.
pub const ROLES: &[(Role, &[&[Action]])] = &[
    (Role::StoreAssociate, &[OPERATE, &[IngestEvents]]),
    (Role::StoreManager, &[OPERATE, &[IngestEvents, CancelInstance, ReadDeadLetters, Delegate, ReadPolicies]]),
    (Role::DistrictManager, &[OPERATE, &[IngestEvents, CancelInstance, ReadDeadLetters, Delegate, ReadPolicies]]),
    (
        Role::RegionalOps,
        &[
            OPERATE,
            &[
                IngestEvents,
                CancelInstance,
                ReadDeadLetters,
                ResolveDeadLetter,
                ReadConnectors,
                Delegate,
                ReadPolicies,
                OverturnDecision,
            ],
        ],
    ),
    (Role::Merchandiser, &[OPERATE, &[IngestEvents, Delegate, ReadPolicies]]),
    (Role::Buyer, &[OPERATE, &[IngestDocuments, Delegate, ReadPolicies]]),
    (
        Role::ApClerk,
        &[OPERATE, &[IngestDocuments, ReadDeadLetters, ResolveDeadLetter, Delegate, ReadPolicies, OverturnDecision]],
    ),
    (
        Role::FinanceController,
        &[OPERATE, &[CancelInstance, ReadDeadLetters, ReadAudit, Delegate, ReadPolicies, OverturnDecision]],
    ),
    (Role::CustomerService, &[OPERATE, &[IngestEvents, Delegate]]),
    (Role::Integration, &[&[IngestEvents, IngestDocuments, ReadEvents, ReadReports, ReadSchemas, ReadLocations]]),
    (
        Role::Auditor,
        &[&[
            ReadEvents,
            ReadReports,
            ReadSchemas,
            ReadLocations,
            ReadWorkflows,
            ValidateWorkflow,
            ReadInstances,
            ReadTasks,
            ReadDeadLetters,
            ReadConnectors,
            ReadAudit,
            ReadUsers,
            ReadPolicies,
        ]],
    ),
    (Role::Admin, &[ALL_ACTIONS]),
];

/// Every action (what `admin` may do).
pub const ALL_ACTIONS: &[Action] = &[
    IngestEvents,
    IngestDocuments,
    ReadEvents,
    ReadReports,
    ReadSchemas,
    ReadWorkflows,
    ValidateWorkflow,
    EditWorkflows,
    ReadInstances,
    CancelInstance,
    ReadTasks,
    ClaimTask,
    DecideTask,
    ReadDeadLetters,
    ResolveDeadLetter,
    ReadLocations,
    EditLocations,
    ReadConnectors,
    ReadAudit,
    ReadUsers,
    ManageUsers,
    ReadPolicies,
    EditPolicies,
    OverturnDecision,
    Delegate,
];

/// Every `/v1` route by OpenAPI operation id, with the action it performs. A route missing
/// here answers 403 to everyone.
pub const ROUTES: &[(&str, Action)] = &[
    ("ingest_events", IngestEvents),
    ("list_events", ReadEvents),
    ("ingest_document", IngestDocuments),
    ("stock_positions", ReadReports),
    ("daily_sales", ReadReports),
    ("list_event_types", ReadSchemas),
    ("event_schema", ReadSchemas),
    ("list_workflows", ReadWorkflows),
    ("upload_workflow", EditWorkflows),
    ("validate_workflow", ValidateWorkflow),
    ("get_workflow", ReadWorkflows),
    ("get_workflow_version", ReadWorkflows),
    ("activate_workflow_version", EditWorkflows),
    ("deactivate_workflow_version", EditWorkflows),
    ("list_instances", ReadInstances),
    ("get_instance", ReadInstances),
    ("cancel_instance", CancelInstance),
    ("list_tasks", ReadTasks),
    ("get_task", ReadTasks),
    ("claim_task", ClaimTask),
    ("decide_task", DecideTask),
    ("list_dead_letters", ReadDeadLetters),
    ("retry_dead_letter", ResolveDeadLetter),
    ("skip_dead_letter", ResolveDeadLetter),
    ("compensate_dead_letter", ResolveDeadLetter),
    ("list_locations", ReadLocations),
    ("save_locations", EditLocations),
    ("list_connectors", ReadConnectors),
    ("list_webhooks", ReadConnectors),
    ("list_audit", ReadAudit),
    ("verify_audit", ReadAudit),
    ("list_users", ReadUsers),
    ("create_user", ManageUsers),
    ("disable_user", ManageUsers),
    ("list_policies", ReadPolicies),
    ("get_policy", ReadPolicies),
    ("save_policy", EditPolicies),
    ("create_delegation", Delegate),
    ("list_delegations", Delegate),
    ("revoke_delegation", Delegate),
    ("overturn_decision", OverturnDecision),
];

/// The action a route (by operation id) performs, if it is declared.
pub fn route_action(operation_id: &str) -> Option<Action> {
    ROUTES.iter().find(|(op, _)| *op == operation_id).map(|(_, a)| *a)
}

/// Whether `role` may perform `action` anywhere.
pub fn role_allows(role: Role, action: Action) -> bool {
    ROLES.iter().filter(|(r, _)| *r == role).any(|(_, sets)| sets.iter().any(|set| set.contains(&action)))
}

/// The routes of the API by `(METHOD, path template)`, mapped to their operation ids; built
/// once from the OpenAPI document.
#[derive(Debug, Default)]
pub struct RouteTable(HashMap<(String, String), String>);

impl RouteTable {
    /// Reads the operations of an OpenAPI document (its `{param}` path templates are axum's).
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut table = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ];
            for (method, op) in ops {
                if let Some(id) = op.as_ref().and_then(|o| o.operation_id.clone()) {
                    table.insert((method.to_owned(), path.clone()), id);
                }
            }
        }
        RouteTable(table)
    }

    fn operation(&self, method: &str, path: &str) -> Option<&str> {
        self.0.get(&(method.to_owned(), path.to_owned())).map(String::as_str)
    }
}

/// Middleware on `/v1` (after authentication): refuses a route without a declared permission,
/// and a caller whose roles do not allow the route's action anywhere.
pub async fn require_permission(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "this route needs credentials"))?;
    let path = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let method = request.method().as_str().to_owned();
    let action = state.routes.operation(&method, &path).and_then(route_action).ok_or_else(|| {
        ApiError::new(ErrorCode::Forbidden, format!("{method} {path} has no declared permission, so no one may use it"))
    })?;
    if !caller.grants.iter().any(|g| role_allows(g.role, action)) {
        return Err(refused(caller, action));
    }
    Ok(next.run(request).await)
}

fn refused(caller: &Caller, action: Action) -> ApiError {
    let roles: Vec<&str> = Role::ALL.iter().filter(|r| role_allows(**r, action)).map(|r| r.as_str()).collect();
    ApiError::new(
        ErrorCode::Forbidden,
        format!(
            "{:?} ({}) may not {}: that needs one of the roles {}",
            caller.name,
            caller.grants_text(),
            action.describe(),
            roles.join(", ")
        ),
    )
}

/// Whether the caller may perform `action` on something at `location` (`None`: something
/// company-wide). For actions that are not [`Action::is_located`], any grant of a role that
/// allows the action suffices.
pub fn authorize(engine: &Engine, caller: &Caller, action: Action, location: Option<&str>) -> Result<(), ApiError> {
    let mut allowed = caller.grants.iter().filter(|g| role_allows(g.role, action)).peekable();
    if allowed.peek().is_none() {
        return Err(refused(caller, action));
    }
    if !action.is_located() {
        return Ok(());
    }
    let covers = |scope: &Option<String>| match (scope, location) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(s), Some(l)) => s == l || engine.locations_under(s).iter().any(|c| c == l),
    };
    if allowed.any(|g| covers(&g.scope)) {
        return Ok(());
    }
    Err(outside_scope(caller, action, &location.map_or_else(|| "company-wide".to_owned(), |l| format!("at {l}"))))
}

/// The refusal of something outside the caller's scopes; `what` says where it is.
pub fn outside_scope(caller: &Caller, action: Action, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        format!(
            "{:?} may {} only within {}; this is {what}",
            caller.name,
            action.describe(),
            scopes_text(caller, action)
        ),
    )
}

fn scopes_text(caller: &Caller, action: Action) -> String {
    let scopes: BTreeSet<&str> =
        caller.grants.iter().filter(|g| role_allows(g.role, action)).filter_map(|g| g.scope.as_deref()).collect();
    scopes.into_iter().collect::<Vec<_>>().join(", ")
}

/// The location codes within which the caller may perform `action`: `None` when a grant over
/// the company allows it (everything), otherwise each scope of an allowing grant and every
/// location below it.
pub fn visible_locations(engine: &Engine, caller: &Caller, action: Action) -> Option<Vec<String>> {
    let allowed: Vec<_> = caller.grants.iter().filter(|g| role_allows(g.role, action)).collect();
    if allowed.iter().any(|g| g.scope.is_none()) {
        return None;
    }
    let all: BTreeSet<String> =
        allowed.iter().filter_map(|g| g.scope.as_deref()).flat_map(|s| engine.locations_under(s)).collect();
    Some(all.into_iter().collect())
}

/// The scope restriction of a list that filters by one exact location: a named `location`
/// must be within the caller's scopes for `action`, and the rows are limited to those scopes
/// (`None`: no limit).
pub fn list_scope(
    engine: &Engine,
    caller: &Caller,
    action: Action,
    location: Option<&str>,
) -> Result<Option<Vec<String>>, ApiError> {
    if location.is_some() {
        authorize(engine, caller, action, location)?;
    }
    Ok(visible_locations(engine, caller, action))
}

/// The locations a list may show for `action`: those under `asked` (when the request names a
/// location) within the caller's scopes. `None` means no restriction. Naming a location entirely
/// outside the caller's scopes is refused rather than answered with an empty list.
pub fn location_filter(
    engine: &Engine,
    caller: &Caller,
    action: Action,
    asked: Option<&str>,
) -> Result<Option<Vec<String>>, ApiError> {
    let asked_set = asked.map(|code| engine.locations_under(code));
    let Some(visible) = visible_locations(engine, caller, action) else {
        return Ok(asked_set);
    };
    let Some(asked_set) = asked_set else {
        return Ok(Some(visible));
    };
    let visible: BTreeSet<String> = visible.into_iter().collect();
    let shown: Vec<String> = asked_set.into_iter().filter(|l| visible.contains(l)).collect();
    if shown.is_empty() {
        return authorize(engine, caller, action, asked).map(|()| Some(shown));
    }
    Ok(Some(shown))
}

/// The permission table as Markdown (one row per action: the routes and the roles allowed), as
/// the README shows it.
pub fn permission_matrix() -> String {
    let mut out = String::from("| action | routes | roles |\n|---|---|---|\n");
    for action in ALL_ACTIONS {
        let routes: Vec<String> = ROUTES.iter().filter(|(_, a)| a == action).map(|(op, _)| format!("`{op}`")).collect();
        let roles: Vec<&str> = Role::ALL.iter().filter(|r| role_allows(**r, *action)).map(|r| r.as_str()).collect();
        let missing: Vec<&str> = Role::ALL.iter().filter(|r| !role_allows(**r, *action)).map(|r| r.as_str()).collect();
        let roles = match missing.len() {
            0 => "every role".to_owned(),
            n if n < roles.len() => format!("every role but {}", missing.join(", ")),
            _ => roles.join(", "),
        };
        out.push_str(&format!("| {} | {} | {roles} |\n", action.describe(), routes.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_shows_the_permission_table() {
        let readme = include_str!("../../../README.md");
        let table = permission_matrix();
        assert!(
            readme.contains(&table),
            "README.md's permission table differs from the code; paste this in its place:\n{table}"
        );
    }

    #[test]
    fn every_action_is_allowed_to_some_role_and_admin_may_do_all() {
        for action in ALL_ACTIONS {
            assert!(role_allows(Role::Admin, *action), "{action:?}");
        }
        for (_, action) in ROUTES {
            assert!(ALL_ACTIONS.contains(action), "{action:?} missing from ALL_ACTIONS");
        }
        assert!(!role_allows(Role::Auditor, EditPolicies));
        assert!(!role_allows(Role::Integration, DecideTask));
        assert!(role_allows(Role::StoreManager, DecideTask));
    }
}
