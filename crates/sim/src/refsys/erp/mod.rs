//! The reference ERP: items and suppliers, purchasing with approvals and budgets, goods receipts,
//! supplier invoices and credit notes, book stock, transfers, refunds, write-offs and the ledger.

mod ledger;
mod payables;
mod purchasing;
mod refunds;
mod stock;
mod transfers;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::api::Route;
use super::db;
use super::http::{Answer, ApiError, AppState, Change, Command, Params, Reading};

/// Every operation of the ERP's API.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/items/{item}", "An item by SKU or GTIN", get(get_item)),
        Route::get("/suppliers/{id}", "A supplier", get(get_supplier)),
        Route::get("/stock", "Book stock of an item at a location", get(get_stock)).query(&["location", "item"]),
        Route::get("/purchase-orders", "Purchase orders by location, item and status", get(list_pos))
            .query(&["location", "item", "status"]),
        Route::post("/purchase-orders", "Register a purchase order awaiting approval", post(create_po)).created(),
        Route::get("/purchase-orders/{po}", "A purchase order", get(get_po)),
        Route::post(
            "/purchase-orders/{po}/approval",
            "Approve or reject a purchase order at a level",
            post(approve_po),
        ),
        Route::post("/purchase-orders/{po}/expedite", "Ask the supplier to expedite an order", post(expedite_po)),
        Route::get("/budget", "Purchasing budget available at a location", get(get_budget))
            .query(&["location", "amount"]),
        Route::post("/goods-receipts", "Book goods received against a purchase order", post(receive_goods)).created(),
        Route::post("/supplier-invoices", "Register a supplier invoice (starts on hold)", post(register_invoice))
            .created(),
        Route::get("/supplier-invoices/{invoice_id}", "A supplier invoice", get(get_invoice)),
        Route::post("/supplier-invoices/{invoice_id}/release", "Release an invoice for payment", post(release_invoice)),
        Route::post("/supplier-invoices/{invoice_id}/hold", "Put an invoice on hold", post(hold_invoice)),
        Route::post("/supplier-invoices/{invoice_id}/reject", "Reject an invoice on hold", post(reject_invoice)),
        Route::post("/credit-notes", "Book a supplier credit note against an invoice", post(credit_invoice)).created(),
        Route::get("/transfers", "Transfers by reference and status", get(list_transfers))
            .query(&["reference", "status"]),
        Route::post("/transfers", "Request a stock transfer between locations", post(request_transfer)).created(),
        Route::get("/transfers/{id}", "A transfer", get(get_transfer)),
        Route::post("/transfers/{id}/ship", "Ship a requested transfer", post(ship_transfer)),
        Route::post("/transfers/{id}/receive", "Receive a transfer in transit", post(receive_transfer)),
        Route::post("/transfers/{id}/cancel", "Cancel a transfer not yet received", post(cancel_transfer)),
        Route::post("/refunds", "Post a customer refund", post(post_refund)).created(),
        Route::get("/refunds", "Refunds, optionally of one return", get(list_refunds)).query(&["return_id"]),
        Route::get("/refunds/{id}", "A refund", get(get_refund)),
        Route::post("/write-offs", "Write stock off at cost", post(write_off)).created(),
        Route::get("/gl-postings", "General ledger postings", get(list_postings)).query(&["kind", "reference"]),
        Route::get("/valuation", "Inventory at book value", get(get_valuation)).query(&["location"]),
    ]
}

fn found(value: Option<serde_json::Value>, what: &str) -> Reading {
    value.map(Json).ok_or_else(|| ApiError::not_found(format!("no {what}")))
}

async fn get_item(State(s): State<AppState>, Path(item): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    let item = db::find_item(&mut conn, &item).await?.ok_or_else(|| ApiError::not_found(format!("no item {item}")))?;
    Ok(Json(json!(item)))
}

