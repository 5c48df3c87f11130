//! Event figures grouped by area level or H3 cell.
//!
//! Events are stored by `reported_at`, so a window is a slice; each event
//! carries its unit position, and each unit its ancestors, so counting per
//! area is an array increment.

use crate::city::City;
use crate::filter::TimeWindow;
use crate::h3;
use crate::tree::{id_range, NONE};
use crate::IndexError;
use onemap_core::deadlines::Cutoffs;
use onemap_core::{AreaId, BBox, EventCategory, EventStatus, Level};
use rstar::AABB;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::Arc;

/// The most groups one answer lists (grids city-wide are about 10,000;
/// units are 130,000, so they are asked for under an area). Beyond it the
/// answer is refused (`IndexError::TooManyGroups`), and H3 counting stops
/// as soon as it passes the limit, so neither the work's memory nor the
/// answer grows with the city.
pub const MAX_GROUPS: usize = 20_000;

/// How to group events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// By the area holding the event at this level.
    Level(Level),
    /// By H3 cell at this resolution (see [`crate::STATS_RESOLUTIONS`]).
    H3(u8),
}

/// Where to count events: under an area, or inside a box (at most
/// [`crate::MAX_BBOX_DEGREES`] on a side).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Area(AreaId),
    #[serde(rename = "bbox")]
    BBox(BBox),
}

/// An aggregate query over events.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatsQuery {
    pub group_by: GroupBy,
    #[serde(default)]
    pub window: TimeWindow,
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// Event counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub reported: u64,
    pub discussing: u64,
    pub routed: u64,
    pub handled: u64,
    pub fed_back: u64,
    pub closed: u64,
}

impl StatusCounts {
    /// From counts indexed by [`EventStatus`] code.
    pub(crate) fn from_codes(by: [u64; 6]) -> Self {
        let s = |x: EventStatus| by[x.code() as usize];
        StatusCounts {
            reported: s(EventStatus::Reported),
            discussing: s(EventStatus::Discussing),
            routed: s(EventStatus::Routed),
            handled: s(EventStatus::Handled),
            fed_back: s(EventStatus::FedBack),
            closed: s(EventStatus::Closed),
        }
    }
}

/// Event counts per category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCounts {
    pub drainage: u64,
    pub sanitation: u64,
    pub dispute: u64,
    pub road: u64,
    pub safety_hazard: u64,
    pub illegal_building: u64,
    pub public_order: u64,
    pub other: u64,
}

/// The headline figures of a set of events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub total: u64,
    /// Events not yet closed.
    pub open: u64,
    pub closed: u64,
    /// closed / total; None when there are no events.
    pub closure_rate: Option<f64>,
}

/// What a group holds: figures and counts per status and category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    #[serde(flatten)]
    pub figures: Figures,
    pub by_status: StatusCounts,
    pub by_category: CategoryCounts,
    /// Open events past the limit of the step they wait for (only when the
    /// question named a moment and its limits: see [`City::event_stats_due`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<u64>,
}

/// What a group is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GroupKey {
    Area {
        id: AreaId,
        level: Level,
        name: Arc<str>,
    },
    Cell {
        /// The H3 cell in hex.
        cell: String,
        resolution: u8,
    },
}

/// One group of an aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    pub key: GroupKey,
    #[serde(flatten)]
    pub tally: Tally,
}

/// The answer to a [`StatsQuery`]. Area groups list every area of the level
/// in scope (all of them; those under the scope area, or its ancestor; those
/// whose box meets the scope box), empty ones included, in id order. Cell
/// groups list the cells holding events, in cell order. `overall` counts
/// every event in scope, including events outside every unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    pub group_by: GroupBy,
    pub window: TimeWindow,
    pub scope: Option<Scope>,
    pub overall: Tally,
    pub groups: Vec<GroupStats>,
}

