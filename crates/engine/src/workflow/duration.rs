//! Durations as written in workflow definitions: `90s`, `30m`, `4h`, `2d`, `1h30m`, `250ms`.

use chrono::Duration;

/// What a duration may look like, for error messages.
pub(crate) const ACCEPTED: &str = "a positive duration: whole numbers with the units d, h, m, s and ms, \
largest first, each at most once, such as 250ms, 90s, 30m, 4h, 2d or 1h30m (at most 3650d)";

/// The longest duration accepted, in milliseconds (ten years of days).
const MAX_MILLIS: i64 = 3650 * 86_400_000;

/// Reads a duration such as `1h30m`: one or more whole numbers, each followed by a unit (`d`
/// days, `h` hours, `m` minutes, `s` seconds, `ms` milliseconds), largest unit first, each unit
/// at most once. The total must be positive and at most ten years.
///
/// # Errors
///
/// What is wrong, and what is accepted.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not {ACCEPTED}");
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut last_rank = usize::MAX;
    let mut digits = String::new();
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let (rank, millis) = match c {
            'd' => (4, 86_400_000),
            'h' => (3, 3_600_000),
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                (0, 1)
            }
            'm' => (2, 60_000),
            's' => (1, 1_000),
            _ => return Err(bad()),
        };
        if digits.is_empty() || rank >= last_rank {
            return Err(bad());
        }
        last_rank = rank;
        let amount: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = amount.checked_mul(millis).and_then(|s| total.checked_add(s)).ok_or_else(bad)?;
        if total > MAX_MILLIS {
            return Err(bad());
        }
    }
    if !digits.is_empty() {
        // A number without a unit, e.g. `90`.
        return Err(format!("`{text}` has no unit: {ACCEPTED}"));
    }
    if total <= 0 {
        return Err(bad());
    }
    Duration::try_milliseconds(total).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_combinations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_duration("4h"), Ok(Duration::hours(4)));
        assert_eq!(parse_duration("2d"), Ok(Duration::days(2)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration(" 1d2h3m4s "), Ok(Duration::seconds(86_400 + 7_200 + 180 + 4)));
        assert_eq!(parse_duration("3650d"), Ok(Duration::days(3650)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::milliseconds(250)));
        assert_eq!(parse_duration("1s500ms"), Ok(Duration::milliseconds(1500)));
    }

    #[test]
    fn refuses_everything_else() {
        for text in
            ["", "0s", "0h0m", "90", "1.5h", "h", "1w", "30m1h", "1h1h", "-1h", "1 h", "3651d", "99999999999999999999s"]
        {
            let error = parse_duration(text).expect_err(text);
            assert!(error.contains("90s, 30m, 4h, 2d or 1h30m"), "{text}: {error}");
        }
        assert!(parse_duration("90").unwrap_err().contains("has no unit"));
    }
}
