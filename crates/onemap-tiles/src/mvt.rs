//! A Mapbox Vector Tile 2.1 encoder, written by hand against `vector_tile.proto`.
//!
//! The protobuf subset MVT needs is small (varints, zigzag, fixed32/64,
//! length-delimited fields and packed `uint32`), so a tiny writer here beats a
//! code generator and a `protoc` at build time.
//!
//! Geometry arrives already clipped, quantized and oriented (see `geom`); this
//! module only turns integer tile coordinates into command streams.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The tile extent every layer is written with.
pub const EXTENT: u32 = 4096;

/// A typed attribute value, one of the seven kinds of the MVT `Value` message.
///
/// `From` picks the kind for plain Rust values: `i64`/`i32` → `Int`,
/// `u64`/`u32` → `UInt`, `f64` → `Double`, `f32` → `Float`. Use `SInt`
/// explicitly for values that are often negative. A string borrowed from
/// `&str` is not copied unless it is new to the layer's value table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    String(Cow<'a, str>),
    Float(f32),
    Double(f64),
    Int(i64),
    UInt(u64),
    SInt(i64),
    Bool(bool),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::String(Cow::Borrowed(v))
    }
}
impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::String(Cow::Owned(v))
    }
}
impl From<f32> for Value<'_> {
    fn from(v: f32) -> Self {
        Value::Float(v)
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::UInt(v)
    }
}
impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::UInt(v.into())
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

/// A hashable identity for a non-string [`Value`]: its kind and its bits
/// (floats by their bits, so equal values share one entry in the layer's
/// value table and NaN does not break the map).
fn scalar_key(v: &Value<'_>) -> (u8, u64) {
    match v {
        Value::String(_) => (0, 0),
        Value::Float(f) => (1, u64::from(f.to_bits())),
        Value::Double(f) => (2, f.to_bits()),
        Value::Int(i) => (3, *i as u64),
        Value::UInt(u) => (4, *u),
        Value::SInt(i) => (5, *i as u64),
        Value::Bool(b) => (6, u64::from(*b)),
    }
}

/// A small fast hasher (the multiply-rotate of rustc's FxHash) for the value
/// tables: their keys are short and not attacker-chosen collisions matter
/// little here (a tile holds at most tens of thousands of values).
#[derive(Default, Clone, Copy)]
struct Fx(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

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
        self.tag(field, LEN);
        self.varint(packed_len(values) as u64);
        for &v in values {
            self.varint(u64::from(v));
        }
    }
}

/// The number of bytes of a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    // 1 byte per started group of 7 bits; 0 takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// The payload length of a packed repeated `uint32` field.
fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

/// The length of a packed field with its tag and length prefix (0 if empty).
fn packed_field_len(values: &[u32]) -> usize {
    if values.is_empty() {
        return 0;
    }
    let n = packed_len(values);
    1 + varint_len(n as u64) + n
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
    let mut out = Vec::new();
    encode_rings_into(rings, &mut out);
    out
}

/// [`encode_rings`] into a buffer (cleared first).
fn encode_rings_into(rings: &[Vec<[i32; 2]>], out: &mut Vec<u32>) {
    out.clear();
    out.reserve(rings.iter().map(|r| 2 * r.len() + 3).sum());
    let mut g = GeomEncoder {
        out: std::mem::take(out),
        cursor: (0, 0),
    };
    for ring in rings.iter().filter(|r| r.len() >= 3) {
        g.out.push(command(MOVE_TO, 1));
        g.param(ring[0]);
        g.out.push(command(LINE_TO, ring.len() - 1));
        for &p in &ring[1..] {
            g.param(p);
        }
        g.out.push(command(CLOSE_PATH, 1));
    }
    *out = g.out;
}

/// One layer being encoded: its features, plus key and value tables shared by
/// them (each distinct key and value is stored once).
#[derive(Debug)]
pub struct LayerEncoder {
    name: String,
    extent: u32,
    features: Writer,
    feature_count: usize,
    /// Few per layer: looked up by a linear scan, faster than hashing.
    keys: Vec<String>,
    values: Vec<Value<'static>>,
    strings: FxMap<String, u32>,
    scalars: FxMap<(u8, u64), u32>,
    /// Scratch buffers reused by every feature.
    tags: Vec<u32>,
    geom: Vec<u32>,
}

