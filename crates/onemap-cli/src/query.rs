//! `onemap query …`: the index's questions on a city directory, answered as
//! JSON (or a readable table with `--table`).

use crate::args::{QueryArgs, QueryCommand};
use anyhow::bail;
use onemap_core::{parse_list, Layer};
use onemap_index::{
    EventFilter, GroupKey, HotspotQuery, PageRequest, PlaceKey, Scope, StatsQuery, TimeWindow,
};
use serde::Serialize;

/// `--area` or `--bbox` (not both), or neither.
fn scope_of(
    area: Option<onemap_core::AreaId>,
    bbox: Option<onemap_core::BBox>,
) -> anyhow::Result<Option<Scope>> {
    Ok(match (area, bbox) {
        (Some(_), Some(_)) => bail!("give --area or --bbox, not both"),
        (Some(a), None) => Some(Scope::Area(a)),
        (None, Some(b)) => Some(Scope::BBox(b)),
        (None, None) => None,
    })
}

/// `println!` that returns write errors (a closed pipe) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

pub fn run(a: QueryArgs) -> anyhow::Result<i32> {
    // Each arm validates its question before paying for loading the city.
    let load = || crate::load_city(&a.data);
    match a.command {
        QueryCommand::Locate { lon, lat } => {
            onemap_core::LonLat::new(lon, lat)?;
            let city = load()?;
            match city.locate(lon, lat)? {
                Some(loc) if a.table => {
                    for r in [&loc.district, &loc.town, &loc.village, &loc.grid, &loc.unit] {
                        out!("{:<9} {:<20} {}", r.level.as_str(), r.id.get(), r.name);
                    }
                }
                Some(loc) => print_json(&loc)?,
                None if a.table => out!("outside the city (at sea)"),
                None => out!("null"),
            }
        }
        QueryCommand::Near {
            layer,
            lon,
            lat,
            k,
            max_distance,
            category,
            status,
        } => {
            let layer: Layer = layer.parse()?;
            let filter = EventFilter::for_layer(
                layer,
                TimeWindow::ALL,
                category.as_deref(),
                status.as_deref(),
            )?;
            let city = load()?;
            let found = city.nearest(layer, lon, lat, k, max_distance, &filter)?;
            if a.table {
                out!("{:>12}  {:>10}  name", "id", "metres");
                for n in &found {
                    out!(
                        "{:>12}  {:>10.1}  {}",
                        n.feature.id,
                        n.distance_m,
                        label(&n.feature)
                    );
                }
            } else {
                print_json(&found)?;
            }
        }
        QueryCommand::Features {
            layer,
            bbox,
            area,
            polygon,
            limit,
            cursor,
            from,
            to,
            category,
            status,
            csv,
        } => {
            let layer: Layer = layer.parse()?;
            let window = TimeWindow::between(from, to)?;
            let filter =
                EventFilter::for_layer(layer, window, category.as_deref(), status.as_deref())?;
            let page = PageRequest { limit, cursor };
            let found = match (bbox, area, polygon) {
                (Some(bbox), None, None) => {
                    load()?.features_in_bbox(layer, &bbox, &filter, &page)?
                }
                (None, Some(area), None) => {
                    load()?.features_in_area(layer, area, &filter, &page)?
                }
                (None, None, Some(polygon)) => {
                    load()?.features_in_polygon(layer, &polygon, &filter, &page)?
                }
                _ => bail!("give one of --bbox, --area or --polygon"),
            };
            if a.table {
                out!("{:>20}  {:>10}  {:>10}  what", "id", "lon", "lat");
                for f in &found.features {
                    out!(
                        "{:>20}  {:>10.5}  {:>10.5}  {}",
                        f.id,
                        f.lon,
                        f.lat,
                        label(f)
                    );
                }
                if let Some(c) = found.next_cursor {
                    out!("more: --cursor {c}");
                }
            } else if csv {
                print_csv(&found)?;
            } else {
                print_json(&found)?;
            }
        }
        QueryCommand::Area { id, from, to } => {
            let window = TimeWindow::between(from, to)?;
            let city = load()?;
            print_json(&city.area_details(id, &window)?)?;
        }
        QueryCommand::Stats {
            by,
            from,
            to,
            area,
            bbox,
        } => {
            let window = TimeWindow::between(from, to)?;
            let scope = scope_of(area, bbox)?;
            let city = load()?;
            let report = city.event_stats(&StatsQuery {
                group_by: by,
                window,
                scope,
            })?;
            if a.table {
                // Names last: Chinese characters are two columns wide.
                out!("{:>9} {:>7} {:>9}  group", "events", "open", "closed %");
                for g in &report.groups {
                    let name = match &g.key {
                        GroupKey::Area { id, name, .. } => format!("{name} {}", id.get()),
                        GroupKey::Cell { cell, .. } => cell.clone(),
                    };
                    let f = &g.tally.figures;
                    let rate = f
                        .closure_rate
                        .map(|r| format!("{:.2}", 100.0 * r))
                        .unwrap_or_else(|| "-".into());
                    out!("{:>9} {:>7} {rate:>9}  {name}", f.total, f.open);
                }
                let f = &report.overall.figures;
                let rate = f
                    .closure_rate
                    .map(|r| format!("{:.2}", 100.0 * r))
                    .unwrap_or_else(|| "-".into());
                out!("{:>9} {:>7} {rate:>9}  all", f.total, f.open);
            } else {
                print_json(&report)?;
            }
        }
        QueryCommand::Overdue {
            area,
            bbox,
            limit,
            at,
            deadlines,
        } => {
            let scope = scope_of(area, bbox)?;
            let deadlines = deadlines.unwrap_or_default();
            let at = at.map_or_else(onemap_core::time::now, |t| t.unix());
            let city = load()?;
            let report = city.overdue(scope.as_ref(), &deadlines.cutoffs(at), limit as usize)?;
            if a.table {
                out!(
                    "{} overdue at {} (China time)",
                    report.total,
                    onemap_core::time::cst_date(at)
                );
                out!(
                    "{:>10}  {:<10}  {:<16}  {:>9}  unit",
                    "id",
                    "status",
                    "category",
                    "late (h)"
                );
                for e in &report.events {
                    out!(
                        "{:>10}  {:<10}  {:<16}  {:>9.1}  {}",
                        e.id,
                        e.status.as_str(),
                        e.category.as_str(),
                        e.overdue_s as f64 / 3600.0,
                        e.unit.map_or(String::new(), |u| u.get().to_string())
                    );
                }
            } else {
                print_json(&serde_json::json!({
                    "at": at,
                    "deadlines": deadlines,
                    "report": report,
                }))?;
            }
        }
        QueryCommand::Hotspots {
            min_count,
            place,
            from,
            to,
            category,
            limit,
        } => {
            let categories = category.as_deref().map(parse_list).transpose()?;
            let window = TimeWindow::between(from, to)?;
            let city = load()?;
            let spots = city.hotspots(&HotspotQuery {
                window,
                place,
                min_count,
                categories,
                scope: None,
                limit,
            })?;
            if a.table {
                // Village names last: their characters are two columns wide.
                out!(
                    "{:>6} {:>5}  {:<17} {:<18} {:>21}  village",
                    "events",
                    "open",
                    "category",
                    "place",
                    "lon,lat"
                );
                for h in &spots {
                    let village = h.village.as_ref().map(|v| &*v.name).unwrap_or("-");
                    let place = match &h.place {
                        PlaceKey::Unit { id } => id.get().to_string(),
                        PlaceKey::Cell { cell, .. } => cell.clone(),
                    };
                    out!(
                        "{:>6} {:>5}  {:<17} {:<18} {:>21}  {village}",
                        h.count,
                        h.open,
                        h.category.as_str(),
                        place,
                        format!("{:.5},{:.5}", h.lon, h.lat),
                    );
                }
            } else {
                print_json(&spots)?;
            }
        }
    }
    Ok(0)
}

