//! What a package was asked for, as the user wrote it, and the time bounds of a selection.

use jiff::Timestamp;

/// The selection as given (`--control CC8.1 --from 2026-01`, or the API's query parameters),
/// for the package's README. The entries themselves are chosen by an index query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub control: Option<String>,
    pub subject: Option<String>,
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Scope {
    /// `control CC8.1, from 2026-01`, or empty when nothing narrows the selection.
    pub(crate) fn describe(&self) -> String {
        [
            ("control", &self.control),
            ("subject", &self.subject),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| format!("{name} {v}")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// A text that is not a time bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoundError {
    /// Neither RFC 3339, a date nor a month.
    #[error(
        "`{0}` is not a time: use RFC 3339 (2026-10-01T00:00:00Z), a date (2026-10-01) or a month (2026-10)"
    )]
    NotATime(String),
    /// A date or month whose start or end is out of range.
    #[error("{text}: {reason}")]
    OutOfRange { text: String, reason: String },
}

/// A time bound given as RFC 3339, `YYYY-MM-DD` or `YYYY-MM` (UTC). As an `end` bound (which is
/// exclusive), a date or a month means the end of that day or month.
pub fn parse_bound(text: &str, end: bool) -> Result<Timestamp, BoundError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let range = |e: jiff::Error| BoundError::OutOfRange {
        text: text.to_owned(),
        reason: e.to_string(),
    };
    let utc = jiff::tz::TimeZone::UTC;
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        let day = date.to_zoned(utc).map_err(range)?;
        let t = if end {
            day.tomorrow().map_err(range)?
        } else {
            day
        };
        return Ok(t.timestamp());
    }
    if let Some((y, m)) = text.split_once('-')
        && let (Ok(y), Ok(m)) = (y.parse::<i16>(), m.parse::<i8>())
        && let Ok(first) = jiff::civil::Date::new(y, m, 1)
    {
        let start = first.to_zoned(utc).map_err(range)?;
        let t = if end {
            start
                .checked_add(jiff::Span::new().months(1))
                .map_err(range)?
        } else {
            start
        };
        return Ok(t.timestamp());
    }
    Err(BoundError::NotATime(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn bounds_are_instants_dates_or_months() {
        assert_eq!(
            parse_bound("2026-03-01T10:00:00Z", false),
            Ok(at("2026-03-01T10:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-03-01T10:00:00Z", true),
            Ok(at("2026-03-01T10:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-03-01", false),
            Ok(at("2026-03-01T00:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-03-01", true),
            Ok(at("2026-03-02T00:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-03", false),
            Ok(at("2026-03-01T00:00:00Z"))
        );
        assert_eq!(parse_bound("2026-03", true), Ok(at("2026-04-01T00:00:00Z")));
        assert_eq!(parse_bound("2026-12", true), Ok(at("2027-01-01T00:00:00Z")));
        assert_eq!(parse_bound("2028-02", true), Ok(at("2028-03-01T00:00:00Z")));
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_that_work() {
        for bad in ["", "yesterday", "2026", "2026-13", "2026-02-30", "03-2026"] {
            let e = parse_bound(bad, false).unwrap_err();
            assert_eq!(e, BoundError::NotATime(bad.to_owned()), "{bad}");
            assert!(e.to_string().contains("a month (2026-10)"), "{e}");
        }
        assert!(matches!(
            parse_bound("9999-12-31", true),
            Err(BoundError::OutOfRange { .. })
        ));
    }

    #[test]
    fn the_scope_reads_as_given() {
        assert_eq!(Scope::default().describe(), "");
        let scope = Scope {
            control: Some("CC8.1".into()),
            to: Some("2026-04".into()),
            from: Some("2026-01".into()),
            ..Scope::default()
        };
        assert_eq!(scope.describe(), "control CC8.1, from 2026-01, to 2026-04");
    }
}
