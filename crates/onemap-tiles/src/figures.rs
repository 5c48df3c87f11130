//! Counts behind the tiles: H3 hexagon grids of the dense point layers, and
//! per event filter the figures of every area and hexagon.
//!
//! Each point gets, once, its slot among the distinct cells at the finest
//! hexagon resolution (the parent of its fine H3 cell, as the index groups
//! them, so every resolution is consistent with the finer ones). Counting a
//! filter is then one pass over the events of its time slice with array
//! increments, and a roll-up of units to their ancestors and of cells to
//! their parents.

use crate::geom::{bounds, to_world};
use crate::prepared::WorldPolygon;
use h3o::{CellIndex, LatLng, Resolution};
use onemap_core::{EventStatus, Level};
use onemap_index::{City, CodeMask, EventFilter, NO_UNIT};
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
    /// For each finest-resolution slot, its parent's slot here.
    from_finest: Vec<u32>,
}

/// The hexagon grid of one point layer, at every resolution the rules use.
#[derive(Debug)]
pub(crate) struct HexGrid {
    /// Coarsest resolution first; the last is the finest. Shared by the
    /// grids of snapshots whose points fill the same cells.
    pub(crate) levels: Arc<Vec<HexLevel>>,
    /// For each point position, its slot at the finest resolution.
    pub(crate) slot: Vec<u32>,
}

impl HexGrid {
    /// The grid of points given by their fine H3 cells, for resolutions
    /// `min_res..=max_res`.
    pub(crate) fn build(fine: &[CellIndex], min_res: u8, max_res: u8) -> Self {
        let finest_res = res(max_res);
        let parents: Vec<CellIndex> = fine
            .par_iter()
            .map(|c| c.parent(finest_res).unwrap_or(*c))
            .collect();
        let mut finest = parents.clone();
        finest.par_sort_unstable();
        finest.dedup();
        let slot: Vec<u32> = parents
            .par_iter()
            .map(|c| finest.binary_search(c).expect("listed") as u32)
            .collect();
        let levels = (min_res..=max_res)
            .map(|r| {
                let cells: Vec<CellIndex> = if r == max_res {
                    finest.clone()
                } else {
                    let mut v: Vec<_> = finest
                        .iter()
                        .map(|c| c.parent(res(r)).unwrap_or(*c))
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                let from_finest = finest
                    .iter()
                    .map(|c| {
                        let p = c.parent(res(r)).unwrap_or(*c);
                        cells.binary_search(&p).expect("listed") as u32
                    })
                    .collect();
                HexLevel::new(r, cells, from_finest)
            })
            .collect();
        HexGrid {
            levels: Arc::new(levels),
            slot,
        }
    }

    /// The grid after points were appended (`fine` is every point, the
    /// first `n_old` those this grid was made for): shares the cells and
    /// extends the slots when every new point falls in a cell here.
    pub(crate) fn appended(&self, fine: &[CellIndex], n_old: usize) -> Option<Self> {
        let finest = self.levels.last()?;
        if self.slot.len() != n_old || fine.len() < n_old {
            return None;
        }
        let mut slot = self.slot.clone();
        for c in &fine[n_old..] {
            slot.push(finest.slot_of(*c)?);
        }
        Some(HexGrid {
            levels: Arc::clone(&self.levels),
            slot,
        })
    }

    /// The grid of `fine` (the points of a later snapshot of the same
    /// layer): when every point falls in a cell this grid already has, the
    /// cells and their geometry are shared and only the points' slots are
    /// found; otherwise the grid is built anew. Either way the result equals
    /// [`HexGrid::build`] over `fine`, whenever the cells are the same.
    pub(crate) fn rebuild(&self, fine: &[CellIndex], min_res: u8, max_res: u8) -> Self {
        let Some(finest) = self.levels.last() else {
            return Self::build(fine, min_res, max_res);
        };
        let slot: Option<Vec<u32>> = fine.par_iter().map(|c| finest.slot_of(*c)).collect();
        match slot {
            // Every old cell must still hold a point, or it would be drawn
            // empty: check that each slot is used.
            Some(slot) if covers_all(&slot, finest.cells.len()) => HexGrid {
                levels: Arc::clone(&self.levels),
                slot,
            },
            _ => Self::build(fine, min_res, max_res),
        }
    }

    /// The level of resolution `r`.
    pub(crate) fn level(&self, r: u8) -> Option<(usize, &HexLevel)> {
        self.levels.iter().enumerate().find(|(_, l)| l.res == r)
    }

    fn finest_len(&self) -> usize {
        self.levels.last().map_or(0, |l| l.cells.len())
    }

    /// Rolls counts per finest slot up to every level.
    fn roll_up(&self, finest: &[[u32; 2]]) -> Vec<Vec<[u32; 2]>> {
        self.levels
            .iter()
            .map(|l| {
                let mut v = vec![[0u32; 2]; l.cells.len()];
                for (s, c) in finest.iter().enumerate() {
                    let t = &mut v[l.from_finest[s] as usize];
                    t[0] += c[0];
                    t[1] += c[1];
                }
                v
            })
            .collect()
    }

    /// Fixed counts per point: `[points, points where second(p)]`.
    pub(crate) fn counts(&self, second: impl Fn(usize) -> bool) -> Vec<Vec<[u32; 2]>> {
        let mut finest = vec![[0u32; 2]; self.finest_len()];
        for (p, &s) in self.slot.iter().enumerate() {
            finest[s as usize][0] += 1;
            finest[s as usize][1] += u32::from(second(p));
        }
        self.roll_up(&finest)
    }
}

/// Whether every slot below `n` is used at least once.
fn covers_all(slot: &[u32], n: usize) -> bool {
    let mut used = vec![false; n];
    for &s in slot {
        used[s as usize] = true;
    }
    used.into_iter().all(|u| u)
}

fn res(r: u8) -> Resolution {
    Resolution::try_from(r).expect("a valid H3 resolution from the rules")
}

impl HexLevel {
    /// The slot of the cell holding the point of fine cell `c`, if this
    /// level has it.
    fn slot_of(&self, c: CellIndex) -> Option<u32> {
        let p = c.parent(res(self.res)).unwrap_or(c);
        self.cells.binary_search(&p).ok().map(|s| s as u32)
    }

