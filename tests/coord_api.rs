//! Coordination of enterprise inspections and school visits end to end,
//! over the embedded store: the real `onemap` binary serves a small
//! generated city; its demo year's figures over HTTP are the command line's
//! (`onemap coordinate --json`), the routes agree with each other (plans,
//! calendar, figures), bad input gets 4xx JSON, only a plan's own
//! department answers its suggestion, an answer changes the calendar and
//! the figures, and a restart keeps it.

mod http_support;

use http_support::{
    get, get_as, id_of, post, request, request_body, small_city, start, token, Reply, BIN,
};
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

/// Every push of an area with each enterprise's self-check, as the detail
/// route gives them.
fn push_details(a: &str, area: u64, token: Option<&str>) -> Vec<Value> {
    let list = ok(get(
        a,
        &format!("/api/coord/pushes?area={area}&limit=10000"),
    ));
    list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let path = format!("/api/coord/pushes/{}", p["key"].as_str().unwrap());
            ok(match token {
                Some(t) => get_as(a, &path, t),
                None => get(a, &path),
            })
        })
        .collect()
}

/// The self-check counts of a push, counted from its checks (not from the
/// counts the server gives).
fn counted(p: &Value) -> [u64; 3] {
    let mut n = [0; 3];
    for c in p["checks"].as_array().unwrap() {
        let i = ["pending", "self_checked", "rectified"]
            .iter()
            .position(|s| c["status"] == *s)
            .unwrap_or_else(|| panic!("status {c}"));
        n[i] += 1;
    }
    n
}

fn ask(a: &str, token: Option<&str>, body: Value) -> Reply {
    post(a, "/api/coord/requests", token, &body.to_string())
}

