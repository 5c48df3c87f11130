//! Index tables over the area tree: parent links, unit ranges and the
//! ancestors of every unit, so roll-ups are array lookups.
//!
//! Area ids are hierarchical (a parent's id is the child's id / 1000) and each
//! level is sorted by id, so the descendants of an area at any finer level form
//! one contiguous range of that level's positions. Everything here leans on
//! that, and [`Tables::build`] checks it.

use crate::IndexError;
use onemap_core::{Area, AreaId, AreaTree, Level};
use std::ops::Range;

/// "No such index": a point outside every unit, or a district's parent.
pub(crate) const NONE: u32 = u32::MAX;

/// Parent links and ranges for every area of the tree.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    /// Per level, each area's parent position at the level above (`NONE` for districts).
    parent: [Vec<u32>; 5],
    /// Per level, each area's range of unit positions.
    units: [Vec<(u32, u32)>; 5],
    /// For each unit, its ancestor position at district, town, village, grid.
    anc: [Vec<u32>; 4],
}

impl Tables {
    pub(crate) fn build(tree: &AreaTree) -> Result<Self, IndexError> {
        if tree.duplicate_ids() > 0 {
            return Err(IndexError::InvalidData(format!(
                "{} area ids appear more than once",
                tree.duplicate_ids()
            )));
        }
        let mut t = Tables::default();
        for level in Level::ALL {
            let areas = tree.level(level);
            if areas.len() >= NONE as usize - 1 {
                return Err(IndexError::InvalidData(format!("too many {level} areas")));
            }
            let mut parents = Vec::with_capacity(areas.len());
            for a in areas {
                check_area(a, level)?;
                let p = match level.parent() {
                    None => NONE,
                    Some(pl) => {
                        let pid = a.parent.expect("checked by check_area");
                        match tree.position(pid) {
                            Some((l, i)) if l == pl => i,
                            _ => {
                                return Err(IndexError::InvalidData(format!(
                                    "{level} {} has parent {pid}, which is not a known {pl}",
                                    a.id
                                )))
                            }
                        }
                    }
                };
                parents.push(p);
            }
            t.parent[level.depth()] = parents;
        }
        let units = tree.level(Level::Unit);
        for level in Level::ALL {
            t.units[level.depth()] = tree
                .level(level)
                .iter()
                .map(|a| {
                    let r = id_range(units, a.id, Level::Unit);
                    (r.start, r.end)
                })
                .collect();
        }
        // Walk up from the units: grid, village, town, district.
        let mut cur: Vec<u32> = (0..units.len() as u32).collect();
        for level in [Level::Grid, Level::Village, Level::Town, Level::District] {
            let child = level.child().expect("not a unit").depth();
            cur = cur.iter().map(|&i| t.parent[child][i as usize]).collect();
            t.anc[level.depth()] = cur.clone();
        }
        Ok(t)
    }

    /// The position of `unit`'s ancestor at `level` (the unit itself at `Level::Unit`).
    #[inline]
    pub(crate) fn ancestor(&self, unit: u32, level: Level) -> u32 {
        match level {
            Level::Unit => unit,
            l => self.anc[l.depth()][unit as usize],
        }
    }

    /// The column of ancestors at `level` (None for units: the identity).
    pub(crate) fn ancestors(&self, level: Level) -> Option<&[u32]> {
        match level {
            Level::Unit => None,
            l => Some(&self.anc[l.depth()]),
        }
    }

    pub(crate) fn parent(&self, level: Level, pos: u32) -> Option<u32> {
        let p = self.parent[level.depth()][pos as usize];
        (p != NONE).then_some(p)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let a: usize = self.parent.iter().map(|v| v.len() * 4).sum();
        let b: usize = self.units.iter().map(|v| v.len() * 8).sum();
        let c: usize = self.anc.iter().map(|v| v.len() * 4).sum();
        a + b + c
    }

    /// The unit positions under an area.
    pub(crate) fn unit_range(&self, level: Level, pos: u32) -> Range<u32> {
        let (a, b) = self.units[level.depth()][pos as usize];
        a..b
    }
}

/// Positions of the areas of `level` (sorted by id) whose id descends from `id`
/// (or equals it); empty when `level` is above `id`'s level.
pub(crate) fn id_range(areas: &[Area], id: AreaId, level: Level) -> Range<u32> {
    let own = id.level().expect("validated id");
    if level < own {
        return 0..0;
    }
    let k = 1000u64.pow((level.depth() - own.depth()) as u32);
    let lo = id.get() * k;
    let hi = (id.get() + 1) * k;
    let a = areas.partition_point(|x| x.id.get() < lo) as u32;
    let b = areas.partition_point(|x| x.id.get() < hi) as u32;
    a..b
}

fn check_area(a: &Area, level: Level) -> Result<(), IndexError> {
    if a.id.level() != Some(level) {
        return Err(IndexError::InvalidData(format!(
            "area {} is filed as a {level} but its id has the digits of a {}",
            a.id,
            a.id.level().map_or("nothing", Level::as_str)
        )));
    }
    if a.parent != a.id.parent() {
        return Err(IndexError::InvalidData(format!(
            "area {} names parent {:?}, but its id says {:?}",
            a.id,
            a.parent.map(|p| p.get()),
            a.id.parent().map(|p| p.get())
        )));
    }
    Ok(())
}
