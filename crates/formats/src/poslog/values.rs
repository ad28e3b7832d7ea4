//! Decimal amounts, quantities and unit codes as POSLog writes them.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::Arts;
use crate::Problem;
use crate::xml::ElementId;

/// A value that was present but could not be read; its problem is already recorded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Invalid;

/// A value that may be absent, or present and unreadable.
pub(crate) type Read<T> = Result<Option<T>, Invalid>;

/// A plain decimal: an optional sign, digits and an optional decimal point (no exponent, no
/// thousands separators).
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let mut seen_digit = false;
    let mut seen_point = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    Decimal::from_str(t.strip_prefix('+').unwrap_or(t)).ok()
}

/// The decimal in element `id`, or a problem naming `what` it should have been.
pub(crate) fn decimal_of(
    a: &Arts<'_>,
    id: ElementId,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Result<Decimal, Invalid> {
    let text = a.doc.text(id);
    parse_decimal(text).ok_or_else(|| {
        problems.push(a.problem(
            id,
            format!("{what} {text:?} is not a decimal number; expected digits with an optional sign and decimal point, such as 12.50"),
        ));
        Invalid
    })
}

/// The decimal in the ARTS child `name` of `parent`, when present.
pub(crate) fn decimal_at(a: &Arts<'_>, parent: ElementId, name: &str, problems: &mut Vec<Problem>) -> Read<Decimal> {
    match a.child(parent, name) {
        Some(e) => decimal_of(a, e, name, problems).map(Some),
        None => Ok(None),
    }
}

/// A POSLog unit of measure as a UN/ECE Rec 20 code: common spellings translated, Rec 20 codes
/// kept, anything else `None`.
pub(crate) fn unit_code(raw: &str) -> Option<String> {
    let upper = raw.trim().to_ascii_uppercase();
    let mapped = match upper.as_str() {
        "" | "EACH" | "EA" | "UNIT" | "UNITS" | "PIECE" | "PIECES" | "PCS" | "PC" | "ST" | "STK" => "EA",
        "KG" | "KGS" | "KILOGRAM" => "KGM",
        "G" | "GR" | "GRAM" => "GRM",
        "LB" | "LBS" | "POUND" => "LBR",
        "OZ" | "OUNCE" => "ONZ",
        "L" | "LT" | "LITRE" | "LITER" => "LTR",
        "ML" => "MLT",
        "M" | "METRE" | "METER" => "MTR",
        "CM" => "CMT",
        other => other,
    };
    let ok = (2..=3).contains(&mapped.len()) && mapped.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    ok.then(|| mapped.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_plain() {
        assert_eq!(parse_decimal(" 22041.88000 "), Some(Decimal::new(2204188000, 5)));
        assert_eq!(parse_decimal("-2.5"), Some(Decimal::new(-25, 1)));
        assert_eq!(parse_decimal("+3"), Some(Decimal::from(3)));
        for bad in ["", "-", ".", "1e5", "1_000", "1,5", "1.2.3", "abc"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn units_become_rec20() {
        assert_eq!(unit_code("EA").as_deref(), Some("EA"));
        assert_eq!(unit_code("kg").as_deref(), Some("KGM"));
        assert_eq!(unit_code("C62").as_deref(), Some("C62"));
        assert_eq!(unit_code("Bottle"), None);
    }
}
