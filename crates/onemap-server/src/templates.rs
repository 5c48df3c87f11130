//! The one table's templates over HTTP: the standard ones every account
//! sees and the saved ones shared within an area (who sees and who deletes
//! is decided in `onemap_live::templates`); `template=ID` in `/api/table`
//! and `/api/table/download` stands for the template's ledger, fields and
//! filter.

use crate::answer::js_safe;
use crate::error::{path_error, ApiError, ErrorCode};
use crate::openapi::ErrorBody;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::workflow::Actor;
use onemap_core::AreaId;
use onemap_ledger::templates::{standard, STANDARD};
use onemap_ledger::Ledger;
use onemap_store::Template;
use serde::Deserialize;
use serde_json::{json, Value};

/// Parameters a template holds: the ledger's fields and filters. The area,
/// the language, the row limit and the format are chosen when it is used.
const CHOSEN_AT_USE: &[&str] = &["area", "lang", "limit", "format", "template", "ledger"];

/// A template's query text checked against its ledger and written again
/// in one form (`fields=…&tags=care`); 4xx if it does not parse or holds
/// what is chosen at use.
pub(crate) fn check_params(ledger: Ledger, params: &str) -> Result<String, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(params.trim().as_bytes())
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    if let Some((k, _)) = pairs
        .iter()
        .find(|(k, _)| CHOSEN_AT_USE.contains(&k.as_str()))
    {
        return Err(ApiError::new(
            ErrorCode::BadQuery,
            format!("a template holds fields and filters; '{k}' is chosen when it is used, not saved in it"),
        ));
    }
    let text = query_text(&pairs);
    // The same parser as a table's question, so a saved template always
    // makes a table.
    crate::table::parse_query(Some(&format!("ledger={}&{text}", ledger.key())), None)?;
    Ok(text)
}

/// Pairs as query text, each part escaped by [`escape`].
fn query_text(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Query text escaped so that it still reads as written (`fields=a,b`,
/// `safety=c|d`): only what would change its meaning or is not printable
/// ASCII is percent-encoded.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b','
            | b'|'
            | b':' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The question a table request stands for: with `template=ID`, the
/// template's ledger, fields and filter first, then the request's own
/// parameters (fields replace the template's, filters narrow it); without,
/// the request as it is. The template's id, if any, for the log.
pub(crate) async fn resolve(
    state: &AppState,
    actor: &Actor,
    raw: Option<&str>,
) -> Result<(String, Option<String>), ApiError> {
    let raw = raw.unwrap_or("");
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let Some(id) = pairs
        .iter()
        .find(|(k, _)| k == "template")
        .map(|(_, v)| v.trim().to_string())
    else {
        return Ok((raw.to_string(), None));
    };
    if pairs.iter().any(|(k, _)| k == "ledger") {
        return Err(ApiError::new(
            ErrorCode::BadQuery,
            "a template names its ledger: give template or ledger, not both",
        ));
    }
    let (ledger, params) = template_query(state, actor, &id).await?;
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "template").collect();
    let out = [
        format!("ledger={}", ledger.key()),
        params,
        query_text(&rest),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join("&");
    Ok((out, Some(id)))
}

/// The ledger and query text of template `id` (`std:…` or a saved one's
/// number) as `actor` sees it.
async fn template_query(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Ledger, String), ApiError> {
    if let Some(s) = standard(id) {
        return Ok((s.ledger, s.params.to_string()));
    }
    let n = saved_id(id)?;
    let t = state.live.template(actor, n).await?;
    let ledger = t.ledger.parse::<Ledger>().map_err(|e| {
        ApiError::internal(format!(
            "template {n} names a ledger this onemap lacks: {e}"
        ))
    })?;
    Ok((ledger, t.params))
}

fn saved_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadQuery,
            format!(
                "template is a standard template's id (std:care, …) or a saved one's number, got '{}'",
                id.chars().take(40).collect::<String>()
            ),
        )
    })
}

fn area_name(state: &AppState, area: Option<u64>) -> Option<String> {
    let id = AreaId::new(area?).ok()?;
    state.city().areas().get(id).map(|a| a.name.clone())
}

fn saved_doc(state: &AppState, actor: &Actor, t: &Template) -> Value {
    json!({
        "id": t.id.to_string(),
        "standard": false,
        "name": t.name,
        "ledger": t.ledger,
        "params": t.params,
        "area": t.area.map(|a| a.to_string()),
        "area_name": area_name(state, t.area),
        "author": t.author,
        "at": t.at,
        "deletable": onemap_live::templates::may_delete(actor, t),
    })
}

