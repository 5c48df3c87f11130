//! People's accounts and their sessions in PostGIS.

use super::{parse, PgLive};
use crate::live::tokens::{self, IssuedToken};
use crate::live::users::{UserGrant, UserInfo, SESSION_SECS};
use crate::postgres::{from_time, to_time};
use crate::StoreError;
use std::time::SystemTime;

const USER_COLUMNS: &str = "name, display_name, role, scope, created_at, disabled_at";

impl PgLive {
    /// Creates an account with this (already hashed) password.
    pub async fn create_user(
        &self,
        grant: &UserGrant,
        password_hash: &str,
        now: i64,
    ) -> Result<UserInfo, StoreError> {
        grant.check()?;
        let c = self.client().await?;
        let n = c
            .execute(
                "INSERT INTO users (name, display_name, password_hash, role, scope, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                &[
                    &grant.name,
                    &grant.display_name.trim(),
                    &password_hash,
                    &grant.role.as_str(),
                    &grant.scope.to_string(),
                    &to_time("users", now)?,
                ],
            )
            .await
            .map_err(self.err("store a user"))?;
        if n == 0 {
            return Err(StoreError::UserExists(grant.name.clone()));
        }
        Ok(UserInfo::created(grant, now))
    }

    /// Every account, by name.
    pub async fn users(&self) -> Result<Vec<UserInfo>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
                &[],
            )
            .await
            .map_err(self.err("list users"))?;
        rows.iter().map(user).collect()
    }

    /// An account and its password hash, to sign in with.
    pub async fn user_login(&self, name: &str) -> Result<Option<(UserInfo, String)>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = $1"),
                &[&name],
            )
            .await
            .map_err(self.err("look up a user"))?;
        row.map(|r| Ok((user(&r)?, r.get::<_, String>(6))))
            .transpose()
    }

    /// Sets an account's password (already hashed) and ends its sessions.
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("change a password"))?;
        let n = tx
            .execute(
                "UPDATE users SET password_hash = $2 WHERE name = $1",
                &[&name, &password_hash],
            )
            .await
            .map_err(self.err("change a password"))?;
        if n == 0 {
            return Err(StoreError::UnknownUser(name.to_string()));
        }
        tx.execute(
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE user_name = $1",
            &[&name, &to_time("tokens", now)?],
        )
        .await
        .map_err(self.err("end sessions"))?;
        Ok(tx.commit().await.map_err(self.err("change a password"))?)
    }

    /// Disables an account and ends its sessions.
    pub async fn disable_user(&self, name: &str, now: i64) -> Result<UserInfo, StoreError> {
        let at = to_time("users", now)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err("disable a user"))?;
        let row = tx
            .query_opt(
                &format!(
                    "UPDATE users SET disabled_at = coalesce(disabled_at, $2) WHERE name = $1
                     RETURNING {USER_COLUMNS}"
                ),
                &[&name, &at],
            )
            .await
            .map_err(self.err("disable a user"))?;
        let Some(row) = row else {
            return Err(StoreError::UnknownUser(name.to_string()));
        };
        tx.execute(
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE user_name = $1",
            &[&name, &at],
        )
        .await
        .map_err(self.err("end sessions"))?;
        tx.commit().await.map_err(self.err("disable a user"))?;
        user(&row)
    }

    /// Issues a session for an account: a token row naming it, with the
    /// account's role and scope, until [`SESSION_SECS`] from `now`.
    pub async fn create_session(&self, u: &UserInfo, now: i64) -> Result<IssuedToken, StoreError> {
        let (token, hash) = tokens::issue().map_err(|e| StoreError::Worker(e.to_string()))?;
        let c = self.client().await?;
        c.execute(
            "INSERT INTO tokens (hash, role, scope, name, created_at, expires_at, user_name)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &hash,
                &u.role.as_str(),
                &u.scope,
                &u.display_name,
                &to_time("tokens", now)?,
                &to_time("tokens", now + SESSION_SECS)?,
                &u.name,
            ],
        )
        .await
        .map_err(self.err("store a session"))?;
        Ok(IssuedToken {
            token,
            id: tokens::token_id(&hash),
        })
    }

    /// Ends the session (or revokes the token) with this secret.
    pub async fn end_session(&self, token: &str, now: i64) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE hash = $1",
            &[&tokens::token_hash(token), &to_time("tokens", now)?],
        )
        .await
        .map_err(self.err("end a session"))?;
        Ok(())
    }
}

fn user(r: &tokio_postgres::Row) -> Result<UserInfo, StoreError> {
    let disabled: Option<SystemTime> = r.get(5);
    Ok(UserInfo {
        name: r.get(0),
        display_name: r.get(1),
        role: parse("users", r.get::<_, &str>(2))?,
        scope: r.get(3),
        created_at: from_time("users", r.get(4))?,
        disabled_at: disabled.map(|t| from_time("users", t)).transpose()?,
    })
}
