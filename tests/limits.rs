//! The server under slow and many clients, end to end over real sockets:
//! the header, idle and request timeouts cut slow clients off; connections,
//! expensive requests and ship-stream subscribers beyond their caps are
//! answered 503 `overloaded` with `Retry-After` while `/healthz` answers;
//! bodies over their route's limit are 413 and change nothing.
//!
//! No test asserts a time: each timeout is set to 1 s and the client waits
//! up to 30 s, so only a missing timeout fails.

mod http_support;

use http_support::{get, id_of, post, small_city, start_with, stream, token, Reply};
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How long a client waits for what a 1 s limit should bring.
const PATIENCE: Duration = Duration::from_secs(30);

fn serve(city: &Path, flags: &[&str]) -> http_support::Server {
    let mut args = vec!["--data", city.to_str().unwrap()];
    args.extend_from_slice(flags);
    start_with(&args)
}

/// A raw connection whose reads give up after [`PATIENCE`].
fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Reads until the server closes the connection: what it sent, or an error
/// when it kept the connection open for [`PATIENCE`].
fn until_closed(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// One answer read off a raw connection (`Content-Length` bodies only): its
/// status, head and body.
fn read_answer(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("an answer's head");
        assert_eq!(n, 1, "closed mid-head: {}", String::from_utf8_lossy(&got));
        got.push(byte[0]);
    }
    let head = String::from_utf8(got).unwrap();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    (status, head, body)
}

/// The value of one series in `/metrics`.
fn metric(addr: &str, series: &str) -> f64 {
    let m = get(addr, "/metrics");
    assert_eq!(m.status, 200);
    let text = String::from_utf8(m.body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

fn assert_overloaded(r: &Reply, what: &str) {
    assert_eq!(r.error(), (503, "overloaded".into()), "{what}");
    assert_eq!(r.header("retry-after"), Some("1"), "{what}");
}

#[test]
fn slow_clients_are_cut_off() {
    let (_dir, city) = small_city();
    let server = serve(
        &city,
        &["--header-timeout-secs", "1", "--request-timeout-secs", "1"],
    );
    let a = server.addr.as_str();

    // Half a head, then nothing: the connection is closed.
    let mut half = connect(a);
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: onemap\r\n")
        .unwrap();
    let started = Instant::now();
    let closed = until_closed(&mut half);
    assert!(
        closed.is_ok(),
        "a half-sent head kept its connection {:?}: {closed:?}",
        started.elapsed()
    );

    // A kept-alive connection answered once, then idle: closed too.
    let mut idle = connect(a);
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: onemap\r\n\r\n")
        .unwrap();
    let (status, head, _) = read_answer(&mut idle);
    assert_eq!(status, 200, "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "kept alive: {head}"
    );
    let closed = until_closed(&mut idle);
    assert!(closed.is_ok(), "an idle connection stayed open: {closed:?}");

    // A body that stops coming: 503 timeout.
    let mut slow = connect(a);
    slow.write_all(
        b"POST /api/events HTTP/1.1\r\nHost: onemap\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lon\": 119.0",
    )
    .unwrap();
    let (status, head, body) = read_answer(&mut slow);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, &v["error"]["code"]),
        (503, &json!("timeout")),
        "{head}{v}"
    );

    // The server is fine, and counted it.
    assert_eq!(get(a, "/healthz").status, 200);
    assert!(metric(a, "onemap_http_timeouts_total") >= 1.0);
}

