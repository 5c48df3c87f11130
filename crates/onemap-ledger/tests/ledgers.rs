//! The ledgers of a small synthetic city: written, read back, consistent
//! with the city, and every query equal to a brute-force scan of all rows.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, TimestampSecondType, UInt16Type, UInt64Type, UInt8Type};
use arrow_array::RecordBatch;
use geo::Contains;
use onemap_core::{AreaId, AreaTree, Level};
use onemap_ledger::query::{age_on, mask_text};
use onemap_ledger::registry::{Mask, CARE_MASK, TAGS};
use onemap_ledger::{run, write_ledgers, Access, Cell, GenConfig, Ledger, Ledgers, Query, Sink};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

const UNTIL: i64 = 1_796_572_800; // 2026-12-07 00:00 China time

struct Fixture {
    _dir: tempfile::TempDir,
    areas: AreaTree,
    ledgers: Ledgers,
    /// Every batch of every ledger, read whole.
    all: HashMap<Ledger, Vec<RecordBatch>>,
    /// The city the ledgers were made of, and its places in no unit.
    city: onemap_core::CityData,
    outside: Vec<(Ledger, u64)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let cfg = onemap_synth::SynthConfig {
            seed: 7,
            scale: 0.01,
            events: Some(100),
            ..Default::default()
        };
        let (_, city) = onemap_synth::generate(&cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let gen = GenConfig {
            seed: 7,
            until: UNTIL,
        };
        let places = onemap_ledger::Places::of_city(&city);
        write_ledgers(dir.path(), &city.areas, gen, &places, &|_, _| {}).unwrap();
        let ledgers = Ledgers::open(dir.path()).unwrap();
        let mut all = HashMap::new();
        for l in Ledger::STORED {
            let f = ledgers.get(l);
            all.insert(
                l,
                (0..f.villages().len())
                    .map(|i| f.batch(i).unwrap())
                    .collect(),
            );
        }
        let outside = places.outside.clone();
        Fixture {
            _dir: dir,
            areas: city.areas.clone(),
            ledgers,
            all,
            city,
            outside,
        }
    })
}

fn u64s<'a>(b: &'a RecordBatch, k: &str) -> &'a [u64] {
    b.column_by_name(k)
        .unwrap()
        .as_primitive::<UInt64Type>()
        .values()
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let cfg = onemap_synth::SynthConfig {
        seed: 3,
        scale: 0.005,
        events: Some(10),
        ..Default::default()
    };
    let (_, city) = onemap_synth::generate(&cfg).unwrap();
    let write = |seed| {
        let d = tempfile::tempdir().unwrap();
        let gen = GenConfig { seed, until: UNTIL };
        let places = onemap_ledger::Places::of_city(&city);
        let w = write_ledgers(d.path(), &city.areas, gen, &places, &|_, _| {}).unwrap();
        let mut bytes = std::fs::read(d.path().join("ledgers/people.arrow")).unwrap();
        bytes.extend(std::fs::read(d.path().join("ledgers/enterprises.arrow")).unwrap());
        (w, bytes)
    };
    let (w1, a) = write(3);
    let (w2, b) = write(3);
    let (_, c) = write(4);
    assert_eq!(w1, w2);
    assert!(w1.people > 0 && w1.houses > 0);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn people_live_in_houses_of_their_unit_and_houses_lie_in_their_unit() {
    let f = fixture();
    let mut house_unit: HashMap<u64, u64> = HashMap::new();
    let mut residents: HashMap<u64, u64> = HashMap::new();
    for b in &f.all[&Ledger::Houses] {
        let lon = b
            .column_by_name("lon")
            .unwrap()
            .as_primitive::<arrow_array::types::Float64Type>();
        let lat = b
            .column_by_name("lat")
            .unwrap()
            .as_primitive::<arrow_array::types::Float64Type>();
        for (i, (&h, &u)) in u64s(b, "house_id")
            .iter()
            .zip(u64s(b, "area_id"))
            .enumerate()
        {
            assert!(house_unit.insert(h, u).is_none(), "house {h} twice");
            residents.insert(h, u64s(b, "residents")[i]);
            let unit = f.areas.get(AreaId::new(u).unwrap()).unwrap();
            assert_eq!(unit.level, Level::Unit);
            let p = geo_types::Point::new(lon.value(i), lat.value(i));
            assert!(unit.geometry.contains(&p), "house {h} outside its unit {u}");
        }
    }
    let mut counted: HashMap<u64, u64> = HashMap::new();
    let mut ids = Vec::new();
    for b in &f.all[&Ledger::People] {
        ids.extend_from_slice(u64s(b, "person_id"));
        for (&h, &u) in u64s(b, "house").iter().zip(u64s(b, "area_id")) {
            assert_eq!(
                house_unit.get(&h),
                Some(&u),
                "person in house {h} of another unit"
            );
            *counted.entry(h).or_default() += 1;
        }
    }
    for (h, n) in &residents {
        assert_eq!(
            counted.get(h).copied().unwrap_or(0),
            *n,
            "residents of house {h}"
        );
    }
    // Ids 1..=n in order.
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    // Grid and unit leaders are the map's leaders.
    let mut leaders = 0;
    for b in &f.all[&Ledger::Cadres] {
        let names = b.column_by_name("name").unwrap().as_string::<i32>();
        for (i, &a) in u64s(b, "area_id").iter().enumerate() {
            let area = f.areas.get(AreaId::new(a).unwrap()).unwrap();
            if let Some(l) = &area.leader {
                assert_eq!(l, names.value(i));
                leaders += 1;
            }
        }
    }
    assert_eq!(
        leaders,
        f.areas.level(Level::Grid).len() + f.areas.level(Level::Unit).len()
    );
}

