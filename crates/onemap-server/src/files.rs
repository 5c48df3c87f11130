//! Area files (一镇一档、一村一档、一企一档) over HTTP: one JSON document per
//! area, enterprise and school (`onemap_files` makes it from the current
//! snapshot and the ledgers); this module parses, checks who asks, adds
//! the coordination it keeps (a town's or district's before/after figures,
//! an enterprise's or school's inspections) and answers.
//!
//! Who may read: a file holds the ledgers' counts and leaders, so it needs
//! a signed-in account (as the one table does) whose scope covers the area
//! (a department's and a city-wide account's cover the city); leaders'
//! phones are in the clear only for unit leaders and town offices, masked
//! for everyone else, as in the one table.

use crate::error::{path_error, ApiError, ErrorCode};
use crate::openapi::{ErrorBody, Overloaded};
use crate::params::Params;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use onemap_core::workflow::{Actor, Scope};
use onemap_core::{AreaId, Level};
use onemap_files::{FileRequest, FilesError, Month, SiteKind};
use onemap_ledger::Access;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

impl From<FilesError> for ApiError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::UnknownArea(_) => ApiError::new(ErrorCode::UnknownArea, e.to_string()),
            FilesError::UnknownSite { .. } => ApiError::new(ErrorCode::UnknownSite, e.to_string()),
            FilesError::Index(i) => i.into(),
            FilesError::Ledger(l) => l.into(),
        }
    }
}

/// `/api/files/…`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileParams {
    /// The last month of the figures over time, `YYYY-MM` (default: this
    /// month, China time); the file covers the 12 months ending with it.
    pub until: Option<String>,
}

impl FileParams {
    fn until(&self, now: i64) -> Result<Month, ApiError> {
        match self.until.as_deref() {
            None => Ok(Month::of(now)),
            Some(t) => t.parse::<Month>().map_err(|e| {
                let code = if t.trim().len() == 7 && t.trim().as_bytes()[4] == b'-' {
                    ErrorCode::UnknownValue
                } else {
                    ErrorCode::BadTime
                };
                ApiError::new(code, e)
            }),
        }
    }
}

/// Whether an account's scope covers an area (or a site in this unit).
fn covers(actor: &Actor, id: AreaId) -> bool {
    match &actor.scope {
        Scope::City | Scope::Department(_) => true,
        Scope::Area(s) => s.level().and_then(|l| id.ancestor_at(l)) == Some(*s),
        // An enterprise's or a school's account reads its file on /coord.
        Scope::Enterprise(_) | Scope::School(_) => false,
    }
}

/// The reader and what it may see: a signed-in account (not a ship feed);
/// personal fields as the one table shows them.
async fn reader(state: &AppState, headers: &HeaderMap) -> Result<(Actor, Access), ApiError> {
    let actor = crate::auth::read_actor(state, headers).await?;
    let (_, access) = crate::table::access_of(&actor)?;
    Ok((actor, access))
}

fn request(access: Access, until: Month, state: &AppState) -> FileRequest {
    let now = onemap_core::time::now();
    FileRequest {
        access,
        until,
        now,
        cutoffs: state.deadlines.cutoffs(now),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(format!("cannot serialize a file: {e}")))
}

/// What the coordination adds to a file, or null when this server has
/// none (a city without towns, or started without it).
fn optional(r: Result<Value, ApiError>) -> Result<Value, ApiError> {
    match r {
        Ok(v) => Ok(v),
        Err(e) if matches!(e.code, ErrorCode::NoCoordination | ErrorCode::UnknownSite) => {
            Ok(Value::Null)
        }
        Err(e) => Err(e),
    }
}

/// An area's file: the area with its parents and children (each with its
/// figures), its leaders (the cadres ledger), events per month for 12
/// months (reported and closed, by category) and now (open, overdue), the
/// ledgers' counts (people, care group and its tags, houses, dangerous
/// houses, cadres, projects), heritage points and idle homesteads with sums
/// by level and status, enterprises and schools, and for a town or a
/// district the coordination's before/after figures.
#[utoipa::path(get, path = "/api/files/area/{id}", tag = "files",
    params(("id" = String, Path, description = "An area id: 6 (district), 9 (town), 12 (village), 15 (grid) or 18 (unit) digits"), FileParams),
    responses((status = 200, description = "{area: {id, level, name, parents, bbox, leader, child_level}, children: [{area, leader, reported, closed, open, overdue, people, care, houses, heritage, homesteads, enterprises, schools}], leaders: [{post, name, phone, party, area}] | null, events: {months: [{month, start, end, reported, closed, by_category}], reported, closed, reported_by_category, closed_by_category, now: {at, total, open, closed, overdue, closure_rate, open_by_status}}, ledgers: {people, care, tags, houses, dangerous_houses, cadres, projects} | null, heritage: {total, by_level, rows}, homesteads: {total, area_m2, by_status: [{status, count, area_m2}], rows}, enterprises: {total, large, rows}, schools: {total, students, rows}, coord: figures | null, access: {personal}}; every list at most 500 rows, its total whole", content_type = "application/json", body = Object),
        (status = 400, description = "An id that is not an area id; until that is not YYYY-MM", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An area outside the account's, or a ship feed", body = ErrorBody),
        (status = 404, description = "No such area", body = ErrorBody),
        (status = 422, description = "A month that does not exist", body = ErrorBody),
        Overloaded),
    security(("bearer" = [])))]
