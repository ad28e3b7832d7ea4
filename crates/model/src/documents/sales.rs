//! Store documents: till transactions and customer return requests.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{opt_text, same_currency};
use crate::ids::{CustomerId, DocumentNumber, ItemRef, LocationId};
use crate::money::{Currency, Money, Quantity};
use crate::validate::{Checker, Path};

/// A till transaction: a sale (`pos.sale`) or a refund of goods (`pos.return`).
///
/// Quantities are positive in both cases; the event type says which way the goods went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesTransaction {
    /// The transaction number as printed on the receipt.
    pub transaction_id: DocumentNumber,
    /// The store.
    pub location: LocationId,
    /// The till or workstation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workstation: Option<String>,
    /// The store's business day the transaction belongs to.
    pub business_day: NaiveDate,
    /// The operator at the till.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cashier: Option<String>,
    /// The customer, when known (loyalty card, account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerId>,
    /// The currency of every amount.
    pub currency: Currency,
    /// For a return: the sale it refunds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<SaleRef>,
    /// The item lines.
    pub lines: Vec<SaleLine>,
    /// How the customer paid (or was refunded).
    #[serde(default)]
    pub tenders: Vec<Tender>,
    /// The transaction total, tax included.
    pub total: Money,
}

/// One item line of a till transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleLine {
    /// The line number, unique within the transaction.
    pub line: u32,
    /// The item.
    pub item: ItemRef,
    /// The quantity sold or returned.
    pub quantity: Quantity,
    /// The shelf price per unit.
    pub unit_price: Money,
    /// The discount given on the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    /// The tax on the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    /// The amount charged (or refunded) for the line after discount.
    pub net_amount: Money,
    /// The promotion that priced the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<DocumentNumber>,
}

/// How a transaction was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenderMethod {
    /// Notes and coins.
    Cash,
    /// Debit or credit card.
    Card,
    /// A gift card.
    GiftCard,
    /// A paper or digital voucher.
    Voucher,
    /// Store credit on the customer's account.
    StoreCredit,
    /// A mobile wallet.
    Mobile,
    /// Any other tender.
    Other,
}

/// One tender of a till transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tender {
    /// The tender method.
    pub method: TenderMethod,
    /// The amount tendered.
    pub amount: Money,
    /// The card or voucher reference (never a full card number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A reference to an earlier till transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleRef {
    /// The original transaction number.
    pub transaction_id: DocumentNumber,
    /// The store of the original sale.
    pub location: LocationId,
    /// The business day of the original sale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_day: Option<NaiveDate>,
}

impl SaleRef {
    fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.transaction_id.check(c, &p.field("transaction_id"));
        self.location.check(c, &p.field("location"));
    }
}

impl SalesTransaction {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.transaction_id.check(c, &p.field("transaction_id"));
        self.location.check(c, &p.field("location"));
        opt_text(c, &p.field("workstation"), &self.workstation);
        opt_text(c, &p.field("cashier"), &self.cashier);
        if let Some(cust) = &self.customer {
            cust.check(c, &p.field("customer"));
        }
        self.currency.check(c, &p.field("currency"));
        if let Some(o) = &self.original {
            o.check(c, &p.field("original"));
        }
        c.non_empty(&p.field("lines"), &self.lines, "a till transaction");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_positive(c, &lp.field("quantity"));
            same_currency(c, &lp.field("unit_price"), &l.unit_price, &self.currency);
            same_currency(c, &lp.field("net_amount"), &l.net_amount, &self.currency);
            if let Some(m) = &l.discount {
                same_currency(c, &lp.field("discount"), m, &self.currency);
            }
            if let Some(m) = &l.tax {
                same_currency(c, &lp.field("tax"), m, &self.currency);
            }
            if let Some(promo) = &l.promotion {
                promo.check(c, &lp.field("promotion"));
            }
        }
        for (i, t) in self.tenders.iter().enumerate() {
            same_currency(c, &p.field("tenders").index(i).field("amount"), &t.amount, &self.currency);
            opt_text(c, &p.field("tenders").index(i).field("reference"), &t.reference);
        }
        same_currency(c, &p.field("total"), &self.total, &self.currency);
    }
}

/// Where a customer asked for a return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// At a store's counter.
    Store,
    /// On the web shop or app.
    Online,
    /// Through customer service by phone or mail.
    CallCentre,
}

/// Why an item is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// Arrived or became damaged.
    Damaged,
    /// Does not work.
    Defective,
    /// Not the item ordered.
    WrongItem,
    /// Not as described.
    NotAsDescribed,
    /// The customer changed their mind.
    ChangedMind,
    /// Any other reason.
    Other,
}

/// A customer's request to return goods from an earlier sale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// The return (RMA) number.
    pub return_number: DocumentNumber,
    /// The store handling the return.
    pub location: LocationId,
    /// Where the customer asked.
    pub channel: Channel,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerId>,
    /// The sale the goods came from.
    pub original_sale: SaleRef,
    /// The refund the customer asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_refund: Option<Money>,
    /// The returned lines.
    pub lines: Vec<ReturnLine>,
}

/// One line of a return request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    /// The line number, unique within the request.
    pub line: u32,
    /// The returned item.
    pub item: ItemRef,
    /// The returned quantity.
    pub quantity: Quantity,
    /// Why it is returned.
    pub reason: ReturnReason,
    /// The condition of the goods as seen at the counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl ReturnRequest {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.return_number.check(c, &p.field("return_number"));
        self.location.check(c, &p.field("location"));
        if let Some(cust) = &self.customer {
            cust.check(c, &p.field("customer"));
        }
        self.original_sale.check(c, &p.field("original_sale"));
        if let Some(m) = &self.requested_refund {
            m.check(c, &p.field("requested_refund"));
        }
        c.non_empty(&p.field("lines"), &self.lines, "a return request");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_positive(c, &lp.field("quantity"));
            opt_text(c, &lp.field("condition"), &l.condition);
        }
    }
}
