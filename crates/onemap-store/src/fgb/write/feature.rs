//! One feature encoded as FlatGeobuf stores it (a size-prefixed
//! FlatBuffers table of geometry and properties), reusing the builder's
//! buffers from feature to feature.

use crate::fgb::schema::ColumnDef;
use flatbuffers::{FlatBufferBuilder, WIPOffset};
use flatgeobuf::packed_r_tree::NodeItem;
use flatgeobuf::{Feature, FeatureArgs, Geometry, GeometryArgs};
use geo_types::{LineString, MultiPolygon};

/// Builds one feature at a time, reusing its buffers.
pub(super) struct FeatureBuilder<'fbb> {
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
    pub(super) fn new(columns: &'static [ColumnDef]) -> Self {
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

    pub(super) fn point(&mut self, x: f64, y: f64) {
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
    pub(super) fn multipolygon(&mut self, mp: &MultiPolygon<f64>) {
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

    pub(super) fn long(&mut self, col: u16, v: i64) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    /// An id, stored as a `Long` (see [`schema::ID_TYPE`](crate::fgb::schema::ID_TYPE)).
    pub(super) fn id(&mut self, col: u16, v: u64) -> Result<(), String> {
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

    pub(super) fn uint(&mut self, col: u16, v: u32) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn float(&mut self, col: u16, v: f32) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn double(&mut self, col: u16, v: f64) {
        self.key(col);
        self.props.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn boolean(&mut self, col: u16, v: bool) {
        self.key(col);
        self.props.push(u8::from(v));
    }

    pub(super) fn string(&mut self, col: u16, v: &str) -> Result<(), String> {
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
    pub(super) fn finish(&mut self, out: &mut Vec<u8>) -> NodeItem {
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
