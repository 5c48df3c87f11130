//! Live ships over HTTP: position reports in; the fleet, a ship with its
//! track, port crossings, the geofence and a live stream out. Handlers
//! parse, call the live core ([`onemap_live::Live`]) and answer; tracks and
//! crossings come from its memory, so they answer while PostGIS is away.

use crate::error::{ApiError, ErrorCode};
use crate::live::body;
use crate::openapi::{ErrorBody, Overloaded, WriteErrors};
use crate::params::Params;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use onemap_core::ships::Geofence;
use onemap_core::Ship;
use onemap_live::{PositionInput, StreamItem, TRACK_SECS};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};

/// A report's time: unix seconds or an ISO 8601 text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum TimeValue {
    Unix(i64),
    Text(String),
}

/// One position report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionBody {
    mmsi: u32,
    time: TimeValue,
    lon: f64,
    lat: f64,
    speed_kn: f32,
    course_deg: f32,
}

/// A batch of at most 10,000 reports: a JSON array, or `{"reports": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchBody {
    List(Vec<PositionBody>),
    Wrapped { reports: Vec<PositionBody> },
}

/// What the batch did.
#[utoipa::path(post, path = "/api/ships/positions", tag = "ships", request_body = BatchBody,
    responses((status = 200, description = "What the batch did: applied, stale, jumps, rejected, the refused reports with why, crossings and alerts", content_type = "application/json", body = Object),
        (status = 403, description = "Not a ship_feed token", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape, or more than 10,000 reports", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn positions(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<BatchBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = crate::auth::bearer_token(&state, &headers)?;
    let who = state.live.ship_feed(&token).await?;
    let reports = match body(b)? {
        BatchBody::List(r) | BatchBody::Wrapped { reports: r } => r,
    };
    let reports = reports
        .into_iter()
        .map(|r| PositionInput {
            mmsi: r.mmsi,
            time: match r.time {
                TimeValue::Unix(t) => Some(t),
                TimeValue::Text(s) => onemap_core::time::parse_time(&s),
            },
            lon: r.lon,
            lat: r.lat,
            speed_kn: r.speed_kn,
            course_deg: r.course_deg,
        })
        .collect();
    let done = state.live.ingest_positions(&who, reports).await?;
    let v = serde_json::to_value(&done).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot serialize an answer: {e}"),
        )
    })?;
    Ok(Json(v))
}

fn ship_json(s: &Ship, geofence: &Geofence) -> Value {
    json!({
        "mmsi": s.mmsi,
        "name": s.name,
        "home_port": s.home_port,
        "lon": s.lon,
        "lat": s.lat,
        "speed_kn": s.speed_kn,
        "course_deg": s.heading_deg,
        "in_port": s.in_port,
        "port": geofence.port_at(s.lon, s.lat).map(|p| p.name.clone()),
        "reported_at": s.reported_at,
    })
}

/// `/api/ships`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only ships of this home port.
    port: Option<String>,
    /// in_port or at_sea.
    state: Option<String>,
}

/// The fleet now. `port`
/// matches the home port.
#[utoipa::path(get, path = "/api/ships", tag = "ships", params(ListParams),
    responses((status = 200, description = "The fleet now: each ship's position, speed, course and port", content_type = "application/json", body = Object),
        (status = 422, description = "An unknown state", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Params(q): Params<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let want_port = match q.state.as_deref() {
        None | Some("") => None,
        Some("in_port") => Some(true),
        Some("at_sea") => Some(false),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("state is in_port or at_sea, not {other:?}"),
            ))
        }
    };
    let city = state.live.city();
    let geofence = state.live.geofence();
    let ships: Vec<Value> = city
        .ships()
        .iter()
        .filter(|s| q.port.as_deref().is_none_or(|p| s.home_port == p))
        .filter(|s| want_port.is_none_or(|w| s.in_port == w))
        .map(|s| ship_json(s, geofence))
        .collect();
    Ok(Json(json!({"count": ships.len(), "ships": ships})))
}

/// The ship now and its track over the 24 h up
/// to its last report, as a GeoJSON LineString (recorded positions, oldest
/// first, ending where it is now).
#[utoipa::path(get, path = "/api/ships/{mmsi}", tag = "ships",
    params(("mmsi" = u32, Path, description = "The ship's MMSI")),
    responses((status = 200, description = "The ship now, with its track over the 24 h up to its last report as a GeoJSON LineString", content_type = "application/json", body = Object),
        (status = 400, description = "Not an MMSI", body = ErrorBody),
        (status = 404, description = "No such ship", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(mmsi): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mmsi: u32 = mmsi
        .trim()
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidMmsi, "an MMSI is a 9-digit number"))?;
    let (ship, coords) = state.live.ship_track(mmsi)?;
    let mut v = ship_json(&ship, state.live.geofence());
    v["track"] = json!({
        "type": "Feature",
        "properties": {"mmsi": mmsi, "from": ship.reported_at - TRACK_SECS},
        "geometry": {"type": "LineString", "coordinates": coords},
    });
    Ok(Json(v))
}

/// The port areas and restricted zones as a
/// GeoJSON FeatureCollection of polygons (`kind`: `port` or `zone`).
#[utoipa::path(get, path = "/api/ships/geofence", tag = "ships",
    responses((status = 200, description = "Port areas and restricted zones as GeoJSON polygons (kind port or zone)", content_type = "application/geo+json", body = Object)))]
