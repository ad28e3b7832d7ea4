//! Expressions over an instance context (CEL behind a small trait).
//!
//! Workflow conditions (`when:` of a trigger, the arms of a `branch`) and computed values are
//! written as expressions. The engine only sees two traits of ours: an [`ExpressionLanguage`]
//! compiles text into an [`Expression`], which is evaluated against the instance context. The one
//! language shipped is [`Cel`], the Common Expression Language as implemented by the `cel` crate
//! (pinned to 0.15.0); another could replace it without touching the engine.
//!
//! ```
//! use backroom_engine::expr::{Cel, ExpressionLanguage};
//! use serde_json::json;
//!
//! let condition = Cel
//!     .compile(r#"event.type == "inventory.stockout_reported" && decimal(steps.enrich.dc_on_hand) > 0.0"#)
//!     .map_err(|e| e.to_string())?;
//! assert_eq!(condition.references(), ["event", "steps"]);
//! let context = json!({
//!     "event": {"type": "inventory.stockout_reported", "data": {"sku": "SKU-1"}},
//!     "steps": {"enrich": {"on_hand": "0", "dc_on_hand": "240"}},
//! });
//! assert!(condition.evaluate_bool(&context).map_err(|e| e.to_string())?);
//! # Ok::<(), String>(())
//! ```
//!
//! # The context
//!
//! The context is a JSON object; each top-level key is a variable: `event` (the trigger event:
//! `type`, `data`, `subject`, …), `steps` (the outputs of the steps run so far, by step id),
//! `location` and `item` (their attributes). JSON becomes CEL as follows: objects are maps (read
//! with `a.b` or `a["b"]`), arrays are lists, strings, booleans and `null` are themselves, whole
//! numbers are `int` (`uint` beyond `i64::MAX`) and other numbers `double`. CEL compares `int`,
//! `uint` and `double` with each other numerically (`size(l) > 3.0` works), but does not mix them
//! in arithmetic (`1 + 1.5` is a type mismatch; write `1.0 + 1.5` or `double(1) + 1.5`).
//!
//! A result goes back to JSON: `int`, `uint` and `double` as numbers, `string`, `bool`, `null`,
//! lists and maps as themselves, a `timestamp` as RFC 3339 text, a `duration` as a number of
//! seconds, `bytes` as base64 text, an optional as its value (or `null`), a type as its name.
//! A non-finite `double` (e.g. `1.0 / 0.0`) is an error ([`ExprError::NotRepresentable`]).
//!
//! # Money and quantities: `decimal(x)`
//!
//! Money and quantities in Backroom are decimal *strings* (`"12.50"`, `"240"`) so that they stay
//! exact. CEL has no decimal type, so `steps.enrich.dc_on_hand > 0` is a type mismatch (string
//! against int; the error says to use `decimal`). `decimal(x)` reads a string (`"12.50"`,
//! `"-3"`, `"1e3"`, surrounding spaces allowed) or a number into a CEL `double`:
//! `decimal(event.data.total.amount) >= 5000.0`. Text that is not a number (`""`, `"abc"`,
//! `"1,000"`, `"NaN"`) is an evaluation error ([`ExprError::Function`]).
//!
//! **Precision.** The `double` is the `f64` nearest to the decimal: exact for whole numbers up to
//! 2^53 and within about 1e-16 relative for the rest. That is sound for *comparing* an amount
//! with a threshold in a condition (two decimals differing in the 15th significant digit may
//! compare equal; no retail threshold is that fine). It is not sound for *computing* money:
//! `decimal("0.10") + decimal("0.20")` is `0.30000000000000004`. Exact sums, rates and
//! allocations belong in decision tables and step code, which use `rust_decimal`.
//!
//! # What CEL offers
//!
//! * Operators: `== != < <= > >=`, `&& || !`, `? :`, `+ - * / %`, `in` (list membership, map
//!   key), indexing `l[0]`, `m["key"]`, field selection `a.b`, list and map literals.
//! * Field presence: `has(event.data.customer)` is true when the key is present (even if its
//!   value is `null`), false when it is absent; reading an absent field is an error
//!   ([`ExprError::NoSuchField`]), so guard optional fields: `has(e.x) && e.x.y == 1`.
//!   Optional-value syntax works too: `event.data.?customer.orValue(null)`,
//!   `optional.of(x)`, `.hasValue()`, `.orValue(v)`.
//! * Macros: `l.all(x, p)`, `l.exists(x, p)`, `l.exists_one(x, p)`, `l.map(x, e)`,
//!   `l.map(x, p, e)`, `l.filter(x, p)`; over maps they range over the keys.
//! * Standard functions: `size`, `int`, `uint`, `double`, `string`, `bool`, `bytes`, `type`,
//!   `dyn`; strings: `contains`, `startsWith`, `endsWith`, `matches` (RE2-style regular
//!   expressions, Rust `regex` syntax); time: `timestamp("2025-03-01T09:00:00Z")`,
//!   `duration("90m")`, timestamp arithmetic and comparison, and `getFullYear`, `getMonth`,
//!   `getDayOfWeek`, `getHours`, … (with an optional IANA time zone argument), `getSeconds`,
//!   `getMinutes`, … on durations.
//! * `strings` extension: `charAt`, `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`,
//!   `replace`, `split`, `substring`, `trim`, `join`, `reverse`, `format`, `strings.quote`.
//! * `math` extension: `math.greatest`, `math.least`, `math.abs`, `math.ceil`, `math.floor`,
//!   `math.round`, `math.trunc`, `math.sign`, `math.sqrt`, `math.isNaN`, `math.isInf`,
//!   `math.isFinite`, and bitwise operations.
//! * `lists` extension: `slice`, `flatten`, `distinct`, `reverse`, `sort`, `sortBy`,
//!   `lists.range`.
//! * Backroom: `decimal(x)` (above).
//!
//! # Limitations (found in `cel` 0.15)
//!
//! * **No type checking at compile time.** The crate parses and expands macros, nothing more:
//!   an unknown function (`foo(1)`), an unknown variable or a type mismatch is only found when
//!   the expression is evaluated ([`ExprError::UnknownFunction`], …). [`Expression::references`]
//!   lets a validator check the variables against the ones a workflow provides.
//! * **Evaluation errors carry no position** in the expression: the crate reports the failing
//!   name or operation, not where it is.
//! * **`int` and `double` do not mix in arithmetic** (as the CEL specification says), only in
//!   comparisons; JSON numbers written `5` are `int`, `5.0` are `double`.
//! * **No decimal type** (see `decimal(x)` above).
//! * **Panics**: the crate has `unwrap`s and `expect`s on paths of its own (binding a variable,
//!   building the standard library), which this module avoids or runs once; none was reached by
//!   the property tests (tens of thousands of random and mutated programs). Still, compiling and
//!   evaluating run under `catch_unwind` (or on a joined thread), and a panic becomes an error
//!   ([`ExprError::Panicked`], or a [`CompileError`] saying the parser failed). The panic is
//!   still printed by the process's panic hook.
//! * **Stack depth**: the parser and the interpreter are recursive, and a stack overflow
//!   cannot be caught (it aborts the process). In an unoptimised build the interpreter takes
//!   some 35 KiB of stack per level of the expression tree, so a 60-term `a + b + …` overflowed
//!   a 2 MiB thread stack, and 40 nested parentheses overflowed the parser. Hence:
//!   [`Cel::compile`] refuses text longer than [`MAX_SOURCE_LEN`] bytes, nesting brackets deeper
//!   than [`MAX_NESTING`] levels, or making a tree deeper than [`MAX_DEPTH`] (24) levels, and it
//!   parses on a thread of its own with a 64 MiB stack. Evaluation runs on the caller's thread:
//!   `&&`/`||` chains are balanced trees, and a realistic condition is under 15 levels; a deeper
//!   one belongs in a decision table. Evaluation also recurses over the depth of context values; JSON read
//!   by `serde_json` is at most 128 levels deep, which is fine.
//! * Parse errors are reported by the ANTLR grammar (`Syntax error: mismatched input '<EOF>'
//!   expecting …`); the first error is returned, with the count of the others. The grammar counts
//!   columns in characters, the crate's macro errors (`exists(1, x)`) in bytes: those are
//!   converted, so every [`CompileError`] column counts characters.
//! * Strings in the context that hold times are not timestamps; convert them with
//!   `timestamp(event.time)`. Following the CEL specification, `getMonth()` and
//!   `getDayOfYear()` count from 0 and `getDayOfWeek()` from Sunday = 0. The `base64` encoders
//!   extension is not enabled.
//! * [`Expression::references`] treats `math`, `strings`, `lists` and `optional` as function
//!   namespaces and type names (`int`, `string`, `type`, …) as types, so a context variable with
//!   one of those names is not listed (it is still bound when the expression runs).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod cel_impl;
mod convert;
mod error;

