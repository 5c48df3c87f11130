//! Bearer tokens: the actor behind a request's `Authorization` header.

use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::http::{header, HeaderMap};
use onemap_core::workflow::Actor;

/// The request's bearer token: 503 on a server that keeps no changes
/// (it knows no tokens), 401 without one.
pub(crate) fn bearer_token(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if !state.live.keeps_changes() {
        return Err(onemap_live::LiveError::ReadOnly.into());
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "changes need a bearer token (Authorization: Bearer …; `onemap token create` issues one)",
            )
        })
}

/// The actor behind the request's bearer token: 401 without a valid one.
pub(crate) async fn bearer_actor(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let token = bearer_token(state, headers)?;
    Ok(state.live.actor(&token).await?)
}

/// The actor behind the request's bearer token, if it carries one (a token
/// that is not valid is still a 401); `None` without one.
pub(crate) async fn optional_actor(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Actor>, ApiError> {
    if !headers.contains_key(header::AUTHORIZATION) || !state.live.keeps_changes() {
        return Ok(None);
    }
    bearer_actor(state, headers).await.map(Some)
}

/// With private reads ([`crate::ServerConfig::private_reads`]): every read
/// but the pages, their files, `/healthz`, `/metrics` and the API document
/// needs a valid bearer token (any role); 401 without one. Writes check
/// their tokens in their handlers either way.
pub(crate) async fn private_reads(
    axum::extract::State(state): axum::extract::State<AppState>,
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
    match bearer_actor(&state, req.headers()).await {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
