//! The HTTP/1.1 client (ureq, set so that it hides no header and decodes no
//! encoding) and the server process of the end-to-end tests.

// Each test file that includes this module uses a different part of it.
#![allow(dead_code)]

pub mod images;

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_onemap");

/// The server process, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server at once (SIGKILL: no shutdown, no flushing) and
    /// waits for it to be gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill the server");
        self.child.wait().expect("wait for the killed server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(city: &Path) -> Server {
    start_with(&["--data", city.to_str().expect("a UTF-8 path")])
}

/// Starts `onemap serve` on a free port with `source` (`--data DIR` or
/// `--postgres URL`).
pub fn start_with(source: &[&str]) -> Server {
    start_with_env(source, &[])
}

/// [`start_with`], with these environment variables set.
pub fn start_with_env(source: &[&str], env: &[(&str, &str)]) -> Server {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(BIN)
        .envs(env.iter().copied())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(source)
        .args([
            "--styles",
            &format!("{root}/styles"),
            "--viewer",
            &format!("{root}/viewer"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start onemap serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, addr }
}

pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// An error answer: its status and code.
    pub fn error(&self) -> (u16, String) {
        let v = self.json();
        assert!(v["error"]["message"].is_string(), "{v}");
        (
            self.status,
            v["error"]["code"].as_str().unwrap().to_string(),
        )
    }
}

pub fn request(addr: &str, method: &str, path: &str, extra: &[(&str, &str)]) -> Reply {
    request_body(addr, method, path, extra, None)
}

/// A request with a JSON body.
pub fn post(addr: &str, path: &str, token: Option<&str>, body: &str) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut extra = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        extra.push(("Authorization", a.as_str()));
    }
    request_body(addr, "POST", path, &extra, Some(body))
}

pub fn request_body(
    addr: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    try_request_body(addr, method, path, extra, body)
        .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
}

/// A request with a JSON body, or the error that kept it from getting a
/// whole answer (the server refused the connection, or was cut off).
pub fn try_post(addr: &str, path: &str, token: Option<&str>, body: &str) -> std::io::Result<Reply> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut extra = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        extra.push(("Authorization", a.as_str()));
    }
    try_request_body(addr, "POST", path, &extra, Some(body))
}

/// The agent of the requests: every status is an answer (not an error), no
/// redirect is followed, no proxy is used, no header is added but `Host` and
/// `Content-Length`, and nothing decompresses a body (ureq is built without
/// gzip); one connection per request; 60 s at most for any one read.
fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        config()
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build()
            .new_agent()
    })
}

fn config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    use ureq::config::AutoHeaderValue;
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(AutoHeaderValue::None)
        .accept(AutoHeaderValue::None)
        .accept_encoding(AutoHeaderValue::None)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
}

/// [`request_body`], with an error instead of a panic when the connection
/// fails or closes before a whole answer came.
pub fn try_request_body(
    addr: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Reply> {
    try_request_bytes(
        addr,
        method,
        path,
        extra,
        body.map(|b| b.as_bytes().to_vec()),
    )
}

/// A request with a body of any bytes (an image).
pub fn request_bytes(
    addr: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    try_request_bytes(addr, method, path, extra, Some(body))
        .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
}

/// [`request_bytes`], with an error instead of a panic when the connection
/// fails or closes before a whole answer came.
pub fn try_request_bytes(
    addr: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> std::io::Result<Reply> {
    use std::io::{Error, ErrorKind};
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let invalid = |e: ureq::http::Error| Error::new(ErrorKind::InvalidInput, e);
    let answer = match body {
        Some(b) => agent().run(req.body(b).map_err(invalid)?),
        None => agent().run(req.body(()).map_err(invalid)?),
    };
    let mut answer = answer.map_err(ureq::Error::into_io)?;
    // Repeated headers (Vary from CORS and from us) are joined, as RFC 9110 allows.
    let mut headers: HashMap<String, String> = HashMap::new();
    for (k, v) in answer.headers() {
        let v = std::str::from_utf8(v.as_bytes())
            .map_err(|_| Error::new(ErrorKind::InvalidData, "headers not UTF-8"))?
            .trim();
        headers
            .entry(k.as_str().to_ascii_lowercase())
            .and_modify(|old| *old = format!("{old}, {v}"))
            .or_insert_with(|| v.to_string());
    }
    // The body as sent (not decompressed); an error when it is cut off
    // (shorter than its Content-Length, or chunks without the last one).
    let mut body = Vec::new();
    answer.body_mut().as_reader().read_to_end(&mut body)?;
    Ok(Reply {
        status: answer.status().as_u16(),
        headers,
        body,
    })
}

/// A `GET` of a stream (server-sent events) read as it comes: the body's
/// reader once the answer's head is in (30 s at most), with no time-out
/// after that.
pub fn stream(addr: &str, path: &str) -> Box<dyn BufRead + Send> {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        config()
            .timeout_recv_response(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    });
    let answer = agent
        .get(format!("http://{addr}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"));
    assert_eq!(answer.status().as_u16(), 200, "GET {path}");
    Box::new(BufReader::new(answer.into_body().into_reader()))
}

pub fn get(addr: &str, path: &str) -> Reply {
    request(addr, "GET", path, &[])
}

/// `GET path` with a bearer token.
pub fn get_as(addr: &str, path: &str, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    request(addr, "GET", path, &[("Authorization", auth.as_str())])
}

pub fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The layer names of an MVT, read straight off the protobuf (field 3 of
/// the tile holds layers; field 1 of a layer its name).
pub fn mvt_layers(tile: &[u8]) -> Vec<String> {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let byte = b[*i];
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    let mut names = Vec::new();
    let mut i = 0;
    while i < tile.len() {
        let key = varint(tile, &mut i);
        assert_eq!(key, (3 << 3) | 2, "a tile holds only layers");
        let len = varint(tile, &mut i) as usize;
        let layer = &tile[i..i + len];
        i += len;
        let mut j = 0;
        while j < layer.len() {
            let k = varint(layer, &mut j);
            match k & 7 {
                0 => {
                    varint(layer, &mut j);
                }
                2 => {
                    let l = varint(layer, &mut j) as usize;
                    if k >> 3 == 1 {
                        names.push(String::from_utf8(layer[j..j + l].to_vec()).unwrap());
                    }
                    j += l;
                }
                w => panic!("unexpected wire type {w}"),
            }
        }
    }
    names
}

/// Percent-encodes a path/query value (UTF-8 bytes outside unreserved).
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A small generated city (`onemap synth --scale 0.02`) in a fresh temporary
/// directory; the city is `dir.path().join("city")`.
pub fn small_city() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let ok = Command::new(BIN)
        .args(["synth", "--scale", "0.02", "--out"])
        .arg(&city)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "onemap synth failed");
    (dir, city)
}

