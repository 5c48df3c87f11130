//! Geometry in tile pixel space: projection from lon/lat, simplification,
//! quantization, ring clean-up and MVT orientation.
//!
//! The pipeline for a polygon, in [`TileProjection::polygon`]: project every
//! ring to pixels; reject it if its box misses the clip window; simplify it
//! whole (so neighbouring tiles simplify it alike); clip; quantize; drop
//! repeated and collinear points; drop degenerate rings; orient, because
//! clipping and rounding can both flip or collapse a ring; and last, with all
//! the rings of the feature in hand, check that they form a valid
//! multipolygon and rebuild them when they do not (`valid`).

use crate::clip::ClipWindow;
use crate::valid::{make_valid, Scope};
use geo_types::{MultiPolygon, Polygon};
use onemap_core::tile::lonlat_to_tile_f;
use onemap_core::TileCoord;

/// Signed area by the surveyor's formula, in the coordinates given. In tile
/// space (y down) a positive area is clockwise on screen: an MVT exterior.
pub fn ring_area(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    let mut sum = 0.0;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        sum += a[0] * b[1] - b[0] * a[1];
    }
    sum / 2.0
}

/// Twice the signed area of an integer ring, exactly.
pub fn ring_area2_i(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    let mut sum = 0i64;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        sum += i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1]);
    }
    sum
}

/// Projects lon/lat into the pixel space of one tile and shapes geometry for it.
#[derive(Debug, Clone, Copy)]
pub struct TileProjection {
    tile: TileCoord,
    extent: f64,
    window: ClipWindow,
}

impl TileProjection {
    pub fn new(tile: TileCoord, extent: u32, buffer: u32) -> Self {
        Self {
            tile,
            extent: f64::from(extent),
            window: ClipWindow::new(extent, buffer),
        }
    }

    pub fn tile(&self) -> TileCoord {
        self.tile
    }

    pub fn window(&self) -> ClipWindow {
        self.window
    }

