//! OGC-valid polygons in integer tile coordinates.
//!
//! Clipping, simplification and rounding to the integer grid each keep a
//! polygon close to its shape but none keeps it valid: Sutherland–Hodgman
//! leaves zero-width bridges along the window's edge, Douglas–Peucker
//! simplifies each ring alone (two rings may then cross), and rounding moves
//! a vertex within half a pixel of an edge onto it (a ring touching itself)
//! or pinches a narrow neck. So the last step of every polygon feature is
//! here, on its final integer rings: [`is_valid`] checks exactly (integer
//! predicates, no tolerance) what OGC asks of a multipolygon, and only a
//! feature that fails it is rebuilt by [`repair`] with `i_overlay` (the
//! integer overlay engine under `geo`'s boolean operations, already built
//! with it), whose OGC mode splits self-touching rings, drops spikes and
//! collapsed rings and keeps holes inside their shells. Most features pass
//! the check, which costs a sort and a sweep of their segments; a repair
//! costs a few times more.

use crate::geom::{orient, ring_area2_i};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::IntOverlayOptions;
use i_overlay::core::simplify::Simplify;
use i_overlay::i_float::int::point::IntPoint;

/// An open ring in integer tile coordinates.
pub(crate) type Ring = Vec<[i32; 2]>;

/// Which segments [`is_valid`] tests against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// All of them.
    All,
    /// Those whose box comes within [`EDGE_BAND`] pixels of a line of the
    /// clip window `[min, max]²`: enough for a shape that
    /// [`rounding_safe`] says rounds safely, once clipped to that window
    /// (why: see there).
    NearEdges { min: i32, max: i32 },
}

/// How near (pixels, after rounding) a window's lines a segment must come
/// for [`Scope::NearEdges`] to test it: the √2 of [`ROUNDING_CLEARANCE`]
/// before rounding, plus the half pixel rounding may move it.
const EDGE_BAND: i32 = 2;

/// Makes a feature's rings (each exterior, positive, followed by its holes,
/// negative; see [`crate::geom::ring_area2_i`]) valid in place: unchanged when
/// [`is_valid`] says they are, rebuilt by [`repair`] otherwise.
pub(crate) fn make_valid(rings: &mut Vec<Ring>, scope: Scope) {
    if !rings.is_empty() && !is_valid(rings, scope) {
        *rings = repair(rings);
    }
}

/// Whether rings (exteriors positive, each followed by its holes, negative)
/// form a valid OGC multipolygon, by a check stricter than OGC's: every ring
/// has three or more vertices, no two consecutive segments are collinear, no
/// two segments meet (touching included) except consecutive ones at their
/// shared vertex, every hole lies inside its exterior, holes of one exterior
/// lie outside each other and exteriors outside each other. (OGC also allows
/// a hole touching its exterior at one point, or an island in a lake; such a
/// feature goes through [`repair`], which gives the same shape.) With
/// [`Scope::NearEdges`], only segments near the window's lines are tested
/// against each other.
pub(crate) fn is_valid(rings: &[Ring], scope: Scope) -> bool {
    if rings.first().is_none_or(|r| ring_area2_i(r) <= 0) {
        return false;
    }
    for r in rings {
        let n = r.len();
        if n < 3 || ring_area2_i(r) == 0 {
            return false;
        }
        if (0..n).any(|i| cross(r[(i + n - 1) % n], r[i], r[(i + 1) % n]) == 0) {
            return false; // a repeated vertex, a collinear one or a spike
        }
    }
    if segments_meet(rings, scope) {
        return false;
    }
    if rings.len() == 1 {
        return true;
    }
    // No ring meets another, so a ring is inside another exactly when one of
    // its vertices is.
    let inside = |a: &Ring, b: &Ring| contains(b, a[0]);
    let shells: Vec<usize> = (0..rings.len())
        .filter(|&i| ring_area2_i(&rings[i]) > 0)
        .collect();
    for (k, &s) in shells.iter().enumerate() {
        let end = shells.get(k + 1).copied().unwrap_or(rings.len());
        let holes = &rings[s + 1..end];
        if !holes.iter().all(|h| inside(h, &rings[s])) {
            return false;
        }
        for (i, a) in holes.iter().enumerate() {
            if holes[i + 1..].iter().any(|b| inside(a, b) || inside(b, a)) {
                return false;
            }
        }
        for &t in &shells[k + 1..] {
            if inside(&rings[s], &rings[t]) || inside(&rings[t], &rings[s]) {
                return false;
            }
        }
    }
    true
}

