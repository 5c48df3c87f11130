//! Snapshots: a new [`City`] from this one with changed events
//! ([`City::with_events`], with its fast paths for moves and for reports
//! appended) or changed ships ([`City::with_ships`]), sharing everything
//! else; and the tests of what two snapshots share.

use super::build::{assign_unit, check_point, point_layer, Locator};
use super::{City, EventColumns};
use crate::cells::PointCells;
use crate::points::{merged_column, PointSet, Src};
use crate::IndexError;
use onemap_core::{Event, Layer, Ship};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

impl City {
    /// A new city whose events are this city's with `changed` applied: an
    /// event whose id is already present replaces it, any other is added
    /// (when an id comes several times, the last one counts). Everything
    /// that is not an event is shared with `self`; the event indexes are
    /// rebuilt, reusing the units and H3 cells of the events that did not
    /// change, so the result answers every query exactly as
    /// [`City::build`] over the changed data would.
    pub fn with_events(&self, changed: Vec<Event>) -> Result<City, IndexError> {
        for e in &changed {
            check_point(Layer::Events, e.id, e.lon, e.lat)?;
        }
        // The last change of each id, ordered like the storage: (reported_at, id).
        let mut last: BTreeMap<u64, Event> = BTreeMap::new();
        for e in changed {
            last.insert(e.id, e);
        }
        let mut new: Vec<Event> = last.into_values().collect();
        if let Some(city) = self.with_event_attributes(&new) {
            return Ok(city);
        }
        if let Some(city) = self.with_moves_then_reports(&new) {
            return Ok(city);
        }
        new.sort_unstable_by_key(|e| (e.reported_at, e.id));
        let old = &*self.events;
        let mut dropped = vec![false; old.len()];
        for e in &new {
            if let Some(p) = old.position(e.id) {
                dropped[p as usize] = true;
            }
        }
        let assigned = self.units_of(&new);
        if !dropped.iter().any(|d| *d) {
            if let Some(city) = self.with_reports_appended(&new, &assigned) {
                return Ok(city);
            }
        }
        let n = old.len() - dropped.iter().filter(|d| **d).count() + new.len();
        let (new_lon, new_lat): (Vec<f64>, Vec<f64>) = new.iter().map(|e| (e.lon, e.lat)).unzip();
        let fresh = PointCells::of_points(&new_lon, &new_lat);
        let n_stacks = old.cells.stacks.len();
        let (mut ids, mut lon, mut lat, mut unit) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut fine, mut stack, mut not_parent) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut ev = EventColumns {
            reported_at: Vec::with_capacity(n),
            status_at: Vec::with_capacity(n),
            category: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
        };
        let (mut i, mut j) = (0usize, 0usize);
        while i < old.len() || j < new.len() {
            if i < old.len() && dropped[i] {
                i += 1;
                continue;
            }
            let take_old = j == new.len()
                || (i < old.len()
                    && (self.ev.reported_at[i], old.ids[i]) < (new[j].reported_at, new[j].id));
            if take_old {
                ids.push(old.ids[i]);
                lon.push(old.lon[i]);
                lat.push(old.lat[i]);
                unit.push(old.unit[i]);
                fine.push(old.cells.fine[i]);
                stack.push(old.cells.stack[i]);
                not_parent.push(old.cells.not_parent[i]);
                ev.reported_at.push(self.ev.reported_at[i]);
                ev.status_at.push(self.ev.status_at[i]);
                ev.category.push(self.ev.category[i]);
                ev.status.push(self.ev.status[i]);
                i += 1;
            } else {
                let e = &new[j];
                ids.push(e.id);
                lon.push(e.lon);
                lat.push(e.lat);
                unit.push(assigned[j].0);
                fine.push(fresh.fine[j]);
                not_parent.push(fresh.not_parent[j]);
                // Numbered after the old stacks until settled below.
                stack.push((n_stacks + j) as u32);
                ev.reported_at.push(e.reported_at);
                ev.status_at.push(e.status_at);
                ev.category.push(e.category.code());
                ev.status.push(e.status.code());
                j += 1;
            }
        }
        let n_units = self.units.len();
        let mut report = self.report.clone();
        let stacks = PointCells::settle(&mut stack, &old.cells.stacks, &fresh.stacks);
        let cells = PointCells {
            fine,
            stack,
            stacks,
            not_parent,
        };
        let ps = PointSet::build_with_cells(ids, lon, lat, unit, Some(cells), n_units);
        report.events_relocated += assigned.iter().filter(|a| a.1).count() as u64;
        report.unassigned.insert(
            Layer::Events,
            (ps.len() - ps.unit_start[n_units] as usize) as u64,
        );
        Ok(City {
            base: Arc::clone(&self.base),
            events: Arc::new(ps),
            ev: Arc::new(ev),
            ships: Arc::clone(&self.ships),
            report,
        })
    }

    /// The fast paths of [`City::with_events`] one after the other, for a
    /// batch of moves along the loop and new reports (a live server's
    /// usual batch): the moves change the attribute columns, then the
    /// reports are appended to that. `None` when either part needs the
    /// full rebuild. `new` holds one change per id.
    fn with_moves_then_reports(&self, new: &[Event]) -> Option<City> {
        let (known, mut fresh): (Vec<Event>, Vec<Event>) = new
            .iter()
            .cloned()
            .partition(|e| self.events.position(e.id).is_some());
        if known.is_empty() || fresh.is_empty() {
            return None;
        }
        let moved = self.with_event_attributes(&known)?;
        fresh.sort_unstable_by_key(|e| (e.reported_at, e.id));
        let assigned = moved.units_of(&fresh);
        moved.with_reports_appended(&fresh, &assigned)
    }

    /// Each event's unit as the full rebuild assigns it, and whether it was
    /// relocated.
    fn units_of(&self, events: &[Event]) -> Vec<(u32, bool)> {
        let loc = Locator {
            units: &self.units,
            grid: &self.grid,
        };
        events
            .par_iter()
            .map(|e| assign_unit(e, &self.areas, &loc))
            .collect()
    }

    /// The fast path of [`City::with_events`] for reports: new events (the
    /// caller knows none replaces one here) that go after every point the event R-tree holds, in
    /// storage order — a live server's reports, a few milliseconds apart,
    /// also those another server made a moment earlier — are merged into
    /// the tail of the point index (see [`PointSet::merged`]) and the
    /// columns, without bulk-loading the tree again. `new` is sorted by
    /// `(reported_at, id)`; `None` when that does not apply.
    fn with_reports_appended(&self, new: &[Event], assigned: &[(u32, bool)]) -> Option<City> {
        let old = &*self.events;
        let n_old = old.len();
        let first = new.first()?;
        if n_old == 0 {
            return None;
        }
        let key = |p: usize| (self.ev.reported_at[p], old.ids[p]);
        let first = (first.reported_at, first.id);
        // Where the first report goes: after every point with a smaller key,
        // looked for from the end (only the tail may move).
        let n_tree = n_old - old.tail.len();
        let mut from = n_old;
        while from > n_tree && key(from - 1) > first {
            from -= 1;
        }
        if from == n_tree && from > 0 && key(from - 1) > first {
            return None;
        }
        let mut seq = Vec::with_capacity(n_old - from + new.len());
        let (mut i, mut j) = (from, 0);
        while i < n_old || j < new.len() {
            let take_old =
                j == new.len() || (i < n_old && key(i) < (new[j].reported_at, new[j].id));
            if take_old {
                seq.push(Src::Old(i as u32));
                i += 1;
            } else {
                seq.push(Src::New(j as u32));
                j += 1;
            }
        }
        let ids: Vec<u64> = new.iter().map(|e| e.id).collect();
        let lon: Vec<f64> = new.iter().map(|e| e.lon).collect();
        let lat: Vec<f64> = new.iter().map(|e| e.lat).collect();
        let unit: Vec<u32> = assigned.iter().map(|a| a.0).collect();
        let cells = PointCells::of_points(&lon, &lat);
        let n_units = self.units.len();
        let ps = old.merged(from, &seq, &ids, &lon, &lat, &unit, &cells, n_units)?;
        let ev = &self.ev;
        let ev = EventColumns {
            reported_at: merged_column(&ev.reported_at[..from], &seq, &ev.reported_at, |j| {
                new[j].reported_at
            }),
            status_at: merged_column(&ev.status_at[..from], &seq, &ev.status_at, |j| {
                new[j].status_at
            }),
            category: merged_column(&ev.category[..from], &seq, &ev.category, |j| {
                new[j].category.code()
            }),
            status: merged_column(&ev.status[..from], &seq, &ev.status, |j| {
                new[j].status.code()
            }),
        };
        let mut report = self.report.clone();
        report.events_relocated += assigned.iter().filter(|a| a.1).count() as u64;
        report.events_appended += new.len() as u64;
        report.unassigned.insert(
            Layer::Events,
            (ps.len() - ps.unit_start[n_units] as usize) as u64,
        );
        Some(City {
            base: Arc::clone(&self.base),
            events: Arc::new(ps),
            ev: Arc::new(ev),
            ships: Arc::clone(&self.ships),
            report,
        })
    }

    /// The fast path of [`City::with_events`]: when every change is of an
    /// event already here, at the same place and report time (a move along
    /// the loop), the points, their units, cells and order stay as they
    /// are: only the attribute columns are copied and changed, and the
    /// point index is shared. `None` when a change needs the full rebuild.
    fn with_event_attributes(&self, changed: &[Event]) -> Option<City> {
        let old = &*self.events;
        let mut at = Vec::with_capacity(changed.len());
        for e in changed {
            let p = old.position(e.id)? as usize;
            let same = old.lon[p].to_bits() == e.lon.to_bits()
                && old.lat[p].to_bits() == e.lat.to_bits()
                && self.ev.reported_at[p] == e.reported_at;
            if !same {
                return None;
            }
            // Its unit as the full rebuild would assign it.
            let loc = Locator {
                units: &self.units,
                grid: &self.grid,
            };
            if assign_unit(e, &self.areas, &loc) != (old.unit[p], false) {
                return None;
            }
            at.push(p);
        }
        let mut ev = (*self.ev).clone();
        for (e, p) in changed.iter().zip(at) {
            ev.status_at[p] = e.status_at;
            ev.category[p] = e.category.code();
            ev.status[p] = e.status.code();
        }
        Some(City {
            base: Arc::clone(&self.base),
            events: Arc::clone(&self.events),
            ev: Arc::new(ev),
            ships: Arc::clone(&self.ships),
            report: self.report.clone(),
        })
    }

    /// A new city whose ships are this city's with `changed` applied: a ship
    /// whose MMSI is already present replaces it (its position, speed,
    /// heading, port state), any other is added (when an MMSI comes several
    /// times, the last one counts). Everything else is shared with `self`;
    /// the ship layer is rebuilt (a few hundred points), so the result
    /// answers every query exactly as [`City::build`] over the changed data.
    pub fn with_ships(&self, changed: Vec<Ship>) -> Result<City, IndexError> {
        for s in &changed {
            check_point(Layer::Ships, u64::from(s.mmsi), s.lon, s.lat)?;
        }
        let mut all: BTreeMap<u32, Ship> = self
            .ships
            .items
            .iter()
            .map(|s| (s.mmsi, s.clone()))
            .collect();
        for s in changed {
            all.insert(s.mmsi, s);
        }
        let loc = Locator {
            units: &self.units,
            grid: &self.grid,
        };
        let n_units = self.units.len();
        let ships = point_layer(
            Layer::Ships,
            all.into_values().collect(),
            |s| (u64::from(s.mmsi), s.lon, s.lat),
            &loc,
            n_units,
        )?;
        let mut report = self.report.clone();
        report.unassigned.insert(
            Layer::Ships,
            (ships.points.len() - ships.points.unit_start[n_units] as usize) as u64,
        );
        Ok(City {
            base: Arc::clone(&self.base),
            events: Arc::clone(&self.events),
            ev: Arc::clone(&self.ev),
            ships: Arc::new(ships),
            report,
        })
    }

    /// Whether two snapshots hold the very same events (neither was made
    /// from the other by [`City::with_events`]).
    pub fn same_events(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.events, &other.events) && Arc::ptr_eq(&self.ev, &other.ev)
    }

    /// When this snapshot's events were made from `earlier`'s by reports
    /// merged into the tail of its point index (see [`City::with_events`]),
    /// how many leading positions hold the same points in both: those the
    /// shared R-tree holds. `None` otherwise.
    pub fn events_appended_to(&self, earlier: &City) -> Option<usize> {
        let (a, b) = (&*self.events, &*earlier.events);
        let n = b.len() - b.tail.len();
        (Arc::ptr_eq(&a.tree, &b.tree) && !Arc::ptr_eq(&self.events, &earlier.events)).then_some(n)
    }

    /// Whether two snapshots share one event point index (one was made
    /// from the other by moves along the loop only; see
    /// [`City::with_events`]).
    pub fn same_event_points(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.events, &other.events)
    }

    /// Whether two snapshots hold the very same ships (neither was made
    /// from the other by [`City::with_ships`]).
    pub fn same_ships(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.ships, &other.ships)
    }

    /// Whether two cities share everything but their events and ships (one
    /// was made from the other with [`City::with_events`] or
    /// [`City::with_ships`]).
    pub fn shares_base_with(&self, other: &City) -> bool {
        Arc::ptr_eq(&self.base, &other.base)
    }
}
