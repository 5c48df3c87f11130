//! The closed event loop over HTTP: report an event, move it along the loop,
//! read it with its history.
//!
//! Writes need a bearer token (`onemap token create`); reads stay public
//! unless the server was told otherwise (see [`crate::auth`]).
//! A change is committed to the store first; only then is it applied to the
//! in-memory city — a new snapshot ([`onemap_index::City::with_events`]) and
//! the tile source made from it — and only then answered, so the client that
//! made a change sees it in the next tile, figure or hot spot it asks for.
//! Changes that arrive while a snapshot is being built are applied together
//! in the next one.

use crate::api::js_safe;
use crate::error::{ApiError, ErrorCode};
use crate::tiles::path_error;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::workflow::Actor;
use onemap_core::{AreaId, Event, EventCategory, EventStatus, Layer, Level};
use onemap_store::{LiveStore, MoveRequest, NewReport, Notice};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The longest description kept.
const MAX_DESCRIPTION: usize = 2000;
/// The longest idempotency key, note or department name.
const MAX_SHORT: usize = 200;

/// The store and the queue of changes waiting for the next snapshot.
pub(crate) struct EventLoop {
    pub(crate) store: LiveStore,
    /// The first id after the city's base events.
    min_id: u64,
    pending: Mutex<Queue>,
    /// Held while a snapshot is built: one at a time, in order.
    pub(crate) building: tokio::sync::Mutex<()>,
    /// The number of the last local change a published snapshot holds.
    published: std::sync::atomic::AtomicU64,
}

/// What the next snapshot applies.
#[derive(Debug, Default)]
struct Queue {
    /// Changes this server committed, as committed.
    events: Vec<Event>,
    /// Events other servers announced, to read from the store.
    remote: Vec<u64>,
    /// Read every event changed since then (announcements may have been
    /// missed while the listening connection was down).
    resync: Option<i64>,
    /// How many local changes were ever queued: the number of the last.
    queued: u64,
}

impl Queue {
    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.remote.is_empty() && self.resync.is_none()
    }

    /// Takes what is queued, keeping the count.
    fn take(&mut self) -> Queue {
        Queue {
            events: std::mem::take(&mut self.events),
            remote: std::mem::take(&mut self.remote),
            resync: self.resync.take(),
            queued: self.queued,
        }
    }
}

impl EventLoop {
    pub(crate) fn new(store: LiveStore, min_id: u64) -> Self {
        EventLoop {
            store,
            min_id,
            pending: Mutex::default(),
            building: tokio::sync::Mutex::new(()),
            published: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn event_loop(state: &AppState) -> Result<&EventLoop, ApiError> {
    state.events.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::ReadOnly,
            "this server keeps no changes (it was started without a store for the event loop)",
        )
    })
}

/// Applies a committed change to the in-memory city; returns once a
/// snapshot holding it is being served.
async fn apply(state: &AppState, changed: Event) -> Result<(), ApiError> {
    let number = {
        let mut q = event_loop(state)?.queue();
        q.events.push(changed);
        q.queued += 1;
        q.queued
    };
    turn(state, Some(number)).await
}

