//! The VAT breakdown (BG-23) and the VAT category families: standard rated (S), zero rated (Z),
//! exempt (E), reverse charge (AE), intra-community supply (K), export outside the EU (G) and not
//! subject to VAT (O), plus Peppol's exemption reason codes (P0104 to P0111).

use rust_decimal::Decimal;

use super::Flag::Fatal;
use super::arithmetic::{decimals, round, round2};
use super::view::{View, cac, cbc};
use super::{Hits, Rule, rule};

/// Every `cac:TaxTotal/cac:TaxSubtotal`.
fn subtotals<'v>(v: &'v View<'_>) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("TaxSubtotal")).filter(move |&s| v.parent_is(s, cac("TaxTotal")))
}

/// The VAT-scheme tax category of a subtotal.
fn subtotal_category(v: &View<'_>, subtotal: usize) -> Option<usize> {
    v.kids(subtotal, cac("TaxCategory")).find(|&c| v.vat_scheme(c))
}

/// The breakdown categories with code `code` (`/*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory`).
fn breakdown<'v>(v: &'v View<'_>, code: &'static str) -> impl Iterator<Item = usize> + 'v {
    let root = v.root();
    v.kids(root, cac("TaxTotal"))
        .flat_map(move |t| v.kids(t, cac("TaxSubtotal")).collect::<Vec<_>>())
        .flat_map(move |s| v.kids(s, cac("TaxCategory")).collect::<Vec<_>>())
        .filter(move |&c| v.is_document() && v.category_code(c) == code && v.vat_scheme(c))
}

/// Whether the VAT category `code` is used anywhere (a VAT tax category or classified tax category).
fn used(v: &View<'_>, code: &str) -> bool {
    v.order.iter().any(|&e| {
        (v.is(e, cac("TaxCategory")) || v.is(e, cac("ClassifiedTaxCategory")))
            && v.vat_scheme(e)
            && v.at(e, &[cbc("ID")]).iter().any(|&i| v.text(i) == code)
    })
}

/// Line categories (`cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory`) with code `code`.
fn line_categories<'v>(v: &'v View<'_>, code: &'static str) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("ClassifiedTaxCategory")).filter(move |&c| {
        v.category_code(c) == code
            && v.vat_scheme(c)
            && v.parent(c).is_some_and(|i| {
                v.is(i, cac("Item")) && (v.parent_is(i, cac("InvoiceLine")) || v.parent_is(i, cac("CreditNoteLine")))
            })
    })
}

/// Allowance (`charge` false) or charge categories with code `code`.
fn allowance_categories<'v>(v: &'v View<'_>, code: &'static str, charge: bool) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("TaxCategory")).filter(move |&c| {
        v.category_code(c) == code
            && v.vat_scheme(c)
            && v.parent(c).is_some_and(|a| v.is(a, cac("AllowanceCharge")) && v.charge_indicator(a) == Some(charge))
    })
}

/// Whether a party has a VAT identifier (`cac:PartyTaxScheme[VAT]/cbc:CompanyID`).
fn vat_id(v: &View<'_>, steps: &[super::view::Step], any_scheme: bool) -> bool {
    v.order.iter().any(|&e| {
        v.is(e, cac(steps[0].1))
            && v.at(e, &steps[1..])
                .into_iter()
                .any(|s| (any_scheme || v.vat_scheme(s)) && v.has(s, &[cbc("CompanyID")]))
    })
}

fn seller_vat(v: &View<'_>, any_scheme: bool) -> bool {
    vat_id(v, &[cac("AccountingSupplierParty"), cac("Party"), cac("PartyTaxScheme")], any_scheme)
        || vat_id(v, &[cac("TaxRepresentativeParty"), cac("PartyTaxScheme")], false)
}

fn buyer_vat(v: &View<'_>) -> bool {
    vat_id(v, &[cac("AccountingCustomerParty"), cac("Party"), cac("PartyTaxScheme")], false)
}

