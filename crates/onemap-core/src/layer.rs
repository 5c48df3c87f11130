use crate::{CoreError, Level};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A named map layer. The one registry of layer names: files, tiles, URLs
/// and SQL tables are all named from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Districts,
    Towns,
    Villages,
    Grids,
    Units,
    Events,
    Ships,
    Heritage,
    Homesteads,
    Enterprises,
    Schools,
}

impl Layer {
    pub const ALL: [Layer; 11] = [
        Layer::Districts,
        Layer::Towns,
        Layer::Villages,
        Layer::Grids,
        Layer::Units,
        Layer::Events,
        Layer::Ships,
        Layer::Heritage,
        Layer::Homesteads,
        Layer::Enterprises,
        Layer::Schools,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Districts => "districts",
            Layer::Towns => "towns",
            Layer::Villages => "villages",
            Layer::Grids => "grids",
            Layer::Units => "units",
            Layer::Events => "events",
            Layer::Ships => "ships",
            Layer::Heritage => "heritage",
            Layer::Homesteads => "homesteads",
            Layer::Enterprises => "enterprises",
            Layer::Schools => "schools",
        }
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|l| l.as_str()).collect()
    }

    /// The area level an area layer holds.
    pub fn area_level(self) -> Option<Level> {
        match self {
            Layer::Districts => Some(Level::District),
            Layer::Towns => Some(Level::Town),
            Layer::Villages => Some(Level::Village),
            Layer::Grids => Some(Level::Grid),
            Layer::Units => Some(Level::Unit),
            _ => None,
        }
    }

    pub fn for_level(level: Level) -> Layer {
        match level {
            Level::District => Layer::Districts,
            Level::Town => Layer::Towns,
            Level::Village => Layer::Villages,
            Level::Grid => Layer::Grids,
            Level::Unit => Layer::Units,
        }
    }

    /// Whether the layer's features are points (all but areas and homesteads).
    pub fn is_point(self) -> bool {
        self.area_level().is_none() && self != Layer::Homesteads
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| CoreError::UnknownLayer(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_parse_and_name() {
        for l in Layer::ALL {
            assert_eq!(l.as_str().parse::<Layer>().unwrap(), l);
        }
        let e = "roads".parse::<Layer>().unwrap_err().to_string();
        assert!(
            e.contains("unknown layer 'roads'") && e.contains("events"),
            "{e}"
        );
        assert!(Layer::Events.is_point());
        assert!(!Layer::Homesteads.is_point());
        assert_eq!(Layer::for_level(Level::Grid), Layer::Grids);
    }
}
