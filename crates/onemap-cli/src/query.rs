//! `onemap query …`: the index's questions on a city directory, answered as
//! JSON (or a readable table with `--table`).

use crate::args::{QueryArgs, QueryCommand};
use anyhow::{bail, Context};
use onemap_core::{AreaId, BBox, EventCategory, EventStatus, HomesteadStatus, Layer, Level};
use onemap_index::{
    EventFilter, GroupBy, GroupKey, HotspotPlace, HotspotQuery, PageRequest, PlaceKey, Scope,
    StatsQuery, TimeWindow,
};
use serde::Serialize;

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
            let filter = feature_filter(layer, None, None, category, status)?;
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
        } => {
            let layer: Layer = layer.parse()?;
            let filter = feature_filter(layer, from, to, category, status)?;
            let page = PageRequest {
                limit,
                cursor: cursor.map(|c| c.parse()).transpose()?,
            };
            let found = match (bbox, area, polygon) {
                (Some(b), None, None) => {
                    let bbox = BBox::parse(&b)?;
                    load()?.features_in_bbox(layer, &bbox, &filter, &page)?
                }
                (None, Some(a), None) => {
                    let area: AreaId = a.parse()?;
                    load()?.features_in_area(layer, area, &filter, &page)?
                }
                (None, None, Some(p)) => {
                    let polygon = onemap_core::parse_polygon(&p)?;
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
            } else {
                print_json(&found)?;
            }
        }
        QueryCommand::Area { id, from, to } => {
            let id: AreaId = id.parse()?;
            let window = TimeWindow::new(parse_time(from.as_deref())?, parse_time(to.as_deref())?)?;
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
            let group_by = parse_group(&by)?;
            let window = TimeWindow::new(parse_time(from.as_deref())?, parse_time(to.as_deref())?)?;
            let scope = match (area, bbox) {
                (Some(_), Some(_)) => bail!("give --area or --bbox, not both"),
                (Some(a), None) => Some(Scope::Area(a.parse()?)),
                (None, Some(b)) => Some(Scope::BBox(BBox::parse(&b)?)),
                (None, None) => None,
            };
            let city = load()?;
            let report = city.event_stats(&StatsQuery {
                group_by,
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
        QueryCommand::Hotspots {
            min_count,
            place,
            from,
            to,
            category,
            limit,
        } => {
            let place = match place.as_str() {
                "unit" => HotspotPlace::Unit,
                p => match p.strip_prefix("h3:").map(str::parse::<u8>) {
                    Some(Ok(r)) => HotspotPlace::H3(r),
                    _ => bail!("--place must be 'unit' or 'h3:RES', got '{p}'"),
                },
            };
            let categories = list::<EventCategory>(category)?;
            let window = TimeWindow::new(parse_time(from.as_deref())?, parse_time(to.as_deref())?)?;
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

/// The filter of a feature query on `layer`: a time window and categories
/// for events; statuses of events, or of homesteads for homesteads.
fn feature_filter(
    layer: Layer,
    from: Option<String>,
    to: Option<String>,
    category: Option<String>,
    status: Option<String>,
) -> anyhow::Result<EventFilter> {
    let homes = layer == Layer::Homesteads;
    let given = [&from, &to, &category, &status].iter().any(|o| o.is_some());
    if given && layer != Layer::Events && !homes {
        bail!("{}", onemap_index::IndexError::FilterNotApplicable(layer));
    }
    Ok(EventFilter {
        from: parse_time(from.as_deref())?,
        to: parse_time(to.as_deref())?,
        categories: list::<EventCategory>(category)?,
        statuses: if homes {
            None
        } else {
            list::<EventStatus>(status.clone())?
        },
        homestead_statuses: if homes {
            list::<HomesteadStatus>(status)?
        } else {
            None
        },
    })
}

/// A comma-separated list of values (`drainage,road`), if given.
fn list<T: std::str::FromStr<Err = onemap_core::CoreError>>(
    s: Option<String>,
) -> anyhow::Result<Option<Vec<T>>> {
    Ok(s.map(|s| {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| p.trim().parse::<T>())
            .collect::<Result<Vec<T>, _>>()
    })
    .transpose()?)
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

fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// `village`, `unit`, … or `h3:RES`.
fn parse_group(s: &str) -> anyhow::Result<GroupBy> {
    if let Some(r) = s.strip_prefix("h3:") {
        let r: u8 = r
            .parse()
            .with_context(|| format!("bad H3 resolution in --by '{s}'"))?;
        return Ok(GroupBy::H3(r));
    }
    Ok(GroupBy::Level(s.parse::<Level>()?))
}

/// A date `YYYY-MM-DD` (midnight, China Standard Time, UTC+8), an ISO 8601
/// date-time, or Unix seconds.
pub fn parse_time(s: Option<&str>) -> anyhow::Result<Option<i64>> {
    let Some(s) = s else { return Ok(None) };
    onemap_core::time::parse_time(s).map(Some).ok_or_else(|| {
        anyhow::anyhow!(
            "bad time '{s}': expected YYYY-MM-DD, an ISO 8601 date-time or Unix seconds"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_china_standard_time_midnight() {
        assert_eq!(parse_time(Some("2026-11-01")).unwrap(), Some(1_793_462_400));
        assert_eq!(parse_time(Some("1970-01-01")).unwrap(), Some(-8 * 3600));
        assert_eq!(parse_time(Some("2024-02-29")).unwrap(), Some(1_709_136_000));
        assert_eq!(parse_time(Some("12345")).unwrap(), Some(12345));
        assert!(parse_time(Some("2023-02-29")).is_err());
        assert!(parse_time(Some("2026-13-01")).is_err());
        assert!(parse_time(Some("yesterday")).is_err());
    }
}
