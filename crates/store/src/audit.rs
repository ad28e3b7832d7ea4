//! The audit chain: one append-only record of every decision, approval, override, dead-letter
//! action, definition, location and key change, and external effect.
//!
//! Each entry holds who (actor, role, scope), when, what (kind, subject), the state before and
//! after, and why; and a hash over the previous entry's hash and its own canonical content:
//!
//! ```text
//! hash = hex(SHA-256(prev_hash "\n" seq "\n" at "\n" actor "\n" role "\n" scope "\n" kind "\n"
//!                    subject "\n" canonical(before) "\n" canonical(after) "\n" reason))
//! ```
//!
//! where absent values are empty, `at` is microseconds since the epoch, and `canonical` writes
//! JSON with object keys sorted and no whitespace. The first entry's `prev_hash` is 64 zeros.
//! Entries are written by the writer in the same transaction as the change they record (on
//! PostgreSQL under an advisory lock, so processes sharing a database extend one chain), so a
//! change is never stored without its entry. [`verify`] walks the chain and names the first
//! entry that was edited, deleted, inserted or moved.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::keys::micros_to_time;
use crate::query::{Param, Sql};
use crate::rows::RowExt;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited change, as the code that makes it describes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// Who made it: a key or user name, `system` for the engine's own actions.
    pub actor: String,
    /// The role it acted in, when one applies.
    pub role: Option<String>,
    /// The location scope it acted in, when one applies.
    pub scope: Option<String>,
    /// What kind of change (`task.decided`, `dead_letter.retried`, `key.created`, `action.sent`).
    pub kind: String,
    /// What it changed (`task/…`, `workflow/stockout_replenishment@3`, `key/…`).
    pub subject: String,
    /// The state before, when it matters.
    pub before: Option<Value>,
    /// The state after.
    pub after: Option<Value>,
    /// Why, as given by the actor.
    pub reason: Option<String>,
}

impl AuditEntry {
    /// An entry with only the required parts; add the rest with struct update syntax.
    pub fn new(at: DateTime<Utc>, actor: &str, kind: &str, subject: &str) -> Self {
        Self {
            at,
            actor: actor.to_owned(),
            role: None,
            scope: None,
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            before: None,
            after: None,
            reason: None,
        }
    }
}

/// An entry as recorded, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Its position: 1, 2, 3… with no gaps.
    pub seq: i64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The hash of an entry at `seq` following `prev_hash`.
pub fn entry_hash(seq: i64, prev_hash: &str, e: &AuditEntry) -> String {
    let mut text = String::with_capacity(256);
    for part in [
        prev_hash,
        &seq.to_string(),
        &e.at.timestamp_micros().to_string(),
        &e.actor,
        e.role.as_deref().unwrap_or(""),
        e.scope.as_deref().unwrap_or(""),
        &e.kind,
        &e.subject,
        &e.before.as_ref().map(canonical).unwrap_or_default(),
        &e.after.as_ref().map(canonical).unwrap_or_default(),
        e.reason.as_deref().unwrap_or(""),
    ] {
        text.push_str(part);
        text.push('\n');
    }
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// JSON with object keys sorted and no whitespace, whatever order the value holds them in.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Links entries onto a chain whose last entry is `(last_seq, last_hash)`.
pub(crate) fn link(last: Option<(i64, String)>, entries: &[AuditEntry]) -> Vec<AuditRecord> {
    let (mut seq, mut prev) = last.unwrap_or((0, GENESIS.to_owned()));
    entries
        .iter()
        .map(|e| {
            seq += 1;
            let hash = entry_hash(seq, &prev, e);
            AuditRecord { seq, entry: e.clone(), prev_hash: std::mem::replace(&mut prev, hash.clone()), hash }
        })
        .collect()
}

/// The first broken link of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry's content no longer gives its hash: it was edited.
    Edited {
        /// The entry.
        seq: i64,
    },
    /// Entries are missing before this one: deleted.
    Missing {
        /// The first entry after the gap.
        seq: i64,
        /// The entry expected there.
        expected: i64,
    },
    /// The entry does not follow the one before it: inserted or moved.
    Unlinked {
        /// The entry.
        seq: i64,
    },
    /// The last entries were removed: the chain is shorter than a previously seen head.
    Truncated {
        /// The number of entries left.
        entries: i64,
    },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Edited { seq } => {
                write!(f, "entry {seq} was edited: its content no longer gives its recorded hash")
            }
            ChainBreak::Missing { seq, expected } => {
                write!(f, "entry {expected} is missing (deleted): the chain goes on at entry {seq}")
            }
            ChainBreak::Unlinked { seq } => write!(
                f,
                "entry {seq} does not follow entry {}: an entry was inserted, replaced or moved here",
                seq - 1
            ),
            ChainBreak::Truncated { entries } => {
                write!(f, "the chain ends after entry {entries}: later entries were removed")
            }
        }
    }
}

