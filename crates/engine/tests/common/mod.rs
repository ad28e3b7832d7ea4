//! Helpers shared by the decision-table tests.
#![allow(dead_code)]

use backroom_engine::decision::{DecisionTable, Evaluation};
use serde_json::{Map, Value};

/// The retail tables, in YAML and as hand-written DMN twins.
pub const REFUND_YAML: &str = include_str!("../tables/refund_approval.yaml");
pub const PRICE_YAML: &str = include_str!("../tables/price_tolerance.yaml");
pub const REPLENISHMENT_YAML: &str = include_str!("../tables/replenishment_action.yaml");
pub const SURCHARGE_YAML: &str = include_str!("../tables/delivery_surcharge.yaml");
pub const REFUND_DMN: &str = include_str!("../dmn/refund_approval.dmn");
pub const PRICE_DMN: &str = include_str!("../dmn/price_tolerance.dmn");
pub const REPLENISHMENT_DMN: &str = include_str!("../dmn/replenishment_action.dmn");
pub const SURCHARGE_DMN: &str = include_str!("../dmn/delivery_surcharge.dmn");

pub fn yaml(text: &str) -> DecisionTable {
    match DecisionTable::from_yaml(text) {
        Ok(table) => table,
        Err(e) => panic!("{e}"),
    }
}

pub fn context(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

pub fn evaluate(table: &DecisionTable, value: Value) -> Evaluation {
    match table.evaluate(&context(value.clone())) {
        Ok(evaluation) => evaluation,
        Err(e) => panic!("{value}: {e}"),
    }
}

/// One output map.
pub fn out(value: Value) -> Map<String, Value> {
    context(value)
}
