//! The thematic layers: events, ships, heritage points, idle homesteads,
//! enterprises and schools, placed inside the units of the skeleton.

use crate::lattice::mix;
use crate::names;
use crate::tree::Skeleton;
use crate::{SynthConfig, HISTORY_SECONDS};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use onemap_core::{
    CityData, Enterprise, Event, EventCategory, EventStatus, HeritagePoint, Homestead,
    HomesteadStatus, ProtectionLevel, School, SchoolKind, Ship, Watch,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const DAY: i64 = 86_400;
/// China Standard Time, for the daily rhythm.
const TZ_OFFSET: i64 = 8 * 3600;

fn rng_for(seed: u64, stream: u64, i: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed
        ^ mix(stream)
        ^ mix(i.wrapping_mul(0x2545_F491_4F6C_DD1D))))
}

/// Picks an index in proportion to the weights behind a cumulative table.
fn pick(cum: &[f64], rng: &mut impl Rng) -> usize {
    let x = rng.random::<f64>() * cum[cum.len() - 1];
    cum.partition_point(|&c| c <= x).min(cum.len() - 1)
}

fn cumulative(w: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    w.map(|x| {
        acc += x;
        acc
    })
    .collect()
}

/// A point strictly inside unit `u`.
fn point_in_unit(sk: &Skeleton, u: usize, rng: &mut impl Rng, shrink: f64) -> (f64, f64) {
    let cells = &sk.unit_cells[u];
    let c = cells[rng.random_range(0..cells.len())];
    sk.lattice.point_in_cell(
        c,
        rng.random_range(0..6),
        rng.random::<f64>(),
        rng.random::<f64>(),
        shrink,
    )
}

pub fn populate(sk: &Skeleton, cfg: &SynthConfig, city: &mut CityData) {
    let unit_weight: Vec<f64> = sk
        .unit_cells
        .iter()
        .map(|cells| {
            cells
                .iter()
                .map(|&c| f64::from(sk.weight[c as usize]))
                .sum()
        })
        .collect();
    let unit_cum = cumulative(unit_weight.iter().copied());
    city.events = events(sk, cfg, &unit_cum);
    city.ships = ships(sk, cfg.history_end);
    city.heritage = heritage(sk);
    city.homesteads = homesteads(sk);
    city.enterprises = enterprises(sk, cfg, &unit_cum);
    city.schools = schools(sk, cfg, &unit_cum);
}

const CATEGORY_WEIGHTS: [(EventCategory, f64); 8] = [
    (EventCategory::Sanitation, 30.0),
    (EventCategory::Dispute, 15.0),
    (EventCategory::Drainage, 12.0),
    (EventCategory::Road, 12.0),
    (EventCategory::SafetyHazard, 10.0),
    (EventCategory::IllegalBuilding, 8.0),
    (EventCategory::PublicOrder, 8.0),
    (EventCategory::Other, 5.0),
];

/// Relative report rate by hour of day (local time): quiet nights, busy
/// mornings when unit leaders walk their units, a second peak after lunch.
const HOURLY: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3.0, 4.0, 4.0, 3.2, 1.8, 2.0, 3.0, 3.4, 3.2, 2.5, 1.6,
    1.2, 1.0, 0.8, 0.5, 0.3,
];

struct EventDraw {
    time: i64,
    unit: usize,
    lon: f64,
    lat: f64,
    category: EventCategory,
    status: EventStatus,
    closed_at: Option<i64>,
    status_at: i64,
}

