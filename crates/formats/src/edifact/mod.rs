//! UN/EDIFACT interchanges (ISO 9735, directories D.96A through D.16B): ORDERS, INVOIC,
//! DESADV, RECADV and ORDRSP messages in, canonical events out.
//!
//! # Syntax
//!
//! A `UNA` service string advice sets the component separator, element separator, decimal mark
//! (`.` or `,`), release character, reserved (repetition) character and segment terminator;
//! without one the defaults `:+.? '` apply. The release character makes the next character
//! literal (`?'` is an apostrophe inside text). Line breaks and indentation between segments
//! are ignored, so one-line and one-segment-per-line files read alike. Numbers take the UNA
//! decimal mark (a `.` is always accepted, since triad separators are not allowed). Text is
//! UTF-8 when it is valid UTF-8, otherwise ISO 8859-1. Binary objects of packages (`UNO` …
//! `UNP`, ISO 9735-8) are skipped.
//!
//! # Envelope
//!
//! Checked, each failure a [`Problem`] at [`Location::Segment`] (1-based segment index in the
//! interchange, a `UNA` counting as segment 1, with element and component), with the CONTRL
//! syntax error code (UNCL 0085) as rule (`0085-29` control count, `0085-28` reference
//! mismatch, `0085-13` missing, `0085-12` invalid value, `0085-14` value not supported,
//! `0085-15` not supported in this position):
//!
//! - `UNB` first: syntax identifier `UNOx` and version 1–4, sender, recipient, date and time of
//!   preparation, control reference 0020;
//! - `UNZ` last: UNZ01 = the number of groups when there are `UNG` groups, else of messages
//!   (messages plus packages also accepted), UNZ02 = UNB 0020;
//! - `UNG`/`UNE` when present: UNE01 = messages in the group, UNE02 = UNG05;
//! - `UNH`/`UNT` around every message: UNT01 = its segments counting UNH and UNT, UNT02 =
//!   UNH01; UNH02 must name directory `D` release 96A to 16B (01C too) of agency `UN`, e.g.
//!   `ORDERS:D:96A:UN` (an association code such as `EAN008` may follow).
//!
//! Message types other than ORDERS, INVOIC, DESADV, RECADV and ORDRSP (QUOTES, CUSCAR, PAYMUL,
//! INFENT, …) reject the interchange with a problem naming the type and the supported ones.
//! The interchange is accepted whole or rejected whole.
//!
//! # Events
//!
//! One event per message, id `<UNB sender>/<UNB 0020>/<UNH 0062>`, source
//! `edifact/<UNB sender>` unless the context overrides it, `occurred_at` the document date
//! (`DTM+137`) at 00:00 UTC, else the UNB date and time of preparation (taken as UTC).
//!
//! Common to all messages: a quantity's unit is QTY C186-3 (Rec 20; `EA` when absent). A
//! line's item (LIN03 C212 and every PIA): a number of type `SRV`/`EN`/`UP` is the GTIN (it must
//! have a valid check digit); the buyer's article number (`IN`, `BP`) is the SKU, else the
//! supplier's (`SA`, `SN`), else any other number (ISBN `IB`, …) when there is no GTIN. A party
//! code is NAD02 (C082-1), else the VAT number (`RFF+VA` in the NAD group), else the registration
//! (`RFF+GN`/`XA`). The line number is LIN01 (its position when empty). Line segments inside
//! a line's party, allowance, location, packaging or schedule sub-groups are not the line's.
//!
//! ## ORDERS → `po.created` ([`PurchaseOrder`](backroom_model::PurchaseOrder))
//!
//! BGM01 `220` (also `105`, `221`, `224`, `226`, `227`) → order; BGM02 → `po_number`;
//! `DTM+137` → `ordered_on`; `DTM+2` (else `DTM+64`, `DTM+69`) → `expected_on`; `NAD+SU` →
//! `supplier`; `NAD+DP`, else `NAD+ST`, else `NAD+BY` → `ship_to`; the first CTA name of the
//! `NAD+BY` group → `buyer`; CUX → `currency`; per LIN: `QTY+21` (else `QTY+1`) → `quantity`,
//! `PRI+AAA` (net, else `AAB` gross) divided by its unit price basis → `unit_price`. MOA is not
//! carried (the canonical order derives its total). A line without a price, or an order without
//! a currency, is rejected: the canonical order needs both.
//!
//! ## INVOIC → `invoice.received` ([`SupplierInvoice`](backroom_model::SupplierInvoice))
//!
//! Read into an [`en16931::SemanticInvoice`](crate::en16931::SemanticInvoice) and mapped by its
//! shared `to_canonical`, so EDIFACT, UBL and CII invoices agree: BGM01 (380 invoice, 381
//! credit note, …) → BT-3; BGM02 → BT-1; `DTM+137` → BT-2; `DTM+13` → BT-9 due date; CUX →
//! BT-5; `RFF+ON` → BT-13 order, `RFF+AAK` → BT-16 despatch advice, `RFF+ALO` → BT-15 receipt,
//! `RFF+IV`/`OI` → BT-25 preceding invoice; `NAD+SU`/`SE` → seller, `NAD+BY` → buyer. Per LIN:
//! LIN01 → BT-126, `QTY+47` → BT-129/130, `MOA+203` (else `MOA+66`) → BT-131, `PRI+AAA` (else
//! `AAB`) → BT-146 with C509-5 → BT-149, `RFF+ON` C506-3 → BT-132, `TAX+7` C243-4 → BT-152,
//! GTIN → BT-157 (scheme 0160), buyer's number → BT-156, supplier's → BT-155. Summary:
//! `MOA+79` → BT-106, `260` → BT-107, `259` → BT-108, `389` (else the sum of `125`) → BT-109,
//! `176` (else the sum of `124` in the tax breakdown) → BT-110, `388` (else `77`, `86`) →
//! BT-112, `113` → BT-113, `9` → BT-115. Amounts in another currency than CUX are skipped.
//!
//! ## DESADV → `despatch.advised` ([`DespatchAdvice`](backroom_model::DespatchAdvice))
//!
//! BGM01 `351`; BGM02 → `despatch_number`; `DTM+11` → `shipped_on`; `DTM+17` (else `2`,
//! `132`) → `expected_on`; `RFF+ON` → `po_number`; `NAD+SU` → `supplier`; `NAD+SF` →
//! `ship_from`; `NAD+DP`/`ST`/`BY` → `ship_to`. Packaging levels (CPS, PAC, PCI) are read
//! through; per LIN: `QTY+12` (else `46`) → `quantity`, `RFF+ON` C506-3 → `po_line`.
//!
//! ## RECADV → `receipt.posted` ([`GoodsReceipt`](backroom_model::GoodsReceipt))
//!
//! BGM01 `632` (also `352`); BGM02 → `receipt_number`; `NAD+DP`/`ST`/`BY` → `location`;
//! `NAD+SU` → `supplier`; `RFF+ON` → `po_number`; `RFF+AAK` (else `DQ`) → `despatch_advice`.
//! Per LIN: `QTY+194` (received and accepted) → `received`, else `QTY+48` (received) less the
//! rejected quantity; `QTY`/`QVR` `195` and `196` (received, not accepted, to be returned or
//! destroyed) → `rejected`; a negative `QVR` against `12`, `21` or `46` → `short`, else the
//! despatched quantity (`QTY+12`/`46`) not received nor rejected; the QVR discrepancy code
//! (UNCL 4221) → `reason`; `RFF+ON` C506-3 → `po_line`.
//!
//! ## ORDRSP → `po.acknowledged` ([`PurchaseOrderResponse`](backroom_model::PurchaseOrderResponse))
//!
//! BGM01 `231`; `RFF+ON` → `po_number`; `DTM+137` → `responded_on`; `NAD+SU`/`SE` →
//! `supplier`; first `FTX` text → `note`. Status from BGM03 (UNCL 1225): `29` accepted, `27`
//! rejected, `4`/`5`/`28`/`30`/`34`/`1E` changed; else from BGM04 (UNCL 4343: `AP` accepted,
//! `RE` rejected, `AC`/`CA` changed); else from the lines. Per LIN: LIN02 (UNCL 1229) `5`/`4`
//! accepted, `7`/`2`/`10` rejected, `1`/`3`/`6`/`23`/`24`/`1E` changed (the header status when
//! absent); `RFF+ON` C506-3 (else `RFF+LI`, else LIN01) → `po_line`; `QTY+113` (else `21`,
//! `12`, `1`; zero when rejected) → `quantity`; `PRI+AAA`/`AAB` → `unit_price`; `DTM+2`/`17`/`69`
//! → `delivery_on`.

