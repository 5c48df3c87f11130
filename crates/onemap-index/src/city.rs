//! The [`City`]: every layer of a [`CityData`] with its indexes, built once.

use crate::feature::{Feature, Properties};
use crate::locate::{ShapeGrid, Shapes};
use crate::points::{first_duplicate, PointSet};
use crate::tree::{Tables, NONE};
use crate::IndexError;
use geo::{BoundingRect, InteriorPoint};
use geo_types::MultiPolygon;
use onemap_core::{
    Area, AreaId, AreaTree, BBox, CityData, Enterprise, Event, EventCategory, EventStatus,
    HeritagePoint, Homestead, Layer, Level, LonLat, School, Ship,
};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An R-tree entry: a box and the position of what it bounds.
pub type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// "No time": the `closed_at` of an event that is not closed.
pub(crate) const NO_TIME: i64 = i64::MIN;

/// The event-only columns, in the event layer's storage order: ascending
/// `(reported_at, id)`, so a time window is a slice.
#[derive(Debug, Default, Clone)]
pub(crate) struct EventColumns {
    pub(crate) reported_at: Vec<i64>,
    pub(crate) closed_at: Vec<i64>,
    pub(crate) category: Vec<u8>,
    pub(crate) status: Vec<u8>,
}

/// A point layer with its source records, in the same (id) order.
#[derive(Debug)]
pub(crate) struct Layered<T> {
    pub(crate) points: PointSet,
    pub(crate) items: Vec<T>,
}

/// The whole city in memory: the area tree with its tables, unit polygons for
/// point location, R-trees per layer and area level, and every point's unit
/// and H3 cell.
///
/// A `City` never changes. Changed events make a new `City`
/// ([`City::with_events`]) that shares everything but the events with the
/// old one, and changed ships likewise ([`City::with_ships`]), so readers
/// keep a consistent snapshot while the next is built.
#[derive(Debug, Clone)]
pub struct City {
    base: Arc<CityBase>,
    pub(crate) events: Arc<PointSet>,
    pub(crate) ev: Arc<EventColumns>,
    /// The ships, apart from the base like the events: positions change
    /// often ([`City::with_ships`]).
    pub(crate) ships: Arc<Layered<Ship>>,
    pub(crate) report: BuildReport,
}

/// Everything of a [`City`] but its events, built once.
#[derive(Debug)]
pub struct CityBase {
    pub(crate) areas: AreaTree,
    pub(crate) tables: Tables,
    /// Unit boundaries as flat rings (shape `i` = unit position `i`), and a
    /// grid of candidate units, for point location.
    pub(crate) units: Shapes,
    pub(crate) grid: ShapeGrid,
    /// The units' ids by position (8 bytes a unit, for point location's
    /// answer, rather than a read of the whole area).
    unit_ids: Vec<AreaId>,
    /// Per level, the bounding boxes of its areas.
    pub(crate) level_trees: [RTree<BoxEntry>; 5],
    pub(crate) level_boxes: [Vec<[f64; 4]>; 5],
    /// Per level, the areas' names, shared by every answer that names them.
    names: [Vec<Arc<str>>; 5],
    pub(crate) heritage: Layered<HeritagePoint>,
    pub(crate) enterprises: Layered<Enterprise>,
    pub(crate) schools: Layered<School>,
    /// Homesteads by id; `points` holds one interior point per homestead.
    pub(crate) homesteads: Layered<Homestead>,
    pub(crate) homestead_tree: RTree<BoxEntry>,
    pub(crate) homestead_boxes: Vec<[f64; 4]>,
}

impl std::ops::Deref for City {
    type Target = CityBase;
    fn deref(&self) -> &CityBase {
        &self.base
    }
}

/// What building found in the data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Events whose given unit did not hold them (unknown, or the point lies
    /// outside it), re-assigned by location.
    pub events_relocated: u64,
    /// Events [`City::with_events`] appended to the event point index
    /// without building it again (reported after every other event).
    pub events_appended: u64,
    /// Per point layer, features outside every unit.
    pub unassigned: BTreeMap<Layer, u64>,
    /// Cells of the point-location grid, and how many of them lie wholly
    /// inside one unit (points there are located without a polygon test).
    pub locate_cells: u64,
    pub locate_cells_in_one_unit: u64,
}

