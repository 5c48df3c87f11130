//! The demo city's ledgers, generated from its area tree and seed: people
//! in households in houses in units, the houses, the cadres who lead each
//! village, grid and unit, and each village's projects. Deterministic: the
//! same city and seed give the same rows, whatever the number of threads
//! (each unit and village draws from its own seeded generator).
//!
//! Never real people: names are drawn from common surnames and given-name
//! characters; ID numbers are well formed (GB 11643 check digit, the
//! district's real code, the birth date, an odd sequence for men) and the
//! registry labels them synthetic, as does every file's metadata.

use crate::places::Places;
use crate::registry::{CARE_MASK, ILLNESS, POST};
use crate::table::{Columns, Value};
use crate::Ledger;
use geo::{BoundingRect, Contains, InteriorPoint};
use geo_types::Point;
use onemap_core::time::{civil_from_days, days_from_civil};
use onemap_core::{Area, AreaId, AreaTree, Level};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// One village's rows of every generated ledger.
#[derive(Debug, Default)]
pub struct VillageRows {
    pub village: Option<AreaId>,
    pub people: Columns,
    pub houses: Columns,
    pub cadres: Columns,
    pub projects: Columns,
    pub enterprises: Columns,
    pub schools: Columns,
    pub heritage: Columns,
    pub homesteads: Columns,
}

impl VillageRows {
    pub fn of(&self, ledger: Ledger) -> &Columns {
        match ledger {
            Ledger::People => &self.people,
            Ledger::Houses => &self.houses,
            Ledger::Cadres => &self.cadres,
            Ledger::Projects => &self.projects,
            Ledger::Enterprises => &self.enterprises,
            Ledger::Schools => &self.schools,
            Ledger::Heritage => &self.heritage,
            Ledger::Homesteads => &self.homesteads,
            Ledger::Events => unreachable!("the events ledger is not generated"),
        }
    }

    pub(crate) fn of_mut(&mut self, ledger: Ledger) -> &mut Columns {
        match ledger {
            Ledger::People => &mut self.people,
            Ledger::Houses => &mut self.houses,
            Ledger::Cadres => &mut self.cadres,
            Ledger::Projects => &mut self.projects,
            Ledger::Enterprises => &mut self.enterprises,
            Ledger::Schools => &mut self.schools,
            Ledger::Heritage => &mut self.heritage,
            Ledger::Homesteads => &mut self.homesteads,
            Ledger::Events => unreachable!("the events ledger is not generated"),
        }
    }
}

/// What the generator needs beyond the areas.
#[derive(Debug, Clone, Copy)]
pub struct GenConfig {
    pub seed: u64,
    /// The moment the demo's records end (Unix seconds): last updates fall
    /// in the two years before it, ages are counted to it.
    pub until: i64,
}

/// Every village's rows, in village id order, with ids numbered across
/// the city in that order, handed to `each` one village at a time
/// (villages are made in parallel, a few dozen at a time, so memory stays
/// flat whatever the city's size); the places of `places` in the village
/// with their own ids. Stops at `each`'s first error.
pub fn generate<E>(
    areas: &AreaTree,
    cfg: GenConfig,
    places: &Places,
    mut each: impl FnMut(VillageRows) -> Result<(), E>,
) -> Result<(), E> {
    let villages = areas.level(Level::Village);
    let mut next = [1u64; 4];
    let mut next_household = 1u64;
    let mut next_house = 1u64;
    for chunk in villages.chunks(64) {
        let rows: Vec<VillageRows> = chunk
            .par_iter()
            .map(|v| village_rows(areas, v, cfg))
            .collect();
        for mut v in rows {
            for (i, ledger) in Ledger::GENERATED.into_iter().enumerate() {
                let cols = v.of_mut(ledger);
                cols.offset_ids(id_key(ledger), next[i]);
                next[i] += cols.len() as u64;
            }
            if let Some(id) = v.village {
                for (ledger, row) in places.of(id) {
                    v.of_mut(*ledger).push(row);
                }
            }
            let households = v.people.max_u64("household");
            let houses = v.people.max_u64("house");
            v.people.offset_ids("household", next_household - 1);
            v.people.offset_ids("house", next_house - 1);
            next_household += households;
            // People's house numbers count the village's houses, occupied
            // or not, like the houses ledger.
            next_house += houses.max(v.houses.len() as u64);
            each(v)?;
        }
    }
    Ok(())
}

