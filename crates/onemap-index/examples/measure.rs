//! Rough timings of the index at about the real scale (hand-made fixture
//! city: 120,960 units, 1,000,000 events). Run with
//! `cargo run --release -p onemap-index --example measure [events]`; set
//! `MEASURE_SYNTH=1` to use the synthetic generator's city instead.
//! Criterion benches belong in the workspace's benches/; this is a quick look.

#[path = "../tests/common/fixture.rs"]
mod fixture;

use fixture::{build, FixtureConfig, Rng};
use onemap_core::{BBox, Layer, Level};
use onemap_index::{
    City, EventFilter, GroupBy, HotspotPlace, HotspotQuery, PageRequest, StatsQuery, TimeWindow,
};
use std::hint::black_box;
use std::time::Instant;

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time of the whole process, seconds (utime + stime, in clock ticks of 1/100 s).
fn process_cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(f64::NAN))
        .collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the ')'.
    (f.get(11).copied().unwrap_or(f64::NAN) + f.get(12).copied().unwrap_or(f64::NAN)) / 100.0
}

/// CPU time of this thread, seconds (the machine is shared: wall time is noisy).
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
        / 1e9
}

fn time<T>(label: &str, reps: usize, mut f: impl FnMut() -> T) -> T {
    let mut out = f();
    let (t, c) = (Instant::now(), cpu());
    for _ in 0..reps {
        out = black_box(f());
    }
    let wall = t.elapsed().as_secs_f64() / reps as f64;
    let on_cpu = (cpu() - c) / reps as f64;
    println!(
        "{label:<48} {:>9.3} ms cpu {:>9.3} ms wall",
        on_cpu * 1e3,
        wall * 1e3
    );
    out
}

fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut cfg = FixtureConfig::large(events);
    let t = Instant::now();
    let data = if std::env::var_os("MEASURE_SYNTH").is_some() {
        // The synthetic generator's city at full scale instead of the fixture.
        let synth = onemap_synth::SynthConfig {
            seed: 1,
            scale: 1.0,
            events: Some(events as u64),
            ..Default::default()
        };
        let data = onemap_synth::generate(&synth).expect("generates").1;
        let t0 = data.events.iter().map(|e| e.reported_at).min().unwrap_or(0);
        let t1 = data.events.iter().map(|e| e.reported_at).max().unwrap_or(0) + 1;
        (cfg.t0, cfg.span) = (t0, t1 - t0);
        data
    } else {
        build(&cfg).0
    };
    println!(
        "input: {} areas, {} events, made in {:.2} s",
        data.areas.len(),
        data.events.len(),
        t.elapsed().as_secs_f64()
    );
    let before = rss_mb();
    let (t, c) = (Instant::now(), process_cpu());
    let city = City::build(data).expect("builds");
    println!(
        "City::build: {:.3} s wall, {:.2} s CPU, {} threads",
        t.elapsed().as_secs_f64(),
        process_cpu() - c,
        rayon::current_num_threads()
    );
    println!(
        "RSS: {before:.0} MB with the input, {:.0} MB after build (input dropped)",
        rss_mb()
    );
    println!("report: {:?}", city.report());
    let m = city.memory();
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "memory (estimated): areas {:.0} MB, locate {:.0} MB, area index {:.0} MB, events {:.0} MB, other layers {:.0} MB, total {:.0} MB",
        mb(m.areas),
        mb(m.locate),
        mb(m.area_index),
        mb(m.events),
        mb(m.other_layers),
        mb(m.total)
    );
    let ev = city.event_columns().points;
    println!(
        "H3: {} events fill {} cell stacks (their cells at res 5-10): {:.1} MB of stacks, {:.1} MB of stack numbers",
        ev.stack.len(),
        ev.stacks.len(),
        mb((ev.stacks.len() * std::mem::size_of::<onemap_index::CellStack>()) as u64),
        mb((ev.stack.len() * 4) as u64)
    );
    if std::env::var_os("MEASURE_BUILD_ONLY").is_some() {
        return;
    }

    let units = city.areas().level(Level::Unit);
    let ext = units
        .iter()
        .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |e, u| {
            let c = &u.geometry.0[0].exterior().0;
            c.iter().fold(e, |e, p| {
                [e[0].min(p.x), e[1].min(p.y), e[2].max(p.x), e[3].max(p.y)]
            })
        });
    let mut rng = Rng::new(5);
    let pts: Vec<(f64, f64)> = (0..1_000_000)
        .map(|_| {
            (
                ext[0] + (ext[2] - ext[0]) * rng.f64(),
                ext[1] + (ext[3] - ext[1]) * rng.f64(),
            )
        })
        .collect();
    let c = cpu();
    let mut found = 0usize;
    for &(x, y) in &pts {
        found += usize::from(city.locate_unit(x, y).unwrap().is_some());
    }
    println!(
        "locate_unit: {:.2} M lookups per CPU-second ({found} of {} inside)",
        pts.len() as f64 / (cpu() - c) / 1e6,
        pts.len()
    );
    let c = cpu();
    for &(x, y) in &pts {
        black_box(city.locate(x, y).unwrap());
    }
    println!(
        "locate (with names): {:.2} M lookups per CPU-second",
        pts.len() as f64 / (cpu() - c) / 1e6
    );

    let t1 = cfg.t0 + cfg.span;
    let month = TimeWindow {
        from: Some(t1 - 30 * 86_400),
        to: Some(t1),
    };
    let q = StatsQuery {
        group_by: GroupBy::Level(Level::Unit),
        window: month,
        scope: None,
    };
    let r = time("event_stats by unit, 30-day window", 20, || {
        city.event_stats(&q).unwrap()
    });
    println!(
        "    ({} groups, {} events)",
        r.groups.len(),
        r.overall.figures.total
    );
    let q = StatsQuery {
        group_by: GroupBy::Level(Level::Unit),
        window: TimeWindow::ALL,
        scope: None,
    };
    time("event_stats by unit, all time", 5, || {
        city.event_stats(&q).unwrap()
    });
    let q = StatsQuery {
        group_by: GroupBy::Level(Level::Village),
        window: month,
        scope: None,
    };
    time("event_stats by village, 30-day window", 20, || {
        city.event_stats(&q).unwrap()
    });
    let q = StatsQuery {
        group_by: GroupBy::H3(8),
        window: month,
        scope: None,
    };
    time("event_stats by H3 res 8, 30-day window", 20, || {
        city.event_stats(&q).unwrap()
    });
    let q = StatsQuery {
        group_by: GroupBy::H3(8),
        window: TimeWindow::ALL,
        scope: None,
    };
    time("event_stats by H3 res 8, all time", 5, || {
        city.event_stats(&q).unwrap()
    });
    let hq = HotspotQuery {
        window: month,
        place: HotspotPlace::H3(12),
        min_count: 3,
        categories: None,
        scope: None,
        limit: 100,
    };
    time("hotspots res 12, 30-day window", 20, || {
        city.hotspots(&hq).unwrap()
    });
    let hq = HotspotQuery {
        window: TimeWindow::ALL,
        place: HotspotPlace::Unit,
        min_count: 5,
        categories: None,
        scope: None,
        limit: 100,
    };
    time("hotspots by unit, all time", 5, || {
        city.hotspots(&hq).unwrap()
    });
    let f = EventFilter::default();
    let whole = BBox::new(ext[0], ext[1], ext[2], ext[3]).unwrap();
    time("events in whole-city bbox, page of 100", 20, || {
        city.features_in_bbox(Layer::Events, &whole, &f, &PageRequest::first(100))
            .unwrap()
    });
    let (cx, cy) = ((ext[0] + ext[2]) / 2.0, (ext[1] + ext[3]) / 2.0);
    let small = BBox::new(cx, cy, cx + 0.02, cy + 0.02).unwrap();
    time("events in 2 km bbox, page of 1000", 20, || {
        city.features_in_bbox(Layer::Events, &small, &f, &PageRequest::first(1000))
            .unwrap()
    });
    let mf = EventFilter {
        from: month.from,
        to: month.to,
        ..Default::default()
    };
    time("events in whole city, 30 days, page of 1000", 20, || {
        city.features_in_bbox(Layer::Events, &whole, &mf, &PageRequest::first(1000))
            .unwrap()
    });
    let town = city.areas().level(Level::Town)[3].id;
    time("events in a town, page of 1000", 20, || {
        city.features_in_area(Layer::Events, town, &f, &PageRequest::first(1000))
            .unwrap()
    });
    time("nearest 10 events", 1000, || {
        city.nearest(Layer::Events, cx, cy, 10, None, &f).unwrap()
    });
    time("nearest 100 events within 500 m", 200, || {
        city.nearest(Layer::Events, cx, cy, 100, Some(500.0), &f)
            .unwrap()
    });
    let district = city.areas().level(Level::District)[0].id;
    time("area_details of a district, 30 days", 20, || {
        city.area_details(district, &month).unwrap()
    });
    time("area_details of a district, all time", 5, || {
        city.area_details(district, &TimeWindow::ALL).unwrap()
    });
}
