//! Times as people and registries read them, in UTC, without a date library.

/// `seconds` since the Unix epoch as RFC 3339 UTC (`2026-12-07T19:31:34Z`).
pub(crate) fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Milliseconds since the Unix epoch as the pages show a time: `2026-12-07 19:31:34 UTC`
/// (a time before the epoch, which the desk never records, as the epoch).
pub(crate) fn utc_text(ms: i64) -> String {
    let text = rfc3339(u64::try_from(ms / 1000).unwrap_or(0));
    format!("{} {} UTC", &text[..10], &text[11..19])
}

/// How long ago `ms` (milliseconds since the Unix epoch) was, for people: `12 s ago`,
/// `3 min ago`, `2 h ago`.
pub(crate) fn ago_text(ms: i64) -> String {
    let seconds = (crate::store::now_ms() - ms).max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_671_894), "2026-12-07T19:31:34Z");
    }

    #[test]
    fn page_times() {
        assert_eq!(utc_text(1_796_671_894_999), "2026-12-07 19:31:34 UTC");
        assert_eq!(utc_text(-5), "1970-01-01 00:00:00 UTC");
    }
}
