//! The demo year on a small synthetic Putian (scale 0.02): the seed's
//! reductions come out of the rules, every plan is explained, the same seed
//! gives the same year, and the pieces around it (sites, pushes, the table)
//! behave.

use onemap_coord::*;
use onemap_core::{AreaId, CityData, SchoolKind};
use std::collections::HashSet;
use std::sync::OnceLock;

fn city() -> &'static CityData {
    static CITY: OnceLock<CityData> = OnceLock::new();
    CITY.get_or_init(|| {
        let cfg = onemap_synth::SynthConfig {
            scale: 0.02,
            ..Default::default()
        };
        onemap_synth::generate(&cfg).expect("the small city").1
    })
}

fn demo() -> &'static (Demo, YearRun) {
    static RUN: OnceLock<(Demo, YearRun)> = OnceLock::new();
    RUN.get_or_init(|| {
        let sites = Sites::from_city(city()).expect("sites");
        let demo = demo::generate(sites, &DemoConfig::default()).expect("demo year");
        let run = run_year(&demo, &Rules::default(), &YearPolicy::default()).expect("run");
        (demo, run)
    })
}

#[test]
fn the_demo_year_shows_the_seeds_reductions() {
    let (demo, run) = demo();
    let f = figures(demo, run, Scope::City);
    println!("{}", f.table());
    let t = &f.total;
    assert!(t.onsite_large.before > 300, "{t:?}");
    let change = |c: Counts| c.change().expect("something before");
    // Large enterprises: at least half fewer on-site and accompanied inspections.
    assert!(change(t.onsite_large) <= -0.5, "{:?}", t.onsite_large);
    assert!(
        change(t.accompanied_large) <= -0.5,
        "{:?}",
        t.accompanied_large
    );
    // All enterprises fall less: a small enterprise has about one plan a
    // year, with little to merge (−44 % to −64 % over city seeds at full scale).
    assert!(change(t.onsite) <= -0.4, "{:?}", t.onsite);
    // Before: about two visits a school a month; after: about 0.3 (−85 %).
    let (before, after) = f.visits_per_school_month;
    assert!((1.6..=2.4).contains(&before), "{before}");
    assert!((0.15..=0.45).contains(&after), "{after}");
    assert!(change(t.school_visits) <= -0.75, "{:?}", t.school_visits);
    // Departments entering schools: −70 % or so.
    let d = f.school_departments;
    assert!(d.before >= 50, "{d:?}");
    assert!(change(d) <= -0.6, "{d:?}");
    // Every month is fewer on site than before, for large enterprises.
    for m in &f.months {
        assert!(m.onsite_large.after <= m.onsite_large.before, "{m:?}");
    }
    // The reductions come from every rule, not one.
    for action in ["merge", "online", "cancel", "keep"] {
        assert!(f.suggestions[action] > 0, "{action}: {:?}", f.suggestions);
    }
    assert!(f.refused > 0 && f.pushes > 0 && f.self_checked > 0);
}

#[test]
fn every_plan_is_settled_once_and_explained() {
    let (demo, run) = demo();
    let year: HashSet<u64> = demo.plans.iter().map(|p| p.id).collect();
    let suggested: Vec<u64> = run.suggestions.iter().map(|s| s.plan).collect();
    assert_eq!(suggested.len(), year.len());
    assert_eq!(suggested.iter().copied().collect::<HashSet<_>>(), year);
    let mut in_visits = HashSet::new();
    for v in &run.visits {
        for p in &v.plans {
            assert!(in_visits.insert(*p), "plan {p} is in two visits");
        }
    }
    for s in &run.suggestions {
        assert!(!s.reason.text.is_empty());
        let refused = run.decisions.iter().any(|d| d.plan == s.plan && !d.accept);
        let cancelled = s.action == Action::Cancel && !refused;
        assert_eq!(in_visits.contains(&s.plan), !cancelled, "plan {}", s.plan);
    }
    // Mandatory subjects are all checked in some visit.
    let by_id: std::collections::HashMap<u64, &Visit> = run
        .visits
        .iter()
        .flat_map(|v| v.plans.iter().map(move |p| (*p, v)))
        .collect();
    for p in demo.plans.iter().filter(|p| p.has_mandatory()) {
        let v = by_id
            .get(&p.id)
            .expect("a plan with a mandatory subject has a visit");
        for s in p.subjects.iter().filter(|s| s.mandatory) {
            assert!(v
                .subjects
                .iter()
                .any(|x| x.subject == s.subject && x.mandatory));
        }
    }
}

