//! ORDRSP (purchase order response) → `po.acknowledged`.

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, Money, PurchaseOrderResponse, Quantity, ResponseLine,
    ResponseStatus, SupplierId, UnitCode,
};
use rust_decimal::Decimal;

use super::envelope::Message;
use super::values::{DEFAULT_UNIT, NamedParty, Reader, party, reference, sections};
use super::{Mapped, document};

/// The status of a whole response from BGM03 (UNCL 1225 message function).
fn function_status(code: &str) -> Option<ResponseStatus> {
    match code {
        "29" => Some(ResponseStatus::Accepted),
        "27" => Some(ResponseStatus::Rejected),
        "4" | "5" | "28" | "30" | "34" | "1E" => Some(ResponseStatus::Changed),
        _ => None,
    }
}

/// The status of a whole response from BGM04 (UNCL 4343 response type).
fn response_type_status(code: &str) -> Option<ResponseStatus> {
    match code {
        "AP" => Some(ResponseStatus::Accepted),
        "RE" => Some(ResponseStatus::Rejected),
        "AC" | "CA" => Some(ResponseStatus::Changed),
        _ => None,
    }
}

/// The status of a line from LIN02 (UNCL 1229 action code).
fn line_status(code: &str) -> Option<ResponseStatus> {
    match code {
        "5" | "4" => Some(ResponseStatus::Accepted),
        "7" | "2" | "10" => Some(ResponseStatus::Rejected),
        "1" | "3" | "6" | "23" | "24" | "1E" => Some(ResponseStatus::Changed),
        _ => None,
    }
}

/// Reads an ORDRSP message.
pub(super) fn read(message: &Message, r: &mut Reader) -> Option<Mapped> {
    let before = r.problems.len();
    let bgm = document(message, r, &["231"], "231 (purchase order response)")?;
    let s = sections(&message.body);
    let responded_on = r.date(&s.header, &["137"]);
    if responded_on.is_none() && !s.header.iter().any(|x| x.tag == "DTM" && x.value(1, 1) == "137") {
        r.problem(bgm, None, None, "the response has no DTM+137 document date".into());
    }
    let po_number = match reference(&s.header, "ON") {
        Some((Some(v), _, seg)) => crate::to_code(v).or_else(|| {
            r.problem(seg, Some(1), Some(2), format!("RFF+ON order number {v:?} has no letters or digits"));
            None
        }),
        _ => {
            r.problem(bgm, None, None, "the response names no purchase order (RFF+ON)".into());
            None
        }
    };
    let parties = r.parties(&s.header);
    let supplier = party(&parties, &["SU", "SE"]).and_then(NamedParty::code);
    let currency = r.currency(&s.header);
    let note = s.header.iter().find(|x| x.tag == "FTX").and_then(|f| {
        let text: Vec<&str> =
            f.element(4).unwrap_or_default().iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
        (!text.is_empty()).then(|| text.join(" "))
    });
    let header_status = function_status(bgm.value(3, 1)).or_else(|| response_type_status(bgm.value(4, 1)));
    let mut lines = Vec::with_capacity(s.lines.len());
    for (i, line) in s.lines.iter().enumerate() {
        let number = r.line_number(line.lin, i + 1);
        let status = match (line.lin.get(2, 1), header_status) {
            (Some(code), _) => line_status(code).or_else(|| {
                r.problem(
                    line.lin,
                    Some(2),
                    Some(1),
                    format!(
                        "LIN02 action code {code:?} is not a response; accepted: 5 or 4 (accepted), 7, 2 or 10 \
                         (not accepted), 1, 3, 6, 23, 24 or 1E (changed)"
                    ),
                );
                None
            }),
            (None, Some(h)) => Some(h),
            (None, None) => Some(ResponseStatus::Accepted),
        };
        let item = r.item(line, number);
        let quantity = match r.quantity(&line.own, &["113", "21", "12", "1"]) {
            Some(q) => Some(q),
            None if status == Some(ResponseStatus::Rejected) => {
                Some(Quantity { value: Decimal::ZERO, unit: UnitCode(DEFAULT_UNIT.into()) })
            }
            None => {
                if !line.own.iter().any(|x| x.tag == "QTY") {
                    r.problem(line.lin, None, None, format!("line {number} has no quantity (QTY+113 or QTY+21)"));
                }
                None
            }
        };
        let po_line = reference(&line.own, "ON")
            .and_then(|(_, l, _)| l)
            .or_else(|| reference(&line.own, "LI").and_then(|(v, _, _)| v))
            .and_then(|l| l.parse().ok())
            .unwrap_or(number);
        let price = r.price(line, &["AAA", "AAB"]);
        let unit_price = match (price, &currency) {
            (Some((p, base)), Some(c)) => {
                let base = base.filter(|b| !b.is_zero()).unwrap_or(Decimal::ONE);
                Some(Money {
                    amount: p.checked_div(base).unwrap_or_default().normalize(),
                    currency: Currency(c.clone()),
                })
            }
            (Some(_), None) => {
                r.problem(
                    line.lin,
                    None,
                    None,
                    format!("line {number} has a price but the response has no CUX currency"),
                );
                None
            }
            _ => None,
        };
        let delivery_on = r.date(&line.own, &["2", "17", "69"]);
        if let (Some(item), Some(quantity), Some(status)) = (item, quantity, status) {
            lines.push(ResponseLine { po_line, item, status, quantity, unit_price, delivery_on });
        }
    }
    let status = header_status.or_else(|| {
        let all = |st: ResponseStatus| !lines.is_empty() && lines.iter().all(|l| l.status == st);
        if all(ResponseStatus::Accepted) {
            Some(ResponseStatus::Accepted)
        } else if all(ResponseStatus::Rejected) {
            Some(ResponseStatus::Rejected)
        } else if !lines.is_empty() {
            Some(ResponseStatus::Changed)
        } else {
            r.problem(
                bgm,
                Some(3),
                Some(1),
                format!(
                    "BGM03 message function {:?} does not say whether the order is accepted; accepted: 29 (accepted), \
                     27 (not accepted), 4, 5, 28, 30, 34 or 1E (changed), or BGM04 AP, RE, AC, CA",
                    bgm.value(3, 1)
                ),
            );
            None
        }
    });
    if r.problems.len() > before {
        return None;
    }
    let response = PurchaseOrderResponse {
        po_number: DocumentNumber(po_number?),
        supplier: supplier.map(SupplierId),
        responded_on: responded_on?,
        status: status?,
        lines,
        note,
    };
    Some(Mapped {
        event_type: EventType::PoAcknowledged,
        payload: EventPayload::PurchaseOrderResponse(response),
        document_date: responded_on,
    })
}
