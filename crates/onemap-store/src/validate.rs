//! Checks that a city is sound: counts as announced, ids unique and well
//! formed, every parent present, every geometry valid, every child inside
//! its parent, siblings not overlapping, and children covering their parent
//! with no gap. Points must lie in the unit they name.

use geo::{Area as _, BooleanOps, BoundingRect, Intersects, Validation};
use geo_types::{MultiPolygon, Point, Rect};
use onemap_core::{AreaTree, CityData, CityMeta, EventStatus, Level, SYNTHETIC_PUTIAN};
use rayon::prelude::*;
use rstar::{RTree, RTreeObject, AABB};
use std::collections::HashSet;
use std::fmt;

/// Relative tolerance on areas (degrees²) for overlap, containment and cover.
const AREA_TOLERANCE: f64 = 1e-7;
/// How many offenders a check lists.
const EXAMPLES: usize = 5;

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What was checked, for the report line.
    pub name: String,
    /// How many things were looked at.
    pub checked: u64,
    pub failures: u64,
    /// The first few offenders, readable.
    pub examples: Vec<String>,
}

/// The outcome of [`validate_city`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.checks.iter().all(|c| c.failures == 0)
    }
    pub fn failures(&self) -> u64 {
        self.checks.iter().map(|c| c.failures).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let mark = if c.failures == 0 { "ok  " } else { "FAIL" };
            writeln!(
                f,
                "{mark} {:<38} {:>9} checked, {:>6} failed",
                c.name, c.checked, c.failures
            )?;
            for e in &c.examples {
                writeln!(f, "       - {e}")?;
            }
        }
        if self.is_ok() {
            write!(f, "city is valid")
        } else {
            write!(f, "city is INVALID: {} problem(s)", self.failures())
        }
    }
}

struct Acc {
    name: String,
    checked: u64,
    failures: u64,
    examples: Vec<String>,
}

impl Acc {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            checked: 0,
            failures: 0,
            examples: Vec::new(),
        }
    }
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.failures += 1;
            if self.examples.len() < EXAMPLES {
                self.examples.push(what());
            }
        }
    }
    fn merge(&mut self, results: Vec<Option<String>>) {
        for r in results {
            self.check(r.is_none(), || r.unwrap_or_default());
        }
    }
    fn done(self) -> Check {
        Check {
            name: self.name,
            checked: self.checked,
            failures: self.failures,
            examples: self.examples,
        }
    }
}

/// Runs every check; `progress` is told the name of each as it starts.
pub fn validate_city(meta: &CityMeta, city: &CityData, progress: &(dyn Fn(&str) + Sync)) -> Report {
    let mut checks = Vec::new();
    progress("counts");
    checks.push(counts(meta, city));
    progress("ids and parents");
    checks.push(ids_and_parents(&city.areas));
    checks.push(feature_ids(city));
    progress("geometry validity");
    checks.push(validity(city));
    progress("children inside parents");
    checks.push(containment(&city.areas));
    progress("siblings overlapping");
    checks.push(overlaps(&city.areas));
    progress("children covering parents");
    checks.push(cover(&city.areas));
    progress("events in their units");
    checks.push(events_in_units(city));
    Report { checks }
}

/// Putian's real figures: districts, towns, villages, at least this many
/// grids, at least this many units.
const PUTIAN: [u64; 5] = [7, 54, 973, 10_000, 130_000];

/// The fewest villages the synthetic Putian has at any scale: one per town,
/// and 黄石镇 holds three named ones (常溪社区, 屏山村, 东阳村).
const MIN_VILLAGES: u64 = 56;

/// The area counts the synthetic Putian must have at `scale`, as `onemap
/// synth` scales the real figures (see `onemap_synth::SynthConfig`):
/// districts and towns never shrink, villages are 973 × scale rounded (at
/// least [`MIN_VILLAGES`]), grids and units at least 10,000 and 130,000 × scale
/// rounded. `None` if the scale is not in (0, 1].
fn putian_counts(scale: f64) -> Option<[u64; 5]> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 1.0) {
        return None;
    }
    let [districts, towns, villages, grids, units] = PUTIAN;
    let scaled = |n: u64| (n as f64 * scale).round() as u64;
    Some([
        districts,
        towns,
        scaled(villages).max(MIN_VILLAGES),
        scaled(grids),
        scaled(units),
    ])
}