/// The templates this account sees: the standard ones first, then the
/// saved ones shared within its area, the levels above it and below it,
/// oldest first; `ledger` keeps one ledger's.
#[utoipa::path(get, path = "/api/table/templates", tag = "table",
    params(("ledger" = Option<String>, Query, description = "Only this ledger's templates")),
    responses((status = 200, description = "{templates: [{id, standard, name, en (standard ones), ledger, params, area, area_name, author, at, deletable}]}", content_type = "application/json", body = Object),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A ship feed's token", body = ErrorBody),
        (status = 422, description = "An unknown ledger", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = crate::auth::read_actor(&state, &headers).await?;
    crate::table::access_of(&actor)?;
    let mut only = None;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "ledger" => {
                only = Some(
                    v.trim()
                        .parse::<Ledger>()
                        .map_err(|e| ApiError::new(ErrorCode::UnknownValue, e))?,
                )
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::BadQuery,
                    format!("unknown parameter '{other}': ledger"),
                ))
            }
        }
    }
    let mut out: Vec<Value> = STANDARD
        .iter()
        .filter(|s| only.is_none_or(|l| l == s.ledger))
        .map(|s| {
            json!({
                "id": s.id, "standard": true, "name": s.zh, "en": s.en,
                "ledger": s.ledger.key(), "params": s.params, "deletable": false,
            })
        })
        .collect();
    for t in state.live.templates(&actor).await? {
        if only.is_none_or(|l| l.key() == t.ledger) {
            out.push(saved_doc(&state, &actor, &t));
        }
    }
    Ok(crate::table::private(Json(js_safe(
        json!({ "templates": out }),
    ))))
}

/// A template to save.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplateBody {
    /// 1 to 60 characters, unique within the area it is shared in.
    pub name: String,
    /// people, houses, cadres or projects.
    pub ledger: String,
    /// The fields and filter as query text: `fields=name,phone&tags=care`
    /// (what `/api/table` takes, without area, lang, limit, format).
    #[serde(default)]
    pub params: String,
    /// The area it is shared within: the account's own (the default) or a
    /// part of it; city-wide accounts may leave it out for the whole city.
    #[serde(default)]
    pub area: Option<String>,
}

/// Saves a template: a ledger, its fields and a filter under a name,
/// shared within an area (seen there, below and above). With a session
/// cookie, `X-CSRF-Token` too.
#[utoipa::path(post, path = "/api/table/templates", tag = "table",
    request_body(content = NewTemplateBody, description = "{name, ledger, params, area}"),
    responses((status = 201, description = "The template as saved", content_type = "application/json", body = Object),
        (status = 400, description = "A body or query text that does not parse; a parameter chosen at use", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An area outside the account's; a ship feed; a session without its X-CSRF-Token", body = ErrorBody),
        (status = 409, description = "template_exists: the area has a template of this name", body = ErrorBody),
        (status = 413, description = "A body over 8 KiB", body = ErrorBody),
        (status = 422, description = "An unknown ledger, field or value; a bad name; too many templates", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<NewTemplateBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let actor = crate::auth::bearer_actor(&state, &headers).await?;
    crate::table::access_of(&actor)?;
    let Json(body) = body?;
    let ledger = body
        .ledger
        .trim()
        .parse::<Ledger>()
        .map_err(|e| ApiError::new(ErrorCode::UnknownValue, e))?;
    let params = check_params(ledger, &body.params)?;
    let area = match body
        .area
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        None | Some("city") => None,
        Some(a) => {
            let id = a
                .parse::<u64>()
                .ok()
                .and_then(|n| AreaId::new(n).ok())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidAreaId,
                        format!(
                            "area is an area id of 6, 9, 12, 15 or 18 digits, got '{}'",
                            a.chars().take(40).collect::<String>()
                        ),
                    )
                })?;
            if state.city().areas().get(id).is_none() {
                return Err(ApiError::new(
                    ErrorCode::UnknownArea,
                    format!("no area {id} in this city"),
                ));
            }
            Some(id)
        }
    };
    let t = state
        .live
        .save_template(&actor, &body.name, ledger.key(), &params, area)
        .await?;
    Ok((
        StatusCode::CREATED,
        crate::table::private(Json(js_safe(saved_doc(&state, &actor, &t)))),
    )
        .into_response())
}

/// Deletes a saved template: the account that saved it, or the office of
/// a town that holds its area. With a session cookie, `X-CSRF-Token` too.
#[utoipa::path(delete, path = "/api/table/templates/{id}", tag = "table",
    params(("id" = u64, Path, description = "A saved template's number")),
    responses((status = 200, description = "{deleted: the template as it was}", content_type = "application/json", body = Object),
        (status = 400, description = "An id that is not a number (standard templates are not deleted)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not the author nor the town's office; a session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such template that the account sees", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(id) = path.map_err(path_error)?;
    let actor = crate::auth::bearer_actor(&state, &headers).await?;
    crate::table::access_of(&actor)?;
    if standard(id.trim()).is_some() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a standard template comes with onemap and is not deleted",
        ));
    }
    let n = saved_id(id.trim())?;
    let t = state.live.delete_template(&actor, n).await?;
    Ok(crate::table::private(Json(js_safe(
        json!({ "deleted": saved_doc(&state, &actor, &t) }),
    ))))
}
