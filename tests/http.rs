//! End-to-end HTTP tests: the real `onemap` binary serves a small generated
//! city on an ephemeral port, and a plain HTTP/1.1 client
//! (`http_support`) checks every endpoint and every error case.

mod http_support;

use http_support::{
    get, gunzip, mvt_layers, percent, request, small_city, start, start_with, token, Reply,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;

#[test]
fn http_end_to_end() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();

    service_endpoints(a);
    health_keeps_the_store_to_itself(a, &city);
    tiles(a);
    tile_cache_headers(a);
    queries(a);
    errors(a);
    viewer(a);
    metrics(a);
}

/// Anyone may read `/healthz`: it says what kind of store the city came
/// from, never where it is.
fn health_keeps_the_store_to_itself(a: &str, city: &Path) {
    let h = get(a, "/healthz");
    assert_eq!(h.status, 200);
    let text = String::from_utf8(h.body.clone()).unwrap();
    let dir = city.file_name().unwrap().to_str().unwrap();
    assert!(!text.contains(dir), "the city's path in {text}");
    assert!(!text.contains("load_seconds"), "{text}");
    assert_eq!(h.json()["store"], serde_json::json!({"kind": "files"}));
}

fn service_endpoints(a: &str) {
    let h = get(a, "/healthz");
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["layers"]["districts"], 7);
    let o = get(a, "/api/openapi.json").json();
    assert_eq!(o["openapi"], "3.1.0");
    for p in [
        "/tiles/{layers}/{z}/{x}/{y}.mvt",
        "/api/areas/{id}",
        "/api/wall",
    ] {
        assert!(o["paths"][p].is_object(), "{p} documented");
    }
    let cors = request(
        a,
        "GET",
        "/catalog",
        &[("Origin", "http://elsewhere.example")],
    );
    assert_eq!(cors.header("access-control-allow-origin"), Some("*"));
    let cat = get(a, "/catalog").json();
    assert!(cat["layers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["name"] == "events"));
    for name in ["day", "wall"] {
        let s = get(a, &format!("/styles/{name}.json"));
        assert_eq!(s.status, 200);
        let s = s.json();
        assert_eq!(s["version"], 8);
        let url = s["sources"]["onemap"]["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("http://{a}/tiles/")), "{url}");
        // No glyph server: MapLibre draws every label glyph with the
        // browser's fonts (grid names mix Chinese and digits).
        assert!(s.get("glyphs").is_none(), "{name} names a glyph URL");
    }
    let w = get(a, "/api/wall");
    assert_eq!(w.status, 200);
    let w = w.json();
    // Today is the real day (China time); the test city's history ends on
    // 2026-10-31, so its events are long overdue when still open.
    assert_eq!(
        w["today"]["date"],
        onemap_core::time::cst_date(onemap_core::time::now())
    );
    assert!(w["events_today"].as_u64().is_some());
    let overdue = w["overdue"].as_u64().unwrap();
    let per_district: u64 = w["districts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["overdue"].as_u64().unwrap())
        .sum();
    assert_eq!(per_district, overdue);
    assert_eq!(
        get(a, "/api/overdue?limit=1").json()["report"]["total"].as_u64(),
        Some(overdue)
    );
    assert!(w["open_events"].as_u64().is_some() && w["closure_rate"].as_f64().unwrap() > 0.5);
    assert_eq!(
        w["ships"]["at_sea"].as_u64().unwrap() + w["ships"]["in_port"].as_u64().unwrap(),
        320
    );
    assert_eq!(w["districts"].as_array().unwrap().len(), 7);
    assert!(!w["hotspots"]["places"].as_array().unwrap().is_empty());
}

fn tiles(a: &str) {
    // TileJSON: valid 3.0 with absolute tile URLs carrying the filter.
    let tj = get(a, "/tiles/districts,events.json?from=2026-01-01");
    assert_eq!(tj.status, 200);
    let tj = tj.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    let url = tj["tiles"][0].as_str().unwrap();
    assert_eq!(
        url,
        format!("http://{a}/tiles/districts,events/{{z}}/{{x}}/{{y}}.mvt?from=2026-01-01")
    );
    assert!(tj["minzoom"].as_u64().unwrap() <= tj["maxzoom"].as_u64().unwrap());
    let b = tj["bounds"].as_array().unwrap();
    assert!(b[0].as_f64() < b[2].as_f64() && b[1].as_f64() < b[3].as_f64());
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"districts") && ids.contains(&"events"),
        "{ids:?}"
    );

    // z8 tile over the city centre (119.0E 25.45N): districts and events.
    let path = "/tiles/districts,events/8/212/109.mvt";
    let plain = get(a, path);
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("content-type"),
        Some("application/vnd.mapbox-vector-tile")
    );
    assert!(plain.header("content-encoding").is_none());
    // Events change live: revalidated on every use (see tile_cache_headers).
    assert_eq!(plain.header("cache-control"), Some("no-cache"));
    let layers = mvt_layers(&plain.body);
    assert!(
        layers.contains(&"districts".to_string()) && layers.contains(&"events".to_string()),
        "{layers:?}"
    );
    let etag = plain.header("etag").unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag {etag}"
    );

    let gz = request(a, "GET", path, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&gz.body), plain.body, "gzip carries the same tile");
    assert!(gz
        .header("vary")
        .unwrap()
        .to_lowercase()
        .contains("accept-encoding"));

    for (tag, enc) in [
        (etag.as_str(), "identity"),
        (gz.header("etag").unwrap(), "gzip"),
    ] {
        let nm = request(
            a,
            "GET",
            path,
            &[("If-None-Match", tag), ("Accept-Encoding", enc)],
        );
        assert_eq!(nm.status, 304, "If-None-Match {tag}");
        assert!(nm.body.is_empty());
        assert!(nm.header("etag").is_some());
    }
    assert_eq!(
        request(a, "GET", path, &[("If-None-Match", "\"other\"")]).status,
        200
    );

    // A filter that keeps nothing changes the tile and its ETag.
    let filtered = get(
        a,
        "/tiles/districts,events/8/212/109.mvt?from=2026-10-01&category=road&status=closed,handled",
    );
    assert_eq!(filtered.status, 200);
    assert_ne!(filtered.header("etag").unwrap(), etag);
    let iso = get(
        a,
        "/tiles/events/8/212/109.mvt?from=2026-10-01T00:00:00%2B08:00&to=2026-10-31T12:00:00Z",
    );
    assert!(iso.status == 200 || iso.status == 204);

    // Open sea far from the city: a valid tile with nothing in it.
    let empty = get(a, "/tiles/districts,events/8/0/0.mvt");
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
    // HEAD works like GET without a body.
    assert_eq!(request(a, "HEAD", path, &[]).status, 200);
}