#[test]
fn id_numbers_are_well_formed_and_agree_with_sex_birth_and_district() {
    let f = fixture();
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let mut n = 0;
    for b in &f.all[&Ledger::People] {
        let idn = b.column_by_name("id_number").unwrap().as_string::<i32>();
        let sex = b.column_by_name("sex").unwrap().as_primitive::<UInt8Type>();
        let birth = b
            .column_by_name("birth")
            .unwrap()
            .as_primitive::<Date32Type>();
        for i in 0..b.num_rows() {
            let s = idn.value(i);
            assert_eq!(s.len(), 18);
            let sum: u32 = s[..17]
                .bytes()
                .zip(W)
                .map(|(c, w)| u32::from(c - b'0') * w)
                .sum();
            assert_eq!(s.as_bytes()[17], b"10X98765432"[(sum % 11) as usize], "{s}");
            let seq: u32 = s[14..17].parse().unwrap();
            assert_eq!(seq % 2 == 1, sex.value(i) == 1, "{s}");
            let (y, m, d) = onemap_core::time::civil_from_days(i64::from(birth.value(i)));
            assert_eq!(&s[6..14], format!("{y:04}{m:02}{d:02}"));
            let unit = u64s(b, "area_id")[i];
            assert_eq!(s[..6], (unit / 1_000_000_000_000).to_string());
            n += 1;
        }
    }
    assert!(n > 1000, "{n} people");
}

/// Everything a row holds that the brute force needs.
fn brute(f: &Fixture, q: &Query) -> Vec<u64> {
    let id_key = onemap_ledger::generate::id_key(q.ledger);
    let mut out = Vec::new();
    for b in &f.all[&q.ledger] {
        for i in 0..b.num_rows() {
            let area = AreaId::new(u64s(b, "area_id")[i]).unwrap();
            if let Some(a) = q.area {
                if area.ancestor_at(a.level().unwrap()) != Some(a) {
                    continue;
                }
            }
            if q.tags_all != 0 || q.care {
                let t = b
                    .column_by_name("tags")
                    .unwrap()
                    .as_primitive::<UInt16Type>()
                    .value(i);
                if t & q.tags_all != q.tags_all || (q.care && t & CARE_MASK == 0) {
                    continue;
                }
            }
            if !q.choices.iter().all(|(fd, codes)| {
                let v = b
                    .column_by_name(fd.key)
                    .unwrap()
                    .as_primitive::<UInt8Type>()
                    .value(i);
                codes.contains(&v)
            }) {
                continue;
            }
            if q.updated_from.is_some() || q.updated_to.is_some() {
                let t = b
                    .column_by_name("updated")
                    .unwrap()
                    .as_primitive::<TimestampSecondType>()
                    .value(i);
                if q.updated_from.is_some_and(|x| t < x) || q.updated_to.is_some_and(|x| t >= x) {
                    continue;
                }
            }
            if q.age_min.is_some() || q.age_max.is_some() {
                let d = b
                    .column_by_name("birth")
                    .unwrap()
                    .as_primitive::<Date32Type>()
                    .value(i);
                let age = age_on(i64::from(d), q.today);
                if q.age_min.is_some_and(|x| age < x) || q.age_max.is_some_and(|x| age > x) {
                    continue;
                }
            }
            out.push(u64s(b, id_key)[i]);
        }
    }
    out
}

