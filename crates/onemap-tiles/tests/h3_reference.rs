//! Hexagon tiles against the H3 reference library: tiles of a small
//! generated city decoded by the independent decoder (`decode_mvt.py`),
//! and each hexagon's cell, counts and boundary compared with what the
//! `h3` Python package (Uber's C library) says: the count of a hexagon is
//! the number of (filtered) points whose position `latLngToCell` puts in
//! its cell, at every resolution the zoom rules draw (5–10).

mod common;

#[path = "../../onemap-index/tests/common/h3_reference.rs"]
mod h3_reference;

use common::{coords, decode, features};
use h3_reference::reference;
use onemap_core::tile::lonlat_to_tile_f;
use onemap_core::{CityData, EventCategory, EventStatus, TileCoord};
use onemap_index::{City, EventFilter};
use onemap_synth::{generate, SynthConfig, HISTORY_END};
use onemap_tiles::{rule, LayerSet, TileRequest, TileSource, DEFAULT_BUFFER, MAX_TILE_POINTS};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// The small test city (seed 7, scale 0.02) with `events` events.
fn city(events: Option<u64>) -> (CityData, TileSource) {
    let (_, data) = generate(&SynthConfig {
        seed: 7,
        scale: 0.02,
        events,
        ..Default::default()
    })
    .expect("valid config");
    let city = City::build(data.clone()).expect("a valid city");
    (data, TileSource::new(std::sync::Arc::new(city), 64 << 20))
}

/// Tile pixel position of a lon/lat (extent 4096, y down), from onemap-core.
fn px(tile: TileCoord, lon: f64, lat: f64) -> [f64; 2] {
    let (tx, ty) = lonlat_to_tile_f(lon, lat, tile.z());
    [
        (tx - f64::from(tile.x())) * 4096.0,
        (ty - f64::from(tile.y())) * 4096.0,
    ]
}

/// The points of a layer: position, whether the request's filter keeps
/// it, and whether it counts in the hexagon's second figure (`open`
/// events, `large` enterprises).
struct Points<'a> {
    layer: &'a str,
    second: &'a str,
    points: Vec<([f64; 2], bool, bool)>,
}

/// More than any hexagon the rules draw is wide, in pixels of its tile
/// (a res-8 hexagon at z12 is about 430): a cell reaching into a tile has
/// all its points within this margin of it.
const MARGIN_PX: f64 = 1024.0;

/// Checks every hexagon of `p.layer` in a decoded tile against the
/// reference: its cell holds exactly `count` kept points (and `second`
/// of them), its ring is the cell's boundary (within quantization), and
/// no cell with kept points whose boundary reaches into the tile is
/// missing. Returns how many hexagons were checked.
fn check_hexagons(tile: TileCoord, decoded: &Json, res: u8, p: &Points<'_>) -> usize {
    // Only points near the tile can be in a cell that reaches into it.
    let near: Vec<&([f64; 2], bool, bool)> = p
        .points
        .iter()
        .filter(|(q, _, _)| {
            let t = px(tile, q[0], q[1]);
            t.iter().all(|&v| v > -MARGIN_PX && v < 4096.0 + MARGIN_PX)
        })
        .collect();
    let positions: Vec<[f64; 2]> = near.iter().map(|x| x.0).collect();
    let r = reference(&positions, &[res], &[]);
    let mut want: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for (x, cell) in near.iter().zip(&r.cells[&res]) {
        if x.1 {
            let w = want.entry(cell.clone()).or_default();
            w[0] += 1;
            w[1] += u64::from(x.2);
        }
    }
    let cells: Vec<String> = want.keys().cloned().collect();
    let boundaries = reference(&[], &[], &cells).boundaries;
    let ring_px = |cell: &str| -> Vec<[f64; 2]> {
        boundaries
            .get(cell)
            .unwrap_or_else(|| panic!("{tile} {}: {cell} holds no kept point", p.layer))
            .iter()
            .map(|v| px(tile, v[0], v[1]))
            .collect()
    };
    let drawn_features = decoded
        .get(p.layer)
        .map(|_| features(decoded, p.layer).clone())
        .unwrap_or_default();
    let lo = -f64::from(DEFAULT_BUFFER) + 1.0;
    let hi = 4096.0 + f64::from(DEFAULT_BUFFER) - 1.0;
    let mut drawn = BTreeSet::new();
    for f in &drawn_features {
        assert_eq!(f["type"], 3, "{tile} {}: hexagons are polygons", p.layer);
        let props = &f["properties"];
        let cell = props["h3"]["value"].as_str().expect("an h3 property");
        let got = [
            props["count"]["value"].as_u64().unwrap(),
            props[p.second]["value"].as_u64().unwrap(),
        ];
        assert_eq!(
            want.get(cell).copied().unwrap_or_default(),
            got,
            "{tile} {}: hexagon {cell} (res {res}) against the reference",
            p.layer
        );
        drawn.insert(cell.to_string());
        // The drawn ring is the reference boundary where the whole
        // boundary lies inside the tile and its buffer (else it is clipped).
        let ring = ring_px(cell);
        if !ring.iter().flatten().all(|&v| v > lo && v < hi) {
            continue;
        }
        let vertices: Vec<[f64; 2]> = coords(f)
            .iter()
            .map(|c| [c[0] as f64, c[1] as f64])
            .collect();
        let close =
            |a: &[f64; 2], b: &[f64; 2]| (a[0] - b[0]).abs() <= 1.0 && (a[1] - b[1]).abs() <= 1.0;
        for v in &ring {
            assert!(
                vertices.iter().any(|d| close(d, v)),
                "{tile} {cell}: reference vertex {v:?} is not drawn"
            );
        }
        for d in &vertices {
            assert!(
                ring.iter().any(|v| close(d, v)),
                "{tile} {cell}: drawn vertex {d:?} is not the reference's"
            );
        }
    }
    // Every cell with kept points whose boundary reaches into the tile
    // proper is drawn.
    for cell in want.keys() {
        let reaches = ring_px(cell)
            .iter()
            .any(|q| q.iter().all(|&v| v > 1.0 && v < 4095.0));
        assert!(
            !reaches || drawn.contains(cell),
            "{tile} {}: cell {cell} is missing",
            p.layer
        );
    }
    drawn.len()
}

