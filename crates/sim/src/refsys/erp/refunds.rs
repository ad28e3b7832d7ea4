//! Customer refunds for returns: a ledger posting and, when the goods go back on the shelf,
//! a stock movement.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::ledger;
use super::stock::unit_cost;
use crate::refsys::db::{self, Stock};
use crate::refsys::http::ApiError;

/// Body of `POST /refunds`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewRefund {
    return_id: String,
    location: String,
    #[serde(default)]
    sale_id: Option<String>,
    currency: String,
    amount: Decimal,
    #[serde(default)]
    lines: Vec<RefundLine>,
    #[serde(default)]
    restock: bool,
}

#[derive(Debug, Deserialize)]
struct RefundLine {
    item: String,
    quantity: Decimal,
    #[serde(default)]
    unit_price: Option<Decimal>,
}

/// Posts a refund; a return is refunded at most once.
pub(crate) async fn post(conn: &mut SqliteConnection, body: &NewRefund) -> Result<Value, ApiError> {
    let return_id = db::required("return_id", &body.return_id)?;
    let existing: Option<String> = sqlx::query_scalar("SELECT refund_id FROM refunds WHERE return_id = ?1")
        .bind(return_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(refund_id) = existing {
        return Err(ApiError::conflict(
            "duplicate_refund",
            "return_id",
            format!("return {return_id} was already refunded as {refund_id}"),
        ));
    }
    let location = db::location(conn, "location", &body.location).await?;
    let currency = db::currency("currency", &body.currency)?;
    let amount = db::positive("amount", body.amount)?;
    if body.restock {
        db::lines("lines", &body.lines)?;
    }
    let mut lines = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let price = db::not_negative(&format!("lines[{i}].unit_price"), line.unit_price.unwrap_or(item.price))?;
        lines.push((item, quantity, price));
    }
    let refund_id = db::next_number(conn, "RF").await?;
    sqlx::query(
        "INSERT INTO refunds (refund_id, return_id, location, sale_id, currency, amount, restock, status, posted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'posted', ?8)",
    )
    .bind(&refund_id)
    .bind(return_id)
    .bind(&location.code)
    .bind(&body.sale_id)
    .bind(&currency)
    .bind(amount.to_string())
    .bind(body.restock)
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    ledger::post(conn, "refund", &refund_id, ledger::SALES_RETURNS, ledger::CASH, amount).await?;
    let mut restocked = Decimal::ZERO;
    for (item, quantity, price) in &lines {
        sqlx::query("INSERT INTO refund_lines (refund_id, item, quantity, unit_price) VALUES (?1, ?2, ?3, ?4)")
            .bind(&refund_id)
            .bind(&item.sku)
            .bind(quantity.to_string())
            .bind(price.to_string())
            .execute(&mut *conn)
            .await?;
        if body.restock {
            let stock = db::stock(conn, &location.code, &item.sku).await?;
            restocked += quantity * unit_cost(&stock, item.cost);
            let on_hand = stock.on_hand + quantity;
            db::save_stock(conn, &location.code, &item.sku, &Stock { on_hand, ..stock }).await?;
            ledger::movement(conn, &location.code, &item.sku, *quantity, "return", &refund_id).await?;
        }
    }
    ledger::post(conn, "refund", &refund_id, ledger::INVENTORY, ledger::COST_OF_SALES, restocked).await?;
    Ok(json!({
        "refund_id": refund_id, "return_id": return_id, "status": "posted", "amount": amount, "currency": currency,
        "restocked": body.restock,
    }))
}

type RefundRow = (String, String, String, Option<String>, String, String, bool, String, String);

/// The refund with its lines, or `None` if unknown.
pub(crate) async fn get(conn: &mut SqliteConnection, refund_id: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<RefundRow> = sqlx::query_as(
        "SELECT refund_id, return_id, location, sale_id, currency, amount, restock, status, posted_at
         FROM refunds WHERE refund_id = ?1",
    )
    .bind(refund_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((refund_id, return_id, location, sale_id, currency, amount, restock, status, posted_at)) = row else {
        return Ok(None);
    };
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT item, quantity, unit_price FROM refund_lines WHERE refund_id = ?1 ORDER BY rowid")
            .bind(&refund_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut lines = Vec::new();
    for (item, quantity, price) in rows {
        lines.push(json!({"item": item, "quantity": db::dec(&quantity)?, "unit_price": db::dec(&price)?}));
    }
    Ok(Some(json!({
        "refund_id": refund_id, "return_id": return_id, "location": location, "sale_id": sale_id,
        "currency": currency, "amount": db::dec(&amount)?, "restock": restock, "status": status,
        "posted_at": posted_at, "lines": lines,
    })))
}

/// Query of `GET /refunds`.
#[derive(Debug, Deserialize)]
pub(crate) struct RefundQuery {
    return_id: Option<String>,
}

/// Lists refunds, optionally of one return.
pub(crate) async fn list(conn: &mut SqliteConnection, query: &RefundQuery) -> Result<Value, ApiError> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT refund_id FROM refunds WHERE (?1 IS NULL OR return_id = ?1) ORDER BY refund_id")
            .bind(query.return_id.as_deref())
            .fetch_all(&mut *conn)
            .await?;
    let mut refunds = Vec::new();
    for id in ids {
        if let Some(refund) = get(conn, &id).await? {
            refunds.push(refund);
        }
    }
    Ok(json!({ "refunds": refunds }))
}
