//! `onemap token create|list|revoke`: bearer tokens, in the embedded store
//! of a city directory or in PostGIS — one code path for both, through
//! `LiveStore`.

use crate::args::{StoreArgs, TokenArgs, TokenCommand};
use anyhow::Context;
use onemap_core::workflow::Scope;
use onemap_core::Role;
use onemap_store::{LiveStore, PgLive, PgStore, TokenGrant, TokenInfo};
use std::sync::Arc;

pub fn run(a: TokenArgs) -> anyhow::Result<i32> {
    crate::pg::runtime()?.block_on(async move {
        let now = onemap_core::time::now();
        match a.command {
            TokenCommand::Create {
                role,
                scope,
                name,
                expires_in,
                expires,
                store,
            } => {
                let role: Role = role.parse()?;
                let scope: Scope = scope.parse()?;
                let expires_at = match (expires_in, expires) {
                    (Some(secs), _) => Some(now + secs),
                    (None, Some(t)) => Some(t.unix()),
                    (None, None) => None,
                };
                anyhow::ensure!(
                    expires_at.is_none_or(|t| t > now),
                    "--expires is in the past"
                );
                let grant = TokenGrant {
                    role,
                    scope,
                    name: name.trim().to_string(),
                    expires_at,
                };
                // Refused before the store is opened.
                grant.check()?;
                let (live, place) = open(&store).await?;
                let issued = live.issue_token(grant.clone(), now).await?;
                let until = expires_at.map_or("until revoked".to_string(), |t| {
                    format!("until {}", onemap_core::time::cst_date(t))
                });
                eprintln!(
                    "token {} for {} ({}, {}, {until}) stored in {place}; it is shown only now:",
                    issued.id, grant.name, grant.role, grant.scope
                );
                println!("{}", issued.token);
            }
            TokenCommand::List { json, store } => {
                let (live, _) = open(&store).await?;
                let list = live.tokens().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&list)?);
                } else {
                    print_table(&list, now);
                }
            }
            TokenCommand::Revoke { id, store } => {
                let (live, place) = open(&store).await?;
                let t = live.revoke_token(&id, now).await?;
                eprintln!(
                    "revoked {} ({}, {}, {}) in {place}; servers refuse it within {} s",
                    t.id,
                    t.name,
                    t.role,
                    t.scope,
                    onemap_live::ACTOR_TTL.as_secs()
                );
            }
        }
        Ok(0)
    })
}

/// The store the tokens are kept in, and where it is (for messages).
pub(crate) async fn open(s: &StoreArgs) -> anyhow::Result<(LiveStore, String)> {
    if let Some(url) = &s.postgres {
        // Fail early, with the migration hint, on a database not set up.
        let store = PgStore::connect(url).await?;
        store.check_schema().await?;
        let live = LiveStore::Postgres(Arc::new(PgLive::new(url)?));
        return Ok((live, format!("PostGIS {}", store.target())));
    }
    if !s.data.is_dir() && s.store.is_none() {
        anyhow::bail!(
            "city directory {} does not exist (generate one with `onemap synth`, or give --store)",
            s.data.display()
        );
    }
    let path = crate::serve::store_path(&s.data, s.store.as_deref());
    let store = onemap_store::EmbeddedStore::open(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    Ok((
        LiveStore::Embedded(Arc::new(store)),
        path.display().to_string(),
    ))
}

fn print_table(list: &[TokenInfo], now: i64) {
    let date = |t: Option<i64>| t.map_or("-".to_string(), onemap_core::time::cst_date);
    println!(
        "{:<20}  {:<11}  {:<10}  {:<10}  {:<8}  {:<24}  name",
        "id", "role", "created", "expires", "state", "scope"
    );
    for t in list {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        // Names last: Chinese characters are two columns wide.
        println!(
            "{:<20}  {:<11}  {:<10}  {:<10}  {:<8}  {:<24}  {}",
            t.id,
            t.role.as_str(),
            date(Some(t.created_at)),
            date(t.expires_at),
            state,
            t.scope,
            t.name
        );
    }
}

/// A duration: a number followed by s, m, h or d (`90d`, `12h`); seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let bad = || format!("'{s}' is not a duration: a number and s, m, h or d (e.g. 90d, 12h)");
    let (digits, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    n.checked_mul(per).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("3600s"), Ok(3_600));
        for bad in ["", "d", "12", "1w", "-3d", "0h", "x1d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