fn bbox_of(g: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    g.bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

pub(crate) fn to_bbox(b: [f64; 4]) -> BBox {
    BBox {
        min_lon: b[0],
        min_lat: b[1],
        max_lon: b[2],
        max_lat: b[3],
    }
}

/// An R-tree over `[min_lon, min_lat, max_lon, max_lat]` boxes, each entry
/// carrying its position in `boxes`.
pub fn box_tree(boxes: &[[f64; 4]]) -> RTree<BoxEntry> {
    RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                GeomWithData::new(
                    Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]),
                    i as u32,
                )
            })
            .collect(),
    )
}

fn check_point(layer: Layer, id: u64, lon: f64, lat: f64) -> Result<(), IndexError> {
    LonLat::new(lon, lat).map(|_| ()).map_err(|_| {
        IndexError::InvalidData(format!(
            "{layer} feature {id} has an invalid position ({lon}, {lat})"
        ))
    })
}

fn check_unique(layer: Layer, sorted_ids: impl IntoIterator<Item = u64>) -> Result<(), IndexError> {
    match first_duplicate(sorted_ids) {
        Some(id) => Err(IndexError::InvalidData(format!(
            "{layer} id {id} appears more than once"
        ))),
        None => Ok(()),
    }
}

/// Locates points among the units.
struct Locator<'a> {
    units: &'a Shapes,
    grid: &'a ShapeGrid,
}

impl Locator<'_> {
    fn locate(&self, lon: f64, lat: f64) -> u32 {
        self.grid.locate(self.units, lon, lat)
    }
}

