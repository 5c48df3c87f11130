//! The closed event loop over HTTP: report an event, move it along the
//! loop, read it with its history. Each handler parses, calls the live core
//! ([`onemap_live::Live`]) and answers; the core commits, applies and
//! publishes.
//!
//! Writes need a bearer token (`onemap token create`); reads stay public
//! unless the server was told otherwise (see [`crate::auth`]).

use crate::api::js_safe;
use crate::error::{ApiError, ErrorCode};
use crate::tiles::path_error;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_live::{MoveInput, ReportInput};
use serde::Deserialize;
use serde_json::Value;

pub(crate) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(ApiError::from)
}

/// An id given as a JSON number or a string (18-digit unit ids are strings
/// in our answers, since JavaScript numbers cannot hold them).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdValue {
    Number(u64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    lon: Option<f64>,
    lat: Option<f64>,
    unit: Option<IdValue>,
    category: String,
    description: String,
    idempotency_key: Option<String>,
}

/// `POST /api/events`: a unit leader reports an event at a point or in a
/// unit. 201 with the event (and `Location`); 200 with the first event when
/// the idempotency key was used before.
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
    let done = state.live.report(who, input).await?;
    let id = done.record.event.id;
    let doc = one_event(&state, id).await?;
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    to: String,
    routed_to: Option<String>,
    note: Option<String>,
}

/// `POST /api/events/{id}/transitions`: moves an event one step along the
/// loop (`{"to": "discussing"}`, `{"to": "routed", "routed_to": "…"}`, …).
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
    state.live.transition(who, id, input).await?;
    Ok(Json(one_event(&state, id).await?).into_response())
}

/// `GET /api/events/{id}`: the event, what the loop added to it, and its
/// history (empty for an event no one has moved through this server).
pub async fn get_event(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = event_id(path)?;
    Ok(Json(one_event(&state, id).await?))
}

fn event_id(path: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let Path(raw) = path.map_err(path_error)?;
    raw.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::BadEventId,
            format!("event ids are positive integers, got '{raw}'"),
        )
    })
}

async fn one_event(state: &AppState, id: u64) -> Result<Value, ApiError> {
    let view = state.live.event(id).await?;
    let doc = serde_json::to_value(&view).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot serialize an event: {e}"),
        )
    })?;
    Ok(js_safe(doc))
}
