//! PostGIS as the system of record.
//!
//! [`PgStore::connect`] opens a connection from a `postgres://` URL, or
//! [`PgStore::connect_to`] to a [`PgTarget`] (a password set apart from
//! the URL, TLS required);
//! [`PgStore::migrate`] brings the schema up to date (the versioned
//! migrations of [`MIGRATIONS`], each in its own transaction, recorded in
//! `schema_migrations`); [`PgStore::import`] writes a whole [`CityData`] in one
//! transaction with binary COPY; [`PgStore::load`] reads it back, from one
//! consistent snapshot, into values equal to those imported (so a city
//! directory exported from the database is byte-identical to the one
//! imported). Geometry goes through geozero's EWKB support for
//! `tokio-postgres`. Table and column names come only from the registry in
//! `schema`; every value is a parameter or a binary COPY field.
//!
//! Connections are plain text unless the target requires TLS (`target`).

mod error;
mod geom;
mod live;
mod read;
mod schema;
mod target;
mod write;

pub use error::PgError;
pub use live::{Notice, PgLive, CHANGES_CHANNEL};
#[cfg(test)]
pub(crate) use schema::history_columns;
pub use schema::{schema_version, Migration, MIGRATIONS};
pub use target::PgTarget;

use onemap_core::{CityData, Layer};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config};

/// Key of the advisory lock that serializes migrations and imports.
const LOCK_KEY: i64 = 0x6f6e_656d_6170; // "onemap"

/// What to do when importing into a database that already holds a city.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Refuse, writing nothing.
    Refuse,
    /// Replace the old city with the new one in the same transaction:
    /// readers see the old city or the new one, never a mix.
    Replace,
}

/// Rows written or read so far, reported per table as work goes on.
pub type Progress<'a> = &'a mut (dyn FnMut(&'static str, u64) + Send);

/// Rows per layer table.
pub type Counts = Vec<(Layer, u64)>;

/// A connection to a PostGIS database holding (or about to hold) a city.
pub struct PgStore {
    client: Client,
    target: String,
    connection: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Parses a connection URL (`postgres://user:password@host:port/db`) or a
/// key=value connection string.
pub fn parse_url(url: &str) -> Result<Config, PgError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(PgError::BadUrl {
            reason: "empty (expected postgres://user@host:port/database)".into(),
        });
    }
    let config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| PgError::BadUrl {
            reason: format!(
                "{} (expected postgres://user@host:port/database)",
                error::describe(&e)
            ),
        })?;
    if config.get_hosts().is_empty() {
        return Err(PgError::BadUrl {
            reason: "no host (expected postgres://user@host:port/database)".into(),
        });
    }
    Ok(config)
}

/// Where a configuration points, without its password: `host:port/db`.
pub fn describe_target(config: &Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let port = config
        .get_ports()
        .first()
        .map_or(String::from("5432"), |p| p.to_string());
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

impl PgStore {
    /// Connects to the database at `url` (10 s connect timeout unless the
    /// URL sets one). Must be called within a tokio runtime.
    pub async fn connect(url: &str) -> Result<PgStore, PgError> {
        Self::connect_to(&PgTarget::parse(url)?).await
    }

    /// Connects to a target (10 s connect timeout unless it sets one).
    pub async fn connect_to(target: &PgTarget) -> Result<PgStore, PgError> {
        let mut config = target.config();
        let described = target.describe();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("onemap");
        let (client, connection) =
            config
                .connect(target.tls.clone())
                .await
                .map_err(|e| PgError::Connect {
                    target: described.clone(),
                    message: error::describe(&e),
                })?;
        let connection = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("PostgreSQL connection closed: {}", error::describe(&e));
            }
        });
        Ok(PgStore {
            client,
            target: described,
            connection,
        })
    }

    /// `host:port/database`, for messages (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The connection itself, for work of other crates on the same
    /// database (the one table's ledgers: `onemap import` and `export`).
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Whether the connection is still open.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The schema version of the database (0 before the first migration).
    pub async fn schema_version(&self) -> Result<i32, PgError> {
        read_version(&self.client).await
    }

    /// Fails unless the database is at the schema version this onemap
    /// needs (with the hint to migrate).
    pub async fn check_schema(&self) -> Result<(), PgError> {
        check_version(&self.client).await
    }

    /// Applies every migration the database lacks, each in its own
    /// transaction under an advisory lock (so two servers migrating at once
    /// apply each migration once). Returns the versions applied now: none
    /// when the database was up to date.
    pub async fn migrate(&mut self) -> Result<Vec<i32>, PgError> {
        self.client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version integer PRIMARY KEY,
                     name text NOT NULL,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(|e| PgError::sql("create schema_migrations", e))?;
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            let tx = self
                .client
                .transaction()
                .await
                .map_err(|e| PgError::sql("begin a migration", e))?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
                .await
                .map_err(|e| PgError::sql("lock for migration", e))?;
            let done = tx
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[&m.version],
                )
                .await
                .map_err(|e| PgError::sql("read schema_migrations", e))?
                .is_some();
            if done {
                continue;
            }
            tx.batch_execute(m.sql).await.map_err(|e| {
                PgError::sql(format!("apply migration {} ({})", m.version, m.name), e)
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&m.version, &m.name],
            )
            .await
            .map_err(|e| PgError::sql("record the migration", e))?;
            tx.commit().await.map_err(|e| {
                PgError::sql(format!("commit migration {} ({})", m.version, m.name), e)
            })?;
            applied.push(m.version);
        }
        Ok(applied)
    }

    /// Rows per layer table.
    pub async fn counts(&self) -> Result<Counts, PgError> {
        check_version(&self.client).await?;
        let mut out = Vec::new();
        for layer in Layer::ALL {
            let t = schema::layer_table(layer);
            let row = self
                .client
                .query_one(&format!("SELECT count(*) FROM {}", t.name), &[])
                .await
                .map_err(|e| PgError::sql(format!("count {}", t.name), e))?;
            out.push((layer, row.get::<_, i64>(0) as u64));
        }
        Ok(out)
    }

    /// Writes a whole city in one transaction. With [`ImportMode::Refuse`],
    /// a database that already holds a city is left as it is and the import
    /// fails with [`PgError::NotEmpty`]; with [`ImportMode::Replace`], the
    /// old city is removed in the same transaction. Any failure rolls back
    /// everything. `progress` hears of rows as they are sent.
    pub async fn import(
        &mut self,
        meta: &onemap_core::CityMeta,
        city: &CityData,
        mode: ImportMode,
        progress: Progress<'_>,
    ) -> Result<(), PgError> {
        write::import(&mut self.client, meta, city, mode, progress).await
    }

    /// Reads the whole city from one consistent snapshot.
    pub async fn load(
        &mut self,
        progress: Progress<'_>,
    ) -> Result<(onemap_core::CityMeta, CityData), PgError> {
        read::load(&mut self.client, progress).await
    }
}

