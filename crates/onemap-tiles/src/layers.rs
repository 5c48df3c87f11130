//! What a tile request names: a [`LayerSet`] of tile layers, a tile and an
//! event filter; and what it gets back, a [`Tile`] with its ETag.

use crate::rules::{rules, LayerRule};
use crate::TilesError;
use onemap_core::TileCoord;
use onemap_index::EventFilter;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// The deepest zoom tiles are made for; clients overzoom beyond it.
pub const MAX_SERVE_ZOOM: u8 = 18;

/// A validated, deduplicated set of tile layers, kept in the order of the
/// zoom rules table (areas coarse to fine, then points, then labels), which
/// is also the order of the layers in a composite tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerSet(u16);

impl LayerSet {
    /// Every tile layer.
    pub fn all() -> Self {
        LayerSet((1u16 << rules().len()) - 1)
    }

    /// Parses a comma-separated list of layer names (spaces around names are
    /// ignored, repeats are dropped). Fails on an unknown name or an empty list.
    pub fn parse(list: &str) -> Result<Self, TilesError> {
        let mut bits = 0u16;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let i = rules().iter().position(|r| r.name == name).ok_or_else(|| {
                TilesError::UnknownLayer {
                    name: name.to_string(),
                    known: known(),
                }
            })?;
            bits |= 1 << i;
        }
        if bits == 0 {
            return Err(TilesError::NoLayers { known: known() });
        }
        Ok(LayerSet(bits))
    }

    /// The set holding one layer by name.
    pub fn single(name: &str) -> Result<Self, TilesError> {
        Self::parse(name)
    }

    /// The rules of the layers in the set, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &'static LayerRule> + '_ {
        rules()
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, r)| r)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|r| r.name == name)
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The names joined by commas, as in a URL.
    pub fn names(&self) -> String {
        self.iter().map(|r| r.name).collect::<Vec<_>>().join(",")
    }
}

impl std::fmt::Display for LayerSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names())
    }
}

impl std::str::FromStr for LayerSet {
    type Err = TilesError;
    fn from_str(s: &str) -> Result<Self, TilesError> {
        LayerSet::parse(s)
    }
}

fn known() -> String {
    rules()
        .iter()
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One tile asked for: which layers, which tile, which events.
#[derive(Debug, Clone, PartialEq)]
pub struct TileRequest {
    pub layers: LayerSet,
    pub tile: TileCoord,
    /// Applies to event points, event hexagons and the event figures of areas.
    pub filter: EventFilter,
}

/// An encoded tile and its strong ETag (a quoted hash of the bytes).
///
/// Clones share one lazily made gzip copy of the bytes, so a cached tile is
/// compressed once however often it is sent compressed.
#[derive(Debug, Clone)]
pub struct Tile {
    pub bytes: bytes::Bytes,
    pub etag: String,
    gzip: Arc<OnceLock<bytes::Bytes>>,
}

impl PartialEq for Tile {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.etag == other.etag
    }
}

impl Eq for Tile {}

impl Tile {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        let h = xxhash_rust::xxh3::xxh3_128(&bytes);
        Tile {
            bytes: bytes.into(),
            etag: format!("\"{h:032x}\""),
            gzip: Arc::default(),
        }
    }

    /// The tile gzipped (fast level), made on first use and kept with the
    /// tile (also in the cache).
    pub fn gzipped(&self) -> std::io::Result<bytes::Bytes> {
        if let Some(gz) = self.gzip.get() {
            return Ok(gz.clone());
        }
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(self.bytes.len() / 2 + 64),
            flate2::Compression::fast(),
        );
        enc.write_all(&self.bytes)?;
        let gz = bytes::Bytes::from(enc.finish()?);
        Ok(self.gzip.get_or_init(|| gz).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedupes_and_orders() {
        let s = LayerSet::parse("labels, districts,events,districts").unwrap();
        assert_eq!(s.names(), "districts,events,labels");
        assert_eq!(s.len(), 3);
        let e = LayerSet::parse("districts,roads").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("roads") && msg.contains("schools"), "{msg}");
        assert!(matches!(
            LayerSet::parse(" , "),
            Err(TilesError::NoLayers { .. })
        ));
        assert_eq!(LayerSet::all().len(), rules().len());
    }

    #[test]
    fn etag_is_quoted_and_stable() {
        let a = Tile::new(vec![1, 2, 3]);
        assert_eq!(a, Tile::new(vec![1, 2, 3]));
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"') && a.etag.len() == 34);
        assert_ne!(a.etag, Tile::new(vec![1, 2, 4]).etag);
    }
}
