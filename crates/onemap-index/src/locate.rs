//! Point location: a closed point-in-polygon test with exact predicates, the
//! unit boundaries as flat arrays, and a uniform grid in front of them.
//! A cell that lies wholly inside one unit, or outside all, answers at once;
//! so does a sub-cell (16 per cell, one cache line) inside one unit. Any
//! other point is settled from the edges in its cell alone: the segment
//! from it to the cell's reference point, whose side of each unit is known,
//! crosses only edges that meet the cell. Points on a boundary shared by
//! several units go to the lowest-numbered one, as a scan would give.

use crate::tree::NONE;
use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::{Coord, MultiPolygon, Polygon};
use rayon::prelude::*;

/// The bounding box of a shape: `[min_x, min_y, max_x, max_y]`.
pub(crate) type Box4 = [f64; 4];

/// Where one shape lives in [`Shapes`].
#[derive(Debug, Clone, Copy)]
struct ShapeInfo {
    bbox: Box4,
    /// Rings `rings.0..rings.1` of `ring_start`.
    rings: (u32, u32),
    /// The vertices of all its rings, `xy[coords.0..coords.1]` (one ring when
    /// `rings` spans one, the common case: no second lookup).
    coords: (u32, u32),
}

/// Shapes (multipolygons) as flat arrays of closed rings.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    xy: Vec<Coord<f64>>,
    ring_start: Vec<u32>,
    info: Vec<ShapeInfo>,
}

impl Shapes {
    pub(crate) fn new<'a>(shapes: impl Iterator<Item = &'a MultiPolygon<f64>>) -> Self {
        let mut s = Shapes {
            ring_start: vec![0],
            ..Default::default()
        };
        for g in shapes {
            let (r0, c0) = ((s.ring_start.len() - 1) as u32, s.xy.len() as u32);
            let mut b = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            for p in &g.0 {
                for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                    if ring.0.is_empty() {
                        continue;
                    }
                    for c in &ring.0 {
                        b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
                    }
                    s.xy.extend_from_slice(&ring.0);
                    if ring.0.first() != ring.0.last() {
                        s.xy.push(ring.0[0]);
                    }
                    s.ring_start.push(s.xy.len() as u32);
                }
            }
            s.info.push(ShapeInfo {
                bbox: b,
                rings: (r0, (s.ring_start.len() - 1) as u32),
                coords: (c0, s.xy.len() as u32),
            });
        }
        s
    }

    pub(crate) fn len(&self) -> usize {
        self.info.len()
    }

    /// Whether `(x, y)` lies in closed shape `s` (its boundary counts as inside).
    #[inline]
    pub(crate) fn contains(&self, s: u32, x: f64, y: f64) -> bool {
        let info = &self.info[s as usize];
        if !in_box(&info.bbox, x, y) {
            return false;
        }
        let mut inside = false;
        if info.rings.1 - info.rings.0 == 1 {
            let pts = &self.xy[info.coords.0 as usize..info.coords.1 as usize];
            return ring_crossings(pts, x, y, &mut inside) || inside;
        }
        for r in info.rings.0..info.rings.1 {
            let pts = &self.xy
                [self.ring_start[r as usize] as usize..self.ring_start[r as usize + 1] as usize];
            if ring_crossings(pts, x, y, &mut inside) {
                return true;
            }
        }
        inside
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.xy.capacity() * std::mem::size_of::<Coord<f64>>()
            + self.ring_start.capacity() * 4
            + self.info.capacity() * std::mem::size_of::<ShapeInfo>()
    }
}

/// Whether `(x, y)` lies in the closed polygon.
#[inline]
pub(crate) fn polygon_contains(p: &Polygon<f64>, x: f64, y: f64) -> bool {
    let mut inside = false;
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        if ring_crossings(&ring.0, x, y, &mut inside) {
            return true;
        }
    }
    inside
}

#[inline]
fn in_box(b: &Box4, x: f64, y: f64) -> bool {
    x >= b[0] && y >= b[1] && x <= b[2] && y <= b[3]
}

