//! The log of the one table's downloads: who took which ledger, with what
//! filter and fields, in which format, how many rows, and whether personal
//! fields were in it (the same record in both stores).

use serde::Serialize;

/// One download of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Download {
    /// Unix seconds.
    pub at: i64,
    /// The account (a token's or a person's stable id).
    pub account: String,
    /// Who, by name.
    pub actor: String,
    pub role: String,
    /// The account's scope (`city`, `area:…`, `department:…`).
    pub scope: String,
    pub ledger: String,
    /// The filter as query text (`area=…&tags=care`).
    pub filter: String,
    /// The fields, comma-separated keys.
    pub fields: String,
    pub format: String,
    pub rows: u64,
    /// Whether personal fields were in it, in the clear.
    pub personal: bool,
}

/// The most log rows one read returns.
pub const MAX_DOWNLOADS_LISTED: usize = 1000;
