//! Stock transfers between locations: requested, shipped (in transit), received with any
//! discrepancy written off, or cancelled.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::ledger;
use super::stock::unit_cost;
use crate::refsys::db::{self, Stock};
use crate::refsys::http::ApiError;

/// Body of `POST /transfers`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewTransfer {
    from: String,
    to: String,
    lines: Vec<TransferLine>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    reference: Option<String>,
}

/// An item and quantity of a transfer request or receipt.
#[derive(Debug, Deserialize)]
pub(crate) struct TransferLine {
    item: String,
    quantity: Decimal,
}

/// Requests a transfer; the origin must hold the book stock.
pub(crate) async fn request(conn: &mut SqliteConnection, body: &NewTransfer) -> Result<Value, ApiError> {
    let from = db::location(conn, "from", &body.from).await?;
    let to = db::location(conn, "to", &body.to).await?;
    if from.code == to.code {
        return Err(ApiError::validation("to", format!("a transfer must go to another location than {}", from.code)));
    }
    db::lines("lines", &body.lines)?;
    let mut lines: Vec<(String, Decimal, Decimal)> = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        if lines.iter().any(|(sku, _, _)| *sku == item.sku) {
            return Err(ApiError::validation(format!("lines[{i}].item"), format!("{} appears twice", item.sku)));
        }
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let stock = db::stock(conn, &from.code, &item.sku).await?;
        if stock.on_hand < quantity {
            return Err(ApiError::insufficient_stock(
                format!("lines[{i}].quantity"),
                format!("{} has {} of {} on hand; cannot transfer {quantity}", from.code, stock.on_hand, item.sku),
            ));
        }
        lines.push((item.sku, quantity, unit_cost(&stock, item.cost)));
    }
    let id = db::next_number(conn, "TR").await?;
    sqlx::query(
        "INSERT INTO transfers (transfer_id, from_location, to_location, reason, reference, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'requested', ?6)",
    )
    .bind(&id)
    .bind(&from.code)
    .bind(&to.code)
    .bind(&body.reason)
    .bind(&body.reference)
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    for (sku, quantity, cost) in &lines {
        sqlx::query(
            "INSERT INTO transfer_lines (transfer_id, item, quantity, shipped, received, unit_cost)
             VALUES (?1, ?2, ?3, '0', '0', ?4)",
        )
        .bind(&id)
        .bind(sku)
        .bind(quantity.to_string())
        .bind(cost.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({"transfer_id": id, "status": "requested", "from": from.code, "to": to.code}))
}

struct Header {
    from: String,
    to: String,
    status: String,
}

struct Line {
    item: String,
    quantity: Decimal,
    shipped: Decimal,
    unit_cost: Decimal,
}

async fn header(conn: &mut SqliteConnection, id: &str) -> Result<Header, ApiError> {
    let (from, to, status): (String, String, String) =
        sqlx::query_as("SELECT from_location, to_location, status FROM transfers WHERE transfer_id = ?1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no transfer {id}")))?;
    Ok(Header { from, to, status })
}

async fn lines(conn: &mut SqliteConnection, id: &str) -> Result<Vec<Line>, ApiError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT item, quantity, shipped, unit_cost FROM transfer_lines WHERE transfer_id = ?1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(item, quantity, shipped, cost)| {
            Ok(Line { item, quantity: db::dec(&quantity)?, shipped: db::dec(&shipped)?, unit_cost: db::dec(&cost)? })
        })
        .collect()
}

