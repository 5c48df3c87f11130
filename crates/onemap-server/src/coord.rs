//! Coordination of enterprise inspections and school visits over HTTP
//! (issue 17): a scope's plans with the coordinator's suggestions and
//! reasons, the enterprises and schools on the map, the month's calendar,
//! an enterprise's or school's file, the before/after figures, and a
//! department's answer to a suggestion.
//!
//! The demo year (plans and requests from the city's seed, `onemap-coord`)
//! is computed once, off the async threads, when the server starts serving
//! (or on the first request, whichever comes first), never before it
//! listens. It is kept town by town ([`onemap_coord::run_year_of`]: each
//! enterprise and school is coordinated on its own and problems are pushed
//! within a town), so a department's answer re-runs only its plan's town.
//! Answers, enterprises' and schools' requests and their self-checks are
//! kept in the store (`coord_decisions`, `coord_requests`,
//! `coord_self_checks`) and laid over the year at start; after each change
//! (made here, or announced by another server on the same PostGIS) the
//! store's inputs are read again and the towns whose inputs changed are
//! coordinated again ([`Coord::sync`]). Reads never touch the store.
//! What enterprises and schools do themselves is in `acts`.

mod acts;
pub use acts::{
    __path_add_request, __path_push, __path_pushes, __path_requests, __path_self_check,
    add_request, push, pushes, requests, self_check,
};

use crate::answer::js_safe;
use crate::error::{path_error, ApiError, ErrorCode};
use crate::openapi::{ErrorBody, Overloaded};
use crate::params::Params;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use onemap_coord::{
    demo, figures_of, run_year_of, Action, CoordError, DemoConfig, Department, Plan, Purpose,
    Request, Rules, Scope, SelfCheckStatement, Sites, Suggestion, Target, Visit, YearPolicy,
    YearRun,
};
use onemap_core::workflow::Actor;
use onemap_core::workflow::Scope as ActorScope;
use onemap_core::{AreaId, AreaTree, CityData, Level, Role};
use onemap_store::{CoordDecision, CoordInputs, CoordRequest, CoordSelfCheck};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use utoipa::IntoParams;

type ApiResult = Result<Json<Value>, ApiError>;

/// The demo year served unless told otherwise (`serve --coord-year`).
pub const DEFAULT_COORD_YEAR: i32 = 2023;

/// Most rows in one page of plans, visits or sites.
const MAX_PAGE: usize = 10_000;

/// What the coordination is computed from: the city's districts and towns
/// (with their outlines, to place each site in its town), its enterprises
/// and schools, the seed and the demo year. Cheap to take from a
/// [`CityData`] before the index consumes it.
#[derive(Debug, Clone, Default)]
pub struct CoordSource {
    city: CityData,
    seed: u64,
    year: i32,
}

impl CoordSource {
    /// Copies what coordination needs out of `data` (the areas of two
    /// levels, the enterprises and schools: a few megabytes at full scale).
    pub fn from_city(data: &CityData, seed: u64, year: i32) -> CoordSource {
        let areas = AreaTree::from_areas(
            [Level::District, Level::Town]
                .iter()
                .flat_map(|l| data.areas.level(*l).iter().cloned()),
        );
        CoordSource {
            city: CityData {
                areas,
                enterprises: data.enterprises.clone(),
                schools: data.schools.clone(),
                ..CityData::default()
            },
            seed,
            year,
        }
    }

    pub fn year(&self) -> i32 {
        self.year
    }
}

/// The served coordination: its source until the year is built, then the
/// year.
pub(crate) struct Coord {
    source: Mutex<Option<Arc<CoordSource>>>,
    base: tokio::sync::OnceCell<Arc<Base>>,
    /// One answer at a time: each re-runs a town over every answer so far.
    writes: tokio::sync::Mutex<()>,
}

/// The demo year and what does not change with the answers.
struct Base {
    demo: onemap_coord::Demo,
    rules: Rules,
    seed: u64,
    points: HashMap<Target, [f64; 2]>,
    town_of: HashMap<Target, AreaId>,
    /// Indexes into `demo.plans` of the year's plans, by (planned day, id).
    order: Vec<usize>,
    by_target: HashMap<Target, Vec<usize>>,
    current: RwLock<Arc<Runs>>,
}

/// The year after the answers: one run per town.
struct Runs {
    towns: BTreeMap<AreaId, Arc<YearRun>>,
    answers: BTreeMap<u64, CoordDecision>,
    /// What enterprises and schools asked and said, as kept.
    said: Said,
    /// Figures by scope, made on first asking.
    figures: Mutex<HashMap<Scope, Arc<Value>>>,
}

/// The requests (by id, with the coordinator's reading of each) and the
/// self-checks (by push key and enterprise) kept in the store.
#[derive(Debug, Clone, Default, PartialEq)]
struct Said {
    requests: BTreeMap<u64, (CoordRequest, Request)>,
    checks: BTreeMap<(String, u64), CoordSelfCheck>,
}

impl Said {
    fn from_store(inputs: &CoordInputs) -> Said {
        let mut requests = BTreeMap::new();
        for row in &inputs.requests {
            match serde_json::from_str::<Request>(&row.detail) {
                Ok(mut r) if r.target == row_target(row) => {
                    r.id = row.id;
                    requests.insert(row.id, (row.clone(), r));
                }
                Ok(_) | Err(_) => tracing::warn!(
                    "coordination request {} of {} {} does not read back; left out",
                    row.id,
                    row.target_kind,
                    row.target
                ),
            }
        }
        let checks = inputs
            .self_checks
            .iter()
            .map(|c| ((c.push.clone(), c.enterprise), c.clone()))
            .collect();
        Said { requests, checks }
    }
}

