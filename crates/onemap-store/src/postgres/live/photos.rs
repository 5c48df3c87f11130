//! Events' photos in PostGIS (`event_photos`): the photo primitives of a
//! write transaction, adding one (the shared
//! [`crate::live::photos::add_photo`], which locks the event's row) and the
//! reads.

use super::events::{sql_id, PgTx};
use super::PgLive;
use crate::live::photos::{self, seq_of, PhotoTx};
use crate::postgres::{from_time, to_time, PgError};
use crate::{NewPhoto, Photo, PhotoInfo, StoreError};
use onemap_core::workflow::Actor;
use tokio_postgres::Row;

const PHOTO_COLUMNS: &str = "event_id, seq, media_type, width, height, account, uploader, at";

impl PhotoTx for PgTx<'_> {
    async fn photo_seqs(&mut self, id: u64) -> Result<Vec<u8>, StoreError> {
        let rows = self
            .tx
            .query(
                "SELECT seq FROM event_photos WHERE event_id = $1 ORDER BY seq",
                &[&sql_id(id)?],
            )
            .await
            .map_err(self.live.err("read an event's photos"))?;
        rows.iter()
            .map(|r| {
                let seq: i32 = r.get(0);
                seq_of(i64::from(seq)).ok_or_else(|| {
                    PgError::invalid("event_photos", format!("event {id}: photo number {seq}"))
                        .into()
                })
            })
            .collect()
    }

    async fn insert_photo(&mut self, p: &PhotoInfo, bytes: &[u8]) -> Result<(), StoreError> {
        let size = |v: u32| {
            i32::try_from(v)
                .map_err(|_| PgError::invalid("event_photos", format!("photo size {v}")))
        };
        self.tx
            .execute(
                &format!(
                    "INSERT INTO event_photos ({PHOTO_COLUMNS}, data) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ),
                &[
                    &sql_id(p.event_id)?,
                    &i32::from(p.seq),
                    &p.media_type,
                    &size(p.width)?,
                    &size(p.height)?,
                    &p.account,
                    &p.uploader,
                    &to_time("event_photos", p.at)?,
                    &bytes,
                ],
            )
            .await
            .map_err(self.live.err("write a photo"))?;
        Ok(())
    }
}

impl PgLive {
    /// Adds a photo to event `id` as `actor` at `now`. One transaction,
    /// holding the event's row.
    pub async fn add_photo(
        &self,
        actor: &Actor,
        id: u64,
        photo: &NewPhoto,
        now: i64,
    ) -> Result<PhotoInfo, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(self.err("begin a photo"))?;
        // PostGIS holds every event: no base state to fall back on.
        photos::add_photo(PgTx { tx, live: self }, actor, id, None, photo, now).await
    }

    /// The photos of event `id` (without their bytes), by number.
    pub async fn photos(&self, id: u64) -> Result<Vec<PhotoInfo>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(Vec::new());
        };
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {PHOTO_COLUMNS} FROM event_photos WHERE event_id = $1 ORDER BY seq"
                ),
                &[&id],
            )
            .await
            .map_err(self.err("read an event's photos"))?;
        rows.iter().map(photo_info).collect()
    }

    /// Photo `seq` of event `id`, with its bytes.
    pub async fn photo(&self, id: u64, seq: u8) -> Result<Option<Photo>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!(
                    "SELECT {PHOTO_COLUMNS}, data FROM event_photos \
                     WHERE event_id = $1 AND seq = $2"
                ),
                &[&id, &i32::from(seq)],
            )
            .await
            .map_err(self.err("read a photo"))?;
        row.map(|r| {
            Ok(Photo {
                info: photo_info(&r)?,
                bytes: r.get(8),
            })
        })
        .transpose()
    }
}

/// A row of `PHOTO_COLUMNS`.
fn photo_info(r: &Row) -> Result<PhotoInfo, StoreError> {
    let event_id: i64 = r.get(0);
    let seq: i32 = r.get(1);
    let bad = |what: String| PgError::invalid("event_photos", format!("event {event_id}: {what}"));
    let size = |i: usize| {
        let v: i32 = r.get(i);
        u32::try_from(v).map_err(|_| bad(format!("photo size {v}")))
    };
    Ok(PhotoInfo {
        event_id: event_id as u64,
        seq: seq_of(i64::from(seq)).ok_or_else(|| bad(format!("photo number {seq}")))?,
        media_type: r.get(2),
        width: size(3)?,
        height: size(4)?,
        account: r.get(5),
        uploader: r.get(6),
        at: from_time("event_photos", r.get(7))?,
    })
}
