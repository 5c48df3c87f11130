//! Region boundaries: each cell edge between two different regions becomes
//! a directed edge with its region on the left, and the edges of a region
//! link up into rings (counter-clockwise exteriors, clockwise holes). On a
//! hexagonal lattice each boundary vertex of a region has exactly one
//! outgoing edge, so the linking is unambiguous and every ring is simple.

use crate::lattice::Lattice;
use crate::partition::NONE;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

type V = (i64, i64);

/// Boundary geometry of every region `0..n` of `region`.
pub fn trace_regions(lat: &Lattice, region: &[u32], n: usize) -> Vec<MultiPolygon<f64>> {
    // Bucket directed edges by region.
    let mut counts = vec![0u32; n + 1];
    let boundary = |c: u32, k: usize| -> bool {
        let r = region[c as usize];
        r != NONE && lat.neighbor(c, k).is_none_or(|nb| region[nb as usize] != r)
    };
    for c in 0..lat.len() as u32 {
        let r = region[c as usize];
        if r == NONE {
            continue;
        }
        for k in 0..6 {
            if boundary(c, k) {
                counts[r as usize + 1] += 1;
            }
        }
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let mut fill = counts.clone();
    let mut edges: Vec<(V, V)> = vec![((0, 0), (0, 0)); counts[n] as usize];
    for c in 0..lat.len() as u32 {
        let r = region[c as usize];
        if r == NONE {
            continue;
        }
        for k in 0..6 {
            if boundary(c, k) {
                edges[fill[r as usize] as usize] =
                    (lat.corner_xy(c, k), lat.corner_xy(c, (k + 1) % 6));
                fill[r as usize] += 1;
            }
        }
    }
    let mut slices: Vec<&mut [(V, V)]> = Vec::with_capacity(n);
    let mut rest: &mut [(V, V)] = &mut edges;
    for r in 0..n {
        let len = (counts[r + 1] - counts[r]) as usize;
        let (head, tail) = rest.split_at_mut(len);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .map(|e| rings_to_multipolygon(lat, link_rings(e)))
        .collect()
}

/// Links a region's directed edges into closed rings of lattice vertices.
fn link_rings(edges: &mut [(V, V)]) -> Vec<Vec<V>> {
    edges.sort_unstable();
    let mut used = vec![false; edges.len()];
    let mut rings = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let mut ring = Vec::new();
        let mut i = start;
        loop {
            used[i] = true;
            ring.push(edges[i].0);
            let next = edges[i].1;
            if next == edges[start].0 {
                break;
            }
            i = edges
                .binary_search_by(|e| e.0.cmp(&next))
                .expect("every boundary vertex has an outgoing edge");
        }
        rings.push(ring);
    }
    rings
}

fn twice_area(ring: &[V]) -> i64 {
    let mut a = 0;
    for i in 0..ring.len() {
        let (x1, y1) = ring[i];
        let (x2, y2) = ring[(i + 1) % ring.len()];
        a += x1 * y2 - x2 * y1;
    }
    a
}

fn contains(ring: &[V], p: V) -> bool {
    // p is never on `ring`: rings of one region are disjoint.
    let (px, py) = (p.0 as f64, p.1 as f64);
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (xi, yi) = (ring[i].0 as f64, ring[i].1 as f64);
        let (xj, yj) = (ring[j].0 as f64, ring[j].1 as f64);
        if (yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn rings_to_multipolygon(lat: &Lattice, rings: Vec<Vec<V>>) -> MultiPolygon<f64> {
    let (mut shells, holes): (Vec<Vec<V>>, Vec<Vec<V>>) =
        rings.into_iter().partition(|r| twice_area(r) > 0);
    // Largest part first, then by position, so the output is canonical.
    shells.sort_by_key(|r| (std::cmp::Reverse(twice_area(r)), r[0]));
    let mut hole_sets: Vec<Vec<Vec<V>>> = vec![Vec::new(); shells.len()];
    for h in holes {
        let owner = if shells.len() == 1 {
            0
        } else {
            shells.iter().position(|s| contains(s, h[0])).unwrap_or(0)
        };
        hole_sets[owner].push(h);
    }
    let to_ls = |r: &[V]| -> LineString<f64> {
        // Sized exactly: 130,000 units hold millions of vertices.
        let mut coords: Vec<Coord<f64>> = Vec::with_capacity(r.len() + 1);
        coords.extend(r.iter().map(|&(x, y)| {
            let (lon, la) = lat.vertex_lonlat(x, y);
            Coord { x: lon, y: la }
        }));
        coords.push(coords[0]);
        LineString(coords)
    };
    MultiPolygon(
        shells
            .iter()
            .zip(hole_sets)
            .map(|(s, hs)| Polygon::new(to_ls(s), hs.iter().map(|h| to_ls(h)).collect()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_of_cells_has_a_hole() {
        let lat = Lattice::new(118.0, 25.0, 118.05, 25.05, 300.0, 1);
        let centre = (lat.rows / 2) * lat.cols + lat.cols / 2;
        let mut region = vec![NONE; lat.len()];
        for n in lat.neighbors(centre) {
            region[n as usize] = 0;
        }
        region[centre as usize] = 1;
        let mp = trace_regions(&lat, &region, 2);
        assert_eq!(mp[0].0.len(), 1);
        assert_eq!(mp[0].0[0].interiors().len(), 1);
        assert_eq!(mp[0].0[0].exterior().0.len(), 6 * 3 + 1);
        assert_eq!(mp[1].0[0].exterior().0.len(), 7);
        // The hole of the ring is the centre cell's boundary, reversed.
        let hole: Vec<_> = mp[0].0[0].interiors()[0].0.to_vec();
        let cell: Vec<_> = mp[1].0[0].exterior().0.to_vec();
        let mut rev = cell.clone();
        rev.reverse();
        assert!(hole.iter().all(|c| rev.contains(c)));
    }
}
