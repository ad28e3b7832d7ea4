//! Business calendars: opening hours, time zones and closed days of a location.
//!
//! A [`BusinessCalendar`] answers the questions due times and escalations ask: is the location
//! open at this instant, when does it next open, when has a given amount of *open* time elapsed
//! (the due time of a task whose SLA is "4 business hours"), and how much open time lies between
//! two instants (has a task waited "4 business hours" yet).
//!
//! Every function is a pure function of its arguments: instants are UTC, there is no wall clock.
//!
//! # How local hours become instants
//!
//! Opening hours are local wall-clock times in the location's IANA time zone, so a store open
//! 09:00–20:00 in `Europe/Paris` opens at 09:00 local on every day, including the days clocks
//! change. Each period of a local day becomes the UTC interval from its opening instant to its
//! closing instant, where the instant of a local time is **the first instant the local clock shows
//! that time or a later one**:
//!
//! - a local time that exists once is that instant;
//! - a local time shown twice (the hour repeated when clocks go back) is its first occurrence;
//! - a local time that never shows (the hour skipped when clocks go forward) is the instant the
//!   clocks jump, i.e. the end of the gap: a store opening at 02:30 on the night clocks go from
//!   02:00 to 03:00 opens at 03:00.
//!
//! Open time is always real elapsed time between those instants: a period 01:00–05:00 lasts three
//! hours on the night clocks go forward and five on the night they go back, and an always-open
//! distribution centre has a 23-hour and a 25-hour day each year.
//!
//! Periods may not cross midnight (`closes` must be after `opens`, as
//! [`backroom_model::Location::validate`] also requires): a night opening is written as two
//! periods on consecutive days. Closed days (`closed_on`) are whole local days.

mod error;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use backroom_model::{Location, OpeningHours};
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

pub use error::CalendarError;

/// A calendar that shows no opening for this many local days in a row counts as never opening
/// again: [`BusinessCalendar::next_open`] and [`BusinessCalendar::add_business_time`] give `None`.
pub const NO_OPENING_HORIZON_DAYS: u32 = 370;

/// [`BusinessCalendar::add_business_time`] looks this many local days ahead at most (about a
/// century); a due time further away is `None`.
pub const MAX_SEARCH_DAYS: u32 = 36_525;

const DAY: Duration = Duration::days(1);

/// The longest UTC offset any time zone has had, with a margin: 26 hours.
const MAX_OFFSET_SECS: i64 = 26 * 3600;

/// One opening period of a week day, as offsets from local midnight; `end` may be 24 hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: Duration,
    end: Duration,
}

/// Where a scan over the open intervals stops.
#[derive(Clone, Copy, Debug)]
enum Limit {
    /// After [`NO_OPENING_HORIZON_DAYS`] days in a row without opening, or [`MAX_SEARCH_DAYS`] days.
    Horizon,
    /// After this local date.
    Through(NaiveDate),
}

