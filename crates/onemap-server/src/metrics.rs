//! Prometheus metrics, hand-rolled: request counts by route and status,
//! latency histograms by route, tile sizes, the tile cache's figures, and
//! what the limits shed.
//!
//! Every label comes from a fixed set, so no request can add a series: the
//! route is the matched route's template (`unmatched` for any other path)
//! and the method one of [`METHODS`] or `other`.

use crate::guard::Shed;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
const SIZE_BUCKETS: [f64; 8] = [
    256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Cumulative-free counts per bucket; the last slot is +Inf.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, buckets: &[f64], v: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; buckets.len() + 1];
        }
        let i = buckets
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(buckets.len());
        self.counts[i] += 1;
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, buckets: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cum = 0;
        for (i, b) in buckets.iter().enumerate() {
            cum += self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cum}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// The methods counted by name; any other is `other`.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
];

/// A method as labelled: its name if it is one of [`METHODS`], else
/// `other` (a client may send any token as a method).
fn method_label(m: &Method) -> &'static str {
    METHODS
        .iter()
        .find(|k| *k == m)
        .map_or("other", Method::as_str)
}

/// One route's figures.
#[derive(Debug, Default)]
struct RouteStats {
    /// (method, status) → count; a handful per route, so a short list.
    counts: Vec<(&'static str, u16, u64)>,
    latency: Histogram,
}

#[derive(Debug, Default)]
struct Tables {
    /// Route pattern → its figures (looked up by `&str`: no allocation per
    /// request once a route has been seen).
    routes: HashMap<String, RouteStats>,
    tile_bytes: Histogram,
    tiles_empty: u64,
    tiles_not_modified: u64,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Tables>);

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Tables) -> R) -> R {
        // A poisoned lock only means a panic elsewhere mid-update; the
        // counters are still usable.
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut t)
    }

    pub fn tile_sent(&self, bytes: usize) {
        self.with(|t| t.tile_bytes.observe(&SIZE_BUCKETS, bytes as f64));
    }

    pub fn tile_empty(&self) {
        self.with(|t| t.tiles_empty += 1);
    }

    pub fn tile_not_modified(&self) {
        self.with(|t| t.tiles_not_modified += 1);
    }

    fn request(&self, method: &'static str, route: &str, status: u16, secs: f64) {
        self.with(|t| {
            let r = match t.routes.get_mut(route) {
                Some(r) => r,
                None => t.routes.entry(route.to_string()).or_default(),
            };
            match r
                .counts
                .iter_mut()
                .find(|(m, s, _)| *s == status && *m == method)
            {
                Some((_, _, n)) => *n += 1,
                None => r.counts.push((method, status, 1)),
            }
            r.latency.observe(&LATENCY_BUCKETS, secs);
        });
    }
}

/// Middleware: counts and times every request by its route pattern.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state
        .metrics
        .request(method, route, res.status().as_u16(), secs);
    res
}

/// The metrics in the Prometheus text format.
pub fn render(state: &AppState) -> String {
    let mut out = String::new();
    let cache = state.tiles().cache_stats();
    state.metrics.with(|t| {
        out.push_str("# HELP onemap_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE onemap_http_requests_total counter\n");
        // Sorted, so the text is stable between scrapes.
        let routes: BTreeMap<&str, &RouteStats> =
            t.routes.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut counts: Vec<(&str, &str, u16, u64)> = routes
            .iter()
            .flat_map(|(route, r)| r.counts.iter().map(|(m, s, n)| (*m, *route, *s, *n)))
            .collect();
        counts.sort_unstable();
        for (method, route, status, n) in counts {
            let _ = writeln!(
                out,
                "onemap_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP onemap_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE onemap_http_request_duration_seconds histogram\n");
        for (route, r) in &routes {
            let h = &r.latency;
            h.render(
                &mut out,
                "onemap_http_request_duration_seconds",
                &format!("route=\"{route}\""),
                &LATENCY_BUCKETS,
            );
        }
        out.push_str("# HELP onemap_tile_bytes Size of tiles sent (before transfer compression).\n");
        out.push_str("# TYPE onemap_tile_bytes histogram\n");
        t.tile_bytes
            .render(&mut out, "onemap_tile_bytes", "", &SIZE_BUCKETS);
        let _ = writeln!(out, "# TYPE onemap_tiles_empty_total counter\nonemap_tiles_empty_total {}", t.tiles_empty);
        let _ = writeln!(
            out,
            "# TYPE onemap_tiles_not_modified_total counter\nonemap_tiles_not_modified_total {}",
            t.tiles_not_modified
        );
    });
    let _ = writeln!(out, "# HELP onemap_tile_cache_hits_total Tile cache hits.\n# TYPE onemap_tile_cache_hits_total counter\nonemap_tile_cache_hits_total {}", cache.hits);
    let _ = writeln!(out, "# HELP onemap_tile_cache_misses_total Tile cache misses.\n# TYPE onemap_tile_cache_misses_total counter\nonemap_tile_cache_misses_total {}", cache.misses);
    let _ = writeln!(
        out,
        "# TYPE onemap_tile_cache_entries gauge\nonemap_tile_cache_entries {}",
        cache.entries
    );
    let _ = writeln!(
        out,
        "# TYPE onemap_tile_cache_bytes gauge\nonemap_tile_cache_bytes {}",
        cache.bytes
    );
    let guard = &state.guard;
    out.push_str("# HELP onemap_http_shed_total Requests answered 503 overloaded, by the cap that was full (connections_closed: connections closed unanswered beyond the overflow).\n# TYPE onemap_http_shed_total counter\n");
    for what in Shed::ALL {
        let _ = writeln!(
            out,
            "onemap_http_shed_total{{limit=\"{}\"}} {}",
            what.label(),
            guard.shed(what)
        );
    }
    let _ = writeln!(
        out,
        "# HELP onemap_http_timeouts_total Requests answered 503 timeout.\n# TYPE onemap_http_timeouts_total counter\nonemap_http_timeouts_total {}",
        guard.timeouts()
    );
    let (connections, expensive, streams, downloads) = guard.in_use();
    let limits = &guard.limits;
    for (name, help, now, max) in [
        (
            "onemap_http_connections",
            "Open connections",
            connections,
            limits.max_connections,
        ),
        (
            "onemap_http_expensive_requests",
            "Expensive requests running",
            expensive,
            limits.max_expensive,
        ),
        (
            "onemap_table_downloads",
            "Downloads of the one table being made",
            downloads,
            limits.max_downloads,
        ),
        (
            "onemap_ship_stream_subscribers",
            "Ship stream subscribers",
            streams,
            limits.max_streams,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}.\n# TYPE {name} gauge\n{name} {now}\n# HELP {name}_max {help}: the cap.\n# TYPE {name}_max gauge\n{name}_max {max}"
        );
    }
    memory(&mut out, onemap_tiles::sources_alive());
    let _ = writeln!(
        out,
        "# TYPE onemap_uptime_seconds gauge\nonemap_uptime_seconds {:.3}",
        state.started.elapsed().as_secs_f64()
    );
    out
}

