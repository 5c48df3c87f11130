//! The one JSON convention for ids: an integer beyond 2^53 − 1 is written as
//! a string of its digits. JavaScript (a browser's `JSON.parse`, and most
//! JSON readers that parse numbers as doubles) rounds such an integer to a
//! neighbour: unit ids have 18 digits, H3 cells 18 or 19. The API's answers
//! and `onemap query`'s JSON both go through [`js_safe`] (or write it at
//! once with [`to_js_safe_vec`]), as the tiles carry such ids as string
//! properties (`onemap_tiles`' `code`, `unit_id`).

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Value;
use std::io;

/// The largest integer every JSON reader holds exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A JSON value with every integer beyond [`MAX_SAFE_INTEGER`] (any field,
/// any depth; ids are never negative) turned into a string of its digits;
/// the rest as it was.
pub fn js_safe(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(u) if u > MAX_SAFE_INTEGER => Value::String(u.to_string()),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(js_safe).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, js_safe(v))).collect()),
        other => other,
    }
}

/// `v` as compact JSON text, written as [`js_safe`] of its value would be
/// but without building that value: an answer of a million coordinates
/// costs its text, not a tree of `Value`s several times its size.
pub fn to_js_safe_vec<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, JsSafe::default());
    v.serialize(&mut ser)?;
    Ok(out)
}

/// The compact formatter, writing integers beyond [`MAX_SAFE_INTEGER`] as
/// strings. Object keys are strings already (serde_json quotes an integer
/// key itself), so inside a key a number is written as it is.
#[derive(Default)]
struct JsSafe {
    in_key: bool,
}

impl JsSafe {
    fn big<W: io::Write + ?Sized>(&self, w: &mut W, digits: &str) -> io::Result<()> {
        if self.in_key {
            w.write_all(digits.as_bytes())
        } else {
            w.write_all(b"\"")?;
            w.write_all(digits.as_bytes())?;
            w.write_all(b"\"")
        }
    }
}

impl Formatter for JsSafe {
    fn write_u64<W: io::Write + ?Sized>(&mut self, w: &mut W, v: u64) -> io::Result<()> {
        if v > MAX_SAFE_INTEGER {
            self.big(w, &v.to_string())
        } else {
            CompactFormatter.write_u64(w, v)
        }
    }

    fn write_i64<W: io::Write + ?Sized>(&mut self, w: &mut W, v: i64) -> io::Result<()> {
        match u64::try_from(v) {
            Ok(u) => self.write_u64(w, u),
            Err(_) => CompactFormatter.write_i64(w, v),
        }
    }

    fn write_u128<W: io::Write + ?Sized>(&mut self, w: &mut W, v: u128) -> io::Result<()> {
        match u64::try_from(v) {
            Ok(u) => self.write_u64(w, u),
            // serde_json's Value holds no integer this large: a string.
            Err(_) => self.big(w, &v.to_string()),
        }
    }

    fn write_i128<W: io::Write + ?Sized>(&mut self, w: &mut W, v: i128) -> io::Result<()> {
        match (u64::try_from(v), i64::try_from(v)) {
            (Ok(u), _) => self.write_u64(w, u),
            (_, Ok(i)) => CompactFormatter.write_i64(w, i),
            _ => self.big(w, &v.to_string()),
        }
    }

    fn begin_object_key<W: io::Write + ?Sized>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.in_key = true;
        CompactFormatter.begin_object_key(w, first)
    }

    fn end_object_key<W: io::Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_key = false;
        CompactFormatter.end_object_key(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn big_integers_become_strings() {
        let v = js_safe(json!({
            "id": 350302005001001009u64,
            "n": [1, 2.5, -3],
            "small": 350302,
            "edge": [MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1],
            "deep": {"unit": 350304002001007007u64, "cell": 622236750694711295u64},
        }));
        assert_eq!(
            v,
            json!({
                "id": "350302005001001009",
                "n": [1, 2.5, -3],
                "small": 350302,
                "edge": [MAX_SAFE_INTEGER, "9007199254740992"],
                "deep": {"unit": "350304002001007007", "cell": "622236750694711295"},
            })
        );
    }

    /// Written at once equals written through [`js_safe`], for any mix of
    /// integers around the limit, in arrays, objects, keys and structs.
    #[test]
    fn written_at_once_equals_js_safe() {
        use proptest::prelude::*;
        // Fields in the order of a value's (sorted) keys: the texts compare.
        #[derive(Serialize)]
        // Keys of one length each, so their order as numbers is as text.
        struct S {
            big: std::collections::BTreeMap<u64, Vec<i64>>,
            id: u64,
            opt: Option<u64>,
            signed: i64,
            small: std::collections::BTreeMap<u64, i64>,
            text: String,
            x: f64,
        }
        let near = prop_oneof![
            Just(MAX_SAFE_INTEGER),
            Just(MAX_SAFE_INTEGER + 1),
            Just(u64::MAX),
            Just(0u64),
            any::<u64>(),
            0u64..1000,
        ];
        let strat = (
            near.clone(),
            any::<i64>(),
            prop::collection::btree_map(
                100_000_000_000_000_000u64..1_000_000_000_000_000_000,
                prop::collection::vec(any::<i64>(), 0..4),
                0..4,
            ),
            prop::collection::btree_map(100u64..1000, any::<i64>(), 0..4),
            ".*",
            any::<f64>().prop_filter("JSON has no NaN or infinity", |x| x.is_finite()),
            prop::option::of(near),
        );
        proptest!(|((id, signed, big, small, text, x, opt) in strat)| {
            let s = S { big, id, opt, signed, small, text, x };
            let via_value = serde_json::to_vec(&js_safe(serde_json::to_value(&s).unwrap())).unwrap();
            prop_assert_eq!(
                String::from_utf8(to_js_safe_vec(&s).unwrap()).unwrap(),
                String::from_utf8(via_value).unwrap()
            );
        });
        // A Value too, as the API hands some answers over.
        let v = json!({"a": [MAX_SAFE_INTEGER + 1, -5, 1.5], "b": {"c": 350304002001007007u64}});
        assert_eq!(
            to_js_safe_vec(&v).unwrap(),
            serde_json::to_vec(&js_safe(v.clone())).unwrap()
        );
    }
}
