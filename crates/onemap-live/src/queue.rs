//! The change queue: committed changes wait here for the next snapshot.
//!
//! One snapshot is built at a time (`building`). A change queued while one
//! is being built goes into the next, together with everything else that
//! queued meanwhile, so a burst of reports costs a few snapshots, not one
//! each. Each local change has a number; a caller whose change an earlier
//! turn already published answers without building again. Other servers'
//! changes (PostGIS) are queued by id and read from the store after the
//! queue is taken, so what is read is at least as new as what was queued.

use crate::{Live, LiveError, StreamItem};
use onemap_core::Event;
use onemap_store::Notice;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The queue and the turn lock.
#[derive(Default)]
pub(crate) struct Changes {
    pending: Mutex<Queue>,
    /// Held while a snapshot is built (and while a ship batch is judged
    /// and applied): one change at a time, in order.
    pub(crate) building: tokio::sync::Mutex<()>,
    /// The number of the last local change a published snapshot holds.
    published: AtomicU64,
}

/// What the next snapshot applies.
#[derive(Debug, Default)]
struct Queue {
    /// Changes this server committed, as committed.
    events: Vec<Event>,
    /// Events other servers announced, to read from the store.
    remote: Vec<u64>,
    /// Read every event changed since then (announcements may have been
    /// missed while the listening connection was down).
    resync: Option<i64>,
    /// How many local changes were ever queued: the number of the last.
    queued: u64,
}

impl Queue {
    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.remote.is_empty() && self.resync.is_none()
    }

    /// Takes what is queued, keeping the count.
    fn take(&mut self) -> Queue {
        Queue {
            events: std::mem::take(&mut self.events),
            remote: std::mem::take(&mut self.remote),
            resync: self.resync.take(),
            queued: self.queued,
        }
    }
}

impl Changes {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Live {
    /// Applies a committed change to the city; returns once a snapshot
    /// holding it is served.
    pub(crate) async fn apply(&self, changed: Event) -> Result<(), LiveError> {
        let number = {
            let mut q = self.changes.queue();
            q.events.push(changed);
            q.queued += 1;
            q.queued
        };
        self.turn(Some(number)).await
    }