/// The registry: every table onemap reads and writes with its columns and
/// their PostgreSQL type names (`pg_type.typname`), in order.
pub fn registry() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let mut tables = schema::city_tables();
    tables.extend(schema::live_tables());
    tables.extend(schema::ledger_tables());
    tables.push(schema::LEDGER_META);
    tables.sort_by_key(|t| t.name);
    tables
        .into_iter()
        .map(|t| {
            let cols = t
                .columns
                .iter()
                .map(|(n, ty)| (*n, ty.udt_name()))
                .collect();
            (t.name, cols)
        })
        .collect()
}

/// The table of the stored ledger `key` (`people`, `houses`, …): its name
/// and its columns with their PostgreSQL type names, `seq` (the row's place
/// in its ledger's file) and `batch` (its village batch) first.
pub fn ledger_table(key: &str) -> Option<(&'static str, Vec<(&'static str, &'static str)>)> {
    let name = format!("ledger_{key}");
    schema::ledger_tables()
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| {
            (
                t.name,
                t.columns
                    .iter()
                    .map(|(n, ty)| (*n, ty.udt_name()))
                    .collect(),
            )
        })
}

/// The table of the stored ledgers' metadata: (ledger, key, value).
pub const LEDGER_META_TABLE: &str = schema::LEDGER_META.name;

/// A connection that comes back by itself: holds the current [`PgStore`]
/// and, with [`PgLink::spawn_reconnect`], replaces it with a new one when
/// the database goes away and returns.
pub struct PgLink {
    config: PgTarget,
    target: String,
    current: std::sync::RwLock<Arc<PgStore>>,
    reconnects: std::sync::atomic::AtomicU64,
}

