//! The stored ledgers in PostGIS: one table per ledger (named by
//! onemap-store's registry, `ledger_people` …), its rows in the files'
//! order (`seq`: village batch order, then row order; `batch`: the village
//! batch), the stored columns with SQL types (ids and counts `bigint`, coded
//! values `smallint`, tags `integer`, dates `date`, times `timestamptz`).
//!
//! - [`import`]: a city's `ledgers/` folder into the tables with binary
//!   COPY, in one transaction (all the ledgers or none).
//! - [`export`]: the tables back into a `ledgers/` folder, the same rows and
//!   values in the same batches.
//! - [`PgLedgers`]: a [`TableSource`] whose filter runs in the database: the
//!   WHERE is built from the [`Query`] (values as parameters), rows come a
//!   chunk at a time into [`crate::query::run_batches`], which masks and
//!   writes them exactly as for the files; a preview asks the count and its
//!   first rows only.

use crate::file::Ledgers;
use crate::query::{self, age_on, Access, Query, Sink, Summary};
use crate::registry::{Ledger, Source, CARE_MASK};
use crate::source::TableSource;
use crate::table::{data_type, schema, stored_fields, TIME_ZONE};
use crate::LedgerError;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, StringBuilder, TimestampSecondBuilder,
    UInt16Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float64Type, TimestampSecondType, UInt16Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef};
use bytes::{BufMut, BytesMut};
use futures_util::{pin_mut, StreamExt};
use onemap_core::{AreaId, AreaTree, Level};
use std::error::Error as StdError;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};
use tokio_postgres::{Client, Row, RowStream};

/// Rows per batch handed to the query engine, and between progress reports.
const CHUNK: usize = 8192;

/// Serializes ledger imports (an advisory lock key: "ledger").
const LOCK_KEY: i64 = 0x6c65_6467_6572;

/// PostgreSQL's epoch (2000-01-01) in Unix days and seconds.
const PG_EPOCH_DAYS: i32 = 10_957;
const PG_EPOCH_SECS: i64 = 946_684_800;

fn db(what: &str) -> impl Fn(tokio_postgres::Error) -> LedgerError + '_ {
    move |e| {
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .or_else(|| e.source().map(|s| s.to_string()))
            .unwrap_or_else(|| e.to_string());
        LedgerError::Database(format!("{what}: {detail}"))
    }
}

fn store(e: onemap_store::PgError) -> LedgerError {
    LedgerError::Database(e.to_string())
}

/// A date as PostgreSQL's `date` (days since 1970-01-01 here).
#[derive(Debug, Clone, Copy)]
struct PgDate(i32);

impl ToSql for PgDate {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.put_i32(self.0 - PG_EPOCH_DAYS);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }
    tokio_postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for PgDate {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let v = i32::from_be_bytes(raw.try_into()?);
        Ok(PgDate(
            v.checked_add(PG_EPOCH_DAYS).ok_or("date out of range")?,
        ))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }
}

/// A moment as PostgreSQL's `timestamptz` (Unix seconds here; stored as
/// microseconds, whole seconds only).
#[derive(Debug, Clone, Copy)]
struct PgTime(i64);

