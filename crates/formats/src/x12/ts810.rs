//! 810 Invoice → `invoice.received` ([`SupplierInvoice`]).

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, InvoiceKind, InvoiceLine, Money, NewEvent, Quantity, SupplierId,
    SupplierInvoice,
};
use chrono::Days;
use rust_decimal::Decimal;

use super::syntax::{Segment, shorten};
use super::values::{date, decimal, implied_cents, line_number, required_date, required_decimal, to_utc};
use super::{Input, codes, currency_of, loops, take};
use crate::{Problem, to_code};

/// Reads one 810.
pub(crate) fn read(input: &Input<'_>) -> Result<NewEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let (header, items, summary) = loops(input.set.body, "IT1", &["TDS"]);
    let Some(big) = header.iter().find(|s| s.tag == "BIG") else {
        return Err(vec![input.set.st.whole("the 810 has no BIG segment (invoice number and date)".into())]);
    };
    let issued_on = take(required_date(big, 1, "BIG01 (invoice date)"), &mut problems);
    let number = to_code(big.el(2));
    if number.is_none() {
        problems.push(big.problem(2, format!("BIG02 {:?} is not a usable invoice number", shorten(big.el(2)))));
    }
    let po_number = to_code(big.el(4));
    let kind = if matches!(big.el(7), "CR" | "CN") { InvoiceKind::CreditNote } else { InvoiceKind::Invoice };
    let credited_invoice = match kind {
        InvoiceKind::CreditNote => {
            header.iter().find(|s| s.tag == "REF" && s.el(1) == "OI").and_then(|s| to_code(s.el(2)))
        }
        InvoiceKind::Invoice => None,
    };
    let currency = take(currency_of(input.set.body), &mut problems).unwrap_or_else(|| "USD".to_owned());
    let money = |amount: Decimal| Money { amount, currency: Currency(currency.clone()) };
    let supplier = codes::party(header, &["SE", "VN", "SU"]).or_else(|| input.sender());
    let due_on = due_date(header, issued_on, &mut problems);
    let mut lines = Vec::new();
    let mut line_tax = Decimal::ZERO;
    let mut line_tax_given = false;
    for (ordinal, segs) in items.iter().enumerate() {
        let Some(it1) = segs.first() else { continue };
        let quantity = take(required_decimal(it1, 2, "IT102 (quantity invoiced)"), &mut problems);
        let unit = take(codes::unit(it1, 3), &mut problems);
        let price = take(required_decimal(it1, 4, "IT104 (unit price)"), &mut problems);
        let item = take(codes::item(it1, 6), &mut problems);
        let mut rate: Option<Decimal> = None;
        for txi in segs.iter().filter(|s| s.tag == "TXI") {
            if let Some(a) = take(decimal(txi, 2, "TXI02 (tax amount)"), &mut problems).flatten() {
                line_tax += a;
                line_tax_given = true;
            }
            if let Some(p) = take(decimal(txi, 3, "TXI03 (tax percent)"), &mut problems).flatten() {
                rate = Some(rate.unwrap_or_default() + p);
            }
        }
        let net = match (quantity, price) {
            (Some(q), Some(p)) => q.checked_mul(p).map(|n| n.round_dp(6).normalize()).or_else(|| {
                problems.push(it1.problem(2, "quantity × unit price is too large to compute".into()));
                None
            }),
            _ => None,
        };
        if let (Some(quantity), Some(unit), Some(price), Some(item), Some(net)) = (quantity, unit, price, item, net) {
            lines.push(InvoiceLine {
                line: line_number(it1.el(1)).unwrap_or(u32::try_from(ordinal + 1).unwrap_or(u32::MAX)),
                po_line: None,
                item,
                quantity: Quantity { value: quantity, unit },
                unit_price: money(price),
                net_amount: money(net),
                tax_rate_percent: rate,
            });
        }
    }
    if items.is_empty() {
        problems.push(input.set.st.whole("the 810 has no IT1 line".into()));
    }
    let total = match summary.iter().find(|s| s.tag == "TDS") {
        Some(tds) => {
            take(implied_cents(tds, 1, "TDS01 (total invoice amount)"), &mut problems).flatten().or_else(|| {
                problems.push(tds.problem(1, "TDS01 (total invoice amount) is missing".into()));
                None
            })
        }
        None => {
            problems.push(input.set.st.whole("the 810 has no TDS segment (total invoice amount)".into()));
            None
        }
    };
    let tax_total = summary_tax(summary, &mut problems).or(line_tax_given.then_some(line_tax)).unwrap_or_default();
    let (Some(number), Some(issued_on), Some(supplier), Some(total), true) =
        (number, issued_on, supplier, total, problems.is_empty())
    else {
        return Err(problems);
    };
    let invoice = SupplierInvoice {
        invoice_number: DocumentNumber(number),
        kind,
        supplier: SupplierId(supplier),
        issued_on,
        due_on,
        currency: Currency(currency.clone()),
        po_number: po_number.map(DocumentNumber),
        despatch_advice: None,
        receipt_number: None,
        credited_invoice: credited_invoice.map(DocumentNumber),
        lines,
        tax_total: money(tax_total),
        total: money(total),
    };
    Ok(NewEvent::new(
        input.event_id(),
        EventType::InvoiceReceived,
        input.source(),
        to_utc(issued_on, None, input.cx.default_time_zone),
        EventPayload::SupplierInvoice(invoice),
    ))
}

/// The due day: ITD06 (net due date), else the invoice day plus ITD07 (net days).
fn due_date(
    header: &[Segment],
    issued_on: Option<chrono::NaiveDate>,
    problems: &mut Vec<Problem>,
) -> Option<chrono::NaiveDate> {
    for itd in header.iter().filter(|s| s.tag == "ITD") {
        if let Some(d) = take(date(itd, 6, "ITD06 (net due date)"), problems).flatten() {
            return Some(d);
        }
        if let (Some(days), Some(issued)) = (itd.el(7).parse::<u64>().ok(), issued_on) {
            return issued.checked_add_days(Days::new(days));
        }
    }
    None
}

/// The tax of the summary: its TXI02 amounts, else its tax charges (SAC*C*H850, SAC05).
fn summary_tax(summary: &[Segment], problems: &mut Vec<Problem>) -> Option<Decimal> {
    let mut sum = None;
    for txi in summary.iter().filter(|s| s.tag == "TXI") {
        if let Some(a) = take(decimal(txi, 2, "TXI02 (tax amount)"), problems).flatten() {
            sum = Some(sum.unwrap_or(Decimal::ZERO) + a);
        }
    }
    if sum.is_some() {
        return sum;
    }
    for sac in summary.iter().filter(|s| s.tag == "SAC" && s.el(1) == "C" && s.el(2) == "H850") {
        if let Some(a) = take(implied_cents(sac, 5, "SAC05 (tax amount)"), problems).flatten() {
            sum = Some(sum.unwrap_or(Decimal::ZERO) + a);
        }
    }
    sum
}
