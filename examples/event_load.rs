//! Load test of the event loop against running `onemap serve` processes:
//!
//! ```sh
//! cargo run --release --example event_load -- \
//!     --url http://127.0.0.1:8080 [--url2 http://127.0.0.1:8081] --token TOKEN \
//!     [--clients 32] [--seconds 15] [--samples 200] [--lon 119.0 --lat 25.45]
//! ```
//!
//! `TOKEN` is a unit leader's (`onemap token create --role unit_leader
//! --scope area:GRID --name load --postgres URL`, GRID being the grid that
//! `/api/locate?lon=119.0&lat=25.45` names) whose scope holds the point
//! `--lon/--lat`. Every report gets an idempotency key of its own.
//!
//! Load: `--clients` threads post reports (`POST /api/events`) to `--url` for
//! `--seconds`, one connection per request; prints the sustained events/s
//! (201 answers per second) and the latency p50/p99. With `--url2` (a second
//! server on the same database), then measures change-to-visible latency:
//! `--samples` times, one report to `--url`, then `GET /api/events/{id}` on
//! `--url2` in a tight loop until its answer names the event's unit (from
//! the second server's in-memory city, not the database); prints the median and p99
//! from sending the report, and from its 201. Any failure — a server that
//! cannot be reached, a refused token, a report not answered 201, an event
//! that never shows on `--url2` (10 s) — ends it with one `error:` line and
//! exit status 1.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Opts {
    url: String,
    url2: Option<String>,
    token: String,
    clients: usize,
    seconds: f64,
    samples: usize,
    lon: f64,
    lat: f64,
}

const USAGE: &str = "usage: event_load --url URL [--url2 URL] --token TOKEN [--clients 32] \
                     [--seconds 15] [--samples 200] [--lon 119.0] [--lat 25.45]";

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        url: String::new(),
        url2: None,
        token: String::new(),
        clients: 32,
        seconds: 15.0,
        samples: 200,
        lon: 119.0,
        lat: 25.45,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value ({USAGE})"))?;
        let num = |what: &str| format!("{flag} must be {what}, got '{value}'");
        match flag.as_str() {
            "--url" => o.url = host_of(&value)?,
            "--url2" => o.url2 = Some(host_of(&value)?),
            "--token" => o.token = value,
            "--clients" => {
                o.clients = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| num("a positive integer"))?
            }
            "--samples" => {
                o.samples = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| num("a positive integer"))?
            }
            "--seconds" => {
                o.seconds = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0)
                    .ok_or_else(|| num("a positive number"))?
            }
            "--lon" => o.lon = value.parse().map_err(|_| num("a longitude"))?,
            "--lat" => o.lat = value.parse().map_err(|_| num("a latitude"))?,
            other => return Err(format!("unknown argument {other} ({USAGE})")),
        }
    }
    if o.url.is_empty() || o.token.is_empty() {
        return Err(format!("--url and --token are required ({USAGE})"));
    }
    Ok(o)
}

/// `host:port` of `http://host:port[/]` (or of a bare `host:port`).
fn host_of(url: &str) -> Result<String, String> {
    if url.starts_with("https://") {
        return Err(format!("{url}: only http:// is supported"));
    }
    let h = url.trim_start_matches("http://").trim_end_matches('/');
    if h.is_empty() || h.contains('/') || !h.contains(':') {
        return Err(format!("{url}: expected http://HOST:PORT"));
    }
    Ok(h.to_string())
}

/// One HTTP/1.1 request on a connection of its own: the status and body.
fn http(
    host: &str,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, Vec<u8>), String> {
    onemap_cli::http::request(host, method, path, auth, body)
        .map_err(|e| format!("{method} http://{host}{path}: {e:#}"))
}

/// The JSON error of an answer, as one line.
fn explain(status: u16, body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match (v["error"]["code"].as_str(), v["error"]["message"].as_str()) {
        (Some(c), Some(m)) => format!("{status} {c}: {m}"),
        _ => format!("{status} {}", String::from_utf8_lossy(body).trim()),
    }
}

fn event_id(body: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = &v["event"]["id"];
    id.as_u64()
        .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
}

/// Unique idempotency keys for this run.
fn key(client: usize, n: u64) -> String {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("load-{}-{run}-{client}-{n}", std::process::id())
}

struct Reporter<'a> {
    o: &'a Opts,
}

