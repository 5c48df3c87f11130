//! Tiles built with `TileBuilder`, decoded by an independent decoder (Python
//! `mapbox-vector-tile` + shapely) and checked against MVT invariants.

mod common;

use common::*;
use geo_types::MultiPolygon;
use onemap_tiles::{TileBuilder, TilesError, Value, DEFAULT_BUFFER};
use serde_json::json;

type Ring = Vec<[f64; 2]>;

const SQUARE: [[f64; 2]; 4] = [
    [1000.0, 1000.0],
    [3000.0, 1000.0],
    [3000.0, 3000.0],
    [1000.0, 3000.0],
];
const HOLE: [[f64; 2]; 4] = [
    [1500.0, 1500.0],
    [2500.0, 1500.0],
    [2500.0, 2500.0],
    [1500.0, 2500.0],
];

/// Exterior rings positive, holes negative (surveyor formula, y down), and
/// every coordinate within the tile plus buffer.
fn assert_mvt_invariants(tile: &serde_json::Value, buffer: i64) {
    for (name, layer) in tile.as_object().unwrap() {
        assert_eq!(layer["version"], 2, "{name}");
        assert_eq!(layer["extent"], 4096, "{name}");
        for f in layer["features"].as_array().unwrap() {
            assert!(f["has_id"].as_bool().unwrap(), "{name}: feature without id");
            for [x, y] in coords(f) {
                assert!(
                    (-buffer..=4096 + buffer).contains(&x)
                        && (-buffer..=4096 + buffer).contains(&y),
                    "{name}: ({x}, {y}) outside the tile plus buffer"
                );
            }
            if f["type"] != 3 {
                continue;
            }
            for poly in polygons(f) {
                assert!(
                    area(&poly[0]) > 0.0,
                    "{name} {}: exterior not positive",
                    f["id"]
                );
                for hole in &poly[1..] {
                    assert!(area(hole) < 0.0, "{name} {}: hole not negative", f["id"]);
                }
            }
        }
    }
}

#[test]
fn layers_ids_and_typed_properties() {
    let t = putian(14);
    let mut b = TileBuilder::new(t);
    let props = [
        ("name", Value::from("涵江区")),
        ("level", Value::from(3u32)),
        ("delta", Value::SInt(-7)),
        ("offset", Value::Int(-2)),
        ("big", Value::UInt(u64::MAX)),
        ("share", Value::Double(0.125)),
        ("ratio", Value::Float(1.5)),
        ("open", Value::Bool(true)),
    ];
    let mut units = b.layer("units").unwrap();
    assert!(units
        .add_polygon(42, &polygon(t, &SQUARE, &[]), &props)
        .unwrap());
    assert!(units
        .add_polygon(u64::MAX - 1, &polygon(t, &HOLE, &[]), &props[..2])
        .unwrap());
    let (lon, lat) = lonlat_at(t, 100.0, 200.0);
    let mut events = b.layer("events").unwrap();
    assert!(events
        .add_point(7, lon, lat, &[("status", "open".into())])
        .unwrap());
    let tile = decode(&b.finish().expect("the tile has features"));
    assert_mvt_invariants(&tile, DEFAULT_BUFFER.into());

    let units = features(&tile, "units");
    assert_eq!(units.len(), 2);
    assert_eq!(units[0]["id"], 42);
    assert_eq!(units[1]["id"], json!(u64::MAX - 1));
    let p = &units[0]["properties"];
    let expect = [
        ("name", "string_value", json!("涵江区")),
        ("level", "uint_value", json!(3)),
        ("delta", "sint_value", json!(-7)),
        ("offset", "int_value", json!(-2)),
        ("big", "uint_value", json!(u64::MAX)),
        ("share", "double_value", json!(0.125)),
        ("ratio", "float_value", json!(1.5)),
        ("open", "bool_value", json!(true)),
    ];
    for (k, kind, v) in expect {
        assert_eq!(p[k]["kind"], kind, "{k}: {p}");
        assert_eq!(p[k]["value"], v, "{k}: {p}");
    }
    // Keys and values are stored once per layer.
    assert_eq!(tile["units"]["keys"], 8);
    assert_eq!(tile["units"]["values"], 8);

    let events = features(&tile, "events");
    assert_eq!(events[0]["id"], 7);
    assert_eq!(events[0]["type"], 1);
    assert_eq!(events[0]["geometry"]["coordinates"], json!([100, 200]));
    assert_eq!(events[0]["properties"]["status"]["value"], "open");
}

