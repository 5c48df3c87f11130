//! The problem, development and task lists (`list_items`, `list_history`),
//! the same in both live stores: what a row holds, and the one query both
//! run for a filtered page (the filter is `onemap_core::lists::ListFilter`,
//! whose `matches` is the oracle the queries are tested against).
//!
//! Area codes are kept as text, so an area's subtree is the codes that
//! start with its own (codes of one level have one length). Due dates are
//! `YYYY-MM-DD` text, so "before today" is a text comparison. Linked
//! events are a comma list of ids. At most one item per hot spot is not
//! done: a partial unique index says so, and a second one is refused as
//! [`ListError::HotspotTaken`].

use crate::StoreError;
use onemap_core::lists::{ListChange, ListError, ListFilter, ListItem, Owner, OwnerKind};
use onemap_core::{AreaId, ListStatus};

/// The most rows one page holds.
pub const MAX_LIST_PAGE: usize = 500;

/// A page of items and how many pass the filter in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub total: u64,
    pub rows: Vec<ListItem>,
}

/// The columns read for an item, in order.
pub(crate) const COLUMNS: &str =
    "id, kind, area, title, detail, category, owner_kind, owner_name, \
     status, due, events, hotspot, created_at, created_by, updated_at";

/// An item's row as text and numbers, before it is checked.
pub(crate) struct RawItem {
    pub id: i64,
    pub kind: String,
    pub area: String,
    pub title: String,
    pub detail: String,
    pub category: String,
    pub owner_kind: String,
    pub owner_name: String,
    pub status: String,
    pub due: Option<String>,
    pub events: String,
    pub hotspot: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

fn bad(reason: String) -> StoreError {
    StoreError::BadStoredValue {
        path: "list_items".into(),
        reason,
    }
}

impl RawItem {
    pub(crate) fn item(self) -> Result<ListItem, StoreError> {
        let id = self.id;
        let what = |w: &str, e: &dyn std::fmt::Display| bad(format!("item {id}: {w}: {e}"));
        Ok(ListItem {
            id: u64::try_from(id).map_err(|e| what("id", &e))?,
            kind: self.kind.parse().map_err(|e| what("kind", &e))?,
            area: self.area.parse::<AreaId>().map_err(|e| what("area", &e))?,
            title: self.title,
            detail: self.detail,
            category: self.category.parse().map_err(|e| what("category", &e))?,
            owner: Owner {
                kind: self
                    .owner_kind
                    .parse::<OwnerKind>()
                    .map_err(|e| what("owner", &e))?,
                name: self.owner_name,
            },
            status: self.status.parse().map_err(|e| what("status", &e))?,
            due: self.due,
            events: events_of(&self.events).map_err(|e| what("events", &e))?,
            hotspot: self.hotspot,
            created_at: self.created_at,
            created_by: self.created_by,
            updated_at: self.updated_at,
        })
    }
}

/// The comma list of linked events.
pub(crate) fn events_text(events: &[u64]) -> String {
    events
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn events_of(s: &str) -> Result<Vec<u64>, std::num::ParseIntError> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

/// An id as the stores' bigint.
pub(crate) fn sql_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::List(ListError::UnknownItem(id)))
}

/// The `WHERE` clause of a filter (with `placeholder(n)` for the n-th
/// parameter, from 1) and its parameters, all text.
pub(crate) fn where_clause(
    f: &ListFilter,
    placeholder: impl Fn(usize) -> String,
) -> (String, Vec<String>) {
    let mut parts: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let param = |v: String, params: &mut Vec<String>| {
        params.push(v);
        placeholder(params.len())
    };
    if let Some(p) = f.area_prefix() {
        let ph = param(format!("{p}%"), &mut params);
        parts.push(format!("area LIKE {ph}"));
    }
    let mut any_of = |col: &str, values: Vec<String>, params: &mut Vec<String>| {
        if values.is_empty() {
            return;
        }
        let phs: Vec<String> = values.into_iter().map(|v| param(v, params)).collect();
        parts.push(format!("{col} IN ({})", phs.join(", ")));
    };
    any_of(
        "kind",
        f.kinds.iter().map(|k| k.to_string()).collect(),
        &mut params,
    );
    any_of(
        "status",
        f.statuses.iter().map(|k| k.to_string()).collect(),
        &mut params,
    );
    any_of("owner_name", f.owner.iter().cloned().collect(), &mut params);
    any_of(
        "owner_kind",
        f.owner_kind
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        &mut params,
    );
    any_of("hotspot", f.hotspot.iter().cloned().collect(), &mut params);
    if let Some(o) = f.overdue {
        let ph = param(f.today.clone(), &mut params);
        parts.push(if o {
            format!("(status <> 'done' AND due IS NOT NULL AND due < {ph})")
        } else {
            format!("(status = 'done' OR due IS NULL OR due >= {ph})")
        });
    }
    let clause = if parts.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", parts.join(" AND "))
    };
    (clause, params)
}

/// A stored change, as read back.
pub(crate) fn change(
    at: i64,
    by: String,
    change: String,
    from: Option<String>,
    to: Option<String>,
    note: Option<String>,
) -> ListChange {
    ListChange {
        at,
        by,
        change,
        from,
        to,
        note,
    }
}

/// The history of an item as it is first written: `created`, then (for
/// the demo's items, written whole) the moves to its status.
pub(crate) fn imported_history(i: &ListItem) -> Vec<ListChange> {
    let mut log = vec![change(
        i.created_at,
        i.created_by.clone(),
        "created".into(),
        None,
        Some(ListStatus::Open.to_string()),
        None,
    )];
    let steps: &[(ListStatus, ListStatus)] = match i.status {
        ListStatus::Open => &[],
        ListStatus::InProgress => &[(ListStatus::Open, ListStatus::InProgress)],
        ListStatus::Done => &[
            (ListStatus::Open, ListStatus::InProgress),
            (ListStatus::InProgress, ListStatus::Done),
        ],
    };
    for (from, to) in steps {
        log.push(change(
            i.updated_at,
            i.created_by.clone(),
            "status".into(),
            Some(from.to_string()),
            Some(to.to_string()),
            None,
        ));
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;
    use onemap_core::ListKind;

    #[test]
    fn clauses() {
        let f = ListFilter::default();
        assert_eq!(where_clause(&f, |n| format!("?{n}")).0, "");
        let f = ListFilter {
            area: Some(AreaId::new(350_302_001).unwrap()),
            kinds: vec![ListKind::Problem],
            statuses: vec![ListStatus::Open, ListStatus::InProgress],
            overdue: Some(true),
            today: "2026-01-02".into(),
            ..Default::default()
        };
        let (w, p) = where_clause(&f, |n| format!("${n}"));
        assert_eq!(
            w,
            "WHERE area LIKE $1 AND kind IN ($2) AND status IN ($3, $4) AND (status <> 'done' AND due IS NOT NULL AND due < $5)"
        );
        assert_eq!(
            p,
            vec!["350302001%", "problem", "open", "in_progress", "2026-01-02"]
        );
    }
}
