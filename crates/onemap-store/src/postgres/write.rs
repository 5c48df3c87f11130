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

    // The tables are empty now: fill them without their secondary indexes
    // and foreign keys, then build those in bulk (same transaction).
    let deferred = Deferred::take_off(&tx, &tables).await?;
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
                &to_time(table.name, e.status_at)?,
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

    deferred.put_back(&tx).await?;
    tx.commit()
        .await
        .map_err(|e| PgError::sql("commit the import", e))
}

/// The secondary indexes and foreign keys of the city's tables, taken off
/// for a bulk load into empty tables and put back afterwards from their
/// catalog definitions (building an index once, and checking a foreign key
/// with one join, is many times faster than maintaining them row by row;
/// 1M events took 56 s with them in place). Primary keys stay.
struct Deferred {
    /// `CREATE INDEX …` statements.
    indexes: Vec<String>,
    /// (table, constraint name, definition), names quoted by the server.
    foreign_keys: Vec<(String, String, String)>,
}

impl Deferred {
    async fn take_off(tx: &Transaction<'_>, tables: &[Table]) -> Result<Deferred, PgError> {
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        let fks = tx
            .query(
                "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
                 FROM pg_constraint
                 WHERE contype = 'f' AND conrelid::regclass::text = ANY($1)
                 ORDER BY 1, 2",
                &[&names],
            )
            .await
            .map_err(|e| PgError::sql("list foreign keys", e))?;
        let indexes = tx
            .query(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                 FROM pg_index i
                 WHERE i.indrelid::regclass::text = ANY($1)
                   AND NOT i.indisprimary AND NOT i.indisunique
                 ORDER BY 1",
                &[&names],
            )
            .await
            .map_err(|e| PgError::sql("list indexes", e))?;
        let mut d = Deferred {
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
        };
        for r in fks {
            let (table, name, def): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            tx.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
                .await
                .map_err(|e| PgError::sql(format!("drop {name} for the bulk load"), e))?;
            d.foreign_keys.push((table, name, def));
        }
        for r in indexes {
            let (name, def): (String, String) = (r.get(0), r.get(1));
            tx.batch_execute(&format!("DROP INDEX {name}"))
                .await
                .map_err(|e| PgError::sql(format!("drop {name} for the bulk load"), e))?;
            d.indexes.push(def);
        }
        Ok(d)
    }

    async fn put_back(self, tx: &Transaction<'_>) -> Result<(), PgError> {
        for def in &self.indexes {
            tx.batch_execute(def)
                .await
                .map_err(|e| PgError::sql(format!("build index ({def})"), e))?;
        }
        for (table, name, def) in &self.foreign_keys {
            tx.batch_execute(&format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"))
                .await
                .map_err(|e| PgError::sql(format!("check {table} ({def})"), e))?;
        }
        Ok(())
    }
}

async fn write_meta(tx: &Transaction<'_>, meta: &CityMeta) -> Result<(), PgError> {
    let e = &meta.extent;
    tx.execute(
        "INSERT INTO city (id, name, seed, scale, min_lon, min_lat, max_lon, max_lat, history_end)
         VALUES (true, $1, $2::text::numeric, $3, $4, $5, $6, $7, $8)",
        &[
            &meta.name,
            &meta.seed.to_string(),
            &meta.scale,
            &e.min_lon,
            &e.min_lat,
            &e.max_lon,
            &e.max_lat,
            &meta.history_end.map(|t| to_time("city", t)).transpose()?,
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
    if sent.is_multiple_of(REPORT_EVERY) {
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
