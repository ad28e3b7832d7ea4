//! The EN 16931 semantic invoice: the business terms (BT-n) that UBL and CII both carry, and
//! the one mapping from them to the canonical [`SupplierInvoice`].
//!
//! UBL ([`crate::ubl`]) and CII ([`crate::cii`]) each read their syntax into a
//! [`SemanticInvoice`]; [`SemanticInvoice::to_canonical`] is shared, so the same invoice in
//! either syntax gives the same canonical invoice.

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, Gtin, InvoiceKind, InvoiceLine, ItemRef, Money, NewEvent,
    Quantity, Sku, SupplierId, SupplierInvoice, UnitCode,
};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;

use crate::{Context, to_code};

/// A party (seller BG-4 or buyer BG-7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Party {
    /// BT-27 / BT-44: the name.
    pub name: Option<String>,
    /// BT-29 / BT-46: the party identifier, with its scheme when given.
    pub id: Option<(Option<String>, String)>,
    /// BT-30 / BT-47: the legal registration identifier.
    pub legal_id: Option<String>,
    /// BT-31 / BT-48: the VAT identifier.
    pub vat_id: Option<String>,
    /// BT-34 / BT-49: the electronic address, with its scheme.
    pub endpoint: Option<(Option<String>, String)>,
}

impl Party {
    /// The code Backroom knows the party by: its party identifier, else its VAT identifier,
    /// else its legal registration, else its electronic address.
    pub fn code(&self) -> Option<String> {
        [
            self.id.as_ref().map(|(_, v)| v.as_str()),
            self.vat_id.as_deref(),
            self.legal_id.as_deref(),
            self.endpoint.as_ref().map(|(_, v)| v.as_str()),
        ]
        .into_iter()
        .flatten()
        .find_map(to_code)
    }
}

/// One invoice line (BG-25).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SemanticLine {
    /// BT-126: the line identifier.
    pub id: String,
    /// BT-129: the invoiced quantity (credited quantity on a credit note).
    pub quantity: Decimal,
    /// BT-130: the unit of measure (UN/ECE Rec 20).
    pub unit: String,
    /// BT-131: the line net amount.
    pub net_amount: Decimal,
    /// BT-146: the item net price.
    pub price: Decimal,
    /// BT-149: the price base quantity (1 when absent).
    pub base_quantity: Option<Decimal>,
    /// BT-132: the referenced purchase order line.
    pub order_line: Option<String>,
    /// BT-153: the item name.
    pub name: Option<String>,
    /// BT-155: the seller's item identifier.
    pub seller_item_id: Option<String>,
    /// BT-156: the buyer's item identifier.
    pub buyer_item_id: Option<String>,
    /// BT-157: the standard item identifier and its scheme (`0160` is a GTIN).
    pub standard_item_id: Option<(Option<String>, String)>,
    /// BT-151: the VAT category code.
    pub vat_category: Option<String>,
    /// BT-152: the VAT rate in percent.
    pub vat_rate: Option<Decimal>,
}

/// An invoice or credit note in EN 16931 business terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SemanticInvoice {
    /// BT-1: the invoice number.
    pub number: String,
    /// BT-2: the issue date.
    pub issue_date: Option<NaiveDate>,
    /// BT-3: the type code (380 invoice, 381 credit note, …).
    pub type_code: String,
    /// Whether the document is a credit note (UBL `CreditNote` root, or type code 381 and kin).
    pub credit_note: bool,
    /// BT-5: the invoice currency.
    pub currency: String,
    /// BT-9: the payment due date.
    pub due_date: Option<NaiveDate>,
    /// BT-10: the buyer reference.
    pub buyer_reference: Option<String>,
    /// BT-13: the purchase order reference.
    pub order_reference: Option<String>,
    /// BT-15: the receiving advice reference.
    pub receipt_reference: Option<String>,
    /// BT-16: the despatch advice reference.
    pub despatch_reference: Option<String>,
    /// BT-25: the preceding invoice reference.
    pub preceding_invoice: Option<String>,
    /// BG-4: the seller.
    pub seller: Party,
    /// BG-7: the buyer.
    pub buyer: Party,
    /// BG-25: the lines.
    pub lines: Vec<SemanticLine>,
    /// BT-106: the sum of line net amounts.
    pub line_total: Option<Decimal>,
    /// BT-107: the sum of document-level allowances.
    pub allowance_total: Option<Decimal>,
    /// BT-108: the sum of document-level charges.
    pub charge_total: Option<Decimal>,
    /// BT-109: the total without VAT.
    pub tax_exclusive: Option<Decimal>,
    /// BT-110: the total VAT in the invoice currency.
    pub tax_total: Option<Decimal>,
    /// BT-112: the total with VAT.
    pub tax_inclusive: Option<Decimal>,
    /// BT-113: the amount already paid.
    pub prepaid: Option<Decimal>,
    /// BT-115: the amount due for payment.
    pub payable: Option<Decimal>,
}

/// Decimal places kept of a unit price computed as net price / base quantity (the model's money scale).
const UNIT_PRICE_SCALE: u32 = 6;

/// Type codes (UNCL1001) of credit notes.
const CREDIT_NOTE_CODES: [&str; 5] = ["81", "83", "381", "396", "532"];

