//! The FlatGeobuf city directory.
//!
//! A city directory holds one FlatGeobuf file per [`Layer`], named
//! `<layer>.fgb` (`districts.fgb` … `schools.fgb`), and `city.json`, the
//! [`CityMeta`](onemap_core::CityMeta) as pretty JSON.
//!
//! Every layer file declares EPSG:4326 in its header, has a packed Hilbert
//! R-tree (node size 16) and typed columns, so it opens as is in QGIS/GDAL:
//!
//! | file | geometry | columns |
//! |------|----------|---------|
//! | districts, towns, villages, grids, units | MultiPolygon | `id` Long, `name` String, `parent_id` Long (null for districts), `leader` String (null where none) |
//! | events | Point | `id` Long, `category` String, `status` String, `reported_at` Long, `closed_at` Long (null while open), `unit_id` Long |
//! | ships | Point | `mmsi` UInt, `name` String, `home_port` String, `speed_kn` Float, `heading_deg` Float, `in_port` Bool, `reported_at` Long |
//! | heritage | Point | `id` Long, `name` String, `level` String, `watch` String |
//! | homesteads | MultiPolygon | `id` Long, `area_m2` Double, `status` String |
//! | enterprises | Point | `id` Long, `name` String, `industry` String, `employees` UInt, `large` Bool |
//! | schools | Point | `id` Long, `name` String, `kind` String, `students` UInt |
//!
//! Enums are stored by their lowercase name (`closed`, `drainage`, …), times
//! as Unix seconds. Ids are `Long` rather than `ULong` because GDAL reads
//! `ULong` as a double, which cannot hold 18-digit unit codes exactly.
//!
//! Features are stored in Hilbert order, as FlatGeobuf requires for its
//! index; the reader returns them sorted by id (ships by MMSI).
//!
//! `read` reads a city directory and `write` writes one; `schema` is the
//! column list both follow.

mod read;
mod schema;
mod write;

use onemap_core::Layer;
use std::path::{Path, PathBuf};

pub use read::{read_city_areas, read_city_dir};
pub use write::write_city_dir;

/// FlatGeobuf magic bytes, format version 3.
const MAGIC: [u8; 8] = *b"fgb\x03fgb\x00";

/// File name of the city metadata in a city directory.
const META_FILE: &str = "city.json";
/// Extension of the layer files.
const LAYER_EXTENSION: &str = "fgb";

/// Path of `layer`'s file in the city directory `dir`: `<dir>/<layer>.fgb`.
pub(crate) fn layer_path(dir: &Path, layer: Layer) -> PathBuf {
    dir.join(format!("{}.{LAYER_EXTENSION}", layer.as_str()))
}

/// Path of the metadata file in the city directory `dir`: `<dir>/city.json`.
pub(crate) fn meta_path(dir: &Path) -> PathBuf {
    dir.join(META_FILE)
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
