//! Bearer tokens: the actor behind a request's `Authorization` header.

use crate::error::ApiError;
use axum::http::{header, HeaderMap, StatusCode};
use onemap_core::workflow::Actor;
use onemap_store::LiveStore;

/// The actor behind the request's bearer token: 401 without a valid one.
pub(crate) async fn bearer_actor(
    store: &LiveStore,
    headers: &HeaderMap,
) -> Result<Actor, ApiError> {
    let unauthorized =
        |msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg.to_string());
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
