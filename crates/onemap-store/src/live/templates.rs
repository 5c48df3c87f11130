//! The one table's saved templates: a ledger, its fields and its filter
//! under a name, shared within an area (as Putian's form templates are
//! shared down the levels). The same record in both stores.

use serde::Serialize;

/// A saved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    pub id: i64,
    pub name: String,
    /// The ledger's key (`people`, `houses`, …).
    pub ledger: String,
    /// The fields and filter as query text (`fields=name,phone&tags=care`),
    /// without area, limit, format or language: those are chosen when the
    /// template is used.
    pub params: String,
    /// The area it is shared within (its subtree and the levels above
    /// see it); `None`: the whole city.
    pub area: Option<u64>,
    /// The account that saved it (a token's or a person's stable id).
    pub account: String,
    /// Who saved it, by name.
    pub author: String,
    /// Unix seconds.
    pub at: i64,
}

/// A template to save (the store gives it its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTemplate {
    pub name: String,
    pub ledger: String,
    pub params: String,
    pub area: Option<u64>,
    pub account: String,
    pub author: String,
    pub at: i64,
}

/// The most templates a city keeps: the list is read whole.
pub const MAX_TEMPLATES: usize = 10_000;
/// The longest name, in characters.
pub const MAX_TEMPLATE_NAME: usize = 60;
/// The longest query text, in bytes.
pub const MAX_TEMPLATE_PARAMS: usize = 2_000;

/// The shared-in column: 0 for the whole city (a key column cannot be
/// NULL in a unique constraint that should hold for it).
pub(crate) fn area_key(area: Option<u64>) -> i64 {
    area.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX))
}

pub(crate) fn area_of(key: i64) -> Option<u64> {
    u64::try_from(key).ok().filter(|&a| a != 0)
}
