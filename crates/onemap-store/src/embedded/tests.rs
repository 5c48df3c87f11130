//! The embedded store kept and read back: reports, moves, tokens, ship
//! history, migrations of older files, files that are not ours.

use super::schema::{GPKG_APPLICATION_ID, GPKG_VERSION, SCHEMA_V1};
use super::*;
use crate::{Crossing, MoveRequest, NewReport, ShipPosition};
use onemap_core::{AreaId, Event, EventCategory, EventStatus};

const UNIT: u64 = 350_302_001_001_001_001;

fn actor(role: Role, scope: &str) -> Actor {
    Actor {
        role,
        scope: scope.parse().unwrap(),
        name: format!("{role}@{scope}"),
        account: format!("tok_{role}@{scope}"),
    }
}

fn report(key: Option<&str>) -> NewReport {
    NewReport {
        lon: 119.0,
        lat: 25.4,
        unit: AreaId::new(UNIT).unwrap(),
        category: EventCategory::Drainage,
        description: "下水道堵塞".into(),
        idempotency_key: key.map(String::from),
    }
}

#[test]
fn reports_and_moves_persist_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    let leader = actor(Role::UnitLeader, &format!("area:{}", UNIT / 1000));
    let town = actor(Role::TownOffice, "area:350302001");
    let dept = actor(Role::Department, "department:水务局");
    {
        let s = EmbeddedStore::open(&path).unwrap();
        let (rec, created) = s
            .report(&leader, 2_000_001, &report(Some("k1")), 100)
            .unwrap();
        assert!(created);
        let (again, created) = s
            .report(&leader, 2_000_002, &report(Some("k1")), 101)
            .unwrap();
        assert!(!created, "same idempotency key → same event");
        assert_eq!(again, rec);
        let (other, _) = s
            .report(&leader, 2_000_001, &report(Some("k2")), 102)
            .unwrap();
        assert_eq!(other.event.id, 2_000_002, "ids follow the store's own");
        let mv = |to, routed: Option<&str>| MoveRequest {
            to,
            routed_to: routed.map(String::from),
            note: None,
        };
        s.transition(
            &town,
            2_000_001,
            None,
            &mv(EventStatus::Discussing, None),
            110,
        )
        .unwrap();
        // Skipping a step is refused and changes nothing.
        let e = s
            .transition(&town, 2_000_001, None, &mv(EventStatus::Closed, None), 111)
            .unwrap_err();
        assert!(matches!(e, StoreError::Workflow(_)), "{e}");
        s.transition(
            &town,
            2_000_001,
            None,
            &mv(EventStatus::Routed, Some("水务局")),
            120,
        )
        .unwrap();
        let r = s
            .transition(&dept, 2_000_001, None, &mv(EventStatus::Handled, None), 130)
            .unwrap();
        assert_eq!(r.routed_to.as_deref(), Some("水务局"));
        let e = s
            .transition(&dept, 77, None, &mv(EventStatus::Handled, None), 1)
            .unwrap_err();
        assert!(matches!(e, StoreError::UnknownEvent(77)), "{e}");
    }
    // Reopened: everything is still there.
    let s = EmbeddedStore::open(&path).unwrap();
    let (rec, history) = s.event(2_000_001).unwrap().unwrap();
    assert_eq!(rec.event.status, EventStatus::Handled);
    assert_eq!(rec.description, "下水道堵塞");
    let tos: Vec<EventStatus> = history.iter().map(|h| h.to).collect();
    assert_eq!(
        tos,
        [
            EventStatus::Reported,
            EventStatus::Discussing,
            EventStatus::Routed,
            EventStatus::Handled
        ]
    );
    assert_eq!(history[2].routed_to.as_deref(), Some("水务局"));
    assert_eq!(s.events().unwrap()[0], rec.event);
    assert_eq!(s.events().unwrap().len(), 2, "{:?}", s.events().unwrap());
    assert_eq!(s.max_event_id().unwrap(), 2_000_002);
}

#[test]
fn a_base_event_is_copied_in_on_its_first_move() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE)).unwrap();
    let base = Event {
        id: 5,
        lon: 119.0,
        lat: 25.4,
        category: EventCategory::Road,
        status: EventStatus::FedBack,
        reported_at: 50,
        closed_at: None,
        status_at: 50,
        unit: AreaId::new(UNIT).unwrap(),
    };
    let town = actor(Role::TownOffice, "area:350302001");
    let mv = MoveRequest {
        to: EventStatus::Closed,
        routed_to: None,
        note: Some("done".into()),
    };
    let r = s.transition(&town, 5, Some(&base), &mv, 60).unwrap();
    assert_eq!(r.event.closed_at, Some(60));
    assert_eq!(r.event.status_at, 60);
    assert_eq!(s.events().unwrap()[0].status, EventStatus::Closed);
    // Now the stored state counts, not the base one.
    let e = s.transition(&town, 5, Some(&base), &mv, 61).unwrap_err();
    assert!(matches!(e, StoreError::Workflow(_)), "{e}");
}

