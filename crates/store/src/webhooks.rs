//! What the webhook endpoints keep: the receipts of signed inbound deliveries (replay
//! protection shared by every process on the database), the pending count of an outbound
//! subscriber, and the lease a process holds on a subscriber's cursor.

use chrono::{DateTime, Utc};

use crate::query::{Param, Sql};

/// A signed inbound delivery that was accepted, recorded in the same transaction as its
/// events so that the same signature is refused when it comes again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookReceipt {
    /// The configured source it came from.
    pub source: String,
    /// The signature that identifies the delivery (hex).
    pub signature: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// Receipts of this source received before this time are deleted in the same transaction
    /// (they are older than any timestamp the source still accepts).
    pub prune_before: DateTime<Utc>,
}

/// The statements recording receipts: pruning, then an insert that must add a row (a receipt
/// already there makes the write fail with a conflict, so a concurrent replay is refused).
pub(crate) fn receipt_statements(receipts: &[WebhookReceipt]) -> Vec<Sql> {
    let mut out = Vec::new();
    for r in receipts {
        let mut s = Sql::default();
        s.bind("DELETE FROM webhook_receipts WHERE source = ?", Param::Text(r.source.clone()));
        s.bind(" AND received_at < ?", Param::Int(r.prune_before.timestamp_micros()));
        out.push(s);
        let mut s = Sql::default();
        s.bind(
            "INSERT INTO webhook_receipts (source, signature, received_at) VALUES (?",
            Param::Text(r.source.clone()),
        );
        s.bind(", ?", Param::Text(r.signature.clone()));
        s.bind(", ?) ON CONFLICT (source, signature) DO NOTHING", Param::Int(r.received_at.timestamp_micros()));
        s.must_change = true;
        out.push(s);
    }
    out
}

/// Whether a receipt for this signature of this source is recorded.
pub(crate) fn receipt_sql(source: &str, signature: &str) -> Sql {
    let mut s = Sql::default();
    s.bind("SELECT COUNT(*) AS n FROM webhook_receipts WHERE source = ?", Param::Text(source.to_owned()));
    s.bind(" AND signature = ?", Param::Text(signature.to_owned()));
    s
}

/// How many audit entries after `after_seq` have one of `kinds` (any kind when `None`).
pub(crate) fn audit_count_sql(after_seq: i64, kinds: Option<&[String]>) -> Sql {
    let mut s = Sql::default();
    s.bind("SELECT COUNT(*) AS n FROM audit_log WHERE seq > ?", Param::Int(after_seq));
    if let Some(kinds) = kinds {
        if kinds.is_empty() {
            s.push(" AND 1 = 0");
        } else {
            for (i, k) in kinds.iter().enumerate() {
                s.bind(if i == 0 { " AND kind IN (?" } else { ", ?" }, Param::Text(k.clone()));
            }
            s.push(")");
        }
    }
    s
}

/// Creates the cursor row when it is missing (at 0).
pub(crate) fn cursor_row_sql(name: &str) -> Sql {
    let mut s = Sql::default();
    s.bind(
        "INSERT INTO engine_cursors (name, seq) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
        Param::Text(name.to_owned()),
    );
    s
}

/// Takes or renews the lease on a cursor for `owner` until `until`, when it is free, expired
/// or already `owner`'s; changes no row otherwise.
pub(crate) fn lease_cursor_sql(name: &str, owner: &str, now: i64, until: i64) -> Sql {
    let mut s = Sql::default();
    s.bind("UPDATE engine_cursors SET lease_owner = ?", Param::Text(owner.to_owned()));
    s.bind(", lease_until = ?", Param::Int(until));
    s.bind(" WHERE name = ?", Param::Text(name.to_owned()));
    s.bind(" AND (lease_owner IS NULL OR lease_owner = ?", Param::Text(owner.to_owned()));
    s.bind(" OR lease_until IS NULL OR lease_until < ?)", Param::Int(now));
    s
}

/// Gives up `owner`'s lease on a cursor.
pub(crate) fn release_cursor_sql(name: &str, owner: &str) -> Sql {
    let mut s = Sql::default();
    s.bind(
        "UPDATE engine_cursors SET lease_owner = NULL, lease_until = NULL WHERE name = ?",
        Param::Text(name.to_owned()),
    );
    s.bind(" AND lease_owner = ?", Param::Text(owner.to_owned()));
    s
}
