//! The k nearest features to a point by geodesic distance.
//!
//! The R-tree yields candidates in order of planar distance in degrees; a
//! lower bound of the geodesic distance in terms of that planar distance
//! tells when no later candidate can make the list.

use crate::city::City;
use crate::feature::Neighbor;
use crate::filter::{check_limit, EventFilter, EventMask};
use crate::IndexError;
use geo::{Distance, Geodesic};
use geo_types::Point;
use onemap_core::{Layer, LonLat};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::f64::consts::{FRAC_PI_2, PI};

/// WGS84 semi-major axis, metres.
const A: f64 = 6_378_137.0;
/// The smallest meridional radius of curvature of WGS84, a(1 − e²), metres.
const M_MIN: f64 = 6_335_439.327;

/// A lower bound of the geodesic distance from a query point at latitude
/// `lat` (radians) and longitude `lon` (radians) to any point at least `d`
/// (radians, planar in lon/lat) away, valid for distances up to `t` metres.
///
/// Along any path of length s ≤ t from the query, |latitude| stays below
/// φ* = |lat| + t / M_MIN, and the line element ds² = M²dφ² + N²cos²φ dλ²
/// is at least min(M_MIN, a cos φ*)² (dφ² + dλ²); the path's length in the
/// lon/lat plane is at least `d` unless it crosses the antimeridian.
fn lower_bound(lat: f64, lon: f64, d: f64, t: f64) -> f64 {
    let phi = lat.abs() + t / M_MIN;
    if phi >= FRAC_PI_2 {
        return 0.0;
    }
    let parallel = A * phi.cos();
    if lon.abs() + t / parallel >= PI {
        return 0.0;
    }
    // A little slack for the rounding of the distances compared with it.
    M_MIN.min(parallel) * d * (1.0 - 1e-6)
}

#[derive(PartialEq)]
struct Cand(f64, u64, u32);

impl Eq for Cand {}

impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl City {
    /// The `k` (1..=`MAX_LIMIT`) features of a point layer (homesteads by
    /// their interior point) nearest to `(lon, lat)` and at most
    /// `max_distance_m` away, ordered by geodesic distance then id. `filter`
    /// applies to events, and its homestead statuses to homesteads.
    pub fn nearest(
        &self,
        layer: Layer,
        lon: f64,
        lat: f64,
        k: usize,
        max_distance_m: Option<f64>,
        filter: &EventFilter,
    ) -> Result<Vec<Neighbor>, IndexError> {
        LonLat::new(lon, lat)?;
        check_limit(k)?;
        if let Some(m) = max_distance_m {
            if !(m.is_finite() && m >= 0.0) {
                return Err(IndexError::InvalidDistance(m));
            }
        }
        let Some(ps) = self.point_set(layer) else {
            return Err(IndexError::NotApplicable {
                layer,
                query: "nearest",
            });
        };
        filter.window().check()?;
        if !filter.applies_to(layer) {
            return Err(IndexError::FilterNotApplicable(layer));
        }
        let time = (layer == Layer::Events).then(|| self.window_range(&filter.window()));
        let mask = EventMask::of(filter);
        let accept = |p: u32| {
            let i = p as usize;
            time.as_ref().is_none_or(|t| t.contains(&i))
                && (layer != Layer::Events || mask.accepts(self.ev.category[i], self.ev.status[i]))
                && (layer != Layer::Homesteads
                    || filter.keeps_homestead(self.homesteads.items[i].status))
        };
        let origin = Point::new(lon, lat);
        let (lat_r, lon_r) = (lat.to_radians(), lon.to_radians());
        let mut best: BinaryHeap<Cand> = BinaryHeap::with_capacity(k + 1);
        let q = ps.rel(lon, lat);
        // Tree coordinates and distances are f32: allow for their rounding
        // (a few ulps of the magnitudes involved) before trusting a distance.
        let slack = (f64::from(q[0].abs()) + f64::from(q[1].abs()) + 1.0) * 1e-6;
        let consider = |p: u32, best: &mut BinaryHeap<Cand>| {
            if !accept(p) {
                return;
            }
            let i = p as usize;
            let s = Geodesic.distance(origin, Point::new(ps.lon[i], ps.lat[i]));
            if max_distance_m.is_some_and(|m| s > m) {
                return;
            }
            best.push(Cand(s, ps.ids[i], p));
            if best.len() > k {
                best.pop();
            }
        };
        // Points not in the tree yet, all of them; then the tree's, nearest
        // first, until none can be nearer than the k-th found.
        for &p in &ps.tail {
            consider(p, &mut best);
        }
        for (e, d2) in ps.tree.nearest_neighbor_iter_with_distance_2(&q) {
            let kth = if best.len() == k {
                best.peek().map_or(f64::INFINITY, |c| c.0)
            } else {
                f64::INFINITY
            };
            let t = max_distance_m.map_or(kth, |m| m.min(kth));
            let d = f64::from(d2).sqrt();
            let d = (d - slack - d * 1e-6).max(0.0);
            if t.is_finite() && lower_bound(lat_r, lon_r, d.to_radians(), t) > t {
                break;
            }
            consider(e.data, &mut best);
        }
        Ok(best
            .into_sorted_vec()
            .into_iter()
            .map(|c| Neighbor {
                distance_m: c.0,
                feature: self.point_feature(layer, c.2),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_is_below_true_distances() {
        // Points around Putian at various planar distances.
        let (lat, lon) = (25.4f64, 119.0f64);
        for (dlon, dlat) in [
            (0.01, 0.0),
            (0.0, 0.01),
            (0.3, -0.2),
            (-1.0, 0.5),
            (2.0, 2.0),
        ] {
            let s = Geodesic.distance(Point::new(lon, lat), Point::new(lon + dlon, lat + dlat));
            let d = (dlon * dlon + dlat * dlat).sqrt().to_radians();
            let lb = lower_bound(lat.to_radians(), lon.to_radians(), d, s);
            assert!(lb <= s, "{dlon},{dlat}: {lb} > {s}");
            assert!(lb > 0.8 * s, "bound too loose: {lb} vs {s}");
        }
        assert_eq!(lower_bound(89f64.to_radians(), 0.0, 0.1, 1e6), 0.0);
    }
}
