//! The one table (基层一张表) over HTTP: the ledgers and their fields, a
//! table's first rows and count, its download (CSV, XLSX, GeoPackage) and
//! the download log. Every route needs a signed-in account: rows are those
//! of the account's area; personal fields are in the clear only for unit
//! leaders and town offices (inside their area), masked for everyone else;
//! every download is logged before its first byte is sent.

use crate::error::{ApiError, ErrorCode};
use crate::openapi::{Binary, ErrorBody};
use crate::AppState;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::workflow::{Actor, Scope};
use onemap_core::{AreaId, Role, TimeBound};
use onemap_ledger::export::XLSX_MAX_ROWS;
use onemap_ledger::{
    Access, CsvSink, DownloadFormat, Ledger, LedgerError, Preview, Query, Sink, TableSource,
    XlsxSink,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// Rows a preview shows by default, and at most.
pub const PREVIEW_ROWS: usize = 50;
pub const MAX_PREVIEW_ROWS: usize = 500;

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        let code = match &e {
            LedgerError::NotGenerated(_) | LedgerError::Outdated { .. } => {
                return ApiError::new(
                    ErrorCode::NoLedgers,
                    "this city's ledgers were not generated (or an older onemap made them): run `onemap ledgers build --data DIR` and restart the server",
                )
            }
            LedgerError::BadQuery(_) => ErrorCode::UnknownValue,
            LedgerError::UnknownArea(_) => ErrorCode::UnknownArea,
            LedgerError::TooLarge(_) => ErrorCode::TooLarge,
            LedgerError::Database(_) => {
                tracing::error!("one table: {e}");
                return ApiError::new(
                    ErrorCode::StoreUnavailable,
                    "the ledgers' database cannot be read now",
                );
            }
            LedgerError::BadFile { .. }
            | LedgerError::Io { .. }
            | LedgerError::Write(_)
            | LedgerError::Internal(_) => {
                tracing::error!("one table: {e}");
                return ApiError::new(ErrorCode::Internal, "the ledgers cannot be read");
            }
        };
        ApiError::new(code, e.to_string())
    }
}

/// The ledgers' rows: the files, or PostGIS's tables (the filter runs in
/// the database); both answer alike.
fn ledgers(state: &AppState) -> Result<Arc<dyn TableSource>, ApiError> {
    state.ledgers.clone().ok_or_else(|| {
        LedgerError::NotGenerated(std::path::PathBuf::from("the city directory")).into()
    })
}

/// Where a table's rows come from: the stored ledgers (files or PostGIS),
/// or — for the events ledger — the live city's snapshot at the moment the
/// table is made.
#[derive(Clone)]
pub(crate) struct Rows {
    files: Option<Arc<dyn TableSource>>,
    deadlines: onemap_core::Deadlines,
}

impl Rows {
    /// The source of `ledger`'s rows (no_ledgers if its files are missing).
    pub(crate) fn of(state: &AppState, ledger: Ledger) -> Result<Rows, ApiError> {
        Ok(Rows {
            files: if ledger.is_live() {
                None
            } else {
                Some(ledgers(state)?)
            },
            deadlines: state.deadlines,
        })
    }

    /// Runs `q` on `city` (whose snapshot the events come from) into `sink`.
    pub(crate) fn run(
        &self,
        city: &onemap_index::City,
        q: &onemap_ledger::Query,
        access: Access,
        sink: &mut dyn onemap_ledger::Sink,
    ) -> Result<onemap_ledger::Summary, LedgerError> {
        match &self.files {
            Some(l) => l.run(city.areas(), q, access, sink),
            None => onemap_ledger::events::run_events(
                city.areas(),
                q,
                access,
                sink,
                self.deadlines,
                onemap_core::time::now(),
                |a| city.events_in_area(a).map_err(|e| e.to_string()),
            ),
        }
    }

    /// How many rows the ledger has in all.
    fn total(&self, city: &onemap_index::City, ledger: Ledger) -> u64 {
        match &self.files {
            Some(l) => l.rows(ledger),
            None => {
                let out = city
                    .report()
                    .unassigned
                    .get(&onemap_core::Layer::Events)
                    .copied()
                    .unwrap_or(0);
                (city.len(onemap_core::Layer::Events) as u64).saturating_sub(out)
            }
        }
    }
}