impl City {
    /// Indexes a city. Fails on data that breaks the model: an area whose
    /// parent or id does not fit the tree, an empty boundary, a point with an
    /// invalid position, or a duplicated id within a layer.
    pub fn build(data: CityData) -> Result<City, IndexError> {
        let CityData {
            areas,
            events,
            ships,
            heritage,
            homesteads,
            enterprises,
            schools,
        } = data;
        let areas = compact(areas);
        let tables = Tables::build(&areas)?;
        let mut level_boxes: [Vec<[f64; 4]>; 5] = Default::default();
        for level in Level::ALL {
            level_boxes[level.depth()] = areas
                .level(level)
                .par_iter()
                .map(|a| {
                    bbox_of(&a.geometry).ok_or_else(|| {
                        IndexError::InvalidData(format!("{level} {} has an empty boundary", a.id))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        let names = Level::ALL.map(|l| {
            areas
                .level(l)
                .iter()
                .map(|a| Arc::from(a.name.as_str()))
                .collect()
        });
        let units = Shapes::new(areas.level(Level::Unit).iter().map(|a| &a.geometry));
        let grid = ShapeGrid::build(&units, 4.0);
        let loc = Locator {
            units: &units,
            grid: &grid,
        };
        let n_units = units.len();
        let ((level_trees, events), (small, homes)) = rayon::join(
            || {
                rayon::join(
                    || level_boxes.each_ref().map(|b| box_tree(b)),
                    || build_events(events, &areas, &loc, n_units),
                )
            },
            || {
                rayon::join(
                    || {
                        let ships = point_layer(
                            Layer::Ships,
                            ships,
                            |s| (u64::from(s.mmsi), s.lon, s.lat),
                            &loc,
                            n_units,
                        );
                        let heritage = point_layer(
                            Layer::Heritage,
                            heritage,
                            |h| (h.id, h.lon, h.lat),
                            &loc,
                            n_units,
                        );
                        let enterprises = point_layer(
                            Layer::Enterprises,
                            enterprises,
                            |e| (e.id, e.lon, e.lat),
                            &loc,
                            n_units,
                        );
                        let schools = point_layer(
                            Layer::Schools,
                            schools,
                            |s| (s.id, s.lon, s.lat),
                            &loc,
                            n_units,
                        );
                        Ok::<_, IndexError>((ships?, heritage?, enterprises?, schools?))
                    },
                    || build_homesteads(homesteads, &loc, n_units),
                )
            },
        );
        let (events, ev, events_relocated) = events?;
        let (ships, heritage, enterprises, schools) = small?;
        let (homesteads, homestead_boxes) = homes?;
        let homestead_tree = box_tree(&homestead_boxes);
        let (locate_cells, locate_cells_in_one_unit) = grid.cell_counts();
        let mut report = BuildReport {
            events_relocated,
            events_appended: 0,
            unassigned: BTreeMap::new(),
            locate_cells,
            locate_cells_in_one_unit,
        };
        for (layer, ps) in [
            (Layer::Events, &events),
            (Layer::Ships, &ships.points),
            (Layer::Heritage, &heritage.points),
            (Layer::Homesteads, &homesteads.points),
            (Layer::Enterprises, &enterprises.points),
            (Layer::Schools, &schools.points),
        ] {
            let outside = ps.len() - ps.unit_start[n_units] as usize;
            report.unassigned.insert(layer, outside as u64);
        }
        let unit_ids = areas.level(Level::Unit).iter().map(|a| a.id).collect();
        Ok(City {
            base: Arc::new(CityBase {
                areas,
                tables,
                units,
                grid,
                level_trees,
                level_boxes,
                names,
                unit_ids,
                heritage,
                enterprises,
                schools,
                homesteads,
                homestead_tree,
                homestead_boxes,
            }),
            events: Arc::new(events),
            ev: Arc::new(ev),
            ships: Arc::new(ships),
            report,
        })
    }

    /// A new city whose events are this city's with `changed` applied: an
    /// event whose id is already present replaces it, any other is added
    /// (when an id comes several times, the last one counts). Everything
    /// that is not an event is shared with `self`; the event indexes are
    /// rebuilt, reusing the units and H3 cells of the events that did not
    /// change, so the result answers every query exactly as
    /// [`City::build`] over the changed data would.
    pub fn with_events(&self, changed: Vec<Event>) -> Result<City, IndexError> {
        for e in &changed {
            check_point(Layer::Events, e.id, e.lon, e.lat)?;
        }
        // The last change of each id, ordered like the storage: (reported_at, id).
        let mut last: BTreeMap<u64, Event> = BTreeMap::new();
        for e in changed {
            last.insert(e.id, e);
        }
        let mut new: Vec<Event> = last.into_values().collect();
        if let Some(city) = self.with_event_attributes(&new) {
            return Ok(city);
        }
        new.sort_unstable_by_key(|e| (e.reported_at, e.id));
        let old = &*self.events;
        let mut dropped = vec![false; old.len()];
        for e in &new {
            if let Some(p) = old.position(e.id) {
                dropped[p as usize] = true;
            }
        }
        let loc = Locator {
            units: &self.units,
            grid: &self.grid,
        };
        let assigned: Vec<(u32, bool)> = new
            .par_iter()
            .map(|e| assign_unit(e, &self.areas, &loc))
            .collect();
        if let Some(city) = self.with_reports_appended(&new, &dropped, &assigned) {
            return Ok(city);
        }
        let n = old.len() - dropped.iter().filter(|d| **d).count() + new.len();
        let (mut ids, mut lon, mut lat, mut unit, mut cell) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut ev = EventColumns {
            reported_at: Vec::with_capacity(n),
            closed_at: Vec::with_capacity(n),
            category: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
        };
        let (mut i, mut j) = (0usize, 0usize);
        while i < old.len() || j < new.len() {
            if i < old.len() && dropped[i] {
                i += 1;
                continue;
            }
            let take_old = j == new.len()
                || (i < old.len()
                    && (self.ev.reported_at[i], old.ids[i]) < (new[j].reported_at, new[j].id));
            if take_old {
                ids.push(old.ids[i]);
                lon.push(old.lon[i]);
                lat.push(old.lat[i]);
                unit.push(old.unit[i]);
                cell.push(old.cell[i]);
                ev.reported_at.push(self.ev.reported_at[i]);
                ev.closed_at.push(self.ev.closed_at[i]);
                ev.category.push(self.ev.category[i]);
                ev.status.push(self.ev.status[i]);
                i += 1;
            } else {
                let e = &new[j];
                ids.push(e.id);
                lon.push(e.lon);
                lat.push(e.lat);
                unit.push(assigned[j].0);
                cell.push(crate::h3::fine_cell(e.lon, e.lat));
                ev.reported_at.push(e.reported_at);
                ev.closed_at.push(e.closed_at.unwrap_or(NO_TIME));
                ev.category.push(e.category.code());
                ev.status.push(e.status.code());
                j += 1;
            }
        }
        let n_units = self.units.len();
        let mut report = self.report.clone();
        let ps = PointSet::build_with_cells(ids, lon, lat, unit, Some(cell), n_units);
        report.events_relocated += assigned.iter().filter(|a| a.1).count() as u64;
        report.unassigned.insert(
            Layer::Events,
            (ps.len() - ps.unit_start[n_units] as usize) as u64,
        );
        Ok(City {
            base: Arc::clone(&self.base),
            events: Arc::new(ps),
            ev: Arc::new(ev),
            ships: Arc::clone(&self.ships),
            report,
        })
    }

    /// The fast path of [`City::with_events`] for reports: new events (none
    /// replaced) after every event here in storage order, with ids above
    /// every id here, are appended to the point index (see
    /// [`PointSet::appended`]) and the columns extended, without merging.
    /// `new` is sorted by `(reported_at, id)`; `None` when that does not
    /// apply.
    fn with_reports_appended(
        &self,
        new: &[Event],
        dropped: &[bool],
        assigned: &[(u32, bool)],
    ) -> Option<City> {
        let old = &*self.events;
        let n_old = old.len();
        let first = new.first()?;
        if dropped.iter().any(|d| *d) || n_old == 0 {
            return None;
        }
        let last = n_old - 1;
        if (self.ev.reported_at[last], old.ids[last]) >= (first.reported_at, first.id) {
            return None;
        }
        let ids: Vec<u64> = new.iter().map(|e| e.id).collect();
        let lon: Vec<f64> = new.iter().map(|e| e.lon).collect();
        let lat: Vec<f64> = new.iter().map(|e| e.lat).collect();
        let unit: Vec<u32> = assigned.iter().map(|a| a.0).collect();
        let cell: Vec<h3o::CellIndex> = new
            .iter()
            .map(|e| crate::h3::fine_cell(e.lon, e.lat))
            .collect();
        let n_units = self.units.len();
        let ps = old.appended(&ids, &lon, &lat, &unit, &cell, n_units)?;
        let mut ev = EventColumns {
            reported_at: Vec::with_capacity(ps.len()),
            closed_at: Vec::with_capacity(ps.len()),
            category: Vec::with_capacity(ps.len()),
            status: Vec::with_capacity(ps.len()),
        };
        ev.reported_at.extend_from_slice(&self.ev.reported_at);
        ev.closed_at.extend_from_slice(&self.ev.closed_at);
        ev.category.extend_from_slice(&self.ev.category);
        ev.status.extend_from_slice(&self.ev.status);
        for e in new {
            ev.reported_at.push(e.reported_at);
            ev.closed_at.push(e.closed_at.unwrap_or(NO_TIME));
            ev.category.push(e.category.code());
            ev.status.push(e.status.code());
        }
        let mut report = self.report.clone();
        report.events_relocated += assigned.iter().filter(|a| a.1).count() as u64;
        report.events_appended += new.len() as u64;
        report.unassigned.insert(
            Layer::Events,
            (ps.len() - ps.unit_start[n_units] as usize) as u64,
        );
        Some(City {
            base: Arc::clone(&self.base),
            events: Arc::new(ps),
            ev: Arc::new(ev),
            ships: Arc::clone(&self.ships),
            report,
        })
    }

    /// The fast path of [`City::with_events`]: when every change is of an
    /// event already here, at the same place and report time (a move along
    /// the loop), the points, their units, cells and order stay as they
    /// are: only the attribute columns are copied and changed, and the
    /// point index is shared. `None` when a change needs the full rebuild.
    fn with_event_attributes(&self, changed: &[Event]) -> Option<City> {
        let old = &*self.events;
        let mut at = Vec::with_capacity(changed.len());
        for e in changed {
            let p = old.position(e.id)? as usize;
            let same = old.lon[p].to_bits() == e.lon.to_bits()
                && old.lat[p].to_bits() == e.lat.to_bits()
                && self.ev.reported_at[p] == e.reported_at;
            if !same {
                return None;
            }
            // Its unit as the full rebuild would assign it.
            let loc = Locator {
                units: &self.units,
                grid: &self.grid,
            };
            if assign_unit(e, &self.areas, &loc) != (old.unit[p], false) {
                return None;
            }
            at.push(p);
        }
        let mut ev = (*self.ev).clone();
        for (e, p) in changed.iter().zip(at) {
            ev.closed_at[p] = e.closed_at.unwrap_or(NO_TIME);
            ev.category[p] = e.category.code();
            ev.status[p] = e.status.code();
        }
        Some(City {
            base: Arc::clone(&self.base),
            events: Arc::clone(&self.events),
            ev: Arc::new(ev),
            ships: Arc::clone(&self.ships),
            report: self.report.clone(),
        })
    }

    /// A new city whose ships are this city's with `changed` applied: a ship
    /// whose MMSI is already present replaces it (its position, speed,
    /// heading, port state), any other is added (when an MMSI comes several
    /// times, the last one counts). Everything else is shared with `self`;
    /// the ship layer is rebuilt (a few hundred points), so the result
    /// answers every query exactly as [`City::build`] over the changed data.
    pub fn with_ships(&self, changed: Vec<Ship>) -> Result<City, IndexError> {
        for s in &changed {
            check_point(Layer::Ships, u64::from(s.mmsi), s.lon, s.lat)?;
        }
        let mut all: BTreeMap<u32, Ship> = self
            .ships
            .items
            .iter()
            .map(|s| (s.mmsi, s.clone()))
            .collect();
        for s in changed {
            all.insert(s.mmsi, s);
        }
        let loc = Locator {
            units: &self.units,
            grid: &self.grid,
        };
        let n_units = self.units.len();
        let ships = point_layer(
            Layer::Ships,
            all.into_values().collect(),
            |s| (u64::from(s.mmsi), s.lon, s.lat),
            &loc,
            n_units,
        )?;
        let mut report = self.report.clone();
        report.unassigned.insert(
            Layer::Ships,
            (ships.points.len() - ships.points.unit_start[n_units] as usize) as u64,
        );
        Ok(City {
            base: Arc::clone(&self.base),
            events: Arc::clone(&self.events),
            ev: Arc::clone(&self.ev),
            ships: Arc::new(ships),
            report,
        })
    }

    /// Whether two snapshots hold the very same events (neither was made
    /// from the other by [`City::with_events`]).
    pub fn same_events(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.events, &other.events) && Arc::ptr_eq(&self.ev, &other.ev)
    }

    /// When this snapshot's events are `earlier`'s with new points appended
    /// after its last position (a report; see [`City::with_events`]), how
    /// many points `earlier` had: positions below that hold the same points
    /// in both. `None` otherwise.
    pub fn events_appended_to(&self, earlier: &City) -> Option<usize> {
        let (a, b) = (&*self.events, &*earlier.events);
        let n = b.len();
        (Arc::ptr_eq(&a.tree, &b.tree) && a.len() > n && a.ids[..n] == b.ids[..]).then_some(n)
    }

    /// Whether two snapshots share one event point index (one was made
    /// from the other by moves along the loop only; see
    /// [`City::with_events`]).
    pub fn same_event_points(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.events, &other.events)
    }

    /// Whether two snapshots hold the very same ships (neither was made
    /// from the other by [`City::with_ships`]).
    pub fn same_ships(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.ships, &other.ships)
    }

    /// Whether two cities share everything but their events and ships (one
    /// was made from the other with [`City::with_events`] or
    /// [`City::with_ships`]).
    pub fn shares_base_with(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.base, &other.base)
    }

    /// The area tree the city was built from.
    pub fn areas(&self) -> &AreaTree {
        &self.areas
    }

    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// Number of features in a layer.
    pub fn len(&self, layer: Layer) -> usize {
        match layer.area_level() {
            Some(level) => self.areas.level(level).len(),
            None => self.point_set(layer).map_or(0, PointSet::len),
        }
    }

    /// The unit an event was assigned to (None if outside every unit or unknown).
    pub fn event_unit(&self, id: u64) -> Option<AreaId> {
        let p = self.events.position(id)?;
        self.unit_id(self.events.unit[p as usize])
    }

    /// A feature of any layer by id (an area's code for area layers).
    pub fn feature(&self, layer: Layer, id: u64) -> Option<Feature> {
        if let Some(level) = layer.area_level() {
            let area = AreaId::new(id).ok()?;
            return match self.areas.position(area)? {
                (l, pos) if l == level => Some(self.area_feature(level, pos)),
                _ => None,
            };
        }
        let pos = self.point_set(layer)?.position(id)?;
        Some(self.point_feature(layer, pos))
    }

    /// A homestead by id, with its boundary.
    pub fn homestead(&self, id: u64) -> Option<&Homestead> {
        let p = self.homesteads.points.position(id)?;
        self.homesteads.items.get(p as usize)
    }

    pub(crate) fn point_set(&self, layer: Layer) -> Option<&PointSet> {
        match layer {
            Layer::Events => Some(&*self.events),
            Layer::Ships => Some(&self.ships.points),
            Layer::Heritage => Some(&self.heritage.points),
            Layer::Enterprises => Some(&self.enterprises.points),
            Layer::Schools => Some(&self.schools.points),
            Layer::Homesteads => Some(&self.homesteads.points),
            _ => None,
        }
    }

    pub(crate) fn unit_id(&self, unit: u32) -> Option<AreaId> {
        (unit != NONE).then(|| self.unit_ids[unit as usize])
    }

    pub(crate) fn name(&self, level: Level, pos: u32) -> Arc<str> {
        Arc::clone(&self.names[level.depth()][pos as usize])
    }

    pub(crate) fn area_at(&self, level: Level, pos: u32) -> &Area {
        &self.areas.level(level)[pos as usize]
    }

    /// The level and position of an area id, or `UnknownArea`.
    pub(crate) fn resolve(&self, id: AreaId) -> Result<(Level, u32), IndexError> {
        self.areas.position(id).ok_or(IndexError::UnknownArea(id))
    }

    /// The unit position holding a valid point, or `NONE`.
    #[inline]
    pub(crate) fn locate_pos(&self, lon: f64, lat: f64) -> u32 {
        self.grid.locate(&self.units, lon, lat)
    }

    /// The feature at position `pos` of a point layer (or homestead).
    pub(crate) fn point_feature(&self, layer: Layer, pos: u32) -> Feature {
        let ps = self.point_set(layer).expect("a point layer");
        let p = pos as usize;
        let properties = match layer {
            Layer::Events => Properties::Event {
                category: EventCategory::from_code(self.ev.category[p]).expect("stored code"),
                status: EventStatus::from_code(self.ev.status[p]).expect("stored code"),
                reported_at: self.ev.reported_at[p],
                closed_at: (self.ev.closed_at[p] != NO_TIME).then_some(self.ev.closed_at[p]),
            },
            Layer::Ships => {
                let s = &self.ships.items[p];
                Properties::Ship {
                    name: s.name.clone(),
                    home_port: s.home_port.clone(),
                    speed_kn: s.speed_kn,
                    heading_deg: s.heading_deg,
                    in_port: s.in_port,
                    reported_at: s.reported_at,
                }
            }
            Layer::Heritage => {
                let h = &self.heritage.items[p];
                Properties::Heritage {
                    name: h.name.clone(),
                    level: h.level,
                    watch: h.watch,
                }
            }
            Layer::Enterprises => {
                let e = &self.enterprises.items[p];
                Properties::Enterprise {
                    name: e.name.clone(),
                    industry: e.industry.clone(),
                    employees: e.employees,
                    large: e.large,
                }
            }
            Layer::Schools => {
                let s = &self.schools.items[p];
                Properties::School {
                    name: s.name.clone(),
                    kind: s.kind,
                    students: s.students,
                }
            }
            Layer::Homesteads => {
                let h = &self.homesteads.items[p];
                Properties::Homestead {
                    area_m2: h.area_m2,
                    status: h.status,
                    bbox: to_bbox(self.homestead_boxes[p]),
                }
            }
            _ => unreachable!("not a point layer"),
        };
        Feature {
            layer,
            id: ps.ids[p],
            lon: ps.lon[p],
            lat: ps.lat[p],
            unit: self.unit_id(ps.unit[p]),
            cell: Some(ps.cell[p].to_string()),
            properties,
        }
    }

    /// The feature of an area.
    pub(crate) fn area_feature(&self, level: Level, pos: u32) -> Feature {
        let a = self.area_at(level, pos);
        let b = self.level_boxes[level.depth()][pos as usize];
        let (lon, lat) = a
            .geometry
            .interior_point()
            .map_or(((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0), |p| {
                (p.x(), p.y())
            });
        Feature {
            layer: Layer::for_level(level),
            id: a.id.get(),
            lon,
            lat,
            unit: None,
            cell: None,
            properties: Properties::Area {
                level,
                name: a.name.clone(),
                parent: a.parent,
                leader: a.leader.clone(),
                bbox: to_bbox(b),
            },
        }
    }
}

/// The tree again with every boundary re-allocated to its length, when the
/// given vectors hold much more than they use (as a generator that grew them
/// by pushing leaves them): the city keeps its boundaries for good.
fn compact(areas: AreaTree) -> AreaTree {
    let (mut used, mut held) = (0usize, 0usize);
    for a in areas.iter() {
        for p in &a.geometry.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                used += r.0.len();
                held += r.0.capacity();
            }
        }
    }
    if held <= used + used / 8 {
        return areas;
    }
    // Cloning allocates exactly what is used.
    let copies: Vec<Vec<Area>> = Level::ALL
        .par_iter()
        .map(|&l| areas.level(l).par_iter().cloned().collect())
        .collect();
    drop(areas);
    AreaTree::from_areas(copies.into_iter().flatten())
}

