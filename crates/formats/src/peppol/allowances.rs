//! Allowances and charges on document, line and price level.

use rust_decimal::Decimal;

use super::Flag::Fatal;
use super::arithmetic::{decimals, within};
use super::view::{View, cac, cbc};
use super::{Hits, Rule, rule};

/// Document-level and line-level allowances and charges as Peppol's rules see them
/// (`Invoice/cac:AllowanceCharge | Invoice/cac:InvoiceLine/cac:AllowanceCharge`, and the same
/// for credit notes).
fn peppol_allowances<'v>(v: &'v View<'_>) -> impl Iterator<Item = usize> + 'v {
    let root = v.root();
    v.all(cac("AllowanceCharge")).filter(move |&a| {
        let Some(p) = v.parent(a) else { return false };
        (p == root && v.is_document()) || (v.is_document() && v.parent(p) == Some(root) && v.is(p, cac(v.line_name())))
    })
}

/// Which of Peppol's allowance rules an allowance falls to: the Schematron checks an element
/// against the first rule of the pattern whose context matches.
#[derive(PartialEq)]
enum Context {
    PercentWithoutBase,
    BaseWithoutPercent,
    General,
}

fn context(v: &View<'_>, a: usize) -> Context {
    let percent = v.has(a, &[cbc("MultiplierFactorNumeric")]);
    let base = v.has(a, &[cbc("BaseAmount")]);
    match (percent, base) {
        (true, false) => Context::PercentWithoutBase,
        (false, true) => Context::BaseWithoutPercent,
        _ => Context::General,
    }
}

/// Allowances (`charge` false) or charges (`charge` true) directly on the root document.
fn document_level<'v>(v: &'v View<'_>, charge: bool) -> impl Iterator<Item = usize> + 'v {
    let root = v.root();
    v.kids(root, cac("AllowanceCharge")).filter(move |&a| v.is_document() && v.charge_indicator(a) == Some(charge))
}

/// Allowances or charges of invoice or credit note lines.
fn line_level<'v>(v: &'v View<'_>, charge: bool) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("AllowanceCharge")).filter(move |&a| {
        (v.parent_is(a, cac("InvoiceLine")) || v.parent_is(a, cac("CreditNoteLine")))
            && v.charge_indicator(a) == Some(charge)
    })
}

fn needs_amount(v: &View<'_>, h: &mut Hits, each: impl Iterator<Item = usize>) {
    for a in each {
        h.unless(v.has(a, &[cbc("Amount")]), a);
    }
}

fn needs_reason(v: &View<'_>, h: &mut Hits, each: impl Iterator<Item = usize>) {
    for a in each {
        h.unless(v.has(a, &[cbc("AllowanceChargeReason")]) || v.has(a, &[cbc("AllowanceChargeReasonCode")]), a);
    }
}

fn needs_vat_category(v: &View<'_>, h: &mut Hits, each: impl Iterator<Item = usize>) {
    for a in each {
        let ok = v.kids(a, cac("TaxCategory")).any(|c| v.vat_scheme(c) && v.has(c, &[cbc("ID")]));
        h.unless(ok, a);
    }
}

fn two_decimals(v: &View<'_>, h: &mut Hits, each: impl Iterator<Item = usize>, name: &'static str) {
    for a in each {
        if let Some(e) = v.kid(a, cbc(name))
            && decimals(v.text(e)) > 2
        {
            h.found(e, format!("found {}", v.text(e)));
        }
    }
}

