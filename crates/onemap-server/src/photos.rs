//! Events' photos over HTTP: a unit leader posts an image (the raw JPEG or
//! PNG as the body) to an event of their units; a reader whose scope covers
//! the event gets each photo as a JPEG. The live core decodes, checks,
//! resizes and keeps them ([`onemap_live::Live::add_photo`]).

use crate::error::path_error;
use crate::error::{ApiError, ErrorCode};
use crate::openapi::{Binary, ErrorBody};
use crate::AppState;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_live::PhotoRef;
use serde_json::{json, Value};

/// Where photo `seq` of event `id` is read.
pub(crate) fn photo_url(id: u64, seq: u8) -> String {
    format!("/api/events/{id}/photos/{seq}")
}

/// A photo as its event's page and the upload's answer list it.
pub(crate) fn photo_doc(id: u64, p: &PhotoRef) -> Value {
    json!({
        "seq": p.seq,
        "url": photo_url(id, p.seq),
        "width": p.width,
        "height": p.height,
        "uploader": p.uploader,
        "at": p.at,
    })
}

/// The media types an upload may be declared as.
const UPLOAD_TYPES: [&str; 2] = ["image/jpeg", "image/png"];

/// Adds a photo to an event: the body is the image itself, a JPEG or PNG
/// (checked by decoding it, at most 40 megapixels), kept scaled to at most
/// 1280 pixels on its long side as a JPEG. An event holds at most 3. Only a
/// unit leader whose scope covers the event's unit adds one; with a session
/// cookie, `X-CSRF-Token` too.
#[utoipa::path(post, path = "/api/events/{id}/photos", tag = "events",
    params(("id" = u64, Path, description = "The event's id (not digits: 400 bad_event_id)")),
    request_body(description = "The image: a JPEG or PNG file as it is (at most 10 MiB by default)",
        content((Binary = "image/jpeg"), (Binary = "image/png"))),
    responses((status = 201, description = "Kept: {seq, url, width, height, uploader, at} (Location names the photo)", content_type = "application/json", body = Object),
        (status = 400, description = "The id does not parse", body = ErrorBody),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "Not a unit leader whose scope covers the event, or a session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 409, description = "too_many_photos: the event has 3 photos already", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not declared image/jpeg or image/png", body = ErrorBody),
        (status = 422, description = "invalid_photo: the body is not a whole JPEG or PNG image; photo_too_large: it has more pixels than a photo may", body = ErrorBody),
        (status = 503, description = "The store cannot be reached (nothing was kept), the server keeps no changes, or it is overloaded", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_photo(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = crate::live::event_id(path)?;
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !UPLOAD_TYPES.contains(&declared.as_str()) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "a photo is sent as the body with Content-Type image/jpeg or image/png, not '{declared}'"
            ),
        ));
    }
    // Refused before the body is read when it would be anyway.
    state.live.may_add_photo(&who, id)?;
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        let limit = std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        })
        .any(|e| e.is::<http_body_util::LengthLimitError>());
        if limit {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!(
                    "this route takes bodies of at most {} bytes",
                    state.guard.limits.photo_body
                ),
            )
        } else {
            ApiError::new(ErrorCode::BadBody, format!("cannot read the body: {e}"))
        }
    })?;
    let photo = state.live.add_photo(who, id, bytes.to_vec()).await?;
    let mut res = (StatusCode::CREATED, Json(photo_doc(id, &photo))).into_response();
    if let Ok(v) = HeaderValue::from_str(&photo_url(id, photo.seq)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// One photo of an event, as a JPEG, for a reader whose scope covers the
/// event (or the department it was routed to), as its text is.
#[utoipa::path(get, path = "/api/events/{id}/photos/{seq}", tag = "events",
    params(("id" = u64, Path, description = "The event's id"),
        ("seq" = u8, Path, description = "The photo's number, 1 to 3")),
    responses((status = 200, description = "The photo (Cache-Control: private)", content_type = "image/jpeg", body = Binary),
        (status = 400, description = "The id or the number does not parse", body = ErrorBody),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "The reader's scope does not cover the event", body = ErrorBody),
        (status = 404, description = "No such event, or no such photo of it", body = ErrorBody),
        (status = 503, description = "The store cannot be reached, or the server keeps no changes", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn photo(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((raw_id, raw_seq)) = path.map_err(path_error)?;
    let id = crate::live::parse_event_id(&raw_id)?;
    let seq: u8 = raw_seq.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::BadNumber,
            format!("photo numbers are 1 to 3, got '{raw_seq}'"),
        )
    })?;
    let reader = crate::auth::read_actor(&state, &headers).await?;
    let bytes = state.live.photo(&reader, id, seq).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(onemap_live::PHOTO_MEDIA_TYPE),
            ),
            // Only for this reader's browser, for an hour (a photo never
            // changes; who may read it can).
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
            (
                header::VARY,
                HeaderValue::from_static("Cookie, Authorization"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}
