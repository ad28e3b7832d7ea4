//! Reading a workflow definition: the YAML tree is interpreted key by key, every problem is
//! collected, and the model is assembled only when there is none.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;

use super::duration::parse_duration;
use super::model::{Expr, Step, Template, Trigger, Workflow};
use super::node::{Node, Yaml, parse};
use super::problem::{Problem, Problems};
use crate::decision::Position;
use crate::decision::yaml::position_in_scalar;
use crate::expr::{Cel, Expression, ExpressionLanguage};

/// The keys of a workflow definition.
const WORKFLOW_KEYS: &[&str] =
    &["id", "version", "title", "description", "trigger", "inputs", "start", "tables", "classifiers", "steps"];

/// Where an expression is evaluated, which says what it may read.
#[derive(Clone, Copy)]
pub(super) enum Scope<'s> {
    /// The trigger's `when` and `key`: only the event (there is no instance yet).
    Trigger,
    /// An input: the event, the instance, and the inputs before it.
    Inputs(&'s [String]),
    /// A step's expressions: the whole context.
    Step,
    /// A wait step's `matches`: the whole context and the arriving event.
    Matches,
}

impl Scope<'_> {
    fn allows(self, name: &str) -> bool {
        match self {
            Scope::Trigger => name == "event",
            Scope::Inputs(_) => matches!(name, "event" | "instance" | "inputs"),
            Scope::Step => matches!(name, "event" | "inputs" | "steps" | "instance" | "location"),
            Scope::Matches => matches!(name, "event" | "inputs" | "steps" | "instance" | "location" | "received"),
        }
    }

    fn explain(self) -> &'static str {
        match self {
            Scope::Trigger => "the trigger's expressions can read only `event` (no instance exists yet)",
            Scope::Inputs(_) => "an input can read `event`, `instance` and the inputs before it",
            Scope::Step => "expressions can read event, inputs, steps, instance and location",
            Scope::Matches => {
                "`matches` can read received (the arriving event), event, inputs, steps, instance and location"
            }
        }
    }
}

/// A reference to a step, to check once every step is known.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// The step id referred to.
    pub(super) id: String,
    /// Where the reference is.
    pub(super) position: Option<Position>,
    /// The key it is written under (`next`, `on_error`, `cases[0].next`, …).
    pub(super) field: String,
}

/// What the graph checks need to know of a step, whether or not it compiled.
#[derive(Default)]
pub(super) struct Draft {
    /// Its id, when it has one (valid or not).
    pub(super) id: Option<String>,
    /// Where it is.
    pub(super) position: Option<Position>,
    /// Its kind, when known.
    pub(super) kind: Option<&'static str>,
    /// Whether it has a `next`.
    pub(super) has_next: bool,
    /// The steps it can go to.
    pub(super) targets: Vec<Target>,
    /// For a `parallel` step, the first steps of its branches.
    pub(super) branches: Vec<String>,
    /// For a `decide` step, the table it names.
    pub(super) table: Option<String>,
    /// The compiled step, when it compiled.
    pub(super) step: Option<Step>,
}

/// The entries of a mapping whose keys were checked, first occurrence of each.
pub(super) struct Entries<'n> {
    /// Where the mapping is.
    pub(super) position: Option<Position>,
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Entries<'n> {
    /// The value under `key`.
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _, _)| *k == key).map(|(_, _, v)| *v)
    }

    /// Where the key `key` is.
    pub(super) fn key_position(&self, key: &str) -> Option<Position> {
        self.entries.iter().find(|(k, _, _)| *k == key).and_then(|(_, k, _)| k.position())
    }

    /// Whether `key` is present.
    pub(super) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// The loader's state: the source, the problems found so far, and what is known of the
/// definition before its steps are read.
pub(super) struct Loader<'a> {
    pub(super) file: &'a str,
    pub(super) source: &'a str,
    pub(super) resolve: &'a dyn Fn(&str) -> Result<String, String>,
    pub(super) problems: Vec<Problem>,
    /// The table files referred to, in order (problems in them are listed after the
    /// definition's own, file by file).
    pub(super) other_files: Vec<String>,
    /// The ids of the steps (as written), known before the steps are read.
    pub(super) step_ids: Vec<String>,
    /// The names of the inputs, known before they are read.
    pub(super) input_names: Vec<String>,
    /// The names of the classifiers defined.
    pub(super) classifier_names: Vec<String>,
    /// Start offsets of every node of the document, sorted (to delimit inline tables).
    pub(super) offsets: Vec<usize>,
}

