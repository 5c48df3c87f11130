//! A point layer as columns: ids, positions, the unit and H3 cells of every
//! point, an R-tree, and two orderings (by id, and grouped by unit).

use crate::cells::{FreshCells, PointCells};
use crate::tree::NONE;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};
use std::sync::Arc;

/// A point in the R-tree: its offset from the layer's origin in `f32` (a
/// tree node then takes 40 bytes instead of 56), and its position. Rounding
/// to `f32` is monotonic, so a box converted the same way still holds every
/// point whose exact position lies in it; callers re-check exact positions.
pub(crate) type PointEntry = GeomWithData<[f32; 2], u32>;

/// The most positions a set keeps outside its tree: beyond, the next
/// change builds the tree again.
pub(crate) const TAIL_MAX: usize = 2048;

/// Where a point of a merged set comes from ([`PointSet::merged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Src {
    /// The point at this position of the old set.
    Old(u32),
    /// The new point of this index.
    New(u32),
}

/// A column of a merged set: `prefix` as it is, then `seq` read from `old`
/// (an old point) or `new` (a new point's index).
pub(crate) fn merged_column<T: Copy>(
    prefix: &[T],
    seq: &[Src],
    old: &[T],
    new: impl Fn(usize) -> T,
) -> Vec<T> {
    let mut v = Vec::with_capacity(prefix.len() + seq.len());
    v.extend_from_slice(prefix);
    v.extend(seq.iter().map(|s| match *s {
        Src::Old(p) => old[p as usize],
        Src::New(j) => new(j as usize),
    }));
    v
}

/// One point layer. Positions (`u32`) index every column.
#[derive(Debug)]
pub(crate) struct PointSet {
    pub(crate) ids: Vec<u64>,
    pub(crate) lon: Vec<f64>,
    pub(crate) lat: Vec<f64>,
    /// The unit position holding each point, or `NONE`.
    pub(crate) unit: Vec<u32>,
    /// Each point's H3 cells: at the fine resolution and the tile ones.
    pub(crate) cells: PointCells,
    /// Positions in ascending id order.
    pub(crate) by_id: Vec<u32>,
    /// Positions grouped by unit (ascending id within a unit), unassigned points last.
    pub(crate) by_unit: Vec<u32>,
    /// Unit `u`'s points are `by_unit[unit_start[u]..unit_start[u + 1]]`; the
    /// last entry starts the unassigned ones.
    pub(crate) unit_start: Vec<u32>,
    /// The R-tree over the points, shared with the sets this one was
    /// appended to; it holds every position but those in `tail`.
    pub(crate) tree: Arc<RTree<PointEntry>>,
    /// Positions appended since the tree was built (at most [`TAIL_MAX`]),
    /// checked one by one by every spatial query.
    pub(crate) tail: Vec<u32>,
    /// `[min_lon, min_lat, max_lon, max_lat]` of all points (inverted when empty).
    pub(crate) extent: [f64; 4],
    /// What tree coordinates are offsets from.
    origin: [f64; 2],
}

impl PointSet {
    /// Builds the indexes over columns already in their storage order. Ids
    /// must be unique (checked by the caller).
    pub(crate) fn build(
        ids: Vec<u64>,
        lon: Vec<f64>,
        lat: Vec<f64>,
        unit: Vec<u32>,
        n_units: usize,
    ) -> Self {
        Self::build_with_cells(ids, lon, lat, unit, None, n_units)
    }