/// The enterprise or school a kept request is of.
fn row_target(row: &CoordRequest) -> Target {
    match row.target_kind.as_str() {
        "school" => Target::School(row.target),
        _ => Target::Enterprise(row.target),
    }
}

/// The enterprise a push key names (`1234-2023-03-14-exit_blocked`).
fn push_source(key: &str) -> Option<u64> {
    key.split('-').next()?.parse().ok()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl From<CoordError> for ApiError {
    fn from(e: CoordError) -> Self {
        use CoordError as E;
        let code = match &e {
            E::UnknownArea(_) => ErrorCode::UnknownArea,
            E::NotDistrictOrTown(_) => ErrorCode::InvalidScope,
            E::UnknownPlan(_) => ErrorCode::UnknownPlan,
            E::UnknownEnterprise(_) => ErrorCode::UnknownSite,
            E::NoTowns => ErrorCode::NoCoordination,
            E::UnknownValue { .. } | E::BadDate(_) | E::BadYear(_) => ErrorCode::UnknownValue,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

impl Coord {
    pub(crate) fn new(source: Option<CoordSource>) -> Coord {
        Coord {
            source: Mutex::new(source.map(Arc::new)),
            base: tokio::sync::OnceCell::new(),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Builds the year in the background (the server starts serving at
    /// once; a request that comes first waits for it).
    pub(crate) fn warm(state: &AppState) {
        if lock(&state.coord.source).is_none() {
            return;
        }
        let state = state.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match state.coord.base(&state).await {
                Ok(base) => {
                    Coord::follow(&state, &base);
                    tracing::info!(
                        "coordination year built in {:.2} s",
                        started.elapsed().as_secs_f64()
                    )
                }
                Err(e) => tracing::warn!("coordination year not built: {}", e.message),
            }
        });
    }

    async fn base(&self, state: &AppState) -> Result<Arc<Base>, ApiError> {
        let base = self
            .base
            .get_or_try_init(|| async {
                let source = lock(&self.source).clone().ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NoCoordination,
                        "this server was started without the enterprises' and schools' coordination",
                    )
                })?;
                let inputs = state.live.coord_inputs(source.year).await?;
                let base = tokio::task::spawn_blocking(move || Base::build(&source, inputs))
                    .await
                    .map_err(|e| ApiError::internal(format!("coordination task failed: {e}")))??;
                Ok::<_, ApiError>(Arc::new(base))
            })
            .await?;
        lock(&self.source).take();
        Ok(Arc::clone(base))
    }

    /// Reads what the store holds of the year again and coordinates again
    /// the towns whose inputs changed (a change made here, or by another
    /// server); one at a time.
    async fn sync(&self, state: &AppState, base: &Arc<Base>) -> Result<Arc<Runs>, ApiError> {
        let _turn = self.writes.lock().await;
        let inputs = state.live.coord_inputs(base.demo.config.year).await?;
        let answers: BTreeMap<u64, CoordDecision> = inputs
            .decisions
            .iter()
            .map(|a| (a.plan, a.clone()))
            .collect();
        let said = Said::from_store(&inputs);
        let runs = base.runs();
        let towns = base.changed_towns(&runs, &answers, &said);
        if towns.is_empty() {
            return Ok(runs);
        }
        let next = {
            let base = Arc::clone(base);
            let runs = Arc::clone(&runs);
            tokio::task::spawn_blocking(move || base.rerun(&runs, answers, said, &towns))
                .await
                .map_err(|e| ApiError::internal(format!("coordination task failed: {e}")))??
        };
        let next = Arc::new(next);
        *base.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&next);
        Ok(next)
    }

    /// Follows the other servers' coordination changes (PostGIS): each
    /// announcement (or re-synchronisation) makes a [`Coord::sync`].
    fn follow(state: &AppState, base: &Arc<Base>) {
        let mut heard = state.live.coord_changes();
        let (state, base) = (state.clone(), Arc::clone(base));
        tokio::spawn(async move {
            while heard.changed().await.is_ok() {
                heard.borrow_and_update();
                match state.coord.sync(&state, &base).await {
                    Ok(_) => tracing::info!("coordination follows another server's change"),
                    Err(e) => tracing::warn!(
                        "cannot follow another server's coordination change: {}",
                        e.message
                    ),
                }
            }
        });
    }
}

impl Base {
    fn build(source: &CoordSource, inputs: CoordInputs) -> Result<Base, ApiError> {
        let sites = Sites::from_city(&source.city)?;
        let mut points = HashMap::new();
        for e in &source.city.enterprises {
            points.insert(Target::Enterprise(e.id), [e.lon, e.lat]);
        }
        for s in &source.city.schools {
            points.insert(Target::School(s.id), [s.lon, s.lat]);
        }
        let mut town_of = HashMap::new();
        for e in &sites.enterprises {
            town_of.insert(Target::Enterprise(e.id), e.town);
        }
        for s in &sites.schools {
            town_of.insert(Target::School(s.id), s.town);
        }
        let config = DemoConfig {
            seed: source.seed,
            year: source.year,
            ..DemoConfig::default()
        };
        let demo = demo::generate(sites, &config)?;
        let mut order: Vec<usize> = (0..demo.plans.len())
            .filter(|&i| demo.plans[i].planned.year() == source.year)
            .collect();
        order.sort_by_key(|&i| (demo.plans[i].planned, demo.plans[i].id));
        let mut by_target: HashMap<Target, Vec<usize>> = HashMap::new();
        for &i in &order {
            by_target.entry(demo.plans[i].target).or_default().push(i);
        }
        let mut base = Base {
            demo,
            rules: Rules::default(),
            seed: source.seed,
            points,
            town_of,
            order,
            by_target,
            current: RwLock::new(Arc::new(Runs {
                towns: BTreeMap::new(),
                answers: BTreeMap::new(),
                said: Said::default(),
                figures: Mutex::new(HashMap::new()),
            })),
        };
        let answers: BTreeMap<u64, CoordDecision> = inputs
            .decisions
            .iter()
            .map(|a| (a.plan, a.clone()))
            .collect();
        let said = Said::from_store(&inputs);
        let policy = base.policy(&answers, &said);
        let towns: Vec<AreaId> = base.demo.sites.towns.iter().map(|t| t.id).collect();
        // The towns over the cores (at most 4), each run on its own.
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let chunk = towns.len().div_ceil(workers).max(1);
        let runs: Vec<Result<(AreaId, YearRun), CoordError>> = std::thread::scope(|s| {
            let handles: Vec<_> = towns
                .chunks(chunk)
                .map(|part| {
                    let (base, policy) = (&base, &policy);
                    s.spawn(move || {
                        part.iter()
                            .map(|&t| base.run_town(t, policy).map(|r| (t, r)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![Err(CoordError::UnknownArea("a town's run failed".into()))]
                    })
                })
                .collect()
        });
        let mut by_town = BTreeMap::new();
        for r in runs {
            let (t, run) = r?;
            by_town.insert(t, Arc::new(run));
        }
        base.current = RwLock::new(Arc::new(Runs {
            towns: by_town,
            answers,
            said,
            figures: Mutex::new(HashMap::new()),
        }));
        Ok(base)
    }

    fn policy(&self, answers: &BTreeMap<u64, CoordDecision>, said: &Said) -> YearPolicy {
        YearPolicy {
            seed: self.seed,
            overrides: answers.iter().map(|(p, a)| (*p, a.accept)).collect(),
            requests: said.requests.values().map(|(_, r)| r.clone()).collect(),
            statements: said
                .checks
                .values()
                .filter_map(|c| {
                    Some(SelfCheckStatement {
                        push: c.push.clone(),
                        enterprise: c.enterprise,
                        status: c.status.parse().ok()?,
                        date: onemap_coord::Date::from_unix(c.at),
                        note: c.note.clone(),
                    })
                })
                .collect(),
            ..YearPolicy::default()
        }
    }

    /// The first id a request kept by the store may take: after the demo's.
    fn first_request_id(&self) -> u64 {
        self.demo.requests.iter().map(|r| r.id).max().unwrap_or(0) + 1
    }

    /// The town of a plan.
    fn plan_town(&self, plan: u64) -> Option<AreaId> {
        let p = self.plan(plan).ok()?;
        self.town_of.get(&p.target).copied()
    }

    /// The towns whose answers, requests or self-checks differ between the
    /// current runs and the store's.
    fn changed_towns(
        &self,
        runs: &Runs,
        answers: &BTreeMap<u64, CoordDecision>,
        said: &Said,
    ) -> BTreeSet<AreaId> {
        let mut towns = BTreeSet::new();
        let plans: BTreeSet<u64> = runs.answers.keys().chain(answers.keys()).copied().collect();
        for p in plans {
            let (a, b) = (runs.answers.get(&p), answers.get(&p));
            if a.map(|x| x.accept) != b.map(|x| x.accept) {
                towns.extend(self.plan_town(p));
            }
        }
        let ids: BTreeSet<u64> = runs
            .said
            .requests
            .keys()
            .chain(said.requests.keys())
            .copied()
            .collect();
        for id in ids {
            let (a, b) = (runs.said.requests.get(&id), said.requests.get(&id));
            if a != b {
                for (_, r) in a.into_iter().chain(b) {
                    towns.extend(self.town_of.get(&r.target).copied());
                }
            }
        }
        let keys: BTreeSet<&(String, u64)> =
            runs.said.checks.keys().chain(said.checks.keys()).collect();
        for k in keys {
            if runs.said.checks.get(k) != said.checks.get(k) {
                towns.extend(self.town_of.get(&Target::Enterprise(k.1)).copied());
            }
        }
        towns
    }

    /// The runs with `towns` coordinated again over these inputs.
    fn rerun(
        &self,
        runs: &Runs,
        answers: BTreeMap<u64, CoordDecision>,
        said: Said,
        towns: &BTreeSet<AreaId>,
    ) -> Result<Runs, ApiError> {
        let policy = self.policy(&answers, &said);
        let mut next = runs.towns.clone();
        for &t in towns {
            next.insert(t, Arc::new(self.run_town(t, &policy)?));
        }
        Ok(Runs {
            towns: next,
            answers,
            said,
            figures: Mutex::new(HashMap::new()),
        })
    }

    fn run_town(&self, town: AreaId, policy: &YearPolicy) -> Result<YearRun, CoordError> {
        let keep = |t: Target| self.town_of.get(&t) == Some(&town);
        run_year_of(&self.demo, keep, &self.rules, policy)
    }

    fn runs(&self) -> Arc<Runs> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn plan(&self, id: u64) -> Result<&Plan, ApiError> {
        self.demo
            .plans
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.demo.plans[i])
            .filter(|p| p.planned.year() == self.demo.config.year)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::UnknownPlan,
                    format!("no plan {id} in the demo year {}", self.demo.config.year),
                )
            })
    }

    fn scope(&self, area: &Option<String>) -> Result<Scope, ApiError> {
        match area.as_deref() {
            None => Ok(Scope::City),
            Some(a) => Ok(self.demo.sites.scope(a)?),
        }
    }

    fn in_scope(&self, scope: Scope, t: Target) -> bool {
        self.demo
            .sites
            .place_of(t)
            .is_some_and(|(town, district)| scope.holds(town, district))
    }

    /// The runs of the towns in `scope`.
    fn runs_in<'a>(&self, runs: &'a Runs, scope: Scope) -> Vec<&'a YearRun> {
        let sites = &self.demo.sites;
        runs.towns
            .iter()
            .filter(|(t, _)| {
                let district = sites.towns.iter().find(|x| x.id == **t).map(|x| x.district);
                district.is_some_and(|d| scope.holds(**t, d))
            })
            .map(|(_, r)| r.as_ref())
            .collect()
    }

    fn department(&self, d: Department) -> Value {
        json!({
            "code": d.code(),
            "kind": d.kind.code(),
            "district": d.district,
            "name": self.demo.sites.department_name(d),
        })
    }

    fn target(&self, t: Target) -> Value {
        let sites = &self.demo.sites;
        let place = sites.place_of(t);
        let mut v = match t {
            Target::Enterprise(id) => {
                let e = sites.enterprise(id);
                json!({
                    "kind": "enterprise",
                    "id": id,
                    "name": e.map(|e| e.name.as_str()),
                    "industry": e.map(|e| e.industry.as_str()),
                    "large": e.map(|e| e.large),
                })
            }
            Target::School(id) => {
                let s = sites.school(id);
                json!({
                    "kind": "school",
                    "id": id,
                    "name": s.map(|s| s.name.as_str()),
                    "school_kind": s.map(|s| s.kind),
                    "students": s.map(|s| s.students),
                })
            }
        };
        if let Some((town, district)) = place {
            v["town"] = json!({ "id": town, "name": sites.area_name(town) });
            v["district"] = json!({ "id": district, "name": sites.area_name(district) });
        }
        if let Some(p) = self.points.get(&t) {
            v["lon"] = json!(p[0]);
            v["lat"] = json!(p[1]);
        }
        v
    }

    fn suggestion<'a>(&self, runs: &'a Runs, plan: &Plan) -> Option<(&'a YearRun, &'a Suggestion)> {
        let town = self.town_of.get(&plan.target)?;
        let run = runs.towns.get(town)?;
        let i = run
            .suggestions
            .binary_search_by_key(&plan.id, |s| s.plan)
            .ok()?;
        Some((run.as_ref(), &run.suggestions[i]))
    }

    fn plan_doc(&self, runs: &Runs, p: &Plan) -> Value {
        let found = self.suggestion(runs, p);
        let suggestion = found.map(|(_, s)| {
            json!({
                "action": s.action.code(),
                "visit": s.visit,
                "date": s.date,
                "reason": { "code": s.reason.code.code(), "text": s.reason.text },
                "duplicates": s.duplicates,
                "accompanied": s.accompanied,
            })
        });
        let accepted = found.and_then(|(run, s)| {
            run.decisions
                .binary_search_by_key(&s.plan, |d| d.plan)
                .ok()
                .map(|i| run.decisions[i].accept)
        });
        let decision = accepted.map(|accept| match runs.answers.get(&p.id) {
            Some(a) => json!({
                "accept": accept,
                "source": "department",
                "by": a.by,
                "department": a.department,
                "at": a.at,
            }),
            None => json!({ "accept": accept, "source": "demo" }),
        });
        json!({
            "id": p.id,
            "department": self.department(p.department),
            "target": self.target(p.target),
            "window": { "start": p.window.start, "end": p.window.end },
            "planned": p.planned,
            "subjects": p.subjects.iter().map(|s| json!({
                "code": s.subject.code(),
                "mandatory": s.mandatory,
            })).collect::<Vec<_>>(),
            "risk": p.risk.code(),
            "urgent": p.urgent,
            "accompanied": p.accompanied,
            "suggestion": suggestion,
            "decision": decision,
        })
    }

    fn visit_doc(&self, v: &Visit, with_target: bool) -> Value {
        let (purpose, event) = match v.purpose {
            Purpose::Inspection => ("inspection", None),
            Purpose::Guidance => ("guidance", None),
            Purpose::Event(e) => ("event", Some(e.code())),
        };
        let mut doc = json!({
            "id": v.id,
            "date": v.date,
            "mode": v.mode.code(),
            "purpose": purpose,
            "event": event,
            "plans": v.plans,
            "departments": v.departments.iter().map(|d| self.department(*d)).collect::<Vec<_>>(),
            "lead": v.lead.map(|d| d.code()),
            "subjects": v.subjects.iter().map(|s| json!({
                "code": s.subject.code(),
                "mandatory": s.mandatory,
            })).collect::<Vec<_>>(),
            "urgent": v.urgent,
            "accompanied": v.accompanied,
            "requests": v.requests,
        });
        if with_target {
            doc["target"] = self.target(v.target);
        }
        doc
    }
}

