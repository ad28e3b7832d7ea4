//! Invoice and credit note lines: mandatory line fields, price and quantity, line periods,
//! and the line net amount (PEPPOL-EN16931-R120).

use rust_decimal::Decimal;

use super::Flag::Fatal;
use super::arithmetic::{self, decimals, round2, within};
use super::view::{View, cac, cbc};
use super::{Hits, Rule, rule};

/// Every `cac:InvoiceLine` and `cac:CreditNoteLine`.
fn lines<'v>(v: &'v View<'_>) -> impl Iterator<Item = usize> + 'v {
    v.order.iter().copied().filter(move |&e| v.is(e, cac("InvoiceLine")) || v.is(e, cac("CreditNoteLine")))
}

fn each_line(v: &View<'_>, h: &mut Hits, ok: impl Fn(&View<'_>, usize) -> bool) {
    for l in lines(v) {
        h.unless(ok(v, l), l);
    }
}

/// Line periods (`cac:InvoiceLine/cac:InvoicePeriod`).
fn line_periods<'v>(v: &'v View<'_>) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("InvoicePeriod"))
        .filter(move |&p| v.parent_is(p, cac("InvoiceLine")) || v.parent_is(p, cac("CreditNoteLine")))
}

/// The sum of a line's allowances (`charge` false) or charges, rounded to two decimals; `None`
/// when an amount is not a number.
fn line_allowances(v: &View<'_>, line: usize, charge: &str) -> Option<Decimal> {
    let amounts: Option<Vec<Decimal>> = v
        .kids(line, cac("AllowanceCharge"))
        .filter(|&a| v.text_at(a, &[cbc("ChargeIndicator")]) == charge)
        .flat_map(|a| v.kids(a, cbc("Amount")).collect::<Vec<_>>())
        .map(|e| v.dec(e))
        .collect();
    arithmetic::sum(amounts?).map(round2)
}

/// R110/R111: a line period date against the document's period date.
fn within_document_period(v: &View<'_>, h: &mut Hits, name: &'static str, after: bool) {
    if !v.is_document() {
        return;
    }
    let root = v.root();
    let Some(document) = v.at(root, &[cac("InvoicePeriod"), cbc(name)]).first().copied() else { return };
    for line in v.kids(root, cac(v.line_name())).collect::<Vec<_>>() {
        for date in v.at(line, &[cac("InvoicePeriod"), cbc(name)]) {
            let ok = match (arithmetic::date(v.text(date)), arithmetic::date(v.text(document))) {
                (Some(l), Some(d)) => {
                    if after {
                        l >= d
                    } else {
                        l <= d
                    }
                }
                _ => false,
            };
            if !ok {
                h.found(date, format!("line {}, invoice period {}", v.text(date), v.text(document)));
            }
        }
    }
}

