//! The FlatGeobuf city directory.
//!
//! A city directory holds one FlatGeobuf file per [`Layer`], named
//! `<layer>.fgb` (`districts.fgb` … `schools.fgb`), and `city.json`, the
//! [`CityMeta`](onemap_core::CityMeta) as pretty JSON.
//!
//! Every layer file declares EPSG:4326 in its header, has a packed Hilbert
//! R-tree (node size 16) and typed columns, so it opens as is in QGIS/GDAL:
//!
//! | file | geometry | columns |
//! |------|----------|---------|
//! | districts, towns, villages, grids, units | MultiPolygon | `id` Long, `name` String, `parent_id` Long (null for districts), `leader` String (null where none) |
//! | events | Point | `id` Long, `category` String, `status` String, `reported_at` Long, `closed_at` Long (null while open), `unit_id` Long |
//! | ships | Point | `mmsi` UInt, `name` String, `home_port` String, `speed_kn` Float, `heading_deg` Float, `in_port` Bool, `reported_at` Long |
//! | heritage | Point | `id` Long, `name` String, `level` String, `watch` String |
//! | homesteads | MultiPolygon | `id` Long, `area_m2` Double, `status` String |
//! | enterprises | Point | `id` Long, `name` String, `industry` String, `employees` UInt, `large` Bool |
//! | schools | Point | `id` Long, `name` String, `kind` String, `students` UInt |
//!
//! Enums are stored by their lowercase name (`closed`, `drainage`, …), times
//! as Unix seconds. Ids are `Long` rather than `ULong` because GDAL reads
//! `ULong` as a double, which cannot hold 18-digit unit codes exactly.
//!
//! Features are stored in Hilbert order, as FlatGeobuf requires for its
//! index; the reader returns them sorted by id (ships by MMSI).

mod read;
mod schema;
mod write;

use onemap_core::Layer;
use std::path::{Path, PathBuf};

pub use read::{
    read_areas, read_city_dir, read_enterprises, read_events, read_heritage, read_homesteads,
    read_layer, read_meta, read_schools, read_ships, LayerData,
};
pub use write::write_city_dir;

/// FlatGeobuf magic bytes, format version 3.
const MAGIC: [u8; 8] = *b"fgb\x03fgb\x00";

/// File name of the city metadata in a city directory.
pub const META_FILE: &str = "city.json";
/// Extension of the layer files.
pub const LAYER_EXTENSION: &str = "fgb";

/// Path of `layer`'s file in the city directory `dir`: `<dir>/<layer>.fgb`.
pub fn layer_path(dir: &Path, layer: Layer) -> PathBuf {
    dir.join(format!("{}.{LAYER_EXTENSION}", layer.as_str()))
}

