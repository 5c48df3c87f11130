//! Read-only views of the index's columns for crates that render the city
//! (tiles): events in storage order, point layers by position, the unit
//! ancestor tables and spatial lookups by position. Nothing here computes;
//! it only lends what [`City::build`] already made.

use crate::cells::CellStacks;
use crate::city::City;
use crate::filter::{EventMask, TimeWindow};
use crate::tree::NONE;
use h3o::CellIndex;
use onemap_core::{
    Enterprise, Event, EventCategory, EventStatus, HeritagePoint, Homestead, Layer, Level, School,
    Ship,
};
use std::ops::Range;

/// "Outside every unit" in [`PointColumns::unit`].
pub const NO_UNIT: u32 = NONE;

/// The columns of one point layer; position `p` indexes every slice.
#[derive(Debug, Clone, Copy)]
pub struct PointColumns<'a> {
    pub ids: &'a [u64],
    pub lon: &'a [f64],
    pub lat: &'a [f64],
    /// The unit position (in `City::areas().level(Level::Unit)`) or [`NO_UNIT`].
    pub unit: &'a [u32],
    /// The H3 cell at [`crate::FINE_RESOLUTION`].
    pub cell: &'a [CellIndex],
    /// The number of the point's cells at [`crate::TILE_RESOLUTIONS`] in
    /// `stacks`.
    pub stack: &'a [u32],
    /// The cells at the tile resolutions, by stack number.
    pub stacks: &'a CellStacks,
}

/// The event columns, in storage order: ascending `(reported_at, id)`.
#[derive(Debug, Clone, Copy)]
pub struct EventColumns<'a> {
    pub points: PointColumns<'a>,
    pub reported_at: &'a [i64],
    /// When each event entered its status.
    pub status_at: &'a [i64],
    /// [`EventCategory`] codes.
    pub category: &'a [u8],
    /// [`EventStatus`] codes.
    pub status: &'a [u8],
}

/// Event categories and statuses as a bit set over their codes, the test
/// every filtered count uses.
#[derive(Debug, Clone, Copy)]
pub struct CodeMask(EventMask);

impl CodeMask {
    pub fn new(categories: Option<&[EventCategory]>, statuses: Option<&[EventStatus]>) -> Self {
        CodeMask(EventMask::new(categories, statuses))
    }

    #[inline]
    pub fn accepts(&self, category: u8, status: u8) -> bool {
        self.0.accepts(category, status)
    }
}

