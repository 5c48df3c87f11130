//! A layer file laid out: its features encoded in parallel into memory,
//! Hilbert values computed once, then magic bytes, header, packed Hilbert
//! R-tree and the features in descending Hilbert order, written in one
//! sequential pass.

use super::feature::FeatureBuilder;
use crate::fgb::schema::{self, ColumnDef};
use flatbuffers::{FlatBufferBuilder, WIPOffset};
use flatgeobuf::packed_r_tree::{NodeItem, PackedRTree};
use flatgeobuf::{Column, ColumnArgs, Crs, CrsArgs, Header, HeaderArgs};
use onemap_core::Layer;
use rayon::prelude::*;
use std::io::Write;

/// Features encoded per parallel task.
const CHUNK: usize = 16 * 1024;

/// The features of one layer, encoded, in input order.
pub(super) struct EncodedLayer {
    layer: Layer,
    /// Encoded features (size-prefixed FlatBuffers), one buffer per chunk.
    chunks: Vec<Vec<u8>>,
    /// Per feature: chunk, byte range in the chunk, bounding box.
    features: Vec<(u32, usize, usize, NodeItem)>,
}

/// Encodes `items` in parallel, keeping their order.
pub(super) fn encode<T: Sync>(
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
    pub(super) fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
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

        out.write_all(&crate::fgb::MAGIC)?;
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

#[cfg(test)]
mod tests {
    use crate::fgb::fixtures::sample_city;
    use crate::fgb::layer_path;
    use crate::write_city_dir;
    use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};
    use geozero::ToGeo;
    use onemap_core::{AreaId, Layer};
    use std::fs;

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
}
