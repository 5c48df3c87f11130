//! Counts behind the tiles: H3 hexagon grids of the dense point layers, and
//! per event filter the figures of every area and hexagon.
//!
//! A hexagon counts exactly the points its cell contains (`latLngToCell` at
//! its resolution, not the parent of a finer cell). The index gives each
//! point a stack number: which cell holds it at every tile resolution
//! ([`onemap_index::CellStacks`]). Counting a filter is then one pass over
//! the events of its time slice with array increments per stack, and a
//! roll-up of units to their ancestors and of stacks to their cell at each
//! resolution.

use crate::geom::{bounds, to_world};
use crate::prepared::WorldPolygon;
use h3o::{CellIndex, LatLng};
use onemap_core::{EventStatus, Level};
use onemap_index::{CellStacks, City, CodeMask, EventFilter, NO_UNIT, TILE_RESOLUTIONS};
use rayon::prelude::*;
use std::sync::Arc;

/// The cells of one resolution with their geometry, sorted by cell.
#[derive(Debug)]
pub(crate) struct HexLevel {
    pub(crate) res: u8,
    pub(crate) cells: Vec<CellIndex>,
    /// Each cell's boundary as a one-ring world polygon.
    pub(crate) rings: Vec<WorldPolygon>,
    boxes: Vec<[f64; 4]>,
    /// Slots ordered by their box's min x, for range selection.
    by_min_x: Vec<u32>,
    max_width: f64,
    /// For each stack, the slot of its cell here.
    from_stack: Vec<u32>,
}

/// The hexagon grid of one point layer, at every resolution the rules use.
#[derive(Debug)]
pub(crate) struct HexGrid {
    /// Coarsest resolution first. Shared by the grids of snapshots whose
    /// points fill the same stacks.
    pub(crate) levels: Arc<Vec<HexLevel>>,
    /// The stacks the levels were made from.
    stacks: CellStacks,
}

impl HexGrid {
    /// The grid of the cells of `stacks` at resolutions `min_res..=max_res`
    /// (within [`TILE_RESOLUTIONS`]).
    pub(crate) fn build(stacks: &CellStacks, min_res: u8, max_res: u8) -> Self {
        Self::build_reusing(stacks, min_res, max_res, None)
    }

    /// The grid of a later snapshot's stacks of the same layer: this one
    /// when they are the same table; otherwise built anew, taking the
    /// boundary of every cell this grid has from it. Either way the result
    /// equals [`HexGrid::build`] over `stacks`.
    pub(crate) fn for_stacks(&self, stacks: &CellStacks, min_res: u8, max_res: u8) -> Self {
        if self.stacks.same(stacks) {
            return HexGrid {
                levels: Arc::clone(&self.levels),
                stacks: stacks.clone(),
            };
        }
        Self::build_reusing(stacks, min_res, max_res, Some(self))
    }

    fn build_reusing(stacks: &CellStacks, min_res: u8, max_res: u8, old: Option<&HexGrid>) -> Self {
        assert!(
            TILE_RESOLUTIONS.contains(&min_res) && TILE_RESOLUTIONS.contains(&max_res),
            "hexagons are drawn at resolutions the index keeps every point's cell at"
        );
        let levels = (min_res..=max_res)
            .map(|r| {
                let at: Vec<CellIndex> = (0..stacks.len() as u32)
                    .map(|s| stacks.cell(s, r))
                    .collect();
                let mut cells = at.clone();
                cells.par_sort_unstable();
                cells.dedup();
                let from_stack = at
                    .par_iter()
                    .map(|c| cells.binary_search(c).expect("listed") as u32)
                    .collect();
                let old = old.and_then(|g| g.level(r)).map(|(_, l)| l);
                HexLevel::new(r, cells, from_stack, old)
            })
            .collect();
        HexGrid {
            levels: Arc::new(levels),
            stacks: stacks.clone(),
        }
    }

    /// The level of resolution `r`.
    pub(crate) fn level(&self, r: u8) -> Option<(usize, &HexLevel)> {
        self.levels.iter().enumerate().find(|(_, l)| l.res == r)
    }

    /// Rolls counts per stack up to every level.
    fn roll_up(&self, per_stack: &[[u32; 2]]) -> Vec<Vec<[u32; 2]>> {
        self.levels
            .iter()
            .map(|l| {
                let mut v = vec![[0u32; 2]; l.cells.len()];
                for (s, c) in per_stack.iter().enumerate() {
                    let t = &mut v[l.from_stack[s] as usize];
                    t[0] += c[0];
                    t[1] += c[1];
                }
                v
            })
            .collect()
    }

    /// Fixed counts of the points whose stack numbers are `stack` (in the
    /// table this grid was made from): `[points, points where second(p)]`.
    pub(crate) fn counts(
        &self,
        stack: &[u32],
        second: impl Fn(usize) -> bool,
    ) -> Vec<Vec<[u32; 2]>> {
        let mut per_stack = vec![[0u32; 2]; self.stacks.len()];
        for (p, &s) in stack.iter().enumerate() {
            per_stack[s as usize][0] += 1;
            per_stack[s as usize][1] += u32::from(second(p));
        }
        self.roll_up(&per_stack)
    }
}