async fn get_supplier(State(s): State<AppState>, Path(id): Path<String>) -> Reading {
    let row: Option<(String, String, i64)> =
        sqlx::query_as("SELECT id, name, lead_time_days FROM suppliers WHERE id = ?1")
            .bind(&id)
            .fetch_optional(&s.pool)
            .await?;
    let (id, name, lead_time_days) = row.ok_or_else(|| ApiError::not_found(format!("no supplier {id}")))?;
    Ok(Json(json!({"id": id, "name": name, "lead_time_days": lead_time_days})))
}

async fn get_stock(State(s): State<AppState>, Params(q): Params<stock::StockQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(stock::position(&mut conn, &q).await?))
}

async fn get_valuation(State(s): State<AppState>, Params(q): Params<stock::StockQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(stock::valuation(&mut conn, &q).await?))
}

async fn list_pos(State(s): State<AppState>, Params(q): Params<purchasing::OrderQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(purchasing::list(&mut conn, &q).await?))
}

async fn get_po(State(s): State<AppState>, Path(po): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    found(purchasing::get(&mut conn, &po).await?, &format!("purchase order {po}"))
}

async fn create_po(State(s): State<AppState>, cmd: Command<purchasing::NewPurchaseOrder>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = purchasing::create(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn approve_po(State(s): State<AppState>, Path(po): Path<String>, cmd: Command<purchasing::Approval>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = purchasing::decide(change.conn(), &po, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn expedite_po(State(s): State<AppState>, Path(po): Path<String>, cmd: Command<purchasing::Expedite>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = purchasing::expedite(change.conn(), &po, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn get_budget(State(s): State<AppState>, Params(q): Params<purchasing::BudgetQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(purchasing::budget(&mut conn, &q).await?))
}

async fn receive_goods(State(s): State<AppState>, cmd: Command<purchasing::GoodsReceipt>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = purchasing::receive(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn register_invoice(State(s): State<AppState>, cmd: Command<payables::NewInvoice>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = payables::register(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn get_invoice(State(s): State<AppState>, Path(id): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    found(payables::get(&mut conn, &id).await?, &format!("supplier invoice {id}"))
}

/// A body that carries nothing the operation needs (unknown fields are ignored).
#[derive(Debug, Deserialize)]
struct Nothing {}

async fn release_invoice(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = payables::release(change.conn(), &id).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn hold_invoice(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<payables::Reason>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = payables::hold(change.conn(), &id, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn reject_invoice(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<payables::Reason>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = payables::reject(change.conn(), &id, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn credit_invoice(State(s): State<AppState>, cmd: Command<payables::NewCreditNote>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = payables::credit(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn list_transfers(State(s): State<AppState>, Params(q): Params<transfers::TransferQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(transfers::list(&mut conn, &q).await?))
}

async fn request_transfer(State(s): State<AppState>, cmd: Command<transfers::NewTransfer>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = transfers::request(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn get_transfer(State(s): State<AppState>, Path(id): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    found(transfers::get(&mut conn, &id).await?, &format!("transfer {id}"))
}

async fn ship_transfer(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = transfers::ship(change.conn(), &id).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn receive_transfer(
    State(s): State<AppState>,
    Path(id): Path<String>,
    cmd: Command<transfers::Receipt>,
) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = transfers::receive(change.conn(), &id, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn cancel_transfer(State(s): State<AppState>, Path(id): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = transfers::cancel(change.conn(), &id).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn post_refund(State(s): State<AppState>, cmd: Command<refunds::NewRefund>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = refunds::post(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn list_refunds(State(s): State<AppState>, Params(q): Params<refunds::RefundQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(refunds::list(&mut conn, &q).await?))
}

async fn get_refund(State(s): State<AppState>, Path(id): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    found(refunds::get(&mut conn, &id).await?, &format!("refund {id}"))
}

async fn write_off(State(s): State<AppState>, cmd: Command<stock::NewWriteOff>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = stock::write_off(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

/// Query of `GET /gl-postings`.
#[derive(Debug, Deserialize)]
struct PostingQuery {
    kind: Option<String>,
    reference: Option<String>,
}

async fn list_postings(State(s): State<AppState>, Params(q): Params<PostingQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(ledger::list(&mut conn, q.kind.as_deref(), q.reference.as_deref()).await?))
}
