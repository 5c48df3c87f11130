use clap::{Args, Parser, Subcommand};
use geo_types::Polygon;
use onemap_core::{AreaId, BBox, TimeBound};
use onemap_index::{Cursor, GroupBy, HotspotPlace};
use std::path::PathBuf;

/// Where `onemap synth` writes, and everything else reads, by default.
pub const DEFAULT_DATA: &str = "data/generated/putian";

#[derive(Debug, Parser)]
#[command(
    name = "onemap",
    version,
    about = "Whole city, one map: tiles and map analytics for grassroots governance"
)]
pub struct Cli {
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a deterministic synthetic city shaped like Putian.
    Synth(SynthArgs),
    /// Check a city directory: counts, ids, parents, geometry, containment, overlaps, gaps.
    Validate(ValidateArgs),
    /// Ask the city a question (JSON out; --table for a readable table).
    Query(QueryArgs),
    /// Serve tiles, styles, the query API and the web viewer over HTTP.
    Serve(ServeArgs),
    /// Issue bearer tokens for the event loop.
    Token(TokenArgs),
    /// Manage people's accounts (they sign in to the viewer with a name and
    /// a password).
    User(UserArgs),
    /// Work with tiles offline (export an MBTiles or PMTiles archive).
    Tiles(TilesArgs),
    /// Manage the PostGIS database (migrate its schema).
    Db(DbArgs),
    /// Import a city directory into PostGIS, in one transaction (binary COPY).
    Import(ImportArgs),
    /// Export the city in PostGIS into a city directory (FlatGeobuf + city.json).
    Export(ExportArgs),
    /// Simulate live feeds against a running server (the fishing fleet).
    Simulate(crate::simulate::SimulateArgs),
    /// Coordinate enterprise inspections and school visits: the demo year,
    /// before and after, for a town, a district or the city.
    Coordinate(crate::coordinate::CoordinateArgs),
    /// The one table's ledgers: generate them for a city, list their fields.
    Ledgers(crate::ledgers::LedgersArgs),
    /// A table of a ledger (filter, fields) as CSV, XLSX or GeoPackage.
    Table(crate::ledgers::TableArgs),
    /// The problem, development and task lists of a city's store (a table
    /// or JSON); `lists build` makes the demo's items.
    Lists(crate::lists::ListsArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create or update the schema (idempotent: applies only missing migrations).
    Migrate {
        /// Database URL, e.g. postgres://user:password@host:5432/onemap
        #[arg(long)]
        postgres: String,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Database URL, e.g. postgres://user:password@host:5432/onemap
    #[arg(long)]
    pub postgres: String,
    /// Replace a city already in the database (in the same transaction)
    /// instead of refusing.
    #[arg(long)]
    pub replace: bool,
    /// City directory written by `onemap synth` or `onemap export`.
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Database URL, e.g. postgres://user:password@host:5432/onemap
    #[arg(long)]
    pub postgres: String,
    /// Output directory (created if missing; its layer files are replaced atomically).
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct TilesArgs {
    #[command(subcommand)]
    pub command: TilesCommand,
}

#[derive(Debug, Subcommand)]
pub enum TilesCommand {
    /// Render every non-empty tile of a zoom range into one archive file.
    Export(TilesExportArgs),
}

#[derive(Debug, Args)]
pub struct TilesExportArgs {
    /// Archive format: mbtiles or pmtiles.
    #[arg(long)]
    pub format: onemap_tiles::ExportFormat,
    #[arg(long, default_value_t = 0)]
    pub minzoom: u8,
    #[arg(long, default_value_t = 14)]
    pub maxzoom: u8,
    /// Comma-separated tile layers [default: all].
    #[arg(long)]
    pub layers: Option<String>,
    /// City directory to load.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// Output file (written to a temporary file next to it, then renamed).
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// City directory to load.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// City directory whose ledgers/ the one table reads, as files
    /// [default: --data; with --postgres, the database's ledgers, where the
    /// filter runs].
    #[arg(long)]
    pub ledgers: Option<PathBuf>,
    /// Load the city from this PostGIS database instead of a directory
    /// (e.g. postgres://user@host:5432/onemap). Keep the password off the
    /// command line: in PGPASSWORD, in --postgres-password-file, or the
    /// whole URL in ONEMAP_POSTGRES_URL.
    #[arg(
        long,
        conflicts_with = "data",
        env = "ONEMAP_POSTGRES_URL",
        hide_env_values = true
    )]
    pub postgres: Option<String>,
    #[command(flatten)]
    pub pg: PgConnectArgs,
    /// With --postgres: seconds between checks of the database connection,
    /// reconnecting when it was lost (0: never reconnect).
    #[arg(long, default_value_t = 2)]
    pub reconnect_secs: u64,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Memory budget of the tile cache in MiB (0 disables it). The default
    /// holds every z14 tile of the demo city's units and events (106 MiB)
    /// and keeps the server under 1.5 GiB (BENCHMARKS.md).
    #[arg(long, default_value_t = 128)]
    pub cache_mb: u64,
    /// Folder of MapLibre style documents.
    #[arg(long, default_value = "styles")]
    pub styles: PathBuf,
    /// Folder of the web viewer (with node_modules/ after `npm ci`).
    #[arg(long, default_value = "viewer")]
    pub viewer: PathBuf,
    /// The embedded store (a GeoPackage file) that keeps reported events,
    /// their moves and the tokens [default: onemap.gpkg in the city directory].
    #[arg(long, conflicts_with = "postgres")]
    pub store: Option<PathBuf>,
    /// Reads need a bearer token too (any role, e.g. a `viewer` token): the
    /// API, tiles, TileJSON, styles and catalog answer 401 without one. The
    /// pages, /healthz and /metrics stay open (the web viewer needs public
    /// reads).
    #[arg(long)]
    pub private_reads: bool,
    /// An origin (scheme://host[:port]) whose pages may call this server with
    /// tokens and credentials, as the server's own pages do; repeat it or
    /// give a comma list. Any other origin may only read public data,
    /// without credentials (none under --private-reads).
    #[arg(long = "cors-origin", env = "ONEMAP_CORS_ORIGINS", value_delimiter = ',', value_parser = onemap_server::CorsOrigins::origin)]
    pub cors_origins: Vec<String>,
    /// Session cookies are always Secure (behind a TLS proxy that does not
    /// send X-Forwarded-Proto: https; with it they are Secure anyway).
    #[arg(long)]
    pub secure_cookies: bool,
    /// The time limit of each step of the loop, a TOML file like
    /// config/deadlines.toml [default: judge 1d, route 1d, handle 3d, feed back 2d].
    #[arg(long, env = "ONEMAP_DEADLINES", value_parser = crate::deadlines::load)]
    pub deadlines: Option<onemap_core::Deadlines>,
    /// The demo year of the coordination of inspections and school visits
    /// (`/api/coord/…`; plans generated from the city's seed).
    #[arg(long, default_value_t = onemap_server::DEFAULT_COORD_YEAR,
          value_parser = clap::value_parser!(i32).range(1971..=2199))]
    pub coord_year: i32,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// How `--postgres` connects, besides its URL.
