//! What enterprises and schools do themselves on the coordination (issue
//! 17), and what their town reads of it: a request (an enterprise asks for
//! guidance or an inspection, or to postpone a visit; a school asks a
//! department to its event, or to postpone), an enterprise's self-check of
//! a problem pushed to it, the requests of a scope, the pushes of a scope
//! with their self-checks counted, and one push with each enterprise's
//! self-check.
//!
//! Every change is kept in the store first (`Live`), then the year is read
//! again from the store and the changed town coordinated again
//! ([`super::Coord::sync`]), so a request feeds the coordinator the way the
//! demo's own requests do.

use super::{lock, page, paged, push_source, Base, Runs};
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
    Date, Department, Plan, PostponeReason, Push, Request, RequestKind, SchoolEvent, Scope,
    SelfCheckStatus, Subject, Target, Window,
};
use onemap_core::workflow::{Actor, Scope as ActorScope};
use onemap_core::{AreaId, Level, Role};
use onemap_store::{CoordRequest, CoordSelfCheck, MAX_NOTE_CHARS};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa::IntoParams;

type ApiResult = Result<Json<Value>, ApiError>;

/// The enterprise or school an account acts for, if it is one.
pub(super) fn own_target(who: &Actor) -> Option<Target> {
    match (who.role, &who.scope) {
        (Role::Enterprise, ActorScope::Enterprise(id)) => Some(Target::Enterprise(*id)),
        (Role::School, ActorScope::School(id)) => Some(Target::School(*id)),
        _ => None,
    }
}

fn target_name(t: Target) -> String {
    match t {
        Target::Enterprise(id) => format!("enterprise {id}"),
        Target::School(id) => format!("school {id}"),
    }
}

/// Whether an area scope covers a town.
fn area_covers(area: AreaId, town: AreaId) -> bool {
    area.level()
        .and_then(|l| town.ancestor_at(l))
        .is_some_and(|x| x == area)
}

/// Whether `who` may read what `target` (in `town`) asked or said: the
/// enterprise or school itself, an account whose area holds its town (a
/// town office, a viewer), a city-wide viewer, or — for a request naming
/// it — a department.
fn may_see(
    base: &Base,
    who: &Actor,
    target: Target,
    town: AreaId,
    dept: Option<Department>,
) -> bool {
    match (&who.role, &who.scope) {
        (Role::ShipFeed, _) => false,
        (_, ActorScope::Enterprise(_) | ActorScope::School(_)) => own_target(who) == Some(target),
        (_, ActorScope::City) => true,
        (_, ActorScope::Area(a)) => area_covers(*a, town),
        (_, ActorScope::Department(d)) => dept
            .is_some_and(|dept| *d == dept.code() || *d == base.demo.sites.department_name(dept)),
    }
}

/// A note: what the enterprise or school says, 1 to 500 characters.
fn note(text: &str) -> Result<String, ApiError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptyReason,
            "say why, in a few words (note: 1 to 500 characters)",
        ));
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::new(
            ErrorCode::TooLong,
            format!("the note is longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(t.to_string())
}

fn date_in_year(base: &Base, name: &str, text: &Option<String>) -> Result<Date, ApiError> {
    let text = text.as_deref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingParameter,
            format!("missing {name}: a day YYYY-MM-DD of the demo year"),
        )
    })?;
    let d: Date = text.parse()?;
    let year = base.demo.config.year;
    if d.year() != year {
        return Err(ApiError::new(
            ErrorCode::OutsideYear,
            format!("{name} {d} is outside the demo year {year}"),
        ));
    }
    Ok(d)
}

fn required<'a>(name: &str, v: &'a Option<String>, what: &str) -> Result<&'a str, ApiError> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingParameter,
                format!("missing {name}: {what}"),
            )
        })
}

