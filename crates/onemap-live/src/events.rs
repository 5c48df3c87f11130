//! The closed event loop: report, move, read with history.

use crate::{Live, LiveError};
use onemap_core::workflow::{may_read, Actor};
use onemap_core::{AreaId, Event, EventCategory, EventStatus, Layer, Level};
use onemap_store::{EventRecord, HistoryEntry, MoveRequest, NewReport, StoreError};
use serde::Serialize;
use std::sync::Arc;

/// The longest description kept.
pub const MAX_DESCRIPTION: usize = 2000;
/// The longest idempotency key, note or department name.
pub const MAX_SHORT: usize = 200;

/// A report from the field: a point, a unit, or both (then the point must
/// lie in the unit).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInput {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The unit's id as given (digits).
    pub unit: Option<String>,
    pub category: EventCategory,
    pub description: String,
    /// Repeating a report with the same key returns the first one.
    pub idempotency_key: Option<String>,
}

/// A move of an event one step along the loop.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveInput {
    pub to: EventStatus,
    pub routed_to: Option<String>,
    pub note: Option<String>,
}

/// A report as recorded, and whether it is new (`false`: the idempotency
/// key was used before, and this is the first report made with it).
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    pub record: EventRecord,
    pub created: bool,
}

/// An event as the API shows it: the event, what the loop added to it
/// (null for one the loop never touched) and its history (empty then; null
/// while the store cannot be reached).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventView {
    pub event: Event,
    pub description: Option<String>,
    pub reporter: Option<String>,
    pub routed_to: Option<String>,
    /// The unit the city places it in.
    pub assigned_unit: Option<AreaId>,
    pub history: Option<Vec<HistoryEntry>>,
    /// Its photos, by number (null when withheld, or while the store cannot
    /// be reached).
    pub photos: Option<Vec<crate::PhotoRef>>,
    /// The text, reporter, routing and history are withheld: the reader's
    /// scope does not cover the event (or no token was given).
    pub private: bool,
}

