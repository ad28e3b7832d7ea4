//! The catalogue of event types, each with its typed payload and JSON Schema.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::documents::*;
use crate::event::Subject;
use crate::validate::{Checker, Path};

macro_rules! catalogue {
    ($( $variant:ident => $name:literal, $payload:ident, $doc:literal; )*) => {
        /// A type of event Backroom understands.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum EventType {
            $(
                #[doc = $doc]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl EventType {
            /// Every event type, in catalogue order.
            pub const ALL: [EventType; [$($name),*].len()] = [$(EventType::$variant),*];

            /// The dotted name, such as `pos.sale`.
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $name,)* }
            }

            /// The event type with this dotted name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(EventType::$variant),)* _ => None }
            }

            /// What an event of this type means.
            pub fn description(self) -> &'static str {
                match self { $(EventType::$variant => $doc,)* }
            }

            fn payload_schema(self) -> Value {
                let schema = match self { $(EventType::$variant => schemars::schema_for!($payload),)* };
                let mut value = schema.to_value();
                if let Value::Object(map) = &mut value {
                    map.insert("title".into(), Value::String(format!("{} event data", $crate::catalogue::EventType::as_str(self))));
                    map.insert("description".into(), Value::String(self.description().to_owned()));
                }
                value
            }
        }

        impl EventPayload {
            /// Parses the payload of an event of type `t` from JSON that passed the schema.
            pub fn from_json(t: EventType, data: &Value) -> Result<Self, serde_json::Error> {
                Ok(match t { $(EventType::$variant => EventPayload::$payload($payload::deserialize(data)?),)* })
            }

            /// Where and why `data` cannot be read as the payload of `t` (path relative to the
            /// payload, message), tracked on the slow path only.
            pub(crate) fn locate_error(t: EventType, data: &Value) -> Option<(String, String)> {
                let err = match t {
                    $(EventType::$variant => serde_path_to_error::deserialize::<_, $payload>(data).err(),)*
                }?;
                Some((err.path().to_string(), err.inner().to_string()))
            }
        }
    };
}