impl ToSql for PgTime {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let micros = self
            .0
            .checked_sub(PG_EPOCH_SECS)
            .and_then(|s| s.checked_mul(1_000_000))
            .ok_or("time out of range")?;
        out.put_i64(micros);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
    tokio_postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for PgTime {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let micros = i64::from_be_bytes(raw.try_into()?);
        if micros % 1_000_000 != 0 {
            return Err("a stored time is not a whole second".into());
        }
        Ok(PgTime(micros / 1_000_000 + PG_EPOCH_SECS))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// The PostgreSQL type of a stored field (`pg_type.typname`).
fn sql_type(dt: &DataType) -> Result<(&'static str, Type), LedgerError> {
    Ok(match dt {
        DataType::Utf8 => ("text", Type::TEXT),
        DataType::UInt64 => ("int8", Type::INT8),
        DataType::Float64 => ("float8", Type::FLOAT8),
        DataType::Date32 => ("date", Type::DATE),
        DataType::Timestamp(_, _) => ("timestamptz", Type::TIMESTAMPTZ),
        DataType::Boolean => ("bool", Type::BOOL),
        DataType::UInt8 => ("int2", Type::INT2),
        DataType::UInt16 => ("int4", Type::INT4),
        other => {
            return Err(LedgerError::Internal(format!(
                "no SQL type for a {other} column"
            )))
        }
    })
}

/// A stored ledger's table: its name and stored columns (after `seq` and
/// `batch`), checked against the registry's.
#[derive(Debug, Clone)]
struct Table {
    name: &'static str,
    columns: Vec<(&'static str, DataType)>,
}

fn table(ledger: Ledger) -> Result<Table, LedgerError> {
    let (name, cols) = onemap_store::postgres::ledger_table(ledger.key()).ok_or_else(|| {
        LedgerError::Internal(format!("no PostGIS table for the {} ledger", ledger.key()))
    })?;
    let expected: Vec<(&str, &str)> = [("seq", "int8"), ("batch", "int4")]
        .into_iter()
        .map(Ok)
        .chain(stored_fields(ledger).map(|f| Ok((f.key, sql_type(&data_type(f))?.0))))
        .collect::<Result<_, LedgerError>>()?;
    if cols != expected {
        return Err(LedgerError::Internal(format!(
            "the table {name} does not hold the {} ledger's columns: {cols:?}, not {expected:?}",
            ledger.key()
        )));
    }
    Ok(Table {
        name,
        columns: stored_fields(ledger)
            .map(|f| (f.key, data_type(f)))
            .collect(),
    })
}

/// A column name in SQL (registry keys: letters, digits and `_`).
fn ident(key: &str) -> String {
    format!("\"{key}\"")
}

/// One cell on its way into COPY.
#[derive(Debug)]
enum Val<'a> {
    I64(i64),
    I32(i32),
    I16(i16),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Date(PgDate),
    Time(PgTime),
}

impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Val::I64(v) => v.to_sql_checked(ty, out),
            Val::I32(v) => v.to_sql_checked(ty, out),
            Val::I16(v) => v.to_sql_checked(ty, out),
            Val::F64(v) => v.to_sql_checked(ty, out),
            Val::Bool(v) => v.to_sql_checked(ty, out),
            Val::Str(v) => v.to_sql_checked(ty, out),
            Val::Date(v) => v.to_sql_checked(ty, out),
            Val::Time(v) => v.to_sql_checked(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    tokio_postgres::types::to_sql_checked!();
}

fn cell<'a>(a: &'a dyn Array, dt: &DataType, r: usize) -> Result<Val<'a>, LedgerError> {
    Ok(match dt {
        DataType::Utf8 => Val::Str(a.as_string::<i32>().value(r)),
        DataType::UInt64 => {
            let v = a.as_primitive::<UInt64Type>().value(r);
            Val::I64(
                i64::try_from(v).map_err(|_| {
                    LedgerError::Internal(format!("{v} does not fit a bigint column"))
                })?,
            )
        }
        DataType::Float64 => Val::F64(a.as_primitive::<Float64Type>().value(r)),
        DataType::Date32 => Val::Date(PgDate(a.as_primitive::<Date32Type>().value(r))),
        DataType::Timestamp(_, _) => {
            Val::Time(PgTime(a.as_primitive::<TimestampSecondType>().value(r)))
        }
        DataType::Boolean => Val::Bool(a.as_boolean().value(r)),
        DataType::UInt8 => Val::I16(i16::from(a.as_primitive::<UInt8Type>().value(r))),
        DataType::UInt16 => Val::I32(i32::from(a.as_primitive::<UInt16Type>().value(r))),
        other => return Err(LedgerError::Internal(format!("no SQL value of {other}"))),
    })
}

/// Rows of a ledger table being made into an Arrow batch, one builder per
/// column of `schema`.
struct Builders {
    schema: SchemaRef,
    cols: Vec<Col>,
    len: usize,
}

enum Col {
    Str(StringBuilder),
    U64(UInt64Builder),
    F64(Float64Builder),
    Date(Date32Builder),
    Time(TimestampSecondBuilder),
    Bool(BooleanBuilder),
    U8(UInt8Builder),
    U16(UInt16Builder),
}

impl Builders {
    fn new(schema: SchemaRef) -> Result<Builders, LedgerError> {
        let cols = schema
            .fields()
            .iter()
            .map(|f| {
                Ok(match f.data_type() {
                    DataType::Utf8 => Col::Str(StringBuilder::new()),
                    DataType::UInt64 => Col::U64(UInt64Builder::new()),
                    DataType::Float64 => Col::F64(Float64Builder::new()),
                    DataType::Date32 => Col::Date(Date32Builder::new()),
                    DataType::Timestamp(_, _) => {
                        Col::Time(TimestampSecondBuilder::new().with_timezone(TIME_ZONE))
                    }
                    DataType::Boolean => Col::Bool(BooleanBuilder::new()),
                    DataType::UInt8 => Col::U8(UInt8Builder::new()),
                    DataType::UInt16 => Col::U16(UInt16Builder::new()),
                    other => {
                        return Err(LedgerError::Internal(format!(
                            "no column builder for {other}"
                        )))
                    }
                })
            })
            .collect::<Result<_, LedgerError>>()?;
        Ok(Builders {
            schema,
            cols,
            len: 0,
        })
    }

