//! Decoding rows into the store's types, the same way on both backends.

use backroom_model::{EventEnvelope, Subject};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::fixed::from_fixed;
use crate::keys::{ApiKey, micros_to_time};
use crate::{DailySales, StockPosition};

/// Typed column access for any backend's rows.
pub(crate) trait RowExt {
    fn int(&self, col: &str) -> sqlx::Result<i64>;
    fn opt_int(&self, col: &str) -> sqlx::Result<Option<i64>>;
    fn text(&self, col: &str) -> sqlx::Result<String>;
    fn opt_text(&self, col: &str) -> sqlx::Result<Option<String>>;
}

impl<R> RowExt for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn int(&self, col: &str) -> sqlx::Result<i64> {
        self.try_get(col)
    }
    fn opt_int(&self, col: &str) -> sqlx::Result<Option<i64>> {
        self.try_get::<Option<i64>, _>(col)
    }
    fn text(&self, col: &str) -> sqlx::Result<String> {
        self.try_get(col)
    }
    fn opt_text(&self, col: &str) -> sqlx::Result<Option<String>> {
        self.try_get::<Option<String>, _>(col)
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} is not valid: {e}").into())
}

pub(crate) fn event(r: &impl RowExt) -> sqlx::Result<EventEnvelope> {
    let subject: Subject = serde_json::from_str(&r.text("subject")?).map_err(|e| corrupt("subject", e))?;
    let data = serde_json::from_str(&r.text("data")?).map_err(|e| corrupt("data", e))?;
    Ok(EventEnvelope {
        id: r.text("id")?,
        event_type: r.text("type")?,
        source: r.text("source")?,
        occurred_at: micros_to_time(r.int("occurred_at")?),
        recorded_at: micros_to_time(r.int("recorded_at")?),
        seq: r.int("seq")?,
        subject,
        data,
    })
}

pub(crate) fn stock(r: &impl RowExt) -> sqlx::Result<StockPosition> {
    Ok(StockPosition {
        location: r.text("location")?,
        item: r.text("item")?,
        unit: r.text("unit")?,
        on_hand: from_fixed(r.int("on_hand")?),
        in_transit: from_fixed(r.int("in_transit")?),
        last_counted_at: r.opt_int("last_counted_at")?.map(micros_to_time),
        last_seq: r.int("last_seq")?,
        updated_at: micros_to_time(r.int("updated_at")?),
    })
}

pub(crate) fn sales(r: &impl RowExt) -> sqlx::Result<DailySales> {
    let day = r.text("business_day")?;
    Ok(DailySales {
        location: r.text("location")?,
        item: r.text("item")?,
        business_day: day.parse().map_err(|e| corrupt("business day", e))?,
        currency: r.text("currency")?,
        sold: from_fixed(r.int("sold")?),
        returned: from_fixed(r.int("returned")?),
        revenue: from_fixed(r.int("revenue")?),
        refunded: from_fixed(r.int("refunded")?),
        transactions: r.int("transactions")?,
        last_seq: r.int("last_seq")?,
    })
}

pub(crate) fn api_key(r: &impl RowExt) -> sqlx::Result<ApiKey> {
    Ok(ApiKey {
        id: r.text("id")?,
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        roles: serde_json::from_str(&r.text("roles")?).map_err(|e| corrupt("roles", e))?,
        scopes: serde_json::from_str(&r.text("scopes")?).map_err(|e| corrupt("scopes", e))?,
        created_at: micros_to_time(r.int("created_at")?),
        revoked_at: r.opt_int("revoked_at")?.map(micros_to_time),
    })
}
