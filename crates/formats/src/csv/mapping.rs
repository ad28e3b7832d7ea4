//! Loading a mapping file: TOML in, a checked [`CsvMapping`] out.

use std::fmt;
use std::ops::Range;

use backroom_model::EventType;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::dates::{Anchor, DateFormat};
use super::template::{DecimalExpr, Template, parse_decimal};

/// A problem in a mapping file: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct MappingError {
    /// The 1-based line of the mapping file where the problem is.
    pub line: usize,
    /// The 1-based column (in characters) on that line.
    pub column: usize,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl MappingError {
    fn at(text: &str, span: Range<usize>, message: String) -> Self {
        let start = span.start.min(text.len());
        let before = text.get(..start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Self { line, column, message }
    }
}

/// A problem found while checking the parsed TOML, with the span it concerns.
struct Located {
    span: Range<usize>,
    message: String,
}

fn located(span: Range<usize>, message: impl Into<String>) -> Located {
    Located { span, message: message.into() }
}

/// How a CSV file becomes events: see the [module documentation](super) for the file format.
///
/// Build one with [`CsvMapping::from_toml`], which checks everything that can be checked without
/// the CSV file: the event type, the time zone, every template, date format and decimal
/// expression.
#[derive(Clone, Debug)]
pub struct CsvMapping {
    /// The byte that separates fields (`delimiter`, default `,`).
    pub(crate) delimiter: u8,
    /// The zone in which local date-times (formats without an offset) are read (`time_zone`).
    pub(crate) time_zone: Option<Tz>,
    /// The type of every event (`type`).
    pub(crate) event_type: EventType,
    /// The template of each event's source (`source`).
    pub(crate) source: Template,
    /// The template of each event's id (`id`).
    pub(crate) id: Template,
    /// The column whose runs of equal values make one event each (`group_by`).
    pub(crate) group_by: Option<String>,
    /// Rows are mapped only when every one of these rules matches (`keep_when`).
    pub(crate) keep_when: Vec<Rule>,
    /// Rows are left out when any of these rules matches (`skip_when`).
    pub(crate) skip_when: Vec<Rule>,
    /// Where each event's `occurred_at` comes from (`occurred_at`).
    pub(crate) occurred_at: DateSource,
    /// The template of each event's `data` object (`[data]`).
    pub(crate) data: Vec<(String, Node)>,
    /// The line array built from every row of a group (`[lines]`).
    pub(crate) lines: Option<Lines>,
}

/// A date or date-time read from one column.
#[derive(Clone, Debug)]
pub(crate) struct DateSource {
    /// The column.
    pub(crate) column: String,
    /// The chrono format of its cells.
    pub(crate) format: DateFormat,
}

/// What a date table writes into the event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DateOutput {
    /// The calendar date in the mapping's time zone, `YYYY-MM-DD`.
    Date,
    /// The instant in RFC 3339, UTC.
    #[default]
    Datetime,
}

/// A compiled template value.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A text template.
    Text(Template),
    /// A number or boolean copied as is.
    Literal(serde_json::Value),
    /// An object whose values are templates.
    Object(Vec<(String, Node)>),
    /// An array whose elements are templates.
    Array(Vec<Node>),
    /// A date from a cell.
    Date {
        /// Where the date comes from.
        source: DateSource,
        /// How it is written into the event.
        output: DateOutput,
    },
    /// A decimal computed from cells.
    Decimal {
        /// The expression.
        expr: DecimalExpr,
        /// Whether the sign is dropped.
        abs: bool,
        /// Whether the sign is flipped (after `abs`).
        negate: bool,
    },
    /// A money amount summed over the rows of a group.
    Sum {
        /// The expression evaluated on each row.
        expr: DecimalExpr,
        /// The currency template.
        currency: Template,
        /// Whether each row's value loses its sign before summing.
        abs: bool,
        /// Whether each row's value is negated (after `abs`) before summing.
        negate: bool,
    },
}