#[test]
fn same_seed_same_year_other_seed_other_year() {
    let sites = Sites::from_city(city()).unwrap();
    let a = demo::generate(sites.clone(), &DemoConfig::default()).unwrap();
    let b = demo::generate(sites.clone(), &DemoConfig::default()).unwrap();
    assert_eq!(a, b);
    let (demo, run) = demo();
    assert_eq!(&a, demo);
    let again = run_year(&a, &Rules::default(), &YearPolicy::default()).unwrap();
    assert_eq!(&again, run);
    let other = demo::generate(
        sites,
        &DemoConfig {
            seed: 2,
            ..DemoConfig::default()
        },
    )
    .unwrap();
    assert_ne!(other.plans, a.plans);
    // A town's figures are the same whether the year ran for the city or for it alone.
    let town = a
        .sites
        .towns
        .iter()
        .find(|t| {
            a.plans
                .iter()
                .any(|p| a.sites.place_of(p.target).is_some_and(|x| x.0 == t.id))
        })
        .unwrap()
        .id;
    let alone = a.clone().restrict(Scope::Town(town));
    let alone_run = run_year(&alone, &Rules::default(), &YearPolicy::default()).unwrap();
    assert_eq!(
        figures(&alone, &alone_run, Scope::Town(town)),
        figures(&a, run, Scope::Town(town))
    );
}

/// The year run town by town (as the server keeps it) gives the city's
/// figures, and a department's own answer stands in for the drawn one.
#[test]
fn town_by_town_runs_add_up_and_overrides_stand() {
    let (demo, run) = demo();
    let rules = Rules::default();
    let policy = YearPolicy::default();
    let towns: Vec<YearRun> = demo
        .sites
        .towns
        .iter()
        .map(|t| {
            let town = t.id;
            let keep = |x: Target| demo.sites.place_of(x).is_some_and(|p| p.0 == town);
            run_year_of(demo, keep, &rules, &policy).expect("a town's year")
        })
        .collect();
    let parts: Vec<&YearRun> = towns.iter().collect();
    assert_eq!(
        figures_of(demo, &parts, Scope::City),
        figures(demo, run, Scope::City)
    );
    // A refused suggestion, now accepted by its department: the plan no
    // longer has a visit of its own on its planned day.
    let refused = run
        .decisions
        .iter()
        .find(|d| !d.accept)
        .expect("the demo refuses some suggestions")
        .plan;
    let plan = demo.plans.iter().find(|p| p.id == refused).unwrap();
    let town = demo.sites.place_of(plan.target).unwrap().0;
    let keep = |x: Target| demo.sites.place_of(x).is_some_and(|p| p.0 == town);
    let mut accepting = policy.clone();
    accepting.overrides.insert(refused, true);
    let after = run_year_of(demo, keep, &rules, &accepting).unwrap();
    let before = towns
        .iter()
        .zip(&demo.sites.towns)
        .find(|(_, t)| t.id == town)
        .unwrap()
        .0;
    let decision = |r: &YearRun| r.decisions.iter().find(|d| d.plan == refused).copied();
    assert_eq!(decision(before).map(|d| d.accept), Some(false));
    assert_eq!(decision(&after).map(|d| d.accept), Some(true));
    let carried = |r: &YearRun| -> Vec<(Date, Mode, usize)> {
        r.visits
            .iter()
            .filter(|v| v.plans.contains(&refused))
            .map(|v| (v.date, v.mode, v.plans.len()))
            .collect()
    };
    assert_ne!(carried(before), carried(&after));
}

