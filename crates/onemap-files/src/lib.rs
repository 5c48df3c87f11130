//! Area files (一镇一档、一村一档、一企一档): one document per area (district,
//! town, village, grid, unit), enterprise and school, put together from an
//! index snapshot ([`City`]) and the one table's ledgers ([`Ledgers`]).
//!
//! - [`area_file`]: the area, its parent chain and children (each with its
//!   figures), its leaders (the cadres ledger, masked as the one table masks
//!   for the reader), its events month by month (reported and closed, by
//!   category) and now (open, overdue), the ledgers' counts (people, the
//!   care group and its tags, houses and dangerous ones, cadres, projects),
//!   its heritage points and idle homesteads with sums by level and status,
//!   its enterprises and schools.
//! - [`site_file`]: an enterprise or a school: its properties, position,
//!   the areas holding it, the events reported nearest to it.
//!
//! Nothing here knows HTTP; the server adds what it keeps itself (the
//! coordination of inspections) and answers. Every list is bounded
//! ([`MAX_ROWS`]); its total is always whole. Every failure is a
//! [`FilesError`].

mod area;
mod months;
mod site;

pub use area::{
    area_file, AreaFile, AreaHead, CareTag, ChildRow, EventFigures, HeritageFile, HeritageRow,
    HomesteadFile, HomesteadRow, HomesteadSum, Leader, LedgerCounts, MonthRow, NowFigures, SiteRow,
    SiteRows,
};
pub use months::{Month, MONTHS};
pub use site::{site_file, NearbyEvent, SiteFile, SiteKind, NEARBY_K, NEARBY_M};

use onemap_core::deadlines::Cutoffs;
use onemap_core::AreaId;
use onemap_ledger::Access;

/// The most rows any list of a file holds (its total is always whole).
pub const MAX_ROWS: usize = 500;

/// What a file is asked with: what the reader may see, the last month of
/// the figures over time, and the moment the "now" figures are of.
#[derive(Debug, Clone, Copy)]
pub struct FileRequest {
    /// Personal fields (a leader's phone) in the clear or masked.
    pub access: Access,
    /// The last of the [`MONTHS`] months the figures cover.
    pub until: Month,
    /// The moment of "open now" and "overdue" (Unix seconds).
    pub now: i64,
    /// The overdue cutoffs at `now` (`Deadlines::cutoffs`).
    pub cutoffs: Cutoffs,
}

/// Everything that can go wrong while making a file.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("no area {0} in this city")]
    UnknownArea(AreaId),
    #[error("no {kind} {id} in this city")]
    UnknownSite { kind: &'static str, id: u64 },
    #[error(transparent)]
    Index(#[from] onemap_index::IndexError),
    #[error(transparent)]
    Ledger(#[from] onemap_ledger::LedgerError),
}
