//! `onemap serve`: load a city (from a directory or PostGIS), index it, and
//! serve it over HTTP.

use crate::args::ServeArgs;
use anyhow::Context;
use onemap_index::City;
use onemap_live::Live;
use onemap_server::{AppState, ServerConfig, StoreHandle};
use onemap_store::{LiveStore, PgLink, PgLive, PgStore, PgTarget};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

pub fn run(a: ServeArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let started = Instant::now();
        // Changes committed from here on are heard again after the load
        // (see the listener below), so none falls between load and listen.
        let load_from = onemap_core::time::now();
        let (meta, data, source, pg) = match &a.postgres {
            Some(url) => {
                let target = pg_target(url, &a.pg)?;
                let mut store = PgStore::connect_to(&target).await?;
                let (meta, data) = store
                    .load(&mut |_, _| {})
                    .await
                    .with_context(|| format!("cannot load the city from {}", store.target()))?;
                let tls = if target.tls_required() { ", TLS" } else { "" };
                let source = format!("PostGIS {}{tls}", store.target());
                let link = PgLink::new(store, &target);
                if a.reconnect_secs > 0 {
                    link.spawn_reconnect(std::time::Duration::from_secs(a.reconnect_secs));
                }
                (meta, data, source, Some((link, target)))
            }
            None => {
                let (meta, data) = onemap_store::read_city_dir(&a.data)
                    .with_context(|| format!("cannot load {}", a.data.display()))?;
                (meta, data, a.data.display().to_string(), None)
            }
        };
        let read = started.elapsed();
        // What the coordination of inspections needs (towns, enterprises,
        // schools), copied before the index takes the city; its demo year
        // is built once the server listens.
        let coord = onemap_server::CoordSource::from_city(&data, meta.seed, a.coord_year);
        let city = City::build(data).context("cannot index the city")?;
        // PostGIS holds every event in its latest state; the embedded store
        // keeps what the event loop changed, laid over the base events.
        let store = match &pg {
            Some((_, target)) => LiveStore::Postgres(Arc::new(PgLive::with_target(target)?)),
            None => {
                let path = store_path(&a.data, a.store.as_deref());
                let store = onemap_store::EmbeddedStore::open(&path)
                    .with_context(|| format!("cannot open the store {}", path.display()))?;
                let seeded = crate::lists::seed(&a.data, &store)?;
                if seeded > 0 {
                    eprintln!("{seeded} demo list item(s) put into {}", path.display());
                }
                LiveStore::Embedded(Arc::new(store))
            }
        };
        let live = Live::open(city, a.cache_mb.saturating_mul(1 << 20), Some(store))
            .await
            .context("cannot lay the store's changes over the city")?;
        if live.events_from_store() > 0 && pg.is_none() {
            eprintln!(
                "{} event(s) changed since the city's files, from {}",
                live.events_from_store(),
                store_path(&a.data, a.store.as_deref()).display()
            );
        }
        let live = Arc::new(live);
        // Other servers' changes (PostGIS): applied as they are announced,
        // and everything changed since the load began read once.
        live.follow(load_from);
        let load = started.elapsed();
        // Where the city came from is in the log line below, not in
        // /healthz, which anyone may read.
        let store = match &pg {
            Some((link, _)) => StoreHandle::Postgis { link: link.clone() },
            None => StoreHandle::Files,
        };
        // The one table's rows: `--ledgers DIR` (files) first; else PostGIS's
        // tables when the city comes from there; else the city directory's
        // files.
        let ledgers: Option<Arc<dyn onemap_ledger::TableSource>> = match (&a.ledgers, &a.postgres)
        {
            (None, Some(_)) => {
                let Some((link, target)) = &pg else {
                    anyhow::bail!("no PostGIS connection")
                };
                match onemap_ledger::pg::PgLedgers::open(target)
                    .await
                    .with_context(|| format!("cannot open the ledgers in {}", link.target()))?
                {
                    Some(l) => Some(Arc::new(l)),
                    None => {
                        eprintln!(
                            "no ledgers in {}: the one table is off (onemap import of a city directory with its ledgers/ puts them there; or serve them from files with --ledgers DIR)",
                            link.target()
                        );
                        None
                    }
                }
            }
            (given, _) => {
                let dir = given.clone().unwrap_or_else(|| a.data.clone());
                match onemap_ledger::Ledgers::open(&dir) {
                    Ok(l) => Some(Arc::new(l)),
                    Err(e @ onemap_ledger::LedgerError::Outdated { .. }) if a.ledgers.is_none() => {
                        eprintln!("{e}; the one table is off until then");
                        None
                    }
                    Err(onemap_ledger::LedgerError::NotGenerated(_)) if a.ledgers.is_none() => {
                        eprintln!(
                            "no ledgers in {}: the one table is off (onemap ledgers build --data {} makes them)",
                            dir.display(),
                            dir.display()
                        );
                        None
                    }
                    Err(e) => return Err(anyhow::Error::new(e).context("cannot open the ledgers")),
                }
            }
        };
        if let Some(l) = &ledgers {
            eprintln!("the one table's ledgers from {}", l.describe());
        }
        let config = ServerConfig {
            styles_dir: a.styles,
            viewer_dir: a.viewer,
            store,
            private_reads: a.private_reads,
            limits: a.limits.limits(),
            cors_origins: onemap_server::CorsOrigins::parse(&a.cors_origins)
                .map_err(anyhow::Error::msg)?,
            secure_cookies: a.secure_cookies,
            deadlines: a.deadlines.unwrap_or_default(),
            ledgers,
            coord: Some(coord),
        };
        let state = AppState::new(live, &config).context("cannot set up the server")?;
        eprintln!(
            "city loaded from {source} in {:.2} s (read {:.2} s, index {:.2} s)",
            load.as_secs_f64(),
            read.as_secs_f64(),
            (load - read).as_secs_f64()
        );
        tracing::info!("city loaded in {:.2} s", load.as_secs_f64());
        let listener = tokio::net::TcpListener::bind(&a.bind)
            .await
            .with_context(|| format!("cannot listen on {}", a.bind))?;
        let addr = listener.local_addr().context("no local address")?;
        // The bound address on stdout, one line, so scripts and tests using
        // port 0 can read where to connect.
        println!("listening on http://{addr}");
        std::io::stdout().flush().ok();
        onemap_server::serve(listener, state).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(0)
}

