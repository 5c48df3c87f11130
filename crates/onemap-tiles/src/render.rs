//! Rendering one tile from a [`TileSource`]: for each requested layer
//! visible at the zoom, select what meets the tile's window, take its
//! pre-generalized geometry, clip, quantize and encode it with its attributes.

use crate::builder::{LayerBuilder, TileBuilder, DEFAULT_BUFFER};
use crate::figures::{FilterFigures, HexGrid};
use crate::geom::TileProjection;
use crate::ids::{area_feature_id, hexagon_feature_id};
use crate::layers::TileRequest;
use crate::mvt::{Value, EXTENT};
use crate::prepared::PolygonLayer;
use crate::rules::{rule_for, LayerRule};
use crate::source::TileSource;
use onemap_core::tile::{mercator_to_lonlat, ORIGIN_SHIFT};
use onemap_core::{EventCategory, EventStatus, Layer, Level, TileCoord};
use onemap_index::{CodeMask, NO_UNIT};
use std::ops::ControlFlow;

/// The tile plus its buffer, in world coordinates `[min_x, min_y, max_x, max_y]`.
pub(crate) fn world_window(tile: TileCoord, buffer: u32) -> [f64; 4] {
    let n = f64::from(1u32 << tile.z());
    let b = f64::from(buffer) / f64::from(EXTENT);
    let (x, y) = (f64::from(tile.x()), f64::from(tile.y()));
    [
        (x - b) / n,
        (y - b) / n,
        (x + 1.0 + b) / n,
        (y + 1.0 + b) / n,
    ]
}

/// World coordinates back to lon/lat.
pub(crate) fn world_to_lonlat(w: [f64; 2]) -> (f64, f64) {
    let wy = w[1].clamp(0.0, 1.0);
    mercator_to_lonlat(
        w[0] * 2.0 * ORIGIN_SHIFT - ORIGIN_SHIFT,
        ORIGIN_SHIFT - wy * 2.0 * ORIGIN_SHIFT,
    )
}

/// A lon/lat box holding a world window, with a hair of slack for rounding
/// (the exact test is the projected position against the clip window).
fn lonlat_box(w: [f64; 4]) -> [f64; 4] {
    let (west, north) = world_to_lonlat([w[0], w[1]]);
    let (east, south) = world_to_lonlat([w[2], w[3]]);
    let eps = 1e-9;
    [west - eps, south - eps, east + eps, north + eps]
}

pub(crate) fn render(
    src: &TileSource,
    req: &TileRequest,
    figs: Option<&FilterFigures>,
) -> Option<Vec<u8>> {
    let tile = req.tile;
    let z = tile.z();
    let w = world_window(tile, DEFAULT_BUFFER);
    let mut b = TileBuilder::new(tile);
    for rule in req.layers.iter() {
        if !rule.visible_at(z) {
            continue;
        }
        let mut lb = b.layer(rule.name).expect("rule names are not empty");
        let Some(layer) = rule.layer else {
            labels(src, z, w, &mut lb);
            continue;
        };
        if let Some(level) = layer.area_level() {
            let figs = figs.expect("figures are counted for area layers");
            areas(src, level, z, w, figs, &mut lb);
            continue;
        }
        match layer {
            Layer::Events => {
                let figs = figs.expect("figures are counted for events");
                let hex = |r, lb: &mut LayerBuilder<'_>| {
                    hexagons(&src.event_hex, &figs.hexagons, r, "open", w, lb);
                };
                match rule.h3_resolution(z) {
                    Some(r) => hex(r, &mut lb),
                    None => {
                        let hits = event_hits(src, req, w, cap(rule, z));
                        match dense(rule, z, hits.len()) {
                            Some(r) => hex(r, &mut lb),
                            None => events(src, hits, &mut lb),
                        }
                    }
                }
            }
            Layer::Enterprises => {
                let hex = |r, lb: &mut LayerBuilder<'_>| {
                    let counts = &src.enterprise_counts;
                    hexagons(&src.enterprise_hex, counts, r, "large", w, lb);
                };
                match rule.h3_resolution(z) {
                    Some(r) => hex(r, &mut lb),
                    None => {
                        let hits = point_hits(src, layer, tile, w, cap(rule, z));
                        match dense(rule, z, hits.len()) {
                            Some(r) => hex(r, &mut lb),
                            None => points(src, layer, &hits, &mut lb),
                        }
                    }
                }
            }
            Layer::Homesteads => homesteads(src, z, w, &mut lb),
            _ => {
                let hits = point_hits(src, layer, tile, w, usize::MAX);
                points(src, layer, &hits, &mut lb);
            }
        }
    }
    b.finish()
}

/// How many points of a layer to look for in a tile: one more than its
/// density limit says may be drawn (enough to know it is over).
fn cap(rule: &LayerRule, z: u8) -> usize {
    rule.density_limit(z)
        .map_or(usize::MAX, |(max, _)| max.saturating_add(1))
}

