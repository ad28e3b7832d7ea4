//! Peppol BIS Billing 3.0 and EN 16931 validation of UBL Invoices and CreditNotes.
//!
//! [`validate`] runs the business rules of the two Schematrons Peppol publishes —
//! `CEN-EN16931-UBL.sch` (the `BR-*` rules of EN 16931-1 and their UBL binding) and
//! `PEPPOL-EN16931-UBL.sch` (the `PEPPOL-EN16931-*` and `PEPPOL-COMMON-*` rules) — directly on
//! the XML tree ([`crate::xml::Document`]) of a UBL 2.1 `Invoice` or `CreditNote`. Every rule
//! is one entry of [`RULES`]: its id, its flag (fatal or warning, as the Schematron says), the
//! business terms it is about and a check written in Rust that follows the rule's context and
//! test, XPath quirks included (an empty element counts as present where the Schematron tests
//! existence; missing numbers take the Schematron's defaults; within one Schematron pattern an
//! element is checked only by the first rule whose context it matches, so a document allowance
//! with a percentage and no base amount is reported by R041 and not also by R040/R043).
//!
//! Each [`Violation`] names the rule, its flag and the element the rule's context is on, by
//! line, column and XPath; a missing mandatory element is reported at its closest existing
//! parent. Only fatal violations reject a document; warnings are for the sender's attention.
//!
//! Families (one file each): document level and parties (`document`), national identifier
//! formats (`identifiers`, used by `parties`), allowances and charges (`allowances`), lines
//! (`lines`), totals (`totals`), VAT breakdown and categories (`vat`) and code lists
//! (`codes`, data in `codelists`); arithmetic is exact ([`rust_decimal`]) with XPath
//! rounding (`arithmetic`).
//!
//! Not implemented: the national rules (`NO-R-*`, `DK-R-*`, `IT-R-*`, `SE-R-*`, `GR-R-*`,
//! `IS-R-*`, `NL-R-*`, `DE-R-*`), the UBL syntax rules (`UBL-CR-*`, `UBL-SR-*`, `UBL-DT-*`),
//! the rules whose test is `true()` (BR-CO-05 to BR-CO-08), the IGIC/IPSI/split-payment
//! families (BR-AF-*, BR-AG-*, BR-B-*) and BR-CL-08 (note subject codes). [`rule_ids`] lists
//! what is.

mod allowances;
mod arithmetic;
mod codelists;
mod codes;
mod document;
mod identifiers;
mod lines;
mod parties;
mod totals;
mod vat;
mod view;

use std::fmt;

use crate::problem::{Location, Problem};
use crate::xml::{Document, ElementId};
use view::View;

/// How serious a broken rule is, as the Schematron flags it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The document must be rejected.
    Fatal,
    /// The document is accepted; the sender should be told.
    Warning,
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flag::Fatal => "fatal",
            Flag::Warning => "warning",
        })
    }
}

/// One broken rule at one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule id (`BR-CO-10`, `PEPPOL-EN16931-R003`, `PEPPOL-COMMON-R042`).
    pub rule: &'static str,
    /// Fatal or warning.
    pub flag: Flag,
    /// The element the rule is about: line, column and XPath.
    pub location: Location,
    /// The rule's text, with what was found where that helps.
    pub message: String,
}

impl Violation {
    /// The violation as a document [`Problem`] carrying the rule id; warnings say so.
    pub fn to_problem(&self) -> Problem {
        let message = match self.flag {
            Flag::Fatal => self.message.clone(),
            Flag::Warning => format!("warning: {}", self.message),
        };
        Problem::rule(self.location.clone(), self.rule, message)
    }
}

/// One business rule.
#[derive(Clone, Copy)]
pub struct Rule {
    /// The rule id as the Schematron names it.
    pub id: &'static str,
    /// Fatal or warning.
    pub flag: Flag,
    /// The EN 16931 business terms and groups it concerns (`BT-106`, `BG-25`).
    pub terms: &'static [&'static str],
    /// What the rule requires.
    pub text: &'static str,
    check: fn(&View<'_>, &mut Hits),
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).field("flag", &self.flag).field("terms", &self.terms).finish()
    }
}

/// Where a check found its rule broken: the elements and, for some, what was found.
#[derive(Default)]
pub(crate) struct Hits(Vec<(ElementId, Option<String>)>);

impl Hits {
    /// The rule is broken at `e`.
    pub fn at(&mut self, e: ElementId) {
        self.0.push((e, None));
    }

    /// The rule is broken at `e`, with details.
    pub fn found(&mut self, e: ElementId, detail: String) {
        self.0.push((e, Some(detail)));
    }

    /// The rule is broken at `e` unless `ok`.
    pub fn unless(&mut self, ok: bool, e: ElementId) {
        if !ok {
            self.at(e);
        }
    }
}

/// Builds a rule (shorthand for the tables).
pub(crate) const fn rule(
    id: &'static str,
    flag: Flag,
    terms: &'static [&'static str],
    text: &'static str,
    check: fn(&View<'_>, &mut Hits),
) -> Rule {
    Rule { id, flag, terms, text, check }
}

/// Every rule, by family.
pub const RULES: &[&[Rule]] =
    &[document::RULES, parties::RULES, allowances::RULES, lines::RULES, totals::RULES, vat::RULES, codes::RULES];

/// Every rule, flattened.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().flat_map(|family| family.iter())
}

/// The ids of every implemented rule.
pub fn rule_ids() -> Vec<&'static str> {
    rules().map(|r| r.id).collect()
}

/// The rule with this id.
pub fn rule_by_id(id: &str) -> Option<&'static Rule> {
    rules().find(|r| r.id == id)
}

/// Runs every rule on a UBL Invoice or CreditNote and returns what is broken, rule by rule.
pub fn validate(doc: &Document) -> Vec<Violation> {
    let view = View::new(doc);
    rules().flat_map(|r| run(&view, r)).collect()
}

/// Runs only the rules with these ids (unknown ids are ignored).
pub fn validate_rules(doc: &Document, ids: &[&str]) -> Vec<Violation> {
    let view = View::new(doc);
    rules().filter(|r| ids.contains(&r.id)).flat_map(|r| run(&view, r)).collect()
}

/// The fatal violations as problems (what rejects a document).
pub fn fatal_problems(violations: &[Violation]) -> Vec<Problem> {
    violations.iter().filter(|v| v.flag == Flag::Fatal).map(Violation::to_problem).collect()
}

fn run(view: &View<'_>, rule: &'static Rule) -> Vec<Violation> {
    let mut hits = Hits::default();
    (rule.check)(view, &mut hits);
    hits.0
        .into_iter()
        .map(|(e, detail)| Violation {
            rule: rule.id,
            flag: rule.flag,
            location: view.doc.location(e),
            message: match detail {
                Some(d) => format!("{} ({d})", rule.text),
                None => rule.text.to_owned(),
            },
        })
        .collect()
}
