//! The one table over PostGIS (issue 16, item 3): a small city served
//! twice, from its ledger files and from PostGIS after `onemap import`
//! (the PostGIS server is given no city directory, so it cannot read the
//! files). Every stored ledger answers the same under many
//! queries — areas at each level, tags and the care group, coded values,
//! yes/no fields, the update window, ages, masked and in the clear, zh and
//! en — previews and counts equal, CSV bytes identical, XLSX read back
//! equal (openpyxl), GeoPackages of the same rows; random queries
//! (proptest) give the same rows and count. `onemap export` writes the
//! ledgers back with the same rows and values (`onemap ledgers digest`).
//!
//! Needs `ONEMAP_TEST_POSTGRES` (see tests/pg_live.rs) and `PYTHON` (with
//! openpyxl, as tests/table.rs); fails without them.

mod http_support;
mod pg_db;

use http_support::{get_as, python, start_with, token_with, Reply};
use onemap_core::{AreaId, Level};
use onemap_ledger::{Kind, Ledger};
use pg_db::{ok, query_i64, TestDb};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The cells of every sheet of two XLSX files, read by openpyxl, compared.
fn xlsx_equal(a: &[u8], b: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a.xlsx"), dir.path().join("b.xlsx"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let script = "import sys, openpyxl\n\
        def cells(p):\n\
        \x20   wb = openpyxl.load_workbook(p, read_only=True)\n\
        \x20   return [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]\n\
        a, b = cells(sys.argv[1]), cells(sys.argv[2])\n\
        n = sum(len(r) for _, r in a)\n\
        assert n > 1, 'an empty sheet'\n\
        assert a == b, 'the sheets differ'\n\
        print('ok', n)\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(&pa)
        .arg(&pb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "XLSX differ: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The start of a body, for a message.
fn short(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().take(300).collect()
}

/// Where two JSON answers part: their totals and the first row that differs.
fn differ(a: &Value, b: &Value) -> String {
    let rows = |v: &Value| v["rows"].as_array().cloned().unwrap_or_default();
    let (ra, rb) = (rows(a), rows(b));
    let i = (0..ra.len().max(rb.len())).find(|i| ra.get(*i) != rb.get(*i));
    format!(
        "total {} vs {}, shown {} vs {}, first differing row {i:?}: {:?} vs {:?}",
        a["total"],
        b["total"],
        ra.len(),
        rb.len(),
        i.and_then(|i| ra.get(i)),
        i.and_then(|i| rb.get(i))
    )
}

/// Both servers' answers to one request: the same status and body (the
/// time taken apart).
fn same(files: &str, pg: &str, token: (&str, &str), path: &str) -> Reply {
    let f = get_as(files, path, token.0);
    let p = get_as(pg, path, token.1);
    assert_eq!(
        (f.status, f.header("content-type")),
        (p.status, p.header("content-type")),
        "{path}: {}\n{}",
        short(&f.body),
        short(&p.body)
    );
    if f.header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        let (mut a, mut b) = (f.json(), p.json());
        for v in [&mut a, &mut b] {
            if let Some(o) = v.as_object_mut() {
                o.remove("took_ms");
            }
        }
        assert!(a == b, "{path}: {}", differ(&a, &b));
    } else if f
        .header("content-type")
        .is_some_and(|c| c.contains("spreadsheetml"))
    {
        xlsx_equal(&f.body, &p.body);
    } else if f
        .header("content-type")
        .is_some_and(|c| c.contains("geopackage"))
    {
        // Rows with positions: the same table, written apart.
        assert!(
            p.body.len() > 1000,
            "{path}: a GeoPackage of {} bytes",
            p.body.len()
        );
        assert_eq!(f.header("x-table-rows"), p.header("x-table-rows"), "{path}");
    } else {
        assert!(f.body == p.body, "{path}: bytes differ");
    }
    p
}

struct Fixture {
    _dir: tempfile::TempDir,
    city: std::path::PathBuf,
    db: TestDb,
    files: http_support::Server,
    pg: http_support::Server,
    areas: onemap_core::AreaTree,
    /// (file server's, PostGIS server's) tokens of a city-wide viewer
    /// (masked) and of a town office (in the clear inside its town).
    viewer: (String, String),
    office: (String, String),
    town: AreaId,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let db = TestDb::new();
    pg_db::city_in(&db, &city, "7", Some(2_000));
    // What the database holds equals the files, row for row.
    let ledgers = onemap_ledger::Ledgers::open(&city).unwrap();
    for l in Ledger::STORED {
        let n = query_i64(&db.url, &format!("SELECT count(*) FROM ledger_{}", l.key()));
        assert_eq!(n as u64, ledgers.get(l).rows(), "{}", l.key());
    }
    // The PostGIS server reads no city directory (--data and --postgres
    // exclude each other): its ledgers can only come from the database.
    let files = start_with(&["--data", city.to_str().unwrap()]);
    let pg = start_with(&["--postgres", &db.url]);
    let (_, areas) = onemap_store::read_city_areas(&city).unwrap();
    let town = areas.level(Level::Town)[1].id;
    let tok = |role: &str, scope: &str| {
        (
            token_with(&["--data", city.to_str().unwrap()], role, scope, "表"),
            token_with(&["--postgres", &db.url], role, scope, "表"),
        )
    };
    let viewer = tok("viewer", "city");
    let office = tok("town_office", &format!("area:{town}"));
    Fixture {
        _dir: dir,
        city,
        db,
        files,
        pg,
        areas,
        viewer,
        office,
        town,
    }
}

fn t(x: &(String, String)) -> (&str, &str) {
    (x.0.as_str(), x.1.as_str())
}

/// An area of each level inside `town` (and the district above it).
fn areas_of(f: &Fixture) -> Vec<AreaId> {
    let mut out = vec![f.town.ancestor_at(Level::District).unwrap(), f.town];
    for level in [Level::Village, Level::Grid, Level::Unit] {
        let a = f
            .areas
            .level(level)
            .iter()
            .find(|a| a.id.ancestor_at(Level::Town) == Some(f.town))
            .unwrap();
        out.push(a.id);
    }
    out
}

#[test]
fn postgis_answers_the_one_table_as_the_files_do() {
    let f = fixture();
    let (fa, pa) = (f.files.addr.as_str(), f.pg.addr.as_str());

    // The ledgers and their counts.
    let doc = same(fa, pa, t(&f.viewer), "/api/ledgers").json();
    for l in Ledger::STORED {
        let entry = doc["ledgers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == l.key())
            .unwrap();
        assert!(entry["rows"].as_u64().unwrap() > 0, "{}", l.key());
    }

    // Fixed queries on every stored ledger, at every level, both roles, both languages.
    let areas = areas_of(&f);

    // The events ledger comes from each server's live city, which a
    // PostGIS-backed server loaded from the database: the same rows (the
    // closed events: nothing in them moves with the clock).
    for area in &areas {
        let q = format!("ledger=events&area={area}&status=closed&fields=all");
        let r = same(fa, pa, t(&f.viewer), &format!("/api/table?{q}&limit=500")).json();
        assert!(r["total"].as_u64().is_some(), "{r}");
        same(
            fa,
            pa,
            t(&f.office),
            &format!("/api/table/download?{q}&format=csv"),
        );
    }
    let until = query_i64(
        &f.db.url,
        "SELECT extract(epoch FROM max(updated))::bigint FROM ledger_people",
    );
    let mut asked = 0;
    for l in Ledger::STORED {
        let mut filters: Vec<String> = vec![String::new(), "&fields=all".into()];
        for fd in l.fields() {
            match fd.kind {
                Kind::Tags(choices) => {
                    filters.push("&tags=care".into());
                    filters.push(format!("&tags={}", choices[0].key));
                    filters.push(format!("&tags=care&tags={}", choices[5].key));
                }
                Kind::Choice(choices) if choices.len() > 1 => {
                    filters.push(format!("&{}={}|{}", fd.key, choices[0].key, choices[1].key));
                }
                Kind::Bool => filters.push(format!("&{}=true", fd.key)),
                _ => {}
            }
        }
        if l.field("updated").is_some() {
            filters.push(format!(
                "&updated_from={}&updated_to={}",
                until - 200 * 86_400,
                until - 20 * 86_400
            ));
        }
        if l.field("birth").is_some() {
            filters.push("&age_min=18&age_max=60&fields=all".into());
            filters.push("&age_max=6".into());
            filters.push("&age_min=80&lang=en".into());
        }
        for filter in &filters {
            for area in &areas {
                for lang in ["zh", "en"] {
                    let q = format!(
                        "ledger={}&area={area}&lang={lang}&limit=500{filter}",
                        l.key()
                    );
                    for who in [t(&f.viewer), t(&f.office)] {
                        let doc = same(fa, pa, who, &format!("/api/table?{q}")).json();
                        asked += 1;
                        if lang == "zh" && filter.is_empty() && *area == f.town {
                            assert!(doc["total"].as_u64().unwrap() > 0, "{q}");
                        }
                    }
                }
            }
        }
        // Downloads: the town's CSV (bytes) and XLSX (cells), both roles.
        for who in [t(&f.viewer), t(&f.office)] {
            for fmt in ["csv", "xlsx"] {
                let q = format!(
                    "/api/table/download?ledger={}&area={}&format={fmt}&fields=all",
                    l.key(),
                    f.town
                );
                let r = same(fa, pa, who, &q);
                assert_eq!(r.status, 200, "{q}");
            }
        }
        if l.has_position() {
            let q = format!(
                "/api/table/download?ledger={}&area={}&format=gpkg",
                l.key(),
                f.town
            );
            same(fa, pa, t(&f.office), &q);
        }
    }
    assert!(asked > 500, "{asked} queries");
    // The whole city's people as CSV, streamed: the same bytes.
    let r = same(
        fa,
        pa,
        t(&f.viewer),
        "/api/table/download?ledger=people&format=csv",
    );
    assert!(r.body.len() > 100_000);
    // A town's and a village's file (their ledger counts and leaders).
    for area in &areas[1..3] {
        same(fa, pa, t(&f.viewer), &format!("/api/files/area/{area}"));
    }
    // The standard templates, as a preview and as a download.
    for tpl in onemap_ledger::templates::STANDARD {
        for who in [t(&f.viewer), t(&f.office)] {
            let q = format!("template={}&area={}&limit=500", tpl.id, f.town);
            same(fa, pa, who, &format!("/api/table?{q}"));
            same(fa, pa, who, &format!("/api/table/download?{q}&format=csv"));
        }
    }
    // Errors alike: an unknown area, an area outside the office's town.
    same(
        fa,
        pa,
        t(&f.viewer),
        "/api/table?ledger=people&area=350399999",
    );
    let other = f.areas.level(Level::Town)[0].id;
    same(
        fa,
        pa,
        t(&f.office),
        &format!("/api/table?ledger=people&area={other}"),
    );

    random_queries(&f);

    // Export writes the ledgers back: the same rows, values and batches.
    let out = f._dir.path().join("exported");
    ok(&["export", "--postgres", &f.db.url, out.to_str().unwrap()]);
    assert_eq!(digest(&f.city), digest(&out));
}

fn digest(dir: &Path) -> String {
    let d = ok(&["ledgers", "digest", "--data", dir.to_str().unwrap()]);
    assert_eq!(d.lines().count(), Ledger::STORED.len(), "{d}");
    d
}

/// A random query string of a stored ledger.
fn any_query(areas: Vec<AreaId>, until: i64) -> impl Strategy<Value = String> {
    let ledgers: Vec<Ledger> = Ledger::STORED.to_vec();
    (
        proptest::sample::select(ledgers),
        proptest::sample::select(areas),
        proptest::collection::vec(any::<u8>(), 6),
        any::<bool>(),
        (0i64..800, 0i64..800),
        (0u32..100, 0u32..100),
        0u8..8,
    )
        .prop_map(move |(l, area, picks, care, (d1, d2), (a1, a2), which)| {
            let mut q = format!("ledger={}&limit=200", l.key());
            if which & 1 == 0 {
                q.push_str(&format!("&area={area}"));
            }
            let mut k = 0;
            for fd in l.fields() {
                let p = picks[k % picks.len()];
                match fd.kind {
                    Kind::Tags(choices) => {
                        if care {
                            q.push_str("&tags=care");
                        }
                        if p % 3 == 0 {
                            q.push_str(&format!(
                                "&tags={}",
                                choices[p as usize % choices.len()].key
                            ));
                        }
                        k += 1;
                    }
                    Kind::Choice(choices) if p % 2 == 0 => {
                        let a = choices[p as usize % choices.len()].key;
                        let b = choices[(p as usize / 7) % choices.len()].key;
                        q.push_str(&format!("&{}={a}|{b}", fd.key));
                        k += 1;
                    }
                    Kind::Bool if p % 3 == 1 => {
                        q.push_str(&format!("&{}={}", fd.key, p % 2 == 0));
                        k += 1;
                    }
                    _ => {}
                }
            }
            if which & 2 != 0 && l.field("updated").is_some() {
                let (lo, hi) = (d1.min(d2), d1.max(d2));
                q.push_str(&format!(
                    "&updated_from={}&updated_to={}",
                    until - hi * 86_400,
                    until - lo * 86_400 + 1
                ));
            }
            if which & 4 != 0 && l.field("birth").is_some() {
                q.push_str(&format!("&age_min={}&age_max={}", a1.min(a2), a1.max(a2)));
            }
            q
        })
}

fn random_queries(f: &Fixture) {
    let (fa, pa) = (f.files.addr.as_str(), f.pg.addr.as_str());
    let until = query_i64(
        &f.db.url,
        "SELECT extract(epoch FROM max(updated))::bigint FROM ledger_people",
    );
    let mut areas: Vec<AreaId> = Vec::new();
    for level in Level::ALL {
        areas.extend(
            f.areas
                .level(level)
                .iter()
                .step_by(7)
                .take(12)
                .map(|a| a.id),
        );
    }
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let nonempty = std::cell::Cell::new(0);
    runner
        .run(&any_query(areas, until), |q| {
            let path = format!("/api/table?{q}&fields=all");
            let a = get_as(fa, &path, &f.viewer.0);
            let b = get_as(pa, &path, &f.viewer.1);
            prop_assert_eq!(a.status, 200, "{}", short(&a.body));
            prop_assert_eq!(b.status, 200, "{}", short(&b.body));
            let (a, b) = (a.json(), b.json());
            prop_assert!(
                a["total"] == b["total"] && a["rows"] == b["rows"],
                "{}: {}",
                q,
                differ(&a, &b)
            );
            if a["total"].as_u64().unwrap_or(0) > 0 {
                nonempty.set(nonempty.get() + 1);
            }
            Ok::<(), TestCaseError>(())
        })
        .unwrap();
    let nonempty = nonempty.get();
    assert!(nonempty > 10, "{nonempty} random queries found rows");
}
