//! Static checks of a decision table: shape, allowed values, rules that never match, and rules
//! that overlap where the hit policy forbids it, with a witness input that both match.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::ops::Bound;

use rust_decimal::Decimal;
use serde_json::Value;

use super::error::Position;
use super::table::{Aggregation, DecisionTable, HitPolicy};
use super::unary::{Literal, Op, UnaryTest};
use super::value::{as_decimal, decimal_to_json, same_value};

/// What kind of problem [`DecisionTable::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The table's shape is wrong: a rule's number of tests or outputs differs from the table's,
    /// ids or names are empty or repeated, or an aggregation has other than one output.
    Shape,
    /// A value in a rule (or an output default) is not among the column's allowed values.
    NotAllowed,
    /// `PRIORITY` without allowed output values to rank by.
    NoPriorities,
    /// `SUM`, `MIN` or `MAX` over an output value that is not a number.
    NotANumber,
    /// A rule can never match: one of its tests matches no (allowed) value.
    NeverMatches,
    /// Two rules match the same input where the hit policy forbids it (`UNIQUE`; `ANY` when their
    /// outputs differ).
    Overlap,
}

/// One problem in a decision table, naming the rules it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// The ids of the rules involved, in table order (empty when it is about the table or a column).
    pub rules: Vec<String>,
    /// Where the first rule involved is defined, when known.
    pub position: Option<Position>,
    /// What is wrong, e.g. `rules r2 and r5 overlap: both match refund_amount = 200, channel = "store"`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(position) = self.position {
            write!(f, "{position}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl DecisionTable {
    /// Checks the table and returns every problem found (none for a good table):
    /// - shape: rule width ≠ number of inputs/outputs, empty or repeated ids and names, an
    ///   aggregation over other than one output, no outputs;
    /// - values: output values (and defaults) not among the output's allowed values, literals in
    ///   tests not among the input's allowed values, `PRIORITY` without allowed output values,
    ///   non-numeric outputs under `SUM`/`MIN`/`MAX`;
    /// - rules whose tests match no (allowed) value;
    /// - under `UNIQUE`, every pair of rules that can match the same input (under `ANY`, those
    ///   pairs whose outputs differ), with an input they both match.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check_shape(&mut problems);
        let misshapen =
            self.rules.iter().any(|r| r.when.len() != self.inputs.len() || r.then.len() != self.outputs.len());
        if misshapen {
            // Rules of the wrong width cannot be compared column by column.
            return problems;
        }
        self.check_values(&mut problems);
        let domains: Vec<ValueSet> = self
            .inputs
            .iter()
            .map(|input| match &input.allowed {
                Some(allowed) => {
                    let mut set = sets(allowed).0;
                    set.null = true;
                    set
                }
                None => ValueSet::all(),
            })
            .collect();
        // The set of values each rule's test accepts, per column (None for `-`: everything).
        let accepted: Vec<Vec<Option<ValueSet>>> = self
            .rules
            .iter()
            .map(|rule| {
                rule.when
                    .iter()
                    .zip(&domains)
                    .map(|(test, domain)| match test {
                        UnaryTest::Any => None,
                        test => Some(sets(test).0.intersect(domain)),
                    })
                    .collect()
            })
            .collect();
        let mut never = vec![false; self.rules.len()];
        for (r, rule) in self.rules.iter().enumerate() {
            for ((set, input), test) in accepted[r].iter().zip(&self.inputs).zip(&rule.when) {
                if set.as_ref().is_some_and(ValueSet::is_empty) {
                    never[r] = true;
                    problems.push(Problem {
                        kind: ProblemKind::NeverMatches,
                        rules: vec![rule.id.clone()],
                        position: rule.position,
                        message: format!(
                            "rule {} never matches: its test `{test}` on {} matches no {}value",
                            rule.id,
                            input.name,
                            if input.allowed.is_some() { "allowed " } else { "" }
                        ),
                    });
                    break;
                }
            }
        }
        let overlap_forbidden = matches!(self.hit_policy, HitPolicy::Unique | HitPolicy::Any);
        if overlap_forbidden {
            for i in 0..self.rules.len() {
                for j in i + 1..self.rules.len() {
                    if never[i] || never[j] {
                        continue;
                    }
                    let (a, b) = (&self.rules[i], &self.rules[j]);
                    if self.hit_policy == HitPolicy::Any && a.then.iter().zip(&b.then).all(|(x, y)| same_value(x, y)) {
                        continue;
                    }
                    if let Some(witness) = self.overlap(&accepted[i], &accepted[j]) {
                        let both = if witness.is_empty() {
                            "both match every input".to_owned()
                        } else {
                            format!("both match {}", witness.join(", "))
                        };
                        let why =
                            if self.hit_policy == HitPolicy::Any { " with different outputs under ANY" } else { "" };
                        problems.push(Problem {
                            kind: ProblemKind::Overlap,
                            rules: vec![a.id.clone(), b.id.clone()],
                            position: a.position,
                            message: format!("rules {} and {} overlap{why}: {both}", a.id, b.id),
                        });
                    }
                }
            }
        }
        problems
    }

    /// If two rules can match one input, the assignments (`name = value`) of a witness for the
    /// columns that either rule constrains.
    fn overlap(&self, a: &[Option<ValueSet>], b: &[Option<ValueSet>]) -> Option<Vec<String>> {
        let mut witness = Vec::new();
        for ((x, y), input) in a.iter().zip(b).zip(&self.inputs) {
            let common = match (x, y) {
                (None, None) => continue,
                (Some(s), None) | (None, Some(s)) => s.witness()?,
                (Some(s), Some(t)) => s.intersect(t).witness()?,
            };
            witness.push(format!("{} = {}", input.name, common));
        }
        Some(witness)
    }

    fn check_shape(&self, problems: &mut Vec<Problem>) {
        let table = |message: String| Problem { kind: ProblemKind::Shape, rules: Vec::new(), position: None, message };
        if self.id.trim().is_empty() {
            problems.push(table("the table has an empty id".to_owned()));
        }
        if self.outputs.is_empty() {
            problems.push(table("the table has no outputs".to_owned()));
        }
        let mut seen = HashSet::new();
        for input in &self.inputs {
            if input.name.trim().is_empty() {
                problems.push(table("an input has an empty name".to_owned()));
            } else if !seen.insert(input.name.as_str()) {
                problems.push(table(format!("input {} appears twice", input.name)));
            }
        }
        let mut seen = HashSet::new();
        for output in &self.outputs {
            if output.name.trim().is_empty() {
                problems.push(table("an output has an empty name".to_owned()));
            } else if !seen.insert(output.name.as_str()) {
                problems.push(table(format!("output {} appears twice", output.name)));
            }
        }
        if let HitPolicy::Collect(Some(a)) = self.hit_policy
            && self.outputs.len() != 1
        {
            problems.push(table(format!(
                "COLLECT {a} aggregates exactly one output, and the table has {}",
                self.outputs.len()
            )));
        }
        let mut seen = HashSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let problem = |message: String| Problem {
                kind: ProblemKind::Shape,
                rules: vec![rule.id.clone()],
                position: rule.position,
                message,
            };
            if rule.id.trim().is_empty() {
                problems.push(problem(format!("rule {} has an empty id", index + 1)));
            } else if !seen.insert(rule.id.as_str()) {
                problems.push(problem(format!("rule id {} is used by more than one rule", rule.id)));
            }
            if rule.when.len() != self.inputs.len() {
                problems.push(problem(format!(
                    "rule {} has {} tests, but the table has {} inputs",
                    rule.id,
                    rule.when.len(),
                    self.inputs.len()
                )));
            }
            if rule.then.len() != self.outputs.len() {
                problems.push(problem(format!(
                    "rule {} has {} output values, but the table has {} outputs",
                    rule.id,
                    rule.then.len(),
                    self.outputs.len()
                )));
            }
        }
    }

    fn check_values(&self, problems: &mut Vec<Problem>) {
        if self.hit_policy == HitPolicy::Priority && self.outputs.iter().all(|o| o.allowed.is_none()) {
            problems.push(Problem {
                kind: ProblemKind::NoPriorities,
                rules: Vec::new(),
                position: None,
                message: "the hit policy PRIORITY ranks rules by the outputs' allowed values, and no output has any"
                    .to_owned(),
            });
        }
        for output in &self.outputs {
            if let (Some(allowed), Some(default)) = (&output.allowed, &output.default)
                && !allowed.iter().any(|a| same_value(a, default))
            {
                problems.push(Problem {
                    kind: ProblemKind::NotAllowed,
                    rules: Vec::new(),
                    position: None,
                    message: format!(
                        "the default of output {} is {default}, which is not among its allowed values {}",
                        output.name,
                        list(allowed)
                    ),
                });
            }
        }
        let aggregation = match self.hit_policy {
            HitPolicy::Collect(Some(a)) if a != Aggregation::Count => Some(a),
            _ => None,
        };
        for rule in &self.rules {
            let problem = |kind, message: String| Problem {
                kind,
                rules: vec![rule.id.clone()],
                position: rule.position,
                message,
            };
            for (output, value) in self.outputs.iter().zip(&rule.then) {
                if let Some(allowed) = &output.allowed
                    && !allowed.iter().any(|a| same_value(a, value))
                {
                    problems.push(problem(
                        ProblemKind::NotAllowed,
                        format!(
                            "rule {} gives {} = {value}, which is not among its allowed values {}",
                            rule.id,
                            output.name,
                            list(allowed)
                        ),
                    ));
                }
                if let Some(a) = aggregation
                    && as_decimal(value).is_none()
                {
                    problems.push(problem(
                        ProblemKind::NotANumber,
                        format!(
                            "rule {} gives {} = {value}, which is not a number, but {a} needs numbers",
                            rule.id, output.name
                        ),
                    ));
                }
            }
            for (input, test) in self.inputs.iter().zip(&rule.when) {
                let Some(allowed) = &input.allowed else { continue };
                for literal in test.equality_literals() {
                    if *literal != Literal::Null && !allowed.matches(&literal.to_json()) {
                        problems.push(problem(
                            ProblemKind::NotAllowed,
                            format!(
                                "rule {} tests {} for {literal}, which is not among its allowed values {allowed}",
                                rule.id, input.name
                            ),
                        ));
                    }
                }
            }
        }
    }
}

