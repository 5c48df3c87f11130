use thiserror::Error;

/// Errors raised while building a tile.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TilesError {
    #[error("invalid tile layer name {0:?}: it must be non-empty")]
    InvalidLayerName(String),
    #[error("feature {id} of tile layer '{layer}' has a non-finite coordinate")]
    NonFiniteCoordinate { layer: String, id: u64 },
}
