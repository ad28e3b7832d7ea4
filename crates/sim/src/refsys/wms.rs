//! The reference WMS: distribution-centre stock, transfer orders that reserve, pick and ship it,
//! and inbound receipts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::api::Route;
use super::db::{self, Location, Stock};
use super::http::{Answer, ApiError, AppState, Change, Command, Params, Reading};

/// Every operation of the WMS's API.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/availability", "Stock on hand, reserved and available per distribution centre", get(availability))
            .query(&["item", "dc"]),
        Route::get("/transfer-orders", "Transfer orders by reference", get(list_orders))
            .query(&["reference", "status"]),
        Route::post("/transfer-orders", "Create a transfer order, reserving its stock", post(create_order)).created(),
        Route::get("/transfer-orders/{id}", "A transfer order", get(get_order)),
        Route::post("/transfer-orders/{id}/pick", "Confirm a transfer order picked", post(pick_order)),
        Route::post("/transfer-orders/{id}/ship", "Ship a transfer order", post(ship_order)),
        Route::post(
            "/transfer-orders/{id}/cancel",
            "Cancel a transfer order, releasing its reservation",
            post(cancel_order),
        ),
        Route::post("/receipts", "Receive goods into a distribution centre", post(receive)).created(),
    ]
}

async fn dc(conn: &mut SqliteConnection, field: &str, code: &str) -> Result<Location, ApiError> {
    let location = db::location(conn, field, code).await?;
    if !location.is_dc() {
        return Err(ApiError::validation(
            field,
            format!("{} is a {}, not a distribution centre", location.code, location.kind),
        ));
    }
    Ok(location)
}

/// Query of `GET /availability`.
#[derive(Debug, Deserialize)]
struct AvailabilityQuery {
    item: Option<String>,
    dc: Option<String>,
}

async fn availability(State(s): State<AppState>, Params(q): Params<AvailabilityQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    let reference = q.item.as_deref().ok_or_else(|| ApiError::validation("item", "item is required"))?;
    let item = db::item(&mut conn, "item", reference).await?;
    let dcs: Vec<String> = match &q.dc {
        Some(code) => vec![dc(&mut conn, "dc", code).await?.code],
        None => {
            sqlx::query_scalar("SELECT code FROM locations WHERE kind = 'distribution_centre' ORDER BY code")
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let mut lines = Vec::new();
    for code in dcs {
        let stock = db::stock(&mut conn, &code, &item.sku).await?;
        lines.push(json!({
            "dc": code, "on_hand": stock.on_hand, "reserved": stock.reserved,
            "available": stock.on_hand - stock.reserved,
        }));
    }
    Ok(Json(json!({"item": item.sku, "gtin": item.gtin, "lines": lines})))
}

/// Body of `POST /transfer-orders`.
#[derive(Debug, Deserialize)]
struct NewOrder {
    reference: String,
    from_dc: String,
    to: String,
    lines: Vec<OrderLine>,
}

#[derive(Debug, Deserialize)]
struct OrderLine {
    item: String,
    quantity: Decimal,
}

async fn create_order(State(s): State<AppState>, cmd: Command<NewOrder>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let conn = change.conn();
    let body = &cmd.body;
    let reference = db::required("reference", &body.reference)?;
    let from = dc(conn, "from_dc", &body.from_dc).await?;
    let to = db::location(conn, "to", &body.to).await?;
    if to.code == from.code {
        return Err(ApiError::validation("to", format!("a transfer order must leave {}", from.code)).into());
    }
    db::lines("lines", &body.lines)?;
    let mut lines: Vec<(String, Decimal)> = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let stock = db::stock(conn, &from.code, &item.sku).await?;
        let already: Decimal = lines.iter().filter(|(sku, _)| *sku == item.sku).map(|(_, q)| *q).sum();
        let available = stock.on_hand - stock.reserved - already;
        if available < quantity {
            return Err(ApiError::insufficient_stock(
                format!("lines[{i}].quantity"),
                format!("{} has {available} of {} available; cannot reserve {quantity}", from.code, item.sku),
            )
            .into());
        }
        lines.push((item.sku, quantity));
    }
    let id = db::next_number(conn, "TO").await?;
    let now = db::now();
    sqlx::query(
        "INSERT INTO transfer_orders (order_id, reference, from_dc, to_location, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'reserved', ?5, ?5)",
    )
    .bind(&id)
    .bind(reference)
    .bind(&from.code)
    .bind(&to.code)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    for (n, (sku, quantity)) in lines.iter().enumerate() {
        sqlx::query("INSERT INTO transfer_order_lines (order_id, line, item, quantity) VALUES (?1, ?2, ?3, ?4)")
            .bind(&id)
            .bind(n as i64 + 1)
            .bind(sku)
            .bind(quantity.to_string())
            .execute(&mut *conn)
            .await?;
        let stock = db::stock(conn, &from.code, sku).await?;
        let reserved = stock.reserved + quantity;
        db::save_stock(conn, &from.code, sku, &Stock { reserved, ..stock }).await?;
    }
    let answer = json!({"order_id": id, "status": "reserved", "reference": reference});
    change.commit(StatusCode::CREATED, answer).await
}

async fn order(conn: &mut SqliteConnection, id: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT reference, from_dc, to_location, status, created_at, updated_at FROM transfer_orders WHERE order_id = ?1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((reference, from_dc, to, status, created_at, updated_at)) = row else {
        return Ok(None);
    };
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT line, item, quantity FROM transfer_order_lines WHERE order_id = ?1 ORDER BY line")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let mut lines = Vec::new();
    for (line, item, quantity) in rows {
        lines.push(json!({"line": line, "item": item, "quantity": db::dec(&quantity)?}));
    }
    Ok(Some(json!({
        "order_id": id, "reference": reference, "from_dc": from_dc, "to": to, "status": status,
        "created_at": created_at, "updated_at": updated_at, "lines": lines,
    })))
}

async fn get_order(State(s): State<AppState>, Path(id): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    order(&mut conn, &id).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("no transfer order {id}")))
}

