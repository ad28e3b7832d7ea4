//! The document formats Backroom reads and writes, turned into canonical events.
//!
//! Retailers' systems send what they already speak: GS1 EPCIS events from warehouses and stores,
//! UBL and Peppol documents, CII and Factur-X invoices from suppliers, X12 and EDIFACT
//! interchanges, ARTS POSLog from tills, and CSV exports. Each format lives in its own module
//! with pure functions from bytes to canonical events ([`backroom_model::NewEvent`]) and, where a
//! partner expects an answer, back to bytes (997 acknowledgements, 855 PO acknowledgements, Peppol
//! invoice responses). Nothing here does I/O.
//!
//! [`detect`] recognises a document by its content, never its file name; [`parse`] detects and
//! parses, then checks every event against the canonical model's business rules. A document is
//! accepted whole or rejected whole: every [`Problem`] found is reported with its
//! [`Location`] (line and column plus XPath or JSON path for XML and JSON, segment and element
//! for EDI, row and column for CSV) and, where the standard names one, the rule id.
//!
//! Formats, registered in [`FORMATS`]:
//!
//! - [`epcis`]: GS1 EPCIS 2.0 in JSON/JSON-LD and XML;
//! - [`ubl`]: UBL 2.1 invoices, credit notes, orders, despatch and receipt advices, with Peppol
//!   BIS Billing 3.0 / EN 16931 validation, and Peppol invoice responses out;
//! - [`cii`]: UN/CEFACT Cross Industry Invoices, and [`facturx`]: Factur-X / ZUGFeRD PDFs;
//! - [`x12`]: ANSI X12 850, 855, 856, 810, 846, with 997 and 855 out;
//! - [`edifact`]: UN/EDIFACT ORDERS, INVOIC, DESADV, RECADV;
//! - [`poslog`]: ARTS POSLog 2.x and 6.0;
//! - [`csv`]: CSV files mapped by a TOML mapping file (chosen by the caller, never detected).

use std::collections::HashMap;
use std::fmt;

use backroom_model::{FieldError, NewEvent, validate_event};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

pub mod cii;
pub mod csv;
pub mod edifact;
pub mod en16931;
pub mod epcis;
pub mod facturx;
pub mod peppol;
pub mod poslog;
mod problem;
pub mod ubl;
pub mod x12;
pub mod xml;

pub use problem::{Lines, Location, Problem};

/// A document format Backroom reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// GS1 EPCIS 2.0, JSON or JSON-LD.
    EpcisJson,
    /// GS1 EPCIS 2.0 (or 1.2), XML.
    EpcisXml,
    /// OASIS UBL 2.1 (Peppol BIS documents included).
    Ubl,
    /// UN/CEFACT Cross Industry Invoice.
    Cii,
    /// A Factur-X / ZUGFeRD PDF with its embedded CII invoice.
    FacturX,
    /// An ANSI X12 interchange.
    X12,
    /// A UN/EDIFACT interchange.
    Edifact,
    /// An ARTS POSLog document.
    PosLog,
    /// CSV with a mapping file.
    Csv,
}

impl Format {
    /// The format's name as shown to people and in the API (`ubl`, `x12`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::EpcisJson => "epcis_json",
            Format::EpcisXml => "epcis_xml",
            Format::Ubl => "ubl",
            Format::Cii => "cii",
            Format::FacturX => "factur_x",
            Format::X12 => "x12",
            Format::Edifact => "edifact",
            Format::PosLog => "poslog",
            Format::Csv => "csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a parser needs to know beyond the bytes. Everything a pure function cannot find out
/// by itself — the time, the stores' time zones, the control numbers of replies — comes from here.
#[derive(Clone, Debug)]
pub struct Context {
    /// The moment the document is received; stamped on replies (997 dates, response dates).
    pub now: DateTime<Utc>,
    /// The source to record on events, overriding the one a format derives from the document.
    pub source: Option<String>,
    /// The time zone of local times without an offset when the location is not in `time_zones`.
    pub default_time_zone: Tz,
    /// Each location's time zone, by location code (POSLog local times get their store's zone).
    pub time_zones: HashMap<String, Tz>,
    /// The control number for the next reply interchange (ISA13/GS06 of a 997, UNB 0020).
    pub control_number: u32,
    /// Backroom's own party id in replies (ISA06/GS02, UNB sender).
    pub sender_id: String,
}

impl Context {
    /// A context at `now` with UTC as the default time zone and no known locations.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            source: None,
            default_time_zone: Tz::UTC,
            time_zones: HashMap::new(),
            control_number: 1,
            sender_id: "BACKROOM".to_owned(),
        }
    }

    /// The time zone of a location.
    pub fn time_zone(&self, location: &str) -> Tz {
        self.time_zones.get(location).copied().unwrap_or(self.default_time_zone)
    }

    /// The source for events: the configured one, else the format's own.
    pub fn source_or(&self, derived: impl FnOnce() -> String) -> String {
        self.source.clone().unwrap_or_else(derived)
    }
}