fn events(sk: &Skeleton, cfg: &SynthConfig, unit_cum: &[f64]) -> Vec<Event> {
    let n = cfg.event_count();
    if n == 0 {
        return Vec::new();
    }
    let end = cfg.history_end;
    let start = end - HISTORY_SECONDS;
    let days = (HISTORY_SECONDS / DAY) as usize;
    // Growing use of the platform over three years; fewer reports at weekends.
    let day_cum = cumulative((0..days).map(|d| {
        let t = start + d as i64 * DAY + TZ_OFFSET;
        let weekday = ((t / DAY) + 3).rem_euclid(7); // 0 = Monday
        let week = match weekday {
            5 => 0.7,
            6 => 0.6,
            _ => 1.0,
        };
        (0.8 + 0.4 * d as f64 / days as f64) * week
    }));
    let hour_cum = cumulative(HOURLY.iter().copied());
    let cat_cum = cumulative(CATEGORY_WEIGHTS.iter().map(|c| c.1));
    let draw_time = |rng: &mut ChaCha8Rng| -> i64 {
        let d = pick(&day_cum, rng) as i64;
        let h = pick(&hour_cum, rng) as i64;
        // Midnight local time of that day, then the hour and a second within it.
        let local_midnight = start + d * DAY;
        local_midnight + h * 3600 + rng.random_range(0..3600)
    };
    // An event's status, closing time and the time it entered its status:
    // open ones are recent and further along the older they are, and moved
    // into their status some time after the report, most of them lately.
    let close = |rng: &mut ChaCha8Rng, t: i64| -> (EventStatus, Option<i64>, i64) {
        let age = (end - t) as f64 / DAY as f64;
        let p_open = if age < 30.0 {
            0.15 * (1.0 - age / 30.0) + 0.0005
        } else {
            0.0005
        };
        if rng.random_bool(p_open.clamp(0.0, 1.0)) {
            let stage = ((age / 3.0) as usize + rng.random_range(0..2)).min(4);
            let since = if stage == 0 {
                t
            } else {
                let u: f64 = rng.random();
                (end - 60 - ((end - 60 - t).max(0) as f64 * u * u) as i64).max(t)
            };
            (EventStatus::ALL[stage], None, since)
        } else {
            // Log-normal time to closure, median two days.
            let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            let dur = (2.0 * DAY as f64 * (0.8 * z).exp()).max(3600.0) as i64;
            let closed = (t + dur).min(end - 60).max(t);
            (EventStatus::Closed, Some(closed), closed)
        }
    };

    // The busy community and the recurring hot spots.
    let busy_units: Vec<usize> = match sk.busy_village() {
        Some(v) => (0..sk.unit_cells.len())
            .filter(|&u| sk.unit_ancestor(u, 2) == v)
            .collect(),
        None => Vec::new(),
    };
    let busy_n = if busy_units.is_empty() {
        0
    } else {
        ((26_090.0 * n as f64 / 1e6).round() as u64).min(n)
    };
    let spots = ((12.0 * cfg.scale.sqrt()).round() as u64).max(3);
    let mut spot_rng = rng_for(sk.seed, 90, 0);
    let mut spot_defs: Vec<(usize, u32, EventCategory, u64)> = (0..spots)
        .map(|_| {
            let u = pick(unit_cum, &mut spot_rng);
            let cells = &sk.unit_cells[u];
            let cell = cells[spot_rng.random_range(0..cells.len())];
            let cat = [
                EventCategory::Sanitation,
                EventCategory::Drainage,
                EventCategory::IllegalBuilding,
            ][spot_rng.random_range(0..3)];
            (u, cell, cat, spot_rng.random_range(40..=75))
        })
        .collect();
    // The total is exactly `n`: the busy community takes its share of it,
    // and the hot spots, in the order drawn, as many as fit in half of what
    // is left (all of them at the default counts); the rest are regular.
    let spot_budget = (n - busy_n) / 2;
    let kept = spot_defs
        .iter()
        .scan(0, |total, s| {
            *total += s.3;
            Some(*total)
        })
        .take_while(|&total| total <= spot_budget)
        .count();
    spot_defs.truncate(kept);
    let spot_total: u64 = spot_defs.iter().map(|s| s.3).sum();
    let regular = n - busy_n - spot_total;

    const CHUNK: u64 = 50_000;
    let chunks = regular.div_ceil(CHUNK);
    let mut draws: Vec<EventDraw> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|ci| {
            let mut rng = rng_for(sk.seed, 100, ci);
            let len = CHUNK.min(regular - ci * CHUNK);
            (0..len)
                .map(|_| {
                    let unit = pick(unit_cum, &mut rng);
                    let (lon, lat) = point_in_unit(sk, unit, &mut rng, 0.98);
                    let time = draw_time(&mut rng);
                    let category = CATEGORY_WEIGHTS[pick(&cat_cum, &mut rng)].0;
                    let (status, closed_at, status_at) = close(&mut rng, time);
                    EventDraw {
                        time,
                        unit,
                        lon,
                        lat,
                        category,
                        status,
                        closed_at,
                        status_at,
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut rng = rng_for(sk.seed, 101, 0);
    for _ in 0..busy_n {
        let unit = busy_units[rng.random_range(0..busy_units.len())];
        let (lon, lat) = point_in_unit(sk, unit, &mut rng, 0.98);
        let time = draw_time(&mut rng);
        let category = CATEGORY_WEIGHTS[pick(&cat_cum, &mut rng)].0;
        let (status, closed_at, status_at) = close(&mut rng, time);
        draws.push(EventDraw {
            time,
            unit,
            lon,
            lat,
            category,
            status,
            closed_at,
            status_at,
        });
    }
    // A hot spot: the same problem at the same place, reported again and again.
    for &(unit, cell, category, count) in &spot_defs {
        let (cx, cy) = sk.lattice.center_lonlat(cell);
        let (mx, my) = sk.lattice.metres_per_degree();
        for _ in 0..count {
            let r = 4.0 * rng.random::<f64>().sqrt();
            let a = rng.random::<f64>() * std::f64::consts::TAU;
            let time = draw_time(&mut rng);
            let (status, closed_at, status_at) = close(&mut rng, time);
            draws.push(EventDraw {
                time,
                unit,
                lon: cx + r * a.cos() / mx,
                lat: cy + r * a.sin() / my,
                category,
                status,
                closed_at,
                status_at,
            });
        }
    }
    draws.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then(a.lon.total_cmp(&b.lon))
            .then(a.lat.total_cmp(&b.lat))
    });
    let unit_ids = &sk.ids[4];
    draws
        .into_iter()
        .enumerate()
        .map(|(i, d)| Event {
            id: i as u64 + 1,
            lon: d.lon,
            lat: d.lat,
            category: d.category,
            status: d.status,
            reported_at: d.time,
            closed_at: d.closed_at,
            status_at: d.status_at,
            unit: unit_ids[d.unit],
        })
        .collect()
}

/// The coastal towns' ports: for each town with shore, a point on the water
/// just off one of its shore cells.
pub fn ports(sk: &Skeleton) -> Vec<(String, f64, f64)> {
    let towns = &sk.cuts[1];
    let mut shore: Vec<Vec<(u32, u32)>> = vec![Vec::new(); towns.parent.len()];
    for c in 0..sk.lattice.len() as u32 {
        let t = towns.region[c as usize];
        if t == crate::partition::NONE {
            continue;
        }
        if let Some(w) = sk.lattice.neighbors(c).find(|&n| sk.cell_is_sea(n)) {
            shore[t as usize].push((c, w));
        }
    }
    let mut rng = rng_for(sk.seed, 200, 0);
    shore
        .iter()
        .enumerate()
        .filter(|(_, s)| s.len() >= 3)
        .map(|(t, s)| {
            let (_, water) = s[rng.random_range(0..s.len())];
            let (lon, lat) = sk.lattice.center_lonlat(water);
            (names::port(&sk.names[1][t]), lon, lat)
        })
        .collect()
}

fn is_open_sea(sk: &Skeleton, lon: f64, lat: f64) -> bool {
    match sk.lattice.cell_near(lon, lat) {
        Some(c) => sk.cell_is_sea(c) && sk.lattice.neighbors(c).all(|n| sk.cell_is_sea(n)),
        None => false,
    }
}

fn ships(sk: &Skeleton, history_end: i64) -> Vec<Ship> {
    let ports = ports(sk);
    if ports.is_empty() {
        return Vec::new();
    }
    let mut rng = rng_for(sk.seed, 300, 0);
    let (mx, my) = sk.lattice.metres_per_degree();
    (0..320u32)
        .map(|i| {
            let (port, plon, plat) = &ports[rng.random_range(0..ports.len())];
            let at_sea = rng.random_bool(0.25);
            let (lon, lat, speed) = if at_sea {
                let mut found = None;
                for _ in 0..200 {
                    let r = 2_000.0 + 25_000.0 * rng.random::<f64>();
                    let a = rng.random::<f64>() * std::f64::consts::TAU;
                    let (lon, lat) = (plon + r * a.cos() / mx, plat + r * a.sin() / my);
                    if is_open_sea(sk, lon, lat) {
                        found = Some((lon, lat));
                        break;
                    }
                }
                match found {
                    Some((lon, lat)) => (lon, lat, rng.random_range(3.0..10.0f32)),
                    None => (*plon, *plat, 0.0),
                }
            } else {
                let r = 150.0 * rng.random::<f64>();
                let a = rng.random::<f64>() * std::f64::consts::TAU;
                (plon + r * a.cos() / mx, plat + r * a.sin() / my, 0.0)
            };
            Ship {
                mmsi: 412_400_001 + i * 173,
                name: format!("闽莆渔{:05}", 10_000 + i * 7),
                home_port: port.clone(),
                lon,
                lat,
                speed_kn: speed,
                heading_deg: (rng.random::<f32>() * 360.0).min(359.9),
                in_port: speed == 0.0,
                reported_at: history_end - rng.random_range(0..600),
            }
        })
        .collect()
}

fn village_units(sk: &Skeleton) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); sk.ids[2].len()];
    for u in 0..sk.unit_cells.len() {
        out[sk.unit_ancestor(u, 2)].push(u);
    }
    out
}