    /// Builds and publishes one snapshot with everything queued — unless
    /// `waiting_for`, the number of a local change, is already published by
    /// an earlier turn.
    async fn turn(&self, waiting_for: Option<u64>) -> Result<(), LiveError> {
        let _turn = self.changes.building.lock().await;
        if waiting_for.is_some_and(|n| self.changes.published.load(Ordering::Acquire) >= n) {
            return Ok(());
        }
        let queued = self.changes.queue().take();
        if queued.is_empty() {
            // An earlier turn took this change and has published it.
            return Ok(());
        }
        let Queue {
            events: mut batch,
            remote,
            resync,
            queued: upto,
        } = queued;
        let n_local = batch.len();
        if !remote.is_empty() || resync.is_some() {
            match self.read_remote(&remote, resync).await {
                Ok(got) => batch.extend(got),
                Err(e) => {
                    tracing::warn!(
                        "cannot read {} event(s) other servers changed (will retry): {e}",
                        remote.len()
                    );
                    let mut q = self.changes.queue();
                    q.remote.extend(remote);
                    q.resync = match (q.resync, resync) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
        }
        let batch = last_state_each(batch);
        if batch.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let n = batch.len();
        let items: Vec<StreamItem> = batch
            .iter()
            .map(|e| StreamItem::Event {
                seq: 0,
                id: e.id,
                lon: e.lon,
                lat: e.lat,
                category: e.category,
                status: e.status,
                reported_at: e.reported_at,
                status_at: e.status_at,
                unit: e.unit.to_string(),
            })
            .collect();
        let tiles = self.tiles();
        let (next, indexed) = tokio::task::spawn_blocking(move || next_snapshot(&tiles, batch))
            .await
            .map_err(|e| LiveError::Worker(format!("applying a change failed: {e}")))??;
        self.publish(next);
        self.changes.published.store(upto, Ordering::Release);
        self.announce(items);
        tracing::info!(
            "applied {n} changed event(s) ({n_local} from this server) in {:.0} ms (index {:.0} ms)",
            started.elapsed().as_secs_f64() * 1e3,
            indexed.as_secs_f64() * 1e3
        );
        Ok(())
    }

    /// Other servers' changes: the announced events, and with `resync`
    /// every event changed since then.
    async fn read_remote(
        &self,
        remote: &[u64],
        resync: Option<i64>,
    ) -> Result<Vec<Event>, LiveError> {
        let store = self.store()?;
        let mut got = store.events(remote).await?;
        if let Some(since) = resync {
            got.extend(store.events_changed_since(since).await?);
        }
        Ok(got)
    }

    /// Applies the changes other servers announce, as they come, batching
    /// those that arrive while a snapshot is built; coordination changes
    /// move [`Live::coord_changes`]. With a PostGIS store,
    /// listens from `since` (Unix seconds: everything changed since then is
    /// read once); with any other store, or none, there is nothing to follow
    /// and `None` is returned.
    pub fn follow(self: &Arc<Self>, since: i64) -> Option<tokio::task::JoinHandle<()>> {
        let onemap_store::LiveStore::Postgres(pg) = self.store.as_ref()? else {
            return None;
        };
        let mut notices = pg.listen(since);
        let me = Arc::clone(self);
        Some(tokio::spawn(async move {
            while let Some(first) = notices.recv().await {
                let mut coord = false;
                let mut events = false;
                {
                    let mut q = me.changes.queue();
                    let mut next = Some(first);
                    while let Some(n) = next {
                        match n {
                            Notice::Changed(id) => {
                                q.remote.push(id);
                                events = true;
                            }
                            Notice::Coord(_) => coord = true,
                            Notice::Resync { since } => {
                                q.resync = Some(q.resync.map_or(since, |s| s.min(since)));
                                events = true;
                                coord = true;
                            }
                        }
                        next = notices.try_recv().ok();
                    }
                }
                if coord {
                    me.coord_heard.send_modify(|n| *n = n.wrapping_add(1));
                }
                if !events {
                    continue;
                }
                if let Err(e) = me.turn(None).await {
                    tracing::warn!("cannot apply other servers' changes: {e}");
                }
            }
        }))
    }
}

/// One state per event: the last one queued or read.
fn last_state_each(batch: Vec<Event>) -> Vec<Event> {
    let mut last: HashMap<u64, usize> = HashMap::with_capacity(batch.len());
    for (i, e) in batch.iter().enumerate() {
        last.insert(e.id, i);
    }
    batch
        .into_iter()
        .enumerate()
        .filter(|(i, e)| last.get(&e.id) == Some(i))
        .map(|(_, e)| e)
        .collect()
}

/// The snapshot after `batch`, and how long indexing took. Only the tiles
/// of the districts where changed events were and are render again.
///
/// A change the index refuses (a point it cannot place: only another
/// server's row can be such) does not keep the others out: the batch is
/// then applied one change at a time, and the refused ones are logged.
fn next_snapshot(
    tiles: &onemap_tiles::TileSource,
    batch: Vec<Event>,
) -> Result<(onemap_tiles::TileSource, std::time::Duration), LiveError> {
    let started = std::time::Instant::now();
    let city = tiles.city();
    let mut places: Vec<(f64, f64)> = batch.iter().map(|e| (e.lon, e.lat)).collect();
    places.extend(
        batch
            .iter()
            .filter_map(|e| city.event(e.id))
            .map(|e| (e.lon, e.lat)),
    );
    let next = match city.with_events(batch.clone()) {
        Ok(next) => next,
        Err(e) => {
            tracing::warn!(
                "a batch of {} change(s) was refused ({e}); applying them one by one",
                batch.len()
            );
            let mut next = (**city).clone();
            for change in batch {
                let id = change.id;
                match next.with_events(vec![change]) {
                    Ok(n) => next = n,
                    Err(e) => tracing::error!("event {id} cannot be applied to the city: {e}"),
                }
            }
            next
        }
    };
    let indexed = started.elapsed();
    Ok((tiles.with_changed_events(Arc::new(next), places), indexed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use onemap_core::{AreaId, EventCategory, EventStatus};

    fn event(id: u64, status: EventStatus) -> Event {
        Event {
            id,
            lon: 119.0,
            lat: 25.4,
            category: EventCategory::Road,
            status,
            reported_at: 1,
            closed_at: None,
            status_at: 1,
            unit: AreaId::new(350_302_001_001_001_001).unwrap(),
        }
    }

    #[test]
    fn each_event_keeps_its_last_state_in_queue_order() {
        let batch = vec![
            event(1, EventStatus::Reported),
            event(2, EventStatus::Reported),
            event(1, EventStatus::Discussing),
            event(3, EventStatus::Handled),
            event(2, EventStatus::Discussing),
        ];
        let got: Vec<(u64, EventStatus)> = last_state_each(batch)
            .iter()
            .map(|e| (e.id, e.status))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, EventStatus::Discussing),
                (3, EventStatus::Handled),
                (2, EventStatus::Discussing)
            ]
        );
    }
}
