//! The city's layers of places — enterprises, schools, heritage sites and
//! idle homesteads — as ledgers of the one table: each feature placed in
//! the unit that holds it (a homestead by a point inside its plot), its
//! rows kept with that unit's village like every other ledger's.

use crate::generate::children;
use crate::table::Value;
use crate::Ledger;
use geo::{BoundingRect, Contains, InteriorPoint};
use geo_types::{Point, Rect};
use onemap_core::{AreaId, AreaTree, Enterprise, HeritagePoint, Homestead, Level, School};
use std::collections::HashMap;

/// One row of a place ledger.
pub type Row = Vec<(&'static str, Value)>;

/// The places of a city by village, each with its ledger and row, in
/// feature id order; and those that lie in no unit.
#[derive(Debug, Default)]
pub struct Places {
    by_village: HashMap<AreaId, Vec<(Ledger, Row)>>,
    /// (ledger, feature id) of places in no unit of the city: left out.
    pub outside: Vec<(Ledger, u64)>,
}

/// The layers a [`Places`] is made of.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layers<'a> {
    pub enterprises: &'a [Enterprise],
    pub schools: &'a [School],
    pub heritage: &'a [HeritagePoint],
    pub homesteads: &'a [Homestead],
}

/// Finds the unit that holds a point: a village whose box and polygon hold
/// it, then one of its units.
struct Locator<'a> {
    areas: &'a AreaTree,
    boxes: Vec<(Rect<f64>, usize)>,
}

impl<'a> Locator<'a> {
    fn new(areas: &'a AreaTree) -> Locator<'a> {
        let boxes = areas
            .level(Level::Village)
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.geometry.bounding_rect().map(|r| (r, i)))
            .collect();
        Locator { areas, boxes }
    }

    fn unit(&self, p: Point<f64>) -> Option<(AreaId, AreaId)> {
        let villages = self.areas.level(Level::Village);
        for (r, i) in &self.boxes {
            let (min, max) = (r.min(), r.max());
            if p.x() < min.x || p.x() > max.x || p.y() < min.y || p.y() > max.y {
                continue;
            }
            let v = &villages[*i];
            if !v.geometry.contains(&p) {
                continue;
            }
            for g in children(self.areas, v.id, Level::Grid) {
                if !g.geometry.contains(&p) {
                    continue;
                }
                if let Some(u) = children(self.areas, g.id, Level::Unit)
                    .iter()
                    .find(|u| u.geometry.contains(&p))
                {
                    return Some((v.id, u.id));
                }
            }
        }
        None
    }
}

impl Places {
    /// Places every feature of `layers` in its unit.
    pub fn locate(areas: &AreaTree, layers: Layers<'_>) -> Places {
        let at = Locator::new(areas);
        let mut out = Places::default();
        let mut put = |ledger: Ledger, id: u64, lon: f64, lat: f64, mut row: Row| match at
            .unit(Point::new(lon, lat))
        {
            Some((village, unit)) => {
                row.push(("lon", Value::F64(lon)));
                row.push(("lat", Value::F64(lat)));
                row.push(("area_id", Value::U64(unit.get())));
                out.by_village
                    .entry(village)
                    .or_default()
                    .push((ledger, row));
            }
            None => out.outside.push((ledger, id)),
        };
        for e in layers.enterprises {
            put(
                Ledger::Enterprises,
                e.id,
                e.lon,
                e.lat,
                vec![
                    ("enterprise_id", Value::U64(e.id)),
                    ("name", Value::Str(e.name.clone())),
                    ("industry", Value::Str(e.industry.clone())),
                    ("employees", Value::U64(e.employees.into())),
                    ("large", Value::Bool(e.large)),
                ],
            );
        }
        for s in layers.schools {
            put(
                Ledger::Schools,
                s.id,
                s.lon,
                s.lat,
                vec![
                    ("school_id", Value::U64(s.id)),
                    ("name", Value::Str(s.name.clone())),
                    ("kind", Value::U8(s.kind as u8 + 1)),
                    ("students", Value::U64(s.students.into())),
                ],
            );
        }
        for h in layers.heritage {
            put(
                Ledger::Heritage,
                h.id,
                h.lon,
                h.lat,
                vec![
                    ("heritage_id", Value::U64(h.id)),
                    ("name", Value::Str(h.name.clone())),
                    ("level", Value::U8(h.level as u8 + 1)),
                    ("watch", Value::U8(h.watch as u8 + 1)),
                ],
            );
        }
        for h in layers.homesteads {
            // A plot without a point inside is in no unit.
            let (x, y) = h
                .geometry
                .interior_point()
                .map_or((f64::NAN, f64::NAN), |p| (p.x(), p.y()));
            put(
                Ledger::Homesteads,
                h.id,
                x,
                y,
                vec![
                    ("homestead_id", Value::U64(h.id)),
                    ("area_m2", Value::F64(h.area_m2)),
                    ("status", Value::U8(h.status as u8 + 1)),
                ],
            );
        }
        for rows in out.by_village.values_mut() {
            rows.sort_by_key(|(l, r)| (*l, id_of(r)));
        }
        out
    }

    /// The places of a whole city's layers.
    pub fn of_city(city: &onemap_core::CityData) -> Places {
        Places::locate(
            &city.areas,
            Layers {
                enterprises: &city.enterprises,
                schools: &city.schools,
                heritage: &city.heritage,
                homesteads: &city.homesteads,
            },
        )
    }

    /// The rows of village `v`, by ledger and id.
    pub fn of(&self, v: AreaId) -> &[(Ledger, Row)] {
        self.by_village.get(&v).map_or(&[], Vec::as_slice)
    }

    /// How many places were placed in a unit.
    pub fn placed(&self) -> usize {
        self.by_village.values().map(Vec::len).sum()
    }
}

fn id_of(row: &Row) -> u64 {
    match row.first() {
        Some((_, Value::U64(id))) => *id,
        _ => 0,
    }
}
