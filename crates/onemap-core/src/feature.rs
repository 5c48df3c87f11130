//! The thematic features on the map. Times are Unix seconds (UTC).

use crate::{AreaId, CoreError};
use geo_types::MultiPolygon;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Declares a small enum stored as a `u8` code, with a stable lowercase
/// name used in files, URLs and JSON.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident, $kind:literal { $($variant:ident = $code:literal => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        pub enum $name { $($variant = $code),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn code(self) -> u8 {
                self as u8
            }
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> Result<Self, CoreError> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(CoreError::UnknownValue {
                        kind: $kind,
                        value: s.to_string(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A comma-separated list of values (`drainage,road`), as the command line
/// and query strings give filters: spaces around values and empty items are
/// ignored (so `","` is the empty list); the first value that does not
/// parse is the error.
pub fn parse_list<T: FromStr<Err = CoreError>>(s: &str) -> Result<Vec<T>, CoreError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

coded_enum!(
    /// What an event is about.
    EventCategory, "event category" {
        Drainage = 0 => "drainage",
        Sanitation = 1 => "sanitation",
        Dispute = 2 => "dispute",
        Road = 3 => "road",
        SafetyHazard = 4 => "safety_hazard",
        IllegalBuilding = 5 => "illegal_building",
        PublicOrder = 6 => "public_order",
        Other = 7 => "other",
    }
);

coded_enum!(
    /// Where an event stands in the closed loop
    /// reported → discussing → routed → handled → fed back → closed.
    EventStatus, "event status" {
        Reported = 0 => "reported",
        Discussing = 1 => "discussing",
        Routed = 2 => "routed",
        Handled = 3 => "handled",
        FedBack = 4 => "fed_back",
        Closed = 5 => "closed",
    }
);

coded_enum!(
    /// Who a bearer token speaks for in the event loop (see [`crate::workflow`]).
    Role, "role" {
        UnitLeader = 0 => "unit_leader",
        TownOffice = 1 => "town_office",
        Department = 2 => "department",
        Viewer = 3 => "viewer",
        ShipFeed = 4 => "ship_feed",
        // An enterprise or a school acting on its own coordination file
        // (issue 17).
        Enterprise = 5 => "enterprise",
        School = 6 => "school",
    }
);

coded_enum!(
    /// Which of a village's three lists an item is on (问题清单, 发展清单,
    /// 任务清单; see [`crate::lists`]).
    ListKind, "list kind" {
        Problem = 0 => "problem",
        Development = 1 => "development",
        Task = 2 => "task",
    }
);

coded_enum!(
    /// Where a list item stands: open → in_progress → done, and done →
    /// open again (reopened, with a reason).
    ListStatus, "list status" {
        Open = 0 => "open",
        InProgress = 1 => "in_progress",
        Done = 2 => "done",
    }
);

coded_enum!(
    /// What a list item is about: the eight event categories (a problem
    /// made from a hot spot keeps its events' category) and six for
    /// development and tasks.
    ListCategory, "list category" {
        Drainage = 0 => "drainage",
        Sanitation = 1 => "sanitation",
        Dispute = 2 => "dispute",
        Road = 3 => "road",
        SafetyHazard = 4 => "safety_hazard",
        IllegalBuilding = 5 => "illegal_building",
        PublicOrder = 6 => "public_order",
        Other = 7 => "other",
        Industry = 8 => "industry",
        Infrastructure = 9 => "infrastructure",
        Livelihood = 10 => "livelihood",
        Environment = 11 => "environment",
        Governance = 12 => "governance",
        Culture = 13 => "culture",
    }
);

impl ListCategory {
    /// The list category of an event category (same name).
    pub fn of_event(c: EventCategory) -> ListCategory {
        ListCategory::from_code(c.code()).expect("the first eight codes are the events'")
    }
}

impl EventStatus {
    pub fn is_open(self) -> bool {
        self != EventStatus::Closed
    }
}

/// A problem reported from the field by a unit leader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub lon: f64,
    pub lat: f64,
    pub category: EventCategory,
    pub status: EventStatus,
    pub reported_at: i64,
    /// Set exactly when `status` is `Closed`.
    pub closed_at: Option<i64>,
    /// When the event entered its current status (its report time while
    /// reported, its closing time once closed): the step it waits for is
    /// counted from here (see [`crate::deadlines`]).
    pub status_at: i64,
    /// The unit the event lies in.
    pub unit: AreaId,
}

/// A vessel of the fishing fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ship {
    /// Maritime Mobile Service Identity (9 digits; Chinese vessels start 412–414).
    pub mmsi: u32,
    pub name: String,
    pub home_port: String,
    pub lon: f64,
    pub lat: f64,
    /// Speed over ground, knots.
    pub speed_kn: f32,
    /// Heading, degrees clockwise from north, [0, 360).
    pub heading_deg: f32,
    pub in_port: bool,
    /// Time of the last position report.
    pub reported_at: i64,
}

coded_enum!(
    /// Protection level of a cultural-heritage point.
    ProtectionLevel, "protection level" {
        National = 0 => "national",
        Provincial = 1 => "provincial",
        City = 2 => "city",
        County = 3 => "county",
    }
);

coded_enum!(
    /// What a heritage point is watched for.
    Watch, "watch" {
        Fire = 0 => "fire",
        Flood = 1 => "flood",
        FireAndFlood = 2 => "fire_and_flood",
    }
);

/// A protected cultural-heritage site (文物保护点).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeritagePoint {
    pub id: u64,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub level: ProtectionLevel,
    pub watch: Watch,
}

