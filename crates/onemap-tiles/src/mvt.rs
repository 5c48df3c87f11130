//! A Mapbox Vector Tile 2.1 encoder, written by hand against `vector_tile.proto`.
//!
//! The protobuf subset MVT needs is small (varints, zigzag, fixed32/64,
//! length-delimited fields and packed `uint32`), so a tiny writer here beats a
//! code generator and a `protoc` at build time.
//!
//! Geometry arrives already clipped, quantized and oriented (see `geom`); this
//! module only turns integer tile coordinates into command streams.

use std::collections::HashMap;

/// The tile extent every layer is written with.
pub const EXTENT: u32 = 4096;

/// A typed attribute value, one of the seven kinds of the MVT `Value` message.
///
/// `From` picks the kind for plain Rust values: `i64`/`i32` → `Int`,
/// `u64`/`u32` → `UInt`, `f64` → `Double`, `f32` → `Float`. Use `SInt`
/// explicitly for values that are often negative.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Float(f32),
    Double(f64),
    Int(i64),
    UInt(u64),
    SInt(i64),
    Bool(bool),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::UInt(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::UInt(v.into())
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

/// A hashable identity for a [`Value`]: floats by their bits, so equal values
/// share one entry in the layer's value table and NaN does not break the map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    String(String),
    Float(u32),
    Double(u64),
    Int(i64),
    UInt(u64),
    SInt(i64),
    Bool(bool),
}

impl From<&Value> for ValueKey {
    fn from(v: &Value) -> Self {
        match v {
            Value::String(s) => ValueKey::String(s.clone()),
            Value::Float(f) => ValueKey::Float(f.to_bits()),
            Value::Double(f) => ValueKey::Double(f.to_bits()),
            Value::Int(i) => ValueKey::Int(*i),
            Value::UInt(u) => ValueKey::UInt(*u),
            Value::SInt(i) => ValueKey::SInt(*i),
            Value::Bool(b) => ValueKey::Bool(*b),
        }
    }
}

/// The MVT geometry type of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// A protobuf byte writer with just what MVT uses.
#[derive(Debug, Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    fn tag(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }
    fn uint_field(&mut self, field: u32, v: u64) {
        self.tag(field, VARINT);
        self.varint(v);
    }
    fn bytes_field(&mut self, field: u32, bytes: &[u8]) {
        self.tag(field, LEN);
        self.varint(bytes.len() as u64);
        self.buf.extend_from_slice(bytes);
    }
    fn packed_field(&mut self, field: u32, values: &[u32]) {
        if values.is_empty() {
            return;
        }
        let mut inner = Writer::default();
        for &v in values {
            inner.varint(u64::from(v));
        }
        self.bytes_field(field, &inner.buf);
    }
}

