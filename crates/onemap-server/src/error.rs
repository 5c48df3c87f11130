//! The one place where failures become HTTP responses.
//!
//! Every handler returns `Result<_, ApiError>`; library errors convert into
//! [`ApiError`] here, each variant with its status and a stable machine code,
//! so no handler picks a status on its own. The body is always
//! `{"error": {"code": "...", "message": "..."}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::workflow::WorkflowError;
use onemap_core::CoreError;
use onemap_index::IndexError;
use onemap_store::StoreError;
use onemap_tiles::TilesError;

/// An error answer: status, stable code and a message for people.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// Syntactically malformed input: a number that is not one, a bad date.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Something named that does not exist: a layer, a style, an area, a route.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// Well-formed input with an unacceptable value: an unknown category, a
    /// window whose start is after its end, an oversized box.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, "{}", self.message);
        }
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let msg = e.to_string();
        match e {
            CoreError::InvalidCoordinate { .. } => Self::unprocessable("invalid_coordinate", msg),
            CoreError::InvalidBBox { .. } => Self::unprocessable("invalid_bbox", msg),
            CoreError::InvalidTile { .. } => Self::bad_request("invalid_tile", msg),
            CoreError::UnknownLayer(_) => Self::not_found("unknown_layer", msg),
            CoreError::UnknownLevel(_) => Self::unprocessable("unknown_level", msg),
            CoreError::UnknownValue { .. } => Self::unprocessable("unknown_value", msg),
            CoreError::InvalidAreaId(_) => Self::bad_request("invalid_area_id", msg),
            CoreError::BadPolygon(_) => Self::bad_request("bad_polygon", msg),
            CoreError::BadBBox(_) => Self::bad_request("bad_bbox", msg),
            CoreError::BadAreaId(_) => Self::bad_request("invalid_area_id", msg),
            CoreError::BadTime(_) => Self::bad_request("bad_time", msg),
        }
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        let msg = e.to_string();
        match e {
            IndexError::Core(c) => c.into(),
            IndexError::UnknownArea(_) => Self::not_found("unknown_area", msg),
            IndexError::InvalidAreaId(_) => Self::bad_request("invalid_area_id", msg),
            IndexError::H3Resolution { .. } => Self::unprocessable("invalid_resolution", msg),
            IndexError::Limit { .. } => Self::unprocessable("invalid_limit", msg),
            IndexError::NotApplicable { .. } | IndexError::FilterNotApplicable(_) => {
                Self::unprocessable("not_applicable", msg)
            }
            IndexError::InvalidWindow { .. } => Self::unprocessable("invalid_window", msg),
            IndexError::InvalidDistance(_) => Self::unprocessable("invalid_distance", msg),
            IndexError::InvalidPolygon(_) => Self::unprocessable("invalid_polygon", msg),
            IndexError::InvalidCursor(_) => Self::bad_request("invalid_cursor", msg),
            IndexError::UnknownGroupBy(_) => Self::unprocessable("unknown_level", msg),
            IndexError::UnknownPlace(_) => Self::unprocessable("unknown_value", msg),
            IndexError::BadH3Resolution(_) => Self::bad_request("bad_number", msg),
            IndexError::BBoxTooLarge { .. } => Self::unprocessable("bbox_too_large", msg),
            IndexError::InvalidData(_) => Self::internal(msg),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let msg = e.to_string();
        match e {
            StoreError::Workflow(w) => w.into(),
            StoreError::UnknownEvent(_) => Self::not_found("unknown_event", msg),
            StoreError::Postgres(p) if p.is_unavailable() => {
                tracing::warn!("{msg}");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    format!("{msg}; nothing was changed, try again later"),
                )
            }
            other => {
                tracing::error!("store error: {:#}", anyhow_chain(&other));
                Self::internal(format!("the store failed: {}", anyhow_chain(&other)))
            }
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        let msg = e.to_string();
        match e {
            WorkflowError::IllegalMove { .. } => {
                Self::new(StatusCode::CONFLICT, "illegal_move", msg)
            }
            WorkflowError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", msg),
            WorkflowError::Invalid(_) => Self::unprocessable("invalid_move", msg),
        }
    }
}

/// An error with its causes, `a: b: c`.
fn anyhow_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl From<TilesError> for ApiError {
    fn from(e: TilesError) -> Self {
        tiles_error(e)
    }
}

/// Tile errors: anything about the request is a 4xx, the rest a 500.
fn tiles_error(e: TilesError) -> ApiError {
    let msg = e.to_string();
    match e {
        TilesError::UnknownLayer { .. } | TilesError::InvalidLayerName(_) => {
            ApiError::not_found("unknown_layer", msg)
        }
        TilesError::NoLayers { .. } => ApiError::bad_request("no_layers", msg),
        TilesError::ZoomTooDeep { .. } => ApiError::bad_request("invalid_tile", msg),
        TilesError::InvalidFilter { .. } => ApiError::unprocessable("invalid_window", msg),
        TilesError::NonFiniteCoordinate { .. } => ApiError::internal(msg),
    }
}