/// Raw counts, indexed by code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) status: [u32; 6],
    pub(crate) category: [u32; 8],
    pub(crate) overdue: u32,
}

impl Counts {
    #[inline]
    pub(crate) fn add(&mut self, category: u8, status: u8) {
        self.status[status as usize] += 1;
        self.category[category as usize] += 1;
    }

    /// [`Counts::add`], counting the event as overdue too when it is.
    #[inline]
    fn add_due(&mut self, category: u8, status: u8, overdue: bool) {
        self.add(category, status);
        self.overdue += u32::from(overdue);
    }

    pub(crate) fn total(&self) -> u64 {
        self.status.iter().map(|&c| u64::from(c)).sum()
    }

    pub(crate) fn figures(&self) -> Figures {
        figures(
            self.total(),
            u64::from(self.status[EventStatus::Closed.code() as usize]),
        )
    }

    pub(crate) fn tally(&self) -> Tally {
        let c = |x: EventCategory| u64::from(self.category[x.code() as usize]);
        Tally {
            figures: self.figures(),
            by_status: StatusCounts::from_codes(self.status.map(u64::from)),
            by_category: CategoryCounts {
                drainage: c(EventCategory::Drainage),
                sanitation: c(EventCategory::Sanitation),
                dispute: c(EventCategory::Dispute),
                road: c(EventCategory::Road),
                safety_hazard: c(EventCategory::SafetyHazard),
                illegal_building: c(EventCategory::IllegalBuilding),
                public_order: c(EventCategory::PublicOrder),
                other: c(EventCategory::Other),
            },
            overdue: None,
        }
    }

    fn tally_due(&self, due: Option<&Cutoffs>) -> Tally {
        Tally {
            overdue: due.map(|_| u64::from(self.overdue)),
            ..self.tally()
        }
    }
}

pub(crate) fn figures(total: u64, closed: u64) -> Figures {
    Figures {
        total,
        open: total - closed,
        closed,
        closure_rate: (total > 0).then(|| closed as f64 / total as f64),
    }
}

/// A scope resolved to positions: a unit range, a box, or nothing.
pub(crate) struct Resolved {
    pub(crate) units: Option<Range<u32>>,
    pub(crate) bbox: Option<[f64; 4]>,
    /// The scope area's level and position.
    pub(crate) area: Option<(Level, u32)>,
}

