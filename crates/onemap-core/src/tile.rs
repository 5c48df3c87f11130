//! Web Mercator (EPSG:3857) and XYZ tile math.
//!
//! Tiles follow the XYZ scheme: x grows east from the antimeridian, y grows
//! south from the top edge at about 85.0511° N.

use crate::{BBox, CoreError};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;

/// Radius of the Web Mercator sphere, metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Web Mercator square, metres.
pub const ORIGIN_SHIFT: f64 = PI * EARTH_RADIUS;
/// The latitude where the Web Mercator square ends.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// The deepest zoom a [`TileCoord`] may have.
pub const MAX_ZOOM: u8 = 24;

/// Longitude/latitude (degrees) to Web Mercator metres. Latitude is clamped
/// to ±[`MAX_LAT`].
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = lon.to_radians() * EARTH_RADIUS;
    let y = lat.to_radians().tan().asinh() * EARTH_RADIUS;
    (x, y)
}

/// Web Mercator metres to longitude/latitude (degrees).
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (y / EARTH_RADIUS).sinh().atan().to_degrees();
    (lon, lat)
}

/// Fractional tile position of a lon/lat at zoom `z` (x east, y south).
pub fn lonlat_to_tile_f(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let (mx, my) = lonlat_to_mercator(lon, lat);
    mercator_to_tile_f(mx, my, z)
}

/// Fractional tile position of Web Mercator metres at zoom `z`.
pub fn mercator_to_tile_f(mx: f64, my: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let tx = (mx + ORIGIN_SHIFT) / (2.0 * ORIGIN_SHIFT) * n;
    let ty = (ORIGIN_SHIFT - my) / (2.0 * ORIGIN_SHIFT) * n;
    (tx, ty)
}

/// A validated XYZ tile: `z ≤ MAX_ZOOM`, `x, y < 2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TileCoord {
    z: u8,
    x: u32,
    y: u32,
}

impl TileCoord {
    pub fn new(z: u32, x: u32, y: u32) -> Result<Self, CoreError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(CoreError::InvalidTile {
                z,
                x,
                y,
                reason: format!("zoom must be at most {MAX_ZOOM}"),
            });
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(CoreError::InvalidTile {
                z,
                x,
                y,
                reason: format!("x and y must be in 0..{n} at zoom {z}"),
            });
        }
        Ok(Self { z: z as u8, x, y })
    }

    /// The tile containing a lon/lat at zoom `z` (points on the east or south
    /// edge of the world are clamped into the last tile).
    pub fn containing(lon: f64, lat: f64, z: u8) -> Self {
        let z = z.min(MAX_ZOOM);
        let (tx, ty) = lonlat_to_tile_f(lon, lat, z);
        let max = (1u64 << z) as f64 - 1.0;
        Self {
            z,
            x: tx.floor().clamp(0.0, max) as u32,
            y: ty.floor().clamp(0.0, max) as u32,
        }
    }

    pub fn z(self) -> u8 {
        self.z
    }
    pub fn x(self) -> u32 {
        self.x
    }
    pub fn y(self) -> u32 {
        self.y
    }

    /// Bounds in Web Mercator metres: (min_x, min_y, max_x, max_y).
    pub fn mercator_bounds(self) -> (f64, f64, f64, f64) {
        let size = 2.0 * ORIGIN_SHIFT / f64::from(1u32 << self.z);
        let min_x = -ORIGIN_SHIFT + f64::from(self.x) * size;
        let max_y = ORIGIN_SHIFT - f64::from(self.y) * size;
        (min_x, max_y - size, min_x + size, max_y)
    }

    /// Bounds in lon/lat degrees.
    pub fn bbox(self) -> BBox {
        let (x0, y0, x1, y1) = self.mercator_bounds();
        let (min_lon, min_lat) = mercator_to_lonlat(x0, y0);
        let (max_lon, max_lat) = mercator_to_lonlat(x1, y1);
        BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        }
    }

    pub fn parent(self) -> Option<Self> {
        (self.z > 0).then(|| Self {
            z: self.z - 1,
            x: self.x / 2,
            y: self.y / 2,
        })
    }

    pub fn children(self) -> Option<[Self; 4]> {
        if self.z >= MAX_ZOOM {
            return None;
        }
        let (z, x, y) = (self.z + 1, self.x * 2, self.y * 2);
        Some([
            Self { z, x, y },
            Self { z, x: x + 1, y },
            Self { z, x, y: y + 1 },
            Self {
                z,
                x: x + 1,
                y: y + 1,
            },
        ])
    }
}

impl fmt::Display for TileCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// The inclusive x and y ranges of the tiles at zoom `z` that a lon/lat box touches.
pub fn tile_range(
    bbox: &BBox,
    z: u8,
) -> (std::ops::RangeInclusive<u32>, std::ops::RangeInclusive<u32>) {
    let a = TileCoord::containing(bbox.min_lon, bbox.max_lat, z);
    let b = TileCoord::containing(bbox.max_lon, bbox.min_lat, z);
    (a.x..=b.x, a.y..=b.y)
}

