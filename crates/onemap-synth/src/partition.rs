//! Cutting the land into the area tree: a land mask on the lattice, then
//! level by level, each parent's cells are shared among its children by
//! competitive region growing from seed cells. A cell is only ever claimed
//! from a neighbouring cell of the same child, so every child is connected
//! (except where its parent is split by water, see [`grow_level`]).

use crate::geography::{in_ring, MAINLAND, MEIZHOU, NANRI};
use crate::lattice::{mix, noise, Lattice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

pub const NONE: u32 = u32::MAX;

/// The land mask: warped hand-drawn outlines, specks of land dropped and
/// enclosed water filled, so the coast is a clean line.
pub fn land_mask(lat: &Lattice, seed: u64) -> Vec<bool> {
    let mut land: Vec<bool> = (0..lat.len() as u32)
        .into_par_iter()
        .map(|i| {
            let (lon, la) = lat.center_lonlat(i);
            let wx = lon
                + 0.014 * noise(seed ^ 11, lon, la, 9.0, 3)
                + 0.004 * noise(seed ^ 15, lon, la, 60.0, 2);
            let wy = la
                + 0.012 * noise(seed ^ 12, lon, la, 9.0, 3)
                + 0.004 * noise(seed ^ 16, lon, la, 60.0, 2);
            if in_ring(MAINLAND, wx, wy) {
                return true;
            }
            let ix = lon + 0.0025 * noise(seed ^ 13, lon, la, 40.0, 3);
            let iy = la + 0.0025 * noise(seed ^ 14, lon, la, 40.0, 3);
            in_ring(MEIZHOU, ix, iy) || in_ring(NANRI, ix, iy)
        })
        .collect();
    let min_land = (land.iter().filter(|&&l| l).count() / 3000).max(3);
    // Drop specks of land, fill enclosed water.
    for value in [true, false] {
        let comps = components(lat, |i| land[i as usize] == value);
        for comp in comps {
            let touches_border = comp.iter().any(|&c| {
                let (col, row) = lat.col_row(c);
                col == 0 || row == 0 || col + 1 == lat.cols || row + 1 == lat.rows
            });
            let flip = if value {
                comp.len() < min_land
            } else {
                !touches_border
            };
            if flip {
                for c in comp {
                    land[c as usize] = !value;
                }
            }
        }
    }
    land
}

/// Connected components (across cell edges) of the cells where `member` holds.
pub fn components(lat: &Lattice, member: impl Fn(u32) -> bool) -> Vec<Vec<u32>> {
    let mut seen = vec![false; lat.len()];
    let mut out = Vec::new();
    let mut queue = VecDeque::new();
    for start in 0..lat.len() as u32 {
        if seen[start as usize] || !member(start) {
            continue;
        }
        seen[start as usize] = true;
        queue.push_back(start);
        let mut comp = Vec::new();
        while let Some(c) = queue.pop_front() {
            comp.push(c);
            for n in lat.neighbors(c) {
                if !seen[n as usize] && member(n) {
                    seen[n as usize] = true;
                    queue.push_back(n);
                }
            }
        }
        out.push(comp);
    }
    out
}

/// Shares `total` children among parents in proportion to their weight,
/// at least `mins[p]` (and at least one) each and at most `caps[p]`, by
/// largest remainder.
pub fn allocate(weights: &[f64], caps: &[u32], mins: &[u32], total: u32) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    let quota: Vec<f64> = weights
        .iter()
        .map(|w| f64::from(total) * w / sum.max(f64::MIN_POSITIVE))
        .collect();
    let mut out: Vec<u32> = quota
        .iter()
        .zip(caps)
        .zip(mins)
        .map(|((q, &c), &m)| {
            let m = m.max(1);
            (q.floor() as u32).clamp(m, c.max(m))
        })
        .collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = quota[a] - quota[a].floor();
        let fb = quota[b] - quota[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    let mut assigned: u32 = out.iter().sum();
    // The minimums can overshoot: take back from the largest.
    while assigned > total {
        let Some(p) = (0..out.len())
            .filter(|&p| out[p] > mins[p].max(1))
            .max_by_key(|&p| (out[p], std::cmp::Reverse(p)))
        else {
            break;
        };
        out[p] -= 1;
        assigned -= 1;
    }
    while assigned < total {
        let before = assigned;
        for &p in &order {
            if assigned >= total {
                break;
            }
            if out[p] < caps[p] {
                out[p] += 1;
                assigned += 1;
            }
        }
        if assigned == before {
            break; // every parent is full
        }
    }
    out
}

/// One level of the tree: which child each cell belongs to, and per child
/// its parent and seed cell. Children are numbered per parent in seed order.
#[derive(Debug, Clone)]
pub struct LevelCut {
    pub region: Vec<u32>,
    pub parent: Vec<u32>,
    pub seed_cell: Vec<u32>,
    /// 1-based ordinal of each child within its parent.
    pub ordinal: Vec<u32>,
}

/// Cells of each region, ascending.
pub fn cells_by_region(region: &[u32], n: usize) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); n];
    for (c, &r) in region.iter().enumerate() {
        if r != NONE {
            out[r as usize].push(c as u32);
        }
    }
    out
}

