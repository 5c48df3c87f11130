//! GeoPackage point geometry blobs (the "GP" header and a WKB point), the
//! only geometry the embedded store writes.

/// A point: the "GP" header (version 0, little-endian, no envelope, SRS
/// 4326) and the point as WKB.
pub(super) fn gpkg_point(lon: f64, lat: f64) -> Vec<u8> {
    let mut b = Vec::with_capacity(29);
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    b.push(0b0000_0001); // little-endian header, no envelope, not empty
    b.extend_from_slice(&4326i32.to_le_bytes());
    b.push(1); // WKB little-endian
    b.extend_from_slice(&1u32.to_le_bytes()); // Point
    b.extend_from_slice(&lon.to_le_bytes());
    b.extend_from_slice(&lat.to_le_bytes());
    b
}

/// The point of a blob [`gpkg_point`] wrote; `None` for anything else.
pub(super) fn read_point(b: &[u8]) -> Option<(f64, f64)> {
    if b.len() != 29 || &b[..2] != b"GP" || b[3] != 1 || b[8] != 1 {
        return None;
    }
    if u32::from_le_bytes(b[9..13].try_into().ok()?) != 1 {
        return None;
    }
    let lon = f64::from_le_bytes(b[13..21].try_into().ok()?);
    let lat = f64::from_le_bytes(b[21..29].try_into().ok()?);
    Some((lon, lat))
}

#[cfg(test)]
mod tests {
    #[test]
    fn points_round_trip() {
        let p = super::gpkg_point(119.25, 25.5);
        assert_eq!(super::read_point(&p), Some((119.25, 25.5)));
        assert_eq!(super::read_point(&p[..28]), None);
    }
}
