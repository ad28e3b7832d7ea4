//! What the messages share: their sections (heading, lines, summary), numbers with the
//! interchange's decimal mark, DTM dates, NAD parties with their references, CUX currencies,
//! QTY quantities, PRI prices and the item numbers of LIN and PIA.

use std::str::FromStr;

use backroom_model::{Gtin, ItemRef, Quantity, Sku, UnitCode};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::syntax::Segment;
use crate::en16931::Party;
use crate::{Problem, to_code};

/// Numbers read must be below this in magnitude (the canonical model accepts below 10^12).
const MAGNITUDE_LIMIT: i64 = 1_000_000_000_000_000;
/// Most decimal places a number read may have; with the magnitude limit, a price divided by
/// its unit price basis cannot overflow.
const SCALE_LIMIT: u32 = 12;

/// The unit of a quantity whose QTY gives none (EANCOM: pieces).
pub const DEFAULT_UNIT: &str = "EA";

/// Reads values out of segments, collecting every problem found.
pub struct Reader {
    /// The decimal mark declared in the UNA (`.` by default).
    pub decimal: u8,
    /// The problems found so far.
    pub problems: Vec<Problem>,
}

/// A message cut into its heading, its line items (LIN groups) and its summary (after UNS).
pub struct Sections<'a> {
    /// Segments before the first LIN (or CPS).
    pub header: Vec<&'a Segment>,
    /// The line items in order.
    pub lines: Vec<Line<'a>>,
    /// Segments after UNS.
    pub summary: Vec<&'a Segment>,
}

/// One line item: its LIN and the segments of the line itself (not of its allowance, party,
/// location, packaging or schedule sub-groups).
pub struct Line<'a> {
    /// The LIN segment.
    pub lin: &'a Segment,
    /// The line's own segments after LIN.
    pub own: Vec<&'a Segment>,
}

/// Line sub-groups after which nothing of the line itself follows.
const LINE_TAIL_GROUPS: [&str; 9] = ["NAD", "ALC", "TDT", "TOD", "EQD", "SCC", "RCS", "STG", "DGS"];
/// Line sub-groups after which the line's own groups (PRI, RFF, TAX, MOA, QVR) may follow.
const LINE_NESTED_GROUPS: [&str; 6] = ["PAC", "LOC", "CCI", "PCI", "HAN", "GIN"];
/// Segments that start one of the line's own groups again.
const LINE_OWN_GROUPS: [&str; 6] = ["PRI", "RFF", "TAX", "MOA", "QVR", "PAT"];

/// Cuts a message body into sections. Packaging levels (CPS and what follows until the next
/// LIN) belong to no line.
pub fn sections(body: &[Segment]) -> Sections<'_> {
    let mut s = Sections { header: Vec::new(), lines: Vec::new(), summary: Vec::new() };
    let mut in_detail = false;
    let mut in_summary = false;
    let mut current: Option<Line<'_>> = None;
    let mut nested = false;
    let mut tail = false;
    for seg in body {
        let tag = seg.tag.as_str();
        if in_summary {
            s.summary.push(seg);
            continue;
        }
        match tag {
            "UNS" if seg.value(1, 1) != "D" => {
                s.lines.extend(current.take());
                in_summary = true;
            }
            "LIN" => {
                s.lines.extend(current.take());
                in_detail = true;
                (nested, tail) = (false, false);
                current = Some(Line { lin: seg, own: Vec::new() });
            }
            "CPS" => {
                s.lines.extend(current.take());
                in_detail = true;
            }
            _ if !in_detail => s.header.push(seg),
            _ => {
                let Some(line) = current.as_mut() else { continue };
                if LINE_TAIL_GROUPS.contains(&tag) {
                    tail = true;
                } else if LINE_NESTED_GROUPS.contains(&tag) {
                    nested = true;
                } else if LINE_OWN_GROUPS.contains(&tag) {
                    nested = false;
                }
                if !tail && !nested {
                    line.own.push(seg);
                }
            }
        }
    }
    s.lines.extend(current);
    s
}

impl Reader {
    /// A reader for an interchange with the given decimal mark.
    pub fn new(decimal: u8) -> Self {
        Self { decimal, problems: Vec::new() }
    }

