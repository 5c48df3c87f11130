//! Tile benchmarks on a deterministic synthetic city (seed 1): uncached
//! generation of the densest tile (most events) of each zoom 0–16 over all
//! layers, and a cached hit.
//!
//! `cargo bench --bench tiles` uses the full city (130,000 units, 1,000,000
//! events); `ONEMAP_BENCH_SCALE=0.1 cargo bench --bench tiles` a smaller one.
//! The size of each densest tile is printed before the timings.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use onemap_core::TileCoord;
use onemap_index::{City, EventFilter};
use onemap_synth::{generate, SynthConfig};
use onemap_tiles::{LayerSet, TileRequest, TileSource};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

fn scale() -> f64 {
    std::env::var("ONEMAP_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// The tile of zoom `z` holding the most events.
fn densest(city: &City, z: u8) -> TileCoord {
    let ev = city.event_columns();
    let mut counts: HashMap<TileCoord, u32> = HashMap::new();
    for (&lon, &lat) in ev.points.lon.iter().zip(ev.points.lat) {
        *counts
            .entry(TileCoord::containing(lon, lat, z))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(t, n)| (n, std::cmp::Reverse(t)))
        .map(|(t, _)| t)
        .expect("events")
}

fn bench_tiles(c: &mut Criterion) {
    let cfg = SynthConfig {
        seed: 1,
        scale: scale(),
        events: None,
    };
    let (_, data) = generate(&cfg).expect("valid config");
    let city = Arc::new(City::build(data).unwrap());
    let t0 = Instant::now();
    let src = TileSource::new(Arc::clone(&city), 256 << 20);
    eprintln!("TileSource::new: {:.2?}", t0.elapsed());
    let all = LayerSet::all();
    let reqs: Vec<TileRequest> = (0..=16u8)
        .map(|z| TileRequest {
            layers: all,
            tile: densest(&city, z),
            filter: EventFilter::default(),
        })
        .collect();
    for r in &reqs {
        let bytes = src.render_uncached(r).unwrap().map_or(0, |b| b.len());
        eprintln!(
            "densest z{:>2} {:<16} {:>8} bytes",
            r.tile.z(),
            r.tile.to_string(),
            bytes
        );
    }

    let mut g = c.benchmark_group("tile_uncached_all_layers");
    for r in &reqs {
        g.bench_with_input(BenchmarkId::from_parameter(r.tile.z()), r, |b, r| {
            b.iter(|| src.render_uncached(black_box(r)).unwrap())
        });
    }
    g.finish();

    let hit = &reqs[14];
    src.tile(hit).unwrap();
    let mut g = c.benchmark_group("tile_cached");
    g.bench_function("hit_z14_all_layers", |b| {
        b.iter(|| src.tile(black_box(hit)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_tiles);
criterion_main!(benches);