/// The key of a ledger's own id.
pub fn id_key(ledger: Ledger) -> &'static str {
    match ledger {
        Ledger::People => "person_id",
        Ledger::Houses => "house_id",
        Ledger::Cadres => "cadre_id",
        Ledger::Projects => "project_id",
        Ledger::Enterprises => "enterprise_id",
        Ledger::Schools => "school_id",
        Ledger::Heritage => "heritage_id",
        Ledger::Homesteads => "homestead_id",
        Ledger::Events => "event_id",
    }
}

/// The areas of `level` below `parent`, found by the id range (ids are
/// kept sorted within a level).
pub(crate) fn children(areas: &AreaTree, parent: AreaId, level: Level) -> &[Area] {
    let all = areas.level(level);
    let Some(own) = parent.level() else {
        return &[];
    };
    let span = 10u64.pow(3 * (level.depth() - own.depth()) as u32);
    let lo = parent.get() * span;
    let hi = lo + span;
    let a = all.partition_point(|x| x.id.get() < lo);
    let b = all.partition_point(|x| x.id.get() < hi);
    &all[a..b]
}

fn rng_for(seed: u64, salt: u64, id: AreaId) -> ChaCha8Rng {
    let mut z = seed ^ salt.rotate_left(17) ^ id.get().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64 finaliser: nearby ids get unrelated streams.
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

const SALT_UNIT: u64 = 0x6C65_6467_6572_0001;
const SALT_VILLAGE: u64 = 0x6C65_6467_6572_0002;

fn village_rows(areas: &AreaTree, v: &Area, cfg: GenConfig) -> VillageRows {
    let mut out = VillageRows {
        village: Some(v.id),
        people: Columns::new(Ledger::People),
        houses: Columns::new(Ledger::Houses),
        cadres: Columns::new(Ledger::Cadres),
        projects: Columns::new(Ledger::Projects),
        enterprises: Columns::new(Ledger::Enterprises),
        schools: Columns::new(Ledger::Schools),
        heritage: Columns::new(Ledger::Heritage),
        homesteads: Columns::new(Ledger::Homesteads),
    };
    let town =
        v.id.parent()
            .and_then(|t| areas.get(t))
            .map_or("", |t| t.name.as_str());
    let end_day = cfg.until.div_euclid(86_400);
    let (end_year, _, _) = civil_from_days(end_day);
    let mut vrng = rng_for(cfg.seed, SALT_VILLAGE, v.id);
    // The village's two cadres.
    for post in [1u8, 2u8] {
        let name = onemap_synth::names::person(&mut vrng);
        cadre(
            &mut out.cadres,
            &mut vrng,
            name,
            post,
            v.id,
            end_day,
            cfg.until,
        );
    }
    for g in children(areas, v.id, Level::Grid) {
        let name = g
            .leader
            .clone()
            .unwrap_or_else(|| onemap_synth::names::person(&mut vrng));
        cadre(
            &mut out.cadres,
            &mut vrng,
            name,
            3,
            g.id,
            end_day,
            cfg.until,
        );
    }
    let mut house_no = 0u32;
    let mut household_no = 0u64;
    let mut house_local = 0u64;
    for u in children(areas, v.id, Level::Unit) {
        let mut rng = rng_for(cfg.seed, SALT_UNIT, u.id);
        let name = u
            .leader
            .clone()
            .unwrap_or_else(|| onemap_synth::names::person(&mut rng));
        cadre(&mut out.cadres, &mut rng, name, 4, u.id, end_day, cfg.until);
        let houses = rng.random_range(5..=11u32);
        for _ in 0..houses {
            house_no += 1;
            house_local += 1;
            let (lon, lat) = point_in(u, &mut rng);
            let vacant = rng.random_bool(0.08);
            let households: u8 = if vacant {
                0
            } else if rng.random_bool(0.15) {
                2
            } else {
                1
            };
            let mut residents = 0u16;
            let mut owner = None;
            let low_income_house = rng.random_bool(0.025);
            for _ in 0..households {
                household_no += 1;
                let size = household_size(&mut rng);
                let members = household(&mut rng, size, end_year);
                for (k, m) in members.iter().enumerate() {
                    let name = if k == 0 {
                        let n = onemap_synth::names::person(&mut rng);
                        owner.get_or_insert_with(|| n.clone());
                        n
                    } else {
                        onemap_synth::names::person(&mut rng)
                    };
                    let birth = birth_day(&mut rng, end_year - i64::from(m.age));
                    let mut tags = 0u16;
                    if size == 1 && m.age >= 70 {
                        tags |= 1 << 0;
                    }
                    if m.age < 16 && (m.relation == 5 || rng.random_bool(0.02)) {
                        tags |= 1 << 1;
                    }
                    if rng.random_bool(0.022) {
                        tags |= 1 << 2;
                    }
                    if low_income_house {
                        tags |= 1 << 3;
                    }
                    let ill = rng.random_bool(if m.age >= 50 { 0.02 } else { 0.004 });
                    let illness = if ill {
                        tags |= 1 << 4;
                        rng.random_range(1..=ILLNESS.len() as u8)
                    } else {
                        0
                    };
                    if m.male && (20..=70).contains(&m.age) && rng.random_bool(0.025) {
                        tags |= 1 << 5;
                    }
                    debug_assert!(tags & !0b11_1111 == 0 && CARE_MASK == 0b1_1111);
                    let idn = id_number(u.id, birth, m.male, &mut rng);
                    out.people.push(&[
                        ("person_id", Value::U64(0)),
                        ("name", Value::Str(name)),
                        ("id_number", Value::Str(idn)),
                        ("sex", Value::U8(if m.male { 1 } else { 2 })),
                        ("birth", Value::Date(birth as i32)),
                        ("phone", Value::Str(phone(&mut rng, m.age))),
                        ("household", Value::U64(household_no)),
                        ("relation", Value::U8(m.relation)),
                        ("house", Value::U64(house_local)),
                        ("area_id", Value::U64(u.id.get())),
                        ("tags", Value::U16(tags)),
                        ("illness", Value::U8(illness)),
                        ("updated", Value::Time(updated(&mut rng, cfg.until))),
                    ]);
                    residents += 1;
                }
            }
            let built = rng.random_range(1960..=end_year.min(2024) as u16);
            let structure: u8 = if built < 1985 {
                *[1u8, 3, 5, 3].get(rng.random_range(0..4)).unwrap_or(&1)
            } else if rng.random_bool(0.7) {
                1
            } else {
                *[2u8, 4].get(rng.random_range(0..2)).unwrap_or(&2)
            };
            let floors = match structure {
                3 | 5 => rng.random_range(1..=2u8),
                2 => rng.random_range(3..=8u8),
                _ => rng.random_range(1..=5u8),
            };
            let safety = match (structure, built) {
                (3, _) if rng.random_bool(0.2) => 4,
                (3 | 5, _) => *[2u8, 3].get(rng.random_range(0..2)).unwrap_or(&2),
                (_, b) if b < 1990 && rng.random_bool(0.15) => 3,
                _ if rng.random_bool(0.7) => 1,
                _ => 2,
            };
            let usage = if vacant {
                4
            } else if rng.random_bool(0.12) {
                2
            } else if rng.random_bool(0.05) {
                3
            } else {
                1
            };
            let floor_area =
                (f32::from(floors) * rng.random_range(60.0..160.0f32) * 10.0).round() / 10.0;
            out.houses.push(&[
                ("house_id", Value::U64(0)),
                (
                    "address",
                    Value::Str(format!("{town}{}{house_no}号", v.name)),
                ),
                ("lon", Value::F64(lon)),
                ("lat", Value::F64(lat)),
                ("area_id", Value::U64(u.id.get())),
                ("structure", Value::U8(structure)),
                ("floors", Value::U64(u64::from(floors))),
                ("floor_area", Value::F64(f64::from(floor_area))),
                ("built", Value::U64(u64::from(built))),
                ("usage", Value::U8(usage)),
                ("households", Value::U64(u64::from(households))),
                ("residents", Value::U64(u64::from(residents))),
                ("safety", Value::U8(safety)),
                (
                    "owner",
                    Value::Str(owner.unwrap_or_else(|| onemap_synth::names::person(&mut rng))),
                ),
                ("updated", Value::Time(updated(&mut rng, cfg.until))),
            ]);
        }
    }
    projects(&mut out.projects, &mut vrng, v, town, end_day, cfg.until);
    out
}

fn cadre(
    cols: &mut Columns,
    rng: &mut ChaCha8Rng,
    name: String,
    post: u8,
    area: AreaId,
    end_day: i64,
    until: i64,
) {
    debug_assert!(usize::from(post) <= POST.len());
    let (end_year, _, _) = civil_from_days(end_day);
    let age = rng.random_range(26..=58i64);
    let birth = birth_day(rng, end_year - age);
    let party = post <= 2 || rng.random_bool(0.55);
    let education = if post <= 2 {
        rng.random_range(3..=5u8)
    } else {
        rng.random_range(1..=4u8)
    };
    cols.push(&[
        ("cadre_id", Value::U64(0)),
        ("name", Value::Str(name)),
        ("sex", Value::U8(if rng.random_bool(0.62) { 1 } else { 2 })),
        ("birth", Value::Date(birth as i32)),
        ("phone", Value::Str(phone(rng, age as u8))),
        ("post", Value::U8(post)),
        ("area_id", Value::U64(area.get())),
        ("party", Value::Bool(party)),
        ("education", Value::U8(education)),
        ("updated", Value::Time(updated(rng, until))),
    ]);
}

const PROJECT_NAMES: &[(&str, u8)] = &[
    ("道路硬化工程", 1),
    ("污水管网改造", 1),
    ("农村公路提升", 1),
    ("特色农业基地", 2),
    ("乡村振兴示范点", 2),
    ("电商服务站", 2),
    ("幸福院建设", 3),
    ("老旧小区改造", 3),
    ("便民服务中心提升", 3),
    ("水系整治", 4),
    ("人居环境整治", 4),
    ("文化广场建设", 5),
    ("古厝保护修缮", 5),
];
const OWNERS: &[&str] = &[
    "住建局",
    "农业农村局",
    "交通运输局",
    "水利局",
    "生态环境局",
    "文旅局",
    "民政局",
];

fn projects(
    cols: &mut Columns,
    rng: &mut ChaCha8Rng,
    v: &Area,
    town: &str,
    end_day: i64,
    until: i64,
) {
    let n = rng.random_range(2..=8usize);
    let mut used = [false; 13];
    for _ in 0..n {
        let mut k = rng.random_range(0..PROJECT_NAMES.len());
        while used[k] {
            k = (k + 1) % PROJECT_NAMES.len();
        }
        used[k] = true;
        let (what, kind) = PROJECT_NAMES[k];
        let start = end_day - rng.random_range(-120..730i64);
        let due = start + rng.random_range(90..720i64);
        let (status, progress) = if start > end_day {
            (1u8, 0u8)
        } else if due < end_day && rng.random_bool(0.8) {
            (3, 100)
        } else {
            let p =
                ((end_day - start) as f64 / (due - start).max(1) as f64 * 100.0).clamp(5.0, 95.0);
            (2, p as u8)
        };
        let investment = (10f64.powf(rng.random_range(1.3..3.5f64)) * 10.0).round() / 10.0;
        let owner = if rng.random_bool(0.5) {
            format!("{town}人民政府")
        } else {
            OWNERS[rng.random_range(0..OWNERS.len())].to_string()
        };
        cols.push(&[
            ("project_id", Value::U64(0)),
            ("name", Value::Str(format!("{}{what}", v.name))),
            ("area_id", Value::U64(v.id.get())),
            ("kind", Value::U8(kind)),
            ("investment", Value::F64(investment)),
            ("status", Value::U8(status)),
            ("start", Value::Date(start as i32)),
            ("due", Value::Date(due as i32)),
            ("owner_dept", Value::Str(owner)),
            ("progress", Value::U64(u64::from(progress))),
            ("updated", Value::Time(updated(rng, until))),
        ]);
    }
}

struct Member {
    age: u8,
    male: bool,
    relation: u8,
}

fn household_size(rng: &mut ChaCha8Rng) -> usize {
    let r = rng.random_range(0..100u32);
    match r {
        0..18 => 1,
        18..43 => 2,
        43..65 => 3,
        65..83 => 4,
        83..94 => 5,
        _ => 6,
    }
}

fn household(rng: &mut ChaCha8Rng, size: usize, _end_year: i64) -> Vec<Member> {
    let head_age: u8 = if size == 1 {
        rng.random_range(22..=92)
    } else {
        rng.random_range(26..=85)
    };
    let head_male = rng.random_bool(0.72);
    let mut out = vec![Member {
        age: head_age,
        male: head_male,
        relation: 1,
    }];
    if size >= 2 && rng.random_bool(0.85) {
        let age = head_age
            .saturating_add(rng.random_range(0..=6))
            .saturating_sub(3)
            .max(20);
        out.push(Member {
            age,
            male: !head_male,
            relation: 2,
        });
    }
    if size >= 4 && head_age < 55 && rng.random_bool(0.4) {
        out.push(Member {
            age: (head_age + rng.random_range(22..=32)).min(99),
            male: rng.random_bool(0.4),
            relation: 4,
        });
    }
    while out.len() < size {
        if head_age >= 58 && rng.random_bool(0.35) {
            out.push(Member {
                age: rng.random_range(0..=15),
                male: rng.random_bool(0.52),
                relation: 5,
            });
        } else {
            let gap = rng.random_range(22..=38u8);
            out.push(Member {
                age: head_age.saturating_sub(gap),
                male: rng.random_bool(0.52),
                relation: 3,
            });
        }
    }
    out
}

/// A day in `year` (days since 1970-01-01).
fn birth_day(rng: &mut ChaCha8Rng, year: i64) -> i64 {
    let m = rng.random_range(1..=12u32);
    let d = rng.random_range(1..=28u32);
    days_from_civil(year, m, d)
}

fn updated(rng: &mut ChaCha8Rng, until: i64) -> i64 {
    until - rng.random_range(3_600..2 * 365 * 86_400)
}

const PHONE_PREFIXES: &[u16] = &[
    133, 135, 136, 137, 138, 139, 150, 151, 152, 158, 159, 177, 180, 181, 186, 187, 188, 189, 199,
];

fn phone(rng: &mut ChaCha8Rng, age: u8) -> String {
    if age < 12 {
        // Children give a guardian's number: left empty in their own row.
        return String::new();
    }
    let p = PHONE_PREFIXES[rng.random_range(0..PHONE_PREFIXES.len())];
    format!("{p}{:08}", rng.random_range(0..100_000_000u32))
}

/// A well-formed 18-digit ID number (GB 11643): the district's code, the
/// birth date, a 3-digit sequence (odd for men) and the check character.
pub fn id_number(unit: AreaId, birth_day: i64, male: bool, rng: &mut ChaCha8Rng) -> String {
    let district = unit
        .ancestor_at(Level::District)
        .map_or(350300, AreaId::get);
    let (y, m, d) = civil_from_days(birth_day);
    let seq = rng.random_range(0..500u32) * 2 + u32::from(male);
    let body = format!("{district:06}{y:04}{m:02}{d:02}{seq:03}");
    let check = check_char(&body);
    format!("{body}{check}")
}

/// The GB 11643 check character of the first 17 digits.
pub fn check_char(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    C[(sum % 11) as usize] as char
}

/// A random point inside the unit (its interior point if 40 draws in its
/// bounding box all miss).
fn point_in(u: &Area, rng: &mut ChaCha8Rng) -> (f64, f64) {
    if let Some(r) = u.geometry.bounding_rect() {
        for _ in 0..40 {
            let p = Point::new(
                rng.random_range(r.min().x..=r.max().x),
                rng.random_range(r.min().y..=r.max().y),
            );
            if u.geometry.contains(&p) {
                return (p.x(), p.y());
            }
        }
    }
    u.geometry
        .interior_point()
        .map_or((0.0, 0.0), |p| (p.x(), p.y()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_characters_of_known_numbers() {
        // The standard's own example and a worked one with an X.
        assert_eq!(check_char("11010519491231002"), 'X');
        assert_eq!(check_char("44052418800101001"), '4');
    }
}