/// Rebuilds rings into a valid multipolygon with `i_overlay`: the region of
/// positive winding number (exteriors count +1, holes −1), so a zero-width
/// bridge or spike (its two sides cancel) vanishes, a loop rounding turned
/// inside out is dropped, and a hole that rounding pushed across its
/// exterior removes only what it covers. The output is oriented as the
/// input.
pub(crate) fn repair(rings: &[Ring]) -> Vec<Ring> {
    let contours: Vec<Vec<IntPoint>> = rings
        .iter()
        .map(|r| r.iter().map(|p| IntPoint::new(p[0], p[1])).collect())
        .collect();
    // Our exteriors (positive surveyor area, y down) are counter-clockwise
    // to i_overlay, whose `Positive` fills where they wind.
    let shapes = contours
        .as_slice()
        .simplify(FillRule::Positive, IntOverlayOptions::ogc());
    let mut out = Vec::new();
    for shape in shapes {
        for (i, c) in shape.into_iter().enumerate() {
            let r: Ring = c.into_iter().map(|p| [p.x, p.y]).collect();
            if r.len() >= 3 && ring_area2_i(&r) != 0 {
                out.push(orient(r, i == 0));
            } else if i == 0 {
                break;
            }
        }
    }
    out
}

/// Twice the signed area of the triangle `a`, `b`, `c` (0: collinear).
fn cross(a: [i32; 2], b: [i32; 2], c: [i32; 2]) -> i64 {
    let (ux, uy) = (i64::from(b[0] - a[0]), i64::from(b[1] - a[1]));
    let (vx, vy) = (i64::from(c[0] - a[0]), i64::from(c[1] - a[1]));
    ux * vy - uy * vx
}

/// Whether `p`, collinear with `a` and `b`, lies on the segment between them.
fn within(a: [i32; 2], b: [i32; 2], p: [i32; 2]) -> bool {
    a[0].min(b[0]) <= p[0]
        && p[0] <= a[0].max(b[0])
        && a[1].min(b[1]) <= p[1]
        && p[1] <= a[1].max(b[1])
}

/// Whether segments `p1 p2` and `q1 q2` have a point in common.
fn meet(p1: [i32; 2], p2: [i32; 2], q1: [i32; 2], q2: [i32; 2]) -> bool {
    let (d1, d2) = (cross(q1, q2, p1), cross(q1, q2, p2));
    let (d3, d4) = (cross(p1, p2, q1), cross(p1, p2, q2));
    if d1.signum() * d2.signum() < 0 && d3.signum() * d4.signum() < 0 {
        return true;
    }
    (d1 == 0 && within(q1, q2, p1))
        || (d2 == 0 && within(q1, q2, p2))
        || (d3 == 0 && within(p1, p2, q1))
        || (d4 == 0 && within(p1, p2, q2))
}

/// One segment of a ring, from vertex `i` to the next, with its box.
#[derive(Clone, Copy)]
struct Seg {
    a: [i32; 2],
    b: [i32; 2],
    lo: [i32; 2],
    hi: [i32; 2],
    /// Its ring, its index in the ring and the ring's length.
    ring: u32,
    i: u32,
    n: u32,
}

impl Seg {
    fn new(r: &Ring, ring: usize, i: usize) -> Seg {
        let n = r.len();
        let (a, b) = (r[i], r[(i + 1) % n]);
        Seg {
            a,
            b,
            lo: [a[0].min(b[0]), a[1].min(b[1])],
            hi: [a[0].max(b[0]), a[1].max(b[1])],
            ring: ring as u32,
            i: i as u32,
            n: n as u32,
        }
    }

