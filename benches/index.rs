//! Index benchmarks on a deterministic synthetic city (seed 1).
//!
//! `cargo bench --bench index` uses the full city (130,000 units, 1,000,000
//! events); `ONEMAP_BENCH_SCALE=0.1 cargo bench --bench index` a smaller one.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use onemap_core::{AreaId, BBox, Layer, Level};
use onemap_index::{
    City, EventFilter, GroupBy, HotspotPlace, HotspotQuery, PageRequest, Scope, StatsQuery,
    TimeWindow,
};
use onemap_synth::{generate, SynthConfig, HISTORY_END};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

fn scale() -> f64 {
    std::env::var("ONEMAP_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn bench_index(c: &mut Criterion) {
    let cfg = SynthConfig {
        seed: 1,
        scale: scale(),
        events: None,
        ..Default::default()
    };
    let (meta, data) = generate(&cfg).expect("valid config");

    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    // From the files: read the FlatGeobuf city directory and index it, as
    // `onemap serve` and `onemap query` do at start.
    let dir = tempfile::tempdir().expect("a temporary directory");
    onemap_store::write_city_dir(dir.path(), &meta, &data).expect("city written");
    g.bench_function("city_from_files", |b| {
        b.iter(|| {
            let (_, d) = onemap_store::read_city_dir(dir.path()).unwrap();
            City::build(black_box(d)).unwrap()
        })
    });
    g.bench_function("city_from_data", |b| {
        // The clone is set-up, not timed.
        b.iter_batched(
            || data.clone(),
            |d| City::build(black_box(d)).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let city = City::build(data).unwrap();

    // A reported event and a status change, as the event loop applies them:
    // a new snapshot sharing all but the events.
    let mut g = c.benchmark_group("change");
    g.sample_size(10);
    let last = city
        .feature(onemap_core::Layer::Events, 1)
        .expect("event 1");
    let (lon, lat) = (last.lon, last.lat);
    let unit = city
        .locate_unit(lon, lat)
        .unwrap()
        .expect("event 1 is in a unit");
    let fresh = onemap_core::Event {
        id: u64::MAX / 2,
        lon,
        lat,
        category: onemap_core::EventCategory::ALL[0],
        status: onemap_core::EventStatus::Reported,
        reported_at: 1_800_000_000,
        closed_at: None,
        status_at: 1_800_000_000,
        unit,
    };
    g.bench_function("with_events_1_new", |b| {
        b.iter(|| city.with_events(vec![black_box(fresh.clone())]).unwrap())
    });
    // A move along the loop: same place and report time, a new status.
    let mut moved = city.event(1).expect("event 1");
    moved.status = if moved.status == onemap_core::EventStatus::Closed {
        onemap_core::EventStatus::Discussing
    } else {
        onemap_core::EventStatus::Closed
    };
    moved.closed_at = (moved.status == onemap_core::EventStatus::Closed).then_some(1_800_000_000);
    g.bench_function("with_events_1_move", |b| {
        b.iter(|| city.with_events(vec![black_box(moved.clone())]).unwrap())
    });
    // A live server's usual batch: a move and a report together.
    g.bench_function("with_events_move_and_new", |b| {
        b.iter(|| {
            city.with_events(vec![black_box(moved.clone()), black_box(fresh.clone())])
                .unwrap()
        })
    });
    // Another server's report made a second before this one's latest: it
    // goes before it, in the tail.
    let after = city.with_events(vec![fresh.clone()]).unwrap();
    let earlier = onemap_core::Event {
        id: u64::MAX / 2 + 1,
        reported_at: fresh.reported_at - 1,
        status_at: fresh.reported_at - 1,
        ..fresh.clone()
    };
    g.bench_function("with_events_1_earlier", |b| {
        b.iter(|| after.with_events(vec![black_box(earlier.clone())]).unwrap())
    });
    g.finish();

    let e = onemap_core::CITY_EXTENT;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    // Uniformly random points over the city's extent, land and sea.
    let mut uniform = std::iter::repeat_with(move || {
        (
            rng.random_range(e.min_lon..e.max_lon),
            rng.random_range(e.min_lat..e.max_lat),
        )
    });
    let points: Vec<(f64, f64)> = uniform.by_ref().take(100_000).collect();
    let mut g = c.benchmark_group("locate");
    g.throughput(criterion::Throughput::Elements(points.len() as u64));
    g.bench_function("100k_uniform_points", |b| {
        b.iter(|| {
            points
                .iter()
                .filter(|&&(lon, lat)| city.locate_unit(lon, lat).unwrap().is_some())
                .count()
        })
    });
    // Uniformly random points in the city: the next uniform points that
    // fall in a unit (the sea and the land outside are dropped).
    let on_land: Vec<(f64, f64)> = uniform
        .filter(|&(lon, lat)| city.locate_unit(lon, lat).unwrap().is_some())
        .take(100_000)
        .collect();
    g.bench_function("100k_uniform_points_in_city", |b| {
        b.iter(|| {
            // The ids themselves are used, so none of the work is skipped.
            on_land
                .iter()
                .filter_map(|&(lon, lat)| city.locate_unit(lon, lat).unwrap())
                .fold(0u64, |s, u| s ^ u.get())
        })
    });
    // The ids of the whole chain (unit, grid, village, town, district).
    g.bench_function("100k_uniform_points_in_city_chain_ids", |b| {
        b.iter(|| {
            on_land
                .iter()
                .filter_map(|&(lon, lat)| city.locate_ids(lon, lat).unwrap())
                .fold(0u64, |s, l| s ^ l.unit.get() ^ l.district.get())
        })
    });
    // The whole chain with names, as the API answers it.
    g.bench_function("100k_uniform_points_in_city_full_chain", |b| {
        b.iter(|| {
            on_land
                .iter()
                .filter(|&&(lon, lat)| city.locate(lon, lat).unwrap().is_some())
                .count()
        })
    });
    // Points that all lie in some unit: the positions of 100k events.
    let inland: Vec<(f64, f64)> = city
        .features_in_bbox(
            Layer::Events,
            &BBox::new(e.min_lon, e.min_lat, e.max_lon, e.max_lat).unwrap(),
            &EventFilter::default(),
            &PageRequest::first(10_000),
        )
        .unwrap()
        .features
        .iter()
        .map(|f| (f.lon, f.lat))
        .cycle()
        .take(100_000)
        .collect();
    g.bench_function("100k_points_in_units", |b| {
        b.iter(|| {
            inland
                .iter()
                .filter(|&&(lon, lat)| city.locate_unit(lon, lat).unwrap().is_some())
                .count()
        })
    });
    g.finish();

    let window = TimeWindow::new(Some(HISTORY_END - 30 * 86_400), Some(HISTORY_END)).unwrap();
    let mut g = c.benchmark_group("stats_30_days");
    // Groups beyond onemap_index::MAX_GROUPS (130,000 units; 23,000 to
    // 33,000 cells at res 9 to 12 in 30 days) are refused city-wide: those
    // are asked for within a district (荔城区, the busiest).
    let district = Some(Scope::Area("350304".parse::<AreaId>().unwrap()));
    for (name, by, scope) in [
        ("unit_in_district", GroupBy::Level(Level::Unit), district),
        ("village", GroupBy::Level(Level::Village), None),
        ("h3_5", GroupBy::H3(5), None),
        ("h3_8", GroupBy::H3(8), None),
        ("h3_10_in_district", GroupBy::H3(10), district),
        // Not stored: latLngToCell for the events whose cell at 11 is not
        // the parent of their stored res-12 cell.
        ("h3_11_in_district", GroupBy::H3(11), district),
        ("h3_12_in_district", GroupBy::H3(12), district),
    ] {
        g.bench_with_input(BenchmarkId::from_parameter(name), &by, |b, &by| {
            b.iter(|| {
                city.event_stats(&StatsQuery {
                    group_by: by,
                    window,
                    scope,
                })
                .unwrap()
            })
        });
    }
    g.finish();

    // Overdue events at the end of the history, by the default deadlines:
    // city-wide counts per district (the wall) and the list of the most
    // overdue (one pass over the status columns).
    let due = onemap_core::Deadlines::default().cutoffs(HISTORY_END);
    let mut g = c.benchmark_group("overdue");
    g.bench_function("stats_by_district_all_time", |b| {
        b.iter(|| {
            city.event_stats_due(
                &StatsQuery {
                    group_by: GroupBy::Level(Level::District),
                    window: TimeWindow::ALL,
                    scope: None,
                },
                onemap_index::MAX_GROUPS,
                Some(black_box(&due)),
            )
            .unwrap()
        })
    });
    g.bench_function("list_100_city", |b| {
        b.iter(|| city.overdue(None, black_box(&due), 100).unwrap())
    });
    g.finish();

    // Hot spots (the command line's default place is h3:11, computed per
    // event; h3:12 is stored), over 30 days and over the whole history.
    let mut g = c.benchmark_group("hotspots");
    g.sample_size(10);
    for (name, window) in [("30_days", window), ("all", TimeWindow::ALL)] {
        for place in [
            HotspotPlace::Unit,
            HotspotPlace::H3(11),
            HotspotPlace::H3(12),
        ] {
            let id = match place {
                HotspotPlace::Unit => format!("unit_{name}"),
                HotspotPlace::H3(r) => format!("h3_{r}_{name}"),
            };
            g.bench_function(id, |b| {
                b.iter(|| {
                    city.hotspots(&HotspotQuery {
                        window,
                        place,
                        min_count: 5,
                        categories: None,
                        scope: None,
                        limit: 100,
                    })
                    .unwrap()
                })
            });
        }
    }
    g.finish();

    // A box around the city centre sized to hold about 1,000 events.
    let (cx, cy) = (119.01, 25.44);
    let mut half = 0.002;
    let filter = EventFilter::default();
    let count = |h: f64| {
        let bbox = BBox::new(cx - h, cy - h, cx + h, cy + h).unwrap();
        city.features_in_bbox(Layer::Events, &bbox, &filter, &PageRequest::first(10_000))
            .unwrap()
            .features
            .len()
    };
    while count(half) < 1_000 && half < 0.5 {
        half *= 1.25;
    }
    let bbox = BBox::new(cx - half, cy - half, cx + half, cy + half).unwrap();
    let n = count(half);
    let mut g = c.benchmark_group("bbox_events");
    g.bench_function(BenchmarkId::new("page_of", n), |b| {
        b.iter(|| {
            city.features_in_bbox(Layer::Events, &bbox, &filter, &PageRequest::first(10_000))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_index);
criterion_main!(benches);
