//! Reading a decision table from YAML (the format is described in the module documentation).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use super::error::{DefinitionError, Position};
use super::table::{DecisionTable, HitPolicy, InputClause, OutputClause, Rule};
use super::unary::{Literal, ParseError, UnaryTest, parse_unary_tests_lenient};
use super::value::{as_decimal, canonical};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    id: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    hit_policy: Option<Spanned<String>>,
    #[serde(default)]
    aggregation: Option<Spanned<String>>,
    #[serde(default)]
    inputs: Vec<Spanned<RawInput>>,
    outputs: Vec<Spanned<RawOutput>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    name: Spanned<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    allowed: Option<Spanned<RawAllowed>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    name: Spanned<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    allowed: Option<Spanned<Vec<Value>>>,
    #[serde(default)]
    default: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    when: Pairs<Spanned<String>, Spanned<Option<String>>>,
    then: Pairs<Spanned<String>, Spanned<Value>>,
}

/// An input's allowed values: S-FEEL text, or a YAML list of values.
enum RawAllowed {
    Text(String),
    Values(Vec<Value>),
}

impl<'de> Deserialize<'de> for RawAllowed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AllowedVisitor;
        impl<'de> Visitor<'de> for AllowedVisitor {
            type Value = RawAllowed;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of values, or unary tests as text such as \"[0..10000]\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawAllowed, E> {
                Ok(RawAllowed::Text(text.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawAllowed, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<Value>()? {
                    values.push(value);
                }
                Ok(RawAllowed::Values(values))
            }
        }
        deserializer.deserialize_any(AllowedVisitor)
    }
}

/// A YAML mapping kept as its entries in order, so that keys keep their positions.
struct Pairs<K, V>(Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Pairs<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<K, V> {
            type Value = Pairs<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from names to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Pairs(entries))
            }
        }
        deserializer.deserialize_map(PairsVisitor(PhantomData))
    }
}

pub(crate) fn position(location: &Location) -> Option<Position> {
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    (line > 0).then_some(Position { line, column })
}

/// Where the error at `offset` characters into a scalar's value is in the source: exact for
/// single-line plain and quoted scalars without escapes, else the scalar's start.
pub(crate) fn position_in_scalar(source: &str, location: &Location, value: &str, offset: usize) -> Option<Position> {
    let start = position(location)?;
    let span = location.span();
    let raw = match (span.byte_offset(), span.byte_len()) {
        (Some(from), Some(len)) => {
            let from = usize::try_from(from).ok()?;
            let len = usize::try_from(len).ok()?;
            source.get(from..from.checked_add(len)?)
        }
        _ => None,
    };
    let Some(raw) = raw.filter(|raw| !raw.contains('\n')) else {
        return Some(start);
    };
    let shift = if raw == value {
        0
    } else if raw.len() >= 2
        && (raw.starts_with('"') || raw.starts_with('\''))
        && raw.get(1..raw.len() - 1) == Some(value)
    {
        1
    } else {
        return Some(start);
    };
    Some(Position { line: start.line, column: start.column + shift + offset })
}

