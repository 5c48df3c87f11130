//! Every query against a brute-force scan of the same data.

mod common;

use common::fixture::{build, FixtureConfig};
use common::oracle::{tally, unit_at};
use common::World;
use geo_types::{Coord, LineString, Polygon};
use h3o::{LatLng, Resolution};
use onemap_core::{AreaId, BBox, EventCategory, EventStatus, HomesteadStatus, Layer, Level};
use onemap_index::{
    City, EventFilter, GroupBy, GroupKey, HotspotPlace, HotspotQuery, PageRequest, PlaceKey, Scope,
    StatsQuery, TimeWindow,
};
use onemap_synth::{generate, SynthConfig};
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The cities under test: the 4 × 4 grid of squares, two jittered
/// lattices, a small city from the synthetic generator, and one whose events
/// were changed after it was built.
fn world(which: u8) -> &'static World {
    static W: [OnceLock<World>; WORLDS as usize] = [const { OnceLock::new() }; WORLDS as usize];
    W[(which % WORLDS) as usize].get_or_init(|| match which % WORLDS {
        0 => World::new(build(&FixtureConfig::tiny()).0),
        1 => World::new(build(&FixtureConfig::small(1)).0),
        2 => World::new(build(&FixtureConfig::small(2)).0),
        3 => {
            let cfg = SynthConfig {
                seed: 3,
                scale: 0.01,
                events: Some(4_000),
                ..Default::default()
            };
            World::new(generate(&cfg).expect("the generator runs").1)
        }
        _ => {
            // Same kind of city, but its events reached through `with_events`.
            let cfg = SynthConfig {
                seed: 4,
                scale: 0.01,
                events: Some(4_000),
                ..Default::default()
            };
            World::changed(generate(&cfg).expect("the generator runs").1)
        }
    })
}

const WORLDS: u8 = 5;

fn all_areas(w: &World) -> Vec<AreaId> {
    w.brute.data.areas.iter().map(|a| a.id).collect()
}

/// Raw material for a point: kind, pick, fractions.
fn pt() -> impl Strategy<Value = (u8, usize, f64, f64)> {
    (0u8..4, any::<usize>(), 0.0f64..1.0, 0.0f64..1.0)
}

type RawPt = (u8, usize, f64, f64);

/// A scope drawn for a query: none (`kind` 0), an area (1) or a box between
/// two points (2).
fn scope(w: &World, kind: u8, pick: usize, a: RawPt, b: RawPt) -> Option<Scope> {
    match kind {
        0 => None,
        1 => {
            let areas = all_areas(w);
            Some(Scope::Area(areas[pick % areas.len()]))
        }
        _ => {
            let (p, q) = (w.point(a.0, a.1, a.2, a.3), w.point(b.0, b.1, b.2, b.3));
            Some(Scope::BBox(
                BBox::new(p.0.min(q.0), p.1.min(q.1), p.0.max(q.0), p.1.max(q.1)).unwrap(),
            ))
        }
    }
}

/// Whether a point lies in a scope, by brute force.
fn in_scope(p: &common::oracle::Pt, scope: &Option<Scope>) -> bool {
    match scope {
        None => true,
        Some(Scope::Area(id)) => p
            .unit
            .is_some_and(|u| u.ancestor_at(id.level().unwrap()) == Some(*id)),
        Some(Scope::BBox(bb)) => bb.contains(p.lon, p.lat),
    }
}

fn window(w: &World, a: f64, b: f64, open_from: bool, open_to: bool) -> TimeWindow {
    let cfg_t0 = w
        .brute
        .data
        .events
        .iter()
        .map(|e| e.reported_at)
        .min()
        .unwrap_or(0);
    let cfg_t1 = w
        .brute
        .data
        .events
        .iter()
        .map(|e| e.reported_at)
        .max()
        .unwrap_or(0)
        + 1;
    let t = |f: f64| cfg_t0 + ((cfg_t1 - cfg_t0) as f64 * f) as i64 / 3600 * 3600;
    let (x, y) = (t(a.min(b)), t(a.max(b)));
    TimeWindow {
        from: (!open_from).then_some(x),
        to: (!open_to).then_some(y),
    }
}

fn filter_strategy() -> impl Strategy<Value = RawFilter> {
    (
        any::<bool>(),
        0.0f64..1.0,
        0.0f64..1.0,
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(proptest::sample::subsequence(
            EventCategory::ALL.to_vec(),
            0..=8,
        )),
        proptest::option::of(proptest::sample::subsequence(
            EventStatus::ALL.to_vec(),
            0..=6,
        )),
        proptest::option::of(proptest::sample::subsequence(
            HomesteadStatus::ALL.to_vec(),
            0..=3,
        )),
    )
}

