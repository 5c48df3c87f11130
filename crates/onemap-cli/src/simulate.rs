//! `onemap simulate ships`: moves the demo fleet over HTTP, so the map moves
//! (`simulate events`, the loop, is in simulate_events.rs).
//!
//! Reads the fleet from `GET /api/ships`, then every `1/rate` seconds posts
//! one report per ship to `POST /api/ships/positions`. Simulated time runs
//! `speedup` times faster than the wall clock (one report every
//! `speedup/rate` simulated seconds) until it reaches the clock, then at the
//! clock's pace (the server refuses reports from the future). Each ship leaves port in the morning
//! (05:00–08:00 China time), sails to a fishing ground (where a ship of its
//! port was at sea when the city was generated), fishes there slowly until
//! the afternoon (15:00–18:00), and comes back to its berth. Deterministic
//! given `--seed`. A tiny HTTP/1.1 client over `std::net` (no TLS).

use anyhow::{anyhow, bail, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    #[command(subcommand)]
    pub what: SimulateWhat,
}

#[derive(Debug, clap::Subcommand)]
pub enum SimulateWhat {
    /// Move the fishing fleet: post position reports to a running server.
    Ships {
        /// The server, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// A ship_feed token (`onemap token create --role ship_feed --scope city --name feed`).
        #[arg(long)]
        token: String,
        /// Reports per ship per second.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 60.0)]
        speedup: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop after this many batches (default: run until stopped).
        #[arg(long)]
        batches: Option<u64>,
    },
    /// Report events and move them through the loop (report, discuss,
    /// route, handle, feed back, close) as the demo accounts would.
    Events(crate::simulate_events::EventArgs),
}

/// Knots to metres per second.
const KN: f64 = 1852.0 / 3600.0;
/// China Standard Time, seconds east of UTC.
const CST: i64 = 8 * 3600;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    InPort,
    Outbound,
    Fishing,
    Inbound,
}

struct Sim {
    mmsi: u64,
    berth: (f64, f64),
    ground: (f64, f64),
    pos: (f64, f64),
    course: f64,
    speed: f64,
    phase: Phase,
    /// Seconds after local midnight.
    leave_at: i64,
    return_at: i64,
    rng: ChaCha8Rng,
}

fn metres_per_degree(lat: f64) -> (f64, f64) {
    let m = 6_371_008.8_f64.to_radians();
    (m * lat.to_radians().cos(), m)
}

impl Sim {
    /// Moves `dt` seconds towards `to` at `kn`; true when there.
    fn sail(&mut self, to: (f64, f64), kn: f64, dt: f64) -> bool {
        let (mx, my) = metres_per_degree(self.pos.1);
        let (dx, dy) = ((to.0 - self.pos.0) * mx, (to.1 - self.pos.1) * my);
        let d = dx.hypot(dy);
        let step = kn * KN * dt;
        self.speed = kn;
        if d > 1e-6 {
            self.course = dx.atan2(dy).to_degrees().rem_euclid(360.0);
        }
        if d <= step {
            self.pos = to;
            true
        } else {
            self.pos.0 += dx / d * step / mx;
            self.pos.1 += dy / d * step / my;
            false
        }
    }

    fn step(&mut self, t: i64, dt: f64) {
        let local = (t + CST).rem_euclid(86_400);
        match self.phase {
            Phase::InPort => {
                self.speed = 0.0;
                if (self.leave_at..self.return_at).contains(&local) {
                    self.phase = Phase::Outbound;
                }
            }
            Phase::Outbound => {
                if self.sail(self.ground, 9.0, dt) {
                    self.phase = Phase::Fishing;
                }
            }
            Phase::Fishing => {
                if local >= self.return_at || local < self.leave_at {
                    self.phase = Phase::Inbound;
                    return;
                }
                // Trawl slowly, turning a little, kept near the ground.
                self.course = (self.course + self.rng.random_range(-20.0..20.0)).rem_euclid(360.0);
                let (mx, my) = metres_per_degree(self.pos.1);
                let (gx, gy) = (
                    (self.ground.0 - self.pos.0) * mx,
                    (self.ground.1 - self.pos.1) * my,
                );
                if gx.hypot(gy) > 2_000.0 {
                    self.course = gx.atan2(gy).to_degrees().rem_euclid(360.0);
                }
                self.speed = self.rng.random_range(2.0..4.0);
                let step = self.speed * KN * dt;
                let a = self.course.to_radians();
                self.pos.0 += a.sin() * step / mx;
                self.pos.1 += a.cos() * step / my;
            }
            Phase::Inbound => {
                if self.sail(self.berth, 9.0, dt) {
                    self.phase = Phase::InPort;
                    self.speed = 0.0;
                }
            }
        }
    }
}

pub(crate) fn error_text(status: u16, body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
        + &format!(" (HTTP {status})")
}

/// The `host:port` of an `http://` URL.
pub(crate) fn host_of(url: &str) -> anyhow::Result<String> {
    Ok(url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("--url must start with http:// (got {url})"))?
        .trim_end_matches('/')
        .to_string())
}

/// Sleeps until `next` moves one `period` on (at once if behind, without
/// catching up on the rounds missed).
pub(crate) fn pace(next: &mut Instant, period: Duration) {
    *next += period;
    let now = Instant::now();
    if *next > now {
        std::thread::sleep(*next - now);
    } else {
        *next = now;
    }
}

