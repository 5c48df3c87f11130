use thiserror::Error;

/// Errors raised when a value from outside fails validation.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    #[error("invalid coordinate ({lon}, {lat}): longitude must be in [-180, 180] and latitude in [-90, 90]")]
    InvalidCoordinate { lon: f64, lat: f64 },
    #[error("invalid bounding box [{min_lon}, {min_lat}, {max_lon}, {max_lat}]: {reason}")]
    InvalidBBox {
        min_lon: f64,
        min_lat: f64,
        max_lon: f64,
        max_lat: f64,
        reason: &'static str,
    },
    #[error("invalid tile {z}/{x}/{y}: {reason}")]
    InvalidTile {
        z: u32,
        x: u32,
        y: u32,
        reason: String,
    },
    #[error("unknown layer '{0}' (known layers: {known})", known = crate::Layer::names().join(", "))]
    UnknownLayer(String),
    #[error("unknown area level '{0}' (expected district, town, village, grid or unit)")]
    UnknownLevel(String),
    #[error("unknown {kind} '{value}' (expected one of: {expected})")]
    UnknownValue {
        kind: &'static str,
        value: String,
        expected: String,
    },
    #[error("invalid area id {0}")]
    InvalidAreaId(u64),
    #[error("invalid polygon '{0}': expected 'lon lat,lon lat,…' or 'lon,lat;lon,lat;…' with at least 3 points")]
    InvalidPolygon(String),
    #[error("invalid scope '{0}': use area:ID, department:NAME or city")]
    InvalidScope(String),
}
