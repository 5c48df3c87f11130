//! Cross-origin requests (CORS): who, besides the server's own pages, may
//! call it from a browser.
//!
//! - An origin on the allowlist (`onemap serve --cors-origin`) may do what
//!   the server's own pages do: read and write, with a bearer token and with
//!   credentials (`Access-Control-Allow-Credentials`).
//! - Any other origin may only read what is public — `GET`/`HEAD` without
//!   `Authorization` and without credentials (`Access-Control-Allow-Origin:
//!   *`), so a map on another site can show the tiles — and nothing at all
//!   under `--private-reads`. Its preflights for a write, or for a request
//!   carrying a token, get no CORS headers, so the browser never sends it.
//!
//! Written here rather than with tower-http's `CorsLayer`, whose one policy
//! applies to every allowed origin: the two kinds of origin get different
//! methods, headers and credentials.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What an allowlisted origin may send (besides the CORS-safelisted ones).
const TRUSTED_HEADERS: &str =
    "authorization, content-type, if-none-match, idempotency-key, x-csrf-token";
/// What any origin may send for a public read.
const PUBLIC_HEADERS: &str = "if-none-match";
const TRUSTED_METHODS: &str = "GET, HEAD, POST, DELETE";
const PUBLIC_METHODS: &str = "GET, HEAD";
/// How long a browser may keep a preflight's answer, seconds.
const MAX_AGE: &str = "600";

/// The origins allowed to read and write with credentials, as configured:
/// `scheme://host[:port]`, compared exactly (lower-cased, no trailing
/// slash).
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    /// Checks each origin: `http://` or `https://`, a host, an optional port,
    /// nothing after. `*` is refused: trusting every origin with credentials
    /// would let any site act for a signed-in user.
    pub fn parse<S: AsRef<str>>(origins: &[S]) -> Result<CorsOrigins, String> {
        origins
            .iter()
            .map(|o| Self::origin(o.as_ref()))
            .collect::<Result<_, _>>()
            .map(CorsOrigins)
    }

    /// One origin, checked and normalized (the command line's value parser).
    pub fn origin(raw: &str) -> Result<String, String> {
        let raw = raw.trim();
        let o = raw.trim_end_matches('/').to_ascii_lowercase();
        if o == "*" {
            return Err("--cors-origin '*' is refused: list the origins to trust (any origin may already read public data without credentials)".into());
        }
        let rest = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| {
            let mut parts = r.split(':');
            let host = parts.next().unwrap_or("");
            let port_ok = parts.next().is_none_or(|p| p.parse::<u16>().is_ok());
            !host.is_empty()
                && !r.contains(['/', '?', '#', '@', ' '])
                && port_ok
                && parts.next().is_none()
        });
        if !ok {
            return Err(format!(
                "invalid --cors-origin '{raw}': expected scheme://host[:port], e.g. https://map.putian.gov.cn"
            ));
        }
        Ok(o)
    }

    fn trusts(&self, origin: &str) -> bool {
        let o = origin.trim_end_matches('/').to_ascii_lowercase();
        self.0.contains(&o)
    }
}

/// The middleware: answers preflights, adds the headers to answers.
pub(crate) async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await;
    };
    let trusted = origin.to_str().is_ok_and(|o| state.cors.trusts(o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        return preflight_answer(&state, req.headers(), &origin, trusted);
    }
    let public_read = matches!(*req.method(), Method::GET | Method::HEAD)
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !state.private_reads;
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if trusted || public_read {
        allow_origin(h, &origin, trusted);
    }
    if trusted {
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag, location, retry-after"),
        );
    } else if public_read {
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag"),
        );
    }
    // The answer's CORS headers depend on the origin.
    h.append(header::VARY, HeaderValue::from_static("origin"));
    res
}

/// A preflight: what the origin may send, or no CORS headers at all (the
/// browser then refuses the request).
fn preflight_answer(
    state: &AppState,
    headers: &HeaderMap,
    origin: &HeaderValue,
    trusted: bool,
) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    let method = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| m.to_str().ok())
        .unwrap_or("");
    let asked: Vec<String> = headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let (methods, allowed) = if trusted {
        (TRUSTED_METHODS, TRUSTED_HEADERS)
    } else {
        (PUBLIC_METHODS, PUBLIC_HEADERS)
    };
    let method_ok = methods.split(", ").any(|m| m == method);
    let headers_ok = asked.iter().all(|a| allowed.split(", ").any(|x| x == a));
    if !method_ok || !headers_ok || (!trusted && state.private_reads) {
        return res;
    }
    allow_origin(h, origin, trusted);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(allowed),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    res
}

/// A trusted origin is named and may send credentials; any other is `*`.
fn allow_origin(h: &mut HeaderMap, origin: &HeaderValue, trusted: bool) {
    if trusted {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    } else {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse() {
        let o = CorsOrigins::parse(&["https://Map.Example.org/", "http://127.0.0.1:8080"]).unwrap();
        assert!(o.trusts("https://map.example.org"));
        assert!(o.trusts("http://127.0.0.1:8080"));
        assert!(!o.trusts("http://127.0.0.1:8081"));
        assert!(!o.trusts("https://map.example.org.evil.com"));
        for bad in [
            "*",
            "map.example.org",
            "https://",
            "https://a/b",
            "ftp://a",
            "https://a:99999",
            "https://u@a",
        ] {
            assert!(CorsOrigins::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
