//! Document-level rules: mandatory header fields, Peppol process and specification ids,
//! references, notes, payment instructions, periods and attachments.

use super::Flag::{Fatal, Warning};
use super::view::{Step, View, cac, cbc};
use super::{Hits, Rule, arithmetic, rule};

/// On the root Invoice/CreditNote: broken unless `ok`, reported at the deepest existing element
/// along `towards` (the missing element's closest parent).
fn root_check(v: &View<'_>, h: &mut Hits, ok: impl Fn(&View<'_>, usize) -> bool, towards: &[Step]) {
    if v.is_document() {
        let root = v.root();
        if !ok(v, root) {
            h.at(v.deepest(root, towards));
        }
    }
}

/// The root must have non-blank text at `steps`.
fn root_filled(v: &View<'_>, h: &mut Hits, steps: &[Step]) {
    root_check(v, h, |v, r| v.filled(r, steps), steps);
}

/// The root must have an element at `steps`.
fn root_has(v: &View<'_>, h: &mut Hits, steps: &[Step]) {
    root_check(v, h, |v, r| v.has(r, steps), steps);
}

const SELLER_NAME: &[Step] =
    &[cac("AccountingSupplierParty"), cac("Party"), cac("PartyLegalEntity"), cbc("RegistrationName")];
const BUYER_NAME: &[Step] =
    &[cac("AccountingCustomerParty"), cac("Party"), cac("PartyLegalEntity"), cbc("RegistrationName")];

