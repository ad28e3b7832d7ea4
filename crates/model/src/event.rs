//! The event envelope.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalogue::{EventPayload, EventType};
use crate::ids::{ItemKey, LocationId};

/// What an event is about: the locations, items and documents it names. Derived from the
/// payload when the event is validated; used to filter the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Subject {
    /// The locations named (a transfer names its origin and destination).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<LocationId>,
    /// The items named, by item key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemKey>,
    /// The document numbers named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
}

impl Subject {
    pub(crate) fn location(&mut self, l: &LocationId) {
        if !self.locations.contains(l) {
            self.locations.push(l.clone());
        }
    }

    pub(crate) fn item(&mut self, i: ItemKey) {
        if !self.items.contains(&i) {
            self.items.push(i);
        }
    }

    pub(crate) fn document(&mut self, d: &str) {
        if !self.documents.iter().any(|x| x == d) {
            self.documents.push(d.to_owned());
        }
    }
}

/// A validated event as received from a source, before the log records it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// The source's id for the event: its idempotency key within the source.
    pub id: String,
    /// The event type.
    pub event_type: EventType,
    /// The system that produced the event (`pos/store-0042`, `erp`, `wms/dc-north`).
    pub source: String,
    /// When it happened, in UTC.
    pub occurred_at: DateTime<Utc>,
    /// The typed payload.
    pub payload: EventPayload,
    /// What it is about, derived from the payload.
    pub subject: Subject,
}

impl NewEvent {
    /// Builds an event, deriving its subject from the payload.
    pub fn new(
        id: String,
        event_type: EventType,
        source: String,
        occurred_at: DateTime<Utc>,
        payload: EventPayload,
    ) -> Self {
        let subject = payload.subject();
        Self { id, event_type, source, occurred_at, payload, subject }
    }

    /// The payload as JSON, in its canonical form.
    pub fn data(&self) -> Value {
        self.payload.to_json()
    }
}

/// An event as recorded in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// The source's id for the event.
    pub id: String,
    /// The event type, such as `pos.sale`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The system that produced the event.
    pub source: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When Backroom recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Its position in the log: strictly increasing in commit order.
    pub seq: i64,
    /// What it is about.
    pub subject: Subject,
    /// The payload.
    pub data: Value,
}
