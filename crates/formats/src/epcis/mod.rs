//! GS1 EPCIS 2.0 (and 1.2-style XML) events → canonical events.
//!
//! # What is read
//!
//! - JSON / JSON-LD: an `EPCISDocument` (`epcisBody.eventList`), an `EPCISQueryDocument`
//!   (`epcisBody.queryResults.resultsBody.eventList`) or a bare event. `@context` is required;
//!   the standard EPCIS context is known from the copy of its prefixes and CBV term lists kept
//!   in [`vocabulary`](self) (nothing is fetched); object entries of `@context`, at document or
//!   event level, add prefixes for user extensions (`{"example": "http://ns.example.com/epcis/"}`).
//! - XML: `EPCISDocument` in `urn:epcglobal:epcis:xsd:2` or `:1` (`EPCISBody/EventList`),
//!   `EPCISQueryDocument`, or a bare event element. EPCIS 1.2 `extension` / `baseExtension`
//!   wrappers are looked through (event fields, `EventList/extension/TransformationEvent`).
//!   A plain `<!DOCTYPE x>` is ignored; one with an internal subset is refused.
//! - Event types: ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent,
//!   AssociationEvent, with instance EPCs (`epcList`, `childEPCs`, `inputEPCList`,
//!   `outputEPCList`), class quantities (`quantityList`, `childQuantityList`,
//!   `inputQuantityList`, `outputQuantityList`: `epcClass`, `quantity`, `uom`), sensor data,
//!   ILMD, persistent disposition, certification info and namespaced user extensions
//!   (tolerated, and part of the event hash).
//!
//! # What is rejected
//!
//! Every problem is reported with line, column and JSON path / XPath: no `@context` (JSON); an
//! event without `eventTime`, `eventTimeZoneOffset`, or (except TransformationEvent) `action`;
//! an ObjectEvent with neither `epcList` nor `quantityList`; an action other than ADD, OBSERVE,
//! DELETE; a malformed time or offset; a quantity that is not a number; an unknown field in a
//! quantity element; an unknown event field without a namespace (JSON) or an unknown
//! unqualified element (XML); XML event fields out of the schema's order; ILMD fields without
//! a namespace; a certification date that is not a date; source/destination entries without a
//! type. CBV vocabularies (business step, disposition, business transaction type,
//! source/destination type, error reason) are closed lists: the bare word (`receiving`), the
//! Web URI (`https://ref.gs1.org/cbv/BizStep-receiving`), the CURIE (`cbv:BizStep-receiving`)
//! and the 1.x URN (`urn:epcglobal:cbv:bizstep:receiving`) are accepted; an unknown bare word
//! or CBV URI is an error; any other full URI is an extension value, kept as written.
//!
//! # Identifiers
//!
//! SGTIN URNs (`urn:epc:id:sgtin:0614141.107346.2017`) and GS1 Digital Link URIs on any host
//! with `/01/<gtin>/21/<serial>` are trade-item instances; LGTIN class URNs, SGTIN patterns and
//! Digital Links `/01/<gtin>` or `/01/<gtin>/10/<lot>` are classes. Their GTIN-14 is computed
//! with its check digit. Instances of one GTIN are counted into a quantity in `EA`; class
//! quantities keep their `uom` (`EA` when none). Other identifiers (SSCC, GRAI, GIAI, SGLN, …)
//! are kept as written in `other_ids`. Locations are the read point or business location id
//! as written, made a code with [`crate::to_code`] (`urn:epc:id:sgln:0614141.00777.0`).
//!
//! # Mapping
//!
//! The canonical event id is the `eventID`, or the event hash ([`event_hash`]) when there is
//! none; `occurred_at` is `eventTime` in UTC (a time without offset takes
//! `eventTimeZoneOffset`); the source is [`crate::Context::source`], else `epcis/<sender>` from
//! the SBDH sender (XML) or `sender` (JSON), else `epcis`. "Location" below is `bizLocation`,
//! else `readPoint`. Stock-changing mappings need action ADD or OBSERVE, a location and at
//! least one trade item; otherwise the event becomes a goods observation.
//!
//! | EPCIS event | canonical |
//! |---|---|
//! | any event with `errorDeclaration` | `event.retracted`: retracted_event = eventID, declared_at, reason, corrective_events; id `<eventID>#retraction` |
//! | disposition `returned` with bizStep `receiving` | `inventory.adjusted` reason `returned`, positive deltas |
//! | bizStep `receiving` / `arriving` / `accepting` | `receipt.posted`: location, receipt_number = `recadv` transaction else event id, po_number = `po`, despatch_advice = `desadv`, supplier = source `owning_party`; a `mismatch_quantity` / `mismatch_class` / `mismatch_instance` disposition becomes every line's `reason` |
//! | bizStep `shipping` / `departing` with a destination | `despatch.advised`: despatch_number = `desadv` else event id, ship_from = bizLocation else source `location`, ship_to = destination `location` else `owning_party`, shipped_on = event day; without destination → `goods.observed` |
//! | bizStep `cycle_counting` / `stock_taking` | `inventory.counted` scope cycle / full, count_number = event id |
//! | bizStep `retail_selling` or disposition `retail_sold` | `inventory.adjusted` reason `sold`, negative deltas (tills' POSLog remains the demand source) |
//! | disposition `damaged` / `stolen` / `destroyed`, `disposed` / `expired` | `inventory.adjusted` reason damaged / theft / write_off / expired, negative deltas |
//! | disposition `returned` (other steps) | `inventory.adjusted` reason `returned`, positive deltas |
//! | bizStep `stocking` with a bizLocation | `inventory.moved`: location = bizLocation, to_area = readPoint when it differs |
//! | anything else | `goods.observed`: kind, action, bizStep and disposition (bare word or extension URI), parent, items, other ids, documents `<type>:<id>` from bizTransactionList |
//!
//! Trade items come from `epcList` + `quantityList` (object, transaction events),
//! `childEPCs` + `childQuantityList` (aggregation, association events; `parentID` is the
//! parent), `outputEPCList` + `outputQuantityList` (transformation events).