    /// Whether this segment meets `t` anywhere but where consecutive
    /// segments of one ring share their vertex (they are not collinear, so
    /// that is all they share).
    #[inline]
    fn meets(&self, t: &Seg) -> bool {
        if t.hi[1] < self.lo[1]
            || t.lo[1] > self.hi[1]
            || t.hi[0] < self.lo[0]
            || t.lo[0] > self.hi[0]
        {
            return false;
        }
        if self.ring == t.ring && ((self.i + 1) % self.n == t.i || (t.i + 1) % self.n == self.i) {
            return false;
        }
        meet(self.a, self.b, t.a, t.b)
    }
}

/// Below this many segments, every pair is tested: cheaper than sorting
/// for the many small features (units, hexagons) and no allocation.
const BRUTE_FORCE: usize = 24;

/// Whether two segments of the rings (in `scope`) meet, other than
/// consecutive segments of one ring at their shared vertex: every pair when
/// there are few, else a sweep along x over the segments sorted by their
/// left end, each tested against those still overlapping it in x.
fn segments_meet(rings: &[Ring], scope: Scope) -> bool {
    let total: usize = rings.iter().map(Vec::len).sum();
    let in_scope = |s: &Seg| match scope {
        Scope::All => true,
        Scope::NearEdges { min, max } => {
            s.lo[0].min(s.lo[1]) <= min + EDGE_BAND || s.hi[0].max(s.hi[1]) >= max - EDGE_BAND
        }
    };
    let all = rings
        .iter()
        .enumerate()
        .flat_map(|(ri, r)| (0..r.len()).map(move |i| Seg::new(r, ri, i)))
        .filter(in_scope);
    if total <= BRUTE_FORCE {
        let mut segs = [None; BRUTE_FORCE];
        for (k, s) in all.enumerate() {
            if segs[..k].iter().flatten().any(|t| s.meets(t)) {
                return true;
            }
            segs[k] = Some(s);
        }
        return false;
    }
    let segs: Vec<Seg> = all.collect();
    // Sorted by left end through packed keys (left end, then position):
    // sorting plain integers is several times faster than sorting segments.
    let mut order: Vec<u64> = segs
        .iter()
        .enumerate()
        .map(|(i, s)| (u64::from(s.lo[0].wrapping_sub(i32::MIN) as u32) << 32) | i as u64)
        .collect();
    order.sort_unstable();
    let mut active: Vec<u32> = Vec::new();
    for key in order {
        let s = &segs[(key & 0xFFFF_FFFF) as usize];
        let mut j = 0;
        while j < active.len() {
            let t = &segs[active[j] as usize];
            if t.hi[0] < s.lo[0] {
                active.swap_remove(j); // left behind by the sweep
                continue;
            }
            if s.meets(t) {
                return true;
            }
            j += 1;
        }
        active.push((key & 0xFFFF_FFFF) as u32);
    }
    false
}

/// Whether `p` lies inside `ring` (crossing number; `p` on the ring is not
/// asked about: rings that get here do not meet).
fn contains(ring: &Ring, p: [i32; 2]) -> bool {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            // The edge crosses the horizontal line through p: is the crossing
            // to the right of p? Exactly, by the sign of a cross product.
            let c = cross(a, b, p);
            if (c > 0) == (b[1] > a[1]) {
                inside = !inside;
            }
        }
    }
    inside
}

/// How close (tile pixels, Euclidean) a vertex may come to a segment not
/// its own before rounding might make them meet: each end of both moves by
/// at most half a pixel along each axis, so a vertex and any point of the
/// segment close in by at most √2. The margin covers the projection's
/// floating-point error (well under 1e-6 px).
const ROUNDING_CLEARANCE: f64 = std::f64::consts::SQRT_2 + 1e-3;

