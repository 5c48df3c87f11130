//! Features of a layer in a box, an area or a polygon, filtered and paged
//! in id order.
//!
//! Point layers pick the cheapest of three ways to find candidates: the
//! spatial index (R-tree, or the unit-grouped order for areas), the time
//! slice (events are stored by `reported_at`), or a walk of the id order that
//! stops once the page is full. All three return the same page.

use crate::city::{BoxEntry, City};
use crate::feature::{Feature, Page};
use crate::filter::{Cursor, EventFilter, EventMask, PageRequest};
use crate::locate::{Box4, ShapeGrid, Shapes};
use crate::points::PointSet;
use crate::IndexError;
use geo::{Intersects, PreparedGeometry, Relate};
use geo_types::{MultiPolygon, Polygon, Rect};
use onemap_core::{AreaId, BBox, Layer, Level, LonLat};
use rstar::{RTree, AABB};
use std::ops::Range;

/// Where candidates of a point query must lie.
pub(crate) enum Region<'a> {
    BBox([f64; 4]),
    /// Points assigned to these unit positions.
    Units(Range<u32>),
    /// Inside (or on) a query polygon.
    Polygon(&'a QueryPolygon<'a>),
}

/// A query polygon made ready for many tests: its box, a point-location
/// grid over it (the one the units are located with, so a point on its
/// boundary is inside, and a test costs about the same at 4 vertices or
/// 2,000), and geo's prepared geometry (an R-tree of its edges) for the
/// shapes it is tested against. Without them a 2,000-vertex polygon over a
/// town tested every candidate unit edge against every one of its edges.
pub(crate) struct QueryPolygon<'a> {
    pub(crate) bbox: Box4,
    shapes: Shapes,
    grid: ShapeGrid,
    prepared: PreparedGeometry<'a, &'a Polygon<f64>>,
}

impl<'a> QueryPolygon<'a> {
    /// Checks `p` (see [`prepare_polygon`]) and prepares it.
    pub(crate) fn new(p: &'a Polygon<f64>) -> Result<Self, IndexError> {
        let bbox = prepare_polygon(p)?;
        let shapes = Shapes::new(std::iter::once(&MultiPolygon(vec![p.clone()])));
        let vertices =
            p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>();
        // About one cell per vertex, at least 16 × 16.
        let grid = ShapeGrid::build(&shapes, vertices.max(256) as f64);
        Ok(QueryPolygon {
            bbox,
            shapes,
            grid,
            prepared: PreparedGeometry::from(p),
        })
    }

    /// Whether the point lies inside or on the polygon.
    #[inline]
    pub(crate) fn contains(&self, x: f64, y: f64) -> bool {
        let b = &self.bbox;
        x >= b[0]
            && x <= b[2]
            && y >= b[1]
            && y <= b[3]
            && self.grid.locate(&self.shapes, x, y) == 0
    }

    /// Whether a shape meets the polygon (shares at least a point with it).
    pub(crate) fn meets(&self, g: &MultiPolygon<f64>) -> bool {
        self.prepared.relate(g).is_intersects()
    }
}

impl Region<'_> {
    #[inline]
    pub(crate) fn holds(&self, ps: &PointSet, p: u32) -> bool {
        let i = p as usize;
        match self {
            Region::BBox(b) => {
                let (x, y) = (ps.lon[i], ps.lat[i]);
                x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]
            }
            Region::Units(r) => r.contains(&ps.unit[i]),
            Region::Polygon(q) => q.contains(ps.lon[i], ps.lat[i]),
        }
    }

    fn bbox(&self) -> Option<[f64; 4]> {
        match self {
            Region::BBox(b) => Some(*b),
            Region::Polygon(q) => Some(q.bbox),
            _ => None,
        }
    }
}

/// A point query: a region, an optional slice of storage positions (the
/// time window of events) and a test on the rest (event categories and statuses).
pub(crate) struct PointQuery<'a> {
    pub(crate) region: Region<'a>,
    pub(crate) time: Option<Range<usize>>,
    pub(crate) accept: &'a (dyn Fn(u32) -> bool + Sync),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    Region,
    Time,
    IdWalk,
}

