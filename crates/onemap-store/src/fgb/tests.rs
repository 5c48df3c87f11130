//! The city directory end to end: what is written reads back equal, the
//! same city gives the same bytes, a failed write leaves the previous city,
//! and every problem with a file names it.

use super::fixtures::{assert_city_eq, sample_city, square, write_with_fgb_writer, V};
use super::read::{read_areas, read_events};
use super::*;
use flatgeobuf::{ColumnType, GeometryType};
use geo_types::MultiPolygon;
use onemap_core::*;
use std::collections::BTreeMap;
use std::fs;

/// The files of a directory, by name.
fn dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn written_sample() -> (tempfile::TempDir, CityMeta, CityData) {
    let (meta, city) = sample_city();
    let tmp = tempfile::tempdir().unwrap();
    write_city_dir(tmp.path(), &meta, &city).unwrap();
    (tmp, meta, city)
}

fn read_err(dir: &Path) -> String {
    let e = read_city_dir(dir).expect_err("reading should fail");
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(c) = src {
        s += &format!(": {c}");
        src = c.source();
    }
    s
}

const EVENT_COLUMNS: [(&str, ColumnType); 6] = [
    ("id", ColumnType::Long),
    ("category", ColumnType::String),
    ("status", ColumnType::String),
    ("reported_at", ColumnType::Long),
    ("closed_at", ColumnType::Long),
    ("unit_id", ColumnType::ULong),
];

fn event_props(id: i64, status: &'static str, unit: i64) -> Vec<V> {
    vec![
        V::L(id),
        V::S("drainage"),
        V::S(status),
        V::L(1_700_000_000),
        V::L(1_700_000_100),
        V::L(unit),
    ]
}

#[test]
fn round_trip_gives_equal_city() {
    let (tmp, meta, city) = written_sample();
    let names: Vec<String> = dir_files(tmp.path()).into_keys().collect();
    let mut expected: Vec<String> = Layer::ALL
        .iter()
        .map(|l| format!("{}.fgb", l.as_str()))
        .chain(["city.json".to_string()])
        .collect();
    expected.sort();
    assert_eq!(names, expected, "exactly the layer files and city.json");
    let (meta2, city2) = read_city_dir(tmp.path()).unwrap();
    assert_eq!(meta, meta2);
    assert_city_eq(&city, &city2);
    assert_eq!(
        read_events(&layer_path(tmp.path(), Layer::Events)).unwrap(),
        city.events
    );
}

#[test]
fn empty_city_round_trips() {
    let (meta, _) = sample_city();
    let city = CityData::default();
    let tmp = tempfile::tempdir().unwrap();
    write_city_dir(tmp.path(), &meta, &city).unwrap();
    let (_, back) = read_city_dir(tmp.path()).unwrap();
    assert_city_eq(&city, &back);
}

#[test]
fn same_input_gives_same_bytes() {
    let (meta, city) = sample_city();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write_city_dir(a.path(), &meta, &city).unwrap();
    write_city_dir(b.path(), &meta, &city).unwrap();
    let first = dir_files(a.path());
    assert_eq!(first, dir_files(b.path()));
    // Overwriting leaves the same files and no temporary ones.
    write_city_dir(a.path(), &meta, &city).unwrap();
    assert_eq!(first, dir_files(a.path()));
}

#[test]
fn failed_write_leaves_previous_city_untouched() {
    let (tmp, meta, mut city) = written_sample();
    let before = dir_files(tmp.path());
    // A unit filed at the unit level with a district code.
    let mut areas: Vec<Area> = city.areas.iter().cloned().collect();
    areas.push(Area {
        id: AreaId::new(350399).unwrap(),
        level: Level::Unit,
        name: "bad".into(),
        parent: None,
        leader: None,
        geometry: MultiPolygon(vec![square(119.0, 25.0, 0.1)]),
    });
    city.areas = AreaTree::from_areas(areas);
    let err = write_city_dir(tmp.path(), &meta, &city)
        .unwrap_err()
        .to_string();
    assert!(err.contains("units.fgb") && err.contains("350399"), "{err}");
    assert_eq!(before, dir_files(tmp.path()));
}

#[test]
fn ids_too_large_for_long_are_refused() {
    let (meta, mut city) = sample_city();
    city.events[0].id = u64::MAX;
    let tmp = tempfile::tempdir().unwrap();
    let err = write_city_dir(tmp.path(), &meta, &city)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("events.fgb") && err.contains("too large"),
        "{err}"
    );
    assert!(dir_files(tmp.path()).is_empty());
}

#[test]
fn missing_dir_and_missing_file_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("nowhere");
    let err = read_err(&gone);
    assert!(
        err.contains("does not exist") && err.contains("nowhere"),
        "{err}"
    );

    let (tmp, _, _) = written_sample();
    fs::remove_file(layer_path(tmp.path(), Layer::Ships)).unwrap();
    let err = read_err(tmp.path());
    assert!(
        err.contains("missing file") && err.contains("ships.fgb"),
        "{err}"
    );

    fs::remove_file(meta_path(tmp.path())).unwrap();
    assert!(read_err(tmp.path()).contains("city.json"));
}