pub fn run(a: SimulateArgs) -> anyhow::Result<i32> {
    match a.what {
        SimulateWhat::Events(e) => crate::simulate_events::run(e),
        SimulateWhat::Ships {
            url,
            token,
            rate,
            speedup,
            seed,
            batches,
        } => ships(&url, &token, rate, speedup, seed, batches),
    }
}

fn ships(
    url: &str,
    token: &str,
    rate: f64,
    speedup: f64,
    seed: u64,
    batches: Option<u64>,
) -> anyhow::Result<i32> {
    if !(rate > 0.0 && rate.is_finite() && speedup >= 1.0 && speedup.is_finite()) {
        bail!("--rate must be above 0 and --speedup at least 1");
    }
    let host = host_of(url)?;
    let (status, body) = crate::http::request(&host, "GET", "/api/ships", None, None)?;
    if status != 200 {
        bail!("GET /api/ships: {}", error_text(status, &body));
    }
    let fleet: Value = serde_json::from_slice(&body).context("GET /api/ships: not JSON")?;
    let ships = fleet["ships"]
        .as_array()
        .ok_or_else(|| anyhow!("GET /api/ships: no ships"))?;
    // Berths (home port: mean of its berthed ships) and fishing grounds.
    let mut berths: std::collections::BTreeMap<String, (f64, f64, f64)> = Default::default();
    let mut grounds: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    for s in ships {
        let port = s["home_port"].as_str().unwrap_or_default().to_string();
        let p = (
            s["lon"].as_f64().unwrap_or_default(),
            s["lat"].as_f64().unwrap_or_default(),
        );
        if s["in_port"] == true {
            let e = berths.entry(port).or_default();
            *e = (e.0 + p.0, e.1 + p.1, e.2 + 1.0);
        } else {
            grounds.entry(port).or_default().push(p);
        }
    }
    let all_grounds: Vec<(f64, f64)> = grounds.values().flatten().copied().collect();
    let mut t = ships
        .iter()
        .filter_map(|s| s["reported_at"].as_i64())
        .max()
        .unwrap_or(0)
        + 1;
    let dt = (speedup / rate).round().max(1.0) as i64;
    let mut sims: Vec<Sim> = ships
        .iter()
        .map(|s| {
            let mmsi = s["mmsi"].as_u64().unwrap_or_default();
            let mut rng =
                ChaCha8Rng::seed_from_u64(seed ^ mmsi.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let port = s["home_port"].as_str().unwrap_or_default();
            let pos = (
                s["lon"].as_f64().unwrap_or_default(),
                s["lat"].as_f64().unwrap_or_default(),
            );
            let in_port = s["in_port"] == true;
            let berth = if in_port {
                pos
            } else {
                berths.get(port).map_or(pos, |b| (b.0 / b.2, b.1 / b.2))
            };
            let own = grounds
                .get(port)
                .filter(|g| !g.is_empty())
                .unwrap_or(&all_grounds);
            let ground = if in_port {
                own.get(rng.random_range(0..own.len().max(1)))
                    .copied()
                    .unwrap_or(pos)
            } else {
                pos
            };
            Sim {
                mmsi,
                berth,
                ground,
                pos,
                course: s["course_deg"].as_f64().unwrap_or_default(),
                speed: 0.0,
                phase: if in_port {
                    Phase::InPort
                } else {
                    Phase::Fishing
                },
                leave_at: rng.random_range(5 * 3600..8 * 3600),
                return_at: rng.random_range(15 * 3600..18 * 3600),
                rng,
            }
        })
        .collect();
    eprintln!(
        "simulating {} ships at {rate} report(s) per ship per second, {dt} s of ship time per report",
        sims.len()
    );
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    let mut n = 0u64;
    let mut total = [0u64; 4];
    while batches.is_none_or(|b| n < b) {
        // Simulated time never passes the wall clock: the server refuses
        // reports from the future. Once caught up it runs at the clock's
        // pace, waiting a period when there is no whole second to add.
        let step = dt.min(onemap_core::time::now() - t);
        if step < 1 {
            std::thread::sleep(period);
            next = Instant::now();
            continue;
        }
        t += step;
        let reports: Vec<Value> = sims
            .iter_mut()
            .map(|s| {
                s.step(t, step as f64);
                json!({"mmsi": s.mmsi, "time": t, "lon": s.pos.0, "lat": s.pos.1,
                    "speed_kn": (s.speed * 10.0).round() / 10.0,
                    "course_deg": (s.course * 10.0).round() / 10.0 % 360.0})
            })
            .collect();
        let body = json!({ "reports": reports }).to_string();
        let (status, answer) = crate::http::request(
            &host,
            "POST",
            "/api/ships/positions",
            Some(token),
            Some(&body),
        )?;
        match status {
            200 => {}
            401 | 403 => bail!(
                "the server refused the token: {}",
                error_text(status, &answer)
            ),
            _ => bail!("POST /api/ships/positions: {}", error_text(status, &answer)),
        }
        let v: Value = serde_json::from_slice(&answer).unwrap_or_default();
        for (k, name) in ["applied", "stale", "jumps", "rejected"].iter().enumerate() {
            total[k] += v[name].as_u64().unwrap_or(0);
        }
        n += 1;
        if n == 1 || n.is_multiple_of(60) {
            let at_sea = sims.iter().filter(|s| s.phase != Phase::InPort).count();
            println!(
                "batch {n}: {at_sea} at sea; applied {}, stale {}, jumps {}, rejected {} so far",
                total[0], total[1], total[2], total[3]
            );
        }
        pace(&mut next, period);
    }
    Ok(0)
}
