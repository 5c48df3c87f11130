//! Before and after, per month, for the city, a district or a town: on-site
//! inspections of enterprises (and of large ones), inspections the town
//! accompanied, visits per school, and departments entering schools.
//!
//! "Before" counts every plan as the department made it: one on-site visit
//! on its planned day, accompanied when it asked. "After" counts the
//! calendar the year's coordination and the departments' answers left. Both
//! come from the same generated year; nothing here is a target.

use crate::demo::{self, Demo, DemoConfig};
use crate::year::{run_year, YearPolicy, YearRun};
use crate::{Action, CoordError, Department, Mode, Rules, Scope, Sites, Target};
use onemap_core::CityData;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// A count before and after coordination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub before: u64,
    pub after: u64,
}

impl Counts {
    /// The change from before to after, as a fraction (−0.5 is half as
    /// many); None when there was nothing before.
    pub fn change(&self) -> Option<f64> {
        (self.before > 0).then(|| (self.after as f64 - self.before as f64) / self.before as f64)
    }

    fn accumulate(&mut self, other: Counts) {
        self.before += other.before;
        self.after += other.after;
    }
}

/// One month's figures (month 0: the year).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MonthFigures {
    pub month: u32,
    /// On-site inspections of enterprises.
    pub onsite: Counts,
    /// Of which at large enterprises (规上企业).
    pub onsite_large: Counts,
    /// Inspections the town accompanied.
    pub accompanied: Counts,
    /// Of which at large enterprises.
    pub accompanied_large: Counts,
    /// On-site visits to schools.
    pub school_visits: Counts,
    /// Checks made online instead (after only).
    pub online: u64,
}

/// The figures of a scope for the demo year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub scope: Scope,
    pub scope_name: String,
    pub year: i32,
    pub enterprises: usize,
    pub large_enterprises: usize,
    pub schools: usize,
    /// January to December.
    pub months: Vec<MonthFigures>,
    /// The year (month 0).
    pub total: MonthFigures,
    /// On-site enterprise inspections moved past the year's end (counted
    /// in `total`, not in any month).
    pub moved_past_year: u64,
    /// Visits per school per month, before and after.
    pub visits_per_school_month: (f64, f64),
    /// Departments that entered at least one school in the year.
    pub school_departments: Counts,
    /// Suggestions by action code (keep, merge, online, reschedule, cancel).
    pub suggestions: BTreeMap<String, u64>,
    /// Suggestions the departments refused.
    pub refused: u64,
    /// Problems pushed, enterprises they reached, and how many of those
    /// have self-checked and rectified.
    pub pushes: u64,
    pub pushed_enterprises: u64,
    pub self_checked: u64,
    pub rectified: u64,
}

/// Computes the figures of `scope` from a demo year and its run.
pub fn figures(demo: &Demo, run: &YearRun, scope: Scope) -> Figures {
    figures_of(demo, &[run], scope)
}

