//! Reading dates and date-times from cells with a chrono format.

use std::fmt::Write as _;

use chrono::format::{Item, ParseErrorKind, StrftimeItems};
use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How a date format places its values in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The format carries a UTC offset (`%z`, `%:z`, `%#z`, `%+`): the value is an instant.
    Offset,
    /// The format is a Unix timestamp (`%s`): the value is an instant.
    Timestamp,
    /// The format has no offset: the value is a local date or date-time in the mapping's time zone.
    Local,
}

/// A validated chrono format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DateFormat {
    /// The format as written (`%m/%d/%Y %H:%M`).
    pub(crate) format: String,
    /// How its values are placed in time.
    pub(crate) anchor: Anchor,
}

/// A value read from a cell: an instant, or a local date-time still to be placed in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParsedTime {
    /// An instant, with the offset written in the cell (UTC for timestamps).
    Instant(DateTime<FixedOffset>),
    /// A wall-clock date-time (midnight when the format has no time).
    Local(NaiveDateTime),
}

impl DateFormat {
    /// Checks a chrono format and finds out whether it carries an offset.
    pub(crate) fn parse(format: &str) -> Result<Self, String> {
        if format.trim().is_empty() {
            return Err("the date format is empty; write a chrono format such as \"%Y-%m-%d %H:%M:%S\"".to_owned());
        }
        if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
            return Err(format!(
                "{format:?} is not a valid chrono format: check the % specifiers (such as %Y, %m, %d, %H, %M, %S, \
                 %z) and write %% for a literal percent sign"
            ));
        }
        Ok(Self { format: format.to_owned(), anchor: anchor_of(format) })
    }

    /// Reads a cell's text (spaces around it are ignored).
    pub(crate) fn read(&self, text: &str) -> Result<ParsedTime, String> {
        let t = text.trim();
        let parsed =
            match self.anchor {
                Anchor::Offset => DateTime::parse_from_str(t, &self.format).map(ParsedTime::Instant),
                Anchor::Timestamp => NaiveDateTime::parse_from_str(t, &self.format)
                    .map(|n| ParsedTime::Instant(n.and_utc().fixed_offset())),
                Anchor::Local => match NaiveDateTime::parse_from_str(t, &self.format) {
                    Err(e) if e.kind() == ParseErrorKind::NotEnough => NaiveDate::parse_from_str(t, &self.format)
                        .map(|d| ParsedTime::Local(d.and_time(NaiveTime::MIN))),
                    other => other.map(ParsedTime::Local),
                },
            };
        parsed.map_err(|e| {
            let what =
                if t.is_empty() { "the cell is empty".to_owned() } else { format!("{t:?} {}", reason(e.kind())) };
            format!("{what}; expected a date in the format {:?}, such as {:?}", self.format, self.example())
        })
    }

    /// The sample instant 2010-12-01 08:26:00 UTC written in this format.
    fn example(&self) -> String {
        let sample = NaiveDate::from_ymd_opt(2010, 12, 1)
            .and_then(|d| d.and_hms_opt(8, 26, 0))
            .map(|n| n.and_utc().fixed_offset())
            .unwrap_or_default();
        let mut out = String::new();
        // The format was checked when the mapping was loaded; an error only leaves the sample short.
        let _ = write!(out, "{}", sample.format(&self.format));
        out
    }
}

fn reason(kind: ParseErrorKind) -> &'static str {
    match kind {
        ParseErrorKind::OutOfRange => "has a field out of range (such as month 13 or day 32)",
        ParseErrorKind::Impossible => "names a date or time that does not exist",
        ParseErrorKind::NotEnough => "does not give enough fields to make a date",
        ParseErrorKind::TooShort => "ends before the format does",
        ParseErrorKind::TooLong => "has text left over after the format ends",
        _ => "does not match the format",
    }
}

/// Finds the specifiers that make a value an instant.
fn anchor_of(format: &str) -> Anchor {
    let mut anchor = Anchor::Local;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        // Skip flags and widths (`%-d`, `%:z`, `%#z`, `%3f`, `%.3f`).
        let spec = chars.by_ref().find(|n| !matches!(n, '-' | '_' | '0' | ':' | '#' | '.' | '1'..='9'));
        match spec {
            Some('z' | '+') => return Anchor::Offset,
            Some('s') => anchor = Anchor::Timestamp,
            _ => {}
        }
    }
    anchor
}

