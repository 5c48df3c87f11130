//! Polygon layers generalized ahead of time, the way tippecanoe and
//! geojson-vt do: every shape projected once to world coordinates (Web
//! Mercator scaled to `[0, 1]`), then simplified per zoom band at the
//! tolerance of the rules table, so serving a tile is selection, clipping,
//! quantization and encoding. A shape too small to see at a zoom has no
//! geometry in that band and is not drawn there.

use crate::geom::{bounds, simplify_ring, to_world};
use crate::mvt::EXTENT;
use crate::valid::rounding_safe;
use geo::InteriorPoint;
use geo_types::{LineString, MultiPolygon};
use onemap_index::{box_tree, BoxEntry};
use rayon::prelude::*;
use rstar::{RTree, AABB};
use std::sync::Arc;

/// The deepest zoom with a band of its own; deeper zooms draw its geometry.
pub const FINEST_BAND: u8 = 16;

/// A shape whose box spans fewer tile pixels (of [`EXTENT`]) than this at a
/// zoom is dropped there (except in the finest band): about one screen pixel of a 512-pixel tile.
pub const MIN_FEATURE_PX: f64 = 8.0;

/// One polygon in world coordinates: open exterior ring, then open holes.
pub(crate) type WorldPolygon = Vec<Vec<[f64; 2]>>;
/// A generalized multipolygon, shared between bands where simplification
/// changed nothing.
pub(crate) type Shape = Arc<Vec<WorldPolygon>>;

/// A shape as drawn in one zoom band.
#[derive(Debug, Clone)]
pub(crate) struct Drawn {
    pub(crate) shape: Shape,
    /// Whether rounding it to the pixels of the band's zoom (or any finer
    /// one) leaves it valid ([`crate::valid::rounding_safe`]): then a tile
    /// it lies wholly inside needs no validity check.
    pub(crate) rounding_safe: bool,
}

/// One shape prepared: its world box, label point and bands.
type Prepared = ([f64; 4], [f64; 2], Vec<Option<Drawn>>);

/// Shapes of one polygon layer with their bands, boxes and label points.
#[derive(Debug)]
pub(crate) struct PolygonLayer {
    minzoom: u8,
    /// World boxes `[min_x, min_y, max_x, max_y]` of the original shapes.
    pub(crate) boxes: Vec<[f64; 4]>,
    tree: RTree<BoxEntry>,
    /// `bands[z - minzoom][pos]`: the shape at zoom `z`, if drawn there.
    bands: Vec<Vec<Option<Drawn>>>,
    /// A point inside each shape (world coordinates).
    pub(crate) labels: Vec<[f64; 2]>,
}

/// The size in tile pixels at zoom `z` of a world length.
pub(crate) fn world_to_px_len(len: f64, z: u8) -> f64 {
    len * f64::from(1u32 << z) * f64::from(EXTENT)
}

impl PolygonLayer {
    /// Generalizes `shapes` (lon/lat) for zooms `minzoom..=FINEST_BAND` at
    /// `tolerance_px` tile pixels of each band's zoom.
    pub(crate) fn build(shapes: &[&MultiPolygon<f64>], minzoom: u8, tolerance_px: f64) -> Self {
        let n_bands = usize::from(FINEST_BAND.saturating_sub(minzoom)) + 1;
        let per_shape: Vec<Prepared> = shapes
            .par_iter()
            .map(|mp| generalize(mp, minzoom, n_bands, tolerance_px))
            .collect();
        let mut bands = vec![Vec::with_capacity(shapes.len()); n_bands];
        let mut boxes = Vec::with_capacity(shapes.len());
        let mut labels = Vec::with_capacity(shapes.len());
        for (b, label, shape_bands) in per_shape {
            boxes.push(b);
            labels.push(label);
            for (band, s) in bands.iter_mut().zip(shape_bands) {
                band.push(s);
            }
        }
        let tree = box_tree(&boxes);
        PolygonLayer {
            minzoom,
            boxes,
            tree,
            bands,
            labels,
        }
    }

    /// The shapes at zoom `z` by position (`None`: not drawn there); `None`
    /// below the layer's first band.
    pub(crate) fn band(&self, z: u8) -> Option<&[Option<Drawn>]> {
        let z = z.min(FINEST_BAND);
        let i = usize::from(z.checked_sub(self.minzoom)?);
        self.bands.get(i).map(Vec::as_slice)
    }

