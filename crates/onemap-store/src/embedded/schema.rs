//! The embedded store's schema: the GeoPackage tables every version of the
//! file starts from, and the migrations that bring an older file up to
//! date. A released migration never changes; a new file runs them all, so
//! it is the same as one migrated from version 1.

/// GeoPackage's SQLite application id ("GPKG") and version 1.3.
pub(super) const GPKG_APPLICATION_ID: i32 = 0x4750_4B47;
pub(super) const GPKG_VERSION: i32 = 10300;

/// The migrations after version 1, as (version they make, what, SQL).
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (2, "ship tables", SCHEMA_V2),
    (3, "column names as in PostGIS", SCHEMA_V3),
    (
        4,
        "idempotency keys per account, expiring and revocable tokens",
        SCHEMA_V4,
    ),
    (5, "people's accounts and their sessions", SCHEMA_V5),
    (6, "when each event entered its status", SCHEMA_V6),
    (7, "events' photos", SCHEMA_V7),
    (8, "the one table's download log", SCHEMA_V8),
    (
        9,
        "departments' answers to coordination suggestions",
        SCHEMA_V9,
    ),
    (10, "the one table's saved templates", SCHEMA_V10),
    (
        11,
        "enterprises' and schools' requests and self-checks",
        SCHEMA_V11,
    ),
    (12, "the problem, development and task lists", SCHEMA_V12),
];

/// The version a store of this onemap is at.
pub(super) const SCHEMA_VERSION: i64 = 12;

/// Version 1: the GeoPackage tables, the events the loop touched, their
/// history, the tokens.
pub(super) const SCHEMA_V1: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE events (
  fid INTEGER PRIMARY KEY, geom BLOB NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL,
  reported_at INTEGER NOT NULL, closed_at INTEGER, unit INTEGER NOT NULL,
  description TEXT NOT NULL, reporter TEXT NOT NULL, routed_to TEXT,
  idempotency_key TEXT UNIQUE, updated_at INTEGER NOT NULL);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('events', 'features', 'events', 'events reported or moved through onemap', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('events', 'geom', 'POINT', 4326, 0, 0);
CREATE TABLE event_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER NOT NULL REFERENCES events(fid),
  at INTEGER NOT NULL, from_status TEXT, to_status TEXT NOT NULL, actor TEXT NOT NULL,
  role TEXT NOT NULL, routed_to TEXT, note TEXT);
CREATE INDEX event_history_event ON event_history(event_id, id);
CREATE TABLE tokens (
  hash TEXT PRIMARY KEY, role TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE onemap_schema (version INTEGER NOT NULL);
";

/// Version 2: the ship-position history (a point feature table) and the
/// ships' port crossings.
const SCHEMA_V2: &str = "
CREATE TABLE ship_positions (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB NOT NULL, mmsi INTEGER NOT NULL,
  time INTEGER NOT NULL, speed_kn REAL NOT NULL, course_deg REAL NOT NULL,
  in_port INTEGER NOT NULL);
CREATE INDEX ship_positions_mmsi ON ship_positions(mmsi, time);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('ship_positions', 'features', 'ship_positions', 'applied ship position reports', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('ship_positions', 'geom', 'POINT', 4326, 0, 0);
CREATE TABLE ship_crossings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, mmsi INTEGER NOT NULL, port TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('departure', 'arrival')), time INTEGER NOT NULL);
CREATE INDEX ship_crossings_port ON ship_crossings(port, time);
";

/// Version 3: one name per column in both stores. The history is keyed by
/// (event, step) with PostGIS's names (`seq`, `status` for the status it
/// entered); an event's unit is `unit_id` and the ship tables' time `at`,
/// as in PostGIS. Existing history keeps its order.
const SCHEMA_V3: &str = "
ALTER TABLE events RENAME COLUMN unit TO unit_id;
CREATE TABLE event_history_v3 (
  event_id INTEGER NOT NULL REFERENCES events(fid), seq INTEGER NOT NULL CHECK (seq >= 0),
  status TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, note TEXT,
  from_status TEXT, role TEXT NOT NULL, routed_to TEXT,
  PRIMARY KEY (event_id, seq));