/// An id in a path: digits, else 400 `bad_number`.
fn path_id(path: Result<Path<String>, PathRejection>, what: &str) -> Result<u64, ApiError> {
    let Path(text) = path.map_err(path_error)?;
    text.trim().parse::<u64>().map_err(|_| {
        ApiError::new(
            ErrorCode::BadNumber,
            format!(
                "invalid {what} id '{}': expected a positive integer",
                text.chars().take(40).collect::<String>()
            ),
        )
    })
}

fn number<T: std::str::FromStr>(name: &str, text: &Option<String>) -> Result<Option<T>, ApiError> {
    text.as_deref()
        .map(|t| {
            t.parse::<T>().map_err(|_| {
                ApiError::new(
                    ErrorCode::BadNumber,
                    format!(
                        "invalid {name} '{}': expected a whole number",
                        t.chars().take(40).collect::<String>()
                    ),
                )
            })
        })
        .transpose()
}

/// `limit` (1..=`max`, default `default`) and `offset`.
fn page(
    limit: &Option<String>,
    offset: &Option<String>,
    default: usize,
) -> Result<(usize, usize), ApiError> {
    let limit = number::<usize>("limit", limit)?.unwrap_or(default);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidLimit,
            format!("invalid limit {limit}: expected 1 to {MAX_PAGE}; page on with offset"),
        ));
    }
    Ok((limit, number::<usize>("offset", offset)?.unwrap_or(0)))
}

