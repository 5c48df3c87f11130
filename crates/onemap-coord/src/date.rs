//! Calendar days and windows of days: plans are made by the day, weeks run
//! Monday to Sunday (the week rule), months are civil months (the figures).

use crate::CoordError;
use onemap_core::time::{civil_from_days, days_from_civil};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A civil date (China time), as days since 1970-01-01. Written
/// `YYYY-MM-DD` in text and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(i32);

/// Years a [`Date`] may name: wide enough for any plan, narrow enough that
/// day arithmetic never overflows.
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;

impl Date {
    /// The date `y-m-d`, if it exists and its year is in 1970–2200.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Result<Date, CoordError> {
        let bad = || CoordError::BadDate(format!("{y:04}-{m:02}-{d:02}"));
        if !YEARS.contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return Err(bad());
        }
        Ok(Date(days_from_civil(i64::from(y), m, d) as i32))
    }

    /// The day (China time, UTC+8) of a moment in Unix seconds, kept
    /// within the years a date may name.
    pub fn from_unix(t: i64) -> Date {
        let days = (t.saturating_add(8 * 3600)).div_euclid(86_400);
        let lo = days_from_civil(i64::from(*YEARS.start()), 1, 1);
        let hi = days_from_civil(i64::from(*YEARS.end()), 12, 31);
        Date(days.clamp(lo, hi) as i32)
    }

    /// January 1st of `year`.
    pub fn year_start(year: i32) -> Result<Date, CoordError> {
        Date::from_ymd(year, 1, 1)
    }

    /// The first day of `month` (1–12) of `year`.
    pub fn month_start(year: i32, month: u32) -> Result<Date, CoordError> {
        Date::from_ymd(year, month, 1)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// The date `n` days later (earlier when negative).
    pub fn plus(self, n: i32) -> Date {
        Date(self.0.saturating_add(n))
    }

    /// Days from `other` to `self` (positive when `self` is later).
    pub fn since(self, other: Date) -> i32 {
        self.0 - other.0
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        (y as i32, m, d)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// 1 for January … 12 for December.
    pub fn month(self) -> u32 {
        self.ymd().1
    }

    /// The Monday-to-Sunday week holding the date, as a number that grows
    /// by one each week (1970-01-01 was a Thursday of week 0).
    pub fn week(self) -> i32 {
        (self.0 + 3).div_euclid(7)
    }

    /// `(year, month)`: the key the monthly figures are counted by.
    pub fn year_month(self) -> (i32, u32) {
        let (y, m, _) = self.ymd();
        (y, m)
    }

    /// `3月5日`, as the reasons write a date.
    pub fn zh(self) -> String {
        let (_, m, d) = self.ymd();
        format!("{m}月{d}日")
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = CoordError;
    /// `YYYY-MM-DD`, nothing else.
    fn from_str(s: &str) -> Result<Date, CoordError> {
        let bad = || CoordError::BadDate(s.chars().take(40).collect());
        let t = s.trim();
        let parts: Vec<&str> = t.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let digits = |p: &str| {
            p.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| p.parse::<u32>().ok())
                .flatten()
        };
        match (digits(y), digits(m), digits(d)) {
            (Some(y), Some(m), Some(d)) => Date::from_ymd(y as i32, m, d).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The days a department may go, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    pub start: Date,
    pub end: Date,
}

impl Window {
    /// A window from `start` to `end`, which must not be before `start`.
    pub fn new(start: Date, end: Date) -> Result<Window, CoordError> {
        if end < start {
            return Err(CoordError::BadWindow {
                start: start.to_string(),
                end: end.to_string(),
            });
        }
        Ok(Window { start, end })
    }

    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }

    /// Number of days, at least 1.
    pub fn len(&self) -> i32 {
        self.end.since(self.start) + 1
    }

    /// Always false: a window holds at least one day.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The days both windows hold, if any.
    pub fn intersect(&self, other: &Window) -> Option<Window> {
        let (s, e) = (self.start.max(other.start), self.end.min(other.end));
        (s <= e).then_some(Window { start: s, end: e })
    }

    pub fn overlaps(&self, other: &Window) -> bool {
        self.intersect(other).is_some()
    }

    /// The days in order.
    pub fn days(&self) -> impl Iterator<Item = Date> {
        let s = self.start;
        (0..self.len()).map(move |i| s.plus(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_weeks() {
        let d: Date = "2023-03-06".parse().unwrap();
        assert_eq!(d.to_string(), "2023-03-06");
        assert_eq!(d.ymd(), (2023, 3, 6));
        assert_eq!(d.zh(), "3月6日");
        // 2023-03-06 is a Monday: it starts a week, the Sunday before ends one.
        assert_eq!(d.week(), d.plus(6).week());
        assert_eq!(d.week(), d.plus(-1).week() + 1);
        assert_eq!(
            Date::from_ymd(2024, 2, 29).unwrap().plus(1).to_string(),
            "2024-03-01"
        );
        for bad in [
            "2023-02-29",
            "2023-13-01",
            "2023-1-01",
            "x",
            "",
            "2023-03-06T00",
            "+023-03-06",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!(Date::from_ymd(1969, 12, 31).is_err());
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(j, "\"2023-03-06\"");
        assert_eq!(serde_json::from_str::<Date>(&j).unwrap(), d);
        assert!(serde_json::from_str::<Date>("\"2023-02-30\"").is_err());
    }

    #[test]
    fn windows() {
        let a = Window::new("2023-03-01".parse().unwrap(), "2023-03-10".parse().unwrap()).unwrap();
        let b = Window::new("2023-03-10".parse().unwrap(), "2023-03-20".parse().unwrap()).unwrap();
        assert_eq!(a.len(), 10);
        assert_eq!(a.intersect(&b).map(|w| w.len()), Some(1));
        assert_eq!(a.days().count(), 10);
        assert!(Window::new(b.end, a.start).is_err());
    }
}
