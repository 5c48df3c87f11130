//! The one table end to end: the real `onemap` binary serves a small
//! generated city with its ledgers; accounts of every role ask for tables
//! and download them. Rows stay inside the account's area, personal fields
//! are in the clear only for unit leaders and town offices, every download
//! is in the log, and the files read back by Python's csv, openpyxl and
//! sqlite3 (not our code) equal the engine's own answer.

mod http_support;

use http_support::{check_file, get, get_as, id_of, other_town, small_city, start, token, Reply};
use serde_json::{json, Value};

fn table(a: &str, token: &str, query: &str) -> Reply {
    get_as(a, &format!("/api/table?{query}"), token)
}

fn column<'a>(doc: &'a Value, key: &str) -> Vec<&'a Value> {
    let i = doc["fields"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key} in {}", doc["fields"]));
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r[i])
        .collect()
}

#[test]
fn the_one_table_end_to_end() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let loc = get(a, "/api/locate?lon=119.0&lat=25.45").json();
    let (town, village, grid) = (
        id_of(&loc["town"]["id"]),
        id_of(&loc["village"]["id"]),
        id_of(&loc["grid"]["id"]),
    );
    let town_name = loc["town"]["name"].as_str().unwrap().to_string();
    let grid_name = loc["grid"]["name"].as_str().unwrap().to_string();
    let far_town = other_town(a, town);
    drop(server);
    let office = token(&city, "town_office", &format!("area:{town}"), "街道办");
    let far_office = token(&city, "town_office", &format!("area:{far_town}"), "别处");
    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长");
    let viewer = token(&city, "viewer", "city", "审计");
    let civil = token(&city, "department", "department:民政局", "民政局");
    let feed = token(&city, "ship_feed", "city", "feed");

    let server = start(&city);
    let a = server.addr.as_str();

    // Nobody without an account; not a ship feed.
    assert_eq!(get(a, "/api/ledgers").error(), (401, "unauthorized".into()));
    assert_eq!(
        get(a, "/api/table?ledger=people").error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        get_as(a, "/api/ledgers", &feed).error(),
        (403, "forbidden".into())
    );

    // The registry: nine ledgers with rows, the office's area, personal.
    let doc = get_as(a, "/api/ledgers", &office).json();
    let keys: Vec<&str> = doc["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "people",
            "houses",
            "cadres",
            "projects",
            "enterprises",
            "schools",
            "heritage",
            "homesteads",
            "events"
        ]
    );
    assert!(doc["ledgers"][0]["rows"].as_u64().unwrap() > 10_000);
    assert_eq!(
        doc["access"],
        json!({"area": town.to_string(), "personal": true})
    );
    assert_eq!(
        get_as(a, "/api/ledgers", &viewer).json()["access"]["personal"],
        false
    );

    // The places' ledgers hold the town's enterprises, schools and heritage
    // sites as the map's layers do, each in the unit the map puts it in.
    for (layer, key) in [
        ("enterprises", "enterprise_id"),
        ("schools", "school_id"),
        ("heritage", "heritage_id"),
    ] {
        let map = get_as(
            a,
            &format!("/api/features/{layer}?area={town}&limit=10000"),
            &viewer,
        )
        .json();
        let mut want: Vec<(String, String)> = map["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].to_string(),
                    f["properties"]["unit"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let t = table(
            a,
            &viewer,
            &format!("ledger={layer}&area={town}&fields={key},area_id&limit=500"),
        )
        .json();
        let mut got: Vec<(String, String)> = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].to_string(),
                    r[1].as_str().map_or(r[1].to_string(), str::to_string),
                )
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(t["total"].as_u64().unwrap() as usize, want.len(), "{layer}");
        assert_eq!(got, want, "{layer}");
    }

    // The care group of a village, with personal fields.
    let q = format!(
        "ledger=people&area={village}&tags=care&fields=person_id,name,id_number,phone,illness,birth,age,town,tags,updated&limit=500"
    );
    let open = table(a, &office, &q);
    assert_eq!(open.status, 200, "{}", String::from_utf8_lossy(&open.body));
    assert_eq!(open.header("cache-control"), Some("private, no-store"));
    let open = open.json();
    let n = open["total"].as_u64().unwrap();
    assert!(n > 10 && n <= 500, "{n} people in the care group");
    assert_eq!(open["shown"], n);
    for t in column(&open, "town") {
        assert_eq!(t, &town_name);
    }
    for tags in column(&open, "tags") {
        let t = tags.as_str().unwrap();
        assert!(
            ["独居老人", "留守儿童", "残疾人", "低保户", "重病患者"]
                .iter()
                .any(|c| t.contains(c)),
            "{t}"
        );
    }
    for id in column(&open, "id_number") {
        let s = id.as_str().unwrap();
        assert!(s.len() == 18 && !s.contains('*'), "{s}");
    }
    // The same rows, masked, for the city's auditor and for a department.
    for who in [&viewer, &civil] {
        let masked = table(a, who, &q).json();
        assert_eq!(masked["total"], n);
        assert_eq!(column(&masked, "person_id"), column(&open, "person_id"));
        for (m, o) in column(&masked, "id_number")
            .iter()
            .zip(column(&open, "id_number"))
        {
            let (m, o) = (m.as_str().unwrap(), o.as_str().unwrap());
            assert_eq!(m, format!("{}********{}", &o[..6], &o[14..]));
        }
        for (m, o) in column(&masked, "phone").iter().zip(column(&open, "phone")) {
            match (m.as_str(), o.as_str()) {
                (Some(m), Some(o)) => assert_eq!(m, format!("{}****{}", &o[..3], &o[7..])),
                // A child has no phone of its own: nothing to mask.
                _ => assert!(m.is_null() && o.is_null(), "{m} / {o}"),
            }
        }
        for (m, o) in column(&masked, "name").iter().zip(column(&open, "name")) {
            let (m, o) = (m.as_str().unwrap(), o.as_str().unwrap());
            assert_eq!(m.chars().next(), o.chars().next());
            assert!(m.chars().skip(1).all(|c| c == '*'), "{m}");
        }
        for m in column(&masked, "illness") {
            assert_eq!(m, "***");
        }
        let masked_fields: Vec<&str> = masked["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["masked"] == true)
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        assert_eq!(masked_fields, ["name", "id_number", "phone", "illness"]);
    }

    // Area codes are text in JSON: a browser reads 18-digit integers inexactly.
    let codes = table(
        a,
        &office,
        &format!("ledger=people&area={village}&fields=area_id&limit=3"),
    )
    .json();
    for c in column(&codes, "area_id") {
        let c = c
            .as_str()
            .unwrap_or_else(|| panic!("area code as a number: {c}"));
        assert!(c.len() == 18 && c.starts_with(&village.to_string()), "{c}");
    }

    // Rows stay in the account's area.
    assert_eq!(
        table(a, &far_office, &format!("ledger=people&area={village}")).error(),
        (403, "forbidden".into())
    );
    let own = table(a, &far_office, "ledger=people&fields=town&limit=500").json();
    assert!(own["total"].as_u64().unwrap() > 0);
    let far_name = column(&own, "town")[0].clone();
    assert_ne!(far_name, json!(town_name));
    assert!(column(&own, "town").iter().all(|t| **t == far_name));
    let mine = table(a, &leader, "ledger=houses&fields=grid&limit=500").json();
    assert!(mine["total"].as_u64().unwrap() > 0);
    assert!(column(&mine, "grid")
        .iter()
        .all(|g| **g == json!(grid_name)));
    assert_eq!(
        table(a, &leader, &format!("ledger=houses&area={town}")).error(),
        (403, "forbidden".into())
    );

    // Bad questions say what is allowed.
    for (query, status, code) in [
        ("fields=name", 400, "missing_parameter"),
        ("ledger=nope", 422, "unknown_value"),
        ("ledger=people&fields=name,wat", 422, "unknown_value"),
        ("ledger=people&tags=nope", 422, "unknown_value"),
        ("ledger=people&name=x", 422, "unknown_value"),
        ("ledger=people&limit=501", 422, "invalid_limit"),
        ("ledger=people&limit=-1", 400, "bad_number"),
        ("ledger=people&area=12", 400, "invalid_area_id"),
        ("ledger=people&area=999999", 404, "unknown_area"),
        ("ledger=people&updated_from=yesterday", 400, "bad_time"),
        ("ledger=people&colour=red", 400, "bad_query"),
    ] {
        assert_eq!(
            table(a, &viewer, query).error(),
            (status, code.to_string()),
            "{query}"
        );
    }

    // Downloads: the same rows as the preview, read by other readers.
    let dl = |who: &str, query: &str, format: &str| -> Reply {
        get_as(
            a,
            &format!("/api/table/download?{query}&format={format}"),
            who,
        )
    };
    let csv = dl(&office, &q, "csv");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains(&format!("people-{village}-")));
    assert_eq!(csv.header("x-table-rows"), Some(n.to_string().as_str()));
    check_file("csv", &csv.body, &open);
    let xlsx = dl(&office, &q, "xlsx");
    assert_eq!(xlsx.status, 200);
    check_file("xlsx", &xlsx.body, &open);
    // In English, masked, for the auditor.
    let q_en = format!("{q}&lang=en");
    let masked_en = table(a, &viewer, &q_en).json();
    assert_eq!(masked_en["fields"][1]["label"], "name");
    let mut exp = masked_en.clone();
    exp["lang"] = json!("en");
    check_file("csv", &dl(&viewer, &q_en, "csv").body, &exp);
    check_file("xlsx", &dl(&viewer, &q_en, "xlsx").body, &exp);
    // Houses as a GeoPackage, their positions those of the preview.
    let hq = format!("ledger=houses&area={village}&fields=house_id,address,floors,floor_area,safety,built,updated&limit=500");
    let houses = table(a, &office, &hq).json();
    let pos = table(
        a,
        &office,
        &format!("ledger=houses&area={village}&fields=lon,lat&limit=500"),
    )
    .json();
    let mut exp = houses.clone();
    exp["positions"] = pos["rows"].clone();
    let gpkg = dl(&office, &hq, "gpkg");
    assert_eq!(gpkg.status, 200, "{}", String::from_utf8_lossy(&gpkg.body));
    check_file("gpkg", &gpkg.body, &exp);
    assert_eq!(
        dl(&office, &q, "gpkg").error(),
        (422, "not_applicable".into())
    );
    assert_eq!(
        get_as(a, &format!("/api/table/download?{q}"), &office).error(),
        (400, "missing_parameter".into())
    );

    // The log: every download, newest first, for city-wide accounts only.
    assert_eq!(
        get_as(a, "/api/table/downloads", &office).error(),
        (403, "forbidden".into())
    );
    let log = get_as(a, "/api/table/downloads?limit=10", &viewer).json();
    let log = log["downloads"].as_array().unwrap();
    let summary: Vec<(String, String, bool, u64)> = log
        .iter()
        .map(|d| {
            (
                d["actor"].as_str().unwrap().to_string(),
                d["format"].as_str().unwrap().to_string(),
                d["personal"].as_bool().unwrap(),
                d["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    let hn = houses["total"].as_u64().unwrap();
    assert_eq!(
        summary,
        [
            // No personal field among the houses' fields asked.
            ("街道办".into(), "gpkg".into(), false, hn),
            ("审计".into(), "xlsx".into(), false, n),
            ("审计".into(), "csv".into(), false, n),
            ("街道办".into(), "xlsx".into(), true, n),
            ("街道办".into(), "csv".into(), true, n),
        ]
    );
    assert_eq!(log[4]["role"], "town_office");
    assert_eq!(log[4]["scope"], format!("area:{town}"));
    assert!(log[4]["filter"].as_str().unwrap().contains("tags=care"));
    assert!(log[4]["fields"]
        .as_str()
        .unwrap()
        .starts_with("person_id,name,id_number"));

    // The page itself is served.
    let page = get(a, "/table");
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("table.js"));
}
