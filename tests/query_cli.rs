//! End-to-end: `onemap query` answers the example questions on a small
//! city, as JSON equal to the index's own answers and as readable tables,
//! and refuses bad input with one line on stderr and a non-zero exit.

mod http_support;

use onemap_core::{HomesteadStatus, Layer, Level};
use onemap_index::{
    City, EventFilter, GroupBy, HotspotPlace, HotspotQuery, PageRequest, StatsQuery, TimeWindow,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    city: City,
}

/// One small city for every test here, and the index built from its files.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("city");
        let out = Command::new(env!("CARGO_BIN_EXE_onemap"))
            .args(["synth", "--seed", "5", "--scale", "0.02", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "synth: {}", text(&out));
        let (_, data) = onemap_store::read_city_dir(&dir).unwrap();
        Fixture {
            city: City::build(data).unwrap(),
            dir,
            _tmp: tmp,
        }
    })
}

fn query(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onemap"))
        .arg("query")
        .arg("--data")
        .arg(dir)
        .args(args)
        .output()
        .expect("run onemap")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs a query that must succeed and returns its standard output.
fn ok(args: &[&str]) -> String {
    let out = query(&fixture().dir, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    assert!(out.stderr.is_empty() || !text(&out).contains("error"));
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
}

/// The value as the CLI prints it, read back the same way (serde_json's
/// reader may round the last digit of a float: both sides alike), ids
/// beyond 2^53 as strings (as the API gives them).
fn same<T: serde::Serialize>(v: &T) -> Value {
    onemap_index::js_safe(serde_json::from_str(&serde_json::to_string_pretty(v).unwrap()).unwrap())
}

/// A point inside some unit: the first event's position.
fn inland() -> (f64, f64) {
    let f = fixture()
        .city
        .features_in_area(
            Layer::Events,
            fixture().city.areas().level(Level::District)[0].id,
            &EventFilter::default(),
            &PageRequest::first(1),
        )
        .unwrap();
    (f.features[0].lon, f.features[0].lat)
}

#[test]
fn locate_answers_with_the_chain_of_areas() {
    let (lon, lat) = inland();
    let (x, y) = (lon.to_string(), lat.to_string());
    let want = fixture().city.locate(lon, lat).unwrap().expect("in a unit");
    let got = json(&["locate", &x, &y]);
    assert_eq!(got, same(&want));
    // A unit's 18 digits are a string, exact in any reader; a district's
    // 6 a number (as the API answers).
    assert_eq!(got["unit"]["id"], want.unit.id.get().to_string());
    assert_eq!(got["district"]["id"], want.district.id.get());
    let table = ok(&["--table", "locate", &x, &y]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 5, "{table}");
    for (row, r) in rows.iter().zip([
        &want.district,
        &want.town,
        &want.village,
        &want.grid,
        &want.unit,
    ]) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols, [r.level.as_str(), &r.id.get().to_string(), &*r.name]);
    }
    // At sea, east of the extent's land.
    assert_eq!(json(&["locate", "119.64", "24.99"]), Value::Null);
    assert_eq!(
        ok(&["--table", "locate", "119.64", "24.99"]).trim(),
        "outside the city (at sea)"
    );
}

#[test]
fn near_answers_the_nearest_with_distances() {
    let (lon, lat) = inland();
    let (x, y) = (lon.to_string(), lat.to_string());
    let want = fixture()
        .city
        .nearest(Layer::Events, lon, lat, 5, None, &EventFilter::default())
        .unwrap();
    let got = json(&["near", "events", &x, &y, "-k", "5"]);
    assert_eq!(got, same(&want));
    let table = ok(&["--table", "near", "events", &x, &y, "-k", "5"]);
    assert_eq!(table.lines().count(), 1 + want.len(), "{table}");
    let first: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(first[0], want[0].feature.id.to_string());
    assert_eq!(first[1], format!("{:.1}", want[0].distance_m));
    // Nearest idle homesteads within 20 km: only idle ones, none farther.
    let idle = EventFilter {
        homestead_statuses: Some(vec![HomesteadStatus::Idle]),
        ..Default::default()
    };
    let want = fixture()
        .city
        .nearest(Layer::Homesteads, lon, lat, 20, Some(20_000.0), &idle)
        .unwrap();
    assert!(!want.is_empty(), "idle homesteads within 20 km");
    let got = json(&[
        "near",
        "homesteads",
        &x,
        &y,
        "-k",
        "20",
        "--max-distance",
        "20000",
        "--status",
        "idle",
    ]);
    assert_eq!(got, same(&want));
    for n in got.as_array().unwrap() {
        assert!(n["distance_m"].as_f64().unwrap() <= 20_000.0);
        assert_eq!(n["feature"]["properties"]["status"], "idle", "{n}");
    }
}