catalogue! {
    PosSale => "pos.sale", SalesTransaction, "A till sold goods to a customer.";
    PosReturn => "pos.return", SalesTransaction, "A till took goods back from a customer and refunded them.";
    InventoryCounted => "inventory.counted", InventoryCount, "Stock was counted at a location; counted quantities replace stock on hand.";
    InventoryAdjusted => "inventory.adjusted", InventoryAdjustment, "Stock on hand was adjusted (damage, shrink, found goods, corrections).";
    InventoryStockoutReported => "inventory.stockout_reported", StockoutReport, "An item was reported missing from the shelf.";
    PoCreated => "po.created", PurchaseOrder, "A purchase order was raised with a supplier.";
    PoApproved => "po.approved", PurchaseOrderApproval, "A purchase order was approved at one level of its chain.";
    ReceiptPosted => "receipt.posted", GoodsReceipt, "Goods were received into stock at a store or distribution centre.";
    InvoiceReceived => "invoice.received", SupplierInvoice, "A supplier invoice or credit note arrived.";
    ReturnRequested => "return.requested", ReturnRequest, "A customer asked to return goods from an earlier sale.";
    TransferRequested => "transfer.requested", Transfer, "A stock transfer between two locations was requested.";
    TransferShipped => "transfer.shipped", Transfer, "Transferred goods left the origin and are in transit.";
    TransferReceived => "transfer.received", Transfer, "Transferred goods arrived at the destination.";
    OrderPlaced => "order.placed", CustomerOrder, "A customer placed an ecommerce order.";
    OrderException => "order.exception", OrderException, "Fulfilment of a customer order is late or failed.";
    PromotionScheduled => "promotion.scheduled", Promotion, "Merchandising scheduled a promotion.";
    DespatchAdvised => "despatch.advised", DespatchAdvice, "A supplier or distribution centre announced goods it shipped (an ASN).";
    PoAcknowledged => "po.acknowledged", PurchaseOrderResponse, "A supplier accepted, changed or rejected a purchase order.";
    InventoryAdvised => "inventory.advised", InventoryAdvice, "A supplier or outside warehouse reported the stock it holds.";
    InventoryMoved => "inventory.moved", StockMovement, "Stock moved between areas of one location (back room to shelf).";
    PosControl => "pos.control", TillControl, "A till recorded a control transaction (open, close, pickup, cancelled receipt); not demand.";
    EventRetracted => "event.retracted", EventRetraction, "A source declared one of its earlier events wrong.";
    GoodsObserved => "goods.observed", GoodsObservation, "A tracking system saw goods at a place and in a state; no stock changes.";
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed payload of an event: one retail document.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum EventPayload {
    SalesTransaction(SalesTransaction),
    InventoryCount(InventoryCount),
    InventoryAdjustment(InventoryAdjustment),
    StockoutReport(StockoutReport),
    PurchaseOrder(PurchaseOrder),
    PurchaseOrderApproval(PurchaseOrderApproval),
    GoodsReceipt(GoodsReceipt),
    SupplierInvoice(SupplierInvoice),
    ReturnRequest(ReturnRequest),
    Transfer(Transfer),
    CustomerOrder(CustomerOrder),
    OrderException(OrderException),
    Promotion(Promotion),
    DespatchAdvice(DespatchAdvice),
    PurchaseOrderResponse(PurchaseOrderResponse),
    InventoryAdvice(InventoryAdvice),
    StockMovement(StockMovement),
    TillControl(TillControl),
    EventRetraction(EventRetraction),
    GoodsObservation(GoodsObservation),
}

impl EventPayload {
    /// The payload as JSON.
    pub fn to_json(&self) -> Value {
        // Serialising these plain data types cannot fail: no maps with non-string keys.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The payload as JSON text, written directly without an intermediate value.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        use EventPayload::*;
        match self {
            SalesTransaction(d) => d.check(c, p),
            InventoryCount(d) => d.check(c, p),
            InventoryAdjustment(d) => d.check(c, p),
            StockoutReport(d) => d.check(c, p),
            PurchaseOrder(d) => d.check(c, p),
            PurchaseOrderApproval(d) => d.check(c, p),
            GoodsReceipt(d) => d.check(c, p),
            SupplierInvoice(d) => d.check(c, p),
            ReturnRequest(d) => d.check(c, p),
            Transfer(d) => d.check(c, p),
            CustomerOrder(d) => d.check(c, p),
            OrderException(d) => d.check(c, p),
            Promotion(d) => d.check(c, p),
            DespatchAdvice(d) => d.check(c, p),
            PurchaseOrderResponse(d) => d.check(c, p),
            InventoryAdvice(d) => d.check(c, p),
            StockMovement(d) => d.check(c, p),
            TillControl(d) => d.check(c, p),
            EventRetraction(d) => d.check(c, p),
            GoodsObservation(d) => d.check(c, p),
        }
    }

    /// The locations, items and documents the payload names.
    pub fn subject(&self) -> Subject {
        use EventPayload::*;
        let mut s = Subject::default();
        match self {
            SalesTransaction(d) => {
                s.location(&d.location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.transaction_id.as_str());
                if let Some(o) = &d.original {
                    s.document(o.transaction_id.as_str());
                }
            }
            InventoryCount(d) => {
                s.location(&d.location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.count_number.as_str());
            }
            InventoryAdjustment(d) => {
                s.location(&d.location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.adjustment_number.as_str());
            }
            StockoutReport(d) => {
                s.location(&d.location);
                s.item(d.item.key());
            }
            PurchaseOrder(d) => {
                s.location(&d.ship_to);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.po_number.as_str());
            }
            PurchaseOrderApproval(d) => s.document(d.po_number.as_str()),
            GoodsReceipt(d) => {
                s.location(&d.location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.receipt_number.as_str());
                for n in [&d.po_number, &d.despatch_advice].into_iter().flatten() {
                    s.document(n.as_str());
                }
            }
            SupplierInvoice(d) => {
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.invoice_number.as_str());
                for n in
                    [&d.po_number, &d.despatch_advice, &d.receipt_number, &d.credited_invoice].into_iter().flatten()
                {
                    s.document(n.as_str());
                }
            }
            ReturnRequest(d) => {
                s.location(&d.location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.return_number.as_str());
                s.document(d.original_sale.transaction_id.as_str());
            }
            Transfer(d) => {
                s.location(&d.from);
                s.location(&d.to);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.transfer_number.as_str());
            }
            CustomerOrder(d) => {
                s.location(&d.fulfilment_location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.order_number.as_str());
            }
            OrderException(d) => {
                s.location(&d.fulfilment_location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.order_number.as_str());
            }
            Promotion(d) => {
                d.locations.iter().for_each(|l| s.location(l));
                d.items.iter().for_each(|i| s.item(i.item.key()));
                s.document(d.promotion_id.as_str());
            }
            DespatchAdvice(d) => {
                if let Some(l) = &d.ship_from {
                    s.location(l);
                }
                s.location(&d.ship_to);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.despatch_number.as_str());
                if let Some(n) = &d.po_number {
                    s.document(n.as_str());
                }
            }
            PurchaseOrderResponse(d) => {
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.po_number.as_str());
            }
            InventoryAdvice(d) => {
                if let Some(l) = &d.location {
                    s.location(l);
                }
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.advice_number.as_str());
            }
            StockMovement(d) => {
                s.location(&d.location);
                d.lines.iter().for_each(|l| s.item(l.item.key()));
                s.document(d.movement_number.as_str());
            }
            TillControl(d) => {
                s.location(&d.location);
                s.document(d.transaction_id.as_str());
            }
            EventRetraction(_) => {}
            GoodsObservation(d) => {
                if let Some(l) = &d.location {
                    s.location(l);
                }
                d.items.iter().for_each(|l| s.item(l.item.key()));
                d.documents.iter().for_each(|n| s.document(n));
            }
        }
        s
    }
}

