//! The problem, development and task lists (问题清单、发展清单、任务清单)
//! over HTTP: a page of items, one item with its history and its events,
//! creating one (by form, or from a hot spot in one step), and changing
//! one (status, owner, due date, note). Each handler parses, calls the live
//! core (`Live::list_*`), and answers; who may do what is decided there
//! (`onemap_core::lists`).
//!
//! Every route needs an account (a bearer token, or a session cookie and,
//! for changes, its `X-CSRF-Token`). Area codes are strings in answers.

use crate::answer::js_safe;
use crate::error::{path_error, ApiError, ErrorCode};
use crate::openapi::{ErrorBody, WriteErrors};
use crate::params::Params;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::lists::{
    is_overdue, ItemUpdate, ListChange, ListFilter, ListItem, NewItem, Owner,
};
use onemap_core::{parse_list, AreaId, Layer, ListKind, ListStatus};
use onemap_index::{PlaceKey, Properties};
use onemap_live::{HotspotExtras, HotspotSpec, HOTSPOT_MIN};
use onemap_store::MAX_LIST_PAGE;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

/// Rows in a page unless asked.
const DEFAULT_PAGE: usize = 100;
/// Linked events summarised in one item's answer (all ids are listed).
const MAX_SUMMARIES: usize = 100;

fn bad_number(name: &str, t: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BadNumber,
        format!(
            "parameter '{name}' must be a whole number, got '{}'",
            t.chars().take(40).collect::<String>()
        ),
    )
}

fn no_store() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

/// An item as a row of a list (the area file page reads these).
pub(crate) fn row(state: &AppState, i: &ListItem, today: &str) -> Value {
    json!({
        "id": i.id,
        "kind": i.kind,
        "area": i.area.to_string(),
        "area_name": state.live.area_name(i.area),
        "title": i.title,
        "category": i.category,
        "owner": { "kind": i.owner.kind, "name": i.owner.name },
        "status": i.status,
        "due": i.due,
        "overdue": is_overdue(i, today),
        "events": i.events,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
    })
}

/// An item with its detail, history and its events' summaries.
fn item_doc(state: &AppState, i: &ListItem, history: &[ListChange]) -> Value {
    let today = onemap_live::today();
    let mut doc = row(state, i, &today);
    doc["detail"] = json!(i.detail);
    doc["created_by"] = json!(i.created_by);
    doc["hotspot"] = json!(i.hotspot);
    doc["history"] = json!(history);
    let city = state.live.city();
    let summaries: Vec<Value> = i
        .events
        .iter()
        .rev()
        .take(MAX_SUMMARIES)
        .filter_map(|id| city.feature(Layer::Events, *id))
        .map(|f| {
            let (category, status, reported_at) = match f.properties {
                Properties::Event {
                    category,
                    status,
                    reported_at,
                    ..
                } => (Some(category), Some(status), Some(reported_at)),
                _ => (None, None, None),
            };
            json!({
                "id": f.id,
                "category": category,
                "status": status,
                "reported_at": reported_at,
                "unit": f.unit.map(|u| u.to_string()),
                "lon": f.lon,
                "lat": f.lat,
            })
        })
        .collect();
    doc["event_summaries"] = json!(summaries);
    js_safe(doc)
}

/// `/api/lists`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListsParams {
    /// Items at this area or under it (a district, town, village, grid or
    /// unit code); default: the account's own area (the city for a
    /// city-wide viewer). An area outside the account's scope is 403.
    pub area: Option<String>,
    /// Comma list of kinds: problem, development, task.
    pub kind: Option<String>,
    /// Comma list of statuses: open, in_progress, done.
    pub status: Option<String>,
    /// Only items whose owner (a department or a person) has this name.
    pub owner: Option<String>,
    /// `true`: only items not done whose due date has passed (China time);
    /// `false`: only the others.
    pub overdue: Option<String>,
    /// Rows in a page, 1..=500 (default 100).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Rows to skip (default 0; `next_offset` of the page before).
    #[param(value_type = Option<u32>)]
    pub offset: Option<String>,
}

