//! TileJSON 3.0.0 and the layer catalog: what each tile layer holds, its
//! attributes with their types, and its zooms, all read from the rules.

use crate::layers::{LayerSet, MAX_SERVE_ZOOM};
use crate::rules::{rules, LayerRule, LABELS};
use crate::source::TileSource;
use onemap_core::Layer;
use serde_json::{json, Map, Value as Json};

/// The attributes of a tile layer's features, `(name, type)` with the
/// TileJSON types `String`, `Number`, `Boolean`. For dense layers, the
/// hexagon attributes come after the point ones. Ids beyond 2^53 are
/// strings (`code`, `unit_id`, `h3`; see [`feature_id`]).
pub fn fields(rule: &LayerRule) -> Vec<(&'static str, &'static str)> {
    const S: &str = "String";
    const N: &str = "Number";
    const B: &str = "Boolean";
    let Some(layer) = rule.layer else {
        return vec![("code", S), ("name", S), ("level", S)];
    };
    if let Some(level) = layer.area_level() {
        let mut f = vec![("code", S), ("name", S), ("level", S)];
        if level.has_leader() {
            f.push(("leader", S));
        }
        f.extend([("events", N), ("open", N), ("closure_rate", N)]);
        return f;
    }
    match layer {
        Layer::Events => vec![
            ("category", S),
            ("status", S),
            ("reported_at", N),
            ("status_at", N),
            ("unit_id", S),
            ("h3", S),
            ("count", N),
            ("open", N),
        ],
        Layer::Enterprises => vec![
            ("name", S),
            ("industry", S),
            ("employees", N),
            ("large", B),
            ("h3", S),
            ("count", N),
        ],
        Layer::Ships => vec![
            ("name", S),
            ("heading", N),
            ("speed_kn", N),
            ("in_port", B),
            ("reported_at", N),
        ],
        Layer::Heritage => vec![("name", S), ("level", S), ("watch", S)],
        Layer::Homesteads => vec![("status", S), ("area_m2", N)],
        _ => vec![("name", S), ("kind", S), ("students", N)],
    }
}

/// What a layer's feature ids are: every one exact in JavaScript (below
/// 2^53), with the id it stands for where that is larger.
pub fn feature_id(rule: &LayerRule) -> &'static str {
    match rule.layer {
        None => {
            "the labelled area's feature id (level depth × 2^32 + its position in its level); \
             the area's id is the string `code`"
        }
        Some(l) if l.area_level().is_some() => {
            "level depth × 2^32 + the area's position in its level (in id order); \
             the area's id is the string `code` (styles promote it)"
        }
        Some(_) if rule.aggregation.is_some() => {
            "a point's own id; a hexagon's H3 index >> 15, cut to 41 bits \
             (the cell itself is the string `h3`)"
        }
        Some(_) => "the feature's own id",
    }
}

fn description(rule: &LayerRule) -> String {
    match (rule.layer, rule.aggregation) {
        (None, _) => "area name points, inside each area".into(),
        (Some(l), Some(a)) => format!(
            "{l}: H3 hexagons with counts below z{}, points from z{}",
            a.points_from, a.points_from
        ),
        (Some(l), None) if l.area_level().is_some() => {
            format!("{l} with event figures for the request's filter")
        }
        (Some(l), None) => l.to_string(),
    }
}

fn fields_json(rule: &LayerRule) -> Json {
    let mut m = Map::new();
    for (k, t) in fields(rule) {
        m.insert(k.into(), t.into());
    }
    Json::Object(m)
}

impl TileSource {
    /// TileJSON 3.0.0 for a layer set. `tiles_url_template` is the tiles URL
    /// with `{z}/{x}/{y}`; a `{layers}` in it is replaced by the set's names.
    pub fn tilejson(&self, layers: &LayerSet, tiles_url_template: &str) -> Json {
        let url = tiles_url_template.replace("{layers}", &layers.names());
        let minzoom = layers.iter().map(|r| r.minzoom).min().unwrap_or(0);
        let maxzoom = layers
            .iter()
            .map(|r| r.maxzoom)
            .max()
            .unwrap_or(MAX_SERVE_ZOOM)
            .min(MAX_SERVE_ZOOM);
        let b = self.bounds();
        let center_zoom = minzoom.max(10).min(maxzoom);
        let vector_layers: Vec<Json> = layers
            .iter()
            .map(|r| {
                json!({
                    "id": r.name,
                    "description": format!("{}; feature ids: {}", description(r), feature_id(r)),
                    "minzoom": r.minzoom,
                    "maxzoom": r.maxzoom.min(MAX_SERVE_ZOOM),
                    "fields": fields_json(r),
                })
            })
            .collect();
        json!({
            "tilejson": "3.0.0",
            "name": format!("onemap {}", layers.names()),
            "scheme": "xyz",
            "tiles": [url],
            "minzoom": minzoom,
            "maxzoom": maxzoom,
            "bounds": b,
            "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, center_zoom],
            "vector_layers": vector_layers,
        })
    }

    /// Every tile layer with its geometry, fields, zooms and, for dense
    /// layers, where hexagons turn into points.
    pub fn catalog(&self) -> Json {
        let layers: Vec<Json> = rules()
            .iter()
            .map(|r| {
                let geometry = match r.layer {
                    None => "point",
                    Some(l) if l.is_point() && r.aggregation.is_some() => "polygon|point",
                    Some(l) if l.is_point() => "point",
                    Some(_) => "polygon",
                };
                let hex: Vec<Json> = (r.minzoom..=r.maxzoom)
                    .filter_map(|z| {
                        r.h3_resolution(z)
                            .map(|res| json!({"zoom": z, "resolution": res}))
                    })
                    .collect();
                json!({
                    "name": r.name,
                    "description": description(r),
                    "geometry": geometry,
                    "minzoom": r.minzoom,
                    "maxzoom": r.maxzoom.min(MAX_SERVE_ZOOM),
                    "simplify_px": r.tolerance_px,
                    "labels_from": r.label_from,
                    "points_from": r.aggregation.map(|a| a.points_from),
                    "dense_tiles": r.aggregation.map(|a| json!({
                        "max_points": a.max_points,
                        "resolution": a.dense_resolution,
                    })),
                    "hexagons": hex,
                    "fields": fields_json(r),
                    "feature_id": feature_id(r),
                })
            })
            .collect();
        json!({
            "layers": layers,
            "labels": LABELS,
            "max_zoom": MAX_SERVE_ZOOM,
            "bounds": self.bounds(),
        })
    }
}