impl Serialize for EventPayload {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use EventPayload::*;
        match self {
            SalesTransaction(d) => d.serialize(serializer),
            InventoryCount(d) => d.serialize(serializer),
            InventoryAdjustment(d) => d.serialize(serializer),
            StockoutReport(d) => d.serialize(serializer),
            PurchaseOrder(d) => d.serialize(serializer),
            PurchaseOrderApproval(d) => d.serialize(serializer),
            GoodsReceipt(d) => d.serialize(serializer),
            SupplierInvoice(d) => d.serialize(serializer),
            ReturnRequest(d) => d.serialize(serializer),
            Transfer(d) => d.serialize(serializer),
            CustomerOrder(d) => d.serialize(serializer),
            OrderException(d) => d.serialize(serializer),
            Promotion(d) => d.serialize(serializer),
            DespatchAdvice(d) => d.serialize(serializer),
            PurchaseOrderResponse(d) => d.serialize(serializer),
            InventoryAdvice(d) => d.serialize(serializer),
            StockMovement(d) => d.serialize(serializer),
            TillControl(d) => d.serialize(serializer),
            EventRetraction(d) => d.serialize(serializer),
            GoodsObservation(d) => d.serialize(serializer),
        }
    }
}

static SCHEMAS: LazyLock<HashMap<EventType, Value>> =
    LazyLock::new(|| EventType::ALL.into_iter().map(|t| (t, t.payload_schema())).collect());

static VALIDATORS: LazyLock<HashMap<EventType, jsonschema::Validator>> = LazyLock::new(|| {
    SCHEMAS
        .iter()
        .map(|(t, schema)| {
            let validator = jsonschema::validator_for(schema)
                .unwrap_or_else(|e| panic!("the generated schema of {t} does not compile: {e}"));
            (*t, validator)
        })
        .collect()
});

/// The JSON Schema (draft 2020-12) of the `data` of an event type.
pub fn event_schema(t: EventType) -> &'static Value {
    &SCHEMAS[&t]
}

pub(crate) fn validator(t: EventType) -> &'static jsonschema::Validator {
    &VALIDATORS[&t]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_its_name_and_has_a_schema() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            let schema = event_schema(t);
            assert_eq!(schema["type"], "object", "{t}");
            let _ = validator(t);
        }
        assert_eq!(EventType::ALL.len(), 23);
    }
}
