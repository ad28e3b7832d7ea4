//! What every UBL document shares: the component namespaces, reading basic components (text,
//! dates, amounts, quantities) with a problem for each malformed value, parties, items and the
//! time of a document.

use backroom_model::{ItemRef, Quantity, UnitCode};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::en16931::{Party, SemanticLine};
use crate::xml::{Document, ElementId};
use crate::{Context, Problem, to_code};

/// The namespace of UBL basic components (`cbc:`).
pub const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// The namespace of UBL aggregate components (`cac:`).
pub const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
/// The start of every UBL 2 document namespace; the document name and `-2` follow.
pub const DOCUMENT_NS_PREFIX: &str = "urn:oasis:names:specification:ubl:schema:xsd:";

/// The document as UTF-8: a document whose XML declaration names ISO-8859-1 (Latin-1) is
/// converted, byte for byte, to the same characters in UTF-8; anything else is left as it is.
pub fn utf8(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let head = bytes.get(..bytes.len().min(200)).unwrap_or(bytes);
    let declared = head.starts_with(b"<?xml")
        && head.iter().position(|&b| b == b'>').and_then(|end| head.get(..end)).is_some_and(|decl| {
            let decl = String::from_utf8_lossy(decl).to_ascii_lowercase();
            ["iso-8859-1", "iso8859-1", "latin1", "latin-1"]
                .iter()
                .any(|e| decl.contains(&format!("\"{e}\"")) || decl.contains(&format!("'{e}'")))
        });
    if declared && std::str::from_utf8(bytes).is_err() {
        std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect::<String>().into_bytes())
    } else {
        std::borrow::Cow::Borrowed(bytes)
    }
}

/// Most decimal places kept on a unit price (the canonical model's money scale).
const PRICE_SCALE: u32 = 6;

/// A UBL document being read: the tree and every problem found so far.
pub struct Reader<'a> {
    /// The document.
    pub doc: &'a Document,
    /// The problems found, in the order found.
    pub problems: Vec<Problem>,
}

impl<'a> Reader<'a> {
    /// Starts reading a document.
    pub fn new(doc: &'a Document) -> Self {
        Self { doc, problems: Vec::new() }
    }

    /// Records a problem at an element.
    pub fn problem(&mut self, at: ElementId, message: impl Into<String>) {
        self.problems.push(self.doc.problem(at, message));
    }

    /// Records a problem breaking a named rule at an element.
    pub fn rule(&mut self, at: ElementId, rule: &str, message: impl Into<String>) {
        self.problems.push(Problem::rule(self.doc.location(at), rule, message.into()));
    }

    /// The `cac:` child of `at`.
    pub fn cac(&self, at: ElementId, name: &str) -> Option<ElementId> {
        self.doc.child(at, CAC, name)
    }

    /// The `cac:` children of `at`.
    pub fn cacs(&self, at: ElementId, name: &'a str) -> Vec<ElementId> {
        self.doc.children(at, CAC, name).collect()
    }

    /// The `cbc:` child of `at`.
    pub fn cbc(&self, at: ElementId, name: &str) -> Option<ElementId> {
        self.doc.child(at, CBC, name)
    }

    /// Follows `cac:` steps from `at` (`["Delivery", "DeliveryLocation"]`).
    pub fn path(&self, at: ElementId, steps: &[&str]) -> Option<ElementId> {
        steps.iter().try_fold(at, |e, name| self.cac(e, name))
    }

    /// The trimmed, non-empty text of the `cbc:` child `name` of `at`.
    pub fn text(&self, at: ElementId, name: &str) -> Option<String> {
        self.cbc(at, name).map(|e| self.doc.text(e)).filter(|t| !t.is_empty()).map(str::to_owned)
    }

    /// The text of `cbc:name` at the end of `cac:` steps.
    pub fn text_in(&self, at: ElementId, steps: &[&str], name: &str) -> Option<String> {
        self.path(at, steps).and_then(|e| self.text(e, name))
    }

    /// A reference at the end of `cac:` steps (`cac:OrderReference/cbc:ID`), left out when it
    /// is `NA` or `N/A`: Peppol documents write `NA` where UBL requires an identifier the
    /// sender does not have (an order reference given only by the seller's order number).
    pub fn reference(&self, at: ElementId, steps: &[&str], name: &str) -> Option<String> {
        self.text_in(at, steps, name).filter(|t| !matches!(t.to_ascii_uppercase().as_str(), "NA" | "N/A"))
    }