INSERT INTO event_history_v3 (event_id, seq, status, at, actor, note, from_status, role, routed_to)
  SELECT event_id, row_number() OVER (PARTITION BY event_id ORDER BY id) - 1, to_status, at,
         actor, note, from_status, role, routed_to
  FROM event_history;
DROP TABLE event_history;
ALTER TABLE event_history_v3 RENAME TO event_history;
ALTER TABLE ship_positions RENAME COLUMN time TO at;
ALTER TABLE ship_crossings RENAME COLUMN time TO at;
";

/// Version 4: an idempotency key belongs to the account that used it
/// (unique per account, with a digest of what the report said), and tokens
/// can expire and be revoked. `events` is rebuilt to change its unique key
/// (SQLite cannot drop a column's constraint); keys from before have no
/// account and are never found again.
const SCHEMA_V4: &str = "
CREATE TABLE events_v4 (
  fid INTEGER PRIMARY KEY, geom BLOB NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL,
  reported_at INTEGER NOT NULL, closed_at INTEGER, unit_id INTEGER NOT NULL,
  description TEXT NOT NULL, reporter TEXT NOT NULL, routed_to TEXT,
  idempotency_key TEXT, updated_at INTEGER NOT NULL, account TEXT, request_hash TEXT,
  UNIQUE (account, idempotency_key));
INSERT INTO events_v4 (fid, geom, category, status, reported_at, closed_at, unit_id,
  description, reporter, routed_to, idempotency_key, updated_at)
  SELECT fid, geom, category, status, reported_at, closed_at, unit_id, description, reporter,
         routed_to, idempotency_key, updated_at FROM events;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
";

/// Version 5: people's accounts (a name, an Argon2id hash, a role and a
/// scope); a session is a token row naming its account.
const SCHEMA_V5: &str = "
CREATE TABLE users (
  name TEXT PRIMARY KEY, display_name TEXT NOT NULL, password_hash TEXT NOT NULL,
  role TEXT NOT NULL, scope TEXT NOT NULL, created_at INTEGER NOT NULL, disabled_at INTEGER);
ALTER TABLE tokens ADD COLUMN user_name TEXT REFERENCES users(name);
CREATE INDEX tokens_user_name ON tokens(user_name);
";

/// Version 6: when each event entered its current status (deadlines count
/// from it); rows written before it entered it when reported, or closed.
const SCHEMA_V6: &str = "
ALTER TABLE events ADD COLUMN status_at INTEGER;
UPDATE events SET status_at = coalesce(closed_at, reported_at);
";

/// Version 7: events' photos, up to 3 each, numbered 1 to 3: the display
/// JPEG, its size, who added it (account and name) and when. An event of
/// the city's files that the loop never touched has no row in `events`, so
/// `event_id` names the event without a foreign key.
const SCHEMA_V7: &str = "
CREATE TABLE event_photos (
  event_id INTEGER NOT NULL, seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 3),
  media_type TEXT NOT NULL, width INTEGER NOT NULL CHECK (width > 0),
  height INTEGER NOT NULL CHECK (height > 0), data BLOB NOT NULL, account TEXT NOT NULL,
  uploader TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (event_id, seq));
";

/// Version 8: the one table's download log (who, when, which ledger, filter
/// and fields, format, rows, and whether personal fields were in the clear).
const SCHEMA_V8: &str = "
CREATE TABLE table_downloads (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, account TEXT NOT NULL,
  actor TEXT NOT NULL, role TEXT NOT NULL, scope TEXT NOT NULL, ledger TEXT NOT NULL,
  filter TEXT NOT NULL, fields TEXT NOT NULL, format TEXT NOT NULL,
  rows INTEGER NOT NULL CHECK (rows >= 0), personal INTEGER NOT NULL CHECK (personal IN (0, 1)));
