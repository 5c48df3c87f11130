//! `onemap user create|list|disable|passwd`: people's accounts, in the
//! embedded store of a city directory or in PostGIS (as tokens are).

use crate::args::{UserArgs, UserCommand};
use crate::tokens::open;
use anyhow::Context;
use onemap_core::workflow::Scope;
use onemap_core::Role;
use onemap_store::{hash_password, UserGrant, UserInfo};
use std::io::BufRead;

pub fn run(a: UserArgs) -> anyhow::Result<i32> {
    crate::pg::runtime()?.block_on(async move {
        let now = onemap_core::time::now();
        match a.command {
            UserCommand::Create {
                name,
                display_name,
                role,
                scope,
                store,
            } => {
                let grant = UserGrant {
                    name: name.trim().to_string(),
                    display_name: display_name.trim().to_string(),
                    role: role.parse::<Role>()?,
                    scope: scope.parse::<Scope>()?,
                };
                // Refused before anything is read or opened.
                grant.check()?;
                let hash = hash_password(&password()?)?;
                let (live, place) = open(&store).await?;
                let u = live.create_user(grant, hash, now).await?;
                eprintln!(
                    "user {} ({}, {}, {}) created in {place}",
                    u.name, u.display_name, u.role, u.scope
                );
            }
            UserCommand::List { json, store } => {
                let (live, _) = open(&store).await?;
                let list = live.users().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&list)?);
                } else {
                    print_table(&list);
                }
            }
            UserCommand::Disable { name, store } => {
                let (live, place) = open(&store).await?;
                let u = live.disable_user(&name, now).await?;
                eprintln!(
                    "disabled {} ({}) in {place}; its sessions end on every server within {} s",
                    u.name,
                    u.display_name,
                    onemap_live::ACTOR_TTL.as_secs()
                );
            }
            UserCommand::Passwd { name, store } => {
                let hash = hash_password(&password()?)?;
                let (live, place) = open(&store).await?;
                live.set_password(&name, hash, now).await?;
                eprintln!("password of {name} changed in {place}; its sessions ended");
            }
        }
        Ok(0)
    })
}

/// The password: ONEMAP_PASSWORD, else the first line of stdin.
fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("ONEMAP_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    anyhow::ensure!(
        !p.is_empty(),
        "no password: set ONEMAP_PASSWORD or give it on the first line of standard input"
    );
    Ok(p)
}

fn print_table(list: &[UserInfo]) {
    let date = |t: Option<i64>| t.map_or("-".to_string(), onemap_core::time::cst_date);
    println!(
        "{:<20}  {:<11}  {:<10}  {:<10}  {:<24}  display name",
        "name", "role", "created", "disabled", "scope"
    );
    for u in list {
        println!(
            "{:<20}  {:<11}  {:<10}  {:<10}  {:<24}  {}",
            u.name,
            u.role.as_str(),
            date(Some(u.created_at)),
            date(u.disabled_at),
            u.scope,
            u.display_name
        );
    }
}
