//! A feature's geometry decoded: a point, or a (multi)polygon whose ring
//! ends are checked against its coordinates.

use super::row::{msg, FeatError};
use flatgeobuf::{Feature, Geometry};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};

pub(super) fn point(feature: &Feature) -> Result<(f64, f64), FeatError> {
    let xy = feature
        .geometry()
        .and_then(|g| g.xy())
        .ok_or_else(|| msg("missing point geometry"))?;
    if xy.len() != 2 {
        return Err(msg(format!(
            "a point has 2 coordinate values, this one {}",
            xy.len()
        )));
    }
    Ok((xy.get(0), xy.get(1)))
}

pub(super) fn multipolygon(feature: &Feature) -> Result<MultiPolygon<f64>, FeatError> {
    let g = feature
        .geometry()
        .ok_or_else(|| msg("missing polygon geometry"))?;
    match g.parts() {
        Some(parts) => parts
            .iter()
            .map(|p| polygon(&p))
            .collect::<Result<_, _>>()
            .map(MultiPolygon),
        // A plain Polygon, or an empty geometry.
        None if g.xy().is_some_and(|xy| !xy.is_empty()) => Ok(MultiPolygon(vec![polygon(&g)?])),
        None => Ok(MultiPolygon(Vec::new())),
    }
}

fn polygon(g: &Geometry) -> Result<Polygon<f64>, FeatError> {
    let xy = g.xy().map(|v| v.bytes()).unwrap_or_default();
    // 16 bytes per coordinate.
    if !xy.chunks_exact(16).remainder().is_empty() {
        return Err(msg("a polygon has an odd number of coordinate values"));
    }
    let f = |b: &[u8]| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let coords: Vec<Coord<f64>> = xy
        .chunks_exact(16)
        .map(|c| Coord {
            x: f(&c[..8]),
            y: f(&c[8..]),
        })
        .collect();
    let n = coords.len();
    let mut rings = Vec::new();
    match g.ends().filter(|e| !e.is_empty()) {
        None => rings.push(LineString(coords)),
        Some(ends) => {
            let mut start = 0;
            for end in ends.iter() {
                let end = end as usize;
                if end < start || end > n {
                    return Err(msg(format!(
                        "polygon ring ends {:?} do not fit its {n} coordinates",
                        ends.iter().collect::<Vec<_>>()
                    )));
                }
                rings.push(LineString(coords[start..end].to_vec()));
                start = end;
            }
            if start != n {
                return Err(msg(format!(
                    "polygon ring ends {:?} leave coordinates out of its {n}",
                    ends.iter().collect::<Vec<_>>()
                )));
            }
        }
    }
    let mut rings = rings.into_iter();
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Ok(Polygon::new(exterior, rings.collect()))
}

#[cfg(test)]
mod tests {
    use super::super::read_homesteads;
    use super::*;
    use crate::fgb::fixtures::square;
    use flatgeobuf::{ColumnType, GeometryType};
    use onemap_core::Homestead;
    use std::fs;

    #[test]
    fn polygon_layers_accept_plain_polygons() {
        // A Polygon-typed file (as some tools write) reads as one-part MultiPolygons.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("homesteads.fgb");
        let mut w = flatgeobuf::FgbWriter::create_with_options(
            "homesteads",
            GeometryType::Polygon,
            flatgeobuf::FgbWriterOptions {
                crs: flatgeobuf::FgbCrs {
                    code: 4326,
                    ..Default::default()
                },
                detect_type: false,
                promote_to_multi: false,
                ..Default::default()
            },
        )
        .unwrap();
        w.add_column("id", ColumnType::UInt, |_, _| {});
        w.add_column("area_m2", ColumnType::Float, |_, _| {});
        w.add_column("status", ColumnType::String, |_, _| {});
        let poly = square(119.0, 25.4, 0.001);
        w.add_feature_geom(geo_types::Geometry::Polygon(poly.clone()), |f| {
            use geozero::{ColumnValue, PropertyProcessor};
            f.property(0, "id", &ColumnValue::UInt(5)).unwrap();
            f.property(1, "area_m2", &ColumnValue::Float(12.5)).unwrap();
            f.property(2, "status", &ColumnValue::String("demolishing"))
                .unwrap();
        })
        .unwrap();
        w.write(std::io::BufWriter::new(fs::File::create(&path).unwrap()))
            .unwrap();
        let h = read_homesteads(&path).unwrap();
        assert_eq!(
            h,
            vec![Homestead {
                id: 5,
                geometry: MultiPolygon(vec![poly]),
                area_m2: 12.5,
                status: onemap_core::HomesteadStatus::Demolishing,
            }]
        );
    }
}
