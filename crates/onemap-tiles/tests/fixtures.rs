//! onemap-tiles against `@mapbox/mvt-fixtures` (vendored subset, see
//! `fixtures/mvt-fixtures/README.md`): we build the same content, and the
//! independent decoder must read our tile and the fixture alike.

mod common;

use common::*;
use onemap_tiles::{
    encode_points, encode_rings, encode_tile, GeomType, LayerEncoder, TileBuilder, Value, EXTENT,
};
use serde_json::Value as Json;

fn fixture(id: &str) -> Json {
    let path = format!(
        "{}/tests/fixtures/mvt-fixtures/{id}/tile.mvt",
        env!("CARGO_MANIFEST_DIR")
    );
    decode(&std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}")))
}

/// Rotates every closed ring to start at its smallest point, so rings that
/// differ only in where they start compare equal.
fn normalize(v: &mut Json) {
    match v {
        Json::Object(m) => {
            if m.get("type")
                .and_then(Json::as_str)
                .is_some_and(|t| t.ends_with("Polygon"))
            {
                if let Some(c) = m.get_mut("coordinates") {
                    rotate_rings(c);
                }
            }
            m.values_mut().for_each(normalize);
        }
        Json::Array(a) => a.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn rotate_rings(v: &mut Json) {
    let a = v.as_array_mut().unwrap();
    let is_ring = a
        .first()
        .and_then(|p| p.as_array())
        .is_some_and(|p| p.first().is_some_and(Json::is_number));
    if !is_ring {
        a.iter_mut().for_each(rotate_rings);
        return;
    }
    a.pop(); // the closing point
    let key = |p: &Json| (p[0].as_i64().unwrap(), p[1].as_i64().unwrap());
    let start = (0..a.len()).min_by_key(|&i| key(&a[i])).unwrap();
    a.rotate_left(start);
    a.push(a[0].clone());
}

fn assert_same(ours: &[u8], id: &str) {
    let (mut ours, mut theirs) = (decode(ours), fixture(id));
    normalize(&mut ours);
    normalize(&mut theirs);
    assert_eq!(ours, theirs, "fixture {id}");
}

fn one_feature(
    layer: &str,
    geom_type: GeomType,
    geometry: &[u32],
    props: &[(&str, Value)],
) -> Vec<u8> {
    let mut l = LayerEncoder::new(layer, EXTENT);
    l.add_feature(1, geom_type, geometry, props);
    encode_tile([&l])
}

#[test]
fn fixture_019_polygon() {
    let g = encode_rings(&[vec![[3, 6], [8, 12], [20, 34]]]);
    assert_same(
        &one_feature("hello", GeomType::Polygon, &g, &[("hello", "world".into())]),
        "019",
    );
}

#[test]
fn fixture_022_multipolygon() {
    let g = encode_rings(&[
        vec![[0, 0], [10, 0], [10, 10], [0, 10]],
        vec![[11, 11], [20, 11], [20, 20], [11, 20]],
        vec![[13, 13], [13, 17], [17, 17], [17, 13]],
    ]);
    assert_same(
        &one_feature("hello", GeomType::Polygon, &g, &[("hello", "world".into())]),
        "022",
    );
}

#[test]
fn fixture_038_every_value_type() {
    let props = [
        ("string_value", Value::from("ello")),
        ("bool_value", Value::Bool(true)),
        ("int_value", Value::Int(6)),
        ("double_value", Value::Double(1.23)),
        ("float_value", Value::Float(3.1)),
        ("sint_value", Value::SInt(-87948)),
        ("uint_value", Value::UInt(87948)),
    ];
    assert_same(
        &one_feature(
            "hello",
            GeomType::Point,
            &encode_points(&[[25, 17]]),
            &props,
        ),
        "038",
    );
}

/// The clipped-square fixtures, made by the whole pipeline: a lon/lat square
/// clipped (or not) by `TileBuilder` with the given buffer.
#[test]
fn fixtures_053_to_055_clipped_squares() {
    let t = putian(14);
    for (id, buffer, square) in [
        ("053", 0, [-500.0, 4600.0]),
        ("054", 1, [-500.0, 4600.0]),
        ("055", 64, [1.0, 4095.0]),
    ] {
        let label =
            fixture(id)["clipped-square"]["features"][0]["properties"]["type"]["value"].clone();
        let [a, b] = square;
        // Given counter-clockwise on screen: the builder must turn it round.
        let mp = polygon(t, &[[a, a], [a, b], [b, b], [b, a]], &[]);
        let mut builder = TileBuilder::with_buffer(t, buffer);
        builder
            .layer("clipped-square")
            .unwrap()
            .tolerance(0.0)
            .add_polygon(
                1,
                &mp,
                &[("type", Value::from(label.as_str().unwrap().to_string()))],
            )
            .unwrap();
        assert_same(&builder.finish().unwrap(), id);
    }
}
