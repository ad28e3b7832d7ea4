//! 850 Purchase Order → `po.created` ([`PurchaseOrder`]).

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, LocationId, Money, NewEvent, PurchaseOrder, PurchaseOrderLine,
    Quantity, SupplierId,
};
use rust_decimal::Decimal;

use super::syntax::{Segment, shorten};
use super::values::{decimal, line_number, required_date, required_decimal, to_utc};
use super::{Input, codes, currency_of, dates, loops, take};
use crate::{Problem, to_code};

/// BEG01 purposes read as a new order: original, replace, confirmation, duplicate.
const ORDER_PURPOSES: &[&str] = &["00", "05", "06", "07"];

/// Reads one 850.
pub(crate) fn read(input: &Input<'_>) -> Result<NewEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let (header, lines, _summary) = loops(input.set.body, "PO1", &["CTT", "AMT"]);
    let Some(beg) = header.iter().find(|s| s.tag == "BEG") else {
        return Err(vec![input.set.st.whole("the 850 has no BEG segment (purchase order number and date)".into())]);
    };
    let purpose = beg.el(1);
    if !ORDER_PURPOSES.contains(&purpose) {
        problems.push(beg.problem(
            1,
            format!(
                "purpose {purpose:?} is not a new purchase order: Backroom reads 00 (original), 05 (replace), 06 (confirmation) and 07 (duplicate); cancellations and changes (01, 03, 04) have no canonical event"
            ),
        ));
    }
    let po_number = to_code(beg.el(3));
    if po_number.is_none() {
        problems.push(beg.problem(
            3,
            format!("BEG03 {:?} is not a usable purchase-order number: it needs a letter or digit", shorten(beg.el(3))),
        ));
    }
    let ordered_on = take(required_date(beg, 5, "BEG05 (order date)"), &mut problems);
    let currency = take(currency_of(input.set.body), &mut problems).unwrap_or_else(|| "USD".to_owned());
    let ship_to = codes::party(header, &["ST"]).or_else(|| codes::party(header, &["BY"]));
    if ship_to.is_none() {
        problems.push(
            input.set.st.whole(
                "the 850 names no ship-to location: expected N1*ST (or N1*BY) with an identification code in N103/N104"
                    .into(),
            ),
        );
    }
    let supplier = codes::party(header, &["SE", "VN", "SU"]).or_else(|| to_code(input.group.el(3)));
    // A header delivery date comes first; among line dates the earliest is the one expected.
    let mut line_dates = Vec::new();
    for l in &lines {
        line_dates.extend(dates(l, "002", &mut problems));
    }
    let expected_on = dates(header, "002", &mut problems).first().copied().or_else(|| line_dates.into_iter().min());
    let buyer = header.iter().find(|s| s.tag == "PER" && s.el(1) == "BD").map(|s| s.el(2).to_owned());
    let buyer = buyer.filter(|b| !b.is_empty());
    let mut order_lines = Vec::new();
    for (ordinal, segs) in lines.iter().enumerate() {
        let Some(po1) = segs.first() else { continue };
        if let Some(l) = line(po1, segs, ordinal, &currency, &mut problems) {
            order_lines.push(l);
        }
    }
    if lines.is_empty() {
        problems.push(input.set.st.whole("the 850 has no PO1 line".into()));
    }
    let (Some(po_number), Some(ordered_on), Some(ship_to), Some(supplier), true) =
        (po_number, ordered_on, ship_to, supplier, problems.is_empty())
    else {
        return Err(problems);
    };
    let tz = input.cx.time_zone(&ship_to);
    let order = PurchaseOrder {
        po_number: DocumentNumber(po_number),
        supplier: SupplierId(supplier),
        ship_to: LocationId(ship_to),
        ordered_on,
        expected_on,
        currency: Currency(currency),
        buyer,
        lines: order_lines,
    };
    Ok(NewEvent::new(
        input.event_id(),
        EventType::PoCreated,
        input.source(),
        to_utc(ordered_on, None, tz),
        EventPayload::PurchaseOrder(order),
    ))
}

/// One PO1 loop. The price is PO104 (per hundred or thousand when PO105 says HP or TP), else
/// the first CTP03 of the loop, else zero: the order leaves the price to the catalogue.
fn line(
    po1: &Segment,
    segs: &[Segment],
    ordinal: usize,
    currency: &str,
    problems: &mut Vec<Problem>,
) -> Option<PurchaseOrderLine> {
    let number = line_number(po1.el(1)).unwrap_or(u32::try_from(ordinal + 1).unwrap_or(u32::MAX));
    let quantity = take(required_decimal(po1, 2, "PO102 (quantity ordered)"), problems);
    let unit = take(codes::unit(po1, 3), problems);
    let price = take(decimal(po1, 4, "PO104 (unit price)"), problems).flatten().map(|p| match po1.el(5) {
        "HP" => p / Decimal::ONE_HUNDRED,
        "TP" => p / Decimal::ONE_THOUSAND,
        _ => p,
    });
    let price = price.or_else(|| {
        segs.iter()
            .filter(|s| s.tag == "CTP")
            .find_map(|ctp| take(decimal(ctp, 3, "CTP03 (unit price)"), problems).flatten())
    });
    let item = take(codes::item(po1, 6), problems);
    Some(PurchaseOrderLine {
        line: number,
        item: item?,
        quantity: Quantity { value: quantity?, unit: unit? },
        unit_price: Money { amount: price.unwrap_or(Decimal::ZERO), currency: Currency(currency.to_owned()) },
    })
}
