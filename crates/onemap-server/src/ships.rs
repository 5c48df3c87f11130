//! Live ships over HTTP: position reports in, ships, tracks, port crossings
//! and a live stream out.
//!
//! `POST /api/ships/positions` (a `ship_feed` token) judges each report of a
//! batch in order ([`onemap_core::ships::judge`]), derives port state,
//! departures, arrivals and zone alerts ([`Geofence::step`]), commits the
//! applied positions and crossings to the store in one transaction, then
//! applies them as a new city snapshot ([`onemap_index::City::with_ships`])
//! and publishes every change on the stream, in order. Batches (and event
//! changes) are applied one at a time, so each judges against the last.

use crate::error::{ApiError, ErrorCode};
use crate::live::{body, event_loop};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::ships::{judge, moved, Geofence, PositionReport, ZoneAlert};
use onemap_core::{Role, Ship};
use onemap_store::{Crossing, ShipPosition};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// The most reports one batch may hold.
pub const MAX_BATCH: usize = 10_000;
/// How many stream messages a slow client may fall behind before it is
/// told it lagged.
const STREAM_BUFFER: usize = 16_384;

/// One message of the live stream.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamItem {
    Position {
        seq: u64,
        mmsi: u32,
        time: i64,
        lon: f64,
        lat: f64,
        speed_kn: f32,
        course_deg: f32,
        in_port: bool,
    },
    Departure {
        seq: u64,
        mmsi: u32,
        port: String,
        time: i64,
    },
    Arrival {
        seq: u64,
        mmsi: u32,
        port: String,
        time: i64,
    },
    Alert {
        seq: u64,
        mmsi: u32,
        zone: String,
        time: i64,
    },
}

impl StreamItem {
    fn name(&self) -> &'static str {
        match self {
            StreamItem::Position { .. } => "position",
            StreamItem::Departure { .. } => "departure",
            StreamItem::Arrival { .. } => "arrival",
            StreamItem::Alert { .. } => "alert",
        }
    }
}

/// The live side of the ships: the geofence and the stream.
pub(crate) struct ShipLive {
    pub(crate) geofence: Geofence,
    stream: broadcast::Sender<Arc<StreamItem>>,
    seq: AtomicU64,
}

impl ShipLive {
    pub(crate) fn new(geofence: Geofence) -> Self {
        ShipLive {
            geofence,
            stream: broadcast::channel(STREAM_BUFFER).0,
            seq: AtomicU64::new(0),
        }
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A report's time: unix seconds or an ISO 8601 text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Unix(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    mmsi: u32,
    time: TimeValue,
    lon: f64,
    lat: f64,
    speed_kn: f32,
    course_deg: f32,
}

/// A batch: a JSON array of reports, or `{"reports": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum BatchBody {
    List(Vec<ReportBody>),
    Wrapped { reports: Vec<ReportBody> },
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    applied: u64,
    stale: u64,
    jumps: u64,
    rejected: u64,
}

