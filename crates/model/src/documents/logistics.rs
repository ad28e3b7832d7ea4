//! Supply-chain documents that partners send about goods on their way: despatch advices (ASNs),
//! purchase-order responses, inventory advices, stock movements inside a location, till control
//! records, and retractions of earlier events.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::opt_text;
use crate::ids::{DocumentNumber, ItemRef, LocationId, SupplierId};
use crate::money::{Money, Quantity};
use crate::validate::{Checker, Path};

/// A despatch advice (advance shipping notice): goods a supplier or distribution centre has sent
/// or is about to send, carried by `despatch.advised`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DespatchAdvice {
    /// The despatch advice number (the ASN or shipment id).
    pub despatch_number: DocumentNumber,
    /// The supplier that sent the goods, when a supplier sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<SupplierId>,
    /// The location the goods left, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_from: Option<LocationId>,
    /// The location the goods are going to.
    pub ship_to: LocationId,
    /// The purchase order the goods were ordered on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<DocumentNumber>,
    /// The day the goods were shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_on: Option<NaiveDate>,
    /// The day the goods are expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_on: Option<NaiveDate>,
    /// The lines shipped.
    pub lines: Vec<DespatchLine>,
}

/// One line of a despatch advice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DespatchLine {
    /// The line number, unique within the advice.
    pub line: u32,
    /// The purchase-order line this line delivers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line: Option<u32>,
    /// The item.
    pub item: ItemRef,
    /// The quantity shipped.
    pub quantity: Quantity,
}

impl DespatchAdvice {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.despatch_number.check(c, &p.field("despatch_number"));
        if let Some(s) = &self.supplier {
            s.check(c, &p.field("supplier"));
        }
        if let Some(l) = &self.ship_from {
            l.check(c, &p.field("ship_from"));
        }
        self.ship_to.check(c, &p.field("ship_to"));
        if let Some(n) = &self.po_number {
            n.check(c, &p.field("po_number"));
        }
        if let (Some(shipped), Some(expected)) = (self.shipped_on, self.expected_on)
            && expected < shipped
        {
            c.error(&p.field("expected_on"), format!("arrival day {expected} is before the shipping day {shipped}"));
        }
        c.non_empty(&p.field("lines"), &self.lines, "a despatch advice");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_non_negative(c, &lp.field("quantity"));
        }
    }
}

/// What a supplier answered to a purchase order, as a whole or per line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Accepted as ordered.
    Accepted,
    /// Accepted with changes (quantity, price or date).
    Changed,
    /// Rejected.
    Rejected,
}

/// A supplier's response to a purchase order (X12 855, UBL OrderResponse, EDIFACT ORDRSP),
/// carried by `po.acknowledged`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderResponse {
    /// The purchase order answered.
    pub po_number: DocumentNumber,
    /// The supplier answering, when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<SupplierId>,
    /// The day of the response.
    pub responded_on: NaiveDate,
    /// The answer for the order as a whole.
    pub status: ResponseStatus,
    /// The answers per line; empty when the order is answered as a whole.
    #[serde(default)]
    pub lines: Vec<ResponseLine>,
    /// The supplier's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The answer to one purchase-order line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseLine {
    /// The purchase-order line answered.
    pub po_line: u32,
    /// The item.
    pub item: ItemRef,
    /// The answer for this line.
    pub status: ResponseStatus,
    /// The quantity the supplier will deliver.
    pub quantity: Quantity,
    /// The price the supplier will charge, when it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
    /// The day the supplier will deliver, when it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_on: Option<NaiveDate>,
}

impl PurchaseOrderResponse {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.po_number.check(c, &p.field("po_number"));
        if let Some(s) = &self.supplier {
            s.check(c, &p.field("supplier"));
        }
        opt_text(c, &p.field("note"), &self.note);
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.po_line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_non_negative(c, &lp.field("quantity"));
            if let Some(m) = &l.unit_price {
                m.check(c, &lp.field("unit_price"));
            }
        }
    }
}

/// Stock a partner reports it holds (X12 846 inventory inquiry/advice, EDIFACT INVRPT),
/// carried by `inventory.advised`. Unlike a count, it does not replace Backroom's own stock
/// figures: it tells what a supplier or outside warehouse can deliver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryAdvice {
    /// The advice's reference number.
    pub advice_number: DocumentNumber,
    /// The party reporting the stock.
    pub advised_by: SupplierId,
    /// The location the stock is at, when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationId>,
    /// The day the figures are valid for.
    pub as_of: NaiveDate,
    /// The stock per item.
    pub lines: Vec<AdviceLine>,
}

/// The stock of one item in an inventory advice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdviceLine {
    /// The item.
    pub item: ItemRef,
    /// The quantity available to order.
    pub available: Quantity,
    /// The quantity on order with the reporting party's own suppliers, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_order: Option<Quantity>,
}

