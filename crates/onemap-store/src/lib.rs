//! onemap persistence.
//!
//! A city is stored as a *city directory*: one FlatGeobuf file per layer plus
//! `city.json` (see [`write_city_dir`] and [`read_city_dir`]; the file
//! schemas are listed in the `fgb` module's source documentation). Files
//! are written atomically and deterministically (same city, same bytes) and
//! read back into equal values; any problem with a file is a
//! [`StoreError`] naming it.
//!
//! [`validate_city`] checks that a city is sound (ids, parents, geometry
//! validity, containment, overlaps, gaps) and reports what it found.
//!
//! [`postgres`] keeps a city in PostGIS, the system of record in
//! production: schema migrations, whole-city import and load with binary
//! COPY. Nothing above this crate writes SQL.
//!
//! [`EmbeddedStore`] keeps what the live server changes in a GeoPackage
//! file when there is no PostGIS; [`LiveStore`] is either of the two, as
//! the server sees it.

pub mod archive;
mod embedded;
mod error;
mod fgb;
mod live;
pub mod postgres;
mod validate;

pub use embedded::{EmbeddedStore, EMBEDDED_FILE};
pub use error::StoreError;
pub use fgb::{read_city_areas, read_city_dir, write_city_dir};
pub use live::coord::{
    CoordDecision, CoordInputs, CoordRequest, CoordSelfCheck, MAX_NOTE_CHARS, REQUEST_KINDS,
};
pub use live::downloads::{Download, MAX_DOWNLOADS_LISTED};
pub use live::lists::{ListPage, MAX_LIST_PAGE};
pub use live::photos::{NewPhoto, Photo, PhotoInfo};
pub use live::records::{
    Crossing, EventRecord, HistoryEntry, MoveRequest, NewReport, ShipPosition,
};
pub use live::templates::{
    NewTemplate, Template, MAX_TEMPLATES, MAX_TEMPLATE_NAME, MAX_TEMPLATE_PARAMS,
};
pub use live::tokens::{IssuedToken, TokenGrant, TokenInfo};
pub use live::users::{
    check_name, decoy_hash, hash_password, user_account, verify_password, UserGrant, UserInfo,
    MIN_PASSWORD_CHARS, SESSION_SECS,
};
pub use live::LiveStore;
pub use postgres::{ImportMode, Notice, PgError, PgLink, PgLive, PgStore, PgTarget};
pub use validate::{validate_city, Check, Report};