    /// [`PointSet::build`], reusing each point's H3 cells when the caller
    /// has them already (in the same order).
    pub(crate) fn build_with_cells(
        ids: Vec<u64>,
        lon: Vec<f64>,
        lat: Vec<f64>,
        unit: Vec<u32>,
        cells: Option<PointCells>,
        n_units: usize,
    ) -> Self {
        let n = ids.len();
        let mut extent = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for i in 0..n {
            let (x, y) = (lon[i], lat[i]);
            extent = [
                extent[0].min(x),
                extent[1].min(y),
                extent[2].max(x),
                extent[3].max(y),
            ];
        }
        let origin = if n == 0 {
            [0.0, 0.0]
        } else {
            [extent[0], extent[1]]
        };
        let rel = |x: f64, y: f64| [(x - origin[0]) as f32, (y - origin[1]) as f32];
        let ((cells, tree), by_id) = rayon::join(
            || {
                rayon::join(
                    || cells.unwrap_or_else(|| PointCells::compute(&lon, &lat)),
                    || {
                        let entries: Vec<PointEntry> = (0..n)
                            .map(|i| GeomWithData::new(rel(lon[i], lat[i]), i as u32))
                            .collect();
                        RTree::bulk_load(entries)
                    },
                )
            },
            || {
                if ids.windows(2).all(|w| w[0] < w[1]) {
                    return (0..n as u32).collect();
                }
                let mut pairs: Vec<(u64, u32)> = ids
                    .par_iter()
                    .enumerate()
                    .map(|(i, &id)| (id, i as u32))
                    .collect();
                pairs.par_sort_unstable();
                pairs.into_par_iter().map(|p| p.1).collect::<Vec<u32>>()
            },
        );
        let (by_unit, unit_start) = unit_order(&unit, &by_id, n_units);
        PointSet {
            ids,
            lon,
            lat,
            unit,
            cells,
            by_id,
            by_unit,
            unit_start,
            tree: Arc::new(tree),
            tail: Vec::new(),
            extent,
            origin,
        }
    }

