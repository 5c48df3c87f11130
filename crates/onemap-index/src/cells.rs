//! The H3 cells every point carries: its cell at [`FINE_RESOLUTION`] and,
//! through a *stack* number, its cells at every resolution hexagon tiles
//! draw ([`TILE_RESOLUTIONS`]). Each is the cell that contains the point at
//! that resolution (`latLngToCell`), never a parent of a finer cell.
//!
//! A stack is one combination of cells, one per tile resolution, that holds
//! at least one point. Storing each point's six cells would cost 48 bytes a
//! point (48 MB for the full city's 1,000,000 events); its stack number
//! costs 4, plus the table of distinct stacks, shared by snapshots whose
//! points fill the same ones (434,193 stacks there: 21 MB). The tiles count
//! hexagons per stack, and event stats at these resolutions read the cell
//! from the table, as fast as the parents they replace. Resolution 11,
//! asked for by stats and hot spots only, is computed when asked for (see
//! [`CellAt`]): storing it would cost 8 bytes a point for a rare question.
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
    /// Bit `r - 5` is set where the point's cell at resolution `r` (5 to
    /// 11) is not the parent of its fine cell. The parent is right for most
    /// points (about 95 % at resolution 8), so a query reads the stack
    /// table (a random read), or computes the cell at resolution 11, only
    /// for the others.
    pub(crate) not_parent: Vec<u8>,
}

/// The bit of [`PointCells::not_parent`] for resolution `r`.
#[inline]
fn bit(r: u8) -> u8 {
    1 << (r - TILE_RESOLUTIONS.start())
}

/// The cells of a few points, in their order, before they are numbered
/// into a table.
pub(crate) struct FreshCells {
    pub(crate) fine: Vec<CellIndex>,
    pub(crate) stacks: Vec<CellStack>,
    pub(crate) not_parent: Vec<u8>,
}

/// The resolutions one projection of a point is turned into cells at:
/// every tile resolution, 11, then the fine one.
fn resolutions() -> impl Iterator<Item = Resolution> + Clone {
    TILE_RESOLUTIONS
        .map(|r| Resolution::try_from(r).expect("a valid resolution"))
        .chain([Resolution::Eleven, FINE])
}

/// A point's stack, fine cell and [`PointCells::not_parent`] bits. The
/// indexer projects the point once for all resolutions and skips the rest
/// of the work at a resolution where the point lies in the same cell as the
/// previous one.
#[inline]
fn cells_of(ix: &mut LatLngIndexer, lon: f64, lat: f64) -> (CellStack, CellIndex, u8) {
    let ll = LatLng::new(lat, lon).expect("coordinates are validated before they reach H3");
    let mut it = ix.to_cells(ll, resolutions());
    let stack: CellStack = std::array::from_fn(|_| it.next().expect("a cell per tile resolution"));
    let eleven = it.next().expect("the cell at 11");
    let fine = it.next().expect("the fine cell");
    let mut bits = 0;
    for c in stack.into_iter().chain([eleven]) {
        if fine.parent(c.resolution()) != Some(c) {
            bits |= bit(u8::from(c.resolution()));
        }
    }
    (stack, fine, bits)
}

/// Positions sorted by the Morton code of their lon/lat (at about a metre),
/// so that points close together mostly come together.
fn z_order(lon: &[f64], lat: &[f64]) -> Vec<u32> {
    // Spreads the low 32 bits of `x` to the even bits.
    fn spread(mut x: u64) -> u64 {
        x &= 0xFFFF_FFFF;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        (x | (x << 1)) & 0x5555_5555_5555_5555
    }
    let q = |v: f64, lo: f64| ((v - lo) * 1e5) as u64;
    let mut keyed: Vec<(u64, u32)> = lon
        .par_iter()
        .zip(lat.par_iter())
        .enumerate()
        .map(|(i, (&x, &y))| (spread(q(x, -180.0)) | spread(q(y, -90.0)) << 1, i as u32))
        .collect();
    keyed.par_sort_unstable();
    keyed.into_par_iter().map(|k| k.1).collect()
}

/// How many points one task of [`PointCells::compute`] takes.
const CHUNK: usize = 4096;

