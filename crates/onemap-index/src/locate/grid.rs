//! The grid in front of the shapes: its constants and layout, how it is
//! built (rows in parallel, then packed), and the geometry of its cells.
//! One cell is built in `cell`; a point is located in `query`.

use super::shapes::Shapes;
use super::Box4;
use crate::tree::NONE;
use geo_types::Coord;
use rayon::prelude::*;

/// `owner` of a cell that lies wholly outside every shape.
pub(super) const OUTSIDE: u32 = NONE - 1;

/// Top bit of an entry's edge start: the cell's reference point lies inside
/// the entry's shape.
pub(super) const REF_INSIDE: u32 = 1 << 31;

/// Where in a cell (as fractions of its width and height) the reference
/// point may lie: the first of these that lies on no edge reaching into the
/// cell is the cell's.
pub(super) const REFS: [(f64, f64); 4] =
    [(0.5, 0.5), (0.293, 0.707), (0.707, 0.293), (0.383, 0.419)];

/// `refs` of a cell whose every reference point lies on an edge: its points
/// are located by the whole-polygon test.
pub(super) const NO_REF: u8 = u8::MAX;

/// A cell's `owner` with this bit set is the index of its sub-cells in
/// `subs`; a sub-cell with it set is a mask of the cell's entries that
/// reach into the sub-cell (bit `i` for entry `i`; entries from
/// [`MASKED`] on are always tried). Shapes are numbered below it.
pub(super) const SUB: u32 = 1 << 31;

/// Entries a sub-cell's mask can name.
pub(super) const MASKED: usize = 31;

/// Sub-cells per cell on a side.
pub(super) const SUBS: usize = 4;

/// A uniform grid over the shapes' extent. Each cell names the one shape
/// that holds the whole cell, or `OUTSIDE` when no shape reaches into it;
/// otherwise it lists, in ascending order, the shapes that reach into it,
/// each with its edges that meet the cell and whether the cell's reference
/// point lies inside it, and it is split into 4 × 4 sub-cells (one cache
/// line) that each name the one shape holding them, or which of the cell's
/// shapes reach into them. A point is then located from the edges in its
/// cell alone: it lies in a shape if it is on one of the shape's edges, or
/// if the reference point lies inside and the segment between the two
/// crosses the shape's edges an even number of times, or outside and an odd
/// number (every edge that segment crosses meets the cell, which holds both
/// ends).
#[derive(Debug)]
pub(crate) struct ShapeGrid {
    pub(super) extent: Box4,
    pub(super) sx: f64,
    pub(super) sy: f64,
    pub(super) nx: usize,
    pub(super) ny: usize,
    /// Per cell: where its entries start in `entries`, and its owner (a
    /// shape, `OUTSIDE`, or `SUB` with the index of its sub-cells); one
    /// extra entry ends the last cell.
    pub(super) cells: Vec<[u32; 2]>,
    /// Sub-cells of the cells no one shape holds, row by row: a shape that
    /// holds the whole sub-cell, or `SUB` with a mask of entries.
    pub(super) subs: Vec<[u32; SUBS * SUBS]>,
    /// Per cell, its shapes: the shape, and where its edges in the cell
    /// start in `edges` (with `REF_INSIDE`); one extra entry ends the last.
    pub(super) entries: Vec<[u32; 2]>,
    /// Edges, each as the index in [`Shapes`]'s vertices of its first end.
    pub(super) edges: Vec<u32>,
    /// Per cell: which of [`REFS`] is its reference point, or `NO_REF`.
    pub(super) refs: Vec<u8>,
}

/// A row of cells as built, with offsets counted from the row's start.
#[derive(Debug, Default)]
struct RowBuild {
    cells: Vec<[u32; 2]>,
    subs: Vec<[u32; SUBS * SUBS]>,
    entries: Vec<[u32; 2]>,
    edges: Vec<u32>,
    refs: Vec<u8>,
}

