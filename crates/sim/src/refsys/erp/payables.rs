//! Supplier invoices (registered on hold, released for payment, held or rejected) and credit notes.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use super::ledger;
use crate::refsys::db;
use crate::refsys::http::ApiError;

/// Days from release to the payment run.
const PAYMENT_TERMS_DAYS: i64 = 30;

/// Body of `POST /supplier-invoices`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewInvoice {
    invoice_number: String,
    supplier: String,
    #[serde(default)]
    po_number: Option<String>,
    currency: String,
    total: Decimal,
    lines: Vec<NewInvoiceLine>,
}

#[derive(Debug, Deserialize)]
struct NewInvoiceLine {
    #[serde(default)]
    line: Option<i64>,
    #[serde(default)]
    po_line: Option<i64>,
    item: String,
    quantity: Decimal,
    unit_price: Decimal,
    #[serde(default)]
    net_amount: Option<Decimal>,
}

/// Registers a supplier invoice; it starts on hold until released.
pub(crate) async fn register(conn: &mut SqliteConnection, body: &NewInvoice) -> Result<Value, ApiError> {
    let number = db::required("invoice_number", &body.invoice_number)?;
    let supplier: String = sqlx::query_scalar("SELECT id FROM suppliers WHERE id = ?1")
        .bind(body.supplier.trim())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::validation("supplier", format!("unknown supplier `{}`", body.supplier)))?;
    let invoice_id = format!("{supplier}:{number}");
    if status_of(conn, &invoice_id).await?.is_some() {
        return Err(ApiError::conflict(
            "duplicate_invoice",
            "invoice_number",
            format!("invoice {number} of supplier {supplier} is already registered as {invoice_id}"),
        ));
    }
    let po_number = match &body.po_number {
        None => None,
        Some(po) => {
            let po_supplier: String = sqlx::query_scalar("SELECT supplier FROM purchase_orders WHERE po_number = ?1")
                .bind(po.trim())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| ApiError::validation("po_number", format!("unknown purchase order `{po}`")))?;
            if po_supplier != supplier {
                return Err(ApiError::validation(
                    "po_number",
                    format!("purchase order {po} was placed with {po_supplier}, not {supplier}"),
                ));
            }
            Some(po.trim().to_string())
        }
    };
    let currency = db::currency("currency", &body.currency)?;
    let total = db::not_negative("total", body.total)?;
    db::lines("lines", &body.lines)?;
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for (i, line) in body.lines.iter().enumerate() {
        let number = line.line.unwrap_or(i as i64 + 1);
        if !seen.insert(number) {
            return Err(ApiError::validation(format!("lines[{i}].line"), format!("line {number} appears twice")));
        }
        let item = db::item(conn, &format!("lines[{i}].item"), &line.item).await?;
        let quantity = db::positive(&format!("lines[{i}].quantity"), line.quantity)?;
        let price = db::not_negative(&format!("lines[{i}].unit_price"), line.unit_price)?;
        if let (Some(po), Some(po_line)) = (&po_number, line.po_line) {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM purchase_order_lines WHERE po_number = ?1 AND line = ?2")
                    .bind(po)
                    .bind(po_line)
                    .fetch_optional(&mut *conn)
                    .await?;
            if found.is_none() {
                return Err(ApiError::validation(format!("lines[{i}].po_line"), format!("{po} has no line {po_line}")));
            }
        }
        let net = line.net_amount.unwrap_or_else(|| db::money(quantity * price));
        lines.push((number, line.po_line, item.sku, quantity, price, net));
    }
    sqlx::query(
        "INSERT INTO supplier_invoices (invoice_id, supplier, invoice_number, po_number, currency, total, credited,
         status, reason, registered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '0', 'on_hold', 'awaiting matching', ?7)",
    )
    .bind(&invoice_id)
    .bind(&supplier)
    .bind(number)
    .bind(&po_number)
    .bind(&currency)
    .bind(total.to_string())
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    for (line, po_line, sku, quantity, price, net) in lines {
        sqlx::query(
            "INSERT INTO supplier_invoice_lines (invoice_id, line, po_line, item, quantity, unit_price, net_amount)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&invoice_id)
        .bind(line)
        .bind(po_line)
        .bind(sku)
        .bind(quantity.to_string())
        .bind(price.to_string())
        .bind(net.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(json!({"invoice_id": invoice_id, "status": "on_hold", "total": total, "currency": currency}))
}

async fn status_of(conn: &mut SqliteConnection, invoice_id: &str) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query_scalar("SELECT status FROM supplier_invoices WHERE invoice_id = ?1")
        .bind(invoice_id)
        .fetch_optional(&mut *conn)
        .await?)
}

