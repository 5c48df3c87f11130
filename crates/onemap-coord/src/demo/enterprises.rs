//! Departments' inspection plans for enterprises, and enterprises' requests.

use super::{dates, rng, Ids};
use crate::{
    CoordError, Date, Department, DeptKind, EnterpriseSite, Plan, PlanSubject, PostponeReason,
    Request, RequestKind, Risk, Sites, Subject, Target, Window,
};
use onemap_core::AreaId;
use rand::Rng;
use std::collections::HashMap;

/// Departments' city-wide campaigns, when many plans fall together:
/// (department, first day, last day).
/// (month, day).
type Md = (u32, u32);

const CAMPAIGNS: &[(DeptKind, Md, Md)] = &[
    (DeptKind::Emergency, (1, 5), (1, 20)),  // 春节前安全大检查
    (DeptKind::Emergency, (6, 1), (6, 30)),  // 安全生产月
    (DeptKind::Emergency, (9, 10), (9, 28)), // 国庆前安全检查
    (DeptKind::Fire, (1, 5), (2, 10)),       // 冬春火灾防控
    (DeptKind::Fire, (11, 1), (11, 30)),     // 消防宣传月
    (DeptKind::Ecology, (5, 15), (6, 15)),   // 夏季臭氧、环境日
    (DeptKind::Ecology, (10, 15), (11, 15)), // 秋冬大气
    (DeptKind::Market, (1, 5), (1, 25)),     // 春节食品
    (DeptKind::Market, (3, 1), (3, 31)),     // 特种设备春检、3·15
    (DeptKind::Market, (9, 1), (9, 25)),     // 中秋国庆
    (DeptKind::Hrss, (1, 5), (1, 20)),       // 根治欠薪冬季行动
    (DeptKind::Hrss, (12, 1), (12, 31)),
    (DeptKind::Housing, (4, 1), (4, 30)),    // 燃气安全
    (DeptKind::Health, (4, 20), (5, 10)),    // 职业病防治法宣传周
    (DeptKind::Statistics, (3, 1), (3, 31)), // 统计年报
    (DeptKind::Transport, (1, 10), (2, 10)), // 春运
    (DeptKind::Water, (5, 1), (5, 31)),      // 汛前
    (DeptKind::Fisheries, (5, 1), (5, 31)),  // 休渔期
];

/// Subjects statutory once a year for a large enterprise: its first plan of
/// each is mandatory.
const STATUTORY: &[Subject] = &[
    Subject::WorkSafety,
    Subject::FireSafety,
    Subject::Environment,
    Subject::SpecialEquipment,
    Subject::FoodSafety,
    Subject::HazardousChemicals,
    Subject::Labour,
];

/// The subjects departments plan for an enterprise, with weights.
fn menu(e: &EnterpriseSite) -> Vec<(Subject, u32)> {
    use Subject::*;
    let mut m = vec![(WorkSafety, 20), (FireSafety, 15), (Labour, 8)];
    if e.large {
        m.extend([(Statistics, 5), (SpecialEquipment, 7)]);
    }
    let industry = e.industry.as_str();
    if !matches!(industry, "贸易" | "物流") {
        m.extend([
            (Environment, 12),
            (OccupationalHealth, 7),
            (ProductQuality, 5),
        ]);
    }
    match industry {
        "食品" => m.extend([(FoodSafety, 14), (GasSafety, 4), (WaterAbstraction, 2)]),
        "水产" => m.extend([(FoodSafety, 8), (AquaticProducts, 8), (WaterAbstraction, 2)]),
        "电子" | "工艺美术" | "木雕" => m.push((HazardousChemicals, 8)),
        "鞋服" => m.extend([(HazardousChemicals, 8), (WaterAbstraction, 2)]),
        "建材" => m.push((ConstructionSafety, 6)),
        "物流" => m.push((RoadTransport, 12)),
        "医疗" => m.push((MedicalDevices, 10)),
        "贸易" => m.push((ProductQuality, 5)),
        _ => {}
    }
    m
}