/// What an enterprise or a school asks of the coordination center.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// `postpone` (an enterprise or a school), `guidance` or `inspection`
    /// (an enterprise), `event` (a school).
    #[serde(rename = "type")]
    pub kind: String,
    /// postpone: one of the asker's plans (the visit that carries it is
    /// postponed).
    pub plan: Option<u64>,
    /// postpone: `relocation`, `overhaul` or `exams`.
    pub reason: Option<String>,
    /// postpone: the first day the visit may be (YYYY-MM-DD, after the
    /// visit's day, in the demo year).
    pub until: Option<String>,
    /// guidance, inspection: the subject (`fire_safety` …); event: the
    /// subject of the department asked (default: the event's own).
    pub subject: Option<String>,
    /// guidance, inspection: from this day (YYYY-MM-DD, in the demo year)…
    pub start: Option<String>,
    /// …to this one (default: 29 days later, within the year).
    pub end: Option<String>,
    /// event: `science_day` or `safety_drill`.
    pub event: Option<String>,
    /// event: its day (YYYY-MM-DD, in the demo year).
    pub date: Option<String>,
    /// Why, in the asker's words: 1 to 500 characters.
    #[serde(default)]
    pub note: String,
}

/// The request a body makes for `target`, with its dedupe key.
fn read_request(
    base: &Base,
    runs: &Runs,
    target: Target,
    b: &RequestBody,
) -> Result<(RequestKind, String), ApiError> {
    let sites = &base.demo.sites;
    let district = sites
        .place_of(target)
        .map(|(_, d)| d)
        .ok_or_else(|| ApiError::internal("the asker is in no district"))?;
    let year_end = Date::from_ymd(base.demo.config.year, 12, 31)?;
    let kind = b.kind.trim();
    match (kind, target) {
        ("postpone", _) => {
            let id = b.plan.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MissingParameter,
                    "missing plan: the id of the plan whose visit is postponed",
                )
            })?;
            let plan: &Plan = base.plan(id)?;
            if plan.target != target {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!("plan {id} is not {}'s", target_name(target)),
                ));
            }
            asked_before(runs, target, &format!("postpone:plan:{id}"))?;
            let reason: PostponeReason =
                required("reason", &b.reason, "relocation, overhaul or exams")?.parse()?;
            let until = date_in_year(base, "until", &b.until)?;
            let Some((_, s)) = base.suggestion(runs, plan) else {
                return Err(ApiError::internal(format!("plan {id} has no suggestion")));
            };
            let on_site_day = match (s.date, s.visit) {
                _ if plan.urgent => None,
                (Some(d), Some(v)) => runs
                    .towns
                    .values()
                    .flat_map(|r| r.visits.iter())
                    .find(|x| x.id == v && x.target == target && x.on_site())
                    .map(|_| d),
                _ => None,
            };
            let Some(day) = on_site_day else {
                return Err(ApiError::new(
                    ErrorCode::NothingToPostpone,
                    format!(
                        "plan {id} has no on-site visit to postpone (it is {}{})",
                        s.action.code(),
                        if plan.urgent { ", urgent" } else { "" }
                    ),
                ));
            };
            if until <= day {
                return Err(ApiError::new(
                    ErrorCode::OutsideYear,
                    format!("until {until} is not after the visit's day {day}"),
                ));
            }
            // No on-site visit from the plan's first possible day to the
            // wished one: the visit moves on, never earlier.
            let start = plan.window.start.min(day);
            Ok((
                RequestKind::Postpone {
                    window: Window::new(start, until.plus(-1))?,
                    reason,
                },
                format!("postpone:plan:{id}"),
            ))
        }
        ("guidance" | "inspection", Target::Enterprise(_)) => {
            let subject: Subject = required("subject", &b.subject, "the subject's code")?.parse()?;
            if subject.is_publicity() || Subject::SCHOOL_INSPECTIONS[2..].contains(&subject) {
                return Err(ApiError::new(
                    ErrorCode::UnknownValue,
                    format!("{subject} is not a subject an enterprise is inspected on"),
                ));
            }
            let start = date_in_year(base, "start", &b.start)?;
            let end = match &b.end {
                None => start.plus(29).min(year_end),
                some => date_in_year(base, "end", some)?,
            };
            if end < start {
                return Err(ApiError::new(
                    ErrorCode::InvalidWindow,
                    format!("end {end} is before start {start}"),
                ));
            }
            let department = Department {
                district,
                kind: subject.department(),
            };
            let window = Window::new(start, end)?;
            let k = if kind == "guidance" {
                RequestKind::Guidance {
                    department,
                    subject,
                    window,
                }
            } else {
                RequestKind::Inspection {
                    department,
                    subject,
                    window,
                }
            };
            Ok((k, format!("{kind}:{subject}")))
        }
        ("event", Target::School(_)) => {
            let event: SchoolEvent =
                required("event", &b.event, "science_day or safety_drill")?.parse()?;
            let date = date_in_year(base, "date", &b.date)?;
            let subject = match &b.subject {
                Some(s) => s.parse()?,
                None => match event {
                    SchoolEvent::ScienceDay => Subject::ScienceOutreach,
                    SchoolEvent::SafetyDrill => Subject::FireEducation,
                },
            };
            if !subject.is_publicity() {
                return Err(ApiError::new(
                    ErrorCode::UnknownValue,
                    format!("{subject} is not a subject a department brings to a school's event"),
                ));
            }
            Ok((
                RequestKind::Event {
                    event,
                    department: Department {
                        district,
                        kind: subject.department(),
                    },
                    subject,
                    date,
                },
                format!("event:{event}:{date}"),
            ))
        }
        ("guidance" | "inspection" | "event", _) => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "a {} does not ask for {kind}: an enterprise asks for guidance or an inspection, a school for an event; both may postpone",
                if target.is_school() { "school" } else { "enterprise" }
            ),
        )),
        (other, _) => Err(ApiError::new(
            ErrorCode::UnknownValue,
            format!(
                "unknown request type '{}' (expected one of: postpone, guidance, inspection, event)",
                other.chars().take(40).collect::<String>()
            ),
        )),
    }
}

