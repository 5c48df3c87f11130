//! Locating a point: the per-point query over the grid, the hot path. A
//! cell or sub-cell held by one shape answers at once; otherwise the edges
//! in the point's cell settle it.

use super::grid::{ShapeGrid, MASKED, NO_REF, OUTSIDE, REFS, REF_INSIDE, SUB, SUBS};
use super::predicates::{in_box, side_by_edges};
use super::shapes::Shapes;
use crate::tree::NONE;
use geo_types::Coord;

impl ShapeGrid {
    /// The first (lowest-numbered) shape whose closed polygon holds `(x, y)`, or `NONE`.
    #[inline]
    pub(crate) fn locate(&self, shapes: &Shapes, x: f64, y: f64) -> u32 {
        if !in_box(&self.extent, x, y) {
            return NONE;
        }
        // As `col` and `row` do; the cast truncates, the floor here.
        let (u, v) = (
            (x - self.extent[0]) * self.sx,
            (y - self.extent[1]) * self.sy,
        );
        let (i, j) = ((u as usize).min(self.nx - 1), (v as usize).min(self.ny - 1));
        let c = j * self.nx + i;
        let owner = self.cells[c][1];
        if owner < SUB {
            return owner;
        }
        if owner == OUTSIDE {
            return NONE;
        }
        // Which sub-cell: the fraction of the cell, `t - k`, is exact.
        let sub = |t: f64, k: usize| (((t - k as f64) * SUBS as f64) as usize).min(SUBS - 1);
        let cell_subs = &self.subs[(owner & !SUB) as usize];
        let held = cell_subs[sub(v, j) * SUBS + sub(u, i)];
        if held < SUB {
            return held;
        }
        let entries = &self.entries[self.cells[c][0] as usize..=self.cells[c + 1][0] as usize];
        let n = entries.len() - 1;
        let mut mask = held & !SUB;
        let reference = self.refs[c];
        let p = Coord { x, y };
        let q = self.ref_point(c, reference.min(REFS.len() as u8 - 1));
        // Entries named by the mask, then any the mask cannot name, in order.
        let mut next = MASKED;
        loop {
            let e = if mask != 0 {
                let e = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                e
            } else if next < n {
                next += 1;
                next - 1
            } else {
                return NONE;
            };
            let (s, at, end) = (
                entries[e][0],
                entries[e][1],
                entries[e + 1][1] & !REF_INSIDE,
            );
            let holds = if reference == NO_REF {
                shapes.contains(s, x, y)
            } else {
                let edges = &self.edges[(at & !REF_INSIDE) as usize..end as usize];
                side_by_edges(&shapes.xy, edges, at & REF_INSIDE != 0, p, q) != Some(false)
            };
            if holds {
                return s;
            }
        }
    }
}
