//! [`TileSource`]: every tile of a [`City`], generalized ahead of time,
//! rendered on demand and kept in a bounded cache.

use crate::figures::{FilterFigures, HexGrid};
use crate::geom::to_world;
use crate::layers::{LayerSet, Tile, TileRequest, MAX_SERVE_ZOOM};
use crate::prepared::PolygonLayer;
use crate::render::world_window;
use crate::rules::{rule_for, rules, LayerRule};
use crate::DEFAULT_BUFFER;
use crate::{render, TilesError};
use onemap_core::TileCoord;
use onemap_core::{EventCategory, EventStatus, Layer, Level};
use onemap_index::{City, EventFilter};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How the tile cache is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
    /// Weighted size: encoded bytes plus a small per-entry overhead.
    pub bytes: u64,
}

/// An event filter reduced to what changes counts: the time window and
/// bit sets of category and status codes (all set when unrestricted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FilterKey {
    from: Option<i64>,
    to: Option<i64>,
    categories: u32,
    statuses: u32,
}

impl FilterKey {
    fn of(f: &EventFilter) -> Self {
        let cats = f
            .categories
            .as_deref()
            .unwrap_or(EventCategory::ALL)
            .iter()
            .fold(0u32, |m, c| m | 1 << c.code());
        let sts = f
            .statuses
            .as_deref()
            .unwrap_or(EventStatus::ALL)
            .iter()
            .fold(0u32, |m, s| m | 1 << s.code());
        FilterKey {
            from: f.from,
            to: f.to,
            categories: cats,
            statuses: sts,
        }
    }

    const ALL: FilterKey = FilterKey {
        from: None,
        to: None,
        categories: (1 << 8) - 1,
        statuses: (1 << 6) - 1,
    };
}

/// What a cached tile depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TileKey {
    layers: LayerSet,
    z: u8,
    x: u32,
    y: u32,
    filter: FilterKey,
    /// The data version of each [`Layer`] the tile reads (0 for the others).
    versions: [u64; 11],
}

/// Point positions in world coordinates, per point layer.
#[derive(Debug, Default, Clone)]
pub(crate) struct WorldPoints {
    pub(crate) events: Arc<Vec<[f64; 2]>>,
    pub(crate) ships: Arc<Vec<[f64; 2]>>,
    pub(crate) heritage: Arc<Vec<[f64; 2]>>,
    pub(crate) enterprises: Arc<Vec<[f64; 2]>>,
    pub(crate) schools: Arc<Vec<[f64; 2]>>,
}

/// Serves every tile of a city: composite MVT tiles of any set of layers,
/// TileJSON, a layer catalog, and a bounded cache with strong ETags.
///
/// A source serves one [`City`] snapshot. When events change,
/// [`TileSource::with_city`] makes the next source: it shares the prepared
/// areas and the other layers, the tile cache and its counters, and carries
/// a new events version, so cached tiles that read events are not served
/// again while every other cached tile still is.
pub struct TileSource {
    pub(crate) city: Arc<City>,
    /// Per area level, its generalized shapes and label points.
    pub(crate) areas: Arc<[PolygonLayer; 5]>,
    pub(crate) homesteads: Arc<PolygonLayer>,
    pub(crate) points: WorldPoints,
    pub(crate) event_hex: Arc<HexGrid>,
    pub(crate) enterprise_hex: Arc<HexGrid>,
    /// Per hexagon level and slot: `[enterprises, large ones]`.
    pub(crate) enterprise_counts: Arc<Vec<Vec<[u32; 2]>>>,
    /// Shared by every source made from this one (moka handles share).
    figures: moka::sync::Cache<(FilterKey, u64), Arc<FilterFigures>>,
    cache: moka::sync::Cache<TileKey, Option<Tile>>,
    /// This source's data versions (a later source has later ones).
    versions: [AtomicU64; 11],
    /// Per district, its world box grown by [`REGION_MARGIN`]: a changed
    /// event can only change tiles that meet the box of its district.
    region_boxes: Arc<Vec<[f64; 4]>>,
    /// Per district, the version of its events; the last entry counts
    /// changes outside every district (and [`TileSource::bump_version`]),
    /// which every tile reading events depends on.
    region_versions: Arc<Vec<u64>>,
    /// [`TileSource::bump_version`] calls for events: every tile reading
    /// events depends on them.
    event_bumps: AtomicU64,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    /// Lon/lat bounds of the areas: `[west, south, east, north]`.
    pub(crate) bounds: [f64; 4],
    _alive: Alive,
}