struct Ids(Vec<u64>, usize);
impl Sink for Ids {
    fn wants_rows(&self) -> bool {
        self.0.len() < self.1
    }
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), onemap_ledger::LedgerError> {
        match cells[0] {
            Cell::Int(i) => self.0.push(i),
            ref c => panic!("id cell {c:?}"),
        }
        Ok(())
    }
}

fn any_area(f: &Fixture, pick: usize, level: usize) -> Option<AreaId> {
    let lv = Level::ALL[level % 5];
    let l = f.areas.level(lv);
    (!l.is_empty()).then(|| l[pick % l.len()].id)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_query_equals_a_scan_of_all_rows(
        ledger in 0usize..8,
        area in proptest::option::of((any::<usize>(), 0usize..5)),
        tags in 0u16..64, care in any::<bool>(),
        choice in proptest::option::of((any::<usize>(), any::<u8>(), any::<u8>())),
        from in proptest::option::of(0i64..800), to in proptest::option::of(0i64..800),
        ages in proptest::option::of((0u32..90, 0u32..40)),
        limit in 0usize..400,
    ) {
        let f = fixture();
        let ledger = Ledger::STORED[ledger];
        let mut q = Query::new(ledger, UNTIL / 86_400);
        q.fields = vec![ledger.field(onemap_ledger::generate::id_key(ledger)).unwrap()];
        q.area = area.and_then(|(p, l)| any_area(f, p, l));
        if ledger == Ledger::People {
            // Rarely more than one tag at once, so ask for one or two.
            q.tags_all = tags & (1 << (tags % 6)) | if tags > 60 { 0b1001 } else { 0 };
            q.care = care;
            if let Some((lo, span)) = ages {
                q.age_min = Some(lo);
                q.age_max = Some(lo + span);
            }
        }
        if let Some((k, a, b)) = choice {
            let coded: Vec<_> = ledger.fields().iter()
                .filter(|f| matches!(f.kind, onemap_ledger::Kind::Choice(_)) && f.source == onemap_ledger::registry::Source::Column)
                .collect();
            if !coded.is_empty() {
                let fd = coded[k % coded.len()];
                let n = fd.kind.choices().len() as u8;
                q.choices.push((fd, vec![a % (n + 1), b % (n + 1)]));
            }
        }
        if ledger.field("updated").is_some() {
            q.updated_from = from.map(|d| UNTIL - d * 86_400);
            q.updated_to = to.map(|d| UNTIL - d * 86_400);
        }
        let want = brute(f, &q);
        let mut got = Ids(Vec::new(), limit);
        let s = run(&f.ledgers, &f.areas, &q, Access { personal: true }, &mut got).unwrap();
        prop_assert_eq!(s.rows, want.len() as u64);
        prop_assert_eq!(&got.0[..], &want[..want.len().min(limit)]);
        // The same query over every batch of the ledger handed over as from
        // another source (a database, the live events): every row tested.
        let mut other = Ids(Vec::new(), limit);
        let batches = f.all[&ledger].iter().cloned().map(Ok);
        let s2 = onemap_ledger::run_batches(batches, &f.areas, &q, Access { personal: true }, &mut other).unwrap();
        prop_assert_eq!(s2, s);
        prop_assert_eq!(&other.0[..], &got.0[..]);
    }
}

