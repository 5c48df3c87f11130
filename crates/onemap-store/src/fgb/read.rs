//! Reading a city directory.
//!
//! A layer file is read whole into memory and parsed with the FlatBuffers
//! accessors of the `flatgeobuf` crate (every table is verified), but framed
//! and decoded here rather than through `FgbReader`: its feature iterator
//! stops silently when a file is cut at a feature boundary, allocates
//! whatever size a corrupt length prefix announces, and its property and
//! geometry readers index without bounds checks (a crafted file panics
//! them). Here every length is checked against the file, a short file is
//! reported as truncated, and features are decoded in parallel.

use super::schema::{
    self, area, enterprise, event, heritage, homestead, school, ship, ColumnDef, Family,
    MAX_COLUMNS,
};
use super::{layer_path, meta_path};
use crate::StoreError;
use flatgeobuf::packed_r_tree::PackedRTree;
use flatgeobuf::{ColumnType, Feature, Geometry, GeometryType, Header};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use onemap_core::{
    Area, AreaId, AreaTree, CityData, CityMeta, CoreError, Enterprise, Event, HeritagePoint,
    Homestead, Layer, Level, School, Ship,
};
use rayon::prelude::*;
use std::fs;
use std::io::ErrorKind;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

/// Largest header the reader accepts (the same limit as flatgeobuf's).
const MAX_HEADER_SIZE: usize = 10 * 1024 * 1024;

/// The features of one layer file.
#[derive(Debug, Clone)]
pub enum LayerData {
    /// The areas of one level, ascending by id.
    Areas(Vec<Area>),
    Events(Vec<Event>),
    Ships(Vec<Ship>),
    Heritage(Vec<HeritagePoint>),
    Homesteads(Vec<Homestead>),
    Enterprises(Vec<Enterprise>),
    Schools(Vec<School>),
}

/// Reads a city directory written by [`write_city_dir`](crate::write_city_dir).
///
/// The layers are read in parallel. Features come back in ascending id order
/// (ships by MMSI), so a city whose vectors are in that order reads back
/// equal to what was written.
pub fn read_city_dir(dir: &Path) -> Result<(CityMeta, CityData), StoreError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(StoreError::MissingDir {
                path: dir.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(StoreError::Io {
                action: "open directory",
                path: dir.to_path_buf(),
                source,
            })
        }
        Ok(m) if !m.is_dir() => {
            return Err(StoreError::NotADirectory {
                path: dir.to_path_buf(),
            })
        }
        Ok(_) => {}
    }
    // Name a missing file before spending time on the others.
    let paths = std::iter::once(meta_path(dir)).chain(Layer::ALL.map(|l| layer_path(dir, l)));
    for path in paths {
        if !path.exists() {
            return Err(StoreError::MissingFile { path });
        }
    }
    let (meta, layers) = rayon::join(
        || read_meta(&meta_path(dir)),
        || {
            Layer::ALL
                .par_iter()
                .map(|&l| read_layer(&layer_path(dir, l), l))
                .collect::<Vec<_>>()
        },
    );
    let meta = meta?;
    let mut city = CityData::default();
    let mut areas = Vec::new();
    for layer in layers {
        match layer? {
            LayerData::Areas(v) => areas.extend(v),
            LayerData::Events(v) => city.events = v,
            LayerData::Ships(v) => city.ships = v,
            LayerData::Heritage(v) => city.heritage = v,
            LayerData::Homesteads(v) => city.homesteads = v,
            LayerData::Enterprises(v) => city.enterprises = v,
            LayerData::Schools(v) => city.schools = v,
        }
    }
    city.areas = AreaTree::from_areas(areas);
    Ok((meta, city))
}

