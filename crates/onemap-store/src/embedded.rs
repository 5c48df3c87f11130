//! The embedded store: one GeoPackage (SQLite) file that keeps what the
//! event loop changes — reported events, every transition, and the bearer
//! tokens, and the ships' position history and port crossings (`ship_positions`, a
//! point feature table, and `ship_crossings`; schema version 2) — so a demo
//! without PostGIS loses nothing on restart. QGIS and GDAL
//! open the file directly (`events` is a point feature table in EPSG:4326).
//!
//! The city's base data stays in its FlatGeobuf files; this file holds only
//! events that were reported or moved since, each in its latest state, and
//! the history of their moves. Every change is one SQLite transaction that
//! re-reads the event inside it, so two changes of one event never both
//! pass the check against a stale status.

use crate::StoreError;
use onemap_core::workflow::{check_move, check_report, Actor, Scope};
use onemap_core::{AreaId, Event, EventCategory, EventStatus, Role};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file name of the embedded store inside a city directory.
pub const EMBEDDED_FILE: &str = "onemap.gpkg";

/// GeoPackage's SQLite application id ("GPKG") and version 1.3.
const GPKG_APPLICATION_ID: i32 = 0x4750_4B47;
const GPKG_VERSION: i32 = 10300;
const SCHEMA_VERSION: i64 = 2;

/// Version 2: the ship-position history (a point feature table) and the
/// ships' port crossings. A version-1 file gets these tables on open.
const SCHEMA_V2: &str = "
CREATE TABLE ship_positions (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB NOT NULL, mmsi INTEGER NOT NULL,
  time INTEGER NOT NULL, speed_kn REAL NOT NULL, course_deg REAL NOT NULL,
  in_port INTEGER NOT NULL);
CREATE INDEX ship_positions_mmsi ON ship_positions(mmsi, time);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('ship_positions', 'features', 'ship_positions', 'applied ship position reports', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('ship_positions', 'geom', 'POINT', 4326, 0, 0);
CREATE TABLE ship_crossings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, mmsi INTEGER NOT NULL, port TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('departure', 'arrival')), time INTEGER NOT NULL);
CREATE INDEX ship_crossings_port ON ship_crossings(port, time);
";

const SCHEMA: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE events (
  fid INTEGER PRIMARY KEY, geom BLOB NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL,
  reported_at INTEGER NOT NULL, closed_at INTEGER, unit INTEGER NOT NULL,
  description TEXT NOT NULL, reporter TEXT NOT NULL, routed_to TEXT,
  idempotency_key TEXT UNIQUE, updated_at INTEGER NOT NULL);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('events', 'features', 'events', 'events reported or moved through onemap', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('events', 'geom', 'POINT', 4326, 0, 0);
CREATE TABLE event_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER NOT NULL REFERENCES events(fid),
  at INTEGER NOT NULL, from_status TEXT, to_status TEXT NOT NULL, actor TEXT NOT NULL,
  role TEXT NOT NULL, routed_to TEXT, note TEXT);
CREATE INDEX event_history_event ON event_history(event_id, id);
CREATE TABLE tokens (
  hash TEXT PRIMARY KEY, role TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE onemap_schema (version INTEGER NOT NULL);
";

/// An event with what the loop adds to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(flatten)]
    pub event: Event,
    pub description: String,
    pub reporter: String,
    /// The office or department it was routed to, once routed.
    pub routed_to: Option<String>,
}

/// One move of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    /// `None` for the report itself.
    pub from: Option<EventStatus>,
    pub to: EventStatus,
    pub actor: String,
    pub role: Role,
    pub routed_to: Option<String>,
    pub note: Option<String>,
}

/// A report from the field, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub lon: f64,
    pub lat: f64,
    pub unit: AreaId,
    pub category: EventCategory,
    pub description: String,
    /// Repeating a report with the same key returns the first one.
    pub idempotency_key: Option<String>,
}

/// An applied ship position, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShipPosition {
    pub mmsi: u32,
    pub time: i64,
    pub lon: f64,
    pub lat: f64,
    pub speed_kn: f32,
    pub course_deg: f32,
    pub in_port: bool,
}