/// Builds and publishes one snapshot with everything queued — unless
/// `waiting_for`, the number of a local change, is already published by an
/// earlier turn (so concurrent changes are answered together, one snapshot
/// for all that queued while the last one was built).
async fn turn(state: &AppState, waiting_for: Option<u64>) -> Result<(), ApiError> {
    use std::sync::atomic::Ordering;
    let lp = event_loop(state)?;
    let _turn = lp.building.lock().await;
    if waiting_for.is_some_and(|n| lp.published.load(Ordering::Acquire) >= n) {
        return Ok(());
    }
    let queued = lp.queue().take();
    if queued.is_empty() {
        // An earlier turn took this change and has published it.
        return Ok(());
    }
    let Queue {
        events: mut batch,
        remote,
        resync,
        queued: upto,
    } = queued;
    // Other servers' changes are read now, after the queue was taken, so
    // what is read is at least as new as anything queued for those events.
    let n_local = batch.len();
    if !remote.is_empty() || resync.is_some() {
        let read = async {
            let mut got = lp.store.events(&remote).await?;
            if let Some(since) = resync {
                got.extend(lp.store.events_changed_since(since).await?);
            }
            Ok::<_, onemap_store::StoreError>(got)
        };
        match read.await {
            Ok(got) => batch.extend(got),
            Err(e) => {
                tracing::warn!(
                    "cannot read {} event(s) other servers changed (will retry): {e}",
                    remote.len()
                );
                let mut q = lp.queue();
                q.remote.extend(remote);
                q.resync = match (q.resync, resync) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
    }
    // One state per event: the last one queued or read.
    let mut last: HashMap<u64, usize> = HashMap::with_capacity(batch.len());
    for (i, e) in batch.iter().enumerate() {
        last.insert(e.id, i);
    }
    let batch: Vec<Event> = batch
        .into_iter()
        .enumerate()
        .filter(|(i, e)| last.get(&e.id) == Some(i))
        .map(|(_, e)| e)
        .collect();
    if batch.is_empty() {
        return Ok(());
    }
    let s = state.clone();
    let n = batch.len();
    let started = std::time::Instant::now();
    let tiles = tokio::task::spawn_blocking(move || {
        let tiles = s.tiles();
        // Where the changed events were and are: only those districts' tiles
        // that read events are rendered again.
        let mut places: Vec<(f64, f64)> = batch.iter().map(|e| (e.lon, e.lat)).collect();
        places.extend(
            batch
                .iter()
                .filter_map(|e| tiles.city().event(e.id))
                .map(|e| (e.lon, e.lat)),
        );
        let city = tiles.city().with_events(batch)?;
        let indexed = started.elapsed();
        Ok::<_, ApiError>((tiles.with_changed_events(Arc::new(city), places), indexed))
    })
    .await
    .map_err(|e| ApiError::internal(format!("applying a change failed: {e}")))??;
    let (tiles, indexed) = tiles;
    state.publish(tiles);
    lp.published.store(upto, Ordering::Release);
    tracing::info!(
        "applied {n} changed event(s) ({n_local} from this server) in {:.0} ms (index {:.0} ms)",
        started.elapsed().as_secs_f64() * 1e3,
        indexed.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Applies the changes other servers announce (see
/// [`onemap_store::PgLive::listen`]) as they come, batching those that
/// arrive while a snapshot is built. Runs until the notices end.
pub fn follow_changes(
    state: &AppState,
    mut notices: tokio::sync::mpsc::UnboundedReceiver<Notice>,
) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let Some(lp) = state.events.as_ref() else {
            return;
        };
        while let Some(first) = notices.recv().await {
            {
                let mut q = lp.queue();
                let mut next = Some(first);
                while let Some(n) = next {
                    match n {
                        Notice::Changed(id) => q.remote.push(id),
                        Notice::Resync { since } => {
                            q.resync = Some(q.resync.map_or(since, |s| s.min(since)));
                        }
                    }
                    next = notices.try_recv().ok();
                }
            }
            if let Err(e) = turn(&state, None).await {
                tracing::warn!("cannot apply other servers' changes: {}", e.message);
            }
        }
    })
}

/// The actor behind the request's bearer token: 401 without a valid one.
async fn actor(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    crate::auth::bearer_actor(&event_loop(state)?.store, headers).await
}

pub(crate) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(ApiError::from)
}

fn short(name: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.chars().count() > MAX_SHORT => Err(ApiError::new(
            ErrorCode::TooLong,
            format!("{name} is longer than {MAX_SHORT} characters"),
        )),
        Some(s) if s.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// An id given as a JSON number or a string (18-digit unit ids are strings
/// in our answers, since JavaScript numbers cannot hold them).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdValue {
    Number(u64),
    Text(String),
}

impl IdValue {
    fn get(&self) -> Option<u64> {
        match self {
            IdValue::Number(n) => Some(*n),
            IdValue::Text(s) => s.trim().parse().ok(),
        }
    }
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
    let who = actor(&state, &headers).await?;
    let category: EventCategory = b.category.parse()?;
    let description = b.description.trim().to_string();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::new(
            ErrorCode::InvalidDescription,
            format!("description must be 1 to {MAX_DESCRIPTION} characters"),
        ));
    }
    let header_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let key = short("idempotency_key", b.idempotency_key.or(header_key))?;
    let city = state.city();
    let given_unit = match &b.unit {
        None => None,
        Some(v) => {
            let id = v
                .get()
                .and_then(|n| AreaId::new(n).ok())
                .filter(|a| a.level() == Some(Level::Unit))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidUnit,
                        "unit must be the 18-digit id of a unit",
                    )
                })?;
            if city.feature(Layer::Units, id.get()).is_none() {
                return Err(ApiError::new(
                    ErrorCode::UnknownUnit,
                    format!("no unit {id} in this city"),
                ));
            }
            Some(id)
        }
    };
    let (lon, lat, unit) = match (b.lon, b.lat, given_unit) {
        (Some(lon), Some(lat), given) => {
            let located = city.locate_unit(lon, lat)?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::OutsideCity,
                    format!("({lon}, {lat}) is not inside any unit of the city"),
                )
            })?;
            if let Some(u) = given.filter(|u| *u != located) {
                return Err(ApiError::new(
                    ErrorCode::UnitMismatch,
                    format!("({lon}, {lat}) lies in unit {located}, not in unit {u}"),
                ));
            }
            (lon, lat, located)
        }
        (None, None, Some(u)) => {
            // The unit's own anchor point, inside its boundary.
            let f = city
                .feature(Layer::Units, u.get())
                .ok_or_else(|| ApiError::internal("unit vanished"))?;
            (f.lon, f.lat, u)
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::MissingLocation,
                "give lon and lat, or a unit id, or both",
            ))
        }
    };
    let lp = event_loop(&state)?;
    let min_id = lp
        .min_id
        .max(city.max_id(Layer::Events).map_or(1, |m| m + 1));
    let new = NewReport {
        lon,
        lat,
        unit,
        category,
        description,
        idempotency_key: key,
    };
    let (rec, created) = lp
        .store
        .report(who, min_id, new, onemap_core::time::now())
        .await?;
    if created {
        apply(&state, rec.event.clone()).await?;
    }
    let id = rec.event.id;
    let doc = one_event(&state, id).await?;
    let mut res = (
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(doc),
    )
        .into_response();
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
    let who = actor(&state, &headers).await?;
    let to: EventStatus = b.to.parse()?;
    let mv = MoveRequest {
        to,
        routed_to: short("routed_to", b.routed_to)?,
        note: short("note", b.note)?,
    };
    let city = state.city();
    let base = city.event(id);
    let lp = event_loop(&state)?;
    let rec = lp
        .store
        .transition(who, id, base, mv, onemap_core::time::now())
        .await?;
    apply(&state, rec.event).await?;
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
    let mut store_away = false;
    let stored = match &state.events {
        Some(lp) => match lp.store.event(id).await {
            Ok(found) => found,
            // The database is away: answer from memory, with no history
            // (`null`, not an empty list).
            Err(onemap_store::StoreError::Postgres(e)) if e.is_unavailable() => {
                store_away = true;
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let city = state.city();
    let unit_of_city = city.event_unit(id);
    let doc = match stored {
        Some((rec, history)) => json!({
            "event": rec.event,
            "description": rec.description,
            "reporter": rec.reporter,
            "routed_to": rec.routed_to,
            "assigned_unit": unit_of_city,
            "history": history,
        }),
        None => {
            let e = city
                .event(id)
                .ok_or_else(|| ApiError::new(ErrorCode::UnknownEvent, format!("no event {id}")))?;
            json!({
                "event": e,
                "description": null,
                "reporter": null,
                "routed_to": null,
                "assigned_unit": unit_of_city,
                "history": if store_away { Value::Null } else { json!([]) },
            })
        }
    };
    Ok(js_safe(doc))
}