mod event;
mod hash;
mod identifiers;
mod json;
mod mapping;
mod vocabulary;
mod xml;

use crate::{Context, Parsed, Problem, Sniff, to_code};

/// Whether the document is EPCIS JSON: a JSON object naming an EPCIS document type, the EPCIS
/// JSON-LD context, an `epcisBody`, or an EPCIS event type.
pub fn detect_json(sniff: &Sniff<'_>) -> bool {
    if !sniff.head.starts_with(b"{") {
        return false;
    }
    let head = &sniff.head[..sniff.head.len().min(64 * 1024)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    has(b"\"EPCISDocument\"")
        || has(b"\"EPCISQueryDocument\"")
        || has(b"epcis-context")
        || has(b"\"epcisBody\"")
        || ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]
            .iter()
            .any(|k| has(format!("\"{k}\"").as_bytes()))
}

/// Whether the document is EPCIS XML: an `EPCISDocument` (EPCIS 2.0 or 1.x namespace), an
/// `EPCISQueryDocument`, an `EPCISMasterDataDocument` (refused when parsed), or a bare event.
pub fn detect_xml(sniff: &Sniff<'_>) -> bool {
    let Some((ns, name)) = &sniff.xml_root else { return false };
    (name == "EPCISDocument" && ns.starts_with("urn:epcglobal:epcis:xsd:"))
        || (name == "EPCISQueryDocument" && ns.starts_with("urn:epcglobal:epcis-query:xsd:"))
        || (name == "EPCISMasterDataDocument" && ns.starts_with("urn:epcglobal:epcis-masterdata:xsd:"))
        || ((ns.is_empty() || ns.starts_with("urn:epcglobal:epcis:xsd:"))
            && matches!(
                name.as_str(),
                "ObjectEvent" | "AggregationEvent" | "TransactionEvent" | "TransformationEvent" | "AssociationEvent"
            ))
}

fn source(cx: &Context, sender: Option<&str>) -> String {
    cx.source_or(|| match sender.and_then(to_code) {
        Some(s) => format!("epcis/{s}"),
        None => "epcis".to_owned(),
    })
}

/// Reads EPCIS JSON / JSON-LD into canonical events.
pub fn parse_json(bytes: &[u8], cx: &Context) -> Result<Parsed, Vec<Problem>> {
    let read = json::read(bytes)?;
    let source = source(cx, read.sender.as_deref());
    let events = read.events.iter().map(|e| mapping::map(e, &source)).collect();
    Ok(Parsed { format: crate::Format::EpcisJson, events, replies: Vec::new() })
}

/// Reads EPCIS XML into canonical events.
pub fn parse_xml(bytes: &[u8], cx: &Context) -> Result<Parsed, Vec<Problem>> {
    let read = xml::read(bytes)?;
    let source = source(cx, read.sender.as_deref());
    let events = read.events.iter().map(|e| mapping::map(e, &source)).collect();
    Ok(Parsed { format: crate::Format::EpcisXml, events, replies: Vec::new() })
}

/// The EPCIS Event Hash ID (`ni:///sha-256;<hex>?ver=CBV2.0`) of every event in an EPCIS
/// document (JSON or XML, told apart by the first character), in document order.
pub fn event_hash(bytes: &[u8]) -> Result<Vec<String>, Vec<Problem>> {
    Ok(events(bytes)?.iter().map(hash::hash_id).collect())
}

/// The pre-hash strings the event hashes are computed from, for comparing implementations.
pub fn event_pre_hash(bytes: &[u8]) -> Result<Vec<String>, Vec<Problem>> {
    Ok(events(bytes)?.iter().map(hash::pre_hash).collect())
}

fn events(bytes: &[u8]) -> Result<Vec<event::EpcisEvent>, Vec<Problem>> {
    let sniff = Sniff::new(bytes);
    if sniff.head.starts_with(b"<") { xml::read(bytes).map(|r| r.events) } else { json::read(bytes).map(|r| r.events) }
}
