//! Till control records (`pos.control`): sign-on/off, till open/close, no sale, tender pickups and
//! loans, and cancelled, voided or training transactions. Kept for till reconciliation, never demand.

use backroom_model::{DocumentNumber, EventPayload, EventType, LocationId, Money, NewEvent, TillControl};
use rust_decimal::Decimal;

use super::Arts;
use super::tenders::Totals;
use super::transaction::Header;
use super::values::decimal_of;
use crate::Problem;
use crate::xml::ElementId;

/// Children of a control transaction that qualify it rather than name what happened.
const QUALIFIERS: &[&str] = &[
    "Shift",
    "DayPart",
    "ReasonCode",
    "TransactionLink",
    "OperatorID",
    "CashDrawerID",
    "TillID",
    "ForceFlag",
    "MaintenanceRequiredFlag",
];

/// A transaction that is not a completed sale (cancelled, voided, suspended, training): one
/// control event, amount from the retail transaction's grand (else net) total when it has one.
pub(crate) fn cancelled(
    a: &Arts<'_>,
    h: &Header,
    retail_transaction: Option<ElementId>,
    kind: &str,
    problems: &mut Vec<Problem>,
) -> Vec<NewEvent> {
    let amount = retail_transaction.and_then(|rt| {
        let totals = Totals::read(a, rt, problems);
        totals.grand.or(totals.net)
    });
    event(a, h, kind.to_owned(), amount, problems)
}

/// A `ControlTransaction` or `TenderControlTransaction`.
pub(crate) fn control(a: &Arts<'_>, h: &Header, ct: ElementId, problems: &mut Vec<Problem>) -> Vec<NewEvent> {
    let action = a.element_children(ct).find(|&c| !QUALIFIERS.contains(&a.name(c)));
    let Some(action) = action else {
        let kind = snake_case(a.name(ct).trim_end_matches("Transaction"));
        return event(a, h, kind, None, problems);
    };
    let kind = match a.name(action) {
        "ApplicationEvent" => {
            let text = a.doc.text(action);
            let text = text.rsplit(':').next().unwrap_or(text);
            if text.is_empty() { "application_event".to_owned() } else { snake_case(text) }
        }
        name => kind_of(name).map_or_else(|| snake_case(name), str::to_owned),
    };
    let amount = amount_under(a, action, problems);
    event(a, h, kind, amount, problems)
}

/// A transaction kind Backroom does not read as sales (inventory control, food service, …).
pub(crate) fn other(a: &Arts<'_>, h: &Header, element: ElementId, problems: &mut Vec<Problem>) -> Vec<NewEvent> {
    let name = a.name(element);
    event(a, h, snake_case(name.strip_suffix("Transaction").unwrap_or(name)), None, problems)
}

fn kind_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "OperatorSignOn" => "sign_on",
        "OperatorSignOff" | "AutoSignoff" => "sign_off",
        "TillSOD" | "POSSOD" => "till_open",
        "TillEOD" | "POSEOD" => "till_close",
        "BusinessSOD" => "business_day_open",
        "BusinessEOD" => "business_day_close",
        "NoSale" => "no_sale",
        "TenderPickup" => "tender_pickup",
        "TenderLoan" => "tender_loan",
        "PaidIn" => "paid_in",
        "PaidOut" => "paid_out",
        "SafeDrop" => "safe_drop",
        "TillSettle" | "SessionSettle" => "till_settle",
        "PostVoid" => "post_void",
        "TransactionVoid" | "Void" => "void",
        _ => return None,
    })
}

/// The sum of the `Amount` elements directly under the action or under its `Tender` elements.
fn amount_under(a: &Arts<'_>, action: ElementId, problems: &mut Vec<Problem>) -> Option<Decimal> {
    let mut amounts = a.children(action, "Amount").collect::<Vec<_>>();
    for tender in a.children(action, "Tender") {
        amounts.extend(a.children(tender, "Amount"));
    }
    let mut sum: Option<Decimal> = None;
    for e in amounts {
        if let Ok(v) = decimal_of(a, e, "Amount", problems) {
            sum = Some(sum.unwrap_or_default().checked_add(v).unwrap_or(v));
        }
    }
    sum
}

fn event(
    a: &Arts<'_>,
    h: &Header,
    kind: String,
    amount: Option<Decimal>,
    problems: &mut Vec<Problem>,
) -> Vec<NewEvent> {
    let amount = match amount {
        Some(v) => match h.currency(a, problems) {
            Some(c) => Some(Money::new(v, &c)),
            None => return Vec::new(),
        },
        None => None,
    };
    let kind = if kind.is_empty() { "control".to_owned() } else { kind };
    let doc = TillControl {
        transaction_id: DocumentNumber(h.id.clone()),
        location: LocationId(h.store.clone()),
        workstation: Some(h.workstation.clone()),
        business_day: h.business_day,
        kind,
        cashier: h.cashier.clone(),
        amount,
    };
    vec![NewEvent::new(
        h.id.clone(),
        EventType::PosControl,
        h.source.clone(),
        h.occurred_at,
        EventPayload::TillControl(doc),
    )]
}

/// `OperatorSignOn` → `operator_sign_on`, `TillSOD` → `till_sod`, `CashDrawerOpen` →
/// `cash_drawer_open`; characters other than letters and digits become `_`; at most 100 characters.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                });
            if boundary && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        if out.len() >= 100 {
            break;
        }
    }
    out.trim_end_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn names_in_snake_case() {
        assert_eq!(snake_case("OperatorSignOn"), "operator_sign_on");
        assert_eq!(snake_case("TillSOD"), "till_sod");
        assert_eq!(snake_case("POSSOD"), "possod");
        assert_eq!(snake_case("CashDrawerOpen"), "cash_drawer_open");
        assert_eq!(snake_case("InventoryControl"), "inventory_control");
        assert_eq!(snake_case(" a b "), "a_b");
        assert_eq!(snake_case("ÄÖ"), "");
    }
}
