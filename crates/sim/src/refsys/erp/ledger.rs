//! The general ledger and the stock movement journal of the ERP.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::SqliteConnection;

use crate::refsys::db;
use crate::refsys::http::ApiError;

/// Cash and bank.
pub(crate) const CASH: &str = "1000 Cash";
/// Inventory at book value.
pub(crate) const INVENTORY: &str = "1400 Inventory";
/// Inventory shipped between locations and not yet received.
pub(crate) const IN_TRANSIT: &str = "1410 Inventory in transit";
/// Supplier invoices payable.
pub(crate) const PAYABLES: &str = "2000 Accounts payable";
/// Goods received, not yet invoiced (and the reverse).
pub(crate) const GR_IR: &str = "2150 GR/IR clearing";
/// Refunds to customers.
pub(crate) const SALES_RETURNS: &str = "4100 Sales returns";
/// Cost of goods sold.
pub(crate) const COST_OF_SALES: &str = "5000 Cost of goods sold";
/// Shrinkage, damage and transfer losses.
pub(crate) const SHRINKAGE: &str = "5400 Inventory shrinkage";

/// The kinds of posting, as filtered by `GET /gl-postings?kind=`.
pub(crate) const KINDS: [&str; 6] = ["refund", "transfer", "write_off", "invoice", "receipt", "credit_note"];

/// Posts `amount` from `credit` to `debit`. A negative amount posts the reverse entry with the
/// accounts swapped; zero posts nothing.
pub(crate) async fn post(
    conn: &mut SqliteConnection,
    kind: &str,
    reference: &str,
    debit: &str,
    credit: &str,
    amount: Decimal,
) -> Result<(), ApiError> {
    let amount = db::money(amount);
    if amount.is_zero() {
        return Ok(());
    }
    let (debit, credit, amount) =
        if amount < Decimal::ZERO { (credit, debit, -amount) } else { (debit, credit, amount) };
    sqlx::query(
        "INSERT INTO gl_postings (kind, reference, debit_account, credit_account, amount, posted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(kind)
    .bind(reference)
    .bind(debit)
    .bind(credit)
    .bind(amount.to_string())
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Lists postings, optionally of one kind and/or for one reference, oldest first.
pub(crate) async fn list(
    conn: &mut SqliteConnection,
    kind: Option<&str>,
    reference: Option<&str>,
) -> Result<Value, ApiError> {
    if let Some(kind) = kind
        && !KINDS.contains(&kind)
    {
        return Err(ApiError::validation(
            "kind",
            format!("unknown kind `{kind}`; expected one of {}", KINDS.join(", ")),
        ));
    }
    let rows: Vec<(i64, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT id, kind, reference, debit_account, credit_account, amount, posted_at FROM gl_postings
         WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR reference = ?2) ORDER BY id",
    )
    .bind(kind)
    .bind(reference)
    .fetch_all(&mut *conn)
    .await?;
    let mut postings = Vec::with_capacity(rows.len());
    for (id, kind, reference, debit, credit, amount, posted_at) in rows {
        postings.push(json!({
            "id": id, "kind": kind, "reference": reference, "debit_account": debit, "credit_account": credit,
            "amount": db::dec(&amount)?, "posted_at": posted_at,
        }));
    }
    Ok(json!({ "postings": postings }))
}

/// Records a stock movement of `quantity` (signed) of `item` (a SKU) at `location`.
pub(crate) async fn movement(
    conn: &mut SqliteConnection,
    location: &str,
    item: &str,
    quantity: Decimal,
    kind: &str,
    reference: &str,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO stock_movements (location, item, quantity, kind, reference, moved_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(location)
    .bind(item)
    .bind(quantity.to_string())
    .bind(kind)
    .bind(reference)
    .bind(db::now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