impl PointQuery<'_> {
    #[inline]
    fn keeps(&self, ps: &PointSet, p: u32, skip_region: bool, skip_time: bool) -> bool {
        (skip_time || self.time.as_ref().is_none_or(|t| t.contains(&(p as usize))))
            && (skip_region || self.region.holds(ps, p))
            && (self.accept)(p)
    }

    /// Picks the driver expected to touch the fewest points.
    pub(crate) fn plan(&self, ps: &PointSet, limit: usize) -> Driver {
        let n = ps.len().max(1) as f64;
        let space = match &self.region {
            Region::Units(r) => ps.in_units(r.clone()).len() as f64,
            r => n * overlap_fraction(&ps.extent, &r.bbox().expect("has a box")),
        };
        let time = self.time.as_ref().map_or(n, |t| t.len() as f64);
        let collect = space.min(time);
        let matches = (space * time / n).max(1.0);
        let walk = ((limit + 1) as f64 * n / matches).min(n);
        if walk < collect {
            Driver::IdWalk
        } else if time < space {
            Driver::Time
        } else {
            Driver::Region
        }
    }

    /// The positions of up to `limit` matching points with ids after
    /// `after`, ascending by id, and whether more follow.
    pub(crate) fn run(&self, ps: &PointSet, after: Option<u64>, limit: usize) -> (Vec<u32>, bool) {
        self.run_with(ps, after, limit, self.plan(ps, limit))
    }

    pub(crate) fn run_with(
        &self,
        ps: &PointSet,
        after: Option<u64>,
        limit: usize,
        driver: Driver,
    ) -> (Vec<u32>, bool) {
        let after_ok = |p: u32| after.is_none_or(|a| ps.ids[p as usize] > a);
        let mut found: Vec<(u64, u32)> = Vec::new();
        let mut push = |p: u32| found.push((ps.ids[p as usize], p));
        match driver {
            Driver::IdWalk => {
                let mut out = Vec::with_capacity(limit.min(1024));
                for &p in &ps.by_id[ps.id_rank_after(after)..] {
                    if self.keeps(ps, p, false, false) {
                        if out.len() == limit {
                            return (out, true);
                        }
                        out.push(p);
                    }
                }
                return (out, false);
            }
            Driver::Time => {
                let t = self.time.clone().unwrap_or(0..ps.len());
                for p in t.start as u32..t.end as u32 {
                    if after_ok(p) && self.keeps(ps, p, false, true) {
                        push(p);
                    }
                }
            }
            Driver::Region => match &self.region {
                Region::Units(r) => {
                    for &p in ps.in_units(r.clone()) {
                        if after_ok(p) && self.keeps(ps, p, true, false) {
                            push(p);
                        }
                    }
                }
                region => {
                    let env = ps.envelope(&region.bbox().expect("has a box"));
                    let tree = ps.tree.locate_in_envelope(&env).map(|e| e.data);
                    for p in tree.chain(ps.tail.iter().copied()) {
                        // Tree coordinates are rounded: re-check the exact position.
                        if after_ok(p) && self.keeps(ps, p, false, false) {
                            push(p);
                        }
                    }
                }
            },
        }
        first_by_id(found, limit)
    }
}

/// The `limit` smallest `(id, pos)` pairs in order, and whether more were found.
pub(crate) fn first_by_id(mut found: Vec<(u64, u32)>, limit: usize) -> (Vec<u32>, bool) {
    let more = found.len() > limit;
    if more {
        found.select_nth_unstable(limit);
        found.truncate(limit);
    }
    found.sort_unstable();
    (found.into_iter().map(|f| f.1).collect(), more)
}

/// The share of `extent`'s area covered by `b` (1 when the extent is flat).
fn overlap_fraction(extent: &[f64; 4], b: &[f64; 4]) -> f64 {
    let (w, h) = (extent[2] - extent[0], extent[3] - extent[1]);
    if !(w > 0.0 && h > 0.0) {
        return 1.0;
    }
    let ow = (b[2].min(extent[2]) - b[0].max(extent[0])).max(0.0);
    let oh = (b[3].min(extent[3]) - b[1].max(extent[1])).max(0.0);
    (ow * oh / (w * h)).clamp(0.0, 1.0)
}

/// Where a feature query looks.
enum Within<'a> {
    BBox(BBox),
    Area(AreaId),
    Polygon(&'a QueryPolygon<'a>),
}

