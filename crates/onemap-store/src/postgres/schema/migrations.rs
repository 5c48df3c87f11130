//! The migrations: fixed SQL, applied in order and recorded in
//! `schema_migrations`. A released migration never changes; a change to the
//! schema is a new one.

/// One migration: a version, a name and the SQL that applies it.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The migrations, in order. Never edit a released one: add a new one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "city, area tree, layers and event history",
        sql: MIGRATION_1,
    },
    Migration {
        version: 2,
        name: "event loop (reports, history, tokens) and ship history",
        sql: MIGRATION_2,
    },
    Migration {
        version: 3,
        name: "idempotency keys per account, expiring and revocable tokens",
        sql: MIGRATION_3,
    },
    Migration {
        version: 4,
        name: "people's accounts and their sessions",
        sql: MIGRATION_4,
    },
    Migration {
        version: 5,
        name: "when each event entered its status; where the history ends",
        sql: MIGRATION_5,
    },
    Migration {
        version: 6,
        name: "events' photos",
        sql: MIGRATION_6,
    },
    Migration {
        version: 7,
        name: "the one table's download log",
        sql: MIGRATION_7,
    },
    Migration {
        version: 8,
        name: "departments' answers to coordination suggestions",
        sql: MIGRATION_8,
    },
    Migration {
        version: 9,
        name: "the one table's saved templates",
        sql: MIGRATION_9,
    },
    Migration {
        version: 10,
        name: "enterprises' and schools' accounts, requests and self-checks",
        sql: MIGRATION_10,
    },
    Migration {
        version: 11,
        name: "the problem, development and task lists",
        sql: MIGRATION_11,
    },
    Migration {
        version: 12,
        name: "the one table's ledgers",
        sql: MIGRATION_12,
    },
];

