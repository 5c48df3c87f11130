//! onemap over HTTP.
//!
//! [`app`] builds the axum [`Router`] over an [`AppState`] (the indexed city,
//! its tile source, the styles and the metrics); [`serve`] runs it on a bound
//! listener until Ctrl-C or SIGTERM. Routes:
//!
//! - tiles: `/tiles/{layers}/{z}/{x}/{y}.mvt`, `/tiles/{layers}.json`
//!   (TileJSON), `/catalog`, `/styles/{name}.json` (`tiles`, `styles`);
//! - queries under `/api/…` (`api`), the wall summary `/api/wall` (`wall`),
//!   `/api/openapi.json` (`openapi`);
//! - the event loop `POST /api/events…` (`live`) and live ships
//!   `/api/ships…`: position reports, the fleet, tracks, crossings and an
//!   SSE stream (`ships`) — thin handlers over the live core
//!   ([`onemap_live::Live`]), which commits, applies and publishes;
//! - `/healthz`, `/metrics` (`metrics`);
//! - the viewer `/`, the wall display `/wall`, their files under `/viewer/`
//!   and MapLibre under `/vendor/` (`assets`).
//!
//! Every failure is an [`ApiError`] with an [`ErrorCode`], turned into a JSON
//! answer in one place (`error`), where the code alone picks the status;
//! query parameters are parsed once at the edge (`params`), with the same
//! parsers the command line uses.

mod api;
mod assets;
mod auth;
mod error;
mod geojson;
mod live;
mod metrics;
mod openapi;
mod params;
mod ships;
mod state;
mod styles;
mod tiles;
mod wall;

pub use error::{ApiError, ErrorCode};
pub use state::{AppState, ServerConfig, StoreHandle};

use axum::http::{header, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::path::PathBuf;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

/// Failures while setting up or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("style {path} is not valid JSON")]
    Style {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the server stopped")]
    Serve(#[source] std::io::Error),
}

/// The whole HTTP app.
pub fn app(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST])
        .allow_headers([
            header::IF_NONE_MATCH,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::ETAG]);
    Router::new()
        .route("/", get(assets::index))
        .route("/wall", get(assets::wall))
        .route("/viewer/{file}", get(assets::viewer_file))
        .route("/vendor/{file}", get(assets::vendor))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::tile))
        .route("/tiles/{file}", get(tiles::tilejson))
        .route("/catalog", get(tiles::catalog))
        .route("/styles/{file}", get(tiles::style))
        .route("/api/locate", get(api::locate))
        .route("/api/features/{layer}", get(api::features))
        .route("/api/features/{layer}/{id}", get(api::feature))
        .route("/api/nearest/{layer}", get(api::nearest))
        .route("/api/stats", get(api::stats))
        .route("/api/hotspots", get(api::hotspots))
        .route("/api/areas/search", get(api::search))
        .route("/api/areas/{id}", get(api::area))
        .route("/api/wall", get(wall::wall))
        .route("/api/events", post(live::report))
        .route("/api/events/{id}", get(live::get_event))
        .route("/api/events/{id}/transitions", post(live::transition))
        .route("/api/ships", get(ships::list))
        .route("/api/ships/positions", post(ships::positions))
        .route("/api/ships/crossings", get(ships::crossings))
        .route("/api/ships/stream", get(ships::stream))
        .route("/api/ships/geofence", get(ships::geofence))
        .route("/api/ships/{mmsi}", get(ships::get))
        .route("/api/openapi.json", get(openapi_doc))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::private_reads,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CompressionLayer::new().gzip(true))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, then lets requests
/// in flight finish.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), ServerError> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServerError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
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

async fn metrics_text(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render(&state),
    )
        .into_response()
}

async fn openapi_doc() -> Json<serde_json::Value> {
    Json(openapi::document())
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no route {}", uri.path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take that method (reads are GET or HEAD; the event loop POSTs)",
    )
}