/// How many [`TileSource`]s exist: each holds a city snapshot, so this is
/// how many snapshots' event columns memory holds at once.
static SOURCES_ALIVE: AtomicU64 = AtomicU64::new(0);

/// Tile sources alive in this process (each holds a city snapshot): the
/// current one and those requests in flight still hold.
pub fn sources_alive() -> u64 {
    SOURCES_ALIVE.load(Ordering::Relaxed)
}

/// Counts its [`TileSource`] in [`SOURCES_ALIVE`] while it lives.
struct Alive;

impl Alive {
    fn new() -> Alive {
        SOURCES_ALIVE.fetch_add(1, Ordering::Relaxed);
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        SOURCES_ALIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for TileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileSource")
            .field("cache", &self.cache_stats())
            .finish_non_exhaustive()
    }
}

fn layer_index(l: Layer) -> usize {
    Layer::ALL.iter().position(|&x| x == l).expect("listed")
}

/// The range of hexagon resolutions a dense layer's rule uses.
fn h3_range(rule: &LayerRule) -> (u8, u8) {
    let rs = rule.h3_resolutions();
    (
        rs.first().copied().unwrap_or(5),
        rs.last().copied().unwrap_or(5),
    )
}

impl TileSource {
    /// Prepares a city for serving: generalizes every polygon layer per zoom
    /// band, places labels, projects points and builds the hexagon grids (in
    /// parallel). `cache_bytes` bounds the tile cache.
    pub fn new(city: Arc<City>, cache_bytes: u64) -> TileSource {
        let area_layer = |level: Level| {
            let shapes: Vec<_> = city
                .areas()
                .level(level)
                .iter()
                .map(|a| &a.geometry)
                .collect();
            let r = rule_for(Layer::for_level(level));
            PolygonLayer::build(&shapes, r.minzoom, r.tolerance_px)
        };
        let world = |layer: Layer| -> Vec<[f64; 2]> {
            let c = city.columns_of(layer).expect("a point layer");
            c.lon
                .par_iter()
                .zip(c.lat.par_iter())
                .map(|(&x, &y)| to_world(x, y))
                .collect()
        };
        let areas = Level::ALL.map(area_layer);
        let hr = rule_for(Layer::Homesteads);
        let homestead_shapes: Vec<_> = city.homesteads().iter().map(|h| &h.geometry).collect();
        let homesteads = PolygonLayer::build(&homestead_shapes, hr.minzoom, hr.tolerance_px);
        let points = WorldPoints {
            events: Arc::new(world(Layer::Events)),
            ships: Arc::new(world(Layer::Ships)),
            heritage: Arc::new(world(Layer::Heritage)),
            enterprises: Arc::new(world(Layer::Enterprises)),
            schools: Arc::new(world(Layer::Schools)),
        };
        let event_hex = Arc::new(event_hex_grid(&city));
        let (lo, hi) = h3_range(rule_for(Layer::Enterprises));
        let ent = city.columns_of(Layer::Enterprises).expect("points");
        let enterprise_hex = HexGrid::build(ent.stacks, lo, hi);
        let ents = city.enterprises();
        let enterprise_counts = Arc::new(enterprise_hex.counts(ent.stack, |p| ents[p].large));
        let enterprise_hex = Arc::new(enterprise_hex);
        let bounds = lonlat_bounds(&areas[0]);
        let figures = moka::sync::Cache::new(32);
        let cache = moka::sync::Cache::builder()
            .max_capacity(cache_bytes)
            .weigher(|_k: &TileKey, v: &Option<Tile>| {
                // Half the bytes again for the gzip copy a served tile keeps.
                let n = v
                    .as_ref()
                    .map_or(0, |t| t.bytes.len() * 3 / 2 + t.etag.len());
                u32::try_from(n + 160).unwrap_or(u32::MAX)
            })
            .build();
        let region_boxes = Arc::new(
            areas[0]
                .boxes
                .iter()
                .map(|b| {
                    [
                        b[0] - REGION_MARGIN,
                        b[1] - REGION_MARGIN,
                        b[2] + REGION_MARGIN,
                        b[3] + REGION_MARGIN,
                    ]
                })
                .collect::<Vec<_>>(),
        );
        let region_versions = Arc::new(vec![0; region_boxes.len() + 1]);
        let src = TileSource {
            city,
            region_boxes,
            region_versions,
            event_bumps: AtomicU64::new(0),
            areas: Arc::new(areas),
            homesteads: Arc::new(homesteads),
            points,
            event_hex,
            enterprise_hex,
            enterprise_counts,
            figures,
            cache,
            versions: Default::default(),
            hits: Arc::default(),
            misses: Arc::default(),
            bounds,
            _alive: Alive::new(),
        };
        // The unrestricted figures are what most tiles ask for: count them now.
        src.figures_for(&EventFilter::default());
        src
    }

