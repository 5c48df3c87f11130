//! A layer file checked and split into features before any is decoded:
//! magic bytes, header size and table, CRS, geometry type and columns,
//! the index's size, and each feature's size prefix, all against the
//! file's length; then the features decoded in parallel.

use super::row::{FeatError, Row};
use crate::fgb::schema::{self, ColumnDef, Family};
use crate::StoreError;
use flatgeobuf::packed_r_tree::PackedRTree;
use flatgeobuf::{ColumnType, Feature, GeometryType, Header};
use onemap_core::Layer;
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;

/// Largest header the reader accepts (the same limit as flatgeobuf's).
const MAX_HEADER_SIZE: usize = 10 * 1024 * 1024;

/// A layer file checked and split into features.
pub(super) struct LayerFile<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pub(super) columns: &'static [ColumnDef],
    /// Type of each column of the file.
    pub(super) types: Vec<ColumnType>,
    /// For each column of the file, the index of our column it holds.
    pub(super) map: Vec<Option<u16>>,
    /// Byte range of each feature, size prefix included.
    features: Vec<Range<usize>>,
}

impl<'a> LayerFile<'a> {
    pub(super) fn open(path: &'a Path, bytes: &'a [u8], layer: Layer) -> Result<Self, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let len = bytes.len();
        let magic_ok =
            len >= 8 && &bytes[0..3] == b"fgb" && &bytes[4..7] == b"fgb" && bytes[3] <= 3;
        if !magic_ok {
            if len < 8 && crate::fgb::MAGIC.starts_with(bytes) {
                return Err(corrupt(format!(
                    "the file is only {len} bytes long (truncated?)"
                )));
            }
            return Err(StoreError::NotFlatGeobuf {
                path: path.to_path_buf(),
            });
        }
        let Some(header_size) = read_u32(bytes, 8).map(|n| n as usize) else {
            return Err(corrupt(
                "the file ends inside the header (truncated?)".into(),
            ));
        };
        if !(8..=MAX_HEADER_SIZE).contains(&header_size) {
            return Err(corrupt(format!("implausible header size {header_size}")));
        }
        let header_end = 12 + header_size;
        if header_end > len {
            return Err(corrupt(
                "the file ends inside the header (truncated?)".into(),
            ));
        }
        let header =
            flatgeobuf::size_prefixed_root_as_header(&bytes[8..header_end]).map_err(|e| {
                StoreError::InvalidFlatbuffer {
                    path: path.to_path_buf(),
                    what: "header".into(),
                    source: e.into(),
                }
            })?;

        check_crs(&header).map_err(|found| StoreError::WrongCrs {
            path: path.to_path_buf(),
            found,
        })?;
        let expected = schema::geometry_type(layer);
        let found = header.geometry_type();
        let polygonal = expected == GeometryType::MultiPolygon && found == GeometryType::Polygon;
        if found != expected && !polygonal {
            return Err(StoreError::WrongGeometryType {
                path: path.to_path_buf(),
                expected: if expected == GeometryType::Point {
                    "Point"
                } else {
                    "MultiPolygon"
                },
                found: schema::geometry_name(found),
            });
        }

        let columns = schema::columns(layer);
        let file_columns: Vec<_> = header
            .columns()
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        let types: Vec<ColumnType> = file_columns.iter().map(|c| c.type_()).collect();
        let mut map = vec![None; types.len()];
        for (i, def) in columns.iter().enumerate() {
            let Some(j) = file_columns.iter().position(|c| c.name() == def.name) else {
                if def.added_later {
                    continue;
                }
                return Err(StoreError::MissingColumn {
                    path: path.to_path_buf(),
                    column: def.name,
                });
            };
            let want = Family::of(def.ty);
            if Family::of(types[j]) != want {
                return Err(StoreError::WrongColumnType {
                    path: path.to_path_buf(),
                    column: def.name,
                    expected: want.map_or("?", Family::describe),
                    found: schema::type_name(types[j]),
                });
            }
            map[j] = Some(i as u16);
        }