/// The `[lines]` section, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Lines {
    /// Where the array goes inside `data` (`lines`, or `a.b` for a nested object).
    pub(crate) path: Vec<String>,
    /// The field that receives the 1-based line number.
    pub(crate) number: Option<String>,
    /// The template of one line.
    pub(crate) template: Vec<(String, Node)>,
}

/// A row filter.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    /// The column tested.
    pub(crate) column: String,
    /// The test on its (trimmed) cell.
    pub(crate) test: Test,
}

/// The test of a [`Rule`].
#[derive(Clone, Debug)]
pub(crate) enum Test {
    /// The cell equals the text.
    Equals(String),
    /// The cell starts with the text.
    StartsWith(String),
    /// The cell is empty (`true`) or not (`false`).
    Empty(bool),
    /// The cell is a decimal at most this value.
    AtMost(Decimal),
}

impl Rule {
    /// Describes the rule for messages, as it is written in the mapping.
    pub(crate) fn describe(&self) -> String {
        let c = &self.column;
        match &self.test {
            Test::Equals(v) => format!("{{ column = {c:?}, equals = {v:?} }}"),
            Test::StartsWith(v) => format!("{{ column = {c:?}, starts_with = {v:?} }}"),
            Test::Empty(v) => format!("{{ column = {c:?}, empty = {v} }}"),
            Test::AtMost(v) => format!("{{ column = {c:?}, at_most = \"{v}\" }}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The TOML as written.

/// The top level of a mapping file, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingToml {
    /// One ASCII character separating fields; `,` when absent.
    delimiter: Option<Spanned<String>>,
    /// IANA time zone for local date-times.
    time_zone: Option<Spanned<String>>,
    /// The event type's dotted name.
    #[serde(rename = "type")]
    event_type: Spanned<String>,
    /// Template of the event source.
    source: Spanned<String>,
    /// Template of the event id.
    id: Spanned<String>,
    /// Column grouping consecutive rows into one event.
    group_by: Option<Spanned<String>>,
    /// Rules keeping rows (all must match).
    keep_when: Option<Spanned<Raw>>,
    /// Rules skipping rows (any may match).
    skip_when: Option<Spanned<Raw>>,
    /// Where `occurred_at` comes from.
    occurred_at: Spanned<OccurredAtToml>,
    /// Template of `data`.
    data: Spanned<Raw>,
    /// The line array.
    lines: Option<LinesToml>,
}

/// `occurred_at = { column, format }`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OccurredAtToml {
    /// The column.
    column: Spanned<String>,
    /// The chrono format.
    format: Spanned<String>,
}

/// `[lines]`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinesToml {
    /// Dotted path of the array inside `data`.
    path: Spanned<String>,
    /// Field receiving the line number.
    number: Option<Spanned<String>>,
    /// The template of one line.
    template: Spanned<Raw>,
}

/// A date table `{ column, format, output }`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DateToml {
    /// The column.
    column: String,
    /// The chrono format.
    format: String,
    /// `date` or `datetime`.
    #[serde(default)]
    output: DateOutput,
}

/// A decimal table `{ decimal, abs, negate }`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecimalToml {
    /// The expression.
    decimal: String,
    /// Drop the sign.
    #[serde(default)]
    abs: bool,
    /// Flip the sign.
    #[serde(default)]
    negate: bool,
}

/// A sum table `{ sum, currency, abs, negate }`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SumToml {
    /// The expression evaluated on each row.
    sum: String,
    /// The currency template.
    currency: String,
    /// Drop each row's sign.
    #[serde(default)]
    abs: bool,
    /// Flip each row's sign.
    #[serde(default)]
    negate: bool,
}

/// A rule table `{ column, equals | starts_with | empty | at_most }`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    /// The column tested.
    column: String,
    /// Exact text.
    equals: Option<String>,
    /// Prefix.
    starts_with: Option<String>,
    /// Emptiness.
    empty: Option<bool>,
    /// Upper bound of a decimal cell, as a string or an integer.
    at_most: Option<toml::Value>,
}

