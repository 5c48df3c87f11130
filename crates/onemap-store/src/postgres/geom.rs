//! Geometry to and from PostGIS through geozero's EWKB support.

use geo_types::{Coord, Geometry, LineString, MultiPolygon};
use geozero::error::Result as GzResult;
use geozero::{GeomProcessor, GeozeroGeometry};

/// A geometry of ours on its way to a `geometry(…, 4326)` column: encoded
/// by geozero as EWKB with SRID 4326 (geozero's own `geo_types` support
/// writes no SRID, which a typed column refuses), without cloning it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Geom4326<'a> {
    Point(f64, f64),
    MultiPolygon(&'a MultiPolygon<f64>),
}

/// The value to bind for a geometry column.
pub(crate) fn encode(g: Geom4326<'_>) -> geozero::wkb::Encode<Geom4326<'_>> {
    geozero::wkb::Encode(g)
}

/// What a geometry column is read into.
pub(crate) type Decoded = geozero::wkb::Decode<Geometry<f64>>;

impl GeozeroGeometry for Geom4326<'_> {
    fn process_geom<P: GeomProcessor>(&self, p: &mut P) -> GzResult<()> {
        match self {
            Geom4326::Point(x, y) => {
                p.point_begin(0)?;
                coord(p, Coord { x: *x, y: *y }, 0)?;
                p.point_end(0)
            }
            Geom4326::MultiPolygon(mp) => {
                p.multipolygon_begin(mp.0.len(), 0)?;
                for (i, poly) in mp.0.iter().enumerate() {
                    p.polygon_begin(false, poly.interiors().len() + 1, i)?;
                    ring(p, poly.exterior(), 0)?;
                    for (j, r) in poly.interiors().iter().enumerate() {
                        ring(p, r, j + 1)?;
                    }
                    p.polygon_end(false, i)?;
                }
                p.multipolygon_end(0)
            }
        }
    }

    fn srid(&self) -> Option<i32> {
        Some(4326)
    }
}

fn coord<P: GeomProcessor>(p: &mut P, c: Coord<f64>, idx: usize) -> GzResult<()> {
    if p.multi_dim() {
        p.coordinate(c.x, c.y, None, None, None, None, idx)
    } else {
        p.xy(c.x, c.y, idx)
    }
}

fn ring<P: GeomProcessor>(p: &mut P, r: &LineString<f64>, idx: usize) -> GzResult<()> {
    p.linestring_begin(false, r.0.len(), idx)?;
    for (i, c) in r.0.iter().enumerate() {
        coord(p, *c, i)?;
    }
    p.linestring_end(false, idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;
    use geozero::wkb::{FromWkb, WkbDialect};

    fn ewkb(g: Geom4326<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = geozero::wkb::WkbWriter::with_opts(
            &mut out,
            WkbDialect::Ewkb,
            g.dims(),
            g.srid(),
            Vec::new(),
        );
        g.process_geom(&mut w).unwrap();
        out
    }

    #[test]
    fn encodes_ewkb_with_srid_and_decodes_back_exactly() {
        let bytes = ewkb(Geom4326::Point(119.123_456_789_012_34, 25.1));
        // Little endian, type Point with the SRID flag, SRID 4326.
        assert_eq!(&bytes[..9], &[1, 1, 0, 0, 0x20, 0xE6, 0x10, 0, 0]);
        let back = Geometry::from_wkb(&mut bytes.as_slice(), WkbDialect::Ewkb).unwrap();
        assert_eq!(
            back,
            Geometry::Point(geo_types::Point::new(119.123_456_789_012_34, 25.1))
        );

        let outer =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let holed = geo_types::Polygon::new(
            outer.exterior().clone(),
            vec![LineString::from(vec![
                (0.5, 0.2),
                (0.8, 0.2),
                (0.8, 0.5),
                (0.5, 0.2),
            ])],
        );
        let mp = MultiPolygon(vec![holed, outer]);
        let bytes = ewkb(Geom4326::MultiPolygon(&mp));
        let back = Geometry::from_wkb(&mut bytes.as_slice(), WkbDialect::Ewkb).unwrap();
        assert_eq!(back, Geometry::MultiPolygon(mp));
    }
}
