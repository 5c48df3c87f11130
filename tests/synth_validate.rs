//! End-to-end: the `onemap` binary generates, writes and validates cities,
//! and rejects corrupted ones with a clear message.

use geo::BooleanOps;
use onemap_core::Level;
use std::path::Path;
use std::process::{Command, Output};

fn onemap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onemap"))
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

fn synth(dir: &Path, seed: &str) {
    let out = onemap(&[
        "synth",
        "--seed",
        seed,
        "--scale",
        "0.02",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "synth failed: {}", text(&out));
}

#[test]
fn generated_city_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("city");
    synth(&dir, "3");
    let out = onemap(&["validate", dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("city is valid"), "{t}");
    assert!(!t.contains("FAIL"), "{t}");
}

#[test]
fn same_seed_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    synth(&a, "11");
    synth(&b, "11");
    synth(&c, "12");
    // Every file, the ledgers/ folder's too.
    let mut names: Vec<std::path::PathBuf> = Vec::new();
    for e in std::fs::read_dir(&a).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            for f in std::fs::read_dir(e.path()).unwrap() {
                names.push(std::path::Path::new(&e.file_name()).join(f.unwrap().file_name()));
            }
        } else {
            names.push(e.file_name().into());
        }
    }
    names.sort();
    assert!(
        names.iter().any(|n| n.starts_with("ledgers")),
        "synth writes the ledgers: {names:?}"
    );
    assert!(names.len() >= 12, "{names:?}");
    let mut differs = false;
    for n in &names {
        let (x, y) = (
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
        );
        assert!(x == y, "{n:?} differs between two runs with the same seed");
        differs |= std::fs::read(c.join(n)).map(|z| z != x).unwrap_or(true);
    }
    assert!(differs, "another seed should give another city");
}

fn corrupt(dir: &Path, f: impl FnOnce(&mut onemap_core::CityData)) {
    let (meta, mut city) = onemap_store::read_city_dir(dir).unwrap();
    f(&mut city);
    onemap_store::write_city_dir(dir, &meta, &city).unwrap();
}

fn validate_fails(dir: &Path) -> String {
    let out = onemap(&["validate", dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "validate should fail: {t}");
    assert!(!t.contains("panicked"), "{t}");
    t
}

#[test]
fn validate_rejects_overlapping_units() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("city");
    synth(&dir, "5");
    corrupt(&dir, |city| {
        let units = city.areas.level(Level::Unit).to_vec();
        // Grow the first unit over its neighbour in the same grid.
        let a = &units[0];
        let b = units[1..].iter().find(|u| u.parent == a.parent).unwrap();
        let mut areas: Vec<_> = city.areas.iter().cloned().collect();
        for x in areas.iter_mut() {
            if x.id == a.id {
                x.geometry = a.geometry.union(&b.geometry);
            }
        }
        city.areas = onemap_core::AreaTree::from_areas(areas);
    });
    let t = validate_fails(&dir);
    assert!(t.contains("overlap"), "{t}");
    assert!(
        t.contains("FAIL no overlaps between areas of a level"),
        "{t}"
    );
}

#[test]
fn validate_rejects_an_orphan_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("city");
    synth(&dir, "5");
    let orphan_parent = onemap_core::AreaId::new(350302999999999).unwrap();
    corrupt(&dir, |city| {
        let mut areas: Vec<_> = city.areas.iter().cloned().collect();
        let u = areas.iter_mut().find(|a| a.level == Level::Unit).unwrap();
        u.parent = Some(orphan_parent);
        city.areas = onemap_core::AreaTree::from_areas(areas);
    });
    let t = validate_fails(&dir);
    assert!(
        t.contains("parent 350302999999999 is not an existing grid"),
        "{t}"
    );
}

#[test]
fn validate_rejects_a_truncated_file_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("city");
    synth(&dir, "5");
    let f = dir.join("units.fgb");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    let t = validate_fails(&dir);
    assert_eq!(t.trim().lines().count(), 1, "one line expected: {t}");
    assert!(t.starts_with("error:") && t.contains("units.fgb"), "{t}");
}

#[test]
fn missing_directory_and_bad_arguments_are_one_line_errors() {
    let out = onemap(&["validate", "/nonexistent/city"]);
    let t = text(&out);
    assert!(!out.status.success());
    assert_eq!(t.trim().lines().count(), 1, "{t}");
    let out = onemap(&["synth", "--scale", "7", "--out", "/tmp/never"]);
    let t = text(&out);
    assert!(!out.status.success());
    assert!(t.contains("scale must be a number in (0, 1]"), "{t}");
    assert!(!Path::new("/tmp/never").exists());
}

/// The synthetic Putian's area counts are checked against the real figures
/// (scaled), not only against the city.json written beside them: a village
/// removed, with city.json edited to match, is still caught.
#[test]
fn validate_rejects_a_village_count_that_is_not_putians() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("city");
    synth(&dir, "5");
    let out = onemap(&["validate", dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("ok   layer counts as in city.json and as Putian's at scale 0.02: 7 districts, 54 towns, 56 villages, 200+ grids, 2600+ units"),
        "{t}"
    );
    let (mut meta, mut city) = onemap_store::read_city_dir(&dir).unwrap();
    // The last village of the city, with its grids and units.
    let village = city.areas.level(Level::Village).last().unwrap().id;
    let below = |mut a: onemap_core::AreaId| loop {
        if a == village {
            return true;
        }
        match a.parent() {
            Some(p) => a = p,
            None => return false,
        }
    };
    let areas: Vec<_> = city
        .areas
        .iter()
        .filter(|a| !below(a.id))
        .cloned()
        .collect();
    city.areas = onemap_core::AreaTree::from_areas(areas);
    city.events.retain(|e| !below(e.unit));
    for level in [Level::Village, Level::Grid, Level::Unit] {
        let name = onemap_core::Layer::for_level(level).as_str().to_string();
        meta.expected
            .insert(name, city.areas.level(level).len() as u64);
    }
    meta.expected
        .insert("events".into(), city.events.len() as u64);
    onemap_store::write_city_dir(&dir, &meta, &city).unwrap();
    let t = validate_fails(&dir);
    assert!(
        t.contains("FAIL layer counts as in city.json and as Putian's"),
        "{t}"
    );
    assert!(
        t.contains("55 villages, the synthetic Putian at scale 0.02 has 56"),
        "{t}"
    );
}