/// Any TOML value, keeping the span of every nested value for error messages.
#[derive(Debug)]
enum Raw {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Table(Vec<(String, Spanned<Raw>)>),
    Array(Vec<Spanned<Raw>>),
}

/// The key under which the TOML deserializer hands over a date-time.
const TOML_DATETIME: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a TOML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
                Ok(Raw::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
                i64::try_from(v).map(Raw::Int).map_err(|_| E::custom("integer is too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
                Ok(Raw::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
                Ok(Raw::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
                    items.push(item);
                }
                Ok(Raw::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == TOML_DATETIME && entries.is_empty() {
                        return Ok(Raw::Datetime(map.next_value::<String>()?));
                    }
                    let value = map.next_value::<Spanned<Raw>>()?;
                    entries.push((key, value));
                }
                Ok(Raw::Table(entries))
            }
        }
        d.deserialize_any(RawVisitor)
    }
}

impl Raw {
    fn kind(&self) -> &'static str {
        match self {
            Raw::Str(_) => "a string",
            Raw::Int(_) => "an integer",
            Raw::Float(_) => "a float",
            Raw::Bool(_) => "a boolean",
            Raw::Datetime(_) => "a TOML date",
            Raw::Table(_) => "a table",
            Raw::Array(_) => "an array",
        }
    }

    fn to_toml(&self) -> toml::Value {
        match self {
            Raw::Str(s) => toml::Value::String(s.clone()),
            Raw::Int(i) => toml::Value::Integer(*i),
            Raw::Float(f) => toml::Value::Float(*f),
            Raw::Bool(b) => toml::Value::Boolean(*b),
            Raw::Datetime(s) => s.parse().map_or_else(|_| toml::Value::String(s.clone()), toml::Value::Datetime),
            Raw::Table(entries) => {
                toml::Value::Table(entries.iter().map(|(k, v)| (k.clone(), v.get_ref().to_toml())).collect())
            }
            Raw::Array(items) => toml::Value::Array(items.iter().map(|v| v.get_ref().to_toml()).collect()),
        }
    }
}

/// Deserialises a special table (`{ column, format }`, `{ decimal }`, …) from its raw form,
/// pointing errors at the offending entry when there is one.
fn typed<T: de::DeserializeOwned>(raw: &Spanned<Raw>, what: &str) -> Result<T, Located> {
    raw.get_ref().to_toml().try_into::<T>().map_err(|e| {
        let message = e.message().trim().to_owned();
        let span = match raw.get_ref() {
            Raw::Table(entries) => entries
                .iter()
                .find(|(k, _)| message.contains(&format!("`{k}`")))
                .map_or_else(|| raw.span(), |(_, v)| v.span()),
            _ => raw.span(),
        };
        located(span, format!("{what}: {message}"))
    })
}

// ---------------------------------------------------------------------------------------------
// Checking and compiling.

impl CsvMapping {
    /// Reads a mapping file and checks it: every key known, the event type one of the catalogue's,
    /// the time zone an IANA name, every template, date format and decimal expression well formed.
    ///
    /// The error names the line and column in the mapping file and what would be accepted.
    pub fn from_toml(text: &str) -> Result<Self, MappingError> {
        let raw: MappingToml = toml::from_str(text)
            .map_err(|e| MappingError::at(text, e.span().unwrap_or(0..0), e.message().trim().to_owned()))?;
        compile(raw).map_err(|l| MappingError::at(text, l.span, l.message))
    }