#[derive(Debug, Args)]
pub struct PgConnectArgs {
    /// A file holding the database password (its first line), for a URL
    /// without one. Without it, PGPASSWORD is used.
    #[arg(long, requires = "postgres")]
    pub postgres_password_file: Option<PathBuf>,
    /// disable: plain text (unless the URL says sslmode=require); require:
    /// TLS only, the server's certificate checked (against --postgres-ca,
    /// else the system's roots) and naming the host.
    #[arg(long, default_value = "disable", value_parser = ["disable", "require"], requires = "postgres")]
    pub postgres_tls: String,
    /// With --postgres-tls require: trust only the PEM certificate(s) in
    /// this file (e.g. the server's self-signed certificate, or its CA).
    #[arg(long, requires = "postgres")]
    pub postgres_ca: Option<PathBuf>,
}

/// The server's limits (README, "HTTP"); each over its cap is answered at
/// once (503 overloaded with Retry-After, 413 body_too_large), never queued.
/// /healthz and /metrics are never shed.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Seconds to receive a request's head, counted from when the connection
    /// waits for one: also how long a kept-alive connection may sit idle.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds from a request's head to its answer (reading the body
    /// included; 503 timeout after). A stream's events are not timed.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,
    /// Connections served at once; beyond, 64 more are answered 503 (but
    /// /healthz and /metrics) and the rest closed.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Expensive requests at once: tile renders that miss the cache, and
    /// features, nearest, stats, hotspots, area, search and wall queries.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_expensive: u64,
    /// Subscribers of the ship stream (/api/ships/stream) at once.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_streams: u64,
    /// Groups one /api/stats answer lists (422 too_large beyond): bounds the
    /// answer's size and the counting's memory.
    #[arg(long, default_value_t = onemap_index::MAX_GROUPS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_groups: u64,
    /// Queries worked at once (features, nearest, stats, hot spots, areas,
    /// search, wall); beyond, a query waits up to 5 s for its turn, then 503
    /// [default: the cores, at least 2].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_queries: Option<u64>,
    /// Downloads of the one table made at once (CSV, XLSX, GeoPackage);
    /// beyond, one waits up to 5 s for its turn, then 503. Each holds the
    /// city snapshot it started on, and an XLSX or GeoPackage is made whole
    /// in memory.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_downloads: u64,
    /// Largest body of an event report or move, KiB (413 beyond).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub event_body_kb: u64,
    /// Largest body of a ship position batch, KiB: 10,000 reports (the most
    /// a batch holds) take up to 2 MiB pretty-printed. Other routes take no
    /// body.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    pub ships_body_kb: u64,
    /// Largest body of an event photo (the image as it is), KiB.
    #[arg(long, default_value_t = 10240, value_parser = clap::value_parser!(u64).range(1..))]
    pub photo_body_kb: u64,
}

