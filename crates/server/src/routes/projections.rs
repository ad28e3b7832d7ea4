//! `GET /v1/stock` and `GET /v1/sales/daily`, read from the projections.

use axum::Json;
use axum::extract::{Extension, State};
use backroom_store::{DailySales, SalesQuery, StockPosition, StockQuery};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, parse_limit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::permissions::{Action, list_scope};

/// Filters on stock positions.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockParams {
    /// Only this location code.
    pub location: Option<String>,
    /// Only this item (GTIN or SKU).
    pub item: Option<String>,
    /// At most this many rows, 1 to 100,000 (default 1,000).
    pub limit: Option<i64>,
}

/// Stock of one item at one location.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct StockView {
    /// Location code.
    location: String,
    /// Item key: the GTIN-14 when the item has a GTIN, otherwise its SKU.
    item: String,
    /// Unit of the quantities (UN/ECE Rec 20).
    unit: String,
    /// Stock on hand, as a decimal string.
    on_hand: String,
    /// Stock shipped towards the location and not yet received.
    in_transit: String,
    /// When the item was last counted here.
    last_counted_at: Option<String>,
    /// The last event that changed the position.
    last_seq: i64,
    /// When the position last changed.
    updated_at: String,
}

/// Stock positions.
#[derive(Serialize, ToSchema)]
pub struct StockPage {
    /// Positions ordered by location, then item.
    #[schema(value_type = Vec<StockView>)]
    pub positions: Vec<StockPosition>,
}

/// Read stock positions.
///
/// Kept current in the same transaction as the events that change them: counts set on-hand;
/// sales, returns, adjustments, receipts and transfers move it.
#[utoipa::path(
    get,
    path = "/v1/stock",
    operation_id = "stock_positions",
    tag = "projections",
    params(StockParams),
    responses(
        (status = 200, description = "Stock positions", body = StockPage),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn stock(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(p): ApiQuery<StockParams>,
) -> Result<Json<StockPage>, ApiError> {
    let within = list_scope(&state.engine, &caller, Action::ReadReports, p.location.as_deref())?;
    let q = StockQuery { location: p.location, item: p.item, limit: parse_limit(p.limit, 1000, 100_000)?, within };
    Ok(Json(StockPage { positions: state.store.stock(&q).await? }))
}

/// Filters on daily sales.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SalesParams {
    /// Only this location code.
    pub location: Option<String>,
    /// Only this item (GTIN or SKU).
    pub item: Option<String>,
    /// First business day, inclusive (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last business day, inclusive (YYYY-MM-DD).
    pub to: Option<String>,
    /// At most this many rows, 1 to 100,000 (default 1,000).
    pub limit: Option<i64>,
}

/// Sales of one item at one location on one business day.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DailySalesView {
    /// Location code.
    location: String,
    /// Item key.
    item: String,
    /// Business day (YYYY-MM-DD).
    business_day: String,
    /// Currency of the amounts.
    currency: String,
    /// Quantity sold.
    sold: String,
    /// Quantity returned.
    returned: String,
    /// Net sales amount.
    revenue: String,
    /// Net amount refunded.
    refunded: String,
    /// Sales transactions with the item.
    transactions: i64,
    /// The last event that changed the row.
    last_seq: i64,
}

/// Daily sales rows.
#[derive(Serialize, ToSchema)]
pub struct SalesPage {
    /// Rows ordered by location, item, day.
    #[schema(value_type = Vec<DailySalesView>)]
    pub days: Vec<DailySales>,
}

fn parse_day(name: &str, v: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    v.map(|s| {
        s.parse().map_err(|_| {
            ApiError::new(ErrorCode::InvalidQuery, format!("`{name}` must be a date YYYY-MM-DD, got {s:?}"))
        })
    })
    .transpose()
}

/// Read daily sales.
///
/// Quantities and net amounts of `pos.sale` and `pos.return` per location, item and business day.
#[utoipa::path(
    get,
    path = "/v1/sales/daily",
    operation_id = "daily_sales",
    tag = "projections",
    params(SalesParams),
    responses(
        (status = 200, description = "Daily sales", body = SalesPage),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn daily_sales(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(p): ApiQuery<SalesParams>,
) -> Result<Json<SalesPage>, ApiError> {
    let from = parse_day("from", p.from.as_deref())?;
    let to = parse_day("to", p.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("`to` {t} is before `from` {f}")));
    }
    let within = list_scope(&state.engine, &caller, Action::ReadReports, p.location.as_deref())?;
    let q = SalesQuery {
        location: p.location,
        item: p.item,
        from,
        to,
        limit: parse_limit(p.limit, 1000, 100_000)?,
        within,
    };
    Ok(Json(SalesPage { days: state.store.daily_sales(&q).await? }))
}
