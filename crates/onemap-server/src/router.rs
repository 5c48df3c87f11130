//! Every route, each registered with its OpenAPI description (the
//! `#[utoipa::path]` on its handler): routing anything here any other way
//! would serve it undocumented, and `tests/openapi.rs` fails on that.

use crate::{
    api, assets, coord, files, lists, live, photos, service, session, ships, table, templates,
    tiles, wall, AppState,
};
use axum::Json;
use serde_json::Value;
use std::sync::OnceLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes and, through them, the paths of the OpenAPI document.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::head())
        // The viewer and its files.
        .routes(routes!(assets::index))
        .routes(routes!(assets::wall))
        .routes(routes!(assets::table))
        .routes(routes!(assets::coord))
        .routes(routes!(assets::file))
        .routes(routes!(assets::lists))
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
        .routes(routes!(api::overdue))
        .routes(routes!(api::deadlines))
        .routes(routes!(api::hotspots))
        .routes(routes!(api::search))
        .routes(routes!(api::area))
        .routes(routes!(wall::wall))
        // The event loop.
        .routes(routes!(live::report))
        .routes(routes!(live::get_event))
        .routes(routes!(live::transition))
        .routes(routes!(live::department_queue))
        .routes(routes!(photos::add_photo))
        .routes(routes!(photos::photo))
        .routes(routes!(table::ledgers_doc))
        .routes(routes!(table::table))
        .routes(routes!(table::download))
        .routes(routes!(table::downloads))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(templates::delete))
        .routes(routes!(
            session::sign_in,
            session::current,
            session::sign_out
        ))
        // The problem, development and task lists.
        .routes(routes!(lists::list, lists::create))
        .routes(routes!(lists::get_item, lists::update))
        // Coordination of inspections and school visits.
        .routes(routes!(coord::plans))
        .routes(routes!(coord::plan))
        .routes(routes!(coord::decide))
        .routes(routes!(coord::sites))
        .routes(routes!(coord::calendar))
        .routes(routes!(coord::figures))
        .routes(routes!(coord::enterprise))
        .routes(routes!(coord::school))
        // Area files.
        .routes(routes!(files::area))
        .routes(routes!(files::enterprise))
        .routes(routes!(files::school))
        .routes(routes!(coord::add_request, coord::requests))
        .routes(routes!(coord::pushes))
        .routes(routes!(coord::push))
        .routes(routes!(coord::self_check))
        // Ships.
        .routes(routes!(ships::list))
        .routes(routes!(ships::positions))
        .routes(routes!(ships::crossings))
        .routes(routes!(ships::stream))
        .routes(routes!(ships::geofence))
        .routes(routes!(ships::get))
        // The service itself.
        .routes(routes!(openapi))
        .routes(routes!(service::healthz))
        .routes(routes!(service::metrics))
}

/// Paths as the router matches them → as documented.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "/tiles/{layers}/{z}/{x}/{y}",
        "/tiles/{layers}/{z}/{x}/{y}.mvt",
    ),
    ("/tiles/{file}", "/tiles/{layers}.json"),
    ("/styles/{file}", "/styles/{name}.json"),
];

/// The OpenAPI document of [`routes`], made once. The three paths whose
/// last segment carries a suffix (`{y}.mvt`, `{layers}.json`,
/// `{name}.json`), which the router can only match as whole segments, are
/// documented as clients write them.
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = routes().into_openapi();
        for (route, documented) in TEMPLATES {
            if let Some(item) = doc.paths.paths.remove(*route) {
                doc.paths.paths.insert((*documented).to_string(), item);
            }
        }
        serde_json::to_value(&doc)
            .unwrap_or_else(|e| serde_json::json!({"openapi": "3.1.0", "error": e.to_string()}))
    })
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)))]
pub async fn openapi() -> Json<&'static Value> {
    Json(document())
}
