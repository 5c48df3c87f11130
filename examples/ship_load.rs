//! Load test of live ships against a running `onemap serve`:
//!
//! ```sh
//! cargo run --release --example ship_load -- URL TOKEN SERVER_PID [SECONDS] [CLIENTS]
//! ```
//!
//! Phase 1 (no fleet): measures tile and query latency alone. Phase 2: every
//! ship of `/api/ships` reports once a second (ten batches of a tenth of the
//! fleet every 100 ms) while `CLIENTS` (default 50) stream clients listen to
//! `/api/ships/stream`, and the same tile/query loop runs. Prints the
//! report-to-stream latency (POST start to a client reading the position
//! event, over every client and report), the server's CPU during each phase
//! (from /proc/PID/stat), and the tile/query latencies of both phases.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn http(
    host: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Vec<u8>) {
    onemap_cli::http::request(host, method, path, token, body)
        .unwrap_or_else(|e| panic!("{method} http://{host}{path}: {e:#}"))
}

fn cpu_ticks(pid: u32) -> u64 {
    let s =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server's /proc/PID/stat");
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Tiles and queries in a loop until `stop`; their latencies in ms.
fn query_loop(host: String, stop: Arc<AtomicBool>) -> Vec<f64> {
    let paths = [
        "/tiles/districts,towns,events/10/853/439.mvt",
        "/tiles/villages,events/12/3413/1757.mvt",
        "/api/nearest/events?lon=119.0&lat=25.45&k=10",
        "/api/stats?by=town",
        "/api/locate?lon=119.0&lat=25.45",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let (st, _) = http(&host, "GET", paths[i % paths.len()], None, None);
        assert!(st == 200 || st == 204, "{} → {st}", paths[i % paths.len()]);
        out.push(t.elapsed().as_secs_f64() * 1e3);
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: ship_load URL TOKEN SERVER_PID [SECONDS] [CLIENTS]");
        std::process::exit(2);
    }
    let host = args[1]
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let token = args[2].clone();
    let pid: u32 = args[3].parse().unwrap();
    let secs: u64 = args.get(4).map_or(30, |s| s.parse().unwrap());
    let clients: usize = args.get(5).map_or(50, |s| s.parse().unwrap());
    let hz = 100.0; // clock ticks per second on Linux
    let (_, body) = http(&host, "GET", "/api/ships", None, None);
    let fleet: Value = serde_json::from_slice(&body).unwrap();
    let ships: Vec<(u64, f64, f64, i64)> = fleet["ships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["mmsi"].as_u64().unwrap(),
                s["lon"].as_f64().unwrap(),
                s["lat"].as_f64().unwrap(),
                s["reported_at"].as_i64().unwrap(),
            )
        })
        .collect();
    let t_max = ships.iter().map(|s| s.3).max().unwrap();

    // Phase 1: queries alone.
    let stop = Arc::new(AtomicBool::new(false));
    let c0 = cpu_ticks(pid);
    let q = {
        let (h, s) = (host.clone(), Arc::clone(&stop));
        std::thread::spawn(move || query_loop(h, s))
    };
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let mut alone = q.join().unwrap();
    let cpu_alone = (cpu_ticks(pid) - c0) as f64 / hz / secs as f64;

    // Phase 2: the fleet, the stream clients, and the same queries.
    let sent: Arc<Mutex<HashMap<(u64, i64), Instant>>> = Arc::default();
    let lat_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
    let lagged = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..clients {
        let (st, mut r) = onemap_cli::http::stream(&host, "/api/ships/stream")
            .unwrap_or_else(|e| panic!("GET http://{host}/api/ships/stream: {e:#}"));
        assert_eq!(st, 200, "GET /api/ships/stream");
        let (sent, lat_ms, lagged) = (Arc::clone(&sent), Arc::clone(&lat_ms), Arc::clone(&lagged));
        readers.push(std::thread::spawn(move || {
            let mut line = String::new();
            let mut event = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                let l = line.trim_end();
                if let Some(e) = l.strip_prefix("event: ") {
                    event = e.to_string();
                } else if let Some(d) = l.strip_prefix("data: ") {
                    if event == "lagged" {
                        lagged.fetch_add(1, Ordering::Relaxed);
                    } else if event == "position" {
                        let now = Instant::now();
                        let v: Value = serde_json::from_str(d).unwrap();
                        let key = (v["mmsi"].as_u64().unwrap(), v["time"].as_i64().unwrap());
                        if let Some(t) = sent.lock().unwrap().get(&key) {
                            lat_ms.lock().unwrap().push((now - *t).as_secs_f64() * 1e3);
                        }
                    }
                }
                line.clear();
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(500));
    let stop = Arc::new(AtomicBool::new(false));
    let q = {
        let (h, s) = (host.clone(), Arc::clone(&stop));
        std::thread::spawn(move || query_loop(h, s))
    };
    let c0 = cpu_ticks(pid);
    let start = Instant::now();
    let mut tick = 0u64;
    let mut applied = 0u64;
    let slices = 10usize;
    let per = ships.len().div_ceil(slices);
    while start.elapsed() < Duration::from_secs(secs) {
        let second = tick / slices as u64 + 1;
        let part = (tick % slices as u64) as usize;
        let t = t_max + second as i64;
        let batch: Vec<Value> = ships
            .iter()
            .skip(part * per)
            .take(per)
            .map(|&(m, lon, lat, _)| {
                // A slow drift north: 0.00005° (≈ 5.5 m) a second.
                json!({"mmsi": m, "time": t, "lon": lon, "lat": lat + 0.00005 * second as f64,
                    "speed_kn": 10.7, "course_deg": 0.0})
            })
            .collect();
        let body = json!(batch).to_string();
        let now = Instant::now();
        {
            let mut s = sent.lock().unwrap();
            for b in &batch {
                s.insert((b["mmsi"].as_u64().unwrap(), t), now);
            }
        }
        let (st, r) = http(
            &host,
            "POST",
            "/api/ships/positions",
            Some(&token),
            Some(&body),
        );
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&r));
        let v: Value = serde_json::from_slice(&r).unwrap();
        applied += v["applied"].as_u64().unwrap();
        tick += 1;
        let due = start + Duration::from_millis(100 * tick);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_fleet = (cpu_ticks(pid) - c0) as f64 / hz / elapsed;
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let mut with = q.join().unwrap();
    let mut lat = lat_ms.lock().unwrap().clone();
    let expected = applied as usize * clients;
    println!(
        "ships {}, clients {clients}, {secs} s per phase",
        ships.len()
    );
    println!(
        "reports applied {applied} ({:.0}/s); stream events measured {} of {expected}; lagged events {}",
        applied as f64 / elapsed,
        lat.len(),
        lagged.load(Ordering::Relaxed)
    );
    println!(
        "report-to-stream latency: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0)
    );
    println!(
        "server CPU: {:.1}% of a core without the fleet, {:.1}% with it",
        cpu_alone * 100.0,
        cpu_fleet * 100.0
    );
    println!(
        "tiles+queries without the fleet: n {}, median {:.2} ms, p99 {:.2} ms",
        alone.len(),
        pct(&mut alone, 0.5),
        pct(&mut alone, 0.99)
    );
    println!(
        "tiles+queries with the fleet:    n {}, median {:.2} ms, p99 {:.2} ms",
        with.len(),
        pct(&mut with, 0.5),
        pct(&mut with, 0.99)
    );
    std::process::exit(0);
}
