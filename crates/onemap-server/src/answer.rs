//! What every answer shares: queries run off the async threads, and JSON
//! whose integers a browser reads exactly.

use crate::error::ApiError;
use crate::AppState;
use serde_json::Value;

/// Runs expensive work (a query, a tile render) off the async threads:
/// big aggregates take milliseconds to seconds. Each run holds a permit of
/// the expensive cap until the work is done, even when its request timed
/// out or its client left (the blocking work cannot be stopped); with none
/// free the answer is 503 `overloaded` at once.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = state.guard.expensive()?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let answer = f(&state);
        drop(permit);
        answer
    })
    .await
    .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
}

/// The largest integer a JavaScript number holds exactly (2^53 − 1).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Integers beyond 2^53 − 1 (unit ids have 18 digits) become strings, so a
/// browser's `JSON.parse` cannot round them to a neighbour's id.
pub(crate) fn js_safe(v: Value) -> Value {
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
    fn big_ids_become_strings() {
        let v = js_safe(json!({"id": 350302005001001009u64, "n": [1, 2.5], "small": 350302}));
        assert_eq!(
            v,
            json!({"id": "350302005001001009", "n": [1, 2.5], "small": 350302})
        );
    }
}
