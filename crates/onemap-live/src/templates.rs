//! The one table's saved templates: who may save one where, who sees it,
//! who may delete it. A template is shared within an area: accounts whose
//! area is inside it, and the levels above it, see it; a city-wide one is
//! seen by everyone who reads the table. The query text itself is checked
//! by the caller against the ledger's registry before it is saved.

use crate::{Live, LiveError};
use onemap_core::workflow::{Actor, Scope};
use onemap_core::{AreaId, Role};
use onemap_store::{NewTemplate, Template, MAX_TEMPLATE_NAME, MAX_TEMPLATE_PARAMS};

/// Whether `a` is `b` or inside it.
fn within(a: AreaId, b: AreaId) -> bool {
    b.level()
        .and_then(|l| a.ancestor_at(l))
        .is_some_and(|x| x == b)
}

/// Whether `actor` sees template `t`.
pub fn sees(actor: &Actor, t: &Template) -> bool {
    if matches!(actor.role, Role::ShipFeed | Role::Enterprise | Role::School) {
        return false;
    }
    match (&actor.scope, t.area.and_then(|a| AreaId::new(a).ok())) {
        (_, None) => true,
        (Scope::City | Scope::Department(_), Some(_)) => true,
        (Scope::Area(s), Some(t)) => within(*s, t) || within(t, *s),
        // An enterprise's or a school's account does not read the ledgers.
        (Scope::Enterprise(_) | Scope::School(_), Some(_)) => false,
    }
}

/// Whether `actor` may delete template `t`: the account that saved it, or
/// a town office whose town holds the template's area.
pub fn may_delete(actor: &Actor, t: &Template) -> bool {
    if actor.account == t.account {
        return true;
    }
    match (
        &actor.role,
        &actor.scope,
        t.area.and_then(|a| AreaId::new(a).ok()),
    ) {
        (Role::TownOffice, Scope::Area(s), Some(t)) => within(t, *s),
        _ => false,
    }
}

/// The area a template of `actor` is shared in: `asked` if the actor's
/// area holds it, else a refusal; by default the actor's own area (the
/// city for city-wide accounts and departments).
pub fn shared_in(actor: &Actor, asked: Option<AreaId>) -> Result<Option<AreaId>, LiveError> {
    match (&actor.scope, asked) {
        (Scope::Area(s), None) => Ok(Some(*s)),
        (Scope::Area(s), Some(a)) if within(a, *s) => Ok(Some(a)),
        (Scope::Area(s), Some(a)) => Err(LiveError::Forbidden(format!(
            "area {a} is outside your area {s}: a template is shared within your area or a part of it"
        ))),
        (Scope::City | Scope::Department(_), asked) => Ok(asked),
        (Scope::Enterprise(_) | Scope::School(_), _) => Err(LiveError::Forbidden(
            "an enterprise's or a school's account does not read the ledgers".into(),
        )),
    }
}

/// A template's name, trimmed: 1 to [`MAX_TEMPLATE_NAME`] characters, no
/// control characters.
pub fn check_name(name: &str) -> Result<String, LiveError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > MAX_TEMPLATE_NAME || name.chars().any(char::is_control) {
        return Err(LiveError::InvalidName {
            max: MAX_TEMPLATE_NAME,
        });
    }
    Ok(name.to_string())
}

impl Live {
    /// Saves a template of the one table for `actor`, shared within `area`
    /// (see [`shared_in`]); `params` is query text the caller has checked.
    pub async fn save_template(
        &self,
        actor: &Actor,
        name: &str,
        ledger: &str,
        params: &str,
        area: Option<AreaId>,
    ) -> Result<Template, LiveError> {
        if actor.role == Role::ShipFeed {
            return Err(LiveError::Forbidden(
                "a ship feed's token does not read the ledgers".into(),
            ));
        }
        let name = check_name(name)?;
        if params.len() > MAX_TEMPLATE_PARAMS {
            return Err(LiveError::TooLong {
                field: "params",
                max: MAX_TEMPLATE_PARAMS,
            });
        }
        let area = shared_in(actor, area)?;
        let t = NewTemplate {
            name,
            ledger: ledger.to_string(),
            params: params.to_string(),
            area: area.map(|a| a.get()),
            account: actor.account.clone(),
            author: actor.name.clone(),
            at: onemap_core::time::now(),
        };
        Ok(self.store()?.save_template(t).await?)
    }

    /// The saved templates `actor` sees, oldest first.
    pub async fn templates(&self, actor: &Actor) -> Result<Vec<Template>, LiveError> {
        let all = self.store()?.templates().await?;
        Ok(all.into_iter().filter(|t| sees(actor, t)).collect())
    }

