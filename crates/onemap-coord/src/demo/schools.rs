//! Departments' plans to enter schools, and schools' requests.
//!
//! Each school is inspected in each term (canteen food safety three times a
//! year, fire safety, hygiene and campus security twice) and gets talks on
//! themed days (交通安全日, 防灾减灾日, 国际禁毒日, 全国科普日 …) from the 14
//! kinds of department that enter schools: about 24 plans a school, two a
//! month. A department plans one round for all the schools of its district,
//! so its windows are the district's, shifted by a few days from others'.

use super::{dates, mix, rng, unit, Ids};
use crate::{
    CoordError, Department, Plan, PlanSubject, Request, RequestKind, Risk, SchoolEvent, Sites,
    Subject, Target,
};
use onemap_core::SchoolKind;
use rand::Rng;

type Md = (u32, u32);

/// Inspections: subject, window, mandatory.
const INSPECTIONS: &[(Subject, Md, Md, bool)] = &[
    (Subject::FoodSafety, (2, 20), (4, 15), true),
    (Subject::FoodSafety, (4, 16), (6, 25), false),
    (Subject::FoodSafety, (9, 5), (11, 30), true),
    (Subject::FireSafety, (3, 1), (4, 30), true),
    (Subject::FireSafety, (10, 8), (11, 30), true),
    (Subject::SchoolHygiene, (3, 10), (5, 31), true),
    (Subject::SchoolHygiene, (9, 10), (12, 15), false),
    (Subject::CampusSecurity, (2, 20), (3, 31), true),
    (Subject::CampusSecurity, (9, 1), (9, 30), false),
];

/// Talks on themed days: subject, window. Each happens with probability 0.9.
const TALKS: &[(Subject, Md, Md)] = &[
    (Subject::TrafficEducation, (3, 1), (3, 31)),
    (Subject::TrafficEducation, (11, 15), (12, 15)), // 全国交通安全日
    (Subject::AntiFraudEducation, (4, 1), (4, 30)),
    (Subject::FireEducation, (11, 1), (11, 30)), // 消防宣传月
    (Subject::HealthEducation, (4, 1), (4, 30)), // 爱国卫生月
    (Subject::LegalEducation, (11, 25), (12, 10)), // 宪法日
    (Subject::DisasterEducation, (5, 5), (5, 20)), // 防灾减灾日
    (Subject::AntiDrugEducation, (6, 10), (6, 30)), // 国际禁毒日
    (Subject::DrowningPrevention, (5, 15), (6, 30)),
    (Subject::DrowningPrevention, (9, 1), (9, 20)),
    (Subject::ScienceOutreach, (5, 15), (5, 31)), // 科技活动周
    (Subject::ScienceOutreach, (9, 10), (9, 25)), // 全国科普日
    (Subject::ChildProtection, (5, 20), (6, 5)),
    (Subject::YouthEducation, (4, 25), (5, 10)),
    (Subject::EcoEducation, (6, 1), (6, 10)), // 环境日
    (Subject::CyberSafety, (9, 10), (9, 25)), // 网络安全宣传周
];

/// The shift (−5 … +5 days) of a department's round in a district.
fn shift(seed: u64, district: u64, subject: Subject, round: usize) -> i32 {
    let idx = Subject::ALL.iter().position(|s| *s == subject).unwrap_or(0) as u64;
    (mix(seed, 5, district * 4096 + idx * 16 + round as u64) % 11) as i32 - 5
}

/// The year's plans to enter every school.
pub(super) fn plans(
    sites: &Sites,
    cfg: &super::DemoConfig,
    ids: &mut Ids,
    out: &mut Vec<Plan>,
) -> Result<(), CoordError> {
    let year = cfg.year;
    for school in &sites.schools {
        let mut rng = rng(cfg.seed, 2, school.id);
        let mut mine = Vec::new();
        let d = school.district.get();
        let mut push =
            |subject: Subject, window, mandatory, risk, rng: &mut rand_chacha::ChaCha8Rng| {
                let window: crate::Window = window;
                mine.push(Plan {
                    id: 0,
                    department: Department {
                        district: school.district,
                        kind: subject.department(),
                    },
                    target: Target::School(school.id),
                    window,
                    planned: window.start.plus(rng.random_range(0..window.len())),
                    subjects: vec![PlanSubject { subject, mandatory }],
                    risk,
                    // A complaint (a canteen, a fire exit) makes an inspection urgent; a talk never is.
                    urgent: !subject.is_publicity() && rng.random_bool(0.01),
                    accompanied: false,
                });
            };
        for (round, &(subject, a, b, mandatory)) in INSPECTIONS.iter().enumerate() {
            let w = dates(year, a, b, shift(cfg.seed, d, subject, round))?;
            let risk = if subject == Subject::FoodSafety && school.students > 1500 {
                Risk::High
            } else {
                Risk::Medium
            };
            push(subject, w, mandatory, risk, &mut rng);
        }
        for (round, &(subject, a, b)) in TALKS.iter().enumerate() {
            if rng.random_bool(0.9) {
                let w = dates(year, a, b, shift(cfg.seed, d, subject, round))?;
                push(subject, w, false, Risk::Low, &mut rng);
            }
        }
        mine.sort_by_key(|p| p.planned);
        for mut p in mine {
            p.id = ids.plan();
            out.push(p);
        }
    }
    Ok(())
}

/// Schools' requests: a few primary and middle schools hold a science day
/// (科技节) in the science week and invite the science association; a few
/// hold an evacuation drill in the fire month and invite the fire brigade.
pub(super) fn requests(
    sites: &Sites,
    cfg: &super::DemoConfig,
    ids: &mut Ids,
    out: &mut Vec<Request>,
) -> Result<(), CoordError> {
    for school in &sites.schools {
        if !matches!(school.kind, SchoolKind::Primary | SchoolKind::Middle) {
            continue;
        }
        for (k, (event, subject, a, b)) in [
            (
                SchoolEvent::ScienceDay,
                Subject::ScienceOutreach,
                (5, 18),
                (5, 29),
            ),
            (
                SchoolEvent::SafetyDrill,
                Subject::FireEducation,
                (11, 6),
                (11, 24),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            if unit(cfg.seed, 6 + k as u64, school.id) >= 0.006 {
                continue;
            }
            let w = dates(cfg.year, a, b, 0)?;
            let date = w
                .start
                .plus((mix(cfg.seed, 8 + k as u64, school.id) % w.len() as u64) as i32);
            out.push(Request {
                id: ids.request(),
                target: Target::School(school.id),
                kind: RequestKind::Event {
                    event,
                    department: Department {
                        district: school.district,
                        kind: subject.department(),
                    },
                    subject,
                    date,
                },
            });
        }
    }
    Ok(())
}
