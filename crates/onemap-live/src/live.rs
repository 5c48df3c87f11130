//! [`Live`]: the current snapshot, the store, and how they are set up.

use crate::queue::Changes;
use crate::ships::ShipLive;
use crate::LiveError;
use arc_swap::ArcSwap;
use onemap_core::workflow::Actor;
use onemap_core::Layer;
use onemap_index::City;
use onemap_store::LiveStore;
use onemap_tiles::TileSource;
use std::sync::Arc;

/// The live city (see the crate docs). Share it as `Arc<Live>`.
pub struct Live {
    /// The tiles of the current snapshot, and through them the city: one
    /// swap moves both.
    snapshot: ArcSwap<TileSource>,
    /// Where changes are kept; `None`: a read-only server.
    pub(crate) store: Option<LiveStore>,
    /// The first id after the city's base events.
    pub(crate) min_id: u64,
    pub(crate) changes: Changes,
    pub(crate) ships: ShipLive,
    /// Events the store had changed since the city's files, laid over them
    /// at start-up.
    from_store: usize,
    /// Tokens recently looked up, for [`ACTOR_TTL`]: a request needs no
    /// round trip to the store, and a revoked token is refused within that
    /// time on every server.
    actors: moka::sync::Cache<String, Actor>,
    /// Uploaded photos decoded at once ([`crate::PHOTO_TURNS`]).
    pub(crate) photo_turns: tokio::sync::Semaphore,
    /// Counts the coordination changes other servers announced (and
    /// re-synchronisations, after which some may have been missed).
    pub(crate) coord_heard: tokio::sync::watch::Sender<u64>,
}

/// How long a token looked up in the store is trusted without asking again.
pub const ACTOR_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Live {
    /// Sets up the live city over `city`, with a tile cache of
    /// `cache_bytes`. With a store, what it kept is laid over the city:
    /// the events the embedded store changed since the city's files (a
    /// city loaded from PostGIS has them already), each ship's latest
    /// recorded position, and the ships' recent tracks and crossings.
    pub async fn open(
        city: City,
        cache_bytes: u64,
        store: Option<LiveStore>,
    ) -> Result<Live, LiveError> {
        let min_id = city.max_id(Layer::Events).map_or(1, |m| m + 1);
        let mut city = city;
        let mut from_store = 0;
        let mut ships = ShipLive::new(&city);
        if let Some(store) = &store {
            let changed = store.changed_events().await?;
            from_store = changed.len();
            if !changed.is_empty() {
                city = city.with_events(changed)?;
            }
            city = ships.recall(city, store).await?;
        }
        Ok(Live {
            snapshot: ArcSwap::from_pointee(TileSource::new(Arc::new(city), cache_bytes)),
            store,
            min_id,
            changes: Changes::default(),
            ships,
            from_store,
            actors: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ACTOR_TTL)
                .build(),
            photo_turns: tokio::sync::Semaphore::new(crate::PHOTO_TURNS),
            coord_heard: tokio::sync::watch::Sender::new(0),
        })
    }

    /// The current city snapshot.
    pub fn city(&self) -> Arc<City> {
        Arc::clone(self.snapshot.load().city())
    }

    /// The tile source of the current snapshot.
    pub fn tiles(&self) -> Arc<TileSource> {
        self.snapshot.load_full()
    }

    /// Makes `tiles` (and its city) current.
    pub(crate) fn publish(&self, tiles: TileSource) {
        self.snapshot.store(Arc::new(tiles));
    }

    /// How many events the store had changed since the city's files.
    pub fn events_from_store(&self) -> usize {
        self.from_store
    }

    /// Whether this server keeps changes.
    pub fn keeps_changes(&self) -> bool {
        self.store.is_some()
    }

    /// The store, or [`LiveError::ReadOnly`].
    pub fn store(&self) -> Result<&LiveStore, LiveError> {
        self.store.as_ref().ok_or(LiveError::ReadOnly)
    }

    /// Who a bearer token speaks for ([`LiveError::UnknownToken`] if it is
    /// none of ours, or revoked, or expired: a revoked token may still be
    /// taken for up to [`ACTOR_TTL`] by a server that looked it up just
    /// before).
    pub async fn actor(&self, token: &str) -> Result<Actor, LiveError> {
        if let Some(a) = self.actors.get(token) {
            return Ok(a);
        }
        let a = self
            .store()?
            .actor(token)
            .await?
            .ok_or(LiveError::UnknownToken)?;
        self.actors.insert(token.to_string(), a.clone());
        Ok(a)
    }

    /// Records a download of the one table in the store (before any byte of
    /// it is sent: a download that cannot be logged is not made).
    pub async fn log_download(&self, d: onemap_store::Download) -> Result<(), LiveError> {
        Ok(self.store()?.log_download(d).await?)
    }

    /// The latest downloads of the one table, newest first.
    pub async fn downloads(&self, limit: usize) -> Result<Vec<onemap_store::Download>, LiveError> {
        Ok(self.store()?.downloads(limit).await?)
    }

    /// A department's answer to a coordination suggestion, kept (and, on
    /// PostGIS, announced to the other servers).
    pub async fn put_coord_decision(
        &self,
        d: onemap_store::CoordDecision,
    ) -> Result<(), LiveError> {
        Ok(self.store()?.put_coord_decision(d).await?)
    }

    /// An enterprise's or a school's request, kept with the next id of its
    /// year (at least `min_id`); the request as kept.
    pub async fn add_coord_request(
        &self,
        min_id: u64,
        r: onemap_store::CoordRequest,
    ) -> Result<onemap_store::CoordRequest, LiveError> {
        Ok(self.store()?.add_coord_request(min_id, r).await?)
    }

    /// An enterprise's word on a problem pushed to it, kept.
    pub async fn put_coord_self_check(
        &self,
        c: onemap_store::CoordSelfCheck,
    ) -> Result<(), LiveError> {
        Ok(self.store()?.put_coord_self_check(c).await?)
    }

    /// Everything said about demo year `year`'s coordination (none on a
    /// server that keeps no changes).
    pub async fn coord_inputs(&self, year: i32) -> Result<onemap_store::CoordInputs, LiveError> {
        match &self.store {
            Some(s) => Ok(s.coord_inputs(year).await?),
            None => Ok(onemap_store::CoordInputs::default()),
        }
    }

    /// Changes when another server changed the coordination (or when this
    /// one may have missed such a change): whoever holds the coordination
    /// reads [`Live::coord_inputs`] again. Only [`Live::follow`] moves it.
    pub fn coord_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.coord_heard.subscribe()
    }

    /// Drops a token from this server's cache of actors (it was revoked here).
    pub(crate) fn forget_actor(&self, token: &str) {
        self.actors.invalidate(token);
    }
}