#[test]
fn enterprises_and_schools_act_and_their_town_sees_it() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    // An enterprise with one plan in the year, kept as planned (nothing
    // to merge with), before October: its postponement will move it alone.
    let kept = all_rows(a, "/api/coord/plans?action=keep");
    let mut count: std::collections::HashMap<u64, usize> = Default::default();
    for p in all_rows(a, "/api/coord/plans") {
        if p["target"]["kind"] == "enterprise" {
            *count.entry(id_of(&p["target"]["id"])).or_default() += 1;
        }
    }
    let single: Vec<&Value> = kept
        .iter()
        .filter(|p| {
            p["target"]["kind"] == "enterprise"
                && p["suggestion"]["reason"]["code"] == "keep_as_planned"
                && count.get(&id_of(&p["target"]["id"])) == Some(&1)
                && p["planned"].as_str().unwrap() < "2023-10-01"
        })
        .collect();
    assert!(
        !single.is_empty(),
        "an enterprise with a single plan, kept as planned"
    );
    // A town with such an enterprise and a push whose self-check is still
    // pending at another enterprise.
    let all_pushes = ok(get(a, "/api/coord/pushes?limit=10000"));
    let (plan, push, pushed) = all_pushes["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pending"].as_u64().unwrap() > 0)
        .find_map(|p| {
            let town = id_of(&p["area"]["id"]);
            let plan = single
                .iter()
                .find(|x| id_of(&x["target"]["town"]["id"]) == town)?;
            let ent = id_of(&plan["target"]["id"]);
            let d = ok(get(
                a,
                &format!("/api/coord/pushes/{}", p["key"].as_str().unwrap()),
            ));
            let c = d["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["status"] == "pending" && id_of(&c["enterprise"]["id"]) != ent)?
                .clone();
            Some(((*plan).clone(), d.clone(), id_of(&c["enterprise"]["id"])))
        })
        .expect("a town with a lone plan and a pending self-check");
    let pid = id_of(&plan["id"]);
    let ent = id_of(&plan["target"]["id"]);
    let town = id_of(&plan["target"]["town"]["id"]);
    let other_plan = kept
        .iter()
        .find(|p| p["target"]["kind"] == "enterprise" && id_of(&p["target"]["id"]) != ent)
        .unwrap()
        .clone();
    let key = push["key"].as_str().unwrap().to_string();
    let not_pushed = push["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| id_of(&c["enterprise"]["id"]) != ent);
    // A school, of the town if it has one.
    let sites = ok(get(a, "/api/coord/sites?limit=10000"));
    let schools: Vec<&Value> = sites["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["kind"] == "school")
        .collect();
    let school_here = schools
        .iter()
        .find(|f| id_of(&f["properties"]["town"]["id"]) == town)
        .or(schools.first())
        .expect("a school");
    let school = id_of(&school_here["properties"]["id"]);
    let school_in_town = id_of(&school_here["properties"]["town"]["id"]) == town;
    let other_town = all_rows(a, "/api/coord/plans?action=keep")
        .iter()
        .map(|p| id_of(&p["target"]["town"]["id"]))
        .find(|t| *t != town)
        .expect("another town");
    drop(server);

    // Accounts: the command line takes the new roles and refuses what makes
    // no sense.
    for (role, scope) in [
        ("enterprise", "school:1"),
        ("enterprise", "city"),
        ("enterprise", "area:350304003"),
        ("school", "enterprise:1"),
        ("school", "enterprise:x"),
        ("viewer", "enterprise:1"),
        ("town_office", "school:1"),
        ("enterprise", "enterprise:0"),
    ] {
        let out = Command::new(BIN)
            .args([
                "token", "create", "--role", role, "--scope", scope, "--name", "x", "--data",
            ])
            .arg(&city)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{role} {scope} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let made = Command::new(BIN)
        .args([
            "user",
            "create",
            "--name",
            "qiye.1",
            "--display-name",
            "莆田某企业",
            "--role",
            "enterprise",
        ])
        .args(["--scope", &format!("enterprise:{ent}"), "--data"])
        .arg(&city)
        .env("ONEMAP_PASSWORD", "qi-ye-mi-ma-2026")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let listed = Command::new(BIN)
        .args(["user", "list", "--data"])
        .arg(&city)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&format!("enterprise:{ent}")));

    let me = token(&city, "enterprise", &format!("enterprise:{ent}"), "本企业");
    let pusher = token(
        &city,
        "enterprise",
        &format!("enterprise:{pushed}"),
        "同行企业",
    );
    let sch = token(&city, "school", &format!("school:{school}"), "本校");
    let office = token(&city, "town_office", &format!("area:{town}"), "镇街");
    let elsewhere = token(
        &city,
        "town_office",
        &format!("area:{other_town}"),
        "别的镇街",
    );
    let viewer = token(&city, "viewer", "city", "大屏");
    let dept_name = plan["department"]["name"].as_str().unwrap().to_string();
    let dept = token(
        &city,
        "department",
        &format!("department:{dept_name}"),
        "部门",
    );
    let leader = token(
        &city,
        "unit_leader",
        &format!("area:{other_town}001"),
        "单元长",
    );
    let feed = token(&city, "ship_feed", "city", "船舶");

    let server = start(&city);
    let a = server.addr.as_str();
    let day = plan["suggestion"]["date"].as_str().unwrap().to_string();
    let until = {
        let (y, m, d): (i32, u32, u32) = (
            day[..4].parse().unwrap(),
            day[5..7].parse().unwrap(),
            day[8..].parse().unwrap(),
        );
        // 45 days on, by hand (the months of 2023).
        let lens = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let mut doy: u32 = lens[..(m - 1) as usize].iter().sum::<u32>() + d + 45;
        let mut mm = 0;
        while doy > lens[mm] {
            doy -= lens[mm];
            mm += 1;
        }
        format!("{y}-{:02}-{doy:02}", mm + 1)
    };
    let postpone = json!({"type": "postpone", "plan": pid, "reason": "relocation", "until": until, "note": "厂区整体搬迁，新厂房装修中"});
    let file = format!("/api/coord/enterprises/{ent}");
    let before = ok(get(a, &file));

    // Bad requests: 4xx JSON, and nothing kept.
    let mut big = postpone.clone();
    big["note"] = json!("长".repeat(3000));
    for (who, body, status, code) in [
        (None, postpone.clone(), 401, "unauthorized"),
        (Some(&office), postpone.clone(), 403, "forbidden"),
        (Some(&dept), postpone.clone(), 403, "forbidden"),
        (Some(&viewer), postpone.clone(), 403, "forbidden"),
        (Some(&leader), postpone.clone(), 403, "forbidden"),
        (Some(&feed), postpone.clone(), 403, "forbidden"),
        (
            Some(&me),
            json!({"type": "postpone", "plan": 99_999_999, "reason": "relocation", "until": until, "note": "x"}),
            404,
            "unknown_plan",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": id_of(&other_plan["id"]), "reason": "relocation", "until": until, "note": "x"}),
            403,
            "forbidden",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "relocation", "until": "2024-01-05", "note": "x"}),
            422,
            "outside_year",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "relocation", "until": day, "note": "x"}),
            422,
            "outside_year",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "relocation", "until": "2023-13-01", "note": "x"}),
            422,
            "unknown_value",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "relocation", "until": until, "note": "  "}),
            422,
            "empty_reason",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "relocation", "until": until}),
            422,
            "empty_reason",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "party", "until": until, "note": "x"}),
            422,
            "unknown_value",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "reason": "relocation", "note": "x"}),
            400,
            "missing_parameter",
        ),
        (
            Some(&me),
            json!({"type": "bribe", "note": "x"}),
            422,
            "unknown_value",
        ),
        (
            Some(&me),
            json!({"type": "event", "event": "science_day", "date": "2023-05-20", "note": "x"}),
            403,
            "forbidden",
        ),
        (
            Some(&sch),
            json!({"type": "guidance", "subject": "fire_safety", "start": "2023-05-01", "note": "x"}),
            403,
            "forbidden",
        ),
        (
            Some(&me),
            json!({"type": "guidance", "subject": "fire_education", "start": "2023-05-01", "note": "x"}),
            422,
            "unknown_value",
        ),
        (
            Some(&me),
            json!({"type": "guidance", "subject": "fire_safety", "start": "2023-05-01", "end": "2023-04-01", "note": "x"}),
            422,
            "invalid_window",
        ),
        (
            Some(&me),
            json!({"type": "postpone", "plan": pid, "extra": 1, "note": "x"}),
            422,
            "invalid_body",
        ),
        (Some(&me), big, 413, "body_too_large"),
    ] {
        assert_eq!(
            ask(a, who.map(String::as_str), body.clone()).error(),
            (status, code.to_string()),
            "{body}"
        );
    }
    assert_eq!(
        post(a, "/api/coord/requests", Some(&me), "not json").error(),
        (400, "bad_body".into())
    );
    assert_eq!(
        ok(get(a, &file)),
        before,
        "a refused request changed the file"
    );

    // A session needs its CSRF token.
    let signed = request_body(
        a,
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        Some(&json!({"name": "qiye.1", "password": "qi-ye-mi-ma-2026"}).to_string()),
    );
    assert_eq!(signed.status, 200);
    let cookie = signed
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = signed.json()["csrf"].as_str().unwrap().to_string();
    let no_csrf = request_body(
        a,
        "POST",
        "/api/coord/requests",
        &[("Content-Type", "application/json"), ("Cookie", &cookie)],
        Some(&postpone.to_string()),
    );
    assert_eq!(no_csrf.error(), (403, "csrf_failed".into()));

    // The enterprise postpones (with its session): the plan is rescheduled
    // past the wished day, and its reason names the request.
    let done = request_body(
        a,
        "POST",
        "/api/coord/requests",
        &[
            ("Content-Type", "application/json"),
            ("Cookie", &cookie),
            ("X-CSRF-Token", &csrf),
        ],
        Some(&postpone.to_string()),
    );
    let done = ok(done);
    let rid = id_of(&done["request"]["id"]);
    assert_eq!(done["request"]["note"], "厂区整体搬迁，新厂房装修中");
    assert_eq!(done["request"]["by"], "莆田某企业");
    let now = ok(get(a, &format!("/api/coord/plans/{pid}")));
    let s = &now["suggestion"];
    assert_eq!(s["action"], "reschedule", "{now}");
    assert_eq!(s["reason"]["code"], "reschedule_request", "{now}");
    let text = s["reason"]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("申请#{rid}")) && text.contains("搬迁"),
        "{text}"
    );
    assert!(s["date"].as_str().unwrap() >= until.as_str(), "{now}");
    assert_eq!(done["request"]["plans"][0]["action"], "reschedule");
    // The calendar has no on-site visit of it between the day and the wish.
    let after = ok(get(a, &file));
    assert_eq!(after["calendar"], done["calendar"]);
    for v in after["calendar"].as_array().unwrap() {
        let d = v["date"].as_str().unwrap();
        assert!(
            !(v["mode"] == "on_site" && d >= day.as_str() && d < until.as_str()),
            "{v}"
        );
    }
    // Asked twice: 409, and nothing else kept.
    assert_eq!(
        ask(a, Some(&me), postpone.clone()).error(),
        (409, "duplicate_request".into())
    );
    // Guidance, then an inspection.
    let g = ok(ask(
        a,
        Some(&me),
        json!({"type": "guidance", "subject": "fire_safety", "start": "2023-11-01", "note": "消防设施改造后请指导"}),
    ));
    assert!(
        g["request"]["visit"]["date"].as_str().unwrap() >= "2023-11-01",
        "{g}"
    );
    assert_eq!(ask(a, Some(&me), json!({"type": "guidance", "subject": "fire_safety", "start": "2023-12-01", "note": "再问"})).error(), (409, "duplicate_request".into()));
    ok(ask(
        a,
        Some(&me),
        json!({"type": "inspection", "subject": "special_equipment", "start": "2023-11-10", "end": "2023-12-20", "note": "新锅炉投用前请检查"}),
    ));
    // The school asks a department to its science day: a visit on that day.
    let e = ok(ask(
        a,
        Some(&sch),
        json!({"type": "event", "event": "science_day", "date": "2023-05-24", "note": "科技节邀请科协参加"}),
    ));
    assert!(
        e["calendar"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["date"] == "2023-05-24" && v["purpose"] == "event"),
        "{e}"
    );

    // The school postpones an on-site visit (exams): its plan moves past
    // the wished day with a reason that names the request, and the school's
    // calendar has no on-site visit in between.
    let mut school_requests = 1u64;
    let sfile = ok(get_as(a, &format!("/api/coord/schools/{school}"), &sch));
    let visit = sfile["calendar"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["mode"] == "on_site"
                && v["urgent"] == false
                && v["purpose"] != "event"
                && v["date"].as_str().is_some_and(|d| d < "2023-12-01")
        })
        .cloned();
    if let Some(v) = visit {
        let day = v["date"].as_str().unwrap().to_string();
        let spid = id_of(&v["plans"][0]);
        let r = ok(ask(
            a,
            Some(&sch),
            json!({"type": "postpone", "plan": spid, "reason": "exams", "until": "2023-12-20", "note": "期末考试期间"}),
        ));
        let srid = id_of(&r["request"]["id"]);
        school_requests += 1;
        let now = ok(get(a, &format!("/api/coord/plans/{spid}")));
        let sg = &now["suggestion"];
        assert!(
            sg["action"] == "reschedule" || sg["action"] == "merge",
            "{now}"
        );
        assert!(
            sg["reason"]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("申请#{srid}")),
            "{now}"
        );
        assert!(sg["date"].as_str().unwrap() >= "2023-12-20", "{now}");
        let after = ok(get_as(a, &format!("/api/coord/schools/{school}"), &sch));
        for c in after["calendar"].as_array().unwrap() {
            let d = c["date"].as_str().unwrap();
            assert!(
                !(c["mode"] == "on_site"
                    && c["purpose"] != "event"
                    && d >= day.as_str()
                    && d < "2023-12-20"),
                "{c}"
            );
        }
    } else {
        // Every visit of this school is online, merged away or urgent:
        // then nothing may be postponed, and the API says so.
        let any_plan = id_of(&sfile["plans"][0]["id"]);
        assert_eq!(
            ask(
                a,
                Some(&sch),
                json!({"type": "postpone", "plan": any_plan, "reason": "exams", "until": "2023-12-20", "note": "x"}),
            )
            .error(),
            (409, "nothing_to_postpone".into())
        );
    }

    // Who reads the requests: the town office its town's (with the notes),
    // the enterprise its own, a city viewer all, a department those naming
    // it; another town's office none of them, and not this town's.
    let list = |t: &str, q: &str| ok(get_as(a, &format!("/api/coord/requests{q}"), t));
    let ids = |v: &Value| -> Vec<u64> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| id_of(&r["id"]))
            .collect()
    };
    let town_list = list(&office, "");
    assert_eq!(
        town_list["total"],
        3 + if school_in_town { school_requests } else { 0 },
        "{town_list}"
    );
    assert!(town_list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["note"] == "厂区整体搬迁，新厂房装修中"));
    assert_eq!(
        ids(&list(&office, &format!("?area={town}"))),
        ids(&town_list)
    );
    let everyone = list(&viewer, "");
    assert_eq!(everyone["total"], 3 + school_requests);
    let here: Vec<u64> = everyone["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| id_of(&r["target"]["town"]["id"]) == town)
        .map(|r| id_of(&r["id"]))
        .collect();
    assert_eq!(here, ids(&town_list));
    let mine = list(&me, "");
    assert_eq!(mine["total"], 3);
    assert!(ids(&mine).contains(&rid));
    assert_eq!(list(&sch, "")["total"], school_requests);
    assert_eq!(list(&pusher, "")["total"], 0);
    assert_eq!(list(&elsewhere, "")["total"], 0);
    assert_eq!(
        list(&dept, "")["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| id_of(&r["id"]) == rid)
            .count(),
        0
    );
    assert_eq!(
        get_as(a, &format!("/api/coord/requests?area={town}"), &elsewhere).error(),
        (403, "forbidden".into())
    );
    for who in [&leader, &feed] {
        assert_eq!(
            get_as(a, "/api/coord/requests", who).error(),
            (403, "forbidden".into())
        );
    }
    assert_eq!(
        get(a, "/api/coord/requests").error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        get_as(a, "/api/coord/requests?limit=0", &office).error(),
        (422, "invalid_limit".into())
    );
    // The file shows the requests to the enterprise and its town, not to others.
    assert_eq!(
        ok(get_as(a, &file, &me))["requests"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(ok(get_as(a, &file, &me))["mine"], true);
    assert_eq!(ok(get_as(a, &file, &office))["mine"], false);
    assert!(ok(get(a, &file)).get("requests").is_none());
    assert!(ok(get_as(a, &file, &pusher)).get("requests").is_none());

    // A self-check: bad ones first.
    let path = format!("/api/coord/pushes/{key}/self-check");
    let sc = |t: Option<&str>, body: Value| post(a, &path, t, &body.to_string());
    assert_eq!(
        sc(None, json!({"status": "self_checked", "note": "x"})).error(),
        (401, "unauthorized".into())
    );
    for who in [&office, &viewer, &sch, &dept, &leader, &feed] {
        assert_eq!(
            sc(Some(who), json!({"status": "self_checked", "note": "x"})).error(),
            (403, "forbidden".into())
        );
    }
    if not_pushed {
        assert_eq!(
            sc(Some(&me), json!({"status": "self_checked", "note": "x"})).error(),
            (403, "forbidden".into())
        );
    }
    assert_eq!(
        post(
            a,
            "/api/coord/pushes/1-2023-01-01-nothing/self-check",
            Some(&pusher),
            r#"{"status": "self_checked", "note": "x"}"#
        )
        .error(),
        (404, "unknown_push".into())
    );
    assert_eq!(
        post(
            a,
            "/api/coord/pushes/x/self-check",
            Some(&pusher),
            r#"{"status": "self_checked", "note": "x"}"#
        )
        .error(),
        (404, "unknown_push".into())
    );
    assert_eq!(
        sc(Some(&pusher), json!({"status": "done", "note": "x"})).error(),
        (422, "unknown_value".into())
    );
    assert_eq!(
        sc(Some(&pusher), json!({"status": "rectified", "note": "x"})).error(),
        (409, "bad_self_check".into())
    );
    assert_eq!(
        sc(Some(&pusher), json!({"status": "self_checked", "note": ""})).error(),
        (422, "empty_reason".into())
    );
    let detail = format!("/api/coord/pushes/{key}");
    assert_eq!(ok(get(a, &detail)), ok(get(a, &detail)));
    let was = ok(get(a, &detail));
    assert_eq!(was, push, "refused self-checks changed the push");

    let r = ok(sc(
        Some(&pusher),
        json!({"status": "self_checked", "note": "已对照排查安全出口，清理堆放物"}),
    ));
    assert_eq!(r["check"]["status"], "self_checked");
    let is = ok(get_as(a, &detail, &office));
    let [p0, s0, r0] = counted(&was);
    let [p1, s1, r1] = counted(&is);
    assert_eq!((p1, s1, r1), (p0 - 1, s0 + 1, r0));
    for doc in [&is, &r] {
        assert_eq!(
            [
                doc["pending"].as_u64().unwrap(),
                doc["self_checked"].as_u64().unwrap(),
                doc["rectified"].as_u64().unwrap()
            ],
            [p1, s1, r1]
        );
        assert_eq!(doc["reached"].as_u64().unwrap(), p1 + s1 + r1);
    }
    let mine = is["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| id_of(&c["enterprise"]["id"]) == pushed)
        .unwrap()
        .clone();
    assert_eq!(mine["note"], "已对照排查安全出口，清理堆放物");
    assert_eq!(mine["by"], "同行企业");
    // The note is for the town and the enterprise, not for anyone.
    let public = ok(get(a, &detail));
    assert!(public["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("note").is_none()));
    assert_eq!(counted(&public), [p1, s1, r1]);
    // The town's list of pushes counts the same, and its totals add up.
    let town_pushes = ok(get(
        a,
        &format!("/api/coord/pushes?area={town}&limit=10000"),
    ));
    let row = town_pushes["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["self_checked"].as_u64().unwrap(), s1);
    let mut sums = [0u64; 3];
    for p in push_details(a, town, None) {
        for (s, n) in sums.iter_mut().zip(counted(&p)) {
            *s += n;
        }
    }
    assert_eq!(
        [
            town_pushes["counts"]["pending"].as_u64().unwrap(),
            town_pushes["counts"]["self_checked"].as_u64().unwrap(),
            town_pushes["counts"]["rectified"].as_u64().unwrap()
        ],
        sums
    );
    // Its own file shows its note; then done.
    let pf = ok(get_as(
        a,
        &format!("/api/coord/enterprises/{pushed}"),
        &pusher,
    ));
    let got = pf["pushes"]["received"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (got["status"].clone(), got["note"].clone()),
        (
            json!("self_checked"),
            json!("已对照排查安全出口，清理堆放物")
        )
    );
    ok(sc(
        Some(&pusher),
        json!({"status": "rectified", "note": "整改完成"}),
    ));
    assert_eq!(
        sc(
            Some(&pusher),
            json!({"status": "self_checked", "note": "x"})
        )
        .error(),
        (409, "bad_self_check".into())
    );
    let [_, s2, r2] = counted(&ok(get(a, &detail)));
    assert_eq!((s2, r2), (s1 - 1, r1 + 1));
    let kept_plan = ok(get(a, &format!("/api/coord/plans/{pid}")));
    let kept_requests = list(&office, "");
    let kept_push = ok(get_as(a, &detail, &office));
    drop(server);

    // A restart keeps it all.
    let server = start(&city);
    let a = server.addr.as_str();
    assert_eq!(ok(get(a, &format!("/api/coord/plans/{pid}"))), kept_plan);
    assert_eq!(ok(get_as(a, "/api/coord/requests", &office)), kept_requests);
    assert_eq!(ok(get_as(a, &detail, &office)), kept_push);
    let _ = request(a, "GET", "/healthz", &[]);
}
