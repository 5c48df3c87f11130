//! Loading a whole city from one snapshot, with binary COPY out.

use super::geom::Decoded;
use super::schema::{self, Table};
use super::{check_version, column_types, from_time, PgError, Progress};
use futures_util::{pin_mut, StreamExt};
use geo_types::{Geometry, MultiPolygon};
use onemap_core::{
    Area, AreaId, AreaTree, BBox, CityData, CityMeta, Enterprise, Event, HeritagePoint, Homestead,
    Level, School, Ship,
};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::SystemTime;
use tokio_postgres::binary_copy::{BinaryCopyOutRow, BinaryCopyOutStream};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, IsolationLevel, Transaction};

const REPORT_EVERY: u64 = 8192;

pub(super) async fn load(
    client: &mut Client,
    progress: Progress<'_>,
) -> Result<(CityMeta, CityData), PgError> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(|e| PgError::sql("begin reading the city", e))?;
    check_version(&tx).await?;
    let meta = read_meta(&tx).await?;
    let mut geometry = None;

    let mut areas = Vec::new();
    for level in Level::ALL {
        let table = schema::area_table(level);
        let types = column_types(&tx, &table, &mut geometry).await?;
        let top = level == Level::District;
        copy_out(&tx, &table, &types, progress, |r| {
            let raw: i64 = get(&table, r, 0)?;
            let id = area_id(&table, raw, level)?;
            let (parent, rest) = if top {
                (None, 1)
            } else {
                let p: i64 = get(&table, r, 1)?;
                (
                    Some(area_id(&table, p, level.parent().unwrap_or(level))?),
                    2,
                )
            };
            areas.push(Area {
                id,
                level,
                name: get(&table, r, rest)?,
                parent,
                leader: get(&table, r, rest + 1)?,
                geometry: multipolygon(&table, r, rest + 2)?,
            });
            Ok(())
        })
        .await?;
    }

    let mut events = Vec::new();
    let table = schema::EVENTS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    copy_out(&tx, &table, &types, progress, |r| {
        let (lon, lat) = point(&table, r, 6)?;
        let closed: Option<SystemTime> = get(&table, r, 4)?;
        events.push(Event {
            id: uid(&table, get(&table, r, 0)?)?,
            category: parse(&table, "category", get(&table, r, 1)?)?,
            status: parse(&table, "status", get(&table, r, 2)?)?,
            reported_at: from_time(table.name, get(&table, r, 3)?)?,
            closed_at: closed.map(|t| from_time(table.name, t)).transpose()?,
            status_at: from_time(table.name, get(&table, r, 7)?)?,
            unit: area_id(&table, get(&table, r, 5)?, Level::Unit)?,
            lon,
            lat,
        });
        Ok(())
    })
    .await?;

    let mut ships = Vec::new();
    let table = schema::SHIPS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    copy_out(&tx, &table, &types, progress, |r| {
        let (lon, lat) = point(&table, r, 7)?;
        let mmsi: i64 = get(&table, r, 0)?;
        ships.push(Ship {
            mmsi: u32::try_from(mmsi)
                .map_err(|_| PgError::invalid(table.name, format!("mmsi {mmsi} out of range")))?,
            name: get(&table, r, 1)?,
            home_port: get(&table, r, 2)?,
            speed_kn: get(&table, r, 3)?,
            heading_deg: get(&table, r, 4)?,
            in_port: get(&table, r, 5)?,
            reported_at: from_time(table.name, get(&table, r, 6)?)?,
            lon,
            lat,
        });
        Ok(())
    })
    .await?;

    let mut heritage = Vec::new();
    let table = schema::HERITAGE;
    let types = column_types(&tx, &table, &mut geometry).await?;
    copy_out(&tx, &table, &types, progress, |r| {
        let (lon, lat) = point(&table, r, 4)?;
        heritage.push(HeritagePoint {
            id: uid(&table, get(&table, r, 0)?)?,
            name: get(&table, r, 1)?,
            level: parse(&table, "level", get(&table, r, 2)?)?,
            watch: parse(&table, "watch", get(&table, r, 3)?)?,
            lon,
            lat,
        });
        Ok(())
    })
    .await?;

    let mut homesteads = Vec::new();
    let table = schema::HOMESTEADS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    copy_out(&tx, &table, &types, progress, |r| {
        homesteads.push(Homestead {
            id: uid(&table, get(&table, r, 0)?)?,
            area_m2: get(&table, r, 1)?,
            status: parse(&table, "status", get(&table, r, 2)?)?,
            geometry: multipolygon(&table, r, 3)?,
        });
        Ok(())
    })
    .await?;

    let mut enterprises = Vec::new();
    let table = schema::ENTERPRISES;
    let types = column_types(&tx, &table, &mut geometry).await?;
    copy_out(&tx, &table, &types, progress, |r| {
        let (lon, lat) = point(&table, r, 5)?;
        enterprises.push(Enterprise {
            id: uid(&table, get(&table, r, 0)?)?,
            name: get(&table, r, 1)?,
            industry: get(&table, r, 2)?,
            employees: u32_of(&table, "employees", get(&table, r, 3)?)?,
            large: get(&table, r, 4)?,
            lon,
            lat,
        });
        Ok(())
    })
    .await?;

    let mut schools = Vec::new();
    let table = schema::SCHOOLS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    copy_out(&tx, &table, &types, progress, |r| {
        let (lon, lat) = point(&table, r, 4)?;
        schools.push(School {
            id: uid(&table, get(&table, r, 0)?)?,
            name: get(&table, r, 1)?,
            kind: parse(&table, "kind", get(&table, r, 2)?)?,
            students: u32_of(&table, "students", get(&table, r, 3)?)?,
            lon,
            lat,
        });
        Ok(())
    })
    .await?;

    tx.commit()
        .await
        .map_err(|e| PgError::sql("finish reading the city", e))?;
    let city = CityData {
        areas: AreaTree::from_areas(areas),
        events,
        ships,
        heritage,
        homesteads,
        enterprises,
        schools,
    };
    Ok((meta, city))
}

