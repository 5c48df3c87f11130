//! Coordination of enterprise inspections and school visits end to end,
//! over the embedded store: the real `onemap` binary serves a small
//! generated city; its demo year's figures over HTTP are the command line's
//! (`onemap coordinate --json`), the routes agree with each other (plans,
//! calendar, figures), bad input gets 4xx JSON, only a plan's own
//! department answers its suggestion, an answer changes the calendar and
//! the figures, and a restart keeps it.

mod http_support;

use http_support::{get, id_of, post, small_city, start, token, Reply, BIN};
use serde_json::{json, Value};
use std::process::Command;

fn ok(r: Reply) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Every row of a paged list, page by page (and checks the paging).
fn all_rows(a: &str, path: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = ok(get(a, &format!("{path}{sep}limit=700&offset={offset}")));
        let got = page["rows"].as_array().unwrap();
        assert!(got.len() <= 700);
        rows.extend(got.iter().cloned());
        match page["next_offset"].as_u64() {
            Some(n) => {
                assert_eq!(n as usize, offset + 700);
                offset = n as usize;
            }
            None => {
                assert_eq!(page["total"].as_u64().unwrap() as usize, rows.len());
                return rows;
            }
        }
    }
}

/// The visits carrying plan `plan` in an enterprise's or school's calendar.
fn carrying(calendar: &Value, plan: u64) -> Vec<Value> {
    calendar
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| {
            v["plans"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| id_of(p) == plan)
        })
        .map(|v| json!({"date": v["date"], "mode": v["mode"], "plans": v["plans"]}))
        .collect()
}

fn file_path(target: &Value) -> String {
    let kind = match target["kind"].as_str().unwrap() {
        "enterprise" => "enterprises",
        _ => "schools",
    };
    format!("/api/coord/{kind}/{}", id_of(&target["id"]))
}

fn decide(a: &str, plan: u64, token: Option<&str>, body: &str) -> Reply {
    post(a, &format!("/api/coord/plans/{plan}/decision"), token, body)
}

