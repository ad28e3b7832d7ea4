//! The EPCIS Event Hash ID (CBV 2.0, "event hash ID" algorithm): a pre-hash string built from
//! the event's fields in the canonical property order, hashed with SHA-256 and written as
//! `ni:///sha-256;<hex>?ver=CBV2.0`.
//!
//! Normalisation, as the algorithm specifies: values trimmed; numbers without trailing zeros;
//! timestamps in UTC with millisecond precision (`…T02:33:31.116Z`, sub-millisecond digits
//! rounded half up); CBV values as `https://ref.gs1.org/cbv/…` Web URIs whatever their
//! spelling (bare word, URN, CURIE); CURIEs expanded; EPC URNs as canonical GS1 Digital Link
//! URIs and Digital Links constrained (host `id.gs1.org`, no query string, finest key
//! qualifier only); list children sorted lexically, typed entries as `value` then `type`;
//! ILMD and user extensions as `{namespace}name=value`, sorted, nested elements after
//! their parent. `eventID`, `recordTime`, `errorDeclaration` and `certificationInfo` are not
//! part of the pre-hash string.

use chrono::{DateTime, FixedOffset, Timelike, Utc};
use sha2::{Digest, Sha256};

use super::event::{
    EpcisEvent, Extension, QuantityElement, SensorPart, Typed, ValueKind, normalise_number, parse_time,
    sensor_value_kind,
};
use super::identifiers::hash_form;
use super::vocabulary::{Term, Vocabulary, expand_curie};

/// The hash ID of an event.
pub(crate) fn hash_id(e: &EpcisEvent) -> String {
    let digest = Sha256::digest(pre_hash(e).as_bytes());
    format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode(digest))
}