impl SemanticInvoice {
    /// The canonical supplier invoice, or what stops the mapping (a missing seller, number,
    /// issue date or line item identifier), as (business term, message).
    ///
    /// Amounts are kept with the signs the document has; the canonical invoice's `total` is
    /// the total with VAT (BT-112) and its `tax_total` the VAT total (BT-110). A line's unit
    /// price is the net price divided by its base quantity, rounded to 6 decimals. Line numbers
    /// are the line identifiers when they are distinct whole numbers, else positions.
    pub fn to_canonical(&self) -> Result<SupplierInvoice, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let number = to_code(&self.number);
        if number.is_none() {
            problems.push(("BT-1", format!("invoice number {:?} is empty or has no letters or digits", self.number)));
        }
        let supplier = self.seller.code();
        if supplier.is_none() {
            problems.push(("BT-29", "the seller has no identifier, VAT number, registration or address".into()));
        }
        if self.issue_date.is_none() {
            problems.push(("BT-2", "the issue date is missing".into()));
        }
        let currency = Currency(self.currency.clone());
        let money = |amount: Decimal| Money { amount, currency: currency.clone() };
        let mut lines = Vec::with_capacity(self.lines.len());
        let ids: Vec<Option<u32>> = self.lines.iter().map(|l| l.id.trim().parse::<u32>().ok()).collect();
        let mut distinct: Vec<u32> = ids.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let numeric = distinct.len() == ids.len();
        for (i, l) in self.lines.iter().enumerate() {
            let line =
                if numeric { l.id.trim().parse().unwrap_or(0) } else { u32::try_from(i + 1).unwrap_or(u32::MAX) };
            let Some(item) = l.item() else {
                problems
                    .push(("BT-157", format!("line {:?} has no standard, buyer's or seller's item identifier", l.id)));
                continue;
            };
            let base = l.base_quantity.filter(|b| !b.is_zero()).unwrap_or(Decimal::ONE);
            let Some(unit_price) = l.price.checked_div(base) else {
                problems.push((
                    "BT-146",
                    format!("line {:?}: net price {} / base quantity {base} is out of range", l.id, l.price),
                ));
                continue;
            };
            lines.push(InvoiceLine {
                line,
                po_line: l.order_line.as_deref().and_then(|s| s.trim().parse().ok()),
                item,
                quantity: Quantity { value: l.quantity, unit: UnitCode(l.unit.clone()) },
                unit_price: money(unit_price.round_dp(UNIT_PRICE_SCALE).normalize()),
                net_amount: money(l.net_amount),
                tax_rate_percent: l.vat_rate,
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let credit = self.credit_note || CREDIT_NOTE_CODES.contains(&self.type_code.as_str());
        Ok(SupplierInvoice {
            invoice_number: DocumentNumber(number.unwrap_or_default()),
            kind: if credit { InvoiceKind::CreditNote } else { InvoiceKind::Invoice },
            supplier: SupplierId(supplier.unwrap_or_default()),
            issued_on: self.issue_date.unwrap_or_default(),
            due_on: self.due_date,
            currency: currency.clone(),
            po_number: self.order_reference.as_deref().and_then(to_code).map(DocumentNumber),
            despatch_advice: self.despatch_reference.as_deref().and_then(to_code).map(DocumentNumber),
            receipt_number: self.receipt_reference.as_deref().and_then(to_code).map(DocumentNumber),
            credited_invoice: if credit {
                self.preceding_invoice.as_deref().and_then(to_code).map(DocumentNumber)
            } else {
                None
            },
            lines,
            tax_total: money(self.tax_total.unwrap_or_default()),
            total: money(self.tax_inclusive.or(self.payable).unwrap_or_default()),
        })
    }
}

impl SemanticLine {
    /// The canonical item of the line (GTIN, buyer's or seller's identifier, else the name as a
    /// SKU, see the module's mapping); `None` only when the line has neither
    /// an identifier nor a name.
    pub fn item(&self) -> Option<ItemRef> {
        item_ref(self)
    }
}

/// The one `invoice.received` event both syntaxes give for a canonical invoice:
/// id `invoice/<supplier>/<invoice number>` (`credit-note/…` for credit notes; stable, so
/// re-ingesting is harmless), occurred at
/// the issue day 00:00 UTC, source `ctx.source` or else `supplier/<supplier>`.
pub fn received_event(invoice: SupplierInvoice, cx: &Context) -> NewEvent {
    let supplier = invoice.supplier.0.clone();
    let kind = match invoice.kind {
        InvoiceKind::Invoice => "invoice",
        InvoiceKind::CreditNote => "credit-note",
    };
    let id = format!("{kind}/{supplier}/{}", invoice.invoice_number.0);
    let occurred_at = invoice.issued_on.and_time(NaiveTime::MIN).and_utc();
    let source = cx.source_or(|| format!("supplier/{supplier}"));
    NewEvent::new(id, EventType::InvoiceReceived, source, occurred_at, EventPayload::SupplierInvoice(invoice))
}

/// The item of a line: a GTIN when the standard identifier is one (scheme 0160, or a valid
/// GTIN without scheme), and the buyer's identifier (the retailer's own SKU) or else the
/// seller's as SKU. Without any of them, the standard identifier, else the item name (BT-153,
/// the one item term EN 16931 requires) as a code, so that an invoice naming its items only in
/// words (services, rent, freight) is received and its lines are left for matching to question
/// rather than refused.
fn item_ref(l: &SemanticLine) -> Option<ItemRef> {
    let gtin = l
        .standard_item_id
        .as_ref()
        .filter(|(scheme, _)| scheme.as_deref().is_none_or(|s| s == "0160"))
        .map(|(_, v)| Gtin(v.trim().to_owned()))
        .filter(Gtin::is_valid);
    let sku =
        [l.buyer_item_id.as_deref(), l.seller_item_id.as_deref()].into_iter().flatten().find_map(to_code).map(Sku);
    let sku = match (&gtin, sku) {
        (None, None) => l
            .standard_item_id
            .as_ref()
            .and_then(|(_, v)| to_code(v))
            .or_else(|| l.name.as_deref().and_then(to_code))
            .map(Sku),
        (_, sku) => sku,
    };
    (gtin.is_some() || sku.is_some()).then_some(ItemRef { gtin, sku })
}
