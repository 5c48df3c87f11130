//! Mapbox Vector Tiles for onemap.
//!
//! - [`TileSource`] serves every tile of a [`onemap_index::City`]: built once
//!   (areas generalized per zoom band, labels placed, H3 hexagon grids laid
//!   out), it answers a [`TileRequest`] (a [`LayerSet`], a tile, an event
//!   filter) with a composite [`Tile`] and its ETag, or `None` for an empty
//!   tile, through a bounded cache keyed by the data versions the tile reads.
//!   It also gives TileJSON and a layer catalog.
//! - [`TileBuilder`] is the low-level entry point: ask it for a
//!   [`LayerBuilder`] by name, add polygons and points in lon/lat with typed
//!   [`Value`] attributes, and [`TileBuilder::finish`] gives the encoded tile.
//! - [`TileProjection`] does the geometry work for one tile: project to tile
//!   pixels, simplify, clip to the tile plus a buffer ([`ClipWindow`]),
//!   quantize, clean and orient rings (exterior clockwise on screen), and
//!   make every polygon feature an OGC-valid multipolygon (`valid`).
//! - `mvt`: the hand-written MVT 2.1 protobuf encoder ([`LayerEncoder`],
//!   [`encode_tile`]); no code generator, no `protoc`.
//! - [`export`] writes every non-empty tile of a zoom range to an MBTiles or
//!   PMTiles archive.
//! - [`rules`]: the one table of per-layer zoom rules (zooms, simplification,
//!   H3 aggregation, labels), also rendered as Markdown for the docs.
//! - Feature ids are exact in JavaScript ([`area_feature_id`],
//!   [`hexagon_feature_id`]); ids beyond 2^53 travel as string properties
//!   (an area's `code`; see `ids`).

mod builder;
mod clip;
mod error;
mod export;
mod figures;
mod geom;
mod ids;
mod layers;
mod mvt;
mod prepared;
mod render;
mod rules;
mod source;
mod tilejson;
mod valid;

pub use builder::{LayerBuilder, TileBuilder, DEFAULT_BUFFER};
pub use clip::ClipWindow;
pub use error::TilesError;
pub use export::{export, export_tiles, ExportError, ExportFormat, ExportOptions, ExportSummary};
pub use geom::{ring_area, simplify_ring, to_world, TileProjection};
pub use ids::{area_feature_id, hexagon_feature_id, MAX_SAFE_INTEGER};
pub use layers::{LayerSet, Tile, TileRequest, MAX_SERVE_ZOOM};
pub use mvt::{encode_points, encode_rings, encode_tile, GeomType, LayerEncoder, Value, EXTENT};
pub use prepared::{FINEST_BAND, MIN_FEATURE_PX};
pub use rules::{
    rule, rule_for, rules, rules_markdown, Aggregation, LayerRule, LABELS, MAX_TILE_POINTS,
};
pub use source::{sources_alive, CacheStats, TileSource};
pub use tilejson::{feature_id, fields};
