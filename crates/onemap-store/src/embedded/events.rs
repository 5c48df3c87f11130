//! The event loop over the GeoPackage file: the primitives of one SQLite
//! write transaction ([`EventTx`]), the loop's changes run over them, and
//! the reads of events and their history.

use super::gpkg::{gpkg_point, read_point};
use super::{db, EmbeddedStore};
use crate::live::workflow::{self, run_now, EventTx, Keyed};
use crate::{EventRecord, HistoryEntry, MoveRequest, NewReport, StoreError};
use onemap_core::workflow::Actor;
use onemap_core::{AreaId, Event};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;

const EVENT_COLUMNS: &str =
    "fid, geom, category, status, reported_at, closed_at, unit_id, description, reporter, routed_to, \
     status_at";

/// One write transaction of the file. It takes SQLite's write lock when it
/// begins, so reports and moves take turns (and, across processes sharing
/// the file, wait for each other).
pub(super) struct EmbeddedTx<'c> {
    pub(super) tx: Transaction<'c>,
    pub(super) store: &'c EmbeddedStore,
}

impl EventTx for EmbeddedTx<'_> {
    async fn lock_reports(&mut self) -> Result<(), StoreError> {
        // The transaction holds the write lock already.
        Ok(())
    }

    async fn find_by_key(
        &mut self,
        account: &str,
        key: &str,
    ) -> Result<Option<(u64, Option<String>)>, StoreError> {
        let found: Option<(i64, Option<String>)> = self
            .tx
            .query_row(
                "SELECT fid, request_hash FROM events WHERE account = ?1 AND idempotency_key = ?2",
                [account, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| db(self.path(), "look up an idempotency key", e))?;
        Ok(found.map(|(f, h)| (f as u64, h)))
    }

    async fn next_id(&mut self, min_id: u64) -> Result<u64, StoreError> {
        let max: Option<i64> = self
            .tx
            .query_row("SELECT max(fid) FROM events", [], |r| r.get(0))
            .map_err(|e| db(self.path(), "read the largest event id", e))?;
        Ok(min_id.max(max.map_or(0, |m| m as u64 + 1)))
    }

    async fn read(&mut self, id: u64) -> Result<Option<EventRecord>, StoreError> {
        self.store.get(&self.tx, id)
    }

    async fn insert(
        &mut self,
        rec: &EventRecord,
        key: Keyed<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.put(rec, Some(key), now)
    }

    async fn update(&mut self, rec: &EventRecord, now: i64) -> Result<(), StoreError> {
        // A base event of the city is copied in on its first move.
        self.put(rec, None, now)
    }

    async fn log(&mut self, id: u64, h: &HistoryEntry) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO event_history (event_id, seq, status, at, actor, note, from_status, role, routed_to)
                 SELECT ?1, coalesce(max(seq) + 1, 0), ?2, ?3, ?4, ?5, ?6, ?7, ?8
                 FROM event_history WHERE event_id = ?1",
                params![
                    id as i64,
                    h.to.as_str(),
                    h.at,
                    h.actor,
                    h.note,
                    h.from.map(|s| s.as_str()),
                    h.role.as_str(),
                    h.routed_to
                ],
            )
            .map_err(|e| db(self.path(), "write an event's history", e))?;
        Ok(())
    }

    async fn announce(&mut self, _id: u64) -> Result<(), StoreError> {
        // No other server shares the file.
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        let path = self.store.path.clone();
        self.tx
            .commit()
            .map_err(|e| db(&path, "commit a change", e))
    }
}

impl EmbeddedTx<'_> {
    pub(super) fn path(&self) -> &Path {
        &self.store.path
    }

    /// Writes the event's row: a new one with its report's key, or its new
    /// state (a base event of the city is copied in on its first move).
    fn put(&self, rec: &EventRecord, key: Option<Keyed<'_>>, now: i64) -> Result<(), StoreError> {
        let e = &rec.event;
        self.tx
            .execute(
                "INSERT INTO events (fid, geom, category, status, reported_at, closed_at, unit_id, description, reporter, routed_to, idempotency_key, updated_at, account, request_hash, status_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (fid) DO UPDATE SET status = excluded.status, closed_at = excluded.closed_at,
                   routed_to = excluded.routed_to, updated_at = excluded.updated_at,
                   status_at = excluded.status_at",
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
                    key.as_ref().and_then(|k| k.key),
                    now,
                    key.as_ref().map(|k| k.account),
                    key.as_ref().map(|k| k.request_hash),
                    e.status_at
                ],
            )
            .map_err(|e| db(self.path(), "write an event", e))?;
        Ok(())
    }
}

impl EmbeddedStore {
    /// Runs `f` over a new write transaction.
    pub(super) fn write<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(EmbeddedTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db(&self.path, action, e))?;
        f(EmbeddedTx { tx, store: self })
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
        self.write("record a report", |tx| {
            run_now(workflow::report(tx, actor, min_id, new, now))
        })
    }

    /// Moves an event one step (`base` is its state in the city's files,
    /// used when this store has not seen it yet).
    pub fn transition(
        &self,
        actor: &Actor,
        id: u64,
        base: Option<&Event>,
        mv: &MoveRequest,
        now: i64,
    ) -> Result<EventRecord, StoreError> {
        self.write("move an event", |tx| {
            run_now(workflow::transition(tx, actor, id, base, mv, now))
        })
    }

    /// Every event this store holds, in its latest state (to lay over the
    /// city's base events at start-up).
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(&format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY fid"))
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

    /// The events routed to `department` that wait for it (status
    /// `routed`), oldest report first.
    pub fn routed_to(&self, department: &str) -> Result<Vec<u64>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(
                "SELECT fid FROM events WHERE routed_to = ?1 AND status = 'routed' \
                 ORDER BY reported_at, fid",
            )
            .map_err(|e| db(&self.path, "read a department's queue", e))?;
        let rows = st
            .query_map([department], |r| r.get::<_, i64>(0))
            .map_err(|e| db(&self.path, "read a department's queue", e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(|e| db(&self.path, "read a department's queue", e))? as u64);
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
            .prepare("SELECT at, from_status, status, actor, role, routed_to, note FROM event_history WHERE event_id = ?1 ORDER BY seq")
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

    fn get(&self, tx: &Transaction<'_>, id: u64) -> Result<Option<EventRecord>, StoreError> {
        let Ok(fid) = i64::try_from(id) else {
            return Ok(None);
        };
        tx.query_row(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE fid = ?1"),
            [fid],
            |r| self.row(r),
        )
        .optional()
        .map_err(|e| db(&self.path, "read an event", e))?
        .transpose()
    }

    /// An event row of `EVENT_COLUMNS`; the inner error is a stored value
    /// that no longer makes sense.
    fn row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<EventRecord, StoreError>> {
        let fid: i64 = r.get(0)?;
        let geom: Vec<u8> = r.get(1)?;
        let category: String = r.get(2)?;
        let status: String = r.get(3)?;
        let unit: i64 = r.get(6)?;
        let (reported_at, closed_at, description, reporter, routed_to) =
            (r.get(4)?, r.get(5)?, r.get(7)?, r.get(8)?, r.get(9)?);
        let status_at: Option<i64> = r.get(10)?;
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
                    status_at: status_at.or(closed_at).unwrap_or(reported_at),
                    unit,
                },
                description,
                reporter,
                routed_to,
            })
        })())
    }
}
