//! The [`Cel`] expression language: the `cel` crate (pinned) behind [`ExpressionLanguage`].

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

use cel::common::ast::{EntryExpr, Expr, IdedEntryExpr, IdedExpr};
use cel::common::types::{self, CelDouble, CelInt, CelString, CelUInt};
use cel::common::value::CowVal;
use cel::{Context, Env, ExecutionError, ParseErrors, Program, extensions};

use super::convert::{to_cel, to_json};
use super::{CompileError, ExprError, Expression, ExpressionLanguage};

/// The longest expression text [`Cel::compile`] accepts, in bytes. Conditions are a line or
/// two; the limit bounds the parser's work on a pathological definition.
pub const MAX_SOURCE_LEN: usize = 16 * 1024;

/// The deepest nesting of brackets (`(`, `[`, `{`) [`Cel::compile`] accepts. The parser is
/// recursive (and a stack overflow cannot be caught), so deeper text is refused before parsing.
pub const MAX_NESTING: usize = 20;

/// The deepest compiled expression tree [`Cel::compile`] accepts (macros such as `exists` count
/// the levels they expand to). `a + b + c + …` is a tree as deep as it has terms; `&&` and `||`
/// chains are balanced, so a realistic condition is under 15 levels deep. The `cel` interpreter
/// is recursive and, in an unoptimised build, uses tens of kilobytes of stack per level: this
/// bound keeps every evaluation within an ordinary thread's stack, on the caller's thread.
pub const MAX_DEPTH: usize = 24;

/// Stack for compiling (the parser recurses once per operator of a chain: up to
/// [`MAX_SOURCE_LEN`] / 2 levels before the depth can be checked).
const COMPILE_STACK: usize = 64 << 20;

/// The Common Expression Language, as implemented by the `cel` crate (version 0.15, pinned).
///
/// Expressions are compiled against one shared environment: the CEL standard library with its
/// macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`), the `strings`, `math` and
/// `lists` extensions, and Backroom's `decimal(x)`. See the [module documentation](super) for
/// what that gives a workflow author, and for the limitations found in the crate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cel;

impl ExpressionLanguage for Cel {
    fn compile(&self, source: &str) -> Result<Arc<dyn Expression>, CompileError> {
        Ok(Arc::new(CelExpression::compile(source)?))
    }

    fn name(&self) -> &'static str {
        "cel"
    }
}

/// The environment every expression is compiled and evaluated in, built once.
static ENVIRONMENT: LazyLock<Result<Arc<Env>, String>> = LazyLock::new(|| match catch_unwind(build_environment) {
    Ok(Ok(env)) => Ok(Arc::new(env)),
    Ok(Err(error)) => Err(format!("the CEL environment could not be built: {error}")),
    Err(panic) => Err(format!("the CEL environment could not be built: {}", panic_message(panic.as_ref()))),
});

fn build_environment() -> Result<Env, cel::DeclarationError> {
    let mut env = Env::stdlib();
    env.add_extension(extensions::strings)?;
    env.add_extension(extensions::math)?;
    env.add_extension(extensions::lists)?;
    env.add_overload("decimal", "decimal_string", vec![types::STRING_TYPE], decimal_from_string)?;
    env.add_overload("decimal", "decimal_double", vec![types::DOUBLE_TYPE], decimal_from_double)?;
    env.add_overload("decimal", "decimal_int", vec![types::INT_TYPE], decimal_from_int)?;
    env.add_overload("decimal", "decimal_uint", vec![types::UINT_TYPE], decimal_from_uint)?;
    Ok(env)
}

fn environment() -> Result<Arc<Env>, String> {
    ENVIRONMENT.as_ref().map(Arc::clone).map_err(Clone::clone)
}

/// Function namespaces of the environment: `math.abs(x)` calls a function, it does not read a
/// variable `math`.
const NAMESPACES: [&str; 4] = ["math", "strings", "lists", "optional"];

/// Identifiers that name types (`type(x) == string`), not variables, unless a variable of that
/// name shadows them.
const TYPE_NAMES: [&str; 13] = [
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "optional_type",
    "string",
    "type",
    "uint",
    "google",
];

