//! Reading the steps of a definition, kind by kind.

use std::collections::HashMap;

use super::load::{Draft, Entries, Loader, Scope, Target, article};
use super::model::{
    ActionSpec, ApprovalSpec, Branch, CheckRule, CheckSpec, Compensation, Decide, Emit, Enrich, Escalation, Field,
    FieldKind, Join, Outcome, OutcomeKind, Parallel, PolicyName, ProjectionKind, RetryPolicy, Step, StepKind, TaskSpec,
    WaitSpec,
};
use super::node::{Node, Yaml};
use super::tables::TableEntry;
use crate::decision::Position;

/// The step kinds, as written in YAML.
pub(super) const KINDS: [&str; 12] = [
    "enrich", "classify", "decide", "check", "task", "approval", "action", "wait", "branch", "parallel", "emit", "end",
];

/// The keys of every step kind.
const COMMON: [&str; 6] = ["id", "kind", "title", "next", "on_error", "retry"];

/// The keys of one kind, besides the common ones.
fn kind_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "enrich" => &["projection", "days", "location", "item", "connector", "query", "with", "documents"],
        "check" => &["rule", "document", "related", "on", "settings"],
        "classify" => &["classifier"],
        "decide" => &["table", "inputs"],
        "task" => {
            &["role", "location", "priority", "evidence", "due", "escalation", "remind_every", "outcomes", "requester"]
        }
        "approval" => &["policy", "amount", "location", "requester", "confidence", "outcomes"],
        "action" => &["connector", "operation", "with", "compensate"],
        "wait" => &["event", "key", "matches", "timeout", "on_timeout", "until"],
        "branch" => &["cases", "otherwise"],
        "parallel" => &["branches", "join"],
        "emit" => &["event", "data"],
        "end" => &["outcome"],
        _ => &[],
    }
}

/// The common keys a kind does not take, and why.
fn refused(kind: &str) -> Vec<(&'static str, String)> {
    let why = match kind {
        "end" => "ends the instance",
        "branch" => "goes where its `cases` (or `otherwise`) say",
        "task" => "goes where the chosen outcome says (`outcomes`)",
        "approval" => "goes where its outcome says (`outcomes`: approved, rejected, suggested)",
        _ => return Vec::new(),
    };
    let mut refused = vec![("next", format!("{} {kind} step takes no `next`: it {why}", article(kind)))];
    if kind == "end" {
        refused.push(("on_error", "an end step takes no `on_error`: it cannot fail".to_owned()));
        refused.push(("retry", "an end step takes no `retry`: it cannot fail".to_owned()));
    }
    refused
}