async fn read_meta(tx: &Transaction<'_>) -> Result<CityMeta, PgError> {
    let row = tx
        .query_opt(
            "SELECT name, seed::text, scale, min_lon, min_lat, max_lon, max_lat, history_end FROM city",
            &[],
        )
        .await
        .map_err(|e| PgError::sql("read the city row", e))?
        .ok_or(PgError::NoCity)?;
    let seed: String = row.get(1);
    let seed = seed
        .parse::<u64>()
        .map_err(|_| PgError::invalid("city", format!("seed {seed} is not a u64")))?;
    let expected = tx
        .query("SELECT layer, count FROM city_expected ORDER BY layer", &[])
        .await
        .map_err(|e| PgError::sql("read city_expected", e))?
        .into_iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect::<BTreeMap<_, _>>();
    Ok(CityMeta {
        name: row.get(0),
        seed,
        scale: row.get(2),
        extent: BBox {
            min_lon: row.get(3),
            min_lat: row.get(4),
            max_lon: row.get(5),
            max_lat: row.get(6),
        },
        expected,
        history_end: row
            .get::<_, Option<SystemTime>>(7)
            .map(|t| from_time("city", t))
            .transpose()?,
    })
}

/// Streams a table's rows (in key order) through `each`.
async fn copy_out<F>(
    tx: &Transaction<'_>,
    table: &Table,
    types: &[Type],
    progress: Progress<'_>,
    mut each: F,
) -> Result<(), PgError>
where
    F: FnMut(&BinaryCopyOutRow) -> Result<(), PgError>,
{
    let stream = tx
        .copy_out(&table.copy_out())
        .await
        .map_err(|e| PgError::sql(format!("start copying from {}", table.name), e))?;
    let rows = BinaryCopyOutStream::new(stream, types);
    pin_mut!(rows);
    let mut n = 0u64;
    while let Some(r) = rows.next().await {
        let r = r.map_err(|e| PgError::sql(format!("copy from {}", table.name), e))?;
        each(&r)?;
        n += 1;
        if n.is_multiple_of(REPORT_EVERY) {
            progress(table.name, REPORT_EVERY);
        }
    }
    progress(table.name, n % REPORT_EVERY);
    Ok(())
}

fn get<'a, T: FromSql<'a>>(table: &Table, r: &'a BinaryCopyOutRow, i: usize) -> Result<T, PgError> {
    r.try_get(i).map_err(|e| {
        PgError::invalid(
            table.name,
            format!(
                "column {}: {}",
                table.columns[i].0,
                super::error::describe(&e)
            ),
        )
    })
}

fn uid(table: &Table, v: i64) -> Result<u64, PgError> {
    u64::try_from(v).map_err(|_| PgError::invalid(table.name, format!("negative id {v}")))
}

fn u32_of(table: &Table, column: &str, v: i64) -> Result<u32, PgError> {
    u32::try_from(v)
        .map_err(|_| PgError::invalid(table.name, format!("{column} {v} is out of range")))
}

fn area_id(table: &Table, raw: i64, level: Level) -> Result<AreaId, PgError> {
    let id = u64::try_from(raw)
        .ok()
        .and_then(|v| AreaId::new(v).ok())
        .filter(|id| id.level() == Some(level));
    id.ok_or_else(|| PgError::invalid(table.name, format!("{raw} is not a {level} id")))
}

fn parse<T: FromStr>(table: &Table, column: &str, v: String) -> Result<T, PgError>
where
    T::Err: std::fmt::Display,
{
    v.parse()
        .map_err(|e: T::Err| PgError::invalid(table.name, format!("{column}: {e}")))
}

fn geometry(table: &Table, r: &BinaryCopyOutRow, i: usize) -> Result<Geometry<f64>, PgError> {
    let d: Decoded = get(table, r, i)?;
    d.geometry
        .ok_or_else(|| PgError::invalid(table.name, "null geometry"))
}

fn point(table: &Table, r: &BinaryCopyOutRow, i: usize) -> Result<(f64, f64), PgError> {
    match geometry(table, r, i)? {
        Geometry::Point(p) => Ok((p.x(), p.y())),
        g => Err(PgError::invalid(
            table.name,
            format!("expected a Point, found {}", kind(&g)),
        )),
    }
}

fn multipolygon(
    table: &Table,
    r: &BinaryCopyOutRow,
    i: usize,
) -> Result<MultiPolygon<f64>, PgError> {
    match geometry(table, r, i)? {
        Geometry::MultiPolygon(mp) => Ok(mp),
        g => Err(PgError::invalid(
            table.name,
            format!("expected a MultiPolygon, found {}", kind(&g)),
        )),
    }
}

fn kind(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}
