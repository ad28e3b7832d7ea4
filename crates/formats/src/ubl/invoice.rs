//! UBL `Invoice` and `CreditNote` → EN 16931 [`SemanticInvoice`] → `invoice.received`.
//!
//! The business terms are read at the paths of the Peppol BIS Billing 3.0 UBL syntax binding.

use backroom_model::NewEvent;

use super::common::Reader;
use crate::en16931::{SemanticInvoice, SemanticLine};
use crate::xml::{Document, ElementId};
use crate::{Context, Problem};

/// Reads the EN 16931 business terms of a UBL `Invoice` or `CreditNote`, or every value that
/// could not be read (a malformed date or amount, a line without quantity), each at its place.
///
/// | BT | UBL path (from the root) |
/// |---|---|
/// | BT-1 number | `cbc:ID` |
/// | BT-2 issue date | `cbc:IssueDate` |
/// | BT-3 type code | `cbc:InvoiceTypeCode` / `cbc:CreditNoteTypeCode` |
/// | BT-5 currency | `cbc:DocumentCurrencyCode` |
/// | BT-9 due date | `cbc:DueDate` (Invoice), `cac:PaymentMeans/cbc:PaymentDueDate` (CreditNote) |
/// | BT-10 buyer reference | `cbc:BuyerReference` |
/// | BT-13 order reference | `cac:OrderReference/cbc:ID` (`NA`, written when only the seller's order number is known, is no reference) |
/// | BT-15 receiving advice | `cac:ReceiptDocumentReference/cbc:ID` |
/// | BT-16 despatch advice | `cac:DespatchDocumentReference/cbc:ID` |
/// | BT-25 preceding invoice | `cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID` |
/// | BG-4 seller | `cac:AccountingSupplierParty/cac:Party` (BT-27 `PartyLegalEntity/RegistrationName`, BT-29 `PartyIdentification/ID`, BT-30 `PartyLegalEntity/CompanyID`, BT-31 `PartyTaxScheme[VAT]/CompanyID`, BT-34 `EndpointID`) |
/// | BG-7 buyer | `cac:AccountingCustomerParty/cac:Party` (same paths) |
/// | BT-106…BT-115 | `cac:LegalMonetaryTotal/cbc:LineExtensionAmount`, `AllowanceTotalAmount`, `ChargeTotalAmount`, `TaxExclusiveAmount`, `TaxInclusiveAmount`, `PrepaidAmount`, `PayableAmount` |
/// | BT-110 VAT total | `cac:TaxTotal/cbc:TaxAmount` in the document currency |
/// | BG-25 lines | `cac:InvoiceLine` / `cac:CreditNoteLine`: BT-126 `cbc:ID`, BT-129/130 `cbc:InvoicedQuantity`/`cbc:CreditedQuantity` and `@unitCode`, BT-131 `cbc:LineExtensionAmount`, BT-132 `cac:OrderLineReference/cbc:LineID`, BT-146 `cac:Price/cbc:PriceAmount`, BT-149 `cac:Price/cbc:BaseQuantity`, BT-153 `cac:Item/cbc:Name`, BT-155 `cac:Item/cac:SellersItemIdentification/cbc:ID`, BT-156 `…/cac:BuyersItemIdentification/cbc:ID`, BT-157 `…/cac:StandardItemIdentification/cbc:ID@schemeID`, BT-151/152 `cac:Item/cac:ClassifiedTaxCategory/cbc:ID`, `cbc:Percent` |
pub fn semantic_invoice(doc: &Document) -> Result<SemanticInvoice, Vec<Problem>> {
    let mut r = Reader::new(doc);
    let root = doc.root();
    let credit_note = doc.get(root).name == "CreditNote";
    let currency = r.text(root, "DocumentCurrencyCode").unwrap_or_default();
    if currency.is_empty() {
        r.rule(root, "BR-05", "the invoice has no cbc:DocumentCurrencyCode (BT-5); an ISO 4217 code is required");
    }
    let mut inv = SemanticInvoice {
        number: r.text(root, "ID").unwrap_or_default(),
        issue_date: r.date(root, "IssueDate"),
        type_code: r
            .text(root, if credit_note { "CreditNoteTypeCode" } else { "InvoiceTypeCode" })
            .unwrap_or_else(|| if credit_note { "381" } else { "380" }.to_owned()),
        credit_note,
        currency: currency.clone(),
        due_date: if credit_note {
            r.cacs(root, "PaymentMeans").into_iter().find_map(|m| r.date(m, "PaymentDueDate"))
        } else {
            r.date(root, "DueDate")
        },
        buyer_reference: r.text(root, "BuyerReference"),
        order_reference: r.reference(root, &["OrderReference"], "ID"),
        receipt_reference: r.reference(root, &["ReceiptDocumentReference"], "ID"),
        despatch_reference: r.reference(root, &["DespatchDocumentReference"], "ID"),
        preceding_invoice: r
            .cacs(root, "BillingReference")
            .into_iter()
            .find_map(|b| r.text_in(b, &["InvoiceDocumentReference"], "ID")),
        seller: r.role_party(root, "AccountingSupplierParty").map(|(_, p)| p).unwrap_or_default(),
        buyer: r.role_party(root, "AccountingCustomerParty").map(|(_, p)| p).unwrap_or_default(),
        ..SemanticInvoice::default()
    };
    if let Some(totals) = r.cac(root, "LegalMonetaryTotal") {
        inv.line_total = r.amount(totals, "LineExtensionAmount", &currency);
        inv.allowance_total = r.amount(totals, "AllowanceTotalAmount", &currency);
        inv.charge_total = r.amount(totals, "ChargeTotalAmount", &currency);
        inv.tax_exclusive = r.amount(totals, "TaxExclusiveAmount", &currency);
        inv.tax_inclusive = r.amount(totals, "TaxInclusiveAmount", &currency);
        inv.prepaid = r.amount(totals, "PrepaidAmount", &currency);
        inv.payable = r.amount(totals, "PayableAmount", &currency);
    } else {
        r.problem(root, "the invoice has no cac:LegalMonetaryTotal (BG-22); the document totals are required");
    }
    inv.tax_total = vat_total(&mut r, root, &currency);
    let line_name = if credit_note { "CreditNoteLine" } else { "InvoiceLine" };
    let quantity_name = if credit_note { "CreditedQuantity" } else { "InvoicedQuantity" };
    for line in r.cacs(root, line_name) {
        if let Some(l) = semantic_line(&mut r, line, quantity_name, &currency) {
            inv.lines.push(l);
        }
    }
    if inv.lines.is_empty() && r.problems.is_empty() {
        r.rule(root, "BR-16", format!("the document has no cac:{line_name}; at least one line is required"));
    }
    if r.problems.is_empty() { Ok(inv) } else { Err(r.problems) }
}