    /// The type of the events this mapping produces.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// Every column the mapping reads, in the order the mapping names them, each once.
    pub fn columns(&self) -> Vec<&str> {
        fn add<'a>(out: &mut Vec<&'a str>, c: &'a str) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        fn walk<'a>(out: &mut Vec<&'a str>, nodes: &'a [(String, Node)]) {
            nodes.iter().for_each(|(_, n)| walk_node(out, n));
        }
        fn walk_node<'a>(out: &mut Vec<&'a str>, n: &'a Node) {
            match n {
                Node::Text(t) => t.columns().for_each(|c| add(out, c)),
                Node::Literal(_) => {}
                Node::Object(entries) => walk(out, entries),
                Node::Array(items) => items.iter().for_each(|i| walk_node(out, i)),
                Node::Date { source, .. } => add(out, &source.column),
                Node::Decimal { expr, .. } => expr.factors.iter().flat_map(Template::columns).for_each(|c| add(out, c)),
                Node::Sum { expr, currency, .. } => {
                    expr.factors.iter().flat_map(Template::columns).for_each(|c| add(out, c));
                    currency.columns().for_each(|c| add(out, c));
                }
            }
        }
        let mut out = Vec::new();
        if let Some(g) = &self.group_by {
            add(&mut out, g);
        }
        for r in self.keep_when.iter().chain(&self.skip_when) {
            add(&mut out, &r.column);
        }
        add(&mut out, &self.occurred_at.column);
        self.id.columns().chain(self.source.columns()).for_each(|c| add(&mut out, c));
        walk(&mut out, &self.data);
        if let Some(lines) = &self.lines {
            walk(&mut out, &lines.template);
        }
        out
    }
}

/// Collects what the whole mapping needs to know while its parts are compiled.
#[derive(Default)]
struct Compiler {
    /// The first date format without an offset: it needs a time zone.
    local_format: Option<(Range<usize>, String)>,
}

fn compile(raw: MappingToml) -> Result<CsvMapping, Located> {
    let mut c = Compiler::default();

    let delimiter = match &raw.delimiter {
        None => b',',
        Some(d) => match d.get_ref().as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => *b,
            _ => {
                return Err(located(
                    d.span(),
                    format!(
                        "delimiter {:?} must be exactly one ASCII character other than a quote or a line break, \
                         such as \",\", \";\", \"|\" or \"\\t\"",
                        d.get_ref()
                    ),
                ));
            }
        },
    };

    let event_type = EventType::parse(raw.event_type.get_ref()).ok_or_else(|| {
        located(
            raw.event_type.span(),
            format!(
                "unknown event type {:?}; known types: {}",
                raw.event_type.get_ref(),
                EventType::ALL.map(EventType::as_str).join(", ")
            ),
        )
    })?;

    let time_zone = match &raw.time_zone {
        None => None,
        Some(tz) => Some(tz.get_ref().parse::<Tz>().map_err(|_| {
            located(
                tz.span(),
                format!(
                    "unknown time zone {:?}; use an IANA time zone name such as \"Europe/London\", \
                     \"America/New_York\" or \"UTC\"",
                    tz.get_ref()
                ),
            )
        })?),
    };

    let template = |s: &Spanned<String>, what: &str| {
        Template::parse(s.get_ref()).map_err(|e| located(s.span(), format!("{what}: {e}")))
    };
    let id = template(&raw.id, "id")?;
    let source = template(&raw.source, "source")?;

    let group_by = match &raw.group_by {
        Some(g) if g.get_ref().is_empty() => {
            return Err(located(g.span(), "group_by must name a column of the CSV file, such as \"InvoiceNo\""));
        }
        g => g.as_ref().map(|g| g.get_ref().clone()),
    };
    let keep_when = raw.keep_when.as_ref().map(|r| rules(r, "keep_when")).transpose()?.unwrap_or_default();
    let skip_when = raw.skip_when.as_ref().map(|r| rules(r, "skip_when")).transpose()?.unwrap_or_default();

    let occurred = raw.occurred_at.get_ref();
    let occurred_at = DateSource {
        column: non_empty_column(&occurred.column, "occurred_at")?,
        format: c.date_format(&occurred.format)?,
    };

    let data = match raw.data.get_ref() {
        Raw::Table(entries) => c.object(entries, "data", true)?,
        other => return Err(located(raw.data.span(), format!("data must be a table, found {}", other.kind()))),
    };

    let lines = match &raw.lines {
        None => None,
        Some(l) => {
            let path: Vec<String> = l.path.get_ref().split('.').map(str::to_owned).collect();
            if path.iter().any(|s| s.trim().is_empty()) {
                return Err(located(
                    l.path.span(),
                    format!(
                        "lines.path {:?} must be a field name such as \"lines\", or a dotted path such as \
                         \"order.lines\"",
                        l.path.get_ref()
                    ),
                ));
            }
            check_lines_path(&data, &path).map_err(|m| located(l.path.span(), m))?;
            let template = match l.template.get_ref() {
                Raw::Table(entries) => c.object(entries, "lines.template", false)?,
                other => {
                    return Err(located(
                        l.template.span(),
                        format!("lines.template must be a table, found {}", other.kind()),
                    ));
                }
            };
            let number = match &l.number {
                None => None,
                Some(n) if n.get_ref().is_empty() => {
                    return Err(located(n.span(), "lines.number must be a field name such as \"line\""));
                }
                Some(n) if template.iter().any(|(k, _)| k == n.get_ref()) => {
                    return Err(located(
                        n.span(),
                        format!(
                            "lines.number {:?} is also a key of lines.template; the line number would overwrite it",
                            n.get_ref()
                        ),
                    ));
                }
                Some(n) => Some(n.get_ref().clone()),
            };
            Some(Lines { path, number, template })
        }
    };

    if time_zone.is_none()
        && let Some((span, format)) = c.local_format
    {
        return Err(located(
            span,
            format!(
                "the date format {format:?} has no UTC offset (%z), so its times are local: add time_zone = \
                 \"<IANA name>\" to the mapping, such as time_zone = \"Europe/London\""
            ),
        ));
    }

    Ok(CsvMapping {
        delimiter,
        time_zone,
        event_type,
        source,
        id,
        group_by,
        keep_when,
        skip_when,
        occurred_at,
        data,
        lines,
    })
}