impl ShapeGrid {
    /// About `cells_per_shape` cells per shape, at most 4096 on a side.
    pub(crate) fn build(shapes: &Shapes, cells_per_shape: f64) -> Self {
        assert!(
            shapes.len() < (SUB - 2) as usize,
            "too many shapes to locate in"
        );
        let boxes: Vec<Box4> = shapes.info.iter().map(|i| i.bbox).collect();
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for b in boxes.iter().filter(|b| b[0] <= b[2]) {
            e = [
                e[0].min(b[0]),
                e[1].min(b[1]),
                e[2].max(b[2]),
                e[3].max(b[3]),
            ];
        }
        let (nx, ny) = if e[0] > e[2] {
            e = [0.0, 0.0, 0.0, 0.0];
            (1, 1)
        } else {
            let (w, h) = ((e[2] - e[0]).max(1e-9), (e[3] - e[1]).max(1e-9));
            let target = (boxes.len() as f64 * cells_per_shape).max(1.0);
            let nx = ((target * w / h).sqrt().ceil() as usize).clamp(1, 4096);
            (nx, ((target / nx as f64).ceil() as usize).clamp(1, 4096))
        };
        let (w, h) = ((e[2] - e[0]).max(1e-9), (e[3] - e[1]).max(1e-9));
        let mut g = ShapeGrid {
            extent: e,
            sx: nx as f64 / w,
            sy: ny as f64 / h,
            nx,
            ny,
            cells: vec![],
            subs: vec![],
            entries: vec![],
            edges: vec![],
            refs: vec![],
        };
        // The shapes whose bounding box touches each cell, ascending.
        let mut start = vec![0u32; nx * ny + 1];
        let spans: Vec<Option<[usize; 4]>> = boxes.iter().map(|b| g.span(b)).collect();
        for sp in spans.iter().flatten() {
            for j in sp[1]..=sp[3] {
                for i in sp[0]..=sp[2] {
                    start[j * nx + i + 1] += 1;
                }
            }
        }
        for c in 0..nx * ny {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut touching = vec![0; start[nx * ny] as usize];
        for (s, sp) in spans.iter().enumerate() {
            let Some(sp) = sp else { continue };
            for j in sp[1]..=sp[3] {
                for i in sp[0]..=sp[2] {
                    let c = j * nx + i;
                    touching[fill[c] as usize] = s as u32;
                    fill[c] += 1;
                }
            }
        }
        drop(fill);
        // Rows are independent: built in parallel, then packed.
        let rows: Vec<RowBuild> = (0..ny)
            .into_par_iter()
            .map(|j| {
                let mut row = RowBuild::default();
                let (mut reach, mut edges) = (Vec::new(), Vec::new());
                for c in j * nx..(j + 1) * nx {
                    let near = &touching[start[c] as usize..start[c + 1] as usize];
                    let (owner, reference, subs) =
                        g.build_cell(c, near, shapes, &mut reach, &mut edges);
                    row.refs.push(reference);
                    if owner != NONE {
                        row.cells.push([row.entries.len() as u32, owner]);
                        continue;
                    }
                    row.cells
                        .push([row.entries.len() as u32, SUB | row.subs.len() as u32]);
                    row.subs.push(subs);
                    for r in &reach {
                        let at = row.edges.len() as u32;
                        row.entries
                            .push([r.shape, if r.inside { at | REF_INSIDE } else { at }]);
                        row.edges
                            .extend_from_slice(&edges[r.edges.0 as usize..r.edges.1 as usize]);
                    }
                }
                row
            })
            .collect();
        drop((start, touching));
        let total = |f: fn(&RowBuild) -> usize| rows.iter().map(f).sum::<usize>();
        g.cells = Vec::with_capacity(nx * ny + 1);
        g.refs = Vec::with_capacity(nx * ny);
        g.subs = Vec::with_capacity(total(|r| r.subs.len()));
        g.entries = Vec::with_capacity(total(|r| r.entries.len()) + 1);
        g.edges = Vec::with_capacity(total(|r| r.edges.len()));
        for row in rows {
            let (e0, s0, k0) = (
                g.entries.len() as u32,
                g.subs.len() as u32,
                g.edges.len() as u32,
            );
            g.cells.extend(row.cells.iter().map(|&[at, owner]| {
                let owner = if owner != OUTSIDE && owner & SUB != 0 {
                    owner + s0
                } else {
                    owner
                };
                [at + e0, owner]
            }));
            g.entries
                .extend(row.entries.iter().map(|&[shape, at]| [shape, at + k0]));
            g.subs.extend_from_slice(&row.subs);
            g.edges.extend_from_slice(&row.edges);
            g.refs.extend_from_slice(&row.refs);
        }
        assert!(
            g.edges.len() < REF_INSIDE as usize && g.subs.len() < (SUB - 2) as usize,
            "too many edges to locate in"
        );
        g.cells.push([g.entries.len() as u32, NONE]);
        g.entries.push([NONE, g.edges.len() as u32]);
        g
    }

    /// The corners of cell `c`, enlarged a little to cover rounding in
    /// `col`/`row`.
    pub(super) fn cell_box(&self, c: usize) -> Box4 {
        self.part_box(c, 0, 1)
    }

    /// Part `n` of cell `c` cut into `parts` × `parts` (row by row), enlarged
    /// a little like the cell.
    pub(super) fn part_box(&self, c: usize, n: usize, parts: usize) -> Box4 {
        let (cw, ch) = (1.0 / self.sx, 1.0 / self.sy);
        let (pw, ph) = (cw / parts as f64, ch / parts as f64);
        let (mx, my) = (cw * 1e-6, ch * 1e-6);
        let (x0, y0) = self.corner(c);
        let x0 = x0 + (n % parts) as f64 * pw;
        let y0 = y0 + (n / parts) as f64 * ph;
        [x0 - mx, y0 - my, x0 + pw + mx, y0 + ph + my]
    }

    /// The lower-left corner of cell `c`.
    pub(super) fn corner(&self, c: usize) -> (f64, f64) {
        let (i, j) = ((c % self.nx) as f64, (c / self.nx) as f64);
        (self.extent[0] + i / self.sx, self.extent[1] + j / self.sy)
    }

    /// Reference point `v` of [`REFS`] in cell `c`.
    #[inline]
    pub(super) fn ref_point(&self, c: usize, v: u8) -> Coord<f64> {
        let (i, j) = ((c % self.nx) as f64, (c / self.nx) as f64);
        let (fx, fy) = REFS[v as usize];
        Coord {
            x: self.extent[0] + (i + fx) / self.sx,
            y: self.extent[1] + (j + fy) / self.sy,
        }
    }

    #[inline]
    fn col(&self, x: f64) -> usize {
        // Monotonic in x (subtraction and scaling by a positive constant
        // round monotonically), so a point in a box lands in the box's cells.
        // The cast truncates, which is the floor here: it saturates below 0.
        (((x - self.extent[0]) * self.sx) as usize).min(self.nx - 1)
    }

    #[inline]
    fn row(&self, y: f64) -> usize {
        (((y - self.extent[1]) * self.sy) as usize).min(self.ny - 1)
    }

    fn span(&self, b: &Box4) -> Option<[usize; 4]> {
        (b[0] <= b[2] && b[1] <= b[3]).then(|| {
            [
                self.col(b[0]),
                self.row(b[1]),
                self.col(b[2]),
                self.row(b[3]),
            ]
        })
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.cells.capacity() * 8
            + self.subs.capacity() * SUBS * SUBS * 4
            + self.entries.capacity() * 8
            + self.edges.capacity() * 4
            + self.refs.capacity()
    }

    /// (cells, cells answered without a polygon test).
    pub(crate) fn cell_counts(&self) -> (u64, u64) {
        let cells = &self.cells[..self.cells.len() - 1];
        let owned = cells.iter().filter(|c| c[1] < SUB).count();
        (cells.len() as u64, owned as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
    use geo_types::{polygon, MultiPolygon, Polygon};
    use proptest::prelude::*;

    proptest! {
        /// The grid answers as the whole-polygon test of every shape in
        /// turn, on mosaics at grid sizes from one cell to many per shape,
        /// at points on vertices, on edges, at the cells' reference points
        /// and on cell and sub-cell borders.
        #[test]
        fn grid_matches_whole_polygon_tests(
            seed in any::<u64>(),
            k in 1usize..6,
            cells_per_shape in prop::sample::select(vec![0.01, 0.5, 4.0, 40.0]),
            points in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0u8..5), 1..48),
        ) {
            let shapes_list = mosaic(seed, k);
            let shapes = Shapes::new(shapes_list.iter());
            let grid = ShapeGrid::build(&shapes, cells_per_shape);
            let brute = |x: f64, y: f64| {
                (0..shapes.len() as u32).find(|&s| shapes.contains(s, x, y)).unwrap_or(NONE)
            };
            let n = k as f64;
            for (fx, fy, how) in points {
                let (x, y) = match how {
                    // A vertex of the lattice the mosaic is made from.
                    0 => ((fx * n).round() / n, (fy * n).round() / n),
                    // Halfway along a lattice edge.
                    1 => ((fx * n).round() / n, ((fy * n).floor() + 0.5) / n),
                    // A reference point of the cell the point falls in.
                    2 => {
                        let c = grid.row(fy) * grid.nx + grid.col(fx);
                        let q = grid.ref_point(c, (seed % REFS.len() as u64) as u8);
                        (q.x, q.y)
                    }
                    // A cell or sub-cell border.
                    3 => {
                        let u = ((fx - grid.extent[0]) * grid.sx * SUBS as f64).round();
                        (grid.extent[0] + u / (grid.sx * SUBS as f64), fy)
                    }
                    _ => (fx * 1.2 - 0.1, fy * 1.2 - 0.1),
                };
                prop_assert_eq!(grid.locate(&shapes, x, y), brute(x, y), "({}, {})", x, y);
            }
        }
    }

    /// Shapes over the unit square: a k × k lattice (jittered for odd
    /// seeds), each square cut into two triangles, the triangles dealt to
    /// shapes at random (so some shapes are several apart), one shape with
    /// a hole that a later shape fills, and one triangle lying over others.
    fn mosaic(seed: u64, k: usize) -> Vec<MultiPolygon<f64>> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let n = k as f64;
        let jitter = seed % 2 == 1;
        let at: Vec<Vec<Coord<f64>>> = (0..=k)
            .map(|j| {
                (0..=k)
                    .map(|i| {
                        let inner = i > 0 && i < k && j > 0 && j < k;
                        let d = if jitter && inner {
                            ((next() % 1000) as f64 / 1000.0 - 0.5) * 0.4 / n
                        } else {
                            0.0
                        };
                        Coord {
                            x: i as f64 / n + d,
                            y: j as f64 / n - d,
                        }
                    })
                    .collect()
            })
            .collect();
        let count = (k * k).div_ceil(2).max(1);
        let mut shapes: Vec<Vec<Polygon<f64>>> = vec![vec![]; count];
        for j in 0..k {
            for i in 0..k {
                let (a, b, c, d) = (at[j][i], at[j][i + 1], at[j + 1][i + 1], at[j + 1][i]);
                for tri in [vec![a, b, c, a], vec![a, c, d, a]] {
                    let s = (next() % count as u64) as usize;
                    shapes[s].push(Polygon::new(tri.into(), vec![]));
                }
            }
        }
        let mut out: Vec<MultiPolygon<f64>> = shapes
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(MultiPolygon)
            .collect();
        // A square with a square hole, and the hole as a shape of its own.
        let (x0, y0, w) = (0.25, 0.25, 0.5);
        let ring = |x: f64, y: f64, s: f64| {
            vec![
                Coord { x, y },
                Coord { x: x + s, y },
                Coord { x: x + s, y: y + s },
                Coord { x, y: y + s },
                Coord { x, y },
            ]
        };
        let hole = ring(x0 + w / 4.0, y0 + w / 4.0, w / 2.0);
        out.insert(
            (next() % (out.len() as u64 + 1)) as usize,
            MultiPolygon(vec![Polygon::new(
                ring(x0, y0, w).into(),
                vec![hole.clone().into()],
            )]),
        );
        out.push(MultiPolygon(vec![Polygon::new(hole.into(), vec![])]));
        // A triangle lying over the others.
        let t = |v: u64| (v % 1000) as f64 / 1000.0;
        let tri = vec![
            Coord {
                x: t(next()),
                y: t(next()),
            },
            Coord {
                x: t(next()),
                y: t(next()),
            },
            Coord {
                x: t(next()),
                y: t(next()),
            },
        ];
        if RobustKernel::orient2d(tri[0], tri[1], tri[2]) != Orientation::Collinear {
            let mut ring = tri.clone();
            ring.push(tri[0]);
            out.push(MultiPolygon(vec![Polygon::new(ring.into(), vec![])]));
        }
        out
    }

