//! The decision table model and its evaluation (DMN 1.3, chapter 8).

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::error::Position;
use super::unary::{Input, UnaryTest};
use super::value::{as_decimal, decimal_to_json, lookup, same_value};

/// A decision table: input columns, output columns, and rules that map tests on the inputs to
/// output values, combined by a hit policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTable {
    /// How workflows refer to the table (the DMN decision's `id`).
    pub id: String,
    /// A name for people (the DMN decision's `name`).
    pub name: Option<String>,
    /// How the outputs of the matching rules make up the result.
    pub hit_policy: HitPolicy,
    /// The input columns, in the order of each rule's `when` tests.
    pub inputs: Vec<InputClause>,
    /// The output columns, in the order of each rule's `then` values.
    pub outputs: Vec<OutputClause>,
    /// The rules, in table order.
    pub rules: Vec<Rule>,
}

/// How the outputs of the matching rules make up the result of a table (DMN 1.3, 8.2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HitPolicy {
    /// At most one rule may match; more is an error ([`EvaluationError::MultipleMatches`]).
    Unique,
    /// The first matching rule in table order.
    First,
    /// The matching rule whose output values come first in the outputs' `allowed` lists.
    Priority,
    /// Several rules may match, but they must all give the same outputs.
    Any,
    /// All matching rules, or one aggregate of their single output.
    Collect(Option<Aggregation>),
    /// All matching rules, in table order.
    RuleOrder,
}

/// How `COLLECT` combines the single output of the matching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// The exact decimal sum (`C+`).
    Sum,
    /// The smallest number (`C<`).
    Min,
    /// The largest number (`C>`).
    Max,
    /// The number of matching rules (`C#`).
    Count,
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Aggregation::Sum => "SUM",
            Aggregation::Min => "MIN",
            Aggregation::Max => "MAX",
            Aggregation::Count => "COUNT",
        })
    }
}

impl fmt::Display for HitPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HitPolicy::Unique => f.write_str("UNIQUE"),
            HitPolicy::First => f.write_str("FIRST"),
            HitPolicy::Priority => f.write_str("PRIORITY"),
            HitPolicy::Any => f.write_str("ANY"),
            HitPolicy::Collect(None) => f.write_str("COLLECT"),
            HitPolicy::Collect(Some(a)) => write!(f, "COLLECT {a}"),
            HitPolicy::RuleOrder => f.write_str("RULE ORDER"),
        }
    }
}

const HIT_POLICIES: &str = "UNIQUE, FIRST, PRIORITY, ANY, COLLECT or RULE ORDER";

impl HitPolicy {
    /// Reads a hit policy as DMN writes it (`hitPolicy` and `aggregation`), case-insensitively;
    /// the one-letter forms of the DMN notation (`U`, `F`, `P`, `A`, `C`, `R`, `C+`, `C<`, `C>`,
    /// `C#`) are accepted too.
    pub(crate) fn from_names(policy: &str, aggregation: Option<&str>) -> Result<HitPolicy, String> {
        let normalized = policy.trim().to_ascii_uppercase().replace(['_', '-'], " ");
        let (policy, implied) = match normalized.as_str() {
            "UNIQUE" | "U" => (HitPolicy::Unique, None),
            "FIRST" | "F" => (HitPolicy::First, None),
            "PRIORITY" | "P" => (HitPolicy::Priority, None),
            "ANY" | "A" => (HitPolicy::Any, None),
            "COLLECT" | "C" => (HitPolicy::Collect(None), None),
            "C+" => (HitPolicy::Collect(None), Some(Aggregation::Sum)),
            "C<" => (HitPolicy::Collect(None), Some(Aggregation::Min)),
            "C>" => (HitPolicy::Collect(None), Some(Aggregation::Max)),
            "C#" => (HitPolicy::Collect(None), Some(Aggregation::Count)),
            "RULE ORDER" | "R" => (HitPolicy::RuleOrder, None),
            "OUTPUT ORDER" | "O" => {
                return Err("the hit policy OUTPUT ORDER is not supported: use PRIORITY or RULE ORDER".to_owned());
            }
            _ => return Err(format!("`{}` is not a hit policy: expected {HIT_POLICIES}", policy.trim())),
        };
        let aggregation = match aggregation.map(str::trim).filter(|a| !a.is_empty()) {
            None => implied,
            Some(text) => {
                let parsed = match text.to_ascii_uppercase().as_str() {
                    "SUM" => Aggregation::Sum,
                    "MIN" => Aggregation::Min,
                    "MAX" => Aggregation::Max,
                    "COUNT" => Aggregation::Count,
                    _ => {
                        return Err(format!("`{text}` is not an aggregation: expected SUM, MIN, MAX or COUNT"));
                    }
                };
                if implied.is_some_and(|i| i != parsed) {
                    return Err(format!("hit policy `{}` contradicts aggregation {parsed}", policy));
                }
                Some(parsed)
            }
        };
        match (policy, aggregation) {
            (HitPolicy::Collect(None), aggregation) => Ok(HitPolicy::Collect(aggregation)),
            (policy, None) => Ok(policy),
            (policy, Some(a)) => Err(format!("aggregation {a} needs the hit policy COLLECT, not {policy}")),
        }
    }
}