type RawFilter = (
    bool,
    f64,
    f64,
    bool,
    bool,
    Option<Vec<EventCategory>>,
    Option<Vec<EventStatus>>,
    Option<Vec<HomesteadStatus>>,
);

fn make_filter(w: &World, layer: Layer, raw: RawFilter) -> EventFilter {
    let (on, a, b, of, ot, categories, statuses, homestead_statuses) = raw;
    if layer == Layer::Homesteads && on {
        return EventFilter {
            homestead_statuses,
            ..EventFilter::default()
        };
    }
    if layer != Layer::Events || !on {
        return EventFilter::default();
    }
    let win = window(w, a, b, of, ot);
    EventFilter {
        from: win.from,
        to: win.to,
        categories,
        statuses,
        homestead_statuses: None,
    }
}

/// Every page of a query, concatenated; checks page sizes and cursors.
fn all_pages(limit: usize, mut page: impl FnMut(PageRequest) -> onemap_index::Page) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut req = PageRequest::first(limit);
    loop {
        let p = page(req);
        assert!(p.features.len() <= limit);
        ids.extend(p.features.iter().map(|f| f.id));
        match p.next_cursor {
            Some(c) => {
                assert_eq!(p.features.len(), limit, "a page with a cursor is full");
                req.cursor = Some(c);
            }
            None => return ids,
        }
    }
}

const LAYERS: [Layer; 11] = Layer::ALL;

