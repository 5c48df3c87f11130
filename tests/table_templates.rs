//! The one table's templates end to end, with the real `onemap` binary on a
//! small generated city: every standard template makes the same table as
//! its ledger, fields and filter asked for directly; a saved template is
//! seen inside its area and above it, not in another town; only its author
//! or the town's office deletes it; names are unique per area; bad
//! questions get their 4xx codes; a download through a template is logged
//! under it; templates outlive a restart.

mod http_support;

use http_support::{
    get_as, id_of, other_town, percent, post, request, request_body, small_city, start, token,
    Reply,
};
use serde_json::{json, Value};

fn delete(a: &str, path: &str, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    request(a, "DELETE", path, &[("Authorization", auth.as_str())])
}

fn save(a: &str, token: &str, body: Value) -> Reply {
    post(a, "/api/table/templates", Some(token), &body.to_string())
}

fn ids(a: &str, token: &str) -> Vec<String> {
    get_as(a, "/api/table/templates", token).json()["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// What a table answer says, without its timing.
fn table(a: &str, token: &str, query: &str) -> Value {
    let r = get_as(a, &format!("/api/table?{query}"), token);
    assert_eq!(
        r.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    json!({"fields": v["fields"], "rows": v["rows"], "total": v["total"], "filter": v["filter"]})
}

/// Two files with the same text, else the first line that differs.
fn same_text(a: &[u8], b: &[u8]) {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    if a != b {
        let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
        panic!(
            "{} vs {} lines; first difference at line {line:?}: {:?} vs {:?}",
            a.lines().count(),
            b.lines().count(),
            line.and_then(|i| a.lines().nth(i)),
            line.and_then(|i| b.lines().nth(i)),
        );
    }
}

#[test]
fn templates_end_to_end() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let any = token(&city, "viewer", "city", "看");
    let loc = get_as(a, "/api/locate?lon=119.0&lat=25.45", &any).json();
    let (town, grid) = (id_of(&loc["town"]["id"]), id_of(&loc["grid"]["id"]));
    let far_town = other_town(a, town);
    drop(server);
    let office = token(&city, "town_office", &format!("area:{town}"), "镇综治办");
    let office2 = token(&city, "town_office", &format!("area:{town}"), "镇民政办");
    let far = token(&city, "town_office", &format!("area:{far_town}"), "别镇");
    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长");
    let viewer = token(&city, "viewer", "city", "审计");
    let feed = token(&city, "ship_feed", "city", "feed");

    let server = start(&city);
    let a = server.addr.as_str();

    // Every account that reads the table sees the standard templates; a
    // ship feed and nobody do not.
    let doc = get_as(a, "/api/table/templates", &leader).json();
    let standard: Vec<Value> = doc["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["standard"] == true)
        .cloned()
        .collect();
    assert!(standard.len() >= 5, "{doc}");
    assert_eq!(
        get_as(a, "/api/table/templates", &feed).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        http_support::get(a, "/api/table/templates").error(),
        (401, "unauthorized".into())
    );
    // Each makes the table its ledger, fields and filter make.
    for t in &standard {
        let id = t["id"].as_str().unwrap();
        assert!(id.starts_with("std:"), "{t}");
        let direct = format!(
            "ledger={}&{}&limit=30",
            t["ledger"].as_str().unwrap(),
            t["params"].as_str().unwrap()
        );
        let via = format!("template={}&limit=30", percent(id));
        // Overdue events are few in the small city and move with the
        // clock: asked of the whole city when the town has none.
        let who = if t["ledger"] == "events" && table(a, &office, &direct)["total"] == 0 {
            &viewer
        } else {
            &office
        };
        let want = table(a, who, &direct);
        assert!(
            want["total"].as_u64().unwrap() > 0,
            "{id} finds nothing in the town (or the city)"
        );
        assert_eq!(table(a, who, &via), want, "{id}");
        // ?ledger= keeps one ledger's.
        let only = get_as(
            a,
            &format!(
                "/api/table/templates?ledger={}",
                t["ledger"].as_str().unwrap()
            ),
            &office,
        )
        .json();
        assert!(only["templates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["ledger"] == t["ledger"]));
    }
    // Request parameters after a template: fields replace, filters narrow.
    let narrowed = table(a, &office, "template=std%3Acare&sex=female&fields=name,sex");
    assert_eq!(
        narrowed,
        table(
            a,
            &office,
            "ledger=people&tags=care&sex=female&fields=name,sex"
        )
    );

    // The town's office saves one, shared in its town by default.
    let params = "fields=name,age,phone&tags=care&age_max=60";
    let r = save(
        a,
        &office,
        json!({"name": "60岁以下关爱人群", "ledger": "people", "params": " fields=name,age,phone&&tags=care&age_max=60 "}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let saved = r.json();
    assert_eq!(saved["area"], json!(town.to_string()));
    assert_eq!(saved["author"], "镇综治办");
    assert_eq!(saved["params"], params);
    assert_eq!(saved["deletable"], true);
    let sid = saved["id"].as_str().unwrap().to_string();

    // Seen inside the town and above it; not in another town.
    assert!(ids(a, &leader).contains(&sid));
    assert!(ids(a, &viewer).contains(&sid));
    assert!(ids(a, &office2).contains(&sid));
    assert!(!ids(a, &far).contains(&sid));
    // The grid leader's table through it is the grid's rows of that question.
    assert_eq!(
        table(a, &leader, &format!("template={sid}")),
        table(a, &leader, &format!("ledger=people&{params}"))
    );
    assert_eq!(
        get_as(a, &format!("/api/table?template={sid}"), &far).error(),
        (404, "unknown_template".into())
    );

    // Names are unique per area: again in the town 409; in another town fine.
    assert_eq!(
        save(
            a,
            &office2,
            json!({"name": " 60岁以下关爱人群 ", "ledger": "houses"})
        )
        .error(),
        (409, "template_exists".into())
    );
    let r = save(
        a,
        &far,
        json!({"name": "60岁以下关爱人群", "ledger": "people", "params": params}),
    );
    assert_eq!(r.status, 201);
    let far_id = r.json()["id"].as_str().unwrap().to_string();

    // A grid leader shares within its grid, not its town.
    assert_eq!(
        save(
            a,
            &leader,
            json!({"name": "x", "ledger": "houses", "area": town.to_string()})
        )
        .error(),
        (403, "forbidden".into())
    );
    let r = save(
        a,
        &leader,
        json!({"name": "本网格危房", "ledger": "houses", "params": "safety=c|d"}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let mine = r.json();
    assert_eq!(mine["area"], json!(grid.to_string()));
    assert_eq!(mine["params"], "safety=c|d");
    let mine_id = mine["id"].as_str().unwrap().to_string();
    assert!(
        ids(a, &office).contains(&mine_id),
        "the town sees its grid's"
    );
    assert!(!ids(a, &far).contains(&mine_id));

    // Bad questions.
    let long = "名".repeat(61);
    let bad: Vec<(Value, u16, &str)> = vec![
        (json!({"name": "", "ledger": "people"}), 422, "invalid_name"),
        (
            json!({"name": "a\u{1}b", "ledger": "people"}),
            422,
            "invalid_name",
        ),
        (
            json!({"name": long, "ledger": "people"}),
            422,
            "invalid_name",
        ),
        (json!({"name": "t", "ledger": "cars"}), 422, "unknown_value"),
        (
            json!({"name": "t", "ledger": "people", "params": "area=350304"}),
            400,
            "bad_query",
        ),
        (
            json!({"name": "t", "ledger": "people", "params": "format=csv"}),
            400,
            "bad_query",
        ),
        (
            json!({"name": "t", "ledger": "people", "params": "fields=nope"}),
            422,
            "unknown_value",
        ),
        (
            json!({"name": "t", "ledger": "people", "params": "tags=nope"}),
            422,
            "unknown_value",
        ),
        (
            json!({"name": "t", "ledger": "people", "params": "age_min=old"}),
            400,
            "bad_number",
        ),
        (
            json!({"name": "t", "ledger": "people", "area": "abc"}),
            400,
            "invalid_area_id",
        ),
        (
            json!({"name": "t", "ledger": "people", "area": "350399999"}),
            404,
            "unknown_area",
        ),
        (
            json!({"name": "t", "ledger": "people", "colour": "red"}),
            422,
            "invalid_body",
        ),
        (json!({"ledger": "people"}), 422, "invalid_body"),
    ];
    for (body, status, code) in bad {
        assert_eq!(
            save(a, &office, body.clone()).error(),
            (status, code.into()),
            "{body}"
        );
    }
    let r = request_body(
        a,
        "POST",
        "/api/table/templates",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &format!("Bearer {office}")),
        ],
        Some("{not json"),
    );
    assert_eq!(r.error().0, 400);
    let big = json!({"name": "t", "ledger": "people", "params": "x".repeat(9000)});
    assert_eq!(
        save(a, &office, big).error(),
        (413, "body_too_large".into())
    );
    assert_eq!(
        save(a, &feed, json!({"name": "t", "ledger": "people"})).error(),
        (403, "forbidden".into())
    );
    for (q, status, code) in [
        ("template=abc", 400, "bad_query"),
        ("template=999999", 404, "unknown_template"),
        ("template=std%3Anone", 400, "bad_query"),
        ("template=std%3Acare&ledger=houses", 400, "bad_query"),
    ] {
        assert_eq!(
            get_as(a, &format!("/api/table?{q}"), &office).error(),
            (status, code.into()),
            "{q}"
        );
    }

    // Deleting: the author or the town's office; not a viewer, not another
    // town, never a standard template.
    assert_eq!(
        delete(a, &format!("/api/table/templates/{sid}"), &leader).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        delete(a, &format!("/api/table/templates/{sid}"), &viewer).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        delete(a, &format!("/api/table/templates/{sid}"), &far).error(),
        (404, "unknown_template".into())
    );
    assert_eq!(
        delete(a, "/api/table/templates/std%3Acare", &office).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        delete(a, "/api/table/templates/abc", &office).error(),
        (400, "bad_query".into())
    );
    let r = delete(a, &format!("/api/table/templates/{mine_id}"), &office2);
    assert_eq!(r.status, 200, "the town's office deletes its grid's");
    assert_eq!(r.json()["deleted"]["id"], json!(mine_id));
    assert_eq!(
        delete(a, &format!("/api/table/templates/{mine_id}"), &office2).error(),
        (404, "unknown_template".into())
    );

    // A download through a template is logged under it.
    let r = get_as(
        a,
        &format!("/api/table/download?template={sid}&format=csv"),
        &office,
    );
    assert_eq!(r.status, 200);
    let log = get_as(a, "/api/table/downloads?limit=1", &viewer).json();
    let filter = log["downloads"][0]["filter"].as_str().unwrap();
    assert!(filter.starts_with(&format!("template={sid}&")), "{filter}");

    // The command line takes the same templates and writes the same bytes:
    // a saved one from the city's store, in the clear as the office sees
    // it; a standard one masked, as a city-wide viewer downloads it.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(http_support::BIN)
            .arg("table")
            .args(args)
            .args([
                "--area",
                &town.to_string(),
                "--data",
                city.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    same_text(&cli(&["--template", &sid, "--personal"]), &r.body);
    let viewer_csv = get_as(
        a,
        &format!("/api/table/download?template=std%3Acare&format=csv&area={town}"),
        &viewer,
    );
    assert_eq!(viewer_csv.status, 200);
    same_text(&cli(&["--template", "std:care"]), &viewer_csv.body);
    let bad = std::process::Command::new(http_support::BIN)
        .args([
            "table",
            "--template",
            "999",
            "--data",
            city.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no saved template 999"));

    // After a restart the saved ones are there, the deleted one is not.
    drop(server);
    let server = start(&city);
    let a = server.addr.as_str();
    let after = ids(a, &viewer);
    assert!(after.contains(&sid) && after.contains(&far_id));
    assert!(!after.contains(&mine_id));
    let r = delete(a, &format!("/api/table/templates/{sid}"), &office);
    assert_eq!(r.status, 200, "its author deletes it");
    assert!(!ids(a, &leader).contains(&sid));
}
