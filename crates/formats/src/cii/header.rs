//! The document-level business terms of a CII invoice: number, type, dates, currency,
//! references, parties and totals (EN 16931-3-3, the CII syntax binding).

use crate::Problem;
use crate::en16931::SemanticInvoice;
use crate::xml::{Document, ElementId};

use super::terms::Terms;
use super::{RAM, RSM, lines, party, summation};

/// The EN 16931 business terms of a CII invoice (root `rsm:CrossIndustryInvoice`), or every
/// problem found reading them: a missing invoice number (BR-2), issue date (BR-3), type code
/// (BR-4) or currency (BR-5), a missing line term, an amount that is not a number, a date not in
/// format 102.
pub fn semantic_invoice(doc: &Document) -> Result<SemanticInvoice, Vec<Problem>> {
    let root = doc.root();
    let mut t = Terms::new(doc);
    let mut invoice = SemanticInvoice::default();
    let header = [(RSM, "ExchangedDocument")];
    match doc.child(root, RSM, "ExchangedDocument") {
        Some(exchanged) => {
            invoice.number =
                t.required_text(exchanged, &[(RAM, "ID")], "BT-1 invoice number", "BR-2").unwrap_or_default();
            invoice.type_code =
                t.required_text(exchanged, &[(RAM, "TypeCode")], "BT-3 invoice type code", "BR-4").unwrap_or_default();
            if doc.child(exchanged, RAM, "IssueDateTime").is_none() {
                t.missing(exchanged, &[(RAM, "IssueDateTime")], "BT-2 issue date", "BR-3");
            }
            invoice.issue_date = t.date(exchanged, &[(RAM, "IssueDateTime")], "BT-2 issue date");
        }
        None => t.missing(root, &header, "rsm:ExchangedDocument (BT-1 invoice number, BT-2 issue date)", ""),
    }
    let Some(transaction) = doc.child(root, RSM, "SupplyChainTradeTransaction") else {
        let what = "rsm:SupplyChainTradeTransaction (lines, parties, currency, totals)";
        t.missing(root, &[(RSM, "SupplyChainTradeTransaction")], what, "");
        return Err(t.problems);
    };
    agreement(&mut t, transaction, &mut invoice);
    delivery(&t, transaction, &mut invoice);
    settlement(&mut t, transaction, &mut invoice);
    invoice.lines = lines::read(&mut t, transaction);
    if t.problems.is_empty() { Ok(invoice) } else { Err(t.problems) }
}

/// `ram:ApplicableHeaderTradeAgreement`: BT-10 buyer reference, BT-13 order, the parties.
fn agreement(t: &mut Terms<'_>, transaction: ElementId, invoice: &mut SemanticInvoice) {
    let steps = [(RAM, "ApplicableHeaderTradeAgreement")];
    let Some(agreement) = t.doc.descend(transaction, &steps) else {
        t.missing(transaction, &steps, "BG-4 seller (ram:ApplicableHeaderTradeAgreement)", "BR-6");
        return;
    };
    invoice.buyer_reference = t.text(agreement, &[(RAM, "BuyerReference")]);
    invoice.order_reference = t.text(agreement, &[(RAM, "BuyerOrderReferencedDocument"), (RAM, "IssuerAssignedID")]);
    match t.doc.child(agreement, RAM, "SellerTradeParty") {
        Some(seller) => invoice.seller = party::read(t.doc, seller),
        None => t.missing(agreement, &[(RAM, "SellerTradeParty")], "BG-4 seller", "BR-6"),
    }
    if let Some(buyer) = t.doc.child(agreement, RAM, "BuyerTradeParty") {
        invoice.buyer = party::read(t.doc, buyer);
    }
}

/// `ram:ApplicableHeaderTradeDelivery`: BT-16 despatch advice, BT-15 receiving advice.
fn delivery(t: &Terms<'_>, transaction: ElementId, invoice: &mut SemanticInvoice) {
    let Some(delivery) = t.doc.child(transaction, RAM, "ApplicableHeaderTradeDelivery") else { return };
    invoice.despatch_reference =
        t.text(delivery, &[(RAM, "DespatchAdviceReferencedDocument"), (RAM, "IssuerAssignedID")]);
    invoice.receipt_reference =
        t.text(delivery, &[(RAM, "ReceivingAdviceReferencedDocument"), (RAM, "IssuerAssignedID")]);
}

/// `ram:ApplicableHeaderTradeSettlement`: BT-5 currency, BT-25 preceding invoice, BT-9 due
/// date, and the monetary summation.
fn settlement(t: &mut Terms<'_>, transaction: ElementId, invoice: &mut SemanticInvoice) {
    let steps = [(RAM, "ApplicableHeaderTradeSettlement")];
    let Some(settlement) = t.doc.descend(transaction, &steps) else {
        t.missing(transaction, &steps, "BT-5 invoice currency (ram:ApplicableHeaderTradeSettlement)", "BR-5");
        return;
    };
    invoice.currency = t
        .required_text(settlement, &[(RAM, "InvoiceCurrencyCode")], "BT-5 invoice currency code", "BR-5")
        .unwrap_or_default();
    invoice.preceding_invoice = t.text(settlement, &[(RAM, "InvoiceReferencedDocument"), (RAM, "IssuerAssignedID")]);
    let terms: Vec<ElementId> = t.doc.children(settlement, RAM, "SpecifiedTradePaymentTerms").collect();
    for terms in terms {
        if t.doc.child(terms, RAM, "DueDateDateTime").is_some() {
            invoice.due_date = t.date(terms, &[(RAM, "DueDateDateTime")], "BT-9 payment due date");
            break;
        }
    }
    summation::read(t, settlement, invoice);
}