proptest! {
    #[test]
    fn locate_matches_brute_force(which in 0..WORLDS, p in pt()) {
        let w = world(which);
        let (lon, lat) = w.point(p.0, p.1, p.2, p.3);
        let expected = unit_at(&w.brute.data, lon, lat);
        prop_assert_eq!(w.city.locate_unit(lon, lat).unwrap(), expected);
        let loc = w.city.locate(lon, lat).unwrap();
        prop_assert_eq!(loc.as_ref().map(|l| l.unit.id), expected);
        let ids = w.city.locate_ids(lon, lat).unwrap();
        prop_assert_eq!(ids.map(|i| i.unit), expected);
        if let (Some(l), Some(ids)) = (loc, ids) {
            // The chain of parents as the data records them, unit first.
            let mut chain = vec![l.unit.id];
            while let Some(p) = w.brute.data.areas.get(*chain.last().unwrap()).unwrap().parent {
                chain.push(p);
            }
            let got = [(&l.grid, ids.grid), (&l.village, ids.village), (&l.town, ids.town), (&l.district, ids.district)];
            prop_assert_eq!(chain.len(), 5);
            for (k, (r, id)) in got.into_iter().enumerate() {
                prop_assert_eq!(r.id, chain[k + 1]);
                prop_assert_eq!(id, chain[k + 1]);
                prop_assert_eq!(w.brute.data.areas.get(r.id).unwrap().name.as_str(), &*r.name);
            }
        }
    }

    #[test]
    fn bbox_matches_brute_force(which in 0..WORLDS, layer in select(LAYERS.to_vec()), a in pt(), b in pt(), raw in filter_strategy(), limit in 1usize..40) {
        let w = world(which);
        let (p, q) = (w.point(a.0, a.1, a.2, a.3), w.point(b.0, b.1, b.2, b.3));
        let bbox = BBox::new(p.0.min(q.0), p.1.min(q.1), p.0.max(q.0), p.1.max(q.1)).unwrap();
        let filter = make_filter(w, layer, raw);
        let got = all_pages(limit, |r| w.city.features_in_bbox(layer, &bbox, &filter, &r).unwrap());
        prop_assert_eq!(got, w.brute.in_bbox(layer, &bbox, &filter));
    }

    #[test]
    fn area_matches_brute_force(which in 0..WORLDS, layer in select(LAYERS.to_vec()), pick in any::<usize>(), raw in filter_strategy(), limit in 1usize..40) {
        let w = world(which);
        let areas = all_areas(w);
        let area = areas[pick % areas.len()];
        let filter = make_filter(w, layer, raw);
        let got = all_pages(limit, |r| w.city.features_in_area(layer, area, &filter, &r).unwrap());
        prop_assert_eq!(got, w.brute.in_area(layer, area, &filter));
    }

    #[test]
    fn polygon_matches_brute_force(which in 0..WORLDS, layer in select(LAYERS.to_vec()), corners in proptest::collection::vec(pt(), 3..9), raw in filter_strategy(), limit in 1usize..40, shape in 0u8..4) {
        let w = world(which);
        let mut pts: Vec<(f64, f64)> = corners.iter().map(|c| w.point(c.0, c.1, c.2, c.3)).collect();
        let n = pts.len() as f64;
        let centre = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
        match shape {
            // A convex hull, and the same with a hole (the hull shrunk by half
            // towards its centre).
            0 | 3 => pts = hull(pts),
            // A triangle.
            1 => pts.truncate(3),
            // The points in order of angle about their centre: a simple
            // polygon, concave in general.
            _ => pts.sort_by(|a, b| (a.1 - centre.1).atan2(a.0 - centre.0).total_cmp(&(b.1 - centre.1).atan2(b.0 - centre.0))),
        }
        pts.dedup();
        let area2 = pts.iter().zip(pts.iter().cycle().skip(1)).map(|(a, b)| a.0 * b.1 - b.0 * a.1).sum::<f64>();
        prop_assume!(pts.len() >= 3 && area2.abs() > 1e-12);
        let ring: LineString<f64> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
        prop_assume!(shape != 2 || geo::Validation::is_valid(&Polygon::new(ring.clone(), vec![])));
        let holes = if shape == 3 {
            let c = (pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64, pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64);
            vec![pts.iter().map(|&(x, y)| Coord { x: c.0 + (x - c.0) / 2.0, y: c.1 + (y - c.1) / 2.0 }).collect()]
        } else {
            vec![]
        };
        let poly = Polygon::new(ring, holes);
        let filter = make_filter(w, layer, raw);
        let got = all_pages(limit, |r| w.city.features_in_polygon(layer, &poly, &filter, &r).unwrap());
        prop_assert_eq!(got, w.brute.in_polygon(layer, &poly, &filter));
    }

    #[test]
    fn nearest_matches_brute_force(which in 0..WORLDS, layer in select(vec![Layer::Events, Layer::Ships, Layer::Heritage, Layer::Homesteads, Layer::Enterprises, Layer::Schools]), p in pt(), k in 1usize..25, max in proptest::option::of(0.0f64..3000.0), raw in filter_strategy()) {
        let w = world(which);
        let (lon, lat) = w.point(p.0, p.1, p.2, p.3);
        let filter = make_filter(w, layer, raw);
        let got: Vec<(f64, u64)> = w.city.nearest(layer, lon, lat, k, max, &filter).unwrap().into_iter().map(|n| (n.distance_m, n.feature.id)).collect();
        prop_assert_eq!(got, w.brute.nearest(layer, lon, lat, k, max, &filter));
    }

    #[test]
    fn queries_at_the_latest_reports_match_brute_force(pick in 0usize..12, dx in -0.01f64..0.01, dy in -0.01f64..0.01, k in 1usize..25, max in proptest::option::of(0.0f64..3000.0), raw in filter_strategy(), limit in 1usize..40) {
        // World 4 appended its 12 latest reports one by one: they sit
        // outside the R-tree, where every spatial query must still see them.
        let w = world(4);
        let mut latest: Vec<&onemap_core::Event> = w.brute.data.events.iter().collect();
        latest.sort_by_key(|e| e.id);
        let e = latest[latest.len() - 12 + pick];
        let filter = make_filter(w, Layer::Events, raw);
        let (lon, lat) = (e.lon + dx * 0.1, e.lat + dy * 0.1);
        let got: Vec<(f64, u64)> = w.city.nearest(Layer::Events, lon, lat, k, max, &filter).unwrap().into_iter().map(|n| (n.distance_m, n.feature.id)).collect();
        prop_assert_eq!(got, w.brute.nearest(Layer::Events, lon, lat, k, max, &filter));
        let bbox = BBox::new(e.lon.min(e.lon + dx), e.lat.min(e.lat + dy), e.lon.max(e.lon + dx), e.lat.max(e.lat + dy)).unwrap();
        let got = all_pages(limit, |r| w.city.features_in_bbox(Layer::Events, &bbox, &filter, &r).unwrap());
        prop_assert_eq!(got, w.brute.in_bbox(Layer::Events, &bbox, &filter));
    }

    #[test]
    fn overdue_matches_brute_force(which in 0..WORLDS, scope_kind in 0u8..3, pick in any::<usize>(), a in pt(), b in pt(), when in 0.0f64..1.2, limit in 1usize..40, judge_h in 1i64..72) {
        let w = world(which);
        let scope = scope(w, scope_kind, pick, a, b);
        let (t0, t1) = w.city.event_time_range().unwrap_or((0, 1));
        let at = t0 + ((t1 - t0) as f64 * when) as i64;
        let limits = onemap_core::Deadlines { judge: Some(judge_h * 3600), ..Default::default() };
        let got = w.city.overdue(scope.as_ref(), &limits.cutoffs(at), limit).unwrap();
        // Brute force: every event in scope past its step's limit at `at`,
        // the most overdue first, then by id.
        let mut want: Vec<(i64, u64)> = w.brute.events_where(|p, e| in_scope(p, &scope) && limits.is_overdue(e.status, e.status_at, at))
            .into_iter()
            .map(|(_, e)| (at - limits.due(e.status, e.status_at).unwrap(), e.id))
            .collect();
        want.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        prop_assert_eq!(got.total, want.len() as u64);
        let s = &got.by_status;
        prop_assert_eq!(s.reported + s.discussing + s.routed + s.handled + s.fed_back, got.total);
        want.truncate(limit);
        let listed: Vec<(i64, u64)> = got.events.iter().map(|e| (e.overdue_s, e.id)).collect();
        prop_assert_eq!(listed, want);
        for e in &got.events {
            prop_assert!(e.status.is_open());
            prop_assert_eq!(e.town, e.unit.and_then(|u| u.ancestor_at(Level::Town)));
        }
    }

    #[test]
    fn stats_match_brute_force(which in 0..WORLDS, by in 0u8..13, raw in filter_strategy(), scope_kind in 0u8..3, pick in any::<usize>(), a in pt(), b in pt(), when in 0.0f64..1.2) {
        let w = world(which);
        let group_by = match by {
            0..=4 => GroupBy::Level(Level::ALL[by as usize]),
            r => GroupBy::H3(r),
        };
        let win = window(w, raw.1, raw.2, raw.3, raw.4);
        let scope = scope(w, scope_kind, pick, a, b);
        let q = StatsQuery { group_by, window: win, scope };
        // Overdue at a moment within (or after) the events' times.
        let (t0, t1) = w.city.event_time_range().unwrap_or((0, 1));
        let at = t0 + ((t1 - t0) as f64 * when) as i64;
        let limits = onemap_core::Deadlines::default();
        let report = w.city.event_stats_due(&q, onemap_index::MAX_GROUPS, Some(&limits.cutoffs(at))).unwrap();
        prop_assert_eq!(&report.groups, &w.city.event_stats(&q).unwrap().groups.into_iter().zip(&report.groups)
            .map(|(mut g, d)| { g.tally.overdue = d.tally.overdue; g }).collect::<Vec<_>>(), "the same groups with and without overdue counts");
        // Brute force: which events are in scope, and their group.
        let in_scope = w.brute.events_where(|p, e| {
            win.contains(e.reported_at) && in_scope(p, &scope)
        });
        let overall = tally(in_scope.iter().map(|x| x.1));
        prop_assert_eq!((report.overall.figures.total, report.overall.figures.closed), overall);
        let late = |e: &onemap_core::Event| limits.is_overdue(e.status, e.status_at, at);
        prop_assert_eq!(report.overall.overdue, Some(in_scope.iter().filter(|x| late(x.1)).count() as u64));
        let mut expected: BTreeMap<String, (u64, u64, [u64; 8], [u64; 6])> = BTreeMap::new();
        let mut overdue: BTreeMap<String, u64> = BTreeMap::new();
        for (p, e) in &in_scope {
            let key = match group_by {
                GroupBy::Level(level) => match p.unit { Some(u) => u.ancestor_at(level).unwrap().to_string(), None => continue },
                GroupBy::H3(r) => LatLng::new(p.lat, p.lon).unwrap().to_cell(Resolution::try_from(r).unwrap()).to_string(),
            };
            *overdue.entry(key.clone()).or_default() += u64::from(late(e));
            let g = expected.entry(key).or_default();
            g.0 += 1;
            g.1 += u64::from(e.status == EventStatus::Closed);
            g.2[e.category.code() as usize] += 1;
            g.3[EventStatus::ALL.iter().position(|s| *s == e.status).unwrap()] += 1;
        }
        let mut seen = 0;
        for g in &report.groups {
            let key = match &g.key { GroupKey::Area { id, .. } => id.to_string(), GroupKey::Cell { cell, .. } => cell.clone() };
            let t = &g.tally;
            let c = &t.by_category;
            let s = &t.by_status;
            let got = (
                t.figures.total,
                t.figures.closed,
                [c.drainage, c.sanitation, c.dispute, c.road, c.safety_hazard, c.illegal_building, c.public_order, c.other],
                [s.reported, s.discussing, s.routed, s.handled, s.fed_back, s.closed],
            );
            let want = expected.get(&key).copied().unwrap_or_default();
            prop_assert_eq!(got, want, "group {}", key);
            prop_assert_eq!(t.overdue, Some(overdue.get(&key).copied().unwrap_or(0)), "overdue in {}", key);
            prop_assert_eq!(t.figures.open, want.0 - want.1, "open in {}", key);
            prop_assert_eq!(t.figures.closure_rate, (want.0 > 0).then(|| want.1 as f64 / want.0 as f64), "closure rate of {}", key);
            seen += usize::from(want.0 > 0);
        }
        prop_assert_eq!(seen, expected.len(), "every non-empty group is listed");
        // Area groups: exactly the areas in scope (plus any holding events in a box scope).
        if let GroupBy::Level(level) = group_by {
            let listed: Vec<AreaId> = report.groups.iter().map(|g| match g.key { GroupKey::Area { id, .. } => id, _ => unreachable!() }).collect();
            prop_assert!(listed.windows(2).all(|x| x[0] < x[1]));
            match scope {
                None => prop_assert_eq!(listed.len(), w.brute.data.areas.level(level).len()),
                Some(Scope::Area(id)) => {
                    let want: Vec<AreaId> = w.brute.data.areas.level(level).iter().map(|a| a.id)
                        .filter(|a| a.ancestor_at(id.level().unwrap()) == Some(id) || id.ancestor_at(level) == Some(*a)).collect();
                    prop_assert_eq!(listed, want);
                }
                Some(Scope::BBox(_)) => {}
            }
        }
    }

    #[test]
    fn hotspots_match_brute_force(which in 0..WORLDS, place in 0u8..3, min in 1u32..4, raw in filter_strategy(), scope_kind in 0u8..3, pick in any::<usize>(), a in pt(), b in pt(), limit in prop_oneof![1usize..20, Just(10_000usize)]) {
        let w = world(which);
        let place = match place { 0 => HotspotPlace::Unit, r => HotspotPlace::H3(10 + r) };
        let win = window(w, raw.1, raw.2, raw.3, raw.4);
        let scope = scope(w, scope_kind, pick, a, b);
        let q = HotspotQuery { window: win, place, min_count: min, categories: raw.5.clone(), scope, limit };
        let got = w.city.hotspots(&q).unwrap();
        let mut groups: BTreeMap<(u8, u64), Vec<&onemap_core::Event>> = BTreeMap::new();
        for (p, e) in w.brute.events_where(|p, e| {
            win.contains(e.reported_at)
                && q.categories.as_ref().is_none_or(|c| c.contains(&e.category))
                && in_scope(p, &scope)
        }) {
            let key = match place {
                HotspotPlace::Unit => match p.unit { Some(u) => u.get(), None => continue },
                HotspotPlace::H3(r) => u64::from(LatLng::new(p.lat, p.lon).unwrap().to_cell(Resolution::try_from(r).unwrap())),
            };
            groups.entry((e.category.code(), key)).or_default().push(e);
        }
        let mut want: Vec<(u64, u8, u64, u64, i64, i64)> = groups.iter()
            .filter(|(_, v)| v.len() as u64 >= u64::from(min))
            .map(|(k, v)| {
                let (t, c) = tally(v.iter().copied());
                (t, k.0, k.1, t - c, v.iter().map(|e| e.reported_at).min().unwrap(), v.iter().map(|e| e.reported_at).max().unwrap())
            })
            .collect();
        want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        // The first `limit` of the ranking.
        want.truncate(limit);
        // One hot spot by its key: the same counts, and its events' ids are
        // the brute-force group's (over the whole window, without scope).
        if scope.is_none() {
            for h in got.iter().take(3) {
                let (one, ids) = w.city.hotspot_at(h.category, &h.place, &win).unwrap().expect("a hot spot");
                prop_assert_eq!(&one, h);
                let key = match &h.place {
                    PlaceKey::Unit { id } => id.get(),
                    PlaceKey::Cell { cell, .. } => u64::from(cell.parse::<h3o::CellIndex>().unwrap()),
                };
                let mut want_ids: Vec<u64> = groups[&(h.category.code(), key)].iter().map(|e| e.id).collect();
                want_ids.sort_unstable();
                prop_assert_eq!(ids, want_ids);
            }
        }
        for h in &got {
            if let PlaceKey::Unit { id } = h.place {
                prop_assert_eq!(h.unit.as_ref().map(|u| u.id), Some(id));
                prop_assert_eq!(h.village.as_ref().map(|v| v.id), id.ancestor_at(Level::Village));
            }
        }
        let got: Vec<(u64, u8, u64, u64, i64, i64)> = got.iter().map(|h| {
            let place = match &h.place {
                PlaceKey::Unit { id } => id.get(),
                PlaceKey::Cell { cell, .. } => u64::from(cell.parse::<h3o::CellIndex>().unwrap()),
            };
            (h.count, h.category.code(), place, h.open, h.first_reported_at, h.last_reported_at)
        }).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn area_details_match_brute_force(which in 0..WORLDS, pick in any::<usize>(), raw in filter_strategy()) {
        let w = world(which);
        let areas = all_areas(w);
        let id = areas[pick % areas.len()];
        let own = id.level().unwrap();
        let win = window(w, raw.1, raw.2, raw.3, raw.4);
        let d = w.city.area_details(id, &win).unwrap();
        let under = |p: &common::oracle::Pt, a: AreaId| p.unit.is_some_and(|u| u.ancestor_at(a.level().unwrap()) == Some(a));
        let evs = w.brute.events_where(|p, e| win.contains(e.reported_at) && under(p, id));
        prop_assert_eq!((d.figures.total, d.figures.closed), tally(evs.iter().map(|x| x.1)));
        let kids: Vec<AreaId> = w.brute.data.areas.iter().filter(|a| a.parent == Some(id)).map(|a| a.id).collect();
        prop_assert_eq!(d.children.iter().map(|c| c.area.id).collect::<Vec<_>>(), kids.clone());
        for c in &d.children {
            let t = tally(evs.iter().filter(|x| under(x.0, c.area.id)).map(|x| x.1));
            prop_assert_eq!((c.figures.total, c.figures.closed), t);
        }
        let crumbs: Vec<AreaId> = Level::ALL.iter().filter(|l| **l < own).map(|l| id.ancestor_at(*l).unwrap()).collect();
        prop_assert_eq!(d.breadcrumb.iter().map(|c| c.id).collect::<Vec<_>>(), crumbs);
        let count = |layer| w.brute.in_area(layer, id, &EventFilter::default()).len() as u64;
        prop_assert_eq!(d.features.ships, count(Layer::Ships));
        prop_assert_eq!(d.features.homesteads, count(Layer::Homesteads));
        prop_assert_eq!(d.features.schools, count(Layer::Schools));
        prop_assert_eq!(d.features.units, count(Layer::Units));
    }
}

/// The convex hull of some points, counter-clockwise (monotone chain).
fn hull(mut p: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    p.sort_by(|a, b| a.partial_cmp(b).unwrap());
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut h: Vec<(f64, f64)> = Vec::new();
    for pass in 0..2 {
        let start = h.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while h.len() >= start + 2 && cross(h[h.len() - 2], h[h.len() - 1], q) <= 0.0 {
                h.pop();
            }
            h.push(q);
        }
        h.pop();
    }
    h
}