    /// A new set with `seq` from position `from` on: each entry an old
    /// point (its position here) or a new one (its index into `ids`, `lon`,
    /// `lat`, `unit` and `cells`), in storage order. Everything before
    /// `from` is kept as it is, and `from` is at or after the last point
    /// the R-tree holds, so the tree is shared and every position after it
    /// is in the tail; the id and unit orders are merged, not sorted.
    /// `None` when that does not hold: `from` before the tail, the tail
    /// beyond [`TAIL_MAX`], a new point outside the extent (its tree
    /// coordinates would lose precision), or no points here. The caller
    /// gives new ids that are not here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn merged(
        &self,
        from: usize,
        seq: &[Src],
        ids: &[u64],
        lon: &[f64],
        lat: &[f64],
        unit: &[u32],
        cells: &FreshCells,
        n_units: usize,
    ) -> Option<PointSet> {
        let n_old = self.ids.len();
        let n_tree = n_old - self.tail.len();
        let n = from + seq.len();
        let e = self.extent;
        let inside = lon
            .iter()
            .zip(lat)
            .all(|(&x, &y)| x >= e[0] && x <= e[2] && y >= e[1] && y <= e[3]);
        if from < n_tree || n - n_tree > TAIL_MAX || !inside || self.ids.is_empty() {
            return None;
        }
        let n_stacks = self.cells.stacks.len();
        let mut stack = merged_column(&self.cells.stack[..from], seq, &self.cells.stack, |j| {
            (n_stacks + j) as u32
        });
        let table = PointCells::settle(&mut stack, &self.cells.stacks, &cells.stacks);
        // Where each old point of the merged part went.
        let mut moved_to = vec![0u32; n_old - from];
        for (k, s) in seq.iter().enumerate() {
            if let Src::Old(p) = *s {
                moved_to[p as usize - from] = (from + k) as u32;
            }
        }
        let at = |p: u32| {
            if (p as usize) < from {
                p
            } else {
                moved_to[p as usize - from]
            }
        };
        // The new points by id, merged into the old id order.
        let mut fresh: Vec<(u64, u32)> = seq
            .iter()
            .enumerate()
            .filter_map(|(k, s)| match *s {
                Src::New(j) => Some((ids[j as usize], (from + k) as u32)),
                Src::Old(_) => None,
            })
            .collect();
        fresh.sort_unstable();
        let mut by_id = Vec::with_capacity(n);
        let mut f = fresh.iter().peekable();
        for &p in &self.by_id {
            while let Some(&&(id, q)) = f.peek() {
                if id > self.ids[p as usize] {
                    break;
                }
                by_id.push(q);
                f.next();
            }
            by_id.push(at(p));
        }
        by_id.extend(f.map(|&(_, q)| q));
        let mut next = PointSet {
            ids: merged_column(&self.ids[..from], seq, &self.ids, |j| ids[j]),
            lon: merged_column(&self.lon[..from], seq, &self.lon, |j| lon[j]),
            lat: merged_column(&self.lat[..from], seq, &self.lat, |j| lat[j]),
            unit: merged_column(&self.unit[..from], seq, &self.unit, |j| unit[j]),
            cells: PointCells {
                fine: merged_column(&self.cells.fine[..from], seq, &self.cells.fine, |j| {
                    cells.fine[j]
                }),
                stack,
                stacks: table,
                not_parent: merged_column(
                    &self.cells.not_parent[..from],
                    seq,
                    &self.cells.not_parent,
                    |j| cells.not_parent[j],
                ),
            },
            by_id,
            by_unit: Vec::new(),
            unit_start: Vec::new(),
            tree: Arc::clone(&self.tree),
            tail: (n_tree as u32..n as u32).collect(),
            extent: self.extent,
            origin: self.origin,
        };
        let (by_unit, unit_start) = unit_order(&next.unit, &next.by_id, n_units);
        next.by_unit = by_unit;
        next.unit_start = unit_start;
        Some(next)
    }

    /// A position in tree coordinates.
    #[inline]
    pub(crate) fn rel(&self, x: f64, y: f64) -> [f32; 2] {
        [(x - self.origin[0]) as f32, (y - self.origin[1]) as f32]
    }

    /// The tree envelope holding every point whose exact position lies in `b`.
    pub(crate) fn envelope(&self, b: &[f64; 4]) -> AABB<[f32; 2]> {
        AABB::from_corners(self.rel(b[0], b[1]), self.rel(b[2], b[3]))
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Positions of the points assigned to units `units`, ascending id within each unit.
    pub(crate) fn in_units(&self, units: std::ops::Range<u32>) -> &[u32] {
        let a = self.unit_start[units.start as usize] as usize;
        let b = self.unit_start[units.end as usize] as usize;
        &self.by_unit[a..b]
    }

    /// The position of the point with this id.
    pub(crate) fn position(&self, id: u64) -> Option<u32> {
        let i = self.by_id.partition_point(|&p| self.ids[p as usize] < id);
        self.by_id
            .get(i)
            .copied()
            .filter(|&p| self.ids[p as usize] == id)
    }

    /// How far into the id order the first id greater than `after` lies.
    pub(crate) fn id_rank_after(&self, after: Option<u64>) -> usize {
        match after {
            None => 0,
            Some(a) => self.by_id.partition_point(|&p| self.ids[p as usize] <= a),
        }
    }
}

/// The first duplicated id of an id-sorted sequence, if any.
pub(crate) fn first_duplicate(sorted: impl IntoIterator<Item = u64>) -> Option<u64> {
    let mut prev = None;
    for id in sorted {
        if prev == Some(id) {
            return Some(id);
        }
        prev = Some(id);
    }
    None
}

/// Positions grouped by unit (a counting sort of the id order, so ids stay
/// ascending within a unit; unassigned points last) and where each unit's
/// group starts.
fn unit_order(unit: &[u32], by_id: &[u32], n_units: usize) -> (Vec<u32>, Vec<u32>) {
    let bucket = |u: u32| if u == NONE { n_units } else { u as usize };
    let mut unit_start = vec![0u32; n_units + 2];
    for &u in unit {
        unit_start[bucket(u) + 1] += 1;
    }
    for i in 0..=n_units {
        unit_start[i + 1] += unit_start[i];
    }
    let mut fill = unit_start.clone();
    let mut by_unit = vec![0u32; by_id.len()];
    for &p in by_id {
        let b = bucket(unit[p as usize]);
        by_unit[fill[b] as usize] = p;
        fill[b] += 1;
    }
    unit_start.pop();
    (by_unit, unit_start)
}
