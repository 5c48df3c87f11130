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

/// How far ahead of the server's clock a report's time may be, seconds: a
/// receiver's clock a little fast is normal, a time hours or years ahead is a
/// bad fix or a forged report, and once applied it would make every later
/// true report of the ship stale.
pub const MAX_AHEAD_SECS: i64 = 300;

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
    /// Time more than [`MAX_AHEAD_SECS`] ahead of the server's clock;
    /// `latest` is the latest time that was accepted then.
    Future { latest: i64 },
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
/// ship) at `now` (the server's clock, unix seconds: passed in, so judging
/// stays a pure function). Checks, in order: known ship, position inside
/// [`MONITORED`], plausible speed and course, not more than
/// [`MAX_AHEAD_SECS`] ahead of `now`, newer than the last report, and a
/// speed implied from the last position of at most [`MAX_SPEED_KN`].
pub fn judge(r: &PositionReport, last: Option<&Ship>, now: i64) -> Result<(), Refusal> {
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
    let latest = now.saturating_add(MAX_AHEAD_SECS);
    if r.time > latest {
        return Err(Refusal::Future { latest });
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

/// Radius of a port area around its berths, metres. Berthed ships lie
/// within 150 m of their port point (see onemap-synth), so the circle holds
/// them all with room for the harbour mouth.
pub const PORT_RADIUS_M: f64 = 400.0;

/// Half the side of a restricted zone, metres.
pub const ZONE_HALF_SIDE_M: f64 = 1_500.0;

/// A port area: a circle of [`PORT_RADIUS_M`] around its berths, as a
/// polygon of 32 vertices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortArea {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// Closed ring, lon/lat.
    pub ring: Vec<[f64; 2]>,
}

/// A restricted zone at sea (a polygon).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Zone {
    pub name: String,
    /// Closed ring, lon/lat.
    pub ring: Vec<[f64; 2]>,
}

/// A ship leaving or entering a port area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortCrossing {
    pub mmsi: u32,
    pub port: String,
    pub arrival: bool,
    pub time: i64,
}

/// A ship entering a restricted zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneAlert {
    pub mmsi: u32,
    pub zone: String,
    pub time: i64,
}

/// Even-odd point-in-ring test.
fn in_ring(ring: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let ([xi, yi], [xj, yj]) = (ring[i], ring[j]);
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Metres per degree of longitude and latitude at `lat`.
fn metres_per_degree(lat: f64) -> (f64, f64) {
    let m = 6_371_008.8_f64.to_radians();
    (m * lat.to_radians().cos(), m)
}

/// The port areas and restricted zones ships are watched against.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Geofence {
    pub ports: Vec<PortArea>,
    pub zones: Vec<Zone>,
}

impl Geofence {
    /// Derives the geofence from the fleet as generated (deterministic):
    /// each home port's area is a circle of [`PORT_RADIUS_M`] around the
    /// mean position of its ships berthed in port; three restricted zones
    /// are squares of 2 × [`ZONE_HALF_SIDE_M`] centred on the positions of
    /// the at-sea ships with the lowest MMSIs of the first three ports (at
    /// open sea, as the generator places them), named 禁区1…3.
    pub fn from_fleet(ships: &[Ship]) -> Geofence {
        let mut sums: std::collections::BTreeMap<&str, (f64, f64, u32)> = Default::default();
        for s in ships.iter().filter(|s| s.in_port) {
            let e = sums.entry(&s.home_port).or_default();
            *e = (e.0 + s.lon, e.1 + s.lat, e.2 + 1);
        }
        let ports: Vec<PortArea> = sums
            .into_iter()
            .map(|(name, (x, y, n))| {
                let (lon, lat) = (x / f64::from(n), y / f64::from(n));
                let (mx, my) = metres_per_degree(lat);
                let mut ring: Vec<[f64; 2]> = (0..32)
                    .map(|k| {
                        let a = f64::from(k) * std::f64::consts::TAU / 32.0;
                        [
                            lon + PORT_RADIUS_M * a.cos() / mx,
                            lat + PORT_RADIUS_M * a.sin() / my,
                        ]
                    })
                    .collect();
                ring.push(ring[0]);
                PortArea {
                    name: name.to_string(),
                    lon,
                    lat,
                    ring,
                }
            })
            .collect();
        let mut zones = Vec::new();
        for p in ports.iter().take(3) {
            let Some(s) = ships
                .iter()
                .filter(|s| !s.in_port && s.home_port == p.name)
                .min_by_key(|s| s.mmsi)
            else {
                continue;
            };
            let (mx, my) = metres_per_degree(s.lat);
            let (dx, dy) = (ZONE_HALF_SIDE_M / mx, ZONE_HALF_SIDE_M / my);
            zones.push(Zone {
                name: format!("禁区{}", zones.len() + 1),
                ring: vec![
                    [s.lon - dx, s.lat - dy],
                    [s.lon + dx, s.lat - dy],
                    [s.lon + dx, s.lat + dy],
                    [s.lon - dx, s.lat + dy],
                    [s.lon - dx, s.lat - dy],
                ],
            });
        }
        Geofence { ports, zones }
    }

