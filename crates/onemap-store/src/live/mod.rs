//! The store behind a live server: the embedded GeoPackage file or PostGIS,
//! with one async interface (the embedded store's blocking calls run on
//! tokio's blocking pool).
//!
//! - `records`: what both keep (events with what the loop adds, history,
//!   ship positions, crossings);
//! - `workflow`: the loop's report and move, written once over the
//!   primitives of a store's write transaction;
//! - `tokens`: bearer tokens, of which the stores keep only the hash;
//! - `photos`: events' photos, and adding one, written once.

pub(crate) mod coord;
pub(crate) mod downloads;
pub(crate) mod lists;
pub(crate) mod photos;
pub(crate) mod records;
pub(crate) mod templates;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod workflow;

use crate::{
    Crossing, EmbeddedStore, EventRecord, HistoryEntry, MoveRequest, NewReport, PgLive,
    ShipPosition, StoreError,
};
use coord::{CoordDecision, CoordInputs, CoordRequest, CoordSelfCheck};
use onemap_core::workflow::{Actor, Scope};
use onemap_core::{Event, Role};
use photos::{NewPhoto, Photo, PhotoInfo};
use std::sync::Arc;
use templates::{NewTemplate, Template};
use tokens::{IssuedToken, TokenGrant, TokenInfo};
use users::{UserGrant, UserInfo};

/// Where a live server keeps what changes.
#[derive(Debug, Clone)]
pub enum LiveStore {
    /// The GeoPackage file of a demo or single server.
    Embedded(Arc<EmbeddedStore>),
    /// PostGIS, shared by every server on the database.
    Postgres(Arc<PgLive>),
}

/// Runs a blocking call of the embedded store off the async threads.
async fn blocking<T, F>(store: &Arc<EmbeddedStore>, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&EmbeddedStore) -> Result<T, StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
}

impl LiveStore {
    /// Whether other servers may change the same city (PostGIS).
    pub fn is_shared(&self) -> bool {
        matches!(self, LiveStore::Postgres(_))
    }

