//! PostGIS as the live server's store: the event loop's reports, moves and
//! history, the bearer tokens, the ships' position history and port
//! crossings — and the announcements that keep several servers in step.
//!
//! Every change is one transaction over a pooled connection, running the
//! loop shared with the embedded store ([`crate::live::workflow`]) over
//! PostGIS's primitives (`events`): a report takes a transaction-scoped
//! advisory lock, so ids (the next after the largest) and idempotency keys
//! are decided one report at a time across every server on the database; a
//! move locks its event's row (`FOR UPDATE`), so two moves of one event
//! never both pass the check against a stale status. `listen` hears the
//! other servers' announcements; `ships` keeps the fleet's history;
//! `tokens` the bearer tokens' hashes; `photos` the events' photos.

mod coord;
mod downloads;
mod events;
mod listen;
mod lists;
mod photos;
mod ships;
mod templates;
mod tokens;
mod users;

pub use coord::COORD_CHANNEL;
pub use listen::{Notice, CHANGES_CHANNEL};

use super::error::describe;
use super::target::Tls;
use super::{PgError, PgTarget};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::Config;

/// Connections in the pool: enough for 32 clients whose reports take turns
/// anyway, few enough to leave the database room for others.
const POOL_SIZE: usize = 16;

/// The live server's connection pool to a PostGIS database.
pub struct PgLive {
    pool: Pool,
    config: Config,
    /// The TLS connector of `config` (the listening connection's too).
    tls: Tls,
    target: String,
    /// This server's name in announcements, to skip its own.
    origin: String,
}

impl std::fmt::Debug for PgLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLive")
            .field("target", &self.target)
            .field("origin", &self.origin)
            .finish()
    }
}

impl PgLive {
    /// A pool for the database at `url`; connects lazily. Must be called
    /// within a tokio runtime.
    pub fn new(url: &str) -> Result<PgLive, PgError> {
        Self::with_target(&PgTarget::parse(url)?)
    }

    /// A pool for a target; connects lazily. Must be called within a tokio
    /// runtime.
    pub fn with_target(pg: &PgTarget) -> Result<PgLive, PgError> {
        let mut config = pg.config();
        let target = pg.describe();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("onemap-live");
        let manager = Manager::from_config(
            config.clone(),
            pg.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| PgError::BadUrl {
                reason: format!("cannot set up the connection pool: {e}"),
            })?;
        let origin = crate::live::tokens::issue()
            .map(|(t, _)| t[3..15].to_string())
            .unwrap_or_else(|_| std::process::id().to_string());
        Ok(PgLive {
            pool,
            config,
            tls: pg.tls.clone(),
            target,
            origin,
        })
    }

    /// `host:port/database` (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A connection of the pool for another crate's reads (the one
    /// table's ledgers), given back when dropped.
    pub async fn reader(&self) -> Result<Object, PgError> {
        self.client().await
    }

    async fn client(&self) -> Result<Object, PgError> {
        self.pool.get().await.map_err(|e| {
            let message = match &e {
                deadpool_postgres::PoolError::Backend(b) => describe(b),
                other => other.to_string(),
            };
            PgError::Unavailable {
                target: self.target.clone(),
                message,
            }
        })
    }

    fn err(&self, action: &str) -> impl Fn(tokio_postgres::Error) -> PgError + '_ {
        let action = action.to_string();
        move |e| PgError::live(&self.target, &action, e)
    }
}

fn parse<T: std::str::FromStr>(table: &'static str, s: &str) -> Result<T, PgError> {
    s.parse()
        .map_err(|_| PgError::invalid(table, format!("bad stored value '{s}'")))
}

fn u32_of(table: &'static str, v: i64) -> Result<u32, PgError> {
    u32::try_from(v).map_err(|_| PgError::invalid(table, format!("mmsi {v} out of range")))
}