/// `POST /api/ships/positions`.
pub async fn positions(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<BatchBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let lp = event_loop(&state)?;
    let who = crate::auth::bearer_actor(&lp.store, &headers).await?;
    if who.role != Role::ShipFeed {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "position reports need a ship_feed token; this one is {}",
                who.role
            ),
        ));
    }
    let reports = match body(b)? {
        BatchBody::List(r) | BatchBody::Wrapped { reports: r } => r,
    };
    if reports.len() > MAX_BATCH {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "{} reports in one batch; at most {MAX_BATCH}",
                reports.len()
            ),
        ));
    }
    let live = &state.ships;
    // One change at a time: each batch judges against the last one applied.
    let _turn = lp.building.lock().await;
    let city = state.city();
    let fleet = city.ships();
    let mut current: BTreeMap<u32, Ship> = BTreeMap::new();
    let mut counts = Counts::default();
    let mut refused = Vec::new();
    let mut positions = Vec::new();
    let mut crossings = Vec::new();
    let mut alerts: Vec<ZoneAlert> = Vec::new();
    let mut items = Vec::new();
    for (index, r) in reports.iter().enumerate() {
        let time = match &r.time {
            TimeValue::Unix(t) => Some(*t),
            TimeValue::Text(s) => onemap_core::time::parse_time(s),
        };
        let Some(time) = time else {
            counts.rejected += 1;
            refused.push(json!({"index": index, "mmsi": r.mmsi, "reason": "bad_time"}));
            continue;
        };
        let report = PositionReport {
            mmsi: r.mmsi,
            time,
            lon: r.lon,
            lat: r.lat,
            speed_kn: r.speed_kn,
            course_deg: r.course_deg,
        };
        let last = current.get(&r.mmsi).cloned().or_else(|| {
            fleet
                .binary_search_by_key(&r.mmsi, |s| s.mmsi)
                .ok()
                .map(|i| fleet[i].clone())
        });
        if let Err(why) = judge(&report, last.as_ref()) {
            match why.counter() {
                "stale" => counts.stale += 1,
                "jumps" => counts.jumps += 1,
                _ => counts.rejected += 1,
            }
            let mut v = serde_json::to_value(&why).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("index".into(), index.into());
                m.insert("mmsi".into(), r.mmsi.into());
            }
            refused.push(v);
            continue;
        }
        let last = last.expect("judged: a known ship");
        let mut next = moved(&last, &report);
        let (crossing, alert) = live.geofence.step(&last, &mut next);
        counts.applied += 1;
        positions.push(ShipPosition {
            mmsi: next.mmsi,
            time: next.reported_at,
            lon: next.lon,
            lat: next.lat,
            speed_kn: next.speed_kn,
            course_deg: next.heading_deg,
            in_port: next.in_port,
        });
        items.push(StreamItem::Position {
            seq: 0,
            mmsi: next.mmsi,
            time: next.reported_at,
            lon: next.lon,
            lat: next.lat,
            speed_kn: next.speed_kn,
            course_deg: next.heading_deg,
            in_port: next.in_port,
        });
        if let Some(c) = crossing {
            items.push(if c.arrival {
                StreamItem::Arrival {
                    seq: 0,
                    mmsi: c.mmsi,
                    port: c.port.clone(),
                    time: c.time,
                }
            } else {
                StreamItem::Departure {
                    seq: 0,
                    mmsi: c.mmsi,
                    port: c.port.clone(),
                    time: c.time,
                }
            });
            crossings.push(Crossing {
                mmsi: c.mmsi,
                port: c.port,
                arrival: c.arrival,
                time: c.time,
            });
        }
        if let Some(a) = alert {
            items.push(StreamItem::Alert {
                seq: 0,
                mmsi: a.mmsi,
                zone: a.zone.clone(),
                time: a.time,
            });
            alerts.push(a);
        }
        current.insert(next.mmsi, next);
    }
    if !positions.is_empty() {
        // Committed first; only then applied and published.
        lp.store.record_ships(positions, crossings.clone()).await?;
        let s = state.clone();
        let changed: Vec<Ship> = current.into_values().collect();
        let tiles = tokio::task::spawn_blocking(move || {
            let tiles = s.tiles();
            let city = tiles.city().with_ships(changed)?;
            Ok::<_, ApiError>(tiles.with_city(Arc::new(city)))
        })
        .await
        .map_err(|e| ApiError::internal(format!("applying positions failed: {e}")))??;
        state.publish(tiles);
        for mut item in items {
            let seq = live.next_seq();
            match &mut item {
                StreamItem::Position { seq: s, .. }
                | StreamItem::Departure { seq: s, .. }
                | StreamItem::Arrival { seq: s, .. }
                | StreamItem::Alert { seq: s, .. } => *s = seq,
            }
            // No receiver is fine: nobody is watching.
            let _ = live.stream.send(Arc::new(item));
        }
    }
    Ok((
        StatusCode::OK,
        Json(json!({
            "applied": counts.applied,
            "stale": counts.stale,
            "jumps": counts.jumps,
            "rejected": counts.rejected,
            "refused": refused,
            "crossings": crossings,
            "alerts": alerts,
        })),
    )
        .into_response())
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    port: Option<String>,
    state: Option<String>,
}

