//! `approval` steps: a policy picked up the location hierarchy, an automatic decision within the
//! policy's autonomy limits (with its receipt and ledger row), or a chain of approval tasks with
//! segregation of duties, or a suggestion only.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Run, decimal_of, text_of};
use crate::core::state::{Approval, ApprovalChain, PolicyUsed, TokenState};
use crate::core::{AutomaticDecision, Delegated, Effect, NewTask, TaskChange};
use crate::policy::{AutonomyLevel, Exclusion, PolicyVersion};
use crate::workflow::{ApprovalSpec, PolicyName, Step, StepKind};

/// Most levels walked up the location hierarchy looking for a policy.
const MAX_HOPS: usize = 16;

/// What an approval step evaluated.
struct Inputs {
    action: String,
    amount: Decimal,
    location: Option<String>,
    requester: Option<String>,
    confidence: Option<Decimal>,
}

impl Inputs {
    fn to_json(&self) -> Value {
        json!({
            "amount": self.amount.normalize().to_string(),
            "location": self.location,
            "requester": self.requester,
            "confidence": self.confidence.map(|c| c.normalize().to_string()),
        })
    }
}

/// "purchase order" for `purchase_order`.
fn spoken(action: &str) -> String {
    action.replace('_', " ")
}

impl Run<'_, '_> {
    /// Runs an `approval` step.
    pub(super) fn approval(&mut self, token: u32, step: &Step, spec: &ApprovalSpec) {
        let inputs = match self.approval_inputs(spec) {
            Ok(i) => i,
            Err(e) => return self.fail_step(token, e, false),
        };
        let Some(found) = self.find_policy(&inputs.action, inputs.location.as_deref()) else {
            let at = inputs.location.as_deref().map_or_else(|| "the company".to_owned(), |l| format!("{l} or above"));
            let error = format!(
                "no approval policy for {} applies at {at}: save one with PUT /v1/policies/{}",
                inputs.action, inputs.action
            );
            return self.fail_step(token, error, false);
        };
        let policy = &found.policy;
        let used = PolicyUsed { action: policy.action.clone(), version: found.version, scope: policy.scope.clone() };
        let mut chain = ApprovalChain {
            policy: used,
            inputs: inputs.to_json(),
            steps: policy.chain(inputs.amount),
            approvals: Vec::new(),
            fallback: None,
        };
        match policy.autonomy.level {
            AutonomyLevel::Suggest => {
                let recommendation = json!({
                    "approve": true,
                    "approvals_a_person_would_need": chain.steps,
                    "note": format!("the {} policy only suggests: nothing was approved", spoken(&inputs.action)),
                });
                let next = spec.suggested.clone().unwrap_or_else(|| spec.rejected.clone());
                let mut output = self.approval_output(&step.id, &chain, "suggested", false, None);
                output["recommendation"] = recommendation;
                self.finish_approval(token, &step.id, output, next);
            }
            AutonomyLevel::Auto => match self.within_autonomy(&found, &inputs) {
                Ok(()) => self.decide_automatically(token, step, spec, &found, &inputs, chain),
                Err(reason) => {
                    self.history(
                        "autonomy_fallback",
                        Some(&step.id),
                        None,
                        json!({"reason": reason, "policy": chain.policy}),
                    );
                    chain.fallback = Some(reason);
                    self.next_approval(token, &step.id, spec, chain);
                }
            },
            AutonomyLevel::Approve => self.next_approval(token, &step.id, spec, chain),
        }
    }

    fn approval_inputs(&self, spec: &ApprovalSpec) -> Result<Inputs, String> {
        let action = match &spec.policy {
            PolicyName::Named(name) => name.clone(),
            PolicyName::Expr(e) => self.eval_text(e)?,
        };
        let value = self.eval(&spec.amount)?;
        let amount = decimal_of(&value)
            .ok_or_else(|| format!("amount ({}) gave {value}, not a decimal amount", spec.amount.source()))?;
        if amount.is_sign_negative() {
            return Err(format!("amount ({}) gave {amount}, a negative amount", spec.amount.source()));
        }
        let location = match &spec.location {
            Some(e) => text_of(&self.eval(e)?),
            None => None,
        };
        let requester = match &spec.requester {
            Some(e) => text_of(&self.eval(e)?),
            None => None,
        };
        let confidence = match &spec.confidence {
            Some(e) => {
                let v = self.eval(e)?;
                if v.is_null() {
                    None
                } else {
                    Some(decimal_of(&v).ok_or_else(|| format!("confidence ({}) gave {v}, not a number", e.source()))?)
                }
            }
            None => None,
        };
        Ok(Inputs { action, amount, location, requester, confidence })
    }

