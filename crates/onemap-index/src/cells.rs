//! The H3 cells every point carries: its cell at [`FINE_RESOLUTION`] and,
//! through a *stack* number, its cells at every resolution hexagon tiles
//! draw ([`TILE_RESOLUTIONS`]). Each is the cell that contains the point at
//! that resolution (`latLngToCell`), never a parent of a finer cell.
//!
//! A stack is one combination of cells, one per tile resolution, that holds
//! at least one point: the points of a layer fill far fewer stacks than
//! there are points (1,000,000 events fill about 200,000), so a point
//! costs 4 bytes for all six resolutions and the table is shared by
//! snapshots whose points fill the same stacks. Resolution 11 is computed
//! when asked for (see [`CellAt`]).
//!
//! [`FINE_RESOLUTION`]: crate::FINE_RESOLUTION

use crate::h3::{FINE, TILE_RESOLUTIONS};
use h3o::{CellIndex, LatLng, LatLngIndexer, Resolution};
use rayon::prelude::*;
use std::sync::Arc;

/// How many resolutions a stack holds.
pub const STACK_LEN: usize = (*TILE_RESOLUTIONS.end() - *TILE_RESOLUTIONS.start() + 1) as usize;

/// A point's cells at [`TILE_RESOLUTIONS`], coarsest first.
pub type CellStack = [CellIndex; STACK_LEN];

/// The distinct [`CellStack`]s the points of a layer fill, sorted; a point's
/// stack number indexes it. Cloning shares the table.
#[derive(Debug, Clone, Default)]
pub struct CellStacks(Arc<Vec<CellStack>>);

impl CellStacks {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every stack, in stack-number order.
    pub fn as_slice(&self) -> &[CellStack] {
        &self.0
    }

    /// The cell of stack `stack` at `res` (one of [`TILE_RESOLUTIONS`]).
    #[inline]
    pub fn cell(&self, stack: u32, res: u8) -> CellIndex {
        self.0[stack as usize][usize::from(res - TILE_RESOLUTIONS.start())]
    }

    /// Whether both are the very same table (one snapshot's points filled
    /// the same stacks as the other's).
    pub fn same(&self, other: &CellStacks) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn position(&self, s: &CellStack) -> Option<u32> {
        self.0.binary_search(s).ok().map(|i| i as u32)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(self.0.as_slice())
    }
}

/// The cells of a point layer's points, by position.
#[derive(Debug, Clone, Default)]
pub(crate) struct PointCells {
    /// The cell at [`FINE_RESOLUTION`](crate::FINE_RESOLUTION).
    pub(crate) fine: Vec<CellIndex>,
    /// The stack number, into `stacks`.
    pub(crate) stack: Vec<u32>,
    pub(crate) stacks: CellStacks,
}

/// The resolutions one projection of a point is turned into cells at:
/// every tile resolution, then the fine one.
fn resolutions() -> impl Iterator<Item = Resolution> + Clone {
    TILE_RESOLUTIONS
        .map(|r| Resolution::try_from(r).expect("a valid resolution"))
        .chain(std::iter::once(FINE))
}

/// A point's stack and fine cell. The indexer projects the point once for
/// all resolutions and skips the rest of the work at a resolution where the
/// point lies in the same cell as the previous one.
#[inline]
fn cells_of(ix: &mut LatLngIndexer, lon: f64, lat: f64) -> (CellStack, CellIndex) {
    let ll = LatLng::new(lat, lon).expect("coordinates are validated before they reach H3");
    let mut it = ix.to_cells(ll, resolutions());
    let stack = std::array::from_fn(|_| it.next().expect("a cell per tile resolution"));
    (stack, it.next().expect("the fine cell"))
}

/// How many points one task of [`PointCells::compute`] takes.
const CHUNK: usize = 4096;