/// Flips `inside` for every edge of the (closed) ring crossed by the ray from
/// `(x, y)` towards +x; returns true as soon as the point is found on an
/// edge. Cheap comparisons settle most edges; the rest use an exact
/// orientation test, so neighbours sharing an edge always agree on which side
/// a point is.
#[inline]
fn ring_crossings(pts: &[Coord<f64>], x: f64, y: f64, inside: &mut bool) -> bool {
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (ylo, yhi) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
        if y < ylo || y > yhi {
            continue;
        }
        let (xlo, xhi) = if a.x < b.x { (a.x, b.x) } else { (b.x, a.x) };
        if x > xhi {
            continue;
        }
        let straddles = (a.y > y) != (b.y > y);
        if x < xlo {
            if straddles {
                *inside = !*inside;
            }
            continue;
        }
        match RobustKernel::orient2d(a, b, Coord { x, y }) {
            Orientation::Collinear => return true,
            o => {
                if straddles && ((o == Orientation::CounterClockwise) == (b.y > a.y)) {
                    *inside = !*inside;
                }
            }
        }
    }
    false
}

/// Whether the segment `a–b` meets the closed box `r` (Liang–Barsky clipping).
fn segment_meets_box(a: Coord<f64>, b: Coord<f64>, r: &Box4) -> bool {
    if a.x.max(b.x) < r[0] || a.x.min(b.x) > r[2] || a.y.max(b.y) < r[1] || a.y.min(b.y) > r[3] {
        return false;
    }
    if in_box(r, a.x, a.y) || in_box(r, b.x, b.y) {
        return true;
    }
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.x - r[0]),
        (dx, r[2] - a.x),
        (-dy, a.y - r[1]),
        (dy, r[3] - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

/// `owner` of a cell that lies wholly outside every shape.
const OUTSIDE: u32 = NONE - 1;

/// Top bit of an entry's edge start: the cell's reference point lies inside
/// the entry's shape.
const REF_INSIDE: u32 = 1 << 31;

/// Where in a cell (as fractions of its width and height) the reference
/// point may lie: the first of these that lies on no edge reaching into the
/// cell is the cell's.
const REFS: [(f64, f64); 4] = [(0.5, 0.5), (0.293, 0.707), (0.707, 0.293), (0.383, 0.419)];

/// `refs` of a cell whose every reference point lies on an edge: its points
/// are located by the whole-polygon test.
const NO_REF: u8 = u8::MAX;

/// A cell's `owner` with this bit set is the index of its sub-cells in
/// `subs`; a sub-cell with it set is a mask of the cell's entries that
/// reach into the sub-cell (bit `i` for entry `i`; entries from
/// [`MASKED`] on are always tried). Shapes are numbered below it.
const SUB: u32 = 1 << 31;

/// Entries a sub-cell's mask can name.
const MASKED: usize = 31;

/// Sub-cells per cell on a side.
const SUBS: usize = 4;

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
    extent: Box4,
    sx: f64,
    sy: f64,
    nx: usize,
    ny: usize,
    /// Per cell: where its entries start in `entries`, and its owner (a
    /// shape, `OUTSIDE`, or `SUB` with the index of its sub-cells); one
    /// extra entry ends the last cell.
    cells: Vec<[u32; 2]>,
    /// Sub-cells of the cells no one shape holds, row by row: a shape that
    /// holds the whole sub-cell, or `SUB` with a mask of entries.
    subs: Vec<[u32; SUBS * SUBS]>,
    /// Per cell, its shapes: the shape, and where its edges in the cell
    /// start in `edges` (with `REF_INSIDE`); one extra entry ends the last.
    entries: Vec<[u32; 2]>,
    /// Edges, each as the index in [`Shapes`]'s vertices of its first end.
    edges: Vec<u32>,
    /// Per cell: which of [`REFS`] is its reference point, or `NO_REF`.
    refs: Vec<u8>,
}

/// A shape reaching into a cell being built: the shape, whether the cell's
/// reference point lies in it, and its edges in the cell (a range of the
/// builder's edge list).
#[derive(Debug, Clone, Copy)]
struct Reach {
    shape: u32,
    inside: bool,
    edges: (u32, u32),
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
    fn cell_box(&self, c: usize) -> Box4 {
        self.part_box(c, 0, 1)
    }