/// Places a parsed value in time: local values are read in `zone`.
///
/// A local time that occurs twice (when clocks go back) is taken as the earlier instant; a local
/// time that never occurs (when clocks go forward) is an error.
pub(crate) fn to_utc(parsed: ParsedTime, zone: Option<Tz>) -> Result<DateTime<Utc>, String> {
    match parsed {
        ParsedTime::Instant(t) => Ok(t.with_timezone(&Utc)),
        ParsedTime::Local(n) => {
            let Some(zone) = zone else {
                return Err("the mapping has no time_zone to place this local time in".to_owned());
            };
            match zone.from_local_datetime(&n) {
                LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(earlier, _) => Ok(earlier.with_timezone(&Utc)),
                LocalResult::None => Err(format!(
                    "{n} does not exist in the time zone {zone}: the clocks went forward over it; check the time or \
                     the mapping's time_zone"
                )),
            }
        }
    }
}

/// The date of a parsed value: the written date for local values, the date in `zone` for instants
/// (the date at the cell's own offset when the mapping has no time zone).
pub(crate) fn local_date(parsed: ParsedTime, zone: Option<Tz>) -> NaiveDate {
    match (parsed, zone) {
        (ParsedTime::Local(n), _) => n.date(),
        (ParsedTime::Instant(t), Some(zone)) => t.with_timezone(&zone).date_naive(),
        (ParsedTime::Instant(t), None) => t.date_naive(),
    }
}

/// An instant as RFC 3339 in UTC (`2010-12-01T08:26:00Z`).
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> Option<Tz> {
        Some(chrono_tz::Europe::London)
    }

    fn utc(format: &str, text: &str, zone: Option<Tz>) -> Result<String, String> {
        let f = DateFormat::parse(format)?;
        Ok(rfc3339(to_utc(f.read(text)?, zone)?))
    }

    #[test]
    fn anchors() {
        assert_eq!(anchor_of("%Y-%m-%d %H:%M:%S"), Anchor::Local);
        assert_eq!(anchor_of("%Y-%m-%dT%H:%M:%S%:z"), Anchor::Offset);
        assert_eq!(anchor_of("%Y-%m-%dT%H:%M:%S%#z"), Anchor::Offset);
        assert_eq!(anchor_of("%+"), Anchor::Offset);
        assert_eq!(anchor_of("%s"), Anchor::Timestamp);
        assert_eq!(anchor_of("100%%z"), Anchor::Local);
    }

    #[test]
    fn local_times_are_read_in_the_time_zone() {
        // December is GMT in London, July is BST (UTC+1).
        assert_eq!(utc("%m/%d/%Y %H:%M", "12/1/2010 8:26", london()).unwrap(), "2010-12-01T08:26:00Z");
        assert_eq!(utc("%Y-%m-%d %H:%M:%S", "2011-07-01 08:16:00", london()).unwrap(), "2011-07-01T07:16:00Z");
        assert_eq!(utc("%d.%m.%Y", "01.07.2011", london()).unwrap(), "2011-06-30T23:00:00Z");
        // Clocks went back at 02:00 BST on 2011-10-30: 01:30 happened twice; the first is taken.
        assert_eq!(utc("%Y-%m-%d %H:%M", "2011-10-30 01:30", london()).unwrap(), "2011-10-30T00:30:00Z");
        // Clocks went forward at 01:00 GMT on 2011-03-27: 01:30 never happened.
        assert!(utc("%Y-%m-%d %H:%M", "2011-03-27 01:30", london()).unwrap_err().contains("does not exist"));
    }

    #[test]
    fn offsets_and_timestamps_are_instants() {
        assert_eq!(utc("%Y-%m-%dT%H:%M:%S%:z", "2011-07-01T08:16:00+02:00", None).unwrap(), "2011-07-01T06:16:00Z");
        assert_eq!(utc("%s", "1291191960", None).unwrap(), "2010-12-01T08:26:00Z");
        assert_eq!(
            utc("%Y-%m-%d %H:%M:%S%.f", "2011-07-01 08:16:00.250", Some(chrono_tz::UTC)).unwrap(),
            "2011-07-01T08:16:00.250Z"
        );
    }

    #[test]
    fn local_dates() {
        let f = DateFormat::parse("%Y-%m-%dT%H:%M:%S%:z").unwrap();
        let late = f.read("2011-07-01T23:30:00+00:00").unwrap();
        assert_eq!(local_date(late, london()).to_string(), "2011-07-02");
        assert_eq!(local_date(late, None).to_string(), "2011-07-01");
    }

    #[test]
    fn errors_show_the_expected_shape() {
        let e = utc("%m/%d/%Y %H:%M", "2010-12-01 08:26", london()).unwrap_err();
        assert!(e.contains("\"%m/%d/%Y %H:%M\""), "{e}");
        assert!(e.contains("\"12/01/2010 08:26\""), "{e}");
        let e = utc("%m/%d/%Y %H:%M", "13/01/2010 08:26", london()).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        assert!(utc("%m/%d/%Y", " ", london()).unwrap_err().contains("empty"));
        assert!(DateFormat::parse("%Y-%m-%Q").unwrap_err().contains("not a valid chrono format"));
        assert!(DateFormat::parse("").is_err());
    }
}
