//! Till transactions, returns against them, and shelf prices with promotions.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use crate::refsys::db;
use crate::refsys::http::ApiError;
use crate::refsys::master;

/// Slack allowed between a requested refund and the refund at the original price.
const ARITHMETIC_SLACK: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

/// Body of `POST /sales`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewSale {
    transaction_id: String,
    location: String,
    #[serde(default)]
    customer: Option<String>,
    business_day: NaiveDate,
    #[serde(default)]
    currency: Option<String>,
    lines: Vec<SaleLine>,
}

#[derive(Debug, Deserialize)]
struct SaleLine {
    #[serde(default)]
    line: Option<i64>,
    item: String,
    quantity: Decimal,
    #[serde(default)]
    unit_price: Option<Decimal>,
}

/// Records a till transaction.
pub(crate) async fn record_sale(conn: &mut SqliteConnection, body: &NewSale) -> Result<Value, ApiError> {
    let id = db::required("transaction_id", &body.transaction_id)?;
    let known: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM sales WHERE transaction_id = ?1").bind(id).fetch_optional(&mut *conn).await?;
    if known.is_some() {
        return Err(ApiError::conflict(
            "duplicate_sale",
            "transaction_id",
            format!("transaction {id} is already recorded"),
        ));
    }
    let location = db::location(conn, "location", &body.location).await?;
    let currency = match &body.currency {
        Some(code) => db::currency("currency", code)?,
        None => master::company_currency(conn).await?,
    };
    db::lines("lines", &body.lines)?;
    let mut lines: Vec<(i64, String, Decimal, Decimal)> = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let number = line.line.unwrap_or(i as i64 + 1);
        if lines.iter().any(|(n, ..)| *n == number) {
            return Err(ApiError::validation(format!("lines[{i}].line"), format!("line {number} appears twice")));
        }
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let price = match line.unit_price {
            Some(price) => db::not_negative(&format!("lines[{i}].unit_price"), price)?,
            None => current_price(conn, &location.code, &item.sku, item.price, body.business_day).await?,
        };
        lines.push((number, item.sku, quantity, price));
    }
    let total = db::money(lines.iter().map(|(_, _, q, p)| q * p).sum());
    sqlx::query(
        "INSERT INTO sales (transaction_id, location, customer, business_day, currency, total, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(id)
    .bind(&location.code)
    .bind(&body.customer)
    .bind(body.business_day.to_string())
    .bind(&currency)
    .bind(total.to_string())
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    for (number, sku, quantity, price) in &lines {
        sqlx::query(
            "INSERT INTO sale_lines (transaction_id, line, item, quantity, unit_price, returned)
             VALUES (?1, ?2, ?3, ?4, ?5, '0')",
        )
        .bind(id)
        .bind(number)
        .bind(sku)
        .bind(quantity.to_string())
        .bind(price.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({"transaction_id": id, "status": "posted", "total": total, "currency": currency}))
}

struct SoldLine {
    line: i64,
    item: String,
    quantity: Decimal,
    unit_price: Decimal,
    returned: Decimal,
}

async fn sold_lines(conn: &mut SqliteConnection, id: &str) -> Result<Vec<SoldLine>, ApiError> {
    let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT line, item, quantity, unit_price, returned FROM sale_lines WHERE transaction_id = ?1 ORDER BY line",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(line, item, quantity, price, returned)| {
            Ok(SoldLine {
                line,
                item,
                quantity: db::dec(&quantity)?,
                unit_price: db::dec(&price)?,
                returned: db::dec(&returned)?,
            })
        })
        .collect()
}

/// The transaction with per-line returned quantities, or `None` if unknown.
pub(crate) async fn sale(conn: &mut SqliteConnection, id: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<(String, Option<String>, String, String, String, String)> = sqlx::query_as(
        "SELECT location, customer, business_day, currency, total, recorded_at FROM sales WHERE transaction_id = ?1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((location, customer, business_day, currency, total, recorded_at)) = row else {
        return Ok(None);
    };
    let lines: Vec<Value> = sold_lines(conn, id)
        .await?
        .into_iter()
        .map(|l| {
            json!({"line": l.line, "item": l.item, "quantity": l.quantity, "unit_price": l.unit_price,
                   "returned": l.returned})
        })
        .collect();
    Ok(Some(json!({
        "transaction_id": id, "location": location, "customer": customer, "business_day": business_day,
        "currency": currency, "total": db::dec(&total)?, "recorded_at": recorded_at, "lines": lines,
    })))
}

