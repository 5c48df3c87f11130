//! Every route, each registered with its OpenAPI description (the
//! `#[utoipa::path]` on its handler): routing anything here any other way
//! would serve it undocumented, and `tests/openapi.rs` fails on that.

use crate::{api, assets, live, service, ships, tiles, wall, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes and, through them, the paths of the OpenAPI document.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::head())
        // The viewer and its files.
        .routes(routes!(assets::index))
        .routes(routes!(assets::wall))
        .routes(routes!(assets::viewer_file))
        .routes(routes!(assets::vendor))
        // Tiles, TileJSON, catalog, styles.
        .routes(routes!(tiles::tile))
        .routes(routes!(tiles::tilejson))
        .routes(routes!(tiles::catalog))
        .routes(routes!(tiles::style))
        // Questions to the city.
        .routes(routes!(api::locate))
        .routes(routes!(api::features))
        .routes(routes!(api::feature))
        .routes(routes!(api::nearest))
        .routes(routes!(api::stats))
        .routes(routes!(api::hotspots))
        .routes(routes!(api::search))
        .routes(routes!(api::area))
        .routes(routes!(wall::wall))
        // The event loop.
        .routes(routes!(live::report))
        .routes(routes!(live::get_event))
        .routes(routes!(live::transition))
        // Ships.
        .routes(routes!(ships::list))
        .routes(routes!(ships::positions))
        .routes(routes!(ships::crossings))
        .routes(routes!(ships::stream))
        .routes(routes!(ships::geofence))
        .routes(routes!(ships::get))
        // The service itself.
        .routes(routes!(service::openapi))
        .routes(routes!(service::healthz))
        .routes(routes!(service::metrics))
}
