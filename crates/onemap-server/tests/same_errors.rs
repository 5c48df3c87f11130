//! The same bad value gets the same code, status and message from every
//! route that takes it (the app driven in-process, no socket).

use axum::body::Body;
use axum::http::Request;
use onemap_core::{BBox, Level, TimeBound};
use onemap_index::{City, GroupBy, HotspotPlace};
use onemap_server::{app, AppState, ServerConfig};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

async fn state() -> AppState {
    let cfg = onemap_synth::SynthConfig {
        seed: 3,
        scale: 0.02,
        events: Some(2_000),
        ..Default::default()
    };
    let (_, data) = onemap_synth::generate(&cfg).unwrap();
    let city = City::build(data).unwrap();
    let live = Arc::new(onemap_live::Live::open(city, 0, None).await.unwrap());
    let config = ServerConfig {
        styles_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../styles").into(),
        ..ServerConfig::default()
    };
    AppState::new(live, &config).unwrap()
}

/// The answer to `GET uri` as (status, code, message).
async fn error(state: &AppState, uri: &str) -> (u16, String, String) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: Value =
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{uri}: {status} not JSON ({e})"));
    let text = |k: &str| v["error"][k].as_str().unwrap_or_default().to_string();
    (status, text("code"), text("message"))
}

/// Every route in `routes` (each ending in `?` or `&`) answers `query`
/// with `want` (status, code) and the same message, `message` when given.
async fn same(
    state: &AppState,
    routes: &[&str],
    query: &str,
    want: (u16, &str),
    message: Option<String>,
) {
    let mut seen: Option<String> = message;
    for route in routes {
        let uri = format!("{route}{query}");
        let (status, code, msg) = error(state, &uri).await;
        assert_eq!((status, code.as_str()), want, "{uri}: {msg}");
        match &seen {
            Some(m) => assert_eq!(&msg, m, "{uri}"),
            None => seen = Some(msg),
        }
    }
}

#[tokio::test]
async fn one_bad_value_one_answer_from_every_route() {
    let s = state().await;
    let district = s.city().areas().level(Level::District)[0].id;
    let area = format!("/api/areas/{district}?");
    let timed = [
        "/tiles/districts,events/8/212/109.mvt?",
        "/tiles/districts,events.json?",
        "/api/features/events?bbox=119,25,119.1,25.1&",
        "/api/nearest/events?lon=119&lat=25.4&",
        "/api/stats?",
        "/api/hotspots?",
        area.as_str(),
        "/api/ships/crossings?",
    ];
    let core = |e: onemap_core::CoreError| Some(e.to_string());
    let bad_time = "yesterday".parse::<TimeBound>().unwrap_err();
    for q in [
        "from=yesterday",
        "to=yesterday",
        "from=2026-01-01&to=yesterday",
    ] {
        same(&s, &timed, q, (400, "bad_time"), core(bad_time.clone())).await;
    }
    let feb30 = "2026-02-30".parse::<TimeBound>().unwrap_err();
    same(
        &s,
        &timed,
        "from=2026-02-30",
        (400, "bad_time"),
        core(feb30),
    )
    .await;
    same(
        &s,
        &timed,
        "from=2026-10-01&to=2026-09-01",
        (422, "invalid_window"),
        None,
    )
    .await;

    let boxed = ["/api/features/events?", "/api/stats?", "/api/hotspots?"];
    let text = "119,25,119.1".parse::<BBox>().unwrap_err();
    same(
        &s,
        &boxed,
        "bbox=119,25,119.1",
        (400, "bad_bbox"),
        core(text),
    )
    .await;
    let inverted = "119.1,25,119,25.1".parse::<BBox>().unwrap_err();
    let q = "bbox=119.1,25,119,25.1";
    same(&s, &boxed, q, (422, "invalid_bbox"), core(inverted)).await;
    let q = "bbox=100,20,119.1,25.1";
    same(&s, &boxed, q, (422, "bbox_too_large"), None).await;
    let q = "area=abc";
    same(&s, &boxed, q, (400, "invalid_area_id"), None).await;
    let (status, code, _) = error(&s, "/api/areas/abc").await;
    assert_eq!((status, code.as_str()), (400, "invalid_area_id"));

    let shaped = [
        "/api/features/events?",
        "/api/features/homesteads?",
        "/api/features/units?",
    ];
    let text = onemap_core::parse_polygon("119 25,119.1").unwrap_err();
    let q = "polygon=119%2025,119.1";
    same(&s, &shaped, q, (400, "bad_polygon"), core(text)).await;
    // Text that parses, but a ring of one point: the other failure.
    let q = "polygon=119%2025,119%2025,119%2025";
    same(&s, &shaped, q, (422, "invalid_polygon"), None).await;

    // `h3:RES` with a RES that is no number, grouping or placing.
    let grouping = "h3:x".parse::<GroupBy>().unwrap_err();
    same(
        &s,
        &["/api/stats?by=", "/api/hotspots?place="],
        "h3:x",
        (400, "bad_number"),
        Some(grouping.to_string()),
    )
    .await;
    assert_eq!(
        "h3:x".parse::<HotspotPlace>().unwrap_err().to_string(),
        grouping.to_string()
    );
    let unknown = "country".parse::<GroupBy>().unwrap_err();
    let q = "by=country";
    same(
        &s,
        &["/api/stats?"],
        q,
        (422, "unknown_level"),
        Some(unknown.to_string()),
    )
    .await;
    let q = "by=h3:2";
    same(&s, &["/api/stats?"], q, (422, "invalid_resolution"), None).await;
}