/// What the allocator holds, as a [`set_allocator_probe`] reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes the program has allocated and not freed.
    pub allocated: u64,
    /// Bytes in the pages those allocations occupy.
    pub active: u64,
    /// Bytes of the allocator's pages in physical memory (freed pages not
    /// yet given back included).
    pub resident: u64,
    /// Bytes of address space the allocator kept after giving its pages back.
    pub retained: u64,
}

static ALLOCATOR: std::sync::OnceLock<fn() -> Option<AllocatorStats>> = std::sync::OnceLock::new();

/// Tells `/metrics` how to read the process's allocator (the binary's
/// global allocator is chosen by the binary, not by this crate). The first
/// probe set is kept.
pub fn set_allocator_probe(probe: fn() -> Option<AllocatorStats>) {
    let _ = ALLOCATOR.set(probe);
}

/// The process's resident memory and, with a probe, its allocator's
/// figures; and how many tile sources (city snapshots) are alive.
fn memory(out: &mut String, sources_alive: u64) {
    if let Some(rss) = process_resident_bytes() {
        let _ = writeln!(
            out,
            "# HELP onemap_process_resident_bytes Resident memory of the process.\n# TYPE onemap_process_resident_bytes gauge\nonemap_process_resident_bytes {rss}"
        );
    }
    if let Some(a) = ALLOCATOR.get().and_then(|p| p()) {
        for (what, help, v) in [
            ("allocated", "Bytes allocated and not freed", a.allocated),
            ("active", "Bytes of the pages holding allocations", a.active),
            (
                "resident",
                "Bytes of the allocator's pages in memory, freed ones not yet returned included",
                a.resident,
            ),
            (
                "retained",
                "Address space kept after its pages were returned",
                a.retained,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP onemap_allocator_{what}_bytes {help}.\n# TYPE onemap_allocator_{what}_bytes gauge\nonemap_allocator_{what}_bytes {v}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP onemap_snapshots_alive City snapshots still held (the current one and those requests in flight hold).\n# TYPE onemap_snapshots_alive gauge\nonemap_snapshots_alive {sources_alive}"
    );
}

/// `VmRSS` of `/proc/self/status` (Linux); `None` elsewhere.
fn process_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_labelled_from_a_fixed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        for m in ["FOO", "get", "PROPFIND", "X-1234"] {
            assert_eq!(
                method_label(&Method::from_bytes(m.as_bytes()).unwrap()),
                "other"
            );
        }
    }

    #[test]
    fn histogram_is_cumulative() {
        let mut h = Histogram::default();
        for v in [0.0001, 0.003, 0.003, 9.0] {
            h.observe(&LATENCY_BUCKETS, v);
        }
        let mut s = String::new();
        h.render(&mut s, "x", "route=\"/a\"", &LATENCY_BUCKETS);
        assert!(s.contains("x_bucket{route=\"/a\",le=\"0.0005\"} 1"), "{s}");
        assert!(s.contains("x_bucket{route=\"/a\",le=\"0.005\"} 3"), "{s}");
        assert!(s.contains("x_bucket{route=\"/a\",le=\"+Inf\"} 4"), "{s}");
        assert!(s.contains("x_count{route=\"/a\"} 4"), "{s}");
    }
}