    /// Positions of the shapes whose box meets a world box.
    pub(crate) fn each_in(&self, w: [f64; 4], mut f: impl FnMut(u32)) {
        let env = AABB::from_corners([w[0], w[1]], [w[2], w[3]]);
        for e in self.tree.locate_in_envelope_intersecting(&env) {
            f(e.data);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.boxes.len()
    }
}

fn open_world_ring(ls: &LineString<f64>) -> Vec<[f64; 2]> {
    let mut r: Vec<[f64; 2]> = ls.0.iter().map(|c| to_world(c.x, c.y)).collect();
    if r.len() > 1 && r.first() == r.last() {
        r.pop();
    }
    r
}

/// One shape's box, label point and bands, coarsest band first.
fn generalize(mp: &MultiPolygon<f64>, minzoom: u8, n_bands: usize, tolerance_px: f64) -> Prepared {
    let raw: Vec<WorldPolygon> =
        mp.0.iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(open_world_ring)
                    .collect()
            })
            .collect();
    let all: Vec<[f64; 2]> = raw.iter().flat_map(|p| p[0].iter().copied()).collect();
    let (lo, hi) = if all.is_empty() {
        ([0.0; 2], [0.0; 2])
    } else {
        bounds(&all)
    };
    let bbox = [lo[0], lo[1], hi[0], hi[1]];
    let label = mp
        .interior_point()
        .map_or([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0], |p| {
            to_world(p.x(), p.y())
        });
    let size = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let mut out: Vec<Option<Drawn>> = vec![None; n_bands];
    let mut finer: Option<(usize, Shape)> = None;
    for b in (0..n_bands).rev() {
        let z = minzoom + b as u8;
        // The finest band keeps every shape, so everything shows up close enough.
        if b + 1 < n_bands && world_to_px_len(size, z) < MIN_FEATURE_PX {
            break; // and smaller still at every coarser zoom
        }
        let tol = tolerance_px / world_to_px_len(1.0, z);
        let polys: Vec<WorldPolygon> = raw
            .iter()
            .filter_map(|p| {
                let ext = simplify_ring(&p[0], tol);
                (ext.len() >= 3).then(|| {
                    std::iter::once(ext)
                        .chain(
                            p[1..]
                                .iter()
                                .map(|h| simplify_ring(h, tol))
                                .filter(|h| h.len() >= 3),
                        )
                        .collect()
                })
            })
            .collect();
        if polys.is_empty() {
            break;
        }
        let count: usize = polys.iter().flatten().map(Vec::len).sum();
        let shape = match &finer {
            Some((c, s)) if *c == count => Arc::clone(s),
            _ => Arc::new(polys),
        };
        finer = Some((count, Arc::clone(&shape)));
        // The finest band is drawn at deeper zooms too: larger pixels at
        // its own zoom than at theirs, so safe there is safe at all of them.
        let rounding_safe = rounding_safe(&shape, 1.0 / world_to_px_len(1.0, z));
        out[b] = Some(Drawn {
            shape,
            rounding_safe,
        });
    }
    (bbox, label, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, MultiPolygon};

    #[test]
    fn bands_drop_small_and_share_unchanged() {
        // A ~1 km square near Putian with a jagged edge.
        let mut ext = vec![(119.0, 25.4)];
        for i in 1..50 {
            ext.push((
                119.0 + i as f64 * 0.0002,
                25.4 + if i % 2 == 0 { 0.0 } else { 0.00001 },
            ));
        }
        ext.extend([
            (119.01, 25.4),
            (119.01, 25.41),
            (119.0, 25.41),
            (119.0, 25.4),
        ]);
        let big = MultiPolygon(vec![geo_types::Polygon::new(ext.into(), vec![])]);
        let tiny = MultiPolygon(vec![
            polygon![(x: 119.0, y: 25.4), (x: 119.00001, y: 25.4), (x: 119.00001, y: 25.40001)],
        ]);
        let l = PolygonLayer::build(&[&big, &tiny], 5, 1.0);
        assert_eq!(l.len(), 2);
        let z5 = l.band(5).unwrap();
        // At z5 the square spans ~ 0.01/360*32*4096 ≈ 3.6 px: dropped.
        assert!(z5[0].is_none() && z5[1].is_none());
        let z12 = &l.band(12).unwrap()[0].as_ref().unwrap().shape;
        let z16 = &l.band(16).unwrap()[0].as_ref().unwrap().shape;
        assert!(
            z12[0][0].len() < z16[0][0].len(),
            "{} {}",
            z12[0][0].len(),
            z16[0][0].len()
        );
        assert!(Arc::ptr_eq(
            &l.band(18).unwrap()[0].as_ref().unwrap().shape,
            z16
        ));
        assert!(l.band(4).is_none());
        assert!(
            l.band(15).unwrap()[1].is_none(),
            "1 m triangle too small at z15"
        );
        assert!(
            l.band(16).unwrap()[1].is_some(),
            "the finest band keeps everything"
        );
    }
}
