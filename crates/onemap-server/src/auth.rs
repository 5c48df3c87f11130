//! Bearer tokens: the actor behind a request's `Authorization` header.

use crate::error::{ApiError, ErrorCode};
use axum::http::{header, HeaderMap};
use onemap_core::workflow::Actor;
use onemap_store::LiveStore;

/// The actor behind the request's bearer token: 401 without a valid one.
pub(crate) async fn bearer_actor(
    store: &LiveStore,
    headers: &HeaderMap,
) -> Result<Actor, ApiError> {
    let unauthorized = |msg: &str| ApiError::new(ErrorCode::Unauthorized, msg.to_string());
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("changes need a bearer token (Authorization: Bearer …; `onemap token create` issues one)"))?
        .to_string();
    store
        .actor(&token)
        .await?
        .ok_or_else(|| unauthorized("unknown bearer token"))
}

/// With private reads ([`crate::ServerConfig::private_reads`]): every read
/// but the pages, their files, `/healthz`, `/metrics` and the API document
/// needs a valid bearer token (any role); 401 without one. Writes check
/// their tokens in their handlers either way.
pub(crate) async fn private_reads(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let open = matches!(
        path,
        "/" | "/wall" | "/healthz" | "/metrics" | "/api/openapi.json"
    ) || path.starts_with("/viewer/")
        || path.starts_with("/vendor/");
    let read = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if !state.private_reads || open || !read {
        return next.run(req).await;
    }
    let store = match crate::live::event_loop(&state) {
        Ok(lp) => &lp.store,
        Err(e) => return e.into_response(),
    };
    match bearer_actor(store, req.headers()).await {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
