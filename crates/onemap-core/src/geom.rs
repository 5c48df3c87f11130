use crate::CoreError;
use geo_types::{LineString, Polygon};
use serde::{Deserialize, Serialize};

/// A WGS84 position, validated: finite, longitude in [-180, 180], latitude in [-90, 90].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LonLat {
    lon: f64,
    lat: f64,
}

impl LonLat {
    pub fn new(lon: f64, lat: f64) -> Result<Self, CoreError> {
        if lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat)
        {
            Ok(Self { lon, lat })
        } else {
            Err(CoreError::InvalidCoordinate { lon, lat })
        }
    }
    pub fn lon(self) -> f64 {
        self.lon
    }
    pub fn lat(self) -> f64 {
        self.lat
    }
}

/// A validated lon/lat box: finite, within WGS84 range, min ≤ max on both axes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    pub fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Result<Self, CoreError> {
        let err = |reason| CoreError::InvalidBBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
            reason,
        };
        if ![min_lon, min_lat, max_lon, max_lat]
            .iter()
            .all(|v| v.is_finite())
        {
            return Err(err("coordinates must be finite numbers"));
        }
        if LonLat::new(min_lon, min_lat).is_err() || LonLat::new(max_lon, max_lat).is_err() {
            return Err(err("corners must be valid WGS84 coordinates"));
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err(err("min must not exceed max (the box is inverted)"));
        }
        Ok(Self {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// Parses `min_lon,min_lat,max_lon,max_lat` (the same as `FromStr`):
    /// text that is not four numbers is [`CoreError::BadBBox`], four
    /// numbers that are no valid box [`CoreError::InvalidBBox`]. Any size is
    /// a box; how large a box a query may cover is the query's rule
    /// (`onemap_index::MAX_BBOX_DEGREES`).
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let nums: Option<Vec<f64>> = s.split(',').map(|p| p.trim().parse().ok()).collect();
        match nums.as_deref() {
            Some(&[a, b, c, d]) => Self::new(a, b, c, d),
            _ => Err(CoreError::BadBBox(crate::error::excerpt(s))),
        }
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }

    pub fn intersects(&self, other: &BBox) -> bool {
        self.min_lon <= other.max_lon
            && other.min_lon <= self.max_lon
            && self.min_lat <= other.max_lat
            && other.min_lat <= self.max_lat
    }

    pub fn width(&self) -> f64 {
        self.max_lon - self.min_lon
    }
    pub fn height(&self) -> f64 {
        self.max_lat - self.min_lat
    }
}

impl std::str::FromStr for BBox {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        BBox::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lonlat_rejects_nan_and_out_of_range() {
        assert!(LonLat::new(f64::NAN, 0.0).is_err());
        assert!(LonLat::new(0.0, f64::INFINITY).is_err());
        assert!(LonLat::new(180.1, 0.0).is_err());
        assert!(LonLat::new(0.0, -90.5).is_err());
        assert!(LonLat::new(119.0, 25.4).is_ok());
    }

    #[test]
    fn bbox_rejects_inverted_and_parses() {
        assert!(BBox::new(1.0, 0.0, 0.0, 1.0).is_err());
        let b = BBox::parse("118.9, 25.3,119.1,25.5").unwrap();
        assert_eq!(b.min_lon, 118.9);
        assert!(b.contains(119.0, 25.4));
        assert!(BBox::parse("1,2,3").is_err());
        assert!(BBox::parse("a,b,c,d").is_err());
    }

    #[test]
    fn bbox_text_and_values_fail_apart() {
        let b: BBox = " 119 , 25,119.1,25.1 ".parse().unwrap();
        assert_eq!(b, BBox::new(119.0, 25.0, 119.1, 25.1).unwrap());
        // Any size is a box (a query's limit is the query's business).
        assert!("-180,-85,180,85".parse::<BBox>().is_ok());
        for bad in [
            "119,25,119.1",
            "119,25,119.1,25.1,3",
            "a,b,c,d",
            "",
            "119;25;119.1;25.1",
        ] {
            assert_eq!(
                bad.parse::<BBox>(),
                Err(CoreError::BadBBox(bad.into())),
                "{bad}"
            );
        }
        for (bad, why) in [
            ("119.1,25,119,25.1", "inverted"),
            ("190,25,191,25.1", "WGS84"),
            ("NaN,25,119,25.1", "finite"),
        ] {
            let e = bad.parse::<BBox>().unwrap_err();
            assert!(matches!(e, CoreError::InvalidBBox { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
        assert_eq!(
            "1,2,3".parse::<BBox>().unwrap_err().to_string(),
            "invalid bounding box '1,2,3': expected four comma-separated numbers \
             min_lon,min_lat,max_lon,max_lat"
        );
    }
}

/// Parses a polygon's outline, `lon lat,lon lat,…` (as in WKT) or
/// `lon,lat;lon,lat;…`, at least 3 points; the ring is closed for you.
/// Only the text is checked here: the queries check the shape.
pub fn parse_polygon(s: &str) -> Result<Polygon<f64>, CoreError> {
    let bad = || CoreError::BadPolygon(crate::error::excerpt(s));
    let (pairs, sep): (Vec<&str>, char) = if s.contains(';') {
        (s.split(';').collect(), ',')
    } else {
        (s.split(',').collect(), ' ')
    };
    let coords = pairs
        .iter()
        .map(|pair| {
            let mut it = pair.trim().split(sep).filter(|t| !t.is_empty());
            let lon = it.next()?.trim().parse::<f64>().ok()?;
            let lat = it.next()?.trim().parse::<f64>().ok()?;
            it.next().is_none().then_some((lon, lat))
        })
        .collect::<Option<Vec<(f64, f64)>>>()
        .ok_or_else(bad)?;
    if coords.len() < 3 {
        return Err(bad());
    }
    Ok(Polygon::new(LineString::from(coords), vec![]))
}

#[cfg(test)]
mod polygon_text_tests {
    use super::*;

    #[test]
    fn polygons_parse() {
        let p = parse_polygon("119 25,119.1 25,119.1 25.1").unwrap();
        assert_eq!(p.exterior().0.len(), 4); // closed by geo-types
        let q = parse_polygon("119,25;119.1,25;119.1,25.1").unwrap();
        assert_eq!(p, q);
        assert!(parse_polygon("119 25,119.1").is_err());
        assert!(parse_polygon("a b,c d,e f").is_err());
        assert!(parse_polygon("119 25 3,119.1 25,119.1 25.1").is_err());
    }

    #[test]
    fn polygon_text_errors() {
        for bad in [
            "",
            "119 25",
            "119 25,119.1 25",
            "119 25,x 25,119.1 25.1",
            "119,25;119.1",
        ] {
            assert_eq!(
                parse_polygon(bad),
                Err(CoreError::BadPolygon(bad.into())),
                "{bad}"
            );
        }
        // Text that parses is a polygon here; whether its ring is a valid
        // shape (three distinct points, coordinates in range) is the query's
        // check.
        assert!(parse_polygon("119 25,119 25,119 25").is_ok());
        assert!(parse_polygon("200 25,201 25,201 26").is_ok());
    }
}