CREATE INDEX table_downloads_at ON table_downloads(at);
";

/// Version 9: departments' answers to the coordination center's
/// suggestions (issue 17), one per plan of a demo year, the latest
/// standing. The plans are generated from the city's seed, not stored.
const SCHEMA_V9: &str = "
CREATE TABLE coord_decisions (
  year INTEGER NOT NULL, plan_id INTEGER NOT NULL, accept INTEGER NOT NULL CHECK (accept IN (0, 1)),
  department TEXT NOT NULL, account TEXT NOT NULL, decided_by TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (year, plan_id));
";

/// Version 10: the one table's saved templates (a ledger, fields and filter
/// under a name, shared within an area; `shared_in` 0 is the whole city).
const SCHEMA_V10: &str = "
CREATE TABLE table_templates (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, ledger TEXT NOT NULL,
  params TEXT NOT NULL, shared_in INTEGER NOT NULL CHECK (shared_in >= 0),
  account TEXT NOT NULL, author TEXT NOT NULL, at INTEGER NOT NULL,
  UNIQUE (shared_in, name));
";

/// Version 11: what enterprises and schools ask of the coordination center
/// (postpone, guidance, inspection, a school's event), one per `dedupe`
/// key of a target and year, with the request itself as the coordinator
/// reads it (`detail`, JSON); and enterprises' own word on the problems
/// pushed to them (the latest standing).
const SCHEMA_V11: &str = "
CREATE TABLE coord_requests (
  year INTEGER NOT NULL, id INTEGER NOT NULL CHECK (id > 0),
  target_kind TEXT NOT NULL CHECK (target_kind IN ('enterprise', 'school')),
  target_id INTEGER NOT NULL, town_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('postpone', 'guidance', 'inspection', 'event')),
  dedupe TEXT NOT NULL, detail TEXT NOT NULL, note TEXT NOT NULL,
  account TEXT NOT NULL, asked_by TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (year, id), UNIQUE (year, target_kind, target_id, dedupe));
CREATE INDEX coord_requests_town ON coord_requests(year, town_id);
CREATE TABLE coord_self_checks (
  year INTEGER NOT NULL, push TEXT NOT NULL, enterprise_id INTEGER NOT NULL,
  town_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'self_checked', 'rectified')),
  note TEXT NOT NULL, account TEXT NOT NULL, stated_by TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (year, push, enterprise_id));
";

/// Version 12: the problem, development and task lists (issue 16): items
/// with their area code (text: a subtree is a prefix), owner, status, due
/// date (`YYYY-MM-DD`), linked events (a comma list) and the hot spot they
/// were made from (at most one not done per hot spot), and their history.
const SCHEMA_V12: &str = "
CREATE TABLE list_items (
  id INTEGER PRIMARY KEY CHECK (id > 0),
  kind TEXT NOT NULL CHECK (kind IN ('problem', 'development', 'task')),
  area TEXT NOT NULL, title TEXT NOT NULL, detail TEXT NOT NULL, category TEXT NOT NULL,
  owner_kind TEXT NOT NULL CHECK (owner_kind IN ('department', 'person')),
  owner_name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),
  due TEXT, events TEXT NOT NULL, hotspot TEXT,
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX list_items_area ON list_items(area);
CREATE UNIQUE INDEX list_items_hotspot_open ON list_items(hotspot)
  WHERE hotspot IS NOT NULL AND status <> 'done';
CREATE TABLE list_history (
  item_id INTEGER NOT NULL REFERENCES list_items(id), seq INTEGER NOT NULL CHECK (seq > 0),
  at INTEGER NOT NULL, by_name TEXT NOT NULL, change TEXT NOT NULL,
  from_value TEXT, to_value TEXT, note TEXT,
  PRIMARY KEY (item_id, seq));
";
