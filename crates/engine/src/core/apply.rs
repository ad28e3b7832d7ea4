//! [`apply`]: one command against one instance.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use rust_decimal::Decimal;

mod approval;
mod check;

use super::state::{DoneAction, Instance, InstanceStatus, Token, TokenState};
use super::{
    ActionOutcome, Command, Delegated, Effect, Env, HistoryEntry, NewTask, OutboxMessage, ReadOutcome, ReadRequest,
    ReadSource, Rejection, TaskChange, Timer, TimerPurpose, Transition,
};
use crate::calendar::BusinessCalendar;
use crate::policy::Exclusion;
use crate::workflow::{
    Enrich, Expr, FieldKind, Join, OutcomeKind, Step, StepKind, TaskSpec, Template, WaitSpec, Workflow,
};

/// Correlated events kept for a `wait` that has not started yet.
const MAILBOX: usize = 100;

/// Applies `command` to `instance` (which must run `workflow`) and returns what must be
/// persisted with the changed instance. On `Err` the instance is unchanged: the command was
/// refused (a decision on a task that is not open, an outcome that is not allowed, …).
pub fn apply(
    workflow: &Workflow,
    instance: &mut Instance,
    command: Command,
    env: &mut Env<'_>,
) -> Result<Transition, Rejection> {
    check(workflow, instance, &command)?;
    let mut run = Run { wf: workflow, inst: instance, env, out: Transition::default() };
    run.command(command);
    run.drain();
    run.inst.updated_at = run.env.now;
    Ok(run.out)
}

