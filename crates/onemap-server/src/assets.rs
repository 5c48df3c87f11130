//! The web viewer's files: its own pages and scripts from `viewer/`, and
//! MapLibre GL JS from `viewer/node_modules` (installed by `npm ci`; never
//! a CDN).

use crate::error::path_error;
use crate::error::{ApiError, ErrorCode};
use crate::openapi::ErrorBody;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;

/// The viewer.
#[utoipa::path(get, path = "/", tag = "service",
    responses((status = 200, description = "The web viewer (HTML)", content_type = "text/html", body = String), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    send(state.viewer_dir.join("index.html"), "no-cache").await
}

/// The wall display.
#[utoipa::path(get, path = "/wall", tag = "service",
    responses((status = 200, description = "The wall display (HTML)", content_type = "text/html", body = String), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn wall(State(state): State<AppState>) -> Result<Response, ApiError> {
    send(state.viewer_dir.join("wall.html"), "no-cache").await
}

/// The one table (基层一张表).
#[utoipa::path(get, path = "/table", tag = "service",
    responses((status = 200, description = "The one table's page (HTML)", content_type = "text/html", body = String), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn table(State(state): State<AppState>) -> Result<Response, ApiError> {
    send(state.viewer_dir.join("table.html"), "no-cache").await
}

/// The problem, development and task lists (问题清单、发展清单、任务清单).
#[utoipa::path(get, path = "/lists", tag = "service",
    responses((status = 200, description = "The lists' page (HTML)", content_type = "text/html", body = String), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn lists(State(state): State<AppState>) -> Result<Response, ApiError> {
    send(state.viewer_dir.join("lists.html"), "no-cache").await
}

/// The coordination of inspections and school visits (plans, calendar,
/// files, departments' answers).
#[utoipa::path(get, path = "/coord", tag = "service",
    responses((status = 200, description = "The coordination page (HTML)", content_type = "text/html", body = String), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn coord(State(state): State<AppState>) -> Result<Response, ApiError> {
    send(state.viewer_dir.join("coord.html"), "no-cache").await
}

/// An area's, enterprise's or school's file (`?area=ID`, `?enterprise=ID`,
/// `?school=ID`), printable.
#[utoipa::path(get, path = "/file", tag = "service",
    responses((status = 200, description = "The file page (HTML)", content_type = "text/html", body = String), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn file(State(state): State<AppState>) -> Result<Response, ApiError> {
    send(state.viewer_dir.join("file.html"), "no-cache").await
}

/// A file directly in `viewer/` (no folders).
#[utoipa::path(get, path = "/viewer/{file}", tag = "service",
    params(("file" = String, Path, description = "A file of the viewer (js, mjs, css, html, png, svg; no folders)")),
    responses((status = 200, description = "The file", body = String), (status = 400, description = "Not a file name", body = ErrorBody), (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn viewer_file(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(file) = path.map_err(path_error)?;
    let plain = !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let allowed = matches!(ext(&file), "js" | "mjs" | "css" | "html" | "png" | "svg");
    if !plain || !allowed {
        return Err(not_found(&file));
    }
    send(state.viewer_dir.join(&file), "no-cache").await
}

/// MapLibre GL JS and its stylesheet.
#[utoipa::path(get, path = "/vendor/{file}", tag = "service",
    params(("file" = String, Path, description = "maplibre-gl.js, maplibre-gl.css or maplibre-gl.js.map")),
    responses((status = 200, description = "MapLibre GL JS (from the viewer's npm packages)", body = String), (status = 400, description = "Not a file name", body = ErrorBody),
        (status = 404, description = "No such file, or the viewer's npm packages are not installed (viewer_not_installed)", body = ErrorBody)))]
pub async fn vendor(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(file) = path.map_err(path_error)?;
    let dist = state.viewer_dir.join("node_modules/maplibre-gl/dist");
    let path = match file.as_str() {
        "maplibre-gl.js" | "maplibre-gl.css" | "maplibre-gl.js.map" => dist.join(&file),
        _ => return Err(not_found(&file)),
    };
    if !path.exists() {
        return Err(ApiError::new(
            ErrorCode::ViewerNotInstalled,
            format!(
                "{} is missing: run `npm ci` in {}",
                path.display(),
                state.viewer_dir.display()
            ),
        ));
    }
    send(path, "public, max-age=86400").await
}

fn not_found(file: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no viewer file '{file}'"))
}

fn ext(file: &str) -> &str {
    file.rsplit_once('.').map_or("", |(_, e)| e)
}

async fn send(path: PathBuf, cache: &'static str) -> Result<Response, ApiError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let kind = match ext(name) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, cache)],
            bytes,
        )
            .into_response()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no viewer file {}", path.display()),
        )),
        Err(e) => Err(ApiError::internal(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}
