//! The events ledger (事件台账) of the one table, end to end: the real
//! `onemap` binary serves a small city; the table's events are checked
//! against the map's own answers, which other code computes — the events
//! of a town and their units (`/api/features/events`), the overdue report
//! (`/api/overdue`, counted from the index's cut-offs), the time filter of
//! the features — and a report made through the event loop is in the
//! ledger at once. The CLI writes the same CSV as the download, and the
//! GeoPackage reads back (sqlite3, not our code) equal to the answer.

mod http_support;

use http_support::{check_file, get_as, id_of, post, small_city, start, token};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_onemap");

/// Every row of a table (downloaded as CSV, read by Python's csv), keyed
/// by the first field.
fn csv_rows(a: &str, token: &str, query: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let r = get_as(a, &format!("/api/table/download?format=csv&{query}"), token);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let text = String::from_utf8(r.body).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a BOM");
    let mut lines = text.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    // No field of these tables holds a comma or a quote.
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (head, rows)
}

fn feature_events(a: &str, token: &str, query: &str) -> BTreeMap<u64, Value> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("/api/features/events?{query}&limit=1000&cursor={c}"),
            None => format!("/api/features/events?{query}&limit=1000"),
        };
        let doc = get_as(a, &page, token).json();
        for f in doc["features"].as_array().unwrap() {
            let mut p = f["properties"].clone();
            p["lonlat"] = f["geometry"]["coordinates"].clone();
            out.insert(f["id"].as_u64().unwrap(), p);
        }
        match doc["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[test]
fn the_events_ledger_is_the_live_city_s_events() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let loc = http_support::get(a, "/api/locate?lon=119.0&lat=25.45").json();
    let (town, grid, unit) = (
        id_of(&loc["town"]["id"]),
        id_of(&loc["grid"]["id"]),
        id_of(&loc["unit"]["id"]),
    );
    drop(server);
    let viewer = token(&city, "viewer", "city", "审计");
    let office = token(&city, "town_office", &format!("area:{town}"), "街道办");
    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长");
    let server = start(&city);
    let a = server.addr.as_str();

    // Listed with the other ledgers, its rows the events in units.
    let doc = get_as(a, "/api/ledgers", &office).json();
    let ev = doc["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "events")
        .expect("an events ledger");
    assert_eq!(ev["zh"], "事件台账");
    assert_eq!(ev["has_position"], true);

    // A town's events: the same ids, units, categories, statuses and
    // times as the map's features of the town.
    let map = feature_events(a, &viewer, &format!("area={town}"));
    assert!(map.len() > 50, "{} events in the town", map.len());
    let (head, rows) = csv_rows(
        a,
        &office,
        &format!(
            "ledger=events&area={town}&lang=en&fields=event_id,area_id,category,status,reported,updated,closed"
        ),
    );
    assert_eq!(
        head,
        [
            "event no.",
            "area code",
            "category",
            "status",
            "reported",
            "status since",
            "closed"
        ]
    );
    let en = |v: &Value| v.as_str().unwrap().replace('_', " ");
    let time = |t: &Value| {
        // China time, as the table writes it.
        let s = t.as_i64().unwrap() + 8 * 3600;
        let (d, r) = (s.div_euclid(86_400), s.rem_euclid(86_400));
        let (y, m, dd) = civil(d);
        format!(
            "{y:04}-{m:02}-{dd:02} {:02}:{:02}:{:02}",
            r / 3600,
            r / 60 % 60,
            r % 60
        )
    };
    let got: BTreeMap<u64, Vec<String>> = rows
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[1..].to_vec()))
        .collect();
    assert_eq!(got.len(), rows.len(), "an event twice");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        map.keys().collect::<Vec<_>>()
    );
    for (id, p) in &map {
        let want = vec![
            p["unit"].as_str().unwrap().to_string(),
            en(&p["category"]),
            en(&p["status"]),
            time(&p["reported_at"]),
            time(&p["status_at"]),
            if p["closed_at"].is_null() {
                String::new()
            } else {
                time(&p["closed_at"])
            },
        ];
        assert_eq!(got[id], want, "event {id}");
    }

    // Overdue, as the overdue report counts it, city-wide.
    let report = get_as(a, "/api/overdue?limit=1000", &viewer).json();
    let mut want: Vec<u64> = report["report"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    want.sort_unstable();
    assert!(!want.is_empty(), "the demo city has overdue events");
    assert_eq!(
        want.len() as u64,
        report["report"]["total"].as_u64().unwrap()
    );
    let (_, rows) = csv_rows(a, &viewer, "ledger=events&overdue=true&fields=event_id");
    let mut got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, want);
    // The standard template says the same.
    let (_, rows) = csv_rows(a, &viewer, "template=std:overdue_events&fields=event_id");
    let mut by_template: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    by_template.sort_unstable();
    assert_eq!(by_template, want);

    // Report times and filters: the same events as the map's time filter,
    // narrowed by category and status.
    let window = "from=2025-01-01&to=2025-07-01";
    let map = feature_events(a, &viewer, &format!("area={town}&{window}"));
    let want: Vec<u64> = map
        .iter()
        .filter(|(_, p)| p["category"] == "road" || p["category"] == "drainage")
        .filter(|(_, p)| p["status"] == "closed")
        .map(|(id, _)| *id)
        .collect();
    assert!(!want.is_empty());
    let (_, rows) = csv_rows(
        a,
        &office,
        &format!(
            "ledger=events&area={town}&reported_from=2025-01-01&reported_to=2025-07-01&category=road|drainage&status=closed&fields=event_id"
        ),
    );
    let mut got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, want);

    // Live: a report made now is a row at once, reported, not overdue.
    let before = get_as(
        a,
        &format!("/api/table?ledger=events&area={unit}&limit=0"),
        &leader,
    )
    .json()["total"]
        .as_u64()
        .unwrap();
    let (lon, lat) = (
        loc["lon"].as_f64().unwrap_or(119.0),
        loc["lat"].as_f64().unwrap_or(25.45),
    );
    let r = post(
        a,
        "/api/events",
        Some(&leader),
        &json!({"lon": lon, "lat": lat, "category": "road", "description": "路灯不亮", "idempotency_key": "ledger-1"})
            .to_string(),
    );
    assert!(
        r.status == 200 || r.status == 201,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let id = id_of(&r.json()["event"]["id"]);
    let now = get_as(
        a,
        &format!("/api/table?ledger=events&area={unit}&event_id=1&fields=event_id,status,overdue,due&lang=en&limit=500"),
        &leader,
    );
    // event_id is not a coded field: it cannot filter.
    assert_eq!(now.error(), (422, "unknown_value".into()));
    let now = get_as(
        a,
        &format!("/api/table?ledger=events&area={unit}&fields=event_id,status,overdue,due&lang=en&limit=500"),
        &leader,
    )
    .json();
    assert_eq!(now["total"].as_u64().unwrap(), before + 1);
    let row = now["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0].as_u64() == Some(id))
        .expect("the new report in the ledger");
    assert_eq!(row[1], "reported");
    assert_eq!(row[2], false);
    assert!(row[3].is_string(), "a report is due to be judged: {row:?}");

    // Questions the events ledger cannot answer.
    for (q, code) in [
        ("ledger=events&age_min=3", "unknown_value"),
        ("ledger=people&reported_from=2025-01-01", "unknown_value"),
        ("ledger=events&status=lost", "unknown_value"),
        ("ledger=events&reported_from=yesterday", "bad_time"),
    ] {
        let r = get_as(a, &format!("/api/table?{q}"), &viewer);
        assert_eq!(r.error().1, code, "{q}");
        assert!(r.status >= 400 && r.status < 500, "{q}");
    }

    // The GeoPackage of the town's closed road events reads back as the
    // answer (tests/tools/table_check.py with sqlite3).
    let q = format!("ledger=events&area={town}&status=closed&category=road&fields=event_id,category,reported,closed,village");
    let mut answer = get_as(a, &format!("/api/table?{q}&limit=500"), &office).json();
    assert!(answer["total"].as_u64().unwrap() > 0);
    // Each row's point where the map puts the event.
    let all = feature_events(a, &viewer, &format!("area={town}"));
    answer["positions"] = answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| all[&r[0].as_u64().unwrap()]["lonlat"].clone())
        .collect();
    let gpkg = get_as(a, &format!("/api/table/download?format=gpkg&{q}"), &office);
    assert_eq!(gpkg.status, 200);
    check_file("gpkg", &gpkg.body, &answer);

    // The command line writes the same CSV as the download (closed events:
    // nothing in them moves with the clock).
    let q = format!("ledger=events&area={town}&status=closed&fields=event_id,category,status,reported,closed,town,village,unit");
    let api = get_as(a, &format!("/api/table/download?format=csv&{q}"), &office).body;
    drop(server);
    let out = Command::new(BIN)
        .args(["table", "--ledger", "events", "--area", &town.to_string()])
        .args(["--where", "status=closed"])
        .args([
            "--fields",
            "event_id,category,status,reported,closed,town,village,unit",
        ])
        .arg("--data")
        .arg(&city)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(api).unwrap()
    );
}

/// (year, month, day) of a day count since 1970-01-01 (Hinnant's
/// algorithm), written here rather than taken from the engine.
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
