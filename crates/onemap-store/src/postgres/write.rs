//! Importing a whole city: one transaction, binary COPY per table.

use super::geom::{encode, Geom4326};
use super::schema::{self, Table};
use super::{check_version, column_types, to_time, ImportMode, PgError, Progress, LOCK_KEY};
use futures_util::pin_mut;
use onemap_core::{CityData, CityMeta, Level};
use std::pin::Pin;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Transaction};

/// Rows between progress reports.
const REPORT_EVERY: u64 = 8192;

pub(super) async fn import(
    client: &mut Client,
    meta: &CityMeta,
    city: &CityData,
    mode: ImportMode,
    progress: Progress<'_>,
) -> Result<(), PgError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| PgError::sql("begin the import", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(|e| PgError::sql("lock for import", e))?;
    check_version(&tx).await?;

    let tables = schema::city_tables();
    let mut held = Vec::new();
    for t in &tables {
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", t.name), &[])
            .await
            .map_err(|e| PgError::sql(format!("count {}", t.name), e))?
            .get(0);
        if n > 0 {
            held.push(format!("{n} rows in {}", t.name));
        }
    }
    if !held.is_empty() {
        match mode {
            ImportMode::Refuse => {
                return Err(PgError::NotEmpty {
                    what: held.join(", "),
                })
            }
            ImportMode::Replace => {
                let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
                tx.batch_execute(&format!("TRUNCATE {}", names.join(", ")))
                    .await
                    .map_err(|e| PgError::sql("remove the old city", e))?;
            }
        }
    }

    write_meta(&tx, meta).await?;
    let mut geometry = None;
    for level in Level::ALL {
        let table = schema::area_table(level);
        let types = column_types(&tx, &table, &mut geometry).await?;
        let w = start(&tx, &table, &types).await?;
        pin_mut!(w);
        let mut sent = 0;
        for a in city.areas.level(level) {
            if a.level != level {
                return Err(PgError::invalid(
                    table.name,
                    format!("area {} is filed as a {}", a.id, a.level),
                ));
            }
            let id = id(table.name, a.id.get())?;
            let g = encode(Geom4326::MultiPolygon(&a.geometry));
            let leader = a.leader.as_deref();
            if level == Level::District {
                row(&mut w, &table, &[&id, &a.name, &leader, &g]).await?;
            } else {
                let parent = a.parent.ok_or_else(|| {
                    PgError::invalid(table.name, format!("area {} has no parent", a.id))
                })?;
                let parent = self::id(table.name, parent.get())?;
                row(&mut w, &table, &[&id, &parent, &a.name, &leader, &g]).await?;
            }
            tick(progress, table.name, &mut sent);
        }
        finish(w, &table, progress, sent).await?;
    }

    let table = schema::EVENTS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    let w = start(&tx, &table, &types).await?;
    pin_mut!(w);
    let mut sent = 0;
    for e in &city.events {
        let closed = e.closed_at.map(|t| to_time(table.name, t)).transpose()?;
        row(
            &mut w,
            &table,
            &[
                &id(table.name, e.id)?,
                &e.category.as_str(),
                &e.status.as_str(),
                &to_time(table.name, e.reported_at)?,
                &closed,
                &id(table.name, e.unit.get())?,
                &encode(Geom4326::Point(e.lon, e.lat)),
            ],
        )
        .await?;
        tick(progress, table.name, &mut sent);
    }
    finish(w, &table, progress, sent).await?;

    let table = schema::SHIPS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    let w = start(&tx, &table, &types).await?;
    pin_mut!(w);
    let mut sent = 0;
    for s in &city.ships {
        row(
            &mut w,
            &table,
            &[
                &i64::from(s.mmsi),
                &s.name,
                &s.home_port,
                &s.speed_kn,
                &s.heading_deg,
                &s.in_port,
                &to_time(table.name, s.reported_at)?,
                &encode(Geom4326::Point(s.lon, s.lat)),
            ],
        )
        .await?;
        tick(progress, table.name, &mut sent);
    }
    finish(w, &table, progress, sent).await?;

    let table = schema::HERITAGE;
    let types = column_types(&tx, &table, &mut geometry).await?;
    let w = start(&tx, &table, &types).await?;
    pin_mut!(w);
    let mut sent = 0;
    for h in &city.heritage {
        row(
            &mut w,
            &table,
            &[
                &id(table.name, h.id)?,
                &h.name,
                &h.level.as_str(),
                &h.watch.as_str(),
                &encode(Geom4326::Point(h.lon, h.lat)),
            ],
        )
        .await?;
        tick(progress, table.name, &mut sent);
    }
    finish(w, &table, progress, sent).await?;

    let table = schema::HOMESTEADS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    let w = start(&tx, &table, &types).await?;
    pin_mut!(w);
    let mut sent = 0;
    for h in &city.homesteads {
        row(
            &mut w,
            &table,
            &[
                &id(table.name, h.id)?,
                &h.area_m2,
                &h.status.as_str(),
                &encode(Geom4326::MultiPolygon(&h.geometry)),
            ],
        )
        .await?;
        tick(progress, table.name, &mut sent);
    }
    finish(w, &table, progress, sent).await?;

    let table = schema::ENTERPRISES;
    let types = column_types(&tx, &table, &mut geometry).await?;
    let w = start(&tx, &table, &types).await?;
    pin_mut!(w);
    let mut sent = 0;
    for e in &city.enterprises {
        row(
            &mut w,
            &table,
            &[
                &id(table.name, e.id)?,
                &e.name,
                &e.industry,
                &i64::from(e.employees),
                &e.large,
                &encode(Geom4326::Point(e.lon, e.lat)),
            ],
        )
        .await?;
        tick(progress, table.name, &mut sent);
    }
    finish(w, &table, progress, sent).await?;

    let table = schema::SCHOOLS;
    let types = column_types(&tx, &table, &mut geometry).await?;
    let w = start(&tx, &table, &types).await?;
    pin_mut!(w);
    let mut sent = 0;
    for s in &city.schools {
        row(
            &mut w,
            &table,
            &[
                &id(table.name, s.id)?,
                &s.name,
                &s.kind.as_str(),
                &i64::from(s.students),
                &encode(Geom4326::Point(s.lon, s.lat)),
            ],
        )
        .await?;
        tick(progress, table.name, &mut sent);
    }
    finish(w, &table, progress, sent).await?;

    tx.commit()
        .await
        .map_err(|e| PgError::sql("commit the import", e))
}

