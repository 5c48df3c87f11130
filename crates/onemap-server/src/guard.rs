//! Limits that keep one client, or many, from taking the server down:
//! time, connections, concurrent expensive work, stream subscribers and
//! request bodies. Each limit is a [`Limits`] field (an `onemap serve` flag);
//! [`Guard`] holds the semaphores and the counters `/metrics` shows.
//!
//! Who does what:
//! - hyper's HTTP/1 server (`conn.rs`) times out request heads: a
//!   connection that does not deliver a whole head within
//!   [`Limits::header_timeout`] of the server waiting for one — a new
//!   connection, or a kept-alive one between requests — is closed. hyper
//!   has one timer for both, so the header timeout is also the keep-alive
//!   idle limit.
//! - The rest is here, by hand, each piece a few lines over a tokio
//!   semaphore or timer. tower's `ConcurrencyLimit` queues without bound
//!   and `LoadShed` answers with an error type of its own, tower-http's
//!   `TimeoutLayer` and `RequestBodyLimitLayer` answer with empty or plain
//!   text bodies; ours must be the JSON `{"error": …}` of every other
//!   failure, with a body limit chosen per route, and the permit of an
//!   expensive request must live as long as its blocking work (which a
//!   timed-out request cannot stop), not as long as the request.
//!
//! Load shedding never queues: a request over a cap is answered at once,
//! 503 `overloaded` with `Retry-After`. `/healthz` and `/metrics` are
//! exempt from every cap.

