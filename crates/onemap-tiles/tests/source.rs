//! Tiles of a whole (small) generated city from `TileSource`, decoded by an
//! independent decoder (Python `mapbox-vector-tile` + shapely) and checked
//! against brute-force scans of the city's plain data.

mod common;

use common::*;
use geo::{Area, BoundingRect, Contains, Intersects, MapCoords};
use geo_types::{Coord, MultiPolygon, Point, Rect};
use onemap_core::tile::{lonlat_to_tile_f, tiles_covering};
use onemap_core::{AreaId, BBox, CityData, EventCategory, Layer, Level, TileCoord};
use onemap_index::{City, EventFilter};
use onemap_synth::{generate, SynthConfig};
use onemap_tiles::{
    area_feature_id, hexagon_feature_id, rule, rule_for, LayerSet, TileRequest, TileSource,
    TilesError, DEFAULT_BUFFER, FINEST_BAND, MAX_SAFE_INTEGER, MAX_TILE_POINTS, MIN_FEATURE_PX,
};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// A polygon layer's shapes by id.
type Shapes<'a> = Vec<(u64, &'a MultiPolygon<f64>)>;

struct Fixture {
    data: CityData,
    src: TileSource,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (_, data) = generate(&SynthConfig {
            seed: 7,
            scale: 0.02,
            events: None,
            ..Default::default()
        })
        .expect("valid config");
        let city = Arc::new(City::build(data.clone()).expect("a valid city"));
        Fixture {
            data,
            src: TileSource::new(city, 64 << 20),
        }
    })
}

fn req(layers: &str, tile: TileCoord, filter: EventFilter) -> TileRequest {
    TileRequest {
        layers: LayerSet::parse(layers).unwrap(),
        tile,
        filter,
    }
}

fn get(layers: &str, tile: TileCoord, filter: EventFilter) -> Option<Json> {
    let t = fixture().src.tile(&req(layers, tile, filter)).unwrap()?;
    Some(decode(&t.bytes))
}