    pub fn city(&self) -> &Arc<City> {
        &self.city
    }

    /// The source for `city`, a snapshot made from this source's city by
    /// [`City::with_events`] and/or [`City::with_ships`]: only what changed
    /// is prepared again (events projected and put in hexagons, ship
    /// positions projected) and only its data version moves on; everything
    /// else, the cache included, is shared, so area tiles stay cached when
    /// only ships moved. Panics if `city` does not share its base with this
    /// source's city.
    pub fn with_city(&self, city: Arc<City>) -> TileSource {
        let mut regions = (*self.region_versions).clone();
        if !city.same_events(&self.city) {
            // Not told where: every tile reading events.
            *regions.last_mut().expect("the outside entry") += 1;
        }
        self.next_source(city, regions)
    }

    /// [`TileSource::with_city`] when only the events at `places` (lon/lat:
    /// where changed events were before and are now) changed: only tiles
    /// that read events and meet the districts holding those places are
    /// rendered again; other cached tiles, area tiles of other districts
    /// included, are still served.
    pub fn with_changed_events(
        &self,
        city: Arc<City>,
        places: impl IntoIterator<Item = (f64, f64)>,
    ) -> TileSource {
        let mut regions = (*self.region_versions).clone();
        let outside = regions.len() - 1;
        let mut touched = vec![false; regions.len()];
        for (lon, lat) in places {
            let district = self
                .city
                .locate_unit(lon, lat)
                .ok()
                .flatten()
                .and_then(|u| u.ancestor_at(Level::District))
                .and_then(|d| match self.city.areas().position(d) {
                    Some((Level::District, p)) => Some(p as usize),
                    _ => None,
                });
            touched[district.unwrap_or(outside)] = true;
        }
        for (v, t) in regions.iter_mut().zip(&touched) {
            *v += u64::from(*t);
        }
        self.next_source(city, regions)
    }

    fn next_source(&self, city: Arc<City>, regions: Vec<u64>) -> TileSource {
        assert!(
            city.shares_base_with(&self.city),
            "with_city takes a snapshot of the same city"
        );
        let events_changed = !city.same_events(&self.city);
        // Moves along the loop keep every event where it was.
        let event_points_changed = !city.same_event_points(&self.city);
        let ships_changed = !city.same_ships(&self.city);
        let world = |layer: Layer| -> Arc<Vec<[f64; 2]>> {
            let c = city.columns_of(layer).expect("a point layer");
            Arc::new(
                c.lon
                    .par_iter()
                    .zip(c.lat.par_iter())
                    .map(|(&x, &y)| to_world(x, y))
                    .collect(),
            )
        };
        let mut points = self.points.clone();
        let event_hex = if event_points_changed {
            let (lo, hi) = h3_range(rule_for(Layer::Events));
            // A report appends points: the old ones keep their projections.
            points.events = match city.events_appended_to(&self.city) {
                Some(n) => {
                    let c = city.columns_of(Layer::Events).expect("a point layer");
                    let mut w = Vec::with_capacity(c.lon.len());
                    w.extend_from_slice(&self.points.events[..n]);
                    w.extend(
                        c.lon[n..]
                            .iter()
                            .zip(&c.lat[n..])
                            .map(|(&x, &y)| to_world(x, y)),
                    );
                    Arc::new(w)
                }
                None => world(Layer::Events),
            };
            // The hexagons stay when the points fill the same cells.
            let stacks = city.event_columns().points.stacks;
            Arc::new(self.event_hex.for_stacks(stacks, lo, hi))
        } else {
            Arc::clone(&self.event_hex)
        };
        if ships_changed {
            points.ships = world(Layer::Ships);
        }
        let versions: [AtomicU64; 11] = std::array::from_fn(|i| {
            let v = self.versions[i].load(Ordering::Acquire);
            let bump = match Layer::ALL[i] {
                Layer::Events => events_changed,
                Layer::Ships => ships_changed,
                _ => false,
            };
            AtomicU64::new(v + u64::from(bump))
        });
        let src = TileSource {
            city,
            areas: Arc::clone(&self.areas),
            homesteads: Arc::clone(&self.homesteads),
            points,
            event_hex,
            enterprise_hex: Arc::clone(&self.enterprise_hex),
            enterprise_counts: Arc::clone(&self.enterprise_counts),
            figures: self.figures.clone(),
            cache: self.cache.clone(),
            versions,
            region_boxes: Arc::clone(&self.region_boxes),
            region_versions: Arc::new(regions),
            event_bumps: AtomicU64::new(self.event_bumps.load(Ordering::Acquire)),
            hits: Arc::clone(&self.hits),
            misses: Arc::clone(&self.misses),
            bounds: self.bounds,
            _alive: Alive::new(),
        };
        src.prune_figures();
        src.figures_for(&EventFilter::default());
        src
    }