fn non_empty_column(s: &Spanned<String>, what: &str) -> Result<String, Located> {
    if s.get_ref().is_empty() {
        Err(located(s.span(), format!("{what}: the column name is empty; name a column of the CSV file")))
    } else {
        Ok(s.get_ref().clone())
    }
}

/// Checks that the line array can be placed at `path` inside the data template.
fn check_lines_path(data: &[(String, Node)], path: &[String]) -> Result<(), String> {
    let mut level = data;
    for (i, segment) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match level.iter().find(|(k, _)| k == segment) {
            None => return Ok(()),
            Some(_) if last => {
                return Err(format!(
                    "data.{} is set in [data] and would also receive the lines; remove one of them",
                    path.join(".")
                ));
            }
            Some((_, Node::Object(entries))) => level = entries,
            Some(_) => {
                return Err(format!(
                    "data.{} is not a table in [data], so the lines cannot go inside it",
                    path.get(..=i).unwrap_or(path).join(".")
                ));
            }
        }
    }
    Ok(())
}

fn rules(raw: &Spanned<Raw>, what: &str) -> Result<Vec<Rule>, Located> {
    match raw.get_ref() {
        Raw::Table(_) => Ok(vec![rule(raw, what)?]),
        Raw::Array(items) => items.iter().map(|r| rule(r, what)).collect(),
        other => Err(located(
            raw.span(),
            format!(
                "{what} must be a rule such as {{ column = \"InvoiceNo\", starts_with = \"C\" }} or a list of \
                 rules, found {}",
                other.kind()
            ),
        )),
    }
}

