//! The shapes (unit boundaries) as flat arrays of closed rings, and the
//! whole-polygon test on them and on a plain polygon: what the grid falls
//! back to, and what it must always agree with.

use super::predicates::{in_box, ring_crossings};
use super::Box4;
use geo_types::{Coord, MultiPolygon};

/// Where one shape lives in [`Shapes`].
#[derive(Debug, Clone, Copy)]
pub(super) struct ShapeInfo {
    pub(super) bbox: Box4,
    /// Rings `rings.0..rings.1` of `ring_start`.
    pub(super) rings: (u32, u32),
    /// The vertices of all its rings, `xy[coords.0..coords.1]` (one ring when
    /// `rings` spans one, the common case: no second lookup).
    coords: (u32, u32),
}

/// Shapes (multipolygons) as flat arrays of closed rings.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    pub(super) xy: Vec<Coord<f64>>,
    pub(super) ring_start: Vec<u32>,
    pub(super) info: Vec<ShapeInfo>,
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
#[cfg(test)]
pub(crate) fn polygon_contains(p: &geo_types::Polygon<f64>, x: f64, y: f64) -> bool {
    let mut inside = false;
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        if ring_crossings(&ring.0, x, y, &mut inside) {
            return true;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::super::grid::ShapeGrid;
    use super::*;
    use crate::tree::NONE;
    use geo::Intersects;
    use geo_types::{polygon, Point, Polygon};
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
