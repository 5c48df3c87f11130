//! How one cell of the grid is built: the shapes that reach into it with
//! their edges there, its reference point, and its 4 × 4 sub-cells, each
//! held by one shape or naming which of the cell's shapes reach into it.

use super::grid::{ShapeGrid, MASKED, NO_REF, OUTSIDE, REFS, SUB, SUBS};
use super::predicates::{in_box, seg_box, segment_meets_box, side_by_edges};
use super::shapes::Shapes;
use crate::tree::NONE;
use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::Coord;

/// A shape reaching into a cell being built: the shape, whether the cell's
/// reference point lies in it, and its edges in the cell (a range of the
/// builder's edge list).
#[derive(Debug, Clone, Copy)]
pub(super) struct Reach {
    pub(super) shape: u32,
    pub(super) inside: bool,
    pub(super) edges: (u32, u32),
}

impl ShapeGrid {
    /// Cell `c` from the shapes whose bounding box touches it (`near`,
    /// ascending): its owner, its reference point, and its sub-cells, with
    /// the shapes that reach into it in `reach` (their edges in `edges`).
    /// A shape reaches into the cell if one of its edges meets the
    /// (enlarged) cell, or, meeting none, if it holds the cell's centre, and
    /// so the whole cell; a point of the cell lies in no other shape.
    pub(super) fn build_cell(
        &self,
        c: usize,
        near: &[u32],
        shapes: &Shapes,
        reach: &mut Vec<Reach>,
        edges: &mut Vec<u32>,
    ) -> (u32, u8, [u32; SUBS * SUBS]) {
        reach.clear();
        edges.clear();
        let r = self.cell_box(c);
        let centre = self.ref_point(c, 0);
        let mut crossed = false;
        for &s in near {
            let info = &shapes.info[s as usize];
            let from = edges.len() as u32;
            for ring in info.rings.0..info.rings.1 {
                let (r0, r1) = (
                    shapes.ring_start[ring as usize] as usize,
                    shapes.ring_start[ring as usize + 1] as usize,
                );
                for k in r0..r1.saturating_sub(1) {
                    if segment_meets_box(shapes.xy[k], shapes.xy[k + 1], &r) {
                        edges.push(k as u32);
                    }
                }
            }
            let to = edges.len() as u32;
            if to > from || shapes.contains(s, centre.x, centre.y) {
                crossed |= to > from;
                reach.push(Reach {
                    shape: s,
                    inside: false,
                    edges: (from, to),
                });
            } else {
                edges.truncate(from as usize);
            }
        }
        let owner = match reach.as_slice() {
            [] => OUTSIDE,
            [one] if !crossed => one.shape,
            _ => NONE,
        };
        if owner != NONE {
            return (owner, 0, [SUB; SUBS * SUBS]);
        }
        let on_an_edge = |p: Coord<f64>| {
            edges.iter().any(|&k| {
                let (a, b) = (shapes.xy[k as usize], shapes.xy[k as usize + 1]);
                in_box(&seg_box(a, b), p.x, p.y)
                    && RobustKernel::orient2d(a, b, p) == Orientation::Collinear
            })
        };
        let reference = (0..REFS.len() as u8)
            .find(|&v| !on_an_edge(self.ref_point(c, v)))
            .unwrap_or(NO_REF);
        let q = (reference != NO_REF).then(|| self.ref_point(c, reference));
        if let Some(q) = q {
            for k in reach.iter_mut() {
                k.inside = shapes.contains(k.shape, q.x, q.y);
            }
        }
        // Sub-cells: which shapes reach into each, by the same rule.
        let sub_box = |n: usize| self.part_box(c, n, SUBS);
        let (x0, y0) = self.corner(c);
        let (sw, sh) = (1.0 / (self.sx * SUBS as f64), 1.0 / (self.sy * SUBS as f64));
        // The sub-cells a range of coordinates may meet, their margins and
        // some rounding included (a sub-cell too many is only tried more).
        let sub_span = |lo_t: f64, hi_t: f64, lo: f64, size: f64| {
            let at = |t: f64| ((t - lo) / size).clamp(0.0, (SUBS - 1) as f64) as usize;
            (at(lo_t - size * 0.01), at(hi_t + size * 0.01))
        };
        let mut reaching = [0u8; SUBS * SUBS];
        let mut crossed = [false; SUBS * SUBS];
        let mut mask = [0u32; SUBS * SUBS];
        let mut only = [NONE; SUBS * SUBS];
        for (e, k) in reach.iter().enumerate() {
            let own = &edges[k.edges.0 as usize..k.edges.1 as usize];
            // The sub-cells this shape's edges meet: only those under each
            // edge's box are tried.
            let mut cut = [false; SUBS * SUBS];
            for &v in own {
                let (a, b) = (shapes.xy[v as usize], shapes.xy[v as usize + 1]);
                let eb = seg_box(a, b);
                let (i0, i1) = sub_span(eb[0], eb[2], x0, sw);
                let (j0, j1) = sub_span(eb[1], eb[3], y0, sh);
                for sj in j0..=j1 {
                    for si in i0..=i1 {
                        let n = sj * SUBS + si;
                        if !cut[n] && segment_meets_box(a, b, &sub_box(n)) {
                            cut[n] = true;
                        }
                    }
                }
            }
            // Sub-cells no edge meets have one side each; neighbours that
            // no edge meets share it (their union holds no boundary), so
            // one point test settles a whole connected group.
            let mut side: [Option<bool>; SUBS * SUBS] = [None; SUBS * SUBS];
            for n0 in 0..SUBS * SUBS {
                if cut[n0] || side[n0].is_some() {
                    continue;
                }
                let b = sub_box(n0);
                let centre = Coord {
                    x: (b[0] + b[2]) / 2.0,
                    y: (b[1] + b[3]) / 2.0,
                };
                let holds = match q {
                    Some(q) => side_by_edges(&shapes.xy, own, k.inside, centre, q) != Some(false),
                    None => shapes.contains(k.shape, centre.x, centre.y),
                };
                let mut stack = [0usize; SUBS * SUBS];
                let mut top = 1;
                stack[0] = n0;
                side[n0] = Some(holds);
                while top > 0 {
                    top -= 1;
                    let n = stack[top];
                    let (si, sj) = (n % SUBS, n / SUBS);
                    let around = [
                        (si > 0).then(|| n - 1),
                        (si + 1 < SUBS).then(|| n + 1),
                        (sj > 0).then(|| n - SUBS),
                        (sj + 1 < SUBS).then(|| n + SUBS),
                    ];
                    for m in around.into_iter().flatten() {
                        if !cut[m] && side[m].is_none() {
                            side[m] = Some(holds);
                            stack[top] = m;
                            top += 1;
                        }
                    }
                }
            }
            for n in 0..SUBS * SUBS {
                if cut[n] || side[n] == Some(true) {
                    reaching[n] += 1;
                    crossed[n] |= cut[n];
                    only[n] = k.shape;
                    if e < MASKED {
                        mask[n] |= 1 << e;
                    }
                }
            }
        }
        let subs = std::array::from_fn(|n| {
            if reaching[n] == 1 && !crossed[n] {
                only[n]
            } else {
                SUB | mask[n]
            }
        });
        (owner, reference, subs)
    }
}