fn heritage(sk: &Skeleton) -> Vec<HeritagePoint> {
    let mut rng = rng_for(sk.seed, 400, 0);
    let mut out = Vec::new();
    for (v, units) in village_units(sk).iter().enumerate() {
        let name = &sk.names[2][v];
        // A few per village, occasionally many; 屏山村 has its 19.
        let n = if name == "屏山村" {
            19
        } else {
            (1.0 + 19.0 * rng.random::<f64>().powi(4)).floor() as u32
        };
        for k in 1..=n {
            let u = units[rng.random_range(0..units.len())];
            let (lon, lat) = point_in_unit(sk, u, &mut rng, 0.9);
            let level = match rng.random_range(0..100) {
                0..=1 => ProtectionLevel::National,
                2..=9 => ProtectionLevel::Provincial,
                10..=34 => ProtectionLevel::City,
                _ => ProtectionLevel::County,
            };
            let watch = Watch::ALL[rng.random_range(0..3)];
            out.push(HeritagePoint {
                id: out.len() as u64 + 1,
                name: names::heritage(&mut rng, name, k),
                lon,
                lat,
                level,
                watch,
            });
        }
    }
    out
}

fn homesteads(sk: &Skeleton) -> Vec<Homestead> {
    let mut rng = rng_for(sk.seed, 500, 0);
    let (mx, my) = sk.lattice.metres_per_degree();
    let e = sk.lattice.edge_m;
    let mut out = Vec::new();
    for (v, units) in village_units(sk).iter().enumerate() {
        if sk.village_urban[v] {
            continue;
        }
        let n = rng.random_range(0..=12);
        for _ in 0..n {
            let u = units[rng.random_range(0..units.len())];
            let cells = &sk.unit_cells[u];
            let cell = cells[rng.random_range(0..cells.len())];
            // The plot stays inside one cell: centre near the cell's centre,
            // half-diagonal under 0.3 edge lengths.
            let (cx, cy) = sk.lattice.point_in_cell(
                cell,
                rng.random_range(0..6),
                rng.random(),
                rng.random(),
                0.25,
            );
            let w = e * rng.random_range(0.2..0.45);
            let h = e * rng.random_range(0.2..0.35);
            let a = rng.random::<f64>() * std::f64::consts::PI;
            let (s, c) = a.sin_cos();
            let corners = [(-w, -h), (w, -h), (w, h), (-w, h), (-w, -h)];
            let ring: Vec<Coord<f64>> = corners
                .iter()
                .map(|&(x, y)| {
                    let (x, y) = (x / 2.0, y / 2.0);
                    Coord {
                        x: cx + (x * c - y * s) / mx,
                        y: cy + (x * s + y * c) / my,
                    }
                })
                .collect();
            let status = match rng.random_range(0..100) {
                0..=59 => HomesteadStatus::Idle,
                60..=84 => HomesteadStatus::Demolishing,
                _ => HomesteadStatus::Reclaimed,
            };
            out.push(Homestead {
                id: out.len() as u64 + 1,
                geometry: MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]),
                area_m2: (w * h * 100.0).round() / 100.0,
                status,
            });
        }
    }
    out
}