/// What an account may read of the ledgers: its area (None: the city) and
/// whether personal fields are in the clear.
pub(crate) fn access_of(actor: &Actor) -> Result<(Option<AreaId>, Access), ApiError> {
    let personal = matches!(actor.role, Role::UnitLeader | Role::TownOffice);
    match (&actor.role, &actor.scope) {
        (Role::ShipFeed, _) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "a ship feed's token does not read the ledgers",
        )),
        (_, Scope::Enterprise(_) | Scope::School(_)) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "an enterprise's or a school's account does not read the ledgers",
        )),
        (_, Scope::Area(a)) => Ok((Some(*a), Access { personal })),
        (_, Scope::City) => Ok((None, Access { personal })),
        // A department reads the whole city, personal fields masked.
        (_, Scope::Department(_)) => Ok((None, Access { personal: false })),
    }
}

/// A table as asked in a query string.
pub(crate) struct Ask {
    query: Query,
    limit: usize,
    format: Option<DownloadFormat>,
}

pub(crate) fn parse_query(raw: Option<&str>, scope: Option<AreaId>) -> Result<Ask, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim())
    };
    let ledger: Ledger = get("ledger")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingParameter,
                format!(
                    "ledger is required: one of {}",
                    Ledger::ALL.map(|l| l.key()).join(", ")
                ),
            )
        })?
        .parse()
        .map_err(|e: String| ApiError::new(ErrorCode::UnknownValue, e))?;
    // Ages are counted to today in China.
    let today = (onemap_core::time::now() + onemap_core::time::CST_OFFSET_S).div_euclid(86_400);
    let mut q = Query::new(ledger, today);
    let mut limit = PREVIEW_ROWS;
    let mut format = None;
    let number = |k: &str, v: &str| -> Result<u32, ApiError> {
        v.parse::<u32>().map_err(|_| {
            ApiError::new(
                ErrorCode::BadNumber,
                format!("{k} is a whole number, got '{v}'"),
            )
        })
    };
    let time = |k: &str, v: &str| -> Result<i64, ApiError> {
        v.parse::<TimeBound>().map(TimeBound::unix).map_err(|_| {
            ApiError::new(
                ErrorCode::BadTime,
                format!("{k} is a date (2026-01-31), an ISO 8601 time or Unix seconds, got '{v}'"),
            )
        })
    };
    for (k, v) in &pairs {
        let v = v.trim();
        match k.as_str() {
            "ledger" => {}
            "fields" => q.set_fields(v)?,
            "area" => {
                let id = v.parse::<u64>().ok().and_then(|n| AreaId::new(n).ok()).ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidAreaId,
                        format!("area is an area id of 6, 9, 12, 15 or 18 digits, got '{v}'"),
                    )
                })?;
                q.area = Some(id);
            }
            "lang" => q.lang = v.parse().map_err(|e: String| ApiError::new(ErrorCode::UnknownValue, e))?,
            "limit" => {
                let n = number(k, v)? as usize;
                if n > MAX_PREVIEW_ROWS {
                    return Err(ApiError::new(
                        ErrorCode::InvalidLimit,
                        format!("a preview shows at most {MAX_PREVIEW_ROWS} rows; download the table for all of them"),
                    ));
                }
                limit = n;
            }
            "format" => {
                format = Some(
                    v.parse::<DownloadFormat>()
                        .map_err(|e| ApiError::new(ErrorCode::UnknownValue, e))?,
                )
            }
            "updated_from" => q.updated_from = Some(time(k, v)?),
            "updated_to" => q.updated_to = Some(time(k, v)?),
            "reported_from" => q.reported_from = Some(time(k, v)?),
            "reported_to" => q.reported_to = Some(time(k, v)?),
            "age_min" => q.age_min = Some(number(k, v)?),
            "age_max" => q.age_max = Some(number(k, v)?),
            key if ledger.field(key).is_some() => q.add_filter(&format!("{key}={v}"))?,
            other => {
                return Err(ApiError::new(
                    ErrorCode::BadQuery,
                    format!(
                        "unknown parameter '{other}': template, ledger, area, fields, lang, limit, format, updated_from, updated_to, reported_from, reported_to (events), age_min, age_max, or a coded field of the {} ledger to filter by",
                        ledger.key()
                    ),
                ))
            }
        }
    }
    // The account's area bounds the rows.
    match (scope, q.area) {
        (Some(s), None) => q.area = Some(s),
        (Some(s), Some(a)) => {
            let inside = s
                .level()
                .and_then(|l| a.ancestor_at(l))
                .is_some_and(|x| x == s);
            if !inside {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!("area {a} is outside your area {s}"),
                ));
            }
        }
        (None, _) => {}
    }
    Ok(Ask {
        query: q,
        limit,
        format,
    })
}

