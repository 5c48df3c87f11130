//! The one table's download log in PostGIS (`table_downloads`).

use super::PgLive;
use crate::live::downloads::{Download, MAX_DOWNLOADS_LISTED};
use crate::postgres::{from_time, to_time};
use crate::StoreError;

impl PgLive {
    /// Records a download.
    pub async fn log_download(&self, d: &Download) -> Result<(), StoreError> {
        let c = self.client().await?;
        let rows = i64::try_from(d.rows).unwrap_or(i64::MAX);
        c.execute(
            "INSERT INTO table_downloads (at, account, actor, role, scope, ledger, filter, \
             fields, format, rows, personal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &to_time("table_downloads", d.at)?,
                &d.account,
                &d.actor,
                &d.role,
                &d.scope,
                &d.ledger,
                &d.filter,
                &d.fields,
                &d.format,
                &rows,
                &d.personal,
            ],
        )
        .await
        .map_err(self.err("log a download"))?;
        Ok(())
    }

    /// The latest downloads, newest first (at most `limit`, capped).
    pub async fn downloads(&self, limit: usize) -> Result<Vec<Download>, StoreError> {
        let c = self.client().await?;
        let limit = limit.min(MAX_DOWNLOADS_LISTED) as i64;
        let rows = c
            .query(
                "SELECT at, account, actor, role, scope, ledger, filter, fields, format, rows, \
                 personal FROM table_downloads ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .await
            .map_err(self.err("read the download log"))?;
        rows.iter()
            .map(|r| {
                Ok(Download {
                    at: from_time("table_downloads", r.get(0))?,
                    account: r.get(1),
                    actor: r.get(2),
                    role: r.get(3),
                    scope: r.get(4),
                    ledger: r.get(5),
                    filter: r.get(6),
                    fields: r.get(7),
                    format: r.get(8),
                    rows: r.get::<_, i64>(9).max(0) as u64,
                    personal: r.get(10),
                })
            })
            .collect()
    }
}