/// Allowance and charge rules.
pub(super) const RULES: &[Rule] = &[
    rule(
        "PEPPOL-EN16931-R040",
        Fatal,
        &[
            "BT-92", "BT-93", "BT-94", "BT-99", "BT-100", "BT-101", "BT-136", "BT-137", "BT-138", "BT-141", "BT-142",
            "BT-143",
        ],
        "Allowance/charge amount must equal base amount * percentage/100 if base amount and percentage exists.",
        |v, h| {
            for a in peppol_allowances(v).filter(|&a| context(v, a) == Context::General) {
                let (Some(base), Some(percent)) =
                    (v.kid(a, cbc("BaseAmount")), v.kid(a, cbc("MultiplierFactorNumeric")))
                else {
                    continue;
                };
                let amount = match v.kid(a, cbc("Amount")) {
                    Some(e) => v.dec(e),
                    None => Some(Decimal::ZERO),
                };
                let expected = v
                    .dec(base)
                    .zip(v.dec(percent))
                    .and_then(|(b, p)| b.checked_mul(p))
                    .map(|x| x / Decimal::ONE_HUNDRED);
                match (expected, amount) {
                    (Some(e), Some(a_)) if within(e, a_, Decimal::new(2, 2)) => {}
                    (Some(e), Some(a_)) => h.found(a, format!("amount {a_}, base × percentage / 100 = {e}")),
                    _ => h.found(a, "amount, base amount or percentage is not a number".into()),
                }
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R041",
        Fatal,
        &["BT-93", "BT-94", "BT-100", "BT-101", "BT-137", "BT-138", "BT-142", "BT-143"],
        "Allowance/charge base amount MUST be provided when allowance/charge percentage is provided.",
        |v, h| {
            for a in peppol_allowances(v).filter(|&a| context(v, a) == Context::PercentWithoutBase) {
                h.at(a);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R042",
        Fatal,
        &["BT-93", "BT-94", "BT-100", "BT-101", "BT-137", "BT-138", "BT-142", "BT-143"],
        "Allowance/charge percentage MUST be provided when allowance/charge base amount is provided.",
        |v, h| {
            for a in peppol_allowances(v).filter(|&a| context(v, a) == Context::BaseWithoutPercent) {
                h.at(a);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R043",
        Fatal,
        &["BG-20", "BG-21", "BG-27", "BG-28"],
        "Allowance/charge ChargeIndicator value MUST equal 'true' or 'false'.",
        |v, h| {
            for a in peppol_allowances(v).filter(|&a| context(v, a) == Context::General) {
                let indicator = v.text_at(a, &[cbc("ChargeIndicator")]);
                h.unless(indicator == "true" || indicator == "false", a);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R044",
        Fatal,
        &["BT-147"],
        "Charge on price level is NOT allowed. Only value 'false' allowed.",
        |v, h| {
            for a in v.all(cac("AllowanceCharge")).filter(|&a| v.parent_is(a, cac("Price"))) {
                h.unless(v.text_at(a, &[cbc("ChargeIndicator")]) == "false", a);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R046",
        Fatal,
        &["BT-146", "BT-147", "BT-148"],
        "Item net price MUST equal (Gross price - Allowance amount) when gross price is provided.",
        |v, h| {
            for a in v.all(cac("AllowanceCharge")).filter(|&a| v.parent_is(a, cac("Price"))) {
                let Some(gross) = v.kid(a, cbc("BaseAmount")) else { continue };
                let net = v.parent(a).and_then(|p| v.dec_at(p, &[cbc("PriceAmount")]));
                let discount = v.dec_at(a, &[cbc("Amount")]);
                match (net, v.dec(gross), discount) {
                    (Some(n), Some(g), Some(d)) if n == g - d => {}
                    (Some(n), Some(g), Some(d)) => {
                        h.found(a, format!("net price {n}, gross {g} - allowance {d} = {}", g - d))
                    }
                    _ => h.found(a, "net price, gross price or allowance amount missing or not a number".into()),
                }
            }
        },
    ),
    rule(
        "BR-31",
        Fatal,
        &["BG-20", "BT-92"],
        "Each Document level allowance (BG-20) shall have a Document level allowance amount (BT-92).",
        |v, h| needs_amount(v, h, document_level(v, false)),
    ),
    rule(
        "BR-32",
        Fatal,
        &["BG-20", "BT-95"],
        "Each Document level allowance (BG-20) shall have a Document level allowance VAT category code (BT-95).",
        |v, h| needs_vat_category(v, h, document_level(v, false)),
    ),
    rule(
        "BR-33",
        Fatal,
        &["BG-20", "BT-97", "BT-98"],
        "Each Document level allowance (BG-20) shall have a Document level allowance reason (BT-97) or a Document level allowance reason code (BT-98).",
        |v, h| needs_reason(v, h, document_level(v, false)),
    ),
    rule(
        "BR-CO-21",
        Fatal,
        &["BG-20", "BT-97", "BT-98"],
        "Each Document level allowance (BG-20) shall contain a Document level allowance reason (BT-97) or a Document level allowance reason code (BT-98), or both.",
        |v, h| needs_reason(v, h, document_level(v, false)),
    ),
    rule(
        "BR-DEC-01",
        Fatal,
        &["BT-92"],
        "The allowed maximum number of decimals for the Document level allowance amount (BT-92) is 2.",
        |v, h| two_decimals(v, h, document_level(v, false), "Amount"),
    ),
    rule(
        "BR-DEC-02",
        Fatal,
        &["BT-93"],
        "The allowed maximum number of decimals for the Document level allowance base amount (BT-93) is 2.",
        |v, h| two_decimals(v, h, document_level(v, false), "BaseAmount"),
    ),
    rule(
        "BR-36",
        Fatal,
        &["BG-21", "BT-99"],
        "Each Document level charge (BG-21) shall have a Document level charge amount (BT-99).",
        |v, h| needs_amount(v, h, document_level(v, true)),
    ),
    rule(
        "BR-37",
        Fatal,
        &["BG-21", "BT-102"],
        "Each Document level charge (BG-21) shall have a Document level charge VAT category code (BT-102).",
        |v, h| needs_vat_category(v, h, document_level(v, true)),
    ),
    rule(
        "BR-38",
        Fatal,
        &["BG-21", "BT-104", "BT-105"],
        "Each Document level charge (BG-21) shall have a Document level charge reason (BT-104) or a Document level charge reason code (BT-105).",
        |v, h| needs_reason(v, h, document_level(v, true)),
    ),
    rule(
        "BR-CO-22",
        Fatal,
        &["BG-21", "BT-104", "BT-105"],
        "Each Document level charge (BG-21) shall contain a Document level charge reason (BT-104) or a Document level charge reason code (BT-105), or both.",
        |v, h| needs_reason(v, h, document_level(v, true)),
    ),
    rule(
        "BR-DEC-05",
        Fatal,
        &["BT-99"],
        "The allowed maximum number of decimals for the Document level charge amount (BT-99) is 2.",
        |v, h| two_decimals(v, h, document_level(v, true), "Amount"),
    ),
    rule(
        "BR-DEC-06",
        Fatal,
        &["BT-100"],
        "The allowed maximum number of decimals for the Document level charge base amount (BT-100) is 2.",
        |v, h| two_decimals(v, h, document_level(v, true), "BaseAmount"),
    ),
    rule(
        "BR-41",
        Fatal,
        &["BG-27", "BT-136"],
        "Each Invoice line allowance (BG-27) shall have an Invoice line allowance amount (BT-136).",
        |v, h| needs_amount(v, h, line_level(v, false)),
    ),
    rule(
        "BR-42",
        Fatal,
        &["BG-27", "BT-139", "BT-140"],
        "Each Invoice line allowance (BG-27) shall have an Invoice line allowance reason (BT-139) or an Invoice line allowance reason code (BT-140).",
        |v, h| needs_reason(v, h, line_level(v, false)),
    ),
    rule(
        "BR-CO-23",
        Fatal,
        &["BG-27", "BT-139", "BT-140"],
        "Each Invoice line allowance (BG-27) shall contain an Invoice line allowance reason (BT-139) or an Invoice line allowance reason code (BT-140), or both.",
        |v, h| needs_reason(v, h, line_level(v, false)),
    ),
    rule(
        "BR-DEC-24",
        Fatal,
        &["BT-136"],
        "The allowed maximum number of decimals for the Invoice line allowance amount (BT-136) is 2.",
        |v, h| two_decimals(v, h, line_level(v, false), "Amount"),
    ),
    rule(
        "BR-DEC-25",
        Fatal,
        &["BT-137"],
        "The allowed maximum number of decimals for the Invoice line allowance base amount (BT-137) is 2.",
        |v, h| two_decimals(v, h, line_level(v, false), "BaseAmount"),
    ),
    rule(
        "BR-43",
        Fatal,
        &["BG-28", "BT-141"],
        "Each Invoice line charge (BG-28) shall have an Invoice line charge amount (BT-141).",
        |v, h| needs_amount(v, h, line_level(v, true)),
    ),
    rule(
        "BR-44",
        Fatal,
        &["BG-28", "BT-144", "BT-145"],
        "Each Invoice line charge shall have an Invoice line charge reason or an invoice line allowance reason code.",
        |v, h| needs_reason(v, h, line_level(v, true)),
    ),
    rule(
        "BR-CO-24",
        Fatal,
        &["BG-28", "BT-144", "BT-145"],
        "Each Invoice line charge (BG-28) shall contain an Invoice line charge reason (BT-144) or an Invoice line charge reason code (BT-145), or both.",
        |v, h| needs_reason(v, h, line_level(v, true)),
    ),
    rule(
        "BR-DEC-27",
        Fatal,
        &["BT-141"],
        "The allowed maximum number of decimals for the Invoice line charge amount (BT-141) is 2.",
        |v, h| two_decimals(v, h, line_level(v, true), "Amount"),
    ),
    rule(
        "BR-DEC-28",
        Fatal,
        &["BT-142"],
        "The allowed maximum number of decimals for the Invoice line charge base amount (BT-142) is 2.",
        |v, h| two_decimals(v, h, line_level(v, true), "BaseAmount"),
    ),
];