#[test]
fn connections_beyond_the_cap_are_shed_but_health_answers() {
    let (_dir, city) = small_city();
    let server = serve(
        &city,
        &["--max-connections", "2", "--header-timeout-secs", "60"],
    );
    let a = server.addr.as_str();
    // Two connections that say nothing hold the two places (accepted in
    // order, before the requests below).
    let quiet: Vec<TcpStream> = (0..2).map(|_| connect(a)).collect();
    let r = get(a, "/api/stats?by=district");
    assert_overloaded(&r, "a third connection");
    let h = get(a, "/healthz");
    assert_eq!(h.status, 200, "health answers over the cap");
    assert_eq!(h.json()["status"], "ok");
    assert!(metric(a, "onemap_http_shed_total{limit=\"connections\"}") >= 1.0);
    // The places come back when the quiet ones leave.
    drop(quiet);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = get(a, "/api/stats?by=district");
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {}", r.status);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn expensive_requests_beyond_the_cap_are_shed_but_health_answers() {
    let (_dir, city) = small_city();
    let server = serve(&city, &["--max-expensive", "1"]);
    let a = server.addr.clone();
    // Statistics of every unit: tens of milliseconds of work each, so twelve
    // sent at once overlap.
    const N: usize = 12;
    let start = Arc::new(Barrier::new(N + 1));
    let workers: Vec<_> = (0..N)
        .map(|_| {
            let (a, start) = (a.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                get(&a, "/api/stats?by=unit")
            })
        })
        .collect();
    start.wait();
    let health = get(&a, "/healthz");
    let answers: Vec<Reply> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(health.status, 200, "health answers under load");
    let shed: Vec<&Reply> = answers.iter().filter(|r| r.status == 503).collect();
    assert!(
        !shed.is_empty(),
        "{N} expensive requests at once with a cap of 1, none shed"
    );
    for r in &shed {
        assert_overloaded(r, "an expensive request over the cap");
    }
    assert!(
        answers.iter().all(|r| matches!(r.status, 200 | 503)),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(metric(&a, "onemap_http_shed_total{limit=\"expensive\"}") >= 1.0);
    // Alone again, it is answered.
    assert_eq!(get(&a, "/api/stats?by=unit").status, 200);
}

#[test]
fn stream_subscribers_beyond_the_cap_are_shed() {
    let (_dir, city) = small_city();
    let server = serve(&city, &["--max-streams", "2"]);
    let a = server.addr.as_str();
    let first = stream(a, "/api/ships/stream");
    let _second = stream(a, "/api/ships/stream");
    // The third: only its head is read (an endless stream would never end).
    let head = |a: &str| {
        let mut s = connect(a);
        s.write_all(b"GET /api/ships/stream HTTP/1.1\r\nHost: onemap\r\n\r\n")
            .unwrap();
        let mut line = [0u8; 12];
        s.read_exact(&mut line).unwrap();
        (String::from_utf8_lossy(&line).to_string(), s)
    };
    let (status, mut third) = head(a);
    assert_eq!(status, "HTTP/1.1 503", "a third subscriber");
    let mut rest = Vec::new();
    third.read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest).to_ascii_lowercase();
    assert!(rest.contains("retry-after: 1"), "{rest}");
    assert!(rest.contains("\"overloaded\""), "{rest}");
    assert_eq!(get(a, "/healthz").status, 200);
    assert!(metric(a, "onemap_http_shed_total{limit=\"streams\"}") >= 1.0);
    // One leaves: there is room again.
    drop(first);
    let deadline = Instant::now() + PATIENCE;
    while head(a).0 != "HTTP/1.1 200" {
        assert!(Instant::now() < deadline, "no room after a subscriber left");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn bodies_over_their_limit_are_refused_and_change_nothing() {
    let (_dir, city) = small_city();
    let feed = token(&city, "ship_feed", "city", "feed");
    let server = serve(&city, &[]);
    let a = server.addr.as_str();
    let (lon, lat) = (119.0, 25.45);
    let grid = id_of(&get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json()["grid"]["id"]);
    drop(server);
    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长");
    // Event bodies of at most 1 KiB here (64 KiB by default): a refused
    // body small enough to arrive whole, so the answer is read before the
    // server closes the connection on what it did not read.
    let server = serve(&city, &["--event-body-kb", "1"]);
    let a = server.addr.as_str();
    let events = || get(a, "/healthz").json()["layers"]["events"].clone();
    let before = events();

    // A valid report padded past the limit: 413, and no event.
    let report = json!({"lon": lon, "lat": lat, "category": "road", "description": "坑"});
    let padded = format!("{}{}", " ".repeat(1100), report);
    let r = post(a, "/api/events", Some(&leader), &padded);
    assert_eq!(r.error(), (413, "body_too_large".into()));
    assert_eq!(events(), before, "a refused body changed nothing");
    // The same report unpadded is taken.
    let r = post(a, "/api/events", Some(&leader), &report.to_string());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));

    // A batch of 10,000 reports, pretty-printed (more than 1 MiB), is taken
    // by default.
    let ship = get(a, "/api/ships").json()["ships"][0].clone();
    let (mmsi, t0) = (
        ship["mmsi"].as_u64().unwrap(),
        ship["reported_at"].as_i64().unwrap(),
    );
    let unknown: Vec<Value> = (0..10_000)
        .map(|i| json!({"mmsi": 1, "time": t0 + i, "lon": 119.1, "lat": 25.2, "speed_kn": 1.5, "course_deg": 90.5}))
        .collect();
    let batch = serde_json::to_string_pretty(&unknown).unwrap();
    assert!(batch.len() > 1 << 20, "{} bytes", batch.len());
    let r = post(a, "/api/ships/positions", Some(&feed), &batch);
    assert_eq!(
        r.status,
        200,
        "{}",
        String::from_utf8_lossy(&r.body[..200.min(r.body.len())])
    );
    assert_eq!(r.json()["rejected"], 10_000);
    // A batch declared past 4 MiB is refused before it is sent (the client
    // waits for 100 Continue, which never comes).
    let mut s = connect(a);
    write!(
        s,
        "POST /api/ships/positions HTTP/1.1\r\nHost: onemap\r\nAuthorization: Bearer {feed}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        (4 << 20) + 1
    )
    .unwrap();
    let (status, head, body) = read_answer(&mut s);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, &v["error"]["code"]),
        (413, &json!("body_too_large")),
        "{head}"
    );
    let now = get(a, &format!("/api/ships/{mmsi}")).json();
    assert_eq!(now["reported_at"].as_i64(), Some(t0));

    // Reads take no body.
    let mut s = connect(a);
    s.write_all(
        b"GET /api/stats?by=district HTTP/1.1\r\nHost: onemap\r\nContent-Length: 5\r\n\r\nhello",
    )
    .unwrap();
    let (status, head, body) = read_answer(&mut s);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, &v["error"]["code"]),
        (413, &json!("body_too_large")),
        "{head}"
    );
}