/// 409 when `target` asked the same (`key`) before (the store checks it
/// again as it keeps the request).
fn asked_before(runs: &Runs, target: Target, key: &str) -> Result<(), ApiError> {
    let found = runs
        .said
        .requests
        .values()
        .find(|(row, r)| r.target == target && row.dedupe == key);
    match found {
        Some((row, _)) => Err(ApiError::new(
            ErrorCode::DuplicateRequest,
            format!(
                "{} asked this before (request #{}); it stands until the year is over",
                target_name(target),
                row.id
            ),
        )),
        None => Ok(()),
    }
}

/// A request as answered: what was asked, and what became of it.
fn request_doc(base: &Base, runs: &Runs, row: &CoordRequest, r: &Request) -> Value {
    let mut detail = serde_json::to_value(&r.kind).unwrap_or(Value::Null);
    if let Some(d) = r.department() {
        detail["department"] = base.department(d);
    }
    let mut doc = json!({
        "id": row.id,
        "type": row.kind,
        "target": base.target(r.target),
        "detail": detail,
        "note": row.note,
        "by": row.by,
        "at": row.at,
    });
    match &r.kind {
        RequestKind::Postpone { .. } => {
            let plans: Vec<Value> = base
                .by_target
                .get(&r.target)
                .into_iter()
                .flatten()
                .map(|&i| &base.demo.plans[i])
                .filter_map(|p| base.suggestion(runs, p).map(|(_, s)| (p, s)))
                .filter(|(_, s)| s.reason.text.contains(&format!("申请#{}", row.id)))
                .map(|(p, s)| {
                    json!({
                        "id": p.id, "planned": p.planned, "action": s.action.code(),
                        "date": s.date, "reason": { "code": s.reason.code.code(), "text": s.reason.text },
                    })
                })
                .collect();
            doc["plans"] = json!(plans);
        }
        _ => {
            let visit = base
                .town_of
                .get(&r.target)
                .and_then(|t| runs.towns.get(t))
                .and_then(|run| run.visits.iter().find(|v| v.requests.contains(&row.id)));
            doc["visit"] = visit.map_or(
                Value::Null,
                |v| json!({ "id": v.id, "date": v.date, "mode": v.mode.code() }),
            );
        }
    }
    doc
}

