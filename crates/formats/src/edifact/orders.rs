//! ORDERS (purchase order) → `po.created`.

use backroom_model::{
    Currency, DocumentNumber, EventPayload, EventType, LocationId, Money, PurchaseOrder, PurchaseOrderLine, SupplierId,
};

use super::envelope::Message;
use super::values::{Reader, party, sections};
use super::{Mapped, code_of, document};

/// Document name codes (UNCL 1001) read as purchase orders.
const ORDER_CODES: [&str; 6] = ["220", "105", "221", "224", "226", "227"];

/// Reads an ORDERS message.
pub(super) fn read(message: &Message, r: &mut Reader) -> Option<Mapped> {
    let before = r.problems.len();
    let bgm = document(message, r, &ORDER_CODES, "220 (order), 105, 221, 224, 226, 227")?;
    let po_number = code_of(r, bgm, 2, 1, "BGM02 order number");
    let s = sections(&message.body);
    let ordered_on = r.date(&s.header, &["137"]);
    if ordered_on.is_none() && !s.header.iter().any(|x| x.tag == "DTM" && x.value(1, 1) == "137") {
        r.problem(bgm, None, None, "the order has no DTM+137 document date".into());
    }
    let expected_on = r.date(&s.header, &["2", "64", "69"]);
    let parties = r.parties(&s.header);
    let supplier = match party(&parties, &["SU"]) {
        Some(p) => p.code().or_else(|| {
            r.problem(p.nad, Some(2), Some(1), "NAD+SU supplier has no party identification or VAT number".into());
            None
        }),
        None => {
            r.problem(bgm, None, None, "the order names no supplier (NAD+SU)".into());
            None
        }
    };
    let ship_to = match party(&parties, &["DP", "ST", "BY"]) {
        Some(p) => p.party.id.as_ref().and_then(|(_, id)| crate::to_code(id)).or_else(|| {
            r.problem(p.nad, Some(2), Some(1), format!("NAD+{} delivery party has no party identification", p.role));
            None
        }),
        None => {
            r.problem(bgm, None, None, "the order names no delivery party (NAD+DP, NAD+ST or NAD+BY)".into());
            None
        }
    };
    let buyer = party(&parties, &["BY"]).and_then(|p| p.contact.clone());
    let currency = r.currency(&s.header);
    if currency.is_none() && !s.header.iter().any(|x| x.tag == "CUX") {
        r.problem(
            bgm,
            None,
            None,
            "the order has no CUX currency (such as CUX+2:EUR:9); a purchase order needs one".into(),
        );
    }
    let cur = Currency(currency.clone().unwrap_or_default());
    let mut lines = Vec::with_capacity(s.lines.len());
    if s.lines.is_empty() {
        r.problem(bgm, None, None, "the order has no line items (LIN)".into());
    }
    for (i, line) in s.lines.iter().enumerate() {
        let number = r.line_number(line.lin, i + 1);
        let item = r.item(line, number);
        let quantity = r.quantity(&line.own, &["21", "1"]);
        if quantity.is_none() && !line.own.iter().any(|x| x.tag == "QTY") {
            r.problem(line.lin, None, None, format!("line {number} has no ordered quantity (QTY+21)"));
        }
        let price = r.price(line, &["AAA", "AAB"]);
        if price.is_none() && !line.own.iter().any(|x| x.tag == "PRI") {
            r.problem(
                line.lin,
                None,
                None,
                format!(
                    "line {number} has no price (PRI+AAA or PRI+AAB); a purchase order line needs its agreed price"
                ),
            );
        }
        if let (Some(item), Some(quantity), Some((price, base))) = (item, quantity, price) {
            let base = base.filter(|b| !b.is_zero()).unwrap_or(rust_decimal::Decimal::ONE);
            lines.push(PurchaseOrderLine {
                line: number,
                item,
                quantity,
                unit_price: Money {
                    amount: price.checked_div(base).unwrap_or_default().normalize(),
                    currency: cur.clone(),
                },
            });
        }
    }
    if r.problems.len() > before {
        return None;
    }
    let order = PurchaseOrder {
        po_number: DocumentNumber(po_number?),
        supplier: SupplierId(supplier?),
        ship_to: LocationId(ship_to?),
        ordered_on: ordered_on?,
        expected_on,
        currency: Currency(currency?),
        buyer,
        lines,
    };
    Some(Mapped {
        event_type: EventType::PoCreated,
        payload: EventPayload::PurchaseOrder(order),
        document_date: ordered_on,
    })
}