/// A hand-made city: 西天尾镇 with six large enterprises and others, a second town.
fn sites() -> Sites {
    let d = AreaId::new(350304).unwrap();
    let (t1, t2) = (
        AreaId::new(350304003).unwrap(),
        AreaId::new(350304004).unwrap(),
    );
    let enterprise = |id: u64, town: AreaId, industry: &str, employees: u32| EnterpriseSite {
        id,
        name: format!("企业{id}"),
        industry: industry.into(),
        employees,
        large: employees >= 300,
        town,
        district: d,
    };
    Sites {
        districts: vec![(d, "荔城区".into())],
        towns: vec![
            TownInfo {
                id: t1,
                name: "西天尾镇".into(),
                district: d,
            },
            TownInfo {
                id: t2,
                name: "黄石镇".into(),
                district: d,
            },
        ],
        enterprises: vec![
            enterprise(1, t1, "鞋服", 2400),
            enterprise(2, t1, "食品", 800),
            enterprise(3, t1, "电子", 500),
            enterprise(4, t1, "鞋服", 350),
            enterprise(5, t1, "物流", 320),
            enterprise(6, t1, "工艺美术", 310),
            enterprise(7, t1, "鞋服", 40),
            enterprise(8, t1, "鞋服", 12),
            enterprise(9, t2, "鞋服", 900),
            enterprise(10, t2, "鞋服", 30),
        ],
        schools: vec![SchoolSite {
            id: 1,
            name: "西天尾第1小学".into(),
            kind: SchoolKind::Primary,
            students: 900,
            town: t1,
            district: d,
        }],
        unplaced: 0,
    }
}

#[test]
fn the_reference_town_gets_its_793_plans() {
    let demo = demo::generate(sites(), &DemoConfig::default()).unwrap();
    let t1 = AreaId::new(350304003).unwrap();
    assert_eq!(demo.reference, Some(t1));
    let large: Vec<&Plan> = demo
        .plans
        .iter()
        .filter(|p| matches!(p.target, Target::Enterprise(1..=6)))
        .collect();
    assert_eq!(large.len(), 793);
    let accompanied = large.iter().filter(|p| p.accompanied).count();
    assert!(
        (280..=400).contains(&accompanied),
        "{accompanied} accompanied (339 in Putian)"
    );
    // The other town's large enterprise gets the same rate.
    let other = demo
        .plans
        .iter()
        .filter(|p| p.target == Target::Enterprise(9))
        .count();
    assert_eq!(other, (793.0f64 / 6.0).round() as usize);
    // Windows and days inside the year, subjects the department's.
    for p in &demo.plans {
        p.check().unwrap();
        assert_eq!(p.planned.year(), 2023);
    }
    // Fewer than five large enterprises: the full-scale rate instead.
    let mut few = sites();
    few.enterprises.retain(|e| e.id > 3);
    let demo = demo::generate(few, &DemoConfig::default()).unwrap();
    assert_eq!(demo.reference, None);
    assert_eq!(demo.plans_per_large, 56.6);
    assert!(demo::generate(
        sites(),
        &DemoConfig {
            year: 1800,
            ..DemoConfig::default()
        }
    )
    .is_err());
    assert!(demo::generate(
        sites(),
        &DemoConfig {
            plans_per_small: f64::NAN,
            ..DemoConfig::default()
        }
    )
    .is_err());
}

