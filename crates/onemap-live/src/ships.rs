//! Live ships: position batches judged in order, port crossings and zone
//! alerts, the stream of everything applied, and the fleet's recent past
//! (tracks and crossings) kept in memory.

use crate::{Live, LiveError};
use onemap_core::ships::{judge, moved, Geofence, PositionReport, Refusal, ZoneAlert};
use onemap_core::workflow::Actor;
use onemap_core::{Role, Ship};
use onemap_index::City;
use onemap_store::{Crossing, LiveStore, ShipPosition};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// The most reports one batch may hold.
pub const MAX_BATCH: usize = 10_000;
/// A ship's track reaches this far back before its latest report.
pub const TRACK_SECS: i64 = 86_400;
/// The most positions of one ship's track kept in memory (one every 21 s
/// over [`TRACK_SECS`]); older ones of the window stay in the store only.
pub const MAX_TRACK_POINTS: usize = 4096;
/// The most port crossings kept in memory (16 bytes each); older ones stay
/// in the store only.
pub const MAX_CROSSINGS: usize = 1_000_000;
/// How many stream messages a slow subscriber may fall behind before it is
/// told it lagged.
const STREAM_BUFFER: usize = 16_384;

/// One message of the live stream; `seq` rises by one per message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamItem {
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
    /// An event reported or moved along the loop, here or on another
    /// server, as the map now shows it (its place, category and status:
    /// what the public map shows; no text, no names).
    Event {
        seq: u64,
        id: u64,
        lon: f64,
        lat: f64,
        category: onemap_core::EventCategory,
        status: onemap_core::EventStatus,
        reported_at: i64,
        status_at: i64,
        /// The unit's 18-digit id, as text (beyond JavaScript's exact integers).
        unit: String,
    },
}

impl StreamItem {
    /// The message's name: `position`, `departure`, `arrival` or `alert`.
    pub fn name(&self) -> &'static str {
        match self {
            StreamItem::Position { .. } => "position",
            StreamItem::Departure { .. } => "departure",
            StreamItem::Arrival { .. } => "arrival",
            StreamItem::Alert { .. } => "alert",
            StreamItem::Event { .. } => "event",
        }
    }

    fn set_seq(&mut self, n: u64) {
        match self {
            StreamItem::Position { seq, .. }
            | StreamItem::Departure { seq, .. }
            | StreamItem::Arrival { seq, .. }
            | StreamItem::Alert { seq, .. }
            | StreamItem::Event { seq, .. } => *seq = n,
        }
    }
}

/// One report of a batch, as posted. `time` is `None` when the posted
/// time did not parse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionInput {
    pub mmsi: u32,
    pub time: Option<i64>,
    pub lon: f64,
    pub lat: f64,
    pub speed_kn: f32,
    pub course_deg: f32,
}

/// A report that was not applied: its place in the batch and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refused {
    pub index: usize,
    pub mmsi: u32,
    #[serde(flatten)]
    pub why: Why,
}

