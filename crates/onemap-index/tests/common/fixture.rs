//! Hand-made cities for tests and measurements: units are the cells of a
//! lattice (optionally jittered, so edges slant) nested in rectangular blocks
//! as grids, villages, towns and districts, sharing their edges exactly.
//! Points are placed inside units, exactly on shared vertices and edges, at
//! sea, and with wrong unit ids, so every rule of the index is exercised.
//!
//! Shared by the crate's unit tests, its integration tests and its examples
//! (each includes this file with `#[path]`).

#![allow(dead_code)]

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use onemap_core::{
    Area, AreaId, AreaTree, CityData, Enterprise, Event, EventCategory, EventStatus, HeritagePoint,
    Homestead, HomesteadStatus, Level, ProtectionLevel, School, SchoolKind, Ship, Watch,
};

/// The shape and contents of a fixture city.
#[derive(Debug, Clone)]
pub struct FixtureConfig {
    pub seed: u64,
    /// Districts along x and y.
    pub districts: (u32, u32),
    /// Children per parent along x and y: towns per district, villages per
    /// town, grids per village, units per grid.
    pub factors: [(u32, u32); 4],
    /// South-west corner of the lattice.
    pub origin: (f64, f64),
    /// Size of one unit cell, degrees.
    pub cell: (f64, f64),
    /// Vertex jitter as a share of the cell size (0 keeps exact squares).
    pub jitter: f64,
    pub events: usize,
    pub ships: usize,
    pub heritage: usize,
    pub homesteads: usize,
    pub enterprises: usize,
    pub schools: usize,
    /// Reported times are drawn from `[t0, t0 + span)`, on whole hours.
    pub t0: i64,
    pub span: i64,
}

impl FixtureConfig {
    /// 4 × 4 square units: 1 district, 2 towns, 4 villages, 8 grids, 16 units.
    pub fn tiny() -> Self {
        FixtureConfig {
            seed: 7,
            districts: (1, 1),
            factors: [(2, 1), (1, 2), (1, 2), (2, 1)],
            origin: (119.0, 25.4),
            cell: (0.01, 0.01),
            jitter: 0.0,
            events: 400,
            ships: 30,
            heritage: 20,
            homesteads: 25,
            enterprises: 25,
            schools: 10,
            t0: 1_700_000_000,
            span: 90 * 86_400,
        }
    }

    /// A jittered city of 2 × 2 districts and 24 × 16 = 384 units.
    pub fn small(seed: u64) -> Self {
        FixtureConfig {
            seed,
            districts: (2, 1),
            factors: [(2, 2), (1, 2), (3, 1), (2, 2)],
            origin: (118.9, 25.3),
            cell: (0.004, 0.003),
            jitter: 0.3,
            events: 3000,
            ships: 60,
            heritage: 40,
            homesteads: 80,
            enterprises: 60,
            schools: 30,
            t0: 1_700_000_000,
            span: 365 * 86_400,
        }
    }

    /// About the real scale: 7 districts, 56 towns, 1,008 villages, 10,080
    /// grids, 120,960 units, and `events` events.
    pub fn large(events: usize) -> Self {
        FixtureConfig {
            seed: 11,
            districts: (7, 1),
            factors: [(2, 4), (6, 3), (2, 5), (4, 3)],
            origin: (118.5, 25.0),
            cell: (1.1 / 672.0, 0.7 / 180.0),
            jitter: 0.3,
            events,
            ships: 300,
            heritage: 2_000,
            homesteads: 20_000,
            enterprises: 20_000,
            schools: 1_000,
            t0: 1_640_000_000,
            span: 2 * 365 * 86_400,
        }
    }

    /// Units along x and y.
    pub fn size(&self) -> (u32, u32) {
        let mut n = self.districts;
        for f in &self.factors {
            n = (n.0 * f.0, n.1 * f.1);
        }
        n
    }
}

/// A small deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The lattice of unit-cell corners.
pub struct Lattice {
    pub nx: u32,
    pub ny: u32,
    xy: Vec<(f64, f64)>,
}

impl Lattice {
    pub fn new(cfg: &FixtureConfig) -> Self {
        let (nx, ny) = cfg.size();
        let mut rng = Rng::new(cfg.seed.wrapping_mul(31).wrapping_add(1));
        let mut xy = Vec::with_capacity(((nx + 1) * (ny + 1)) as usize);
        for j in 0..=ny {
            for i in 0..=nx {
                let (jx, jy) = (rng.f64() - 0.5, rng.f64() - 0.5);
                xy.push((
                    cfg.origin.0 + (f64::from(i) + jx * cfg.jitter) * cfg.cell.0,
                    cfg.origin.1 + (f64::from(j) + jy * cfg.jitter) * cfg.cell.1,
                ));
            }
        }
        Lattice { nx, ny, xy }
    }

    pub fn at(&self, i: u32, j: u32) -> (f64, f64) {
        self.xy[(j * (self.nx + 1) + i) as usize]
    }

