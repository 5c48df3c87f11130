//! The problem, development and task lists in PostGIS (`list_items`,
//! `list_history`; see `live::lists`). A change locks its item's row
//! (`FOR UPDATE`); a new item takes a transaction-scoped advisory lock so
//! ids are given out one at a time across servers.

use super::PgLive;
use crate::live::lists::{
    change, events_text, imported_history, sql_id, where_clause, ListPage, RawItem, COLUMNS,
    MAX_LIST_PAGE,
};
use crate::postgres::{from_time, to_time};
use crate::StoreError;
use deadpool_postgres::GenericClient;
use onemap_core::lists::{
    apply_update, ItemUpdate, ListChange, ListError, ListFilter, ListItem, NewItem,
};
use onemap_core::workflow::Actor;
use std::time::SystemTime;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The advisory lock new items take (any constant of ours).
const NEW_ITEM_LOCK: i64 = 0x6f6e_656d_6170_4c49;

fn item_of(r: &Row) -> Result<ListItem, StoreError> {
    let t = |i: usize| -> Result<i64, StoreError> {
        let v: SystemTime = r.get(i);
        Ok(from_time("list_items", v)?)
    };
    RawItem {
        id: r.get(0),
        kind: r.get(1),
        area: r.get(2),
        title: r.get(3),
        detail: r.get(4),
        category: r.get(5),
        owner_kind: r.get(6),
        owner_name: r.get(7),
        status: r.get(8),
        due: r.get(9),
        events: r.get(10),
        hotspot: r.get(11),
        created_at: t(12)?,
        created_by: r.get(13),
        updated_at: t(14)?,
    }
    .item()
}

/// Whether a write failed on the hot spot's unique index.
fn hotspot_clash(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| {
        d.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION
            && d.constraint() == Some("list_items_hotspot_open")
    })
}

