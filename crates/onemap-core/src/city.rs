use crate::{AreaTree, BBox, Enterprise, Event, HeritagePoint, Homestead, School, Ship};
use serde::{Deserialize, Serialize};

/// The real extent of Putian, land and the monitored sea: about
/// 118.45–119.65 E, 24.98–25.77 N.
pub const CITY_EXTENT: BBox = BBox {
    min_lon: 118.45,
    min_lat: 24.98,
    max_lon: 119.65,
    max_lat: 25.77,
};

/// The name `onemap synth` gives the synthetic Putian in `city.json`; a
/// city of that name is checked against Putian's real figures.
pub const SYNTHETIC_PUTIAN: &str = "莆田市 Putian (synthetic)";

/// How a city was made, written beside its layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityMeta {
    pub name: String,
    pub seed: u64,
    pub scale: f64,
    /// The extent the city was made in.
    pub extent: BBox,
    /// The counts the generator aimed for, per layer name, so `validate` can check them.
    pub expected: std::collections::BTreeMap<String, u64>,
    /// When the generated event history ends (Unix seconds; midnight China
    /// time after the last day). None for a city written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_end: Option<i64>,
}

/// Everything one city is made of, as plain data.
#[derive(Debug, Clone, Default)]
pub struct CityData {
    pub areas: AreaTree,
    pub events: Vec<Event>,
    pub ships: Vec<Ship>,
    pub heritage: Vec<HeritagePoint>,
    pub homesteads: Vec<Homestead>,
    pub enterprises: Vec<Enterprise>,
    pub schools: Vec<School>,
}
