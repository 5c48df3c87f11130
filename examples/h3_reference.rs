//! How far the index's H3 event counts are from the H3 reference library,
//! on a city directory: `/api/stats?by=h3:RES` (the same `City::event_stats`)
//! against the cell `latLngToCell` of the `h3` Python package (the binding
//! of Uber's C library) gives each event's position, at every resolution
//! the API accepts (5–12), over a window of report times.
//!
//! ```text
//! cargo run --release --example h3_reference -- /tmp/putian-h3 [FROM TO]
//! ```
//!
//! FROM and TO are Unix seconds (default: October 2026, China time, the
//! last month of the synthetic history). `PYTHON` picks the interpreter,
//! which needs `pip install h3`. The figures are in BENCHMARKS.md.

#[path = "../crates/onemap-index/tests/common/h3_reference.rs"]
mod h3_reference;

use onemap_index::{City, GroupBy, GroupKey, StatsQuery, TimeWindow, STATS_RESOLUTIONS};
use std::collections::{BTreeMap, BTreeSet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .expect("usage: h3_reference CITY_DIR [FROM TO]");
    let secs = |i: usize, default: i64| {
        args.get(i)
            .map(|s| s.parse::<i64>().expect("Unix seconds"))
            .unwrap_or(default)
    };
    let (from, to) = (secs(1, 1_790_784_000), secs(2, 1_793_462_400));
    let (_, data) =
        onemap_store::read_city_dir(std::path::Path::new(dir)).expect("a city directory");
    let points: Vec<[f64; 2]> = data
        .events
        .iter()
        .filter(|e| e.reported_at >= from && e.reported_at < to)
        .map(|e| [e.lon, e.lat])
        .collect();
    let city = City::build(data).expect("a valid city");
    let resolutions: Vec<u8> = STATS_RESOLUTIONS.collect();
    let reference = h3_reference::reference(&points, &resolutions, &[]);
    let window = TimeWindow::new(Some(from), Some(to)).expect("a window");
    println!(
        "{} events reported in [{from}, {to}); the h3 package as the reference",
        points.len()
    );
    println!("res | cells (reference) | cells differing | events counted elsewhere");
    for &res in &resolutions {
        let want = reference.counts(res, |_| true);
        // Every cell, beyond the API's cap on groups (MAX_GROUPS).
        let report = city
            .event_stats_capped(
                &StatsQuery {
                    group_by: GroupBy::H3(res),
                    window,
                    scope: None,
                },
                usize::MAX,
            )
            .expect("stats");
        let mut got: BTreeMap<String, u64> = BTreeMap::new();
        for g in &report.groups {
            let GroupKey::Cell { cell, .. } = &g.key else {
                panic!("a cell group");
            };
            got.insert(cell.clone(), g.tally.figures.total);
        }
        let cells: BTreeSet<&String> = want.keys().chain(got.keys()).collect();
        let mut differing = 0;
        let mut off = 0;
        for c in cells {
            let (w, g) = (
                want.get(c).copied().unwrap_or(0),
                got.get(c).copied().unwrap_or(0),
            );
            if w != g {
                differing += 1;
                off += w.abs_diff(g);
            }
        }
        // Each event counted in the wrong cell is one too few in one cell
        // and one too many in another.
        println!(
            "{res:>3} | {:>17} | {differing:>15} | {:>6} ({:.2} %)",
            want.len(),
            off / 2,
            100.0 * (off / 2) as f64 / points.len().max(1) as f64
        );
    }
}
