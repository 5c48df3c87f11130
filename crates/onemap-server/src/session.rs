//! People signing in and out (`/api/session`): a name and a password give
//! an HttpOnly, `SameSite=Strict` session cookie and the CSRF token the
//! page sends with each change. Failed sign-ins are counted per name and
//! per client address; beyond their limits the answer is 429 for
//! [`LOCKOUT_SECS`].

use crate::auth::{csrf_of, session_cookie, SESSION_COOKIE};
use crate::error::{ApiError, ErrorCode};
use crate::live::body;
use crate::openapi::ErrorBody;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use onemap_store::{UserInfo, SESSION_SECS};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use utoipa::ToSchema;

/// How long sign-ins stay refused after too many failures, seconds (from
/// the last failure).
pub const LOCKOUT_SECS: u64 = 300;
/// Failed sign-ins for one name before it is locked out.
pub const MAX_FAILURES_PER_NAME: u32 = 5;
/// Failed sign-ins from one address before it is locked out.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;

/// Failed sign-ins, by `name:…` and `addr:…`, forgotten [`LOCKOUT_SECS`]
/// after the last.
pub(crate) fn failures_cache() -> moka::sync::Cache<String, u32> {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(std::time::Duration::from_secs(LOCKOUT_SECS))
        .build()
}

/// A name and a password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    /// The account's sign-in name.
    name: String,
    password: String,
}

fn user_doc(u: &UserInfo, csrf: &str) -> serde_json::Value {
    json!({
        "user": {
            "name": u.name,
            "display_name": u.display_name,
            "role": u.role,
            "scope": u.scope,
        },
        "csrf": csrf,
    })
}

/// Whether the request came over TLS (`X-Forwarded-Proto: https` from the
/// proxy in front), or the server was told its cookies are always secure.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn cookie(value: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let s = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{s}"
    ))
    .ok()
}

/// Signs in with a name and a password: 200 with the account and its CSRF
/// token, and the session cookie. Five failures for a name, or twenty from
/// an address, lock it out for five minutes (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = SignInBody,
    responses((status = 200, description = "Signed in: {user: {name, display_name, role, scope}, csrf}; the session cookie (HttpOnly, SameSite=Strict, 12 hours) is set", content_type = "application/json", body = Object),
        (status = 401, description = "sign_in_failed: wrong name or password (never says which)", body = ErrorBody),
        (status = 429, description = "too_many_attempts: too many failures for this name or address; Retry-After says when to try again", body = ErrorBody),
        (status = 503, description = "This server keeps no accounts (no store)", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    b: Result<Json<SignInBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(b)?;
    let name_key = format!("name:{}", b.name.to_lowercase());
    let addr_key = peer.map(|Extension(ConnectInfo(a))| format!("addr:{}", a.ip()));
    let failures = &state.sign_in_failures;
    let locked = failures.get(&name_key).unwrap_or(0) >= MAX_FAILURES_PER_NAME
        || addr_key
            .as_ref()
            .is_some_and(|k| failures.get(k).unwrap_or(0) >= MAX_FAILURES_PER_ADDRESS);
    if locked {
        return Err(ApiError::new(
            ErrorCode::TooManyAttempts,
            format!(
                "too many failed sign-ins; try again in {} minutes",
                LOCKOUT_SECS / 60
            ),
        ));
    }
    let session = match state.live.sign_in(&b.name, &b.password).await {
        Ok(s) => s,
        Err(e) => {
            if matches!(e, onemap_live::LiveError::SignInFailed) {
                for k in std::iter::once(&name_key).chain(addr_key.as_ref()) {
                    failures
                        .entry(k.clone())
                        .and_upsert_with(|n| n.map_or(1, |n| n.into_value() + 1));
                }
                tracing::warn!(name = %b.name, "failed sign-in");
            }
            return Err(e.into());
        }
    };
    failures.invalidate(&name_key);
    tracing::info!(name = %session.user.name, role = %session.user.role, "signed in");
    let mut res = Json(user_doc(&session.user, &csrf_of(&session.token))).into_response();
    if let Some(c) = cookie(&session.token, SESSION_SECS, secure(&state, &headers)) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Who is signed in on this browser: the account and the session's CSRF
/// token; 401 without a session.
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses((status = 200, description = "{user: {name, display_name, role, scope}, csrf}", content_type = "application/json", body = Object),
        (status = 401, description = "Not signed in (or the session ended)", body = ErrorBody)))]
pub async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_signed_in = || ApiError::new(ErrorCode::Unauthorized, "not signed in");
    let token = session_cookie(&headers).ok_or_else(not_signed_in)?;
    if !state.live.keeps_changes() {
        return Err(not_signed_in());
    }
    let actor = state
        .live
        .actor(&token)
        .await
        .map_err(|_| not_signed_in())?;
    let name = actor
        .account
        .strip_prefix("usr_")
        .ok_or_else(not_signed_in)?
        .to_string();
    let doc = json!({
        "user": {
            "name": name,
            "display_name": actor.name,
            "role": actor.role,
            "scope": actor.scope.to_string(),
        },
        "csrf": csrf_of(&token),
    });
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(doc),
    )
        .into_response())
}

/// Signs out: the session ends on every server (within seconds) and the
/// cookie is cleared. 204 even without a session.
#[utoipa::path(delete, path = "/api/session", tag = "session",
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_cookie(&headers) {
        if state.live.keeps_changes() {
            state.live.sign_out(&token).await?;
        }
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(c) = cookie("", 0, secure(&state, &headers)) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(res)
}
