//! The exact predicates point location rests on: box tests, the ray
//! crossing count of a ring, whether a segment meets a box, and how an edge
//! meets the segment from a point to its cell's reference point. Exact
//! orientation tests keep neighbours sharing an edge in agreement.

use super::Box4;
use geo::algorithm::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::Coord;

#[inline]
pub(super) fn in_box(b: &Box4, x: f64, y: f64) -> bool {
    x >= b[0] && y >= b[1] && x <= b[2] && y <= b[3]
}

/// Flips `inside` for every edge of the (closed) ring crossed by the ray from
/// `(x, y)` towards +x; returns true as soon as the point is found on an
/// edge. Cheap comparisons settle most edges; the rest use an exact
/// orientation test, so neighbours sharing an edge always agree on which side
/// a point is.
#[inline]
pub(super) fn ring_crossings(pts: &[Coord<f64>], x: f64, y: f64, inside: &mut bool) -> bool {
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
pub(super) fn segment_meets_box(a: Coord<f64>, b: Coord<f64>, r: &Box4) -> bool {
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

/// The bounding box of segment `a–b`.
#[inline]
pub(super) fn seg_box(a: Coord<f64>, b: Coord<f64>) -> Box4 {
    [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)]
}

/// Whether `p` lies inside the shape whose edges near `p` and `q` are
/// `edges` (each the index of its first end in `xy`), given whether the
/// reference point `q` does (`q_inside`); `None` when `p` lies on one of the
/// edges. Every edge the segment `p–q` meets must be among `edges`.
#[inline]
pub(super) fn side_by_edges(
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
}
