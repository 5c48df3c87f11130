//! Times each layer of one tile, uncached, for profiling:
//! `cargo run --release -p onemap-tiles --example layer_times -- SCALE Z X Y [LAYER [RUNS]]`.
use onemap_core::TileCoord;
use onemap_index::{City, EventFilter};
use onemap_tiles::{rules, LayerSet, TileRequest, TileSource};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let cfg = onemap_synth::SynthConfig {
        seed: 1,
        scale: a[1].parse().unwrap(),
        events: None,
        ..Default::default()
    };
    let (_, data) = onemap_synth::generate(&cfg).unwrap();
    let src = TileSource::new(Arc::new(City::build(data).unwrap()), 0);
    let n = |i: usize| a[i].parse().unwrap();
    let t = TileCoord::new(n(2), n(3), n(4)).unwrap();
    let only = a.get(5);
    let runs: u32 = a.get(6).map_or(300, |s| s.parse().unwrap());
    for r in rules().iter().filter(|r| only.is_none_or(|o| o == r.name)) {
        let req = TileRequest {
            layers: LayerSet::parse(r.name).unwrap(),
            tile: t,
            filter: EventFilter::default(),
        };
        let start = Instant::now();
        let mut len = 0;
        for _ in 0..runs {
            len = src.render_uncached(&req).unwrap().map_or(0, |b| b.len());
        }
        println!(
            "{:<12} {:>9.1?} {:>8} bytes",
            r.name,
            start.elapsed() / runs,
            len
        );
    }
}