    /// Appends a row whose columns `first..` are this schema's, in order.
    fn push(&mut self, row: &Row, first: usize) -> Result<(), LedgerError> {
        let bad = |i: usize, e: &dyn std::fmt::Display| {
            LedgerError::Database(format!("column {i} of a ledger row: {e}"))
        };
        for (k, c) in self.cols.iter_mut().enumerate() {
            let i = first + k;
            match c {
                Col::Str(b) => b.append_value(row.try_get::<_, &str>(i).map_err(|e| bad(i, &e))?),
                Col::U64(b) => {
                    let v: i64 = row.try_get(i).map_err(|e| bad(i, &e))?;
                    b.append_value(u64::try_from(v).map_err(|e| bad(i, &e))?)
                }
                Col::F64(b) => b.append_value(row.try_get(i).map_err(|e| bad(i, &e))?),
                Col::Date(b) => {
                    b.append_value(row.try_get::<_, PgDate>(i).map_err(|e| bad(i, &e))?.0)
                }
                Col::Time(b) => {
                    b.append_value(row.try_get::<_, PgTime>(i).map_err(|e| bad(i, &e))?.0)
                }
                Col::Bool(b) => b.append_value(row.try_get(i).map_err(|e| bad(i, &e))?),
                Col::U8(b) => {
                    let v: i16 = row.try_get(i).map_err(|e| bad(i, &e))?;
                    b.append_value(u8::try_from(v).map_err(|e| bad(i, &e))?)
                }
                Col::U16(b) => {
                    let v: i32 = row.try_get(i).map_err(|e| bad(i, &e))?;
                    b.append_value(u16::try_from(v).map_err(|e| bad(i, &e))?)
                }
            }
        }
        self.len += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<RecordBatch, LedgerError> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Str(b) => Arc::new(b.finish()),
                    Col::U64(b) => Arc::new(b.finish()),
                    Col::F64(b) => Arc::new(b.finish()),
                    Col::Date(b) => Arc::new(b.finish()),
                    Col::Time(b) => Arc::new(b.finish()),
                    Col::Bool(b) => Arc::new(b.finish()),
                    Col::U8(b) => Arc::new(b.finish()),
                    Col::U16(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.len = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| LedgerError::Internal(e.to_string()))
    }
}

/// Rows per ledger moved by [`import`] or [`export`].
pub type Moved = Vec<(Ledger, u64)>;

