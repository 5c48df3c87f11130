//! Where a database is and how to reach it: [`PgTarget`], a parsed
//! connection configuration (its password never shown) and its TLS policy.
//!
//! TLS is native-tls over the system's OpenSSL (`postgres-native-tls`).
//! Every connection is made with the same connector type; whether it speaks
//! TLS is the configuration's `sslmode`, which a target sets to `disable`
//! (plain text, what onemap always did) or `require`. With `require` the
//! server must accept TLS (a plain-text-only server is refused) and its
//! certificate must chain to the given CA file (or, without one, to the
//! system's roots) and name the host connected to: stronger than libpq's
//! `require`, which checks nothing; like its `verify-full`.

use super::error::PgError;
use super::{describe_target, parse_url};
use std::path::Path;
use tokio_postgres::config::SslMode;
use tokio_postgres::Config;

/// The TLS connector of every connection (speaking TLS only when the
/// configuration's `sslmode` is `require`).
pub(crate) type Tls = postgres_native_tls::MakeTlsConnector;

/// A database to connect to: its configuration (user, password, host,
/// port, database) and whether TLS is required.
#[derive(Clone)]
pub struct PgTarget {
    pub(crate) config: Config,
    pub(crate) tls: Tls,
}

/// No password, ever: the host, port and database, and the TLS policy.
impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("target", &self.describe())
            .field("tls_required", &self.tls_required())
            .finish()
    }
}

impl std::str::FromStr for PgTarget {
    type Err = PgError;
    fn from_str(url: &str) -> Result<Self, PgError> {
        PgTarget::parse(url)
    }
}

impl PgTarget {
    /// A URL (`postgres://user:password@host:port/db`) or key=value
    /// connection string. TLS is required when it says `sslmode=require`
    /// (checked against the system's roots); any other `sslmode` is plain
    /// text.
    pub fn parse(url: &str) -> Result<PgTarget, PgError> {
        let mut config = parse_url(url)?;
        let require = config.get_ssl_mode() == SslMode::Require;
        config.ssl_mode(SslMode::Disable);
        let mut target = PgTarget {
            config,
            tls: connector(None)?,
        };
        if require {
            target.require_tls(None)?;
        }
        Ok(target)
    }

    /// Whether the configuration has a password.
    pub fn has_password(&self) -> bool {
        self.config.get_password().is_some()
    }

    /// Sets the password (from the environment or a file, so that it is on
    /// no command line).
    pub fn set_password(&mut self, password: &str) {
        self.config.password(password);
    }

    /// Requires TLS, the server's certificate checked against the PEM
    /// certificates of `ca` (only those) or, without it, the system's roots.
    pub fn require_tls(&mut self, ca: Option<&Path>) -> Result<(), PgError> {
        self.tls = connector(ca)?;
        self.config.ssl_mode(SslMode::Require);
        Ok(())
    }

    /// Whether connections must speak TLS.
    pub fn tls_required(&self) -> bool {
        self.config.get_ssl_mode() == SslMode::Require
    }

    /// `host:port/database` (no user, no password), for messages.
    pub fn describe(&self) -> String {
        describe_target(&self.config)
    }

    /// The configuration, to be adjusted (timeouts, application name)
    /// before connecting.
    pub(crate) fn config(&self) -> Config {
        self.config.clone()
    }
}

/// A TLS connector trusting the certificates of `ca` only, or the system's
/// roots.
fn connector(ca: Option<&Path>) -> Result<Tls, PgError> {
    let bad = |reason: String| PgError::Tls { reason };
    let mut b = native_tls::TlsConnector::builder();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca)
            .map_err(|e| bad(format!("cannot read the CA file {}: {e}", ca.display())))?;
        let certs = native_tls::Certificate::stack_from_pem(&pem)
            .map_err(|e| bad(format!("{} holds no PEM certificate: {e}", ca.display())))?;
        if certs.is_empty() {
            return Err(bad(format!("{} holds no PEM certificate", ca.display())));
        }
        b.disable_built_in_roots(true);
        for c in certs {
            b.add_root_certificate(c);
        }
    }
    let c = b
        .build()
        .map_err(|e| bad(format!("cannot set up TLS: {e}")))?;
    Ok(postgres_native_tls::MakeTlsConnector::new(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_unless_required_and_never_shown_with_its_password() {
        let t = PgTarget::parse("postgres://me:secret@db.example:5433/city").unwrap();
        assert!(!t.tls_required());
        assert!(t.has_password());
        let shown = format!("{t:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("me@"),
            "{shown}"
        );
        assert!(shown.contains("db.example:5433/city"), "{shown}");
        // libpq's default (prefer) stays plain text, as onemap always was.
        let p = PgTarget::parse("postgres://me@db.example/city?sslmode=prefer").unwrap();
        assert!(!p.tls_required() && !p.has_password());
        let r = PgTarget::parse("postgres://me@db.example/city?sslmode=require").unwrap();
        assert!(r.tls_required());
        let mut s = p.clone();
        s.set_password("pw");
        assert!(s.has_password() && !format!("{s:?}").contains("pw"));
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = PgTarget::parse("postgres://me@db.example/city").unwrap();
        let missing = dir.path().join("none.pem");
        let e = t.require_tls(Some(&missing)).unwrap_err().to_string();
        assert!(e.contains("cannot read the CA file"), "{e}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let e = t.require_tls(Some(&junk)).unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
        assert!(!t.tls_required(), "a failed require changes nothing");
    }
}
