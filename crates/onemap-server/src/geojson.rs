//! Index answers as GeoJSON (RFC 7946): points as points, areas and
//! homesteads with their real boundaries.
//!
//! The documents borrow the city and are written straight to text (see
//! [`crate::answer::json_body`]): a page of 10,000 unit boundaries is a few
//! tens of MB of text, and several times that as a tree of JSON values.

use geo_types::{LineString, MultiPolygon};
use onemap_core::{AreaId, Layer};
use onemap_index::{City, Feature, Neighbor, Page};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

/// One feature: geometry, then its id, layer, unit, cell and attributes as
/// flat properties (and the distance, for a neighbour).
pub struct FeatureDoc<'a> {
    city: &'a City,
    f: &'a Feature,
    distance_m: Option<f64>,
}

/// One feature as GeoJSON.
pub fn feature<'a>(city: &'a City, f: &'a Feature) -> FeatureDoc<'a> {
    FeatureDoc {
        city,
        f,
        distance_m: None,
    }
}

impl FeatureDoc<'_> {
    /// The flat properties: small, made as the feature is written.
    fn properties(&self) -> Map<String, Value> {
        let f = self.f;
        let mut props = match serde_json::to_value(&f.properties) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        // The attributes' own `type` tag says what the layer already says.
        props.remove("type");
        props.insert("layer".into(), json!(f.layer));
        if let Some(u) = f.unit {
            props.insert("unit".into(), json!(u));
        }
        if let Some(c) = &f.cell {
            props.insert("h3".into(), json!(c));
        }
        if let Some(d) = self.distance_m {
            props.insert("distance_m".into(), json!(d));
        }
        props
    }

    fn shape(&self) -> Option<&MultiPolygon<f64>> {
        let (city, f) = (self.city, self.f);
        if f.layer.area_level().is_some() {
            AreaId::new(f.id)
                .ok()
                .and_then(|id| city.areas().get(id))
                .map(|a| &a.geometry)
        } else if f.layer == Layer::Homesteads {
            city.homestead(f.id).map(|h| &h.geometry)
        } else {
            None
        }
    }
}

impl Serialize for FeatureDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("type", "Feature")?;
        m.serialize_entry("id", &self.f.id)?;
        match self.shape() {
            Some(mp) => m.serialize_entry("geometry", &Shape(mp))?,
            None => m.serialize_entry(
                "geometry",
                &json!({"type": "Point", "coordinates": [self.f.lon, self.f.lat]}),
            )?,
        }
        m.serialize_entry("properties", &self.properties())?;
        m.end()
    }
}

/// A FeatureCollection, with `next_cursor` (a foreign member) for a page.
pub struct Collection<'a> {
    features: Vec<FeatureDoc<'a>>,
    next_cursor: Option<&'a Option<onemap_index::Cursor>>,
}

/// A page as a FeatureCollection with `next_cursor`.
pub fn page<'a>(city: &'a City, p: &'a Page) -> Collection<'a> {
    Collection {
        features: p.features.iter().map(|f| feature(city, f)).collect(),
        next_cursor: Some(&p.next_cursor),
    }
}

/// Neighbours as a FeatureCollection, nearest first, with `distance_m`.
pub fn neighbors<'a>(city: &'a City, ns: &'a [Neighbor]) -> Collection<'a> {
    Collection {
        features: ns
            .iter()
            .map(|n| FeatureDoc {
                city,
                f: &n.feature,
                distance_m: Some(n.distance_m),
            })
            .collect(),
        next_cursor: None,
    }
}

impl Serialize for Collection<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", "FeatureCollection")?;
        m.serialize_entry("numberReturned", &self.features.len())?;
        if let Some(c) = self.next_cursor {
            m.serialize_entry("next_cursor", c)?;
        }
        m.serialize_entry("features", &self.features)?;
        m.end()
    }
}

/// A MultiPolygon geometry, its rings written from the city's own.
struct Shape<'a>(&'a MultiPolygon<f64>);

impl Serialize for Shape<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "MultiPolygon")?;
        m.serialize_entry("coordinates", &Polygons(self.0))?;
        m.end()
    }
}

struct Polygons<'a>(&'a MultiPolygon<f64>);

impl Serialize for Polygons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0 .0.len()))?;
        for p in self.0 {
            let rings: Vec<Ring> = std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(Ring)
                .collect();
            seq.serialize_element(&rings)?;
        }
        seq.end()
    }
}

struct Ring<'a>(&'a LineString<f64>);

impl Serialize for Ring<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0 .0.len()))?;
        for c in self.0.coords() {
            seq.serialize_element(&[c.x, c.y])?;
        }
        seq.end()
    }
}
