//! X12 code lists Backroom maps: units of measure (element 355), product identifier
//! qualifiers (element 235) and party roles (N1, element 98).

use backroom_model::{Gtin, ItemRef, Sku, UnitCode};

use super::syntax::{Segment, shorten};
use crate::{Problem, to_code};

/// X12 unit codes whose UN/ECE Recommendation 20 code differs, and the Rec 20 code used instead.
/// Codes not listed are kept when they have the form of a Rec 20 code (`EA`, `BX`, `PK`, `CT`,
/// `PR` mean the same in both lists).
pub(crate) const UNITS: &[(&str, &str)] = &[
    ("CA", "CS"),  // case (CA is "can" in Rec 20)
    ("DZ", "DZN"), // dozen
    ("FT", "FOT"), // foot
    ("GA", "GLL"), // US gallon
    ("GR", "GRM"), // gram
    ("IN", "INH"), // inch
    ("KG", "KGM"), // kilogram
    ("KI", "KT"),  // kit
    ("LB", "LBR"), // pound
    ("LT", "LTR"), // litre
    ("ML", "MLT"), // millilitre
    ("MR", "MTR"), // metre
    ("OZ", "ONZ"), // ounce
    ("PC", "H87"), // piece
    ("SF", "FTK"), // square foot
    ("UN", "EA"),  // unit: counted like each
    ("YD", "YRD"), // yard
];

/// The Rec 20 unit for an X12 unit code in element `n`; `EA` when the element is empty.
pub(crate) fn unit(seg: &Segment, n: usize) -> Result<UnitCode, Problem> {
    let raw = seg.el(n);
    if raw.is_empty() {
        return Ok(UnitCode::default());
    }
    if let Some((_, rec20)) = UNITS.iter().find(|(x12, _)| *x12 == raw) {
        return Ok(UnitCode((*rec20).to_owned()));
    }
    if (2..=3).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Ok(UnitCode(raw.to_owned()))
    } else {
        Err(seg.problem(n, format!("{:?} is not a unit of measure code (EA, CA, DZ, LB…)", shorten(raw))))
    }
}

/// The X12 unit code to write for a Rec 20 unit (the reverse of [`UNITS`]; `EA` stays `EA`).
pub(crate) fn x12_unit(unit: &UnitCode) -> &str {
    UNITS.iter().find(|(x12, rec20)| *rec20 == unit.as_str() && *x12 != "UN").map_or(unit.as_str(), |(x12, _)| x12)
}

/// Qualifiers whose value is a GS1 GTIN with its check digit: UCC-12 (UPC-A), GTIN-14, EAN-13.
/// (UA and UI, the 2-5-5 and 1-5-5 case and consumer codes, carry no check digit.)
const GTIN_QUALIFIERS: &[&str] = &["UP", "UK", "EN"];
/// Qualifiers naming the buyer's own item number, best first (SKU, buyer's part, item, catalogue).
const BUYER_QUALIFIERS: &[&str] = &["SK", "BP", "IN", "CB"];
/// Qualifiers naming the supplier's item number, best first.
const VENDOR_QUALIFIERS: &[&str] = &["VN", "VP", "VA", "ST", "MG", "MF"];

/// The item named by the qualifier/value pairs of a segment from element `first` on (PO106/PO107,
/// IT106/IT107, LIN02/LIN03…): the GTIN of the first GTIN qualifier holding a valid GTIN; the
/// SKU from the buyer's number, else the supplier's number, else (no GTIN valid) the value given
/// as GTIN, kept verbatim.
pub(crate) fn item(seg: &Segment, first: usize) -> Result<ItemRef, Problem> {
    let mut pairs = Vec::new();
    let mut n = first;
    while n < seg.len() {
        let (q, v) = (seg.el(n), seg.el(n + 1));
        if !q.is_empty() && !v.is_empty() {
            pairs.push((q, v));
        }
        n += 2;
    }
    let find = |qualifiers: &[&str]| {
        qualifiers.iter().find_map(|wanted| pairs.iter().find(|(q, _)| q == wanted).and_then(|(_, v)| to_code(v)))
    };
    let gtin = pairs
        .iter()
        .filter(|(q, _)| GTIN_QUALIFIERS.contains(q))
        .map(|(_, v)| Gtin((*v).to_owned()))
        .find(Gtin::is_valid);
    let sku = find(BUYER_QUALIFIERS)
        .or_else(|| find(VENDOR_QUALIFIERS))
        .or_else(|| if gtin.is_none() { find(GTIN_QUALIFIERS) } else { None });
    if gtin.is_none() && sku.is_none() {
        let given: Vec<String> = pairs.iter().map(|(q, v)| format!("{q} {}", shorten(v))).collect();
        return Err(seg.problem(
            first,
            format!(
                "the line names no item Backroom can use ({}): give a GTIN (UP, UK, EN) or an item number (SK, BP, IN, CB, VN, VP, VA, ST, MG)",
                if given.is_empty() { "no identifier".to_owned() } else { given.join(", ") }
            ),
        ));
    }
    Ok(ItemRef { gtin, sku: sku.map(Sku) })
}

/// The code of the first N1 party with one of `roles` (N101) that carries an identification
/// code (N104), looked for in `segments`.
pub(crate) fn party(segments: &[Segment], roles: &[&str]) -> Option<String> {
    roles
        .iter()
        .find_map(|role| segments.iter().filter(|s| s.tag == "N1" && s.el(1) == *role).find_map(|s| to_code(s.el(4))))
}
