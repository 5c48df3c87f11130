//! The coordinator: for each plan of a batch, one suggestion with its
//! reason, and the visits that carry the plans out.
//!
//! The rules are listed on [`coordinate`].

use crate::checks::{absorb, duplicates, empty_visit, feasible, online_check, Cand};
use crate::schedule::{Slot, Spacer};
use crate::suggestion::{ReasonCode, Suggestion};
use crate::{
    CoordError, Date, Mode, Plan, Purpose, Record, Request, RequestKind, Rules, Target, Visit,
    Window,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the coordination center coordinates at once (a month's plans, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The coordination day: nothing is scheduled before it, and every plan
    /// is planned on or after it.
    pub from: Date,
    pub plans: Vec<Plan>,
    /// Postponements apply to every plan they overlap; guidance and event
    /// requests are served once, by the batch they are given to.
    pub requests: Vec<Request>,
    /// Inspections done, with what they found.
    pub history: Vec<Record>,
    /// Visits already on the calendar on or after `from`: they keep their
    /// day, count for spacing, and plans may join them.
    pub booked: Vec<Visit>,
    /// The first id a new visit may take (above any booked visit's id).
    pub first_visit_id: u64,
}

/// The coordinator's answer for a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coordination {
    pub from: Date,
    /// One per plan, ascending by plan id.
    pub suggestions: Vec<Suggestion>,
    /// The new visits, and the booked visits that plans joined (with their
    /// new plans), ascending by id.
    pub visits: Vec<Visit>,
    /// The first id free after this batch.
    pub next_visit_id: u64,
}

/// How a plan was placed, before the final visit is known.
pub(crate) enum How<'a> {
    Cancel(Vec<&'a Record>),
    Online(usize),
    Urgent(usize),
    Anchor(usize, ReasonCode),
    Group(usize, usize),
}

/// Coordinates a batch. Fails on a batch that does not hold together (a
/// plan id twice, a plan planned before `from`, an inverted window …).
///
/// Each enterprise or school is coordinated on its own, its plans in
/// (planned day, id) order, by rules applied in a fixed order so the same
/// batch always gives the same answer:
///
/// 1. an urgent plan is kept on its day;
/// 2. cancel: every subject was checked within [`Rules::duplicate_days`]
///    with nothing found, and no subject is mandatory;
/// 3. a school's own event takes the plans of the department it invited;
/// 4. online: low risk, every subject checkable from documents, no recent
///    finding on them (a target's online checks share one submission when
///    their windows allow);
/// 5. the rest are on-site: each joins a visit already fixed in its window
///    (booked earlier, urgent, a school's event) when the subjects fit, or is
///    grouped with the plans whose windows share a day (the day that groups
///    the most, nearest the plan's own) — a joint inspection;
/// 6. spacing: at most one on-site visit a week and
///    [`Rules::month_cap`] a month, none in a postponement the enterprise
///    asked for; a visit that breaks this joins the visit of that week when
///    it can, else moves to the nearest free day (inside its window first);
/// 7. guidance requests ride along with a visit of their department, or get
///    a visit of their own, spaced the same way;
/// 8. the town accompanies a visit when one of its plans asked for it and
///    is high-risk or urgent ([`crate::town_accompanies`]).
///
/// Mandatory subjects are never dropped: a plan holding one is never
/// cancelled, and every other action carries all its subjects into a visit.
pub fn coordinate(batch: &Batch, rules: &Rules) -> Result<Coordination, CoordError> {
    let mut ids = HashSet::new();
    for p in &batch.plans {
        p.check()?;
        if !ids.insert(p.id) {
            return Err(CoordError::DuplicatePlan(p.id));
        }
        if p.planned < batch.from {
            return Err(CoordError::BadPlan {
                plan: p.id,
                reason: format!(
                    "planned day {} is before the coordination day {}",
                    p.planned, batch.from
                ),
            });
        }
    }
    for r in &batch.requests {
        r.check()?;
    }
    let mut visit_ids = HashSet::new();
    let mut next_id = batch.first_visit_id;
    for v in &batch.booked {
        if !visit_ids.insert(v.id) {
            return Err(CoordError::DuplicateVisit(v.id));
        }
        next_id = next_id.max(v.id.saturating_add(1));
    }
    #[derive(Default)]
    struct Input<'a> {
        plans: Vec<&'a Plan>,
        requests: Vec<&'a Request>,
        history: Vec<&'a Record>,
        booked: Vec<&'a Visit>,
    }
    let mut by_target: BTreeMap<Target, Input> = BTreeMap::new();
    for p in &batch.plans {
        by_target.entry(p.target).or_default().plans.push(p);
    }
    let mut requests: Vec<&Request> = batch.requests.iter().collect();
    requests.sort_by_key(|r| r.id);
    for r in requests {
        by_target.entry(r.target).or_default().requests.push(r);
    }
    for r in &batch.history {
        if let Some(input) = by_target.get_mut(&r.target) {
            input.history.push(r);
        }
    }
    for v in &batch.booked {
        if let Some(input) = by_target.get_mut(&v.target) {
            input.booked.push(v);
        }
    }
    let mut suggestions = Vec::with_capacity(batch.plans.len());
    let mut visits = Vec::new();
    for (target, input) in &by_target {
        let mut run = TargetRun {
            target: *target,
            from: batch.from,
            rules,
            next_id: &mut next_id,
            slots: Vec::new(),
            how: BTreeMap::new(),
            notes: HashMap::new(),
            postponed: HashMap::new(),
        };
        run.run(&input.plans, &input.requests, &input.history, &input.booked);
        let (s, v) = run.finish(&input.plans);
        suggestions.extend(s);
        visits.extend(v);
    }
    suggestions.sort_by_key(|s| s.plan);
    visits.sort_by_key(|v| v.id);
    Ok(Coordination {
        from: batch.from,
        suggestions,
        visits,
        next_visit_id: next_id,
    })
}

