//! What changes the city, beneath the server: no HTTP here.
//!
//! [`Live`] holds the current snapshot of the city (a [`TileSource`] and,
//! through it, its [`City`]), swapped whole when something changes, and
//! the store that keeps every change ([`LiveStore`]: the embedded
//! GeoPackage file or PostGIS). Its operations:
//!
//! - [`Live::report`] and [`Live::transition`]: the closed event loop. A
//!   change is committed to the store first, then applied to a new snapshot,
//!   and returns once that snapshot is served — so whoever made it sees it
//!   in the next tile or figure. Changes arriving while a snapshot is built
//!   go together into the next one (`queue`).
//! - [`Live::ingest_positions`]: a batch of ship positions judged in order,
//!   port crossings and zone alerts derived, committed, applied, and sent to
//!   everyone who [`Live::subscribe`]d, in order.
//! - [`Live::follow`]: other servers' changes of a shared PostGIS, applied
//!   as they are announced.
//! - [`Live::add_photo`] and [`Live::photo`]: an event's photos (up to
//!   three), decoded, checked and made ready for display before they are
//!   kept (`photos`).
//! - [`Live::list_create`], [`Live::list_from_hotspot`] and
//!   [`Live::list_update`]: the problem, development and task lists, and
//!   their reads ([`Live::list_page`], [`Live::list_item`]) (`lists`).
//! - Reads that need the store or the ships' recent past: [`Live::event`]
//!   (with its history), [`Live::ship_track`], [`Live::crossings`] — the
//!   last two answered from memory, so they work while PostGIS is away.
//!
//! Work is done on a task of its own, so a caller that goes away (a client
//! that hangs up) never leaves a committed change unapplied. Failures are
//! [`LiveError`]s.
//!
//! [`TileSource`]: onemap_tiles::TileSource
//! [`City`]: onemap_index::City
//! [`LiveStore`]: onemap_store::LiveStore

mod accounts;
mod error;
mod events;
mod lists;
mod live;
mod photos;
mod queue;
mod ships;
pub mod templates;

pub use accounts::Session;
pub use error::LiveError;
pub use events::{EventView, MoveInput, ReportInput, Reported, MAX_DESCRIPTION, MAX_SHORT};
pub use lists::{today, HotspotExtras, HotspotSpec, HOTSPOT_DUE_DAYS, HOTSPOT_MIN};
pub use live::{Live, ACTOR_TTL};
pub use photos::{
    display_photo, PhotoRef, DISPLAY_SIDE, JPEG_QUALITY, MAX_DECODE_BYTES, MAX_PIXELS,
    PHOTO_MEDIA_TYPE, PHOTO_TURNS,
};
pub use ships::{
    IngestOutcome, PositionInput, Refused, StreamItem, MAX_BATCH, MAX_CROSSINGS, MAX_TRACK_POINTS,
    TRACK_SECS,
};
