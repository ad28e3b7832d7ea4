//! The canonical retail model of Backroom.
//!
//! Everything that reaches Backroom — a till's sale, a warehouse receipt, a supplier's invoice —
//! becomes one of the documents defined here, wrapped in an [`EventEnvelope`]. The crate is pure:
//! no I/O, no clock, no randomness. It defines:
//!
//! - identifiers as newtypes ([`LocationId`], [`ItemRef`], [`SupplierId`], …),
//! - [`Money`] and [`Quantity`], always decimal, never floating point,
//! - the retail documents ([`PurchaseOrder`], [`GoodsReceipt`], [`SupplierInvoice`], …),
//! - the event catalogue ([`EventType`]) with one typed payload per type, its JSON Schema and
//!   validation that reports every problem with its JSON path ([`validate_event`]).

mod access;
mod catalogue;
mod documents;
mod event;
mod ids;
mod location;
mod matching;
mod money;
mod returns;
mod validate;

pub use access::{Grant, Role, UnknownRole};
pub use catalogue::{EventPayload, EventType, event_schema};
pub use documents::*;
pub use event::{EventEnvelope, NewEvent, Subject};
pub use ids::{CustomerId, DocumentNumber, Gtin, ItemKey, ItemRef, LocationId, Sku, SupplierId};
pub use location::{Location, LocationKind, OpeningHours, OpeningPeriod};
pub use matching::{Finding, LineMatch, MatchInput, MatchOutcome, MatchResult, Tolerance, three_way_match};
pub use money::{Currency, Money, Quantity, UnitCode};
pub use returns::{ReturnCheck, ReturnFinding, ReturnLineCheck, check_return};
pub use validate::{FieldError, validate_event, validate_events};