/// Zigzag-encodes a signed delta for a geometry parameter.
pub(crate) fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn command(id: u32, count: usize) -> u32 {
    ((count as u32) << 3) | (id & 0x7)
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

/// Builds the command stream of one feature; the cursor carries over between
/// parts and rings as the spec requires.
#[derive(Debug, Default)]
struct GeomEncoder {
    out: Vec<u32>,
    cursor: (i32, i32),
}

impl GeomEncoder {
    fn param(&mut self, p: [i32; 2]) {
        self.out.push(zigzag32(p[0] - self.cursor.0));
        self.out.push(zigzag32(p[1] - self.cursor.1));
        self.cursor = (p[0], p[1]);
    }
}

/// Encodes points as one MoveTo with a count (a multipoint when more than one).
pub fn encode_points(points: &[[i32; 2]]) -> Vec<u32> {
    let mut g = GeomEncoder::default();
    if !points.is_empty() {
        g.out.push(command(MOVE_TO, points.len()));
        for &p in points {
            g.param(p);
        }
    }
    g.out
}

/// Encodes polygon rings: each ring is open (its first point is not repeated),
/// has at least three points and is already oriented.
pub fn encode_rings(rings: &[Vec<[i32; 2]>]) -> Vec<u32> {
    let mut g = GeomEncoder::default();
    for ring in rings.iter().filter(|r| r.len() >= 3) {
        g.out.push(command(MOVE_TO, 1));
        g.param(ring[0]);
        g.out.push(command(LINE_TO, ring.len() - 1));
        for &p in &ring[1..] {
            g.param(p);
        }
        g.out.push(command(CLOSE_PATH, 1));
    }
    g.out
}

/// One layer being encoded: its features, plus key and value tables shared by
/// them (each distinct key and value is stored once).
#[derive(Debug)]
pub struct LayerEncoder {
    name: String,
    extent: u32,
    features: Writer,
    feature_count: usize,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<Value>,
    value_index: HashMap<ValueKey, u32>,
}

impl LayerEncoder {
    pub fn new(name: &str, extent: u32) -> Self {
        Self {
            name: name.to_string(),
            extent,
            features: Writer::default(),
            feature_count: 0,
            keys: Vec::new(),
            key_index: HashMap::new(),
            values: Vec::new(),
            value_index: HashMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn len(&self) -> usize {
        self.feature_count
    }

    pub fn is_empty(&self) -> bool {
        self.feature_count == 0
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(&i) = self.key_index.get(k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_string());
        self.key_index.insert(k.to_string(), i);
        i
    }

    fn value(&mut self, v: &Value) -> u32 {
        let key = ValueKey::from(v);
        if let Some(&i) = self.value_index.get(&key) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(v.clone());
        self.value_index.insert(key, i);
        i
    }

    /// Appends a feature with an encoded geometry (see [`encode_points`] and
    /// [`encode_rings`]). A key given twice keeps its first value.
    pub fn add_feature(
        &mut self,
        id: u64,
        geom_type: GeomType,
        geometry: &[u32],
        props: &[(&str, Value)],
    ) {
        let mut tags = Vec::with_capacity(props.len() * 2);
        let mut seen = Vec::with_capacity(props.len());
        for (k, v) in props {
            let ki = self.key(k);
            if seen.contains(&ki) {
                continue;
            }
            seen.push(ki);
            let vi = self.value(v);
            tags.extend([ki, vi]);
        }
        let mut f = Writer::default();
        f.uint_field(1, id);
        f.packed_field(2, &tags);
        f.uint_field(3, geom_type as u64);
        f.packed_field(4, geometry);
        self.features.bytes_field(2, &f.buf);
        self.feature_count += 1;
    }

    /// The encoded `Layer` message (without the enclosing tile field tag).
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.uint_field(15, 2);
        w.bytes_field(1, self.name.as_bytes());
        w.buf.extend_from_slice(&self.features.buf);
        for k in &self.keys {
            w.bytes_field(3, k.as_bytes());
        }
        for v in &self.values {
            w.bytes_field(4, &encode_value(v));
        }
        w.uint_field(5, u64::from(self.extent));
        w.buf
    }
}

fn encode_value(v: &Value) -> Vec<u8> {
    let mut w = Writer::default();
    match v {
        Value::String(s) => w.bytes_field(1, s.as_bytes()),
        Value::Float(f) => {
            w.tag(2, FIXED32);
            w.buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(f) => {
            w.tag(3, FIXED64);
            w.buf.extend_from_slice(&f.to_le_bytes());
        }
        // int64 is a two's-complement varint: negatives take ten bytes.
        Value::Int(i) => w.uint_field(4, *i as u64),
        Value::UInt(u) => w.uint_field(5, *u),
        Value::SInt(i) => w.uint_field(6, zigzag64(*i)),
        Value::Bool(b) => w.uint_field(7, u64::from(*b)),
    }
    w.buf
}

/// Encodes a `Tile` message from its layers, skipping empty ones.
pub fn encode_tile<'a>(layers: impl IntoIterator<Item = &'a LayerEncoder>) -> Vec<u8> {
    let mut w = Writer::default();
    for layer in layers.into_iter().filter(|l| !l.is_empty()) {
        w.bytes_field(3, &layer.encode());
    }
    w.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_known_values() {
        assert_eq!(zigzag32(0), 0);
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(1), 2);
        assert_eq!(zigzag32(-2), 3);
        assert_eq!(zigzag32(i32::MAX), u32::MAX - 1);
        assert_eq!(zigzag32(i32::MIN), u32::MAX);
        assert_eq!(zigzag64(-3), 5);
    }

    #[test]
    fn spec_examples() {
        // The examples of the MVT 2.1 specification, section 4.3.5.
        assert_eq!(encode_points(&[[25, 17]]), vec![9, 50, 34]);
        assert_eq!(encode_points(&[[5, 7], [3, 2]]), vec![17, 10, 14, 3, 9]);
        assert_eq!(
            encode_rings(&[vec![[3, 6], [8, 12], [20, 34]]]),
            vec![9, 6, 12, 18, 10, 12, 24, 44, 15]
        );
        // Multipolygon: cursor carries over between rings.
        let rings = vec![
            vec![[0, 0], [10, 0], [10, 10], [0, 10]],
            vec![[11, 11], [20, 11], [20, 20], [11, 20]],
            vec![[13, 13], [13, 17], [17, 17], [17, 13]],
        ];
        assert_eq!(
            encode_rings(&rings),
            vec![
                9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0, 0, 18, 17, 0, 15, 9, 4,
                13, 26, 0, 8, 8, 0, 0, 7, 15
            ]
        );
    }

    #[test]
    fn keys_and_values_are_shared() {
        let mut l = LayerEncoder::new("x", EXTENT);
        let g = encode_points(&[[1, 1]]);
        l.add_feature(
            1,
            GeomType::Point,
            &g,
            &[("a", 1i64.into()), ("b", "s".into())],
        );
        l.add_feature(
            2,
            GeomType::Point,
            &g,
            &[("b", "s".into()), ("a", 1i64.into())],
        );
        l.add_feature(3, GeomType::Point, &g, &[("a", Value::UInt(1))]);
        assert_eq!(l.keys, vec!["a", "b"]);
        assert_eq!(l.values.len(), 3, "Int(1) and UInt(1) are distinct values");
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn varints() {
        let mut w = Writer::default();
        w.varint(300);
        assert_eq!(w.buf, vec![0xAC, 0x02]);
        assert_eq!(encode_value(&Value::Int(-1)).len(), 11);
        assert_eq!(encode_value(&Value::SInt(-1)), vec![0x30, 0x01]);
    }
}