/// Sorts events by `(reported_at, id)`, checks them, assigns units and lays
/// them out as columns. Returns the layer, its event columns and how many
/// events were re-assigned.
fn build_events(
    events: Vec<Event>,
    areas: &AreaTree,
    loc: &Locator<'_>,
    n_units: usize,
) -> Result<(PointSet, EventColumns, u64), IndexError> {
    events
        .par_iter()
        .try_for_each(|e| check_point(Layer::Events, e.id, e.lon, e.lat))?;
    // Sort small keys rather than the events themselves, then gather.
    let mut order: Vec<(i64, u64, u32)> = events
        .par_iter()
        .enumerate()
        .map(|(i, e)| (e.reported_at, e.id, i as u32))
        .collect();
    order.par_sort_unstable();
    let assigned: Vec<(u32, bool)> = order
        .par_iter()
        .map(|&(_, _, i)| assign_unit(&events[i as usize], areas, loc))
        .collect();
    let relocated = assigned.iter().filter(|a| a.1).count() as u64;
    let unit: Vec<u32> = assigned.into_iter().map(|a| a.0).collect();
    let mut ev = EventColumns::default();
    let n = events.len();
    let (mut ids, mut lon, mut lat) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    ev.reported_at.reserve_exact(n);
    ev.closed_at.reserve_exact(n);
    ev.category.reserve_exact(n);
    ev.status.reserve_exact(n);
    for &(_, _, i) in &order {
        let e = &events[i as usize];
        ids.push(e.id);
        lon.push(e.lon);
        lat.push(e.lat);
        ev.reported_at.push(e.reported_at);
        ev.closed_at.push(e.closed_at.unwrap_or(NO_TIME));
        ev.category.push(e.category.code());
        ev.status.push(e.status.code());
    }
    drop(events);
    let ps = PointSet::build(ids, lon, lat, unit, n_units);
    check_unique(Layer::Events, ps.by_id.iter().map(|&p| ps.ids[p as usize]))?;
    Ok((ps, ev, relocated))
}