    /// Part `n` of cell `c` cut into `parts` × `parts` (row by row), enlarged
    /// a little like the cell.
    fn part_box(&self, c: usize, n: usize, parts: usize) -> Box4 {
        let (cw, ch) = (1.0 / self.sx, 1.0 / self.sy);
        let (pw, ph) = (cw / parts as f64, ch / parts as f64);
        let (mx, my) = (cw * 1e-6, ch * 1e-6);
        let (x0, y0) = self.corner(c);
        let x0 = x0 + (n % parts) as f64 * pw;
        let y0 = y0 + (n / parts) as f64 * ph;
        [x0 - mx, y0 - my, x0 + pw + mx, y0 + ph + my]
    }

    /// The lower-left corner of cell `c`.
    fn corner(&self, c: usize) -> (f64, f64) {
        let (i, j) = ((c % self.nx) as f64, (c / self.nx) as f64);
        (self.extent[0] + i / self.sx, self.extent[1] + j / self.sy)
    }

    /// Reference point `v` of [`REFS`] in cell `c`.
    #[inline]
    fn ref_point(&self, c: usize, v: u8) -> Coord<f64> {
        let (i, j) = ((c % self.nx) as f64, (c / self.nx) as f64);
        let (fx, fy) = REFS[v as usize];
        Coord {
            x: self.extent[0] + (i + fx) / self.sx,
            y: self.extent[1] + (j + fy) / self.sy,
        }
    }

