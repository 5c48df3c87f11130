//! The problem, development and task lists: the one write path (create,
//! create from a hot spot, change) and the reads, each checked against the
//! actor (`onemap_core::lists`) and the city (areas and events that exist).
//! Nothing on the map changes, so no snapshot is built.

use crate::{Live, LiveError};
use onemap_core::lists::{
    check_create, check_reader, may_read, within, ItemUpdate, ListChange, ListError, ListFilter,
    ListItem, NewItem, Owner, OwnerKind,
};
use onemap_core::workflow::{Actor, Scope};
use onemap_core::{AreaId, EventCategory, Layer, ListCategory, ListKind, Role};
use onemap_index::{Hotspot, PlaceKey, TimeWindow};
use onemap_store::ListPage;

/// The fewest events a hot spot made into a problem item has, unless the
/// caller says otherwise.
pub const HOTSPOT_MIN: u32 = 10;
/// Days a problem made from a hot spot is due in, unless given.
pub const HOTSPOT_DUE_DAYS: i64 = 30;

/// A hot spot to make a problem item of: its events' category and place,
/// the window it was counted over, and the fewest events it must have.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotSpec {
    pub category: EventCategory,
    pub place: PlaceKey,
    pub window: TimeWindow,
    pub min_count: u32,
}

impl HotspotSpec {
    /// The key an item made from it keeps (one item not done per key).
    pub fn key(&self) -> String {
        match &self.place {
            PlaceKey::Unit { id } => format!("unit:{id}:{}", self.category),
            PlaceKey::Cell { cell, resolution } => {
                format!("h3:{resolution}:{cell}:{}", self.category)
            }
        }
    }
}

/// What the caller adds to a hot spot's item (each optional).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HotspotExtras {
    pub title: Option<String>,
    pub detail: Option<String>,
    pub owner: Option<Owner>,
    pub due: Option<String>,
}

/// Today in China time, `YYYY-MM-DD`: what overdue is judged on.
pub fn today() -> String {
    onemap_core::time::cst_date(onemap_core::time::now())
}

fn category_zh(c: EventCategory) -> &'static str {
    match c {
        EventCategory::Drainage => "排水积水",
        EventCategory::Sanitation => "环境卫生",
        EventCategory::Dispute => "矛盾纠纷",
        EventCategory::Road => "道路交通",
        EventCategory::SafetyHazard => "安全隐患",
        EventCategory::IllegalBuilding => "违章建筑",
        EventCategory::PublicOrder => "社会治安",
        EventCategory::Other => "其他",
    }
}

impl Live {
    fn known_area(&self, area: AreaId) -> Result<(), LiveError> {
        if self.city().areas().get(area).is_none() {
            return Err(onemap_index::IndexError::UnknownArea(area).into());
        }
        Ok(())
    }

    /// An area's name, if the city has it.
    pub fn area_name(&self, area: AreaId) -> Option<String> {
        self.city().areas().get(area).map(|a| a.name.clone())
    }

