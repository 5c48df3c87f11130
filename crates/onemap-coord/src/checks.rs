//! The rules' tests on one plan, and building visits from plans.

use crate::suggestion::{self as text};
use crate::{Date, Mode, Plan, Purpose, Record, Request, Risk, Rules, Target, Visit, Window};

/// An on-site candidate: the days it may go (its window after the
/// coordination day and the enterprise's postponements), and its day.
pub(crate) struct Cand<'a> {
    pub plan: &'a Plan,
    pub window: Window,
    pub preferred: Date,
    pub postponed_by: Option<&'a Request>,
}

/// A visit with nothing in it yet.
pub(crate) fn empty_visit(
    id: u64,
    target: Target,
    date: Date,
    mode: Mode,
    purpose: Purpose,
    window: Window,
) -> Visit {
    Visit {
        id,
        target,
        date,
        mode,
        purpose,
        plans: Vec::new(),
        departments: Vec::new(),
        lead: None,
        subjects: Vec::new(),
        window,
        urgent: false,
        accompanied: false,
        requests: Vec::new(),
    }
}

/// Puts a plan into a visit; `window` is what the plan allows (its feasible
/// window), which narrows the visit's.
pub(crate) fn absorb(v: &mut Visit, p: &Plan, window: Window) {
    if let Err(i) = v.plans.binary_search(&p.id) {
        v.plans.insert(i, p.id);
    }
    v.add_department(p.department);
    v.add_subjects(&p.subjects);
    v.urgent |= p.urgent;
    v.accompanied |= text::town_accompanies(p);
    if let Some(w) = v.window.intersect(&window) {
        v.window = w;
    }
}

/// The records a plan duplicates: for every subject, the latest record
/// within `duplicate_days` before the plan, with nothing found. None when a
/// subject is mandatory, the plan urgent, or any subject lacks such a record.
pub(crate) fn duplicates<'a>(
    p: &Plan,
    history: &[&'a Record],
    rules: &Rules,
) -> Option<Vec<&'a Record>> {
    if p.urgent || p.has_mandatory() {
        return None;
    }
    p.subjects
        .iter()
        .map(|s| {
            let r = history
                .iter()
                .filter(|r| r.subject == s.subject && r.date <= p.planned)
                .max_by_key(|r| (r.date, r.id))?;
            (r.finding.is_none() && p.planned.since(r.date) <= rules.duplicate_days).then_some(*r)
        })
        .collect()
}

/// Whether a plan may be checked online; `Err` says why it must be on site.
pub(crate) fn online_check(p: &Plan, history: &[&Record], rules: &Rules) -> Result<(), String> {
    if p.risk != Risk::Low {
        return Err(format!("{}风险，需现场检查", p.risk.zh()));
    }
    let on_site: Vec<_> = p
        .subjects
        .iter()
        .map(|s| s.subject)
        .filter(|s| !s.online_ok())
        .collect();
    if !on_site.is_empty() {
        return Err(format!("{}需现场查看", text::subjects_zh(on_site)));
    }
    if let Some(r) = history
        .iter()
        .filter(|r| {
            r.finding.is_some()
                && p.subjects.iter().any(|s| s.subject == r.subject)
                && (0..=rules.finding_days).contains(&p.planned.since(r.date))
        })
        .max_by_key(|r| (r.date, r.id))
    {
        return Err(format!(
            "{}于{}发现问题（记录#{}），需现场复查",
            r.subject.zh(),
            r.date.zh(),
            r.id
        ));
    }
    Ok(())
}

/// The days a non-urgent plan may go: its window from `from` on, out of
/// the enterprise's postponements (the part after a postponement holding
/// its day; the window shifted past it when nothing is left).
pub(crate) fn feasible<'a>(p: &'a Plan, from: Date, blocks: &[&'a Request]) -> Cand<'a> {
    let mut w = Window {
        start: p.window.start.max(from),
        end: p.window.end,
    };
    let mut preferred = p.planned;
    let mut postponed_by = None;
    for _ in 0..=blocks.len() {
        let Some(b) = blocks.iter().find(|b| b.window().overlaps(&w)) else {
            break;
        };
        let bw = b.window();
        let after = (bw.end < w.end).then(|| Window {
            start: bw.end.plus(1),
            end: w.end,
        });
        let before = (bw.start > w.start).then(|| Window {
            start: w.start,
            end: bw.start.plus(-1),
        });
        if bw.contains(preferred) {
            postponed_by = Some(*b);
            w = after.or(before).unwrap_or(Window {
                start: bw.end.plus(1),
                end: bw.end.plus(p.window.len()),
            });
            preferred = if preferred < w.start { w.start } else { w.end };
        } else if preferred < bw.start {
            w = before.unwrap_or(w);
        } else {
            w = after.unwrap_or(w);
        }
    }
    Cand {
        plan: p,
        window: w,
        preferred,
        postponed_by,
    }
}