#[test]
fn events_keep_their_given_unit_on_shared_boundaries() {
    let w = world(1);
    for (p, e) in &w.brute.events {
        assert_eq!(
            w.city.feature(Layer::Events, e.id).unwrap().unit,
            p.unit,
            "event {}",
            e.id
        );
    }
    let r = w.city.report();
    assert!(
        r.events_relocated > 0,
        "the fixture files some events under wrong units"
    );
    assert!(
        r.unassigned[&Layer::Events] > 0,
        "the fixture puts some events at sea"
    );
}

#[test]
fn bad_input_is_a_typed_error() {
    use onemap_index::IndexError;
    let w = world(0);
    let c = &w.city;
    let f = EventFilter::default();
    let page = PageRequest::first(10);
    assert!(matches!(c.locate(f64::NAN, 25.0), Err(IndexError::Core(_))));
    assert!(matches!(c.locate(181.0, 25.0), Err(IndexError::Core(_))));
    assert!(matches!(c.locate(119.0, -91.0), Err(IndexError::Core(_))));
    assert_eq!(c.locate(150.0, 0.0).unwrap(), None, "at sea");
    let inverted = BBox {
        min_lon: 119.1,
        min_lat: 25.0,
        max_lon: 119.0,
        max_lat: 25.5,
    };
    let e = c
        .features_in_bbox(Layer::Events, &inverted, &f, &page)
        .unwrap_err();
    assert!(e.to_string().contains("inverted"), "{e}");
    let unknown = AreaId::new(350_399).unwrap();
    assert_eq!(
        c.features_in_area(Layer::Events, unknown, &f, &page)
            .unwrap_err(),
        IndexError::UnknownArea(unknown)
    );
    assert!(matches!(
        c.area_details(unknown, &TimeWindow::ALL),
        Err(IndexError::UnknownArea(_))
    ));
    let e = c
        .event_stats(&StatsQuery {
            group_by: GroupBy::H3(4),
            window: TimeWindow::ALL,
            scope: None,
        })
        .unwrap_err();
    assert!(matches!(e, IndexError::H3Resolution { res: 4, .. }), "{e}");
    assert!(c
        .event_stats(&StatsQuery {
            group_by: GroupBy::H3(13),
            window: TimeWindow::ALL,
            scope: None
        })
        .is_err());
    let q = HotspotQuery {
        window: TimeWindow::ALL,
        place: HotspotPlace::H3(10),
        min_count: 1,
        categories: None,
        scope: None,
        limit: 10,
    };
    assert!(matches!(
        c.hotspots(&q),
        Err(IndexError::H3Resolution { .. })
    ));
    let big = PageRequest::first(10_001);
    let all = BBox::new(118.0, 24.0, 120.0, 26.0).unwrap();
    assert!(matches!(
        c.features_in_bbox(Layer::Events, &all, &f, &big),
        Err(IndexError::Limit { .. })
    ));
    assert!(matches!(
        c.features_in_bbox(Layer::Events, &all, &f, &PageRequest::first(0)),
        Err(IndexError::Limit { .. })
    ));
    assert!(matches!(
        c.nearest(Layer::Towns, 119.0, 25.4, 5, None, &f),
        Err(IndexError::NotApplicable { .. })
    ));
    assert!(matches!(
        c.nearest(Layer::Events, 119.0, 25.4, 5, Some(-1.0), &f),
        Err(IndexError::InvalidDistance(_))
    ));
    let windowed = EventFilter {
        from: Some(0),
        ..Default::default()
    };
    assert!(matches!(
        c.features_in_bbox(Layer::Ships, &all, &windowed, &page),
        Err(IndexError::FilterNotApplicable(Layer::Ships))
    ));
    assert!(matches!(
        c.features_in_bbox(Layer::Homesteads, &all, &windowed, &page),
        Err(IndexError::FilterNotApplicable(Layer::Homesteads))
    ));
    let idle = EventFilter {
        homestead_statuses: Some(vec![HomesteadStatus::Idle]),
        ..Default::default()
    };
    for layer in [Layer::Events, Layer::Ships, Layer::Villages] {
        assert!(matches!(
            c.features_in_bbox(layer, &all, &idle, &page),
            Err(IndexError::FilterNotApplicable(l)) if l == layer
        ));
    }
    assert!(matches!(
        c.nearest(Layer::Events, 119.0, 25.4, 5, None, &idle),
        Err(IndexError::FilterNotApplicable(Layer::Events))
    ));
    let backwards = EventFilter {
        from: Some(10),
        to: Some(5),
        ..Default::default()
    };
    assert!(matches!(
        c.features_in_bbox(Layer::Events, &all, &backwards, &page),
        Err(IndexError::InvalidWindow { .. })
    ));
    let line = Polygon::new(
        vec![(119.0, 25.4), (119.01, 25.4), (119.0, 25.4)].into(),
        vec![],
    );
    assert!(matches!(
        c.features_in_polygon(Layer::Events, &line, &f, &page),
        Err(IndexError::InvalidPolygon(_))
    ));
    assert!(matches!(
        "x1".parse::<onemap_index::Cursor>(),
        Err(IndexError::InvalidCursor(_))
    ));
}

