//! Code list rules: document type, currencies, units, countries, VAT categories, exemption
//! reasons, allowance and charge reasons, identifier schemes, MIME types, and date formats.
//!
//! The `BR-CL-*` rules check CEN's lists ([`CenList`], as `CEN-EN16931-UBL.sch` tokenizes them)
//! and the `PEPPOL-EN16931-*` rules Peppol's ([`CodeList`]), for every document. Peppol's
//! artefacts run the CEN Schematron unchanged beside their own, so a code that only Peppol
//! forbids (invoice type 387, credit note type 261, an `EM` endpoint) is reported by the Peppol
//! rule that narrows the list (P0100, P0101, CL008), never under a `BR-*` id, and a non-Peppol
//! invoice, which only the `BR-*` rules judge, is held to CEN's lists alone. Where CEN's list
//! lacks a code Peppol's has (its older ISO 4217 list has `CUC MRO STD` instead of `MRU STN
//! UYW`), BR-CL-03 to BR-CL-05 reject a Peppol document too, as Peppol's own validation does.
//!
//! How each rule compares follows its Schematron: CEN's `contains(' LIST ', concat(' ',
//! normalize-space(X), ' '))` after `not(contains(normalize-space(X), ' '))` is membership of the
//! whitespace-normalized value (BR-CL-22 upper-cases it first); CEN's BR-CL-24 and Peppol's
//! CL001, CL007 and CL008 compare the attribute as it is (`@mimeCode = $code`), surrounding
//! spaces included; Peppol's other lists compare `normalize-space(text())`.

use super::Flag::Fatal;
use super::codelists::{CenList, CodeList, Codes, profile_01_invoice_type};
use super::view::{CBC, Step, View, cac, cbc};
use super::{Hits, Rule, arithmetic, rule};

/// Reports every element `cbc:NAME` (restricted by `filter`) whose whitespace-normalized text is
/// not in `list`.
fn code_of(
    v: &View<'_>,
    h: &mut Hits,
    name: &'static str,
    list: impl Codes,
    filter: impl Fn(&View<'_>, usize) -> bool,
) {
    for e in v.all(cbc(name)).filter(|&e| filter(v, e)) {
        let code = v.text(e);
        if code.contains(char::is_whitespace) || !list.contains(code) {
            h.found(e, format!("found {code:?}"));
        }
    }
}

/// How an attribute is compared with its list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// `normalize-space(@attr)`, which must not contain a space, is one of the codes.
    Normalized,
    /// `@attr = $code` for some code: the value as it is.
    Exact,
}