fn list(values: &[Value]) -> String {
    values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
}

/// An interval of an ordered domain.
#[derive(Debug, Clone)]
struct Interval<T> {
    low: Bound<T>,
    high: Bound<T>,
}

impl<T: Ord + Clone> Interval<T> {
    fn full() -> Self {
        Interval { low: Bound::Unbounded, high: Bound::Unbounded }
    }

    fn point(value: T) -> Self {
        Interval { low: Bound::Included(value.clone()), high: Bound::Included(value) }
    }

    fn contains(&self, value: &T) -> bool {
        let above = match &self.low {
            Bound::Unbounded => true,
            Bound::Included(l) => value >= l,
            Bound::Excluded(l) => value > l,
        };
        let below = match &self.high {
            Bound::Unbounded => true,
            Bound::Included(h) => value <= h,
            Bound::Excluded(h) => value < h,
        };
        above && below
    }

    fn intersect(&self, other: &Self) -> Self {
        let low = match (&self.low, &other.low) {
            (Bound::Unbounded, b) | (b, Bound::Unbounded) => b.clone(),
            (Bound::Included(x), Bound::Included(y)) => Bound::Included(x.max(y).clone()),
            (Bound::Excluded(x), Bound::Excluded(y)) => Bound::Excluded(x.max(y).clone()),
            (Bound::Included(i), Bound::Excluded(e)) | (Bound::Excluded(e), Bound::Included(i)) => {
                if i > e {
                    Bound::Included(i.clone())
                } else {
                    Bound::Excluded(e.clone())
                }
            }
        };
        let high = match (&self.high, &other.high) {
            (Bound::Unbounded, b) | (b, Bound::Unbounded) => b.clone(),
            (Bound::Included(x), Bound::Included(y)) => Bound::Included(x.min(y).clone()),
            (Bound::Excluded(x), Bound::Excluded(y)) => Bound::Excluded(x.min(y).clone()),
            (Bound::Included(i), Bound::Excluded(e)) | (Bound::Excluded(e), Bound::Included(i)) => {
                if i < e {
                    Bound::Included(i.clone())
                } else {
                    Bound::Excluded(e.clone())
                }
            }
        };
        Interval { low, high }
    }

