//! The columns and geometry type of each layer file.
//!
//! The column order here is the order written; the reader finds columns by
//! name, so files whose columns were reordered (or extended) by another tool
//! still read, as long as every column below is there with a type of the same
//! family (any integer type for an integer column, and so on).

use flatgeobuf::{ColumnType, GeometryType};
use onemap_core::Layer;

/// The column type of ids and area codes: signed 64-bit. GDAL (hence QGIS)
/// reads `ULong` columns as doubles, which would round the 18-digit unit
/// codes; `Long` holds every id exactly, and the reader accepts `ULong` too.
pub(crate) const ID_TYPE: ColumnType = ColumnType::Long;
/// Unix seconds.
pub(crate) const TIME_TYPE: ColumnType = ColumnType::Long;

/// Most columns any layer has; the reader keeps a fixed array this long.
pub(crate) const MAX_COLUMNS: usize = 8;

#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnDef {
    pub name: &'static str,
    pub ty: ColumnType,
    pub nullable: bool,
    /// A column added after the first files were written: a file without
    /// it still reads (the reader derives its values).
    pub added_later: bool,
}

const fn col(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable: false,
        added_later: false,
    }
}

const fn opt(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable: true,
        added_later: false,
    }
}

/// Written always, but missing from files of an older onemap.
const fn later(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable: true,
        added_later: true,
    }
}

/// Column indices of each layer, as constants, next to the column list.
macro_rules! columns {
    ($($layer:ident { $($idx:ident = $n:literal: $def:expr),+ $(,)? })+) => {
        $(
            #[allow(dead_code)]
            pub(crate) mod $layer {
                use super::*;
                $(pub const $idx: u16 = $n;)+
                pub const COLUMNS: &[ColumnDef] = &[$($def),+];
            }
        )+
    };
}

columns! {
    area {
        ID = 0: col("id", ID_TYPE),
        NAME = 1: col("name", ColumnType::String),
        PARENT_ID = 2: opt("parent_id", ID_TYPE),
        LEADER = 3: opt("leader", ColumnType::String),
    }
    event {
        ID = 0: col("id", ID_TYPE),
        CATEGORY = 1: col("category", ColumnType::String),
        STATUS = 2: col("status", ColumnType::String),
        REPORTED_AT = 3: col("reported_at", TIME_TYPE),
        CLOSED_AT = 4: opt("closed_at", TIME_TYPE),
        UNIT_ID = 5: col("unit_id", ID_TYPE),
        STATUS_AT = 6: later("status_at", TIME_TYPE),
    }
    ship {
        MMSI = 0: col("mmsi", ColumnType::UInt),
        NAME = 1: col("name", ColumnType::String),
        HOME_PORT = 2: col("home_port", ColumnType::String),
        SPEED_KN = 3: col("speed_kn", ColumnType::Float),
        HEADING_DEG = 4: col("heading_deg", ColumnType::Float),
        IN_PORT = 5: col("in_port", ColumnType::Bool),
        REPORTED_AT = 6: col("reported_at", TIME_TYPE),
    }
    heritage {
        ID = 0: col("id", ID_TYPE),
        NAME = 1: col("name", ColumnType::String),
        LEVEL = 2: col("level", ColumnType::String),
        WATCH = 3: col("watch", ColumnType::String),
    }
    homestead {
        ID = 0: col("id", ID_TYPE),
        AREA_M2 = 1: col("area_m2", ColumnType::Double),
        STATUS = 2: col("status", ColumnType::String),
    }
    enterprise {
        ID = 0: col("id", ID_TYPE),
        NAME = 1: col("name", ColumnType::String),
        INDUSTRY = 2: col("industry", ColumnType::String),
        EMPLOYEES = 3: col("employees", ColumnType::UInt),
        LARGE = 4: col("large", ColumnType::Bool),
    }
    school {
        ID = 0: col("id", ID_TYPE),
        NAME = 1: col("name", ColumnType::String),
        KIND = 2: col("kind", ColumnType::String),
        STUDENTS = 3: col("students", ColumnType::UInt),
    }
}

/// The columns of a layer file.
pub(crate) fn columns(layer: Layer) -> &'static [ColumnDef] {
    match layer {
        Layer::Districts | Layer::Towns | Layer::Villages | Layer::Grids | Layer::Units => {
            area::COLUMNS
        }
        Layer::Events => event::COLUMNS,
        Layer::Ships => ship::COLUMNS,
        Layer::Heritage => heritage::COLUMNS,
        Layer::Homesteads => homestead::COLUMNS,
        Layer::Enterprises => enterprise::COLUMNS,
        Layer::Schools => school::COLUMNS,
    }
}

/// The geometry type a layer file declares.
pub(crate) fn geometry_type(layer: Layer) -> GeometryType {
    if layer.is_point() {
        GeometryType::Point
    } else {
        GeometryType::MultiPolygon
    }
}

/// Families of column types the reader treats as interchangeable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Integer,
    Real,
    Bool,
    Text,
}

impl Family {
    pub fn of(ty: ColumnType) -> Option<Family> {
        Some(match ty {
            ColumnType::Byte
            | ColumnType::UByte
            | ColumnType::Short
            | ColumnType::UShort
            | ColumnType::Int
            | ColumnType::UInt
            | ColumnType::Long
            | ColumnType::ULong => Family::Integer,
            ColumnType::Float | ColumnType::Double => Family::Real,
            ColumnType::Bool => Family::Bool,
            ColumnType::String => Family::Text,
            _ => return None,
        })
    }

    pub fn describe(self) -> &'static str {
        match self {
            Family::Integer => "an integer type",
            Family::Real => "Float or Double",
            Family::Bool => "Bool",
            Family::Text => "String",
        }
    }
}

/// A column type's name for messages.
pub(crate) fn type_name(ty: ColumnType) -> String {
    match ty.variant_name() {
        Some(n) => n.to_string(),
        None => format!("unknown type {}", ty.0),
    }
}

/// A geometry type's name for messages.
pub(crate) fn geometry_name(ty: GeometryType) -> String {
    match ty.variant_name() {
        Some(n) => n.to_string(),
        None => format!("unknown type {}", ty.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_constants_match_lists() {
        for layer in Layer::ALL {
            let cols = columns(layer);
            assert!(cols.len() <= MAX_COLUMNS);
            for c in cols {
                assert!(Family::of(c.ty).is_some(), "{}", c.name);
            }
        }
        assert_eq!(area::COLUMNS[area::LEADER as usize].name, "leader");
        assert_eq!(event::COLUMNS[event::UNIT_ID as usize].name, "unit_id");
        assert_eq!(
            ship::COLUMNS[ship::REPORTED_AT as usize].name,
            "reported_at"
        );
        assert_eq!(school::COLUMNS[school::STUDENTS as usize].name, "students");
    }
}
