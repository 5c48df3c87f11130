//! Hot-issue push (查一次纠一片): a problem found at one enterprise is sent to
//! the enterprises of the same industry in the same town (or district), and
//! each of them reports its self-check: pending → self-checked → rectified.

use crate::{CoordError, Date, Finding, Record, Sites, Target};
use onemap_core::AreaId;
use serde::{Deserialize, Serialize};

catalog_enum!(
    /// Where an enterprise stands with a pushed problem.
    SelfCheckStatus, "self-check status" {
        Pending => ("pending", "待自查"),
        SelfChecked => ("self_checked", "已自查"),
        Rectified => ("rectified", "已整改"),
    }
);

catalog_enum!(
    /// How far a problem is pushed.
    PushLevel, "push level" {
        Town => ("town", "镇街"),
        District => ("district", "县区"),
    }
);

/// One enterprise's self-check of a pushed problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCheck {
    pub enterprise: u64,
    pub status: SelfCheckStatus,
    /// When the status was last set (the push day while pending).
    pub updated: Date,
    /// What the enterprise said with its status, when it said it itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An enterprise's own word on a push (kept by the server), laid over the
/// demo's drawn self-checks by [`crate::run_year_of`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCheckStatement {
    /// The push's [`Push::key`].
    pub push: String,
    pub enterprise: u64,
    pub status: SelfCheckStatus,
    pub date: Date,
    pub note: String,
}

/// A problem pushed to the enterprises of one industry in one area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub id: u64,
    /// The inspection record that found it.
    pub record: u64,
    /// The enterprise it was found at (not among `checks`).
    pub source: u64,
    pub finding: Finding,
    pub date: Date,
    pub level: PushLevel,
    pub area: AreaId,
    pub industry: String,
    /// One per enterprise pushed to, ascending by enterprise id.
    pub checks: Vec<SelfCheck>,
}

impl Push {
    /// Pushes the finding of `record` (an enterprise's) to the other
    /// enterprises of its industry in its town or district.
    pub fn new(
        id: u64,
        sites: &Sites,
        record: &Record,
        level: PushLevel,
    ) -> Result<Push, CoordError> {
        let (Target::Enterprise(source), Some(finding)) = (record.target, record.finding.as_ref())
        else {
            return Err(CoordError::NothingToPush(record.id));
        };
        let e = sites
            .enterprise(source)
            .ok_or(CoordError::UnknownEnterprise(source))?;
        let area = match level {
            PushLevel::Town => e.town,
            PushLevel::District => e.district,
        };
        let checks = sites
            .enterprises
            .iter()
            .filter(|o| o.id != source && o.industry == e.industry)
            .filter(|o| match level {
                PushLevel::Town => o.town == area,
                PushLevel::District => o.district == area,
            })
            .map(|o| SelfCheck {
                enterprise: o.id,
                status: SelfCheckStatus::Pending,
                updated: record.date,
                note: None,
            })
            .collect();
        Ok(Push {
            id,
            record: record.id,
            source,
            finding: finding.clone(),
            date: record.date,
            level,
            area,
            industry: e.industry.clone(),
            checks,
        })
    }

    /// A name for the push that stays the same when the town's year is
    /// coordinated again (ids count within a run): the enterprise it was
    /// found at, the day and the finding's code, `1234-2023-03-14-exit_blocked`.
    pub fn key(&self) -> String {
        format!("{}-{}-{}", self.source, self.date, self.finding.code)
    }

    /// The self-check of one enterprise pushed to.
    pub fn check_of(&self, enterprise: u64) -> Option<&SelfCheck> {
        self.checks.iter().find(|c| c.enterprise == enterprise)
    }

    /// Lays an enterprise's own statement over its self-check (whatever the
    /// demo drew); false when the enterprise is not among those pushed to.
    pub fn state(&mut self, s: &SelfCheckStatement) -> bool {
        match self
            .checks
            .iter_mut()
            .find(|c| c.enterprise == s.enterprise)
        {
            Some(c) => {
                c.status = s.status;
                c.updated = s.date;
                c.note = Some(s.note.clone());
                true
            }
            None => false,
        }
    }

    /// Sets an enterprise's self-check. Only forward, one step at a time
    /// (pending → self_checked → rectified); setting the current status
    /// again changes nothing.
    pub fn set_status(
        &mut self,
        enterprise: u64,
        to: SelfCheckStatus,
        date: Date,
    ) -> Result<(), CoordError> {
        let c = self
            .checks
            .iter_mut()
            .find(|c| c.enterprise == enterprise)
            .ok_or(CoordError::NotPushed(enterprise))?;
        use SelfCheckStatus::*;
        match (c.status, to) {
            (a, b) if a == b => Ok(()),
            (Pending, SelfChecked) | (SelfChecked, Rectified) => {
                c.status = to;
                c.updated = date;
                Ok(())
            }
            (from, to) => Err(CoordError::BadSelfCheck {
                enterprise,
                from: from.code(),
                to: to.code(),
            }),
        }
    }

    /// Whether `to` is a step an enterprise at `from` may take: the next
    /// status, or the same one again (a new note).
    pub fn may_step(from: SelfCheckStatus, to: SelfCheckStatus) -> bool {
        use SelfCheckStatus::*;
        from == to
            || matches!(
                (from, to),
                (Pending, SelfChecked) | (SelfChecked, Rectified)
            )
    }

    /// How many enterprises are pending, self-checked and rectified.
    pub fn counts(&self) -> [usize; 3] {
        let mut n = [0; 3];
        for c in &self.checks {
            n[c.status as usize] += 1;
        }
        n
    }

    /// The notice the enterprises read.
    pub fn notice(&self, sites: &Sites) -> String {
        format!(
            "{}{}企业{}检查发现“{}”，请{}{}行业企业对照自查，并报告自查整改情况",
            self.date.zh(),
            sites.area_name(self.area),
            self.finding.subject.zh(),
            self.finding.text,
            sites.area_name(self.area),
            self.industry
        )
    }
}

/// Every push made, with the rule that one problem is pushed once: the same
/// finding in the same area and industry within `quiet_days` of a push is
/// not pushed again.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Pushes {
    pub pushes: Vec<Push>,
    pub quiet_days: i32,
}

impl Pushes {
    pub fn new(quiet_days: i32) -> Pushes {
        Pushes {
            pushes: Vec::new(),
            quiet_days,
        }
    }

    /// Pushes a record's finding unless the same one went out lately (or
    /// there is no enterprise to push it to); the new push's id if any.
    pub fn record(
        &mut self,
        sites: &Sites,
        record: &Record,
        level: PushLevel,
    ) -> Result<Option<u64>, CoordError> {
        let id = self.pushes.last().map_or(1, |p| p.id.saturating_add(1));
        let push = Push::new(id, sites, record, level)?;
        let dup = self
            .pushes
            .iter()
            .rev()
            .take_while(|p| record.date.since(p.date) <= self.quiet_days)
            .any(|p| {
                p.area == push.area
                    && p.industry == push.industry
                    && p.finding.code == push.finding.code
            });
        if dup || push.checks.is_empty() {
            return Ok(None);
        }
        self.pushes.push(push);
        Ok(Some(id))
    }
}
