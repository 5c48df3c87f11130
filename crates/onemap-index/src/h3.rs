//! H3: an event counts in the cell that contains its position at the
//! resolution asked for (`latLngToCell` there). H3 cells do not nest
//! exactly: the parent of a point's fine cell is, near a coarse cell's
//! edge, a neighbour of the coarse cell holding the point (about 6 % of
//! events at resolution 8 from resolution 12), so no resolution is derived
//! from another. Each point carries its cells at [`FINE_RESOLUTION`] and at
//! [`TILE_RESOLUTIONS`], and knows where its cell at 11 is not the parent
//! of its fine one (see `cells.rs`).

use crate::cells::CellAt;
use crate::points::PointSet;
use crate::IndexError;
use h3o::{CellIndex, LatLng, Resolution};

/// The finest resolution every point's cell is stored at (about 300 m² per
/// cell): what features name as their cell.
pub const FINE_RESOLUTION: u8 = 12;
pub(crate) const FINE: Resolution = Resolution::Twelve;

/// The resolutions whose cells every point carries: those hexagon tiles
/// are drawn at (the zoom rules of onemap-tiles use 5 to 10), which event
/// aggregates ask for most.
pub const TILE_RESOLUTIONS: std::ops::RangeInclusive<u8> = 5..=10;

/// The resolutions event aggregates may be grouped by.
pub const STATS_RESOLUTIONS: std::ops::RangeInclusive<u8> = 5..=12;

/// The resolutions a hot-spot place may be.
pub const HOTSPOT_RESOLUTIONS: std::ops::RangeInclusive<u8> = 11..=12;

/// The cell of a valid lon/lat at `res`.
pub(crate) fn cell_at(lon: f64, lat: f64, res: Resolution) -> CellIndex {
    LatLng::new(lat, lon)
        .expect("coordinates are validated before they reach H3")
        .to_cell(res)
}

/// `res` as an H3 resolution, if it lies in `allowed`.
pub(crate) fn resolution(
    res: u8,
    allowed: std::ops::RangeInclusive<u8>,
    what: &'static str,
) -> Result<Resolution, IndexError> {
    let err = || IndexError::H3Resolution {
        res,
        min: *allowed.start(),
        max: *allowed.end(),
        what,
    };
    if !allowed.contains(&res) {
        return Err(err());
    }
    Resolution::try_from(res).map_err(|_| err())
}

impl PointSet {
    /// Where the cells of this set's points at `res` come from.
    pub(crate) fn cells_at(&self, res: Resolution) -> CellAt<'_> {
        if res == FINE {
            return CellAt::Fine(&self.cells.fine);
        }
        let tile = TILE_RESOLUTIONS.contains(&u8::from(res));
        CellAt::Parent {
            res,
            fine: &self.cells.fine,
            not_parent: &self.cells.not_parent,
            stacks: tile.then_some((&self.cells.stack[..], &self.cells.stacks)),
            lon: &self.lon,
            lat: &self.lat,
        }
    }
}

/// The centre of a cell as (lon, lat).
pub(crate) fn center(cell: CellIndex) -> (f64, f64) {
    let ll = LatLng::from(cell);
    (ll.lng(), ll.lat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_cells() {
        // The h3-js README example: latLngToCell(37.3615593, -122.0553238, 7)
        // is '87283472bffffff', centred at (37.35171820183272, -122.05032565263946).
        let c = cell_at(-122.0553238, 37.3615593, Resolution::Seven);
        assert_eq!(c.to_string(), "87283472bffffff");
        let (lon, lat) = center(c);
        assert!((lat - 37.351_718_201_832_72).abs() < 1e-9, "{lat}");
        assert!((lon + 122.050_325_652_639_46).abs() < 1e-9, "{lon}");
        // Snowflake's H3_LATLNG_TO_CELL documentation: the Brandenburg Gate
        // (52.516262, 13.377704) at resolution 8 is 613036919424548863
        // (881F1D4887FFFFF); its H3_CELL_TO_PARENT at 7 is 608533319805566975.
        let gate = cell_at(13.377704, 52.516262, Resolution::Eight);
        assert_eq!(u64::from(gate), 613_036_919_424_548_863);
        assert_eq!(gate.to_string(), "881f1d4887fffff");
        assert_eq!(
            u64::from(gate.parent(Resolution::Seven).unwrap()),
            608_533_319_805_566_975
        );
        // Kusto's geo_h3cell_parent documentation: the parent of
        // 862a1072fffffff is 852a1073fffffff, and at resolution 1 812a3ffffffffff.
        let k: CellIndex = "862a1072fffffff".parse().unwrap();
        assert_eq!(
            k.parent(Resolution::Five).unwrap().to_string(),
            "852a1073fffffff"
        );
        assert_eq!(
            k.parent(Resolution::One).unwrap().to_string(),
            "812a3ffffffffff"
        );
        // The h3r documentation's resolution-12 examples (Melbourne): the
        // cells of (-37.820197, 144.983324) and (-37.818476, 144.967354) are
        // the two it passes to cellToLatLng, 8cbe63562a54bff and 8cbe635631103ff.
        assert_eq!(
            cell_at(144.983324, -37.820197, FINE).to_string(),
            "8cbe63562a54bff"
        );
        assert_eq!(
            cell_at(144.967354, -37.818476, FINE).to_string(),
            "8cbe635631103ff"
        );
        // H3 cells do not nest exactly: the parent of a point's fine cell is
        // the cell holding the point, or (near a cell edge, as here) a
        // neighbour, which is why no resolution is derived from another.
        let f = cell_at(-122.0553238, 37.3615593, FINE);
        assert_eq!(f.resolution(), Resolution::Twelve);
        let parent = f.parent(Resolution::Seven).unwrap();
        assert_eq!(parent.to_string(), "87283470dffffff");
        assert_eq!(parent.grid_distance(c).unwrap(), 1);
        let inner = cell_at(lon, lat, FINE);
        assert_eq!(inner.parent(Resolution::Seven).unwrap(), c);
    }

    #[test]
    fn resolution_bounds() {
        assert!(resolution(5, STATS_RESOLUTIONS, "stats").is_ok());
        assert!(resolution(12, STATS_RESOLUTIONS, "stats").is_ok());
        let e = resolution(4, STATS_RESOLUTIONS, "stats").unwrap_err();
        assert!(e.to_string().contains("5..=12"), "{e}");
        assert!(resolution(13, STATS_RESOLUTIONS, "stats").is_err());
        assert!(resolution(10, HOTSPOT_RESOLUTIONS, "hot spots").is_err());
    }
}
