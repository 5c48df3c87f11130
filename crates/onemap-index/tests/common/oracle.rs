//! Brute-force answers: scan everything, with geo's own predicates.

#![allow(dead_code)]

use geo::{Distance, Geodesic, InteriorPoint, Intersects};
use geo_types::{MultiPolygon, Point, Polygon, Rect};
use onemap_core::{AreaId, BBox, CityData, Event, EventStatus, Layer, Level};
use onemap_index::EventFilter;

/// A point feature as the oracle sees it.
#[derive(Debug, Clone)]
pub struct Pt {
    pub id: u64,
    pub lon: f64,
    pub lat: f64,
    pub unit: Option<AreaId>,
}

pub struct Brute {
    pub data: CityData,
    /// Per layer (events, ships, heritage, enterprises, schools, homesteads): points.
    pub events: Vec<(Pt, Event)>,
    pub points: Vec<(Layer, Vec<Pt>)>,
}

/// The smallest-id unit whose closed polygon holds the point.
pub fn unit_at(data: &CityData, lon: f64, lat: f64) -> Option<AreaId> {
    let p = Point::new(lon, lat);
    data.areas
        .level(Level::Unit)
        .iter()
        .find(|u| u.geometry.intersects(&p))
        .map(|u| u.id)
}

impl Brute {
    pub fn new(data: CityData) -> Self {
        let events = data
            .events
            .iter()
            .map(|e| {
                let given = data.areas.get(e.unit).filter(|a| {
                    a.level == Level::Unit && a.geometry.intersects(&Point::new(e.lon, e.lat))
                });
                let unit = given.map(|a| a.id).or_else(|| unit_at(&data, e.lon, e.lat));
                (
                    Pt {
                        id: e.id,
                        lon: e.lon,
                        lat: e.lat,
                        unit,
                    },
                    e.clone(),
                )
            })
            .collect();
        let pt = |id: u64, lon: f64, lat: f64| Pt {
            id,
            lon,
            lat,
            unit: unit_at(&data, lon, lat),
        };
        let points = vec![
            (
                Layer::Ships,
                data.ships
                    .iter()
                    .map(|s| pt(u64::from(s.mmsi), s.lon, s.lat))
                    .collect(),
            ),
            (
                Layer::Heritage,
                data.heritage
                    .iter()
                    .map(|s| pt(s.id, s.lon, s.lat))
                    .collect(),
            ),
            (
                Layer::Enterprises,
                data.enterprises
                    .iter()
                    .map(|s| pt(s.id, s.lon, s.lat))
                    .collect(),
            ),
            (
                Layer::Schools,
                data.schools
                    .iter()
                    .map(|s| pt(s.id, s.lon, s.lat))
                    .collect(),
            ),
            (
                Layer::Homesteads,
                data.homesteads
                    .iter()
                    .map(|h| {
                        let a = h.geometry.interior_point().unwrap();
                        pt(h.id, a.x(), a.y())
                    })
                    .collect(),
            ),
        ];
        Brute {
            data,
            events,
            points,
        }
    }

    /// The points of a point layer (events included), each with whether it passes `filter`.
    pub fn layer(&self, layer: Layer, filter: &EventFilter) -> Vec<Pt> {
        if layer == Layer::Events {
            return self
                .events
                .iter()
                .filter(|(_, e)| filter.matches(e))
                .map(|(p, _)| p.clone())
                .collect();
        }
        let points = self
            .points
            .iter()
            .find(|(l, _)| *l == layer)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if layer == Layer::Homesteads {
            // In the order of data.homesteads.
            return points
                .into_iter()
                .zip(&self.data.homesteads)
                .filter(|(_, h)| filter.keeps_homestead(h.status))
                .map(|(p, _)| p)
                .collect();
        }
        points
    }

    fn shapes(&self, layer: Layer, filter: &EventFilter) -> Vec<(u64, &MultiPolygon<f64>)> {
        match layer.area_level() {
            Some(level) => self
                .data
                .areas
                .level(level)
                .iter()
                .map(|a| (a.id.get(), &a.geometry))
                .collect(),
            None => self
                .data
                .homesteads
                .iter()
                .filter(|h| filter.keeps_homestead(h.status))
                .map(|h| (h.id, &h.geometry))
                .collect(),
        }
    }

    pub fn in_bbox(&self, layer: Layer, b: &BBox, filter: &EventFilter) -> Vec<u64> {
        let mut ids: Vec<u64> = if layer.is_point() {
            self.layer(layer, filter)
                .into_iter()
                .filter(|p| b.contains(p.lon, p.lat))
                .map(|p| p.id)
                .collect()
        } else {
            let r = Rect::new((b.min_lon, b.min_lat), (b.max_lon, b.max_lat));
            self.shapes(layer, filter)
                .into_iter()
                .filter(|(_, g)| g.intersects(&r))
                .map(|s| s.0)
                .collect()
        };
        ids.sort_unstable();
        ids
    }

    pub fn in_polygon(&self, layer: Layer, poly: &Polygon<f64>, filter: &EventFilter) -> Vec<u64> {
        let mut ids: Vec<u64> = if layer.is_point() {
            self.layer(layer, filter)
                .into_iter()
                .filter(|p| poly.intersects(&Point::new(p.lon, p.lat)))
                .map(|p| p.id)
                .collect()
        } else {
            self.shapes(layer, filter)
                .into_iter()
                .filter(|(_, g)| g.intersects(poly))
                .map(|s| s.0)
                .collect()
        };
        ids.sort_unstable();
        ids
    }

    pub fn in_area(&self, layer: Layer, area: AreaId, filter: &EventFilter) -> Vec<u64> {
        let own = area.level().unwrap();
        let mut ids: Vec<u64> = match layer.area_level() {
            Some(level) => self
                .data
                .areas
                .level(level)
                .iter()
                .filter(|a| a.id.ancestor_at(own) == Some(area))
                .map(|a| a.id.get())
                .collect(),
            None => self
                .layer(layer, filter)
                .into_iter()
                .filter(|p| p.unit.is_some_and(|u| u.ancestor_at(own) == Some(area)))
                .map(|p| p.id)
                .collect(),
        };
        ids.sort_unstable();
        ids
    }

    pub fn nearest(
        &self,
        layer: Layer,
        lon: f64,
        lat: f64,
        k: usize,
        max: Option<f64>,
        filter: &EventFilter,
    ) -> Vec<(f64, u64)> {
        let o = Point::new(lon, lat);
        let mut all: Vec<(f64, u64)> = self
            .layer(layer, filter)
            .into_iter()
            .map(|p| (Geodesic.distance(o, Point::new(p.lon, p.lat)), p.id))
            .filter(|(d, _)| max.is_none_or(|m| *d <= m))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.truncate(k);
        all
    }

    /// Events in the window whose unit lies under `area` (any unit when None).
    pub fn events_where(&self, keep: impl Fn(&Pt, &Event) -> bool) -> Vec<(&Pt, &Event)> {
        self.events
            .iter()
            .filter(|(p, e)| keep(p, e))
            .map(|(p, e)| (p, e))
            .collect()
    }
}

/// (total, closed) of some events.
pub fn tally<'a>(events: impl Iterator<Item = &'a Event>) -> (u64, u64) {
    events.fold((0, 0), |(t, c), e| {
        (t + 1, c + u64::from(e.status == EventStatus::Closed))
    })
}
