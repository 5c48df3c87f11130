//! The closed event loop live over PostGIS (issue 6), end to end with the
//! real `onemap` binary: `serve --postgres` takes reports and moves, writes
//! nothing when it refuses one, keeps several servers on one database in
//! step, loses no acknowledged report when killed, and rides out a database
//! restart.
//!
//! Needs `ONEMAP_TEST_POSTGRES`, the URL of a PostgreSQL server with PostGIS
//! whose user may create databases (`scripts/test.sh` starts a throwaway one;
//! by hand: `export ONEMAP_TEST_POSTGRES="$(bash scripts/pg-test-cluster.sh
//! start /tmp/onemap-pg)"`). Without it the tests fail, never skip. The
//! database-restart test starts (and stops) a cluster of its own with
//! `scripts/pg-test-cluster.sh`, since it stops the server under it.

mod http_support;
mod pg_db;

use http_support::{
    events_in_tile, get, get_as, id_of, images, other_town, post, request_bytes, start_with,
    tile_at, token_with, try_post, Reply, Server,
};
use pg_db::{city_in, query_i64, query_i64s, query_rows, TestDb};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// A point inside every small city `onemap synth` makes (they share Putian's outline).
const LON: f64 = 119.0;
const LAT: f64 = 25.45;

/// A small city (seed `seed`, `events` base events) in a fresh database on
/// the test server; the temporary folder holds its files.
fn pg_city(seed: &str, events: Option<u64>) -> (tempfile::TempDir, TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    city_in(&db, &tmp.path().join("city"), seed, events);
    (tmp, db)
}

fn serve(db: &TestDb) -> Server {
    start_with(&["--postgres", &db.url])
}

fn tok(db: &TestDb, role: &str, scope: &str, name: &str) -> String {
    token_with(&["--postgres", &db.url], role, scope, name)
}

/// The areas at the test point.
struct Place {
    unit: u64,
    grid: u64,
    town: u64,
    /// A town not holding the point.
    other_town: u64,
}

fn place(a: &str) -> Place {
    let loc = get(a, &format!("/api/locate?lon={LON}&lat={LAT}")).json();
    assert!(
        loc["unit"].is_object(),
        "({LON}, {LAT}) is in no unit: {loc}"
    );
    let town = id_of(&loc["town"]["id"]);
    let other_town = other_town(a, town);
    Place {
        unit: id_of(&loc["unit"]["id"]),
        grid: id_of(&loc["grid"]["id"]),
        town,
        other_town,
    }
}

fn report(key: &str) -> String {
    json!({"lon": LON, "lat": LAT, "category": "drainage",
        "description": "下水道堵塞, 路面积水", "idempotency_key": key})
    .to_string()
}

/// Rows in `events`, `event_reports` and `event_history`.
fn loop_rows(db: &TestDb) -> [i64; 3] {
    let v = query_i64s(
        &db.url,
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_reports), \
         (SELECT count(*) FROM event_history)",
    );
    [v[0], v[1], v[2]]
}

fn body_text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The stats of the events in one unit (`overall` of `/api/stats?by=unit&area=…`).
fn unit_stats(a: &str, unit: u64) -> Value {
    let r = get(a, &format!("/api/stats?by=unit&area={unit}"));
    assert_eq!(r.status, 200, "{}", body_text(&r));
    r.json()["overall"].clone()
}

fn count(v: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_u64()
        .unwrap_or_else(|| panic!("no count at {path:?} in {v}"))
}