    /// The newest policy for `action` at the most specific scope at or above `location`, then
    /// the company's.
    fn find_policy(&self, action: &str, location: Option<&str>) -> Option<Arc<PolicyVersion>> {
        let mut cursor = location.map(str::to_owned);
        for _ in 0..MAX_HOPS {
            let Some(code) = cursor else { break };
            if let Some(p) = self.env.policies.policy(action, Some(&code)) {
                return Some(p);
            }
            cursor = self.env.directory.location(&code).and_then(|l| l.parent).map(|p| p.to_string());
        }
        self.env.policies.policy(action, None)
    }

    /// Whether the policy lets the system approve this alone; the reason when it does not.
    fn within_autonomy(&self, found: &PolicyVersion, inputs: &Inputs) -> Result<(), String> {
        let autonomy = &found.policy.autonomy;
        if let Some(max) = autonomy.max_amount
            && inputs.amount > max
        {
            return Err(format!(
                "the amount {} is over the automatic limit of {} per {}",
                inputs.amount.normalize(),
                max.normalize(),
                spoken(&inputs.action)
            ));
        }
        if let Some(daily) = autonomy.max_daily_amount {
            let day = self.now().date_naive();
            let so_far = self.env.policies.automatic_total(&inputs.action, inputs.location.as_deref(), day)
                + self.approved_in_this_transition(&inputs.action, inputs.location.as_deref());
            if so_far + inputs.amount > daily {
                let at = inputs.location.as_deref().map_or_else(|| "company-wide".to_owned(), |l| format!("at {l}"));
                return Err(format!(
                    "{} approved automatically {at} today ({} UTC) plus {} would exceed the daily limit of {}",
                    so_far.normalize(),
                    day,
                    inputs.amount.normalize(),
                    daily.normalize()
                ));
            }
        }
        if let Some(min) = autonomy.min_confidence {
            match inputs.confidence {
                None => {
                    return Err(format!(
                        "no model confidence was given and the policy needs at least {}",
                        min.normalize()
                    ));
                }
                Some(c) if c < min => {
                    return Err(format!(
                        "the model's confidence {} is under the policy's minimum of {}",
                        c.normalize(),
                        min.normalize()
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Automatic approvals already made by this transition (not yet in the book's totals).
    fn approved_in_this_transition(&self, action: &str, location: Option<&str>) -> Decimal {
        self.out
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::RecordAutomatic(d) if d.policy == action && d.location.as_deref() == location => Some(d.amount),
                _ => None,
            })
            .sum()
    }

    fn decide_automatically(
        &mut self,
        token: u32,
        step: &Step,
        spec: &ApprovalSpec,
        found: &PolicyVersion,
        inputs: &Inputs,
        chain: ApprovalChain,
    ) {
        let receipt = self.receipt(&chain, "approved");
        let output = self.approval_output(&step.id, &chain, "approved", true, Some(receipt));
        self.out.effects.push(Effect::RecordAutomatic(AutomaticDecision {
            policy: inputs.action.clone(),
            policy_scope: found.policy.scope.clone(),
            policy_version: found.version,
            location: inputs.location.clone(),
            day: self.now().date_naive(),
            amount: inputs.amount.normalize(),
            step: step.id.clone(),
            at: self.now(),
        }));
        self.finish_approval(token, &step.id, output, spec.approved.clone());
    }

    /// What the decision rests on: the inputs, the policy, the rows matched by the instance's
    /// decision tables, the classifications of its models, and the outcome.
    fn receipt(&self, chain: &ApprovalChain, outcome: &str) -> Value {
        let steps = self.inst.context.get("steps").and_then(Value::as_object);
        let mut decisions = Vec::new();
        let mut classifications = Vec::new();
        for step in &self.wf.steps {
            let Some(output) = steps.and_then(|s| s.get(&step.id)) else { continue };
            match &step.kind {
                StepKind::Decide(d) => decisions.push(json!({
                    "step": step.id, "table": d.table, "matched": output.get("matched"),
                })),
                StepKind::Classify { classifier } => classifications.push(json!({
                    "step": step.id, "classifier": classifier, "model": output.get("model"),
                    "label": output.get("label"), "confidence": output.get("confidence"),
                })),
                _ => {}
            }
        }
        json!({
            "inputs": chain.inputs,
            "policy": chain.policy,
            "decision_rows": decisions,
            "classifications": classifications,
            "outcome": outcome,
            "decided_at": self.now(),
        })
    }

    fn approval_output(
        &self,
        _step: &str,
        chain: &ApprovalChain,
        outcome: &str,
        automatic: bool,
        receipt: Option<Value>,
    ) -> Value {
        let mut output = json!({
            "outcome": outcome,
            "automatic": automatic,
            "policy": chain.policy,
            "inputs": chain.inputs,
            "approvals": chain.approvals,
            "receipt": receipt,
        });
        if let Some(reason) = &chain.fallback {
            output["fallback"] = json!(reason);
        }
        output
    }

    fn finish_approval(&mut self, token: u32, step: &str, output: Value, next: String) {
        let mut data =
            json!({"outcome": output["outcome"], "automatic": output["automatic"], "policy": output["policy"]});
        if !output["receipt"].is_null() {
            data["receipt"] = output["receipt"].clone();
        }
        self.history("step_completed", Some(step), None, data);
        self.inst.context["steps"][step] = output;
        self.out.steps_completed += 1;
        if let Some(t) = self.inst.token_mut(token) {
            t.approval = None;
        }
        self.go(token, Some(next));
    }

    /// Opens the task of the next level, or ends the chain approved when every level approved.
    fn next_approval(&mut self, token: u32, step: &str, spec: &ApprovalSpec, chain: ApprovalChain) {
        let Some(level) = chain.steps.get(chain.approvals.len()).cloned() else {
            let automatic = chain.steps.is_empty();
            let receipt = automatic.then(|| self.receipt(&chain, "approved"));
            let output = self.approval_output(step, &chain, "approved", automatic, receipt);
            return self.finish_approval(token, step, output, spec.approved.clone());
        };
        let action = spoken(&chain.policy.action);
        let mut excluded = Vec::new();
        if let Some(r) = chain.inputs["requester"].as_str() {
            excluded.push(Exclusion { actor: r.to_owned(), reason: format!("{r} requested this {action}") });
        }
        for a in &chain.approvals {
            let what = if a.level == level.level && level.second {
                format!("approved level {} of this chain; four eyes need a second, different approver", a.level)
            } else {
                format!("approved level {} of this chain", a.level)
            };
            excluded.push(Exclusion { actor: a.actor.clone(), reason: format!("{} {what}", a.actor) });
            if let Some(d) = &a.on_behalf_of {
                excluded.push(Exclusion {
                    actor: d.delegator.clone(),
                    reason: format!("{} {what} (through {})", d.delegator, a.actor),
                });
            }
        }
        let location = chain.inputs["location"].as_str().map(str::to_owned);
        let levels = chain.steps.iter().map(|s| s.level).max().unwrap_or(level.level);
        let amount = chain.inputs["amount"].as_str().unwrap_or("").to_owned();
        let title = format!(
            "Approve the {action} of {amount}{}: level {} of {levels}{}",
            location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default(),
            level.level,
            if level.second { ", second approver" } else { "" }
        );
        let now = self.now();
        let id = self.env.ids.next_id();
        let evidence = json!({
            "inputs": chain.inputs, "policy": chain.policy, "level": level, "approvals": chain.approvals,
            "fallback": chain.fallback,
        });
        self.out.effects.push(Effect::OpenTask(NewTask {
            id: id.clone(),
            step: step.to_owned(),
            role: level.role.clone(),
            location: location.clone(),
            title: title.clone(),
            priority: 0,
            due_at: None,
            evidence,
            outcomes: json!([{"name": "approve"}, {"name": "reject"}]),
            created_at: now,
        }));
        self.history(
            "task_opened",
            Some(step),
            None,
            json!({"task": id, "role": level.role, "location": location, "level": level.level, "title": title}),
        );
        if let Some(t) = self.inst.token_mut(token) {
            t.state = TokenState::Task { task: id, claimed_by: None, level: 0, location, excluded };
            t.approval = Some(Box::new(chain));
        }
    }

    /// A person approved or rejected a level of the chain.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn approval_decided(
        &mut self,
        token: u32,
        spec: &ApprovalSpec,
        task: &str,
        outcome: &str,
        comment: Option<String>,
        actor: &str,
        on_behalf_of: Option<Delegated>,
    ) {
        let Some(step) = self.inst.token(token).map(|t| t.step.clone()) else { return };
        let Some(mut chain) = self.inst.token_mut(token).and_then(|t| t.approval.take()).map(|c| *c) else {
            return self.fail_step(token, "the approval chain of this step is missing".to_owned(), false);
        };
        let Some(level) = chain.steps.get(chain.approvals.len()).cloned() else { return };
        let mut data = json!({
            "task": task, "outcome": outcome, "comment": comment, "decided_by": actor, "decided_at": self.now(),
            "level": level.level, "role": level.role, "policy": chain.policy,
        });
        if let Some(d) = &on_behalf_of {
            data["on_behalf_of"] = json!(d);
            data["acting_as"] = json!(super::acting_as(actor, d));
        }
        self.history("task_decided", Some(&step), Some(actor), data);
        self.out.effects.push(Effect::UpdateTask {
            task: task.to_owned(),
            change: TaskChange::Decided { actor: actor.to_owned(), outcome: outcome.to_owned() },
        });
        if outcome == "reject" {
            let output = self.approval_output(&step, &chain, "rejected", false, None);
            let mut output = output;
            output["rejected_by"] =
                json!({"level": level.level, "role": level.role, "actor": actor, "comment": comment});
            return self.finish_approval(token, &step, output, spec.rejected.clone());
        }
        chain.approvals.push(Approval {
            level: level.level,
            role: level.role,
            actor: actor.to_owned(),
            at: self.now(),
            on_behalf_of,
        });
        self.next_approval(token, &step, spec, chain);
    }
}
