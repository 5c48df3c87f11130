//! The embedded store: one GeoPackage (SQLite) file that keeps what the
//! event loop changes — reported events, every move, the bearer tokens,
//! and the ships' position history and port crossings — so a demo without
//! PostGIS loses nothing on restart. QGIS and GDAL open the file directly
//! (`events` and `ship_positions` are point feature tables in EPSG:4326).
//!
//! The city's base data stays in its FlatGeobuf files; this file holds only
//! events that were reported or moved since, each in its latest state, and
//! the history of their moves. Every change is one SQLite transaction that
//! re-reads the event inside it (the loop itself is
//! [`crate::live::workflow`], shared with PostGIS), so two changes of one
//! event never both pass the check against a stale status.
//!
//! - `schema`: the tables and the migrations of older files;
//! - `events`: the loop's primitives over a SQLite transaction, and reads;
//! - `ships`: position history and crossings;
//! - `gpkg`: GeoPackage point blobs.

mod events;
mod gpkg;
mod schema;
mod ships;
#[cfg(test)]
mod tests;

use crate::live::tokens::{self, token_hash};
use crate::StoreError;
use onemap_core::workflow::{Actor, Scope};
use onemap_core::Role;
use rusqlite::{params, Connection, OptionalExtension};
use schema::{GPKG_APPLICATION_ID, GPKG_VERSION, MIGRATIONS, SCHEMA_V1, SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file name of the embedded store inside a city directory.
pub const EMBEDDED_FILE: &str = "onemap.gpkg";

/// The embedded store (see the module docs). Cheap to share; calls block
/// (run them off the async threads).
#[derive(Debug)]
pub struct EmbeddedStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl EmbeddedStore {
    /// Opens the store at `path`, creating an empty one when the file does
    /// not exist, and migrating one an older onemap wrote. A file that is
    /// not onemap's GeoPackage, or is newer than this onemap, is refused.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let fresh = !path.exists();
        let conn = Connection::open(path).map_err(|e| db(path, "open the store", e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| db(path, "configure the store", e))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| db(path, "configure the store", e))?;
        let store = EmbeddedStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        };
        let version = if fresh {
            store.create()?;
            1
        } else {
            store.version()?
        };
        store.migrate(version, fresh)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new file at version 1 (the migrations then bring it up to date).
    fn create(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "create the store", e))?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {GPKG_APPLICATION_ID}; PRAGMA user_version = {GPKG_VERSION};{SCHEMA_V1}"
        ))
        .and_then(|_| tx.execute("INSERT INTO onemap_schema (version) VALUES (1)", []))
        .map_err(|e| db(&self.path, "create the store", e))?;
        tx.commit()
            .map_err(|e| db(&self.path, "create the store", e))
    }

    /// The schema version of an existing file, which must be ours.
    fn version(&self) -> Result<i64, StoreError> {
        let conn = self.lock();
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| db(&self.path, "read the store", e))?;
        if app != GPKG_APPLICATION_ID {
            return Err(StoreError::NotOurDatabase {
                path: self.path.clone(),
                reason: "not a GeoPackage (wrong SQLite application id)".into(),
            });
        }
        let version: Option<i64> = conn
            .query_row("SELECT max(version) FROM onemap_schema", [], |r| r.get(0))
            .map_err(|_| StoreError::NotOurDatabase {
                path: self.path.clone(),
                reason: "a GeoPackage, but not onemap's store (no onemap_schema table)".into(),
            })?;
        match version {
            Some(v) if (1..=SCHEMA_VERSION).contains(&v) => Ok(v),
            v => Err(StoreError::NotOurDatabase {
                path: self.path.clone(),
                reason: format!(
                    "store schema version {} is not one this onemap knows (1 to {SCHEMA_VERSION})",
                    v.map_or("(none)".to_string(), |v| v.to_string())
                ),
            }),
        }
    }

    /// Applies the migrations after `from`, each in its own transaction
    /// (said in the log, but for a file made just now).
    fn migrate(&self, from: i64, fresh: bool) -> Result<(), StoreError> {
        for (version, what, sql) in MIGRATIONS.iter().filter(|m| m.0 > from) {
            let mut conn = self.lock();
            let tx = conn
                .transaction()
                .map_err(|e| db(&self.path, "migrate the store", e))?;
            tx.execute_batch(sql)
                .and_then(|_| {
                    tx.execute("INSERT INTO onemap_schema (version) VALUES (?1)", [version])
                })
                .map_err(|e| db(&self.path, "migrate the store", e))?;
            tx.commit()
                .map_err(|e| db(&self.path, "migrate the store", e))?;
            if !fresh {
                tracing::info!(
                    "{}: store schema migrated to version {version} ({what})",
                    self.path.display()
                );
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction
        // (SQLite rolls it back), so the connection stays usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a bearer token for `role` in `scope` to `name` and returns
    /// it; only its SHA-256 is kept.
    pub fn create_token(
        &self,
        role: Role,
        scope: &Scope,
        name: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let (token, hash) = tokens::issue().map_err(|source| StoreError::Io {
            action: "draw random bytes for a token for",
            path: self.path.clone(),
            source,
        })?;
        self.lock()
            .execute(
                "INSERT INTO tokens (hash, role, scope, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, role.as_str(), scope.to_string(), name, now],
            )
            .map_err(|e| db(&self.path, "store a token", e))?;
        Ok(token)
    }

    /// Who a bearer token speaks for, if it is one of ours.
    pub fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let row: Option<(String, String, String)> = self
            .lock()
            .query_row(
                "SELECT role, scope, name FROM tokens WHERE hash = ?1",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| db(&self.path, "look up a token", e))?;
        row.map(|(role, scope, name)| {
            Ok(Actor {
                role: self.parse(&role)?,
                scope: self.parse(&scope)?,
                name,
            })
        })
        .transpose()
    }

    /// A stored text value as `T`; an error naming the file when it no
    /// longer parses (edited by hand?).
    fn parse<T: std::str::FromStr>(&self, s: &str) -> Result<T, StoreError> {
        s.parse().map_err(|_| StoreError::BadStoredValue {
            path: self.path.clone(),
            reason: format!("'{s}'"),
        })
    }
}

fn db(path: &Path, action: &'static str, source: rusqlite::Error) -> StoreError {
    StoreError::Database {
        action,
        path: path.to_path_buf(),
        source,
    }
}
