use onemap_core::{AreaId, EventCategory, EventStatus, Level};
use onemap_synth::{generate, Skeleton, SynthConfig};
use std::collections::HashMap;

#[test]
fn small_city_has_the_structure_of_putian() {
    let cfg = SynthConfig {
        seed: 7,
        scale: 0.02,
        events: None,
        ..Default::default()
    };
    let (meta, city) = generate(&cfg).unwrap();
    let count = |l| city.areas.level(l).len();
    assert_eq!(count(Level::District), 7);
    assert_eq!(count(Level::Town), 54);
    assert_eq!(count(Level::Village) as u32, cfg.villages());
    assert_eq!(count(Level::Grid) as u32, cfg.grids());
    assert_eq!(count(Level::Unit) as u32, cfg.units());
    assert_eq!(city.events.len() as u64, cfg.event_count());
    assert_eq!(meta.expected["units"], cfg.units() as u64);
    for name in [
        "城厢区",
        "涵江区",
        "荔城区",
        "秀屿区",
        "仙游县",
        "湄洲岛",
        "北岸",
    ] {
        assert!(
            city.areas
                .level(Level::District)
                .iter()
                .any(|a| a.name == name),
            "{name}"
        );
    }
    for name in ["西天尾镇", "北高镇", "黄石镇", "新度镇", "拱辰街道"] {
        assert!(
            city.areas.level(Level::Town).iter().any(|a| a.name == name),
            "{name}"
        );
    }
    for name in ["东星社区", "常溪社区", "屏山村", "大坂村", "东阳村"] {
        assert!(
            city.areas
                .level(Level::Village)
                .iter()
                .any(|a| a.name == name),
            "{name}"
        );
    }
    let closed = city
        .events
        .iter()
        .filter(|e| e.status == EventStatus::Closed)
        .count();
    let rate = closed as f64 / city.events.len() as f64;
    assert!((0.99..=0.999).contains(&rate), "closure rate {rate}");
    for e in &city.events {
        assert_eq!(e.closed_at.is_some(), e.status == EventStatus::Closed);
        assert!(city.areas.get(e.unit).is_some());
    }
    assert!(city.ships.len() >= 300);
    assert!(city.ships.iter().filter(|s| s.in_port).count() > city.ships.len() / 2);
    assert!(!city.heritage.is_empty() && !city.homesteads.is_empty());
    assert!(!city.enterprises.is_empty() && !city.schools.is_empty());
}

/// `events` is the exact number of events written, however small: the busy
/// community and the hot spots are part of it, not added on top.
#[test]
fn event_count_is_exactly_what_was_asked() {
    for n in [0, 1, 100, 1000] {
        let cfg = SynthConfig {
            seed: 3,
            scale: 0.02,
            events: Some(n),
            ..Default::default()
        };
        let (meta, city) = generate(&cfg).unwrap();
        assert_eq!(city.events.len() as u64, n, "--events {n}");
        assert_eq!(meta.expected["events"], n, "--events {n}");
        let ids: Vec<u64> = city.events.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=n).collect::<Vec<_>>(), "--events {n}");
    }
}

/// The named places of CONTEXT.md each occur exactly once, in the town
/// the context names (东星社区 in 荔城区西天尾镇, 常溪社区 and 屏山村 in
/// 黄石镇; it names none for 大坂村 and 东阳村), whatever the seed: the
/// random village names never take them. At scale 0.02 every town has one
/// village (黄石镇 three: its named ones), so only the full scale can
/// collide: seed 1 drew a second 东星社区 (350322012035) before.
#[test]
fn named_places_occur_exactly_once() {
    const NAMED: [(&str, &str, &str); 5] = [
        ("荔城区", "西天尾镇", "东星社区"),
        ("荔城区", "黄石镇", "常溪社区"),
        ("荔城区", "黄石镇", "屏山村"),
        ("荔城区", "北高镇", "大坂村"),
        ("荔城区", "黄石镇", "东阳村"),
    ];
    let cases = (1..=8).map(|seed| (seed, 0.02)).chain([(1, 1.0)]);
    for (seed, scale) in cases {
        let cfg = SynthConfig {
            seed,
            scale,
            events: None,
            ..Default::default()
        };
        let sk = Skeleton::build(&cfg, &|_, _| {});
        for (district, town, village) in NAMED {
            let at: Vec<usize> = (0..sk.names[2].len())
                .filter(|&v| sk.names[2][v] == village)
                .collect();
            assert_eq!(at.len(), 1, "seed {seed}: {village} at villages {at:?}");
            let t = sk.cuts[2].parent[at[0]] as usize;
            assert_eq!(sk.names[1][t], town, "seed {seed}: {village}");
            let d = sk.cuts[1].parent[t] as usize;
            assert_eq!(sk.names[0][d], district, "seed {seed}: {town}");
        }
        let busy = sk.busy_village().expect("the busy community");
        assert_eq!(sk.names[2][busy], "东星社区", "seed {seed}");
    }
}

