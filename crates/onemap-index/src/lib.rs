//! The in-memory city: every layer of a [`onemap_core::CityData`] indexed for
//! the questions the map asks.
//!
//! - [`City::build`] turns plain data into a [`City`] (checking it, see
//!   [`BuildReport`]); a `City` is immutable and `Send + Sync`, meant to be
//!   shared as an `Arc` and replaced whole.
//! - Queries return plain serde structs: [`City::locate`] gives a
//!   [`Location`] ([`City::locate_unit`] just the unit);
//!   [`City::features_in_bbox`], [`City::features_in_area`] and
//!   [`City::features_in_polygon`] give a [`Page`] of [`Feature`]s filtered by
//!   an [`EventFilter`] and paged by [`PageRequest`]/[`Cursor`];
//!   [`City::nearest`] gives [`Neighbor`]s by geodesic distance.
//! - Event figures: [`City::event_stats`] groups counts by area level or H3
//!   cell ([`StatsQuery`] → [`StatsReport`]), [`City::hotspots`] ranks places
//!   where a problem keeps coming back ([`HotspotQuery`] → [`Hotspot`]), and
//!   [`City::area_details`] gives one area with its breadcrumb and children.
//! - Read-only column views for renderers: [`City::event_columns`],
//!   [`City::columns_of`] and friends.
//!
//! - Query values from text, shared by the command line and the HTTP API:
//!   [`GroupBy`], [`HotspotPlace`] and [`Cursor`] are `FromStr`;
//!   [`TimeWindow::between`] and [`EventFilter::for_layer`] build a window
//!   and a layer's filter from parsed bounds and comma lists.
//!
//! - [`js_safe`]: the JSON convention for ids beyond 2^53 (strings), shared
//!   by the API and the command line.
//!
//! Every failure is an [`IndexError`].
//!
//! # Layout
//!
//! Areas are addressed by their position in their level (levels are sorted by
//! id, and ids are hierarchical, so an area's descendants at any level are one
//! contiguous range). Each unit knows its ancestor at every level, so
//! roll-ups are array lookups. Unit boundaries are flat ring arrays behind a
//! uniform grid of candidate units; the point-in-polygon test counts the
//! boundary as inside and uses exact orientation, and ties go to the smallest
//! unit id. Each point layer is a set of columns (id, lon, lat, unit, the H3
//! cells holding the point at [`FINE_RESOLUTION`] and, as a [`CellStacks`]
//! number, at [`TILE_RESOLUTIONS`]) with an R-tree (`f32` offsets), an id
//! order and a unit-grouped order; events are stored by `(reported_at, id)`
//! with their time, category and status as further columns, so a time window
//! is a slice.

mod access;
mod cells;
mod city;
mod details;
mod error;
mod feature;
mod filter;
mod h3;
mod hotspots;
mod json;
mod locate;
mod memory;
mod nearest;
mod overdue;
mod parse;
mod points;
mod query;
pub use query::MAX_POLYGON_VERTICES;
mod stats;
mod tree;

#[cfg(test)]
#[path = "../tests/common/fixture.rs"]
mod fixture;

pub use access::{CodeMask, EventColumns, PointColumns, NO_UNIT};
pub use cells::{CellStack, CellStacks};
pub use city::{box_tree, BoxEntry, BuildReport, City};
pub use details::{AreaDetails, AreaRef, ChildFigures, LayerCounts, Location, LocationIds};
pub use error::IndexError;
pub use feature::{Feature, Neighbor, Page, Properties};
pub use filter::{Cursor, EventFilter, PageRequest, TimeWindow, MAX_BBOX_DEGREES, MAX_LIMIT};
pub use h3::{FINE_RESOLUTION, HOTSPOT_RESOLUTIONS, STATS_RESOLUTIONS, TILE_RESOLUTIONS};
pub use hotspots::{Hotspot, HotspotPlace, HotspotQuery, PlaceKey};
pub use json::{js_safe, to_js_safe_vec, MAX_SAFE_INTEGER};
pub use memory::MemoryReport;
pub use overdue::{OverdueEvent, OverdueReport, MAX_OVERDUE_LIST};
pub use stats::{
    CategoryCounts, Figures, GroupBy, GroupKey, GroupStats, Scope, StatsQuery, StatsReport,
    StatusCounts, Tally, MAX_GROUPS,
};