/// Checks records read in `seq` order, continuing from `(last_seq, last_hash)` of the records
/// checked before (None at the start). Returns the new head or the first break.
pub(crate) fn check(head: Option<(i64, String)>, records: &[AuditRecord]) -> Result<Option<(i64, String)>, ChainBreak> {
    let mut head = head;
    for r in records {
        let (expected, prev) = head.as_ref().map_or((1, GENESIS), |(s, h)| (s + 1, h.as_str()));
        if r.seq != expected {
            return Err(if r.seq > expected {
                ChainBreak::Missing { seq: r.seq, expected }
            } else {
                ChainBreak::Unlinked { seq: r.seq }
            });
        }
        if r.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: r.seq });
        }
        if entry_hash(r.seq, &r.prev_hash, &r.entry) != r.hash {
            return Err(ChainBreak::Edited { seq: r.seq });
        }
        head = Some((r.seq, r.hash.clone()));
    }
    Ok(head)
}

/// What walking the chain found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Entries checked.
    pub entries: i64,
    /// The last good entry's hash (publish it to detect truncation later).
    pub head: Option<String>,
    /// The first break, when the chain is broken.
    pub broken: Option<ChainBreak>,
}

/// Filters for reading the audit record.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries about this subject (exact, or a prefix ending in `/`).
    pub subject: Option<String>,
    /// Only entries of this kind.
    pub kind: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only entries after this `seq`.
    pub after_seq: i64,
    /// At most this many.
    pub limit: i64,
}

/// The statement recording linked entries.
pub(crate) fn insert_sql(records: &[AuditRecord]) -> Sql {
    let mut s = Sql::default();
    s.push("INSERT INTO audit_log (seq, at, actor, role, scope, kind, subject, before, after, reason, prev_hash, hash) VALUES ");
    for (i, r) in records.iter().enumerate() {
        let e = &r.entry;
        s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Int(r.seq));
        s.bind(", ?", Param::Int(e.at.timestamp_micros()));
        s.bind(", ?", Param::Text(e.actor.clone()));
        s.bind(", ?", Param::OptText(e.role.clone()));
        s.bind(", ?", Param::OptText(e.scope.clone()));
        s.bind(", ?", Param::Text(e.kind.clone()));
        s.bind(", ?", Param::Text(e.subject.clone()));
        s.bind(", ?", Param::OptText(e.before.as_ref().map(canonical)));
        s.bind(", ?", Param::OptText(e.after.as_ref().map(canonical)));
        s.bind(", ?", Param::OptText(e.reason.clone()));
        s.bind(", ?", Param::Text(r.prev_hash.clone()));
        s.bind(", ?)", Param::Text(r.hash.clone()));
    }
    s
}

/// The chain's last entry: `seq` and `hash`.
pub(crate) const LAST_SQL: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/// Most entries one read returns.
pub const MAX_AUDIT_PAGE: i64 = 10_000;

