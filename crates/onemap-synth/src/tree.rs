//! The skeleton of the city: lattice, land, density and the five levels of
//! the area tree as cell assignments, with ids, names and leaders.

use crate::geography::{
    in_ring, min_villages_of, named_village, BUSY_TOWN, CITY_CENTRE, DISTRICTS, MAINLAND, MEIZHOU,
    NAMED_VILLAGES, NANRI, SEA,
};
use crate::lattice::{mix, Lattice};
use crate::names;
use crate::partition::{
    allocate, cells_by_region, grow_level, land_mask, GrowParams, LevelCut, NONE,
};
use crate::trace::trace_regions;
use crate::SynthConfig;
use onemap_core::{Area, AreaId, AreaTree, Level, CITY_EXTENT};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashSet;

/// Lattice cells per unit, on average.
const CELLS_PER_UNIT: f64 = 12.0;

/// Urban centres: (lon, lat, peak weight, radius in degrees).
const CENTRES: &[(f64, f64, f64, f64)] = &[
    (CITY_CENTRE.0, CITY_CENTRE.1, 7.0, 0.05),
    (118.69, 25.36, 4.0, 0.04),
    (119.11, 25.46, 4.0, 0.03),
    (119.10, 25.32, 2.5, 0.03),
    (119.23, 25.22, 1.5, 0.03),
    (119.125, 25.075, 1.5, 0.02),
];

pub struct Skeleton {
    pub seed: u64,
    pub lattice: Lattice,
    pub land: Vec<bool>,
    pub weight: Vec<f32>,
    /// One cut per level, district first.
    pub cuts: Vec<LevelCut>,
    pub ids: Vec<Vec<AreaId>>,
    pub names: Vec<Vec<String>>,
    pub leaders: Vec<Vec<Option<String>>>,
    /// Cells of each unit, ascending.
    pub unit_cells: Vec<Vec<u32>>,
    /// Whether each village is urban (a community, 社区) rather than rural (村).
    pub village_urban: Vec<bool>,
}

fn ring_area_m2(ring: &[(f64, f64)]) -> f64 {
    let mut a = 0.0;
    for i in 0..ring.len() {
        let (x1, y1) = ring[i];
        let (x2, y2) = ring[(i + 1) % ring.len()];
        a += x1 * y2 - x2 * y1;
    }
    let lat = ring[0].1.to_radians();
    (a / 2.0).abs() * 111_320.0 * lat.cos() * 110_574.0
}

