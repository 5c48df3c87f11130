//! Tile benchmarks on a deterministic synthetic city (seed 1): uncached
//! generation of the densest tile (most events) of each zoom 0–16 over all
//! layers, and a cached hit.
//!
//! `cargo bench --bench tiles` uses the full city (130,000 units, 1,000,000
//! events); `ONEMAP_BENCH_SCALE=0.1 cargo bench --bench tiles` a smaller one.
//! The size of each densest tile is printed before the timings.
//!
//! `cargo bench --bench tiles -- simplify` compares our Douglas–Peucker
//! ([`simplify_ring`]) with `geo`'s [`Simplify`] on the work
//! `TileSource::new` does: every ring of every area, at each zoom band of
//! its layer where the area is drawn (world coordinates, tolerance of the
//! rules table). It uses `ONEMAP_BENCH_SCALE` too, and prints how many
//! vertices each keeps.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use geo::Simplify;
use geo::{Coord, LineString};
use onemap_core::TileCoord;
use onemap_core::{Layer, Level};
use onemap_index::{City, EventFilter};
use onemap_synth::{generate, SynthConfig};
use onemap_tiles::{
    rule_for, simplify_ring, to_world, LayerSet, TileRequest, TileSource, EXTENT, FINEST_BAND,
    MIN_FEATURE_PX,
};
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
        ..Default::default()
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

/// An open ring in world coordinates.
type Ring = Vec<[f64; 2]>;
/// A Douglas–Peucker of an open ring at a tolerance.
type SimplifyFn = fn(&[[f64; 2]], f64) -> Ring;

/// Every area ring (open, world coordinates) and the simplifications
/// `TileSource::new` makes of it: (ring, world tolerance) for each zoom band
/// of its layer where its area is drawn (not below [`MIN_FEATURE_PX`]
/// except in the finest band).
fn rings_and_tolerances() -> (Vec<Ring>, Vec<(usize, f64)>) {
    let cfg = SynthConfig {
        seed: 1,
        scale: scale(),
        events: Some(0),
        ..Default::default()
    };
    let (_, data) = generate(&cfg).expect("valid config");
    let mut rings: Vec<Ring> = Vec::new();
    let mut work = Vec::new();
    for level in Level::ALL {
        let rule = rule_for(Layer::for_level(level));
        for a in data.areas.level(level) {
            let first = rings.len();
            for p in &a.geometry.0 {
                for ls in std::iter::once(p.exterior()).chain(p.interiors()) {
                    let mut r: Ring = ls.0.iter().map(|c| to_world(c.x, c.y)).collect();
                    if r.len() > 1 && r.first() == r.last() {
                        r.pop();
                    }
                    rings.push(r);
                }
            }
            let (lo, hi) = rings[first..].iter().flatten().fold(
                ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]),
                |(lo, hi), p| {
                    (
                        [lo[0].min(p[0]), lo[1].min(p[1])],
                        [hi[0].max(p[0]), hi[1].max(p[1])],
                    )
                },
            );
            let size = (hi[0] - lo[0]).max(hi[1] - lo[1]);
            for z in (rule.minzoom..=FINEST_BAND).rev() {
                let px = f64::from(1u32 << z) * f64::from(EXTENT);
                if z < FINEST_BAND && size * px < MIN_FEATURE_PX {
                    break;
                }
                work.extend((first..rings.len()).map(|i| (i, rule.tolerance_px / px)));
            }
        }
    }
    (rings, work)
}

fn to_line_string(ring: &[[f64; 2]]) -> LineString {
    let mut ls: Vec<Coord> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    ls.extend(ls.first().copied());
    LineString::new(ls)
}

/// `geo`'s Douglas–Peucker on one open ring, closed for it and opened
/// again (the conversions a switch to it would cost).
fn geo_simplify_ring(ring: &[[f64; 2]], tolerance: f64) -> Ring {
    let s = to_line_string(ring).simplify(tolerance);
    let mut out: Ring = s.0.iter().map(|c| [c.x, c.y]).collect();
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

fn bench_simplify(c: &mut Criterion) {
    let (rings, work) = rings_and_tolerances();
    let kept =
        |f: SimplifyFn| -> Vec<Ring> { work.iter().map(|&(i, t)| f(&rings[i], t)).collect() };
    let (ours, geo) = (kept(simplify_ring), kept(geo_simplify_ring));
    eprintln!(
        "simplify: {} rings, {} vertices, {} ring-bands; vertices kept: ours {}, geo {}; \
         ring-bands simplified differently: {}",
        rings.len(),
        rings.iter().map(Vec::len).sum::<usize>(),
        work.len(),
        ours.iter().map(Vec::len).sum::<usize>(),
        geo.iter().map(Vec::len).sum::<usize>(),
        ours.iter().zip(&geo).filter(|(a, b)| a != b).count()
    );
    let lines: Vec<LineString> = rings.iter().map(|r| to_line_string(r)).collect();
    let mut g = c.benchmark_group("simplify");
    g.sample_size(10);
    g.bench_function("ours_simplify_ring", |b| {
        b.iter(|| {
            work.iter()
                .map(|&(i, t)| simplify_ring(black_box(&rings[i]), t).len())
                .sum::<usize>()
        })
    });
    g.bench_function("geo_simplify", |b| {
        b.iter(|| {
            work.iter()
                .map(|&(i, t)| geo_simplify_ring(black_box(&rings[i]), t).len())
                .sum::<usize>()
        })
    });
    // geo's algorithm alone, on line strings built beforehand.
    g.bench_function("geo_simplify_prebuilt", |b| {
        b.iter(|| {
            work.iter()
                .map(|&(i, t)| black_box(&lines[i]).simplify(t).0.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_simplify, bench_tiles);
criterion_main!(benches);
