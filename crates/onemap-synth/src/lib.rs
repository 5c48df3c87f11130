//! A deterministic synthetic city shaped like Putian.
//!
//! [`generate`] turns a [`SynthConfig`] (seed, scale, event count) into a
//! [`CityData`]: the strict area tree (7 districts, 54 towns, 973 villages,
//! 10,200 grids, 130,000 units at scale 1) and the thematic layers (events,
//! ships, heritage points, idle homesteads, enterprises, schools).
//!
//! How it works: the land is a hand-drawn outline roughened by noise on a
//! hexagonal [`lattice`]; every area is a union of lattice cells cut by
//! competitive region growing ([`partition`]); boundaries are traced from
//! the cells ([`trace`]), so siblings share their edges exactly and every
//! level tiles its parent with no gap or overlap. The same seed always gives
//! the same city, bit for bit, whatever the thread count.

mod geography;
pub mod lattice;
mod layers;
pub mod lists;
pub mod names;
pub mod partition;
mod trace;
mod tree;

use onemap_core::{CityData, CityMeta};
use thiserror::Error;

pub use geography::{in_ring, CITY_CENTRE, SEA};
pub use tree::Skeleton;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub seed: u64,
    /// 1.0 is the real scale; 0.02 makes a small city with the same structure
    /// (all districts and towns, fewer villages, grids, units and features).
    pub scale: f64,
    /// Number of events, exactly; by default 1,000,000 × scale. The busy
    /// community's history and the recurring hot spots are part of it (hot
    /// spots are left out when they would take more than half of it).
    pub events: Option<u64>,
    /// When the event history ends (Unix seconds): midnight China time after
    /// its last day. [`HISTORY_END`] by default; `onemap synth --until DATE`.
    pub history_end: i64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            scale: 1.0,
            events: None,
            history_end: HISTORY_END,
        }
    }
}

/// Counts at scale 1.
pub const FULL_VILLAGES: u32 = 973;
pub const FULL_GRIDS: u32 = 10_200;
pub const FULL_UNITS: u32 = 130_000;
pub const FULL_EVENTS: u64 = 1_000_000;
pub const MAX_EVENTS: u64 = 20_000_000;
/// Unix time of the end of the synthetic event history (2026-11-01 00:00 +08:00).
pub const HISTORY_END: i64 = 1_793_462_400;
/// The history may end from 2020-01-01 to 2100-01-01 (China time).
pub const HISTORY_END_MIN: i64 = 1_577_808_000;
pub const HISTORY_END_MAX: i64 = 4_102_416_000;
/// Length of the event history: three years.
pub const HISTORY_SECONDS: i64 = 3 * 365 * 86_400;

#[derive(Debug, Error, PartialEq)]
pub enum SynthError {
    #[error("scale must be a number in (0, 1], got {0}")]
    BadScale(f64),
    #[error("events must be at most {MAX_EVENTS}, got {0}")]
    TooManyEvents(u64),
    #[error("the history must end between 2020-01-01 and 2100-01-01, got Unix time {0}")]
    BadHistoryEnd(i64),
}

impl SynthConfig {
    pub fn validate(&self) -> Result<(), SynthError> {
        if !(self.scale.is_finite() && self.scale > 0.0 && self.scale <= 1.0) {
            return Err(SynthError::BadScale(self.scale));
        }
        if let Some(n) = self.events {
            if n > MAX_EVENTS {
                return Err(SynthError::TooManyEvents(n));
            }
        }
        if !(HISTORY_END_MIN..=HISTORY_END_MAX).contains(&self.history_end) {
            return Err(SynthError::BadHistoryEnd(self.history_end));
        }
        Ok(())
    }

    /// 973 × scale, but at least one per town and each town's named
    /// villages (56).
    pub fn villages(&self) -> u32 {
        ((f64::from(FULL_VILLAGES) * self.scale).round() as u32).max(geography::min_villages())
    }
    pub fn grids(&self) -> u32 {
        ((f64::from(FULL_GRIDS) * self.scale).round() as u32).max(self.villages())
    }
    pub fn units(&self) -> u32 {
        ((f64::from(FULL_UNITS) * self.scale).round() as u32).max(self.grids())
    }
    pub fn event_count(&self) -> u64 {
        self.events
            .unwrap_or(((FULL_EVENTS as f64) * self.scale).round() as u64)
    }
}

/// Progress of a long generation: (step name, steps done, steps in all).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// Generates a whole city.
pub fn generate(cfg: &SynthConfig) -> Result<(CityMeta, CityData), SynthError> {
    generate_with_progress(cfg, &|_, _, _| {})
}

/// [`generate`], reporting each step as it starts.
pub fn generate_with_progress(
    cfg: &SynthConfig,
    progress: Progress,
) -> Result<(CityMeta, CityData), SynthError> {
    cfg.validate()?;
    let total = 9;
    progress("land and districts", 0, total);
    let sk = Skeleton::build(cfg, &|step, i| progress(step, i, total));
    progress("area boundaries", 6, total);
    let areas = sk.areas();
    progress("events", 7, total);
    let mut city = CityData {
        areas,
        ..Default::default()
    };
    layers::populate(&sk, cfg, &mut city);
    progress("done", 9, total);
    let meta = CityMeta {
        name: onemap_core::SYNTHETIC_PUTIAN.into(),
        seed: cfg.seed,
        scale: cfg.scale,
        extent: onemap_core::CITY_EXTENT,
        expected: expected_counts(&city),
        history_end: Some(cfg.history_end),
    };
    Ok((meta, city))
}

fn expected_counts(city: &CityData) -> std::collections::BTreeMap<String, u64> {
    use onemap_core::{Layer, Level};
    let mut m = std::collections::BTreeMap::new();
    for l in Level::ALL {
        m.insert(
            Layer::for_level(l).as_str().to_string(),
            city.areas.level(l).len() as u64,
        );
    }
    m.insert("events".into(), city.events.len() as u64);
    m.insert("ships".into(), city.ships.len() as u64);
    m.insert("heritage".into(), city.heritage.len() as u64);
    m.insert("homesteads".into(), city.homesteads.len() as u64);
    m.insert("enterprises".into(), city.enterprises.len() as u64);
    m.insert("schools".into(), city.schools.len() as u64);
    m
}
