use onemap_core::CoreError;
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong reading or writing a city directory.
///
/// Every message is one line and names the file it is about. When a variant
/// has a `source`, the message gives the context and the source the
/// underlying cause (print the chain, e.g. `{:#}` with anyhow, to see both).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The embedded database (a GeoPackage file) failed.
    #[error("{}: database error while trying to {action}", .path.display())]
    Database {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A file that should be onemap's GeoPackage is something else.
    #[error("{}: {reason}", .path.display())]
    NotOurDatabase { path: PathBuf, reason: String },

    /// The event loop refuses the change.
    #[error(transparent)]
    Workflow(#[from] onemap_core::workflow::WorkflowError),
    /// A list change refused (who may, the move, the values, the hot spot).
    #[error(transparent)]
    List(#[from] onemap_core::lists::ListError),

    /// PostGIS failed (see [`crate::PgError::is_unavailable`]).
    #[error(transparent)]
    Postgres(#[from] crate::PgError),

    /// A blocking task of the store could not finish.
    #[error("the store's worker failed: {0}")]
    Worker(String),

    #[error("no event {0}")]
    UnknownEvent(u64),

    /// An idempotency key this account used before for another report.
    #[error("idempotency key '{key}' was used before for another report; use a new key for a new report")]
    IdempotencyConflict { key: String },

    /// A template of this name is shared in the same area already.
    #[error("a template named '{0}' is shared in this area already; choose another name or delete that one first")]
    TemplateExists(String),

    /// The city keeps as many templates as it may.
    #[error("the city keeps {max} templates, the most it may; delete some first")]
    TooManyTemplates { max: usize },

    /// The event holds as many photos as it may.
    #[error("event {event} has {max} photos already, the most an event holds")]
    TooManyPhotos { event: u64, max: u8 },

    /// No token has this id (or the prefix names several).
    #[error("{0}")]
    UnknownToken(String),

    /// No account has this name.
    #[error("no user '{0}'")]
    UnknownUser(String),

    /// An account with this name exists already.
    #[error("user '{0}' exists already")]
    UserExists(String),

    /// The same request was made before by the same enterprise or school.
    #[error("{target} asked this before (request #{id}); it stands until the year is over")]
    DuplicateRequest { target: String, id: u64 },

    /// A stored value no longer parses (edited by hand?).
    #[error("{}: bad stored value: {reason}", .path.display())]
    BadStoredValue { path: PathBuf, reason: String },

    #[error("city directory {} does not exist", .path.display())]
    MissingDir { path: PathBuf },

    #[error("{} is not a directory", .path.display())]
    NotADirectory { path: PathBuf },

    #[error("missing file {}", .path.display())]
    MissingFile { path: PathBuf },

    #[error("cannot {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not a FlatGeobuf file (no FlatGeobuf magic bytes)", .path.display())]
    NotFlatGeobuf { path: PathBuf },

    /// The file is cut short or its framing is inconsistent.
    #[error("{}: corrupt file: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },

    /// A FlatBuffers table (the header or a feature) fails verification.
    #[error("{}: corrupt FlatGeobuf {what}", .path.display())]
    InvalidFlatbuffer {
        path: PathBuf,
        what: String,
        #[source]
        source: flatgeobuf::Error,
    },

    #[error("{}: CRS is {found}, expected EPSG:4326", .path.display())]
    WrongCrs { path: PathBuf, found: String },

    #[error("{}: geometry type is {found}, expected {expected}", .path.display())]
    WrongGeometryType {
        path: PathBuf,
        expected: &'static str,
        found: String,
    },

    #[error("{}: missing column '{column}'", .path.display())]
    MissingColumn { path: PathBuf, column: &'static str },

    #[error("{}: column '{column}' has type {found}, expected {expected}", .path.display())]
    WrongColumnType {
        path: PathBuf,
        column: &'static str,
        expected: &'static str,
        found: String,
    },

    /// A feature whose geometry or properties make no sense.
    #[error("{}: feature #{feature}: {reason}", .path.display())]
    BadFeature {
        path: PathBuf,
        /// Position of the feature in the file (0-based).
        feature: usize,
        reason: String,
    },

    /// A property value the domain rejects (unknown enum name, bad area id).
    #[error("{}: feature #{feature}: bad value '{value}' in column '{column}'", .path.display())]
    BadValue {
        path: PathBuf,
        feature: usize,
        column: &'static str,
        value: String,
        #[source]
        source: Box<CoreError>,
    },

    #[error("{}: invalid city metadata", .path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// The data handed to the writer cannot be stored as is.
    #[error("cannot write {}: {reason}", .path.display())]
    InvalidData { path: PathBuf, reason: String },
}