fn month(text: &Option<String>) -> Result<Option<u32>, ApiError> {
    let m = number::<u32>("month", text)?;
    if let Some(m) = m.filter(|m| !(1..=12).contains(m)) {
        return Err(ApiError::new(
            ErrorCode::UnknownValue,
            format!("invalid month {m}: expected 1 to 12"),
        ));
    }
    Ok(m)
}

/// A page of `rows`, with the total and where the next page starts.
fn paged(total: usize, offset: usize, limit: usize, rows: Vec<Value>) -> Value {
    let next = (offset.saturating_add(limit) < total).then(|| offset + limit);
    json!({ "total": total, "offset": offset, "limit": limit, "next_offset": next, "rows": rows })
}

/// `/api/coord/plans`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlansParams {
    /// `city` (default), a district or town id, or its Chinese name.
    pub area: Option<String>,
    /// Only plans planned in this month of the demo year, 1..=12.
    #[param(value_type = Option<u32>)]
    pub month: Option<String>,
    /// Only this suggestion: keep, merge, online, reschedule or cancel.
    pub action: Option<String>,
    /// Only this department's plans (its code, `350304.market`, or its name).
    pub department: Option<String>,
    /// Only plans whose suggestion was `accepted` or `refused`.
    pub decision: Option<String>,
    /// Rows in a page, 1..=10000 (default 100).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Rows to skip (default 0; `next_offset` of the page before).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

