//! Photos of events, the same in both live stores: what is kept of one (the
//! display JPEG, its size, who added it and when), and adding one, written
//! once over the primitives of a store's write transaction ([`PhotoTx`]).
//!
//! An event holds at most [`MAX_PHOTOS`], numbered 1 to 3 in the order they
//! came. Adding one re-reads the event inside the transaction (PostGIS locks
//! its row, SQLite holds the write lock), so two uploads at once never both
//! take the last place.

use super::records::EventRecord;
use super::workflow::EventTx;
use crate::StoreError;
use onemap_core::workflow::{check_photo, Actor, MAX_PHOTOS};
use onemap_core::Event;
use serde::Serialize;

/// A photo ready to keep: already decoded, checked and re-encoded for
/// display by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhoto {
    /// The media type of `bytes` (`image/jpeg`).
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// What is kept of a photo besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoInfo {
    pub event_id: u64,
    /// 1 to [`MAX_PHOTOS`], in the order the photos came.
    pub seq: u8,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    /// The name of who added it (as in the event's history).
    pub uploader: String,
    /// The account that added it (never shown).
    #[serde(skip)]
    pub account: String,
    /// When it was added (Unix seconds).
    pub at: i64,
}

/// A photo with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub info: PhotoInfo,
    pub bytes: Vec<u8>,
}

/// The photo primitives of a store's write transaction.
pub(crate) trait PhotoTx: EventTx {
    /// The numbers of the event's photos.
    async fn photo_seqs(&mut self, id: u64) -> Result<Vec<u8>, StoreError>;
    /// Writes a photo.
    async fn insert_photo(&mut self, info: &PhotoInfo, bytes: &[u8]) -> Result<(), StoreError>;
}

/// Adds a photo to event `id` as `actor` at `now`: the event is re-read
/// inside the transaction (`base` is its state in the city, for a store
/// that holds only the events the loop touched), the actor must be a unit
/// leader whose scope covers its unit, and it must hold fewer than
/// [`MAX_PHOTOS`] ([`StoreError::TooManyPhotos`]). The photo takes the
/// first free number.
pub(crate) async fn add_photo<T: PhotoTx>(
    mut tx: T,
    actor: &Actor,
    id: u64,
    base: Option<&Event>,
    new: &NewPhoto,
    now: i64,
) -> Result<PhotoInfo, StoreError> {
    let rec = match tx.read(id).await? {
        Some(r) => r,
        None => EventRecord::untouched(base.cloned().ok_or(StoreError::UnknownEvent(id))?),
    };
    check_photo(actor, rec.event.unit)?;
    let taken = tx.photo_seqs(id).await?;
    let seq = (1..=MAX_PHOTOS)
        .find(|s| !taken.contains(s))
        .ok_or(StoreError::TooManyPhotos {
            event: id,
            max: MAX_PHOTOS,
        })?;
    let info = PhotoInfo {
        event_id: id,
        seq,
        media_type: new.media_type.clone(),
        width: new.width,
        height: new.height,
        uploader: actor.name.clone(),
        account: actor.account.clone(),
        at: now,
    };
    tx.insert_photo(&info, &new.bytes).await?;
    tx.commit().await?;
    Ok(info)
}

/// A stored photo number as ours (1 to [`MAX_PHOTOS`]), else `None`.
pub(crate) fn seq_of(v: i64) -> Option<u8> {
    u8::try_from(v)
        .ok()
        .filter(|s| (1..=MAX_PHOTOS).contains(s))
}