/// An enterprise or a school asks the coordination center: to postpone the
/// on-site visit that carries one of its plans (with a reason and the
/// first day it may be), for guidance or an inspection on a subject within
/// some days (an enterprise), or for a department at its event (a school).
/// Needs an `enterprise` or `school` account (scope `enterprise:ID` or
/// `school:ID`); with a session cookie, `X-CSRF-Token` too. The request is
/// kept, the asker's town coordinated again with it (a postponed plan's
/// suggestion becomes a reschedule, or a merge after the postponement,
/// whose reason names the request), and the answer holds the request and
/// the asker's calendar.
#[utoipa::path(post, path = "/api/coord/requests", tag = "coordination",
    request_body(content = RequestBody, description = "{\"type\": \"postpone\", \"plan\": 12, \"reason\": \"relocation\", \"until\": \"2023-06-01\", \"note\": \"…\"}"),
    responses((status = 200, description = "{request, calendar}: the request with what became of it, and the asker's visits", content_type = "application/json", body = Object),
        (status = 400, description = "The body does not parse, or lacks a field its type needs", body = ErrorBody),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "Not an enterprise's or a school's account, not its plan, a request it does not make, or a session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such plan, or the asker is not in the coordination", body = ErrorBody),
        (status = 409, description = "duplicate_request: asked before; nothing_to_postpone: no on-site visit to postpone", body = ErrorBody),
        (status = 413, description = "The body is larger than 8 KiB", body = ErrorBody),
        (status = 415, description = "The body is not declared JSON", body = ErrorBody),
        (status = 422, description = "A value out of its list, a day outside the demo year, an empty or too long note", body = ErrorBody),
        (status = 503, description = "The store cannot be reached (nothing was kept), the server keeps no changes, or it has no coordination", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<RequestBody>, JsonRejection>,
) -> ApiResult {
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let target = own_target(&who).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "only an enterprise or a school asks the coordination center (role enterprise or school); this account is a {}",
                who.role
            ),
        )
    })?;
    let base = state.coord.base(&state).await?;
    let town = *base.town_of.get(&target).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownSite,
            format!("no {} in the city's coordination", target_name(target)),
        )
    })?;
    let Json(body) = body?;
    let runs = base.runs();
    let (kind, dedupe) = read_request(&base, &runs, target, &body)?;
    asked_before(&runs, target, &dedupe)?;
    let note = note(&body.note)?;
    let first = base.first_request_id();
    Request {
        id: first,
        target,
        kind: kind.clone(),
    }
    .check()?;
    let (target_kind, target_id) = match target {
        Target::Enterprise(id) => ("enterprise", id),
        Target::School(id) => ("school", id),
    };
    // The store gives the id (the next of the year, after the demo's
    // requests); the detail is the request as the coordinator reads it,
    // which takes the row's id when read back.
    let detail = serde_json::to_string(&Request {
        id: 0,
        target,
        kind,
    })
    .map_err(|e| ApiError::internal(format!("cannot write a request: {e}")))?;
    let row = CoordRequest {
        year: base.demo.config.year,
        id: 0,
        target_kind: target_kind.into(),
        target: target_id,
        town: town.get(),
        kind: body.kind.trim().to_string(),
        dedupe,
        detail,
        note,
        account: who.account.clone(),
        by: who.name.clone(),
        at: onemap_core::time::now(),
    };
    let kept = state.live.add_coord_request(first, row).await?;
    let next = state.coord.sync(&state, &base).await?;
    let stored = next.said.requests.get(&kept.id);
    let request = match stored {
        Some((row, r)) => request_doc(&base, &next, row, r),
        None => json!({ "id": kept.id }),
    };
    let calendar = calendar_of(&base, &next, target);
    Ok(Json(js_safe(
        json!({ "request": request, "calendar": calendar }),
    )))
}

fn calendar_of(base: &Base, runs: &Runs, target: Target) -> Vec<Value> {
    base.town_of
        .get(&target)
        .and_then(|t| runs.towns.get(t))
        .map(|r| {
            r.visits
                .iter()
                .filter(|v| v.target == target)
                .map(|v| base.visit_doc(v, false))
                .collect()
        })
        .unwrap_or_default()
}

/// `/api/coord/requests`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsParams {
    /// A district or town id, or its Chinese name (default: all the
    /// account may read).
    pub area: Option<String>,
    /// Rows in a page, 1..=10000 (default 100).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

/// The requests enterprises and schools made (newest first), each with
/// what became of it: the plans a postponement moved (action, day,
/// reason), or the visit that serves a guidance, inspection or event.
/// Needs an account: an enterprise or a school reads its own, a town
/// office its town's, a viewer its area's (or the city's), a department
/// those naming it.
#[utoipa::path(get, path = "/api/coord/requests", tag = "coordination", params(RequestsParams),
    responses((status = 200, description = "{year, total, offset, limit, next_offset, rows: [request]}", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "A ship feed, or an area the account does not cover", body = ErrorBody),
        (status = 404, description = "No such district or town", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody),
        (status = 503, description = "No coordination on this server, or it keeps no changes", body = ErrorBody)))]