#[test]
fn rings_are_oriented_whatever_the_input() {
    let t = putian(15);
    let ccw_ext = reversed(&SQUARE);
    let ccw_hole = reversed(&HOLE);
    // Also a square straddling the tile's east edge, so clipping is involved.
    let east: Vec<[f64; 2]> = SQUARE.iter().map(|p| [p[0] + 2500.0, p[1]]).collect();
    let inputs: Vec<(&str, Ring, Ring)> = vec![
        ("cw/cw", SQUARE.to_vec(), HOLE.to_vec()),
        ("cw/ccw", SQUARE.to_vec(), ccw_hole.clone()),
        ("ccw/cw", ccw_ext.clone(), HOLE.to_vec()),
        ("ccw/ccw", ccw_ext, ccw_hole),
        ("east", east.clone(), vec![]),
        ("east reversed", reversed(&east), vec![]),
    ];
    let mut b = TileBuilder::new(t);
    let mut layer = b.layer("units").unwrap();
    for (i, (_, ext, hole)) in inputs.iter().enumerate() {
        let holes: Vec<&[[f64; 2]]> = if hole.is_empty() { vec![] } else { vec![hole] };
        assert!(layer
            .add_polygon(i as u64, &polygon(t, ext, &holes), &[])
            .unwrap());
    }
    let tile = decode(&b.finish().unwrap());
    assert_mvt_invariants(&tile, DEFAULT_BUFFER.into());
    for (f, (what, _, hole)) in features(&tile, "units").iter().zip(&inputs) {
        assert!(
            f["valid"].as_bool().unwrap(),
            "{what}: shapely finds it invalid"
        );
        let polys = polygons(f);
        assert_eq!(polys.len(), 1, "{what}");
        assert_eq!(
            polys[0].len(),
            if hole.is_empty() { 1 } else { 2 },
            "{what}"
        );
        let want = if hole.is_empty() {
            2000.0 * (4096.0 + 64.0 - 3500.0)
        } else {
            2000.0 * 2000.0 - 1000.0 * 1000.0
        };
        let got = f["area"].as_f64().unwrap();
        assert!(
            (got - want).abs() < 2000.0,
            "{what}: area {got}, want {want}"
        );
    }
}

#[test]
fn multipolygon_parts_stay_apart() {
    let t = putian(13);
    // 50 px apart. (Parts sharing an edge, as these were once, do not make
    // a valid multipolygon: they come out as the one polygon they cover;
    // `parts_sharing_an_edge_merge` below.)
    let left: Vec<[f64; 2]> = SQUARE.iter().map(|p| [p[0] - 950.0, p[1]]).collect();
    let right: Vec<[f64; 2]> = reversed(&SQUARE)
        .iter()
        .map(|p| [p[0] + 1100.0, p[1]])
        .collect();
    let mut mp = polygon(t, &left, &[]);
    mp.0.extend(polygon(t, &right, &[]).0);
    let mut b = TileBuilder::new(t);
    b.layer("towns").unwrap().add_polygon(5, &mp, &[]).unwrap();
    let tile = decode(&b.finish().unwrap());
    assert_mvt_invariants(&tile, DEFAULT_BUFFER.into());
    let f = &features(&tile, "towns")[0];
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert_eq!(polygons(f).len(), 2);
    assert!(f["valid"].as_bool().unwrap(), "shapely finds it invalid");
}

