//! Wrapping documents as events: `{id, type, source, occurred_at, data}` with deterministic ids.

use backroom_model::{EventPayload, EventType};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::faults::{FaultKind, GroundTruth};

/// One simulated event as POSTed to Backroom's `/v1/events`.
#[derive(Clone, Debug, PartialEq)]
pub struct SimEvent {
    /// The event: `{"id","type","source","occurred_at","data"}`.
    pub event: Value,
    /// The simulated day (0 is the first) it belongs to.
    pub day: u32,
}

impl SimEvent {
    /// The event id.
    pub fn id(&self) -> &str {
        self.event["id"].as_str().unwrap_or("")
    }

    /// The event type, such as `pos.sale`.
    pub fn event_type(&self) -> &str {
        self.event["type"].as_str().unwrap_or("")
    }
}

/// Builds one event as JSON.
pub(crate) fn event_json(id: &str, t: EventType, source: &str, at: DateTime<Utc>, payload: &EventPayload) -> Value {
    json!({
        "id": id,
        "type": t.as_str(),
        "source": source,
        "occurred_at": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": payload.to_json(),
    })
}

/// An event kept typed until it is written out.
pub(crate) struct RawEvent {
    pub(crate) id: String,
    pub(crate) event_type: EventType,
    pub(crate) source: String,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) payload: EventPayload,
}

impl RawEvent {
    /// The event as a JSON value.
    pub(crate) fn to_value(&self) -> Value {
        event_json(&self.id, self.event_type, &self.source, self.occurred_at, &self.payload)
    }

    /// Appends the event as one line of JSON, without building a JSON value first.
    pub(crate) fn write_line(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut *out, &self.id)?;
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(self.event_type.as_str().as_bytes());
        out.extend_from_slice(b"\",\"source\":");
        serde_json::to_writer(&mut *out, &self.source)?;
        out.extend_from_slice(b",\"occurred_at\":\"");
        out.extend_from_slice(self.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true).as_bytes());
        out.extend_from_slice(b"\",\"data\":");
        serde_json::to_writer(&mut *out, &self.payload)?;
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

/// The events of one simulated day, collected in any order and handed out in time order.
pub(crate) struct DayLog {
    prefix: String,
    next: u32,
    events: Vec<(u32, RawEvent)>,
    pub(crate) truths: Vec<GroundTruth>,
}

impl DayLog {
    pub(crate) fn new(seed: u64, day: u32) -> Self {
        Self { prefix: format!("sim-{seed}-{day}"), next: 0, events: Vec::new(), truths: Vec::new() }
    }

    /// Adds an event and returns its id (`sim-<seed>-<day>-<n>`, n in creation order).
    pub(crate) fn emit(&mut self, at: DateTime<Utc>, t: EventType, source: &str, payload: EventPayload) -> String {
        self.next += 1;
        let id = format!("{}-{}", self.prefix, self.next);
        let event = RawEvent { id: id.clone(), event_type: t, source: source.to_owned(), occurred_at: at, payload };
        self.events.push((self.next, event));
        id
    }

    /// Records a fault carried by the event `event_id`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fault(
        &mut self,
        fault: FaultKind,
        event_id: &str,
        location: &str,
        item: Option<&str>,
        document: Option<&str>,
        day: u32,
        detail: String,
    ) {
        self.truths.push(GroundTruth {
            fault,
            event_id: event_id.to_owned(),
            location: location.to_owned(),
            item: item.map(str::to_owned),
            document: document.map(str::to_owned),
            day,
            detail,
        });
    }

    /// The events in `occurred_at` order (ties in creation order).
    pub(crate) fn finish(mut self) -> (Vec<RawEvent>, Vec<GroundTruth>) {
        self.events.sort_by_key(|(n, e)| (e.occurred_at, *n));
        (self.events.into_iter().map(|(_, e)| e).collect(), self.truths)
    }
}