#[test]
fn tokens_are_stored_hashed_and_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    let s = EmbeddedStore::open(&path).unwrap();
    let t = s
        .create_token(
            Role::TownOffice,
            &"area:350302001".parse().unwrap(),
            "龙桥街道办",
            1,
        )
        .unwrap();
    let a = s.actor(&t).unwrap().unwrap();
    assert_eq!(a.role, Role::TownOffice);
    assert_eq!(a.name, "龙桥街道办");
    assert_eq!(s.actor("om_nope").unwrap(), None);
    let stored: String = s
        .lock()
        .query_row("SELECT hash FROM tokens", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, t);
    assert!(!stored.contains(&t[3..]));
}

fn pos(mmsi: u32, time: i64, lon: f64) -> ShipPosition {
    ShipPosition {
        mmsi,
        time,
        lon,
        lat: 25.3,
        speed_kn: 6.5,
        course_deg: 45.0,
        in_port: false,
    }
}

#[test]
fn ship_positions_and_crossings_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    let s = EmbeddedStore::open(&path).unwrap();
    let dep = Crossing {
        mmsi: 7,
        port: "港".into(),
        arrival: false,
        time: 100,
    };
    s.record_ships(
        &[pos(7, 100, 119.0), pos(8, 100, 119.1)],
        std::slice::from_ref(&dep),
    )
    .unwrap();
    s.record_ships(&[pos(7, 200, 119.2)], &[]).unwrap();
    drop(s);
    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(
        s.latest_ship_positions().unwrap(),
        vec![pos(7, 200, 119.2), pos(8, 100, 119.1)]
    );
    assert_eq!(s.ship_track(7, 150).unwrap(), vec![pos(7, 200, 119.2)]);
    assert_eq!(s.ship_track(7, 0).unwrap().len(), 2);
    assert_eq!(s.crossings(Some("港"), 0, 1000).unwrap(), vec![dep.clone()]);
    assert!(s.crossings(Some("别"), 0, 1000).unwrap().is_empty());
    assert!(s.crossings(None, 101, 1000).unwrap().is_empty());
    // The table is a GeoPackage point feature table.
    let conn = s.lock();
    let kind: String = conn
        .query_row("SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'ship_positions'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "POINT");
}

#[test]
fn a_version_1_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    // A version-1 file, as an earlier onemap wrote it: a token, and an event
    // moved twice (its history rows interleaved with another event's).
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {GPKG_APPLICATION_ID}; PRAGMA user_version = {GPKG_VERSION};{SCHEMA_V1}\
             INSERT INTO onemap_schema (version) VALUES (1);\
             INSERT INTO tokens VALUES ('{}', 'ship_feed', 'city', 'feed', 0);",
            token_hash("om_secret")
        ))
        .unwrap();
        let (lon, lat) = (119.0f64, 25.4f64);
        for fid in [7i64, 8] {
            conn.execute(
                "INSERT INTO events VALUES (?1, ?2, 'road', 'discussing', 10, NULL, ?3, '坑', '李', NULL, NULL, 20)",
                rusqlite::params![fid, super::gpkg::gpkg_point(lon, lat), UNIT as i64],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO event_history (event_id, at, from_status, to_status, actor, role, routed_to, note) VALUES
               (7, 10, NULL, 'reported', '李', 'unit_leader', NULL, NULL),
               (8, 11, NULL, 'reported', '王', 'unit_leader', NULL, NULL),
               (7, 20, 'reported', 'discussing', '镇', 'town_office', NULL, '看看'),
               (8, 21, 'reported', 'discussing', '镇', 'town_office', NULL, NULL);",
        )
        .unwrap();
    }
    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(s.actor("om_secret").unwrap().unwrap().role, Role::ShipFeed);
    let (rec, history) = s.event(7).unwrap().unwrap();
    assert_eq!(rec.event.status, EventStatus::Discussing);
    assert_eq!(rec.event.unit.get(), UNIT);
    let steps: Vec<(i64, Option<EventStatus>, EventStatus, Option<&str>)> = history
        .iter()
        .map(|h| (h.at, h.from, h.to, h.note.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (10, None, EventStatus::Reported, None),
            (
                20,
                Some(EventStatus::Reported),
                EventStatus::Discussing,
                Some("看看")
            )
        ]
    );
    // The migrated history goes on where it stopped.
    let town = actor(Role::TownOffice, "area:350302001");
    let mv = MoveRequest {
        to: EventStatus::Routed,
        routed_to: Some("水务局".into()),
        note: None,
    };
    s.transition(&town, 7, None, &mv, 30).unwrap();
    let seqs: Vec<i64> = s
        .lock()
        .prepare("SELECT seq FROM event_history WHERE event_id = 7 ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(seqs, vec![0, 1, 2]);
    s.record_ships(&[pos(9, 1, 119.0)], &[]).unwrap();
    drop(s);
    let s = EmbeddedStore::open(&path).unwrap();
    assert_eq!(s.latest_ship_positions().unwrap(), vec![pos(9, 1, 119.0)]);
    assert_eq!(s.event(7).unwrap().unwrap().1.len(), 3);
    let versions: Vec<i64> = s
        .lock()
        .prepare("SELECT version FROM onemap_schema ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
    // A later version than this onemap knows is refused.
    s.lock()
        .execute("INSERT INTO onemap_schema (version) VALUES (7)", [])
        .unwrap();
    drop(s);
    let e = EmbeddedStore::open(&path).unwrap_err();
    assert!(e.to_string().contains("schema version 7"), "{e}");
}

#[test]
fn the_history_has_the_same_columns_as_in_postgis() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE)).unwrap();
    let columns = |table: &str| -> Vec<String> {
        s.lock()
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY name"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut history = crate::postgres::history_columns();
    history.sort_unstable();
    assert_eq!(columns("event_history"), history);
    assert!(columns("events").contains(&"unit_id".to_string()));
    assert!(columns("ship_positions").contains(&"at".to_string()));
    assert!(columns("ship_crossings").contains(&"at".to_string()));
}