    /// Records a problem at a segment.
    pub fn problem(&mut self, seg: &Segment, element: Option<usize>, component: Option<usize>, message: String) {
        self.problems.push(Problem::new(seg.at(element, component), message));
    }

    /// A number in component `c` of element `e`; `None` when empty (nothing reported) or
    /// not a number (reported).
    pub fn number(&mut self, seg: &Segment, e: usize, c: usize, what: &str) -> Option<Decimal> {
        let raw = seg.get(e, c)?;
        match parse_number(raw, self.decimal) {
            Some(n) if n.abs() < Decimal::from(MAGNITUDE_LIMIT) && n.scale() <= SCALE_LIMIT => Some(n),
            Some(_) => {
                self.problem(
                    seg,
                    Some(e),
                    Some(c),
                    format!(
                        "{what} {raw:?} is out of range: at most 15 digits before and {SCALE_LIMIT} after the decimal mark"
                    ),
                );
                None
            }
            None => {
                let mark = char::from(self.decimal);
                self.problem(
                    seg,
                    Some(e),
                    Some(c),
                    format!(
                        "{what} {raw:?} is not a number: expected digits with an optional sign and decimal mark {mark:?} \
                         (as declared in UNA), such as 12{mark}50"
                    ),
                );
                None
            }
        }
    }

    /// The date of a DTM segment (C507: qualifier, value, format 102/203/204/101/201/718).
    pub fn dtm(&mut self, seg: &Segment) -> Option<NaiveDate> {
        let raw = seg.value(1, 2);
        let format = seg.value(1, 3);
        match dtm_date(raw, format) {
            Some(d) => Some(d),
            None => {
                self.problem(
                    seg,
                    Some(1),
                    Some(2),
                    format!(
                        "DTM {} date {raw:?} in format {format:?} is not a date; accepted formats: \
                         102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 CCYYMMDDHHMMSS, 101 YYMMDD, 201 YYMMDDHHMM, 718 range",
                        seg.value(1, 1)
                    ),
                );
                None
            }
        }
    }

    /// The first DTM among `segments` with one of the qualifiers (in order of preference).
    pub fn date(&mut self, segments: &[&Segment], qualifiers: &[&str]) -> Option<NaiveDate> {
        let seg = qualifiers.iter().find_map(|q| segments.iter().find(|s| s.tag == "DTM" && s.value(1, 1) == *q))?;
        self.dtm(seg)
    }

    /// A quantity from the first QTY with one of the qualifiers (in order of preference):
    /// its value and unit (EA when none is given).
    pub fn quantity(&mut self, segments: &[&Segment], qualifiers: &[&str]) -> Option<Quantity> {
        let seg = qualifiers.iter().find_map(|q| segments.iter().find(|s| s.tag == "QTY" && s.value(1, 1) == *q))?;
        self.qty(seg)
    }

    /// The quantity of one QTY segment.
    pub fn qty(&mut self, seg: &Segment) -> Option<Quantity> {
        let what = format!("QTY {} quantity", seg.value(1, 1));
        let Some(value) = self.number(seg, 1, 2, &what) else {
            if seg.get(1, 2).is_none() {
                self.problem(seg, Some(1), Some(2), format!("{what} is empty"));
            }
            return None;
        };
        Some(Quantity { value, unit: UnitCode(self.unit(seg, 1, 3)) })
    }

