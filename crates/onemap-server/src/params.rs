//! Query-string parameters, parsed once at the edge into validated values.
//!
//! Parse failures of the text itself (a date that is not a date, a number
//! that is not a number) are 400s; values that parse but are unacceptable
//! (an unknown category, `from` after `to`, an oversized box) are 422s.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use onemap_core::{AreaId, BBox, EventCategory, EventStatus};
use onemap_index::{Cursor, EventFilter, PageRequest, TimeWindow};
use std::collections::HashMap;
use std::str::FromStr;

/// The largest box a query may cover, in degrees on each side (the whole
/// city is about 1.2° × 0.8°).
pub const MAX_BBOX_DEGREES: f64 = 5.0;

/// China Standard Time, the zone of dates without an offset.
const CST_OFFSET_S: i64 = 8 * 3600;

/// A request's query string as name → value (the last value of a repeated
/// name wins). Its rejection is a JSON 400 like every other error.
#[derive(Debug, Default, Clone)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| Params(pairs.into_iter().collect()))
            .map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
    }
}

impl Params {
    /// A parameter's raw text; empty values count as missing.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                format!("parameter '{name}' is required"),
            )
        })
    }

    /// A number (or any `FromStr` value); bad text is a 400.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|s| {
                s.parse::<T>().map_err(|_| {
                    ApiError::bad_request(
                        "bad_number",
                        format!("parameter '{name}' must be a number, got '{s}'"),
                    )
                })
            })
            .transpose()
    }

    pub fn required_number<T: FromStr>(&self, name: &str) -> Result<T, ApiError> {
        self.required(name)?;
        Ok(self.number(name)?.expect("present"))
    }

    /// A time bound `from`/`to` (see [`parse_time`]).
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|s| {
                parse_time(s).ok_or_else(|| {
                    ApiError::bad_request(
                        "bad_time",
                        format!(
                            "parameter '{name}' must be a date YYYY-MM-DD (China Standard Time), \
                             an ISO 8601 date-time or Unix seconds, got '{s}'"
                        ),
                    )
                })
            })
            .transpose()
    }

    /// `from` and `to` as a half-open window; `from` after `to` is a 422.
    pub fn window(&self) -> Result<TimeWindow, ApiError> {
        Ok(TimeWindow::new(self.time("from")?, self.time("to")?)?)
    }

    /// The event filter: `from`, `to`, and comma lists `category`, `status`.
    pub fn filter(&self) -> Result<EventFilter, ApiError> {
        let w = self.window()?;
        Ok(EventFilter {
            from: w.from,
            to: w.to,
            categories: self.list::<EventCategory>("category")?,
            statuses: self.list::<EventStatus>("status")?,
        })
    }

    /// A comma-separated list of values; an unknown value is a 422.
    pub fn list<T>(&self, name: &str) -> Result<Option<Vec<T>>, ApiError>
    where
        T: FromStr<Err = onemap_core::CoreError>,
    {
        self.get(name)
            .map(|s| {
                s.split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| p.parse::<T>().map_err(ApiError::from))
                    .collect::<Result<Vec<T>, _>>()
            })
            .transpose()
    }

    /// A box `min_lon,min_lat,max_lon,max_lat`, at most
    /// [`MAX_BBOX_DEGREES`] on a side.
    pub fn bbox(&self, name: &str) -> Result<Option<BBox>, ApiError> {
        let Some(s) = self.get(name) else {
            return Ok(None);
        };
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let nums: Option<Vec<f64>> = parts.iter().map(|p| p.parse::<f64>().ok()).collect();
        let Some([a, b, c, d]) = nums.as_deref().and_then(|n| <[f64; 4]>::try_from(n).ok()) else {
            return Err(ApiError::bad_request(
                "bad_bbox",
                format!("parameter '{name}' must be min_lon,min_lat,max_lon,max_lat, got '{s}'"),
            ));
        };
        let bbox = BBox::new(a, b, c, d)?;
        if bbox.width() > MAX_BBOX_DEGREES || bbox.height() > MAX_BBOX_DEGREES {
            return Err(ApiError::unprocessable(
                "bbox_too_large",
                format!(
                    "bbox {s} is {:.2}° × {:.2}°; at most {MAX_BBOX_DEGREES}° on each side",
                    bbox.width(),
                    bbox.height()
                ),
            ));
        }
        Ok(Some(bbox))
    }

    pub fn area(&self, name: &str) -> Result<Option<AreaId>, ApiError> {
        self.get(name).map(parse_area_id).transpose()
    }

    /// `limit` (default `default`) and `cursor`.
    pub fn page(&self, default: usize) -> Result<PageRequest, ApiError> {
        let limit = self.number::<usize>("limit")?.unwrap_or(default);
        let cursor = self
            .get("cursor")
            .map(|c| c.parse::<Cursor>())
            .transpose()?;
        Ok(PageRequest { limit, cursor })
    }
}

/// An area id from text: digits (a 400 otherwise), of a valid length.
pub fn parse_area_id(s: &str) -> Result<AreaId, ApiError> {
    let raw: u64 = s.trim().parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_area_id",
            format!("area id must be digits, got '{s}'"),
        )
    })?;
    Ok(AreaId::new(raw)?)
}

/// A time as Unix seconds, from Unix seconds, a date `YYYY-MM-DD` (midnight,
/// China Standard Time), or an ISO 8601 date-time
/// `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]` (no offset: China Standard
/// Time). `None` when the text is none of these.
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
