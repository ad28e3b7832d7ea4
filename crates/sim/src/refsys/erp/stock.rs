//! Book stock: positions, write-offs and inventory valuation.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::ledger;
use crate::refsys::db::{self, Stock};
use crate::refsys::http::ApiError;

/// Query of `GET /stock` and `GET /valuation`.
#[derive(Debug, Deserialize)]
pub(crate) struct StockQuery {
    location: Option<String>,
    item: Option<String>,
}

/// The location's valuation cost of an item: its own moving average, else the standard cost.
pub(crate) fn unit_cost(stock: &Stock, standard: Decimal) -> Decimal {
    stock.unit_cost.unwrap_or(standard)
}

/// Book stock of one item at one location.
pub(crate) async fn position(conn: &mut SqliteConnection, query: &StockQuery) -> Result<Value, ApiError> {
    let code = query.location.as_deref().ok_or_else(|| ApiError::validation("location", "location is required"))?;
    let reference = query.item.as_deref().ok_or_else(|| ApiError::validation("item", "item is required"))?;
    let location = db::location(conn, "location", code).await?;
    let item = db::item(conn, "item", reference).await?;
    let stock = db::stock(conn, &location.code, &item.sku).await?;
    Ok(json!({
        "location": location.code, "item": item.sku, "gtin": item.gtin, "on_hand": stock.on_hand,
        "in_transit": stock.in_transit, "unit_cost": unit_cost(&stock, item.cost),
    }))
}

/// Every non-zero stock position (of one location, if given) at book value.
pub(crate) async fn valuation(conn: &mut SqliteConnection, query: &StockQuery) -> Result<Value, ApiError> {
    let location = match &query.location {
        Some(code) => Some(db::location(conn, "location", code).await?.code),
        None => None,
    };
    let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT s.location, s.item, s.on_hand, s.unit_cost, i.cost FROM stock s JOIN items i ON i.sku = s.item
         WHERE (?1 IS NULL OR s.location = ?1) ORDER BY s.location, s.item",
    )
    .bind(location)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    for (location, item, on_hand, own_cost, standard) in rows {
        let on_hand = db::dec(&on_hand)?;
        if on_hand.is_zero() {
            continue;
        }
        let cost = db::dec_opt(own_cost.as_deref())?.unwrap_or(db::dec(&standard)?);
        let value = db::money(on_hand * cost);
        total += value;
        lines.push(json!({"location": location, "item": item, "on_hand": on_hand, "unit_cost": cost, "value": value}));
    }
    Ok(json!({"lines": lines, "total": total}))
}

/// Body of `POST /write-offs`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewWriteOff {
    location: String,
    item: String,
    quantity: Decimal,
    #[serde(default)]
    reason: Option<String>,
}

/// Writes stock off at cost: on hand falls and the loss is posted to shrinkage.
pub(crate) async fn write_off(conn: &mut SqliteConnection, body: &NewWriteOff) -> Result<Value, ApiError> {
    let location = db::location(conn, "location", &body.location).await?;
    let item = db::item(conn, "item", &body.item).await?;
    let quantity = db::positive("quantity", body.quantity)?;
    let stock = db::stock(conn, &location.code, &item.sku).await?;
    if stock.on_hand < quantity {
        return Err(ApiError::insufficient_stock(
            "quantity",
            format!("{} has {} of {} on hand; cannot write off {quantity}", location.code, stock.on_hand, item.sku),
        ));
    }
    let cost = unit_cost(&stock, item.cost);
    let value = db::money(quantity * cost);
    let id = db::next_number(conn, "WO").await?;
    let on_hand = stock.on_hand - quantity;
    db::save_stock(conn, &location.code, &item.sku, &Stock { on_hand, ..stock }).await?;
    sqlx::query(
        "INSERT INTO write_offs (write_off_id, location, item, quantity, reason, value, posted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&id)
    .bind(&location.code)
    .bind(&item.sku)
    .bind(quantity.to_string())
    .bind(&body.reason)
    .bind(value.to_string())
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    ledger::movement(conn, &location.code, &item.sku, -quantity, "write_off", &id).await?;
    ledger::post(conn, "write_off", &id, ledger::SHRINKAGE, ledger::INVENTORY, value).await?;
    Ok(json!({
        "write_off_id": id, "location": location.code, "item": item.sku, "quantity": quantity, "value": value,
        "on_hand": on_hand,
    }))
}
