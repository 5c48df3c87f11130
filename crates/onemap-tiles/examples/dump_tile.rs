//! Writes one tile of the small test city to a file, for debugging:
//! `cargo run -p onemap-tiles --example dump_tile -- LAYERS Z X Y OUT`.
use onemap_core::TileCoord;
use onemap_index::{City, EventFilter};
use onemap_tiles::{LayerSet, TileRequest, TileSource};
use std::sync::Arc;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let cfg = onemap_synth::SynthConfig {
        seed: 7,
        scale: 0.02,
        events: None,
        ..Default::default()
    };
    let (_, data) = onemap_synth::generate(&cfg).unwrap();
    let src = TileSource::new(Arc::new(City::build(data).unwrap()), 0);
    let n = |i: usize| a[i].parse().unwrap();
    let t = TileCoord::new(n(2), n(3), n(4)).unwrap();
    let r = TileRequest {
        layers: LayerSet::parse(&a[1]).unwrap(),
        tile: t,
        filter: EventFilter::default(),
    };
    let bytes = src
        .tile(&r)
        .unwrap()
        .map(|t| t.bytes.to_vec())
        .unwrap_or_default();
    std::fs::write(&a[5], bytes).unwrap();
}
