//! Hot spots: places where the same kind of problem keeps being reported.

use crate::city::City;
use crate::details::AreaRef;
use crate::filter::{check_limit, EventMask, TimeWindow};
use crate::h3;
use crate::stats::Scope;
use crate::tree::NONE;
use crate::IndexError;
use geo::Centroid;
use onemap_core::{AreaId, EventCategory, EventStatus, Level};
use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};

/// What a hot spot's place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HotspotPlace {
    /// The unit holding the events.
    Unit,
    /// An H3 cell at this resolution (see [`crate::HOTSPOT_RESOLUTIONS`]).
    H3(u8),
}

/// Which hot spots to list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotspotQuery {
    #[serde(default)]
    pub window: TimeWindow,
    pub place: HotspotPlace,
    /// Groups with fewer events are left out.
    pub min_count: u32,
    #[serde(default)]
    pub categories: Option<Vec<EventCategory>>,
    #[serde(default)]
    pub scope: Option<Scope>,
    /// At most this many hot spots (1..=`MAX_LIMIT`).
    pub limit: usize,
}

/// Where a hot spot is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PlaceKey {
    Unit { id: AreaId },
    Cell { cell: String, resolution: u8 },
}

/// One (category, place) group with at least `min_count` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotspot {
    pub category: EventCategory,
    pub place: PlaceKey,
    pub count: u64,
    pub open: u64,
    pub first_reported_at: i64,
    pub last_reported_at: i64,
    /// The place's centroid (the cell's centre, or the unit's centroid).
    pub lon: f64,
    pub lat: f64,
    /// The unit of the place: the unit itself, or the unit holding the
    /// cell's centre (else the unit of the group's earliest event).
    pub unit: Option<AreaRef>,
    pub village: Option<AreaRef>,
}

/// A group counted: its place (a unit position or a cell), category,
/// counts, and first and last event positions.
struct Group {
    place: u64,
    category: u8,
    count: u64,
    open: u64,
    first: u32,
    last: u32,
}

/// A group being counted.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    count: u32,
    open: u32,
    first: u32,
    last: u32,
}