impl City {
    /// The events as columns, in storage order.
    pub fn event_columns(&self) -> EventColumns<'_> {
        EventColumns {
            points: self
                .columns_of(Layer::Events)
                .expect("events are a point layer"),
            reported_at: &self.ev.reported_at,
            status_at: &self.ev.status_at,
            category: &self.ev.category,
            status: &self.ev.status,
        }
    }

    /// An event by id as a record (None if unknown, or if it lies outside
    /// every unit and so has no unit to name).
    pub fn event(&self, id: u64) -> Option<Event> {
        let p = self.events.position(id)? as usize;
        Some(Event {
            id,
            lon: self.events.lon[p],
            lat: self.events.lat[p],
            category: EventCategory::from_code(self.ev.category[p])?,
            status: EventStatus::from_code(self.ev.status[p])?,
            reported_at: self.ev.reported_at[p],
            closed_at: (self.ev.status[p] == EventStatus::Closed.code())
                .then_some(self.ev.status_at[p]),
            status_at: self.ev.status_at[p],
            unit: self.unit_id(self.events.unit[p])?,
        })
    }

    /// The events of an area (None: the whole city) as records, by the
    /// unit holding them: units in id order, ascending id within each unit
    /// (events outside every unit have no unit to name and are left out).
    pub fn events_in_area(
        &self,
        area: Option<onemap_core::AreaId>,
    ) -> Result<impl Iterator<Item = Event> + '_, crate::IndexError> {
        let slices: Vec<&[u32]> = match area {
            Some(a) => vec![self.positions_in_area(Layer::Events, a)?],
            None => self
                .areas()
                .level(Level::District)
                .iter()
                .map(|d| self.positions_in_area(Layer::Events, d.id))
                .collect::<Result<_, _>>()?,
        };
        Ok(slices.into_iter().flatten().filter_map(move |&p| {
            let p = p as usize;
            Some(Event {
                id: self.events.ids[p],
                lon: self.events.lon[p],
                lat: self.events.lat[p],
                category: EventCategory::from_code(self.ev.category[p])?,
                status: EventStatus::from_code(self.ev.status[p])?,
                reported_at: self.ev.reported_at[p],
                closed_at: (self.ev.status[p] == EventStatus::Closed.code())
                    .then_some(self.ev.status_at[p]),
                status_at: self.ev.status_at[p],
                unit: self.unit_id(self.events.unit[p])?,
            })
        }))
    }

    /// The earliest and latest report times of the events (None if none).
    pub fn event_time_range(&self) -> Option<(i64, i64)> {
        Some((*self.ev.reported_at.first()?, *self.ev.reported_at.last()?))
    }

    /// The largest id of a point layer (None if empty or not a point layer).
    pub fn max_id(&self, layer: Layer) -> Option<u64> {
        let ps = self.point_set(layer)?;
        ps.by_id.last().map(|&p| ps.ids[p as usize])
    }

    /// The storage positions of the events reported in `window` (a slice,
    /// since events are stored by time). An inverted window is empty.
    pub fn event_positions(&self, window: &TimeWindow) -> Range<usize> {
        self.window_range(window)
    }

    /// The columns of a point layer (or of homesteads, anchored at an
    /// interior point); `None` for area layers.
    pub fn columns_of(&self, layer: Layer) -> Option<PointColumns<'_>> {
        let ps = self.point_set(layer)?;
        Some(PointColumns {
            ids: &ps.ids,
            lon: &ps.lon,
            lat: &ps.lat,
            unit: &ps.unit,
            cell: &ps.cells.fine,
            stack: &ps.cells.stack,
            stacks: &ps.cells.stacks,
        })
    }

    /// Calls `f` with the position of every point of `layer` whose exact
    /// position lies in `[min_lon, min_lat, max_lon, max_lat]` (any order).
    pub fn each_point_in(&self, layer: Layer, b: [f64; 4], mut f: impl FnMut(u32)) {
        let _ = self.try_each_point_in(layer, b, |p| {
            f(p);
            std::ops::ControlFlow::Continue(())
        });
    }

    /// [`City::each_point_in`] that stops as soon as `f` breaks (the R-tree
    /// is walked lazily, so the rest is never visited): for "are there more
    /// than N points here?" without counting them all.
    pub fn try_each_point_in(
        &self,
        layer: Layer,
        b: [f64; 4],
        mut f: impl FnMut(u32) -> std::ops::ControlFlow<()>,
    ) -> std::ops::ControlFlow<()> {
        let Some(ps) = self.point_set(layer) else {
            return std::ops::ControlFlow::Continue(());
        };
        let tree = ps.tree.locate_in_envelope(&ps.envelope(&b)).map(|e| e.data);
        for p in tree.chain(ps.tail.iter().copied()) {
            let i = p as usize;
            let (x, y) = (ps.lon[i], ps.lat[i]);
            if x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] {
                f(p)?;
            }
        }
        std::ops::ControlFlow::Continue(())
    }

    /// For every unit, the position of its ancestor at `level` (the unit
    /// itself at [`Level::Unit`], given as `None`: the identity).
    pub fn unit_ancestors(&self, level: Level) -> Option<&[u32]> {
        self.tables.ancestors(level)
    }

    /// Ships in position order (the order of [`City::columns_of`]).
    pub fn ships(&self) -> &[Ship] {
        &self.ships.items
    }

    pub fn heritage_points(&self) -> &[HeritagePoint] {
        &self.heritage.items
    }

    pub fn enterprises(&self) -> &[Enterprise] {
        &self.enterprises.items
    }

    pub fn schools(&self) -> &[School] {
        &self.schools.items
    }

    /// Homesteads in position order, with their boundaries.
    pub fn homesteads(&self) -> &[Homestead] {
        &self.homesteads.items
    }
}