/// BT-110: the `cac:TaxTotal/cbc:TaxAmount` in the document currency (a second tax total in
/// the VAT accounting currency, BT-111, is skipped).
fn vat_total(r: &mut Reader<'_>, root: ElementId, currency: &str) -> Option<rust_decimal::Decimal> {
    let totals = r.cacs(root, "TaxTotal");
    let chosen = totals.iter().copied().find(|&t| {
        r.cbc(t, "TaxAmount").and_then(|a| r.doc.attribute(a, "currencyID")).is_none_or(|c| c.trim() == currency)
    })?;
    let e = r.cbc(chosen, "TaxAmount")?;
    r.decimal_of(e)
}

/// One `cac:InvoiceLine` or `cac:CreditNoteLine`.
fn semantic_line(r: &mut Reader<'_>, line: ElementId, quantity_name: &str, currency: &str) -> Option<SemanticLine> {
    let id = r.text(line, "ID").unwrap_or_default();
    let what = format!("line {id:?}");
    let quantity = r.cbc(line, quantity_name);
    if quantity.is_none() {
        r.rule(line, "BR-22", format!("{what} has no cbc:{quantity_name} (BT-129); the quantity is required"));
    }
    let net = r.cbc(line, "LineExtensionAmount");
    if net.is_none() {
        r.rule(
            line,
            "BR-24",
            format!("{what} has no cbc:LineExtensionAmount (BT-131); the line net amount is required"),
        );
    }
    let price = r.cac(line, "Price");
    if price.is_none() {
        r.rule(line, "BR-26", format!("{what} has no cac:Price (BT-146); the item net price is required"));
    }
    let quantity = quantity.and_then(|q| r.decimal_of(q).map(|v| (v, r.doc.attribute(q, "unitCode"))));
    let unit = quantity.and_then(|(_, u)| u).map(str::trim).unwrap_or("").to_owned();
    if quantity.is_some() && unit.is_empty() {
        r.rule(
            line,
            "BR-23",
            format!("{what}: the quantity has no unitCode (BT-130); a UN/ECE Rec 20 unit is required"),
        );
    }
    let net_amount = r.amount(line, "LineExtensionAmount", currency);
    let (price_amount, base_quantity) = match price {
        Some(p) => (r.amount(p, "PriceAmount", currency), r.decimal(p, "BaseQuantity")),
        None => (None, None),
    };
    if let Some(p) = price
        && r.cbc(p, "PriceAmount").is_none()
    {
        r.rule(p, "BR-26", format!("{what}: cac:Price has no cbc:PriceAmount (BT-146)"));
    }
    let item = r.cac(line, "Item");
    let ids = item.map(|i| r.semantic_item(i)).unwrap_or_default();
    let tax = item.and_then(|i| r.cac(i, "ClassifiedTaxCategory"));
    let vat_rate = tax.and_then(|t| r.decimal(t, "Percent"));
    Some(SemanticLine {
        id,
        quantity: quantity?.0,
        unit,
        net_amount: net_amount?,
        price: price_amount?,
        base_quantity,
        order_line: r.text_in(line, &["OrderLineReference"], "LineID"),
        vat_category: tax.and_then(|t| r.text(t, "ID")),
        vat_rate,
        ..ids
    })
}

