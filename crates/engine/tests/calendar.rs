//! Business calendars as a store manager would check them: SLA due times across closing hours,
//! Sundays, holidays, lunch breaks and daylight-saving changes, and bad opening hours rejected with
//! the field to fix.

use backroom_engine::calendar::{BusinessCalendar, CalendarError};
use backroom_model::Location;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

fn location(time_zone: &str, weekly: Value, closed_on: Value) -> Location {
    serde_json::from_value(json!({
        "id": "S001", "kind": "store", "name": "Test store", "parent": "D-TEST",
        "time_zone": time_zone,
        "opening_hours": {"weekly": weekly, "closed_on": closed_on}
    }))
    .expect("a location")
}

fn periods(days: &[&str], opens: &str, closes: &str) -> Vec<Value> {
    days.iter().map(|day| json!({"day": day, "opens": opens, "closes": closes})).collect()
}

const MON_SAT: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const EVERY_DAY: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The Lyon store: Mon–Sat 09:00–20:00, closed on Sunday and on Christmas Day.
fn lyon() -> BusinessCalendar {
    let store = location("Europe/Paris", json!(periods(MON_SAT, "09:00:00", "20:00:00")), json!(["2026-12-25"]));
    BusinessCalendar::for_location(&store).expect("Lyon calendar")
}

fn every_day(time_zone: &str, opens: &str, closes: &str) -> BusinessCalendar {
    let store = location(time_zone, json!(periods(EVERY_DAY, opens, closes)), json!([]));
    BusinessCalendar::for_location(&store).expect("calendar")
}

fn sundays_only(time_zone: &str, opens: &str, closes: &str) -> BusinessCalendar {
    let store = location(time_zone, json!(periods(&["Sun"], opens, closes)), json!([]));
    BusinessCalendar::for_location(&store).expect("calendar")
}

/// A local time that exists exactly once, as an instant.
fn local(tz: Tz, text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("local time");
    tz.from_local_datetime(&naive).single().expect("an unambiguous local time").with_timezone(&Utc)
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("UTC instant")
}