/// 0 to 2: hazardous industries and very large plants are riskier.
fn hazard(e: &EnterpriseSite) -> u32 {
    let industry = matches!(
        e.industry.as_str(),
        "电子" | "鞋服" | "工艺美术" | "木雕" | "建材" | "水产"
    );
    u32::from(industry) + u32::from(e.employees >= 1000)
}

/// How many plans each large enterprise gets: the town's total (the
/// reference town's given, the others' at `rate` each) shared by size and
/// hazard, largest remainders first.
fn large_counts(
    sites: &Sites,
    cfg: &super::DemoConfig,
    rate: f64,
    reference: Option<AreaId>,
) -> HashMap<u64, u32> {
    let mut by_town: HashMap<AreaId, Vec<&EnterpriseSite>> = HashMap::new();
    for e in sites.enterprises.iter().filter(|e| e.large) {
        by_town.entry(e.town).or_default().push(e);
    }
    let mut out = HashMap::new();
    for (town, list) in by_town {
        let total = if Some(town) == reference {
            f64::from(cfg.reference_plans)
        } else {
            (rate * list.len() as f64).round()
        };
        let w: Vec<f64> = list
            .iter()
            .map(|e| (f64::from(e.employees) / 300.0).sqrt() * (1.0 + 0.2 * f64::from(hazard(e))))
            .collect();
        let sum: f64 = w.iter().sum();
        let (w, sum) = if sum > 0.0 && sum.is_finite() {
            (w, sum)
        } else {
            (vec![1.0; list.len()], list.len() as f64)
        };
        let shares: Vec<f64> = w.iter().map(|x| total * x / sum).collect();
        let mut n: Vec<u32> = shares.iter().map(|s| s.floor() as u32).collect();
        let left = (total as u32).saturating_sub(n.iter().sum::<u32>());
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (shares[a] - shares[a].floor(), shares[b] - shares[b].floor());
            fb.total_cmp(&fa).then(list[a].id.cmp(&list[b].id))
        });
        for &i in order.iter().take(left as usize) {
            n[i] += 1;
        }
        for (e, k) in list.iter().zip(n) {
            out.insert(e.id, k);
        }
    }
    out
}

/// A Poisson draw (Knuth's method; small means only).
fn poisson(rng: &mut impl Rng, mean: f64) -> u32 {
    let l = (-mean.min(30.0)).exp();
    let (mut k, mut p) = (0u32, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// The whole month `m` of `year`.
pub(super) fn month(year: i32, m: u32) -> Result<Window, CoordError> {
    let start = Date::month_start(year, m)?;
    let end = if m == 12 {
        Date::from_ymd(year, 12, 31)?
    } else {
        Date::month_start(year, m + 1)?.plus(-1)
    };
    Window::new(start, end)
}

fn pick<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|x| x.1).sum();
    let mut r = rng.random_range(0..total.max(1));
    for &(x, w) in items {
        if r < w {
            return x;
        }
        r -= w;
    }
    items[0].0
}

