//! ANSI X12 interchanges: 850, 855, 856, 810 and 846 in, 997 and 855 out.
//!
//! # Syntax
//!
//! The delimiters come from the ISA header: the element separator is the byte after `ISA`, the
//! repetition separator ISA11 (from version 00402 on; `U` before), the component separator ISA16
//! and the segment terminator the byte after ISA16. ISA fields are found by counting separators,
//! so unpadded headers are read. Line breaks, tabs and spaces between segments are skipped
//! (pretty-printed files), a final segment without terminator is accepted, an empty ISA16
//! followed by a line break (`…*T*~⏎`, the `~` ending every line) is read as `~` terminating
//! segments without component separator, ISA11 `U` in 00402+ means no repetition separator,
//! a line break inside
//! a segment is reported (a terminator is probably missing). A file may hold several
//! interchanges, each with its own delimiters. Versions 004xxx and 005xxx (GS08, VICS and UCS
//! variants included) are read.
//!
//! # Envelopes
//!
//! IEA01 must count the groups and IEA02 equal ISA13; GE01 must count the sets and GE02 equal
//! GS06; SE01 must count the segments from ST to SE and SE02 equal ST02; ST02 must be unique in
//! its group and GS01 must be the group of the set (PO, PR, SH, IN, IB, FA). Missing trailers are
//! reported at the position where they were due. Problems are located by segment position in the
//! document (1-based, counted across interchanges when a file holds several), tag and element.
//!
//! # Events
//!
//! One event per transaction set, id `<ISA06>/<ISA13>/<GS06>/<ST02>` (a re-sent file gives the same
//! ids; a set repeated identically in one file is kept once), source `x12/<ISA06>` unless the
//! context sets one, occurred at the document's date (and time when it has one) in the time zone
//! of its location. Codes go through [`crate::to_code`]. Units (element 355) keep their code when
//! it is also a Rec 20 code and are mapped otherwise (CA→CS, DZ→DZN, LB→LBR, PC→H87, UN→EA…, see
//! `codes::UNITS`); an empty unit is EA. Items come from qualifier/value pairs: the GTIN is
//! the first valid one under UP, UK or EN; the SKU is the buyer's number (SK, BP, IN,
//! CB), else the supplier's (VN, VP, VA, ST style, MG, MF), else an invalid GTIN value kept verbatim.
//! Parties fall back to the group's sender (GS02) or receiver (GS03) when no N1 loop names them.
//!
//! - **850 → `po.created`** ([`backroom_model::PurchaseOrder`]): BEG03 po_number, BEG05
//!   ordered_on; BEG01 must be 00, 05, 06 or 07 (cancellations and changes are rejected). Ship-to
//!   N1*ST N104, else N1*BY N104. Supplier N1*SE/VN/SU N104, else GS03 (an 850 travels from the
//!   buyer to the supplier, so the supplier is the receiver, not the sender). Currency CUR02, else
//!   USD (all CUR segments must agree). expected_on: header DTM*002, else the earliest DTM*002 of
//!   the lines. buyer: PER*BD PER02. Lines: PO101 line (else the position), PO102 quantity,
//!   PO103 unit, PO104 unit price (÷100 when PO105 is HP, ÷1000 for TP), else the loop's CTP03,
//!   else 0 (the order leaves the price to the catalogue), PO106… item pairs.
//! - **855 → `po.acknowledged`** ([`backroom_model::PurchaseOrderResponse`]): BAK03 po_number,
//!   BAK02 status (AD, AK, AP, AT, NA accepted; AC, AE, RO changed; RD, RF, RJ, RN rejected),
//!   BAK09 responded_on, else GS04. Supplier N1*SU/SE/VN N104, else GS02. Note: the MSG texts
//!   before the first line. Lines per PO1: PO101 po_line, PO106… item, PO104 unit price (CUR02
//!   currency, else USD); ACK01 status (IA, AC, AR accepted; ID, IR, R1–R4 rejected; others
//!   changed; several ACKs with different statuses: changed), quantity the sum of ACK02 of the
//!   ACKs not rejected (else PO102), ACK03 unit; delivery_on ACK05 when ACK04 is 002, 017, 067
//!   or 069. A line without ACK takes the order's status.
//! - **856 → `despatch.advised`** ([`backroom_model::DespatchAdvice`]): BSN02 despatch_number (BSN01
//!   01 cancellation rejected); HL levels are read in order, whatever the nesting (S/O/P/T/I).
//!   DTM*011 shipped_on, DTM*017/067 expected_on, N1*ST N104 ship_to (else GS03), N1*SF N104
//!   ship_from, N1*SU/SE/VN N104 supplier (else GS02), PRF01 po_number when every order level
//!   names the same one (several purchase orders leave it empty: the model has no line-level
//!   order). Lines: each LIN (item pairs from LIN02) with the next SN1 (SN102 quantity, SN103
//!   unit); line is the position, po_line LIN01 when numeric.
//! - **810 → `invoice.received`** ([`backroom_model::SupplierInvoice`]): BIG01 issued_on, BIG02
//!   invoice_number, BIG04 po_number, BIG07 CR or CN a credit note (REF*OI credited invoice),
//!   amounts as written. Supplier N1*SE/VN/SU N104, else GS02. Currency CUR02, else USD. due_on
//!   ITD06, else BIG01 + ITD07 days. Lines: IT101 line (else the position), IT102 quantity,
//!   IT103 unit, IT104 unit price, IT106… item pairs, net amount quantity × price, tax rate the sum
//!   of the loop's TXI03 percentages. total: TDS01 (two implied decimals). tax_total: the TXI02
//!   after TDS, else the TXI02 of the lines, else SAC*C*H850 SAC05, else 0. A line naming no item
//!   (`IT1**1*ZZ*359.96**PO*…`, a whole order billed as one line) is rejected.
//! - **846 → `inventory.advised`** ([`backroom_model::InventoryAdvice`]): BIA03 advice_number,
//!   BIA04 as_of (BIA05 time). advised_by N1*SU/VN/SE/DS N104, else GS02; location N1*WH/SF N104.
//!   Lines per LIN: item pairs, available QTY*33 (else QTY*17 on hand), on_order QTY*63, units QTY03.
//! - **997**: a group of acknowledgements yields no event and no reply (acknowledgements are never
//!   acknowledged). An interchange holding only 997s is rejected, pointing to [`read_997`]: an
//!   accepted document without events would hide that a partner accepted or rejected something.
//! - Other sets (832, 820, 860…) reject the interchange, naming the set and the supported ones.
//!
//! # Replies
//!
//! An accepted document gets one 997 per functional group (other than 997 groups) in
//! [`crate::Parsed::replies`] (kind `x12_997`): its own interchange from [`Context::sender_id`] to
//! the inbound ISA06/GS02, with ISA13 = GS06 = ST02 = [`Context::control_number`] (plus one for
//! each further reply), dates from [`Context::now`], the inbound version and usage indicator. A
//! rejected document gets no reply from [`parse`]; [`acknowledge`] builds the 997s saying which
//! sets and groups were rejected and why (AK3 segment notes, AK5/AK9 codes).
//! [`write_997`]/[`read_997`] and [`write_855`] write and read these documents.