pub async fn requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(p): Params<RequestsParams>,
) -> ApiResult {
    let who = crate::auth::read_actor(&state, &headers).await?;
    if who.role == Role::ShipFeed || who.role == Role::UnitLeader {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "a {}'s account does not read the coordination's requests",
                who.role
            ),
        ));
    }
    let base = state.coord.base(&state).await?;
    let scope = match p.area.as_deref() {
        None => Scope::City,
        Some(_) => base.scope(&p.area)?,
    };
    if let (ActorScope::Area(a), Scope::District(x) | Scope::Town(x)) = (&who.scope, scope) {
        let inside = area_covers(*a, x) || area_covers(x, *a) && a.level() == Some(Level::Town);
        if !inside {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("area {x} is outside this account's scope ({})", who.scope),
            ));
        }
    }
    let (limit, offset) = page(&p.limit, &p.offset, 100)?;
    let runs = base.runs();
    let mut rows: Vec<&(CoordRequest, Request)> = runs
        .said
        .requests
        .values()
        .filter(|(row, r)| {
            let Some(town) = AreaId::new(row.town).ok() else {
                return false;
            };
            base.in_scope(scope, r.target)
                && may_see(&base, &who, r.target, town, request_dept(&base, r))
        })
        .collect();
    rows.sort_by_key(|(row, _)| std::cmp::Reverse((row.at, row.id)));
    let total = rows.len();
    let docs = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(row, r)| request_doc(&base, &runs, row, r))
        .collect();
    let mut doc = paged(total, offset, limit, docs);
    doc["year"] = json!(base.demo.config.year);
    Ok(Json(js_safe(doc)))
}

/// The department a request names (a postponement: none).
fn request_dept(base: &Base, r: &Request) -> Option<Department> {
    match &r.kind {
        RequestKind::Postpone { .. } => None,
        _ => r
            .department()
            .filter(|_| base.town_of.contains_key(&r.target)),
    }
}

/// A push with its self-checks counted.
fn push_doc(base: &Base, p: &Push) -> Value {
    let [pending, checked, rectified] = p.counts();
    let sites = &base.demo.sites;
    json!({
        "key": p.key(),
        "date": p.date,
        "finding": { "subject": p.finding.subject.code(), "code": p.finding.code, "text": p.finding.text },
        "source": { "id": p.source, "name": sites.enterprise(p.source).map(|e| e.name.as_str()) },
        "industry": p.industry,
        "area": { "id": p.area, "name": sites.area_name(p.area), "level": p.level.code() },
        "reached": p.checks.len(),
        "pending": pending,
        "self_checked": checked,
        "rectified": rectified,
        "stated": p.checks.iter().filter(|c| c.note.is_some()).count(),
        "notice": p.notice(sites),
    })
}

/// `/api/coord/pushes`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushesParams {
    /// `city` (default), a district or town id, or its Chinese name.
    pub area: Option<String>,
    /// Rows in a page, 1..=10000 (default 100).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

/// The problems pushed in a scope in the demo year (查一次纠一片), newest
/// first, each with its enterprises' self-checks counted: pending (not
/// started), self-checked (in progress), rectified (done); `stated` of
/// them said so themselves.
#[utoipa::path(get, path = "/api/coord/pushes", tag = "coordination", params(PushesParams),
    responses((status = 200, description = "{year, total, offset, limit, next_offset, counts, rows: [push]}", content_type = "application/json", body = Object),
        (status = 400, description = "Text that does not parse", body = ErrorBody),
        (status = 404, description = "No such district or town", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody),
        Overloaded))]
pub async fn pushes(State(state): State<AppState>, Params(p): Params<PushesParams>) -> ApiResult {
    let base = state.coord.base(&state).await?;
    let scope = base.scope(&p.area)?;
    let (limit, offset) = page(&p.limit, &p.offset, 100)?;
    crate::answer::query(&state, move |_| {
        let runs = base.runs();
        let mut all: Vec<&Push> = base
            .runs_in(&runs, scope)
            .into_iter()
            .flat_map(|r| &r.pushes.pushes)
            .collect();
        all.sort_by_key(|p| std::cmp::Reverse((p.date, p.source, p.finding.code.clone())));
        let mut counts = [0usize; 3];
        for p in &all {
            for (c, n) in counts.iter_mut().zip(p.counts()) {
                *c += n;
            }
        }
        let total = all.len();
        let rows = all
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|p| push_doc(&base, p))
            .collect();
        let mut doc = paged(total, offset, limit, rows);
        doc["year"] = json!(base.demo.config.year);
        doc["counts"] =
            json!({ "pending": counts[0], "self_checked": counts[1], "rectified": counts[2] });
        Ok(Json(js_safe(doc)))
    })
    .await
}

