//! UBL `OrderResponse` (Peppol Order Response and Order Agreement 3.0) and
//! `OrderResponseSimple` → `po.acknowledged` [`PurchaseOrderResponse`].

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, Money, NewEvent, PurchaseOrderResponse, Quantity, ResponseLine,
    ResponseStatus, SupplierId, UnitCode,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::common::{Reader, whole_number};
use crate::xml::{Document, ElementId};
use crate::{Context, Problem};

/// The Peppol Order Agreement customization (an `OrderResponse` root).
const ORDER_AGREEMENT: &str = "urn:fdc:peppol.eu:poacc:trns:order_agreement:3";

/// The status of an `cbc:OrderResponseCode` (UNCL4343 subset): `AP` accepted, `CA` conditionally
/// accepted (changed), `RE` rejected. `AB` (received, no decision yet) has no status.
fn header_status(code: &str) -> Option<Option<ResponseStatus>> {
    match code {
        "AP" => Some(Some(ResponseStatus::Accepted)),
        "CA" => Some(Some(ResponseStatus::Changed)),
        "RE" => Some(Some(ResponseStatus::Rejected)),
        "AB" => Some(None),
        _ => None,
    }
}

/// The status of a `cbc:LineStatusCode` (UNCL1229 subset): `5` accepted, `42` already delivered
/// (accepted), `3` changed, `1` added by the seller (a change), `7` not accepted.
fn line_status(code: &str) -> Option<ResponseStatus> {
    match code {
        "5" | "42" => Some(ResponseStatus::Accepted),
        "1" | "3" => Some(ResponseStatus::Changed),
        "7" => Some(ResponseStatus::Rejected),
        _ => None,
    }
}

/// Reads an order response into its `po.acknowledged` event.
///
/// - `po_number` ← `cac:OrderReference/cbc:ID`; `responded_on` ← `cbc:IssueDate`;
///   `supplier` ← `cac:SellerSupplierParty/cac:Party`; `note` ← `cbc:Note`s;
/// - `status` ← `cbc:OrderResponseCode` (AP accepted, CA changed, RE rejected); an `AB`
///   acknowledgement (received, not yet decided) gives no event. An Order Agreement
///   (`CustomizationID` `…:order_agreement:3`) is the agreed order: accepted, with its lines.
/// - lines ← `cac:OrderLine`: `po_line` ← `cac:OrderLineReference/cbc:LineID` (else
///   `cac:LineItem/cbc:ID`), `status` ← `cac:LineItem/cbc:LineStatusCode` (UNCL1229: 5 and 42
///   accepted, 1 and 3 changed, 7 rejected; none: the header's), quantity ←
///   `cbc:Quantity` (zero on a rejected line without one), price ← `cac:Price`,
///   delivery ← `cac:Delivery/cac:PromisedDeliveryPeriod/cbc:StartDate` (else `EndDate`),
///   item ← the ordered `cac:Item` (a `cac:SellerSubstitutedLineItem` is not the ordered item and
///   is named in the note). A line without quantity keeps the ordered quantity, which the
///   canonical response line cannot say: accepted, it is left out; changed (a new delivery
///   day or price only), it is described in the note.
pub fn parse(doc: &Document, ctx: &Context) -> Result<Vec<NewEvent>, Vec<Problem>> {
    let mut r = Reader::new(doc);
    let root = doc.root();
    let agreement = r.text(root, "CustomizationID").is_some_and(|c| c.starts_with(ORDER_AGREEMENT));
    let simple = doc.get(root).name == "OrderResponseSimple";
    let po_number = match r.cac(root, "OrderReference") {
        Some(o) => r.required_code(o, "ID", "purchase order number"),
        None => {
            r.problem(root, "the response has no cac:OrderReference; the answered purchase order number is required");
            None
        }
    };
    let responded_on = r.date(root, "IssueDate");
    if responded_on.is_none() && r.cbc(root, "IssueDate").is_none() {
        r.problem(root, "the response has no cbc:IssueDate; the response day is required");
    }
    let supplier = r.role_code(root, "SellerSupplierParty");
    let mut notes: Vec<String> =
        r.doc.children(root, super::common::CBC, "Note").map(|n| doc.text(n).to_owned()).collect();
    let status = if agreement {
        Some(ResponseStatus::Accepted)
    } else if simple {
        simple_status(&mut r, root, &mut notes)
    } else {
        match r.cbc(root, "OrderResponseCode") {
            Some(e) => {
                let code = doc.text(e).to_owned();
                match header_status(&code) {
                    Some(s) => s,
                    None => {
                        r.problem(e, format!("order response code {code:?} is not one of AP (accepted), CA (conditionally accepted), RE (rejected), AB (acknowledged)"));
                        None
                    }
                }
            }
            None => {
                r.problem(root, "the response has no cbc:OrderResponseCode; expected AP, CA, RE or AB");
                None
            }
        }
    };
    let currency = super::order::find_currency(&r, root).unwrap_or_default();
    let lines = if simple { Vec::new() } else { response_lines(&mut r, root, status, &currency, &mut notes) };
    let is_acknowledgement = !agreement && !simple && r.text(root, "OrderResponseCode").as_deref() == Some("AB");
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    if is_acknowledgement {
        return Ok(Vec::new());
    }
    let (Some(po), Some(responded_on), Some(status)) = (po_number, responded_on, status) else {
        return Err(r.problems);
    };
    let occurred_at = r.issued_at(root, responded_on, ctx);
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    let response_id = r.code(root, "ID", "response number").unwrap_or_else(|| po.clone());
    let sender = supplier.clone().unwrap_or_else(|| "supplier".to_owned());
    let notes: Vec<String> = notes.into_iter().filter(|n| !n.is_empty()).collect();
    let response = PurchaseOrderResponse {
        po_number: DocumentNumber(po.clone()),
        supplier: supplier.map(SupplierId),
        responded_on,
        status,
        lines,
        note: (!notes.is_empty()).then(|| notes.join("\n")),
    };
    Ok(vec![NewEvent::new(
        format!("ubl/order-response/{sender}/{po}/{response_id}"),
        EventType::PoAcknowledged,
        ctx.source_or(|| format!("ubl/{sender}")),
        occurred_at,
        EventPayload::PurchaseOrderResponse(response),
    )])
}