mod ack997;
mod codes;
mod envelope;
mod syntax;
mod ts810;
mod ts846;
mod ts850;
mod ts855;
mod ts856;
mod values;
mod write;

pub use ack997::{AckStatus, ElementNote, FunctionalAck, SegmentNote, SetAck, read_997};
pub use write::{Envelope, write_855, write_997};

use backroom_model::NewEvent;
use chrono::NaiveDate;

use crate::{Context, Format, Location, Parsed, Problem, Reply, Sniff, to_code};
use envelope::{GROUP_OF_SET, Group, Interchange, TransactionSet};
use syntax::Segment;

/// Whether the document is an X12 interchange: it starts with `ISA`.
pub fn detect(sniff: &Sniff<'_>) -> bool {
    sniff.head.starts_with(b"ISA")
}

/// Reads an X12 document into canonical events and a 997 per functional group.
pub fn parse(bytes: &[u8], cx: &Context) -> Result<Parsed, Vec<Problem>> {
    let outcome = read_document(bytes, cx)?;
    if !outcome.problems.is_empty() {
        return Err(outcome.problems);
    }
    if outcome.groups.is_empty() {
        return Err(vec![Problem::new(
            Location::Document,
            "the interchange holds no functional group (GS … GE), so nothing to read".to_owned(),
        )]);
    }
    if outcome.groups.iter().all(|g| g.acknowledgements) {
        return Err(vec![Problem::new(
            Location::Document,
            "the interchange holds only 997 functional acknowledgements, which carry no event: a 997 is an acknowledgement; Backroom records acknowledgements of its own interchanges elsewhere (read them with x12::read_997)".to_owned(),
        )]);
    }
    let replies =
        outcome.groups.iter().filter(|g| !g.acknowledgements).enumerate().map(|(k, g)| g.reply(cx, k, false)).collect();
    Ok(Parsed { format: Format::X12, events: outcome.events, replies })
}