    /// Template `id` if `actor` sees it.
    pub async fn template(&self, actor: &Actor, id: i64) -> Result<Template, LiveError> {
        self.templates(actor)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(LiveError::UnknownTemplate(id))
    }

    /// Deletes template `id` as `actor` (see [`may_delete`]); what it was.
    pub async fn delete_template(&self, actor: &Actor, id: i64) -> Result<Template, LiveError> {
        let t = self.template(actor, id).await?;
        if !may_delete(actor, &t) {
            return Err(LiveError::Forbidden(format!(
                "template {id} was saved by {}: only that account, or the office of a town that holds its area, deletes it",
                t.author
            )));
        }
        self.store()?
            .delete_template(id)
            .await?
            .ok_or(LiveError::UnknownTemplate(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, scope: Scope, account: &str) -> Actor {
        Actor {
            role,
            scope,
            name: account.to_string(),
            account: account.to_string(),
        }
    }

    fn template(area: Option<u64>, account: &str) -> Template {
        Template {
            id: 1,
            name: "n".into(),
            ledger: "people".into(),
            params: String::new(),
            area,
            account: account.into(),
            author: account.into(),
            at: 0,
        }
    }

    const TOWN: u64 = 350_304_003;
    const VILLAGE: u64 = 350_304_003_001;
    const OTHER_TOWN: u64 = 350_304_004;

    fn area(a: u64) -> Scope {
        Scope::Area(AreaId::new(a).unwrap())
    }

    #[test]
    fn a_template_is_seen_inside_its_area_and_above_it() {
        let t = template(Some(TOWN), "a");
        assert!(sees(&actor(Role::UnitLeader, area(VILLAGE), "u"), &t));
        assert!(sees(&actor(Role::TownOffice, area(TOWN), "o"), &t));
        assert!(sees(&actor(Role::Viewer, area(350_304), "v"), &t));
        assert!(sees(&actor(Role::Viewer, Scope::City, "v"), &t));
        assert!(!sees(&actor(Role::TownOffice, area(OTHER_TOWN), "x"), &t));
        assert!(!sees(&actor(Role::ShipFeed, Scope::City, "s"), &t));
        let v = template(Some(VILLAGE), "a");
        assert!(sees(&actor(Role::TownOffice, area(TOWN), "o"), &v));
        assert!(!sees(
            &actor(Role::UnitLeader, area(350_304_003_002), "u"),
            &v
        ));
        assert!(sees(
            &actor(Role::TownOffice, area(OTHER_TOWN), "x"),
            &template(None, "a")
        ));
    }

    #[test]
    fn the_author_or_the_town_office_deletes() {
        let t = template(Some(VILLAGE), "a");
        assert!(may_delete(&actor(Role::UnitLeader, area(VILLAGE), "a"), &t));
        assert!(!may_delete(
            &actor(Role::UnitLeader, area(VILLAGE), "b"),
            &t
        ));
        assert!(may_delete(&actor(Role::TownOffice, area(TOWN), "o"), &t));
        assert!(!may_delete(
            &actor(Role::TownOffice, area(OTHER_TOWN), "o"),
            &t
        ));
        assert!(!may_delete(&actor(Role::Viewer, Scope::City, "v"), &t));
        assert!(!may_delete(
            &actor(Role::TownOffice, area(TOWN), "o"),
            &template(None, "a")
        ));
    }

    #[test]
    fn a_template_is_shared_within_the_account_area() {
        let leader = actor(Role::UnitLeader, area(VILLAGE), "u");
        assert_eq!(shared_in(&leader, None).unwrap().unwrap().get(), VILLAGE);
        assert!(shared_in(&leader, Some(AreaId::new(TOWN).unwrap())).is_err());
        let office = actor(Role::TownOffice, area(TOWN), "o");
        assert_eq!(
            shared_in(&office, Some(AreaId::new(VILLAGE).unwrap()))
                .unwrap()
                .unwrap()
                .get(),
            VILLAGE
        );
        assert_eq!(
            shared_in(&actor(Role::Viewer, Scope::City, "v"), None).unwrap(),
            None
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  关爱人群  ").unwrap(), "关爱人群");
        assert!(check_name("   ").is_err());
        assert!(check_name("a\u{7}b").is_err());
        assert!(check_name(&"名".repeat(MAX_TEMPLATE_NAME)).is_ok());
        assert!(check_name(&"名".repeat(MAX_TEMPLATE_NAME + 1)).is_err());
    }
}