fn saphyr_error(source: &str, error: &serde_saphyr::Error) -> DefinitionError {
    let error = error.without_snippet();
    let location = error.location();
    let mut message = error.to_string();
    if let Some(location) = &location {
        let suffix = format!(" at line {}, column {}", location.line(), location.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
    }
    let position = location.as_ref().and_then(position);
    let about_scalar = message.starts_with("unexpected character") || message.starts_with("expected string scalar");
    if let Some(hint) = position.filter(|_| about_scalar).and_then(|p| quoting_hint(source, p)) {
        message.push_str(&hint);
    }
    DefinitionError::new(position, None, message)
}

/// Unary tests such as `>= 5000` and `[1..5]` start with characters that mean something else in
/// YAML; when a YAML error points at one, say to quote the test.
fn quoting_hint(source: &str, position: Position) -> Option<String> {
    let line = source.lines().nth(position.line.checked_sub(1)?)?;
    let c = line.chars().nth(position.column.checked_sub(1)?)?;
    if !">[|*&!%@`".contains(c) {
        return None;
    }
    let rest: String = line.chars().skip(position.column - 1).collect();
    let value = rest.trim_end().trim_end_matches('}').trim_end().trim_end_matches(',');
    Some(format!(
        "; if this is a unary test, quote it, as YAML reads `{c}` at the start of a value differently: '{value}'"
    ))
}

fn unary_error(
    source: &str,
    cell: &Spanned<String>,
    rule: Option<&str>,
    what: &str,
    error: &ParseError,
) -> DefinitionError {
    DefinitionError::new(
        position_in_scalar(source, &cell.referenced, &cell.value, error.offset),
        rule,
        format!("{what}: `{}` is not a unary test: {}", cell.value.trim(), error.message),
    )
}

/// A YAML value in a list of allowed input values, as a literal to test for.
fn literal_of(value: &Value) -> Option<Literal> {
    match value {
        Value::Null => Some(Literal::Null),
        Value::Bool(b) => Some(Literal::Bool(*b)),
        Value::Number(_) => as_decimal(value).map(Literal::Number),
        Value::String(s) => Some(Literal::String(s.clone())),
        Value::Array(_) | Value::Object(_) => None,
    }
}

pub(crate) fn table_from_yaml(source: &str) -> Result<DecisionTable, DefinitionError> {
    let options = serde_saphyr::options! { with_snippet: false };
    let raw: RawTable = serde_saphyr::from_str_with_options(source, options).map_err(|e| saphyr_error(source, &e))?;
    let at = |location: &Location| position(location);

    let id = raw.id.value.trim().to_owned();
    if id.is_empty() {
        return Err(DefinitionError::new(at(&raw.id.referenced), None, "the table's id is empty"));
    }
    let policy_text = raw.hit_policy.as_ref().map_or("UNIQUE", |p| p.value.as_str());
    let hit_policy =
        HitPolicy::from_names(policy_text, raw.aggregation.as_ref().map(|a| a.value.as_str())).map_err(|message| {
            let location = match (&raw.hit_policy, &raw.aggregation) {
                (_, Some(a)) if message.contains("aggregation") => Some(&a.referenced),
                (Some(p), _) => Some(&p.referenced),
                (None, Some(a)) => Some(&a.referenced),
                (None, None) => None,
            };
            DefinitionError::new(location.and_then(at), None, format!("hit_policy: {message}"))
        })?;

    let mut inputs = Vec::with_capacity(raw.inputs.len());
    for raw_input in &raw.inputs {
        let input = &raw_input.value;
        let name = input.name.value.trim().to_owned();
        if name.is_empty() {
            return Err(DefinitionError::new(at(&input.name.referenced), None, "an input's name is empty"));
        }
        if inputs.iter().any(|i: &InputClause| i.name == name) {
            return Err(DefinitionError::new(
                at(&input.name.referenced),
                None,
                format!("input {name} is defined twice"),
            ));
        }
        let allowed = match &input.allowed {
            None => None,
            Some(spanned) => Some(match &spanned.value {
                RawAllowed::Text(text) => {
                    let cell =
                        Spanned { value: text.clone(), referenced: spanned.referenced, defined: spanned.defined };
                    parse_unary_tests_lenient(text)
                        .map_err(|e| unary_error(source, &cell, None, &format!("input {name}: allowed"), &e))?
                }
                RawAllowed::Values(values) => {
                    let mut tests = Vec::with_capacity(values.len());
                    for value in values {
                        let literal = literal_of(value).ok_or_else(|| {
                            DefinitionError::new(
                                at(&spanned.referenced),
                                None,
                                format!("input {name}: allowed: {value} is not a string, number, boolean or null"),
                            )
                        })?;
                        tests.push(UnaryTest::Equals(literal));
                    }
                    match tests.len() {
                        0 => {
                            return Err(DefinitionError::new(
                                at(&spanned.referenced),
                                None,
                                format!("input {name}: allowed is an empty list: leave it out to allow any value"),
                            ));
                        }
                        1 => tests.pop().unwrap_or(UnaryTest::Any),
                        _ => UnaryTest::List(tests),
                    }
                }
            }),
        };
        inputs.push(InputClause { name, label: input.label.clone(), allowed });
    }

    let mut outputs = Vec::with_capacity(raw.outputs.len());
    if raw.outputs.is_empty() {
        return Err(DefinitionError::new(at(&raw.id.referenced), None, "the table has no outputs"));
    }
    for raw_output in &raw.outputs {
        let output = &raw_output.value;
        let name = output.name.value.trim().to_owned();
        if name.is_empty() {
            return Err(DefinitionError::new(at(&output.name.referenced), None, "an output's name is empty"));
        }
        if outputs.iter().any(|o: &OutputClause| o.name == name) {
            return Err(DefinitionError::new(
                at(&output.name.referenced),
                None,
                format!("output {name} is defined twice"),
            ));
        }
        outputs.push(OutputClause {
            name,
            label: output.label.clone(),
            allowed: output.allowed.as_ref().map(|a| a.value.iter().cloned().map(canonical).collect()),
            default: output.default.clone().map(canonical),
        });
    }

    let mut rules = Vec::with_capacity(raw.rules.len());
    for raw_rule in &raw.rules {
        let rule = &raw_rule.value;
        let rule_id = rule.id.value.trim().to_owned();
        if rule_id.is_empty() {
            return Err(DefinitionError::new(at(&rule.id.referenced), None, "a rule's id is empty"));
        }
        let mut when = vec![UnaryTest::Any; inputs.len()];
        for (key, cell) in &rule.when.0 {
            let Some(index) = inputs.iter().position(|i| i.name == key.value.trim()) else {
                return Err(DefinitionError::new(
                    at(&key.referenced),
                    Some(&rule_id),
                    format!(
                        "when: `{}` is not an input of the table: expected one of {}",
                        key.value,
                        names(inputs.iter().map(|i| i.name.as_str()))
                    ),
                ));
            };
            let Some(text) = &cell.value else {
                return Err(DefinitionError::new(
                    at(&cell.referenced),
                    Some(&rule_id),
                    format!(
                        "when: {}: the test is empty: write '-' (quoted) or leave the input out to match any value, 'null' to match a missing one",
                        key.value
                    ),
                ));
            };
            let spanned = Spanned { value: text.clone(), referenced: cell.referenced, defined: cell.defined };
            when[index] = parse_unary_tests_lenient(text)
                .map_err(|e| unary_error(source, &spanned, Some(&rule_id), &format!("when: {}", key.value), &e))?;
        }
        let mut then: Vec<Option<Value>> = vec![None; outputs.len()];
        for (key, value) in &rule.then.0 {
            let Some(index) = outputs.iter().position(|o| o.name == key.value.trim()) else {
                return Err(DefinitionError::new(
                    at(&key.referenced),
                    Some(&rule_id),
                    format!(
                        "then: `{}` is not an output of the table: expected one of {}",
                        key.value,
                        names(outputs.iter().map(|o| o.name.as_str()))
                    ),
                ));
            };
            then[index] = Some(canonical(value.value.clone()));
        }
        let mut values = Vec::with_capacity(outputs.len());
        for (output, value) in outputs.iter().zip(then) {
            match value {
                Some(value) => values.push(value),
                None => {
                    return Err(DefinitionError::new(
                        at(&raw_rule.referenced),
                        Some(&rule_id),
                        format!("then: output {} has no value (write `{}: null` for none)", output.name, output.name),
                    ));
                }
            }
        }
        rules.push(Rule {
            id: rule_id,
            when,
            then: values,
            description: rule.description.clone(),
            position: at(&raw_rule.referenced),
        });
    }

    Ok(DecisionTable { id, name: raw.name, hit_policy, inputs, outputs, rules })
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = names.collect();
    if list.is_empty() { "(none: the table has no such column)".to_owned() } else { list.join(", ") }
}