impl Skeleton {
    pub fn build(cfg: &SynthConfig, step: &(dyn Fn(&str, u64) + Sync)) -> Skeleton {
        let seed = cfg.seed;
        let land_m2 = ring_area_m2(MAINLAND) + ring_area_m2(MEIZHOU) + ring_area_m2(NANRI);
        let cells = f64::from(cfg.units()) * CELLS_PER_UNIT;
        let edge = (land_m2 / cells / (1.5 * 3f64.sqrt())).sqrt();
        let e = CITY_EXTENT;
        let lattice = Lattice::new(
            e.min_lon,
            e.min_lat,
            e.max_lon,
            e.max_lat,
            edge,
            mix(seed ^ 0x1A77),
        );
        let land = land_mask(&lattice, seed);
        let weight: Vec<f32> = (0..lattice.len() as u32)
            .into_par_iter()
            .map(|c| {
                let (lon, lat) = lattice.center_lonlat(c);
                let mut w = 1.0;
                for &(x, y, peak, r) in CENTRES {
                    let d2 = ((lon - x) * 0.906).powi(2) + (lat - y).powi(2);
                    w += peak * (-d2 / (r * r)).exp();
                }
                w as f32
            })
            .collect();
        let city: Vec<u32> = land.iter().map(|&l| if l { 0 } else { NONE }).collect();

        // Districts grow from fixed seeds at their real places, at their own speeds.
        step("districts", 1);
        let land_cells: Vec<u32> = (0..lattice.len() as u32)
            .filter(|&c| land[c as usize])
            .collect();
        let nearest_land = |(lon, lat): (f64, f64)| -> u32 {
            *land_cells
                .iter()
                .min_by(|&&a, &&b| {
                    let da = dist2(lattice.center_lonlat(a), (lon, lat));
                    let db = dist2(lattice.center_lonlat(b), (lon, lat));
                    da.total_cmp(&db).then(a.cmp(&b))
                })
                .expect("the city has land")
        };
        let fixed: Vec<(u32, f64)> = DISTRICTS
            .iter()
            .map(|d| (nearest_land(d.seed), d.speed))
            .collect();
        let params = |level: u64, freq: f64, fixed_seeds| GrowParams {
            seed,
            level,
            roughness_freq: freq,
            weight: &weight,
            fixed_seeds,
        };
        let districts = grow_level(
            &lattice,
            &city,
            &[DISTRICTS.len() as u32],
            &params(0, 12.0, Some(vec![fixed])),
        );

        step("towns", 2);
        let town_counts: Vec<u32> = DISTRICTS.iter().map(|d| d.towns.len() as u32).collect();
        let towns = grow_level(
            &lattice,
            &districts.region,
            &town_counts,
            &params(1, 25.0, None),
        );

        step("villages", 3);
        // Each town has room for its named villages.
        let mins: Vec<u32> = towns
            .parent
            .iter()
            .zip(&towns.ordinal)
            .map(|(&d, &ord)| min_villages_of(town_name(d as usize, ord)))
            .collect();
        let counts = child_counts(&towns, &weight, &mins, cfg.villages());
        let villages = grow_level(&lattice, &towns.region, &counts, &params(2, 60.0, None));

        step("grids", 4);
        let counts = child_counts(
            &villages,
            &weight,
            &vec![1; villages.parent.len()],
            cfg.grids(),
        );
        let grids = grow_level(&lattice, &villages.region, &counts, &params(3, 150.0, None));

        step("units", 5);
        let counts = child_counts(&grids, &weight, &vec![1; grids.parent.len()], cfg.units());
        let units = grow_level(&lattice, &grids.region, &counts, &params(4, 0.0, None));
        let unit_cells = cells_by_region(&units.region, units.parent.len());

        let cuts = vec![districts, towns, villages, grids, units];
        let mut sk = Skeleton {
            seed,
            lattice,
            land,
            weight,
            cuts,
            ids: Vec::new(),
            names: Vec::new(),
            leaders: Vec::new(),
            unit_cells,
            village_urban: Vec::new(),
        };
        sk.name_areas();
        sk
    }

