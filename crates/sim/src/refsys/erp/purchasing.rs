//! Purchase orders, their approval, budgets and goods receipts.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::ledger;
use crate::refsys::db::{self, Stock};
use crate::refsys::http::ApiError;
use crate::refsys::master;

/// Above this total (company currency) a purchase order needs a second approval level.
pub(crate) const TWO_LEVEL_THRESHOLD: Decimal = Decimal::from_parts(5000, 0, 0, false, 0);

/// Statuses of a purchase order still expecting goods or a decision.
const OPEN: [&str; 3] = ["pending_approval", "approved", "partially_received"];
/// Statuses after approval; their totals are committed against the budget.
const COMMITTED: [&str; 3] = ["approved", "partially_received", "received"];
/// Every status a purchase order can have.
const STATUSES: [&str; 5] = ["pending_approval", "approved", "rejected", "partially_received", "received"];

/// Body of `POST /purchase-orders`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewPurchaseOrder {
    po_number: String,
    supplier: String,
    location: String,
    #[serde(default)]
    currency: Option<String>,
    lines: Vec<NewOrderLine>,
    #[serde(default)]
    expected_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize)]
struct NewOrderLine {
    #[serde(default)]
    line: Option<u32>,
    item: String,
    quantity: Decimal,
    #[serde(default)]
    unit_price: Option<Decimal>,
}

/// How many approval levels a purchase order of `total` needs.
fn levels_required(total: Decimal) -> i64 {
    if total > TWO_LEVEL_THRESHOLD { 2 } else { 1 }
}

async fn po_exists(conn: &mut SqliteConnection, po_number: &str) -> Result<bool, ApiError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM purchase_orders WHERE po_number = ?1")
        .bind(po_number)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

async fn supplier(conn: &mut SqliteConnection, field: &str, id: &str) -> Result<String, ApiError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM suppliers WHERE id = ?1").bind(id.trim()).fetch_optional(&mut *conn).await?;
    found.ok_or_else(|| ApiError::validation(field, format!("unknown supplier `{id}`")))
}

/// Registers a purchase order awaiting approval.
pub(crate) async fn create(conn: &mut SqliteConnection, body: &NewPurchaseOrder) -> Result<Value, ApiError> {
    let po_number = db::required("po_number", &body.po_number)?;
    if po_exists(conn, po_number).await? {
        return Err(ApiError::conflict(
            "duplicate_purchase_order",
            "po_number",
            format!("purchase order {po_number} already exists"),
        ));
    }
    let supplier = supplier(conn, "supplier", &body.supplier).await?;
    let location = db::location(conn, "location", &body.location).await?;
    let currency = match &body.currency {
        Some(code) => db::currency("currency", code)?,
        None => master::company_currency(conn).await?,
    };
    db::lines("lines", &body.lines)?;
    let mut seen = HashSet::new();
    let mut lines = Vec::with_capacity(body.lines.len());
    for (i, line) in body.lines.iter().enumerate() {
        let number = line.line.unwrap_or(i as u32 + 1);
        if !seen.insert(number) {
            return Err(ApiError::validation(format!("lines[{i}].line"), format!("line {number} appears twice")));
        }
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let price = db::not_negative(&format!("lines[{i}].unit_price"), line.unit_price.unwrap_or(item.cost))?;
        lines.push((number, item.sku, quantity, price));
    }
    let total = db::money(lines.iter().map(|(_, _, q, p)| q * p).sum());
    sqlx::query(
        "INSERT INTO purchase_orders (po_number, supplier, location, currency, status, expected_on, total, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending_approval', ?5, ?6, ?7)",
    )
    .bind(po_number)
    .bind(&supplier)
    .bind(&location.code)
    .bind(&currency)
    .bind(body.expected_on.map(|d| d.to_string()))
    .bind(total.to_string())
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    for (number, sku, quantity, price) in &lines {
        sqlx::query(
            "INSERT INTO purchase_order_lines (po_number, line, item, quantity, unit_price, received)
             VALUES (?1, ?2, ?3, ?4, ?5, '0')",
        )
        .bind(po_number)
        .bind(i64::from(*number))
        .bind(sku)
        .bind(quantity.to_string())
        .bind(price.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({
        "po_number": po_number, "status": "pending_approval", "total": total, "currency": currency,
        "approvals_required": levels_required(total),
    }))
}

type OrderRow = (String, String, String, String, String, Option<String>, String, i64, Option<String>, String);

/// The full purchase order, or `None` if unknown.
pub(crate) async fn get(conn: &mut SqliteConnection, po_number: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<OrderRow> = sqlx::query_as(
        "SELECT po_number, supplier, location, currency, status, expected_on, total, expedited, expedite_reason,
                created_at FROM purchase_orders WHERE po_number = ?1",
    )
    .bind(po_number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((po_number, supplier, location, currency, status, expected_on, total, expedited, reason, created)) = row
    else {
        return Ok(None);
    };
    let total = db::dec(&total)?;
    let line_rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT line, item, quantity, unit_price, received FROM purchase_order_lines WHERE po_number = ?1 ORDER BY line",
    )
    .bind(&po_number)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines = Vec::new();
    for (line, item, quantity, price, received) in line_rows {
        lines.push(json!({
            "line": line, "item": item, "quantity": db::dec(&quantity)?, "unit_price": db::dec(&price)?,
            "received": db::dec(&received)?,
        }));
    }
    let approvals = approvals(conn, &po_number).await?;
    Ok(Some(json!({
        "po_number": po_number, "supplier": supplier, "location": location, "currency": currency,
        "status": status, "expected_on": expected_on, "total": total, "expedited": expedited != 0,
        "expedite_reason": reason, "approvals_required": levels_required(total), "approvals": approvals,
        "lines": lines, "created_at": created,
    })))
}

async fn approvals(conn: &mut SqliteConnection, po_number: &str) -> Result<Vec<Value>, ApiError> {
    let rows: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT level, decision, approver, comment, decided_at FROM purchase_order_approvals
         WHERE po_number = ?1 ORDER BY rowid",
    )
    .bind(po_number)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(level, decision, approver, comment, decided_at)| {
            json!({"level": level, "decision": decision, "approver": approver, "comment": comment,
                   "decided_at": decided_at})
        })
        .collect())
}

