//! The closed event loop end to end, over the embedded store: the real
//! `onemap` binary issues tokens and serves a small generated city; reports
//! and moves go through HTTP, show up in queries and tiles at once, are
//! refused when illegal or out of scope, and survive a restart.

mod http_support;

use http_support::{
    area_total, event_ids_in_tile, get, get_as, id_of, other_town, post, small_city, start,
    tile_at, token, BIN,
};
use serde_json::{json, Value};
use std::process::Command;

#[test]
fn the_event_loop_end_to_end() {
    let (_dir, city) = small_city();

    // A point inside the city, and the areas holding it.
    let server = start(&city);
    let a = server.addr.as_str();
    let (lon, lat) = (119.0, 25.45);
    let loc = get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json();
    let unit = id_of(&loc["unit"]["id"]);
    let grid = id_of(&loc["grid"]["id"]);
    let town = id_of(&loc["town"]["id"]);
    let other_town = other_town(a, town);
    drop(server);

    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长 李");
    // A unit leader elsewhere: of the first village of another town.
    let far_leader = token(
        &city,
        "unit_leader",
        &format!("area:{other_town}001"),
        "别处",
    );
    let office = token(&city, "town_office", &format!("area:{town}"), "街道办");
    let far_office = token(
        &city,
        "town_office",
        &format!("area:{other_town}"),
        "别的街道办",
    );
    let water = token(&city, "department", "department:水务局", "水务局");
    let roads = token(&city, "department", "department:交通局", "交通局");
    let viewer = token(&city, "viewer", "city", "大屏");
    let bad = Command::new(BIN)
        .args([
            "token", "create", "--role", "mayor", "--scope", "city", "--name", "x", "--data",
        ])
        .arg(&city)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unit_leader"));

    let server = start(&city);
    let a = server.addr.as_str();
    let unit_before = area_total(a, unit);
    let tile = tile_at(lon, lat);
    let tile_before = event_ids_in_tile(a, &tile);
    let town_before = area_total(a, town);

    // Who may report, and with what.
    let report = json!({"lon": lon, "lat": lat, "category": "drainage",
        "description": "下水道堵塞, 路面积水", "idempotency_key": "r-1"})
    .to_string();
    assert_eq!(
        post(a, "/api/events", None, &report).error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        post(a, "/api/events", Some("om_forged"), &report).error().0,
        401
    );
    assert_eq!(
        post(a, "/api/events", Some(&viewer), &report).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        post(a, "/api/events", Some(&far_leader), &report).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        post(a, "/api/events", Some(&leader), "{not json").error().0,
        400
    );
    let e = |body: Value| post(a, "/api/events", Some(&leader), &body.to_string()).error();
    assert_eq!(
        e(json!({"lon": lon, "lat": lat, "category": "flooding", "description": "x"})),
        (422, "unknown_value".into())
    );
    assert_eq!(
        e(json!({"lon": 122.5, "lat": 25.0, "category": "road", "description": "x"})),
        (422, "outside_city".into())
    );
    assert_eq!(
        e(json!({"lon": lon, "lat": lat, "category": "road", "description": "  "})),
        (422, "invalid_description".into())
    );
    assert_eq!(
        e(json!({"category": "road", "description": "x"})),
        (422, "missing_location".into())
    );
    assert_eq!(
        e(json!({"lon": lon, "lat": lat, "unit": (unit + 1).to_string(), "category": "road", "description": "x"})).0,
        422
    );

    let r = post(a, "/api/events", Some(&leader), &report);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let made = r.json();
    let id = id_of(&made["event"]["id"]);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/events/{id}").as_str())
    );
    assert_eq!(made["event"]["status"], "reported");
    assert_eq!(id_of(&made["event"]["unit"]), unit);
    assert_eq!(made["reporter"], "网格长 李");
    // The same key again: the same event, not a second one.
    let again = post(a, "/api/events", Some(&leader), &report);
    assert_eq!(again.status, 200);
    assert_eq!(id_of(&again.json()["event"]["id"]), id);
    // Visible at once: figures, features, the event itself.
    assert_eq!(area_total(a, unit), unit_before + 1);
    assert_eq!(area_total(a, town), town_before + 1);
    let tile_after = event_ids_in_tile(a, &tile);
    assert!(
        !tile_before.contains(&id) && tile_after.contains(&id),
        "the tile shows the new event"
    );
    assert_eq!(tile_after.len(), tile_before.len() + 1);
    let near = get(a, &format!("/api/nearest/events?lon={lon}&lat={lat}&k=1")).json();
    assert_eq!(id_of(&near["features"][0]["id"]), id, "{near}");
    // A report by unit id alone lands inside that unit.
    let by_unit = post(
        a,
        "/api/events",
        Some(&leader),
        &json!({"unit": unit.to_string(), "category": "sanitation", "description": "垃圾堆放"})
            .to_string(),
    );
    assert_eq!(by_unit.status, 201);
    assert_eq!(id_of(&by_unit.json()["event"]["unit"]), unit);
    assert_eq!(area_total(a, unit), unit_before + 2);

    // The loop, with every wrong move refused on the way.
    let path = format!("/api/events/{id}/transitions");
    let mv = |tok: &str, body: Value| post(a, &path, Some(tok), &body.to_string());
    assert_eq!(
        mv(&office, json!({"to": "closed"})).error(),
        (409, "illegal_move".into())
    );
    assert_eq!(
        mv(&far_office, json!({"to": "discussing"})).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        mv(&leader, json!({"to": "discussing"})).error(),
        (403, "forbidden".into())
    );
    assert_eq!(mv(&office, json!({"to": "teleported"})).error().0, 422);
    assert_eq!(
        post(a, &path, None, &json!({"to": "discussing"}).to_string())
            .error()
            .0,
        401
    );
    assert_eq!(mv(&office, json!({"to": "discussing"})).status, 200);
    assert_eq!(
        mv(&office, json!({"to": "routed"})).error(),
        (422, "invalid_move".into())
    );
    assert_eq!(
        mv(&office, json!({"to": "routed", "routed_to": "水务局"})).status,
        200
    );
    assert_eq!(
        mv(&roads, json!({"to": "handled"})).error(),
        (403, "forbidden".into())
    );
    // The department's queue holds it (with its text); another
    // department's does not; only departments have one.
    let queue = |t: &str| get_as(a, "/api/queue", t);
    let ids_in = |r: &http_support::Reply| -> Vec<u64> {
        r.json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| id_of(&e["event"]["id"]))
            .collect()
    };
    let q = queue(&water);
    assert_eq!(q.status, 200);
    assert_eq!(ids_in(&q), vec![id]);
    assert_eq!(q.json()["events"][0]["routed_to"], "水务局");
    assert_eq!(q.json()["events"][0]["description"], "下水道堵塞, 路面积水");
    assert_eq!(ids_in(&queue(&roads)), Vec::<u64>::new());
    assert_eq!(queue(&office).error(), (403, "forbidden".into()));
    assert_eq!(get(a, "/api/queue").error().0, 401);
    assert_eq!(
        mv(&water, json!({"to": "handled", "note": "已疏通"})).status,
        200
    );
    // Handled: it has left the queue.
    assert_eq!(ids_in(&queue(&water)), Vec::<u64>::new());
    assert_eq!(
        mv(&far_leader, json!({"to": "fed_back"})).error(),
        (403, "forbidden".into())
    );
    assert_eq!(mv(&leader, json!({"to": "fed_back"})).status, 200);
    let open_before = get(a, &format!("/api/areas/{unit}")).json()["figures"]["open"]
        .as_u64()
        .unwrap();
    let closed = mv(&office, json!({"to": "closed"}));
    assert_eq!(closed.status, 200);
    assert_eq!(closed.json()["event"]["status"], "closed");
    let open_after = get(a, &format!("/api/areas/{unit}")).json()["figures"]["open"]
        .as_u64()
        .unwrap();
    assert_eq!(open_after + 1, open_before, "closing shows in the figures");
    assert_eq!(
        post(
            a,
            "/api/events/999999999999/transitions",
            Some(&office),
            r#"{"to":"discussing"}"#
        )
        .error()
        .0,
        404
    );
    assert_eq!(get(a, "/api/events/abc").error().0, 400);
    assert_eq!(get(a, "/api/events/999999999999").error().0, 404);
    drop(server);

    // A restart loses nothing.
    let server = start(&city);
    let a = server.addr.as_str();
    let got = get_as(a, &format!("/api/events/{id}"), &office).json();
    assert_eq!(got["event"]["status"], "closed");
    assert_eq!(got["routed_to"], "水务局");
    let steps: Vec<&str> = got["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "reported",
            "discussing",
            "routed",
            "handled",
            "fed_back",
            "closed"
        ]
    );
    assert_eq!(got["history"][3]["note"], "已疏通");
    assert_eq!(got["history"][3]["actor"], "水务局");
    assert_eq!(area_total(a, unit), unit_before + 2);
    // Reopening is the town office's, and goes back to reported.
    let reopened = post(
        a,
        &format!("/api/events/{id}/transitions"),
        Some(&office),
        r#"{"to":"reported"}"#,
    );
    assert_eq!(reopened.status, 200);
    assert_eq!(reopened.json()["event"]["status"], "reported");
    // A base event (from the city's files) can be moved too: one waiting to
    // be routed (ids below every report this test made).
    let base = get(
        a,
        "/api/features/events?bbox=118.4,24.9,119.7,25.8&status=discussing&limit=1",
    )
    .json();
    let f = base["features"][0].clone();
    assert!(
        f.is_object() && id_of(&f["id"]) < id,
        "the test city has a base event waiting to be routed: {base}"
    );
    {
        let bid = id_of(&f["id"]);
        let in_town = get(
            a,
            &format!(
                "/api/locate?lon={}&lat={}",
                f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1]
            ),
        )
        .json();
        let btown = id_of(&in_town["town"]["id"]);
        let t = token(&city, "town_office", &format!("area:{btown}"), "另一街道办");
        let r = post(
            a,
            &format!("/api/events/{bid}/transitions"),
            Some(&t),
            r#"{"to":"routed","routed_to":"住建局"}"#,
        );
        // The token was issued after this server started: still valid, it is looked up per request.
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let moved = get_as(a, &format!("/api/events/{bid}"), &t).json();
        // It entered its new status now: the step it waits for counts from here.
        assert!(moved["event"]["status_at"].as_i64().unwrap() >= onemap_core::time::now() - 60);
        assert_eq!(moved["history"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn private_reads_need_a_token() {
    let (_dir, city) = small_city();
    let viewer = token(&city, "viewer", "city", "大屏");
    let server = http_support::start_with(&["--data", city.to_str().unwrap(), "--private-reads"]);
    let a = server.addr.as_str();
    let with = |path: &str, t: &str| {
        http_support::request(a, "GET", path, &[("Authorization", &format!("Bearer {t}"))])
    };
    let reads = [
        "/api/stats?by=district",
        "/api/locate?lon=119.0&lat=25.45",
        "/api/ships",
        "/tiles/districts/8/212/109.mvt",
        "/tiles/districts,events.json",
        "/styles/day.json",
        "/catalog",
    ];
    for path in reads {
        assert_eq!(get(a, path).error(), (401, "unauthorized".into()), "{path}");
        assert_eq!(
            with(path, "om_not_a_token").error(),
            (401, "unauthorized".into()),
            "{path}"
        );
        let ok = with(path, &viewer);
        assert!(
            ok.status == 200 || ok.status == 204,
            "{path}: {}",
            ok.status
        );
    }
    // The pages, health and metrics stay open.
    for path in ["/", "/wall", "/healthz", "/metrics", "/api/openapi.json"] {
        assert_eq!(get(a, path).status, 200, "{path}");
    }
    // Without the option, reads are public.
    let open = start(&city);
    assert_eq!(get(&open.addr, "/api/stats?by=district").status, 200);
}

/// `onemap token …` on a city's store: (exit code, stdout, stderr).
fn token_cli(city: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("token")
        .args(args)
        .args(["--data", city.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn keys_tokens_and_texts_belong_to_whom_they_should() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let (lon, lat) = (119.0, 25.45);
    let loc = get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json();
    let unit = id_of(&loc["unit"]["id"]);
    let grid = id_of(&loc["grid"]["id"]);
    let town = id_of(&loc["town"]["id"]);
    let other_town = other_town(a, town);
    drop(server);
    let leader_a = token(&city, "unit_leader", &format!("area:{grid}"), "网格长 甲");
    let leader_b = token(&city, "unit_leader", &format!("area:{unit}"), "单元长 乙");
    let office = token(&city, "town_office", &format!("area:{town}"), "街道办");
    let stranger = token(
        &city,
        "town_office",
        &format!("area:{other_town}"),
        "别的街道办",
    );

    // Grants that make no sense are refused before anything is kept.
    for (role, scope) in [
        ("department", "city"),
        ("unit_leader", "city"),
        ("town_office", "department:水务局"),
        ("ship_feed", &format!("area:{town}")),
    ] {
        let (code, _, err) = token_cli(
            &city,
            &["create", "--role", role, "--scope", scope, "--name", "x"],
        );
        assert_ne!(code, 0, "{role} {scope}");
        assert!(err.contains(scope) && err.lines().count() == 1, "{err}");
    }

    let server = start(&city);
    let a = server.addr.as_str();
    // Leader B's report with leader A's key is B's own: not A's event back.
    let body = |text: &str| {
        json!({"lon": lon, "lat": lat, "category": "drainage", "description": text,
               "idempotency_key": "r-1"})
        .to_string()
    };
    let first = post(a, "/api/events", Some(&leader_a), &body("下水道堵塞"));
    assert_eq!(first.status, 201);
    let theirs = post(a, "/api/events", Some(&leader_b), &body("下水道堵塞"));
    assert_eq!(theirs.status, 201, "B's report is not lost");
    let (ia, ib) = (
        id_of(&first.json()["event"]["id"]),
        id_of(&theirs.json()["event"]["id"]),
    );
    assert_ne!(ia, ib);
    assert_eq!(theirs.json()["reporter"], "单元长 乙");
    // A's retry: the same event; A's key with another report: 409.
    let again = post(a, "/api/events", Some(&leader_a), &body("下水道堵塞"));
    assert_eq!(
        (again.status, id_of(&again.json()["event"]["id"])),
        (200, ia)
    );
    assert_eq!(
        post(a, "/api/events", Some(&leader_a), &body("别的事")).error(),
        (409, "idempotency_conflict".into())
    );

    // The text, reporter and history: for readers whose scope covers it.
    let path = format!("/api/events/{ia}");
    let public = get(a, &path).json();
    assert_eq!(public["private"], true, "{public}");
    assert!(public["description"].is_null() && public["reporter"].is_null());
    assert!(public["history"].is_null());
    assert_eq!(
        id_of(&public["event"]["id"]),
        ia,
        "the map's facts stay public"
    );
    let stranger_view = get_as(a, &path, &stranger).json();
    assert_eq!(stranger_view["private"], true);
    let office_view = get_as(a, &path, &office).json();
    assert_eq!(office_view["private"], false);
    assert_eq!(office_view["description"], "下水道堵塞");
    assert_eq!(office_view["history"].as_array().unwrap().len(), 1);
    assert_eq!(
        get_as(a, &path, "om_not_a_token").error(),
        (401, "unauthorized".into())
    );

    // Revoked: refused by the running server within seconds.
    let (code, listed, _) = token_cli(&city, &["list", "--json"]);
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let id_b = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "单元长 乙")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!leader_b.contains(&id_b[4..]), "ids never show the secret");
    let (code, _, err) = token_cli(&city, &["revoke", &id_b]);
    assert_eq!(code, 0, "{err}");
    let refused = (0..60).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(500));
        post(a, "/api/events", Some(&leader_b), &body("还能报吗")).status == 401
    });
    assert!(refused, "a revoked token is still taken after 30 s");
    let (_, table, _) = token_cli(&city, &["list"]);
    assert!(
        table
            .lines()
            .any(|l| l.contains(&id_b) && l.contains("revoked")),
        "{table}"
    );

    // Expired: refused once its time is up.
    let (code, short, err) = token_cli(
        &city,
        &[
            "create",
            "--role",
            "viewer",
            "--scope",
            "city",
            "--name",
            "一会儿",
            "--expires-in",
            "1s",
        ],
    );
    assert_eq!(code, 0, "{err}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        get_as(a, &path, short.trim()).error(),
        (401, "unauthorized".into())
    );
}

