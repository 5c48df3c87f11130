//! Building a [`City`]: checking and indexing every layer of a
//! [`CityData`] once (unit grid, R-trees, point layers located among the
//! units in parallel), and the helpers snapshots reuse to locate and check
//! changed points the same way.

use super::{box_tree, BuildReport, City, CityBase, EventColumns, Layered};
use crate::locate::{ShapeGrid, Shapes};
use crate::points::{first_duplicate, PointSet};
use crate::tree::Tables;
use crate::IndexError;
use geo::{BoundingRect, InteriorPoint};
use geo_types::MultiPolygon;
use onemap_core::{Area, AreaTree, CityData, Event, Homestead, Layer, Level, LonLat};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

fn bbox_of(g: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    g.bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

pub(super) fn check_point(layer: Layer, id: u64, lon: f64, lat: f64) -> Result<(), IndexError> {
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
pub(super) struct Locator<'a> {
    pub(super) units: &'a Shapes,
    pub(super) grid: &'a ShapeGrid,
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
    ev.status_at.reserve_exact(n);
    ev.category.reserve_exact(n);
    ev.status.reserve_exact(n);
    for &(_, _, i) in &order {
        let e = &events[i as usize];
        ids.push(e.id);
        lon.push(e.lon);
        lat.push(e.lat);
        ev.reported_at.push(e.reported_at);
        ev.status_at.push(e.status_at);
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
pub(super) fn assign_unit(e: &Event, areas: &AreaTree, loc: &Locator<'_>) -> (u32, bool) {
    match areas.position(e.unit) {
        Some((Level::Unit, u)) if loc.units.contains(u, e.lon, e.lat) => (u, false),
        _ => (loc.locate(e.lon, e.lat), true),
    }
}

pub(super) fn point_layer<T: Send + Sync>(
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