impl PgLive {
    /// A page of the items that pass `f`, newest first, and their number.
    pub async fn list_page(
        &self,
        f: &ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        let (clause, args) = where_clause(f, |n| format!("${n}"));
        let c = self.client().await?;
        let mut params: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let total: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM list_items {clause}"),
                &params,
            )
            .await
            .map_err(self.err("count the list items"))?
            .get(0);
        let n = args.len();
        let limit = limit.min(MAX_LIST_PAGE) as i64;
        let offset = offset.min(i64::MAX as usize) as i64;
        params.push(&limit);
        params.push(&offset);
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM list_items {clause} ORDER BY id DESC LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2
                ),
                &params,
            )
            .await
            .map_err(self.err("read the lists"))?;
        Ok(ListPage {
            total: total.max(0) as u64,
            rows: rows.iter().map(item_of).collect::<Result<_, _>>()?,
        })
    }

    /// An item with its history, oldest change first.
    pub async fn list_item(
        &self,
        id: u64,
    ) -> Result<Option<(ListItem, Vec<ListChange>)>, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(self.err("read a list item"))?;
        let Some(item) = self.get_item(&tx, id, false).await? else {
            return Ok(None);
        };
        let history = self.history(&tx, id).await?;
        Ok(Some((item, history)))
    }

    async fn get_item<C: GenericClient>(
        &self,
        c: &C,
        id: u64,
        lock: bool,
    ) -> Result<Option<ListItem>, StoreError> {
        let lock = if lock { " FOR UPDATE" } else { "" };
        let row = c
            .query_opt(
                &format!("SELECT {COLUMNS} FROM list_items WHERE id = $1{lock}"),
                &[&sql_id(id)?],
            )
            .await
            .map_err(self.err("read a list item"))?;
        row.as_ref().map(item_of).transpose()
    }

    async fn history<C: GenericClient>(
        &self,
        c: &C,
        id: u64,
    ) -> Result<Vec<ListChange>, StoreError> {
        let rows = c
            .query(
                "SELECT at, by_name, change, from_value, to_value, note FROM list_history \
                 WHERE item_id = $1 ORDER BY seq",
                &[&sql_id(id)?],
            )
            .await
            .map_err(self.err("read a list item's history"))?;
        rows.iter()
            .map(|r| {
                let at: SystemTime = r.get(0);
                Ok(change(
                    from_time("list_history", at)?,
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                ))
            })
            .collect()
    }

    async fn open_item_of<C: GenericClient>(
        &self,
        c: &C,
        hotspot: Option<&str>,
    ) -> Result<Option<u64>, StoreError> {
        let Some(h) = hotspot else { return Ok(None) };
        let row = c
            .query_opt(
                "SELECT id FROM list_items WHERE hotspot = $1 AND status <> 'done'",
                &[&h],
            )
            .await
            .map_err(self.err("look up a hot spot's item"))?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }

    async fn put_item<C: GenericClient>(
        &self,
        c: &C,
        i: &ListItem,
        new: bool,
    ) -> Result<(), StoreError> {
        let sql = if new {
            format!(
                "INSERT INTO list_items ({COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            )
        } else {
            "UPDATE list_items SET kind = $2, area = $3, title = $4, detail = $5, category = $6, \
             owner_kind = $7, owner_name = $8, status = $9, due = $10, events = $11, hotspot = $12, \
             created_at = $13, created_by = $14, updated_at = $15 WHERE id = $1"
                .to_string()
        };
        let area = i.area.to_string();
        let events = events_text(&i.events);
        let created = to_time("list_items", i.created_at)?;
        let updated = to_time("list_items", i.updated_at)?;
        let res = c
            .execute(
                &sql,
                &[
                    &sql_id(i.id)?,
                    &i.kind.as_str(),
                    &area,
                    &i.title,
                    &i.detail,
                    &i.category.as_str(),
                    &i.owner.kind.as_str(),
                    &i.owner.name,
                    &i.status.as_str(),
                    &i.due,
                    &events,
                    &i.hotspot,
                    &created,
                    &i.created_by,
                    &updated,
                ],
            )
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if hotspot_clash(&e) => Err(ListError::HotspotTaken {
                hotspot: i.hotspot.clone().unwrap_or_default(),
                item: 0,
            }
            .into()),
            Err(e) => Err(self.err("write a list item")(e).into()),
        }
    }

    async fn log_changes<C: GenericClient>(
        &self,
        c: &C,
        id: u64,
        changes: &[ListChange],
    ) -> Result<(), StoreError> {
        let id = sql_id(id)?;
        let seq: i32 = c
            .query_one(
                "SELECT coalesce(max(seq), 0) FROM list_history WHERE item_id = $1",
                &[&id],
            )
            .await
            .map_err(self.err("log a list item's change"))?
            .get(0);
        for (k, ch) in changes.iter().enumerate() {
            let at = to_time("list_history", ch.at)?;
            c.execute(
                "INSERT INTO list_history (item_id, seq, at, by_name, change, from_value, to_value, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&id, &(seq + 1 + k as i32), &at, &ch.by, &ch.change, &ch.from, &ch.to, &ch.note],
            )
            .await
            .map_err(self.err("log a list item's change"))?;
        }
        Ok(())
    }

    /// Creates a (checked) item by `by` at `now`, with its first history
    /// entry; refused while its hot spot has an item that is not done.
    pub async fn list_create(
        &self,
        new: &NewItem,
        by: &str,
        now: i64,
    ) -> Result<ListItem, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("begin a list item"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&NEW_ITEM_LOCK])
            .await
            .map_err(self.err("wait for a list item id"))?;
        if let Some(item) = self.open_item_of(&tx, new.hotspot.as_deref()).await? {
            return Err(ListError::HotspotTaken {
                hotspot: new.hotspot.clone().unwrap_or_default(),
                item,
            }
            .into());
        }
        let max: i64 = tx
            .query_one("SELECT coalesce(max(id), 0) FROM list_items", &[])
            .await
            .map_err(self.err("give out a list item id"))?
            .get(0);
        let item = new.clone().into_item(max as u64 + 1, by, now);
        self.put_item(&tx, &item, true).await?;
        self.log_changes(&tx, item.id, &imported_history(&item))
            .await?;
        tx.commit().await.map_err(self.err("commit a list item"))?;
        Ok(item)
    }

    /// Changes an item as `actor` at `now` (the rules are
    /// `onemap_core::lists::apply_update`); the item and its whole history.
    pub async fn list_update(
        &self,
        id: u64,
        u: &ItemUpdate,
        actor: &Actor,
        now: i64,
    ) -> Result<(ListItem, Vec<ListChange>), StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("begin a list change"))?;
        let mut item = self
            .get_item(&tx, id, true)
            .await?
            .ok_or(ListError::UnknownItem(id))?;
        let changes = apply_update(&mut item, u, actor, now)?;
        self.put_item(&tx, &item, false).await?;
        self.log_changes(&tx, id, &changes).await?;
        let history = self.history(&tx, id).await?;
        tx.commit()
            .await
            .map_err(self.err("commit a list change"))?;
        Ok((item, history))
    }

    /// Writes whole items (the demo's, with their ids) into an empty list
    /// table, each with its history; none if it holds any. How many.
    pub async fn list_import(&self, items: &[ListItem]) -> Result<usize, StoreError> {
        self.list_load(items, false).await
    }

    /// Replaces every item (and its history) with `items` (`onemap import
    /// --replace` of a city with its own lists). How many.
    pub async fn list_replace(&self, items: &[ListItem]) -> Result<usize, StoreError> {
        self.list_load(items, true).await
    }

    async fn list_load(&self, items: &[ListItem], replace: bool) -> Result<usize, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("begin the demo's list items"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&NEW_ITEM_LOCK])
            .await
            .map_err(self.err("wait for the list items"))?;
        if replace {
            tx.batch_execute("DELETE FROM list_history; DELETE FROM list_items;")
                .await
                .map_err(self.err("remove the lists"))?;
        }
        let n: i64 = tx
            .query_one("SELECT count(*) FROM list_items", &[])
            .await
            .map_err(self.err("count the list items"))?
            .get(0);
        if n > 0 {
            return Ok(0);
        }
        for i in items {
            self.put_item(&tx, i, true).await?;
            self.log_changes(&tx, i.id, &imported_history(i)).await?;
        }
        tx.commit()
            .await
            .map_err(self.err("commit the demo's list items"))?;
        Ok(items.len())
    }
}
