//! The PostGIS store against a real PostgreSQL + PostGIS server.
//!
//! The server comes from `ONEMAP_TEST_POSTGRES` (a URL whose user may create
//! databases); `scripts/test.sh` starts a throwaway cluster and sets it
//! (`scripts/pg-test-cluster.sh` does the same by hand). Without it these
//! tests fail: they never pass without having run. Each test works in a
//! database of its own.

use onemap_core::{CityData, CityMeta, Layer};
use onemap_store::postgres::{registry, schema_version, PgStore, MIGRATIONS};
use onemap_store::{read_city_dir, write_city_dir, ImportMode, Notice, PgError, PgLive};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

mod pg_support;

use pg_support::{server_url, with_db};

/// A fresh, empty database (PostGIS is created by the first migration).
struct TestDb {
    url: String,
    name: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    async fn new() -> TestDb {
        let server = server_url();
        let name = format!(
            "onemap_store_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let admin = sql(&server).await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        TestDb {
            url: with_db(&server, &name),
            name,
        }
    }

    async fn store(&self) -> PgStore {
        PgStore::connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    async fn drop_db(self) {
        sql(&server_url())
            .await
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}

/// A plain client of our own, to look at the database behind the store's back.
async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

fn small_city(seed: u64) -> (CityMeta, CityData) {
    onemap_synth::generate(&onemap_synth::SynthConfig {
        seed,
        scale: 0.02,
        events: Some(5_000),
        ..Default::default()
    })
    .expect("generate a small city")
}

fn dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn assert_same_city(a: &CityData, b: &CityData) {
    assert_eq!(
        a.areas.iter().collect::<Vec<_>>(),
        b.areas.iter().collect::<Vec<_>>()
    );
    assert_eq!(a.events, b.events);
    assert_eq!(a.ships, b.ships);
    assert_eq!(a.heritage, b.heritage);
    assert_eq!(a.homesteads, b.homesteads);
    assert_eq!(a.enterprises, b.enterprises);
    assert_eq!(a.schools, b.schools);
}

/// Every index and constraint of the public schema, as the server defines them.
async fn schema_snapshot(url: &str) -> Vec<String> {
    let c = sql(url).await;
    let mut out: Vec<String> = c
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
             UNION ALL
             SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    out.sort();
    out
}

fn no_progress() -> impl FnMut(&'static str, u64) + Send {
    |_, _| {}
}

#[tokio::test]
async fn migrations_are_idempotent_and_make_the_registry_schema() {
    let db = TestDb::new().await;
    let mut store = db.store().await;
    assert_eq!(store.schema_version().await.unwrap(), 0);
    let first = store.migrate().await.unwrap();
    let versions: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(first, versions);
    // Twice more, from a new connection too: nothing left to apply.
    assert_eq!(store.migrate().await.unwrap(), Vec::<i32>::new());
    let mut again = db.store().await;
    assert_eq!(again.migrate().await.unwrap(), Vec::<i32>::new());
    assert_eq!(store.schema_version().await.unwrap(), schema_version());

    let c = sql(&db.url).await;
    let recorded: i64 = c
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, MIGRATIONS.len() as i64);

    // Every table has exactly the registry's columns, in order, with its types.
    for (table, columns) in registry() {
        let rows = c
            .query(
                "SELECT column_name::text, udt_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                &[&table],
            )
            .await
            .unwrap();
        let found: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let expected: Vec<(String, String)> = columns
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(found, expected, "columns of {table}");
    }

    // Layer geometry is EPSG:4326 with a GiST index.
    for layer in Layer::ALL {
        let srid: i32 = c
            .query_one(
                "SELECT srid FROM geometry_columns WHERE f_table_name = $1 AND f_geometry_column = 'geom'",
                &[&layer.as_str()],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(srid, 4326, "{layer}");
        let gist: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%USING gist (geom)%'",
                &[&layer.as_str()],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(gist, 1, "GiST index on {layer}");
    }

    // Foreign keys along the area tree, and from events to units.
    let fks: Vec<(String, String)> = c
        .query(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
             WHERE contype = 'f' ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (child, parent) in [
        ("event_history", "events"),
        ("events", "units"),
        ("grids", "villages"),
        ("towns", "districts"),
        ("units", "grids"),
        ("villages", "towns"),
    ] {
        assert!(
            fks.contains(&(child.to_string(), parent.to_string())),
            "{child} -> {parent} missing in {fks:?}"
        );
    }
    drop((store, again));
    db.drop_db().await;
}

#[tokio::test]
async fn import_then_export_gives_byte_identical_files() {
    let db = TestDb::new().await;
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    let (meta, city) = small_city(5);
    write_city_dir(&first, &meta, &city).unwrap();
    let (meta, city) = read_city_dir(&first).unwrap();

    let mut store = db.store().await;
    store.migrate().await.unwrap();
    let schema = schema_snapshot(&db.url).await;
    assert!(schema.len() > 40, "{schema:?}");
    let mut reported = BTreeMap::<&str, u64>::new();
    let mut progress = |t: &'static str, n: u64| *reported.entry(t).or_default() += n;
    store
        .import(&meta, &city, ImportMode::Refuse, &mut progress)
        .await
        .unwrap();
    assert_eq!(reported["events"], city.events.len() as u64);
    // The bulk load put back every index and constraint it took off.
    assert_eq!(schema_snapshot(&db.url).await, schema);
    assert_eq!(
        reported["units"],
        city.areas.level(onemap_core::Level::Unit).len() as u64
    );

    let counts = store.counts().await.unwrap();
    let by_layer: BTreeMap<Layer, u64> = counts.into_iter().collect();
    assert_eq!(by_layer[&Layer::Events], city.events.len() as u64);
    assert_eq!(by_layer[&Layer::Ships], city.ships.len() as u64);
    assert!(by_layer[&Layer::Units] > 1000, "{by_layer:?}");

    // Real PostGIS geometry: every unit lies within its grid.
    let outside: i64 = sql(&db.url)
        .await
        .query_one(
            "SELECT count(*) FROM units u JOIN grids g ON g.id = u.parent_id
             WHERE NOT ST_Covers(g.geom, u.geom)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(outside, 0);

    let mut fresh = db.store().await;
    let (meta_back, city_back) = fresh.load(&mut no_progress()).await.unwrap();
    assert_eq!(meta_back, meta);
    assert_same_city(&city, &city_back);
    write_city_dir(&second, &meta_back, &city_back).unwrap();
    let (a, b) = (dir_files(&first), dir_files(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs after the round trip");
    }
    drop((store, fresh));
    db.drop_db().await;
}

#[tokio::test]
async fn import_refuses_a_non_empty_database_and_replaces_atomically() {
    let db = TestDb::new().await;
    let mut store = db.store().await;

    // Not migrated: a clear error, nothing written.
    let (meta_a, city_a) = small_city(1);
    let e = store
        .import(&meta_a, &city_a, ImportMode::Refuse, &mut no_progress())
        .await
        .unwrap_err();
    assert!(matches!(e, PgError::NotMigrated { found: 0, .. }), "{e}");
    assert!(e.to_string().contains("onemap db migrate"), "{e}");
    store.migrate().await.unwrap();
    let schema = schema_snapshot(&db.url).await;
    let e = store.load(&mut no_progress()).await.unwrap_err();
    assert!(matches!(e, PgError::NoCity), "{e}");

    store
        .import(&meta_a, &city_a, ImportMode::Refuse, &mut no_progress())
        .await
        .unwrap();

    // A second import without --replace is refused and changes nothing.
    let (meta_b, city_b) = small_city(2);
    assert_ne!(city_a.events, city_b.events);
    let e = store
        .import(&meta_b, &city_b, ImportMode::Refuse, &mut no_progress())
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, PgError::NotEmpty { .. }), "{msg}");
    assert!(
        msg.contains("rows in events") && msg.contains("--replace"),
        "{msg}"
    );
    let (_, now) = store.load(&mut no_progress()).await.unwrap();
    assert_same_city(&city_a, &now);

    // A replacement that fails late (the last event names a unit that does
    // not exist: the foreign key fails only after every row was sent) leaves
    // the old city whole.
    let mut broken = city_b.clone();
    let last = broken.events.last_mut().unwrap();
    last.unit = onemap_core::AreaId::new(999_999_999_999_999_999).unwrap();
    let e = store
        .import(&meta_b, &broken, ImportMode::Replace, &mut no_progress())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("events"), "{e}");
    // A replacement refused in Rust midway (an id too large for bigint).
    let mut broken = city_b.clone();
    broken.schools.last_mut().unwrap().id = u64::MAX;
    let e = store
        .import(&meta_b, &broken, ImportMode::Replace, &mut no_progress())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("too large"), "{e}");
    let (meta_now, now) = db.store().await.load(&mut no_progress()).await.unwrap();
    assert_eq!(meta_now, meta_a);
    assert_same_city(&city_a, &now);
    assert_eq!(schema_snapshot(&db.url).await, schema);

    // A good replacement swaps the whole city.
    store
        .import(&meta_b, &city_b, ImportMode::Replace, &mut no_progress())
        .await
        .unwrap();
    let (meta_now, now) = db.store().await.load(&mut no_progress()).await.unwrap();
    assert_eq!(meta_now, meta_b);
    assert_same_city(&city_b, &now);
    assert_eq!(schema_snapshot(&db.url).await, schema);
    drop(store);
    db.drop_db().await;
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_clear_errors() {
    let e = PgStore::connect("not a url").await.unwrap_err().to_string();
    assert!(e.starts_with("invalid PostgreSQL URL"), "{e}");
    let e = PgStore::connect("postgres://postgres@127.0.0.1:1/nowhere")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1/nowhere"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    // A database that does not exist on a server that does.
    let url = with_db(&server_url(), "onemap_no_such_database");
    let e = PgStore::connect(&url).await.unwrap_err().to_string();
    assert!(
        e.contains("onemap_no_such_database") && e.contains("does not exist"),
        "{e}"
    );
}

/// Waits up to 10 s for the next notice other than a resync.
async fn next_change(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Notice>) -> Option<Notice> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Notice::Resync { .. })) => continue,
            Ok(n) => return n,
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_store_reports_moves_announces_and_keeps_ship_history() {
    use onemap_core::workflow::{Actor, Scope, WorkflowError};
    use onemap_core::{EventCategory, EventStatus, Role};
    use onemap_store::{Crossing, MoveRequest, NewReport, ShipPosition, StoreError};

    let db = TestDb::new().await;
    let mut store = db.store().await;
    store.migrate().await.unwrap();
    let (meta, city) = small_city(11);
    store
        .import(&meta, &city, ImportMode::Refuse, &mut no_progress())
        .await
        .unwrap();
    let a = std::sync::Arc::new(PgLive::new(&db.url).unwrap());
    let b = std::sync::Arc::new(PgLive::new(&db.url).unwrap());
    let mut heard_by_b = b.listen(0);
    let mut heard_by_a = a.listen(0);
    // The first notice is the resync from `since`.
    assert_eq!(
        heard_by_b.recv().await,
        Some(Notice::Resync { since: 0 }),
        "the listener starts with a resync"
    );
    assert_eq!(heard_by_a.recv().await, Some(Notice::Resync { since: 0 }));

    // Tokens: only the hash is kept; an unknown token is no one.
    let unit = city.events[0].unit;
    let grid = unit.parent().unwrap();
    let leader_scope = Scope::Area(grid);
    let token = a
        .create_token(Role::UnitLeader, &leader_scope, "网格员", 1_790_000_000)
        .await
        .unwrap();
    let leader = b.actor(&token).await.unwrap().expect("the token is known");
    assert_eq!(
        leader,
        Actor {
            role: Role::UnitLeader,
            scope: leader_scope,
            name: "网格员".into(),
            // The token's public id: never part of the secret.
            account: leader.account.clone(),
        }
    );
    assert!(leader.account.starts_with("tok_") && leader.account.len() == 20);
    assert!(!token.contains(&leader.account[4..]));
    assert_eq!(b.actor("om_nope").await.unwrap(), None);
    let c = sql(&db.url).await;
    let kept: String = c
        .query_one("SELECT hash FROM tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!kept.contains(&token[3..]), "the token itself is not kept");

    // 40 reports from two servers at once: distinct ids after the city's.
    let base = city.events.iter().map(|e| e.id).max().unwrap();
    let (lon, lat) = (city.events[0].lon, city.events[0].lat);
    let report = |key: Option<String>| NewReport {
        lon,
        lat,
        unit,
        category: EventCategory::Drainage,
        description: "积水".into(),
        idempotency_key: key,
    };
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (who, r) = (leader.clone(), report(Some(format!("k{i}"))));
        tasks.push(tokio::spawn(async move {
            s.report(&who, 0, &r, 1_790_000_100).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (rec, created) = t.await.unwrap();
        assert!(created);
        assert_eq!(rec.event.status, EventStatus::Reported);
        ids.push(rec.event.id);
    }
    ids.sort_unstable();
    assert_eq!(ids, ((base + 1)..=(base + 40)).collect::<Vec<_>>());
    // The same key again: the first event, nothing new.
    let (again, created) = b
        .report(&leader, 0, &report(Some("k7".into())), 1_790_000_200)
        .await
        .unwrap();
    assert!(!created);
    let n: i64 = c
        .query_one("SELECT count(*) FROM event_reports", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 40);
    let k7: i64 = c
        .query_one(
            "SELECT event_id FROM event_reports WHERE idempotency_key = 'k7'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(again.event.id, k7 as u64);
    // Out of scope: refused before anything is written.
    let elsewhere = city
        .events
        .iter()
        .find(|e| e.unit.parent() != Some(grid))
        .unwrap();
    let far = NewReport {
        lon: elsewhere.lon,
        lat: elsewhere.lat,
        unit: elsewhere.unit,
        ..report(None)
    };
    assert!(matches!(
        a.report(&leader, 0, &far, 1_790_000_300).await,
        Err(StoreError::Workflow(WorkflowError::Forbidden(_)))
    ));

    // Each server hears the other's reports, never its own.
    let mut heard_b = std::collections::BTreeSet::new();
    let mut heard_a = std::collections::BTreeSet::new();
    while heard_b.len() + heard_a.len() < 40 {
        let (rx, set) = if heard_b.len() < 20 {
            (&mut heard_by_b, &mut heard_b)
        } else {
            (&mut heard_by_a, &mut heard_a)
        };
        match next_change(rx).await {
            Some(Notice::Changed(id)) => {
                assert!(set.insert(id), "{id} announced twice");
            }
            other => panic!("expected an announcement, got {other:?}"),
        }
    }
    assert!(heard_b.is_disjoint(&heard_a));
    assert_eq!(
        heard_a.union(&heard_b).copied().collect::<Vec<_>>(),
        ids,
        "every report announced once, to the other server"
    );

    // A move of a base event: checked against the row, written with its
    // history, announced; an illegal one changes nothing.
    let town = grid.parent().unwrap().parent().unwrap();
    let office = Actor {
        role: Role::TownOffice,
        scope: Scope::Area(town),
        name: "街道办".into(),
        account: "tok_office".into(),
    };
    // A base event of the town (no row in event_reports yet), if it has one.
    let id = city
        .events
        .iter()
        .find(|e| e.status == EventStatus::Reported && e.unit.get() / 1_000_000_000 == town.get())
        .map_or(ids[0], |e| e.id);
    let mv = |to| MoveRequest {
        to,
        routed_to: None,
        note: Some("核实".into()),
    };
    let moved = a
        .transition(&office, id, &mv(EventStatus::Discussing), 1_790_000_400)
        .await
        .unwrap();
    assert_eq!(moved.event.status, EventStatus::Discussing);
    assert!(matches!(
        b.transition(&office, id, &mv(EventStatus::Closed), 1_790_000_500)
            .await,
        Err(StoreError::Workflow(WorkflowError::IllegalMove { .. }))
    ));
    assert!(matches!(
        b.transition(
            &office,
            999_999_999,
            &mv(EventStatus::Discussing),
            1_790_000_500
        )
        .await,
        Err(StoreError::UnknownEvent(999_999_999))
    ));
    assert_eq!(
        next_change(&mut heard_by_b).await,
        Some(Notice::Changed(id))
    );
    let (rec, history) = b.event(id).await.unwrap().unwrap();
    assert_eq!(rec.event.status, EventStatus::Discussing);
    let last = history.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.actor.as_str(), last.role),
        (
            Some(EventStatus::Reported),
            EventStatus::Discussing,
            "街道办",
            Role::TownOffice
        )
    );
    assert_eq!(b.events(&[id]).await.unwrap(), vec![rec.event.clone()]);
    let since = b.events_changed_since(1_790_000_400).await.unwrap();
    assert_eq!(since, vec![rec.event]);

    // Ship history: all or nothing, the latest per ship, tracks, crossings.
    let p = |mmsi, time, lon| ShipPosition {
        mmsi,
        time,
        lon,
        lat: 25.1,
        speed_kn: 7.5,
        course_deg: 90.0,
        in_port: false,
    };
    a.record_ships(
        &[
            p(412_000_001, 1_790_000_000, 119.1),
            p(412_000_002, 1_790_000_000, 119.2),
        ],
        &[Crossing {
            mmsi: 412_000_001,
            port: "湄洲港".into(),
            arrival: false,
            time: 1_790_000_000,
        }],
    )
    .await
    .unwrap();
    a.record_ships(&[p(412_000_001, 1_790_000_060, 119.15)], &[])
        .await
        .unwrap();
    let latest = b.latest_ship_positions().await.unwrap();
    assert_eq!(
        latest,
        vec![
            p(412_000_001, 1_790_000_060, 119.15),
            p(412_000_002, 1_790_000_000, 119.2)
        ]
    );
    assert_eq!(
        b.ship_track(412_000_001, 1_790_000_030).await.unwrap(),
        vec![p(412_000_001, 1_790_000_060, 119.15)]
    );
    let crossings = b
        .crossings(Some("湄洲港"), 1_789_999_000, 1_790_001_000)
        .await
        .unwrap();
    assert_eq!(crossings.len(), 1);
    assert!(!crossings[0].arrival);
    assert!(b
        .crossings(Some("别的港"), 1_789_999_000, 1_790_001_000)
        .await
        .unwrap()
        .is_empty());

    drop((heard_by_a, heard_by_b, a, b, c));
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_keeps_idempotency_keys_per_account_and_tokens_that_expire_and_are_revoked() {
    use onemap_core::workflow::{Actor, Scope};
    use onemap_core::{EventCategory, Role};
    use onemap_store::{NewReport, StoreError, TokenGrant};

    let db = TestDb::new().await;
    let mut store = db.store().await;
    store.migrate().await.unwrap();
    let (meta, city) = small_city(12);
    store
        .import(&meta, &city, ImportMode::Refuse, &mut no_progress())
        .await
        .unwrap();
    let live = PgLive::new(&db.url).unwrap();
    let now = onemap_core::time::now();

    // Tokens: expiring, revoked, refused when the grant makes no sense.
    let grant = |role, scope: Scope, expires_at| TokenGrant {
        role,
        scope,
        name: "某人".into(),
        expires_at,
    };
    let e = &city.events[0];
    let grid = e.unit.parent().unwrap();
    let a = live
        .issue_token(
            &grant(Role::UnitLeader, Scope::Area(grid), Some(now + 3600)),
            now,
        )
        .await
        .unwrap();
    let b = live
        .issue_token(&grant(Role::UnitLeader, Scope::Area(grid), None), now)
        .await
        .unwrap();
    let old = live
        .issue_token(&grant(Role::Viewer, Scope::City, Some(now - 1)), now - 60)
        .await
        .unwrap();
    let leader_a: Actor = live.actor(&a.token).await.unwrap().unwrap();
    let leader_b: Actor = live.actor(&b.token).await.unwrap().unwrap();
    assert_eq!(
        (leader_a.account.as_str(), leader_b.account.as_str()),
        (a.id.as_str(), b.id.as_str())
    );
    assert_eq!(live.actor(&old.token).await.unwrap(), None, "expired");
    let e2 = live
        .issue_token(&grant(Role::Department, Scope::City, None), now)
        .await
        .unwrap_err();
    assert!(matches!(e2, StoreError::Workflow(_)), "{e2}");
    assert_eq!(live.tokens().await.unwrap().len(), 3);

    // The same key from two accounts: two reports; a different report under
    // one account's used key: refused.
    let report = |text: &str| NewReport {
        lon: e.lon,
        lat: e.lat,
        unit: e.unit,
        category: EventCategory::Road,
        description: text.into(),
        idempotency_key: Some("r-1".into()),
    };
    let (ra, created_a) = live
        .report(&leader_a, 0, &report("路面坑洼"), now)
        .await
        .unwrap();
    let (rb, created_b) = live
        .report(&leader_b, 0, &report("路面坑洼"), now)
        .await
        .unwrap();
    assert!(created_a && created_b, "B's report is not lost");
    assert_ne!(ra.event.id, rb.event.id);
    let (again, created) = live
        .report(&leader_a, 0, &report("路面坑洼"), now)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, ra);
    let conflict = live
        .report(&leader_a, 0, &report("别的事"), now)
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, StoreError::IdempotencyConflict { .. }),
        "{conflict}"
    );

    // Revoked: refused by every server from then on.
    let revoked = live.revoke_token(&b.id, now).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(now));
    let other_server = PgLive::new(&db.url).unwrap();
    assert_eq!(other_server.actor(&b.token).await.unwrap(), None);
    assert!(other_server.actor(&a.token).await.unwrap().is_some());
    assert!(matches!(
        live.revoke_token("tok_ffffffffffffffff", now).await,
        Err(StoreError::UnknownToken(_))
    ));
    drop((live, other_server));
    db.drop_db().await;
}

