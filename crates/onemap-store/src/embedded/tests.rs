//! The embedded store kept and read back: reports, moves, tokens, ship
//! history, migrations of older files, files that are not ours.

use super::schema::{GPKG_APPLICATION_ID, GPKG_VERSION, MIGRATIONS, SCHEMA_V1, SCHEMA_VERSION};
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
    // Every migration ran, once, in order, up to this onemap's version.
    let expected: Vec<i64> = std::iter::once(1)
        .chain(MIGRATIONS.iter().map(|m| m.0))
        .collect();
    assert_eq!(versions, expected);
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>(), "no gap");
    assert_eq!(versions.last(), Some(&SCHEMA_VERSION));
    // A later version than this onemap knows is refused.
    let later = SCHEMA_VERSION + 1;
    s.lock()
        .execute("INSERT INTO onemap_schema (version) VALUES (?1)", [later])
        .unwrap();
    drop(s);
    let e = EmbeddedStore::open(&path).unwrap_err();
    assert!(
        e.to_string().contains(&format!("schema version {later}")),
        "{e}"
    );
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

fn photo(n: u8) -> crate::NewPhoto {
    crate::NewPhoto {
        media_type: "image/jpeg".into(),
        width: 100 + u32::from(n),
        height: 50,
        bytes: vec![0xFF, 0xD8, n, 0xFF, 0xD9],
    }
}

#[test]
fn photos_are_kept_up_to_three_by_the_units_leader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    let leader = actor(Role::UnitLeader, &format!("area:{}", UNIT / 1000));
    let elsewhere = actor(Role::UnitLeader, &format!("area:{}", UNIT + 1));
    let town = actor(Role::TownOffice, "area:350302001");
    let s = EmbeddedStore::open(&path).unwrap();
    let (rec, _) = s.report(&leader, 1000, &report(None), 10).unwrap();
    let id = rec.event.id;
    // Who may not: another unit's leader, a town office; nothing kept.
    for who in [&elsewhere, &town] {
        let e = s.add_photo(who, id, None, &photo(0), 11).unwrap_err();
        assert!(matches!(e, StoreError::Workflow(_)), "{e}");
    }
    assert!(s.photos(id).unwrap().is_empty());
    // Three, numbered in order; the fourth refused.
    for n in 1..=3u8 {
        let info = s
            .add_photo(&leader, id, None, &photo(n), 20 + i64::from(n))
            .unwrap();
        assert_eq!(
            (info.seq, info.width, info.at),
            (n, 100 + u32::from(n), 20 + i64::from(n))
        );
        assert_eq!(info.uploader, leader.name);
        assert_eq!(info.account, leader.account);
    }
    let e = s.add_photo(&leader, id, None, &photo(4), 30).unwrap_err();
    assert!(matches!(e, StoreError::TooManyPhotos { max: 3, .. }), "{e}");
    // No such event: not in the store and no base given.
    let e = s
        .add_photo(&leader, 999_999, None, &photo(1), 30)
        .unwrap_err();
    assert!(matches!(e, StoreError::UnknownEvent(999_999)), "{e}");
    // A base event of the city's files (not in the store) takes photos too.
    let base = Event {
        id: 7,
        ..rec.event.clone()
    };
    assert_eq!(
        s.add_photo(&leader, 7, Some(&base), &photo(9), 31)
            .unwrap()
            .seq,
        1
    );
    drop(s);
    // Kept across a restart, bytes and all.
    let s = EmbeddedStore::open(&path).unwrap();
    let listed: Vec<u8> = s.photos(id).unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(listed, vec![1, 2, 3]);
    let p = s.photo(id, 2).unwrap().unwrap();
    assert_eq!(p.bytes, photo(2).bytes);
    assert_eq!((p.info.width, p.info.height), (102, 50));
    assert!(s.photo(id, 4).unwrap().is_none());
    assert!(s.photo(8, 1).unwrap().is_none());
    assert_eq!(s.photo(7, 1).unwrap().unwrap().bytes, photo(9).bytes);
}
