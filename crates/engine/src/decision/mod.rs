//! Decision tables: what a `decide` step evaluates.
//!
//! A [`DecisionTable`] has input columns, output columns, and rules. Each rule has one S-FEEL
//! unary test per input ([`UnaryTest`]: `-`, `"DC"`, `< 500`, `[100..500)`, `"A","B"`,
//! `not("X")` …) and one value per output. The hit policy ([`HitPolicy`]: `UNIQUE`, `FIRST`,
//! `PRIORITY`, `ANY`, `COLLECT` with optional `SUM`/`MIN`/`MAX`/`COUNT`, `RULE ORDER`) says how
//! the matching rules make the result, following DMN 1.3 chapter 8. Every [`Evaluation`] records
//! the ids of the rules that made it.
//!
//! Tables are written in YAML ([`DecisionTable::from_yaml`]) or imported from DMN 1.3/1.4 XML
//! made with a DMN modeler ([`tables_from_dmn`]). [`DecisionTable::check`] finds what is wrong
//! with a table before it is used, including rules that overlap under `UNIQUE`. The library does
//! no I/O: it reads strings.
//!
//! # The YAML format
//!
//! ```yaml
//! id: refund_approval                 # required: how workflows refer to the table
//! name: Refund approval               # optional, for people
//! hit_policy: UNIQUE                  # UNIQUE (the default), FIRST, PRIORITY, ANY, COLLECT,
//!                                     # RULE ORDER; or the DMN letters U F P A C R C+ C< C> C#
//! # aggregation: SUM                  # only with COLLECT: SUM, MIN, MAX or COUNT
//! inputs:
//!   - name: refund_amount             # the input's key in the evaluation context; a dotted
//!     label: Refund amount            # name (order.total) reaches into nested objects
//!     allowed: "[0..100000]"          # optional: unary tests as text ...
//!   - name: channel
//!     allowed: [store, online]        # ... or a list of values; a value outside them is an
//!                                     # evaluation error (a missing input is always allowed)
//! outputs:
//!   - name: approver
//!     allowed: [auto, store_manager, finance]  # optional: the values, highest priority first
//!                                              # (PRIORITY ranks matching rules by them)
//!     # default: auto                 # optional: the value when no rule matches
//! rules:
//!   - id: r1                          # required, unique: reported in evaluations and problems
//!     description: Small in-store refunds are automatic
//!     when:                           # one unary test per input, as text
//!       refund_amount: "[0..500)"
//!       channel: store                # a bare word is the string "store"; '"store"' works too
//!     then:                           # one value per output: any YAML value
//!       approver: auto
//!   - id: r2
//!     when: { refund_amount: "[0..100)", channel: online }
//!     then: { approver: auto }
//!   - id: r3
//!     when: { refund_amount: "[100..500)", channel: online }
//!     then: { approver: store_manager }
//!   - id: r4
//!     when: { refund_amount: "[500..5000)" }   # an input left out matches any value,
//!     then: { approver: store_manager }        # as '-' (quoted in YAML) does
//!   - id: r5
//!     when: { refund_amount: ">= 5000" }
//!     then: { approver: finance }
//! ```
//!
//! The tests in `when` are S-FEEL text, with one convenience over DMN: a bare word such as
//! `store` means the string `"store"` (S-FEEL would read it as a variable name, which tables do
//! not support). YAML numbers and booleans are read as their text, so `when: { quantity: 5 }`
//! tests for 5. Quote tests that start with a character YAML reads differently: `">= 5000"`,
//! `"[0..500)"`, `'-'`, `'"DC-01"'`. Output values keep their YAML type (`auto` is a string,
//! `4.50` a number; numbers are kept as exact decimals without trailing zeros, so `4.50` is
//! `4.5`).
//!
//! ```
//! use backroom_engine::decision::DecisionTable;
//! use serde_json::json;
//!
//! let table = DecisionTable::from_yaml(r#"
//! id: refund_approval
//! inputs: [{ name: refund_amount }, { name: channel }]
//! outputs: [{ name: approver }]
//! rules:
//!   - { id: r1, when: { refund_amount: "[0..500)", channel: store }, then: { approver: auto } }
//!   - { id: r2, when: { refund_amount: ">= 500" }, then: { approver: store_manager } }
//! "#).unwrap();
//! assert!(table.check().is_empty());
//! let context = json!({ "refund_amount": 499.99, "channel": "store" });
//! let evaluation = table.evaluate(context.as_object().unwrap()).unwrap();
//! assert_eq!(evaluation.matched, ["r1"]);
//! assert_eq!(evaluation.outputs[0]["approver"], "auto");
//! ```
//!
//! # Values
//!
//! Numbers compare as exact decimals, whether the context holds a JSON number or a numeric
//! string such as `"12.50"`; `COLLECT SUM` adds decimals, so money stays exact. Strings compare
//! by equality and code-point order, booleans by equality. A value of another type than the test
//! (a string against `< 500`) does not match, and neither does its negation. A missing input is
//! null, which only `-` and `null` match.

mod check;
mod dmn;
mod error;
mod table;
mod unary;
mod value;
pub(crate) mod yaml;

pub use check::{Problem, ProblemKind};
pub use dmn::tables_from_dmn;
pub use error::{DefinitionError, Position};
pub use table::{Aggregation, DecisionTable, Evaluation, EvaluationError, HitPolicy, InputClause, OutputClause, Rule};
pub use unary::{Literal, Op, ParseError, UnaryTest, parse_unary_tests};

impl DecisionTable {
    /// Reads a table from the YAML format described in the [module documentation](self).
    ///
    /// Errors carry the line and column, the rule id when the problem is in a rule, and what is
    /// wrong, e.g. ``line 12, column 24: rule r3: when: refund_amount: `[5..` is not a unary test:
    /// …``. Reading does not run [`DecisionTable::check`]: do that too before using the table.
    pub fn from_yaml(text: &str) -> Result<DecisionTable, DefinitionError> {
        yaml::table_from_yaml(text)
    }
}
