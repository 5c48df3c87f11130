//! Coordination answers over PostGIS (issue 17), end to end with the real
//! `onemap` binary: `serve --postgres` keeps a department's answer in
//! `coord_decisions` (and nothing for a refused one), and a restarted
//! server lays it over the demo year again.
//!
//! Needs `ONEMAP_TEST_POSTGRES` (see tests/pg_live.rs); fails without it.

mod http_support;
mod pg_db;

use http_support::{get, id_of, post, start_with, token_with, Reply};
use pg_db::{city_in, query_rows, TestDb};
use serde_json::Value;

fn ok(r: Reply) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

#[test]
fn coordination_answers_are_kept_in_postgis() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    city_in(&db, &tmp.path().join("city"), "5", None);
    assert_eq!(db.count("coord_decisions"), 0);
    let server = start_with(&["--postgres", &db.url]);
    let a = server.addr.as_str();
    let plan = ok(get(a, "/api/coord/plans?decision=refused&limit=1"))["rows"][0].clone();
    let id = id_of(&plan["id"]);
    let dept = plan["department"]["name"].as_str().unwrap().to_string();
    let other = ok(get(a, "/api/coord/plans?decision=accepted&limit=2000"))["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["department"]["name"] != dept.as_str())
        .expect("another department")["department"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let store = ["--postgres", db.url.as_str()];
    let ours = token_with(
        &store,
        "department",
        &format!("department:{dept}"),
        "本部门",
    );
    let theirs = token_with(
        &store,
        "department",
        &format!("department:{other}"),
        "别的部门",
    );
    let path = format!("/api/coord/plans/{id}/decision");
    let refused = post(a, &path, Some(&theirs), r#"{"accept": true}"#);
    assert_eq!(refused.error(), (403, "forbidden".into()));
    assert_eq!(
        db.count("coord_decisions"),
        0,
        "a refused answer writes nothing"
    );

    let answer = ok(post(a, &path, Some(&ours), r#"{"accept": true}"#));
    assert_eq!(answer["plan"]["decision"]["accept"], true);
    let rows = query_rows(
        &db.url,
        &format!(
            "SELECT year::text, accept::text, department, decided_by FROM coord_decisions WHERE plan_id = {id}"
        ),
    );
    let code = plan["department"]["code"].as_str().unwrap();
    assert_eq!(
        rows,
        vec![vec![
            Some("2023".to_string()),
            Some("true".to_string()),
            Some(code.to_string()),
            Some("本部门".to_string())
        ]]
    );
    // Answering again replaces the row.
    let back = ok(post(a, &path, Some(&ours), r#"{"accept": false}"#));
    assert_eq!(back["plan"]["decision"]["accept"], false);
    assert_eq!(db.count("coord_decisions"), 1);
    let again = ok(post(a, &path, Some(&ours), r#"{"accept": true}"#));
    let kept = ok(get(a, &format!("/api/coord/plans/{id}")));
    drop(server);

    let server = start_with(&["--postgres", &db.url]);
    let a = server.addr.as_str();
    assert_eq!(ok(get(a, &format!("/api/coord/plans/{id}"))), kept);
    assert_eq!(kept["decision"]["source"], "department");
    let kind = if plan["target"]["kind"] == "school" {
        "schools"
    } else {
        "enterprises"
    };
    let file = ok(get(
        a,
        &format!("/api/coord/{kind}/{}", id_of(&plan["target"]["id"])),
    ));
    assert_eq!(file["calendar"], again["calendar"]);
}

/// `GET` until `done` holds for the answer, for at most 30 s; the last
/// answer.
fn wait_for(a: &str, path: &str, token: Option<&str>, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let v = ok(match token {
            Some(t) => http_support::get_as(a, path, t),
            None => get(a, path),
        });
        if done(&v) || std::time::Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn two_servers_on_one_database_follow_each_others_coordination() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    city_in(&db, &tmp.path().join("city"), "5", None);
    let one = start_with(&["--postgres", &db.url]);
    let two = start_with(&["--postgres", &db.url]);
    let (a, b) = (one.addr.as_str(), two.addr.as_str());
    let store = ["--postgres", db.url.as_str()];

    // A department answers on the first server; the second shows it.
    let refused = ok(get(a, "/api/coord/plans?decision=refused&limit=1"))["rows"][0].clone();
    let id = id_of(&refused["id"]);
    let dept = refused["department"]["name"].as_str().unwrap().to_string();
    let by_dept = token_with(
        &store,
        "department",
        &format!("department:{dept}"),
        "本部门",
    );
    assert_eq!(
        ok(get(b, &format!("/api/coord/plans/{id}")))["decision"]["source"],
        "demo"
    );
    let answer = ok(post(
        a,
        &format!("/api/coord/plans/{id}/decision"),
        Some(&by_dept),
        r#"{"accept": true}"#,
    ));
    let seen = wait_for(b, &format!("/api/coord/plans/{id}"), None, |p| {
        p["decision"]["source"] == "department"
    });
    assert_eq!(
        seen, answer["plan"],
        "the second server did not follow the answer"
    );

    // An enterprise asks on the second server to postpone its only plan;
    // the first reschedules it, and its town office reads the request there.
    let plans = ok(get(a, "/api/coord/plans?limit=10000"));
    assert!(plans["next_offset"].is_null());
    let rows = plans["rows"].as_array().unwrap();
    let lone = rows
        .iter()
        .find(|p| {
            let t = &p["target"];
            t["kind"] == "enterprise"
                && p["suggestion"]["reason"]["code"] == "keep_as_planned"
                && p["planned"].as_str().unwrap() < "2023-10-01"
                && rows.iter().filter(|q| q["target"] == *t).count() == 1
        })
        .expect("an enterprise with one plan, kept as planned")
        .clone();
    let pid = id_of(&lone["id"]);
    let ent = id_of(&lone["target"]["id"]);
    let town = id_of(&lone["target"]["town"]["id"]);
    let me = token_with(&store, "enterprise", &format!("enterprise:{ent}"), "本企业");
    let office = token_with(&store, "town_office", &format!("area:{town}"), "镇街");
    let asked = ok(post(
        b,
        "/api/coord/requests",
        Some(&me),
        &serde_json::json!({"type": "postpone", "plan": pid, "reason": "overhaul", "until": "2023-12-01", "note": "停产检修"})
            .to_string(),
    ));
    let rid = id_of(&asked["request"]["id"]);
    assert_eq!(
        query_rows(&db.url, "SELECT kind, note FROM coord_requests"),
        vec![vec![
            Some("postpone".to_string()),
            Some("停产检修".to_string())
        ]]
    );
    let moved = wait_for(a, &format!("/api/coord/plans/{pid}"), None, |p| {
        p["suggestion"]["action"] == "reschedule"
    });
    assert_eq!(moved, ok(get(b, &format!("/api/coord/plans/{pid}"))));
    let reason = moved["suggestion"]["reason"]["text"].as_str().unwrap();
    assert!(reason.contains(&format!("申请#{rid}")), "{moved}");
    let listed = ok(http_support::get_as(a, "/api/coord/requests", &office));
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["rows"][0]["note"], "停产检修");
    // Asked again on the other server: the store refuses it.
    let again = post(
        a,
        "/api/coord/requests",
        Some(&me),
        &serde_json::json!({"type": "postpone", "plan": pid, "reason": "overhaul", "until": "2023-12-20", "note": "再次"})
            .to_string(),
    );
    assert_eq!(again.error(), (409, "duplicate_request".into()));

    // A self-check on the first server shows on the second.
    let pushes = ok(get(a, "/api/coord/pushes?limit=10000"));
    let (key, who) = pushes["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pending"].as_u64().unwrap() > 0)
        .find_map(|p| {
            let key = p["key"].as_str().unwrap().to_string();
            let d = ok(get(a, &format!("/api/coord/pushes/{key}")));
            let c = d["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["status"] == "pending")?
                .clone();
            Some((key, id_of(&c["enterprise"]["id"])))
        })
        .expect("a pending self-check");
    let pushed = token_with(
        &store,
        "enterprise",
        &format!("enterprise:{who}"),
        "同行企业",
    );
    ok(post(
        a,
        &format!("/api/coord/pushes/{key}/self-check"),
        Some(&pushed),
        r#"{"status": "self_checked", "note": "已排查"}"#,
    ));
    let status_of = |v: &Value| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| id_of(&c["enterprise"]["id"]) == who)
            .map(|c| c["status"].clone())
    };
    let there = wait_for(b, &format!("/api/coord/pushes/{key}"), None, |v| {
        status_of(v) == Some(serde_json::json!("self_checked"))
    });
    assert_eq!(status_of(&there), Some(serde_json::json!("self_checked")));
    assert_eq!(there, ok(get(a, &format!("/api/coord/pushes/{key}"))));
}