/// Document-level rules.
pub(super) const RULES: &[Rule] = &[
    rule("BR-01", Fatal, &["BT-24"], "An Invoice shall have a Specification identifier (BT-24).", |v, h| {
        root_filled(v, h, &[cbc("CustomizationID")])
    }),
    rule("BR-02", Fatal, &["BT-1"], "An Invoice shall have an Invoice number (BT-1).", |v, h| {
        root_filled(v, h, &[cbc("ID")])
    }),
    rule("BR-03", Fatal, &["BT-2"], "An Invoice shall have an Invoice issue date (BT-2).", |v, h| {
        root_filled(v, h, &[cbc("IssueDate")])
    }),
    rule("BR-04", Fatal, &["BT-3"], "An Invoice shall have an Invoice type code (BT-3).", |v, h| {
        root_check(
            v,
            h,
            |v, r| v.filled(r, &[cbc("InvoiceTypeCode")]) || v.filled(r, &[cbc("CreditNoteTypeCode")]),
            &[],
        )
    }),
    rule("BR-05", Fatal, &["BT-5"], "An Invoice shall have an Invoice currency code (BT-5).", |v, h| {
        root_filled(v, h, &[cbc("DocumentCurrencyCode")])
    }),
    rule("BR-06", Fatal, &["BT-27"], "An Invoice shall contain the Seller name (BT-27).", |v, h| {
        root_filled(v, h, SELLER_NAME)
    }),
    rule("BR-07", Fatal, &["BT-44"], "An Invoice shall contain the Buyer name (BT-44).", |v, h| {
        root_filled(v, h, BUYER_NAME)
    }),
    rule("BR-08", Fatal, &["BG-5"], "An Invoice shall contain the Seller postal address (BG-5).", |v, h| {
        root_has(v, h, &[cac("AccountingSupplierParty"), cac("Party"), cac("PostalAddress")])
    }),
    rule("BR-10", Fatal, &["BG-8"], "An Invoice shall contain the Buyer postal address (BG-8).", |v, h| {
        root_has(v, h, &[cac("AccountingCustomerParty"), cac("Party"), cac("PostalAddress")])
    }),
    rule("BR-16", Fatal, &["BG-25"], "An Invoice shall have at least one Invoice line (BG-25).", |v, h| {
        root_check(v, h, |v, r| v.has(r, &[cac("InvoiceLine")]) || v.has(r, &[cac("CreditNoteLine")]), &[])
    }),
    rule(
        "BR-53",
        Fatal,
        &["BT-6", "BT-111"],
        "If the VAT accounting currency code (BT-6) is present, then the Invoice total VAT amount in accounting currency (BT-111) shall be provided.",
        |v, h| {
            root_check(
                v,
                h,
                |v, r| {
                    v.kids(r, cbc("TaxCurrencyCode")).all(|tc| {
                        let code = v.raw(tc);
                        v.all(cac("TaxTotal"))
                            .flat_map(|t| v.kids(t, cbc("TaxAmount")).collect::<Vec<_>>())
                            .any(|a| v.attr(a, "currencyID") == Some(code))
                    })
                },
                &[],
            )
        },
    ),
    rule("BR-66", Fatal, &["BG-18"], "An Invoice shall contain maximum one Payment Card account (BG-18).", |v, h| {
        root_check(v, h, |v, r| v.at(r, &[cac("PaymentMeans"), cac("CardAccount")]).len() <= 1, &[])
    }),
    rule("BR-67", Fatal, &["BG-19"], "An Invoice shall contain maximum one Payment Mandate (BG-19).", |v, h| {
        root_check(v, h, |v, r| v.at(r, &[cac("PaymentMeans"), cac("PaymentMandate")]).len() <= 1, &[])
    }),
    rule(
        "BR-CO-03",
        Fatal,
        &["BT-7", "BT-8"],
        "Value added tax point date (BT-7) and Value added tax point date code (BT-8) are mutually exclusive.",
        |v, h| {
            root_check(
                v,
                h,
                |v, r| !(v.has(r, &[cbc("TaxPointDate")]) && v.has(r, &[cac("InvoicePeriod"), cbc("DescriptionCode")])),
                &[],
            )
        },
    ),
    rule(
        "BR-CO-25",
        Fatal,
        &["BT-115", "BT-9", "BT-20"],
        "In case the Amount due for payment (BT-115) is positive, either the Payment due date (BT-9) or the Payment terms (BT-20) shall be present.",
        |v, h| {
            if !v.invoice {
                return;
            }
            for payable in v.at(v.root(), &[cac("LegalMonetaryTotal"), cbc("PayableAmount")]) {
                let positive = v.dec(payable).is_some_and(|p| p > rust_decimal::Decimal::ZERO);
                let terms = v.all(cbc("DueDate")).next().is_some()
                    || v.all(cac("PaymentTerms")).any(|t| v.has(t, &[cbc("Note")]));
                h.unless(!positive || terms, payable);
            }
        },
    ),
    rule("PEPPOL-EN16931-R001", Fatal, &["BT-23"], "Business process MUST be provided.", |v, h| {
        root_has(v, h, &[cbc("ProfileID")])
    }),
    rule(
        "PEPPOL-EN16931-R007",
        Fatal,
        &["BT-23"],
        "Business process MUST be in the format 'urn:fdc:peppol.eu:2017:poacc:billing:NN:1.0' where NN indicates the process number.",
        |v, h| root_check(v, h, |v, _| v.profile().is_some(), &[cbc("ProfileID")]),
    ),
    rule(
        "PEPPOL-EN16931-R002",
        Fatal,
        &["BT-22"],
        "No more than one note is allowed on document level, unless both the buyer and seller are German organizations.",
        |v, h| root_check(v, h, |v, r| v.kids(r, cbc("Note")).count() <= 1 || v.both_german(), &[]),
    ),
    rule(
        "PEPPOL-EN16931-R003",
        Fatal,
        &["BT-10", "BT-13"],
        "A buyer reference or purchase order reference MUST be provided.",
        |v, h| {
            root_check(
                v,
                h,
                |v, r| v.has(r, &[cbc("BuyerReference")]) || v.has(r, &[cac("OrderReference"), cbc("ID")]),
                &[],
            )
        },
    ),
    rule(
        "PEPPOL-EN16931-R004",
        Fatal,
        &["BT-24"],
        "Specification identifier MUST have the value 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0'.",
        |v, h| {
            root_check(
                v,
                h,
                |v, r| {
                    v.text_at(r, &[cbc("CustomizationID")])
                        .starts_with("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0")
                },
                &[cbc("CustomizationID")],
            )
        },
    ),
    rule(
        "PEPPOL-EN16931-R005",
        Fatal,
        &["BT-6", "BT-5"],
        "VAT accounting currency code MUST be different from invoice currency code when provided.",
        |v, h| {
            for tc in v.all(cbc("TaxCurrencyCode")) {
                let document = v.parent(tc).map_or("", |p| v.text_at(p, &[cbc("DocumentCurrencyCode")]));
                h.unless(v.text(tc) != document, tc);
            }
        },
    ),
    rule(
        "PEPPOL-EN16931-R080",
        Fatal,
        &["BT-11"],
        "Only one project reference is allowed on document level.",
        |v, h| {
            if v.credit_note {
                let r = v.root();
                let projects = v
                    .kids(r, cac("AdditionalDocumentReference"))
                    .filter(|&a| v.at(a, &[cbc("DocumentTypeCode")]).iter().any(|&c| v.raw(c) == "50"))
                    .count();
                h.unless(projects <= 1, r);
            }
        },
    ),
    rule("PEPPOL-EN16931-R008", Fatal, &[], "Document MUST not contain empty elements.", |v, h| {
        for &e in &v.order {
            let el = v.doc.get(e);
            if el.children.is_empty() && el.text.trim().is_empty() {
                h.at(e);
            }
        }
    }),
    rule(
        "PEPPOL-EN16931-R061",
        Fatal,
        &["BT-89", "BG-19"],
        "Mandate reference MUST be provided for direct debit.",
        |v, h| {
            for pm in v.all(cac("PaymentMeans")) {
                let code = v.text_at(pm, &[cbc("PaymentMeansCode")]);
                if code == "49" || code == "59" {
                    h.unless(v.has(pm, &[cac("PaymentMandate"), cbc("ID")]), pm);
                }
            }
        },
    ),
    rule(
        "BR-49",
        Fatal,
        &["BG-16", "BT-81"],
        "A Payment instruction (BG-16) shall specify the Payment means type code (BT-81).",
        |v, h| {
            for pm in v.all(cac("PaymentMeans")) {
                h.unless(v.has(pm, &[cbc("PaymentMeansCode")]), pm);
            }
        },
    ),
    rule(
        "BR-61",
        Fatal,
        &["BT-81", "BT-84"],
        "If the Payment means type code (BT-81) means SEPA credit transfer, Local credit transfer or Non-SEPA international credit transfer, the Payment account identifier (BT-84) shall be present.",
        |v, h| {
            for pm in v.all(cac("PaymentMeans")) {
                let code = v.text_at(pm, &[cbc("PaymentMeansCode")]);
                if code == "30" || code == "58" {
                    h.unless(v.has(pm, &[cac("PayeeFinancialAccount"), cbc("ID")]), pm);
                }
            }
        },
    ),
    rule(
        "BR-50",
        Fatal,
        &["BT-84", "BG-17"],
        "A Payment account identifier (BT-84) shall be present if Credit transfer (BG-17) information is provided in the Invoice.",
        |v, h| {
            for pm in v.all(cac("PaymentMeans")) {
                let credit_transfer = v.kids(pm, cbc("PaymentMeansCode")).any(|c| matches!(v.raw(c), "30" | "58"));
                if credit_transfer {
                    for account in v.kids(pm, cac("PayeeFinancialAccount")) {
                        h.unless(v.filled(account, &[cbc("ID")]), account);
                    }
                }
            }
        },
    ),
    rule(
        "BR-51",
        Warning,
        &["BT-87"],
        "In accordance with card payments security standards an invoice should never include a full card primary account number (BT-87): at most the first 6 and last 4 digits.",
        |v, h| {
            for pan in v.all(cbc("PrimaryAccountNumberID")) {
                if v.parent_is(pan, cac("CardAccount")) {
                    h.unless(v.text(pan).chars().count() <= 10, pan);
                }
            }
        },
    ),
    rule(
        "BR-52",
        Fatal,
        &["BG-24", "BT-122"],
        "Each Additional supporting document (BG-24) shall contain a Supporting document reference (BT-122).",
        |v, h| {
            for a in v.all(cac("AdditionalDocumentReference")) {
                h.unless(v.filled(a, &[cbc("ID")]), a);
            }
        },
    ),
    rule(
        "BR-55",
        Fatal,
        &["BG-3", "BT-25"],
        "Each Preceding Invoice reference (BG-3) shall contain a Preceding Invoice reference (BT-25).",
        |v, h| {
            for b in v.all(cac("BillingReference")) {
                h.unless(v.has(b, &[cac("InvoiceDocumentReference"), cbc("ID")]), b);
            }
        },
    ),
    rule(
        "BR-57",
        Fatal,
        &["BG-15", "BT-80"],
        "Each Deliver to address (BG-15) shall contain a Deliver to country code (BT-80).",
        |v, h| {
            for a in v.all(cac("Address")) {
                let in_delivery =
                    v.parent(a).is_some_and(|p| v.is(p, cac("DeliveryLocation")) && v.parent_is(p, cac("Delivery")));
                if in_delivery {
                    h.unless(v.has(a, &[cac("Country"), cbc("IdentificationCode")]), a);
                }
            }
        },
    ),
    rule(
        "BR-29",
        Fatal,
        &["BT-73", "BT-74"],
        "If both Invoicing period start date (BT-73) and Invoicing period end date (BT-74) are given then the Invoicing period end date (BT-74) shall be later or equal to the Invoicing period start date (BT-73).",
        |v, h| {
            for p in document_periods(v) {
                h.unless(period_ordered(v, p), p);
            }
        },
    ),
    rule(
        "BR-CO-19",
        Fatal,
        &["BG-14", "BT-73", "BT-74"],
        "If Invoicing period (BG-14) is used, the Invoicing period start date (BT-73) or the Invoicing period end date (BT-74) shall be filled, or both.",
        |v, h| {
            for p in document_periods(v) {
                let ok =
                    v.has(p, &[cbc("StartDate")]) || v.has(p, &[cbc("EndDate")]) || v.has(p, &[cbc("DescriptionCode")]);
                h.unless(ok, p);
            }
        },
    ),
];

/// `cac:InvoicePeriod` elements not on a line (lines have BR-30 and BR-CO-20 instead).
fn document_periods<'v>(v: &'v View<'_>) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("InvoicePeriod"))
        .filter(|&p| !(v.parent_is(p, cac("InvoiceLine")) || v.parent_is(p, cac("CreditNoteLine"))))
}

/// Whether a period's end date is not before its start date (true when either is missing; a
/// date that cannot be read breaks the rule).
pub(super) fn period_ordered(v: &View<'_>, period: usize) -> bool {
    let (Some(start), Some(end)) = (v.kid(period, cbc("StartDate")), v.kid(period, cbc("EndDate"))) else {
        return true;
    };
    match (arithmetic::date(v.text(start)), arithmetic::date(v.text(end))) {
        (Some(s), Some(e)) => e >= s,
        _ => false,
    }
}
