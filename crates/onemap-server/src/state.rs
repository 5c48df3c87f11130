//! What every handler shares: the city, the tile source, the styles, the
//! search list and the metrics, behind one cheap-to-clone [`AppState`].

use crate::live::EventLoop;
use crate::metrics::Metrics;
use crate::styles::Styles;
use arc_swap::ArcSwap;
use onemap_core::{AreaId, Level};
use onemap_index::City;
use onemap_store::LiveStore;
use onemap_tiles::TileSource;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Memory budget of the encoded-tile cache, in bytes (0 disables it).
    pub cache_bytes: u64,
    /// Folder of MapLibre style documents (`day.json`, `wall.json`).
    pub styles_dir: PathBuf,
    /// Folder of the web viewer (`index.html`, …, and `node_modules/`).
    pub viewer_dir: PathBuf,
    /// Where the city came from (reported by `/healthz`).
    pub store: StoreHandle,
    /// Where reported events and their moves are kept, and the first event
    /// id it may give out (after the city's base events); `None`: read-only.
    pub events: Option<(LiveStore, u64)>,
    /// Reads (the API, tiles, styles, catalog) need a bearer token too;
    /// only the pages, their files, `/healthz` and `/metrics` stay open.
    pub private_reads: bool,
}

/// The store the city was loaded from.
#[derive(Debug, Clone, Default)]
pub enum StoreHandle {
    /// Built in memory (tests).
    #[default]
    Memory,
    /// A city directory.
    Files {
        path: PathBuf,
        /// Time to read and index it.
        load_seconds: f64,
    },
    /// A PostGIS database, with the (reconnecting) link the city was loaded over.
    Postgis {
        link: Arc<onemap_store::PgLink>,
        /// Time to read and index the city.
        load_seconds: f64,
    },
}

impl StoreHandle {
    /// The store as `/healthz` shows it, and whether it is reachable.
    pub fn status(&self) -> (serde_json::Value, bool) {
        match self {
            StoreHandle::Memory => (serde_json::json!({ "kind": "memory" }), true),
            StoreHandle::Files { path, load_seconds } => (
                serde_json::json!({
                    "kind": "files",
                    "path": path.display().to_string(),
                    "load_seconds": load_seconds,
                }),
                true,
            ),
            StoreHandle::Postgis { link, load_seconds } => {
                let connected = link.is_connected();
                (
                    serde_json::json!({
                        "kind": "postgis",
                        "target": link.target(),
                        "connected": connected,
                        "reconnects": link.reconnects(),
                        "load_seconds": load_seconds,
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
            cache_bytes: 256 << 20,
            styles_dir: PathBuf::from("styles"),
            viewer_dir: PathBuf::from("viewer"),
            store: StoreHandle::Memory,
            events: None,
            private_reads: false,
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
    /// The tiles of the current city snapshot, and through them the city:
    /// one swap moves both to the next snapshot.
    tiles: ArcSwap<TileSource>,
    /// The event loop, when the server keeps changes (see [`crate::live`]).
    pub(crate) events: Option<EventLoop>,
    pub(crate) ships: crate::ships::ShipLive,
    pub(crate) styles: Styles,
    pub(crate) viewer_dir: PathBuf,
    pub(crate) metrics: Metrics,
    /// Every area, coarse levels first.
    pub(crate) search: Vec<SearchEntry>,
    pub(crate) started: Instant,
    pub(crate) store: StoreHandle,
    pub(crate) private_reads: bool,
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
    /// Sets up the state over an indexed city; fails when a style document
    /// cannot be read.
    pub async fn new(city: Arc<City>, config: &ServerConfig) -> Result<Self, crate::ServerError> {
        let styles = Styles::load(&config.styles_dir)?;
        // Port areas and zones come from the fleet as generated; then the
        // positions the store recorded since are laid over it.
        let geofence = onemap_core::ships::Geofence::from_fleet(city.ships());
        let city = match &config.events {
            Some((store, _)) => {
                let latest = store.latest_ship_positions().await?;
                let fleet = city.ships();
                let changed: Vec<onemap_core::Ship> = latest
                    .iter()
                    .filter_map(|p| {
                        let i = fleet.binary_search_by_key(&p.mmsi, |s| s.mmsi).ok()?;
                        Some(onemap_core::Ship {
                            lon: p.lon,
                            lat: p.lat,
                            speed_kn: p.speed_kn,
                            heading_deg: p.course_deg,
                            in_port: p.in_port,
                            reported_at: p.time,
                            ..fleet[i].clone()
                        })
                    })
                    .collect();
                if changed.is_empty() {
                    city
                } else {
                    Arc::new(
                        city.with_ships(changed)
                            .map_err(crate::ServerError::Index)?,
                    )
                }
            }
            None => city,
        };
        let tiles = TileSource::new(city.clone(), config.cache_bytes);
        let events = config
            .events
            .clone()
            .map(|(store, min_id)| EventLoop::new(store, min_id));
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
            tiles: ArcSwap::from_pointee(tiles),
            events,
            ships: crate::ships::ShipLive::new(geofence),
            styles,
            viewer_dir: config.viewer_dir.clone(),
            metrics: Metrics::default(),
            search,
            started: Instant::now(),
            store: config.store.clone(),
            private_reads: config.private_reads,
        })))
    }
}

impl Inner {
    /// The current city snapshot.
    pub fn city(&self) -> Arc<City> {
        Arc::clone(self.tiles.load().city())
    }

    /// The tile source of the current snapshot.
    pub fn tiles(&self) -> Arc<TileSource> {
        self.tiles.load_full()
    }

    /// Makes `tiles` (and its city) current.
    pub(crate) fn publish(&self, tiles: TileSource) {
        self.tiles.store(Arc::new(tiles));
    }
}