impl City {
    /// Groups events in the window (and scope, and categories) by (category,
    /// place) and lists the groups with at least `min_count` events, by count
    /// (descending), then category, then place.
    pub fn hotspots(&self, q: &HotspotQuery) -> Result<Vec<Hotspot>, IndexError> {
        q.window.check()?;
        check_limit(q.limit)?;
        let res = match q.place {
            HotspotPlace::Unit => None,
            HotspotPlace::H3(r) => Some(h3::resolution(
                r,
                h3::HOTSPOT_RESOLUTIONS,
                "hot-spot places",
            )?),
        };
        let scope = self.resolve_scope(q.scope.as_ref())?;
        let mask = EventMask::new(q.categories.as_deref(), None);
        let (ev, ps) = (&self.ev, &self.events);
        let closed = EventStatus::Closed.code();
        let add = |acc: &mut Acc, p: usize| {
            if acc.count == 0 {
                acc.first = p as u32;
            }
            acc.count += 1;
            acc.open += u32::from(ev.status[p] != closed);
            acc.last = p as u32;
        };
        let window = self.window_range(&q.window);
        let keep =
            |p: usize| mask.accepts(ev.category[p], ev.status[p]) && self.event_in(&scope, p);
        // Positions ascend with reported_at, so a group's first and last
        // positions are its first and last reports.
        let min = q.min_count.max(1);
        let group = |place: u64, category: u8, a: Acc| Group {
            place,
            category,
            count: u64::from(a.count),
            open: u64::from(a.open),
            first: a.first,
            last: a.last,
        };
        // The best `limit` groups are kept as they come: never more than
        // twice that many at once, however many places there are.
        let order = |a: &Group, b: &Group| {
            b.count
                .cmp(&a.count)
                .then(a.category.cmp(&b.category))
                .then(a.place.cmp(&b.place))
        };
        let mut groups: Vec<Group> = Vec::new();
        let mut push = |g: Group| {
            groups.push(g);
            if groups.len() >= 2 * q.limit {
                groups.select_nth_unstable_by(q.limit - 1, order);
                groups.truncate(q.limit);
            }
        };
        match res {
            None => {
                // Dense: one slot per (unit, category).
                let mut slots = vec![Acc::default(); self.areas.level(Level::Unit).len() * 8];
                for p in window.filter(|&p| keep(p)) {
                    let u = ps.unit[p];
                    if u != NONE {
                        add(&mut slots[u as usize * 8 + ev.category[p] as usize], p);
                    }
                }
                for (i, a) in slots.into_iter().enumerate() {
                    if a.count >= min {
                        push(group((i / 8) as u64, (i % 8) as u8, a));
                    }
                }
            }
            Some(r) => {
                // Sorted by (cell, category, position), each group is a run
                // with its positions ascending: 16 bytes an event, where a
                // hash map of a group per event took several times that.
                let at = ps.cells_at(r);
                let mut keys: Vec<(u64, u8, u32)> = window
                    .filter(|&p| keep(p))
                    .map(|p| (u64::from(at.get(p)), ev.category[p], p as u32))
                    .collect();
                keys.par_sort_unstable();
                for run in keys.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
                    let mut acc = Acc::default();
                    for &(_, _, p) in run {
                        add(&mut acc, p as usize);
                    }
                    if acc.count >= min {
                        push(group(run[0].0, run[0].1, acc));
                    }
                }
            }
        }
        groups.sort_unstable_by(order);
        groups.truncate(q.limit);
        Ok(groups
            .into_iter()
            .map(|g| self.hotspot_of(res, g))
            .collect())
    }

    /// The hot spot document of a counted group.
    fn hotspot_of(&self, res: Option<h3o::Resolution>, g: Group) -> Hotspot {
        let (ev, ps) = (&self.ev, &self.events);
        let (place, lon, lat, u) = match res {
            None => {
                let u = g.place as u32;
                let a = self.area_at(Level::Unit, u);
                let c = a
                    .geometry
                    .centroid()
                    .map_or((f64::NAN, f64::NAN), |c| (c.x(), c.y()));
                (PlaceKey::Unit { id: a.id }, c.0, c.1, u)
            }
            Some(r) => {
                let cell = h3o::CellIndex::try_from(g.place).expect("a stored cell");
                let (lon, lat) = h3::center(cell);
                let u = match self.locate_pos(lon, lat) {
                    NONE => ps.unit[g.first as usize],
                    u => u,
                };
                let key = PlaceKey::Cell {
                    cell: cell.to_string(),
                    resolution: u8::from(r),
                };
                (key, lon, lat, u)
            }
        };
        let (unit, village) = match u {
            NONE => (None, None),
            u => (
                Some(self.area_ref(Level::Unit, u)),
                Some(self.area_ref(Level::Village, self.tables.ancestor(u, Level::Village))),
            ),
        };
        Hotspot {
            category: EventCategory::from_code(g.category).expect("stored code"),
            place,
            count: g.count,
            open: g.open,
            first_reported_at: ev.reported_at[g.first as usize],
            last_reported_at: ev.reported_at[g.last as usize],
            lon,
            lat,
            unit,
            village,
        }
    }

    /// One hot spot by its key: the events of `category` at `place` in the
    /// window (a unit, or an H3 cell at one of
    /// [`crate::HOTSPOT_RESOLUTIONS`]), counted as [`City::hotspots`] counts
    /// them, with their ids ascending; `None` when there are none.
    pub fn hotspot_at(
        &self,
        category: EventCategory,
        place: &PlaceKey,
        window: &TimeWindow,
    ) -> Result<Option<(Hotspot, Vec<u64>)>, IndexError> {
        window.check()?;
        let ps = &self.events;
        let (res, slot): (Option<h3o::Resolution>, u64) = match place {
            PlaceKey::Unit { id } => {
                let (l, p) = self.resolve(*id)?;
                if l != Level::Unit {
                    return Err(IndexError::UnknownPlace(format!("{id} is not a unit's id")));
                }
                (None, u64::from(p))
            }
            PlaceKey::Cell { cell, resolution } => {
                let r = h3::resolution(*resolution, h3::HOTSPOT_RESOLUTIONS, "hot-spot places")?;
                let c: h3o::CellIndex = cell
                    .parse()
                    .map_err(|_| IndexError::UnknownPlace(format!("'{cell}' is not an H3 cell")))?;
                if c.resolution() != r {
                    return Err(IndexError::UnknownPlace(format!(
                        "cell {cell} is not at resolution {resolution}"
                    )));
                }
                (Some(r), u64::from(c))
            }
        };
        let code = category.code();
        let closed = EventStatus::Closed.code();
        let at = res.map(|r| ps.cells_at(r));
        let mut acc = Acc::default();
        let mut ids = Vec::new();
        for p in self.window_range(window) {
            if self.ev.category[p] != code {
                continue;
            }
            let here = match &at {
                None => u64::from(ps.unit[p]) == slot && ps.unit[p] != NONE,
                Some(at) => u64::from(at.get(p)) == slot,
            };
            if !here {
                continue;
            }
            if acc.count == 0 {
                acc.first = p as u32;
            }
            acc.count += 1;
            acc.open += u32::from(self.ev.status[p] != closed);
            acc.last = p as u32;
            ids.push(ps.ids[p]);
        }
        if acc.count == 0 {
            return Ok(None);
        }
        ids.sort_unstable();
        let g = Group {
            place: slot,
            category: code,
            count: u64::from(acc.count),
            open: u64::from(acc.open),
            first: acc.first,
            last: acc.last,
        };
        Ok(Some((self.hotspot_of(res, g), ids)))
    }
}
