//! `/api/…`: every question of the index, as JSON (features as GeoJSON).

use crate::error::ApiError;
use crate::geojson;
use crate::params::{parse_area_id, Params};
use crate::tiles::path_error;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use onemap_core::{Layer, Level};
use onemap_index::{AreaRef, GroupBy, HotspotPlace, HotspotQuery, Scope, StatsQuery, MAX_LIMIT};
use serde_json::{json, Value};

type ApiResult = Result<Json<Value>, ApiError>;

/// Runs a query off the async threads: big aggregates take milliseconds.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
}

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult {
    serde_json::to_value(v)
        .map(|v| Json(js_safe(v)))
        .map_err(|e| ApiError::internal(format!("cannot serialize an answer: {e}")))
}

/// The largest integer a JavaScript number holds exactly (2^53 − 1).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Integers beyond 2^53 − 1 (unit ids have 18 digits) become strings, so a
/// browser's `JSON.parse` cannot round them to a neighbour's id.
pub(crate) fn js_safe(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(u) if u > MAX_SAFE_INTEGER => Value::String(u.to_string()),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(js_safe).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, js_safe(v))).collect()),
        other => other,
    }
}

fn layer(name: &str) -> Result<Layer, ApiError> {
    Ok(name.parse::<Layer>()?)
}

/// `/api/locate?lon=&lat=`: the areas holding a point (null at sea).
pub async fn locate(State(state): State<AppState>, p: Params) -> ApiResult {
    let (lon, lat) = (
        p.required_number::<f64>("lon")?,
        p.required_number::<f64>("lat")?,
    );
    to_json(&state.city().locate(lon, lat)?)
}

/// `/api/features/{layer}?bbox=|area=|polygon=`: one page of GeoJSON.
pub async fn features(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    p: Params,
) -> ApiResult {
    let Path(name) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let filter = p.filter_for(layer)?;
    let page = p.page(100)?;
    let bbox = p.bbox("bbox")?;
    let area = p.area("area")?;
    let polygon = p
        .get("polygon")
        .map(onemap_core::parse_polygon)
        .transpose()?;
    let given = [bbox.is_some(), area.is_some(), polygon.is_some()];
    match given.iter().filter(|g| **g).count() {
        1 => {}
        0 => {
            return Err(ApiError::bad_request(
                "missing_parameter",
                "give one of 'bbox', 'area' or 'polygon'",
            ))
        }
        _ => {
            return Err(ApiError::bad_request(
                "conflicting_parameters",
                "give only one of 'bbox', 'area' or 'polygon'",
            ))
        }
    }
    blocking(&state, move |s| {
        let found = if let Some(b) = bbox {
            s.city().features_in_bbox(layer, &b, &filter, &page)?
        } else if let Some(a) = area {
            s.city().features_in_area(layer, a, &filter, &page)?
        } else {
            let poly = polygon.expect("one scope is given");
            s.city().features_in_polygon(layer, &poly, &filter, &page)?
        };
        Ok(Json(js_safe(geojson::page(&s.city(), &found))))
    })
    .await
}

/// `/api/features/{layer}/{id}`: one feature as GeoJSON.
pub async fn feature(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let Path((name, id)) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let id: u64 = id.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_number",
            format!("feature id must be digits, got '{id}'"),
        )
    })?;
    let f = state.city().feature(layer, id).ok_or_else(|| {
        ApiError::not_found(
            "unknown_feature",
            format!("no feature {id} in layer '{layer}'"),
        )
    })?;
    Ok(Json(js_safe(geojson::feature(&state.city(), &f))))
}

/// `/api/nearest/{layer}?lon=&lat=&k=&max_distance=`
pub async fn nearest(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    p: Params,
) -> ApiResult {
    let Path(name) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let (lon, lat) = (
        p.required_number::<f64>("lon")?,
        p.required_number::<f64>("lat")?,
    );
    let k = p.number::<usize>("k")?.unwrap_or(5);
    let max = p.number::<f64>("max_distance")?;
    let filter = p.filter_for(layer)?;
    blocking(&state, move |s| {
        let found = s.city().nearest(layer, lon, lat, k, max, &filter)?;
        Ok(Json(js_safe(geojson::neighbors(&s.city(), &found))))
    })
    .await
}

