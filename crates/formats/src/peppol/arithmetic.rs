//! Numbers, dates and rounding as the Schematron's XPath 2.0 sees them, in exact decimals.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Reads an `xs:decimal`: optional sign, digits with at most one decimal point, surrounding
/// whitespace ignored. No exponent, no thousands separators. `None` when it is not one (or does
/// not fit a 96-bit decimal).
pub(crate) fn decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let mut digits = 0usize;
    let mut points = 0usize;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return None,
        }
    }
    if digits == 0 || points > 1 {
        return None;
    }
    let normalised = if body.starts_with('.') {
        format!("{}0{body}", if t.starts_with('-') { "-" } else { "" })
    } else {
        t.trim_start_matches('+').to_owned()
    };
    Decimal::from_str(&normalised).ok()
}

/// XPath `round()`: to the nearest integer, halves towards positive infinity.
pub(crate) fn round(value: Decimal) -> Decimal {
    (value + Decimal::new(5, 1)).floor()
}

/// `round(value * 100) div 100`, the Schematron's rounding to two decimals.
pub(crate) fn round2(value: Decimal) -> Decimal {
    let hundred = Decimal::ONE_HUNDRED;
    value.checked_mul(hundred).map(|v| round(v) / hundred).unwrap_or(value)
}

/// Whether `actual` lies within `slack` of `expected`, both ends included.
pub(crate) fn within(expected: Decimal, actual: Decimal, slack: Decimal) -> bool {
    expected + slack >= actual && expected - slack <= actual
}

/// The number of characters after the first `.` (the Schematron's `substring-after(., '.')`).
pub(crate) fn decimals(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, after)| after.chars().count())
}

/// Reads an `xs:date` without time zone, exactly `YYYY-MM-DD`.
pub(crate) fn date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let b = t.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

/// Sums decimals, `None` on overflow.
pub(crate) fn sum(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    values.into_iter().try_fold(Decimal::ZERO, |acc, v| acc.checked_add(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimals_dates_and_rounding_follow_xpath() {
        assert_eq!(decimal(" 12.50 "), Some(d("12.50")));
        assert_eq!(decimal("-.5"), Some(d("-0.5")));
        assert_eq!(decimal("+3"), Some(d("3")));
        assert_eq!(decimal("1e3"), None);
        assert_eq!(decimal(""), None);
        assert_eq!(decimal("1.2.3"), None);
        assert_eq!(round(d("2.5")), d("3"));
        assert_eq!(round(d("-2.5")), d("-2"));
        assert_eq!(round2(d("0.125")), d("0.13"));
        assert_eq!(round2(d("-0.125")), d("-0.12"));
        assert!(within(d("100"), d("100.02"), d("0.02")));
        assert!(!within(d("100"), d("100.03"), d("0.02")));
        assert_eq!(decimals("1.234"), 3);
        assert_eq!(decimals("12"), 0);
        assert!(date("2017-09-30").is_some());
        assert!(date("2017-09-31").is_none());
        assert!(date("18-10-01").is_none());
        assert!(date("2018-01-01T20:00:00").is_none());
    }
}