/// An instant shown as local time, `YYYY-MM-DD HH:MM` (seconds only when not zero).
fn shown(tz: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    if local.format("%S").to_string() == "00" {
        local.format("%Y-%m-%d %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

fn due(calendar: &BusinessCalendar, start: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    calendar.add_business_time(start, Duration::hours(hours)).expect("a due time")
}

// ---------------------------------------------------------------------------------------------
// The Lyon store

#[test]
fn sla_started_saturday_evening_is_due_monday_morning() {
    let cal = lyon();
    let start = local(Paris, "2026-12-19 18:30"); // Saturday
    let due = due(&cal, start, 4);
    // 1h30 on Saturday, Sunday closed, 2h30 on Monday.
    assert_eq!(shown(Paris, due), "2026-12-21 11:30");
    assert_eq!(cal.business_time_between(start, due), Duration::hours(4));
}

#[test]
fn sla_started_on_christmas_eve_skips_the_holiday() {
    let cal = lyon();
    let start = local(Paris, "2026-12-24 19:00"); // Thursday
    // 1h on Thursday, Friday 25th is a holiday, 3h on Saturday.
    assert_eq!(shown(Paris, due(&cal, start, 4)), "2026-12-26 12:00");
}

#[test]
fn sla_ending_at_closing_time_is_due_at_closing_not_next_morning() {
    let cal = lyon();
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-12-19 16:00"), 4)), "2026-12-19 20:00");
    // Started while closed (Sunday): the clock starts at Monday's opening.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-12-20 10:00"), 4)), "2026-12-21 13:00");
    // Started after closing on Monday: Tuesday 09:00 + 4h.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-12-21 22:15"), 4)), "2026-12-22 13:00");
    // A 30-business-hour SLA from Monday 09:00: 11h Mon, 11h Tue, 8h Wed.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-12-21 09:00"), 30)), "2026-12-23 17:00");
}

#[test]
fn escalation_after_four_business_hours() {
    let cal = lyon();
    let created = local(Paris, "2026-12-19 18:30");
    let waited = |at: &str| cal.business_time_between(created, local(Paris, at));
    assert_eq!(waited("2026-12-19 20:00"), Duration::minutes(90));
    // Nothing counts overnight or on Sunday.
    assert_eq!(waited("2026-12-20 23:00"), Duration::minutes(90));
    assert_eq!(waited("2026-12-21 11:29"), Duration::minutes(239));
    assert_eq!(waited("2026-12-21 11:30"), Duration::hours(4));
    // A whole week Monday to Monday: six days of eleven hours, minus Christmas.
    let week = cal.business_time_between(local(Paris, "2026-12-21 00:00"), local(Paris, "2026-12-28 00:00"));
    assert_eq!(week, Duration::hours(55));
    // Backwards is zero, not negative.
    assert_eq!(cal.business_time_between(local(Paris, "2026-12-21 12:00"), created), Duration::zero());
}

#[test]
fn open_and_next_open() {
    let cal = lyon();
    assert!(cal.is_open(local(Paris, "2026-12-21 09:00")));
    assert!(cal.is_open(local(Paris, "2026-12-21 19:59")));
    assert!(!cal.is_open(local(Paris, "2026-12-21 20:00")));
    assert!(!cal.is_open(local(Paris, "2026-12-21 08:59")));
    assert!(!cal.is_open(local(Paris, "2026-12-20 12:00"))); // Sunday
    assert!(!cal.is_open(local(Paris, "2026-12-25 12:00"))); // Christmas
    let next = |at: &str| shown(Paris, cal.next_open(local(Paris, at)).expect("opens again"));
    // A closed evening gives the next morning.
    assert_eq!(next("2026-12-21 20:00"), "2026-12-22 09:00");
    assert_eq!(next("2026-12-21 21:30"), "2026-12-22 09:00");
    assert_eq!(next("2026-12-22 03:00"), "2026-12-22 09:00");
    // Saturday evening gives Monday; Christmas Eve gives the 26th.
    assert_eq!(next("2026-12-19 21:00"), "2026-12-21 09:00");
    assert_eq!(next("2026-12-24 21:00"), "2026-12-26 09:00");
    // Open now: now.
    assert_eq!(next("2026-12-22 10:17"), "2026-12-22 10:17");
}

// ---------------------------------------------------------------------------------------------
// Split days

#[test]
fn split_day_sla_skips_lunch() {
    // Listed afternoon first: the order of the periods does not matter.
    let mut weekly = periods(&["Mon", "Tue", "Wed", "Thu", "Fri"], "14:00:00", "19:00:00");
    weekly.extend(periods(&["Mon", "Tue", "Wed", "Thu", "Fri"], "08:00:00", "12:00:00"));
    let cal = BusinessCalendar::for_location(&location("Europe/Paris", json!(weekly), json!([]))).expect("calendar");
    // Monday 2026-06-01.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-06-01 10:00"), 3)), "2026-06-01 15:00");
    // 1h before lunch, 5h in the afternoon, 3h on Tuesday morning.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-06-01 11:00"), 9)), "2026-06-02 11:00");
    // Started during lunch: the clock starts at 14:00.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-06-01 12:30"), 2)), "2026-06-01 16:00");
    // Due exactly at the start of lunch.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-06-01 08:00"), 4)), "2026-06-01 12:00");
    assert!(!cal.is_open(local(Paris, "2026-06-01 13:00")));
    assert_eq!(shown(Paris, cal.next_open(local(Paris, "2026-06-01 13:00")).expect("opens")), "2026-06-01 14:00");
    let day = cal.business_time_between(local(Paris, "2026-06-01 00:00"), local(Paris, "2026-06-02 00:00"));
    assert_eq!(day, Duration::hours(9));
    // Friday afternoon to Monday: the weekend does not count.
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-06-05 17:00"), 4)), "2026-06-08 10:00");
}

// ---------------------------------------------------------------------------------------------
// Daylight saving time

#[test]
fn paris_store_keeps_local_hours_when_clocks_go_forward() {
    // Sunday 2026-03-29: clocks go from 02:00 to 03:00 (UTC+1 → UTC+2).
    let cal = every_day("Europe/Paris", "09:00:00", "20:00:00");
    let due = due(&cal, local(Paris, "2026-03-28 18:00"), 4);
    assert_eq!(shown(Paris, due), "2026-03-29 11:00");
    assert_eq!(due, utc("2026-03-29T09:00:00Z"));
    assert_eq!(cal.next_open(local(Paris, "2026-03-29 00:30")), Some(utc("2026-03-29T07:00:00Z")));
    let sunday = cal.business_time_between(local(Paris, "2026-03-29 00:00"), local(Paris, "2026-03-30 00:00"));
    assert_eq!(sunday, Duration::hours(11));
}

#[test]
fn paris_store_keeps_local_hours_when_clocks_go_back() {
    // Sunday 2026-10-25: clocks go from 03:00 back to 02:00 (UTC+2 → UTC+1).
    let cal = every_day("Europe/Paris", "09:00:00", "20:00:00");
    let due = due(&cal, local(Paris, "2026-10-24 18:00"), 4);
    assert_eq!(shown(Paris, due), "2026-10-25 11:00");
    assert_eq!(due, utc("2026-10-25T10:00:00Z"));
    assert_eq!(cal.next_open(local(Paris, "2026-10-25 00:30")), Some(utc("2026-10-25T08:00:00Z")));
    let sunday = cal.business_time_between(local(Paris, "2026-10-25 00:00"), local(Paris, "2026-10-26 00:00"));
    assert_eq!(sunday, Duration::hours(11));
}

#[test]
fn new_york_store_keeps_local_hours_across_both_changes() {
    // Sunday 2026-03-08: 02:00 → 03:00 (UTC−5 → UTC−4); Sunday 2026-11-01: 02:00 → 01:00.
    let cal = every_day("America/New_York", "08:00:00", "22:00:00");
    let spring = due(&cal, local(New_York, "2026-03-07 20:00"), 4);
    assert_eq!(shown(New_York, spring), "2026-03-08 10:00");
    assert_eq!(spring, utc("2026-03-08T14:00:00Z"));
    let fall = due(&cal, local(New_York, "2026-10-31 20:00"), 4);
    assert_eq!(shown(New_York, fall), "2026-11-01 10:00");
    assert_eq!(fall, utc("2026-11-01T15:00:00Z"));
    for day in ["2026-03-08", "2026-11-01"] {
        let next_day = if day == "2026-03-08" { "2026-03-09" } else { "2026-11-02" };
        let open = cal.business_time_between(
            local(New_York, &format!("{day} 00:00")),
            local(New_York, &format!("{next_day} 00:00")),
        );
        assert_eq!(open, Duration::hours(14), "{day}");
    }
}

#[test]
fn always_open_dc_counts_real_time_on_23_and_25_hour_days() {
    let paris = BusinessCalendar::always_open(Paris);
    let day = |cal: &BusinessCalendar, tz: Tz, from: &str, to: &str| {
        cal.business_time_between(local(tz, &format!("{from} 00:00")), local(tz, &format!("{to} 00:00")))
    };
    assert_eq!(day(&paris, Paris, "2026-03-29", "2026-03-30"), Duration::hours(23));
    assert_eq!(day(&paris, Paris, "2026-10-25", "2026-10-26"), Duration::hours(25));
    assert_eq!(day(&paris, Paris, "2026-06-01", "2026-06-02"), Duration::hours(24));
    // 24 business hours from Saturday noon end at 13:00 (spring) or 11:00 (autumn) local on Sunday.
    assert_eq!(shown(Paris, due(&paris, local(Paris, "2026-03-28 12:00"), 24)), "2026-03-29 13:00");
    assert_eq!(shown(Paris, due(&paris, local(Paris, "2026-10-24 12:00"), 24)), "2026-10-25 11:00");
    assert!(paris.is_open(utc("2026-03-29T01:00:00Z")));
    let new_york = BusinessCalendar::always_open(New_York);
    assert_eq!(day(&new_york, New_York, "2026-03-08", "2026-03-09"), Duration::hours(23));
    assert_eq!(day(&new_york, New_York, "2026-11-01", "2026-11-02"), Duration::hours(25));
}

#[test]
fn a_period_containing_the_changed_hour_counts_real_time() {
    // A night shift 01:00–05:00 on Sundays: three real hours in spring, five in autumn.
    let paris = sundays_only("Europe/Paris", "01:00:00", "05:00:00");
    let night = |day: &str, next: &str| {
        paris.business_time_between(local(Paris, &format!("{day} 00:00")), local(Paris, &format!("{next} 00:00")))
    };
    assert_eq!(night("2026-03-29", "2026-03-30"), Duration::hours(3));
    assert_eq!(night("2026-10-25", "2026-10-26"), Duration::hours(5));
    // Two business hours from 01:00: 04:00 local in spring (the hour 02:00–03:00 does not exist) …
    let spring = due(&paris, local(Paris, "2026-03-29 01:00"), 2);
    assert_eq!(spring, utc("2026-03-29T02:00:00Z"));
    assert_eq!(shown(Paris, spring), "2026-03-29 04:00");
    // … and the second 02:00 local in autumn (02:00 UTC+1).
    assert_eq!(due(&paris, local(Paris, "2026-10-25 01:00"), 2), utc("2026-10-25T01:00:00Z"));
    assert_eq!(due(&paris, local(Paris, "2026-10-25 01:00"), 5), utc("2026-10-25T04:00:00Z"));

    let new_york = sundays_only("America/New_York", "00:00:00", "06:00:00");
    let ny_night = |day: &str, next: &str| {
        new_york
            .business_time_between(local(New_York, &format!("{day} 00:00")), local(New_York, &format!("{next} 00:00")))
    };
    assert_eq!(ny_night("2026-03-08", "2026-03-09"), Duration::hours(5));
    assert_eq!(ny_night("2026-11-01", "2026-11-02"), Duration::hours(7));
}

#[test]
fn opening_inside_a_skipped_or_repeated_hour() {
    // Opens 02:30 on Sundays. On 2026-03-29 02:30 never shows: the store opens when the clocks
    // jump, at 03:00 local (01:00 UTC).
    let paris = sundays_only("Europe/Paris", "02:30:00", "06:00:00");
    assert!(!paris.is_open(utc("2026-03-29T00:59:59Z")));
    assert!(paris.is_open(utc("2026-03-29T01:00:00Z")));
    assert_eq!(paris.next_open(local(Paris, "2026-03-28 23:00")), Some(utc("2026-03-29T01:00:00Z")));
    let spring = paris.business_time_between(local(Paris, "2026-03-29 00:00"), local(Paris, "2026-03-30 00:00"));
    assert_eq!(spring, Duration::hours(3));
    // On 2026-10-25 02:30 shows twice: the store opens at the first (00:30 UTC) and closes at
    // 06:00 UTC+1 (05:00 UTC).
    assert_eq!(paris.next_open(local(Paris, "2026-10-24 23:00")), Some(utc("2026-10-25T00:30:00Z")));
    let autumn = paris.business_time_between(local(Paris, "2026-10-25 00:00"), local(Paris, "2026-10-26 00:00"));
    assert_eq!(autumn, Duration::minutes(270));
    // In New York 01:30 shows twice on 2026-11-01: opening at the first, 05:30 UTC.
    let new_york = sundays_only("America/New_York", "01:30:00", "03:00:00");
    assert_eq!(new_york.next_open(utc("2026-11-01T00:00:00Z")), Some(utc("2026-11-01T05:30:00Z")));
    let night =
        new_york.business_time_between(local(New_York, "2026-11-01 00:00"), local(New_York, "2026-11-02 00:00"));
    assert_eq!(night, Duration::minutes(150));
}

#[test]
fn closing_inside_the_skipped_hour() {
    // Closes 02:30 on Sundays: on 2026-03-29 it closes when the clocks jump (01:00 UTC).
    let paris = sundays_only("Europe/Paris", "00:00:00", "02:30:00");
    let spring = paris.business_time_between(local(Paris, "2026-03-29 00:00"), local(Paris, "2026-03-30 00:00"));
    assert_eq!(spring, Duration::hours(2));
    assert!(!paris.is_open(utc("2026-03-29T01:00:00Z")));
}

// ---------------------------------------------------------------------------------------------
// Calendars that do not open

#[test]
fn a_calendar_without_opening_periods_gives_none_quickly() {
    let cal = BusinessCalendar::for_location(&location("Europe/Paris", json!([]), json!([]))).expect("calendar");
    let at = local(Paris, "2026-12-21 10:00");
    let started = std::time::Instant::now();
    assert_eq!(cal.add_business_time(at, Duration::hours(4)), None);
    assert_eq!(cal.next_open(at), None);
    assert!(!cal.is_open(at));
    assert_eq!(cal.business_time_between(at, at + Duration::days(365 * 50)), Duration::zero());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn a_store_closed_for_renovation_reopens_after_it() {
    // Closed every day of January 2027: next opening is Monday 1 February.
    let january: Vec<String> = (1..=31).map(|d| format!("2027-01-{d:02}")).collect();
    let store = location("Europe/Paris", json!(periods(MON_SAT, "09:00:00", "20:00:00")), json!(january));
    let cal = BusinessCalendar::for_location(&store).expect("calendar");
    assert_eq!(shown(Paris, cal.next_open(local(Paris, "2026-12-31 21:00")).expect("reopens")), "2027-02-01 09:00");
    assert_eq!(shown(Paris, due(&cal, local(Paris, "2026-12-31 19:00"), 2)), "2027-02-01 10:00");
}

#[test]
fn a_store_closed_for_more_than_the_horizon_counts_as_never_opening() {
    let start = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    let closed: Vec<String> = start.iter_days().take(400).map(|d| d.to_string()).collect();
    let store = location("Europe/Paris", json!(periods(MON_SAT, "09:00:00", "20:00:00")), json!(closed));
    let cal = BusinessCalendar::for_location(&store).expect("calendar");
    assert_eq!(cal.next_open(local(Paris, "2026-12-31 21:00")), None);
    assert_eq!(cal.add_business_time(local(Paris, "2026-12-31 21:00"), Duration::hours(1)), None);
}

// ---------------------------------------------------------------------------------------------
// Bad opening hours

#[test]
fn unknown_time_zone_names_the_field() {
    let store = location("Europe/Lyon", json!(periods(MON_SAT, "09:00:00", "20:00:00")), json!([]));
    let error = BusinessCalendar::for_location(&store).expect_err("unknown zone");
    assert_eq!(error.field(), "$.time_zone");
    assert!(matches!(&error, CalendarError::UnknownTimeZone { value, .. } if value == "Europe/Lyon"));
    assert_eq!(error.to_string(), r#"$.time_zone: "Europe/Lyon" is not an IANA time zone, such as Europe/Paris"#);
}

#[test]
fn closing_before_opening_names_the_field() {
    let weekly = json!([
        {"day": "Mon", "opens": "09:00:00", "closes": "20:00:00"},
        {"day": "Tue", "opens": "20:00:00", "closes": "09:00:00"},
    ]);
    let error = BusinessCalendar::for_location(&location("Europe/Paris", weekly, json!([]))).expect_err("bad period");
    assert_eq!(error.field(), "$.opening_hours.weekly[1].closes");
    assert!(error.to_string().starts_with("$.opening_hours.weekly[1].closes: closing time 09:00:00 is not after"));
    // Equal times are not a period either.
    let weekly = json!([{"day": "Mon", "opens": "09:00:00", "closes": "09:00:00"}]);
    let error = BusinessCalendar::for_location(&location("Europe/Paris", weekly, json!([]))).expect_err("empty period");
    assert_eq!(error.field(), "$.opening_hours.weekly[0].closes");
}

#[test]
fn a_period_across_midnight_is_rejected_with_advice() {
    let weekly = json!([{"day": "Fri", "opens": "22:00:00", "closes": "02:00:00"}]);
    let store = location("Europe/Paris", weekly, json!([]));
    let error = BusinessCalendar::for_location(&store).expect_err("crosses midnight");
    assert_eq!(error.field(), "$.opening_hours.weekly[0].closes");
    assert!(error.to_string().contains("cannot cross midnight"), "{error}");
    // The model rejects the same location on the same field.
    let model_errors = store.validate().expect_err("model rejects it too");
    assert_eq!(model_errors[0].path, error.field());
    // Written as two periods, it works: Friday 22:00 + 3h is Saturday 01:00.
    let weekly = json!([
        {"day": "Fri", "opens": "22:00:00", "closes": "23:59:59"},
        {"day": "Sat", "opens": "00:00:00", "closes": "02:00:00"},
    ]);
    let cal = BusinessCalendar::for_location(&location("Europe/Paris", weekly, json!([]))).expect("calendar");
    let due = cal.add_business_time(local(Paris, "2026-06-05 22:00"), Duration::hours(3)).expect("due");
    // One second is lost at 23:59:59, since a closing time cannot be 24:00.
    assert_eq!(shown(Paris, due), "2026-06-06 01:00:01");
}

#[test]
fn overlapping_periods_on_one_day_name_both_fields() {
    let weekly = json!([
        {"day": "Mon", "opens": "09:00:00", "closes": "12:00:00"},
        {"day": "Tue", "opens": "09:00:00", "closes": "12:00:00"},
        {"day": "Mon", "opens": "11:00:00", "closes": "19:00:00"},
    ]);
    let error = BusinessCalendar::for_location(&location("Europe/Paris", weekly, json!([]))).expect_err("overlap");
    assert_eq!(error.field(), "$.opening_hours.weekly[2]");
    assert!(
        matches!(&error, CalendarError::OverlappingPeriods { other_field, .. } if other_field == "$.opening_hours.weekly[0]")
    );
    assert_eq!(
        error.to_string(),
        "$.opening_hours.weekly[2]: Mon 11:00:00–19:00:00 overlaps $.opening_hours.weekly[0] (Mon 09:00:00–12:00:00)"
    );
    // The same period twice overlaps too; touching periods do not.
    let twice = json!(periods(&["Wed", "Wed"], "09:00:00", "12:00:00"));
    let error = BusinessCalendar::for_location(&location("Europe/Paris", twice, json!([]))).expect_err("duplicate");
    assert_eq!(error.field(), "$.opening_hours.weekly[1]");
    let touching = json!([
        {"day": "Wed", "opens": "12:00:00", "closes": "19:00:00"},
        {"day": "Wed", "opens": "09:00:00", "closes": "12:00:00"},
    ]);
    assert!(BusinessCalendar::for_location(&location("Europe/Paris", touching, json!([]))).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Properties

/// The calendars the properties run on, with DST changes and holidays in range.
fn calendars() -> Vec<BusinessCalendar> {
    let mut split = periods(&["Mon", "Tue", "Wed", "Thu", "Fri"], "08:00:00", "12:00:00");
    split.extend(periods(&["Mon", "Tue", "Wed", "Thu", "Fri"], "14:00:00", "19:00:00"));
    vec![
        lyon(),
        every_day("Europe/Paris", "09:00:00", "20:00:00"),
        every_day("America/New_York", "08:00:00", "22:00:00"),
        BusinessCalendar::for_location(&location("Europe/Paris", json!(split), json!(["2026-05-01", "2026-12-25"])))
            .expect("split calendar"),
        sundays_only("Europe/Paris", "01:00:00", "05:00:00"),
        sundays_only("Europe/Paris", "02:30:00", "06:00:00"),
        sundays_only("America/New_York", "01:30:00", "03:00:00"),
        BusinessCalendar::always_open(Paris),
        BusinessCalendar::always_open(New_York),
    ]
}

/// Instants from December 2025 to January 2028, to the second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let from = utc("2025-12-01T00:00:00Z").timestamp();
    let to = utc("2028-01-31T00:00:00Z").timestamp();
    (from..to).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn business_time_between_inverts_add_business_time(
        which in 0usize..9,
        start in instant(),
        secs in 0i64..(300 * 3600),
    ) {
        let cal = &calendars()[which];
        let duration = Duration::seconds(secs);
        let due = cal.add_business_time(start, duration).expect("every test calendar keeps opening");
        prop_assert!(due >= start);
        prop_assert_eq!(cal.business_time_between(start, due), duration);
        if secs > 0 {
            // The due time is the first instant with that much open time: open just before it.
            prop_assert!(cal.is_open(due - Duration::seconds(1)));
            prop_assert!(cal.business_time_between(start, due - Duration::seconds(1)) < duration);
        }
    }

    #[test]
    fn business_time_adds_up_and_never_exceeds_real_time(
        which in 0usize..9,
        a in instant(),
        b in instant(),
        c in instant(),
    ) {
        let cal = &calendars()[which];
        let mut points = [a, b, c];
        points.sort();
        let [a, b, c] = points;
        let whole = cal.business_time_between(a, c);
        prop_assert_eq!(whole, cal.business_time_between(a, b) + cal.business_time_between(b, c));
        prop_assert!(whole <= c - a);
        prop_assert!(whole >= Duration::zero());
    }

    #[test]
    fn next_open_is_open_and_nothing_is_open_before_it(which in 0usize..9, at in instant()) {
        let cal = &calendars()[which];
        let next = cal.next_open(at).expect("every test calendar keeps opening");
        prop_assert!(next >= at);
        prop_assert!(cal.is_open(next));
        prop_assert_eq!(cal.is_open(at), next == at);
        prop_assert_eq!(cal.business_time_between(at, next), Duration::zero());
    }
}
