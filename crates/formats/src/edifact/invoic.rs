//! INVOIC (invoice, credit note) → `invoice.received`, through the EN 16931 semantic invoice.

use backroom_model::{EventPayload, EventType};
use rust_decimal::Decimal;

use super::envelope::Message;
use super::syntax::Segment;
use super::values::{Reader, party, reference, sections};
use super::{Mapped, document};
use crate::Problem;
use crate::en16931::{SemanticInvoice, SemanticLine};

/// Document name codes (UNCL 1001) read as invoices or credit notes.
const INVOICE_CODES: [&str; 14] =
    ["380", "381", "383", "384", "386", "389", "393", "396", "326", "751", "81", "82", "83", "532"];

/// Reads an INVOIC message.
pub(super) fn read(message: &Message, r: &mut Reader) -> Option<Mapped> {
    let before = r.problems.len();
    let bgm = document(
        message,
        r,
        &INVOICE_CODES,
        "380 (commercial invoice), 381 (credit note), 383, 384, 386, 389, 393, 396, 326, 751, 81, 82, 83, 532",
    )?;
    let s = sections(&message.body);
    let mut inv = SemanticInvoice {
        number: bgm.value(2, 1).to_owned(),
        type_code: bgm.value(1, 1).to_owned(),
        issue_date: r.date(&s.header, &["137"]),
        due_date: r.date(&s.header, &["13"]),
        ..SemanticInvoice::default()
    };
    let text = |q: &str| reference(&s.header, q).and_then(|(v, _, _)| v).map(str::to_owned);
    inv.order_reference = text("ON");
    inv.despatch_reference = text("AAK");
    inv.receipt_reference = text("ALO");
    inv.preceding_invoice = text("IV").or_else(|| text("OI"));
    let parties = r.parties(&s.header);
    let seller = party(&parties, &["SU", "SE"]);
    if let Some(p) = seller {
        inv.seller = p.party.clone();
    }
    if let Some(p) = party(&parties, &["BY"]) {
        inv.buyer = p.party.clone();
    }
    match r.currency(&s.header) {
        Some(c) => inv.currency = c,
        None if !s.header.iter().any(|x| x.tag == "CUX") => {
            r.problem(bgm, None, None, "[BT-5] the invoice has no CUX currency (such as CUX+2:EUR:4)".into());
        }
        None => {}
    }
    let cur = inv.currency.clone();
    let mut line_segments: Vec<(String, &Segment)> = Vec::new();
    for (i, line) in s.lines.iter().enumerate() {
        let id = line.lin.get(1, 1).map_or_else(|| (i + 1).to_string(), str::to_owned);
        let ids = r.item_numbers(line);
        let quantity = r.quantity(&line.own, &["47", "46", "12"]);
        if quantity.is_none() && !line.own.iter().any(|x| x.tag == "QTY") {
            r.problem(line.lin, None, None, format!("[BT-129] line {id} has no invoiced quantity (QTY+47)"));
        }
        let price = r.price(line, &["AAA", "AAB"]);
        let amount = r.amount(&line.own, "203", &cur).or_else(|| r.amount(&line.own, "66", &cur));
        let (quantity_value, unit) = quantity.map(|q| (q.value, q.unit.0)).unwrap_or_default();
        let (price, base) = match price {
            Some(p) => p,
            None if !quantity_value.is_zero() && amount.is_some() => {
                let per_unit = amount.unwrap_or_default().checked_div(quantity_value).unwrap_or_default();
                (per_unit.round_dp(6).normalize(), None)
            }
            None => {
                r.problem(line.lin, None, None, format!("[BT-146] line {id} has no net price (PRI+AAA)"));
                (Decimal::ZERO, None)
            }
        };
        let net_amount = match amount {
            Some(a) => a,
            None => {
                let base = base.filter(|b| !b.is_zero()).unwrap_or(Decimal::ONE);
                match quantity_value.checked_mul(price).and_then(|v| v.checked_div(base)) {
                    Some(v) => v.round_dp(2),
                    None => {
                        r.problem(line.lin, None, None, format!("[BT-131] line {id} amount is out of range"));
                        Decimal::ZERO
                    }
                }
            }
        };
        let vat_rate = line
            .own
            .iter()
            .find(|x| x.tag == "TAX" && x.value(1, 1) == "7")
            .and_then(|tax| r.number(tax, 5, 4, "TAX rate"));
        let order_line = reference(&line.own, "ON").and_then(|(_, l, _)| l).map(str::to_owned);
        let standard_item_id = match (&ids.gtin, &ids.other) {
            (Some(g), _) => Some((Some("0160".to_owned()), g.clone())),
            (None, Some((kind, n))) => Some((Some(kind.clone()), n.clone())),
            (None, None) => None,
        };
        if standard_item_id.is_none() && ids.buyer.is_none() && ids.seller.is_none() && !ids.invalid {
            r.problems.push(Problem::rule(
                line.lin.at(Some(3), Some(1)),
                "BT-157",
                format!(
                    "line {id} names no item: give a GTIN (LIN03 with type SRV), the buyer's article number \
                     (PIA+5+…:IN) or the seller's (PIA+5+…:SA)"
                ),
            ));
        }
        line_segments.push((id.clone(), line.lin));
        inv.lines.push(SemanticLine {
            id,
            quantity: quantity_value,
            unit,
            net_amount,
            price,
            base_quantity: base,
            order_line,
            name: None,
            seller_item_id: ids.seller,
            buyer_item_id: ids.buyer,
            standard_item_id,
            vat_category: None,
            vat_rate,
        });
    }
    if s.lines.is_empty() {
        r.problems.push(Problem::rule(bgm.at(None, None), "BR-16", "the invoice has no line items (LIN)".into()));
    }
    let sum = &s.summary;
    inv.line_total = r.amount(sum, "79", &cur);
    inv.allowance_total = r.amount(sum, "260", &cur);
    inv.charge_total = r.amount(sum, "259", &cur);
    inv.tax_exclusive = r.amount(sum, "389", &cur).or_else(|| r.sum(sum, "125", &cur));
    inv.tax_total =
        r.amount(sum, "176", &cur).or_else(|| r.sum(sum, "124", &cur)).or_else(|| r.amount(sum, "150", &cur));
    inv.tax_inclusive = ["388", "77", "86"].iter().find_map(|q| r.amount(sum, q, &cur));
    inv.prepaid = r.amount(sum, "113", &cur);
    inv.payable = r.amount(sum, "9", &cur);
    if inv.tax_inclusive.is_none() && inv.payable.is_none() {
        r.problems.push(Problem::rule(
            bgm.at(None, None),
            "BT-112",
            "the invoice has no total with VAT (MOA+388, MOA+77 or MOA+86) nor amount due (MOA+9)".into(),
        ));
    }
    if r.problems.len() > before {
        return None;
    }
    match inv.to_canonical() {
        Ok(invoice) => Some(Mapped {
            event_type: EventType::InvoiceReceived,
            payload: EventPayload::SupplierInvoice(invoice),
            document_date: inv.issue_date,
        }),
        Err(found) => {
            for (term, text) in found {
                let at = match term {
                    "BT-1" => bgm.at(Some(2), Some(1)),
                    "BT-29" => seller.map_or_else(|| bgm.at(None, None), |p| p.nad.at(Some(2), Some(1))),
                    "BT-157" => line_segments
                        .iter()
                        .find(|(id, _)| text.contains(&format!("{id:?}")))
                        .map_or_else(|| bgm.at(None, None), |(_, lin)| lin.at(Some(3), Some(1))),
                    _ => bgm.at(None, None),
                };
                let text = match term {
                    "BT-2" => "the issue date is missing (DTM+137)".to_owned(),
                    "BT-29" if seller.is_none() => "the invoice names no seller (NAD+SU or NAD+SE)".to_owned(),
                    _ => text,
                };
                r.problems.push(Problem::rule(at, term, text));
            }
            None
        }
    }
}