/// The push a key names, in the current runs.
fn find_push<'a>(base: &Base, runs: &'a Runs, key: &str) -> Result<&'a Push, ApiError> {
    let unknown = || {
        ApiError::new(
            ErrorCode::UnknownPush,
            format!(
                "no problem pushed as '{}' in the demo year",
                key.chars().take(80).collect::<String>()
            ),
        )
    };
    let source = push_source(key).ok_or_else(unknown)?;
    let town = base
        .town_of
        .get(&Target::Enterprise(source))
        .ok_or_else(unknown)?;
    runs.towns
        .get(town)
        .and_then(|r| r.pushes.pushes.iter().find(|p| p.key() == key))
        .ok_or_else(unknown)
}

fn path_key(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(key) = path.map_err(path_error)?;
    Ok(key)
}

/// One pushed problem with each enterprise's self-check (its status and
/// day; its note for the enterprise itself and for accounts whose area
/// holds the town).
#[utoipa::path(get, path = "/api/coord/pushes/{key}", tag = "coordination",
    params(("key" = String, Path, description = "The push's key (`1234-2023-03-14-exit_blocked`)")),
    responses((status = 200, description = "The push, with checks: [{enterprise, status, updated, note?}]", content_type = "application/json", body = Object),
        (status = 401, description = "A credential that is not valid", body = ErrorBody),
        (status = 404, description = "No such push", body = ErrorBody),
        (status = 503, description = "No coordination on this server", body = ErrorBody)))]
pub async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let key = path_key(path)?;
    let who = crate::auth::optional_actor(&state, &headers).await?;
    let base = state.coord.base(&state).await?;
    let runs = base.runs();
    let p = find_push(&base, &runs, &key)?;
    let town = base.town_of.get(&Target::Enterprise(p.source)).copied();
    let sites = &base.demo.sites;
    let checks: Vec<Value> = p
        .checks
        .iter()
        .map(|c| {
            let t = Target::Enterprise(c.enterprise);
            let mut v = json!({
                "enterprise": { "id": c.enterprise, "name": sites.enterprise(c.enterprise).map(|e| e.name.as_str()) },
                "status": c.status.code(),
                "updated": c.updated,
                "stated": c.note.is_some(),
            });
            let sees = who.as_ref().zip(town).is_some_and(|(w, town)| {
                w.role != Role::Department && may_see(&base, w, t, town, None)
            });
            if sees {
                if let Some(n) = &c.note {
                    v["note"] = json!(n);
                }
                if let Some(s) = runs.said.checks.get(&(key.clone(), c.enterprise)) {
                    v["by"] = json!(s.by);
                }
            }
            v
        })
        .collect();
    let mut doc = push_doc(&base, p);
    doc["checks"] = json!(checks);
    Ok(Json(js_safe(doc)))
}

/// An enterprise's self-check of a problem pushed to it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfCheckBody {
    /// `pending` (not started), `self_checked` (in progress: checked,
    /// rectifying) or `rectified` (done): the current one again, or the next.
    pub status: String,
    /// What it checked and did: 1 to 500 characters.
    #[serde(default)]
    pub note: String,
}

