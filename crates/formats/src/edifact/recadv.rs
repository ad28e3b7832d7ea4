//! RECADV (receiving advice) → `receipt.posted`.

use backroom_model::{
    DocumentNumber, EventPayload, EventType, GoodsReceipt, LocationId, Quantity, ReceiptLine, SupplierId,
};
use rust_decimal::Decimal;

use super::desadv::location;
use super::envelope::Message;
use super::syntax::Segment;
use super::values::{Line, NamedParty, Reader, party, reference, sections};
use super::{Mapped, code_of, document};

/// Quantity qualifiers (UNCL 6063) of goods received but not accepted.
const REJECTED: [&str; 2] = ["195", "196"];
/// Quantity qualifiers a shortage is measured against: despatched, ordered, delivered.
const EXPECTED: [&str; 3] = ["12", "21", "46"];

/// Reads a RECADV message.
pub(super) fn read(message: &Message, r: &mut Reader) -> Option<Mapped> {
    let before = r.problems.len();
    let bgm = document(message, r, &["632", "352"], "632 (goods receipt), 352 (receiving advice)")?;
    let receipt_number = code_of(r, bgm, 2, 1, "BGM02 receiving advice number");
    let s = sections(&message.body);
    let document_date = r.date(&s.header, &["137"]);
    let po_number = reference(&s.header, "ON").and_then(|(v, _, _)| v).and_then(crate::to_code);
    let despatch_advice = reference(&s.header, "AAK")
        .or_else(|| reference(&s.header, "DQ"))
        .and_then(|(v, _, _)| v)
        .and_then(crate::to_code);
    let parties = r.parties(&s.header);
    let supplier = party(&parties, &["SU"]).and_then(NamedParty::code);
    let receiving_location = match party(&parties, &["DP", "ST", "BY"]) {
        Some(p) => location(p).or_else(|| {
            r.problem(p.nad, Some(2), Some(1), format!("NAD+{} receiving party has no party identification", p.role));
            None
        }),
        None => {
            r.problem(
                bgm,
                None,
                None,
                "the receiving advice names no receiving party (NAD+DP, NAD+ST or NAD+BY)".into(),
            );
            None
        }
    };
    if s.lines.is_empty() {
        r.problem(bgm, None, None, "the receiving advice has no line items (LIN)".into());
    }
    let mut lines = Vec::with_capacity(s.lines.len());
    for (i, line) in s.lines.iter().enumerate() {
        let number = r.line_number(line.lin, i + 1);
        let item = r.item(line, number);
        let receipt = quantities(r, line, number);
        let po_line = reference(&line.own, "ON").and_then(|(_, l, _)| l).and_then(|l| l.parse().ok());
        if let (Some(item), Some(q)) = (item, receipt) {
            lines.push(ReceiptLine {
                line: number,
                po_line,
                item,
                received: q.received,
                short: q.short,
                rejected: q.rejected,
                reason: q.reason,
            });
        }
    }
    if r.problems.len() > before {
        return None;
    }
    let receipt = GoodsReceipt {
        receipt_number: DocumentNumber(receipt_number?),
        location: LocationId(receiving_location?),
        supplier: supplier.map(SupplierId),
        po_number: po_number.map(DocumentNumber),
        despatch_advice: despatch_advice.map(DocumentNumber),
        lines,
    };
    Some(Mapped { event_type: EventType::ReceiptPosted, payload: EventPayload::GoodsReceipt(receipt), document_date })
}

struct Received {
    received: Quantity,
    short: Option<Quantity>,
    rejected: Option<Quantity>,
    reason: Option<String>,
}

/// The received, short and rejected quantities of a line, from its QTY and QVR segments.
fn quantities(r: &mut Reader, line: &Line<'_>, number: u32) -> Option<Received> {
    let accepted = r.quantity(&line.own, &["194"]);
    let received_total = r.quantity(&line.own, &["48"]);
    let mut unit = accepted.as_ref().or(received_total.as_ref()).map(|q| q.unit.clone());
    let mut rejected: Option<Decimal> = None;
    let mut short: Option<Decimal> = None;
    let mut reason = None;
    for seg in line.own.iter().filter(|s| s.tag == "QTY" && REJECTED.contains(&s.value(1, 1))) {
        if let Some(q) = r.qty(seg) {
            unit.get_or_insert(q.unit);
            rejected = Some(rejected.unwrap_or_default() + q.value.abs());
        }
    }
    for seg in line.own.iter().filter(|s| s.tag == "QVR") {
        let Some(difference) = r.number(seg, 1, 1, "QVR quantity difference") else { continue };
        let kind = seg.value(1, 2);
        if REJECTED.contains(&kind) {
            rejected = Some(rejected.unwrap_or_default() + difference.abs());
        } else if EXPECTED.contains(&kind) && difference.is_sign_negative() {
            short = Some(short.unwrap_or_default() + difference.abs());
        }
        reason = reason.or_else(|| discrepancy(seg));
    }
    let Some(unit) = unit else {
        r.problem(line.lin, None, None, format!("line {number} has no received quantity (QTY+194 or QTY+48)"));
        return None;
    };
    let received = match (accepted, received_total) {
        (Some(q), _) => q.value,
        (None, Some(q)) => (q.value - rejected.unwrap_or_default()).max(Decimal::ZERO),
        (None, None) => Decimal::ZERO,
    };
    if short.is_none()
        && let Some(expected) = r.quantity(&line.own, &["12", "46"])
    {
        let missing = expected.value - received - rejected.unwrap_or_default();
        if missing > Decimal::ZERO {
            short = Some(missing);
        }
    }
    let q = |value: Decimal| Quantity { value, unit: unit.clone() };
    Some(Received { received: q(received), short: short.map(q), rejected: rejected.map(q), reason })
}

/// The discrepancy of a QVR (QVR02, UNCL 4221), in words where the code is a common one.
fn discrepancy(seg: &Segment) -> Option<String> {
    let code = seg.get(2, 1)?;
    let words = match code {
        "AC" => "over-shipped",
        "AE" => "delivered but not advised",
        "AF" => "goods delivered damaged",
        "AG" => "delivered too late",
        "BP" => "shipment partial, back order to follow",
        "CP" => "shipment partial, considered complete, no back order",
        "SS" => "split shipment",
        _ => return Some(format!("discrepancy {code} (UNCL 4221)")),
    };
    Some(format!("{words} ({code})"))
}