/// Refuses commands that must not change anything.
fn check(workflow: &Workflow, inst: &Instance, command: &Command) -> Result<(), Rejection> {
    match command {
        Command::Cancel { .. } if !inst.status.is_open() => Err(Rejection::Ended(inst.id.clone())),
        Command::Cancel { .. }
            if inst.status == InstanceStatus::Compensating
                || inst.tokens.iter().any(|t| matches!(t.state, TokenState::Compensation { .. })) =>
        {
            Err(Rejection::Ending(inst.id.clone()))
        }
        Command::TaskClaimed { task, actor, on_behalf_of } | Command::TaskDecided { task, actor, on_behalf_of, .. } => {
            let Some(token) = inst.task_token(task) else {
                return Err(if inst.status.is_open() {
                    Rejection::NoSuchTask(task.clone())
                } else {
                    Rejection::Ended(inst.id.clone())
                });
            };
            if let TokenState::Task { excluded, .. } = &token.state {
                segregation(task, actor, on_behalf_of.as_ref(), excluded)?;
            }
            if let TokenState::Task { claimed_by: Some(by), .. } = &token.state
                && by != actor
            {
                return Err(Rejection::Claimed { task: task.clone(), by: by.clone() });
            }
            if let Command::TaskDecided { outcome, fields, .. } = command {
                validate_decision(workflow, inst, task, outcome, fields)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Refuses `actor` (and the person they act for) when the task excludes them.
fn segregation(
    task: &str,
    actor: &str,
    on_behalf_of: Option<&Delegated>,
    excluded: &[Exclusion],
) -> Result<(), Rejection> {
    if let Some(x) = excluded.iter().find(|x| x.is(actor)) {
        return Err(Rejection::SegregationOfDuties {
            task: task.to_owned(),
            actor: actor.to_owned(),
            reason: x.reason.clone(),
        });
    }
    if let Some(d) = on_behalf_of
        && let Some(x) = excluded.iter().find(|x| x.is(&d.delegator))
    {
        return Err(Rejection::SegregationOfDuties {
            task: task.to_owned(),
            actor: actor.to_owned(),
            reason: format!("{actor} acts for {} (delegation {}), and {}", d.delegator, d.delegation, x.reason),
        });
    }
    Ok(())
}

/// The outcomes of an approval task.
const APPROVAL_OUTCOMES: [&str; 2] = ["approve", "reject"];

/// Checks a decision on an approval task: approve or reject, without fields.
fn check_approval_decision(outcome: &str, fields: &Map<String, Value>) -> Result<(), Rejection> {
    if !APPROVAL_OUTCOMES.contains(&outcome) {
        return Err(Rejection::Outcome { outcome: outcome.to_owned(), allowed: APPROVAL_OUTCOMES.join(", ") });
    }
    if let Some(name) = fields.keys().next() {
        return Err(Rejection::Field {
            field: name.clone(),
            message: format!("outcome {outcome} of an approval takes no fields"),
        });
    }
    Ok(())
}

/// Checks a decision's outcome and fields against the task step; returns the fields to record.
fn check_decision(
    spec: &TaskSpec,
    outcome: &str,
    fields: &Map<String, Value>,
) -> Result<Map<String, Value>, Rejection> {
    let allowed = || spec.outcomes.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ");
    let Some(chosen) = spec.outcomes.iter().find(|o| o.name == outcome) else {
        return Err(Rejection::Outcome { outcome: outcome.to_owned(), allowed: allowed() });
    };
    let declared = match &chosen.kind {
        OutcomeKind::Choice => &[][..],
        OutcomeKind::Modify(fields) => fields.as_slice(),
    };
    if let Some(name) = fields.keys().find(|k| !declared.iter().any(|f| &f.name == *k)) {
        let accepted = declared.iter().map(|f| f.name.as_str()).collect::<Vec<_>>();
        return Err(Rejection::Field {
            field: name.clone(),
            message: if accepted.is_empty() {
                format!("outcome {outcome} takes no fields")
            } else {
                format!("not a field of outcome {outcome}; it takes {}", accepted.join(", "))
            },
        });
    }
    let mut out = Map::new();
    for field in declared {
        let Some(value) = fields.get(&field.name).filter(|v| !v.is_null()) else {
            if field.required {
                return Err(Rejection::Field { field: field.name.clone(), message: "is required".to_owned() });
            }
            continue;
        };
        let bad = |what: &str| Rejection::Field { field: field.name.clone(), message: format!("must be {what}") };
        let value = match field.kind {
            FieldKind::Text => value.as_str().map(|s| Value::String(s.to_owned())).ok_or_else(|| bad("text"))?,
            FieldKind::Boolean => value.as_bool().map(Value::Bool).ok_or_else(|| bad("true or false"))?,
            FieldKind::Integer => value.as_i64().map(Value::from).ok_or_else(|| bad("an integer"))?,
            FieldKind::Decimal => {
                let text = match value {
                    Value::String(s) => s.trim().to_owned(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(bad("a decimal number such as \"12.50\"")),
                };
                let d: rust_decimal::Decimal = text.parse().map_err(|_| bad("a decimal number such as \"12.50\""))?;
                Value::String(d.normalize().to_string())
            }
        };
        out.insert(field.name.clone(), value);
    }
    Ok(out)
}

struct Run<'r, 'e> {
    wf: &'r Workflow,
    inst: &'r mut Instance,
    env: &'r mut Env<'e>,
    out: Transition,
}

impl Run<'_, '_> {
    fn now(&self) -> DateTime<Utc> {
        self.env.now
    }

    fn history(&mut self, kind: &str, step: Option<&str>, actor: Option<&str>, data: Value) {
        self.out.history.push(HistoryEntry {
            at: self.env.now,
            kind: kind.to_owned(),
            step: step.map(str::to_owned),
            actor: actor.map(str::to_owned),
            data,
        });
    }

    fn step_of(&self, token: u32) -> Option<&'_ Step> {
        let id = self.inst.token(token)?.step.clone();
        self.wf.step(&id)
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Start { event } => self.start(event),
            Command::Deliver { event } => self.deliver(event),
            Command::TaskClaimed { task, actor, on_behalf_of } => self.claim(&task, &actor, on_behalf_of),
            Command::TaskDecided { task, outcome, fields, comment, actor, on_behalf_of } => {
                self.decide_task(&task, &outcome, &fields, comment, &actor, on_behalf_of)
            }
            Command::ActionResult { key, result } => self.action_result(&key, result),
            Command::ActionRetried { key, actor } => self.action_retried(&key, &actor),
            Command::TimerFired { timer } => self.timer(timer),
            Command::ReadResult { token, result } => self.read_result(token, result),
            Command::Cancel { actor, reason } => self.cancel(&actor, reason),
        }
    }

    // ----- commands -------------------------------------------------------------------------

    fn start(&mut self, event: Value) {
        if !self.inst.tokens.is_empty() || self.inst.status != InstanceStatus::Running {
            return;
        }
        self.inst.context["event"] = event;
        self.history("started", None, None, json!({"workflow": self.wf.id, "version": self.wf.version}));
        for (name, expr) in &self.wf.inputs {
            match expr.compiled.evaluate(&self.inst.context) {
                Ok(value) => self.inst.context["inputs"][name] = value,
                Err(e) => {
                    let error = format!("input {name} ({}): {e}", expr.source());
                    return self.fail_instance(None, error);
                }
            }
        }
        if let Some(code) = self.inst.context["inputs"].get("location").and_then(Value::as_str)
            && let Some(location) = self.env.directory.location(code)
        {
            self.inst.context["location"] = serde_json::to_value(location).unwrap_or(Value::Null);
        }
        let token = self.new_token(self.wf.start.clone(), None);
        self.inst.tokens.push(token);
    }

    fn deliver(&mut self, event: Value) {
        if !self.inst.status.is_open() {
            return;
        }
        self.history("event_received", None, None, json!({"id": event["id"], "type": event["type"]}));
        if let Some(token) = self.waiting_for(&event) {
            let step = self.inst.token(token).map(|t| t.step.clone());
            self.finish_wait(token, step.as_deref(), event);
            return;
        }
        if self.inst.context.get("mailbox").is_none() {
            self.inst.context["mailbox"] = json!([]);
        }
        if let Some(mailbox) = self.inst.context["mailbox"].as_array_mut() {
            if mailbox.len() >= MAILBOX {
                mailbox.remove(0);
            }
            mailbox.push(event);
        }
    }

    /// The token whose `wait` takes this event.
    fn waiting_for(&mut self, event: &Value) -> Option<u32> {
        let candidates: Vec<u32> =
            self.inst.tokens.iter().filter(|t| matches!(t.state, TokenState::Event { .. })).map(|t| t.id).collect();
        candidates.into_iter().find(|&token| self.wait_matches(token, event))
    }

    fn wait_matches(&mut self, token: u32, event: &Value) -> bool {
        let Some(step) = self.step_of(token) else { return false };
        let StepKind::Wait(WaitSpec::Event { event: wanted, matches, .. }) = &step.kind else { return false };
        if event["type"].as_str() != Some(wanted.as_str()) {
            return false;
        }
        let Some(condition) = matches.clone() else { return true };
        self.inst.context["received"] = event.clone();
        let holds = condition.compiled.evaluate_bool(&self.inst.context);
        if let Some(context) = self.inst.context.as_object_mut() {
            context.remove("received");
        }
        holds.unwrap_or(false)
    }

    fn finish_wait(&mut self, token: u32, step: Option<&str>, event: Value) {
        let data = json!({"id": event["id"], "type": event["type"]});
        self.history("event_consumed", step, None, data);
        self.complete_step(token, event);
    }

    fn claim(&mut self, task: &str, actor: &str, on_behalf_of: Option<Delegated>) {
        let Some(token) = self.inst.task_token(task).map(|t| t.id) else { return };
        let step = self.inst.token(token).map(|t| t.step.clone());
        if let Some(TokenState::Task { claimed_by, .. }) = self.inst.token_mut(token).map(|t| &mut t.state) {
            *claimed_by = Some(actor.to_owned());
        }
        let mut data = json!({"task": task});
        if let Some(d) = &on_behalf_of {
            data["on_behalf_of"] = json!(d);
            data["acting_as"] = json!(acting_as(actor, d));
        }
        self.history("task_claimed", step.as_deref(), Some(actor), data);
        self.out.effects.push(Effect::UpdateTask {
            task: task.to_owned(),
            change: TaskChange::Claimed { actor: actor.to_owned() },
        });
    }

    fn decide_task(
        &mut self,
        task: &str,
        outcome: &str,
        fields: &Map<String, Value>,
        comment: Option<String>,
        actor: &str,
        on_behalf_of: Option<Delegated>,
    ) {
        let Some(token) = self.inst.task_token(task).map(|t| t.id) else { return };
        let Some(step) = self.step_of(token) else { return };
        if let StepKind::Approval(spec) = &step.kind {
            let spec = spec.clone();
            return self.approval_decided(token, &spec, task, outcome, comment, actor, on_behalf_of);
        }
        let StepKind::Task(spec) = &step.kind else { return };
        let step_id = step.id.clone();
        let (fields, next) = match check_decision(spec, outcome, fields) {
            Ok(fields) => (fields, spec.outcomes.iter().find(|o| o.name == outcome).map(|o| o.next.clone())),
            Err(_) => return,
        };
        let mut output = json!({
            "task": task, "outcome": outcome, "fields": fields, "comment": comment,
            "decided_by": actor, "decided_at": self.now(),
        });
        if let Some(d) = &on_behalf_of {
            output["on_behalf_of"] = json!(d);
            output["acting_as"] = json!(acting_as(actor, d));
        }
        self.history("task_decided", Some(&step_id), Some(actor), output.clone());
        self.out.effects.push(Effect::UpdateTask {
            task: task.to_owned(),
            change: TaskChange::Decided { actor: actor.to_owned(), outcome: outcome.to_owned() },
        });
        self.inst.context["steps"][&step_id] = output;
        self.out.steps_completed += 1;
        self.go(token, next);
    }

    fn action_result(&mut self, key: &str, result: ActionOutcome) {
        let Some((token, compensation)) = self.inst.tokens.iter().find_map(|t| match &t.state {
            TokenState::Action { key: k } if k == key => Some((t.id, false)),
            TokenState::Compensation { key: k } if k == key => Some((t.id, true)),
            _ => None,
        }) else {
            return self.late_result(key, result);
        };
        let Some(step) = self.step_of(token) else { return };
        let step_id = step.id.clone();
        let on_error = step.on_error.clone();
        if compensation {
            return self.compensation_result(token, &step_id, key, result);
        }
        match result {
            ActionOutcome::Done { response } => {
                self.unblock();
                self.history("action_completed", Some(&step_id), None, json!({"key": key, "response": response}));
                self.inst.done_actions.push(DoneAction { step: step_id, key: key.to_owned() });
                self.complete_step(token, response);
            }
            ActionOutcome::Failed { error } => {
                self.history("action_failed", Some(&step_id), None, json!({"key": key, "error": error}));
                if let Some(target) = on_error {
                    self.inst.context["steps"][&step_id] = json!({"error": error});
                    self.history("step_failed", Some(&step_id), None, json!({"error": error, "routed_to": target}));
                    self.go(token, Some(target));
                } else {
                    self.inst.status = InstanceStatus::Blocked;
                    self.history("dead_lettered", Some(&step_id), None, json!({"key": key, "error": error}));
                    self.out.effects.push(Effect::DeadLetter { key: key.to_owned(), error });
                }
            }
            ActionOutcome::Skipped { actor } => {
                self.unblock();
                self.history("action_skipped", Some(&step_id), Some(&actor), json!({"key": key}));
                self.complete_step(token, json!({"skipped": true}));
            }
            ActionOutcome::Compensate { actor } => {
                self.unblock();
                self.history("compensation_requested", Some(&step_id), Some(&actor), json!({"key": key}));
                self.remove_token(token);
                self.fail_instance(Some(&step_id), format!("action {key} failed and {actor} chose to compensate"));
            }
        }
    }

    /// A result for an action whose token is gone: the instance was cancelled or failed while
    /// the delivery was in flight. An action that took effect anyway is undone.
    fn late_result(&mut self, key: &str, result: ActionOutcome) {
        let ActionOutcome::Done { response } = result else { return };
        let Some(rest) = key.strip_prefix(&format!("{}/", self.inst.id)) else { return };
        let step = rest.split('#').next().unwrap_or(rest).to_owned();
        if rest.ends_with("/compensate") || self.compensation_of(&step).is_none() {
            return;
        }
        if self.inst.done_actions.iter().any(|a| a.key == key) || self.inst.compensated.iter().any(|k| k == key) {
            return;
        }
        self.history("late_action_completed", Some(&step), None, json!({"key": key, "response": response}));
        self.inst.context["steps"][&step] = response;
        self.inst.done_actions.push(DoneAction { step, key: key.to_owned() });
        let compensating = self.inst.tokens.iter().any(|t| matches!(t.state, TokenState::Compensation { .. }));
        if !self.inst.status.is_open() || (self.inst.status == InstanceStatus::Compensating && !compensating) {
            if self.inst.context.get("ending").is_none() {
                let ending = if self.inst.status == InstanceStatus::Cancelled { "cancelled" } else { "failed" };
                self.inst.context["ending"] = json!(ending);
            }
            self.inst.status = InstanceStatus::Compensating;
            self.compensate_next();
        }
    }

    fn action_retried(&mut self, key: &str, actor: &str) {
        let waiting = self.inst.tokens.iter().find(
            |t| matches!(&t.state, TokenState::Action { key: k } | TokenState::Compensation { key: k } if k == key),
        );
        let Some(step) = waiting.map(|t| t.step.clone()) else { return };
        self.unblock();
        self.history("dead_letter_retried", Some(&step), Some(actor), json!({"key": key}));
    }

    fn unblock(&mut self) {
        if self.inst.status == InstanceStatus::Blocked {
            self.inst.status = if self.inst.tokens.iter().any(|t| matches!(t.state, TokenState::Compensation { .. })) {
                InstanceStatus::Compensating
            } else {
                InstanceStatus::Running
            };
        }
    }

    fn compensation_result(&mut self, token: u32, step: &str, key: &str, result: ActionOutcome) {
        match result {
            ActionOutcome::Failed { error } => {
                self.inst.status = InstanceStatus::Blocked;
                self.history("compensation_failed", Some(step), None, json!({"key": key, "error": error}));
                self.history("dead_lettered", Some(step), None, json!({"key": key, "error": error}));
                self.out.effects.push(Effect::DeadLetter { key: key.to_owned(), error });
            }
            ActionOutcome::Done { response } => {
                self.unblock();
                self.history("compensated", Some(step), None, json!({"key": key, "response": response}));
                self.remove_token(token);
                self.compensate_next();
            }
            ActionOutcome::Skipped { actor } | ActionOutcome::Compensate { actor } => {
                self.unblock();
                self.history("compensation_skipped", Some(step), Some(&actor), json!({"key": key}));
                self.remove_token(token);
                self.compensate_next();
            }
        }
    }

    fn timer(&mut self, timer: Timer) {
        if !self.inst.status.is_open() {
            return;
        }
        match timer.purpose {
            TimerPurpose::Retry { token } => {
                if let Some(t) = self.inst.token_mut(token)
                    && t.state == (TokenState::Retry { timer: timer.id.clone() })
                {
                    t.state = TokenState::Ready;
                    let (step, attempt) = (t.step.clone(), t.attempt);
                    self.history("step_retried", Some(&step), None, json!({"attempt": attempt}));
                }
            }
            TimerPurpose::WaitTimeout { token } => {
                let waiting = matches!(self.inst.token(token).map(|t| &t.state),
                    Some(TokenState::Event { timer: Some(id) }) if *id == timer.id);
                let Some(step) = self.step_of(token).filter(|_| waiting) else { return };
                let StepKind::Wait(WaitSpec::Event { on_timeout, .. }) = &step.kind else { return };
                let (step_id, on_timeout) = (step.id.clone(), on_timeout.clone());
                self.history("wait_timed_out", Some(&step_id), None, Value::Null);
                match on_timeout {
                    Some(target) => {
                        self.inst.context["steps"][&step_id] = json!({"timed_out": true});
                        self.go(token, Some(target));
                    }
                    None => self.fail_step(token, "timed out waiting for the event".to_owned(), false),
                }
            }
            TimerPurpose::WaitUntil { token } => {
                let waiting = matches!(self.inst.token(token).map(|t| &t.state),
                    Some(TokenState::Until { timer: id }) if *id == timer.id);
                if waiting {
                    self.complete_step(token, json!({"at": timer.due_at}));
                }
            }
            TimerPurpose::TaskDue { task } => self.task_timer(&task, |run, step, _| {
                run.history("task_overdue", Some(step), None, json!({"task": task}));
                run.out.effects.push(Effect::UpdateTask { task: task.clone(), change: TaskChange::Overdue });
            }),
            TimerPurpose::TaskEscalation { task, rung } => self.escalate(&task, rung),
            TimerPurpose::TaskReminder { task } => self.task_timer(&task, |run, step, token| {
                run.history("task_reminded", Some(step), None, json!({"task": task}));
                run.out.effects.push(Effect::UpdateTask { task: task.clone(), change: TaskChange::Reminded });
                let every = match run.wf.step(step).map(|s| &s.kind) {
                    Some(StepKind::Task(spec)) => spec.remind_every,
                    _ => None,
                };
                if let Some(every) = every {
                    let location = match run.inst.token(token).map(|t| &t.state) {
                        Some(TokenState::Task { location, .. }) => location.clone(),
                        _ => None,
                    };
                    let at = run.business_time_after(location.as_deref(), run.now(), every);
                    run.arm(at, TimerPurpose::TaskReminder { task: task.clone() });
                }
            }),
        }
    }

    /// Runs `f` if the task is still open.
    fn task_timer(&mut self, task: &str, f: impl FnOnce(&mut Self, &str, u32)) {
        if let Some(token) = self.inst.task_token(task) {
            let (step, id) = (token.step.clone(), token.id);
            f(self, &step, id);
        }
    }

    fn escalate(&mut self, task: &str, rung: usize) {
        let Some(token) = self.inst.task_token(task).map(|t| t.id) else { return };
        let Some(step) = self.step_of(token) else { return };
        let StepKind::Task(spec) = &step.kind else { return };
        let Some(escalation) = spec.escalation.get(rung) else { return };
        let (step_id, role) = (step.id.clone(), escalation.role.clone());
        let Some(TokenState::Task { level, location, claimed_by, .. }) =
            self.inst.token_mut(token).map(|t| &mut t.state)
        else {
            return;
        };
        if *level as usize != rung {
            return;
        }
        let up = location.as_deref().and_then(|code| self.env.directory.location(code)).and_then(|l| l.parent);
        let new_location = up.map(|p| p.to_string()).or_else(|| location.clone());
        *level += 1;
        *location = new_location.clone();
        *claimed_by = None;
        let level = *level;
        self.history(
            "task_escalated",
            Some(&step_id),
            None,
            json!({"task": task, "role": role, "location": new_location, "level": level}),
        );
        self.out.effects.push(Effect::UpdateTask {
            task: task.to_owned(),
            change: TaskChange::Escalated { role, location: new_location, level },
        });
    }

    fn read_result(&mut self, token: u32, result: ReadOutcome) {
        if self.inst.token(token).map(|t| &t.state) != Some(&TokenState::Read) {
            return;
        }
        match result {
            ReadOutcome::Ok { data } => self.complete_step(token, data),
            ReadOutcome::Retryable { error } => self.fail_step(token, error, true),
            ReadOutcome::Permanent { error } => self.fail_step(token, error, false),
        }
    }

    fn cancel(&mut self, actor: &str, reason: Option<String>) {
        self.history("cancelled", None, Some(actor), json!({"reason": reason}));
        self.stop_tokens();
        self.inst.outcome = Some("cancelled".to_owned());
        if self.compensable() {
            self.inst.status = InstanceStatus::Compensating;
            self.inst.context["ending"] = json!("cancelled");
            self.compensate_next();
        } else {
            self.inst.status = InstanceStatus::Cancelled;
        }
    }

    // ----- running steps --------------------------------------------------------------------

    /// Runs every ready token until each waits or has ended.
    fn drain(&mut self) {
        let mut budget = 10_000u32;
        while let Some(token) = self.inst.tokens.iter().find(|t| t.state == TokenState::Ready).map(|t| t.id) {
            if !self.inst.status.is_open() {
                break;
            }
            budget -= 1;
            if budget == 0 {
                self.fail_instance(None, "more than 10,000 steps in one transition: a loop without a wait".to_owned());
                break;
            }
            self.run_step(token);
        }
    }

    fn new_token(&mut self, step: String, parent: Option<u32>) -> Token {
        let id = self.inst.next_token;
        self.inst.next_token += 1;
        *self.inst.visits.entry(step.clone()).or_insert(0) += 1;
        Token { id, step, parent, attempt: 1, state: TokenState::Ready, approval: None }
    }

    fn set_state(&mut self, token: u32, state: TokenState) {
        if let Some(t) = self.inst.token_mut(token) {
            t.state = state;
        }
    }

    fn run_step(&mut self, token: u32) {
        let Some(step) = self.step_of(token) else {
            return self.fail_instance(None, "a token stands on a step the workflow does not have".to_owned());
        };
        let wf = self.wf;
        let Some(step) = wf.step(&step.id) else { return };
        match &step.kind {
            StepKind::Enrich(enrich) => self.enrich(token, step, enrich),
            StepKind::Classify { classifier } => match wf.classifiers.get(classifier) {
                Some(c) => match c.classify(&self.inst.context) {
                    Ok(result) => self.complete_step(token, serde_json::to_value(result).unwrap_or(Value::Null)),
                    Err(e) => self.fail_step(token, e.to_string(), false),
                },
                None => self.fail_step(token, format!("classifier {classifier} is not defined"), false),
            },
            StepKind::Decide(decide) => {
                let Some(table) = wf.tables.get(&decide.table) else {
                    return self.fail_step(token, format!("decision table {} is not defined", decide.table), false);
                };
                let mut inputs = Map::new();
                for input in &table.inputs {
                    let value = match decide.inputs.iter().find(|(name, _)| *name == input.name) {
                        Some((_, expr)) => match self.eval(expr) {
                            Ok(v) => v,
                            Err(e) => return self.fail_step(token, e, false),
                        },
                        None => lookup(&self.inst.context, &input.name).cloned().unwrap_or(Value::Null),
                    };
                    inputs.insert(input.name.clone(), value);
                }
                match table.evaluate(&inputs) {
                    Ok(evaluation) => {
                        let mut output = match evaluation.outputs.len() {
                            0 => Map::new(),
                            1 if !matches!(
                                table.hit_policy,
                                crate::decision::HitPolicy::Collect(None) | crate::decision::HitPolicy::RuleOrder
                            ) =>
                            {
                                evaluation.outputs.into_iter().next().unwrap_or_default()
                            }
                            _ => {
                                let mut m = Map::new();
                                m.insert("results".to_owned(), Value::from(evaluation.outputs));
                                m
                            }
                        };
                        output.insert("matched".to_owned(), json!(evaluation.matched));
                        output.insert("table".to_owned(), json!(table.id));
                        output.insert("inputs".to_owned(), Value::Object(inputs));
                        self.complete_step(token, Value::Object(output));
                    }
                    Err(e) => self.fail_step(token, e.to_string(), false),
                }
            }
            StepKind::Check(spec) => self.check(token, spec),
            StepKind::Task(spec) => self.open_task(token, step, spec),
            StepKind::Approval(spec) => self.approval(token, step, spec),
            StepKind::Action(action) => {
                let payload = match self.template(&action.with) {
                    Ok(p) => p,
                    Err(e) => return self.fail_step(token, e, false),
                };
                let key = self.action_key(&step.id);
                let message =
                    OutboxMessage::new(key.clone(), &action.connector, &action.operation, payload, &step.retry);
                self.history(
                    "action_sent",
                    Some(&step.id),
                    None,
                    json!({"key": key, "connector": action.connector, "operation": action.operation}),
                );
                self.out.effects.push(Effect::Send(message));
                self.set_state(token, TokenState::Action { key });
            }
            StepKind::Wait(WaitSpec::Event { timeout, .. }) => {
                let mailbox = self.inst.context.get("mailbox").and_then(Value::as_array).cloned().unwrap_or_default();
                self.set_state(token, TokenState::Event { timer: None });
                for (i, event) in mailbox.into_iter().enumerate() {
                    if self.wait_matches(token, &event) {
                        if let Some(m) = self.inst.context["mailbox"].as_array_mut() {
                            m.remove(i);
                        }
                        return self.finish_wait(token, Some(&step.id), event);
                    }
                }
                let timer = timeout.map(|t| self.arm(self.now() + t, TimerPurpose::WaitTimeout { token }));
                self.set_state(token, TokenState::Event { timer });
            }
            StepKind::Wait(WaitSpec::Until { at }) => {
                let when = self.eval(at).and_then(|v| {
                    v.as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| t.with_timezone(&Utc))
                        .ok_or_else(|| format!("until ({}) gave {v}, not an RFC 3339 time", at.source()))
                });
                match when {
                    Ok(at) if at <= self.now() => self.complete_step(token, json!({"at": at})),
                    Ok(at) => {
                        let timer = self.arm(at, TimerPurpose::WaitUntil { token });
                        self.set_state(token, TokenState::Until { timer });
                    }
                    Err(e) => self.fail_step(token, e, false),
                }
            }
            StepKind::Branch(branch) => {
                for (condition, target) in &branch.cases {
                    match condition.compiled.evaluate_bool(&self.inst.context) {
                        Ok(true) => {
                            self.history(
                                "branch_taken",
                                Some(&step.id),
                                None,
                                json!({"to": target, "when": condition.source()}),
                            );
                            self.out.steps_completed += 1;
                            return self.go(token, Some(target.clone()));
                        }
                        Ok(false) => {}
                        Err(e) => return self.fail_step(token, format!("{}: {e}", condition.source()), false),
                    }
                }
                match &branch.otherwise {
                    Some(target) => {
                        self.history("branch_taken", Some(&step.id), None, json!({"to": target}));
                        self.out.steps_completed += 1;
                        self.go(token, Some(target.clone()));
                    }
                    None => self.fail_step(token, "no case holds and there is no otherwise".to_owned(), false),
                }
            }
            StepKind::Parallel(parallel) => {
                let mut remaining = Vec::new();
                for start in &parallel.branches {
                    let child = self.new_token(start.clone(), Some(token));
                    remaining.push(child.id);
                    self.inst.tokens.push(child);
                }
                self.history("parallel_started", Some(&step.id), None, json!({"branches": parallel.branches}));
                self.set_state(token, TokenState::Join { remaining });
            }
            StepKind::Emit(emit) => {
                let data = match self.template(&emit.data) {
                    Ok(d) => d,
                    Err(e) => return self.fail_step(token, e, false),
                };
                let id = self.action_key(&step.id);
                let event = json!({
                    "id": id, "type": emit.event, "source": format!("backroom/{}", self.wf.id),
                    "occurred_at": self.now(), "data": data,
                });
                if let Err(problems) = backroom_model::validate_event(&event) {
                    let text =
                        problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; ");
                    return self.fail_step(token, format!("the {} event is not valid: {text}", emit.event), false);
                }
                self.out.effects.push(Effect::Emit { id: id.clone(), event_type: emit.event.clone(), data });
                self.complete_step(token, json!({"event_id": id}));
            }
            StepKind::End { outcome } => {
                self.history("completed", Some(&step.id), None, json!({"outcome": outcome}));
                self.out.steps_completed += 1;
                self.remove_token(token);
                self.stop_tokens();
                self.inst.status = InstanceStatus::Completed;
                self.inst.outcome = Some(outcome.clone());
            }
        }
    }

    fn enrich(&mut self, token: u32, step: &Step, enrich: &Enrich) {
        let source = match enrich {
            Enrich::Projection { projection, location, item } => {
                let (location, item) = match (self.eval_text(location), self.eval_text(item)) {
                    (Ok(l), Ok(i)) => (l, i),
                    (Err(e), _) | (_, Err(e)) => return self.fail_step(token, e, false),
                };
                ReadSource::projection(*projection, location, item, self.now())
            }
            Enrich::Query { connector, operation, with } => match self.template(with) {
                Ok(request) => {
                    ReadSource::Query { connector: connector.clone(), operation: operation.clone(), request }
                }
                Err(e) => return self.fail_step(token, e, false),
            },
            Enrich::Documents { numbers } => {
                let mut texts = Vec::new();
                for n in numbers {
                    match self.eval(n) {
                        Ok(Value::Null) => {}
                        Ok(v) => match text_of(&v) {
                            Some(t) if !texts.contains(&t) => texts.push(t),
                            Some(_) => {}
                            None => {
                                return self.fail_step(
                                    token,
                                    format!("{}: not a document number: {v}", n.source()),
                                    false,
                                );
                            }
                        },
                        Err(e) => return self.fail_step(token, e, false),
                    }
                }
                let exclude_seq = self.inst.context.get("event").and_then(|e| e.get("seq")).and_then(Value::as_i64);
                ReadSource::Documents { numbers: texts, exclude_seq }
            }
        };
        self.set_state(token, TokenState::Read);
        self.out.reads.push(ReadRequest { token, step: step.id.clone(), source });
    }

    fn open_task(&mut self, token: u32, step: &Step, spec: &TaskSpec) {
        let location = match spec.location.as_ref().map(|e| self.eval_text(e)).transpose() {
            Ok(l) => l,
            Err(e) => return self.fail_step(token, e, false),
        };
        let title = match self.template(&spec.title) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => return self.fail_step(token, e, false),
        };
        let priority = match spec.priority.as_ref().map(|e| self.eval(e)).transpose() {
            Ok(p) => p.and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))).unwrap_or(0),
            Err(e) => return self.fail_step(token, e, false),
        };
        let evidence = match &spec.evidence {
            Some(t) => match self.template(t) {
                Ok(v) => v,
                Err(e) => return self.fail_step(token, e, false),
            },
            None => {
                let mut snapshot = self.inst.context.clone();
                if let Some(m) = snapshot.as_object_mut() {
                    m.remove("mailbox");
                }
                snapshot
            }
        };
        let requester = match spec.requester.as_ref().map(|e| self.eval(e)).transpose() {
            Ok(r) => r.and_then(|v| text_of(&v)),
            Err(e) => return self.fail_step(token, e, false),
        };
        let excluded: Vec<Exclusion> = requester
            .map(|r| Exclusion { reason: format!("{r} requested what task {} approves", step.id), actor: r })
            .into_iter()
            .collect();
        let now = self.now();
        let id = self.env.ids.next_id();
        let due_at = spec.due.map(|d| self.business_time_after(location.as_deref(), now, d));
        let outcomes: Vec<Value> = spec
            .outcomes
            .iter()
            .map(|o| match &o.kind {
                OutcomeKind::Choice => json!({"name": o.name}),
                OutcomeKind::Modify(fields) => json!({"name": o.name, "fields": fields.iter().map(|f| json!({
                    "name": f.name, "type": field_kind(f.kind), "required": f.required,
                })).collect::<Vec<_>>()}),
            })
            .collect();
        self.out.effects.push(Effect::OpenTask(NewTask {
            id: id.clone(),
            step: step.id.clone(),
            role: spec.role.clone(),
            location: location.clone(),
            title: title.clone(),
            priority,
            due_at,
            evidence,
            outcomes: Value::from(outcomes),
            created_at: now,
        }));
        self.history(
            "task_opened",
            Some(&step.id),
            None,
            json!({"task": id, "role": spec.role, "location": location, "due_at": due_at, "title": title}),
        );
        if let Some(due) = due_at {
            self.arm(due, TimerPurpose::TaskDue { task: id.clone() });
        }
        for (rung, escalation) in spec.escalation.iter().enumerate() {
            let at = self.business_time_after(location.as_deref(), now, escalation.after);
            self.arm(at, TimerPurpose::TaskEscalation { task: id.clone(), rung });
        }
        if let Some(every) = spec.remind_every {
            let at = self.business_time_after(location.as_deref(), now, every);
            self.arm(at, TimerPurpose::TaskReminder { task: id.clone() });
        }
        self.set_state(token, TokenState::Task { task: id, claimed_by: None, level: 0, location, excluded });
    }

    /// `start` plus `duration` of business time on the location's calendar (all hours when the
    /// location or its calendar is unknown).
    fn business_time_after(&self, location: Option<&str>, start: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        let calendar = location
            .and_then(|code| self.env.directory.location(code))
            .and_then(|l| BusinessCalendar::for_location(&l).ok());
        calendar.and_then(|c| c.add_business_time(start, duration)).unwrap_or(start + duration)
    }

    fn arm(&mut self, due_at: DateTime<Utc>, purpose: TimerPurpose) -> String {
        self.inst.timers += 1;
        let id = format!("{}/timer/{}", self.inst.id, self.inst.timers);
        self.out.effects.push(Effect::Arm(Timer { id: id.clone(), due_at, purpose }));
        id
    }

    /// `instance/step`, with `#n` from the second visit of the step on.
    fn action_key(&self, step: &str) -> String {
        match self.inst.visits.get(step).copied().unwrap_or(1) {
            0 | 1 => format!("{}/{step}", self.inst.id),
            n => format!("{}/{step}#{n}", self.inst.id),
        }
    }

    fn complete_step(&mut self, token: u32, output: Value) {
        let Some(step) = self.step_of(token) else { return };
        let (id, next) = (step.id.clone(), step.next.clone());
        let data = match &step.kind {
            StepKind::Decide(_) => json!({"matched": output["matched"], "table": output["table"]}),
            StepKind::Classify { .. } => output.clone(),
            StepKind::Enrich(_) | StepKind::Emit(_) | StepKind::Action(_) => json!({"output": output}),
            StepKind::Check(_) => json!({
                "outcome": output.get("outcome").or_else(|| output.get("accepted")),
                "summary": output["summary"],
            }),
            _ => Value::Null,
        };
        self.history("step_completed", Some(&id), None, data);
        self.inst.context["steps"][&id] = output;
        self.out.steps_completed += 1;
        self.go(token, next);
    }

    /// Moves the token to `next`, or ends its branch.
    fn go(&mut self, token: u32, next: Option<String>) {
        match next {
            Some(next) => {
                *self.inst.visits.entry(next.clone()).or_insert(0) += 1;
                if let Some(t) = self.inst.token_mut(token) {
                    t.step = next;
                    t.attempt = 1;
                    t.state = TokenState::Ready;
                }
            }
            None => self.branch_ended(token),
        }
    }

    fn branch_ended(&mut self, token: u32) {
        let parent = self.inst.token(token).and_then(|t| t.parent);
        self.remove_token(token);
        let Some(parent) = parent else {
            // A step without `next` outside a branch (validation forbids it): end here.
            if self.inst.tokens.is_empty() {
                self.inst.status = InstanceStatus::Completed;
                self.inst.outcome = Some("completed".to_owned());
                self.history("completed", None, None, json!({"outcome": "completed"}));
            }
            return;
        };
        let Some(step) = self.step_of(parent) else { return };
        let StepKind::Parallel(parallel) = &step.kind else { return };
        let (step_id, join) = (step.id.clone(), parallel.join);
        let Some(TokenState::Join { remaining }) = self.inst.token_mut(parent).map(|t| &mut t.state) else { return };
        remaining.retain(|&t| t != token);
        let done = remaining.is_empty() || join == Join::Any;
        let others = std::mem::take(remaining);
        if !done {
            *remaining = others;
            return;
        }
        for other in others {
            self.remove_subtree(other);
        }
        self.history(
            "parallel_joined",
            Some(&step_id),
            None,
            json!({"join": if join == Join::All { "all" } else { "any" }}),
        );
        self.complete_step(parent, json!({"joined": true}));
    }

    fn remove_token(&mut self, token: u32) {
        self.inst.tokens.retain(|t| t.id != token);
    }

    /// Removes a token and every token it spawned, cancelling their tasks.
    fn remove_subtree(&mut self, token: u32) {
        let children: Vec<u32> = self.inst.tokens.iter().filter(|t| t.parent == Some(token)).map(|t| t.id).collect();
        for child in children {
            self.remove_subtree(child);
        }
        match self.inst.token(token).map(|t| t.state.clone()) {
            Some(TokenState::Task { task, .. }) => {
                self.out.effects.push(Effect::UpdateTask { task, change: TaskChange::Cancelled });
            }
            // An action that can be undone is left to finish: it may already have taken effect
            // (delivered just before a crash), and its result, late, is then compensated. One
            // that cannot be undone is taken back if it has not been sent.
            Some(TokenState::Action { key }) => {
                let step = self.inst.token(token).map(|t| t.step.clone()).unwrap_or_default();
                if self.compensation_of(&step).is_none() {
                    self.out.effects.push(Effect::Withdraw { key });
                }
            }
            _ => {}
        }
        self.remove_token(token);
    }

    /// Removes every token, cancelling open tasks.
    fn stop_tokens(&mut self) {
        let ids: Vec<u32> = self.inst.tokens.iter().map(|t| t.id).collect();
        for id in ids {
            self.remove_subtree(id);
        }
    }

    fn fail_step(&mut self, token: u32, error: String, retryable: bool) {
        let Some(step) = self.step_of(token) else { return };
        let (id, retry, on_error) = (step.id.clone(), step.retry, step.on_error.clone());
        let attempt = self.inst.token(token).map_or(1, |t| t.attempt);
        if retryable && attempt < retry.attempts {
            let at = self.now() + retry.delay_before(attempt + 1);
            let timer = self.arm(at, TimerPurpose::Retry { token });
            if let Some(t) = self.inst.token_mut(token) {
                t.attempt += 1;
                t.state = TokenState::Retry { timer };
            }
            self.history("retry_scheduled", Some(&id), None, json!({"error": error, "attempt": attempt + 1, "at": at}));
            return;
        }
        match on_error {
            Some(target) => {
                self.history("step_failed", Some(&id), None, json!({"error": error, "routed_to": target}));
                self.inst.context["steps"][&id] = json!({"error": error});
                self.go(token, Some(target));
            }
            None => {
                self.remove_token(token);
                self.fail_instance(Some(&id), error);
            }
        }
    }

    fn fail_instance(&mut self, step: Option<&str>, error: String) {
        self.history("failed", step, None, json!({"error": error}));
        self.stop_tokens();
        self.inst.error = Some(error);
        self.inst.outcome = Some("failed".to_owned());
        if self.compensable() {
            self.inst.status = InstanceStatus::Compensating;
            self.inst.context["ending"] = json!("failed");
            self.compensate_next();
        } else {
            self.inst.status = InstanceStatus::Failed;
        }
    }

    fn compensable(&self) -> bool {
        self.inst.done_actions.iter().any(|a| self.compensation_of(&a.step).is_some())
    }

    fn compensation_of(&self, step: &str) -> Option<&crate::workflow::Compensation> {
        match &self.wf.step(step)?.kind {
            StepKind::Action(a) => a.compensate.as_ref(),
            _ => None,
        }
    }

    /// Sends the compensation of the latest action not yet compensated; ends the instance when
    /// none is left.
    fn compensate_next(&mut self) {
        while let Some(done) = self.inst.done_actions.pop() {
            let wf = self.wf;
            let Some(step) = wf.step(&done.step) else { continue };
            let StepKind::Action(action) = &step.kind else { continue };
            let Some(compensation) = &action.compensate else { continue };
            self.inst.compensated.push(done.key.clone());
            let key = format!("{}/compensate", done.key);
            let payload = match self.template(&compensation.with) {
                Ok(p) => p,
                Err(e) => {
                    self.history("compensation_failed", Some(&step.id), None, json!({"key": key, "error": e}));
                    continue;
                }
            };
            let message =
                OutboxMessage::new(key.clone(), &action.connector, &compensation.operation, payload, &step.retry);
            self.history(
                "compensation_sent",
                Some(&step.id),
                None,
                json!({"key": key, "operation": compensation.operation, "undoes": done.key}),
            );
            self.out.effects.push(Effect::Send(message));
            let mut token = self.new_token(step.id.clone(), None);
            token.state = TokenState::Compensation { key };
            self.inst.tokens.push(token);
            return;
        }
        let cancelled = self.inst.context.get("ending").and_then(Value::as_str) == Some("cancelled");
        self.inst.status = if cancelled { InstanceStatus::Cancelled } else { InstanceStatus::Failed };
        self.history("compensation_finished", None, None, json!({"status": self.inst.status.as_str()}));
    }

    // ----- expressions ----------------------------------------------------------------------

    fn eval(&self, expr: &Expr) -> Result<Value, String> {
        expr.compiled.evaluate(&self.inst.context).map_err(|e| format!("{}: {e}", expr.source()))
    }

    fn eval_text(&self, expr: &Expr) -> Result<String, String> {
        match self.eval(expr)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(format!("{} gave {other}, not text", expr.source())),
        }
    }

    fn template(&self, template: &Template) -> Result<Value, String> {
        Ok(match template {
            Template::Expr(e) => self.eval(e)?,
            Template::Literal(v) => v.clone(),
            Template::Object(members) => {
                let mut m = Map::new();
                for (k, t) in members {
                    m.insert(k.clone(), self.template(t)?);
                }
                Value::Object(m)
            }
            Template::List(items) => Value::Array(items.iter().map(|t| self.template(t)).collect::<Result<_, _>>()?),
        })
    }
}

