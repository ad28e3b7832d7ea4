//! EPCIS XML: 2.0 documents (`urn:epcglobal:epcis:xsd:2`), 1.2-style documents with
//! `extension` / `baseExtension` wrappers (`urn:epcglobal:epcis:xsd:1`), query documents, and
//! bare events. Read with the crate's XML tree, so every problem has its line, column and XPath.

use rust_decimal::Decimal;

use super::event::{
    EpcisEvent, ErrorDeclaration, EventKind, Extension, Place, QuantityElement, SENSOR_METADATA_FIELDS,
    SENSOR_REPORT_FIELDS, SensorElement, SensorPart, Typed, normalise_number, parse_time, valid_offset,
};
use super::hash::sensor_value;
use super::vocabulary::{Term, Vocabulary, expand_curie};
use crate::Problem;
use crate::xml::{Document, ElementId};

const SBDH: &str = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What an XML document holds.
pub(crate) struct XmlRead {
    /// The events, in document order.
    pub(crate) events: Vec<EpcisEvent>,
    /// The sender in the standard business document header, when there is one.
    pub(crate) sender: Option<String>,
}

/// The element order of the EPCIS 2.0 schema for one event type.
fn sequence(kind: EventKind) -> Vec<&'static str> {
    let mut s =
        vec!["eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo"];
    s.extend_from_slice(match kind {
        EventKind::Object => &[
            "epcList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "quantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
        EventKind::Aggregation => &[
            "parentID",
            "childEPCs",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "childQuantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
        ],
        EventKind::Transaction => &[
            "bizTransactionList",
            "parentID",
            "epcList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "quantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
        ],
        EventKind::Transformation => &[
            "inputEPCList",
            "inputQuantityList",
            "outputEPCList",
            "outputQuantityList",
            "transformationID",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
        EventKind::Association => &[
            "parentID",
            "childEPCs",
            "childQuantityList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
        ],
    });
    s
}

/// Blanks a `<!DOCTYPE name>` without internal subset (some GS1 samples carry one), keeping
/// every offset; a DOCTYPE with an internal subset stays and is refused by the XML reader.
fn blank_plain_doctype(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let needle = b"<!DOCTYPE";
    if let Some(start) = bytes.windows(needle.len()).position(|w| w == needle)
        && let Some(len) = bytes.get(start..).and_then(|rest| rest.iter().position(|&b| b == b'>'))
        && let Some(decl) = bytes.get(start..start + len)
        && !decl.contains(&b'[')
        && let Some(slot) = out.get_mut(start..=start + len)
    {
        slot.iter_mut().for_each(|b| *b = b' ');
    }
    out
}

/// The namespace prefixes declared anywhere in the document (`xmlns:ext1="…"`), used to
/// expand CURIE values such as `ext1:summarising_discharge` the way JSON-LD expands them.
fn declared_prefixes(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("xmlns:") {
        rest = rest.get(i + 6..).unwrap_or("");
        let Some(eq) = rest.find('=') else { break };
        let prefix = rest.get(..eq).unwrap_or("").trim();
        let after = rest.get(eq + 1..).unwrap_or("").trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
        let value = after.get(1..).unwrap_or("");
        if let Some(end) = value.find(quote)
            && !prefix.is_empty()
            && prefix.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            out.push((prefix.to_owned(), value.get(..end).unwrap_or("").to_owned()));
        }
    }
    out
}

struct Reader<'d> {
    doc: &'d Document,
    problems: Vec<Problem>,
    prefixes: Vec<(String, String)>,
}

