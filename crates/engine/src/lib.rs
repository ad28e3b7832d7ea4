//! The Backroom workflow engine.
//!
//! So far this crate holds the decision tables that `decide` steps evaluate; see [`decision`].

pub mod decision;
