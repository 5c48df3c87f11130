//! Ship position reports (AIS-like) and how one is judged against the
//! ship's last known state: applied, stale, an impossible jump, or rejected.
//!
//! Pure functions: no I/O, no clock. The server validates every report of a
//! batch in order, each against the state the earlier ones left.

use crate::{BBox, Ship, CITY_EXTENT};
use serde::{Deserialize, Serialize};

/// How far past [`CITY_EXTENT`] the monitored sea reaches, in degrees
/// (about 28 km north–south, 25 km east–west at Putian's latitude): the
/// fishing grounds beyond the coast.
pub const SEA_MARGIN_DEG: f64 = 0.25;

/// The fastest a fishing vessel goes, knots. A report implying more, from
/// the ship's last position, is a jump (a bad fix or a wrong MMSI).
pub const MAX_SPEED_KN: f64 = 40.0;

/// Metres in a nautical mile.
const NM: f64 = 1852.0;

/// The monitored area: land and sea, [`CITY_EXTENT`] grown by
/// [`SEA_MARGIN_DEG`].
pub const MONITORED: BBox = BBox {
    min_lon: CITY_EXTENT.min_lon - SEA_MARGIN_DEG,
    min_lat: CITY_EXTENT.min_lat - SEA_MARGIN_DEG,
    max_lon: CITY_EXTENT.max_lon + SEA_MARGIN_DEG,
    max_lat: CITY_EXTENT.max_lat + SEA_MARGIN_DEG,
};

/// One position report, its time already parsed (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PositionReport {
    pub mmsi: u32,
    pub time: i64,
    pub lon: f64,
    pub lat: f64,
    pub speed_kn: f32,
    pub course_deg: f32,
}

/// Why a report was not applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// No ship with this MMSI in the fleet.
    UnknownShip,
    /// Not newer than the ship's last report: ignored.
    Stale { last: i64 },
    /// The move from the last position implies an impossible speed.
    Jump { implied_kn: f64 },
    /// Outside the monitored land and sea, or not a number.
    Outside,
    /// Speed or course out of range (negative, NaN, course ≥ 360).
    BadValue { field: &'static str },
}

impl Refusal {
    /// The counter a refusal goes to: `stale`, `jumps` or `rejected`.
    pub fn counter(&self) -> &'static str {
        match self {
            Refusal::Stale { .. } => "stale",
            Refusal::Jump { .. } => "jumps",
            _ => "rejected",
        }
    }
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().min(1.0).asin()
}

/// Judges a report against the ship's current state (`None`: no such
/// ship). Checks, in order: known ship, position inside [`MONITORED`],
/// plausible speed and course, newer than the last report, and a speed
/// implied from the last position of at most [`MAX_SPEED_KN`].
pub fn judge(r: &PositionReport, last: Option<&Ship>) -> Result<(), Refusal> {
    let Some(last) = last else {
        return Err(Refusal::UnknownShip);
    };
    if !(r.lon.is_finite() && r.lat.is_finite() && MONITORED.contains(r.lon, r.lat)) {
        return Err(Refusal::Outside);
    }
    if !(r.speed_kn.is_finite() && r.speed_kn >= 0.0 && f64::from(r.speed_kn) <= 102.2) {
        return Err(Refusal::BadValue { field: "speed_kn" });
    }
    if !(r.course_deg.is_finite() && (0.0..360.0).contains(&r.course_deg)) {
        return Err(Refusal::BadValue {
            field: "course_deg",
        });
    }
    if r.time <= last.reported_at {
        return Err(Refusal::Stale {
            last: last.reported_at,
        });
    }
    let hours = (r.time - last.reported_at) as f64 / 3600.0;
    let implied_kn = distance_m(last.lon, last.lat, r.lon, r.lat) / NM / hours;
    if implied_kn > MAX_SPEED_KN {
        return Err(Refusal::Jump { implied_kn });
    }
    Ok(())
}

/// The ship after an applied report (`in_port` is left to the caller, who
/// knows the port areas).
pub fn moved(last: &Ship, r: &PositionReport) -> Ship {
    Ship {
        lon: r.lon,
        lat: r.lat,
        speed_kn: r.speed_kn,
        heading_deg: r.course_deg,
        reported_at: r.time,
        ..last.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ship() -> Ship {
        Ship {
            mmsi: 412_400_001,
            name: "闽莆渔10000".into(),
            home_port: "湄洲港".into(),
            lon: 119.1,
            lat: 25.2,
            speed_kn: 0.0,
            heading_deg: 0.0,
            in_port: true,
            reported_at: 1_000,
        }
    }

    fn report(time: i64, lon: f64, lat: f64) -> PositionReport {
        PositionReport {
            mmsi: 412_400_001,
            time,
            lon,
            lat,
            speed_kn: 8.0,
            course_deg: 90.0,
        }
    }

    #[test]
    fn reports_are_judged() {
        let s = ship();
        // 0.01° of latitude is about 1.1 km: in 60 s that is 36 knots.
        assert_eq!(judge(&report(1_060, 119.1, 25.21), Some(&s)), Ok(()));
        // In 30 s, 72 knots: a jump.
        match judge(&report(1_030, 119.1, 25.21), Some(&s)) {
            Err(Refusal::Jump { implied_kn }) => assert!((70.0..75.0).contains(&implied_kn)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            judge(&report(1_000, 119.1, 25.2), Some(&s)),
            Err(Refusal::Stale { last: 1_000 })
        );
        assert_eq!(
            judge(&report(999, 119.1, 25.2), Some(&s)),
            Err(Refusal::Stale { last: 1_000 })
        );
        assert_eq!(
            judge(&report(2_000, 121.0, 25.2), Some(&s)),
            Err(Refusal::Outside)
        );
        assert_eq!(
            judge(&report(2_000, f64::NAN, 25.2), Some(&s)),
            Err(Refusal::Outside)
        );
        assert_eq!(
            judge(&report(2_000, 119.1, 25.2), None),
            Err(Refusal::UnknownShip)
        );
        let mut r = report(2_000, 119.1, 25.2);
        r.course_deg = 360.0;
        assert_eq!(
            judge(&r, Some(&s)),
            Err(Refusal::BadValue {
                field: "course_deg"
            })
        );
        // The sea margin: just past the city's extent is still monitored.
        let edge = CITY_EXTENT.max_lon + SEA_MARGIN_DEG / 2.0;
        let far = PositionReport {
            time: 1_000 + 36_000,
            ..report(0, edge, 25.2)
        };
        assert_eq!(judge(&far, Some(&s)), Ok(()));
        let m = moved(&s, &far);
        assert_eq!((m.lon, m.reported_at, m.heading_deg), (edge, 37_000, 90.0));
        assert_eq!(m.name, s.name);
    }

    #[test]
    fn distances() {
        // One minute of latitude is a nautical mile.
        let d = distance_m(119.0, 25.0, 119.0, 25.0 + 1.0 / 60.0);
        assert!((d - NM).abs() < 5.0, "{d}");
    }
}
