//! Why a change or a read of the live core failed.

use onemap_core::workflow::WorkflowError;
use onemap_core::{AreaId, CoreError};
use onemap_index::IndexError;
use onemap_store::StoreError;
use thiserror::Error;

/// A failure of the live core. Every variant says what was wrong in one
/// line; the server maps each to its status and code in one place.
#[derive(Debug, Error)]
pub enum LiveError {
    /// The server was started without a store for changes.
    #[error("this server keeps no changes (it was started without a store for the event loop)")]
    ReadOnly,
    /// A bearer token that is not one of ours.
    #[error("unknown bearer token")]
    UnknownToken,
    /// A name and password that do not sign in (unknown, disabled or wrong:
    /// never said which).
    #[error("wrong name or password")]
    SignInFailed,
    /// The actor may not do this at all (e.g. post positions without a
    /// `ship_feed` token).
    #[error("{0}")]
    Forbidden(String),
    /// The store refused or failed (a refused move is a
    /// [`StoreError::Workflow`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value the domain refuses (a coordinate, a category).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The index refused (e.g. a point it cannot place).
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("description must be 1 to {max} characters")]
    InvalidDescription { max: usize },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("unit must be the 18-digit id of a unit")]
    InvalidUnit,
    #[error("no unit {0} in this city")]
    UnknownUnit(AreaId),
    #[error("({lon}, {lat}) is not inside any unit of the city")]
    OutsideCity { lon: f64, lat: f64 },
    #[error("({lon}, {lat}) lies in unit {located}, not in unit {given}")]
    UnitMismatch {
        lon: f64,
        lat: f64,
        located: AreaId,
        given: AreaId,
    },
    #[error("give lon and lat, or a unit id, or both")]
    MissingLocation,
    #[error("no event {0}")]
    UnknownEvent(u64),
    /// An upload that is not a whole JPEG or PNG image.
    #[error("{0}")]
    InvalidPhoto(String),
    /// An upload larger than is decoded.
    #[error("the image is too large: a photo may have at most {max_pixels} pixels, taking at most {max_mib} MiB decoded")]
    PhotoTooLarge { max_pixels: u64, max_mib: u64 },
    #[error("event {event} has no photo {seq}")]
    UnknownPhoto { event: u64, seq: u8 },
    #[error("no ship {0}")]
    UnknownShip(u32),
    #[error("{given} reports in one batch; at most {max}")]
    BatchTooLarge { given: usize, max: usize },
    /// A template name that is empty, too long or has control characters.
    #[error("a template's name is 1 to {max} characters, without control characters")]
    InvalidName { max: usize },
    #[error("no template {0} that you can see")]
    UnknownTemplate(i64),
    /// A hot spot asked to become a problem item that is none (too few
    /// events at the place, or a place in no village).
    #[error("{0}")]
    NotAHotspot(String),
    /// A task of the core could not finish (a bug, not the caller's doing).
    #[error("{0}")]
    Worker(String),
}

impl From<WorkflowError> for LiveError {
    fn from(e: WorkflowError) -> Self {
        LiveError::Store(StoreError::Workflow(e))
    }
}

impl From<onemap_core::lists::ListError> for LiveError {
    fn from(e: onemap_core::lists::ListError) -> Self {
        LiveError::Store(StoreError::List(e))
    }
}