impl ListsParams {
    fn filter(&self) -> Result<(ListFilter, usize, usize), ApiError> {
        let area = self.area.as_deref().map(str::parse::<AreaId>).transpose()?;
        let overdue = match self.overdue.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(o) => {
                return Err(ApiError::new(
                    ErrorCode::UnknownValue,
                    format!(
                        "overdue is true or false, not '{}'",
                        o.chars().take(40).collect::<String>()
                    ),
                ))
            }
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_PAGE,
            Some(t) => t.parse::<usize>().map_err(|_| bad_number("limit", t))?,
        };
        if !(1..=MAX_LIST_PAGE).contains(&limit) {
            return Err(ApiError::new(
                ErrorCode::InvalidLimit,
                format!(
                    "invalid limit {limit}: expected 1 to {MAX_LIST_PAGE}; page on with offset"
                ),
            ));
        }
        let offset = match self.offset.as_deref() {
            None => 0,
            Some(t) => t.parse::<usize>().map_err(|_| bad_number("offset", t))?,
        };
        let owner = self.owner.as_deref().map(str::trim).map(String::from);
        Ok((
            ListFilter {
                area,
                kinds: self
                    .kind
                    .as_deref()
                    .map(parse_list)
                    .transpose()?
                    .unwrap_or_default(),
                statuses: self
                    .status
                    .as_deref()
                    .map(parse_list)
                    .transpose()?
                    .unwrap_or_default(),
                owner,
                owner_kind: None,
                overdue,
                hotspot: None,
                today: onemap_live::today(),
            },
            offset,
            limit,
        ))
    }
}

/// A page of the lists, newest item first: `{total, offset, limit,
/// next_offset, rows: [{id, kind, area, area_name, title, category, owner:
/// {kind, name}, status, due, overdue, events, created_at, updated_at}]}`.
/// A department sees the items it owns; a ship feed none (403).
#[utoipa::path(get, path = "/api/lists", tag = "lists", params(ListsParams),
    responses((status = 200, description = "{total, offset, limit, next_offset, rows}", content_type = "application/json", body = Object),
        (status = 400, description = "An area or number that does not parse", body = ErrorBody),
        (status = 401, description = "No account (bearer token or session)", body = ErrorBody),
        (status = 403, description = "An area outside the account's scope, or a ship feed", body = ErrorBody),
        (status = 404, description = "No such area in the city", body = ErrorBody),
        (status = 422, description = "An unknown kind, status or overdue value, or a limit out of 1..=500", body = ErrorBody),
        (status = 503, description = "The server keeps no changes, or the store cannot be reached", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(p): Params<ListsParams>,
) -> Result<Response, ApiError> {
    let who = crate::auth::read_actor(&state, &headers).await?;
    let (f, offset, limit) = p.filter()?;
    let today = f.today.clone();
    let page = state.live.list_page(&who, f, offset, limit).await?;
    let rows: Vec<Value> = page.rows.iter().map(|i| row(&state, i, &today)).collect();
    let total = page.total as usize;
    let next = (offset.saturating_add(limit) < total).then(|| offset + limit);
    let doc = json!({ "total": total, "offset": offset, "limit": limit, "next_offset": next, "rows": rows });
    Ok((no_store(), Json(js_safe(doc))).into_response())
}

fn item_id(path: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let Path(raw) = path.map_err(path_error)?;
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad_number("id", &raw))
}

/// One item with its detail, its history (who, when, from → to, note) and
/// summaries of its latest linked events (category, status, when, where).
#[utoipa::path(get, path = "/api/lists/{id}", tag = "lists",
    params(("id" = u64, Path, description = "The item's id")),
    responses((status = 200, description = "The item with detail, created_by, hotspot, history and event_summaries", content_type = "application/json", body = Object),
        (status = 400, description = "The id does not parse", body = ErrorBody),
        (status = 401, description = "No account", body = ErrorBody),
        (status = 403, description = "The item is outside the account's scope", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 503, description = "The server keeps no changes, or the store cannot be reached", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_item(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = item_id(path)?;
    let who = crate::auth::read_actor(&state, &headers).await?;
    let (item, history) = state.live.list_item(&who, id).await?;
    Ok((no_store(), Json(item_doc(&state, &item, &history))).into_response())
}

/// An owner in a body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerBody {
    /// `department` or `person`.
    kind: String,
    /// The department's name (as its accounts' scope names it) or the
    /// person's display name, 1 to 100 characters.
    name: String,
}

impl OwnerBody {
    fn owner(&self) -> Result<Owner, ApiError> {
        Ok(Owner {
            kind: self.kind.parse()?,
            name: self.name.clone(),
        })
    }
}

/// An id given as a JSON number or a string (area codes).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Code {
    Number(u64),
    Text(String),
}

