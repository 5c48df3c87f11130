//! Reading a built [`City`]: its area tree and build report, feature
//! counts, lookups by id or position, and the [`Feature`] of a point or an
//! area.

use super::{to_bbox, BuildReport, City};
use crate::feature::{Feature, Properties};
use crate::points::PointSet;
use crate::tree::NONE;
use crate::IndexError;
use geo::InteriorPoint;
use onemap_core::{Area, AreaId, AreaTree, EventCategory, EventStatus, Homestead, Layer, Level};
use std::sync::Arc;

impl City {
    /// The area tree the city was built from.
    pub fn areas(&self) -> &AreaTree {
        &self.areas
    }

    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// Number of features in a layer.
    pub fn len(&self, layer: Layer) -> usize {
        match layer.area_level() {
            Some(level) => self.areas.level(level).len(),
            None => self.point_set(layer).map_or(0, PointSet::len),
        }
    }

    /// The unit an event was assigned to (None if outside every unit or unknown).
    pub fn event_unit(&self, id: u64) -> Option<AreaId> {
        let p = self.events.position(id)?;
        self.unit_id(self.events.unit[p as usize])
    }

    /// A feature of any layer by id (an area's code for area layers).
    pub fn feature(&self, layer: Layer, id: u64) -> Option<Feature> {
        if let Some(level) = layer.area_level() {
            let area = AreaId::new(id).ok()?;
            return match self.areas.position(area)? {
                (l, pos) if l == level => Some(self.area_feature(level, pos)),
                _ => None,
            };
        }
        let pos = self.point_set(layer)?.position(id)?;
        Some(self.point_feature(layer, pos))
    }

    /// A homestead by id, with its boundary.
    pub fn homestead(&self, id: u64) -> Option<&Homestead> {
        let p = self.homesteads.points.position(id)?;
        self.homesteads.items.get(p as usize)
    }

    pub(crate) fn point_set(&self, layer: Layer) -> Option<&PointSet> {
        match layer {
            Layer::Events => Some(&*self.events),
            Layer::Ships => Some(&self.ships.points),
            Layer::Heritage => Some(&self.heritage.points),
            Layer::Enterprises => Some(&self.enterprises.points),
            Layer::Schools => Some(&self.schools.points),
            Layer::Homesteads => Some(&self.homesteads.points),
            _ => None,
        }
    }

    pub(crate) fn unit_id(&self, unit: u32) -> Option<AreaId> {
        (unit != NONE).then(|| self.unit_ids[unit as usize])
    }

    pub(crate) fn name(&self, level: Level, pos: u32) -> Arc<str> {
        Arc::clone(&self.names[level.depth()][pos as usize])
    }

    pub(crate) fn area_at(&self, level: Level, pos: u32) -> &Area {
        &self.areas.level(level)[pos as usize]
    }

    /// The level and position of an area id, or `UnknownArea`.
    pub(crate) fn resolve(&self, id: AreaId) -> Result<(Level, u32), IndexError> {
        self.areas.position(id).ok_or(IndexError::UnknownArea(id))
    }

    /// The unit position holding a valid point, or `NONE`.
    #[inline]
    pub(crate) fn locate_pos(&self, lon: f64, lat: f64) -> u32 {
        self.grid.locate(&self.units, lon, lat)
    }

    /// The feature at position `pos` of a point layer (or homestead).
    pub(crate) fn point_feature(&self, layer: Layer, pos: u32) -> Feature {
        let ps = self.point_set(layer).expect("a point layer");
        let p = pos as usize;
        let properties = match layer {
            Layer::Events => Properties::Event {
                category: EventCategory::from_code(self.ev.category[p]).expect("stored code"),
                status: EventStatus::from_code(self.ev.status[p]).expect("stored code"),
                reported_at: self.ev.reported_at[p],
                closed_at: (self.ev.status[p] == EventStatus::Closed.code())
                    .then_some(self.ev.status_at[p]),
                status_at: self.ev.status_at[p],
            },
            Layer::Ships => {
                let s = &self.ships.items[p];
                Properties::Ship {
                    name: s.name.clone(),
                    home_port: s.home_port.clone(),
                    speed_kn: s.speed_kn,
                    heading_deg: s.heading_deg,
                    in_port: s.in_port,
                    reported_at: s.reported_at,
                }
            }
            Layer::Heritage => {
                let h = &self.heritage.items[p];
                Properties::Heritage {
                    name: h.name.clone(),
                    level: h.level,
                    watch: h.watch,
                }
            }
            Layer::Enterprises => {
                let e = &self.enterprises.items[p];
                Properties::Enterprise {
                    name: e.name.clone(),
                    industry: e.industry.clone(),
                    employees: e.employees,
                    large: e.large,
                }
            }
            Layer::Schools => {
                let s = &self.schools.items[p];
                Properties::School {
                    name: s.name.clone(),
                    kind: s.kind,
                    students: s.students,
                }
            }
            Layer::Homesteads => {
                let h = &self.homesteads.items[p];
                Properties::Homestead {
                    area_m2: h.area_m2,
                    status: h.status,
                    bbox: to_bbox(self.homestead_boxes[p]),
                }
            }
            _ => unreachable!("not a point layer"),
        };
        Feature {
            layer,
            id: ps.ids[p],
            lon: ps.lon[p],
            lat: ps.lat[p],
            unit: self.unit_id(ps.unit[p]),
            cell: Some(ps.cells.fine[p].to_string()),
            properties,
        }
    }

    /// An area's bounding box (`None`: no such area).
    pub fn area_bbox(&self, id: onemap_core::AreaId) -> Option<onemap_core::BBox> {
        let (level, pos) = self.areas.position(id)?;
        Some(to_bbox(self.level_boxes[level.depth()][pos as usize]))
    }

    /// The feature of an area.
    pub(crate) fn area_feature(&self, level: Level, pos: u32) -> Feature {
        let a = self.area_at(level, pos);
        let b = self.level_boxes[level.depth()][pos as usize];
        let (lon, lat) = a
            .geometry
            .interior_point()
            .map_or(((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0), |p| {
                (p.x(), p.y())
            });
        Feature {
            layer: Layer::for_level(level),
            id: a.id.get(),
            lon,
            lat,
            unit: None,
            cell: None,
            properties: Properties::Area {
                level,
                name: a.name.clone(),
                parent: a.parent,
                leader: a.leader.clone(),
                bbox: to_bbox(b),
            },
        }
    }
}