fn filters() -> [EventFilter; 2] {
    [
        EventFilter::default(),
        EventFilter {
            from: Some(HISTORY_END - 365 * 86_400),
            categories: Some(vec![EventCategory::Road, EventCategory::Sanitation]),
            ..Default::default()
        },
    ]
}

fn event_points<'a>(data: &CityData, filter: &EventFilter) -> Points<'a> {
    Points {
        layer: "events",
        second: "open",
        points: data
            .events
            .iter()
            .map(|e| {
                (
                    [e.lon, e.lat],
                    filter.matches(e),
                    e.status != EventStatus::Closed,
                )
            })
            .collect(),
    }
}

/// The z14 tile holding the most events, and how many.
fn densest_z14(data: &CityData) -> (TileCoord, usize) {
    let mut per_tile: BTreeMap<TileCoord, usize> = BTreeMap::new();
    for e in &data.events {
        *per_tile
            .entry(TileCoord::containing(e.lon, e.lat, 14))
            .or_default() += 1;
    }
    let (&t, &n) = per_tile.iter().max_by_key(|&(t, n)| (*n, *t)).unwrap();
    (t, n)
}

fn get(src: &TileSource, tile: TileCoord, filter: &EventFilter) -> Json {
    let req = TileRequest {
        layers: LayerSet::parse("events,enterprises").unwrap(),
        tile,
        filter: filter.clone(),
    };
    let made = src.tile(&req).unwrap().expect("a tile over the city");
    decode(&made.bytes)
}

/// Event and enterprise hexagons at every zoom below the points (res 5–9),
/// on the tiles above the city's densest spot.
#[test]
fn hexagons_hold_what_the_reference_puts_in_their_cells() {
    let (data, src) = city(None);
    let enterprises = Points {
        layer: "enterprises",
        second: "large",
        points: data
            .enterprises
            .iter()
            .map(|e| ([e.lon, e.lat], true, e.large))
            .collect(),
    };
    let mut tile = densest_z14(&data).0;
    let mut checked = BTreeSet::new();
    while let Some(parent) = tile.parent().filter(|t| t.z() >= 5) {
        tile = parent;
        let z = tile.z();
        for filter in filters() {
            let decoded = get(&src, tile, &filter);
            let res = rule("events").unwrap().h3_resolution(z).expect("hexagons");
            let n = check_hexagons(tile, &decoded, res, &event_points(&data, &filter));
            assert!(n > 0, "{tile}: event hexagons at resolution {res}");
            checked.insert(res);
            let res = rule("enterprises")
                .unwrap()
                .h3_resolution(z)
                .expect("hexagons");
            check_hexagons(tile, &decoded, res, &enterprises);
        }
    }
    assert_eq!(checked.into_iter().collect::<Vec<_>>(), vec![5, 6, 7, 8, 9]);
}

/// A dense z14 tile: resolution-10 hexagons, each counting every event of
/// its cell.
#[test]
fn dense_tile_hexagons_hold_what_the_reference_puts_in_their_cells() {
    // Events enough for a z14 tile over the density limit.
    let (data, src) = city(Some(450_000));
    let (tile, n) = densest_z14(&data);
    assert!(n > MAX_TILE_POINTS, "a dense z14 tile ({n} events)");
    let (_, res) = rule("events").unwrap().density_limit(14).unwrap();
    let mut hexagons = 0;
    for filter in filters() {
        let decoded = get(&src, tile, &filter);
        if features(&decoded, "events").iter().any(|f| f["type"] == 1) {
            // This filter keeps few enough events to draw them as points.
            continue;
        }
        hexagons += check_hexagons(tile, &decoded, res, &event_points(&data, &filter));
    }
    assert!(hexagons > 0, "{tile}: resolution-{res} hexagons checked");
}
