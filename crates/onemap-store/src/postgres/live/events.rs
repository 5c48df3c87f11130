//! The event loop over PostGIS: the primitives of one write transaction
//! ([`EventTx`]) on a pooled connection, the loop's changes run over them,
//! and the reads of events, their history and what other servers changed.

use super::{parse, PgLive};
use crate::live::workflow::{self, EventTx, Keyed};
use crate::postgres::{from_time, to_time, PgError};
use crate::{EventRecord, HistoryEntry, MoveRequest, NewReport, StoreError};
use onemap_core::workflow::Actor;
use onemap_core::{AreaId, Event};
use std::time::SystemTime;
use tokio_postgres::{GenericClient, Row};

/// Key of the advisory lock that makes reports take turns.
const REPORT_LOCK: i64 = 0x6f6e_656d_6170_0001;

const EVENT_COLUMNS: &str =
    "e.id, ST_X(e.geom), ST_Y(e.geom), e.category, e.status, e.reported_at, \
     e.closed_at, e.unit_id, r.description, r.reporter, r.routed_to, e.status_at";

/// One write transaction on a pooled connection.
pub(super) struct PgTx<'a> {
    pub(super) tx: deadpool_postgres::Transaction<'a>,
    pub(super) live: &'a PgLive,
}

pub(super) fn sql_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::UnknownEvent(id))
}

impl EventTx for PgTx<'_> {
    async fn lock_reports(&mut self) -> Result<(), StoreError> {
        self.tx
            .execute("SELECT pg_advisory_xact_lock($1)", &[&REPORT_LOCK])
            .await
            .map_err(self.live.err("lock for a report"))?;
        Ok(())
    }

    async fn find_by_key(
        &mut self,
        account: &str,
        key: &str,
    ) -> Result<Option<(u64, Option<String>)>, StoreError> {
        let found = self
            .tx
            .query_opt(
                "SELECT event_id, request_hash FROM event_reports
                 WHERE account = $1 AND idempotency_key = $2",
                &[&account, &key],
            )
            .await
            .map_err(self.live.err("look up an idempotency key"))?;
        Ok(found.map(|row| (row.get::<_, i64>(0) as u64, row.get(1))))
    }

    async fn next_id(&mut self, min_id: u64) -> Result<u64, StoreError> {
        let max: i64 = self
            .tx
            .query_one("SELECT coalesce(max(id), -1) FROM events", &[])
            .await
            .map_err(self.live.err("read the largest event id"))?
            .get(0);
        Ok(min_id.max((max + 1) as u64))
    }

    async fn read(&mut self, id: u64) -> Result<Option<EventRecord>, StoreError> {
        self.live.get(&*self.tx, id, true).await
    }

    async fn insert(
        &mut self,
        rec: &EventRecord,
        key: Keyed<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let e = &rec.event;
        let at = to_time("events", now)?;
        let id = i64::try_from(e.id)
            .map_err(|_| PgError::invalid("events", format!("event id {} is too large", e.id)))?;
        self.tx
            .execute(
                "INSERT INTO events (id, category, status, reported_at, closed_at, unit_id, geom, status_at)
                 VALUES ($1, $2, $3, $4, NULL, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), $4)",
                &[
                    &id,
                    &e.category.as_str(),
                    &e.status.as_str(),
                    &at,
                    &(e.unit.get() as i64),
                    &e.lon,
                    &e.lat,
                ],
            )
            .await
            .map_err(self.live.err("write an event"))?;
        self.tx
            .execute(
                "INSERT INTO event_reports (event_id, description, reporter, routed_to, idempotency_key,
                   updated_at, account, request_hash)
                 VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
                &[
                    &id,
                    &rec.description,
                    &rec.reporter,
                    &key.key,
                    &at,
                    &key.account,
                    &key.request_hash,
                ],
            )
            .await
            .map_err(self.live.err("write a report"))?;
        Ok(())
    }

    async fn update(&mut self, rec: &EventRecord, now: i64) -> Result<(), StoreError> {
        let id = sql_id(rec.event.id)?;
        let at = to_time("events", now)?;
        let closed = rec.event.closed_at.map(|_| at);
        self.tx
            .execute(
                "UPDATE events SET status = $2, closed_at = $3, status_at = $4 WHERE id = $1",
                &[&id, &rec.event.status.as_str(), &closed, &at],
            )
            .await
            .map_err(self.live.err("write an event"))?;
        self.tx
            .execute(
                "INSERT INTO event_reports (event_id, description, reporter, routed_to, updated_at)
                 VALUES ($1, '', '', $2, $3)
                 ON CONFLICT (event_id) DO UPDATE SET routed_to = excluded.routed_to,
                   updated_at = excluded.updated_at",
                &[&id, &rec.routed_to, &at],
            )
            .await
            .map_err(self.live.err("write a report"))?;
        Ok(())
    }

    async fn log(&mut self, id: u64, h: &HistoryEntry) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO event_history (event_id, seq, status, at, actor, note, from_status, role, routed_to)
                 SELECT $1, coalesce(max(seq) + 1, 0), $2, $3, $4, $5, $6, $7, $8
                 FROM event_history WHERE event_id = $1",
                &[
                    &sql_id(id)?,
                    &h.to.as_str(),
                    &to_time("event_history", h.at)?,
                    &h.actor,
                    &h.note,
                    &h.from.map(|s| s.as_str()),
                    &h.role.as_str(),
                    &h.routed_to,
                ],
            )
            .await
            .map_err(self.live.err("write an event's history"))?;
        Ok(())
    }

    async fn announce(&mut self, id: u64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "SELECT pg_notify($1, $2)",
                &[
                    &super::CHANGES_CHANNEL,
                    &format!("{} {id}", self.live.origin),
                ],
            )
            .await
            .map_err(self.live.err("announce a change"))?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx
            .commit()
            .await
            .map_err(self.live.err("commit a change"))?;
        Ok(())
    }
}