    /// A page of the lists for `who`: the filter narrowed to what the
    /// actor reads (its own area when none is given; a department its own
    /// items), an area outside its scope refused.
    pub async fn list_page(
        &self,
        who: &Actor,
        mut f: ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<ListPage, LiveError> {
        check_reader(who).map_err(LiveError::from)?;
        if let Some(a) = f.area {
            self.known_area(a)?;
        }
        match &who.scope {
            Scope::City => {}
            Scope::Area(mine) => match f.area {
                None => f.area = Some(*mine),
                Some(a) if within(a, *mine) => {}
                Some(a) => {
                    return Err(ListError::Forbidden(format!(
                        "area {a} is outside this account's scope ({})",
                        who.scope
                    ))
                    .into())
                }
            },
            Scope::Enterprise(_) | Scope::School(_) => {
                return Err(ListError::Forbidden(
                    "an enterprise's or a school's account does not read the lists".into(),
                )
                .into())
            }
            Scope::Department(d) => {
                if f.owner.as_ref().is_some_and(|o| o != d)
                    || f.owner_kind == Some(OwnerKind::Person)
                {
                    return Ok(ListPage {
                        total: 0,
                        rows: vec![],
                    });
                }
                f.owner = Some(d.clone());
                f.owner_kind = Some(OwnerKind::Department);
            }
        }
        Ok(self.store()?.list_page(f, offset, limit).await?)
    }

    /// An item with its history, for a reader it is open to.
    pub async fn list_item(
        &self,
        who: &Actor,
        id: u64,
    ) -> Result<(ListItem, Vec<ListChange>), LiveError> {
        check_reader(who).map_err(LiveError::from)?;
        let (item, history) = self
            .store()?
            .list_item(id)
            .await?
            .ok_or(ListError::UnknownItem(id))?;
        if !may_read(who, &item) {
            return Err(ListError::Forbidden(format!(
                "list item {id} is outside this account's scope ({})",
                who.scope
            ))
            .into());
        }
        Ok((item, history))
    }

    /// Creates an item by `who` (a town office or unit leader over its
    /// area); its area and linked events must be the city's.
    pub async fn list_create(&self, who: &Actor, new: NewItem) -> Result<ListItem, LiveError> {
        check_create(who, new.area).map_err(LiveError::from)?;
        self.known_area(new.area)?;
        let city = self.city();
        if let Some(e) = new
            .events
            .iter()
            .find(|e| city.feature(Layer::Events, **e).is_none())
        {
            return Err(ListError::Invalid(format!("no event {e} in this city to link")).into());
        }
        Ok(self
            .store()?
            .list_create(new, who.name.clone(), onemap_core::time::now())
            .await?)
    }

    /// Makes a hot spot a problem item in one step: the hot spot's village,
    /// a title and detail saying what keeps coming back, its category, and
    /// every event of it linked (up to [`onemap_core::lists::MAX_EVENTS`],
    /// the latest). Refused while the hot spot has an item not done.
    pub async fn list_from_hotspot(
        &self,
        who: &Actor,
        spec: HotspotSpec,
        extras: HotspotExtras,
    ) -> Result<(ListItem, Hotspot), LiveError> {
        if !matches!(who.role, Role::TownOffice | Role::UnitLeader) {
            return Err(ListError::Forbidden(format!(
                "list items are created by a town office or a unit leader; this account is a {}",
                who.role
            ))
            .into());
        }
        let city = self.city();
        let (spot, mut ids) = city
            .hotspot_at(spec.category, &spec.place, &spec.window)?
            .filter(|(h, _)| h.count >= u64::from(spec.min_count.max(1)))
            .ok_or_else(|| {
                LiveError::NotAHotspot(format!(
                    "fewer than {} {} events at this place in the window: not a hot spot",
                    spec.min_count.max(1),
                    spec.category
                ))
            })?;
        let village = spot.village.as_ref().ok_or_else(|| {
            LiveError::NotAHotspot("the hot spot lies in no village of the city".into())
        })?;
        let place_name = spot
            .unit
            .as_ref()
            .map_or_else(|| village.name.to_string(), |u| u.name.to_string());
        if ids.len() > onemap_core::lists::MAX_EVENTS {
            ids.drain(..ids.len() - onemap_core::lists::MAX_EVENTS);
        }
        let date = onemap_core::time::cst_date;
        let now = onemap_core::time::now();
        let new = NewItem {
            kind: ListKind::Problem,
            area: village.id,
            title: extras.title.unwrap_or_else(|| {
                format!(
                    "{place_name}{}问题反复出现（{}次）",
                    category_zh(spec.category),
                    spot.count
                )
            }),
            detail: extras.detail.unwrap_or_else(|| {
                format!(
                    "热点：{} 至 {} 在{}共上报{}起{}事件，其中{}起未办结。",
                    date(spot.first_reported_at),
                    date(spot.last_reported_at),
                    place_name,
                    spot.count,
                    category_zh(spec.category),
                    spot.open
                )
            }),
            category: ListCategory::of_event(spec.category),
            owner: extras.owner.unwrap_or(Owner {
                kind: OwnerKind::Person,
                name: who.name.clone(),
            }),
            due: Some(
                extras
                    .due
                    .unwrap_or_else(|| date(now + HOTSPOT_DUE_DAYS * 86_400)),
            ),
            events: ids,
            hotspot: Some(spec.key()),
        };
        check_create(who, new.area).map_err(LiveError::from)?;
        let item = self
            .store()?
            .list_create(new, who.name.clone(), now)
            .await?;
        Ok((item, spot))
    }

    /// Changes an item as `who` (status, owner, due date, note); the item
    /// and its whole history.
    pub async fn list_update(
        &self,
        who: &Actor,
        id: u64,
        u: ItemUpdate,
    ) -> Result<(ListItem, Vec<ListChange>), LiveError> {
        if who.role == Role::ShipFeed || who.role == Role::Viewer {
            return Err(ListError::Forbidden(format!(
                "list items are changed by a town office, a unit leader or their owning department; this account is a {}",
                who.role
            ))
            .into());
        }
        Ok(self
            .store()?
            .list_update(id, u, who.clone(), onemap_core::time::now())
            .await?)
    }
}
