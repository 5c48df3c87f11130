//! Live ships end to end: the real `onemap` binary serves a small generated
//! city; position reports go through HTTP with a ship_feed token, are judged
//! (stale, jump, outside, unknown), cross the port geofence, reach every
//! stream client in order, and survive a restart.

mod http_support;

use http_support::{get, post, small_city, start, token, BIN};
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

/// A stream client: every `data:` line of `/api/ships/stream`, parsed, with
/// its `event:` name, sent down a channel as it arrives.
fn stream_client(addr: &str) -> mpsc::Receiver<(String, Value)> {
    // Back once the answer's head is in (or a panic after 30 s).
    let mut r = http_support::stream(addr, "/api/ships/stream");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let mut event = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if let Some(e) = l.strip_prefix("event: ") {
                event = e.to_string();
            } else if let Some(d) = l.strip_prefix("data: ") {
                let v: Value = serde_json::from_str(d).unwrap();
                if tx.send((event.clone(), v)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

#[test]
fn ships_end_to_end() {
    let (_dir, city) = small_city();
    let feed = token(&city, "ship_feed", "city", "feed");
    let viewer = token(&city, "viewer", "city", "大屏");

    let server = start(&city);
    let a = server.addr.as_str();
    let in_port = get(a, "/api/ships?state=in_port").json();
    let all = get(a, "/api/ships").json();
    let at_sea = get(a, "/api/ships?state=at_sea").json();
    assert_eq!(
        in_port["count"].as_u64().unwrap() + at_sea["count"].as_u64().unwrap(),
        all["count"].as_u64().unwrap()
    );
    assert!(in_port["ships"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["in_port"] == true));
    // A berthed ship whose position lies in its port's area.
    let ship = in_port["ships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["port"].is_string())
        .expect("a ship berthed in a port area")
        .clone();
    let mmsi = ship["mmsi"].as_u64().unwrap();
    let port = ship["port"].as_str().unwrap().to_string();
    let by_port = get(
        a,
        &format!(
            "/api/ships?port={}",
            http_support::percent(ship["home_port"].as_str().unwrap())
        ),
    )
    .json();
    assert!(by_port["ships"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["home_port"] == ship["home_port"]));
    assert_eq!(
        get(a, "/api/ships?state=sunk").error(),
        (422, "invalid_state".into())
    );
    let (lon, lat, t0) = (
        ship["lon"].as_f64().unwrap(),
        ship["lat"].as_f64().unwrap(),
        ship["reported_at"].as_i64().unwrap(),
    );

    // Two clients watch the stream.
    let s1 = stream_client(a);
    let s2 = stream_client(a);

    // Who may post, and what.
    let one = json!([{"mmsi": mmsi, "time": t0 + 1, "lon": lon, "lat": lat,
        "speed_kn": 0.0, "course_deg": 0.0}])
    .to_string();
    assert_eq!(
        post(a, "/api/ships/positions", None, &one).error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        post(a, "/api/ships/positions", Some("om_nope"), &one).error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        post(a, "/api/ships/positions", Some(&viewer), &one).error(),
        (403, "forbidden".into())
    );
    let bad = post(
        a,
        "/api/ships/positions",
        Some(&feed),
        "{\"reports\": [{\"mmsi\": \"x\"}]}",
    );
    assert!(matches!(bad.status, 400 | 422), "{}", bad.status);
    bad.error();
    assert_eq!(
        post(a, "/api/ships/positions", Some(&feed), "not json").status,
        400
    );

    // Out of port 1.1 km north in 2 min (18 kn), a stale repeat, a jump, a
    // position off the map, an unknown ship, then back in port (ISO time).
    let iso = {
        let t = t0 + 600;
        let (y, m, d) = onemap_core::time::civil_from_days(t.div_euclid(86_400));
        let s = t.rem_euclid(86_400);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let batch = json!({"reports": [
        {"mmsi": mmsi, "time": t0 + 120, "lon": lon, "lat": lat + 0.01, "speed_kn": 9.0, "course_deg": 0.0},
        {"mmsi": mmsi, "time": t0 + 60, "lon": lon, "lat": lat, "speed_kn": 9.0, "course_deg": 0.0},
        {"mmsi": mmsi, "time": t0 + 180, "lon": lon + 0.5, "lat": lat, "speed_kn": 9.0, "course_deg": 90.0},
        {"mmsi": mmsi, "time": t0 + 240, "lon": 125.0, "lat": lat, "speed_kn": 9.0, "course_deg": 90.0},
        {"mmsi": 1, "time": t0 + 240, "lon": lon, "lat": lat, "speed_kn": 9.0, "course_deg": 90.0},
        {"mmsi": mmsi, "time": iso, "lon": lon, "lat": lat, "speed_kn": 0.5, "course_deg": 180.0},
    ]});
    let r = post(a, "/api/ships/positions", Some(&feed), &batch.to_string());
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (&v["applied"], &v["stale"], &v["jumps"], &v["rejected"]),
        (&json!(2), &json!(1), &json!(1), &json!(2)),
        "{v}"
    );
    let reasons: Vec<(u64, &str)> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["index"].as_u64().unwrap(), x["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (1, "stale"),
            (2, "jump"),
            (3, "outside"),
            (4, "unknown_ship")
        ]
    );
    let crossed: Vec<(bool, i64)> = v["crossings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["port"], port.as_str());
            (c["arrival"].as_bool().unwrap(), c["time"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(crossed, vec![(false, t0 + 120), (true, t0 + 600)]);

    // Both stream clients got every change, in order.
    let expected = [
        ("position", t0 + 120),
        ("departure", t0 + 120),
        ("position", t0 + 600),
        ("arrival", t0 + 600),
    ];
    for rx in [&s1, &s2] {
        let mut last_seq = 0;
        for (name, time) in expected {
            let (e, d) = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("a stream event");
            assert_eq!(
                (e.as_str(), d["time"].as_i64().unwrap()),
                (name, time),
                "{d}"
            );
            assert_eq!(d["mmsi"].as_u64(), Some(mmsi));
            let seq = d["seq"].as_u64().unwrap();
            assert!(seq > last_seq);
            last_seq = seq;
        }
    }

    // Into a restricted zone: an alert, in the answer and on the stream.
    let fence = get(a, "/api/ships/geofence").json();
    let zone = fence["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["kind"] == "zone")
        .expect("a restricted zone")
        .clone();
    let ring = zone["geometry"]["coordinates"][0].as_array().unwrap();
    let (zx, zy) = (
        (ring[0][0].as_f64().unwrap() + ring[2][0].as_f64().unwrap()) / 2.0,
        (ring[0][1].as_f64().unwrap() + ring[2][1].as_f64().unwrap()) / 2.0,
    );
    let sea = at_sea["ships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let d = (s["lon"].as_f64().unwrap() - zx).hypot(s["lat"].as_f64().unwrap() - zy);
            (d, s)
        })
        .filter(|(d, _)| *d > 0.03)
        .min_by(|x, y| x.0.total_cmp(&y.0))
        .expect("a ship at sea outside the zone")
        .1
        .clone();
    let sm = sea["mmsi"].as_u64().unwrap();
    let st = sea["reported_at"].as_i64().unwrap() + 6 * 3600;
    let into = json!([{"mmsi": sm, "time": st, "lon": zx, "lat": zy, "speed_kn": 8.0, "course_deg": 10.0},
        {"mmsi": sm, "time": st + 60, "lon": zx + 0.001, "lat": zy, "speed_kn": 8.0, "course_deg": 90.0}]);
    let v = post(a, "/api/ships/positions", Some(&feed), &into.to_string()).json();
    assert_eq!(v["applied"], 2, "{v}");
    let alerts = v["alerts"].as_array().unwrap();
    assert_eq!(
        alerts.len(),
        1,
        "one alert on entering, none for moving inside: {v}"
    );
    assert_eq!(alerts[0]["zone"], zone["properties"]["name"]);
    assert_eq!(alerts[0]["time"].as_i64(), Some(st));
    for rx in [&s1, &s2] {
        let names: Vec<String> = (0..3)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(30))
                    .expect("a stream event")
                    .0
            })
            .collect();
        assert_eq!(names, ["position", "alert", "position"]);
    }

    // The ship now, with its track.
    let s = get(a, &format!("/api/ships/{mmsi}")).json();
    assert_eq!(
        (s["reported_at"].as_i64(), s["in_port"].as_bool()),
        (Some(t0 + 600), Some(true))
    );
    assert_eq!(s["track"]["geometry"]["type"], "LineString");
    let coords = s["track"]["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(coords.len(), 2, "{coords:?}");
    assert_eq!(coords[0][1].as_f64(), Some(lat + 0.01));
    assert_eq!(get(a, "/api/ships/1").error(), (404, "unknown_ship".into()));
    assert_eq!(
        get(a, "/api/ships/abc").error(),
        (400, "invalid_mmsi".into())
    );
    drop(server);

    // After a restart: the position and the crossings are still there.
    let server = start(&city);
    let a = server.addr.as_str();
    let s = get(a, &format!("/api/ships/{mmsi}")).json();
    assert_eq!(s["reported_at"].as_i64(), Some(t0 + 600));
    let c = get(
        a,
        &format!("/api/ships/crossings?port={}", http_support::percent(&port)),
    )
    .json();
    let days = c["days"].as_array().unwrap();
    let sum = |k: &str| days.iter().map(|d| d[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!((sum("departures"), sum("arrivals")), (1, 1), "{c}");
    // A stale report after the restart is still stale.
    let again = json!([{"mmsi": mmsi, "time": t0 + 600, "lon": lon, "lat": lat,
        "speed_kn": 0.0, "course_deg": 0.0}]);
    let v = post(a, "/api/ships/positions", Some(&feed), &again.to_string()).json();
    assert_eq!(v["stale"], 1, "{v}");
    // A time a day ahead of the server's clock is refused, and the ship
    // keeps its last true report (a future time applied would make every
    // later true report stale).
    let ahead = onemap_core::time::now() + 86_400;
    let future = json!([{"mmsi": mmsi, "time": ahead, "lon": lon, "lat": lat,
        "speed_kn": 0.0, "course_deg": 0.0}]);
    let v = post(a, "/api/ships/positions", Some(&feed), &future.to_string()).json();
    assert_eq!(
        (&v["applied"], &v["rejected"]),
        (&json!(0), &json!(1)),
        "{v}"
    );
    assert_eq!(v["refused"][0]["reason"], "future", "{v}");
    let s = get(a, &format!("/api/ships/{mmsi}")).json();
    assert_eq!(s["reported_at"].as_i64(), Some(t0 + 600));
}

#[test]
fn the_simulator_moves_the_fleet() {
    let (_dir, city) = small_city();
    let feed = token(&city, "ship_feed", "city", "feed");
    let viewer = token(&city, "viewer", "city", "大屏");
    let server = start(&city);
    let a = server.addr.as_str();
    let before = get(a, "/api/ships").json();
    let url = format!("http://{a}");
    let sim = |tok: &str, url: &str| {
        Command::new(BIN)
            .args(["simulate", "ships", "--url", url, "--token", tok])
            .args([
                "--rate",
                "20",
                "--speedup",
                "1200",
                "--batches",
                "3",
                "--seed",
                "5",
            ])
            .output()
            .unwrap()
    };
    let out = sim(&feed, &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = get(a, "/api/ships").json();
    let (b, f) = (
        before["ships"].as_array().unwrap(),
        after["ships"].as_array().unwrap(),
    );
    assert_eq!(b.len(), f.len());
    let t0 = b
        .iter()
        .map(|s| s["reported_at"].as_i64().unwrap())
        .max()
        .unwrap();
    // Every ship reported three times, 60 simulated seconds apart, without a
    // single refusal; the ships at sea moved.
    assert!(f
        .iter()
        .all(|s| s["reported_at"].as_i64() == Some(t0 + 1 + 3 * 60)));
    let moved = b
        .iter()
        .zip(f)
        .filter(|(x, y)| x["in_port"] == false && (x["lon"] != y["lon"] || x["lat"] != y["lat"]))
        .count();
    let at_sea = b.iter().filter(|x| x["in_port"] == false).count();
    assert!(at_sea > 0 && moved == at_sea, "{moved} of {at_sea} moved");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("stale 0, jumps 0, rejected 0"), "{text}");
    // The wall counts the fleet as it is now, per port too.
    let wall = get(a, "/api/wall").json();
    let sea_now = get(a, "/api/ships?state=at_sea").json()["count"]
        .as_u64()
        .unwrap();
    assert_eq!(wall["ships"]["at_sea"].as_u64(), Some(sea_now));
    let per_port: u64 = wall["ships"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at_sea"].as_u64().unwrap())
        .sum();
    assert_eq!(per_port, sea_now);
    // Clear one-line errors.
    let refused = sim(&viewer, &url);
    assert!(!refused.status.success());
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(
        e.contains("refused the token") && e.trim().lines().count() <= 2,
        "{e}"
    );
    drop(server);
    let gone = sim(&feed, &url);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("cannot reach the server"));
}
