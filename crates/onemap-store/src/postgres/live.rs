//! PostGIS as the live server's store: the event loop's reports, moves and
//! history, the bearer tokens, the ships' position history and port
//! crossings — and the announcements that keep several servers in step.
//!
//! Every change is one transaction over a pooled connection. A report takes
//! a transaction-scoped advisory lock, so ids (the next after the largest)
//! and idempotency keys are decided one report at a time across every
//! server on the database; a move locks its event's row (`FOR UPDATE`), so
//! two moves of one event never both pass the check against a stale
//! status. Each change to an event is announced in its own transaction with
//! `pg_notify` on [`CHANGES_CHANNEL`] — delivered only if it commits — and
//! [`PgLive::listen`] hears the announcements of the other servers.

use super::error::describe;
use super::{describe_target, from_time, parse_url, to_time, PgError};
use crate::embedded::{new_token, scope_text, token_hash};
use crate::{
    parse_scope, Crossing, EventRecord, HistoryEntry, MoveRequest, NewReport, ShipPosition,
    StoreError,
};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::StreamExt;
use onemap_core::workflow::{check_report, Actor, Scope};
use onemap_core::{AreaId, Event, EventStatus, Role};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_postgres::{AsyncMessage, Config, GenericClient, NoTls, Row};

/// The channel every committed change of an event is announced on; the
/// payload is `ORIGIN ID` (the announcing server and the event's id).
pub const CHANGES_CHANNEL: &str = "onemap_events";

/// Key of the advisory lock that makes reports take turns.
const REPORT_LOCK: i64 = 0x6f6e_656d_6170_0001;

/// Connections in the pool: enough for 32 clients whose reports take turns
/// anyway, few enough to leave the database room for others.
const POOL_SIZE: usize = 16;

/// How far back a re-synchronisation reaches before the last moment the
/// announcements were known to be heard (covers clock differences between
/// servers; applying an unchanged event again is harmless).
const RESYNC_MARGIN_SECS: i64 = 60;

/// How often the listening connection is checked.
const LISTEN_PING: Duration = Duration::from_secs(5);

const EVENT_COLUMNS: &str =
    "e.id, ST_X(e.geom), ST_Y(e.geom), e.category, e.status, e.reported_at, \
     e.closed_at, e.unit_id, r.description, r.reporter, r.routed_to";

/// What [`PgLive::listen`] hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Another server committed a change of this event.
    Changed(u64),
    /// The announcements are being heard (again): every event changed
    /// since `since` (Unix seconds) should be read once, since some
    /// announcements may have been missed before.
    Resync { since: i64 },
}

/// The live server's connection pool to a PostGIS database.
pub struct PgLive {
    pool: Pool,
    config: Config,
    target: String,
    /// This server's name in announcements, to skip its own.
    origin: String,
}

impl std::fmt::Debug for PgLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLive")
            .field("target", &self.target)
            .field("origin", &self.origin)
            .finish()
    }
}

impl PgLive {
    /// A pool for the database at `url`; connects lazily. Must be called
    /// within a tokio runtime.
    pub fn new(url: &str) -> Result<PgLive, PgError> {
        let mut config = parse_url(url)?;
        let target = describe_target(&config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("onemap-live");
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| PgError::BadUrl {
                reason: format!("cannot set up the connection pool: {e}"),
            })?;
        let origin = new_token()
            .map(|t| t[3..15].to_string())
            .unwrap_or_else(|_| std::process::id().to_string());
        Ok(PgLive {
            pool,
            config,
            target,
            origin,
        })
    }

