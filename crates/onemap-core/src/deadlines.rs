//! Time limits of the loop's steps, and which events are overdue.
//!
//! Each open status waits for one move: a reported event waits to be judged
//! (discussed), a discussing one to be routed, a routed one to be handled,
//! a handled one to be fed back, a fed-back one to be closed. A step may
//! have a limit, counted from the moment the event entered its status
//! (`Event::status_at`); past it the event is overdue. The defaults are the
//! ones `config/deadlines.toml` ships with; a closed event is never overdue.

use crate::EventStatus;
use serde::{Deserialize, Deserializer, Serialize};

/// The limit of each step, in seconds (None: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// reported → discussing.
    #[serde(default, deserialize_with = "duration")]
    pub judge: Option<i64>,
    /// discussing → routed.
    #[serde(default, deserialize_with = "duration")]
    pub route: Option<i64>,
    /// routed → handled.
    #[serde(default, deserialize_with = "duration")]
    pub handle: Option<i64>,
    /// handled → fed back.
    #[serde(default, deserialize_with = "duration")]
    pub feed_back: Option<i64>,
    /// fed back → closed.
    #[serde(default, deserialize_with = "duration")]
    pub close: Option<i64>,
}

const DAY: i64 = 86_400;

impl Default for Deadlines {
    /// Judge within 1 day, route within 1 day, handle within 3 days, feed
    /// back within 2 days; closing has no limit.
    fn default() -> Self {
        Self {
            judge: Some(DAY),
            route: Some(DAY),
            handle: Some(3 * DAY),
            feed_back: Some(2 * DAY),
            close: None,
        }
    }
}

/// For each status code, the latest `status_at` that is not yet overdue at
/// some moment: an event of status `s` is overdue exactly when its
/// `status_at < cutoffs[s]`. `i64::MIN` for a status with no limit.
pub type Cutoffs = [i64; 6];

impl Deadlines {
    /// The limit of the step an event of `status` waits for.
    pub fn limit(&self, status: EventStatus) -> Option<i64> {
        match status {
            EventStatus::Reported => self.judge,
            EventStatus::Discussing => self.route,
            EventStatus::Routed => self.handle,
            EventStatus::Handled => self.feed_back,
            EventStatus::FedBack => self.close,
            EventStatus::Closed => None,
        }
    }

    /// When an event that entered `status` at `status_at` becomes overdue.
    pub fn due(&self, status: EventStatus, status_at: i64) -> Option<i64> {
        self.limit(status).map(|l| status_at.saturating_add(l))
    }

    /// Whether such an event is overdue at `now` (strictly past its due time).
    pub fn is_overdue(&self, status: EventStatus, status_at: i64, now: i64) -> bool {
        self.due(status, status_at).is_some_and(|d| now > d)
    }

    /// The cutoffs at `now` (see [`Cutoffs`]).
    pub fn cutoffs(&self, now: i64) -> Cutoffs {
        let mut c = [i64::MIN; 6];
        for &s in EventStatus::ALL.iter() {
            if let Some(l) = self.limit(s) {
                c[s.code() as usize] = now.saturating_sub(l);
            }
        }
        c
    }

    /// Checks the limits are positive and at most a year.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("judge", self.judge),
            ("route", self.route),
            ("handle", self.handle),
            ("feed_back", self.feed_back),
            ("close", self.close),
        ] {
            if let Some(v) = v {
                if !(60..=366 * DAY).contains(&v) {
                    return Err(format!(
                        "deadline {name} is {v} s; a limit is between 1 minute and 366 days"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Parses a duration: a number with a unit, `90m`, `36h`, `1d`, `2.5d`, or
/// whole seconds as an integer; `"none"` (or no value) is no limit.
pub fn parse_duration(s: &str) -> Result<Option<i64>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let bad = || format!("{s:?} is not a duration (e.g. 1d, 36h, 90m, none)");
    let (num, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let per = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => DAY as f64,
        _ => return Err(bad()),
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || v < 0.0 || v * per > 1e12 {
        return Err(bad());
    }
    Ok(Some((v * per).round() as i64))
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(i64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Some(s)),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("1d"), Ok(Some(86_400)));
        assert_eq!(parse_duration("36h"), Ok(Some(129_600)));
        assert_eq!(parse_duration("90m"), Ok(Some(5_400)));
        assert_eq!(parse_duration("2.5d"), Ok(Some(216_000)));
        assert_eq!(parse_duration("120"), Ok(Some(120)));
        assert_eq!(parse_duration("none"), Ok(None));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("-1d").is_err());
        assert!(parse_duration("d").is_err());
    }

    #[test]
    fn cutoffs_agree_with_is_overdue() {
        let d = Deadlines::default();
        let now = 1_000_000_000;
        let c = d.cutoffs(now);
        for &s in EventStatus::ALL.iter() {
            for at in [
                now - 4 * DAY,
                now - 2 * DAY - 1,
                now - DAY - 1,
                now - DAY,
                now,
            ] {
                assert_eq!(
                    at < c[s.code() as usize],
                    d.is_overdue(s, at, now),
                    "{s} entered at {at}"
                );
            }
        }
        assert!(!d.is_overdue(EventStatus::Closed, 0, now));
        assert!(d.is_overdue(EventStatus::Routed, now - 3 * DAY - 1, now));
        assert!(!d.is_overdue(EventStatus::Routed, now - 3 * DAY, now));
    }
}