/// The event layer as the issue describes it: ≈99.7% closed, recurring hot
/// spots (the same problem reported 40+ times at one place), a daily and a
/// weekly rhythm, and about three years of history.
#[test]
fn event_layer_has_closure_hot_spots_and_rhythms() {
    const DAY: i64 = 86_400;
    const TZ: i64 = 8 * 3600;
    let cfg = SynthConfig {
        seed: 7,
        scale: 0.02,
        events: None,
        ..Default::default()
    };
    let (_, city) = generate(&cfg).unwrap();
    let events = &city.events;
    assert!(events.len() >= 10_000, "{} events", events.len());

    // Closure: ≈99.7% (the real community's 99.72%).
    let closed = events
        .iter()
        .filter(|e| e.status == EventStatus::Closed)
        .count();
    let rate = closed as f64 / events.len() as f64;
    assert!((0.996..=0.999).contains(&rate), "closure rate {rate}");

    // Hot spots: groups of 40+ events of one category in one unit, all
    // within 10 m of one of them.
    let mut groups: HashMap<(AreaId, EventCategory), Vec<(f64, f64)>> = HashMap::new();
    for e in events {
        let (mx, my) = (111_320.0 * e.lat.to_radians().cos(), 110_574.0);
        groups
            .entry((e.unit, e.category))
            .or_default()
            .push((e.lon * mx, e.lat * my));
    }
    let hot = groups
        .values()
        .filter(|pts| {
            pts.len() >= 40
                && pts.iter().any(|a| {
                    pts.iter()
                        .filter(|b| (a.0 - b.0).hypot(a.1 - b.1) <= 10.0)
                        .count()
                        >= 40
                })
        })
        .count();
    assert!(hot >= 3, "{hot} hot spots of 40+ reports");

    // Daily rhythm: fewer reports per hour at night (0–5) than by day (9–17).
    let mut by_hour = [0u64; 24];
    let mut by_day: HashMap<i64, u64> = HashMap::new();
    for e in events {
        let local = e.reported_at + TZ;
        by_hour[(local.rem_euclid(DAY) / 3600) as usize] += 1;
        *by_day.entry(local.div_euclid(DAY)).or_default() += 1;
    }
    let night = by_hour[0..6].iter().sum::<u64>() as f64 / 6.0;
    let day = by_hour[9..18].iter().sum::<u64>() as f64 / 9.0;
    assert!(night < 0.5 * day, "per hour: night {night}, day {day}");

    // Weekly rhythm: a mean weekend day has fewer reports than a weekday.
    let (first, last) = (*by_day.keys().min().unwrap(), *by_day.keys().max().unwrap());
    let (mut weekend, mut weekday) = ((0u64, 0u64), (0u64, 0u64));
    for d in first..=last {
        let n = by_day.get(&d).copied().unwrap_or(0);
        // 1970-01-01 was a Thursday; 0 = Monday.
        if (d + 3).rem_euclid(7) >= 5 {
            weekend = (weekend.0 + n, weekend.1 + 1);
        } else {
            weekday = (weekday.0 + n, weekday.1 + 1);
        }
    }
    let weekend = weekend.0 as f64 / weekend.1 as f64;
    let weekday = weekday.0 as f64 / weekday.1 as f64;
    assert!(
        weekend < 0.85 * weekday,
        "per day: weekend {weekend}, weekday {weekday}"
    );

    // About three years of reports.
    let from = events.iter().map(|e| e.reported_at).min().unwrap();
    let to = events.iter().map(|e| e.reported_at).max().unwrap();
    let years = (to - from) as f64 / (365.0 * DAY as f64);
    assert!((2.95..=3.01).contains(&years), "history of {years} years");
    eprintln!("closure {rate}, {hot} hot spots, night {night} day {day}, weekend {weekend} weekday {weekday}, {years} years");
}