/// An input column: which value of the evaluation context the rules test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputClause {
    /// The input's key in the evaluation context, e.g. `refund_amount`; a dotted name such as
    /// `order.total` that is not itself a key reaches into nested objects.
    pub name: String,
    /// A label for people.
    pub label: Option<String>,
    /// The values this input may take (DMN `inputValues`), as a unary test: a value outside it is
    /// an evaluation error. A missing (null) input is always allowed.
    pub allowed: Option<UnaryTest>,
}

/// An output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputClause {
    /// The output's key in each result map.
    pub name: String,
    /// A label for people.
    pub label: Option<String>,
    /// The values this output may take (DMN `outputValues`), highest priority first: `PRIORITY`
    /// ranks matching rules by them.
    pub allowed: Option<Vec<Value>>,
    /// The value when no rule matches (DMN `defaultOutputEntry`).
    pub default: Option<Value>,
}

/// A rule: when every input passes its test, the rule matches and gives its output values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's id, reported in evaluations and problems.
    pub id: String,
    /// One test per input, in input order.
    pub when: Vec<UnaryTest>,
    /// One value per output, in output order.
    pub then: Vec<Value>,
    /// Why the rule exists, for people.
    pub description: Option<String>,
    /// Where the rule is defined in its source, when it was read from one.
    pub position: Option<Position>,
}

/// The result of evaluating a table, with the rules that made it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// The outputs, output name to value: one map for `UNIQUE`, `FIRST`, `PRIORITY`, `ANY` and an
    /// aggregating `COLLECT`; one per matching rule for `COLLECT` and `RULE ORDER`. Empty when no
    /// rule matched, unless some output has a default, in which case it is one map of defaults.
    pub outputs: Vec<Map<String, Value>>,
    /// The ids of the rules whose outputs make the result, in the order of `outputs` (for an
    /// aggregating `COLLECT`, all matching rules in table order; for `ANY`, all matching rules).
    pub matched: Vec<String>,
}

/// Why a table could not give a result for a context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// More than one rule matched under `UNIQUE`.
    #[error("decision table {table}: rules {} all match, but the hit policy UNIQUE allows one", rules.join(", "))]
    MultipleMatches {
        /// The table's id.
        table: String,
        /// The ids of all matching rules.
        rules: Vec<String>,
    },
    /// Rules with different outputs matched under `ANY`.
    #[error("decision table {table}: rules {} match with different outputs, but the hit policy ANY needs equal ones", rules.join(", "))]
    ConflictingOutputs {
        /// The table's id.
        table: String,
        /// The ids of all matching rules.
        rules: Vec<String>,
    },
    /// An input has a value outside its allowed values.
    #[error("decision table {table}: input {input} is {value}, which is not among its allowed values {allowed}")]
    InputNotAllowed {
        /// The table's id.
        table: String,
        /// The input's name.
        input: String,
        /// The value it has.
        value: Value,
        /// The allowed values, as S-FEEL text.
        allowed: String,
    },
    /// A `SUM`, `MIN` or `MAX` met an output value that is not a number.
    #[error(
        "decision table {table}: rule {rule} gives {output} = {value}, which is not a number, but {aggregation} needs numbers"
    )]
    NotANumber {
        /// The table's id.
        table: String,
        /// The rule giving the value.
        rule: String,
        /// The output's name.
        output: String,
        /// The value.
        value: Value,
        /// The aggregation that needed a number.
        aggregation: Aggregation,
    },
    /// The sum does not fit a 96-bit decimal.
    #[error("decision table {table}: the SUM of the outputs of rules {} is too large", rules.join(", "))]
    SumOutOfRange {
        /// The table's id.
        table: String,
        /// The matching rules.
        rules: Vec<String>,
    },
    /// The table is not well formed (see [`DecisionTable::check`]), so it cannot be evaluated.
    #[error("decision table {table} is not well formed: {problem}")]
    InvalidTable {
        /// The table's id.
        table: String,
        /// What is wrong.
        problem: String,
    },
}

