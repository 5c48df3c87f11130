//! Bearer tokens in PostGIS: only their hashes, with their grant, expiry
//! and revocation.

use super::{parse, PgLive};
use crate::live::tokens::{self, token_hash, IssuedToken, TokenGrant, TokenInfo};
use crate::live::users::user_account;
use crate::postgres::{from_time, to_time};
use crate::StoreError;
use onemap_core::workflow::{Actor, Scope};
use onemap_core::Role;
use std::time::SystemTime;

impl PgLive {
    /// Issues a bearer token for `role` in `scope` to `name`, until revoked;
    /// only its SHA-256 is kept.
    pub async fn create_token(
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
        Ok(self.issue_token(&grant, now).await?.token)
    }

    /// Issues a token as `grant` says (refused when its role and scope do not
    /// go together); only its SHA-256 is kept.
    pub async fn issue_token(
        &self,
        grant: &TokenGrant,
        now: i64,
    ) -> Result<IssuedToken, StoreError> {
        grant.check()?;
        let (token, hash) = tokens::issue().map_err(|e| StoreError::Worker(e.to_string()))?;
        let expires = grant.expires_at.map(|t| to_time("tokens", t)).transpose()?;
        let c = self.client().await?;
        c.execute(
            "INSERT INTO tokens (hash, role, scope, name, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &hash,
                &grant.role.as_str(),
                &grant.scope.to_string(),
                &grant.name.trim(),
                &to_time("tokens", now)?,
                &expires,
            ],
        )
        .await
        .map_err(self.err("store a token"))?;
        Ok(IssuedToken {
            token,
            id: tokens::token_id(&hash),
        })
    }

    /// Every token, oldest first (never the secrets).
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT hash, role, scope, name, created_at, expires_at, revoked_at
                 FROM tokens WHERE user_name IS NULL ORDER BY created_at, hash",
                &[],
            )
            .await
            .map_err(self.err("list tokens"))?;
        let time = |t: Option<SystemTime>| t.map(|t| from_time("tokens", t)).transpose();
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: tokens::token_id(r.get::<_, &str>(0)),
                    role: parse("tokens", r.get::<_, &str>(1))?,
                    scope: r.get(2),
                    name: r.get(3),
                    created_at: from_time("tokens", r.get(4))?,
                    expires_at: time(r.get(5))?,
                    revoked_at: time(r.get(6))?,
                })
            })
            .collect()
    }

    /// Revokes the token with this public id (or hash prefix naming one
    /// token) at `now`; from then on every server refuses it.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<TokenInfo, StoreError> {
        let one = tokens::one_named(self.tokens().await?, id)?;
        let c = self.client().await?;
        c.execute(
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE left(hash, 16) = $2",
            &[&to_time("tokens", now)?, &&one.id[4..]],
        )
        .await
        .map_err(self.err("revoke a token"))?;
        Ok(TokenInfo {
            revoked_at: one.revoked_at.or(Some(now)),
            ..one
        })
    }

    /// Who a bearer token speaks for, if it is one of ours and neither
    /// revoked nor expired.
    pub async fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let hash = token_hash(token);
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT role, scope, name, user_name FROM tokens WHERE hash = $1
                   AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
                &[&hash],
            )
            .await
            .map_err(self.err("look up a token"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Actor {
            role: parse("tokens", row.get::<_, &str>(0))?,
            scope: parse("tokens", row.get::<_, &str>(1))?,
            name: row.get(2),
            account: row
                .get::<_, Option<String>>(3)
                .map_or_else(|| tokens::token_id(&hash), |u| user_account(&u)),
        }))
    }
}