fn counts(meta: &CityMeta, city: &CityData) -> Check {
    let figures = (meta.name == SYNTHETIC_PUTIAN).then(|| putian_counts(meta.scale));
    let name = match figures {
        Some(Some([d, t, v, g, u])) => format!(
            "layer counts as in city.json and as Putian's at scale {}: \
             {d} districts, {t} towns, {v} villages, {g}+ grids, {u}+ units",
            meta.scale
        ),
        Some(None) => format!(
            "layer counts as in city.json and as Putian's at scale {}",
            meta.scale
        ),
        None => "layer counts as in city.json, 7 districts, 54 towns".to_string(),
    };
    let mut acc = Acc::new(name);
    let actual = |name: &str| -> Option<u64> {
        Some(match name {
            "districts" => city.areas.level(Level::District).len(),
            "towns" => city.areas.level(Level::Town).len(),
            "villages" => city.areas.level(Level::Village).len(),
            "grids" => city.areas.level(Level::Grid).len(),
            "units" => city.areas.level(Level::Unit).len(),
            "events" => city.events.len(),
            "ships" => city.ships.len(),
            "heritage" => city.heritage.len(),
            "homesteads" => city.homesteads.len(),
            "enterprises" => city.enterprises.len(),
            "schools" => city.schools.len(),
            _ => return None,
        } as u64)
    };
    for (name, &want) in &meta.expected {
        let got = actual(name);
        acc.check(got == Some(want), || match got {
            Some(g) => format!("{name}: {g} found, {want} expected"),
            None => format!("{name}: not a layer of onemap"),
        });
    }
    let levels = [
        (Level::District, "districts", true),
        (Level::Town, "towns", true),
        (Level::Village, "villages", true),
        (Level::Grid, "grids", false),
        (Level::Unit, "units", false),
    ];
    match figures {
        // The synthetic Putian: its figures come from the real city, not
        // from the city.json written beside it.
        Some(Some(want)) => {
            for ((level, name, exact), want) in levels.into_iter().zip(want) {
                let got = city.areas.level(level).len() as u64;
                let ok = if exact { got == want } else { got >= want };
                acc.check(ok, || {
                    let bound = if exact { "" } else { "at least " };
                    format!(
                        "{got} {name}, the synthetic Putian at scale {} has {bound}{want}",
                        meta.scale
                    )
                });
            }
        }
        Some(None) => acc.check(false, || {
            format!(
                "scale {} in city.json is not in (0, 1], so the synthetic Putian's counts are unknown",
                meta.scale
            )
        }),
        // Any other city: Putian's districts and towns only.
        None => {
            for ((level, name, _), want) in levels.into_iter().zip(PUTIAN).take(2) {
                let got = city.areas.level(level).len() as u64;
                acc.check(got == want, || format!("{got} {name}, Putian has {want}"));
            }
        }
    }
    acc.done()
}

fn ids_and_parents(tree: &AreaTree) -> Check {
    let mut acc = Acc::new("area ids unique, parents present");
    acc.check(tree.duplicate_ids() == 0, || {
        format!("{} duplicate area id(s)", tree.duplicate_ids())
    });
    let mut has_child: HashSet<_> = HashSet::new();
    for a in tree.iter() {
        acc.check(a.id.level() == Some(a.level), || {
            format!(
                "{} {}: id does not have the digits of a {}",
                a.level, a.id, a.level
            )
        });
        match (a.level.parent(), a.parent) {
            (None, None) => {}
            (None, Some(p)) => acc.check(false, || format!("district {} has a parent {p}", a.id)),
            (Some(_), None) => acc.check(false, || format!("{} {} has no parent", a.level, a.id)),
            (Some(pl), Some(p)) => {
                let parent = tree.get(p);
                acc.check(parent.is_some_and(|x| x.level == pl), || {
                    format!(
                        "{} {} ({}): parent {p} is not an existing {pl}",
                        a.level, a.id, a.name
                    )
                });
                acc.check(a.id.parent() == Some(p), || {
                    format!("{} {}: parent {p} does not match its code", a.level, a.id)
                });
                has_child.insert(p);
            }
        }
    }
    for a in tree.iter().filter(|a| a.level != Level::Unit) {
        acc.check(has_child.contains(&a.id), || {
            format!("{} {} ({}) has no children", a.level, a.id, a.name)
        });
    }
    acc.done()
}