/// `/api/stats?by=district|…|h3:RES&area=|bbox=&from=&to=`
pub async fn stats(State(state): State<AppState>, p: Params) -> ApiResult {
    let group_by = match p.get("by").unwrap_or("district") {
        s if s.starts_with("h3:") => GroupBy::H3(h3_res(s, "by")?),
        s => GroupBy::Level(s.parse::<Level>()?),
    };
    let window = p.window()?;
    let scope = scope(&p)?;
    blocking(&state, move |s| {
        to_json(&s.city().event_stats(&StatsQuery {
            group_by,
            window,
            scope,
        })?)
    })
    .await
}

/// `/api/hotspots?place=unit|h3:RES&min_count=&category=&limit=&area=|bbox=`
pub async fn hotspots(State(state): State<AppState>, p: Params) -> ApiResult {
    let place = match p.get("place").unwrap_or("unit") {
        "unit" => HotspotPlace::Unit,
        s if s.starts_with("h3:") => HotspotPlace::H3(h3_res(s, "place")?),
        s => {
            return Err(ApiError::unprocessable(
                "unknown_value",
                format!("place must be 'unit' or 'h3:RES', got '{s}'"),
            ))
        }
    };
    let q = HotspotQuery {
        window: p.window()?,
        place,
        min_count: p.number::<u32>("min_count")?.unwrap_or(10),
        categories: p.list("category")?,
        scope: scope(&p)?,
        limit: p.number::<usize>("limit")?.unwrap_or(20),
    };
    blocking(&state, move |s| {
        to_json(&json!({ "hotspots": s.city().hotspots(&q)? }))
    })
    .await
}

/// `/api/areas/{id}?from=&to=`: figures, leader, breadcrumb and children.
pub async fn area(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    p: Params,
) -> ApiResult {
    let Path(id) = path.map_err(path_error)?;
    let id = parse_area_id(&id)?;
    let window = p.window()?;
    blocking(&state, move |s| {
        to_json(&s.city().area_details(id, &window)?)
    })
    .await
}

/// `/api/areas/search?q=&limit=`: areas whose name (or id) contains `q`,
/// coarse levels first, each with its path and box.
pub async fn search(State(state): State<AppState>, p: Params) -> ApiResult {
    let q = p.required("q")?.to_lowercase();
    let limit = p.number::<usize>("limit")?.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::unprocessable(
            "invalid_limit",
            format!("limit {limit} is out of range (expected 1..={MAX_LIMIT})"),
        ));
    }
    blocking(&state, move |s| {
        let city = s.city();
        let areas = city.areas();
        let hits: Vec<Value> = s
            .search
            .iter()
            .filter(|e| e.key.contains(&q) || e.digits.starts_with(&q))
            .take(limit)
            .map(|e| {
                let mut path = Vec::new();
                let mut cur = areas.get(e.id).and_then(|a| a.parent);
                while let Some(pid) = cur {
                    let Some(pa) = areas.get(pid) else { break };
                    path.push(AreaRef {
                        id: pa.id,
                        level: pa.level,
                        name: pa.name.as_str().into(),
                    });
                    cur = pa.parent;
                }
                path.reverse();
                let f = s.city().feature(Layer::for_level(e.level), e.id.get());
                let bbox = f.and_then(|f| match f.properties {
                    onemap_index::Properties::Area { bbox, .. } => Some(bbox),
                    _ => None,
                });
                json!({
                    "id": e.id,
                    "level": e.level,
                    "name": areas.get(e.id).map(|a| a.name.as_str()),
                    "path": path,
                    "bbox": bbox,
                })
            })
            .collect();
        Ok(Json(js_safe(json!({ "areas": hits }))))
    })
    .await
}

fn h3_res(s: &str, name: &str) -> Result<u8, ApiError> {
    s["h3:".len()..].parse::<u8>().map_err(|_| {
        ApiError::bad_request(
            "bad_number",
            format!("parameter '{name}' must be h3:RES with a number RES, got '{s}'"),
        )
    })
}

fn scope(p: &Params) -> Result<Option<Scope>, ApiError> {
    match (p.area("area")?, p.bbox("bbox")?) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "conflicting_parameters",
            "give 'area' or 'bbox', not both",
        )),
        (Some(a), None) => Ok(Some(Scope::Area(a))),
        (None, Some(b)) => Ok(Some(Scope::BBox(b))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_ids_become_strings() {
        let v = js_safe(json!({"id": 350302005001001009u64, "n": [1, 2.5], "small": 350302}));
        assert_eq!(
            v,
            json!({"id": "350302005001001009", "n": [1, 2.5], "small": 350302})
        );
    }
}
