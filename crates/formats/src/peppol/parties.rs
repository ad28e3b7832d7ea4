//! Seller, buyer, payee and tax representative: electronic addresses, identifiers and their
//! national formats, postal addresses.

use super::Flag::{Fatal, Warning};
use super::codelists::CenList;
use super::identifiers as id;
use super::view::{View, cac, cbc};
use super::{Hits, Rule, rule};

/// Each `cac:Party` under `role` (`cac:AccountingSupplierParty/cac:Party`).
fn parties<'v>(v: &'v View<'_>, role: &'static str) -> impl Iterator<Item = usize> + 'v {
    v.all(cac("Party")).filter(move |&p| v.parent_is(p, cac(role)))
}

/// The identifiers a national-format rule looks at: `cbc:EndpointID`,
/// `cac:PartyIdentification/cbc:ID` and any `cbc:CompanyID`, with `schemeID` = `scheme`.
fn identifiers<'v>(v: &'v View<'_>, scheme: &'static str, endpoint_only: bool) -> impl Iterator<Item = usize> + 'v {
    v.order.iter().copied().filter(move |&e| {
        let kind = v.is(e, cbc("EndpointID"))
            || (!endpoint_only
                && ((v.is(e, cbc("ID")) && v.parent_is(e, cac("PartyIdentification"))) || v.is(e, cbc("CompanyID"))));
        kind && v.attr(e, "schemeID") == Some(scheme)
    })
}

/// Reports each identifier of `scheme` whose normalised value fails `valid`.
fn check_identifiers(v: &View<'_>, h: &mut Hits, scheme: &'static str, endpoint_only: bool, valid: fn(&str) -> bool) {
    for e in identifiers(v, scheme, endpoint_only) {
        let value = v.text(e).split_whitespace().collect::<Vec<_>>().join(" ");
        if !valid(&value) {
            h.found(e, format!("found {value:?}"));
        }
    }
}

