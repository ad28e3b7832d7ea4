//! EPCIS 2.0 JSON / JSON-LD: documents (`EPCISDocument`, `EPCISQueryDocument`) and bare events.
//!
//! `serde_json` reads the text; problems are placed by walking the text again along the JSON
//! path, so every problem has its line, column and path (`$.epcisBody.eventList[1].action`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::event::{
    EpcisEvent, ErrorDeclaration, EventKind, Extension, Place, QuantityElement, SENSOR_METADATA_FIELDS,
    SENSOR_REPORT_FIELDS, SensorElement, SensorPart, Typed, normalise_number, parse_time, valid_offset,
};
use super::hash::sensor_value;
use super::vocabulary::{Term, Vocabulary, expand_curie};
use crate::{Lines, Location, Problem};

/// One step of a JSON path.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A JSON path, rendered as `$.a.b[2]` or `$['example:x']`.
#[derive(Clone, Debug, Default)]
struct JPath(Vec<Seg>);

impl JPath {
    fn key(&self, k: &str) -> JPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    fn index(&self, i: usize) -> JPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    fn render(&self) -> String {
        let mut s = String::from("$");
        for seg in &self.0 {
            match seg {
                Seg::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    s.push('.');
                    s.push_str(k);
                }
                Seg::Key(k) => s.push_str(&format!("[{k:?}]")),
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

/// Finds the byte offset where the value at `path` starts.
fn locate(text: &[u8], path: &[Seg]) -> Option<usize> {
    let mut pos = skip_ws(text, 0);
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if text.get(pos) != Some(&b'{') {
                    return None;
                }
                pos += 1;
                loop {
                    pos = skip_ws(text, pos);
                    if text.get(pos) != Some(&b'"') {
                        return None;
                    }
                    let end = skip_string(text, pos)?;
                    let raw = text.get(pos + 1..end - 1)?;
                    let key: String = serde_json::from_slice::<String>(text.get(pos..end)?).unwrap_or_default();
                    pos = skip_ws(text, end);
                    if text.get(pos) != Some(&b':') {
                        return None;
                    }
                    pos = skip_ws(text, pos + 1);
                    if key == *k || raw == k.as_bytes() {
                        break;
                    }
                    pos = skip_ws(text, skip_value(text, pos)?);
                    match text.get(pos) {
                        Some(b',') => pos += 1,
                        _ => return None,
                    }
                }
            }
            Seg::Index(i) => {
                if text.get(pos) != Some(&b'[') {
                    return None;
                }
                pos = skip_ws(text, pos + 1);
                for _ in 0..*i {
                    pos = skip_ws(text, skip_value(text, pos)?);
                    if text.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos = skip_ws(text, pos + 1);
                }
            }
        }
    }
    Some(pos)
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while text.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
        pos += 1;
    }
    pos
}