fn feature_ids(city: &CityData) -> Check {
    let mut acc = Acc::new("feature ids unique, events consistent");
    fn dupes(name: &str, ids: impl Iterator<Item = u64>, acc: &mut Acc) {
        let mut seen = HashSet::new();
        for id in ids {
            acc.check(seen.insert(id), || format!("{name}: id {id} used twice"));
        }
    }
    dupes("events", city.events.iter().map(|e| e.id), &mut acc);
    dupes(
        "ships",
        city.ships.iter().map(|s| u64::from(s.mmsi)),
        &mut acc,
    );
    dupes("heritage", city.heritage.iter().map(|h| h.id), &mut acc);
    dupes("homesteads", city.homesteads.iter().map(|h| h.id), &mut acc);
    dupes(
        "enterprises",
        city.enterprises.iter().map(|h| h.id),
        &mut acc,
    );
    dupes("schools", city.schools.iter().map(|h| h.id), &mut acc);
    for e in &city.events {
        let closed = e.status == EventStatus::Closed;
        acc.check(closed == e.closed_at.is_some(), || {
            format!(
                "event {}: status {} but closed_at {:?}",
                e.id, e.status, e.closed_at
            )
        });
        acc.check(e.closed_at.is_none_or(|c| c >= e.reported_at), || {
            format!("event {}: closed before it was reported", e.id)
        });
        acc.check(
            e.status_at >= e.reported_at && e.closed_at.is_none_or(|c| c == e.status_at),
            || {
                format!(
                    "event {}: entered its status ({}) at {}, reported at {}, closed at {:?}",
                    e.id, e.status, e.status_at, e.reported_at, e.closed_at
                )
            },
        );
    }
    acc.done()
}

fn validity(city: &CityData) -> Check {
    let mut acc = Acc::new("geometries valid (OGC)");
    let areas: Vec<_> = city.areas.iter().collect();
    acc.merge(
        areas
            .par_iter()
            .map(|a| {
                a.geometry
                    .check_validation()
                    .err()
                    .map(|e| format!("{} {} ({}): {e}", a.level, a.id, a.name))
            })
            .collect(),
    );
    acc.merge(
        city.homesteads
            .par_iter()
            .map(|h| {
                h.geometry
                    .check_validation()
                    .err()
                    .map(|e| format!("homestead {}: {e}", h.id))
            })
            .collect(),
    );
    acc.done()
}

fn area_of(mp: &MultiPolygon<f64>) -> f64 {
    mp.unsigned_area()
}

fn containment(tree: &AreaTree) -> Check {
    let mut acc = Acc::new("children inside their parents");
    for level in [Level::Town, Level::Village, Level::Grid, Level::Unit] {
        acc.merge(
            tree.level(level)
                .par_iter()
                .map(|a| {
                    let parent = tree.get(a.parent?)?;
                    let inside = area_of(&a.geometry.intersection(&parent.geometry));
                    let own = area_of(&a.geometry);
                    (own - inside > AREA_TOLERANCE * own).then(|| {
                        format!(
                            "{level} {} ({}) sticks out of {}: {:.3}% outside",
                            a.id,
                            a.name,
                            parent.id,
                            100.0 * (own - inside) / own
                        )
                    })
                })
                .collect(),
        );
    }
    acc.done()
}

struct Boxed {
    idx: usize,
    rect: Rect<f64>,
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.rect.min().x, self.rect.min().y],
            [self.rect.max().x, self.rect.max().y],
        )
    }
}

