//! POSLog date-times: local till times read in the store's time zone, or times with an offset.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// A date-time as a till wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// A wall-clock time without an offset, in the store's time zone.
    Local(NaiveDateTime),
    /// A time with its offset.
    Fixed(DateTime<FixedOffset>),
}

impl Stamp {
    /// Reads `2019-07-22T15:53:21`, with optional fractional seconds, and an optional `Z` or
    /// `±hh:mm` / `±hhmm` offset; a space may stand for the `T`.
    pub(crate) fn parse(text: &str) -> Option<Stamp> {
        let t = text.trim();
        if let Ok(d) = DateTime::parse_from_rfc3339(t) {
            return Some(Stamp::Fixed(d));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
            if let Ok(d) = DateTime::parse_from_str(t, format) {
                return Some(Stamp::Fixed(d));
            }
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(d) = NaiveDateTime::parse_from_str(t, format) {
                return Some(Stamp::Local(d));
            }
        }
        None
    }

    /// The instant, local times read in `zone`.
    pub(crate) fn to_utc(self, zone: Tz) -> DateTime<Utc> {
        match self {
            Stamp::Local(naive) => local_to_utc(naive, zone),
            Stamp::Fixed(d) => d.with_timezone(&Utc),
        }
    }

    /// The calendar date in the store's zone.
    pub(crate) fn local_date(self, zone: Tz) -> NaiveDate {
        match self {
            Stamp::Local(naive) => naive.date(),
            Stamp::Fixed(d) => d.with_timezone(&zone).date_naive(),
        }
    }
}

/// A wall-clock time in `zone` as an instant. A time in the autumn fold is its first occurrence;
/// a time in the spring gap is read with the offset in force before the gap.
pub(crate) fn local_to_utc(naive: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            let before = naive.checked_sub_signed(TimeDelta::days(1)).unwrap_or(naive);
            let offset = zone.offset_from_utc_datetime(&before).fix();
            with_offset(naive, offset)
        }
    }
}

fn with_offset(naive: NaiveDateTime, offset: FixedOffset) -> DateTime<Utc> {
    let utc = naive.checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc()))).unwrap_or(naive);
    DateTime::from_naive_utc_and_offset(utc, Utc)
}

/// Reads a business day date (`2019-07-22`; a trailing time, as some tills write, is ignored).
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().or_else(|| {
        t.get(..10).filter(|_| t.get(10..11) == Some("T")).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn stockholm_summer_winter_gap_and_fold() {
        let z = chrono_tz::Europe::Stockholm;
        assert_eq!(local_to_utc(at("2019-07-22T15:53:21"), z).to_rfc3339(), "2019-07-22T13:53:21+00:00");
        assert_eq!(local_to_utc(at("2019-01-22T15:53:21"), z).to_rfc3339(), "2019-01-22T14:53:21+00:00");
        // 02:30 on 31 March 2019 does not exist: read with +01:00, the offset before the gap.
        assert_eq!(local_to_utc(at("2019-03-31T02:30:00"), z).to_rfc3339(), "2019-03-31T01:30:00+00:00");
        // 02:30 on 27 October 2019 happens twice: the first (+02:00) is taken.
        assert_eq!(local_to_utc(at("2019-10-27T02:30:00"), z).to_rfc3339(), "2019-10-27T00:30:00+00:00");
    }

    #[test]
    fn stamps_with_and_without_offsets() {
        let z = chrono_tz::Europe::Stockholm;
        let fixed = Stamp::parse("2019-07-22T23:30:00-04:00").unwrap();
        assert_eq!(fixed.to_utc(z).to_rfc3339(), "2019-07-23T03:30:00+00:00");
        assert_eq!(fixed.local_date(z), NaiveDate::from_ymd_opt(2019, 7, 23).unwrap());
        assert!(matches!(Stamp::parse("2019-07-22T15:53:21.250"), Some(Stamp::Local(_))));
        assert_eq!(Stamp::parse("22/07/2019"), None);
        assert_eq!(parse_date("2019-07-22T00:00:00"), NaiveDate::from_ymd_opt(2019, 7, 22));
        assert_eq!(parse_date("2019-07-2"), NaiveDate::from_ymd_opt(2019, 7, 2));
        assert_eq!(parse_date("2019-13-01"), None);
    }
}
