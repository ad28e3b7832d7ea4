//! The code lists of the rules, compiled in from two generated data files: Peppol's lists
//! ([`CodeList`], for the `PEPPOL-*` rules) and CEN's ([`CenList`], for the `BR-*` rules). The
//! two differ: CEN's EN 16931 lists are what the `BR-CL-*` asserts of `CEN-EN16931-UBL.sch`
//! tokenize; Peppol's are narrower BIS Billing 3.0 subsets (its invoice and credit note type
//! codes, its electronic address schemes) or from a newer release (ISO 4217 with `MRU STN UYW`
//! where CEN still has `CUC MRO STD`). Peppol's validation artefacts run the CEN Schematron
//! unchanged next to their own, so a `BR-*` rule checks CEN's list for every document, Peppol
//! or not: Peppol's narrower lists are enforced by the `PEPPOL-*` rules only (P0100, P0101,
//! CL001 to CL008), and CEN's currency list holds for Peppol documents too.
//!
//! `codelists.txt` is generated from the OpenPEPPOL code list files
//! (`shared/data/ubl/peppol-bis-billing-3/codelist/*.xml`): for each file, the text of the `<Id>`
//! of every `<Code>`, in file order, on one line after the list's name. It was made with a short
//! script equivalent to
//! `for f in codelist/*.xml: print(NAME[f], *re.findall(r'<Id>\s*([^<]*?)\s*</Id>', read(f)))`
//! with the names: `currency` (ISO4217_2015), `mime` (MimeCode), `credit-note-type`
//! (UNCL1001-cn), `invoice-type` (UNCL1001-inv), `date-code` (UNCL2005), `allowance-reason`
//! (UNCL5189), `charge-reason` (UNCL7161) and `eas`: the lists a `PEPPOL-*` rule checks. (Peppol's
//! other code list files — countries, payment means, VAT categories, item classifications,
//! units, VATEX, ICD, UNCL1153 — are checked by `BR-*` rules only, so with CEN's lists, and are
//! left out.) Each list was checked to be identical to the one the Peppol Schematron (May 2025
//! release) tokenizes inline.
//!
//! `cen-codelists.txt` is generated from the CEN Schematron Peppol ships
//! (`shared/data/ubl/peppol-bis-billing-3/sch/CEN-EN16931-UBL.sch.gz`, version 1.3.14.1 of
//! 2025-04-22): for each list, the space-delimited tokens of a quoted `' … '` list in the `test`
//! of the assert named below, in Schematron order, on one line after the list's name. It was made with a short Python script
//! equivalent to
//! `tests = {a.get('id'): a.get('test') for a in sch.iter(SCH + 'assert')}`,
//! `lists = lambda id: [q.split() for q in re.findall(r"'( [^']* )'", tests[id])]`,
//! `print(NAME, *lists(ID)[N])` with: `invoice-type` (BR-CL-01, first list), `credit-note-type`
//! (BR-CL-01, second), `currency` (BR-CL-03), `date-code` (BR-CL-06), `reference-qualifier`
//! (BR-CL-07), `icd` (BR-CL-10, first), `icd-seller-payee` (BR-CL-10, second: `SEPA`, allowed
//! under the seller and the payee only), `item-classification` (BR-CL-13), `country`
//! (BR-CL-14), `payment-means` (BR-CL-16), `vat-category` (BR-CL-17), `allowance-reason`
//! (BR-CL-19), `charge-reason` (BR-CL-20), `vatex` (BR-CL-22), `unit` (BR-CL-23), `eas`
//! (BR-CL-25), `vat-prefix` (BR-CO-09: the country codes and `EL`), and `mime` (BR-CL-24, which
//! compares with `@mimeCode = '…'` instead: its quoted strings). The script also asserted that
//! the rules sharing a list tokenize the very same one: BR-CL-04 and BR-CL-05 that of BR-CL-03,
//! BR-CL-11, BR-CL-21 and BR-CL-26 that of BR-CL-10, BR-CL-15 that of BR-CL-14, BR-CL-18 that
//! of BR-CL-17. `tests/peppol_rules.rs` re-reads the Schematron and checks every code against
//! the rules.