/// Query of `GET /purchase-orders`.
#[derive(Debug, Deserialize)]
pub(crate) struct OrderQuery {
    location: Option<String>,
    item: Option<String>,
    status: Option<String>,
}

/// Lists purchase orders by location, item and status (`open` = awaiting approval or goods).
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
    let numbers: Vec<(String, String)> = sqlx::query_as(
        "SELECT po_number, status FROM purchase_orders po
         WHERE (?1 IS NULL OR location = ?1)
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM purchase_order_lines l WHERE l.po_number = po.po_number AND l.item = ?2))
         ORDER BY po_number",
    )
    .bind(query.location.as_deref())
    .bind(sku.as_deref())
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = Vec::new();
    for (po_number, status) in numbers {
        let wanted = match query.status.as_deref() {
            None => true,
            Some("open") => OPEN.contains(&status.as_str()),
            Some(other) => other == status,
        };
        if wanted && let Some(order) = get(conn, &po_number).await? {
            orders.push(order);
        }
    }
    Ok(json!({ "purchase_orders": orders }))
}

/// Body of `POST /purchase-orders/{po}/approval`.
#[derive(Debug, Deserialize)]
pub(crate) struct Approval {
    decision: String,
    #[serde(default)]
    level: Option<i64>,
    approver: String,
    #[serde(default)]
    comment: Option<String>,
}

