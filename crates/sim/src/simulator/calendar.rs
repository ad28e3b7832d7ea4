//! The trading calendar: opening days, seasonal demand factors and local times.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The time zone of every location.
pub(crate) const TIME_ZONE: &str = "Europe/Paris";
const ZONE: Tz = chrono_tz::Europe::Paris;

/// Stores open at this hour, local time.
pub(crate) const OPENS: u32 = 8;
/// Stores close at this hour, local time.
pub(crate) const CLOSES: u32 = 21;

/// Whether stores trade on `date`: Monday to Saturday, except Christmas Day.
pub(crate) fn store_open(date: NaiveDate) -> bool {
    date.weekday() != Weekday::Sun && !(date.month() == 12 && date.day() == 25)
}

/// Whether distribution centres and suppliers work on `date` (same days as the stores).
pub(crate) fn working_day(date: NaiveDate) -> bool {
    store_open(date)
}

/// The first working day on or after `date`.
pub(crate) fn next_working_day(mut date: NaiveDate) -> NaiveDate {
    while !working_day(date) {
        date += Duration::days(1);
    }
    date
}

/// Christmas Days between `from` and `to` (inclusive), for the stores' closed days.
pub(crate) fn closed_days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    (from.year()..=to.year()).filter_map(|y| NaiveDate::from_ymd_opt(y, 12, 25)).collect()
}

/// Demand on a weekday relative to an average weekday: quiet Mondays, busy Saturdays.
pub(crate) fn weekday_factor(date: NaiveDate) -> f64 {
    match date.weekday() {
        Weekday::Mon => 0.80,
        Weekday::Tue => 0.90,
        Weekday::Wed => 0.95,
        Weekday::Thu => 1.00,
        Weekday::Fri => 1.20,
        Weekday::Sat => 1.45,
        Weekday::Sun => 0.0,
    }
}

/// Black Friday: the day after the fourth Thursday of November.
pub(crate) fn black_friday(year: i32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, 11, 1).unwrap_or_default();
    let to_thursday = (7 + Weekday::Thu.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(i64::from(to_thursday) + 21 + 1)
}

/// Demand around holidays: Black Friday and its weekend, the December run-up to Christmas.
pub(crate) fn holiday_factor(date: NaiveDate) -> f64 {
    let bf = black_friday(date.year());
    if date == bf {
        return 1.8;
    }
    if date == bf + Duration::days(1) {
        return 1.3;
    }
    if date.month() == 12 {
        return match date.day() {
            1..=23 => 1.0 + 0.5 * f64::from(date.day()) / 23.0,
            24 => 1.6,
            25 => 0.0,
            _ => 1.1,
        };
    }
    1.0
}

/// The instant of a local wall-clock time on `date` in the retailer's time zone.
pub(crate) fn local(date: NaiveDate, minutes_after_midnight: u32) -> DateTime<Utc> {
    let minutes = minutes_after_midnight.min(24 * 60 - 1);
    let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default();
    let naive = date.and_time(time);
    match ZONE.from_local_datetime(&naive).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // A wall-clock time skipped by the spring change: take the hour after.
        None => Utc.from_utc_datetime(&naive),
    }
}

/// The instant of `hour:minute` local time on `date`.
pub(crate) fn at(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    local(date, hour * 60 + minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_friday_and_opening_days() {
        assert_eq!(black_friday(2026), NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        assert_eq!(black_friday(2025), NaiveDate::from_ymd_opt(2025, 11, 28).unwrap());
        assert!(!store_open(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
        assert!(!store_open(NaiveDate::from_ymd_opt(2026, 11, 8).unwrap()));
        assert!(store_open(NaiveDate::from_ymd_opt(2026, 11, 7).unwrap()));
        assert_eq!(
            next_working_day(NaiveDate::from_ymd_opt(2026, 11, 8).unwrap()),
            NaiveDate::from_ymd_opt(2026, 11, 9).unwrap()
        );
    }

    #[test]
    fn paris_winter_time_is_an_hour_ahead_of_utc() {
        let t = at(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), 8, 0);
        assert_eq!(t.to_rfc3339(), "2026-11-02T07:00:00+00:00");
        let summer = at(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), 8, 0);
        assert_eq!(summer.to_rfc3339(), "2026-07-01T06:00:00+00:00");
    }
}