/// A compiled CEL program and what it reads.
struct CelExpression {
    source: String,
    program: Program,
    env: Arc<Env>,
    /// Top-level variables it reads, sorted (what [`Expression::references`] reports).
    reads: Vec<String>,
    /// Every free identifier at the root of a name, type names and namespaces included: the
    /// context keys bound as variables at evaluation.
    roots: Vec<String>,
    /// Names of the functions it calls.
    functions: BTreeSet<String>,
    /// Depth of the expression tree.
    depth: usize,
}

impl fmt::Debug for CelExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CelExpression")
            .field("source", &self.source)
            .field("reads", &self.reads)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl CelExpression {
    fn compile(source: &str) -> Result<Self, CompileError> {
        if source.len() > MAX_SOURCE_LEN {
            return Err(CompileError {
                line: 1,
                column: 1,
                message: format!("the expression is {} bytes long; at most {MAX_SOURCE_LEN} are allowed", source.len()),
            });
        }
        check_nesting(source)?;
        let env = environment().map_err(|message| CompileError { line: 1, column: 1, message })?;
        // The parser, the tree walk and (for a refused tree) its drop all recurse as deep as the
        // tree: do them on a large stack.
        match on_large_stack(COMPILE_STACK, || Self::compile_with(env, source)) {
            Ok(result) => result,
            Err(message) => {
                Err(CompileError { line: 1, column: 1, message: format!("the CEL parser failed: {message}") })
            }
        }
    }

    fn compile_with(env: Arc<Env>, source: &str) -> Result<Self, CompileError> {
        let program = env.compile(source).map_err(|errors| first_error(source, &errors))?;
        let mut names = Names::default();
        names.walk(program.expression(), &mut Vec::new(), 1);
        if names.depth > MAX_DEPTH {
            return Err(CompileError {
                line: 1,
                column: 1,
                message: format!(
                    "the expression is {} levels deep; at most {MAX_DEPTH} are allowed (split it, or use a decision table)",
                    names.depth
                ),
            });
        }
        let reads = names
            .roots
            .iter()
            .filter(|name| !NAMESPACES.contains(&name.as_str()) && !TYPE_NAMES.contains(&name.as_str()))
            .cloned()
            .collect();
        Ok(CelExpression {
            source: source.to_owned(),
            program,
            env,
            reads,
            roots: names.roots.into_iter().collect(),
            functions: names.functions,
            depth: names.depth,
        })
    }

    fn run(&self, variables: &serde_json::Map<String, serde_json::Value>) -> Result<serde_json::Value, ExprError> {
        let mut context = Context::with_env(Arc::clone(&self.env));
        for name in &self.roots {
            if let Some(value) = variables.get(name) {
                context.add_variable_as_val(name.as_str(), to_cel(value));
            }
        }
        match self.program.execute(&context) {
            Ok(value) => to_json(&value),
            Err(error) => Err(self.execution_error(error, variables)),
        }
    }

    fn execution_error(
        &self,
        error: ExecutionError,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> ExprError {
        let message = error.to_string();
        match error {
            ExecutionError::UndeclaredReference(name) => {
                let name = name.as_str().to_owned();
                if self.functions.contains(&name) && !variables.contains_key(&name) {
                    ExprError::UnknownFunction { name }
                } else {
                    let available = variables.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
                    ExprError::UnknownVariable { name, available }
                }
            }
            ExecutionError::NoSuchKey(field) => ExprError::NoSuchField { field: field.as_str().to_owned() },
            ExecutionError::DivisionByZero(_) | ExecutionError::RemainderByZero(_) => {
                ExprError::DivisionByZero { message }
            }
            ExecutionError::FunctionError { function, message } => ExprError::Function { function, message },
            ExecutionError::NoSuchOverload(overload) => {
                let mut message = overload.to_string();
                let types = overload.argument_types();
                let numeric = |t: &String| matches!(t.as_str(), "int" | "uint" | "double");
                if types.iter().any(|t| t == "string") && types.iter().any(numeric) {
                    message.push_str(" (amounts and quantities are decimal strings: compare decimal(x))");
                }
                ExprError::TypeMismatch { message }
            }
            ExecutionError::UnexpectedType { .. }
            | ExecutionError::ValuesNotComparable(..)
            | ExecutionError::UnsupportedBinaryOperator(..)
            | ExecutionError::UnsupportedTargetType { .. }
            | ExecutionError::NotSupportedAsMethod { .. }
            | ExecutionError::UnsupportedKeyType(_)
            | ExecutionError::UnsupportedIndex(..) => ExprError::TypeMismatch { message },
            _ => ExprError::Evaluation { message },
        }
    }
}

impl Expression for CelExpression {
    fn source(&self) -> &str {
        &self.source
    }

    fn evaluate(&self, context: &serde_json::Value) -> Result<serde_json::Value, ExprError> {
        let Some(variables) = context.as_object() else {
            return Err(ExprError::InvalidContext { found: super::error::describe_json(context) });
        };
        let outcome =
            catch_unwind(AssertUnwindSafe(|| self.run(variables))).map_err(|panic| panic_message(panic.as_ref()));
        outcome.unwrap_or_else(|message| Err(ExprError::Panicked { message }))
    }

    fn references(&self) -> Vec<String> {
        self.reads.clone()
    }
}

/// Runs `f` on a new thread with a `stack`-byte stack and waits for it; a panic (or a thread
/// that cannot be started) is returned as its message.
fn on_large_stack<T: Send>(stack: usize, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        match std::thread::Builder::new().name("backroom-expr".to_owned()).stack_size(stack).spawn_scoped(scope, f) {
            Ok(handle) => handle.join().map_err(|panic| panic_message(panic.as_ref())),
            Err(error) => Err(format!("could not start a thread to run it: {error}")),
        }
    })
}

