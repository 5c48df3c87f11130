use thiserror::Error;

/// Errors raised while building or serving a tile.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TilesError {
    #[error("invalid tile layer name {0:?}: it must be non-empty")]
    InvalidLayerName(String),
    #[error("feature {id} of tile layer '{layer}' has a non-finite coordinate")]
    NonFiniteCoordinate { layer: String, id: u64 },
    #[error("unknown tile layer '{name}'; known layers: {known}")]
    UnknownLayer { name: String, known: String },
    #[error("no tile layer named; known layers: {known}")]
    NoLayers { known: String },
    #[error("zoom {z} is too deep: tiles are served up to zoom {max}")]
    ZoomTooDeep { z: u8, max: u8 },
    #[error("invalid event filter: 'from' ({from}) is after 'to' ({to})")]
    InvalidFilter { from: i64, to: i64 },
}
