//! The one table's saved templates in PostGIS (`table_templates`).

use super::PgLive;
use crate::live::templates::{area_key, area_of, NewTemplate, Template, MAX_TEMPLATES};
use crate::postgres::{from_time, to_time};
use crate::StoreError;
use tokio_postgres::Row;

const COLUMNS: &str = "id, name, ledger, params, shared_in, account, author, at";

fn template(r: &Row) -> Result<Template, StoreError> {
    Ok(Template {
        id: r.get(0),
        name: r.get(1),
        ledger: r.get(2),
        params: r.get(3),
        area: area_of(r.get(4)),
        account: r.get(5),
        author: r.get(6),
        at: from_time("table_templates", r.get(7))?,
    })
}

impl PgLive {
    /// Saves a template; refused when its area has one of this name, or
    /// when the city keeps as many as it may (counted in the same
    /// statement, so two servers cannot both pass the last place by much).
    pub async fn save_template(&self, t: &NewTemplate) -> Result<Template, StoreError> {
        let c = self.client().await?;
        let max = MAX_TEMPLATES as i64;
        let row = c
            .query_opt(
                &format!(
                    "WITH room AS (SELECT count(*) < $8 AS ok FROM table_templates) \
                     INSERT INTO table_templates (name, ledger, params, shared_in, account, author, at) \
                     SELECT $1, $2, $3, $4, $5, $6, $7 FROM room WHERE room.ok \
                     ON CONFLICT (shared_in, name) DO NOTHING RETURNING {COLUMNS}"
                ),
                &[
                    &t.name,
                    &t.ledger,
                    &t.params,
                    &area_key(t.area),
                    &t.account,
                    &t.author,
                    &to_time("table_templates", t.at)?,
                    &max,
                ],
            )
            .await
            .map_err(self.err("save a template"))?;
        match row {
            Some(r) => template(&r),
            None => {
                let n: i64 = c
                    .query_one("SELECT count(*) FROM table_templates", &[])
                    .await
                    .map_err(self.err("count the templates"))?
                    .get(0);
                if n >= max {
                    Err(StoreError::TooManyTemplates { max: MAX_TEMPLATES })
                } else {
                    Err(StoreError::TemplateExists(t.name.clone()))
                }
            }
        }
    }

    /// Every saved template, oldest first.
    pub async fn templates(&self) -> Result<Vec<Template>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM table_templates ORDER BY id"),
                &[],
            )
            .await
            .map_err(self.err("read the templates"))?;
        rows.iter().map(template).collect()
    }

    /// Deletes template `id`; the template as it was, or `None`.
    pub async fn delete_template(&self, id: i64) -> Result<Option<Template>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("DELETE FROM table_templates WHERE id = $1 RETURNING {COLUMNS}"),
                &[&id],
            )
            .await
            .map_err(self.err("delete a template"))?;
        row.as_ref().map(template).transpose()
    }
}