fn buyer_legal_id(v: &View<'_>) -> bool {
    v.all(cac("AccountingCustomerParty")).any(|p| v.has(p, &[cac("Party"), cac("PartyLegalEntity"), cbc("CompanyID")]))
}

/// `X-01`: a category used anywhere needs exactly one breakdown of it (at least one for S).
fn needs_breakdown(v: &View<'_>, h: &mut Hits, code: &'static str, exactly_one: bool) {
    if !v.is_document() || !used(v, code) {
        return;
    }
    let n = breakdown(v, code).count();
    if (exactly_one && n != 1) || n == 0 {
        h.found(v.root(), format!("{n} VAT breakdowns with category {code}"));
    }
}

/// `X-02`/`X-03`/`X-04`: parties' VAT identifiers when a line, allowance or charge has the category.
fn parties_when(h: &mut Hits, uses: impl Iterator<Item = usize>, ok: bool) {
    if !ok && let Some(first) = uses.into_iter().next() {
        h.at(first);
    }
}

/// `X-05`/`X-06`/`X-07`: the rate of each line, allowance or charge category.
fn rate(v: &View<'_>, h: &mut Hits, categories: impl Iterator<Item = usize>, ok: fn(Option<Decimal>, bool) -> bool) {
    for c in categories {
        let percent = v.kid(c, cbc("Percent"));
        if !ok(percent.and_then(|p| v.dec(p)), percent.is_some()) {
            h.found(c, format!("rate {:?}", percent.map_or("none", |p| v.text(p))));
        }
    }
}

fn zero_rate(p: Option<Decimal>, _: bool) -> bool {
    p.is_some_and(|p| p.is_zero())
}

fn positive_rate(p: Option<Decimal>, _: bool) -> bool {
    p.is_some_and(|p| p > Decimal::ZERO)
}

fn no_rate(_: Option<Decimal>, present: bool) -> bool {
    !present
}

/// The taxable amount a category should have: the net amounts of its lines plus its charges
/// minus its allowances; `rate` restricts to one rate (standard rated).
fn expected_taxable(v: &View<'_>, code: &str, rate: Option<Decimal>) -> Option<Decimal> {
    let root = v.root();
    let rate_matches = |category: usize| match rate {
        None => true,
        Some(r) => v.dec_at(category, &[cbc("Percent")]) == Some(r),
    };
    let mut total = Decimal::ZERO;
    for line in v.kids(root, cac(v.line_name())).collect::<Vec<_>>() {
        let matches = v
            .at(line, &[cac("Item"), cac("ClassifiedTaxCategory")])
            .into_iter()
            .any(|c| v.category_code(c) == code && rate_matches(c));
        if matches {
            for amount in v.kids(line, cbc("LineExtensionAmount")) {
                total = total.checked_add(v.dec(amount)?)?;
            }
        }
    }
    for a in v.kids(root, cac("AllowanceCharge")).collect::<Vec<_>>() {
        let matches = v.kids(a, cac("TaxCategory")).any(|c| v.category_code(c) == code && rate_matches(c));
        let Some(charge) = v.charge_indicator(a) else { continue };
        if matches {
            for amount in v.kids(a, cbc("Amount")) {
                let value = v.dec(amount)?;
                total = if charge { total.checked_add(value)? } else { total.checked_sub(value)? };
            }
        }
    }
    Some(total)
}

/// `X-08` for categories other than S: the taxable amount equals the calculated one exactly.
fn taxable_exact(v: &View<'_>, h: &mut Hits, code: &'static str) {
    for c in breakdown(v, code).collect::<Vec<_>>() {
        let Some(subtotal) = v.parent(c) else { continue };
        let found = v.dec_at(subtotal, &[cbc("TaxableAmount")]);
        let expected = expected_taxable(v, code, None);
        match (found, expected) {
            (Some(f), Some(e)) if f == e => {}
            (f, e) => h.found(c, format!("taxable amount {f:?}, lines and allowances/charges give {e:?}")),
        }
    }
}

