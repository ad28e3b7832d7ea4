//! The Backroom workflow engine.
//!
//! So far this crate holds the pieces the executor will be built from: the decision tables that
//! `decide` steps evaluate ([`decision`]), business calendars for due times and escalations
//! ([`calendar`]), and the expressions that conditions and computed values are written in
//! ([`expr`]).

pub mod calendar;
pub mod classify;
pub mod clock;
pub mod connector;
pub mod core;
pub mod decision;
pub mod expr;
pub mod policy;
pub mod runner;
pub mod workflow;