/// [`figures`] over a year run in parts (e.g. town by town, see
/// [`crate::run_year_of`]): the parts' visits, suggestions, decisions and
/// pushes taken together. The year is `demo`'s.
pub fn figures_of(demo: &Demo, runs: &[&YearRun], scope: Scope) -> Figures {
    let sites = &demo.sites;
    let year = demo.config.year;
    let in_scope = |t: Target| {
        sites
            .place_of(t)
            .is_some_and(|(town, district)| scope.holds(town, district))
    };
    let large = |t: Target| match t {
        Target::Enterprise(id) => sites.enterprise(id).is_some_and(|e| e.large),
        Target::School(_) => false,
    };
    let mut months: Vec<MonthFigures> = (1..=12)
        .map(|m| MonthFigures {
            month: m,
            ..Default::default()
        })
        .collect();
    let mut total = MonthFigures::default();
    let mut dept_before: HashSet<Department> = HashSet::new();
    let mut dept_after: HashSet<Department> = HashSet::new();
    let mut in_plans = HashSet::new();
    for p in demo
        .plans
        .iter()
        .filter(|p| p.planned.year() == year && in_scope(p.target))
    {
        in_plans.insert(p.id);
        let m = &mut months[p.planned.month() as usize - 1];
        if p.target.is_school() {
            m.school_visits.before += 1;
            dept_before.insert(p.department);
        } else {
            m.onsite.before += 1;
            m.onsite_large.before += u64::from(large(p.target));
            m.accompanied.before += u64::from(p.accompanied);
            m.accompanied_large.before += u64::from(p.accompanied && large(p.target));
        }
    }
    let mut moved_past_year = 0;
    for v in runs
        .iter()
        .flat_map(|r| &r.visits)
        .filter(|v| in_scope(v.target) && v.date.year() >= year)
    {
        let month = (v.date.year() == year).then(|| v.date.month() as usize - 1);
        let mut add = MonthFigures::default();
        if v.target.is_school() {
            if v.mode == Mode::OnSite {
                add.school_visits.after = 1;
                dept_after.extend(v.departments.iter().copied());
            }
        } else if v.mode == Mode::Online {
            add.online = 1;
        } else if v.is_onsite_inspection() {
            add.onsite.after = 1;
            add.onsite_large.after = u64::from(large(v.target));
            add.accompanied.after = u64::from(v.accompanied);
            add.accompanied_large.after = u64::from(v.accompanied && large(v.target));
        }
        match month {
            Some(i) => merge(&mut months[i], &add),
            None => {
                moved_past_year += add.onsite.after;
                merge(&mut total, &add);
            }
        }
    }
    for m in &months {
        merge(&mut total, m);
    }
    let mut suggestions: BTreeMap<String, u64> = Action::ALL
        .iter()
        .map(|a| (a.code().to_string(), 0))
        .collect();
    for s in runs
        .iter()
        .flat_map(|r| &r.suggestions)
        .filter(|s| in_plans.contains(&s.plan))
    {
        *suggestions.entry(s.action.code().to_string()).or_default() += 1;
    }
    let refused = runs
        .iter()
        .flat_map(|r| &r.decisions)
        .filter(|d| !d.accept && in_plans.contains(&d.plan))
        .count() as u64;
    let (mut pushes, mut reached, mut checked, mut fixed) = (0, 0, 0, 0);
    for p in runs.iter().flat_map(|r| &r.pushes.pushes) {
        let (town, district) = match sites.towns.iter().find(|t| t.id == p.area) {
            Some(t) => (t.id, t.district),
            None => (p.area, p.area),
        };
        if !scope.holds(town, district) {
            continue;
        }
        let [_, c, r] = p.counts();
        pushes += 1;
        reached += p.checks.len() as u64;
        checked += (c + r) as u64;
        fixed += r as u64;
    }
    let schools = sites
        .schools
        .iter()
        .filter(|s| scope.holds(s.town, s.district))
        .count();
    let per = |n: u64| {
        if schools == 0 {
            0.0
        } else {
            n as f64 / schools as f64 / 12.0
        }
    };
    let enterprises: Vec<_> = sites
        .enterprises
        .iter()
        .filter(|e| scope.holds(e.town, e.district))
        .collect();
    Figures {
        scope,
        scope_name: scope_label(sites, scope),
        year,
        enterprises: enterprises.len(),
        large_enterprises: enterprises.iter().filter(|e| e.large).count(),
        schools,
        visits_per_school_month: (
            per(total.school_visits.before),
            per(total.school_visits.after),
        ),
        months,
        total,
        moved_past_year,
        school_departments: Counts {
            before: dept_before.len() as u64,
            after: dept_after.len() as u64,
        },
        suggestions,
        refused,
        pushes,
        pushed_enterprises: reached,
        self_checked: checked,
        rectified: fixed,
    }
}

fn merge(into: &mut MonthFigures, add: &MonthFigures) {
    into.onsite.accumulate(add.onsite);
    into.onsite_large.accumulate(add.onsite_large);
    into.accompanied.accumulate(add.accompanied);
    into.accompanied_large.accumulate(add.accompanied_large);
    into.school_visits.accumulate(add.school_visits);
    into.online += add.online;
}

fn scope_label(sites: &Sites, scope: Scope) -> String {
    match scope {
        Scope::City => "全市".into(),
        Scope::District(d) | Scope::Town(d) => format!("{}（{}）", sites.scope_name(scope), d),
    }
}

/// What a command line needs: the city, the area (`city`, an id or a
/// name), the year and the seed.
#[derive(Debug, Clone)]
pub struct ReportRequest<'a> {
    pub city: &'a CityData,
    pub area: &'a str,
    pub year: i32,
    pub seed: u64,
}

/// Generates the demo year for the city, runs it (only the enterprises and
/// schools of the area: the others change nothing there) and gives the
/// area's figures.
pub fn report(req: &ReportRequest) -> Result<Figures, CoordError> {
    let sites = Sites::from_city(req.city)?;
    let scope = sites.scope(req.area)?;
    let config = DemoConfig {
        seed: req.seed,
        year: req.year,
        ..DemoConfig::default()
    };
    let demo = demo::generate(sites, &config)?.restrict(scope);
    let policy = YearPolicy {
        seed: req.seed,
        ..YearPolicy::default()
    };
    let run = run_year(&demo, &Rules::default(), &policy)?;
    Ok(figures(&demo, &run, scope))
}

/// [`report`] as the before/after table `onemap coordinate` prints.
pub fn before_after_table(req: &ReportRequest) -> Result<String, CoordError> {
    report(req).map(|f| f.table())
}