impl Code {
    fn area(&self) -> Result<AreaId, ApiError> {
        Ok(match self {
            Code::Number(n) => AreaId::new(*n)?,
            Code::Text(t) => t.parse()?,
        })
    }
}

/// The hot spot to make a problem item of: its events' category and its
/// place (a unit, or an H3 cell with its resolution), as `/api/hotspots`
/// gives them, and the window it was counted over.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromHotspot {
    category: String,
    /// The unit's 18-digit code (a string or a number).
    unit: Option<Code>,
    /// Or an H3 cell (hex) …
    cell: Option<String>,
    /// … at this resolution (11 or 12).
    resolution: Option<u8>,
    /// The window's start and end (as `/api/hotspots` takes them).
    from: Option<String>,
    to: Option<String>,
    /// The fewest events it must have (default 10).
    min_count: Option<u32>,
}

impl FromHotspot {
    fn spec(&self) -> Result<HotspotSpec, ApiError> {
        let place = match (&self.unit, &self.cell, self.resolution) {
            (Some(u), None, None) => PlaceKey::Unit { id: u.area()? },
            (None, Some(c), Some(r)) => PlaceKey::Cell {
                cell: c.trim().to_string(),
                resolution: r,
            },
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidBody,
                    "from_hotspot names a unit, or a cell with its resolution",
                ))
            }
        };
        Ok(HotspotSpec {
            category: self.category.parse()?,
            place,
            window: crate::params::window(&self.from, &self.to)?,
            min_count: self.min_count.unwrap_or(HOTSPOT_MIN),
        })
    }
}

/// A new item: by form (`kind`, `area`, `title`, `category`, `owner`, and
/// `due` but for development items), or from a hot spot (`from_hotspot`;
/// then the rest is optional and filled from it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// problem, development or task.
    kind: Option<String>,
    /// The area's code (a string or a number).
    area: Option<Code>,
    /// 1 to 200 characters.
    title: Option<String>,
    /// At most 2,000 characters.
    detail: Option<String>,
    /// drainage, sanitation, dispute, road, safety_hazard,
    /// illegal_building, public_order, other, industry, infrastructure,
    /// livelihood, environment, governance or culture.
    category: Option<String>,
    owner: Option<OwnerBody>,
    /// `YYYY-MM-DD`.
    due: Option<String>,
    /// Ids of events it stands for (at most 500).
    events: Option<Vec<u64>>,
    from_hotspot: Option<FromHotspot>,
}

fn missing(field: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidBody,
        format!("a new list item needs '{field}'"),
    )
}