#[test]
fn personal_fields_are_masked_without_the_right_and_whole_with_it() {
    let f = fixture();
    let mut q = Query::new(Ledger::People, UNTIL / 86_400);
    q.set_fields("person_id,name,id_number,phone,illness,sex,tags")
        .unwrap();
    q.add_filter("tags=serious_illness").unwrap();
    struct All(Vec<Vec<String>>);
    impl Sink for All {
        fn row(&mut self, c: &[Cell<'_>]) -> Result<(), onemap_ledger::LedgerError> {
            self.0.push(
                c.iter()
                    .map(|c| onemap_ledger::export::cell_text(c, onemap_ledger::Lang::Zh))
                    .collect(),
            );
            Ok(())
        }
    }
    let (mut open, mut masked) = (All(Vec::new()), All(Vec::new()));
    run(
        &f.ledgers,
        &f.areas,
        &q,
        Access { personal: true },
        &mut open,
    )
    .unwrap();
    run(
        &f.ledgers,
        &f.areas,
        &q,
        Access { personal: false },
        &mut masked,
    )
    .unwrap();
    assert!(!open.0.is_empty());
    assert_eq!(open.0.len(), masked.0.len());
    for (o, m) in open.0.iter().zip(&masked.0) {
        assert_eq!(o[0], m[0]);
        assert_eq!(m[1], mask_text(&o[1], Mask::Name));
        assert_eq!(m[2], mask_text(&o[2], Mask::IdNumber));
        assert!(
            m[2].starts_with(&o[2][..6])
                && m[2].ends_with(&o[2][14..])
                && m[2].contains("********")
        );
        assert_eq!(m[3], mask_text(&o[3], Mask::Phone));
        assert_eq!(m[4], "***");
        assert!(
            onemap_ledger::registry::ILLNESS
                .iter()
                .any(|c| c.zh == o[4]),
            "{}",
            o[4]
        );
        assert_eq!(o[5], m[5]);
        assert!(o[6].contains(TAGS[4].zh));
    }
}

#[test]
fn bad_filters_and_fields_say_what_is_allowed() {
    let mut q = Query::new(Ledger::People, 0);
    let e = q.add_filter("tags=nope").unwrap_err().to_string();
    assert!(e.contains("care") && e.contains("elderly_alone"), "{e}");
    let e = q.add_filter("name=x").unwrap_err().to_string();
    assert!(e.contains("sex"), "{e}");
    let e = q.add_filter("sex").unwrap_err().to_string();
    assert!(e.contains("key=value"), "{e}");
    let e = q.set_fields("name,wat").unwrap_err().to_string();
    assert!(e.contains("id_number"), "{e}");
    assert!(Ledgers::open(std::path::Path::new("/nonexistent"))
        .unwrap_err()
        .to_string()
        .contains("onemap ledgers build"));
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("ledgers")).unwrap();
    std::fs::write(d.path().join("ledgers/people.arrow"), b"not arrow at all").unwrap();
    // A folder without every ledger (an older onemap's): to be built again.
    let e = Ledgers::open(d.path()).unwrap_err().to_string();
    assert!(e.contains("older onemap (houses.arrow is missing)"), "{e}");
    assert!(e.contains("onemap ledgers build"), "{e}");
    for l in Ledger::STORED.into_iter().skip(1) {
        std::fs::write(d.path().join("ledgers").join(l.file_name()), b"").unwrap();
    }
    let e = Ledgers::open(d.path()).unwrap_err().to_string();
    assert!(e.contains("people.arrow"), "{e}");
}

#[test]
fn the_care_group_is_the_people_with_any_care_tag() {
    let f = fixture();
    let mut q = Query::new(Ledger::People, UNTIL / 86_400);
    q.add_filter("tags=care").unwrap();
    let n = run(
        &f.ledgers,
        &f.areas,
        &q,
        Access { personal: false },
        &mut Ids(Vec::new(), 0),
    )
    .unwrap()
    .rows;
    let mut by_tag = 0u64;
    let mut total = 0u64;
    for b in &f.all[&Ledger::People] {
        let t = b
            .column_by_name("tags")
            .unwrap()
            .as_primitive::<UInt16Type>();
        by_tag += t.values().iter().filter(|t| **t & CARE_MASK != 0).count() as u64;
        total += t.len() as u64;
    }
    assert_eq!(n, by_tag);
    // A care group of a few percent, as in a real county.
    assert!(
        n * 100 > total * 3 && n * 100 < total * 20,
        "{n} of {total}"
    );
}