mod desadv;
mod envelope;
mod invoic;
mod orders;
mod ordrsp;
mod recadv;
mod syntax;
mod values;

use backroom_model::{EventPayload, EventType, NewEvent};
use chrono::NaiveDate;

pub use envelope::DIRECTORIES;

use crate::{Context, Format, Location, Parsed, Problem, Sniff};
use envelope::{Interchange, Message};
use syntax::Segment;
use values::Reader;

/// The message types read, with the event each becomes.
pub const SUPPORTED: &str = "ORDERS, INVOIC, DESADV, RECADV, ORDRSP";

/// Whether the document is an EDIFACT interchange: it starts with `UNA` or `UNB`.
pub fn detect(sniff: &Sniff<'_>) -> bool {
    sniff.head.starts_with(b"UNA") || sniff.head.starts_with(b"UNB")
}

/// A message read into its canonical document.
struct Mapped {
    event_type: EventType,
    payload: EventPayload,
    document_date: Option<NaiveDate>,
}

/// Reads an interchange into one canonical event per message, or every problem found.
pub fn parse(bytes: &[u8], cx: &Context) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Vec::new();
    let tokens = syntax::tokenize(bytes, &mut problems);
    let decimal = tokens.delimiters.decimal;
    let interchange = envelope::read(tokens, &mut problems);
    let mut reader = Reader::new(decimal);
    let mut events = Vec::with_capacity(interchange.messages.len());
    for message in &interchange.messages {
        let mapped = match message.message_type.as_str() {
            "ORDERS" => orders::read(message, &mut reader),
            "INVOIC" => invoic::read(message, &mut reader),
            "DESADV" => desadv::read(message, &mut reader),
            "RECADV" => recadv::read(message, &mut reader),
            "ORDRSP" => ordrsp::read(message, &mut reader),
            "" => None,
            other => {
                reader.problems.push(Problem::new(
                    message.header.at(Some(2), Some(1)),
                    format!(
                        "message type {other:?} (message {:?}) is not supported; supported: {SUPPORTED}",
                        message.reference
                    ),
                ));
                None
            }
        };
        if let Some(m) = mapped {
            events.push(event(&interchange, message, m, cx));
        }
    }
    problems.append(&mut reader.problems);
    if problems.is_empty() {
        Ok(Parsed { format: Format::Edifact, events, replies: Vec::new() })
    } else {
        problems.sort_by_key(|p| match &p.location {
            Location::Segment { index, .. } => *index,
            _ => 0,
        });
        Err(problems)
    }
}

