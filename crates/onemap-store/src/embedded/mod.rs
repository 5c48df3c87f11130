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
//! - `photos`: events' photos;
//! - `gpkg`: GeoPackage point blobs.

mod coord;
mod downloads;
mod events;
mod gpkg;
mod lists;
mod photos;
mod schema;
mod ships;
mod templates;
#[cfg(test)]
mod tests;
mod users;

use crate::live::tokens::{self, token_hash, IssuedToken, TokenGrant, TokenInfo};
use crate::live::users::user_account;
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
            // A migration may rebuild a table others refer to: foreign keys
            // are off while it runs (SQLite ignores the pragma inside a
            // transaction) and checked before it commits.
            conn.execute_batch("PRAGMA foreign_keys = OFF")
                .map_err(|e| db(&self.path, "migrate the store", e))?;
            let done = (|| {
                let tx = conn.transaction()?;
                tx.execute_batch(sql)?;
                tx.execute("INSERT INTO onemap_schema (version) VALUES (?1)", [version])?;
                let broken: Option<String> = tx
                    .query_row("SELECT \"table\" FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if let Some(table) = broken {
                    return Ok(Some(table));
                }
                tx.commit()?;
                Ok(None)
            })();
            conn.execute_batch("PRAGMA foreign_keys = ON")
                .map_err(|e| db(&self.path, "migrate the store", e))?;
            if let Some(table) = done.map_err(|e| db(&self.path, "migrate the store", e))? {
                return Err(StoreError::NotOurDatabase {
                    path: self.path.clone(),
                    reason: format!(
                        "migration to version {version} would leave {table} pointing at rows that do not exist"
                    ),
                });
            }
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

    /// Issues a bearer token for `role` in `scope` to `name`, until revoked,
    /// and returns it; only its SHA-256 is kept.
    pub fn create_token(
        &self,
        role: Role,
        scope: &Scope,
        name: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let grant = TokenGrant {
            role,
            scope: scope.clone(),
            name: name.to_string(),
            expires_at: None,
        };
        Ok(self.issue_token(&grant, now)?.token)
    }

    /// Issues a token as `grant` says (refused when its role and scope do not
    /// go together); only its SHA-256 is kept.
    pub fn issue_token(&self, grant: &TokenGrant, now: i64) -> Result<IssuedToken, StoreError> {
        grant.check()?;
        let (token, hash) = tokens::issue().map_err(|source| StoreError::Io {
            action: "draw random bytes for a token for",
            path: self.path.clone(),
            source,
        })?;
        self.lock()
            .execute(
                "INSERT INTO tokens (hash, role, scope, name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    hash,
                    grant.role.as_str(),
                    grant.scope.to_string(),
                    grant.name.trim(),
                    now,
                    grant.expires_at
                ],
            )
            .map_err(|e| db(&self.path, "store a token", e))?;
        Ok(IssuedToken {
            token,
            id: tokens::token_id(&hash),
        })
    }

    /// Every token, oldest first (never the secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare("SELECT hash, role, scope, name, created_at, expires_at, revoked_at FROM tokens WHERE user_name IS NULL ORDER BY created_at, hash")
            .map_err(|e| db(&self.path, "list tokens", e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .map_err(|e| db(&self.path, "list tokens", e))?;
        let mut out = Vec::new();
        for r in rows {
            let (hash, role, scope, name, created_at, expires_at, revoked_at) =
                r.map_err(|e| db(&self.path, "list tokens", e))?;
            out.push(TokenInfo {
                id: tokens::token_id(&hash),
                role: self.parse(&role)?,
                scope,
                name,
                created_at,
                expires_at,
                revoked_at,
            });
        }
        Ok(out)
    }

    /// Revokes the token with this public id (or hash prefix, at least 8
    /// hex digits, naming one token) at `now`; from then on it is refused.
    pub fn revoke_token(&self, id: &str, now: i64) -> Result<TokenInfo, StoreError> {
        let one = tokens::one_named(self.tokens()?, id)?;
        self.lock()
            .execute(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?1) WHERE substr(hash, 1, 16) = ?2",
                params![now, &one.id[4..]],
            )
            .map_err(|e| db(&self.path, "revoke a token", e))?;
        Ok(TokenInfo {
            revoked_at: one.revoked_at.or(Some(now)),
            ..one
        })
    }

    /// Who a bearer token speaks for, if it is one of ours and neither
    /// revoked nor expired at `now`.
    pub fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let now = onemap_core::time::now();
        let hash = token_hash(token);
        let row: Option<(String, String, String, Option<String>)> = self
            .lock()
            .query_row(
                "SELECT role, scope, name, user_name FROM tokens WHERE hash = ?1 \
                 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
                params![hash, now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| db(&self.path, "look up a token", e))?;
        row.map(|(role, scope, name, user)| {
            Ok(Actor {
                role: self.parse(&role)?,
                scope: self.parse(&scope)?,
                name,
                account: user.map_or_else(|| tokens::token_id(&hash), |u| user_account(&u)),
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