/// Work beyond a request's bounds is refused with 422 `too_large`, saying
/// the limit and how to narrow the question: a query polygon of more than
/// 2,000 vertices, an H3 grouping with more cells than an answer lists.
/// Just within the bounds, the same questions are answered.
#[test]
fn questions_beyond_their_bounds_are_refused_saying_how_to_narrow() {
    let (_dir, city) = small_city();
    let server = serve(&city, &[]);
    let a = server.addr.as_str();
    // A circle of n vertices around the middle of the city.
    let ring = |n: usize| {
        (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                format!(
                    "{:.6} {:.6}",
                    119.0 + 0.05 * t.cos(),
                    25.45 + 0.05 * t.sin()
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let features = |n: usize| {
        get(
            a,
            &format!(
                "/api/features/units?polygon={}",
                http_support::percent(&ring(n))
            ),
        )
    };
    let ok = features(2_000);
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert!(!ok.json()["features"].as_array().unwrap().is_empty());
    let refused = features(2_001);
    assert_eq!(refused.error(), (422, "too_large".to_string()));
    let msg = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("2001") && msg.contains("2000"), "{msg}");
    // An answer of more groups than --max-groups is refused, saying how to
    // narrow it; the same question under a grid is answered.
    let capped = serve(&city, &["--max-groups", "50"]);
    let c = capped.addr.as_str();
    let all = get(c, "/api/stats?by=unit");
    assert_eq!(all.error(), (422, "too_large".to_string()));
    let msg = all.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("more than 50 groups") && msg.contains("area="),
        "{msg}"
    );
    let cells = get(c, "/api/stats?by=h3:12");
    assert_eq!(cells.error(), (422, "too_large".to_string()));
    let msg = cells.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("coarser resolution"), "{msg}");
    let unit: u64 = get(a, "/api/locate?lon=119.0&lat=25.45").json()["unit"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a unit at the city's middle");
    let grid = unit / 1_000;
    let under = get(c, &format!("/api/stats?by=unit&area={grid}"));
    assert_eq!(
        under.status,
        200,
        "{}",
        String::from_utf8_lossy(&under.body)
    );
    let n = under.json()["groups"].as_array().unwrap().len();
    assert!((1..=50).contains(&n), "{n} units in a grid");
}
