//! Tiles, TileJSON, the catalog and styles.

use crate::error::path_error;
use crate::error::{ApiError, ErrorCode};
use crate::openapi::{ErrorBody, Overloaded};
use crate::params::{Params, TileParams};
use crate::AppState;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::{Layer, TileCoord};
use onemap_tiles::{LayerSet, TileRequest, MAX_SERVE_ZOOM};

const DOC_CACHE_CONTROL: &str = "public, max-age=60";
/// Under private reads a shared cache may keep nothing.
const PRIVATE_DOC_CACHE_CONTROL: &str = "private, max-age=60";

/// How long a client or proxy may reuse a tile: tiles of layers that
/// change live (events as they are reported and moved, ships as they sail)
/// are revalidated on every use, which their ETag keeps cheap (304); the
/// others may be reused for five minutes, then revalidated by ETag. Under
/// private reads every tile is `private` (and the answer varies with
/// `Authorization`), so no shared cache hands one to another client.
fn tile_cache_control(layers: &LayerSet, private: bool) -> &'static str {
    let live = layers
        .iter()
        .any(|r| matches!(r.layer, Some(Layer::Events | Layer::Ships)));
    match (private, live) {
        (false, false) => "public, max-age=300",
        (false, true) => "no-cache",
        (true, false) => "private, max-age=300",
        (true, true) => "private, no-cache",
    }
}

/// What the answer varies with: its encoding, and under private reads the
/// bearer token.
fn vary(private: bool) -> HeaderValue {
    HeaderValue::from_static(if private {
        "accept-encoding, authorization"
    } else {
        "accept-encoding"
    })
}

/// A JSON document (TileJSON, the catalog, a style): reusable for a
/// minute, and under private reads by its client only.
fn doc_response(private: bool, doc: serde_json::Value) -> Response {
    let cache = if private {
        PRIVATE_DOC_CACHE_CONTROL
    } else {
        DOC_CACHE_CONTROL
    };
    let mut res = ([(header::CACHE_CONTROL, cache)], Json(doc)).into_response();
    if private {
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static("authorization"));
    }
    res
}
pub const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// A Mapbox Vector Tile of one or more layers.
#[utoipa::path(get, path = "/tiles/{layers}/{z}/{x}/{y}", tag = "tiles",
    params(("layers" = String, Path, description = "Comma list of tile layers (see /catalog)"),
        ("z" = u32, Path, description = "Zoom, 0 to 18"), ("x" = u32, Path, description = "Column"),
        ("y" = u32, Path, description = "Row (the path ends in .mvt)"), TileParams),
    responses((status = 200, description = "A Mapbox Vector Tile 2.1 (gzip when accepted); strong ETag", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "A valid tile with nothing in it"),
        (status = 304, description = "The If-None-Match ETag still holds"),
        (status = 400, description = "Not a tile (z, x or y out of range or not a number)", body = ErrorBody),
        (status = 404, description = "Unknown layer, or the path does not end in .mvt", body = ErrorBody),
        (status = 422, description = "A filter value out of range or unknown", body = ErrorBody),
        Overloaded))]
pub async fn tile(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    Params(params): Params<TileParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((layers, z, x, y)) = path.map_err(path_error)?;
    let Some(y) = y.strip_suffix(".mvt") else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("tile URLs end in .mvt: /tiles/{layers}/{z}/{x}/{{y}}.mvt"),
        ));
    };
    let tile = parse_tile(&z, &x, y)?;
    let layers = LayerSet::parse(&layers)?;
    let cache_control = tile_cache_control(&layers, state.private_reads);
    let filter = params.filter()?;
    let req = TileRequest {
        layers,
        tile,
        filter,
    };
    // A cache hit is answered here; only rendering goes to a blocking
    // thread, under the expensive cap.
    let made = match state.tiles().cached(&req)? {
        Some(hit) => hit,
        None => crate::answer::blocking(&state, move |s| Ok(s.tiles().tile(&req)?)).await?,
    };
    let Some(made) = made else {
        state.metrics.tile_empty();
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        h.insert(header::VARY, vary(state.private_reads));
        return Ok(res);
    };
    let base = made.etag.trim_matches('"').to_string();
    let gzip = accepts_gzip(&headers);
    let etag = if gzip {
        format!("\"{base}-gz\"")
    } else {
        format!("\"{base}\"")
    };
    let mut res = if if_none_match(&headers, &base) {
        state.metrics.tile_not_modified();
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        state.metrics.tile_sent(made.bytes.len());
        let mut res = if gzip {
            let body = made
                .gzipped()
                .map_err(|e| ApiError::internal(format!("cannot gzip a tile: {e}")))?;
            let mut r = Response::new(Body::from(body));
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        } else {
            Response::new(Body::from(made.bytes.clone()))
        };
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(MVT_CONTENT_TYPE),
        );
        res
    };
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(header::VARY, vary(state.private_reads));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(res)
}

/// TileJSON 3.0 whose tile URL carries the same
/// filters as the request.
#[utoipa::path(get, path = "/tiles/{file}", tag = "tiles",
    params(("layers" = String, Path, description = "Comma list of tile layers (the path ends in .json)"), TileParams),
    responses((status = 200, description = "TileJSON 3.0 whose tile URL carries the request's filters", content_type = "application/json", body = Object),
        (status = 400, description = "No layers", body = ErrorBody),
        (status = 404, description = "Unknown layer, or the path does not end in .json", body = ErrorBody),
        (status = 422, description = "A filter value out of range or unknown", body = ErrorBody)))]