use std::fmt::Debug;
use std::sync::Arc;

pub use self::cel_impl::{Cel, MAX_DEPTH, MAX_NESTING, MAX_SOURCE_LEN};
pub use self::error::{CompileError, ExprError};

/// A compiled expression, ready to be evaluated against any number of contexts (from any
/// thread).
pub trait Expression: Send + Sync + Debug {
    /// The text it was compiled from.
    fn source(&self) -> &str;

    /// Evaluates it against `context`, a JSON object whose top-level keys are the variables
    /// (`event`, `steps`, `location`, `item`, …), and returns the result as JSON.
    ///
    /// # Errors
    ///
    /// [`ExprError`] when the context is not an object, or the evaluation fails: an unknown
    /// variable, field or function, a type mismatch, a division by zero, a result with no JSON
    /// form, or a panic inside the interpreter.
    fn evaluate(&self, context: &serde_json::Value) -> Result<serde_json::Value, ExprError>;

    /// Evaluates it as a condition: the result must be a boolean.
    ///
    /// # Errors
    ///
    /// As [`Expression::evaluate`], and [`ExprError::NotABoolean`] naming the type (and value)
    /// of a result that is not a boolean.
    fn evaluate_bool(&self, context: &serde_json::Value) -> Result<bool, ExprError> {
        match self.evaluate(context)? {
            serde_json::Value::Bool(b) => Ok(b),
            other => Err(ExprError::NotABoolean { found: error::describe_json(&other) }),
        }
    }

    /// The top-level variables it reads, sorted and without repeats: `["event", "steps"]` for
    /// `event.type == "x" && steps.enrich.ok`. Variables bound inside it (the `l` of
    /// `lines.exists(l, …)`), function namespaces and type names are left out. For validation:
    /// a workflow can check that every one is something its context will have.
    fn references(&self) -> Vec<String>;
}

/// Compiles expression text. Implemented by [`Cel`]; a trait so that the language can be
/// replaced.
pub trait ExpressionLanguage: Send + Sync {
    /// Compiles `source`.
    ///
    /// # Errors
    ///
    /// [`CompileError`] with the line and column inside `source` of the first problem.
    fn compile(&self, source: &str) -> Result<Arc<dyn Expression>, CompileError>;

    /// The language's name, e.g. `cel`.
    fn name(&self) -> &'static str;
}