impl HexLevel {
    /// A level of `cells` (sorted), taking the boundaries of the cells
    /// `old` has from it.
    fn new(r: u8, cells: Vec<CellIndex>, from_stack: Vec<u32>, old: Option<&HexLevel>) -> Self {
        let rings: Vec<WorldPolygon> = cells
            .par_iter()
            .map(|c| {
                if let Some(o) = old {
                    if let Ok(i) = o.cells.binary_search(c) {
                        return o.rings[i].clone();
                    }
                }
                vec![c
                    .boundary()
                    .iter()
                    .map(|ll: &LatLng| to_world(ll.lng(), ll.lat()))
                    .collect()]
            })
            .collect();
        let boxes: Vec<[f64; 4]> = rings
            .iter()
            .map(|r| {
                let (lo, hi) = bounds(&r[0]);
                [lo[0], lo[1], hi[0], hi[1]]
            })
            .collect();
        let mut by_min_x: Vec<u32> = (0..cells.len() as u32).collect();
        by_min_x.sort_by(|&a, &b| boxes[a as usize][0].total_cmp(&boxes[b as usize][0]));
        let max_width = boxes.iter().map(|b| b[2] - b[0]).fold(0.0, f64::max);
        HexLevel {
            res: r,
            cells,
            rings,
            boxes,
            by_min_x,
            max_width,
            from_stack,
        }
    }

    /// Slots whose box meets a world box.
    pub(crate) fn each_in(&self, w: [f64; 4], mut f: impl FnMut(u32)) {
        let min_x = |s: &u32| self.boxes[*s as usize][0];
        let lo = self
            .by_min_x
            .partition_point(|s| min_x(s) < w[0] - self.max_width);
        let hi = self.by_min_x.partition_point(|s| min_x(s) <= w[2]);
        for &s in &self.by_min_x[lo..hi.max(lo)] {
            let b = &self.boxes[s as usize];
            if b[2] >= w[0] && b[1] <= w[3] && b[3] >= w[1] {
                f(s);
            }
        }
    }
}

/// What one event filter counts: per area level and position `[events,
/// closed]`, and per hexagon level and slot `[events, open]`.
#[derive(Debug)]
pub(crate) struct FilterFigures {
    pub(crate) areas: [Vec<[u32; 2]>; 5],
    pub(crate) hexagons: Vec<Vec<[u32; 2]>>,
}

impl FilterFigures {
    pub(crate) fn count(city: &City, grid: &HexGrid, filter: &EventFilter) -> Self {
        let ev = city.event_columns();
        assert!(
            grid.stacks.same(ev.points.stacks),
            "the event hexagons are the grid of this city's events"
        );
        let mask = CodeMask::new(filter.categories.as_deref(), filter.statuses.as_deref());
        let n_units = city.areas().level(Level::Unit).len();
        let mut units = vec![[0u32; 2]; n_units];
        let mut per_stack = vec![[0u32; 2]; grid.stacks.len()];
        let closed_code = EventStatus::Closed.code();
        for p in city.event_positions(&filter.window()) {
            let (c, s) = (ev.category[p], ev.status[p]);
            if !mask.accepts(c, s) {
                continue;
            }
            let closed = s == closed_code;
            let u = ev.points.unit[p];
            if u != NO_UNIT {
                units[u as usize][0] += 1;
                units[u as usize][1] += u32::from(closed);
            }
            let h = &mut per_stack[ev.points.stack[p] as usize];
            h[0] += 1;
            h[1] += u32::from(!closed);
        }
        let areas = Level::ALL.map(|level| match city.unit_ancestors(level) {
            None => units.clone(),
            Some(anc) => {
                let mut v = vec![[0u32; 2]; city.areas().level(level).len()];
                for (u, c) in units.iter().enumerate() {
                    let t = &mut v[anc[u] as usize];
                    t[0] += c[0];
                    t[1] += c[1];
                }
                v
            }
        });
        FilterFigures {
            areas,
            hexagons: grid.roll_up(&per_stack),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onemap_core::{Event, EventStatus};
    use onemap_synth::{generate, SynthConfig};

    fn same(a: &HexGrid, b: &HexGrid) {
        assert_eq!(a.levels.len(), b.levels.len());
        for (x, y) in a.levels.iter().zip(b.levels.iter()) {
            assert_eq!(
                (x.res, &x.cells, &x.from_stack, &x.rings),
                (y.res, &y.cells, &y.from_stack, &y.rings)
            );
        }
    }

    #[test]
    fn a_grid_for_new_stacks_equals_a_fresh_one_and_shares_unchanged_cells() {
        let (_, data) = generate(&SynthConfig {
            seed: 5,
            scale: 0.02,
            events: Some(3000),
            ..Default::default()
        })
        .unwrap();
        let city = City::build(data).unwrap();
        let stacks = |c: &City| c.event_columns().points.stacks.clone();
        let old = HexGrid::build(&stacks(&city), 5, 10);
        // Every cell of every level holds a point.
        let counts = old.counts(city.event_columns().points.stack, |_| false);
        assert!(counts.iter().flatten().all(|c| c[0] > 0));
        assert_eq!(counts[0].iter().map(|c| c[0]).sum::<u32>(), 3000);
        // A move along the loop: the same stacks, the same grid.
        let mut e: Event = city.event(1).unwrap();
        e.status = EventStatus::Discussing;
        e.closed_at = None;
        let moved = city.with_events(vec![e.clone()]).unwrap();
        let r = old.for_stacks(&stacks(&moved), 5, 10);
        assert!(Arc::ptr_eq(&r.levels, &old.levels));
        // An event far from the others: new cells, built anew.
        e.lon += 0.3;
        e.lat -= 0.05;
        let far = city.with_events(vec![e]).unwrap();
        let r = old.for_stacks(&stacks(&far), 5, 10);
        assert!(!Arc::ptr_eq(&r.levels, &old.levels));
        same(&r, &HexGrid::build(&stacks(&far), 5, 10));
    }
}