/// Peppol's generated lists, one per line.
const DATA: &str = include_str!("codelists.txt");

/// CEN's generated lists, one per line.
const CEN_DATA: &str = include_str!("cen-codelists.txt");

/// The codes of the list `name` of a data file, in file order.
fn codes_of(data: &'static str, name: &'static str) -> impl Iterator<Item = &'static str> {
    data.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .into_iter()
        .flat_map(|l| l.split_whitespace().skip(1))
}

/// A code list: what the rules ask of one.
pub(crate) trait Codes: Copy {
    /// The codes, in file order.
    fn codes(self) -> impl Iterator<Item = &'static str>;

    /// Whether `code` is in the list (exact, case-sensitive, as the Schematrons compare).
    fn contains(self, code: &str) -> bool {
        !code.is_empty() && self.codes().any(|c| c == code)
    }
}

/// A code list of Peppol's data file (`codelists.txt`), for the `PEPPOL-*` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeList {
    /// ISO 4217 currency codes (PEPPOL-EN16931-CL007).
    Currency,
    /// MIME codes of attachments (CL001).
    Mime,
    /// UNCL 1001 subset for credit notes (P0101).
    CreditNoteType,
    /// UNCL 1001 subset for invoices (P0100, without 389).
    InvoiceType,
    /// UNCL 2005 subset: VAT point date codes (CL006).
    DateCode,
    /// UNCL 5189 allowance reasons (CL002).
    AllowanceReason,
    /// UNCL 7161 charge reasons (CL003).
    ChargeReason,
    /// Electronic address schemes (EAS, CL008).
    Eas,
}

impl CodeList {
    fn name(self) -> &'static str {
        match self {
            CodeList::Currency => "currency",
            CodeList::Mime => "mime",
            CodeList::CreditNoteType => "credit-note-type",
            CodeList::InvoiceType => "invoice-type",
            CodeList::DateCode => "date-code",
            CodeList::AllowanceReason => "allowance-reason",
            CodeList::ChargeReason => "charge-reason",
            CodeList::Eas => "eas",
        }
    }
}

impl Codes for CodeList {
    fn codes(self) -> impl Iterator<Item = &'static str> {
        codes_of(DATA, self.name())
    }
}

/// A code list of CEN's data file (`cen-codelists.txt`): the lists of the `BR-*` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CenList {
    /// UNTDID 1001 codes of invoices (BR-CL-01).
    InvoiceType,
    /// UNTDID 1001 codes of credit notes (BR-CL-01).
    CreditNoteType,
    /// ISO 4217 currency codes (BR-CL-03, BR-CL-04, BR-CL-05).
    Currency,
    /// UNTDID 2005 subset: VAT point date codes (BR-CL-06).
    DateCode,
    /// UNTDID 1153 reference qualifiers (BR-CL-07).
    ReferenceQualifier,
    /// ISO 6523 ICD identifier schemes (BR-CL-10, BR-CL-11, BR-CL-21, BR-CL-26).
    Icd,
    /// The further party identifier schemes of the seller and the payee: `SEPA` (BR-CL-10).
    IcdSellerPayee,
    /// UNTDID 7143 item classification schemes (BR-CL-13).
    ItemClassification,
    /// ISO 3166-1 alpha-2 country codes with `1A` (BR-CL-14, BR-CL-15).
    Country,
    /// UNTDID 4461 payment means (BR-CL-16).
    PaymentMeans,
    /// UNTDID 5305 VAT categories (BR-CL-17, BR-CL-18).
    VatCategory,
    /// UNTDID 5189 allowance reasons (BR-CL-19).
    AllowanceReason,
    /// UNTDID 7161 charge reasons (BR-CL-20).
    ChargeReason,
    /// VATEX exemption reason codes (BR-CL-22).
    Vatex,
    /// UN/ECE Recommendation 20 (with Rec 21) units (BR-CL-23).
    Unit,
    /// MIME codes of attachments (BR-CL-24).
    Mime,
    /// Electronic address schemes (EAS, BR-CL-25).
    Eas,
    /// VAT identifier prefixes: the country codes and `EL` (BR-CO-09).
    VatPrefix,
}