/// A document Backroom answers with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reply {
    /// What it is (`x12_997`, `x12_855`, `peppol_invoice_response`).
    pub kind: String,
    /// Its media type (`application/edi-x12`, `application/xml`).
    pub media_type: String,
    /// The document.
    pub body: String,
}

/// What a document turned into.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The format it was read as.
    pub format: Format,
    /// The canonical events, in document order.
    pub events: Vec<NewEvent>,
    /// The documents to send back (an X12 997 for every functional group, for instance).
    pub replies: Vec<Reply>,
}

impl Parsed {
    /// The events as raw JSON (`{id, type, source, occurred_at, data}`), as the API and
    /// `backroom convert` show them.
    pub fn raw_events(&self) -> Vec<Value> {
        self.events.iter().map(raw_event).collect()
    }
}

/// An event as raw JSON, the shape [`validate_event`] reads.
pub fn raw_event(e: &NewEvent) -> Value {
    json!({
        "id": e.id,
        "type": e.event_type.as_str(),
        "source": e.source,
        "occurred_at": e.occurred_at,
        "data": e.payload.to_json(),
    })
}

/// Turns an identifier from a document (a party id, document number, location code) into a
/// canonical code: trimmed, every run of characters a code may not hold (spaces, slashes in
/// some schemes are kept) replaced by one `-`, at most 64 characters. `None` when nothing is left.
pub fn to_code(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut pending_dash = false;
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '#' | '+' | '-') {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            if out.is_empty() && !c.is_ascii_alphanumeric() {
                continue;
            }
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    out.truncate(64);
    (!out.is_empty()).then_some(out)
}

/// Why a document was rejected: every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FormatError {
    /// The format the document was read as; `None` when it matched none.
    pub format: Option<Format>,
    /// The problems, in document order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            Some(format) => write!(f, "invalid {format} document")?,
            None => f.write_str("unrecognised document")?,
        }
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// The first bytes of a document, looked at once for every detector.
pub struct Sniff<'a> {
    /// The document without a leading byte-order mark and whitespace.
    pub head: &'a [u8],
    /// The namespace URI and local name of the root element, when the document is XML.
    pub xml_root: Option<(String, String)>,
}

impl<'a> Sniff<'a> {
    /// Looks at a document.
    pub fn new(bytes: &'a [u8]) -> Self {
        let head = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
        let head = &head[start..];
        let xml_root = if head.starts_with(b"<") { xml_root(head) } else { None };
        Self { head, xml_root }
    }

    /// Whether the root element is `name` in a namespace starting with `namespace_prefix`.
    pub fn root_is(&self, namespace_prefix: &str, name: &str) -> bool {
        self.xml_root.as_ref().is_some_and(|(ns, n)| n == name && ns.starts_with(namespace_prefix))
    }
}

