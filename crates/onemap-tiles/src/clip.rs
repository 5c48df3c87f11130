//! Clipping to the tile window: the tile square expanded by a buffer, in tile
//! pixel space (f64, y down).
//!
//! Polygons are clipped ring by ring with Sutherland–Hodgman, which is exact
//! for a rectangular window. A concave ring leaving and re-entering the window
//! comes back as one ring with zero-width bridges along the window's edge,
//! which is not a valid polygon: the feature's rings are checked once rounded
//! and rebuilt without them (`valid`).

/// An axis-aligned clip window in tile pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipWindow {
    pub min: f64,
    pub max: f64,
}

impl ClipWindow {
    /// The tile `[0, extent]` grown by `buffer` on every side.
    pub fn new(extent: u32, buffer: u32) -> Self {
        Self {
            min: -f64::from(buffer),
            max: f64::from(extent) + f64::from(buffer),
        }
    }

    pub fn contains(&self, p: [f64; 2]) -> bool {
        (self.min..=self.max).contains(&p[0]) && (self.min..=self.max).contains(&p[1])
    }

    /// Whether a box `[min, max]` lies entirely inside the window.
    pub fn covers(&self, min: [f64; 2], max: [f64; 2]) -> bool {
        self.contains(min) && self.contains(max)
    }

    /// Whether a box `[min, max]` overlaps the window at all.
    pub fn overlaps(&self, min: [f64; 2], max: [f64; 2]) -> bool {
        min[0] <= self.max && max[0] >= self.min && min[1] <= self.max && max[1] >= self.min
    }

    /// Clips an open ring (first point not repeated) and returns an open ring,
    /// empty when nothing of it is inside.
    pub fn clip_ring(&self, ring: &[[f64; 2]]) -> Vec<[f64; 2]> {
        let mut out = ring.to_vec();
        for edge in [Edge::Left, Edge::Right, Edge::Top, Edge::Bottom] {
            if out.is_empty() {
                break;
            }
            out = self.clip_edge(&out, edge);
        }
        out
    }

    fn clip_edge(&self, ring: &[[f64; 2]], edge: Edge) -> Vec<[f64; 2]> {
        let inside = |p: [f64; 2]| match edge {
            Edge::Left => p[0] >= self.min,
            Edge::Right => p[0] <= self.max,
            Edge::Top => p[1] >= self.min,
            Edge::Bottom => p[1] <= self.max,
        };
        let cross = |a: [f64; 2], b: [f64; 2]| -> [f64; 2] {
            // The intersection with the edge's line; coordinates on the line
            // are set exactly so rounding never puts them outside.
            let (axis, at) = match edge {
                Edge::Left => (0, self.min),
                Edge::Right => (0, self.max),
                Edge::Top => (1, self.min),
                Edge::Bottom => (1, self.max),
            };
            let t = (at - a[axis]) / (b[axis] - a[axis]);
            let other = 1 - axis;
            let mut p = [0.0; 2];
            p[axis] = at;
            p[other] = a[other] + t * (b[other] - a[other]);
            p
        };
        let mut out = Vec::with_capacity(ring.len() + 4);
        let mut prev = ring[ring.len() - 1];
        for &cur in ring {
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
        out
    }
}

#[derive(Debug, Clone, Copy)]
enum Edge {
    Left,
    Right,
    Top,
    Bottom,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::ring_area;

    fn area(r: &[[f64; 2]]) -> f64 {
        ring_area(r)
    }

    #[test]
    fn square_over_the_corner() {
        let w = ClipWindow::new(100, 0);
        let r = [[50.0, 50.0], [150.0, 50.0], [150.0, 150.0], [50.0, 150.0]];
        let c = w.clip_ring(&r);
        assert!((area(&c) - 2500.0).abs() < 1e-9, "{c:?}");
        assert!(c.iter().all(|&p| w.contains(p)));
    }

    #[test]
    fn outside_and_inside() {
        let w = ClipWindow::new(100, 10);
        let out = [[200.0, 200.0], [300.0, 200.0], [300.0, 300.0]];
        assert!(w.clip_ring(&out).is_empty());
        let inside = [[1.0, 1.0], [9.0, 1.0], [9.0, 9.0]];
        assert_eq!(w.clip_ring(&inside), inside.to_vec());
        // A ring around the whole window becomes the window.
        let around = [[-1e6, -1e6], [1e6, -1e6], [1e6, 1e6], [-1e6, 1e6]];
        assert!((area(&w.clip_ring(&around)).abs() - 120.0 * 120.0).abs() < 1e-6);
    }

    #[test]
    fn orientation_is_kept() {
        let w = ClipWindow::new(100, 0);
        let cw = [[50.0, 50.0], [150.0, 50.0], [150.0, 150.0], [50.0, 150.0]];
        let ccw: Vec<_> = cw.iter().rev().copied().collect();
        assert!(area(&w.clip_ring(&cw)) > 0.0);
        assert!(area(&w.clip_ring(&ccw)) < 0.0);
    }
}
