use crate::CoreError;
use geo_types::MultiPolygon;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// A level of the area tree, from the largest to the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    District,
    Town,
    Village,
    Grid,
    Unit,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::District,
        Level::Town,
        Level::Village,
        Level::Grid,
        Level::Unit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::District => "district",
            Level::Town => "town",
            Level::Village => "village",
            Level::Grid => "grid",
            Level::Unit => "unit",
        }
    }

    /// 0 for districts … 4 for units.
    pub fn depth(self) -> usize {
        self as usize
    }

    pub fn parent(self) -> Option<Level> {
        match self {
            Level::District => None,
            Level::Town => Some(Level::District),
            Level::Village => Some(Level::Town),
            Level::Grid => Some(Level::Village),
            Level::Unit => Some(Level::Grid),
        }
    }

    pub fn child(self) -> Option<Level> {
        match self {
            Level::District => Some(Level::Town),
            Level::Town => Some(Level::Village),
            Level::Village => Some(Level::Grid),
            Level::Grid => Some(Level::Unit),
            Level::Unit => None,
        }
    }

    /// Whether areas of this level have a named leader (grid leader 网格长, unit leader 单元长).
    pub fn has_leader(self) -> bool {
        matches!(self, Level::Grid | Level::Unit)
    }

    /// Number of decimal digits of an [`AreaId`] at this level.
    pub fn id_digits(self) -> u32 {
        6 + 3 * self.depth() as u32
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "district" | "districts" => Ok(Level::District),
            "town" | "towns" => Ok(Level::Town),
            "village" | "villages" => Ok(Level::Village),
            "grid" | "grids" => Ok(Level::Grid),
            "unit" | "units" => Ok(Level::Unit),
            _ => Err(CoreError::UnknownLevel(s.to_string())),
        }
    }
}

/// Stable id of an area, shaped like a Chinese statistical area code: a
/// 6-digit district code (e.g. 350302), then three more digits per level
/// (town 9, village 12, grid 15, unit 18 digits). The parent's id is the id
/// divided by 1000, so the level and the ancestry are readable from the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AreaId(u64);

impl AreaId {
    /// Validates that `raw` has the digit count of one of the levels.
    pub fn new(raw: u64) -> Result<Self, CoreError> {
        let id = AreaId(raw);
        if id.level().is_some() {
            Ok(id)
        } else {
            Err(CoreError::InvalidAreaId(raw))
        }
    }

    /// The child of `parent` with the 1-based ordinal `n` (1..=999).
    pub fn child_of(parent: AreaId, n: u32) -> AreaId {
        debug_assert!((1..=999).contains(&n));
        AreaId(parent.0 * 1000 + u64::from(n))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn level(self) -> Option<Level> {
        let digits = if self.0 == 0 { 1 } else { self.0.ilog10() + 1 };
        Level::ALL.into_iter().find(|l| l.id_digits() == digits)
    }

    /// A unit's grid, village, town and district, by the code structure
    /// (None if this is not a unit's id). Cheaper than four
    /// [`AreaId::ancestor_at`] calls: the level is known.
    #[inline]
    pub fn unit_ancestors(self) -> Option<[AreaId; 4]> {
        (10u64.pow(17)..10u64.pow(18)).contains(&self.0).then_some([
            AreaId(self.0 / 1_000),
            AreaId(self.0 / 1_000_000),
            AreaId(self.0 / 1_000_000_000),
            AreaId(self.0 / 1_000_000_000_000),
        ])
    }

    /// The parent's id by the code structure (None for districts).
    pub fn parent(self) -> Option<AreaId> {
        match self.level()? {
            Level::District => None,
            _ => Some(AreaId(self.0 / 1000)),
        }
    }

    /// This id's ancestor (or itself) at `level`, if `level` is not below it.
    pub fn ancestor_at(self, level: Level) -> Option<AreaId> {
        let own = self.level()?;
        if level > own {
            return None;
        }
        let drop = 3 * (own.depth() - level.depth()) as u32;
        Some(AreaId(self.0 / 10u64.pow(drop)))
    }
}

impl fmt::Display for AreaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for AreaId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw: u64 = s
            .trim()
            .parse()
            .map_err(|_| CoreError::BadAreaId(crate::error::excerpt(s)))?;
        AreaId::new(raw)
    }
}