impl City {
    pub(crate) fn resolve_scope(&self, scope: Option<&Scope>) -> Result<Resolved, IndexError> {
        Ok(match scope {
            None => Resolved {
                units: None,
                bbox: None,
                area: None,
            },
            Some(Scope::Area(id)) => {
                let (l, p) = self.resolve(*id)?;
                Resolved {
                    units: Some(self.tables.unit_range(l, p)),
                    bbox: None,
                    area: Some((l, p)),
                }
            }
            Some(Scope::BBox(b)) => {
                let b = BBox::new(b.min_lon, b.min_lat, b.max_lon, b.max_lat)?;
                crate::filter::check_query_bbox(&b)?;
                Resolved {
                    units: None,
                    bbox: Some([b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
                    area: None,
                }
            }
        })
    }

    /// Whether event position `p` lies in a resolved scope.
    #[inline]
    pub(crate) fn event_in(&self, r: &Resolved, p: usize) -> bool {
        let ps = &self.events;
        r.units.as_ref().is_none_or(|u| u.contains(&ps.unit[p]))
            && r.bbox.as_ref().is_none_or(|b| {
                let (x, y) = (ps.lon[p], ps.lat[p]);
                x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]
            })
    }

    /// Whether the event at position `p` is overdue by `due` (never without).
    #[inline]
    pub(crate) fn is_overdue(&self, p: usize, due: Option<&Cutoffs>) -> bool {
        due.is_some_and(|c| self.ev.status_at[p] < c[self.ev.status[p] as usize])
    }

    /// Event counts grouped by area level or H3 cell, in a window and scope.
    pub fn event_stats(&self, q: &StatsQuery) -> Result<StatsReport, IndexError> {
        self.event_stats_capped(q, MAX_GROUPS)
    }

    /// [`City::event_stats`] with at most `max_groups` groups (a server's
    /// own limit).
    pub fn event_stats_capped(
        &self,
        q: &StatsQuery,
        max_groups: usize,
    ) -> Result<StatsReport, IndexError> {
        self.event_stats_due(q, max_groups, None)
    }

    /// [`City::event_stats_capped`] that also counts, per group, the open
    /// events overdue at the moment `due` was made for
    /// ([`onemap_core::Deadlines::cutoffs`]).
    pub fn event_stats_due(
        &self,
        q: &StatsQuery,
        max_groups: usize,
        due: Option<&Cutoffs>,
    ) -> Result<StatsReport, IndexError> {
        q.window.check()?;
        let scope = self.resolve_scope(q.scope.as_ref())?;
        let window = self.window_range(&q.window);
        let (overall, groups) = match q.group_by {
            GroupBy::Level(level) => self.stats_by_level(level, &scope, window, max_groups, due)?,
            GroupBy::H3(res) => {
                let r = h3::resolution(res, h3::STATS_RESOLUTIONS, "event aggregates")?;
                self.stats_by_cell(r, &scope, window, max_groups, due)?
            }
        };
        Ok(StatsReport {
            group_by: q.group_by,
            window: q.window,
            scope: q.scope,
            overall: overall.tally_due(due),
            groups,
        })
    }

    fn stats_by_level(
        &self,
        level: Level,
        scope: &Resolved,
        window: Range<usize>,
        max_groups: usize,
        due: Option<&Cutoffs>,
    ) -> Result<(Counts, Vec<GroupStats>), IndexError> {
        let n = self.areas.level(level).len();
        let mut counts = vec![Counts::default(); n];
        let mut overall = Counts::default();
        let (ev, ps) = (&self.ev, &self.events);
        let anc = self.tables.ancestors(level);
        for p in window {
            if !self.event_in(scope, p) {
                continue;
            }
            let (c, s) = (ev.category[p], ev.status[p]);
            let late = self.is_overdue(p, due);
            overall.add_due(c, s, late);
            let u = ps.unit[p];
            if u != NONE {
                let g = anc.map_or(u, |a| a[u as usize]);
                counts[g as usize].add_due(c, s, late);
            }
        }
        let mut listed = vec![false; n];
        match (scope.area, scope.bbox) {
            (Some((l, pos)), _) => {
                if level >= l {
                    let id = self.area_at(l, pos).id;
                    for g in id_range(self.areas.level(level), id, level) {
                        listed[g as usize] = true;
                    }
                } else {
                    let mut a = (l, pos);
                    while a.0 > level {
                        let parent = a.0.parent().expect("above units");
                        a = (parent, self.tables.parent(a.0, a.1).expect("has a parent"));
                    }
                    listed[a.1 as usize] = true;
                }
            }
            (None, Some(b)) => {
                let env = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
                for e in self.level_trees[level.depth()].locate_in_envelope_intersecting(&env) {
                    listed[e.data as usize] = true;
                }
            }
            (None, None) => listed.iter_mut().for_each(|l| *l = true),
        }
        let areas = self.areas.level(level);
        let listed_or_counted = |g: usize| listed[g] || counts[g] != Counts::default();
        let count = (0..n).filter(|&g| listed_or_counted(g)).count();
        if count > max_groups {
            return Err(IndexError::TooManyGroups {
                by: level.as_str().to_string(),
                max: max_groups,
                found: format!(" ({count})"),
                hint: "ask under an area (area=ID: a town holds a few thousand units) or inside a smaller bbox",
            });
        }
        let mut groups = Vec::with_capacity(count);
        groups.extend(
            (0..n)
                .filter(|&g| listed_or_counted(g))
                .map(|g| GroupStats {
                    key: GroupKey::Area {
                        id: areas[g].id,
                        level,
                        name: self.name(level, g as u32),
                    },
                    tally: counts[g].tally_due(due),
                }),
        );
        Ok((overall, groups))
    }

    fn stats_by_cell(
        &self,
        res: h3o::Resolution,
        scope: &Resolved,
        window: Range<usize>,
        max_groups: usize,
        due: Option<&Cutoffs>,
    ) -> Result<(Counts, Vec<GroupStats>), IndexError> {
        let ev = &self.ev;
        let at = self.events.cells_at(res);
        let mut overall = Counts::default();
        let mut cells: FastMap<u64, Counts> = FastMap::default();
        for p in window {
            if self.event_in(scope, p) {
                let (c, s) = (ev.category[p], ev.status[p]);
                let late = self.is_overdue(p, due);
                overall.add_due(c, s, late);
                let cell = u64::from(at.get(p));
                if cells.len() == max_groups && !cells.contains_key(&cell) {
                    return Err(IndexError::TooManyGroups {
                        by: format!("h3:{}", u8::from(res)),
                        max: max_groups,
                        found: String::new(),
                        hint: "use a coarser resolution, a shorter time window (from=, to=), or ask under an area (area=) or inside a smaller bbox",
                    });
                }
                cells.entry(cell).or_default().add_due(c, s, late);
            }
        }
        let mut cells: Vec<(u64, Counts)> = cells.into_iter().collect();
        cells.sort_unstable_by_key(|c| c.0);
        let groups = cells
            .into_iter()
            .map(|(cell, c)| GroupStats {
                key: GroupKey::Cell {
                    cell: h3o::CellIndex::try_from(cell)
                        .expect("a stored cell")
                        .to_string(),
                    resolution: u8::from(res),
                },
                tally: c.tally_due(due),
            })
            .collect();
        Ok((overall, groups))
    }
}

/// Hashes integer keys with SplitMix64's finalizer: fast, and well mixed in
/// the low bits (H3 cells of one resolution share their low bits, which would
/// defeat a multiplicative hash).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        let mut z = (self.0 ^ v).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.0 = z ^ (z >> 31);
    }
}

