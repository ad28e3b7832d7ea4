//! The returns policy: a return request against the sale it came from.
//!
//! A return is accepted when:
//! - the original sale is known (a `pos.sale` with the referenced transaction number),
//! - it was made to the same customer (when both name one),
//! - it lies within the return window (days from the sale's business day),
//! - each returned quantity is at most what was sold less what was already returned at a till
//!   (`pos.return` transactions referencing the sale).
//!
//! The refund is always computed at the original price, whatever the customer asked for.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::documents::{ReturnRequest, SalesTransaction};

/// Why a return is refused, or what was adjusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnFinding {
    /// `no_original_sale`, `other_customer`, `outside_window`, `more_than_sold`, `item_not_sold`
    /// or `refund_adjusted` (the requested refund was not the original price).
    pub code: String,
    /// The finding in words.
    pub text: String,
}

/// One returned line with the figures it was judged on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnLineCheck {
    /// The return line.
    pub line: u32,
    /// The item.
    pub item: String,
    /// Sold in the original sale.
    pub sold: Decimal,
    /// Already returned at a till.
    pub already_returned: Decimal,
    /// Asked to return now.
    pub returned: Decimal,
    /// The original unit price.
    pub unit_price: Decimal,
    /// The refund for the line at the original price.
    pub refund: Decimal,
}

/// The result of a returns-policy check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnCheck {
    /// Whether the return may be refunded.
    pub accepted: bool,
    /// Every finding; refusals first.
    pub findings: Vec<ReturnFinding>,
    /// Every line.
    pub lines: Vec<ReturnLineCheck>,
    /// The refund at the original price (0 when refused).
    pub refund: Decimal,
    /// The sale's currency, when the sale is known.
    pub currency: Option<String>,
    /// Days from the sale to the request.
    pub days_since_sale: Option<i64>,
    /// One sentence per finding, for a person.
    pub summary: String,
}

/// Checks a return request. `sales` are the till transactions naming the original sale recorded
/// before the request: the sale itself and any till returns against it. `window_days` is the
/// return window.
pub fn check_return(
    request: &ReturnRequest,
    sales: &[SalesTransaction],
    requested_on: NaiveDate,
    window_days: i64,
) -> ReturnCheck {
    let mut findings = Vec::new();
    let mut refuse = |code: &str, text: String| findings.push(ReturnFinding { code: code.to_owned(), text });
    let wanted = &request.original_sale.transaction_id;
    let original = sales.iter().find(|s| &s.transaction_id == wanted && s.original.is_none());
    let Some(sale) = original else {
        refuse("no_original_sale", format!("no sale {wanted} is known"));
        return finish(findings, Vec::new(), None, None);
    };
    if let (Some(asked), Some(sold_to)) = (&request.customer, &sale.customer)
        && asked != sold_to
    {
        refuse("other_customer", format!("sale {wanted} was made to another customer"));
    }
    let days = (requested_on - sale.business_day).num_days();
    if days > window_days {
        refuse(
            "outside_window",
            format!("sale {wanted} was {days} days ago; returns are taken within {window_days} days"),
        );
    }
    let till_returns: Vec<&SalesTransaction> =
        sales.iter().filter(|s| s.original.as_ref().is_some_and(|o| &o.transaction_id == wanted)).collect();
    let mut lines = Vec::new();
    for l in &request.lines {
        let key = l.item.key();
        let sold_lines: Vec<_> = sale.lines.iter().filter(|s| s.item.key() == key).collect();
        let sold: Decimal = sold_lines.iter().map(|s| s.quantity.value).sum();
        let already_returned: Decimal = till_returns
            .iter()
            .flat_map(|t| &t.lines)
            .filter(|x| x.item.key() == key)
            .map(|x| x.quantity.value.abs())
            .sum();
        let unit_price = sold_lines.first().map_or(Decimal::ZERO, |s| s.unit_price.amount);
        let returned = l.quantity.value;
        if sold.is_zero() {
            refuse("item_not_sold", format!("line {}: {key} is not on sale {wanted}", l.line));
        } else if returned > sold - already_returned {
            refuse(
                "more_than_sold",
                format!(
                    "line {}: returning {} of {key}, but {} were sold and {} already returned",
                    l.line,
                    returned.normalize(),
                    sold.normalize(),
                    already_returned.normalize()
                ),
            );
        }
        lines.push(ReturnLineCheck {
            line: l.line,
            item: key.to_string(),
            sold,
            already_returned,
            returned,
            unit_price,
            refund: (returned * unit_price).round_dp(2),
        });
    }
    let refund: Decimal = lines.iter().map(|l| l.refund).sum();
    if findings.is_empty()
        && let Some(asked) = &request.requested_refund
        && asked.amount != refund
    {
        findings.push(ReturnFinding {
            code: "refund_adjusted".to_owned(),
            text: format!("{asked} was asked; the refund at the original price is {refund} {}", sale.currency),
        });
    }
    finish(findings, lines, Some(sale.currency.to_string()), Some(days))
}

fn finish(
    findings: Vec<ReturnFinding>,
    lines: Vec<ReturnLineCheck>,
    currency: Option<String>,
    days_since_sale: Option<i64>,
) -> ReturnCheck {
    let accepted = findings.iter().all(|f| f.code == "refund_adjusted");
    let refund = if accepted { lines.iter().map(|l| l.refund).sum() } else { Decimal::ZERO };
    let summary = if findings.is_empty() {
        format!("return within policy; refund {refund}")
    } else {
        findings.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join("; ")
    };
    ReturnCheck { accepted, findings, lines, refund, currency, days_since_sale, summary }
}