    /// A unit of measure (UN/ECE Rec 20) from component `c` of element `e`, EA when empty.
    pub fn unit(&mut self, seg: &Segment, e: usize, c: usize) -> String {
        let raw = seg.value(e, c);
        if raw.is_empty() {
            return DEFAULT_UNIT.to_owned();
        }
        let ok = (2..=3).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            self.problem(
                seg,
                Some(e),
                Some(c),
                format!("unit {raw:?} is not a UN/ECE Rec 20 unit code (such as EA, C62, KGM, LTR, MTR)"),
            );
        }
        raw.to_owned()
    }

    /// The price of a line: PRI with the first qualifier found (AAA net, then AAB gross…),
    /// as (price, unit price basis).
    pub fn price(&mut self, line: &Line<'_>, qualifiers: &[&str]) -> Option<(Decimal, Option<Decimal>)> {
        let seg = qualifiers.iter().find_map(|q| line.own.iter().find(|s| s.tag == "PRI" && s.value(1, 1) == *q))?;
        let price = self.number(seg, 1, 2, &format!("PRI {} price", seg.value(1, 1)));
        let base = self.number(seg, 1, 5, "PRI unit price basis");
        Some((price?, base))
    }

    /// A MOA amount with the qualifier among `segments` in the document currency (amounts
    /// in another currency, such as an accounting currency, are skipped).
    pub fn amount(&mut self, segments: &[&Segment], qualifier: &str, currency: &str) -> Option<Decimal> {
        let seg = segments.iter().find(|s| is_amount(s, qualifier, currency))?;
        self.number(seg, 1, 2, &format!("MOA {qualifier} amount"))
    }

    /// The sum of every MOA with the qualifier in the document currency, when there is one.
    pub fn sum(&mut self, segments: &[&Segment], qualifier: &str, currency: &str) -> Option<Decimal> {
        let mut total = None;
        for seg in segments.iter().filter(|s| is_amount(s, qualifier, currency)) {
            if let Some(v) = self.number(seg, 1, 2, &format!("MOA {qualifier} amount")) {
                total = Some(total.unwrap_or(Decimal::ZERO) + v);
            }
        }
        total
    }

    /// The line number of a LIN (1082), or its position when LIN01 is empty.
    pub fn line_number(&mut self, lin: &Segment, position: usize) -> u32 {
        match lin.get(1, 1) {
            None => u32::try_from(position).unwrap_or(u32::MAX),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) => n,
                Err(_) => {
                    self.problem(
                        lin,
                        Some(1),
                        Some(1),
                        format!("LIN01 line item number {raw:?} is not a whole number"),
                    );
                    u32::try_from(position).unwrap_or(u32::MAX)
                }
            },
        }
    }

    /// The canonical item of a line, reporting a line that names none.
    pub fn item(&mut self, line: &Line<'_>, number: u32) -> Option<ItemRef> {
        let ids = self.item_numbers(line);
        let item = ids.item_ref();
        if item.is_none() && !ids.invalid {
            self.problem(
                line.lin,
                Some(3),
                Some(1),
                format!("line {number} names no item (LIN03 GTIN or PIA article number)"),
            );
        }
        item
    }

    /// The item numbers of a line: LIN03 (C212 item number and its type) and every PIA.
    pub fn item_numbers(&mut self, line: &Line<'_>) -> ItemNumbers {
        let mut ids = ItemNumbers::default();
        let lin = line.lin;
        if let Some(number) = lin.get(3, 1) {
            self.take_number(&mut ids, lin, 3, 1, number, lin.value(3, 2));
        }
        for pia in line.own.iter().filter(|s| s.tag == "PIA") {
            for e in 2..=6 {
                if let Some(number) = pia.get(e, 1) {
                    self.take_number(&mut ids, pia, e, 1, number, pia.value(e, 2));
                }
            }
        }
        ids
    }

    fn take_number(&mut self, ids: &mut ItemNumbers, seg: &Segment, e: usize, c: usize, number: &str, kind: &str) {
        match kind {
            "SRV" | "EN" | "UP" | "GTIN" => {
                let gtin = Gtin(number.to_owned());
                if !gtin.is_valid() {
                    ids.invalid = true;
                    self.problem(
                        seg,
                        Some(e),
                        Some(c),
                        format!(
                            "item number {number:?} of type {kind} is not a valid GTIN: expected 8, 12, 13 or 14 digits \
                             ending in the GS1 check digit"
                        ),
                    );
                } else if ids.gtin.is_none() {
                    ids.gtin = Some(number.to_owned());
                }
            }
            "IN" | "BP" => {
                ids.buyer.get_or_insert_with(|| number.to_owned());
            }
            "SA" | "SN" => {
                ids.seller.get_or_insert_with(|| number.to_owned());
            }
            _ => {
                ids.other.get_or_insert_with(|| (kind.to_owned(), number.to_owned()));
            }
        }
    }

    /// The parties of the heading: each NAD with the references (RFF VA, GN, XA) and the
    /// contact name (CTA) of its group.
    pub fn parties<'a>(&mut self, header: &[&'a Segment]) -> Vec<NamedParty<'a>> {
        let mut parties: Vec<NamedParty<'a>> = Vec::new();
        let mut open = false;
        for seg in header {
            match seg.tag.as_str() {
                "NAD" => {
                    open = true;
                    parties.push(nad_party(seg));
                }
                "RFF" | "CTA" | "COM" | "LOC" | "FII" | "DTM" if open => {
                    let Some(p) = parties.last_mut() else { continue };
                    match (seg.tag.as_str(), seg.value(1, 1)) {
                        ("RFF", "VA") => p.party.vat_id = p.party.vat_id.take().or(seg.get(1, 2).map(str::to_owned)),
                        ("RFF", "GN" | "XA" | "FC") => {
                            p.party.legal_id = p.party.legal_id.take().or(seg.get(1, 2).map(str::to_owned));
                        }
                        ("CTA", _) => p.contact = p.contact.take().or(seg.get(2, 2).map(str::to_owned)),
                        _ => {}
                    }
                }
                _ => open = false,
            }
        }
        parties
    }

    /// The currency of the message: CUX reference currency (usage 2, else 4 or 9, else the
    /// first CUX).
    pub fn currency(&mut self, header: &[&Segment]) -> Option<String> {
        let cux: Vec<&&Segment> = header.iter().filter(|s| s.tag == "CUX").collect();
        let pick = ["2", "4", "9", ""].iter().find_map(|q| cux.iter().find(|s| s.value(1, 1) == *q)).or(cux.first())?;
        let code = pick.value(1, 2);
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            self.problem(pick, Some(1), Some(2), format!("CUX currency {code:?} is not an ISO 4217 code such as EUR"));
            return None;
        }
        Some(code.to_owned())
    }
}