/// A scope's plans of the demo year, by planned day, each with the
/// coordinator's suggestion (merge, online, reschedule, cancel or keep), its
/// reason, and the department's answer (the demo's own, or one given here).
#[utoipa::path(get, path = "/api/coord/plans", tag = "coordination", params(PlansParams),
    responses((status = 200, description = "{year, scope, total, offset, limit, next_offset, rows: [plan]}", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody),
        (status = 404, description = "No such district or town", body = ErrorBody),
        (status = 422, description = "A value out of range or unknown", body = ErrorBody),
        (status = 503, description = "No coordination on this server (a city without towns)", body = ErrorBody),
        Overloaded))]
pub async fn plans(State(state): State<AppState>, Params(p): Params<PlansParams>) -> ApiResult {
    let base = state.coord.base(&state).await?;
    let scope = base.scope(&p.area)?;
    let (limit, offset) = page(&p.limit, &p.offset, 100)?;
    let month = month(&p.month)?;
    let action = p.action.as_deref().map(str::parse::<Action>).transpose()?;
    let decision = match p.decision.as_deref() {
        None => None,
        Some("accepted") => Some(true),
        Some("refused") => Some(false),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::UnknownValue,
                format!(
                    "unknown decision '{}' (expected one of: accepted, refused)",
                    other.chars().take(40).collect::<String>()
                ),
            ))
        }
    };
    let department = p.department.clone();
    crate::answer::query(&state, move |_| {
        let runs = base.runs();
        let mut total = 0;
        let mut rows = Vec::new();
        for &i in &base.order {
            let plan = &base.demo.plans[i];
            if month.is_some_and(|m| plan.planned.month() != m)
                || department.as_deref().is_some_and(|d| {
                    plan.department.code() != d
                        && base.demo.sites.department_name(plan.department) != d
                })
                || !base.in_scope(scope, plan.target)
            {
                continue;
            }
            if action.is_some() || decision.is_some() {
                let found = base.suggestion(&runs, plan);
                if action.is_some_and(|a| found.is_none_or(|(_, s)| s.action != a)) {
                    continue;
                }
                if let Some(want) = decision {
                    let got = found.and_then(|(run, s)| {
                        run.decisions
                            .binary_search_by_key(&s.plan, |d| d.plan)
                            .ok()
                            .map(|i| run.decisions[i].accept)
                    });
                    if got != Some(want) {
                        continue;
                    }
                }
            }
            if total >= offset && rows.len() < limit {
                rows.push(base.plan_doc(&runs, plan));
            }
            total += 1;
        }
        let mut doc = paged(total, offset, limit, rows);
        doc["year"] = json!(base.demo.config.year);
        doc["scope"] = json!(scope);
        doc["scope_name"] = json!(base.demo.sites.scope_name(scope));
        Ok(Json(js_safe(doc)))
    })
    .await
}