/// One area of the tree with its boundary (EPSG:4326, lon/lat).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub id: AreaId,
    pub level: Level,
    pub name: String,
    pub parent: Option<AreaId>,
    /// Grid leader or unit leader; `None` at levels without one.
    pub leader: Option<String>,
    pub geometry: MultiPolygon<f64>,
}

/// The areas of a city, one vector per level, with an id lookup.
#[derive(Debug, Clone, Default)]
pub struct AreaTree {
    levels: [Vec<Area>; 5],
    by_id: HashMap<AreaId, (Level, u32)>,
}

impl AreaTree {
    /// Builds the tree from areas in any order. Within a level, areas are kept
    /// in ascending id order so the tree is canonical.
    pub fn from_areas(areas: impl IntoIterator<Item = Area>) -> Self {
        let mut levels: [Vec<Area>; 5] = Default::default();
        for a in areas {
            levels[a.level.depth()].push(a);
        }
        for l in levels.iter_mut() {
            l.sort_by_key(|a| a.id);
        }
        let mut by_id = HashMap::new();
        for (d, l) in levels.iter().enumerate() {
            for (i, a) in l.iter().enumerate() {
                by_id.insert(a.id, (Level::ALL[d], i as u32));
            }
        }
        Self { levels, by_id }
    }

    pub fn level(&self, level: Level) -> &[Area] {
        &self.levels[level.depth()]
    }

    pub fn get(&self, id: AreaId) -> Option<&Area> {
        let (l, i) = self.by_id.get(&id)?;
        self.levels[l.depth()].get(*i as usize)
    }

    /// Position of `id` within its level's vector.
    pub fn position(&self, id: AreaId) -> Option<(Level, u32)> {
        self.by_id.get(&id).copied()
    }

    pub fn len(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Area> {
        self.levels.iter().flatten()
    }

    /// Number of areas whose id appears more than once (after the first).
    pub fn duplicate_ids(&self) -> usize {
        self.len() - self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_encode_level_and_parent() {
        let d = AreaId::new(350302).unwrap();
        assert_eq!(d.level(), Some(Level::District));
        let t = AreaId::child_of(d, 101);
        assert_eq!(t.get(), 350302101);
        assert_eq!(t.level(), Some(Level::Town));
        assert_eq!(t.parent(), Some(d));
        let u = AreaId::child_of(AreaId::child_of(AreaId::child_of(t, 1), 2), 3);
        assert_eq!(u.level(), Some(Level::Unit));
        assert_eq!(u.get(), 350302101001002003);
        assert_eq!(u.ancestor_at(Level::Town), Some(t));
        assert_eq!(u.ancestor_at(Level::District), Some(d));
        assert_eq!(t.ancestor_at(Level::Unit), None);
        let want = [Level::Grid, Level::Village, Level::Town, Level::District]
            .map(|l| u.ancestor_at(l).unwrap());
        assert_eq!(u.unit_ancestors(), Some(want));
        assert_eq!(want[2], t);
        assert_eq!(t.unit_ancestors(), None);
        assert!(AreaId::new(1234).is_err());
        assert!("abc".parse::<AreaId>().is_err());
    }

    #[test]
    fn area_ids_from_text() {
        assert_eq!(" 350302 ".parse::<AreaId>(), Ok(AreaId(350302)));
        assert_eq!(
            "350302005".parse::<AreaId>().map(AreaId::level),
            Ok(Some(Level::Town))
        );
        // Not digits: text that does not parse.
        for bad in ["abc", "", "-350302", "350302.0", "3503O2"] {
            assert_eq!(
                bad.parse::<AreaId>(),
                Err(CoreError::BadAreaId(bad.trim().into())),
                "{bad}"
            );
        }
        // Digits, but no level has that many.
        assert_eq!(
            "12345".parse::<AreaId>(),
            Err(CoreError::InvalidAreaId(12345))
        );
        let e = "abc".parse::<AreaId>().unwrap_err().to_string();
        assert!(e.contains("'abc'") && e.contains("18 digits"), "{e}");
    }

    #[test]
    fn levels_parse() {
        assert_eq!("Village".parse::<Level>().unwrap(), Level::Village);
        assert!("county".parse::<Level>().is_err());
        assert_eq!(Level::District.child(), Some(Level::Town));
        assert_eq!(Level::Unit.parent(), Some(Level::Grid));
    }
}