    /// The port area holding a position.
    pub fn port_at(&self, lon: f64, lat: f64) -> Option<&PortArea> {
        self.ports.iter().find(|p| in_ring(&p.ring, lon, lat))
    }

    /// The restricted zone holding a position.
    pub fn zone_at(&self, lon: f64, lat: f64) -> Option<&Zone> {
        self.zones.iter().find(|z| in_ring(&z.ring, lon, lat))
    }

    /// What a move from `before` to `after` (the same ship) crosses:
    /// `after.in_port` is set from its position; a change of `in_port` is a
    /// departure (from the port `before` lay in, else its home port) or an
    /// arrival; entering a restricted zone it was not in raises an alert.
    pub fn step(
        &self,
        before: &Ship,
        after: &mut Ship,
    ) -> (Option<PortCrossing>, Option<ZoneAlert>) {
        let port = self.port_at(after.lon, after.lat);
        after.in_port = port.is_some();
        let crossing = match (before.in_port, port) {
            (false, Some(p)) => Some(PortCrossing {
                mmsi: after.mmsi,
                port: p.name.clone(),
                arrival: true,
                time: after.reported_at,
            }),
            (true, None) => Some(PortCrossing {
                mmsi: after.mmsi,
                port: self
                    .port_at(before.lon, before.lat)
                    .map_or_else(|| before.home_port.clone(), |p| p.name.clone()),
                arrival: false,
                time: after.reported_at,
            }),
            _ => None,
        };
        let was = self.zone_at(before.lon, before.lat).map(|z| &z.name);
        let alert = match self.zone_at(after.lon, after.lat) {
            Some(z) if was != Some(&z.name) => Some(ZoneAlert {
                mmsi: after.mmsi,
                zone: z.name.clone(),
                time: after.reported_at,
            }),
            _ => None,
        };
        (crossing, alert)
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

    /// Judged at a clock well after every time these tests use.
    fn judge_at(r: &PositionReport, last: Option<&Ship>) -> Result<(), Refusal> {
        judge(r, last, 100_000)
    }

    #[test]
    fn reports_from_the_future_are_refused() {
        let s = ship();
        let now = 1_000_000;
        let at = |time| judge(&report(time, 119.1, 25.2), Some(&s), now);
        // A clock a few minutes fast is accepted, up to the margin.
        assert_eq!(at(now + 60), Ok(()));
        assert_eq!(at(now + MAX_AHEAD_SECS), Ok(()));
        let future = Refusal::Future {
            latest: now + MAX_AHEAD_SECS,
        };
        assert_eq!(at(now + MAX_AHEAD_SECS + 1), Err(future.clone()));
        assert_eq!(at(now + 365 * 86_400), Err(future.clone()));
        assert_eq!(at(i64::MAX), Err(future.clone()));
        assert_eq!(future.counter(), "rejected");
        // Named `future` in answers.
        let v = serde_json::to_value(Refusal::Future { latest: 7 }).unwrap();
        assert_eq!(v, serde_json::json!({"reason": "future", "latest": 7}));
    }

    #[test]
    fn reports_are_judged() {
        let s = ship();
        // 0.01° of latitude is about 1.1 km: in 60 s that is 36 knots.
        assert_eq!(judge_at(&report(1_060, 119.1, 25.21), Some(&s)), Ok(()));
        // In 30 s, 72 knots: a jump.
        match judge_at(&report(1_030, 119.1, 25.21), Some(&s)) {
            Err(Refusal::Jump { implied_kn }) => assert!((70.0..75.0).contains(&implied_kn)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            judge_at(&report(1_000, 119.1, 25.2), Some(&s)),
            Err(Refusal::Stale { last: 1_000 })
        );
        assert_eq!(
            judge_at(&report(999, 119.1, 25.2), Some(&s)),
            Err(Refusal::Stale { last: 1_000 })
        );
        assert_eq!(
            judge_at(&report(2_000, 121.0, 25.2), Some(&s)),
            Err(Refusal::Outside)
        );
        assert_eq!(
            judge_at(&report(2_000, f64::NAN, 25.2), Some(&s)),
            Err(Refusal::Outside)
        );
        assert_eq!(
            judge_at(&report(2_000, 119.1, 25.2), None),
            Err(Refusal::UnknownShip)
        );
        let mut r = report(2_000, 119.1, 25.2);
        r.course_deg = 360.0;
        assert_eq!(
            judge_at(&r, Some(&s)),
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
        assert_eq!(judge_at(&far, Some(&s)), Ok(()));
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

    #[test]
    fn scripted_tracks_cross_ports_and_zones() {
        let mut a = ship();
        a.mmsi = 1;
        let mut b = ship();
        b.mmsi = 2;
        b.lon = 119.101;
        let mut c = ship();
        c.mmsi = 3;
        c.home_port = "东港".into();
        c.lon = 119.3;
        c.lat = 25.3;
        let mut sea = ship();
        sea.mmsi = 4;
        sea.in_port = false;
        sea.lon = 119.2;
        sea.lat = 25.1;
        let g = Geofence::from_fleet(&[a.clone(), b.clone(), c.clone(), sea.clone()]);
        assert_eq!(g.ports.len(), 2);
        let p = g.port_at(119.1005, 25.2).expect("the berths are in port");
        assert_eq!(p.name, "湄洲港");
        assert_eq!(g.zones.len(), 1, "only 湄洲港 has a ship at sea");
        assert!(g.zone_at(119.2, 25.1).is_some());
        // Ship 1: out of port, through open sea, into the zone, around in
        // it, out, back into the zone, then home. Positions every 10 min.
        let track = [
            (119.1, 25.2),    // in port
            (119.12, 25.18),  // departed
            (119.17, 25.13),  // at sea, outside the zone
            (119.2, 25.1),    // zone: alert
            (119.201, 25.1),  // still in the zone: no alert
            (119.25, 25.1),   // out
            (119.2, 25.1),    // in again: alert
            (119.15, 25.15),  // at sea
            (119.1, 25.2),    // arrived
            (119.1002, 25.2), // still in port
        ];
        let mut cur = a.clone();
        let (mut crossings, mut alerts) = (Vec::new(), Vec::new());
        for (k, &(lon, lat)) in track.iter().enumerate() {
            let mut next = cur.clone();
            next.lon = lon;
            next.lat = lat;
            next.reported_at = 1_000 + 600 * k as i64;
            let (x, al) = g.step(&cur, &mut next);
            crossings.extend(x);
            alerts.extend(al);
            cur = next;
        }
        let dep = |t, arrival| PortCrossing {
            mmsi: 1,
            port: "湄洲港".into(),
            arrival,
            time: t,
        };
        assert_eq!(crossings, vec![dep(1_600, false), dep(5_800, true)]);
        let alert = |t| ZoneAlert {
            mmsi: 1,
            zone: "禁区1".into(),
            time: t,
        };
        assert_eq!(alerts, vec![alert(2_800), alert(4_600)]);
        assert!(cur.in_port);
    }
}