    /// Lon/lat to tile pixels (f64; x east, y down; `[0, extent]` is the tile).
    pub fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        let (tx, ty) = lonlat_to_tile_f(lon, lat, self.tile.z());
        [
            (tx - f64::from(self.tile.x())) * self.extent,
            (ty - f64::from(self.tile.y())) * self.extent,
        ]
    }

    /// A point in integer tile coordinates, or `None` outside the window.
    pub fn point(&self, lon: f64, lat: f64) -> Option<[i32; 2]> {
        let p = self.project(lon, lat);
        self.window
            .contains(p)
            .then(|| [round_px(p[0]), round_px(p[1])])
    }

    /// A multipolygon clipped, simplified (Douglas–Peucker at `tolerance`
    /// pixels; 0 keeps every vertex) and quantized, as MVT rings: each
    /// polygon's exterior (positive area) followed by its holes (negative).
    /// Empty when nothing of it is left in the tile.
    pub fn polygon(&self, mp: &MultiPolygon<f64>, tolerance: f64) -> Vec<Vec<[i32; 2]>> {
        let mut rings = Vec::new();
        for poly in &mp.0 {
            self.add_polygon(poly, tolerance, &mut rings);
        }
        make_valid(&mut rings, Scope::All);
        rings
    }

    fn add_polygon(&self, poly: &Polygon<f64>, tolerance: f64, out: &mut Vec<Vec<[i32; 2]>>) {
        let rings = std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .map(|ls| {
                let mut pts: Vec<[f64; 2]> = ls.0.iter().map(|c| self.project(c.x, c.y)).collect();
                if pts.len() > 1 && pts.first() == pts.last() {
                    pts.pop();
                }
                if tolerance > 0.0 {
                    pts = simplify_ring(&pts, tolerance);
                }
                pts
            })
            .collect();
        self.polygon_px(rings, out);
    }

    /// One polygon in tile pixels (open exterior ring, then open holes)
    /// clipped to the window ring by ring (Sutherland–Hodgman), quantized,
    /// cleaned and oriented into `out`. A concave ring leaving and
    /// re-entering the window comes back with zero-width bridges along the
    /// window's edge, and rounding can make rings touch or cross: the
    /// feature's rings are made valid once they are all there
    /// ([`crate::valid::make_valid`]). Returns whether it was clipped (did
    /// not lie wholly inside the window).
    fn polygon_px(&self, rings: Vec<Vec<[f64; 2]>>, out: &mut Vec<Vec<[i32; 2]>>) -> bool {
        let Some(ext) = rings.first().filter(|r| r.len() >= 3) else {
            return false;
        };
        let (min, max) = bounds(ext);
        if !self.window.overlaps(min, max) {
            return false;
        }
        if self.window.covers(min, max) {
            push_polygon(rings.iter().map(|r| quantize(r)), out);
            return false;
        }
        let exterior = self.window.clip_ring(ext);
        if exterior.len() < 3 {
            return true;
        }
        let holes = rings[1..]
            .iter()
            .map(|r| self.window.clip_ring(r))
            .filter(|r| r.len() >= 3);
        push_polygon(
            std::iter::once(exterior).chain(holes).map(|r| quantize(&r)),
            out,
        );
        true
    }

    /// World coordinates (Web Mercator scaled to `[0, 1]`, y down; see
    /// [`to_world`]) to tile pixels.
    #[inline]
    pub fn world_to_px(&self, w: [f64; 2]) -> [f64; 2] {
        let n = f64::from(1u32 << self.tile.z());
        [
            (w[0] * n - f64::from(self.tile.x())) * self.extent,
            (w[1] * n - f64::from(self.tile.y())) * self.extent,
        ]
    }

    /// A point in world coordinates, in integer tile coordinates, or `None`
    /// outside the window.
    #[inline]
    pub fn world_point(&self, w: [f64; 2]) -> Option<[i32; 2]> {
        let p = self.world_to_px(w);
        self.window
            .contains(p)
            .then(|| [round_px(p[0]), round_px(p[1])])
    }

    /// Polygons already in world coordinates (each: open exterior ring, then
    /// open holes; already generalized), clipped and quantized as MVT rings
    /// of a valid multipolygon.
    pub fn world_polygons(&self, polys: &[Vec<Vec<[f64; 2]>>]) -> Vec<Vec<[i32; 2]>> {
        self.prepared_polygons(polys, false)
    }

    /// [`Self::world_polygons`] for a shape known to stay valid when its
    /// vertices are rounded to this tile's pixels (`rounding_safe`, see
    /// [`crate::valid::rounding_safe`]): when the tile holds it whole, its
    /// rings are not checked again.
    pub(crate) fn prepared_polygons(
        &self,
        polys: &[Vec<Vec<[f64; 2]>>],
        rounding_safe: bool,
    ) -> Vec<Vec<[i32; 2]>> {
        let mut out = Vec::new();
        let mut clipped = false;
        for poly in polys {
            let rings = poly.iter().map(|r| self.world_ring_px(r)).collect();
            clipped |= self.polygon_px(rings, &mut out);
        }
        // A shape that rounds safely can only have gone wrong where clipping
        // cut it: near the window's lines (see `valid::rounding_safe`).
        match (rounding_safe, clipped) {
            (true, false) => {}
            (true, true) => {
                let (min, max) = (round_px(self.window.min), round_px(self.window.max));
                make_valid(&mut out, Scope::NearEdges { min, max });
            }
            (false, _) => make_valid(&mut out, Scope::All),
        }
        out
    }

    /// The outside zone of a pixel point in the 3×3 grid the window's edge
    /// lines cut the plane into; [`INSIDE`] for the window itself.
    #[inline]
    fn zone(&self, p: [f64; 2]) -> u8 {
        let w = self.window;
        let z = |v: f64| {
            if v < w.min {
                0
            } else if v > w.max {
                2
            } else {
                1
            }
        };
        z(p[0]) * 3 + z(p[1])
    }

    /// A world ring in tile pixels, less the vertices that cannot change its
    /// clipped result: a vertex whose neighbours lie in the same outside zone
    /// as itself. Sutherland–Hodgman sees such a vertex either inside an
    /// edge's half-plane together with its neighbours (passed through, then
    /// dropped by a later edge, with no crossing point computed from it) or
    /// outside it together with them (dropped, and the segments around it
    /// yield no point, as the shortcut between its neighbours yields none),
    /// so the clipped ring is the same, bit for bit. Of a run of vertices in
    /// one zone only the first and last stay: a large polygon touching the
    /// tile keeps only the vertices near it, plus a few per zone change.
    fn world_ring_px(&self, r: &[[f64; 2]]) -> Vec<[f64; 2]> {
        let mut px: Vec<[f64; 2]> = r.iter().map(|&w| self.world_to_px(w)).collect();
        let n = px.len();
        if n < 3 {
            return px;
        }
        let (lo, hi) = bounds(&px);
        if self.window.covers(lo, hi) || !self.window.overlaps(lo, hi) {
            return px; // nothing to clip, or nothing to keep: decided whole
        }
        // Compacted in place: a point is read before anything is written
        // at or after its index.
        let first_zone = self.zone(px[0]);
        let mut prev_zone = self.zone(px[n - 1]);
        let mut cur_zone = first_zone;
        let mut kept = 0;
        for i in 0..n {
            let cur = px[i];
            let next_zone = if i + 1 < n {
                self.zone(px[i + 1])
            } else {
                first_zone
            };
            if cur_zone == INSIDE || cur_zone != prev_zone || cur_zone != next_zone {
                px[kept] = cur;
                kept += 1;
            }
            prev_zone = cur_zone;
            cur_zone = next_zone;
        }
        px.truncate(kept);
        px
    }
}

