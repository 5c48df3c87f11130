//! The hexagonal lattice every area is cut from.
//!
//! Areas are unions of lattice cells, so neighbouring areas share their
//! boundary vertex for vertex and every level tiles its parent exactly. A
//! hexagonal lattice is used because each of its vertices touches exactly
//! three cells: two cells of a region can never meet at a single point, so
//! every traced ring is simple and every geometry valid by construction.
//!
//! Cells are pointy-top hexagons in "odd-r" offset layout. Vertices live on
//! an integer lattice (X in half hex-widths, Y in half edge-lengths), so the
//! same vertex always maps to the same `f64` coordinates, with a small
//! deterministic jitter (well under the distance that could fold a cell) to
//! make boundaries look organic.

/// Corner offsets of a cell in vertex-lattice units, counter-clockwise from 30°.
const CORNERS: [(i64, i64); 6] = [(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)];

#[derive(Debug, Clone)]
pub struct Lattice {
    pub cols: u32,
    pub rows: u32,
    lon0: f64,
    lat0: f64,
    /// Degrees of longitude per X unit and of latitude per Y unit.
    du: f64,
    dv: f64,
    /// Edge length of a cell in metres.
    pub edge_m: f64,
    seed: u64,
}

/// A 64-bit mix (splitmix64 finaliser), used for per-vertex and per-cell noise.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of integers to a float in [-1, 1).
pub fn hash_unit(seed: u64, a: i64, b: i64) -> f64 {
    let h = mix(seed ^ mix((a as u64).wrapping_mul(0x100_0000_01B3) ^ mix(b as u64)));
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

impl Lattice {
    /// A lattice covering the box with cells of edge `edge_m` metres.
    pub fn new(
        min_lon: f64,
        min_lat: f64,
        max_lon: f64,
        max_lat: f64,
        edge_m: f64,
        seed: u64,
    ) -> Self {
        let lat_c = ((min_lat + max_lat) / 2.0).to_radians();
        let u_m = edge_m * 3f64.sqrt() / 2.0;
        let v_m = edge_m / 2.0;
        let du = u_m / (111_320.0 * lat_c.cos());
        let dv = v_m / 110_574.0;
        let cols = (((max_lon - min_lon) / du) / 2.0).ceil() as u32 + 1;
        let rows = (((max_lat - min_lat) / dv) / 3.0).ceil() as u32 + 1;
        Self {
            cols,
            rows,
            lon0: min_lon,
            lat0: min_lat,
            du,
            dv,
            edge_m,
            seed,
        }
    }

    pub fn len(&self) -> usize {
        self.cols as usize * self.rows as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn col_row(&self, idx: u32) -> (u32, u32) {
        (idx % self.cols, idx / self.cols)
    }

    /// Centre of a cell on the vertex lattice.
    pub fn center_xy(&self, idx: u32) -> (i64, i64) {
        let (c, r) = self.col_row(idx);
        (2 * i64::from(c) + i64::from(r & 1), 3 * i64::from(r))
    }

    /// The neighbour across edge `k` (the edge from corner `k` to corner `k+1`).
    pub fn neighbor(&self, idx: u32, k: usize) -> Option<u32> {
        let (c, r) = self.col_row(idx);
        let (c, r) = (i64::from(c), i64::from(r));
        let odd = r & 1;
        let (nc, nr) = match k {
            0 => (c + odd, r + 1),
            1 => (c - 1 + odd, r + 1),
            2 => (c - 1, r),
            3 => (c - 1 + odd, r - 1),
            4 => (c + odd, r - 1),
            _ => (c + 1, r),
        };
        (nc >= 0 && nr >= 0 && nc < i64::from(self.cols) && nr < i64::from(self.rows))
            .then(|| (nr as u32) * self.cols + nc as u32)
    }

    pub fn neighbors(&self, idx: u32) -> impl Iterator<Item = u32> + '_ {
        (0..6).filter_map(move |k| self.neighbor(idx, k))
    }

    /// Corner `k` of a cell on the vertex lattice.
    pub fn corner_xy(&self, idx: u32, k: usize) -> (i64, i64) {
        let (x, y) = self.center_xy(idx);
        (x + CORNERS[k].0, y + CORNERS[k].1)
    }

    /// Lon/lat of a lattice vertex, with its deterministic jitter.
    pub fn vertex_lonlat(&self, x: i64, y: i64) -> (f64, f64) {
        // 0.18 edge lengths at most in each axis: far below the 0.43 that
        // could bring a vertex onto a non-incident edge.
        let jx = hash_unit(self.seed, x, y) * 0.18 * 2.0 / 3f64.sqrt();
        let jy = hash_unit(self.seed ^ 0x5EED, x, y) * 0.36;
        (
            self.lon0 + (x as f64 + jx) * self.du,
            self.lat0 + (y as f64 + jy) * self.dv,
        )
    }

    /// Lon/lat of a cell's centre (not jittered).
    pub fn center_lonlat(&self, idx: u32) -> (f64, f64) {
        let (x, y) = self.center_xy(idx);
        (
            self.lon0 + x as f64 * self.du,
            self.lat0 + y as f64 * self.dv,
        )
    }

    /// The cell whose centre is nearest to a lon/lat (None outside the lattice).
    pub fn cell_near(&self, lon: f64, lat: f64) -> Option<u32> {
        let fx = (lon - self.lon0) / self.du;
        let fy = (lat - self.lat0) / self.dv;
        let r0 = (fy / 3.0).round() as i64;
        let mut best: Option<(f64, u32)> = None;
        for r in r0 - 1..=r0 + 1 {
            if r < 0 || r >= i64::from(self.rows) {
                continue;
            }
            let c0 = ((fx - (r & 1) as f64) / 2.0).round() as i64;
            for c in c0 - 1..=c0 + 1 {
                if c < 0 || c >= i64::from(self.cols) {
                    continue;
                }
                let idx = r as u32 * self.cols + c as u32;
                let (x, y) = self.center_xy(idx);
                // Distances in metres-proportional units (X unit = √3/2 edge, Y = 1/2 edge).
                let dx = (fx - x as f64) * 3f64.sqrt() / 2.0;
                let dy = (fy - y as f64) / 2.0;
                let d = dx * dx + dy * dy;
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, idx));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// A point strictly inside a cell: `t` picks one of its six triangles
    /// (centre, corner k, corner k+1), `a` and `b` in (0, 1) place the point
    /// in it. `shrink` in (0, 1] pulls the point towards the centre.
    pub fn point_in_cell(&self, idx: u32, t: usize, a: f64, b: f64, shrink: f64) -> (f64, f64) {
        let (cx, cy) = self.center_lonlat(idx);
        let (x1, y1) = self.corner_xy(idx, t % 6);
        let (x2, y2) = self.corner_xy(idx, (t + 1) % 6);
        let p1 = self.vertex_lonlat(x1, y1);
        let p2 = self.vertex_lonlat(x2, y2);
        let (mut a, mut b) = (a, b);
        if a + b > 1.0 {
            a = 1.0 - a;
            b = 1.0 - b;
        }
        let (a, b) = (a * shrink, b * shrink);
        (
            cx + a * (p1.0 - cx) + b * (p2.0 - cx),
            cy + a * (p1.1 - cy) + b * (p2.1 - cy),
        )
    }

    /// Metres per degree of longitude and latitude at the lattice's latitude.
    pub fn metres_per_degree(&self) -> (f64, f64) {
        let u_m = self.edge_m * 3f64.sqrt() / 2.0;
        (u_m / self.du, self.edge_m / 2.0 / self.dv)
    }
}

/// Smooth value noise in [-1, 1], `freq` cycles per degree, a few octaves.
pub fn noise(seed: u64, lon: f64, lat: f64, freq: f64, octaves: u32) -> f64 {
    let mut total = 0.0;
    let mut amp = 1.0;
    let mut norm = 0.0;
    let mut f = freq;
    for o in 0..octaves {
        total += amp * value_noise(seed.wrapping_add(u64::from(o) * 7919), lon * f, lat * f);
        norm += amp;
        amp *= 0.5;
        f *= 2.0;
    }
    total / norm
}

fn value_noise(seed: u64, x: f64, y: f64) -> f64 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (ix, iy) = (x0 as i64, y0 as i64);
    let s = |t: f64| t * t * (3.0 - 2.0 * t);
    let (sx, sy) = (s(fx), s(fy));
    let v00 = hash_unit(seed, ix, iy);
    let v10 = hash_unit(seed, ix + 1, iy);
    let v01 = hash_unit(seed, ix, iy + 1);
    let v11 = hash_unit(seed, ix + 1, iy + 1);
    let a = v00 + sx * (v10 - v00);
    let b = v01 + sx * (v11 - v01);
    a + sy * (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_mutual_and_share_an_edge() {
        let l = Lattice::new(118.0, 25.0, 118.1, 25.1, 500.0, 7);
        for idx in 0..l.len() as u32 {
            for k in 0..6 {
                if let Some(n) = l.neighbor(idx, k) {
                    // The shared edge, seen from the neighbour, runs the other way.
                    let a = (l.corner_xy(idx, k), l.corner_xy(idx, (k + 1) % 6));
                    let kk = (k + 3) % 6;
                    let b = (l.corner_xy(n, kk), l.corner_xy(n, (kk + 1) % 6));
                    assert_eq!(a.0, b.1);
                    assert_eq!(a.1, b.0);
                    assert_eq!(l.neighbor(n, kk), Some(idx));
                }
            }
        }
    }

    #[test]
    fn cell_near_finds_the_cell_of_its_centre_and_inner_points() {
        let l = Lattice::new(118.0, 25.0, 118.1, 25.1, 300.0, 7);
        for idx in (0..l.len() as u32).step_by(7) {
            let (lon, lat) = l.center_lonlat(idx);
            assert_eq!(l.cell_near(lon, lat), Some(idx));
            let (lon, lat) = l.point_in_cell(idx, 3, 0.3, 0.3, 0.5);
            assert_eq!(l.cell_near(lon, lat), Some(idx));
        }
    }

    #[test]
    fn noise_is_bounded_and_deterministic() {
        for i in 0..1000 {
            let v = noise(3, 118.0 + i as f64 * 0.001, 25.0, 10.0, 3);
            assert!((-1.0..=1.0).contains(&v));
            assert_eq!(v, noise(3, 118.0 + i as f64 * 0.001, 25.0, 10.0, 3));
        }
    }
}