/// The H3 resolution to draw a dense point layer's tile with when its
/// `n` points are over the density limit of the rules; `None`: points.
fn dense(rule: &LayerRule, z: u8, n: usize) -> Option<u8> {
    rule.density_limit(z)
        .and_then(|(max, res)| (n > max).then_some(res))
}

/// Positions of a polygon layer meeting the window, ascending.
fn polygons_in(layer: &PolygonLayer, w: [f64; 4]) -> Vec<u32> {
    let mut hits = Vec::new();
    layer.each_in(w, |p| hits.push(p));
    hits.sort_unstable();
    hits
}

fn areas(
    src: &TileSource,
    level: Level,
    z: u8,
    w: [f64; 4],
    figs: &FilterFigures,
    lb: &mut LayerBuilder<'_>,
) {
    let layer = &src.areas[level.depth()];
    let Some(band) = layer.band(z) else { return };
    let list = src.city.areas().level(level);
    let counts = &figs.areas[level.depth()];
    for p in polygons_in(layer, w) {
        let Some(drawn) = &band[p as usize] else {
            continue;
        };
        let rings = lb
            .projection()
            .prepared_polygons(&drawn.shape, drawn.rounding_safe);
        if rings.is_empty() {
            continue;
        }
        let a = &list[p as usize];
        let [n, closed] = counts[p as usize];
        let mut props: Vec<(&str, Value)> = vec![
            ("code", a.id.get().to_string().into()),
            ("name", a.name.as_str().into()),
            ("level", level.as_str().into()),
        ];
        if let Some(leader) = &a.leader {
            props.push(("leader", leader.as_str().into()));
        }
        props.push(("events", Value::UInt(n.into())));
        props.push(("open", Value::UInt((n - closed).into())));
        if n > 0 {
            props.push((
                "closure_rate",
                Value::Double(f64::from(closed) / f64::from(n)),
            ));
        }
        lb.add_rings(area_feature_id(level, p), &rings, &props);
    }
}

fn labels(src: &TileSource, z: u8, w: [f64; 4], lb: &mut LayerBuilder<'_>) {
    for level in Level::ALL {
        let rule: &LayerRule = rule_for(Layer::for_level(level));
        if !rule.labelled_at(z) {
            continue;
        }
        let layer = &src.areas[level.depth()];
        let Some(band) = layer.band(z) else { continue };
        let list = src.city.areas().level(level);
        for p in polygons_in(layer, w) {
            if band[p as usize].is_none() {
                continue;
            }
            let Some(px) = lb.projection().world_point(layer.labels[p as usize]) else {
                continue;
            };
            let a = &list[p as usize];
            lb.add_tile_point(
                area_feature_id(level, p),
                px,
                &[
                    ("code", a.id.get().to_string().into()),
                    ("name", a.name.as_str().into()),
                    ("level", level.as_str().into()),
                ],
            );
        }
    }
}

fn homesteads(src: &TileSource, z: u8, w: [f64; 4], lb: &mut LayerBuilder<'_>) {
    let layer = &src.homesteads;
    let Some(band) = layer.band(z) else { return };
    let items = src.city.homesteads();
    for p in polygons_in(layer, w) {
        let Some(drawn) = &band[p as usize] else {
            continue;
        };
        let rings = lb
            .projection()
            .prepared_polygons(&drawn.shape, drawn.rounding_safe);
        let h = &items[p as usize];
        lb.add_rings(
            h.id,
            &rings,
            &[
                ("status", h.status.as_str().into()),
                ("area_m2", Value::Double(h.area_m2)),
            ],
        );
    }
}

fn hexagons(
    grid: &HexGrid,
    counts: &[Vec<[u32; 2]>],
    res: u8,
    second: &str,
    w: [f64; 4],
    lb: &mut LayerBuilder<'_>,
) {
    let Some((i, level)) = grid.level(res) else {
        return;
    };
    let mut hits = Vec::new();
    level.each_in(w, |s| hits.push(s));
    hits.sort_unstable();
    for s in hits {
        let [n, m] = counts[i][s as usize];
        if n == 0 {
            continue;
        }
        let rings = lb
            .projection()
            .world_polygons(std::slice::from_ref(&level.rings[s as usize]));
        let cell = level.cells[s as usize];
        lb.add_rings(
            hexagon_feature_id(cell),
            &rings,
            &[
                ("h3", cell.to_string().into()),
                ("count", Value::UInt(n.into())),
                (second, Value::UInt(m.into())),
            ],
        );
    }
}

