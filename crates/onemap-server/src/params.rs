//! Query strings, parsed once at the edge into validated values.
//!
//! Each route takes its own struct of raw text fields, filled by [`Params`]
//! from the query string: an empty value counts as missing, unknown names
//! are ignored, and the last of a repeated name wins. The struct's methods
//! turn the text into validated values through the `FromStr` types and
//! constructors the command line uses too (`TimeBound`, `BBox`, `AreaId`,
//! `parse_polygon`, `GroupBy`, `HotspotPlace`, `Cursor`,
//! `TimeWindow::between`, `EventFilter::for_layer`), so a bad value gets the
//! same message from both, and the same code from every route that takes
//! it. Text that does not parse (a date that is not a date, a number that is
//! not a number) is a 400; a value that parses but is unacceptable (an
//! unknown category, `from` after `to`, an oversized box) a 422 — the codes
//! and their statuses are in `error.rs`.

use crate::error::{ApiError, ErrorCode};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use geo_types::Polygon;
use onemap_core::{parse_list, parse_polygon, AreaId, BBox, Layer, Level};
use onemap_index::{
    Cursor, EventFilter, GroupBy, HotspotPlace, HotspotQuery, IndexError, PageRequest, Scope,
    StatsQuery, TimeWindow, MAX_LIMIT,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::str::FromStr;
use utoipa::IntoParams;

/// A route's query struct `T`, filled from the query string. Its rejection
/// is a JSON 400 like every other error.
#[derive(Debug, Default, Clone)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
        let mut given = serde_json::Map::new();
        for (name, value) in pairs {
            // The last value wins, also when it is empty (then: missing).
            let value = value.trim();
            if value.is_empty() {
                given.remove(&name);
            } else {
                given.insert(name, value.into());
            }
        }
        serde_json::from_value(given.into())
            .map(Params)
            .map_err(|e| ApiError::new(ErrorCode::BadQuery, e.to_string()))
    }
}

/// A value of type `T` from its text, if given; its error is `T`'s.
fn parse<T>(text: &Option<String>) -> Result<Option<T>, ApiError>
where
    T: FromStr,
    ApiError: From<T::Err>,
{
    text.as_deref()
        .map(|s| s.parse::<T>().map_err(ApiError::from))
        .transpose()
}

/// A number (or any `FromStr` value), if given; bad text is `bad_number`.
fn number<T: FromStr>(name: &str, text: &Option<String>) -> Result<Option<T>, ApiError> {
    text.as_deref()
        .map(|s| {
            s.parse::<T>().map_err(|_| {
                ApiError::new(
                    ErrorCode::BadNumber,
                    format!("parameter '{name}' must be a number, got '{s}'"),
                )
            })
        })
        .transpose()
}

fn required<'a>(name: &str, text: &'a Option<String>) -> Result<&'a str, ApiError> {
    text.as_deref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingParameter,
            format!("parameter '{name}' is required"),
        )
    })
}

fn required_number<T: FromStr>(name: &str, text: &Option<String>) -> Result<T, ApiError> {
    required(name, text)?;
    Ok(number(name, text)?.expect("present"))
}

/// `from` and `to` as a half-open window; `from` after `to` is a 422.
pub(crate) fn window(from: &Option<String>, to: &Option<String>) -> Result<TimeWindow, ApiError> {
    Ok(TimeWindow::between(parse(from)?, parse(to)?)?)
}

/// The filter of `layer`: `from`, `to`, and comma lists `category`,
/// `status` (see [`EventFilter::for_layer`]).
fn filter(
    layer: Layer,
    from: &Option<String>,
    to: &Option<String>,
    category: &Option<String>,
    status: &Option<String>,
) -> Result<EventFilter, ApiError> {
    let window = window(from, to)?;
    Ok(EventFilter::for_layer(
        layer,
        window,
        category.as_deref(),
        status.as_deref(),
    )?)
}

/// `area` or `bbox` (not both), or neither.
fn scope(area: &Option<String>, bbox: &Option<String>) -> Result<Option<Scope>, ApiError> {
    match (parse::<AreaId>(area)?, parse::<BBox>(bbox)?) {
        (Some(_), Some(_)) => Err(ApiError::new(
            ErrorCode::ConflictingParameters,
            "give 'area' or 'bbox', not both",
        )),
        (Some(a), None) => Ok(Some(Scope::Area(a))),
        (None, Some(b)) => Ok(Some(Scope::BBox(b))),
        (None, None) => Ok(None),
    }
}