/// One plan, with its suggestion, reason and answer.
#[utoipa::path(get, path = "/api/coord/plans/{id}", tag = "coordination",
    params(("id" = u64, Path, description = "The plan's id")),
    responses((status = 200, description = "The plan", content_type = "application/json", body = Object),
        (status = 400, description = "The id does not parse", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(path, "plan")?;
    let base = state.coord.base(&state).await?;
    let plan = base.plan(id)?;
    Ok(Json(js_safe(base.plan_doc(&base.runs(), plan))))
}

/// A department's answer to a suggestion.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `true`: the suggestion is taken; `false`: the plan goes ahead as
    /// planned (an on-site visit of its own on its planned day).
    pub accept: bool,
}

/// A department accepts or refuses the suggestion for one of its own
/// plans. Needs a `department` account whose scope names the plan's
/// department (`department:荔城区市场监督管理局` or `department:350304.market`);
/// with a session cookie, `X-CSRF-Token` too. The answer is kept in the
/// store, the plan's town is coordinated again, and the answer holds the
/// plan and its enterprise's or school's calendar as they now are.
#[utoipa::path(post, path = "/api/coord/plans/{id}/decision", tag = "coordination",
    params(("id" = u64, Path, description = "The plan's id")),
    request_body(content = DecisionBody, description = "{\"accept\": true | false}"),
    responses((status = 200, description = "{plan, calendar}: the plan with its answer, and its target's visits", content_type = "application/json", body = Object),
        (status = 400, description = "The id or the body does not parse", body = ErrorBody),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "Not the department of the plan, or a session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such plan", body = ErrorBody),
        (status = 409, description = "nothing_to_decide: the suggestion is to keep the plan", body = ErrorBody),
        (status = 415, description = "The body is not declared JSON", body = ErrorBody),
        (status = 422, description = "The body is JSON of the wrong shape", body = ErrorBody),
        (status = 503, description = "The store cannot be reached (nothing was kept), the server keeps no changes, or it has no coordination", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> ApiResult {
    let id = path_id(path, "plan")?;
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let base = state.coord.base(&state).await?;
    let plan = base.plan(id)?.clone();
    let dept_name = base.demo.sites.department_name(plan.department);
    let own = who.role == Role::Department
        && matches!(&who.scope, ActorScope::Department(d)
            if *d == dept_name || *d == plan.department.code());
    if !own {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "plan {id} is {dept_name}'s ({}): only that department (role department, scope department:{dept_name}) answers its suggestion",
                plan.department.code()
            ),
        ));
    }
    let Json(body) = body?;
    let _turn = state.coord.writes.lock().await;
    let runs = base.runs();
    match base.suggestion(&runs, &plan) {
        Some((_, s)) if s.action != Action::Keep => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::NothingToDecide,
                format!("plan {id} is kept as planned: there is no suggestion to accept or refuse"),
            ))
        }
    }
    let answer = CoordDecision {
        year: base.demo.config.year,
        plan: id,
        accept: body.accept,
        department: plan.department.code(),
        account: who.account.clone(),
        by: who.name.clone(),
        at: onemap_core::time::now(),
    };
    state.live.put_coord_decision(answer).await?;
    drop(_turn);
    let next = state.coord.sync(&state, &base).await?;
    let town = *base
        .town_of
        .get(&plan.target)
        .ok_or_else(|| ApiError::internal(format!("plan {id}'s target is in no town")))?;
    let calendar = next
        .towns
        .get(&town)
        .map(|r| {
            r.visits
                .iter()
                .filter(|v| v.target == plan.target)
                .map(|v| base.visit_doc(v, false))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Ok(Json(js_safe(json!({
        "plan": base.plan_doc(&next, &plan),
        "calendar": calendar,
    }))))
}

/// `/api/coord/sites`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SitesParams {
    /// `city` (default), a district or town id, or its Chinese name.
    pub area: Option<String>,
    /// Rows in a page, 1..=10000 (default 2000).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Features to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

/// The scope's enterprises and schools as GeoJSON points, each with its
/// plans in the year counted by suggestion, its main suggestion (the most
/// frequent one that is not "keep"), and on-site visits before and after.
#[utoipa::path(get, path = "/api/coord/sites", tag = "coordination", params(SitesParams),
    responses((status = 200, description = "A GeoJSON FeatureCollection (with total, offset, next_offset)", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody),
        (status = 404, description = "No such district or town", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody),
        Overloaded))]