/// The 997s for a document, whether [`parse`] accepts it or not: for a rejected document every
/// group is rejected (Backroom ingests a document whole or not at all), with AK3 notes for the
/// segments in error and AK5/AK9 codes for envelope errors. Fails only when not even the
/// interchange headers can be read.
pub fn acknowledge(bytes: &[u8], cx: &Context) -> Result<Vec<Reply>, Vec<Problem>> {
    let outcome = read_document(bytes, cx)?;
    let rejected = !outcome.problems.is_empty();
    Ok(outcome
        .groups
        .iter()
        .filter(|g| !g.acknowledgements)
        .enumerate()
        .map(|(k, g)| g.reply(cx, k, rejected))
        .collect())
}

/// What a transaction set reader needs: the set, its envelopes and the context.
pub(crate) struct Input<'a> {
    /// The set.
    pub set: &'a TransactionSet<'a>,
    /// The GS header of its group.
    pub group: &'a Segment,
    /// The ISA header of its interchange.
    pub isa: &'a Segment,
    /// The parsing context.
    pub cx: &'a Context,
}

impl Input<'_> {
    fn sender_code(&self) -> String {
        to_code(self.isa.el(6)).unwrap_or_else(|| "x12".to_owned())
    }

    /// The event id: sender, interchange, group and set control numbers.
    pub fn event_id(&self) -> String {
        format!("{}/{}/{}/{}", self.sender_code(), self.isa.el(13), self.group.el(6), self.set.control())
    }

    /// The event source: the context's, else `x12/<ISA06>`.
    pub fn source(&self) -> String {
        self.cx.source_or(|| format!("x12/{}", self.sender_code()))
    }

    /// GS02, the application sender, as a code.
    pub fn sender(&self) -> Option<String> {
        to_code(self.group.el(2))
    }

    /// The group's date (GS04).
    pub fn group_date(&self) -> Option<NaiveDate> {
        values::parse_date(self.group.el(4))
    }
}

/// Keeps the value of a result, or records its problem.
pub(crate) fn take<T>(r: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

/// Splits a set body into the header (before the first `start` segment), the loops (each from a
/// `start` segment to the next one) and the summary (from the first `summary` tag after a loop).
pub(crate) fn loops<'a>(
    body: &'a [Segment],
    start: &str,
    summary: &[&str],
) -> (&'a [Segment], Vec<&'a [Segment]>, &'a [Segment]) {
    let first = body.iter().position(|s| s.tag == start).unwrap_or(body.len());
    let (header, rest) = body.split_at(first);
    let end = rest.iter().position(|s| summary.contains(&s.tag.as_str())).unwrap_or(rest.len());
    let (items, tail) = rest.split_at(end);
    let mut loops = Vec::new();
    let mut from = 0;
    for (i, s) in items.iter().enumerate().skip(1) {
        if s.tag == start {
            loops.extend(items.get(from..i));
            from = i;
        }
    }
    if !items.is_empty() {
        loops.extend(items.get(from..));
    }
    (header, loops, tail)
}

/// The currency of a set: CUR02 wherever it appears (all must agree), else USD.
pub(crate) fn currency_of(body: &[Segment]) -> Result<String, Problem> {
    let mut found: Option<(String, &Segment)> = None;
    for cur in body.iter().filter(|s| s.tag == "CUR") {
        let c = values::currency(cur, 2)?;
        match &found {
            Some((first, at)) if *first != c => {
                return Err(cur.problem(
                    2,
                    format!("currency {c} differs from {first} in segment {}: one document has one currency", at.index),
                ));
            }
            Some(_) => {}
            None => found = Some((c, cur)),
        }
    }
    Ok(found.map_or_else(|| "USD".to_owned(), |(c, _)| c))
}

/// The dates of the DTM segments with qualifier `qualifier` (DTM01) among `segs`.
pub(crate) fn dates(segs: &[Segment], qualifier: &str, problems: &mut Vec<Problem>) -> Vec<NaiveDate> {
    segs.iter()
        .filter(|s| s.tag == "DTM" && s.el(1) == qualifier)
        .filter_map(|s| take(values::date(s, 2, &format!("DTM02 (date {qualifier})")), problems).flatten())
        .collect()
}

/// A functional group as read: its acknowledgement and where to send it.
struct GroupOutcome {
    ack: FunctionalAck,
    acknowledgements: bool,
    isa: Vec<String>,
    gs: Vec<String>,
}