/// The one table's stored ledgers: one table per ledger, rows in the
/// files' order (`seq`), an area subtree as ranges of `area_id` (an id's
/// ancestors are its leading digits), the care group by a partial index.
const MIGRATION_12: &str = r#"
CREATE TABLE ledger_meta (
    ledger text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (ledger, key)
);
CREATE TABLE ledger_people (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "person_id" bigint NOT NULL CHECK ("person_id" >= 0),
    "name" text NOT NULL,
    "id_number" text NOT NULL,
    "sex" smallint NOT NULL CHECK ("sex" BETWEEN 0 AND 255),
    "birth" date NOT NULL,
    "phone" text NOT NULL,
    "household" bigint NOT NULL CHECK ("household" >= 0),
    "relation" smallint NOT NULL CHECK ("relation" BETWEEN 0 AND 255),
    "house" bigint NOT NULL CHECK ("house" >= 0),
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0),
    "tags" integer NOT NULL CHECK (tags BETWEEN 0 AND 65535),
    "illness" smallint NOT NULL CHECK ("illness" BETWEEN 0 AND 255),
    "updated" timestamptz NOT NULL
);
CREATE INDEX ledger_people_area ON ledger_people (area_id);
-- The care group (关爱人群: any of the five care tags, CARE_MASK 0b1_1111).
CREATE INDEX ledger_people_care ON ledger_people (area_id) WHERE (tags & 31) <> 0;
CREATE TABLE ledger_houses (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "house_id" bigint NOT NULL CHECK ("house_id" >= 0),
    "address" text NOT NULL,
    "lon" double precision NOT NULL,
    "lat" double precision NOT NULL,
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0),
    "structure" smallint NOT NULL CHECK ("structure" BETWEEN 0 AND 255),
    "floors" bigint NOT NULL CHECK ("floors" >= 0),
    "floor_area" double precision NOT NULL,
    "built" bigint NOT NULL CHECK ("built" >= 0),
    "usage" smallint NOT NULL CHECK ("usage" BETWEEN 0 AND 255),
    "households" bigint NOT NULL CHECK ("households" >= 0),
    "residents" bigint NOT NULL CHECK ("residents" >= 0),
    "safety" smallint NOT NULL CHECK ("safety" BETWEEN 0 AND 255),
    "owner" text NOT NULL,
    "updated" timestamptz NOT NULL
);
CREATE INDEX ledger_houses_area ON ledger_houses (area_id);
CREATE TABLE ledger_cadres (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "cadre_id" bigint NOT NULL CHECK ("cadre_id" >= 0),
    "name" text NOT NULL,
    "sex" smallint NOT NULL CHECK ("sex" BETWEEN 0 AND 255),
    "birth" date NOT NULL,
    "phone" text NOT NULL,
    "post" smallint NOT NULL CHECK ("post" BETWEEN 0 AND 255),
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0),
    "party" boolean NOT NULL,
    "education" smallint NOT NULL CHECK ("education" BETWEEN 0 AND 255),
    "updated" timestamptz NOT NULL
);
CREATE INDEX ledger_cadres_area ON ledger_cadres (area_id);
CREATE TABLE ledger_projects (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "project_id" bigint NOT NULL CHECK ("project_id" >= 0),
    "name" text NOT NULL,
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0),
    "kind" smallint NOT NULL CHECK ("kind" BETWEEN 0 AND 255),
    "investment" double precision NOT NULL,
    "status" smallint NOT NULL CHECK ("status" BETWEEN 0 AND 255),
    "start" date NOT NULL,
    "due" date NOT NULL,
    "owner_dept" text NOT NULL,
    "progress" bigint NOT NULL CHECK ("progress" >= 0),
    "updated" timestamptz NOT NULL
);
CREATE INDEX ledger_projects_area ON ledger_projects (area_id);
CREATE TABLE ledger_enterprises (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "enterprise_id" bigint NOT NULL CHECK ("enterprise_id" >= 0),
    "name" text NOT NULL,
    "industry" text NOT NULL,
    "employees" bigint NOT NULL CHECK ("employees" >= 0),
    "large" boolean NOT NULL,
    "lon" double precision NOT NULL,
    "lat" double precision NOT NULL,
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0)
);
CREATE INDEX ledger_enterprises_area ON ledger_enterprises (area_id);
CREATE TABLE ledger_schools (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "school_id" bigint NOT NULL CHECK ("school_id" >= 0),
    "name" text NOT NULL,
    "kind" smallint NOT NULL CHECK ("kind" BETWEEN 0 AND 255),
    "students" bigint NOT NULL CHECK ("students" >= 0),
    "lon" double precision NOT NULL,
    "lat" double precision NOT NULL,
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0)
);
CREATE INDEX ledger_schools_area ON ledger_schools (area_id);
CREATE TABLE ledger_heritage (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "heritage_id" bigint NOT NULL CHECK ("heritage_id" >= 0),
    "name" text NOT NULL,
    "level" smallint NOT NULL CHECK ("level" BETWEEN 0 AND 255),
    "watch" smallint NOT NULL CHECK ("watch" BETWEEN 0 AND 255),
    "lon" double precision NOT NULL,
    "lat" double precision NOT NULL,
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0)
);
CREATE INDEX ledger_heritage_area ON ledger_heritage (area_id);
CREATE TABLE ledger_homesteads (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    batch integer NOT NULL CHECK (batch >= 0),
    "homestead_id" bigint NOT NULL CHECK ("homestead_id" >= 0),
    "area_m2" double precision NOT NULL,
    "status" smallint NOT NULL CHECK ("status" BETWEEN 0 AND 255),
    "lon" double precision NOT NULL,
    "lat" double precision NOT NULL,
    "area_id" bigint NOT NULL CHECK ("area_id" >= 0)
);
CREATE INDEX ledger_homesteads_area ON ledger_homesteads (area_id);
"#;