/// A ship leaving (`arrival: false`) or entering a port area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crossing {
    pub mmsi: u32,
    pub port: String,
    pub arrival: bool,
    pub time: i64,
}

/// A requested move.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveRequest {
    pub to: EventStatus,
    pub routed_to: Option<String>,
    pub note: Option<String>,
}

impl NewReport {
    /// The event this report makes, with id `id`, as `actor` reports it at `now`.
    pub(crate) fn record(&self, id: u64, actor: &Actor, now: i64) -> EventRecord {
        EventRecord {
            event: Event {
                id,
                lon: self.lon,
                lat: self.lat,
                category: self.category,
                status: EventStatus::Reported,
                reported_at: now,
                closed_at: None,
                unit: self.unit,
            },
            description: self.description.clone(),
            reporter: actor.name.clone(),
            routed_to: None,
        }
    }
}

impl EventRecord {
    /// Moves the event as `actor` asks at `now`, if [`check_move`] allows
    /// it; returns the status it left.
    pub(crate) fn apply_move(
        &mut self,
        actor: &Actor,
        mv: &MoveRequest,
        now: i64,
    ) -> Result<EventStatus, onemap_core::workflow::WorkflowError> {
        let from = self.event.status;
        check_move(
            actor,
            self.event.unit,
            from,
            self.routed_to.as_deref(),
            mv.to,
            mv.routed_to.as_deref(),
        )?;
        self.event.status = mv.to;
        self.event.closed_at = (mv.to == EventStatus::Closed).then_some(now);
        if let Some(d) = &mv.routed_to {
            self.routed_to = Some(d.trim().to_string());
        }
        Ok(from)
    }
}