/// `/api/locate`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateParams {
    /// Longitude (required).
    #[param(value_type = Option<f64>)]
    pub lon: Option<String>,
    /// Latitude (required).
    #[param(value_type = Option<f64>)]
    pub lat: Option<String>,
}

impl LocateParams {
    /// The point `(lon, lat)`.
    pub fn point(&self) -> Result<(f64, f64), ApiError> {
        Ok((
            required_number("lon", &self.lon)?,
            required_number("lat", &self.lat)?,
        ))
    }
}

/// `/api/features/{layer}`: one of `bbox`, `area`, `polygon`; the filter;
/// the page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeaturesParams {
    /// min_lon,min_lat,max_lon,max_lat (at most 5° a side).
    pub bbox: Option<String>,
    /// An area id (district, town, village, grid or unit).
    pub area: Option<String>,
    /// `lon lat,lon lat,…` (or `lon,lat;lon,lat;…`): the exterior ring, at
    /// most 2,000 vertices (422 too_large beyond).
    pub polygon: Option<String>,
    /// Start (inclusive): YYYY-MM-DD (China Standard Time midnight), ISO 8601
    /// date-time, or Unix seconds.
    pub from: Option<String>,
    /// End (exclusive), same forms as `from`.
    pub to: Option<String>,
    /// Comma list of event categories (drainage, sanitation, dispute, road,
    /// safety_hazard, illegal_building, public_order, other).
    pub category: Option<String>,
    /// Comma list of event statuses (reported, discussing, routed, handled,
    /// fed_back, closed); for homesteads, of homestead statuses (idle,
    /// demolishing, reclaimed).
    pub status: Option<String>,
    /// Page size, 1..=10000 (default 100).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a feature query looks.
#[derive(Debug, Clone)]
pub enum Within {
    BBox(BBox),
    Area(AreaId),
    Polygon(Polygon<f64>),
}

/// A feature query on one layer, validated.
#[derive(Debug, Clone)]
pub struct FeaturesQuery {
    pub within: Within,
    pub filter: EventFilter,
    pub page: PageRequest,
}

impl FeaturesParams {
    pub fn query(&self, layer: Layer) -> Result<FeaturesQuery, ApiError> {
        let filter = filter(layer, &self.from, &self.to, &self.category, &self.status)?;
        let page = PageRequest {
            limit: number("limit", &self.limit)?.unwrap_or(100),
            cursor: parse::<Cursor>(&self.cursor)?,
        };
        let bbox = parse::<BBox>(&self.bbox)?.map(Within::BBox);
        let area = parse::<AreaId>(&self.area)?.map(Within::Area);
        let polygon = self
            .polygon
            .as_deref()
            .map(parse_polygon)
            .transpose()?
            .map(Within::Polygon);
        let mut given = [bbox, area, polygon].into_iter().flatten();
        match (given.next(), given.next()) {
            (Some(within), None) => Ok(FeaturesQuery {
                within,
                filter,
                page,
            }),
            (None, _) => Err(ApiError::new(
                ErrorCode::MissingParameter,
                "give one of 'bbox', 'area' or 'polygon'",
            )),
            (Some(_), Some(_)) => Err(ApiError::new(
                ErrorCode::ConflictingParameters,
                "give only one of 'bbox', 'area' or 'polygon'",
            )),
        }
    }
}

/// `/api/nearest/{layer}`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearestParams {
    /// Longitude (required).
    #[param(value_type = Option<f64>)]
    pub lon: Option<String>,
    /// Latitude (required).
    #[param(value_type = Option<f64>)]
    pub lat: Option<String>,
    /// How many, 1..=10000 (default 5).
    #[param(value_type = Option<u32>)]
    pub k: Option<String>,
    /// Metres.
    #[param(value_type = Option<f64>)]
    pub max_distance: Option<String>,
    /// Start (inclusive), as for features.
    pub from: Option<String>,
    /// End (exclusive), as for features.
    pub to: Option<String>,
    /// Comma list of event categories.
    pub category: Option<String>,
    /// Comma list of event (or homestead) statuses.
    pub status: Option<String>,
}

/// A nearest query, validated.
#[derive(Debug, Clone)]
pub struct NearestQuery {
    pub lon: f64,
    pub lat: f64,
    pub k: usize,
    pub max_distance: Option<f64>,
    pub filter: EventFilter,
}