/// Why a report was not applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Why {
    /// Its time did not parse (`reason: "bad_time"`).
    Unparsed { reason: &'static str },
    /// Judged and refused ([`judge`]).
    Judged(Refusal),
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestOutcome {
    pub applied: u64,
    pub stale: u64,
    pub jumps: u64,
    pub rejected: u64,
    pub refused: Vec<Refused>,
    pub crossings: Vec<Crossing>,
    pub alerts: Vec<ZoneAlert>,
}

/// The live side of the ships.
pub(crate) struct ShipLive {
    /// Port areas and zones, from the fleet as generated.
    pub(crate) geofence: Geofence,
    stream: broadcast::Sender<Arc<StreamItem>>,
    seq: AtomicU64,
    memory: Mutex<Memory>,
}

/// The fleet's recent past: each ship's track and the port crossings.
#[derive(Debug, Default)]
struct Memory {
    /// Per ship, oldest first: (time, lon, lat) within [`TRACK_SECS`] of
    /// its latest, at most [`MAX_TRACK_POINTS`].
    tracks: HashMap<u32, VecDeque<(i64, f64, f64)>>,
    /// Ordered by time, then as recorded.
    crossings: VecDeque<Cross>,
    /// Port names, by the index crossings keep.
    ports: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Cross {
    time: i64,
    mmsi: u32,
    port: u16,
    arrival: bool,
}

impl Memory {
    fn remember(&mut self, p: &ShipPosition) {
        let t = self.tracks.entry(p.mmsi).or_default();
        t.push_back((p.time, p.lon, p.lat));
        let latest = t.back().map_or(p.time, |b| b.0.max(p.time));
        while t.len() > MAX_TRACK_POINTS || t.front().is_some_and(|f| f.0 < latest - TRACK_SECS) {
            t.pop_front();
        }
    }

    fn port(&mut self, name: &str) -> u16 {
        if let Some(i) = self.ports.iter().position(|p| p == name) {
            return i as u16;
        }
        self.ports.push(name.to_string());
        (self.ports.len() - 1).min(usize::from(u16::MAX)) as u16
    }

    fn cross(&mut self, c: &Crossing) {
        let port = self.port(&c.port);
        let at = self.crossings.partition_point(|x| x.time <= c.time);
        self.crossings.insert(
            at,
            Cross {
                time: c.time,
                mmsi: c.mmsi,
                port,
                arrival: c.arrival,
            },
        );
        if self.crossings.len() > MAX_CROSSINGS {
            self.crossings.pop_front();
        }
    }
}

impl ShipLive {
    pub(crate) fn new(city: &City) -> Self {
        ShipLive {
            geofence: Geofence::from_fleet(city.ships()),
            stream: broadcast::channel(STREAM_BUFFER).0,
            seq: AtomicU64::new(0),
            memory: Mutex::default(),
        }
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lays what the store recorded over the fleet as generated: each
    /// ship's latest position into `city`, its recent track and the
    /// crossings into memory.
    pub(crate) async fn recall(
        &mut self,
        city: City,
        store: &LiveStore,
    ) -> Result<City, LiveError> {
        let recent = store.recent_ship_positions(TRACK_SECS).await?;
        let crossings = store.crossings(None, i64::MIN, i64::MAX).await?;
        let fleet = city.ships();
        let mut latest: BTreeMap<u32, ShipPosition> = BTreeMap::new();
        let mut m = self.memory();
        for p in &recent {
            m.remember(p);
            latest.insert(p.mmsi, *p);
        }
        let skip = crossings.len().saturating_sub(MAX_CROSSINGS);
        for c in &crossings[skip..] {
            m.cross(c);
        }
        drop(m);
        let changed: Vec<Ship> = latest
            .values()
            .filter_map(|p| {
                let i = fleet.binary_search_by_key(&p.mmsi, |s| s.mmsi).ok()?;
                Some(Ship {
                    lon: p.lon,
                    lat: p.lat,
                    speed_kn: p.speed_kn,
                    heading_deg: p.course_deg,
                    in_port: p.in_port,
                    reported_at: p.time,
                    ..fleet[i].clone()
                })
            })
            .collect();
        Ok(if changed.is_empty() {
            city
        } else {
            city.with_ships(changed)?
        })
    }
}

/// Position reports need a `ship_feed` token.
fn ship_feed_only(who: &Actor) -> Result<(), LiveError> {
    if who.role == Role::ShipFeed {
        return Ok(());
    }
    Err(LiveError::Forbidden(format!(
        "position reports need a ship_feed token; this one is {}",
        who.role
    )))
}

impl Live {
    /// The actor behind a `ship_feed` token (positions need one).
    pub async fn ship_feed(&self, token: &str) -> Result<Actor, LiveError> {
        let who = self.actor(token).await?;
        ship_feed_only(&who)?;
        Ok(who)
    }

    /// Port areas and restricted zones.
    pub fn geofence(&self) -> &Geofence {
        &self.ships.geofence
    }

    /// Every applied position, departure, arrival and alert from now on, in
    /// order. A subscriber more than 16,384 messages behind is told it
    /// lagged ([`broadcast::error::RecvError::Lagged`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StreamItem>> {
        self.ships.stream.subscribe()
    }

    /// Judges a batch of reports in order, each against the ship's last
    /// applied state (the batch's own earlier reports included), derives
    /// port crossings and zone alerts, commits the applied positions and
    /// crossings to the store in one transaction, applies them as a new
    /// snapshot, and sends them to the subscribers. One batch (or event
    /// change) at a time.
    pub async fn ingest_positions(
        self: &Arc<Self>,
        who: &Actor,
        reports: Vec<PositionInput>,
    ) -> Result<IngestOutcome, LiveError> {
        let store = self.store()?.clone();
        ship_feed_only(who)?;
        if reports.len() > MAX_BATCH {
            return Err(LiveError::BatchTooLarge {
                given: reports.len(),
                max: MAX_BATCH,
            });
        }
        let me = Arc::clone(self);
        tokio::spawn(async move { me.ingest(&store, reports).await })
            .await
            .map_err(|e| LiveError::Worker(format!("applying positions failed: {e}")))?
    }

    async fn ingest(
        &self,
        store: &LiveStore,
        reports: Vec<PositionInput>,
    ) -> Result<IngestOutcome, LiveError> {
        let _turn = self.changes.building.lock().await;
        let geofence = &self.ships.geofence;
        let city = self.city();
        let fleet = city.ships();
        let mut current: BTreeMap<u32, Ship> = BTreeMap::new();
        let mut out = IngestOutcome::default();
        let mut positions = Vec::new();
        let mut items = Vec::new();
        let now = onemap_core::time::now();
        for (index, r) in reports.iter().enumerate() {
            let Some(time) = r.time else {
                out.rejected += 1;
                out.refused.push(Refused {
                    index,
                    mmsi: r.mmsi,
                    why: Why::Unparsed { reason: "bad_time" },
                });
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
            let last = match (judge(&report, last.as_ref(), now), last) {
                (Ok(()), Some(last)) => last,
                (verdict, _) => {
                    let why = verdict.err().unwrap_or(Refusal::UnknownShip);
                    match why.counter() {
                        "stale" => out.stale += 1,
                        "jumps" => out.jumps += 1,
                        _ => out.rejected += 1,
                    }
                    out.refused.push(Refused {
                        index,
                        mmsi: r.mmsi,
                        why: Why::Judged(why),
                    });
                    continue;
                }
            };
            let mut next = moved(&last, &report);
            let (crossing, alert) = geofence.step(&last, &mut next);
            out.applied += 1;
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
                let (mmsi, port, time) = (c.mmsi, c.port.clone(), c.time);
                items.push(if c.arrival {
                    StreamItem::Arrival {
                        seq: 0,
                        mmsi,
                        port,
                        time,
                    }
                } else {
                    StreamItem::Departure {
                        seq: 0,
                        mmsi,
                        port,
                        time,
                    }
                });
                out.crossings.push(Crossing {
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
                out.alerts.push(a);
            }
            current.insert(next.mmsi, next);
        }
        if positions.is_empty() {
            return Ok(out);
        }
        // Committed first; only then remembered, applied and published.
        store
            .record_ships(positions.clone(), out.crossings.clone())
            .await?;
        {
            let mut m = self.ships.memory();
            for p in &positions {
                m.remember(p);
            }
            for c in &out.crossings {
                m.cross(c);
            }
        }
        let tiles = self.tiles();
        let changed: Vec<Ship> = current.into_values().collect();
        let next = tokio::task::spawn_blocking(move || {
            let city = tiles.city().with_ships(changed)?;
            Ok::<_, LiveError>(tiles.with_city(Arc::new(city)))
        })
        .await
        .map_err(|e| LiveError::Worker(format!("applying positions failed: {e}")))??;
        self.publish(next);
        self.announce(items);
        Ok(out)
    }

    /// Sends items to the stream's subscribers, numbered in order.
    pub(crate) fn announce(&self, items: impl IntoIterator<Item = StreamItem>) {
        for mut item in items {
            item.set_seq(self.ships.seq.fetch_add(1, Ordering::Relaxed) + 1);
            // No receiver is fine: nobody is watching.
            let _ = self.ships.stream.send(Arc::new(item));
        }
    }

    /// Ship `mmsi` now and its track over the [`TRACK_SECS`] up to its last
    /// report: recorded positions (lon, lat), oldest first, ending where
    /// it is now.
    pub fn ship_track(&self, mmsi: u32) -> Result<(Ship, Vec<[f64; 2]>), LiveError> {
        let city = self.city();
        let fleet = city.ships();
        let ship = fleet
            .binary_search_by_key(&mmsi, |s| s.mmsi)
            .ok()
            .map(|i| fleet[i].clone())
            .ok_or(LiveError::UnknownShip(mmsi))?;
        let since = ship.reported_at - TRACK_SECS;
        let mut coords: Vec<[f64; 2]> = self
            .ships
            .memory()
            .tracks
            .get(&mmsi)
            .map(|t| {
                t.iter()
                    .filter(|p| p.0 >= since)
                    .map(|p| [p.1, p.2])
                    .collect()
            })
            .unwrap_or_default();
        if coords.last() != Some(&[ship.lon, ship.lat]) {
            coords.push([ship.lon, ship.lat]);
        }
        Ok((ship, coords))
    }

    /// Recorded crossings in `[from, to)`, oldest first, of one port or all
    /// (the latest [`MAX_CROSSINGS`]).
    pub fn crossings(&self, port: Option<&str>, from: i64, to: i64) -> Vec<Crossing> {
        let m = self.ships.memory();
        let want = port.map(|p| m.ports.iter().position(|q| q == p));
        if want == Some(None) {
            return Vec::new();
        }
        let start = m.crossings.partition_point(|c| c.time < from);
        m.crossings
            .range(start..)
            .take_while(|c| c.time < to)
            .filter(|c| want.is_none_or(|w| w == Some(usize::from(c.port))))
            .map(|c| Crossing {
                mmsi: c.mmsi,
                port: m.ports[usize::from(c.port)].clone(),
                arrival: c.arrival,
                time: c.time,
            })
            .collect()
    }
}