/// Reads and checks a definition. `file` names it in problems; `resolve(relative_path)` reads a
/// file the definition refers to (decision tables in their own YAML or DMN file), relative to
/// the definition; it returns the text or an error message.
///
/// The format, and what is checked, are described in the [module documentation](super).
///
/// # Errors
///
/// [`Problems`]: every problem found, in source order, each with the file, line, column and
/// step id.
pub fn load(file: &str, text: &str, resolve: &dyn Fn(&str) -> Result<String, String>) -> Result<Workflow, Problems> {
    let mut loader = Loader {
        file,
        source: text,
        resolve,
        problems: Vec::new(),
        other_files: Vec::new(),
        step_ids: Vec::new(),
        input_names: Vec::new(),
        classifier_names: Vec::new(),
        offsets: Vec::new(),
    };
    let root = match parse(text) {
        Ok(root) => root,
        Err(error) => {
            loader.report(error.position, None, error.message);
            return Err(Problems(loader.problems));
        }
    };
    let mut offsets = Vec::new();
    root.walk(&mut |node| offsets.extend(node.offset()));
    offsets.sort_unstable();
    loader.offsets = offsets;
    let workflow = loader.workflow(&root);
    loader.finish(workflow)
}

impl<'a> Loader<'a> {
    /// Records a problem in the definition.
    pub(super) fn report(&mut self, at: Option<Position>, step: Option<&str>, message: impl Into<String>) {
        let file = self.file.to_owned();
        self.report_in(file, at, step, message);
    }

    /// Records a problem in a file.
    pub(super) fn report_in(
        &mut self,
        file: String,
        at: Option<Position>,
        step: Option<&str>,
        message: impl Into<String>,
    ) {
        let at = at.unwrap_or(Position { line: 0, column: 0 });
        self.problems.push(Problem {
            file,
            line: at.line,
            column: at.column,
            step: step.map(str::to_owned),
            message: message.into(),
        });
    }

    fn finish(mut self, workflow: Option<Workflow>) -> Result<Workflow, Problems> {
        match workflow {
            Some(workflow) if self.problems.is_empty() => Ok(workflow),
            _ => {
                if self.problems.is_empty() {
                    // Every path that gives up reports why; this is a safety net.
                    self.report(None, None, "the definition could not be compiled");
                }
                let main = self.file.to_owned();
                let rank = |problem: &Problem| {
                    let file = if problem.file == main {
                        0
                    } else {
                        1 + self.other_files.iter().position(|f| *f == problem.file).unwrap_or(self.other_files.len())
                    };
                    (file, problem.line == 0, problem.line, problem.column)
                };
                let mut problems = std::mem::take(&mut self.problems);
                problems.sort_by_key(|p| rank(p));
                Err(Problems(problems))
            }
        }
    }

    // ---- mappings and keys ----

