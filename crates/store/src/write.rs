//! The statements one group commit executes, shared by both backends.

use std::collections::HashMap;

use backroom_model::NewEvent;

use crate::Appended;
use crate::projections::ProjectionChanges;
use crate::query::{Param, Sql};

/// Rows per multi-row statement; keeps every statement under SQLite's 32,766 parameters.
const ROWS_PER_STATEMENT: usize = 1000;

/// The `(source, id)` lookup for a chunk of events.
pub(crate) fn existing_sql(events: &[NewEvent]) -> Vec<Sql> {
    events
        .chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let mut s = Sql::default();
            // A join on the VALUES list lets SQLite probe the (source, id) index per row; the
            // `(source, id) IN (VALUES …)` form scans the whole index instead.
            s.push("SELECT e.source, e.id, e.seq FROM (VALUES ");
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.bind("(?", Param::Text(e.source.clone()));
                s.bind(", ?)", Param::Text(e.id.clone()));
            }
            s.push(") AS v JOIN events e ON e.source = v.column1 AND e.id = v.column2");
            s
        })
        .collect()
}

/// What a group commit writes, given the `(source, id)` pairs already in the log and the last
/// `seq` in it.
pub(crate) struct GroupPlan {
    /// One outcome per event of the group, in order.
    pub outcomes: Vec<Appended>,
    /// The statements to execute, in order.
    pub statements: Vec<Sql>,
    /// Events newly recorded.
    pub appended: usize,
}

pub(crate) fn plan_group(
    events: &[NewEvent],
    mut known: HashMap<(String, String), i64>,
    last_seq: i64,
    recorded_at: i64,
) -> GroupPlan {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut fresh: Vec<(i64, &NewEvent)> = Vec::with_capacity(events.len());
    let mut next = last_seq;
    for e in events {
        match known.get(&(e.source.clone(), e.id.clone())) {
            Some(&seq) => outcomes.push(Appended { seq, duplicate: true }),
            None => {
                next += 1;
                known.insert((e.source.clone(), e.id.clone()), next);
                outcomes.push(Appended { seq: next, duplicate: false });
                fresh.push((next, e));
            }
        }
    }
    let mut statements = Vec::new();
    let mut projections = ProjectionChanges::default();
    let mut subjects: Vec<(String, i64)> = Vec::new();
    for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
        let mut s = Sql::default();
        s.push("INSERT INTO events (seq, source, id, type, occurred_at, recorded_at, subject, data) VALUES ");
        for (i, (seq, e)) in chunk.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" });
            s.bind("?", Param::Int(*seq));
            s.bind(", ?", Param::Text(e.source.clone()));
            s.bind(", ?", Param::Text(e.id.clone()));
            s.bind(", ?", Param::Text(e.event_type.as_str().to_owned()));
            s.bind(", ?", Param::Int(e.occurred_at.timestamp_micros()));
            s.bind(", ?", Param::Int(recorded_at));
            s.bind(", ?", Param::Text(serde_json::to_string(&e.subject).unwrap_or_default()));
            s.bind(", ?)", Param::Text(e.payload.to_json_string()));
            projections.apply(*seq, e);
            subjects.extend(e.subject.locations.iter().map(|l| (format!("l:{l}"), *seq)));
            subjects.extend(e.subject.items.iter().map(|i| (format!("i:{i}"), *seq)));
            subjects.extend(e.subject.documents.iter().map(|d| (format!("d:{d}"), *seq)));
        }
        statements.push(s);
    }
    for chunk in subjects.chunks(ROWS_PER_STATEMENT * 4) {
        let mut s = Sql::default();
        s.push("INSERT INTO event_subjects (key, seq) VALUES ");
        for (i, (key, seq)) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(key.clone()));
            s.bind(", ?)", Param::Int(*seq));
        }
        statements.push(s);
    }
    let stock: Vec<_> = projections.stock.into_iter().collect();
    for chunk in stock.chunks(ROWS_PER_STATEMENT) {
        let mut s = Sql::default();
        s.push(
            "INSERT INTO stock_positions (location, item, unit, on_hand, in_transit, counted_seq, last_counted_at, \
             last_seq, updated_at) VALUES ",
        );
        for (i, ((location, item), c)) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(location.clone()));
            s.bind(", ?", Param::Text(item.clone()));
            s.bind(", ?", Param::Text(c.unit.clone()));
            s.bind(", ?", Param::Int(c.on_hand));
            s.bind(", ?", Param::Int(c.in_transit));
            s.bind(", ?", Param::OptInt(c.counted_seq));
            s.bind(", ?", Param::OptInt(c.counted_at));
            s.bind(", ?", Param::Int(c.last_seq));
            s.bind(", ?)", Param::Int(recorded_at));
        }
        s.push(
            " ON CONFLICT (location, item) DO UPDATE SET unit = excluded.unit, \
             on_hand = CASE WHEN excluded.counted_seq IS NOT NULL THEN excluded.on_hand \
                       ELSE stock_positions.on_hand + excluded.on_hand END, \
             in_transit = stock_positions.in_transit + excluded.in_transit, \
             counted_seq = COALESCE(excluded.counted_seq, stock_positions.counted_seq), \
             last_counted_at = COALESCE(excluded.last_counted_at, stock_positions.last_counted_at), \
             last_seq = excluded.last_seq, updated_at = excluded.updated_at",
        );
        statements.push(s);
    }
    let sales: Vec<_> = projections.sales.into_iter().collect();
    for chunk in sales.chunks(ROWS_PER_STATEMENT) {
        let mut s = Sql::default();
        s.push(
            "INSERT INTO daily_sales (location, item, business_day, currency, sold, returned, revenue, refunded, \
             transactions, last_seq) VALUES ",
        );
        for (i, ((location, item, day, currency), c)) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(location.clone()));
            s.bind(", ?", Param::Text(item.clone()));
            s.bind(", ?", Param::Text(day.clone()));
            s.bind(", ?", Param::Text(currency.clone()));
            s.bind(", ?", Param::Int(c.sold));
            s.bind(", ?", Param::Int(c.returned));
            s.bind(", ?", Param::Int(c.revenue));
            s.bind(", ?", Param::Int(c.refunded));
            s.bind(", ?", Param::Int(c.transactions));
            s.bind(", ?)", Param::Int(c.last_seq));
        }
        s.push(
            " ON CONFLICT (location, item, business_day, currency) DO UPDATE SET \
             sold = daily_sales.sold + excluded.sold, returned = daily_sales.returned + excluded.returned, \
             revenue = daily_sales.revenue + excluded.revenue, refunded = daily_sales.refunded + excluded.refunded, \
             transactions = daily_sales.transactions + excluded.transactions, last_seq = excluded.last_seq",
        );
        statements.push(s);
    }
    GroupPlan { appended: fresh.len(), outcomes, statements }
}
