//! A read-only view of a UBL Invoice or CreditNote tree with the navigation the rules need:
//! XPath-like child steps that consider every matching child, and the document-wide lookups
//! (`//cac:TaxCategory`) the Schematron uses.

use rust_decimal::Decimal;

use super::arithmetic;
use crate::xml::{Document, ElementId};

/// UBL common basic components.
pub(crate) const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// UBL common aggregate components.
pub(crate) const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
/// The UBL Invoice document namespace.
pub(crate) const INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
/// The UBL CreditNote document namespace.
pub(crate) const CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";

/// A step `(namespace, local name)`.
pub(crate) type Step = (&'static str, &'static str);

/// `cbc:NAME`.
pub(crate) const fn cbc(name: &'static str) -> Step {
    (CBC, name)
}

/// `cac:NAME`.
pub(crate) const fn cac(name: &'static str) -> Step {
    (CAC, name)
}

/// The document under validation.
pub(crate) struct View<'a> {
    /// The tree.
    pub doc: &'a Document,
    /// Every element in document order.
    pub order: Vec<ElementId>,
    /// Whether the root is `ubl-invoice:Invoice`.
    pub invoice: bool,
    /// Whether the root is `ubl-creditnote:CreditNote`.
    pub credit_note: bool,
}

impl<'a> View<'a> {
    /// Indexes a document.
    pub fn new(doc: &'a Document) -> Self {
        let mut order = Vec::new();
        let mut stack = vec![doc.root()];
        while let Some(e) = stack.pop() {
            order.push(e);
            stack.extend(doc.get(e).children.iter().rev().copied());
        }
        let root = doc.get(doc.root());
        let invoice = root.namespace == INVOICE && root.name == "Invoice";
        let credit_note = root.namespace == CREDIT_NOTE && root.name == "CreditNote";
        Self { doc, order, invoice, credit_note }
    }

    /// The root element.
    pub fn root(&self) -> ElementId {
        self.doc.root()
    }

    /// Whether the root is a UBL Invoice or CreditNote (the Schematron's document context).
    pub fn is_document(&self) -> bool {
        self.invoice || self.credit_note
    }

