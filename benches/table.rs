//! The one table's benchmarks on the ledgers of a deterministic synthetic
//! city (seed 1): a town's preview, the city's care group counted, a town's
//! people as CSV and as XLSX, the city's people as CSV.
//!
//! `cargo bench --bench table` uses the full city (3.27 million people);
//! `ONEMAP_BENCH_SCALE=0.1 cargo bench --bench table` a smaller one.

use criterion::{criterion_group, criterion_main, Criterion};
use onemap_core::Level;
use onemap_ledger::{Access, CsvSink, GenConfig, Ledger, Ledgers, Preview, Query, XlsxSink};
use onemap_synth::{generate, SynthConfig, HISTORY_END};
use std::hint::black_box;

fn scale() -> f64 {
    std::env::var("ONEMAP_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn bench_table(c: &mut Criterion) {
    let cfg = SynthConfig {
        seed: 1,
        scale: scale(),
        events: Some(1000),
        ..Default::default()
    };
    let (_, data) = generate(&cfg).expect("valid config");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let gen = GenConfig {
        seed: 1,
        until: HISTORY_END,
    };
    let places = onemap_ledger::Places::of_city(&data);
    let mut g = c.benchmark_group("table");
    g.sample_size(10);
    // Written once for the queries (whichever benches a filter picks), and
    // again, elsewhere, by the build bench.
    onemap_ledger::write_ledgers(dir.path(), &data.areas, gen, &places, &|_, _| {})
        .expect("ledgers written");
    let again = tempfile::tempdir().expect("a temporary directory");
    g.bench_function("ledgers_build", |b| {
        b.iter(|| {
            onemap_ledger::write_ledgers(again.path(), &data.areas, gen, &places, &|_, _| {})
                .unwrap()
        })
    });
    let ledgers = Ledgers::open(dir.path()).expect("ledgers written");
    let areas = &data.areas;
    // The town with the most people.
    let town = areas
        .level(Level::Town)
        .iter()
        .map(|t| {
            let mut q = Query::new(Ledger::People, HISTORY_END / 86_400);
            q.area = Some(t.id);
            let n = onemap_ledger::run(
                &ledgers,
                areas,
                &q,
                Access { personal: true },
                &mut Preview::new(0, q.lang),
            )
            .unwrap()
            .rows;
            (n, t.id)
        })
        .max()
        .expect("towns")
        .1;
    let town_q = || {
        let mut q = Query::new(Ledger::People, HISTORY_END / 86_400);
        q.area = Some(town);
        q.set_fields("name,id_number,sex,birth,phone,village,grid,tags,illness,updated")
            .unwrap();
        q
    };
    let open = Access { personal: true };
    g.bench_function("town_preview_50", |b| {
        let q = town_q();
        b.iter(|| {
            let mut p = Preview::new(50, q.lang);
            black_box(onemap_ledger::run(&ledgers, areas, &q, open, &mut p).unwrap())
        })
    });
    g.bench_function("city_care_group_count", |b| {
        let mut q = Query::new(Ledger::People, HISTORY_END / 86_400);
        q.add_filter("tags=care").unwrap();
        b.iter(|| {
            black_box(
                onemap_ledger::run(&ledgers, areas, &q, open, &mut Preview::new(0, q.lang))
                    .unwrap(),
            )
        })
    });
    g.bench_function("town_people_csv", |b| {
        let q = town_q();
        b.iter(|| {
            let mut sink = CsvSink::new(std::io::sink(), &q.fields, q.lang).unwrap();
            black_box(onemap_ledger::run(&ledgers, areas, &q, open, &mut sink).unwrap());
            sink.finish().unwrap();
        })
    });
    g.bench_function("town_people_xlsx", |b| {
        let q = town_q();
        b.iter(|| {
            let mut sink = XlsxSink::new(&q.fields, q.lang, "人员台账").unwrap();
            onemap_ledger::run(&ledgers, areas, &q, open, &mut sink).unwrap();
            black_box(sink.finish().unwrap().len())
        })
    });
    g.bench_function("city_people_csv", |b| {
        let mut q = Query::new(Ledger::People, HISTORY_END / 86_400);
        q.set_fields("all").unwrap();
        b.iter(|| {
            let mut sink = CsvSink::new(std::io::sink(), &q.fields, q.lang).unwrap();
            black_box(onemap_ledger::run(&ledgers, areas, &q, open, &mut sink).unwrap());
            sink.finish().unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench_table);
criterion_main!(benches);
