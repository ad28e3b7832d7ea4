//! Three-way match: a supplier invoice against its purchase order and goods receipts.
//!
//! Each invoice line is compared with the purchase-order line it bills and with what was
//! received against that line, in the way ERP users know it:
//!
//! - **Quantity.** What may be billed is what was received, but no more than the ordered quantity
//!   plus the over-receipt tolerance. Everything billed on the line so far (earlier invoices for
//!   the same order line plus this one, less quantity credited) may exceed that by the
//!   over-billing tolerance. A line fails when `overflow% − tolerance > 0.01`, with
//!   `overflow% = (billed − billable) / billable × 100`. Nothing received yet puts the invoice on
//!   hold.
//! - **Price.** The unit price billed (after price credits) may not exceed the order's unit price
//!   by more than the price tolerance (default 0: exact). A lower price is accepted.
//! - **Arithmetic.** Each line's net amount must equal quantity × unit price, and the total must
//!   equal the line amounts plus tax, each within ±0.02.
//! - **Links.** A line without an order line is an exception; an invoice whose order is unknown
//!   is an exception; an invoice with the same supplier, number and amount as an earlier one is a
//!   duplicate and is rejected.
//!
//! Credit notes close out differences: a credit-note line for the same order line at the
//! invoice's unit price credits quantity, any other credit line credits price.
//!
//! The outcome is given in Peppol invoice-response terms (BIS 3.0 "Invoice Response"): a status
//! (`AB` acknowledged, `IP` in process, `UQ` under query, `CA` conditionally accepted, `RE`
//! rejected, `AP` accepted, `PD` paid), clarification reasons (`NON`, `REF`, `PRI`, `QTY`, `ITM`,
//! `DEL`, `OTH`, …) and actions (`NOA`, `PIN`, `NIN`, `CNF`, `CNP`, `CNA`, …).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::documents::{GoodsReceipt, InvoiceKind, PurchaseOrder, PurchaseOrderLine, SupplierInvoice};
use crate::ids::ItemRef;

/// Allowed differences for one supplier and item, in percent. All default to 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    /// How far received may exceed ordered and still be billable.
    pub over_receipt_percent: Decimal,
    /// How far billed may exceed billable.
    pub over_billing_percent: Decimal,
    /// How far the billed unit price may exceed the order's.
    pub price_percent: Decimal,
}

/// What a match is made from.
#[derive(Clone, Copy, Debug)]
pub struct MatchInput<'a> {
    /// The invoice (or credit note) being matched.
    pub invoice: &'a SupplierInvoice,
    /// Its purchase order, if known.
    pub order: Option<&'a PurchaseOrder>,
    /// Goods receipts against that order.
    pub receipts: &'a [GoodsReceipt],
    /// Supplier documents received before this one: earlier invoices for the same order, invoices
    /// with the same number, and credit notes.
    pub earlier: &'a [SupplierInvoice],
}

/// The outcome of a match, for routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOutcome {
    /// Every line matches exactly: release for payment (`AP`).
    Matched,
    /// Every line matches within its tolerances (`CA`).
    WithinTolerance,
    /// Waiting for goods to be received (`IP`).
    Hold,
    /// A discrepancy a person must resolve (`UQ`).
    Exception,
    /// Refused as sent: a duplicate or wrong arithmetic (`RE`).
    Rejected,
}

impl MatchOutcome {
    /// The Peppol invoice-response status code.
    pub fn status(self) -> &'static str {
        match self {
            MatchOutcome::Matched => "AP",
            MatchOutcome::WithinTolerance => "CA",
            MatchOutcome::Hold => "IP",
            MatchOutcome::Exception => "UQ",
            MatchOutcome::Rejected => "RE",
        }
    }
}

/// What was found on one line (or on the whole invoice, with `line` 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The invoice line, or 0 for the invoice as a whole.
    pub line: u32,
    /// What it means for the invoice.
    pub outcome: MatchOutcome,
    /// The Peppol clarification reason code.
    pub reason: String,
    /// The Peppol clarification action code.
    pub action: String,
    /// The discrepancy in words, with the numbers.
    pub text: String,
    /// The amount to be credited to close the difference (0 when none).
    pub credit_due: Decimal,
}