/// Parts of a multipolygon that rounding (or the input) makes share an edge
/// are not a valid multipolygon; the feature becomes the polygon they cover.
#[test]
fn parts_sharing_an_edge_merge() {
    let t = putian(13);
    let left: Vec<[f64; 2]> = SQUARE.iter().map(|p| [p[0] - 900.0, p[1]]).collect();
    // 0.3 px apart: one edge once rounded.
    let right: Vec<[f64; 2]> = SQUARE.iter().map(|p| [p[0] + 1100.3, p[1]]).collect();
    let mut mp = polygon(t, &left, &[]);
    mp.0.extend(polygon(t, &right, &[]).0);
    let mut b = TileBuilder::new(t);
    b.layer("towns").unwrap().add_polygon(5, &mp, &[]).unwrap();
    let tile = decode(&b.finish().unwrap());
    assert_mvt_invariants(&tile, DEFAULT_BUFFER.into());
    let f = &features(&tile, "towns")[0];
    assert!(f["valid"].as_bool().unwrap(), "shapely finds it invalid");
    assert_eq!(f["geometry"]["type"], "Polygon");
    assert_eq!(polygons(f)[0].len(), 1, "no hole");
    assert_eq!(f["area"], 4000.0 * 2000.0);
}

/// A polygon inside one tile, cut into its four children (no buffer): the
/// children's areas add up to the parent's, within quantization error.
#[test]
fn split_across_children_keeps_area() {
    let parent = putian(12);
    // An irregular polygon around the parent's centre, with a hole across it.
    let star: Vec<[f64; 2]> = (0..23)
        .map(|i| {
            let a = i as f64 / 23.0 * std::f64::consts::TAU;
            let r = if i % 2 == 0 { 1700.0 } else { 900.0 };
            [2048.0 + r * a.cos() + 13.3, 2048.0 + r * a.sin() - 7.7]
        })
        .collect();
    let hole: Vec<[f64; 2]> = [
        [1900.0, 1800.0],
        [2300.0, 1950.0],
        [2200.0, 2300.0],
        [1850.0, 2250.0],
    ]
    .to_vec();
    let mp = polygon(parent, &star, &[&hole]);
    let original = onemap_tiles::ring_area(&star).abs() - onemap_tiles::ring_area(&hole).abs();

    let whole = {
        let mut b = TileBuilder::with_buffer(parent, 0);
        b.layer("grids")
            .unwrap()
            .tolerance(0.0)
            .add_polygon(1, &mp, &[])
            .unwrap();
        decode(&b.finish().unwrap())
    };
    let whole_area = features(&whole, "grids")[0]["area"].as_f64().unwrap();
    assert!(
        (whole_area - original).abs() < 0.002 * original,
        "{whole_area} vs {original}"
    );

    let mut children_area = 0.0;
    for child in parent.children().unwrap() {
        let mut b = TileBuilder::with_buffer(child, 0);
        assert!(b
            .layer("grids")
            .unwrap()
            .tolerance(0.0)
            .add_polygon(1, &mp, &[])
            .unwrap());
        let tile = decode(&b.finish().unwrap());
        assert_mvt_invariants(&tile, 0);
        let f = &features(&tile, "grids")[0];
        assert_eq!(f["id"], 1);
        // Child pixels are half the size: a quarter of the area in parent pixels.
        children_area += f["area"].as_f64().unwrap() / 4.0;
    }
    assert!(
        (children_area - original).abs() < 0.002 * original,
        "children {children_area} vs original {original}"
    );
}

