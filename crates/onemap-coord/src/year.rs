//! The demo year run month by month, the way a coordination center works
//! (see [`run_year`]).

use crate::demo::{mix, unit, Demo};
use crate::{
    apply, coordinate, Action, Batch, CoordError, Coordination, Date, Decision, Finding, Plan,
    PushLevel, Pushes, Record, RequestKind, Rules, SelfCheckStatus, Subject, Suggestion, Target,
    Visit,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// How the demo's coordination center and departments work: how far ahead
/// plans are coordinated, and how often a department refuses a suggestion
/// (drawn from the plan id). Entering a school needs the district center's
/// approval (进校园准入), so by default its suggestions for schools stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearPolicy {
    pub seed: u64,
    /// Refusals per thousand suggestions (other than "keep") for enterprises.
    pub refuse_per_mille: u32,
    /// The same for plans to enter schools.
    pub refuse_per_mille_schools: u32,
    /// Each month, plans whose window opens within this many days are
    /// coordinated (departments send their plans a quarter ahead).
    pub lookahead_days: i32,
    /// Departments' own answers (plan id → accepted), which stand in for
    /// the drawn ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<u64, bool>,
    /// Requests enterprises and schools made themselves (kept by the
    /// server), coordinated with the demo's own; ids apart from theirs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<crate::Request>,
    /// Enterprises' own word on their self-checks, laid over the drawn
    /// ones (in order: a later statement on the same push stands).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<crate::SelfCheckStatement>,
}

impl Default for YearPolicy {
    fn default() -> Self {
        YearPolicy {
            seed: 1,
            refuse_per_mille: 40,
            refuse_per_mille_schools: 0,
            lookahead_days: 92,
            overrides: BTreeMap::new(),
            requests: Vec::new(),
            statements: Vec::new(),
        }
    }
}

impl YearPolicy {
    /// One decision per suggestion that is not "keep".
    pub fn decide(&self, coord: &Coordination, schools: &HashSet<u64>) -> Vec<Decision> {
        coord
            .suggestions
            .iter()
            .filter(|s| s.action != Action::Keep)
            .map(|s| {
                if let Some(&accept) = self.overrides.get(&s.plan) {
                    return Decision {
                        plan: s.plan,
                        accept,
                    };
                }
                let rate = if schools.contains(&s.plan) {
                    self.refuse_per_mille_schools
                } else {
                    self.refuse_per_mille
                };
                Decision {
                    plan: s.plan,
                    accept: unit(self.seed, 40, s.plan) * 1000.0 >= f64::from(rate),
                }
            })
            .collect()
    }
}

/// The demo year after coordination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearRun {
    pub year: i32,
    /// One per plan of the year, ascending by plan id: the suggestion of
    /// the month that settled it.
    pub suggestions: Vec<Suggestion>,
    /// The departments' answers to those suggestions.
    pub decisions: Vec<Decision>,
    /// The calendar: every visit, ascending by id (some fall after the year).
    pub visits: Vec<Visit>,
    /// What the year's visits checked and found.
    pub records: Vec<Record>,
    pub pushes: Pushes,
}

/// Runs the demo year, month by month. At the start of each month the
/// center coordinates every plan still open whose window opens within the
/// lookahead, against the record so far and the visits already settled;
/// departments answer; the visits of the month (and those carrying a plan
/// planned this month) are settled, the rest stay open for next month.
/// Then the month's visits are made, their findings recorded and pushed.
pub fn run_year(demo: &Demo, rules: &Rules, policy: &YearPolicy) -> Result<YearRun, CoordError> {
    run_year_of(demo, |_| true, rules, policy)
}

