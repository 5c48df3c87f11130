//! onemap over HTTP.
//!
//! [`app`] builds the axum [`Router`] over an [`AppState`] (the live city,
//! the styles and the metrics); [`serve`] runs it on a bound listener until
//! Ctrl-C or SIGTERM. Every route is registered in `router` together with
//! its OpenAPI description (`/api/openapi.json`, `openapi`). Routes:
//!
//! - tiles: `/tiles/{layers}/{z}/{x}/{y}.mvt`, `/tiles/{layers}.json`
//!   (TileJSON), `/catalog`, `/styles/{name}.json` (`tiles`, `styles`);
//! - queries under `/api/…` (`api`), the wall summary `/api/wall` (`wall`);
//! - the event loop `POST /api/events…` (`live`), events' photos
//!   `/api/events/{id}/photos…` (`photos`) and live ships
//!   `/api/ships…`: position reports, the fleet, tracks, crossings and an
//!   SSE stream (`ships`) — thin handlers over the live core
//!   ([`onemap_live::Live`]), which commits, applies and publishes;
//! - `/healthz`, `/metrics`, `/api/openapi.json` (`service`; the counters
//!   are kept by `metrics`);
//! - coordination of enterprise inspections and school visits under
//!   `/api/coord/…` (`coord`, over `onemap_coord`);
//! - area files `/api/files/{area,enterprise,school}/{id}` (`files`, over
//!   `onemap_files`);
//! - the viewer `/`, the wall display `/wall`, their files under `/viewer/`
//!   and MapLibre under `/vendor/` (`assets`).
//!
//! Connections are accepted and served by hyper in `conn` (header timeout,
//! connection cap); every route passes `guard`'s limits (request timeout,
//! body size by route, load shedding), and expensive work takes a permit
//! of its cap ([`Limits`]).
//!
//! Every failure is an [`ApiError`] with an [`ErrorCode`], turned into a JSON
//! answer in one place (`error`), where the code alone picks the status;
//! query parameters are parsed once at the edge (`params`), with the same
//! parsers the command line uses.

mod answer;
mod api;
mod assets;
mod auth;
mod conn;
mod coord;
mod cors;
mod error;
mod files;
mod geojson;
mod guard;
mod lists;
mod live;
mod metrics;
mod openapi;
mod params;
mod photos;
mod router;
mod service;
mod session;
mod ships;
mod state;
mod styles;
mod table;
mod templates;
mod tiles;
mod wall;

pub use coord::{CoordSource, DEFAULT_COORD_YEAR};
pub use cors::CorsOrigins;
pub use error::{ApiError, ErrorCode};
pub use guard::{default_max_queries, Limits, OVERFLOW_CONNECTIONS, QUERY_WAIT, RETRY_AFTER_SECS};
pub use metrics::{set_allocator_probe, AllocatorStats};
pub use state::{AppState, ServerConfig, StoreHandle};

use axum::Router;
use std::path::PathBuf;
use tower_http::compression::CompressionLayer;
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
}

/// The whole HTTP app.
pub fn app(state: AppState) -> Router {
    let (router, _) = router::routes().split_for_parts();
    router
        .fallback(service::unknown_route)
        .method_not_allowed_fallback(service::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::private_reads,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::limits,
        ))
        // The body limits are `guard::limits`'s, per route.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(CompressionLayer::new().gzip(true))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, within the state's
/// [`Limits`], then lets requests in flight finish (10 s at most).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), ServerError> {
    // The coordination's demo year is built off the async threads while
    // the server already answers.
    coord::Coord::warm(&state);
    conn::serve(listener, state, shutdown_signal()).await
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