/// Query of `GET /transfer-orders`.
#[derive(Debug, Deserialize)]
struct OrderQuery {
    reference: Option<String>,
    status: Option<String>,
}

async fn list_orders(State(s): State<AppState>, Params(q): Params<OrderQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT order_id FROM transfer_orders WHERE (?1 IS NULL OR reference = ?1) AND (?2 IS NULL OR status = ?2)
         ORDER BY order_id",
    )
    .bind(q.reference.as_deref())
    .bind(q.status.as_deref())
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = Vec::new();
    for id in ids {
        if let Some(found) = order(&mut conn, &id).await? {
            orders.push(found);
        }
    }
    Ok(Json(json!({ "transfer_orders": orders })))
}

/// Moves an order from one of `from` to `to`, applying `effect` to each line's stock
/// (on hand, reserved) at the origin.
async fn advance(
    conn: &mut SqliteConnection,
    id: &str,
    from: &[&str],
    to: &str,
    effect: fn(Stock, Decimal) -> Stock,
) -> Result<Value, ApiError> {
    let (status, dc): (String, String) =
        sqlx::query_as("SELECT status, from_dc FROM transfer_orders WHERE order_id = ?1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no transfer order {id}")))?;
    if !from.contains(&status.as_str()) {
        return Err(ApiError::transition(format!(
            "transfer order {id} is {status}; it must be {} to become {to}",
            from.join(" or ")
        )));
    }
    let lines: Vec<(String, String)> =
        sqlx::query_as("SELECT item, quantity FROM transfer_order_lines WHERE order_id = ?1 ORDER BY line")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    for (sku, quantity) in lines {
        let stock = db::stock(conn, &dc, &sku).await?;
        db::save_stock(conn, &dc, &sku, &effect(stock, db::dec(&quantity)?)).await?;
    }
    sqlx::query("UPDATE transfer_orders SET status = ?2, updated_at = ?3 WHERE order_id = ?1")
        .bind(id)
        .bind(to)
        .bind(db::now())
        .execute(&mut *conn)
        .await?;
    Ok(json!({"order_id": id, "status": to}))
}

/// A body that carries nothing the operation needs (unknown fields are ignored).
#[derive(Debug, Deserialize)]
struct Nothing {}

async fn pick_order(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = advance(change.conn(), &id, &["reserved"], "picked", |stock, _| stock).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn ship_order(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = advance(change.conn(), &id, &["reserved", "picked"], "shipped", |stock, q| Stock {
        on_hand: stock.on_hand - q,
        reserved: stock.reserved - q,
        ..stock
    })
    .await?;
    change.commit(StatusCode::OK, answer).await
}

async fn cancel_order(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = advance(change.conn(), &id, &["reserved", "picked"], "cancelled", |stock, q| Stock {
        reserved: stock.reserved - q,
        ..stock
    })
    .await?;
    change.commit(StatusCode::OK, answer).await
}

/// Body of `POST /receipts`.
#[derive(Debug, Deserialize)]
struct NewReceipt {
    dc: String,
    reference: String,
    lines: Vec<OrderLine>,
}

async fn receive(State(s): State<AppState>, cmd: Command<NewReceipt>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let conn = change.conn();
    let body = &cmd.body;
    let location = dc(conn, "dc", &body.dc).await?;
    let reference = db::required("reference", &body.reference)?;
    db::lines("lines", &body.lines)?;
    let mut lines = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        lines.push((item.sku, quantity));
    }
    let id = db::next_number(conn, "RC").await?;
    sqlx::query("INSERT INTO dc_receipts (receipt_id, dc, reference, received_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&id)
        .bind(&location.code)
        .bind(reference)
        .bind(db::now())
        .execute(&mut *conn)
        .await?;
    let mut received = Vec::new();
    for (sku, quantity) in lines {
        sqlx::query("INSERT INTO dc_receipt_lines (receipt_id, item, quantity) VALUES (?1, ?2, ?3)")
            .bind(&id)
            .bind(&sku)
            .bind(quantity.to_string())
            .execute(&mut *conn)
            .await?;
        let stock = db::stock(conn, &location.code, &sku).await?;
        let on_hand = stock.on_hand + quantity;
        db::save_stock(conn, &location.code, &sku, &Stock { on_hand, ..stock }).await?;
        received.push(json!({"item": sku, "quantity": quantity, "on_hand": on_hand}));
    }
    let answer = json!({"receipt_id": id, "dc": location.code, "reference": reference, "lines": received});
    change.commit(StatusCode::CREATED, answer).await
}