/// The one table's saved templates (`shared_in` 0 is the whole city).
const MIGRATION_9: &str = r#"
CREATE TABLE table_templates (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    ledger text NOT NULL,
    params text NOT NULL,
    shared_in bigint NOT NULL CHECK (shared_in >= 0),
    account text NOT NULL,
    author text NOT NULL,
    at timestamptz NOT NULL,
    UNIQUE (shared_in, name)
);
"#;

const MIGRATION_7: &str = r#"
CREATE TABLE table_downloads (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    account text NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    scope text NOT NULL,
    ledger text NOT NULL,
    filter text NOT NULL,
    fields text NOT NULL,
    format text NOT NULL,
    rows bigint NOT NULL CHECK (rows >= 0),
    personal boolean NOT NULL
);
CREATE INDEX table_downloads_at ON table_downloads (at);
"#;

/// The schema version this onemap needs.
pub fn schema_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const MIGRATION_1: &str = r#"
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE city (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    name text NOT NULL,
    seed numeric(20, 0) NOT NULL CHECK (seed >= 0 AND seed <= 18446744073709551615),
    scale double precision NOT NULL,
    min_lon double precision NOT NULL,
    min_lat double precision NOT NULL,
    max_lon double precision NOT NULL,
    max_lat double precision NOT NULL
);

CREATE TABLE city_expected (
    layer text PRIMARY KEY,
    count bigint NOT NULL CHECK (count >= 0)
);

CREATE TABLE districts (
    id bigint PRIMARY KEY CHECK (id BETWEEN 100000 AND 999999),
    name text NOT NULL,
    leader text,
    geom geometry(MultiPolygon, 4326) NOT NULL
);

CREATE TABLE towns (
    id bigint PRIMARY KEY CHECK (id BETWEEN 100000000 AND 999999999),
    parent_id bigint NOT NULL REFERENCES districts (id) CHECK (parent_id = id / 1000),
    name text NOT NULL,
    leader text,
    geom geometry(MultiPolygon, 4326) NOT NULL
);

CREATE TABLE villages (
    id bigint PRIMARY KEY CHECK (id BETWEEN 100000000000 AND 999999999999),
    parent_id bigint NOT NULL REFERENCES towns (id) CHECK (parent_id = id / 1000),
    name text NOT NULL,
    leader text,
    geom geometry(MultiPolygon, 4326) NOT NULL
);

CREATE TABLE grids (
    id bigint PRIMARY KEY CHECK (id BETWEEN 100000000000000 AND 999999999999999),
    parent_id bigint NOT NULL REFERENCES villages (id) CHECK (parent_id = id / 1000),
    name text NOT NULL,
    leader text,
    geom geometry(MultiPolygon, 4326) NOT NULL
);

CREATE TABLE units (
    id bigint PRIMARY KEY CHECK (id BETWEEN 100000000000000000 AND 999999999999999999),
    parent_id bigint NOT NULL REFERENCES grids (id) CHECK (parent_id = id / 1000),
    name text NOT NULL,
    leader text,
    geom geometry(MultiPolygon, 4326) NOT NULL
);

