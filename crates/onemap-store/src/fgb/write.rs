//! Writing a city directory.
//!
//! The features are encoded with the FlatBuffers tables and the packed
//! R-tree of the `flatgeobuf` crate, but not with its `FgbWriter`: that
//! writer spools every feature to a temporary file and, when finishing, seeks
//! back to each one (one seek and read per feature) and sorts by Hilbert value
//! recomputing both values on every comparison — over 5 s for a million
//! points. Here features are encoded in parallel into memory, Hilbert values
//! are computed once, and the file is written in one sequential pass. The
//! output is what `FgbWriter` would produce for the same features (same
//! feature encoding, same descending Hilbert order, same packed R-tree); the
//! header differs only in spelling out the CRS organisation ("EPSG").

use super::schema::{self, area, enterprise, event, heritage, homestead, school, ship, ColumnDef};
use super::{layer_path, meta_path};
use crate::StoreError;
use flatbuffers::{FlatBufferBuilder, WIPOffset};
use flatgeobuf::packed_r_tree::{NodeItem, PackedRTree};
use flatgeobuf::{
    Column, ColumnArgs, Crs, CrsArgs, Feature, FeatureArgs, Geometry, GeometryArgs, Header,
    HeaderArgs,
};
use geo_types::{LineString, MultiPolygon};
use onemap_core::{
    Area, CityData, CityMeta, Enterprise, Event, HeritagePoint, Homestead, Layer, Level, School,
    Ship,
};
use rayon::prelude::*;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Features encoded per parallel task.
const CHUNK: usize = 16 * 1024;

/// Writes a whole city into `dir` (created if missing): one `<layer>.fgb`
/// per [`Layer`] and `city.json`.
///
/// All files are first written under temporary names in `dir`, in parallel,
/// and only renamed into place once every one of them is complete, so a
/// failed write leaves the previous files (if any) untouched and no
/// half-written file behind (short of the renames themselves failing
/// midway). `city.json` is renamed last. The same input always gives
/// byte-identical files.
pub fn write_city_dir(dir: &Path, meta: &CityMeta, city: &CityData) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        action: "create directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut jobs: Vec<Job> = Level::ALL
        .into_iter()
        .map(|l| Job::Areas(l, city.areas.level(l)))
        .collect();
    jobs.extend([
        Job::Events(&city.events),
        Job::Ships(&city.ships),
        Job::Heritage(&city.heritage),
        Job::Homesteads(&city.homesteads),
        Job::Enterprises(&city.enterprises),
        Job::Schools(&city.schools),
        // Last, so it is renamed into place last.
        Job::Meta(meta),
    ]);
    let staged: Vec<Result<Staged, StoreError>> =
        jobs.par_iter().map(|job| job.stage(dir)).collect();
    // On the first error, dropping the rest removes their temporary files.
    let staged = staged
        .into_iter()
        .collect::<Result<Vec<Staged>, StoreError>>()?;
    for s in staged {
        s.commit()?;
    }
    Ok(())
}