/// Line rules.
pub(super) const RULES: &[Rule] = &[
    rule(
        "BR-21",
        Fatal,
        &["BG-25", "BT-126"],
        "Each Invoice line (BG-25) shall have an Invoice line identifier (BT-126).",
        |v, h| each_line(v, h, |v, l| v.filled(l, &[cbc("ID")])),
    ),
    rule(
        "BR-22",
        Fatal,
        &["BG-25", "BT-129"],
        "Each Invoice line (BG-25) shall have an Invoiced quantity (BT-129).",
        |v, h| each_line(v, h, |v, l| v.has(l, &[cbc("InvoicedQuantity")]) || v.has(l, &[cbc("CreditedQuantity")])),
    ),
    rule(
        "BR-23",
        Fatal,
        &["BG-25", "BT-130"],
        "An Invoice line (BG-25) shall have an Invoiced quantity unit of measure code (BT-130).",
        |v, h| {
            each_line(v, h, |v, l| {
                v.kids(l, cbc("InvoicedQuantity"))
                    .chain(v.kids(l, cbc("CreditedQuantity")))
                    .any(|q| v.attr(q, "unitCode").is_some())
            })
        },
    ),
    rule(
        "BR-24",
        Fatal,
        &["BG-25", "BT-131"],
        "Each Invoice line (BG-25) shall have an Invoice line net amount (BT-131).",
        |v, h| each_line(v, h, |v, l| v.has(l, &[cbc("LineExtensionAmount")])),
    ),
    rule(
        "BR-25",
        Fatal,
        &["BG-25", "BT-153"],
        "Each Invoice line (BG-25) shall contain the Item name (BT-153).",
        |v, h| each_line(v, h, |v, l| v.filled(l, &[cac("Item"), cbc("Name")])),
    ),
    rule(
        "BR-26",
        Fatal,
        &["BG-25", "BT-146"],
        "Each Invoice line (BG-25) shall contain the Item net price (BT-146).",
        |v, h| each_line(v, h, |v, l| v.has(l, &[cac("Price"), cbc("PriceAmount")])),
    ),
    rule("BR-27", Fatal, &["BT-146"], "The Item net price (BT-146) shall NOT be negative.", |v, h| {
        each_line(v, h, |v, l| {
            v.at(l, &[cac("Price"), cbc("PriceAmount")]).iter().any(|&p| v.dec(p).is_some_and(|d| d >= Decimal::ZERO))
        })
    }),
    rule("BR-28", Fatal, &["BT-148"], "The Item gross price (BT-148) shall NOT be negative.", |v, h| {
        each_line(v, h, |v, l| {
            let gross = v.at(l, &[cac("Price"), cac("AllowanceCharge"), cbc("BaseAmount")]);
            gross.is_empty() || gross.iter().any(|&g| v.dec(g).is_some_and(|d| d >= Decimal::ZERO))
        })
    }),
    rule(
        "BR-CO-04",
        Fatal,
        &["BG-25", "BT-151"],
        "Each Invoice line (BG-25) shall be categorized with an Invoiced item VAT category code (BT-151).",
        |v, h| {
            each_line(v, h, |v, l| {
                v.at(l, &[cac("Item"), cac("ClassifiedTaxCategory")])
                    .into_iter()
                    .any(|c| v.vat_scheme(c) && v.has(c, &[cbc("ID")]))
            })
        },
    ),
    rule(
        "BR-DEC-23",
        Fatal,
        &["BT-131"],
        "The allowed maximum number of decimals for the Invoice line net amount (BT-131) is 2.",
        |v, h| {
            for l in lines(v) {
                if let Some(a) = v.kid(l, cbc("LineExtensionAmount"))
                    && decimals(v.text(a)) > 2
                {
                    h.found(a, format!("found {}", v.text(a)));
                }
            }
        },
    ),
    rule("PEPPOL-EN16931-R100", Fatal, &["BT-128"], "Only one invoiced object is allowed pr line.", |v, h| {
        each_line(v, h, |v, l| v.kids(l, cac("DocumentReference")).count() <= 1)
    }),
    rule(
        "PEPPOL-EN16931-R101",
        Fatal,
        &["BT-128"],
        "Element Document reference can only be used for Invoice line object.",
        |v, h| {
            each_line(v, h, |v, l| {
                !v.has(l, &[cac("DocumentReference")])
                    || v.at(l, &[cac("DocumentReference"), cbc("DocumentTypeCode")]).iter().any(|&c| v.raw(c) == "130")
            })
        },
    ),
    rule(
        "PEPPOL-EN16931-R110",
        Fatal,
        &["BT-134", "BT-73"],
        "Start date of line period MUST be within invoice period.",
        |v, h| within_document_period(v, h, "StartDate", true),
    ),
    rule(
        "PEPPOL-EN16931-R111",
        Fatal,
        &["BT-135", "BT-74"],
        "End date of line period MUST be within invoice period.",
        |v, h| within_document_period(v, h, "EndDate", false),
    ),
    rule(
        "PEPPOL-EN16931-R120",
        Fatal,
        &["BT-131", "BT-129", "BT-146", "BT-149", "BT-136", "BT-141"],
        "Invoice line net amount MUST equal (Invoiced quantity * (Item net price/item price base quantity) + Sum of invoice line charge amount - sum of invoice line allowance amount.",
        |v, h| {
            let quantity_name = if v.invoice { "InvoicedQuantity" } else { "CreditedQuantity" };
            for l in lines(v) {
                let number = |e: Option<usize>, default: Decimal| e.map_or(Some(default), |e| v.dec(e));
                let net = number(v.kid(l, cbc("LineExtensionAmount")), Decimal::ZERO);
                let quantity = number(v.kid(l, cbc(quantity_name)), Decimal::ONE);
                let price = number(v.at(l, &[cac("Price"), cbc("PriceAmount")]).first().copied(), Decimal::ZERO);
                let base = match v.at(l, &[cac("Price"), cbc("BaseQuantity")]).first() {
                    Some(&b) => v.dec(b).map(|d| if d.is_zero() { Decimal::ONE } else { d }),
                    None => Some(Decimal::ONE),
                };
                let charges = line_allowances(v, l, "true");
                let allowances = line_allowances(v, l, "false");
                let expected = (|| {
                    let unit = price?.checked_div(base?)?;
                    quantity?.checked_mul(unit)?.checked_add(charges?)?.checked_sub(allowances?)
                })();
                match (expected, net) {
                    (Some(e), Some(n)) if within(e, n, Decimal::new(2, 2)) => {}
                    (Some(e), Some(n)) => h.found(l, format!("line net amount {n}, calculated {}", e.round_dp(4))),
                    _ => h.found(l, "quantity, price, base quantity or amounts are not numbers".into()),
                }
            }
        },
    ),
    rule("PEPPOL-EN16931-R121", Fatal, &["BT-149"], "Base quantity MUST be a positive number above zero.", |v, h| {
        each_line(v, h, |v, l| {
            let base = v.at(l, &[cac("Price"), cbc("BaseQuantity")]);
            base.is_empty() || base.first().and_then(|&b| v.dec(b)).is_some_and(|d| d > Decimal::ZERO)
        })
    }),
    rule(
        "PEPPOL-EN16931-R130",
        Fatal,
        &["BT-150", "BT-130"],
        "Unit code of price base quantity MUST be same as invoiced quantity.",
        |v, h| {
            let quantity_name = if v.invoice { "InvoicedQuantity" } else { "CreditedQuantity" };
            for b in v.all(cbc("BaseQuantity")).filter(|&b| v.parent_is(b, cac("Price"))) {
                let Some(unit) = v.attr(b, "unitCode") else { continue };
                let Some(line) = v.parent(b).and_then(|p| v.parent(p)) else { continue };
                let has_quantity = v.has(line, &[cbc("InvoicedQuantity")]) || v.has(line, &[cbc("CreditedQuantity")]);
                let same = v.kids(line, cbc(quantity_name)).any(|q| v.attr(q, "unitCode") == Some(unit));
                h.unless(!has_quantity || same, b);
            }
        },
    ),
    rule(
        "BR-30",
        Fatal,
        &["BT-134", "BT-135"],
        "If both Invoice line period start date (BT-134) and Invoice line period end date (BT-135) are given then the Invoice line period end date (BT-135) shall be later or equal to the Invoice line period start date (BT-134).",
        |v, h| {
            for p in line_periods(v) {
                h.unless(super::document::period_ordered(v, p), p);
            }
        },
    ),
    rule(
        "BR-CO-20",
        Fatal,
        &["BG-26", "BT-134", "BT-135"],
        "If Invoice line period (BG-26) is used, the Invoice line period start date (BT-134) or the Invoice line period end date (BT-135) shall be filled, or both.",
        |v, h| {
            for p in line_periods(v) {
                h.unless(v.has(p, &[cbc("StartDate")]) || v.has(p, &[cbc("EndDate")]), p);
            }
        },
    ),
    rule(
        "BR-54",
        Fatal,
        &["BG-32", "BT-160", "BT-161"],
        "Each Item attribute (BG-32) shall contain an Item attribute name (BT-160) and an Item attribute value (BT-161).",
        |v, h| {
            for p in v.all(cac("AdditionalItemProperty")) {
                h.unless(v.has(p, &[cbc("Name")]) && v.has(p, &[cbc("Value")]), p);
            }
        },
    ),
    rule(
        "BR-64",
        Fatal,
        &["BT-157"],
        "The Item standard identifier (BT-157) shall have a Scheme identifier.",
        |v, h| {
            for l in lines(v) {
                for i in v.at(l, &[cac("Item"), cac("StandardItemIdentification"), cbc("ID")]) {
                    h.unless(v.attr(i, "schemeID").is_some(), i);
                }
            }
        },
    ),
    rule(
        "BR-65",
        Fatal,
        &["BT-158"],
        "The Item classification identifier (BT-158) shall have a Scheme identifier.",
        |v, h| {
            for l in lines(v) {
                for i in v.at(l, &[cac("Item"), cac("CommodityClassification"), cbc("ItemClassificationCode")]) {
                    h.unless(v.attr(i, "listID").is_some(), i);
                }
            }
        },
    ),
];