CREATE TABLE events (
    id bigint PRIMARY KEY CHECK (id >= 0),
    category text NOT NULL CHECK (category IN ('drainage', 'sanitation', 'dispute', 'road', 'safety_hazard', 'illegal_building', 'public_order', 'other')),
    status text NOT NULL CHECK (status IN ('reported', 'discussing', 'routed', 'handled', 'fed_back', 'closed')),
    reported_at timestamptz NOT NULL,
    closed_at timestamptz,
    unit_id bigint NOT NULL REFERENCES units (id),
    geom geometry(Point, 4326) NOT NULL,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

CREATE TABLE event_history (
    event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    status text NOT NULL CHECK (status IN ('reported', 'discussing', 'routed', 'handled', 'fed_back', 'closed')),
    at timestamptz NOT NULL,
    actor text,
    note text,
    PRIMARY KEY (event_id, seq)
);

CREATE TABLE ships (
    mmsi bigint PRIMARY KEY CHECK (mmsi BETWEEN 0 AND 4294967295),
    name text NOT NULL,
    home_port text NOT NULL,
    speed_kn real NOT NULL,
    heading_deg real NOT NULL,
    in_port boolean NOT NULL,
    reported_at timestamptz NOT NULL,
    geom geometry(Point, 4326) NOT NULL
);

CREATE TABLE heritage (
    id bigint PRIMARY KEY CHECK (id >= 0),
    name text NOT NULL,
    level text NOT NULL CHECK (level IN ('national', 'provincial', 'city', 'county')),
    watch text NOT NULL CHECK (watch IN ('fire', 'flood', 'fire_and_flood')),
    geom geometry(Point, 4326) NOT NULL
);

CREATE TABLE homesteads (
    id bigint PRIMARY KEY CHECK (id >= 0),
    area_m2 double precision NOT NULL,
    status text NOT NULL CHECK (status IN ('idle', 'demolishing', 'reclaimed')),
    geom geometry(MultiPolygon, 4326) NOT NULL
);

CREATE TABLE enterprises (
    id bigint PRIMARY KEY CHECK (id >= 0),
    name text NOT NULL,
    industry text NOT NULL,
    employees bigint NOT NULL CHECK (employees BETWEEN 0 AND 4294967295),
    large boolean NOT NULL,
    geom geometry(Point, 4326) NOT NULL
);

CREATE TABLE schools (
    id bigint PRIMARY KEY CHECK (id >= 0),
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('kindergarten', 'primary', 'middle', 'high')),
    students bigint NOT NULL CHECK (students BETWEEN 0 AND 4294967295),
    geom geometry(Point, 4326) NOT NULL
);

CREATE INDEX districts_geom_idx ON districts USING gist (geom);
CREATE INDEX towns_geom_idx ON towns USING gist (geom);
CREATE INDEX villages_geom_idx ON villages USING gist (geom);
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX units_geom_idx ON units USING gist (geom);
CREATE INDEX events_geom_idx ON events USING gist (geom);
CREATE INDEX ships_geom_idx ON ships USING gist (geom);
CREATE INDEX heritage_geom_idx ON heritage USING gist (geom);
CREATE INDEX homesteads_geom_idx ON homesteads USING gist (geom);
CREATE INDEX enterprises_geom_idx ON enterprises USING gist (geom);
CREATE INDEX schools_geom_idx ON schools USING gist (geom);

CREATE INDEX towns_parent_idx ON towns (parent_id);
CREATE INDEX villages_parent_idx ON villages (parent_id);
CREATE INDEX grids_parent_idx ON grids (parent_id);
CREATE INDEX units_parent_idx ON units (parent_id);
CREATE INDEX events_unit_idx ON events (unit_id);
CREATE INDEX events_reported_at_idx ON events (reported_at);
"#;

const MIGRATION_2: &str = r#"
CREATE TABLE event_reports (
    event_id bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    description text NOT NULL,
    reporter text NOT NULL,
    routed_to text,
    idempotency_key text UNIQUE,
    updated_at timestamptz NOT NULL
);
CREATE INDEX event_reports_updated_at_idx ON event_reports (updated_at);

ALTER TABLE event_history
    ADD COLUMN from_status text CHECK (from_status IN ('reported', 'discussing', 'routed', 'handled', 'fed_back', 'closed')),
    ADD COLUMN role text CHECK (role IN ('unit_leader', 'town_office', 'department', 'viewer', 'ship_feed')),
    ADD COLUMN routed_to text;

