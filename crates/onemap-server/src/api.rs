//! `/api/…`: every question of the index, as JSON (features as GeoJSON).

use crate::error::{ApiError, ErrorCode};
use crate::geojson;
use crate::params::{
    parse_area_id, FeaturesParams, HotspotsParams, LocateParams, NearestParams, Params,
    SearchParams, StatsParams, WindowParams, Within,
};
use crate::tiles::path_error;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use onemap_core::Layer;
use onemap_index::AreaRef;
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
pub async fn locate(State(state): State<AppState>, Params(p): Params<LocateParams>) -> ApiResult {
    let (lon, lat) = p.point()?;
    to_json(&state.city().locate(lon, lat)?)
}

/// `/api/features/{layer}?bbox=|area=|polygon=`: one page of GeoJSON.
pub async fn features(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<FeaturesParams>,
) -> ApiResult {
    let Path(name) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let q = p.query(layer)?;
    blocking(&state, move |s| {
        let (filter, page) = (&q.filter, &q.page);
        let found = match &q.within {
            Within::BBox(b) => s.city().features_in_bbox(layer, b, filter, page)?,
            Within::Area(a) => s.city().features_in_area(layer, *a, filter, page)?,
            Within::Polygon(poly) => s.city().features_in_polygon(layer, poly, filter, page)?,
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
        ApiError::new(
            ErrorCode::BadNumber,
            format!("feature id must be digits, got '{id}'"),
        )
    })?;
    let f = state.city().feature(layer, id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownFeature,
            format!("no feature {id} in layer '{layer}'"),
        )
    })?;
    Ok(Json(js_safe(geojson::feature(&state.city(), &f))))
}

/// `/api/nearest/{layer}?lon=&lat=&k=&max_distance=`
pub async fn nearest(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<NearestParams>,
) -> ApiResult {
    let Path(name) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let q = p.query(layer)?;
    blocking(&state, move |s| {
        let found = s
            .city()
            .nearest(layer, q.lon, q.lat, q.k, q.max_distance, &q.filter)?;
        Ok(Json(js_safe(geojson::neighbors(&s.city(), &found))))
    })
    .await
}

/// `/api/stats?by=district|…|h3:RES&area=|bbox=&from=&to=`
pub async fn stats(State(state): State<AppState>, Params(p): Params<StatsParams>) -> ApiResult {
    let q = p.query()?;
    blocking(&state, move |s| to_json(&s.city().event_stats(&q)?)).await
}

/// `/api/hotspots?place=unit|h3:RES&min_count=&category=&limit=&area=|bbox=`
pub async fn hotspots(
    State(state): State<AppState>,
    Params(p): Params<HotspotsParams>,
) -> ApiResult {
    let q = p.query()?;
    blocking(&state, move |s| {
        to_json(&json!({ "hotspots": s.city().hotspots(&q)? }))
    })
    .await
}

/// `/api/areas/{id}?from=&to=`: figures, leader, breadcrumb and children.
pub async fn area(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<WindowParams>,
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
pub async fn search(State(state): State<AppState>, Params(p): Params<SearchParams>) -> ApiResult {
    let (q, limit) = p.query()?;
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