impl PgLive {
    /// Records a report (or returns the event first reported with the same
    /// idempotency key, and `false`), announced to the other servers. Its
    /// id is the next after every event's and at least `min_id`.
    pub async fn report(
        &self,
        actor: &Actor,
        min_id: u64,
        new: &NewReport,
        now: i64,
    ) -> Result<(EventRecord, bool), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err("begin a report"))?;
        workflow::report(PgTx { tx, live: self }, actor, min_id, new, now).await
    }

    /// Moves an event one step, announced to the other servers.
    pub async fn transition(
        &self,
        actor: &Actor,
        id: u64,
        mv: &MoveRequest,
        now: i64,
    ) -> Result<EventRecord, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err("begin a move"))?;
        // PostGIS holds every event: no base state to fall back on.
        workflow::transition(PgTx { tx, live: self }, actor, id, None, mv, now).await
    }

    /// An event with what the loop added to it and its history (oldest
    /// first; empty for an event the loop never touched).
    pub async fn event(
        &self,
        id: u64,
    ) -> Result<Option<(EventRecord, Vec<HistoryEntry>)>, StoreError> {
        let Ok(sql_id) = i64::try_from(id) else {
            return Ok(None);
        };
        let mut c = self.client().await?;
        // One snapshot for the event and its history.
        let tx = c
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(self.err("begin a read"))?;
        let Some(rec) = self.get(&*tx, id, false).await? else {
            return Ok(None);
        };
        let rows = tx
            .query(
                "SELECT at, from_status, status, coalesce(actor, ''), role, routed_to, note
                 FROM event_history WHERE event_id = $1 ORDER BY seq",
                &[&sql_id],
            )
            .await
            .map_err(self.err("read an event's history"))?;
        let mut history = Vec::with_capacity(rows.len());
        for r in rows {
            let role: Option<String> = r.get(4);
            history.push(HistoryEntry {
                at: from_time("event_history", r.get(0))?,
                from: r
                    .get::<_, Option<String>>(1)
                    .map(|s| parse("event_history", &s))
                    .transpose()?,
                to: parse("event_history", &r.get::<_, String>(2))?,
                actor: r.get(3),
                // History imported from elsewhere may not say.
                role: parse("event_history", role.as_deref().unwrap_or("viewer"))?,
                routed_to: r.get(5),
                note: r.get(6),
            });
        }
        tx.commit().await.map_err(self.err("end a read"))?;
        Ok(Some((rec, history)))
    }

    /// The events routed to `department` that wait for it (status
    /// `routed`), oldest report first.
    pub async fn routed_to(&self, department: &str) -> Result<Vec<u64>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT e.id FROM event_reports r JOIN events e ON e.id = r.event_id
                 WHERE r.routed_to = $1 AND e.status = 'routed'
                 ORDER BY e.reported_at, e.id",
                &[&department],
            )
            .await
            .map_err(self.err("read a department's queue"))?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    /// The current state of these events (those that exist), by id.
    pub async fn events(&self, ids: &[u64]) -> Result<Vec<Event>, StoreError> {
        let ids: Vec<i64> = ids.iter().filter_map(|i| i64::try_from(*i).ok()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events e LEFT JOIN event_reports r ON r.event_id = e.id
                     WHERE e.id = ANY($1) ORDER BY e.id"
                ),
                &[&ids],
            )
            .await
            .map_err(self.err("read changed events"))?;
        rows.iter().map(|r| Ok(record(r)?.event)).collect()
    }

    /// Every event the loop changed at or after `since` (Unix seconds).
    pub async fn events_changed_since(&self, since: i64) -> Result<Vec<Event>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM event_reports r JOIN events e ON e.id = r.event_id
                     WHERE r.updated_at >= $1 ORDER BY e.id"
                ),
                &[&to_time("event_reports", since)?],
            )
            .await
            .map_err(self.err("read changed events"))?;
        rows.iter().map(|r| Ok(record(r)?.event)).collect()
    }

    /// Reads an event (locking its row for the transaction with `lock`).
    async fn get<C: GenericClient>(
        &self,
        c: &C,
        id: u64,
        lock: bool,
    ) -> Result<Option<EventRecord>, StoreError> {
        let Ok(sql_id) = i64::try_from(id) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e LEFT JOIN event_reports r ON r.event_id = e.id
             WHERE e.id = $1{}",
            if lock { " FOR UPDATE OF e" } else { "" }
        );
        let row = c
            .query_opt(&sql, &[&sql_id])
            .await
            .map_err(self.err("read an event"))?;
        row.as_ref().map(record).transpose()
    }
}

/// An event row of [`EVENT_COLUMNS`].
fn record(r: &Row) -> Result<EventRecord, StoreError> {
    let id: i64 = r.get(0);
    let closed: Option<SystemTime> = r.get(6);
    let unit: i64 = r.get(7);
    Ok(EventRecord {
        event: Event {
            id: id as u64,
            lon: r.get(1),
            lat: r.get(2),
            category: parse("events", &r.get::<_, String>(3))?,
            status: parse("events", &r.get::<_, String>(4))?,
            reported_at: from_time("events", r.get(5))?,
            closed_at: closed.map(|t| from_time("events", t)).transpose()?,
            status_at: from_time("events", r.get(11))?,
            unit: AreaId::new(unit as u64)
                .map_err(|e| PgError::invalid("events", format!("event {id}: {e}")))?,
        },
        description: r.get::<_, Option<String>>(8).unwrap_or_default(),
        reporter: r.get::<_, Option<String>>(9).unwrap_or_default(),
        routed_to: r.get(10),
    })
}
