//! The demo year: departments' plans for every enterprise and school of a
//! city, and enterprises' and schools' requests, deterministic from a seed.
//!
//! Sizing follows the seed figures of Putian: the large enterprises
//! (规上企业) of the reference town (西天尾镇) get exactly
//! [`DemoConfig::reference_plans`] plans in the year (793), shared among them
//! by size and hazard; every other town's large enterprises get the same
//! rate each, and the other enterprises a few plans a year. Overlap comes
//! the way it does in life: departments' campaigns (春节前安全大检查,
//! 安全生产月, 消防宣传月 …) fall in the same weeks, and each department plans
//! by the month or the fortnight. Schools get about two plans to enter a
//! month from the 14 kinds of department that go into schools (98 in a
//! city of 7 districts): inspections in each term, talks on themed days.

mod enterprises;
mod schools;

use crate::{CoordError, Date, Plan, Request, Sites, Window};
use onemap_core::AreaId;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How to make the demo year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoConfig {
    pub seed: u64,
    pub year: i32,
    /// The town whose large enterprises set the rate (西天尾镇).
    pub reference_town: String,
    /// Plans a year for the reference town's large enterprises, together.
    pub reference_plans: u32,
    /// Plans a year for each large enterprise when the reference town is
    /// missing or holds fewer than `min_reference_large` of them (a small
    /// city): by default the full-scale rate, 793 plans over 西天尾镇's 14.
    pub plans_per_large: f64,
    /// Large enterprises the reference town must hold to set the rate.
    pub min_reference_large: usize,
    /// Mean plans a year for each other enterprise (at most 30).
    pub plans_per_small: f64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: 1,
            year: 2023,
            reference_town: "西天尾镇".into(),
            reference_plans: 793,
            plans_per_large: 56.6,
            min_reference_large: 5,
            plans_per_small: 1.0,
        }
    }
}

/// A city's demo year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demo {
    pub config: DemoConfig,
    pub sites: Sites,
    /// The reference town, when the city has it with enough large
    /// enterprises to set the rate.
    pub reference: Option<AreaId>,
    /// Plans a year each large enterprise gets.
    pub plans_per_large: f64,
    /// Ascending by id; enterprises' first, then schools'.
    pub plans: Vec<Plan>,
    /// Ascending by id.
    pub requests: Vec<Request>,
}

impl Demo {
    /// The same year with only the plans and requests of `scope`'s
    /// enterprises and schools (every site is kept, for names and pushes).
    /// Each target is coordinated on its own, so the scope's figures do not
    /// change.
    pub fn restrict(mut self, scope: crate::Scope) -> Demo {
        let keep = |t: crate::Target| {
            self.sites
                .place_of(t)
                .is_some_and(|(town, district)| scope.holds(town, district))
        };
        let plans = self
            .plans
            .iter()
            .filter(|p| keep(p.target))
            .cloned()
            .collect();
        let requests = self
            .requests
            .iter()
            .filter(|r| keep(r.target))
            .cloned()
            .collect();
        self.plans = plans;
        self.requests = requests;
        self
    }
}

/// Makes the demo year for the enterprises and schools of `sites`.
pub fn generate(sites: Sites, config: &DemoConfig) -> Result<Demo, CoordError> {
    if !(1971..=2199).contains(&config.year) {
        return Err(CoordError::BadYear(config.year));
    }
    for (what, v, max) in [
        ("plans_per_large", config.plans_per_large, 400.0),
        ("plans_per_small", config.plans_per_small, 30.0),
        (
            "reference_plans",
            f64::from(config.reference_plans),
            1_000_000.0,
        ),
    ] {
        if !(v.is_finite() && (0.0..=max).contains(&v)) {
            return Err(CoordError::UnknownValue {
                kind: "demo setting",
                value: format!("{what} = {v}"),
                expected: format!("a number from 0 to {max}"),
            });
        }
    }
    let reference = sites.town_named(&config.reference_town).map(|t| t.id);
    let large_in_ref = reference.map_or(0, |r| {
        sites
            .enterprises
            .iter()
            .filter(|e| e.large && e.town == r)
            .count()
    });
    let calibrated = large_in_ref >= config.min_reference_large.max(1);
    let reference = reference.filter(|_| calibrated);
    let rate = if calibrated {
        f64::from(config.reference_plans) / large_in_ref as f64
    } else {
        config.plans_per_large
    };
    let mut ids = Ids {
        plan: 1,
        request: 1,
    };
    let mut plans = Vec::new();
    let mut requests = Vec::new();
    enterprises::plans(&sites, config, rate, reference, &mut ids, &mut plans)?;
    enterprises::requests(&sites, config, &mut ids, &mut requests)?;
    schools::plans(&sites, config, &mut ids, &mut plans)?;
    schools::requests(&sites, config, &mut ids, &mut requests)?;
    Ok(Demo {
        config: config.clone(),
        sites,
        reference,
        plans_per_large: rate,
        plans,
        requests,
    })
}

/// The next free ids.
struct Ids {
    plan: u64,
    request: u64,
}

impl Ids {
    fn plan(&mut self) -> u64 {
        self.plan += 1;
        self.plan - 1
    }
    fn request(&mut self) -> u64 {
        self.request += 1;
        self.request - 1
    }
}

/// SplitMix64: mixes the seed with a stream and an id, so every enterprise
/// and school draws from its own generator whatever the others do.
pub(crate) fn mix(seed: u64, stream: u64, id: u64) -> u64 {
    let mut z = seed
        .wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(id.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) from a mix.
pub(crate) fn unit(seed: u64, stream: u64, id: u64) -> f64 {
    (mix(seed, stream, id) >> 11) as f64 / (1u64 << 53) as f64
}

fn rng(seed: u64, stream: u64, id: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed, stream, id))
}

/// The window from `(m1, d1)` to `(m2, d2)` of `year`, each end moved by
/// `shift` days and kept inside the year.
fn dates(
    year: i32,
    (m1, d1): (u32, u32),
    (m2, d2): (u32, u32),
    shift: i32,
) -> Result<Window, CoordError> {
    let first = Date::year_start(year)?;
    let last = Date::from_ymd(year, 12, 31)?;
    let s = Date::from_ymd(year, m1, d1)?
        .plus(shift)
        .max(first)
        .min(last);
    let e = Date::from_ymd(year, m2, d2)?.plus(shift).max(s).min(last);
    Window::new(s, e)
}