/// Whether rounding a shape's vertices to the integer grid of a zoom whose
/// tile pixels are `px` world units each leaves it valid, with its rings in
/// the same places and orientations (`false`: it might not). `polys` are
/// polygons of open rings in world coordinates, exterior then holes (the
/// city's shapes, simplified per band, which may have made them invalid:
/// that is found here too).
///
/// Why it holds: move every vertex in a straight line from where it is to
/// where it rounds. Along the way each vertex, and each point of a segment,
/// stays within half a pixel of where it started along each axis, so a
/// vertex and a segment not ending at it close in by at most √2 pixels;
/// farther apart than that to start with, no vertex ever touches a segment
/// not its own, and two segments cannot start to cross without an end of one
/// touching the other first. So no ring ever touches itself or another on
/// the way, and what was valid stays valid, nested and oriented as it was.
///
/// Clipped to a window, the shape gains vertices on the window's lines
/// (where its segments cross them, and the window's corners) and segments
/// along them, while its own vertices and (pieces of) segments keep their
/// clearance from each other: a piece of a segment is no nearer to anything
/// than the whole, and a convex window never cuts a segment off the vertex
/// it starts from. So a vertex and a segment of the clipped rings that
/// rounding could bring together are one on a window line and the other
/// within √2 pixels of it: both within √2 pixels of the line before rounding
/// and [`EDGE_BAND`] after. [`Scope::NearEdges`] tests only those.
///
/// Run once per shape and zoom band when the source is built, so rendering
/// a tile skips [`is_valid`] for most features.
pub(crate) fn rounding_safe(polys: &[Vec<Vec<[f64; 2]>>], px: f64) -> bool {
    let r = ROUNDING_CLEARANCE * px;
    let total: usize = polys.iter().flatten().map(Vec::len).sum();
    let mut segs: Vec<FSeg> = Vec::with_capacity(total);
    for (k, ring) in polys.iter().flatten().enumerate() {
        let n = ring.len();
        if n < 3 {
            return false;
        }
        segs.extend((0..n).map(|i| FSeg::new(ring[i], ring[(i + 1) % n], k, i, n, r)));
    }
    // Sorted by left end through integer keys: faster than sorting segments.
    let mut order: Vec<(u64, u32)> = segs
        .iter()
        .enumerate()
        .map(|(i, s)| (ordered_bits(s.lo[0]), i as u32))
        .collect();
    order.sort_unstable();
    let mut active: Vec<u32> = Vec::new();
    for (_, si) in order {
        let s = &segs[si as usize];
        let mut j = 0;
        while j < active.len() {
            let t = &segs[active[j] as usize];
            if t.hi[0] < s.lo[0] {
                active.swap_remove(j);
                continue;
            }
            if t.hi[1] >= s.lo[1] && t.lo[1] <= s.hi[1] && s.too_close(t, r) {
                return false;
            }
            j += 1;
        }
        active.push(si);
    }
    // No ring comes near another, so one vertex tells on which side of
    // another ring a ring lies (and far enough for floating point).
    let inside = |a: &[[f64; 2]], b: &[[f64; 2]]| contains_f(b, a[0]);
    for (k, p) in polys.iter().enumerate() {
        let holes = &p[1..];
        if !holes.iter().all(|h| inside(h, &p[0])) {
            return false;
        }
        for (i, a) in holes.iter().enumerate() {
            if holes[i + 1..].iter().any(|b| inside(a, b) || inside(b, a)) {
                return false;
            }
        }
        if polys[k + 1..]
            .iter()
            .any(|q| inside(&p[0], &q[0]) || inside(&q[0], &p[0]))
        {
            return false;
        }
    }
    true
}

/// A float's bits as an integer of the same order (finite floats).
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 0 {
        b | 1 << 63
    } else {
        !b
    }
}

/// Whether `p` lies inside `ring` (crossing number, floating point: `p` is
/// far from the ring).
fn contains_f(ring: &[[f64; 2]], p: [f64; 2]) -> bool {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if x > p[0] {
                inside = !inside;
            }
        }
    }
    inside
}