impl PointCells {
    /// The cells of every point, visiting them in `order` (a permutation of
    /// the positions in which neighbours come together, such as points
    /// grouped by unit: most then share their coarse cells with the point
    /// before, which the indexer answers without work).
    pub(crate) fn compute(lon: &[f64], lat: &[f64], order: &[u32]) -> PointCells {
        struct Chunk {
            fine: Vec<CellIndex>,
            /// Per point of the chunk, its number among `distinct`.
            local: Vec<u32>,
            distinct: Vec<CellStack>,
        }
        let chunks: Vec<Chunk> = order
            .par_chunks(CHUNK)
            .map(|ps| {
                let mut ix = LatLngIndexer::default();
                let mut fine = Vec::with_capacity(ps.len());
                let mut stacks: Vec<(CellStack, u32)> = Vec::with_capacity(ps.len());
                for (i, &p) in ps.iter().enumerate() {
                    let (s, f) = cells_of(&mut ix, lon[p as usize], lat[p as usize]);
                    fine.push(f);
                    stacks.push((s, i as u32));
                }
                stacks.sort_unstable();
                let mut distinct: Vec<CellStack> = Vec::new();
                let mut local = vec![0u32; ps.len()];
                for (s, i) in stacks {
                    if distinct.last() != Some(&s) {
                        distinct.push(s);
                    }
                    local[i as usize] = (distinct.len() - 1) as u32;
                }
                Chunk {
                    fine,
                    local,
                    distinct,
                }
            })
            .collect();
        let mut table: Vec<CellStack> = chunks
            .iter()
            .flat_map(|c| c.distinct.iter().copied())
            .collect();
        table.par_sort_unstable();
        table.dedup();
        let global: Vec<Vec<u32>> = chunks
            .par_iter()
            .map(|c| {
                c.distinct
                    .iter()
                    .map(|s| table.binary_search(s).expect("listed") as u32)
                    .collect()
            })
            .collect();
        // Where each position comes in `order`.
        let mut rank = vec![0u32; lon.len()];
        for (i, &p) in order.iter().enumerate() {
            rank[p as usize] = i as u32;
        }
        let (fine, stack) = rank
            .par_iter()
            .map(|&r| {
                let (k, i) = (r as usize / CHUNK, r as usize % CHUNK);
                let c = &chunks[k];
                (c.fine[i], global[k][c.local[i] as usize])
            })
            .unzip();
        PointCells {
            fine,
            stack,
            stacks: CellStacks(Arc::new(table)),
        }
    }

    /// The cells of a few points, in their order (no cache worth keeping).
    pub(crate) fn of_points(lon: &[f64], lat: &[f64]) -> (Vec<CellIndex>, Vec<CellStack>) {
        let mut ix = LatLngIndexer::default();
        lon.iter()
            .zip(lat)
            .map(|(&x, &y)| {
                let (s, f) = cells_of(&mut ix, x, y);
                (f, s)
            })
            .unzip()
    }

    /// The table for stack numbers `stack` that index `old` (below
    /// `old.len()`) or `extra` (from `old.len()` on): exactly the stacks
    /// used, sorted, as [`PointCells::compute`] would make it. `stack` is
    /// renumbered into it; `old` itself is kept (shared) when it is already
    /// exactly that.
    pub(crate) fn settle(stack: &mut [u32], old: &CellStacks, extra: &[CellStack]) -> CellStacks {
        let n_old = old.len();
        // Extra stacks the old table has already take its numbers.
        let extra_at: Vec<Option<u32>> = extra.iter().map(|s| old.position(s)).collect();
        let mut used = vec![false; n_old];
        let mut added = vec![false; extra.len()];
        for s in stack.iter_mut() {
            let i = *s as usize;
            if i < n_old {
                used[i] = true;
            } else {
                match extra_at[i - n_old] {
                    Some(o) => {
                        *s = o;
                        used[o as usize] = true;
                    }
                    None => added[i - n_old] = true,
                }
            }
        }
        if used.iter().all(|&u| u) && !added.iter().any(|&a| a) {
            return old.clone();
        }
        let mut table: Vec<CellStack> = old
            .as_slice()
            .iter()
            .zip(&used)
            .filter(|(_, &u)| u)
            .map(|(s, _)| *s)
            .chain(
                extra
                    .iter()
                    .zip(&added)
                    .filter(|(_, &a)| a)
                    .map(|(s, _)| *s),
            )
            .collect();
        table.par_sort_unstable();
        table.dedup();
        let find = |s: &CellStack| table.binary_search(s).expect("listed") as u32;
        let from_old: Vec<u32> = old
            .as_slice()
            .iter()
            .zip(&used)
            .map(|(s, &u)| if u { find(s) } else { u32::MAX })
            .collect();
        let from_extra: Vec<u32> = extra
            .iter()
            .zip(&added)
            .map(|(s, &a)| if a { find(s) } else { u32::MAX })
            .collect();
        stack.par_iter_mut().for_each(|s| {
            let i = *s as usize;
            *s = if i < n_old {
                from_old[i]
            } else {
                from_extra[i - n_old]
            };
        });
        CellStacks(Arc::new(table))
    }
}

/// Where the cell of a point at one resolution comes from: its stack, its
/// fine cell, or (resolution 11) `latLngToCell` there and then.
pub(crate) enum CellAt<'a> {
    Stack {
        stack: &'a [u32],
        stacks: &'a CellStacks,
        res: u8,
    },
    Fine(&'a [CellIndex]),
    Computed {
        lon: &'a [f64],
        lat: &'a [f64],
        res: Resolution,
    },
}

