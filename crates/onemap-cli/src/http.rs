//! A minimal HTTP/1.1 client for the command line's own calls to a server
//! (`onemap simulate ships`) and the load tools in `examples/`: std's
//! `TcpStream`, no TLS, nothing hidden.

use anyhow::{anyhow, Context};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One plain HTTP/1.1 request on a connection of its own (`Connection:
/// close`, 30 s read timeout, an optional bearer token and JSON body): the
/// status and the body, de-chunked.
pub fn request(
    host: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(host)
        .with_context(|| format!("cannot reach the server at http://{host}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    if let Some(b) = body {
        s.write_all(b.as_bytes())?;
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .with_context(|| format!("the server at http://{host} did not answer"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("not an HTTP answer from http://{host}"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP answer from http://{host}"))?;
    let mut b = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        b = dechunk(&b);
    }
    Ok((status, b))
}

/// The body of a chunked answer.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 || b.len() < i + 2 + n {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[(i + 4 + n).min(b.len())..];
    }
    out
}
