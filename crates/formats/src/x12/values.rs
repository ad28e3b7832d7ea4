//! X12 simple data types: numbers (R, N2), dates (DT), times (TM), and local times made UTC.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::syntax::{Segment, shorten};
use crate::Problem;

/// A decimal number (X12 type R): optional minus sign, digits, optional decimal point.
pub(crate) fn decimal(seg: &Segment, n: usize, what: &str) -> Result<Option<Decimal>, Problem> {
    let raw = seg.el(n);
    if raw.is_empty() {
        return Ok(None);
    }
    let body = raw.strip_prefix('-').unwrap_or(raw);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    let points = body.bytes().filter(|&b| b == b'.').count();
    // X12 numbers hold at most 18 digits (element 782, monetary amount, is R1/18).
    let parsed = if digits > 0 && digits <= 18 && digits + points == body.len() && points <= 1 {
        let text = if body.starts_with('.') { format!("0{body}") } else { body.to_owned() };
        Decimal::from_str(&text).ok().map(|d| if raw.starts_with('-') { -d } else { d })
    } else {
        None
    };
    match parsed {
        Some(d) => Ok(Some(d.normalize())),
        None => Err(seg.problem(
            n,
            format!("{what} {:?} is not a decimal number (at most 18 digits with an optional minus sign and decimal point, such as 12.5)", shorten(raw)),
        )),
    }
}

/// A required decimal number.
pub(crate) fn required_decimal(seg: &Segment, n: usize, what: &str) -> Result<Decimal, Problem> {
    decimal(seg, n, what)?.ok_or_else(|| seg.problem(n, format!("{what} is missing")))
}

/// An amount with two implied decimals (X12 type N2): `36596` is 365.96.
pub(crate) fn implied_cents(seg: &Segment, n: usize, what: &str) -> Result<Option<Decimal>, Problem> {
    let raw = seg.el(n);
    if raw.is_empty() {
        return Ok(None);
    }
    let body = raw.strip_prefix('-').unwrap_or(raw);
    match body.parse::<i64>() {
        Ok(v) if body.bytes().all(|b| b.is_ascii_digit()) => {
            let cents = Decimal::new(v, 2);
            Ok(Some(if raw.starts_with('-') { -cents } else { cents }.normalize()))
        }
        _ => Err(seg.problem(
            n,
            format!(
                "{what} {:?} is not an amount with two implied decimals (digits only, 36596 for 365.96)",
                shorten(raw)
            ),
        )),
    }
}

/// A date (X12 type DT): CCYYMMDD, or YYMMDD read with 1950–2049 as the century window.
pub(crate) fn date(seg: &Segment, n: usize, what: &str) -> Result<Option<NaiveDate>, Problem> {
    let raw = seg.el(n);
    if raw.is_empty() {
        return Ok(None);
    }
    parse_date(raw).map(Some).ok_or_else(|| {
        seg.problem(n, format!("{what} {:?} is not a date: expected CCYYMMDD such as 20240131", shorten(raw)))
    })
}

/// A required date.
pub(crate) fn required_date(seg: &Segment, n: usize, what: &str) -> Result<NaiveDate, Problem> {
    date(seg, n, what)?.ok_or_else(|| seg.problem(n, format!("{what} is missing: expected CCYYMMDD")))
}

/// Reads CCYYMMDD or YYMMDD.
pub(crate) fn parse_date(raw: &str) -> Option<NaiveDate> {
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = match raw.len() {
        8 => raw.to_owned(),
        6 => {
            let yy: u32 = raw.get(..2)?.parse().ok()?;
            format!("{}{raw}", if yy < 50 { "20" } else { "19" })
        }
        _ => return None,
    };
    NaiveDate::parse_from_str(&full, "%Y%m%d").ok()
}

/// A time (X12 type TM): HHMM, HHMMSS, or HHMMSS with decimal seconds (ignored).
pub(crate) fn time(seg: &Segment, n: usize, what: &str) -> Result<Option<NaiveTime>, Problem> {
    let raw = seg.el(n);
    if raw.is_empty() {
        return Ok(None);
    }
    parse_time(raw)
        .map(Some)
        .ok_or_else(|| seg.problem(n, format!("{what} {:?} is not a time: expected HHMM or HHMMSS", shorten(raw))))
}

/// Reads HHMM or HHMMSS (further digits, decimal seconds, are dropped).
pub(crate) fn parse_time(raw: &str) -> Option<NaiveTime> {
    if !raw.bytes().all(|b| b.is_ascii_digit()) || !(4..=8).contains(&raw.len()) || raw.len() == 5 {
        return None;
    }
    let h = raw.get(..2)?.parse().ok()?;
    let m = raw.get(2..4)?.parse().ok()?;
    let s = raw.get(4..6).map_or(Some(0), |s| s.parse().ok())?;
    NaiveTime::from_hms_opt(h, m, s)
}

/// A local date and time in a zone, as UTC (the earlier instant when the clock repeats, the
/// UTC reading when the local time falls in a gap).
pub(crate) fn to_utc(date: NaiveDate, time: Option<NaiveTime>, tz: Tz) -> DateTime<Utc> {
    let local = date.and_time(time.unwrap_or(NaiveTime::MIN));
    tz.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// An ISO 4217 code from CUR02 (the model checks that it is a code in use).
pub(crate) fn currency(seg: &Segment, n: usize) -> Result<String, Problem> {
    let raw = seg.el(n);
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_owned())
    } else {
        Err(seg.problem(n, format!("{:?} is not an ISO 4217 currency code such as USD", shorten(raw))))
    }
}

/// A line number from an element: a whole number that fits, else `None`.
pub(crate) fn line_number(raw: &str) -> Option<u32> {
    let raw = raw.trim();
    (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit())).then(|| raw.parse().ok()).flatten()
}
