//! Who is asking: a bearer token (machines: ship feeds, GIS tools,
//! dashboards) in `Authorization`, or a person's session cookie
//! (`onemap_session`, set by `POST /api/session`). A change made with the
//! cookie also needs the session's CSRF token in `X-CSRF-Token`, which
//! only the server's own pages (and origins on the CORS allowlist) can
//! read; the cookie is `SameSite=Strict` besides.

use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::http::{header, HeaderMap};
use onemap_core::workflow::Actor;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "onemap_session";
/// The header a change made with the session cookie carries.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// What a request presents.
pub(crate) enum Credential {
    Bearer(String),
    Session(String),
}

impl Credential {
    /// The secret itself.
    pub(crate) fn secret(&self) -> &str {
        match self {
            Credential::Bearer(t) | Credential::Session(t) => t,
        }
    }
}

/// The request's bearer token, else its session cookie.
pub(crate) fn credential(headers: &HeaderMap) -> Option<Credential> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(t) = bearer {
        return Some(Credential::Bearer(t.to_string()));
    }
    session_cookie(headers).map(Credential::Session)
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The CSRF token of a session: derived from its secret, which the page
/// cannot read (the cookie is HttpOnly), so a page has it only from
/// `/api/session`'s answer.
pub(crate) fn csrf_of(session: &str) -> String {
    let d = Sha256::digest(format!("onemap-csrf\0{session}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn no_credential() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "sign in (POST /api/session), or send a bearer token (Authorization: Bearer …; `onemap token create` issues one)",
    )
}

/// The request's bearer token (ship feeds): 503 on a server that keeps no
/// changes (it knows no tokens), 401 without one.
pub(crate) fn bearer_token(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if !state.live.keeps_changes() {
        return Err(onemap_live::LiveError::ReadOnly.into());
    }
    match credential(headers) {
        Some(Credential::Bearer(t)) => Ok(t),
        _ => Err(ApiError::new(
            ErrorCode::Unauthorized,
            "this needs a bearer token (Authorization: Bearer …; `onemap token create` issues one)",
        )),
    }
}

/// The actor behind a change: a bearer token, or a session cookie with its
/// CSRF token (403 `csrf_failed` without it); 401 without either.
pub(crate) async fn bearer_actor(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    if !state.live.keeps_changes() {
        return Err(onemap_live::LiveError::ReadOnly.into());
    }
    if let Some(Credential::Session(s)) = credential(headers) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // Both sides hashed, so the comparison takes as long wherever they
        // differ.
        let same = Sha256::digest(sent.as_bytes()) == Sha256::digest(csrf_of(&s).as_bytes());
        if !same {
            return Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "a change made with the session cookie needs the session's X-CSRF-Token (from GET /api/session)",
            ));
        }
    }
    read_actor(state, headers).await
}

/// The actor behind a read: a bearer token or a session cookie; 401
/// without a valid one.
pub(crate) async fn read_actor(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    if !state.live.keeps_changes() {
        return Err(onemap_live::LiveError::ReadOnly.into());
    }
    let cred = credential(headers).ok_or_else(no_credential)?;
    Ok(state.live.actor(cred.secret()).await?)
}

/// The actor behind a read, if it carries a credential (one that is not
/// valid is still a 401); `None` without one.
pub(crate) async fn optional_actor(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Actor>, ApiError> {
    if credential(headers).is_none() || !state.live.keeps_changes() {
        return Ok(None);
    }
    read_actor(state, headers).await.map(Some)
}

/// With private reads ([`crate::ServerConfig::private_reads`]): every read
/// but the pages, their files, `/healthz`, `/metrics`, the API document
/// and the session itself needs a valid bearer token or session (any
/// role); 401 without one. Writes check theirs in their handlers either way.
pub(crate) async fn private_reads(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let open = matches!(
        path,
        "/" | "/wall"
            | "/table"
            | "/coord"
            | "/file"
            | "/lists"
            | "/healthz"
            | "/metrics"
            | "/api/openapi.json"
            | "/api/session"
    ) || path.starts_with("/viewer/")
        || path.starts_with("/vendor/");
    let read = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if !state.private_reads || open || !read {
        return next.run(req).await;
    }
    match read_actor(&state, req.headers()).await {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_from_headers() {
        let mut h = HeaderMap::new();
        assert!(credential(&h).is_none());
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; onemap_session=om_abc ; b=2"),
        );
        assert!(matches!(credential(&h), Some(Credential::Session(s)) if s == "om_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer om_t"),
        );
        assert!(matches!(credential(&h), Some(Credential::Bearer(s)) if s == "om_t"));
        assert_ne!(csrf_of("om_abc"), csrf_of("om_abd"));
        assert_eq!(csrf_of("om_abc").len(), 64);
    }
}