impl NearestParams {
    pub fn query(&self, layer: Layer) -> Result<NearestQuery, ApiError> {
        Ok(NearestQuery {
            lon: required_number("lon", &self.lon)?,
            lat: required_number("lat", &self.lat)?,
            k: number("k", &self.k)?.unwrap_or(5),
            max_distance: number("max_distance", &self.max_distance)?,
            filter: filter(layer, &self.from, &self.to, &self.category, &self.status)?,
        })
    }
}

/// `/api/stats`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// district (default), town, village, grid, unit or h3:RES (5..=12).
    /// An answer lists at most 20,000 groups: beyond, 422 too_large (the
    /// city's 130,000 units are asked for under an area; fine cells under
    /// an area, in a box or in a shorter window).
    pub by: Option<String>,
    /// Start of the window.
    pub from: Option<String>,
    /// End of the window (exclusive).
    pub to: Option<String>,
    /// Only under this area id.
    pub area: Option<String>,
    /// Only in min_lon,min_lat,max_lon,max_lat (at most 5° a side).
    pub bbox: Option<String>,
    /// The moment open events are judged overdue at (default: now).
    pub at: Option<String>,
}

/// `at`: a time, or now.
fn at_or_now(at: &Option<String>) -> Result<i64, ApiError> {
    Ok(parse::<onemap_core::TimeBound>(at)?.map_or_else(onemap_core::time::now, |t| t.unix()))
}

impl StatsParams {
    /// The moment overdue events are counted at.
    pub fn at(&self) -> Result<i64, ApiError> {
        at_or_now(&self.at)
    }

    pub fn query(&self) -> Result<StatsQuery, ApiError> {
        Ok(StatsQuery {
            group_by: parse::<GroupBy>(&self.by)?.unwrap_or(GroupBy::Level(Level::District)),
            window: window(&self.from, &self.to)?,
            scope: scope(&self.area, &self.bbox)?,
        })
    }
}

/// `/api/hotspots`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotspotsParams {
    /// unit (default) or h3:RES (11..=12).
    pub place: Option<String>,
    /// Start of the window.
    pub from: Option<String>,
    /// End of the window (exclusive).
    pub to: Option<String>,
    /// Least events at one place (default 10).
    #[param(value_type = Option<u32>)]
    pub min_count: Option<String>,
    /// Comma list of categories.
    pub category: Option<String>,
    /// Only under this area id.
    pub area: Option<String>,
    /// Only in min_lon,min_lat,max_lon,max_lat (at most 5° a side).
    pub bbox: Option<String>,
    /// At most this many, 1..=10000 (default 20).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

impl HotspotsParams {
    pub fn query(&self) -> Result<HotspotQuery, ApiError> {
        let place = parse::<HotspotPlace>(&self.place)?.unwrap_or(HotspotPlace::Unit);
        Ok(HotspotQuery {
            window: window(&self.from, &self.to)?,
            place,
            min_count: number("min_count", &self.min_count)?.unwrap_or(10),
            categories: self.category.as_deref().map(parse_list).transpose()?,
            scope: scope(&self.area, &self.bbox)?,
            limit: number("limit", &self.limit)?.unwrap_or(20),
        })
    }
}

/// `/api/areas/{id}`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// Start of the window.
    pub from: Option<String>,
    /// End of the window (exclusive).
    pub to: Option<String>,
}

impl WindowParams {
    pub fn window(&self) -> Result<TimeWindow, ApiError> {
        window(&self.from, &self.to)
    }
}

/// `/api/areas/search`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Part of a name or the start of an id (required).
    pub q: Option<String>,
    /// At most this many, 1..=10000 (default 20).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

impl SearchParams {
    /// The text to look for (lower-cased) and the limit.
    pub fn query(&self) -> Result<(String, usize), ApiError> {
        let q = required("q", &self.q)?.to_lowercase();
        let limit = number("limit", &self.limit)?.unwrap_or(20);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(IndexError::Limit {
                limit,
                max: MAX_LIMIT,
            }
            .into());
        }
        Ok((q, limit))
    }
}

/// `/api/overdue`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverdueParams {
    /// Only under this area id.
    pub area: Option<String>,
    /// Only in min_lon,min_lat,max_lon,max_lat (at most 5° a side).
    pub bbox: Option<String>,
    /// How many of the most overdue events to list (default 100, at most 1,000).
    pub limit: Option<String>,
    /// The moment events are judged overdue at (default: now).
    pub at: Option<String>,
}

