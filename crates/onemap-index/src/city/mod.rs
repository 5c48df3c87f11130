//! The [`City`]: every layer of a [`CityData`] with its indexes, built once.
//!
//! This module holds the types and what the rest of the crate shares
//! (`to_bbox`, [`box_tree`]); `build` indexes a [`CityData`], `snapshot`
//! makes the next snapshot from changed events or ships, and `lookup`
//! reads a built city (counts, lookups by id or position, features).
//!
//! [`CityData`]: onemap_core::CityData

mod build;
mod lookup;
mod snapshot;

use crate::locate::{ShapeGrid, Shapes};
use crate::points::PointSet;
use crate::tree::Tables;
use onemap_core::{
    AreaId, AreaTree, BBox, Enterprise, HeritagePoint, Homestead, Layer, School, Ship,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An R-tree entry: a box and the position of what it bounds.
pub type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The event-only columns, in the event layer's storage order: ascending
/// `(reported_at, id)`, so a time window is a slice.
#[derive(Debug, Default, Clone)]
pub(crate) struct EventColumns {
    pub(crate) reported_at: Vec<i64>,
    /// When each event entered its status (its closing time once closed).
    pub(crate) status_at: Vec<i64>,
    pub(crate) category: Vec<u8>,
    pub(crate) status: Vec<u8>,
}

/// A point layer with its source records, in the same (id) order.
#[derive(Debug)]
pub(crate) struct Layered<T> {
    pub(crate) points: PointSet,
    pub(crate) items: Vec<T>,
}

/// The whole city in memory: the area tree with its tables, unit polygons for
/// point location, R-trees per layer and area level, and every point's unit
/// and H3 cell.
///
/// A `City` never changes. Changed events make a new `City`
/// ([`City::with_events`]) that shares everything but the events with the
/// old one, and changed ships likewise ([`City::with_ships`]), so readers
/// keep a consistent snapshot while the next is built.
#[derive(Debug, Clone)]
pub struct City {
    base: Arc<CityBase>,
    pub(crate) events: Arc<PointSet>,
    pub(crate) ev: Arc<EventColumns>,
    /// The ships, apart from the base like the events: positions change
    /// often ([`City::with_ships`]).
    pub(crate) ships: Arc<Layered<Ship>>,
    pub(crate) report: BuildReport,
}

/// Everything of a [`City`] but its events, built once.
#[derive(Debug)]
pub struct CityBase {
    pub(crate) areas: AreaTree,
    pub(crate) tables: Tables,
    /// Unit boundaries as flat rings (shape `i` = unit position `i`), and a
    /// grid of candidate units, for point location.
    pub(crate) units: Shapes,
    pub(crate) grid: ShapeGrid,
    /// The units' ids by position (8 bytes a unit, for point location's
    /// answer, rather than a read of the whole area).
    unit_ids: Vec<AreaId>,
    /// Per level, the bounding boxes of its areas.
    pub(crate) level_trees: [RTree<BoxEntry>; 5],
    pub(crate) level_boxes: [Vec<[f64; 4]>; 5],
    /// Per level, the areas' names, shared by every answer that names them.
    names: [Vec<Arc<str>>; 5],
    pub(crate) heritage: Layered<HeritagePoint>,
    pub(crate) enterprises: Layered<Enterprise>,
    pub(crate) schools: Layered<School>,
    /// Homesteads by id; `points` holds one interior point per homestead.
    pub(crate) homesteads: Layered<Homestead>,
    pub(crate) homestead_tree: RTree<BoxEntry>,
    pub(crate) homestead_boxes: Vec<[f64; 4]>,
}

impl std::ops::Deref for City {
    type Target = CityBase;
    fn deref(&self) -> &CityBase {
        &self.base
    }
}

/// What building found in the data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Events whose given unit did not hold them (unknown, or the point lies
    /// outside it), re-assigned by location.
    pub events_relocated: u64,
    /// Events [`City::with_events`] appended to the event point index
    /// without building it again (reported after every other event).
    pub events_appended: u64,
    /// Per point layer, features outside every unit.
    pub unassigned: BTreeMap<Layer, u64>,
    /// Cells of the point-location grid, and how many of them lie wholly
    /// inside one unit (points there are located without a polygon test).
    pub locate_cells: u64,
    pub locate_cells_in_one_unit: u64,
}

pub(crate) fn to_bbox(b: [f64; 4]) -> BBox {
    BBox {
        min_lon: b[0],
        min_lat: b[1],
        max_lon: b[2],
        max_lat: b[3],
    }
}

/// An R-tree over `[min_lon, min_lat, max_lon, max_lat]` boxes, each entry
/// carrying its position in `boxes`.
pub fn box_tree(boxes: &[[f64; 4]]) -> RTree<BoxEntry> {
    RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                GeomWithData::new(
                    Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]),
                    i as u32,
                )
            })
            .collect(),
    )
}