/// The offset just past the string starting at `pos`.
fn skip_string(text: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    loop {
        match text.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The offset just past the value starting at `pos`.
fn skip_value(text: &[u8], pos: usize) -> Option<usize> {
    match text.get(pos)? {
        b'"' => skip_string(text, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                match text.get(i)? {
                    b'"' => {
                        i = skip_string(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = pos;
            while text.get(i).is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()) {
                i += 1;
            }
            Some(i)
        }
    }
}

/// What a JSON document holds.
pub(crate) struct JsonRead {
    /// The events, in document order.
    pub(crate) events: Vec<EpcisEvent>,
    /// The sender named in the document, when there is one.
    pub(crate) sender: Option<String>,
}

struct Reader<'a> {
    text: &'a [u8],
    lines: Lines,
    problems: Vec<Problem>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether a key is an extension (a CURIE or a full IRI).
fn is_extension_key(k: &str) -> bool {
    k.contains(':') && !k.starts_with('@')
}

/// Reads the prefix definitions of a JSON-LD `@context` (string entries are the standard
/// context, resolved from the copy kept in this crate). `Err` when it names no EPCIS context.
fn context_prefixes(v: &Value, out: &mut Vec<(String, String)>) -> bool {
    let mut names_epcis = false;
    let entries: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for entry in entries {
        match entry {
            Value::String(s) => names_epcis |= s.contains("epcis-context") || s.contains("gs1"),
            Value::Object(m) => {
                for (k, v) in m {
                    if let Value::String(iri) = v
                        && !k.starts_with('@')
                    {
                        out.push((k.clone(), iri.clone()));
                    }
                }
                names_epcis = true;
            }
            _ => {}
        }
    }
    names_epcis
}

impl Reader<'_> {
    fn location(&self, path: &JPath) -> Location {
        let offset = locate(self.text, &path.0).unwrap_or(0);
        let (line, column) = self.lines.position(offset);
        Location::Text { line, column, path: path.render() }
    }

    fn problem(&mut self, path: &JPath, message: String) {
        let location = self.location(path);
        self.problems.push(Problem::new(location, message));
    }

    fn text(&mut self, v: &Value, path: &JPath, what: &str) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            other => {
                self.problem(path, format!("{what} must be non-empty text, found {}", kind_of(other)));
                None
            }
        }
    }

    fn texts(&mut self, v: &Value, path: &JPath, what: &str) -> Vec<String> {
        match v {
            Value::Array(items) => {
                items.iter().enumerate().filter_map(|(i, item)| self.text(item, &path.index(i), what)).collect()
            }
            other => {
                self.problem(path, format!("{what} must be a list of identifiers, found {}", kind_of(other)));
                Vec::new()
            }
        }
    }

    fn object<'v>(&mut self, v: &'v Value, path: &JPath, what: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.problem(path, format!("{what} must be an object, found {}", kind_of(other)));
                None
            }
        }
    }

    fn term(&mut self, v: &Value, path: &JPath, vocabulary: Vocabulary, prefixes: &[(String, String)]) -> Option<Term> {
        let raw = self.text(v, path, vocabulary.what())?;
        match vocabulary.read(&expand_curie(&raw, prefixes)) {
            Ok(t) => Some(t),
            Err(message) => {
                self.problem(path, message);
                None
            }
        }
    }

    fn extension(&self, key: &str, v: &Value, prefixes: &[(String, String)]) -> Vec<Extension> {
        let name = extension_name(key, prefixes);
        match v {
            Value::Array(items) => items.iter().flat_map(|item| self.extension(key, item, prefixes)).collect(),
            Value::Object(m) => {
                let mut value = None;
                let mut children = Vec::new();
                for (k, v) in m {
                    if k == "#text" || k == "@value" {
                        value = scalar(v);
                    } else if !k.starts_with('@') {
                        children.extend(self.extension(k, v, prefixes));
                    }
                }
                vec![Extension { name, value, children }]
            }
            other => vec![Extension { name, value: scalar(other), children: Vec::new() }],
        }
    }

    fn quantities(&mut self, v: &Value, path: &JPath) -> Vec<QuantityElement> {
        let Value::Array(items) = v else {
            self.problem(path, format!("a quantity list must be a list, found {}", kind_of(v)));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = path.index(i);
            let Some(m) = self.object(item, &ip, "a quantity element") else { continue };
            let mut epc_class = None;
            let mut quantity = None;
            let mut uom = None;
            for (k, v) in m {
                let kp = ip.key(k);
                match k.as_str() {
                    "epcClass" => epc_class = self.text(v, &kp, "epcClass"),
                    "quantity" => match v {
                        Value::Number(n) => match n
                            .to_string()
                            .parse::<Decimal>()
                            .ok()
                            .or_else(|| Decimal::from_scientific(&n.to_string()).ok())
                        {
                            Some(d) => quantity = Some(d),
                            None => self.problem(&kp, format!("quantity {n} is out of range")),
                        },
                        other => self.problem(
                            &kp,
                            format!("quantity must be a number (such as 150 or 12.5), found {}", describe(other)),
                        ),
                    },
                    "uom" => uom = self.text(v, &kp, "uom"),
                    other => self.problem(
                        &kp,
                        format!("unknown field {other:?} in a quantity element; expected epcClass, quantity and uom"),
                    ),
                }
            }
            match epc_class {
                Some(epc_class) => out.push(QuantityElement { epc_class, quantity, uom }),
                None if !m.contains_key("epcClass") => {
                    self.problem(&ip, "a quantity element needs an epcClass".to_owned());
                }
                None => {}
            }
        }
        out
    }

    fn typed(
        &mut self,
        v: &Value,
        path: &JPath,
        field: &str,
        vocabulary: Vocabulary,
        prefixes: &[(String, String)],
    ) -> Vec<Typed> {
        let Value::Array(items) = v else {
            self.problem(path, format!("the list must be a list of objects, found {}", kind_of(v)));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = path.index(i);
            let Some(m) = self.object(item, &ip, field) else { continue };
            let mut id = None;
            let mut kind = None;
            for (k, v) in m {
                let kp = ip.key(k);
                if k == field {
                    id = self.text(v, &kp, field);
                } else if k == "type" {
                    kind = self.term(v, &kp, vocabulary, prefixes);
                } else if !is_extension_key(k) {
                    self.problem(&kp, format!("unknown field {k:?} in {field}; expected type and {field}"));
                }
            }
            match id {
                Some(id) => out.push(Typed { id, kind }),
                None if !m.contains_key(field) => self.problem(&ip, format!("the entry needs its {field}")),
                None => {}
            }
            if vocabulary == Vocabulary::SourceDestType && !m.contains_key("type") {
                self.problem(&ip, format!("a {field} needs its type (owning_party, possessing_party or location)"));
            }
        }
        out
    }

    fn place(&mut self, v: &Value, path: &JPath, prefixes: &[(String, String)]) -> Option<Place> {
        let m = self.object(v, path, "a read point or business location")?;
        let mut place = Place::default();
        let mut id = None;
        for (k, v) in m {
            let kp = path.key(k);
            if k == "id" {
                id = self.text(v, &kp, "id");
            } else if is_extension_key(k) {
                place.extensions.extend(self.extension(k, v, prefixes));
            } else {
                self.problem(&kp, format!("unknown field {k:?}; a location has an id and namespaced extensions"));
            }
        }
        match id {
            Some(id) => {
                place.id = id;
                Some(place)
            }
            None => {
                if !m.contains_key("id") {
                    self.problem(path, "a read point or business location needs an id".to_owned());
                }
                None
            }
        }
    }

    fn sensor_part(
        &mut self,
        v: &Value,
        path: &JPath,
        fields: &[&str],
        prefixes: &[(String, String)],
    ) -> Option<SensorPart> {
        let m = self.object(v, path, "sensor data")?;
        let mut part = SensorPart::default();
        for (k, v) in m {
            let kp = path.key(k);
            if fields.contains(&k.as_str()) {
                let Some(raw) = scalar(v) else {
                    self.problem(&kp, format!("{k} must be a single value, found {}", kind_of(v)));
                    continue;
                };
                match sensor_value(k, &raw, prefixes) {
                    Ok(value) => part.fields.push((k.clone(), value)),
                    Err(message) => self.problem(&kp, message),
                }
            } else if is_extension_key(k) {
                part.extensions.extend(self.extension(k, v, prefixes));
            } else {
                self.problem(&kp, format!("unknown sensor field {k:?}; expected one of {}", fields.join(", ")));
            }
        }
        part.fields.sort_by_key(|(k, _)| fields.iter().position(|f| f == k));
        Some(part)
    }

    fn sensors(&mut self, v: &Value, path: &JPath, prefixes: &[(String, String)]) -> Vec<SensorElement> {
        let Value::Array(items) = v else {
            self.problem(path, format!("sensorElementList must be a list, found {}", kind_of(v)));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = path.index(i);
            let Some(m) = self.object(item, &ip, "a sensor element") else { continue };
            let mut element = SensorElement::default();
            for (k, v) in m {
                let kp = ip.key(k);
                match k.as_str() {
                    "sensorMetadata" => element.metadata = self.sensor_part(v, &kp, SENSOR_METADATA_FIELDS, prefixes),
                    "sensorReport" => {
                        let reports: Vec<&Value> = match v {
                            Value::Array(a) => a.iter().collect(),
                            other => vec![other],
                        };
                        for (j, r) in reports.into_iter().enumerate() {
                            if let Some(p) = self.sensor_part(r, &kp.index(j), SENSOR_REPORT_FIELDS, prefixes) {
                                element.reports.push(p);
                            }
                        }
                    }
                    k if is_extension_key(k) => element.extensions.extend(self.extension(k, v, prefixes)),
                    other => self.problem(&kp, format!("unknown field {other:?} in a sensor element")),
                }
            }
            out.push(element);
        }
        out
    }

    fn certification(&mut self, v: &Value, path: &JPath) {
        match v {
            Value::Array(items) => {
                items.iter().enumerate().for_each(|(i, item)| self.certification(item, &path.index(i)))
            }
            Value::Object(m) => {
                for (k, v) in m {
                    let kp = path.key(k);
                    let local = k.rsplit(':').next().unwrap_or(k);
                    if local.ends_with("Date")
                        && let Value::String(s) = v
                        && NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_err()
                        && parse_time(s, None).is_none()
                    {
                        self.problem(&kp, format!("{k} {s:?} is not a date such as 2023-12-20"));
                    }
                    self.certification(v, &kp);
                }
            }
            _ => {}
        }
    }

    fn error_declaration(
        &mut self,
        v: &Value,
        path: &JPath,
        prefixes: &[(String, String)],
    ) -> Option<ErrorDeclaration> {
        let m = self.object(v, path, "errorDeclaration")?;
        let mut declared_at = None;
        let mut reason = None;
        let mut corrective = Vec::new();
        for (k, v) in m {
            let kp = path.key(k);
            match k.as_str() {
                "declarationTime" => {
                    if let Some(raw) = self.text(v, &kp, "declarationTime") {
                        declared_at = parse_time(&raw, None);
                        if declared_at.is_none() {
                            self.problem(&kp, format!("declarationTime {raw:?} is not a date-time with an offset"));
                        }
                    }
                }
                "reason" => reason = self.term(v, &kp, Vocabulary::ErrorReason, prefixes),
                "correctiveEventIDs" => corrective = self.texts(v, &kp, "a corrective event id"),
                k if is_extension_key(k) => {}
                other => self.problem(&kp, format!("unknown field {other:?} in errorDeclaration")),
            }
        }
        if declared_at.is_none() && !m.contains_key("declarationTime") {
            self.problem(path, "an errorDeclaration needs its declarationTime".to_owned());
        }
        Some(ErrorDeclaration { declared_at: declared_at?, reason, corrective })
    }

    fn event(&mut self, v: &Value, path: &JPath, inherited: &[(String, String)]) -> Option<EpcisEvent> {
        let m = self.object(v, path, "an event")?;
        let mut prefixes = inherited.to_vec();
        if let Some(c) = m.get("@context") {
            context_prefixes(c, &mut prefixes);
        }
        let kind = match m.get("type") {
            Some(Value::String(t)) => match EventKind::from_name(t) {
                Some(k) => Some(k),
                None => {
                    self.problem(
                        &path.key("type"),
                        format!("{t:?} is not an EPCIS event type; expected ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent"),
                    );
                    None
                }
            },
            _ => {
                self.problem(path, "the event has no type (ObjectEvent, AggregationEvent, …)".to_owned());
                None
            }
        };
        let mut e = EpcisEvent::new(kind.unwrap_or(EventKind::Object), self.location(path));
        let before = self.problems.len();
        let offset = m.get("eventTimeZoneOffset").and_then(Value::as_str).map(str::trim).map(str::to_owned);
        let mut time_ok = false;
        for (k, v) in m {
            let kp = path.key(k);
            match k.as_str() {
                "type" | "@context" | "recordTime" => {}
                "eventTime" => {
                    if let Some(raw) = self.text(v, &kp, "eventTime") {
                        match parse_time(&raw, offset.as_deref()) {
                            Some(t) => {
                                e.event_time = t;
                                time_ok = true;
                            }
                            None => self.problem(
                                &kp,
                                format!("eventTime {raw:?} is not a date-time such as 2005-04-03T20:33:31.116-06:00"),
                            ),
                        }
                    }
                }
                "eventTimeZoneOffset" => {
                    if let Some(raw) = self.text(v, &kp, "eventTimeZoneOffset") {
                        if valid_offset(&raw) {
                            e.time_zone_offset = raw;
                        } else {
                            self.problem(&kp, format!("eventTimeZoneOffset {raw:?} is not an offset such as -06:00"));
                        }
                    }
                }
                "eventID" => e.event_id = self.text(v, &kp, "eventID"),
                "errorDeclaration" => e.error_declaration = self.error_declaration(v, &kp, &prefixes),
                "certificationInfo" => self.certification(v, &kp),
                "epcList" => e.epcs = self.texts(v, &kp, "an EPC"),
                "childEPCs" => e.child_epcs = self.texts(v, &kp, "an EPC"),
                "inputEPCList" => e.input_epcs = self.texts(v, &kp, "an EPC"),
                "outputEPCList" => e.output_epcs = self.texts(v, &kp, "an EPC"),
                "parentID" => e.parent = self.text(v, &kp, "parentID"),
                "quantityList" => e.quantities = self.quantities(v, &kp),
                "childQuantityList" => e.child_quantities = self.quantities(v, &kp),
                "inputQuantityList" => e.input_quantities = self.quantities(v, &kp),
                "outputQuantityList" => e.output_quantities = self.quantities(v, &kp),
                "action" => {
                    if let Some(a) = self.text(v, &kp, "action") {
                        if matches!(a.as_str(), "ADD" | "OBSERVE" | "DELETE") {
                            e.action = Some(a);
                        } else {
                            self.problem(&kp, format!("action {a:?} is not ADD, OBSERVE or DELETE"));
                        }
                    }
                }
                "transformationID" => e.transformation_id = self.text(v, &kp, "transformationID"),
                "bizStep" => e.biz_step = self.term(v, &kp, Vocabulary::BizStep, &prefixes),
                "disposition" => e.disposition = self.term(v, &kp, Vocabulary::Disposition, &prefixes),
                "persistentDisposition" => {
                    if let Some(pm) = self.object(v, &kp, "persistentDisposition") {
                        for (pk, pv) in pm {
                            let pp = kp.key(pk);
                            let values: Vec<Term> = match pv {
                                Value::Array(items) => items
                                    .iter()
                                    .enumerate()
                                    .filter_map(|(i, item)| {
                                        self.term(item, &pp.index(i), Vocabulary::Disposition, &prefixes)
                                    })
                                    .collect(),
                                other => {
                                    self.term(other, &pp, Vocabulary::Disposition, &prefixes).into_iter().collect()
                                }
                            };
                            match pk.as_str() {
                                "set" => e.persistent_set = values,
                                "unset" => e.persistent_unset = values,
                                other => self.problem(&pp, format!("unknown field {other:?}; expected set and unset")),
                            }
                        }
                    }
                }
                "readPoint" => e.read_point = self.place(v, &kp, &prefixes),
                "bizLocation" => e.biz_location = self.place(v, &kp, &prefixes),
                "bizTransactionList" => {
                    e.biz_transactions =
                        self.typed(v, &kp, "bizTransaction", Vocabulary::BizTransactionType, &prefixes);
                }
                "sourceList" => e.sources = self.typed(v, &kp, "source", Vocabulary::SourceDestType, &prefixes),
                "destinationList" => {
                    e.destinations = self.typed(v, &kp, "destination", Vocabulary::SourceDestType, &prefixes);
                }
                "sensorElementList" => e.sensors = self.sensors(v, &kp, &prefixes),
                "ilmd" => {
                    if let Some(im) = self.object(v, &kp, "ilmd") {
                        for (ik, iv) in im {
                            if is_extension_key(ik) {
                                e.ilmd.extend(self.extension(ik, iv, &prefixes));
                            } else if !ik.starts_with('@') {
                                self.problem(
                                    &kp.key(ik),
                                    format!("ILMD field {ik:?} has no namespace: write it as prefix:{ik} with the prefix defined in @context"),
                                );
                            }
                        }
                    }
                }
                k if is_extension_key(k) => e.extensions.extend(self.extension(k, v, &prefixes)),
                other => self.problem(
                    &kp,
                    format!(
                        "unknown event field {other:?}; user extension fields need a namespace prefix (example:{other})"
                    ),
                ),
            }
        }
        if !m.contains_key("eventTime") {
            self.problem(path, "the event has no eventTime".to_owned());
        }
        if !m.contains_key("eventTimeZoneOffset") {
            self.problem(path, "the event has no eventTimeZoneOffset (such as +01:00)".to_owned());
        }
        if kind.is_some_and(EventKind::has_action) && !m.contains_key("action") {
            self.problem(path, "the event has no action (ADD, OBSERVE or DELETE)".to_owned());
        }
        if kind == Some(EventKind::Object) && !m.contains_key("epcList") && !m.contains_key("quantityList") {
            self.problem(path, "an ObjectEvent names its goods in epcList or quantityList; it has neither".to_owned());
        }
        (self.problems.len() == before && kind.is_some() && time_ok).then_some(e)
    }
}

