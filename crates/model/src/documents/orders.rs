//! Customer (ecommerce) orders and their fulfilment exceptions.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{opt_text, same_currency};
use crate::ids::{CustomerId, DocumentNumber, ItemRef, LocationId};
use crate::money::{Currency, Money, Quantity};
use crate::validate::{Checker, Path, check_time};

/// How a customer order reaches the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentMethod {
    /// Picked in a store and collected there by the customer.
    ClickAndCollect,
    /// Picked in a store and shipped to the customer.
    ShipFromStore,
    /// Shipped from a distribution centre.
    ShipFromDc,
    /// Delivered by the retailer's own vans.
    HomeDelivery,
}

/// An order placed by a customer on an ecommerce channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerOrder {
    /// The order number.
    pub order_number: DocumentNumber,
    /// The customer.
    pub customer: CustomerId,
    /// How it is fulfilled.
    pub fulfilment: FulfilmentMethod,
    /// The store or distribution centre that fulfils it.
    pub fulfilment_location: LocationId,
    /// When the customer was promised the goods (pick-up or delivery).
    pub promised_at: DateTime<Utc>,
    /// The currency of every amount.
    pub currency: Currency,
    /// The ordered lines.
    pub lines: Vec<OrderLine>,
    /// The order total, tax included.
    pub total: Money,
}

/// One line of a customer order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    /// The line number, unique within the order.
    pub line: u32,
    /// The item.
    pub item: ItemRef,
    /// The ordered quantity.
    pub quantity: Quantity,
    /// The price per unit.
    pub unit_price: Money,
}

impl CustomerOrder {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.order_number.check(c, &p.field("order_number"));
        self.customer.check(c, &p.field("customer"));
        self.fulfilment_location.check(c, &p.field("fulfilment_location"));
        check_time(c, &p.field("promised_at"), &self.promised_at);
        self.currency.check(c, &p.field("currency"));
        c.non_empty(&p.field("lines"), &self.lines, "a customer order");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_positive(c, &lp.field("quantity"));
            same_currency(c, &lp.field("unit_price"), &l.unit_price, &self.currency);
        }
        same_currency(c, &p.field("total"), &self.total, &self.currency);
    }
}

/// What went wrong with a customer order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderExceptionKind {
    /// The order will miss its promised time.
    Late,
    /// Fulfilment failed outright.
    Failed,
    /// Pickers could not find all the goods.
    ShortPick,
    /// Goods were found damaged at picking or packing.
    Damaged,
    /// The carrier could not deliver.
    DeliveryFailed,
}

/// A fulfilment problem on a customer order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderException {
    /// The order.
    pub order_number: DocumentNumber,
    /// The location that was fulfilling it.
    pub fulfilment_location: LocationId,
    /// What went wrong.
    pub kind: OrderExceptionKind,
    /// The time promised to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_at: Option<DateTime<Utc>>,
    /// The lines affected (all lines when empty).
    #[serde(default)]
    pub lines: Vec<OrderExceptionLine>,
    /// A note from the fulfilment team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One affected line of an order exception.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderExceptionLine {
    /// The order line number.
    pub line: u32,
    /// The item.
    pub item: ItemRef,
    /// The quantity that cannot be fulfilled.
    pub quantity: Quantity,
}

impl OrderException {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.order_number.check(c, &p.field("order_number"));
        self.fulfilment_location.check(c, &p.field("fulfilment_location"));
        if let Some(t) = &self.promised_at {
            check_time(c, &p.field("promised_at"), t);
        }
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_positive(c, &lp.field("quantity"));
        }
        opt_text(c, &p.field("note"), &self.note);
    }
}
