//! Arbitrary input never breaks the server: tile paths, query strings,
//! polygon text, times and JSON bodies made of arbitrary characters and
//! bytes always get an answer below 500, and every error answer is the
//! JSON `{"error": {"code", "message"}}` with a code the server declares.
//! (Property tests over the in-process app, with a real GeoPackage store
//! and tokens, so bodies are parsed past the token check.)

use axum::body::Body;
use axum::http::{Method, Request};
use onemap_core::workflow::Scope;
use onemap_core::Role;
use onemap_index::City;
use onemap_server::{app, AppState, ErrorCode, ServerConfig};
use onemap_store::{EmbeddedStore, LiveStore};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    leader: String,
    office: String,
    feed: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cfg = onemap_synth::SynthConfig {
            seed: 9,
            scale: 0.01,
            events: Some(500),
            ..Default::default()
        };
        let (_, data) = onemap_synth::generate(&cfg).unwrap();
        let city = City::build(data).unwrap();
        let unit = city.areas().level(onemap_core::Level::Unit)[0].id;
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("onemap.gpkg")).unwrap();
        let token = |role, scope: Scope| store.create_token(role, &scope, "fuzz", 0).unwrap();
        let leader = token(Role::UnitLeader, Scope::Area(unit));
        let office = token(
            Role::TownOffice,
            Scope::Area(unit.ancestor_at(onemap_core::Level::Town).unwrap()),
        );
        let feed = token(Role::ShipFeed, Scope::City);
        let live = runtime.block_on(async {
            onemap_live::Live::open(city, 1 << 20, Some(LiveStore::Embedded(Arc::new(store))))
                .await
                .unwrap()
        });
        let config = ServerConfig {
            styles_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../styles").into(),
            viewer_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../viewer").into(),
            ..ServerConfig::default()
        };
        let state = AppState::new(Arc::new(live), &config).unwrap();
        Fixture {
            runtime,
            state,
            leader,
            office,
            feed,
            _dir: dir,
        }
    })
}

/// Sends the request and checks the answer: below 500, and an error is
/// the JSON error document with a declared code.
fn check(
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<(), TestCaseError> {
    let f = fixture();
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    let Ok(req) = req.body(Body::from(body)) else {
        // Not a request at all (the URI does not parse): nothing to send.
        return Ok(());
    };
    let (status, bytes) = f.runtime.block_on(async {
        let res = app(f.state.clone()).oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes)
    });
    prop_assert!(
        status < 500,
        "{method} {uri}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    if status >= 400 {
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{method} {uri}: {status} not JSON: {e}")))?;
        let code = v["error"]["code"].as_str().unwrap_or_default();
        prop_assert!(
            ErrorCode::ALL.iter().any(|c| c.as_str() == code),
            "{method} {uri}: unknown code {code:?} in {v}"
        );
        prop_assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    Ok(())
}

/// Text with the characters that break parsers: digits, signs, dots,
/// commas, separators, letters, CJK, control characters, escapes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-0-9.,;: eE+]{0,40}",
        "[a-z0-9_:]{0,20}",
        any::<String>(),
        "(h3:|unit|district|village)[-0-9]{0,4}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:]{0,8}Z?)?",
    ]
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const PARAMS: &[&str] = &[
    "lon",
    "lat",
    "bbox",
    "area",
    "polygon",
    "from",
    "to",
    "category",
    "status",
    "limit",
    "cursor",
    "k",
    "max_distance",
    "by",
    "place",
    "min_count",
    "q",
    "port",
    "state",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tile_paths(a in text(), z in text(), x in text(), y in text()) {
        let layers = if a.is_empty() { "districts".to_string() } else { a };
        check(Method::GET, &format!("/tiles/{}/{}/{}/{}.mvt", enc(&layers), enc(&z), enc(&x), enc(&y)), None, vec![])?;
        check(Method::GET, &format!("/tiles/{}.json?from={}", enc(&layers), enc(&z)), None, vec![])?;
    }

    #[test]
    fn query_strings(
        route in prop::sample::select(vec![
            "/api/locate", "/api/features/events", "/api/features/homesteads",
            "/api/features/units", "/api/nearest/ships", "/api/stats", "/api/hotspots",
            "/api/areas/search", "/api/areas/350302", "/api/ships", "/api/ships/crossings",
            "/tiles/events/14/13610/6993.mvt",
        ]),
        pairs in prop::collection::vec((prop::sample::select(PARAMS), text()), 0..5),
    ) {
        let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        check(Method::GET, &format!("{route}?{}", q.join("&")), None, vec![])?;
    }

    #[test]
    fn path_ids(id in text(), layer in text()) {
        for uri in [
            format!("/api/areas/{}", enc(&id)),
            format!("/api/features/{}/{}", enc(&layer), enc(&id)),
            format!("/api/events/{}", enc(&id)),
            format!("/api/ships/{}", enc(&id)),
            format!("/styles/{}.json", enc(&id)),
        ] {
            check(Method::GET, &uri, None, vec![])?;
        }
    }

    #[test]
    fn json_bodies(raw in prop::collection::vec(any::<u8>(), 0..300), text in text()) {
        let f = fixture();
        let shaped = [
            format!(r#"{{"lon":{text},"lat":25.4,"category":"road","description":"x"}}"#),
            format!(r#"{{"unit":"{}","category":"{}","description":"{}"}}"#, text.escape_default(), text.escape_default(), text.escape_default()),
            format!(r#"{{"to":"{}","routed_to":"{}"}}"#, text.escape_default(), text.escape_default()),
            format!(r#"[{{"mmsi":1,"time":"{}","lon":119,"lat":25,"speed_kn":1,"course_deg":1}}]"#, text.escape_default()),
        ];
        for body in [raw.clone()].into_iter().chain(shaped.iter().map(|s| s.clone().into_bytes())) {
            check(Method::POST, "/api/events", Some(&f.leader), body.clone())?;
            check(Method::POST, "/api/events/1/transitions", Some(&f.office), body.clone())?;
            check(Method::POST, "/api/ships/positions", Some(&f.feed), body)?;
        }
    }
}
