//! Reading business terms out of the CII tree: texts, amounts, quantities and dates, each
//! failure recorded as a [`Problem`] at the element (or the nearest existing ancestor).

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::Problem;
use crate::xml::{Document, ElementId};

use super::{RSM, UDT};

/// A path of child steps, each `(namespace, local name)`.
pub(super) type Steps<'a> = &'a [(&'a str, &'a str)];

/// The document being read and the problems found so far.
pub(super) struct Terms<'d> {
    /// The CII document.
    pub doc: &'d Document,
    /// Every problem found, in reading order.
    pub problems: Vec<Problem>,
}

impl<'d> Terms<'d> {
    /// Starts reading `doc`.
    pub fn new(doc: &'d Document) -> Self {
        Self { doc, problems: Vec::new() }
    }

    /// Records a problem at an element, with the rule it breaks when the standard names one.
    pub fn report(&mut self, at: ElementId, rule: Option<&str>, message: String) {
        let mut problem = self.doc.problem(at, message);
        problem.rule = rule.map(str::to_owned);
        self.problems.push(problem);
    }

    /// The deepest element that exists along `steps` from `at` (where a missing term is reported).
    pub fn nearest(&self, at: ElementId, steps: Steps<'_>) -> ElementId {
        let mut here = at;
        for (ns, name) in steps {
            match self.doc.child(here, ns, name) {
                Some(next) => here = next,
                None => break,
            }
        }
        here
    }

    /// The trimmed, non-empty text at `steps`.
    pub fn text(&self, at: ElementId, steps: Steps<'_>) -> Option<String> {
        self.doc.text_at(at, steps).map(str::to_owned)
    }

    /// The text at `steps`, reporting it when missing (`term` like `BT-1 invoice number`).
    pub fn required_text(&mut self, at: ElementId, steps: Steps<'_>, term: &str, rule: &str) -> Option<String> {
        let found = self.text(at, steps);
        if found.is_none() {
            self.missing(at, steps, term, rule);
        }
        found
    }

    /// Reports a missing term, with the rule requiring it (`""` when the standard names none).
    pub fn missing(&mut self, at: ElementId, steps: Steps<'_>, term: &str, rule: &str) {
        let near = self.nearest(at, steps);
        let prefix = |ns: &str| match ns {
            RSM => "rsm",
            UDT => "udt",
            _ => "ram",
        };
        let path = steps.iter().map(|(ns, n)| format!("{}:{n}", prefix(ns))).collect::<Vec<_>>().join("/");
        let rule = Some(rule).filter(|r| !r.is_empty());
        self.report(near, rule, format!("{term} is missing: expected a non-empty {path}"));
    }

    /// A decimal (amount, quantity, percentage) at `steps`, when present; reported when it is not
    /// a plain decimal number.
    pub fn decimal(&mut self, at: ElementId, steps: Steps<'_>, term: &str) -> Option<Decimal> {
        let element = self.doc.descend(at, steps)?;
        let text = self.doc.text(element);
        if text.is_empty() {
            return None;
        }
        match plain_decimal(text) {
            Some(value) => Some(value),
            None => {
                let message = format!(
                    "{term} {text:?} is not a decimal number: expected digits with an optional minus sign \
                     and decimal point, such as 1234.50"
                );
                self.report(element, None, message);
                None
            }
        }
    }

    /// A decimal at `steps`, reported when missing.
    pub fn required_decimal(&mut self, at: ElementId, steps: Steps<'_>, term: &str, rule: &str) -> Option<Decimal> {
        if self.doc.descend(at, steps).is_none_or(|e| self.doc.text(e).is_empty()) {
            self.missing(at, steps, term, rule);
            return None;
        }
        self.decimal(at, steps, term)
    }

    /// The date in `udt:DateTimeString` (format 102, `YYYYMMDD`) under the element at `steps`.
    pub fn date(&mut self, at: ElementId, steps: Steps<'_>, term: &str) -> Option<NaiveDate> {
        let holder = self.doc.descend(at, steps)?;
        let Some(string) = self.doc.child(holder, UDT, "DateTimeString") else {
            let message = format!("{term} has no udt:DateTimeString: expected <udt:DateTimeString format=\"102\">");
            self.report(holder, None, message);
            return None;
        };
        let text = self.doc.text(string);
        let format = self.doc.attribute(string, "format").unwrap_or("");
        if format != "102" {
            let message = format!(
                "{term} has date format {format:?}: EN 16931 dates use format \"102\" (YYYYMMDD, such as 20240131)"
            );
            self.report(string, None, message);
            return None;
        }
        let date = (text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(text, "%Y%m%d").ok())
            .flatten();
        if date.is_none() {
            self.report(string, None, format!("{term} {text:?} is not a date: expected YYYYMMDD, such as 20240131"));
        }
        date
    }
}

/// A decimal written as `-?digits(.digits)?` (what the CII schema allows for amounts and
/// quantities); `None` for anything else, exponents and thousands separators included.
pub(super) fn plain_decimal(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !(whole.is_empty() && fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    Decimal::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::plain_decimal;

    #[test]
    fn decimals_are_plain() {
        assert_eq!(plain_decimal("12.50").map(|d| d.to_string()).as_deref(), Some("12.50"));
        assert_eq!(plain_decimal("-3").map(|d| d.to_string()).as_deref(), Some("-3"));
        assert_eq!(plain_decimal(".5").map(|d| d.to_string()).as_deref(), Some("0.5"));
        for bad in ["", "-", ".", "1e5", "1,5", "+1", "1_000", "12.5.1", "99999999999999999999999999999999"] {
            assert_eq!(plain_decimal(bad), None, "{bad}");
        }
    }
}
