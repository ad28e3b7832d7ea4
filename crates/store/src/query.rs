//! Queries on the log and the projections, and the SQL they become on either backend.

use backroom_model::ItemKey;
use chrono::{DateTime, NaiveDate, Utc};

/// Most events one read returns.
pub const MAX_EVENT_PAGE: i64 = 10_000;

/// A page of the log.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    /// Only events with a greater `seq`.
    pub after_seq: i64,
    /// At most this many (capped at 10,000).
    pub limit: i64,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only events naming this location.
    pub location: Option<String>,
    /// Only events naming this item (GTIN or SKU).
    pub item: Option<String>,
    /// Only events that occurred at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events that occurred before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only events naming one of these locations (a caller's scope); `None` for any.
    pub within: Option<Vec<String>>,
    /// Only events naming one of these document numbers (order, receipt, invoice, transaction
    /// numbers); empty for any.
    pub documents: Vec<String>,
}

impl EventQuery {
    /// Most events one read returns.
    pub const MAX_PAGE: i64 = MAX_EVENT_PAGE;
}

/// A selection of stock positions.
#[derive(Clone, Debug, Default)]
pub struct StockQuery {
    /// Only this location.
    pub location: Option<String>,
    /// Only this item (GTIN or SKU).
    pub item: Option<String>,
    /// At most this many rows.
    pub limit: i64,
    /// Only these locations (a caller's scope); `None` for any.
    pub within: Option<Vec<String>>,
}

/// A selection of daily sales.
#[derive(Clone, Debug, Default)]
pub struct SalesQuery {
    /// Only this location.
    pub location: Option<String>,
    /// Only this item (GTIN or SKU).
    pub item: Option<String>,
    /// From this business day, inclusive.
    pub from: Option<NaiveDate>,
    /// To this business day, inclusive.
    pub to: Option<NaiveDate>,
    /// At most this many rows.
    pub limit: i64,
    /// Only these locations (a caller's scope); `None` for any.
    pub within: Option<Vec<String>>,
}

/// A value bound to a query.
#[derive(Clone, Debug)]
pub(crate) enum Param {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

/// SQL with `?` placeholders (rewritten to `$n` for PostgreSQL) and its parameters.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Param>,
    /// The statement must change at least one row, or the transaction is abandoned with a
    /// conflict (optimistic concurrency).
    pub must_change: bool,
}

impl Sql {
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    pub fn bind(&mut self, s: &str, p: Param) {
        self.text.push_str(s);
        self.params.push(p);
    }

    /// The text with `$1, $2, …` placeholders.
    pub fn numbered(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        let mut n = 0;
        for c in self.text.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Appends ` AND <column> IN (…)` for a scope restriction (nothing matches an empty list);
/// `key` turns a location code into the value compared.
pub(crate) fn within(s: &mut Sql, column: &str, codes: Option<&[String]>, key: impl Fn(&str) -> String) {
    let Some(codes) = codes else { return };
    if codes.is_empty() {
        s.push(" AND 1 = 0");
        return;
    }
    s.push(&format!(" AND {column} IN ("));
    for (i, code) in codes.iter().enumerate() {
        s.bind(if i == 0 { "?" } else { ", ?" }, Param::Text(key(code)));
    }
    s.push(")");
}

/// The `event_subjects` key of a location.
pub(crate) fn location_key(code: &str) -> String {
    format!("l:{code}")
}

fn clamp(limit: i64, default: i64, max: i64) -> i64 {
    if limit <= 0 { default } else { limit.min(max) }
}

pub(crate) fn events_sql(q: &EventQuery) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT seq, source, id, type, occurred_at, recorded_at, subject, data FROM events WHERE ");
    s.bind("seq > ?", Param::Int(q.after_seq));
    if let Some(t) = &q.event_type {
        s.bind(" AND type = ?", Param::Text(t.clone()));
    }
    if let Some(t) = q.since {
        s.bind(" AND occurred_at >= ?", Param::Int(t.timestamp_micros()));
    }
    if let Some(t) = q.until {
        s.bind(" AND occurred_at < ?", Param::Int(t.timestamp_micros()));
    }
    if let Some(l) = &q.location {
        s.bind(" AND seq IN (SELECT seq FROM event_subjects WHERE key = ?)", Param::Text(location_key(l)));
    }
    if q.within.is_some() {
        s.push(" AND seq IN (SELECT seq FROM event_subjects WHERE 1 = 1");
        within(&mut s, "key", q.within.as_deref(), location_key);
        s.push(")");
    }
    if let Some(i) = &q.item {
        s.bind(
            " AND seq IN (SELECT seq FROM event_subjects WHERE key = ?)",
            Param::Text(format!("i:{}", ItemKey::parse(i))),
        );
    }
    if !q.documents.is_empty() {
        s.push(" AND seq IN (SELECT seq FROM event_subjects WHERE key IN (");
        for (i, d) in q.documents.iter().enumerate() {
            s.bind(if i == 0 { "?" } else { ", ?" }, Param::Text(format!("d:{d}")));
        }
        s.push("))");
    }
    s.bind(" ORDER BY seq LIMIT ?", Param::Int(clamp(q.limit, 100, MAX_EVENT_PAGE)));
    s
}

pub(crate) fn stock_sql(q: &StockQuery) -> Sql {
    let mut s = Sql::default();
    s.push(
        "SELECT location, item, unit, on_hand, in_transit, last_counted_at, last_seq, updated_at \
         FROM stock_positions WHERE 1 = 1",
    );
    if let Some(l) = &q.location {
        s.bind(" AND location = ?", Param::Text(l.clone()));
    }
    within(&mut s, "location", q.within.as_deref(), str::to_owned);
    if let Some(i) = &q.item {
        s.bind(" AND item = ?", Param::Text(ItemKey::parse(i).0));
    }
    s.bind(" ORDER BY location, item LIMIT ?", Param::Int(clamp(q.limit, 1000, 100_000)));
    s
}

pub(crate) fn sales_sql(q: &SalesQuery) -> Sql {
    let mut s = Sql::default();
    s.push(
        "SELECT location, item, business_day, currency, sold, returned, revenue, refunded, transactions, last_seq \
         FROM daily_sales WHERE 1 = 1",
    );
    if let Some(l) = &q.location {
        s.bind(" AND location = ?", Param::Text(l.clone()));
    }
    within(&mut s, "location", q.within.as_deref(), str::to_owned);
    if let Some(i) = &q.item {
        s.bind(" AND item = ?", Param::Text(ItemKey::parse(i).0));
    }
    if let Some(d) = q.from {
        s.bind(" AND business_day >= ?", Param::Text(d.to_string()));
    }
    if let Some(d) = q.to {
        s.bind(" AND business_day <= ?", Param::Text(d.to_string()));
    }
    s.bind(" ORDER BY location, item, business_day, currency LIMIT ?", Param::Int(clamp(q.limit, 1000, 100_000)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let s = events_sql(&EventQuery {
            event_type: Some("pos.sale".into()),
            item: Some("4006381333931".into()),
            ..Default::default()
        });
        assert!(s.numbered().contains("seq > $1 AND type = $2"));
        assert!(s.numbered().ends_with("LIMIT $4"));
        assert!(matches!(&s.params[2], Param::Text(k) if k == "i:04006381333931"));
    }
}