async fn write_meta(tx: &Transaction<'_>, meta: &CityMeta) -> Result<(), PgError> {
    let e = &meta.extent;
    tx.execute(
        "INSERT INTO city (id, name, seed, scale, min_lon, min_lat, max_lon, max_lat)
         VALUES (true, $1, $2::text::numeric, $3, $4, $5, $6, $7)",
        &[
            &meta.name,
            &meta.seed.to_string(),
            &meta.scale,
            &e.min_lon,
            &e.min_lat,
            &e.max_lon,
            &e.max_lat,
        ],
    )
    .await
    .map_err(|e| PgError::sql("write the city row", e))?;
    let insert = tx
        .prepare("INSERT INTO city_expected (layer, count) VALUES ($1, $2)")
        .await
        .map_err(|e| PgError::sql("write city_expected", e))?;
    for (layer, count) in &meta.expected {
        let count = i64::try_from(*count).map_err(|_| {
            PgError::invalid(
                "city_expected",
                format!("count {count} of {layer} is too large"),
            )
        })?;
        tx.execute(&insert, &[layer, &count])
            .await
            .map_err(|e| PgError::sql("write city_expected", e))?;
    }
    Ok(())
}

/// An id as `bigint`.
fn id(table: &'static str, v: u64) -> Result<i64, PgError> {
    i64::try_from(v).map_err(|_| PgError::invalid(table, format!("id {v} is too large for bigint")))
}

async fn start(
    tx: &Transaction<'_>,
    table: &Table,
    types: &[Type],
) -> Result<BinaryCopyInWriter, PgError> {
    let sink = tx
        .copy_in(&table.copy_in())
        .await
        .map_err(|e| PgError::sql(format!("start copying into {}", table.name), e))?;
    Ok(BinaryCopyInWriter::new(sink, types))
}

async fn row(
    w: &mut Pin<&mut BinaryCopyInWriter>,
    table: &Table,
    values: &[&(dyn ToSql + Sync)],
) -> Result<(), PgError> {
    w.as_mut()
        .write(values)
        .await
        .map_err(|e| PgError::sql(format!("copy into {}", table.name), e))
}

fn tick(progress: Progress<'_>, table: &'static str, sent: &mut u64) {
    *sent += 1;
    if *sent % REPORT_EVERY == 0 {
        progress(table, REPORT_EVERY);
    }
}

async fn finish(
    w: Pin<&mut BinaryCopyInWriter>,
    table: &Table,
    progress: Progress<'_>,
    sent: u64,
) -> Result<(), PgError> {
    let n = w
        .finish()
        .await
        .map_err(|e| PgError::sql(format!("copy into {}", table.name), e))?;
    progress(table.name, sent % REPORT_EVERY);
    if n != sent {
        return Err(PgError::invalid(
            table.name,
            format!("sent {sent} rows but the database took {n}"),
        ));
    }
    Ok(())
}
