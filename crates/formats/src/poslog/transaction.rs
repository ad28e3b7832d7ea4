//! One POSLog `Transaction`: its identity (store, till, business day, sequence number), its times,
//! and which canonical event it becomes.

use backroom_model::NewEvent;
use chrono::{DateTime, NaiveDate, Utc};

use super::time::{Stamp, local_to_utc, parse_date};
use super::{Arts, control, retail};
use crate::xml::ElementId;
use crate::{Context, Problem, to_code};

/// What every event of a transaction shares.
pub(crate) struct Header {
    /// The `Transaction` element.
    pub element: ElementId,
    /// The store code.
    pub store: String,
    /// The till.
    pub workstation: String,
    /// The store's business day.
    pub business_day: NaiveDate,
    /// `<store>-<workstation>-<business day>-<sequence>`.
    pub id: String,
    /// The operator.
    pub cashier: Option<String>,
    /// The currency the transaction states, if any.
    pub currency: Option<String>,
    /// When the transaction ended (else began).
    pub occurred_at: DateTime<Utc>,
    /// The event source.
    pub source: String,
}

impl Header {
    /// The currency, or a problem saying where POSLog would carry it.
    pub(crate) fn currency(&self, a: &Arts<'_>, problems: &mut Vec<Problem>) -> Option<String> {
        if self.currency.is_none() {
            problems.push(a.problem(
                self.element,
                "the transaction states no currency: expected Transaction/CurrencyCode (such as SEK) or a CurrencyCode attribute on its Total or Amount elements",
            ));
        }
        self.currency.clone()
    }
}

/// Reads one transaction into its events, recording any problem.
pub(crate) fn read(a: &Arts<'_>, t: ElementId, ctx: &Context, problems: &mut Vec<Problem>) -> Vec<NewEvent> {
    let Some(header) = header(a, t, ctx, problems) else {
        return Vec::new();
    };
    let retail_transaction = a.child(t, "RetailTransaction");
    if a.flag(t, "CancelFlag") {
        return control::cancelled(a, &header, retail_transaction, "cancelled", problems);
    }
    if a.flag(t, "TrainingModeFlag") {
        return control::cancelled(a, &header, retail_transaction, "training", problems);
    }
    if let Some(rt) = retail_transaction {
        if let Some(kind) =
            a.attribute(rt, "TransactionStatus").or_else(|| a.text(rt, "TransactionStatus")).and_then(status_kind)
        {
            return control::cancelled(a, &header, Some(rt), kind, problems);
        }
        return retail::read(a, &header, rt, problems);
    }
    if let Some(ct) = a.child(t, "ControlTransaction") {
        return control::control(a, &header, ct, problems);
    }
    if let Some(tc) = a.child(t, "TenderControlTransaction") {
        return control::control(a, &header, tc, problems);
    }
    if let Some(other) = a.element_children(t).find(|&c| a.name(c).ends_with("Transaction")) {
        return control::other(a, &header, other, problems);
    }
    problems.push(a.problem(
        t,
        "the Transaction holds no RetailTransaction, ControlTransaction, TenderControlTransaction or other …Transaction element",
    ));
    Vec::new()
}

/// The control kind of a retail transaction status that is not a completed sale.
fn status_kind(status: &str) -> Option<&'static str> {
    match status.trim().to_ascii_lowercase().as_str() {
        "canceled" | "cancelled" => Some("cancelled"),
        "voided" | "transactionvoided" => Some("voided"),
        "postvoided" => Some("post_voided"),
        "suspended" => Some("suspended"),
        "suspendeddeleted" => Some("suspended_deleted"),
        _ => None,
    }
}

fn header(a: &Arts<'_>, t: ElementId, ctx: &Context, problems: &mut Vec<Problem>) -> Option<Header> {
    let before = problems.len();
    let store = a.text(t, "RetailStoreID").or_else(|| a.text_at(t, &["BusinessUnit", "UnitID"])).and_then(to_code);
    if store.is_none() {
        problems.push(a.problem(
            t,
            "the transaction names no store: expected RetailStoreID (POSLog 2.x) or BusinessUnit/UnitID (POSLog 6.0)",
        ));
    }
    let workstation = a.text(t, "WorkstationID").and_then(to_code);
    if workstation.is_none() {
        problems.push(a.problem(t, "the transaction names no till: expected WorkstationID"));
    }
    let sequence = a.text(t, "SequenceNumber").and_then(to_code);
    if sequence.is_none() {
        problems.push(a.problem(t, "the transaction has no number: expected its SequenceNumber"));
    }
    let zone = store.as_deref().map_or(ctx.default_time_zone, |s| ctx.time_zone(s));
    let begin = stamp(a, t, "BeginDateTime", problems);
    let end = stamp(a, t, "EndDateTime", problems);
    let business_day = match a.child(t, "BusinessDayDate") {
        Some(e) => {
            let day = parse_date(a.doc.text(e));
            if day.is_none() {
                problems.push(
                    a.problem(e, format!("BusinessDayDate {:?} is not a date; expected YYYY-MM-DD", a.doc.text(e))),
                );
            }
            day
        }
        None => {
            let day = begin.or(end).map(|s| s.local_date(zone));
            if day.is_none() && problems.len() == before {
                problems.push(a.problem(
                    t,
                    "the transaction has no business day: expected BusinessDayDate, or a BeginDateTime or EndDateTime to take the date from",
                ));
            }
            day
        }
    };
    let (Some(store), Some(workstation), Some(sequence), Some(business_day)) =
        (store, workstation, sequence, business_day)
    else {
        return None;
    };
    // A bad time does not stop the transaction being read, so its other problems are found too;
    // the document is rejected either way.
    let id = to_code(&format!("{store}-{workstation}-{business_day}-{sequence}"))?;
    let occurred_at = end
        .or(begin)
        .map_or_else(|| local_to_utc(business_day.and_hms_opt(0, 0, 0).unwrap_or_default(), zone), |s| s.to_utc(zone));
    let cashier = a
        .child(t, "OperatorID")
        .and_then(|o| Some(a.doc.text(o)).filter(|s| !s.is_empty()).or_else(|| a.attribute(o, "OperatorName")))
        .map(str::to_owned);
    let currency = a
        .text(t, "CurrencyCode")
        .map(str::to_owned)
        .or_else(|| a.descendants(t).into_iter().find_map(|e| a.attribute(e, "CurrencyCode")).map(str::to_owned));
    let source = ctx.source_or(|| format!("poslog/{store}"));
    Some(Header { element: t, store, workstation, business_day, id, cashier, currency, occurred_at, source })
}

fn stamp(a: &Arts<'_>, t: ElementId, name: &str, problems: &mut Vec<Problem>) -> Option<Stamp> {
    let e = a.child(t, name)?;
    let text = a.doc.text(e);
    if text.is_empty() {
        return None;
    }
    let s = Stamp::parse(text);
    if s.is_none() {
        problems.push(a.problem(
            e,
            format!("{name} {text:?} is not a date-time; expected YYYY-MM-DDThh:mm:ss, optionally with Z or an offset such as +02:00"),
        ));
    }
    s
}
