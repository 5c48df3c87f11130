//! What the workspace's PostGIS end-to-end tests (`tests/postgres.rs`,
//! `tests/pg_live.rs`) share: a fresh database per test, SQL behind the
//! server's back, and the `onemap` command line.
//!
//! The server comes from `ONEMAP_TEST_POSTGRES` (see `pg_support`); without
//! it every test fails, never skips.

// Each test file that includes this module uses a different part of it.
#![allow(dead_code)]

#[path = "../../crates/onemap-store/tests/pg_support/mod.rs"]
mod pg_support;

pub use pg_support::{server_url, with_db};

use super::http_support::BIN;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Runs `f` with a client of `url` on a runtime of its own.
fn with_client<T>(url: &str, f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        tokio::spawn(conn);
        f(&client).await
    })
}

/// Runs SQL on `url`'s database.
pub fn execute(url: &str, sql: &str) {
    with_client(url, async |c| {
        c.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
    })
}

/// Runs SQL on the test server's maintenance database.
pub fn admin(sql: &str) {
    execute(&server_url(), sql)
}

/// The one `bigint` a query answers (`SELECT count(*) …`).
pub fn query_i64(url: &str, sql: &str) -> i64 {
    query_i64s(url, sql)[0]
}

/// The `bigint` columns of the one row a query answers.
pub fn query_i64s(url: &str, sql: &str) -> Vec<i64> {
    with_client(url, async |c| {
        let row = c
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        (0..row.len()).map(|i| row.get::<_, i64>(i)).collect()
    })
}

/// Every row of a query, each as its columns read as text (`::text` casts
/// belong in the SQL; NULL reads as `None`).
pub fn query_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    with_client(url, async |c| {
        c.query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.get::<_, Option<String>>(i))
                    .collect()
            })
            .collect()
    })
}

/// A fresh empty database, dropped at the end (when the test passes).
pub struct TestDb {
    pub url: String,
    pub name: String,
    /// The server's maintenance URL.
    server: String,
}

impl TestDb {
    /// A database on the test server (`ONEMAP_TEST_POSTGRES`).
    pub fn new() -> TestDb {
        TestDb::on(&server_url())
    }

    /// A database on the server at `server` (a URL of its maintenance database).
    pub fn on(server: &str) -> TestDb {
        let name = format!(
            "onemap_cli_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        execute(server, &format!("DROP DATABASE IF EXISTS {name}"));
        execute(server, &format!("CREATE DATABASE {name}"));
        TestDb {
            url: with_db(server, &name),
            name,
            server: server.to_string(),
        }
    }

    /// Rows of a table (`count(*)`).
    pub fn count(&self, table: &str) -> i64 {
        query_i64(&self.url, &format!("SELECT count(*) FROM {table}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            execute(
                &self.server,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            );
        }
    }
}

pub fn onemap(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run onemap")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs onemap, expecting success; returns its output.
pub fn ok(args: &[&str]) -> String {
    let o = onemap(args);
    assert!(o.status.success(), "onemap {args:?} failed: {}", text(&o));
    text(&o)
}

/// Runs onemap, expecting failure with one `error:` line on stderr.
pub fn fails(args: &[&str]) -> String {
    let o = onemap(args);
    assert!(
        !o.status.success(),
        "onemap {args:?} should fail: {}",
        text(&o)
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

/// `onemap synth --scale 0.02 --seed SEED [--events N]` into `dir`.
pub fn synth(dir: &Path, seed: &str, events: Option<u64>) {
    let n = events.map(|n| n.to_string());
    let mut args = vec![
        "synth",
        "--seed",
        seed,
        "--scale",
        "0.02",
        "--out",
        dir.to_str().unwrap(),
    ];
    if let Some(n) = &n {
        args.extend(["--events", n.as_str()]);
    }
    ok(&args);
}

/// A small city synthesized into `dir`, migrated and imported into `db`.
pub fn city_in(db: &TestDb, dir: &Path, seed: &str, events: Option<u64>) {
    synth(dir, seed, events);
    ok(&["db", "migrate", "--postgres", &db.url]);
    ok(&["import", "--postgres", &db.url, dir.to_str().unwrap()]);
}