/// Party rules.
pub(super) const RULES: &[Rule] = &[
    rule("PEPPOL-EN16931-R010", Fatal, &["BT-49"], "Buyer electronic address MUST be provided.", |v, h| {
        for p in parties(v, "AccountingCustomerParty") {
            h.unless(v.has(p, &[cbc("EndpointID")]), p);
        }
    }),
    rule("PEPPOL-EN16931-R020", Fatal, &["BT-34"], "Seller electronic address MUST be provided.", |v, h| {
        for p in parties(v, "AccountingSupplierParty") {
            h.unless(v.has(p, &[cbc("EndpointID")]), p);
        }
    }),
    rule(
        "BR-09",
        Fatal,
        &["BG-5", "BT-40"],
        "The Seller postal address (BG-5) shall contain a Seller country code (BT-40).",
        |v, h| {
            for p in parties(v, "AccountingSupplierParty") {
                for a in v.kids(p, cac("PostalAddress")) {
                    h.unless(v.filled(a, &[cac("Country"), cbc("IdentificationCode")]), a);
                }
            }
        },
    ),
    rule(
        "BR-11",
        Fatal,
        &["BG-8", "BT-55"],
        "The Buyer postal address shall contain a Buyer country code (BT-55).",
        |v, h| {
            for p in parties(v, "AccountingCustomerParty") {
                for a in v.kids(p, cac("PostalAddress")) {
                    h.unless(v.filled(a, &[cac("Country"), cbc("IdentificationCode")]), a);
                }
            }
        },
    ),
    rule(
        "BR-62",
        Fatal,
        &["BT-34"],
        "The Seller electronic address (BT-34) shall have a Scheme identifier.",
        |v, h| {
            for p in parties(v, "AccountingSupplierParty") {
                for e in v.kids(p, cbc("EndpointID")) {
                    h.unless(v.attr(e, "schemeID").is_some(), e);
                }
            }
        },
    ),
    rule("BR-63", Fatal, &["BT-49"], "The Buyer electronic address (BT-49) shall have a Scheme identifier.", |v, h| {
        for p in parties(v, "AccountingCustomerParty") {
            for e in v.kids(p, cbc("EndpointID")) {
                h.unless(v.attr(e, "schemeID").is_some(), e);
            }
        }
    }),
    rule(
        "BR-CO-26",
        Fatal,
        &["BT-29", "BT-30", "BT-31"],
        "In order for the buyer to automatically identify a supplier, the Seller identifier (BT-29), the Seller legal registration identifier (BT-30) and/or the Seller VAT identifier (BT-31) shall be present.",
        |v, h| {
            for s in v.all(cac("AccountingSupplierParty")) {
                let vat = v
                    .at(s, &[cac("Party"), cac("PartyTaxScheme")])
                    .into_iter()
                    .any(|t| v.vat_scheme(t) && v.has(t, &[cbc("CompanyID")]));
                let ok = vat
                    || v.has(s, &[cac("Party"), cac("PartyIdentification"), cbc("ID")])
                    || v.has(s, &[cac("Party"), cac("PartyLegalEntity"), cbc("CompanyID")]);
                h.unless(ok, s);
            }
        },
    ),
    rule(
        "BR-17",
        Fatal,
        &["BG-10", "BT-59"],
        "The Payee name (BT-59) shall be provided in the Invoice, if the Payee (BG-10) is different from the Seller (BG-4).",
        |v, h| {
            for payee in v.all(cac("PayeeParty")) {
                let seller = v
                    .parent(payee)
                    .map(|p| v.at(p, &[cac("AccountingSupplierParty"), cac("Party")]))
                    .unwrap_or_default();
                let seller_values = |steps: &[super::view::Step]| -> Vec<&str> {
                    seller.iter().flat_map(|&s| v.at(s, steps)).map(|e| v.raw(e)).collect()
                };
                let names = seller_values(&[cac("PartyName"), cbc("Name")]);
                let ids = seller_values(&[cac("PartyIdentification"), cbc("ID")]);
                let payee_names: Vec<_> = v.at(payee, &[cac("PartyName"), cbc("Name")]);
                let payee_ids = v.at(payee, &[cac("PartyIdentification"), cbc("ID")]);
                let ok = !payee_names.is_empty()
                    && !payee_names.iter().any(|&n| names.contains(&v.raw(n)))
                    && !payee_ids.iter().any(|&i| ids.contains(&v.raw(i)));
                h.unless(ok, payee);
            }
        },
    ),
    rule(
        "BR-18",
        Fatal,
        &["BG-11", "BT-62"],
        "The Seller tax representative name (BT-62) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11).",
        |v, h| {
            for t in v.all(cac("TaxRepresentativeParty")) {
                h.unless(v.filled(t, &[cac("PartyName"), cbc("Name")]), t);
            }
        },
    ),
    rule(
        "BR-19",
        Fatal,
        &["BG-11", "BG-12"],
        "The Seller tax representative postal address (BG-12) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11).",
        |v, h| {
            for t in v.all(cac("TaxRepresentativeParty")) {
                h.unless(v.has(t, &[cac("PostalAddress")]), t);
            }
        },
    ),
    rule(
        "BR-20",
        Fatal,
        &["BG-12", "BT-69"],
        "The Seller tax representative postal address (BG-12) shall contain a Tax representative country code (BT-69), if the Seller (BG-4) has a Seller tax representative party (BG-11).",
        |v, h| {
            for t in v.all(cac("TaxRepresentativeParty")) {
                for a in v.kids(t, cac("PostalAddress")) {
                    h.unless(v.filled(a, &[cac("Country"), cbc("IdentificationCode")]), a);
                }
            }
        },
    ),
    rule(
        "BR-56",
        Fatal,
        &["BG-11", "BT-63"],
        "Each Seller tax representative party (BG-11) shall have a Seller tax representative VAT identifier (BT-63).",
        |v, h| {
            for t in v.all(cac("TaxRepresentativeParty")) {
                let ok = v.kids(t, cac("PartyTaxScheme")).any(|s| v.vat_scheme(s) && v.has(s, &[cbc("CompanyID")]));
                h.unless(ok, t);
            }
        },
    ),
    rule(
        "BR-CO-09",
        Fatal,
        &["BT-31", "BT-48", "BT-63"],
        "The Seller VAT identifier (BT-31), the Seller tax representative VAT identifier (BT-63) and the Buyer VAT identifier (BT-48) shall have a prefix in accordance with ISO code ISO 3166-1 alpha-2 by which the country of issue may be identified. Nevertheless, Greece may use the prefix 'EL'.",
        |v, h| {
            // `contains(' 1A AD … EL … ZW ', substring(cbc:CompanyID, 1, 2))`: a bare substring test
            // on CEN's list, so an identifier shorter than two characters, or none, passes.
            let prefixes = CenList::VatPrefix.spaced();
            for s in v.all(cac("PartyTaxScheme")) {
                if v.vat_scheme(s) {
                    let id = v.kid(s, cbc("CompanyID")).map_or("", |c| v.raw(c));
                    let prefix: String = id.chars().take(2).collect();
                    if !prefixes.contains(&prefix) {
                        h.found(s, format!("found {id:?}"));
                    }
                }
            }
        },
    ),
    rule(
        "PEPPOL-COMMON-R040",
        Fatal,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "GLN must have a valid format according to GS1 rules.",
        |v, h| check_identifiers(v, h, "0088", false, id::gln),
    ),
    rule(
        "PEPPOL-COMMON-R041",
        Fatal,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Norwegian organization number MUST be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0192", false, id::norwegian_organisation),
    ),
    rule(
        "PEPPOL-COMMON-R042",
        Fatal,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Danish organization number (CVR) MUST be stated in the correct format.",
        |v, h| {
            for e in identifiers(v, "0184", false) {
                if !id::danish_cvr(v.raw(e)) {
                    h.found(e, format!("found {:?}", v.raw(e)));
                }
            }
        },
    ),
    rule(
        "PEPPOL-COMMON-R043",
        Fatal,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Belgian enterprise number MUST be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0208", false, id::belgian_enterprise),
    ),
    rule(
        "PEPPOL-COMMON-R044",
        Warning,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "IPA Code (Codice Univoco Unità Organizzativa) must be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0201", false, id::italian_ipa),
    ),
    rule(
        "PEPPOL-COMMON-R045",
        Warning,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Tax Code (Codice Fiscale) must be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0210", false, id::italian_fiscal_code),
    ),
    rule(
        "PEPPOL-COMMON-R046",
        Warning,
        &["BT-34", "BT-49"],
        "Tax Code (Codice Fiscale) must be stated in the correct format.",
        |v, h| check_identifiers(v, h, "9907", true, id::italian_fiscal_code),
    ),
    rule(
        "PEPPOL-COMMON-R047",
        Warning,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Italian VAT Code (Partita Iva) must be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0211", false, id::italian_vat),
    ),
    rule(
        "PEPPOL-COMMON-R049",
        Fatal,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Swedish organization number MUST be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0007", false, id::swedish_organisation),
    ),
    rule(
        "PEPPOL-COMMON-R050",
        Fatal,
        &["BT-29", "BT-30", "BT-34", "BT-46", "BT-47", "BT-49"],
        "Australian Business Number (ABN) MUST be stated in the correct format.",
        |v, h| check_identifiers(v, h, "0151", false, id::australian_business_number),
    ),
];
