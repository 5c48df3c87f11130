//! The problem, development and task lists in the GeoPackage file
//! (`list_items`, `list_history`; see `live::lists`).

use super::{db, EmbeddedStore};
use crate::live::lists::{
    change, events_text, imported_history, sql_id, where_clause, ListPage, RawItem, COLUMNS,
    MAX_LIST_PAGE,
};
use crate::StoreError;
use onemap_core::lists::{
    apply_update, ItemUpdate, ListChange, ListError, ListFilter, ListItem, NewItem,
};
use onemap_core::workflow::Actor;
use rusqlite::{params, params_from_iter, OptionalExtension, Transaction, TransactionBehavior};

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawItem> {
    Ok(RawItem {
        id: r.get(0)?,
        kind: r.get(1)?,
        area: r.get(2)?,
        title: r.get(3)?,
        detail: r.get(4)?,
        category: r.get(5)?,
        owner_kind: r.get(6)?,
        owner_name: r.get(7)?,
        status: r.get(8)?,
        due: r.get(9)?,
        events: r.get(10)?,
        hotspot: r.get(11)?,
        created_at: r.get(12)?,
        created_by: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

/// Whether a write failed on the hot spot's unique index.
fn hotspot_clash(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, Some(m))
        if f.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("hotspot"))
}

impl EmbeddedStore {
    /// A page of the items that pass `f`, newest first, and their number.
    pub fn list_page(
        &self,
        f: &ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        let what = "read the lists";
        let (clause, mut args) = where_clause(f, |n| format!("?{n}"));
        let conn = self.lock();
        let total: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM list_items {clause}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )
            .map_err(|e| db(&self.path, what, e))?;
        let n = args.len();
        args.push(limit.min(MAX_LIST_PAGE).to_string());
        args.push(offset.min(i64::MAX as usize).to_string());
        let mut st = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM list_items {clause} ORDER BY id DESC \
                 LIMIT CAST(?{} AS INTEGER) OFFSET CAST(?{} AS INTEGER)",
                n + 1,
                n + 2
            ))
            .map_err(|e| db(&self.path, what, e))?;
        let rows = st
            .query_map(params_from_iter(args.iter()), raw)
            .map_err(|e| db(&self.path, what, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| db(&self.path, what, e))?;
        Ok(ListPage {
            total: total.max(0) as u64,
            rows: rows
                .into_iter()
                .map(RawItem::item)
                .collect::<Result<_, _>>()?,
        })
    }

    /// An item with its history, oldest change first.
    pub fn list_item(&self, id: u64) -> Result<Option<(ListItem, Vec<ListChange>)>, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "read a list item", e))?;
        let Some(item) = self.get_item(&tx, id)? else {
            return Ok(None);
        };
        let history = self.history(&tx, id)?;
        Ok(Some((item, history)))
    }

    fn get_item(&self, tx: &Transaction<'_>, id: u64) -> Result<Option<ListItem>, StoreError> {
        let what = "read a list item";
        tx.query_row(
            &format!("SELECT {COLUMNS} FROM list_items WHERE id = ?1"),
            [sql_id(id)?],
            raw,
        )
        .optional()
        .map_err(|e| db(&self.path, what, e))?
        .map(RawItem::item)
        .transpose()
    }

    fn history(&self, tx: &Transaction<'_>, id: u64) -> Result<Vec<ListChange>, StoreError> {
        let what = "read a list item's history";
        let mut st = tx
            .prepare(
                "SELECT at, by_name, change, from_value, to_value, note FROM list_history \
                 WHERE item_id = ?1 ORDER BY seq",
            )
            .map_err(|e| db(&self.path, what, e))?;
        let rows = st
            .query_map([sql_id(id)?], |r| {
                Ok(change(
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(|e| db(&self.path, what, e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| db(&self.path, what, e))
    }

    fn put_item(&self, tx: &Transaction<'_>, i: &ListItem, new: bool) -> Result<(), StoreError> {
        let sql = if new {
            format!(
                "INSERT INTO list_items ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            )
        } else {
            "UPDATE list_items SET kind = ?2, area = ?3, title = ?4, detail = ?5, category = ?6, \
             owner_kind = ?7, owner_name = ?8, status = ?9, due = ?10, events = ?11, hotspot = ?12, \
             created_at = ?13, created_by = ?14, updated_at = ?15 WHERE id = ?1"
                .to_string()
        };
        tx.execute(
            &sql,
            params![
                sql_id(i.id)?,
                i.kind.as_str(),
                i.area.to_string(),
                i.title,
                i.detail,
                i.category.as_str(),
                i.owner.kind.as_str(),
                i.owner.name,
                i.status.as_str(),
                i.due,
                events_text(&i.events),
                i.hotspot,
                i.created_at,
                i.created_by,
                i.updated_at,
            ],
        )
        .map_err(|e| {
            if hotspot_clash(&e) {
                StoreError::List(ListError::HotspotTaken {
                    hotspot: i.hotspot.clone().unwrap_or_default(),
                    item: self.open_item_of(tx, i.hotspot.as_deref()).unwrap_or(0),
                })
            } else {
                db(&self.path, "write a list item", e)
            }
        })?;
        Ok(())
    }

    fn open_item_of(&self, tx: &Transaction<'_>, hotspot: Option<&str>) -> Option<u64> {
        tx.query_row(
            "SELECT id FROM list_items WHERE hotspot = ?1 AND status <> 'done'",
            [hotspot?],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .map(|id| id as u64)
    }

    fn log_changes(
        &self,
        tx: &Transaction<'_>,
        id: u64,
        changes: &[ListChange],
    ) -> Result<(), StoreError> {
        let what = "log a list item's change";
        let id = sql_id(id)?;
        let mut seq: i64 = tx
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM list_history WHERE item_id = ?1",
                [id],
                |r| r.get(0),
            )
            .map_err(|e| db(&self.path, what, e))?;
        for c in changes {
            seq += 1;
            tx.execute(
                "INSERT INTO list_history (item_id, seq, at, by_name, change, from_value, to_value, note) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![id, seq, c.at, c.by, c.change, c.from, c.to, c.note],
            )
            .map_err(|e| db(&self.path, what, e))?;
        }
        Ok(())
    }

    fn begin<'c>(&self, conn: &'c mut rusqlite::Connection) -> Result<Transaction<'c>, StoreError> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db(&self.path, "begin a list change", e))
    }

    /// Creates a (checked) item by `by` at `now`, with its first history
    /// entry; refused while its hot spot has an item that is not done.
    pub fn list_create(&self, new: &NewItem, by: &str, now: i64) -> Result<ListItem, StoreError> {
        let mut conn = self.lock();
        let tx = self.begin(&mut conn)?;
        if let Some(item) = self.open_item_of(&tx, new.hotspot.as_deref()) {
            return Err(ListError::HotspotTaken {
                hotspot: new.hotspot.clone().unwrap_or_default(),
                item,
            }
            .into());
        }
        let max: i64 = tx
            .query_row("SELECT coalesce(max(id), 0) FROM list_items", [], |r| {
                r.get(0)
            })
            .map_err(|e| db(&self.path, "give out a list item id", e))?;
        let item = new.clone().into_item(max as u64 + 1, by, now);
        self.put_item(&tx, &item, true)?;
        self.log_changes(&tx, item.id, &imported_history(&item))?;
        tx.commit()
            .map_err(|e| db(&self.path, "commit a list item", e))?;
        Ok(item)
    }

    /// Changes an item as `actor` at `now` (the rules are
    /// `onemap_core::lists::apply_update`), keeping the changes in its
    /// history; the item and its whole history after it.
    pub fn list_update(
        &self,
        id: u64,
        u: &ItemUpdate,
        actor: &Actor,
        now: i64,
    ) -> Result<(ListItem, Vec<ListChange>), StoreError> {
        let mut conn = self.lock();
        let tx = self.begin(&mut conn)?;
        let mut item = self.get_item(&tx, id)?.ok_or(ListError::UnknownItem(id))?;
        let changes = apply_update(&mut item, u, actor, now)?;
        self.put_item(&tx, &item, false)?;
        self.log_changes(&tx, id, &changes)?;
        let history = self.history(&tx, id)?;
        tx.commit()
            .map_err(|e| db(&self.path, "commit a list change", e))?;
        Ok((item, history))
    }

    /// Writes whole items (the demo's, with their ids) into an empty list
    /// table, each with its `created` entry; none if it holds any. How
    /// many were written.
    pub fn list_import(&self, items: &[ListItem]) -> Result<usize, StoreError> {
        let mut conn = self.lock();
        let tx = self.begin(&mut conn)?;
        let n: i64 = tx
            .query_row("SELECT count(*) FROM list_items", [], |r| r.get(0))
            .map_err(|e| db(&self.path, "count the list items", e))?;
        if n > 0 {
            return Ok(0);
        }
        for i in items {
            self.put_item(&tx, i, true)?;
            self.log_changes(&tx, i.id, &imported_history(i))?;
        }
        tx.commit()
            .map_err(|e| db(&self.path, "commit the demo's list items", e))?;
        Ok(items.len())
    }
}

#[cfg(test)]
#[path = "lists_tests.rs"]
mod tests;
