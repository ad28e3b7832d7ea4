//! 846 Inventory Inquiry/Advice → `inventory.advised` ([`InventoryAdvice`]).

use backroom_model::{
    AdviceLine, DocumentNumber, EventPayload, EventType, InventoryAdvice, LocationId, NewEvent, Quantity, SupplierId,
};

use super::syntax::{Segment, shorten};
use super::values::{required_date, required_decimal, time, to_utc};
use super::{Input, codes, loops, take};
use crate::{Problem, to_code};

/// The quantity of the loop's first QTY with qualifier `qualifier` (QTY01), with its unit (QTY03).
fn quantity(segs: &[Segment], qualifier: &str, problems: &mut Vec<Problem>) -> Option<Quantity> {
    let qty = segs.iter().find(|s| s.tag == "QTY" && s.el(1) == qualifier)?;
    let value = take(required_decimal(qty, 2, "QTY02 (quantity)"), problems);
    let unit = take(codes::unit(qty, 3), problems);
    Some(Quantity { value: value?, unit: unit? })
}

/// Reads one 846.
pub(crate) fn read(input: &Input<'_>) -> Result<NewEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let (header, items, _summary) = loops(input.set.body, "LIN", &["CTT"]);
    let Some(bia) = header.iter().find(|s| s.tag == "BIA") else {
        return Err(vec![input.set.st.whole("the 846 has no BIA segment (report number and date)".into())]);
    };
    let number = to_code(bia.el(3));
    if number.is_none() {
        problems.push(bia.problem(3, format!("BIA03 {:?} is not a usable report number", shorten(bia.el(3)))));
    }
    let as_of = take(required_date(bia, 4, "BIA04 (report date)"), &mut problems);
    let at_time = take(time(bia, 5, "BIA05 (report time)"), &mut problems).flatten();
    let advised_by = codes::party(header, &["SU", "VN", "SE", "DS"]).or_else(|| input.sender());
    let location = codes::party(header, &["WH", "SF"]);
    let mut lines = Vec::new();
    for segs in &items {
        let Some(lin) = segs.first() else { continue };
        let item = take(codes::item(lin, 2), &mut problems);
        let available = quantity(segs, "33", &mut problems).or_else(|| quantity(segs, "17", &mut problems));
        if available.is_none() {
            problems.push(lin.whole("the item has no QTY*33 (available) or QTY*17 (on hand) quantity".into()));
        }
        let on_order = quantity(segs, "63", &mut problems);
        if let (Some(item), Some(available)) = (item, available) {
            lines.push(AdviceLine { item, available, on_order });
        }
    }
    if items.is_empty() {
        problems.push(input.set.st.whole("the 846 has no LIN item".into()));
    }
    let (Some(number), Some(as_of), Some(advised_by), true) = (number, as_of, advised_by, problems.is_empty()) else {
        return Err(problems);
    };
    let tz = location.as_deref().map_or(input.cx.default_time_zone, |l| input.cx.time_zone(l));
    let advice = InventoryAdvice {
        advice_number: DocumentNumber(number),
        advised_by: SupplierId(advised_by),
        location: location.map(LocationId),
        as_of,
        lines,
    };
    Ok(NewEvent::new(
        input.event_id(),
        EventType::InventoryAdvised,
        input.source(),
        to_utc(as_of, at_time, tz),
        EventPayload::InventoryAdvice(advice),
    ))
}
