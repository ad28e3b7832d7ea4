//! Writing X12: the interchange and group envelopes, 997 acknowledgements and 855 responses.
//!
//! Written with `*` between elements, `>` between components, `~` and a line feed after each
//! segment, and `^` as repetition separator from version 00402 on. X12 has no escape
//! character: a delimiter inside a value is replaced by a space.

use backroom_model::{PurchaseOrderResponse, ResponseStatus};
use chrono::{DateTime, Utc};

use super::ack997::FunctionalAck;
use super::codes::x12_unit;

/// The envelope of an interchange Backroom writes: who sends it to whom, its control number,
/// version and date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// ISA05: the qualifier of the sender id (`ZZ` mutually defined, `01` DUNS, `12` phone…).
    pub sender_qualifier: String,
    /// ISA06: the sender id (at most 15 characters are written).
    pub sender_id: String,
    /// GS02: the sender's application code.
    pub sender_application: String,
    /// ISA07: the qualifier of the receiver id.
    pub receiver_qualifier: String,
    /// ISA08: the receiver id (at most 15 characters are written).
    pub receiver_id: String,
    /// GS03: the receiver's application code.
    pub receiver_application: String,
    /// ISA13, GS06 and ST02 (at most 9 digits).
    pub control_number: u32,
    /// GS08: the version (`004010`, `005010`, `004010VICS`); ISA12 is its first five characters.
    pub version: String,
    /// Whether this is a test interchange (ISA15 `T`, else `P`).
    pub test: bool,
    /// The moment of writing (ISA09/ISA10, GS04/GS05).
    pub at: DateTime<Utc>,
}

const DELIMITERS: [char; 4] = ['*', '>', '~', '^'];

/// A value fit for an element: delimiters and control characters become spaces.
fn clean(s: &str) -> String {
    s.chars().map(|c| if DELIMITERS.contains(&c) || c.is_control() { ' ' } else { c }).collect()
}

/// Writes segments, counting them.
struct Writer {
    out: String,
    count: usize,
}

impl Writer {
    fn segment(&mut self, tag: &str, elements: &[&str]) {
        let mut line = tag.to_owned();
        for e in elements {
            line.push('*');
            line.push_str(&clean(e));
        }
        while line.ends_with('*') {
            line.pop();
        }
        self.out.push_str(&line);
        self.out.push_str("~\n");
        self.count += 1;
    }
}

fn pad(s: &str, width: usize) -> String {
    let s: String = clean(s).chars().take(width).collect();
    format!("{s:<width$}")
}

/// Wraps the segments of one transaction set (ST to SE excluded) in ST/SE, GS/GE and ISA/IEA.
fn interchange(env: &Envelope, group_code: &str, set_code: &str, body: impl FnOnce(&mut Writer)) -> String {
    let control = env.control_number % 1_000_000_000;
    let isa_version: String = env.version.chars().take(5).collect();
    let isa_version = if isa_version.len() == 5 { isa_version } else { "00401".to_owned() };
    let repetition = if isa_version.as_str() >= "00402" { "^" } else { "U" };
    let mut w = Writer { out: String::new(), count: 0 };
    let isa = format!(
        "ISA*00*{}*00*{}*{}*{}*{}*{}*{}*{}*{repetition}*{isa_version}*{control:09}*0*{}*>~\n",
        " ".repeat(10),
        " ".repeat(10),
        pad(&env.sender_qualifier, 2),
        pad(&env.sender_id, 15),
        pad(&env.receiver_qualifier, 2),
        pad(&env.receiver_id, 15),
        env.at.format("%y%m%d"),
        env.at.format("%H%M"),
        if env.test { "T" } else { "P" },
    );
    w.out.push_str(&isa);
    let date = env.at.format("%Y%m%d").to_string();
    let time = env.at.format("%H%M").to_string();
    let control_text = control.to_string();
    w.segment(
        "GS",
        &[
            group_code,
            &env.sender_application,
            &env.receiver_application,
            &date,
            &time,
            &control_text,
            "X",
            &env.version,
        ],
    );
    let st_control = format!("{control:04}");
    w.count = 0;
    w.segment("ST", &[set_code, &st_control]);
    body(&mut w);
    let count = (w.count + 1).to_string();
    w.segment("SE", &[&count, &st_control]);
    w.segment("GE", &["1", &control_text]);
    w.segment("IEA", &["1", &format!("{control:09}")]);
    w.out
}

