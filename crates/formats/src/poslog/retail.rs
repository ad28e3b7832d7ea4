//! A `RetailTransaction` as `pos.sale`, `pos.return`, both (split), or a control record when no
//! item line is left.

use backroom_model::{
    Currency, CustomerId, DocumentNumber, EventPayload, EventType, LocationId, Money, NewEvent, SaleLine, SaleRef,
    SalesTransaction, Tender,
};
use rust_decimal::Decimal;

use super::Arts;
use super::control;
use super::lines::{self, ItemLine, sale_ref};
use super::tenders::{self, ReadTender, Totals};
use super::transaction::Header;
use crate::xml::ElementId;
use crate::{Problem, to_code};

/// Reads a completed retail transaction.
pub(crate) fn read(a: &Arts<'_>, h: &Header, rt: ElementId, problems: &mut Vec<Problem>) -> Vec<NewEvent> {
    let before = problems.len();
    let Some(currency) = h.currency(a, problems) else {
        return Vec::new();
    };
    let items = lines::read(a, h, rt, &currency, problems);
    let totals = Totals::read(a, rt, problems);
    let tenders = tenders::read(a, rt, &currency, problems);
    let link = a
        .child(rt, "TransactionLink")
        .or_else(|| a.child(h.element, "TransactionLink"))
        .and_then(|l| sale_ref(a, h, l, problems));
    if problems.len() != before {
        return Vec::new();
    }
    let (returns, sales): (Vec<ItemLine>, Vec<ItemLine>) = items.lines.into_iter().partition(|l| l.is_return);
    let original = returns.iter().find_map(|l| l.original.clone()).or(link);
    let sale_lines: Vec<SaleLine> = sales.into_iter().map(|l| l.line).collect();
    let return_lines: Vec<SaleLine> = returns.into_iter().map(|l| l.line).collect();
    let part = Part { a, h, rt, currency: &currency };
    match (sale_lines.is_empty(), return_lines.is_empty()) {
        (true, true) => {
            let kind = if items.voided > 0 { "voided_lines" } else { "no_items" };
            control::cancelled(a, h, Some(rt), kind, problems)
        }
        (false, true) => {
            let total = totals.grand.or(totals.net).map_or_else(|| part.sum(&sale_lines, problems), Some);
            let tenders = tenders.into_iter().map(|t| t.tender).collect();
            part.event(EventType::PosSale, h.id.clone(), None, sale_lines, tenders, total)
        }
        (true, false) => {
            let total =
                totals.grand.or(totals.net).map(|t| t.abs()).map_or_else(|| part.sum(&return_lines, problems), Some);
            let tenders = tenders.into_iter().map(|t| positive(t.tender)).collect();
            part.event(EventType::PosReturn, h.id.clone(), original, return_lines, tenders, total)
        }
        (false, false) => {
            let (refunds, payments): (Vec<ReadTender>, Vec<ReadTender>) = tenders.into_iter().partition(|t| t.refund);
            let sale_total = part.sum(&sale_lines, problems);
            let return_total = part.sum(&return_lines, problems);
            let mut events = part.event(
                EventType::PosSale,
                format!("{}/sale", h.id),
                None,
                sale_lines,
                payments.into_iter().map(|t| t.tender).collect(),
                sale_total,
            );
            events.extend(part.event(
                EventType::PosReturn,
                format!("{}/return", h.id),
                original,
                return_lines,
                refunds.into_iter().map(|t| positive(t.tender)).collect(),
                return_total,
            ));
            events
        }
    }
}

/// The customer: `Customer/CustomerID`, else a loyalty account id.
fn customer(a: &Arts<'_>, rt: ElementId) -> Option<CustomerId> {
    a.text_at(rt, &["Customer", "CustomerID"])
        .or_else(|| a.text_at(rt, &["LoyaltyAccount", "LoyaltyAccountID"]))
        .or_else(|| a.text_at(rt, &["Customer", "LoyaltyAccount", "LoyaltyAccountID"]))
        .and_then(to_code)
        .map(CustomerId)
}

fn positive(mut t: Tender) -> Tender {
    t.amount.amount = t.amount.amount.abs();
    t
}

/// What the events of one retail transaction share.
struct Part<'p, 'a> {
    a: &'p Arts<'a>,
    h: &'p Header,
    rt: ElementId,
    currency: &'p str,
}

impl Part<'_, '_> {
    /// The sum of the lines' net amounts.
    fn sum(&self, lines: &[SaleLine], problems: &mut Vec<Problem>) -> Option<Decimal> {
        let sum = lines.iter().try_fold(Decimal::ZERO, |s, l| s.checked_add(l.net_amount.amount));
        if sum.is_none() {
            problems.push(self.a.problem(self.rt, "the line amounts are too large to add up"));
        }
        sum
    }

    fn event(
        &self,
        event_type: EventType,
        id: String,
        original: Option<SaleRef>,
        lines: Vec<SaleLine>,
        tenders: Vec<Tender>,
        total: Option<Decimal>,
    ) -> Vec<NewEvent> {
        let Some(total) = total else {
            return Vec::new();
        };
        let h = self.h;
        let doc = SalesTransaction {
            transaction_id: DocumentNumber(h.id.clone()),
            location: LocationId(h.store.clone()),
            workstation: Some(h.workstation.clone()),
            business_day: h.business_day,
            cashier: h.cashier.clone(),
            customer: customer(self.a, self.rt),
            currency: Currency(self.currency.to_owned()),
            original,
            lines,
            tenders,
            total: Money::new(total, self.currency),
        };
        vec![NewEvent::new(id, event_type, h.source.clone(), h.occurred_at, EventPayload::SalesTransaction(doc))]
    }
}
