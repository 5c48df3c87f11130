//! The one table's saved templates in the GeoPackage file (`table_templates`).

use super::{db, EmbeddedStore};
use crate::live::templates::{area_key, area_of, NewTemplate, Template, MAX_TEMPLATES};
use crate::StoreError;
use rusqlite::{params, OptionalExtension};

impl EmbeddedStore {
    /// Saves a template; refused when its area has one of this name, or
    /// when the city keeps as many as it may.
    pub fn save_template(&self, t: &NewTemplate) -> Result<Template, StoreError> {
        let conn = self.lock();
        let count: i64 = conn
            .query_row("SELECT count(*) FROM table_templates", [], |r| r.get(0))
            .map_err(|e| db(&self.path, "count the templates", e))?;
        if count >= MAX_TEMPLATES as i64 {
            return Err(StoreError::TooManyTemplates { max: MAX_TEMPLATES });
        }
        let n = conn
            .execute(
                "INSERT INTO table_templates (name, ledger, params, shared_in, account, author, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (shared_in, name) DO NOTHING",
                params![t.name, t.ledger, t.params, area_key(t.area), t.account, t.author, t.at],
            )
            .map_err(|e| db(&self.path, "save a template", e))?;
        if n == 0 {
            return Err(StoreError::TemplateExists(t.name.clone()));
        }
        Ok(Template {
            id: conn.last_insert_rowid(),
            name: t.name.clone(),
            ledger: t.ledger.clone(),
            params: t.params.clone(),
            area: t.area,
            account: t.account.clone(),
            author: t.author.clone(),
            at: t.at,
        })
    }

    /// Every saved template, oldest first.
    pub fn templates(&self) -> Result<Vec<Template>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(
                "SELECT id, name, ledger, params, shared_in, account, author, at \
                 FROM table_templates ORDER BY id",
            )
            .map_err(|e| db(&self.path, "read the templates", e))?;
        let rows = st
            .query_map([], |r| {
                Ok(Template {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    ledger: r.get(2)?,
                    params: r.get(3)?,
                    area: area_of(r.get(4)?),
                    account: r.get(5)?,
                    author: r.get(6)?,
                    at: r.get(7)?,
                })
            })
            .map_err(|e| db(&self.path, "read the templates", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| db(&self.path, "read the templates", e))
    }

    /// Deletes template `id`; the template as it was, or `None` if there
    /// was none.
    pub fn delete_template(&self, id: i64) -> Result<Option<Template>, StoreError> {
        let conn = self.lock();
        conn.query_row(
            "DELETE FROM table_templates WHERE id = ?1 \
             RETURNING id, name, ledger, params, shared_in, account, author, at",
            [id],
            |r| {
                Ok(Template {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    ledger: r.get(2)?,
                    params: r.get(3)?,
                    area: area_of(r.get(4)?),
                    account: r.get(5)?,
                    author: r.get(6)?,
                    at: r.get(7)?,
                })
            },
        )
        .optional()
        .map_err(|e| db(&self.path, "delete a template", e))
    }
}
