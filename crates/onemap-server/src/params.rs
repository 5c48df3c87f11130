//! Query-string parameters, parsed once at the edge into validated values.
//!
//! Parse failures of the text itself (a date that is not a date, a number
//! that is not a number) are 400s; values that parse but are unacceptable
//! (an unknown category, `from` after `to`, an oversized box) are 422s.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use onemap_core::{AreaId, BBox, EventCategory, Layer};
use onemap_index::{Cursor, EventFilter, PageRequest, TimeWindow};
use std::collections::HashMap;
use std::str::FromStr;

pub use onemap_core::time::parse_time;

/// The largest box a query may cover, in degrees on each side (the whole
/// city is about 1.2° × 0.8°).
pub const MAX_BBOX_DEGREES: f64 = 5.0;

/// A request's query string as name → value (the last value of a repeated
/// name wins). Its rejection is a JSON 400 like every other error.
#[derive(Debug, Default, Clone)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| Params(pairs.into_iter().collect()))
            .map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
    }
}

impl Params {
    /// A parameter's raw text; empty values count as missing.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                format!("parameter '{name}' is required"),
            )
        })
    }

    /// A number (or any `FromStr` value); bad text is a 400.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|s| {
                s.parse::<T>().map_err(|_| {
                    ApiError::bad_request(
                        "bad_number",
                        format!("parameter '{name}' must be a number, got '{s}'"),
                    )
                })
            })
            .transpose()
    }

    pub fn required_number<T: FromStr>(&self, name: &str) -> Result<T, ApiError> {
        self.required(name)?;
        Ok(self.number(name)?.expect("present"))
    }

    /// A time bound `from`/`to` (see [`parse_time`]).
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|s| {
                parse_time(s).ok_or_else(|| {
                    ApiError::bad_request(
                        "bad_time",
                        format!(
                            "parameter '{name}' must be a date YYYY-MM-DD (China Standard Time), \
                             an ISO 8601 date-time or Unix seconds, got '{s}'"
                        ),
                    )
                })
            })
            .transpose()
    }

    /// `from` and `to` as a half-open window; `from` after `to` is a 422.
    pub fn window(&self) -> Result<TimeWindow, ApiError> {
        Ok(TimeWindow::new(self.time("from")?, self.time("to")?)?)
    }

    /// The event filter: `from`, `to`, and comma lists `category`, `status`.
    pub fn filter(&self) -> Result<EventFilter, ApiError> {
        self.filter_for(Layer::Events)
    }

    /// The filter of a feature query on `layer`: as [`Params::filter`], but
    /// for homesteads `status` is a comma list of homestead statuses (idle,
    /// demolishing, reclaimed).
    pub fn filter_for(&self, layer: Layer) -> Result<EventFilter, ApiError> {
        let w = self.window()?;
        let homes = layer == Layer::Homesteads;
        Ok(EventFilter {
            from: w.from,
            to: w.to,
            categories: self.list::<EventCategory>("category")?,
            statuses: if homes { None } else { self.list("status")? },
            homestead_statuses: if homes { self.list("status")? } else { None },
        })
    }

    /// A comma-separated list of values; an unknown value is a 422.
    pub fn list<T>(&self, name: &str) -> Result<Option<Vec<T>>, ApiError>
    where
        T: FromStr<Err = onemap_core::CoreError>,
    {
        self.get(name)
            .map(|s| {
                s.split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| p.parse::<T>().map_err(ApiError::from))
                    .collect::<Result<Vec<T>, _>>()
            })
            .transpose()
    }

    /// A box `min_lon,min_lat,max_lon,max_lat`, at most
    /// [`MAX_BBOX_DEGREES`] on a side.
    pub fn bbox(&self, name: &str) -> Result<Option<BBox>, ApiError> {
        let Some(s) = self.get(name) else {
            return Ok(None);
        };
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let nums: Option<Vec<f64>> = parts.iter().map(|p| p.parse::<f64>().ok()).collect();
        let Some([a, b, c, d]) = nums.as_deref().and_then(|n| <[f64; 4]>::try_from(n).ok()) else {
            return Err(ApiError::bad_request(
                "bad_bbox",
                format!("parameter '{name}' must be min_lon,min_lat,max_lon,max_lat, got '{s}'"),
            ));
        };
        let bbox = BBox::new(a, b, c, d)?;
        if bbox.width() > MAX_BBOX_DEGREES || bbox.height() > MAX_BBOX_DEGREES {
            return Err(ApiError::unprocessable(
                "bbox_too_large",
                format!(
                    "bbox {s} is {:.2}° × {:.2}°; at most {MAX_BBOX_DEGREES}° on each side",
                    bbox.width(),
                    bbox.height()
                ),
            ));
        }
        Ok(Some(bbox))
    }

    pub fn area(&self, name: &str) -> Result<Option<AreaId>, ApiError> {
        self.get(name).map(parse_area_id).transpose()
    }

    /// `limit` (default `default`) and `cursor`.
    pub fn page(&self, default: usize) -> Result<PageRequest, ApiError> {
        let limit = self.number::<usize>("limit")?.unwrap_or(default);
        let cursor = self
            .get("cursor")
            .map(|c| c.parse::<Cursor>())
            .transpose()?;
        Ok(PageRequest { limit, cursor })
    }
}

/// An area id from text: digits (a 400 otherwise), of a valid length.
pub fn parse_area_id(s: &str) -> Result<AreaId, ApiError> {
    let raw: u64 = s.trim().parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_area_id",
            format!("area id must be digits, got '{s}'"),
        )
    })?;
    Ok(AreaId::new(raw)?)
}