    /// The entries of a mapping, reporting a non-mapping, keys that are not text, keys not in
    /// `accepted` and repeated keys. `explained` gives the message for keys that are refused
    /// for a reason worth saying.
    pub(super) fn entries<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        step: Option<&str>,
        accepted: &[&str],
        explained: &[(&str, &str)],
    ) -> Option<Entries<'n>> {
        let Some(map) = node.as_map() else {
            self.report(
                node.position(),
                step,
                format!("{what} is a mapping with the keys {}, not {}", accepted.join(", "), node.describe()),
            );
            return None;
        };
        let mut entries: Vec<(&'n str, &'n Node, &'n Node)> = Vec::new();
        let mut first: HashMap<&'n str, Option<Position>> = HashMap::new();
        for (key, value) in map {
            let Some(name) = key.as_str() else {
                self.report(
                    key.position(),
                    step,
                    format!("the keys of {what} are names, not {}: it takes {}", key.describe(), accepted.join(", ")),
                );
                continue;
            };
            if let Some(at) = first.get(name) {
                let at = at.map_or_else(String::new, |p| format!(" (first at line {})", p.line));
                self.report(key.position(), step, format!("`{name}` appears twice in {what}{at}"));
                continue;
            }
            first.insert(name, key.position());
            if let Some((_, why)) = explained.iter().find(|(k, _)| *k == name) {
                self.report(key.position(), step, (*why).to_owned());
                continue;
            }
            if !accepted.contains(&name) {
                self.report(
                    key.position(),
                    step,
                    format!("`{name}` is not a key of {what}; it takes {}", accepted.join(", ")),
                );
                continue;
            }
            entries.push((name, key, value));
        }
        Some(Entries { position: node.position(), entries })
    }

    /// The value under a required key, reporting its absence (`hint` says what it is for).
    pub(super) fn required<'n>(
        &mut self,
        entries: &Entries<'n>,
        key: &str,
        what: &str,
        step: Option<&str>,
        hint: &str,
    ) -> Option<&'n Node> {
        let value = entries.get(key);
        if value.is_none() {
            self.report(entries.position, step, format!("{what} needs `{key}`{hint}"));
        }
        value
    }

    // ---- scalars ----

    /// Non-empty text.
    pub(super) fn text(&mut self, node: &Node, field: &str, step: Option<&str>) -> Option<String> {
        match &node.value {
            Yaml::Str(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Yaml::Str(_) | Yaml::Null => {
                self.report(node.position(), step, format!("`{field}` is empty"));
                None
            }
            _ => {
                self.report(node.position(), step, format!("`{field}` must be text, not {}", node.describe()));
                None
            }
        }
    }

    /// A key of a mapping whose keys are names (`inputs`, `outcomes`, …).
    pub(super) fn key_name(&mut self, key: &Node, map: &str, step: Option<&str>) -> Option<String> {
        match key.as_str().map(str::trim) {
            Some(name) if !name.is_empty() => Some(name.to_owned()),
            _ => {
                self.report(key.position(), step, format!("`{map}`: the keys are names, not {}", key.describe()));
                None
            }
        }
    }

    /// Optional non-empty text.
    pub(super) fn opt_text(&mut self, node: Option<&Node>, field: &str, step: Option<&str>) -> Option<Option<String>> {
        match node {
            None => Some(None),
            Some(node) => self.text(node, field, step).map(Some),
        }
    }

    /// An id: a lower-case letter, then lower-case letters, digits and `_`, at most 64.
    pub(super) fn id(&mut self, node: &Node, field: &str, step: Option<&str>, what: &str) -> Option<String> {
        let text = self.text(node, field, step)?;
        if is_id(&text) {
            Some(text)
        } else {
            self.report(
                node.position(),
                step,
                format!(
                    "`{field}`: `{text}` is not a valid {what}: use a lower-case letter, then lower-case letters, \
                     digits and _ (at most 64 characters)"
                ),
            );
            None
        }
    }

    /// `name` if it is a valid id (reporting it at `node` if not).
    pub(super) fn checked_id(&mut self, node: &Node, name: String, what: &str, step: Option<&str>) -> Option<String> {
        if is_id(&name) {
            return Some(name);
        }
        self.report(
            node.position(),
            step,
            format!(
                "`{name}` is not a valid {what}: use a lower-case letter, then lower-case letters, digits and _ \
                 (at most 64 characters)"
            ),
        );
        None
    }

    /// A reference to a step, recorded in `targets` to be checked once every step is known.
    pub(super) fn step_ref(
        &mut self,
        node: &Node,
        field: &str,
        step: Option<&str>,
        targets: &mut Vec<Target>,
    ) -> Option<String> {
        let id = self.text(node, field, step)?;
        targets.push(Target { id: id.clone(), position: node.position(), field: field.to_owned() });
        Some(id)
    }

    /// A duration such as `1h30m`.
    pub(super) fn duration(&mut self, node: &Node, field: &str, step: Option<&str>) -> Option<Duration> {
        let Some(text) = node.as_str() else {
            self.report(
                node.position(),
                step,
                format!("`{field}` must be a duration such as 90s, 30m, 4h, 2d or 1h30m, not {}", node.describe()),
            );
            return None;
        };
        match parse_duration(text) {
            Ok(duration) => Some(duration),
            Err(message) => {
                self.report(node.position(), step, format!("`{field}`: {message}"));
                None
            }
        }
    }

    /// An optional duration.
    pub(super) fn opt_duration(
        &mut self,
        node: Option<&Node>,
        field: &str,
        step: Option<&str>,
    ) -> Option<Option<Duration>> {
        match node {
            None => Some(None),
            Some(node) => self.duration(node, field, step).map(Some),
        }
    }

    /// A whole number from `min` to `max`.
    pub(super) fn integer(&mut self, node: &Node, field: &str, step: Option<&str>, min: u64, max: u64) -> Option<u64> {
        let value = match node.value {
            Yaml::UInt(u) => Some(u),
            Yaml::Int(i) => u64::try_from(i).ok(),
            _ => None,
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Some(v),
            _ => {
                self.report(
                    node.position(),
                    step,
                    format!("`{field}` must be a whole number from {min} to {max}, not {}", node.describe()),
                );
                None
            }
        }
    }

    /// An event type of the catalogue.
    pub(super) fn event_type(&mut self, node: &Node, field: &str, step: Option<&str>) -> Option<String> {
        let text = self.text(node, field, step)?;
        if backroom_model::EventType::parse(&text).is_some() {
            Some(text)
        } else {
            let all: Vec<&str> = backroom_model::EventType::ALL.iter().map(|t| t.as_str()).collect();
            self.report(
                node.position(),
                step,
                format!("`{field}`: `{text}` is not an event type of the catalogue ({})", all.join(", ")),
            );
            None
        }
    }

    // ---- expressions and templates ----

    /// An expression: a string, or a number or boolean (read as its text).
    pub(super) fn expr(&mut self, node: &Node, field: &str, step: Option<&str>, scope: Scope<'_>) -> Option<Expr> {
        let text = match &node.value {
            Yaml::Str(s) => s.clone(),
            Yaml::Bool(_) | Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => match node.raw(self.source) {
                Some(raw) => raw.to_owned(),
                None => match &node.value {
                    Yaml::Bool(b) => b.to_string(),
                    Yaml::Int(i) => i.to_string(),
                    Yaml::UInt(u) => u.to_string(),
                    Yaml::Float(f) => format!("{f:?}"),
                    _ => String::new(),
                },
            },
            Yaml::Null => {
                let (at, message) = match self.tag_before(node) {
                    Some((tag, at)) => (
                        Some(at),
                        format!(
                            ": YAML read `{tag}` as a tag, as it reads `!` at the start of a value; quote the \
                             expression: '{}'",
                            tag.replace('\'', "''")
                        ),
                    ),
                    None => (node.position(), ": write an expression".to_owned()),
                };
                self.report(at, step, format!("`{field}` is empty{message}"));
                return None;
            }
            Yaml::Seq(_) | Yaml::Map(_) => {
                self.report(
                    node.position(),
                    step,
                    format!("`{field}` must be an expression (text), not {}", node.describe()),
                );
                return None;
            }
        };
        self.compile(node, &text, field, step, scope, false)
    }

    /// The YAML tag (`!has(x)`) just before an empty value on its line, if there is one: CEL's
    /// `!` at the start of an unquoted value makes one.
    fn tag_before(&self, node: &Node) -> Option<(String, Position)> {
        let at = node.position()?;
        let line = self.source.lines().nth(at.line.checked_sub(1)?)?;
        let before: String = line.chars().take(at.column.saturating_sub(1)).collect();
        let bang = before.rfind(['!'])?;
        let prefix = before.get(..bang)?.trim_end();
        if !(prefix.ends_with(':') || prefix.ends_with('-') || prefix.ends_with('[') || prefix.ends_with(',')) {
            return None;
        }
        let tag = before.get(bang..)?.trim_end().trim_end_matches(',').trim_end();
        let column = before.get(..bang)?.chars().count() + 1;
        (tag.len() > 1).then(|| (tag.to_owned(), Position { line: at.line, column }))
    }

    /// An optional expression.
    pub(super) fn opt_expr(
        &mut self,
        node: Option<&Node>,
        field: &str,
        step: Option<&str>,
        scope: Scope<'_>,
    ) -> Option<Option<Expr>> {
        match node {
            None => Some(None),
            Some(node) => self.expr(node, field, step, scope).map(Some),
        }
    }

    fn compile(
        &mut self,
        node: &Node,
        text: &str,
        field: &str,
        step: Option<&str>,
        scope: Scope<'_>,
        in_template: bool,
    ) -> Option<Expr> {
        let compiled: Arc<dyn Expression> = match Cel.compile(text) {
            Ok(compiled) => compiled,
            Err(error) => {
                let at = self.position_in(node, text, error.line, error.column);
                let hint = if in_template && !text.contains('"') && !text.contains('\'') {
                    "; in a template, text is a CEL expression: write literal text in quotes inside the YAML \
                     string, e.g. '\"Approve the transfer\"'"
                } else {
                    ""
                };
                self.report(
                    at,
                    step,
                    format!("`{field}`: `{}` is not a valid expression: {}{hint}", shorten(text), error.message),
                );
                return None;
            }
        };
        let names = identifiers(text);
        for name in compiled.references() {
            if !scope.allows(&name) {
                let offset = names.iter().find(|t| t.name == name && !t.after_dot).map_or(0, |t| t.offset);
                let at = self.position_in(node, text, 1, offset + 1).or(node.position());
                self.report(
                    at,
                    step,
                    format!("`{field}` reads `{name}`, which is not in its context: {}", scope.explain()),
                );
            }
        }
        let reads = compiled.references();
        if reads.iter().any(|r| r == "steps") && scope.allows("steps") {
            for (id, offset) in members(&names, "steps") {
                if !self.step_ids.contains(&id) {
                    let at = self.position_in(node, text, 1, offset + 1).or(node.position());
                    let known = self.step_ids.join(", ");
                    self.report(
                        at,
                        step,
                        format!("`{field}` reads `steps.{id}`, but no step has the id `{id}` (steps: {known})"),
                    );
                }
            }
        }
        if reads.iter().any(|r| r == "inputs") && scope.allows("inputs") {
            let (available, earlier): (&[String], bool) = match scope {
                Scope::Inputs(earlier) => (earlier, true),
                _ => (&self.input_names, false),
            };
            let mut unknown = Vec::new();
            for (name, offset) in members(&names, "inputs") {
                if !available.contains(&name) {
                    let list = if available.is_empty() { "none".to_owned() } else { available.join(", ") };
                    let message = if earlier {
                        format!("`{field}` reads `inputs.{name}`, which is not an input before it (before it: {list})")
                    } else {
                        format!(
                            "`{field}` reads `inputs.{name}`, which is not an input of the workflow (inputs: {list})"
                        )
                    };
                    unknown.push((offset, message));
                }
            }
            for (offset, message) in unknown {
                let at = self.position_in(node, text, 1, offset + 1).or(node.position());
                self.report(at, step, message);
            }
        }
        Some(Expr { compiled, position: node.position() })
    }

    /// Where line `line`, column `column` of a scalar's text is in the source: exact for
    /// single-line plain and quoted scalars without escapes and for literal (`|`) blocks,
    /// else the scalar's start.
    fn position_in(&self, node: &Node, text: &str, line: usize, column: usize) -> Option<Position> {
        let column = column.max(1);
        let line = line.max(1);
        let raw = node.raw(self.source);
        match raw {
            Some(raw) if raw.contains('\n') => {
                let start = node.position()?;
                let raw_lines: Vec<&str> = raw.lines().collect();
                let text_lines: Vec<&str> = text.lines().collect();
                let literal = raw_lines.len() >= text_lines.len()
                    && raw_lines.first() == text_lines.first()
                    && raw_lines.iter().zip(&text_lines).all(|(r, t)| r.ends_with(t));
                let (Some(raw_line), Some(text_line)) = (raw_lines.get(line - 1), text_lines.get(line - 1)) else {
                    return Some(start);
                };
                if !literal {
                    return Some(start);
                }
                if line == 1 {
                    return Some(Position { line: start.line, column: start.column + column - 1 });
                }
                let indent = raw_line.chars().count() - text_line.chars().count();
                Some(Position { line: start.line + line - 1, column: indent + column })
            }
            _ if line == 1 => position_in_scalar(self.source, &node.location, text, column - 1),
            _ => node.position(),
        }
    }

    /// A template: a string is an expression, other scalars are literals, mappings and lists
    /// are built member by member.
    pub(super) fn template(
        &mut self,
        node: &Node,
        field: &str,
        step: Option<&str>,
        scope: Scope<'_>,
    ) -> Option<Template> {
        match &node.value {
            Yaml::Str(s) => self.compile(node, s, field, step, scope, true).map(Template::Expr),
            Yaml::Null => Some(Template::Literal(Value::Null)),
            Yaml::Bool(b) => Some(Template::Literal(Value::Bool(*b))),
            Yaml::Int(i) => Some(Template::Literal(Value::from(*i))),
            Yaml::UInt(u) => Some(Template::Literal(Value::from(*u))),
            Yaml::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(number) => Some(Template::Literal(Value::Number(number))),
                None => {
                    self.report(node.position(), step, format!("`{field}`: {f} is not a finite number"));
                    None
                }
            },
            Yaml::Seq(items) => {
                let built: Vec<Option<Template>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.template(item, &format!("{field}[{i}]"), step, scope))
                    .collect();
                built.into_iter().collect::<Option<Vec<_>>>().map(Template::List)
            }
            Yaml::Map(entries) => {
                let mut members = Vec::with_capacity(entries.len());
                let mut fine = true;
                let mut seen = HashSet::new();
                for (key, value) in entries {
                    let Some(name) = key.as_str() else {
                        self.report(
                            key.position(),
                            step,
                            format!("`{field}`: the keys of a mapping are names, not {}", key.describe()),
                        );
                        fine = false;
                        continue;
                    };
                    if !seen.insert(name) {
                        self.report(key.position(), step, format!("`{field}`: `{name}` appears twice"));
                        fine = false;
                        continue;
                    }
                    match self.template(value, &format!("{field}.{name}"), step, scope) {
                        Some(member) => members.push((name.to_owned(), member)),
                        None => fine = false,
                    }
                }
                fine.then_some(Template::Object(members))
            }
        }
    }

    /// An optional template; an empty object when absent.
    pub(super) fn template_or_empty(
        &mut self,
        node: Option<&Node>,
        field: &str,
        step: Option<&str>,
        scope: Scope<'_>,
    ) -> Option<Template> {
        match node {
            None => Some(Template::Object(Vec::new())),
            Some(node) => self.template(node, field, step, scope),
        }
    }

    // ---- the definition ----

    fn workflow(&mut self, root: &Node) -> Option<Workflow> {
        let e = self.entries(root, "a workflow definition", None, WORKFLOW_KEYS, &[])?;
        let what = "a workflow definition";
        let id = self
            .required(&e, "id", what, None, " (its name, e.g. replenishment_exception)")
            .and_then(|n| self.id(n, "id", None, "workflow id"));
        // `validate` names the API route that checks definitions (`POST /v1/workflows/validate`).
        let id = match id {
            Some(id) if id == "validate" => {
                self.report(
                    e.get("id").and_then(Node::position),
                    None,
                    "`validate` is reserved: choose another workflow id",
                );
                None
            }
            other => other,
        };
        let version = match e.get("version") {
            None => Some(1),
            Some(node) => {
                self.integer(node, "version", None, 1, u64::from(u32::MAX)).and_then(|v| u32::try_from(v).ok())
            }
        };
        let title = self.required(&e, "title", what, None, "").and_then(|n| self.text(n, "title", None));
        let description = self.opt_text(e.get("description"), "description", None);

        // What the expressions may refer to, known before they are compiled.
        if let Some(Yaml::Seq(items)) = e.get("steps").map(|s| &s.value) {
            for item in items {
                if let Some(id) = item.as_map().and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("id")))
                    && let Some(id) = id.1.as_str()
                {
                    self.step_ids.push(id.trim().to_owned());
                }
            }
        }
        if let Some(map) = e.get("inputs").and_then(Node::as_map) {
            self.input_names = map.iter().filter_map(|(k, _)| k.as_str().map(str::to_owned)).collect();
        }
        if let Some(map) = e.get("classifiers").and_then(Node::as_map) {
            self.classifier_names = map.iter().filter_map(|(k, _)| k.as_str().map(str::to_owned)).collect();
        }

        let trigger = self
            .required(&e, "trigger", what, None, " (the event that starts an instance)")
            .and_then(|n| self.trigger(n));
        let inputs = match e.get("inputs") {
            None => Some(Vec::new()),
            Some(node) => self.inputs(node),
        };
        let tables = match e.get("tables") {
            None => Vec::new(),
            Some(node) => self.tables(node),
        };
        let classifiers = match e.get("classifiers") {
            None => Some(HashMap::new()),
            Some(node) => self.classifiers(node),
        };

        let mut drafts = Vec::new();
        let steps_node = self.required(&e, "steps", what, None, " (a list of steps)");
        if let Some(node) = steps_node {
            match &node.value {
                Yaml::Seq(items) if !items.is_empty() => {
                    let mut seen: HashMap<String, Option<Position>> = HashMap::new();
                    for item in items {
                        drafts.push(self.step(item, &tables, &mut seen));
                    }
                }
                Yaml::Seq(_) | Yaml::Null => {
                    self.report(node.position(), None, "`steps` is empty: a workflow needs at least one step");
                }
                _ => {
                    self.report(
                        node.position(),
                        None,
                        format!("`steps` must be a list of steps, not {}", node.describe()),
                    );
                }
            }
        }

        let mut start_target = Vec::new();
        let start = match e.get("start") {
            Some(node) => self.step_ref(node, "start", None, &mut start_target),
            None => drafts.first().and_then(|d| d.id.clone()),
        };
        self.check_graph(&drafts, start.as_deref(), start_target.first());
        self.check_tables(&tables, &drafts);

        let (
            Some(id),
            Some(version),
            Some(title),
            Some(description),
            Some(trigger),
            Some(inputs),
            Some(classifiers),
            Some(start),
        ) = (id, version, title, description, trigger, inputs, classifiers, start)
        else {
            return None;
        };
        let mut table_map = HashMap::new();
        for entry in tables {
            table_map.insert(entry.key, entry.table?);
        }
        let steps: Vec<Step> = drafts.into_iter().map(|d| d.step).collect::<Option<Vec<_>>>()?;
        if steps.is_empty() {
            return None;
        }
        let index = steps.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        Some(Workflow {
            id,
            version,
            title,
            description,
            trigger,
            inputs,
            start,
            steps,
            index,
            tables: table_map,
            classifiers,
            source: self.source.to_owned(),
        })
    }

    fn trigger(&mut self, node: &Node) -> Option<Trigger> {
        let what = "the trigger";
        let e = self.entries(node, what, None, &["event", "when", "key"], &[])?;
        let event = self
            .required(&e, "event", what, None, " (the event type that starts an instance)")
            .and_then(|n| self.event_type(n, "trigger.event", None));
        let when = self.opt_expr(e.get("when"), "trigger.when", None, Scope::Trigger);
        let key = self.opt_expr(e.get("key"), "trigger.key", None, Scope::Trigger);
        Some(Trigger { event: event?, when: when?, key: key? })
    }

    fn inputs(&mut self, node: &Node) -> Option<Vec<(String, Expr)>> {
        let Some(map) = node.as_map() else {
            self.report(
                node.position(),
                None,
                format!("`inputs` is a mapping from names to expressions, not {}", node.describe()),
            );
            return None;
        };
        let mut inputs = Vec::new();
        let mut earlier: Vec<String> = Vec::new();
        let mut fine = true;
        for (key, value) in map {
            let Some(name) =
                self.key_name(key, "inputs", None).and_then(|name| self.checked_id(key, name, "input name", None))
            else {
                fine = false;
                continue;
            };
            if earlier.contains(&name) {
                self.report(key.position(), None, format!("input `{name}` is defined twice"));
                fine = false;
                continue;
            }
            let field = format!("inputs.{name}");
            match self.expr(value, &field, None, Scope::Inputs(&earlier.clone())) {
                Some(expr) => inputs.push((name.clone(), expr)),
                None => fine = false,
            }
            earlier.push(name);
        }
        fine.then_some(inputs)
    }

    // ---- the graph ----

    fn check_graph(&mut self, drafts: &[Draft], start: Option<&str>, start_target: Option<&Target>) {
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, draft) in drafts.iter().enumerate() {
            if let Some(id) = &draft.id {
                index.entry(id.as_str()).or_insert(i);
            }
        }
        let ids: Vec<&str> = drafts.iter().filter_map(|d| d.id.as_deref()).collect();
        let dangling = |target: &Target| -> Option<String> {
            if index.contains_key(target.id.as_str()) {
                return None;
            }
            let suggestion = closest(&target.id, &ids)
                .map_or_else(|| format!(" (steps: {})", ids.join(", ")), |c| format!(" (did you mean `{c}`?)"));
            Some(format!("`{}`: no step has the id `{}`{suggestion}", target.field, target.id))
        };
        if let Some(target) = start_target
            && let Some(message) = dangling(target)
        {
            let position = target.position;
            self.report(position, None, message);
        }
        let mut found = Vec::new();
        for draft in drafts {
            for target in &draft.targets {
                if let Some(message) = dangling(target) {
                    found.push((target.position, draft.id.clone(), message));
                }
            }
        }
        for (position, step, message) in found {
            self.report(position, step.as_deref(), message);
        }

        let reach = |from: &[usize]| -> Vec<bool> {
            let mut seen = vec![false; drafts.len()];
            let mut queue: VecDeque<usize> = from.iter().copied().collect();
            while let Some(i) = queue.pop_front() {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                for target in &drafts[i].targets {
                    if let Some(&j) = index.get(target.id.as_str()) {
                        queue.push_back(j);
                    }
                }
            }
            seen
        };
        let branch_starts: Vec<usize> =
            drafts.iter().flat_map(|d| d.branches.iter()).filter_map(|b| index.get(b.as_str()).copied()).collect();
        let in_branch = reach(&branch_starts);
        let start_index = start.and_then(|s| index.get(s).copied());
        let reachable = start_index.map(|s| reach(&[s]));
        let mut found = Vec::new();
        for (i, draft) in drafts.iter().enumerate() {
            let Some(id) = &draft.id else { continue };
            if index.get(id.as_str()) != Some(&i) {
                continue; // a repeated id, already reported
            }
            if let (Some(reachable), Some(start)) = (&reachable, start)
                && !reachable[i]
            {
                found.push((
                    draft.position,
                    id.clone(),
                    format!(
                        "the step is unreachable: no path from the start step `{start}` leads to it (through next, \
                         on_error, on_timeout, cases, otherwise, outcomes or branches)"
                    ),
                ));
            }
            if let Some(kind) = draft.kind
                && !matches!(kind, "end" | "branch" | "task" | "approval")
                && !draft.has_next
                && !in_branch[i]
            {
                found.push((
                    draft.position,
                    id.clone(),
                    format!(
                        "{} {kind} step needs `next`: only the steps of a parallel branch may leave it out, to end \
                         the branch",
                        article(kind)
                    ),
                ));
            }
        }
        for (position, step, message) in found {
            self.report(position, Some(&step), message);
        }
    }
}