    /// The intervals of values outside this one.
    fn complement(&self) -> Vec<Self> {
        let mut out = Vec::new();
        match &self.low {
            Bound::Unbounded => {}
            Bound::Included(l) => out.push(Interval { low: Bound::Unbounded, high: Bound::Excluded(l.clone()) }),
            Bound::Excluded(l) => out.push(Interval { low: Bound::Unbounded, high: Bound::Included(l.clone()) }),
        }
        match &self.high {
            Bound::Unbounded => {}
            Bound::Included(h) => out.push(Interval { low: Bound::Excluded(h.clone()), high: Bound::Unbounded }),
            Bound::Excluded(h) => out.push(Interval { low: Bound::Included(h.clone()), high: Bound::Unbounded }),
        }
        out
    }
}

/// A domain whose intervals can name a member, or prove they have none.
trait Witness: Ord + Clone {
    fn candidates(interval: &Interval<Self>) -> Vec<Self>;

    fn witness(interval: &Interval<Self>) -> Option<Self> {
        Self::candidates(interval).into_iter().find(|c| interval.contains(c))
    }
}

impl Witness for Decimal {
    fn candidates(interval: &Interval<Self>) -> Vec<Self> {
        let mut out = Vec::new();
        let low = match &interval.low {
            Bound::Included(l) | Bound::Excluded(l) => Some(*l),
            Bound::Unbounded => None,
        };
        let high = match &interval.high {
            Bound::Included(h) | Bound::Excluded(h) => Some(*h),
            Bound::Unbounded => None,
        };
        if let Bound::Included(l) = &interval.low {
            out.push(*l);
        }
        if let Some(l) = low {
            out.extend(l.floor().checked_add(Decimal::ONE));
        }
        if let Bound::Included(h) = &interval.high {
            out.push(*h);
        }
        if let Some(h) = high {
            out.extend(h.ceil().checked_sub(Decimal::ONE));
        }
        match (low, high) {
            (Some(l), Some(h)) => {
                out.extend(l.checked_add(h).and_then(|s| s.checked_div(Decimal::TWO)));
                out.extend(
                    h.checked_sub(l).and_then(|d| d.checked_div(Decimal::TWO)).and_then(|half| l.checked_add(half)),
                );
            }
            (None, None) => out.push(Decimal::ZERO),
            _ => {}
        }
        out
    }
}

