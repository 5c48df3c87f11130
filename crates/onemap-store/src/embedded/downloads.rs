//! The one table's download log in the GeoPackage file (`table_downloads`).

use super::{db, EmbeddedStore};
use crate::live::downloads::{Download, MAX_DOWNLOADS_LISTED};
use crate::StoreError;
use rusqlite::params;

impl EmbeddedStore {
    /// Records a download.
    pub fn log_download(&self, d: &Download) -> Result<(), StoreError> {
        let rows = i64::try_from(d.rows).unwrap_or(i64::MAX);
        self.lock()
            .execute(
                "INSERT INTO table_downloads (at, account, actor, role, scope, ledger, filter, \
                 fields, format, rows, personal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    d.at, d.account, d.actor, d.role, d.scope, d.ledger, d.filter, d.fields,
                    d.format, rows, d.personal
                ],
            )
            .map_err(|e| db(&self.path, "log a download", e))?;
        Ok(())
    }

    /// The latest downloads, newest first (at most `limit`, capped).
    pub fn downloads(&self, limit: usize) -> Result<Vec<Download>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(
                "SELECT at, account, actor, role, scope, ledger, filter, fields, format, rows, \
                 personal FROM table_downloads ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| db(&self.path, "read the download log", e))?;
        let limit = limit.min(MAX_DOWNLOADS_LISTED) as i64;
        let rows = st
            .query_map([limit], |r| {
                Ok(Download {
                    at: r.get(0)?,
                    account: r.get(1)?,
                    actor: r.get(2)?,
                    role: r.get(3)?,
                    scope: r.get(4)?,
                    ledger: r.get(5)?,
                    filter: r.get(6)?,
                    fields: r.get(7)?,
                    format: r.get(8)?,
                    rows: r.get::<_, i64>(9)?.max(0) as u64,
                    personal: r.get(10)?,
                })
            })
            .map_err(|e| db(&self.path, "read the download log", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| db(&self.path, "read the download log", e))
    }
}
