//! A village's (or town's) three lists — problems 问题清单, development
//! 发展清单 and tasks 任务清单 — and who may do what with their items.
//!
//! An item sits at an area of any level (usually a village or a town), has
//! an owner (a department by name, or a person by display name), a status
//! (open → in_progress → done, and done → open again with a reason), a due
//! date (required for problems and tasks), the events it stands for, and a
//! history of every change.
//!
//! | action | who |
//! |---|---|
//! | create, change anything | a town office whose town holds the item's area; a unit leader whose scope holds it |
//! | move the status, add a note | also the department that owns the item |
//! | read | an area or city scope that holds the item's area (viewers too), or the department that owns it |
//!
//! Ship feeds do none of these. The rules here are plain functions over
//! plain data: the stores keep the items, the live core calls these.

use crate::workflow::{covers, Actor, Scope};
use crate::{AreaId, Level, ListCategory, ListKind, ListStatus, Role};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest title.
pub const MAX_TITLE: usize = 200;
/// The longest detail text.
pub const MAX_DETAIL: usize = 2000;
/// The longest owner name.
pub const MAX_OWNER: usize = 100;
/// The longest note kept with a change.
pub const MAX_NOTE: usize = 500;
/// The most events one item links.
pub const MAX_EVENTS: usize = 500;

/// Who an item's owner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    /// A department or office, by the name its accounts' scope carries.
    Department,
    /// A person, by display name (e.g. a village cadre).
    Person,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Department => "department",
            OwnerKind::Person => "person",
        }
    }
}

impl std::str::FromStr for OwnerKind {
    type Err = ListError;
    fn from_str(s: &str) -> Result<Self, ListError> {
        match s.trim() {
            "department" => Ok(OwnerKind::Department),
            "person" => Ok(OwnerKind::Person),
            other => Err(ListError::Invalid(format!(
                "unknown owner kind '{}' (expected department or person)",
                excerpt(other)
            ))),
        }
    }
}

/// An item's owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    pub kind: OwnerKind,
    pub name: String,
}

/// One item of a list, as the stores keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListItem {
    pub id: u64,
    pub kind: ListKind,
    pub area: AreaId,
    pub title: String,
    pub detail: String,
    pub category: ListCategory,
    pub owner: Owner,
    pub status: ListStatus,
    /// `YYYY-MM-DD` (China time), or none (development items may have none).
    pub due: Option<String>,
    /// The events it stands for, ascending.
    pub events: Vec<u64>,
    /// The hot spot it was made from (`unit:ID:CATEGORY` or
    /// `h3:RES:CELL:CATEGORY`): at most one item per hot spot is not done.
    pub hotspot: Option<String>,
    pub created_at: i64,
    /// Display name of who created it.
    pub created_by: String,
    pub updated_at: i64,
}

/// One change in an item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListChange {
    /// When (Unix seconds).
    pub at: i64,
    /// Display name of who made it.
    pub by: String,
    /// `created`, `status`, `owner`, `due` or `note`.
    pub change: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub note: Option<String>,
}

/// A new item, as asked for (before it has an id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub kind: ListKind,
    pub area: AreaId,
    pub title: String,
    pub detail: String,
    pub category: ListCategory,
    pub owner: Owner,
    pub due: Option<String>,
    pub events: Vec<u64>,
    pub hotspot: Option<String>,
}

/// A change asked for: any of a status move, a new owner, a new due date,
/// and a note (alone it is a comment in the history).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemUpdate {
    pub status: Option<ListStatus>,
    pub owner: Option<Owner>,
    /// `Some(None)` clears the due date (development items only).
    pub due: Option<Option<String>>,
    pub note: Option<String>,
}

/// Why a list change or read is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ListError {
    /// No item with this id (404).
    #[error("no list item {0}")]
    UnknownItem(u64),
    /// The actor may not (403).
    #[error("{0}")]
    Forbidden(String),
    /// A value the lists refuse (422).
    #[error("{0}")]
    Invalid(String),
    /// A status move that does not exist (409).
    #[error("a list item that is {from} cannot become {to} (open → in_progress → done, and done → open with a note)")]
    IllegalMove { from: ListStatus, to: ListStatus },
    /// The hot spot has an item that is not done (409).
    #[error("hot spot {hotspot} already has list item {item}, which is not done")]
    HotspotTaken { hotspot: String, item: u64 },
}