/// `{namespace}local` for a CURIE whose prefix is known, the key itself otherwise.
fn extension_name(key: &str, prefixes: &[(String, String)]) -> String {
    if let Some((prefix, local)) = key.split_once(':')
        && !local.starts_with("//")
    {
        let expanded = expand_curie(key, prefixes);
        if expanded != key {
            let ns = expanded.strip_suffix(local).unwrap_or(&expanded);
            return format!("{{{ns}}}{local}");
        }
        let _ = prefix;
    }
    key.to_owned()
}

/// A scalar value as text (numbers without trailing zeros).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(normalise_number(&n.to_string()).unwrap_or_else(|| n.to_string())),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the text {s:?}"),
        other => kind_of(other).to_owned(),
    }
}

/// Reads an EPCIS JSON document or bare event.
pub(crate) fn read(bytes: &[u8]) -> Result<JsonRead, Vec<Problem>> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lines = Lines::new(text);
    let value: Value = serde_json::from_slice(text).map_err(|e| {
        vec![Problem::new(
            Location::Text { line: e.line().max(1), column: e.column().max(1), path: String::new() },
            format!("the JSON is not well formed: {e}"),
        )]
    })?;
    let mut r = Reader { text, lines, problems: Vec::new() };
    let root = JPath::default();
    let Some(top) = r.object(&value, &root, "an EPCIS document") else { return Err(r.problems) };
    let mut prefixes = Vec::new();
    match top.get("@context") {
        Some(c) => {
            if !context_prefixes(c, &mut prefixes) {
                r.problem(&root.key("@context"), "@context does not name the EPCIS 2.0 context (https://ref.gs1.org/standards/epcis/epcis-context.jsonld)".to_owned());
            }
        }
        None => r.problem(
            &root,
            "the document has no @context; EPCIS 2.0 JSON-LD starts with \"@context\": \"https://ref.gs1.org/standards/epcis/epcis-context.jsonld\"".to_owned(),
        ),
    }
    let sender = top.get("sender").and_then(Value::as_str).map(str::to_owned);
    let doc_type = top.get("type").and_then(Value::as_str).unwrap_or("");
    let (list, list_path): (Option<&Value>, JPath) = match doc_type {
        "EPCISDocument" => {
            let p = root.key("epcisBody").key("eventList");
            (top.get("epcisBody").and_then(|b| b.get("eventList")), p)
        }
        "EPCISQueryDocument" => {
            let p = root.key("epcisBody").key("queryResults").key("resultsBody").key("eventList");
            let list = top
                .get("epcisBody")
                .and_then(|b| b.get("queryResults"))
                .and_then(|q| q.get("resultsBody"))
                .and_then(|b| b.get("eventList"));
            (list, p)
        }
        t if EventKind::from_name(t).is_some() => {
            let events: Vec<EpcisEvent> = r.event(&value, &root, &prefixes).into_iter().collect();
            return if r.problems.is_empty() { Ok(JsonRead { events, sender }) } else { Err(r.problems) };
        }
        other => {
            r.problem(
                &root.key("type"),
                format!("type {other:?} is not EPCISDocument, EPCISQueryDocument or an EPCIS event type"),
            );
            return Err(r.problems);
        }
    };
    let mut events = Vec::new();
    match list {
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(e) = r.event(item, &list_path.index(i), &prefixes) {
                    events.push(e);
                }
            }
        }
        Some(other) => r.problem(&list_path, format!("eventList must be a list, found {}", kind_of(other))),
        None => r.problem(&root, format!("the document has no {}", list_path.render())),
    }
    if r.problems.is_empty() { Ok(JsonRead { events, sender }) } else { Err(r.problems) }
}