/// Path of the metadata file in the city directory `dir`: `<dir>/city.json`.
pub fn meta_path(dir: &Path) -> PathBuf {
    dir.join(META_FILE)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
    use geo_types::{polygon, MultiPolygon, Polygon};
    use geozero::ColumnValue;
    use onemap_core::*;
    use std::collections::BTreeMap;
    use std::fs;

    pub(crate) fn square(x: f64, y: f64, size: f64) -> Polygon<f64> {
        polygon![
            (x: x, y: y),
            (x: x + size, y: y),
            (x: x + size, y: y + size),
            (x: x, y: y + size),
        ]
    }

    fn area(id: u64, name: &str, leader: Option<&str>, geometry: MultiPolygon<f64>) -> Area {
        let id = AreaId::new(id).unwrap();
        Area {
            id,
            level: id.level().unwrap(),
            name: name.into(),
            parent: id.parent(),
            leader: leader.map(Into::into),
            geometry,
        }
    }

    /// A small city touching every layer, column and nullable value, with
    /// vectors in ascending id order.
    pub(crate) fn sample_city() -> (CityMeta, CityData) {
        let holed = Polygon::new(
            square(119.0, 25.4, 0.1).exterior().clone(),
            vec![square(119.02, 25.42, 0.02).exterior().clone()],
        );
        let areas = vec![
            area(350302, "城厢区", None, MultiPolygon(vec![holed.clone()])),
            area(
                350303,
                "涵江区",
                None,
                MultiPolygon(vec![square(119.1, 25.4, 0.1), square(119.3, 25.4, 0.05)]),
            ),
            area(
                350302101,
                "龙桥街道",
                None,
                MultiPolygon(vec![square(119.0, 25.4, 0.05)]),
            ),
            area(
                350302101001,
                "village",
                None,
                MultiPolygon(vec![square(119.0, 25.4, 0.02)]),
            ),
            area(
                350302101001001,
                "grid 1",
                Some("网格长 A"),
                MultiPolygon(vec![square(119.0, 25.4, 0.01)]),
            ),
            area(
                350302101001001001,
                "unit 1",
                Some("单元长 B"),
                MultiPolygon(vec![square(119.0, 25.4, 0.005)]),
            ),
            area(
                350302101001001002,
                "unit 2",
                None,
                MultiPolygon(vec![square(119.005, 25.4, 0.005)]),
            ),
        ];
        let unit = AreaId::new(350302101001001001).unwrap();
        let events = (1..=40u64)
            .map(|i| {
                let status = EventStatus::ALL[i as usize % EventStatus::ALL.len()];
                Event {
                    id: i,
                    lon: 119.0 + i as f64 * 1e-4,
                    lat: 25.4 + (i * 7 % 13) as f64 * 1e-4,
                    category: EventCategory::ALL[i as usize % EventCategory::ALL.len()],
                    status,
                    reported_at: 1_700_000_000 + i as i64 * 3600,
                    closed_at: (status == EventStatus::Closed)
                        .then_some(1_700_000_000 + i as i64 * 7200),
                    unit,
                }
            })
            .collect();
        let ships = vec![
            Ship {
                mmsi: 412_000_001,
                name: "闽莆渔 00001".into(),
                home_port: "秀屿港".into(),
                lon: 119.2,
                lat: 25.2,
                speed_kn: 7.25,
                heading_deg: 359.9,
                in_port: false,
                reported_at: 1_700_000_123,
            },
            Ship {
                mmsi: 413_999_999,
                name: "".into(),
                home_port: "湄洲岛".into(),
                lon: 119.1,
                lat: 25.1,
                speed_kn: 0.0,
                heading_deg: 0.0,
                in_port: true,
                reported_at: -5,
            },
        ];
        let heritage = vec![HeritagePoint {
            id: 1,
            name: "广化寺".into(),
            lon: 119.0,
            lat: 25.43,
            level: ProtectionLevel::National,
            watch: Watch::FireAndFlood,
        }];
        let homesteads = vec![
            Homestead {
                id: 1,
                geometry: MultiPolygon(vec![square(119.01, 25.41, 0.0002)]),
                area_m2: 412.5,
                status: HomesteadStatus::Idle,
            },
            Homestead {
                id: 2,
                geometry: MultiPolygon(vec![holed]),
                area_m2: 1e-3,
                status: HomesteadStatus::Reclaimed,
            },
        ];
        let enterprises = vec![Enterprise {
            id: 9,
            name: "莆田鞋业".into(),
            lon: 119.05,
            lat: 25.45,
            industry: "footwear".into(),
            employees: 1200,
            large: true,
        }];
        let schools = vec![
            School {
                id: 3,
                name: "第一中学".into(),
                lon: 119.01,
                lat: 25.44,
                kind: SchoolKind::High,
                students: 3000,
            },
            School {
                id: 4,
                name: "幼儿园".into(),
                lon: 119.02,
                lat: 25.44,
                kind: SchoolKind::Kindergarten,
                students: 0,
            },
        ];
        let city = CityData {
            areas: AreaTree::from_areas(areas),
            events,
            ships,
            heritage,
            homesteads,
            enterprises,
            schools,
        };
        let meta = CityMeta {
            name: "test city".into(),
            seed: 7,
            scale: 0.01,
            extent: CITY_EXTENT,
            expected: BTreeMap::from([("events".to_string(), 40), ("units".to_string(), 2)]),
        };
        (meta, city)
    }

    pub(crate) fn assert_city_eq(a: &CityData, b: &CityData) {
        assert_eq!(
            a.areas.iter().collect::<Vec<_>>(),
            b.areas.iter().collect::<Vec<_>>()
        );
        assert_eq!(a.events, b.events);
        assert_eq!(a.ships, b.ships);
        assert_eq!(a.heritage, b.heritage);
        assert_eq!(a.homesteads, b.homesteads);
        assert_eq!(a.enterprises, b.enterprises);
        assert_eq!(a.schools, b.schools);
    }

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

    /// A column value for files made with flatgeobuf's own writer.
    #[derive(Clone, Copy)]
    pub(crate) enum V {
        L(i64),
        S(&'static str),
    }

    /// Writes a layer file with flatgeobuf's `FgbWriter`, to check the reader
    /// against files it did not write.
    pub(crate) fn write_with_fgb_writer(
        path: &Path,
        crs: i32,
        geometry_type: GeometryType,
        columns: &[(&str, ColumnType)],
        features: &[(geo_types::Geometry<f64>, Vec<V>)],
    ) {
        let mut w = FgbWriter::create_with_options(
            "test",
            geometry_type,
            FgbWriterOptions {
                crs: FgbCrs {
                    code: crs,
                    ..Default::default()
                },
                detect_type: false,
                ..Default::default()
            },
        )
        .unwrap();
        for &(name, ty) in columns {
            w.add_column(name, ty, |_, _| {});
        }
        for (geom, props) in features {
            w.add_feature_geom(geom.clone(), |f| {
                for (i, v) in props.iter().enumerate() {
                    let v = match *v {
                        V::L(v) => ColumnValue::Long(v),
                        V::S(v) => ColumnValue::String(v),
                    };
                    geozero::PropertyProcessor::property(f, i, columns[i].0, &v).unwrap();
                }
            })
            .unwrap();
        }
        w.write(std::io::BufWriter::new(fs::File::create(path).unwrap()))
            .unwrap();
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
}