impl DecisionTable {
    /// Evaluates the table against a context whose keys are the inputs' names. A missing input is
    /// null. Which rules matched is in [`Evaluation::matched`]; no match is not an error.
    pub fn evaluate(&self, context: &Map<String, Value>) -> Result<Evaluation, EvaluationError> {
        self.ensure_evaluable()?;
        let values: Vec<Input<'_>> = self.inputs.iter().map(|input| Input::new(lookup(context, &input.name))).collect();
        for (clause, value) in self.inputs.iter().zip(&values) {
            if let Some(allowed) = &clause.allowed
                && !value.json.is_null()
                && allowed.test(value) != Some(true)
            {
                return Err(EvaluationError::InputNotAllowed {
                    table: self.id.clone(),
                    input: clause.name.clone(),
                    value: value.json.clone(),
                    allowed: allowed.to_string(),
                });
            }
        }
        let matches = |rule: &&Rule| rule.when.iter().zip(&values).all(|(test, value)| test.test(value) == Some(true));
        if self.hit_policy == HitPolicy::First {
            return Ok(match self.rules.iter().find(matches) {
                Some(rule) => self.single(rule),
                None => self.no_match(),
            });
        }
        let matched: Vec<&Rule> = self.rules.iter().filter(matches).collect();
        if matched.is_empty() {
            return Ok(self.no_match());
        }
        let ids = || matched.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        match self.hit_policy {
            HitPolicy::Unique if matched.len() > 1 => {
                Err(EvaluationError::MultipleMatches { table: self.id.clone(), rules: ids() })
            }
            HitPolicy::Unique | HitPolicy::First => Ok(self.single(matched[0])),
            HitPolicy::Any => {
                let first = matched[0];
                let agree = matched.iter().all(|rule| rule.then.iter().zip(&first.then).all(|(a, b)| same_value(a, b)));
                if agree {
                    Ok(Evaluation { outputs: vec![self.output_map(first)], matched: ids() })
                } else {
                    Err(EvaluationError::ConflictingOutputs { table: self.id.clone(), rules: ids() })
                }
            }
            HitPolicy::Priority => {
                let mut best = matched[0];
                let mut best_rank = self.priority_rank(best);
                for rule in &matched[1..] {
                    let rank = self.priority_rank(rule);
                    if rank < best_rank {
                        best = rule;
                        best_rank = rank;
                    }
                }
                Ok(self.single(best))
            }
            HitPolicy::Collect(None) | HitPolicy::RuleOrder => {
                Ok(Evaluation { outputs: matched.iter().map(|rule| self.output_map(rule)).collect(), matched: ids() })
            }
            HitPolicy::Collect(Some(aggregation)) => {
                let value = self.aggregate(aggregation, &matched)?;
                let mut map = Map::new();
                map.insert(self.outputs[0].name.clone(), value);
                Ok(Evaluation { outputs: vec![map], matched: ids() })
            }
        }
    }

    /// The problems that make evaluation impossible (a subset of what [`DecisionTable::check`]
    /// reports), found cheaply.
    fn ensure_evaluable(&self) -> Result<(), EvaluationError> {
        let invalid = |problem: String| Err(EvaluationError::InvalidTable { table: self.id.clone(), problem });
        for rule in &self.rules {
            if rule.when.len() != self.inputs.len() || rule.then.len() != self.outputs.len() {
                return invalid(format!(
                    "rule {} has {} tests and {} outputs, but the table has {} inputs and {} outputs",
                    rule.id,
                    rule.when.len(),
                    rule.then.len(),
                    self.inputs.len(),
                    self.outputs.len()
                ));
            }
        }
        match self.hit_policy {
            HitPolicy::Collect(Some(a)) if self.outputs.len() != 1 => {
                invalid(format!("COLLECT {a} needs exactly one output, and the table has {}", self.outputs.len()))
            }
            HitPolicy::Priority if self.outputs.iter().all(|o| o.allowed.is_none()) => {
                invalid("PRIORITY needs allowed values, in priority order, on the outputs".to_owned())
            }
            _ => Ok(()),
        }
    }