impl CellAt<'_> {
    /// The cell holding point `p`.
    #[inline]
    pub(crate) fn get(&self, p: usize) -> CellIndex {
        match self {
            CellAt::Stack { stack, stacks, res } => stacks.cell(stack[p], *res),
            CellAt::Fine(fine) => fine[p],
            CellAt::Computed { lon, lat, res } => crate::h3::cell_at(lon[p], lat[p], *res),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h3::cell_at;

    /// Points on a fine lattice, with exact repeats, in an order that is
    /// not spatial.
    fn points() -> (Vec<f64>, Vec<f64>) {
        let mut lon = Vec::new();
        let mut lat = Vec::new();
        for i in 0..3000u32 {
            let k = (i * 7919) % 3000;
            lon.push(119.0 + f64::from(k % 60) * 0.0004);
            lat.push(25.4 + f64::from(k / 60) * 0.00035);
        }
        lon.extend_from_within(..50);
        lat.extend_from_within(..50);
        (lon, lat)
    }

    fn check(lon: &[f64], lat: &[f64], c: &PointCells) {
        assert!(c.stacks.as_slice().windows(2).all(|w| w[0] < w[1]));
        let mut used = vec![false; c.stacks.len()];
        for p in 0..lon.len() {
            assert_eq!(c.fine[p], cell_at(lon[p], lat[p], FINE), "point {p}");
            used[c.stack[p] as usize] = true;
            for r in TILE_RESOLUTIONS {
                let res = Resolution::try_from(r).unwrap();
                assert_eq!(
                    c.stacks.cell(c.stack[p], r),
                    cell_at(lon[p], lat[p], res),
                    "point {p} at {r}"
                );
            }
        }
        assert!(used.into_iter().all(|u| u), "every stack holds a point");
    }

    #[test]
    fn every_cell_is_the_one_holding_the_point() {
        let (lon, lat) = points();
        let n = lon.len() as u32;
        // Any order gives the same cells: the indexer's cache only saves work.
        let spatial = PointCells::compute(&lon, &lat, &(0..n).collect::<Vec<_>>());
        check(&lon, &lat, &spatial);
        let reversed = PointCells::compute(&lon, &lat, &(0..n).rev().collect::<Vec<_>>());
        assert_eq!(reversed.fine, spatial.fine);
        assert_eq!(reversed.stack, spatial.stack);
        assert_eq!(reversed.stacks.as_slice(), spatial.stacks.as_slice());
        // Stacks are far fewer than points, and coarse cells are not the
        // parents of the fine ones for some of them.
        assert!(
            spatial.stacks.len() < lon.len() / 2,
            "{}",
            spatial.stacks.len()
        );
        let not_parent = (0..lon.len())
            .filter(|&p| {
                let r8 = spatial.stacks.cell(spatial.stack[p], 8);
                spatial.fine[p].parent(Resolution::Eight) != Some(r8)
            })
            .count();
        assert!(not_parent > 0, "the lattice crosses res-8 edges");
    }

    #[test]
    fn settling_gives_the_table_a_fresh_computation_gives() {
        let (lon, lat) = points();
        let n = lon.len();
        let all: Vec<u32> = (0..n as u32).collect();
        let base = PointCells::compute(&lon[..2000], &lat[..2000], &all[..2000]);
        // The first 1,500 points stay, the others are replaced by new ones
        // (some in stacks the base has, some not).
        let (new_fine, new_stacks) = PointCells::of_points(&lon[2000..], &lat[2000..]);
        let mut stack: Vec<u32> = base.stack[..1500].to_vec();
        stack.extend((0..new_stacks.len()).map(|k| (base.stacks.len() + k) as u32));
        let stacks = PointCells::settle(&mut stack, &base.stacks, &new_stacks);
        let (kl, kt): (Vec<f64>, Vec<f64>) =
            (0..1500).chain(2000..n).map(|p| (lon[p], lat[p])).unzip();
        let mut fine = base.fine[..1500].to_vec();
        fine.extend(new_fine);
        let settled = PointCells {
            fine,
            stack,
            stacks,
        };
        check(&kl, &kt, &settled);
        let fresh = PointCells::compute(&kl, &kt, &(0..kl.len() as u32).collect::<Vec<_>>());
        assert_eq!(settled.stacks.as_slice(), fresh.stacks.as_slice());
        assert_eq!(settled.stack, fresh.stack);
        assert!(!settled.stacks.same(&base.stacks));
        // Only stacks the table has, every one still used: shared.
        let mut same: Vec<u32> = base.stack.clone();
        let again: Vec<CellStack> = (0..3)
            .map(|p| base.stacks.as_slice()[base.stack[p] as usize])
            .collect();
        same.extend((0..3).map(|k| (base.stacks.len() + k) as u32));
        let kept = PointCells::settle(&mut same, &base.stacks, &again);
        assert!(kept.same(&base.stacks));
        assert_eq!(&same[2000..], &base.stack[..3]);
    }
}
