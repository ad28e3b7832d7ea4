//! What can be wrong with a location's time zone or opening hours.

use chrono::{NaiveTime, Weekday};

/// A location whose time zone or opening hours cannot make a business calendar.
///
/// Every variant names the offending field with the same JSON path as
/// [`backroom_model::Location::validate`] uses, such as `$.opening_hours.weekly[2].closes`, and
/// displays as `<field>: <what is wrong>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The time zone is not a known IANA time zone name.
    #[error("{field}: {value:?} is not an IANA time zone, such as Europe/Paris")]
    UnknownTimeZone {
        /// The field: `$.time_zone`.
        field: String,
        /// The name that was given.
        value: String,
    },
    /// A period closes at or before it opens. Periods may not cross midnight: a night opening
    /// 22:00–02:00 is written as two periods, 22:00–23:59:59 on one day and 00:00–02:00 on the next.
    #[error(
        "{field}: closing time {closes} is not after opening time {opens} on {day}; a period cannot \
         cross midnight, split it into one period before and one after midnight"
    )]
    ClosesNotAfterOpens {
        /// The field: `$.opening_hours.weekly[i].closes`.
        field: String,
        /// The day of the period.
        day: Weekday,
        /// Its opening time.
        opens: NaiveTime,
        /// Its closing time.
        closes: NaiveTime,
    },
    /// Two periods of the same week day overlap.
    #[error("{field}: {day} {opens}–{closes} overlaps {other_field} ({day} {other_opens}–{other_closes})")]
    OverlappingPeriods {
        /// The field of the later-opening period: `$.opening_hours.weekly[i]`.
        field: String,
        /// The field of the period it overlaps: `$.opening_hours.weekly[j]`.
        other_field: String,
        /// The day both periods are on.
        day: Weekday,
        /// Opening time of the period at `field`.
        opens: NaiveTime,
        /// Closing time of the period at `field`.
        closes: NaiveTime,
        /// Opening time of the period at `other_field`.
        other_opens: NaiveTime,
        /// Closing time of the period at `other_field`.
        other_closes: NaiveTime,
    },
}

impl CalendarError {
    /// The JSON path of the offending field, such as `$.time_zone` or `$.opening_hours.weekly[1].closes`.
    pub fn field(&self) -> &str {
        match self {
            CalendarError::UnknownTimeZone { field, .. }
            | CalendarError::ClosesNotAfterOpens { field, .. }
            | CalendarError::OverlappingPeriods { field, .. } => field,
        }
    }
}