pub async fn area(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Params(p): Params<FileParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(text) = path.map_err(path_error)?;
    let id = crate::params::parse_area_id(text.trim())?;
    let until = p.until(onemap_core::time::now())?;
    let (actor, access) = reader(&state, &headers).await?;
    if state.city().areas().get(id).is_none() {
        return Err(ApiError::new(
            ErrorCode::UnknownArea,
            format!("no area {id} in this city"),
        ));
    }
    if !covers(&actor, id) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("area {id} is outside your area {}", actor.scope),
        ));
    }
    let coord = match id.level() {
        Some(Level::Town | Level::District) => {
            optional(crate::coord::figures_value(&state, Some(id.to_string())).await)?
        }
        _ => Value::Null,
    };
    let mut doc = crate::answer::query(&state, move |s| {
        let req = request(access, until, s);
        let file = onemap_files::area_file(&s.city(), s.ledgers.as_deref(), id, &req)?;
        to_value(&file)
    })
    .await?;
    doc["coord"] = coord;
    doc["until"] = json!(until.to_string());
    doc["access"] = json!({ "personal": access.personal });
    Ok(crate::table::private(Json(crate::answer::js_safe(doc))))
}

async fn site(
    state: AppState,
    kind: SiteKind,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(text) = path.map_err(path_error)?;
    let id = text.trim().parse::<u64>().map_err(|_| {
        ApiError::new(
            ErrorCode::BadNumber,
            format!(
                "invalid {} id '{}': expected a positive integer",
                kind.key(),
                text.chars().take(40).collect::<String>()
            ),
        )
    })?;
    let (actor, access) = reader(&state, &headers).await?;
    let file = crate::answer::query(&state, move |s| {
        let req = request(access, Month::of(onemap_core::time::now()), s);
        Ok(onemap_files::site_file(&s.city(), kind, id, &req)?)
    })
    .await?;
    let unit = file.location.as_ref().map(|l| l.unit.id);
    if !matches!(actor.scope, Scope::City | Scope::Department(_))
        && !unit.is_some_and(|u| covers(&actor, u))
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{} {id} is outside your area {}", kind.key(), actor.scope),
        ));
    }
    let target = match kind {
        SiteKind::Enterprise => onemap_coord::Target::Enterprise(id),
        SiteKind::School => onemap_coord::Target::School(id),
    };
    let coord = optional(crate::coord::file_value(&state, Some(&actor), target).await)?;
    let mut doc = to_value(&file)?;
    doc["coord"] = coord;
    doc["access"] = json!({ "personal": access.personal });
    Ok(crate::table::private(Json(crate::answer::js_safe(doc))))
}

/// An enterprise's file: its properties, position and areas, the events
/// reported nearest to it (at most 20 within 500 m), and its coordination
/// file (plans, visits, inspections and findings, pushed problems).
#[utoipa::path(get, path = "/api/files/enterprise/{id}", tag = "files",
    params(("id" = u64, Path, description = "The enterprise's id (as in the enterprises layer)")),
    responses((status = 200, description = "{kind, id, name, lon, lat, properties, location: {unit, grid, village, town, district}, nearby: [{id, distance_m, category, status, reported_at, lon, lat}], nearby_radius_m, coord: {year, site, plans, calendar, inspections, pushes} | null, access}", content_type = "application/json", body = Object),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An enterprise outside the account's area, or a ship feed", body = ErrorBody),
        (status = 404, description = "No such enterprise", body = ErrorBody),
        Overloaded),
    security(("bearer" = [])))]
pub async fn enterprise(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    site(state, SiteKind::Enterprise, path, headers).await
}

/// A school's file: as an enterprise's.
#[utoipa::path(get, path = "/api/files/school/{id}", tag = "files",
    params(("id" = u64, Path, description = "The school's id (as in the schools layer)")),
    responses((status = 200, description = "{kind, id, name, lon, lat, properties, location, nearby, nearby_radius_m, coord, access}", content_type = "application/json", body = Object),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A school outside the account's area, or a ship feed", body = ErrorBody),
        (status = 404, description = "No such school", body = ErrorBody),
        Overloaded),
    security(("bearer" = [])))]
pub async fn school(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    site(state, SiteKind::School, path, headers).await
}
