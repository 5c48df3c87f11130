//! The records the live stores keep, the same in both: an event with what
//! the loop adds to it, one move of its history, a report before it has an
//! id, a requested move, and the ships' applied positions and port crossings.

use onemap_core::workflow::{check_move, Actor, WorkflowError};
use onemap_core::{AreaId, Event, EventCategory, EventStatus, Role};
use serde::{Deserialize, Serialize};

/// An event with what the loop adds to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(flatten)]
    pub event: Event,
    pub description: String,
    pub reporter: String,
    /// The office or department it was routed to, once routed.
    pub routed_to: Option<String>,
}

/// One move of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    /// `None` for the report itself.
    pub from: Option<EventStatus>,
    pub to: EventStatus,
    pub actor: String,
    pub role: Role,
    pub routed_to: Option<String>,
    pub note: Option<String>,
}

/// A report from the field, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub lon: f64,
    pub lat: f64,
    pub unit: AreaId,
    pub category: EventCategory,
    pub description: String,
    /// Repeating a report with the same key returns the first one.
    pub idempotency_key: Option<String>,
}

/// A requested move.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveRequest {
    pub to: EventStatus,
    pub routed_to: Option<String>,
    pub note: Option<String>,
}

/// An applied ship position, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShipPosition {
    pub mmsi: u32,
    pub time: i64,
    pub lon: f64,
    pub lat: f64,
    pub speed_kn: f32,
    pub course_deg: f32,
    pub in_port: bool,
}

/// A ship leaving (`arrival: false`) or entering a port area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crossing {
    pub mmsi: u32,
    pub port: String,
    pub arrival: bool,
    pub time: i64,
}

impl NewReport {
    /// A digest of what the report says (place, unit, category, text): a
    /// retry with the same idempotency key must say the same.
    pub(crate) fn request_hash(&self) -> String {
        super::tokens::sha256_hex(&format!(
            "{:?}|{:?}|{}|{}|{}",
            self.lon,
            self.lat,
            self.unit.get(),
            self.category.as_str(),
            self.description
        ))
    }

    /// The event this report makes, with id `id`, as `actor` reports it at `now`.
    pub(crate) fn record(&self, id: u64, actor: &Actor, now: i64) -> EventRecord {
        EventRecord {
            event: Event {
                id,
                lon: self.lon,
                lat: self.lat,
                category: self.category,
                status: EventStatus::Reported,
                reported_at: now,
                closed_at: None,
                status_at: now,
                unit: self.unit,
            },
            description: self.description.clone(),
            reporter: actor.name.clone(),
            routed_to: None,
        }
    }
}

impl EventRecord {
    /// A base event of the city that the loop has not touched yet.
    pub(crate) fn untouched(event: Event) -> Self {
        EventRecord {
            event,
            description: String::new(),
            reporter: String::new(),
            routed_to: None,
        }
    }

    /// Moves the event as `actor` asks at `now`, if [`check_move`] allows
    /// it; returns the status it left.
    pub(crate) fn apply_move(
        &mut self,
        actor: &Actor,
        mv: &MoveRequest,
        now: i64,
    ) -> Result<EventStatus, WorkflowError> {
        let from = self.event.status;
        check_move(
            actor,
            self.event.unit,
            from,
            self.routed_to.as_deref(),
            mv.to,
            mv.routed_to.as_deref(),
        )?;
        self.event.status = mv.to;
        self.event.closed_at = (mv.to == EventStatus::Closed).then_some(now);
        self.event.status_at = now;
        if let Some(d) = &mv.routed_to {
            self.routed_to = Some(d.trim().to_string());
        }
        Ok(from)
    }
}

impl HistoryEntry {
    /// The entry of a change by `actor` at `at`, from `from` (none for a
    /// report) to `to`.
    pub(crate) fn by(
        actor: &Actor,
        at: i64,
        from: Option<EventStatus>,
        to: EventStatus,
        routed_to: Option<&str>,
        note: Option<&str>,
    ) -> Self {
        HistoryEntry {
            at,
            from,
            to,
            actor: actor.name.clone(),
            role: actor.role,
            routed_to: routed_to.map(String::from),
            note: note.map(String::from),
        }
    }
}