    /// Forgets the figures of event versions older than this source's
    /// previous one: only requests still on an older snapshot would ask
    /// for them (and count them again). Without this, every change left
    /// its figures (about 4 MB on the full city for the default filter) in
    /// the cache until 32 versions had piled up.
    fn prune_figures(&self) {
        let keep_from = self.version(Layer::Events).saturating_sub(1);
        for (k, _) in self.figures.iter() {
            if k.1 < keep_from {
                self.figures.invalidate(&*k);
            }
        }
    }

    /// One tile: `None` when it has no feature (answer 204 No Content).
    pub fn tile(&self, req: &TileRequest) -> Result<Option<Tile>, TilesError> {
        if let Some(t) = self.cached(req)? {
            return Ok(t);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let t = self.render(req).map(Tile::new);
        self.cache.insert(self.key(req), t.clone());
        Ok(t)
    }

    /// The tile if the cache holds it (`Some(None)`: cached as empty), without
    /// rendering: cheap enough to call on an async thread before handing a
    /// miss to a blocking one.
    pub fn cached(&self, req: &TileRequest) -> Result<Option<Option<Tile>>, TilesError> {
        let z = req.tile.z();
        if z > MAX_SERVE_ZOOM {
            return Err(TilesError::ZoomTooDeep {
                z,
                max: MAX_SERVE_ZOOM,
            });
        }
        if let (Some(from), Some(to)) = (req.filter.from, req.filter.to) {
            if from > to {
                return Err(TilesError::InvalidFilter { from, to });
            }
        }
        let hit = self.cache.get(&self.key(req));
        if hit.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(hit)
    }

    /// Renders a tile without the cache.
    pub fn render_uncached(&self, req: &TileRequest) -> Result<Option<Vec<u8>>, TilesError> {
        if req.tile.z() > MAX_SERVE_ZOOM {
            return Err(TilesError::ZoomTooDeep {
                z: req.tile.z(),
                max: MAX_SERVE_ZOOM,
            });
        }
        Ok(self.render(req))
    }

    fn render(&self, req: &TileRequest) -> Option<Vec<u8>> {
        let needs_figures = req.layers.iter().any(|r| {
            r.visible_at(req.tile.z())
                && r.layer
                    .is_some_and(|l| l.area_level().is_some() || l == Layer::Events)
        });
        let figures = needs_figures.then(|| self.figures_for(&req.filter));
        render::render(self, req, figures.as_deref())
    }

    /// The figures of a filter at the current events version, counted once.
    pub(crate) fn figures_for(&self, filter: &EventFilter) -> Arc<FilterFigures> {
        let v = self.version(Layer::Events);
        self.figures.get_with((FilterKey::of(filter), v), || {
            Arc::new(FilterFigures::count(&self.city, &self.event_hex, filter))
        })
    }

    /// The current data version of a layer.
    pub fn version(&self, layer: Layer) -> u64 {
        self.versions[layer_index(layer)].load(Ordering::Acquire)
    }

    /// Marks a layer's data as changed: cached tiles that read it are no
    /// longer served (they age out of the cache); tiles of other layers stay.
    /// Area tiles read events too (their event figures).
    pub fn bump_version(&self, layer: Layer) -> u64 {
        if layer == Layer::Events {
            self.event_bumps.fetch_add(1, Ordering::AcqRel);
        }
        self.versions[layer_index(layer)].fetch_add(1, Ordering::AcqRel) + 1
    }

    /// What the cached tiles reading events at `tile` depend on: the event
    /// versions of the districts whose (grown) box meets the tile, and of
    /// the outside. Versions only grow, so the sum grows whenever one of
    /// them does.
    fn events_key(&self, tile: TileCoord) -> u64 {
        let w = world_window(tile, DEFAULT_BUFFER);
        let mut sum = self.event_bumps.load(Ordering::Acquire)
            + self.region_versions.last().copied().unwrap_or(0);
        for (b, v) in self.region_boxes.iter().zip(self.region_versions.iter()) {
            if b[0] <= w[2] && w[0] <= b[2] && b[1] <= w[3] && w[1] <= b[3] {
                sum += v;
            }
        }
        sum
    }

    /// The cache key of a request: layers, tile, the filter (only when some
    /// layer reads events) and the versions of the layers read.
    pub(crate) fn key(&self, req: &TileRequest) -> TileKey {
        let mut versions = [0u64; 11];
        let mut reads_events = false;
        for r in req.layers.iter() {
            for l in dependencies(r) {
                if l == Layer::Events {
                    reads_events = true;
                } else {
                    versions[layer_index(l)] = self.version(l);
                }
            }
        }
        if reads_events {
            versions[layer_index(Layer::Events)] = self.events_key(req.tile);
        }
        TileKey {
            layers: req.layers,
            z: req.tile.z(),
            x: req.tile.x(),
            y: req.tile.y(),
            filter: if reads_events {
                FilterKey::of(&req.filter)
            } else {
                FilterKey::ALL
            },
            versions,
        }
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.run_pending_tasks();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.cache.entry_count(),
            bytes: self.cache.weighted_size(),
        }
    }

