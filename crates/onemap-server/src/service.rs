//! The service's own routes: health and metrics, and the answers for a
//! route or method that does not exist.

use crate::error::{ApiError, ErrorCode};
use crate::openapi::ErrorBody;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Liveness, the loaded city's counts and its store.
///
/// `status` is `degraded` (still 200: the city is served from memory) when
/// the database cannot be reached. The store is its kind and status only:
/// where it is (a path, a database's address) is in the server's log, not
/// here, since anyone may ask. Never shed: it answers under any load.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The server, its city and its store's kind and status (files, memory, or postgis with connected and reconnects)", content_type = "application/json", body = Object)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let city = state.city();
    let counts: serde_json::Map<String, serde_json::Value> = onemap_core::Layer::ALL
        .iter()
        .map(|l| (l.as_str().to_string(), city.len(*l).into()))
        .collect();
    // The city is served from memory either way; a store that cannot be
    // reached makes the server degraded, not down.
    let (store, reachable) = state.store.status();
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "status": if reachable { "ok" } else { "degraded" },
            "uptime_s": state.started.elapsed().as_secs(),
            "layers": counts,
            "store": store,
        })),
    )
        .into_response()
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&state),
    )
        .into_response()
}

/// Any path no route takes: 404 `not_found`.
pub async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no route {}", uri.path()))
}

/// A route asked with a method it does not take: 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take that method (reads are GET or HEAD; the event loop POSTs)",
    )
}

/// Keeps the error schema's type in use where rustc can see it.
#[allow(dead_code)]
fn _error_body(e: ErrorBody) -> ErrorBody {
    e
}