/// Free names, called functions and depth of an expression tree.
#[derive(Default)]
struct Names {
    roots: BTreeSet<String>,
    functions: BTreeSet<String>,
    depth: usize,
}

impl Names {
    /// Collects from `expr`, at `depth` in the tree, where the names in `bound` are
    /// comprehension variables.
    fn walk(&mut self, expr: &IdedExpr, bound: &mut Vec<String>, depth: usize) {
        self.depth = self.depth.max(depth);
        let next = depth + 1;
        match &expr.expr {
            Expr::Unspecified | Expr::Literal(_) => {}
            Expr::Ident(name) => {
                // Macro accumulators are named `@…`; a leading dot makes a name absolute.
                let name = name.strip_prefix('.').unwrap_or(name);
                if !name.starts_with('@') && !bound.iter().any(|b| b == name) {
                    self.roots.insert(name.to_owned());
                }
            }
            Expr::Select(select) => self.walk(&select.operand, bound, next),
            Expr::Call(call) => {
                self.functions.insert(call.func_name.clone());
                if let Some(target) = &call.target {
                    // `math.abs(x)`: the target names a function namespace, not a variable.
                    let namespace = name_root(target)
                        .is_some_and(|root| NAMESPACES.contains(&root) && !bound.iter().any(|b| b == root));
                    if !namespace {
                        self.walk(target, bound, next);
                    }
                }
                for arg in &call.args {
                    self.walk(arg, bound, next);
                }
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.walk(element, bound, next);
                }
            }
            Expr::Map(map) => self.walk_entries(&map.entries, bound, next),
            Expr::Struct(structure) => self.walk_entries(&structure.entries, bound, next),
            Expr::Comprehension(comprehension) => {
                self.walk(&comprehension.iter_range, bound, next);
                self.walk(&comprehension.accu_init, bound, next);
                let outer = bound.len();
                bound.push(comprehension.iter_var.clone());
                if let Some(second) = &comprehension.iter_var2 {
                    bound.push(second.clone());
                }
                bound.push(comprehension.accu_var.clone());
                self.walk(&comprehension.loop_cond, bound, next);
                self.walk(&comprehension.loop_step, bound, next);
                self.walk(&comprehension.result, bound, next);
                bound.truncate(outer);
            }
        }
    }

    fn walk_entries(&mut self, entries: &[IdedEntryExpr], bound: &mut Vec<String>, depth: usize) {
        for entry in entries {
            match &entry.expr {
                EntryExpr::StructField(field) => self.walk(&field.value, bound, depth),
                EntryExpr::MapEntry(entry) => {
                    self.walk(&entry.key, bound, depth);
                    self.walk(&entry.value, bound, depth);
                }
            }
        }
    }
}