impl GroupOutcome {
    fn reply(&self, cx: &Context, k: usize, rejected: bool) -> Reply {
        let mut ack = self.ack.clone();
        if rejected {
            ack.reject_all();
        }
        let el = |v: &[String], n: usize| v.get(n - 1).map_or(String::new(), |s| s.trim().to_owned());
        let own_qualifier = if el(&self.isa, 8) == cx.sender_id { el(&self.isa, 7) } else { "ZZ".to_owned() };
        let envelope = Envelope {
            sender_qualifier: own_qualifier,
            sender_id: cx.sender_id.clone(),
            sender_application: cx.sender_id.clone(),
            receiver_qualifier: el(&self.isa, 5),
            receiver_id: el(&self.isa, 6),
            receiver_application: el(&self.gs, 2),
            control_number: cx.control_number.wrapping_add(u32::try_from(k).unwrap_or(0)),
            version: el(&self.gs, 8),
            test: el(&self.isa, 15) == "T",
            at: cx.now,
        };
        Reply {
            kind: "x12_997".to_owned(),
            media_type: "application/edi-x12".to_owned(),
            body: write_997(&ack, &envelope),
        }
    }
}

/// A document as read: every problem, the events, and each group's acknowledgement.
struct Outcome {
    problems: Vec<Problem>,
    events: Vec<NewEvent>,
    groups: Vec<GroupOutcome>,
}

fn read_document(bytes: &[u8], cx: &Context) -> Result<Outcome, Vec<Problem>> {
    let (segments, mut problems) = syntax::segments(bytes)?;
    let (interchanges, stray) = envelope::interchanges(&segments);
    problems.extend(stray);
    let mut events: Vec<NewEvent> = Vec::new();
    let mut groups = Vec::new();
    for ic in &interchanges {
        problems.extend(ic.problems.iter().cloned());
        for group in &ic.groups {
            let (outcome, group_problems) = read_group(ic, group, cx, &mut events);
            problems.extend(group_problems);
            groups.push(outcome);
        }
    }
    problems.sort_by_key(|p| match &p.location {
        Location::Segment { index, .. } => *index,
        _ => 0,
    });
    Ok(Outcome { problems, events, groups })
}

fn read_group(
    ic: &Interchange<'_>,
    group: &Group<'_>,
    cx: &Context,
    events: &mut Vec<NewEvent>,
) -> (GroupOutcome, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut set_acks = Vec::new();
    let mut acknowledgements = !group.sets.is_empty();
    for set in &group.sets {
        let mut set_problems = set.problems.clone();
        let mut codes: Vec<&'static str> = set.codes.clone();
        let code = set.code();
        acknowledgements &= code == "997";
        match GROUP_OF_SET.iter().find(|(c, _)| *c == code) {
            Some((_, functional)) if *functional != group.gs.el(1) => {
                set_problems.push(set.st.problem(
                    1,
                    format!(
                        "transaction set {code} belongs in a functional group {functional}, but GS01 of group {} is {:?}",
                        group.gs.el(6),
                        group.gs.el(1)
                    ),
                ));
                codes.push("6");
            }
            Some(_) => {}
            None => {
                set_problems.push(set.st.problem(
                    1,
                    format!(
                        "transaction set {:?} is not supported: Backroom reads 850 (purchase order), 855 (PO acknowledgement), 856 (ship notice), 810 (invoice) and 846 (inventory advice), and 997 acknowledgements through read_997",
                        syntax::shorten(code)
                    ),
                ));
                codes.push("1");
            }
        }
        let input = Input { set, group: group.gs, isa: ic.isa, cx };
        let event = match code {
            "850" => Some(ts850::read(&input)),
            "855" => Some(ts855::read(&input)),
            "856" => Some(ts856::read(&input)),
            "810" => Some(ts810::read(&input)),
            "846" => Some(ts846::read(&input)),
            "997" => {
                if let Err(p) = ack997::read_set(set.body) {
                    set_problems.extend(p);
                }
                None
            }
            _ => None,
        };
        match event {
            Some(Ok(e)) => match events.iter().find(|x| x.id == e.id) {
                Some(x) if x.payload == e.payload => {}
                Some(_) => set_problems.push(set.st.problem(
                    2,
                    format!(
                        "event id {} is already taken by a different document in this file: interchange, group and set control numbers were reused",
                        e.id
                    ),
                )),
                None => events.push(e),
            },
            Some(Err(p)) => set_problems.extend(p),
            None => {}
        }
        if !set_problems.is_empty() && codes.is_empty() {
            codes.push("5");
        }
        set_acks.push(ack997::set_ack(set, &set_problems, codes));
        problems.extend(set_problems);
    }
    problems.extend(group.problems.iter().cloned());
    let ack = ack997::group_ack(group, set_acks);
    let outcome = GroupOutcome { ack, acknowledgements, isa: ic.isa.elements.clone(), gs: group.gs.elements.clone() };
    (outcome, problems)
}