    /// The layer set of every tile layer.
    pub fn all_layers(&self) -> LayerSet {
        LayerSet::all()
    }

    /// Lon/lat bounds of the city: `[west, south, east, north]`.
    pub fn bounds(&self) -> [f64; 4] {
        self.bounds
    }
}

/// How far (in world units, about 0.36° here) a district's box is grown
/// for the tiles its events can touch: more than the largest event hexagon
/// drawn, and the tile buffer.
const REGION_MARGIN: f64 = 0.001;

/// The hexagon grid of the events of a city.
fn event_hex_grid(city: &City) -> HexGrid {
    let (lo, hi) = h3_range(rule_for(Layer::Events));
    HexGrid::build(city.event_columns().points.stacks, lo, hi)
}

/// The data layers a tile layer reads.
pub(crate) fn dependencies(r: &LayerRule) -> Vec<Layer> {
    match r.layer {
        Some(l) if l.area_level().is_some() => vec![l, Layer::Events],
        Some(l) => vec![l],
        None => rules()
            .iter()
            .filter(|r| r.label_from.is_some())
            .filter_map(|r| r.layer)
            .collect(),
    }
}

fn lonlat_bounds(districts: &PolygonLayer) -> [f64; 4] {
    let mut w = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for b in &districts.boxes {
        w = [
            w[0].min(b[0]),
            w[1].min(b[1]),
            w[2].max(b[2]),
            w[3].max(b[3]),
        ];
    }
    if !w[0].is_finite() {
        return [-180.0, -85.0, 180.0, 85.0];
    }
    let (west, north) = crate::render::world_to_lonlat([w[0], w[1]]);
    let (east, south) = crate::render::world_to_lonlat([w[2], w[3]]);
    [west, south, east, north]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keys_normalize() {
        let all = EventFilter {
            categories: Some(EventCategory::ALL.to_vec()),
            ..Default::default()
        };
        assert_eq!(FilterKey::of(&all), FilterKey::ALL);
        assert_eq!(FilterKey::of(&EventFilter::default()), FilterKey::ALL);
        let none = EventFilter {
            statuses: Some(vec![]),
            ..Default::default()
        };
        assert_ne!(FilterKey::of(&none), FilterKey::ALL);
    }

    #[test]
    fn figures_of_old_event_versions_are_forgotten() {
        let (_, data) = onemap_synth::generate(&onemap_synth::SynthConfig {
            seed: 2,
            scale: 0.005,
            events: Some(500),
            ..Default::default()
        })
        .expect("valid config");
        let city = Arc::new(City::build(data).expect("a valid city"));
        let mut src = TileSource::new(Arc::clone(&city), 1 << 20);
        let mut e = city.event(1).expect("event 1");
        let mut versions = Vec::new();
        for k in 0..6 {
            e.status = if k % 2 == 0 {
                EventStatus::Discussing
            } else {
                EventStatus::Routed
            };
            let next = Arc::new(src.city().with_events(vec![e.clone()]).expect("a move"));
            src = src.with_changed_events(next, [(e.lon, e.lat)]);
            versions.push(src.version(Layer::Events));
        }
        src.figures.run_pending_tasks();
        let kept: Vec<u64> = src.figures.iter().map(|(k, _)| k.1).collect();
        let latest = *versions.last().expect("versions");
        assert!(
            kept.iter().all(|&v| v + 1 >= latest),
            "kept {kept:?}, latest {latest}"
        );
        assert!(kept.contains(&latest), "kept {kept:?}");
    }
}
