//! Domain types of onemap, shared by every other crate.
//!
//! - [`AreaId`], [`Level`] and [`Area`]: the strict area tree
//!   district → town → village → grid → unit, gathered in [`AreaTree`].
//! - [`Layer`]: the named map layers, parsed once at the edge.
//! - The thematic features: [`Event`] (with its closed-loop [`EventStatus`]),
//!   [`Ship`], [`HeritagePoint`], [`Homestead`], [`Enterprise`], [`School`].
//! - [`CityData`]: everything one city is made of, as plain data; the index
//!   crate turns it into a queryable `City`.
//! - [`LonLat`], [`BBox`] and [`TileCoord`]: validated coordinates, boxes and
//!   Web Mercator tiles, with the tile math in [`tile`].
//! - Values from text, as the command line and the API take them, each
//!   failing with a [`CoreError`] whose message is the one people see:
//!   [`BBox`], [`AreaId`], [`Level`], [`Layer`], the coded enums
//!   ([`EventCategory`], …) and their comma lists ([`parse_list`]),
//!   [`parse_polygon`], and [`TimeBound`] (dates, date-times, Unix seconds).
//!
//! This crate is deliberately light: it knows no file format, no index and no
//! HTTP.

mod area;
mod city;
pub mod deadlines;
mod error;
mod feature;
mod geom;
mod layer;
pub mod lists;
pub mod ships;
pub mod tile;
pub mod time;
pub mod workflow;

pub use area::{Area, AreaId, AreaTree, Level};
pub use city::{CityData, CityMeta, CITY_EXTENT, SYNTHETIC_PUTIAN};
pub use deadlines::Deadlines;
pub use error::CoreError;
pub use feature::{
    parse_list, Enterprise, Event, EventCategory, EventStatus, HeritagePoint, Homestead,
    HomesteadStatus, ListCategory, ListKind, ListStatus, ProtectionLevel, Role, School, SchoolKind,
    Ship, Watch,
};
pub use geom::{parse_polygon, BBox, LonLat};
pub use layer::Layer;
pub use tile::TileCoord;
pub use time::TimeBound;