/// One invoice line with the figures it was judged on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineMatch {
    /// The invoice line.
    pub line: u32,
    /// The order line it bills.
    pub po_line: Option<u32>,
    /// The item billed.
    pub item: String,
    /// Ordered on the order line.
    pub ordered: Decimal,
    /// Received against the order line.
    pub received: Decimal,
    /// Billed on earlier invoices for the order line.
    pub previously_billed: Decimal,
    /// Billed on this line.
    pub billed: Decimal,
    /// Quantity credited by credit notes for this invoice.
    pub credited: Decimal,
    /// The order's unit price.
    pub order_price: Option<Decimal>,
    /// The unit price billed, after price credits.
    pub billed_price: Decimal,
    /// The worst finding on the line.
    pub outcome: MatchOutcome,
}

/// The result of a three-way match.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    /// The worst outcome over all findings.
    pub outcome: MatchOutcome,
    /// The Peppol status code of the outcome.
    pub status: String,
    /// The distinct reason codes, in the order found (`NON` when none).
    pub reasons: Vec<String>,
    /// The distinct action codes, in the order found (`NOA` when none).
    pub actions: Vec<String>,
    /// Every line with its figures.
    pub lines: Vec<LineMatch>,
    /// Every discrepancy.
    pub findings: Vec<Finding>,
    /// The total to be credited to close every difference.
    pub credit_due: Decimal,
    /// One sentence per finding, for a person.
    pub summary: String,
}

/// Arithmetic slack for amounts.
const SLACK: Decimal = Decimal::from_parts(2, 0, 0, false, 2);
/// How far over a tolerance, in percentage points, a line may go before it fails.
const PERCENT_SLACK: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// Matches an invoice. `tolerance` gives the tolerances for an item of the invoice's supplier.
pub fn three_way_match(input: MatchInput<'_>, mut tolerance: impl FnMut(&ItemRef) -> Tolerance) -> MatchResult {
    let mut m = Matcher { input, findings: Vec::new(), lines: Vec::new() };
    m.run(&mut tolerance);
    m.finish()
}

struct Matcher<'a> {
    input: MatchInput<'a>,
    findings: Vec<Finding>,
    lines: Vec<LineMatch>,
}

fn same_item(a: &ItemRef, b: &ItemRef) -> bool {
    a.key() == b.key() || (a.sku.is_some() && a.sku == b.sku) || (a.gtin.is_some() && a.gtin == b.gtin)
}

fn fmt(d: Decimal) -> String {
    d.round_dp(4).normalize().to_string()
}

