//! Hearing the other servers: each change of an event is announced in its
//! own transaction with `pg_notify` on [`CHANGES_CHANNEL`] (delivered only
//! if it commits), and [`PgLive::listen`] hears the announcements of the
//! other servers on a connection of its own that comes back by itself.

use super::PgLive;
use crate::postgres::error::describe;
use crate::postgres::PgError;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_postgres::AsyncMessage;

/// The channel every committed change of an event is announced on; the
/// payload is `ORIGIN ID` (the announcing server and the event's id).
pub const CHANGES_CHANNEL: &str = "onemap_events";

/// How far back a re-synchronisation reaches before the last moment the
/// announcements were known to be heard (covers clock differences between
/// servers; applying an unchanged event again is harmless).
const RESYNC_MARGIN_SECS: i64 = 60;

/// How often the listening connection is checked.
const LISTEN_PING: Duration = Duration::from_secs(5);

/// What [`PgLive::listen`] hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Another server committed a change of this event.
    Changed(u64),
    /// Another server committed a coordination change (an answer, a
    /// request, a self-check) of this demo year.
    Coord(i32),
    /// The announcements are being heard (again): every event changed
    /// since `since` (Unix seconds) should be read once, since some
    /// announcements may have been missed before.
    Resync { since: i64 },
}

impl PgLive {
    /// Listens for the other servers' announcements, on a connection of its
    /// own that comes back by itself. The first notice, and the first after
    /// each reconnection, is a [`Notice::Resync`] (from `since` the first
    /// time). Runs until the receiver is dropped.
    pub fn listen(self: &Arc<Self>, since: i64) -> UnboundedReceiver<Notice> {
        let (tx, rx) = unbounded_channel();
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut since = since;
            let mut failures = 0u32;
            loop {
                let mut heard_at = None;
                match me.listen_once(&tx, since, &mut heard_at).await {
                    Ok(()) => return,
                    Err(e) => {
                        if failures == 0 {
                            tracing::warn!("not hearing other servers' changes: {e}");
                        }
                        failures = failures.saturating_add(1);
                    }
                }
                if tx.is_closed() {
                    return;
                }
                if let Some(t) = heard_at {
                    since = t - RESYNC_MARGIN_SECS;
                    failures = 0;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        rx
    }

    /// One listening connection: `Ok` when the receiver is gone, `Err` when
    /// the connection failed. `heard_at` is the last moment the connection
    /// was known to be hearing.
    async fn listen_once(
        &self,
        tx: &UnboundedSender<Notice>,
        since: i64,
        heard_at: &mut Option<i64>,
    ) -> Result<(), PgError> {
        let mut config = self.config.clone();
        config.application_name("onemap-listen");
        let (client, mut connection) =
            config
                .connect(self.tls.clone())
                .await
                .map_err(|e| PgError::Connect {
                    target: self.target.clone(),
                    message: describe(&e),
                })?;
        let (ntx, mut nrx) = unbounded_channel::<(String, String)>();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(m) = messages.next().await {
                match m {
                    Ok(AsyncMessage::Notification(n)) => {
                        if ntx
                            .send((n.channel().to_string(), n.payload().to_string()))
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("listening connection lost: {}", describe(&e));
                        return;
                    }
                }
            }
        });
        let result = async {
            client
                .batch_execute(&format!(
                    "LISTEN {CHANGES_CHANNEL}; LISTEN {}",
                    super::COORD_CHANNEL
                ))
                .await
                .map_err(self.err("listen for changes"))?;
            let listening_from = onemap_core::time::now();
            *heard_at = Some(listening_from);
            tracing::info!("hearing other servers' changes on {}", self.target);
            if tx.send(Notice::Resync { since }).is_err() {
                return Ok(());
            }
            let mut ping = tokio::time::interval(LISTEN_PING);
            ping.tick().await;
            loop {
                tokio::select! {
                    payload = nrx.recv() => {
                        let Some((channel, payload)) = payload else {
                            return Err(PgError::Unavailable {
                                target: self.target.clone(),
                                message: "the listening connection closed".into(),
                            });
                        };
                        let Some((origin, id)) = payload.split_once(' ') else { continue };
                        if origin == self.origin {
                            continue;
                        }
                        let notice = if channel == super::COORD_CHANNEL {
                            match id.parse::<i32>() {
                                Ok(year) => Notice::Coord(year),
                                Err(_) => continue,
                            }
                        } else {
                            match id.parse::<u64>() {
                                Ok(id) => Notice::Changed(id),
                                Err(_) => continue,
                            }
                        };
                        if tx.send(notice).is_err() {
                            return Ok(());
                        }
                    }
                    _ = ping.tick() => {
                        let t = onemap_core::time::now();
                        client
                            .simple_query("SELECT 1")
                            .await
                            .map_err(self.err("check the listening connection"))?;
                        *heard_at = Some(t);
                        if tx.is_closed() {
                            return Ok(());
                        }
                    }
                }
            }
        }
        .await;
        driver.abort();
        result
    }
}
