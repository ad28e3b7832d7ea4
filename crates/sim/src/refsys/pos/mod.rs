//! The reference store and commerce system: till transactions and returns, shelf prices,
//! customer orders and notifications.

mod orders;
mod sales;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;

use super::api::Route;
use super::http::{Answer, ApiError, AppState, Change, Command, Params, Reading};

/// Every operation of the POS's API.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::post("/sales", "Record a till transaction", post(record_sale)).created(),
        Route::get("/sales/{transaction_id}", "A till transaction with returned quantities", get(get_sale)),
        Route::post("/returns", "Record a return against a sale", post(record_return)).created(),
        Route::get("/returns", "Returns of a transaction", get(list_returns)).query(&["transaction_id"]),
        Route::get("/prices", "Regular and promotional price of an item at a store", get(get_price))
            .query(&["location", "item"]),
        Route::put("/prices", "Set or clear a promotional price", put(set_price)),
        Route::post("/orders", "Place a customer order", post(place_order)).created(),
        Route::get("/orders", "Customer orders by location, item and status", get(list_orders))
            .query(&["location", "item", "status"]),
        Route::get("/orders/{n}", "A customer order", get(get_order)),
        Route::post("/orders/{n}/reroute", "Fulfil an open order from another store", post(reroute_order)),
        Route::post("/orders/{n}/cancel", "Cancel an open order", post(cancel_order)),
        Route::post(
            "/orders/{n}/fulfil",
            "Advance fulfilment (ready, then collected or delivered)",
            post(fulfil_order),
        ),
        Route::post("/notifications", "Notify customer service or a customer", post(notify)).created(),
        Route::get("/notifications", "Notifications by recipient and order", get(list_notifications))
            .query(&["to", "order_number"]),
    ]
}

async fn record_sale(State(s): State<AppState>, cmd: Command<sales::NewSale>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = sales::record_sale(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn get_sale(State(s): State<AppState>, Path(id): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    sales::sale(&mut conn, &id).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("no transaction {id}")))
}

async fn record_return(State(s): State<AppState>, cmd: Command<sales::NewReturn>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = sales::record_return(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

/// Query of `GET /returns`.
#[derive(Debug, Deserialize)]
struct ReturnQuery {
    transaction_id: Option<String>,
}

async fn list_returns(State(s): State<AppState>, Params(q): Params<ReturnQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(sales::returns(&mut conn, q.transaction_id.as_deref()).await?))
}

async fn get_price(State(s): State<AppState>, Params(q): Params<sales::PriceQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(sales::price(&mut conn, &q).await?))
}

async fn set_price(State(s): State<AppState>, cmd: Command<sales::PriceChange>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = sales::set_price(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn place_order(State(s): State<AppState>, cmd: Command<orders::NewOrder>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = orders::place(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn list_orders(State(s): State<AppState>, Params(q): Params<orders::OrderQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(orders::list(&mut conn, &q).await?))
}

async fn get_order(State(s): State<AppState>, Path(n): Path<String>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    orders::get(&mut conn, &n).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("no order {n}")))
}

async fn reroute_order(State(s): State<AppState>, Path(n): Path<String>, cmd: Command<orders::Reroute>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = orders::reroute(change.conn(), &n, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn cancel_order(State(s): State<AppState>, Path(n): Path<String>, cmd: Command<orders::Cancel>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = orders::cancel(change.conn(), &n, &cmd.body).await?;
    change.commit(StatusCode::OK, answer).await
}

/// A body that carries nothing the operation needs (unknown fields are ignored).
#[derive(Debug, Deserialize)]
struct Nothing {}

async fn fulfil_order(State(s): State<AppState>, Path(n): Path<String>, cmd: Command<Nothing>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = orders::fulfil(change.conn(), &n).await?;
    change.commit(StatusCode::OK, answer).await
}

async fn notify(State(s): State<AppState>, cmd: Command<orders::NewNotification>) -> Answer {
    let mut change = Change::begin(&s, &cmd).await?;
    let answer = orders::notify(change.conn(), &cmd.body).await?;
    change.commit(StatusCode::CREATED, answer).await
}

async fn list_notifications(State(s): State<AppState>, Params(q): Params<orders::NotificationQuery>) -> Reading {
    let mut conn = s.pool.acquire().await?;
    Ok(Json(orders::notifications(&mut conn, &q).await?))
}
