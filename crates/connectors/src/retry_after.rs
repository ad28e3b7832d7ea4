//! `Retry-After`: a number of seconds or an HTTP date.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// How long a `Retry-After` value asks to wait, seen at `now`. A date in the past means no wait;
/// a value that is neither seconds nor an HTTP date (IMF-fixdate, RFC 850 or asctime) gives
/// `None`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(value)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn seconds_and_every_http_date_form() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("time");
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Mon, 02 Mar 2026 09:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Monday, 02-Mar-26 09:01:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Mon Mar  2 09:00:05 2026", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
