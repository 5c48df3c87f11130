//! End-to-end: the `onemap` binary moves a city into PostGIS and out again
//! (`db migrate`, `import`, `export`), serves it from PostGIS, and fails
//! with one-line errors on bad input.
//!
//! Needs `ONEMAP_TEST_POSTGRES`, the URL of a PostgreSQL server with PostGIS
//! whose user may create databases (`scripts/test.sh` starts a throwaway one;
//! by hand: `export ONEMAP_TEST_POSTGRES="$(bash scripts/pg-test-cluster.sh
//! start /tmp/onemap-pg)"`). Without it the tests fail, never skip.

mod http_support;
mod pg_db;

use http_support::{get, start_with, start_with_env, BIN};
use pg_db::{admin, fails, ok, query_i64, server_url, TestDb};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn synth(dir: &Path, seed: &str) {
    pg_db::synth(dir, seed, Some(5000));
}

fn dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        // The one table's ledgers/ folder: compared by `ledgers_of` (its
        // Arrow files' bytes differ: their metadata's order is a hash map's).
        .filter(|e| e.as_ref().map_or(true, |e| e.path().is_file()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// What a city directory's ledger files hold (`onemap ledgers digest`).
fn ledgers_of(dir: &Path) -> String {
    ok(&["ledgers", "digest", "--data", dir.to_str().unwrap()])
}

#[test]
fn synth_import_export_round_trips_byte_for_byte() {
    let db = TestDb::new();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let (a_s, b_s, c_s) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        c.to_str().unwrap(),
    );
    synth(&a, "4");
    synth(&c, "9");

    let first = ok(&["db", "migrate", "--postgres", &db.url]);
    assert!(first.contains("applied migration(s) 1"), "{first}");
    let second = ok(&["db", "migrate", "--postgres", &db.url]);
    assert!(second.contains("already at version"), "{second}");

    let out = ok(&["import", "--postgres", &db.url, a_s]);
    assert!(
        out.contains("imported") && out.contains("5000 events"),
        "{out}"
    );
    ok(&["export", "--postgres", &db.url, b_s]);
    let (fa, fb) = (dir_files(&a), dir_files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs after import and export");
    }
    assert_eq!(ledgers_of(&a), ledgers_of(&b), "the ledgers differ");
    let v = ok(&["validate", b_s]);
    assert!(v.contains("city is valid"), "{v}");

    // A second city is refused without --replace, and replaces with it.
    let err = fails(&["import", "--postgres", &db.url, c_s]);
    assert!(
        err.contains("already holds a city") && err.contains("--replace"),
        "{err}"
    );
    ok(&["export", "--postgres", &db.url, b_s]);
    assert_eq!(dir_files(&b), fa, "a refused import changed the database");
    assert_eq!(ledgers_of(&b), ledgers_of(&a));
    ok(&["import", "--replace", "--postgres", &db.url, c_s]);
    ok(&["export", "--postgres", &db.url, b_s]);
    assert_eq!(dir_files(&b), dir_files(&c));
    assert_eq!(
        ledgers_of(&b),
        ledgers_of(&c),
        "the ledgers were not replaced"
    );
    assert_ne!(ledgers_of(&a), ledgers_of(&c));
}

#[test]
fn bad_input_gives_one_line_errors() {
    let db = TestDb::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out_s = out.to_str().unwrap();

    let err = fails(&["db", "migrate", "--postgres", "nonsense"]);
    assert!(err.contains("invalid PostgreSQL URL"), "{err}");
    let err = fails(&[
        "export",
        "--postgres",
        "postgres://postgres@127.0.0.1:1/x",
        out_s,
    ]);
    assert!(
        err.contains("cannot connect to PostgreSQL at 127.0.0.1:1/x"),
        "{err}"
    );
    let missing = tmp.path().join("no-such-city");
    let err = fails(&["import", "--postgres", &db.url, missing.to_str().unwrap()]);
    assert!(
        err.contains("no-such-city") && err.contains("does not exist"),
        "{err}"
    );

    // Before `db migrate`: import and export say what to do, and write nothing.
    let city = tmp.path().join("city");
    synth(&city, "2");
    let err = fails(&["import", "--postgres", &db.url, city.to_str().unwrap()]);
    assert!(err.contains("onemap db migrate"), "{err}");
    let err = fails(&["export", "--postgres", &db.url, out_s]);
    assert!(err.contains("onemap db migrate"), "{err}");
    assert!(!out.exists());
    // Migrated but empty: nothing to export.
    ok(&["db", "migrate", "--postgres", &db.url]);
    let err = fails(&["export", "--postgres", &db.url, out_s]);
    assert!(err.contains("holds no city"), "{err}");
    assert!(!out.exists());
    let err = fails(&["serve", "--postgres", &db.url, "--bind", "127.0.0.1:0"]);
    assert!(err.contains("holds no city"), "{err}");
}

#[test]
fn serve_loads_the_city_from_postgis() {
    let db = TestDb::new();
    let tmp = tempfile::tempdir().unwrap();
    let city = tmp.path().join("city");
    synth(&city, "6");
    ok(&["db", "migrate", "--postgres", &db.url]);
    ok(&["import", "--postgres", &db.url, city.to_str().unwrap()]);

    let from_db = start_with(&["--postgres", &db.url, "--reconnect-secs", "0"]);
    let reconnecting = start_with(&["--postgres", &db.url, "--reconnect-secs", "1"]);
    let from_files = start_with(&["--data", city.to_str().unwrap()]);
    let h = get(&from_db.addr, "/healthz");
    assert_eq!(h.status, 200);
    let h = h.json();
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["store"]["kind"], "postgis", "{h}");
    assert_eq!(h["store"]["connected"], true, "{h}");
    // Where the database is (host, port, name; let alone a user or a
    // password) is in the server's log, not in what anyone may read.
    assert!(h["store"].get("target").is_none(), "{h}");
    let text = h.to_string();
    assert!(
        !text.contains(&db.name) && !text.contains("postgres@"),
        "{h}"
    );
    let f = get(&from_files.addr, "/healthz").json();
    assert_eq!(f["store"]["kind"], "files", "{f}");
    assert_eq!(h["layers"], f["layers"]);
    assert_eq!(h["layers"]["events"], 5000);
    for path in [
        // Overdue counts are at a moment: the same one for both.
        "/api/stats?by=town&at=2026-10-01",
        "/api/wall",
        "/api/locate?lon=119.01&lat=25.44",
    ] {
        let (a, b) = (get(&from_db.addr, path), get(&from_files.addr, path));
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.body, b.body, "{path} differs between PostGIS and files");
    }

    // The database connection goes away: the city keeps being served from
    // memory and /healthz says the server is degraded.
    admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{}' AND application_name = 'onemap'",
        db.name
    ));
    let mut h = get(&from_db.addr, "/healthz").json();
    for _ in 0..50 {
        if h["status"] == "degraded" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        h = get(&from_db.addr, "/healthz").json();
    }
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["store"]["connected"], false, "{h}");
    let (a, b) = (
        get(&from_db.addr, "/api/stats?by=town&at=2026-10-01"),
        get(&from_files.addr, "/api/stats?by=town&at=2026-10-01"),
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.body, b.body);

    // A server that reconnects is back to ok, with a new connection.
    let mut r = get(&reconnecting.addr, "/healthz").json();
    for _ in 0..100 {
        if r["store"]["reconnects"].as_u64() >= Some(1) && r["status"] == "ok" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        r = get(&reconnecting.addr, "/healthz").json();
    }
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["store"]["connected"], true, "{r}");
    assert!(r["store"]["reconnects"].as_u64() >= Some(1), "{r}");
    // The server without reconnection stays degraded.
    let h = get(&from_db.addr, "/healthz").json();
    assert_eq!(h["status"], "degraded", "{h}");
}