/// The embedded store (see the module docs). Cheap to share; calls block
/// (run them off the async threads).
#[derive(Debug)]
pub struct EmbeddedStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl EmbeddedStore {
    /// Opens the store at `path`, creating an empty one when the file does
    /// not exist. A file that is not onemap's GeoPackage is refused.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let fresh = !path.exists();
        let conn = Connection::open(path).map_err(|e| db(path, "open the store", e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| db(path, "configure the store", e))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| db(path, "configure the store", e))?;
        let store = EmbeddedStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        };
        if fresh {
            store.create()?;
        } else {
            store.check()?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn create(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "create the store", e))?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {GPKG_APPLICATION_ID}; PRAGMA user_version = {GPKG_VERSION};{SCHEMA}{SCHEMA_V2}"
        ))
        .and_then(|_| {
            tx.execute(
                "INSERT INTO onemap_schema (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
        })
        .map_err(|e| db(&self.path, "create the store", e))?;
        tx.commit()
            .map_err(|e| db(&self.path, "create the store", e))
    }

    fn check(&self) -> Result<(), StoreError> {
        let conn = self.lock();
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| db(&self.path, "read the store", e))?;
        if app != GPKG_APPLICATION_ID {
            return Err(StoreError::NotOurDatabase {
                path: self.path.clone(),
                reason: "not a GeoPackage (wrong SQLite application id)".into(),
            });
        }
        let version: Option<i64> = conn
            .query_row("SELECT max(version) FROM onemap_schema", [], |r| r.get(0))
            .map_err(|_| StoreError::NotOurDatabase {
                path: self.path.clone(),
                reason: "a GeoPackage, but not onemap's store (no onemap_schema table)".into(),
            })?;
        match version {
            Some(SCHEMA_VERSION) => Ok(()),
            Some(1) => {
                drop(conn);
                self.migrate_v1()
            }
            v => Err(StoreError::NotOurDatabase {
                path: self.path.clone(),
                reason: format!(
                    "store schema version {} is not the {SCHEMA_VERSION} this onemap knows",
                    v.map_or("(none)".to_string(), |v| v.to_string())
                ),
            }),
        }
    }

    /// Version 1 → 2: adds the ship tables, in one transaction.
    fn migrate_v1(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "migrate the store", e))?;
        tx.execute_batch(SCHEMA_V2)
            .and_then(|_| {
                tx.execute(
                    "INSERT INTO onemap_schema (version) VALUES (?1)",
                    [SCHEMA_VERSION],
                )
            })
            .map_err(|e| db(&self.path, "migrate the store", e))?;
        tx.commit()
            .map_err(|e| db(&self.path, "migrate the store", e))?;
        tracing::info!(
            "{}: store schema migrated 1 → 2 (ship tables)",
            self.path.display()
        );
        Ok(())
    }

    /// Records applied ship positions and the port crossings they caused,
    /// all in one transaction (all or nothing).
    pub fn record_ships(
        &self,
        positions: &[ShipPosition],
        crossings: &[Crossing],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "record ship positions", e))?;
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO ship_positions (geom, mmsi, time, speed_kn, course_deg, in_port) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(|e| db(&self.path, "record ship positions", e))?;
            for p in positions {
                ins.execute(params![
                    gpkg_point(p.lon, p.lat),
                    p.mmsi,
                    p.time,
                    f64::from(p.speed_kn),
                    f64::from(p.course_deg),
                    p.in_port
                ])
                .map_err(|e| db(&self.path, "record ship positions", e))?;
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO ship_crossings (mmsi, port, kind, time) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| db(&self.path, "record ship crossings", e))?;
            for c in crossings {
                let kind = if c.arrival { "arrival" } else { "departure" };
                ins.execute(params![c.mmsi, c.port, kind, c.time])
                    .map_err(|e| db(&self.path, "record ship crossings", e))?;
            }
        }
        tx.commit()
            .map_err(|e| db(&self.path, "record ship positions", e))
    }

    /// Every ship's latest recorded position (to lay over the city's ships
    /// at start-up), by MMSI.
    pub fn latest_ship_positions(&self) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT p.mmsi, p.time, p.geom, p.speed_kn, p.course_deg, p.in_port FROM ship_positions p \
             JOIN (SELECT mmsi, max(fid) AS fid FROM ship_positions GROUP BY mmsi) l ON p.fid = l.fid ORDER BY p.mmsi",
            params![],
        )
    }

    /// One ship's recorded positions from `from` on, oldest first.
    pub fn ship_track(&self, mmsi: u32, from: i64) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT mmsi, time, geom, speed_kn, course_deg, in_port FROM ship_positions \
             WHERE mmsi = ?1 AND time >= ?2 ORDER BY time, fid",
            params![mmsi, from],
        )
    }

    /// Recorded crossings, oldest first, of one port or all.
    pub fn crossings(
        &self,
        port: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<Crossing>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare("SELECT mmsi, port, kind, time FROM ship_crossings WHERE (?1 IS NULL OR port = ?1) AND time >= ?2 AND time < ?3 ORDER BY time, id")
            .map_err(|e| db(&self.path, "read ship crossings", e))?;
        let rows = st
            .query_map(params![port, from, to], |r| {
                Ok(Crossing {
                    mmsi: r.get(0)?,
                    port: r.get(1)?,
                    arrival: r.get::<_, String>(2)? == "arrival",
                    time: r.get(3)?,
                })
            })
            .map_err(|e| db(&self.path, "read ship crossings", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| db(&self.path, "read ship crossings", e))
    }

    fn positions(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ShipPosition>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(sql)
            .map_err(|e| db(&self.path, "read ship positions", e))?;
        let rows = st
            .query_map(args, |r| {
                let geom: Vec<u8> = r.get(2)?;
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, i64>(1)?,
                    read_point(&geom),
                    r.get::<_, f64>(3)?,
                    r.get::<_, f64>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })
            .map_err(|e| db(&self.path, "read ship positions", e))?;
        let mut out = Vec::new();
        for r in rows {
            let (mmsi, time, pt, speed, course, in_port) =
                r.map_err(|e| db(&self.path, "read ship positions", e))?;
            let (lon, lat) = pt.ok_or_else(|| StoreError::BadStoredValue {
                path: self.path.clone(),
                reason: format!("ship {mmsi} at {time}: not a GeoPackage point"),
            })?;
            out.push(ShipPosition {
                mmsi,
                time,
                lon,
                lat,
                speed_kn: speed as f32,
                course_deg: course as f32,
                in_port,
            });
        }
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction
        // (SQLite rolls it back), so the connection stays usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every event this store holds, in its latest state (to lay over the
    /// city's base events at start-up).
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare("SELECT fid, geom, category, status, reported_at, closed_at, unit, description, reporter, routed_to FROM events ORDER BY fid")
            .map_err(|e| db(&self.path, "read events", e))?;
        let rows = st
            .query_map([], |r| self.row(r).map(|rec| rec.map(|x| x.event)))
            .map_err(|e| db(&self.path, "read events", e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(|e| db(&self.path, "read events", e))??);
        }
        Ok(out)
    }

    /// The largest event id this store has given out (0 when none).
    pub fn max_event_id(&self) -> Result<u64, StoreError> {
        let conn = self.lock();
        let id: Option<i64> = conn
            .query_row("SELECT max(fid) FROM events", [], |r| r.get(0))
            .map_err(|e| db(&self.path, "read events", e))?;
        Ok(id.map_or(0, |i| i as u64))
    }

    /// Records a report (or returns the event first reported with the same
    /// idempotency key, and `false`). One transaction. Its id is the next
    /// after every id this store gave out, and at least `min_id` (the first
    /// id after the city's base events).
    pub fn report(
        &self,
        actor: &Actor,
        min_id: u64,
        new: &NewReport,
        now: i64,
    ) -> Result<(EventRecord, bool), StoreError> {
        check_report(actor, new.unit)?;
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "record a report", e))?;
        if let Some(key) = &new.idempotency_key {
            let found: Option<i64> = tx
                .query_row(
                    "SELECT fid FROM events WHERE idempotency_key = ?1",
                    [key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| db(&self.path, "record a report", e))?;
            if let Some(fid) = found {
                let rec = self
                    .get(&tx, fid as u64)?
                    .ok_or(StoreError::UnknownEvent(fid as u64))?;
                return Ok((rec, false));
            }
        }
        let max: Option<i64> = tx
            .query_row("SELECT max(fid) FROM events", [], |r| r.get(0))
            .map_err(|e| db(&self.path, "record a report", e))?;
        let id = min_id.max(max.map_or(0, |m| m as u64 + 1));
        let rec = new.record(id, actor, now);
        self.put(&tx, &rec, new.idempotency_key.as_deref(), now)?;
        self.log(&tx, id, now, None, EventStatus::Reported, actor, None, None)?;
        tx.commit()
            .map_err(|e| db(&self.path, "record a report", e))?;
        Ok((rec, true))
    }

    /// Moves an event: re-reads it inside the transaction (`base` is its
    /// state in the city's files, used when this store has not seen it
    /// yet), checks the move with [`check_move`], writes the new state and
    /// the history entry, and commits.
    pub fn transition(
        &self,
        actor: &Actor,
        id: u64,
        base: Option<&Event>,
        mv: &MoveRequest,
        now: i64,
    ) -> Result<EventRecord, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "move an event", e))?;
        let mut rec = match self.get(&tx, id)? {
            Some(r) => r,
            None => EventRecord {
                event: base.cloned().ok_or(StoreError::UnknownEvent(id))?,
                description: String::new(),
                reporter: String::new(),
                routed_to: None,
            },
        };
        let from = rec.apply_move(actor, mv, now)?;
        self.put(&tx, &rec, None, now)?;
        self.log(
            &tx,
            id,
            now,
            Some(from),
            mv.to,
            actor,
            mv.routed_to.as_deref(),
            mv.note.as_deref(),
        )?;
        tx.commit()
            .map_err(|e| db(&self.path, "move an event", e))?;
        Ok(rec)
    }

    /// An event this store holds, with its history (oldest first).
    pub fn event(&self, id: u64) -> Result<Option<(EventRecord, Vec<HistoryEntry>)>, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "read an event", e))?;
        let Some(rec) = self.get(&tx, id)? else {
            return Ok(None);
        };
        let mut st = tx
            .prepare("SELECT at, from_status, to_status, actor, role, routed_to, note FROM event_history WHERE event_id = ?1 ORDER BY id")
            .map_err(|e| db(&self.path, "read an event's history", e))?;
        let rows = st
            .query_map([id as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(|e| db(&self.path, "read an event's history", e))?;
        let mut history = Vec::new();
        for r in rows {
            let (at, from, to, actor, role, routed_to, note) =
                r.map_err(|e| db(&self.path, "read an event's history", e))?;
            history.push(HistoryEntry {
                at,
                from: from.map(|s| self.parse(&s)).transpose()?,
                to: self.parse(&to)?,
                actor,
                role: self.parse(&role)?,
                routed_to,
                note,
            });
        }
        Ok(Some((rec, history)))
    }

    /// Issues a bearer token and returns it; only its SHA-256 is kept.
    pub fn create_token(
        &self,
        role: Role,
        scope: &Scope,
        name: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let token = new_token().map_err(|source| StoreError::Io {
            action: "draw random bytes for a token for",
            path: self.path.clone(),
            source,
        })?;
        self.lock()
            .execute(
                "INSERT INTO tokens (hash, role, scope, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash(&token), role.as_str(), scope_text(scope), name, now],
            )
            .map_err(|e| db(&self.path, "store a token", e))?;
        Ok(token)
    }

    /// Who a bearer token speaks for, if it is one of ours.
    pub fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let row: Option<(String, String, String)> = self
            .lock()
            .query_row(
                "SELECT role, scope, name FROM tokens WHERE hash = ?1",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| db(&self.path, "look up a token", e))?;
        row.map(|(role, scope, name)| {
            Ok(Actor {
                role: self.parse(&role)?,
                scope: parse_scope(&scope).ok_or_else(|| StoreError::BadStoredValue {
                    path: self.path.clone(),
                    reason: format!("token scope '{scope}'"),
                })?,
                name,
            })
        })
        .transpose()
    }

    fn get(&self, tx: &Transaction<'_>, id: u64) -> Result<Option<EventRecord>, StoreError> {
        tx.query_row(
            "SELECT fid, geom, category, status, reported_at, closed_at, unit, description, reporter, routed_to FROM events WHERE fid = ?1",
            [id as i64],
            |r| self.row(r),
        )
        .optional()
        .map_err(|e| db(&self.path, "read an event", e))?
        .transpose()
    }

    fn row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<EventRecord, StoreError>> {
        let fid: i64 = r.get(0)?;
        let geom: Vec<u8> = r.get(1)?;
        let category: String = r.get(2)?;
        let status: String = r.get(3)?;
        let unit: i64 = r.get(6)?;
        let (reported_at, closed_at, description, reporter, routed_to) =
            (r.get(4)?, r.get(5)?, r.get(7)?, r.get(8)?, r.get(9)?);
        Ok((|| {
            let (lon, lat) = read_point(&geom).ok_or_else(|| StoreError::BadStoredValue {
                path: self.path.clone(),
                reason: format!("event {fid}: geometry is not a GeoPackage point"),
            })?;
            let unit = AreaId::new(unit as u64).map_err(|e| StoreError::BadStoredValue {
                path: self.path.clone(),
                reason: format!("event {fid}: {e}"),
            })?;
            Ok(EventRecord {
                event: Event {
                    id: fid as u64,
                    lon,
                    lat,
                    category: self.parse(&category)?,
                    status: self.parse(&status)?,
                    reported_at,
                    closed_at,
                    unit,
                },
                description,
                reporter,
                routed_to,
            })
        })())
    }

    fn put(
        &self,
        tx: &Transaction<'_>,
        rec: &EventRecord,
        key: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let e = &rec.event;
        tx.execute(
            "INSERT INTO events (fid, geom, category, status, reported_at, closed_at, unit, description, reporter, routed_to, idempotency_key, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (fid) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at,
               routed_to = excluded.routed_to, updated_at = excluded.updated_at",
            params![
                e.id as i64,
                gpkg_point(e.lon, e.lat),
                e.category.as_str(),
                e.status.as_str(),
                e.reported_at,
                e.closed_at,
                e.unit.get() as i64,
                rec.description,
                rec.reporter,
                rec.routed_to,
                key,
                now
            ],
        )
        .map_err(|e| db(&self.path, "write an event", e))?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &self,
        tx: &Transaction<'_>,
        id: u64,
        at: i64,
        from: Option<EventStatus>,
        to: EventStatus,
        actor: &Actor,
        routed_to: Option<&str>,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        tx.execute(
            "INSERT INTO event_history (event_id, at, from_status, to_status, actor, role, routed_to, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id as i64,
                at,
                from.map(|s| s.as_str()),
                to.as_str(),
                actor.name,
                actor.role.as_str(),
                routed_to,
                note
            ],
        )
        .map_err(|e| db(&self.path, "write an event's history", e))?;
        Ok(())
    }

    fn parse<T: std::str::FromStr>(&self, s: &str) -> Result<T, StoreError> {
        s.parse().map_err(|_| StoreError::BadStoredValue {
            path: self.path.clone(),
            reason: format!("'{s}'"),
        })
    }
}