/// A hash map keyed by integers (cells, positions).
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

#[cfg(test)]
mod cap_tests {
    use super::*;
    use crate::fixture::{build, FixtureConfig};

    /// An answer of exactly the cap is given whole, as without a cap; one
    /// group more is refused, whether the groups are areas (counted before
    /// the answer is made) or cells (counting stops at the cap).
    #[test]
    fn groups_beyond_the_cap_are_refused() {
        let (data, _) = build(&FixtureConfig::small(3));
        let city = City::build(data).unwrap();
        let groupings = [
            GroupBy::Level(Level::Unit),
            GroupBy::Level(Level::Village),
            GroupBy::H3(8),
            GroupBy::H3(11),
            GroupBy::H3(12),
        ];
        for group_by in groupings {
            let q = StatsQuery {
                group_by,
                window: TimeWindow::default(),
                scope: None,
            };
            let full = city.event_stats_capped(&q, usize::MAX).unwrap();
            let n = full.groups.len();
            assert!(n > 1, "{group_by:?}: {n} groups");
            assert_eq!(city.event_stats_capped(&q, n).unwrap(), full);
            match city.event_stats_capped(&q, n - 1) {
                Err(IndexError::TooManyGroups { max, .. }) => assert_eq!(max, n - 1),
                other => panic!("{group_by:?} capped at {}: {other:?}", n - 1),
            }
        }
        assert_eq!(
            city.event_stats(&StatsQuery {
                group_by: GroupBy::Level(Level::Unit),
                window: TimeWindow::default(),
                scope: None,
            })
            .map(|r| r.groups.len()),
            Ok(city.areas.level(Level::Unit).len())
        );
    }
}
