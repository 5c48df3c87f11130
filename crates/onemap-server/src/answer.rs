//! What every answer shares: queries run off the async threads, and JSON
//! whose integers a browser reads exactly (`onemap_index::js_safe`).

use crate::error::ApiError;
use crate::AppState;

/// Runs expensive work (a query, a tile render) off the async threads:
/// big aggregates take milliseconds to seconds. Each run holds a permit of
/// the expensive cap until the work is done, even when its request timed
/// out or its client left (the blocking work cannot be stopped); with none
/// free the answer is 503 `overloaded` at once.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    run_blocking(state, None, f).await
}

/// A query (not a tile render) off the async threads: it also takes its
/// turn among [`crate::Limits::max_queries`], which bounds the memory the
/// queries at work hold together.
pub(crate) async fn query<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let turn = state.guard.query().await?;
    run_blocking(state, Some(turn), f).await
}

/// [`blocking`] holding `turn` (a query's or a download's) until the work
/// is done.
pub(crate) async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    turn: Option<tokio::sync::OwnedSemaphorePermit>,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = state.guard.expensive()?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let answer = f(&state);
        drop(permit);
        drop(turn);
        answer
    })
    .await
    .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
}

/// JSON whose integers a browser reads exactly: the one rule, in the index.
pub(crate) use onemap_index::js_safe;

/// A JSON answer already written ([`json_body`]).
pub(crate) struct JsonBody(Vec<u8>);

impl axum::response::IntoResponse for JsonBody {
    fn into_response(self) -> axum::response::Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// `v` as JSON text with [`js_safe`]'s rule, written at once: inside a
/// query's turn, so what the query built is freed before its turn ends and
/// only the text waits for the client (a `Json<Value>` answer is written
/// after the turn, from a tree several times the text's size).
pub(crate) fn json_body<T: serde::Serialize + ?Sized>(v: &T) -> Result<JsonBody, ApiError> {
    onemap_index::to_js_safe_vec(v)
        .map(JsonBody)
        .map_err(|e| ApiError::internal(format!("cannot serialize an answer: {e}")))
}
