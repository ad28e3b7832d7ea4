//! File formats that Backroom reads and turns into canonical events.
//!
//! Each format maps an outside file onto the raw event JSON of the canonical model
//! (`{id, type, source, occurred_at, data}`), which the caller then validates with
//! [`backroom_model::validate_events`]. A format reports the problems it meets while mapping (a
//! missing column, a date or number it cannot read), each with the row and column where it
//! happened and what would be accepted; business rules are left to the model's validation.
//!
//! - [`csv`]: CSV files mapped to events by a TOML mapping file.

pub mod csv;