pub async fn sites(State(state): State<AppState>, Params(p): Params<SitesParams>) -> ApiResult {
    let base = state.coord.base(&state).await?;
    let scope = base.scope(&p.area)?;
    let (limit, offset) = page(&p.limit, &p.offset, 2000)?;
    crate::answer::query(&state, move |_| {
        let runs = base.runs();
        let year = base.demo.config.year;
        let mut onsite: HashMap<Target, u64> = HashMap::new();
        for run in base.runs_in(&runs, scope) {
            for v in &run.visits {
                if v.on_site() && v.date.year() == year {
                    *onsite.entry(v.target).or_default() += 1;
                }
            }
        }
        let sites = &base.demo.sites;
        let targets = sites
            .enterprises
            .iter()
            .filter(|e| scope.holds(e.town, e.district))
            .map(|e| Target::Enterprise(e.id))
            .chain(
                sites
                    .schools
                    .iter()
                    .filter(|s| scope.holds(s.town, s.district))
                    .map(|s| Target::School(s.id)),
            );
        let mut total = 0;
        let mut features = Vec::new();
        for t in targets {
            total += 1;
            if total <= offset || features.len() >= limit {
                continue;
            }
            let plans = base.by_target.get(&t).map_or(&[][..], Vec::as_slice);
            let mut actions: BTreeMap<&str, u64> =
                Action::ALL.iter().map(|a| (a.code(), 0)).collect();
            for &i in plans {
                if let Some((_, s)) = base.suggestion(&runs, &base.demo.plans[i]) {
                    *actions.entry(s.action.code()).or_default() += 1;
                }
            }
            let main = actions
                .iter()
                .filter(|(a, n)| **a != "keep" && **n > 0)
                .max_by_key(|(a, n)| (**n, std::cmp::Reverse(**a)))
                .map(|(a, _)| *a)
                .or((!plans.is_empty()).then_some("keep"));
            let mut props = base.target(t);
            let coords = base.points.get(&t).copied();
            if let Some(o) = props.as_object_mut() {
                o.remove("lon");
                o.remove("lat");
            }
            props["plans"] = json!(plans.len());
            props["actions"] = json!(actions);
            props["main"] = json!(main);
            props["onsite_before"] = json!(plans.len());
            props["onsite_after"] = json!(onsite.get(&t).copied().unwrap_or(0));
            features.push(json!({
                "type": "Feature",
                "id": format!("{}:{}", props["kind"].as_str().unwrap_or(""), match t {
                    Target::Enterprise(id) | Target::School(id) => id,
                }),
                "geometry": coords.map(|c| json!({ "type": "Point", "coordinates": c })),
                "properties": props,
            }));
        }
        let next = (offset.saturating_add(limit) < total).then(|| offset + limit);
        Ok(Json(js_safe(json!({
            "type": "FeatureCollection",
            "features": features,
            "total": total,
            "offset": offset,
            "next_offset": next,
            "year": year,
            "scope": scope,
            "scope_name": sites.scope_name(scope),
        }))))
    })
    .await
}

/// `/api/coord/calendar`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    /// `city` (default), a district or town id, or its Chinese name.
    pub area: Option<String>,
    /// The month of the demo year, 1..=12 (required).
    #[param(value_type = u32)]
    pub month: Option<String>,
    /// Rows in a page, 1..=10000 (default 1000).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

/// The visits of a month in a scope after coordination, by day: each with
/// its mode (on site or online), departments, subjects, the plans it
/// carries out, and its enterprise or school.
#[utoipa::path(get, path = "/api/coord/calendar", tag = "coordination", params(CalendarParams),
    responses((status = 200, description = "{year, month, total, offset, limit, next_offset, rows: [visit]}", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse, or no month", body = ErrorBody),
        (status = 404, description = "No such district or town", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody),
        Overloaded))]
pub async fn calendar(
    State(state): State<AppState>,
    Params(p): Params<CalendarParams>,
) -> ApiResult {
    let base = state.coord.base(&state).await?;
    let scope = base.scope(&p.area)?;
    let (limit, offset) = page(&p.limit, &p.offset, 1000)?;
    let month = month(&p.month)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingParameter,
            "missing month: the calendar is of one month, 1 to 12",
        )
    })?;
    crate::answer::query(&state, move |_| {
        let runs = base.runs();
        let year = base.demo.config.year;
        let mut visits: Vec<&Visit> = base
            .runs_in(&runs, scope)
            .into_iter()
            .flat_map(|r| &r.visits)
            .filter(|v| v.date.year() == year && v.date.month() == month)
            .filter(|v| base.in_scope(scope, v.target))
            .collect();
        visits.sort_by_key(|v| (v.date, v.target, v.id));
        let total = visits.len();
        let rows = visits
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|v| base.visit_doc(v, true))
            .collect();
        let mut doc = paged(total, offset, limit, rows);
        doc["year"] = json!(year);
        doc["month"] = json!(month);
        doc["scope"] = json!(scope);
        Ok(Json(js_safe(doc)))
    })
    .await
}

/// `/api/coord/figures`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiguresParams {
    /// `city` (default), a district or town id, or its Chinese name.
    pub area: Option<String>,
}

/// Before and after coordination, per month of the demo year and for the
/// year: on-site inspections of enterprises (and of large ones), those the
/// town accompanied, visits per school per month, departments entering
/// schools, suggestions by action, refusals, pushes and self-checks.
#[utoipa::path(get, path = "/api/coord/figures", tag = "coordination", params(FiguresParams),
    responses((status = 200, description = "The scope's figures (onemap_coord::Figures)", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody),
        (status = 404, description = "No such district or town", body = ErrorBody),
        (status = 422, description = "Neither a district nor a town", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody),
        Overloaded))]
pub async fn figures(State(state): State<AppState>, Params(p): Params<FiguresParams>) -> ApiResult {
    Ok(Json(figures_value(&state, p.area).await?))
}

/// The figures of a scope (the city, a district or a town: its id or
/// Chinese name), made once per scope and answers.
pub(crate) async fn figures_value(
    state: &AppState,
    area: Option<String>,
) -> Result<Value, ApiError> {
    let base = state.coord.base(state).await?;
    let scope = base.scope(&area)?;
    let runs = base.runs();
    if let Some(v) = lock(&runs.figures).get(&scope) {
        return Ok(Value::clone(v));
    }
    crate::answer::query(state, move |_| {
        let f = figures_of(&base.demo, &base.runs_in(&runs, scope), scope);
        let doc = serde_json::to_value(&f)
            .map(js_safe)
            .map_err(|e| ApiError::internal(format!("cannot serialize the figures: {e}")))?;
        lock(&runs.figures).insert(scope, Arc::new(doc.clone()));
        Ok(doc)
    })
    .await
}

