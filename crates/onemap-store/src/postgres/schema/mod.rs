//! The one registry of table and column names (here), and the migrations
//! that create them (`migrations`).
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

mod migrations;

pub use migrations::{schema_version, Migration, MIGRATIONS};

use onemap_core::{Layer, Level};

/// A column's SQL type, as the binary COPY protocol needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Int8,
    Int4,
    Int2,
    Text,
    Float8,
    Float4,
    Bool,
    Timestamptz,
    Numeric,
    /// PostGIS `geometry` (the type's oid is looked up per connection).
    Geometry,
    Bytea,
    Date,
}

impl Ty {
    /// The type's name in `pg_type`.
    pub(crate) fn udt_name(self) -> &'static str {
        match self {
            Ty::Int8 => "int8",
            Ty::Int4 => "int4",
            Ty::Int2 => "int2",
            Ty::Date => "date",
            Ty::Text => "text",
            Ty::Float8 => "float8",
            Ty::Float4 => "float4",
            Ty::Bool => "bool",
            Ty::Timestamptz => "timestamptz",
            Ty::Numeric => "numeric",
            Ty::Geometry => "geometry",
            Ty::Bytea => "bytea",
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
        ("status_at", Timestamptz),
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
        // Added by migration 3.
        ("account", Text),
        ("request_hash", Text),
    ],
    key: "event_id",
};

/// Events' photos (migration 6): kept with the city's events (a replaced
/// city takes its events' photos with it).
pub(crate) const EVENT_PHOTOS: Table = Table {
    name: "event_photos",
    columns: &[
        ("event_id", Int8),
        ("seq", Int4),
        ("media_type", Text),
        ("width", Int4),
        ("height", Int4),
        ("data", Bytea),
        ("account", Text),
        ("uploader", Text),
        ("at", Timestamptz),
    ],
    key: "event_id, seq",
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
        // Added by migration 3.
        ("expires_at", Timestamptz),
        ("revoked_at", Timestamptz),
        // Added by migration 4: the account of a session.
        ("user_name", Text),
    ],
    key: "hash",
};

/// People's accounts (migration 4).
pub(crate) const USERS: Table = Table {
    name: "users",
    columns: &[
        ("name", Text),
        ("display_name", Text),
        ("password_hash", Text),
        ("role", Text),
        ("scope", Text),
        ("created_at", Timestamptz),
        ("disabled_at", Timestamptz),
    ],
    key: "name",
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

/// Departments' answers to coordination suggestions (migration 8).
pub(crate) const COORD_DECISIONS: Table = Table {
    name: "coord_decisions",
    columns: &[
        ("year", Int4),
        ("plan_id", Int8),
        ("accept", Bool),
        ("department", Text),
        ("account", Text),
        ("decided_by", Text),
        ("at", Timestamptz),
    ],
    key: "year, plan_id",
};

/// The one table's saved templates (migration 9).
pub(crate) const TABLE_TEMPLATES: Table = Table {
    name: "table_templates",
    columns: &[
        ("id", Int8),
        ("name", Text),
        ("ledger", Text),
        ("params", Text),
        ("shared_in", Int8),
        ("account", Text),
        ("author", Text),
        ("at", Timestamptz),
    ],
    key: "id",
};

/// The lists' items (migration 11).
pub(crate) const LIST_ITEMS: Table = Table {
    name: "list_items",
    columns: &[
        ("id", Int8),
        ("kind", Text),
        ("area", Text),
        ("title", Text),
        ("detail", Text),
        ("category", Text),
        ("owner_kind", Text),
        ("owner_name", Text),
        ("status", Text),
        ("due", Text),
        ("events", Text),
        ("hotspot", Text),
        ("created_at", Timestamptz),
        ("created_by", Text),
        ("updated_at", Timestamptz),
    ],
    key: "id",
};

/// The lists' items' history (migration 11).
pub(crate) const LIST_HISTORY: Table = Table {
    name: "list_history",
    columns: &[
        ("item_id", Int8),
        ("seq", Int4),
        ("at", Timestamptz),
        ("by_name", Text),
        ("change", Text),
        ("from_value", Text),
        ("to_value", Text),
        ("note", Text),
    ],
    key: "item_id, seq",
};

/// The tables the live server writes besides the city's: kept when a city
/// is replaced (tokens, ship history, coordination answers).
pub(crate) fn live_tables() -> Vec<Table> {
    vec![
        TOKENS,
        USERS,
        SHIP_POSITIONS,
        SHIP_CROSSINGS,
        COORD_DECISIONS,
        TABLE_TEMPLATES,
        LIST_ITEMS,
        LIST_HISTORY,
    ]
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
        ("history_end", Timestamptz),
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
    t.push(EVENT_PHOTOS);
    t
}

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
/// The one table's stored ledgers (one table per ledger, `onemap import`
/// fills them from a city's `ledgers/` folder): `seq` is the row's place in
/// its ledger's file (village batch order, then row order), `batch` the
/// village batch it came from; then the ledger's stored columns, in the
/// file's order (onemap-ledger checks them against its registry). Ids and
/// counts are `bigint`, coded values `smallint`, tags `integer` (bits),
/// dates `date` and times `timestamptz` (whole seconds).
pub(crate) fn ledger_tables() -> Vec<Table> {
    vec![
        LEDGER_PEOPLE,
        LEDGER_HOUSES,
        LEDGER_CADRES,
        LEDGER_PROJECTS,
        LEDGER_ENTERPRISES,
        LEDGER_SCHOOLS,
        LEDGER_HERITAGE,
        LEDGER_HOMESTEADS,
    ]
}

/// Each stored ledger's metadata (the seed, the last day, the villages in
/// batch order), as its file's schema holds it.
pub(crate) const LEDGER_META: Table = Table {
    name: "ledger_meta",
    columns: &[("ledger", Text), ("key", Text), ("value", Text)],
    key: "ledger, key",
};

pub(crate) const LEDGER_PEOPLE: Table = Table {
    name: "ledger_people",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("person_id", Int8),
        ("name", Text),
        ("id_number", Text),
        ("sex", Int2),
        ("birth", Date),
        ("phone", Text),
        ("household", Int8),
        ("relation", Int2),
        ("house", Int8),
        ("area_id", Int8),
        ("tags", Int4),
        ("illness", Int2),
        ("updated", Timestamptz),
    ],
    key: "seq",
};

