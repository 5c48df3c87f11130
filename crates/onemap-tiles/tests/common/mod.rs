//! Shared by the integration tests: the independent decoder (Python
//! `mapbox-vector-tile`, run as a child process) and fixture helpers.

#![allow(dead_code)]

pub mod polygons;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use onemap_core::tile::{mercator_to_lonlat, ORIGIN_SHIFT};
use onemap_core::TileCoord;
use serde_json::Value as Json;
use std::io::Write;
use std::process::{Command, Stdio};

/// Decodes a tile with `tests/decode_mvt.py`. Fails (never skips) when
/// Python or the package is missing. `PYTHON` picks the interpreter.
pub fn decode(tile: &[u8]) -> Json {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/decode_mvt.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{python}` ({e}): the tile tests decode tiles with Python and the \
                 mapbox-vector-tile package; install both (pip install mapbox-vector-tile) \
                 or set PYTHON"
            )
        });
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(tile)
        .expect("write the tile to the decoder");
    let out = child.wait_with_output().expect("wait for the decoder");
    assert!(
        out.status.success(),
        "the independent MVT decoder failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the decoder prints JSON")
}

/// The lon/lat of a pixel position of `tile` (extent 4096, y down).
pub fn lonlat_at(tile: TileCoord, px: f64, py: f64) -> (f64, f64) {
    let n = f64::from(1u32 << tile.z());
    let tx = f64::from(tile.x()) + px / 4096.0;
    let ty = f64::from(tile.y()) + py / 4096.0;
    let mx = tx / n * 2.0 * ORIGIN_SHIFT - ORIGIN_SHIFT;
    let my = ORIGIN_SHIFT - ty / n * 2.0 * ORIGIN_SHIFT;
    mercator_to_lonlat(mx, my)
}

/// A lon/lat ring from pixel positions of `tile`, closed.
pub fn ring(tile: TileCoord, px: &[[f64; 2]]) -> LineString<f64> {
    let mut cs: Vec<Coord<f64>> = px
        .iter()
        .map(|p| {
            let (x, y) = lonlat_at(tile, p[0], p[1]);
            Coord { x, y }
        })
        .collect();
    cs.push(cs[0]);
    LineString(cs)
}

pub fn polygon(tile: TileCoord, exterior: &[[f64; 2]], holes: &[&[[f64; 2]]]) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        ring(tile, exterior),
        holes.iter().map(|h| ring(tile, h)).collect(),
    )])
}

pub fn reversed(r: &[[f64; 2]]) -> Vec<[f64; 2]> {
    r.iter().rev().copied().collect()
}

/// The tile of Putian's centre at zoom `z`.
pub fn putian(z: u8) -> TileCoord {
    TileCoord::containing(119.0, 25.43, z)
}

/// Signed surveyor area of a closed decoded ring, in tile coordinates.
pub fn area(ring: &Json) -> f64 {
    let pts: Vec<[f64; 2]> = ring
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
        .collect();
    pts.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

/// The polygons of a decoded feature, as lists of closed rings.
pub fn polygons(feature: &Json) -> Vec<Vec<Json>> {
    let g = &feature["geometry"];
    let coords = g["coordinates"].as_array().unwrap();
    match g["type"].as_str().unwrap() {
        "Polygon" => vec![coords.clone()],
        "MultiPolygon" => coords
            .iter()
            .map(|p| p.as_array().unwrap().clone())
            .collect(),
        t => panic!("expected a polygon, got {t}"),
    }
}

/// Every coordinate of a decoded feature.
pub fn coords(feature: &Json) -> Vec<[i64; 2]> {
    fn walk(v: &Json, out: &mut Vec<[i64; 2]>) {
        let a = v.as_array().unwrap();
        if a.len() == 2 && a[0].is_number() {
            out.push([a[0].as_i64().unwrap(), a[1].as_i64().unwrap()]);
        } else {
            a.iter().for_each(|x| walk(x, out));
        }
    }
    let mut out = Vec::new();
    walk(&feature["geometry"]["coordinates"], &mut out);
    out
}

/// The features of a decoded layer.
pub fn features<'a>(tile: &'a Json, layer: &str) -> &'a Vec<Json> {
    tile[layer]["features"]
        .as_array()
        .unwrap_or_else(|| panic!("layer {layer} missing in {tile}"))
}
