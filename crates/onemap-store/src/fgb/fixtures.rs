//! Test data shared by the city directory's tests: a small city touching
//! every layer, column and nullable value, and files written with
//! flatgeobuf's own `FgbWriter`, to check the reader against files it did
//! not write.

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo_types::{polygon, MultiPolygon, Polygon};
use geozero::ColumnValue;
use onemap_core::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

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
                status_at: 1_700_000_000 + i as i64 * 7200,
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
        history_end: Some(1_800_000_000),
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
