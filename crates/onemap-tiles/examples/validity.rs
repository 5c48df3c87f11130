//! Every polygon of every tile checked by an independent decoder and GEOS:
//! `cargo run --release -p onemap-tiles --example validity -- [CITY] [MAXZOOM] [CHECKERS]`
//! where CITY is a city directory (`onemap synth --seed 1 --out DIR`) or a
//! scale to generate the city of seed 1 at (defaults: 1.0, zoom 14, 2
//! Python processes). `scripts/test.sh` runs it over the full city.
//!
//! Renders every tile of zooms 0–MAXZOOM over the city's bounds (all layers
//! in one composite tile, uncached, as `onemap tiles export` enumerates
//! them) and hands each non-empty one to `tests/check_polygons.py` (Python
//! `mapbox-vector-tile` and shapely, run with `$PYTHON`), which decodes it
//! and checks each polygon feature: OGC-valid for GEOS, no collapsed ring,
//! exteriors clockwise on screen and holes the other way. Prints a table per
//! zoom and the first problems found; exits with status 1 if there is any.
//! `tests/every_tile.rs` runs the same check over a small city.

#[path = "../tests/common/polygons.rs"]
mod polygons;

use onemap_index::{City, EventFilter};
use onemap_tiles::{export_tiles, LayerSet, TileRequest, TileSource};
use polygons::PolygonCheck;
use rayon::prelude::*;
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tiles rendered per parallel batch.
const BATCH: usize = 256;

/// Nanoseconds this thread has spent on a CPU (Linux; 0 elsewhere), so the
/// rendering figure does not count time other processes took.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let city = args.get(1).map_or("1.0", String::as_str);
    let maxzoom: u8 = args.get(2).map_or(14, |s| s.parse().expect("a zoom"));
    let checkers: usize = args.get(3).map_or(2, |s| s.parse().expect("a count"));
    let t0 = Instant::now();
    let data = match city.parse::<f64>() {
        Ok(scale) => {
            let cfg = onemap_synth::SynthConfig {
                seed: 1,
                scale,
                events: None,
                ..Default::default()
            };
            onemap_synth::generate(&cfg).expect("a valid config").1
        }
        Err(_) => {
            let dir = std::path::Path::new(city);
            onemap_store::read_city_dir(dir)
                .unwrap_or_else(|e| panic!("cannot read the city in {city}: {e}"))
                .1
        }
    };
    let city = Arc::new(City::build(data).expect("a valid city"));
    let t1 = Instant::now();
    let src = TileSource::new(city, 0);
    eprintln!(
        "city built in {:.1?}, its tile source in {:.1?}",
        t0.elapsed(),
        t1.elapsed()
    );

    let started = Instant::now();
    let mut checks: Vec<PolygonCheck> = (0..checkers.max(1))
        .map(|_| PolygonCheck::start())
        .collect();
    let tiles = export_tiles(&src, 0, maxzoom);
    let (mut rendered, mut sent, mut render_cpu) = (0usize, 0usize, Duration::ZERO);
    for batch in tiles.chunks(BATCH) {
        let out: Vec<_> = batch
            .par_iter()
            .map(|&tile| {
                let req = TileRequest {
                    layers: LayerSet::all(),
                    tile,
                    filter: EventFilter::default(),
                };
                let cpu = thread_cpu_ns();
                let bytes = src.render_uncached(&req).expect("a tile of the scheme");
                (tile, bytes, Duration::from_nanos(thread_cpu_ns() - cpu))
            })
            .collect();
        for (tile, bytes, took) in out {
            rendered += 1;
            render_cpu += took;
            if let Some(bytes) = bytes {
                let n = checks.len();
                checks[sent % n].tile(tile, &bytes);
                sent += 1;
            }
        }
    }
    let summaries: Vec<Json> = checks.into_iter().map(PolygonCheck::finish).collect();
    let elapsed = started.elapsed();

    let sum = |f: &dyn Fn(&Json) -> u64| summaries.iter().map(f).sum::<u64>();
    let zoom =
        |z: u8, key: &str| sum(&|s: &Json| s["zooms"][z.to_string()][key].as_u64().unwrap_or(0));
    println!("| z | tiles rendered | non-empty | polygon features | invalid |");
    println!("|---|---|---|---|---|");
    for z in 0..=maxzoom {
        let rendered_z = tiles.iter().filter(|t| t.z() == z).count();
        println!(
            "| {z} | {rendered_z} | {} | {} | {} |",
            zoom(z, "tiles"),
            zoom(z, "polygons"),
            zoom(z, "invalid")
        );
    }
    let invalid = sum(&|s: &Json| s["invalid"].as_u64().unwrap_or(0));
    println!(
        "\n{rendered} tiles rendered, {sent} non-empty checked, {} polygon features \
         ({} rings): invalid {invalid}. {:.1?} in all ({:.2?} of CPU time rendering), \
         {checkers} checker processes.",
        sum(&|s: &Json| s["polygons"].as_u64().unwrap_or(0)),
        sum(&|s: &Json| s["rings"].as_u64().unwrap_or(0)),
        elapsed,
        render_cpu,
    );
    assert_eq!(
        sum(&|s: &Json| s["tiles"].as_u64().unwrap_or(0)),
        sent as u64,
        "every tile sent was checked"
    );
    if invalid > 0 {
        for s in &summaries {
            for p in s["problems"].as_array().into_iter().flatten().take(20) {
                println!("{p}");
            }
        }
        std::process::exit(1);
    }
}