impl City {
    /// Features of `layer` in a box (points inside or on its edge; polygons
    /// intersecting it), filtered, one page in id order. The box may be at
    /// most [`crate::MAX_BBOX_DEGREES`] on a side.
    pub fn features_in_bbox(
        &self,
        layer: Layer,
        bbox: &BBox,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page, IndexError> {
        let bbox = BBox::new(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat)?;
        crate::filter::check_query_bbox(&bbox)?;
        self.features(layer, Within::BBox(bbox), filter, page)
    }

    /// Features of `layer` within an area: points (and homesteads, by their
    /// interior point) assigned to a unit under the area; for area layers, the
    /// areas of that level under it (or the area itself).
    pub fn features_in_area(
        &self,
        layer: Layer,
        area: AreaId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page, IndexError> {
        self.resolve(area)?;
        self.features(layer, Within::Area(area), filter, page)
    }

    /// Features of `layer` in a polygon (points inside or on its boundary;
    /// polygons intersecting it), filtered, one page in id order.
    pub fn features_in_polygon(
        &self,
        layer: Layer,
        polygon: &Polygon<f64>,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page, IndexError> {
        let q = QueryPolygon::new(polygon)?;
        self.features(layer, Within::Polygon(&q), filter, page)
    }

    fn features(
        &self,
        layer: Layer,
        scope: Within<'_>,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page, IndexError> {
        page.check()?;
        filter.window().check()?;
        if !filter.applies_to(layer) {
            return Err(IndexError::FilterNotApplicable(layer));
        }
        let after = page.after();
        let (positions, more) = match (layer.area_level(), &scope) {
            (Some(level), _) => self.area_positions(level, &scope, after, page.limit),
            (None, Within::BBox(_) | Within::Polygon(..)) if layer == Layer::Homesteads => {
                let b = &self.homestead_boxes;
                let items = &self.homesteads.items;
                let ids = |p: u32| items[p as usize].id;
                shape_positions(
                    &self.homestead_tree,
                    b,
                    ids,
                    &scope,
                    |p| filter.keeps_homestead(items[p as usize].status),
                    |p, s| shape_hits(&items[p as usize].geometry, s),
                    (after, page.limit),
                )
            }
            (None, _) => {
                let ps = self.point_set(layer).expect("a point layer");
                let region = match &scope {
                    Within::BBox(b) => Region::BBox([b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
                    Within::Area(id) => {
                        let (l, pos) = self.resolve(*id)?;
                        Region::Units(self.tables.unit_range(l, pos))
                    }
                    Within::Polygon(q) => Region::Polygon(q),
                };
                let mask = EventMask::of(filter);
                let accept_event =
                    |p: u32| mask.accepts(self.ev.category[p as usize], self.ev.status[p as usize]);
                let accept_all = |_: u32| true;
                let homes = &self.homesteads.items;
                let accept_home = |p: u32| filter.keeps_homestead(homes[p as usize].status);
                let is_events = layer == Layer::Events;
                let q = PointQuery {
                    region,
                    time: is_events.then(|| self.window_range(&filter.window())),
                    accept: if is_events && !mask.is_all() {
                        &accept_event
                    } else if layer == Layer::Homesteads && filter.homestead_statuses.is_some() {
                        &accept_home
                    } else {
                        &accept_all
                    },
                };
                q.run(ps, after, page.limit)
            }
        };
        let features: Vec<Feature> = positions
            .iter()
            .map(|&p| match layer.area_level() {
                Some(level) => self.area_feature(level, p),
                None => self.point_feature(layer, p),
            })
            .collect();
        let next_cursor = if more {
            features.last().map(|f| Cursor(f.id))
        } else {
            None
        };
        Ok(Page {
            features,
            next_cursor,
        })
    }

    fn area_positions(
        &self,
        level: Level,
        scope: &Within<'_>,
        after: Option<u64>,
        limit: usize,
    ) -> (Vec<u32>, bool) {
        let areas = self.areas.level(level);
        match scope {
            Within::Area(id) => {
                let r = crate::tree::id_range(areas, *id, level);
                let skip = after.map_or(0, |a| {
                    areas[r.start as usize..r.end as usize].partition_point(|x| x.id.get() <= a)
                });
                let start = r.start + skip as u32;
                let end = r.end.min(start.saturating_add(limit as u32));
                ((start..end).collect(), end < r.end)
            }
            _ => shape_positions(
                &self.level_trees[level.depth()],
                &self.level_boxes[level.depth()],
                |p| areas[p as usize].id.get(),
                scope,
                |_| true,
                |p, s| shape_hits(&areas[p as usize].geometry, s),
                (after, limit),
            ),
        }
    }

    /// The storage positions of events reported in a window.
    pub(crate) fn window_range(&self, w: &crate::filter::TimeWindow) -> Range<usize> {
        let t = &self.ev.reported_at;
        let lo = w.from.map_or(0, |f| t.partition_point(|&x| x < f));
        let hi =
            w.to.map_or(t.len(), |e| t.partition_point(|&x| x < e))
                .max(lo);
        lo..hi
    }
}

/// Whether a polygonal feature meets the scope (box or polygon).
fn shape_hits(g: &MultiPolygon<f64>, scope: &Within<'_>) -> bool {
    match scope {
        Within::BBox(b) => g.intersects(&Rect::new((b.min_lon, b.min_lat), (b.max_lon, b.max_lat))),
        Within::Polygon(q) => q.meets(g),
        Within::Area(_) => unreachable!("areas are ranges"),
    }
}

/// Polygonal features (positions in id order) that `keep` keeps, whose box
/// meets the scope's box and whose shape meets the scope.
fn shape_positions(
    tree: &RTree<BoxEntry>,
    boxes: &[[f64; 4]],
    id: impl Fn(u32) -> u64,
    scope: &Within<'_>,
    keep: impl Fn(u32) -> bool,
    hits: impl Fn(u32, &Within<'_>) -> bool,
    (after, limit): (Option<u64>, usize),
) -> (Vec<u32>, bool) {
    let q = match scope {
        Within::BBox(b) => [b.min_lon, b.min_lat, b.max_lon, b.max_lat],
        Within::Polygon(q) => q.bbox,
        Within::Area(_) => unreachable!("areas are ranges"),
    };
    let env = AABB::from_corners([q[0], q[1]], [q[2], q[3]]);
    let mut found = Vec::new();
    for e in tree.locate_in_envelope_intersecting(&env) {
        let p = e.data;
        let i = id(p);
        if after.is_some_and(|a| i <= a) || !keep(p) {
            continue;
        }
        let b = &boxes[p as usize];
        // A shape whose box lies inside the query box meets it.
        let inside = matches!(scope, Within::BBox(_))
            && b[0] >= q[0]
            && b[1] >= q[1]
            && b[2] <= q[2]
            && b[3] <= q[3];
        if inside || hits(p, scope) {
            found.push((i, p));
        }
    }
    first_by_id(found, limit)
}

/// The most vertices a query polygon may have (all its rings): enough for a
/// hand-drawn area or a simplified town outline, few enough that one query
/// costs milliseconds.
pub const MAX_POLYGON_VERTICES: usize = 2_000;

/// Checks a query polygon; returns its bounding box.
pub(crate) fn prepare_polygon(p: &Polygon<f64>) -> Result<Box4, IndexError> {
    // Rings are closed: the last vertex repeats the first.
    let given: usize = std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(|r| r.0.len().saturating_sub(1))
        .sum();
    if given > MAX_POLYGON_VERTICES {
        return Err(IndexError::TooManyVertices {
            given,
            max: MAX_POLYGON_VERTICES,
        });
    }
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        for c in &ring.0 {
            LonLat::new(c.x, c.y)?;
            b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
        }
    }
    let mut distinct = p.exterior().0.clone();
    distinct.dedup();
    if distinct.first() == distinct.last() {
        distinct.pop();
    }
    if distinct.len() < 3 {
        return Err(IndexError::InvalidPolygon(
            "the exterior ring needs at least 3 distinct points".into(),
        ));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{build, FixtureConfig, Rng};
    use onemap_core::EventCategory;

    /// The three ways to find candidates give the same pages.
    #[test]
    fn drivers_agree() {
        let (data, _) = build(&FixtureConfig::small(5));
        let city = City::build(data).unwrap();
        let ps = &city.events;
        let e = ps.extent;
        let mut rng = Rng::new(9);
        let units = city.areas.level(Level::Unit).len() as u32;
        let road = EventCategory::Road.code();
        let only_roads = |p: u32| city.ev.category[p as usize] == road;
        let all = |_: u32| true;
        let tri_poly = Polygon::new(
            vec![(e[0], e[1]), (e[2], e[1]), (e[0], e[3])].into(),
            vec![],
        );
        let tri = QueryPolygon::new(&tri_poly).unwrap();
        for round in 0..300 {
            let (a, b) = (rng.f64(), rng.f64());
            let (c, d) = (rng.f64(), rng.f64());
            let x = |f: f64| e[0] + (e[2] - e[0]) * f;
            let y = |f: f64| e[1] + (e[3] - e[1]) * f;
            let region = match round % 4 {
                0 => Region::BBox([x(a.min(b)), y(c.min(d)), x(a.max(b)), y(c.max(d))]),
                1 => {
                    let (u, v) = (
                        rng.below(u64::from(units)) as u32,
                        rng.below(u64::from(units)) as u32,
                    );
                    Region::Units(u.min(v)..u.max(v) + 1)
                }
                2 => Region::Polygon(&tri),
                _ => Region::BBox([e[0], e[1], e[2], e[3]]),
            };
            let t0 = ps.len() as f64 * rng.f64() * 0.5;
            let win = (rng.below(2) == 0)
                .then(|| t0 as usize..(t0 + ps.len() as f64 * rng.f64() * 0.5) as usize);
            let accept: &(dyn Fn(u32) -> bool + Sync) =
                if rng.below(2) == 0 { &only_roads } else { &all };
            let q = PointQuery {
                region,
                time: win,
                accept,
            };
            let limit = 1 + rng.below(200) as usize;
            let after = (rng.below(3) == 0).then(|| ps.ids[rng.below(ps.len() as u64) as usize]);
            let want = q.run_with(ps, after, limit, Driver::IdWalk);
            assert_eq!(
                q.run_with(ps, after, limit, Driver::Region),
                want,
                "round {round}"
            );
            assert_eq!(
                q.run_with(ps, after, limit, Driver::Time),
                want,
                "round {round}"
            );
            assert_eq!(q.run(ps, after, limit), want, "round {round}");
        }
    }
}