/// `X-09` for categories other than S: the tax amount is zero.
fn tax_zero(v: &View<'_>, h: &mut Hits, code: &'static str) {
    for c in breakdown(v, code).collect::<Vec<_>>() {
        let tax = v.parent(c).and_then(|s| v.dec_at(s, &[cbc("TaxAmount")]));
        if tax != Some(Decimal::ZERO) {
            h.found(c, format!("tax amount {tax:?}"));
        }
    }
}

/// `X-10`: an exemption reason (text or code) must (`required`) or must not be given.
fn exemption_reason(v: &View<'_>, h: &mut Hits, code: &'static str, required: bool) {
    for c in breakdown(v, code).collect::<Vec<_>>() {
        let given = v.has(c, &[cbc("TaxExemptionReason")]) || v.has(c, &[cbc("TaxExemptionReasonCode")]);
        h.unless(given == required, c);
    }
}

/// P0104 to P0111: a VATEX code implies the category.
fn vatex_category(v: &View<'_>, h: &mut Hits, vatex: &str, category: &str) {
    for c in v.all(cac("TaxCategory")) {
        let reason = v.at(c, &[cbc("TaxExemptionReasonCode")]);
        if reason.iter().any(|&r| v.raw(r).to_uppercase() == vatex) && v.category_code(c) != category {
            h.found(c, format!("category {:?}", v.category_code(c)));
        }
    }
}

/// Whether only category O is used where a breakdown has O (BR-O-11 to BR-O-14).
fn only_o(v: &View<'_>, h: &mut Hits, others: impl Fn(&View<'_>) -> Option<usize>) {
    if v.is_document()
        && breakdown(v, "O").next().is_some()
        && let Some(other) = others(v)
    {
        h.found(other, format!("category {:?}", v.category_code(other)));
    }
}

macro_rules! family {
    ($code:literal, $name:literal, $p01:literal, $p02:literal, $p03:literal, $p04:literal, $p05:literal, $p06:literal,
     $p07:literal, $p08:literal, $p09:literal, $p10:literal, parties = $parties:expr, rate = $rate:expr,
     reason = $reason:literal, $verb:literal) => {
        [
            rule($p01, Fatal, &["BG-23", "BT-118", "BT-151", "BT-95", "BT-102"], concat!("An Invoice that contains an Invoice line, a Document level allowance or a Document level charge where the VAT category code is \"", $name, "\" shall contain exactly one VAT breakdown (BG-23) with the VAT category code (BT-118) equal to \"", $name, "\"."), |v, h| {
                needs_breakdown(v, h, $code, $code != "S")
            }),
            rule($p02, Fatal, &["BT-151", "BT-31", "BT-32", "BT-63", "BT-48"], concat!("An Invoice line where the Invoiced item VAT category code (BT-151) is \"", $name, "\" requires the VAT identifiers of the parties this category needs."), |v, h| {
                parties_when(h, line_categories(v, $code), $parties(v))
            }),
            rule($p03, Fatal, &["BT-95", "BT-31", "BT-32", "BT-63", "BT-48"], concat!("A Document level allowance where the VAT category code (BT-95) is \"", $name, "\" requires the VAT identifiers of the parties this category needs."), |v, h| {
                parties_when(h, allowance_categories(v, $code, false), $parties(v))
            }),
            rule($p04, Fatal, &["BT-102", "BT-31", "BT-32", "BT-63", "BT-48"], concat!("A Document level charge where the VAT category code (BT-102) is \"", $name, "\" requires the VAT identifiers of the parties this category needs."), |v, h| {
                parties_when(h, allowance_categories(v, $code, true), $parties(v))
            }),
            rule($p05, Fatal, &["BT-151", "BT-152"], concat!("In an Invoice line where the Invoiced item VAT category code (BT-151) is \"", $name, "\" the Invoiced item VAT rate (BT-152) shall be as the category requires."), |v, h| {
                rate(v, h, line_categories(v, $code), $rate)
            }),
            rule($p06, Fatal, &["BT-95", "BT-96"], concat!("In a Document level allowance where the VAT category code (BT-95) is \"", $name, "\" the Document level allowance VAT rate (BT-96) shall be as the category requires."), |v, h| {
                rate(v, h, allowance_categories(v, $code, false), $rate)
            }),
            rule($p07, Fatal, &["BT-102", "BT-103"], concat!("In a Document level charge where the VAT category code (BT-102) is \"", $name, "\" the Document level charge VAT rate (BT-103) shall be as the category requires."), |v, h| {
                rate(v, h, allowance_categories(v, $code, true), $rate)
            }),
            rule($p08, Fatal, &["BT-116", "BT-131", "BT-92", "BT-99"], concat!("In a VAT breakdown (BG-23) where the VAT category code (BT-118) is \"", $name, "\" the VAT category taxable amount (BT-116) shall equal the sum of Invoice line net amounts minus the sum of Document level allowance amounts plus the sum of Document level charge amounts where the VAT category codes are \"", $name, "\"."), |v, h| {
                taxable_exact(v, h, $code)
            }),
            rule($p09, Fatal, &["BT-117"], concat!("The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where the VAT category code (BT-118) is \"", $name, "\" shall be 0 (zero)."), |v, h| {
                tax_zero(v, h, $code)
            }),
            rule($p10, Fatal, &["BT-120", "BT-121"], concat!("A VAT breakdown (BG-23) with VAT Category code (BT-118) \"", $name, "\" shall ", $verb, " a VAT exemption reason code (BT-121) or VAT exemption reason text (BT-120)."), |v, h| {
                exemption_reason(v, h, $code, $reason)
            }),
        ]
    };
}