/// A short text: trimmed; empty is none; longer than [`MAX_SHORT`] refused.
fn short(field: &'static str, v: Option<String>) -> Result<Option<String>, LiveError> {
    match v {
        Some(s) if s.chars().count() > MAX_SHORT => Err(LiveError::TooLong {
            field,
            max: MAX_SHORT,
        }),
        Some(s) if s.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl Live {
    /// Records a report by `who` and applies it (see the crate docs).
    pub async fn report(
        self: &Arc<Self>,
        who: Actor,
        input: ReportInput,
    ) -> Result<Reported, LiveError> {
        let store = self.store()?.clone();
        let description = input.description.trim().to_string();
        if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
            return Err(LiveError::InvalidDescription {
                max: MAX_DESCRIPTION,
            });
        }
        let key = short("idempotency_key", input.idempotency_key)?;
        let city = self.city();
        let given_unit = match &input.unit {
            None => None,
            Some(raw) => {
                let id = raw
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .and_then(|n| AreaId::new(n).ok())
                    .filter(|a| a.level() == Some(Level::Unit))
                    .ok_or(LiveError::InvalidUnit)?;
                if city.feature(Layer::Units, id.get()).is_none() {
                    return Err(LiveError::UnknownUnit(id));
                }
                Some(id)
            }
        };
        let (lon, lat, unit) = match (input.lon, input.lat, given_unit) {
            (Some(lon), Some(lat), given) => {
                let located = city
                    .locate_unit(lon, lat)?
                    .ok_or(LiveError::OutsideCity { lon, lat })?;
                if let Some(u) = given.filter(|u| *u != located) {
                    return Err(LiveError::UnitMismatch {
                        lon,
                        lat,
                        located,
                        given: u,
                    });
                }
                (lon, lat, located)
            }
            (None, None, Some(u)) => {
                // The unit's own anchor point, inside its boundary.
                let f = city
                    .feature(Layer::Units, u.get())
                    .ok_or(LiveError::UnknownUnit(u))?;
                (f.lon, f.lat, u)
            }
            _ => return Err(LiveError::MissingLocation),
        };
        let min_id = self
            .min_id
            .max(city.max_id(Layer::Events).map_or(1, |m| m + 1));
        let new = NewReport {
            lon,
            lat,
            unit,
            category: input.category,
            description,
            idempotency_key: key,
        };
        // Committed and applied on a task of its own: a caller that goes
        // away does not leave a committed change unapplied.
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let (record, created) = store
                .report(who, min_id, new, onemap_core::time::now())
                .await?;
            if created {
                me.apply(record.event.clone()).await?;
            }
            Ok(Reported { record, created })
        })
        .await
        .map_err(|e| LiveError::Worker(format!("recording a report failed: {e}")))?
    }

    /// Moves event `id` one step as `who` asks and applies it.
    pub async fn transition(
        self: &Arc<Self>,
        who: Actor,
        id: u64,
        input: MoveInput,
    ) -> Result<EventRecord, LiveError> {
        let store = self.store()?.clone();
        let mv = MoveRequest {
            to: input.to,
            routed_to: short("routed_to", input.routed_to)?,
            note: short("note", input.note)?,
        };
        let base = self.city().event(id);
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let rec = store
                .transition(who, id, base, mv, onemap_core::time::now())
                .await
                .map_err(|e| match e {
                    StoreError::UnknownEvent(id) => LiveError::UnknownEvent(id),
                    e => e.into(),
                })?;
            me.apply(rec.event.clone()).await?;
            Ok(rec)
        })
        .await
        .map_err(|e| LiveError::Worker(format!("moving an event failed: {e}")))?
    }

    /// A department's queue: the events routed to it that wait for it
    /// (status `routed`), oldest report first, each as
    /// [`Live::event`] shows it to the department. Only a department has one.
    pub async fn department_queue(&self, actor: &Actor) -> Result<Vec<EventView>, LiveError> {
        let onemap_core::workflow::Scope::Department(d) = &actor.scope else {
            return Err(LiveError::Forbidden(
                "only a department has a queue (events routed to it)".into(),
            ));
        };
        let ids = self.store()?.routed_to(d).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let view = self.event(id, Some(actor)).await?;
            // As the served city has it (a move another server made may
            // be on its way).
            if view.event.status == onemap_core::EventStatus::Routed && !view.private {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// Event `id` with what the loop added to it and its history, for
    /// `reader`. What the loop keeps — the report's text, the reporter,
    /// where it was routed, the history — is shown only to a reader whose
    /// scope covers the event ([`may_read`]); anyone else sees what the
    /// public map shows (its place, category, status and times), with those
    /// fields `None` and `private` set. While the store cannot be reached,
    /// the event is answered from memory with no history and no photos
    /// (`None`).
    pub async fn event(&self, id: u64, reader: Option<&Actor>) -> Result<EventView, LiveError> {
        let mut store_away = false;
        let stored = match &self.store {
            Some(store) => match store.event(id).await {
                Ok(found) => found,
                Err(StoreError::Postgres(e)) if e.is_unavailable() => {
                    store_away = true;
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let city = self.city();
        let assigned_unit = city.event_unit(id);
        let view = match stored {
            Some((rec, history)) => EventView {
                event: rec.event,
                description: Some(rec.description),
                reporter: Some(rec.reporter),
                routed_to: rec.routed_to,
                assigned_unit,
                history: Some(history),
                photos: None,
                private: false,
            },
            None => EventView {
                event: city.event(id).ok_or(LiveError::UnknownEvent(id))?,
                description: None,
                reporter: None,
                routed_to: None,
                assigned_unit,
                history: (!store_away).then(Vec::new),
                photos: None,
                private: false,
            },
        };
        let allowed =
            reader.is_some_and(|r| may_read(r, view.event.unit, view.routed_to.as_deref()));
        Ok(if allowed {
            let photos = match (&self.store, store_away) {
                (Some(_), false) => match self.photo_refs(id).await {
                    Ok(p) => Some(p),
                    Err(LiveError::Store(StoreError::Postgres(e))) if e.is_unavailable() => None,
                    Err(e) => return Err(e),
                },
                _ => None,
            };
            EventView { photos, ..view }
        } else {
            EventView {
                description: None,
                reporter: None,
                routed_to: None,
                history: None,
                private: true,
                ..view
            }
        })
    }
}