#[test]
fn truncated_file_is_named() {
    let (tmp, _, _) = written_sample();
    let path = layer_path(tmp.path(), Layer::Units);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_err(tmp.path());
    assert!(
        err.contains("units.fgb") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn wrong_crs_is_named() {
    let (tmp, _, _) = written_sample();
    let path = layer_path(tmp.path(), Layer::Events);
    let point = geo_types::Geometry::Point(geo_types::Point::new(13_247_019.4, 2_928_653.6));
    write_with_fgb_writer(
        &path,
        3857,
        GeometryType::Point,
        &EVENT_COLUMNS,
        &[(point, event_props(1, "closed", 350302101001001001))],
    );
    let err = read_err(tmp.path());
    assert!(
        err.contains("events.fgb") && err.contains("EPSG:3857") && err.contains("4326"),
        "{err}"
    );
}

#[test]
fn files_from_flatgeobufs_writer_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("events.fgb");
    let features: Vec<_> = (1..=50)
        .map(|i| {
            let p = geo_types::Point::new(119.0 + f64::from(i) * 0.01, 25.4);
            let status = if i % 2 == 0 { "closed" } else { "routed" };
            (
                geo_types::Geometry::Point(p),
                event_props(i64::from(i), status, 350302101001001001),
            )
        })
        .collect();
    write_with_fgb_writer(&path, 4326, GeometryType::Point, &EVENT_COLUMNS, &features);
    let events = read_events(&path).unwrap();
    assert_eq!(events.len(), 50);
    assert_eq!(events[9].id, 10);
    assert_eq!(events[9].lon, 119.1);
    assert_eq!(events[9].status, EventStatus::Closed);
    assert_eq!(events[9].closed_at, Some(1_700_000_100));
    assert_eq!(events[9].unit.get(), 350302101001001001);
}

#[test]
fn wrong_geometry_type_missing_column_and_bad_values_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("events.fgb");
    let point = || geo_types::Geometry::Point(geo_types::Point::new(119.0, 25.4));

    let poly = geo_types::Geometry::MultiPolygon(MultiPolygon(vec![square(119.0, 25.4, 0.1)]));
    let props = event_props(1, "closed", 350302101001001001);
    write_with_fgb_writer(
        &path,
        4326,
        GeometryType::MultiPolygon,
        &EVENT_COLUMNS,
        &[(poly, props.clone())],
    );
    let err = read_events(&path).unwrap_err().to_string();
    assert!(
        err.contains("events.fgb") && err.contains("MultiPolygon") && err.contains("Point"),
        "{err}"
    );

    write_with_fgb_writer(
        &path,
        4326,
        GeometryType::Point,
        &EVENT_COLUMNS[..5],
        &[(point(), props[..5].to_vec())],
    );
    let err = read_events(&path).unwrap_err().to_string();
    assert!(
        err.contains("events.fgb") && err.contains("'unit_id'"),
        "{err}"
    );

    let mut columns = EVENT_COLUMNS;
    columns[2].1 = ColumnType::Long;
    let mut bad = props.clone();
    bad[2] = V::L(5);
    write_with_fgb_writer(
        &path,
        4326,
        GeometryType::Point,
        &columns,
        &[(point(), bad)],
    );
    let err = read_events(&path).unwrap_err().to_string();
    assert!(err.contains("'status'") && err.contains("Long"), "{err}");

    write_with_fgb_writer(
        &path,
        4326,
        GeometryType::Point,
        &EVENT_COLUMNS,
        &[(point(), event_props(1, "bogus", 350302101001001001))],
    );
    let err = read_events(&path).unwrap_err();
    let source = std::error::Error::source(&err).unwrap().to_string();
    let err = err.to_string();
    assert!(
        err.contains("events.fgb") && err.contains("'bogus'"),
        "{err}"
    );
    assert!(
        err.contains("'status'") && source.contains("fed_back"),
        "{source}"
    );

    write_with_fgb_writer(
        &path,
        4326,
        GeometryType::Point,
        &EVENT_COLUMNS,
        &[(point(), event_props(1, "closed", 1234))],
    );
    let err = read_events(&path).unwrap_err().to_string();
    assert!(err.contains("'1234'") && err.contains("'unit_id'"), "{err}");
}

#[test]
fn area_id_of_wrong_level_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let upath = tmp.path().join("units.fgb");
    let unit = geo_types::Geometry::MultiPolygon(MultiPolygon(vec![square(119.0, 25.4, 0.1)]));
    write_with_fgb_writer(
        &upath,
        4326,
        GeometryType::MultiPolygon,
        &[
            ("id", ColumnType::Long),
            ("name", ColumnType::String),
            ("parent_id", ColumnType::Long),
            ("leader", ColumnType::String),
        ],
        &[(
            unit,
            vec![V::L(350302101), V::S("x"), V::L(350302), V::S("y")],
        )],
    );
    let err = read_areas(&upath, Level::Unit).unwrap_err().to_string();
    assert!(
        err.contains("units.fgb") && err.contains("'350302101'"),
        "{err}"
    );
}
