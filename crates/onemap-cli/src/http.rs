//! The HTTP client of the command line's own calls to a server (`onemap
//! simulate ships`) and of the load tools in `examples/`: ureq over plain
//! http (no TLS, no gzip, no proxy, no redirects followed), one connection
//! per request.
//!
//! An answer of any status comes back as its status and body; a body cut
//! short (the connection closed before `Content-Length` bytes, or a chunked
//! body without its last chunk) is an error, never a shorter body.

use anyhow::Context;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::sync::LazyLock;
use std::time::Duration;
use ureq::config::AutoHeaderValue;
use ureq::http::Request;
use ureq::Agent;

/// The longest wait for any one read of an answer (its head or body).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The agent's settings: statuses are answers, not errors; no automatic
/// headers beyond `Host`; nothing kept between requests.
fn config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(AutoHeaderValue::None)
        .accept(AutoHeaderValue::None)
        .accept_encoding(AutoHeaderValue::None)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
}

/// Requests and their answers: at most [`READ_TIMEOUT`] per read.
static AGENT: LazyLock<Agent> = LazyLock::new(|| {
    config()
        .timeout_per_read(Some(READ_TIMEOUT))
        .build()
        .new_agent()
});

/// Streams (server-sent events): no time-out, they go quiet for as long as
/// nothing happens.
static STREAM_AGENT: LazyLock<Agent> = LazyLock::new(|| config().build().new_agent());

/// One HTTP/1.1 request on a connection of its own (30 s per read, an
/// optional bearer token and JSON body): the status and the whole body.
pub fn request(
    host: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{host}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let answer = match body {
        Some(b) => AGENT.run(
            req.header("Content-Type", "application/json")
                .body(b.to_string())
                .context("not a valid request")?,
        ),
        None => AGENT.run(req.body(()).context("not a valid request")?),
    };
    let mut answer = answer.map_err(|e| unreachable_or(e, host))?;
    let status = answer.status().as_u16();
    let mut out = Vec::new();
    answer
        .body_mut()
        .as_reader()
        .read_to_end(&mut out)
        .with_context(|| format!("the answer from http://{host} was cut off"))?;
    Ok((status, out))
}

/// A `GET` whose body is read as it comes (a server-sent event stream):
/// the status and the body's reader, without a time-out.
pub fn stream(host: &str, path: &str) -> anyhow::Result<(u16, impl BufRead + Send + 'static)> {
    let answer = STREAM_AGENT
        .get(format!("http://{host}{path}"))
        .call()
        .map_err(|e| unreachable_or(e, host))?;
    let status = answer.status().as_u16();
    Ok((status, BufReader::new(answer.into_body().into_reader())))
}

/// A failed request as the command line says it: the server could not be
/// reached at all, or it did not give a whole answer.
fn unreachable_or(e: ureq::Error, host: &str) -> anyhow::Error {
    let unreachable = match &e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::NetworkDown
                | ErrorKind::AddrNotAvailable
        ),
        _ => false,
    };
    let what = if unreachable {
        format!("cannot reach the server at http://{host}")
    } else {
        format!("the server at http://{host} did not answer")
    };
    anyhow::Error::new(e).context(what)
}

#[cfg(test)]
mod tests {
    use super::request;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A one-shot server on a free loopback port: it reads one request's
    /// head, writes `answer` and closes the connection. Its `host:port`, and
    /// the thread that gives the request's head (lower case) when joined.
    fn answer_once(answer: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = l.local_addr().unwrap().to_string();
        let t = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s);
            let mut head = String::new();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                head.push_str(&line.to_ascii_lowercase());
                line.clear();
            }
            r.get_mut().write_all(answer).unwrap();
            head
        });
        (host, t)
    }

    #[test]
    fn a_body_shorter_than_its_content_length_is_an_error() {
        let (host, t) = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        let r = request(&host, "GET", "/x", None, None);
        t.join().unwrap();
        let e = r.expect_err("a cut-off body was taken whole");
        assert!(format!("{e:#}").contains("cut off"), "{e:#}");
    }

    #[test]
    fn a_chunked_body_without_its_last_chunk_is_an_error() {
        let (host, t) =
            answer_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        let r = request(&host, "GET", "/x", None, None);
        t.join().unwrap();
        let e = r.expect_err("a cut-off chunked body was taken whole");
        assert!(format!("{e:#}").contains("cut off"), "{e:#}");
    }

    #[test]
    fn whole_answers_come_back_with_their_status_even_4xx() {
        let (host, t) = answer_once(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        );
        let r = request(&host, "POST", "/x", Some("t"), Some("{}")).unwrap();
        let head = t.join().unwrap();
        assert_eq!(r, (404, b"hello world".to_vec()));
        assert!(head.starts_with("post /x http/1.1\r\n"), "{head}");
        for h in [
            "authorization: bearer t\r\n",
            "content-type: application/json\r\n",
            "content-length: 2\r\n",
        ] {
            assert!(head.contains(h), "{h:?} not in {head}");
        }
        let (host, t) =
            answer_once(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops");
        let r = request(&host, "GET", "/x", None, None).unwrap();
        t.join().unwrap();
        assert_eq!(r, (500, b"oops".to_vec()));
    }

    #[test]
    fn an_unreachable_server_is_said_so() {
        // A port that was free a moment ago: nothing listens there.
        let host = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let e = request(&host, "GET", "/x", None, None).unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot reach the server"),
            "{e:#}"
        );
    }
}