    fn output_map(&self, rule: &Rule) -> Map<String, Value> {
        self.outputs.iter().zip(&rule.then).map(|(clause, value)| (clause.name.clone(), value.clone())).collect()
    }

    fn single(&self, rule: &Rule) -> Evaluation {
        Evaluation { outputs: vec![self.output_map(rule)], matched: vec![rule.id.clone()] }
    }

    fn no_match(&self) -> Evaluation {
        if self.outputs.iter().any(|o| o.default.is_some()) {
            let defaults =
                self.outputs.iter().map(|o| (o.name.clone(), o.default.clone().unwrap_or(Value::Null))).collect();
            Evaluation { outputs: vec![defaults], matched: Vec::new() }
        } else {
            Evaluation::default()
        }
    }

    /// A rule's rank under `PRIORITY`: for each output with allowed values, the position of the
    /// rule's value in them (unlisted values last). Lower ranks first.
    fn priority_rank(&self, rule: &Rule) -> Vec<usize> {
        self.outputs
            .iter()
            .zip(&rule.then)
            .filter_map(|(clause, value)| {
                clause
                    .allowed
                    .as_ref()
                    .map(|allowed| allowed.iter().position(|a| same_value(a, value)).unwrap_or(allowed.len()))
            })
            .collect()
    }

    fn aggregate(&self, aggregation: Aggregation, matched: &[&Rule]) -> Result<Value, EvaluationError> {
        if aggregation == Aggregation::Count {
            return Ok(Value::from(matched.len()));
        }
        let mut numbers = Vec::with_capacity(matched.len());
        for rule in matched {
            let value = &rule.then[0];
            match as_decimal(value) {
                Some(d) => numbers.push(d),
                None => {
                    return Err(EvaluationError::NotANumber {
                        table: self.id.clone(),
                        rule: rule.id.clone(),
                        output: self.outputs[0].name.clone(),
                        value: value.clone(),
                        aggregation,
                    });
                }
            }
        }
        match aggregation {
            Aggregation::Sum => {
                let mut sum = Decimal::ZERO;
                for d in &numbers {
                    sum = sum.checked_add(*d).ok_or_else(|| EvaluationError::SumOutOfRange {
                        table: self.id.clone(),
                        rules: matched.iter().map(|r| r.id.clone()).collect(),
                    })?;
                }
                Ok(decimal_to_json(sum))
            }
            Aggregation::Min | Aggregation::Max => {
                let wanted = if aggregation == Aggregation::Min { Ordering::Less } else { Ordering::Greater };
                let mut best = numbers[0];
                for candidate in &numbers[1..] {
                    if candidate.cmp(&best) == wanted {
                        best = *candidate;
                    }
                }
                Ok(decimal_to_json(best))
            }
            Aggregation::Count => Ok(Value::from(matched.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_policy_names() {
        let p = |policy: &str, agg: Option<&str>| HitPolicy::from_names(policy, agg);
        assert_eq!(p("UNIQUE", None), Ok(HitPolicy::Unique));
        assert_eq!(p("rule order", None), Ok(HitPolicy::RuleOrder));
        assert_eq!(p("RULE_ORDER", None), Ok(HitPolicy::RuleOrder));
        assert_eq!(p("COLLECT", Some("SUM")), Ok(HitPolicy::Collect(Some(Aggregation::Sum))));
        assert_eq!(p("C#", None), Ok(HitPolicy::Collect(Some(Aggregation::Count))));
        assert_eq!(p("C", None), Ok(HitPolicy::Collect(None)));
        assert!(p("FIRST", Some("SUM")).unwrap_err().contains("needs the hit policy COLLECT"));
        assert!(p("OUTPUT ORDER", None).unwrap_err().contains("not supported"));
        assert!(p("SOMETIMES", None).unwrap_err().contains("expected UNIQUE"));
        assert!(p("COLLECT", Some("AVG")).unwrap_err().contains("not an aggregation"));
        assert!(p("C+", Some("MIN")).is_err());
        assert_eq!(HitPolicy::Collect(Some(Aggregation::Sum)).to_string(), "COLLECT SUM");
    }
}
