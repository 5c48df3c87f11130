//! Spacing the on-site visits of one enterprise or school: at most one a
//! week, at most [`Rules::month_cap`] a month, none in a postponement the
//! enterprise asked for. Fixed visits (booked earlier, urgent, a school's
//! own event) stay where they are; the others are placed in day order, each
//! on its own day when it is free, else into the visit already in that week
//! when every subject fits and its window holds that day, else on the
//! nearest free day of its window, else on the first free day after it.

use crate::suggestion::ReasonCode;
use crate::{Date, Purpose, Request, Rules, Target, Visit, Window};
use std::collections::HashMap;

/// A visit being built, with what the coordinator needs to explain it.
pub(crate) struct Slot {
    pub visit: Visit,
    /// Came from the batch's booked visits: never moved.
    pub booked: bool,
    /// A booked visit that plans or requests joined.
    pub changed: bool,
    /// Merged into another slot during spacing.
    pub merged_into: Option<usize>,
    /// Why spacing moved it, if it did.
    pub moved: Option<ReasonCode>,
    /// Why its first plan found no partner.
    pub alone_note: Option<String>,
}

impl Slot {
    pub fn new(visit: Visit, booked: bool) -> Slot {
        Slot {
            visit,
            booked,
            changed: false,
            merged_into: None,
            moved: None,
            alone_note: None,
        }
    }
}

/// What keeps a visit off a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clash {
    Past,
    Postponed,
    Week,
    Month,
}

impl Clash {
    fn code(self) -> ReasonCode {
        match self {
            Clash::Postponed => ReasonCode::RescheduleRequest,
            Clash::Month => ReasonCode::RescheduleMonth,
            Clash::Past | Clash::Week => ReasonCode::RescheduleWeek,
        }
    }
}

/// The weeks and months already taken for one target.
pub(crate) struct Spacer {
    from: Date,
    rules: Rules,
    cap: usize,
    blocks: Vec<Window>,
    weeks: HashMap<i32, Vec<usize>>,
    months: HashMap<(i32, u32), usize>,
    last: Date,
}

impl Spacer {
    pub fn new(target: Target, from: Date, rules: &Rules, blocks: &[&Request]) -> Spacer {
        let blocks: Vec<Window> = blocks.iter().map(|r| r.window()).collect();
        let last = blocks.iter().map(|w| w.end).max().unwrap_or(from).max(from);
        Spacer {
            from,
            rules: rules.clone(),
            cap: rules.month_cap(target),
            blocks,
            weeks: HashMap::new(),
            months: HashMap::new(),
            last,
        }
    }

    fn occupy(&mut self, slots: &[Slot], i: usize) {
        let d = slots[i].visit.date;
        self.weeks.entry(d.week()).or_default().push(i);
        *self.months.entry(d.year_month()).or_default() += 1;
        self.last = self.last.max(d);
    }

    fn clash(&self, x: Date, v: &Visit) -> Option<Clash> {
        if x < self.from {
            Some(Clash::Past)
        } else if !v.urgent && self.blocks.iter().any(|b| b.contains(x)) {
            Some(Clash::Postponed)
        } else if self.weeks.get(&x.week()).is_some_and(|w| !w.is_empty()) {
            Some(Clash::Week)
        } else if self.months.get(&x.year_month()).copied().unwrap_or(0) >= self.cap {
            Some(Clash::Month)
        } else {
            None
        }
    }

    /// Spaces every on-site slot: fixed ones first, as they are, then the
    /// others in (day, id) order.
    pub fn space(&mut self, slots: &mut [Slot]) {
        let mut movable = Vec::new();
        for i in 0..slots.len() {
            let s = &slots[i];
            if !s.visit.on_site() || s.merged_into.is_some() {
                continue;
            }
            if s.booked || s.visit.fixed() {
                self.occupy(slots, i);
            } else {
                movable.push(i);
            }
        }
        movable.sort_by_key(|&i| (slots[i].visit.date, slots[i].visit.id));
        for i in movable {
            self.place(slots, i, true);
        }
    }

    /// Places a slot made after [`Spacer::space`] (a guidance visit).
    pub fn place_new(&mut self, slots: &mut [Slot], i: usize) {
        self.place(slots, i, false);
    }

    fn place(&mut self, slots: &mut [Slot], i: usize, may_merge: bool) {
        let d0 = slots[i].visit.date;
        let Some(clash) = self.clash(d0, &slots[i].visit) else {
            self.occupy(slots, i);
            return;
        };
        if clash == Clash::Week && may_merge && self.merge_into_week(slots, i) {
            return;
        }
        let v = &slots[i].visit;
        let w = v.window;
        let mut inside: Vec<Date> = w.days().filter(|&x| x != d0 && x >= self.from).collect();
        inside.sort_by_key(|&x| ((x.since(d0)).abs(), x < d0));
        let after_start = w.end.plus(1).max(self.from);
        let horizon = self.last.max(after_start).plus(70);
        let found = inside
            .into_iter()
            .chain((0..=horizon.since(after_start)).map(|k| after_start.plus(k)))
            .find(|&x| self.clash(x, v).is_none());
        if let Some(x) = found {
            slots[i].visit.date = x;
            slots[i].moved = Some(clash.code());
        }
        self.occupy(slots, i);
    }

    /// Puts slot `i` into the inspection already in its week, when that
    /// visit's day is in `i`'s window and every subject fits.
    fn merge_into_week(&mut self, slots: &mut [Slot], i: usize) -> bool {
        let v = slots[i].visit.clone();
        if v.purpose != Purpose::Inspection {
            return false;
        }
        let week = self.weeks.get(&v.date.week()).cloned().unwrap_or_default();
        for u in week {
            let host = &slots[u].visit;
            let fits_day = host.purpose == Purpose::Inspection
                && v.window.contains(host.date)
                && host.date >= self.from
                && !self.blocks.iter().any(|b| b.contains(host.date));
            if !fits_day {
                continue;
            }
            let mut trial = host.clone();
            let fits = v.departments.iter().all(|d| {
                let subs: Vec<_> = v
                    .subjects
                    .iter()
                    .copied()
                    .filter(|s| s.subject.department() == d.kind)
                    .collect();
                let ok = trial.can_take(*d, &subs, &self.rules).is_ok();
                if ok {
                    trial.add_department(*d);
                    trial.add_subjects(&subs);
                }
                ok
            });
            if !fits {
                continue;
            }
            for p in &v.plans {
                if let Err(k) = trial.plans.binary_search(p) {
                    trial.plans.insert(k, *p);
                }
            }
            trial.urgent |= v.urgent;
            trial.accompanied |= v.accompanied;
            trial.requests.extend(&v.requests);
            if !(slots[u].booked || host.fixed()) {
                if let Some(w) = trial.window.intersect(&v.window) {
                    trial.window = w;
                }
            }
            slots[u].visit = trial;
            slots[u].changed = true;
            slots[i].merged_into = Some(u);
            return true;
        }
        false
    }
}
