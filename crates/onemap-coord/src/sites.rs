//! Where the enterprises and schools are: each placed in its town and
//! district by its position (the layers carry only a point), and the areas
//! the figures can be asked for.

use crate::CoordError;
use onemap_core::{AreaId, CityData, Level, SchoolKind};
use serde::{Deserialize, Serialize};

/// A town (镇街) and its district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TownInfo {
    pub id: AreaId,
    pub name: String,
    pub district: AreaId,
}

/// An enterprise in its town.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseSite {
    pub id: u64,
    pub name: String,
    pub industry: String,
    pub employees: u32,
    /// A large enterprise (规上企业).
    pub large: bool,
    pub town: AreaId,
    pub district: AreaId,
}

/// A school in its town.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolSite {
    pub id: u64,
    pub name: String,
    pub kind: SchoolKind,
    pub students: u32,
    pub town: AreaId,
    pub district: AreaId,
}

/// The enterprises and schools of a city, placed in their towns, with the
/// names of the districts and towns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sites {
    pub districts: Vec<(AreaId, String)>,
    pub towns: Vec<TownInfo>,
    /// Ascending by id.
    pub enterprises: Vec<EnterpriseSite>,
    /// Ascending by id.
    pub schools: Vec<SchoolSite>,
    /// Features whose point lies in no town (left out).
    pub unplaced: usize,
}

/// What the figures are for: the whole city, a district or a town.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "id", rename_all = "snake_case")]
pub enum Scope {
    City,
    District(AreaId),
    Town(AreaId),
}

impl Scope {
    /// Whether a site of `town` in `district` is in scope.
    pub fn holds(&self, town: AreaId, district: AreaId) -> bool {
        match *self {
            Scope::City => true,
            Scope::District(d) => d == district,
            Scope::Town(t) => t == town,
        }
    }
}

/// A town's outline, flattened for point-in-polygon tests.
struct Outline {
    town: usize,
    bbox: [f64; 4],
    /// Rings (outer and holes alike: even-odd rule).
    rings: Vec<Vec<(f64, f64)>>,
}

