//! Every tile of zooms 0–14 of a small generated city (all layers in one
//! composite tile, as `onemap tiles export` enumerates them over the city's
//! bounds), and zooms 15 and 16 under its largest z14 tiles, decoded by an
//! independent decoder and every polygon checked by GEOS: OGC-valid, no
//! collapsed ring, exteriors clockwise on screen and holes the other way
//! (`tests/check_polygons.py`). The same check over the full city is
//! `examples/validity.rs`.

mod common;

use common::polygons::PolygonCheck;
use onemap_core::TileCoord;
use onemap_index::{City, EventFilter};
use onemap_synth::{generate, SynthConfig};
use onemap_tiles::{export_tiles, LayerSet, TileRequest, TileSource};
use rayon::prelude::*;
use std::sync::Arc;

fn render(src: &TileSource, tiles: &[TileCoord]) -> Vec<(TileCoord, Vec<u8>)> {
    tiles
        .par_iter()
        .filter_map(|&tile| {
            let req = TileRequest {
                layers: LayerSet::all(),
                tile,
                filter: EventFilter::default(),
            };
            let bytes = src.render_uncached(&req).expect("a tile of the scheme")?;
            Some((tile, bytes))
        })
        .collect()
}

#[test]
fn every_polygon_of_every_tile_is_valid() {
    let (_, data) = generate(&SynthConfig {
        seed: 7,
        scale: 0.02,
        events: None,
        ..Default::default()
    })
    .expect("valid config");
    let city = Arc::new(City::build(data).expect("a valid city"));
    let src = TileSource::new(city, 0);

    let mut check = PolygonCheck::start();
    let mut sent = 0;
    let mut z14 = Vec::new();
    // One batch per zoom: rendered in parallel, then sent in order.
    for z in 0..=14u8 {
        for (t, bytes) in render(&src, &export_tiles(&src, z, z)) {
            check.tile(t, &bytes);
            sent += 1;
            if z == 14 {
                z14.push((bytes.len(), t));
            }
        }
    }
    // Deeper, where homesteads appear and units are drawn whole: under the
    // largest z14 tiles (the most geometry).
    z14.sort_unstable_by(|a, b| b.cmp(a));
    let mut deep = Vec::new();
    for &(_, t) in z14.iter().take(4) {
        for c in t.children().expect("z14 has children") {
            deep.push(c);
            deep.extend(c.children().expect("z15 has children"));
        }
    }
    for (t, bytes) in render(&src, &deep) {
        check.tile(t, &bytes);
        sent += 1;
    }
    let summary = check.finish();

    assert_eq!(summary["tiles"], sent, "every tile sent was checked");
    eprintln!(
        "{} tiles, {} polygon features, {} rings checked",
        summary["tiles"], summary["polygons"], summary["rings"]
    );
    for z in 0..=16 {
        let zs = &summary["zooms"][z.to_string()];
        assert!(
            zs["polygons"].as_u64().unwrap_or(0) > 0,
            "z{z}: no polygon checked ({zs})"
        );
    }
    assert_eq!(
        summary["invalid"],
        0,
        "polygon features with problems, per zoom {}; the first ones:\n{}",
        summary["zooms"],
        summary["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