impl Witness for String {
    fn candidates(interval: &Interval<Self>) -> Vec<Self> {
        let mut out = Vec::new();
        match &interval.low {
            Bound::Included(l) => out.push(l.clone()),
            Bound::Excluded(l) => {
                out.push(format!("{l}_"));
                out.push(format!("{l}\u{0}"));
            }
            Bound::Unbounded => out.push(String::new()),
        }
        if let Bound::Included(h) = &interval.high {
            out.push(h.clone());
        }
        out
    }
}

fn any_witness<T: Witness>(intervals: &[Interval<T>]) -> Option<T> {
    intervals.iter().find_map(T::witness)
}

/// Orders lower bounds: unbounded first, and `[x` before `(x`.
fn cmp_low<T: Ord>(a: &Bound<T>, b: &Bound<T>) -> Ordering {
    match (a, b) {
        (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
        (Bound::Unbounded, _) => Ordering::Less,
        (_, Bound::Unbounded) => Ordering::Greater,
        (Bound::Included(x), Bound::Included(y)) | (Bound::Excluded(x), Bound::Excluded(y)) => x.cmp(y),
        (Bound::Included(x), Bound::Excluded(y)) => x.cmp(y).then(Ordering::Less),
        (Bound::Excluded(x), Bound::Included(y)) => x.cmp(y).then(Ordering::Greater),
    }
}

/// Orders upper bounds: unbounded last, and `x)` before `x]`.
fn cmp_high<T: Ord>(a: &Bound<T>, b: &Bound<T>) -> Ordering {
    match (a, b) {
        (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
        (Bound::Unbounded, _) => Ordering::Greater,
        (_, Bound::Unbounded) => Ordering::Less,
        (Bound::Included(x), Bound::Included(y)) | (Bound::Excluded(x), Bound::Excluded(y)) => x.cmp(y),
        (Bound::Included(x), Bound::Excluded(y)) => x.cmp(y).then(Ordering::Greater),
        (Bound::Excluded(x), Bound::Included(y)) => x.cmp(y).then(Ordering::Less),
    }
}

/// Whether an interval starting at `low` (not before the previous one) joins one ending at `high`
/// without a gap, so that the two can be merged.
fn joins<T: Ord>(high: &Bound<T>, low: &Bound<T>) -> bool {
    match (high, low) {
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => true,
        (Bound::Excluded(h), Bound::Excluded(l)) => l < h,
        (Bound::Included(h) | Bound::Excluded(h), Bound::Included(l) | Bound::Excluded(l)) => l <= h,
    }
}

/// Sorts intervals, drops empty ones and merges those that join: the form the other operations
/// expect (sorted, disjoint).
fn normalize<T: Witness>(mut intervals: Vec<Interval<T>>) -> Vec<Interval<T>> {
    intervals.retain(|i| T::witness(i).is_some());
    intervals.sort_by(|a, b| cmp_low(&a.low, &b.low));
    let mut out: Vec<Interval<T>> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        if let Some(last) = out.last_mut()
            && joins(&last.high, &interval.low)
        {
            if cmp_high(&interval.high, &last.high) == Ordering::Greater {
                last.high = interval.high;
            }
            continue;
        }
        out.push(interval);
    }
    out
}

/// The intersection of two normalized lists, in one sweep.
fn intersect_all<T: Witness>(a: &[Interval<T>], b: &[Interval<T>]) -> Vec<Interval<T>> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let common = x.intersect(y);
        if T::witness(&common).is_some() {
            out.push(common);
        }
        match cmp_high(&x.high, &y.high) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The gaps of a normalized list: everything outside it.
fn complement_all<T: Witness>(intervals: &[Interval<T>]) -> Vec<Interval<T>> {
    let after = |bound: &Bound<T>| match bound {
        Bound::Unbounded => None,
        Bound::Included(x) => Some(Bound::Excluded(x.clone())),
        Bound::Excluded(x) => Some(Bound::Included(x.clone())),
    };
    let mut out = Vec::new();
    let mut low = Some(Bound::Unbounded);
    for interval in intervals {
        let Some(gap_low) = low.take() else { break };
        if let Some(gap_high) = after(&interval.low) {
            let gap = Interval { low: gap_low, high: gap_high };
            if T::witness(&gap).is_some() {
                out.push(gap);
            }
        }
        low = after(&interval.high);
    }
    if let Some(gap_low) = low {
        let gap = Interval { low: gap_low, high: Bound::Unbounded };
        if T::witness(&gap).is_some() {
            out.push(gap);
        }
    }
    out
}

/// Which kinds of values a test gives true or false for (rather than "cannot compare").
#[derive(Debug, Clone, Copy)]
struct Kinds {
    null: bool,
    bools: bool,
    numbers: bool,
    strings: bool,
}

impl Kinds {
    const ALL: Kinds = Kinds { null: true, bools: true, numbers: true, strings: true };
    const NONE: Kinds = Kinds { null: false, bools: false, numbers: false, strings: false };

    fn and(self, other: Kinds) -> Kinds {
        Kinds {
            null: self.null && other.null,
            bools: self.bools && other.bools,
            numbers: self.numbers && other.numbers,
            strings: self.strings && other.strings,
        }
    }

    /// The kinds a test is defined on, when that is whole kinds (it is for all but lists).
    fn of(test: &UnaryTest) -> Option<Kinds> {
        let only = |kinds: Kinds| Some(kinds);
        match test {
            UnaryTest::Any | UnaryTest::Equals(Literal::Null) => only(Kinds::ALL),
            UnaryTest::Not(inner) => Kinds::of(inner),
            UnaryTest::Equals(Literal::Bool(_)) => only(Kinds { bools: true, ..Kinds::NONE }),
            UnaryTest::Equals(Literal::Number(_)) | UnaryTest::Compare(_, Literal::Number(_)) => {
                only(Kinds { numbers: true, ..Kinds::NONE })
            }
            UnaryTest::Equals(Literal::String(_)) | UnaryTest::Compare(_, Literal::String(_)) => {
                only(Kinds { strings: true, ..Kinds::NONE })
            }
            UnaryTest::Compare(_, Literal::Null | Literal::Bool(_)) => only(Kinds::NONE),
            UnaryTest::Range { low, high, .. } => match (low, high) {
                (Literal::Number(_), Literal::Number(_)) => only(Kinds { numbers: true, ..Kinds::NONE }),
                (Literal::String(_), Literal::String(_)) => only(Kinds { strings: true, ..Kinds::NONE }),
                _ => only(Kinds::NONE),
            },
            UnaryTest::List(_) => None,
        }
    }
}

/// A set of JSON values as the unary tests see them: null, booleans, numbers, strings (the
/// interval lists are normalized).
#[derive(Debug, Clone)]
struct ValueSet {
    null: bool,
    bools: [bool; 2],
    numbers: Vec<Interval<Decimal>>,
    strings: Vec<Interval<String>>,
}

impl ValueSet {
    fn all() -> Self {
        ValueSet { null: true, bools: [true, true], numbers: vec![Interval::full()], strings: vec![Interval::full()] }
    }

    fn none() -> Self {
        ValueSet { null: false, bools: [false, false], numbers: Vec::new(), strings: Vec::new() }
    }

    /// The union of many sets.
    fn union_all(sets: Vec<ValueSet>) -> Self {
        let mut out = ValueSet::none();
        let (mut numbers, mut strings) = (Vec::new(), Vec::new());
        for set in sets {
            out.null |= set.null;
            out.bools[0] |= set.bools[0];
            out.bools[1] |= set.bools[1];
            numbers.extend(set.numbers);
            strings.extend(set.strings);
        }
        out.numbers = normalize(numbers);
        out.strings = normalize(strings);
        out
    }

    fn intersect(&self, other: &ValueSet) -> Self {
        ValueSet {
            null: self.null && other.null,
            bools: [self.bools[0] && other.bools[0], self.bools[1] && other.bools[1]],
            numbers: intersect_all(&self.numbers, &other.numbers),
            strings: intersect_all(&self.strings, &other.strings),
        }
    }

    /// The values of the given kinds that are not in this set.
    fn complement_within(&self, kinds: Kinds) -> Self {
        ValueSet {
            null: kinds.null && !self.null,
            bools: [kinds.bools && !self.bools[0], kinds.bools && !self.bools[1]],
            numbers: if kinds.numbers { complement_all(&self.numbers) } else { Vec::new() },
            strings: if kinds.strings { complement_all(&self.strings) } else { Vec::new() },
        }
    }

    /// A member, preferring numbers, then strings, booleans, null.
    fn witness(&self) -> Option<Value> {
        if let Some(n) = any_witness(&self.numbers) {
            return Some(decimal_to_json(n));
        }
        if let Some(s) = any_witness(&self.strings) {
            return Some(Value::String(s));
        }
        if self.bools[1] {
            return Some(Value::Bool(true));
        }
        if self.bools[0] {
            return Some(Value::Bool(false));
        }
        self.null.then_some(Value::Null)
    }

    fn is_empty(&self) -> bool {
        self.witness().is_none()
    }
}

fn numbers(intervals: Vec<Interval<Decimal>>) -> ValueSet {
    ValueSet { numbers: normalize(intervals), ..ValueSet::none() }
}

fn strings(intervals: Vec<Interval<String>>) -> ValueSet {
    ValueSet { strings: normalize(intervals), ..ValueSet::none() }
}

fn bools(value: bool) -> ValueSet {
    let mut set = ValueSet::none();
    set.bools[usize::from(value)] = true;
    set
}

/// The values for which a test is true, and those for which it is false (values of other types,
/// where the test is neither, are in neither set).
fn sets(test: &UnaryTest) -> (ValueSet, ValueSet) {
    match test {
        UnaryTest::Any => (ValueSet::all(), ValueSet::none()),
        UnaryTest::Not(inner) => {
            let (yes, no) = sets(inner);
            (no, yes)
        }
        UnaryTest::Equals(Literal::Null) => {
            let mut not_null = ValueSet::all();
            not_null.null = false;
            let mut null = ValueSet::none();
            null.null = true;
            (null, not_null)
        }
        UnaryTest::Equals(Literal::Bool(b)) => (bools(*b), bools(!*b)),
        UnaryTest::Equals(Literal::Number(n)) => {
            let point = Interval::point(*n);
            let rest = point.complement();
            (numbers(vec![point]), numbers(rest))
        }
        UnaryTest::Equals(Literal::String(s)) => {
            let point = Interval::point(s.clone());
            let rest = point.complement();
            (strings(vec![point]), strings(rest))
        }
        UnaryTest::Compare(op, literal) => {
            fn interval<T: Clone>(op: Op, v: &T) -> Interval<T> {
                let (low, high) = match op {
                    Op::Lt => (Bound::Unbounded, Bound::Excluded(v.clone())),
                    Op::Le => (Bound::Unbounded, Bound::Included(v.clone())),
                    Op::Gt => (Bound::Excluded(v.clone()), Bound::Unbounded),
                    Op::Ge => (Bound::Included(v.clone()), Bound::Unbounded),
                };
                Interval { low, high }
            }
            match literal {
                Literal::Number(n) => {
                    let i = interval(*op, n);
                    let rest = i.complement();
                    (numbers(vec![i]), numbers(rest))
                }
                Literal::String(s) => {
                    let i = interval(*op, s);
                    let rest = i.complement();
                    (strings(vec![i]), strings(rest))
                }
                Literal::Null | Literal::Bool(_) => (ValueSet::none(), ValueSet::none()),
            }
        }
        UnaryTest::Range { low, low_inclusive, high, high_inclusive } => {
            fn bound<T>(value: T, inclusive: bool) -> Bound<T> {
                if inclusive { Bound::Included(value) } else { Bound::Excluded(value) }
            }
            match (low, high) {
                (Literal::Number(l), Literal::Number(h)) => {
                    let i = Interval { low: bound(*l, *low_inclusive), high: bound(*h, *high_inclusive) };
                    let rest = i.complement();
                    (numbers(vec![i]), numbers(rest))
                }
                (Literal::String(l), Literal::String(h)) => {
                    let i = Interval { low: bound(l.clone(), *low_inclusive), high: bound(h.clone(), *high_inclusive) };
                    let rest = i.complement();
                    (strings(vec![i]), strings(rest))
                }
                _ => (ValueSet::none(), ValueSet::none()),
            }
        }
        UnaryTest::List(tests) => {
            // True where any test is true; false where all are false. When every test is defined
            // on whole kinds of values, "all false" is the complement of "any true" within the
            // kinds they share, which avoids intersecting one set per test.
            let parts: Vec<(ValueSet, ValueSet)> = tests.iter().map(sets).collect();
            let shared = tests.iter().try_fold(Kinds::ALL, |kinds, test| Kinds::of(test).map(|k| kinds.and(k)));
            let no_fallback = || parts.iter().fold(ValueSet::all(), |no, (_, n)| no.intersect(n));
            let yes = ValueSet::union_all(parts.iter().map(|(y, _)| y.clone()).collect());
            let no = match shared {
                Some(kinds) => yes.complement_within(kinds),
                None => no_fallback(),
            };
            (yes, no)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::unary::{Input, parse_unary_tests};
    use serde_json::json;

    fn contains(set: &ValueSet, value: &Value) -> bool {
        match value {
            Value::Null => set.null,
            Value::Bool(b) => set.bools[usize::from(*b)],
            Value::Number(_) => {
                let Some(d) = as_decimal(value) else { return false };
                set.numbers.iter().any(|i| i.contains(&d))
            }
            Value::String(s) => set.strings.iter().any(|i| i.contains(s)),
            _ => false,
        }
    }

    #[test]
    fn sets_agree_with_matching() {
        let tests = [
            "-",
            "5",
            "\"a\"",
            "< 5",
            "<= 5",
            "> 5",
            ">= 5",
            "[1..5)",
            "(1..5]",
            "not(5)",
            "not(\"a\", \"b\")",
            "not([1..5], > 10)",
            "null",
            "not(null)",
            "true",
            "not(true)",
            "\"a\", 5, true",
            "[\"b\"..\"d\"]",
            "not(< \"c\")",
            "null, 5",
            "not(null, 5)",
            "< 3, > 7",
            "not(< 3, > 7)",
            "[1..4], [3..6)",
            "not([1..4], [3..6), 10)",
            "not(\"a\", \"c\", 5)",
            "(1..3), [3..5]",
        ];
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(1),
            json!(3),
            json!(5),
            json!(5.5),
            json!(10),
            json!(11),
            json!("a"),
            json!("b"),
            json!("c"),
            json!("cz"),
            json!("d"),
            json!("e"),
        ];
        for text in tests {
            let test = parse_unary_tests(text).unwrap();
            let (yes, no) = sets(&test);
            for value in &values {
                let result = test.test(&Input::new(value));
                assert_eq!(contains(&yes, value), result == Some(true), "{text} on {value}: true set");
                assert_eq!(contains(&no, value), result == Some(false), "{text} on {value}: false set");
            }
        }
    }

    #[test]
    fn interval_lists_normalize_and_complement() {
        let d = |n: i64| Decimal::from(n);
        let closed = |a: i64, b: i64| Interval { low: Bound::Included(d(a)), high: Bound::Included(d(b)) };
        let open = |a: i64, b: i64| Interval { low: Bound::Excluded(d(a)), high: Bound::Excluded(d(b)) };
        let show = |list: &[Interval<Decimal>]| format!("{list:?}");
        // [5..7], [1..3], (3..4), [10..9] (empty): [1..4), [5..7]
        let normalized = normalize(vec![closed(5, 7), closed(1, 3), open(3, 4), closed(10, 9)]);
        assert_eq!(normalized.len(), 2, "{}", show(&normalized));
        assert!(matches!(normalized[0].low, Bound::Included(x) if x == d(1)));
        assert!(matches!(normalized[0].high, Bound::Excluded(x) if x == d(4)));
        // (1..3) and (3..5) stay apart: 3 is in neither.
        assert_eq!(normalize(vec![open(1, 3), open(3, 5)]).len(), 2);
        let gaps = complement_all(&normalized);
        assert_eq!(gaps.len(), 3, "{}", show(&gaps));
        for (value, inside) in [(0, true), (1, false), (4, true), (5, false), (8, true)] {
            assert_eq!(gaps.iter().any(|g| g.contains(&d(value))), inside, "{value}");
        }
        let both = intersect_all(&normalized, &normalize(vec![closed(2, 6)]));
        assert_eq!(both.len(), 2, "{}", show(&both));
    }

    #[test]
    fn witnesses_are_members() {
        let cases = [
            ("[0..500)", "[100..1000]", Some(json!(100))),
            ("[0..500)", "[500..1000]", None),
            ("(0..1)", "(0..1)", Some(json!(0.5))),
            ("> 499.99", "< 500", Some(json!(499.995))),
            ("> 5", "-", Some(json!(6))),
            ("\"a\"", "\"a\", \"b\"", Some(json!("a"))),
            ("not(\"a\")", "\"a\"", None),
            ("(\"a\"..\"b\")", "-", Some(json!("a_"))),
            ("null", "-", Some(json!(null))),
            ("true", "false", None),
        ];
        for (a, b, expected) in cases {
            let a = sets(&parse_unary_tests(a).unwrap()).0;
            let b = sets(&parse_unary_tests(b).unwrap()).0;
            assert_eq!(a.intersect(&b).witness(), expected);
        }
    }
}
