//! What queries return: features, pages and neighbours, as plain data.

use crate::filter::Cursor;
use onemap_core::{
    AreaId, BBox, EventCategory, EventStatus, HomesteadStatus, Layer, Level, ProtectionLevel,
    SchoolKind, Watch,
};
use serde::{Deserialize, Serialize};

/// One feature of any layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub layer: Layer,
    /// The feature's id (an area's code for area layers, the MMSI for ships).
    pub id: u64,
    /// The point itself, or a point inside a polygon feature.
    pub lon: f64,
    pub lat: f64,
    /// The unit holding the point (None outside every unit, and for areas).
    pub unit: Option<AreaId>,
    /// The point's H3 cell at the fine resolution, in hex (None for areas).
    pub cell: Option<String>,
    pub properties: Properties,
}

/// The layer-specific attributes of a [`Feature`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Properties {
    Event {
        category: EventCategory,
        status: EventStatus,
        reported_at: i64,
        closed_at: Option<i64>,
        /// When the event entered its status.
        status_at: i64,
    },
    Ship {
        name: String,
        home_port: String,
        speed_kn: f32,
        heading_deg: f32,
        in_port: bool,
        reported_at: i64,
    },
    Heritage {
        name: String,
        level: ProtectionLevel,
        watch: Watch,
    },
    Homestead {
        area_m2: f64,
        status: HomesteadStatus,
        bbox: BBox,
    },
    Enterprise {
        name: String,
        industry: String,
        employees: u32,
        large: bool,
    },
    School {
        name: String,
        kind: SchoolKind,
        students: u32,
    },
    Area {
        level: Level,
        name: String,
        parent: Option<AreaId>,
        leader: Option<String>,
        bbox: BBox,
    },
}

/// One page of features in ascending id order. `next_cursor` is set when
/// more features follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub features: Vec<Feature>,
    pub next_cursor: Option<Cursor>,
}

/// A feature and its geodesic distance from the query point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbor {
    /// Geodesic (Karney, WGS84) distance in metres.
    pub distance_m: f64,
    pub feature: Feature,
}