/// `GET /api/ships?port=&state=in_port|at_sea`: the fleet now. `port`
/// matches the home port.
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
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
    let city = state.city();
    let ships: Vec<Value> = city
        .ships()
        .iter()
        .filter(|s| q.port.as_deref().is_none_or(|p| s.home_port == p))
        .filter(|s| want_port.is_none_or(|w| s.in_port == w))
        .map(|s| ship_json(s, &state.ships.geofence))
        .collect();
    Ok(Json(json!({"count": ships.len(), "ships": ships})))
}

/// `GET /api/ships/{mmsi}`: the ship now and its track over the 24 h up
/// to its last report, as a GeoJSON LineString (recorded positions, oldest
/// first, ending where it is now).
pub async fn get(
    State(state): State<AppState>,
    Path(mmsi): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mmsi: u32 = mmsi
        .trim()
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidMmsi, "an MMSI is a 9-digit number"))?;
    let city = state.city();
    let fleet = city.ships();
    let ship = fleet
        .binary_search_by_key(&mmsi, |s| s.mmsi)
        .ok()
        .map(|i| fleet[i].clone())
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownShip, format!("no ship {mmsi}")))?;
    // The 24 h up to its last report (a ship silent for days still shows
    // where it went last).
    let since = ship.reported_at - 86_400;
    let mut coords: Vec<[f64; 2]> = match state.events.as_ref() {
        Some(lp) => lp
            .store
            .ship_track(mmsi, since)
            .await?
            .into_iter()
            .map(|p| [p.lon, p.lat])
            .collect(),
        None => Vec::new(),
    };
    if coords.last() != Some(&[ship.lon, ship.lat]) {
        coords.push([ship.lon, ship.lat]);
    }
    let mut v = ship_json(&ship, &state.ships.geofence);
    v["track"] = json!({
        "type": "Feature",
        "properties": {"mmsi": mmsi, "from": since},
        "geometry": {"type": "LineString", "coordinates": coords},
    });
    Ok(Json(v))
}

/// `GET /api/ships/geofence`: the port areas and restricted zones as a
/// GeoJSON FeatureCollection of polygons (`kind`: `port` or `zone`).
pub async fn geofence(State(state): State<AppState>) -> Json<Value> {
    let g = &state.ships.geofence;
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossingParams {
    port: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/ships/crossings?port=&from=&to=`: departures and arrivals per
/// port per day (China Standard Time days).
pub async fn crossings(
    State(state): State<AppState>,
    q: Result<Query<CrossingParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::new(ErrorCode::BadQuery, e.body_text()))?;
    let time = |v: &Option<String>| -> Result<Option<onemap_core::TimeBound>, ApiError> {
        let v = v.as_deref().filter(|s| !s.is_empty());
        Ok(v.map(str::parse).transpose()?)
    };
    let window = onemap_index::TimeWindow::between(time(&q.from)?, time(&q.to)?)?;
    let from = window.from.unwrap_or(i64::MIN);
    let to = window.to.unwrap_or(i64::MAX);
    let lp = event_loop(&state)?;
    let port = q.port.filter(|p| !p.is_empty());
    let list = lp.store.crossings(port, from, to).await?;
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

/// `GET /api/ships/stream`: server-sent events of every applied position,
/// departure, arrival and alert, in order. A client that falls more than
/// the buffer behind gets a `lagged` event with how many it missed.
pub async fn stream(State(state): State<AppState>) -> impl IntoResponse {
    use futures_util::StreamExt;
    let s = messages(state.ships.stream.subscribe())
        .map(|(name, data)| Ok::<_, Infallible>(SseEvent::default().event(name).data(data)));
    Sse::new(s).keep_alive(KeepAlive::default())
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
