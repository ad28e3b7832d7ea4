//! Customer orders fulfilled by pickup or delivery from a store, and notifications.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use crate::refsys::db;
use crate::refsys::http::ApiError;
use crate::refsys::master;

/// Statuses of an order that still needs fulfilment.
const OPEN: [&str; 2] = ["placed", "ready"];
/// Every status an order can have.
const STATUSES: [&str; 5] = ["placed", "ready", "collected", "delivered", "cancelled"];

/// Body of `POST /orders`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewOrder {
    order_number: String,
    #[serde(default)]
    customer: Option<String>,
    fulfilment: String,
    fulfilment_location: String,
    promised_at: DateTime<Utc>,
    #[serde(default)]
    currency: Option<String>,
    lines: Vec<OrderLine>,
}

#[derive(Debug, Deserialize)]
struct OrderLine {
    #[serde(default)]
    line: Option<i64>,
    item: String,
    quantity: Decimal,
    #[serde(default)]
    unit_price: Option<Decimal>,
}

/// Places a customer order.
pub(crate) async fn place(conn: &mut SqliteConnection, body: &NewOrder) -> Result<Value, ApiError> {
    let number = db::required("order_number", &body.order_number)?;
    if status_of(conn, number).await?.is_some() {
        return Err(ApiError::conflict("duplicate_order", "order_number", format!("order {number} already exists")));
    }
    let fulfilment = body.fulfilment.trim();
    if fulfilment != "pickup" && fulfilment != "delivery" {
        return Err(ApiError::validation(
            "fulfilment",
            format!("`{fulfilment}` is not a fulfilment; expected pickup or delivery"),
        ));
    }
    let location = db::location(conn, "fulfilment_location", &body.fulfilment_location).await?;
    let currency = match &body.currency {
        Some(code) => db::currency("currency", code)?,
        None => master::company_currency(conn).await?,
    };
    db::lines("lines", &body.lines)?;
    let mut lines: Vec<(i64, String, Decimal, Decimal)> = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let n = line.line.unwrap_or(i as i64 + 1);
        if lines.iter().any(|(seen, ..)| *seen == n) {
            return Err(ApiError::validation(format!("lines[{i}].line"), format!("line {n} appears twice")));
        }
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let price = db::not_negative(&format!("lines[{i}].unit_price"), line.unit_price.unwrap_or(item.price))?;
        lines.push((n, item.sku, quantity, price));
    }
    let total = db::money(lines.iter().map(|(_, _, q, p)| q * p).sum());
    let now = db::now();
    sqlx::query(
        "INSERT INTO orders (order_number, customer, fulfilment, location, promised_at, currency, status, placed_at,
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'placed', ?7, ?7)",
    )
    .bind(number)
    .bind(&body.customer)
    .bind(fulfilment)
    .bind(&location.code)
    .bind(body.promised_at.to_rfc3339())
    .bind(&currency)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    for (n, sku, quantity, price) in &lines {
        sqlx::query(
            "INSERT INTO order_lines (order_number, line, item, quantity, unit_price) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(number)
        .bind(n)
        .bind(sku)
        .bind(quantity.to_string())
        .bind(price.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({"order_number": number, "status": "placed", "total": total, "currency": currency}))
}

async fn status_of(conn: &mut SqliteConnection, number: &str) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query_scalar("SELECT status FROM orders WHERE order_number = ?1")
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?)
}

async fn open_status(conn: &mut SqliteConnection, number: &str, action: &str) -> Result<String, ApiError> {
    let status = status_of(conn, number).await?.ok_or_else(|| ApiError::not_found(format!("no order {number}")))?;
    if !OPEN.contains(&status.as_str()) {
        return Err(ApiError::transition(format!("order {number} is {status}; only open orders can be {action}")));
    }
    Ok(status)
}

type OrderRow = (String, Option<String>, String, String, String, String, String, Option<String>, String, String);