/// A day for a group, its ranking key (most members, nearest the first
/// plan's own day, earliest), its members and why one did not fit.
type Choice = ((usize, i32, Date), Vec<usize>, Option<String>);

pub(crate) struct TargetRun<'a, 'r> {
    pub target: Target,
    pub from: Date,
    pub rules: &'r Rules,
    pub next_id: &'r mut u64,
    pub slots: Vec<Slot>,
    pub how: BTreeMap<u64, How<'a>>,
    /// Why each on-site plan could not go online, for its reason if it
    /// stays alone.
    pub notes: HashMap<u64, String>,
    /// The postponement that moved each on-site plan's window, if any.
    pub postponed: HashMap<u64, &'a Request>,
}

impl<'a> TargetRun<'a, '_> {
    fn new_slot(&mut self, date: Date, mode: Mode, purpose: Purpose, window: Window) -> usize {
        let id = *self.next_id;
        *self.next_id = self.next_id.saturating_add(1);
        self.slots.push(Slot::new(
            empty_visit(id, self.target, date, mode, purpose, window),
            false,
        ));
        self.slots.len() - 1
    }

    fn run(
        &mut self,
        plans: &[&'a Plan],
        requests: &[&'a Request],
        history: &[&'a Record],
        booked: &[&Visit],
    ) {
        let blocks: Vec<&Request> = requests
            .iter()
            .copied()
            .filter(|r| matches!(r.kind, RequestKind::Postpone { .. }))
            .collect();
        for v in booked.iter().filter(|v| v.on_site()) {
            self.slots.push(Slot::new((*v).clone(), true));
        }
        for r in requests {
            if let RequestKind::Event {
                event,
                department,
                subject,
                date,
            } = &r.kind
            {
                let day = Window {
                    start: *date,
                    end: *date,
                };
                let i = self.new_slot(*date, Mode::OnSite, Purpose::Event(*event), day);
                let v = &mut self.slots[i].visit;
                v.add_department(*department);
                v.add_subjects(&[crate::PlanSubject {
                    subject: *subject,
                    mandatory: false,
                }]);
                v.requests.push(r.id);
            }
        }
        let mut plans = plans.to_vec();
        plans.sort_by_key(|p| (p.planned, p.id));
        let mut cands = Vec::new();
        for p in plans {
            if p.urgent {
                let day = Window {
                    start: p.planned,
                    end: p.planned,
                };
                let i = self.new_slot(p.planned, Mode::OnSite, Purpose::Inspection, day);
                absorb(&mut self.slots[i].visit, p, day);
                self.how.insert(p.id, How::Urgent(i));
                continue;
            }
            if let Some(records) = duplicates(p, history, self.rules) {
                self.how.insert(p.id, How::Cancel(records));
                continue;
            }
            if let Some(i) = self.event_for(p) {
                absorb(&mut self.slots[i].visit, p, p.window);
                self.slots[i].changed = true;
                self.how
                    .insert(p.id, How::Anchor(i, ReasonCode::MergeEvent));
                continue;
            }
            match online_check(p, history, self.rules) {
                Ok(()) => {
                    // One submission of documents serves every online check
                    // of the target whose window holds its day.
                    let shared = (0..self.slots.len()).find(|&i| {
                        let v = &self.slots[i].visit;
                        v.mode == Mode::Online
                            && p.window.contains(v.date)
                            && v.can_take(p.department, &p.subjects, self.rules).is_ok()
                    });
                    let i = match shared {
                        Some(i) => i,
                        None => {
                            self.new_slot(p.planned, Mode::Online, Purpose::Inspection, p.window)
                        }
                    };
                    absorb(&mut self.slots[i].visit, p, p.window);
                    self.how.insert(p.id, How::Online(i));
                }
                Err(why) => {
                    let c = feasible(p, self.from, &blocks);
                    self.notes.insert(p.id, why);
                    if let Some(r) = c.postponed_by {
                        self.postponed.insert(p.id, r);
                    }
                    cands.push(c);
                }
            }
        }
        cands.sort_by_key(|c| (c.window.end, c.window.start, c.plan.id));
        let cands = self.join_anchors(cands, &blocks);
        self.group(cands, &blocks);
        let mut spacer = Spacer::new(self.target, self.from, self.rules, &blocks);
        spacer.space(&mut self.slots);
        for r in requests {
            if let RequestKind::Guidance { .. } | RequestKind::Inspection { .. } = r.kind {
                self.guidance(r, &mut spacer);
            }
        }
    }

    /// The event visit of the school that invited this plan's department,
    /// on a day in the plan's window, for a publicity plan.
    fn event_for(&self, p: &Plan) -> Option<usize> {
        if !p.subjects.iter().all(|s| s.subject.is_publicity()) {
            return None;
        }
        (0..self.slots.len()).find(|&i| {
            let v = &self.slots[i].visit;
            matches!(v.purpose, Purpose::Event(_))
                && v.departments.contains(&p.department)
                && p.window.contains(v.date)
                && v.can_take(p.department, &p.subjects, self.rules).is_ok()
        })
    }

    /// Candidates that join a visit already fixed in their window; the rest
    /// are returned.
    fn join_anchors(&mut self, cands: Vec<Cand<'a>>, blocks: &[&Request]) -> Vec<Cand<'a>> {
        let mut anchors: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                let v = &self.slots[i].visit;
                v.on_site()
                    && v.purpose == Purpose::Inspection
                    && (self.slots[i].booked || v.urgent)
            })
            .collect();
        anchors.sort_by_key(|&i| (self.slots[i].visit.date, self.slots[i].visit.id));
        let mut rest = Vec::new();
        for c in cands {
            let found = anchors.iter().copied().find(|&i| {
                let v = &self.slots[i].visit;
                c.window.contains(v.date)
                    && !blocks.iter().any(|b| b.window().contains(v.date))
                    && v.can_take(c.plan.department, &c.plan.subjects, self.rules)
                        .is_ok()
            });
            match found {
                Some(i) => {
                    let code = if self.slots[i].booked {
                        ReasonCode::MergeBooked
                    } else {
                        ReasonCode::MergeUrgent
                    };
                    absorb(&mut self.slots[i].visit, c.plan, c.window);
                    self.slots[i].changed = true;
                    self.how.insert(c.plan.id, How::Anchor(i, code));
                }
                None => rest.push(c),
            }
        }
        rest
    }

    /// Groups the remaining candidates: the first (earliest window end)
    /// goes on the day of its window that gathers the most others, nearest
    /// its own day; everyone whose window holds that day and fits joins.
    fn group(&mut self, cands: Vec<Cand<'a>>, blocks: &[&Request]) {
        let mut rest: Vec<usize> = (0..cands.len()).collect();
        while let Some(&first) = rest.first() {
            let c = &cands[first];
            let mut best: Option<Choice> = None;
            for x in c.window.days() {
                if blocks.iter().any(|b| b.window().contains(x)) {
                    continue;
                }
                let (members, note) = self.grow(&cands, &rest, x);
                let key = (usize::MAX - members.len(), (x.since(c.preferred)).abs(), x);
                if best.as_ref().is_none_or(|b| key < b.0) {
                    best = Some((key, members, note));
                }
            }
            let (x, members, note) = match best {
                Some(((_, _, x), m, note)) => (x, m, note),
                None => (c.preferred, vec![first], None),
            };
            let i = self.new_slot(x, Mode::OnSite, Purpose::Inspection, c.window);
            for &m in &members {
                absorb(&mut self.slots[i].visit, cands[m].plan, cands[m].window);
                self.how
                    .insert(cands[m].plan.id, How::Group(i, members.len()));
            }
            self.slots[i].alone_note = note;
            rest.retain(|j| !members.contains(j));
        }
    }

    /// Who would go together on day `x` with the first of `rest`, and why
    /// the first one overlapping but not fitting did not.
    fn grow(&self, cands: &[Cand<'a>], rest: &[usize], x: Date) -> (Vec<usize>, Option<String>) {
        let first = &cands[rest[0]];
        let mut v = empty_visit(
            0,
            self.target,
            x,
            Mode::OnSite,
            Purpose::Inspection,
            first.window,
        );
        absorb(&mut v, first.plan, first.window);
        let mut members = vec![rest[0]];
        let mut note = None;
        for &j in &rest[1..] {
            let c = &cands[j];
            if !c.window.contains(x) {
                continue;
            }
            match v.can_take(c.plan.department, &c.plan.subjects, self.rules) {
                Ok(()) => {
                    absorb(&mut v, c.plan, c.window);
                    members.push(j);
                }
                Err(why) => {
                    note.get_or_insert_with(|| {
                        format!(
                            "与{}（计划#{}）时间重叠，但{}",
                            c.plan.department.kind.zh(),
                            c.plan.id,
                            why
                        )
                    });
                }
            }
        }
        (members, note)
    }

    /// Serves a guidance (or an enterprise's inspection) request: with a
    /// visit of its department in its window, else with a visit of its own.
    fn guidance(&mut self, r: &Request, spacer: &mut Spacer) {
        let (department, subject, window, purpose) = match &r.kind {
            RequestKind::Guidance {
                department,
                subject,
                window,
            } => (department, subject, window, Purpose::Guidance),
            RequestKind::Inspection {
                department,
                subject,
                window,
            } => (department, subject, window, Purpose::Inspection),
            _ => return,
        };
        let w = match window.intersect(&Window {
            start: self.from,
            end: window.end.max(self.from),
        }) {
            Some(w) => w,
            None => Window {
                start: self.from,
                end: self.from.plus(13),
            },
        };
        let subject = [crate::PlanSubject {
            subject: *subject,
            mandatory: false,
        }];
        let ride = (0..self.slots.len()).find(|&i| {
            let s = &self.slots[i];
            let v = &s.visit;
            s.merged_into.is_none()
                && v.on_site()
                && w.contains(v.date)
                && v.departments.contains(department)
                && v.can_take(*department, &subject, self.rules).is_ok()
        });
        let i = match ride {
            Some(i) => i,
            None => {
                let i = self.new_slot(w.start, Mode::OnSite, purpose, w);
                self.slots[i].visit.add_department(*department);
                spacer.place_new(&mut self.slots, i);
                i
            }
        };
        let v = &mut self.slots[i].visit;
        v.add_subjects(&subject);
        v.requests.push(r.id);
        self.slots[i].changed = true;
    }
}