    fn new(r: u8, cells: Vec<CellIndex>, from_finest: Vec<u32>) -> Self {
        let rings: Vec<WorldPolygon> = cells
            .par_iter()
            .map(|c| {
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
            from_finest,
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
        let mask = CodeMask::new(filter.categories.as_deref(), filter.statuses.as_deref());
        let n_units = city.areas().level(Level::Unit).len();
        let mut units = vec![[0u32; 2]; n_units];
        let mut finest = vec![[0u32; 2]; grid.finest_len()];
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
            let h = &mut finest[grid.slot[p] as usize];
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
            hexagons: grid.roll_up(&finest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(points: &[(f64, f64)]) -> Vec<CellIndex> {
        points
            .iter()
            .map(|&(lon, lat)| {
                LatLng::new(lat, lon)
                    .expect("valid")
                    .to_cell(Resolution::Twelve)
            })
            .collect()
    }

    fn same(a: &HexGrid, b: &HexGrid) {
        assert_eq!(a.slot, b.slot);
        assert_eq!(a.levels.len(), b.levels.len());
        for (x, y) in a.levels.iter().zip(b.levels.iter()) {
            assert_eq!(
                (x.res, &x.cells, &x.from_finest),
                (y.res, &y.cells, &y.from_finest)
            );
        }
    }

    #[test]
    fn a_rebuilt_grid_equals_a_fresh_one_and_shares_unchanged_cells() {
        let base: Vec<(f64, f64)> = (0..400)
            .map(|i| {
                (
                    119.0 + (i % 20) as f64 * 0.004,
                    25.4 + (i / 20) as f64 * 0.003,
                )
            })
            .collect();
        let old = HexGrid::build(&cells(&base), 7, 10);
        // One more point in a cell that is there: the cells are shared.
        let mut more = base.clone();
        more.push((base[37].0 + 1e-6, base[37].1));
        let r = old.rebuild(&cells(&more), 7, 10);
        assert!(Arc::ptr_eq(&r.levels, &old.levels));
        same(&r, &HexGrid::build(&cells(&more), 7, 10));
        // A point in a new cell: built anew.
        let mut far = base.clone();
        far.push((119.3, 25.6));
        let r = old.rebuild(&cells(&far), 7, 10);
        assert!(!Arc::ptr_eq(&r.levels, &old.levels));
        same(&r, &HexGrid::build(&cells(&far), 7, 10));
        // A cell left empty: built anew, without it.
        let fewer: Vec<(f64, f64)> = base[1..].to_vec();
        let r = old.rebuild(&cells(&fewer), 7, 10);
        assert!(!Arc::ptr_eq(&r.levels, &old.levels));
        same(&r, &HexGrid::build(&cells(&fewer), 7, 10));
    }
}
