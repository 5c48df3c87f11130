//! Open events past the limit of the step they wait for.

use crate::city::City;
use crate::stats::Scope;
use crate::IndexError;
use onemap_core::deadlines::Cutoffs;
use onemap_core::{AreaId, EventCategory, EventStatus, Level};
use serde::{Deserialize, Serialize};

/// The most overdue events one answer lists.
pub const MAX_OVERDUE_LIST: usize = 1_000;

/// One overdue event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueEvent {
    pub id: u64,
    pub lon: f64,
    pub lat: f64,
    pub category: EventCategory,
    pub status: EventStatus,
    pub reported_at: i64,
    /// When it entered its status.
    pub status_at: i64,
    /// How long past its limit it is, in seconds, at the moment asked.
    pub overdue_s: i64,
    pub unit: Option<AreaId>,
    /// The town it lies in (whose office the first steps belong to).
    pub town: Option<AreaId>,
}

/// Overdue events in a scope: how many, per status, and the most overdue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueReport {
    pub total: u64,
    /// Counts per status (reported, discussing, routed, handled, fed_back).
    pub by_status: crate::StatusCounts,
    /// The most overdue first (then by id), at most the limit asked.
    pub events: Vec<OverdueEvent>,
}

impl City {
    /// The open events overdue by `due` ([`onemap_core::Deadlines::cutoffs`]
    /// at the moment asked) in `scope`, the most overdue first, at most
    /// `limit` (≤ [`MAX_OVERDUE_LIST`]) listed.
    pub fn overdue(
        &self,
        scope: Option<&Scope>,
        due: &Cutoffs,
        limit: usize,
    ) -> Result<OverdueReport, IndexError> {
        let scope = self.resolve_scope(scope)?;
        let limit = limit.min(MAX_OVERDUE_LIST);
        let mut by = [0u64; 6];
        // (how late, id, position) of every overdue event in scope.
        let mut late: Vec<(i64, u64, usize)> = Vec::new();
        for p in 0..self.ev.status.len() {
            let s = self.ev.status[p] as usize;
            let at = self.ev.status_at[p];
            if at < due[s] && self.event_in(&scope, p) {
                by[s] += 1;
                late.push((due[s] - at, self.events.ids[p], p));
            }
        }
        let total = late.len() as u64;
        let keep = limit.min(late.len());
        if keep < late.len() {
            late.select_nth_unstable_by(keep, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            late.truncate(keep);
        }
        late.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let events = late
            .into_iter()
            .map(|(overdue_s, id, p)| {
                let unit = self.unit_id(self.events.unit[p]);
                OverdueEvent {
                    id,
                    lon: self.events.lon[p],
                    lat: self.events.lat[p],
                    category: EventCategory::from_code(self.ev.category[p]).expect("stored code"),
                    status: EventStatus::from_code(self.ev.status[p]).expect("stored code"),
                    reported_at: self.ev.reported_at[p],
                    status_at: self.ev.status_at[p],
                    overdue_s,
                    unit,
                    town: unit.and_then(|u| u.ancestor_at(Level::Town)),
                }
            })
            .collect();
        Ok(OverdueReport {
            total,
            // A closed event is never overdue: its count stays 0.
            by_status: crate::StatusCounts::from_codes(by),
            events,
        })
    }
}
