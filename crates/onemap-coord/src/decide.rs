//! Departments' answers to the suggestions, and the calendar that follows.
//!
//! A department accepts or refuses the suggestion for each of its plans. A
//! refused suggestion puts the plan back as the department planned it: an
//! on-site visit of its own on its planned day (the town's accompanying rule
//! still applies). A plan with no decision is taken as accepted, so the
//! suggestions stand unless someone objects.

use crate::checks::{absorb, empty_visit};
use crate::suggestion::Action;
use crate::{
    Batch, CoordError, Coordination, Mode, Plan, PlanSubject, Purpose, Request, RequestKind,
    Target, Visit,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A department's answer to the suggestion for one of its plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub plan: u64,
    pub accept: bool,
}

/// The batch's visits once the departments have answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// New visits, booked visits that plans joined, and the visits of
    /// refused plans, ascending by id.
    pub visits: Vec<Visit>,
    /// Plans cancelled (suggestion accepted).
    pub cancelled: Vec<u64>,
    /// Plans whose suggestion was refused.
    pub refused: Vec<u64>,
    pub next_visit_id: u64,
}

/// Applies the departments' decisions to a coordination of `batch`.
/// Fails on a decision for a plan the coordination does not hold, or two
/// decisions for one plan. Refusing a "keep" changes nothing.
pub fn apply(
    batch: &Batch,
    coord: &Coordination,
    decisions: &[Decision],
) -> Result<Applied, CoordError> {
    let actions: HashMap<u64, Action> = coord
        .suggestions
        .iter()
        .map(|s| (s.plan, s.action))
        .collect();
    let mut seen = HashSet::new();
    let mut refused = HashSet::new();
    for d in decisions {
        let Some(action) = actions.get(&d.plan) else {
            return Err(CoordError::UnknownPlan(d.plan));
        };
        if !seen.insert(d.plan) {
            return Err(CoordError::DuplicateDecision(d.plan));
        }
        if !d.accept && *action != Action::Keep {
            refused.insert(d.plan);
        }
    }
    let plans: HashMap<u64, &Plan> = batch.plans.iter().map(|p| (p.id, p)).collect();
    let requests: HashMap<u64, &Request> = batch.requests.iter().map(|r| (r.id, r)).collect();
    let booked: HashMap<u64, &Visit> = batch.booked.iter().map(|v| (v.id, v)).collect();
    let mut visits = Vec::new();
    for v in &coord.visits {
        let rebuilt = match booked.get(&v.id) {
            Some(b) => {
                let mut out = (*b).clone();
                for id in &v.plans {
                    if let (false, Some(p)) = (refused.contains(id), plans.get(id)) {
                        if out.plans.binary_search(id).is_err() {
                            absorb(&mut out, p, p.window);
                        }
                    }
                }
                let new: Vec<u64> = v
                    .requests
                    .iter()
                    .copied()
                    .filter(|id| !b.requests.contains(id))
                    .collect();
                for id in new {
                    add_request(&mut out, requests.get(&id).copied(), id);
                }
                out.window = b.window;
                out
            }
            None => {
                let mut out = empty_visit(v.id, v.target, v.date, v.mode, v.purpose, v.window);
                for id in v.plans.iter().filter(|id| !refused.contains(id)) {
                    if let Some(p) = plans.get(id) {
                        absorb(&mut out, p, p.window);
                    }
                }
                for id in &v.requests {
                    add_request(&mut out, requests.get(id).copied(), *id);
                }
                if out.plans.is_empty() && out.requests.is_empty() {
                    continue;
                }
                if let Some(lead) = v.lead.filter(|l| out.departments.contains(l)) {
                    out.lead = Some(lead);
                }
                out.window = v.window;
                out
            }
        };
        visits.push(rebuilt);
    }
    let mut next = coord.next_visit_id;
    let mut refused_ids: Vec<u64> = refused.iter().copied().collect();
    refused_ids.sort_unstable();
    for id in &refused_ids {
        let Some(p) = plans.get(id) else { continue };
        let mut v = empty_visit(
            next,
            p.target,
            p.planned,
            Mode::OnSite,
            Purpose::Inspection,
            p.window,
        );
        next = next.saturating_add(1);
        absorb(&mut v, p, p.window);
        visits.push(v);
    }
    visits.sort_by_key(|v| v.id);
    let mut cancelled: Vec<u64> = coord
        .suggestions
        .iter()
        .filter(|s| s.action == Action::Cancel && !refused.contains(&s.plan))
        .map(|s| s.plan)
        .collect();
    cancelled.sort_unstable();
    Ok(Applied {
        visits,
        cancelled,
        refused: refused_ids,
        next_visit_id: next,
    })
}

/// Puts a guidance or event request's department and subject into a visit.
fn add_request(v: &mut Visit, r: Option<&Request>, id: u64) {
    v.requests.push(id);
    if let Some(
        RequestKind::Guidance {
            department,
            subject,
            ..
        }
        | RequestKind::Inspection {
            department,
            subject,
            ..
        }
        | RequestKind::Event {
            department,
            subject,
            ..
        },
    ) = r.map(|r| &r.kind)
    {
        v.add_department(*department);
        v.add_subjects(&[PlanSubject {
            subject: *subject,
            mandatory: false,
        }]);
    }
}

/// The calendar of every enterprise and school: its visits by day.
pub fn calendars(visits: &[Visit]) -> BTreeMap<Target, Vec<&Visit>> {
    let mut out: BTreeMap<Target, Vec<&Visit>> = BTreeMap::new();
    for v in visits {
        out.entry(v.target).or_default().push(v);
    }
    for list in out.values_mut() {
        list.sort_by_key(|v| (v.date, v.id));
    }
    out
}

/// One enterprise's or school's calendar, by day.
pub fn calendar_of(visits: &[Visit], target: Target) -> Vec<&Visit> {
    let mut list: Vec<&Visit> = visits.iter().filter(|v| v.target == target).collect();
    list.sort_by_key(|v| (v.date, v.id));
    list
}
