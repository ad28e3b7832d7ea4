//! EPCIS events → canonical events (the rules are listed in the module documentation).

use std::collections::BTreeMap;

use backroom_model::{
    AdjustmentLine, AdjustmentReason, CountLine, CountScope, DespatchAdvice, DespatchLine, DocumentNumber,
    EventPayload, EventRetraction, EventType, GoodsObservation, GoodsReceipt, Gtin, InventoryAdjustment,
    InventoryCount, ItemRef, LocationId, MovementLine, NewEvent, Quantity, ReceiptLine, StockMovement, SupplierId,
    UnitCode,
};
use chrono::Utc;
use rust_decimal::Decimal;

use super::event::{EpcisEvent, EventKind, QuantityElement, Typed};
use super::hash::hash_id;
use super::identifiers::{Identified, identify};
use super::vocabulary::Term;
use crate::to_code;

/// Trade items of an event, counted per GTIN and unit, and the identifiers that are not.
struct Goods {
    lines: Vec<(String, Quantity)>,
    other_ids: Vec<String>,
}

fn goods(epcs: &[String], quantities: &[QuantityElement]) -> Goods {
    let mut counted: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    let mut other_ids = Vec::new();
    let mut add = |gtin: String, unit: String, n: Decimal| {
        let key = (gtin, unit);
        if !counted.contains_key(&key) {
            order.push(key.clone());
        }
        *counted.entry(key).or_default() += n;
    };
    for epc in epcs {
        match identify(epc) {
            Identified::Instance { gtin } | Identified::Class { gtin } => add(gtin, "EA".to_owned(), Decimal::ONE),
            Identified::Other => other_ids.push(epc.clone()),
        }
    }
    for q in quantities {
        match (identify(&q.epc_class), q.quantity) {
            (Identified::Instance { gtin } | Identified::Class { gtin }, Some(n)) => {
                add(gtin, q.uom.clone().unwrap_or_else(|| "EA".to_owned()), n);
            }
            _ => other_ids.push(q.epc_class.clone()),
        }
    }
    let lines = order
        .into_iter()
        .filter_map(|key| {
            let value = counted.get(&key).copied()?;
            Some((key.0, Quantity { value: value.normalize(), unit: UnitCode(key.1) }))
        })
        .collect();
    Goods { lines, other_ids }
}

fn item(gtin: &str) -> ItemRef {
    ItemRef { gtin: Some(Gtin(gtin.to_owned())), sku: None }
}

fn number(raw: &str) -> Option<DocumentNumber> {
    to_code(raw).map(DocumentNumber)
}

fn location(raw: &str) -> Option<LocationId> {
    to_code(raw).map(LocationId)
}

/// The first business transaction of a CBV type.
fn transaction<'a>(e: &'a EpcisEvent, kind: &str) -> Option<&'a str> {
    e.biz_transactions.iter().find(|t| t.kind.as_ref().and_then(Term::word) == Some(kind)).map(|t| t.id.as_str())
}

fn typed_of<'a>(list: &'a [Typed], kind: &str) -> Option<&'a str> {
    list.iter().find(|t| t.kind.as_ref().and_then(Term::word) == Some(kind)).map(|t| t.id.as_str())
}

/// `<type>:<id>` for every business transaction.
fn documents(e: &EpcisEvent) -> Vec<String> {
    e.biz_transactions
        .iter()
        .map(|t| match &t.kind {
            Some(k) => format!("{}:{}", k.display(), t.id),
            None => t.id.clone(),
        })
        .collect()
}

/// The identifiers and goods an event is about, by event type.
fn event_goods(e: &EpcisEvent) -> Goods {
    match e.kind {
        EventKind::Object | EventKind::Transaction => goods(&e.epcs, &e.quantities),
        EventKind::Aggregation | EventKind::Association => goods(&e.child_epcs, &e.child_quantities),
        EventKind::Transformation => goods(&e.output_epcs, &e.output_quantities),
    }
}

