//! Purchasing documents: purchase orders, approvals, goods receipts, supplier invoices.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{opt_text, same_currency};
use crate::ids::{DocumentNumber, ItemRef, LocationId, SupplierId};
use crate::money::{Currency, DecimalSchema, Money, Quantity};
use crate::validate::{Checker, Path};

/// A purchase order sent to a supplier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    /// The purchase-order number.
    pub po_number: DocumentNumber,
    /// The supplier the order is placed with.
    pub supplier: SupplierId,
    /// The store or distribution centre the goods are delivered to.
    pub ship_to: LocationId,
    /// The day the order was placed.
    pub ordered_on: NaiveDate,
    /// The day delivery is expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_on: Option<NaiveDate>,
    /// The currency of every amount on the order.
    pub currency: Currency,
    /// Who raised the order (a person or system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
    /// The ordered lines.
    pub lines: Vec<PurchaseOrderLine>,
}

/// One line of a purchase order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderLine {
    /// The line number, unique within the order.
    pub line: u32,
    /// The ordered item.
    pub item: ItemRef,
    /// The ordered quantity.
    pub quantity: Quantity,
    /// The agreed price per unit.
    pub unit_price: Money,
}

impl PurchaseOrder {
    /// The order total: the sum of quantity × unit price over its lines.
    pub fn total(&self) -> Money {
        let amount = self.lines.iter().map(|l| l.quantity.value * l.unit_price.amount).sum();
        Money { amount, currency: self.currency.clone() }
    }

    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.po_number.check(c, &p.field("po_number"));
        self.supplier.check(c, &p.field("supplier"));
        self.ship_to.check(c, &p.field("ship_to"));
        self.currency.check(c, &p.field("currency"));
        opt_text(c, &p.field("buyer"), &self.buyer);
        if let Some(expected) = self.expected_on
            && expected < self.ordered_on
        {
            c.error(
                &p.field("expected_on"),
                format!("delivery day {expected} is before the order day {}", self.ordered_on),
            );
        }
        c.non_empty(&p.field("lines"), &self.lines, "a purchase order");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check_positive(c, &lp.field("quantity"));
            same_currency(c, &lp.field("unit_price"), &l.unit_price, &self.currency);
        }
    }
}

/// An approval of a purchase order, at one level of its approval chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderApproval {
    /// The approved purchase order.
    pub po_number: DocumentNumber,
    /// Who approved it.
    pub approved_by: String,
    /// The approval level taken (1 for the first approver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    /// The approver's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl PurchaseOrderApproval {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.po_number.check(c, &p.field("po_number"));
        c.text(&p.field("approved_by"), &self.approved_by, 200);
        opt_text(c, &p.field("comment"), &self.comment);
    }
}

/// Goods received at a store or distribution centre, against a purchase order, a despatch
/// advice or neither.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GoodsReceipt {
    /// The receipt number.
    pub receipt_number: DocumentNumber,
    /// Where the goods were received.
    pub location: LocationId,
    /// The supplier who delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<SupplierId>,
    /// The purchase order received against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<DocumentNumber>,
    /// The supplier's despatch advice (ASN) number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub despatch_advice: Option<DocumentNumber>,
    /// The received lines.
    pub lines: Vec<ReceiptLine>,
}

/// One line of a goods receipt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    /// The line number, unique within the receipt.
    pub line: u32,
    /// The purchase-order line this line receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line: Option<u32>,
    /// The received item.
    pub item: ItemRef,
    /// The quantity accepted into stock.
    pub received: Quantity,
    /// The quantity expected but not delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<Quantity>,
    /// The quantity delivered but refused (damaged, wrong item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Quantity>,
    /// Why goods were short or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl GoodsReceipt {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.receipt_number.check(c, &p.field("receipt_number"));
        self.location.check(c, &p.field("location"));
        if let Some(s) = &self.supplier {
            s.check(c, &p.field("supplier"));
        }
        if let Some(n) = &self.po_number {
            n.check(c, &p.field("po_number"));
        }
        if let Some(n) = &self.despatch_advice {
            n.check(c, &p.field("despatch_advice"));
        }
        c.non_empty(&p.field("lines"), &self.lines, "a goods receipt");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.received.check_non_negative(c, &lp.field("received"));
            if let Some(q) = &l.short {
                q.check_non_negative(c, &lp.field("short"));
            }
            if let Some(q) = &l.rejected {
                q.check_non_negative(c, &lp.field("rejected"));
            }
            opt_text(c, &lp.field("reason"), &l.reason);
        }
    }
}

