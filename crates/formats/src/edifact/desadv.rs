//! DESADV (despatch advice) → `despatch.advised`.

use backroom_model::{DespatchAdvice, DespatchLine, DocumentNumber, EventPayload, EventType, LocationId, SupplierId};

use super::envelope::Message;
use super::values::{NamedParty, Reader, party, reference, sections};
use super::{Mapped, code_of, document};

/// Reads a DESADV message.
pub(super) fn read(message: &Message, r: &mut Reader) -> Option<Mapped> {
    let before = r.problems.len();
    let bgm = document(message, r, &["351"], "351 (despatch advice)")?;
    let despatch_number = code_of(r, bgm, 2, 1, "BGM02 despatch advice number");
    let s = sections(&message.body);
    let document_date = r.date(&s.header, &["137"]);
    let shipped_on = r.date(&s.header, &["11"]);
    let expected_on = r.date(&s.header, &["17", "2", "132"]);
    let po_number = reference(&s.header, "ON").and_then(|(v, _, _)| v).and_then(crate::to_code);
    let parties = r.parties(&s.header);
    let supplier = party(&parties, &["SU"]).and_then(NamedParty::code);
    let ship_from = party(&parties, &["SF"]).and_then(location);
    let ship_to = match party(&parties, &["DP", "ST", "BY"]) {
        Some(p) => location(p).or_else(|| {
            r.problem(p.nad, Some(2), Some(1), format!("NAD+{} delivery party has no party identification", p.role));
            None
        }),
        None => {
            r.problem(bgm, None, None, "the despatch advice names no delivery party (NAD+DP, NAD+ST or NAD+BY)".into());
            None
        }
    };
    if s.lines.is_empty() {
        r.problem(bgm, None, None, "the despatch advice has no line items (LIN)".into());
    }
    let mut lines = Vec::with_capacity(s.lines.len());
    for (i, line) in s.lines.iter().enumerate() {
        let number = r.line_number(line.lin, i + 1);
        let item = r.item(line, number);
        let quantity = r.quantity(&line.own, &["12", "46"]);
        if quantity.is_none() && !line.own.iter().any(|x| x.tag == "QTY") {
            r.problem(line.lin, None, None, format!("line {number} has no despatched quantity (QTY+12)"));
        }
        let po_line = reference(&line.own, "ON").and_then(|(_, l, _)| l).and_then(|l| l.parse().ok());
        if let (Some(item), Some(quantity)) = (item, quantity) {
            lines.push(DespatchLine { line: number, po_line, item, quantity });
        }
    }
    if r.problems.len() > before {
        return None;
    }
    let advice = DespatchAdvice {
        despatch_number: DocumentNumber(despatch_number?),
        supplier: supplier.map(SupplierId),
        ship_from: ship_from.map(LocationId),
        ship_to: LocationId(ship_to?),
        po_number: po_number.map(DocumentNumber),
        shipped_on,
        expected_on,
        lines,
    };
    Some(Mapped {
        event_type: EventType::DespatchAdvised,
        payload: EventPayload::DespatchAdvice(advice),
        document_date,
    })
}

/// A location code from a party's NAD02 identification.
pub(super) fn location(p: &NamedParty<'_>) -> Option<String> {
    p.party.id.as_ref().and_then(|(_, id)| crate::to_code(id))
}
