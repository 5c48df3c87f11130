//! Where a table's rows come from: the ledger files ([`Ledgers`]) or the
//! ledgers' tables in PostGIS ([`crate::pg::PgLedgers`]). Both answer a
//! [`Query`] the same way: the same rows in the same order, masked by the
//! same code (`query::run_batches` and `query::run` share it).

use crate::file::Ledgers;
use crate::query::{Access, Query, Sink, Summary};
use crate::registry::Ledger;
use crate::LedgerError;
use onemap_core::AreaTree;

/// A source of the stored ledgers' rows.
pub trait TableSource: Send + Sync + std::fmt::Debug {
    /// Every matching row (in the files' order) to `sink`, masked as
    /// `access` says; the count of all matching rows.
    fn run(
        &self,
        areas: &AreaTree,
        q: &Query,
        access: Access,
        sink: &mut dyn Sink,
    ) -> Result<Summary, LedgerError>;

    /// The rows of a stored ledger (0 for one that is not stored).
    fn rows(&self, ledger: Ledger) -> u64;

    /// Where the rows are, for messages.
    fn describe(&self) -> String;
}

impl TableSource for Ledgers {
    fn run(
        &self,
        areas: &AreaTree,
        q: &Query,
        access: Access,
        sink: &mut dyn Sink,
    ) -> Result<Summary, LedgerError> {
        crate::query::run(self, areas, q, access, sink)
    }

    fn rows(&self, ledger: Ledger) -> u64 {
        if Ledger::STORED.contains(&ledger) {
            self.get(ledger).rows()
        } else {
            0
        }
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