impl Reader<'_> {
    fn problem(&mut self, id: ElementId, message: String) {
        self.problems.push(self.doc.problem(id, message));
    }

    /// The namespace and local name; the EPCIS namespace counts as none, since some writers
    /// qualify event fields with it.
    fn name(&self, id: ElementId) -> (&str, &str) {
        let e = self.doc.get(id);
        let ns = if e.namespace.starts_with("urn:epcglobal:epcis:xsd:") { "" } else { e.namespace.as_str() };
        (ns, e.name.as_str())
    }

    fn is_nil(&self, id: ElementId) -> bool {
        self.doc.get(id).attributes.iter().any(|(ns, n, v)| ns == XSI && n == "nil" && v.trim() == "true")
    }

    fn text(&mut self, id: ElementId, what: &str) -> Option<String> {
        let t = self.doc.text(id);
        if t.is_empty() {
            self.problem(id, format!("{what} must not be empty"));
            None
        } else {
            Some(t.to_owned())
        }
    }

    fn children(&self, id: ElementId) -> Vec<ElementId> {
        self.doc.get(id).children.clone()
    }

    fn term(&mut self, id: ElementId, vocabulary: Vocabulary) -> Option<Term> {
        let raw = self.text(id, vocabulary.what())?;
        self.term_text(id, &raw, vocabulary)
    }

    fn term_text(&mut self, id: ElementId, raw: &str, vocabulary: Vocabulary) -> Option<Term> {
        match vocabulary.read(&expand_curie(raw, &self.prefixes)) {
            Ok(t) => Some(t),
            Err(message) => {
                self.problem(id, message);
                None
            }
        }
    }

    fn epcs(&mut self, id: ElementId) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.children(id) {
            match self.name(c) {
                ("", "epc") => out.extend(self.text(c, "an epc")),
                (ns, name) => {
                    let message = format!("unexpected element <{name}> in {ns:?}; an EPC list holds <epc> elements");
                    self.problem(c, message);
                }
            }
        }
        out
    }

    fn extension(&self, id: ElementId) -> Extension {
        let (ns, local) = self.name(id);
        let name = if ns.is_empty() { local.to_owned() } else { format!("{{{ns}}}{local}") };
        let kids = self.children(id);
        let numeric = self.doc.get(id).attributes.iter().any(|(ans, n, v)| {
            ans == XSI
                && n == "type"
                && ["integer", "int", "long", "short", "decimal", "double", "float"]
                    .iter()
                    .any(|t| v.rsplit(':').next() == Some(*t))
        });
        let text = self.doc.text(id);
        let value = (!text.is_empty() && kids.is_empty())
            .then(|| if numeric { normalise_number(text).unwrap_or_else(|| text.to_owned()) } else { text.to_owned() });
        Extension { name, value, children: kids.into_iter().map(|c| self.extension(c)).collect() }
    }

    /// Extensions inside `id`, looking through `extension` wrappers.
    fn extensions_in(&self, ids: &[ElementId], out: &mut Vec<Extension>) {
        for &c in ids {
            if self.name(c) == ("", "extension") {
                self.extensions_in(&self.children(c), out);
            } else {
                out.push(self.extension(c));
            }
        }
    }

    fn quantities(&mut self, id: ElementId) -> Vec<QuantityElement> {
        let mut out = Vec::new();
        for q in self.children(id) {
            if self.name(q) != ("", "quantityElement") {
                let (_, name) = self.name(q);
                let message = format!("unexpected element <{name}>; a quantity list holds <quantityElement>s");
                self.problem(q, message);
                continue;
            }
            let mut epc_class = None;
            let mut quantity = None;
            let mut uom = None;
            for f in self.children(q) {
                match self.name(f) {
                    ("", "epcClass") => epc_class = self.text(f, "epcClass"),
                    ("", "quantity") if self.is_nil(f) => {}
                    ("", "quantity") => {
                        if let Some(raw) = self.text(f, "quantity") {
                            match raw.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(&raw).ok()) {
                                Some(d) => quantity = Some(d),
                                None => {
                                    self.problem(f, format!("quantity {raw:?} is not a number (such as 150 or 12.5)"))
                                }
                            }
                        }
                    }
                    ("", "uom") => uom = self.text(f, "uom"),
                    (_, name) => {
                        let message =
                            format!("unknown element <{name}> in a quantity element; expected epcClass, quantity, uom");
                        self.problem(f, message);
                    }
                }
            }
            match epc_class {
                Some(epc_class) => out.push(QuantityElement { epc_class, quantity, uom }),
                None => self.problem(q, "a quantity element needs an <epcClass>".to_owned()),
            }
        }
        out
    }

    fn typed(&mut self, id: ElementId, child: &str, vocabulary: Vocabulary) -> Vec<Typed> {
        let mut out = Vec::new();
        for c in self.children(id) {
            if self.name(c) != ("", child) {
                let (_, name) = self.name(c);
                let message = format!("unexpected element <{name}>; expected <{child}>");
                self.problem(c, message);
                continue;
            }
            let kind = match self.doc.attribute(c, "type").map(str::to_owned) {
                Some(t) => self.term_text(c, &t, vocabulary),
                None if vocabulary == Vocabulary::SourceDestType => {
                    self.problem(
                        c,
                        format!("<{child}> needs a type attribute (owning_party, possessing_party or location)"),
                    );
                    None
                }
                None => None,
            };
            if let Some(id) = self.text(c, child) {
                out.push(Typed { id, kind });
            }
        }
        out
    }

    fn place(&mut self, id: ElementId) -> Option<Place> {
        let mut place = Place::default();
        let mut found = None;
        let mut ext = Vec::new();
        for c in self.children(id) {
            match self.name(c) {
                ("", "id") => found = self.text(c, "id"),
                ("", "extension") => ext.push(c),
                ("", name) => {
                    let message = format!("unknown element <{name}>; a location has an <id> and namespaced extensions");
                    self.problem(c, message);
                }
                _ => ext.push(c),
            }
        }
        self.extensions_in(&ext, &mut place.extensions);
        match found {
            Some(i) => {
                place.id = i;
                Some(place)
            }
            None => {
                self.problem(id, "a read point or business location needs an <id>".to_owned());
                None
            }
        }
    }

    fn sensor_part(&mut self, id: ElementId, fields: &[&str]) -> SensorPart {
        let mut part = SensorPart::default();
        for (ns, name, value) in self.doc.get(id).attributes.clone() {
            if ns.is_empty() && fields.contains(&name.as_str()) {
                match sensor_value(&name, &value, &self.prefixes) {
                    Ok(v) => part.fields.push((name, v)),
                    Err(message) => self.problem(id, message),
                }
            } else if !ns.is_empty() {
                part.extensions.push(Extension {
                    name: format!("{{{ns}}}{name}"),
                    value: Some(value.trim().to_owned()),
                    children: Vec::new(),
                });
            } else {
                self.problem(id, format!("unknown sensor attribute {name:?}; expected one of {}", fields.join(", ")));
            }
        }
        part.fields.sort_by_key(|(k, _)| fields.iter().position(|f| f == k));
        part
    }

    fn sensors(&mut self, id: ElementId) -> Vec<SensorElement> {
        let mut out = Vec::new();
        for s in self.children(id) {
            if self.name(s) != ("", "sensorElement") {
                self.problem(s, "a sensor element list holds <sensorElement>s".to_owned());
                continue;
            }
            let mut element = SensorElement::default();
            let mut ext = Vec::new();
            for c in self.children(s) {
                match self.name(c) {
                    ("", "sensorMetadata") => element.metadata = Some(self.sensor_part(c, SENSOR_METADATA_FIELDS)),
                    ("", "sensorReport") => {
                        let r = self.sensor_part(c, SENSOR_REPORT_FIELDS);
                        element.reports.push(r);
                    }
                    ("", "extension") => ext.push(c),
                    ("", name) => {
                        let message = format!("unknown element <{name}> in a sensor element");
                        self.problem(c, message);
                    }
                    _ => ext.push(c),
                }
            }
            self.extensions_in(&ext, &mut element.extensions);
            out.push(element);
        }
        out
    }

    fn error_declaration(&mut self, id: ElementId) -> Option<ErrorDeclaration> {
        let mut declared_at = None;
        let mut reason = None;
        let mut corrective = Vec::new();
        for c in self.children(id) {
            match self.name(c) {
                ("", "declarationTime") => {
                    if let Some(raw) = self.text(c, "declarationTime") {
                        declared_at = parse_time(&raw, None);
                        if declared_at.is_none() {
                            self.problem(c, format!("declarationTime {raw:?} is not a date-time with an offset"));
                        }
                    }
                }
                ("", "reason") => reason = self.term(c, Vocabulary::ErrorReason),
                ("", "correctiveEventIDs") => {
                    for e in self.children(c) {
                        corrective.extend(self.text(e, "a corrective event id"));
                    }
                }
                ("", "extension") => {}
                ("", name) => {
                    let message = format!("unknown element <{name}> in errorDeclaration");
                    self.problem(c, message);
                }
                _ => {}
            }
        }
        if declared_at.is_none() && self.doc.child(id, "", "declarationTime").is_none() {
            self.problem(id, "an errorDeclaration needs its <declarationTime>".to_owned());
        }
        Some(ErrorDeclaration { declared_at: declared_at?, reason, corrective })
    }

    fn event(&mut self, id: ElementId, kind: EventKind) -> Option<EpcisEvent> {
        let before = self.problems.len();
        let mut e = EpcisEvent::new(kind, self.doc.location(id));
        let order = sequence(kind);
        // Direct children are checked against the schema's order; `extension`/`baseExtension`
        // wrappers (EPCIS 1.2) are looked through.
        let mut fields: Vec<(ElementId, bool)> = Vec::new();
        let mut last: Option<(usize, ElementId)> = None;
        for c in self.children(id) {
            match self.name(c) {
                ("", "extension" | "baseExtension") => {
                    fields.extend(self.children(c).into_iter().map(|g| (g, false)));
                }
                ("", name) => {
                    if let Some(rank) = order.iter().position(|n| *n == name) {
                        if let Some((prev, prev_id)) = last
                            && rank < prev
                        {
                            let prev_name = self.doc.get(prev_id).name.clone();
                            let message = format!(
                                "element <{name}> is out of order: the EPCIS schema puts it before <{prev_name}> (order: {})",
                                order.join(", ")
                            );
                            self.problem(c, message);
                        }
                        last = Some((rank, c));
                    }
                    fields.push((c, true));
                }
                _ => fields.push((c, true)),
            }
        }
        let offset = self.doc.text_at(id, &[("", "eventTimeZoneOffset")]).map(str::to_owned);
        let mut time_ok = false;
        let mut ext = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (c, _) in fields {
            let (ns, name) = self.name(c);
            if !ns.is_empty() {
                ext.push(c);
                continue;
            }
            let name = name.to_owned();
            seen.push(name.clone());
            match name.as_str() {
                "recordTime" | "certificationInfo" => {}
                "eventTime" => {
                    if let Some(raw) = self.text(c, "eventTime") {
                        match parse_time(&raw, offset.as_deref()) {
                            Some(t) => {
                                e.event_time = t;
                                time_ok = true;
                            }
                            None => self.problem(
                                c,
                                format!("eventTime {raw:?} is not a date-time such as 2005-04-03T20:33:31.116-06:00"),
                            ),
                        }
                    }
                }
                "eventTimeZoneOffset" => {
                    if let Some(raw) = self.text(c, "eventTimeZoneOffset") {
                        if valid_offset(&raw) {
                            e.time_zone_offset = raw;
                        } else {
                            self.problem(c, format!("eventTimeZoneOffset {raw:?} is not an offset such as -06:00"));
                        }
                    }
                }
                "eventID" => e.event_id = self.text(c, "eventID"),
                "errorDeclaration" => e.error_declaration = self.error_declaration(c),
                "epcList" => e.epcs = self.epcs(c),
                "childEPCs" => e.child_epcs = self.epcs(c),
                "inputEPCList" => e.input_epcs = self.epcs(c),
                "outputEPCList" => e.output_epcs = self.epcs(c),
                "parentID" => e.parent = self.text(c, "parentID"),
                "quantityList" => e.quantities = self.quantities(c),
                "childQuantityList" => e.child_quantities = self.quantities(c),
                "inputQuantityList" => e.input_quantities = self.quantities(c),
                "outputQuantityList" => e.output_quantities = self.quantities(c),
                "action" => {
                    if let Some(a) = self.text(c, "action") {
                        if matches!(a.as_str(), "ADD" | "OBSERVE" | "DELETE") {
                            e.action = Some(a);
                        } else {
                            self.problem(c, format!("action {a:?} is not ADD, OBSERVE or DELETE"));
                        }
                    }
                }
                "transformationID" => e.transformation_id = self.text(c, "transformationID"),
                "bizStep" => e.biz_step = self.term(c, Vocabulary::BizStep),
                "disposition" => e.disposition = self.term(c, Vocabulary::Disposition),
                "persistentDisposition" => {
                    for p in self.children(c) {
                        let value = self.term(p, Vocabulary::Disposition);
                        match self.name(p) {
                            ("", "set") => e.persistent_set.extend(value),
                            ("", "unset") => e.persistent_unset.extend(value),
                            _ => self.problem(p, "persistentDisposition holds <set> and <unset>".to_owned()),
                        }
                    }
                }
                "readPoint" => e.read_point = self.place(c),
                "bizLocation" => e.biz_location = self.place(c),
                "bizTransactionList" => {
                    e.biz_transactions = self.typed(c, "bizTransaction", Vocabulary::BizTransactionType);
                }
                "sourceList" => e.sources = self.typed(c, "source", Vocabulary::SourceDestType),
                "destinationList" => e.destinations = self.typed(c, "destination", Vocabulary::SourceDestType),
                "sensorElementList" => e.sensors = self.sensors(c),
                "ilmd" => {
                    let kids = self.children(c);
                    for &k in &kids {
                        if let ("", n) = self.name(k)
                            && n != "extension"
                        {
                            let message = format!(
                                "ILMD element <{n}> has no namespace; ILMD fields need a namespace of their own"
                            );
                            self.problem(k, message);
                        }
                    }
                    let mut ilmd = Vec::new();
                    self.extensions_in(&kids, &mut ilmd);
                    e.ilmd = ilmd;
                }
                other => {
                    let message = format!(
                        "unknown element <{other}> in {}; user extension elements need a namespace of their own",
                        kind.name()
                    );
                    self.problem(c, message);
                }
            }
        }
        self.extensions_in(&ext, &mut e.extensions);
        let has = |n: &str| seen.iter().any(|s| s == n);
        if !has("eventTime") {
            self.problem(id, format!("the {} has no <eventTime>", kind.name()));
        }
        if !has("eventTimeZoneOffset") {
            self.problem(id, format!("the {} has no <eventTimeZoneOffset> (such as +01:00)", kind.name()));
        }
        if kind.has_action() && !has("action") {
            self.problem(id, format!("the {} has no <action> (ADD, OBSERVE or DELETE)", kind.name()));
        }
        if kind == EventKind::Object && !has("epcList") && !has("quantityList") {
            self.problem(
                id,
                "an ObjectEvent names its goods in <epcList> or <quantityList>; it has neither".to_owned(),
            );
        }
        (self.problems.len() == before && time_ok).then_some(e)
    }

    fn event_list(&mut self, list: ElementId, events: &mut Vec<EpcisEvent>) {
        for c in self.children(list) {
            match self.name(c) {
                ("", "extension") => self.event_list(c, events),
                ("", name) if EventKind::from_name(name).is_some() => {
                    if let Some(kind) = EventKind::from_name(name)
                        && let Some(e) = self.event(c, kind)
                    {
                        events.push(e);
                    }
                }
                (_, name) => {
                    let message = format!(
                        "<{name}> is not an EPCIS 2.0 event; expected ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent"
                    );
                    self.problem(c, message);
                }
            }
        }
    }

    fn find(&self, id: ElementId, name: &str) -> Option<ElementId> {
        if self.doc.get(id).name == name {
            return Some(id);
        }
        self.doc.get(id).children.iter().find_map(|&c| self.find(c, name))
    }
}