/// "bob for alice, delegation D-1".
fn acting_as(actor: &str, d: &Delegated) -> String {
    format!("{actor} for {}, delegation {}", d.delegator, d.delegation)
}

/// A name given by an expression: text or a number; `None` for null or empty text.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A decimal given by an expression: text or a number.
fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(s) => s.trim().parse::<Decimal>().ok(),
        Value::Number(n) => {
            n.to_string().parse::<Decimal>().ok().or_else(|| n.as_f64().and_then(|f| Decimal::try_from(f).ok()))
        }
        _ => None,
    }
}

fn field_kind(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Decimal => "decimal",
        FieldKind::Integer => "integer",
        FieldKind::Boolean => "boolean",
    }
}

/// A dotted path (`steps.stock.on_hand`) in the context.
fn lookup<'v>(context: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(context, |v, key| v.get(key))
}

/// Checks that a decision fits the open task: the outcome is allowed and the fields are right.
pub fn validate_decision(
    workflow: &Workflow,
    instance: &Instance,
    task: &str,
    outcome: &str,
    fields: &Map<String, Value>,
) -> Result<(), Rejection> {
    let token = instance.task_token(task).ok_or_else(|| Rejection::NoSuchTask(task.to_owned()))?;
    match workflow.step(&token.step).map(|s| &s.kind) {
        Some(StepKind::Task(spec)) => check_decision(spec, outcome, fields).map(|_| ()),
        Some(StepKind::Approval(_)) => check_approval_decision(outcome, fields),
        _ => Err(Rejection::NoSuchTask(task.to_owned())),
    }
}