    /// The counter-clockwise outline of the cells `[i0, i1) × [j0, j1)`,
    /// through every lattice vertex on it.
    pub fn block(&self, i0: u32, j0: u32, i1: u32, j1: u32) -> MultiPolygon<f64> {
        let mut ring = Vec::new();
        for i in i0..i1 {
            ring.push(self.at(i, j0));
        }
        for j in j0..j1 {
            ring.push(self.at(i1, j));
        }
        for i in (i0 + 1..=i1).rev() {
            ring.push(self.at(i, j1));
        }
        for j in (j0 + 1..=j1).rev() {
            ring.push(self.at(i0, j));
        }
        let ls: LineString<f64> = ring.into_iter().map(|(x, y)| Coord { x, y }).collect();
        MultiPolygon(vec![Polygon::new(ls, vec![])])
    }

    /// A point inside cell `(i, j)` at bilinear position `(s, t)` in (0, 1)².
    pub fn inside(&self, i: u32, j: u32, s: f64, t: f64) -> (f64, f64) {
        let (a, b, c, d) = (
            self.at(i, j),
            self.at(i + 1, j),
            self.at(i + 1, j + 1),
            self.at(i, j + 1),
        );
        let x =
            (1.0 - s) * (1.0 - t) * a.0 + s * (1.0 - t) * b.0 + s * t * c.0 + (1.0 - s) * t * d.0;
        let y =
            (1.0 - s) * (1.0 - t) * a.1 + s * (1.0 - t) * b.1 + s * t * c.1 + (1.0 - s) * t * d.1;
        (x, y)
    }
}

/// Builds the city and returns it with, for every lattice cell `(i, j)`,
/// the id of its unit (row-major, `j * nx + i`).
pub fn build(cfg: &FixtureConfig) -> (CityData, Vec<AreaId>) {
    let lat = Lattice::new(cfg);
    let (nx, ny) = (lat.nx, lat.ny);
    // Cells per area along x and y at each level, districts first.
    let mut span = [(0u32, 0u32); 5];
    span[4] = (1, 1);
    for k in (0..4).rev() {
        let f = cfg.factors[k];
        span[k] = (span[k + 1].0 * f.0, span[k + 1].1 * f.1);
    }
    let mut areas = Vec::new();
    let mut unit_of_cell = vec![AreaId::new(350_301).unwrap(); (nx * ny) as usize];
    // Walk blocks level by level; an area's id is its parent's id and its ordinal.
    let mut stack: Vec<(Level, u32, u32, AreaId)> = Vec::new();
    for dj in 0..cfg.districts.1 {
        for di in 0..cfg.districts.0 {
            let id = AreaId::new(350_301 + u64::from(dj * cfg.districts.0 + di)).unwrap();
            stack.push((Level::District, di * span[0].0, dj * span[0].1, id));
        }
    }
    while let Some((level, i0, j0, id)) = stack.pop() {
        let d = level.depth();
        let (w, h) = span[d];
        let leader = level.has_leader().then(|| format!("Leader of {id}"));
        areas.push(Area {
            id,
            level,
            name: format!("{} {}", level.as_str(), id.get() % 1000),
            parent: id.parent(),
            leader,
            geometry: lat.block(i0, j0, i0 + w, j0 + h),
        });
        match level.child() {
            Some(child) => {
                let (fx, fy) = cfg.factors[d];
                let (cw, ch) = span[d + 1];
                for b in 0..fy {
                    for a in 0..fx {
                        let n = b * fx + a + 1;
                        stack.push((child, i0 + a * cw, j0 + b * ch, AreaId::child_of(id, n)));
                    }
                }
            }
            None => unit_of_cell[(j0 * nx + i0) as usize] = id,
        }
    }
    let tree = AreaTree::from_areas(areas);
    let mut rng = Rng::new(cfg.seed);
    let mut data = CityData {
        areas: tree,
        ..Default::default()
    };
    let place = |rng: &mut Rng| -> (f64, f64, AreaId) { point(&lat, &unit_of_cell, cfg, rng) };

    let mut previous: Vec<(f64, f64, AreaId)> = Vec::new();
    for k in 0..cfg.events {
        // Some places keep being reported: reuse an earlier event's spot.
        let (lon, lat_, unit) = if !previous.is_empty() && rng.below(10) == 0 {
            previous[rng.below(previous.len().min(50) as u64) as usize]
        } else {
            place(&mut rng)
        };
        if previous.len() < 50 {
            previous.push((lon, lat_, unit));
        }
        let category = EventCategory::ALL[rng.below(EventCategory::ALL.len() as u64) as usize];
        let status = EventStatus::ALL[rng.below(EventStatus::ALL.len() as u64) as usize];
        let reported_at = cfg.t0 + (rng.below((cfg.span / 3600).max(1) as u64) as i64) * 3600;
        let closed_at = (status == EventStatus::Closed)
            .then(|| reported_at + 3600 + rng.below(86_400 * 30) as i64);
        data.events.push(Event {
            id: 1_000_000 + (k as u64) * 3 + rng.below(3),
            lon,
            lat: lat_,
            category,
            status,
            reported_at,
            closed_at,
            // Open events entered their status some hours after the report.
            status_at: closed_at.unwrap_or(reported_at + rng.below(86_400 * 6) as i64),
            unit,
        });
    }
    for k in 0..cfg.ships {
        let (lon, lat_, _) = place(&mut rng);
        data.ships.push(Ship {
            mmsi: 412_000_000 + k as u32 * 7,
            name: format!("Min Pu Yu {k}"),
            home_port: "Nanri".into(),
            lon,
            lat: lat_,
            speed_kn: (rng.f64() * 12.0) as f32,
            heading_deg: (rng.f64() * 360.0) as f32,
            in_port: rng.below(2) == 0,
            reported_at: cfg.t0 + rng.below(86_400) as i64,
        });
    }
    for k in 0..cfg.heritage {
        let (lon, lat_, _) = place(&mut rng);
        data.heritage.push(HeritagePoint {
            id: 500 + k as u64,
            name: format!("Temple {k}"),
            lon,
            lat: lat_,
            level: ProtectionLevel::ALL[rng.below(4) as usize],
            watch: Watch::ALL[rng.below(3) as usize],
        });
    }
    for k in 0..cfg.enterprises {
        let (lon, lat_, _) = place(&mut rng);
        data.enterprises.push(Enterprise {
            id: 70_000 + k as u64,
            name: format!("Shoe Factory {k}"),
            lon,
            lat: lat_,
            industry: "footwear".into(),
            employees: rng.below(2000) as u32,
            large: rng.below(5) == 0,
        });
    }
    for k in 0..cfg.schools {
        let (lon, lat_, _) = place(&mut rng);
        data.schools.push(School {
            id: 900 + k as u64,
            name: format!("School {k}"),
            lon,
            lat: lat_,
            kind: SchoolKind::ALL[rng.below(4) as usize],
            students: rng.below(3000) as u32,
        });
    }
    for k in 0..cfg.homesteads {
        // A small rectangle around a placed point, often across a unit edge.
        let (lon, lat_, _) = place(&mut rng);
        let (w, h) = (
            cfg.cell.0 * (0.05 + 0.2 * rng.f64()),
            cfg.cell.1 * (0.05 + 0.2 * rng.f64()),
        );
        let ring: LineString<f64> = vec![
            (lon, lat_),
            (lon + w, lat_),
            (lon + w, lat_ + h),
            (lon, lat_ + h),
        ]
        .into();
        data.homesteads.push(Homestead {
            id: 40_000 + k as u64 * 2,
            geometry: MultiPolygon(vec![Polygon::new(ring, vec![])]),
            area_m2: w * h * 1.2e10,
            status: HomesteadStatus::ALL[rng.below(3) as usize],
        });
    }
    (data, unit_of_cell)
}

