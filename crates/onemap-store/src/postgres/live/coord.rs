//! Departments' answers to coordination suggestions in PostGIS
//! (`coord_decisions`).

use super::PgLive;
use crate::live::coord::CoordDecision;
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
        let c = self.client().await?;
        c.execute(
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
        Ok(())
    }
}