/// A short readable label of a feature for tables.
fn label(f: &onemap_index::Feature) -> String {
    use onemap_index::Properties as P;
    match &f.properties {
        P::Event {
            category, status, ..
        } => format!("{category} ({status})"),
        P::Ship {
            name, home_port, ..
        } => format!("{name} ({home_port})"),
        P::Heritage { name, .. }
        | P::Enterprise { name, .. }
        | P::School { name, .. }
        | P::Area { name, .. } => name.clone(),
        P::Homestead {
            area_m2, status, ..
        } => format!("{area_m2} m² ({status})"),
    }
}

/// Prints a page of features as CSV: `layer,id,lon,lat,unit,cell`, then
/// each attribute (nested ones as `outer.inner`), in the order first met.
/// An id is its digits, as in the JSON (where ids beyond 2^53 are strings of
/// them) and the tiles (`code`); an absent value is an empty field. The next
/// page's cursor goes to stderr, so stdout is the table alone.
fn print_csv(page: &onemap_index::Page) -> anyhow::Result<()> {
    fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            serde_json::Value::Null => out.push((prefix.to_string(), String::new())),
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut header: Vec<String> = ["layer", "id", "lon", "lat", "unit", "cell"]
        .map(String::from)
        .to_vec();
    let mut rows = Vec::with_capacity(page.features.len());
    for f in &page.features {
        let mut cells = vec![
            (String::from("layer"), f.layer.as_str().to_string()),
            ("id".into(), f.id.to_string()),
            ("lon".into(), f.lon.to_string()),
            ("lat".into(), f.lat.to_string()),
            (
                "unit".into(),
                f.unit.map(|u| u.get().to_string()).unwrap_or_default(),
            ),
            ("cell".into(), f.cell.clone().unwrap_or_default()),
        ];
        let mut props = Vec::new();
        flatten("", &serde_json::to_value(&f.properties)?, &mut props);
        // The attributes' `type` tag says what `layer` says.
        cells.extend(props.into_iter().filter(|(k, _)| k != "type"));
        for (k, _) in &cells {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
        rows.push(cells);
    }
    out!(
        "{}",
        header
            .iter()
            .map(|h| field(h))
            .collect::<Vec<_>>()
            .join(",")
    );
    for cells in rows {
        let line: Vec<String> = header
            .iter()
            .map(|h| {
                cells
                    .iter()
                    .find(|(k, _)| k == h)
                    .map_or(String::new(), |(_, v)| field(v))
            })
            .collect();
        out!("{}", line.join(","));
    }
    if let Some(c) = &page.next_cursor {
        eprintln!("more: --cursor {c}");
    }
    Ok(())
}

/// Prints an answer as the API gives it: ids beyond 2^53 as strings
/// ([`onemap_index::js_safe`]), so a reader in any language gets them exact.
fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    let v = onemap_index::js_safe(serde_json::to_value(v)?);
    out!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