/// The natural ids of a layer's features: an area's is its `code` (its
/// feature id is not its id, see `ids_are_exact_in_javascript`), any other
/// feature's is its feature id.
fn ids(tile: &Json, layer: &str) -> BTreeSet<u64> {
    let area = layer == "labels"
        || layer
            .parse::<Layer>()
            .is_ok_and(|l| l.area_level().is_some());
    tile.get(layer)
        .map(|l| {
            l["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    if area {
                        code(f)
                    } else {
                        f["id"].as_u64().unwrap()
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An area feature's id: its `code`, a string (ids of units exceed 2^53).
fn code(f: &Json) -> u64 {
    let c = &f["properties"]["code"];
    assert_eq!(c["kind"], "string_value", "{f}");
    c["value"].as_str().unwrap().parse().unwrap()
}

/// The feature ids of a layer's features.
fn feature_ids(tile: &Json, layer: &str) -> BTreeSet<u64> {
    tile.get(layer)
        .map(|l| {
            l["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_u64().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// Tile pixel position of a lon/lat, computed here from onemap-core alone.
fn px(tile: TileCoord, lon: f64, lat: f64) -> [f64; 2] {
    let (tx, ty) = lonlat_to_tile_f(lon, lat, tile.z());
    [
        (tx - f64::from(tile.x())) * 4096.0,
        (ty - f64::from(tile.y())) * 4096.0,
    ]
}

fn in_window(p: [f64; 2], margin: f64) -> bool {
    let (lo, hi) = (
        -f64::from(DEFAULT_BUFFER) - margin,
        4096.0 + f64::from(DEFAULT_BUFFER) + margin,
    );
    (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1])
}

/// The lon/lat rectangle of the tile's window grown by `margin` pixels.
fn window_rect(tile: TileCoord, margin: f64) -> Rect<f64> {
    let b = f64::from(DEFAULT_BUFFER) + margin;
    let (w, n) = lonlat_at(tile, -b, -b);
    let (e, s) = lonlat_at(tile, 4096.0 + b, 4096.0 + b);
    Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n })
}

/// Every coordinate inside the tile plus buffer, every geometry valid,
/// exteriors positive and holes negative (y down), every feature with an id.
fn assert_valid(tile: &Json, what: &str) {
    let buf = i64::from(DEFAULT_BUFFER);
    for (name, layer) in tile.as_object().unwrap() {
        assert_eq!(layer["extent"], 4096);
        for f in layer["features"].as_array().unwrap() {
            assert!(f["has_id"].as_bool().unwrap(), "{what} {name}: no id");
            assert!(
                f["valid"].as_bool().unwrap(),
                "{what} {name} {}: invalid",
                f["id"]
            );
            for [x, y] in coords(f) {
                assert!(
                    (-buf..=4096 + buf).contains(&x) && (-buf..=4096 + buf).contains(&y),
                    "{what} {name}: ({x}, {y}) outside"
                );
            }
            if f["type"] == 3 {
                for poly in polygons(f) {
                    assert!(area(&poly[0]) > 0.0, "{what} {name} {}: exterior", f["id"]);
                    for h in &poly[1..] {
                        assert!(area(h) < 0.0, "{what} {name} {}: hole", f["id"]);
                    }
                }
            }
        }
    }
}

fn city_tile(z: u8) -> TileCoord {
    putian(z)
}

#[test]
fn every_geometry_is_valid_and_points_are_selected_exactly() {
    let f = fixture();
    let filter = EventFilter::default();
    for z in [5u8, 8, 10, 12, 14, 16] {
        let t = city_tile(z);
        let tile = get("districts,towns,villages,grids,units,events,ships,heritage,homesteads,enterprises,schools,labels", t, filter.clone())
            .unwrap_or_else(|| panic!("tile {t} has features"));
        assert_valid(&tile, &t.to_string());
        // Point layers: exactly the points inside the window.
        let want = |layer: Layer, pts: Vec<(u64, f64, f64)>| -> BTreeSet<u64> {
            let r = rule_for(layer);
            if !r.visible_at(z) || r.h3_resolution(z).is_some() {
                return BTreeSet::new();
            }
            pts.into_iter()
                .filter(|&(_, lon, lat)| in_window(px(t, lon, lat), 0.0))
                .map(|(id, _, _)| id)
                .collect()
        };
        let d = &f.data;
        let cases = [
            (
                Layer::Events,
                d.events
                    .iter()
                    .map(|e| (e.id, e.lon, e.lat))
                    .collect::<Vec<_>>(),
            ),
            (
                Layer::Ships,
                d.ships
                    .iter()
                    .map(|s| (u64::from(s.mmsi), s.lon, s.lat))
                    .collect(),
            ),
            (
                Layer::Heritage,
                d.heritage.iter().map(|h| (h.id, h.lon, h.lat)).collect(),
            ),
            (
                Layer::Enterprises,
                d.enterprises.iter().map(|e| (e.id, e.lon, e.lat)).collect(),
            ),
            (
                Layer::Schools,
                d.schools.iter().map(|s| (s.id, s.lon, s.lat)).collect(),
            ),
        ];
        for (layer, pts) in cases {
            let name = layer.as_str();
            let r = rule(name).unwrap();
            if r.h3_resolution(z).is_some() {
                continue;
            }
            let want = want(layer, pts);
            match r.density_limit(z) {
                // Over the density limit: hexagons (see dense_tiles_draw_hexagons).
                Some((max, _)) if want.len() > max => {
                    assert!(
                        features(&tile, name).iter().all(|f| f["type"] == 3),
                        "{t} {name}"
                    );
                }
                _ => assert_eq!(ids(&tile, name), want, "{t} {name}"),
            }
        }
        // Polygon layers: every polygon meeting the window shrunk by the
        // simplification margin (and big enough to be drawn) is there; nothing
        // is there that does not meet the window grown by it.
        let mut polys: Vec<(&str, Shapes)> = Level::ALL
            .iter()
            .map(|&l| {
                (
                    Layer::for_level(l).as_str(),
                    d.areas
                        .level(l)
                        .iter()
                        .map(|a| (a.id.get(), &a.geometry))
                        .collect(),
                )
            })
            .collect();
        polys.push((
            "homesteads",
            d.homesteads.iter().map(|h| (h.id, &h.geometry)).collect(),
        ));
        for (name, shapes) in polys {
            let r = rule(name).unwrap();
            let got = ids(&tile, name);
            if !r.visible_at(z) {
                assert!(got.is_empty(), "{t} {name}");
                continue;
            }
            let margin = r.tolerance_px + 2.0;
            let (inner, outer) = (window_rect(t, -margin), window_rect(t, margin));
            let mut must = BTreeSet::new();
            let mut may = BTreeSet::new();
            for (id, g) in shapes {
                let b = g.bounding_rect().unwrap();
                let (p0, p1) = (px(t, b.min().x, b.max().y), px(t, b.max().x, b.min().y));
                let size = (p1[0] - p0[0]).max(p1[1] - p0[1]);
                if g.intersects(&outer) {
                    may.insert(id);
                }
                if g.intersects(&inner) && (size >= MIN_FEATURE_PX + 1.0 || z >= FINEST_BAND) {
                    must.insert(id);
                }
            }
            assert!(
                must.is_subset(&got),
                "{t} {name}: missing {:?}",
                must.difference(&got).collect::<Vec<_>>()
            );
            assert!(
                got.is_subset(&may),
                "{t} {name}: extra {:?}",
                got.difference(&may).collect::<Vec<_>>()
            );
        }
        // Labels: each inside (or within a pixel of) its area.
        if let Some(labels) = tile.get("labels") {
            for l in labels["features"].as_array().unwrap() {
                let id = code(l);
                let a = d
                    .areas
                    .get(onemap_core::AreaId::new(id).unwrap())
                    .unwrap_or_else(|| panic!("label {id} names no area"));
                assert!(rule_for(Layer::for_level(a.level)).labelled_at(z));
                let c = coords(l)[0];
                let (lon, lat) = lonlat_at(t, c[0] as f64, c[1] as f64);
                let near = (-1..=1).any(|dx| {
                    (-1..=1).any(|dy| {
                        let (lon, lat) = lonlat_at(t, (c[0] + dx) as f64, (c[1] + dy) as f64);
                        a.geometry.contains(&Point::new(lon, lat))
                    })
                });
                assert!(near, "{t}: label of {id} at ({lon}, {lat}) is outside it");
            }
        }
    }
}

/// JavaScript reads MVT ids and integer properties as doubles, exact only
/// up to 2^53: every feature id is below it and distinct within its layer;
/// an area's feature id is its level and position and its `code` its id; a
/// hexagon's id is its cell's. (`viewer/tests/ids.test.mjs` decodes served
/// tiles with `@mapbox/vector-tile` itself.)
#[test]
fn ids_are_exact_in_javascript() {
    let f = fixture();
    let areas = f.src.city().areas();
    let (mut units, mut labels, mut hexagons) = (0, 0, 0);
    for z in [5u8, 8, 10, 12, 14, 16] {
        let t = city_tile(z);
        let tile = get(&LayerSet::all().names(), t, EventFilter::default()).unwrap();
        for (name, layer) in tile.as_object().unwrap() {
            let feats = layer["features"].as_array().unwrap();
            assert_eq!(
                feature_ids(&tile, name).len(),
                feats.len(),
                "{t} {name}: feature ids repeat"
            );
            for x in feats {
                let id = x["id"].as_u64().unwrap();
                assert!(id <= MAX_SAFE_INTEGER, "{t} {name}: id {id}");
                let p = &x["properties"];
                if p.get("code").is_some() {
                    let (level, pos) = areas
                        .position(AreaId::new(code(x)).unwrap())
                        .expect("an area's code");
                    assert_eq!(id, area_feature_id(level, pos), "{t} {name}");
                    units += usize::from(level == Level::Unit);
                    labels += usize::from(name == "labels");
                } else if let Some(h) = p.get("h3") {
                    let cell: h3o::CellIndex = h["value"].as_str().unwrap().parse().unwrap();
                    assert_eq!(id, hexagon_feature_id(cell), "{t} {name}");
                    hexagons += 1;
                }
            }
        }
    }
    assert!(
        units > 20 && labels > 20 && hexagons > 20,
        "units {units}, labels {labels}, hexagons {hexagons}"
    );
}

#[test]
fn a_polygon_cut_across_tiles_keeps_its_area() {
    let f = fixture();
    for (level, z) in [
        (Level::District, 10u8),
        (Level::Town, 12),
        (Level::Village, 14),
    ] {
        let a = &f.data.areas.level(level)[0];
        let world = a.geometry.map_coords(|c| {
            let (x, y) = lonlat_to_tile_f(c.x, c.y, 0);
            Coord { x, y }
        });
        let want = world.unsigned_area();
        let b = a.geometry.bounding_rect().unwrap();
        let bbox = BBox::new(b.min().x, b.min().y, b.max().x, b.max().y).unwrap();
        let mut got = 0.0;
        let mut n = 0;
        let name = Layer::for_level(level).as_str();
        for t in tiles_covering(&bbox, z) {
            let Some(tile) = get(name, t, EventFilter::default()) else {
                continue;
            };
            for feat in features(&tile, name)
                .iter()
                .filter(|x| code(x) == a.id.get())
            {
                got += feat["area_in_tile"].as_f64().unwrap()
                    / (4096.0 * f64::from(1u32 << z)).powi(2);
                n += 1;
            }
        }
        let rel = (got - want).abs() / want;
        assert!(n > 1, "{name} {} lies in one tile at z{z}", a.id);
        assert!(
            rel < 0.01,
            "{name} {} at z{z}: {got} vs {want} ({rel})",
            a.id
        );
    }
}

fn filtered_count(filter: &EventFilter) -> u64 {
    fixture()
        .data
        .events
        .iter()
        .filter(|e| filter.matches(e))
        .count() as u64
}

fn hex_counts(tile: &Json) -> BTreeMap<String, u64> {
    features(tile, "events")
        .iter()
        .map(|f| {
            let p = &f["properties"];
            assert_eq!(f["type"], 3, "hexagons are polygons");
            assert_eq!(p["h3"]["kind"], "string_value");
            let open = p["open"]["value"].as_u64().unwrap();
            let count = p["count"]["value"].as_u64().unwrap();
            assert!(open <= count);
            (p["h3"]["value"].as_str().unwrap().to_string(), count)
        })
        .collect()
}

#[test]
fn hexagon_counts_sum_to_the_filtered_event_count() {
    let f = fixture();
    let late = f.data.events.iter().map(|e| e.reported_at).max().unwrap() - 200 * 86_400;
    let filters = [
        EventFilter::default(),
        EventFilter {
            from: Some(late),
            to: None,
            categories: Some(vec![EventCategory::Road, EventCategory::Drainage]),
            statuses: None,
            homestead_statuses: None,
        },
    ];
    for filter in filters {
        let want = filtered_count(&filter);
        assert!(want > 0);
        // One z5 tile holds the whole city.
        let t5 = putian(5);
        let all = hex_counts(&get("events", t5, filter.clone()).unwrap());
        assert_eq!(all.values().sum::<u64>(), want, "z5 {filter:?}");
        // At z8, hexagons repeat across tiles with the same count; the
        // distinct ones add up.
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        let b = f.src.bounds();
        let bbox = BBox::new(b[0], b[1], b[2], b[3]).unwrap();
        for t in tiles_covering(&bbox, 8) {
            let Some(tile) = get("events,districts", t, filter.clone()) else {
                continue;
            };
            if tile.get("events").is_none() {
                continue;
            }
            for (h, c) in hex_counts(&tile) {
                if let Some(prev) = seen.insert(h.clone(), c) {
                    assert_eq!(prev, c, "hexagon {h} differs between tiles");
                }
            }
        }
        assert_eq!(seen.values().sum::<u64>(), want, "z8 {filter:?}");
        // District figures: the filtered events inside some unit.
        let tile = get("districts", putian(5), filter.clone()).unwrap();
        let mut events = 0;
        for d in features(&tile, "districts") {
            let p = &d["properties"];
            let n = p["events"]["value"].as_u64().unwrap();
            let open = p["open"]["value"].as_u64().unwrap();
            assert!(open <= n);
            if n > 0 {
                let rate = p["closure_rate"]["value"].as_f64().unwrap();
                assert!((rate - (n - open) as f64 / n as f64).abs() < 1e-9);
            }
            events += n;
        }
        let in_units = f
            .data
            .events
            .iter()
            .filter(|e| filter.matches(e) && f.src.city().event_unit(e.id).is_some())
            .count() as u64;
        assert_eq!(events, in_units, "{filter:?}");
    }
}

#[test]
fn event_points_follow_the_filter() {
    let f = fixture();
    let filter = EventFilter {
        categories: Some(vec![EventCategory::Sanitation]),
        ..Default::default()
    };
    let t = putian(14);
    let tile = get("events", t, filter.clone()).expect("events near the centre");
    for e in features(&tile, "events") {
        let p = &e["properties"];
        assert_eq!(p["category"]["value"], "sanitation");
        assert_eq!(p["reported_at"]["kind"], "int_value");
        // Unit ids exceed 2^53: a string, exact.
        assert_eq!(p["unit_id"]["kind"], "string_value");
        let id = e["id"].as_u64().unwrap();
        let event = f.data.events.iter().find(|x| x.id == id).unwrap();
        assert_eq!(p["unit_id"]["value"], event.unit.get().to_string());
    }
    let want: BTreeSet<u64> = f
        .data
        .events
        .iter()
        .filter(|e| filter.matches(e) && in_window(px(t, e.lon, e.lat), 0.0))
        .map(|e| e.id)
        .collect();
    assert!(!want.is_empty() && want.len() <= MAX_TILE_POINTS);
    assert_eq!(ids(&tile, "events"), want);
}

/// A city of few units and many events, so some z14 tiles hold more events
/// than the density limit of the rules.
fn dense_fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (_, data) = generate(&SynthConfig {
            seed: 3,
            scale: 0.02,
            events: Some(800_000),
            ..Default::default()
        })
        .expect("valid config");
        let city = Arc::new(City::build(data.clone()).expect("a valid city"));
        Fixture {
            data,
            src: TileSource::new(city, 0),
        }
    })
}

#[test]
fn dense_tiles_draw_hexagons() {
    let f = dense_fixture();
    let rule = rule("events").unwrap();
    let z = 14;
    let (max, res) = rule.density_limit(z).expect("a density limit at z14");
    let res = h3o::Resolution::try_from(res).unwrap();
    // The densest z14 tile.
    let mut per_tile: BTreeMap<TileCoord, usize> = BTreeMap::new();
    for e in &f.data.events {
        *per_tile
            .entry(TileCoord::containing(e.lon, e.lat, z))
            .or_default() += 1;
    }
    let (&t, _) = per_tile
        .iter()
        .max_by_key(|&(t, n)| (*n, std::cmp::Reverse(*t)))
        .unwrap();
    // The hexagon of an event: the cell holding its position at `res`.
    let cell = |lon: f64, lat: f64| -> String {
        h3o::LatLng::new(lat, lon).unwrap().to_cell(res).to_string()
    };
    let late = f.data.events.iter().map(|e| e.reported_at).max().unwrap() - 400 * 86_400;
    let filters = [
        EventFilter::default(),
        EventFilter {
            categories: Some(vec![EventCategory::Road]),
            ..Default::default()
        },
        EventFilter {
            from: Some(late),
            categories: Some(vec![EventCategory::Road, EventCategory::Sanitation]),
            ..Default::default()
        },
    ];
    let (mut saw_hex, mut saw_points) = (false, false);
    let mut sizes = Vec::new();
    for filter in filters {
        let in_window: Vec<_> = f
            .data
            .events
            .iter()
            .filter(|e| filter.matches(e) && in_window(px(t, e.lon, e.lat), 0.0))
            .collect();
        let tile = dense_get(f, t, filter.clone());
        sizes.push(in_window.len());
        if in_window.len() <= max {
            // Under the limit: the points themselves.
            saw_points = true;
            let want: BTreeSet<u64> = in_window.iter().map(|e| e.id).collect();
            assert_eq!(tile.map(|t| ids(&t, "events")).unwrap_or_default(), want);
            continue;
        }
        saw_hex = true;
        let tile = tile.expect("a tile over the limit has hexagons");
        assert_valid(&tile, &t.to_string());
        let hexes = hex_counts(&tile);
        // Each hexagon counts the filtered events of its cell, wherever they are.
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for e in f.data.events.iter().filter(|e| filter.matches(e)) {
            let c = cell(e.lon, e.lat);
            if hexes.contains_key(&c) {
                *want.entry(c).or_default() += 1;
            }
        }
        assert_eq!(hexes, want, "{filter:?}");
        // Every event that would have been drawn is in one of them.
        for e in &in_window {
            assert!(
                hexes.contains_key(&cell(e.lon, e.lat)),
                "event {} not covered",
                e.id
            );
        }
        assert!(hexes.values().sum::<u64>() >= in_window.len() as u64);
    }
    assert!(
        saw_hex && saw_points,
        "the fixture exercises both sides of the limit: {t} {sizes:?}"
    );
}

fn dense_get(f: &Fixture, t: TileCoord, filter: EventFilter) -> Option<Json> {
    let tile = f.src.tile(&req("events", t, filter)).unwrap()?;
    Some(decode(&tile.bytes))
}

#[test]
fn empty_tiles_and_bad_requests() {
    let src = &fixture().src;
    let pacific = TileCoord::containing(-150.0, 0.0, 10);
    assert!(src
        .tile(&req(
            "districts,events,labels",
            pacific,
            EventFilter::default()
        ))
        .unwrap()
        .is_none());
    // Below a layer's zooms: empty too.
    assert!(src
        .tile(&req("units", putian(9), EventFilter::default()))
        .unwrap()
        .is_none());
    let deep = TileCoord::containing(119.0, 25.43, 19);
    assert!(matches!(
        src.tile(&req("districts", deep, EventFilter::default())),
        Err(TilesError::ZoomTooDeep { z: 19, .. })
    ));
    let bad = EventFilter {
        from: Some(10),
        to: Some(5),
        ..Default::default()
    };
    assert!(matches!(
        src.tile(&req("events", putian(10), bad)),
        Err(TilesError::InvalidFilter { .. })
    ));
}

#[test]
fn cache_hits_and_version_bumps() {
    // A source of its own, so other tests' requests do not disturb the counts.
    let f = fixture();
    let src = TileSource::new(Arc::clone(f.src.city()), 16 << 20);
    let t = putian(12);
    let r = |l: &str| req(l, t, EventFilter::default());
    let a = src.tile(&r("districts,events")).unwrap().unwrap();
    let s0 = src.cache_stats();
    let b = src.tile(&r("districts,events")).unwrap().unwrap();
    let s1 = src.cache_stats();
    assert_eq!(a, b, "a hit returns identical bytes and ETag");
    assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
    assert_eq!((s1.hits, s1.misses), (s0.hits + 1, s0.misses));
    assert!(s1.entries >= 1 && s1.bytes >= a.bytes.len() as u64);

    let layers = [
        "districts",
        "events",
        "ships",
        "heritage",
        "schools",
        "labels",
    ];
    for l in layers {
        src.tile(&r(l)).unwrap();
    }
    // Which requests miss after a bump: exactly those reading the layer.
    let misses_after = |bumped: Layer| -> BTreeSet<&str> {
        src.bump_version(bumped);
        layers
            .into_iter()
            .filter(|l| {
                let before = src.cache_stats().misses;
                src.tile(&r(l)).unwrap();
                src.cache_stats().misses > before
            })
            .collect()
    };
    assert_eq!(misses_after(Layer::Ships), BTreeSet::from(["ships"]));
    assert_eq!(misses_after(Layer::Heritage), BTreeSet::from(["heritage"]));
    // Area tiles carry event figures, so they read events too.
    assert_eq!(
        misses_after(Layer::Events),
        BTreeSet::from(["districts", "events"])
    );
    assert_eq!(
        misses_after(Layer::Districts),
        BTreeSet::from(["districts", "labels"])
    );
    // A filter only splits the cache for layers that read events.
    let filtered = EventFilter {
        from: Some(0),
        ..Default::default()
    };
    let before = src.cache_stats().misses;
    src.tile(&req("ships", t, filtered)).unwrap();
    assert_eq!(
        src.cache_stats().misses,
        before,
        "ships ignore the event filter"
    );
}

#[test]
fn a_new_city_snapshot_changes_event_tiles_only() {
    let f = fixture();
    let src = TileSource::new(Arc::clone(f.src.city()), 16 << 20);
    let t = putian(14);
    let r = |l: &str| req(l, t, EventFilter::default());
    // A new event in the middle of the tile, in the unit found there.
    let b = t.bbox();
    let (lon, lat) = ((b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0);
    let city = src.city();
    let unit = city
        .locate_unit(lon, lat)
        .unwrap()
        .expect("the tile's middle is in the city");
    let id = f.data.events.iter().map(|e| e.id).max().unwrap() + 1;
    let event = onemap_core::Event {
        id,
        lon,
        lat,
        category: EventCategory::Drainage,
        status: onemap_core::EventStatus::Reported,
        reported_at: 1_800_000_000,
        closed_at: None,
        status_at: 1_800_000_000,
        unit,
    };
    let before = get_from(&src, "events", t).expect("events near Putian");
    assert!(!ids(&before, "events").contains(&id));
    src.tile(&r("ships,heritage,schools")).unwrap();
    let next = src.with_city(Arc::new(city.with_events(vec![event]).unwrap()));
    let after = get_from(&next, "events", t).expect("events near Putian");
    let (b_ids, a_ids) = (ids(&before, "events"), ids(&after, "events"));
    if b_ids.len() < MAX_TILE_POINTS {
        assert_eq!(a_ids.len(), b_ids.len() + 1);
        assert!(a_ids.contains(&id), "the new event is drawn");
    } else {
        assert_eq!(
            hex_counts(&after).values().sum::<u64>(),
            hex_counts(&before).values().sum::<u64>() + 1
        );
    }
    // The old source still serves its own snapshot, from the shared cache.
    assert_eq!(get_from(&src, "events", t), Some(before));
    // Layers that do not read events stay cached across the snapshots.
    let misses = next.cache_stats().misses;
    next.tile(&r("ships,heritage,schools")).unwrap();
    assert_eq!(
        next.cache_stats().misses,
        misses,
        "ships, heritage, schools: a hit"
    );
    next.tile(&r("districts")).unwrap();
    assert_eq!(
        next.cache_stats().misses,
        misses + 1,
        "area figures read events"
    );
    // The report was appended (projections and hexagons extended, not
    // made again): every zoom's tile there is what a fresh source renders.
    assert_eq!(
        next.city().events_appended_to(city),
        Some(f.data.events.len())
    );
    let fresh = TileSource::new(Arc::clone(next.city()), 0);
    for z in [8, 10, 12, 14, 16] {
        let t = TileCoord::containing(lon, lat, z);
        let q = req("events,villages,units", t, EventFilter::default());
        assert_eq!(
            next.render_uncached(&q).unwrap(),
            fresh.render_uncached(&q).unwrap(),
            "z{z}"
        );
    }
    // Then a report another server made a second before that one, with a
    // higher id: merged before it in the tail, and again drawn as a fresh
    // source draws it.
    let earlier = onemap_core::Event {
        id: id + 1,
        reported_at: 1_800_000_000 - 1,
        status_at: 1_800_000_000 - 1,
        lon: lon + 1e-4,
        ..event_like(&next, id)
    };
    let last = next;
    let next = last.with_city(Arc::new(last.city().with_events(vec![earlier]).unwrap()));
    assert_eq!(
        next.city().events_appended_to(last.city()),
        Some(f.data.events.len()),
        "merged into the tail, the tree shared"
    );
    let fresh = TileSource::new(Arc::clone(next.city()), 0);
    for z in [8, 10, 12, 14, 16] {
        let t = TileCoord::containing(lon, lat, z);
        let q = req("events,villages,units", t, EventFilter::default());
        let drawn = next.render_uncached(&q).unwrap();
        assert_eq!(drawn, fresh.render_uncached(&q).unwrap(), "z{z}");
    }
    let t = TileCoord::containing(lon, lat, 16);
    let drawn = get_from(&next, "events", t).expect("events there");
    assert!(
        ids(&drawn, "events").contains(&(id + 1)),
        "the earlier report is drawn"
    );
}

/// The event `id` of `src`'s city, as a template for another.
fn event_like(src: &TileSource, id: u64) -> onemap_core::Event {
    src.city().event(id).expect("the event is there")
}

#[test]
fn changed_events_re_render_only_their_districts_tiles() {
    let f = fixture();
    let src = TileSource::new(Arc::clone(f.src.city()), 16 << 20);
    let city = src.city();
    let districts = &f.data.areas.level(Level::District);
    let bbox = |g: &MultiPolygon<f64>| g.bounding_rect().unwrap();
    // An event of the island district, and a village far west of it.
    let island = districts
        .iter()
        .find(|d| d.name == "湄洲岛")
        .expect("湄洲岛");
    let ib = bbox(&island.geometry);
    let event = f
        .data
        .events
        .iter()
        .find(|e| e.unit.ancestor_at(Level::District) == Some(island.id))
        .expect("an event on the island")
        .clone();
    let far = f
        .data
        .areas
        .level(Level::Village)
        .iter()
        .find(|v| bbox(&v.geometry).max().x < ib.min().x - 0.5)
        .expect("a village far west of the island");
    let c = bbox(&far.geometry).center();
    let far_tile = TileCoord::containing(c.x, c.y, 12);
    let near_tile = TileCoord::containing(event.lon, event.lat, 12);
    let layers = "villages,grids,events";
    let r = |t| req(layers, t, EventFilter::default());
    src.tile(&r(far_tile)).unwrap();
    src.tile(&r(near_tile)).unwrap();
    let mut moved = event.clone();
    moved.status = onemap_core::EventStatus::Closed;
    moved.closed_at = Some(event.reported_at + 3600);
    moved.status_at = event.reported_at + 3600;
    let next_city = Arc::new(city.with_events(vec![moved.clone()]).unwrap());
    let next = src.with_changed_events(next_city, [(event.lon, event.lat)]);
    let misses = next.cache_stats().misses;
    let far_again = next.tile(&r(far_tile)).unwrap();
    assert_eq!(
        next.cache_stats().misses,
        misses,
        "a far district's tile stays cached"
    );
    assert_eq!(far_again, src.tile(&r(far_tile)).unwrap());
    next.tile(&r(near_tile)).unwrap();
    assert_eq!(
        next.cache_stats().misses,
        misses + 1,
        "the changed district's tile is rendered again"
    );
    // And what the far tile shows is what a fresh source renders.
    let fresh = TileSource::new(Arc::clone(next.city()), 0);
    assert_eq!(
        fresh.render_uncached(&r(far_tile)).unwrap(),
        far_again.map(|t| t.bytes.to_vec())
    );
}

#[test]
fn moved_ships_change_ship_tiles_only() {
    let f = fixture();
    let src = TileSource::new(Arc::clone(f.src.city()), 16 << 20);
    let city = src.city();
    let ship = city
        .ships()
        .iter()
        .find(|s| !s.in_port)
        .expect("a ship at sea")
        .clone();
    let z = 14;
    let tile_at = |lon: f64, lat: f64| {
        let (tx, ty) = lonlat_to_tile_f(lon, lat, z);
        TileCoord::new(u32::from(z), tx.floor() as u32, ty.floor() as u32).unwrap()
    };
    let t = tile_at(ship.lon, ship.lat);
    let r = |l: &str, t: TileCoord| req(l, t, EventFilter::default());
    let before = get_from(&src, "ships", t).expect("the ship's tile has ships");
    assert!(ids(&before, "ships").contains(&u64::from(ship.mmsi)));
    // Tiles of other layers, cached before the move.
    for l in ["districts", "events", "heritage,schools"] {
        src.tile(&r(l, t)).unwrap();
    }
    // Three tiles east, with a new heading.
    let b = t.bbox();
    let w = b.max_lon - b.min_lon;
    let mut moved = ship.clone();
    moved.lon += 3.0 * w;
    moved.heading_deg = 123.5;
    moved.reported_at += 60;
    let next = src.with_city(Arc::new(city.with_ships(vec![moved.clone()]).unwrap()));
    assert_eq!(next.version(Layer::Ships), src.version(Layer::Ships) + 1);
    assert_eq!(next.version(Layer::Events), src.version(Layer::Events));
    let misses = next.cache_stats().misses;
    for l in ["districts", "events", "heritage,schools"] {
        next.tile(&r(l, t)).unwrap();
    }
    assert_eq!(
        next.cache_stats().misses,
        misses,
        "area, event and other tiles: hits"
    );
    let after = get_from(&next, "ships", t);
    assert_eq!(
        next.cache_stats().misses,
        misses + 1,
        "the ships tile: a miss"
    );
    assert!(!after
        .as_ref()
        .is_some_and(|a| ids(a, "ships").contains(&u64::from(ship.mmsi))));
    let there = get_from(&next, "ships", tile_at(moved.lon, moved.lat)).expect("the ship is drawn");
    let feat = there["ships"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"].as_u64() == Some(u64::from(ship.mmsi)))
        .expect("the moved ship is in its new tile")
        .clone();
    let heading = feat["properties"]["heading"]["value"].as_f64().unwrap();
    assert!((heading - 123.5).abs() < 1e-3, "heading {heading}");
    // The old source still draws the ship where it was.
    assert_eq!(get_from(&src, "ships", t), Some(before));
}

fn get_from(src: &TileSource, layers: &str, tile: TileCoord) -> Option<Json> {
    let t = src
        .tile(&req(layers, tile, EventFilter::default()))
        .unwrap()?;
    Some(decode(&t.bytes))
}

#[test]
fn tilejson_and_catalog() {
    let src = &fixture().src;
    let set = LayerSet::parse("districts,events").unwrap();
    let tj = src.tilejson(&set, "https://example.test/tiles/{layers}/{z}/{x}/{y}");
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        "https://example.test/tiles/districts,events/{z}/{x}/{y}"
    );
    // Districts start at z0, so a world-zoomed map shows the city.
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 18);
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        b[0] > 118.0 && b[2] < 120.5 && b[1] > 24.5 && b[3] < 26.5,
        "{b:?}"
    );
    let vl = tj["vector_layers"].as_array().unwrap();
    assert_eq!(vl.len(), 2);
    assert_eq!(vl[0]["id"], "districts");
    assert_eq!(vl[0]["fields"]["closure_rate"], "Number");
    assert_eq!(vl[1]["fields"]["h3"], "String");
    // Ids beyond 2^53 are strings; the descriptions say what ids are.
    assert_eq!(vl[0]["fields"]["code"], "String");
    assert_eq!(vl[1]["fields"]["unit_id"], "String");
    assert!(vl[0]["description"].as_str().unwrap().contains("`code`"));
    let cat = src.catalog();
    let layers = cat["layers"].as_array().unwrap();
    assert_eq!(layers.len(), onemap_tiles::rules().len());
    let ev = layers.iter().find(|l| l["name"] == "events").unwrap();
    assert_eq!(ev["points_from"], 14);
    assert_eq!(ev["fields"]["category"], "String");
    let units = layers.iter().find(|l| l["name"] == "units").unwrap();
    assert_eq!(units["fields"]["code"], "String");
    assert!(units["feature_id"].as_str().unwrap().contains("2^32"));
}