coded_enum!(
    /// Where an idle homestead stands in demolition and reclamation (拆除复垦).
    HomesteadStatus, "homestead status" {
        Idle = 0 => "idle",
        Demolishing = 1 => "demolishing",
        Reclaimed = 2 => "reclaimed",
    }
);

/// An idle rural house plot (闲置宅基地).
#[derive(Debug, Clone, PartialEq)]
pub struct Homestead {
    pub id: u64,
    pub geometry: MultiPolygon<f64>,
    pub area_m2: f64,
    pub status: HomesteadStatus,
}

/// An enterprise (one file per enterprise in the platform).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    pub id: u64,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub industry: String,
    pub employees: u32,
    /// Large enterprises get the most department inspections.
    pub large: bool,
}

coded_enum!(
    /// Kind of school.
    SchoolKind, "school kind" {
        Kindergarten = 0 => "kindergarten",
        Primary = 1 => "primary",
        Middle = 2 => "middle",
        High = 3 => "high",
    }
);

/// A school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: u64,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub kind: SchoolKind,
    pub students: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_lists() {
        assert_eq!(
            parse_list::<EventCategory>(" drainage, road ,"),
            Ok(vec![EventCategory::Drainage, EventCategory::Road])
        );
        assert_eq!(parse_list::<EventStatus>(","), Ok(vec![]));
        assert_eq!(
            parse_list::<HomesteadStatus>("idle,reclaimed"),
            Ok(vec![HomesteadStatus::Idle, HomesteadStatus::Reclaimed])
        );
        let e = parse_list::<EventCategory>("road,weather,nope").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown event category 'weather' (expected one of: drainage, sanitation, \
             dispute, road, safety_hazard, illegal_building, public_order, other)"
        );
        // An event status is no homestead status, and the other way round.
        assert!(parse_list::<HomesteadStatus>("closed").is_err());
        assert!(parse_list::<EventStatus>("idle").is_err());
    }

    #[test]
    fn coded_enums_round_trip() {
        for c in EventCategory::ALL {
            assert_eq!(EventCategory::from_code(c.code()), Some(*c));
            assert_eq!(c.as_str().parse::<EventCategory>().unwrap(), *c);
        }
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::from_code(s.code()), Some(*s));
        }
        assert_eq!(EventStatus::from_code(99), None);
        let err = "flooding".parse::<EventCategory>().unwrap_err().to_string();
        assert!(err.contains("drainage"), "{err}");
        assert!(!EventStatus::Closed.is_open());
        assert!(EventStatus::FedBack.is_open());
    }
}