    /// The name of the line element of this document (`InvoiceLine` or `CreditNoteLine`).
    pub fn line_name(&self) -> &'static str {
        if self.credit_note { "CreditNoteLine" } else { "InvoiceLine" }
    }

    /// Whether `e` is `ns:name`.
    pub fn is(&self, e: ElementId, (ns, name): Step) -> bool {
        let el = self.doc.get(e);
        el.name == name && el.namespace == ns
    }

    /// The parent of `e`.
    pub fn parent(&self, e: ElementId) -> Option<ElementId> {
        self.doc.get(e).parent
    }

    /// Whether the parent of `e` is `step`.
    pub fn parent_is(&self, e: ElementId, step: Step) -> bool {
        self.parent(e).is_some_and(|p| self.is(p, step))
    }

    /// Every element `step` anywhere, in document order (`//step`).
    pub fn all(&self, step: Step) -> impl Iterator<Item = ElementId> + '_ {
        self.order.iter().copied().filter(move |&e| self.is(e, step))
    }

    /// The children of `e` that are `step`.
    pub fn kids(&self, e: ElementId, (ns, name): Step) -> impl Iterator<Item = ElementId> + 'a {
        self.doc.children(e, ns, name)
    }

    /// The first child of `e` that is `step`.
    pub fn kid(&self, e: ElementId, (ns, name): Step) -> Option<ElementId> {
        self.doc.child(e, ns, name)
    }

    /// Every element reached from `e` by the steps, considering every matching child at each
    /// step (XPath `a/b/c`).
    pub fn at(&self, e: ElementId, steps: &[Step]) -> Vec<ElementId> {
        let mut current = vec![e];
        for &step in steps {
            current = current.into_iter().flat_map(|c| self.kids(c, step).collect::<Vec<_>>()).collect();
        }
        current
    }

    /// Whether anything is reached by the steps (XPath existence: an empty element counts).
    pub fn has(&self, e: ElementId, steps: &[Step]) -> bool {
        !self.at(e, steps).is_empty()
    }

    /// The deepest element that exists along the steps from `e`: where a missing element is
    /// reported.
    pub fn deepest(&self, e: ElementId, steps: &[Step]) -> ElementId {
        let mut at = e;
        for &step in steps {
            match self.kid(at, step) {
                Some(next) => at = next,
                None => break,
            }
        }
        at
    }

    /// The trimmed text of `e`.
    pub fn text(&self, e: ElementId) -> &'a str {
        self.doc.text(e)
    }

    /// The raw text of `e`, untrimmed.
    pub fn raw(&self, e: ElementId) -> &'a str {
        &self.doc.get(e).text
    }

    /// The trimmed text of the first element along the steps, `""` when there is none.
    pub fn text_at(&self, e: ElementId, steps: &[Step]) -> &'a str {
        self.at(e, steps).first().map_or("", |&t| self.text(t))
    }

    /// Whether some element along the steps has non-blank text (`normalize-space(a/b) != ''`,
    /// which looks at the first).
    pub fn filled(&self, e: ElementId, steps: &[Step]) -> bool {
        !self.text_at(e, steps).is_empty()
    }

    /// An attribute without namespace.
    pub fn attr(&self, e: ElementId, name: &str) -> Option<&'a str> {
        self.doc.attribute(e, name)
    }

    /// The decimal value of `e`.
    pub fn dec(&self, e: ElementId) -> Option<Decimal> {
        arithmetic::decimal(self.text(e))
    }

    /// The decimal value of the first element along the steps.
    pub fn dec_at(&self, e: ElementId, steps: &[Step]) -> Option<Decimal> {
        self.at(e, steps).first().and_then(|&t| self.dec(t))
    }

    /// The document currency code (BT-5), trimmed.
    pub fn currency(&self) -> &'a str {
        self.text_at(self.root(), &[cbc("DocumentCurrencyCode")])
    }

    /// The VAT accounting currency code (BT-6), when given.
    pub fn tax_currency(&self) -> Option<&'a str> {
        self.kid(self.root(), cbc("TaxCurrencyCode")).map(|e| self.text(e))
    }

    /// Whether a tax category (or classified tax category) is in the VAT scheme
    /// (`cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT'`).
    pub fn vat_scheme(&self, category: ElementId) -> bool {
        self.at(category, &[cac("TaxScheme"), cbc("ID")]).iter().any(|&i| self.text(i).to_uppercase() == "VAT")
    }

    /// The category code of a tax category, trimmed.
    pub fn category_code(&self, category: ElementId) -> &'a str {
        self.text_at(category, &[cbc("ID")])
    }

    /// The value of a `cbc:ChargeIndicator` child read as `xs:boolean` (`true`/`1`, `false`/`0`).
    pub fn charge_indicator(&self, allowance_charge: ElementId) -> Option<bool> {
        match self.text_at(allowance_charge, &[cbc("ChargeIndicator")]) {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// The country code of a party's postal address, upper case.
    pub fn party_country(&self, party_role: &'static str) -> String {
        let steps = [cac(party_role), cac("Party"), cac("PostalAddress"), cac("Country"), cbc("IdentificationCode")];
        self.text_at(self.root(), &steps).to_uppercase()
    }

    /// Whether seller and buyer are both in Germany (their postal address country is `DE`).
    pub fn both_german(&self) -> bool {
        self.party_country("AccountingSupplierParty") == "DE" && self.party_country("AccountingCustomerParty") == "DE"
    }

    /// The Peppol business process number (`01` of `urn:fdc:peppol.eu:2017:poacc:billing:01:1.0`),
    /// `None` when the profile identifier has not that form.
    pub fn profile(&self) -> Option<String> {
        let profile = self.kid(self.root(), cbc("ProfileID"))?;
        let value = self.text(profile).split_whitespace().collect::<Vec<_>>().join(" ");
        const PREFIX: &str = "urn:fdc:peppol.eu:2017:poacc:billing:";
        let matches = value.match_indices(PREFIX).any(|(i, _)| {
            let rest = value.get(i + PREFIX.len()..).unwrap_or("").as_bytes();
            rest.len() >= 6
                && rest[0].is_ascii_digit()
                && rest[1].is_ascii_digit()
                && rest[2] == b':'
                && rest[3] == b'1'
                && rest[5] == b'0'
        });
        matches.then(|| value.split(':').nth(6).unwrap_or("").to_owned())
    }
}