/// Writes a 997 acknowledging one functional group, in its own interchange.
pub fn write_997(ack: &FunctionalAck, envelope: &Envelope) -> String {
    interchange(envelope, "FA", "997", |w| {
        let mut ak1 = vec![ack.group_code.as_str(), ack.group_control.as_str()];
        if let Some(v) = &ack.version {
            ak1.push(v);
        }
        w.segment("AK1", &ak1);
        for set in &ack.sets {
            w.segment("AK2", &[&set.set_code, &set.control]);
            for seg in &set.segments {
                let position = seg.position.to_string();
                w.segment(
                    "AK3",
                    &[&seg.tag, &position, seg.loop_id.as_deref().unwrap_or(""), seg.error.as_deref().unwrap_or("")],
                );
                for el in &seg.elements {
                    let position = match el.component {
                        Some(c) => format!("{}>{c}", el.position),
                        None => el.position.to_string(),
                    };
                    let line = [
                        position.as_str(),
                        el.reference.as_deref().unwrap_or(""),
                        &el.error,
                        &el.value.as_deref().map(clean).unwrap_or_default(),
                    ]
                    .map(str::to_owned);
                    // The position keeps its component separator; the other values are cleaned.
                    let mut text = format!("AK4*{}", line[0]);
                    for v in &line[1..] {
                        text.push('*');
                        text.push_str(&clean(v));
                    }
                    while text.ends_with('*') {
                        text.pop();
                    }
                    w.out.push_str(&text);
                    w.out.push_str("~\n");
                    w.count += 1;
                }
            }
            let mut ak5 = vec![set.status.code()];
            ak5.extend(set.errors.iter().take(5).map(String::as_str));
            w.segment("AK5", &ak5);
        }
        let (included, received, accepted) =
            (ack.included.to_string(), ack.received.to_string(), ack.accepted.to_string());
        let mut ak9 = vec![ack.status.code(), &included, &received, &accepted];
        ak9.extend(ack.errors.iter().take(5).map(String::as_str));
        w.segment("AK9", &ak9);
    })
}

/// BAK02 for a response: AD/AK accepted (with or without line detail), AC changed, RD/RJ rejected.
fn bak02(status: ResponseStatus, detailed: bool) -> &'static str {
    match (status, detailed) {
        (ResponseStatus::Accepted, true) => "AD",
        (ResponseStatus::Accepted, false) => "AK",
        (ResponseStatus::Changed, _) => "AC",
        (ResponseStatus::Rejected, true) => "RD",
        (ResponseStatus::Rejected, false) => "RJ",
    }
}

/// ACK01 for a line: IA accepted, IC accepted with changes, IR rejected.
fn ack01(status: ResponseStatus) -> &'static str {
    match status {
        ResponseStatus::Accepted => "IA",
        ResponseStatus::Changed => "IC",
        ResponseStatus::Rejected => "IR",
    }
}

/// Writes an 855 purchase-order acknowledgement from a canonical response, in its own
/// interchange. BAK04 (the order's date, unknown to the response) and BAK09 carry the response
/// day; the supplier goes in N1*SU; the note in MSG segments of 264 characters; each line is a
/// PO1 (PO101 the order line, quantity, unit, price, the GTIN under UP/EN/UK by its length and
/// the SKU under BP) with one ACK (status, quantity, unit, 067 delivery date).
pub fn write_855(response: &PurchaseOrderResponse, envelope: &Envelope) -> String {
    interchange(envelope, "PR", "855", |w| {
        let day = response.responded_on.format("%Y%m%d").to_string();
        let bak02 = bak02(response.status, !response.lines.is_empty());
        w.segment("BAK", &["00", bak02, response.po_number.as_str(), &day, "", "", "", "", &day]);
        if let Some(currency) = response.lines.iter().find_map(|l| l.unit_price.as_ref()).map(|m| m.currency.as_str()) {
            w.segment("CUR", &["SE", currency]);
        }
        if let Some(note) = &response.note {
            let chars: Vec<char> = clean(note).chars().collect();
            for chunk in chars.chunks(264) {
                w.segment("MSG", &[&chunk.iter().collect::<String>()]);
            }
        }
        if let Some(s) = &response.supplier {
            w.segment("N1", &["SU", s.as_str(), "92", s.as_str()]);
        }
        for l in &response.lines {
            let line = l.po_line.to_string();
            let quantity = l.quantity.value.normalize().to_string();
            let unit = x12_unit(&l.quantity.unit);
            let price = l.unit_price.as_ref().map(|m| m.amount.normalize().to_string()).unwrap_or_default();
            let mut po1 = vec![line.as_str(), &quantity, unit, &price, ""];
            let gtin_qualifier = l.item.gtin.as_ref().map(|g| match g.0.len() {
                12 => "UP",
                13 => "EN",
                _ => "UK",
            });
            if let (Some(q), Some(g)) = (gtin_qualifier, &l.item.gtin) {
                po1.push(q);
                po1.push(&g.0);
            }
            if let Some(sku) = &l.item.sku {
                po1.push("BP");
                po1.push(sku.as_str());
            }
            w.segment("PO1", &po1);
            let delivery = l.delivery_on.map(|d| d.format("%Y%m%d").to_string());
            let mut ack = vec![ack01(l.status), &quantity, unit];
            if let Some(d) = &delivery {
                ack.push("067");
                ack.push(d);
            }
            w.segment("ACK", &ack);
        }
        let lines = response.lines.len().to_string();
        w.segment("CTT", &[&lines]);
    })
}