#[test]
fn city_builds_reject_broken_data() {
    let (mut data, _) = build(&FixtureConfig::tiny());
    let dup = data.events[0].clone();
    data.events.push(dup);
    assert!(matches!(
        City::build(data),
        Err(onemap_index::IndexError::InvalidData(_))
    ));
    let (mut data, _) = build(&FixtureConfig::tiny());
    data.ships[0].lon = f64::NAN;
    assert!(City::build(data).is_err());
    let (data, _) = build(&FixtureConfig::tiny());
    let mut areas: Vec<onemap_core::Area> = data.areas.iter().cloned().collect();
    areas.retain(|a| a.level != Level::Grid);
    let broken = onemap_core::CityData {
        areas: onemap_core::AreaTree::from_areas(areas),
        ..Default::default()
    };
    let e = City::build(broken).unwrap_err();
    assert!(e.to_string().contains("not a known grid"), "{e}");
}

#[test]
fn serde_round_trips() {
    let w = world(1);
    let b = BBox::new(w.extent[0], w.extent[1], w.extent[2], w.extent[3]).unwrap();
    for layer in Layer::ALL {
        let page = w
            .city
            .features_in_bbox(layer, &b, &EventFilter::default(), &PageRequest::first(3))
            .unwrap();
        let json = serde_json::to_string(&page).unwrap();
        let back: onemap_index::Page = serde_json::from_str(&json).unwrap();
        // serde_json parses floats to the nearest few ulps, so compare the rest.
        let key = |p: &onemap_index::Page| {
            p.features
                .iter()
                .map(|f| (f.layer, f.id, f.unit, f.cell.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&back), key(&page), "{json}");
        assert_eq!(back.next_cursor, page.next_cursor);
    }
    let d = w
        .city
        .area_details(
            w.brute.data.areas.level(Level::Town)[0].id,
            &TimeWindow::ALL,
        )
        .unwrap();
    let json = serde_json::to_string(&d).unwrap();
    let back = serde_json::from_str::<onemap_index::AreaDetails>(&json).unwrap();
    let key = |d: &onemap_index::AreaDetails| {
        (
            d.breadcrumb.clone(),
            d.children
                .iter()
                .map(|c| (c.area.clone(), c.figures.total))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(key(&back), key(&d));
    let s = w
        .city
        .event_stats(&StatsQuery {
            group_by: GroupBy::H3(7),
            window: TimeWindow::ALL,
            scope: None,
        })
        .unwrap();
    let json = serde_json::to_string(&s).unwrap();
    let back = serde_json::from_str::<onemap_index::StatsReport>(&json).unwrap();
    let key = |r: &onemap_index::StatsReport| {
        r.groups
            .iter()
            .map(|g| (g.key.clone(), g.tally.by_status, g.tally.by_category))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&back), key(&s));
    assert!(json.contains("\"closure_rate\""), "{json}");
}

#[test]
fn synthetic_city_is_consistent() {
    let w = world(3);
    assert!(w.city.len(Layer::Units) >= 1000);
    // The generator places every event in the unit it names.
    assert_eq!(w.city.report().events_relocated, 0);
    for (p, e) in &w.brute.events {
        assert_eq!(p.unit, Some(e.unit), "event {}", e.id);
    }
}

#[test]
fn city_is_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<City>();
    let m = world(1).city.memory();
    assert_eq!(
        m.total,
        m.areas + m.locate + m.area_index + m.events + m.other_layers
    );
    assert!(m.events > 3000 * 60, "{m:?}");
}

#[test]
fn try_each_point_in_stops_where_asked() {
    use std::ops::ControlFlow;
    let w = world(3);
    let everywhere = [-180.0, -90.0, 180.0, 90.0];
    let mut all = Vec::new();
    w.city
        .each_point_in(Layer::Events, everywhere, |p| all.push(p));
    assert_eq!(all.len(), w.city.len(Layer::Events));
    let set: std::collections::BTreeSet<u32> = all.iter().copied().collect();
    for cap in [1, 10, all.len() - 1, all.len(), all.len() + 5] {
        let mut got = Vec::new();
        let flow = w.city.try_each_point_in(Layer::Events, everywhere, |p| {
            got.push(p);
            if got.len() >= cap {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(got.len(), cap.min(all.len()), "cap {cap}");
        assert_eq!(flow.is_break(), cap <= all.len(), "cap {cap}");
        assert!(got.iter().all(|p| set.contains(p)));
        let distinct: std::collections::BTreeSet<u32> = got.iter().copied().collect();
        assert_eq!(distinct.len(), got.len());
    }
}