/// The places' ledgers hold every enterprise, school, heritage site and
/// idle homestead of the city once, with the layer's values, in a unit
/// whose polygon holds the row's position (checked with geo here, not
/// with the ledger's own search), and in that unit's village's batch.
#[test]
fn the_places_ledgers_are_the_city_layers_each_in_its_unit() {
    use arrow_array::types::Float64Type;
    let f = fixture();
    assert!(f.outside.is_empty(), "places in no unit: {:?}", f.outside);
    let floats = |b: &RecordBatch, k: &str, i: usize| {
        b.column_by_name(k)
            .unwrap()
            .as_primitive::<Float64Type>()
            .value(i)
    };
    let text = |b: &RecordBatch, k: &str, i: usize| {
        b.column_by_name(k)
            .unwrap()
            .as_string::<i32>()
            .value(i)
            .to_string()
    };
    let code = |b: &RecordBatch, k: &str, i: usize| {
        b.column_by_name(k)
            .unwrap()
            .as_primitive::<UInt8Type>()
            .value(i)
    };
    // id → (lon, lat, the values the ledger must hold as text)
    let mut want: HashMap<(Ledger, u64), (f64, f64, String)> = HashMap::new();
    for e in &f.city.enterprises {
        let v = format!("{}|{}|{}|{}", e.name, e.industry, e.employees, e.large);
        want.insert((Ledger::Enterprises, e.id), (e.lon, e.lat, v));
    }
    for s in &f.city.schools {
        let v = format!("{}|{}|{}", s.name, s.kind.as_str(), s.students);
        want.insert((Ledger::Schools, s.id), (s.lon, s.lat, v));
    }
    for h in &f.city.heritage {
        let v = format!("{}|{}|{}", h.name, h.level.as_str(), h.watch.as_str());
        want.insert((Ledger::Heritage, h.id), (h.lon, h.lat, v));
    }
    for h in &f.city.homesteads {
        let v = format!("{}|{}", h.area_m2, h.status.as_str());
        want.insert((Ledger::Homesteads, h.id), (f64::NAN, f64::NAN, v));
    }
    let choice = |l: Ledger, k: &str, c: u8| {
        l.field(k)
            .unwrap()
            .kind
            .choices()
            .iter()
            .find(|x| x.code == c)
            .unwrap()
            .key
            .to_string()
    };
    let mut seen = 0usize;
    for l in [
        Ledger::Enterprises,
        Ledger::Schools,
        Ledger::Heritage,
        Ledger::Homesteads,
    ] {
        let file = f.ledgers.get(l);
        let key = onemap_ledger::generate::id_key(l);
        for (bi, b) in f.all[&l].iter().enumerate() {
            let village = file.villages()[bi];
            for i in 0..b.num_rows() {
                let id = u64s(b, key)[i];
                let (lon, lat, values) = want
                    .remove(&(l, id))
                    .unwrap_or_else(|| panic!("{l:?} {id} twice or unknown"));
                let got = match l {
                    Ledger::Enterprises => format!(
                        "{}|{}|{}|{}",
                        text(b, "name", i),
                        text(b, "industry", i),
                        u64s(b, "employees")[i],
                        b.column_by_name("large").unwrap().as_boolean().value(i)
                    ),
                    Ledger::Schools => format!(
                        "{}|{}|{}",
                        text(b, "name", i),
                        choice(l, "kind", code(b, "kind", i)),
                        u64s(b, "students")[i]
                    ),
                    Ledger::Heritage => format!(
                        "{}|{}|{}",
                        text(b, "name", i),
                        choice(l, "level", code(b, "level", i)),
                        choice(l, "watch", code(b, "watch", i))
                    ),
                    _ => format!(
                        "{}|{}",
                        floats(b, "area_m2", i),
                        choice(l, "status", code(b, "status", i))
                    ),
                };
                assert_eq!(got, values, "{l:?} {id}");
                let (x, y) = (floats(b, "lon", i), floats(b, "lat", i));
                if !lon.is_nan() {
                    assert_eq!((x, y), (lon, lat), "{l:?} {id}: its own position");
                } else {
                    let h = f.city.homesteads.iter().find(|h| h.id == id).unwrap();
                    assert!(
                        h.geometry.contains(&geo_types::Point::new(x, y)),
                        "homestead {id}: a point of its plot"
                    );
                }
                let unit = AreaId::new(u64s(b, "area_id")[i]).unwrap();
                assert_eq!(unit.level(), Some(onemap_core::Level::Unit));
                let area = f.areas.get(unit).unwrap();
                assert!(
                    area.geometry.contains(&geo_types::Point::new(x, y)),
                    "{l:?} {id} is in unit {unit}"
                );
                assert_eq!(unit.ancestor_at(onemap_core::Level::Village), Some(village));
                seen += 1;
            }
        }
    }
    assert!(
        want.is_empty(),
        "missing from the ledgers: {:?}",
        want.keys().take(5).collect::<Vec<_>>()
    );
    assert!(seen > 50, "the small city has places ({seen})");
}

#[test]
fn a_window_or_ages_on_a_ledger_without_them_is_refused() {
    let f = fixture();
    let mut q = Query::new(Ledger::Enterprises, UNTIL / 86_400);
    q.updated_from = Some(0);
    let e = run(
        &f.ledgers,
        &f.areas,
        &q,
        Access { personal: false },
        &mut Ids(Vec::new(), 0),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no last updates"), "{e}");
    let mut q = Query::new(Ledger::Houses, UNTIL / 86_400);
    q.age_min = Some(3);
    let e = run(
        &f.ledgers,
        &f.areas,
        &q,
        Access { personal: false },
        &mut Ids(Vec::new(), 0),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no ages"), "{e}");
}
