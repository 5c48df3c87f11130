//! [`TileBuilder`]: features in lon/lat in, one encoded tile out.

use crate::geom::TileProjection;
use crate::mvt::{encode_points, encode_rings, encode_tile, GeomType, LayerEncoder, Value, EXTENT};
use crate::rules::rule;
use crate::TilesError;
use geo_types::MultiPolygon;
use onemap_core::TileCoord;

/// The default buffer around the tile, in pixels of [`EXTENT`], that clipped
/// geometry keeps so strokes and fills join across tile edges.
pub const DEFAULT_BUFFER: u32 = 64;

/// Builds one vector tile: layers in the order first asked for, features
/// clipped to the tile plus its buffer, simplified and quantized.
#[derive(Debug)]
pub struct TileBuilder {
    proj: TileProjection,
    layers: Vec<LayerEncoder>,
}

impl TileBuilder {
    /// A builder for `tile` with extent 4096 and the [`DEFAULT_BUFFER`].
    pub fn new(tile: TileCoord) -> Self {
        Self::with_buffer(tile, DEFAULT_BUFFER)
    }

    pub fn with_buffer(tile: TileCoord, buffer: u32) -> Self {
        Self {
            proj: TileProjection::new(tile, EXTENT, buffer),
            layers: Vec::new(),
        }
    }

    pub fn tile(&self) -> TileCoord {
        self.proj.tile()
    }

    /// The layer called `name`, created on first use. Its simplification
    /// tolerance comes from the zoom rules ([`crate::rule`]), or 0 for a layer
    /// the rules do not know; [`LayerBuilder::tolerance`] overrides it.
    pub fn layer(&mut self, name: &str) -> Result<LayerBuilder<'_>, TilesError> {
        if name.is_empty() {
            return Err(TilesError::InvalidLayerName(name.to_string()));
        }
        let i = match self.layers.iter().position(|l| l.name() == name) {
            Some(i) => i,
            None => {
                self.layers.push(LayerEncoder::new(name, EXTENT));
                self.layers.len() - 1
            }
        };
        Ok(LayerBuilder {
            proj: &self.proj,
            enc: &mut self.layers[i],
            tolerance: rule(name).map_or(0.0, |r| r.tolerance_px),
        })
    }

    /// The encoded tile, or `None` when no layer got a feature (answer 204).
    pub fn finish(self) -> Option<Vec<u8>> {
        self.layers
            .iter()
            .any(|l| !l.is_empty())
            .then(|| encode_tile(&self.layers))
    }
}

/// Adds features to one layer of a [`TileBuilder`].
#[derive(Debug)]
pub struct LayerBuilder<'a> {
    proj: &'a TileProjection,
    enc: &'a mut LayerEncoder,
    tolerance: f64,
}

impl LayerBuilder<'_> {
    /// Sets the Douglas–Peucker tolerance in tile pixels (0 keeps every vertex).
    pub fn tolerance(mut self, px: f64) -> Self {
        self.tolerance = px.max(0.0);
        self
    }

    /// Adds a polygon feature (lon/lat, either ring orientation). Returns
    /// whether anything of it was left in the tile to add.
    pub fn add_polygon(
        &mut self,
        id: u64,
        mp: &MultiPolygon<f64>,
        props: &[(&str, Value)],
    ) -> Result<bool, TilesError> {
        let finite = mp.0.iter().all(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .all(|r| r.0.iter().all(|c| c.x.is_finite() && c.y.is_finite()))
        });
        if !finite {
            return Err(self.non_finite(id));
        }
        let rings = self.proj.polygon(mp, self.tolerance);
        if rings.is_empty() {
            return Ok(false);
        }
        self.enc
            .add_feature(id, GeomType::Polygon, &encode_rings(&rings), props);
        Ok(true)
    }

    /// Adds a point feature. Returns whether it lies in the tile plus buffer.
    pub fn add_point(
        &mut self,
        id: u64,
        lon: f64,
        lat: f64,
        props: &[(&str, Value)],
    ) -> Result<bool, TilesError> {
        if !(lon.is_finite() && lat.is_finite()) {
            return Err(self.non_finite(id));
        }
        let Some(p) = self.proj.point(lon, lat) else {
            return Ok(false);
        };
        self.enc
            .add_feature(id, GeomType::Point, &encode_points(&[p]), props);
        Ok(true)
    }

    /// Adds a polygon feature already clipped, quantized and oriented (see
    /// [`TileProjection::world_polygons`]); nothing when `rings` is empty.
    pub fn add_rings(&mut self, id: u64, rings: &[Vec<[i32; 2]>], props: &[(&str, Value)]) -> bool {
        if rings.is_empty() {
            return false;
        }
        self.enc.add_rings(id, rings, props);
        true
    }

    /// Adds a point feature already in integer tile coordinates.
    pub fn add_tile_point(&mut self, id: u64, p: [i32; 2], props: &[(&str, Value)]) {
        self.enc.add_point(id, p, props);
    }

    /// The projection of the tile being built.
    pub fn projection(&self) -> &TileProjection {
        self.proj
    }

    fn non_finite(&self, id: u64) -> TilesError {
        TilesError::NonFiniteCoordinate {
            layer: self.enc.name().to_string(),
            id,
        }
    }
}
