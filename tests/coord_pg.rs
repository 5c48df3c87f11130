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