#[test]
fn a_finding_is_pushed_to_the_same_industry_in_the_town() {
    let sites = sites();
    let date = Date::from_ymd(2023, 5, 8).unwrap();
    let record = Record {
        id: 77,
        target: Target::Enterprise(1),
        department: Department {
            district: AreaId::new(350304).unwrap(),
            kind: DeptKind::Fire,
        },
        subject: Subject::FireSafety,
        date,
        online: false,
        finding: Some(Finding {
            subject: Subject::FireSafety,
            code: "exit_blocked".into(),
            text: "安全出口、疏散通道堵塞".into(),
        }),
    };
    let mut push = Push::new(1, &sites, &record, PushLevel::Town).unwrap();
    // 鞋服 in 西天尾镇, not the source, not 黄石镇's.
    assert_eq!(
        push.checks.iter().map(|c| c.enterprise).collect::<Vec<_>>(),
        vec![4, 7, 8]
    );
    assert!(push.notice(&sites).contains("安全出口"));
    let wide = Push::new(2, &sites, &record, PushLevel::District).unwrap();
    assert_eq!(wide.checks.len(), 5);
    let later = date.plus(5);
    push.set_status(4, SelfCheckStatus::SelfChecked, later)
        .unwrap();
    push.set_status(4, SelfCheckStatus::Rectified, later.plus(3))
        .unwrap();
    push.set_status(7, SelfCheckStatus::SelfChecked, later)
        .unwrap();
    assert_eq!(push.counts(), [1, 1, 1]);
    assert!(matches!(
        push.set_status(8, SelfCheckStatus::Rectified, later),
        Err(CoordError::BadSelfCheck { .. })
    ));
    assert!(matches!(
        push.set_status(4, SelfCheckStatus::Pending, later),
        Err(CoordError::BadSelfCheck { .. })
    ));
    assert_eq!(
        push.set_status(99, SelfCheckStatus::SelfChecked, later),
        Err(CoordError::NotPushed(99))
    );
    let mut none = record.clone();
    none.finding = None;
    assert_eq!(
        Push::new(3, &sites, &none, PushLevel::Town),
        Err(CoordError::NothingToPush(77))
    );
    // The same problem in the same town and industry is pushed once a month.
    let mut all = Pushes::new(30);
    assert_eq!(
        all.record(&sites, &record, PushLevel::Town).unwrap(),
        Some(1)
    );
    let mut again = record.clone();
    again.date = date.plus(10);
    assert_eq!(all.record(&sites, &again, PushLevel::Town).unwrap(), None);
    again.date = date.plus(40);
    assert_eq!(
        all.record(&sites, &again, PushLevel::Town).unwrap(),
        Some(2)
    );
}

#[test]
fn the_table_and_its_errors() {
    let req = ReportRequest {
        city: city(),
        area: "西天尾镇",
        year: 2023,
        seed: 1,
    };
    let table = before_after_table(&req).unwrap();
    // The same figures as JSON, for an API: the town's id and the year's counts.
    let f = report(&req).unwrap();
    let j = serde_json::to_value(&f).unwrap();
    assert_eq!(j["scope"]["level"], "town");
    assert_eq!(
        j["total"]["onsite_large"]["before"],
        f.total.onsite_large.before
    );
    assert_eq!(j["months"].as_array().map(Vec::len), Some(12));
    assert!(
        table.contains("西天尾镇") && table.contains("全年") && table.contains("进校园部门"),
        "{table}"
    );
    let sites = Sites::from_city(city()).unwrap();
    let town = sites.town_named("西天尾镇").unwrap().id;
    assert_eq!(sites.scope(&town.to_string()), Ok(Scope::Town(town)));
    assert_eq!(
        sites.scope("荔城区"),
        Ok(Scope::District(AreaId::new(350304).unwrap()))
    );
    assert_eq!(sites.scope("city"), Ok(Scope::City));
    assert!(matches!(
        sites.scope("350304999"),
        Err(CoordError::UnknownArea(_))
    ));
    assert!(matches!(
        sites.scope("350304003001"),
        Err(CoordError::NotDistrictOrTown(_))
    ));
    assert!(matches!(
        sites.scope("火星"),
        Err(CoordError::UnknownArea(_))
    ));
    assert!(before_after_table(&ReportRequest {
        area: "nowhere",
        ..req.clone()
    })
    .is_err());
    assert!(before_after_table(&ReportRequest { year: 3000, ..req }).is_err());
    // Every enterprise and school of the city is placed in a town.
    assert_eq!(sites.unplaced, 0);
    assert_eq!(sites.enterprises.len(), city().enterprises.len());
    assert!(Sites::from_city(&CityData::default()).is_err());
}