/// An enterprise's or a school's file: its plans with their suggestions,
/// its calendar, what each inspection checked and found, and the problems
/// pushed to it (with its self-check) or from it.
/// With the enterprise's, the school's or its town's account (`who`), its
/// requests and its own word on what was pushed to it too.
pub(crate) async fn file_value(
    state: &AppState,
    who: Option<&Actor>,
    target: Target,
) -> Result<Value, ApiError> {
    let base = state.coord.base(state).await?;
    let Some(&town) = base.town_of.get(&target) else {
        let (kind, id) = match target {
            Target::Enterprise(id) => ("enterprise", id),
            Target::School(id) => ("school", id),
        };
        return Err(ApiError::new(
            ErrorCode::UnknownSite,
            format!("no {kind} {id} in the city's coordination"),
        ));
    };
    let runs = base.runs();
    let run = runs.towns.get(&town).cloned();
    let sites = &base.demo.sites;
    let plans: Vec<Value> = base
        .by_target
        .get(&target)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|&i| base.plan_doc(&runs, &base.demo.plans[i]))
        .collect();
    let (mut calendar, mut inspections, mut received, mut sent) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if let Some(run) = &run {
        calendar = run
            .visits
            .iter()
            .filter(|v| v.target == target)
            .map(|v| base.visit_doc(v, false))
            .collect();
        inspections = run
            .records
            .iter()
            .filter(|r| r.target == target)
            .map(|r| {
                json!({
                    "id": r.id,
                    "date": r.date,
                    "department": base.department(r.department),
                    "subject": r.subject.code(),
                    "online": r.online,
                    "finding": r.finding.as_ref().map(|f| json!({
                        "subject": f.subject.code(), "code": f.code, "text": f.text,
                    })),
                })
            })
            .collect();
        if let Target::Enterprise(id) = target {
            for p in &run.pushes.pushes {
                let finding = json!({
                    "subject": p.finding.subject.code(), "code": p.finding.code, "text": p.finding.text,
                });
                if p.source == id {
                    let [pending, checked, rectified] = p.counts();
                    sent.push(json!({
                        "id": p.id,
                        "date": p.date,
                        "finding": finding,
                        "industry": p.industry,
                        "level": p.level.code(),
                        "reached": p.checks.len(),
                        "pending": pending,
                        "self_checked": checked,
                        "rectified": rectified,
                    }));
                } else if let Some(c) = p.checks.iter().find(|c| c.enterprise == id) {
                    let mine = who.and_then(acts::own_target) == Some(target);
                    received.push(json!({
                        "id": p.id,
                        "key": p.key(),
                        "date": p.date,
                        "note": if mine { c.note.as_deref() } else { None },
                        "stated": c.note.is_some(),
                        "finding": finding,
                        "from": {
                            "id": p.source,
                            "name": sites.enterprise(p.source).map(|e| e.name.as_str()),
                        },
                        "status": c.status.code(),
                        "updated": c.updated,
                    }));
                }
            }
        }
    }
    let mut doc = json!({
        "year": base.demo.config.year,
        "site": base.target(target),
        "plans": plans,
        "calendar": calendar,
        "inspections": inspections,
        "pushes": { "received": received, "sent": sent },
    });
    if let Some(extras) = acts::file_extras(&base, &runs, who, target) {
        doc["requests"] = extras["requests"].clone();
        doc["mine"] = extras["mine"].clone();
    }
    Ok(js_safe(doc))
}

/// An enterprise's file.
#[utoipa::path(get, path = "/api/coord/enterprises/{id}", tag = "coordination",
    params(("id" = u64, Path, description = "The enterprise's id (as in the enterprises layer)")),
    responses((status = 200, description = "{year, site, plans, calendar, inspections, pushes: {received, sent}}; with the enterprise's own or its town's account also {requests, mine}", content_type = "application/json", body = Object),
        (status = 401, description = "A credential that is not valid", body = ErrorBody),
        (status = 400, description = "The id does not parse", body = ErrorBody),
        (status = 404, description = "No such enterprise", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody)))]
pub async fn enterprise(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(path, "enterprise")?;
    let who = crate::auth::optional_actor(&state, &headers).await?;
    Ok(Json(
        file_value(&state, who.as_ref(), Target::Enterprise(id)).await?,
    ))
}

/// A school's file.
#[utoipa::path(get, path = "/api/coord/schools/{id}", tag = "coordination",
    params(("id" = u64, Path, description = "The school's id (as in the schools layer)")),
    responses((status = 200, description = "{year, site, plans, calendar, inspections, pushes}; with the school's own or its town's account also {requests, mine}", content_type = "application/json", body = Object),
        (status = 401, description = "A credential that is not valid", body = ErrorBody),
        (status = 400, description = "The id does not parse", body = ErrorBody),
        (status = 404, description = "No such school", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody)))]
pub async fn school(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(path, "school")?;
    let who = crate::auth::optional_actor(&state, &headers).await?;
    Ok(Json(
        file_value(&state, who.as_ref(), Target::School(id)).await?,
    ))
}
