//! The problem, development and task lists end to end over the embedded
//! store: the real `onemap` binary serves a small generated city whose
//! demo items (lists.json, written by `onemap synth`) are the store's;
//! every role's permissions; bad input with its 4xx codes; a hot spot made
//! a problem item, and 409 for a second while the first is not done; the
//! list filters against a brute-force filter over lists.json read here;
//! status moves with their history; the wall's figures; the CLI's list.

mod http_support;

use http_support::{get_as, post, request, request_body, small_city, start, token, Reply, BIN};
use serde_json::{json, Value};
use std::process::Command;

fn ok(r: Reply) -> Value {
    assert!(
        r.status == 200 || r.status == 201,
        "{} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn s(v: &Value) -> String {
    v.as_str()
        .map(String::from)
        .unwrap_or_else(|| v.to_string())
}

/// Every row of the lists for `tok` under `query`, page by page.
fn all_rows(a: &str, tok: &str, query: &str) -> (u64, Vec<Value>) {
    let mut rows = Vec::new();
    let mut offset = 0;
    let mut total = None;
    loop {
        let page = ok(get_as(
            a,
            &format!("/api/lists?{query}&limit=37&offset={offset}"),
            tok,
        ));
        let t = page["total"].as_u64().unwrap();
        assert_eq!(*total.get_or_insert(t), t, "the total holds across pages");
        let got = page["rows"].as_array().unwrap();
        assert!(got.len() <= 37);
        rows.extend(got.iter().cloned());
        match page["next_offset"].as_u64() {
            Some(n) => offset = n as usize,
            None => break,
        }
    }
    assert_eq!(rows.len() as u64, total.unwrap());
    (total.unwrap(), rows)
}

/// Today in China time, computed here (UTC+8, civil date).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 8 * 3600;
    let days = secs.div_euclid(86_400);
    // Civil date from days (Howard Hinnant's algorithm, written out here).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The brute-force filter: the area is the item's or a prefix of it, etc.
fn passes(
    i: &Value,
    area: Option<&str>,
    kinds: &[&str],
    statuses: &[&str],
    owner: Option<&str>,
    overdue: Option<bool>,
    today: &str,
) -> bool {
    let item_area = s(&i["area"]);
    let is_overdue = i["status"] != "done" && i["due"].as_str().is_some_and(|d| d < today);
    area.is_none_or(|a| item_area.starts_with(a))
        && (kinds.is_empty() || kinds.contains(&i["kind"].as_str().unwrap()))
        && (statuses.is_empty() || statuses.contains(&i["status"].as_str().unwrap()))
        && owner.is_none_or(|o| i["owner"]["name"] == o)
        && overdue.is_none_or(|o| o == is_overdue)
}

/// A filter of the lists: area, kinds, statuses, owner, overdue.
type Case<'a> = (
    Option<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Option<&'a str>,
    Option<bool>,
);