#[test]
fn random_polygons_keep_invariants() {
    // A deterministic stream of star-shaped polygons, anywhere around the tile,
    // in both orientations, at a few zooms and tolerances.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for (z, tolerance) in [(10u8, 1.0), (14, 0.5), (16, 0.0)] {
        let t = putian(z);
        let mut b = TileBuilder::new(t);
        let mut layer = b.layer("villages").unwrap().tolerance(tolerance);
        let mut added = 0;
        for id in 0..60u64 {
            let (cx, cy) = (next() * 8000.0 - 2000.0, next() * 8000.0 - 2000.0);
            let n = 3 + (next() * 20.0) as usize;
            let mut r: Vec<[f64; 2]> = (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    let rad = 5.0 + next() * 1500.0;
                    [cx + rad * a.cos(), cy + rad * a.sin()]
                })
                .collect();
            if id % 2 == 1 {
                r.reverse();
            }
            if layer
                .add_polygon(id, &polygon(t, &r, &[]), &[("id", Value::UInt(id))])
                .unwrap()
            {
                added += 1;
            }
        }
        assert!(added > 10, "z{z}: only {added} polygons reached the tile");
        let tile = decode(&b.finish().unwrap());
        assert_mvt_invariants(&tile, DEFAULT_BUFFER.into());
        for f in features(&tile, "villages") {
            assert_eq!(
                f["properties"]["id"]["value"], f["id"],
                "ids and properties line up"
            );
        }
    }
}

#[test]
fn points_in_buffer_kept_outside_dropped() {
    let t = putian(14);
    let mut b = TileBuilder::new(t);
    let mut layer = b.layer("schools").unwrap();
    for (id, (px, py)) in [
        (1, (-60.0, 10.0)),
        (2, (4150.0, 4150.0)),
        (3, (-70.0, 0.0)),
        (4, (0.0, 4170.0)),
    ] {
        let (lon, lat) = lonlat_at(t, px, py);
        let kept = layer.add_point(id, lon, lat, &[]).unwrap();
        assert_eq!(kept, id <= 2, "point {id}");
    }
    let tile = decode(&b.finish().unwrap());
    assert_mvt_invariants(&tile, DEFAULT_BUFFER.into());
    let f = features(&tile, "schools");
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["geometry"]["coordinates"], json!([-60, 10]));
    assert_eq!(f[1]["geometry"]["coordinates"], json!([4150, 4150]));
}

#[test]
fn simplification_follows_tolerance() {
    let t = putian(12);
    // A square whose top edge zigzags by 2 px every 8 px.
    let mut r: Vec<[f64; 2]> = (0..=250)
        .map(|i| [1000.0 + 8.0 * i as f64, 1000.0 + 2.0 * (i % 2) as f64])
        .collect();
    r.extend([[3000.0, 3000.0], [1000.0, 3000.0]]);
    let mp = polygon(t, &r, &[]);
    let count = |tolerance: f64| {
        let mut b = TileBuilder::new(t);
        b.layer("units")
            .unwrap()
            .tolerance(tolerance)
            .add_polygon(1, &mp, &[])
            .unwrap();
        let tile = decode(&b.finish().unwrap());
        coords(&features(&tile, "units")[0]).len()
    };
    assert_eq!(count(3.0), 5, "a square (closed ring of 5 points)");
    assert!(count(0.0) > 200);
}

#[test]
fn empty_tiles_and_errors() {
    let t = putian(14);
    let mut b = TileBuilder::new(t);
    let far: Vec<[f64; 2]> = SQUARE.iter().map(|p| [p[0] + 10_000.0, p[1]]).collect();
    let mut layer = b.layer("units").unwrap();
    assert!(!layer.add_polygon(1, &polygon(t, &far, &[]), &[]).unwrap());
    // Too small to see: collapses to one pixel and is dropped.
    let tiny = [[10.1, 10.1], [10.2, 10.1], [10.2, 10.2]];
    assert!(!layer.add_polygon(2, &polygon(t, &tiny, &[]), &[]).unwrap());
    assert!(!layer.add_polygon(3, &MultiPolygon(vec![]), &[]).unwrap());
    let err = layer.add_point(4, f64::NAN, 25.0, &[]).unwrap_err();
    assert_eq!(
        err,
        TilesError::NonFiniteCoordinate {
            layer: "units".into(),
            id: 4
        }
    );
    assert!(b.layer("").is_err());
    assert!(b.finish().is_none(), "no features: no tile (204)");
}