fn enterprises(sk: &Skeleton, cfg: &SynthConfig, unit_cum: &[f64]) -> Vec<Enterprise> {
    let n = ((20_000.0 * cfg.scale).round() as u64).max(20);
    let mut rng = rng_for(sk.seed, 600, 0);
    (1..=n)
        .map(|id| {
            let u = pick(unit_cum, &mut rng);
            let (lon, lat) = point_in_unit(sk, u, &mut rng, 0.9);
            let industry = names::INDUSTRIES[rng.random_range(0..names::INDUSTRIES.len())];
            let town = &sk.names[1][sk.unit_ancestor(u, 1)];
            let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            let employees = (40.0 * (1.1 * z).exp()).clamp(1.0, 20_000.0) as u32;
            Enterprise {
                id,
                name: names::enterprise(&mut rng, town, industry, id),
                lon,
                lat,
                industry: industry.to_string(),
                employees,
                large: employees >= 300,
            }
        })
        .collect()
}

fn schools(sk: &Skeleton, cfg: &SynthConfig, unit_cum: &[f64]) -> Vec<School> {
    let n = ((900.0 * cfg.scale).round() as u64).max(10);
    let mut rng = rng_for(sk.seed, 700, 0);
    let mut per_town = vec![[0u32; 4]; sk.ids[1].len()];
    (1..=n)
        .map(|id| {
            let u = pick(unit_cum, &mut rng);
            let (lon, lat) = point_in_unit(sk, u, &mut rng, 0.9);
            let kind = match rng.random_range(0..100) {
                0..=34 => SchoolKind::Kindergarten,
                35..=74 => SchoolKind::Primary,
                75..=91 => SchoolKind::Middle,
                _ => SchoolKind::High,
            };
            let t = sk.unit_ancestor(u, 1);
            per_town[t][kind.code() as usize] += 1;
            let students = match kind {
                SchoolKind::Kindergarten => rng.random_range(60..400),
                SchoolKind::Primary => rng.random_range(200..2000),
                SchoolKind::Middle => rng.random_range(400..2500),
                SchoolKind::High => rng.random_range(800..3500),
            };
            School {
                id,
                name: names::school(&sk.names[1][t], kind, per_town[t][kind.code() as usize]),
                lon,
                lat,
                kind,
                students,
            }
        })
        .collect()
}