/// An event's unit position, and whether it differs from the one it names:
/// the reporter's unit stands when it holds the point, even on a boundary
/// shared with a unit of smaller id; otherwise the point is located.
fn assign_unit(e: &Event, areas: &AreaTree, loc: &Locator<'_>) -> (u32, bool) {
    match areas.position(e.unit) {
        Some((Level::Unit, u)) if loc.units.contains(u, e.lon, e.lat) => (u, false),
        _ => (loc.locate(e.lon, e.lat), true),
    }
}

fn point_layer<T: Send + Sync>(
    layer: Layer,
    mut items: Vec<T>,
    key: impl Fn(&T) -> (u64, f64, f64) + Sync,
    loc: &Locator<'_>,
    n_units: usize,
) -> Result<Layered<T>, IndexError> {
    items.par_sort_unstable_by_key(|t| key(t).0);
    check_unique(layer, items.iter().map(|t| key(t).0))?;
    let mut ids = Vec::with_capacity(items.len());
    let mut lon = Vec::with_capacity(items.len());
    let mut lat = Vec::with_capacity(items.len());
    for t in &items {
        let (id, x, y) = key(t);
        check_point(layer, id, x, y)?;
        ids.push(id);
        lon.push(x);
        lat.push(y);
    }
    let unit = lon
        .par_iter()
        .zip(lat.par_iter())
        .map(|(&x, &y)| loc.locate(x, y))
        .collect();
    Ok(Layered {
        points: PointSet::build(ids, lon, lat, unit, n_units),
        items,
    })
}