impl Reporter<'_> {
    /// Posts one report to `host`; its id and latency, or why it failed.
    fn report(&self, host: &str, client: usize, n: u64) -> Result<(u64, Duration), String> {
        let body = serde_json::json!({
            "lon": self.o.lon, "lat": self.o.lat, "category": "road",
            "description": "负载测试", "idempotency_key": key(client, n),
        })
        .to_string();
        let t = Instant::now();
        let (status, b) = http(
            host,
            "POST",
            "/api/events",
            Some(&self.o.token),
            Some(&body),
        )?;
        let took = t.elapsed();
        if status != 201 {
            return Err(format!("report to http://{host}: {}", explain(status, &b)));
        }
        let id = event_id(&b)
            .ok_or_else(|| format!("report to http://{host}: no event id in the answer"))?;
        Ok((id, took))
    }
}

fn ms(d: f64) -> String {
    format!("{:.1} ms", d * 1e3)
}

/// The `p` quantile (0..=1) of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run(o: &Opts) -> Result<(), String> {
    for host in std::iter::once(&o.url).chain(&o.url2) {
        let (status, body) = http(host, "GET", "/healthz", None, None)?;
        if status != 200 {
            return Err(format!("http://{host}/healthz: {}", explain(status, &body)));
        }
    }
    let r = Reporter { o };
    // One report first: a wrong token or point fails here, clearly.
    r.report(&o.url, usize::MAX, 0)?;

    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let started = Instant::now();
    let latencies: Vec<f64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..o.clients)
            .map(|c| {
                let (stop, failed, first_error, r) = (&stop, &failed, &first_error, &r);
                s.spawn(move || {
                    let mut lat = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        match r.report(&o.url, c, n) {
                            Ok((_, took)) => lat.push(took.as_secs_f64()),
                            Err(e) => {
                                failed.fetch_add(1, Ordering::Relaxed);
                                first_error.lock().unwrap().get_or_insert(e);
                            }
                        }
                    }
                    lat
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(o.seconds));
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a client thread panicked"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);
    if let Some(e) = first_error.lock().unwrap().take() {
        return Err(format!(
            "{failed} of {} reports failed; the first: {e}",
            failed + latencies.len() as u64
        ));
    }
    if latencies.is_empty() {
        return Err("no report was answered".into());
    }
    let mut sorted = latencies;
    sorted.sort_by(f64::total_cmp);
    println!(
        "load: {} clients for {elapsed:.1} s against http://{}: {} events created, {:.1} events/s; \
         latency p50 {}, p99 {}",
        o.clients,
        o.url,
        sorted.len(),
        sorted.len() as f64 / elapsed,
        ms(quantile(&sorted, 0.5)),
        ms(quantile(&sorted, 0.99)),
    );

    let Some(url2) = &o.url2 else {
        return Ok(());
    };
    let (mut from_send, mut from_answer) = (Vec::new(), Vec::new());
    for n in 0..o.samples {
        let sent = Instant::now();
        let (id, took) = r.report(&o.url, usize::MAX - 1, n as u64)?;
        let path = format!("/api/events/{id}");
        loop {
            let (status, body) = http(url2, "GET", &path, None, None)?;
            // The event's row comes from the database; `assigned_unit` from
            // the second server's city: seen once that names a unit.
            if status == 200 && applied(&body) {
                break;
            }
            if status != 404 && status != 200 {
                return Err(format!("http://{url2}{path}: {}", explain(status, &body)));
            }
            if sent.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "event {id}, reported to http://{}, did not show on http://{url2} within 10 s",
                    o.url
                ));
            }
        }
        let seen = sent.elapsed();
        from_send.push(seen.as_secs_f64());
        from_answer.push(seen.saturating_sub(took).as_secs_f64());
    }
    from_send.sort_by(f64::total_cmp);
    from_answer.sort_by(f64::total_cmp);
    println!(
        "visible on http://{url2}: {} samples; from sending the report: median {}, p99 {}; \
         from its 201: median {}, p99 {}",
        o.samples,
        ms(quantile(&from_send, 0.5)),
        ms(quantile(&from_send, 0.99)),
        ms(quantile(&from_answer, 0.5)),
        ms(quantile(&from_answer, 0.99)),
    );
    Ok(())
}

fn main() {
    let result = parse_args().and_then(|o| run(&o));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Whether a `GET /api/events/{id}` answer comes from a city that holds the
/// event (`"assigned_unit"` is a unit id, not null).
fn applied(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("\"assigned_unit\":\"")
}
