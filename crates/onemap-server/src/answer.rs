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

async fn run_blocking<T: Send + 'static>(
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
