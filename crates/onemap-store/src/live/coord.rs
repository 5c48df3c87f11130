//! Departments' answers to the coordination center's suggestions (issue
//! 17), the same in both live stores: one row per plan of a demo year, the
//! latest answer standing. The plans themselves are generated from the
//! city's seed and never stored.

use crate::StoreError;
use serde::Serialize;

/// A department's answer to the suggestion for one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoordDecision {
    /// The demo year the plan belongs to.
    pub year: i32,
    pub plan: u64,
    pub accept: bool,
    /// The department's stable code (`350304.market`).
    pub department: String,
    /// The account that answered (never shown) and its display name.
    #[serde(skip)]
    pub account: String,
    pub by: String,
    /// When (Unix seconds).
    pub at: i64,
}

impl CoordDecision {
    /// Checks what a row may hold.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        let bad = |what: &str| StoreError::InvalidData {
            path: "coord_decisions".into(),
            reason: format!("plan {}: {what}", self.plan),
        };
        if !(1970..=2199).contains(&self.year) {
            return Err(bad("year out of range"));
        }
        if i64::try_from(self.plan).is_err() {
            return Err(bad("plan id too large"));
        }
        if self.department.is_empty() || self.department.len() > 200 || self.by.len() > 200 {
            return Err(bad("department or name empty or too long"));
        }
        Ok(())
    }
}