/// Reports every element (chosen by `select`) whose attribute `attr` is not in `list`; elements
/// without the attribute are skipped unless `required`.
fn attribute_of(
    v: &View<'_>,
    h: &mut Hits,
    attr: &'static str,
    (list, compare): (impl Codes, Compare),
    required: bool,
    select: impl Fn(&View<'_>, usize) -> bool,
) {
    for &e in v.order.iter().filter(|&&e| select(v, e)) {
        match v.attr(e, attr) {
            Some(code) if listed(code, list, compare) => {}
            Some(code) => h.found(e, format!("{attr} {code:?}")),
            None if required => h.found(e, format!("no {attr}")),
            None => {}
        }
    }
}

/// Whether an attribute value is in `list`, compared as `compare` says.
fn listed(code: &str, list: impl Codes, compare: Compare) -> bool {
    match compare {
        Compare::Normalized => !code.trim().contains(char::is_whitespace) && list.contains(code.trim()),
        Compare::Exact => list.contains(code),
    }
}

/// Whether `e` has an ancestor `step` (`ancestor::step`).
fn has_ancestor(v: &View<'_>, e: usize, step: Step) -> bool {
    std::iter::successors(v.parent(e), |&p| v.parent(p)).any(|p| v.is(p, step))
}

const AMOUNTS: [&str; 13] = [
    "Amount",
    "BaseAmount",
    "PriceAmount",
    "TaxAmount",
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

fn is_amount(v: &View<'_>, e: usize) -> bool {
    let el = v.doc.get(e);
    el.namespace == CBC && AMOUNTS.contains(&el.name.as_str())
}

/// `cac:AllowanceCharge[cbc:ChargeIndicator = X]/cbc:AllowanceChargeReasonCode`: Peppol compares
/// the text with `'true'`/`'false'`, EN 16931 reads it as a boolean.
fn reason_code_under(v: &View<'_>, e: usize, charge: bool, peppol: bool) -> bool {
    v.parent(e).is_some_and(|a| {
        v.is(a, cac("AllowanceCharge"))
            && if peppol {
                v.kids(a, cbc("ChargeIndicator")).any(|c| v.raw(c) == if charge { "true" } else { "false" })
            } else {
                v.charge_indicator(a) == Some(charge)
            }
    })
}

fn identifier_under(v: &View<'_>, e: usize, parent: &'static str, name: &'static str) -> bool {
    v.is(e, cbc(name)) && v.parent_is(e, cac(parent)) && v.attr(e, "schemeID").is_some()
}

/// Code list rules.
pub(super) const RULES: &[Rule] = &[
    rule(
        "PEPPOL-EN16931-CL001",
        Fatal,
        &["BT-125"],
        "Mime code must be according to subset of IANA code list.",
        |v, h| {
            attribute_of(v, h, "mimeCode", (CodeList::Mime, Compare::Exact), false, |v, e| {
                v.is(e, cbc("EmbeddedDocumentBinaryObject"))
            })
        },
    ),
    rule(
        "PEPPOL-EN16931-CL002",
        Fatal,
        &["BT-98", "BT-140"],
        "Reason code MUST be according to subset of UNCL 5189 D.16B.",
        |v, h| {
            code_of(v, h, "AllowanceChargeReasonCode", CodeList::AllowanceReason, |v, e| {
                reason_code_under(v, e, false, true)
            })
        },
    ),
    rule(
        "PEPPOL-EN16931-CL003",
        Fatal,
        &["BT-105", "BT-145"],
        "Reason code MUST be according to UNCL 7161 D.16B.",
        |v, h| {
            code_of(v, h, "AllowanceChargeReasonCode", CodeList::ChargeReason, |v, e| {
                reason_code_under(v, e, true, true)
            })
        },
    ),
    rule(
        "PEPPOL-EN16931-CL006",
        Fatal,
        &["BT-8"],
        "Invoice period description code must be according to UNCL 2005 D.16B.",
        |v, h| code_of(v, h, "DescriptionCode", CodeList::DateCode, |v, e| v.parent_is(e, cac("InvoicePeriod"))),
    ),
    rule("PEPPOL-EN16931-CL007", Fatal, &["BT-5"], "Currency code must be according to ISO 4217:2005.", |v, h| {
        attribute_of(v, h, "currencyID", (CodeList::Currency, Compare::Exact), true, is_amount)
    }),
    rule(
        "PEPPOL-EN16931-CL008",
        Fatal,
        &["BT-34", "BT-49"],
        "Electronic address identifier scheme must be from the codelist \"Electronic Address Identifier Scheme\".",
        |v, h| {
            attribute_of(v, h, "schemeID", (CodeList::Eas, Compare::Exact), false, |v, e| v.is(e, cbc("EndpointID")))
        },
    ),
    rule(
        "PEPPOL-EN16931-P0100",
        Fatal,
        &["BT-3", "BT-23"],
        "Invoice type code MUST be set according to the profile.",
        |v, h| {
            if v.profile().as_deref() == Some("01") {
                code_of_with(v, h, "InvoiceTypeCode", profile_01_invoice_type);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-P0101",
        Fatal,
        &["BT-3", "BT-23"],
        "Credit note type code MUST be set according to the profile.",
        |v, h| {
            if v.profile().as_deref() == Some("01") {
                code_of_with(v, h, "CreditNoteTypeCode", |c| CodeList::CreditNoteType.contains(c));
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-P0112",
        Fatal,
        &["BT-3", "BT-40", "BT-55"],
        "Invoice type code 326 or 384 are only allowed when both buyer and seller are German organizations.",
        |v, h| {
            for e in v.all(cbc("InvoiceTypeCode")) {
                if matches!(v.text(e), "326" | "384") && !v.both_german() {
                    h.found(e, format!("found {}", v.text(e)));
                }
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-F001",
        Fatal,
        &["BT-2", "BT-7", "BT-9", "BT-72", "BT-73", "BT-74", "BT-134", "BT-135"],
        "A date MUST be formatted YYYY-MM-DD.",
        |v, h| {
            const DATES: [&str; 6] =
                ["IssueDate", "DueDate", "TaxPointDate", "StartDate", "EndDate", "ActualDeliveryDate"];
            for &e in &v.order {
                let el = v.doc.get(e);
                if el.namespace == CBC && DATES.contains(&el.name.as_str()) {
                    let raw = v.raw(e);
                    if raw.chars().count() != 10 || arithmetic::date(raw).is_none() {
                        h.found(e, format!("found {raw:?}"));
                    }
                }
            }
        },
    ),
    rule(
        "BR-CL-01",
        Fatal,
        &["BT-3"],
        "The document type code MUST be coded by the invoice and credit note related code lists of UNTDID 1001.",
        |v, h| {
            code_of(v, h, "InvoiceTypeCode", CenList::InvoiceType, |_, _| true);
            code_of(v, h, "CreditNoteTypeCode", CenList::CreditNoteType, |_, _| true);
        },
    ),
    rule("BR-CL-03", Fatal, &["BT-5"], "currencyID MUST be coded using ISO code list 4217 alpha-3.", |v, h| {
        attribute_of(v, h, "currencyID", (CenList::Currency, Compare::Normalized), true, is_amount)
    }),
    rule(
        "BR-CL-04",
        Fatal,
        &["BT-5"],
        "Invoice currency code MUST be coded using ISO code list 4217 alpha-3.",
        |v, h| code_of(v, h, "DocumentCurrencyCode", CenList::Currency, |_, _| true),
    ),
    rule("BR-CL-05", Fatal, &["BT-6"], "Tax currency code MUST be coded using ISO code list 4217 alpha-3.", |v, h| {
        code_of(v, h, "TaxCurrencyCode", CenList::Currency, |_, _| true)
    }),
    rule(
        "BR-CL-06",
        Fatal,
        &["BT-8"],
        "Value added tax point date code MUST be coded using a restriction of UNTDID 2005.",
        |v, h| code_of(v, h, "DescriptionCode", CenList::DateCode, |v, e| v.parent_is(e, cac("InvoicePeriod"))),
    ),
    rule(
        "BR-CL-07",
        Fatal,
        &["BT-18", "BT-128"],
        "Object identifier identification scheme identifier MUST be coded using a restriction of UNTDID 1153.",
        |v, h| {
            attribute_of(v, h, "schemeID", (CenList::ReferenceQualifier, Compare::Normalized), false, |v, e| {
                v.is(e, cbc("ID"))
                    && v.parent(e).is_some_and(|p| {
                        (v.is(p, cac("AdditionalDocumentReference")) || v.is(p, cac("DocumentReference")))
                            && v.kids(p, cbc("DocumentTypeCode")).any(|c| v.raw(c) == "130")
                    })
            })
        },
    ),
    rule(
        "BR-CL-10",
        Fatal,
        &["BT-29", "BT-46", "BT-60"],
        "Any identifier identification scheme identifier MUST be coded using one of the ISO 6523 ICD list.",
        |v, h| {
            // CEN also allows `SEPA` (the creditor identifier, BT-90) under the seller and the payee.
            for e in v.all(cbc("ID")).filter(|&e| identifier_under(v, e, "PartyIdentification", "ID")) {
                let scheme = v.attr(e, "schemeID").unwrap_or("");
                let seller_or_payee =
                    has_ancestor(v, e, cac("AccountingSupplierParty")) || has_ancestor(v, e, cac("PayeeParty"));
                let ok = listed(scheme, CenList::Icd, Compare::Normalized)
                    || (seller_or_payee && listed(scheme, CenList::IcdSellerPayee, Compare::Normalized));
                if !ok {
                    h.found(e, format!("schemeID {scheme:?}"));
                }
            }
        },
    ),
    rule(
        "BR-CL-11",
        Fatal,
        &["BT-30", "BT-47", "BT-61"],
        "Any registration identifier identification scheme identifier MUST be coded using one of the ISO 6523 ICD list.",
        |v, h| {
            attribute_of(v, h, "schemeID", (CenList::Icd, Compare::Normalized), false, |v, e| {
                identifier_under(v, e, "PartyLegalEntity", "CompanyID")
            })
        },
    ),
    rule(
        "BR-CL-13",
        Fatal,
        &["BT-158"],
        "Item classification identifier identification scheme identifier MUST be coded using one of the UNTDID 7143 list.",
        |v, h| {
            attribute_of(v, h, "listID", (CenList::ItemClassification, Compare::Normalized), false, |v, e| {
                v.is(e, cbc("ItemClassificationCode")) && v.parent_is(e, cac("CommodityClassification"))
            })
        },
    ),
    rule(
        "BR-CL-14",
        Fatal,
        &["BT-40", "BT-55", "BT-69", "BT-80"],
        "Country codes in an invoice MUST be coded using ISO code list 3166-1.",
        |v, h| code_of(v, h, "IdentificationCode", CenList::Country, |v, e| v.parent_is(e, cac("Country"))),
    ),
    rule(
        "BR-CL-15",
        Fatal,
        &["BT-159"],
        "Country codes in an invoice MUST be coded using ISO code list 3166-1.",
        |v, h| code_of(v, h, "IdentificationCode", CenList::Country, |v, e| v.parent_is(e, cac("OriginCountry"))),
    ),
    rule(
        "BR-CL-16",
        Fatal,
        &["BT-81"],
        "Payment means in an invoice MUST be coded using UNCL4461 code list.",
        |v, h| code_of(v, h, "PaymentMeansCode", CenList::PaymentMeans, |v, e| v.parent_is(e, cac("PaymentMeans"))),
    ),
    rule(
        "BR-CL-17",
        Fatal,
        &["BT-95", "BT-102", "BT-118"],
        "Invoice tax categories MUST be coded using UNCL5305 code list.",
        |v, h| code_of(v, h, "ID", CenList::VatCategory, |v, e| v.parent_is(e, cac("TaxCategory"))),
    ),
    rule("BR-CL-18", Fatal, &["BT-151"], "Invoice tax categories MUST be coded using UNCL5305 code list.", |v, h| {
        code_of(v, h, "ID", CenList::VatCategory, |v, e| v.parent_is(e, cac("ClassifiedTaxCategory")))
    }),
    rule(
        "BR-CL-19",
        Fatal,
        &["BT-98", "BT-140"],
        "Coded allowance reasons MUST belong to the UNCL 5189 code list.",
        |v, h| {
            code_of(v, h, "AllowanceChargeReasonCode", CenList::AllowanceReason, |v, e| {
                reason_code_under(v, e, false, false)
            })
        },
    ),
    rule(
        "BR-CL-20",
        Fatal,
        &["BT-105", "BT-145"],
        "Coded charge reasons MUST belong to the UNCL 7161 code list.",
        |v, h| {
            code_of(v, h, "AllowanceChargeReasonCode", CenList::ChargeReason, |v, e| {
                reason_code_under(v, e, true, false)
            })
        },
    ),
    rule(
        "BR-CL-21",
        Fatal,
        &["BT-157"],
        "Item standard identifier scheme identifier MUST belong to the ISO 6523 ICD code list.",
        |v, h| {
            attribute_of(v, h, "schemeID", (CenList::Icd, Compare::Normalized), false, |v, e| {
                identifier_under(v, e, "StandardItemIdentification", "ID")
            })
        },
    ),
    rule(
        "BR-CL-22",
        Fatal,
        &["BT-121"],
        "Tax exemption reason code identifier scheme identifier MUST belong to the CEF VATEX code list.",
        |v, h| {
            // `contains(LIST, concat(' ', normalize-space(upper-case(.)), ' '))`: in any case.
            for e in v.all(cbc("TaxExemptionReasonCode")) {
                let code = v.text(e);
                if code.contains(char::is_whitespace) || !CenList::Vatex.contains(&code.to_uppercase()) {
                    h.found(e, format!("found {code:?}"));
                }
            }
        },
    ),
    rule(
        "BR-CL-23",
        Fatal,
        &["BT-130", "BT-150"],
        "Unit code MUST be coded according to the UN/ECE Recommendation 20 with Rec 21 extension.",
        |v, h| {
            attribute_of(v, h, "unitCode", (CenList::Unit, Compare::Normalized), false, |v, e| {
                v.is(e, cbc("InvoicedQuantity")) || v.is(e, cbc("BaseQuantity")) || v.is(e, cbc("CreditedQuantity"))
            })
        },
    ),
    rule("BR-CL-24", Fatal, &["BT-125"], "For Mime code in attribute use MIMEMediaType.", |v, h| {
        attribute_of(v, h, "mimeCode", (CenList::Mime, Compare::Exact), false, |v, e| {
            v.is(e, cbc("EmbeddedDocumentBinaryObject"))
        })
    }),
    rule(
        "BR-CL-25",
        Fatal,
        &["BT-34", "BT-49"],
        "Endpoint identifier scheme identifier MUST belong to the CEF EAS code list.",
        |v, h| {
            attribute_of(v, h, "schemeID", (CenList::Eas, Compare::Normalized), false, |v, e| {
                v.is(e, cbc("EndpointID"))
            })
        },
    ),
    rule(
        "BR-CL-26",
        Fatal,
        &["BT-71"],
        "Delivery location identifier scheme identifier MUST belong to the ISO 6523 ICD code list.",
        |v, h| {
            attribute_of(v, h, "schemeID", (CenList::Icd, Compare::Normalized), false, |v, e| {
                identifier_under(v, e, "DeliveryLocation", "ID")
            })
        },
    ),
];

/// Reports every `cbc:NAME` whose trimmed text fails `valid`.
fn code_of_with(v: &View<'_>, h: &mut Hits, name: &'static str, valid: fn(&str) -> bool) {
    for e in v.all(cbc(name)) {
        if !valid(v.text(e)) {
            h.found(e, format!("found {:?}", v.text(e)));
        }
    }
}
