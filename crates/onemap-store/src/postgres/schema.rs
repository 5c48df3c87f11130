//! The one registry of table and column names, and the migrations that
//! create them.
//!
//! Every statement onemap sends is built from the names below (never from
//! input) and takes its values as parameters or binary COPY rows. The
//! migrations are fixed SQL, applied in order and recorded in
//! `schema_migrations`; a migration, once released, never changes — a change
//! to the schema is a new migration. A test checks that the migrated schema
//! has exactly the columns (and types) listed here.
//!
//! Areas are one table per level (`districts` … `units`, named from
//! [`Layer`]), not one `areas` table with a level column: each level's
//! `parent_id` is a foreign key to the level above, so the database itself
//! enforces that a town's parent is a district (a single table could only
//! say "some area"); each level has its own GiST index, so a query at the
//! town level never walks 130,000 unit boundaries; and each table is one
//! layer, as in the files, the tiles and the URLs.

use onemap_core::{Layer, Level};

/// A column's SQL type, as the binary COPY protocol needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Int8,
    Int4,
    Text,
    Float8,
    Float4,
    Bool,
    Timestamptz,
    Numeric,
    /// PostGIS `geometry` (the type's oid is looked up per connection).
    Geometry,
}

impl Ty {
    /// The type's name in `pg_type`.
    pub(crate) fn udt_name(self) -> &'static str {
        match self {
            Ty::Int8 => "int8",
            Ty::Int4 => "int4",
            Ty::Text => "text",
            Ty::Float8 => "float8",
            Ty::Float4 => "float4",
            Ty::Bool => "bool",
            Ty::Timestamptz => "timestamptz",
            Ty::Numeric => "numeric",
            Ty::Geometry => "geometry",
        }
    }
}

/// A table onemap reads and writes with binary COPY.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Ty)],
    /// The column rows are ordered by when read.
    pub key: &'static str,
}

impl Table {
    pub(crate) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn copy_in(&self) -> String {
        format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            self.name,
            self.column_list()
        )
    }

    pub(crate) fn copy_out(&self) -> String {
        format!(
            "COPY (SELECT {} FROM {} ORDER BY {}) TO STDOUT (FORMAT binary)",
            self.column_list(),
            self.name,
            self.key
        )
    }
}

use Ty::*;

pub(crate) const DISTRICTS: Table = Table {
    name: "districts",
    columns: &[
        ("id", Int8),
        ("name", Text),
        ("leader", Text),
        ("geom", Geometry),
    ],
    key: "id",
};

const fn below(name: &'static str) -> Table {
    Table {
        name,
        columns: &[
            ("id", Int8),
            ("parent_id", Int8),
            ("name", Text),
            ("leader", Text),
            ("geom", Geometry),
        ],
        key: "id",
    }
}

pub(crate) const TOWNS: Table = below("towns");
pub(crate) const VILLAGES: Table = below("villages");
pub(crate) const GRIDS: Table = below("grids");
pub(crate) const UNITS: Table = below("units");

pub(crate) const EVENTS: Table = Table {
    name: "events",
    columns: &[
        ("id", Int8),
        ("category", Text),
        ("status", Text),
        ("reported_at", Timestamptz),
        ("closed_at", Timestamptz),
        ("unit_id", Int8),
        ("geom", Geometry),
    ],
    key: "id",
};

pub(crate) const SHIPS: Table = Table {
    name: "ships",
    columns: &[
        ("mmsi", Int8),
        ("name", Text),
        ("home_port", Text),
        ("speed_kn", Float4),
        ("heading_deg", Float4),
        ("in_port", Bool),
        ("reported_at", Timestamptz),
        ("geom", Geometry),
    ],
    key: "mmsi",
};

pub(crate) const HERITAGE: Table = Table {
    name: "heritage",
    columns: &[
        ("id", Int8),
        ("name", Text),
        ("level", Text),
        ("watch", Text),
        ("geom", Geometry),
    ],
    key: "id",
};

pub(crate) const HOMESTEADS: Table = Table {
    name: "homesteads",
    columns: &[
        ("id", Int8),
        ("area_m2", Float8),
        ("status", Text),
        ("geom", Geometry),
    ],
    key: "id",
};

pub(crate) const ENTERPRISES: Table = Table {
    name: "enterprises",
    columns: &[
        ("id", Int8),
        ("name", Text),
        ("industry", Text),
        ("employees", Int8),
        ("large", Bool),
        ("geom", Geometry),
    ],
    key: "id",
};

pub(crate) const SCHOOLS: Table = Table {
    name: "schools",
    columns: &[
        ("id", Int8),
        ("name", Text),
        ("kind", Text),
        ("students", Int8),
        ("geom", Geometry),
    ],
    key: "id",
};

