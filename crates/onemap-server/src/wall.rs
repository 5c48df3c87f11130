//! `/api/wall`: the command-center summary in one answer.
//!
//! "Today" is the China Standard Time day of the server's clock; the hot
//! spots are those of the last 90 days before it. Overdue events are
//! counted at the same moment, with the server's deadlines.

use crate::answer::{js_safe, query};
use crate::error::ApiError;
use crate::openapi::Overloaded;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::time::{cst_date, cst_day_start};
use onemap_core::{Layer, Level};
use onemap_index::{
    GroupBy, GroupKey, HotspotPlace, HotspotQuery, Properties, StatsQuery, TimeWindow,
};
use serde_json::{json, Value};

const DAY: i64 = 86_400;
/// Hot spots are the places most reported over this many days.
const HOTSPOT_DAYS: i64 = 90;

/// The command-center summary in one answer: city-wide figures, today's
/// events per district, hot spots, the fleet, and the lists' figures
/// (`lists`: open problems, overdue tasks, items not done; null without a
/// store).
#[utoipa::path(get, path = "/api/wall", tag = "queries",
    responses((status = 200, description = "The wall display's summary", content_type = "application/json", body = Object),
        Overloaded))]
pub async fn wall(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut doc = query(&state, summary).await?;
    doc["lists"] = crate::lists::figures(&state, None).await;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(js_safe(doc))).into_response())
}

fn summary(s: &AppState) -> Result<Value, ApiError> {
    let city = s.city();
    let latest = city.event_time_range().map(|r| r.1);
    let now = onemap_core::time::now();
    let today = cst_day_start(now);
    let due = s.deadlines.cutoffs(now);
    let all = city.event_stats_due(
        &StatsQuery {
            group_by: GroupBy::Level(Level::District),
            window: TimeWindow::ALL,
            scope: None,
        },
        onemap_index::MAX_GROUPS,
        Some(&due),
    )?;
    let window = |days: i64| TimeWindow {
        from: Some(today - (days - 1) * DAY),
        to: Some(today + DAY),
    };
    let day = city.event_stats(&StatsQuery {
        group_by: GroupBy::Level(Level::District),
        window: window(1),
        scope: None,
    })?;
    let week = city.event_stats(&StatsQuery {
        group_by: GroupBy::Level(Level::District),
        window: window(7),
        scope: None,
    })?;
    let districts: Vec<Value> = all
        .groups
        .iter()
        .zip(&day.groups)
        .map(|(g, d)| {
            let GroupKey::Area { id, name, .. } = &g.key else {
                return Value::Null;
            };
            let bbox = city
                .feature(Layer::Districts, id.get())
                .and_then(|f| match f.properties {
                    Properties::Area { bbox, .. } => Some(bbox),
                    _ => None,
                });
            json!({
                "id": id,
                "name": name,
                "bbox": bbox,
                "events": g.tally.figures.total,
                "open": g.tally.figures.open,
                "closure_rate": g.tally.figures.closure_rate,
                "overdue": g.tally.overdue,
                "events_today": d.tally.figures.total,
            })
        })
        .collect();
    let hotspots = city.hotspots(&HotspotQuery {
        window: window(HOTSPOT_DAYS),
        place: HotspotPlace::Unit,
        min_count: 2,
        categories: None,
        scope: None,
        limit: 10,
    })?;
    let f = &all.overall.figures;
    Ok(json!({
        "generated_at": now,
        "as_of": latest,
        "today": { "date": cst_date(today), "from": today, "to": today + DAY },
        "events_today": day.overall.figures.total,
        "events_7d": week.overall.figures.total,
        "events_total": f.total,
        "open_events": f.open,
        "closure_rate": f.closure_rate,
        "overdue": all.overall.overdue,
        "deadlines": s.deadlines,
        "ships": ships_now(s),
        "districts": districts,
        "hotspots": { "days": HOTSPOT_DAYS, "places": hotspots },
    }))
}

/// The fleet now (the current snapshot, live positions included): at sea and
/// in port, overall and per home port.
fn ships_now(s: &crate::AppState) -> Value {
    let city = s.city();
    let mut per: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for sh in city.ships() {
        let e = per.entry(sh.home_port.as_str()).or_default();
        if sh.in_port {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    let at_sea: u64 = per.values().map(|v| v.0).sum();
    let in_port: u64 = per.values().map(|v| v.1).sum();
    let ports: Vec<Value> = per
        .into_iter()
        .map(|(p, (a, i))| json!({"port": p, "at_sea": a, "in_port": i}))
        .collect();
    json!({"at_sea": at_sea, "in_port": in_port, "ports": ports})
}