/// Whether `text` is a valid id: a lower-case ASCII letter, then lower-case letters, digits and
/// `_`, at most 64 characters.
pub(super) fn is_id(text: &str) -> bool {
    let mut chars = text.chars();
    text.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `a` or `an` before a kind's name.
pub(super) fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// The text cut to 60 characters.
fn shorten(text: &str) -> String {
    let flat = text.replace('\n', " ");
    if flat.chars().count() > 60 { format!("{}…", flat.chars().take(60).collect::<String>()) } else { flat }
}

/// The candidate nearest to `word` within an edit distance of 2, if any.
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// An identifier in CEL text.
struct Identifier {
    name: String,
    /// Its offset in characters.
    offset: usize,
    /// Whether a `.` comes before it (it is a field, not a variable).
    after_dot: bool,
    /// Whether a `.` comes after it.
    before_dot: bool,
}

/// The identifiers of CEL text, string literals skipped.
fn identifiers(text: &str) -> Vec<Identifier> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<Identifier> = Vec::new();
    let mut last_dot = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let begin = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[begin..i].iter().collect();
            let is_prefix = name.len() <= 2 && name.chars().all(|c| matches!(c, 'r' | 'R' | 'b' | 'B'));
            if is_prefix && i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                i = skip_string(&chars, i, name.contains(['r', 'R']));
                last_dot = false;
                continue;
            }
            found.push(Identifier { name, offset: begin, after_dot: last_dot, before_dot: false });
            last_dot = false;
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            last_dot = false;
            continue;
        }
        if c == '"' || c == '\'' {
            i = skip_string(&chars, i, false);
            last_dot = false;
            continue;
        }
        if c == '.' {
            if let Some(previous) = found.last_mut() {
                let end = previous.offset + previous.name.chars().count();
                if chars[end..i].iter().all(|c| c.is_whitespace()) {
                    previous.before_dot = true;
                }
            }
            last_dot = true;
        } else {
            last_dot = false;
        }
        i += 1;
    }
    found
}

