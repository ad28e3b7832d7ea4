//! UBL `ReceiptAdvice` (Peppol Receipt Advice 1.0) → `receipt.posted` [`GoodsReceipt`].

use backroom_model::{
    DocumentNumber, EventPayload, EventType, GoodsReceipt, LocationId, NewEvent, ReceiptLine, SupplierId,
};

use super::common::{Reader, whole_number};
use super::despatch::single;
use crate::xml::Document;
use crate::{Context, Problem, to_code};

/// Reads a receipt advice into its `receipt.posted` event.
///
/// - `receipt_number` ← `cbc:ID`;
/// - `location` ← `cac:Shipment/cac:Delivery/cac:DeliveryLocation/cbc:ID`, else
///   `cac:DeliveryCustomerParty/cac:Party` (party id, else endpoint);
/// - `supplier` ← `cac:SellerSupplierParty/cac:Party`, else `cac:DespatchSupplierParty/cac:Party`;
/// - `po_number` ← `cac:OrderReference/cbc:ID`, else the one order all lines'
///   `cac:OrderLineReference/cac:OrderReference/cbc:ID` name;
/// - `despatch_advice` ← `cac:DespatchDocumentReference/cbc:ID`;
/// - lines ← `cac:ReceiptLine`: `cbc:ID`, `cac:OrderLineReference/cbc:LineID`, `cac:Item`,
///   `cbc:ReceivedQuantity` → received, `cbc:ShortQuantity` → short, `cbc:RejectedQuantity` →
///   rejected, `cbc:RejectReason` (else `cbc:RejectReasonCode`) → reason.
///
/// A receipt line without item or received quantity — a receipt advice that only confirms or
/// rejects a despatch advice as a whole — is rejected: it does not say which goods came in.
pub fn parse(doc: &Document, ctx: &Context) -> Result<Vec<NewEvent>, Vec<Problem>> {
    let mut r = Reader::new(doc);
    let root = doc.root();
    let number = r.required_code(root, "ID", "receipt advice number");
    let issued = r.date(root, "IssueDate");
    if issued.is_none() && r.cbc(root, "IssueDate").is_none() {
        r.problem(root, "the receipt advice has no cbc:IssueDate; the issue day is required");
    }
    let location = r
        .reference(root, &["Shipment", "Delivery", "DeliveryLocation"], "ID")
        .and_then(|t| to_code(&t))
        .or_else(|| r.path(root, &["DeliveryCustomerParty", "Party"]).and_then(|p| r.place_code(p)));
    if location.is_none() {
        r.problem(root, "the receipt advice names no receiving location: give cac:Shipment/cac:Delivery/cac:DeliveryLocation/cbc:ID or identify cac:DeliveryCustomerParty");
    }
    let supplier = r.role_code(root, "SellerSupplierParty").or_else(|| r.role_code(root, "DespatchSupplierParty"));
    let receipt_lines = r.cacs(root, "ReceiptLine");
    if receipt_lines.is_empty() {
        r.problem(root, "the receipt advice has no cac:ReceiptLine; at least one line is required");
    }
    let po_number = r.reference(root, &["OrderReference"], "ID").and_then(|t| to_code(&t)).or_else(|| {
        single(receipt_lines.iter().map(|&l| r.reference(l, &["OrderLineReference", "OrderReference"], "ID")))
    });
    let despatch_advice = r.reference(root, &["DespatchDocumentReference"], "ID").and_then(|t| to_code(&t));
    let ids: Vec<Option<String>> = receipt_lines.iter().map(|&l| r.text(l, "ID")).collect();
    let numbers = r.line_numbers(&ids);
    let mut lines = Vec::new();
    for (&l, line) in receipt_lines.iter().zip(numbers) {
        let what = format!("receipt line {line}");
        if r.cbc(l, "ReceivedQuantity").is_none() && r.cac(l, "Item").is_none() {
            r.problem(
                l,
                format!(
                    "{what} has neither cac:Item nor cbc:ReceivedQuantity: a receipt advice that only confirms or rejects a despatch advice as a whole cannot be posted as a goods receipt; send each received item with its cbc:ReceivedQuantity"
                ),
            );
            continue;
        }
        let received = r.quantity(l, "ReceivedQuantity");
        if received.is_none() && r.cbc(l, "ReceivedQuantity").is_none() {
            r.problem(l, format!("{what} has no cbc:ReceivedQuantity; the quantity received is required"));
        }
        let item = r.line_item(l, &what);
        let short = r.quantity(l, "ShortQuantity");
        let rejected = r.quantity(l, "RejectedQuantity");
        let reason = r
            .text(l, "RejectReason")
            .or_else(|| r.text(l, "RejectReasonCode").map(|c| format!("reject reason code {c}")));
        let po_line = r.text_in(l, &["OrderLineReference"], "LineID").as_deref().and_then(whole_number);
        if let (Some(item), Some(received)) = (item, received) {
            lines.push(ReceiptLine { line, po_line, item, received, short, rejected, reason });
        }
    }
    let (Some(number), Some(issued), Some(location)) = (number, issued, location) else { return Err(r.problems) };
    let occurred_at = r.issued_at(root, issued, ctx);
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    let receipt = GoodsReceipt {
        receipt_number: DocumentNumber(number.clone()),
        location: LocationId(location.clone()),
        supplier: supplier.map(SupplierId),
        po_number: po_number.map(DocumentNumber),
        despatch_advice: despatch_advice.map(DocumentNumber),
        lines,
    };
    Ok(vec![NewEvent::new(
        format!("ubl/receipt/{location}/{number}"),
        EventType::ReceiptPosted,
        ctx.source_or(|| format!("ubl/{location}")),
        occurred_at,
        EventPayload::GoodsReceipt(receipt),
    )])
}
