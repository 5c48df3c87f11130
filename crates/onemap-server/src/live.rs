//! The closed event loop over HTTP: report an event, move it along the
//! loop, read it with its history. Each handler parses, calls the live core
//! ([`onemap_live::Live`]) and answers; the core commits, applies and
//! publishes.
//!
//! Writes need a bearer token (`onemap token create`); reads stay public
//! unless the server was told otherwise (see [`crate::auth`]).

use crate::answer::js_safe;
use crate::error::path_error;
use crate::error::{ApiError, ErrorCode};
use crate::openapi::{ErrorBody, WriteErrors};
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_live::{MoveInput, ReportInput};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

pub(crate) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(ApiError::from)
}

/// An id given as a JSON number or a string (18-digit unit ids are strings
/// in our answers, since JavaScript numbers cannot hold them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum IdValue {
    Number(u64),
    Text(String),
}

/// A report: a point (`lon`, `lat`), a unit, or both (then the point must
/// lie in the unit).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    lon: Option<f64>,
    lat: Option<f64>,
    /// The unit's 18-digit id (a string, or a number).
    unit: Option<IdValue>,
    /// drainage, sanitation, dispute, road, safety_hazard,
    /// illegal_building, public_order or other.
    category: String,
    /// What is wrong, 1 to 2,000 characters.
    description: String,
    /// Repeating a report with the same key returns the first one (also
    /// taken from the `Idempotency-Key` header); at most 200 characters.
    idempotency_key: Option<String>,
}

/// A unit leader reports an event at a point or in a
/// unit. 201 with the event (and `Location`); 200 with the first event when
/// the idempotency key was used before.
#[utoipa::path(post, path = "/api/events", tag = "events", request_body = ReportBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "As the body's idempotency_key")),
    responses((status = 201, description = "Reported and applied: the event with its history (Location names it)", content_type = "application/json", body = Object),
        (status = 200, description = "The idempotency key was used before: the first event", content_type = "application/json", body = Object),
        (status = 403, description = "The token's role or scope does not allow this", body = ErrorBody),
        (status = 422, description = "A value the loop refuses (category, description, place, unit)", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<ReportBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(b)?;
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let header_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let input = ReportInput {
        lon: b.lon,
        lat: b.lat,
        unit: b.unit.map(|u| match u {
            IdValue::Number(n) => n.to_string(),
            IdValue::Text(s) => s,
        }),
        category: b.category.parse()?,
        description: b.description,
        idempotency_key: b.idempotency_key.or(header_key),
    };
    let done = state.live.report(who.clone(), input).await?;
    let id = done.record.event.id;
    let doc = one_event(&state, id, Some(&who)).await?;
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = (status, Json(doc)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/events/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// A move one step along the loop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The status to move to: discussing, routed, handled, fed_back,
    /// closed, or reported (reopen a closed event).
    to: String,
    /// With `routed`: the office or department (at most 200 characters).
    routed_to: Option<String>,
    /// A note kept in the history (at most 200 characters).
    note: Option<String>,
}

/// Moves an event one step along the
/// loop (`{"to": "discussing"}`, `{"to": "routed", "routed_to": "…"}`, …).
#[utoipa::path(post, path = "/api/events/{id}/transitions", tag = "events", request_body = MoveBody,
    params(("id" = u64, Path, description = "The event's id (not digits: 400 bad_event_id)")),
    responses((status = 200, description = "Moved and applied: the event with its history", content_type = "application/json", body = Object),
        (status = 403, description = "The token's role or scope does not allow this", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 409, description = "The move skips a step of the loop", body = ErrorBody),
        (status = 422, description = "A value the loop refuses", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    b: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let id = event_id(path)?;
    let b = body(b)?;
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let input = MoveInput {
        to: b.to.parse()?,
        routed_to: b.routed_to,
        note: b.note,
    };
    state.live.transition(who.clone(), id, input).await?;
    Ok(Json(one_event(&state, id, Some(&who)).await?).into_response())
}

/// The event; what the loop added to it and its history only for a reader
/// whose scope covers it.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events",
    params(("id" = u64, Path, description = "The event's id")),
    responses((status = 200, description = "The event; with a bearer token whose scope covers it (or the department it was routed to), also what the loop added to it and its history (null while the store cannot be reached); without one, `private` is true and those are null", content_type = "application/json", body = Object),
        (status = 400, description = "The id does not parse", body = ErrorBody),
        (status = 401, description = "A bearer token that is not valid", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn get_event(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let id = event_id(path)?;
    let reader = crate::auth::optional_actor(&state, &headers).await?;
    Ok(Json(one_event(&state, id, reader.as_ref()).await?))
}

pub(crate) fn event_id(path: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let Path(raw) = path.map_err(path_error)?;
    parse_event_id(&raw)
}

/// An event id from its digits (400 `bad_event_id` otherwise).
pub(crate) fn parse_event_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::BadEventId,
            format!("event ids are positive integers, got '{raw}'"),
        )
    })
}

async fn one_event(
    state: &AppState,
    id: u64,
    reader: Option<&onemap_core::workflow::Actor>,
) -> Result<Value, ApiError> {
    let view = state.live.event(id, reader).await?;
    let mut doc = serde_json::to_value(&view).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot serialize an event: {e}"),
        )
    })?;
    // Each photo with where to read it.
    if let Some(photos) = &view.photos {
        doc["photos"] = photos
            .iter()
            .map(|p| crate::photos::photo_doc(id, p))
            .collect();
    }
    Ok(js_safe(doc))
}

/// A department's queue: the events routed to it that wait for it to
/// handle them, oldest report first, each with its text and history.
#[utoipa::path(get, path = "/api/queue", tag = "events",
    responses((status = 200, description = "{events: [event documents as GET /api/events/{id} gives them]}", content_type = "application/json", body = Object),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "Not a department: only a department has a queue", body = ErrorBody),
        (status = 503, description = "This server keeps no changes (no store)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn department_queue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let who = crate::auth::read_actor(&state, &headers).await?;
    let views = state.live.department_queue(&who).await?;
    let doc = serde_json::to_value(serde_json::json!({ "events": views })).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot serialize a queue: {e}"),
        )
    })?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(js_safe(doc)),
    )
        .into_response())
}
