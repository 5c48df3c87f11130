//! The accept loop: every connection served by hyper's HTTP/1 server with
//! a header timeout, within the connection cap, and shut down gracefully.
//!
//! Written out rather than `axum::serve`, which neither sets hyper's timer
//! (without one hyper has no header timeout: a client sending half a head
//! holds its connection for ever) nor caps connections. The rest is what
//! `axum::serve` does: accept errors such as running out of file
//! descriptors pause the loop instead of ending it, and on Ctrl-C or
//! SIGTERM the server stops accepting and lets answers in flight finish.

use crate::guard::Overflow;
use crate::{AppState, ServerError};
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a shutdown waits for answers in flight (streams never end by
/// themselves) before the remaining connections are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until Ctrl-C or SIGTERM.
pub(crate) async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServerError> {
    let app = crate::app(state.clone());
    let guard = state.guard.clone();
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Beyond the cap and its overflow: closed at once, unanswered.
        let (stream, peer) = stream;
        let Some(slot) = guard.connection() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let overflow = slot.overflow;
        let service = app.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            // The peer's address, as `axum::serve` gives it.
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            if overflow {
                req.extensions_mut().insert(Overflow);
            }
            req
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(guard.limits.header_timeout)
            // An overflow connection is served one request, then closed.
            .keep_alive(!overflow);
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("answers still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
    Ok(())
}

/// A failed accept: the peer gave up (try the next at once), or the
/// process is out of something (file descriptors): wait a moment.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::error!("cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