const ZERO_RATED: [Rule; 10] = family!(
    "Z",
    "Zero rated",
    "BR-Z-01",
    "BR-Z-02",
    "BR-Z-03",
    "BR-Z-04",
    "BR-Z-05",
    "BR-Z-06",
    "BR-Z-07",
    "BR-Z-08",
    "BR-Z-09",
    "BR-Z-10",
    parties = |v| seller_vat(v, true),
    rate = zero_rate,
    reason = false,
    "not have"
);
const EXEMPT: [Rule; 10] = family!(
    "E",
    "Exempt from VAT",
    "BR-E-01",
    "BR-E-02",
    "BR-E-03",
    "BR-E-04",
    "BR-E-05",
    "BR-E-06",
    "BR-E-07",
    "BR-E-08",
    "BR-E-09",
    "BR-E-10",
    parties = |v| seller_vat(v, true),
    rate = zero_rate,
    reason = true,
    "have"
);
const REVERSE_CHARGE: [Rule; 10] = family!(
    "AE",
    "Reverse charge",
    "BR-AE-01",
    "BR-AE-02",
    "BR-AE-03",
    "BR-AE-04",
    "BR-AE-05",
    "BR-AE-06",
    "BR-AE-07",
    "BR-AE-08",
    "BR-AE-09",
    "BR-AE-10",
    parties = |v| seller_vat(v, true) && (buyer_vat(v) || buyer_legal_id(v)),
    rate = zero_rate,
    reason = true,
    "have"
);
const INTRA_COMMUNITY: [Rule; 10] = family!(
    "K",
    "Intra-community supply",
    "BR-IC-01",
    "BR-IC-02",
    "BR-IC-03",
    "BR-IC-04",
    "BR-IC-05",
    "BR-IC-06",
    "BR-IC-07",
    "BR-IC-08",
    "BR-IC-09",
    "BR-IC-10",
    parties = |v| seller_vat(v, false) && buyer_vat(v),
    rate = zero_rate,
    reason = true,
    "have"
);
const EXPORT: [Rule; 10] = family!(
    "G",
    "Export outside the EU",
    "BR-G-01",
    "BR-G-02",
    "BR-G-03",
    "BR-G-04",
    "BR-G-05",
    "BR-G-06",
    "BR-G-07",
    "BR-G-08",
    "BR-G-09",
    "BR-G-10",
    parties = |v| seller_vat(v, false),
    rate = zero_rate,
    reason = true,
    "have"
);
const NOT_SUBJECT: [Rule; 10] = family!(
    "O",
    "Not subject to VAT",
    "BR-O-01",
    "BR-O-02",
    "BR-O-03",
    "BR-O-04",
    "BR-O-05",
    "BR-O-06",
    "BR-O-07",
    "BR-O-08",
    "BR-O-09",
    "BR-O-10",
    parties = |v| !seller_vat(v, false) && !buyer_vat(v),
    rate = no_rate,
    reason = true,
    "have"
);
const STANDARD: [Rule; 10] = family!(
    "S",
    "Standard rated",
    "BR-S-01",
    "BR-S-02",
    "BR-S-03",
    "BR-S-04",
    "BR-S-05",
    "BR-S-06",
    "BR-S-07",
    "BR-S-08",
    "BR-S-09",
    "BR-S-10",
    parties = |v| seller_vat(v, true),
    rate = positive_rate,
    reason = false,
    "not have"
);

