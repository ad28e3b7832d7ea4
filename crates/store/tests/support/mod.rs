//! Shared test support: stores on both backends, and realistic retail events built from the UCI
//! Online Retail data set in `../shared/data/demand`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;

use backroom_model::{NewEvent, validate_event};
use backroom_store::{Store, StoreConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A store under test and what keeps it alive.
pub struct TestStore {
    pub store: Store,
    pub config: StoreConfig,
    dir: std::sync::Arc<tempfile::TempDir>,
}

impl TestStore {
    /// Keeps the temporary directory alive while a test body holds only part of the store.
    pub fn keep(&self) -> std::sync::Arc<tempfile::TempDir> {
        self.dir.clone()
    }

    /// Closes and reopens the same database.
    pub async fn reopen(&mut self) {
        self.store.close().await;
        self.store = Store::open(&self.config).await.expect("reopen");
    }
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig::sqlite(dir.path());
    let store = Store::open(&config).await.expect("open sqlite");
    TestStore { store, config, dir: std::sync::Arc::new(dir) }
}

/// A fresh PostgreSQL store in its own schema, or `None` when `BACKROOM_TEST_DATABASE_URL` is
/// unset. A set but unreachable URL fails the test.
pub async fn postgres() -> Option<TestStore> {
    let url = match std::env::var("BACKROOM_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            eprintln!("BACKROOM_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
            return None;
        }
    };
    let schema = format!("t_{}", uuid_like());
    let config = StoreConfig::postgres(&url, Some(&schema));
    let store = Store::open(&config).await.unwrap_or_else(|e| panic!("BACKROOM_TEST_DATABASE_URL is set but: {e}"));
    Some(TestStore { store, config, dir: std::sync::Arc::new(tempfile::tempdir().expect("tempdir")) })
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{nanos:x}{:x}", std::process::id())
}

/// Runs a conformance test against SQLite, and against PostgreSQL when configured.
#[macro_export]
macro_rules! conformance {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = support::sqlite().await;
                let keep = t.keep();
                ($body)(t).await;
                drop(keep);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = support::postgres().await {
                    ($body)(t).await;
                }
            }
        }
    };
}

/// Validates a raw event, panicking with the problems if it is invalid.
pub fn event(raw: Value) -> NewEvent {
    validate_event(&raw).unwrap_or_else(|e| panic!("invalid test event {raw}: {e:?}"))
}

const UCI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/demand/uci-online-retail-I/online_retail_I_2010-12-01_2011-12-09.csv.gz"
);

/// One row of the UCI Online Retail data set.
#[derive(Clone, Debug)]
pub struct UciRow {
    pub invoice: String,
    pub stock_code: String,
    pub quantity: Decimal,
    pub date: String,
    pub unit_price: Decimal,
    pub country: String,
}

/// The first `limit` data rows of the UCI Online Retail file.
pub fn uci_rows(limit: usize) -> Vec<UciRow> {
    let file = std::fs::File::open(UCI).unwrap_or_else(|e| panic!("{UCI}: {e}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).take(64 << 20).read_to_string(&mut text).expect("gunzip");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .take(limit)
        .map(|r| {
            let r = r.expect("csv row");
            UciRow {
                invoice: r[0].to_owned(),
                stock_code: r[1].replace(' ', "-"),
                quantity: r[3].parse().expect("quantity"),
                date: r[4].to_owned(),
                unit_price: r[5].parse().expect("price"),
                country: r[7].replace(' ', "-"),
            }
        })
        .collect()
}

/// Till transactions from UCI rows: one `pos.sale` per invoice, one `pos.return` per
/// cancellation invoice (`C…`, quantities made positive). Rows with a non-positive quantity on a
/// sales invoice (stock corrections in the data set) are left out.
pub fn uci_till_events(rows: &[UciRow]) -> Vec<NewEvent> {
    let mut invoices: BTreeMap<String, Vec<&UciRow>> = BTreeMap::new();
    let mut order = Vec::new();
    for r in rows {
        let is_return = r.invoice.starts_with('C');
        if !is_return && r.quantity <= Decimal::ZERO {
            continue;
        }
        if !invoices.contains_key(&r.invoice) {
            order.push(r.invoice.clone());
        }
        invoices.entry(r.invoice.clone()).or_default().push(r);
    }
    order
        .iter()
        .map(|inv| {
            let lines = &invoices[inv];
            let first = lines[0];
            let is_return = inv.starts_with('C');
            let mut total = Decimal::ZERO;
            let json_lines: Vec<Value> = lines
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let q = r.quantity.abs();
                    let net = q * r.unit_price;
                    total += net;
                    json!({"line": i + 1, "item": {"sku": r.stock_code}, "quantity": {"value": q.to_string()},
                           "unit_price": {"amount": r.unit_price.to_string(), "currency": "GBP"},
                           "net_amount": {"amount": net.to_string(), "currency": "GBP"}})
                })
                .collect();
            let (day, time) = first.date.split_once(' ').expect("date and time");
            event(json!({
                "id": inv, "type": if is_return { "pos.return" } else { "pos.sale" }, "source": "uci-online-retail",
                "occurred_at": format!("{day}T{time}Z"),
                "data": {"transaction_id": inv, "location": first.country, "business_day": day, "currency": "GBP",
                         "lines": json_lines, "total": {"amount": total.to_string(), "currency": "GBP"}}
            }))
        })
        .collect()
}
