//! 855 Purchase Order Acknowledgment → `po.acknowledged` ([`PurchaseOrderResponse`]).

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, Money, NewEvent, PurchaseOrderResponse, Quantity, ResponseLine,
    ResponseStatus, SupplierId,
};
use rust_decimal::Decimal;

use super::syntax::{Segment, shorten};
use super::values::{date, decimal, line_number, required_decimal, to_utc};
use super::{Input, codes, currency_of, loops, take};
use crate::{Problem, to_code};

/// The order's status from BAK02 (element 587).
fn order_status(seg: &Segment) -> Result<ResponseStatus, Problem> {
    match seg.el(2) {
        "AD" | "AK" | "AP" | "AT" | "NA" => Ok(ResponseStatus::Accepted),
        "AC" | "AE" | "RO" => Ok(ResponseStatus::Changed),
        "RD" | "RF" | "RJ" | "RN" => Ok(ResponseStatus::Rejected),
        other => Err(seg.problem(
            2,
            format!(
                "acknowledgment type {:?} is not known: expected AD, AK, AP, AT, NA (accepted), AC, AE, RO (changed) or RD, RF, RJ, RN (rejected)",
                shorten(other)
            ),
        )),
    }
}

/// A line's status from ACK01 (element 668).
fn line_status(seg: &Segment) -> Result<ResponseStatus, Problem> {
    match seg.el(1) {
        "IA" | "AC" | "AR" => Ok(ResponseStatus::Accepted),
        "ID" | "IR" | "R1" | "R2" | "R3" | "R4" => Ok(ResponseStatus::Rejected),
        "BP" | "DR" | "IB" | "IC" | "IE" | "IF" | "IH" | "IP" | "IQ" | "IS" | "IW" | "SP" => Ok(ResponseStatus::Changed),
        other => Err(seg.problem(
            1,
            format!(
                "line status {:?} is not known: expected IA, AC, AR (accepted), ID, IR, R1–R4 (rejected) or IB, IC, IP, IQ, IS, DR, BP… (changed)",
                shorten(other)
            ),
        )),
    }
}

/// ACK04 qualifiers whose ACK05 date is a delivery date.
const DELIVERY_QUALIFIERS: &[&str] = &["002", "017", "067", "069"];

/// Reads one 855.
pub(crate) fn read(input: &Input<'_>) -> Result<NewEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let (header, lines, _summary) = loops(input.set.body, "PO1", &["CTT"]);
    let Some(bak) = header.iter().find(|s| s.tag == "BAK") else {
        return Err(vec![
            input.set.st.whole("the 855 has no BAK segment (order number and acknowledgment type)".into()),
        ]);
    };
    let status = take(order_status(bak), &mut problems);
    let po_number = to_code(bak.el(3));
    if po_number.is_none() {
        problems.push(bak.problem(3, format!("BAK03 {:?} is not a usable purchase-order number", shorten(bak.el(3)))));
    }
    let responded_on =
        take(date(bak, 9, "BAK09 (acknowledgment date)"), &mut problems).flatten().or_else(|| input.group_date());
    if responded_on.is_none() {
        problems.push(bak.problem(9, "no acknowledgment date: BAK09 and GS04 are both missing or invalid".into()));
    }
    let currency = take(currency_of(input.set.body), &mut problems).unwrap_or_else(|| "USD".to_owned());
    let supplier = codes::party(header, &["SU", "SE", "VN"]).or_else(|| input.sender());
    let note: String = header.iter().filter(|s| s.tag == "MSG").map(|s| s.raw(1)).collect();
    let mut response_lines = Vec::new();
    for (ordinal, segs) in lines.iter().enumerate() {
        let Some(po1) = segs.first() else { continue };
        let po_line = line_number(po1.el(1)).unwrap_or(u32::try_from(ordinal + 1).unwrap_or(u32::MAX));
        let item = take(codes::item(po1, 6), &mut problems);
        let ordered = take(required_decimal(po1, 2, "PO102 (quantity)"), &mut problems);
        let ordered_unit = take(codes::unit(po1, 3), &mut problems);
        let price = take(decimal(po1, 4, "PO104 (unit price)"), &mut problems).flatten();
        let acks: Vec<&Segment> = segs.iter().filter(|s| s.tag == "ACK").collect();
        let mut statuses = Vec::new();
        let mut acked = Decimal::ZERO;
        let mut acked_any = false;
        let mut unit = None;
        let mut delivery_on = None;
        for ack in &acks {
            let Some(st) = take(line_status(ack), &mut problems) else { continue };
            statuses.push(st);
            if st != ResponseStatus::Rejected
                && let Some(q) = take(decimal(ack, 2, "ACK02 (quantity)"), &mut problems).flatten()
            {
                acked += q;
                acked_any = true;
            }
            if unit.is_none() && !ack.el(3).is_empty() {
                unit = take(codes::unit(ack, 3), &mut problems);
            }
            if delivery_on.is_none() && DELIVERY_QUALIFIERS.contains(&ack.el(4)) {
                delivery_on = take(date(ack, 5, "ACK05 (date)"), &mut problems).flatten();
            }
        }
        let line_status = match statuses.split_first() {
            None => status,
            Some((first, rest)) if rest.iter().all(|s| s == first) => Some(*first),
            Some(_) => Some(ResponseStatus::Changed),
        };
        let quantity =
            match (acked_any, statuses.iter().all(|s| *s == ResponseStatus::Rejected) && !statuses.is_empty()) {
                (true, _) => Some(acked),
                (false, true) => Some(Decimal::ZERO),
                (false, false) => ordered,
            };
        if let (Some(item), Some(quantity), Some(unit), Some(status)) =
            (item, quantity, unit.or(ordered_unit), line_status)
        {
            response_lines.push(ResponseLine {
                po_line,
                item,
                status,
                quantity: Quantity { value: quantity, unit },
                unit_price: price.map(|p| Money { amount: p, currency: Currency(currency.clone()) }),
                delivery_on,
            });
        }
    }
    let (Some(po_number), Some(responded_on), Some(status), true) =
        (po_number, responded_on, status, problems.is_empty())
    else {
        return Err(problems);
    };
    let response = PurchaseOrderResponse {
        po_number: DocumentNumber(po_number),
        supplier: supplier.map(SupplierId),
        responded_on,
        status,
        lines: response_lines,
        note: (!note.trim().is_empty()).then_some(note),
    };
    Ok(NewEvent::new(
        input.event_id(),
        EventType::PoAcknowledged,
        input.source(),
        to_utc(responded_on, None, input.cx.default_time_zone),
        EventPayload::PurchaseOrderResponse(response),
    ))
}