/// [`run_year`] for the plans and requests of the targets `keep` holds
/// only (every site stays in `demo`, for names and pushes). Each target is
/// coordinated on its own and problems are pushed within a town, so a
/// town's year is the same run alone as in the whole city's (but for the
/// ids of visits, records and pushes, which count within the run).
pub fn run_year_of(
    demo: &Demo,
    keep: impl Fn(Target) -> bool,
    rules: &Rules,
    policy: &YearPolicy,
) -> Result<YearRun, CoordError> {
    let year = demo.config.year;
    let seed = demo.config.seed;
    let mut open: BTreeMap<u64, Plan> = demo
        .plans
        .iter()
        .filter(|p| p.planned.year() == year && keep(p.target))
        .map(|p| (p.id, p.clone()))
        .collect();
    let schools: HashSet<u64> = open
        .values()
        .filter(|p| p.target.is_school())
        .map(|p| p.id)
        .collect();
    let mut served: HashSet<u64> = HashSet::new();
    let mut calendar: BTreeMap<u64, Visit> = BTreeMap::new();
    let mut next_visit = 1;
    let mut records: Vec<Record> = Vec::new();
    let mut pushes = Pushes::new(30);
    let mut suggestions: BTreeMap<u64, Suggestion> = BTreeMap::new();
    let mut decisions = Vec::new();
    for m in 1..=12u32 {
        let from = Date::month_start(year, m)?;
        let next = if m == 12 {
            Date::year_start(year + 1)?
        } else {
            Date::month_start(year, m + 1)?
        };
        let horizon = from.plus(policy.lookahead_days.max(31));
        let last = m == 12;
        let batch = Batch {
            from,
            plans: open
                .values()
                .filter(|p| p.window.start < horizon || p.planned < next)
                .cloned()
                .collect(),
            requests: demo
                .requests
                .iter()
                .chain(&policy.requests)
                .filter(|r| keep(r.target))
                .filter(|r| match r.kind {
                    RequestKind::Postpone { window, .. } => window.end >= from,
                    _ => !served.contains(&r.id) && r.window().start < horizon,
                })
                .cloned()
                .collect(),
            history: records.clone(),
            booked: calendar
                .values()
                .filter(|v| v.date >= from && v.on_site())
                .cloned()
                .collect(),
            first_visit_id: next_visit,
        };
        let coord = coordinate(&batch, rules)?;
        let decs = policy.decide(&coord, &schools);
        let applied = apply(&batch, &coord, &decs)?;
        next_visit = applied.next_visit_id;
        let due = |id: &u64| open.get(id).is_some_and(|p| p.planned < next);
        let mut settled: HashSet<u64> = applied
            .cancelled
            .iter()
            .copied()
            .filter(|id| last || due(id))
            .collect();
        for v in applied.visits {
            if last || v.date < next || calendar.contains_key(&v.id) || v.plans.iter().any(due) {
                settled.extend(&v.plans);
                served.extend(&v.requests);
                calendar.insert(v.id, v);
            }
        }
        for s in coord
            .suggestions
            .into_iter()
            .filter(|s| settled.contains(&s.plan))
        {
            suggestions.insert(s.plan, s);
        }
        decisions.extend(decs.into_iter().filter(|d| settled.contains(&d.plan)));
        open.retain(|id, _| !settled.contains(id));
        let mut done: Vec<&Visit> = calendar
            .values()
            .filter(|v| v.date >= from && v.date < next)
            .collect();
        done.sort_by_key(|v| (v.date, v.id));
        for v in done {
            for s in &v.subjects {
                let Some(r) = make_record(demo, v, s.subject, records.len() as u64 + 1) else {
                    continue;
                };
                let pushed = r.finding.is_some() && matches!(r.target, Target::Enterprise(_));
                records.push(r);
                if pushed {
                    if let Some(last) = records.last() {
                        pushes.record(&demo.sites, last, PushLevel::Town)?;
                    }
                }
            }
        }
    }
    self_checks(&mut pushes, seed, Date::from_ymd(year, 12, 31)?)?;
    if !policy.statements.is_empty() {
        let mut by_key: std::collections::HashMap<String, Vec<&crate::SelfCheckStatement>> =
            std::collections::HashMap::new();
        for s in &policy.statements {
            by_key.entry(s.push.clone()).or_default().push(s);
        }
        for p in pushes.pushes.iter_mut() {
            for s in by_key.get(&p.key()).into_iter().flatten() {
                p.state(s);
            }
        }
    }
    decisions.sort_by_key(|d| d.plan);
    Ok(YearRun {
        year,
        suggestions: suggestions.into_values().collect(),
        decisions,
        visits: calendar.into_values().collect(),
        records,
        pushes,
    })
}

/// What a visit found on a subject: each enterprise has its own
/// compliance (a 6–26 % chance of a finding per subject, half online);
/// schools 4 %; talks find nothing. None for a visit without a department.
fn make_record(demo: &Demo, v: &Visit, subject: Subject, id: u64) -> Option<Record> {
    let seed = demo.config.seed;
    let chance = match v.target {
        Target::Enterprise(e) => 0.06 + 0.20 * unit(seed, 20, e),
        Target::School(_) => 0.04,
    } * if v.on_site() { 1.0 } else { 0.5 };
    // Keyed by what the visit is (whom, which day, which subject), not by
    // ids that depend on the rest of the city.
    let idx = Subject::ALL.iter().position(|s| *s == subject).unwrap_or(0) as u64;
    let who = match v.target {
        Target::Enterprise(e) => e * 2,
        Target::School(s) => s * 2 + 1,
    };
    let key = mix(who, 24, (v.date.days() as u64) * 64 + idx);
    let findings = subject.findings();
    let finding = (!findings.is_empty() && unit(seed, 21, key) < chance).then(|| {
        let k = if unit(seed, 22, key) < 0.65 {
            0
        } else {
            (mix(seed, 23, key) % findings.len() as u64) as usize
        };
        let (code, text) = findings[k.min(findings.len() - 1)];
        Finding {
            subject,
            code: code.to_string(),
            text: text.to_string(),
        }
    });
    let department = v
        .departments
        .iter()
        .copied()
        .find(|d| d.kind == subject.department())
        .or(v.lead)?;
    Some(Record {
        id,
        target: v.target,
        department,
        subject,
        date: v.date,
        online: !v.on_site(),
        finding,
    })
}

/// The enterprises' answers to pushes, up to the year's end: 85 % self-check
/// within 3–14 days, 40 % of those rectify within 7–30 days more.
fn self_checks(pushes: &mut Pushes, seed: u64, end: Date) -> Result<(), CoordError> {
    for p in pushes.pushes.iter_mut() {
        let ids: Vec<u64> = p.checks.iter().map(|c| c.enterprise).collect();
        for e in ids {
            let key = mix(p.source, 34, (p.date.days() as u64) << 24 ^ e);
            if unit(seed, 30, key) >= 0.85 {
                continue;
            }
            let checked = p.date.plus(3 + (mix(seed, 31, key) % 12) as i32);
            if checked > end {
                continue;
            }
            p.set_status(e, SelfCheckStatus::SelfChecked, checked)?;
            if unit(seed, 32, key) < 0.4 {
                let fixed = checked.plus(7 + (mix(seed, 33, key) % 24) as i32);
                if fixed <= end {
                    p.set_status(e, SelfCheckStatus::Rectified, fixed)?;
                }
            }
        }
    }
    Ok(())
}