    /// Who a bearer token speaks for, if it is one of ours.
    pub async fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let token = token.to_string();
                blocking(s, move |s| s.actor(&token)).await
            }
            LiveStore::Postgres(p) => p.actor(token).await,
        }
    }

    /// The departments' answers to the coordination's suggestions for the
    /// plans of demo year `year`, by plan.
    pub async fn coord_decisions(&self, year: i32) -> Result<Vec<CoordDecision>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.coord_decisions(year)).await,
            LiveStore::Postgres(p) => p.coord_decisions(year).await,
        }
    }

    /// Keeps a department's answer for a plan (the latest answer stands).
    pub async fn put_coord_decision(&self, d: CoordDecision) -> Result<(), StoreError> {
        d.check()?;
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.put_coord_decision(&d)).await,
            LiveStore::Postgres(p) => p.put_coord_decision(&d).await,
        }
    }

    /// Keeps a request of an enterprise or a school with the next id of its
    /// year (at least `min_id`); [`StoreError::DuplicateRequest`] when the
    /// target asked the same before.
    pub async fn add_coord_request(
        &self,
        min_id: u64,
        r: CoordRequest,
    ) -> Result<CoordRequest, StoreError> {
        let mut first = r.clone();
        first.id = min_id.max(1);
        first.check()?;
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.add_coord_request(min_id, &r)).await,
            LiveStore::Postgres(p) => p.add_coord_request(min_id, &r).await,
        }
    }

    /// Keeps an enterprise's word on a push (the latest stands).
    pub async fn put_coord_self_check(&self, c: CoordSelfCheck) -> Result<(), StoreError> {
        c.check()?;
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.put_coord_self_check(&c)).await,
            LiveStore::Postgres(p) => p.put_coord_self_check(&c).await,
        }
    }

    /// Every answer, request and self-check of demo year `year`.
    pub async fn coord_inputs(&self, year: i32) -> Result<CoordInputs, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.coord_inputs(year)).await,
            LiveStore::Postgres(p) => p.coord_inputs(year).await,
        }
    }

    /// A page of the list items that pass `f`, newest first, with how many
    /// pass in all (`limit` at most [`lists::MAX_LIST_PAGE`]).
    pub async fn list_page(
        &self,
        f: onemap_core::lists::ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<lists::ListPage, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.list_page(&f, offset, limit)).await,
            LiveStore::Postgres(p) => p.list_page(&f, offset, limit).await,
        }
    }

    /// A list item with its history, oldest change first.
    pub async fn list_item(
        &self,
        id: u64,
    ) -> Result<
        Option<(
            onemap_core::lists::ListItem,
            Vec<onemap_core::lists::ListChange>,
        )>,
        StoreError,
    > {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.list_item(id)).await,
            LiveStore::Postgres(p) => p.list_item(id).await,
        }
    }

    /// Creates a list item (checked here) by `by` at `now`.
    pub async fn list_create(
        &self,
        new: onemap_core::lists::NewItem,
        by: String,
        now: i64,
    ) -> Result<onemap_core::lists::ListItem, StoreError> {
        let new = new.checked()?;
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.list_create(&new, &by, now)).await,
            LiveStore::Postgres(p) => p.list_create(&new, &by, now).await,
        }
    }

    /// Changes a list item as `actor` at `now`; the item and its history.
    pub async fn list_update(
        &self,
        id: u64,
        u: onemap_core::lists::ItemUpdate,
        actor: Actor,
        now: i64,
    ) -> Result<
        (
            onemap_core::lists::ListItem,
            Vec<onemap_core::lists::ListChange>,
        ),
        StoreError,
    > {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| s.list_update(id, &u, &actor, now)).await
            }
            LiveStore::Postgres(p) => p.list_update(id, &u, &actor, now).await,
        }
    }

    /// Writes the demo's items into empty lists (none if any is there).
    pub async fn list_import(
        &self,
        items: Vec<onemap_core::lists::ListItem>,
    ) -> Result<usize, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.list_import(&items)).await,
            LiveStore::Postgres(p) => p.list_import(&items).await,
        }
    }

    /// Issues a bearer token (printed once; only its hash is kept).
    pub async fn create_token(
        &self,
        role: Role,
        scope: &Scope,
        name: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let (scope, name) = (scope.clone(), name.to_string());
                blocking(s, move |s| s.create_token(role, &scope, &name, now)).await
            }
            LiveStore::Postgres(p) => p.create_token(role, scope, name, now).await,
        }
    }

    /// Issues a token as `grant` says (refused when its role and scope do not
    /// go together); the secret is in the answer, only its hash is kept.
    pub async fn issue_token(
        &self,
        grant: TokenGrant,
        now: i64,
    ) -> Result<IssuedToken, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.issue_token(&grant, now)).await,
            LiveStore::Postgres(p) => p.issue_token(&grant, now).await,
        }
    }

    /// Every token, oldest first (never the secrets).
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, |s| s.tokens()).await,
            LiveStore::Postgres(p) => p.tokens().await,
        }
    }

    /// Revokes the token with this public id at `now`.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<TokenInfo, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let id = id.to_string();
                blocking(s, move |s| s.revoke_token(&id, now)).await
            }
            LiveStore::Postgres(p) => p.revoke_token(id, now).await,
        }
    }

    /// Creates an account with this (already hashed) password.
    pub async fn create_user(
        &self,
        grant: UserGrant,
        password_hash: String,
        now: i64,
    ) -> Result<UserInfo, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| s.create_user(&grant, &password_hash, now)).await
            }
            LiveStore::Postgres(p) => p.create_user(&grant, &password_hash, now).await,
        }
    }

    /// Every account, by name.
    pub async fn users(&self) -> Result<Vec<UserInfo>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, |s| s.users()).await,
            LiveStore::Postgres(p) => p.users().await,
        }
    }

    /// An account and its password hash, to sign in with.
    pub async fn user_login(&self, name: &str) -> Result<Option<(UserInfo, String)>, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let name = name.to_string();
                blocking(s, move |s| s.user_login(&name)).await
            }
            LiveStore::Postgres(p) => p.user_login(name).await,
        }
    }

    /// Sets an account's password (already hashed) and ends its sessions.
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: String,
        now: i64,
    ) -> Result<(), StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let name = name.to_string();
                blocking(s, move |s| s.set_password(&name, &password_hash, now)).await
            }
            LiveStore::Postgres(p) => p.set_password(name, &password_hash, now).await,
        }
    }

    /// Disables an account and ends its sessions.
    pub async fn disable_user(&self, name: &str, now: i64) -> Result<UserInfo, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let name = name.to_string();
                blocking(s, move |s| s.disable_user(&name, now)).await
            }
            LiveStore::Postgres(p) => p.disable_user(name, now).await,
        }
    }

    /// Issues a session for an account (see [`crate::SESSION_SECS`]).
    pub async fn create_session(
        &self,
        user: UserInfo,
        now: i64,
    ) -> Result<IssuedToken, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.create_session(&user, now)).await,
            LiveStore::Postgres(p) => p.create_session(&user, now).await,
        }
    }

    /// Ends the session with this secret.
    pub async fn end_session(&self, token: &str, now: i64) -> Result<(), StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let token = token.to_string();
                blocking(s, move |s| s.end_session(&token, now)).await
            }
            LiveStore::Postgres(p) => p.end_session(token, now).await,
        }
    }

    /// Records a report; `false` when the idempotency key was used before
    /// (the first event comes back).
    pub async fn report(
        &self,
        actor: Actor,
        min_id: u64,
        new: NewReport,
        now: i64,
    ) -> Result<(EventRecord, bool), StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| s.report(&actor, min_id, &new, now)).await
            }
            LiveStore::Postgres(p) => p.report(&actor, min_id, &new, now).await,
        }
    }

    /// Moves an event one step; `base` is its state in the city (the
    /// embedded store holds only events the loop touched).
    pub async fn transition(
        &self,
        actor: Actor,
        id: u64,
        base: Option<Event>,
        mv: MoveRequest,
        now: i64,
    ) -> Result<EventRecord, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| {
                    s.transition(&actor, id, base.as_ref(), &mv, now)
                })
                .await
            }
            LiveStore::Postgres(p) => p.transition(&actor, id, &mv, now).await,
        }
    }

    /// An event the store holds, with its history.
    pub async fn event(
        &self,
        id: u64,
    ) -> Result<Option<(EventRecord, Vec<HistoryEntry>)>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.event(id)).await,
            LiveStore::Postgres(p) => p.event(id).await,
        }
    }

    /// The events routed to `department` that wait for it (status
    /// `routed`), oldest report first.
    pub async fn routed_to(&self, department: &str) -> Result<Vec<u64>, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                let d = department.to_string();
                blocking(s, move |s| s.routed_to(&d)).await
            }
            LiveStore::Postgres(p) => p.routed_to(department).await,
        }
    }

    /// Adds a photo to event `id` as `actor` (see [`photos`]); `base` is
    /// its state in the city (the embedded store holds only events the
    /// loop touched).
    pub async fn add_photo(
        &self,
        actor: Actor,
        id: u64,
        base: Option<Event>,
        photo: NewPhoto,
        now: i64,
    ) -> Result<PhotoInfo, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| {
                    s.add_photo(&actor, id, base.as_ref(), &photo, now)
                })
                .await
            }
            LiveStore::Postgres(p) => p.add_photo(&actor, id, &photo, now).await,
        }
    }

    /// Records a download of the one table.
    pub async fn log_download(&self, d: downloads::Download) -> Result<(), StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.log_download(&d)).await,
            LiveStore::Postgres(p) => p.log_download(&d).await,
        }
    }

    /// The latest downloads of the one table, newest first.
    pub async fn downloads(&self, limit: usize) -> Result<Vec<downloads::Download>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.downloads(limit)).await,
            LiveStore::Postgres(p) => p.downloads(limit).await,
        }
    }

    /// Saves a template of the one table.
    pub async fn save_template(&self, t: NewTemplate) -> Result<Template, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.save_template(&t)).await,
            LiveStore::Postgres(p) => p.save_template(&t).await,
        }
    }

    /// Every saved template of the one table, oldest first.
    pub async fn templates(&self) -> Result<Vec<Template>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, |s| s.templates()).await,
            LiveStore::Postgres(p) => p.templates().await,
        }
    }

    /// Deletes a saved template; what it was, or `None`.
    pub async fn delete_template(&self, id: i64) -> Result<Option<Template>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.delete_template(id)).await,
            LiveStore::Postgres(p) => p.delete_template(id).await,
        }
    }

    /// The photos of event `id` (without their bytes), by number.
    pub async fn photos(&self, id: u64) -> Result<Vec<PhotoInfo>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.photos(id)).await,
            LiveStore::Postgres(p) => p.photos(id).await,
        }
    }

    /// Photo `seq` of event `id`, with its bytes.
    pub async fn photo(&self, id: u64, seq: u8) -> Result<Option<Photo>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.photo(id, seq)).await,
            LiveStore::Postgres(p) => p.photo(id, seq).await,
        }
    }

    /// The events this store changed since the city's files, to lay over
    /// them at start-up: the embedded store's; none for PostGIS, which the
    /// city was loaded from with every change.
    pub async fn changed_events(&self) -> Result<Vec<Event>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, |s| s.events()).await,
            LiveStore::Postgres(_) => Ok(Vec::new()),
        }
    }

    /// The current state of these events, read from the store (PostGIS:
    /// changes other servers announced; the embedded store has no others).
    pub async fn events(&self, ids: &[u64]) -> Result<Vec<Event>, StoreError> {
        match self {
            LiveStore::Embedded(_) => Ok(Vec::new()),
            LiveStore::Postgres(p) => p.events(ids).await,
        }
    }

    /// Every event changed at or after `since` (PostGIS; none otherwise).
    pub async fn events_changed_since(&self, since: i64) -> Result<Vec<Event>, StoreError> {
        match self {
            LiveStore::Embedded(_) => Ok(Vec::new()),
            LiveStore::Postgres(p) => p.events_changed_since(since).await,
        }
    }

    /// Records applied ship positions and their crossings (all or nothing).
    pub async fn record_ships(
        &self,
        positions: Vec<ShipPosition>,
        crossings: Vec<Crossing>,
    ) -> Result<(), StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| s.record_ships(&positions, &crossings)).await
            }
            LiveStore::Postgres(p) => p.record_ships(&positions, &crossings).await,
        }
    }

    /// Every ship's latest recorded position, by MMSI.
    pub async fn latest_ship_positions(&self) -> Result<Vec<ShipPosition>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, |s| s.latest_ship_positions()).await,
            LiveStore::Postgres(p) => p.latest_ship_positions().await,
        }
    }

    /// Each ship's recorded positions of the last `secs` seconds before its
    /// latest, by MMSI, oldest first.
    pub async fn recent_ship_positions(&self, secs: i64) -> Result<Vec<ShipPosition>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.recent_ship_positions(secs)).await,
            LiveStore::Postgres(p) => p.recent_ship_positions(secs).await,
        }
    }

    /// One ship's recorded positions from `from` on, oldest first.
    pub async fn ship_track(&self, mmsi: u32, from: i64) -> Result<Vec<ShipPosition>, StoreError> {
        match self {
            LiveStore::Embedded(s) => blocking(s, move |s| s.ship_track(mmsi, from)).await,
            LiveStore::Postgres(p) => p.ship_track(mmsi, from).await,
        }
    }

    /// Recorded crossings, oldest first, of one port or all.
    pub async fn crossings(
        &self,
        port: Option<String>,
        from: i64,
        to: i64,
    ) -> Result<Vec<Crossing>, StoreError> {
        match self {
            LiveStore::Embedded(s) => {
                blocking(s, move |s| s.crossings(port.as_deref(), from, to)).await
            }
            LiveStore::Postgres(p) => p.crossings(port.as_deref(), from, to).await,
        }
    }
}