async fn existing_status(conn: &mut SqliteConnection, invoice_id: &str) -> Result<String, ApiError> {
    status_of(conn, invoice_id).await?.ok_or_else(|| ApiError::not_found(format!("no supplier invoice {invoice_id}")))
}

/// What remains payable: total less credit notes.
async fn payable(conn: &mut SqliteConnection, invoice_id: &str) -> Result<Decimal, ApiError> {
    let (total, credited): (String, String) =
        sqlx::query_as("SELECT total, credited FROM supplier_invoices WHERE invoice_id = ?1")
            .bind(invoice_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(db::dec(&total)? - db::dec(&credited)?)
}

type InvoiceRow = (String, String, String, Option<String>, String, String, String, String, Option<String>, String);

/// The full invoice with its lines, credit notes and payments, or `None` if unknown.
pub(crate) async fn get(conn: &mut SqliteConnection, invoice_id: &str) -> Result<Option<Value>, ApiError> {
    let row: Option<InvoiceRow> = sqlx::query_as(
        "SELECT invoice_id, supplier, invoice_number, po_number, currency, total, credited, status, reason, registered_at
         FROM supplier_invoices WHERE invoice_id = ?1",
    )
    .bind(invoice_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((invoice_id, supplier, number, po_number, currency, total, credited, status, reason, registered)) = row
    else {
        return Ok(None);
    };
    let line_rows: Vec<(i64, Option<i64>, String, String, String, String)> = sqlx::query_as(
        "SELECT line, po_line, item, quantity, unit_price, net_amount FROM supplier_invoice_lines
         WHERE invoice_id = ?1 ORDER BY line",
    )
    .bind(&invoice_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines = Vec::new();
    for (line, po_line, item, quantity, price, net) in line_rows {
        lines.push(json!({
            "line": line, "po_line": po_line, "item": item, "quantity": db::dec(&quantity)?,
            "unit_price": db::dec(&price)?, "net_amount": db::dec(&net)?,
        }));
    }
    let note_rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT credit_note_number, amount, reason FROM credit_notes WHERE invoice_id = ?1 ORDER BY rowid",
    )
    .bind(&invoice_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut credit_notes = Vec::new();
    for (note, amount, note_reason) in note_rows {
        credit_notes.push(json!({"credit_note_number": note, "amount": db::dec(&amount)?, "reason": note_reason}));
    }
    let payment_rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, amount, due_on, status FROM payments WHERE invoice_id = ?1 ORDER BY id")
            .bind(&invoice_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut payments = Vec::new();
    for (id, amount, due_on, payment_status) in payment_rows {
        payments
            .push(json!({"payment_id": id, "amount": db::dec(&amount)?, "due_on": due_on, "status": payment_status}));
    }
    let total = db::dec(&total)?;
    let credited = db::dec(&credited)?;
    Ok(Some(json!({
        "invoice_id": invoice_id, "supplier": supplier, "invoice_number": number, "po_number": po_number,
        "currency": currency, "total": total, "credited": credited, "payable": total - credited,
        "status": status, "reason": reason, "registered_at": registered, "lines": lines,
        "credit_notes": credit_notes, "payments": payments,
    })))
}

/// Releases an invoice on hold for payment: a payment is scheduled and the liability posted.
pub(crate) async fn release(conn: &mut SqliteConnection, invoice_id: &str) -> Result<Value, ApiError> {
    let status = existing_status(conn, invoice_id).await?;
    if status != "on_hold" {
        return Err(ApiError::transition(format!(
            "invoice {invoice_id} is {status}; only invoices on hold can be released"
        )));
    }
    let amount = payable(conn, invoice_id).await?;
    let due_on = chrono::Utc::now().date_naive() + chrono::Duration::days(PAYMENT_TERMS_DAYS);
    sqlx::query("UPDATE supplier_invoices SET status = 'released', reason = NULL WHERE invoice_id = ?1")
        .bind(invoice_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO payments (invoice_id, amount, due_on, status) VALUES (?1, ?2, ?3, 'scheduled')")
        .bind(invoice_id)
        .bind(amount.to_string())
        .bind(due_on.to_string())
        .execute(&mut *conn)
        .await?;
    ledger::post(conn, "invoice", invoice_id, ledger::GR_IR, ledger::PAYABLES, amount).await?;
    Ok(json!({
        "invoice_id": invoice_id, "status": "released",
        "payment": {"amount": amount, "due_on": due_on, "status": "scheduled"},
    }))
}

/// Body of `POST /supplier-invoices/{id}/hold` and `/reject`.
#[derive(Debug, Deserialize)]
pub(crate) struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

/// Puts an invoice on hold; a scheduled payment of a released invoice is blocked.
pub(crate) async fn hold(conn: &mut SqliteConnection, invoice_id: &str, body: &Reason) -> Result<Value, ApiError> {
    let status = existing_status(conn, invoice_id).await?;
    if status == "rejected" {
        return Err(ApiError::transition(format!("invoice {invoice_id} is rejected and cannot be held")));
    }
    if status == "released" {
        sqlx::query("UPDATE payments SET status = 'blocked' WHERE invoice_id = ?1 AND status = 'scheduled'")
            .bind(invoice_id)
            .execute(&mut *conn)
            .await?;
        let amount = payable(conn, invoice_id).await?;
        ledger::post(conn, "invoice", invoice_id, ledger::GR_IR, ledger::PAYABLES, -amount).await?;
    }
    sqlx::query("UPDATE supplier_invoices SET status = 'on_hold', reason = ?2 WHERE invoice_id = ?1")
        .bind(invoice_id)
        .bind(&body.reason)
        .execute(&mut *conn)
        .await?;
    Ok(json!({"invoice_id": invoice_id, "status": "on_hold", "reason": body.reason}))
}

/// Rejects an invoice on hold; it will never be paid.
pub(crate) async fn reject(conn: &mut SqliteConnection, invoice_id: &str, body: &Reason) -> Result<Value, ApiError> {
    let status = existing_status(conn, invoice_id).await?;
    if status != "on_hold" {
        return Err(ApiError::transition(format!(
            "invoice {invoice_id} is {status}; only invoices on hold can be rejected"
        )));
    }
    sqlx::query("UPDATE supplier_invoices SET status = 'rejected', reason = ?2 WHERE invoice_id = ?1")
        .bind(invoice_id)
        .bind(&body.reason)
        .execute(&mut *conn)
        .await?;
    Ok(json!({"invoice_id": invoice_id, "status": "rejected", "reason": body.reason}))
}

/// Body of `POST /credit-notes`.
#[derive(Debug, Deserialize)]
pub(crate) struct NewCreditNote {
    credit_note_number: String,
    supplier: String,
    invoice_number: String,
    amount: Decimal,
    #[serde(default)]
    reason: Option<String>,
}

/// Books a supplier credit note against an invoice, reducing what is payable.
pub(crate) async fn credit(conn: &mut SqliteConnection, body: &NewCreditNote) -> Result<Value, ApiError> {
    let number = db::required("credit_note_number", &body.credit_note_number)?;
    let supplier = body.supplier.trim();
    let known: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM suppliers WHERE id = ?1").bind(supplier).fetch_optional(&mut *conn).await?;
    if known.is_none() {
        return Err(ApiError::validation("supplier", format!("unknown supplier `{supplier}`")));
    }
    let duplicate: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM credit_notes WHERE supplier = ?1 AND credit_note_number = ?2")
            .bind(supplier)
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?;
    if duplicate.is_some() {
        return Err(ApiError::conflict(
            "duplicate_credit_note",
            "credit_note_number",
            format!("credit note {number} of supplier {supplier} is already booked"),
        ));
    }
    let invoice_id = format!("{supplier}:{}", body.invoice_number.trim());
    let status = status_of(conn, &invoice_id).await?.ok_or_else(|| {
        ApiError::validation("invoice_number", format!("supplier {supplier} has no invoice `{}`", body.invoice_number))
    })?;
    if status == "rejected" {
        return Err(ApiError::validation("invoice_number", format!("invoice {invoice_id} is rejected")));
    }
    let amount = db::positive("amount", body.amount)?;
    let open = payable(conn, &invoice_id).await?;
    if amount > open {
        return Err(ApiError::validation(
            "amount",
            format!("{amount} exceeds the {open} still payable on {invoice_id}"),
        ));
    }
    sqlx::query(
        "INSERT INTO credit_notes (supplier, credit_note_number, invoice_id, amount, reason, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(supplier)
    .bind(number)
    .bind(&invoice_id)
    .bind(amount.to_string())
    .bind(&body.reason)
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    let (credited,): (String,) = sqlx::query_as("SELECT credited FROM supplier_invoices WHERE invoice_id = ?1")
        .bind(&invoice_id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("UPDATE supplier_invoices SET credited = ?2 WHERE invoice_id = ?1")
        .bind(&invoice_id)
        .bind((db::dec(&credited)? + amount).to_string())
        .execute(&mut *conn)
        .await?;
    let remaining = open - amount;
    if status == "released" {
        sqlx::query("UPDATE payments SET amount = ?2 WHERE invoice_id = ?1 AND status = 'scheduled'")
            .bind(&invoice_id)
            .bind(remaining.to_string())
            .execute(&mut *conn)
            .await?;
        ledger::post(conn, "credit_note", number, ledger::PAYABLES, ledger::GR_IR, amount).await?;
    }
    Ok(json!({"credit_note_number": number, "invoice_id": invoice_id, "amount": amount, "payable": remaining}))
}