fn ids(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

#[test]
fn lists_end_to_end() {
    let (_dir, city) = small_city();
    // The demo's items, read here from the file `onemap synth` wrote.
    let demo: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(city.join("lists.json")).unwrap()).unwrap();
    assert!(demo.len() > 20, "{} demo items", demo.len());
    // A town with items, one of its villages with items, another town.
    let village = s(&demo[0]["area"]);
    let town = village[..9].to_string();
    let other_village = demo
        .iter()
        .map(|i| s(&i["area"]))
        .find(|a| a[..9] != town)
        .expect("items in another town");
    let other_town = other_village[..9].to_string();
    let dept_item = demo
        .iter()
        .find(|i| {
            s(&i["area"]).starts_with(&town)
                && i["owner"]["kind"] == "department"
                && i["status"] != "done"
        })
        .expect("a department's item in the town");
    let dept = dept_item["owner"]["name"].as_str().unwrap().to_string();

    let t = |role: &str, scope: &str, name: &str| token(&city, role, scope, name);
    let town_tok = t("town_office", &format!("area:{town}"), "镇综治办");
    let other_town_tok = t("town_office", &format!("area:{other_town}"), "别镇综治办");
    let leader = t("unit_leader", &format!("area:{village}"), "村网格员");
    let dept_tok = t("department", &format!("department:{dept}"), "部门");
    let viewer = t("viewer", "city", "市级查看");
    let town_viewer = t("viewer", &format!("area:{town}"), "镇级查看");
    let feed = t("ship_feed", "city", "船舶");
    let mut server = start(&city);
    let a = server.addr.clone();
    let a = a.as_str();

    // ---- Everything the city-wide viewer reads is the demo's items.
    let (total, all) = all_rows(a, &viewer, "x=1");
    assert_eq!(total as usize, demo.len());
    let mut want: Vec<u64> = demo.iter().map(|i| i["id"].as_u64().unwrap()).collect();
    want.sort_unstable_by(|x, y| y.cmp(x));
    assert_eq!(ids(&all), want, "newest first, each once");
    for r in &all {
        let d = demo.iter().find(|d| d["id"] == r["id"]).unwrap();
        for k in [
            "kind",
            "title",
            "category",
            "status",
            "due",
            "events",
            "created_at",
            "updated_at",
        ] {
            assert_eq!(r[k], d[k], "{k}");
        }
        assert!(r["area"].is_string(), "area codes are strings");
        assert_eq!(s(&r["area"]), s(&d["area"]));
        assert_eq!(r["owner"], d["owner"]);
        assert!(r["area_name"].is_string());
        assert!(r["overdue"].is_boolean());
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 13, "the row's fields: {keys:?}");
    }

    // ---- Filters against the brute force over lists.json.
    let today = today();
    let owners: Vec<String> = demo
        .iter()
        .take(3)
        .map(|i| i["owner"]["name"].as_str().unwrap().to_string())
        .collect();
    let cases: Vec<Case<'_>> = vec![
        (
            Some(&town),
            vec!["problem"],
            vec!["open", "in_progress"],
            None,
            None,
        ),
        (Some(&village), vec![], vec![], None, None),
        (Some(&town[..6]), vec!["task"], vec![], None, Some(true)),
        (None, vec!["development", "task"], vec!["done"], None, None),
        (None, vec![], vec![], Some(&owners[0]), None),
        (None, vec![], vec![], Some(&owners[2]), Some(false)),
        (Some(&other_town), vec![], vec!["open"], None, Some(true)),
    ];
    for (area, kinds, statuses, owner, overdue) in &cases {
        let mut q = vec!["x=1".to_string()];
        if let Some(ar) = area {
            q.push(format!("area={ar}"));
        }
        if !kinds.is_empty() {
            q.push(format!("kind={}", kinds.join(",")));
        }
        if !statuses.is_empty() {
            q.push(format!("status={}", statuses.join(",")));
        }
        if let Some(o) = owner {
            q.push(format!("owner={}", http_support::percent(o)));
        }
        if let Some(o) = overdue {
            q.push(format!("overdue={o}"));
        }
        let (_, got) = all_rows(a, &viewer, &q.join("&"));
        let mut want: Vec<u64> = demo
            .iter()
            .filter(|i| passes(i, *area, kinds, statuses, *owner, *overdue, &today))
            .map(|i| i["id"].as_u64().unwrap())
            .collect();
        want.sort_unstable_by(|x, y| y.cmp(x));
        assert_eq!(ids(&got), want, "{q:?}");
        for r in &got {
            let over =
                r["status"] != "done" && r["due"].as_str().is_some_and(|d| d < today.as_str());
            assert_eq!(r["overdue"], over);
        }
    }
    assert!(
        demo.iter()
            .any(|i| passes(i, None, &[], &[], None, Some(true), &today)),
        "some demo items are overdue"
    );

    // ---- Who reads what.
    assert_eq!(
        request(a, "GET", "/api/lists", &[]).error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        get_as(a, "/api/lists", &feed).error(),
        (403, "forbidden".into())
    );
    let (_, mine) = all_rows(a, &town_viewer, "x=1");
    let want_town: Vec<u64> = all
        .iter()
        .filter(|r| s(&r["area"]).starts_with(&town))
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids(&mine),
        want_town,
        "a town's viewer reads its town by default"
    );
    assert_eq!(
        get_as(a, &format!("/api/lists?area={other_town}"), &town_viewer).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        get_as(a, &format!("/api/lists?area={town}"), &leader).error(),
        (403, "forbidden".into())
    );
    let (_, lead) = all_rows(a, &leader, "x=1");
    assert!(lead.iter().all(|r| s(&r["area"]).starts_with(&village)) && !lead.is_empty());
    let (_, owned) = all_rows(a, &dept_tok, "x=1");
    let want_dept: Vec<u64> = all
        .iter()
        .filter(|r| r["owner"]["name"] == dept.as_str() && r["owner"]["kind"] == "department")
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids(&owned), want_dept, "a department reads what it owns");
    let dept_id = dept_item["id"].as_u64().unwrap();
    let foreign = all
        .iter()
        .find(|r| r["owner"]["name"] != dept.as_str())
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        get_as(a, &format!("/api/lists/{foreign}"), &dept_tok).error(),
        (403, "forbidden".into())
    );
    let one = ok(get_as(a, &format!("/api/lists/{dept_id}"), &dept_tok));
    assert_eq!(one["history"][0]["change"], "created");
    assert_eq!(
        one["event_summaries"].as_array().unwrap().len(),
        one["events"].as_array().unwrap().len().min(100)
    );
    for e in one["event_summaries"].as_array().unwrap() {
        assert_eq!(
            e["category"], one["category"],
            "a demo problem links its category's events"
        );
        assert!(s(&e["unit"]).starts_with(&s(&one["area"])));
    }

    // ---- Who may create.
    let form = |area: &str, kind: &str, due: Option<&str>| {
        let mut b = json!({"kind": kind, "area": area, "title": "排查村道路灯", "detail": "夜间多处路灯不亮",
            "category": "road", "owner": {"kind": "person", "name": "林一"}});
        if let Some(d) = due {
            b["due"] = json!(d);
        }
        b.to_string()
    };
    let body = form(&village, "task", Some("2030-01-31"));
    assert_eq!(
        post(a, "/api/lists", None, &body).error(),
        (401, "unauthorized".into())
    );
    for tok in [&feed, &viewer, &town_viewer, &dept_tok, &other_town_tok] {
        assert_eq!(
            post(a, "/api/lists", Some(tok), &body).error(),
            (403, "forbidden".into())
        );
    }
    let created = ok(post(a, "/api/lists", Some(&town_tok), &body));
    assert_eq!(created["status"], "open");
    assert_eq!(created["created_by"], "镇综治办");
    assert_eq!(created["id"].as_u64().unwrap(), demo.len() as u64 + 1);
    let by_leader = ok(post(
        a,
        "/api/lists",
        Some(&leader),
        &form(&village, "development", None),
    ));
    assert_eq!(by_leader["due"], Value::Null);
    assert_eq!(
        post(
            a,
            "/api/lists",
            Some(&leader),
            &form(&town, "development", None)
        )
        .error(),
        (403, "forbidden".into())
    );

    // ---- Bad input, each with its code; nothing is written.
    let before = all_rows(a, &viewer, "x=1").0;
    let bad: Vec<(&str, String, (u16, &str))> = vec![
        ("application/json", "{not json".into(), (400, "bad_body")),
        ("text/plain", body.clone(), (415, "unsupported_media_type")),
        ("application/json", json!({"kind": "task", "area": village}).to_string(), (422, "invalid_body")),
        ("application/json", body.replace("\"detail\"", "\"colour\":1,\"detail\""), (422, "invalid_body")),
        ("application/json", body.replace("\"task\"", "\"wish\""), (422, "unknown_value")),
        ("application/json", body.replace("\"road\"", "\"weather\""), (422, "unknown_value")),
        ("application/json", body.replace("2030-01-31", "2030-02-30"), (422, "invalid_list_item")),
        ("application/json", form(&village, "task", None), (422, "invalid_list_item")),
        ("application/json", body.replace("排查村道路灯", "  "), (422, "invalid_list_item")),
        ("application/json", body.replace(&format!("\"{village}\""), "\"12\""), (400, "invalid_area_id")),
        ("application/json", body.replace(&format!("\"{village}\""), &format!("\"{town}999\"")), (404, "unknown_area")),
        ("application/json", body.replace("\"person\"", "\"robot\""), (422, "invalid_list_item")),
        ("application/json", body.replace("\"detail\"", "\"events\":[999999999],\"detail\""), (422, "invalid_list_item")),
        ("application/json", json!({"from_hotspot": {"category": "road", "unit": "350302001001001001", "min_count": 100000}}).to_string(), (422, "not_a_hotspot")),
        ("application/json", json!({"from_hotspot": {"category": "rain", "unit": "350302001001001001"}}).to_string(), (422, "unknown_value")),
        ("application/json", json!({"from_hotspot": {"category": "road"}}).to_string(), (422, "invalid_body")),
        ("application/json", format!("{{\"kind\":\"task\",\"title\":\"{}\"}}", "x".repeat(40 << 10)), (413, "body_too_large")),
    ];
    for (ctype, b, want) in &bad {
        let auth = format!("Bearer {town_tok}");
        let r = request_body(
            a,
            "POST",
            "/api/lists",
            &[("Content-Type", ctype), ("Authorization", &auth)],
            Some(b),
        );
        assert_eq!(
            r.error(),
            (want.0, want.1.to_string()),
            "{}",
            &b[..b.len().min(120)]
        );
    }
    for (q, want) in [
        ("/api/lists?limit=0", (422, "invalid_limit")),
        ("/api/lists?limit=501", (422, "invalid_limit")),
        ("/api/lists?limit=ten", (400, "bad_number")),
        ("/api/lists?status=closed", (422, "unknown_value")),
        ("/api/lists?kind=wish", (422, "unknown_value")),
        ("/api/lists?overdue=maybe", (422, "unknown_value")),
        ("/api/lists?area=35030", (400, "invalid_area_id")),
        ("/api/lists/abc", (400, "bad_number")),
        ("/api/lists/99999999", (404, "unknown_list_item")),
    ] {
        assert_eq!(
            get_as(a, q, &viewer).error(),
            (want.0, want.1.to_string()),
            "{q}"
        );
    }
    assert_eq!(
        all_rows(a, &viewer, "x=1").0,
        before,
        "refused creations wrote nothing"
    );

    // ---- Status moves and history.
    let id = created["id"].as_u64().unwrap();
    let path = format!("/api/lists/{id}");
    let mv = |tok: &str, b: Value| post(a, &path, Some(tok), &b.to_string());
    assert_eq!(
        mv(&town_tok, json!({"status": "done"})).error(),
        (409, "illegal_move".into())
    );
    assert_eq!(
        mv(&town_tok, json!({})).error(),
        (422, "invalid_list_item".into())
    );
    assert_eq!(
        mv(&town_tok, json!({"status": "paused"})).error(),
        (422, "unknown_value".into())
    );
    assert_eq!(
        mv(&town_tok, json!({"due": "2030-13-01"})).error(),
        (422, "invalid_list_item".into())
    );
    for tok in [&viewer, &feed, &other_town_tok, &dept_tok] {
        assert_eq!(
            mv(tok, json!({"status": "in_progress"})).error(),
            (403, "forbidden".into())
        );
    }
    assert_eq!(
        post(
            a,
            "/api/lists/99999999",
            Some(&town_tok),
            r#"{"status":"in_progress"}"#
        )
        .error(),
        (404, "unknown_list_item".into())
    );
    let r = ok(mv(
        &town_tok,
        json!({"status": "in_progress", "note": "已派人排查"}),
    ));
    assert_eq!(r["status"], "in_progress");
    let r = ok(mv(&leader, json!({"status": "done", "due": "2030-02-15"})));
    assert_eq!(r["due"], "2030-02-15");
    assert_eq!(
        mv(&town_tok, json!({"status": "open"})).error(),
        (422, "invalid_list_item".into()),
        "reopen needs a note"
    );
    let r = ok(mv(
        &town_tok,
        json!({"status": "open", "note": "又有路灯坏了", "owner": {"kind": "department", "name": dept}}),
    ));
    let h: Vec<(String, Value, Value, Value)> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["change"].as_str().unwrap().to_string(),
                h["from"].clone(),
                h["to"].clone(),
                h["note"].clone(),
            )
        })
        .collect();
    assert_eq!(
        h,
        vec![
            ("created".into(), Value::Null, json!("open"), Value::Null),
            (
                "status".into(),
                json!("open"),
                json!("in_progress"),
                json!("已派人排查")
            ),
            (
                "status".into(),
                json!("in_progress"),
                json!("done"),
                Value::Null
            ),
            (
                "due".into(),
                json!("2030-01-31"),
                json!("2030-02-15"),
                Value::Null
            ),
            (
                "status".into(),
                json!("done"),
                json!("open"),
                json!("又有路灯坏了")
            ),
            ("owner".into(), json!("林一"), json!(dept), Value::Null),
        ]
    );
    assert_eq!(r["history"][4]["by"], "镇综治办");
    // Now the department owns it: it moves the status, not the owner.
    ok(mv(
        &dept_tok,
        json!({"status": "in_progress", "note": "部门已受理"}),
    ));
    assert_eq!(
        mv(&dept_tok, json!({"owner": {"kind": "person", "name": "x"}})).error(),
        (403, "forbidden".into())
    );
    let again = ok(get_as(a, &path, &viewer));
    assert_eq!(again["status"], "in_progress");
    assert_eq!(again["history"].as_array().unwrap().len(), 7);

    // ---- A hot spot becomes a problem item; a second is refused while it
    // is not done.
    let spots = ok(get_as(
        a,
        &format!("/api/hotspots?min_count=2&area={town}&limit=5"),
        &viewer,
    ));
    let spot = spots["hotspots"]
        .as_array()
        .unwrap()
        .first()
        .expect("a hot spot in the town")
        .clone();
    let unit = s(&spot["place"]["id"]);
    let from =
        json!({"from_hotspot": {"category": spot["category"], "unit": unit, "min_count": 2}})
            .to_string();
    assert_eq!(
        post(a, "/api/lists", Some(&other_town_tok), &from).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        post(a, "/api/lists", Some(&viewer), &from).error(),
        (403, "forbidden".into())
    );
    let item = ok(post(a, "/api/lists", Some(&town_tok), &from));
    assert_eq!(item["kind"], "problem");
    assert_eq!(item["category"], spot["category"]);
    assert_eq!(s(&item["area"]), unit[..12]);
    assert_eq!(
        item["events"].as_array().unwrap().len() as u64,
        spot["count"].as_u64().unwrap()
    );
    assert!(item["title"]
        .as_str()
        .unwrap()
        .contains(&spot["count"].to_string()));
    for e in item["event_summaries"].as_array().unwrap() {
        assert_eq!(e["category"], spot["category"]);
        assert_eq!(s(&e["unit"]), unit);
    }
    assert_eq!(
        post(a, "/api/lists", Some(&town_tok), &from).error(),
        (409, "hotspot_taken".into())
    );
    let hid = item["id"].as_u64().unwrap();
    let hpath = format!("/api/lists/{hid}");
    ok(post(
        a,
        &hpath,
        Some(&town_tok),
        r#"{"status":"in_progress"}"#,
    ));
    assert_eq!(
        post(a, "/api/lists", Some(&town_tok), &from).error(),
        (409, "hotspot_taken".into())
    );
    ok(post(
        a,
        &hpath,
        Some(&town_tok),
        r#"{"status":"done","note":"已整治"}"#,
    ));
    let second = ok(post(a, "/api/lists", Some(&town_tok), &from));
    assert_eq!(second["id"].as_u64().unwrap(), hid + 1);
    assert_eq!(
        post(
            a,
            &hpath,
            Some(&town_tok),
            r#"{"status":"open","note":"again"}"#
        )
        .error(),
        (409, "hotspot_taken".into())
    );

    // ---- The wall's figures are the lists'.
    let (_, now_all) = all_rows(a, &viewer, "x=1");
    let wall = ok(request(a, "GET", "/api/wall", &[]));
    let count = |f: &dyn Fn(&Value) -> bool| now_all.iter().filter(|i| f(i)).count() as u64;
    assert_eq!(
        wall["lists"]["open_problems"].as_u64().unwrap(),
        count(&|i| i["kind"] == "problem" && i["status"] != "done")
    );
    assert_eq!(
        wall["lists"]["overdue_tasks"].as_u64().unwrap(),
        count(&|i| i["kind"] == "task" && i["overdue"] == true)
    );

    // ---- The OpenAPI document names the routes.
    let doc = ok(request(a, "GET", "/api/openapi.json", &[]));
    assert!(doc["paths"]["/api/lists"]["get"].is_object());
    assert!(doc["paths"]["/api/lists"]["post"].is_object());
    assert!(doc["paths"]["/api/lists/{id}"]["post"].is_object());
    server.kill();

    // ---- The CLI reads the same store.
    let out = Command::new(BIN)
        .args([
            "lists",
            "--json",
            "--kind",
            "problem",
            "--status",
            "open,in_progress",
            "--limit",
            "500",
            "--data",
        ])
        .arg(&city)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        cli["total"].as_u64().unwrap(),
        count(&|i| i["kind"] == "problem" && i["status"] != "done")
    );
    let bad = Command::new(BIN)
        .args(["lists", "--status", "closed", "--data"])
        .arg(&city)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(msg.contains("closed") && !msg.contains("panicked"), "{msg}");
}
