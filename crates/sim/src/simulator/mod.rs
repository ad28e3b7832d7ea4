//! The retail simulator.
