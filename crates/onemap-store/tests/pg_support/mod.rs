//! What both PostGIS test files (this crate's and the workspace's
//! `tests/postgres.rs`) need: the test server's URL, and URLs of its other
//! databases.

pub const ENV: &str = "ONEMAP_TEST_POSTGRES";

/// The test server's URL, or a failure saying how to get one.
pub fn server_url() -> String {
    match std::env::var(ENV) {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "{ENV} is not set: the PostGIS tests need a PostgreSQL server with PostGIS \
             (CI={}). Run `bash scripts/test.sh`, or start a throwaway cluster with \
             `export {ENV}=\"$(bash scripts/pg-test-cluster.sh start /tmp/onemap-pg)\"`",
            std::env::var("CI").unwrap_or_else(|_| "unset".into())
        ),
    }
}

/// `url` with its database replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").expect("a postgres:// URL") + 3;
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{db}{query}")
}