impl CenList {
    fn name(self) -> &'static str {
        match self {
            CenList::InvoiceType => "invoice-type",
            CenList::CreditNoteType => "credit-note-type",
            CenList::Currency => "currency",
            CenList::DateCode => "date-code",
            CenList::ReferenceQualifier => "reference-qualifier",
            CenList::Icd => "icd",
            CenList::IcdSellerPayee => "icd-seller-payee",
            CenList::ItemClassification => "item-classification",
            CenList::Country => "country",
            CenList::PaymentMeans => "payment-means",
            CenList::VatCategory => "vat-category",
            CenList::AllowanceReason => "allowance-reason",
            CenList::ChargeReason => "charge-reason",
            CenList::Vatex => "vatex",
            CenList::Unit => "unit",
            CenList::Mime => "mime",
            CenList::Eas => "eas",
            CenList::VatPrefix => "vat-prefix",
        }
    }

    /// The list as the Schematron writes it: its codes between single spaces, with a space
    /// before the first and after the last (`' 1A AD AE … '`), for the asserts that test it with
    /// a bare `contains(LIST, x)`.
    pub(crate) fn spaced(self) -> String {
        let mut out = String::from(" ");
        for c in self.codes() {
            out.push_str(c);
            out.push(' ');
        }
        out
    }
}

impl Codes for CenList {
    fn codes(self) -> impl Iterator<Item = &'static str> {
        codes_of(CEN_DATA, self.name())
    }
}

/// The invoice type codes Peppol profile 01 accepts (PEPPOL-EN16931-P0100): the invoice
/// subset without 389, self-billing, which has its own profile.
pub(crate) fn profile_01_invoice_type(code: &str) -> bool {
    code != "389" && CodeList::InvoiceType.contains(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_loaded() {
        assert!(CodeList::Currency.contains("EUR"));
        assert!(!CodeList::Currency.contains("ITL"));
        assert!(CodeList::Eas.contains("0208"));
        assert!(!CodeList::Eas.contains("0207"));
        assert!(CenList::Unit.contains("C62"));
        assert!(CenList::Country.contains("XI") && CenList::Country.contains("1A"));
        assert_eq!(CenList::VatCategory.codes().count(), 10);
        assert_eq!(CodeList::CreditNoteType.codes().collect::<Vec<_>>(), ["81", "83", "381", "396", "532"]);
        assert!(profile_01_invoice_type("380") && !profile_01_invoice_type("389"));
    }

    #[test]
    fn cen_lists_are_loaded_and_differ_where_peppol_narrows() {
        assert!(CenList::Eas.contains("EM") && !CodeList::Eas.contains("EM"));
        assert!(CenList::InvoiceType.contains("387") && !CodeList::InvoiceType.contains("387"));
        assert!(CenList::CreditNoteType.contains("261") && !CodeList::CreditNoteType.contains("261"));
        assert!(CenList::Currency.contains("CUC") && !CenList::Currency.contains("MRU"));
        assert!(CodeList::Currency.contains("MRU"));
        assert_eq!(CenList::IcdSellerPayee.codes().collect::<Vec<_>>(), ["SEPA"]);
        assert_eq!(CenList::Mime.codes().count(), 6);
        assert!(CenList::VatPrefix.contains("EL") && !CenList::Country.contains("EL"));
        assert!(CenList::VatPrefix.spaced().starts_with(" 1A AD ") && CenList::VatPrefix.spaced().ends_with(" ZW "));
        for list in [CenList::Icd, CenList::Unit, CenList::Vatex, CenList::ReferenceQualifier] {
            assert!(list.codes().count() > 80, "{list:?}");
        }
    }
}