/// Reads an EPCIS XML document or bare event.
pub(crate) fn read(bytes: &[u8]) -> Result<XmlRead, Vec<Problem>> {
    let cleaned = blank_plain_doctype(bytes);
    let doc = Document::parse(&cleaned).map_err(|p| vec![p])?;
    let mut r = Reader { doc: &doc, problems: Vec::new(), prefixes: declared_prefixes(&cleaned) };
    let root = doc.root();
    let (ns, name) = (doc.get(root).namespace.clone(), doc.get(root).name.clone());
    let mut events = Vec::new();
    let sender = doc
        .child(root, "", "EPCISHeader")
        .and_then(|h| {
            doc.descend(h, &[(SBDH, "StandardBusinessDocumentHeader"), (SBDH, "Sender"), (SBDH, "Identifier")])
        })
        .map(|s| doc.text(s).to_owned())
        .filter(|s| !s.is_empty());
    match name.as_str() {
        "EPCISDocument" => match doc.descend(root, &[("", "EPCISBody"), ("", "EventList")]) {
            Some(list) => r.event_list(list, &mut events),
            None => r.problem(root, "the document has no EPCISBody/EventList".to_owned()),
        },
        "EPCISQueryDocument" => match r.find(root, "EventList") {
            Some(list) => r.event_list(list, &mut events),
            None => r.problem(root, "the query document has no EventList".to_owned()),
        },
        "EPCISMasterDataDocument" => r.problem(
            root,
            "an EPCIS master data document carries vocabulary, not events; send an EPCISDocument".to_owned(),
        ),
        other => match EventKind::from_name(other) {
            Some(kind) if ns.is_empty() || ns.starts_with("urn:epcglobal:epcis:xsd:") => {
                events.extend(r.event(root, kind));
            }
            _ => r.problem(root, format!("<{other}> is not an EPCIS document or event")),
        },
    }
    if r.problems.is_empty() { Ok(XmlRead { events, sender }) } else { Err(r.problems) }
}