fn fields_doc(q: &Query, access: Access) -> Vec<Value> {
    q.fields
        .iter()
        .map(|f| {
            json!({
                "key": f.key,
                "label": f.label(q.lang),
                "type": f.kind.name(),
                "sensitivity": f.sensitivity,
                "masked": f.sensitivity == onemap_ledger::Sensitivity::Personal && !access.personal,
            })
        })
        .collect()
}

/// The ledgers, their fields (labels in both languages, type, sensitivity,
/// coded values) and row counts, and what this account sees of them.
#[utoipa::path(get, path = "/api/ledgers", tag = "table",
    responses((status = 200, description = "{ledgers: [{key, zh, en, rows, default_fields, has_position, fields: [{key, zh, en, kind, sensitivity, mask, source}]}], access: {area, personal}}", content_type = "application/json", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A ship feed's token", body = ErrorBody),
        (status = 404, description = "no_ledgers: the ledgers were not generated", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ledgers_doc(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = crate::auth::read_actor(&state, &headers).await?;
    let (scope, access) = access_of(&actor)?;
    let city = state.city();
    let list: Vec<Value> = Ledger::ALL
        .into_iter()
        .map(|ledger| {
            Ok(json!({
                "key": ledger.key(),
                "zh": ledger.zh(),
                "en": ledger.en(),
                "rows": Rows::of(&state, ledger)?.total(&city, ledger),
                "default_fields": ledger.default_fields(),
                "has_position": ledger.has_position(),
                "fields": ledger.fields(),
            }))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(private(Json(json!({
        "ledgers": list,
        "access": {"area": scope.map(|a| a.to_string()), "personal": access.personal},
    }))))
}

/// Answers that hold data of people: for this reader only, never stored.
pub(crate) fn private(r: impl IntoResponse) -> Response {
    let mut res = r.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Authorization"),
    );
    res
}

/// A table's first rows and its row count: `ledger` (people, houses,
/// cadres, projects, the places' ledgers, events), `area` (an area id inside the account's; its subtree),
/// `fields` (comma-separated keys, `all`), a filter per coded field
/// (`tags=care`, `sex=female`, `safety=c|d`), `updated_from`/`updated_to`,
/// `reported_from`/`reported_to` (events), `age_min`/`age_max`, `lang`
/// (zh, en), `limit` (≤ 500).
#[utoipa::path(get, path = "/api/table", tag = "table",
    params(("ledger" = String, Query, description = "people, houses, cadres, projects, enterprises, schools, heritage, homesteads or events (the live city's)"),
        ("area" = Option<String>, Query, description = "An area id: the rows of its subtree (default: the account's area)"),
        ("fields" = Option<String>, Query, description = "Comma-separated field keys, or all (default: the ledger's default fields)"),
        ("lang" = Option<String>, Query, description = "zh (default) or en: labels and coded values"),
        ("limit" = Option<u32>, Query, description = "Rows shown, at most 500 (default 50)"),
        ("updated_from" = Option<String>, Query, description = "Last updated at or after (a date, ISO time or Unix seconds)"),
        ("updated_to" = Option<String>, Query, description = "Last updated before"),
        ("reported_from" = Option<String>, Query, description = "Events reported at or after (a date, ISO time or Unix seconds)"),
        ("reported_to" = Option<String>, Query, description = "Events reported before"),
        ("age_min" = Option<u32>, Query, description = "People at least this old"),
        ("age_max" = Option<u32>, Query, description = "People at most this old")),
    responses((status = 200, description = "{ledger, fields: [{key, label, type, sensitivity, masked}], rows: [[…]], total, shown, took_ms}", content_type = "application/json", body = Object),
        (status = 400, description = "A parameter that does not parse, or an unknown one", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An area outside the account's, or a ship feed", body = ErrorBody),
        (status = 404, description = "An unknown area, or no_ledgers", body = ErrorBody),
        (status = 422, description = "An unknown ledger, field or coded value; a limit above 500", body = ErrorBody),
        (status = 503, description = "Overloaded", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn table(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = crate::auth::read_actor(&state, &headers).await?;
    let (scope, access) = access_of(&actor)?;
    let (raw, template) = crate::templates::resolve(&state, &actor, raw.as_deref()).await?;
    let ask = parse_query(Some(&raw), scope)?;
    let l = Rows::of(&state, ask.query.ledger)?;
    let started = Instant::now();
    let (summary, preview, q) = crate::answer::query(&state, move |state| {
        let mut p = Preview::new(ask.limit, ask.query.lang);
        let s = l.run(&state.city(), &ask.query, access, &mut p)?;
        Ok((s, p, ask.query))
    })
    .await?;
    Ok(private(Json(json!({
        "ledger": q.ledger.key(),
        "area": q.area.map(|a| a.to_string()),
        "filter": q.describe(),
        "template": template,
        "fields": fields_doc(&q, access),
        // Area codes (18 digits) as text, as every answer gives them: a
        // browser reads integers beyond 2^53 inexactly.
        "rows": crate::answer::js_safe(Value::from(preview.rows)),
        "total": summary.rows,
        "shown": summary.written,
        "took_ms": started.elapsed().as_secs_f64() * 1000.0,
    }))))
}

/// A sink that counts only.
struct Count;
impl Sink for Count {
    fn wants_rows(&self) -> bool {
        false
    }
    fn row(&mut self, _: &[onemap_ledger::Cell<'_>]) -> Result<(), LedgerError> {
        Ok(())
    }
}

/// A writer that hands CSV to the response body in chunks (the channel is
/// bounded: a slow client slows the query down, memory stays flat).
struct ChannelWriter {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

/// A table's download: the same parameters as `/api/table` and `format`
/// (csv: UTF-8 with a BOM, streamed; xlsx: typed columns, at most 1,048,575
/// rows; gpkg: rows with positions, the houses). Logged (who, when, which
/// ledger, filter, fields, format, rows, personal or not) before it is sent.
#[utoipa::path(get, path = "/api/table/download", tag = "table",
    params(("format" = String, Query, description = "csv, xlsx or gpkg"),
        ("ledger" = String, Query, description = "As /api/table; so are area, fields, lang, the filters")),
    responses((status = 200, description = "The file (Content-Disposition: attachment)", content_type = "text/csv", body = Binary),
        (status = 400, description = "A parameter that does not parse, or format missing", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "An area outside the account's", body = ErrorBody),
        (status = 404, description = "An unknown area, or no_ledgers", body = ErrorBody),
        (status = 422, description = "An unknown value; too_large: more rows than an XLSX sheet holds; not_applicable: a GeoPackage of a ledger without positions", body = ErrorBody),
        (status = 503, description = "The download cannot be logged (nothing is sent), or the server is overloaded", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = crate::auth::read_actor(&state, &headers).await?;
    let (scope, access) = access_of(&actor)?;
    let (raw, template) = crate::templates::resolve(&state, &actor, raw.as_deref()).await?;
    let ask = parse_query(Some(&raw), scope)?;
    let format = ask.format.ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingParameter,
            "format is required: csv, xlsx or gpkg",
        )
    })?;
    if format == DownloadFormat::Gpkg && !ask.query.ledger.has_position() {
        return Err(ApiError::new(
            ErrorCode::NotApplicable,
            format!(
                "the {} ledger has no positions: a GeoPackage is made of a ledger of places (houses, enterprises, schools, heritage, homesteads, events); download csv or xlsx",
                ask.query.ledger.key()
            ),
        ));
    }
    let l = Rows::of(&state, ask.query.ledger)?;
    let q = ask.query;
    // The download's turn before anything else: one refused for want of a
    // turn is neither counted nor logged, and holds no snapshot while it
    // waits. It is held until the file is made (a CSV: written).
    let turn = state.guard.download().await?;
    // Count first: the log says how many rows left, and an XLSX too large
    // for a sheet is refused before any work. The file is made of the same
    // snapshot (the events ledger moves with every report).
    let city = state.city();
    let (l2, q2, city2) = (l.clone(), q.clone(), city.clone());
    let rows = crate::answer::query(
        &state,
        move |_| Ok(l2.run(&city2, &q2, access, &mut Count)?),
    )
    .await?
    .rows;
    if format == DownloadFormat::Xlsx && rows > XLSX_MAX_ROWS {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!("{rows} rows: an XLSX sheet holds at most {XLSX_MAX_ROWS}; narrow the area or the filter, or download csv"),
        ));
    }
    let personal = access.personal && q.has_personal();
    state
        .live
        .log_download(onemap_store::Download {
            at: onemap_core::time::now(),
            account: actor.account.clone(),
            actor: actor.name.clone(),
            role: actor.role.as_str().to_string(),
            scope: actor.scope.to_string(),
            ledger: q.ledger.key().to_string(),
            filter: match &template {
                Some(t) => format!("template={t}&{}", q.describe()),
                None => q.describe(),
            },
            fields: q.fields.iter().map(|f| f.key).collect::<Vec<_>>().join(","),
            format: format.key().to_string(),
            rows,
            personal,
        })
        .await?;
    let day = onemap_core::time::cst_date(onemap_core::time::now()).replace('-', "");
    let name = format!(
        "{}-{}-{day}.{}",
        q.ledger.key(),
        q.area.map_or("city".to_string(), |a| a.to_string()),
        format.key()
    );
    let mut res = match format {
        DownloadFormat::Csv => {
            // Streamed: the turn and the permit are held by the task that
            // writes, for as long as it writes (answer::blocking waits for
            // the whole work).
            let permit = state.guard.expensive()?;
            let (tx, rx) = tokio::sync::mpsc::channel(8);
            tokio::task::spawn_blocking(move || {
                let _permit = (turn, permit);
                let w = ChannelWriter {
                    buf: Vec::new(),
                    tx: tx.clone(),
                };
                let done = CsvSink::new(w, &q.fields, q.lang).and_then(|mut sink| {
                    l.run(&city, &q, access, &mut sink)?;
                    sink.finish().map(drop)
                });
                if let Err(e) = done {
                    tracing::warn!("a CSV download stopped: {e}");
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                }
            });
            // poll_fn, not unfold: the body may be polled again after its
            // end, and a closed channel keeps answering "no more".
            let mut rx = rx;
            let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
            Body::from_stream(stream).into_response()
        }
        DownloadFormat::Xlsx => {
            let bytes = crate::answer::run_blocking(&state, Some(turn), move |_| {
                let mut sink = XlsxSink::new(&q.fields, q.lang, q.ledger.zh())?;
                l.run(&city, &q, access, &mut sink)?;
                Ok(sink.finish()?)
            })
            .await?;
            bytes.into_response()
        }
        DownloadFormat::Gpkg => {
            let bytes = crate::answer::run_blocking(&state, Some(turn), move |_| {
                Ok(onemap_ledger::gpkg::write_with(&q, |q, sink| {
                    l.run(&city, q, access, sink)
                })?)
            })
            .await?;
            bytes.into_response()
        }
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rows.to_string()) {
        h.insert("x-table-rows", v);
    }
    Ok(private(res))
}

/// The download log, newest first: for accounts whose scope is the whole
/// city (auditors), at most `limit` (≤ 1000, default 100).
#[utoipa::path(get, path = "/api/table/downloads", tag = "table",
    params(("limit" = Option<u32>, Query, description = "At most 1000 (default 100)")),
    responses((status = 200, description = "{downloads: [{at, account, actor, role, scope, ledger, filter, fields, format, rows, personal}]}", content_type = "application/json", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a city-wide account", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn downloads(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = crate::auth::read_actor(&state, &headers).await?;
    if actor.scope != Scope::City || actor.role == Role::ShipFeed {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "the download log is read by city-wide accounts only",
        ));
    }
    let mut limit = 100usize;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "limit" => {
                limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= onemap_store::MAX_DOWNLOADS_LISTED)
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::InvalidLimit,
                            format!(
                                "limit is 0 to {}, got '{v}'",
                                onemap_store::MAX_DOWNLOADS_LISTED
                            ),
                        )
                    })?
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::BadQuery,
                    format!("unknown parameter '{other}': limit"),
                ))
            }
        }
    }
    let list = state.live.downloads(limit).await?;
    Ok(private(Json(json!({ "downloads": list }))))
}