        // The index, then the features, each prefixed with its size.
        let count = header.features_count();
        let mut pos = header_end;
        if count > ((len - pos) / 4) as u64 {
            return Err(corrupt(format!(
                "the header announces {count} features but only {} bytes follow (truncated?)",
                len - pos
            )));
        }
        let count = count as usize;
        let node_size = header.index_node_size();
        if count > 0 && node_size > 0 {
            if node_size < 2 {
                return Err(corrupt(format!("invalid index node size {node_size}")));
            }
            pos += PackedRTree::index_size(count, node_size);
            if pos > len {
                return Err(corrupt(
                    "the file ends inside the spatial index (truncated?)".into(),
                ));
            }
        }
        let of = |n: usize| {
            if count > 0 {
                format!("{n} of {count}")
            } else {
                n.to_string()
            }
        };
        let mut features = Vec::with_capacity(count);
        while (count > 0 && features.len() < count) || (count == 0 && pos < len) {
            let i = features.len();
            let Some(size) = read_u32(bytes, pos) else {
                return Err(corrupt(format!(
                    "the file ends after {} features (truncated?)",
                    of(i)
                )));
            };
            let end = pos + 4 + size as usize;
            if end > len {
                return Err(corrupt(format!(
                    "the file ends inside feature #{} (truncated?)",
                    of(i)
                )));
            }
            features.push(pos..end);
            pos = end;
        }
        if pos != len {
            return Err(corrupt(format!(
                "{} unexpected bytes after the last of {count} features",
                len - pos
            )));
        }
        Ok(LayerFile {
            path,
            bytes,
            columns,
            types,
            map,
            features,
        })
    }

    /// Decodes every feature with `f`, in parallel, in file order.
    pub(super) fn decode<T: Send>(
        &self,
        f: impl Fn(&Row, &Feature) -> Result<T, FeatError> + Sync,
    ) -> Result<Vec<T>, StoreError> {
        self.features
            .par_iter()
            .with_min_len(1024)
            .enumerate()
            .map(|(i, range)| {
                let feature = flatgeobuf::size_prefixed_root_as_feature(&self.bytes[range.clone()])
                    .map_err(|e| StoreError::InvalidFlatbuffer {
                        path: self.path.to_path_buf(),
                        what: format!("feature #{i}"),
                        source: e.into(),
                    })?;
                let props = feature.properties().map_or(&[][..], |p| p.bytes());
                Row::read(props, self)
                    .and_then(|row| f(&row, &feature))
                    .map_err(|e| e.at(self.path, i))
            })
            .collect()
    }
}

pub(super) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Accepts EPSG:4326 only; otherwise returns a description of the CRS found.
fn check_crs(header: &Header) -> Result<(), String> {
    let Some(crs) = header.crs() else {
        return Err("missing (no CRS in the header)".into());
    };
    // A missing organisation means EPSG.
    let org = crs.org().unwrap_or("EPSG");
    let epsg = org.eq_ignore_ascii_case("EPSG");
    let code = if crs.code() != 0 {
        Some(crs.code().to_string())
    } else {
        crs.code_string().map(str::to_owned)
    };
    match code {
        Some(code) if epsg && code.trim() == "4326" => Ok(()),
        Some(code) => Err(format!("{org}:{code}")),
        None => Err(match (crs.name(), crs.wkt()) {
            (Some(name), _) => format!("'{name}' (no EPSG code)"),
            (None, Some(_)) => "a WKT definition without an EPSG code".into(),
            (None, None) => "unknown (code 0)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{read_layer, read_schools};
    use super::*;
    use crate::fgb::fixtures::sample_city;
    use crate::fgb::layer_path;
    use crate::write_city_dir;
    use std::fs;

    /// Deterministic pseudo-random bytes.
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("schools.fgb");
        for (i, n) in [0usize, 3, 8, 12, 100, 5000].into_iter().enumerate() {
            fs::write(&path, noise(i as u64, n)).unwrap();
            let err = read_schools(&path).unwrap_err().to_string();
            assert!(err.contains("schools.fgb"), "{err}");
            // The same after valid magic bytes.
            let mut bytes = b"fgb\x03fgb\x00".to_vec();
            bytes.extend(noise(i as u64 + 100, n));
            fs::write(&path, &bytes).unwrap();
            let err = read_schools(&path).unwrap_err().to_string();
            assert!(err.contains("schools.fgb"), "{err}");
        }
        fs::write(&path, b"{\"type\": \"FeatureCollection\"}").unwrap();
        let err = read_schools(&path).unwrap_err().to_string();
        assert!(err.contains("not a FlatGeobuf file"), "{err}");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let (meta, city) = sample_city();
        let tmp = tempfile::tempdir().unwrap();
        write_city_dir(tmp.path(), &meta, &city).unwrap();
        for layer in [Layer::Events, Layer::Districts, Layer::Ships] {
            let path = layer_path(tmp.path(), layer);
            let bytes = fs::read(&path).unwrap();
            assert!(LayerFile::open(&path, &bytes, layer).is_ok());
            // Framing is checked before any feature is decoded, so `open`
            // alone must refuse every cut.
            for n in 0..bytes.len() {
                let err = LayerFile::open(&path, &bytes[..n], layer)
                    .err()
                    .unwrap_or_else(|| panic!("{layer} cut to {n} bytes opened"));
                assert!(err.to_string().contains(&format!("{layer}.fgb")), "{err}");
            }
        }
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let (meta, city) = sample_city();
        let tmp = tempfile::tempdir().unwrap();
        write_city_dir(tmp.path(), &meta, &city).unwrap();
        for layer in [Layer::Districts, Layer::Ships, Layer::Homesteads] {
            let good = fs::read(layer_path(tmp.path(), layer)).unwrap();
            let path = tmp.path().join("bad.fgb");
            let flips = noise(layer as u64, good.len());
            for i in 0..good.len() {
                let mut bad = good.clone();
                bad[i] ^= flips[i] | 1;
                fs::write(&path, &bad).unwrap();
                // Some flips (in coordinates, say) still read; none may panic.
                let _ = read_layer(&path, layer);
            }
        }
    }
}