/// Skips a string literal starting at `start` (a quote); returns the index after it.
fn skip_string(chars: &[char], start: usize, raw: bool) -> usize {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    while i < chars.len() {
        if !raw && chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            if !triple {
                return i + 1;
            }
            if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                return i + 3;
            }
        }
        i += 1;
    }
    chars.len()
}

/// The members read from the variable `root` (`steps.stock.on_hand` gives `stock`), with their
/// character offsets.
fn members(identifiers: &[Identifier], root: &str) -> Vec<(String, usize)> {
    identifiers
        .windows(2)
        .filter(|w| w[0].name == root && !w[0].after_dot && w[0].before_dot && w[1].after_dot)
        .map(|w| (w[1].name.clone(), w[1].offset))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_and_members_outside_strings() {
        let ids =
            identifiers(r#"steps.stock.on_hand > 0 && "steps.x" != inputs . sku && r'inputs.y' == b"z" && x.steps.q"#);
        assert_eq!(members(&ids, "steps"), [("stock".to_owned(), 6)]);
        assert_eq!(members(&ids, "inputs").iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["sku"]);
        let ids = identifiers(r#""""a " b""" + steps.a"#);
        assert_eq!(members(&ids, "steps"), [("a".to_owned(), 20)]);
    }

    #[test]
    fn ids_and_suggestions() {
        assert!(is_id("replenishment_exception"));
        assert!(is_id("a1_b"));
        for bad in ["", "1a", "A", "a-b", "a b", "é"] {
            assert!(!is_id(bad), "{bad}");
        }
        assert!(!is_id(&"a".repeat(65)));
        assert_eq!(closest("aprove", &["approve", "transfer"]), Some("approve"));
        assert_eq!(closest("zzz", &["approve", "transfer"]), None);
    }
}
