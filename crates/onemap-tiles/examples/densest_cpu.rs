//! The tiles bench's tiles (the densest tile of each zoom 0–16, all layers,
//! uncached) timed by the CPU time of the rendering thread as well as by the
//! wall clock, so figures taken on a machine shared with other work stay
//! comparable: `cargo run --release -p onemap-tiles --example densest_cpu -- [SCALE] [RUNS]`.
//! CPU time comes from `/proc/thread-self/schedstat` (Linux; nanoseconds).
use onemap_core::TileCoord;
use onemap_index::{City, EventFilter};
use onemap_tiles::{LayerSet, TileRequest, TileSource};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The tile of zoom `z` holding the most events (as `benches/tiles.rs`).
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scale: f64 = args.get(1).map_or(1.0, |s| s.parse().expect("a scale"));
    let runs: u32 = args.get(2).map_or(200, |s| s.parse().expect("a count"));
    let cfg = onemap_synth::SynthConfig {
        seed: 1,
        scale,
        events: None,
        ..Default::default()
    };
    let (_, data) = onemap_synth::generate(&cfg).expect("a valid config");
    let city = Arc::new(City::build(data).expect("a valid city"));
    let src = TileSource::new(Arc::clone(&city), 0);
    println!("| z | densest tile | size | wall per tile | CPU per tile |");
    println!("|---|---|---|---|---|");
    let mut cpu_all = Vec::new();
    for z in 0..=16u8 {
        let req = TileRequest {
            layers: LayerSet::all(),
            tile: densest(&city, z),
            filter: EventFilter::default(),
        };
        let size = src.render_uncached(&req).unwrap().map_or(0, |b| b.len());
        let (c0, t0) = (thread_cpu_ns(), Instant::now());
        for _ in 0..runs {
            std::hint::black_box(src.render_uncached(std::hint::black_box(&req)).unwrap());
        }
        let wall = t0.elapsed() / runs;
        let cpu = Duration::from_nanos((thread_cpu_ns() - c0) / u64::from(runs));
        cpu_all.push(cpu);
        println!(
            "| {z} | {} | {:.1} KB | {wall:.2?} | {cpu:.2?} |",
            req.tile,
            size as f64 / 1000.0
        );
    }
    cpu_all.sort_unstable();
    println!(
        "\nCPU per tile over the 17 zooms: median {:.2?}, worst {:.2?}",
        cpu_all[cpu_all.len() / 2],
        cpu_all[cpu_all.len() - 1]
    );
}