fn db(path: &Path, action: &'static str, source: rusqlite::Error) -> StoreError {
    StoreError::Database {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A scope as stored and as given on the command line: `area:ID`,
/// `department:NAME` or `city`.
pub fn parse_scope(s: &str) -> Option<Scope> {
    let s = s.trim();
    if s == "city" {
        return Some(Scope::City);
    }
    if let Some(id) = s.strip_prefix("area:") {
        return AreaId::new(id.trim().parse().ok()?).ok().map(Scope::Area);
    }
    s.strip_prefix("department:")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| Scope::Department(d.to_string()))
}

pub(crate) fn scope_text(s: &Scope) -> String {
    s.to_string()
}

/// A new bearer token: `om_` and 32 random bytes in hex.
pub(crate) fn new_token() -> std::io::Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(format!("om_{}", hex(&raw)))
}

/// What is kept of a token: its SHA-256, in hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A GeoPackage geometry blob of a point: the "GP" header (version 0,
/// little-endian, no envelope, SRS 4326) and the point as WKB.
fn gpkg_point(lon: f64, lat: f64) -> Vec<u8> {
    let mut b = Vec::with_capacity(29);
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    b.push(0b0000_0001); // little-endian header, no envelope, not empty
    b.extend_from_slice(&4326i32.to_le_bytes());
    b.push(1); // WKB little-endian
    b.extend_from_slice(&1u32.to_le_bytes()); // Point
    b.extend_from_slice(&lon.to_le_bytes());
    b.extend_from_slice(&lat.to_le_bytes());
    b
}

