//! Point location: a closed point-in-polygon test with exact predicates, the
//! unit boundaries as flat arrays (one cache line or two per test), and a
//! uniform grid of candidate units in front of them. Grid cells that lie
//! wholly inside one unit, or outside all, answer without a polygon test.

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

    /// The rings of shape `s`.
    fn rings(&self, s: u32) -> impl Iterator<Item = &[Coord<f64>]> {
        let info = &self.info[s as usize];
        (info.rings.0..info.rings.1).map(move |r| {
            &self.xy[self.ring_start[r as usize] as usize..self.ring_start[r as usize + 1] as usize]
        })
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

/// A uniform grid over the shapes' extent. Each cell lists, in ascending
/// order, the shapes whose bounding box touches it, and names the one shape
/// that holds the whole cell, or `OUTSIDE` when no shape reaches into it
/// (`NONE` when neither holds).
#[derive(Debug)]
pub(crate) struct ShapeGrid {
    extent: Box4,
    sx: f64,
    sy: f64,
    nx: usize,
    ny: usize,
    /// Per cell: where its candidates start in `items`, and its owner (a
    /// shape, `OUTSIDE` or `NONE`); one extra entry ends the last cell.
    cells: Vec<[u32; 2]>,
    items: Vec<u32>,
}

impl ShapeGrid {
    /// About `cells_per_shape` cells per shape, at most 4096 on a side.
    pub(crate) fn build(shapes: &Shapes, cells_per_shape: f64) -> Self {
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
            cells: vec![[0, NONE]; nx * ny + 1],
            items: vec![],
        };
        let spans: Vec<Option<[usize; 4]>> = boxes.iter().map(|b| g.span(b)).collect();
        for sp in spans.iter().flatten() {
            for j in sp[1]..=sp[3] {
                for i in sp[0]..=sp[2] {
                    g.cells[j * nx + i + 1][0] += 1;
                }
            }
        }
        for c in 0..nx * ny {
            g.cells[c + 1][0] += g.cells[c][0];
        }
        let mut fill: Vec<u32> = g.cells.iter().map(|c| c[0]).collect();
        g.items = vec![0; fill[nx * ny] as usize];
        for (s, sp) in spans.iter().enumerate() {
            let Some(sp) = sp else { continue };
            for j in sp[1]..=sp[3] {
                for i in sp[0]..=sp[2] {
                    let c = j * nx + i;
                    g.items[fill[c] as usize] = s as u32;
                    fill[c] += 1;
                }
            }
        }
        let owners: Vec<u32> = (0..nx * ny)
            .into_par_iter()
            .map(|c| g.sole_owner(c, shapes))
            .collect();
        for (cell, o) in g.cells.iter_mut().zip(owners) {
            cell[1] = o;
        }
        g
    }

    /// The one shape holding every point that maps to cell `c`, if any, or
    /// `OUTSIDE` if none reaches into it: the cell (slightly enlarged, to
    /// cover rounding in `col`/`row`) meets no candidate's boundary, and its
    /// centre lies in exactly one candidate (or none).
    fn sole_owner(&self, c: usize, shapes: &Shapes) -> u32 {
        let (i, j) = ((c % self.nx) as f64, (c / self.nx) as f64);
        let (cw, ch) = (1.0 / self.sx, 1.0 / self.sy);
        let (mx, my) = (cw * 1e-6, ch * 1e-6);
        let x0 = self.extent[0] + i * cw;
        let y0 = self.extent[1] + j * ch;
        let r = [x0 - mx, y0 - my, x0 + cw + mx, y0 + ch + my];
        let (cx, cy) = (x0 + cw / 2.0, y0 + ch / 2.0);
        let mut owner = NONE;
        for &s in self.candidates(c) {
            let crossed = shapes
                .rings(s)
                .any(|ring| ring.windows(2).any(|w| segment_meets_box(w[0], w[1], &r)));
            if crossed {
                return NONE;
            }
            if shapes.contains(s, cx, cy) {
                if owner != NONE {
                    return NONE;
                }
                owner = s;
            }
        }
        if owner == NONE {
            OUTSIDE
        } else {
            owner
        }
    }

    #[inline]
    fn col(&self, x: f64) -> usize {
        // Monotonic in x (subtraction and scaling by a positive constant
        // round monotonically), so a point in a box lands in the box's cells.
        (((x - self.extent[0]) * self.sx).floor().max(0.0) as usize).min(self.nx - 1)
    }

    #[inline]
    fn row(&self, y: f64) -> usize {
        (((y - self.extent[1]) * self.sy).floor().max(0.0) as usize).min(self.ny - 1)
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

    #[inline]
    fn candidates(&self, c: usize) -> &[u32] {
        &self.items[self.cells[c][0] as usize..self.cells[c + 1][0] as usize]
    }

    /// The first (lowest-numbered) shape whose closed polygon holds `(x, y)`, or `NONE`.
    #[inline]
    pub(crate) fn locate(&self, shapes: &Shapes, x: f64, y: f64) -> u32 {
        if !in_box(&self.extent, x, y) {
            return NONE;
        }
        let c = self.row(y) * self.nx + self.col(x);
        match self.cells[c][1] {
            NONE => {}
            OUTSIDE => return NONE,
            owner => return owner,
        }
        for &s in self.candidates(c) {
            if shapes.contains(s, x, y) {
                return s;
            }
        }
        NONE
    }

    /// Bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.cells.capacity() * 8 + self.items.capacity() * 4
    }

    /// (cells, cells answered without a polygon test).
    pub(crate) fn cell_counts(&self) -> (u64, u64) {
        let cells = &self.cells[..self.cells.len() - 1];
        let owned = cells.iter().filter(|c| c[1] < OUTSIDE).count();
        (cells.len() as u64, owned as u64)
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
    }
}