/// When a location is open: its time zone, its weekly opening periods and its closed days.
///
/// Built from a [`Location`] with [`BusinessCalendar::for_location`], or for a location that is
/// always open (a 24/7 distribution centre, the company level) with
/// [`BusinessCalendar::always_open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Opening periods per week day, Monday first, sorted and not overlapping.
    weekly: [Vec<Span>; 7],
    closed_on: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// The calendar of a location: its time zone, weekly opening periods (several per day are
    /// allowed, such as a lunch break) and closed days.
    ///
    /// A location without any weekly period is never open, as its opening hours say ("a day
    /// without a period is closed"); use [`BusinessCalendar::always_open`] for locations whose
    /// time simply counts around the clock.
    ///
    /// # Errors
    ///
    /// The first problem found, naming its field: a time zone that is not an IANA name
    /// (`$.time_zone`), a period that does not close after it opens
    /// (`$.opening_hours.weekly[i].closes`), two periods of one day that overlap
    /// (`$.opening_hours.weekly[i]`).
    pub fn for_location(location: &Location) -> Result<Self, CalendarError> {
        let tz = location.time_zone.parse::<Tz>().map_err(|_| CalendarError::UnknownTimeZone {
            field: "$.time_zone".to_owned(),
            value: location.time_zone.clone(),
        })?;
        Self::from_hours(tz, &location.opening_hours)
    }

    /// The calendar of opening hours in a time zone; errors name fields as
    /// [`BusinessCalendar::for_location`] does (`$.opening_hours.weekly[i]…`).
    ///
    /// # Errors
    ///
    /// A period that does not close after it opens, or two periods of one day that overlap.
    /// Periods that touch (one closes when the next opens) are fine.
    pub fn from_hours(tz: Tz, hours: &OpeningHours) -> Result<Self, CalendarError> {
        for (i, period) in hours.weekly.iter().enumerate() {
            if period.closes <= period.opens {
                return Err(CalendarError::ClosesNotAfterOpens {
                    field: format!("$.opening_hours.weekly[{i}].closes"),
                    day: period.day,
                    opens: period.opens,
                    closes: period.closes,
                });
            }
        }
        let mut by_day: [Vec<(NaiveTime, NaiveTime, usize)>; 7] = Default::default();
        for (i, period) in hours.weekly.iter().enumerate() {
            by_day[day_index(period.day)].push((period.opens, period.closes, i));
        }
        let mut weekly: [Vec<Span>; 7] = Default::default();
        for (periods, spans) in by_day.iter_mut().zip(weekly.iter_mut()) {
            periods.sort();
            let mut previous: Option<(NaiveTime, NaiveTime, usize)> = None;
            for &(opens, closes, i) in periods.iter() {
                if let Some((other_opens, other_closes, j)) = previous
                    && opens < other_closes
                {
                    return Err(CalendarError::OverlappingPeriods {
                        field: format!("$.opening_hours.weekly[{i}]"),
                        other_field: format!("$.opening_hours.weekly[{j}]"),
                        day: hours.weekly[i].day,
                        opens,
                        closes,
                        other_opens,
                        other_closes,
                    });
                }
                previous = Some((opens, closes, i));
                spans.push(Span { start: since_midnight(opens), end: since_midnight(closes) });
            }
        }
        Ok(BusinessCalendar { tz, weekly, closed_on: hours.closed_on.iter().copied().collect() })
    }

    /// A calendar open around the clock every day in a time zone: business time is real time.
    pub fn always_open(tz: Tz) -> Self {
        let whole_day = || vec![Span { start: Duration::zero(), end: DAY }];
        BusinessCalendar { tz, weekly: std::array::from_fn(|_| whole_day()), closed_on: BTreeSet::new() }
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether the location is open at an instant. Periods include their opening instant and
    /// exclude their closing instant.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let Some(last) = self.local_date(at).succ_opt() else {
            return false;
        };
        self.scan(at, Limit::Through(last), |opens, _| ControlFlow::Break(opens == at)).unwrap_or(false)
    }

    /// `at` if the location is open then, else the start of its next opening period; `None` if it
    /// does not open within [`NO_OPENING_HORIZON_DAYS`] days (or has no opening period at all).
    pub fn next_open(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.scan(at, Limit::Horizon, |opens, _| ControlFlow::Break(opens))
    }

    /// The instant at which `duration` of open time has elapsed after `start`: the due time of an
    /// SLA counted in business time. Time while closed does not count; a due time falling exactly
    /// on a closing time is that closing time (not the next opening).
    ///
    /// A zero duration gives `start`; a negative one gives `None`. Also `None` when the calendar
    /// stops opening (no opening for [`NO_OPENING_HORIZON_DAYS`] days in a row, or no opening
    /// period at all) or the due time is more than [`MAX_SEARCH_DAYS`] days away.
    pub fn add_business_time(&self, start: DateTime<Utc>, duration: Duration) -> Option<DateTime<Utc>> {
        if duration < Duration::zero() {
            return None;
        }
        if duration.is_zero() {
            return Some(start);
        }
        let mut remaining = duration;
        self.scan(start, Limit::Horizon, |opens, closes| {
            let open_for = closes - opens;
            if remaining <= open_for {
                ControlFlow::Break(opens.checked_add_signed(remaining))
            } else {
                remaining -= open_for;
                ControlFlow::Continue(())
            }
        })
        .flatten()
    }

    /// The open time between two instants: how long a task waiting since `from` has waited in
    /// business time at `to`. Zero when `to` is not after `from`.
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if to <= from {
            return total;
        }
        let last = self.local_date(to).succ_opt().unwrap_or(NaiveDate::MAX);
        self.scan(from, Limit::Through(last), |opens, closes| {
            if opens >= to {
                return ControlFlow::Break(());
            }
            total += closes.min(to) - opens;
            ControlFlow::Continue(())
        });
        total
    }

    /// Calls `visit(opens, closes)` for each open interval that ends after `from`, in order, with
    /// `opens` clipped to `from`, until `visit` breaks (its value is returned) or `limit` is reached
    /// (`None`).
    fn scan<R>(
        &self,
        from: DateTime<Utc>,
        limit: Limit,
        mut visit: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> ControlFlow<R>,
    ) -> Option<R> {
        if self.weekly.iter().all(Vec::is_empty) {
            return None;
        }
        // The intervals of a local day end at the latest when the next day's midnight first shows,
        // so no day before the local date of `from` has an interval ending after `from`.
        let mut date = self.local_date(from);
        let mut days = 0u32;
        let mut closed_in_a_row = 0u32;
        loop {
            match limit {
                Limit::Through(last) if date > last => return None,
                Limit::Horizon if days >= MAX_SEARCH_DAYS || closed_in_a_row >= NO_OPENING_HORIZON_DAYS => {
                    return None;
                }
                _ => {}
            }
            let mut opened = false;
            if !self.closed_on.contains(&date) {
                for span in &self.weekly[day_index(date.weekday())] {
                    let opens = self.instant(date, span.start)?;
                    let closes = self.instant(date, span.end)?;
                    if closes <= opens || closes <= from {
                        continue;
                    }
                    opened = true;
                    if let ControlFlow::Break(result) = visit(opens.max(from), closes) {
                        return Some(result);
                    }
                }
            }
            closed_in_a_row = if opened { 0 } else { closed_in_a_row + 1 };
            days += 1;
            date = date.succ_opt()?;
        }
    }

    /// The local date of an instant.
    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The instant of a local time given as an offset from a date's midnight (see the module docs).
    fn instant(&self, date: NaiveDate, since_midnight: Duration) -> Option<DateTime<Utc>> {
        let local = date.and_time(NaiveTime::MIN).checked_add_signed(since_midnight)?;
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, second) => Some(first.with_timezone(&Utc).min(second.with_timezone(&Utc))),
            LocalResult::None => self.end_of_gap(local),
        }
    }

    /// The first instant the local clock shows `local` or later, for a `local` time the clocks
    /// skip: the instant they jump. Found by bisection (whole seconds) between the instants
    /// `local` would be under the offsets before and after the jump.
    fn end_of_gap(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        let reaches = |secs: i64| {
            DateTime::from_timestamp(secs, 0).is_some_and(|at| at.with_timezone(&self.tz).naive_local() >= local)
        };
        let offset_at =
            |at: DateTime<Utc>| i64::from(self.tz.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc());
        let as_if_utc = local.and_utc();
        let before = offset_at(as_if_utc.checked_sub_signed(DAY)?);
        let after = offset_at(as_if_utc.checked_add_signed(DAY)?);
        let secs = as_if_utc.timestamp();
        let (mut low, mut high) = (secs - after, secs - before + 1);
        if !(low < high && !reaches(low) && reaches(high)) {
            // More than one offset change within a day: bracket with the widest offsets instead.
            (low, high) = (secs - MAX_OFFSET_SECS, secs + MAX_OFFSET_SECS + 1);
            if reaches(low) || !reaches(high) {
                return None;
            }
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if reaches(middle) {
                high = middle;
            } else {
                low = middle;
            }
        }
        DateTime::from_timestamp(high, 0)
    }
}