/// `OrderResponseSimple`: `cbc:AcceptedIndicator` true accepted, false rejected; the
/// `cbc:RejectionNote` joins the notes.
fn simple_status(r: &mut Reader<'_>, root: ElementId, notes: &mut Vec<String>) -> Option<ResponseStatus> {
    if let Some(n) = r.text(root, "RejectionNote") {
        notes.push(n);
    }
    let Some(e) = r.cbc(root, "AcceptedIndicator") else {
        r.problem(root, "the response has no cbc:AcceptedIndicator; expected true or false");
        return None;
    };
    match r.doc.text(e) {
        "true" | "1" => Some(ResponseStatus::Accepted),
        "false" | "0" => Some(ResponseStatus::Rejected),
        other => {
            let other = other.to_owned();
            r.problem(e, format!("AcceptedIndicator {other:?} is not a boolean; expected true or false"));
            None
        }
    }
}

/// The answered lines.
fn response_lines(
    r: &mut Reader<'_>,
    root: ElementId,
    header: Option<ResponseStatus>,
    currency: &str,
    notes: &mut Vec<String>,
) -> Vec<ResponseLine> {
    let mut lines = Vec::new();
    for (i, order_line) in r.cacs(root, "OrderLine").into_iter().enumerate() {
        let Some(li) = r.cac(order_line, "LineItem") else {
            r.problem(order_line, "cac:OrderLine has no cac:LineItem");
            continue;
        };
        let reference = r.text_in(order_line, &["OrderLineReference"], "LineID").or_else(|| r.text(li, "ID"));
        let po_line = reference.as_deref().and_then(whole_number).or_else(|| u32::try_from(i + 1).ok());
        let what = format!("response line {}", reference.as_deref().unwrap_or("?"));
        let status = match r.cbc(li, "LineStatusCode") {
            Some(e) => {
                let code = r.doc.text(e).to_owned();
                let s = line_status(&code);
                if s.is_none() {
                    r.problem(e, format!("line status code {code:?} is not one of 1 (added), 3 (changed), 5 (accepted), 7 (not accepted), 42 (already delivered)"));
                }
                s
            }
            None => Some(match header {
                Some(ResponseStatus::Rejected) => ResponseStatus::Rejected,
                _ => ResponseStatus::Accepted,
            }),
        };
        let quantity = r.quantity(li, "Quantity");
        let item = r.line_item(li, &what);
        let unit_price = r.cac(li, "Price").and_then(|p| r.unit_price(p, currency));
        let delivery_on = promised(r, li);
        if let Some(sub) = r.cac(order_line, "SellerSubstitutedLineItem") {
            let name = r.path(sub, &["Item"]).and_then(|i| r.text(i, "Name")).unwrap_or_default();
            let id = r.path(sub, &["Item"]).and_then(|i| r.item(i)).map(|i| i.key().0).unwrap_or_default();
            notes.push(format!("{what}: the seller substitutes item {id} {name}").trim_end().to_owned());
        }
        let (Some(status), Some(item), Some(po_line)) = (status, item, po_line) else { continue };
        let quantity = match (quantity, status) {
            (Some(q), _) => q,
            (None, ResponseStatus::Rejected) => Quantity { value: Decimal::ZERO, unit: UnitCode::default() },
            (None, ResponseStatus::Accepted) => continue,
            (None, ResponseStatus::Changed) => {
                let mut change = format!("{what} (po line {po_line}): changed, quantity as ordered");
                if let Some(d) = delivery_on {
                    change.push_str(&format!(", delivery {d}"));
                }
                if let Some(p) = unit_price {
                    change.push_str(&format!(", unit price {p} {currency}"));
                }
                notes.push(change);
                continue;
            }
        };
        lines.push(ResponseLine {
            po_line,
            item,
            status,
            quantity,
            unit_price: unit_price.map(|amount| Money { amount, currency: Currency(currency.to_owned()) }),
            delivery_on,
        });
    }
    lines
}

/// The promised delivery day of a line item.
fn promised(r: &mut Reader<'_>, li: ElementId) -> Option<NaiveDate> {
    let period = r.path(li, &["Delivery", "PromisedDeliveryPeriod"])?;
    let start = r.date(period, "StartDate");
    let end = r.date(period, "EndDate");
    start.or(end)
}