    /// A `cbc:` identifier with its `schemeID`.
    pub fn scheme_id(&self, at: ElementId, name: &str) -> Option<(Option<String>, String)> {
        let e = self.cbc(at, name)?;
        let value = self.doc.text(e);
        (!value.is_empty()).then(|| (self.doc.attribute(e, "schemeID").map(|s| s.trim().to_owned()), value.to_owned()))
    }

    /// The text of `cbc:name` as a code, with a problem when it has text but no letter or digit.
    pub fn code(&mut self, at: ElementId, name: &str, what: &str) -> Option<String> {
        let e = self.cbc(at, name)?;
        let raw = self.doc.text(e).to_owned();
        if raw.is_empty() {
            return None;
        }
        let code = to_code(&raw);
        if code.is_none() {
            self.problem(e, format!("{what} {raw:?} has no letters or digits; expected an identifier"));
        }
        code
    }

    /// A required identifier: a problem at `at` when `cbc:name` is missing or empty.
    pub fn required_code(&mut self, at: ElementId, name: &str, what: &str) -> Option<String> {
        let code = self.code(at, name, what);
        if code.is_none() && self.text(at, name).is_none() {
            let at_name = self.doc.get(at).name.clone();
            self.problem(at, format!("<{at_name}> has no cbc:{name}; the {what} is required"));
        }
        code
    }

    /// A date in `cbc:name` (`YYYY-MM-DD`, an XML Schema date, a time zone allowed and ignored).
    pub fn date(&mut self, at: ElementId, name: &str) -> Option<NaiveDate> {
        let e = self.cbc(at, name)?;
        self.date_of(e)
    }

    /// A date at the end of `cac:` steps.
    pub fn date_in(&mut self, at: ElementId, steps: &[&str], name: &str) -> Option<NaiveDate> {
        let e = self.path(at, steps)?;
        self.date(e, name)
    }

