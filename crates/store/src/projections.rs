//! Projections kept current in the ingest transaction: stock positions and daily sales.
//!
//! A group of events is first folded in memory into one change per projection row, in `seq`
//! order, then written with one multi-row upsert per projection. Adding a projection means
//! adding a fold here and its upsert in each backend.

use std::collections::BTreeMap;

use backroom_model::{EventPayload, EventType, ItemRef, LocationId, NewEvent, Quantity};

use crate::fixed::to_fixed;

/// The change a group of events makes to one stock position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StockChange {
    /// The unit of the latest event.
    pub unit: String,
    /// With a count in the group: the position after the last count and the events after it.
    /// Without: the net change to on-hand.
    pub on_hand: i64,
    /// The net change to stock in transit towards the location.
    pub in_transit: i64,
    /// The seq of the last count in the group.
    pub counted_seq: Option<i64>,
    /// When that count happened (microseconds).
    pub counted_at: Option<i64>,
    /// The seq of the last event that touched the position.
    pub last_seq: i64,
}

/// The change a group of events makes to one day of one item's sales at one location.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SalesChange {
    pub sold: i64,
    pub returned: i64,
    pub revenue: i64,
    pub refunded: i64,
    pub transactions: i64,
    pub last_seq: i64,
}

/// Key of a stock position: (location, item key).
pub(crate) type StockKey = (String, String);
/// Key of a daily-sales row: (location, item key, business day, currency).
pub(crate) type SalesKey = (String, String, String, String);

/// Every projection change of a group of events.
#[derive(Debug, Default)]
pub(crate) struct ProjectionChanges {
    pub stock: BTreeMap<StockKey, StockChange>,
    pub sales: BTreeMap<SalesKey, SalesChange>,
}

impl ProjectionChanges {
    /// Folds one event, recorded with `seq`, into the changes. Events must come in seq order.
    pub fn apply(&mut self, seq: i64, event: &NewEvent) {
        let micros = event.occurred_at.timestamp_micros();
        match (&event.payload, event.event_type) {
            (EventPayload::SalesTransaction(t), kind @ (EventType::PosSale | EventType::PosReturn)) => {
                let sale = kind == EventType::PosSale;
                let day = t.business_day.to_string();
                let mut counted = std::collections::BTreeSet::new();
                for l in &t.lines {
                    let q = to_fixed(l.quantity.value);
                    self.move_stock(&t.location, &l.item, &l.quantity, if sale { -q } else { q }, seq);
                    let key = (t.location.0.clone(), l.item.key().0, day.clone(), t.currency.0.clone());
                    let row = self.sales.entry(key).or_default();
                    let amount = to_fixed(l.net_amount.amount);
                    if sale {
                        row.sold += q;
                        row.revenue += amount;
                        if counted.insert(l.item.key()) {
                            row.transactions += 1;
                        }
                    } else {
                        row.returned += q;
                        row.refunded += amount;
                    }
                    row.last_seq = seq;
                }
            }
            (EventPayload::InventoryCount(c), _) => {
                for l in &c.lines {
                    let row = self.stock_row(&c.location, &l.item, &l.counted, seq);
                    row.on_hand = to_fixed(l.counted.value);
                    row.counted_seq = Some(seq);
                    row.counted_at = Some(micros);
                }
            }
            (EventPayload::InventoryAdjustment(a), _) => {
                for l in &a.lines {
                    self.move_stock(&a.location, &l.item, &l.delta, to_fixed(l.delta.value), seq);
                }
            }
            (EventPayload::GoodsReceipt(r), _) => {
                for l in &r.lines {
                    self.move_stock(&r.location, &l.item, &l.received, to_fixed(l.received.value), seq);
                }
            }
            (EventPayload::Transfer(t), EventType::TransferShipped) => {
                for l in &t.lines {
                    let q = to_fixed(l.quantity.value);
                    self.move_stock(&t.from, &l.item, &l.quantity, -q, seq);
                    self.stock_row(&t.to, &l.item, &l.quantity, seq).in_transit += q;
                }
            }
            (EventPayload::Transfer(t), EventType::TransferReceived) => {
                for l in &t.lines {
                    let q = to_fixed(l.quantity.value);
                    let row = self.stock_row(&t.to, &l.item, &l.quantity, seq);
                    row.on_hand += q;
                    row.in_transit -= q;
                }
            }
            _ => {}
        }
    }

    fn stock_row(&mut self, location: &LocationId, item: &ItemRef, q: &Quantity, seq: i64) -> &mut StockChange {
        let row = self.stock.entry((location.0.clone(), item.key().0)).or_default();
        row.unit.clone_from(&q.unit.0);
        row.last_seq = seq;
        row
    }

    fn move_stock(&mut self, location: &LocationId, item: &ItemRef, q: &Quantity, delta: i64, seq: i64) {
        self.stock_row(location, item, q, seq).on_hand += delta;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backroom_model::validate_event;
    use serde_json::json;

    fn ev(t: &str, data: serde_json::Value) -> NewEvent {
        validate_event(
            &json!({"id": "x", "type": t, "source": "s", "occurred_at": "2026-11-23T10:00:00Z", "data": data}),
        )
        .expect("valid")
    }

    fn qty(v: &str) -> serde_json::Value {
        json!({"value": v})
    }

    #[test]
    fn a_count_resets_what_came_before_it_in_the_group() {
        let mut p = ProjectionChanges::default();
        let adj = |d: &str| {
            ev(
                "inventory.adjusted",
                json!({"adjustment_number": "A", "location": "S1", "reason": "damaged",
                "lines": [{"item": {"sku": "X"}, "delta": qty(d)}]}),
            )
        };
        p.apply(1, &adj("-2"));
        p.apply(
            2,
            &ev(
                "inventory.counted",
                json!({"count_number": "C", "location": "S1", "scope": "cycle",
                "lines": [{"item": {"sku": "X"}, "counted": qty("10")}]}),
            ),
        );
        p.apply(3, &adj("-1"));
        let row = &p.stock[&("S1".to_owned(), "X".to_owned())];
        assert_eq!((row.on_hand, row.counted_seq, row.last_seq), (90_000, Some(2), 3));
    }

    #[test]
    fn transfers_move_stock_through_transit() {
        let t = |n: &str| {
            json!({"transfer_number": "T", "from": "DC1", "to": "S1",
            "lines": [{"line": 1, "item": {"sku": "X"}, "quantity": qty(n)}]})
        };
        let mut p = ProjectionChanges::default();
        p.apply(1, &ev("transfer.shipped", t("5")));
        p.apply(2, &ev("transfer.received", t("4")));
        assert_eq!(p.stock[&("DC1".to_owned(), "X".to_owned())].on_hand, -50_000);
        let s1 = &p.stock[&("S1".to_owned(), "X".to_owned())];
        assert_eq!((s1.on_hand, s1.in_transit), (40_000, 10_000));
    }
}