/// A timestamp in UTC with millisecond precision.
pub(crate) fn hash_time(t: &DateTime<FixedOffset>) -> String {
    let utc = t.with_timezone(&Utc);
    let nanos = utc.nanosecond() % 1_000_000_000;
    let rounded = utc - chrono::Duration::nanoseconds(i64::from(nanos % 1_000_000))
        + chrono::Duration::milliseconds(if nanos % 1_000_000 >= 500_000 { 1 } else { 0 });
    rounded.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn list(out: &mut String, name: &str, child: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    let mut sorted: Vec<String> = values.iter().map(|v| format!("{child}={}", hash_form(v))).collect();
    sorted.sort();
    out.push_str(name);
    out.extend(sorted);
}

fn quantities(out: &mut String, name: &str, values: &[QuantityElement]) {
    if values.is_empty() {
        return;
    }
    let mut sorted: Vec<String> = values
        .iter()
        .map(|q| {
            let mut s = format!("quantityElementepcClass={}", hash_form(&q.epc_class));
            if let Some(n) = q.quantity {
                s.push_str(&format!("quantity={}", n.normalize()));
            }
            if let Some(u) = &q.uom {
                s.push_str(&format!("uom={}", u.trim()));
            }
            s
        })
        .collect();
    sorted.sort();
    out.push_str(name);
    out.extend(sorted);
}

fn typed(out: &mut String, name: &str, child: &str, vocabulary: Vocabulary, values: &[Typed]) {
    if values.is_empty() {
        return;
    }
    let mut sorted: Vec<String> = values
        .iter()
        .map(|t| {
            let mut s = format!("{child}={}", hash_form(&t.id));
            if let Some(k) = &t.kind {
                s.push_str(&format!("type={}", vocabulary.uri(k)));
            }
            s
        })
        .collect();
    sorted.sort();
    out.push_str(name);
    out.extend(sorted);
}

/// An extension element and its nested elements as a pre-hash substring.
fn extension(e: &Extension) -> String {
    let mut s = e.name.clone();
    if let Some(v) = &e.value {
        s.push('=');
        s.push_str(v.trim());
    }
    s.extend(sorted_extensions(&e.children));
    s
}

fn sorted_extensions(values: &[Extension]) -> Vec<String> {
    let mut v: Vec<String> = values.iter().map(extension).collect();
    v.sort();
    v
}

fn sensor_part(name: &str, p: &SensorPart) -> String {
    let mut s = name.to_owned();
    for (k, v) in &p.fields {
        s.push_str(&format!("{k}={v}"));
    }
    s.extend(sorted_extensions(&p.extensions));
    s
}

fn term(out: &mut String, name: &str, vocabulary: Vocabulary, value: Option<&Term>) {
    if let Some(t) = value {
        out.push_str(&format!("{name}={}", vocabulary.uri(t)));
    }
}

/// A sensor attribute's value as the pre-hash string holds it; `Err` names what is wrong.
pub(crate) fn sensor_value(name: &str, raw: &str, prefixes: &[(String, String)]) -> Result<String, String> {
    let raw = raw.trim();
    match sensor_value_kind(name) {
        ValueKind::Time => parse_time(raw, None)
            .map(|t| hash_time(&t))
            .ok_or_else(|| format!("{name} {raw:?} is not a timestamp such as 2019-04-02T14:05:00.000+01:00")),
        ValueKind::Number => normalise_number(raw).ok_or_else(|| format!("{name} {raw:?} is not a number")),
        // Measurement and alert types written as bare JSON-LD terms are GS1 Web Vocabulary terms.
        ValueKind::Uri if matches!(name, "type" | "exception") && !raw.contains(':') => {
            Ok(format!("https://gs1.org/voc/{raw}"))
        }
        ValueKind::Uri => Ok(hash_form(&expand_curie(raw, prefixes))),
        ValueKind::Text => Ok(raw.to_owned()),
    }
}

/// The pre-hash string of an event.
pub(crate) fn pre_hash(e: &EpcisEvent) -> String {
    let mut out = format!("eventType={}", e.kind.name());
    out.push_str(&format!("eventTime={}", hash_time(&e.event_time)));
    out.push_str(&format!("eventTimeZoneOffset={}", e.time_zone_offset.trim()));
    list(&mut out, "epcList", "epc", &e.epcs);
    if let Some(p) = &e.parent {
        out.push_str(&format!("parentID={}", hash_form(p)));
    }
    list(&mut out, "inputEPCList", "epc", &e.input_epcs);
    list(&mut out, "childEPCs", "epc", &e.child_epcs);
    quantities(&mut out, "quantityList", &e.quantities);
    quantities(&mut out, "childQuantityList", &e.child_quantities);
    quantities(&mut out, "inputQuantityList", &e.input_quantities);
    list(&mut out, "outputEPCList", "epc", &e.output_epcs);
    quantities(&mut out, "outputQuantityList", &e.output_quantities);
    if let Some(a) = &e.action {
        out.push_str(&format!("action={a}"));
    }
    if let Some(t) = &e.transformation_id {
        out.push_str(&format!("transformationID={}", hash_form(t)));
    }
    term(&mut out, "bizStep", Vocabulary::BizStep, e.biz_step.as_ref());
    term(&mut out, "disposition", Vocabulary::Disposition, e.disposition.as_ref());
    if !e.persistent_set.is_empty() || !e.persistent_unset.is_empty() {
        out.push_str("persistentDisposition");
        for (name, values) in [("set", &e.persistent_set), ("unset", &e.persistent_unset)] {
            let mut v: Vec<String> =
                values.iter().map(|t| format!("{name}={}", Vocabulary::Disposition.uri(t))).collect();
            v.sort();
            out.extend(v);
        }
    }
    for (name, place) in [("readPoint", &e.read_point), ("bizLocation", &e.biz_location)] {
        if let Some(p) = place {
            out.push_str(&format!("{name}id={}", hash_form(&p.id)));
            out.extend(sorted_extensions(&p.extensions));
        }
    }
    typed(&mut out, "bizTransactionList", "bizTransaction", Vocabulary::BizTransactionType, &e.biz_transactions);
    typed(&mut out, "sourceList", "source", Vocabulary::SourceDestType, &e.sources);
    typed(&mut out, "destinationList", "destination", Vocabulary::SourceDestType, &e.destinations);
    if !e.sensors.is_empty() {
        let mut elements: Vec<String> = e
            .sensors
            .iter()
            .map(|s| {
                let mut el = String::from("sensorElement");
                if let Some(m) = &s.metadata {
                    el.push_str(&sensor_part("sensorMetadata", m));
                }
                let mut reports: Vec<String> = s.reports.iter().map(|r| sensor_part("sensorReport", r)).collect();
                reports.sort();
                el.extend(reports);
                el.extend(sorted_extensions(&s.extensions));
                el
            })
            .collect();
        elements.sort();
        out.push_str("sensorElementList");
        out.extend(elements);
    }
    if !e.ilmd.is_empty() {
        out.push_str("ilmd");
        out.extend(sorted_extensions(&e.ilmd));
    }
    out.extend(sorted_extensions(&e.extensions));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_milliseconds() {
        let t = DateTime::parse_from_rfc3339("2022-02-16T20:33:31.116000-06:00").unwrap();
        assert_eq!(hash_time(&t), "2022-02-17T02:33:31.116Z");
        let t = DateTime::parse_from_rfc3339("2022-02-16T20:33:31.1165-06:00").unwrap();
        assert_eq!(hash_time(&t), "2022-02-17T02:33:31.117Z");
        let t = DateTime::parse_from_rfc3339("2005-07-11T11:30:47Z").unwrap();
        assert_eq!(hash_time(&t), "2005-07-11T11:30:47.000Z");
    }
}