impl Outline {
    fn contains(&self, x: f64, y: f64) -> bool {
        let [x0, y0, x1, y1] = self.bbox;
        if x < x0 || x > x1 || y < y0 || y > y1 {
            return false;
        }
        let mut inside = false;
        for ring in &self.rings {
            let n = ring.len();
            for i in 0..n {
                let (xi, yi) = ring[i];
                let (xj, yj) = ring[(i + n - 1) % n];
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

impl Sites {
    /// Places every enterprise and school of `city` in the town holding its
    /// point (the first town by id on a shared edge). A city without towns
    /// is an error; a point in no town is counted in `unplaced`.
    pub fn from_city(city: &CityData) -> Result<Sites, CoordError> {
        let districts: Vec<(AreaId, String)> = city
            .areas
            .level(Level::District)
            .iter()
            .map(|a| (a.id, a.name.clone()))
            .collect();
        let towns: Vec<TownInfo> = city
            .areas
            .level(Level::Town)
            .iter()
            .map(|a| TownInfo {
                id: a.id,
                name: a.name.clone(),
                district: a
                    .parent
                    .or_else(|| a.id.ancestor_at(Level::District))
                    .unwrap_or(a.id),
            })
            .collect();
        if towns.is_empty() {
            return Err(CoordError::NoTowns);
        }
        let outlines: Vec<Outline> = city
            .areas
            .level(Level::Town)
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut rings = Vec::new();
                for p in &a.geometry.0 {
                    rings.push(
                        p.exterior()
                            .0
                            .iter()
                            .map(|c| (c.x, c.y))
                            .collect::<Vec<_>>(),
                    );
                    for hole in p.interiors() {
                        rings.push(hole.0.iter().map(|c| (c.x, c.y)).collect());
                    }
                }
                let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
                for &(x, y) in rings.iter().flatten() {
                    bbox = [
                        bbox[0].min(x),
                        bbox[1].min(y),
                        bbox[2].max(x),
                        bbox[3].max(y),
                    ];
                }
                Outline {
                    town: i,
                    bbox,
                    rings,
                }
            })
            .collect();
        let place = |lon: f64, lat: f64| {
            outlines
                .iter()
                .find(|o| o.contains(lon, lat))
                .map(|o| (towns[o.town].id, towns[o.town].district))
        };
        let mut unplaced = 0;
        let mut enterprises = Vec::with_capacity(city.enterprises.len());
        for e in &city.enterprises {
            match place(e.lon, e.lat) {
                Some((town, district)) => enterprises.push(EnterpriseSite {
                    id: e.id,
                    name: e.name.clone(),
                    industry: e.industry.clone(),
                    employees: e.employees,
                    large: e.large,
                    town,
                    district,
                }),
                None => unplaced += 1,
            }
        }
        let mut schools = Vec::with_capacity(city.schools.len());
        for s in &city.schools {
            match place(s.lon, s.lat) {
                Some((town, district)) => schools.push(SchoolSite {
                    id: s.id,
                    name: s.name.clone(),
                    kind: s.kind,
                    students: s.students,
                    town,
                    district,
                }),
                None => unplaced += 1,
            }
        }
        enterprises.sort_by_key(|e| e.id);
        schools.sort_by_key(|s| s.id);
        Ok(Sites {
            districts,
            towns,
            enterprises,
            schools,
            unplaced,
        })
    }

    /// The scope named by `text`: `city` (or 全市), a district or town id,
    /// or a district or town's Chinese name.
    pub fn scope(&self, text: &str) -> Result<Scope, CoordError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("city") || t == "全市" {
            return Ok(Scope::City);
        }
        if let Ok(id) = t.parse::<AreaId>() {
            if self.districts.iter().any(|(d, _)| *d == id) {
                return Ok(Scope::District(id));
            }
            if self.towns.iter().any(|x| x.id == id) {
                return Ok(Scope::Town(id));
            }
            return match id.level() {
                Some(Level::District | Level::Town) => Err(CoordError::UnknownArea(t.to_string())),
                _ => Err(CoordError::NotDistrictOrTown(id.get())),
            };
        }
        if let Some(x) = self.towns.iter().find(|x| x.name == t) {
            return Ok(Scope::Town(x.id));
        }
        if let Some((d, _)) = self.districts.iter().find(|(_, n)| n == t) {
            return Ok(Scope::District(*d));
        }
        Err(CoordError::UnknownArea(t.chars().take(40).collect()))
    }

    /// The town called `name` (西天尾镇).
    pub fn town_named(&self, name: &str) -> Option<&TownInfo> {
        self.towns.iter().find(|t| t.name == name)
    }

    /// The Chinese name of a district or town (its id when unknown).
    pub fn area_name(&self, id: AreaId) -> String {
        self.districts
            .iter()
            .find(|(d, _)| *d == id)
            .map(|(_, n)| n.clone())
            .or_else(|| {
                self.towns
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.name.clone())
            })
            .unwrap_or_else(|| id.to_string())
    }

    /// The scope's name: 全市, a district's or a town's (with its district).
    pub fn scope_name(&self, scope: Scope) -> String {
        match scope {
            Scope::City => "全市".to_string(),
            Scope::District(d) => self.area_name(d),
            Scope::Town(t) => {
                let district = self.towns.iter().find(|x| x.id == t).map(|x| x.district);
                match district {
                    Some(d) => format!("{}{}", self.area_name(d), self.area_name(t)),
                    None => self.area_name(t),
                }
            }
        }
    }

    /// A department's name, 荔城区市场监督管理局.
    pub fn department_name(&self, d: crate::Department) -> String {
        format!("{}{}", self.area_name(d.district), d.kind.zh())
    }

    pub fn enterprise(&self, id: u64) -> Option<&EnterpriseSite> {
        self.enterprises
            .binary_search_by_key(&id, |e| e.id)
            .ok()
            .map(|i| &self.enterprises[i])
    }

    pub fn school(&self, id: u64) -> Option<&SchoolSite> {
        self.schools
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.schools[i])
    }

    /// The town and district of a target, if it is in the city.
    pub fn place_of(&self, target: crate::Target) -> Option<(AreaId, AreaId)> {
        match target {
            crate::Target::Enterprise(id) => self.enterprise(id).map(|e| (e.town, e.district)),
            crate::Target::School(id) => self.school(id).map(|s| (s.town, s.district)),
        }
    }
}