fn overlaps(tree: &AreaTree) -> Check {
    let mut acc = Acc::new("no overlaps between areas of a level");
    for level in Level::ALL {
        let areas = tree.level(level);
        let boxed: Vec<Boxed> = areas
            .iter()
            .enumerate()
            .filter_map(|(idx, a)| a.geometry.bounding_rect().map(|rect| Boxed { idx, rect }))
            .collect();
        let rtree = RTree::bulk_load(boxed);
        let results: Vec<Vec<Option<String>>> = areas
            .par_iter()
            .enumerate()
            .map(|(i, a)| {
                let Some(r) = a.geometry.bounding_rect() else {
                    return Vec::new();
                };
                let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                rtree
                    .locate_in_envelope_intersecting(&env)
                    .filter(|b| b.idx > i)
                    .map(|b| {
                        let other = &areas[b.idx];
                        if !a.geometry.intersects(&other.geometry) {
                            return None;
                        }
                        let shared = area_of(&a.geometry.intersection(&other.geometry));
                        let smaller = area_of(&a.geometry).min(area_of(&other.geometry));
                        (shared > AREA_TOLERANCE * smaller).then(|| {
                            format!(
                                "{level}s {} ({}) and {} ({}) overlap by {:.3e} deg²",
                                a.id, a.name, other.id, other.name, shared
                            )
                        })
                    })
                    .collect()
            })
            .collect();
        acc.merge(results.into_iter().flatten().collect());
    }
    acc.done()
}

fn cover(tree: &AreaTree) -> Check {
    let mut acc = Acc::new("children cover their parents (no gaps)");
    for level in [Level::District, Level::Town, Level::Village, Level::Grid] {
        let child_level = level.child().expect("not a unit");
        let mut sums = std::collections::HashMap::new();
        for c in tree.level(child_level) {
            if let Some(p) = c.parent {
                *sums.entry(p).or_insert(0.0) += area_of(&c.geometry);
            }
        }
        for a in tree.level(level) {
            let own = area_of(&a.geometry);
            let kids = sums.get(&a.id).copied().unwrap_or(0.0);
            acc.check((own - kids).abs() <= AREA_TOLERANCE * own, || {
                format!(
                    "{level} {} ({}): children cover {:.4}% of it",
                    a.id,
                    a.name,
                    100.0 * kids / own
                )
            });
        }
    }
    acc.done()
}

fn events_in_units(city: &CityData) -> Check {
    let mut acc = Acc::new("events inside the unit they name");
    acc.merge(
        city.events
            .par_iter()
            .map(|e| match city.areas.get(e.unit) {
                Some(u) if u.level == Level::Unit => {
                    // `intersects` counts the boundary too, so it covers `contains`.
                    (!u.geometry.intersects(&Point::new(e.lon, e.lat))).then(|| {
                        format!(
                            "event {} at ({}, {}) is outside unit {}",
                            e.id, e.lon, e.lat, e.unit
                        )
                    })
                }
                _ => Some(format!("event {}: unit {} does not exist", e.id, e.unit)),
            })
            .collect(),
    );
    acc.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use onemap_synth::SynthConfig;

    #[test]
    fn putian_counts_at_scale_1_are_the_real_figures() {
        assert_eq!(putian_counts(1.0), Some([7, 54, 973, 10_000, 130_000]));
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(putian_counts(bad), None, "{bad}");
        }
    }

    /// The synthetic Putian meets the figures at every scale: villages
    /// exactly, grids and units at least.
    #[test]
    fn putian_counts_agree_with_the_generator() {
        for scale in [0.001, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 0.9, 1.0] {
            let cfg = SynthConfig {
                scale,
                ..Default::default()
            };
            let [d, t, v, g, u] = putian_counts(scale).unwrap();
            assert_eq!((d, t), (7, 54));
            assert_eq!(v, u64::from(cfg.villages()), "scale {scale}");
            assert!(u64::from(cfg.grids()) >= g, "scale {scale}");
            assert!(u64::from(cfg.units()) >= u, "scale {scale}");
        }
    }
}
