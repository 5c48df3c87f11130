//! Departments' answers to coordination suggestions in the GeoPackage file
//! (`coord_decisions`).

use super::{db, EmbeddedStore};
use crate::live::coord::{CoordDecision, CoordInputs, CoordRequest, CoordSelfCheck};
use crate::StoreError;
use rusqlite::{params, OptionalExtension};

impl EmbeddedStore {
    /// The answers for the plans of demo year `year`, by plan.
    pub fn coord_decisions(&self, year: i32) -> Result<Vec<CoordDecision>, StoreError> {
        let what = "read coordination decisions";
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT plan_id, accept, department, account, decided_by, at \
                 FROM coord_decisions WHERE year = ?1 ORDER BY plan_id",
            )
            .map_err(|e| db(&self.path, what, e))?;
        let rows = stmt
            .query_map(params![year], |r| {
                Ok(CoordDecision {
                    year,
                    plan: r.get::<_, i64>(0)? as u64,
                    accept: r.get::<_, i64>(1)? != 0,
                    department: r.get(2)?,
                    account: r.get(3)?,
                    by: r.get(4)?,
                    at: r.get(5)?,
                })
            })
            .map_err(|e| db(&self.path, what, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| db(&self.path, what, e))
    }

    /// Keeps an answer; a later one for the same plan replaces it.
    pub fn put_coord_decision(&self, d: &CoordDecision) -> Result<(), StoreError> {
        let plan = i64::try_from(d.plan).map_err(|_| StoreError::InvalidData {
            path: "coord_decisions".into(),
            reason: format!("plan id {} is too large", d.plan),
        })?;
        self.lock()
            .execute(
                "INSERT INTO coord_decisions (year, plan_id, accept, department, account, decided_by, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (year, plan_id) DO UPDATE SET accept = excluded.accept, \
                 department = excluded.department, account = excluded.account, \
                 decided_by = excluded.decided_by, at = excluded.at",
                params![d.year, plan, d.accept, d.department, d.account, d.by, d.at],
            )
            .map_err(|e| db(&self.path, "store a coordination decision", e))?;
        Ok(())
    }

    /// Keeps a request with the next id (at least `min_id`); refused with
    /// [`StoreError::DuplicateRequest`] when the target made one with the
    /// same key this year.
    pub fn add_coord_request(
        &self,
        min_id: u64,
        r: &CoordRequest,
    ) -> Result<CoordRequest, StoreError> {
        let what = "store a coordination request";
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| db(&self.path, what, e))?;
        let found: Option<i64> = tx
            .query_row(
                "SELECT id FROM coord_requests WHERE year = ?1 AND target_kind = ?2 \
                 AND target_id = ?3 AND dedupe = ?4",
                params![r.year, r.target_kind, r.target as i64, r.dedupe],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| db(&self.path, what, e))?;
        if let Some(id) = found {
            return Err(StoreError::DuplicateRequest {
                target: format!("{} {}", r.target_kind, r.target),
                id: id as u64,
            });
        }
        let max: Option<i64> = tx
            .query_row(
                "SELECT max(id) FROM coord_requests WHERE year = ?1",
                params![r.year],
                |row| row.get(0),
            )
            .map_err(|e| db(&self.path, what, e))?;
        let id = (max.unwrap_or(0) as u64 + 1).max(min_id);
        let mut out = r.clone();
        out.id = id;
        out.check()?;
        tx.execute(
            "INSERT INTO coord_requests (year, id, target_kind, target_id, town_id, kind, dedupe, \
             detail, note, account, asked_by, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                out.year,
                id as i64,
                out.target_kind,
                out.target as i64,
                out.town as i64,
                out.kind,
                out.dedupe,
                out.detail,
                out.note,
                out.account,
                out.by,
                out.at
            ],
        )
        .map_err(|e| db(&self.path, what, e))?;
        tx.commit().map_err(|e| db(&self.path, what, e))?;
        Ok(out)
    }

    /// Keeps an enterprise's word on a push; a later one replaces it.
    pub fn put_coord_self_check(&self, c: &CoordSelfCheck) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO coord_self_checks (year, push, enterprise_id, town_id, status, note, \
                 account, stated_by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (year, push, enterprise_id) DO UPDATE SET status = excluded.status, \
                 note = excluded.note, account = excluded.account, stated_by = excluded.stated_by, \
                 at = excluded.at, town_id = excluded.town_id",
                params![
                    c.year,
                    c.push,
                    c.enterprise as i64,
                    c.town as i64,
                    c.status,
                    c.note,
                    c.account,
                    c.by,
                    c.at
                ],
            )
            .map_err(|e| db(&self.path, "store a self-check", e))?;
        Ok(())
    }

    /// Every answer, request and self-check of demo year `year`.
    pub fn coord_inputs(&self, year: i32) -> Result<CoordInputs, StoreError> {
        let decisions = self.coord_decisions(year)?;
        let what = "read coordination requests";
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT id, target_kind, target_id, town_id, kind, dedupe, detail, note, account, \
                 asked_by, at FROM coord_requests WHERE year = ?1 ORDER BY id",
            )
            .map_err(|e| db(&self.path, what, e))?;
        let requests = stmt
            .query_map(params![year], |r| {
                Ok(CoordRequest {
                    year,
                    id: r.get::<_, i64>(0)? as u64,
                    target_kind: r.get(1)?,
                    target: r.get::<_, i64>(2)? as u64,
                    town: r.get::<_, i64>(3)? as u64,
                    kind: r.get(4)?,
                    dedupe: r.get(5)?,
                    detail: r.get(6)?,
                    note: r.get(7)?,
                    account: r.get(8)?,
                    by: r.get(9)?,
                    at: r.get(10)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| db(&self.path, what, e))?;
        let what = "read self-checks";
        let mut stmt = conn
            .prepare(
                "SELECT push, enterprise_id, town_id, status, note, account, stated_by, at \
                 FROM coord_self_checks WHERE year = ?1 ORDER BY at, push, enterprise_id",
            )
            .map_err(|e| db(&self.path, what, e))?;
        let self_checks = stmt
            .query_map(params![year], |r| {
                Ok(CoordSelfCheck {
                    year,
                    push: r.get(0)?,
                    enterprise: r.get::<_, i64>(1)? as u64,
                    town: r.get::<_, i64>(2)? as u64,
                    status: r.get(3)?,
                    note: r.get(4)?,
                    account: r.get(5)?,
                    by: r.get(6)?,
                    at: r.get(7)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| db(&self.path, what, e))?;
        Ok(CoordInputs {
            decisions,
            requests,
            self_checks,
        })
    }
}
