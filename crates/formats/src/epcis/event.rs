//! One EPCIS event as read from JSON or XML, before it is mapped: the same structure for both
//! syntaxes, so that twins give the same canonical events and the same hash.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;

use super::vocabulary::Term;
use crate::Location;

/// The five EPCIS 2.0 event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// `ObjectEvent`.
    Object,
    /// `AggregationEvent`.
    Aggregation,
    /// `TransactionEvent`.
    Transaction,
    /// `TransformationEvent`.
    Transformation,
    /// `AssociationEvent`.
    Association,
}

impl EventKind {
    /// Reads the type name.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ObjectEvent" => EventKind::Object,
            "AggregationEvent" => EventKind::Aggregation,
            "TransactionEvent" => EventKind::Transaction,
            "TransformationEvent" => EventKind::Transformation,
            "AssociationEvent" => EventKind::Association,
            _ => return None,
        })
    }

    /// The type name (`ObjectEvent`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventKind::Object => "ObjectEvent",
            EventKind::Aggregation => "AggregationEvent",
            EventKind::Transaction => "TransactionEvent",
            EventKind::Transformation => "TransformationEvent",
            EventKind::Association => "AssociationEvent",
        }
    }

    /// The short word used in goods observations (`object`).
    pub(crate) fn word(self) -> &'static str {
        match self {
            EventKind::Object => "object",
            EventKind::Aggregation => "aggregation",
            EventKind::Transaction => "transaction",
            EventKind::Transformation => "transformation",
            EventKind::Association => "association",
        }
    }

    /// Whether the type requires an `action`.
    pub(crate) fn has_action(self) -> bool {
        self != EventKind::Transformation
    }
}

/// A class-level quantity (`quantityElement`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QuantityElement {
    /// The EPC class as written.
    pub(crate) epc_class: String,
    /// The quantity, when given.
    pub(crate) quantity: Option<Decimal>,
    /// The unit (UN/ECE Rec 20), when given.
    pub(crate) uom: Option<String>,
}

/// An identifier with a type (business transaction, source, destination).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Typed {
    /// The identifier as written.
    pub(crate) id: String,
    /// Its type.
    pub(crate) kind: Option<Term>,
}

/// A read point or business location.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Place {
    /// The location identifier as written.
    pub(crate) id: String,
    /// Extension elements inside it.
    pub(crate) extensions: Vec<Extension>,
}

/// A user extension element: namespaced name, text value, nested elements.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Extension {
    /// `{namespace}local`, or just `local` without namespace.
    pub(crate) name: String,
    /// The value (numbers without trailing zeros), when the element has one.
    pub(crate) value: Option<String>,
    /// Nested elements.
    pub(crate) children: Vec<Extension>,
}

/// Sensor metadata or a sensor report: standard attributes by name, then extensions.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct SensorPart {
    /// Standard attributes (name, normalised value).
    pub(crate) fields: Vec<(String, String)>,
    /// Extension attributes.
    pub(crate) extensions: Vec<Extension>,
}

/// One `sensorElement`.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct SensorElement {
    /// `sensorMetadata`, when present.
    pub(crate) metadata: Option<SensorPart>,
    /// The `sensorReport`s.
    pub(crate) reports: Vec<SensorPart>,
    /// Extension elements of the sensor element.
    pub(crate) extensions: Vec<Extension>,
}

/// An `errorDeclaration`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ErrorDeclaration {
    /// When the error was declared.
    pub(crate) declared_at: DateTime<FixedOffset>,
    /// The reason.
    pub(crate) reason: Option<Term>,
    /// The corrective event ids.
    pub(crate) corrective: Vec<String>,
}

/// One EPCIS event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EpcisEvent {
    /// The type.
    pub(crate) kind: EventKind,
    /// Where the event starts in the document.
    pub(crate) at: Location,
    /// When it happened.
    pub(crate) event_time: DateTime<FixedOffset>,
    /// The `eventTimeZoneOffset` as written (`-06:00`).
    pub(crate) time_zone_offset: String,
    /// The event id, when given.
    pub(crate) event_id: Option<String>,
    /// The error declaration, when the event retracts itself.
    pub(crate) error_declaration: Option<ErrorDeclaration>,
    /// `epcList` (object, transaction).
    pub(crate) epcs: Vec<String>,
    /// `parentID`.
    pub(crate) parent: Option<String>,
    /// `childEPCs`.
    pub(crate) child_epcs: Vec<String>,
    /// `inputEPCList`.
    pub(crate) input_epcs: Vec<String>,
    /// `outputEPCList`.
    pub(crate) output_epcs: Vec<String>,
    /// `quantityList`.
    pub(crate) quantities: Vec<QuantityElement>,
    /// `childQuantityList`.
    pub(crate) child_quantities: Vec<QuantityElement>,
    /// `inputQuantityList`.
    pub(crate) input_quantities: Vec<QuantityElement>,
    /// `outputQuantityList`.
    pub(crate) output_quantities: Vec<QuantityElement>,
    /// `ADD`, `OBSERVE` or `DELETE`.
    pub(crate) action: Option<String>,
    /// `transformationID`.
    pub(crate) transformation_id: Option<String>,
    /// `bizStep`.
    pub(crate) biz_step: Option<Term>,
    /// `disposition`.
    pub(crate) disposition: Option<Term>,
    /// `persistentDisposition` set values.
    pub(crate) persistent_set: Vec<Term>,
    /// `persistentDisposition` unset values.
    pub(crate) persistent_unset: Vec<Term>,
    /// `readPoint`.
    pub(crate) read_point: Option<Place>,
    /// `bizLocation`.
    pub(crate) biz_location: Option<Place>,
    /// `bizTransactionList`.
    pub(crate) biz_transactions: Vec<Typed>,
    /// `sourceList`.
    pub(crate) sources: Vec<Typed>,
    /// `destinationList`.
    pub(crate) destinations: Vec<Typed>,
    /// `sensorElementList`.
    pub(crate) sensors: Vec<SensorElement>,
    /// `ilmd` elements.
    pub(crate) ilmd: Vec<Extension>,
    /// Event-level user extensions.
    pub(crate) extensions: Vec<Extension>,
}