pub struct GrowParams<'a> {
    pub seed: u64,
    pub level: u64,
    /// Cycles per degree of the noise that roughens boundaries (0 = none).
    pub roughness_freq: f64,
    /// Per-cell weight: seeds are drawn in proportion to it.
    pub weight: &'a [f32],
    /// Growth speed per parent-local child, when the caller fixes seeds.
    pub fixed_seeds: Option<Vec<Vec<(u32, f64)>>>,
}

/// Cuts every parent region into `counts[p]` children.
pub fn grow_level(
    lat: &Lattice,
    parent_region: &[u32],
    counts: &[u32],
    params: &GrowParams,
) -> LevelCut {
    let n_parents = counts.len();
    let by_parent = cells_by_region(parent_region, n_parents);
    let mut local_pos = vec![NONE; lat.len()];
    for cells in &by_parent {
        for (i, &c) in cells.iter().enumerate() {
            local_pos[c as usize] = i as u32;
        }
    }
    let results: Vec<(Vec<u32>, Vec<u32>)> = by_parent
        .par_iter()
        .enumerate()
        .map(|(p, cells)| {
            let seeds: Vec<(u32, f64)> = match &params.fixed_seeds {
                Some(s) => s[p].clone(),
                None => pick_seeds(cells, counts[p] as usize, params, p as u64)
                    .into_iter()
                    .map(|c| (c, 1.0))
                    .collect(),
            };
            let local = grow_one(
                lat,
                p as u32,
                cells,
                &seeds,
                parent_region,
                &local_pos,
                params,
            );
            (local, seeds.iter().map(|s| s.0).collect())
        })
        .collect();
    let mut region = vec![NONE; lat.len()];
    let mut parent = Vec::new();
    let mut seed_cell = Vec::new();
    let mut ordinal = Vec::new();
    for (p, ((local, seeds), cells)) in results.into_iter().zip(&by_parent).enumerate() {
        let base = parent.len() as u32;
        for (i, s) in seeds.iter().enumerate() {
            parent.push(p as u32);
            seed_cell.push(*s);
            ordinal.push(i as u32 + 1);
        }
        for (i, &c) in cells.iter().enumerate() {
            region[c as usize] = base + local[i];
        }
    }
    LevelCut {
        region,
        parent,
        seed_cell,
        ordinal,
    }
}

/// `k` distinct cells drawn in proportion to their weight (Efraimidis–Spirakis),
/// returned in ascending cell order so children are numbered west→east, south→north by row.
fn pick_seeds(cells: &[u32], k: usize, params: &GrowParams, p: u64) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(params.seed
        ^ mix(params.level)
        ^ mix(p.wrapping_add(0xA5A5))));
    let k = k.min(cells.len()).max(1);
    let mut keyed: Vec<(f64, u32)> = cells
        .iter()
        .map(|&c| {
            let u: f64 = rng.random::<f64>().max(1e-300);
            let w = f64::from(params.weight[c as usize]).max(1e-6);
            (u.ln() / w, c)
        })
        .collect();
    // Largest keys win: ln(u)/w is the log of u^(1/w).
    keyed.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut seeds: Vec<u32> = keyed[..k].iter().map(|x| x.1).collect();
    seeds.sort_unstable();
    seeds
}

