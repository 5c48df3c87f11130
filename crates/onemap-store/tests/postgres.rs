//! The PostGIS store against a real PostgreSQL + PostGIS server.
//!
//! The server comes from `ONEMAP_TEST_POSTGRES` (a URL whose user may create
//! databases); `scripts/test.sh` starts a throwaway cluster and sets it
//! (`scripts/pg-test-cluster.sh` does the same by hand). Without it these
//! tests fail: they never pass without having run. Each test works in a
//! database of its own.

use onemap_core::{CityData, CityMeta, Layer};
use onemap_store::postgres::{registry, schema_version, PgStore};
use onemap_store::{read_city_dir, write_city_dir, ImportMode, PgError};
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
    assert_eq!(first, (1..=schema_version()).collect::<Vec<_>>());
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
    assert_eq!(recorded, i64::from(schema_version()));

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