impl LimitArgs {
    /// The server's limits.
    pub fn limits(&self) -> onemap_server::Limits {
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        onemap_server::Limits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs),
            max_connections: n(self.max_connections),
            max_expensive: n(self.max_expensive),
            max_streams: n(self.max_streams),
            max_groups: n(self.max_groups),
            max_queries: self
                .max_queries
                .map_or_else(onemap_server::default_max_queries, n),
            max_downloads: n(self.max_downloads),
            event_body: n(self.event_body_kb.saturating_mul(1024)),
            ships_body: n(self.ships_body_kb.saturating_mul(1024)),
            photo_body: n(self.photo_body_kb.saturating_mul(1024)),
        }
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a bearer token; it is printed once and only its hash is kept.
    Create {
        /// unit_leader, town_office, department, viewer, ship_feed,
        /// enterprise or school.
        #[arg(long)]
        role: String,
        /// What it may act on, which must suit the role: area:ID of a
        /// village, grid or unit (unit_leader), of a town (town_office),
        /// department:NAME (department), city or area:ID (viewer), city
        /// (ship_feed), enterprise:ID (enterprise), school:ID (school).
        #[arg(long)]
        scope: String,
        /// Who the token is for (kept in every change they make).
        #[arg(long)]
        name: String,
        /// Refused after this long: e.g. 90d, 12h, 30m, 3600s [default: until revoked].
        #[arg(long, value_parser = crate::tokens::parse_duration, conflicts_with = "expires")]
        expires_in: Option<i64>,
        /// Refused from this time on: YYYY-MM-DD (China Standard Time midnight),
        /// an ISO 8601 date-time or Unix seconds.
        #[arg(long)]
        expires: Option<onemap_core::TimeBound>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the tokens (their ids, never the secrets), oldest first.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by its id (`tok_…` as `list` shows it); every server
    /// refuses it within seconds.
    Revoke {
        /// The token's id, or at least 8 hex digits of it.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

/// The password of `user create` and `user passwd` is read from the
/// environment variable ONEMAP_PASSWORD, else from the first line of
/// standard input (never from the command line, where others could see it).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account: a sign-in name, a display name, a role and a scope
    /// as tokens have them; the password from ONEMAP_PASSWORD or stdin.
    Create {
        /// The sign-in name: letters, digits, '.', '_' or '-'.
        #[arg(long)]
        name: String,
        /// The name shown and kept in every change they make (e.g. 李明).
        #[arg(long)]
        display_name: String,
        /// unit_leader, town_office, department, viewer, enterprise or
        /// school.
        #[arg(long)]
        role: String,
        /// As for tokens: area:ID (unit_leader: village, grid or unit;
        /// town_office: town; viewer: any), department:NAME, city (viewer),
        /// enterprise:ID (enterprise) or school:ID (school).
        #[arg(long)]
        scope: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the accounts (never their passwords).
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account: it can no longer sign in, and its sessions end
    /// on every server within seconds.
    Disable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set an account's password (from ONEMAP_PASSWORD or stdin); its
    /// sessions end.
    Passwd {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the tokens are kept.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// City directory whose store keeps the tokens.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// The store file [default: onemap.gpkg in the city directory].
    #[arg(long, conflicts_with = "postgres")]
    pub store: Option<PathBuf>,
    /// Keep the tokens in this PostGIS database instead (for servers
    /// started with `serve --postgres`).
    #[arg(long, conflicts_with = "data")]
    pub postgres: Option<String>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// City directory to load.
    #[arg(long, default_value = DEFAULT_DATA, global = true)]
    pub data: PathBuf,
    /// Print a readable table instead of JSON (where one makes sense).
    #[arg(long, global = true)]
    pub table: bool,
    #[command(subcommand)]
    pub command: QueryCommand,
}

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// The unit, grid, village, town and district at a point (null at sea).
    Locate {
        #[arg(allow_negative_numbers = true)]
        lon: f64,
        #[arg(allow_negative_numbers = true)]
        lat: f64,
    },
    /// The k features of a point layer nearest to a point, with geodesic distances.
    Near {
        /// events, ships, heritage, homesteads, enterprises or schools.
        layer: String,
        #[arg(allow_negative_numbers = true)]
        lon: f64,
        #[arg(allow_negative_numbers = true)]
        lat: f64,
        #[arg(short, default_value_t = 5)]
        k: usize,
        /// Only features at most this many metres away.
        #[arg(long, allow_negative_numbers = true)]
        max_distance: Option<f64>,
        /// Events: comma-separated categories.
        #[arg(long)]
        category: Option<String>,
        /// Comma-separated statuses: of events (reported, …, closed) or of
        /// homesteads (idle, demolishing, reclaimed).
        #[arg(long)]
        status: Option<String>,
    },
    /// Features of a layer in a box, an area or a polygon, one page at a
    /// time in id order (e.g. idle homesteads in a town:
    /// `features homesteads --area 350302005 --status idle`).
    #[command(alias = "bbox")]
    Features {
        layer: String,
        /// min_lon,min_lat,max_lon,max_lat (at most 5° on a side).
        #[arg(long, allow_hyphen_values = true, group = "scope")]
        bbox: Option<BBox>,
        /// An area id (district, town, village, grid or unit).
        #[arg(long, group = "scope")]
        area: Option<AreaId>,
        /// A polygon: 'lon lat,lon lat,…' or 'lon,lat;lon,lat;…'.
        #[arg(long, allow_hyphen_values = true, group = "scope",
              value_parser = onemap_core::parse_polygon)]
        polygon: Option<Polygon<f64>>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// The next_cursor of the previous page.
        #[arg(long)]
        cursor: Option<Cursor>,
        /// Events: from this date (YYYY-MM-DD, UTC+8), ISO 8601 date-time or
        /// Unix time, inclusive.
        #[arg(long)]
        from: Option<TimeBound>,
        /// Events: up to this date, date-time or Unix time, exclusive.
        #[arg(long)]
        to: Option<TimeBound>,
        /// Events: comma-separated categories.
        #[arg(long)]
        category: Option<String>,
        /// Comma-separated statuses: of events (reported, …, closed) or of
        /// homesteads (idle, demolishing, reclaimed).
        #[arg(long)]
        status: Option<String>,
        /// Print CSV (RFC 4180, a header row, one row per feature; ids as
        /// their digits; the next page's cursor on stderr) instead of JSON.
        #[arg(long, conflicts_with = "table")]
        csv: bool,
    },
    /// An area with its figures, leader, breadcrumb and children.
    Area {
        id: AreaId,
        #[arg(long)]
        from: Option<TimeBound>,
        #[arg(long)]
        to: Option<TimeBound>,
    },
    /// Event counts by status and category, open count and closure rate, per group.
    Stats {
        /// district, town, village, grid, unit, or h3:RES (5..=12).
        #[arg(long, default_value = "district")]
        by: GroupBy,
        #[arg(long)]
        from: Option<TimeBound>,
        #[arg(long)]
        to: Option<TimeBound>,
        /// Only events under this area (id).
        #[arg(long)]
        area: Option<AreaId>,
        /// Only events in this box: min_lon,min_lat,max_lon,max_lat (at most
        /// 5° on a side).
        #[arg(long, allow_hyphen_values = true)]
        bbox: Option<BBox>,
    },
    /// Open events past the time limit of the step they wait for, the most
    /// overdue first, with counts per status.
    Overdue {
        /// Only events under this area (id).
        #[arg(long)]
        area: Option<AreaId>,
        /// Only events in this box: min_lon,min_lat,max_lon,max_lat.
        #[arg(long, allow_hyphen_values = true)]
        bbox: Option<BBox>,
        /// How many of the most overdue to list (at most 1,000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// The moment to judge at [default: now].
        #[arg(long)]
        at: Option<TimeBound>,
        /// The steps' time limits (TOML) [default: judge 1d, route 1d, handle 3d, feed back 2d].
        #[arg(long, env = "ONEMAP_DEADLINES", value_parser = crate::deadlines::load)]
        deadlines: Option<onemap_core::Deadlines>,
    },
    /// Places where the same problem keeps coming back, most reported first.
    Hotspots {
        /// Least number of events at one place (at least 1).
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..))]
        min_count: u32,
        /// unit, or h3:RES (11..=12).
        #[arg(long, default_value = "h3:11")]
        place: HotspotPlace,
        #[arg(long)]
        from: Option<TimeBound>,
        #[arg(long)]
        to: Option<TimeBound>,
        /// Comma-separated categories, e.g. sanitation,drainage.
        #[arg(long)]
        category: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Random seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip the one table's ledgers (people, houses, cadres, projects);
    /// `onemap ledgers build` makes them later.
    #[arg(long)]
    pub no_ledgers: bool,
    /// Output directory (created if missing; its layer files are replaced).
    #[arg(long, default_value = DEFAULT_DATA)]
    pub out: PathBuf,
    /// Number of events, exactly (hot spots included) [default: 1,000,000 × scale].
    #[arg(long)]
    pub events: Option<u64>,
    /// Size of the city relative to the real one, in (0, 1]: 0.02 is a small city for tests.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Check the generated city before writing it (slower).
    #[arg(long)]
    pub validate: bool,
    /// The last day of the event history, YYYY-MM-DD (China time) [default: 2026-10-31].
    /// The same seed and day give the same bytes; `city.json` records it.
    #[arg(long, value_parser = parse_day)]
    pub until: Option<i64>,
}

/// A day `YYYY-MM-DD` as the Unix time of its midnight, China time.
fn parse_day(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if t.len() != 10 || t.contains(['T', ' ']) {
        return Err(format!("{s:?} is not a day YYYY-MM-DD"));
    }
    onemap_core::time::parse_time(t).ok_or_else(|| format!("{s:?} is not a day YYYY-MM-DD"))
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// City directory written by `onemap synth` (or `onemap export`).
    #[arg(default_value = DEFAULT_DATA)]
    pub dir: PathBuf,
}
