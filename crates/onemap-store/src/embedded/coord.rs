//! Departments' answers to coordination suggestions in the GeoPackage file
//! (`coord_decisions`).

use super::{db, EmbeddedStore};
use crate::live::coord::CoordDecision;
use crate::StoreError;
use rusqlite::params;

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
}
