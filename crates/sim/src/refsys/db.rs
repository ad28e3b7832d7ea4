//! The SQLite database of a reference system: schema, master-data lookups and value helpers.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::SqliteConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::System;
use super::http::ApiError;

/// How long a connection waits for a lock held by another before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Tables every system has: idempotency records, counters and master data.
const COMMON_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idempotency_keys (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS locations (code TEXT PRIMARY KEY, kind TEXT NOT NULL, region TEXT, district TEXT,
    name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (sku TEXT PRIMARY KEY, gtin TEXT, name TEXT NOT NULL, category TEXT,
    unit TEXT NOT NULL, cost TEXT NOT NULL, price TEXT NOT NULL, supplier TEXT);
CREATE INDEX IF NOT EXISTS items_by_gtin ON items (gtin);
CREATE TABLE IF NOT EXISTS stock (location TEXT NOT NULL, item TEXT NOT NULL, on_hand TEXT NOT NULL,
    in_transit TEXT NOT NULL, reserved TEXT NOT NULL, unit_cost TEXT, PRIMARY KEY (location, item));
";

/// The ERP's documents and ledger.
const ERP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS suppliers (id TEXT PRIMARY KEY, name TEXT NOT NULL, lead_time_days INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS budgets (location TEXT PRIMARY KEY, amount TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchase_orders (po_number TEXT PRIMARY KEY, supplier TEXT NOT NULL,
    location TEXT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, expected_on TEXT, total TEXT NOT NULL,
    expedited INTEGER NOT NULL DEFAULT 0, expedite_reason TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchase_order_lines (po_number TEXT NOT NULL, line INTEGER NOT NULL,
    item TEXT NOT NULL, quantity TEXT NOT NULL, unit_price TEXT NOT NULL, received TEXT NOT NULL,
    PRIMARY KEY (po_number, line));
CREATE TABLE IF NOT EXISTS purchase_order_approvals (po_number TEXT NOT NULL, level INTEGER NOT NULL,
    decision TEXT NOT NULL, approver TEXT NOT NULL, comment TEXT, decided_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS goods_receipts (receipt_number TEXT PRIMARY KEY, po_number TEXT NOT NULL,
    location TEXT NOT NULL, received_on TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS goods_receipt_lines (receipt_number TEXT NOT NULL, po_line INTEGER NOT NULL,
    item TEXT NOT NULL, quantity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS supplier_invoices (invoice_id TEXT PRIMARY KEY, supplier TEXT NOT NULL,
    invoice_number TEXT NOT NULL, po_number TEXT, currency TEXT NOT NULL, total TEXT NOT NULL,
    credited TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, registered_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS supplier_invoice_lines (invoice_id TEXT NOT NULL, line INTEGER NOT NULL,
    po_line INTEGER, item TEXT NOT NULL, quantity TEXT NOT NULL, unit_price TEXT NOT NULL, net_amount TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (id INTEGER PRIMARY KEY AUTOINCREMENT, invoice_id TEXT NOT NULL,
    amount TEXT NOT NULL, due_on TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credit_notes (supplier TEXT NOT NULL, credit_note_number TEXT NOT NULL,
    invoice_id TEXT NOT NULL, amount TEXT NOT NULL, reason TEXT, recorded_at TEXT NOT NULL,
    PRIMARY KEY (supplier, credit_note_number));
CREATE TABLE IF NOT EXISTS transfers (transfer_id TEXT PRIMARY KEY, from_location TEXT NOT NULL,
    to_location TEXT NOT NULL, reason TEXT, reference TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transfer_lines (transfer_id TEXT NOT NULL, item TEXT NOT NULL, quantity TEXT NOT NULL,
    shipped TEXT NOT NULL, received TEXT NOT NULL, unit_cost TEXT NOT NULL, PRIMARY KEY (transfer_id, item));
CREATE TABLE IF NOT EXISTS transfer_discrepancies (transfer_id TEXT NOT NULL, item TEXT NOT NULL,
    shipped TEXT NOT NULL, received TEXT NOT NULL, difference TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (refund_id TEXT PRIMARY KEY, return_id TEXT NOT NULL UNIQUE,
    location TEXT NOT NULL, sale_id TEXT, currency TEXT NOT NULL, amount TEXT NOT NULL, restock INTEGER NOT NULL,
    status TEXT NOT NULL, posted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refund_lines (refund_id TEXT NOT NULL, item TEXT NOT NULL, quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS write_offs (write_off_id TEXT PRIMARY KEY, location TEXT NOT NULL, item TEXT NOT NULL,
    quantity TEXT NOT NULL, reason TEXT, value TEXT NOT NULL, posted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gl_postings (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
    reference TEXT NOT NULL, debit_account TEXT NOT NULL, credit_account TEXT NOT NULL, amount TEXT NOT NULL,
    posted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stock_movements (id INTEGER PRIMARY KEY AUTOINCREMENT, location TEXT NOT NULL,
    item TEXT NOT NULL, quantity TEXT NOT NULL, kind TEXT NOT NULL, reference TEXT NOT NULL, moved_at TEXT NOT NULL);
";

/// The WMS's warehouse orders and receipts.
const WMS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS transfer_orders (order_id TEXT PRIMARY KEY, reference TEXT NOT NULL,
    from_dc TEXT NOT NULL, to_location TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS transfer_orders_by_reference ON transfer_orders (reference);
CREATE TABLE IF NOT EXISTS transfer_order_lines (order_id TEXT NOT NULL, line INTEGER NOT NULL, item TEXT NOT NULL,
    quantity TEXT NOT NULL, PRIMARY KEY (order_id, line));
CREATE TABLE IF NOT EXISTS dc_receipts (receipt_id TEXT PRIMARY KEY, dc TEXT NOT NULL, reference TEXT NOT NULL,
    received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dc_receipt_lines (receipt_id TEXT NOT NULL, item TEXT NOT NULL, quantity TEXT NOT NULL);
";

/// The store and commerce system's transactions, prices, orders and notifications.
const POS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS promotions (location TEXT NOT NULL, item TEXT NOT NULL, price TEXT NOT NULL,
    valid_from TEXT NOT NULL, valid_to TEXT NOT NULL, PRIMARY KEY (location, item));
CREATE TABLE IF NOT EXISTS sales (transaction_id TEXT PRIMARY KEY, location TEXT NOT NULL, customer TEXT,
    business_day TEXT NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sale_lines (transaction_id TEXT NOT NULL, line INTEGER NOT NULL, item TEXT NOT NULL,
    quantity TEXT NOT NULL, unit_price TEXT NOT NULL, returned TEXT NOT NULL, PRIMARY KEY (transaction_id, line));
CREATE TABLE IF NOT EXISTS returns (return_id TEXT PRIMARY KEY, transaction_id TEXT NOT NULL, refund TEXT NOT NULL,
    recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS return_lines (return_id TEXT NOT NULL, line INTEGER NOT NULL, quantity TEXT NOT NULL,
    amount TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (order_number TEXT PRIMARY KEY, customer TEXT, fulfilment TEXT NOT NULL,
    location TEXT NOT NULL, promised_at TEXT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,
    cancel_reason TEXT, placed_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS order_lines (order_number TEXT NOT NULL, line INTEGER NOT NULL, item TEXT NOT NULL,
    quantity TEXT NOT NULL, unit_price TEXT NOT NULL, PRIMARY KEY (order_number, line));
CREATE TABLE IF NOT EXISTS order_reroutes (order_number TEXT NOT NULL, from_location TEXT NOT NULL,
    to_location TEXT NOT NULL, promised_at TEXT NOT NULL, rerouted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (notification_id TEXT PRIMARY KEY, recipient TEXT NOT NULL,
    order_number TEXT, location TEXT, subject TEXT NOT NULL, message TEXT NOT NULL, sent_at TEXT NOT NULL);
";

/// Opens (creating if needed) the database and creates the system's tables.
pub(crate) async fn open(system: System, database: &str) -> Result<SqlitePool, sqlx::Error> {
    let in_memory = database.trim() == ":memory:";
    let options = if in_memory {
        SqliteConnectOptions::from_str("sqlite::memory:")?
    } else {
        SqliteConnectOptions::new().filename(database).create_if_missing(true).journal_mode(SqliteJournalMode::Wal)
    }
    .synchronous(SqliteSynchronous::Normal)
    .busy_timeout(BUSY_TIMEOUT);
    // Every connection to ":memory:" is a database of its own: keep exactly one, forever.
    let pool_options = if in_memory {
        SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(4).min_connections(1)
    };
    let pool: SqlitePool = pool_options.connect_with(options).await?;
    sqlx::raw_sql(COMMON_SCHEMA).execute(&pool).await?;
    let own = match system {
        System::Erp => ERP_SCHEMA,
        System::Wms => WMS_SCHEMA,
        System::Pos => POS_SCHEMA,
    };
    sqlx::raw_sql(own).execute(&pool).await?;
    Ok(pool)
}

/// The current time as stored: RFC 3339 UTC.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads a decimal column.
pub(crate) fn dec(text: &str) -> Result<Decimal, ApiError> {
    Decimal::from_str(text).map_err(|e| ApiError::internal(format!("stored amount `{text}` is not a decimal: {e}")))
}

/// Reads an optional decimal column.
pub(crate) fn dec_opt(text: Option<&str>) -> Result<Option<Decimal>, ApiError> {
    text.map(dec).transpose()
}

/// Rounds a money amount to cents.
pub(crate) fn money(amount: Decimal) -> Decimal {
    amount.round_dp(2)
}

/// Requires a quantity or amount above zero.
pub(crate) fn positive(field: &str, value: Decimal) -> Result<Decimal, ApiError> {
    if value <= Decimal::ZERO {
        return Err(ApiError::validation(field, format!("{value} is not allowed; expected a value above zero")));
    }
    Ok(value)
}

/// Requires an amount of zero or more.
pub(crate) fn not_negative(field: &str, value: Decimal) -> Result<Decimal, ApiError> {
    if value < Decimal::ZERO {
        return Err(ApiError::validation(field, format!("{value} is negative; expected zero or more")));
    }
    Ok(value)
}

/// Requires a non-blank text and returns it trimmed.
pub(crate) fn required<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::validation(field, "must not be empty"));
    }
    Ok(value)
}

/// Requires an ISO 4217 currency code such as `EUR` and returns it upper-cased.
pub(crate) fn currency(field: &str, value: &str) -> Result<String, ApiError> {
    let code = value.trim();
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::validation(field, format!("`{value}` is not a currency; expected a code such as EUR")));
    }
    Ok(code.to_ascii_uppercase())
}

/// Requires at least one line.
pub(crate) fn lines<T>(field: &str, lines: &[T]) -> Result<(), ApiError> {
    if lines.is_empty() {
        return Err(ApiError::validation(field, "expected at least one line"));
    }
    Ok(())
}

/// Draws the next number of a document series and formats it as `PREFIX-000001`.
pub(crate) async fn next_number(conn: &mut SqliteConnection, series: &str) -> Result<String, ApiError> {
    let value: i64 = sqlx::query_scalar(
        "INSERT INTO counters (name, value) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
    )
    .bind(series)
    .fetch_one(&mut *conn)
    .await?;
    Ok(format!("{series}-{value:06}"))
}

/// An item of the assortment.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Item {
    pub sku: String,
    pub gtin: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub unit: String,
    pub cost: Decimal,
    pub price: Decimal,
    pub supplier: Option<String>,
}

type ItemRow = (String, Option<String>, String, Option<String>, String, String, String, Option<String>);

/// Finds an item by SKU or GTIN (leading zeros of a GTIN do not matter).
pub(crate) async fn find_item(conn: &mut SqliteConnection, reference: &str) -> Result<Option<Item>, ApiError> {
    let reference = reference.trim();
    let gtin = if !reference.is_empty() && reference.chars().all(|c| c.is_ascii_digit()) {
        reference.trim_start_matches('0').to_string()
    } else {
        String::new()
    };
    let row: Option<ItemRow> = sqlx::query_as(
        "SELECT sku, gtin, name, category, unit, cost, price, supplier FROM items
         WHERE sku = ?1 OR (?2 <> '' AND ltrim(gtin, '0') = ?2) ORDER BY sku = ?1 DESC LIMIT 1",
    )
    .bind(reference)
    .bind(gtin)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(sku, gtin, name, category, unit, cost, price, supplier)| {
        Ok(Item { sku, gtin, name, category, unit, cost: dec(&cost)?, price: dec(&price)?, supplier })
    })
    .transpose()
}

/// Resolves the item named at `field`, or 422 naming the field.
pub(crate) async fn item(conn: &mut SqliteConnection, field: &str, reference: &str) -> Result<Item, ApiError> {
    find_item(conn, reference)
        .await?
        .ok_or_else(|| ApiError::validation(field, format!("unknown item `{reference}`; expected a known SKU or GTIN")))
}

/// A store, distribution centre or other site.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Location {
    pub code: String,
    pub kind: String,
    pub region: Option<String>,
    pub district: Option<String>,
    pub name: String,
}

impl Location {
    /// Whether this is a distribution centre.
    pub fn is_dc(&self) -> bool {
        self.kind == "distribution_centre"
    }
}

type LocationRow = (String, String, Option<String>, Option<String>, String);

/// Finds a location by code.
pub(crate) async fn find_location(conn: &mut SqliteConnection, code: &str) -> Result<Option<Location>, ApiError> {
    let row: Option<LocationRow> =
        sqlx::query_as("SELECT code, kind, region, district, name FROM locations WHERE code = ?1")
            .bind(code.trim())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(code, kind, region, district, name)| Location { code, kind, region, district, name }))
}

/// Resolves the location named at `field`, or 422 naming the field.
pub(crate) async fn location(conn: &mut SqliteConnection, field: &str, code: &str) -> Result<Location, ApiError> {
    find_location(conn, code).await?.ok_or_else(|| {
        ApiError::validation(field, format!("unknown location `{code}`; expected a known location code"))
    })
}

/// The stock of one item at one location.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stock {
    pub on_hand: Decimal,
    pub in_transit: Decimal,
    pub reserved: Decimal,
    /// The location's own valuation cost, if it differs from the item's standard cost.
    pub unit_cost: Option<Decimal>,
}

/// Reads the stock of `item` (a SKU) at `location`; zero when never recorded.
pub(crate) async fn stock(conn: &mut SqliteConnection, location: &str, item: &str) -> Result<Stock, ApiError> {
    let row: Option<(String, String, String, Option<String>)> =
        sqlx::query_as("SELECT on_hand, in_transit, reserved, unit_cost FROM stock WHERE location = ?1 AND item = ?2")
            .bind(location)
            .bind(item)
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Ok(Stock::default()),
        Some((on_hand, in_transit, reserved, unit_cost)) => Ok(Stock {
            on_hand: dec(&on_hand)?,
            in_transit: dec(&in_transit)?,
            reserved: dec(&reserved)?,
            unit_cost: dec_opt(unit_cost.as_deref())?,
        }),
    }
}

/// Writes the stock of `item` (a SKU) at `location`.
pub(crate) async fn save_stock(
    conn: &mut SqliteConnection,
    location: &str,
    item: &str,
    stock: &Stock,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO stock (location, item, on_hand, in_transit, reserved, unit_cost) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (location, item) DO UPDATE SET on_hand = ?3, in_transit = ?4, reserved = ?5, unit_cost = ?6",
    )
    .bind(location)
    .bind(item)
    .bind(stock.on_hand.to_string())
    .bind(stock.in_transit.to_string())
    .bind(stock.reserved.to_string())
    .bind(stock.unit_cost.map(|c| c.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts the rows of every table, for `GET /admin/state`.
pub(crate) async fn table_counts(pool: &SqlitePool) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut counts = serde_json::Map::new();
    for table in tables {
        // Table names come from the schema itself, not from a request.
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?;
        counts.insert(table, count.into());
    }
    Ok(counts)
}
