//! How much memory a [`City`] holds, estimated from the capacities of what
//! it owns (R-tree nodes are counted from their size, not measured).

use crate::city::{BoxEntry, City, Layered};
use crate::points::{PointEntry, PointSet};
use geo_types::{LineString, MultiPolygon, Polygon};
use onemap_core::{Area, Level};
use rstar::{RTree, RTreeNode, RTreeObject};
use serde::{Deserialize, Serialize};
use std::mem::size_of;

/// Approximate heap bytes of a [`City`], by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryReport {
    /// The area tree as given: names, leaders, boundaries, id lookup.
    pub areas: u64,
    /// Point location: the unit boundaries as flat rings, and the grid of
    /// candidate units.
    pub locate: u64,
    /// What else the index adds for areas: per-level boxes and R-trees,
    /// parent and ancestor tables, shared names.
    pub area_index: u64,
    /// Event columns, orders and R-tree.
    pub events: u64,
    /// Ships, heritage, homesteads, enterprises and schools: records, columns, R-trees.
    pub other_layers: u64,
    pub total: u64,
}

fn vec_bytes<T>(v: &[T]) -> u64 {
    (std::mem::size_of_val(v)) as u64
}

/// Leaves plus about one parent per four leaves (bulk loading fills nodes
/// of up to six children).
fn tree_bytes<T: RTreeObject>(t: &RTree<T>) -> u64 {
    (t.size() as u64 * 5 / 4) * size_of::<RTreeNode<T>>() as u64
}

fn ring_bytes(r: &LineString<f64>) -> u64 {
    (r.0.capacity() * 16) as u64
}

fn shape_bytes(g: &MultiPolygon<f64>) -> u64 {
    let polys = (g.0.capacity() * size_of::<Polygon<f64>>()) as u64;
    polys
        + g.0
            .iter()
            .map(|p| {
                ring_bytes(p.exterior())
                    + std::mem::size_of_val(p.interiors()) as u64
                    + p.interiors().iter().map(ring_bytes).sum::<u64>()
            })
            .sum::<u64>()
}

fn area_bytes(a: &Area) -> u64 {
    size_of::<Area>() as u64
        + a.name.capacity() as u64
        + a.leader.as_ref().map_or(0, |l| l.capacity() as u64)
        + shape_bytes(&a.geometry)
}

fn point_set_bytes(ps: &PointSet) -> u64 {
    vec_bytes(&ps.ids)
        + vec_bytes(&ps.lon)
        + vec_bytes(&ps.lat)
        + vec_bytes(&ps.unit)
        + vec_bytes(&ps.cells.fine)
        + vec_bytes(&ps.cells.stack)
        + vec_bytes(&ps.cells.not_parent)
        + ps.cells.stacks.heap_bytes() as u64
        + vec_bytes(&ps.by_id)
        + vec_bytes(&ps.by_unit)
        + vec_bytes(&ps.unit_start)
        + tree_bytes::<PointEntry>(&ps.tree)
}

fn layer_bytes<T>(l: &Layered<T>, extra: impl Fn(&T) -> u64) -> u64 {
    point_set_bytes(&l.points) + vec_bytes(&l.items) + l.items.iter().map(extra).sum::<u64>()
}

impl City {
    /// Estimated heap memory, by part.
    pub fn memory(&self) -> MemoryReport {
        let n_areas = self.areas.len() as u64;
        // The id map: key, value and a control byte per slot, at 7/8 load.
        let id_map =
            n_areas * (size_of::<(onemap_core::AreaId, (Level, u32))>() as u64 + 1) * 8 / 7;
        let areas = self.areas.iter().map(area_bytes).sum::<u64>() + id_map;
        let locate = self.units.heap_bytes() as u64 + self.grid.heap_bytes() as u64;
        let area_index = self.tables.heap_bytes() as u64
            + self.level_boxes.iter().map(|b| vec_bytes(b)).sum::<u64>()
            + self
                .level_trees
                .iter()
                .map(tree_bytes::<BoxEntry>)
                .sum::<u64>()
            + self
                .areas
                .iter()
                .map(|a| 16 + a.name.len() as u64)
                .sum::<u64>();
        let ev = &self.ev;
        let events = point_set_bytes(&self.events)
            + vec_bytes(&ev.reported_at)
            + vec_bytes(&ev.status_at)
            + vec_bytes(&ev.category)
            + vec_bytes(&ev.status);
        let other_layers = layer_bytes(&self.ships, |s| {
            (s.name.capacity() + s.home_port.capacity()) as u64
        }) + layer_bytes(&self.heritage, |h| h.name.capacity() as u64)
            + layer_bytes(&self.enterprises, |e| {
                (e.name.capacity() + e.industry.capacity()) as u64
            })
            + layer_bytes(&self.schools, |s| s.name.capacity() as u64)
            + layer_bytes(&self.homesteads, |h| shape_bytes(&h.geometry))
            + vec_bytes(&self.homestead_boxes)
            + tree_bytes::<BoxEntry>(&self.homestead_tree);
        MemoryReport {
            areas,
            locate,
            area_index,
            events,
            other_layers,
            total: areas + locate + area_index + events + other_layers,
        }
    }
}