/// Polls `check` every 20 ms until it holds or `limit` has passed; how long
/// it took from `since`, or `None` when it never held.
fn time_until(
    since: Instant,
    limit: Duration,
    mut check: impl FnMut() -> bool,
) -> Option<Duration> {
    loop {
        if check() {
            return Some(since.elapsed());
        }
        if since.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The event tile at a point on one server, as an independent decoder reads
/// it; decoded again only when its bytes change.
struct TileWatch<'a> {
    server: &'a str,
    path: String,
    last: Option<Vec<u8>>,
    features: Vec<Value>,
    /// When the tile as last fetched arrived (before it was decoded).
    fetched: Instant,
}

impl<'a> TileWatch<'a> {
    /// Fetches the tile once (which also warms the server's tile cache).
    fn new(server: &'a str, lon: f64, lat: f64) -> TileWatch<'a> {
        let mut w = TileWatch {
            server,
            path: format!("/tiles/events/{}.mvt", tile_at(lon, lat)),
            last: None,
            features: Vec::new(),
            fetched: Instant::now(),
        };
        w.fetch();
        w
    }

    fn fetch(&mut self) {
        let r = get(self.server, &self.path);
        self.fetched = Instant::now();
        assert!(
            r.status == 200 || r.status == 204,
            "{} → {}",
            self.path,
            r.status
        );
        if self.last.as_deref() != Some(&r.body[..]) {
            self.features = events_in_tile(&r.body);
            self.last = Some(r.body);
        }
    }

    /// The `status` of event `id` in the tile as last fetched.
    fn status_of(&self, id: u64) -> Option<String> {
        self.features
            .iter()
            .find(|f| f["id"].as_u64() == Some(id))
            .map(|f| {
                f["properties"]["status"]["value"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
    }

    /// Fetches the tile again; the `status` of event `id` in it.
    fn status_now(&mut self, id: u64) -> Option<String> {
        self.fetch();
        self.status_of(id)
    }
}

#[test]
fn the_event_loop_over_postgis_writes_nothing_it_refuses() {
    let (_tmp, db) = pg_city("11", None);
    let server = serve(&db);
    let a = server.addr.as_str();
    let p = place(a);
    let leader = tok(&db, "unit_leader", &format!("area:{}", p.grid), "网格长 李");
    // A unit leader elsewhere: of the first village of another town.
    let far_leader = tok(
        &db,
        "unit_leader",
        &format!("area:{}001", p.other_town),
        "别处",
    );
    let office = tok(&db, "town_office", &format!("area:{}", p.town), "街道办");
    let far_office = tok(
        &db,
        "town_office",
        &format!("area:{}", p.other_town),
        "别的",
    );
    let water = tok(&db, "department", "department:水务局", "水务局");
    let roads = tok(&db, "department", "department:交通局", "交通局");
    let viewer = tok(&db, "viewer", "city", "大屏");
    assert_eq!(db.count("tokens"), 7, "one hashed row per token");
    assert_eq!(
        query_i64(
            &db.url,
            &format!("SELECT count(*) FROM tokens t WHERE t::text LIKE '%{leader}%'")
        ),
        0,
        "tokens are kept hashed"
    );

    // Every refusal answers its code and writes nothing.
    let mut rows = loop_rows(&db);
    let refused = |what: &str, r: Reply, want: (u16, &str), rows: [i64; 3]| {
        assert_eq!(
            r.error(),
            (want.0, want.1.to_string()),
            "{what}: {}",
            body_text(&r)
        );
        assert_eq!(loop_rows(&db), rows, "{what}: a refused request wrote rows");
    };
    let rep = report("a-1");
    let ev = "/api/events";
    refused(
        "no token",
        post(a, ev, None, &rep),
        (401, "unauthorized"),
        rows,
    );
    let forged = "om_0000000000000000000000000000000000000000000";
    refused(
        "forged token",
        post(a, ev, Some(forged), &rep),
        (401, "unauthorized"),
        rows,
    );
    refused(
        "viewer",
        post(a, ev, Some(&viewer), &rep),
        (403, "forbidden"),
        rows,
    );
    refused(
        "out of scope",
        post(a, ev, Some(&far_leader), &rep),
        (403, "forbidden"),
        rows,
    );
    refused(
        "bad JSON",
        post(a, ev, Some(&leader), "{not json"),
        (400, "bad_body"),
        rows,
    );
    let e = |b: Value| post(a, ev, Some(&leader), &b.to_string());
    refused(
        "outside the city",
        e(
            json!({"lon": 122.5, "lat": 25.0, "category": "road", "description": "x", "idempotency_key": "a-x"}),
        ),
        (422, "outside_city"),
        rows,
    );
    // The last unit number of the point's grid: no grid has that many units.
    let missing_unit = p.grid * 1000 + 999;
    assert_eq!(get(a, &format!("/api/areas/{missing_unit}")).status, 404);
    refused(
        "unknown unit",
        e(json!({"unit": missing_unit.to_string(), "category": "road", "description": "x"})),
        (422, "unknown_unit"),
        rows,
    );
    refused(
        "unknown category",
        e(json!({"lon": LON, "lat": LAT, "category": "flooding", "description": "x"})),
        (422, "unknown_value"),
        rows,
    );

    // A report: one row in each table.
    let r = post(a, ev, Some(&leader), &rep);
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let id = id_of(&r.json()["event"]["id"]);
    assert_eq!(r.json()["event"]["status"], "reported");
    assert_eq!(id_of(&r.json()["event"]["unit"]), p.unit);
    let after = loop_rows(&db);
    assert_eq!(
        after,
        [rows[0] + 1, rows[1] + 1, rows[2] + 1],
        "a report writes one row each"
    );
    rows = after;
    let stored = query_rows(
        &db.url,
        &format!(
            "SELECT e.status, e.category, e.unit_id::text, r.description, r.reporter, \
                    r.idempotency_key, round(ST_X(e.geom)::numeric, 6)::text, \
                    round(ST_Y(e.geom)::numeric, 6)::text \
             FROM events e JOIN event_reports r ON r.event_id = e.id WHERE e.id = {id}"
        ),
    );
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        stored,
        [vec![
            s("reported"),
            s("drainage"),
            s(&p.unit.to_string()),
            s("下水道堵塞, 路面积水"),
            s("网格长 李"),
            s("a-1"),
            s("119.000000"),
            s("25.450000"),
        ]]
    );
    // The same key again: the same event, nothing new written.
    let again = post(a, ev, Some(&leader), &rep);
    assert_eq!(again.status, 200, "{}", body_text(&again));
    assert_eq!(id_of(&again.json()["event"]["id"]), id);
    assert_eq!(loop_rows(&db), rows, "a repeated key writes nothing");
    assert_eq!(
        query_i64(
            &db.url,
            "SELECT count(*) FROM event_reports WHERE idempotency_key = 'a-1'"
        ),
        1
    );

    // The loop, every wrong move refused without a trace.
    let path = format!("/api/events/{id}/transitions");
    let mv = |tok: Option<&str>, body: &str| post(a, &path, tok, body);
    let status_in_db = || {
        query_rows(
            &db.url,
            &format!("SELECT status FROM events WHERE id = {id}"),
        )[0][0]
            .clone()
    };
    let disc = r#"{"to":"discussing"}"#;
    refused(
        "move without token",
        mv(None, disc),
        (401, "unauthorized"),
        rows,
    );
    refused(
        "move, forged token",
        mv(Some(forged), disc),
        (401, "unauthorized"),
        rows,
    );
    refused(
        "move, bad JSON",
        mv(Some(&office), "{\"to\":"),
        (400, "bad_body"),
        rows,
    );
    refused(
        "move, out of scope",
        mv(Some(&far_office), disc),
        (403, "forbidden"),
        rows,
    );
    refused(
        "move, wrong role",
        mv(Some(&leader), disc),
        (403, "forbidden"),
        rows,
    );
    refused(
        "illegal move",
        mv(Some(&office), r#"{"to":"closed"}"#),
        (409, "illegal_move"),
        rows,
    );
    refused(
        "unknown status",
        mv(Some(&office), r#"{"to":"teleported"}"#),
        (422, "unknown_value"),
        rows,
    );
    refused(
        "unknown event",
        post(
            a,
            "/api/events/999999999999/transitions",
            Some(&office),
            disc,
        ),
        (404, "unknown_event"),
        rows,
    );
    let step = |tok: &str, body: Value, to: &str, rows: &mut [i64; 3]| {
        let r = mv(Some(tok), &body.to_string());
        assert_eq!(r.status, 200, "{body}: {}", body_text(&r));
        assert_eq!(r.json()["event"]["status"], to, "{}", body_text(&r));
        let after = loop_rows(&db);
        assert_eq!(
            after,
            [rows[0], rows[1], rows[2] + 1],
            "{body}: one history row"
        );
        *rows = after;
        assert_eq!(status_in_db(), Some(to.to_string()), "{body}");
    };
    step(
        &office,
        json!({"to": "discussing"}),
        "discussing",
        &mut rows,
    );
    refused(
        "routed nowhere",
        mv(Some(&office), r#"{"to":"routed"}"#),
        (422, "invalid_move"),
        rows,
    );
    step(
        &office,
        json!({"to": "routed", "routed_to": "水务局"}),
        "routed",
        &mut rows,
    );
    refused(
        "another department",
        mv(Some(&roads), r#"{"to":"handled"}"#),
        (403, "forbidden"),
        rows,
    );
    // The department's queue, read from PostGIS: this event, and only for
    // the department it was routed to.
    let queue = |t: &str| -> Vec<u64> {
        let r = get_as(a, "/api/queue", t);
        assert_eq!(r.status, 200, "{}", body_text(&r));
        r.json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| id_of(&e["event"]["id"]))
            .collect()
    };
    assert_eq!(queue(&water), vec![id]);
    assert!(queue(&roads).is_empty());
    step(
        &water,
        json!({"to": "handled", "note": "已疏通"}),
        "handled",
        &mut rows,
    );
    assert!(queue(&water).is_empty(), "handled: out of the queue");
    step(&leader, json!({"to": "fed_back"}), "fed_back", &mut rows);
    step(&office, json!({"to": "closed"}), "closed", &mut rows);
    refused(
        "closed is closed",
        mv(Some(&office), r#"{"to":"handled"}"#),
        (409, "illegal_move"),
        rows,
    );

    // The database holds the whole loop; the server reads it back.
    let steps = [
        "reported",
        "discussing",
        "routed",
        "handled",
        "fed_back",
        "closed",
    ];
    let history = query_rows(
        &db.url,
        &format!(
            "SELECT status, from_status, actor, role, routed_to, note FROM event_history \
             WHERE event_id = {id} ORDER BY seq"
        ),
    );
    let to: Vec<_> = history.iter().map(|h| h[0].clone().unwrap()).collect();
    assert_eq!(to, steps, "{history:?}");
    let from: Vec<_> = history.iter().map(|h| h[1].clone()).collect();
    let mut want_from = vec![None];
    want_from.extend(steps[..5].iter().map(|s| Some(s.to_string())));
    assert_eq!(from, want_from, "{history:?}");
    assert_eq!(history[3][2].as_deref(), Some("水务局"), "{history:?}");
    assert_eq!(history[3][3].as_deref(), Some("department"), "{history:?}");
    assert_eq!(history[3][5].as_deref(), Some("已疏通"), "{history:?}");
    assert_eq!(history[2][4].as_deref(), Some("水务局"), "{history:?}");
    let closed = query_rows(
        &db.url,
        &format!(
            "SELECT e.status, (e.closed_at IS NOT NULL)::text, r.routed_to \
             FROM events e JOIN event_reports r ON r.event_id = e.id WHERE e.id = {id}"
        ),
    );
    assert_eq!(closed, [vec![s("closed"), s("true"), s("水务局")]]);
    let got = get_as(a, &format!("/api/events/{id}"), &office).json();
    assert_eq!(got["event"]["status"], "closed", "{got}");
    assert_eq!(got["routed_to"], "水务局", "{got}");
    let shown: Vec<&str> = got["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(shown, steps, "{got}");
}

#[test]
fn two_servers_on_one_database_stay_in_step() {
    let (_tmp, db) = pg_city("12", None);
    let (one, two) = (serve(&db), serve(&db));
    let (a, b) = (one.addr.as_str(), two.addr.as_str());
    let p = place(a);
    let leader = tok(&db, "unit_leader", &format!("area:{}", p.grid), "网格长");
    let office = tok(&db, "town_office", &format!("area:{}", p.town), "街道办");
    let limit = Duration::from_secs(1);
    let patience = Duration::from_secs(10);

    // A first report, not timed (a server's first change may take longer
    // than the steady state being measured): the second server shows it.
    let r = post(a, "/api/events", Some(&leader), &report("b-0"));
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let first = id_of(&r.json()["event"]["id"]);
    // `assigned_unit` comes from the server's city (the rest of the answer
    // from the database): the second server has applied the report.
    let seen = time_until(Instant::now(), patience, || {
        let g = get(b, &format!("/api/events/{first}"));
        g.status == 200 && g.json()["assigned_unit"].is_string()
    });
    assert!(
        seen.is_some(),
        "the first report never showed on the second server"
    );

    // Reported to the first server: the second shows it — the event, the
    // unit's figures, the event tile (its cache already warm) — within 1 s
    // of sending the report.
    let stats_before = unit_stats(b, p.unit);
    assert_eq!(unit_stats(a, p.unit), stats_before);
    let mut tile_b = TileWatch::new(b, LON, LAT);
    let sent = Instant::now();
    let r = post(a, "/api/events", Some(&leader), &report("b-1"));
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let answered = sent.elapsed();
    let id = id_of(&r.json()["event"]["id"]);
    assert_eq!(
        tile_b.status_of(id),
        None,
        "the second server's tile before"
    );
    let event_b = time_until(sent, patience, || {
        let g = get(b, &format!("/api/events/{id}"));
        g.status == 200
            && g.json()["event"]["status"] == "reported"
            && g.json()["assigned_unit"].is_string()
    });
    let stats_b = time_until(sent, patience, || {
        let s = unit_stats(b, p.unit);
        count(&s, &["total"]) == count(&stats_before, &["total"]) + 1
            && count(&s, &["by_status", "reported"])
                == count(&stats_before, &["by_status", "reported"]) + 1
    });
    // When the tile showing it arrived, not when the decoder was done.
    let tile_seen = time_until(sent, patience, || {
        tile_b.status_now(id).as_deref() == Some("reported")
    })
    .map(|_| tile_b.fetched - sent);
    eprintln!(
        "report on the first server answered in {answered:?}; visible on the second: \
         event {event_b:?}, stats {stats_b:?}, tile {tile_seen:?}"
    );
    for (what, t) in [("event", event_b), ("stats", stats_b), ("tile", tile_seen)] {
        let t =
            t.unwrap_or_else(|| panic!("the report never showed in the second server's {what}"));
        assert!(
            t < limit,
            "the report took {t:?} to show in the second server's {what}"
        );
    }

    // Moved on the second server: the first shows it.
    let mut tile_a = TileWatch::new(a, LON, LAT);
    assert_eq!(tile_a.status_of(id).as_deref(), Some("reported"));
    let stats_before = unit_stats(a, p.unit);
    let sent = Instant::now();
    let r = post(
        b,
        &format!("/api/events/{id}/transitions"),
        Some(&office),
        r#"{"to":"discussing"}"#,
    );
    assert_eq!(r.status, 200, "{}", body_text(&r));
    let answered = sent.elapsed();
    let event_a = time_until(sent, patience, || {
        let g = get_as(a, &format!("/api/events/{id}"), &office).json();
        g["event"]["status"] == "discussing" && g["history"].as_array().map(Vec::len) == Some(2)
    });
    let stats_a = time_until(sent, patience, || {
        let s = unit_stats(a, p.unit);
        count(&s, &["total"]) == count(&stats_before, &["total"])
            && count(&s, &["by_status", "discussing"])
                == count(&stats_before, &["by_status", "discussing"]) + 1
            && count(&s, &["by_status", "reported"])
                == count(&stats_before, &["by_status", "reported"]) - 1
    });
    let tile_seen = time_until(sent, patience, || {
        tile_a.status_now(id).as_deref() == Some("discussing")
    })
    .map(|_| tile_a.fetched - sent);
    eprintln!(
        "move on the second server answered in {answered:?}; visible on the first: \
         event {event_a:?}, stats {stats_a:?}, tile {tile_seen:?}"
    );
    for (what, t) in [("event", event_a), ("stats", stats_a), ("tile", tile_seen)] {
        let t = t.unwrap_or_else(|| panic!("the move never showed in the first server's {what}"));
        assert!(
            t < limit,
            "the move took {t:?} to show in the first server's {what}"
        );
    }

    // Both servers report at once: distinct ids, each seen by the other.
    let (ra, rb) = std::thread::scope(|s| {
        let x = s.spawn(|| post(a, "/api/events", Some(&leader), &report("b-2")));
        let y = s.spawn(|| post(b, "/api/events", Some(&leader), &report("b-3")));
        (x.join().unwrap(), y.join().unwrap())
    });
    assert_eq!(
        (ra.status, rb.status),
        (201, 201),
        "{} {}",
        body_text(&ra),
        body_text(&rb)
    );
    let (ia, ib) = (
        id_of(&ra.json()["event"]["id"]),
        id_of(&rb.json()["event"]["id"]),
    );
    assert!(
        ia != ib && ![id, first].contains(&ia) && ![id, first].contains(&ib),
        "{ia} {ib} {id} {first}"
    );
    for (server, other_id) in [(a, ib), (b, ia)] {
        let seen = time_until(Instant::now(), patience, || {
            get(server, &format!("/api/events/{other_id}")).status == 200
        });
        assert!(seen.is_some(), "event {other_id} never showed on {server}");
    }
    let total = count(&stats_before, &["total"]) + 2;
    for server in [a, b] {
        let seen = time_until(Instant::now(), patience, || {
            count(&unit_stats(server, p.unit), &["total"]) == total
        });
        assert!(seen.is_some(), "{server} never counted both reports");
    }
}

/// Who answered a report: its key's number, the event id, the status, and
/// which server (0: the first, 1: the one started after the kill).
type Answer = (usize, u64, u16, usize);

#[test]
fn acknowledged_reports_survive_sigkill() {
    const TOTAL: usize = 5000;
    const CLIENTS: usize = 4;
    const KILL_AFTER: usize = 1500;
    let (_tmp, db) = pg_city("13", Some(2000));
    let mut first = serve(&db);
    let p = place(&first.addr);
    let leader = tok(&db, "unit_leader", &format!("area:{}", p.grid), "网格长");
    let rows_before = loop_rows(&db);
    let unit_before = http_support::area_total(&first.addr, p.unit);

    // The address clients post to, and which server it is.
    let target = Arc::new(RwLock::new((first.addr.clone(), 0usize)));
    let created = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let key = |i: usize| format!("kill-{i:05}");
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (target, created, failures, leader) = (
                Arc::clone(&target),
                Arc::clone(&created),
                Arc::clone(&failures),
                leader.clone(),
            );
            std::thread::spawn(move || {
                let give_up = Instant::now() + Duration::from_secs(240);
                let mut answers: Vec<Answer> = Vec::new();
                for i in (c..TOTAL).step_by(CLIENTS) {
                    let body = report(&format!("kill-{i:05}"));
                    loop {
                        assert!(Instant::now() < give_up, "report {i} never got an answer");
                        let (addr, server) = target.read().unwrap().clone();
                        match try_post(&addr, "/api/events", Some(&leader), &body) {
                            Ok(r) if r.status == 201 || r.status == 200 => {
                                if r.status == 201 {
                                    created.fetch_add(1, Ordering::SeqCst);
                                }
                                answers.push((
                                    i,
                                    id_of(&r.json()["event"]["id"]),
                                    r.status,
                                    server,
                                ));
                                break;
                            }
                            Ok(r) if r.status == 503 => {
                                failures.lock().unwrap().push((i, body_text(&r)));
                            }
                            Ok(r) => panic!("report {i}: {} {}", r.status, body_text(&r)),
                            // Refused or cut off: the server is gone.
                            Err(e) => failures.lock().unwrap().push((i, e.to_string())),
                        }
                        // The same key again in a moment (on the new server).
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
                answers
            })
        })
        .collect();

    // Partway, SIGKILL; a new server on the same database takes over.
    let waited = time_until(Instant::now(), Duration::from_secs(240), || {
        created.load(Ordering::SeqCst) >= KILL_AFTER
    });
    assert!(waited.is_some(), "{KILL_AFTER} reports never got through");
    first.kill();
    let at_kill = created.load(Ordering::SeqCst);
    let second = serve(&db);
    *target.write().unwrap() = (second.addr.clone(), 1);
    let mut answers: Vec<Answer> = Vec::new();
    for c in clients {
        answers.extend(c.join().expect("a client failed"));
    }
    let failures = failures.lock().unwrap().clone();
    let by_key: HashMap<usize, (u64, u16, usize)> = answers
        .iter()
        .map(|&(i, id, st, s)| (i, (id, st, s)))
        .collect();
    let repeats = answers.iter().filter(|a| a.2 == 200).count();
    eprintln!(
        "{TOTAL} reports: killed after {at_kill} created, {} failed attempts (retried), \
         {repeats} answered 200 (their first try was cut after the commit), {} by the second server",
        failures.len(),
        answers.iter().filter(|a| a.3 == 1).count()
    );
    assert_eq!(by_key.len(), TOTAL, "every key answered once");
    assert!(at_kill < TOTAL, "the kill came before the end");
    assert!(
        answers.iter().any(|a| a.3 == 0) && answers.iter().any(|a| a.3 == 1),
        "both servers answered reports"
    );
    assert!(
        !failures.is_empty(),
        "the kill cut or refused some requests"
    );
    let ids: HashSet<u64> = answers.iter().map(|a| a.1).collect();
    assert_eq!(ids.len(), TOTAL, "one event per key");

    // The database: every acknowledged event once, exactly the test's keys.
    let stored = query_rows(
        &db.url,
        "SELECT r.idempotency_key, e.id::text FROM event_reports r \
         JOIN events e ON e.id = r.event_id WHERE r.idempotency_key LIKE 'kill-%'",
    );
    assert_eq!(
        stored.len(),
        TOTAL,
        "event_reports rows with the test's keys"
    );
    let in_db: HashMap<String, u64> = stored
        .iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_ref().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(in_db.len(), TOTAL, "no key twice");
    for (i, (id, _, _)) in &by_key {
        assert_eq!(
            in_db.get(&key(*i)),
            Some(id),
            "key {} in the database",
            key(*i)
        );
    }
    assert_eq!(
        loop_rows(&db),
        [
            rows_before[0] + TOTAL as i64,
            rows_before[1] + TOTAL as i64,
            rows_before[2] + TOTAL as i64
        ],
        "one event, one report and one history row per key, nothing else"
    );
    assert_eq!(
        http_support::area_total(&second.addr, p.unit),
        unit_before + TOTAL as u64,
        "the new server counts every report"
    );

    // A key once more: 200 and the same event, nothing written.
    let mut again: Vec<usize> = failures.iter().map(|f| f.0).take(20).collect();
    again.extend([0, 1, TOTAL / 2, TOTAL - 1]);
    for i in again {
        let r = post(&second.addr, "/api/events", Some(&leader), &report(&key(i)));
        assert_eq!(r.status, 200, "key {}: {}", key(i), body_text(&r));
        assert_eq!(
            id_of(&r.json()["event"]["id"]),
            by_key[&i].0,
            "key {}",
            key(i)
        );
    }
    assert_eq!(loop_rows(&db)[1], rows_before[1] + TOTAL as i64);
}

/// A PostgreSQL cluster of this test's own (`scripts/pg-test-cluster.sh`),
/// stopped and removed when dropped, however the test ends.
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

/// Posts `body` as a photo of `event` (a JPEG or PNG made by the test).
fn upload(a: &str, event: u64, token: &str, kind: &str, body: Vec<u8>) -> Reply {
    let auth = format!("Bearer {token}");
    request_bytes(
        a,
        "POST",
        &format!("/api/events/{event}/photos"),
        &[("Content-Type", kind), ("Authorization", auth.as_str())],
        body,
    )
}

#[test]
fn photos_over_postgis_are_shared_and_never_more_than_three() {
    let (tmp, db) = pg_city("13", None);
    let (one, two) = (serve(&db), serve(&db));
    let (a, b) = (one.addr.as_str(), two.addr.as_str());
    let p = place(a);
    let leader = tok(&db, "unit_leader", &format!("area:{}", p.grid), "网格长 李");
    let far_leader = tok(
        &db,
        "unit_leader",
        &format!("area:{}001", p.other_town),
        "别处",
    );
    let office = tok(&db, "town_office", &format!("area:{}", p.town), "街道办");
    let far_office = tok(
        &db,
        "town_office",
        &format!("area:{}", p.other_town),
        "别的",
    );
    let r = post(a, "/api/events", Some(&leader), &report("ph-1"));
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let id = id_of(&r.json()["event"]["id"]);

    // Refused uploads keep nothing.
    let photos = || db.count("event_photos");
    let jpeg = images::jpeg(640, 480);
    for (what, r, want) in [
        (
            "stranger",
            upload(a, id, &far_leader, "image/jpeg", jpeg.clone()),
            (403, "forbidden"),
        ),
        (
            "office",
            upload(a, id, &office, "image/jpeg", jpeg.clone()),
            (403, "forbidden"),
        ),
        (
            "text",
            upload(a, id, &leader, "image/png", b"not a png".to_vec()),
            (422, "invalid_photo"),
        ),
        (
            "cut",
            upload(
                a,
                id,
                &leader,
                "image/jpeg",
                jpeg[..jpeg.len() / 2].to_vec(),
            ),
            (422, "invalid_photo"),
        ),
        (
            "bomb",
            upload(a, id, &leader, "image/png", images::png_claiming(60_000)),
            (422, "photo_too_large"),
        ),
    ] {
        assert_eq!(
            r.error(),
            (want.0, want.1.to_string()),
            "{what}: {}",
            body_text(&r)
        );
    }
    assert_eq!(photos(), 0);

    // Added on one server, read on the other, from the database.
    let r = upload(a, id, &leader, "image/png", images::png(2000, 1500));
    assert_eq!(r.status, 201, "{}", body_text(&r));
    assert_eq!(
        (r.json()["width"].as_u64(), r.json()["height"].as_u64()),
        (Some(1280), Some(960))
    );
    let url = format!("/api/events/{id}/photos/1");
    let from_a = get_as(a, &url, &office);
    let from_b = get_as(b, &url, &office);
    assert_eq!(from_b.status, 200, "{}", body_text(&from_b));
    assert_eq!(from_b.header("content-type"), Some("image/jpeg"));
    assert_eq!(from_a.body, from_b.body, "the same photo on both servers");
    assert_eq!(images::decode_jpeg(&from_b.body).dimensions(), (1280, 960));
    assert_eq!(
        get_as(b, &url, &far_office).error(),
        (403, "forbidden".into())
    );
    let page = get_as(b, &format!("/api/events/{id}"), &office).json();
    assert_eq!(page["photos"][0]["url"], url.as_str(), "{page}");
    let row = query_rows(
        &db.url,
        &format!("SELECT seq::text, media_type, width::text, height::text, uploader, (length(data) > 0)::text FROM event_photos WHERE event_id = {id}"),
    );
    assert_eq!(
        row,
        vec![vec![
            Some("1".into()),
            Some("image/jpeg".into()),
            Some("1280".into()),
            Some("960".into()),
            Some("网格长 李".into()),
            Some("true".into())
        ]]
    );

    // Five uploads at once to one event through both servers: the event's
    // row lock lets exactly three in, numbered 1 to 3.
    let r = post(b, "/api/events", Some(&leader), &report("ph-2"));
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let busy = id_of(&r.json()["event"]["id"]);
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..5)
            .map(|i| {
                let (server, leader, jpeg) =
                    (if i % 2 == 0 { a } else { b }, &leader, jpeg.clone());
                s.spawn(move || {
                    let r = upload(server, busy, leader, "image/jpeg", jpeg);
                    let code = if r.status == 201 {
                        String::new()
                    } else {
                        r.error().1
                    };
                    (r.status, code)
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let made = answers.iter().filter(|(s, _)| *s == 201).count();
    let full = answers
        .iter()
        .filter(|(s, c)| *s == 409 && c == "too_many_photos")
        .count();
    assert_eq!((made, full), (3, 2), "{answers:?}");
    assert_eq!(
        query_i64s(
            &db.url,
            &format!(
                "SELECT array_to_string(array_agg(seq ORDER BY seq), '')::bigint \
                 FROM event_photos WHERE event_id = {busy}"
            )
        ),
        vec![123],
        "numbered 1, 2, 3"
    );
    assert_eq!(
        upload(a, busy, &leader, "image/jpeg", jpeg.clone()).error(),
        (409, "too_many_photos".into())
    );
    assert_eq!(photos(), 4);
    drop((one, two));

    // A replaced city takes its events' photos with it.
    let dir = tmp.path().join("city");
    pg_db::ok(&[
        "import",
        "--postgres",
        &db.url,
        "--replace",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(photos(), 0);
}

fn cluster_script(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/pg-test-cluster.sh"
        ))
        .args(args)
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run scripts/pg-test-cluster.sh")
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("onemap-pg-")
            .tempdir()
            .unwrap();
        let out = cluster_script(&["start"], dir.path());
        let c = Cluster {
            url: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            dir,
        };
        assert!(
            out.status.success() && c.url.starts_with("postgres://"),
            "pg-test-cluster.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    fn run(&self, what: &str) {
        let out = cluster_script(&[what], self.dir.path());
        assert!(
            out.status.success(),
            "pg-test-cluster.sh {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = cluster_script(&["stop"], self.dir.path());
        if !out.status.success() {
            eprintln!(
                "pg-test-cluster.sh stop: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn a_database_restart_under_a_serving_server() {
    // This test runs a cluster of its own, but like every PostGIS test it
    // fails on a machine that was not set up for them.
    pg_db::server_url();
    let cluster = Cluster::start();
    let db = TestDb::on(&cluster.url);
    let tmp = tempfile::tempdir().unwrap();
    city_in(&db, &tmp.path().join("city"), "14", Some(2000));
    let server = serve(&db);
    let a = server.addr.as_str();
    let p = place(a);
    let leader = tok(&db, "unit_leader", &format!("area:{}", p.grid), "网格长");
    let office = tok(&db, "town_office", &format!("area:{}", p.town), "街道办");
    let patience = Duration::from_secs(15);

    let r = post(a, "/api/events", Some(&leader), &report("d-1"));
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let id = id_of(&r.json()["event"]["id"]);
    // Overdue counted at a fixed moment, so two answers can be compared
    // byte for byte (by default they are counted at the moment asked).
    let stats = format!("/api/stats?by=unit&area={}&at=2026-12-01", p.unit);
    let tile = format!("/tiles/events/{}.mvt", tile_at(LON, LAT));
    let (stats_before, tile_before) = (get(a, &stats), get(a, &tile));
    assert_eq!((stats_before.status, tile_before.status), (200, 200));
    let rows = loop_rows(&db);

    // The database stops: reads go on from memory, writes are refused.
    cluster.run("pause");
    let degraded = time_until(Instant::now(), patience, || {
        get(a, "/healthz").json()["status"] == "degraded"
    });
    assert!(degraded.is_some(), "{}", body_text(&get(a, "/healthz")));
    let h = get(a, "/healthz");
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["store"]["connected"], false, "{}", body_text(&h));
    let s = get(a, &stats);
    assert_eq!(s.status, 200);
    assert_eq!(s.body, stats_before.body, "the same figures from memory");
    let t = get(a, &tile);
    assert_eq!(t.status, 200);
    assert_eq!(t.body, tile_before.body, "the same tile from memory");
    let g = get(
        a,
        &format!(
            "/api/features/events?bbox={},{},{},{}&limit=5",
            LON - 0.01,
            LAT - 0.01,
            LON + 0.01,
            LAT + 0.01
        ),
    );
    assert_eq!(g.status, 200, "{}", body_text(&g));
    let r = post(a, "/api/events", Some(&leader), &report("d-2"));
    assert_eq!(
        r.error(),
        (503, "store_unavailable".into()),
        "{}",
        body_text(&r)
    );
    let m = post(
        a,
        &format!("/api/events/{id}/transitions"),
        Some(&office),
        r#"{"to":"discussing"}"#,
    );
    assert_eq!(
        m.error(),
        (503, "store_unavailable".into()),
        "{}",
        body_text(&m)
    );

    // Back: nothing was written while it was away, and writes work again.
    cluster.run("resume");
    assert_eq!(
        loop_rows(&db),
        rows,
        "nothing written while the database was down"
    );
    assert_eq!(
        query_rows(
            &db.url,
            &format!("SELECT status FROM events WHERE id = {id}")
        ),
        [vec![Some("reported".to_string())]]
    );
    let mut last = None;
    let back = time_until(Instant::now(), patience, || {
        let r = post(a, "/api/events", Some(&leader), &report("d-2"));
        let done = r.status != 503;
        last = Some(r);
        done
    });
    let r = last.unwrap();
    assert!(back.is_some(), "writes never came back: {}", body_text(&r));
    assert_eq!(
        r.status,
        201,
        "the refused key was never written: {}",
        body_text(&r)
    );
    eprintln!("a report succeeded {back:?} after the database was back");
    assert_eq!(loop_rows(&db), [rows[0] + 1, rows[1] + 1, rows[2] + 1]);
    let m = post(
        a,
        &format!("/api/events/{id}/transitions"),
        Some(&office),
        r#"{"to":"discussing"}"#,
    );
    assert_eq!(m.status, 200, "{}", body_text(&m));
    let ok = time_until(Instant::now(), patience, || {
        get(a, "/healthz").json()["status"] == "ok"
    });
    let h = get(a, "/healthz").json();
    assert!(ok.is_some(), "{h}");
    assert_eq!(h["store"]["connected"], true, "{h}");
    assert!(h["store"]["reconnects"].as_u64() >= Some(1), "{h}");
    drop(server);
    drop(db);
    drop(cluster);
}