/// One file to write.
enum Job<'a> {
    Meta(&'a CityMeta),
    Areas(Level, &'a [Area]),
    Events(&'a [Event]),
    Ships(&'a [Ship]),
    Heritage(&'a [HeritagePoint]),
    Homesteads(&'a [Homestead]),
    Enterprises(&'a [Enterprise]),
    Schools(&'a [School]),
}

/// What goes into a file.
enum Content {
    Json(Vec<u8>),
    Layer(EncodedLayer),
}

impl Job<'_> {
    fn dest(&self, dir: &Path) -> PathBuf {
        let layer = match self {
            Job::Meta(_) => return meta_path(dir),
            Job::Areas(l, _) => Layer::for_level(*l),
            Job::Events(_) => Layer::Events,
            Job::Ships(_) => Layer::Ships,
            Job::Heritage(_) => Layer::Heritage,
            Job::Homesteads(_) => Layer::Homesteads,
            Job::Enterprises(_) => Layer::Enterprises,
            Job::Schools(_) => Layer::Schools,
        };
        layer_path(dir, layer)
    }

    fn content(&self) -> Result<Content, String> {
        let layer = match self {
            Job::Meta(meta) => {
                let mut json = serde_json::to_vec_pretty(meta).map_err(|e| e.to_string())?;
                json.push(b'\n');
                return Ok(Content::Json(json));
            }
            Job::Areas(level, v) => encode(Layer::for_level(*level), v, |a, f| {
                encode_area(*level, a, f)
            }),
            Job::Events(v) => encode(Layer::Events, v, encode_event),
            Job::Ships(v) => encode(Layer::Ships, v, encode_ship),
            Job::Heritage(v) => encode(Layer::Heritage, v, encode_heritage),
            Job::Homesteads(v) => encode(Layer::Homesteads, v, encode_homestead),
            Job::Enterprises(v) => encode(Layer::Enterprises, v, encode_enterprise),
            Job::Schools(v) => encode(Layer::Schools, v, encode_school),
        };
        layer.map(Content::Layer)
    }

    /// Writes the file under its temporary name.
    fn stage(&self, dir: &Path) -> Result<Staged, StoreError> {
        let staged = Staged::new(self.dest(dir));
        let content = self.content().map_err(|reason| StoreError::InvalidData {
            path: staged.dest.clone(),
            reason,
        })?;
        let io = |source| StoreError::Io {
            action: "write",
            path: staged.tmp.clone(),
            source,
        };
        let file = File::create(&staged.tmp).map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        match &content {
            Content::Json(json) => out.write_all(json).map_err(io)?,
            Content::Layer(layer) => layer.write(&mut out).map_err(io)?,
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(staged)
    }
}

/// A finished file under its temporary name; removed on drop unless
/// committed.
struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Staged {
    fn new(dest: PathBuf) -> Self {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        Staged {
            tmp,
            dest,
            committed: false,
        }
    }

    fn commit(mut self) -> Result<(), StoreError> {
        fs::rename(&self.tmp, &self.dest).map_err(|source| StoreError::Io {
            action: "rename into place",
            path: self.dest.clone(),
            source,
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

// ---------------------------------------------------------------------------
// Per-layer feature encoders.

fn encode_area(level: Level, a: &Area, f: &mut FeatureBuilder) -> Result<(), String> {
    if a.level != level || a.id.level() != Some(level) {
        return Err(format!(
            "area {} is filed as a {} but its id has {} digits (a {} id has {})",
            a.id,
            a.level,
            a.id.to_string().len(),
            level,
            level.id_digits()
        ));
    }
    f.multipolygon(&a.geometry);
    f.id(area::ID, a.id.get())?;
    f.string(area::NAME, &a.name)?;
    if let Some(p) = a.parent {
        f.id(area::PARENT_ID, p.get())?;
    }
    if let Some(l) = &a.leader {
        f.string(area::LEADER, l)?;
    }
    Ok(())
}

fn encode_event(e: &Event, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(e.lon, e.lat);
    f.id(event::ID, e.id)?;
    f.string(event::CATEGORY, e.category.as_str())?;
    f.string(event::STATUS, e.status.as_str())?;
    f.long(event::REPORTED_AT, e.reported_at);
    if let Some(t) = e.closed_at {
        f.long(event::CLOSED_AT, t);
    }
    f.id(event::UNIT_ID, e.unit.get())
}

fn encode_ship(s: &Ship, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(s.lon, s.lat);
    f.uint(ship::MMSI, s.mmsi);
    f.string(ship::NAME, &s.name)?;
    f.string(ship::HOME_PORT, &s.home_port)?;
    f.float(ship::SPEED_KN, s.speed_kn);
    f.float(ship::HEADING_DEG, s.heading_deg);
    f.boolean(ship::IN_PORT, s.in_port);
    f.long(ship::REPORTED_AT, s.reported_at);
    Ok(())
}

fn encode_heritage(h: &HeritagePoint, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(h.lon, h.lat);
    f.id(heritage::ID, h.id)?;
    f.string(heritage::NAME, &h.name)?;
    f.string(heritage::LEVEL, h.level.as_str())?;
    f.string(heritage::WATCH, h.watch.as_str())
}

fn encode_homestead(h: &Homestead, f: &mut FeatureBuilder) -> Result<(), String> {
    f.multipolygon(&h.geometry);
    f.id(homestead::ID, h.id)?;
    f.double(homestead::AREA_M2, h.area_m2);
    f.string(homestead::STATUS, h.status.as_str())
}

fn encode_enterprise(e: &Enterprise, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(e.lon, e.lat);
    f.id(enterprise::ID, e.id)?;
    f.string(enterprise::NAME, &e.name)?;
    f.string(enterprise::INDUSTRY, &e.industry)?;
    f.uint(enterprise::EMPLOYEES, e.employees);
    f.boolean(enterprise::LARGE, e.large);
    Ok(())
}

fn encode_school(s: &School, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(s.lon, s.lat);
    f.id(school::ID, s.id)?;
    f.string(school::NAME, &s.name)?;
    f.string(school::KIND, s.kind.as_str())?;
    f.uint(school::STUDENTS, s.students);
    Ok(())
}

// ---------------------------------------------------------------------------
// Encoding and writing one layer file.

/// The features of one layer, encoded, in input order.
struct EncodedLayer {
    layer: Layer,
    /// Encoded features (size-prefixed FlatBuffers), one buffer per chunk.
    chunks: Vec<Vec<u8>>,
    /// Per feature: chunk, byte range in the chunk, bounding box.
    features: Vec<(u32, usize, usize, NodeItem)>,
}

/// Encodes `items` in parallel, keeping their order.
fn encode<T: Sync>(
    layer: Layer,
    items: &[T],
    f: impl Fn(&T, &mut FeatureBuilder) -> Result<(), String> + Sync,
) -> Result<EncodedLayer, String> {
    type Chunk = (Vec<u8>, Vec<(usize, usize, NodeItem)>);
    let chunks: Vec<Chunk> = items
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut b = FeatureBuilder::new(schema::columns(layer));
            let mut buf = Vec::with_capacity(chunk.len() * 128);
            let mut feats = Vec::with_capacity(chunk.len());
            for item in chunk {
                f(item, &mut b)?;
                let start = buf.len();
                let bbox = b.finish(&mut buf);
                feats.push((start, buf.len(), bbox));
            }
            Ok((buf, feats))
        })
        .collect::<Result<_, String>>()?;
    let mut out = EncodedLayer {
        layer,
        chunks: Vec::with_capacity(chunks.len()),
        features: Vec::with_capacity(items.len()),
    };
    for (i, (buf, feats)) in chunks.into_iter().enumerate() {
        out.chunks.push(buf);
        out.features
            .extend(feats.into_iter().map(|(s, e, bbox)| (i as u32, s, e, bbox)));
    }
    Ok(out)
}

impl EncodedLayer {
    /// Writes the file: magic bytes, header, packed Hilbert R-tree, then the
    /// features in descending Hilbert order (ties keep the input order).
    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let extent = self.features.iter().fold(NodeItem::create(0), |mut a, f| {
            a.expand(&f.3);
            a
        });
        let mut order: Vec<(u32, u32)> = self
            .features
            .par_iter()
            .enumerate()
            .map(|(i, f)| (hilbert_of(&f.3, &extent), i as u32))
            .collect();
        order.par_sort_unstable_by_key(|&(h, i)| (std::cmp::Reverse(h), i));

        out.write_all(&super::MAGIC)?;
        out.write_all(&self.header(&extent))?;
        if !self.features.is_empty() {
            let mut offset = 0u64;
            let nodes: Vec<NodeItem> = order
                .iter()
                .map(|&(_, i)| {
                    let (_, s, e, ref bbox) = self.features[i as usize];
                    let mut node = bbox.clone();
                    node.offset = offset;
                    offset += (e - s) as u64;
                    node
                })
                .collect();
            let tree = PackedRTree::build(&nodes, &extent, PackedRTree::DEFAULT_NODE_SIZE)
                .map_err(std::io::Error::other)?;
            tree.stream_write(out)?;
        }
        for &(_, i) in &order {
            let (c, s, e, _) = self.features[i as usize];
            out.write_all(&self.chunks[c as usize][s..e])?;
        }
        Ok(())
    }

    /// The size-prefixed header table.
    fn header(&self, extent: &NodeItem) -> Vec<u8> {
        let mut fbb = FlatBufferBuilder::new();
        let name = fbb.create_string(self.layer.as_str());
        let cols: Vec<WIPOffset<Column>> = schema::columns(self.layer)
            .iter()
            .map(|c: &ColumnDef| {
                let n = fbb.create_string(c.name);
                Column::create(
                    &mut fbb,
                    &ColumnArgs {
                        name: Some(n),
                        type_: c.ty,
                        nullable: c.nullable,
                        ..Default::default()
                    },
                )
            })
            .collect();
        let columns = fbb.create_vector(&cols);
        let org = fbb.create_string("EPSG");
        let crs = Crs::create(
            &mut fbb,
            &CrsArgs {
                org: Some(org),
                code: 4326,
                ..Default::default()
            },
        );
        let envelope = (!self.features.is_empty())
            .then(|| fbb.create_vector(&[extent.min_x, extent.min_y, extent.max_x, extent.max_y]));
        let header = Header::create(
            &mut fbb,
            &HeaderArgs {
                name: Some(name),
                envelope,
                geometry_type: schema::geometry_type(self.layer),
                columns: Some(columns),
                features_count: self.features.len() as u64,
                index_node_size: PackedRTree::DEFAULT_NODE_SIZE,
                crs: Some(crs),
                ..Default::default()
            },
        );
        fbb.finish_size_prefixed(header, None);
        fbb.finished_data().to_vec()
    }
}

/// Builds one feature at a time, reusing its buffers.
struct FeatureBuilder<'fbb> {
    fbb: FlatBufferBuilder<'fbb>,
    props: Vec<u8>,
    xy: Vec<f64>,
    ends: Vec<u32>,
    parts: Vec<WIPOffset<Geometry<'fbb>>>,
    geometry: Option<WIPOffset<Geometry<'fbb>>>,
    bbox: NodeItem,
    columns: &'static [ColumnDef],
}

impl<'fbb> FeatureBuilder<'fbb> {
    fn new(columns: &'static [ColumnDef]) -> Self {
        FeatureBuilder {
            columns,
            fbb: FlatBufferBuilder::with_capacity(1024),
            props: Vec::with_capacity(256),
            xy: Vec::new(),
            ends: Vec::new(),
            parts: Vec::new(),
            geometry: None,
            bbox: NodeItem::create(0),
        }
    }

    fn point(&mut self, x: f64, y: f64) {
        self.bbox.expand_xy(x, y);
        let xy = self.fbb.create_vector(&[x, y]);
        self.geometry = Some(Geometry::create(
            &mut self.fbb,
            &GeometryArgs {
                xy: Some(xy),
                ..Default::default()
            },
        ));
    }

    /// A MultiPolygon as FlatGeobuf stores it: one part per polygon, each
    /// with its rings' coordinates and, when it has more than one ring, the
    /// ring ends.
    fn multipolygon(&mut self, mp: &MultiPolygon<f64>) {
        self.parts.clear();
        for poly in &mp.0 {
            self.xy.clear();
            self.ends.clear();
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                self.ring(ring);
            }
            let xy = self.fbb.create_vector(&self.xy);
            let ends = (self.ends.len() > 1).then(|| self.fbb.create_vector(&self.ends));
            let part = Geometry::create(
                &mut self.fbb,
                &GeometryArgs {
                    xy: Some(xy),
                    ends,
                    ..Default::default()
                },
            );
            self.parts.push(part);
        }
        let parts = self.fbb.create_vector(&self.parts);
        self.geometry = Some(Geometry::create(
            &mut self.fbb,
            &GeometryArgs {
                parts: Some(parts),
                ..Default::default()
            },
        ));
    }

    fn ring(&mut self, ring: &LineString<f64>) {
        for c in &ring.0 {
            self.bbox.expand_xy(c.x, c.y);
            self.xy.push(c.x);
            self.xy.push(c.y);
        }
        self.ends.push((self.xy.len() / 2) as u32);
    }

    fn key(&mut self, col: u16) {
        self.props.extend_from_slice(&col.to_le_bytes());
    }

    fn long(&mut self, col: u16, v: i64) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    /// An id, stored as a `Long` (see [`schema::ID_TYPE`]).
    fn id(&mut self, col: u16, v: u64) -> Result<(), String> {
        let v = i64::try_from(v).map_err(|_| {
            format!(
                "id {v} in column '{}' is too large (at most {})",
                self.col_name(col),
                i64::MAX
            )
        })?;
        self.long(col, v);
        Ok(())
    }

    fn uint(&mut self, col: u16, v: u32) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    fn float(&mut self, col: u16, v: f32) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    fn double(&mut self, col: u16, v: f64) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    fn boolean(&mut self, col: u16, v: bool) {
        self.key(col);
        self.props.push(u8::from(v));
    }

    fn string(&mut self, col: u16, v: &str) -> Result<(), String> {
        let len = u32::try_from(v.len())
            .map_err(|_| format!("text in column '{}' is too long", self.col_name(col)))?;
        self.key(col);
        self.props.extend_from_slice(&len.to_le_bytes());
        self.props.extend_from_slice(v.as_bytes());
        Ok(())
    }

    fn col_name(&self, col: u16) -> &'static str {
        self.columns.get(usize::from(col)).map_or("?", |c| c.name)
    }

    /// Finishes the feature, appends it (size-prefixed) to `out` and returns
    /// its bounding box.
    fn finish(&mut self, out: &mut Vec<u8>) -> NodeItem {
        let geometry = self.geometry.take();
        let properties = Some(self.fbb.create_vector(&self.props));
        let feature = Feature::create(
            &mut self.fbb,
            &FeatureArgs {
                geometry,
                properties,
                ..Default::default()
            },
        );
        self.fbb.finish_size_prefixed(feature, None);
        out.extend_from_slice(self.fbb.finished_data());
        self.fbb.reset();
        self.props.clear();
        std::mem::replace(&mut self.bbox, NodeItem::create(0))
    }
}

/// Hilbert value of a box's centre within `extent`, as flatgeobuf computes
/// it when sorting (16 bits per axis).
fn hilbert_of(r: &NodeItem, extent: &NodeItem) -> u32 {
    const MAX: f64 = ((1u32 << 16) - 1) as f64;
    let x = (MAX * ((r.min_x + r.max_x) / 2.0 - extent.min_x) / extent.width()).floor() as u32;
    let y = (MAX * ((r.min_y + r.max_y) / 2.0 - extent.min_y) / extent.height()).floor() as u32;
    hilbert(x, y)
}

/// Position on the Hilbert curve of a 16-bit point: the same function as
/// flatgeobuf's private `hilbert`, itself from the public-domain
/// <https://github.com/rawrunprotected/hilbert_curves>.
fn hilbert(x: u32, y: u32) -> u32 {
    let mut a = x ^ y;
    let mut b = 0xFFFF ^ a;
    let mut c = 0xFFFF ^ (x | y);
    let mut d = x & (y ^ 0xFFFF);

    let mut aa = a | (b >> 1);
    let mut bb = (a >> 1) ^ a;
    let mut cc = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    let mut dd = ((a & (c >> 1)) ^ (d >> 1)) ^ d;

    a = aa;
    b = bb;
    c = cc;
    d = dd;
    aa = (a & (a >> 2)) ^ (b & (b >> 2));
    bb = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2));
    cc ^= (a & (c >> 2)) ^ (b & (d >> 2));
    dd ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2));

    a = aa;
    b = bb;
    c = cc;
    d = dd;
    aa = (a & (a >> 4)) ^ (b & (b >> 4));
    bb = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4));
    cc ^= (a & (c >> 4)) ^ (b & (d >> 4));
    dd ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4));

    a = aa;
    b = bb;
    c = cc;
    d = dd;
    cc ^= (a & (c >> 8)) ^ (b & (d >> 8));
    dd ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));

    a = cc ^ (cc >> 1);
    b = dd ^ (dd >> 1);

    let mut i0 = x ^ y;
    let mut i1 = b | (0xFFFF ^ (i0 | a));

    i0 = (i0 | (i0 << 8)) & 0x00FF_00FF;
    i0 = (i0 | (i0 << 4)) & 0x0F0F_0F0F;
    i0 = (i0 | (i0 << 2)) & 0x3333_3333;
    i0 = (i0 | (i0 << 1)) & 0x5555_5555;

    i1 = (i1 | (i1 << 8)) & 0x00FF_00FF;
    i1 = (i1 | (i1 << 4)) & 0x0F0F_0F0F;
    i1 = (i1 | (i1 << 2)) & 0x3333_3333;
    i1 = (i1 | (i1 << 1)) & 0x5555_5555;

    (i1 << 1) | i0
}
