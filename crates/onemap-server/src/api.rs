//! `/api/…`: every question of the index, as JSON (features as GeoJSON).

use crate::answer::{json_body, query, JsonBody};
use crate::error::path_error;
use crate::error::{ApiError, ErrorCode};
use crate::geojson;
use crate::openapi::{ErrorBody, Overloaded};
use crate::params::{
    parse_area_id, FeaturesParams, HotspotsParams, LocateParams, NearestParams, OverdueParams,
    Params, SearchParams, StatsParams, WindowParams, Within,
};
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use onemap_core::Layer;
use onemap_index::AreaRef;

type ApiResult = Result<JsonBody, ApiError>;

fn layer(name: &str) -> Result<Layer, ApiError> {
    Ok(name.parse::<Layer>()?)
}

/// The areas holding a point (null at sea).
#[utoipa::path(get, path = "/api/locate", tag = "queries", params(LocateParams),
    responses((status = 200, description = "The unit, grid, village, town and district, or null at sea", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody)))]
pub async fn locate(State(state): State<AppState>, Params(p): Params<LocateParams>) -> ApiResult {
    let (lon, lat) = p.point()?;
    json_body(&state.city().locate(lon, lat)?)
}

/// One page of GeoJSON.
#[utoipa::path(get, path = "/api/features/{layer}", tag = "queries", params(("layer" = String, Path, description = "A data layer: districts, towns, villages, grids, units, events, ships, heritage, homesteads, enterprises, schools"), FeaturesParams),
    responses((status = 200, description = "One page of features as a GeoJSON FeatureCollection, with next_cursor", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown layer", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn features(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<FeaturesParams>,
) -> ApiResult {
    let Path(name) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let q = p.query(layer)?;
    query(&state, move |s| {
        let (filter, page) = (&q.filter, &q.page);
        let found = match &q.within {
            Within::BBox(b) => s.city().features_in_bbox(layer, b, filter, page)?,
            Within::Area(a) => s.city().features_in_area(layer, *a, filter, page)?,
            Within::Polygon(poly) => s.city().features_in_polygon(layer, poly, filter, page)?,
        };
        json_body(&geojson::page(&s.city(), &found))
    })
    .await
}

/// One feature as GeoJSON.
#[utoipa::path(get, path = "/api/features/{layer}/{id}", tag = "queries",
    params(("layer" = String, Path, description = "A data layer: districts, towns, villages, grids, units, events, ships, heritage, homesteads, enterprises, schools"), ("id" = String, Path, description = "The feature's id (digits)")),
    responses((status = 200, description = "The feature as GeoJSON", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown layer or feature", body = ErrorBody)))]
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
    json_body(&geojson::feature(&state.city(), &f))
}

/// The k features of a point layer nearest to a point, with geodesic
/// distances in metres.
#[utoipa::path(get, path = "/api/nearest/{layer}", tag = "queries", params(("layer" = String, Path, description = "A data layer: districts, towns, villages, grids, units, events, ships, heritage, homesteads, enterprises, schools"), NearestParams),
    responses((status = 200, description = "The k nearest features with their geodesic distance in metres, as GeoJSON", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown layer", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn nearest(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<NearestParams>,
) -> ApiResult {
    let Path(name) = path.map_err(path_error)?;
    let layer = layer(&name)?;
    let q = p.query(layer)?;
    query(&state, move |s| {
        let found = s
            .city()
            .nearest(layer, q.lon, q.lat, q.k, q.max_distance, &q.filter)?;
        json_body(&geojson::neighbors(&s.city(), &found))
    })
    .await
}

/// Event figures grouped by area level or H3 cell.
#[utoipa::path(get, path = "/api/stats", tag = "queries", params(StatsParams),
    responses((status = 200, description = "Event counts by status and category, open count and closure rate, per group", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown area", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn stats(State(state): State<AppState>, Params(p): Params<StatsParams>) -> ApiResult {
    let q = p.query()?;
    let at = p.at()?;
    let max = state.guard.limits.max_groups;
    query(&state, move |s| {
        let due = s.deadlines.cutoffs(at);
        #[derive(serde::Serialize)]
        struct Doc {
            #[serde(flatten)]
            report: onemap_index::StatsReport,
            overdue_at: i64,
        }
        json_body(&Doc {
            report: s.city().event_stats_due(&q, max, Some(&due))?,
            overdue_at: at,
        })
    })
    .await
}

/// Open events past the time limit of the step they wait for (judge,
/// route, handle, feed back), the most overdue first.
#[utoipa::path(get, path = "/api/overdue", tag = "queries", params(OverdueParams),
    responses((status = 200, description = "{at, deadlines, total, by_status, events: [the most overdue first]}", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown area", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn overdue(State(state): State<AppState>, Params(p): Params<OverdueParams>) -> ApiResult {
    let (scope, limit, at) = p.query()?;
    query(&state, move |s| {
        let report = s
            .city()
            .overdue(scope.as_ref(), &s.deadlines.cutoffs(at), limit)?;
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            at: i64,
            deadlines: &'a onemap_core::Deadlines,
            report: onemap_index::OverdueReport,
        }
        json_body(&Doc {
            at,
            deadlines: &s.deadlines,
            report,
        })
    })
    .await
}

/// The time limit of each step of the loop, in seconds (null: none).
#[utoipa::path(get, path = "/api/deadlines", tag = "queries",
    responses((status = 200, description = "{judge, route, handle, feed_back, close}: seconds, or null for no limit", content_type = "application/json", body = Object)))]
pub async fn deadlines(State(state): State<AppState>) -> ApiResult {
    json_body(&state.deadlines)
}

/// Places where the same problem keeps coming back.
#[utoipa::path(get, path = "/api/hotspots", tag = "queries", params(HotspotsParams),
    responses((status = 200, description = "Places where the same problem keeps coming back, most reported first", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown area", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn hotspots(
    State(state): State<AppState>,
    Params(p): Params<HotspotsParams>,
) -> ApiResult {
    let q = p.query()?;
    query(&state, move |s| {
        #[derive(serde::Serialize)]
        struct Doc {
            hotspots: Vec<onemap_index::Hotspot>,
        }
        json_body(&Doc {
            hotspots: s.city().hotspots(&q)?,
        })
    })
    .await
}

/// Figures, leader, breadcrumb and children.
#[utoipa::path(get, path = "/api/areas/{id}", tag = "queries",
    params(("id" = String, Path, description = "An area id: 6 (district) to 18 (unit) digits"), WindowParams),
    responses((status = 200, description = "The area: figures, leader, breadcrumb and children", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 404, description = "Unknown area", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn area(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<WindowParams>,
) -> ApiResult {
    let Path(id) = path.map_err(path_error)?;
    let id = parse_area_id(&id)?;
    let window = p.window()?;
    query(&state, move |s| {
        json_body(&s.city().area_details(id, &window)?)
    })
    .await
}

/// Areas whose name (or id) contains `q`,
/// coarse levels first, each with its path and box.
#[utoipa::path(get, path = "/api/areas/search", tag = "queries", params(SearchParams),
    responses((status = 200, description = "Areas whose name contains q (or whose id starts with it), coarse levels first, each with its path and box", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody), (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn search(State(state): State<AppState>, Params(p): Params<SearchParams>) -> ApiResult {
    let (q, limit) = p.query()?;
    query(&state, move |s| {
        let city = s.city();
        let areas = city.areas();
        /// One area found.
        #[derive(serde::Serialize)]
        struct Hit<'a> {
            id: onemap_core::AreaId,
            level: onemap_core::Level,
            name: Option<&'a str>,
            path: Vec<AreaRef>,
            bbox: Option<onemap_core::BBox>,
        }
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            areas: Vec<Hit<'a>>,
        }
        let found: Vec<Hit> = s
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
                Hit {
                    id: e.id,
                    level: e.level,
                    name: areas.get(e.id).map(|a| a.name.as_str()),
                    path,
                    bbox: city.area_bbox(e.id),
                }
            })
            .collect();
        json_body(&Doc { areas: found })
    })
    .await
}