impl OverdueParams {
    /// The scope, the limit and the moment.
    pub fn query(&self) -> Result<(Option<Scope>, usize, i64), ApiError> {
        let limit = number("limit", &self.limit)?.unwrap_or(100);
        let max = onemap_index::MAX_OVERDUE_LIST;
        if !(1..=max).contains(&limit) {
            return Err(IndexError::Limit { limit, max }.into());
        }
        Ok((scope(&self.area, &self.bbox)?, limit, at_or_now(&self.at)?))
    }
}

/// `/tiles/{layers}/{z}/{x}/{y}.mvt` and `/tiles/{layers}.json`: the
/// filter of the events layer.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TileParams {
    /// Start (inclusive): YYYY-MM-DD (China Standard Time midnight), ISO 8601
    /// date-time, or Unix seconds.
    pub from: Option<String>,
    /// End (exclusive), same forms as `from`.
    pub to: Option<String>,
    /// Comma list of event categories.
    pub category: Option<String>,
    /// Comma list of event statuses.
    pub status: Option<String>,
}

impl TileParams {
    pub fn filter(&self) -> Result<EventFilter, ApiError> {
        filter(
            Layer::Events,
            &self.from,
            &self.to,
            &self.category,
            &self.status,
        )
    }
}

/// An area id from a path: digits (a 400 otherwise), of a valid length.
pub fn parse_area_id(s: &str) -> Result<AreaId, ApiError> {
    Ok(s.parse::<AreaId>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn params<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
        let req = Request::builder()
            .uri(format!("/x?{query}"))
            .body(())
            .unwrap();
        let (mut parts, _) = req.into_parts();
        Params::<T>::from_request_parts(&mut parts, &())
            .await
            .map(|Params(t)| t)
    }

    #[tokio::test]
    async fn empty_is_missing_last_wins_unknown_ignored() {
        let p: StatsParams = params("by=town&by=village&from=&nonsense=1&to=%202026-01-01%20")
            .await
            .unwrap();
        assert_eq!(p.by.as_deref(), Some("village"));
        assert_eq!(p.from, None);
        assert_eq!(p.to.as_deref(), Some("2026-01-01"));
        let p: WindowParams = params("from=2026-01-01&from=").await.unwrap();
        assert_eq!(p.from, None);
    }

    #[tokio::test]
    async fn features_take_exactly_one_scope() {
        let q = |s: &'static str| async move {
            params::<FeaturesParams>(s)
                .await
                .unwrap()
                .query(Layer::Events)
        };
        assert!(matches!(
            q("bbox=119,25,119.1,25.1").await.unwrap().within,
            Within::BBox(_)
        ));
        assert!(matches!(
            q("polygon=119%2025,119.1%2025,119.1%2025.1")
                .await
                .unwrap()
                .within,
            Within::Polygon(_)
        ));
        let f = q("area=350302&limit=7&cursor=5").await.unwrap();
        assert!(matches!(f.within, Within::Area(_)));
        assert_eq!(f.page.limit, 7);
        assert_eq!(f.page.cursor, Some("5".parse().unwrap()));
        assert_eq!(q("").await.unwrap_err().code, ErrorCode::MissingParameter);
        assert_eq!(
            q("area=350302&bbox=119,25,119.1,25.1")
                .await
                .unwrap_err()
                .code,
            ErrorCode::ConflictingParameters
        );
    }

    #[tokio::test]
    async fn defaults() {
        let s = params::<StatsParams>("").await.unwrap().query().unwrap();
        assert_eq!(s.group_by, GroupBy::Level(Level::District));
        assert_eq!((s.window, s.scope), (TimeWindow::ALL, None));
        let h = params::<HotspotsParams>("").await.unwrap().query().unwrap();
        assert_eq!(
            (h.place, h.min_count, h.limit),
            (HotspotPlace::Unit, 10, 20)
        );
        let n = params::<NearestParams>("lon=119&lat=25")
            .await
            .unwrap()
            .query(Layer::Events)
            .unwrap();
        assert_eq!((n.k, n.max_distance), (5, None));
        let e = params::<SearchParams>("q=x&limit=0")
            .await
            .unwrap()
            .query()
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidLimit);
    }
}
