//! The durable state of one workflow instance.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::policy::{ChainStep, Exclusion};

/// Where an instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Running or waiting (for a task, an event, an action, a timer).
    Running,
    /// An action is in the dead-letter list; a person must retry, skip or compensate it.
    Blocked,
    /// Undoing actions after a failure or a cancellation.
    Compensating,
    /// Reached an `end` step.
    Completed,
    /// A step failed with nowhere to route the failure.
    Failed,
    /// A person cancelled it.
    Cancelled,
}

impl InstanceStatus {
    /// Its name as stored and shown: `running`, `blocked`, …
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Running => "running",
            InstanceStatus::Blocked => "blocked",
            InstanceStatus::Compensating => "compensating",
            InstanceStatus::Completed => "completed",
            InstanceStatus::Failed => "failed",
            InstanceStatus::Cancelled => "cancelled",
        }
    }

    /// Whether it is still open (an event with its key is delivered to it).
    pub fn is_open(self) -> bool {
        matches!(self, InstanceStatus::Running | InstanceStatus::Blocked | InstanceStatus::Compensating)
    }
}

/// A thread of execution: the step it is on and what it waits for. A `parallel` step makes one
/// token per branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Unique within the instance.
    pub id: u32,
    /// The step it is on.
    pub step: String,
    /// The token of the `parallel` step waiting for this branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    /// Attempt of the current step (1 for the first).
    pub attempt: u32,
    /// What it waits for.
    pub state: TokenState,
    /// The approval chain of the `approval` step it is on, while people approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Box<ApprovalChain>>,
}

/// The policy version an approval step used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyUsed {
    /// The action type (the policy's name).
    pub action: String,
    /// The version.
    pub version: i64,
    /// Its scope (`None`: the company).
    pub scope: Option<String>,
}

/// One approval given in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The level, from 1.
    pub level: u32,
    /// The role it was given in.
    pub role: String,
    /// Who approved.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whose authority, when given through a delegation ("bob for alice").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<super::Delegated>,
}

/// Where an approval chain stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalChain {
    /// The policy version used.
    pub policy: PolicyUsed,
    /// The inputs the step evaluated: amount, location, requester, confidence.
    pub inputs: Value,
    /// The approvals needed, in order.
    pub steps: Vec<ChainStep>,
    /// The approvals given so far.
    pub approvals: Vec<Approval>,
    /// Why the system did not decide alone, when its policy is `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// What a token waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "waiting", rename_all = "snake_case")]
pub enum TokenState {
    /// Nothing: the step runs now.
    Ready,
    /// An answer to a read.
    Read,
    /// A retry timer.
    Retry {
        /// The timer.
        timer: String,
    },
    /// An action's result.
    Action {
        /// The outbox key.
        key: String,
    },
    /// A person's decision.
    Task {
        /// The task.
        task: String,
        /// Who claimed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claimed_by: Option<String>,
        /// Escalation rungs passed.
        #[serde(default)]
        level: u32,
        /// The current scope.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        /// Who may not claim or decide it (segregation of duties).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        excluded: Vec<Exclusion>,
    },
    /// A correlated event (or its timeout).
    Event {
        /// The timeout timer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timer: Option<String>,
    },
    /// A time.
    Until {
        /// The timer.
        timer: String,
    },
    /// Its branches (token ids still running).
    Join {
        /// The branch tokens not yet ended.
        remaining: Vec<u32>,
    },
    /// A compensation's result.
    Compensation {
        /// The outbox key.
        key: String,
    },
}

/// An action that took effect and can be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoneAction {
    /// The action step.
    pub step: String,
    /// Its outbox key.
    pub key: String,
}

/// One workflow instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Its id.
    pub id: String,
    /// The workflow.
    pub workflow: String,
    /// The version it runs (kept until it ends).
    pub version: u32,
    /// The correlation key.
    pub key: Option<String>,
    /// Where it stands.
    pub status: InstanceStatus,
    /// The `end` step's outcome (or `failed`, `cancelled`).
    pub outcome: Option<String>,
    /// The error that failed it.
    pub error: Option<String>,
    /// The context expressions read: `event`, `inputs`, `steps`, `instance`, `location`.
    pub context: Value,
    /// The live tokens.
    pub tokens: Vec<Token>,
    /// The next token id.
    pub next_token: u32,
    /// Timers armed so far (for ids).
    pub timers: u32,
    /// How many times each step has started (for the idempotency keys of repeated actions).
    pub visits: BTreeMap<String, u32>,
    /// Actions that took effect, in order.
    pub done_actions: Vec<DoneAction>,
    /// Keys of actions whose compensation has been sent (a late duplicate result of one of them
    /// is ignored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compensated: Vec<String>,
    /// History lines written so far (the runner numbers them).
    #[serde(default)]
    pub history_len: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Instance {
    /// A new instance, before its [`super::Command::Start`].
    pub fn new(id: String, workflow: &str, version: u32, key: Option<String>, now: DateTime<Utc>) -> Self {
        let context = json!({
            "event": Value::Null,
            "inputs": Map::new(),
            "steps": Map::new(),
            "instance": {"id": id, "workflow": workflow, "version": version, "key": key},
        });
        Instance {
            id,
            workflow: workflow.to_owned(),
            version,
            key,
            status: InstanceStatus::Running,
            outcome: None,
            error: None,
            context,
            tokens: Vec::new(),
            next_token: 1,
            timers: 0,
            visits: BTreeMap::new(),
            done_actions: Vec::new(),
            compensated: Vec::new(),
            history_len: 0,
            started_at: now,
            updated_at: now,
        }
    }

    /// The token with this id.
    pub fn token(&self, id: u32) -> Option<&Token> {
        self.tokens.iter().find(|t| t.id == id)
    }

    pub(crate) fn token_mut(&mut self, id: u32) -> Option<&mut Token> {
        self.tokens.iter_mut().find(|t| t.id == id)
    }

    /// The token waiting for this task.
    pub fn task_token(&self, task: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| matches!(&t.state, TokenState::Task { task: id, .. } if id == task))
    }

    /// The outputs of the steps run so far.
    pub fn steps(&self) -> Option<&Map<String, Value>> {
        self.context.get("steps").and_then(Value::as_object)
    }
}