fn day_index(day: chrono::Weekday) -> usize {
    day.num_days_from_monday() as usize
}

fn since_midnight(time: NaiveTime) -> Duration {
    time.signed_duration_since(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn hours(day: Weekday, opens: &str, closes: &str) -> backroom_model::OpeningPeriod {
        backroom_model::OpeningPeriod {
            day,
            opens: opens.parse().expect("opens"),
            closes: closes.parse().expect("closes"),
        }
    }

    #[test]
    fn gap_end_is_the_jump() {
        let cal = BusinessCalendar::always_open(chrono_tz::Europe::Paris);
        let local = "2026-03-29T02:30:00".parse::<NaiveDateTime>().expect("local");
        assert_eq!(cal.end_of_gap(local), Some(utc("2026-03-29T01:00:00Z")));
        // Lord Howe Island moves its clocks by 30 minutes, from 02:00 to 02:30.
        let cal = BusinessCalendar::always_open(chrono_tz::Australia::Lord_Howe);
        let local = "2026-10-04T02:10:00".parse::<NaiveDateTime>().expect("local");
        let jump = cal.end_of_gap(local).expect("jump");
        assert_eq!(jump.with_timezone(&cal.tz).naive_local().to_string(), "2026-10-04 02:30:00");
    }

    #[test]
    fn touching_periods_are_allowed_and_spans_are_sorted() {
        let cal = BusinessCalendar::from_hours(
            chrono_tz::UTC,
            &OpeningHours {
                weekly: vec![hours(Weekday::Mon, "14:00:00", "19:00:00"), hours(Weekday::Mon, "08:00:00", "14:00:00")],
                closed_on: vec![],
            },
        )
        .expect("calendar");
        assert_eq!(cal.weekly[0].len(), 2);
        assert!(cal.weekly[0][0].start < cal.weekly[0][1].start);
        // 2026-01-05 is a Monday: open 08:00–19:00 without a break.
        let monday = utc("2026-01-05T00:00:00Z");
        assert_eq!(cal.business_time_between(monday, monday + DAY), Duration::hours(11));
        assert!(cal.is_open(utc("2026-01-05T14:00:00Z")));
    }

    #[test]
    fn negative_and_zero_durations() {
        let cal = BusinessCalendar::always_open(chrono_tz::UTC);
        let at = utc("2026-01-05T10:00:00Z");
        assert_eq!(cal.add_business_time(at, Duration::zero()), Some(at));
        assert_eq!(cal.add_business_time(at, Duration::seconds(-1)), None);
        assert_eq!(cal.business_time_between(at, at - DAY), Duration::zero());
    }
}