    /// `host:port/database` (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    async fn client(&self) -> Result<Object, PgError> {
        self.pool.get().await.map_err(|e| {
            let message = match &e {
                deadpool_postgres::PoolError::Backend(b) => describe(b),
                other => other.to_string(),
            };
            PgError::Unavailable {
                target: self.target.clone(),
                message,
            }
        })
    }

    fn err(&self, action: &str) -> impl Fn(tokio_postgres::Error) -> PgError + '_ {
        let action = action.to_string();
        move |e| PgError::live(&self.target, &action, e)
    }

    /// Issues a bearer token and returns it; only its SHA-256 is kept.
    pub async fn create_token(
        &self,
        role: Role,
        scope: &Scope,
        name: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let token = new_token().map_err(|e| StoreError::Worker(e.to_string()))?;
        let c = self.client().await?;
        c.execute(
            "INSERT INTO tokens (hash, role, scope, name, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[
                &token_hash(&token),
                &role.as_str(),
                &scope_text(scope),
                &name,
                &to_time("tokens", now)?,
            ],
        )
        .await
        .map_err(self.err("store a token"))?;
        Ok(token)
    }

    /// Who a bearer token speaks for, if it is one of ours.
    pub async fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT role, scope, name FROM tokens WHERE hash = $1",
                &[&token_hash(token)],
            )
            .await
            .map_err(self.err("look up a token"))?;
        let Some(row) = row else { return Ok(None) };
        let (role, scope, name): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        Ok(Some(Actor {
            role: parse("tokens", &role)?,
            scope: parse_scope(&scope)
                .ok_or_else(|| PgError::invalid("tokens", format!("scope '{scope}'")))?,
            name,
        }))
    }

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
        check_report(actor, new.unit)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err("begin a report"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&REPORT_LOCK])
            .await
            .map_err(self.err("lock for a report"))?;
        if let Some(key) = &new.idempotency_key {
            let found = tx
                .query_opt(
                    "SELECT event_id FROM event_reports WHERE idempotency_key = $1",
                    &[key],
                )
                .await
                .map_err(self.err("look up an idempotency key"))?;
            if let Some(row) = found {
                let id: i64 = row.get(0);
                let rec = self
                    .get(&*tx, id as u64, false)
                    .await?
                    .ok_or(StoreError::UnknownEvent(id as u64))?;
                return Ok((rec, false));
            }
        }
        let max: i64 = tx
            .query_one("SELECT coalesce(max(id), -1) FROM events", &[])
            .await
            .map_err(self.err("read the largest event id"))?
            .get(0);
        let id = min_id.max((max + 1) as u64);
        let rec = new.record(id, actor, now);
        let e = &rec.event;
        let at = to_time("events", now)?;
        let sql_id = i64::try_from(id)
            .map_err(|_| PgError::invalid("events", format!("event id {id} is too large")))?;
        tx.execute(
            "INSERT INTO events (id, category, status, reported_at, closed_at, unit_id, geom)
             VALUES ($1, $2, $3, $4, NULL, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326))",
            &[
                &sql_id,
                &e.category.as_str(),
                &e.status.as_str(),
                &at,
                &(e.unit.get() as i64),
                &e.lon,
                &e.lat,
            ],
        )
        .await
        .map_err(self.err("write an event"))?;
        tx.execute(
            "INSERT INTO event_reports (event_id, description, reporter, routed_to, idempotency_key, updated_at)
             VALUES ($1, $2, $3, NULL, $4, $5)",
            &[&sql_id, &rec.description, &rec.reporter, &new.idempotency_key, &at],
        )
        .await
        .map_err(self.err("write a report"))?;
        self.log(
            &*tx,
            sql_id,
            at,
            None,
            EventStatus::Reported,
            actor,
            None,
            None,
        )
        .await?;
        self.announce(&*tx, id).await?;
        tx.commit().await.map_err(self.err("commit a report"))?;
        Ok((rec, true))
    }

    /// Moves an event: locks and re-reads it, checks the move with
    /// [`check_move`], writes the new state and the history entry,
    /// announces it, and commits.
    pub async fn transition(
        &self,
        actor: &Actor,
        id: u64,
        mv: &MoveRequest,
        now: i64,
    ) -> Result<EventRecord, StoreError> {
        let sql_id = i64::try_from(id).map_err(|_| StoreError::UnknownEvent(id))?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err("begin a move"))?;
        let mut rec = self
            .get(&*tx, id, true)
            .await?
            .ok_or(StoreError::UnknownEvent(id))?;
        let from = rec.apply_move(actor, mv, now)?;
        let at = to_time("events", now)?;
        let closed = rec.event.closed_at.map(|_| at);
        tx.execute(
            "UPDATE events SET status = $2, closed_at = $3 WHERE id = $1",
            &[&sql_id, &mv.to.as_str(), &closed],
        )
        .await
        .map_err(self.err("write an event"))?;
        tx.execute(
            "INSERT INTO event_reports (event_id, description, reporter, routed_to, updated_at)
             VALUES ($1, '', '', $2, $3)
             ON CONFLICT (event_id) DO UPDATE SET routed_to = excluded.routed_to,
               updated_at = excluded.updated_at",
            &[&sql_id, &rec.routed_to, &at],
        )
        .await
        .map_err(self.err("write a report"))?;
        self.log(
            &*tx,
            sql_id,
            at,
            Some(from),
            mv.to,
            actor,
            mv.routed_to.as_deref(),
            mv.note.as_deref(),
        )
        .await?;
        self.announce(&*tx, id).await?;
        tx.commit().await.map_err(self.err("commit a move"))?;
        Ok(rec)
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

    /// Records applied ship positions and the port crossings they caused,
    /// in one transaction (all or nothing).
    pub async fn record_ships(
        &self,
        positions: &[ShipPosition],
        crossings: &[Crossing],
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("begin recording ships"))?;
        if !positions.is_empty() {
            let mmsi: Vec<i64> = positions.iter().map(|p| i64::from(p.mmsi)).collect();
            let at: Vec<i64> = positions.iter().map(|p| p.time).collect();
            let speed: Vec<f32> = positions.iter().map(|p| p.speed_kn).collect();
            let course: Vec<f32> = positions.iter().map(|p| p.course_deg).collect();
            let in_port: Vec<bool> = positions.iter().map(|p| p.in_port).collect();
            let lon: Vec<f64> = positions.iter().map(|p| p.lon).collect();
            let lat: Vec<f64> = positions.iter().map(|p| p.lat).collect();
            tx.execute(
                "INSERT INTO ship_positions (mmsi, at, speed_kn, course_deg, in_port, geom)
                 SELECT m, to_timestamp(t), s, c, p, ST_SetSRID(ST_MakePoint(x, y), 4326)
                 FROM unnest($1::int8[], $2::int8[], $3::float4[], $4::float4[], $5::bool[],
                             $6::float8[], $7::float8[]) WITH ORDINALITY AS u(m, t, s, c, p, x, y, n)
                 ORDER BY n",
                &[&mmsi, &at, &speed, &course, &in_port, &lon, &lat],
            )
            .await
            .map_err(self.err("record ship positions"))?;
        }
        if !crossings.is_empty() {
            let mmsi: Vec<i64> = crossings.iter().map(|c| i64::from(c.mmsi)).collect();
            let port: Vec<&str> = crossings.iter().map(|c| c.port.as_str()).collect();
            let kind: Vec<&str> = crossings
                .iter()
                .map(|c| if c.arrival { "arrival" } else { "departure" })
                .collect();
            let at: Vec<i64> = crossings.iter().map(|c| c.time).collect();
            tx.execute(
                "INSERT INTO ship_crossings (mmsi, port, kind, at)
                 SELECT m, p, k, to_timestamp(t)
                 FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[]) WITH ORDINALITY AS u(m, p, k, t, n)
                 ORDER BY n",
                &[&mmsi, &port, &kind, &at],
            )
            .await
            .map_err(self.err("record ship crossings"))?;
        }
        tx.commit()
            .await
            .map_err(self.err("commit ship positions"))?;
        Ok(())
    }

    /// Every ship's latest recorded position, by MMSI. The ships are found
    /// by skipping through `ship_positions_mmsi_at_idx` (a recursive loose
    /// index scan) and each one's latest is one probe of it, so start-up
    /// does not read the whole history (positions are recorded in time
    /// order per ship: stale reports are never applied).
    pub async fn latest_ship_positions(&self) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "WITH RECURSIVE m (mmsi) AS (
                 SELECT min(mmsi) FROM ship_positions
                 UNION ALL
                 SELECT (SELECT min(q.mmsi) FROM ship_positions q WHERE q.mmsi > m.mmsi)
                 FROM m WHERE m.mmsi IS NOT NULL)
             SELECT p.mmsi, extract(epoch FROM p.at)::int8, ST_X(p.geom), ST_Y(p.geom),
                    p.speed_kn, p.course_deg, p.in_port
             FROM m CROSS JOIN LATERAL (
                 SELECT * FROM ship_positions q WHERE q.mmsi = m.mmsi
                 ORDER BY q.at DESC, q.id DESC LIMIT 1) p
             ORDER BY p.mmsi",
            &[],
        )
        .await
    }

    /// One ship's recorded positions from `from` on, oldest first.
    pub async fn ship_track(&self, mmsi: u32, from: i64) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT mmsi, extract(epoch FROM at)::int8, ST_X(geom), ST_Y(geom), speed_kn,
                    course_deg, in_port
             FROM ship_positions WHERE mmsi = $1 AND at >= to_timestamp($2) ORDER BY at, id",
            &[&i64::from(mmsi), &(from as f64)],
        )
        .await
    }

    /// Recorded crossings, oldest first, of one port or all.
    pub async fn crossings(
        &self,
        port: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<Crossing>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT mmsi, port, kind, extract(epoch FROM at)::int8 FROM ship_crossings
                 WHERE ($1::text IS NULL OR port = $1) AND at >= to_timestamp($2)
                   AND at < to_timestamp($3)
                 ORDER BY at, id",
                &[&port, &(from as f64), &(to as f64)],
            )
            .await
            .map_err(self.err("read ship crossings"))?;
        rows.iter()
            .map(|r| {
                Ok(Crossing {
                    mmsi: u32_of("ship_crossings", r.get(0))?,
                    port: r.get(1),
                    arrival: r.get::<_, &str>(2) == "arrival",
                    time: r.get(3),
                })
            })
            .collect()
    }

    async fn positions(
        &self,
        sql: &str,
        args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<ShipPosition>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(sql, args)
            .await
            .map_err(self.err("read ship positions"))?;
        rows.iter()
            .map(|r| {
                Ok(ShipPosition {
                    mmsi: u32_of("ship_positions", r.get(0))?,
                    time: r.get(1),
                    lon: r.get(2),
                    lat: r.get(3),
                    speed_kn: r.get(4),
                    course_deg: r.get(5),
                    in_port: r.get(6),
                })
            })
            .collect()
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

    #[allow(clippy::too_many_arguments)]
    async fn log<C: GenericClient>(
        &self,
        c: &C,
        id: i64,
        at: SystemTime,
        from: Option<EventStatus>,
        to: EventStatus,
        actor: &Actor,
        routed_to: Option<&str>,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        c.execute(
            "INSERT INTO event_history (event_id, seq, status, at, actor, note, from_status, role, routed_to)
             SELECT $1, coalesce(max(seq) + 1, 0), $2, $3, $4, $5, $6, $7, $8
             FROM event_history WHERE event_id = $1",
            &[
                &id,
                &to.as_str(),
                &at,
                &actor.name,
                &note,
                &from.map(|s| s.as_str()),
                &actor.role.as_str(),
                &routed_to,
            ],
        )
        .await
        .map_err(self.err("write an event's history"))?;
        Ok(())
    }

    async fn announce<C: GenericClient>(&self, c: &C, id: u64) -> Result<(), StoreError> {
        c.execute(
            "SELECT pg_notify($1, $2)",
            &[&CHANGES_CHANNEL, &format!("{} {id}", self.origin)],
        )
        .await
        .map_err(self.err("announce a change"))?;
        Ok(())
    }

    /// Listens for the other servers' announcements, on a connection of its
    /// own that comes back by itself. The first notice, and the first after
    /// each reconnection, is a [`Notice::Resync`] (from `since` the first
    /// time). Runs until the receiver is dropped.
    pub fn listen(self: &Arc<Self>, since: i64) -> UnboundedReceiver<Notice> {
        let (tx, rx) = unbounded_channel();
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut since = since;
            let mut failures = 0u32;
            loop {
                let mut heard_at = None;
                match me.listen_once(&tx, since, &mut heard_at).await {
                    Ok(()) => return,
                    Err(e) => {
                        if failures == 0 {
                            tracing::warn!("not hearing other servers' changes: {e}");
                        }
                        failures = failures.saturating_add(1);
                    }
                }
                if tx.is_closed() {
                    return;
                }
                if let Some(t) = heard_at {
                    since = t - RESYNC_MARGIN_SECS;
                    failures = 0;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        rx
    }

    /// One listening connection: `Ok` when the receiver is gone, `Err` when
    /// the connection failed. `heard_at` is the last moment the connection
    /// was known to be hearing.
    async fn listen_once(
        &self,
        tx: &UnboundedSender<Notice>,
        since: i64,
        heard_at: &mut Option<i64>,
    ) -> Result<(), PgError> {
        let mut config = self.config.clone();
        config.application_name("onemap-listen");
        let (client, mut connection) =
            config.connect(NoTls).await.map_err(|e| PgError::Connect {
                target: self.target.clone(),
                message: describe(&e),
            })?;
        let (ntx, mut nrx) = unbounded_channel::<String>();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(m) = messages.next().await {
                match m {
                    Ok(AsyncMessage::Notification(n)) => {
                        if ntx.send(n.payload().to_string()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("listening connection lost: {}", describe(&e));
                        return;
                    }
                }
            }
        });
        let result = async {
            client
                .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
                .await
                .map_err(self.err("listen for changes"))?;
            let listening_from = onemap_core::time::now();
            *heard_at = Some(listening_from);
            tracing::info!("hearing other servers' changes on {}", self.target);
            if tx.send(Notice::Resync { since }).is_err() {
                return Ok(());
            }
            let mut ping = tokio::time::interval(LISTEN_PING);
            ping.tick().await;
            loop {
                tokio::select! {
                    payload = nrx.recv() => {
                        let Some(payload) = payload else {
                            return Err(PgError::Unavailable {
                                target: self.target.clone(),
                                message: "the listening connection closed".into(),
                            });
                        };
                        let Some((origin, id)) = payload.split_once(' ') else { continue };
                        if origin == self.origin {
                            continue;
                        }
                        let Ok(id) = id.parse::<u64>() else { continue };
                        if tx.send(Notice::Changed(id)).is_err() {
                            return Ok(());
                        }
                    }
                    _ = ping.tick() => {
                        let t = onemap_core::time::now();
                        client
                            .simple_query("SELECT 1")
                            .await
                            .map_err(self.err("check the listening connection"))?;
                        *heard_at = Some(t);
                        if tx.is_closed() {
                            return Ok(());
                        }
                    }
                }
            }
        }
        .await;
        driver.abort();
        result
    }
}

fn parse<T: std::str::FromStr>(table: &'static str, s: &str) -> Result<T, PgError> {
    s.parse()
        .map_err(|_| PgError::invalid(table, format!("bad stored value '{s}'")))
}

fn u32_of(table: &'static str, v: i64) -> Result<u32, PgError> {
    u32::try_from(v).map_err(|_| PgError::invalid(table, format!("mmsi {v} out of range")))
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
            unit: AreaId::new(unit as u64)
                .map_err(|e| PgError::invalid("events", format!("event {id}: {e}")))?,
        },
        description: r.get::<_, Option<String>>(8).unwrap_or_default(),
        reporter: r.get::<_, Option<String>>(9).unwrap_or_default(),
        routed_to: r.get(10),
    })
}
