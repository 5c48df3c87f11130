//! Feature ids every client reads exactly.
//!
//! MVT feature ids are `uint64`, but JavaScript decoders (`@mapbox/vector-tile`,
//! so MapLibre) read them, and integer attributes, into doubles: above 2^53
//! neighbouring integers share one double, so 513 units (18-digit ids) read as
//! 55 distinct ids and hover, feature-state and `queryRenderedFeatures` pick
//! the wrong feature. So in tiles:
//!
//! - an area (every level, and its label) carries its id as the string
//!   property `code`, the key styles promote (`promoteId`) and clients look
//!   areas up with (`/api/areas/{code}`); an event carries its unit's id as
//!   the string `unit_id`; a hexagon its cell as the string `h3`;
//! - every feature id is below 2^53: an area's is [`area_feature_id`] (its
//!   level and its position in that level, so an area and its label share
//!   it), a hexagon's is [`hexagon_feature_id`] (its cell without the bits
//!   every cell drawn has alike), and a point's is its own id (events,
//!   ships' MMSIs, heritage, enterprises, schools, homesteads: all small).
//!
//! The same rule as the JSON answers of the API and of `onemap query`: an id
//! is its decimal digits, as a string wherever a number could round it.

use h3o::{CellIndex, Resolution};
use onemap_core::Level;

pub use onemap_index::MAX_SAFE_INTEGER;

/// The feature id of the area at `position` (0-based, in id order) in its
/// level, in the area layers and in `labels`: the level's depth (0 for
/// districts … 4 for units) times 2^32, plus the position. Unique across the
/// levels `labels` mixes, and far below 2^53.
pub fn area_feature_id(level: Level, position: u32) -> u64 {
    ((level.depth() as u64) << 32) | u64::from(position)
}

/// The feature id of an H3 hexagon (resolutions 0–10, all the tiles draw):
/// its 64-bit index shifted right by 15 bits and cut to 41 bits. That drops
/// the mode and reserved bits (the same for every cell) and the digits of
/// resolutions 11–15 (all 7 for a cell of resolution 10 or coarser), and
/// keeps its resolution, base cell and ten digits: one id per cell, below
/// 2^41. From the `h3` property: `(BigInt('0x' + h3) >> 15n) & (2n ** 41n - 1n)`.
pub fn hexagon_feature_id(cell: CellIndex) -> u64 {
    debug_assert!(cell.resolution() <= Resolution::Ten, "{cell}");
    (u64::from(cell) >> 15) & ((1 << 41) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn area_ids_are_distinct_across_levels_and_exact() {
        let mut seen = HashSet::new();
        for level in Level::ALL {
            for pos in [0, 1, 129_999, u32::MAX] {
                let id = area_feature_id(level, pos);
                assert!(id <= MAX_SAFE_INTEGER);
                assert!(seen.insert(id), "{level:?} {pos}");
            }
        }
        assert_eq!(area_feature_id(Level::District, 3), 3);
        assert_eq!(area_feature_id(Level::Unit, 7), (4 << 32) + 7);
    }

    #[test]
    fn hexagon_ids_are_distinct_and_exact() {
        // Cells of resolutions 0–10 around one point, with children of the
        // coarser ones at resolution 10: as many ids as cells.
        let ll = h3o::LatLng::new(25.43, 119.0).unwrap();
        let mut cells = HashSet::new();
        for r in 0..=10u8 {
            let res = Resolution::try_from(r).unwrap();
            for cell in ll.to_cell(res).grid_disk::<Vec<_>>(3) {
                cells.insert(cell);
                cells.extend(cell.children(Resolution::Ten).take(50));
            }
        }
        let ids: HashSet<u64> = cells.iter().map(|&c| hexagon_feature_id(c)).collect();
        assert!(cells.len() > 1000);
        assert_eq!(ids.len(), cells.len());
        assert!(ids.iter().all(|&id| id <= MAX_SAFE_INTEGER));
        // As a client computes it from the cell's text.
        let cell: CellIndex = "8a41a6399b0ffff".parse().unwrap();
        let from_text =
            (u64::from_str_radix("8a41a6399b0ffff", 16).unwrap() >> 15) & ((1 << 41) - 1);
        assert_eq!(hexagon_feature_id(cell), from_text);
    }
}
