//! Events' photos in the GeoPackage file (`event_photos`): the photo
//! primitives of a SQLite write transaction, adding one (the shared
//! [`crate::live::photos::add_photo`]) and the reads.

use super::events::EmbeddedTx;
use super::{db, EmbeddedStore};
use crate::live::photos::{self, seq_of, PhotoTx};
use crate::live::workflow::run_now;
use crate::{NewPhoto, Photo, PhotoInfo, StoreError};
use onemap_core::workflow::Actor;
use onemap_core::Event;
use rusqlite::{params, OptionalExtension};

const PHOTO_COLUMNS: &str = "event_id, seq, media_type, width, height, account, uploader, at";

impl PhotoTx for EmbeddedTx<'_> {
    async fn photo_seqs(&mut self, id: u64) -> Result<Vec<u8>, StoreError> {
        let Ok(fid) = i64::try_from(id) else {
            return Ok(Vec::new());
        };
        let mut st = self
            .tx
            .prepare("SELECT seq FROM event_photos WHERE event_id = ?1 ORDER BY seq")
            .map_err(|e| db(self.path(), "read an event's photos", e))?;
        let rows = st
            .query_map([fid], |r| r.get::<_, i64>(0))
            .map_err(|e| db(self.path(), "read an event's photos", e))?;
        let mut out = Vec::new();
        for r in rows {
            let seq = r.map_err(|e| db(self.path(), "read an event's photos", e))?;
            out.push(seq_of(seq).ok_or_else(|| StoreError::BadStoredValue {
                path: self.path().to_path_buf(),
                reason: format!("event {id}: photo number {seq}"),
            })?);
        }
        Ok(out)
    }

    async fn insert_photo(&mut self, p: &PhotoInfo, bytes: &[u8]) -> Result<(), StoreError> {
        let fid = i64::try_from(p.event_id).map_err(|_| StoreError::UnknownEvent(p.event_id))?;
        self.tx
            .execute(
                &format!(
                    "INSERT INTO event_photos ({PHOTO_COLUMNS}, data) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    fid,
                    p.seq,
                    p.media_type,
                    p.width,
                    p.height,
                    p.account,
                    p.uploader,
                    p.at,
                    bytes
                ],
            )
            .map_err(|e| db(self.path(), "write a photo", e))?;
        Ok(())
    }
}

impl EmbeddedStore {
    /// Adds a photo to event `id` as `actor` at `now` (`base`: the event in
    /// the city's files, when this store has not seen it). One transaction.
    pub fn add_photo(
        &self,
        actor: &Actor,
        id: u64,
        base: Option<&Event>,
        photo: &NewPhoto,
        now: i64,
    ) -> Result<PhotoInfo, StoreError> {
        self.write("add a photo", |tx| {
            run_now(photos::add_photo(tx, actor, id, base, photo, now))
        })
    }

    /// The photos of event `id` (without their bytes), by number.
    pub fn photos(&self, id: u64) -> Result<Vec<PhotoInfo>, StoreError> {
        let Ok(fid) = i64::try_from(id) else {
            return Ok(Vec::new());
        };
        let conn = self.lock();
        let mut st = conn
            .prepare(&format!(
                "SELECT {PHOTO_COLUMNS} FROM event_photos WHERE event_id = ?1 ORDER BY seq"
            ))
            .map_err(|e| db(&self.path, "read an event's photos", e))?;
        let rows = st
            .query_map([fid], |r| Ok(self.photo_row(r)))
            .map_err(|e| db(&self.path, "read an event's photos", e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(|e| db(&self.path, "read an event's photos", e))??);
        }
        Ok(out)
    }

    /// Photo `seq` of event `id`, with its bytes.
    pub fn photo(&self, id: u64, seq: u8) -> Result<Option<Photo>, StoreError> {
        let Ok(fid) = i64::try_from(id) else {
            return Ok(None);
        };
        let conn = self.lock();
        conn.query_row(
            &format!(
                "SELECT {PHOTO_COLUMNS}, data FROM event_photos WHERE event_id = ?1 AND seq = ?2"
            ),
            params![fid, seq],
            |r| {
                let bytes: Vec<u8> = r.get(8)?;
                Ok(self.photo_row(r).map(|info| Photo { info, bytes }))
            },
        )
        .optional()
        .map_err(|e| db(&self.path, "read a photo", e))?
        .transpose()
    }

    /// A row of `PHOTO_COLUMNS`; an error when a stored value makes no sense.
    fn photo_row(&self, r: &rusqlite::Row<'_>) -> Result<PhotoInfo, StoreError> {
        let read = |e| db(&self.path, "read a photo", e);
        let event_id: i64 = r.get(0).map_err(read)?;
        let seq: i64 = r.get(1).map_err(read)?;
        let bad = |what: String| StoreError::BadStoredValue {
            path: self.path.clone(),
            reason: format!("event {event_id}: photo {what}"),
        };
        let size = |i: usize| -> Result<u32, StoreError> {
            let v: i64 = r.get(i).map_err(read)?;
            u32::try_from(v).map_err(|_| bad(format!("size {v}")))
        };
        Ok(PhotoInfo {
            event_id: event_id as u64,
            seq: seq_of(seq).ok_or_else(|| bad(format!("number {seq}")))?,
            media_type: r.get(2).map_err(read)?,
            width: size(3)?,
            height: size(4)?,
            account: r.get(5).map_err(read)?,
            uploader: r.get(6).map_err(read)?,
            at: r.get(7).map_err(read)?,
        })
    }
}
