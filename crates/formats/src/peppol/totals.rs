//! Document totals (BG-22) and the VAT total: presence, sums (BR-CO-10 to BR-CO-16), decimals
//! and currencies.

use rust_decimal::Decimal;

use super::Flag::Fatal;
use super::arithmetic::{self, decimals, round2};
use super::view::{View, cac, cbc};
use super::{Hits, Rule, rule};

fn totals<'v>(v: &'v View<'_>) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("LegalMonetaryTotal"))
}

fn total_has(v: &View<'_>, h: &mut Hits, name: &'static str) {
    for t in totals(v) {
        h.unless(v.has(t, &[cbc(name)]), t);
    }
}

fn total_decimals(v: &View<'_>, h: &mut Hits, name: &'static str) {
    for t in totals(v) {
        if let Some(e) = v.kid(t, cbc(name))
            && decimals(v.text(e)) > 2
        {
            h.found(e, format!("found {}", v.text(e)));
        }
    }
}

/// A total's amount: `Ok(None)` when absent, `Err` when present but not a number.
fn amount(v: &View<'_>, total: usize, name: &'static str) -> Result<Option<Decimal>, ()> {
    match v.kid(total, cbc(name)) {
        None => Ok(None),
        Some(e) => v.dec(e).map(Some).ok_or(()),
    }
}

/// Reports `at` unless `actual` equals `expected`; an unreadable or missing number breaks the rule.
fn equal(h: &mut Hits, at: usize, actual: Option<Decimal>, expected: Option<Decimal>) {
    match (actual, expected) {
        (Some(a), Some(e)) if a == e => {}
        (Some(a), Some(e)) => h.found(at, format!("found {a}, calculated {e}")),
        _ => h.found(at, "an amount is missing or not a number".into()),
    }
}

/// Sum of the document-level allowances (`false`) or charges (`true`) next to a total.
fn document_allowances(v: &View<'_>, total: usize, charge: bool) -> (usize, Option<Decimal>) {
    let Some(parent) = v.parent(total) else { return (0, Some(Decimal::ZERO)) };
    let items: Vec<usize> =
        v.kids(parent, cac("AllowanceCharge")).filter(|&a| v.charge_indicator(a) == Some(charge)).collect();
    let amounts: Option<Vec<Decimal>> =
        items.iter().flat_map(|&a| v.kids(a, cbc("Amount")).collect::<Vec<_>>()).map(|e| v.dec(e)).collect();
    (items.len(), amounts.and_then(arithmetic::sum).map(round2))
}