impl Loader<'_> {
    /// Reads one step; `seen` holds the ids of the steps before it.
    pub(super) fn step(
        &mut self,
        node: &Node,
        tables: &[TableEntry],
        seen: &mut HashMap<String, Option<Position>>,
    ) -> Draft {
        let mut draft = Draft { position: node.position(), ..Draft::default() };
        let Some(map) = node.as_map() else {
            self.report(
                node.position(),
                None,
                format!("a step is a mapping with `id`, `kind` and the keys of its kind, not {}", node.describe()),
            );
            return draft;
        };
        let find = |key: &str| map.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v);
        // The step is named in problems by its id as written, valid or not.
        let written = find("id").and_then(Node::as_str).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let sid = written.as_deref();
        draft.id.clone_from(&written);
        let id = match find("id") {
            None => {
                self.report(
                    node.position(),
                    None,
                    "a step needs `id` (a name unique in the workflow, e.g. check_stock)",
                );
                None
            }
            Some(id_node) => {
                let id = self.id(id_node, "id", sid, "step id");
                if let Some(id) = &written {
                    if let Some(first) = seen.get(id) {
                        let at = first.map_or_else(String::new, |p| format!(" at line {}", p.line));
                        self.report(id_node.position(), sid, format!("the id `{id}` is already used by the step{at}"));
                    } else {
                        seen.insert(id.clone(), id_node.position());
                    }
                }
                id
            }
        };
        let kinds = KINDS.join(", ");
        let kind: Option<&'static str> = match find("kind") {
            None => {
                self.report(node.position(), sid, format!("a step needs `kind`: one of {kinds}"));
                None
            }
            Some(kind_node) => match kind_node.as_str().map(str::trim) {
                Some(text) => {
                    let known = KINDS.iter().copied().find(|k| *k == text);
                    if known.is_none() {
                        self.report(
                            kind_node.position(),
                            sid,
                            format!("`{text}` is not a step kind; the kinds are {kinds}"),
                        );
                    }
                    known
                }
                None => {
                    self.report(
                        kind_node.position(),
                        sid,
                        format!("`kind` must be one of {kinds}, not {}", kind_node.describe()),
                    );
                    None
                }
            },
        };
        draft.kind = kind;

        let refused = kind.map(refused).unwrap_or_default();
        let accepted: Vec<&str> = match kind {
            Some(kind) => COMMON
                .iter()
                .copied()
                .filter(|k| !refused.iter().any(|(r, _)| r == k))
                .chain(kind_keys(kind).iter().copied())
                .collect(),
            // Without a kind, accept every key rather than report each one.
            None => {
                let mut all: Vec<&str> = COMMON.to_vec();
                for kind in KINDS {
                    all.extend(kind_keys(kind).iter().filter(|k| !all.contains(k)).collect::<Vec<_>>());
                }
                all
            }
        };
        let explained: Vec<(&str, &str)> = refused.iter().map(|(k, why)| (*k, why.as_str())).collect();
        let what = kind.map_or_else(|| "a step".to_owned(), |k| format!("{} {k} step", article(k)));
        let Some(e) = self.entries(node, &what, sid, &accepted, &explained) else {
            return draft;
        };

        let mut targets = Vec::new();
        let next = match e.get("next") {
            None => Some(None),
            Some(next) => {
                draft.has_next = true;
                self.step_ref(next, "next", sid, &mut targets).map(Some)
            }
        };
        let on_error = match e.get("on_error") {
            None => Some(None),
            Some(on_error) => self.step_ref(on_error, "on_error", sid, &mut targets).map(Some),
        };
        let retry = match e.get("retry") {
            None => Some(RetryPolicy::default()),
            Some(retry) => self.retry(retry, sid),
        };
        let title = if kind == Some("task") { Some(None) } else { self.opt_text(e.get("title"), "title", sid) };
        let step_kind = match kind {
            Some("enrich") => self.enrich(&e, sid),
            Some("classify") => self.classify(&e, sid),
            Some("decide") => self.decide(&e, sid, tables, &mut draft.table),
            Some("check") => self.check(&e, sid, tables, &mut draft.table),
            Some("task") => self.task(&e, sid, &mut targets),
            Some("approval") => self.approval(&e, sid, &mut targets),
            Some("action") => self.action(&e, sid),
            Some("wait") => self.wait(&e, sid, &mut targets),
            Some("branch") => self.branch(&e, sid, &mut targets),
            Some("parallel") => self.parallel(&e, sid, &mut targets),
            Some("emit") => self.emit(&e, sid),
            Some("end") => self.end(&e, sid),
            _ => None,
        };
        draft.branches = targets.iter().filter(|t| t.field.starts_with("branches")).map(|t| t.id.clone()).collect();
        draft.targets = targets;
        if let (Some(id), Some(kind), Some(next), Some(on_error), Some(retry), Some(title)) =
            (id, step_kind, next, on_error, retry, title)
        {
            draft.step = Some(Step { id, title, kind, next, on_error, retry, position: node.position() });
        }
        draft
    }

    fn retry(&mut self, node: &Node, sid: Option<&str>) -> Option<RetryPolicy> {
        let e = self.entries(node, "a retry policy", sid, &["attempts", "backoff", "max_interval"], &[])?;
        let default = RetryPolicy::default();
        let attempts = match e.get("attempts") {
            None => Some(default.attempts),
            Some(n) => self.integer(n, "retry.attempts", sid, 1, 100).and_then(|a| u32::try_from(a).ok()),
        };
        let backoff = self.opt_duration(e.get("backoff"), "retry.backoff", sid);
        let max_interval = self.opt_duration(e.get("max_interval"), "retry.max_interval", sid);
        let (attempts, backoff, max_interval) = (attempts?, backoff?, max_interval?);
        let backoff = backoff.unwrap_or(default.backoff);
        let max_interval = max_interval.unwrap_or(default.max_interval.max(backoff));
        if max_interval < backoff {
            self.report(
                e.key_position("max_interval"),
                sid,
                "`retry.max_interval` must not be shorter than `retry.backoff`",
            );
            return None;
        }
        Some(RetryPolicy { attempts, backoff, max_interval })
    }

    fn enrich(&mut self, e: &Entries<'_>, sid: Option<&str>) -> Option<StepKind> {
        if let Some(numbers) = e.get("documents") {
            return self.documents(e, numbers, sid);
        }
        match (e.get("projection"), e.get("connector")) {
            (Some(_), Some(_)) => {
                self.report(
                    e.key_position("connector"),
                    sid,
                    "an enrich step reads either a `projection` or a `connector`, not both",
                );
                None
            }
            (None, None) => {
                self.report(
                    e.position,
                    sid,
                    "an enrich step needs `projection` (stock or daily_sales, with `location` and `item`) or \
                     `connector` (with `query`)",
                );
                None
            }
            (Some(projection), None) => {
                let mut fine = true;
                for key in ["query", "with"] {
                    if e.has(key) {
                        self.report(
                            e.key_position(key),
                            sid,
                            format!("`{key}` goes with `connector`, not with `projection`"),
                        );
                        fine = false;
                    }
                }
                let projection = match projection.as_str().map(str::trim) {
                    Some("stock") => {
                        if e.has("days") {
                            self.report(
                                e.key_position("days"),
                                sid,
                                "`days` goes with the daily_sales projection, not with stock",
                            );
                            None
                        } else {
                            Some(ProjectionKind::Stock)
                        }
                    }
                    Some("daily_sales") => match e.get("days") {
                        None => Some(ProjectionKind::DailySales { days: 28 }),
                        Some(days) => self
                            .integer(days, "days", sid, 1, 3650)
                            .and_then(|d| u32::try_from(d).ok())
                            .map(|days| ProjectionKind::DailySales { days }),
                    },
                    _ => {
                        self.report(
                            projection.position(),
                            sid,
                            format!("`projection` must be stock or daily_sales, not {}", projection.describe()),
                        );
                        None
                    }
                };
                let what = "an enrich step with a projection";
                let location = self
                    .required(e, "location", what, sid, " (an expression giving the location code)")
                    .and_then(|n| self.expr(n, "location", sid, Scope::Step));
                let item = self
                    .required(e, "item", what, sid, " (an expression giving the GTIN or SKU)")
                    .and_then(|n| self.expr(n, "item", sid, Scope::Step));
                if !fine {
                    return None;
                }
                Some(StepKind::Enrich(Enrich::Projection { projection: projection?, location: location?, item: item? }))
            }
            (None, Some(connector)) => {
                let mut fine = true;
                for key in ["location", "item", "days"] {
                    if e.has(key) {
                        self.report(
                            e.key_position(key),
                            sid,
                            format!("`{key}` goes with `projection`, not with `connector`"),
                        );
                        fine = false;
                    }
                }
                let connector = self.text(connector, "connector", sid);
                let query = self
                    .required(e, "query", "an enrich step with a connector", sid, " (the query operation)")
                    .and_then(|n| self.text(n, "query", sid));
                let with = self.template_or_empty(e.get("with"), "with", sid, Scope::Step);
                if !fine {
                    return None;
                }
                Some(StepKind::Enrich(Enrich::Query { connector: connector?, operation: query?, with: with? }))
            }
        }
    }

    /// `documents: [expr, …]`: the events naming these document numbers.
    fn documents(&mut self, e: &Entries<'_>, numbers: &Node, sid: Option<&str>) -> Option<StepKind> {
        let mut fine = true;
        for key in ["projection", "days", "location", "item", "connector", "query", "with"] {
            if e.has(key) {
                self.report(e.key_position(key), sid, format!("`{key}` does not go with `documents`"));
                fine = false;
            }
        }
        let nodes: Vec<&Node> = match numbers.as_seq() {
            Some(list) => list.iter().collect(),
            None => vec![numbers],
        };
        if nodes.is_empty() {
            self.report(numbers.position(), sid, "`documents` needs at least one expression giving a document number");
            return None;
        }
        let mut exprs = Vec::new();
        for (i, n) in nodes.into_iter().enumerate() {
            match self.expr(n, &format!("documents[{i}]"), sid, Scope::Step) {
                Some(x) => exprs.push(x),
                None => fine = false,
            }
        }
        fine.then_some(StepKind::Enrich(Enrich::Documents { numbers: exprs }))
    }

    fn check(
        &mut self,
        e: &Entries<'_>,
        sid: Option<&str>,
        tables: &[TableEntry],
        used: &mut Option<String>,
    ) -> Option<StepKind> {
        let what = "a check step";
        let rule = self.required(e, "rule", what, sid, " (three_way_match or return_policy)").and_then(|n| {
            match n.as_str().map(str::trim) {
                Some("three_way_match") => Some(CheckRule::ThreeWayMatch),
                Some("return_policy") => Some(CheckRule::ReturnPolicy),
                _ => {
                    self.report(
                        n.position(),
                        sid,
                        format!("`rule` must be three_way_match or return_policy, not {}", n.describe()),
                    );
                    None
                }
            }
        });
        let document = self
            .required(e, "document", what, sid, " (an expression giving the document, e.g. event.data)")
            .and_then(|n| self.expr(n, "document", sid, Scope::Step));
        let related = self
            .required(e, "related", what, sid, " (an expression giving related events, e.g. steps.history.events)")
            .and_then(|n| self.expr(n, "related", sid, Scope::Step));
        let on = self.opt_expr(e.get("on"), "on", sid, Scope::Step);
        let settings = match e.get("settings") {
            None => Some(None),
            Some(node) => {
                let name = self.text(node, "settings", sid)?;
                *used = Some(name.clone());
                if tables.iter().any(|t| t.key == name) {
                    Some(Some(name))
                } else {
                    let defined: Vec<&str> = tables.iter().map(|t| t.key.as_str()).collect();
                    let defined = if defined.is_empty() { "none".to_owned() } else { defined.join(", ") };
                    self.report(
                        node.position(),
                        sid,
                        format!("`settings`: no table `{name}` is defined in `tables` (defined: {defined})"),
                    );
                    None
                }
            }
        };
        Some(StepKind::Check(CheckSpec {
            rule: rule?,
            document: document?,
            related: related?,
            on: on?,
            settings: settings?,
        }))
    }

    fn classify(&mut self, e: &Entries<'_>, sid: Option<&str>) -> Option<StepKind> {
        let node =
            self.required(e, "classifier", "a classify step", sid, " (a classifier defined in `classifiers`)")?;
        let name = self.text(node, "classifier", sid)?;
        if !self.classifier_names.contains(&name) {
            let defined =
                if self.classifier_names.is_empty() { "none".to_owned() } else { self.classifier_names.join(", ") };
            self.report(
                node.position(),
                sid,
                format!("`classifier`: no classifier `{name}` is defined in `classifiers` (defined: {defined})"),
            );
            return None;
        }
        Some(StepKind::Classify { classifier: name })
    }

    fn decide(
        &mut self,
        e: &Entries<'_>,
        sid: Option<&str>,
        tables: &[TableEntry],
        used: &mut Option<String>,
    ) -> Option<StepKind> {
        let table = self
            .required(e, "table", "a decide step", sid, " (a table defined in `tables`)")
            .and_then(|n| self.text(n, "table", sid).map(|t| (t, n)));
        let mut entry = None;
        if let Some((name, node)) = &table {
            *used = Some(name.clone());
            entry = tables.iter().find(|t| t.key == *name);
            if entry.is_none() {
                let defined: Vec<&str> = tables.iter().map(|t| t.key.as_str()).collect();
                let defined = if defined.is_empty() { "none".to_owned() } else { defined.join(", ") };
                self.report(
                    node.position(),
                    sid,
                    format!("`table`: no table `{name}` is defined in `tables` (defined: {defined})"),
                );
            }
        }
        let inputs = match e.get("inputs") {
            None => Some(Vec::new()),
            Some(node) => match node.as_map() {
                None => {
                    self.report(
                        node.position(),
                        sid,
                        format!(
                            "`inputs` is a mapping from the table's inputs to expressions, not {}",
                            node.describe()
                        ),
                    );
                    None
                }
                Some(map) => {
                    let mut inputs = Vec::new();
                    let mut fine = true;
                    for (key, value) in map {
                        let Some(name) = self.key_name(key, "inputs", sid) else {
                            fine = false;
                            continue;
                        };
                        if inputs.iter().any(|(n, _)| *n == name) {
                            self.report(key.position(), sid, format!("`inputs`: `{name}` appears twice"));
                            fine = false;
                            continue;
                        }
                        if let Some(table) = entry.and_then(|t| t.table.as_ref())
                            && !table.inputs.iter().any(|i| i.name == name)
                        {
                            let names: Vec<&str> = table.inputs.iter().map(|i| i.name.as_str()).collect();
                            let names = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
                            self.report(
                                key.position(),
                                sid,
                                format!(
                                    "`inputs`: `{name}` is not an input of the table `{}` (its inputs: {names})",
                                    table.id
                                ),
                            );
                            fine = false;
                        }
                        match self.expr(value, &format!("inputs.{name}"), sid, Scope::Step) {
                            Some(expr) => inputs.push((name, expr)),
                            None => fine = false,
                        }
                    }
                    fine.then_some(inputs)
                }
            },
        };
        let (table, _) = table?;
        entry?;
        Some(StepKind::Decide(Decide { table, inputs: inputs? }))
    }

    fn task(&mut self, e: &Entries<'_>, sid: Option<&str>, targets: &mut Vec<Target>) -> Option<StepKind> {
        let what = "a task step";
        let role = self
            .required(e, "role", what, sid, " (the role that decides, e.g. store_manager)")
            .and_then(|n| self.text(n, "role", sid));
        let location = self.opt_expr(e.get("location"), "location", sid, Scope::Step);
        let title = self
            .required(e, "title", what, sid, " (what the person is asked: a template, e.g. '\"Approve the transfer\"')")
            .and_then(|n| self.template(n, "title", sid, Scope::Step));
        let priority = self.opt_expr(e.get("priority"), "priority", sid, Scope::Step);
        let evidence = match e.get("evidence") {
            None => Some(None),
            Some(n) => self.template(n, "evidence", sid, Scope::Step).map(Some),
        };
        let due = self.opt_duration(e.get("due"), "due", sid);
        let remind_every = self.opt_duration(e.get("remind_every"), "remind_every", sid);
        let escalation = match e.get("escalation") {
            None => Some(Vec::new()),
            Some(n) => self.escalation(n, sid),
        };
        let outcomes = self
            .required(e, "outcomes", what, sid, " (what the person may decide, each with the step it leads to)")
            .and_then(|n| self.outcomes(n, sid, targets));
        let requester = self.opt_expr(e.get("requester"), "requester", sid, Scope::Step);
        Some(StepKind::Task(Box::new(TaskSpec {
            requester: requester?,
            role: role?,
            location: location?,
            title: title?,
            priority: priority?,
            evidence: evidence?,
            outcomes: outcomes?,
            due: due?,
            escalation: escalation?,
            remind_every: remind_every?,
        })))
    }

    fn approval(&mut self, e: &Entries<'_>, sid: Option<&str>, targets: &mut Vec<Target>) -> Option<StepKind> {
        let what = "an approval step";
        let policy = self.required(e, "policy", what, sid, " (the action type of the policy, e.g. refund)").and_then(
            |n| match n.as_str().map(str::trim) {
                Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                    Some(PolicyName::Named(name.to_owned()))
                }
                _ => self.expr(n, "policy", sid, Scope::Step).map(PolicyName::Expr),
            },
        );
        let amount = self
            .required(e, "amount", what, sid, " (an expression giving the amount, e.g. event.data.amount)")
            .and_then(|n| self.expr(n, "amount", sid, Scope::Step));
        let location = self.opt_expr(e.get("location"), "location", sid, Scope::Step);
        let requester = self.opt_expr(e.get("requester"), "requester", sid, Scope::Step);
        let confidence = self.opt_expr(e.get("confidence"), "confidence", sid, Scope::Step);
        let routes = self
            .required(e, "outcomes", what, sid, " (approved, rejected and optionally suggested, each with its step)")
            .and_then(|node| {
                let o = self.entries(node, "`outcomes`", sid, &["approved", "rejected", "suggested"], &[])?;
                let approved = self
                    .required(&o, "approved", "`outcomes`", sid, " (the step after an approval)")
                    .and_then(|n| self.step_ref(n, "outcomes.approved", sid, targets));
                let rejected = self
                    .required(&o, "rejected", "`outcomes`", sid, " (the step after a rejection)")
                    .and_then(|n| self.step_ref(n, "outcomes.rejected", sid, targets));
                let suggested = match o.get("suggested") {
                    None => Some(None),
                    Some(n) => self.step_ref(n, "outcomes.suggested", sid, targets).map(Some),
                };
                Some((approved?, rejected?, suggested?))
            });
        let (approved, rejected, suggested) = routes?;
        Some(StepKind::Approval(Box::new(ApprovalSpec {
            policy: policy?,
            amount: amount?,
            location: location?,
            requester: requester?,
            confidence: confidence?,
            approved,
            rejected,
            suggested,
        })))
    }

    fn escalation(&mut self, node: &Node, sid: Option<&str>) -> Option<Vec<Escalation>> {
        let Yaml::Seq(items) = &node.value else {
            self.report(
                node.position(),
                sid,
                format!("`escalation` is a list of {{ after: DURATION, role: ROLE }}, not {}", node.describe()),
            );
            return None;
        };
        let mut rungs = Vec::new();
        let mut fine = true;
        let mut previous = None;
        for (i, item) in items.iter().enumerate() {
            let what = format!("escalation rung {}", i + 1);
            let Some(e) = self.entries(item, &what, sid, &["after", "role"], &[]) else {
                fine = false;
                continue;
            };
            let after = self
                .required(&e, "after", &what, sid, " (business time since the task was created)")
                .and_then(|n| self.duration(n, &format!("escalation[{i}].after"), sid));
            let role = self
                .required(&e, "role", &what, sid, " (the role the task moves to)")
                .and_then(|n| self.text(n, &format!("escalation[{i}].role"), sid));
            if let (Some(after), Some(before)) = (after, previous)
                && after <= before
            {
                self.report(
                    e.key_position("after"),
                    sid,
                    format!(
                        "`escalation[{i}].after` must be later than the rung before it: each rung comes after the last"
                    ),
                );
                fine = false;
            }
            previous = after.or(previous);
            match (after, role) {
                (Some(after), Some(role)) => rungs.push(Escalation { after, role }),
                _ => fine = false,
            }
        }
        fine.then_some(rungs)
    }

    fn outcomes(&mut self, node: &Node, sid: Option<&str>, targets: &mut Vec<Target>) -> Option<Vec<Outcome>> {
        let Some(map) = node.as_map() else {
            self.report(
                node.position(),
                sid,
                format!(
                    "`outcomes` is a mapping from outcome names to the step each leads to, not {}",
                    node.describe()
                ),
            );
            return None;
        };
        if map.is_empty() {
            self.report(node.position(), sid, "`outcomes` is empty: a task needs at least one outcome");
            return None;
        }
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut fine = true;
        for (key, value) in map {
            let Some(name) =
                self.key_name(key, "outcomes", sid).and_then(|name| self.checked_id(key, name, "outcome name", sid))
            else {
                fine = false;
                continue;
            };
            if names.contains(&name) {
                self.report(key.position(), sid, format!("`outcomes`: the outcome `{name}` appears twice"));
                fine = false;
                continue;
            }
            names.push(name.clone());
            let field = format!("outcomes.{name}");
            let outcome = match &value.value {
                Yaml::Str(_) => self.step_ref(value, &field, sid, targets).map(|next| Outcome {
                    name,
                    kind: OutcomeKind::Choice,
                    next,
                }),
                Yaml::Map(_) => {
                    let what = format!("the outcome `{name}`");
                    match self.entries(value, &what, sid, &["next", "fields"], &[]) {
                        None => None,
                        Some(e) => {
                            let next = self
                                .required(&e, "next", &what, sid, " (the step it leads to)")
                                .and_then(|n| self.step_ref(n, &format!("{field}.next"), sid, targets));
                            let kind = match e.get("fields") {
                                None => Some(OutcomeKind::Choice),
                                Some(fields) => self.fields(fields, &field, sid).map(OutcomeKind::Modify),
                            };
                            match (next, kind) {
                                (Some(next), Some(kind)) => Some(Outcome { name, kind, next }),
                                _ => None,
                            }
                        }
                    }
                }
                _ => {
                    self.report(
                        value.position(),
                        sid,
                        format!(
                            "`{field}` is the step the outcome leads to, or {{ next: STEP, fields: [...] }}, not {}",
                            value.describe()
                        ),
                    );
                    None
                }
            };
            match outcome {
                Some(outcome) => outcomes.push(outcome),
                None => fine = false,
            }
        }
        fine.then_some(outcomes)
    }

    fn fields(&mut self, node: &Node, outcome: &str, sid: Option<&str>) -> Option<Vec<Field>> {
        let Yaml::Seq(items) = &node.value else {
            self.report(
                node.position(),
                sid,
                format!("`{outcome}.fields` is a list of {{ name, type, required }}, not {}", node.describe()),
            );
            return None;
        };
        if items.is_empty() {
            self.report(
                node.position(),
                sid,
                format!("`{outcome}.fields` is empty: leave it out for an outcome that changes nothing"),
            );
            return None;
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut fine = true;
        for (i, item) in items.iter().enumerate() {
            let what = format!("field {} of `{outcome}`", i + 1);
            let Some(e) = self.entries(item, &what, sid, &["name", "type", "required"], &[]) else {
                fine = false;
                continue;
            };
            let name = self
                .required(&e, "name", &what, sid, "")
                .and_then(|n| self.id(n, &format!("{outcome}.fields[{i}].name"), sid, "field name"));
            let kind = self.required(&e, "type", &what, sid, " (text, decimal, integer or boolean)").and_then(|n| {
                match n.as_str().map(str::trim) {
                    Some("text") => Some(FieldKind::Text),
                    Some("decimal") => Some(FieldKind::Decimal),
                    Some("integer") => Some(FieldKind::Integer),
                    Some("boolean") => Some(FieldKind::Boolean),
                    _ => {
                        self.report(
                            n.position(),
                            sid,
                            format!(
                                "`{outcome}.fields[{i}].type` must be text, decimal, integer or boolean, not {}",
                                n.describe()
                            ),
                        );
                        None
                    }
                }
            });
            let required = match e.get("required") {
                None => Some(false),
                Some(n) => match n.value {
                    Yaml::Bool(b) => Some(b),
                    _ => {
                        self.report(
                            n.position(),
                            sid,
                            format!("`{outcome}.fields[{i}].required` must be true or false, not {}", n.describe()),
                        );
                        None
                    }
                },
            };
            if let Some(name) = &name
                && fields.iter().any(|f| f.name == *name)
            {
                self.report(
                    e.key_position("name"),
                    sid,
                    format!("`{outcome}.fields`: the field `{name}` appears twice"),
                );
                fine = false;
                continue;
            }
            match (name, kind, required) {
                (Some(name), Some(kind), Some(required)) => fields.push(Field { name, kind, required }),
                _ => fine = false,
            }
        }
        fine.then_some(fields)
    }

    fn action(&mut self, e: &Entries<'_>, sid: Option<&str>) -> Option<StepKind> {
        let what = "an action step";
        let connector = self
            .required(e, "connector", what, sid, " (the connector's name, e.g. erp)")
            .and_then(|n| self.text(n, "connector", sid));
        let operation = self
            .required(e, "operation", what, sid, " (the command, e.g. create_transfer)")
            .and_then(|n| self.text(n, "operation", sid));
        let with = self.template_or_empty(e.get("with"), "with", sid, Scope::Step);
        let compensate = match e.get("compensate") {
            None => Some(None),
            Some(node) => {
                let what = "`compensate`";
                match self.entries(node, what, sid, &["operation", "with"], &[]) {
                    None => None,
                    Some(c) => {
                        let operation = self
                            .required(&c, "operation", what, sid, " (the command that undoes the action)")
                            .and_then(|n| self.text(n, "compensate.operation", sid));
                        let with = self.template_or_empty(c.get("with"), "compensate.with", sid, Scope::Step);
                        match (operation, with) {
                            (Some(operation), Some(with)) => Some(Some(Compensation { operation, with })),
                            _ => None,
                        }
                    }
                }
            }
        };
        Some(StepKind::Action(ActionSpec {
            connector: connector?,
            operation: operation?,
            with: with?,
            compensate: compensate?,
        }))
    }

    fn wait(&mut self, e: &Entries<'_>, sid: Option<&str>, targets: &mut Vec<Target>) -> Option<StepKind> {
        match (e.get("event"), e.get("until")) {
            (Some(_), Some(_)) => {
                self.report(
                    e.key_position("until"),
                    sid,
                    "a wait step waits for an `event` or `until` a time, not both",
                );
                None
            }
            (None, None) => {
                self.report(
                    e.position,
                    sid,
                    "a wait step needs `event` (the event type to wait for) or `until` (an expression giving a time)",
                );
                None
            }
            (Some(event), None) => {
                let event = self.event_type(event, "event", sid);
                let matches = self.opt_expr(e.get("matches"), "matches", sid, Scope::Matches);
                let key = self.opt_expr(e.get("key"), "key", sid, Scope::Trigger);
                let timeout = self.opt_duration(e.get("timeout"), "timeout", sid);
                let on_timeout = match e.get("on_timeout") {
                    None => Some(None),
                    Some(n) => self.step_ref(n, "on_timeout", sid, targets).map(Some),
                };
                if e.has("on_timeout") && !e.has("timeout") {
                    self.report(
                        e.key_position("on_timeout"),
                        sid,
                        "`on_timeout` needs `timeout` (how long to wait before going there)",
                    );
                    return None;
                }
                Some(StepKind::Wait(WaitSpec::Event {
                    event: event?,
                    matches: matches?,
                    key: key?,
                    timeout: timeout?,
                    on_timeout: on_timeout?,
                }))
            }
            (None, Some(until)) => {
                let mut fine = true;
                for key in ["matches", "key", "timeout", "on_timeout"] {
                    if e.has(key) {
                        self.report(e.key_position(key), sid, format!("`{key}` goes with `event`, not with `until`"));
                        fine = false;
                    }
                }
                let at = self.expr(until, "until", sid, Scope::Step);
                if !fine {
                    return None;
                }
                Some(StepKind::Wait(WaitSpec::Until { at: at? }))
            }
        }
    }

    fn branch(&mut self, e: &Entries<'_>, sid: Option<&str>, targets: &mut Vec<Target>) -> Option<StepKind> {
        let cases = self
            .required(e, "cases", "a branch step", sid, " (a list of { when: CONDITION, next: STEP })")
            .and_then(|node| {
                let Yaml::Seq(items) = &node.value else {
                    self.report(
                        node.position(),
                        sid,
                        format!("`cases` is a list of {{ when: CONDITION, next: STEP }}, not {}", node.describe()),
                    );
                    return None;
                };
                if items.is_empty() {
                    self.report(node.position(), sid, "`cases` is empty: a branch needs at least one case");
                    return None;
                }
                let mut cases = Vec::new();
                let mut fine = true;
                for (i, item) in items.iter().enumerate() {
                    let what = format!("case {}", i + 1);
                    let Some(c) = self.entries(item, &what, sid, &["when", "next"], &[]) else {
                        fine = false;
                        continue;
                    };
                    let when = self
                        .required(&c, "when", &what, sid, " (a condition)")
                        .and_then(|n| self.expr(n, &format!("cases[{i}].when"), sid, Scope::Step));
                    let next = self
                        .required(&c, "next", &what, sid, " (the step it leads to)")
                        .and_then(|n| self.step_ref(n, &format!("cases[{i}].next"), sid, targets));
                    match (when, next) {
                        (Some(when), Some(next)) => cases.push((when, next)),
                        _ => fine = false,
                    }
                }
                fine.then_some(cases)
            });
        let otherwise = match e.get("otherwise") {
            None => Some(None),
            Some(n) => self.step_ref(n, "otherwise", sid, targets).map(Some),
        };
        Some(StepKind::Branch(Branch { cases: cases?, otherwise: otherwise? }))
    }

    fn parallel(&mut self, e: &Entries<'_>, sid: Option<&str>, targets: &mut Vec<Target>) -> Option<StepKind> {
        let branches = self
            .required(e, "branches", "a parallel step", sid, " (the first step of each branch, at least two)")
            .and_then(|node| {
                let Yaml::Seq(items) = &node.value else {
                    self.report(
                        node.position(),
                        sid,
                        format!(
                            "`branches` is a list of step ids (the first step of each branch), not {}",
                            node.describe()
                        ),
                    );
                    return None;
                };
                let mut branches: Vec<String> = Vec::new();
                let mut fine = true;
                for (i, item) in items.iter().enumerate() {
                    match self.step_ref(item, &format!("branches[{i}]"), sid, targets) {
                        Some(id) if branches.contains(&id) => {
                            self.report(item.position(), sid, format!("`branches`: `{id}` appears twice"));
                            fine = false;
                        }
                        Some(id) => branches.push(id),
                        None => fine = false,
                    }
                }
                if items.len() < 2 {
                    self.report(
                        node.position(),
                        sid,
                        format!(
                            "`branches` has {} branch{}: a parallel step needs at least two (use `next` for one)",
                            items.len(),
                            if items.len() == 1 { "" } else { "es" }
                        ),
                    );
                    fine = false;
                }
                fine.then_some(branches)
            });
        let join = match e.get("join") {
            None => Some(Join::All),
            Some(n) => match n.as_str().map(str::trim) {
                Some("all") => Some(Join::All),
                Some("any") => Some(Join::Any),
                _ => {
                    self.report(
                        n.position(),
                        sid,
                        format!(
                            "`join` must be all (when every branch has ended) or any (when the first has), not {}",
                            n.describe()
                        ),
                    );
                    None
                }
            },
        };
        Some(StepKind::Parallel(Parallel { branches: branches?, join: join? }))
    }

    fn emit(&mut self, e: &Entries<'_>, sid: Option<&str>) -> Option<StepKind> {
        let event = self
            .required(e, "event", "an emit step", sid, " (an event type of the catalogue)")
            .and_then(|n| self.event_type(n, "event", sid));
        let data = self
            .required(e, "data", "an emit step", sid, " (the event's data, a template)")
            .and_then(|n| self.template(n, "data", sid, Scope::Step));
        Some(StepKind::Emit(Emit { event: event?, data: data? }))
    }

    fn end(&mut self, e: &Entries<'_>, sid: Option<&str>) -> Option<StepKind> {
        let outcome = self
            .required(e, "outcome", "an end step", sid, " (how the instance ended, e.g. resolved)")
            .and_then(|n| self.text(n, "outcome", sid))?;
        Some(StepKind::End { outcome })
    }
}