fn read_point(b: &[u8]) -> Option<(f64, f64)> {
    if b.len() != 29 || &b[..2] != b"GP" || b[3] != 1 || b[8] != 1 {
        return None;
    }
    if u32::from_le_bytes(b[9..13].try_into().ok()?) != 1 {
        return None;
    }
    let lon = f64::from_le_bytes(b[13..21].try_into().ok()?);
    let lat = f64::from_le_bytes(b[21..29].try_into().ok()?);
    Some((lon, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: u64 = 350_302_001_001_001_001;

    fn actor(role: Role, scope: &str) -> Actor {
        Actor {
            role,
            scope: parse_scope(scope).unwrap(),
            name: format!("{role}@{scope}"),
        }
    }

    fn report(key: Option<&str>) -> NewReport {
        NewReport {
            lon: 119.0,
            lat: 25.4,
            unit: AreaId::new(UNIT).unwrap(),
            category: EventCategory::Drainage,
            description: "下水道堵塞".into(),
            idempotency_key: key.map(String::from),
        }
    }

    #[test]
    fn reports_and_moves_persist_with_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDED_FILE);
        let leader = actor(Role::UnitLeader, &format!("area:{}", UNIT / 1000));
        let town = actor(Role::TownOffice, "area:350302001");
        let dept = actor(Role::Department, "department:水务局");
        {
            let s = EmbeddedStore::open(&path).unwrap();
            let (rec, created) = s
                .report(&leader, 2_000_001, &report(Some("k1")), 100)
                .unwrap();
            assert!(created);
            let (again, created) = s
                .report(&leader, 2_000_002, &report(Some("k1")), 101)
                .unwrap();
            assert!(!created, "same idempotency key → same event");
            assert_eq!(again, rec);
            let (other, _) = s
                .report(&leader, 2_000_001, &report(Some("k2")), 102)
                .unwrap();
            assert_eq!(other.event.id, 2_000_002, "ids follow the store's own");
            let mv = |to, routed: Option<&str>| MoveRequest {
                to,
                routed_to: routed.map(String::from),
                note: None,
            };
            s.transition(
                &town,
                2_000_001,
                None,
                &mv(EventStatus::Discussing, None),
                110,
            )
            .unwrap();
            // Skipping a step is refused and changes nothing.
            let e = s
                .transition(&town, 2_000_001, None, &mv(EventStatus::Closed, None), 111)
                .unwrap_err();
            assert!(matches!(e, StoreError::Workflow(_)), "{e}");
            s.transition(
                &town,
                2_000_001,
                None,
                &mv(EventStatus::Routed, Some("水务局")),
                120,
            )
            .unwrap();
            let r = s
                .transition(&dept, 2_000_001, None, &mv(EventStatus::Handled, None), 130)
                .unwrap();
            assert_eq!(r.routed_to.as_deref(), Some("水务局"));
            let e = s
                .transition(&dept, 77, None, &mv(EventStatus::Handled, None), 1)
                .unwrap_err();
            assert!(matches!(e, StoreError::UnknownEvent(77)), "{e}");
        }
        // Reopened: everything is still there.
        let s = EmbeddedStore::open(&path).unwrap();
        let (rec, history) = s.event(2_000_001).unwrap().unwrap();
        assert_eq!(rec.event.status, EventStatus::Handled);
        assert_eq!(rec.description, "下水道堵塞");
        let tos: Vec<EventStatus> = history.iter().map(|h| h.to).collect();
        assert_eq!(
            tos,
            [
                EventStatus::Reported,
                EventStatus::Discussing,
                EventStatus::Routed,
                EventStatus::Handled
            ]
        );
        assert_eq!(history[2].routed_to.as_deref(), Some("水务局"));
        assert_eq!(s.events().unwrap()[0], rec.event);
        assert_eq!(s.events().unwrap().len(), 2, "{:?}", s.events().unwrap());
        assert_eq!(s.max_event_id().unwrap(), 2_000_002);
    }

    #[test]
    fn a_base_event_is_copied_in_on_its_first_move() {
        let dir = tempfile::tempdir().unwrap();
        let s = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE)).unwrap();
        let base = Event {
            id: 5,
            lon: 119.0,
            lat: 25.4,
            category: EventCategory::Road,
            status: EventStatus::FedBack,
            reported_at: 50,
            closed_at: None,
            unit: AreaId::new(UNIT).unwrap(),
        };
        let town = actor(Role::TownOffice, "area:350302001");
        let mv = MoveRequest {
            to: EventStatus::Closed,
            routed_to: None,
            note: Some("done".into()),
        };
        let r = s.transition(&town, 5, Some(&base), &mv, 60).unwrap();
        assert_eq!(r.event.closed_at, Some(60));
        assert_eq!(s.events().unwrap()[0].status, EventStatus::Closed);
        // Now the stored state counts, not the base one.
        let e = s.transition(&town, 5, Some(&base), &mv, 61).unwrap_err();
        assert!(matches!(e, StoreError::Workflow(_)), "{e}");
    }

    #[test]
    fn tokens_are_stored_hashed_and_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDED_FILE);
        let s = EmbeddedStore::open(&path).unwrap();
        let t = s
            .create_token(
                Role::TownOffice,
                &parse_scope("area:350302001").unwrap(),
                "龙桥街道办",
                1,
            )
            .unwrap();
        let a = s.actor(&t).unwrap().unwrap();
        assert_eq!(a.role, Role::TownOffice);
        assert_eq!(a.name, "龙桥街道办");
        assert_eq!(s.actor("om_nope").unwrap(), None);
        let stored: String = s
            .lock()
            .query_row("SELECT hash FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, t);
        assert!(!stored.contains(&t[3..]));
    }

    fn pos(mmsi: u32, time: i64, lon: f64) -> ShipPosition {
        ShipPosition {
            mmsi,
            time,
            lon,
            lat: 25.3,
            speed_kn: 6.5,
            course_deg: 45.0,
            in_port: false,
        }
    }

    #[test]
    fn ship_positions_and_crossings_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDED_FILE);
        let s = EmbeddedStore::open(&path).unwrap();
        let dep = Crossing {
            mmsi: 7,
            port: "港".into(),
            arrival: false,
            time: 100,
        };
        s.record_ships(
            &[pos(7, 100, 119.0), pos(8, 100, 119.1)],
            std::slice::from_ref(&dep),
        )
        .unwrap();
        s.record_ships(&[pos(7, 200, 119.2)], &[]).unwrap();
        drop(s);
        let s = EmbeddedStore::open(&path).unwrap();
        assert_eq!(
            s.latest_ship_positions().unwrap(),
            vec![pos(7, 200, 119.2), pos(8, 100, 119.1)]
        );
        assert_eq!(s.ship_track(7, 150).unwrap(), vec![pos(7, 200, 119.2)]);
        assert_eq!(s.ship_track(7, 0).unwrap().len(), 2);
        assert_eq!(s.crossings(Some("港"), 0, 1000).unwrap(), vec![dep.clone()]);
        assert!(s.crossings(Some("别"), 0, 1000).unwrap().is_empty());
        assert!(s.crossings(None, 101, 1000).unwrap().is_empty());
        // The table is a GeoPackage point feature table.
        let conn = s.lock();
        let kind: String = conn
            .query_row("SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'ship_positions'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kind, "POINT");
    }

    #[test]
    fn a_version_1_store_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDED_FILE);
        // A version-1 file, as the previous onemap wrote it, with a token.
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA application_id = {GPKG_APPLICATION_ID}; PRAGMA user_version = {GPKG_VERSION};{SCHEMA}\
                 INSERT INTO onemap_schema (version) VALUES (1);\
                 INSERT INTO tokens VALUES ('{}', 'ship_feed', 'city', 'feed', 0);",
                token_hash("om_secret")
            ))
            .unwrap();
        }
        let s = EmbeddedStore::open(&path).unwrap();
        assert_eq!(s.actor("om_secret").unwrap().unwrap().role, Role::ShipFeed);
        s.record_ships(&[pos(9, 1, 119.0)], &[]).unwrap();
        drop(s);
        let s = EmbeddedStore::open(&path).unwrap();
        assert_eq!(s.latest_ship_positions().unwrap(), vec![pos(9, 1, 119.0)]);
        let versions: Vec<i64> = s
            .lock()
            .prepare("SELECT version FROM onemap_schema ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, vec![1, 2]);
        // A later version than this onemap knows is refused.
        s.lock()
            .execute("INSERT INTO onemap_schema (version) VALUES (3)", [])
            .unwrap();
        drop(s);
        let e = EmbeddedStore::open(&path).unwrap_err();
        assert!(e.to_string().contains("schema version 3"), "{e}");
    }

    #[test]
    fn other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.gpkg");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = EmbeddedStore::open(&path).unwrap_err();
        assert!(e.to_string().contains("not a GeoPackage"), "{e}");
        let text = dir.path().join("text.gpkg");
        std::fs::write(&text, "hello, not a database at all, really not").unwrap();
        assert!(EmbeddedStore::open(&text).is_err());
    }

    #[test]
    fn scopes_parse() {
        assert_eq!(parse_scope("city"), Some(Scope::City));
        assert_eq!(
            parse_scope("department:水务局"),
            Some(Scope::Department("水务局".into()))
        );
        assert!(parse_scope("area:12").is_none());
        assert!(parse_scope("department: ").is_none());
        assert!(parse_scope("town:1").is_none());
        let p = gpkg_point(119.25, 25.5);
        assert_eq!(read_point(&p), Some((119.25, 25.5)));
    }
}