pub(crate) const LEDGER_HOUSES: Table = Table {
    name: "ledger_houses",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("house_id", Int8),
        ("address", Text),
        ("lon", Float8),
        ("lat", Float8),
        ("area_id", Int8),
        ("structure", Int2),
        ("floors", Int8),
        ("floor_area", Float8),
        ("built", Int8),
        ("usage", Int2),
        ("households", Int8),
        ("residents", Int8),
        ("safety", Int2),
        ("owner", Text),
        ("updated", Timestamptz),
    ],
    key: "seq",
};

pub(crate) const LEDGER_CADRES: Table = Table {
    name: "ledger_cadres",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("cadre_id", Int8),
        ("name", Text),
        ("sex", Int2),
        ("birth", Date),
        ("phone", Text),
        ("post", Int2),
        ("area_id", Int8),
        ("party", Bool),
        ("education", Int2),
        ("updated", Timestamptz),
    ],
    key: "seq",
};

pub(crate) const LEDGER_PROJECTS: Table = Table {
    name: "ledger_projects",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("project_id", Int8),
        ("name", Text),
        ("area_id", Int8),
        ("kind", Int2),
        ("investment", Float8),
        ("status", Int2),
        ("start", Date),
        ("due", Date),
        ("owner_dept", Text),
        ("progress", Int8),
        ("updated", Timestamptz),
    ],
    key: "seq",
};

pub(crate) const LEDGER_ENTERPRISES: Table = Table {
    name: "ledger_enterprises",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("enterprise_id", Int8),
        ("name", Text),
        ("industry", Text),
        ("employees", Int8),
        ("large", Bool),
        ("lon", Float8),
        ("lat", Float8),
        ("area_id", Int8),
    ],
    key: "seq",
};

pub(crate) const LEDGER_SCHOOLS: Table = Table {
    name: "ledger_schools",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("school_id", Int8),
        ("name", Text),
        ("kind", Int2),
        ("students", Int8),
        ("lon", Float8),
        ("lat", Float8),
        ("area_id", Int8),
    ],
    key: "seq",
};

pub(crate) const LEDGER_HERITAGE: Table = Table {
    name: "ledger_heritage",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("heritage_id", Int8),
        ("name", Text),
        ("level", Int2),
        ("watch", Int2),
        ("lon", Float8),
        ("lat", Float8),
        ("area_id", Int8),
    ],
    key: "seq",
};

pub(crate) const LEDGER_HOMESTEADS: Table = Table {
    name: "ledger_homesteads",
    columns: &[
        ("seq", Int8),
        ("batch", Int4),
        ("homestead_id", Int8),
        ("area_m2", Float8),
        ("status", Int2),
        ("lon", Float8),
        ("lat", Float8),
        ("area_id", Int8),
    ],
    key: "seq",
};

#[cfg(test)]
mod tests {
    use super::*;
    use migrations::MIGRATIONS;

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
            "COPY events (id, category, status, reported_at, closed_at, unit_id, geom, status_at) FROM STDIN (FORMAT binary)"
        );
    }
}