#[test]
fn stats_by_village_in_a_window() {
    let args = [
        "stats",
        "--by",
        "village",
        "--from",
        "2025-01-01",
        "--to",
        "2026-01-01",
    ];
    let window = TimeWindow::new(
        onemap_core::time::parse_time("2025-01-01"),
        onemap_core::time::parse_time("2026-01-01"),
    )
    .unwrap();
    let want = fixture()
        .city
        .event_stats(&StatsQuery {
            group_by: GroupBy::Level(Level::Village),
            window,
            scope: None,
        })
        .unwrap();
    assert!(want.overall.figures.total > 0, "the window holds events");
    assert_eq!(json(&args), same(&want));
    let mut table_args = vec!["--table"];
    table_args.extend(args);
    let table = ok(&table_args);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), want.groups.len() + 2, "{table}");
    let all: Vec<&str> = rows.last().unwrap().split_whitespace().collect();
    assert_eq!(all[0], want.overall.figures.total.to_string());
    assert_eq!(all[1], want.overall.figures.open.to_string());
    assert_eq!(all[3], "all");
}

#[test]
fn hotspots_rank_the_places_that_keep_coming_back() {
    let want = fixture()
        .city
        .hotspots(&HotspotQuery {
            window: TimeWindow::ALL,
            place: HotspotPlace::Unit,
            min_count: 40,
            categories: None,
            scope: None,
            limit: 20,
        })
        .unwrap();
    assert!(!want.is_empty(), "the small city has hot spots of 40+");
    let got = json(&["hotspots", "--place", "unit", "--min-count", "40"]);
    assert_eq!(got, same(&want));
    let table = ok(&[
        "--table",
        "hotspots",
        "--place",
        "unit",
        "--min-count",
        "40",
    ]);
    assert_eq!(table.lines().count(), 1 + want.len(), "{table}");
    let first: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(first[0], want[0].count.to_string());
    assert_eq!(first[2], want[0].category.as_str());
}

#[test]
fn idle_homesteads_in_a_town() {
    let city = &fixture().city;
    let town = city
        .areas()
        .level(Level::Town)
        .iter()
        .map(|t| t.id)
        .max_by_key(|&t| {
            city.features_in_area(
                Layer::Homesteads,
                t,
                &EventFilter::default(),
                &PageRequest::first(10_000),
            )
            .unwrap()
            .features
            .len()
        })
        .unwrap();
    let idle = EventFilter {
        homestead_statuses: Some(vec![HomesteadStatus::Idle]),
        ..Default::default()
    };
    let want = city
        .features_in_area(Layer::Homesteads, town, &idle, &PageRequest::first(10_000))
        .unwrap();
    let all = city
        .features_in_area(
            Layer::Homesteads,
            town,
            &EventFilter::default(),
            &PageRequest::first(10_000),
        )
        .unwrap();
    assert!(!want.features.is_empty() && want.features.len() < all.features.len());
    let t = town.get().to_string();
    let got = json(&[
        "features",
        "homesteads",
        "--area",
        &t,
        "--status",
        "idle",
        "--limit",
        "10000",
    ]);
    assert_eq!(got, same(&want));
}