fn is_amount(seg: &Segment, qualifier: &str, currency: &str) -> bool {
    seg.tag == "MOA" && seg.value(1, 1) == qualifier && seg.get(1, 3).is_none_or(|c| c == currency)
}

/// A NAD party with its qualifier.
pub struct NamedParty<'a> {
    /// The NAD segment.
    pub nad: &'a Segment,
    /// NAD01, the party function (BY, SU, DP…).
    pub role: String,
    /// The party's identifiers and name.
    pub party: Party,
    /// The first contact name (CTA02) of the party's group.
    pub contact: Option<String>,
}

impl NamedParty<'_> {
    /// The party's code: its NAD02 identification, else its VAT number, else its registration.
    pub fn code(&self) -> Option<String> {
        self.party.code()
    }
}

/// Reads a NAD: party id (C082: id, code list, agency) and name (C080, else C058).
fn nad_party(seg: &Segment) -> NamedParty<'_> {
    let id = seg.get(2, 1).map(|id| {
        let scheme = seg.get(2, 2).or(seg.get(2, 3)).map(str::to_owned);
        (scheme, id.to_owned())
    });
    let name = seg.get(4, 1).or(seg.get(3, 1)).map(str::to_owned);
    NamedParty {
        nad: seg,
        role: seg.value(1, 1).to_owned(),
        party: Party { name, id, ..Party::default() },
        contact: None,
    }
}

/// The first party with one of the roles (in order of preference).
pub fn party<'p, 'a>(parties: &'p [NamedParty<'a>], roles: &[&str]) -> Option<&'p NamedParty<'a>> {
    roles.iter().find_map(|r| parties.iter().find(|p| p.role == *r))
}

/// The first RFF among `segments` with the qualifier: its reference (C506-2) and its line
/// number (C506-3), with the segment.
pub fn reference<'a>(
    segments: &[&'a Segment],
    qualifier: &str,
) -> Option<(Option<&'a str>, Option<&'a str>, &'a Segment)> {
    let seg = segments.iter().find(|s| s.tag == "RFF" && s.value(1, 1) == qualifier)?;
    Some((seg.get(1, 2), seg.get(1, 3), seg))
}