    /// The date in an element's text.
    pub fn date_of(&mut self, e: ElementId) -> Option<NaiveDate> {
        let raw = self.doc.text(e).to_owned();
        let parsed = raw.get(..10).filter(|_| valid_zone(raw.get(10..).unwrap_or(""))).and_then(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .filter(|_| d.len() == 10 && d.as_bytes().get(4) == Some(&b'-'))
        });
        if parsed.is_none() {
            let name = self.doc.get(e).name.clone();
            self.problem(e, format!("{name} {raw:?} is not a date; expected YYYY-MM-DD such as 2024-03-31"));
        }
        parsed
    }

    /// A decimal in an element's text (an XML Schema decimal: digits, one optional point and sign).
    pub fn decimal_of(&mut self, e: ElementId) -> Option<Decimal> {
        let raw = self.doc.text(e).to_owned();
        let parsed = parse_decimal(&raw);
        if parsed.is_none() {
            let name = self.doc.get(e).name.clone();
            self.problem(e, format!("{name} {raw:?} is not a decimal number; expected digits with an optional point"));
        }
        parsed
    }

    /// A decimal in `cbc:name`.
    pub fn decimal(&mut self, at: ElementId, name: &str) -> Option<Decimal> {
        let e = self.cbc(at, name)?;
        self.decimal_of(e)
    }

    /// An amount in `cbc:name`, with a problem when its `currencyID` differs from `currency`.
    pub fn amount(&mut self, at: ElementId, name: &str, currency: &str) -> Option<Decimal> {
        let e = self.cbc(at, name)?;
        let value = self.decimal_of(e)?;
        if let Some(c) = self.doc.attribute(e, "currencyID").map(str::trim)
            && !currency.is_empty()
            && c != currency
        {
            self.rule(
                e,
                "BR-CL-04",
                format!(
                    "{name} is in {c} but the document currency is {currency}; amounts must be in the document currency"
                ),
            );
        }
        Some(value)
    }

    /// A quantity in `cbc:name` with its `unitCode` (`EA` when the unit is not given).
    pub fn quantity(&mut self, at: ElementId, name: &str) -> Option<Quantity> {
        let e = self.cbc(at, name)?;
        let value = self.decimal_of(e)?;
        let unit = self.doc.attribute(e, "unitCode").map(str::trim).filter(|u| !u.is_empty()).unwrap_or("EA");
        Some(Quantity { value, unit: UnitCode(unit.to_owned()) })
    }

    /// The net unit price of a `cac:Price`: `cbc:PriceAmount` divided by `cbc:BaseQuantity`,
    /// rounded to six decimal places.
    pub fn unit_price(&mut self, price: ElementId, currency: &str) -> Option<Decimal> {
        let amount = self.amount(price, "PriceAmount", currency)?;
        let base = self.decimal(price, "BaseQuantity").filter(|b| !b.is_zero()).unwrap_or(Decimal::ONE);
        per_unit(amount, base)
    }

    /// An EN 16931 party from a `cac:Party` element.
    pub fn party(&self, party: ElementId) -> Party {
        let tax_vat = self.cacs(party, "PartyTaxScheme").into_iter().find_map(|t| {
            let scheme = self.text_in(t, &["TaxScheme"], "ID");
            scheme.is_none_or(|s| s.eq_ignore_ascii_case("VAT")).then(|| self.text(t, "CompanyID")).flatten()
        });
        let id = self
            .cacs(party, "PartyIdentification")
            .into_iter()
            .filter_map(|p| self.scheme_id(p, "ID"))
            .find(|(scheme, _)| scheme.as_deref() != Some("SEPA"));
        Party {
            name: self
                .text_in(party, &["PartyLegalEntity"], "RegistrationName")
                .or_else(|| self.text_in(party, &["PartyName"], "Name")),
            id,
            legal_id: self.text_in(party, &["PartyLegalEntity"], "CompanyID"),
            vat_id: tax_vat,
            endpoint: self.scheme_id(party, "EndpointID"),
        }
    }

    /// The party under a role element (`cac:SellerSupplierParty/cac:Party`).
    pub fn role_party(&self, at: ElementId, role: &str) -> Option<(ElementId, Party)> {
        let party = self.path(at, &[role, "Party"])?;
        Some((party, self.party(party)))
    }

    /// The code Backroom knows the party in `role` by (see [`Party::code`]).
    pub fn role_code(&self, at: ElementId, role: &str) -> Option<String> {
        self.role_party(at, role).and_then(|(_, p)| p.code())
    }

    /// The code of a place where goods are: its party identification (a GLN) first, then the
    /// endpoint, VAT number and registration.
    pub fn place_code(&self, party: ElementId) -> Option<String> {
        let p = self.party(party);
        [p.id.as_ref().map(|(_, v)| v.as_str()), p.endpoint.as_ref().map(|(_, v)| v.as_str())]
            .into_iter()
            .flatten()
            .find_map(to_code)
            .or_else(|| p.code())
    }

    /// The item of a `cac:Item`: a GTIN when its standard identifier is one, and the buyer's or
    /// seller's item identifier as SKU (see [`SemanticLine::item`]).
    pub fn item(&self, item: ElementId) -> Option<ItemRef> {
        self.semantic_item(item).item()
    }

    /// The identifiers of a `cac:Item` as an EN 16931 line holds them (BT-153, 155–157).
    pub fn semantic_item(&self, item: ElementId) -> SemanticLine {
        SemanticLine {
            name: self.text(item, "Name"),
            seller_item_id: self.text_in(item, &["SellersItemIdentification"], "ID"),
            buyer_item_id: self.text_in(item, &["BuyersItemIdentification"], "ID"),
            standard_item_id: self
                .path(item, &["StandardItemIdentification"])
                .and_then(|s| self.scheme_id(s, "ID"))
                .map(|(scheme, v)| (scheme, v.trim().to_owned())),
            ..SemanticLine::default()
        }
    }

    /// The required `cac:Item` of a line, with a problem when it is missing or names nothing.
    pub fn line_item(&mut self, line: ElementId, what: &str) -> Option<ItemRef> {
        match self.cac(line, "Item") {
            None => {
                self.problem(line, format!("{what} has no cac:Item; the item must be identified"));
                None
            }
            Some(item) => {
                let found = self.item(item);
                if found.is_none() {
                    self.rule(
                        item,
                        "BT-157",
                        format!(
                            "{what} has no standard (GTIN, schemeID 0160), buyer's or seller's item identifier and no item name; one is required"
                        ),
                    );
                }
                found
            }
        }
    }

    /// The moment a document was issued: `cbc:IssueDate` with `cbc:IssueTime` when given (a
    /// time without offset is in the context's default time zone), else midnight UTC.
    pub fn issued_at(&mut self, root: ElementId, date: NaiveDate, ctx: &Context) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN).and_utc();
        let Some(e) = self.cbc(root, "IssueTime") else { return midnight };
        let raw = self.doc.text(e).to_owned();
        match parse_time(&raw) {
            Some((time, Some(offset))) => {
                offset.from_local_datetime(&date.and_time(time)).single().map_or(midnight, |t| t.with_timezone(&Utc))
            }
            Some((time, None)) => ctx
                .default_time_zone
                .from_local_datetime(&date.and_time(time))
                .earliest()
                .map_or(midnight, |t| t.with_timezone(&Utc)),
            None => {
                self.problem(e, format!("IssueTime {raw:?} is not a time; expected hh:mm:ss such as 12:30:00"));
                midnight
            }
        }
    }

    /// A line number: the line's `cbc:ID` when every line's is a whole number, else its position.
    pub fn line_numbers(&self, ids: &[Option<String>]) -> Vec<u32> {
        let numeric: Option<Vec<u32>> = ids.iter().map(|id| id.as_deref().and_then(whole_number)).collect();
        numeric.unwrap_or_else(|| (1..=u32::try_from(ids.len()).unwrap_or(u32::MAX)).collect())
    }
}

