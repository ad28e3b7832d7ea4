//! 856 Ship Notice/Manifest → `despatch.advised` ([`DespatchAdvice`]).

use backroom_model::{
    DespatchAdvice, DespatchLine, DocumentNumber, EventPayload, EventType, LocationId, NewEvent, Quantity, SupplierId,
};

use super::syntax::{Segment, shorten};
use super::values::{line_number, required_decimal, time, to_utc};
use super::{Input, codes, dates, take};
use crate::{Problem, to_code};

/// Reads one 856.
pub(crate) fn read(input: &Input<'_>) -> Result<NewEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let body = input.set.body;
    let Some(bsn) = body.iter().find(|s| s.tag == "BSN") else {
        return Err(vec![input.set.st.whole("the 856 has no BSN segment (shipment id and date)".into())]);
    };
    if matches!(bsn.el(1), "01" | "03") {
        problems.push(bsn.problem(
            1,
            format!("purpose {:?} cancels or deletes a ship notice, which has no canonical event: Backroom reads new notices (00, 05, 06, 07, 14…)", bsn.el(1)),
        ));
    }
    let number = to_code(bsn.el(2));
    if number.is_none() {
        problems.push(bsn.problem(2, format!("BSN02 {:?} is not a usable shipment id", shorten(bsn.el(2)))));
    }
    let notice_time = take(time(bsn, 4, "BSN04 (time)"), &mut problems).flatten();
    check_hierarchy(body, &mut problems);
    let shipped_on = dates(body, "011", &mut problems).first().copied();
    let estimated = dates(body, "017", &mut problems).first().copied();
    let expected_on = estimated.or_else(|| dates(body, "067", &mut problems).first().copied());
    let ship_to = codes::party(body, &["ST"]).or_else(|| to_code(input.group.el(3)));
    let ship_from = codes::party(body, &["SF"]);
    let supplier = codes::party(body, &["SU", "SE", "VN"]).or_else(|| input.sender());
    let mut orders: Vec<String> = Vec::new();
    for prf in body.iter().filter(|s| s.tag == "PRF") {
        match to_code(prf.el(1)) {
            Some(po) if !orders.contains(&po) => orders.push(po),
            Some(_) => {}
            None => problems
                .push(prf.problem(1, format!("PRF01 {:?} is not a usable purchase-order number", shorten(prf.el(1))))),
        }
    }
    let mut lines = Vec::new();
    let mut current: Option<&Segment> = None;
    for seg in body {
        match seg.tag.as_str() {
            "LIN" => {
                if let Some(lin) = current.replace(seg) {
                    problems.push(lin.whole("the item (LIN) has no SN1 quantity shipped".into()));
                }
            }
            "SN1" => {
                let Some(lin) = current.take() else {
                    problems.push(seg.whole("SN1 has no LIN before it naming the item shipped".into()));
                    continue;
                };
                let item = take(codes::item(lin, 2), &mut problems);
                let quantity = take(required_decimal(seg, 2, "SN102 (quantity shipped)"), &mut problems);
                let unit = take(codes::unit(seg, 3), &mut problems);
                if let (Some(item), Some(value), Some(unit)) = (item, quantity, unit) {
                    lines.push(DespatchLine {
                        line: u32::try_from(lines.len() + 1).unwrap_or(u32::MAX),
                        po_line: line_number(lin.el(1)),
                        item,
                        quantity: Quantity { value, unit },
                    });
                }
            }
            "HL" => {
                if let Some(lin) = current.take() {
                    problems.push(lin.whole("the item (LIN) has no SN1 quantity shipped".into()));
                }
            }
            _ => {}
        }
    }
    if let Some(lin) = current {
        problems.push(lin.whole("the item (LIN) has no SN1 quantity shipped".into()));
    }
    if lines.is_empty() && problems.is_empty() {
        problems.push(input.set.st.whole("the 856 ships no item: expected LIN segments each followed by SN1".into()));
    }
    let (Some(number), Some(ship_to), true) = (number, ship_to, problems.is_empty()) else {
        if problems.is_empty() {
            problems.push(
                input
                    .set
                    .st
                    .whole("the 856 names no ship-to location (N1*ST N104) and its group no receiver (GS03)".into()),
            );
        }
        return Err(problems);
    };
    let occurred = shipped_on.or_else(|| super::values::parse_date(bsn.el(3))).or_else(|| input.group_date());
    let tz = input.cx.time_zone(&ship_to);
    let advice = DespatchAdvice {
        despatch_number: DocumentNumber(number),
        supplier: supplier.map(SupplierId),
        ship_from: ship_from.map(LocationId),
        ship_to: LocationId(ship_to),
        po_number: if orders.len() == 1 { orders.pop().map(DocumentNumber) } else { None },
        shipped_on,
        expected_on,
        lines,
    };
    let at = match occurred {
        Some(d) => to_utc(d, if shipped_on.is_some() { None } else { notice_time }, tz),
        None => input.cx.now,
    };
    Ok(NewEvent::new(
        input.event_id(),
        EventType::DespatchAdvised,
        input.source(),
        at,
        EventPayload::DespatchAdvice(advice),
    ))
}

/// Checks the HL segments: HL01 unique, HL02 naming an earlier HL01, HL03 present.
fn check_hierarchy(body: &[Segment], problems: &mut Vec<Problem>) {
    let mut seen: Vec<&str> = Vec::new();
    for hl in body.iter().filter(|s| s.tag == "HL") {
        let id = hl.el(1);
        if id.is_empty() || seen.contains(&id) {
            problems.push(hl.problem(1, format!("HL01 {:?} must be a hierarchical id unique in the set", shorten(id))));
        }
        let parent = hl.el(2);
        if !parent.is_empty() && !seen.contains(&parent) {
            problems.push(hl.problem(2, format!("HL02 {:?} names no earlier HL01 as parent", shorten(parent))));
        }
        if hl.el(3).is_empty() {
            problems.push(hl.problem(3, "HL03 (level code: S, O, P, T, I) is missing".into()));
        }
        seen.push(id);
    }
}