/// Homesteads by id, anchored at an interior point of their boundary.
fn build_homesteads(
    mut items: Vec<Homestead>,
    loc: &Locator<'_>,
    n_units: usize,
) -> Result<(Layered<Homestead>, Vec<[f64; 4]>), IndexError> {
    items.par_sort_unstable_by_key(|h| h.id);
    check_unique(Layer::Homesteads, items.iter().map(|h| h.id))?;
    let anchors: Vec<([f64; 4], f64, f64)> = items
        .par_iter()
        .map(|h| {
            let empty =
                || IndexError::InvalidData(format!("homestead {} has an empty boundary", h.id));
            let b = bbox_of(&h.geometry).ok_or_else(empty)?;
            let p = h.geometry.interior_point().ok_or_else(empty)?;
            check_point(Layer::Homesteads, h.id, b[0], b[1])?;
            check_point(Layer::Homesteads, h.id, b[2], b[3])?;
            Ok((b, p.x(), p.y()))
        })
        .collect::<Result<_, IndexError>>()?;
    let boxes = anchors.iter().map(|a| a.0).collect();
    let ids = items.iter().map(|h| h.id).collect();
    let lon: Vec<f64> = anchors.iter().map(|a| a.1).collect();
    let lat: Vec<f64> = anchors.iter().map(|a| a.2).collect();
    let unit = lon
        .par_iter()
        .zip(lat.par_iter())
        .map(|(&x, &y)| loc.locate(x, y))
        .collect();
    Ok((
        Layered {
            points: PointSet::build(ids, lon, lat, unit, n_units),
            items,
        },
        boxes,
    ))
}
