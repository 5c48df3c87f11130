//! Times from text and back: Unix seconds, dates and ISO 8601 date-times,
//! with China Standard Time (UTC+8) as the zone of a date or a date-time
//! without an offset — the zone the city works in.

use crate::CoreError;
use std::str::FromStr;

/// China Standard Time, seconds east of UTC.
pub const CST_OFFSET_S: i64 = 8 * 3600;

/// The clock now, in Unix seconds (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A bound of a time window as given on the command line or in a query
/// string (`from`, `to`): Unix seconds, a date `YYYY-MM-DD` (midnight, China
/// Standard Time) or an ISO 8601 date-time (see [`parse_time`]). Text that
/// is none of these is [`CoreError::BadTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeBound(i64);

impl TimeBound {
    pub fn new(unix_seconds: i64) -> Self {
        TimeBound(unix_seconds)
    }

    /// The bound in Unix seconds.
    pub fn unix(self) -> i64 {
        self.0
    }
}

impl FromStr for TimeBound {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        parse_time(s)
            .map(TimeBound)
            .ok_or_else(|| CoreError::BadTime(crate::error::excerpt(s)))
    }
}

impl From<TimeBound> for i64 {
    fn from(t: TimeBound) -> i64 {
        t.0
    }
}

/// A time as Unix seconds, from Unix seconds, a date `YYYY-MM-DD` (midnight,
/// China Standard Time), or an ISO 8601 date-time
/// `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]` (no offset: China Standard
/// Time). `None` when the text is none of these; [`TimeBound`] is the same
/// with the error people see.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs);
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let days = parse_date(date)?;
    let Some(rest) = rest else {
        return Some(days * 86_400 - CST_OFFSET_S);
    };
    let (clock, offset) = split_offset(rest)?;
    let secs = parse_clock(clock)?;
    Some(days * 86_400 + secs - offset)
}

fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > days_in[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Splits `HH:MM:SS+08:00` into the clock and the offset in seconds.
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(i) = s.rfind(['+', '-']) else {
        return Some((s, CST_OFFSET_S));
    };
    let (clock, off) = (&s[..i], &s[i..]);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    Some((clock, sign * (h * 3600 + m * 60)))
}

/// `HH:MM[:SS[.fff]]` → seconds since midnight (fractions dropped).
fn parse_clock(s: &str) -> Option<i64> {
    let mut it = s.split(':');
    let h: i64 = two_digits(it.next()?)?;
    let m: i64 = two_digits(it.next()?)?;
    let sec: i64 = match it.next() {
        None => 0,
        Some(x) => two_digits(x.split('.').next()?)?,
    };
    if it.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + sec)
}

fn two_digits(s: &str) -> Option<i64> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (y, m, d) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The start (Unix seconds) of the China Standard Time day holding `t`.
pub fn cst_day_start(t: i64) -> i64 {
    (t + CST_OFFSET_S).div_euclid(86_400) * 86_400 - CST_OFFSET_S
}

/// `t` as a China Standard Time date `YYYY-MM-DD`.
pub fn cst_date(t: i64) -> String {
    let (y, m, d) = civil_from_days((t + CST_OFFSET_S).div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("2026-11-01"), Some(1_793_462_400));
        assert_eq!(parse_time("2026-11-01T00:00:00+08:00"), Some(1_793_462_400));
        assert_eq!(parse_time("2026-11-01T00:00"), Some(1_793_462_400));
        assert_eq!(parse_time("2026-10-31T16:00:00Z"), Some(1_793_462_400));
        assert_eq!(parse_time("2026-10-31T16:00:00.250Z"), Some(1_793_462_400));
        assert_eq!(parse_time("2026-10-31T11:00:00-0500"), Some(1_793_462_400));
        assert_eq!(parse_time("12345"), Some(12345));
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "yesterday",
            "2026-1-1",
            "2026-11-01T25:00",
            "2026-11-01T10:00+99:00",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn time_bounds() {
        let t = |s: &str| s.parse::<TimeBound>().map(TimeBound::unix);
        assert_eq!(t("2026-11-01"), Ok(1_793_462_400));
        assert_eq!(t(" 2026-10-31T16:00:00Z "), Ok(1_793_462_400));
        assert_eq!(t("-5"), Ok(-5));
        for bad in ["yesterday", "2026-02-30", "2026-11-01T24:00", "1e9", ""] {
            assert_eq!(t(bad), Err(CoreError::BadTime(bad.into())), "{bad}");
        }
        let msg = t("yesterday").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid time 'yesterday': expected a date YYYY-MM-DD (midnight, China \
             Standard Time), an ISO 8601 date-time or Unix seconds"
        );
        // A long value is cut in the message.
        let long = "x".repeat(500);
        assert!(t(&long).unwrap_err().to_string().len() < 200);
    }

    /// The command line's cases (from the parser it had of its own).
    #[test]
    fn dates_are_china_standard_time_midnight() {
        let t = |s: &str| s.parse::<TimeBound>().map(TimeBound::unix);
        assert_eq!(t("2026-11-01"), Ok(1_793_462_400));
        assert_eq!(t("1970-01-01"), Ok(-8 * 3600));
        assert_eq!(t("2024-02-29"), Ok(1_709_136_000));
        assert_eq!(t("12345"), Ok(12345));
        assert!(t("2023-02-29").is_err());
        assert!(t("2026-13-01").is_err());
        assert!(t("yesterday").is_err());
    }

    #[test]
    fn days_round_trip() {
        for d in [-1000, 0, 1, 365, 20_000, 20_758] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(cst_date(1_793_462_400), "2026-11-01");
        assert_eq!(cst_date(1_793_462_399), "2026-10-31");
        assert_eq!(cst_day_start(1_793_462_400 + 5000), 1_793_462_400);
    }
}