/// A point for a feature and the unit a reporter would give it: mostly
/// inside a unit, some exactly on lattice vertices and shared edges (with one
/// of the touching units), some at sea, some with a wrong unit.
fn point(
    lat: &Lattice,
    unit_of_cell: &[AreaId],
    cfg: &FixtureConfig,
    rng: &mut Rng,
) -> (f64, f64, AreaId) {
    let (nx, ny) = (lat.nx, lat.ny);
    let cell = |i: u32, j: u32| unit_of_cell[(j * nx + i) as usize];
    let (i, j) = (
        rng.below(u64::from(nx)) as u32,
        rng.below(u64::from(ny)) as u32,
    );
    match rng.below(100) {
        0..=5 => {
            // A vertex of cell (i, j), given as that cell's unit.
            let (a, b) = (i + rng.below(2) as u32, j + rng.below(2) as u32);
            let (x, y) = lat.at(a, b);
            (x, y, cell(i, j))
        }
        6..=9 => {
            // Midway along the cell's bottom edge.
            let (p, q) = (lat.at(i, j), lat.at(i + 1, j));
            ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0, cell(i, j))
        }
        10..=12 => {
            // At sea, south of the lattice.
            let x = cfg.origin.0 + rng.f64() * f64::from(nx) * cfg.cell.0;
            let y = cfg.origin.1 - (1.0 + rng.f64() * 3.0) * cfg.cell.1;
            (x, y, cell(i, j))
        }
        13 => {
            // Inside one unit, filed under another.
            let (x, y) = lat.inside(i, j, 0.5, 0.5);
            (x, y, cell((i + 1) % nx, j))
        }
        _ => {
            let (x, y) = lat.inside(i, j, 0.02 + 0.96 * rng.f64(), 0.02 + 0.96 * rng.f64());
            (x, y, cell(i, j))
        }
    }
}
