//! The outside world for Backroom's demos, tests and benchmarks.
//!
//! - [`refsys`]: reference ERP, WMS and POS/order-management systems, each an HTTP service with
//!   its own SQLite state and OpenAPI document, honouring `Idempotency-Key`, validating requests
//!   as a real system would and injecting faults on demand.
//! - [`simulator`]: a retailer (stores, items, suppliers, distribution centres) whose days of
//!   trading become canonical Backroom events, with labelled faults and their ground truth.
//!
//! Like a real retailer's systems, this crate talks to Backroom only over HTTP: it depends on
//! `backroom-model` for the event shapes and on nothing else of Backroom's.

pub mod refsys;
pub mod simulator;
