//! Renders every tile of the city, all layers in one composite tile,
//! uncached, and reports per zoom the largest tile and the slowest render:
//! `cargo run --release -p onemap-tiles --example tile_sizes -- [SCALE] [LIMIT_KB]`
//! (defaults: the full city, 500 KB). Zooms 0–14: every tile over the
//! city's bounds. Zooms 15 and 16: every descendant of the 32 largest z14
//! tiles and of the 32 z14 tiles holding the most events (where the largest
//! deep tiles are). Exits with status 1 if any tile is over the limit.
use onemap_core::tile::tiles_covering;
use onemap_core::{BBox, TileCoord};
use onemap_index::{City, EventFilter};
use onemap_tiles::{LayerSet, TileRequest, TileSource};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Renders `tiles` and returns `(tile, bytes, time)` for each.
fn render_all(src: &TileSource, tiles: &[TileCoord]) -> Vec<(TileCoord, usize, Duration)> {
    tiles
        .par_iter()
        .map(|&t| {
            let req = TileRequest {
                layers: LayerSet::all(),
                tile: t,
                filter: EventFilter::default(),
            };
            let start = Instant::now();
            let n = src
                .render_uncached(&req)
                .expect("a valid zoom")
                .map_or(0, |b| b.len());
            (t, n, start.elapsed())
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scale: f64 = args.get(1).map_or(1.0, |s| s.parse().expect("a scale"));
    let limit_kb: usize = args.get(2).map_or(500, |s| s.parse().expect("kilobytes"));
    let cfg = onemap_synth::SynthConfig {
        seed: 1,
        scale,
        events: None,
        ..Default::default()
    };
    let (_, data) = onemap_synth::generate(&cfg).expect("a valid config");
    let city = Arc::new(City::build(data).expect("a valid city"));
    let src = TileSource::new(Arc::clone(&city), 0);
    let b = src.bounds();
    let bbox = BBox::new(b[0], b[1], b[2], b[3]).expect("valid bounds");

    let ev = city.event_columns();
    let mut per_z14: HashMap<TileCoord, u32> = HashMap::new();
    for (&lon, &lat) in ev.points.lon.iter().zip(ev.points.lat) {
        *per_z14
            .entry(TileCoord::containing(lon, lat, 14))
            .or_default() += 1;
    }

    println!("| z | tiles rendered | non-empty | largest tile | size | over {limit_kb} KB | slowest | median (non-empty) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut over = 0;
    let mut z14: Vec<(TileCoord, usize, Duration)> = Vec::new();
    for z in 0..=16u8 {
        let tiles: Vec<TileCoord> = if z <= 14 {
            tiles_covering(&bbox, z).collect()
        } else {
            let mut roots: Vec<(TileCoord, usize)> = z14.iter().map(|&(t, n, _)| (t, n)).collect();
            roots.sort_by_key(|&(t, n)| (std::cmp::Reverse(n), t));
            let mut dense: Vec<(TileCoord, u32)> = per_z14.iter().map(|(&t, &n)| (t, n)).collect();
            dense.sort_by_key(|&(t, n)| (std::cmp::Reverse(n), t));
            let roots: BTreeSet<TileCoord> = roots
                .iter()
                .take(32)
                .map(|r| r.0)
                .chain(dense.iter().take(32).map(|d| d.0))
                .collect();
            let shift = z - 14;
            roots
                .iter()
                .flat_map(|r| {
                    let n = 1u32 << shift;
                    (0..n).flat_map(move |dy| {
                        (0..n).map(move |dx| {
                            TileCoord::new(u32::from(z), r.x() * n + dx, r.y() * n + dy)
                                .expect("a tile below a valid tile")
                        })
                    })
                })
                .collect()
        };
        let out = render_all(&src, &tiles);
        let non_empty: Vec<_> = out.iter().filter(|r| r.1 > 0).collect();
        let largest = out.iter().max_by_key(|r| (r.1, std::cmp::Reverse(r.0)));
        let slowest = out.iter().map(|r| r.2).max().unwrap_or_default();
        let mut times: Vec<Duration> = non_empty.iter().map(|r| r.2).collect();
        times.sort_unstable();
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let n_over = out.iter().filter(|r| r.1 > limit_kb * 1000).count();
        over += n_over;
        let (lt, ln) = largest.map_or(("–".to_string(), 0), |r| (r.0.to_string(), r.1));
        println!(
            "| {z} | {} | {} | {lt} | {:.1} KB | {n_over} | {slowest:.1?} | {median:.1?} |",
            out.len(),
            non_empty.len(),
            ln as f64 / 1000.0,
        );
        if z == 14 {
            z14 = out;
        }
    }
    if over > 0 {
        eprintln!("{over} tiles over {limit_kb} KB");
        std::process::exit(1);
    }
}