fn excerpt(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Checks a `YYYY-MM-DD` date (a real day, years 2000..=2199).
pub fn check_date(s: &str) -> Result<String, ListError> {
    let bad = || {
        ListError::Invalid(format!(
            "invalid due date '{}': expected YYYY-MM-DD",
            excerpt(s)
        ))
    };
    let t = s.trim();
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, ListError> {
        let p = &t[r];
        if !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(2000..=2199).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return Err(bad());
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d > days {
        return Err(bad());
    }
    Ok(t.to_string())
}

/// A text field trimmed and bounded; `required` refuses an empty one.
fn text(field: &str, v: &str, max: usize, required: bool) -> Result<String, ListError> {
    let t = v.trim();
    if required && t.is_empty() {
        return Err(ListError::Invalid(format!("{field} must not be empty")));
    }
    if t.chars().count() > max {
        return Err(ListError::Invalid(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(t.to_string())
}

impl Owner {
    /// The owner with its name trimmed and checked.
    pub fn checked(&self) -> Result<Owner, ListError> {
        Ok(Owner {
            kind: self.kind,
            name: text("owner name", &self.name, MAX_OWNER, true)?,
        })
    }
}

impl NewItem {
    /// The item with its texts trimmed and checked, its due date checked
    /// (required but for development items) and its events sorted.
    pub fn checked(&self) -> Result<NewItem, ListError> {
        let due = match (&self.due, self.kind) {
            (Some(d), _) => Some(check_date(d)?),
            (None, ListKind::Development) => None,
            (None, k) => {
                return Err(ListError::Invalid(format!(
                    "a {k} item needs a due date (YYYY-MM-DD)"
                )))
            }
        };
        let mut events = self.events.clone();
        events.sort_unstable();
        events.dedup();
        if events.len() > MAX_EVENTS {
            return Err(ListError::Invalid(format!(
                "an item links at most {MAX_EVENTS} events, not {}",
                events.len()
            )));
        }
        Ok(NewItem {
            kind: self.kind,
            area: self.area,
            title: text("title", &self.title, MAX_TITLE, true)?,
            detail: text("detail", &self.detail, MAX_DETAIL, false)?,
            category: self.category,
            owner: self.owner.checked()?,
            due,
            events,
            hotspot: self.hotspot.clone(),
        })
    }

    /// The item with its id, created by `by` at `now`, open.
    pub fn into_item(self, id: u64, by: &str, now: i64) -> ListItem {
        ListItem {
            id,
            kind: self.kind,
            area: self.area,
            title: self.title,
            detail: self.detail,
            category: self.category,
            owner: self.owner,
            status: ListStatus::Open,
            due: self.due,
            events: self.events,
            hotspot: self.hotspot,
            created_at: now,
            created_by: by.to_string(),
            updated_at: now,
        }
    }
}

/// Whether an area scope is one that manages lists for `area`: a town
/// office's town, or a unit leader's village, grid or unit, holding it.
fn manages(actor: &Actor, area: AreaId) -> bool {
    match actor.role {
        Role::TownOffice => {
            matches!(&actor.scope, Scope::Area(a) if a.level() == Some(Level::Town))
                && covers(&actor.scope, area)
        }
        Role::UnitLeader => covers(&actor.scope, area),
        _ => false,
    }
}

/// Whether `actor` owns `item` as its department.
fn owns(actor: &Actor, owner: &Owner) -> bool {
    actor.role == Role::Department
        && owner.kind == OwnerKind::Department
        && matches!(&actor.scope, Scope::Department(d) if *d == owner.name)
}

/// Checks that `actor` may create an item at `area`.
pub fn check_create(actor: &Actor, area: AreaId) -> Result<(), ListError> {
    if manages(actor, area) {
        return Ok(());
    }
    Err(ListError::Forbidden(match actor.role {
        Role::TownOffice | Role::UnitLeader => format!(
            "area {area} is outside this account's scope ({})",
            actor.scope
        ),
        r => format!(
            "list items are created by a town office or a unit leader; this account is a {r}"
        ),
    }))
}

/// Whether `actor` may read `item`.
pub fn may_read(actor: &Actor, item: &ListItem) -> bool {
    match (&actor.scope, actor.role) {
        (_, Role::ShipFeed) => false,
        (Scope::Department(_), _) => owns(actor, &item.owner),
        (scope, _) => covers(scope, item.area),
    }
}

/// Checks that `actor` may read lists at all (ship feeds may not).
pub fn check_reader(actor: &Actor) -> Result<(), ListError> {
    if actor.role == Role::ShipFeed {
        return Err(ListError::Forbidden(
            "a ship feed does not read the lists".into(),
        ));
    }
    if matches!(actor.scope, Scope::Enterprise(_) | Scope::School(_)) {
        return Err(ListError::Forbidden(
            "an enterprise's or a school's account does not read the lists".into(),
        ));
    }
    Ok(())
}

/// Whether the status move exists (a note is needed to reopen).
pub fn move_allowed(from: ListStatus, to: ListStatus) -> bool {
    matches!(
        (from, to),
        (ListStatus::Open, ListStatus::InProgress)
            | (ListStatus::InProgress, ListStatus::Done)
            | (ListStatus::Done, ListStatus::Open)
    )
}

/// Applies `u` to `item` as `actor` at `now`: checks who may, the move, the
/// values; on success the item is changed and the history entries to keep
/// are returned (one per changed field, the note with the first; a note
/// alone is a `note` entry). On failure `item` is unchanged.
pub fn apply_update(
    item: &mut ListItem,
    u: &ItemUpdate,
    actor: &Actor,
    now: i64,
) -> Result<Vec<ListChange>, ListError> {
    let manager = manages(actor, item.area);
    let owner = owns(actor, &item.owner);
    if !manager && !owner {
        return Err(ListError::Forbidden(match actor.role {
            Role::Department => format!(
                "list item {} is owned by {}, not by this department ({})",
                item.id, item.owner.name, actor.scope
            ),
            Role::TownOffice | Role::UnitLeader => format!(
                "list item {}'s area {} is outside this account's scope ({})",
                item.id, item.area, actor.scope
            ),
            r => format!("list items are changed by a town office, a unit leader or their owning department; this account is a {r}"),
        }));
    }
    if !manager && (u.owner.is_some() || u.due.is_some()) {
        return Err(ListError::Forbidden(
            "a department moves its items' status and adds notes; the owner and the due date are the town's or the village's to change".into(),
        ));
    }
    let note = match &u.note {
        Some(n) => Some(text("note", n, MAX_NOTE, false)?).filter(|n| !n.is_empty()),
        None => None,
    };
    let mut next = item.clone();
    let mut changes = Vec::new();
    let by = actor.name.clone();
    let push =
        |changes: &mut Vec<ListChange>, change: &str, from: Option<String>, to: Option<String>| {
            changes.push(ListChange {
                at: now,
                by: by.clone(),
                change: change.into(),
                from,
                to,
                note: None,
            })
        };
    if let Some(to) = u.status {
        if !move_allowed(item.status, to) {
            return Err(ListError::IllegalMove {
                from: item.status,
                to,
            });
        }
        if item.status == ListStatus::Done && note.is_none() {
            return Err(ListError::Invalid(
                "reopening a done item needs a note saying why".into(),
            ));
        }
        next.status = to;
        push(
            &mut changes,
            "status",
            Some(item.status.to_string()),
            Some(to.to_string()),
        );
    }
    if let Some(o) = &u.owner {
        let o = o.checked()?;
        if o != item.owner {
            push(
                &mut changes,
                "owner",
                Some(item.owner.name.clone()),
                Some(o.name.clone()),
            );
            next.owner = o;
        }
    }
    if let Some(d) = &u.due {
        let d = match d {
            Some(d) => Some(check_date(d)?),
            None if item.kind == ListKind::Development => None,
            None => {
                return Err(ListError::Invalid(format!(
                    "a {} item keeps a due date",
                    item.kind
                )))
            }
        };
        if d != item.due {
            push(&mut changes, "due", item.due.clone(), d.clone());
            next.due = d;
        }
    }
    if changes.is_empty() {
        match &note {
            Some(_) => push(&mut changes, "note", None, None),
            None => {
                return Err(ListError::Invalid(
                    "nothing to change: give a status, an owner, a due date or a note".into(),
                ))
            }
        }
    }
    changes[0].note = note;
    next.updated_at = now;
    *item = next;
    Ok(changes)
}

/// Whether `item` is overdue on `today` (`YYYY-MM-DD`): not done, due
/// before today.
pub fn is_overdue(item: &ListItem, today: &str) -> bool {
    item.status != ListStatus::Done && item.due.as_deref().is_some_and(|d| d < today)
}

/// Which items a list shows. Every part given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilter {
    /// The item's area is this area or lies under it.
    pub area: Option<AreaId>,
    /// Any of these kinds (empty: any).
    pub kinds: Vec<ListKind>,
    /// Any of these statuses (empty: any).
    pub statuses: Vec<ListStatus>,
    /// The owner's name is exactly this.
    pub owner: Option<String>,
    /// The owner is of this kind.
    pub owner_kind: Option<OwnerKind>,
    /// Only overdue items (`true`) or only those that are not (`false`).
    pub overdue: Option<bool>,
    /// Only the item made from this hot spot.
    pub hotspot: Option<String>,
    /// The day overdue is judged on, `YYYY-MM-DD`.
    pub today: String,
}

impl ListFilter {
    /// Whether `item` passes (the oracle the stores' queries are tested
    /// against).
    pub fn matches(&self, item: &ListItem) -> bool {
        self.area.is_none_or(|a| within(item.area, a))
            && (self.kinds.is_empty() || self.kinds.contains(&item.kind))
            && (self.statuses.is_empty() || self.statuses.contains(&item.status))
            && self.owner.as_ref().is_none_or(|o| *o == item.owner.name)
            && self.owner_kind.is_none_or(|k| k == item.owner.kind)
            && self
                .overdue
                .is_none_or(|o| o == is_overdue(item, &self.today))
            && self
                .hotspot
                .as_ref()
                .is_none_or(|h| item.hotspot.as_ref() == Some(h))
    }

    /// The area as the text prefix the stores match area codes with: an
    /// area's code is the start of every code under it, and codes of one
    /// level have one length.
    pub fn area_prefix(&self) -> Option<String> {
        self.area.map(|a| a.to_string())
    }
}

/// Whether `area` is `top` or lies under it.
pub fn within(area: AreaId, top: AreaId) -> bool {
    top.level()
        .and_then(|l| area.ancestor_at(l))
        .is_some_and(|x| x == top)
}

/// The order lists are shown in: newest item first (by id, descending).
pub fn order(a: &ListItem, b: &ListItem) -> std::cmp::Ordering {
    b.id.cmp(&a.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VILLAGE: u64 = 350_302_001_002;

    fn actor(role: Role, scope: Scope) -> Actor {
        Actor {
            role,
            scope,
            name: "张三".into(),
            account: "tok_x".into(),
        }
    }

    fn item() -> ListItem {
        NewItem {
            kind: ListKind::Problem,
            area: AreaId::new(VILLAGE).unwrap(),
            title: " 积水 ".into(),
            detail: String::new(),
            category: ListCategory::Drainage,
            owner: Owner {
                kind: OwnerKind::Department,
                name: "水务局".into(),
            },
            due: Some("2026-03-01".into()),
            events: vec![3, 1, 3],
            hotspot: None,
        }
        .checked()
        .unwrap()
        .into_item(7, "张三", 100)
    }

    #[test]
    fn dates_are_checked() {
        for ok in ["2024-02-29", "2026-12-31", "2000-01-01"] {
            assert_eq!(check_date(ok).unwrap(), ok);
        }
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-04-31",
            "",
            "2026-01-0a",
            "1999-12-31",
            "２０２６-01-01",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_items_are_cleaned_and_checked() {
        let i = item();
        assert_eq!(i.title, "积水");
        assert_eq!(i.events, vec![1, 3]);
        assert_eq!(i.status, ListStatus::Open);
        let mut n = NewItem {
            kind: ListKind::Task,
            area: i.area,
            title: "x".into(),
            detail: String::new(),
            category: ListCategory::Road,
            owner: i.owner.clone(),
            due: None,
            events: vec![],
            hotspot: None,
        };
        assert!(n.checked().is_err(), "a task needs a due date");
        n.kind = ListKind::Development;
        assert!(n.checked().is_ok());
        n.title = "  ".into();
        assert!(n.checked().is_err());
        n.title = "t".repeat(MAX_TITLE + 1);
        assert!(n.checked().is_err());
    }

    #[test]
    fn who_may_do_what() {
        let i = item();
        let town = actor(
            Role::TownOffice,
            Scope::Area(AreaId::new(350_302_001).unwrap()),
        );
        let other = actor(
            Role::TownOffice,
            Scope::Area(AreaId::new(350_302_002).unwrap()),
        );
        let leader = actor(Role::UnitLeader, Scope::Area(i.area));
        let grid_leader = actor(
            Role::UnitLeader,
            Scope::Area(AreaId::new(VILLAGE * 1000 + 1).unwrap()),
        );
        let dept = actor(Role::Department, Scope::Department("水务局".into()));
        let other_dept = actor(Role::Department, Scope::Department("城管局".into()));
        let viewer = actor(Role::Viewer, Scope::City);
        let feed = actor(Role::ShipFeed, Scope::City);
        assert!(check_create(&town, i.area).is_ok());
        assert!(check_create(&leader, i.area).is_ok());
        for a in [&other, &grid_leader, &dept, &viewer, &feed] {
            assert!(matches!(
                check_create(a, i.area),
                Err(ListError::Forbidden(_))
            ));
        }
        for a in [&town, &leader, &dept, &viewer] {
            assert!(may_read(a, &i), "{:?}", a.role);
        }
        for a in [&other, &grid_leader, &other_dept, &feed] {
            assert!(!may_read(a, &i), "{:?}", a.role);
        }
        let go = ItemUpdate {
            status: Some(ListStatus::InProgress),
            ..Default::default()
        };
        for a in [&other, &grid_leader, &other_dept, &viewer, &feed] {
            let mut j = i.clone();
            assert!(matches!(
                apply_update(&mut j, &go, a, 5),
                Err(ListError::Forbidden(_))
            ));
            assert_eq!(j, i, "unchanged");
        }
        let mut j = i.clone();
        apply_update(&mut j, &go, &dept, 5).unwrap();
        assert_eq!(j.status, ListStatus::InProgress);
        let reown = ItemUpdate {
            owner: Some(Owner {
                kind: OwnerKind::Person,
                name: "李四".into(),
            }),
            ..Default::default()
        };
        assert!(apply_update(&mut j, &reown, &dept, 6).is_err());
        apply_update(&mut j, &reown, &town, 6).unwrap();
        assert_eq!(j.owner.name, "李四");
    }

    #[test]
    fn status_moves_and_history() {
        let town = actor(
            Role::TownOffice,
            Scope::Area(AreaId::new(350_302_001).unwrap()),
        );
        let mut i = item();
        let to = |s| ItemUpdate {
            status: Some(s),
            ..Default::default()
        };
        assert!(matches!(
            apply_update(&mut i, &to(ListStatus::Done), &town, 1),
            Err(ListError::IllegalMove { .. })
        ));
        let h = apply_update(&mut i, &to(ListStatus::InProgress), &town, 2).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].from.as_deref(), Some("open"));
        apply_update(&mut i, &to(ListStatus::Done), &town, 3).unwrap();
        assert!(matches!(
            apply_update(&mut i, &to(ListStatus::Open), &town, 4),
            Err(ListError::Invalid(_))
        ));
        let mut reopen = to(ListStatus::Open);
        reopen.note = Some("又积水了".into());
        reopen.due = Some(Some("2026-05-01".into()));
        let h = apply_update(&mut i, &reopen, &town, 5).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].note.as_deref(), Some("又积水了"));
        assert_eq!(i.due.as_deref(), Some("2026-05-01"));
        assert_eq!(i.updated_at, 5);
        let empty = ItemUpdate::default();
        assert!(apply_update(&mut i, &empty, &town, 6).is_err());
    }

    #[test]
    fn filters_and_overdue() {
        let mut i = item();
        let today = "2026-03-02".to_string();
        assert!(is_overdue(&i, &today));
        assert!(!is_overdue(&i, "2026-03-01"));
        let f = ListFilter {
            area: Some(AreaId::new(350_302_001).unwrap()),
            kinds: vec![ListKind::Problem],
            statuses: vec![ListStatus::Open, ListStatus::InProgress],
            overdue: Some(true),
            today: today.clone(),
            ..Default::default()
        };
        assert!(f.matches(&i));
        i.status = ListStatus::Done;
        assert!(!f.matches(&i));
        let g = ListFilter {
            area: Some(AreaId::new(350_302_002).unwrap()),
            today,
            ..Default::default()
        };
        assert!(!g.matches(&i));
        assert!(within(i.area, i.area));
        assert!(!within(AreaId::new(350_302_001).unwrap(), i.area));
    }
}