/// Records one approval decision; the order is approved when the last required level approves.
pub(crate) async fn decide(conn: &mut SqliteConnection, po_number: &str, body: &Approval) -> Result<Value, ApiError> {
    let (status, total): (String, String) =
        sqlx::query_as("SELECT status, total FROM purchase_orders WHERE po_number = ?1")
            .bind(po_number)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no purchase order {po_number}")))?;
    if status != "pending_approval" {
        return Err(ApiError::transition(format!(
            "purchase order {po_number} is {status}; only pending_approval orders can be decided"
        )));
    }
    let decision = body.decision.trim();
    if decision != "approved" && decision != "rejected" {
        return Err(ApiError::validation(
            "decision",
            format!("`{decision}` is not a decision; expected approved or rejected"),
        ));
    }
    let approver = db::required("approver", &body.approver)?;
    let previous = approvals(conn, po_number).await?;
    let next_level = previous.len() as i64 + 1;
    let level = body.level.unwrap_or(next_level);
    if level != next_level {
        return Err(ApiError::validation(
            "level",
            format!("level {level} cannot decide now; level {next_level} is next"),
        ));
    }
    if previous.iter().any(|a| a["approver"] == approver) {
        return Err(ApiError::validation(
            "approver",
            format!(
                "{approver} already decided an earlier level of {po_number}; another person must decide level {level}"
            ),
        ));
    }
    sqlx::query(
        "INSERT INTO purchase_order_approvals (po_number, level, decision, approver, comment, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(po_number)
    .bind(level)
    .bind(decision)
    .bind(approver)
    .bind(&body.comment)
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    let required = levels_required(db::dec(&total)?);
    let status = match decision {
        "rejected" => "rejected",
        _ if level >= required => "approved",
        _ => "pending_approval",
    };
    sqlx::query("UPDATE purchase_orders SET status = ?2 WHERE po_number = ?1")
        .bind(po_number)
        .bind(status)
        .execute(&mut *conn)
        .await?;
    Ok(json!({
        "po_number": po_number, "status": status, "approvals_required": required,
        "approvals": approvals(conn, po_number).await?,
    }))
}

/// Body of `POST /purchase-orders/{po}/expedite`.
#[derive(Debug, Deserialize)]
pub(crate) struct Expedite {
    #[serde(default)]
    reason: Option<String>,
}

/// Flags an open purchase order for expedited delivery.
pub(crate) async fn expedite(conn: &mut SqliteConnection, po_number: &str, body: &Expedite) -> Result<Value, ApiError> {
    let status: String = sqlx::query_scalar("SELECT status FROM purchase_orders WHERE po_number = ?1")
        .bind(po_number)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no purchase order {po_number}")))?;
    if !OPEN.contains(&status.as_str()) {
        return Err(ApiError::transition(format!(
            "purchase order {po_number} is {status}; only open orders can be expedited"
        )));
    }
    sqlx::query("UPDATE purchase_orders SET expedited = 1, expedite_reason = ?2 WHERE po_number = ?1")
        .bind(po_number)
        .bind(&body.reason)
        .execute(&mut *conn)
        .await?;
    Ok(json!({"po_number": po_number, "expedited": true, "reason": body.reason, "status": status}))
}

/// Query of `GET /budget`.
#[derive(Debug, Deserialize)]
pub(crate) struct BudgetQuery {
    location: Option<String>,
    amount: Option<String>,
}

/// The location's purchasing budget, what approved orders commit of it, and whether `amount` fits.
pub(crate) async fn budget(conn: &mut SqliteConnection, query: &BudgetQuery) -> Result<Value, ApiError> {
    let code = query.location.as_deref().ok_or_else(|| ApiError::validation("location", "location is required"))?;
    let location = db::location(conn, "location", code).await?;
    let amount = match &query.amount {
        Some(text) => text
            .trim()
            .parse::<Decimal>()
            .map_err(|_| ApiError::validation("amount", format!("`{text}` is not an amount; expected e.g. 1200.00")))?,
        None => Decimal::ZERO,
    };
    let budget: Option<String> = sqlx::query_scalar("SELECT amount FROM budgets WHERE location = ?1")
        .bind(&location.code)
        .fetch_optional(&mut *conn)
        .await?;
    let budget = db::dec(budget.as_deref().unwrap_or("0"))?;
    let totals: Vec<(String, String)> = sqlx::query_as("SELECT status, total FROM purchase_orders WHERE location = ?1")
        .bind(&location.code)
        .fetch_all(&mut *conn)
        .await?;
    let mut committed = Decimal::ZERO;
    for (status, total) in totals {
        if COMMITTED.contains(&status.as_str()) {
            committed += db::dec(&total)?;
        }
    }
    let available = budget - committed;
    Ok(json!({
        "location": location.code, "budget": budget, "committed": committed, "available": available,
        "amount": amount, "sufficient": amount <= available, "currency": master::company_currency(conn).await?,
    }))
}

/// Body of `POST /goods-receipts`.
#[derive(Debug, Deserialize)]
pub(crate) struct GoodsReceipt {
    receipt_number: String,
    po_number: String,
    location: String,
    #[serde(default)]
    received_on: Option<NaiveDate>,
    lines: Vec<ReceiptLine>,
}

#[derive(Debug, Deserialize)]
struct ReceiptLine {
    po_line: i64,
    #[serde(default)]
    item: Option<String>,
    quantity: Decimal,
}

/// Books goods received against an approved purchase order: stock on hand rises at the
/// location (at moving average cost) and the order line records what arrived.
pub(crate) async fn receive(conn: &mut SqliteConnection, body: &GoodsReceipt) -> Result<Value, ApiError> {
    let number = db::required("receipt_number", &body.receipt_number)?;
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM goods_receipts WHERE receipt_number = ?1")
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_some() {
        return Err(ApiError::conflict(
            "duplicate_receipt",
            "receipt_number",
            format!("goods receipt {number} already exists"),
        ));
    }
    let (status, po_location): (String, String) =
        sqlx::query_as("SELECT status, location FROM purchase_orders WHERE po_number = ?1")
            .bind(body.po_number.trim())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| ApiError::validation("po_number", format!("unknown purchase order `{}`", body.po_number)))?;
    if status != "approved" && status != "partially_received" {
        return Err(ApiError::validation(
            "po_number",
            format!(
                "purchase order {} is {status}; goods can be received only against an approved order",
                body.po_number
            ),
        ));
    }
    let location = db::location(conn, "location", &body.location).await?;
    if location.code != po_location {
        return Err(ApiError::validation(
            "location",
            format!("purchase order {} delivers to {po_location}, not {}", body.po_number, location.code),
        ));
    }
    db::lines("lines", &body.lines)?;
    let po_number = body.po_number.trim();
    let received_on = body.received_on.unwrap_or_else(|| chrono::Utc::now().date_naive());
    sqlx::query(
        "INSERT INTO goods_receipts (receipt_number, po_number, location, received_on, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(number)
    .bind(po_number)
    .bind(&location.code)
    .bind(received_on.to_string())
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    let mut value = Decimal::ZERO;
    for (i, line) in body.lines.iter().enumerate() {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT item, unit_price, received FROM purchase_order_lines WHERE po_number = ?1 AND line = ?2",
        )
        .bind(po_number)
        .bind(line.po_line)
        .fetch_optional(&mut *conn)
        .await?;
        let (sku, price, received) = row.ok_or_else(|| {
            ApiError::validation(format!("lines[{i}].po_line"), format!("{po_number} has no line {}", line.po_line))
        })?;
        if let Some(reference) = &line.item {
            let item = db::item(conn, &format!("lines[{i}].item"), reference).await?;
            if item.sku != sku {
                return Err(ApiError::validation(
                    format!("lines[{i}].item"),
                    format!("line {} of {po_number} orders {sku}, not {}", line.po_line, item.sku),
                ));
            }
        }
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let price = db::dec(&price)?;
        sqlx::query("UPDATE purchase_order_lines SET received = ?3 WHERE po_number = ?1 AND line = ?2")
            .bind(po_number)
            .bind(line.po_line)
            .bind((db::dec(&received)? + quantity).to_string())
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO goods_receipt_lines (receipt_number, po_line, item, quantity) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(number)
        .bind(line.po_line)
        .bind(&sku)
        .bind(quantity.to_string())
        .execute(&mut *conn)
        .await?;
        let item = db::item(conn, &format!("lines[{i}].item"), &sku).await?;
        let stock = db::stock(conn, &location.code, &sku).await?;
        let old_cost = stock.unit_cost.unwrap_or(item.cost);
        let on_hand = stock.on_hand + quantity;
        let unit_cost = if stock.on_hand > Decimal::ZERO && on_hand > Decimal::ZERO {
            ((stock.on_hand * old_cost + quantity * price) / on_hand).round_dp(4)
        } else {
            price
        };
        db::save_stock(conn, &location.code, &sku, &Stock { on_hand, unit_cost: Some(unit_cost), ..stock }).await?;
        ledger::movement(conn, &location.code, &sku, quantity, "receipt", number).await?;
        value += quantity * price;
    }
    ledger::post(conn, "receipt", number, ledger::INVENTORY, ledger::GR_IR, value).await?;
    let lines: Vec<(String, String)> =
        sqlx::query_as("SELECT quantity, received FROM purchase_order_lines WHERE po_number = ?1")
            .bind(po_number)
            .fetch_all(&mut *conn)
            .await?;
    let mut complete = true;
    for (ordered, received) in lines {
        complete &= db::dec(&received)? >= db::dec(&ordered)?;
    }
    let status = if complete { "received" } else { "partially_received" };
    sqlx::query("UPDATE purchase_orders SET status = ?2 WHERE po_number = ?1")
        .bind(po_number)
        .bind(status)
        .execute(&mut *conn)
        .await?;
    Ok(json!({
        "receipt_number": number, "po_number": po_number, "location": location.code,
        "received_on": received_on, "value": db::money(value), "po_status": status,
    }))
}