/// The answer's headers for caches: `Cache-Control`, `Vary` (without the
/// CORS layer's own `origin, access-control-request-*`, which every answer
/// carries), and whether it has an ETag.
fn cache_headers(r: &Reply) -> (u16, Option<String>, Option<String>, bool) {
    let vary = r.header("vary").map(|v| {
        v.to_lowercase()
            .split(',')
            .map(str::trim)
            .filter(|t| *t != "origin" && !t.starts_with("access-control-request-"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    (
        r.status,
        r.header("cache-control").map(str::to_string),
        vary,
        r.header("etag").is_some(),
    )
}

/// Area tiles may be reused for five minutes; any tile holding a layer that
/// changes live (events, ships) is revalidated on every use, with an ETag
/// that makes that a 304; empty tiles (204) say the same.
fn tile_cache_headers(a: &str) {
    let area = |path: &str| get(a, path);
    let vary = Some("accept-encoding".to_string());
    for path in [
        "/tiles/districts,towns/8/212/109.mvt",
        "/tiles/districts,towns,villages,labels,heritage,homesteads/12/3401/1748.mvt",
    ] {
        let r = area(path);
        let want = (200, Some("public, max-age=300".into()), vary.clone(), true);
        assert_eq!(cache_headers(&r), want, "{path}");
    }
    let live = [
        "/tiles/events/8/212/109.mvt",
        "/tiles/ships/8/212/109.mvt",
        "/tiles/districts,events/12/3401/1748.mvt",
        "/tiles/towns,ships/8/212/109.mvt",
    ];
    for path in live {
        let r = get(a, path);
        let want = (200, Some("no-cache".into()), vary.clone(), true);
        assert_eq!(cache_headers(&r), want, "{path}");
        // Revalidation is cheap: the same ETag gives a 304 that says the same.
        let etag = r.header("etag").unwrap();
        let again = request(a, "GET", path, &[("If-None-Match", etag)]);
        let want = (304, Some("no-cache".into()), vary.clone(), true);
        assert_eq!(cache_headers(&again), want, "{path} revalidated");
    }
    // Empty tiles: the same rules, without an ETag.
    for (path, cache) in [
        ("/tiles/districts/8/0/0.mvt", "public, max-age=300"),
        ("/tiles/events/8/0/0.mvt", "no-cache"),
        ("/tiles/ships/8/0/0.mvt", "no-cache"),
        ("/tiles/districts,ships/8/0/0.mvt", "no-cache"),
    ] {
        let want = (204, Some(cache.into()), vary.clone(), false);
        assert_eq!(cache_headers(&get(a, path)), want, "{path}");
    }
}

fn queries(a: &str) {
    let loc = get(a, "/api/locate?lon=119.0&lat=25.45").json();
    assert_eq!(loc["district"]["level"], "district");
    // Unit ids exceed 2^53: sent as strings so browsers keep them exact.
    let unit = loc["unit"]["id"]
        .as_str()
        .expect("unit id as a string")
        .to_string();
    let village = loc["village"]["id"].as_u64().unwrap();
    assert_eq!(
        get(a, "/api/locate?lon=120.5&lat=24.0").json(),
        Value::Null,
        "at sea"
    );

    let d = get(a, &format!("/api/areas/{village}")).json();
    assert_eq!(d["area"]["id"], village);
    assert_eq!(d["breadcrumb"].as_array().unwrap().len(), 2);
    let children = d["children"].as_array().unwrap();
    assert!(!children.is_empty());
    let sum: u64 = children
        .iter()
        .map(|c| c["figures"]["total"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, d["figures"]["total"].as_u64().unwrap());
    let windowed = get(
        a,
        &format!("/api/areas/{village}?from=2026-06-01&to=2026-11-01"),
    )
    .json();
    assert!(windowed["figures"]["total"].as_u64() <= d["figures"]["total"].as_u64());
    assert_eq!(
        get(a, &format!("/api/areas/{unit}")).json()["area"]["level"],
        "unit"
    );

    let name = d["area"]["name"].as_str().unwrap();
    let found = get(a, &format!("/api/areas/search?q={}", percent(name))).json();
    assert!(found["areas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == village));
    assert_eq!(
        get(a, "/api/areas/search?q=nowhere-at-all").json()["areas"],
        serde_json::json!([])
    );

    // Features: GeoJSON pages that chain by cursor without overlap.
    let bbox = "118.4,24.9,119.7,25.8";
    let p1 = get(a, &format!("/api/features/events?bbox={bbox}&limit=50")).json();
    assert_eq!(p1["type"], "FeatureCollection");
    assert_eq!(p1["features"].as_array().unwrap().len(), 50);
    assert_eq!(p1["features"][0]["geometry"]["type"], "Point");
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = get(
        a,
        &format!("/api/features/events?bbox={bbox}&limit=50&cursor={cursor}"),
    )
    .json();
    assert!(p2["features"][0]["id"].as_u64() > p1["features"][49]["id"].as_u64());
    let areas = get(a, &format!("/api/features/villages?area={village}")).json();
    assert_eq!(areas["features"][0]["geometry"]["type"], "MultiPolygon");
    let poly = get(
        a,
        "/api/features/schools?polygon=118.4%2024.9,119.7%2024.9,119.7%2025.8,118.4%2025.8",
    )
    .json();
    assert!(!poly["features"].as_array().unwrap().is_empty());
    // Idle homesteads in the whole city, by the district areas: only idle.
    let idle = get(
        a,
        "/api/features/homesteads?polygon=118.4%2024.9,119.7%2024.9,119.7%2025.8,118.4%2025.8&status=idle&limit=1000",
    )
    .json();
    let all = get(
        a,
        "/api/features/homesteads?polygon=118.4%2024.9,119.7%2024.9,119.7%2025.8,118.4%2025.8&limit=1000",
    )
    .json();
    let idle = idle["features"].as_array().unwrap();
    assert!(!idle.is_empty() && idle.len() < all["features"].as_array().unwrap().len());
    assert!(idle.iter().all(|f| f["properties"]["status"] == "idle"));
    let none = get(a, "/api/features/events?bbox=120.0,24.0,120.1,24.1").json();
    assert_eq!(
        none["features"],
        serde_json::json!([]),
        "no results is an empty list"
    );
    let one = get(a, "/api/features/events/1");
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["properties"]["layer"], "events");

    let near = get(a, "/api/nearest/schools?lon=119.0&lat=25.45&k=3").json();
    let ds: Vec<f64> = near["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert_eq!(ds.len(), 3);
    assert!(ds.windows(2).all(|w| w[0] <= w[1]));

    let st = get(a, "/api/stats?by=district").json();
    assert_eq!(st["groups"].as_array().unwrap().len(), 7);
    let h3 = get(a, "/api/stats?by=h3:7&from=2026-01-01").json();
    assert!(!h3["groups"].as_array().unwrap().is_empty());
    let scoped = get(a, &format!("/api/stats?by=grid&area={village}")).json();
    assert_eq!(scoped["groups"].as_array().unwrap().len(), children.len());
    let hot = get(a, "/api/hotspots?min_count=3&limit=5").json();
    assert!(hot["hotspots"].as_array().unwrap().len() <= 5);
    let hot_cell = get(
        a,
        "/api/hotspots?place=h3:11&min_count=1&category=drainage,road&limit=3",
    )
    .json();
    assert!(hot_cell["hotspots"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["category"] == "drainage" || h["category"] == "road"));
}

fn errors(a: &str) {
    let cases: &[(&str, u16, &str)] = &[
        ("/tiles/districts/19/0/0.mvt", 400, "invalid_tile"),
        ("/tiles/districts/3/8/0.mvt", 400, "invalid_tile"),
        ("/tiles/districts/3/0/8.mvt", 400, "invalid_tile"),
        ("/tiles/districts/a/0/0.mvt", 400, "invalid_tile"),
        ("/tiles/districts/3/x/0.mvt", 400, "invalid_tile"),
        ("/tiles/districts/3/0/-1.mvt", 400, "invalid_tile"),
        ("/tiles/districts/3/0/0.png", 404, "not_found"),
        ("/tiles/roads/5/26/13.mvt", 404, "unknown_layer"),
        ("/tiles/roads.json", 404, "unknown_layer"),
        (
            "/tiles/districts/8/212/109.mvt?from=yesterday",
            400,
            "bad_time",
        ),
        (
            "/tiles/districts/8/212/109.mvt?from=2026-02-30",
            400,
            "bad_time",
        ),
        (
            "/tiles/districts/8/212/109.mvt?from=2026-10-01&to=2026-09-01",
            422,
            "invalid_window",
        ),
        (
            "/tiles/events/8/212/109.mvt?category=weather",
            422,
            "unknown_value",
        ),
        (
            "/tiles/events/8/212/109.mvt?status=lost",
            422,
            "unknown_value",
        ),
        ("/styles/night.json", 404, "unknown_style"),
        (
            "/api/features/roads?bbox=119,25,119.1,25.1",
            404,
            "unknown_layer",
        ),
        (
            "/api/features/events?bbox=100,20,119.1,25.1",
            422,
            "bbox_too_large",
        ),
        ("/api/features/events?bbox=119,25,119.1", 400, "bad_bbox"),
        (
            "/api/features/events?bbox=119.1,25,119,25.1",
            422,
            "invalid_bbox",
        ),
        ("/api/features/events", 400, "missing_parameter"),
        (
            "/api/features/events?bbox=119,25,119.1,25.1&limit=0",
            422,
            "invalid_limit",
        ),
        (
            "/api/features/events?bbox=119,25,119.1,25.1&limit=ten",
            400,
            "bad_number",
        ),
        (
            "/api/features/events?bbox=119,25,119.1,25.1&cursor=abc",
            400,
            "invalid_cursor",
        ),
        (
            "/api/features/schools?bbox=119,25,119.1,25.1&category=road",
            422,
            "not_applicable",
        ),
        (
            "/api/features/homesteads?bbox=119,25,119.1,25.1&status=closed",
            422,
            "unknown_value",
        ),
        (
            "/api/features/homesteads?bbox=119,25,119.1,25.1&from=2025-01-01",
            422,
            "not_applicable",
        ),
        (
            "/api/features/events?polygon=119%2025,119.1",
            400,
            "bad_polygon",
        ),
        ("/api/features/events/999999999", 404, "unknown_feature"),
        ("/api/locate?lon=200&lat=25", 422, "invalid_coordinate"),
        ("/api/locate?lon=abc&lat=25", 400, "bad_number"),
        ("/api/locate?lat=25", 400, "missing_parameter"),
        (
            "/api/nearest/districts?lon=119&lat=25",
            422,
            "not_applicable",
        ),
        (
            "/api/nearest/events?lon=119&lat=25&max_distance=-5",
            422,
            "invalid_distance",
        ),
        ("/api/stats?by=country", 422, "unknown_level"),
        ("/api/stats?by=h3:2", 422, "invalid_resolution"),
        ("/api/stats?by=h3:x", 400, "bad_number"),
        (
            "/api/stats?area=350302&bbox=119,25,119.1,25.1",
            400,
            "conflicting_parameters",
        ),
        ("/api/hotspots?place=street", 422, "unknown_value"),
        ("/api/areas/999999", 404, "unknown_area"),
        ("/api/areas/12345", 400, "invalid_area_id"),
        ("/api/areas/abc", 400, "invalid_area_id"),
        ("/api/areas/search", 400, "missing_parameter"),
        ("/nowhere", 404, "not_found"),
        ("/vendor/evil.js", 404, "not_found"),
        ("/viewer/..%2FCargo.toml", 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let r = get(a, path);
        assert_eq!(r.error(), (*status, code.to_string()), "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    }
    let post = request(a, "POST", "/api/wall", &[("Content-Length", "0")]);
    assert_eq!(post.error(), (405, "method_not_allowed".to_string()));
}

fn viewer(a: &str) {
    for (path, kind) in [
        ("/", "text/html"),
        ("/wall", "text/html"),
        ("/viewer/app.js", "text/javascript"),
        ("/viewer/viewer.css", "text/css"),
    ] {
        let r = get(a, path);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
    }
    let page = String::from_utf8(get(a, "/").body).unwrap();
    assert!(
        page.contains("/vendor/maplibre-gl.js") && !page.contains("https://"),
        "no CDN"
    );
    // MapLibre itself comes from viewer/node_modules after `npm ci`.
    let lib = get(a, "/vendor/maplibre-gl.js");
    if Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/viewer/node_modules/maplibre-gl/dist/maplibre-gl.js"
    ))
    .exists()
    {
        assert_eq!(lib.status, 200);
        let gz = request(
            a,
            "GET",
            "/vendor/maplibre-gl.css",
            &[("Accept-Encoding", "gzip")],
        );
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
    } else {
        assert_eq!(lib.error(), (404, "viewer_not_installed".to_string()));
    }
    let api = request(
        a,
        "GET",
        "/api/stats?by=town",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(api.header("content-encoding"), Some("gzip"));
    let v: Value = serde_json::from_slice(&gunzip(&api.body)).unwrap();
    assert_eq!(v["groups"].as_array().unwrap().len(), 54);
}

fn metrics(a: &str) {
    // Methods and paths of any spelling add no series: labels are the
    // matched route's template and a fixed set of methods.
    for i in 0..5 {
        // ureq sends only the standard methods: this one is written by hand.
        let mut c = std::net::TcpStream::connect(a).unwrap();
        write!(
            c,
            "FROBNICATE{i} /api/stats HTTP/1.1\r\nHost: onemap\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
        assert_eq!(get(a, &format!("/no/such/path/{i}")).status, 404);
    }
    let m = get(a, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(m.body).unwrap();
    for needle in [
        "onemap_http_requests_total{method=\"GET\",route=\"/tiles/{layers}/{z}/{x}/{y}\",status=\"200\"}",
        "onemap_http_requests_total{method=\"GET\",route=\"/tiles/{layers}/{z}/{x}/{y}\",status=\"304\"}",
        "onemap_http_request_duration_seconds_bucket{route=\"/api/stats\",le=\"+Inf\"}",
        "onemap_tile_bytes_count",
        "onemap_tile_cache_hits_total",
        "onemap_tile_cache_misses_total",
        "onemap_http_requests_total{method=\"other\",route=\"/api/stats\",status=\"405\"} 5",
        "onemap_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
        "onemap_http_shed_total{limit=\"expensive\"} 0",
        "onemap_http_timeouts_total 0",
        "onemap_http_connections_max 512",
        "onemap_http_expensive_requests_max 32",
        "onemap_ship_stream_subscribers_max 256",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    for leak in ["FROBNICATE", "/no/such"] {
        assert!(!text.contains(leak), "{leak} in\n{text}");
    }
}

/// With private reads, no shared cache may keep a tile or a document: every
/// answer is `private` and varies with `Authorization` (live tiles are
/// still revalidated on every use, area tiles reused for five minutes).
#[test]
fn private_reads_keep_tiles_out_of_shared_caches() {
    let (_dir, city) = small_city();
    let viewer = token(&city, "viewer", "city", "大屏");
    let server = start_with(&["--data", city.to_str().unwrap(), "--private-reads"]);
    let a = server.addr.as_str();
    let bearer = format!("Bearer {viewer}");
    let with = |path: &str, extra: &[(&str, &str)]| {
        let mut h = vec![("Authorization", bearer.as_str())];
        h.extend_from_slice(extra);
        request(a, "GET", path, &h)
    };
    let vary = Some("accept-encoding, authorization".to_string());
    for (path, status, cache) in [
        (
            "/tiles/districts,towns/8/212/109.mvt",
            200,
            "private, max-age=300",
        ),
        ("/tiles/events/8/212/109.mvt", 200, "private, no-cache"),
        ("/tiles/ships/8/212/109.mvt", 200, "private, no-cache"),
        ("/tiles/districts/8/0/0.mvt", 204, "private, max-age=300"),
        ("/tiles/events/8/0/0.mvt", 204, "private, no-cache"),
    ] {
        let r = with(path, &[]);
        let want = (status, Some(cache.into()), vary.clone(), status == 200);
        assert_eq!(cache_headers(&r), want, "{path}");
        if let Some(etag) = r.header("etag") {
            let again = with(path, &[("If-None-Match", etag)]);
            let want = (304, Some(cache.into()), vary.clone(), true);
            assert_eq!(cache_headers(&again), want, "{path} revalidated");
        }
    }
    for path in [
        "/tiles/districts,events.json",
        "/catalog",
        "/styles/day.json",
    ] {
        let r = with(path, &[]);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.header("cache-control"),
            Some("private, max-age=60"),
            "{path}"
        );
        let v = r.header("vary").unwrap_or_default().to_lowercase();
        assert!(v.contains("authorization"), "{path}: vary {v}");
    }
}

/// CORS is an allowlist: an origin given with `--cors-origin` may call the
/// API as the server's own pages do (tokens, writes, credentials); any other
/// origin may only read public data, without a token or credentials, and
/// nothing under `--private-reads`.
#[test]
fn cors_trusts_only_the_listed_origins() {
    let (_dir, city) = small_city();
    let trusted = "https://map.example.org";
    let other = "https://elsewhere.example.com";
    let server = start_with(&[
        "--data",
        city.to_str().unwrap(),
        "--cors-origin",
        "https://Map.Example.org/",
    ]);
    let a = server.addr.as_str();
    let acao = |r: &Reply| r.header("access-control-allow-origin").map(str::to_string);
    let acac = |r: &Reply| {
        r.header("access-control-allow-credentials")
            .map(str::to_string)
    };

    // Public reads from anywhere, without credentials.
    let r = request(a, "GET", "/api/stats", &[("Origin", other)]);
    assert_eq!(
        (r.status, acao(&r), acac(&r)),
        (200, Some("*".into()), None)
    );
    assert!(r.header("vary").unwrap_or("").contains("origin"));
    // Not with a token: the browser refuses to hand the answer over.
    let r = request(
        a,
        "GET",
        "/api/stats",
        &[("Origin", other), ("Authorization", "Bearer om_x")],
    );
    assert_eq!(acao(&r), None);
    // A write's preflight from another origin is not granted.
    let pre = |origin: &str, method: &str, headers: &str| {
        request(
            a,
            "OPTIONS",
            "/api/events",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", headers),
            ],
        )
    };
    let r = pre(other, "POST", "authorization, content-type");
    assert_eq!((r.status, acao(&r)), (204, None));
    let r = pre(other, "GET", "authorization");
    assert_eq!(acao(&r), None);
    let r = pre(other, "GET", "if-none-match");
    assert_eq!(acao(&r), Some("*".into()));
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, HEAD"));

    // The listed origin: writes, tokens and credentials.
    let r = pre(
        trusted,
        "POST",
        "authorization, content-type, idempotency-key",
    );
    assert_eq!(
        (r.status, acao(&r), acac(&r)),
        (204, Some(trusted.into()), Some("true".into()))
    );
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let r = request(
        a,
        "GET",
        "/api/stats",
        &[("Origin", trusted), ("Authorization", "Bearer om_x")],
    );
    assert_eq!(
        (acao(&r), acac(&r)),
        (Some(trusted.into()), Some("true".into()))
    );
    // Same-origin and non-browser requests carry no CORS headers.
    assert_eq!(acao(&get(a, "/api/stats")), None);

    // Under --private-reads no other origin reads anything.
    let private = start_with(&["--data", city.to_str().unwrap(), "--private-reads"]);
    let r = request(
        private.addr.as_str(),
        "GET",
        "/catalog",
        &[("Origin", other)],
    );
    assert_eq!((r.status, acao(&r)), (401, None));

    // Trusting every origin with credentials is refused at the start.
    let out = std::process::Command::new(http_support::BIN)
        .args([
            "serve",
            "--data",
            city.to_str().unwrap(),
            "--cors-origin",
            "*",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("list the origins to trust"));
}