    #[test]
    fn a_cell_whose_reference_points_all_lie_on_edges() {
        // One cell over the unit square; a fan of triangles about the
        // centre with vertices on every reference point.
        let mut ring: Vec<Coord<f64>> = REFS.iter().map(|&(x, y)| Coord { x, y }).collect();
        ring.sort_by(|a, b| {
            (a.y - 0.5)
                .atan2(a.x - 0.5)
                .total_cmp(&(b.y - 0.5).atan2(b.x - 0.5))
        });
        let corners = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].map(|(x, y)| Coord { x, y });
        let mut polys = vec![];
        for w in corners.iter().zip(corners.iter().cycle().skip(1)) {
            for q in &REFS {
                let q = Coord { x: q.0, y: q.1 };
                polys.push(vec![*w.0, *w.1, q, *w.0]);
            }
        }
        let shapes_list: Vec<MultiPolygon<f64>> = polys
            .into_iter()
            .filter(|r| RobustKernel::orient2d(r[0], r[1], r[2]) != Orientation::Collinear)
            .map(|r| MultiPolygon(vec![Polygon::new(r.into(), vec![])]))
            .collect();
        let shapes = Shapes::new(shapes_list.iter());
        let grid = ShapeGrid::build(&shapes, 1.0 / shapes.len() as f64);
        assert_eq!((grid.nx, grid.ny), (1, 1));
        assert_eq!(grid.refs[0], NO_REF, "every reference point is on an edge");
        for (x, y) in [
            (0.5, 0.5),
            (0.1, 0.05),
            (0.9, 0.6),
            (0.293, 0.707),
            (0.0, 1.0),
            (0.45, 0.3),
        ] {
            let want = (0..shapes.len() as u32)
                .find(|&s| shapes.contains(s, x, y))
                .unwrap_or(NONE);
            assert_eq!(grid.locate(&shapes, x, y), want, "({x}, {y})");
        }
    }

    #[test]
    fn a_cell_reached_by_more_shapes_than_a_mask_names() {
        // 40 thin strips in one cell: entries past the mask are tried too.
        let strips: Vec<MultiPolygon<f64>> = (0..40)
            .map(|i| {
                let (x0, x1) = (i as f64 / 40.0, (i + 1) as f64 / 40.0);
                MultiPolygon(vec![
                    polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1.0), (x: x0, y: 1.0)],
                ])
            })
            .collect();
        let shapes = Shapes::new(strips.iter());
        let grid = ShapeGrid::build(&shapes, 1.0 / 40.0);
        assert_eq!((grid.nx, grid.ny), (1, 1));
        for i in 0..40 {
            let x = (i as f64 + 0.5) / 40.0;
            assert_eq!(grid.locate(&shapes, x, 0.3), i, "inside strip {i}");
            assert_eq!(
                grid.locate(&shapes, i as f64 / 40.0, 0.7),
                i.saturating_sub(1),
                "on the border before strip {i}"
            );
        }
        assert_eq!(grid.locate(&shapes, 1.0, 0.5), 39);
    }
}