/// Every tile at zoom `z` that a lon/lat box touches, row by row.
pub fn tiles_covering(bbox: &BBox, z: u8) -> impl Iterator<Item = TileCoord> {
    let (xs, ys) = tile_range(bbox, z);
    ys.flat_map(move |y| xs.clone().map(move |x| TileCoord { z, x, y }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() <= eps
    }

    #[test]
    fn mercator_known_values() {
        // EPSG:3857 corners and a published reference point (EPSG.io, pyproj).
        let (x, y) = lonlat_to_mercator(180.0, MAX_LAT);
        assert!(close(x, 20_037_508.342_789_244, 1e-6));
        assert!(close(y, 20_037_508.342_789_244, 1e-3));
        let (x, y) = lonlat_to_mercator(0.0, 0.0);
        assert!(close(x, 0.0, 1e-9) && close(y, 0.0, 1e-9));
        // Putian city centre; reference computed independently (Python, math module).
        let (x, y) = lonlat_to_mercator(119.0, 25.43);
        assert!(close(x, 13_247_019.404_399_555, 1e-6), "{x}");
        assert!(close(y, 2_928_653.566_895_016, 1e-6), "{y}");
        let (lon, lat) = mercator_to_lonlat(x, y);
        assert!(close(lon, 119.0, 1e-9) && close(lat, 25.43, 1e-9));
    }

    #[test]
    fn tiles_known_values() {
        // From the OpenStreetMap wiki "Slippy map tilenames".
        assert_eq!(
            TileCoord::containing(13.4, 52.52, 10).to_string(),
            "10/550/335"
        );
        assert_eq!(TileCoord::containing(0.0, 0.0, 1).to_string(), "1/1/1");
        assert_eq!(
            TileCoord::containing(-180.0, MAX_LAT, 5).to_string(),
            "5/0/0"
        );
        assert_eq!(
            TileCoord::containing(180.0, -MAX_LAT, 3).to_string(),
            "3/7/7"
        );
        assert_eq!(
            TileCoord::containing(119.0, 25.43, 12).to_string(),
            "12/3401/1748"
        );
    }

    #[test]
    fn tile_bounds_and_validation() {
        let t = TileCoord::new(0, 0, 0).unwrap();
        let (x0, y0, x1, y1) = t.mercator_bounds();
        assert!(close(x0, -ORIGIN_SHIFT, 1e-6) && close(y1, ORIGIN_SHIFT, 1e-6));
        assert!(close(x1, ORIGIN_SHIFT, 1e-6) && close(y0, -ORIGIN_SHIFT, 1e-6));
        let b = TileCoord::new(1, 1, 0).unwrap().bbox();
        assert!(close(b.min_lon, 0.0, 1e-9) && close(b.max_lon, 180.0, 1e-9));
        assert!(close(b.min_lat, 0.0, 1e-9) && close(b.max_lat, MAX_LAT, 1e-9));
        assert!(TileCoord::new(2, 4, 0).is_err());
        assert!(TileCoord::new(25, 0, 0).is_err());
        let t = TileCoord::new(3, 5, 2).unwrap();
        for c in t.children().unwrap() {
            assert_eq!(c.parent(), Some(t));
        }
    }

    #[test]
    fn covering_matches_containing() {
        let bbox = BBox::new(118.45, 24.98, 119.65, 25.77).unwrap();
        let tiles: Vec<_> = tiles_covering(&bbox, 10).collect();
        let (xs, ys) = tile_range(&bbox, 10);
        assert_eq!(tiles.len(), xs.clone().count() * ys.clone().count());
        assert!(tiles.contains(&TileCoord::containing(119.0, 25.43, 10)));
        for t in &tiles {
            assert!(t.bbox().intersects(&bbox));
        }
    }

    /// Known values, worked out by hand from the slippy-map formula
    /// x = ⌊(lon + 180) / 360 · 2^z⌋, y = ⌊(1 − ln(tan φ + sec φ) / π) / 2 · 2^z⌋
    /// for the Putian extent (118.45, 24.98)–(119.65, 25.77):
    /// - z10 (2^z = 1024): x from 298.45 / 360 · 1024 = 848.92 to
    ///   299.65 / 360 · 1024 = 852.34; y from 25.77° (ln(0.48277 + 1.11044) =
    ///   0.46575, so 0.42587 · 1024 = 436.09) to 24.98° (ln(0.46588 + 1.10320)
    ///   = 0.45049, so 0.42830 · 1024 = 438.58): x 848..=852, y 436..=438;
    /// - z12 (×4): x 3395.70 to 3409.35, y 1744.38 to 1754.33:
    ///   x 3395..=3409, y 1744..=1754.
    #[test]
    fn covering_the_putian_extent_gives_known_tiles() {
        let bbox = BBox::new(118.45, 24.98, 119.65, 25.77).unwrap();
        assert_eq!(tile_range(&bbox, 10), (848..=852, 436..=438));
        assert_eq!(tiles_covering(&bbox, 10).count(), 5 * 3);
        let first = tiles_covering(&bbox, 10).next();
        assert_eq!(
            first,
            Some(TileCoord {
                z: 10,
                x: 848,
                y: 436
            })
        );
        assert_eq!(tile_range(&bbox, 12), (3395..=3409, 1744..=1754));
        assert_eq!(tiles_covering(&bbox, 12).count(), 15 * 11);
        let last = tiles_covering(&bbox, 12).last();
        assert_eq!(
            last,
            Some(TileCoord {
                z: 12,
                x: 3409,
                y: 1754
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn point_is_inside_its_tile(lon in -179.99f64..179.99, lat in -85.0f64..85.0, z in 0u8..20) {
            let t = TileCoord::containing(lon, lat, z);
            let b = t.bbox();
            proptest::prop_assert!(lon >= b.min_lon - 1e-9 && lon <= b.max_lon + 1e-9);
            proptest::prop_assert!(lat >= b.min_lat - 1e-9 && lat <= b.max_lat + 1e-9);
        }
    }
}