pub async fn tilejson(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(params): Params<TileParams>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(file) = path.map_err(path_error)?;
    let Some(names) = file.strip_suffix(".json") else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no resource /tiles/{file}: TileJSON is at /tiles/{{layers}}.json"),
        ));
    };
    let layers = LayerSet::parse(names)?;
    params.filter()?;
    let query = query
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let template = format!(
        "{}/tiles/{names}/{{z}}/{{x}}/{{y}}.mvt{query}",
        base_url(&headers)
    );
    let doc = state.tiles().tilejson(&layers, &template);
    Ok(doc_response(state.private_reads, doc))
}

/// The tile layers and their fields.
#[utoipa::path(get, path = "/catalog", tag = "tiles",
    responses((status = 200, description = "The tile layers, their zooms and fields", content_type = "application/json", body = Object)))]
pub async fn catalog(State(state): State<AppState>) -> Response {
    doc_response(state.private_reads, state.tiles().catalog())
}

/// A MapLibre style document.
#[utoipa::path(get, path = "/styles/{file}", tag = "tiles",
    params(("name" = String, Path, description = "A style name: day (the viewer) or wall (the wall display); the path ends in .json")),
    responses((status = 200, description = "A MapLibre style document whose sources point at this server", content_type = "application/json", body = Object),
        (status = 404, description = "Unknown style", body = ErrorBody)))]
pub async fn style(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(file) = path.map_err(path_error)?;
    let name = file.strip_suffix(".json").unwrap_or(&file);
    let doc = state
        .styles
        .resolved(name, &base_url(&headers))
        .ok_or_else(|| {
            let known: Vec<&str> = state.styles.names().collect();
            ApiError::new(
                ErrorCode::UnknownStyle,
                format!(
                    "unknown style '{name}' (known styles: {})",
                    known.join(", ")
                ),
            )
        })?;
    Ok(doc_response(state.private_reads, doc))
}

/// A tile from its path: numbers (`invalid_tile` otherwise, like a tile
/// outside the scheme: either way the path names no tile).
fn parse_tile(z: &str, x: &str, y: &str) -> Result<TileCoord, ApiError> {
    let num = |name: &str, s: &str| {
        s.parse::<u32>().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidTile,
                format!("tile {name} must be a non-negative integer, got '{s}'"),
            )
        })
    };
    let (z, x, y) = (num("z", z)?, num("x", x)?, num("y", y)?);
    if z > u32::from(MAX_SERVE_ZOOM) {
        return Err(ApiError::new(
            ErrorCode::InvalidTile,
            format!("invalid tile {z}/{x}/{y}: zoom must be at most {MAX_SERVE_ZOOM}"),
        ));
    }
    Ok(TileCoord::new(z, x, y)?)
}

/// `http://host:port` of the request, from `X-Forwarded-Proto`/`Host`
/// (empty when the host is missing or not a plain host name, so URLs stay
/// root-relative rather than pointing anywhere odd).
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let host = get(header::HOST).filter(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
    });
    let scheme = match get(header::HeaderName::from_static("x-forwarded-proto")) {
        Some("https") => "https",
        _ => "http",
    };
    host.map(|h| format!("{scheme}://{h}")).unwrap_or_default()
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// Whether `If-None-Match` names this tile (in either of its encodings).
fn if_none_match(headers: &HeaderMap, base: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            tag == "*" || tag == base || tag.strip_suffix("-gz") == Some(base)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn negotiation() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br, gzip;q=0.8"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&headers(&[])));
        assert!(if_none_match(
            &headers(&[("if-none-match", "\"a\", W/\"b-gz\"")]),
            "b"
        ));
        assert!(!if_none_match(&headers(&[("if-none-match", "\"a\"")]), "b"));
        assert_eq!(
            base_url(&headers(&[("host", "localhost:8080")])),
            "http://localhost:8080"
        );
        assert_eq!(base_url(&headers(&[("host", "a b/c")])), "");
    }

    #[test]
    fn cache_control_by_layer_and_privacy() {
        let set = |s: &str| LayerSet::parse(s).unwrap();
        let areas = set("districts,towns,villages,grids,units,labels,heritage,homesteads");
        assert_eq!(tile_cache_control(&areas, false), "public, max-age=300");
        assert_eq!(tile_cache_control(&areas, true), "private, max-age=300");
        for live in ["events", "ships", "districts,events", "schools,ships"] {
            assert_eq!(tile_cache_control(&set(live), false), "no-cache", "{live}");
            assert_eq!(tile_cache_control(&set(live), true), "private, no-cache");
        }
        assert_eq!(vary(true), "accept-encoding, authorization");
        assert_eq!(vary(false), "accept-encoding");
    }

    #[test]
    fn tile_parts() {
        assert!(parse_tile("5", "26", "13").is_ok());
        assert_eq!(
            parse_tile("a", "0", "0").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(parse_tile("3", "8", "0").unwrap_err().code, "invalid_tile");
        assert_eq!(parse_tile("99", "0", "0").unwrap_err().code, "invalid_tile");
    }
}
