//! The one JSON convention for ids: an integer beyond 2^53 − 1 is written as
//! a string of its digits. JavaScript (a browser's `JSON.parse`, and most
//! JSON readers that parse numbers as doubles) rounds such an integer to a
//! neighbour: unit ids have 18 digits, H3 cells 18 or 19. The API's answers
//! and `onemap query`'s JSON both go through [`js_safe`], as the tiles
//! carry such ids as string properties (`onemap_tiles`' `code`, `unit_id`).

use serde_json::Value;

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
}