/// Maps one EPCIS event to its canonical event.
pub(crate) fn map(e: &EpcisEvent, source: &str) -> NewEvent {
    let id = e.event_id.clone().unwrap_or_else(|| hash_id(e));
    let occurred_at = e.event_time.with_timezone(&Utc);
    if let Some(d) = &e.error_declaration {
        let payload = EventRetraction {
            retracted_event: id.clone(),
            declared_at: d.declared_at.with_timezone(&Utc),
            reason: d.reason.as_ref().map(|r| r.display().to_owned()),
            corrective_events: d.corrective.clone(),
        };
        return NewEvent::new(
            format!("{id}#retraction"),
            EventType::EventRetracted,
            source.to_owned(),
            d.declared_at.with_timezone(&Utc),
            EventPayload::EventRetraction(payload),
        );
    }
    let step = e.biz_step.as_ref().and_then(Term::word).unwrap_or("");
    let disposition = e.disposition.as_ref().and_then(Term::word).unwrap_or("");
    let stock_action = matches!(e.action.as_deref(), Some("ADD" | "OBSERVE")) || e.kind == EventKind::Transformation;
    let g = event_goods(e);
    let biz_location = e.biz_location.as_ref().and_then(|p| location(&p.id));
    let at = biz_location.clone().or_else(|| e.read_point.as_ref().and_then(|p| location(&p.id)));
    let doc_number = number(&id);
    let event = |t: EventType, p: EventPayload| NewEvent::new(id.clone(), t, source.to_owned(), occurred_at, p);
    let has_goods = !g.lines.is_empty();
    let supplier = typed_of(&e.sources, "owning_party").and_then(to_code).map(SupplierId);

    if has_goods
        && stock_action
        && let (Some(loc), Some(n)) = (at.clone(), doc_number.clone())
    {
        let adjust = |reason: AdjustmentReason, sign: Decimal| {
            let lines = g
                .lines
                .iter()
                .map(|(gtin, q)| AdjustmentLine {
                    item: item(gtin),
                    delta: Quantity { value: q.value * sign, unit: q.unit.clone() },
                    unit_cost: None,
                })
                .collect();
            let doc = InventoryAdjustment {
                adjustment_number: n.clone(),
                location: loc.clone(),
                reason,
                approved_by: None,
                lines,
            };
            event(EventType::InventoryAdjusted, EventPayload::InventoryAdjustment(doc))
        };
        if disposition == "returned" && step == "receiving" {
            return adjust(AdjustmentReason::Returned, Decimal::ONE);
        }
        if matches!(step, "receiving" | "arriving" | "accepting") {
            let reason = matches!(disposition, "mismatch_quantity" | "mismatch_class" | "mismatch_instance")
                .then(|| disposition.to_owned());
            let lines = g
                .lines
                .iter()
                .enumerate()
                .map(|(i, (gtin, q))| ReceiptLine {
                    line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    po_line: None,
                    item: item(gtin),
                    received: q.clone(),
                    short: None,
                    rejected: None,
                    reason: reason.clone(),
                })
                .collect();
            let doc = GoodsReceipt {
                receipt_number: transaction(e, "recadv").and_then(number).unwrap_or(n),
                location: loc,
                supplier,
                po_number: transaction(e, "po").and_then(number),
                despatch_advice: transaction(e, "desadv").and_then(number),
                lines,
            };
            return event(EventType::ReceiptPosted, EventPayload::GoodsReceipt(doc));
        }
        if matches!(step, "shipping" | "departing") {
            let ship_to = typed_of(&e.destinations, "location")
                .or_else(|| typed_of(&e.destinations, "owning_party"))
                .and_then(location);
            if let Some(ship_to) = ship_to {
                let lines = g
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(i, (gtin, q))| DespatchLine {
                        line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                        po_line: None,
                        item: item(gtin),
                        quantity: q.clone(),
                    })
                    .collect();
                let doc = DespatchAdvice {
                    despatch_number: transaction(e, "desadv").and_then(number).unwrap_or(n),
                    supplier,
                    ship_from: biz_location.clone().or_else(|| typed_of(&e.sources, "location").and_then(location)),
                    ship_to,
                    po_number: transaction(e, "po").and_then(number),
                    shipped_on: Some(occurred_at.date_naive()),
                    expected_on: None,
                    lines,
                };
                return event(EventType::DespatchAdvised, EventPayload::DespatchAdvice(doc));
            }
        } else if matches!(step, "cycle_counting" | "stock_taking") {
            let scope = if step == "stock_taking" { CountScope::Full } else { CountScope::Cycle };
            let mut lines: Vec<CountLine> = Vec::new();
            for (gtin, q) in &g.lines {
                match lines.iter_mut().find(|l| l.item.gtin.as_ref().is_some_and(|x| x.0 == *gtin)) {
                    Some(l) if l.counted.unit == q.unit => l.counted.value += q.value,
                    Some(_) => {}
                    None => lines.push(CountLine { item: item(gtin), counted: q.clone() }),
                }
            }
            let doc = InventoryCount { count_number: n, location: loc, scope, counted_by: None, lines };
            return event(EventType::InventoryCounted, EventPayload::InventoryCount(doc));
        } else if step == "retail_selling" || disposition == "retail_sold" {
            return adjust(AdjustmentReason::Sold, Decimal::NEGATIVE_ONE);
        } else if let Some(reason) = match disposition {
            "damaged" => Some(AdjustmentReason::Damaged),
            "stolen" => Some(AdjustmentReason::Theft),
            "destroyed" | "disposed" => Some(AdjustmentReason::WriteOff),
            "expired" => Some(AdjustmentReason::Expired),
            _ => None,
        } {
            return adjust(reason, Decimal::NEGATIVE_ONE);
        } else if disposition == "returned" {
            return adjust(AdjustmentReason::Returned, Decimal::ONE);
        } else if step == "stocking"
            && let Some(loc) = biz_location.clone()
        {
            let to_area = e
                .read_point
                .as_ref()
                .map(|p| p.id.clone())
                .filter(|r| Some(r.as_str()) != e.biz_location.as_ref().map(|b| b.id.as_str()));
            let lines = g
                .lines
                .iter()
                .filter(|(_, q)| q.value > Decimal::ZERO)
                .map(|(gtin, q)| MovementLine { item: item(gtin), quantity: q.clone() })
                .collect::<Vec<_>>();
            if !lines.is_empty() {
                let doc = StockMovement { movement_number: n, location: loc, from_area: None, to_area, lines };
                return event(EventType::InventoryMoved, EventPayload::StockMovement(doc));
            }
        }
    }
    let observation = GoodsObservation {
        location: biz_location,
        read_point: e.read_point.as_ref().map(|p| p.id.clone()),
        kind: e.kind.word().to_owned(),
        action: e.action.clone(),
        business_step: e.biz_step.as_ref().map(|t| t.display().to_owned()),
        disposition: e.disposition.as_ref().map(|t| t.display().to_owned()),
        parent: e.parent.clone(),
        items: g.lines.iter().map(|(gtin, q)| MovementLine { item: item(gtin), quantity: q.clone() }).collect(),
        other_ids: g.other_ids,
        documents: documents(e),
    };
    event(EventType::GoodsObserved, EventPayload::GoodsObservation(observation))
}