fn rule(raw: &Spanned<Raw>, what: &str) -> Result<Rule, Located> {
    if !matches!(raw.get_ref(), Raw::Table(_)) {
        return Err(located(
            raw.span(),
            format!(
                "{what}: each rule is a table such as {{ column = \"InvoiceNo\", starts_with = \"C\" }}, found {}",
                raw.get_ref().kind()
            ),
        ));
    }
    let r: RuleToml = typed(raw, what)?;
    let one_of = "give exactly one of equals = \"…\", starts_with = \"…\", empty = true|false or at_most = \"…\"";
    let mut tests = Vec::new();
    if let Some(v) = r.equals {
        tests.push(Test::Equals(v));
    }
    if let Some(v) = r.starts_with {
        tests.push(Test::StartsWith(v));
    }
    if let Some(v) = r.empty {
        tests.push(Test::Empty(v));
    }
    if let Some(v) = r.at_most {
        let bound = match &v {
            toml::Value::Integer(i) => Ok(Decimal::from(*i)),
            toml::Value::String(s) => parse_decimal(s).map_err(|e| format!("at_most {s:?}: {e}")),
            other => Err(format!("at_most must be a decimal written as a string such as \"0\", found {}", other)),
        };
        tests.push(Test::AtMost(bound.map_err(|m| located(raw.span(), format!("{what}: {m}")))?));
    }
    if r.column.is_empty() {
        return Err(located(raw.span(), format!("{what}: the column name is empty; name a column of the CSV file")));
    }
    match tests.len() {
        1 => Ok(Rule { column: r.column, test: tests.remove(0) }),
        0 => Err(located(raw.span(), format!("{what}: the rule tests nothing; {one_of}"))),
        _ => Err(located(raw.span(), format!("{what}: the rule has more than one test; {one_of}"))),
    }
}

impl Compiler {
    fn date_format(&mut self, format: &Spanned<String>) -> Result<DateFormat, Located> {
        let f = DateFormat::parse(format.get_ref()).map_err(|m| located(format.span(), m))?;
        if f.anchor == Anchor::Local && self.local_format.is_none() {
            self.local_format = Some((format.span(), f.format.clone()));
        }
        Ok(f)
    }

    fn object(
        &mut self,
        entries: &[(String, Spanned<Raw>)],
        path: &str,
        in_data: bool,
    ) -> Result<Vec<(String, Node)>, Located> {
        entries.iter().map(|(k, v)| Ok((k.clone(), self.node(v, &format!("{path}.{k}"), in_data)?))).collect()
    }