impl PgLink {
    /// Wraps a store connected to `target`.
    pub fn new(store: PgStore, target: &PgTarget) -> Arc<PgLink> {
        Arc::new(PgLink {
            target: store.target.clone(),
            config: target.clone(),
            current: std::sync::RwLock::new(Arc::new(store)),
            reconnects: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// The current connection (possibly closed).
    pub fn store(&self) -> Arc<PgStore> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the current connection is open.
    pub fn is_connected(&self) -> bool {
        !self.store().is_closed()
    }

    /// How many times the link has reconnected.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks the connection every `every` and reconnects when it is
    /// closed (trying again at the next check when the database is still
    /// away). Runs until the task is aborted.
    pub fn spawn_reconnect(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let link = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if link.is_connected() {
                    continue;
                }
                match PgStore::connect_to(&link.config).await {
                    Ok(store) => {
                        *link.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(store);
                        link.reconnects
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::info!("reconnected to PostgreSQL at {}", link.target);
                    }
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        })
    }
}

impl std::fmt::Debug for PgLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLink")
            .field("target", &self.target)
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// Rows a city makes in the layer tables (for a progress total).
pub fn city_rows(city: &CityData) -> u64 {
    (city.areas.len()
        + city.events.len()
        + city.ships.len()
        + city.heritage.len()
        + city.homesteads.len()
        + city.enterprises.len()
        + city.schools.len()) as u64
}

async fn read_version(client: &impl tokio_postgres::GenericClient) -> Result<i32, PgError> {
    let exists = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await
        .map_err(|e| PgError::sql("read the schema version", e))?
        .get::<_, bool>(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(|e| PgError::sql("read the schema version", e))?;
    Ok(row.get(0))
}

/// Fails unless the database is at exactly the schema version we know.
async fn check_version(client: &impl tokio_postgres::GenericClient) -> Result<(), PgError> {
    let found = read_version(client).await?;
    let expected = schema_version();
    if found < expected {
        Err(PgError::NotMigrated { found, expected })
    } else if found > expected {
        Err(PgError::NewerSchema {
            found,
            known: expected,
        })
    } else {
        Ok(())
    }
}

/// The connection's type for a registry column type.
async fn pg_type(
    client: &impl tokio_postgres::GenericClient,
    ty: schema::Ty,
    geometry: &mut Option<Type>,
) -> Result<Type, PgError> {
    use schema::Ty;
    Ok(match ty {
        Ty::Int8 => Type::INT8,
        Ty::Int4 => Type::INT4,
        Ty::Int2 => Type::INT2,
        Ty::Date => Type::DATE,
        Ty::Text => Type::TEXT,
        Ty::Float8 => Type::FLOAT8,
        Ty::Float4 => Type::FLOAT4,
        Ty::Bool => Type::BOOL,
        Ty::Timestamptz => Type::TIMESTAMPTZ,
        Ty::Numeric => Type::NUMERIC,
        Ty::Bytea => Type::BYTEA,
        Ty::Geometry => {
            if let Some(t) = geometry {
                return Ok(t.clone());
            }
            let stmt = client
                .prepare("SELECT NULL::geometry")
                .await
                .map_err(|e| PgError::sql("look up the PostGIS geometry type", e))?;
            let t = stmt.columns()[0].type_().clone();
            *geometry = Some(t.clone());
            t
        }
    })
}

/// The connection's types of a table's columns, in order.
async fn column_types(
    client: &impl tokio_postgres::GenericClient,
    table: &schema::Table,
    geometry: &mut Option<Type>,
) -> Result<Vec<Type>, PgError> {
    let mut out = Vec::with_capacity(table.columns.len());
    for (_, ty) in table.columns {
        out.push(pg_type(client, *ty, geometry).await?);
    }
    Ok(out)
}

/// Unix seconds as a `timestamptz` value (years 1–9999).
fn to_time(table: &'static str, secs: i64) -> Result<std::time::SystemTime, PgError> {
    const MIN: i64 = -62_135_596_800; // 0001-01-01
    const MAX: i64 = 253_402_300_799; // 9999-12-31 23:59:59
    if !(MIN..=MAX).contains(&secs) {
        return Err(PgError::invalid(
            table,
            format!("time {secs} (Unix seconds) is outside years 1-9999"),
        ));
    }
    let epoch = std::time::UNIX_EPOCH;
    Ok(if secs >= 0 {
        epoch + Duration::from_secs(secs as u64)
    } else {
        epoch - Duration::from_secs(secs.unsigned_abs())
    })
}

/// A `timestamptz` value as Unix seconds; it must be a whole second.
fn from_time(table: &'static str, t: std::time::SystemTime) -> Result<i64, PgError> {
    let (d, sign) = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (d, 1),
        Err(e) => (e.duration(), -1),
    };
    if d.subsec_nanos() != 0 {
        return Err(PgError::invalid(
            table,
            format!("time {t:?} is not a whole second"),
        ));
    }
    Ok(sign * d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_system_time() {
        for secs in [0, 1, -5, 1_700_000_000, -62_135_596_800, 253_402_300_799] {
            assert_eq!(from_time("t", to_time("t", secs).unwrap()).unwrap(), secs);
        }
        assert!(to_time("t", i64::MAX)
            .unwrap_err()
            .to_string()
            .contains("outside"));
        let half = std::time::UNIX_EPOCH + Duration::from_millis(1500);
        assert!(from_time("t", half).is_err());
    }

    #[test]
    fn urls_parse_or_fail_with_a_reason() {
        let c = parse_url("postgres://me:secret@db.example:5433/city").unwrap();
        assert_eq!(describe_target(&c), "db.example:5433/city");
        for bad in [
            "",
            "mysql://x",
            "postgres://host:notaport/db",
            "postgres:///db",
        ] {
            let e = parse_url(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid PostgreSQL URL"), "{bad}: {e}");
        }
    }
}