/// Reads `city.json`.
pub fn read_meta(path: &Path) -> Result<CityMeta, StoreError> {
    let bytes = load(path)?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads one layer file, holding `layer`'s features.
pub fn read_layer(path: &Path, layer: Layer) -> Result<LayerData, StoreError> {
    Ok(match layer.area_level() {
        Some(level) => LayerData::Areas(read_areas(path, level)?),
        None => match layer {
            Layer::Events => LayerData::Events(read_events(path)?),
            Layer::Ships => LayerData::Ships(read_ships(path)?),
            Layer::Heritage => LayerData::Heritage(read_heritage(path)?),
            Layer::Homesteads => LayerData::Homesteads(read_homesteads(path)?),
            Layer::Enterprises => LayerData::Enterprises(read_enterprises(path)?),
            _ => LayerData::Schools(read_schools(path)?),
        },
    })
}

/// Reads an area layer file (`districts.fgb` … `units.fgb`) holding areas of
/// `level`, ascending by id.
pub fn read_areas(path: &Path, level: Level) -> Result<Vec<Area>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::for_level(level))?;
    let mut areas = file.decode(|row, feat| {
        let id = row.area_id(area::ID)?;
        if id.level() != Some(level) {
            return Err(FeatError::Value {
                column: "id",
                value: id.to_string(),
                source: CoreError::UnknownValue {
                    kind: "area id",
                    value: id.to_string(),
                    expected: format!("a {}-digit {level} code", level.id_digits()),
                },
            });
        }
        Ok(Area {
            id,
            level,
            name: row.text(area::NAME)?.to_owned(),
            parent: row.opt_area_id(area::PARENT_ID)?,
            leader: row.opt_text(area::LEADER)?.map(str::to_owned),
            geometry: multipolygon(feat)?,
        })
    })?;
    areas.par_sort_by_key(|a| a.id);
    Ok(areas)
}

/// Reads `events.fgb`, ascending by id.
pub fn read_events(path: &Path) -> Result<Vec<Event>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Events)?;
    let mut events = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(Event {
            id: row.u64(event::ID)?,
            lon,
            lat,
            category: row.parse(event::CATEGORY)?,
            status: row.parse(event::STATUS)?,
            reported_at: row.i64(event::REPORTED_AT)?,
            closed_at: row.opt_i64(event::CLOSED_AT)?,
            unit: row.area_id(event::UNIT_ID)?,
        })
    })?;
    events.par_sort_by_key(|e| e.id);
    Ok(events)
}

/// Reads `ships.fgb`, ascending by MMSI.
pub fn read_ships(path: &Path) -> Result<Vec<Ship>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Ships)?;
    let mut ships = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(Ship {
            mmsi: row.u32(ship::MMSI)?,
            name: row.text(ship::NAME)?.to_owned(),
            home_port: row.text(ship::HOME_PORT)?.to_owned(),
            lon,
            lat,
            speed_kn: row.f32(ship::SPEED_KN)?,
            heading_deg: row.f32(ship::HEADING_DEG)?,
            in_port: row.bool(ship::IN_PORT)?,
            reported_at: row.i64(ship::REPORTED_AT)?,
        })
    })?;
    ships.par_sort_by_key(|s| s.mmsi);
    Ok(ships)
}

/// Reads `heritage.fgb`, ascending by id.
pub fn read_heritage(path: &Path) -> Result<Vec<HeritagePoint>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Heritage)?;
    let mut points = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(HeritagePoint {
            id: row.u64(heritage::ID)?,
            name: row.text(heritage::NAME)?.to_owned(),
            lon,
            lat,
            level: row.parse(heritage::LEVEL)?,
            watch: row.parse(heritage::WATCH)?,
        })
    })?;
    points.par_sort_by_key(|p| p.id);
    Ok(points)
}

/// Reads `homesteads.fgb`, ascending by id.
pub fn read_homesteads(path: &Path) -> Result<Vec<Homestead>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Homesteads)?;
    let mut homesteads = file.decode(|row, feat| {
        Ok(Homestead {
            id: row.u64(homestead::ID)?,
            geometry: multipolygon(feat)?,
            area_m2: row.f64(homestead::AREA_M2)?,
            status: row.parse(homestead::STATUS)?,
        })
    })?;
    homesteads.par_sort_by_key(|h| h.id);
    Ok(homesteads)
}

/// Reads `enterprises.fgb`, ascending by id.
pub fn read_enterprises(path: &Path) -> Result<Vec<Enterprise>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Enterprises)?;
    let mut enterprises = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(Enterprise {
            id: row.u64(enterprise::ID)?,
            name: row.text(enterprise::NAME)?.to_owned(),
            lon,
            lat,
            industry: row.text(enterprise::INDUSTRY)?.to_owned(),
            employees: row.u32(enterprise::EMPLOYEES)?,
            large: row.bool(enterprise::LARGE)?,
        })
    })?;
    enterprises.par_sort_by_key(|e| e.id);
    Ok(enterprises)
}