/// A segment in world coordinates with its box grown by the clearance.
struct FSeg {
    a: [f64; 2],
    b: [f64; 2],
    lo: [f64; 2],
    hi: [f64; 2],
    ring: usize,
    i: usize,
    n: usize,
}

impl FSeg {
    fn new(a: [f64; 2], b: [f64; 2], ring: usize, i: usize, n: usize, r: f64) -> FSeg {
        FSeg {
            a,
            b,
            lo: [a[0].min(b[0]) - r, a[1].min(b[1]) - r],
            hi: [a[0].max(b[0]) + r, a[1].max(b[1]) + r],
            ring,
            i,
            n,
        }
    }

    /// Whether a vertex of one lies within `r` of the other where it does
    /// not end, or the two cross.
    fn too_close(&self, t: &FSeg, r: f64) -> bool {
        // Within r of a segment is within its grown box: a cheap test first.
        let near = |p: [f64; 2], s: &FSeg| {
            (s.lo[0]..=s.hi[0]).contains(&p[0])
                && (s.lo[1]..=s.hi[1]).contains(&p[1])
                && seg_dist2(p, s.a, s.b) <= r * r
        };
        if self.ring == t.ring {
            // Consecutive: only the far ends can come near the other.
            if (self.i + 1) % self.n == t.i {
                return near(self.a, t) || near(t.b, self);
            }
            if (t.i + 1) % self.n == self.i {
                return near(t.a, self) || near(self.b, t);
            }
        }
        near(self.a, t) || near(self.b, t) || near(t.a, self) || near(t.b, self) || {
            // Crossing with every end far from the other segment: the signs
            // are far from zero, so floating point decides them right.
            let side = |p: [f64; 2], a: [f64; 2], b: [f64; 2]| {
                (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
            };
            let (d1, d2) = (side(self.a, t.a, t.b), side(self.b, t.a, t.b));
            let (d3, d4) = (side(t.a, self.a, self.b), side(t.b, self.a, self.b));
            d1 * d2 < 0.0 && d3 * d4 < 0.0
        }
    }
}

/// Squared distance from `p` to the segment `a`–`b`.
fn seg_dist2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_valid_all(rings: &[Ring]) -> bool {
        is_valid(rings, Scope::All)
    }

