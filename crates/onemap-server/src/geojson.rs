//! Index answers as GeoJSON (RFC 7946): points as points, areas and
//! homesteads with their real boundaries.

use geo_types::{LineString, MultiPolygon};
use onemap_core::{AreaId, Layer};
use onemap_index::{City, Feature, Neighbor, Page};
use serde_json::{json, Map, Value};

/// One feature: geometry, then its id, layer, unit, cell and attributes as
/// flat properties.
pub fn feature(city: &City, f: &Feature) -> Value {
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
    json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geometry(city, f),
        "properties": props,
    })
}

/// A page as a FeatureCollection with `next_cursor` (a foreign member).
pub fn page(city: &City, p: &Page) -> Value {
    let features: Vec<Value> = p.features.iter().map(|f| feature(city, f)).collect();
    json!({
        "type": "FeatureCollection",
        "numberReturned": features.len(),
        "next_cursor": p.next_cursor,
        "features": features,
    })
}

/// Neighbours as a FeatureCollection, nearest first, with `distance_m`.
pub fn neighbors(city: &City, ns: &[Neighbor]) -> Value {
    let features: Vec<Value> = ns
        .iter()
        .map(|n| {
            let mut f = feature(city, &n.feature);
            f["properties"]["distance_m"] = json!(n.distance_m);
            f
        })
        .collect();
    json!({"type": "FeatureCollection", "numberReturned": features.len(), "features": features})
}

fn geometry(city: &City, f: &Feature) -> Value {
    let shape = if f.layer.area_level().is_some() {
        AreaId::new(f.id)
            .ok()
            .and_then(|id| city.areas().get(id))
            .map(|a| &a.geometry)
    } else if f.layer == Layer::Homesteads {
        city.homestead(f.id).map(|h| &h.geometry)
    } else {
        None
    };
    match shape {
        Some(mp) => multipolygon(mp),
        None => json!({"type": "Point", "coordinates": [f.lon, f.lat]}),
    }
}

fn multipolygon(mp: &MultiPolygon<f64>) -> Value {
    let ring = |r: &LineString<f64>| -> Vec<[f64; 2]> { r.coords().map(|c| [c.x, c.y]).collect() };
    let polys: Vec<Vec<Vec<[f64; 2]>>> = mp
        .iter()
        .map(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(ring)
                .collect()
        })
        .collect();
    json!({"type": "MultiPolygon", "coordinates": polys})
}