/// Writes the ledgers of `city_dir` (its `ledgers/` folder, opened and
/// checked) into the database, in one transaction: every ledger or none.
/// A database that holds ledgers already is refused unless `replace`, when
/// they are replaced in the same transaction. `progress` hears of rows as
/// they are sent. The secondary indexes are dropped for the COPY and built
/// again (from their own definitions) before the commit.
pub async fn import(
    client: &mut Client,
    ledgers: &Ledgers,
    replace: bool,
    progress: &mut (dyn FnMut(Ledger, u64) + Send),
) -> Result<Moved, LedgerError> {
    let tables: Vec<(Ledger, Table)> = Ledger::STORED
        .into_iter()
        .map(|l| Ok((l, table(l)?)))
        .collect::<Result<_, LedgerError>>()?;
    let tx = client
        .transaction()
        .await
        .map_err(db("begin the ledgers' import"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(db("lock for the ledgers' import"))?;
    let mut held = Vec::new();
    for (_, t) in &tables {
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", t.name), &[])
            .await
            .map_err(db(&format!("count {}", t.name)))?
            .get(0);
        if n > 0 {
            held.push(format!("{n} rows in {}", t.name));
        }
    }
    if !held.is_empty() && !replace {
        return Err(LedgerError::Database(format!(
            "the database holds ledgers already ({}): import with --replace to replace them",
            held.join(", ")
        )));
    }
    let names: Vec<&str> = tables.iter().map(|(_, t)| t.name).collect();
    tx.batch_execute(&format!(
        "TRUNCATE {}; DELETE FROM {}",
        names.join(", "),
        onemap_store::postgres::LEDGER_META_TABLE
    ))
    .await
    .map_err(db("remove the old ledgers"))?;

    let mut moved = Vec::new();
    for (ledger, t) in &tables {
        let file = ledgers.get(*ledger);
        // The secondary indexes, as the migrations made them: off for the
        // COPY, built again in bulk before the commit.
        let indexes: Vec<(String, String)> = tx
            .query(
                "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = $1::text::regclass AND NOT x.indisprimary",
                &[&t.name],
            )
            .await
            .map_err(db(&format!("read the indexes of {}", t.name)))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        for (name, _) in &indexes {
            tx.batch_execute(&format!("DROP INDEX {}", ident(name)))
                .await
                .map_err(db(&format!("drop the index {name}")))?;
        }
        let mut types = vec![Type::INT8, Type::INT4];
        for (_, dt) in &t.columns {
            types.push(sql_type(dt)?.1);
        }
        let cols: Vec<String> = ["seq", "batch"]
            .into_iter()
            .map(String::from)
            .chain(t.columns.iter().map(|(k, _)| ident(k)))
            .collect();
        let sink = tx
            .copy_in(&format!(
                "COPY {} ({}) FROM STDIN (FORMAT binary)",
                t.name,
                cols.join(", ")
            ))
            .await
            .map_err(db(&format!("start copying into {}", t.name)))?;
        let w = BinaryCopyInWriter::new(sink, &types);
        pin_mut!(w);
        let mut seq: i64 = 0;
        let mut since = 0u64;
        for b in 0..file.villages().len() {
            let batch = file.batch(b)?;
            let mut row: Vec<Val<'_>> = Vec::with_capacity(types.len());
            let arrays: Vec<(&dyn Array, &DataType)> = t
                .columns
                .iter()
                .map(|(k, dt)| {
                    batch
                        .column_by_name(k)
                        .map(|a| (a.as_ref(), dt))
                        .ok_or_else(|| LedgerError::Internal(format!("no column {k}")))
                })
                .collect::<Result<_, _>>()?;
            let batch_no = i32::try_from(b)
                .map_err(|_| LedgerError::Internal("too many village batches".into()))?;
            for r in 0..batch.num_rows() {
                row.clear();
                row.push(Val::I64(seq));
                row.push(Val::I32(batch_no));
                for (a, dt) in &arrays {
                    row.push(cell(*a, dt, r)?);
                }
                w.as_mut()
                    .write_raw(row.iter())
                    .await
                    .map_err(db(&format!("copy into {}", t.name)))?;
                seq += 1;
                since += 1;
                if since as usize >= CHUNK {
                    progress(*ledger, since);
                    since = 0;
                }
            }
        }
        w.finish()
            .await
            .map_err(db(&format!("finish copying into {}", t.name)))?;
        progress(*ledger, since);
        for (name, def) in &indexes {
            tx.batch_execute(def)
                .await
                .map_err(db(&format!("build the index {name}")))?;
        }
        for (k, v) in file.schema().metadata() {
            let Some(k) = k.strip_prefix("onemap.") else {
                continue;
            };
            if k == "ledger" || k == "synthetic" {
                continue;
            }
            tx.execute(
                &format!(
                    "INSERT INTO {} (ledger, key, value) VALUES ($1, $2, $3)",
                    onemap_store::postgres::LEDGER_META_TABLE
                ),
                &[&ledger.key(), &k, v],
            )
            .await
            .map_err(db("record the ledgers' metadata"))?;
        }
        tx.batch_execute(&format!("ANALYZE {}", t.name))
            .await
            .map_err(db(&format!("analyze {}", t.name)))?;
        moved.push((*ledger, seq as u64));
    }
    tx.commit()
        .await
        .map_err(db("commit the ledgers' import"))?;
    Ok(moved)
}

/// Removes every ledger from the database (an import that replaces a city
/// whose directory has no ledgers), in one transaction.
pub async fn clear(client: &mut Client) -> Result<(), LedgerError> {
    let names: Vec<&str> = Ledger::STORED
        .into_iter()
        .map(|l| table(l).map(|t| t.name))
        .collect::<Result<_, _>>()?;
    let tx = client
        .transaction()
        .await
        .map_err(db("begin removing the ledgers"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(db("lock for the ledgers"))?;
    tx.batch_execute(&format!(
        "TRUNCATE {}; DELETE FROM {}",
        names.join(", "),
        onemap_store::postgres::LEDGER_META_TABLE
    ))
    .await
    .map_err(db("remove the ledgers"))?;
    tx.commit().await.map_err(db("commit removing the ledgers"))
}

/// Each stored ledger's metadata as the database holds it (none: no
/// ledgers were imported).
async fn metadata(
    client: &impl tokio_postgres::GenericClient,
) -> Result<Vec<(Ledger, Vec<(String, String)>)>, LedgerError> {
    let rows = client
        .query(
            &format!(
                "SELECT ledger, key, value FROM {} ORDER BY ledger, key",
                onemap_store::postgres::LEDGER_META_TABLE
            ),
            &[],
        )
        .await
        .map_err(db("read the ledgers' metadata"))?;
    let mut out: Vec<(Ledger, Vec<(String, String)>)> = Vec::new();
    for l in Ledger::STORED {
        let pairs: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r.get::<_, &str>(0) == l.key())
            .map(|r| (r.get(1), r.get(2)))
            .collect();
        if !pairs.is_empty() {
            out.push((l, pairs));
        }
    }
    Ok(out)
}

/// The villages of a ledger's batches, from its metadata.
fn villages_of(ledger: Ledger, meta: &[(String, String)]) -> Result<usize, LedgerError> {
    meta.iter()
        .find(|(k, _)| k == "villages")
        .and_then(|(_, v)| serde_json::from_str::<Vec<u64>>(v).ok())
        .map(|v| v.len())
        .ok_or_else(|| {
            LedgerError::Database(format!(
                "the {} ledger has no village list in the database",
                ledger.key()
            ))
        })
}

/// Writes the database's ledgers into `city_dir/ledgers/` (replacing the
/// folder only once every file is whole), from one consistent snapshot:
/// the same rows, values and village batches as the files imported.
/// `Ok(None)` when the database holds no ledgers (nothing is written).
pub async fn export(
    client: &mut Client,
    city_dir: &Path,
    progress: &mut (dyn FnMut(Ledger, u64) + Send),
) -> Result<Option<Moved>, LedgerError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db("begin the ledgers' export"))?;
    let meta = metadata(&tx).await?;
    if meta.is_empty() {
        return Ok(None);
    }
    if let Some(l) = Ledger::STORED
        .into_iter()
        .find(|l| !meta.iter().any(|(m, _)| m == l))
    {
        return Err(LedgerError::Database(format!(
            "the database has no {} ledger: import the city again (onemap import --replace)",
            l.key()
        )));
    }
    std::fs::create_dir_all(city_dir).map_err(|e| LedgerError::io(city_dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".ledgers-")
        .tempdir_in(city_dir)
        .map_err(|e| LedgerError::io(city_dir, e))?;
    let mut moved = Vec::new();
    for (ledger, pairs) in &meta {
        let t = table(*ledger)?;
        let villages = villages_of(*ledger, pairs)?;
        let refs: Vec<(&str, String)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let s = Arc::new(schema(*ledger, &refs));
        let path = tmp.path().join(ledger.file_name());
        let f = std::fs::File::create(&path).map_err(|e| LedgerError::io(&path, e))?;
        let mut w = FileWriter::try_new(std::io::BufWriter::with_capacity(1 << 20, f), &s)
            .map_err(|e| LedgerError::arrow(&path, e))?;
        let cols: Vec<String> = t.columns.iter().map(|(k, _)| ident(k)).collect();
        let params: [&(dyn ToSql + Sync); 0] = [];
        let rows = tx
            .query_raw(
                &format!(
                    "SELECT batch, {} FROM {} ORDER BY seq",
                    cols.join(", "),
                    t.name
                ),
                params,
            )
            .await
            .map_err(db(&format!("read {}", t.name)))?;
        pin_mut!(rows);
        let mut b = Builders::new(s.clone())?;
        let mut current = 0usize;
        let mut n = 0u64;
        let mut since = 0u64;
        while let Some(row) = rows.next().await {
            let row = row.map_err(db(&format!("read {}", t.name)))?;
            let batch = usize::try_from(row.get::<_, i32>(0)).unwrap_or(usize::MAX);
            if batch < current || batch >= villages {
                return Err(LedgerError::Database(format!(
                    "{}: batch {batch} out of order (0..{villages})",
                    t.name
                )));
            }
            while current < batch {
                w.write(&b.finish()?)
                    .map_err(|e| LedgerError::arrow(&path, e))?;
                current += 1;
            }
            b.push(&row, 1)?;
            n += 1;
            since += 1;
            if since as usize >= CHUNK {
                progress(*ledger, since);
                since = 0;
            }
        }
        while current < villages {
            w.write(&b.finish()?)
                .map_err(|e| LedgerError::arrow(&path, e))?;
            current += 1;
        }
        progress(*ledger, since);
        w.finish().map_err(|e| LedgerError::arrow(&path, e))?;
        let buf = w.into_inner().map_err(|e| LedgerError::arrow(&path, e))?;
        let f = buf
            .into_inner()
            .map_err(|e| LedgerError::io(&path, e.into_error()))?;
        f.sync_all().map_err(|e| LedgerError::io(&path, e))?;
        moved.push((*ledger, n));
    }
    tx.commit().await.map_err(db("end the ledgers' export"))?;
    crate::file::swap_in(city_dir, tmp)?;
    Ok(Some(moved))
}

/// The latest birth day (days since 1970-01-01) of someone at least `m`
/// years old on `today`, by the same count of years the filter uses.
fn latest_birth_aged(m: u32, today: i64) -> i64 {
    let m = i64::from(m);
    // age_on falls as the birth day rises: search between a day surely old
    // enough and one surely too young.
    let (mut lo, mut hi) = (today - 366 * (m + 1) - 2, today + 1);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if i64::from(age_on(mid, today)) >= m {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The oldest age a filter takes into account (ages above match no one).
const MAX_AGE: u32 = 10_000;

/// Values of a WHERE clause.
type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// The WHERE clause of a query (values as parameters `$1…`): exactly the
/// rows `query::run` keeps.
///
/// `seqs`, the rows' places that hold the area's village batches (known
/// from the villages' order), narrows the scan: rows come from one range
/// of the primary key, in order, without a sort.
fn where_clause(q: &Query, seqs: Option<(i64, i64)>) -> Result<(String, Params), LedgerError> {
    let mut parts: Vec<String> = Vec::new();
    let mut params: Params = Vec::new();
    let param = |v: Box<dyn ToSql + Sync + Send>, params: &mut Params| -> String {
        params.push(v);
        format!("${}", params.len())
    };
    if let Some((lo, hi)) = seqs {
        let p_lo = param(Box::new(lo), &mut params);
        let p_hi = param(Box::new(hi), &mut params);
        parts.push(format!("seq >= {p_lo} AND seq < {p_hi}"));
    }
    if let Some(a) = q.area {
        let level = a
            .level()
            .ok_or_else(|| LedgerError::BadQuery(format!("{a} is not an area id")))?;
        // An id's ancestors are its leading digits: the subtree of `a` is,
        // per deeper level, one range of ids.
        let mut ranges = Vec::new();
        for l in Level::ALL.into_iter().filter(|l| *l >= level) {
            let scale = 10u64.pow(l.id_digits() - level.id_digits());
            let lo = a.get().checked_mul(scale);
            let hi = (a.get() + 1).checked_mul(scale);
            let (Some(lo), Some(hi)) = (lo, hi) else {
                continue;
            };
            let (Ok(lo), Ok(hi)) = (i64::try_from(lo), i64::try_from(hi)) else {
                continue;
            };
            let p_lo = param(Box::new(lo), &mut params);
            let p_hi = param(Box::new(hi), &mut params);
            ranges.push(format!("(area_id >= {p_lo} AND area_id < {p_hi})"));
        }
        if ranges.is_empty() {
            parts.push("false".into());
        } else {
            parts.push(format!("({})", ranges.join(" OR ")));
        }
    }
    if q.tags_all != 0 {
        let p = param(Box::new(i32::from(q.tags_all)), &mut params);
        parts.push(format!("(tags & {p}) = {p}"));
    }
    if q.care {
        // A constant of the code (the care tags), as the partial index has it.
        parts.push(format!("(tags & {CARE_MASK}) <> 0"));
    }
    for (f, codes) in &q.choices {
        let codes: Vec<i16> = codes.iter().map(|c| i16::from(*c)).collect();
        let p = param(Box::new(codes), &mut params);
        parts.push(format!("{} = ANY({p})", ident(f.key)));
    }
    for (f, b) in &q.flags {
        let p = param(Box::new(*b), &mut params);
        parts.push(format!("{} = {p}", ident(f.key)));
    }
    if let Some(t) = q.updated_from {
        let p = param(Box::new(PgTime(t)), &mut params);
        parts.push(format!("updated >= {p}"));
    }
    if let Some(t) = q.updated_to {
        let p = param(Box::new(PgTime(t)), &mut params);
        parts.push(format!("updated < {p}"));
    }
    let day = |d: i64| -> Result<PgDate, LedgerError> {
        i32::try_from(d)
            .map(PgDate)
            .map_err(|_| LedgerError::BadQuery("an age out of range".into()))
    };
    if let Some(m) = q.age_min.filter(|m| *m > 0) {
        if m > MAX_AGE {
            parts.push("false".into());
        } else {
            let p = param(Box::new(day(latest_birth_aged(m, q.today))?), &mut params);
            parts.push(format!("birth <= {p}"));
        }
    }
    if let Some(m) = q.age_max.filter(|m| *m < MAX_AGE) {
        let p = param(
            Box::new(day(latest_birth_aged(m + 1, q.today))?),
            &mut params,
        );
        parts.push(format!("birth > {p}"));
    }
    let sql = if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    };
    Ok((sql, params))
}

/// The stored columns a query reads: its fields' and its filters'.
fn columns_read(q: &Query, t: &Table) -> Vec<(&'static str, DataType)> {
    let mut keys: Vec<&str> = Vec::new();
    for f in &q.fields {
        match f.source {
            Source::Column => keys.push(f.key),
            Source::AreaName(_) => keys.push("area_id"),
            Source::Age => keys.push("birth"),
        }
    }
    if q.area.is_some() {
        keys.push("area_id");
    }
    if q.tags_all != 0 || q.care {
        keys.push("tags");
    }
    keys.extend(q.choices.iter().map(|(f, _)| f.key));
    keys.extend(q.flags.iter().map(|(f, _)| f.key));
    if q.updated_from.is_some() || q.updated_to.is_some() {
        keys.push("updated");
    }
    if q.age_min.is_some() || q.age_max.is_some() {
        keys.push("birth");
    }
    // In the table's order, once each.
    t.columns
        .iter()
        .filter(|(k, _)| keys.contains(k))
        .cloned()
        .collect()
}

/// The ledgers' tables of a PostGIS database, read through a pool of its
/// own; queries run on the runtime whose handle it holds, called from
/// blocking threads (as the server's queries are).
pub struct PgLedgers {
    live: onemap_store::PgLive,
    handle: tokio::runtime::Handle,
    rows: Vec<(Ledger, u64)>,
    /// Per ledger, its village batches in order: the village and the
    /// places (`seq`, end excluded) of its rows.
    batches: Vec<(Ledger, Vec<BatchPlace>)>,
}

/// A village batch: its village and the places (`seq`, end excluded) of its
/// rows.
type BatchPlace = (AreaId, i64, i64);

impl std::fmt::Debug for PgLedgers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLedgers")
            .field("target", &self.live.target())
            .field("rows", &self.rows)
            .finish()
    }
}

impl PgLedgers {
    /// Opens the ledgers of the database at `target` (within a tokio
    /// runtime): `Ok(None)` when it holds none (the one table is off).
    pub async fn open(target: &onemap_store::PgTarget) -> Result<Option<PgLedgers>, LedgerError> {
        let live = onemap_store::PgLive::with_target(target).map_err(store)?;
        let client = live.reader().await.map_err(store)?;
        let meta = metadata(&**client).await?;
        if meta.is_empty() {
            return Ok(None);
        }
        let mut rows = Vec::new();
        let mut batches = Vec::new();
        for l in Ledger::STORED {
            let Some((_, pairs)) = meta.iter().find(|(m, _)| *m == l) else {
                return Err(LedgerError::Database(format!(
                    "the database has no {} ledger: import the city again (onemap import --replace)",
                    l.key()
                )));
            };
            let t = table(l)?;
            let villages: Vec<AreaId> = pairs
                .iter()
                .find(|(k, _)| k == "villages")
                .and_then(|(_, v)| serde_json::from_str::<Vec<u64>>(v).ok())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| AreaId::new(v).ok())
                .collect();
            let mut places: Vec<BatchPlace> = villages.iter().map(|v| (*v, 0, 0)).collect();
            for r in client
                .query(
                    &format!(
                        "SELECT batch, min(seq), max(seq) + 1 FROM {} GROUP BY batch",
                        t.name
                    ),
                    &[],
                )
                .await
                .map_err(db(&format!("read the batches of {}", t.name)))?
            {
                let b: i32 = r.get(0);
                if let Some(p) = usize::try_from(b).ok().and_then(|b| places.get_mut(b)) {
                    p.1 = r.get(1);
                    p.2 = r.get(2);
                }
            }
            batches.push((l, places));
            // seq numbers the rows from 0.
            let n: i64 = client
                .query_one(
                    &format!("SELECT coalesce(max(seq) + 1, 0) FROM {}", t.name),
                    &[],
                )
                .await
                .map_err(db(&format!("count {}", t.name)))?
                .get(0);
            rows.push((l, n.max(0) as u64));
        }
        drop(client);
        Ok(Some(PgLedgers {
            live,
            handle: tokio::runtime::Handle::current(),
            rows,
            batches,
        }))
    }
}