    fn node(&mut self, raw: &Spanned<Raw>, path: &str, in_data: bool) -> Result<Node, Located> {
        let span = raw.span();
        match raw.get_ref() {
            Raw::Str(s) => Template::parse(s).map(Node::Text).map_err(|e| located(span, format!("{path}: {e}"))),
            Raw::Int(i) => Ok(Node::Literal(serde_json::Value::from(*i))),
            Raw::Float(f) => serde_json::Number::from_f64(*f)
                .map(|n| Node::Literal(serde_json::Value::Number(n)))
                .ok_or_else(|| located(span, format!("{path}: {f} is not a finite number"))),
            Raw::Bool(b) => Ok(Node::Literal(serde_json::Value::Bool(*b))),
            Raw::Datetime(d) => Err(located(
                span,
                format!("{path}: TOML dates are not accepted in templates; write the value as a string, \"{d}\""),
            )),
            Raw::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.node(item, &format!("{path}[{i}]"), in_data))
                .collect::<Result<_, _>>()
                .map(Node::Array),
            Raw::Table(entries) => {
                let special: Vec<&str> = entries
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .filter(|k| matches!(*k, "column" | "decimal" | "sum"))
                    .collect();
                match special.as_slice() {
                    [] => self.object(entries, path, in_data).map(Node::Object),
                    ["column"] => {
                        let d: DateToml = typed(raw, &format!("{path} (a date: {{ column, format, output }})"))?;
                        if d.column.is_empty() {
                            return Err(located(span, format!("{path}: the column name is empty")));
                        }
                        let format_span =
                            entries.iter().find(|(k, _)| k == "format").map_or_else(|| span.clone(), |(_, v)| v.span());
                        let format = self.date_format(&Spanned::new(format_span, d.format))?;
                        Ok(Node::Date { source: DateSource { column: d.column, format }, output: d.output })
                    }
                    ["decimal"] => {
                        let d: DecimalToml = typed(raw, &format!("{path} (a decimal: {{ decimal, abs, negate }})"))?;
                        let expr = DecimalExpr::parse(&d.decimal).map_err(|e| located(span, format!("{path}: {e}")))?;
                        Ok(Node::Decimal { expr, abs: d.abs, negate: d.negate })
                    }
                    ["sum"] if !in_data => Err(located(
                        span,
                        format!(
                            "{path}: a sum adds up every row of a group, so it belongs in [data], not in \
                             [lines.template]; a line uses {{ decimal = \"…\" }}"
                        ),
                    )),
                    ["sum"] => {
                        let s: SumToml = typed(raw, &format!("{path} (a sum: {{ sum, currency, abs, negate }})"))?;
                        let expr =
                            DecimalExpr::parse(&s.sum).map_err(|e| located(span.clone(), format!("{path}: {e}")))?;
                        let currency =
                            Template::parse(&s.currency).map_err(|e| located(span, format!("{path}.currency: {e}")))?;
                        Ok(Node::Sum { expr, currency, abs: s.abs, negate: s.negate })
                    }
                    _ => Err(located(
                        span,
                        format!(
                            "{path}: a table can be a date ({{ column = … }}), a decimal ({{ decimal = … }}) or a \
                             sum ({{ sum = … }}), not several; it has the keys {}",
                            special.join(", ")
                        ),
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
type = "pos.sale"
source = "test"
id = "{No}"
time_zone = "Europe/London"
occurred_at = { column = "When", format = "%Y-%m-%d %H:%M:%S" }
"#;

    fn err(text: &str) -> MappingError {
        CsvMapping::from_toml(text).unwrap_err()
    }

    #[test]
    fn a_minimal_mapping_loads() {
        let m = CsvMapping::from_toml(&format!("{BASE}[data]\nx = \"{{No}}\"\n")).unwrap();
        assert_eq!(m.event_type(), EventType::PosSale);
        assert_eq!(m.delimiter, b',');
        assert_eq!(m.columns(), vec!["When", "No"]);
    }

    #[test]
    fn unknown_event_type_is_named_with_the_known_ones() {
        let e = err(&format!("{}[data]\n", BASE.replace("pos.sale", "pos.sales")));
        assert_eq!((e.line, e.column), (2, 8), "{e}");
        assert!(e.message.contains("unknown event type \"pos.sales\""), "{e}");
        assert!(e.message.contains("pos.sale, pos.return"), "{e}");
    }

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        let e = err(&format!("{BASE}colour = 1\n[data]\n"));
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("unknown field `colour`"), "{e}");

        let e = err(&format!("{BASE}[data]\nday = {{ column = \"When\", fromat = \"%Y\" }}\n"));
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("data.day") && e.message.contains("unknown field `fromat`"), "{e}");

        let e = err(&format!("{BASE}skip_when = {{ column = \"No\", start_with = \"C\" }}\n[data]\n"));
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("unknown field `start_with`"), "{e}");

        let e = err(&format!("{BASE}[data]\n[lines]\npath = \"lines\"\nnumbr = \"line\"\n[lines.template]\n"));
        assert!(e.message.contains("unknown field `numbr`"), "{e}");
    }

    #[test]
    fn a_local_date_format_needs_a_time_zone() {
        let text = format!("{}[data]\n", BASE.replace("time_zone = \"Europe/London\"\n", ""));
        let e = err(&text);
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("time_zone"), "{e}");
        let with_offset = text.replace("%H:%M:%S", "%H:%M:%S%:z");
        assert!(CsvMapping::from_toml(&with_offset).is_ok());
        let e = err(&format!("{}[data]\n", BASE.replace("Europe/London", "Europe/Londn")));
        assert!(e.message.contains("IANA"), "{e}");
    }