/// The zone of points inside the window (see [`TileProjection::zone`]).
const INSIDE: u8 = 4;

/// Rounds a pixel coordinate to the nearest integer, halves away from zero
/// (as `f64::round`, without its libm call on baseline x86-64; the window
/// keeps coordinates far inside `i32`, and `as` saturates anyway).
#[inline]
pub(crate) fn round_px(x: f64) -> i32 {
    if x >= 0.0 {
        (x + 0.5) as i32
    } else {
        -((0.5 - x) as i32)
    }
}

/// Rounds an open pixel ring to integers.
fn quantize(r: &[[f64; 2]]) -> Vec<[i32; 2]> {
    r.iter().map(|p| [round_px(p[0]), round_px(p[1])]).collect()
}

/// Cleans and orients one polygon's quantized rings (exterior first) into
/// `out`; nothing when the exterior collapses.
fn push_polygon(rings: impl Iterator<Item = Vec<[i32; 2]>>, out: &mut Vec<Vec<[i32; 2]>>) {
    for (i, r) in rings.enumerate() {
        match clean_ring(r) {
            Some(r) => out.push(orient(r, i == 0)),
            None if i == 0 => return,
            None => {}
        }
    }
}

/// Lon/lat to world coordinates: Web Mercator scaled to `[0, 1]`, x east,
/// y down (the tile position at zoom 0).
#[inline]
pub fn to_world(lon: f64, lat: f64) -> [f64; 2] {
    let (x, y) = lonlat_to_tile_f(lon, lat, 0);
    [x, y]
}

pub(crate) fn bounds(pts: &[[f64; 2]]) -> ([f64; 2], [f64; 2]) {
    pts.iter().fold(
        ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]),
        |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        },
    )
}

/// Reverses a ring when its sign does not match its role.
pub fn orient(mut ring: Vec<[i32; 2]>, exterior: bool) -> Vec<[i32; 2]> {
    if (ring_area2_i(&ring) > 0) != exterior {
        ring.reverse();
    }
    ring
}

/// Drops repeated and collinear points of an open integer ring (including
/// spikes that fold back on themselves); `None` if fewer than three points or
/// no area remain.
pub fn clean_ring(mut ring: Vec<[i32; 2]>) -> Option<Vec<[i32; 2]>> {
    ring.dedup();
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    // Removing one point can make its neighbours collinear, so repeat until
    // stable; each pass compacts the ring in place.
    loop {
        let n = ring.len();
        if n < 3 {
            return None;
        }
        let (first, last) = (ring[0], ring[n - 1]);
        let mut kept = 0;
        for i in 0..n {
            // The previous kept point (or, before any, the ring's last one);
            // the next point as it was before this pass (`ring[0]` may have
            // been overwritten by then).
            let prev = if kept > 0 { ring[kept - 1] } else { last };
            let cur = ring[i];
            let next = if i + 1 < n { ring[i + 1] } else { first };
            if cur == prev || cross(prev, cur, next) == 0 {
                continue;
            }
            ring[kept] = cur;
            kept += 1;
        }
        ring.truncate(kept);
        if kept == n {
            break;
        }
    }
    (ring.len() >= 3 && ring_area2_i(&ring) != 0).then_some(ring)
}