/// Creates an item: a town office in its town, a unit leader in its
/// scope. With `from_hotspot`, a problem item at the hot spot's village,
/// titled by what keeps coming back, its events linked; a second item for
/// the same hot spot while the first is not done is 409 `hotspot_taken`.
#[utoipa::path(post, path = "/api/lists", tag = "lists", request_body = CreateBody,
    responses((status = 201, description = "The new item (as GET /api/lists/{id}; Location names it)", content_type = "application/json", body = Object),
        (status = 403, description = "Not a town office or unit leader over the area, or a session without X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such area", body = ErrorBody),
        (status = 409, description = "hotspot_taken: the hot spot has an item not done", body = ErrorBody),
        (status = 422, description = "A missing or refused value (invalid_body, invalid_list_item, unknown_value, not_a_hotspot)", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<CreateBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let b = crate::live::body(b)?;
    let item = match &b.from_hotspot {
        Some(h) => {
            if b.kind.as_deref().is_some_and(|k| k != "problem") || b.area.is_some() {
                return Err(ApiError::new(
                    ErrorCode::InvalidBody,
                    "an item from a hot spot is a problem at the hot spot's village: give no other kind or area",
                ));
            }
            let spec = h.spec()?;
            let extras = HotspotExtras {
                title: b.title.clone(),
                detail: b.detail.clone(),
                owner: b.owner.as_ref().map(OwnerBody::owner).transpose()?,
                due: b.due.clone(),
            };
            state.live.list_from_hotspot(&who, spec, extras).await?.0
        }
        None => {
            let new = NewItem {
                kind: b.kind.as_deref().ok_or_else(|| missing("kind"))?.parse()?,
                area: b.area.as_ref().ok_or_else(|| missing("area"))?.area()?,
                title: b.title.clone().ok_or_else(|| missing("title"))?,
                detail: b.detail.clone().unwrap_or_default(),
                category: b
                    .category
                    .as_deref()
                    .ok_or_else(|| missing("category"))?
                    .parse()?,
                owner: b.owner.as_ref().ok_or_else(|| missing("owner"))?.owner()?,
                due: b.due.clone(),
                events: b.events.clone().unwrap_or_default(),
                hotspot: None,
            };
            state.live.list_create(&who, new).await?
        }
    };
    let (item, history) = state.live.list_item(&who, item.id).await?;
    let mut res = (StatusCode::CREATED, Json(item_doc(&state, &item, &history))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/lists/{}", item.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// A change: any of a status move, an owner, a due date, a note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// open, in_progress or done (open → in_progress → done; done → open
    /// needs a note).
    status: Option<String>,
    owner: Option<OwnerBody>,
    /// `YYYY-MM-DD`; null clears it (development items only).
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    due: Option<Option<String>>,
    /// Kept in the history, at most 500 characters.
    note: Option<String>,
}

/// `"due": null` is `Some(None)`; no `due` at all is `None`.
fn some_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Changes an item: its status (a step, or reopening with a note), its
/// owner or due date (the town office or unit leader over its area), a
/// note; the owning department moves its status and adds notes. Each
/// change is kept in the item's history.
#[utoipa::path(post, path = "/api/lists/{id}", tag = "lists", request_body = UpdateBody,
    params(("id" = u64, Path, description = "The item's id")),
    responses((status = 200, description = "The item as it now is, with its history", content_type = "application/json", body = Object),
        (status = 403, description = "The account may not change this item", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 409, description = "illegal_move: the status move does not exist; hotspot_taken: reopening while the hot spot has another open item", body = ErrorBody),
        (status = 422, description = "A refused value, or nothing to change", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    b: Result<Json<UpdateBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let id = item_id(path)?;
    let who = crate::auth::bearer_actor(&state, &headers).await?;
    let b = crate::live::body(b)?;
    let u = ItemUpdate {
        status: b
            .status
            .as_deref()
            .map(str::parse::<ListStatus>)
            .transpose()?,
        owner: b.owner.as_ref().map(OwnerBody::owner).transpose()?,
        due: b.due,
        note: b.note,
    };
    let (item, history) = state.live.list_update(&who, id, u).await?;
    Ok((no_store(), Json(item_doc(&state, &item, &history))).into_response())
}

/// The lists' figures of an area for the wall: open problems, overdue
/// tasks, and all items not done (null when the store cannot say).
pub(crate) async fn figures(state: &AppState, area: Option<AreaId>) -> Value {
    let Ok(store) = state.live.store() else {
        return Value::Null;
    };
    let today = onemap_live::today();
    let count =
        |kinds: Vec<ListKind>, statuses: Vec<ListStatus>, overdue: Option<bool>| ListFilter {
            area,
            kinds,
            statuses,
            overdue,
            today: today.clone(),
            ..Default::default()
        };
    let open = vec![ListStatus::Open, ListStatus::InProgress];
    let problems = store
        .list_page(count(vec![ListKind::Problem], open.clone(), None), 0, 1)
        .await;
    let tasks = store
        .list_page(count(vec![ListKind::Task], vec![], Some(true)), 0, 1)
        .await;
    let all = store.list_page(count(vec![], open, None), 0, 1).await;
    match (problems, tasks, all) {
        (Ok(p), Ok(t), Ok(a)) => json!({
            "area": area.map(|a| a.to_string()),
            "open_problems": p.total,
            "overdue_tasks": t.total,
            "not_done": a.total,
        }),
        _ => Value::Null,
    }
}