/// The one table's templates: the same answers from the embedded file and
/// from PostGIS — names unique per area (city-wide is an area of its own),
/// ids given in order, delete returns what was kept, a second delete finds
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_stores_keep_templates_alike() {
    use onemap_store::{EmbeddedStore, LiveStore, NewTemplate, StoreError, Template};
    use std::sync::Arc;

    let db = TestDb::new().await;
    let mut store = db.store().await;
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores = [
        LiveStore::Embedded(Arc::new(
            EmbeddedStore::open(&dir.path().join("onemap.gpkg")).unwrap(),
        )),
        LiveStore::Postgres(Arc::new(PgLive::new(&db.url).unwrap())),
    ];
    let new = |name: &str, area: Option<u64>| NewTemplate {
        name: name.into(),
        ledger: "people".into(),
        params: "fields=name,phone&tags=care".into(),
        area,
        account: "tok_1".into(),
        author: "某镇综治办".into(),
        at: 1_790_000_000,
    };
    let mut answers: Vec<Vec<Template>> = Vec::new();
    for s in &stores {
        let a = s
            .save_template(new("关爱人群", Some(350_304_003)))
            .await
            .unwrap();
        let b = s.save_template(new("关爱人群", None)).await.unwrap();
        let c = s
            .save_template(new("关爱人群", Some(350_304_004)))
            .await
            .unwrap();
        assert!(a.id < b.id && b.id < c.id);
        let again = s
            .save_template(new("关爱人群", Some(350_304_003)))
            .await
            .unwrap_err();
        assert!(matches!(again, StoreError::TemplateExists(_)), "{again}");
        let again = s.save_template(new("关爱人群", None)).await.unwrap_err();
        assert!(matches!(again, StoreError::TemplateExists(_)), "{again}");
        let all = s.templates().await.unwrap();
        assert_eq!(all, vec![a.clone(), b.clone(), c.clone()]);
        assert_eq!(s.delete_template(b.id).await.unwrap(), Some(b.clone()));
        assert_eq!(s.delete_template(b.id).await.unwrap(), None);
        let left = s.templates().await.unwrap();
        assert_eq!(left, vec![a, c]);
        answers.push(left);
    }
    // Ids differ between stores only if one skipped a number.
    assert_eq!(answers[0], answers[1]);
    db.drop_db().await;
}