/// Body of `POST /returns`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewReturn {
    return_id: String,
    transaction_id: String,
    lines: Vec<ReturnLine>,
    /// The refund asked for; at most the refund at the original price.
    #[serde(default)]
    refund: Option<Decimal>,
    /// The returning customer, checked against the sale's customer when both are known.
    #[serde(default)]
    customer: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReturnLine {
    line: i64,
    quantity: Decimal,
}

/// Records a return against a posted sale: returned quantity ≤ sold − already returned, refund at
/// the original price.
pub(crate) async fn record_return(conn: &mut SqliteConnection, body: &NewReturn) -> Result<Value, ApiError> {
    let return_id = db::required("return_id", &body.return_id)?;
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM returns WHERE return_id = ?1")
        .bind(return_id)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_some() {
        return Err(ApiError::conflict(
            "duplicate_return",
            "return_id",
            format!("return {return_id} is already recorded"),
        ));
    }
    let transaction = body.transaction_id.trim();
    let sale_customer: Option<Option<String>> =
        sqlx::query_scalar("SELECT customer FROM sales WHERE transaction_id = ?1")
            .bind(transaction)
            .fetch_optional(&mut *conn)
            .await?;
    let sale_customer = sale_customer
        .ok_or_else(|| ApiError::validation("transaction_id", format!("unknown transaction `{transaction}`")))?;
    if let (Some(sold_to), Some(returning)) = (&sale_customer, &body.customer)
        && sold_to != returning.trim()
    {
        return Err(ApiError::validation(
            "customer",
            format!("transaction {transaction} was sold to another customer"),
        ));
    }
    db::lines("lines", &body.lines)?;
    let sold = sold_lines(conn, transaction).await?;
    let mut asked: HashMap<i64, Decimal> = HashMap::new();
    let mut refund = Decimal::ZERO;
    let mut lines = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let original = sold.iter().find(|l| l.line == line.line).ok_or_else(|| {
            ApiError::validation(
                format!("lines[{i}].line"),
                format!("transaction {transaction} has no line {}", line.line),
            )
        })?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let total = asked.entry(line.line).or_default();
        *total += quantity;
        let returnable = original.quantity - original.returned;
        if *total > returnable {
            return Err(ApiError::validation(
                format!("lines[{i}].quantity"),
                format!(
                    "line {} sold {} and {} were already returned; at most {returnable} can be returned",
                    line.line, original.quantity, original.returned
                ),
            ));
        }
        let amount = db::money(quantity * original.unit_price);
        refund += amount;
        lines.push((line.line, original.item.clone(), quantity, amount));
    }
    if let Some(requested) = body.refund {
        db::not_negative("refund", requested)?;
        if requested > refund + ARITHMETIC_SLACK {
            return Err(ApiError::validation(
                "refund",
                format!("{requested} exceeds {refund}, the refund at the original price"),
            ));
        }
        refund = requested;
    }
    sqlx::query("INSERT INTO returns (return_id, transaction_id, refund, recorded_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(return_id)
        .bind(transaction)
        .bind(refund.to_string())
        .bind(db::now())
        .execute(&mut *conn)
        .await?;
    for (line, _, quantity, amount) in &lines {
        sqlx::query("INSERT INTO return_lines (return_id, line, quantity, amount) VALUES (?1, ?2, ?3, ?4)")
            .bind(return_id)
            .bind(line)
            .bind(quantity.to_string())
            .bind(amount.to_string())
            .execute(&mut *conn)
            .await?;
    }
    for (line, total) in asked {
        let original = sold.iter().find(|l| l.line == line).map(|l| l.returned).unwrap_or_default();
        sqlx::query("UPDATE sale_lines SET returned = ?3 WHERE transaction_id = ?1 AND line = ?2")
            .bind(transaction)
            .bind(line)
            .bind((original + total).to_string())
            .execute(&mut *conn)
            .await?;
    }
    let lines: Vec<Value> = lines
        .into_iter()
        .map(|(line, item, quantity, amount)| json!({"line": line, "item": item, "quantity": quantity, "amount": amount}))
        .collect();
    Ok(json!({"return_id": return_id, "transaction_id": transaction, "refund": refund, "lines": lines}))
}