    /// Cell `c` from the shapes whose bounding box touches it (`near`,
    /// ascending): its owner, its reference point, and its sub-cells, with
    /// the shapes that reach into it in `reach` (their edges in `edges`).
    /// A shape reaches into the cell if one of its edges meets the
    /// (enlarged) cell, or, meeting none, if it holds the cell's centre, and
    /// so the whole cell; a point of the cell lies in no other shape.
    fn build_cell(
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

/// The bounding box of segment `a–b`.
#[inline]
fn seg_box(a: Coord<f64>, b: Coord<f64>) -> Box4 {
    [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)]
}

/// Whether `p` lies inside the shape whose edges near `p` and `q` are
/// `edges` (each the index of its first end in `xy`), given whether the
/// reference point `q` does (`q_inside`); `None` when `p` lies on one of the
/// edges. Every edge the segment `p–q` meets must be among `edges`.
#[inline]
fn side_by_edges(
    xy: &[Coord<f64>],
    edges: &[u32],
    q_inside: bool,
    p: Coord<f64>,
    q: Coord<f64>,
) -> Option<bool> {
    let pq = seg_box(p, q);
    let mut inside = q_inside;
    for &k in edges {
        match crossing(xy[k as usize], xy[k as usize + 1], p, q, &pq) {
            Crossing::None => {}
            Crossing::Crosses => inside = !inside,
            Crossing::OnEdge => return None,
        }
    }
    Some(inside)
}

/// How edge `a–b` meets the segment from a point `p` to a reference point
/// `q` that lies on no edge.
#[derive(Debug, PartialEq, Eq)]
enum Crossing {
    None,
    /// The edge crosses the segment once (a shape's side flips).
    Crosses,
    /// `p` lies on the edge.
    OnEdge,
}

/// Exact, with a consistent tie-break: a vertex on the line through `p` and
/// `q` counts as lying on its left, as if every such vertex were moved a
/// hair that way. Neighbouring edges share their vertices, so they agree,
/// and a crossing through a vertex counts once.
#[inline]
fn crossing(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>, q: Coord<f64>, pq: &Box4) -> Crossing {
    if a.x.max(b.x) < pq[0] || a.x.min(b.x) > pq[2] || a.y.max(b.y) < pq[1] || a.y.min(b.y) > pq[3]
    {
        return Crossing::None;
    }
    let op = RobustKernel::orient2d(a, b, p);
    if op == Orientation::Collinear {
        if in_box(&seg_box(a, b), p.x, p.y) {
            return Crossing::OnEdge;
        }
        // On the edge's line but off the edge: the edge cannot meet the
        // segment anywhere but at `p`.
        return Crossing::None;
    }
    let left = |v| RobustKernel::orient2d(p, q, v) != Orientation::Clockwise;
    if left(a) == left(b) {
        return Crossing::None;
    }
    let oq = RobustKernel::orient2d(a, b, q);
    if oq != Orientation::Collinear && oq != op {
        Crossing::Crosses
    } else {
        Crossing::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Intersects;
    use geo_types::{polygon, Point};
    use proptest::prelude::*;

    fn with_hole() -> Polygon<f64> {
        polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 3.0), (x: 2.0, y: 5.0), (x: 0.0, y: 3.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 3.0, y: 1.5), (x: 1.5, y: 2.5)]],
        )
    }

    #[test]
    fn boundary_and_hole() {
        let p = with_hole();
        assert!(polygon_contains(&p, 0.0, 0.0));
        assert!(polygon_contains(&p, 2.0, 0.0));
        assert!(polygon_contains(&p, 3.0, 4.0)); // on the slanted edge
        assert!(polygon_contains(&p, 0.5, 0.5));
        assert!(polygon_contains(&p, 1.0, 1.0)); // hole vertex
        assert!(!polygon_contains(&p, 1.8, 1.6)); // inside the hole
        assert!(!polygon_contains(&p, 4.1, 0.0));
        assert!(!polygon_contains(&p, 3.5, 4.0));
    }

    #[test]
    fn flat_shapes_match_polygons() {
        let p = with_hole();
        let square: Polygon<f64> =
            polygon![(x: 5.0, y: 0.0), (x: 6.0, y: 0.0), (x: 6.0, y: 1.0), (x: 5.0, y: 1.0)];
        let two = MultiPolygon(vec![p.clone(), square.clone()]);
        let one = MultiPolygon(vec![square]);
        let shapes = Shapes::new([&two, &one].into_iter());
        for (x, y) in [
            (0.5, 0.5),
            (1.8, 1.6),
            (5.5, 0.5),
            (6.0, 1.0),
            (4.5, 0.5),
            (1.0, 1.0),
        ] {
            let want =
                polygon_contains(&p, x, y) || (5.0..=6.0).contains(&x) && (0.0..=1.0).contains(&y);
            assert_eq!(shapes.contains(0, x, y), want, "({x}, {y})");
            assert_eq!(
                shapes.contains(1, x, y),
                (5.0..=6.0).contains(&x) && (0.0..=1.0).contains(&y)
            );
        }
        let grid = ShapeGrid::build(&shapes, 16.0);
        assert_eq!(grid.locate(&shapes, 5.5, 0.5), 0, "the smaller id wins");
        assert_eq!(grid.locate(&shapes, 1.8, 1.6), NONE, "in the hole");
        assert_eq!(grid.locate(&shapes, 0.1, 0.1), 0);
    }

    #[test]
    fn segments_and_boxes() {
        let r = [0.0, 0.0, 1.0, 1.0];
        let c = |x, y| Coord { x, y };
        assert!(segment_meets_box(c(-1.0, 0.5), c(2.0, 0.5), &r));
        assert!(segment_meets_box(c(-1.0, -1.0), c(0.0, 0.0), &r)); // touches a corner
        assert!(segment_meets_box(c(1.0, -1.0), c(1.0, 2.0), &r)); // along an edge
        assert!(!segment_meets_box(c(-1.0, 0.5), c(-0.1, 3.0), &r));
        assert!(!segment_meets_box(c(0.5, 1.5), c(2.0, 0.9), &r));
    }

    proptest! {
        #[test]
        fn matches_geo(x in -1.0f64..5.0, y in -1.0f64..6.0, snap in 0usize..4) {
            let p = with_hole();
            // Snap some points onto the grid of half units, where edges and vertices lie.
            let (x, y) = if snap == 0 { ((x * 2.0).round() / 2.0, (y * 2.0).round() / 2.0) } else { (x, y) };
            prop_assert_eq!(polygon_contains(&p, x, y), p.intersects(&Point::new(x, y)));
        }

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