impl LayerEncoder {
    pub fn new(name: &str, extent: u32) -> Self {
        Self {
            name: name.to_string(),
            extent,
            features: Writer::default(),
            feature_count: 0,
            keys: Vec::new(),
            values: Vec::new(),
            strings: FxMap::default(),
            scalars: FxMap::default(),
            tags: Vec::new(),
            geom: Vec::new(),
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
        if let Some(i) = self.keys.iter().position(|x| x == k) {
            return i as u32;
        }
        self.keys.push(k.to_string());
        (self.keys.len() - 1) as u32
    }

    fn value(&mut self, v: &Value<'_>) -> u32 {
        let next = self.values.len() as u32;
        if let Value::String(s) = v {
            if let Some(&i) = self.strings.get(s.as_ref()) {
                return i;
            }
            self.strings.insert(s.to_string(), next);
            self.values.push(Value::String(Cow::Owned(s.to_string())));
            return next;
        }
        let i = *self.scalars.entry(scalar_key(v)).or_insert(next);
        if i == next {
            self.values.push(match v {
                Value::String(_) => unreachable!("strings are handled above"),
                Value::Float(f) => Value::Float(*f),
                Value::Double(f) => Value::Double(*f),
                Value::Int(x) => Value::Int(*x),
                Value::UInt(x) => Value::UInt(*x),
                Value::SInt(x) => Value::SInt(*x),
                Value::Bool(b) => Value::Bool(*b),
            });
        }
        i
    }

    /// Appends a feature with an encoded geometry (see [`encode_points`] and
    /// [`encode_rings`]). A key given twice keeps its first value.
    pub fn add_feature(
        &mut self,
        id: u64,
        geom_type: GeomType,
        geometry: &[u32],
        props: &[(&str, Value<'_>)],
    ) {
        let mut tags = std::mem::take(&mut self.tags);
        tags.clear();
        for (k, v) in props {
            let ki = self.key(k);
            if tags.iter().step_by(2).any(|&t| t == ki) {
                continue;
            }
            let vi = self.value(v);
            tags.extend([ki, vi]);
        }
        let len = 1
            + varint_len(id)
            + packed_field_len(&tags)
            + 1
            + varint_len(geom_type as u64)
            + packed_field_len(geometry);
        let f = &mut self.features;
        f.tag(2, LEN);
        f.varint(len as u64);
        f.uint_field(1, id);
        f.packed_field(2, &tags);
        f.uint_field(3, geom_type as u64);
        f.packed_field(4, geometry);
        self.feature_count += 1;
        self.tags = tags;
    }

    /// Appends a polygon feature of rings as [`encode_rings`] takes them.
    pub fn add_rings(&mut self, id: u64, rings: &[Vec<[i32; 2]>], props: &[(&str, Value<'_>)]) {
        let mut g = std::mem::take(&mut self.geom);
        encode_rings_into(rings, &mut g);
        self.add_feature(id, GeomType::Polygon, &g, props);
        self.geom = g;
    }

    /// Appends a one-point feature at `p` (integer tile coordinates).
    pub fn add_point(&mut self, id: u64, p: [i32; 2], props: &[(&str, Value<'_>)]) {
        let mut g = std::mem::take(&mut self.geom);
        g.clear();
        g.extend([command(MOVE_TO, 1), zigzag32(p[0]), zigzag32(p[1])]);
        self.add_feature(id, GeomType::Point, &g, props);
        self.geom = g;
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
        let mut val = Writer::default();
        for v in &self.values {
            val.buf.clear();
            encode_value_into(&mut val, v);
            w.bytes_field(4, &val.buf);
        }
        w.uint_field(5, u64::from(self.extent));
        w.buf
    }
}

#[cfg(test)]
fn encode_value(v: &Value<'_>) -> Vec<u8> {
    let mut w = Writer::default();
    encode_value_into(&mut w, v);
    w.buf
}

fn encode_value_into(w: &mut Writer, v: &Value<'_>) {
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
}

/// Encodes a `Tile` message from its layers, skipping empty ones.
pub fn encode_tile<'a>(layers: impl IntoIterator<Item = &'a LayerEncoder>) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.reserve(1024);
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
    fn add_point_is_add_feature_of_one_point() {
        let props = [("a", Value::from("x")), ("b", Value::Int(-3))];
        let (mut a, mut b) = (
            LayerEncoder::new("l", EXTENT),
            LayerEncoder::new("l", EXTENT),
        );
        for (i, p) in [[5, 7], [-64, 4160], [0, 0]].into_iter().enumerate() {
            a.add_point(i as u64, p, &props);
            b.add_feature(i as u64, GeomType::Point, &encode_points(&[p]), &props);
        }
        assert_eq!(encode_tile([&a]), encode_tile([&b]));
        assert_eq!(a.values.len(), 2);
    }

    #[test]
    fn varints() {
        let mut w = Writer::default();
        w.varint(300);
        assert_eq!(w.buf, vec![0xAC, 0x02]);
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut w = Writer::default();
            w.varint(v);
            assert_eq!(varint_len(v), w.buf.len(), "{v}");
        }
        assert_eq!(encode_value(&Value::Int(-1)).len(), 11);
        assert_eq!(encode_value(&Value::SInt(-1)), vec![0x30, 0x01]);
    }
}
