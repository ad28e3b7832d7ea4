//! Workflow definitions: the YAML format, its loader and validation, and the compiled model.
//!
//! A definition is read with [`load`], which checks it whole and reports every problem with the
//! file, line, column and step id ([`Problem`]), not only the first. The result is a
//! [`Workflow`], ready for the executor.
//!
//! ```
//! use backroom_engine::workflow::{StepKind, load};
//!
//! let text = r#"
//! id: shelf_check
//! title: Shelf check
//! trigger: { event: inventory.stockout_reported }
//! inputs: { location: event.data.location }
//! steps:
//!   - id: check
//!     kind: task
//!     role: store_manager
//!     location: inputs.location
//!     title: '"Check the shelf at " + inputs.location'
//!     outcomes: { done: done }
//!   - { id: done, kind: end, outcome: resolved }
//! "#;
//! let no_files = |path: &str| Err(format!("no file {path}"));
//! let workflow = load("shelf_check.yaml", text, &no_files).map_err(|p| p.to_string())?;
//! assert_eq!((workflow.start.as_str(), workflow.version), ("check", 1));
//! assert!(matches!(workflow.step("check").map(|s| &s.kind), Some(StepKind::Task(_))));
//!
//! let problems = load("shelf_check.yaml", &text.replace("outcomes: { done: done }", "outcomes: { done: finished }"), &no_files)
//!     .err()
//!     .map(|p| p.to_string());
//! assert_eq!(
//!     problems.as_deref(),
//!     Some("shelf_check.yaml:12:23: step check: `outcomes.done`: no step has the id `finished` (steps: check, done)\n\
//!           shelf_check.yaml:13:5: step done: the step is unreachable: no path from the start step `check` leads \
//!           to it (through next, on_error, on_timeout, cases, otherwise, outcomes or branches)")
//! );
//! # Ok::<(), String>(())
//! ```
//!
//! # The format
//!
//! A complete definition, with every step kind (the test fixture
//! `crates/engine/tests/workflows/replenishment_exception.yaml` is a longer one):
//!
//! ```yaml
//! id: replenishment_exception          # required: [a-z][a-z0-9_]*, at most 64 characters
//! version: 1                           # optional: a positive integer (default 1)
//! title: Replenishment exception       # required
//! description: What it is for          # optional
//!
//! trigger:                             # required
//!   event: inventory.stockout_reported # required: an event type of the catalogue
//!   when: has(event.data.item.sku)     # optional condition (reads only `event`)
//!   key: event.data.location + "/" + event.data.item.sku   # optional correlation key (only `event`)
//!
//! inputs:                              # optional, in order; an input reads `event`, `instance`
//!   location: event.data.location      # and the inputs before it
//!   sku: event.data.item.sku
//!
//! start: stock                         # optional: the first step (default: the first listed)
//!
//! tables:                              # optional: the decision tables, by id
//!   replenishment_action:              # inline: the decision-table YAML format without `id`
//!     hit_policy: FIRST                # (the key is the id; see crate::decision)
//!     inputs: [ { name: stock_on_hand }, { name: donor_available } ]
//!     outputs: [ { name: action, allowed: [transfer, recount] } ]
//!     rules:
//!       - { id: a1, when: { stock_on_hand: "<= 2", donor_available: ">= 6" }, then: { action: transfer } }
//!       - { id: a2, when: { stock_on_hand: "< 0" }, then: { action: recount } }
//!   price_tolerance: { file: tables/price_tolerance.yaml }   # a table file; its id must be the key
//!   refunds: { file: tables/refunds.dmn, decision: refund_approval }   # a DMN file: the decision
//!                                      # with that id; without `decision`, the file's only table
//!                                      # (or the one whose id is the key)
//!
//! classifiers:                         # optional: rule classifiers by name (crate::classify)
//!   stockout_cause:
//!     rules:                           # label, when, confidence (0 to 1) and reason: all required
//!       - { label: phantom_inventory, when: 'decimal(steps.stock.on_hand) > 0.0', confidence: 0.8, reason: shows stock the shelf does not }
//!     otherwise: { label: unknown, confidence: 0.2 }   # optional
//!
//! steps:                               # required, at least one
//!   - id: stock                        # every step: id (required, unique, [a-z][a-z0-9_]*),
//!     title: Read the stock            # kind (required), title (optional text; a task's
//!     kind: enrich                     # title is its template), next, on_error, retry
//!     projection: stock                # stock, or daily_sales with `days` (default 28)
//!     location: inputs.location        # required with a projection
//!     item: inputs.sku                 # required with a projection
//!     next: availability
//!     on_error: investigate            # optional, any kind but end: where to go after the retries
//!     retry: { attempts: 5, backoff: 2s, max_interval: 1m }   # optional; default 3, 1s, 1m
//!   - id: availability
//!     kind: enrich
//!     connector: erp                   # or a connector query: connector and query required,
//!     query: item_availability         # with optional (a template; default {})
//!     with: { sku: inputs.sku, radius_km: 25 }
//!     next: history
//!   - id: history
//!     kind: enrich                     # or the events naming these document numbers (null
//!     documents: [event.data.po_number]   # skipped), the trigger event left out: outputs
//!     next: match                      # found, count, events [{seq, id, type, occurred_at, data}]
//!   - id: match
//!     kind: check                      # a built-in retail rule: three_way_match (an invoice
//!     rule: three_way_match            # against its order, receipts, invoices and credit notes)
//!     document: event.data             # or return_policy (a return against its sale); required
//!     related: steps.history.events    # required: events with `type` and `data`
//!     settings: price_tolerance        # optional table giving the rule's settings per
//!     on: event.occurred_at            # supplier/item/location/region; optional date (default now)
//!     next: classify
//!   - { id: classify, kind: classify, classifier: stockout_cause, next: route }   # defined above
//!   - id: route
//!     kind: decide
//!     table: replenishment_action      # defined in `tables`
//!     inputs: { stock_on_hand: 'decimal(steps.stock.on_hand)' }   # optional: table input -> expression
//!     next: check                      # (an input left out is read from the context by its name)
//!   - id: check
//!     kind: branch                     # the first case whose condition holds, else `otherwise`
//!     cases:                           # required, at least one
//!       - { when: 'steps.route.action == "transfer"', next: approve }
//!     otherwise: investigate           # optional; no `next` on a branch
//!   - id: approve
//!     kind: task
//!     role: store_manager              # required
//!     location: inputs.location        # optional expression: whose people decide
//!     title: '"Approve a transfer of " + inputs.sku'   # required template
//!     priority: 'steps.classify.confidence > 0.5 ? 2 : 1'   # optional expression
//!     evidence: { on_hand: steps.stock.on_hand }       # optional template (default: the context)
//!     due: 4h                          # optional, business time
//!     escalation: [ { after: 2h, role: district_manager }, { after: 6h, role: regional_ops } ]
//!     remind_every: 1h                 # optional; escalation `after`s strictly increase
//!     requester: event.data.reported_by   # optional expression: that person may not claim or
//!                                      # decide the task (segregation of duties)
//!     outcomes:                        # required, at least one; no `next` on a task
//!       approve: transfer              # an outcome name and the step it leads to
//!       reject: rejected
//!       modify:                        # or { next, fields }: the decider changes fields
//!         next: transfer
//!         fields: [ { name: quantity, type: decimal, required: true }, { name: note, type: text } ]
//!   - id: transfer                     # field types: text, decimal, integer, boolean;
//!     kind: action                     # required defaults to false
//!     connector: erp                   # required
//!     operation: create_transfer       # required
//!     with: { sku: inputs.sku, quantity: steps.?approve.?fields.?quantity.orValue(1), urgent: true }
//!     compensate: { operation: cancel_transfer, with: { transfer: steps.transfer.transfer_id } }
//!     next: both
//!   - id: both
//!     kind: parallel
//!     branches: [announce, wait_shipped]   # at least two: each branch runs from its first step
//!     join: all                        # to a step without `next`; all (default) or any
//!     next: counted
//!   - id: announce
//!     kind: emit
//!     event: transfer.requested        # an event type of the catalogue
//!     data: { transfer_number: steps.transfer.transfer_id, to: inputs.location }   # required template
//!   - id: wait_shipped
//!     kind: wait
//!     event: transfer.shipped          # an event type of the catalogue ...
//!     key: event.data.to + "/" + event.data.lines[0].item.sku   # optional: the arriving event's
//!                                      # correlation key (over `event`, the arriving one); an event
//!                                      # whose key is an open instance's key is delivered to it
//!     matches: received.data.transfer_number == steps.transfer.transfer_id   # optional
//!     timeout: 2d                      # optional, wall-clock time
//!     # on_timeout: investigate        # optional, needs `timeout`; without it a timeout fails
//!   - id: counted
//!     kind: wait
//!     until: steps.transfer.expected_at   # ... or `until` a time (RFC 3339), not both
//!     next: done
//!   - id: investigate
//!     kind: task
//!     role: district_manager
//!     title: '"Investigate the stockout of " + inputs.sku'
//!     outcomes: { resolved: done, dismissed: rejected }
//!   - { id: done, kind: end, outcome: resolved }   # outcome required; no next, on_error or retry
//!   - { id: rejected, kind: end, outcome: rejected }
//! ```
//!
//! **Approval steps** approve an amount under an approval policy ([`crate::policy`]):
//!
//! ```yaml
//!   - id: approve_refund
//!     kind: approval
//!     policy: refund                   # required: the action type (or an expression giving it)
//!     amount: event.data.requested_refund.amount   # required: a decimal (text or number)
//!     location: inputs.location        # optional: picks the policy (the most specific scope up
//!                                      # the location hierarchy, then the company's) and scopes
//!                                      # the approval tasks
//!     requester: event.data.customer   # optional: may approve no level
//!     confidence: steps.classify.confidence   # optional: a number from 0 to 1
//!     outcomes: { approved: refund, rejected: refused, suggested: review }   # suggested is
//!                                      # optional (default: the rejected route); no `next`
//! ```
//!
//! Under a policy at autonomy `auto`, an amount within the limits (at most `max_amount`; with
//! today's automatic approvals for the policy at the location, UTC day, at most
//! `max_daily_amount`; a confidence of at least `min_confidence` when one is set) is approved at
//! once with a decision receipt (the inputs, the policy version, the rows matched by the
//! instance's earlier decide steps, the labels and confidences of its classify steps, the
//! outcome) recorded in the history, the audit chain and the autonomy ledger. Outside a limit,
//! and under a policy at `approve`, a chain of tasks asks people: one task per level the amount
//! exceeds (its role, scoped to the location), in order, plus one more at the last level above
//! `four_eyes_above`; the requester and everyone who approved an earlier level may not claim or
//! decide the next ones, and a `reject` at any level ends the chain. Under `suggest` no one is
//! asked: the step completes at once with the outcome `suggested` and its recommendation. The
//! step's output is `{outcome, automatic, policy: {action, version, scope}, inputs, approvals:
//! [{level, role, actor, at}], receipt}` (with `fallback`, the reason an `auto` policy asked
//! people, and `recommendation` for a suggestion).
//!
//! The scalars are read by the YAML 1.2 core schema: only `true` and `false` are booleans (`yes`
//! and `on` are text).
//!
//! **Expressions** are CEL text ([`crate::expr`]); a YAML number or boolean where an expression
//! is expected is read as its text (`priority: 2`). Quote an expression that starts with a
//! character YAML reads differently (`"`, `'`, `!`, `&`, `*`, `|`, `>`, `%`, `@`) or that holds
//! `: ` or ` #`: `title: '"Approve " + inputs.sku'`.
//!
//! **Templates** ([`Template`]) build a JSON value: a YAML string is an expression, a number,
//! boolean or null is itself, a mapping is an object (in source order) and a list an array, built
//! member by member. So literal text is an expression too: `reason: '"stockout"'`.
//!
//! **Durations**: whole numbers with the units `d`, `h`, `m` and `s`, largest first, each at most
//! once: `90s`, `30m`, `4h`, `2d`, `1h30m`; positive, at most `3650d`.
//!
//! **Retries**: `attempts` from 1 to 100 (the first included), `backoff` the wait before the
//! second attempt, doubled after each, never more than `max_interval`; a `max_interval` shorter
//! than `backoff` is a problem, and when only `backoff` is given, `max_interval` is the larger of
//! one minute and `backoff`.
//!
//! **Steps and `next`**: an `end` step ends the instance; a `branch` goes where its cases say, a
//! `task` where the chosen outcome says: these take no `next`. Every other step needs `next`,
//! except inside a parallel branch, where a step without `next` ends the branch.
//!
//! # The context
//!
//! Expressions (CEL, see [`crate::expr`]) read the instance context: `event` (the trigger event:
//! `id`, `type`, `source`, `occurred_at`, `seq`, `subject`, `data`), `inputs` (the workflow's
//! computed inputs), `steps` (each finished step's output, by step id), `instance` (`id`,
//! `workflow`, `version`, `key`), `location` (the attributes of the location named by
//! `inputs.location`, when there is one) and, inside a `wait` step's `matches`, `received` (the
//! arriving event). The trigger's `when` and `key` read only `event` (there is no instance yet);
//! an input reads `event`, `instance` and the inputs before it.
//!
//! # What is checked
//!
//! Every problem is reported, each with its file, line and column, and the step it is in:
//!
//! * YAML syntax (with a hint to quote an expression that YAML misread), keys that are missing,
//!   repeated or unknown (the message lists the keys the mapping or the step kind takes), values
//!   of the wrong type, ids that are not `[a-z][a-z0-9_]*`, repeated step ids, unknown step kinds
//!   (the message lists them), event types not in the catalogue, malformed durations;
//! * references to steps that do not exist: `start`, `next`, `on_error`, `on_timeout`, a case's
//!   `next`, `otherwise`, an outcome's `next`, `branches` (suggesting a near id);
//! * steps that cannot be reached from `start`; steps that need a `next` and have none, and a
//!   `next` on `end`, `branch` and `task` steps;
//! * expressions that do not compile (at the exact line and column for plain and quoted
//!   single-line scalars and literal `|` blocks, else at the scalar's start), and expressions
//!   that read a variable outside their context, `steps.<id>` of no step, or `inputs.<name>` of
//!   no input;
//! * tables: an inline table that the decision-table reader refuses (at the line and column in
//!   the definition), a table file that cannot be read or parsed (the problem names that file),
//!   a DMN decision that is not in its file, a YAML table whose id is not its key, and every
//!   problem [`DecisionTable::check`](crate::decision::DecisionTable::check) finds (such as rules
//!   that overlap under `UNIQUE`), at the rule, with the step that uses the table (the others that
//!   do are named in the message);
//! * `decide` steps naming an undefined table, or inputs that are not the table's; `classify`
//!   steps naming an undefined classifier; classifier rules whose confidence is not from 0 to 1;
//! * approval steps without `policy`, `amount` or `outcomes` (with `approved` and `rejected`);
//! * tasks without `role`, `title` or `outcomes`, repeated outcome or field names, escalation
//!   rungs whose `after` does not increase; actions without `connector` or `operation`; waits
//!   with both or neither of `event` and `until`, or `on_timeout` without `timeout`; parallel
//!   steps with fewer than two (distinct) branches or a `join` other than `all` or `any`.

mod duration;
mod load;
mod model;
mod node;
mod problem;
mod steps;
mod tables;

pub use load::load;
pub use model::*;
pub use problem::{Problem, Problems};