/// The entries a query selects, in `seq` order.
pub(crate) fn select_sql(q: &AuditQuery) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT * FROM audit_log WHERE ");
    s.bind("seq > ?", Param::Int(q.after_seq));
    if let Some(a) = &q.actor {
        s.bind(" AND actor = ?", Param::Text(a.clone()));
    }
    if let Some(k) = &q.kind {
        s.bind(" AND kind = ?", Param::Text(k.clone()));
    }
    match &q.subject {
        Some(p) if p.ends_with('/') => {
            s.bind(" AND subject >= ?", Param::Text(p.clone()));
            s.bind(" AND subject < ?", Param::Text(format!("{}0", &p[..p.len() - 1])));
        }
        Some(p) => s.bind(" AND subject = ?", Param::Text(p.clone())),
        None => {}
    }
    if let Some(t) = q.since {
        s.bind(" AND at >= ?", Param::Int(t.timestamp_micros()));
    }
    if let Some(t) = q.until {
        s.bind(" AND at < ?", Param::Int(t.timestamp_micros()));
    }
    let limit = if q.limit <= 0 { 100 } else { q.limit.min(MAX_AUDIT_PAGE) };
    s.bind(" ORDER BY seq LIMIT ?", Param::Int(limit));
    s
}

/// Decodes an `audit_log` row. A JSON column that does not parse is kept as a string, so that
/// verification reports the entry as edited instead of failing to read it.
pub(crate) fn audit_row(r: &impl RowExt) -> sqlx::Result<AuditRecord> {
    let json = |col: &str| -> sqlx::Result<Option<Value>> {
        Ok(r.opt_text(col)?.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t))))
    };
    Ok(AuditRecord {
        seq: r.int("seq")?,
        entry: AuditEntry {
            at: micros_to_time(r.int("at")?),
            actor: r.text("actor")?,
            role: r.opt_text("role")?,
            scope: r.opt_text("scope")?,
            kind: r.text("kind")?,
            subject: r.text("subject")?,
            before: json("before")?,
            after: json("after")?,
            reason: r.opt_text("reason")?,
        },
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(kind: &str) -> AuditEntry {
        AuditEntry {
            after: Some(json!({"b": 1, "a": [true, null]})),
            ..AuditEntry::new(DateTime::UNIX_EPOCH, "ops", kind, "task/1")
        }
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let a: Value = serde_json::from_str(r#"{"b":{"y":1,"x":2},"a":"é"}"#).unwrap();
        assert_eq!(canonical(&a), r#"{"a":"é","b":{"x":2,"y":1}}"#);
    }

    #[test]
    fn a_linked_chain_checks_and_every_tampering_is_named() {
        let chain = link(None, &[entry("a"), entry("b"), entry("c"), entry("d")]);
        assert_eq!(chain[0].prev_hash, GENESIS);
        assert_eq!(check(None, &chain).unwrap().unwrap().0, 4);
        let more = link(Some((4, chain[3].hash.clone())), &[entry("e")]);
        assert_eq!(check(check(None, &chain).unwrap(), &more).unwrap().unwrap().0, 5);

        let mut edited = chain.clone();
        edited[1].entry.reason = Some("changed".into());
        assert_eq!(check(None, &edited), Err(ChainBreak::Edited { seq: 2 }));

        let deleted: Vec<_> = chain.iter().filter(|r| r.seq != 2).cloned().collect();
        assert_eq!(check(None, &deleted), Err(ChainBreak::Missing { seq: 3, expected: 2 }));

        // Two entries swapped and renumbered (with their hashes recomputed from their new
        // places, as someone covering tracks would) no longer link to their neighbours.
        let mut swapped = chain.clone();
        swapped.swap(1, 2);
        for (i, r) in swapped.iter_mut().enumerate() {
            r.seq = i as i64 + 1;
            r.hash = entry_hash(r.seq, &r.prev_hash, &r.entry);
        }
        assert_eq!(check(None, &swapped), Err(ChainBreak::Unlinked { seq: 2 }));
    }
}
