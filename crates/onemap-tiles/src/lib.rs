//! Mapbox Vector Tiles for onemap.
//!
//! - [`TileBuilder`] is the entry point: ask it for a [`LayerBuilder`] by
//!   name, add polygons and points in lon/lat with typed [`Value`]
//!   attributes, and [`TileBuilder::finish`] gives the encoded tile (or `None`
//!   when it is empty, for a 204).
//! - [`TileProjection`] does the geometry work for one tile: project to tile
//!   pixels, simplify, clip to the tile plus a buffer ([`ClipWindow`]),
//!   quantize, clean and orient rings (exterior clockwise on screen).
//! - `mvt`: the hand-written MVT 2.1 protobuf encoder ([`LayerEncoder`],
//!   [`encode_tile`]); no code generator, no `protoc`.
//! - [`rules`]: the one table of per-layer zoom rules (zooms, simplification,
//!   H3 aggregation, labels), also rendered as Markdown for the docs.

mod builder;
mod clip;
mod error;
mod geom;
mod mvt;
mod rules;

pub use builder::{LayerBuilder, TileBuilder, DEFAULT_BUFFER};
pub use clip::ClipWindow;
pub use error::TilesError;
pub use geom::{ring_area, simplify_ring, TileProjection};
pub use mvt::{encode_points, encode_rings, encode_tile, GeomType, LayerEncoder, Value, EXTENT};
pub use rules::{rule, rule_for, rules, rules_markdown, Aggregation, LayerRule, LABELS};
