//! Times in records: RFC 3339, UTC, whole seconds (`2026-11-22T10:00:00Z`), so that the text
//! form is canonical and sorts as the time does.

use jiff::{Timestamp, ToSpan};

/// Formats a timestamp as a record time (sub-seconds dropped).
pub fn format(t: Timestamp) -> String {
    let secs = Timestamp::from_second(t.as_second()).unwrap_or(t);
    secs.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Unix seconds as a record time (the bare number if it is out of range).
pub fn seconds_text(secs: i64) -> String {
    Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), format)
}

/// Parses a record time; other RFC 3339 forms are accepted and normalised.
pub fn parse(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>()
        .map_err(|e| format!("`{text}` is not an RFC 3339 time such as 2026-11-22T10:00:00Z: {e}"))
}

/// `t` plus whole calendar years (in UTC).
pub fn add_years(t: Timestamp, years: i16) -> Result<Timestamp, String> {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(i64::from(years).years())
        .map(|z| z.timestamp())
        .map_err(|e| format!("cannot add {years} years to {t}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_times_are_canonical() {
        let t: Timestamp = "2026-11-22T10:00:00.75+01:00".parse().unwrap();
        assert_eq!(format(t), "2026-11-22T09:00:00Z");
        assert_eq!(
            parse("2026-11-22T09:00:00Z").unwrap().as_second(),
            t.as_second()
        );
        assert!(parse("22/11/2026").unwrap_err().contains("RFC 3339"));
        let later = add_years(parse("2024-02-29T00:00:00Z").unwrap(), 7).unwrap();
        assert_eq!(format(later), "2031-02-28T00:00:00Z");
    }
}
