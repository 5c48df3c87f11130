//! What every handler shares: the live city (and through it the current
//! snapshot and its tiles), the styles, the search list and the metrics,
//! behind one cheap-to-clone [`AppState`].

use crate::guard::{Guard, Limits};
use crate::metrics::Metrics;
use crate::styles::Styles;
use onemap_core::{AreaId, Level};
use onemap_index::City;
use onemap_live::Live;
use onemap_tiles::TileSource;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// How the server is set up (the city, its store and the tile cache are
/// the live core's: [`onemap_live::Live::open`]).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Folder of MapLibre style documents (`day.json`, `wall.json`).
    pub styles_dir: PathBuf,
    /// Folder of the web viewer (`index.html`, …, and `node_modules/`).
    pub viewer_dir: PathBuf,
    /// Where the city came from (its kind and status are in `/healthz`).
    pub store: StoreHandle,
    /// Reads (the API, tiles, styles, catalog) need a bearer token too;
    /// only the pages, their files, `/healthz` and `/metrics` stay open.
    pub private_reads: bool,
    /// Timeouts, caps and body sizes.
    pub limits: Limits,
    /// Origins trusted to call the API from a browser with credentials.
    pub cors_origins: crate::CorsOrigins,
    /// Session cookies are always `Secure` (the server is reached over
    /// TLS through a proxy that does not say so in `X-Forwarded-Proto`).
    pub secure_cookies: bool,
    /// The time limit of each step of the loop.
    pub deadlines: onemap_core::Deadlines,
    /// The one table's ledgers: the files or PostGIS's tables (None: not
    /// generated; the table routes say how to make them).
    pub ledgers: Option<Arc<dyn onemap_ledger::TableSource>>,
    /// What the coordination of inspections and school visits is built
    /// from (`/api/coord/…`); `None`: those routes answer 503.
    pub coord: Option<crate::CoordSource>,
}

/// The store the city was loaded from.
#[derive(Debug, Clone, Default)]
pub enum StoreHandle {
    /// Built in memory (tests).
    #[default]
    Memory,
    /// A city directory.
    Files,
    /// A PostGIS database, with the (reconnecting) link the city was loaded over.
    Postgis { link: Arc<onemap_store::PgLink> },
}

impl StoreHandle {
    /// The store as `/healthz` shows it to everyone — its kind and whether
    /// it is reachable, never where it is (a path, a database's host and
    /// name: those are in the log when the server starts) — and whether it
    /// is reachable.
    pub fn status(&self) -> (serde_json::Value, bool) {
        match self {
            StoreHandle::Memory => (serde_json::json!({ "kind": "memory" }), true),
            StoreHandle::Files => (serde_json::json!({ "kind": "files" }), true),
            StoreHandle::Postgis { link } => {
                let connected = link.is_connected();
                (
                    serde_json::json!({
                        "kind": "postgis",
                        "connected": connected,
                        "reconnects": link.reconnects(),
                    }),
                    connected,
                )
            }
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            styles_dir: PathBuf::from("styles"),
            viewer_dir: PathBuf::from("viewer"),
            store: StoreHandle::Memory,
            private_reads: false,
            limits: Limits::default(),
            cors_origins: crate::CorsOrigins::default(),
            secure_cookies: false,
            deadlines: onemap_core::Deadlines::default(),
            ledgers: None,
            coord: None,
        }
    }
}

/// One area as the name search sees it.
#[derive(Debug, Clone)]
pub(crate) struct SearchEntry {
    /// The name, lower-cased.
    pub key: String,
    pub digits: String,
    pub id: AreaId,
    pub level: Level,
}

/// What [`AppState`] shares.
pub struct Inner {
    /// The live city: its current snapshot, changes, ships.
    pub(crate) live: Arc<Live>,
    pub(crate) styles: Styles,
    pub(crate) viewer_dir: PathBuf,
    pub(crate) metrics: Metrics,
    /// Every area, coarse levels first.
    pub(crate) search: Vec<SearchEntry>,
    pub(crate) started: Instant,
    pub(crate) store: StoreHandle,
    pub(crate) private_reads: bool,
    pub(crate) cors: crate::CorsOrigins,
    pub(crate) secure_cookies: bool,
    pub(crate) deadlines: onemap_core::Deadlines,
    pub(crate) ledgers: Option<Arc<dyn onemap_ledger::TableSource>>,
    /// Failed sign-ins by name and by address, for a while.
    pub(crate) sign_in_failures: moka::sync::Cache<String, u32>,
    /// The limits in force, their permits and counters.
    pub(crate) guard: Arc<Guard>,
    /// Coordination of enterprise inspections and school visits.
    pub(crate) coord: crate::coord::Coord,
}

/// The shared state of the app; clones share everything.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Sets up the state over the live city; fails when a style document
    /// cannot be read.
    pub fn new(live: Arc<Live>, config: &ServerConfig) -> Result<Self, crate::ServerError> {
        let styles = Styles::load(&config.styles_dir)?;
        let city = live.city();
        let mut search = Vec::new();
        for level in Level::ALL {
            for a in city.areas().level(level) {
                search.push(SearchEntry {
                    key: a.name.to_lowercase(),
                    digits: a.id.to_string(),
                    id: a.id,
                    level,
                });
            }
        }
        Ok(AppState(Arc::new(Inner {
            live,
            styles,
            viewer_dir: config.viewer_dir.clone(),
            metrics: Metrics::default(),
            search,
            started: Instant::now(),
            store: config.store.clone(),
            private_reads: config.private_reads,
            cors: config.cors_origins.clone(),
            secure_cookies: config.secure_cookies,
            deadlines: config.deadlines,
            ledgers: config.ledgers.clone(),
            sign_in_failures: crate::session::failures_cache(),
            guard: Arc::new(Guard::new(config.limits.clone())),
            coord: crate::coord::Coord::new(config.coord.clone()),
        })))
    }
}

impl Inner {
    /// The current city snapshot.
    pub fn city(&self) -> Arc<City> {
        self.live.city()
    }

    /// The tile source of the current snapshot.
    pub fn tiles(&self) -> Arc<TileSource> {
        self.live.tiles()
    }
}