/// The item numbers of a line, by who assigned them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemNumbers {
    /// A GTIN (item number type SRV or EN).
    pub gtin: Option<String>,
    /// The buyer's (retailer's) article number (IN, BP).
    pub buyer: Option<String>,
    /// The supplier's article number (SA, SN).
    pub seller: Option<String>,
    /// Another number (ISBN `IB`, …) with its type.
    pub other: Option<(String, String)>,
    /// Whether a number claimed to be a GTIN was not one (already reported).
    pub invalid: bool,
}

impl ItemNumbers {
    /// The canonical item: the GTIN, and as SKU the buyer's number, else the supplier's, else
    /// another number; `None` when the line names no item.
    pub fn item_ref(&self) -> Option<ItemRef> {
        let gtin = self.gtin.clone().map(Gtin);
        let sku = [self.buyer.as_deref(), self.seller.as_deref()].into_iter().flatten().find_map(to_code);
        let sku = match (&gtin, sku) {
            (None, None) => self.other.as_ref().and_then(|(_, n)| to_code(n)),
            (_, sku) => sku,
        };
        (gtin.is_some() || sku.is_some()).then(|| ItemRef { gtin, sku: sku.map(Sku) })
    }
}

/// Parses an EDIFACT number: optional minus, digits, and the decimal mark (the UNA one, or
/// `.`), without triad separators or exponent; `.5` and `5.` are accepted.
pub fn parse_number(raw: &str, decimal: u8) -> Option<Decimal> {
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let mark = |c: char| c == '.' || c == char::from(decimal);
    let (int, frac) = match digits.find(mark) {
        Some(i) => (digits.get(..i)?, digits.get(i + 1..)?),
        None => (digits, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) || int.len() + frac.len() > 28 {
        return None;
    }
    let text = format!("{}{}.{}", if negative { "-" } else { "" }, if int.is_empty() { "0" } else { int }, frac);
    let text = text.trim_end_matches('.');
    Decimal::from_str(text).ok()
}

/// A date from a DTM value in the given format (the date part of date-times and ranges).
pub fn dtm_date(raw: &str, format: &str) -> Option<NaiveDate> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ccyymmdd = |s: &str| NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    let yymmdd = |s: &str| {
        let yy: i32 = s.get(0..2)?.parse().ok()?;
        let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
        NaiveDate::from_ymd_opt(year, s.get(2..4)?.parse().ok()?, s.get(4..6)?.parse().ok()?)
    };
    match (format, raw.len()) {
        ("102", 8) | ("203", 12) | ("204", 14) | ("205", 17) | ("", 8 | 12 | 14) if digits(raw.get(..8)?) => {
            ccyymmdd(raw.get(..8)?)
        }
        ("101", 6) | ("201", 10) | ("", 6) if digits(raw) => yymmdd(raw),
        ("718", 17) => ccyymmdd(raw.get(..8)?),
        ("719", 25) if digits(raw.get(..8)?) => ccyymmdd(raw.get(..8)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_either_decimal_mark() {
        assert_eq!(parse_number("12.50", b'.'), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_number("12,50", b','), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_number("12.50", b','), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_number("12,50", b'.'), None);
        assert_eq!(parse_number(".000", b'.'), Some(Decimal::ZERO));
        assert_eq!(parse_number("-109.98", b'.'), Some(Decimal::new(-10998, 2)));
        assert_eq!(parse_number("5.", b'.'), Some(Decimal::from(5)));
        for bad in ["", "-", ".", "1e5", "1.000.000", "+5", "12 5", "9999999999999999999999999999999"] {
            assert_eq!(parse_number(bad, b'.'), None, "{bad}");
        }
    }

    #[test]
    fn dates_in_the_usual_formats() {
        let d = NaiveDate::from_ymd_opt(2016, 3, 21);
        assert_eq!(dtm_date("20160321", "102"), d);
        assert_eq!(dtm_date("201603211421", "203"), d);
        assert_eq!(dtm_date("160321", "101"), d);
        assert_eq!(dtm_date("20160321-20160331", "718"), d);
        assert_eq!(dtm_date("20160231", "102"), None);
        assert_eq!(dtm_date("2016032", "102"), None);
    }
}
