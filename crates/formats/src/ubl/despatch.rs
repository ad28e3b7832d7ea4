//! UBL `DespatchAdvice` (Peppol Despatch Advice 3.0, Peppol Advanced Despatch Advice 1.0) →
//! `despatch.advised` [`DespatchAdvice`].

use backroom_model::{
    DespatchAdvice, DespatchLine, DocumentNumber, EventPayload, EventType, LocationId, NewEvent, SupplierId,
};
use chrono::NaiveDate;

use super::common::{Reader, whole_number};
use crate::xml::{Document, ElementId};
use crate::{Context, Problem, to_code};

/// Reads a despatch advice into its `despatch.advised` event.
///
/// - `despatch_number` ← `cbc:ID`;
/// - `supplier` ← `cac:SellerSupplierParty/cac:Party` (the supplier the goods were ordered
///   from, as on the order), else `cac:DespatchSupplierParty/cac:Party`;
/// - `ship_to` ← `cac:Shipment/cac:Delivery/cac:DeliveryLocation/cbc:ID`, else
///   `…/cac:DeliveryAddress/cbc:ID`, else `cac:DeliveryCustomerParty/cac:Party` (party id, else
///   endpoint);
/// - `ship_from` ← `cac:Shipment/cac:Delivery/cac:Despatch/cac:DespatchLocation/cbc:ID`
///   (else `cac:DespatchAddress/cbc:ID`);
/// - `po_number` ← `cac:OrderReference/cbc:ID`, else the one order every line's
///   `cac:OrderLineReference/cac:OrderReference/cbc:ID` names;
/// - `shipped_on` ← `…/cac:Despatch/cbc:ActualDespatchDate`; `expected_on` ←
///   `cac:Shipment/cac:Delivery/cac:EstimatedDeliveryPeriod` (else `PromisedDeliveryPeriod`,
///   `RequestedDeliveryPeriod`) `cbc:StartDate` (else `EndDate`);
/// - lines ← `cac:DespatchLine`: `cbc:ID`, `cac:OrderLineReference/cbc:LineID`, `cac:Item`,
///   `cbc:DeliveredQuantity@unitCode` (outstanding quantities are not shipped and not kept).
pub fn parse(doc: &Document, ctx: &Context) -> Result<Vec<NewEvent>, Vec<Problem>> {
    let mut r = Reader::new(doc);
    let root = doc.root();
    let number = r.required_code(root, "ID", "despatch advice number");
    let issued = r.date(root, "IssueDate");
    if issued.is_none() && r.cbc(root, "IssueDate").is_none() {
        r.problem(root, "the despatch advice has no cbc:IssueDate; the issue day is required");
    }
    let supplier = r.role_code(root, "SellerSupplierParty").or_else(|| r.role_code(root, "DespatchSupplierParty"));
    let delivery = r.path(root, &["Shipment", "Delivery"]);
    let ship_to = delivery
        .and_then(|d| {
            r.reference(d, &["DeliveryLocation"], "ID").or_else(|| r.reference(d, &["DeliveryAddress"], "ID"))
        })
        .and_then(|t| to_code(&t))
        .or_else(|| r.path(root, &["DeliveryCustomerParty", "Party"]).and_then(|p| r.place_code(p)));
    if ship_to.is_none() {
        r.problem(root, "the despatch advice names no destination: give cac:Shipment/cac:Delivery/cac:DeliveryLocation/cbc:ID or identify cac:DeliveryCustomerParty");
    }
    let despatch = delivery.and_then(|d| r.cac(d, "Despatch"));
    let ship_from = despatch
        .and_then(|d| {
            r.reference(d, &["DespatchLocation"], "ID").or_else(|| r.reference(d, &["DespatchAddress"], "ID"))
        })
        .and_then(|t| to_code(&t));
    let shipped_on = despatch.and_then(|d| r.date(d, "ActualDespatchDate"));
    let expected_on = delivery.and_then(|d| first_day(&mut r, d));
    let despatch_lines = r.cacs(root, "DespatchLine");
    if despatch_lines.is_empty() {
        r.problem(root, "the despatch advice has no cac:DespatchLine; at least one line is required");
    }
    let po_number = r.reference(root, &["OrderReference"], "ID").and_then(|t| to_code(&t)).or_else(|| {
        single(despatch_lines.iter().map(|&l| r.reference(l, &["OrderLineReference", "OrderReference"], "ID")))
    });
    let ids: Vec<Option<String>> = despatch_lines.iter().map(|&l| r.text(l, "ID")).collect();
    let numbers = r.line_numbers(&ids);
    let mut lines = Vec::new();
    for (&l, line) in despatch_lines.iter().zip(numbers) {
        let what = format!("despatch line {line}");
        let quantity = r.quantity(l, "DeliveredQuantity");
        if quantity.is_none() && r.cbc(l, "DeliveredQuantity").is_none() {
            r.problem(l, format!("{what} has no cbc:DeliveredQuantity; the shipped quantity is required"));
        }
        let item = r.line_item(l, &what);
        let po_line = r.text_in(l, &["OrderLineReference"], "LineID").as_deref().and_then(whole_number);
        if let (Some(item), Some(quantity)) = (item, quantity) {
            lines.push(DespatchLine { line, po_line, item, quantity });
        }
    }
    let (Some(number), Some(issued), Some(ship_to)) = (number, issued, ship_to) else { return Err(r.problems) };
    let occurred_at = r.issued_at(root, issued, ctx);
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    let sender = supplier.clone().unwrap_or_else(|| ship_to.clone());
    let advice = DespatchAdvice {
        despatch_number: DocumentNumber(number.clone()),
        supplier: supplier.map(SupplierId),
        ship_from: ship_from.map(LocationId),
        ship_to: LocationId(ship_to),
        po_number: po_number.map(DocumentNumber),
        shipped_on,
        expected_on,
        lines,
    };
    Ok(vec![NewEvent::new(
        format!("ubl/despatch/{sender}/{number}"),
        EventType::DespatchAdvised,
        ctx.source_or(|| format!("ubl/{sender}")),
        occurred_at,
        EventPayload::DespatchAdvice(advice),
    )])
}

/// The first day of the estimated, else promised, else requested delivery period.
fn first_day(r: &mut Reader<'_>, delivery: ElementId) -> Option<NaiveDate> {
    let period = ["EstimatedDeliveryPeriod", "PromisedDeliveryPeriod", "RequestedDeliveryPeriod"]
        .into_iter()
        .find_map(|p| r.cac(delivery, p))?;
    let start = r.date(period, "StartDate");
    let end = r.date(period, "EndDate");
    start.or(end)
}

/// The one code every value names, when all name the same one.
pub(super) fn single(values: impl Iterator<Item = Option<String>>) -> Option<String> {
    let mut found: Option<String> = None;
    for v in values {
        let code = to_code(&v?)?;
        match &found {
            Some(f) if *f != code => return None,
            _ => found = Some(code),
        }
    }
    found
}