CREATE TABLE tokens (
    hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    role text NOT NULL CHECK (role IN ('unit_leader', 'town_office', 'department', 'viewer', 'ship_feed')),
    scope text NOT NULL,
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE ship_positions (
    id bigserial PRIMARY KEY,
    mmsi bigint NOT NULL CHECK (mmsi BETWEEN 0 AND 4294967295),
    at timestamptz NOT NULL,
    speed_kn real NOT NULL,
    course_deg real NOT NULL,
    in_port boolean NOT NULL,
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX ship_positions_mmsi_at_idx ON ship_positions (mmsi, at);

CREATE TABLE ship_crossings (
    id bigserial PRIMARY KEY,
    mmsi bigint NOT NULL CHECK (mmsi BETWEEN 0 AND 4294967295),
    port text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('departure', 'arrival')),
    at timestamptz NOT NULL
);
CREATE INDEX ship_crossings_port_at_idx ON ship_crossings (port, at);
"#;

/// The columns of the event history, as the embedded store must name them
/// too.
/// An idempotency key belongs to the account that used it (unique per
/// account, with a digest of what the report said); keys from before have
/// no account and are never found again. Tokens can expire and be revoked.
const MIGRATION_3: &str = r#"
ALTER TABLE event_reports
    ADD COLUMN account text,
    ADD COLUMN request_hash text;
ALTER TABLE event_reports DROP CONSTRAINT event_reports_idempotency_key_key;
ALTER TABLE event_reports
    ADD CONSTRAINT event_reports_account_idempotency_key_key UNIQUE (account, idempotency_key);

ALTER TABLE tokens
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN revoked_at timestamptz;
"#;

/// People's accounts (a name, an Argon2id hash, a role and a scope); a
/// session is a token row naming its account.
const MIGRATION_4: &str = r#"
CREATE TABLE users (
    name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    display_name text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('unit_leader', 'town_office', 'department', 'viewer')),
    scope text NOT NULL,
    created_at timestamptz NOT NULL,
    disabled_at timestamptz
);
ALTER TABLE tokens ADD COLUMN user_name text REFERENCES users (name);
CREATE INDEX tokens_user_name_idx ON tokens (user_name);
"#;

/// When each event entered its current status (deadlines count from it);
/// events written before it are taken to have entered it when reported, or
/// closed. When the city's generated history ends.
const MIGRATION_5: &str = r#"
ALTER TABLE events ADD COLUMN status_at timestamptz;
UPDATE events SET status_at = coalesce(closed_at, reported_at);
ALTER TABLE events ALTER COLUMN status_at SET NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_status_at_check
    CHECK (status_at >= reported_at AND (closed_at IS NULL OR status_at = closed_at));
ALTER TABLE city ADD COLUMN history_end timestamptz;
"#;

/// Events' photos, up to 3 each, numbered 1 to 3: the display JPEG, its
/// size, who added it (account and name) and when.
const MIGRATION_6: &str = r#"
CREATE TABLE event_photos (
    event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq BETWEEN 1 AND 3),
    media_type text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png')),
    width integer NOT NULL CHECK (width > 0),
    height integer NOT NULL CHECK (height > 0),
    data bytea NOT NULL,
    account text NOT NULL,
    uploader text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (event_id, seq)
);
"#;

/// Departments' answers to the coordination center's suggestions (issue
/// 17), one per plan of a demo year, the latest standing. The plans are
/// generated from the city's seed, not stored.
const MIGRATION_8: &str = r#"
CREATE TABLE coord_decisions (
    year integer NOT NULL CHECK (year BETWEEN 1970 AND 2199),
    plan_id bigint NOT NULL CHECK (plan_id > 0),
    accept boolean NOT NULL,
    department text NOT NULL,
    account text NOT NULL,
    decided_by text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (year, plan_id)
);
"#;

/// Enterprises and schools act for themselves (roles `enterprise` and
/// `school`); what they ask of the coordination center, one per `dedupe`
/// key of a target and year, with the request as the coordinator reads it
/// (`detail`, JSON); enterprises' own word on the problems pushed to them.
const MIGRATION_10: &str = r#"
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('unit_leader', 'town_office', 'department', 'viewer', 'ship_feed', 'enterprise', 'school'));
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('unit_leader', 'town_office', 'department', 'viewer', 'enterprise', 'school'));
ALTER TABLE event_history DROP CONSTRAINT event_history_role_check;
ALTER TABLE event_history ADD CONSTRAINT event_history_role_check
    CHECK (role IN ('unit_leader', 'town_office', 'department', 'viewer', 'ship_feed', 'enterprise', 'school'));