/// Whether a supplier document charges or credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// A commercial invoice (UNCL 1001 code 380).
    Invoice,
    /// A credit note (UNCL 1001 code 381).
    CreditNote,
}

/// A supplier invoice or credit note.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierInvoice {
    /// The supplier's invoice number.
    pub invoice_number: DocumentNumber,
    /// Invoice or credit note.
    pub kind: InvoiceKind,
    /// The supplier who issued it.
    pub supplier: SupplierId,
    /// The day it was issued.
    pub issued_on: NaiveDate,
    /// The day payment is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    /// The currency of every amount on it.
    pub currency: Currency,
    /// The purchase order it bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<DocumentNumber>,
    /// The despatch advice it bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub despatch_advice: Option<DocumentNumber>,
    /// The goods receipt it bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<DocumentNumber>,
    /// For a credit note: the invoice it corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credited_invoice: Option<DocumentNumber>,
    /// The billed lines.
    pub lines: Vec<InvoiceLine>,
    /// The total tax.
    pub tax_total: Money,
    /// The amount payable, tax included.
    pub total: Money,
}

/// One line of a supplier invoice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLine {
    /// The line number, unique within the invoice.
    pub line: u32,
    /// The purchase-order line billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line: Option<u32>,
    /// The billed item.
    pub item: ItemRef,
    /// The billed quantity.
    pub quantity: Quantity,
    /// The price per unit.
    pub unit_price: Money,
    /// The line amount before tax.
    pub net_amount: Money,
    /// The VAT or sales-tax rate, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DecimalSchema>")]
    pub tax_rate_percent: Option<Decimal>,
}

impl SupplierInvoice {
    pub(crate) fn check(&self, c: &mut Checker, p: &Path<'_>) {
        self.invoice_number.check(c, &p.field("invoice_number"));
        self.supplier.check(c, &p.field("supplier"));
        self.currency.check(c, &p.field("currency"));
        for (name, n) in [
            ("po_number", &self.po_number),
            ("despatch_advice", &self.despatch_advice),
            ("receipt_number", &self.receipt_number),
            ("credited_invoice", &self.credited_invoice),
        ] {
            if let Some(n) = n {
                n.check(c, &p.field(name));
            }
        }
        if self.kind == InvoiceKind::Invoice && self.credited_invoice.is_some() {
            c.error(&p.field("credited_invoice"), "only a credit note refers to a credited invoice".to_owned());
        }
        if let Some(due) = self.due_on
            && due < self.issued_on
        {
            c.error(&p.field("due_on"), format!("due day {due} is before the issue day {}", self.issued_on));
        }
        c.non_empty(&p.field("lines"), &self.lines, "an invoice");
        c.unique_lines(&p.field("lines"), self.lines.iter().map(|l| l.line));
        for (i, l) in self.lines.iter().enumerate() {
            let lp_list = p.field("lines");
            let lp = lp_list.index(i);
            l.item.check(c, &lp.field("item"));
            l.quantity.check(c, &lp.field("quantity"));
            same_currency(c, &lp.field("unit_price"), &l.unit_price, &self.currency);
            same_currency(c, &lp.field("net_amount"), &l.net_amount, &self.currency);
            if let Some(rate) = l.tax_rate_percent
                && (rate.is_sign_negative() || rate > Decimal::ONE_HUNDRED)
            {
                c.error(&lp.field("tax_rate_percent"), format!("tax rate {rate} must be between 0 and 100"));
            }
        }
        same_currency(c, &p.field("tax_total"), &self.tax_total, &self.currency);
        same_currency(c, &p.field("total"), &self.total, &self.currency);
    }
}
