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

/// What an enterprise or a school asks of the coordination center, as the
/// store keeps it. The store does not read the request itself (`detail`,
/// the coordinator's JSON); it keeps one per `dedupe` key of a target and
/// year, and gives each an id of its own (at least the `min_id` asked, so
/// they never meet the demo's requests' ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoordRequest {
    pub year: i32,
    pub id: u64,
    /// `enterprise` or `school`.
    pub target_kind: String,
    pub target: u64,
    /// The target's town (requests are listed by town).
    pub town: u64,
    /// `postpone`, `guidance`, `inspection` or `event`.
    pub kind: String,
    /// Two requests of a target with the same key are one asked twice.
    #[serde(skip)]
    pub dedupe: String,
    /// The request as the coordinator reads it (JSON).
    #[serde(skip)]
    pub detail: String,
    /// What the enterprise or school said (its reason, in its words).
    pub note: String,
    #[serde(skip)]
    pub account: String,
    pub by: String,
    pub at: i64,
}

/// The kinds of request a store keeps.
pub const REQUEST_KINDS: &[&str] = &["postpone", "guidance", "inspection", "event"];

/// The most characters of a request's or a self-check's note.
pub const MAX_NOTE_CHARS: usize = 500;

impl CoordRequest {
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        let bad = |what: &str| StoreError::InvalidData {
            path: "coord_requests".into(),
            reason: format!("request of {} {}: {what}", self.target_kind, self.target),
        };
        if !(1970..=2199).contains(&self.year) {
            return Err(bad("year out of range"));
        }
        if !matches!(self.target_kind.as_str(), "enterprise" | "school") {
            return Err(bad("target kind is neither enterprise nor school"));
        }
        if !REQUEST_KINDS.contains(&self.kind.as_str()) {
            return Err(bad("unknown kind"));
        }
        for v in [self.id, self.target, self.town] {
            if v == 0 || i64::try_from(v).is_err() {
                return Err(bad("id out of range"));
            }
        }
        if self.dedupe.is_empty() || self.dedupe.len() > 200 || self.detail.len() > 4000 {
            return Err(bad("key or detail empty or too long"));
        }
        if self.note.chars().count() > MAX_NOTE_CHARS || self.by.len() > 200 {
            return Err(bad("note or name too long"));
        }
        Ok(())
    }
}

/// An enterprise's own word on a problem pushed to it: its self-check's
/// status and a note (the latest standing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoordSelfCheck {
    pub year: i32,
    /// The push's stable key (`1234-2023-03-14-exit_blocked`).
    pub push: String,
    pub enterprise: u64,
    pub town: u64,
    /// `pending`, `self_checked` or `rectified`.
    pub status: String,
    pub note: String,
    #[serde(skip)]
    pub account: String,
    pub by: String,
    pub at: i64,
}

impl CoordSelfCheck {
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        let bad = |what: &str| StoreError::InvalidData {
            path: "coord_self_checks".into(),
            reason: format!("enterprise {}: {what}", self.enterprise),
        };
        if !(1970..=2199).contains(&self.year) {
            return Err(bad("year out of range"));
        }
        if !matches!(
            self.status.as_str(),
            "pending" | "self_checked" | "rectified"
        ) {
            return Err(bad("unknown status"));
        }
        for v in [self.enterprise, self.town] {
            if v == 0 || i64::try_from(v).is_err() {
                return Err(bad("id out of range"));
            }
        }
        if self.push.is_empty() || self.push.len() > 200 {
            return Err(bad("push key empty or too long"));
        }
        if self.note.chars().count() > MAX_NOTE_CHARS || self.by.len() > 200 {
            return Err(bad("note or name too long"));
        }
        Ok(())
    }
}

/// Everything enterprises, schools and departments said about a demo
/// year: the departments' answers, the requests, the self-checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoordInputs {
    pub decisions: Vec<CoordDecision>,
    pub requests: Vec<CoordRequest>,
    pub self_checks: Vec<CoordSelfCheck>,
}