/// VAT rules.
pub(super) const RULES: &[Rule] = &[
    rule(
        "BR-45",
        Fatal,
        &["BG-23", "BT-116"],
        "Each VAT breakdown (BG-23) shall have a VAT category taxable amount (BT-116).",
        |v, h| {
            for s in subtotals(v) {
                h.unless(v.has(s, &[cbc("TaxableAmount")]), s);
            }
        },
    ),
    rule(
        "BR-46",
        Fatal,
        &["BG-23", "BT-117"],
        "Each VAT breakdown (BG-23) shall have a VAT category tax amount (BT-117).",
        |v, h| {
            for s in subtotals(v) {
                h.unless(v.has(s, &[cbc("TaxAmount")]), s);
            }
        },
    ),
    rule(
        "BR-47",
        Fatal,
        &["BG-23", "BT-118"],
        "Each VAT breakdown (BG-23) shall be defined through a VAT category code (BT-118).",
        |v, h| {
            for s in subtotals(v) {
                h.unless(subtotal_category(v, s).is_some_and(|c| v.has(c, &[cbc("ID")])), s);
            }
        },
    ),
    rule(
        "BR-48",
        Fatal,
        &["BG-23", "BT-119"],
        "Each VAT breakdown (BG-23) shall have a VAT category rate (BT-119), except if the Invoice is not subject to VAT.",
        |v, h| {
            for s in subtotals(v) {
                let ok =
                    subtotal_category(v, s).is_some_and(|c| v.has(c, &[cbc("Percent")]) || v.category_code(c) == "O");
                h.unless(ok, s);
            }
        },
    ),
    rule(
        "BR-CO-17",
        Fatal,
        &["BT-117", "BT-116", "BT-119"],
        "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT category rate (BT-119) / 100), rounded to two decimals (within 1 in either direction, as the Schematron allows).",
        |v, h| {
            for s in subtotals(v) {
                let percent = subtotal_category(v, s).and_then(|c| v.dec_at(c, &[cbc("Percent")]));
                let tax = v.dec_at(s, &[cbc("TaxAmount")]);
                let taxable = v.dec_at(s, &[cbc("TaxableAmount")]);
                if !tax_matches(percent, taxable, tax) {
                    h.found(s, format!("tax amount {tax:?}, taxable amount {taxable:?}, rate {percent:?}"));
                }
            }
        },
    ),
    rule(
        "BR-DEC-19",
        Fatal,
        &["BT-116"],
        "The allowed maximum number of decimals for the VAT category taxable amount (BT-116) is 2.",
        |v, h| {
            for s in subtotals(v) {
                if let Some(a) = v.kid(s, cbc("TaxableAmount")).filter(|&a| decimals(v.text(a)) > 2) {
                    h.found(a, format!("found {}", v.text(a)));
                }
            }
        },
    ),
    rule(
        "BR-DEC-20",
        Fatal,
        &["BT-117"],
        "The allowed maximum number of decimals for the VAT category tax amount (BT-117) is 2.",
        |v, h| {
            for s in subtotals(v) {
                if let Some(a) = v.kid(s, cbc("TaxAmount")).filter(|&a| decimals(v.text(a)) > 2) {
                    h.found(a, format!("found {}", v.text(a)));
                }
            }
        },
    ),
    rule(
        "BR-S-08",
        Fatal,
        &["BT-116", "BT-131", "BT-92", "BT-99"],
        "For each different value of VAT category rate (BT-119) where the VAT category code (BT-118) is \"Standard rated\", the VAT category taxable amount (BT-116) in a VAT breakdown (BG-23) shall equal the sum of Invoice line net amounts plus the sum of document level charge amounts minus the sum of document level allowance amounts where the VAT category code is \"Standard rated\" and the VAT rate equals the VAT category rate (BT-119).",
        |v, h| {
            for c in breakdown(v, "S").collect::<Vec<_>>() {
                let Some(subtotal) = v.parent(c) else { continue };
                let rate = v.dec_at(c, &[cbc("Percent")]);
                let found = v.dec_at(subtotal, &[cbc("TaxableAmount")]);
                let expected = rate.and_then(|r| expected_taxable(v, "S", Some(r)));
                let used = rate.is_some_and(|r| {
                    let rated = |c: usize| v.dec_at(c, &[cbc("Percent")]) == Some(r);
                    line_categories(v, "S").any(rated)
                        || allowance_categories(v, "S", false).any(rated)
                        || allowance_categories(v, "S", true).any(rated)
                });
                match (found, expected) {
                    (Some(f), Some(e)) if used && (f - e).abs() < Decimal::ONE => {}
                    (f, e) => h.found(
                        c,
                        format!("taxable amount {f:?}, lines and allowances/charges at this rate give {e:?}"),
                    ),
                }
            }
        },
    ),
    rule(
        "BR-S-09",
        Fatal,
        &["BT-117", "BT-116", "BT-119"],
        "The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where VAT category code (BT-118) is \"Standard rated\" shall equal the VAT category taxable amount (BT-116) multiplied by the VAT category rate (BT-119).",
        |v, h| {
            for c in breakdown(v, "S").collect::<Vec<_>>() {
                let Some(s) = v.parent(c) else { continue };
                let percent = v.dec_at(c, &[cbc("Percent")]);
                let tax = v.dec_at(s, &[cbc("TaxAmount")]);
                let taxable = v.dec_at(s, &[cbc("TaxableAmount")]);
                let ok = (|| {
                    let expected = round2(taxable?.abs().checked_mul(percent? / Decimal::ONE_HUNDRED)?);
                    let tax = tax?.abs();
                    Some(tax - Decimal::ONE < expected && tax + Decimal::ONE > expected)
                })();
                if ok != Some(true) {
                    h.found(c, format!("tax amount {tax:?}, taxable amount {taxable:?}, rate {percent:?}"));
                }
            }
        },
    ),
    rule(
        "BR-IC-11",
        Fatal,
        &["BT-72", "BG-14"],
        "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is \"Intra-community supply\" the Actual delivery date (BT-72) or the Invoicing period (BG-14) shall not be blank.",
        |v, h| {
            if breakdown(v, "K").next().is_some() {
                let r = v.root();
                let delivery = v
                    .at(r, &[cac("Delivery"), cbc("ActualDeliveryDate")])
                    .iter()
                    .any(|&d| v.raw(d).chars().count() > 1);
                let period = v.kids(r, cac("InvoicePeriod")).any(|p| !v.doc.get(p).children.is_empty());
                h.unless(delivery || period, r);
            }
        },
    ),
    rule(
        "BR-IC-12",
        Fatal,
        &["BT-80"],
        "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is \"Intra-community supply\" the Deliver to country code (BT-80) shall not be blank.",
        |v, h| {
            if breakdown(v, "K").next().is_some() {
                let r = v.root();
                let steps = [
                    cac("Delivery"),
                    cac("DeliveryLocation"),
                    cac("Address"),
                    cac("Country"),
                    cbc("IdentificationCode"),
                ];
                let ok = v.at(r, &steps).first().is_some_and(|&c| v.raw(c).chars().count() > 1);
                h.unless(ok, v.deepest(r, &steps));
            }
        },
    ),
    rule(
        "BR-O-11",
        Fatal,
        &["BG-23", "BT-118"],
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) \"Not subject to VAT\" shall not contain other VAT breakdown groups (BG-23).",
        |v, h| {
            only_o(v, h, |v| {
                let r = v.root();
                v.kids(r, cac("TaxTotal"))
                    .flat_map(|t| v.kids(t, cac("TaxSubtotal")).collect::<Vec<_>>())
                    .flat_map(|s| v.kids(s, cac("TaxCategory")).collect::<Vec<_>>())
                    .find(|&c| v.vat_scheme(c) && v.category_code(c) != "O")
            })
        },
    ),
    rule(
        "BR-O-12",
        Fatal,
        &["BT-151"],
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) \"Not subject to VAT\" shall not contain an Invoice line (BG-25) where the Invoiced item VAT category code (BT-151) is not \"Not subject to VAT\".",
        |v, h| {
            only_o(v, h, |v| {
                v.all(cac("ClassifiedTaxCategory")).find(|&c| v.vat_scheme(c) && v.category_code(c) != "O")
            })
        },
    ),
    rule(
        "BR-O-13",
        Fatal,
        &["BT-95"],
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) \"Not subject to VAT\" shall not contain Document level allowances (BG-20) where Document level allowance VAT category code (BT-95) is not \"Not subject to VAT\".",
        |v, h| only_o(v, h, |v| other_allowance_category(v, false)),
    ),
    rule(
        "BR-O-14",
        Fatal,
        &["BT-102"],
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) \"Not subject to VAT\" shall not contain Document level charges (BG-21) where Document level charge VAT category code (BT-102) is not \"Not subject to VAT\".",
        |v, h| only_o(v, h, |v| other_allowance_category(v, true)),
    ),
    rule(
        "PEPPOL-EN16931-P0104",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category G MUST be used when exemption reason code is VATEX-EU-G.",
        |v, h| vatex_category(v, h, "VATEX-EU-G", "G"),
    ),
    rule(
        "PEPPOL-EN16931-P0105",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category O MUST be used when exemption reason code is VATEX-EU-O.",
        |v, h| vatex_category(v, h, "VATEX-EU-O", "O"),
    ),
    rule(
        "PEPPOL-EN16931-P0106",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category K MUST be used when exemption reason code is VATEX-EU-IC.",
        |v, h| vatex_category(v, h, "VATEX-EU-IC", "K"),
    ),
    rule(
        "PEPPOL-EN16931-P0107",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category AE MUST be used when exemption reason code is VATEX-EU-AE.",
        |v, h| vatex_category(v, h, "VATEX-EU-AE", "AE"),
    ),
    rule(
        "PEPPOL-EN16931-P0108",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category E MUST be used when exemption reason code is VATEX-EU-D.",
        |v, h| vatex_category(v, h, "VATEX-EU-D", "E"),
    ),
    rule(
        "PEPPOL-EN16931-P0109",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category E MUST be used when exemption reason code is VATEX-EU-F.",
        |v, h| vatex_category(v, h, "VATEX-EU-F", "E"),
    ),
    rule(
        "PEPPOL-EN16931-P0110",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category E MUST be used when exemption reason code is VATEX-EU-I.",
        |v, h| vatex_category(v, h, "VATEX-EU-I", "E"),
    ),
    rule(
        "PEPPOL-EN16931-P0111",
        Fatal,
        &["BT-118", "BT-121"],
        "Tax Category E MUST be used when exemption reason code is VATEX-EU-J.",
        |v, h| vatex_category(v, h, "VATEX-EU-J", "E"),
    ),
    ZERO_RATED[0],
    ZERO_RATED[1],
    ZERO_RATED[2],
    ZERO_RATED[3],
    ZERO_RATED[4],
    ZERO_RATED[5],
    ZERO_RATED[6],
    ZERO_RATED[7],
    ZERO_RATED[8],
    ZERO_RATED[9],
    EXEMPT[0],
    EXEMPT[1],
    EXEMPT[2],
    EXEMPT[3],
    EXEMPT[4],
    EXEMPT[5],
    EXEMPT[6],
    EXEMPT[7],
    EXEMPT[8],
    EXEMPT[9],
    REVERSE_CHARGE[0],
    REVERSE_CHARGE[1],
    REVERSE_CHARGE[2],
    REVERSE_CHARGE[3],
    REVERSE_CHARGE[4],
    REVERSE_CHARGE[5],
    REVERSE_CHARGE[6],
    REVERSE_CHARGE[7],
    REVERSE_CHARGE[8],
    REVERSE_CHARGE[9],
    INTRA_COMMUNITY[0],
    INTRA_COMMUNITY[1],
    INTRA_COMMUNITY[2],
    INTRA_COMMUNITY[3],
    INTRA_COMMUNITY[4],
    INTRA_COMMUNITY[5],
    INTRA_COMMUNITY[6],
    INTRA_COMMUNITY[7],
    INTRA_COMMUNITY[8],
    INTRA_COMMUNITY[9],
    EXPORT[0],
    EXPORT[1],
    EXPORT[2],
    EXPORT[3],
    EXPORT[4],
    EXPORT[5],
    EXPORT[6],
    EXPORT[7],
    EXPORT[8],
    EXPORT[9],
    NOT_SUBJECT[0],
    NOT_SUBJECT[1],
    NOT_SUBJECT[2],
    NOT_SUBJECT[3],
    NOT_SUBJECT[4],
    NOT_SUBJECT[5],
    NOT_SUBJECT[6],
    NOT_SUBJECT[7],
    NOT_SUBJECT[8],
    NOT_SUBJECT[9],
    STANDARD[0],
    STANDARD[1],
    STANDARD[2],
    STANDARD[3],
    STANDARD[4],
    STANDARD[5],
    STANDARD[6],
    STANDARD[9],
];

fn other_allowance_category(v: &View<'_>, charge: bool) -> Option<usize> {
    v.all(cac("TaxCategory")).find(|&c| {
        v.vat_scheme(c)
            && v.category_code(c) != "O"
            && v.parent(c).is_some_and(|a| v.is(a, cac("AllowanceCharge")) && v.charge_indicator(a) == Some(charge))
    })
}

/// BR-CO-17's test: zero rate and zero tax, or a non-zero rate and a tax within 1 of the
/// rounded product.
fn tax_matches(percent: Option<Decimal>, taxable: Option<Decimal>, tax: Option<Decimal>) -> bool {
    let Some(tax) = tax else { return false };
    let Some(percent) = percent else { return round(tax).is_zero() };
    if round(percent).is_zero() {
        return round(tax).is_zero();
    }
    let Some(taxable) = taxable else { return false };
    let Some(expected) = taxable.abs().checked_mul(percent / Decimal::ONE_HUNDRED).map(round2) else { return false };
    let tax = tax.abs();
    tax - Decimal::ONE < expected && tax + Decimal::ONE > expected
}