/// Rows of a query, a chunk at a time, as batches of the columns read: a
/// task on the runtime reads and decodes them while the caller's thread
/// masks and writes the chunk before (two chunks at most in between; a
/// caller that stops early drops the receiver, which ends the task).
struct Chunks {
    rx: tokio::sync::mpsc::Receiver<Result<RecordBatch, LedgerError>>,
}

impl Iterator for Chunks {
    type Item = Result<RecordBatch, LedgerError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rx.blocking_recv()
    }
}

/// Reads `rows` into batches of `schema`, sent to `tx` as they fill.
async fn produce(
    client: deadpool_postgres::Object,
    rows: RowStream,
    schema: SchemaRef,
    tx: tokio::sync::mpsc::Sender<Result<RecordBatch, LedgerError>>,
) {
    // The connection stays taken while its rows come.
    let _client = client;
    let mut b = match Builders::new(schema) {
        Ok(b) => b,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    let rows = std::pin::pin!(rows);
    let mut rows = rows;
    loop {
        let row = rows.next().await;
        let end = row.is_none();
        if let Some(row) = row {
            if let Err(e) = row
                .map_err(db("read the ledger"))
                .and_then(|r| b.push(&r, 0))
            {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
        let full = b.len >= CHUNK || (end && b.len > 0);
        if full && tx.send(b.finish()).await.is_err() {
            return;
        }
        if end {
            return;
        }
    }
}

impl PgLedgers {
    /// The places of the rows of `area`'s village batches (None: all).
    fn seq_range(&self, ledger: Ledger, area: Option<AreaId>) -> Option<(i64, i64)> {
        let a = area?;
        let level = a.level()?;
        let (_, places) = self.batches.iter().find(|(l, _)| *l == ledger)?;
        let village = a.ancestor_at(Level::Village);
        let mut range: Option<(i64, i64)> = None;
        for (v, lo, hi) in places {
            let inside = if level <= Level::Village {
                v.ancestor_at(level) == Some(a)
            } else {
                Some(*v) == village
            };
            if inside && hi > lo {
                range = Some(match range {
                    None => (*lo, *hi),
                    Some((a, b)) => (a.min(*lo), b.max(*hi)),
                });
            }
        }
        // No batch of the area holds a row: an empty range.
        Some(range.unwrap_or((0, 0)))
    }

    /// A connection of the pool (no JIT: these queries are short, and
    /// compiling would cost more than it saves).
    async fn reader(&self) -> Result<deadpool_postgres::Object, LedgerError> {
        let client = self.live.reader().await.map_err(store)?;
        client
            .batch_execute("SET jit = off")
            .await
            .map_err(db("set up a connection"))?;
        Ok(client)
    }

    fn chunks(
        &self,
        sql: String,
        params: &Params,
        schema: SchemaRef,
    ) -> Result<Chunks, LedgerError> {
        let (client, rows) = self.handle.block_on(async {
            let client = self.reader().await?;
            let rows = client
                .query_raw(&sql, params.iter().map(|p| &**p as &(dyn ToSql + Sync)))
                .await
                .map_err(db("query the ledger"))?;
            Ok::<_, LedgerError>((client, rows))
        })?;
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        self.handle.spawn(produce(client, rows, schema, tx));
        Ok(Chunks { rx })
    }

    fn count(&self, sql: String, params: &Params) -> Result<u64, LedgerError> {
        self.handle.block_on(async {
            let client = self.reader().await?;
            let n: i64 = client
                .query_one(
                    &sql,
                    &params
                        .iter()
                        .map(|p| &**p as &(dyn ToSql + Sync))
                        .collect::<Vec<_>>(),
                )
                .await
                .map_err(db("count the ledger's rows"))?
                .get(0);
            Ok(n.max(0) as u64)
        })
    }
}

impl TableSource for PgLedgers {
    fn run(
        &self,
        areas: &AreaTree,
        q: &Query,
        access: Access,
        sink: &mut dyn Sink,
    ) -> Result<Summary, LedgerError> {
        query::check(q, areas)?;
        let t = table(q.ledger)?;
        let (filter, params) = where_clause(q, self.seq_range(q.ledger, q.area))?;
        let count_sql = format!("SELECT count(*) FROM {}{filter}", t.name);
        if !sink.wants_rows() {
            return Ok(Summary {
                rows: self.count(count_sql, &params)?,
                written: 0,
            });
        }
        let cols = columns_read(q, &t);
        let schema: SchemaRef = Arc::new(Schema::new(
            cols.iter()
                .map(|(k, dt)| ArrowField::new(*k, dt.clone(), false))
                .collect::<Vec<_>>(),
        ));
        let list = if cols.is_empty() {
            // No column needed (no field, no filter): rows are still rows.
            "seq".to_string()
        } else {
            cols.iter()
                .map(|(k, _)| ident(k))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let schema = if cols.is_empty() {
            Arc::new(Schema::new(vec![ArrowField::new(
                "seq",
                DataType::UInt64,
                false,
            )]))
        } else {
            schema
        };
        let mut sql = format!("SELECT {list} FROM {}{filter} ORDER BY seq", t.name);
        match sink.row_limit() {
            Some(n) => {
                // A preview: the count, and its first rows only.
                let total = self.count(count_sql, &params)?;
                let mut params = params;
                params.push(Box::new(i64::try_from(n).unwrap_or(i64::MAX)));
                sql.push_str(&format!(" LIMIT ${}", params.len()));
                let chunks = self.chunks(sql, &params, schema)?;
                let s = query::run_batches(chunks, areas, q, access, sink)?;
                Ok(Summary {
                    rows: total,
                    written: s.written,
                })
            }
            None => {
                let chunks = self.chunks(sql, &params, schema)?;
                query::run_batches(chunks, areas, q, access, sink)
            }
        }
    }

    fn rows(&self, ledger: Ledger) -> u64 {
        self.rows
            .iter()
            .find(|(l, _)| *l == ledger)
            .map_or(0, |(_, n)| *n)
    }

    fn describe(&self) -> String {
        format!("PostGIS {}", self.live.target())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_ledger_has_its_table() {
        for l in Ledger::STORED {
            table(l).unwrap();
        }
    }

    #[test]
    fn birth_bounds_agree_with_the_age_count() {
        let d = onemap_core::time::days_from_civil;
        for today in [
            d(2026, 2, 28),
            d(2028, 2, 29),
            d(2026, 3, 1),
            d(2026, 12, 31),
        ] {
            for m in [1u32, 2, 18, 26, 60, 100] {
                let b = latest_birth_aged(m, today);
                assert!(age_on(b, today) >= m, "{m} {b}");
                assert!(age_on(b + 1, today) < m, "{m} {b}");
            }
        }
    }

    #[test]
    fn subtree_ranges_are_the_ancestry() {
        let a = AreaId::new(350_304_003).unwrap();
        let q = Query {
            area: Some(a),
            ..Query::new(Ledger::People, 20_000)
        };
        let (sql, params) = where_clause(&q, None).unwrap();
        // Town, village, grid, unit: a range each.
        assert_eq!(params.len(), 8, "{sql}");
        assert_eq!(sql.matches("area_id >=").count(), 4);
    }
}