    #[test]
    fn rules_need_exactly_one_test() {
        let m = CsvMapping::from_toml(&format!(
            "{BASE}keep_when = {{ column = \"No\", starts_with = \"C\" }}\nskip_when = [{{ column = \"Qty\", \
             at_most = 0 }}, {{ column = \"Qty\", at_most = \"-1.5\" }}, {{ column = \"C\", empty = true }}]\n[data]\n"
        ))
        .unwrap();
        assert_eq!(m.keep_when.len(), 1);
        assert_eq!(m.skip_when.len(), 3);
        let e = err(&format!("{BASE}skip_when = {{ column = \"No\" }}\n[data]\n"));
        assert!(e.message.contains("tests nothing"), "{e}");
        let e = err(&format!("{BASE}skip_when = {{ column = \"No\", equals = \"a\", empty = true }}\n[data]\n"));
        assert!(e.message.contains("more than one test"), "{e}");
        let e = err(&format!("{BASE}skip_when = {{ column = \"No\", at_most = \"1,5\" }}\n[data]\n"));
        assert!(e.message.contains("plain decimal"), "{e}");
        let e = err(&format!("{BASE}skip_when = \"No\"\n[data]\n"));
        assert!(e.message.contains("must be a rule"), "{e}");
    }

    #[test]
    fn templates_are_checked_where_they_are_written() {
        let e = err(&format!("{BASE}[data]\na = 1\nb = {{ c = \"{{Open\" }}\n"));
        assert_eq!((e.line, e.column), (9, 11), "{e}");
        assert!(e.message.contains("data.b.c") && e.message.contains("not closed"), "{e}");
        let e = err(&format!("{BASE}[data]\nx = {{ decimal = \"{{a}} * {{b}} * {{c}}\" }}\n"));
        assert!(e.message.contains("more than two"), "{e}");
        let e = err(&format!("{BASE}[data]\nx = {{ decimal = \"{{a}}\", sum = \"{{b}}\" }}\n"));
        assert!(e.message.contains("not several"), "{e}");
        let e = err(&format!("{BASE}[data]\nx = 1979-05-27\n"));
        assert!(e.message.contains("TOML dates"), "{e}");
        let e = err(&format!("{BASE}[data]\nx = {{ column = \"When\", format = \"%Y\", output = \"time\" }}\n"));
        assert!(e.message.contains("unknown variant `time`"), "{e}");
    }

    #[test]
    fn lines_are_checked() {
        let lines = "[lines]\npath = \"lines\"\nnumber = \"line\"\n[lines.template]\n";
        let ok = CsvMapping::from_toml(&format!("{BASE}[data]\n{lines}sku = \"{{Sku}}\"\n")).unwrap();
        let l = ok.lines.unwrap();
        assert_eq!((l.path, l.number), (vec!["lines".to_owned()], Some("line".to_owned())));

        let e = err(&format!("{BASE}[data]\n{lines}t = {{ sum = \"{{a}}\", currency = \"GBP\" }}\n"));
        assert!(e.message.contains("belongs in [data]"), "{e}");
        let e = err(&format!("{BASE}[data]\nlines = []\n{lines}"));
        assert!(e.message.contains("data.lines is set in [data]"), "{e}");
        let e = err(&format!("{BASE}[data]\n{lines}line = \"{{No}}\"\n"));
        assert!(e.message.contains("overwrite"), "{e}");
        let e = err(&format!("{BASE}[data]\n[lines]\npath = \"a..b\"\n[lines.template]\n"));
        assert!(e.message.contains("dotted path"), "{e}");
    }

    #[test]
    fn delimiters_are_one_ascii_character() {
        assert_eq!(CsvMapping::from_toml(&format!("delimiter = \"\\t\"\n{BASE}[data]\n")).unwrap().delimiter, b'\t');
        let e = err(&format!("delimiter = \";;\"\n{BASE}[data]\n"));
        assert_eq!(e.line, 1);
        assert!(e.message.contains("exactly one ASCII character"), "{e}");
    }

    #[test]
    fn toml_syntax_errors_have_a_position() {
        let e = err("type = \"pos.sale\"\nsource = \n");
        assert_eq!(e.line, 2, "{e}");
        let e = err(BASE);
        assert!(e.message.contains("missing field `data`"), "{e}");
    }
}
