//! Point location and area details.

use crate::city::{to_bbox, City};
use crate::filter::TimeWindow;
use crate::stats::{figures, Figures};
use crate::tree::{id_range, NONE};
use crate::IndexError;
use onemap_core::{AreaId, BBox, EventStatus, Level, LonLat};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An area named: id, level and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaRef {
    pub id: AreaId,
    pub level: Level,
    /// Shared with the city, so naming an area costs no allocation.
    pub name: Arc<str>,
}

/// The areas holding a point, from the unit up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub unit: AreaRef,
    pub grid: AreaRef,
    pub village: AreaRef,
    pub town: AreaRef,
    pub district: AreaRef,
}

/// The ids of the areas holding a point, from the unit up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocationIds {
    pub unit: AreaId,
    pub grid: AreaId,
    pub village: AreaId,
    pub town: AreaId,
    pub district: AreaId,
}

/// How many features of the static layers lie in an area (by their unit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCounts {
    pub units: u64,
    pub ships: u64,
    pub heritage: u64,
    pub homesteads: u64,
    pub enterprises: u64,
    pub schools: u64,
}

/// A child area with its event figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildFigures {
    pub area: AreaRef,
    pub leader: Option<String>,
    pub figures: Figures,
}

/// One area for a details panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaDetails {
    pub area: AreaRef,
    pub leader: Option<String>,
    pub bbox: BBox,
    /// Event figures in the window.
    pub figures: Figures,
    pub window: TimeWindow,
    /// The ancestors, from the district down to the parent.
    pub breadcrumb: Vec<AreaRef>,
    /// The children in id order, each with its figures in the window.
    pub children: Vec<ChildFigures>,
    pub features: LayerCounts,
}

impl City {
    pub(crate) fn area_ref(&self, level: Level, pos: u32) -> AreaRef {
        AreaRef {
            id: self.area_at(level, pos).id,
            level,
            name: self.name(level, pos),
        }
    }

    /// The unit holding a point, or None outside every unit. A point on a
    /// boundary shared by several units goes to the one with the smallest id.
    pub fn locate_unit(&self, lon: f64, lat: f64) -> Result<Option<AreaId>, IndexError> {
        LonLat::new(lon, lat)?;
        Ok(self.unit_id(self.locate_pos(lon, lat)))
    }

    /// The ids of the unit, grid, village, town and district holding a
    /// point (see [`City::locate_unit`]), or None outside every unit: the
    /// answer of [`City::locate`] without the names, for bulk work.
    pub fn locate_ids(&self, lon: f64, lat: f64) -> Result<Option<LocationIds>, IndexError> {
        let Some(unit) = self.locate_unit(lon, lat)? else {
            return Ok(None);
        };
        // A unit's id holds its ancestors' (three digits a level).
        let [grid, village, town, district] = unit
            .unit_ancestors()
            .expect("the city's units have unit ids");
        Ok(Some(LocationIds {
            unit,
            grid,
            village,
            town,
            district,
        }))
    }

    /// The unit, grid, village, town and district holding a point (see
    /// [`City::locate_unit`]), or None outside every unit.
    pub fn locate(&self, lon: f64, lat: f64) -> Result<Option<Location>, IndexError> {
        LonLat::new(lon, lat)?;
        let u = self.locate_pos(lon, lat);
        if u == NONE {
            return Ok(None);
        }
        let at = |level| self.area_ref(level, self.tables.ancestor(u, level));
        Ok(Some(Location {
            unit: at(Level::Unit),
            grid: at(Level::Grid),
            village: at(Level::Village),
            town: at(Level::Town),
            district: at(Level::District),
        }))
    }

    /// The positions of the features of a point layer (events, heritage,
    /// homesteads by their interior point, enterprises, schools, ships)
    /// that lie in an area, by the unit holding them: ascending id within
    /// each unit, units in id order. A position indexes the layer's columns
    /// ([`City::columns_of`], [`City::event_columns`]) and its records
    /// ([`City::heritage_points`], [`City::homesteads`], …). Area layers
    /// have none.
    pub fn positions_in_area(
        &self,
        layer: onemap_core::Layer,
        id: AreaId,
    ) -> Result<&[u32], IndexError> {
        let (level, pos) = self.resolve(id)?;
        let units = self.tables.unit_range(level, pos);
        Ok(self
            .point_set(layer)
            .map_or(&[][..], |ps| ps.in_units(units)))
    }

    /// An area with its event figures in `window`, its breadcrumb, its
    /// children with their figures, and counts of the static layers in it.
    pub fn area_details(&self, id: AreaId, window: &TimeWindow) -> Result<AreaDetails, IndexError> {
        window.check()?;
        let (level, pos) = self.resolve(id)?;
        let area = self.area_at(level, pos);
        let units = self.tables.unit_range(level, pos);
        let children = match level.child() {
            Some(cl) => id_range(self.areas.level(cl), id, cl),
            None => 0..0,
        };
        // Per child (or the area itself): (total, closed).
        let mut tally = vec![(0u64, 0u64); children.len().max(1)];
        let mut total = (0u64, 0u64);
        let closed = EventStatus::Closed.code();
        let mut count = |p: usize| {
            let u = self.events.unit[p];
            let shut = u64::from(self.ev.status[p] == closed);
            total.0 += 1;
            total.1 += shut;
            if let Some(cl) = level.child() {
                let c = (self.tables.ancestor(u, cl) - children.start) as usize;
                tally[c].0 += 1;
                tally[c].1 += shut;
            }
        };
        let slice = self.window_range(window);
        let in_area = self.events.in_units(units.clone());
        // Walk whichever is shorter: the area's events or the window's.
        if in_area.len() < slice.len() {
            for &p in in_area {
                if slice.contains(&(p as usize)) {
                    count(p as usize);
                }
            }
        } else {
            for p in slice {
                if units.contains(&self.events.unit[p]) {
                    count(p);
                }
            }
        }
        let mut breadcrumb = Vec::new();
        let mut cur = (level, pos);
        while let (Some(pl), Some(pp)) = (cur.0.parent(), self.tables.parent(cur.0, cur.1)) {
            breadcrumb.push(self.area_ref(pl, pp));
            cur = (pl, pp);
        }
        breadcrumb.reverse();
        let child_list = match level.child() {
            Some(cl) => children
                .clone()
                .zip(&tally)
                .map(|(c, t)| ChildFigures {
                    area: self.area_ref(cl, c),
                    leader: self.area_at(cl, c).leader.clone(),
                    figures: figures(t.0, t.1),
                })
                .collect(),
            None => Vec::new(),
        };
        let n = |layer| {
            self.point_set(layer)
                .map_or(0, |ps| ps.in_units(units.clone()).len() as u64)
        };
        use onemap_core::Layer;
        Ok(AreaDetails {
            area: self.area_ref(level, pos),
            leader: area.leader.clone(),
            bbox: to_bbox(self.level_boxes[level.depth()][pos as usize]),
            figures: figures(total.0, total.1),
            window: *window,
            breadcrumb,
            children: child_list,
            features: LayerCounts {
                units: units.len() as u64,
                ships: n(Layer::Ships),
                heritage: n(Layer::Heritage),
                homesteads: n(Layer::Homesteads),
                enterprises: n(Layer::Enterprises),
                schools: n(Layer::Schools),
            },
        })
    }
}
