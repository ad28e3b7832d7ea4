//! What can go wrong compiling and evaluating an expression.

use std::fmt;

/// An expression that does not compile: where in the expression text, and why.
///
/// The position is inside the expression's own text (1-based line and column, columns counting
/// characters), so that the workflow validator can add it to the YAML line and column the
/// expression starts at. Displays as `line 1, column 14: Syntax error: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    /// 1-based line inside the expression text.
    pub line: usize,
    /// 1-based column inside the expression text, in characters.
    pub column: usize,
    /// What is wrong, as the expression language reports it.
    pub message: String,
}

/// An expression that failed while it was evaluated against a context.
///
/// The variants say what kind of failure it was, so that a caller can tell a workflow author
/// "`steps.enrich` has no field `dc_on_hand`" rather than a bare message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The context is not a JSON object (its top-level keys are the expression's variables).
    #[error("the context must be a JSON object of variables, not {found}")]
    InvalidContext {
        /// The JSON type the context was instead.
        found: String,
    },
    /// The expression reads a variable the context does not have.
    #[error("unknown variable '{name}' (the context has: {available})")]
    UnknownVariable {
        /// The variable's name.
        name: String,
        /// The variables the context does have, comma separated.
        available: String,
    },
    /// The expression reads a field (map key) that the value does not have.
    #[error("no such field '{field}' (use has(...) to test for optional fields)")]
    NoSuchField {
        /// The missing field or key.
        field: String,
    },
    /// The expression calls a function that does not exist.
    #[error("unknown function '{name}'")]
    UnknownFunction {
        /// The function's name.
        name: String,
    },
    /// An operator or function was applied to values of types it does not take, e.g. a decimal
    /// string compared with a number without `decimal(...)`.
    #[error("type mismatch: {message}")]
    TypeMismatch {
        /// What was applied to what.
        message: String,
    },
    /// An integer division or remainder by zero.
    #[error("division by zero: {message}")]
    DivisionByZero {
        /// The operation, as the interpreter reports it.
        message: String,
    },
    /// A function was called with arguments it could not handle, e.g. `decimal("abc")`.
    #[error("function '{function}' failed: {message}")]
    Function {
        /// The function's name.
        function: String,
        /// Why it failed.
        message: String,
    },
    /// A condition evaluated to something other than a boolean.
    #[error("the expression must evaluate to a boolean, but evaluated to {found}")]
    NotABoolean {
        /// The JSON type and value it evaluated to instead, e.g. `a string ("open")`.
        found: String,
    },
    /// The result has no JSON form (e.g. an infinite number, or a type value).
    #[error("the result cannot be represented as JSON: {message}")]
    NotRepresentable {
        /// What the result was.
        message: String,
    },
    /// Any other evaluation failure (integer overflow, index out of bounds, …).
    #[error("evaluation failed: {message}")]
    Evaluation {
        /// The interpreter's message.
        message: String,
    },
    /// The interpreter panicked; the panic was caught and turned into this error.
    #[error("the expression interpreter panicked: {message}")]
    Panicked {
        /// The panic message, if it had one.
        message: String,
    },
}

/// Names the JSON type of a value and shows it (shortened), e.g. `a string ("open")`.
pub(crate) fn describe_json(value: &serde_json::Value) -> String {
    let article_and_type = match value {
        serde_json::Value::Null => return "null".to_owned(),
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    };
    format!("{article_and_type} ({})", Shortened(value))
}

/// Displays a JSON value cut to 60 characters.
struct Shortened<'a>(&'a serde_json::Value);

impl fmt::Display for Shortened<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        match text.char_indices().nth(60) {
            Some((cut, _)) => write!(f, "{}…", &text[..cut]),
            None => f.write_str(&text),
        }
    }
}