/// Grows children from `seeds` over the cells of parent `p`; returns the
/// child (index into `seeds`) of each cell of `cells`. Parts of the parent
/// that no seed can reach (islands) join the child with the nearest seed.
fn grow_one(
    lat: &Lattice,
    p: u32,
    cells: &[u32],
    seeds: &[(u32, f64)],
    parent_region: &[u32],
    local_pos: &[u32],
    params: &GrowParams,
) -> Vec<u32> {
    let mut owner = vec![NONE; cells.len()];
    let mut heap: BinaryHeap<Reverse<(u64, u32, u32)>> = BinaryHeap::with_capacity(cells.len());
    for (i, &(c, _)) in seeds.iter().enumerate() {
        heap.push(Reverse((0, c, i as u32)));
    }
    let noise_seed = mix(params.seed ^ mix(params.level + 100));
    let step = |cell: u32, child: u32| -> u64 {
        let rough = if params.roughness_freq > 0.0 {
            let (lon, la) = lat.center_lonlat(cell);
            1.0 + 0.7 * noise(noise_seed, lon, la, params.roughness_freq, 3)
        } else {
            1.0
        };
        (1000.0 * rough / seeds[child as usize].1) as u64 + 1
    };
    while let Some(Reverse((cost, cell, child))) = heap.pop() {
        let li = local_pos[cell as usize] as usize;
        if owner[li] != NONE {
            continue;
        }
        owner[li] = child;
        for n in lat.neighbors(cell) {
            if parent_region[n as usize] == p && owner[local_pos[n as usize] as usize] == NONE {
                heap.push(Reverse((cost + step(n, child), n, child)));
            }
        }
    }
    // Unreached parts: flood each, give it to the child whose seed is nearest.
    for start in 0..cells.len() {
        if owner[start] != NONE {
            continue;
        }
        let (sx, sy) = lat.center_xy(cells[start]);
        let nearest = seeds
            .iter()
            .enumerate()
            .min_by_key(|(i, (c, _))| {
                let (x, y) = lat.center_xy(*c);
                (((x - sx) * (x - sx) * 3 + (y - sy) * (y - sy)) as u64, *i)
            })
            .map(|(i, _)| i as u32)
            .unwrap_or(0);
        let mut queue = VecDeque::from([cells[start]]);
        owner[start] = nearest;
        while let Some(c) = queue.pop_front() {
            for n in lat.neighbors(c) {
                if parent_region[n as usize] == p {
                    let li = local_pos[n as usize] as usize;
                    if owner[li] == NONE {
                        owner[li] = nearest;
                        queue.push_back(n);
                    }
                }
            }
        }
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocate_hits_total_with_bounds() {
        let a = allocate(&[1.0, 2.0, 7.0], &[100, 100, 100], &[1, 1, 1], 10);
        assert_eq!(a, vec![1, 2, 7]);
        let a = allocate(&[1.0, 1.0, 100.0], &[5, 5, 3], &[1, 1, 1], 20);
        assert_eq!(a.iter().sum::<u32>(), 13); // every cap reached
        let a = allocate(&[0.0, 1.0], &[9, 9], &[1, 1], 5);
        assert!(a[0] >= 1 && a.iter().sum::<u32>() == 5);
        // Minimums hold, taken back from the others.
        let a = allocate(&[1.0, 1.0, 1.0], &[9, 9, 9], &[1, 3, 1], 5);
        assert_eq!(a, vec![1, 3, 1]);
        let a = allocate(&[10.0, 1.0, 1.0], &[9, 9, 9], &[1, 3, 1], 6);
        assert!(a[1] == 3 && a.iter().sum::<u32>() == 6, "{a:?}");
    }
}