async fn set_status(conn: &mut SqliteConnection, id: &str, status: &str) -> Result<(), ApiError> {
    sqlx::query("UPDATE transfers SET status = ?2 WHERE transfer_id = ?1")
        .bind(id)
        .bind(status)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ships a requested transfer: stock leaves the origin and is in transit to the destination.
pub(crate) async fn ship(conn: &mut SqliteConnection, id: &str) -> Result<Value, ApiError> {
    let head = header(conn, id).await?;
    if head.status != "requested" {
        return Err(ApiError::transition(format!(
            "transfer {id} is {}; only requested transfers can ship",
            head.status
        )));
    }
    let mut value = Decimal::ZERO;
    for (i, line) in lines(conn, id).await?.into_iter().enumerate() {
        let origin = db::stock(conn, &head.from, &line.item).await?;
        if origin.on_hand < line.quantity {
            return Err(ApiError::insufficient_stock(
                format!("lines[{i}].quantity"),
                format!("{} has {} of {} on hand; cannot ship {}", head.from, origin.on_hand, line.item, line.quantity),
            ));
        }
        db::save_stock(conn, &head.from, &line.item, &Stock { on_hand: origin.on_hand - line.quantity, ..origin })
            .await?;
        let destination = db::stock(conn, &head.to, &line.item).await?;
        let in_transit = destination.in_transit + line.quantity;
        db::save_stock(conn, &head.to, &line.item, &Stock { in_transit, ..destination }).await?;
        sqlx::query("UPDATE transfer_lines SET shipped = quantity WHERE transfer_id = ?1 AND item = ?2")
            .bind(id)
            .bind(&line.item)
            .execute(&mut *conn)
            .await?;
        ledger::movement(conn, &head.from, &line.item, -line.quantity, "transfer_out", id).await?;
        value += line.quantity * line.unit_cost;
    }
    ledger::post(conn, "transfer", id, ledger::IN_TRANSIT, ledger::INVENTORY, value).await?;
    set_status(conn, id, "in_transit").await?;
    Ok(json!({"transfer_id": id, "status": "in_transit", "value": db::money(value)}))
}

/// Body of `POST /transfers/{id}/receive`; without lines everything shipped is received.
#[derive(Debug, Deserialize)]
pub(crate) struct Receipt {
    #[serde(default)]
    lines: Option<Vec<TransferLine>>,
}

/// Receives a transfer in transit; a difference to what was shipped is recorded as a
/// discrepancy and written off (or, for a surplus, written back).
pub(crate) async fn receive(conn: &mut SqliteConnection, id: &str, body: &Receipt) -> Result<Value, ApiError> {
    let head = header(conn, id).await?;
    if head.status != "in_transit" {
        return Err(ApiError::transition(format!(
            "transfer {id} is {}; only transfers in transit can be received",
            head.status
        )));
    }
    let shipped = lines(conn, id).await?;
    let mut counted: HashMap<String, Decimal> = HashMap::new();
    if let Some(received) = &body.lines {
        for (i, line) in received.iter().enumerate() {
            let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
            if !shipped.iter().any(|l| l.item == item.sku) {
                return Err(ApiError::validation(
                    format!("lines[{i}].item"),
                    format!("transfer {id} does not carry {}", item.sku),
                ));
            }
            let quantity = db::not_negative(&format!("lines[{i}].quantity"), line.quantity)?;
            *counted.entry(item.sku).or_default() += quantity;
        }
    }
    let mut received_value = Decimal::ZERO;
    let mut discrepancies = Vec::new();
    for line in &shipped {
        let received = match &body.lines {
            Some(_) => counted.get(&line.item).copied().unwrap_or_default(),
            None => line.shipped,
        };
        let destination = db::stock(conn, &head.to, &line.item).await?;
        let standard = db::item(conn, "item", &line.item).await?.cost;
        let old_cost = unit_cost(&destination, standard);
        let on_hand = destination.on_hand + received;
        let cost = if destination.on_hand > Decimal::ZERO && on_hand > Decimal::ZERO {
            ((destination.on_hand * old_cost + received * line.unit_cost) / on_hand).round_dp(4)
        } else if received > Decimal::ZERO {
            line.unit_cost
        } else {
            old_cost
        };
        let in_transit = destination.in_transit - line.shipped;
        db::save_stock(
            conn,
            &head.to,
            &line.item,
            &Stock { on_hand, in_transit, unit_cost: Some(cost), ..destination },
        )
        .await?;
        sqlx::query("UPDATE transfer_lines SET received = ?3 WHERE transfer_id = ?1 AND item = ?2")
            .bind(id)
            .bind(&line.item)
            .bind(received.to_string())
            .execute(&mut *conn)
            .await?;
        ledger::movement(conn, &head.to, &line.item, received, "transfer_in", id).await?;
        received_value += received * line.unit_cost;
        let difference = line.shipped - received;
        if !difference.is_zero() {
            let value = db::money(difference * line.unit_cost);
            sqlx::query(
                "INSERT INTO transfer_discrepancies (transfer_id, item, shipped, received, difference, value)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(id)
            .bind(&line.item)
            .bind(line.shipped.to_string())
            .bind(received.to_string())
            .bind(difference.to_string())
            .bind(value.to_string())
            .execute(&mut *conn)
            .await?;
            ledger::post(conn, "write_off", id, ledger::SHRINKAGE, ledger::IN_TRANSIT, value).await?;
            discrepancies.push(json!({
                "item": line.item, "shipped": line.shipped, "received": received, "difference": difference,
                "value": value,
            }));
        }
    }
    ledger::post(conn, "transfer", id, ledger::INVENTORY, ledger::IN_TRANSIT, received_value).await?;
    set_status(conn, id, "received").await?;
    Ok(json!({"transfer_id": id, "status": "received", "discrepancies": discrepancies}))
}

/// Cancels a transfer before receipt; a shipped transfer's stock returns to the origin.
pub(crate) async fn cancel(conn: &mut SqliteConnection, id: &str) -> Result<Value, ApiError> {
    let head = header(conn, id).await?;
    match head.status.as_str() {
        "requested" => {}
        "in_transit" => {
            let mut value = Decimal::ZERO;
            for line in lines(conn, id).await? {
                let origin = db::stock(conn, &head.from, &line.item).await?;
                db::save_stock(
                    conn,
                    &head.from,
                    &line.item,
                    &Stock { on_hand: origin.on_hand + line.shipped, ..origin },
                )
                .await?;
                let destination = db::stock(conn, &head.to, &line.item).await?;
                let in_transit = destination.in_transit - line.shipped;
                db::save_stock(conn, &head.to, &line.item, &Stock { in_transit, ..destination }).await?;
                ledger::movement(conn, &head.from, &line.item, line.shipped, "transfer_cancelled", id).await?;
                value += line.shipped * line.unit_cost;
            }
            ledger::post(conn, "transfer", id, ledger::INVENTORY, ledger::IN_TRANSIT, value).await?;
        }
        other => {
            return Err(ApiError::transition(format!(
                "transfer {id} is {other}; only transfers not yet received can be cancelled"
            )));
        }
    }
    set_status(conn, id, "cancelled").await?;
    Ok(json!({"transfer_id": id, "status": "cancelled"}))
}

type TransferRow = (String, String, Option<String>, Option<String>, String, String);

/// The transfer with its lines and discrepancies, or `None` if unknown.
pub(crate) async fn get(conn: &mut SqliteConnection, id: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<TransferRow> = sqlx::query_as(
        "SELECT from_location, to_location, reason, reference, status, created_at FROM transfers WHERE transfer_id = ?1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((from, to, reason, reference, status, created_at)) = row else {
        return Ok(None);
    };
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT item, quantity, shipped, received, unit_cost FROM transfer_lines WHERE transfer_id = ?1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines = Vec::new();
    for (item, quantity, shipped, received, cost) in rows {
        lines.push(json!({
            "item": item, "quantity": db::dec(&quantity)?, "shipped": db::dec(&shipped)?,
            "received": db::dec(&received)?, "unit_cost": db::dec(&cost)?,
        }));
    }
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT item, shipped, received, difference, value FROM transfer_discrepancies WHERE transfer_id = ?1 ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut discrepancies = Vec::new();
    for (item, shipped, received, difference, value) in rows {
        discrepancies.push(json!({
            "item": item, "shipped": db::dec(&shipped)?, "received": db::dec(&received)?,
            "difference": db::dec(&difference)?, "value": db::dec(&value)?,
        }));
    }
    Ok(Some(json!({
        "transfer_id": id, "from": from, "to": to, "reason": reason, "reference": reference, "status": status,
        "created_at": created_at, "lines": lines, "discrepancies": discrepancies,
    })))
}

/// Query of `GET /transfers`.
#[derive(Debug, Deserialize)]
pub(crate) struct TransferQuery {
    reference: Option<String>,
    status: Option<String>,
}

/// Lists transfers by reference and/or status.
pub(crate) async fn list(conn: &mut SqliteConnection, query: &TransferQuery) -> Result<Value, ApiError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT transfer_id FROM transfers WHERE (?1 IS NULL OR reference = ?1) AND (?2 IS NULL OR status = ?2)
         ORDER BY transfer_id",
    )
    .bind(query.reference.as_deref())
    .bind(query.status.as_deref())
    .fetch_all(&mut *conn)
    .await?;
    let mut transfers = Vec::new();
    for id in ids {
        if let Some(transfer) = get(conn, &id).await? {
            transfers.push(transfer);
        }
    }
    Ok(json!({ "transfers": transfers }))
}
