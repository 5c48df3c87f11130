use onemap_core::{AreaId, CoreError, Layer};
use thiserror::Error;

/// Everything that can go wrong while building a [`crate::City`] or asking it
/// a question. Bad input is always reported here; it never panics.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum IndexError {
    /// A coordinate or box failed validation (NaN, out of range, inverted).
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("unknown area id {0}")]
    UnknownArea(AreaId),
    #[error("invalid area id {0}: an area id has 6, 9, 12, 15 or 18 digits")]
    InvalidAreaId(u64),
    #[error("H3 resolution {res} is out of range for {what} (expected {min}..={max})")]
    H3Resolution {
        res: u8,
        min: u8,
        max: u8,
        what: &'static str,
    },
    #[error("limit {limit} is out of range (expected 1..={max})")]
    Limit { limit: usize, max: usize },
    #[error("the {query} query does not apply to layer '{layer}'")]
    NotApplicable { layer: Layer, query: &'static str },
    #[error("this filter does not apply to layer '{0}': a time window, categories and event statuses apply to events, and homestead statuses (idle, demolishing, reclaimed) to homesteads")]
    FilterNotApplicable(Layer),
    #[error("invalid time window [{from}, {to}): 'from' must not be after 'to'")]
    InvalidWindow { from: i64, to: i64 },
    #[error("invalid distance {0} m: a maximum distance must be a finite number ≥ 0")]
    InvalidDistance(f64),
    #[error("invalid polygon: {0}")]
    InvalidPolygon(String),
    #[error("unknown grouping '{0}' (expected district, town, village, grid, unit or h3:RES)")]
    UnknownGroupBy(String),
    #[error("unknown hot-spot place '{0}' (expected unit or h3:RES)")]
    UnknownPlace(String),
    #[error("invalid H3 resolution in '{0}': expected h3:RES with RES a number")]
    BadH3Resolution(String),
    #[error("the box is {width:.2}° × {height:.2}°; a query covers at most {max}° on each side")]
    BBoxTooLarge { width: f64, height: f64, max: f64 },
    /// An answer that would list more groups than one answer holds: the
    /// work stopped when the count passed the limit.
    #[error("grouping by {by} would list more than {max} groups{found}; {hint}")]
    TooManyGroups {
        by: String,
        max: usize,
        /// ` (N)` when the count is known, empty when the work stopped.
        found: String,
        hint: &'static str,
    },
    #[error("the polygon has {given} vertices; a query polygon has at most {max} (simplify it, or query its bounding box with bbox=)")]
    TooManyVertices { given: usize, max: usize },
    #[error("invalid cursor '{0}': pass back the cursor a previous page returned")]
    InvalidCursor(String),
    #[error("invalid city data: {0}")]
    InvalidData(String),
}