fn event(interchange: &Interchange, message: &Message, mapped: Mapped, cx: &Context) -> NewEvent {
    let id = format!("{}/{}/{}", interchange.sender, interchange.control_reference, message.reference);
    let source = cx.source_or(|| format!("edifact/{}", interchange.sender));
    let occurred_at = match (mapped.document_date, interchange.prepared_at) {
        (Some(d), _) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
        (None, Some(t)) => t.and_utc(),
        (None, None) => cx.now,
    };
    NewEvent::new(id, mapped.event_type, source, occurred_at, mapped.payload)
}

/// The BGM of a message, checked against the document name codes accepted for its type.
fn document<'a>(message: &'a Message, reader: &mut Reader, accepted: &[&str], names: &str) -> Option<&'a Segment> {
    let Some(bgm) = message.body.iter().find(|s| s.tag == "BGM") else {
        reader.problems.push(Problem::new(
            message.header.at(None, None),
            format!("{} message {:?} has no BGM beginning of message segment", message.message_type, message.reference),
        ));
        return None;
    };
    let code = bgm.value(1, 1);
    if !accepted.contains(&code) {
        reader.problem(
            bgm,
            Some(1),
            Some(1),
            format!(
                "BGM01 document name code {code:?} is not accepted for {}; accepted: {names}",
                message.message_type
            ),
        );
        return None;
    }
    if bgm.get(2, 1).is_none() {
        reader.problem(bgm, Some(2), Some(1), "BGM02 document number is missing".into());
        return None;
    }
    Some(bgm)
}

/// Turns a document number into a canonical code, reporting one that has none.
fn code_of(reader: &mut Reader, seg: &Segment, element: usize, component: usize, what: &str) -> Option<String> {
    let raw = seg.value(element, component);
    let code = crate::to_code(raw);
    if code.is_none() {
        reader.problem(seg, Some(element), Some(component), format!("{what} {raw:?} has no letters or digits"));
    }
    code
}
