//! `onemap serve`: load a city (from a directory or PostGIS), index it, and
//! serve it over HTTP.

use crate::args::ServeArgs;
use anyhow::Context;
use onemap_index::City;
use onemap_server::{AppState, CityFacts, ServerConfig, StoreHandle};
use onemap_store::{PgLink, PgStore};
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
        let (data, source, pg) = match &a.postgres {
            Some(url) => {
                let mut store = PgStore::connect(url).await?;
                let (_, data) = store
                    .load(&mut |_, _| {})
                    .await
                    .with_context(|| format!("cannot load the city from {}", store.target()))?;
                let source = format!("PostGIS {}", store.target());
                let link = PgLink::new(store, url)?;
                if a.reconnect_secs > 0 {
                    link.spawn_reconnect(std::time::Duration::from_secs(a.reconnect_secs));
                }
                (data, source, Some(link))
            }
            None => {
                let (_, data) = onemap_store::read_city_dir(&a.data)
                    .with_context(|| format!("cannot load {}", a.data.display()))?;
                (data, a.data.display().to_string(), None)
            }
        };
        let read = started.elapsed();
        let facts = CityFacts::of(&data);
        let city = City::build(data).context("cannot index the city")?;
        let load = started.elapsed();
        let load_seconds = load.as_secs_f64();
        let store = match pg {
            Some(link) => StoreHandle::Postgis { link, load_seconds },
            None => StoreHandle::Files {
                path: a.data.clone(),
                load_seconds,
            },
        };
        let config = ServerConfig {
            cache_bytes: a.cache_mb.saturating_mul(1 << 20),
            styles_dir: a.styles,
            viewer_dir: a.viewer,
            store,
        };
        let state =
            AppState::new(Arc::new(city), facts, &config).context("cannot set up the server")?;
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