    fn name_areas(&mut self) {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed ^ 0x4E41_4D45));
        // Districts: in spec order (fixed seeds keep that order).
        let mut ids = vec![DISTRICTS
            .iter()
            .map(|d| AreaId::new(d.code).expect("valid district code"))
            .collect::<Vec<_>>()];
        let mut names = vec![DISTRICTS
            .iter()
            .map(|d| d.name.to_string())
            .collect::<Vec<_>>()];
        let mut leaders: Vec<Vec<Option<String>>> = vec![vec![None; DISTRICTS.len()]];
        for depth in 1..5 {
            let cut = &self.cuts[depth];
            let mut level_ids = Vec::with_capacity(cut.parent.len());
            let mut level_names = Vec::with_capacity(cut.parent.len());
            let mut level_leaders = Vec::with_capacity(cut.parent.len());
            let mut taken: HashSet<String> = HashSet::new();
            let mut last_parent = NONE;
            // Weight of each region, for urban/rural naming of villages.
            let region_weight = if depth == 2 {
                region_mean_weight(cut, &self.weight)
            } else {
                Vec::new()
            };
            for (i, (&p, &ord)) in cut.parent.iter().zip(&cut.ordinal).enumerate() {
                let pid = ids[depth - 1][p as usize];
                level_ids.push(AreaId::child_of(pid, ord));
                let pname = &names[depth - 1][p as usize];
                if p != last_parent {
                    taken.clear();
                    last_parent = p;
                }
                let name = match depth {
                    1 => town_name(p as usize, ord).to_string(),
                    2 => {
                        let urban = region_weight[i] > 2.0;
                        match named_village(pname, ord) {
                            Some(v) => {
                                taken.insert(v.to_string());
                                v.to_string()
                            }
                            None => {
                                let mut name = names::village_name(&mut rng, urban, &mut taken);
                                if is_named_village(&name) {
                                    // The named places are reserved city-wide. The
                                    // replacement comes from a stream of its own, so
                                    // every name and leader drawn after it stays as
                                    // it was.
                                    let mut own = ChaCha8Rng::seed_from_u64(mix(self.seed
                                        ^ 0x5245_5345_5256
                                        ^ mix(i as u64)));
                                    while is_named_village(&name) {
                                        name = names::village_name(&mut own, urban, &mut taken);
                                    }
                                }
                                name
                            }
                        }
                    }
                    3 => format!("{pname}第{ord}网格"),
                    _ => format!("{}{}单元", pname.replace('第', ""), ord),
                };
                level_names.push(name);
                level_leaders.push(if depth >= 3 {
                    Some(names::person(&mut rng))
                } else {
                    None
                });
            }
            ids.push(level_ids);
            names.push(level_names);
            leaders.push(level_leaders);
        }
        self.village_urban = names[2].iter().map(|n| n.ends_with("社区")).collect();
        self.ids = ids;
        self.names = names;
        self.leaders = leaders;
    }

    /// Index of the busy community (东星社区) among villages, if present.
    ///
    /// Found by its place in the tree, not by its name: it is the first
    /// village of its town ([`BUSY_TOWN`]), the one the named-place list
    /// gives its name to.
    pub fn busy_village(&self) -> Option<usize> {
        let town = self.names[1].iter().position(|n| n == BUSY_TOWN)?;
        let villages = &self.cuts[2];
        villages
            .parent
            .iter()
            .zip(&villages.ordinal)
            .position(|(&p, &ord)| p as usize == town && ord == 1)
    }

    /// The ancestor region index at `depth` of unit `u`.
    pub fn unit_ancestor(&self, u: usize, depth: usize) -> usize {
        let mut r = u;
        for d in (depth + 1..5).rev() {
            r = self.cuts[d].parent[r] as usize;
        }
        r
    }

    /// Whether a cell is water of the monitored sea.
    pub fn cell_is_sea(&self, c: u32) -> bool {
        if self.land[c as usize] {
            return false;
        }
        let (lon, lat) = self.lattice.center_lonlat(c);
        in_ring(SEA, lon, lat)
    }

    /// Builds the area tree with traced boundaries.
    pub fn areas(&self) -> AreaTree {
        let mut all = Vec::new();
        for (depth, level) in Level::ALL.into_iter().enumerate() {
            let cut = &self.cuts[depth];
            let geoms = trace_regions(&self.lattice, &cut.region, cut.parent.len());
            for (i, g) in geoms.into_iter().enumerate() {
                all.push(Area {
                    id: self.ids[depth][i],
                    level,
                    name: self.names[depth][i].clone(),
                    parent: if depth == 0 {
                        None
                    } else {
                        Some(self.ids[depth - 1][cut.parent[i] as usize])
                    },
                    leader: self.leaders[depth][i].clone(),
                    geometry: g,
                });
            }
        }
        AreaTree::from_areas(all)
    }
}

/// The name of the town with `ordinal` (from 1) in district `d` (districts
/// are in [`DISTRICTS`] order: their seeds are fixed).
fn town_name(d: usize, ordinal: u32) -> &'static str {
    let towns = DISTRICTS[d].towns;
    towns[(ordinal - 1) as usize % towns.len()]
}

/// Whether `name` is one of the named places, which only their own town's
/// first villages may carry.
fn is_named_village(name: &str) -> bool {
    NAMED_VILLAGES.iter().any(|&(_, v)| v == name)
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0) * 0.906).powi(2) + (a.1 - b.1).powi(2)
}

fn region_mean_weight(cut: &LevelCut, weight: &[f32]) -> Vec<f64> {
    let n = cut.parent.len();
    let mut sum = vec![0.0f64; n];
    let mut cnt = vec![0u32; n];
    for (c, &r) in cut.region.iter().enumerate() {
        if r != NONE {
            sum[r as usize] += f64::from(weight[c]);
            cnt[r as usize] += 1;
        }
    }
    sum.iter()
        .zip(&cnt)
        .map(|(s, &c)| s / f64::from(c.max(1)))
        .collect()
}

/// How many children each region of `cut` gets: `total` shared by weight,
/// at least `mins[r]` and at most one per cell (999 at most).
fn child_counts(cut: &LevelCut, weight: &[f32], mins: &[u32], total: u32) -> Vec<u32> {
    let n = mins.len();
    let mut w = vec![0.0f64; n];
    let mut cells = vec![0u32; n];
    for (c, &r) in cut.region.iter().enumerate() {
        if r != NONE {
            w[r as usize] += f64::from(weight[c]);
            cells[r as usize] += 1;
        }
    }
    let caps: Vec<u32> = cells.iter().map(|&c| c.min(999)).collect();
    allocate(&w, &caps, mins, total)
}
