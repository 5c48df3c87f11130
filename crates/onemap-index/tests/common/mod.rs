//! Shared by the integration tests (each uses a different part of it).

#![allow(dead_code)]

pub mod fixture;
pub mod h3_reference;
pub mod oracle;

use onemap_core::{CityData, Level};
use onemap_index::City;
use oracle::Brute;

/// A built city beside its brute-force twin, with the points tests aim at.
pub struct World {
    pub city: City,
    pub brute: Brute,
    /// Every vertex of every unit ring.
    pub vertices: Vec<(f64, f64)>,
    /// Unit ring edges, as vertex index pairs.
    pub edges: Vec<(usize, usize)>,
    /// The units' extent, grown by a margin so some points fall at sea.
    pub extent: [f64; 4],
}

impl World {
    pub fn new(data: CityData) -> Self {
        let mut vertices = Vec::new();
        let mut edges = Vec::new();
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for u in data.areas.level(Level::Unit) {
            for p in &u.geometry.0 {
                for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                    let start = vertices.len();
                    for c in &ring.0 {
                        vertices.push((c.x, c.y));
                        e = [e[0].min(c.x), e[1].min(c.y), e[2].max(c.x), e[3].max(c.y)];
                    }
                    for k in start + 1..vertices.len() {
                        edges.push((k - 1, k));
                    }
                }
            }
        }
        let (mx, my) = ((e[2] - e[0]) * 0.1, (e[3] - e[1]) * 0.1);
        let extent = [e[0] - mx, e[1] - my, e[2] + mx, e[3] + my];
        let city = City::build(data.clone()).expect("the fixture builds");
        Self::with_city(data, city, vertices, edges, extent)
    }

    /// A world whose city did not start with `data`'s events: it was built
    /// with a quarter of them missing and a tenth of the rest in an earlier
    /// state (other status, category, position, time), then reached `data`
    /// through two rounds of [`City::with_events`] — the second repeating
    /// some ids, of which the last must count. Its ships likewise: built
    /// with a third missing and the rest elsewhere (moved, other heading and
    /// port state), they reached `data`'s ships through two rounds of
    /// [`City::with_ships`], the second repeating MMSIs.
    pub fn changed(mut data: CityData) -> Self {
        // The latest reports come last, with the highest ids, one at a time
        // (as the live loop adds them): they are appended to the index.
        let mut order: Vec<usize> = (0..data.events.len()).collect();
        order.sort_by_key(|&i| (data.events[i].reported_at, data.events[i].id));
        let max_id = data.events.iter().map(|e| e.id).max().unwrap_or(0);
        let latest: Vec<usize> = order[order.len() - 12..].to_vec();
        for (k, &i) in latest.iter().enumerate() {
            data.events[i].id = max_id + 1 + k as u64;
        }
        let late: Vec<onemap_core::Event> =
            latest.iter().map(|&i| data.events[i].clone()).collect();
        let mut start = data.clone();
        let mut ships_added = Vec::new();
        start.ships.clear();
        for (i, s) in data.ships.iter().enumerate() {
            if i % 3 == 0 {
                ships_added.push(s.clone());
                continue;
            }
            let mut old = s.clone();
            old.lon += 0.01 * ((i % 7) as f64 - 3.0);
            old.lat -= 0.005 * ((i % 5) as f64 - 2.0);
            old.heading_deg = (old.heading_deg + 90.0) % 360.0;
            old.in_port = !old.in_port;
            old.reported_at -= 600;
            start.ships.push(old);
        }
        assert!(!ships_added.is_empty() && !start.ships.is_empty());
        let n = data.events.len();
        let mut added = Vec::new();
        let mut earlier = Vec::new();
        let mut moved = Vec::new();
        start.events.clear();
        for (i, e) in data.events.iter().enumerate() {
            if latest.contains(&i) {
                continue;
            }
            let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            if h.is_multiple_of(4) {
                added.push(e.clone());
                continue;
            }
            if h % 10 == 1 {
                let mut old = e.clone();
                old.status = onemap_core::EventStatus::Reported;
                old.closed_at = None;
                old.category = onemap_core::EventCategory::ALL[(h as usize / 10) % 8];
                old.reported_at -= 86_400 * (h as i64 % 40);
                old.lon += 1e-4;
                earlier.push(e.clone());
                start.events.push(old);
                continue;
            }
            if h % 10 == 2 {
                // Moved along the loop only: same place and report time.
                let mut old = e.clone();
                old.status = onemap_core::EventStatus::Discussing;
                old.closed_at = None;
                old.category = onemap_core::EventCategory::ALL[(h as usize / 10) % 8];
                moved.push(e.clone());
                start.events.push(old);
                continue;
            }
            start.events.push(e.clone());
        }
        assert!(!added.is_empty() && !earlier.is_empty() && !moved.is_empty());
        assert!(start.events.len() < n);
        let city = City::build(start).expect("the fixture builds");
        let (first, second) = added.split_at(added.len() / 2);
        let city = city.with_events(first.to_vec()).expect("events apply");
        // Round two: the rest of the new events, an intermediate state of the
        // changed ones, then their final state.
        let mut batch = second.to_vec();
        for e in &earlier {
            let mut mid = e.clone();
            mid.status = onemap_core::EventStatus::Routed;
            batch.push(mid);
        }
        batch.extend(earlier.iter().cloned());
        let next = city.with_events(batch).expect("events apply");
        assert!(next.shares_base_with(&city));
        // Round three: moves along the loop only, which keep the point index.
        let (moved, moved_later) = moved.split_at(moved.len() / 2);
        let next = {
            let after = next.with_events(moved.to_vec()).expect("moves apply");
            assert!(after.same_event_points(&next) && !after.same_events(&next));
            after
        };
        // Round four: the latest reports but four, appended one by one.
        let (late, late_mixed) = late.split_at(late.len() - 4);
        let appended_before = next.report().events_appended;
        let mut next = next;
        for e in late {
            next = next.with_events(vec![e.clone()]).expect("reports apply");
        }
        let appended = next.report().events_appended - appended_before;
        // Those outside the extent of the events before them need a rebuild.
        assert!(
            appended >= late.len() as u64 / 2,
            "{appended} of {} appended",
            late.len()
        );
        // Round five: the other moves and the last four reports in one
        // batch, as a live server gathers them: moved, then appended.
        let appended_before = next.report().events_appended;
        let mut batch = moved_later.to_vec();
        batch.extend(late_mixed.iter().cloned());
        let next = next.with_events(batch).expect("moves and reports apply");
        assert!(
            next.report().events_appended > appended_before,
            "the mixed batch was rebuilt instead of moved and appended"
        );
        // Round six: a report another server made a second before the
        // latest one here, at a place among the others: it goes before the
        // latest, inside the tail, and is merged there.
        // Every event of `data` is in `next` by now.
        let latest = data
            .events
            .iter()
            .max_by_key(|e| (e.reported_at, e.id))
            .expect("events")
            .clone();
        let mut early = data.events[0].clone();
        early.id = max_id + 100;
        early.reported_at = latest.reported_at - 1;
        data.events.push(early.clone());
        let appended_before = next.report().events_appended;
        let prev = next;
        let next = prev.with_events(vec![early]).expect("the report applies");
        assert_eq!(
            next.report().events_appended,
            appended_before + 1,
            "a report just before the latest was rebuilt instead of merged"
        );
        assert!(next.events_appended_to(&prev).is_some());
        // Ships: the new ones first, then a detour for every moved one, then
        // where they really are.
        let moved: Vec<_> = data
            .ships
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(_, s)| s.clone())
            .collect();
        let mut detours = moved.clone();
        for s in &mut detours {
            s.lon += 0.02;
        }
        let ships1 = next.with_ships(ships_added).expect("ships apply");
        detours.extend(moved);
        let next = ships1.with_ships(detours).expect("ships apply");
        assert!(next.shares_base_with(&city) && next.same_events(&ships1));
        assert!(!next.same_ships(&ships1));
        let w = World::new(data);
        Self::with_city(w.brute.data, next, w.vertices, w.edges, w.extent)
    }

    fn with_city(
        data: CityData,
        city: City,
        vertices: Vec<(f64, f64)>,
        edges: Vec<(usize, usize)>,
        extent: [f64; 4],
    ) -> Self {
        World {
            city,
            brute: Brute::new(data),
            vertices,
            edges,
            extent,
        }
    }

    /// A test point: a unit vertex, an edge midpoint, or anywhere around the city.
    pub fn point(&self, kind: u8, pick: usize, fx: f64, fy: f64) -> (f64, f64) {
        match kind % 4 {
            0 => self.vertices[pick % self.vertices.len()],
            1 => {
                let (a, b) = self.edges[pick % self.edges.len()];
                let (p, q) = (self.vertices[a], self.vertices[b]);
                (p.0 + (q.0 - p.0) * fx, p.1 + (q.1 - p.1) * fx)
            }
            _ => (
                self.extent[0] + (self.extent[2] - self.extent[0]) * fx,
                self.extent[1] + (self.extent[3] - self.extent[1]) * fy,
            ),
        }
    }
}