    fn square(x: i32, y: i32, s: i32) -> Ring {
        vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s]]
    }

    fn rev(mut r: Ring) -> Ring {
        r.reverse();
        r
    }

    #[test]
    fn simple_shapes_are_valid() {
        assert!(ring_area2_i(&square(0, 0, 10)) > 0, "positive: an exterior");
        assert!(is_valid_all(&[square(0, 0, 10)]));
        assert!(is_valid_all(&[square(0, 0, 10), rev(square(2, 2, 3))]));
        assert!(is_valid_all(&[
            square(0, 0, 10),
            rev(square(2, 2, 3)),
            rev(square(6, 6, 3)),
            square(20, 0, 5),
        ]));
        assert!(is_valid_all(&[vec![[0, 0], [4, 0], [0, 4]]]));
    }

    #[test]
    fn invalid_shapes_are_found() {
        // Each case with twice the area of what its repair keeps.
        let cases: Vec<(&str, Vec<Ring>, i64)> = vec![
            ("no rings", vec![], 0),
            ("hole first", vec![rev(square(0, 0, 10))], 0),
            ("two points", vec![vec![[0, 0], [1, 1]]], 0),
            ("collapsed", vec![vec![[0, 0], [5, 0], [10, 0]]], 0),
            (
                "spike",
                vec![vec![[0, 0], [10, 0], [12, 0], [10, 0], [10, 10], [0, 10]]],
                200,
            ),
            // Half of it winds the wrong way: only the other half is kept.
            (
                "bow tie",
                vec![vec![[0, 0], [10, 10], [10, 0], [0, 10]]],
                50,
            ),
            // The ring of /tiles/…/10/849/437: a vertex rounded onto the
            // window's edge touches the run along it.
            (
                "touches itself",
                vec![vec![
                    [754, -62],
                    [751, -64],
                    [765, -64],
                    [762, -62],
                    [758, -64],
                ]],
                28,
            ),
            (
                "pinched",
                vec![vec![[0, 0], [5, 5], [10, 0], [10, 10], [5, 5], [0, 10]]],
                100,
            ),
            (
                "hole outside",
                vec![square(0, 0, 10), rev(square(20, 0, 3))],
                200,
            ),
            (
                "hole across",
                vec![square(0, 0, 10), rev(square(8, 2, 4))],
                184,
            ),
            (
                "hole touching",
                vec![square(0, 0, 10), rev(vec![[0, 5], [3, 4], [3, 6]])],
                194,
            ),
            (
                "nested holes",
                vec![square(0, 0, 10), rev(square(1, 1, 8)), rev(square(3, 3, 2))],
                72,
            ),
            (
                "overlapping parts",
                vec![square(0, 0, 10), square(5, 5, 10)],
                350,
            ),
            ("nested parts", vec![square(0, 0, 10), square(2, 2, 3)], 200),
            (
                "parts sharing an edge",
                vec![square(0, 0, 10), square(10, 0, 10)],
                400,
            ),
            (
                "a bridge along an edge",
                vec![vec![
                    [0, 0],
                    [10, 0],
                    [10, 4],
                    [0, 4],
                    [0, 6],
                    [10, 6],
                    [10, 10],
                    [0, 10],
                ]],
                160,
            ),
        ];
        for (what, rings, area2) in cases {
            assert!(!is_valid(&rings, Scope::All), "{what}");
            let fixed = repair(&rings);
            let got: i64 = fixed.iter().map(|r| ring_area2_i(r)).sum();
            assert_eq!(got, area2, "{what}: {fixed:?}");
            // OGC lets rings touch at a point, as these repairs leave them
            // (two triangles, twice; an exterior and its hole); our check is
            // stricter, so these are checked by their shape alone (GEOS
            // checks them in the tile tests).
            if ["touches itself", "pinched", "hole touching"].contains(&what) {
                assert_eq!(fixed.len(), 2, "{what}: {fixed:?}");
            } else {
                assert!(fixed.is_empty() == (area2 == 0), "{what}: {fixed:?}");
                assert!(
                    area2 == 0 || is_valid(&fixed, Scope::All),
                    "{what}: {fixed:?}"
                );
            }
        }
    }

    #[test]
    fn repair_keeps_the_area() {
        // A bridge along the window's edge, as Sutherland–Hodgman leaves
        // one: two squares joined by a zero-width run.
        let bridged = vec![vec![
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
            [0, 20],
            [10, 20],
            [10, 30],
            [0, 30],
        ]];
        assert!(!is_valid(&bridged, Scope::All));
        let fixed = repair(&bridged);
        assert!(is_valid(&fixed, Scope::All), "{fixed:?}");
        let area: i64 = fixed.iter().map(|r| ring_area2_i(r)).sum();
        assert_eq!(area, ring_area2_i(&bridged[0]));
        assert_eq!(fixed.len(), 2);
        // A hole pushed across its exterior takes away only what it covers.
        let across = vec![square(0, 0, 10), rev(square(8, 2, 4))];
        let fixed = repair(&across);
        assert!(is_valid(&fixed, Scope::All), "{fixed:?}");
        let area: i64 = fixed.iter().map(|r| ring_area2_i(r)).sum();
        assert_eq!(area, 2 * (100 - 2 * 4));
        // A valid shape comes back as it was (up to where its rings start).
        let ok = vec![square(0, 0, 10), rev(square(2, 2, 3))];
        let again = repair(&ok);
        assert_eq!(again.len(), 2);
        assert_eq!(
            again.iter().map(|r| ring_area2_i(r)).collect::<Vec<_>>(),
            ok.iter().map(|r| ring_area2_i(r)).collect::<Vec<_>>()
        );
    }
}