/// Reads `schools.fgb`, ascending by id.
pub fn read_schools(path: &Path) -> Result<Vec<School>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Schools)?;
    let mut schools = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(School {
            id: row.u64(school::ID)?,
            name: row.text(school::NAME)?.to_owned(),
            lon,
            lat,
            kind: row.parse(school::KIND)?,
            students: row.u32(school::STUDENTS)?,
        })
    })?;
    schools.par_sort_by_key(|s| s.id);
    Ok(schools)
}

fn load(path: &Path) -> Result<Vec<u8>, StoreError> {
    fs::read(path).map_err(|source| {
        if source.kind() == ErrorKind::NotFound {
            StoreError::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            StoreError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

// ---------------------------------------------------------------------------
// Framing and header checks.

/// A layer file checked and split into features.
struct LayerFile<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    columns: &'static [ColumnDef],
    /// Type of each column of the file.
    types: Vec<ColumnType>,
    /// For each column of the file, the index of our column it holds.
    map: Vec<Option<u16>>,
    /// Byte range of each feature, size prefix included.
    features: Vec<Range<usize>>,
}

impl<'a> LayerFile<'a> {
    fn open(path: &'a Path, bytes: &'a [u8], layer: Layer) -> Result<Self, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let len = bytes.len();
        let magic_ok =
            len >= 8 && &bytes[0..3] == b"fgb" && &bytes[4..7] == b"fgb" && bytes[3] <= 3;
        if !magic_ok {
            if len < 8 && super::MAGIC.starts_with(bytes) {
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
    fn decode<T: Send>(
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

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
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

// ---------------------------------------------------------------------------
// Feature decoding.

/// What is wrong with one feature; placed in its file by [`FeatError::at`].
enum FeatError {
    Msg(String),
    Value {
        column: &'static str,
        value: String,
        source: CoreError,
    },
}

impl FeatError {
    fn at(self, path: &Path, feature: usize) -> StoreError {
        let path = path.to_path_buf();
        match self {
            FeatError::Msg(reason) => StoreError::BadFeature {
                path,
                feature,
                reason,
            },
            FeatError::Value {
                column,
                value,
                source,
            } => StoreError::BadValue {
                path,
                feature,
                column,
                value,
                source: Box::new(source),
            },
        }
    }
}

fn msg(s: impl Into<String>) -> FeatError {
    FeatError::Msg(s.into())
}

/// One property value, widened.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Int(i64),
    UInt(u64),
    Real(f64),
    Bool(bool),
    Text(&'a str),
}

/// The properties of one feature, by our column index.
struct Row<'a> {
    vals: [Option<Val<'a>>; MAX_COLUMNS],
    columns: &'static [ColumnDef],
}

impl<'a> Row<'a> {
    fn read(props: &'a [u8], file: &LayerFile) -> Result<Self, FeatError> {
        let mut row = Row {
            vals: [None; MAX_COLUMNS],
            columns: file.columns,
        };
        let cut = || msg("a property runs past the end of the feature");
        let mut o = 0;
        // A single trailing byte is tolerated, as flatgeobuf does.
        while o + 1 < props.len() {
            let idx = usize::from(u16::from_le_bytes([props[o], props[o + 1]]));
            o += 2;
            let Some(&ty) = file.types.get(idx) else {
                return Err(msg(format!(
                    "a property refers to column {idx}, but the file has {} columns",
                    file.types.len()
                )));
            };
            let size = match ty {
                ColumnType::Byte | ColumnType::UByte | ColumnType::Bool => 1,
                ColumnType::Short | ColumnType::UShort => 2,
                ColumnType::Int | ColumnType::UInt | ColumnType::Float => 4,
                ColumnType::Long | ColumnType::ULong | ColumnType::Double => 8,
                ColumnType::String
                | ColumnType::Json
                | ColumnType::DateTime
                | ColumnType::Binary => {
                    let n = read_u32(props, o).ok_or_else(cut)? as usize;
                    o += 4;
                    n
                }
                _ => return Err(msg(format!("column {idx} has {}", schema::type_name(ty)))),
            };
            let b = props.get(o..o.saturating_add(size)).ok_or_else(cut)?;
            o += size;
            let Some(ours) = file.map[idx] else { continue };
            // Numbers, zero-padded to 8 bytes (little-endian, so widening is free).
            let mut a = [0u8; 8];
            let k = b.len().min(8);
            a[..k].copy_from_slice(&b[..k]);
            let val = match ty {
                ColumnType::Byte => Val::Int(i64::from(b[0] as i8)),
                ColumnType::UByte => Val::Int(i64::from(b[0])),
                ColumnType::Bool => Val::Bool(b[0] != 0),
                ColumnType::Short => Val::Int(i64::from(i16::from_le_bytes([a[0], a[1]]))),
                ColumnType::UShort => Val::Int(i64::from(u16::from_le_bytes([a[0], a[1]]))),
                ColumnType::Int => {
                    Val::Int(i64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])))
                }
                ColumnType::UInt => {
                    Val::Int(i64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])))
                }
                ColumnType::Long => Val::Int(i64::from_le_bytes(a)),
                ColumnType::ULong => Val::UInt(u64::from_le_bytes(a)),
                ColumnType::Float => {
                    Val::Real(f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])))
                }
                ColumnType::Double => Val::Real(f64::from_le_bytes(a)),
                _ => Val::Text(std::str::from_utf8(b).map_err(|_| {
                    msg(format!(
                        "column '{}' holds text that is not UTF-8",
                        file.columns[usize::from(ours)].name
                    ))
                })?),
            };
            row.vals[usize::from(ours)] = Some(val);
        }
        Ok(row)
    }

    fn name(&self, col: u16) -> &'static str {
        self.columns[usize::from(col)].name
    }

    fn opt(&self, col: u16) -> Option<Val<'a>> {
        self.vals[usize::from(col)]
    }

    fn req(&self, col: u16) -> Result<Val<'a>, FeatError> {
        self.opt(col)
            .ok_or_else(|| msg(format!("column '{}' is null", self.name(col))))
    }

    fn out_of_range(&self, col: u16, v: impl std::fmt::Display) -> FeatError {
        msg(format!(
            "value {v} in column '{}' is out of range",
            self.name(col)
        ))
    }

    fn mismatch(&self, col: u16) -> FeatError {
        msg(format!(
            "column '{}' holds a value of another type",
            self.name(col)
        ))
    }

    fn as_i64(&self, col: u16, v: Val) -> Result<i64, FeatError> {
        match v {
            Val::Int(v) => Ok(v),
            Val::UInt(v) => i64::try_from(v).map_err(|_| self.out_of_range(col, v)),
            _ => Err(self.mismatch(col)),
        }
    }

    fn i64(&self, col: u16) -> Result<i64, FeatError> {
        self.as_i64(col, self.req(col)?)
    }

    fn opt_i64(&self, col: u16) -> Result<Option<i64>, FeatError> {
        self.opt(col).map(|v| self.as_i64(col, v)).transpose()
    }

    fn as_u64(&self, col: u16, v: Val) -> Result<u64, FeatError> {
        match v {
            Val::Int(v) => u64::try_from(v).map_err(|_| self.out_of_range(col, v)),
            Val::UInt(v) => Ok(v),
            _ => Err(self.mismatch(col)),
        }
    }

    fn u64(&self, col: u16) -> Result<u64, FeatError> {
        self.as_u64(col, self.req(col)?)
    }

    fn u32(&self, col: u16) -> Result<u32, FeatError> {
        let v = self.u64(col)?;
        u32::try_from(v).map_err(|_| self.out_of_range(col, v))
    }

    fn f64(&self, col: u16) -> Result<f64, FeatError> {
        match self.req(col)? {
            Val::Real(v) => Ok(v),
            _ => Err(self.mismatch(col)),
        }
    }

    fn f32(&self, col: u16) -> Result<f32, FeatError> {
        self.f64(col).map(|v| v as f32)
    }

    fn bool(&self, col: u16) -> Result<bool, FeatError> {
        match self.req(col)? {
            Val::Bool(v) => Ok(v),
            _ => Err(self.mismatch(col)),
        }
    }

    fn as_text(&self, col: u16, v: Val<'a>) -> Result<&'a str, FeatError> {
        match v {
            Val::Text(s) => Ok(s),
            _ => Err(self.mismatch(col)),
        }
    }

    fn text(&self, col: u16) -> Result<&'a str, FeatError> {
        self.as_text(col, self.req(col)?)
    }

    fn opt_text(&self, col: u16) -> Result<Option<&'a str>, FeatError> {
        self.opt(col).map(|v| self.as_text(col, v)).transpose()
    }

    /// A coded enum stored by name.
    fn parse<E: FromStr<Err = CoreError>>(&self, col: u16) -> Result<E, FeatError> {
        let s = self.text(col)?;
        s.parse().map_err(|source| FeatError::Value {
            column: self.name(col),
            value: s.to_owned(),
            source,
        })
    }

    fn as_area_id(&self, col: u16, v: Val) -> Result<AreaId, FeatError> {
        let raw = self.as_u64(col, v)?;
        AreaId::new(raw).map_err(|source| FeatError::Value {
            column: self.name(col),
            value: raw.to_string(),
            source,
        })
    }

    fn area_id(&self, col: u16) -> Result<AreaId, FeatError> {
        self.as_area_id(col, self.req(col)?)
    }

    fn opt_area_id(&self, col: u16) -> Result<Option<AreaId>, FeatError> {
        self.opt(col).map(|v| self.as_area_id(col, v)).transpose()
    }
}