impl InventoryAdvice {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.advice_number.check(c, &p.field("advice_number"));
        self.advised_by.check(c, &p.field("advised_by"));
        if let Some(l) = &self.location {
            l.check(c, &p.field("location"));
        }
        c.non_empty(&p.field("lines"), &self.lines, "an inventory advice");
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.available.check_non_negative(c, &lp.field("available"));
            if let Some(q) = &l.on_order {
                q.check_non_negative(c, &lp.field("on_order"));
            }
        }
    }
}

/// Stock moved between areas of one location (back room to shelf, shelf to returns cage),
/// carried by `inventory.moved`. Stock on hand at the location does not change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StockMovement {
    /// The movement's reference.
    pub movement_number: DocumentNumber,
    /// The location.
    pub location: LocationId,
    /// The area the goods left, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_area: Option<String>,
    /// The area the goods went to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_area: Option<String>,
    /// The goods moved.
    pub lines: Vec<MovementLine>,
}

/// One item moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementLine {
    /// The item.
    pub item: ItemRef,
    /// The quantity moved.
    pub quantity: Quantity,
}

impl StockMovement {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.movement_number.check(c, &p.field("movement_number"));
        self.location.check(c, &p.field("location"));
        opt_text(c, &p.field("from_area"), &self.from_area);
        opt_text(c, &p.field("to_area"), &self.to_area);
        c.non_empty(&p.field("lines"), &self.lines, "a stock movement");
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_positive(c, &lp.field("quantity"));
        }
    }
}

/// A till control transaction (till opened or closed, cash pickup, float, no sale, cancelled
/// receipt), carried by `pos.control`. Kept for till reconciliation; never counted as demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TillControl {
    /// The transaction id (store, workstation, business day and sequence number).
    pub transaction_id: DocumentNumber,
    /// The store.
    pub location: LocationId,
    /// The till.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workstation: Option<String>,
    /// The business day.
    pub business_day: NaiveDate,
    /// What happened, in the till's own words (`sign_on`, `till_close`, `cancelled`, …).
    pub kind: String,
    /// The operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cashier: Option<String>,
    /// The amount concerned (cash counted, pickup, float), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

impl TillControl {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.transaction_id.check(c, &p.field("transaction_id"));
        self.location.check(c, &p.field("location"));
        opt_text(c, &p.field("workstation"), &self.workstation);
        c.text(&p.field("kind"), &self.kind, 200);
        opt_text(c, &p.field("cashier"), &self.cashier);
        if let Some(m) = &self.amount {
            m.check(c, &p.field("amount"));
        }
    }
}

/// Goods seen by a tracking system (an EPCIS event whose business step has no more specific
/// canonical event: commissioning, packing, loading, inspecting, an extension step…), carried by
/// `goods.observed`. It records where goods were seen and in which state; it changes no stock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GoodsObservation {
    /// Where the goods were seen (the business location), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationId>,
    /// The reader or place within the location (the read point), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_point: Option<String>,
    /// What the event kind was (`object`, `aggregation`, `transaction`, `transformation`, `association`).
    pub kind: String,
    /// What was done (`ADD`, `OBSERVE`, `DELETE`), when the event kind has an action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The business step: a CBV bare word (`packing`) or an extension's full URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_step: Option<String>,
    /// The disposition: a CBV bare word (`in_transit`) or an extension's full URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// The container or parent identifier (an SSCC), for aggregations and associations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Trade items seen, with quantities (instance identifiers counted per item).
    #[serde(default)]
    pub items: Vec<MovementLine>,
    /// Instance identifiers seen that are not trade items (SSCCs, GRAIs, other EPCs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ids: Vec<String>,
    /// Business documents the event names (`po:4500012345`, `desadv:…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
}

impl GoodsObservation {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        if let Some(l) = &self.location {
            l.check(c, &p.field("location"));
        }
        for (name, v) in [
            ("read_point", &self.read_point),
            ("action", &self.action),
            ("business_step", &self.business_step),
            ("disposition", &self.disposition),
            ("parent", &self.parent),
        ] {
            opt_text(c, &p.field(name), v);
        }
        c.text(&p.field("kind"), &self.kind, 200);
        for (i, l) in self.items.iter().enumerate() {
            let lp_list = p.field("items");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_non_negative(c, &lp.field("quantity"));
        }
    }
}

/// A source's declaration that one of its earlier events was wrong (EPCIS `errorDeclaration`),
/// carried by `event.retracted`. The retracted event stays in the log; readers that honour
/// retractions skip it and use the corrective events instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetraction {
    /// The source's id of the retracted event.
    pub retracted_event: String,
    /// When the error was declared.
    pub declared_at: DateTime<Utc>,
    /// Why (a CBV error reason such as `incorrect_data`, or a full URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The source's ids of the events that replace it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrective_events: Vec<String>,
}

impl EventRetraction {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        c.text(&p.field("retracted_event"), &self.retracted_event, 500);
        opt_text(c, &p.field("reason"), &self.reason);
        for (i, e) in self.corrective_events.iter().enumerate() {
            c.text(&p.field("corrective_events").index(i), e, 500);
        }
    }
}