pub async fn geofence(State(state): State<AppState>) -> Json<Value> {
    let g = state.live.geofence();
    let poly = |kind: &str, name: &str, ring: &[[f64; 2]]| {
        json!({"type": "Feature", "properties": {"kind": kind, "name": name},
               "geometry": {"type": "Polygon", "coordinates": [ring]}})
    };
    let features: Vec<Value> = g
        .ports
        .iter()
        .map(|p| poly("port", &p.name, &p.ring))
        .chain(g.zones.iter().map(|z| poly("zone", &z.name, &z.ring)))
        .collect();
    Json(json!({"type": "FeatureCollection", "features": features}))
}

/// `/api/ships/crossings`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CrossingParams {
    /// Only this port.
    port: Option<String>,
    /// Start (inclusive): YYYY-MM-DD (China Standard Time midnight), ISO
    /// 8601 date-time, or Unix seconds.
    from: Option<String>,
    /// End (exclusive), same forms as `from`.
    to: Option<String>,
}

/// Departures and arrivals per
/// port per day (China Standard Time days).
#[utoipa::path(get, path = "/api/ships/crossings", tag = "ships", params(CrossingParams),
    responses((status = 200, description = "Departures and arrivals per port per day (China time), and the crossings", content_type = "application/json", body = Object),
        (status = 400, description = "A time that does not parse", body = ErrorBody),
        (status = 422, description = "from is after to", body = ErrorBody),
        (status = 503, description = "The server keeps no changes", body = ErrorBody)))]
pub async fn crossings(
    State(state): State<AppState>,
    Params(q): Params<CrossingParams>,
) -> Result<Json<Value>, ApiError> {
    let time = |v: &Option<String>| -> Result<Option<onemap_core::TimeBound>, ApiError> {
        let v = v.as_deref().filter(|s| !s.is_empty());
        Ok(v.map(str::parse).transpose()?)
    };
    let window = onemap_index::TimeWindow::between(time(&q.from)?, time(&q.to)?)?;
    let from = window.from.unwrap_or(i64::MIN);
    let to = window.to.unwrap_or(i64::MAX);
    if !state.live.keeps_changes() {
        return Err(onemap_live::LiveError::ReadOnly.into());
    }
    let port = q.port.filter(|p| !p.is_empty());
    let list = state.live.crossings(port.as_deref(), from, to);
    let mut days: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for c in &list {
        let e = days
            .entry((c.port.clone(), onemap_core::time::cst_date(c.time)))
            .or_default();
        if c.arrival {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    let rows: Vec<Value> = days
        .into_iter()
        .map(|((port, day), (d, a))| json!({"port": port, "day": day, "departures": d, "arrivals": a}))
        .collect();
    Ok(Json(json!({"days": rows, "crossings": list})))
}

/// A stream message as (event name, JSON data): every item in order, and
/// `lagged` with the number missed when the receiver fell behind the buffer.
fn messages(
    rx: broadcast::Receiver<Arc<StreamItem>>,
) -> impl futures_util::Stream<Item = (&'static str, String)> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        let msg = match rx.recv().await {
            Ok(item) => (
                item.name(),
                serde_json::to_string(&*item).unwrap_or_else(|_| "{}".into()),
            ),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                ("lagged", json!({ "missed": n }).to_string())
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((msg, rx))
    })
}

/// Server-sent events of every applied position,
/// departure, arrival and alert, and of every event reported or moved
/// along the loop (its place, category and status), in order. A client that falls more than
/// the buffer behind gets a `lagged` event with how many it missed.
#[utoipa::path(get, path = "/api/ships/stream", tag = "ships",
    responses((status = 200, description = "Server-sent events: position, departure, arrival, alert, event (each with a rising seq), and lagged {missed} for a client that fell behind", content_type = "text/event-stream", body = String),
        Overloaded))]
pub async fn stream(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    use futures_util::StreamExt;
    // Held as long as the stream: the subscriber cap.
    let permit = state.guard.stream()?;
    let s = messages(state.live.subscribe()).map(move |(name, data)| {
        let _subscribed = &permit;
        Ok::<_, Infallible>(SseEvent::default().event(name).data(data))
    });
    Ok(Sse::new(s).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn pos(seq: u64) -> Arc<StreamItem> {
        Arc::new(StreamItem::Alert {
            seq,
            mmsi: 1,
            zone: "禁区1".into(),
            time: seq as i64,
        })
    }

    #[tokio::test]
    async fn a_lagging_client_is_told_then_continues_in_order() {
        let (tx, rx) = broadcast::channel(4);
        let mut m = Box::pin(messages(rx));
        tx.send(pos(1)).unwrap();
        let (name, data) = m.next().await.unwrap();
        assert_eq!(name, "alert");
        assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["seq"], 1);
        // Ten more while the client is not reading: the buffer holds four.
        for seq in 2..=11 {
            tx.send(pos(seq)).unwrap();
        }
        let (name, data) = m.next().await.unwrap();
        assert_eq!(name, "lagged");
        assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["missed"], 6);
        let mut seqs = Vec::new();
        for _ in 0..4 {
            let (_, data) = m.next().await.unwrap();
            seqs.push(
                serde_json::from_str::<Value>(&data).unwrap()["seq"]
                    .as_u64()
                    .unwrap(),
            );
        }
        assert_eq!(seqs, vec![8, 9, 10, 11]);
        drop(tx);
        assert!(m.next().await.is_none());
    }
}
