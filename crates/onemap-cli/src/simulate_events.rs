//! `onemap simulate events`: the day's reports and their moves through the
//! loop, over HTTP, so inboxes, tiles and the wall change while one watches.
//!
//! A unit leader reports now and then at a random place of their area; the
//! town office discusses what was reported, routes it to a department; the
//! department handles it; the leader feeds back; the office closes it. Each
//! step waits a random while (scaled by `--pace`), and some events are left
//! waiting longer, as in life. Only events this simulator reported are
//! moved. Deterministic given `--seed` (but for the server's answers).
//! The tokens come from a JSON file (`scripts/run.sh` makes one):
//!
//! ```json
//! {"leader": {"token": "…", "area": "350302001001001"},
//!  "office": {"token": "…"},
//!  "departments": {"水务局": "…", "城管局": "…"}}
//! ```

use anyhow::{anyhow, bail, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What a simulated event waits for next, and from when.
struct Open {
    id: u64,
    status: String,
    next_at: Instant,
}

const CATEGORIES: [(&str, &[&str]); 6] = [
    (
        "drainage",
        &[
            "路边排水沟堵塞，雨天积水",
            "小区雨水井盖破损",
            "下水道返臭，居民反映强烈",
        ],
    ),
    (
        "sanitation",
        &["垃圾桶满溢未清运", "河道漂浮垃圾较多", "菜市场周边卫生脏乱"],
    ),
    (
        "road",
        &[
            "村道路面塌陷，有安全隐患",
            "路灯损坏多日未修",
            "人行道地砖松动",
        ],
    ),
    (
        "dispute",
        &["邻里因宅基地边界发生纠纷", "租户与房东押金纠纷"],
    ),
    (
        "safety_hazard",
        &["电动车楼道充电", "老旧房屋墙体开裂", "工地围挡倒塌"],
    ),
    (
        "illegal_building",
        &["屋顶违规加盖彩钢棚", "占用公共绿地搭建棚屋"],
    ),
];

#[derive(Debug, clap::Args)]
pub struct EventArgs {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub url: String,
    /// JSON with the tokens to act with: {"leader": {"token", "area"},
    /// "office": {"token"}, "departments": {"NAME": "token", …}}.
    #[arg(long)]
    pub tokens: std::path::PathBuf,
    /// Seconds between rounds (a report every other round on average).
    #[arg(long, default_value_t = 15.0)]
    pub every: f64,
    /// How many rounds a step waits, roughly (1 to 4, one in eight up to 30).
    #[arg(long, default_value_t = 2.0)]
    pub pace: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after this many reports, once they are all closed (default: run until stopped).
    #[arg(long)]
    pub reports: Option<u64>,
}

fn get_json(host: &str, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
    let (status, body) = crate::http::request(host, "GET", path, token, None)?;
    if status != 200 {
        bail!("GET {path}: {}", crate::simulate::error_text(status, &body));
    }
    serde_json::from_slice(&body).with_context(|| format!("GET {path}: not JSON"))
}

fn post_json(host: &str, path: &str, token: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let (status, answer) =
        crate::http::request(host, "POST", path, Some(token), Some(&body.to_string()))?;
    if status == 401 {
        bail!(
            "{path}: the server refused the token: {}",
            crate::simulate::error_text(status, &answer)
        );
    }
    Ok((status, serde_json::from_slice(&answer).unwrap_or_default()))
}

pub fn run(a: EventArgs) -> anyhow::Result<i32> {
    if !(a.every > 0.0 && a.every.is_finite() && a.pace > 0.0 && a.pace.is_finite()) {
        bail!("--every and --pace must be above 0");
    }
    let host = crate::simulate::host_of(&a.url)?;
    let text = std::fs::read_to_string(&a.tokens)
        .with_context(|| format!("cannot read {}", a.tokens.display()))?;
    let cfg: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", a.tokens.display()))?;
    let leader = cfg["leader"]["token"]
        .as_str()
        .ok_or_else(|| anyhow!("{}: no leader.token", a.tokens.display()))?;
    let area = match &cfg["leader"]["area"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => bail!("{}: no leader.area", a.tokens.display()),
    };
    let office = cfg["office"]["token"]
        .as_str()
        .ok_or_else(|| anyhow!("{}: no office.token", a.tokens.display()))?;
    let departments: Vec<(String, String)> = cfg["departments"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if departments.is_empty() {
        bail!("{}: no departments", a.tokens.display());
    }
    // The leader's area: its box, to report at random places inside it.
    let doc = get_json(&host, &format!("/api/areas/{area}"), Some(leader))?;
    let bbox = &doc["bbox"];
    let b = [
        bbox["min_lon"].as_f64(),
        bbox["min_lat"].as_f64(),
        bbox["max_lon"].as_f64(),
        bbox["max_lat"].as_f64(),
    ];
    let [Some(x0), Some(y0), Some(x1), Some(y1)] = b else {
        bail!("GET /api/areas/{area}: no bbox");
    };
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let mut open: Vec<Open> = Vec::new();
    let step = |rng: &mut ChaCha8Rng| {
        // Most steps within a few periods; one in eight waits much longer.
        let k = if rng.random_bool(0.125) { 30.0 } else { 4.0 };
        Duration::from_secs_f64(a.every * a.pace * rng.random_range(1.0..k))
    };
    let mut reported = 0u64;
    let mut moved = 0u64;
    let mut told = 0u64;
    let period = Duration::from_secs_f64(a.every);
    let mut next = Instant::now();
    println!(
        "simulating the loop in {area}: a report about every {:.0} s",
        a.every * 2.0
    );
    loop {
        if a.reports.is_some_and(|n| reported >= n) && open.is_empty() {
            break;
        }
        // A new report, every other period on average.
        if a.reports.is_none_or(|n| reported < n) && rng.random_bool(0.5) {
            let (cat, texts) = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
            let text = texts[rng.random_range(0..texts.len())];
            // A place inside the area: the server says which unit holds it.
            for _ in 0..20 {
                let lon = rng.random_range(x0..x1);
                let lat = rng.random_range(y0..y1);
                let key = format!("sim-{}-{}", a.seed, rng.random::<u64>());
                let (status, v) = post_json(
                    &host,
                    "/api/events",
                    leader,
                    &json!({"lon": lon, "lat": lat, "category": cat, "description": text,
                            "idempotency_key": key}),
                )?;
                match status {
                    200 | 201 => {
                        let id = v["event"]["id"]
                            .as_u64()
                            .ok_or_else(|| anyhow!("POST /api/events: no event id"))?;
                        reported += 1;
                        open.push(Open {
                            id,
                            status: "reported".into(),
                            next_at: Instant::now() + step(&mut rng),
                        });
                        println!("reported #{id} ({cat}) at {lon:.5}, {lat:.5}");
                        break;
                    }
                    // Outside the area (a box is larger than its area).
                    403 | 422 => continue,
                    _ => bail!("POST /api/events: {status} {v}"),
                }
            }
        }
        // Every event whose wait is over moves one step.
        let now = Instant::now();
        for e in open.iter_mut().filter(|e| e.next_at <= now) {
            let (to, token, body) = match e.status.as_str() {
                "reported" => ("discussing", office, json!({"to": "discussing"})),
                "discussing" => {
                    let (d, _) = &departments[rng.random_range(0..departments.len())];
                    ("routed", office, json!({"to": "routed", "routed_to": d}))
                }
                "routed" => {
                    // The department it was routed to (here or in the browser).
                    let doc = get_json(&host, &format!("/api/events/{}", e.id), Some(office))?;
                    let d = doc["routed_to"].as_str().unwrap_or_default();
                    let Some((_, t)) = departments.iter().find(|(n, _)| n == d) else {
                        println!(
                            "#{} was routed to {d}, which this simulator does not act for",
                            e.id
                        );
                        e.status = "elsewhere".into();
                        continue;
                    };
                    (
                        "handled",
                        t.as_str(),
                        json!({"to": "handled", "note": "已现场处置"}),
                    )
                }
                "handled" => (
                    "fed_back",
                    leader,
                    json!({"to": "fed_back", "note": "群众满意"}),
                ),
                "fed_back" => ("closed", office, json!({"to": "closed"})),
                _ => continue,
            };
            let path = format!("/api/events/{}/transitions", e.id);
            let (status, v) = post_json(&host, &path, token, &body)?;
            match status {
                200 => {
                    moved += 1;
                    println!("#{} → {to}", e.id);
                    e.status = to.to_string();
                    e.next_at = Instant::now() + step(&mut rng);
                }
                // Someone moved it in the browser meanwhile: follow it.
                409 => {
                    let doc = get_json(&host, &format!("/api/events/{}", e.id), Some(office))?;
                    e.status = doc["event"]["status"]
                        .as_str()
                        .unwrap_or("closed")
                        .to_string();
                }
                _ => bail!("POST {path}: {status} {v}"),
            }
        }
        open.retain(|e| e.status != "closed" && e.status != "elsewhere");
        crate::simulate::pace(&mut next, period);
        if reported >= told + 20 {
            told = reported;
            println!(
                "{reported} reported, {moved} moves so far, {} open",
                open.len()
            );
        }
    }
    println!("{reported} reported, {moved} moves");
    Ok(0)
}
