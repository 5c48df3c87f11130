//! The event loop's changes, written once for both live stores.
//!
//! A store offers the primitives of one write transaction ([`EventTx`]):
//! make reports take turns, find a report by its idempotency key, give out
//! the next id, read an event (locking it for the transaction), write it,
//! log a move, announce the change to other servers, commit. [`report`] and
//! [`transition`] are the loop's two changes over those primitives, so the
//! GeoPackage file and PostGIS decide the same things in the same order.
//!
//! The primitives are `async` because PostGIS's are; the embedded store's
//! never wait (SQLite calls block), so it runs these functions on a
//! blocking thread and polls them once ([`run_now`]).

use super::records::{EventRecord, HistoryEntry, MoveRequest, NewReport};
use crate::StoreError;
use onemap_core::workflow::{check_report, Actor};
use onemap_core::{Event, EventStatus};
use std::future::Future;

/// One write transaction of a live store. Dropping it without
/// [`EventTx::commit`] rolls everything back.
pub(crate) trait EventTx {
    /// Makes reports take turns (across every server on a shared store),
    /// so ids and idempotency keys are decided one report at a time.
    async fn lock_reports(&mut self) -> Result<(), StoreError>;
    /// The event `account` first reported with this idempotency key, and
    /// the digest of what that report said.
    async fn find_by_key(
        &mut self,
        account: &str,
        key: &str,
    ) -> Result<Option<(u64, Option<String>)>, StoreError>;
    /// The id a new report gets: the next after every id given out, and at
    /// least `min_id`.
    async fn next_id(&mut self, min_id: u64) -> Result<u64, StoreError>;
    /// An event as the store holds it, locked until the transaction ends.
    async fn read(&mut self, id: u64) -> Result<Option<EventRecord>, StoreError>;
    /// Writes a new event, with its report's idempotency key under the
    /// reporting account and the digest of what it said.
    async fn insert(
        &mut self,
        rec: &EventRecord,
        key: Keyed<'_>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Writes a moved event's new state.
    async fn update(&mut self, rec: &EventRecord, now: i64) -> Result<(), StoreError>;
    /// Appends a move to the event's history.
    async fn log(&mut self, id: u64, entry: &HistoryEntry) -> Result<(), StoreError>;
    /// Tells other servers that the event changed (once committed).
    async fn announce(&mut self, id: u64) -> Result<(), StoreError>;
    async fn commit(self) -> Result<(), StoreError>;
}

/// A report's idempotency key, whose it is, and what the report said.
pub(crate) struct Keyed<'a> {
    pub account: &'a str,
    pub key: Option<&'a str>,
    pub request_hash: &'a str,
}

/// Records a report as `actor` at `now`: `false` with the first event when
/// the actor's account used the idempotency key before for the same report
/// (nothing is written then); the same key with another report is refused
/// ([`StoreError::IdempotencyConflict`]). Keys are the account's own:
/// another account's key never finds this one's event.
pub(crate) async fn report<T: EventTx>(
    mut tx: T,
    actor: &Actor,
    min_id: u64,
    new: &NewReport,
    now: i64,
) -> Result<(EventRecord, bool), StoreError> {
    check_report(actor, new.unit)?;
    tx.lock_reports().await?;
    let request_hash = new.request_hash();
    if let Some(key) = &new.idempotency_key {
        if let Some((id, said)) = tx.find_by_key(&actor.account, key).await? {
            if said.as_deref() != Some(request_hash.as_str()) {
                return Err(StoreError::IdempotencyConflict { key: key.clone() });
            }
            let rec = tx.read(id).await?.ok_or(StoreError::UnknownEvent(id))?;
            return Ok((rec, false));
        }
    }
    let id = tx.next_id(min_id).await?;
    let rec = new.record(id, actor, now);
    let keyed = Keyed {
        account: &actor.account,
        key: new.idempotency_key.as_deref(),
        request_hash: &request_hash,
    };
    tx.insert(&rec, keyed, now).await?;
    let entry = HistoryEntry::by(actor, now, None, EventStatus::Reported, None, None);
    tx.log(id, &entry).await?;
    tx.announce(id).await?;
    tx.commit().await?;
    Ok((rec, true))
}

/// Moves event `id` one step as `actor` asks at `now`: re-reads it inside
/// the transaction (`base` is its state in the city, for a store that holds
/// only the events the loop touched), checks the move, writes the new state
/// and the history entry, announces it and commits.
pub(crate) async fn transition<T: EventTx>(
    mut tx: T,
    actor: &Actor,
    id: u64,
    base: Option<&Event>,
    mv: &MoveRequest,
    now: i64,
) -> Result<EventRecord, StoreError> {
    let mut rec = match tx.read(id).await? {
        Some(r) => r,
        None => EventRecord::untouched(base.cloned().ok_or(StoreError::UnknownEvent(id))?),
    };
    let from = rec.apply_move(actor, mv, now)?;
    tx.update(&rec, now).await?;
    let entry = HistoryEntry::by(
        actor,
        now,
        Some(from),
        mv.to,
        mv.routed_to.as_deref(),
        mv.note.as_deref(),
    );
    tx.log(id, &entry).await?;
    tx.announce(id).await?;
    tx.commit().await?;
    Ok(rec)
}

/// The answer of a future that never waits (the embedded store's work).
pub(crate) fn run_now<T>(f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => Err(StoreError::Worker(
            "a blocking store's work tried to wait".into(),
        )),
    }
}