use crate::error::{ApiError, ErrorCode};
use crate::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits of a server, with the defaults of `onemap serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time to receive a request's head (its line and headers), from when
    /// the connection waits for one; also how long a kept-alive connection
    /// may sit idle. Default 10 s.
    pub header_timeout: Duration,
    /// Time from a request's head to its answer's head, reading the body
    /// included (a stream's events are not timed). Default 30 s.
    pub request_timeout: Duration,
    /// Connections served as usual. Beyond it, up to
    /// [`OVERFLOW_CONNECTIONS`] more are served one request each, answered
    /// 503 `overloaded` (but `/healthz` and `/metrics`); beyond those a
    /// connection is closed unanswered. Default 512.
    pub max_connections: usize,
    /// Expensive requests at once: tile renders that miss the cache and the
    /// queries worked on a blocking thread (features, nearest, stats, hot
    /// spots, area details, search, the wall). Default 32.
    pub max_expensive: usize,
    /// Subscribers of the ship stream (`/api/ships/stream`). Default 256.
    pub max_streams: usize,
    /// Queries worked at once (features, nearest, stats, hot spots, area
    /// details, search, the wall): each may hold tens of megabytes while it
    /// runs, and on a few cores more at once only wait for each other. A
    /// query beyond it waits up to [`QUERY_WAIT`] for its turn, then is
    /// answered 503 `overloaded`. Default the cores, at least 2 (on 2 cores
    /// 4 at once answered no more and held 1.59 GB; 2 held 1.40 GB).
    pub max_queries: usize,
    /// Downloads of the one table made at once (CSV, XLSX, GeoPackage);
    /// beyond, one waits up to [`QUERY_WAIT`] for its turn, then 503. A
    /// download holds the city snapshot it started on for as long as it
    /// runs (a CSV as long as its client reads), and an XLSX or GeoPackage
    /// is made whole in memory (64 MiB for a million events as XLSX).
    /// Their own turns, so slow readers cannot hold up queries. Default 2.
    pub max_downloads: usize,
    /// Groups one `/api/stats` answer lists (422 `too_large` beyond).
    /// Default [`onemap_index::MAX_GROUPS`] (20,000).
    pub max_groups: usize,
    /// Body of an event report or move, bytes. Default 64 KiB.
    pub event_body: usize,
    /// Body of a ship position batch (up to 10,000 reports), bytes.
    /// Default 4 MiB: 10,000 reports with ISO 8601 times and full-precision
    /// coordinates take 1.3 MiB as compact JSON, 2 MiB pretty-printed with
    /// four-space indents.
    pub ships_body: usize,
    /// Body of an event photo (the image as it is), bytes. Default 10 MiB:
    /// a phone's camera JPEG takes 2 to 8 MiB.
    pub photo_body: usize,
}

/// Connections served beyond [`Limits::max_connections`], each for one
/// request that is answered 503 unless it asks for health or metrics.
pub const OVERFLOW_CONNECTIONS: usize = 64;

/// How long a query waits for its turn among [`Limits::max_queries`].
pub const QUERY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The cores this process may use, at least 2.
pub fn default_max_queries() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .max(2)
}

/// Seconds a shed client is asked to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 1;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_expensive: 32,
            max_streams: 256,
            max_groups: onemap_index::MAX_GROUPS,
            max_queries: default_max_queries(),
            max_downloads: 2,
            event_body: 64 << 10,
            ships_body: 4 << 20,
            photo_body: 10 << 20,
        }
    }
}

/// What a cap turned away, as `/metrics` labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shed {
    /// A request on a connection beyond the connection cap.
    Connections,
    /// A connection beyond the overflow, closed unanswered.
    Closed,
    /// An expensive request beyond its cap.
    Expensive,
    /// A stream subscriber beyond its cap.
    Streams,
}

impl Shed {
    pub(crate) const ALL: [Shed; 4] = [
        Shed::Connections,
        Shed::Closed,
        Shed::Expensive,
        Shed::Streams,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Shed::Connections => "connections",
            Shed::Closed => "connections_closed",
            Shed::Expensive => "expensive",
            Shed::Streams => "streams",
        }
    }
}

/// The limits in force, their semaphores and their counters.
#[derive(Debug)]
pub struct Guard {
    pub(crate) limits: Limits,
    connections: Arc<Semaphore>,
    overflow: Arc<Semaphore>,
    expensive: Arc<Semaphore>,
    queries: Arc<Semaphore>,
    downloads: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    shed: [AtomicU64; 4],
    timeouts: AtomicU64,
}

/// A connection's place, held as long as the connection: served as usual,
/// or in the overflow.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    pub(crate) overflow: bool,
}

/// Marks the requests of an overflow connection (a request extension).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Overflow;

impl Guard {
    pub(crate) fn new(limits: Limits) -> Guard {
        // A semaphore holds at most `Semaphore::MAX_PERMITS`.
        let sem = |n: usize| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)));
        Guard {
            connections: sem(limits.max_connections),
            overflow: sem(OVERFLOW_CONNECTIONS),
            expensive: sem(limits.max_expensive),
            queries: sem(limits.max_queries),
            downloads: sem(limits.max_downloads),
            streams: sem(limits.max_streams),
            shed: Default::default(),
            timeouts: AtomicU64::new(0),
            limits,
        }
    }

    /// A place for a new connection, or `None` (counted) when even the
    /// overflow is full.
    pub(crate) fn connection(&self) -> Option<Slot> {
        if let Ok(p) = self.connections.clone().try_acquire_owned() {
            return Some(Slot {
                _permit: p,
                overflow: false,
            });
        }
        if let Ok(p) = self.overflow.clone().try_acquire_owned() {
            return Some(Slot {
                _permit: p,
                overflow: true,
            });
        }
        self.count(Shed::Closed);
        None
    }

    /// A permit for expensive work, held until the work is done (move it
    /// into the blocking task); 503 `overloaded` when all are taken.
    pub(crate) fn expensive(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.expensive.clone().try_acquire_owned().map_err(|_| {
            self.count(Shed::Expensive);
            overloaded(format!(
                "the server is busy: {} expensive requests (tile renders, queries) are running, the most it takes at once",
                self.limits.max_expensive
            ))
        })
    }

    /// A query's turn: waits up to [`QUERY_WAIT`] for one of
    /// [`Limits::max_queries`], then 503 `overloaded` (counted as expensive).
    pub(crate) async fn query(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let busy = || format!("{} queries are running", self.limits.max_queries);
        self.turn(&self.queries, busy).await
    }

    /// A download's turn: as a query's, among [`Limits::max_downloads`].
    pub(crate) async fn download(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let busy = || format!("{} downloads are being made", self.limits.max_downloads);
        self.turn(&self.downloads, busy).await
    }

    /// One of `turns`, waited for up to [`QUERY_WAIT`]; then 503
    /// `overloaded` saying `busy()` (counted as expensive).
    async fn turn(
        &self,
        turns: &Arc<Semaphore>,
        busy: impl FnOnce() -> String,
    ) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(QUERY_WAIT, Arc::clone(turns).acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            _ => {
                self.count(Shed::Expensive);
                Err(overloaded(format!(
                    "the server is busy: {} and others waited {} s for their turn",
                    busy(),
                    QUERY_WAIT.as_secs()
                )))
            }
        }
    }

    /// A permit for a stream subscriber, held as long as its stream;
    /// 503 `overloaded` when all are taken.
    pub(crate) fn stream(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.streams.clone().try_acquire_owned().map_err(|_| {
            self.count(Shed::Streams);
            overloaded(format!(
                "the ship stream has {} subscribers, the most it takes",
                self.limits.max_streams
            ))
        })
    }

    pub(crate) fn count(&self, what: Shed) {
        self.shed[what as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn shed(&self, what: Shed) -> u64 {
        self.shed[what as usize].load(Ordering::Relaxed)
    }

    pub(crate) fn timeouts(&self) -> u64 {
        self.timeouts.load(Ordering::Relaxed)
    }

    /// (open connections, expensive requests running, stream subscribers,
    /// downloads being made).
    pub(crate) fn in_use(&self) -> (usize, usize, usize, usize) {
        let used =
            |s: &Semaphore, max: usize| max.min(Semaphore::MAX_PERMITS) - s.available_permits();
        (
            used(&self.connections, self.limits.max_connections)
                + used(&self.overflow, OVERFLOW_CONNECTIONS),
            used(&self.expensive, self.limits.max_expensive),
            used(&self.streams, self.limits.max_streams),
            used(&self.downloads, self.limits.max_downloads),
        )
    }

    /// The largest body a route takes: the event loop's writes, photos and
    /// ship batches have their own limits, everything else takes none.
    fn body_limit(&self, method: &Method, route: Option<&str>) -> usize {
        match (method, route) {
            (&Method::POST, Some("/api/events" | "/api/events/{id}/transitions")) => {
                self.limits.event_body
            }
            (&Method::POST, Some("/api/ships/positions")) => self.limits.ships_body,
            (&Method::POST, Some("/api/events/{id}/photos")) => self.limits.photo_body,
            // A name and a password.
            (&Method::POST, Some("/api/session")) => 4 << 10,
            // A department's answer: `{"accept": true}`.
            (&Method::POST, Some("/api/coord/plans/{id}/decision")) => 4 << 10,
            // A template: a name, a ledger, its query text and an area.
            (&Method::POST, Some("/api/table/templates")) => 8 << 10,
            // A request or a self-check: a few fields and a note of at
            // most 500 characters.
            (&Method::POST, Some("/api/coord/requests" | "/api/coord/pushes/{key}/self-check")) => {
                8 << 10
            }
            // A list item: a title, a detail of up to 2,000 characters, an
            // owner, up to 500 linked event ids; or a change with a note.
            (&Method::POST, Some("/api/lists" | "/api/lists/{id}")) => 32 << 10,
            _ => 0,
        }
    }
}

/// 503 `overloaded` (with `Retry-After`, added where the answer is made).
fn overloaded(message: String) -> ApiError {
    ApiError::new(ErrorCode::Overloaded, message)
}

/// Middleware over every route: sheds the requests of overflow
/// connections, refuses bodies over the route's limit (413 before reading
/// when `Content-Length` says so, else when the handler reads past it),
/// and answers 503 `timeout` to a request not answered within
/// [`Limits::request_timeout`].
pub(crate) async fn limits(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let guard = &state.guard;
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let exempt = matches!(route, Some("/healthz" | "/metrics"));
    if req.extensions().get::<Overflow>().is_some() && !exempt {
        guard.count(Shed::Connections);
        return overloaded(format!(
            "the server is busy: {} connections are open, the most it serves",
            guard.limits.max_connections
        ))
        .into_response();
    }
    let limit = guard.body_limit(req.method(), route);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let what = match limit {
            0 => "this route takes no body".to_string(),
            n => format!("this route takes bodies of at most {n} bytes"),
        };
        return ApiError::new(ErrorCode::BodyTooLarge, what).into_response();
    }
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
    let timeout = guard.limits.request_timeout;
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            guard.timeouts.fetch_add(1, Ordering::Relaxed);
            ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "the request was not answered within {} s, the most this server gives one",
                    timeout.as_secs_f64()
                ),
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hand_out_their_permits_then_shed() {
        let g = Guard::new(Limits {
            max_connections: 1,
            max_expensive: 2,
            max_streams: 1,
            ..Limits::default()
        });
        let a = g.expensive().unwrap();
        let _b = g.expensive().unwrap();
        let e = g.expensive().unwrap_err();
        assert_eq!((e.code, e.status().as_u16()), (ErrorCode::Overloaded, 503));
        assert_eq!(g.shed(Shed::Expensive), 1);
        drop(a);
        assert!(g.expensive().is_ok());
        let _s = g.stream().unwrap();
        assert_eq!(g.stream().unwrap_err().code, ErrorCode::Overloaded);
        assert_eq!(g.shed(Shed::Streams), 1);
        let first = g.connection();
        assert!(first.as_ref().is_some_and(|s| !s.overflow));
        let more: Vec<_> = (0..OVERFLOW_CONNECTIONS).map(|_| g.connection()).collect();
        assert!(more.iter().all(|s| s.as_ref().is_some_and(|s| s.overflow)));
        assert!(g.connection().is_none());
        assert_eq!(g.shed(Shed::Closed), 1);
        assert_eq!(g.in_use(), (1 + OVERFLOW_CONNECTIONS, 1, 1, 0));
    }

    #[tokio::test]
    async fn downloads_take_turns_apart_from_queries() {
        let g = Arc::new(Guard::new(Limits {
            max_downloads: 1,
            max_queries: 1,
            ..Limits::default()
        }));
        let first = g.download().await.unwrap();
        // A download being made does not hold up queries.
        let q = g.query().await.unwrap();
        assert_eq!(g.in_use().3, 1);
        // The next download waits for the turn the first gives back.
        let next = tokio::spawn({
            let g = Arc::clone(&g);
            async move { g.download().await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!next.is_finished());
        drop(first);
        next.await.unwrap().unwrap();
        // Held past the wait, a download is refused: 503 overloaded.
        let _held = g.download().await.unwrap();
        let e = g.download().await.unwrap_err();
        assert_eq!((e.code, e.status().as_u16()), (ErrorCode::Overloaded, 503));
        assert!(e.message.contains("downloads"), "{}", e.message);
        assert_eq!(g.shed(Shed::Expensive), 1);
        drop(q);
    }

    #[test]
    fn bodies_are_for_writes_only() {
        let g = Guard::new(Limits::default());
        let post = |r| g.body_limit(&Method::POST, Some(r));
        assert_eq!(post("/api/events"), 64 << 10);
        assert_eq!(post("/api/events/{id}/transitions"), 64 << 10);
        assert_eq!(post("/api/ships/positions"), 4 << 20);
        assert_eq!(post("/api/events/{id}/photos"), 10 << 20);
        assert_eq!(
            g.body_limit(&Method::GET, Some("/api/events/{id}/photos/{seq}")),
            0
        );
        assert_eq!(g.body_limit(&Method::GET, Some("/api/events")), 0);
        assert_eq!(g.body_limit(&Method::GET, Some("/api/stats")), 0);
        assert_eq!(g.body_limit(&Method::POST, None), 0);
    }
}
