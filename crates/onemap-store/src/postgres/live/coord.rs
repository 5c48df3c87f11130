//! Coordination in PostGIS: departments' answers (`coord_decisions`),
//! enterprises' and schools' requests (`coord_requests`) and self-checks
//! (`coord_self_checks`). Every write announces itself on
//! [`COORD_CHANNEL`] in its own transaction, so the other servers on the
//! database coordinate the year again.

use super::PgLive;
use crate::live::coord::{CoordDecision, CoordInputs, CoordRequest, CoordSelfCheck};
use crate::postgres::{from_time, to_time};
use crate::{PgError, StoreError};
use std::time::SystemTime;

impl PgLive {
    /// The answers for the plans of demo year `year`, by plan.
    pub async fn coord_decisions(&self, year: i32) -> Result<Vec<CoordDecision>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT plan_id, accept, department, account, decided_by, at
                 FROM coord_decisions WHERE year = $1 ORDER BY plan_id",
                &[&year],
            )
            .await
            .map_err(self.err("read coordination decisions"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let plan: i64 = r.get(0);
            let at: SystemTime = r.get(5);
            out.push(CoordDecision {
                year,
                plan: u64::try_from(plan)
                    .map_err(|_| PgError::invalid("coord_decisions", format!("plan id {plan}")))?,
                accept: r.get(1),
                department: r.get(2),
                account: r.get(3),
                by: r.get(4),
                at: from_time("coord_decisions", at)?,
            });
        }
        Ok(out)
    }

    /// Keeps an answer; a later one for the same plan replaces it.
    pub async fn put_coord_decision(&self, d: &CoordDecision) -> Result<(), StoreError> {
        let plan = i64::try_from(d.plan)
            .map_err(|_| PgError::invalid("coord_decisions", format!("plan id {}", d.plan)))?;
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("store a coordination decision"))?;
        tx.execute(
            "INSERT INTO coord_decisions (year, plan_id, accept, department, account, decided_by, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (year, plan_id) DO UPDATE SET accept = excluded.accept,
                 department = excluded.department, account = excluded.account,
                 decided_by = excluded.decided_by, at = excluded.at",
            &[
                &d.year,
                &plan,
                &d.accept,
                &d.department,
                &d.account,
                &d.by,
                &to_time("coord_decisions", d.at)?,
            ],
        )
        .await
        .map_err(self.err("store a coordination decision"))?;
        self.announce_coord(&tx, d.year).await?;
        tx.commit()
            .await
            .map_err(self.err("store a coordination decision"))?;
        Ok(())
    }

    /// Announces a change of demo year `year`'s coordination to the other
    /// servers (delivered when `tx` commits).
    async fn announce_coord(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        year: i32,
    ) -> Result<(), StoreError> {
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&COORD_CHANNEL, &format!("{} {year}", self.origin)],
        )
        .await
        .map_err(self.err("announce a coordination change"))?;
        Ok(())
    }

    /// Keeps a request with the next id of its year (at least `min_id`),
    /// one at a time across the servers; refused with
    /// [`StoreError::DuplicateRequest`] when the target made one with the
    /// same key this year.
    pub async fn add_coord_request(
        &self,
        min_id: u64,
        r: &CoordRequest,
    ) -> Result<CoordRequest, StoreError> {
        let what = "store a coordination request";
        let target = i64::try_from(r.target)
            .map_err(|_| PgError::invalid("coord_requests", format!("target {}", r.target)))?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err(what))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&REQUEST_LOCK])
            .await
            .map_err(self.err(what))?;
        let found = tx
            .query_opt(
                "SELECT id FROM coord_requests WHERE year = $1 AND target_kind = $2
                 AND target_id = $3 AND dedupe = $4",
                &[&r.year, &r.target_kind, &target, &r.dedupe],
            )
            .await
            .map_err(self.err(what))?;
        if let Some(row) = found {
            let id: i64 = row.get(0);
            return Err(StoreError::DuplicateRequest {
                target: format!("{} {}", r.target_kind, r.target),
                id: id as u64,
            });
        }
        let max: Option<i64> = tx
            .query_one(
                "SELECT max(id) FROM coord_requests WHERE year = $1",
                &[&r.year],
            )
            .await
            .map_err(self.err(what))?
            .get(0);
        let id = (max.unwrap_or(0) as u64 + 1).max(min_id);
        let mut out = r.clone();
        out.id = id;
        out.check()?;
        tx.execute(
            "INSERT INTO coord_requests (year, id, target_kind, target_id, town_id, kind, dedupe,
                 detail, note, account, asked_by, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &out.year,
                &(id as i64),
                &out.target_kind,
                &target,
                &(out.town as i64),
                &out.kind,
                &out.dedupe,
                &out.detail,
                &out.note,
                &out.account,
                &out.by,
                &to_time("coord_requests", out.at)?,
            ],
        )
        .await
        .map_err(self.err(what))?;
        self.announce_coord(&tx, out.year).await?;
        tx.commit().await.map_err(self.err(what))?;
        Ok(out)
    }

    /// Keeps an enterprise's word on a push; a later one replaces it.
    pub async fn put_coord_self_check(&self, s: &CoordSelfCheck) -> Result<(), StoreError> {
        let what = "store a self-check";
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err(what))?;
        tx.execute(
            "INSERT INTO coord_self_checks (year, push, enterprise_id, town_id, status, note,
                 account, stated_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (year, push, enterprise_id) DO UPDATE SET status = excluded.status,
                 note = excluded.note, account = excluded.account, stated_by = excluded.stated_by,
                 at = excluded.at, town_id = excluded.town_id",
            &[
                &s.year,
                &s.push,
                &(s.enterprise as i64),
                &(s.town as i64),
                &s.status,
                &s.note,
                &s.account,
                &s.by,
                &to_time("coord_self_checks", s.at)?,
            ],
        )
        .await
        .map_err(self.err(what))?;
        self.announce_coord(&tx, s.year).await?;
        tx.commit().await.map_err(self.err(what))?;
        Ok(())
    }

    /// Every answer, request and self-check of demo year `year`.
    pub async fn coord_inputs(&self, year: i32) -> Result<CoordInputs, StoreError> {
        let decisions = self.coord_decisions(year).await?;
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, target_kind, target_id, town_id, kind, dedupe, detail, note, account,
                     asked_by, at FROM coord_requests WHERE year = $1 ORDER BY id",
                &[&year],
            )
            .await
            .map_err(self.err("read coordination requests"))?;
        let mut requests = Vec::with_capacity(rows.len());
        for r in rows {
            let (id, target, town): (i64, i64, i64) = (r.get(0), r.get(2), r.get(3));
            requests.push(CoordRequest {
                year,
                id: id as u64,
                target_kind: r.get(1),
                target: target as u64,
                town: town as u64,
                kind: r.get(4),
                dedupe: r.get(5),
                detail: r.get(6),
                note: r.get(7),
                account: r.get(8),
                by: r.get(9),
                at: from_time("coord_requests", r.get(10))?,
            });
        }
        let rows = c
            .query(
                "SELECT push, enterprise_id, town_id, status, note, account, stated_by, at
                 FROM coord_self_checks WHERE year = $1 ORDER BY at, push, enterprise_id",
                &[&year],
            )
            .await
            .map_err(self.err("read self-checks"))?;
        let mut self_checks = Vec::with_capacity(rows.len());
        for r in rows {
            let (enterprise, town): (i64, i64) = (r.get(1), r.get(2));
            self_checks.push(CoordSelfCheck {
                year,
                push: r.get(0),
                enterprise: enterprise as u64,
                town: town as u64,
                status: r.get(3),
                note: r.get(4),
                account: r.get(5),
                by: r.get(6),
                at: from_time("coord_self_checks", r.get(7))?,
            });
        }
        Ok(CoordInputs {
            decisions,
            requests,
            self_checks,
        })
    }
}

/// The channel coordination changes are announced on; the payload is
/// `ORIGIN YEAR`.
pub const COORD_CHANNEL: &str = "onemap_coord";

/// Key of the advisory lock that makes requests take turns (ids, and one
/// per key).
const REQUEST_LOCK: i64 = 0x6f6e_656d_6170_0002;
