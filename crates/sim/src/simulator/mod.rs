//! The retail simulator: a deterministic retailer whose days of trading become canonical
//! Backroom events, with labelled faults and their ground truth.
//!
//! [`Retailer::generate`] builds the world from a [`SimConfig`]: a company `ACME` with regions,
//! districts, stores (`S001`…, open Monday to Saturday 08:00–21:00 Paris time), one
//! distribution centre per region, suppliers, items with GS1 GTINs, opening stock and planned
//! promotions. [`Simulation::next_day`] then trades one day at a time:
//!
//! - merchandising announces promotions a week ahead (`promotion.scheduled`);
//! - distribution centres receive supplier deliveries (`receipt.posted`) announced the day
//!   before (`despatch.advised`), and the supplier's invoice follows (`invoice.received`);
//! - purchasing orders from suppliers when a distribution centre's stock position falls below
//!   its reorder point (`po.created`);
//! - distribution centres replenish stores each morning (`transfer.shipped`, `transfer.received`);
//! - shoppers buy at the tills (`pos.sale`) with demand shaped by weekday, holidays, trend and
//!   promotions, capped by the stock on the shelf (`inventory.stockout_reported` when it runs out);
//! - customers order online for pick-up (`order.placed`, `order.exception`) and return goods
//!   (`return.requested`, `pos.return`);
//! - each evening the store counts a few items (`inventory.counted`).
//!
//! Faults are injected at the rates of [`FaultRates`] and recorded as [`GroundTruth`] naming the
//! event that carries each one. Sinks write events as NDJSON ([`write_ndjson`]) or post them to
//! a Backroom server ([`ServerSink`], [`run`]); [`scenarios`] builds small hand-shaped
//! situations for end-to-end tests.

mod calendar;
mod catalogue;
mod config;
mod envelope;
mod error;
mod faults;
mod money;
mod random;
pub mod scenarios;
mod simulation;
mod sink;
mod store_day;
mod supply;
mod world;

pub use config::{FaultRates, SimConfig};
pub use envelope::SimEvent;
pub use error::SimError;
pub use faults::{FaultKind, GroundTruth};
pub use simulation::Simulation;
pub use sink::{Pace, ServerSink, SimStats, run, write_ndjson};
pub use world::{
    COMPANY, DistributionCentre, District, Item, OpeningStock, PlannedPromotion, PromotedItem, Region, Retailer, Store,
    Supplier,
};