#[test]
fn coordination_over_http_end_to_end() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();

    // The city's figures are the command line's, to the last count.
    let figures = ok(get(a, "/api/coord/figures?area=city"));
    let out = Command::new(BIN)
        .args(["coordinate", "--town", "city", "--json", "--data"])
        .arg(&city)
        .output()
        .unwrap();
    assert!(out.status.success());
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures, cli);
    let months = figures["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    let t = &figures["total"];
    assert!(
        t["onsite"]["after"].as_u64() < t["onsite"]["before"].as_u64(),
        "{t}"
    );

    // A town with plans: its plans, by day, each explained.
    let town = figures["scope"].clone();
    assert_eq!(town, json!({"level": "city"}));
    let first = ok(get(a, "/api/coord/plans?limit=1"));
    let town = id_of(&first["rows"][0]["target"]["town"]["id"]);
    let plans = all_rows(a, &format!("/api/coord/plans?area={town}"));
    assert!(!plans.is_empty());
    for w in plans.windows(2) {
        assert!(w[0]["planned"].as_str() <= w[1]["planned"].as_str());
    }
    for p in &plans {
        assert_eq!(id_of(&p["target"]["town"]["id"]), town, "{p}");
        let s = &p["suggestion"];
        assert!(
            ["keep", "merge", "online", "reschedule", "cancel"]
                .contains(&s["action"].as_str().unwrap()),
            "{p}"
        );
        assert!(!s["reason"]["text"].as_str().unwrap().is_empty(), "{p}");
        // A decision exactly when there is something to decide.
        assert_eq!(s["action"] == "keep", p["decision"].is_null(), "{p}");
    }
    // The plans of the town are its figures' "before": one each.
    let tf = ok(get(a, &format!("/api/coord/figures?area={town}")));
    let before: u64 = (0..12)
        .map(|m| {
            tf["months"][m]["onsite"]["before"].as_u64().unwrap()
                + tf["months"][m]["school_visits"]["before"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(before as usize, plans.len());
    // The month's calendars are its "after": every on-site inspection of an
    // enterprise and on-site visit to a school.
    for m in 1..=12u32 {
        let visits = all_rows(a, &format!("/api/coord/calendar?area={town}&month={m}"));
        let onsite = |kind: &str| {
            visits
                .iter()
                .filter(|v| v["target"]["kind"] == kind && v["mode"] == "on_site")
                .filter(|v| kind == "school" || v["purpose"] == "inspection")
                .count() as u64
        };
        let fm = &tf["months"][m as usize - 1];
        assert_eq!(
            onsite("enterprise"),
            fm["onsite"]["after"].as_u64().unwrap()
        );
        assert_eq!(
            onsite("school"),
            fm["school_visits"]["after"].as_u64().unwrap()
        );
        for v in &visits {
            assert!(v["date"]
                .as_str()
                .unwrap()
                .starts_with(&format!("2023-{m:02}-")));
        }
    }
    // The map's points: the town's enterprises and schools, coloured by
    // their main suggestion.
    let sites = ok(get(a, &format!("/api/coord/sites?area={town}")));
    let features = sites["features"].as_array().unwrap();
    assert_eq!(features.len() as u64, sites["total"].as_u64().unwrap());
    let planned: u64 = features
        .iter()
        .map(|f| f["properties"]["plans"].as_u64().unwrap())
        .sum();
    assert_eq!(planned as usize, plans.len());
    assert!(features
        .iter()
        .all(|f| f["geometry"]["type"] == "Point" && f["properties"]["name"].is_string()));

    // Bad input: 4xx JSON, never a panic.
    for (path, status, code) in [
        ("/api/coord/plans?limit=0", 422, "invalid_limit"),
        ("/api/coord/plans?limit=10001", 422, "invalid_limit"),
        ("/api/coord/plans?limit=abc", 400, "bad_number"),
        ("/api/coord/plans?offset=-1", 400, "bad_number"),
        ("/api/coord/plans?month=13", 422, "unknown_value"),
        ("/api/coord/plans?action=nope", 422, "unknown_value"),
        ("/api/coord/plans?decision=maybe", 422, "unknown_value"),
        ("/api/coord/plans?area=999999", 404, "unknown_area"),
        (
            "/api/coord/plans?area=%E6%B2%A1%E6%9C%89",
            404,
            "unknown_area",
        ),
        ("/api/coord/figures?area=350304003001", 422, "invalid_scope"),
        ("/api/coord/calendar?area=city", 400, "missing_parameter"),
        ("/api/coord/calendar?month=0", 422, "unknown_value"),
        ("/api/coord/plans/abc", 400, "bad_number"),
        ("/api/coord/plans/99999999", 404, "unknown_plan"),
        ("/api/coord/plans/18446744073709551616", 400, "bad_number"),
        ("/api/coord/enterprises/999999999", 404, "unknown_site"),
        ("/api/coord/schools/999999999", 404, "unknown_site"),
        ("/api/coord/schools/x", 400, "bad_number"),
    ] {
        assert_eq!(get(a, path).error(), (status, code.to_string()), "{path}");
    }

    // A suggestion the demo's department refused, and other plans.
    let refused = ok(get(a, "/api/coord/plans?decision=refused&limit=1"));
    let plan = refused["rows"][0].clone();
    assert_eq!(plan["decision"]["accept"], false, "{plan}");
    assert_eq!(plan["decision"]["source"], "demo");
    let id = id_of(&plan["id"]);
    let dept = plan["department"]["name"].as_str().unwrap().to_string();
    let code = plan["department"]["code"].as_str().unwrap().to_string();
    let others = ok(get(a, "/api/coord/plans?decision=accepted&limit=2000"));
    let other = others["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["department"]["code"] != code.as_str())
        .expect("another department's plan")
        .clone();
    let own_accepted = ok(get(
        a,
        &format!("/api/coord/plans?decision=accepted&department={code}&limit=1"),
    ))["rows"][0]
        .clone();
    let own_keep = ok(get(
        a,
        &format!("/api/coord/plans?action=keep&department={code}&limit=1"),
    ))["rows"][0]
        .clone();
    let file = file_path(&plan["target"]);
    let before = ok(get(a, &file));
    let mut own = carrying(&before["calendar"], id);
    // Refused: its own on-site visit on its planned day.
    assert_eq!(
        own,
        vec![json!({"date": plan["planned"], "mode": "on_site", "plans": [plan["id"]]})]
    );
    drop(server);

    let ours = token(&city, "department", &format!("department:{dept}"), &dept);
    let by_code = token(&city, "department", &format!("department:{code}"), "按代码");
    let theirs = token(
        &city,
        "department",
        &format!(
            "department:{}",
            other["department"]["name"].as_str().unwrap()
        ),
        "别的部门",
    );
    let office = token(
        &city,
        "town_office",
        &format!("area:{}", id_of(&plan["target"]["town"]["id"])),
        "镇街",
    );
    let viewer = token(&city, "viewer", "city", "大屏");

    let server = start(&city);
    let a = server.addr.as_str();
    let accept = r#"{"accept": true}"#;
    // Who may not answer: nobody, a forged token, the town, a viewer, another department.
    assert_eq!(
        decide(a, id, None, accept).error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        decide(a, id, Some("om_forged"), accept).error(),
        (401, "unauthorized".into())
    );
    for who in [&office, &viewer, &theirs] {
        assert_eq!(
            decide(a, id, Some(who), accept).error(),
            (403, "forbidden".into())
        );
    }
    // Another department's plan, for this one: refused.
    assert_eq!(
        decide(a, id_of(&other["id"]), Some(&ours), accept).error(),
        (403, "forbidden".into())
    );
    // Bad ids and bodies.
    assert_eq!(
        post(a, "/api/coord/plans/abc/decision", Some(&ours), accept).error(),
        (400, "bad_number".into())
    );
    assert_eq!(
        decide(a, 99_999_999, Some(&ours), accept).error(),
        (404, "unknown_plan".into())
    );
    assert_eq!(
        decide(a, id, Some(&ours), r#"{"accept": "yes"}"#).error(),
        (422, "invalid_body".into())
    );
    assert_eq!(
        decide(a, id, Some(&ours), r#"{"accept": true, "x": 1}"#).error(),
        (422, "invalid_body".into())
    );
    assert_eq!(
        decide(a, id, Some(&ours), "not json").error(),
        (400, "bad_body".into())
    );
    if !own_keep.is_null() {
        assert_eq!(
            decide(a, id_of(&own_keep["id"]), Some(&ours), accept).error(),
            (409, "nothing_to_decide".into())
        );
    }
    // None of that changed anything.
    assert_eq!(ok(get(a, &file)), before);

    // The department accepts: the plan leaves its own visit, the calendar
    // and the town's figures change.
    let answer = ok(decide(a, id, Some(&ours), accept));
    let now = &answer["plan"];
    assert_eq!(now["decision"]["accept"], true, "{now}");
    assert_eq!(now["decision"]["source"], "department");
    assert_eq!(now["decision"]["by"], dept.as_str());
    let after = ok(get(a, &file));
    assert_eq!(after["calendar"], answer["calendar"]);
    own = carrying(&after["calendar"], id);
    assert_ne!(own, carrying(&before["calendar"], id), "{own:?}");
    assert_ne!(after["calendar"], before["calendar"]);
    let town_of_plan = id_of(&plan["target"]["town"]["id"]);
    let refusals = |a: &str| {
        ok(get(a, &format!("/api/coord/figures?area={town_of_plan}")))["refused"]
            .as_u64()
            .unwrap()
    };
    let refused_now = refusals(a);
    // A code scope works as well as the name: this department refuses one
    // it had accepted, which now goes ahead on its own, as planned.
    let back = if own_accepted.is_null() {
        None
    } else {
        let other_id = id_of(&own_accepted["id"]);
        let r = ok(decide(a, other_id, Some(&by_code), r#"{"accept": false}"#));
        assert_eq!(r["plan"]["decision"]["accept"], false);
        assert_eq!(
            carrying(&r["calendar"], other_id),
            vec![
                json!({"date": own_accepted["planned"], "mode": "on_site", "plans": [own_accepted["id"]]})
            ]
        );
        Some((
            other_id,
            r["calendar"].clone(),
            file_path(&own_accepted["target"]),
        ))
    };
    let plan_after = ok(get(a, &format!("/api/coord/plans/{id}")));
    drop(server);

    // A restart keeps the answers.
    let server = start(&city);
    let a = server.addr.as_str();
    assert_eq!(ok(get(a, &format!("/api/coord/plans/{id}"))), plan_after);
    assert_eq!(ok(get(a, &file))["calendar"], after["calendar"]);
    assert_eq!(refusals(a), refused_now);
    if let Some((other_id, calendar, other_file)) = back {
        assert_eq!(ok(get(a, &other_file))["calendar"], calendar);
        let p = ok(get(a, &format!("/api/coord/plans/{other_id}")));
        assert_eq!(p["decision"]["source"], "department");
        assert_eq!(p["decision"]["accept"], false);
    }
}