/// `onemap serve ARGS` with `env` (and no PGPASSWORD of the test's own),
/// expected to fail: its stderr. A server that starts instead is killed
/// after 60 s and the test fails.
fn serve_fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = Command::new(BIN)
        .env_remove("PGPASSWORD")
        .env_remove("ONEMAP_POSTGRES_URL")
        .envs(env.iter().copied())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let mut out = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).ok();
            panic!("onemap serve {args:?} should fail, but it runs: {out}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Waits (30 s at most) until onemap's connections to `db` are there and
/// all speak TLS, or none does; the counts (all, TLS) last seen.
fn connections_settle(db: &TestDb, tls: bool) -> (i64, i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (all, with_tls) = onemap_connections(db);
        let want = if tls { all } else { 0 };
        if (all >= 1 && with_tls == want) || Instant::now() > deadline {
            return (all, with_tls);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Connections to `db` from onemap's servers (application names starting
/// with `onemap`), and how many of them speak TLS.
fn onemap_connections(db: &TestDb) -> (i64, i64) {
    let n = |tls: &str| {
        query_i64(
            &server_url(),
            &format!(
                "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                 WHERE a.datname = '{}' AND a.application_name LIKE 'onemap%' {tls}",
                db.name
            ),
        )
    };
    (n(""), n("AND s.ssl"))
}

#[test]
fn serve_takes_the_password_apart_from_the_command_line_and_can_require_tls() {
    let db = TestDb::new();
    let tmp = tempfile::tempdir().unwrap();
    pg_db::city_in(&db, &tmp.path().join("city"), "3", Some(500));

    // A role that must give its password (the test cluster's pg_hba).
    let password = "s3cret-for-onemap";
    admin(&format!(
        "DO $$ BEGIN CREATE ROLE onemap_password LOGIN SUPERUSER;
         EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         ALTER ROLE onemap_password PASSWORD '{password}'"
    ));
    let url = db
        .url
        .replacen("postgres://postgres@", "postgres://onemap_password@", 1);
    assert_ne!(url, db.url);
    let err = serve_fails(&["--postgres", &url], &[]);
    assert!(err.contains("password"), "{err}");
    assert!(!err.contains(password), "{err}");

    // From PGPASSWORD.
    let s = start_with_env(&["--postgres", &url], &[("PGPASSWORD", password)]);
    assert_eq!(get(&s.addr, "/healthz").json()["status"], "ok");
    drop(s);
    // From a file (its first line).
    let file = tmp.path().join("pg-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let s = start_with(&[
        "--postgres",
        &url,
        "--postgres-password-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(get(&s.addr, "/healthz").json()["status"], "ok");
    drop(s);
    // The whole URL from ONEMAP_POSTGRES_URL, no --postgres at all.
    let full = url.replacen(
        "onemap_password@",
        &format!("onemap_password:{password}@"),
        1,
    );
    let s = start_with_env(&[], &[("ONEMAP_POSTGRES_URL", &full)]);
    assert_eq!(get(&s.addr, "/healthz").json()["store"]["kind"], "postgis");
    drop(s);
    // --help shows no value of the environment's URL.
    let help = Command::new(BIN)
        .env("ONEMAP_POSTGRES_URL", &full)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("ONEMAP_POSTGRES_URL"), "{help}");
    assert!(!help.contains(password), "{help}");

    // TLS required, the server's certificate checked against its CA (the
    // cluster's self-signed certificate): every connection speaks TLS.
    let data = pg_db::query_rows(
        &server_url(),
        "SELECT setting FROM pg_settings WHERE name = 'data_directory'",
    );
    let ca = Path::new(data[0][0].as_deref().unwrap()).join("server.crt");
    let ca = ca.to_str().unwrap();
    let s = start_with(&[
        "--postgres",
        &db.url,
        "--postgres-tls",
        "require",
        "--postgres-ca",
        ca,
    ]);
    assert_eq!(get(&s.addr, "/healthz").json()["store"]["connected"], true);
    // (The servers before it have gone once their plain connections have.)
    let (all, tls) = connections_settle(&db, true);
    assert!(
        all >= 1 && tls == all,
        "{tls} of {all} connections speak TLS"
    );
    drop(s);
    // Without TLS the same server is reached in plain text, as before.
    let s = start_with(&["--postgres", &db.url]);
    let (all, tls) = connections_settle(&db, false);
    assert!(all >= 1 && tls == 0, "{tls} of {all} connections speak TLS");
    drop(s);

    // A certificate that does not chain to the CA given is refused.
    let other = tmp.path().join("other.crt");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(tmp.path().join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let err = serve_fails(
        &[
            "--postgres",
            &db.url,
            "--postgres-tls",
            "require",
            "--postgres-ca",
            other.to_str().unwrap(),
        ],
        &[],
    );
    assert!(err.contains("cannot connect"), "{err}");

    // A server that speaks only plain text (it answers TLS requests with
    // 'N', as PostgreSQL without ssl does) is refused.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in plain.incoming() {
            let Ok(mut c) = conn else { return };
            let mut request = [0u8; 8];
            if c.read_exact(&mut request).is_ok() {
                let _ = c.write_all(b"N");
                let _ = c.read(&mut [0u8; 64]);
            }
        }
    });
    let err = serve_fails(
        &[
            "--postgres",
            &format!("postgres://postgres@127.0.0.1:{port}/x"),
            "--postgres-tls",
            "require",
        ],
        &[],
    );
    assert!(err.to_lowercase().contains("tls"), "{err}");
}