fn cross(a: [i32; 2], b: [i32; 2], c: [i32; 2]) -> i64 {
    let (ax, ay) = (i64::from(b[0] - a[0]), i64::from(b[1] - a[1]));
    let (bx, by) = (i64::from(c[0] - b[0]), i64::from(c[1] - b[1]));
    ax * by - ay * bx
}

/// Douglas–Peucker on an open ring: anchored at its first point and the point
/// farthest from it, so the result keeps the ring's extremes.
///
/// Kept rather than `geo`'s `Simplify`: on the work `TileSource::new` does
/// for the full city (141,235 area rings, 448,420 ring-bands), both keep
/// exactly the same vertices, but this takes 1.12 s and geo 2.91 s (2.93 s
/// on line strings built beforehand: the conversions are not the cost; its
/// recursion copies index vectors at every split, this marks kept points in
/// place from an explicit stack). `cargo bench --bench tiles -- simplify
/// --measurement-time 20`, criterion medians, 2 cores at load ≈ 3.6. Each
/// ring is simplified alone (by either), so two areas sharing a boundary
/// may keep different vertices of it.
pub fn simplify_ring(ring: &[[f64; 2]], tolerance: f64) -> Vec<[f64; 2]> {
    let n = ring.len();
    if n <= 4 {
        return ring.to_vec();
    }
    let far = (1..n)
        .max_by(|&a, &b| dist2(ring[0], ring[a]).total_cmp(&dist2(ring[0], ring[b])))
        .unwrap_or(n / 2);
    let mut keep = vec![false; n + 1];
    keep[0] = true;
    keep[far] = true;
    keep[n] = true;
    // Index n stands for the closing point (ring[0] again).
    let at = |i: usize| ring[i % n];
    let mut stack = vec![(0, far), (far, n)];
    let tol2 = tolerance * tolerance;
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut best, mut best_d) = (0, -1.0);
        for i in a + 1..b {
            let d = seg_dist2(at(i), at(a), at(b));
            if d > best_d {
                (best, best_d) = (i, d);
            }
        }
        if best_d > tol2 {
            keep[best] = true;
            stack.push((a, best));
            stack.push((best, b));
        }
    }
    (0..n).filter(|&i| keep[i]).map(|i| ring[i]).collect()
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Squared distance from `p` to the segment `a`–`b`.
fn seg_dist2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return dist2(p, a);
    }
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0);
    dist2(p, [a[0] + t * dx, a[1] + t * dy])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::valid::{is_valid, rounding_safe};

    #[test]
    fn clean_drops_repeats_collinear_and_spikes() {
        let r = vec![[0, 0], [5, 0], [5, 0], [10, 0], [10, 10], [0, 10], [0, 0]];
        assert_eq!(
            clean_ring(r).unwrap(),
            vec![[0, 0], [10, 0], [10, 10], [0, 10]]
        );
        // A spike out and back along one line vanishes.
        let spike = vec![[0, 0], [10, 0], [10, 10], [10, 20], [10, 10], [0, 10]];
        let c = clean_ring(spike).unwrap();
        assert_eq!(ring_area2_i(&c), 200);
        assert_eq!(c.len(), 4, "{c:?}");
        assert!(clean_ring(vec![[0, 0], [5, 5], [10, 10]]).is_none());
        assert!(clean_ring(vec![[0, 0], [1, 0], [0, 0]]).is_none());
    }

    #[test]
    fn round_px_is_round() {
        for x in [
            0.0, 0.4, 0.5, 0.6, 1.5, 2.5, -0.4, -0.5, -0.6, -1.5, -64.0, 4159.7, -63.2,
        ] {
            assert_eq!(round_px(x), x.round() as i32, "{x}");
        }
    }

    #[test]
    fn orient_both_ways() {
        let cw = vec![[0, 0], [10, 0], [10, 10], [0, 10]];
        let ccw: Vec<_> = cw.iter().rev().copied().collect();
        for r in [cw.clone(), ccw.clone()] {
            assert!(ring_area2_i(&orient(r.clone(), true)) > 0);
            assert!(ring_area2_i(&orient(r, false)) < 0);
        }
    }

    #[test]
    fn simplify_keeps_shape() {
        // A square with jittered extra points along its edges.
        let mut ring = Vec::new();
        for i in 0..100 {
            ring.push([i as f64, if i % 2 == 0 { 0.0 } else { 0.3 }]);
        }
        ring.extend([[100.0, 0.0], [100.0, 100.0], [0.0, 100.0]]);
        let s = simplify_ring(&ring, 0.5);
        assert_eq!(s.len(), 4, "{s:?}");
        assert!((ring_area(&s) - 10_000.0).abs() < 1.0);
        assert_eq!(simplify_ring(&ring, 0.1).len(), ring.len());
    }

    /// Star-shaped rings (valid, possibly concave) around `c` with radii `rs`
    /// (world units) at evenly spread angles.
    fn star(c: [f64; 2], rs: &[f64]) -> Vec<[f64; 2]> {
        let n = rs.len() as f64;
        rs.iter()
            .enumerate()
            .map(|(i, r)| {
                let a = i as f64 / n * std::f64::consts::TAU;
                [c[0] + r * a.cos(), c[1] + r * a.sin()]
            })
            .collect()
    }

    proptest::proptest! {
        /// Dropping the vertices inside one outside zone changes nothing:
        /// the clipped ring equals the clip of every vertex, bit for bit,
        /// and so does the whole polygon pipeline.
        #[test]
        fn zone_reduction_clips_the_same(
            cx in -0.5f64..1.5, cy in -0.5f64..1.5,
            rs in proptest::collection::vec(0.05f64..1.2, 3..400),
            hole in proptest::bool::ANY,
        ) {
            let t = TileCoord::new(0, 0, 0).unwrap();
            let p = TileProjection::new(t, 4096, 64);
            let ext = star([cx, cy], &rs);
            let full: Vec<[f64; 2]> = ext.iter().map(|&w| p.world_to_px(w)).collect();
            let reduced = p.world_ring_px(&ext);
            proptest::prop_assert!(reduced.len() <= full.len());
            proptest::prop_assert_eq!(p.window.clip_ring(&full), p.window.clip_ring(&reduced));
            let mut poly = vec![ext];
            if hole {
                let small: Vec<f64> = rs.iter().map(|r| r.min(0.04)).collect();
                poly.push(star([cx, cy], &small).into_iter().rev().collect());
            }
            let mut want = Vec::new();
            p.polygon_px(
                poly.iter().map(|r| r.iter().map(|&w| p.world_to_px(w)).collect()).collect(),
                &mut want,
            );
            make_valid(&mut want, Scope::All);
            proptest::prop_assert_eq!(p.world_polygons(&[poly]), want);
        }
    }

    /// What `valid::rounding_safe` promises, tried on many small star
    /// shapes (a few pixels across, so rounding often matters) around and
    /// across the window: a shape it calls safe comes out of clipping and
    /// rounding valid when the tile holds it whole, and when clipped, testing
    /// only the segments near the window's lines finds what testing all of
    /// them finds.
    #[test]
    fn rounding_safe_shapes_need_checking_only_where_clipped() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let p = TileProjection::new(TileCoord::new(0, 0, 0).unwrap(), 4096, 64);
        let (min, max) = (round_px(p.window.min), round_px(p.window.max));
        let px = 1.0 / 4096.0; // world units per pixel at zoom 0
        let mut seen = [0u32; 4]; // [safe whole, safe clipped, clipped and invalid, unsafe]
        for _ in 0..20_000 {
            // Near a window line or a corner half the time, anywhere else too.
            let at = |v: f64| match (v * 6.0) as u32 {
                0 => -64.0 + (v - 0.08) * 200.0,
                1 => 4160.0 + (v - 0.25) * 200.0,
                _ => v * 4400.0 - 150.0,
            };
            let (cx, cy) = (at(next()), at(next()));
            let n = 3 + (next() * 14.0) as usize;
            let scale = 1.0 + next() * 30.0;
            let rs: Vec<f64> = (0..n).map(|_| scale * (0.3 + next())).collect();
            let mut poly = vec![star(
                [cx * px, cy * px],
                &rs.iter().map(|r| r * px).collect::<Vec<_>>(),
            )];
            if next() < 0.3 {
                let hole: Vec<f64> = rs.iter().map(|r| r * 0.5 * px).collect();
                poly.push(star([cx * px, cy * px], &hole).into_iter().rev().collect());
            }
            let polys = vec![poly];
            let safe = rounding_safe(&polys, px);
            let mut out = Vec::new();
            let rings: Vec<Vec<[f64; 2]>> = polys[0]
                .iter()
                .map(|r| r.iter().map(|&w| p.world_to_px(w)).collect())
                .collect();
            let clipped = p.polygon_px(rings, &mut out);
            if !safe {
                seen[3] += 1;
                continue;
            }
            if out.is_empty() {
                continue;
            }
            let all = is_valid(&out, Scope::All);
            if clipped {
                seen[1] += 1;
                seen[2] += u32::from(!all);
                let near = is_valid(&out, Scope::NearEdges { min, max });
                assert_eq!(near, all, "{polys:?} -> {out:?}");
            } else {
                seen[0] += 1;
                assert!(all, "{polys:?} -> {out:?}");
            }
        }
        assert!(seen.iter().all(|&n| n > 100), "cases: {seen:?}");
    }

    #[test]
    fn rounding_safe_needs_room() {
        let px = 1.0 / 4096.0;
        let square = |s: f64| {
            vec![vec![vec![
                [0.1, 0.1],
                [0.1 + s * px, 0.1],
                [0.1 + s * px, 0.1 + s * px],
                [0.1, 0.1 + s * px],
            ]]]
        };
        assert!(rounding_safe(&square(10.0), px));
        assert!(!rounding_safe(&square(1.0), px), "vertices within √2 px");
        // A notch 1 px wide: its sides within √2 px of each other.
        let notch = |w: f64| {
            let ring: Vec<[f64; 2]> = [
                [0.0, 0.0],
                [10.0, 0.0],
                [10.0, 10.0],
                [5.0 + w, 10.0],
                [5.0 + w, 2.0],
                [5.0, 2.0],
                [5.0, 10.0],
                [0.0, 10.0],
            ]
            .into_iter()
            .map(|[x, y]| [0.1 + x * px, 0.1 + y * px])
            .collect();
            vec![vec![ring]]
        };
        assert!(!rounding_safe(&notch(1.0), px));
        assert!(rounding_safe(&notch(2.0), px));
        // A hole near its exterior; and two parts near each other.
        let mut holed = square(10.0);
        holed[0].push(vec![
            [0.1 + 1.0 * px, 0.1 + 5.0 * px],
            [0.1 + 3.0 * px, 0.1 + 3.0 * px],
            [0.1 + 3.0 * px, 0.1 + 7.0 * px],
        ]);
        assert!(!rounding_safe(&holed, px));
        holed[0][1].iter_mut().for_each(|p| p[0] += 2.0 * px);
        assert!(rounding_safe(&holed, px));
        let mut two = square(10.0);
        two.push(
            square(10.0)[0]
                .iter()
                .map(|r| r.iter().map(|p| [p[0] + 11.0 * px, p[1]]).collect())
                .collect(),
        );
        assert!(!rounding_safe(&two, px), "1 px apart");
        two[1][0].iter_mut().for_each(|p| p[0] += px);
        assert!(rounding_safe(&two, px), "2 px apart");
        // A hole outside its exterior (a simplification can do that).
        let mut out = square(10.0);
        out[0].push(
            square(3.0)[0][0]
                .iter()
                .map(|p| [p[0] + 20.0 * px, p[1]])
                .collect(),
        );
        assert!(!rounding_safe(&out, px));
    }

    #[test]
    fn zone_reduction_drops_far_vertices() {
        // A ring going far round the tile: only the corners of each zone run stay.
        let t = TileCoord::new(4, 3, 3).unwrap();
        let p = TileProjection::new(t, 4096, 64);
        let rs = vec![0.3; 1000];
        let ext = star([0.25, 0.25], &rs);
        let reduced = p.world_ring_px(&ext);
        assert!(reduced.len() < 50, "{}", reduced.len());
        assert_eq!(p.world_polygons(&[vec![ext]]).len(), 1);
    }

    #[test]
    fn projection_corners() {
        let t = TileCoord::new(10, 550, 335).unwrap();
        let p = TileProjection::new(t, 4096, 64);
        let b = t.bbox();
        let nw = p.project(b.min_lon, b.max_lat);
        let se = p.project(b.max_lon, b.min_lat);
        assert!(nw[0].abs() < 1e-6 && nw[1].abs() < 1e-6, "{nw:?}");
        assert!((se[0] - 4096.0).abs() < 1e-6 && (se[1] - 4096.0).abs() < 1e-6);
        assert!(p.point(b.max_lon + 1.0, b.min_lat).is_none());
    }
}