/// An enterprise records its self-check of a problem pushed to it: forward
/// one step at a time (not started → in progress → done), or the same
/// status with a new note. Needs the `enterprise` account of one of the
/// enterprises pushed to; with a session cookie, `X-CSRF-Token` too.
#[utoipa::path(post, path = "/api/coord/pushes/{key}/self-check", tag = "coordination",
    params(("key" = String, Path, description = "The push's key")),
    request_body(content = SelfCheckBody, description = "{\"status\": \"self_checked\", \"note\": \"…\"}"),
    responses((status = 200, description = "The push with its counts, and this enterprise's check", content_type = "application/json", body = Object),
        (status = 400, description = "The body does not parse", body = ErrorBody),
        (status = 401, description = "No valid bearer token or session", body = ErrorBody),
        (status = 403, description = "Not an enterprise's account, not pushed to it, or a session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such push", body = ErrorBody),
        (status = 409, description = "bad_self_check: back, or more than one step on", body = ErrorBody),
        (status = 413, description = "The body is larger than 8 KiB", body = ErrorBody),
        (status = 415, description = "The body is not declared JSON", body = ErrorBody),
        (status = 422, description = "An unknown status, an empty or too long note", body = ErrorBody),
        (status = 503, description = "The store cannot be reached (nothing was kept), the server keeps no changes, or it has no coordination", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn self_check(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<SelfCheckBody>, JsonRejection>,
) -> ApiResult {
    let key = path_key(path)?;
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let Some(Target::Enterprise(me)) = own_target(&who) else {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "only an enterprise pushed to records its self-check (role enterprise); this account is a {}",
                who.role
            ),
        ));
    };
    let base = state.coord.base(&state).await?;
    let Json(body) = body?;
    let to: SelfCheckStatus = body.status.parse()?;
    let note = note(&body.note)?;
    let town;
    {
        let _turn = state.coord.writes.lock().await;
        let runs = base.runs();
        let p = find_push(&base, &runs, &key)?;
        let Some(c) = p.check_of(me) else {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("problem {key} was not pushed to enterprise {me}"),
            ));
        };
        if !Push::may_step(c.status, to) {
            return Err(ApiError::new(
                ErrorCode::BadSelfCheck,
                format!(
                    "a self-check goes one step forward (pending → self_checked → rectified); this one is {}, not {to}",
                    c.status.code()
                ),
            ));
        }
        town = *base
            .town_of
            .get(&Target::Enterprise(me))
            .ok_or_else(|| ApiError::internal("the enterprise is in no town"))?;
        state
            .live
            .put_coord_self_check(CoordSelfCheck {
                year: base.demo.config.year,
                push: key.clone(),
                enterprise: me,
                town: town.get(),
                status: to.code().into(),
                note,
                account: who.account.clone(),
                by: who.name.clone(),
                at: onemap_core::time::now(),
            })
            .await?;
    }
    let next: Arc<Runs> = state.coord.sync(&state, &base).await?;
    let _ = town;
    let p = find_push(&base, &next, &key)?;
    let mut doc = push_doc(&base, p);
    doc["check"] = p.check_of(me).map_or(
        Value::Null,
        |c| json!({ "status": c.status.code(), "updated": c.updated, "note": c.note }),
    );
    lock(&next.figures).clear();
    Ok(Json(js_safe(doc)))
}

/// What an enterprise's or a school's file adds for those who may see it:
/// its requests, and its notes on the problems pushed to it.
pub(super) fn file_extras(
    base: &Base,
    runs: &Runs,
    who: Option<&Actor>,
    target: Target,
) -> Option<Value> {
    let who = who?;
    let town = *base.town_of.get(&target)?;
    if !may_see(base, who, target, town, None) || who.role == Role::Department {
        return None;
    }
    let mut reqs: Vec<&(CoordRequest, Request)> = runs
        .said
        .requests
        .values()
        .filter(|(_, r)| r.target == target)
        .collect();
    reqs.sort_by_key(|(row, _)| std::cmp::Reverse((row.at, row.id)));
    Some(json!({
        "requests": reqs.into_iter().map(|(row, r)| request_doc(base, runs, row, r)).collect::<Vec<_>>(),
        "mine": own_target(who) == Some(target),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_covers_its_towns_only() {
        let town = AreaId::new(350_304_003).unwrap();
        assert!(area_covers(town, town));
        assert!(area_covers(AreaId::new(350_304).unwrap(), town));
        assert!(!area_covers(AreaId::new(350_303).unwrap(), town));
        assert!(!area_covers(AreaId::new(350_304_004).unwrap(), town));
    }

    #[test]
    fn notes_are_said_and_bounded() {
        assert_eq!(note("  搬迁  ").unwrap(), "搬迁");
        assert_eq!(note(" ").unwrap_err().code, ErrorCode::EmptyReason);
        assert_eq!(
            note(&"字".repeat(MAX_NOTE_CHARS + 1)).unwrap_err().code,
            ErrorCode::TooLong
        );
    }
}