/// The database `serve` connects to: the URL, with the password from
/// `--postgres-password-file` or else `PGPASSWORD` when the URL has none
/// (so that it need not be on the command line), and TLS as asked.
fn pg_target(url: &str, pg: &crate::args::PgConnectArgs) -> anyhow::Result<PgTarget> {
    let mut target = PgTarget::parse(url)?;
    if let Some(file) = &pg.postgres_password_file {
        anyhow::ensure!(
            !target.has_password(),
            "the database URL has a password and --postgres-password-file gives one too: give it once"
        );
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the password file {}", file.display()))?;
        let password = text.lines().next().unwrap_or_default();
        anyhow::ensure!(
            !password.is_empty(),
            "the password file {} is empty",
            file.display()
        );
        target.set_password(password);
    } else if !target.has_password() {
        if let Some(password) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
            target.set_password(&password);
        }
    }
    match (pg.postgres_tls.as_str(), &pg.postgres_ca) {
        ("require", ca) => target.require_tls(ca.as_deref())?,
        (_, Some(_)) => anyhow::bail!("--postgres-ca is for --postgres-tls require"),
        _ => {}
    }
    Ok(target)
}

/// The embedded store's file: given, or `onemap.gpkg` in the city directory.
pub(crate) fn store_path(
    data: &std::path::Path,
    given: Option<&std::path::Path>,
) -> std::path::PathBuf {
    given.map_or_else(
        || data.join(onemap_store::EMBEDDED_FILE),
        std::path::Path::to_path_buf,
    )
}