/// The transitions of events through the closed loop (filled by the event
/// API; an imported city has none).
pub(crate) const EVENT_HISTORY: Table = Table {
    name: "event_history",
    columns: &[
        ("event_id", Int8),
        ("seq", Int4),
        ("status", Text),
        ("at", Timestamptz),
        ("actor", Text),
        ("note", Text),
        // Added by migration 2.
        ("from_status", Text),
        ("role", Text),
        ("routed_to", Text),
    ],
    key: "event_id, seq",
};

/// What the event loop adds to an event it created or moved: the report's
/// text and reporter, where it was routed, the idempotency key of the
/// report, and when the loop last changed it (migration 2).
pub(crate) const EVENT_REPORTS: Table = Table {
    name: "event_reports",
    columns: &[
        ("event_id", Int8),
        ("description", Text),
        ("reporter", Text),
        ("routed_to", Text),
        ("idempotency_key", Text),
        ("updated_at", Timestamptz),
    ],
    key: "event_id",
};

/// Bearer tokens, by the SHA-256 of the token (migration 2).
pub(crate) const TOKENS: Table = Table {
    name: "tokens",
    columns: &[
        ("hash", Text),
        ("role", Text),
        ("scope", Text),
        ("name", Text),
        ("created_at", Timestamptz),
    ],
    key: "hash",
};

/// Every applied ship position report (migration 2).
pub(crate) const SHIP_POSITIONS: Table = Table {
    name: "ship_positions",
    columns: &[
        ("id", Int8),
        ("mmsi", Int8),
        ("at", Timestamptz),
        ("speed_kn", Float4),
        ("course_deg", Float4),
        ("in_port", Bool),
        ("geom", Geometry),
    ],
    key: "id",
};

/// Ships' departures from and arrivals at ports (migration 2).
pub(crate) const SHIP_CROSSINGS: Table = Table {
    name: "ship_crossings",
    columns: &[
        ("id", Int8),
        ("mmsi", Int8),
        ("port", Text),
        ("kind", Text),
        ("at", Timestamptz),
    ],
    key: "id",
};

/// The tables the live server writes besides the city's: kept when a city
/// is replaced (tokens, ship history).
pub(crate) fn live_tables() -> Vec<Table> {
    vec![TOKENS, SHIP_POSITIONS, SHIP_CROSSINGS]
}

/// The city's metadata: one row (written and read with plain statements).
pub(crate) const CITY: Table = Table {
    name: "city",
    columns: &[
        ("id", Bool),
        ("name", Text),
        // numeric(20, 0): a u64 seed, written and read through text.
        ("seed", Numeric),
        ("scale", Float8),
        ("min_lon", Float8),
        ("min_lat", Float8),
        ("max_lon", Float8),
        ("max_lat", Float8),
    ],
    key: "id",
};

/// The counts the generator aimed for, per layer.
pub(crate) const CITY_EXPECTED: Table = Table {
    name: "city_expected",
    columns: &[("layer", Text), ("count", Int8)],
    key: "layer",
};

/// The table of a layer.
pub(crate) fn layer_table(layer: Layer) -> Table {
    match layer {
        Layer::Districts => DISTRICTS,
        Layer::Towns => TOWNS,
        Layer::Villages => VILLAGES,
        Layer::Grids => GRIDS,
        Layer::Units => UNITS,
        Layer::Events => EVENTS,
        Layer::Ships => SHIPS,
        Layer::Heritage => HERITAGE,
        Layer::Homesteads => HOMESTEADS,
        Layer::Enterprises => ENTERPRISES,
        Layer::Schools => SCHOOLS,
    }
}

pub(crate) fn area_table(level: Level) -> Table {
    layer_table(Layer::for_level(level))
}

/// Every table of a city, parents before children (the order to fill them).
pub(crate) fn city_tables() -> Vec<Table> {
    let mut t = vec![CITY, CITY_EXPECTED];
    t.extend(Layer::ALL.iter().map(|l| layer_table(*l)));
    t.push(EVENT_REPORTS);
    t.push(EVENT_HISTORY);
    t
}

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
];

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
#[cfg(test)]
pub(crate) fn history_columns() -> Vec<String> {
    EVENT_HISTORY
        .columns
        .iter()
        .map(|(n, _)| n.to_string())
        .collect()
}

/// The enum names the CHECK constraints of the migrations must list, by
/// column (a test checks each appears in the SQL).
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

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "{}", m.name);
        }
        assert_eq!(schema_version(), MIGRATIONS.len() as i32);
    }

    #[test]
    fn every_layer_has_a_table_named_after_it() {
        for layer in Layer::ALL {
            let t = layer_table(layer);
            assert_eq!(t.name, layer.as_str());
            assert!(t
                .columns
                .iter()
                .any(|(n, ty)| *n == "geom" && *ty == Geometry));
            assert!(MIGRATIONS[0]
                .sql
                .contains(&format!("CREATE TABLE {} (", t.name)));
        }
        assert_eq!(
            EVENTS.copy_in(),
            "COPY events (id, category, status, reported_at, closed_at, unit_id, geom) FROM STDIN (FORMAT binary)"
        );
    }
}