/// Reads an invoice or credit note into its `invoice.received` event, after checking it against
/// the EN 16931 rules (and, for a Peppol BIS Billing 3.0 document, the Peppol rules too): a
/// fatal violation rejects the document, each reported with its rule id and XPath.
pub fn parse(doc: &Document, ctx: &Context) -> Result<Vec<NewEvent>, Vec<Problem>> {
    let semantic = semantic_invoice(doc)?;
    let fatal = crate::peppol::fatal_problems(&applicable_rules(doc));
    if !fatal.is_empty() {
        return Err(fatal);
    }
    let invoice = semantic.to_canonical().map_err(|problems| locate(doc, &semantic, problems))?;
    Ok(vec![crate::en16931::received_event(invoice, ctx)])
}

/// The violations that apply: every rule for a Peppol document (its `cbc:CustomizationID`
/// names Peppol), only the EN 16931 rules (`BR-…`) for any other.
fn applicable_rules(doc: &Document) -> Vec<crate::peppol::Violation> {
    let peppol = Reader::new(doc).cbc(doc.root(), "CustomizationID").is_some_and(|c| doc.text(c).contains("peppol.eu"));
    crate::peppol::validate(doc).into_iter().filter(|v| peppol || v.rule.starts_with("BR-")).collect()
}

/// Places the problems of [`SemanticInvoice::to_canonical`] at the elements they concern.
fn locate(doc: &Document, semantic: &SemanticInvoice, problems: Vec<(&'static str, String)>) -> Vec<Problem> {
    let root = doc.root();
    let r = Reader::new(doc);
    let line_name = if semantic.credit_note { "CreditNoteLine" } else { "InvoiceLine" };
    let lines = r.cacs(root, line_name);
    let mut itemless = semantic.lines.iter().zip(lines.iter()).filter(|(l, _)| l.item().is_none()).map(|(_, e)| *e);
    problems
        .into_iter()
        .map(|(bt, message)| {
            let at = match bt {
                "BT-1" => r.cbc(root, "ID"),
                "BT-2" => r.cbc(root, "IssueDate"),
                "BT-29" => r.path(root, &["AccountingSupplierParty", "Party"]),
                "BT-157" => itemless.next().map(|l| r.cac(l, "Item").unwrap_or(l)),
                _ => None,
            };
            let location = at.map_or_else(|| doc.location(root), |e| doc.location(e));
            Problem::rule(location, bt, message)
        })
        .collect()
}