/// Returns recorded against a transaction (or all).
pub(crate) async fn returns(conn: &mut SqliteConnection, transaction: Option<&str>) -> Result<Value, ApiError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT return_id, transaction_id, refund, recorded_at FROM returns
         WHERE (?1 IS NULL OR transaction_id = ?1) ORDER BY rowid",
    )
    .bind(transaction)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (return_id, transaction_id, refund, recorded_at) in rows {
        let line_rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT line, quantity, amount FROM return_lines WHERE return_id = ?1 ORDER BY rowid")
                .bind(&return_id)
                .fetch_all(&mut *conn)
                .await?;
        let mut lines = Vec::new();
        for (line, quantity, amount) in line_rows {
            lines.push(json!({"line": line, "quantity": db::dec(&quantity)?, "amount": db::dec(&amount)?}));
        }
        out.push(json!({
            "return_id": return_id, "transaction_id": transaction_id, "refund": db::dec(&refund)?,
            "recorded_at": recorded_at, "lines": lines,
        }));
    }
    Ok(json!({ "returns": out }))
}

/// A promotional price valid over a range of days.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Promotion {
    price: Decimal,
    from: NaiveDate,
    to: NaiveDate,
}

async fn promotion(conn: &mut SqliteConnection, location: &str, sku: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT price, valid_from, valid_to FROM promotions WHERE location = ?1 AND item = ?2")
            .bind(location)
            .bind(sku)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(price, from, to)| Ok(json!({"price": db::dec(&price)?, "from": from, "to": to}))).transpose()
}

/// The price charged on `day`: the promotional price when one is valid, else the regular price.
async fn current_price(
    conn: &mut SqliteConnection,
    location: &str,
    sku: &str,
    regular: Decimal,
    day: NaiveDate,
) -> Result<Decimal, ApiError> {
    let row: Option<String> = sqlx::query_scalar(
        "SELECT price FROM promotions WHERE location = ?1 AND item = ?2 AND valid_from <= ?3 AND valid_to >= ?3",
    )
    .bind(location)
    .bind(sku)
    .bind(day.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|p| db::dec(&p)).transpose().map(|p| p.unwrap_or(regular))
}

/// Query of `GET /prices`.
#[derive(Debug, Deserialize)]
pub(crate) struct PriceQuery {
    location: Option<String>,
    item: Option<String>,
}

/// Regular and promotional price of an item at a store.
pub(crate) async fn price(conn: &mut SqliteConnection, query: &PriceQuery) -> Result<Value, ApiError> {
    let code = query.location.as_deref().ok_or_else(|| ApiError::validation("location", "location is required"))?;
    let reference = query.item.as_deref().ok_or_else(|| ApiError::validation("item", "item is required"))?;
    let location = db::location(conn, "location", code).await?;
    let item = db::item(conn, "item", reference).await?;
    let promotional = promotion(conn, &location.code, &item.sku).await?;
    Ok(json!({
        "location": location.code, "item": item.sku, "currency": master::company_currency(conn).await?,
        "regular": item.price, "promotional": promotional,
    }))
}

/// Body of `PUT /prices`.
#[derive(Debug, Deserialize)]
pub(crate) struct PriceChange {
    location: String,
    item: String,
    /// The promotion to set; `null` ends any promotion.
    promotional: Option<Promotion>,
}

/// Sets (or with `null`, clears) the promotional price of an item at a store.
pub(crate) async fn set_price(conn: &mut SqliteConnection, body: &PriceChange) -> Result<Value, ApiError> {
    let location = db::location(conn, "location", &body.location).await?;
    let item = db::item(conn, "item", &body.item).await?;
    match &body.promotional {
        None => {
            sqlx::query("DELETE FROM promotions WHERE location = ?1 AND item = ?2")
                .bind(&location.code)
                .bind(&item.sku)
                .execute(&mut *conn)
                .await?;
        }
        Some(promo) => {
            db::positive("promotional.price", promo.price)?;
            if promo.to < promo.from {
                return Err(ApiError::validation("promotional.to", "the promotion must not end before it starts"));
            }
            sqlx::query(
                "INSERT INTO promotions (location, item, price, valid_from, valid_to) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (location, item) DO UPDATE SET price = ?3, valid_from = ?4, valid_to = ?5",
            )
            .bind(&location.code)
            .bind(&item.sku)
            .bind(promo.price.to_string())
            .bind(promo.from.to_string())
            .bind(promo.to.to_string())
            .execute(&mut *conn)
            .await?;
        }
    }
    let query = PriceQuery { location: Some(location.code), item: Some(item.sku) };
    price(conn, &query).await
}