fn xml_root(bytes: &[u8]) -> Option<(String, String)> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::reader::NsReader::from_reader(bytes);
    loop {
        match reader.read_resolved_event() {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                let ns = match ns {
                    ResolveResult::Bound(n) => n.as_ref().to_owned(),
                    _ => String::new(),
                };
                return Some((ns, e.local_name().as_ref().to_owned()));
            }
            Ok((_, Event::Eof)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// A registered format: how to recognise it and how to read it.
pub struct Registered {
    /// The format.
    pub format: Format,
    /// Whether a document is in this format, from its first bytes.
    pub detect: fn(&Sniff<'_>) -> bool,
    /// Reads a document of this format into canonical events (and replies).
    pub parse: fn(&[u8], &Context) -> Result<Parsed, Vec<Problem>>,
}

/// Every format detected by content, in the order they are tried.
pub const FORMATS: &[Registered] = &[
    Registered { format: Format::FacturX, detect: facturx::detect, parse: facturx::parse },
    Registered { format: Format::X12, detect: x12::detect, parse: x12::parse },
    Registered { format: Format::Edifact, detect: edifact::detect, parse: edifact::parse },
    Registered { format: Format::EpcisJson, detect: epcis::detect_json, parse: epcis::parse_json },
    Registered { format: Format::EpcisXml, detect: epcis::detect_xml, parse: epcis::parse_xml },
    Registered { format: Format::Ubl, detect: ubl::detect, parse: ubl::parse },
    Registered { format: Format::Cii, detect: cii::detect, parse: cii::parse },
    Registered { format: Format::PosLog, detect: poslog::detect, parse: poslog::parse },
];

/// The format of a document, from its content.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let sniff = Sniff::new(bytes);
    FORMATS.iter().find(|r| (r.detect)(&sniff)).map(|r| r.format)
}

/// Detects a document's format, reads it, and checks every event it yields against the
/// canonical model. The document is accepted whole or rejected with every problem found.
pub fn parse(bytes: &[u8], cx: &Context) -> Result<Parsed, FormatError> {
    let sniff = Sniff::new(bytes);
    let Some(registered) = FORMATS.iter().find(|r| (r.detect)(&sniff)) else {
        return Err(FormatError {
            format: None,
            problems: vec![Problem::new(Location::Document, unrecognised(&sniff))],
        });
    };
    parse_as(registered, bytes, cx)
}

/// Reads a document as one format, skipping detection.
pub fn parse_format(format: Format, bytes: &[u8], cx: &Context) -> Result<Parsed, FormatError> {
    match FORMATS.iter().find(|r| r.format == format) {
        Some(registered) => parse_as(registered, bytes, cx),
        None => Err(FormatError {
            format: Some(format),
            problems: vec![Problem::new(Location::Document, format!("{format} documents need a mapping file"))],
        }),
    }
}

fn parse_as(registered: &Registered, bytes: &[u8], cx: &Context) -> Result<Parsed, FormatError> {
    let format = registered.format;
    let parsed = (registered.parse)(bytes, cx).map_err(|problems| FormatError { format: Some(format), problems })?;
    let mut problems = Vec::new();
    let mut events = Vec::with_capacity(parsed.events.len());
    for (i, e) in parsed.events.iter().enumerate() {
        match validate_event(&raw_event(e)) {
            Ok(checked) => events.push(checked),
            Err(errors) => problems.extend(errors.into_iter().map(|f| model_problem(i, e, f))),
        }
    }
    if problems.is_empty() {
        Ok(Parsed { events, ..parsed })
    } else {
        Err(FormatError { format: Some(format), problems })
    }
}

fn model_problem(index: usize, e: &NewEvent, f: FieldError) -> Problem {
    Problem::new(
        Location::Document,
        format!("canonical event {} ({} {}) {}: {}", index + 1, e.event_type, e.id, f.path, f.message),
    )
}

fn unrecognised(sniff: &Sniff<'_>) -> String {
    let accepted = "EPCIS 2.0 (JSON or XML), UBL 2.1, CII, Factur-X PDF, X12 (ISA…), EDIFACT (UNA/UNB…) or ARTS POSLog";
    match &sniff.xml_root {
        Some((ns, name)) => {
            format!("XML root element <{name}> in namespace {ns:?} is not a known document; expected {accepted}")
        }
        None if sniff.head.is_empty() => format!("the document is empty; expected {accepted}"),
        None => format!("the content is not a known document format; expected {accepted}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_what_a_code_may_hold() {
        assert_eq!(to_code(" DE 123 456 789 ").as_deref(), Some("DE-123-456-789"));
        assert_eq!(to_code("urn:epc:id:sgln:0614141.00777.0").as_deref(), Some("urn:epc:id:sgln:0614141.00777.0"));
        assert_eq!(to_code("--Ä--x").as_deref(), Some("x"));
        assert_eq!(to_code("  "), None);
        assert_eq!(to_code(&"9".repeat(80)).map(|c| c.len()), Some(64));
    }
}
