use thiserror::Error;

/// Everything that can go wrong with a PostGIS store. Every message is one
/// line; database errors carry the server's message (and detail, if any).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PgError {
    /// The connection string does not parse.
    #[error("invalid PostgreSQL URL: {reason}")]
    BadUrl { reason: String },

    #[error("cannot connect to PostgreSQL at {target}: {message}")]
    Connect { target: String, message: String },

    /// TLS cannot be set up (an unreadable CA file, no certificate in it).
    #[error("PostgreSQL TLS: {reason}")]
    Tls { reason: String },

    /// A statement failed.
    #[error("cannot {action}: {message}")]
    Sql {
        action: String,
        message: String,
        /// The SQLSTATE code, when the server sent one.
        code: Option<String>,
    },

    /// The database has not been migrated to the schema this onemap needs.
    #[error("the database schema is at version {found}, this onemap needs version {expected}: run `onemap db migrate --postgres URL` first")]
    NotMigrated { found: i32, expected: i32 },

    /// The database was migrated by a newer onemap.
    #[error("the database schema is at version {found}, newer than this onemap knows ({known}): upgrade onemap")]
    NewerSchema { found: i32, known: i32 },

    /// Importing into a database that already holds a city, without replacing it.
    #[error("the database already holds a city ({what}); nothing was written (replace it in one transaction with --replace)")]
    NotEmpty { what: String },

    /// Loading from a database that holds no city.
    #[error("the database holds no city: import one with `onemap import --postgres URL DIR`")]
    NoCity,

    /// The database cannot be reached now (down, restarting, or the
    /// connection was lost); nothing was written.
    #[error("the database at {target} is unavailable: {message}")]
    Unavailable { target: String, message: String },

    /// Data that cannot be stored, or stored data that makes no sense.
    #[error("{table}: {reason}")]
    InvalidData { table: &'static str, reason: String },
}

impl PgError {
    /// Wraps a database error with what was being done.
    pub(crate) fn sql(action: impl Into<String>, e: tokio_postgres::Error) -> PgError {
        PgError::Sql {
            action: action.into(),
            message: describe(&e),
            code: e.code().map(|c| c.code().to_string()),
        }
    }

    /// Wraps a database error met by the live server: a lost or refused
    /// connection (or a server shutting down) is [`PgError::Unavailable`].
    pub(crate) fn live(target: &str, action: &str, e: tokio_postgres::Error) -> PgError {
        let lost = e.is_closed()
            || match e.code() {
                // Class 08 (connection exception), 57P01–57P03 (admin or
                // crash shutdown, cannot connect now).
                Some(c) => c.code().starts_with("08") || c.code().starts_with("57P"),
                None => e.as_db_error().is_none(),
            };
        if lost {
            PgError::Unavailable {
                target: target.to_string(),
                message: format!("cannot {action}: {}", describe(&e)),
            }
        } else {
            PgError::sql(action, e)
        }
    }

    /// Whether the database could not be reached (try again later).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, PgError::Unavailable { .. } | PgError::Connect { .. })
    }

    pub(crate) fn invalid(table: &'static str, reason: impl Into<String>) -> PgError {
        PgError::InvalidData {
            table,
            reason: reason.into(),
        }
    }
}

/// A database error on one line: the server's message with its detail and
/// constraint, or the client's description (with its cause).
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s += &format!(" ({d})");
        }
        if let Some(c) = db.constraint() {
            s += &format!(" [constraint {c}]");
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(c) = source {
        let text = c.to_string();
        if !s.contains(&text) {
            s += &format!(": {text}");
        }
        source = c.source();
    }
    s
}