impl EpcisEvent {
    /// An event of `kind` found at `at`, with nothing read yet.
    pub(crate) fn new(kind: EventKind, at: Location) -> Self {
        Self {
            kind,
            at,
            event_time: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
            time_zone_offset: String::new(),
            event_id: None,
            error_declaration: None,
            epcs: Vec::new(),
            parent: None,
            child_epcs: Vec::new(),
            input_epcs: Vec::new(),
            output_epcs: Vec::new(),
            quantities: Vec::new(),
            child_quantities: Vec::new(),
            input_quantities: Vec::new(),
            output_quantities: Vec::new(),
            action: None,
            transformation_id: None,
            biz_step: None,
            disposition: None,
            persistent_set: Vec::new(),
            persistent_unset: Vec::new(),
            read_point: None,
            biz_location: None,
            biz_transactions: Vec::new(),
            sources: Vec::new(),
            destinations: Vec::new(),
            sensors: Vec::new(),
            ilmd: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

/// Sensor metadata attributes, in the order the event hash takes them.
pub(crate) const SENSOR_METADATA_FIELDS: &[&str] =
    &["time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"];

/// Sensor report attributes, in the order the event hash takes them.
pub(crate) const SENSOR_REPORT_FIELDS: &[&str] = &[
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
    "bizRules",
];

/// How a sensor attribute's value is normalised.
pub(crate) fn sensor_value_kind(name: &str) -> ValueKind {
    match name {
        "time" | "startTime" | "endTime" => ValueKind::Time,
        "value" | "minValue" | "maxValue" | "meanValue" | "sDev" | "percRank" | "percValue" => ValueKind::Number,
        "deviceID"
        | "deviceMetadata"
        | "rawData"
        | "dataProcessingMethod"
        | "bizRules"
        | "uriValue"
        | "microorganism"
        | "chemicalSubstance"
        | "type"
        | "exception"
        | "component"
        | "coordinateReferenceSystem" => ValueKind::Uri,
        _ => ValueKind::Text,
    }
}

/// The kinds of sensor attribute value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// A timestamp.
    Time,
    /// A decimal number.
    Number,
    /// A URI or CURIE.
    Uri,
    /// Free text.
    Text,
}

/// A number written without trailing zeros (`20.0` → `20`), or `None` when it is not one.
pub(crate) fn normalise_number(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let d = raw.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(raw).ok())?;
    Some(d.normalize().to_string())
}

/// Reads a timestamp with an offset (RFC 3339 / xsd:dateTime); a time without offset takes
/// `fallback_offset` when given.
pub(crate) fn parse_time(raw: &str, fallback_offset: Option<&str>) -> Option<DateTime<FixedOffset>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t);
    }
    let offset = fallback_offset.unwrap_or("+00:00");
    if let Ok(t) = DateTime::parse_from_rfc3339(&format!("{raw}{offset}")) {
        return Some(t);
    }
    // `2006-11-07T13:00Z`: hours and minutes only.
    let minutes = raw.get(..16).filter(|m| m.len() == 16 && m.as_bytes().get(10) == Some(&b'T'))?;
    let rest = raw.get(16..)?;
    if rest.starts_with(':') || rest.starts_with('.') {
        return None;
    }
    let zone = if rest.is_empty() { offset } else { rest };
    DateTime::parse_from_rfc3339(&format!("{minutes}:00{zone}")).ok()
}

/// Whether an `eventTimeZoneOffset` is `±HH:MM`.
pub(crate) fn valid_offset(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 6
        && matches!(b.first(), Some(b'+' | b'-'))
        && b.get(3) == Some(&b':')
        && [1, 2, 4, 5].iter().all(|&i| b.get(i).is_some_and(u8::is_ascii_digit))
}