impl PointCells {
    /// The cells of every point. Points are visited in Z-order (Morton
    /// order of their positions), so most share their coarse cells with
    /// the point before, which the indexer answers without work: on the
    /// full city's 1,000,000 events that halves the cost of visiting them
    /// in storage order.
    pub(crate) fn compute(lon: &[f64], lat: &[f64]) -> PointCells {
        Self::compute_in(lon, lat, &z_order(lon, lat))
    }

    /// [`PointCells::compute`], visiting the points in `order` (a
    /// permutation of the positions).
    fn compute_in(lon: &[f64], lat: &[f64], order: &[u32]) -> PointCells {
        /// The points of one task: their fine cells and their stacks as
        /// runs (consecutive points in one stack are one run).
        struct Chunk {
            fine: Vec<CellIndex>,
            not_parent: Vec<u8>,
            /// Per point of the chunk, its run.
            run: Vec<u32>,
            runs: Vec<CellStack>,
        }
        let chunks: Vec<Chunk> = order
            .par_chunks(CHUNK)
            .map(|ps| {
                let mut ix = LatLngIndexer::default();
                let mut c = Chunk {
                    fine: Vec::with_capacity(ps.len()),
                    not_parent: Vec::with_capacity(ps.len()),
                    run: Vec::with_capacity(ps.len()),
                    runs: Vec::new(),
                };
                for &p in ps {
                    let (s, f, bits) = cells_of(&mut ix, lon[p as usize], lat[p as usize]);
                    c.fine.push(f);
                    c.not_parent.push(bits);
                    if c.runs.last() != Some(&s) {
                        c.runs.push(s);
                    }
                    c.run.push((c.runs.len() - 1) as u32);
                }
                c
            })
            .collect();
        // Runs numbered across chunks, sorted by stack: equal stacks come
        // together and get one number.
        let first_run: Vec<u32> = chunks
            .iter()
            .scan(0u32, |n, c| {
                let first = *n;
                *n += c.runs.len() as u32;
                Some(first)
            })
            .collect();
        let mut keyed: Vec<(CellStack, u32)> = chunks
            .iter()
            .zip(&first_run)
            .flat_map(|(c, &f)| c.runs.iter().zip(f..).map(|(s, r)| (*s, r)))
            .collect();
        keyed.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut table: Vec<CellStack> = Vec::new();
        let mut stack_of_run = vec![0u32; keyed.len()];
        for (s, r) in keyed {
            if table.last() != Some(&s) {
                table.push(s);
            }
            stack_of_run[r as usize] = (table.len() - 1) as u32;
        }
        // Where each position comes in `order`.
        let mut rank = vec![0u32; lon.len()];
        for (i, &p) in order.iter().enumerate() {
            rank[p as usize] = i as u32;
        }
        let at = |r: u32| {
            let (k, i) = (r as usize / CHUNK, r as usize % CHUNK);
            (&chunks[k], k, i)
        };
        let (fine, not_parent) = rank
            .par_iter()
            .map(|&r| {
                let (c, _, i) = at(r);
                (c.fine[i], c.not_parent[i])
            })
            .unzip();
        let stack = rank
            .par_iter()
            .map(|&r| {
                let (c, k, i) = at(r);
                stack_of_run[(first_run[k] + c.run[i]) as usize]
            })
            .collect();
        PointCells {
            fine,
            stack,
            stacks: CellStacks(Arc::new(table)),
            not_parent,
        }
    }