/// The order with its lines and reroutes, or `None` if unknown.
pub(crate) async fn get(conn: &mut SqliteConnection, number: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<OrderRow> = sqlx::query_as(
        "SELECT order_number, customer, fulfilment, location, promised_at, currency, status, cancel_reason, placed_at,
                updated_at FROM orders WHERE order_number = ?1",
    )
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((number, customer, fulfilment, location, promised_at, currency, status, reason, placed, updated)) = row
    else {
        return Ok(None);
    };
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT line, item, quantity, unit_price FROM order_lines WHERE order_number = ?1 ORDER BY line",
    )
    .bind(&number)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    for (line, item, quantity, price) in rows {
        let (quantity, price) = (db::dec(&quantity)?, db::dec(&price)?);
        total += quantity * price;
        lines.push(json!({"line": line, "item": item, "quantity": quantity, "unit_price": price}));
    }
    let reroutes: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT from_location, to_location, promised_at, rerouted_at FROM order_reroutes WHERE order_number = ?1
         ORDER BY rowid",
    )
    .bind(&number)
    .fetch_all(&mut *conn)
    .await?;
    let reroutes: Vec<Value> = reroutes
        .into_iter()
        .map(|(from, to, promised, at)| json!({"from": from, "to": to, "promised_at": promised, "rerouted_at": at}))
        .collect();
    Ok(Some(json!({
        "order_number": number, "customer": customer, "fulfilment": fulfilment, "fulfilment_location": location,
        "promised_at": promised_at, "currency": currency, "status": status, "cancel_reason": reason,
        "placed_at": placed, "updated_at": updated, "total": db::money(total), "lines": lines, "reroutes": reroutes,
    })))
}

/// Query of `GET /orders`.
#[derive(Debug, Deserialize)]
pub(crate) struct OrderQuery {
    location: Option<String>,
    item: Option<String>,
    status: Option<String>,
}

/// Orders by fulfilment location, item and status (`open` = not collected, delivered or cancelled).
pub(crate) async fn list(conn: &mut SqliteConnection, query: &OrderQuery) -> Result<Value, ApiError> {
    let sku = match &query.item {
        Some(item) => Some(db::item(conn, "item", item).await?.sku),
        None => None,
    };
    if let Some(status) = &query.status
        && status != "open"
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::validation(
            "status",
            format!("unknown status `{status}`; expected open or one of {}", STATUSES.join(", ")),
        ));
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT order_number, status FROM orders o WHERE (?1 IS NULL OR location = ?1)
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_number = o.order_number AND l.item = ?2))
         ORDER BY order_number",
    )
    .bind(query.location.as_deref())
    .bind(sku.as_deref())
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = Vec::new();
    for (number, status) in rows {
        let wanted = match query.status.as_deref() {
            None => true,
            Some("open") => OPEN.contains(&status.as_str()),
            Some(other) => other == status,
        };
        if wanted && let Some(order) = get(conn, &number).await? {
            orders.push(order);
        }
    }
    Ok(json!({ "orders": orders }))
}

/// Body of `POST /orders/{n}/reroute`.
#[derive(Debug, Deserialize)]
pub(crate) struct Reroute {
    location: String,
    #[serde(default)]
    promised_at: Option<DateTime<Utc>>,
}

/// Moves an open order's fulfilment to another store; it goes back to `placed` there.
pub(crate) async fn reroute(conn: &mut SqliteConnection, number: &str, body: &Reroute) -> Result<Value, ApiError> {
    open_status(conn, number, "rerouted").await?;
    let (current, promised): (String, String) =
        sqlx::query_as("SELECT location, promised_at FROM orders WHERE order_number = ?1")
            .bind(number)
            .fetch_one(&mut *conn)
            .await?;
    let location = db::location(conn, "location", &body.location).await?;
    if location.code == current {
        return Err(ApiError::validation("location", format!("order {number} is already fulfilled from {current}")));
    }
    let promised = body.promised_at.map(|t| t.to_rfc3339()).unwrap_or(promised);
    let now = db::now();
    sqlx::query(
        "INSERT INTO order_reroutes (order_number, from_location, to_location, promised_at, rerouted_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(number)
    .bind(&current)
    .bind(&location.code)
    .bind(&promised)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE orders SET location = ?2, promised_at = ?3, status = 'placed', updated_at = ?4 WHERE order_number = ?1",
    )
    .bind(number)
    .bind(&location.code)
    .bind(&promised)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    Ok(json!({
        "order_number": number, "status": "placed", "fulfilment_location": location.code, "promised_at": promised,
        "previous_location": current,
    }))
}

/// Body of `POST /orders/{n}/cancel`.
#[derive(Debug, Deserialize)]
pub(crate) struct Cancel {
    #[serde(default)]
    reason: Option<String>,
}

