//! The live core over a real embedded store (a GeoPackage file in a
//! temporary folder) and a small synthetic city: changes reach the served
//! snapshot, survive a reopen, are not lost when the caller goes away; ship
//! tracks and crossings answered from memory agree with the store.

use onemap_core::workflow::{Actor, Scope};
use onemap_core::{AreaId, EventCategory, EventStatus, Level, Role};
use onemap_index::City;
use onemap_live::{Live, LiveError, MoveInput, PositionInput, ReportInput};
use onemap_store::{EmbeddedStore, LiveStore, StoreError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn city() -> City {
    let (_, data) = onemap_synth::generate(&onemap_synth::SynthConfig {
        seed: 5,
        scale: 0.01,
        events: Some(2_000),
        ..Default::default()
    })
    .unwrap();
    City::build(data).unwrap()
}

async fn open(city: City, file: &Path) -> Arc<Live> {
    let store = LiveStore::Embedded(Arc::new(EmbeddedStore::open(file).unwrap()));
    Arc::new(Live::open(city, 1 << 20, Some(store)).await.unwrap())
}

fn actor(role: Role, scope: Scope) -> Actor {
    Actor {
        role,
        account: format!("tok_{role}_{scope}"),
        scope,
        name: format!("{role}"),
    }
}

/// A unit of the city and a point inside it.
fn a_unit(city: &City) -> (AreaId, f64, f64) {
    let units = city.areas().level(Level::Unit);
    let u = &units[units.len() / 2];
    let f = city.feature(onemap_core::Layer::Units, u.id.get()).unwrap();
    (u.id, f.lon, f.lat)
}

fn report(unit: AreaId, key: Option<&str>) -> ReportInput {
    ReportInput {
        lon: None,
        lat: None,
        unit: Some(unit.get().to_string()),
        category: EventCategory::Drainage,
        description: " 下水道堵塞 ".into(),
        idempotency_key: key.map(String::from),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_snapshot_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onemap.gpkg");
    let base = city();
    let (unit, lon, lat) = a_unit(&base);
    let live = open(base.clone(), &file).await;
    let leader = actor(Role::UnitLeader, Scope::Area(unit.parent().unwrap()));
    let town = actor(
        Role::TownOffice,
        Scope::Area(unit.ancestor_at(Level::Town).unwrap()),
    );
    let dept = actor(Role::Department, Scope::Department("水务局".into()));

    let first = live
        .report(leader.clone(), report(unit, Some("k1")))
        .await
        .unwrap();
    assert!(first.created);
    let id = first.record.event.id;
    assert!(base.event(id).is_none(), "a new id, after the city's");
    assert_eq!(first.record.description, "下水道堵塞", "trimmed");
    // Served as soon as the call returns.
    let seen = live.city().event(id).expect("in the snapshot");
    assert_eq!((seen.status, seen.unit), (EventStatus::Reported, unit));
    // The same key: the first event, nothing new.
    let again = live
        .report(leader.clone(), report(unit, Some("k1")))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.record, first.record);
    assert_eq!(live.city().max_id(onemap_core::Layer::Events), Some(id));

    // Bad input is refused before anything is written.
    let mut far = report(unit, None);
    (far.lon, far.lat) = (Some(lon), Some(lat));
    let elsewhere = base.areas().level(Level::Unit)[0].id;
    far.unit = Some(elsewhere.get().to_string());
    assert!(matches!(
        live.report(leader.clone(), far).await,
        Err(LiveError::UnitMismatch { .. }) | Err(LiveError::Store(StoreError::Workflow(_)))
    ));
    let mut empty = report(unit, None);
    empty.description = "  ".into();
    assert!(matches!(
        live.report(leader.clone(), empty).await,
        Err(LiveError::InvalidDescription { .. })
    ));
    let mut sea = report(unit, None);
    (sea.lon, sea.lat, sea.unit) = (Some(119.9), Some(24.9), None);
    assert!(matches!(
        live.report(leader.clone(), sea).await,
        Err(LiveError::OutsideCity { .. })
    ));

    let step = |to, routed: Option<&str>| MoveInput {
        to,
        routed_to: routed.map(String::from),
        note: Some("  ".into()),
    };
    live.transition(town.clone(), id, step(EventStatus::Discussing, None))
        .await
        .unwrap();
    // Skipping a step changes nothing.
    assert!(matches!(
        live.transition(town.clone(), id, step(EventStatus::Closed, None))
            .await,
        Err(LiveError::Store(StoreError::Workflow(_)))
    ));
    live.transition(town.clone(), id, step(EventStatus::Routed, Some("水务局")))
        .await
        .unwrap();
    let rec = live
        .transition(dept, id, step(EventStatus::Handled, None))
        .await
        .unwrap();
    assert_eq!(rec.routed_to.as_deref(), Some("水务局"));
    assert_eq!(live.city().event(id).unwrap().status, EventStatus::Handled);
    assert!(matches!(
        live.transition(
            town.clone(),
            999_999_999,
            step(EventStatus::Discussing, None)
        )
        .await,
        Err(LiveError::UnknownEvent(999_999_999))
    ));
    let view = live.event(id, Some(&town)).await.unwrap();
    let tos: Vec<EventStatus> = view.history.unwrap().iter().map(|h| h.to).collect();
    assert_eq!(
        tos,
        [
            EventStatus::Reported,
            EventStatus::Discussing,
            EventStatus::Routed,
            EventStatus::Handled
        ]
    );
    assert_eq!(view.assigned_unit, Some(unit));
    drop(live);

    // Reopened over the same files: the change is laid over the city again.
    let live = open(base.clone(), &file).await;
    assert_eq!(live.events_from_store(), 1);
    assert_eq!(live.city().event(id).unwrap().status, EventStatus::Handled);
    // A base event no one moved: no history, nothing the loop added.
    let untouched = base.event(1).map(|e| e.id).unwrap_or(id);
    if untouched != id {
        let city_viewer = actor(Role::Viewer, Scope::City);
        let v = live.event(untouched, Some(&city_viewer)).await.unwrap();
        assert_eq!((v.description, v.history), (None, Some(Vec::new())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_goes_away_still_gets_its_change_applied() {
    let dir = tempfile::tempdir().unwrap();
    let base = city();
    let (unit, _, _) = a_unit(&base);
    let before = base.len(onemap_core::Layer::Events);
    let live = open(base, &dir.path().join("onemap.gpkg")).await;
    let leader = actor(Role::UnitLeader, Scope::Area(unit));
    // Each call is polled once (it gets as far as handing its work over)
    // and then dropped, as when a client hangs up.
    let mut dropped = 0;
    for i in 0..20 {
        let call = live.report(leader.clone(), report(unit, Some(&format!("gone-{i}"))));
        match tokio::time::timeout(Duration::ZERO, call).await {
            Err(_) => dropped += 1,
            // Done before the first poll ended (another worker was quick).
            Ok(done) => assert!(done.is_ok(), "{done:?}"),
        }
    }
    assert!(dropped > 0, "no call was dropped half-way");
    // Every one is committed and reaches the served city.
    let mut seen = 0;
    for _ in 0..600 {
        seen = live.city().len(onemap_core::Layer::Events) - before;
        if seen == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, 20, "every report whose caller went away is applied");
    // And each is in the store, under its key: a retry is answered with it.
    for i in 0..20 {
        let r = live
            .report(leader.clone(), report(unit, Some(&format!("gone-{i}"))))
            .await
            .unwrap();
        assert!(!r.created, "gone-{i} was committed");
        assert!(live.city().event(r.record.event.id).is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_reports_at_once_are_each_served_when_answered() {
    let dir = tempfile::tempdir().unwrap();
    let base = city();
    let (unit, _, _) = a_unit(&base);
    let live = open(base, &dir.path().join("onemap.gpkg")).await;
    let leader = actor(Role::UnitLeader, Scope::Area(unit));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (live, who) = (Arc::clone(&live), leader.clone());
        tasks.push(tokio::spawn(async move {
            let r = live
                .report(who, report(unit, Some(&format!("many-{i}"))))
                .await
                .unwrap();
            // Answered only once a served snapshot holds it.
            assert!(live.city().event(r.record.event.id).is_some());
            r.record.event.id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "distinct ids");
    assert_eq!(ids[39] - ids[0], 39, "consecutive ids");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracks_and_crossings_from_memory_agree_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onemap.gpkg");
    let base = city();
    let live = open(base.clone(), &file).await;
    let ship = base
        .ships()
        .iter()
        .find(|s| s.in_port)
        .expect("a ship in port")
        .clone();
    let feed = actor(Role::ShipFeed, Scope::City);
    let at = |dt: i64, dlat: f64, speed: f32| PositionInput {
        mmsi: ship.mmsi,
        time: Some(ship.reported_at + dt),
        lon: ship.lon,
        lat: ship.lat + dlat,
        speed_kn: speed,
        course_deg: 0.0,
    };
    // Out of port 1.1 km north in 2 min, a time that did not parse, then
    // back in port.
    let mut unparsed = at(300, 0.0, 0.0);
    unparsed.time = None;
    let batch = vec![at(120, 0.01, 18.0), unparsed, at(600, 0.0, 0.5)];
    let viewer = actor(Role::Viewer, Scope::City);
    assert!(matches!(
        live.ingest_positions(&viewer, batch.clone()).await,
        Err(LiveError::Forbidden(_))
    ));
    let mut rx = live.subscribe();
    let out = live.ingest_positions(&feed, batch).await.unwrap();
    assert_eq!((out.applied, out.rejected), (2, 1));
    let arrivals: Vec<bool> = out.crossings.iter().map(|c| c.arrival).collect();
    assert_eq!(arrivals, [false, true]);
    let names: Vec<&str> = (0..4)
        .map(|_| rx.try_recv().expect("a stream message").name())
        .collect();
    assert_eq!(names, ["position", "departure", "position", "arrival"]);
    // Later reports and an older one (stale: nothing recorded).
    let out = live
        .ingest_positions(&feed, vec![at(660, 0.0, 0.0), at(30, 0.0, 0.0)])
        .await
        .unwrap();
    assert_eq!((out.applied, out.stale), (1, 1));

    let store = EmbeddedStore::open(&file).unwrap();
    let check = |live: &Live| {
        let (now, track) = live.ship_track(ship.mmsi).unwrap();
        assert_eq!(now.reported_at, ship.reported_at + 660);
        let stored: Vec<[f64; 2]> = store
            .ship_track(ship.mmsi, now.reported_at - onemap_live::TRACK_SECS)
            .unwrap()
            .iter()
            .map(|p| [p.lon, p.lat])
            .collect();
        assert_eq!(track, stored);
        assert_eq!(track.len(), 3);
        for (from, to) in [(i64::MIN, i64::MAX), (ship.reported_at + 121, i64::MAX)] {
            assert_eq!(
                live.crossings(None, from, to),
                store.crossings(None, from, to).unwrap()
            );
        }
        let port = &live.crossings(None, i64::MIN, i64::MAX)[0].port;
        assert_eq!(live.crossings(Some(port), i64::MIN, i64::MAX).len(), 2);
        assert!(live
            .crossings(Some("无此港"), i64::MIN, i64::MAX)
            .is_empty());
    };
    check(&live);
    assert!(matches!(live.ship_track(1), Err(LiveError::UnknownShip(1))));
    drop(live);
    // Reopened: the fleet, the tracks and the crossings come back.
    let live = open(base, &file).await;
    check(&live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_text_is_for_readers_whose_scope_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = city();
    let (unit, _, _) = a_unit(&base);
    let live = open(base.clone(), &dir.path().join("onemap.gpkg")).await;
    let leader = actor(Role::UnitLeader, Scope::Area(unit));
    let id = live
        .report(leader.clone(), report(unit, None))
        .await
        .unwrap()
        .record
        .event
        .id;
    let town = unit.ancestor_at(Level::Town).unwrap();
    let other_town = base
        .areas()
        .level(Level::Town)
        .iter()
        .map(|a| a.id)
        .find(|t| *t != town)
        .unwrap();
    let office = actor(Role::TownOffice, Scope::Area(town));
    let stranger = actor(Role::TownOffice, Scope::Area(other_town));
    let water = actor(Role::Department, Scope::Department("水务局".into()));
    for (who, sees) in [
        (Some(&leader), true),
        (Some(&office), true),
        (Some(&actor(Role::Viewer, Scope::City)), true),
        (Some(&stranger), false),
        (Some(&water), false),
        (None, false),
    ] {
        let v = live.event(id, who).await.unwrap();
        assert_eq!(v.private, !sees, "{who:?}");
        assert_eq!(v.description.is_some(), sees, "{who:?}");
        assert_eq!(v.reporter.is_some(), sees, "{who:?}");
        assert_eq!(v.history.is_some(), sees, "{who:?}");
        // What the public map shows is there for everyone.
        assert_eq!((v.event.id, v.event.unit), (id, unit));
    }
    // Once routed to it, the department reads it too.
    for (to, routed) in [
        (EventStatus::Discussing, None),
        (EventStatus::Routed, Some("水务局")),
    ] {
        let mv = MoveInput {
            to,
            routed_to: routed.map(String::from),
            note: None,
        };
        live.transition(office.clone(), id, mv).await.unwrap();
    }
    assert!(!live.event(id, Some(&water)).await.unwrap().private);
}