/// A whole number (a line identifier such as `1` or `010`).
pub fn whole_number(s: &str) -> Option<u32> {
    let s = s.trim();
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Parses an XML Schema decimal (no exponent, no thousands separators).
pub fn parse_decimal(raw: &str) -> Option<Decimal> {
    let s = raw.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    s.parse::<Decimal>().ok()
}

/// `amount / base` rounded to the money scale, `None` when it overflows.
pub fn per_unit(amount: Decimal, base: Decimal) -> Option<Decimal> {
    amount.checked_div(base).map(|p| p.round_dp(PRICE_SCALE).normalize())
}

/// A time of day with an optional offset (`12:30:00`, `12:30:00.5Z`, `12:00:00+01:00`).
fn parse_time(raw: &str) -> Option<(NaiveTime, Option<FixedOffset>)> {
    let s = raw.trim();
    let (clock, zone) = match s.find(['Z', '+']).or_else(|| s.get(1..).and_then(|t| t.find('-')).map(|i| i + 1)) {
        Some(i) => (s.get(..i)?, s.get(i..)?),
        None => (s, ""),
    };
    let time = NaiveTime::parse_from_str(clock, "%H:%M:%S%.f").ok()?;
    let offset = match zone {
        "" => None,
        "Z" => FixedOffset::east_opt(0),
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let hh: i32 = z.get(1..3)?.parse().ok()?;
            let mm: i32 = z.get(4..6)?.parse().ok()?;
            if z.len() != 6 || z.as_bytes().get(3) != Some(&b':') {
                return None;
            }
            Some(FixedOffset::east_opt(sign * (hh * 3600 + mm * 60))?)
        }
    };
    Some((time, offset))
}

/// Whether what follows a date is empty or a time zone (`Z`, `+01:00`).
fn valid_zone(z: &str) -> bool {
    z.is_empty()
        || z == "Z"
        || (z.len() == 6
            && (z.starts_with('+') || z.starts_with('-'))
            && z.as_bytes().get(3) == Some(&b':')
            && z.bytes().enumerate().all(|(i, b)| i == 0 || i == 3 || b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_times() {
        assert_eq!(parse_decimal(" 12.50 "), Some(Decimal::new(1250, 2)));
        assert_eq!(parse_decimal("+3"), Some(Decimal::from(3)));
        assert_eq!(parse_decimal("-0.5"), Some(Decimal::new(-5, 1)));
        for bad in ["", "1e3", "1,5", ".", "--1", "1.2.3", "NaN"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert!(parse_time("12:00:00+01:00").is_some_and(|(_, o)| o.is_some()));
        assert!(parse_time("12:00:00").is_some_and(|(_, o)| o.is_none()));
        assert!(parse_time("12:00:00-05:00").is_some_and(|(_, o)| o.map(|o| o.local_minus_utc()) == Some(-18000)));
        assert!(parse_time("noon").is_none());
        assert!(valid_zone("+01:00") && valid_zone("") && !valid_zone("x"));
    }
}
