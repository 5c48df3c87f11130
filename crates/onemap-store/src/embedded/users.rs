//! People's accounts and their sessions in the embedded store.

use super::{db, EmbeddedStore};
use crate::live::tokens::{self, IssuedToken};
use crate::live::users::{UserGrant, UserInfo, SESSION_SECS};
use crate::StoreError;
use rusqlite::{params, OptionalExtension};

const USER_COLUMNS: &str = "name, display_name, role, scope, created_at, disabled_at";

impl EmbeddedStore {
    /// Creates an account with this (already hashed) password.
    pub fn create_user(
        &self,
        grant: &UserGrant,
        password_hash: &str,
        now: i64,
    ) -> Result<UserInfo, StoreError> {
        grant.check()?;
        let conn = self.lock();
        let n = conn
            .execute(
                "INSERT INTO users (name, display_name, password_hash, role, scope, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
                params![
                    grant.name,
                    grant.display_name.trim(),
                    password_hash,
                    grant.role.as_str(),
                    grant.scope.to_string(),
                    now
                ],
            )
            .map_err(|e| db(&self.path, "store a user", e))?;
        if n == 0 {
            return Err(StoreError::UserExists(grant.name.clone()));
        }
        Ok(UserInfo::created(grant, now))
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<UserInfo>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
            .map_err(|e| db(&self.path, "list users", e))?;
        let rows = stmt
            .query_map([], row_parts)
            .map_err(|e| db(&self.path, "list users", e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(self.user(r.map_err(|e| db(&self.path, "list users", e))?)?);
        }
        Ok(out)
    }

    /// An account and its password hash, to sign in with.
    pub fn user_login(&self, name: &str) -> Result<Option<(UserInfo, String)>, StoreError> {
        let row = self
            .lock()
            .query_row(
                &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = ?1"),
                params![name],
                |r| Ok((row_parts(r)?, r.get::<_, String>(6)?)),
            )
            .optional()
            .map_err(|e| db(&self.path, "look up a user", e))?;
        row.map(|(parts, hash)| Ok((self.user(parts)?, hash)))
            .transpose()
    }

    /// Sets an account's password (already hashed) and ends its sessions.
    pub fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "change a password", e))?;
        let n = tx
            .execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                params![name, password_hash],
            )
            .map_err(|e| db(&self.path, "change a password", e))?;
        if n == 0 {
            return Err(StoreError::UnknownUser(name.to_string()));
        }
        end_sessions(&tx, name, now).map_err(|e| db(&self.path, "end sessions", e))?;
        tx.commit()
            .map_err(|e| db(&self.path, "change a password", e))
    }

    /// Disables an account and ends its sessions; it can no longer sign in.
    pub fn disable_user(&self, name: &str, now: i64) -> Result<UserInfo, StoreError> {
        {
            let mut conn = self.lock();
            let tx = conn
                .transaction()
                .map_err(|e| db(&self.path, "disable a user", e))?;
            let n = tx
                .execute(
                    "UPDATE users SET disabled_at = coalesce(disabled_at, ?2) WHERE name = ?1",
                    params![name, now],
                )
                .map_err(|e| db(&self.path, "disable a user", e))?;
            if n == 0 {
                return Err(StoreError::UnknownUser(name.to_string()));
            }
            end_sessions(&tx, name, now).map_err(|e| db(&self.path, "end sessions", e))?;
            tx.commit()
                .map_err(|e| db(&self.path, "disable a user", e))?;
        }
        self.user_login(name)?
            .map(|(u, _)| u)
            .ok_or_else(|| StoreError::UnknownUser(name.to_string()))
    }

    /// Issues a session for an account: a token row naming it, with the
    /// account's role and scope, until [`SESSION_SECS`] from `now`.
    pub fn create_session(&self, user: &UserInfo, now: i64) -> Result<IssuedToken, StoreError> {
        let (token, hash) = tokens::issue().map_err(|source| StoreError::Io {
            action: "draw random bytes for a session for",
            path: self.path.clone(),
            source,
        })?;
        self.lock()
            .execute(
                "INSERT INTO tokens (hash, role, scope, name, created_at, expires_at, user_name) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    hash,
                    user.role.as_str(),
                    user.scope,
                    user.display_name,
                    now,
                    now + SESSION_SECS,
                    user.name
                ],
            )
            .map_err(|e| db(&self.path, "store a session", e))?;
        Ok(IssuedToken {
            token,
            id: tokens::token_id(&hash),
        })
    }

    /// Ends the session (or revokes the token) with this secret.
    pub fn end_session(&self, token: &str, now: i64) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE hash = ?1",
                params![tokens::token_hash(token), now],
            )
            .map_err(|e| db(&self.path, "end a session", e))?;
        Ok(())
    }

    fn user(&self, p: RowParts) -> Result<UserInfo, StoreError> {
        Ok(UserInfo {
            name: p.0,
            display_name: p.1,
            role: self.parse(&p.2)?,
            scope: p.3,
            created_at: p.4,
            disabled_at: p.5,
        })
    }
}

type RowParts = (String, String, String, String, i64, Option<i64>);

fn row_parts(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowParts> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn end_sessions(tx: &rusqlite::Transaction<'_>, name: &str, now: i64) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE user_name = ?1",
        params![name, now],
    )
}
