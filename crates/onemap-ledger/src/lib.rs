//! The one table (基层一张表): the city's standard ledgers — people,
//! houses, cadres, projects — as Arrow columns in Arrow IPC files, with a
//! field registry, filters, masking of personal data, and downloads.
//!
//! - [`registry`]: every ledger's fields: stable key, Chinese and English
//!   labels, type, sensitivity (public / internal / personal) and mask.
//! - [`generate`](generate::generate): the demo city's ledgers from its
//!   area tree and seed (3.2 million people at full scale), deterministic.
//! - [`file`]: one Arrow IPC file per ledger, a batch per village, written
//!   whole or not at all ([`write_ledgers`]) and read a batch at a time
//!   ([`Ledgers`]).
//! - [`places`]: the city's enterprises, schools, heritage sites and idle
//!   homesteads as ledgers, each placed in its unit.
//! - [`query`]: a [`Query`] (area subtree, tags, coded values, last update,
//!   age; fields) run batch by batch into a [`Sink`], masked per [`Access`].
//! - [`export`]: the sinks: JSON preview, CSV with a BOM, typed XLSX,
//!   GeoPackage.
//!
//! - [`source`]: where a table's rows come from ([`TableSource`]): the
//!   files, or ([`pg`]) the ledgers' tables in PostGIS, where the filter
//!   runs in the database.
//!
//! - [`templates`]: the standard templates (a ledger, fields and a filter
//!   under a name) every account sees.
//!
//! Nothing here knows HTTP; the server and the command line call it.

pub mod events;
pub mod export;
pub mod file;
pub mod generate;
pub mod gpkg;
pub mod pg;
pub mod places;
pub mod query;
pub mod registry;
pub mod source;
pub mod table;
pub mod templates;

pub use events::event_batches;
pub use export::{CsvSink, DownloadFormat, Preview, XlsxSink};
pub use file::{write_ledgers, Ledgers, Written};
pub use generate::GenConfig;
pub use places::{Layers, Places};
pub use query::{run, run_batches, Access, Cell, Query, Sink, Summary};
pub use registry::{Field, Kind, Lang, Ledger, Sensitivity};
pub use source::TableSource;

use std::path::{Path, PathBuf};

/// Everything that can go wrong with a ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("no ledgers in {0}: run `onemap ledgers build --data {0}` (onemap synth writes them with a new city)")]
    NotGenerated(PathBuf),
    /// A ledgers folder an older onemap wrote, without every ledger.
    #[error("the ledgers in {dir} were made by an older onemap ({missing} is missing): run `onemap ledgers build --data {dir}`")]
    Outdated { dir: PathBuf, missing: String },
    #[error("{path}: {why}")]
    BadFile { path: PathBuf, why: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    BadQuery(String),
    #[error("no area {0} in this city")]
    UnknownArea(onemap_core::AreaId),
    #[error("{0}")]
    TooLarge(String),
    #[error("writing the table: {0}")]
    Write(std::io::Error),
    #[error("internal error: {0}")]
    Internal(String),
    /// The ledgers' database (PostGIS) failed or is away.
    #[error("the ledgers' database: {0}")]
    Database(String),
}

impl LedgerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> LedgerError {
        LedgerError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn arrow(path: &Path, e: arrow_schema::ArrowError) -> LedgerError {
        LedgerError::BadFile {
            path: path.to_path_buf(),
            why: e.to_string(),
        }
    }
}