/// The year's plans for every enterprise.
pub(super) fn plans(
    sites: &Sites,
    cfg: &super::DemoConfig,
    rate: f64,
    reference: Option<AreaId>,
    ids: &mut Ids,
    out: &mut Vec<Plan>,
) -> Result<(), CoordError> {
    let counts = large_counts(sites, cfg, rate, reference);
    let year = cfg.year;
    let first = Date::year_start(year)?;
    for e in &sites.enterprises {
        let mut rng = rng(cfg.seed, 1, e.id);
        let n = match counts.get(&e.id) {
            Some(&n) => n,
            None => poisson(&mut rng, cfg.plans_per_small),
        };
        let menu = menu(e);
        let h = hazard(e);
        let mut mine = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let s = pick(&mut rng, &menu);
            let kind = s.department();
            let mut subjects = vec![PlanSubject {
                subject: s,
                mandatory: false,
            }];
            let siblings: Vec<Subject> = menu
                .iter()
                .map(|x| x.0)
                .filter(|t| *t != s && t.department() == kind)
                .collect();
            if !siblings.is_empty() && rng.random_bool(0.3) {
                let t = siblings[rng.random_range(0..siblings.len())];
                subjects.push(PlanSubject {
                    subject: t,
                    mandatory: false,
                });
            }
            let campaigns: Vec<_> = CAMPAIGNS.iter().filter(|c| c.0 == kind).collect();
            let window = if !campaigns.is_empty() && rng.random_bool(0.45) {
                let c = campaigns[rng.random_range(0..campaigns.len())];
                dates(year, c.1, c.2, rng.random_range(-4..=4))?
            } else if rng.random_bool(0.6) {
                month(year, rng.random_range(1..=12))?
            } else {
                let start = first.plus(rng.random_range(0..352));
                Window::new(start, start.plus(13))?
            };
            let planned = window.start.plus(rng.random_range(0..window.len()));
            let online = subjects.iter().all(|x| x.subject.online_ok());
            let r: f64 = rng.random();
            let mut risk = if online {
                if r < 0.75 {
                    Risk::Low
                } else {
                    Risk::Medium
                }
            } else {
                let (low, mid) = [(0.35, 0.85), (0.20, 0.70), (0.10, 0.55)][h as usize];
                if r < low {
                    Risk::Low
                } else if r < mid {
                    Risk::Medium
                } else {
                    Risk::High
                }
            };
            if subjects
                .iter()
                .any(|x| x.subject == Subject::HazardousChemicals)
            {
                risk = risk.max(Risk::Medium);
            }
            let p_acc = match risk {
                Risk::High => 0.72,
                Risk::Medium => 0.47,
                Risk::Low => 0.15,
            } * if e.large { 1.0 } else { 0.5 };
            let urgent = rng.random_bool(0.02);
            let accompanied = rng.random_bool(p_acc);
            let follow_up = rng.random_bool(0.06);
            if follow_up {
                subjects[0].mandatory = true;
            }
            mine.push(Plan {
                id: 0,
                department: Department {
                    district: e.district,
                    kind,
                },
                target: Target::Enterprise(e.id),
                window,
                planned,
                subjects,
                risk,
                urgent,
                accompanied,
            });
        }
        mine.sort_by_key(|p| p.planned);
        let mut seen = Vec::new();
        for mut p in mine {
            for s in p.subjects.iter_mut() {
                if e.large && STATUTORY.contains(&s.subject) && !seen.contains(&s.subject) {
                    s.mandatory = true;
                    seen.push(s.subject);
                }
            }
            p.id = ids.plan();
            out.push(p);
        }
    }
    Ok(())
}

/// Enterprises' requests: postponements (relocation, overhaul) and asks
/// for guidance.
pub(super) fn requests(
    sites: &Sites,
    cfg: &super::DemoConfig,
    ids: &mut Ids,
    out: &mut Vec<Request>,
) -> Result<(), CoordError> {
    let first = Date::year_start(cfg.year)?;
    for e in &sites.enterprises {
        let mut rng = rng(cfg.seed, 4, e.id);
        if rng.random_bool(if e.large { 0.08 } else { 0.02 }) {
            let (reason, len) = if rng.random_bool(0.7) {
                (PostponeReason::Relocation, rng.random_range(30..=75))
            } else {
                (PostponeReason::Overhaul, rng.random_range(10..=30))
            };
            let start = first.plus(rng.random_range(0..365 - len));
            out.push(Request {
                id: ids.request(),
                target: Target::Enterprise(e.id),
                kind: RequestKind::Postpone {
                    window: Window::new(start, start.plus(len - 1))?,
                    reason,
                },
            });
        }
        if rng.random_bool(if e.large { 0.25 } else { 0.03 }) {
            let menu = menu(e);
            let subject = pick(&mut rng, &menu);
            let start = first.plus(rng.random_range(0..335));
            out.push(Request {
                id: ids.request(),
                target: Target::Enterprise(e.id),
                kind: RequestKind::Guidance {
                    department: Department {
                        district: e.district,
                        kind: subject.department(),
                    },
                    subject,
                    window: Window::new(start, start.plus(29))?,
                },
            });
        }
    }
    Ok(())
}