fn point(feature: &Feature) -> Result<(f64, f64), FeatError> {
    let xy = feature
        .geometry()
        .and_then(|g| g.xy())
        .ok_or_else(|| msg("missing point geometry"))?;
    if xy.len() != 2 {
        return Err(msg(format!(
            "a point has 2 coordinate values, this one {}",
            xy.len()
        )));
    }
    Ok((xy.get(0), xy.get(1)))
}

fn multipolygon(feature: &Feature) -> Result<MultiPolygon<f64>, FeatError> {
    let g = feature
        .geometry()
        .ok_or_else(|| msg("missing polygon geometry"))?;
    match g.parts() {
        Some(parts) => parts
            .iter()
            .map(|p| polygon(&p))
            .collect::<Result<_, _>>()
            .map(MultiPolygon),
        // A plain Polygon, or an empty geometry.
        None if g.xy().is_some_and(|xy| !xy.is_empty()) => Ok(MultiPolygon(vec![polygon(&g)?])),
        None => Ok(MultiPolygon(Vec::new())),
    }
}

fn polygon(g: &Geometry) -> Result<Polygon<f64>, FeatError> {
    let xy = g.xy().map(|v| v.bytes()).unwrap_or_default();
    // 16 bytes per coordinate.
    if !xy.chunks_exact(16).remainder().is_empty() {
        return Err(msg("a polygon has an odd number of coordinate values"));
    }
    let f = |b: &[u8]| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let coords: Vec<Coord<f64>> = xy
        .chunks_exact(16)
        .map(|c| Coord {
            x: f(&c[..8]),
            y: f(&c[8..]),
        })
        .collect();
    let n = coords.len();
    let mut rings = Vec::new();
    match g.ends().filter(|e| !e.is_empty()) {
        None => rings.push(LineString(coords)),
        Some(ends) => {
            let mut start = 0;
            for end in ends.iter() {
                let end = end as usize;
                if end < start || end > n {
                    return Err(msg(format!(
                        "polygon ring ends {:?} do not fit its {n} coordinates",
                        ends.iter().collect::<Vec<_>>()
                    )));
                }
                rings.push(LineString(coords[start..end].to_vec()));
                start = end;
            }
            if start != n {
                return Err(msg(format!(
                    "polygon ring ends {:?} leave coordinates out of its {n}",
                    ends.iter().collect::<Vec<_>>()
                )));
            }
        }
    }
    let mut rings = rings.into_iter();
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Ok(Polygon::new(exterior, rings.collect()))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{sample_city, square};
    use super::*;
    use crate::write_city_dir;
    use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};
    use geozero::ToGeo;

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

    #[test]
    fn flatgeobufs_reader_reads_our_files_and_index() {
        let (meta, city) = sample_city();
        let tmp = tempfile::tempdir().unwrap();
        write_city_dir(tmp.path(), &meta, &city).unwrap();

        let file = fs::File::open(layer_path(tmp.path(), Layer::Events)).unwrap();
        let reader = FgbReader::open(std::io::BufReader::new(file)).unwrap();
        let header = reader.header();
        assert_eq!(header.features_count(), city.events.len() as u64);
        assert_eq!(header.crs().unwrap().code(), 4326);
        let mut iter = reader.select_all().unwrap();
        let mut seen = Vec::new();
        while let Some(f) = iter.next().unwrap() {
            let id: i64 = f.property("id").unwrap();
            let e = &city.events[id as usize - 1];
            assert_eq!(f.property::<String>("status").unwrap(), e.status.as_str());
            assert_eq!(f.property::<i64>("unit_id").unwrap() as u64, e.unit.get());
            let closed: Option<i64> = f.property("closed_at").ok();
            assert_eq!(closed, e.closed_at);
            match f.to_geo().unwrap() {
                geo_types::Geometry::Point(p) => assert_eq!((p.x(), p.y()), (e.lon, e.lat)),
                g => panic!("not a point: {g:?}"),
            }
            seen.push(id as u64);
        }
        seen.sort_unstable();
        assert_eq!(seen, city.events.iter().map(|e| e.id).collect::<Vec<_>>());

        // The spatial index finds exactly the events in a box.
        let (x0, y0, x1, y1) = (119.0005, 25.4, 119.002, 25.4006);
        let file = fs::File::open(layer_path(tmp.path(), Layer::Events)).unwrap();
        let mut iter = FgbReader::open(std::io::BufReader::new(file))
            .unwrap()
            .select_bbox(x0, y0, x1, y1)
            .unwrap();
        let mut found = Vec::new();
        while let Some(f) = iter.next().unwrap() {
            found.push(f.property::<i64>("id").unwrap() as u64);
        }
        found.sort_unstable();
        let expected: Vec<u64> = city
            .events
            .iter()
            .filter(|e| e.lon >= x0 && e.lon <= x1 && e.lat >= y0 && e.lat <= y1)
            .map(|e| e.id)
            .collect();
        assert!(!expected.is_empty() && expected.len() < city.events.len());
        assert_eq!(found, expected);

        // Polygons with holes and several parts.
        let file = fs::File::open(layer_path(tmp.path(), Layer::Districts)).unwrap();
        let mut iter = FgbReader::open(std::io::BufReader::new(file))
            .unwrap()
            .select_all()
            .unwrap();
        let mut n = 0;
        while let Some(f) = iter.next().unwrap() {
            let id: i64 = f.property("id").unwrap();
            let area = city.areas.get(AreaId::new(id as u64).unwrap()).unwrap();
            assert_eq!(f.property::<String>("name").unwrap(), area.name);
            assert!(
                f.property::<i64>("parent_id").is_err(),
                "null for districts"
            );
            match f.to_geo().unwrap() {
                geo_types::Geometry::MultiPolygon(mp) => assert_eq!(mp, area.geometry),
                g => panic!("not a multipolygon: {g:?}"),
            }
            n += 1;
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn polygon_layers_accept_plain_polygons() {
        // A Polygon-typed file (as some tools write) reads as one-part MultiPolygons.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("homesteads.fgb");
        let mut w = flatgeobuf::FgbWriter::create_with_options(
            "homesteads",
            GeometryType::Polygon,
            flatgeobuf::FgbWriterOptions {
                crs: flatgeobuf::FgbCrs {
                    code: 4326,
                    ..Default::default()
                },
                detect_type: false,
                promote_to_multi: false,
                ..Default::default()
            },
        )
        .unwrap();
        w.add_column("id", ColumnType::UInt, |_, _| {});
        w.add_column("area_m2", ColumnType::Float, |_, _| {});
        w.add_column("status", ColumnType::String, |_, _| {});
        let poly = square(119.0, 25.4, 0.001);
        w.add_feature_geom(geo_types::Geometry::Polygon(poly.clone()), |f| {
            use geozero::{ColumnValue, PropertyProcessor};
            f.property(0, "id", &ColumnValue::UInt(5)).unwrap();
            f.property(1, "area_m2", &ColumnValue::Float(12.5)).unwrap();
            f.property(2, "status", &ColumnValue::String("demolishing"))
                .unwrap();
        })
        .unwrap();
        w.write(std::io::BufWriter::new(fs::File::create(&path).unwrap()))
            .unwrap();
        let h = read_homesteads(&path).unwrap();
        assert_eq!(
            h,
            vec![Homestead {
                id: 5,
                geometry: MultiPolygon(vec![poly]),
                area_m2: 12.5,
                status: onemap_core::HomesteadStatus::Demolishing,
            }]
        );
    }
}