/// `features --csv`: a header and one row per feature, the ids (18-digit
/// units included) as their exact digits, as the JSON's strings and the
/// index's own values; the next page's cursor on stderr.
#[test]
fn features_as_csv_keep_ids_exact() {
    let city = &fixture().city;
    let district = city.areas().level(Level::District)[0].id;
    let page = PageRequest::first(25);
    let want = city
        .features_in_area(Layer::Events, district, &EventFilter::default(), &page)
        .unwrap();
    let d = district.get().to_string();
    let args = ["features", "events", "--area", &d, "--limit", "25"];
    let out = query(&fixture().dir, &[&args[..], &["--csv"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0][..6],
        ["layer", "id", "lon", "lat", "unit", "cell"],
        "{csv}"
    );
    assert!(rows[0].contains(&"category") && rows[0].contains(&"closed_at"));
    assert_eq!(rows.len(), 1 + want.features.len());
    let json = json(&args);
    for ((row, f), j) in rows[1..]
        .iter()
        .zip(&want.features)
        .zip(json["features"].as_array().unwrap())
    {
        assert_eq!(row.len(), rows[0].len(), "{csv}");
        assert_eq!(row[1], f.id.to_string());
        let unit = f.unit.expect("events in a district are in units").get();
        assert!(unit > onemap_index::MAX_SAFE_INTEGER);
        assert_eq!(row[4], unit.to_string());
        assert_eq!(j["unit"], row[4], "the JSON's string, digit for digit");
    }
    let cursor = want.next_cursor.expect("more than one page").to_string();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap().trim(),
        format!("more: --cursor {cursor}")
    );
}

/// Bad input: exit code, one line on stderr that starts with "error:" and
/// says what is wrong, nothing on stdout.
#[test]
fn bad_input_is_one_line_and_a_non_zero_exit() {
    let dir = &fixture().dir;
    let cases: &[(&[&str], i32, &str)] = &[
        (&["locate", "NaN", "0"], 1, "invalid coordinate"),
        (&["locate", "200", "0"], 1, "invalid coordinate"),
        (
            &["bbox", "events", "--bbox", "119.1,25.0,119.0,25.5"],
            2,
            "inverted",
        ),
        (
            &["bbox", "nosuch", "--bbox", "119,25,119.1,25.1"],
            1,
            "unknown layer 'nosuch'",
        ),
        (
            &["near", "towns", "119", "25.4"],
            1,
            "does not apply to layer 'towns'",
        ),
        (&["stats", "--area", "350302999"], 1, "unknown area"),
        (&["stats", "--by", "h3:13"], 1, "H3 resolution 13"),
        (
            &[
                "bbox",
                "events",
                "--bbox",
                "119,25,119.1,25.1",
                "--limit",
                "100000000",
            ],
            1,
            "limit 100000000",
        ),
        (
            &["near", "events", "119", "25.4", "--max-distance", "-5"],
            1,
            "invalid distance -5",
        ),
        (
            &[
                "features",
                "homesteads",
                "--area",
                "350302",
                "--status",
                "open",
            ],
            1,
            "unknown homestead status 'open'",
        ),
        (
            &["features", "ships", "--area", "350302", "--status", "idle"],
            1,
            "does not apply to layer 'ships'",
        ),
        (
            &["features", "events"],
            1,
            "give one of --bbox, --area or --polygon",
        ),
        (
            &["features", "events", "--polygon", "119 25,119.1"],
            2,
            "invalid polygon",
        ),
        (&["hotspots", "--min-count", "0"], 2, "0 is not in 1.."),
    ];
    for (args, code, says) in cases {
        let out = query(dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out));
        assert!(err.starts_with("error:"), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        if *code == 1 {
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        }
    }
}