/// `onemap simulate events` reports in its leader's grid and takes each of
/// its events through every step of the loop, as the demo accounts would.
#[test]
fn the_loop_simulator_takes_its_reports_to_closed() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let loc = get(a, "/api/locate?lon=119.0&lat=25.45").json();
    let grid = id_of(&loc["grid"]["id"]);
    let town = id_of(&loc["town"]["id"]);
    let tokens = json!({
        "leader": {"token": token(&city, "unit_leader", &format!("area:{grid}"), "模拟单元长"), "area": grid.to_string()},
        "office": {"token": token(&city, "town_office", &format!("area:{town}"), "模拟镇街")},
        "departments": {
            "水务局": token(&city, "department", "department:水务局", "模拟水务局"),
            "城管局": token(&city, "department", "department:城管局", "模拟城管局"),
        },
    });
    let file = city.join("loop-tokens.json");
    std::fs::write(&file, tokens.to_string()).unwrap();
    let out = Command::new(BIN)
        .args([
            "simulate",
            "events",
            "--url",
            &format!("http://{a}"),
            "--tokens",
        ])
        .arg(&file)
        .args([
            "--every",
            "0.05",
            "--pace",
            "1",
            "--reports",
            "3",
            "--seed",
            "9",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The events it reported, from its own lines "reported #ID …".
    let ids: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("reported #"))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{text}");
    for id in ids {
        let office = tokens["office"]["token"].as_str().unwrap();
        let e = get_as(a, &format!("/api/events/{id}"), office).json();
        assert_eq!(e["event"]["status"], "closed", "{e}");
        let steps: Vec<&str> = e["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["to"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            steps,
            [
                "reported",
                "discussing",
                "routed",
                "handled",
                "fed_back",
                "closed"
            ],
            "{e}"
        );
        // Reported inside the leader's grid.
        let [lon, lat] = [
            e["event"]["lon"].as_f64().unwrap(),
            e["event"]["lat"].as_f64().unwrap(),
        ];
        let at = get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json();
        assert_eq!(id_of(&at["grid"]["id"]), grid);
    }
}
