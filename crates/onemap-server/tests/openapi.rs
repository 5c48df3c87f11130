//! The OpenAPI document is made from the routes, and every route is in it:
//! each documented operation is answered by its route (never by the
//! "no route" fallback or a 405), and nothing in the server routes a path
//! any other way than with its description.

use axum::body::Body;
use axum::http::{Method, Request};
use onemap_index::City;
use onemap_server::{app, AppState, ServerConfig};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

async fn state() -> AppState {
    let cfg = onemap_synth::SynthConfig {
        seed: 3,
        scale: 0.01,
        events: Some(500),
        ..Default::default()
    };
    let (_, data) = onemap_synth::generate(&cfg).unwrap();
    let live = onemap_live::Live::open(City::build(data).unwrap(), 0, None)
        .await
        .unwrap();
    let config = ServerConfig {
        styles_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../styles").into(),
        viewer_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../viewer").into(),
        ..ServerConfig::default()
    };
    AppState::new(Arc::new(live), &config).unwrap()
}

async fn call(state: &AppState, method: Method, uri: &str) -> (u16, Value) {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    let body = if method == Method::POST {
        req = req.header("content-type", "application/json");
        Body::from("{}")
    } else {
        Body::empty()
    };
    let res = app(state.clone())
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn document(state: &AppState) -> Value {
    let (status, doc) = call(state, Method::GET, "/api/openapi.json").await;
    assert_eq!(status, 200);
    doc
}

/// A path template with plausible values in place of its parameters.
fn concrete(template: &str) -> String {
    template
        .replace("{layers}", "districts")
        .replace("{layer}", "districts")
        .replace("{z}", "0")
        .replace("{x}", "0")
        .replace("{y}", "0")
        .replace("{name}", "day")
        .replace("{file}", "app.js")
        .replace("{mmsi}", "412000001")
        .replace("{id}", "350302")
        .replace("{seq}", "1")
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let state = state().await;
    let doc = document(&state).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (template, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {template} says nothing about itself"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {template} documents no success"
            );
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &r["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {template} {status}"
                    );
                }
            }
            // Every {param} of the template is declared as a path parameter.
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            for part in template.split('{').skip(1) {
                let name = part.split('}').next().unwrap();
                assert!(
                    declared.contains(&name),
                    "{method} {template}: path parameter {name} is not declared"
                );
            }
            let uri = concrete(template);
            if uri.ends_with("/stream") {
                // An endless stream: that it is routed shows in its headers.
                let res = app(state.clone())
                    .oneshot(Request::get(&uri).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{uri}");
                checked += 1;
                continue;
            }
            let (status, body) = call(&state, method.clone(), &uri).await;
            let code = body["error"]["code"].as_str().unwrap_or_default();
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !(code == "not_found" && message.starts_with("no route")),
                "{method} {uri} is documented but not routed"
            );
            assert_ne!(status, 405, "{method} {uri} is documented but not routed");
            checked += 1;
        }
    }
    assert!(checked >= 29, "only {checked} operations documented");
}

#[tokio::test]
async fn the_shared_schemas_and_the_security_scheme_are_there() {
    let state = state().await;
    let doc = document(&state).await;
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("the error codes as an enum");
    for c in onemap_server::ErrorCode::ALL {
        assert!(codes.iter().any(|v| v == c.as_str()), "{}", c.as_str());
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The writes say they need it.
    for (path, method) in [
        ("/api/events", "post"),
        ("/api/events/{id}/transitions", "post"),
        ("/api/events/{id}/photos", "post"),
        ("/api/ships/positions", "post"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op["security"].is_array(), "{method} {path}");
        assert!(op["requestBody"].is_object(), "{method} {path}");
    }
    // The tile URL as clients write it.
    assert!(doc["paths"]["/tiles/{layers}/{z}/{x}/{y}.mvt"]["get"].is_object());
}

/// The server's sources route nothing but through `OpenApiRouter::routes`
/// with a `#[utoipa::path]` description; any other way (`.route(…)`,
/// `.nest(…)`, `.merge(…)`, `.route_service(…)`) would serve a path the
/// document does not list.
#[test]
fn nothing_is_routed_without_its_description() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for call in [
                ".route(",
                ".route_service(",
                ".nest(",
                ".nest_service(",
                ".merge(",
                ".fallback_service(",
            ] {
                if code.contains(call) {
                    found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "routes registered without their OpenAPI description (use `.routes(routes!(handler))` \
         with `#[utoipa::path]` on the handler):\n{}",
        found.join("\n")
    );
}