/// The identifier a chain of field selections starts from: `a` for `a.b.c`.
fn name_root(expr: &IdedExpr) -> Option<&str> {
    let mut expr = expr;
    loop {
        match &expr.expr {
            Expr::Ident(name) => return Some(name.strip_prefix('.').unwrap_or(name)),
            Expr::Select(select) if !select.test => expr = &select.operand,
            _ => return None,
        }
    }
}

/// Refuses text nested deeper than [`MAX_NESTING`], before the recursive parser sees it.
/// Brackets inside string literals are skipped.
fn check_nesting(source: &str) -> Result<(), CompileError> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let (mut line, mut column) = (1usize, 0usize);
    for c in source.chars() {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q || c == '\n' {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(CompileError {
                        line,
                        column,
                        message: format!("the expression nests brackets deeper than {MAX_NESTING} levels"),
                    });
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The first (earliest) parse error, its column in characters. The grammar's errors count
/// columns in characters; the errors of macros (`exists(1, x)`: "argument must be a simple
/// name") count bytes, and are converted.
fn first_error(source: &str, errors: &ParseErrors) -> CompileError {
    let Some(first) = errors.errors.first() else {
        return CompileError { line: 1, column: 1, message: "the expression does not compile".to_owned() };
    };
    let line = usize::try_from(first.pos.0).unwrap_or(0).max(1);
    let mut column = usize::try_from(first.pos.1).unwrap_or(0).max(1);
    let from_macro = first.expr_id == 0 && first.source.is_none() && !first.msg.starts_with("Syntax error");
    if from_macro && let Some(text) = source.split('\n').nth(line - 1) {
        let mut end = (column - 1).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        column = text[..end].chars().count() + 1;
    }
    let mut message = if first.msg.contains("Recursion limit of") {
        // Reported through ANTLR as a debug dump of the inner error; say it plainly.
        "the expression nests too deeply for the parser (more than 96 levels)".to_owned()
    } else {
        first.msg.clone()
    };
    if errors.errors.len() > 1 {
        message.push_str(&format!(" (and {} more error(s))", errors.errors.len() - 1));
    }
    CompileError { line, column, message }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// decimal(x)
// ---------------------------------------------------------------------------------------------

fn decimal_from_string<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let text = args
        .first()
        .and_then(|arg| arg.downcast_ref::<CelString>())
        .ok_or_else(|| ExecutionError::function_error("decimal", "expected a string"))?;
    parse_decimal(text.inner())
        .map(|f| CowVal::owned(CelDouble::from(f)))
        .map_err(|message| ExecutionError::function_error("decimal", message))
}

fn decimal_from_double<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    args.pop().ok_or_else(|| ExecutionError::invalid_argument_count(1, 0))
}

fn decimal_from_int<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let i = args
        .first()
        .and_then(|arg| arg.downcast_ref::<CelInt>())
        .ok_or_else(|| ExecutionError::function_error("decimal", "expected an int"))?;
    Ok(CowVal::owned(CelDouble::from(*i.inner() as f64)))
}

fn decimal_from_uint<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let u = args
        .first()
        .and_then(|arg| arg.downcast_ref::<CelUInt>())
        .ok_or_else(|| ExecutionError::function_error("decimal", "expected a uint"))?;
    Ok(CowVal::owned(CelDouble::from(*u.inner() as f64)))
}

/// Reads decimal text (`12.50`, `-3`, `+0.5`, `1e3`; surrounding spaces allowed) as the nearest
/// `f64`. Text that is not a number (`""`, `"abc"`, `"NaN"`, `"inf"`, `"1,000"`) or too large
/// for an `f64` is refused.
pub(crate) fn parse_decimal(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let unsigned = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) || !exponent_ok {
        return Err(format!("{text:?} is not a decimal number"));
    }
    match trimmed.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(format!("{text:?} is out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_decimal;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("12.50"), Ok(12.5));
        assert_eq!(parse_decimal(" -3 "), Ok(-3.0));
        assert_eq!(parse_decimal("+.5"), Ok(0.5));
        assert_eq!(parse_decimal("5."), Ok(5.0));
        assert_eq!(parse_decimal("1e3"), Ok(1000.0));
        for bad in ["", ".", "-", "abc", "NaN", "inf", "1,000", "1e", "1e+", "0x10", "1e400", "1.2.3"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?}");
        }
    }
}