/// Cancels an open order.
pub(crate) async fn cancel(conn: &mut SqliteConnection, number: &str, body: &Cancel) -> Result<Value, ApiError> {
    open_status(conn, number, "cancelled").await?;
    sqlx::query("UPDATE orders SET status = 'cancelled', cancel_reason = ?2, updated_at = ?3 WHERE order_number = ?1")
        .bind(number)
        .bind(&body.reason)
        .bind(db::now())
        .execute(&mut *conn)
        .await?;
    Ok(json!({"order_number": number, "status": "cancelled", "reason": body.reason}))
}

/// Advances fulfilment: a placed order becomes ready; a ready order is collected (pickup) or
/// delivered (delivery).
pub(crate) async fn fulfil(conn: &mut SqliteConnection, number: &str) -> Result<Value, ApiError> {
    let status = open_status(conn, number, "fulfilled").await?;
    let fulfilment: String = sqlx::query_scalar("SELECT fulfilment FROM orders WHERE order_number = ?1")
        .bind(number)
        .fetch_one(&mut *conn)
        .await?;
    let next = match (status.as_str(), fulfilment.as_str()) {
        ("placed", _) => "ready",
        (_, "pickup") => "collected",
        _ => "delivered",
    };
    sqlx::query("UPDATE orders SET status = ?2, updated_at = ?3 WHERE order_number = ?1")
        .bind(number)
        .bind(next)
        .bind(db::now())
        .execute(&mut *conn)
        .await?;
    Ok(json!({"order_number": number, "status": next}))
}

/// Body of `POST /notifications`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewNotification {
    to: String,
    #[serde(default)]
    order_number: Option<String>,
    #[serde(default)]
    location: Option<String>,
    subject: String,
    message: String,
}

/// Sends a notification to customer service or to the customer of an order.
pub(crate) async fn notify(conn: &mut SqliteConnection, body: &NewNotification) -> Result<Value, ApiError> {
    let to = body.to.trim();
    if to != "customer_service" && to != "customer" {
        return Err(ApiError::validation(
            "to",
            format!("`{to}` is not a recipient; expected customer_service or customer"),
        ));
    }
    if let Some(number) = &body.order_number
        && status_of(conn, number.trim()).await?.is_none()
    {
        return Err(ApiError::validation("order_number", format!("unknown order `{number}`")));
    }
    if to == "customer" && body.order_number.is_none() {
        return Err(ApiError::validation("order_number", "a notification to the customer needs the order it is about"));
    }
    let location = match &body.location {
        Some(code) => Some(db::location(conn, "location", code).await?.code),
        None => None,
    };
    let subject = db::required("subject", &body.subject)?;
    let message = db::required("message", &body.message)?;
    let id = db::next_number(conn, "N").await?;
    sqlx::query(
        "INSERT INTO notifications (notification_id, recipient, order_number, location, subject, message, sent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&id)
    .bind(to)
    .bind(body.order_number.as_deref().map(str::trim))
    .bind(&location)
    .bind(subject)
    .bind(message)
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    Ok(json!({"notification_id": id}))
}

/// Query of `GET /notifications`.
#[derive(Debug, Deserialize)]
pub(crate) struct NotificationQuery {
    to: Option<String>,
    order_number: Option<String>,
}

type NotificationRow = (String, String, Option<String>, Option<String>, String, String, String);

/// Notifications by recipient and order, oldest first.
pub(crate) async fn notifications(conn: &mut SqliteConnection, query: &NotificationQuery) -> Result<Value, ApiError> {
    let rows: Vec<NotificationRow> = sqlx::query_as(
        "SELECT notification_id, recipient, order_number, location, subject, message, sent_at FROM notifications
         WHERE (?1 IS NULL OR recipient = ?1) AND (?2 IS NULL OR order_number = ?2) ORDER BY rowid",
    )
    .bind(query.to.as_deref())
    .bind(query.order_number.as_deref())
    .fetch_all(&mut *conn)
    .await?;
    let notifications: Vec<Value> = rows
        .into_iter()
        .map(|(id, to, order, location, subject, message, sent_at)| {
            json!({"notification_id": id, "to": to, "order_number": order, "location": location,
                   "subject": subject, "message": message, "sent_at": sent_at})
        })
        .collect();
    Ok(json!({ "notifications": notifications }))
}