#[test]
fn other_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.gpkg");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let e = EmbeddedStore::open(&path).unwrap_err();
    assert!(e.to_string().contains("not a GeoPackage"), "{e}");
    let text = dir.path().join("text.gpkg");
    std::fs::write(&text, "hello, not a database at all, really not").unwrap();
    assert!(EmbeddedStore::open(&text).is_err());
}

#[test]
fn idempotency_keys_belong_to_their_account() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE)).unwrap();
    let scope = format!("area:{}", UNIT / 1000);
    let a = actor(Role::UnitLeader, &scope);
    let b = Actor {
        account: "tok_someone_else".into(),
        name: "另一位网格长".into(),
        ..a.clone()
    };
    let (first, created) = s.report(&a, 10, &report(Some("r-1")), 100).unwrap();
    assert!(created);
    // Another account's same key is another report.
    let (theirs, created) = s.report(&b, 10, &report(Some("r-1")), 101).unwrap();
    assert!(created, "B's report is not lost");
    assert_ne!(theirs.event.id, first.event.id);
    assert_eq!(theirs.reporter, "另一位网格长");
    // A's retry: the same answer.
    let (again, created) = s.report(&a, 10, &report(Some("r-1")), 102).unwrap();
    assert!(!created);
    assert_eq!(again, first);
    // A's key with another report: refused, nothing written.
    let mut other = report(Some("r-1"));
    other.description = "另一件事".into();
    let e = s.report(&a, 10, &other, 103).unwrap_err();
    assert!(matches!(e, StoreError::IdempotencyConflict { .. }), "{e}");
    assert_eq!(s.events().unwrap().len(), 2);
}

#[test]
fn tokens_expire_are_revoked_and_make_sense() {
    use crate::TokenGrant;
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE)).unwrap();
    let now = onemap_core::time::now();
    let grant = |role, scope: &str, expires_at| TokenGrant {
        role,
        scope: scope.parse().unwrap(),
        name: "某人".into(),
        expires_at,
    };
    let live = s
        .issue_token(
            &grant(Role::TownOffice, "area:350302001", Some(now + 3600)),
            now,
        )
        .unwrap();
    let old = s
        .issue_token(&grant(Role::Viewer, "city", Some(now - 1)), now - 7200)
        .unwrap();
    let forever = s
        .issue_token(&grant(Role::Department, "department:水务局", None), now)
        .unwrap();
    let a = s.actor(&live.token).unwrap().expect("a valid token");
    assert_eq!(a.account, live.id);
    assert_eq!(s.actor(&old.token).unwrap(), None, "expired");
    assert!(s.actor(&forever.token).unwrap().is_some());
    // Revoked by its id: refused from then on, and listed as revoked.
    let r = s.revoke_token(&forever.id, now).unwrap();
    assert_eq!(r.revoked_at, Some(now));
    assert_eq!(s.actor(&forever.token).unwrap(), None);
    let list = s.tokens().unwrap();
    assert_eq!(list.len(), 3);
    let listed = list.iter().find(|t| t.id == forever.id).unwrap();
    assert_eq!(listed.revoked_at, Some(now));
    assert!(list.iter().all(|t| !t.id.contains(&live.token[3..])));
    assert!(matches!(
        s.revoke_token("tok_0000000000000000", now),
        Err(StoreError::UnknownToken(_))
    ));
    assert!(matches!(
        s.revoke_token("nonsense", now),
        Err(StoreError::UnknownToken(_))
    ));
    // Grants that make no sense are refused, and nothing is kept.
    for (role, scope) in [
        (Role::Department, "city"),
        (Role::UnitLeader, "city"),
        (Role::TownOffice, "area:350302"),
        (Role::ShipFeed, "area:350302001"),
    ] {
        let e = s.issue_token(&grant(role, scope, None), now).unwrap_err();
        assert!(matches!(e, StoreError::Workflow(_)), "{role} {scope}: {e}");
    }
    assert_eq!(s.tokens().unwrap().len(), 3);
}