impl Matcher<'_> {
    fn find(&mut self, line: u32, outcome: MatchOutcome, reason: &str, action: &str, text: String, credit: Decimal) {
        self.findings.push(Finding {
            line,
            outcome,
            reason: reason.to_owned(),
            action: action.to_owned(),
            text,
            credit_due: credit.max(Decimal::ZERO).round_dp(2),
        });
    }

    fn run(&mut self, tolerance: &mut dyn FnMut(&ItemRef) -> Tolerance) {
        let inv = self.input.invoice;
        if self.duplicate() {
            return;
        }
        self.arithmetic();
        if inv.kind == InvoiceKind::CreditNote {
            self.credit_note();
            return;
        }
        let Some(order) = self.input.order else {
            let text = match &inv.po_number {
                Some(po) => format!("purchase order {po} is not known"),
                None => "the invoice names no purchase order".to_owned(),
            };
            self.find(0, MatchOutcome::Exception, "REF", "PIN", text, Decimal::ZERO);
            return;
        };
        if order.supplier != inv.supplier {
            let text =
                format!("purchase order {} is with supplier {}, not {}", order.po_number, order.supplier, inv.supplier);
            self.find(0, MatchOutcome::Exception, "REF", "PIN", text, Decimal::ZERO);
        }
        if order.currency != inv.currency {
            let text = format!("invoiced in {}, ordered in {}", inv.currency, order.currency);
            self.find(0, MatchOutcome::Exception, "PRI", "NIN", text, Decimal::ZERO);
            return;
        }
        for l in &inv.lines {
            self.line(order, l, tolerance);
        }
    }

    /// Same supplier, number and amount as an earlier invoice: rejected. Same number, other amount:
    /// an exception.
    fn duplicate(&mut self) -> bool {
        let inv = self.input.invoice;
        let same_number = self
            .input
            .earlier
            .iter()
            .filter(|e| e.kind == inv.kind && e.supplier == inv.supplier && e.invoice_number == inv.invoice_number)
            .collect::<Vec<_>>();
        if same_number.iter().any(|e| e.total.amount == inv.total.amount) {
            let text = format!(
                "duplicate: invoice {} of {} for {} was already received",
                inv.invoice_number, inv.supplier, inv.total
            );
            self.find(0, MatchOutcome::Rejected, "OTH", "NOA", text, Decimal::ZERO);
            return true;
        }
        if let Some(first) = same_number.first() {
            let text = format!(
                "invoice number {} of {} was already received for {}, now for {}",
                inv.invoice_number, inv.supplier, first.total, inv.total
            );
            self.find(0, MatchOutcome::Exception, "REF", "PIN", text, Decimal::ZERO);
        }
        false
    }

    fn arithmetic(&mut self) {
        let inv = self.input.invoice;
        let mut net_sum = Decimal::ZERO;
        for l in &inv.lines {
            net_sum += l.net_amount.amount;
            let expected = l.quantity.value * l.unit_price.amount;
            if (expected - l.net_amount.amount).abs() > SLACK {
                let text = format!(
                    "line {}: {} × {} = {}, billed {}",
                    l.line,
                    fmt(l.quantity.value),
                    fmt(l.unit_price.amount),
                    fmt(expected.round_dp(2)),
                    fmt(l.net_amount.amount)
                );
                self.find(l.line, MatchOutcome::Rejected, "OTH", "NIN", text, Decimal::ZERO);
            }
        }
        let expected_total = net_sum + inv.tax_total.amount;
        if (expected_total - inv.total.amount).abs() > SLACK {
            let text = format!(
                "total {} differs from the lines {} plus tax {}",
                fmt(inv.total.amount),
                fmt(net_sum),
                fmt(inv.tax_total.amount)
            );
            self.find(0, MatchOutcome::Rejected, "OTH", "NIN", text, Decimal::ZERO);
        }
    }

    fn credit_note(&mut self) {
        let inv = self.input.invoice;
        let credited = inv.credited_invoice.as_ref().filter(|n| {
            self.input
                .earlier
                .iter()
                .any(|e| e.kind == InvoiceKind::Invoice && e.supplier == inv.supplier && &&e.invoice_number == n)
        });
        if credited.is_none() {
            let text = match &inv.credited_invoice {
                Some(n) => format!("credit note {} credits invoice {n}, which is not known", inv.invoice_number),
                None => format!("credit note {} names no invoice it credits", inv.invoice_number),
            };
            self.find(0, MatchOutcome::Exception, "REF", "PIN", text, Decimal::ZERO);
        }
    }

    fn line(
        &mut self,
        order: &PurchaseOrder,
        l: &crate::documents::InvoiceLine,
        tolerance: &mut dyn FnMut(&ItemRef) -> Tolerance,
    ) {
        let inv = self.input.invoice;
        let item = l.item.key().to_string();
        let order_line: Option<&PurchaseOrderLine> = l.po_line.and_then(|n| order.lines.iter().find(|o| o.line == n));
        let Some(ol) = order_line else {
            let text = match l.po_line {
                Some(n) => format!("line {}: purchase order {} has no line {n}", l.line, order.po_number),
                None => format!("line {}: {item} is not linked to a purchase-order line", l.line),
            };
            self.find(l.line, MatchOutcome::Exception, "REF", "PIN", text, Decimal::ZERO);
            self.lines.push(LineMatch {
                line: l.line,
                po_line: l.po_line,
                item,
                ordered: Decimal::ZERO,
                received: Decimal::ZERO,
                previously_billed: Decimal::ZERO,
                billed: l.quantity.value,
                credited: Decimal::ZERO,
                order_price: None,
                billed_price: l.unit_price.amount,
                outcome: MatchOutcome::Exception,
            });
            return;
        };
        let before = self.findings.len();
        if !same_item(&l.item, &ol.item) {
            let text = format!("line {}: billed {item}, order line {} is for {}", l.line, ol.line, ol.item.key());
            self.find(l.line, MatchOutcome::Exception, "ITM", "PIN", text, Decimal::ZERO);
        }
        if l.quantity.unit != ol.quantity.unit {
            let text = format!(
                "line {}: billed in {}, ordered in {}",
                l.line,
                l.quantity.unit.as_str(),
                ol.quantity.unit.as_str()
            );
            self.find(l.line, MatchOutcome::Exception, "QTY", "NIN", text, Decimal::ZERO);
        }
        let po_line = ol.line;
        let received: Decimal = self
            .input
            .receipts
            .iter()
            .flat_map(|r| &r.lines)
            .filter(|r| r.po_line.map_or_else(|| same_item(&r.item, &ol.item), |n| n == po_line))
            .map(|r| r.received.value)
            .sum();
        let previously_billed: Decimal = self
            .input
            .earlier
            .iter()
            .filter(|e| {
                e.kind == InvoiceKind::Invoice
                    && e.supplier == inv.supplier
                    && e.invoice_number != inv.invoice_number
                    && e.po_number == inv.po_number
            })
            .flat_map(|e| &e.lines)
            .filter(|x| x.po_line == Some(po_line))
            .map(|x| x.quantity.value)
            .sum();
        // Credit notes for this invoice and this order line.
        let (mut credited_qty, mut price_credit) = (Decimal::ZERO, Decimal::ZERO);
        for c in self.input.earlier.iter().filter(|e| {
            e.kind == InvoiceKind::CreditNote
                && e.supplier == inv.supplier
                && e.credited_invoice.as_ref() == Some(&inv.invoice_number)
        }) {
            for cl in c
                .lines
                .iter()
                .filter(|cl| cl.po_line == Some(po_line) || (cl.po_line.is_none() && same_item(&cl.item, &l.item)))
            {
                if cl.unit_price.amount == l.unit_price.amount {
                    credited_qty += cl.quantity.value;
                } else {
                    price_credit += cl.net_amount.amount;
                }
            }
        }
        let billed = (l.quantity.value - credited_qty).max(Decimal::ZERO);
        let billed_price = if billed.is_zero() {
            l.unit_price.amount
        } else {
            l.unit_price.amount - (price_credit / billed).round_dp(4)
        };
        let tol = tolerance(&l.item);
        let hundred = Decimal::ONE_HUNDRED;
        // Quantity billed beyond what may be billed: credited at the billed price, so a price
        // difference is owed on the rest only.
        let mut over_qty = Decimal::ZERO;
        let mut within_tolerance: Vec<(&str, String)> = Vec::new();

        if billed > Decimal::ZERO && received.is_zero() {
            let text = format!("line {}: nothing received yet against order line {po_line}", l.line);
            self.find(l.line, MatchOutcome::Hold, "DEL", "NOA", text, Decimal::ZERO);
        } else if billed > Decimal::ZERO {
            let cap = ol.quantity.value * (hundred + tol.over_receipt_percent) / hundred;
            let billable = received.min(cap);
            let total_billed = previously_billed + billed;
            if total_billed > billable {
                let overflow =
                    if billable.is_zero() { hundred } else { (total_billed - billable) / billable * hundred };
                if overflow - tol.over_billing_percent > PERCENT_SLACK {
                    over_qty = (total_billed - billable).min(billed);
                    let why = if received > cap {
                        format!(
                            "received {} exceeds ordered {} beyond the {}% over-receipt tolerance",
                            fmt(received),
                            fmt(ol.quantity.value),
                            fmt(tol.over_receipt_percent)
                        )
                    } else {
                        format!("received {}", fmt(received))
                    };
                    let earlier = if previously_billed.is_zero() {
                        String::new()
                    } else {
                        format!(" (with {} billed before)", fmt(previously_billed))
                    };
                    let text = format!(
                        "line {}: billed {}{earlier} but {why}; {}% over, tolerance {}%",
                        l.line,
                        fmt(billed),
                        fmt(overflow.round_dp(2)),
                        fmt(tol.over_billing_percent)
                    );
                    self.find(l.line, MatchOutcome::Exception, "QTY", "CNP", text, over_qty * billed_price);
                } else {
                    let text = format!(
                        "line {}: billed {} against {} billable, within the {}% over-billing tolerance",
                        l.line,
                        fmt(total_billed),
                        fmt(billable),
                        fmt(tol.over_billing_percent)
                    );
                    within_tolerance.push(("QTY", text));
                }
            }
        }
        let order_price = ol.unit_price.amount;
        if billed_price > order_price {
            let over =
                if order_price.is_zero() { hundred } else { (billed_price - order_price) / order_price * hundred };
            if over - tol.price_percent > PERCENT_SLACK || tol.price_percent.is_zero() {
                let text = format!(
                    "line {}: unit price {} billed, {} ordered ({}% over, tolerance {}%)",
                    l.line,
                    fmt(billed_price),
                    fmt(order_price),
                    fmt(over.round_dp(2)),
                    fmt(tol.price_percent)
                );
                self.find(
                    l.line,
                    MatchOutcome::Exception,
                    "PRI",
                    "CNP",
                    text,
                    (billed_price - order_price) * (billed - over_qty),
                );
            } else {
                let text = format!(
                    "line {}: unit price {} against {} ordered, within the {}% price tolerance",
                    l.line,
                    fmt(billed_price),
                    fmt(order_price),
                    fmt(tol.price_percent)
                );
                within_tolerance.push(("PRI", text));
            }
        }
        let worst = self.findings[before..].iter().map(|f| f.outcome).max();
        let outcome = match worst {
            Some(w) => w,
            None if within_tolerance.is_empty() => MatchOutcome::Matched,
            None => {
                for (reason, text) in within_tolerance {
                    self.find(l.line, MatchOutcome::WithinTolerance, reason, "NOA", text, Decimal::ZERO);
                }
                MatchOutcome::WithinTolerance
            }
        };
        self.lines.push(LineMatch {
            line: l.line,
            po_line: Some(po_line),
            item,
            ordered: ol.quantity.value,
            received,
            previously_billed,
            billed,
            credited: credited_qty,
            order_price: Some(order_price),
            billed_price,
            outcome,
        });
    }

    fn finish(self) -> MatchResult {
        let outcome = self.findings.iter().map(|f| f.outcome).max().unwrap_or(MatchOutcome::Matched);
        let mut reasons: Vec<String> = Vec::new();
        let mut actions: Vec<String> = Vec::new();
        // Only the findings that decide the outcome name its reasons and actions.
        for f in self.findings.iter().filter(|f| f.outcome == outcome) {
            if !reasons.contains(&f.reason) {
                reasons.push(f.reason.clone());
            }
            if !actions.contains(&f.action) {
                actions.push(f.action.clone());
            }
        }
        if reasons.is_empty() {
            reasons.push("NON".to_owned());
        }
        if actions.is_empty() {
            actions.push("NOA".to_owned());
        }
        let credit_due = self.findings.iter().map(|f| f.credit_due).sum();
        let summary = if self.findings.is_empty() {
            "every line matches its order and receipts".to_owned()
        } else {
            self.findings.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join("; ")
        };
        MatchResult {
            outcome,
            status: outcome.status().to_owned(),
            reasons,
            actions,
            lines: self.lines,
            findings: self.findings,
            credit_due,
            summary,
        }
    }
}