/// Positions of the events of the request's filter whose point lies in the
/// window (the tile plus its buffer), in no order, but at most `cap` of them:
/// a tile over the density limit draws hexagons, so its points need not all
/// be found (the R-tree walk stops at the cap).
fn event_hits(src: &TileSource, req: &TileRequest, w: [f64; 4], cap: usize) -> Vec<u32> {
    let city = &src.city;
    let ev = city.event_columns();
    let f = &req.filter;
    let window = city.event_positions(&f.window());
    let mask = CodeMask::new(f.categories.as_deref(), f.statuses.as_deref());
    // The same test as the tile's projection, so the count is what is drawn.
    let proj = TileProjection::new(req.tile, EXTENT, DEFAULT_BUFFER);
    let mut hits = Vec::new();
    let _ = city.try_each_point_in(Layer::Events, lonlat_box(w), |p| {
        let i = p as usize;
        if window.contains(&i)
            && mask.accepts(ev.category[i], ev.status[i])
            && proj.world_point(src.points.events[i]).is_some()
        {
            hits.push(p);
            if hits.len() >= cap {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    hits
}

/// Positions of a point layer's points in the window, at most `cap` of
/// them (see [`event_hits`]), ascending.
fn point_hits(
    src: &TileSource,
    layer: Layer,
    tile: TileCoord,
    w: [f64; 4],
    cap: usize,
) -> Vec<u32> {
    let proj = TileProjection::new(tile, EXTENT, DEFAULT_BUFFER);
    let world = match layer {
        Layer::Ships => &src.points.ships,
        Layer::Heritage => &src.points.heritage,
        Layer::Enterprises => &src.points.enterprises,
        Layer::Schools => &src.points.schools,
        _ => return Vec::new(),
    };
    let mut hits = Vec::new();
    let _ = src.city.try_each_point_in(layer, lonlat_box(w), |p| {
        if proj.world_point(world[p as usize]).is_some() {
            hits.push(p);
            if hits.len() >= cap {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    hits.sort_unstable();
    hits
}

fn events(src: &TileSource, mut hits: Vec<u32>, lb: &mut LayerBuilder<'_>) {
    hits.sort_unstable();
    let city = &src.city;
    let ev = city.event_columns();
    let units = city.areas().level(Level::Unit);
    for p in hits {
        let i = p as usize;
        let (c, s) = (ev.category[i], ev.status[i]);
        let Some(px) = lb.projection().world_point(src.points.events[i]) else {
            continue;
        };
        let cat = EventCategory::from_code(c).map_or("other", EventCategory::as_str);
        let st = EventStatus::from_code(s).map_or("reported", EventStatus::as_str);
        let u = ev.points.unit[i];
        let props = [
            ("category", cat.into()),
            ("status", st.into()),
            ("reported_at", Value::Int(ev.reported_at[i])),
            ("status_at", Value::Int(ev.status_at[i])),
            (
                "unit_id",
                units
                    .get(u as usize)
                    .map_or(String::new(), |a| a.id.get().to_string())
                    .into(),
            ),
        ];
        // An event outside every unit has no unit_id (the last property).
        let n = if u == NO_UNIT { 4 } else { 5 };
        lb.add_tile_point(ev.points.ids[i], px, &props[..n]);
    }
}

fn points(src: &TileSource, layer: Layer, hits: &[u32], lb: &mut LayerBuilder<'_>) {
    let city = &src.city;
    let (world, ids) = match layer {
        Layer::Ships => (&src.points.ships, city.columns_of(layer)),
        Layer::Heritage => (&src.points.heritage, city.columns_of(layer)),
        Layer::Enterprises => (&src.points.enterprises, city.columns_of(layer)),
        Layer::Schools => (&src.points.schools, city.columns_of(layer)),
        _ => return,
    };
    let Some(cols) = ids else { return };
    for &p in hits {
        let i = p as usize;
        let Some(px) = lb.projection().world_point(world[i]) else {
            continue;
        };
        let props: Vec<(&str, Value)> = match layer {
            Layer::Ships => {
                let s = &city.ships()[i];
                vec![
                    ("name", s.name.as_str().into()),
                    ("heading", Value::Float(s.heading_deg)),
                    ("speed_kn", Value::Float(s.speed_kn)),
                    ("in_port", Value::Bool(s.in_port)),
                    ("reported_at", Value::Int(s.reported_at)),
                ]
            }
            Layer::Heritage => {
                let h = &city.heritage_points()[i];
                vec![
                    ("name", h.name.as_str().into()),
                    ("level", h.level.as_str().into()),
                    ("watch", h.watch.as_str().into()),
                ]
            }
            Layer::Enterprises => {
                let e = &city.enterprises()[i];
                vec![
                    ("name", e.name.as_str().into()),
                    ("industry", e.industry.as_str().into()),
                    ("employees", Value::UInt(e.employees.into())),
                    ("large", Value::Bool(e.large)),
                ]
            }
            _ => {
                let s = &city.schools()[i];
                vec![
                    ("name", s.name.as_str().into()),
                    ("kind", s.kind.as_str().into()),
                    ("students", Value::UInt(s.students.into())),
                ]
            }
        };
        lb.add_tile_point(cols.ids[i], px, &props);
    }
}