/// A bad value gets the same message from the command line as from the
/// API: values that do not parse inside clap's "invalid value 'V' for
/// '--x <X>': MESSAGE" (exit 2), values the query refuses as "error:
/// MESSAGE" (exit 1); the API's `message` is MESSAGE.
#[test]
fn bad_values_say_what_the_api_says() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.gpkg");
    let server = http_support::start_with(&[
        "--data",
        f.dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    let area = fixture().city.areas().level(Level::District)[0]
        .id
        .to_string();
    let a = area.as_str();
    let on_area = |q: &str| format!("/api/areas/{area}?{q}");
    // (command line, the option it fails on, the API request)
    let parsed: Vec<(Vec<&str>, &str, String)> = vec![
        (
            vec!["stats", "--from", "yesterday"],
            "--from <FROM>",
            "/api/stats?from=yesterday".into(),
        ),
        (
            vec!["area", a, "--to", "2026-02-30"],
            "--to <TO>",
            on_area("to=2026-02-30"),
        ),
        (
            vec!["hotspots", "--from", "soon"],
            "--from <FROM>",
            "/api/hotspots?from=soon".into(),
        ),
        (
            vec!["features", "events", "--area", a, "--to", "1.5"],
            "--to <TO>",
            format!("/api/features/events?area={area}&to=1.5"),
        ),
        (
            vec!["stats", "--bbox", "119,25,119.1"],
            "--bbox <BBOX>",
            "/api/stats?bbox=119,25,119.1".into(),
        ),
        (
            vec!["features", "events", "--bbox", "119.1,25,119,25.1"],
            "--bbox <BBOX>",
            "/api/features/events?bbox=119.1,25,119,25.1".into(),
        ),
        (
            vec!["features", "events", "--polygon", "119 25,119.1"],
            "--polygon <POLYGON>",
            "/api/features/events?polygon=119%2025,119.1".into(),
        ),
        (
            vec!["stats", "--by", "country"],
            "--by <BY>",
            "/api/stats?by=country".into(),
        ),
        (
            vec!["stats", "--by", "h3:x"],
            "--by <BY>",
            "/api/stats?by=h3:x".into(),
        ),
        (
            vec!["hotspots", "--place", "street"],
            "--place <PLACE>",
            "/api/hotspots?place=street".into(),
        ),
        (
            vec!["stats", "--area", "35030x"],
            "--area <AREA>",
            "/api/stats?area=35030x".into(),
        ),
        (
            vec!["features", "events", "--area", a, "--cursor", "next"],
            "--cursor <CURSOR>",
            format!("/api/features/events?area={area}&cursor=next"),
        ),
    ];
    for (args, option, path) in &parsed {
        let api = api_message(&server.addr, path);
        let out = query(&f.dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let value = args[args.len() - 1];
        let head = format!("error: invalid value '{value}' for '{option}': ");
        let cli = err.lines().next().and_then(|l| l.strip_prefix(&head));
        assert_eq!(cli, Some(api.as_str()), "{args:?}: {err}");
    }
    // Values that parse but that the query refuses.
    let refused: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["stats", "--bbox", "100,20,119.1,25.1"],
            "/api/stats?bbox=100,20,119.1,25.1".into(),
        ),
        (
            vec!["features", "events", "--bbox", "110,20,119.1,25.1"],
            "/api/features/events?bbox=110,20,119.1,25.1".into(),
        ),
        (
            vec!["stats", "--from", "2026-10-01", "--to", "2026-09-01"],
            "/api/stats?from=2026-10-01&to=2026-09-01".into(),
        ),
        (
            vec!["features", "ships", "--area", a, "--status", "idle"],
            format!("/api/features/ships?area={area}&status=idle"),
        ),
        (
            vec!["features", "homesteads", "--area", a, "--category", "road"],
            format!("/api/features/homesteads?area={area}&category=road"),
        ),
        (
            vec!["features", "events", "--area", a, "--status", "idle"],
            format!("/api/features/events?area={area}&status=idle"),
        ),
        (vec!["stats", "--by", "h3:13"], "/api/stats?by=h3:13".into()),
        (
            vec!["features", "events", "--polygon", "119 25,119 25,119 25"],
            "/api/features/events?polygon=119%2025,119%2025,119%2025".into(),
        ),
    ];
    for (args, path) in &refused {
        let api = api_message(&server.addr, path);
        let out = query(&f.dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end(), format!("error: {api}"), "{args:?}");
    }
}

/// The message of the API's error answer to `GET path`.
fn api_message(addr: &str, path: &str) -> String {
    let r = http_support::get(addr, path);
    assert!(r.status >= 400, "{path}: {}", r.status);
    r.json()["error"]["message"].as_str().unwrap().to_string()
}