CREATE TABLE coord_requests (
    year integer NOT NULL CHECK (year BETWEEN 1970 AND 2199),
    id bigint NOT NULL CHECK (id > 0),
    target_kind text NOT NULL CHECK (target_kind IN ('enterprise', 'school')),
    target_id bigint NOT NULL,
    town_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('postpone', 'guidance', 'inspection', 'event')),
    dedupe text NOT NULL,
    detail text NOT NULL,
    note text NOT NULL,
    account text NOT NULL,
    asked_by text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (year, id),
    UNIQUE (year, target_kind, target_id, dedupe)
);
CREATE INDEX coord_requests_town_idx ON coord_requests (year, town_id);

CREATE TABLE coord_self_checks (
    year integer NOT NULL CHECK (year BETWEEN 1970 AND 2199),
    push text NOT NULL,
    enterprise_id bigint NOT NULL,
    town_id bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'self_checked', 'rectified')),
    note text NOT NULL,
    account text NOT NULL,
    stated_by text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (year, push, enterprise_id)
);
"#;

/// The problem, development and task lists (issue 16): items with their
/// area code (text: a subtree is a prefix), owner, status, due date
/// (`YYYY-MM-DD`), linked events (a comma list) and the hot spot they were
/// made from (at most one not done per hot spot), and their history.
const MIGRATION_11: &str = r#"
CREATE TABLE list_items (
    id bigint PRIMARY KEY CHECK (id > 0),
    kind text NOT NULL CHECK (kind IN ('problem', 'development', 'task')),
    area text NOT NULL CHECK (area ~ '^[0-9]+$'),
    title text NOT NULL,
    detail text NOT NULL,
    category text NOT NULL,
    owner_kind text NOT NULL CHECK (owner_kind IN ('department', 'person')),
    owner_name text NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),
    due text CHECK (due ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    events text NOT NULL,
    hotspot text,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX list_items_area ON list_items (area text_pattern_ops);
CREATE UNIQUE INDEX list_items_hotspot_open ON list_items (hotspot)
    WHERE hotspot IS NOT NULL AND status <> 'done';
CREATE TABLE list_history (
    item_id bigint NOT NULL REFERENCES list_items (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq > 0),
    at timestamptz NOT NULL,
    by_name text NOT NULL,
    change text NOT NULL,
    from_value text,
    to_value text,
    note text,
    PRIMARY KEY (item_id, seq)
);
"#;

#[cfg(test)]
pub(crate) fn enum_names() -> Vec<(&'static str, Vec<&'static str>)> {
    use onemap_core::{
        EventCategory, EventStatus, HomesteadStatus, ProtectionLevel, SchoolKind, Watch,
    };
    vec![
        (
            "category",
            EventCategory::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "status",
            EventStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "level",
            ProtectionLevel::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        ("watch", Watch::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "status",
            HomesteadStatus::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        ("kind", SchoolKind::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "role",
            onemap_core::Role::ALL.iter().map(|v| v.as_str()).collect(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_value_is_allowed_by_the_schema() {
        for (column, names) in enum_names() {
            let list = names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ");
            let check = format!("{column} IN ({list})");
            assert!(
                MIGRATIONS.iter().any(|m| m.sql.contains(&check)),
                "no migration has CHECK ({check})"
            );
        }
    }

    /// Versions rise from 1; a gap is allowed (a number taken by a change
    /// still on its way in), as a database applies every version it lacks.
    #[test]
    fn migrations_are_numbered_in_order() {
        // 1, 2, 3, … with no gap: a store at version N has run them all.
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.name);
        }
        assert_eq!(Some(schema_version()), MIGRATIONS.last().map(|m| m.version));
    }
}