    /// The cells of a few points, in their order (no cache worth keeping).
    pub(crate) fn of_points(lon: &[f64], lat: &[f64]) -> FreshCells {
        let mut ix = LatLngIndexer::default();
        let mut fresh = FreshCells {
            fine: Vec::with_capacity(lon.len()),
            stacks: Vec::with_capacity(lon.len()),
            not_parent: Vec::with_capacity(lon.len()),
        };
        for (&x, &y) in lon.iter().zip(lat) {
            let (s, f, bits) = cells_of(&mut ix, x, y);
            fresh.fine.push(f);
            fresh.stacks.push(s);
            fresh.not_parent.push(bits);
        }
        fresh
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

/// Where the cell of a point at one resolution comes from.
pub(crate) enum CellAt<'a> {
    /// The fine cell itself.
    Fine(&'a [CellIndex]),
    /// The parent of the fine cell, unless the point's bit says it is not
    /// the point's cell: then its stack (tile resolutions), or
    /// `latLngToCell` there and then (resolution 11).
    Parent {
        res: Resolution,
        fine: &'a [CellIndex],
        not_parent: &'a [u8],
        /// Stack numbers and table, at a tile resolution.
        stacks: Option<(&'a [u32], &'a CellStacks)>,
        lon: &'a [f64],
        lat: &'a [f64],
    },
}

impl CellAt<'_> {
    /// The cell holding point `p`.
    #[inline]
    pub(crate) fn get(&self, p: usize) -> CellIndex {
        match *self {
            CellAt::Fine(fine) => fine[p],
            CellAt::Parent {
                res,
                fine,
                not_parent,
                stacks,
                lon,
                lat,
            } => {
                if not_parent[p] & bit(u8::from(res)) == 0 {
                    return fine[p].parent(res).expect("a coarser resolution");
                }
                match stacks {
                    Some((stack, stacks)) => stacks.cell(stack[p], u8::from(res)),
                    None => crate::h3::cell_at(lon[p], lat[p], res),
                }
            }
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
                let want = cell_at(lon[p], lat[p], res);
                assert_eq!(c.stacks.cell(c.stack[p], r), want, "point {p} at {r}");
            }
            for r in 5..=11 {
                let res = Resolution::try_from(r).unwrap();
                let want = cell_at(lon[p], lat[p], res);
                let at = CellAt::Parent {
                    res,
                    fine: &c.fine,
                    not_parent: &c.not_parent,
                    stacks: (r <= 10).then_some((&c.stack[..], &c.stacks)),
                    lon,
                    lat,
                };
                assert_eq!(at.get(p), want, "point {p} at {r}");
                let flagged = c.not_parent[p] & bit(r) != 0;
                assert_eq!(flagged, c.fine[p].parent(res) != Some(want));
            }
        }
        assert!(used.into_iter().all(|u| u), "every stack holds a point");
    }

    #[test]
    fn every_cell_is_the_one_holding_the_point() {
        let (lon, lat) = points();
        let n = lon.len() as u32;
        // Any order gives the same cells: the indexer's cache only saves work.
        let spatial = PointCells::compute(&lon, &lat);
        check(&lon, &lat, &spatial);
        let reversed = PointCells::compute_in(&lon, &lat, &(0..n).rev().collect::<Vec<_>>());
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
        let flagged = spatial
            .not_parent
            .iter()
            .filter(|&&m| m & (1 << 3) != 0)
            .count();
        assert_eq!(flagged, not_parent);
    }

    #[test]
    fn settling_gives_the_table_a_fresh_computation_gives() {
        let (lon, lat) = points();
        let n = lon.len();
        let all: Vec<u32> = (0..n as u32).collect();
        let base = PointCells::compute_in(&lon[..2000], &lat[..2000], &all[..2000]);
        // The first 1,500 points stay, the others are replaced by new ones
        // (some in stacks the base has, some not).
        let new = PointCells::of_points(&lon[2000..], &lat[2000..]);
        let mut stack: Vec<u32> = base.stack[..1500].to_vec();
        stack.extend((0..new.stacks.len()).map(|k| (base.stacks.len() + k) as u32));
        let stacks = PointCells::settle(&mut stack, &base.stacks, &new.stacks);
        let (kl, kt): (Vec<f64>, Vec<f64>) =
            (0..1500).chain(2000..n).map(|p| (lon[p], lat[p])).unzip();
        let mut fine = base.fine[..1500].to_vec();
        fine.extend(new.fine);
        let mut not_parent = base.not_parent[..1500].to_vec();
        not_parent.extend(new.not_parent);
        let settled = PointCells {
            fine,
            stack,
            stacks,
            not_parent,
        };
        check(&kl, &kt, &settled);
        let fresh = PointCells::compute(&kl, &kt);
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