/// `onemap token create` for the city's store; the printed token.
pub fn token(city: &Path, role: &str, scope: &str, name: &str) -> String {
    token_with(
        &["--data", city.to_str().expect("a UTF-8 path")],
        role,
        scope,
        name,
    )
}

/// `onemap token create` for a store (`--data DIR` or `--postgres URL`);
/// the printed token.
pub fn token_with(store: &[&str], role: &str, scope: &str, name: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "token", "create", "--role", role, "--scope", scope, "--name", name,
        ])
        .args(store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "token create {store:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(t.starts_with("om_") && t.len() > 40, "{t}");
    t
}

/// An id as our JSON gives it (large ids are strings).
pub fn id_of(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an id: {v}"))
}

/// A tile decoded by Python's mapbox-vector-tile (not our code), as
/// `crates/onemap-tiles/tests/decode_mvt.py` dumps it: layer name →
/// `{"features": [{"id", "properties": {name: {"kind", "value"}}, …}]}`.
pub fn decode_tile(tile: &[u8]) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/onemap-tiles/tests/decode_mvt.py"
    );
    let mut child = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with mapbox-vector-tile decodes tiles");
    child.stdin.take().unwrap().write_all(tile).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the decoder failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The features of a tile's `events` layer (none for an empty tile).
pub fn events_in_tile(tile: &[u8]) -> Vec<Value> {
    if tile.is_empty() {
        return Vec::new();
    }
    decode_tile(tile)["events"]["features"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The ids in a tile's `events` layer, decoded by Python's
/// mapbox-vector-tile (not our code).
pub fn event_ids_in_tile(a: &str, tile: &str) -> Vec<u64> {
    let r = get(a, &format!("/tiles/events/{tile}.mvt"));
    if r.status == 204 {
        return Vec::new();
    }
    assert_eq!(r.status, 200);
    events_in_tile(&r.body)
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .collect()
}

/// The z16 tile holding a point, as `z/x/y`.
pub fn tile_at(lon: f64, lat: f64) -> String {
    let n = 2f64.powi(16);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("16/{x}/{y}")
}

/// The number of events in an area (`/api/areas/{id}` figures).
pub fn area_total(a: &str, id: u64) -> u64 {
    get(a, &format!("/api/areas/{id}")).json()["figures"]["total"]
        .as_u64()
        .unwrap()
}

/// A town of the served city other than `town` (found by name search).
pub fn other_town(a: &str, town: u64) -> u64 {
    get(a, "/api/areas/search?q=%E9%95%87&limit=50").json()["areas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["level"] == "town")
        .map(|x| id_of(&x["id"]))
        .find(|t| *t != town)
        .expect("another town")
}

/// The Python that reads the one table's files (openpyxl; scripts/test.sh
/// makes it in target/python-env).
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| {
        panic!(
            "set PYTHON to a Python with openpyxl (scripts/test.sh makes one in target/python-env)"
        )
    })
}

/// Checks a downloaded table (csv, xlsx, gpkg) with
/// tests/tools/table_check.py against the engine's JSON answer.
pub fn check_file(kind: &str, body: &[u8], expected: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("t.{kind}"));
    let exp = dir.path().join("expected.json");
    std::fs::write(&file, body).unwrap();
    std::fs::write(&exp, expected.to_string()).unwrap();
    let out = std::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/tools/table_check.py"
        ))
        .arg(kind)
        .arg(&file)
        .arg(&exp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kind} differs from the engine's answer: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    let n = expected["rows"].as_array().unwrap().len();
    assert_eq!(said.trim(), format!("ok {n}"));
}