/// Totals rules.
pub(super) const RULES: &[Rule] = &[
    rule("BR-12", Fatal, &["BT-106"], "An Invoice shall have the Sum of Invoice line net amount (BT-106).", |v, h| {
        total_has(v, h, "LineExtensionAmount")
    }),
    rule(
        "BR-13",
        Fatal,
        &["BT-109"],
        "An Invoice shall have the Invoice total amount without VAT (BT-109).",
        |v, h| total_has(v, h, "TaxExclusiveAmount"),
    ),
    rule("BR-14", Fatal, &["BT-112"], "An Invoice shall have the Invoice total amount with VAT (BT-112).", |v, h| {
        total_has(v, h, "TaxInclusiveAmount")
    }),
    rule("BR-15", Fatal, &["BT-115"], "An Invoice shall have the Amount due for payment (BT-115).", |v, h| {
        total_has(v, h, "PayableAmount")
    }),
    rule(
        "BR-CO-10",
        Fatal,
        &["BT-106", "BT-131"],
        "Sum of Invoice line net amount (BT-106) = Σ Invoice line net amount (BT-131).",
        |v, h| {
            let line_amounts: Option<Vec<Decimal>> = v
                .order
                .iter()
                .filter(|&&e| v.is(e, cac("InvoiceLine")) || v.is(e, cac("CreditNoteLine")))
                .flat_map(|&l| v.kids(l, cbc("LineExtensionAmount")).collect::<Vec<_>>())
                .map(|e| v.dec(e))
                .collect();
            let expected = line_amounts.and_then(arithmetic::sum).map(round2);
            for t in totals(v) {
                let at = v.kid(t, cbc("LineExtensionAmount")).unwrap_or(t);
                equal(h, at, amount(v, t, "LineExtensionAmount").ok().flatten(), expected);
            }
        },
    ),
    rule(
        "BR-CO-11",
        Fatal,
        &["BT-107", "BT-92"],
        "Sum of allowances on document level (BT-107) = Σ Document level allowance amount (BT-92).",
        |v, h| {
            for t in totals(v) {
                let (count, sum) = document_allowances(v, t, false);
                match (v.kid(t, cbc("AllowanceTotalAmount")), count) {
                    (None, 0) => {}
                    (Some(e), _) => equal(h, e, v.dec(e), sum),
                    (None, _) => h.found(t, "document level allowances are given but no AllowanceTotalAmount".into()),
                }
            }
        },
    ),
    rule(
        "BR-CO-12",
        Fatal,
        &["BT-108", "BT-99"],
        "Sum of charges on document level (BT-108) = Σ Document level charge amount (BT-99).",
        |v, h| {
            for t in totals(v) {
                let (count, sum) = document_allowances(v, t, true);
                match (v.kid(t, cbc("ChargeTotalAmount")), count) {
                    (None, 0) => {}
                    (Some(e), _) => equal(h, e, v.dec(e), sum),
                    (None, _) => h.found(t, "document level charges are given but no ChargeTotalAmount".into()),
                }
            }
        },
    ),
    rule(
        "BR-CO-13",
        Fatal,
        &["BT-109", "BT-106", "BT-107", "BT-108"],
        "Invoice total amount without VAT (BT-109) = Σ Invoice line net amount (BT-131) - Sum of allowances on document level (BT-107) + Sum of charges on document level (BT-108).",
        |v, h| {
            for t in totals(v) {
                let at = v.kid(t, cbc("TaxExclusiveAmount")).unwrap_or(t);
                let expected = (|| {
                    let lines = amount(v, t, "LineExtensionAmount").ok()??;
                    let charges = amount(v, t, "ChargeTotalAmount").ok()?.unwrap_or_default();
                    let allowances = amount(v, t, "AllowanceTotalAmount").ok()?.unwrap_or_default();
                    Some(round2(lines.checked_add(charges)?.checked_sub(allowances)?))
                })();
                equal(h, at, amount(v, t, "TaxExclusiveAmount").ok().flatten(), expected);
            }
        },
    ),
    rule(
        "BR-CO-16",
        Fatal,
        &["BT-115", "BT-112", "BT-113", "BT-114"],
        "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) - Paid amount (BT-113) + Rounding amount (BT-114).",
        |v, h| {
            for t in totals(v) {
                let at = v.kid(t, cbc("PayableAmount")).unwrap_or(t);
                let computed = (|| {
                    let payable = amount(v, t, "PayableAmount").ok()??;
                    let with_vat = amount(v, t, "TaxInclusiveAmount").ok()??;
                    let paid = amount(v, t, "PrepaidAmount").ok()?.unwrap_or_default();
                    let rounding = amount(v, t, "PayableRoundingAmount").ok()?.unwrap_or_default();
                    Some((round2(payable.checked_sub(rounding)?), round2(with_vat.checked_sub(paid)?)))
                })();
                match computed {
                    Some((a, e)) => equal(h, at, Some(a), Some(e)),
                    None => equal(h, at, None, None),
                }
            }
        },
    ),
    rule(
        "BR-DEC-09",
        Fatal,
        &["BT-106"],
        "The allowed maximum number of decimals for the Sum of Invoice line net amount (BT-106) is 2.",
        |v, h| total_decimals(v, h, "LineExtensionAmount"),
    ),
    rule(
        "BR-DEC-10",
        Fatal,
        &["BT-107"],
        "The allowed maximum number of decimals for the Sum of allowances on document level (BT-107) is 2.",
        |v, h| total_decimals(v, h, "AllowanceTotalAmount"),
    ),
    rule(
        "BR-DEC-11",
        Fatal,
        &["BT-108"],
        "The allowed maximum number of decimals for the Sum of charges on document level (BT-108) is 2.",
        |v, h| total_decimals(v, h, "ChargeTotalAmount"),
    ),
    rule(
        "BR-DEC-12",
        Fatal,
        &["BT-109"],
        "The allowed maximum number of decimals for the Invoice total amount without VAT (BT-109) is 2.",
        |v, h| total_decimals(v, h, "TaxExclusiveAmount"),
    ),
    rule(
        "BR-DEC-14",
        Fatal,
        &["BT-112"],
        "The allowed maximum number of decimals for the Invoice total amount with VAT (BT-112) is 2.",
        |v, h| total_decimals(v, h, "TaxInclusiveAmount"),
    ),
    rule(
        "BR-DEC-16",
        Fatal,
        &["BT-113"],
        "The allowed maximum number of decimals for the Paid amount (BT-113) is 2.",
        |v, h| total_decimals(v, h, "PrepaidAmount"),
    ),
    rule(
        "BR-DEC-17",
        Fatal,
        &["BT-114"],
        "The allowed maximum number of decimals for the Rounding amount (BT-114) is 2.",
        |v, h| total_decimals(v, h, "PayableRoundingAmount"),
    ),
    rule(
        "BR-DEC-18",
        Fatal,
        &["BT-115"],
        "The allowed maximum number of decimals for the Amount due for payment (BT-115) is 2.",
        |v, h| total_decimals(v, h, "PayableAmount"),
    ),
    rule(
        "BR-CO-14",
        Fatal,
        &["BT-110", "BT-117"],
        "Invoice total VAT amount (BT-110) = Σ VAT category tax amount (BT-117).",
        |v, h| {
            if !v.is_document() {
                return;
            }
            for t in v.kids(v.root(), cac("TaxTotal")).collect::<Vec<_>>() {
                let subtotals: Vec<usize> = v.kids(t, cac("TaxSubtotal")).collect();
                if subtotals.is_empty() {
                    continue;
                }
                let amounts: Option<Vec<Decimal>> = subtotals
                    .iter()
                    .flat_map(|&s| v.kids(s, cbc("TaxAmount")).collect::<Vec<_>>())
                    .map(|e| v.dec(e))
                    .collect();
                let at = v.kid(t, cbc("TaxAmount")).unwrap_or(t);
                equal(h, at, v.dec_at(t, &[cbc("TaxAmount")]), amounts.and_then(arithmetic::sum).map(round2));
            }
        },
    ),
    rule(
        "BR-CO-15",
        Fatal,
        &["BT-112", "BT-109", "BT-110"],
        "Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) + Invoice total VAT amount (BT-110).",
        |v, h| {
            if !v.is_document() {
                return;
            }
            let root = v.root();
            for currency in v.kids(root, cbc("DocumentCurrencyCode")).collect::<Vec<_>>() {
                let code = v.raw(currency);
                let vat: Vec<usize> = v
                    .kids(root, cac("TaxTotal"))
                    .flat_map(|t| v.kids(t, cbc("TaxAmount")).collect::<Vec<_>>())
                    .filter(|&a| v.attr(a, "currencyID") == Some(code))
                    .collect();
                let totals: Vec<usize> = v.kids(root, cac("LegalMonetaryTotal")).collect();
                let at = totals.first().and_then(|&t| v.kid(t, cbc("TaxInclusiveAmount"))).unwrap_or(root);
                if vat.len() != 1 {
                    h.found(at, format!("{} invoice total VAT amounts in {code}, expected exactly one", vat.len()));
                    continue;
                }
                let value = |name| totals.first().and_then(|&t| v.dec_at(t, &[cbc(name)]));
                let expected = (|| Some(round2(value("TaxExclusiveAmount")?.checked_add(v.dec(*vat.first()?)?)?)))();
                equal(h, at, value("TaxInclusiveAmount"), expected);
            }
        },
    ),
    rule(
        "BR-DEC-13",
        Fatal,
        &["BT-110"],
        "The allowed maximum number of decimals for the Invoice total VAT amount (BT-110) is 2.",
        |v, h| {
            let currency = v.currency();
            for a in v.all(cbc("TaxAmount")).filter(|&a| v.parent_is(a, cac("TaxTotal"))) {
                if v.attr(a, "currencyID") == Some(currency) && decimals(v.text(a)) > 2 {
                    h.found(a, format!("found {}", v.text(a)));
                }
            }
        },
    ),
    rule(
        "BR-DEC-15",
        Fatal,
        &["BT-111"],
        "The allowed maximum number of decimals for the Invoice total VAT amount in accounting currency (BT-111) is 2.",
        |v, h| {
            let Some(currency) = v.tax_currency() else { return };
            for a in v.all(cbc("TaxAmount")).filter(|&a| v.parent_is(a, cac("TaxTotal"))) {
                if v.attr(a, "currencyID") == Some(currency) && decimals(v.text(a)) > 2 {
                    h.found(a, format!("found {}", v.text(a)));
                }
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R051",
        Fatal,
        &["BT-5"],
        "All currencyID attributes must have the same value as the invoice currency code (BT-5), except for the invoice total VAT amount in accounting currency (BT-111).",
        |v, h| {
            let currency = v.currency();
            for &e in &v.order {
                if !document_currency_amount(v, e) {
                    continue;
                }
                let found = v.attr(e, "currencyID");
                if found != Some(currency) || currency.is_empty() {
                    h.found(e, format!("currencyID {:?}, invoice currency {currency:?}", found.unwrap_or("")));
                }
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R053",
        Fatal,
        &["BT-110"],
        "Only one tax total with tax subtotals MUST be provided.",
        |v, h| {
            if v.is_document() {
                let r = v.root();
                let n = v.kids(r, cac("TaxTotal")).filter(|&t| v.has(t, &[cac("TaxSubtotal")])).count();
                h.unless(n == 1, r);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R054",
        Fatal,
        &["BT-111", "BT-6"],
        "Only one tax total without tax subtotals MUST be provided when tax currency code is provided.",
        |v, h| {
            if v.is_document() {
                let r = v.root();
                let n = v.kids(r, cac("TaxTotal")).filter(|&t| !v.has(t, &[cac("TaxSubtotal")])).count();
                let expected = usize::from(v.has(r, &[cbc("TaxCurrencyCode")]));
                h.unless(n == expected, r);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R055",
        Fatal,
        &["BT-110", "BT-111"],
        "Invoice total VAT amount and Invoice total VAT amount in accounting currency MUST have the same operational sign.",
        |v, h| {
            if !v.is_document() {
                return;
            }
            let r = v.root();
            let Some(tax_currency) = v.tax_currency() else { return };
            let document_currency = v.currency();
            let amounts = |code: &str| -> Vec<Decimal> {
                v.at(r, &[cac("TaxTotal"), cbc("TaxAmount")])
                    .into_iter()
                    .filter(|&a| v.attr(a, "currencyID") == Some(code))
                    .filter_map(|a| v.dec(a))
                    .collect()
            };
            let (tax, document) = (amounts(tax_currency), amounts(document_currency));
            let both = |f: fn(&Decimal) -> bool| tax.iter().any(f) && document.iter().any(f);
            h.unless(both(|d| *d <= Decimal::ZERO) || both(|d| *d >= Decimal::ZERO), r);
        },
    ),
];

/// The amounts R051 looks at: every amount in the document currency (not BT-111, the VAT total
/// of a `cac:TaxTotal` without subtotals).
fn document_currency_amount(v: &View<'_>, e: usize) -> bool {
    const AMOUNTS: [&str; 12] = [
        "Amount",
        "BaseAmount",
        "PriceAmount",
        "TaxableAmount",
        "LineExtensionAmount",
        "TaxExclusiveAmount",
        "TaxInclusiveAmount",
        "AllowanceTotalAmount",
        "ChargeTotalAmount",
        "PrepaidAmount",
        "PayableRoundingAmount",
        "PayableAmount",
    ];
    let el = v.doc.get(e);
    if el.namespace != super::view::CBC {
        return false;
    }
    if AMOUNTS.contains(&el.name.as_str()) {
        return true;
    }
    el.name == "TaxAmount"
        && v.parent(e).is_some_and(|p| {
            v.is(p, cac("TaxSubtotal")) || (v.is(p, cac("TaxTotal")) && v.has(p, &[cac("TaxSubtotal")]))
        })
}
