//! H3 aggregates against the reference library: every event counts in the
//! cell that the `h3` Python package (Uber's C library, through its
//! binding) says holds its position (`latLngToCell`), at every resolution
//! event stats accept (5–12) and hot spots accept (11–12), on the small
//! test city and on the snapshots `City::with_events` makes from it (a
//! rebuild, and reports appended).

mod common;

use common::h3_reference::{reference, Reference};
use onemap_core::{Event, EventCategory, EventStatus};
use onemap_index::{
    City, GroupBy, GroupKey, HotspotPlace, HotspotQuery, PlaceKey, StatsQuery, TimeWindow,
    HOTSPOT_RESOLUTIONS, MAX_LIMIT, STATS_RESOLUTIONS,
};
use onemap_synth::{generate, SynthConfig, HISTORY_END};
use std::collections::BTreeMap;

/// Checks every H3 figure of `city` against the reference over `events`
/// (the same events as plain data).
fn check(what: &str, city: &City, events: &[Event]) {
    let points: Vec<[f64; 2]> = events.iter().map(|e| [e.lon, e.lat]).collect();
    let all: Vec<u8> = STATS_RESOLUTIONS.collect();
    let r = reference(&points, &all, &[]);
    // Stats over all of time and over the last 30 days.
    let last_month = TimeWindow::new(Some(HISTORY_END - 30 * 86_400), None).unwrap();
    for window in [TimeWindow::ALL, last_month] {
        for res in STATS_RESOLUTIONS {
            let report = city
                .event_stats(&StatsQuery {
                    group_by: GroupBy::H3(res),
                    window,
                    scope: None,
                })
                .unwrap();
            let mut got: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for g in &report.groups {
                let GroupKey::Cell { cell, resolution } = &g.key else {
                    panic!("{what}: a cell group");
                };
                assert_eq!(*resolution, res);
                let f = &g.tally.figures;
                assert!(got.insert(cell.clone(), (f.total, f.closed)).is_none());
            }
            let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for (i, e) in events.iter().enumerate() {
                if window.contains(e.reported_at) {
                    let w = want.entry(r.cells[&res][i].clone()).or_default();
                    w.0 += 1;
                    w.1 += u64::from(e.status == EventStatus::Closed);
                }
            }
            assert!(!want.is_empty());
            let differing = want
                .keys()
                .chain(got.keys())
                .filter(|c| want.get(*c) != got.get(*c))
                .count();
            assert_eq!(
                differing,
                0,
                "{what}: {differing} cells at resolution {res} ({window:?}) differ from the reference (which has {})",
                want.len()
            );
        }
    }
    hotspots(what, city, events, &r);
}

/// Hot spots at each resolution: per (category, cell), the reference count.
fn hotspots(what: &str, city: &City, events: &[Event], r: &Reference) {
    let window = TimeWindow::new(Some(HISTORY_END - 120 * 86_400), None).unwrap();
    for place in HOTSPOT_RESOLUTIONS {
        let spots = city
            .hotspots(&HotspotQuery {
                window,
                place: HotspotPlace::H3(place),
                min_count: 1,
                categories: None,
                scope: None,
                limit: MAX_LIMIT,
            })
            .unwrap();
        let mut want: BTreeMap<(EventCategory, String), u64> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            if window.contains(e.reported_at) {
                *want
                    .entry((e.category, r.cells[&place][i].clone()))
                    .or_default() += 1;
            }
        }
        assert!(want.len() < MAX_LIMIT, "every group is listed");
        let got: BTreeMap<(EventCategory, String), u64> = spots
            .iter()
            .map(|h| {
                let PlaceKey::Cell { cell, .. } = &h.place else {
                    panic!("{what}: a cell place");
                };
                ((h.category, cell.clone()), h.count)
            })
            .collect();
        assert_eq!(got.len(), spots.len());
        let differing = want
            .keys()
            .chain(got.keys())
            .filter(|k| want.get(*k) != got.get(*k))
            .count();
        assert_eq!(
            differing,
            0,
            "{what}: {differing} hot spots at resolution {place} differ from the reference (which has {})",
            want.len()
        );
    }
}

#[test]
fn h3_figures_agree_with_the_reference_library() {
    let (_, data) = generate(&SynthConfig {
        seed: 7,
        scale: 0.02,
        events: None,
        ..Default::default()
    })
    .unwrap();
    let mut events = data.events.clone();
    let city = City::build(data).unwrap();
    check("the built city", &city, &events);

    // A rebuild: one event moved (a correction of its place, in the same
    // unit's neighbourhood) and one closed.
    let mut moved = events[10].clone();
    moved.lon += 0.0123;
    moved.lat -= 0.0071;
    let mut closed = events[20].clone();
    closed.status = EventStatus::Closed;
    closed.closed_at = Some(closed.reported_at + 3600);
    closed.status_at = closed.reported_at + 3600;
    let next = city
        .with_events(vec![moved.clone(), closed.clone()])
        .unwrap();
    events[10] = moved;
    events[20] = closed;
    check("a rebuilt snapshot", &next, &events);

    // Reports after every other event: appended to the point index.
    let last = events.iter().map(|e| e.reported_at).max().unwrap();
    let max_id = events.iter().map(|e| e.id).max().unwrap();
    let reports: Vec<Event> = (1..=5u32)
        .map(|k| {
            let base = &events[(k as usize) * 997 % events.len()];
            Event {
                id: max_id + u64::from(k),
                lon: base.lon + 0.0031 * f64::from(k),
                lat: base.lat - 0.0017 * f64::from(k),
                category: EventCategory::ALL[k as usize % 8],
                status: EventStatus::Reported,
                reported_at: last + i64::from(k),
                closed_at: None,
                status_at: last + i64::from(k),
                unit: base.unit,
            }
        })
        .collect();
    let appended = next.with_events(reports.clone()).unwrap();
    assert!(
        appended.report().events_appended > 0,
        "the fast path for reports"
    );
    events.extend(reports);
    check("reports appended", &appended, &events);
}
