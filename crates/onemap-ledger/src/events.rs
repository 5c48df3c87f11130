//! The events ledger (事件台账): the reported events as the live city holds
//! them, made into the ledger's columns when a table is asked (events
//! change every minute; they are never a ledger file). The caller hands
//! the events of the area asked, in area order, from one snapshot.

use crate::query::{check, run_batches, Access, Query, Sink, Summary};
use crate::registry::{nullable, Ledger};
use crate::table::{schema, stored_fields, TIME_ZONE};
use crate::LedgerError;
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, TimestampSecondBuilder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::Schema;
use onemap_core::{AreaId, AreaTree, Deadlines, Event, EventStatus};
use std::sync::Arc;

/// Rows per batch.
pub const BATCH_ROWS: usize = 16_384;

/// Runs `q` on the events ledger: `events` gives the events of an area
/// (None: the city) in area order, from one snapshot; each is due and
/// overdue as `deadlines` say at `now`.
#[allow(clippy::too_many_arguments)]
pub fn run_events<I>(
    areas: &AreaTree,
    q: &Query,
    access: Access,
    sink: &mut dyn Sink,
    deadlines: Deadlines,
    now: i64,
    events: impl FnOnce(Option<AreaId>) -> Result<I, String>,
) -> Result<Summary, LedgerError>
where
    I: IntoIterator<Item = Event>,
{
    check(q, areas)?;
    let events = events(q.area).map_err(LedgerError::BadQuery)?;
    run_batches(
        event_batches(events, deadlines, now),
        areas,
        q,
        access,
        sink,
    )
}

/// The events as batches of the events ledger's stored columns, each event
/// with its step's due time and whether it is overdue at `now` under
/// `deadlines` (as the overdue figures count it).
pub fn event_batches<'a, I>(
    events: I,
    deadlines: Deadlines,
    now: i64,
) -> impl Iterator<Item = Result<RecordBatch, LedgerError>> + 'a
where
    I: IntoIterator<Item = Event>,
    I::IntoIter: 'a,
{
    let schema = Arc::new(event_schema());
    let mut it = events.into_iter().peekable();
    std::iter::from_fn(move || {
        it.peek()?;
        let mut b = EventBuilder::default();
        for e in it.by_ref().take(BATCH_ROWS) {
            b.push(&e, &deadlines, now);
        }
        Some(b.finish(schema.clone()))
    })
}

/// The events ledger's schema (no file metadata: it is never written).
pub fn event_schema() -> Schema {
    debug_assert!(stored_fields(Ledger::Events)
        .map(|f| f.key)
        .eq(COLUMNS.iter().copied()));
    debug_assert!(stored_fields(Ledger::Events)
        .all(|f| nullable(Ledger::Events, f) == matches!(f.key, "closed" | "due")));
    schema(Ledger::Events, &[])
}

/// The stored columns, in the registry's order.
const COLUMNS: [&str; 11] = [
    "event_id", "category", "status", "reported", "updated", "closed", "due", "overdue", "lon",
    "lat", "area_id",
];

#[derive(Default)]
struct EventBuilder {
    id: UInt64Builder,
    category: UInt8Builder,
    status: UInt8Builder,
    reported: TimestampSecondBuilder,
    updated: TimestampSecondBuilder,
    closed: TimestampSecondBuilder,
    due: TimestampSecondBuilder,
    overdue: BooleanBuilder,
    lon: Float64Builder,
    lat: Float64Builder,
    area: UInt64Builder,
}

impl EventBuilder {
    fn push(&mut self, e: &Event, deadlines: &Deadlines, now: i64) {
        self.id.append_value(e.id);
        // The registry's codes are the core's plus one (0 is "none").
        self.category.append_value(e.category.code() + 1);
        self.status.append_value(e.status.code() + 1);
        self.reported.append_value(e.reported_at);
        self.updated.append_value(e.status_at);
        self.closed
            .append_option((e.status == EventStatus::Closed).then_some(e.status_at));
        self.due.append_option(deadlines.due(e.status, e.status_at));
        self.overdue
            .append_value(deadlines.is_overdue(e.status, e.status_at, now));
        self.lon.append_value(e.lon);
        self.lat.append_value(e.lat);
        self.area.append_value(e.unit.get());
    }

    fn finish(mut self, schema: Arc<Schema>) -> Result<RecordBatch, LedgerError> {
        let tz = |b: &mut TimestampSecondBuilder| -> ArrayRef {
            Arc::new(b.finish().with_timezone(TIME_ZONE))
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.category.finish()),
            Arc::new(self.status.finish()),
            tz(&mut self.reported),
            tz(&mut self.updated),
            tz(&mut self.closed),
            tz(&mut self.due),
            Arc::new(self.overdue.finish()),
            Arc::new(self.lon.finish()),
            Arc::new(self.lat.finish()),
            Arc::new(self.area.finish()),
        ];
        RecordBatch::try_new(schema, cols).map_err(|e| LedgerError::Internal(e.to_string()))
    }
}
