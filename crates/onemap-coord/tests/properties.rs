//! Properties of the coordinator over random batches: random plans for a
//! few enterprises and a school (windows, subjects, mandatory flags, risk,
//! urgency), random postponements, guidance requests, school events and a
//! random history of inspections with and without findings. Every check
//! here is stated on the output alone, so a wrong coordinator fails it.

use onemap_coord::*;
use onemap_core::AreaId;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

const FROM: (i32, u32, u32) = (2023, 3, 1);

fn from() -> Date {
    Date::from_ymd(FROM.0, FROM.1, FROM.2).unwrap()
}

fn district() -> AreaId {
    AreaId::new(350304).unwrap()
}

fn dept(kind: DeptKind) -> Department {
    Department {
        district: district(),
        kind,
    }
}

/// Subjects of enterprise inspections, grouped by department kind.
fn kinds() -> Vec<(DeptKind, Vec<Subject>)> {
    let mut m: BTreeMap<DeptKind, Vec<Subject>> = BTreeMap::new();
    for s in Subject::ALL {
        m.entry(s.department()).or_default().push(*s);
    }
    m.into_iter().collect()
}

/// Targets: enterprises 1–3 and school 1.
fn target(i: u8) -> Target {
    match i % 4 {
        3 => Target::School(1),
        n => Target::Enterprise(u64::from(n) + 1),
    }
}

prop_compose! {
    fn plan_strategy()(
        t in 0u8..4,
        kind in 0usize..64,
        picks in proptest::collection::vec((0usize..8, any::<bool>()), 1..3),
        start in 0i32..80,
        len in 1i32..40,
        at in 0i32..40,
        risk in 0u8..3,
        urgent in proptest::bool::weighted(0.08),
        accompanied in any::<bool>(),
    ) -> Plan {
        let ks = kinds();
        let (kind, subjects) = &ks[kind % ks.len()];
        let mut chosen: Vec<PlanSubject> = Vec::new();
        for (i, mandatory) in picks {
            let s = subjects[i % subjects.len()];
            if !chosen.iter().any(|c| c.subject == s) {
                chosen.push(PlanSubject { subject: s, mandatory });
            }
        }
        let s = from().plus(start);
        let window = Window::new(s, s.plus(len - 1)).unwrap();
        Plan {
            id: 0,
            department: dept(*kind),
            target: target(t),
            window,
            planned: s.plus(at % len),
            subjects: chosen,
            risk: [Risk::Low, Risk::Medium, Risk::High][risk as usize],
            urgent,
            accompanied,
        }
    }
}

prop_compose! {
    fn request_strategy()(
        t in 0u8..4,
        kind in 0u8..3,
        start in -10i32..90,
        len in 1i32..40,
        subject in 0usize..64,
    ) -> Request {
        let s = from().plus(start);
        let window = Window::new(s, s.plus(len - 1)).unwrap();
        let subject = Subject::ALL[subject % Subject::ALL.len()];
        let target = target(t);
        let kind = match (kind, target) {
            (0, _) => RequestKind::Postpone { window, reason: PostponeReason::Relocation },
            (_, Target::School(_)) => RequestKind::Event {
                event: SchoolEvent::ScienceDay,
                department: dept(subject.department()),
                subject,
                date: s,
            },
            _ => RequestKind::Guidance { department: dept(subject.department()), subject, window },
        };
        Request { id: 0, target, kind }
    }
}

prop_compose! {
    fn record_strategy()(t in 0u8..4, subject in 0usize..64, ago in 1i32..150, finding in proptest::bool::weighted(0.3)) -> Record {
        let subject = Subject::ALL[subject % Subject::ALL.len()];
        Record {
            id: 0,
            target: target(t),
            department: dept(subject.department()),
            subject,
            date: from().plus(-ago),
            online: false,
            finding: finding.then(|| Finding { subject, code: "x".into(), text: "问题".into() }),
        }
    }
}

prop_compose! {
    fn batch_strategy()(
        plans in proptest::collection::vec(plan_strategy(), 0..40),
        requests in proptest::collection::vec(request_strategy(), 0..6),
        history in proptest::collection::vec(record_strategy(), 0..30),
    ) -> Batch {
        let mut plans = plans;
        for (i, p) in plans.iter_mut().enumerate() { p.id = 100 + i as u64; }
        let mut requests = requests;
        for (i, r) in requests.iter_mut().enumerate() { r.id = 500 + i as u64; }
        let mut history = history;
        for (i, r) in history.iter_mut().enumerate() { r.id = 900 + i as u64; }
        Batch { from: from(), plans, requests, history, booked: Vec::new(), first_visit_id: 1 }
    }
}

/// Where each plan went: the visit holding it, if any.
fn holders(c: &Coordination) -> HashMap<u64, Vec<&Visit>> {
    let mut m: HashMap<u64, Vec<&Visit>> = HashMap::new();
    for v in &c.visits {
        for p in &v.plans {
            m.entry(*p).or_default().push(v);
        }
    }
    m
}

fn check(batch: &Batch, c: &Coordination, rules: &Rules) -> Result<(), TestCaseError> {
    let plans: HashMap<u64, &Plan> = batch.plans.iter().map(|p| (p.id, p)).collect();
    let held = holders(c);
    // Every plan is accounted for exactly once.
    prop_assert_eq!(c.suggestions.len(), batch.plans.len());
    let ids: HashSet<u64> = c.suggestions.iter().map(|s| s.plan).collect();
    prop_assert_eq!(ids, plans.keys().copied().collect::<HashSet<_>>());
    for s in &c.suggestions {
        let p = plans[&s.plan];
        let vs = held.get(&s.plan).cloned().unwrap_or_default();
        prop_assert_eq!(s.reason.code.action(), s.action);
        prop_assert!(!s.reason.text.is_empty());
        if s.action == Action::Cancel {
            // Cancelled: in no visit, nothing mandatory, each subject a
            // duplicate of a recent record with nothing found.
            prop_assert!(vs.is_empty(), "cancelled plan {} is in a visit", p.id);
            prop_assert!(
                !p.has_mandatory(),
                "plan {} with a mandatory subject cancelled",
                p.id
            );
            prop_assert!(!p.urgent);
            for sub in &p.subjects {
                let r = batch
                    .history
                    .iter()
                    .find(|r| s.duplicates.contains(&r.id) && r.subject == sub.subject);
                prop_assert!(r.is_some_and(|r| r.finding.is_none()
                    && r.target == p.target
                    && p.planned.since(r.date) <= rules.duplicate_days));
            }
            continue;
        }
        prop_assert_eq!(vs.len(), 1, "plan {} is in {} visits", p.id, vs.len());
        let v = vs[0];
        prop_assert_eq!(Some(v.id), s.visit);
        prop_assert_eq!(Some(v.date), s.date);
        prop_assert_eq!(v.target, p.target);
        // A visit covers every subject of the plans it replaces, mandatory
        // ones as mandatory.
        for sub in &p.subjects {
            let got = v.subjects.iter().find(|x| x.subject == sub.subject);
            prop_assert!(
                got.is_some(),
                "visit {} drops {} of plan {}",
                v.id,
                sub.subject,
                p.id
            );
            prop_assert!(!sub.mandatory || got.is_some_and(|g| g.mandatory));
        }
        prop_assert!(v.departments.contains(&p.department));
        // Outside the plan's window only when the reason says why.
        if !p.window.contains(v.date) && s.action != Action::Reschedule {
            prop_assert!(
                s.reason.text.contains("暂缓") || s.reason.text.contains("调整至"),
                "plan {} moved out of its window without a word: {}",
                p.id,
                s.reason.text
            );
        }
        match s.action {
            Action::Online => {
                prop_assert_eq!(v.mode, Mode::Online);
                prop_assert!(p.risk == Risk::Low && !p.urgent);
                prop_assert!(p.subjects.iter().all(|x| x.subject.online_ok()));
            }
            Action::Merge => {
                prop_assert!(v.on_site() && (v.plans.len() >= 2 || !v.requests.is_empty()))
            }
            Action::Keep => {
                prop_assert!(v.on_site());
                prop_assert_eq!(v.date, p.planned);
            }
            Action::Reschedule => {
                prop_assert!(v.on_site() && v.plans.len() == 1);
                prop_assert_ne!(v.date, p.planned);
            }
            Action::Cancel => unreachable!(),
        }
        if v.on_site() {
            prop_assert!(v.date >= batch.from || p.urgent);
            prop_assert_eq!(s.accompanied, v.accompanied);
            // The town goes only where a plan asked and is high-risk or urgent.
            prop_assert_eq!(
                v.accompanied,
                v.plans
                    .iter()
                    .any(|id| plans.get(id).is_some_and(|q| town_accompanies(q)))
            );
        }
    }
    // Visits hold only this batch's plans, and at most the rules' team.
    for v in &c.visits {
        prop_assert!(v.plans.iter().all(|id| plans.contains_key(id)));
        prop_assert!(v.departments.len() <= rules.max_departments.max(1));
        prop_assert!(
            v.subjects.len()
                <= rules.max_subjects.max(
                    v.plans
                        .iter()
                        .map(|id| plans[id].subjects.len())
                        .max()
                        .unwrap_or(1)
                )
        );
        for a in &v.subjects {
            for b in &v.subjects {
                prop_assert!(compatible(a.subject, b.subject) || v.plans.len() == 1);
            }
        }
    }
    // No enterprise or school gets two on-site visits in a week unless one
    // is urgent or the school's own event; none in a postponement it asked
    // for unless urgent; never more a month than the cap beyond fixed ones.
    let mut by_target: BTreeMap<Target, Vec<&Visit>> = BTreeMap::new();
    for v in c.visits.iter().filter(|v| v.on_site()) {
        by_target.entry(v.target).or_default().push(v);
    }
    for (t, vs) in &by_target {
        for (i, a) in vs.iter().enumerate() {
            for b in &vs[i + 1..] {
                if a.date.week() == b.date.week() {
                    prop_assert!(
                        a.fixed() || b.fixed(),
                        "{t:?}: visits {} and {} in one week",
                        a.id,
                        b.id
                    );
                }
            }
            for r in batch.requests.iter().filter(|r| r.target == *t) {
                if let RequestKind::Postpone { window, .. } = r.kind {
                    prop_assert!(
                        a.fixed() || !window.contains(a.date),
                        "visit {} in postponement {}",
                        a.id,
                        r.id
                    );
                }
            }
        }
        let mut months: BTreeMap<(i32, u32), (usize, usize)> = BTreeMap::new();
        for v in vs {
            let e = months.entry(v.date.year_month()).or_default();
            e.0 += 1;
            e.1 += usize::from(v.fixed());
        }
        for (all, fixed) in months.values() {
            prop_assert!(
                *all <= rules.month_cap(*t).max(*fixed),
                "{t:?}: {all} visits in a month"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn suggestions_hold_their_promises(batch in batch_strategy()) {
        let rules = Rules::default();
        let c = coordinate(&batch, &rules).unwrap();
        check(&batch, &c, &rules)?;
    }

    #[test]
    fn tight_rules_hold_too(batch in batch_strategy(), depts in 1usize..3, subjects in 1usize..3, cap in 1usize..3) {
        let rules = Rules {
            max_departments: depts,
            max_subjects: subjects,
            max_onsite_per_month_enterprise: cap,
            max_onsite_per_month_school: cap,
            ..Rules::default()
        };
        let c = coordinate(&batch, &rules).unwrap();
        check(&batch, &c, &rules)?;
    }

    #[test]
    fn same_batch_same_answer_in_any_order(batch in batch_strategy(), seed in any::<u64>()) {
        let rules = Rules::default();
        let a = coordinate(&batch, &rules).unwrap();
        prop_assert_eq!(&a, &coordinate(&batch, &rules).unwrap());
        let mut shuffled = batch.clone();
        let n = shuffled.plans.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(i as u64 + 7) >> 7) as usize % (i + 1);
            shuffled.plans.swap(i, j);
        }
        shuffled.requests.reverse();
        shuffled.history.reverse();
        prop_assert_eq!(a, coordinate(&shuffled, &rules).unwrap());
    }

    #[test]
    fn decisions_account_for_every_plan(batch in batch_strategy(), refuse in proptest::collection::vec(any::<bool>(), 40)) {
        let rules = Rules::default();
        let c = coordinate(&batch, &rules).unwrap();
        let decisions: Vec<Decision> = c.suggestions.iter().zip(&refuse)
            .map(|(s, r)| Decision { plan: s.plan, accept: !r })
            .collect();
        let applied = apply(&batch, &c, &decisions).unwrap();
        let refused: HashSet<u64> = decisions.iter().filter(|d| !d.accept).map(|d| d.plan)
            .filter(|p| c.suggestions.iter().any(|s| s.plan == *p && s.action != Action::Keep)).collect();
        prop_assert_eq!(&applied.refused.iter().copied().collect::<HashSet<_>>(), &refused);
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for v in &applied.visits {
            for p in &v.plans { *seen.entry(*p).or_default() += 1; }
        }
        for s in &c.suggestions {
            let p = batch.plans.iter().find(|p| p.id == s.plan).unwrap();
            let n = seen.get(&s.plan).copied().unwrap_or(0);
            if refused.contains(&s.plan) {
                // Back as planned: on site, on its day, on its own.
                prop_assert_eq!(n, 1);
                let v = applied.visits.iter().find(|v| v.plans.contains(&s.plan)).unwrap();
                prop_assert!(v.on_site() && v.date == p.planned && v.plans.len() == 1);
            } else if s.action == Action::Cancel {
                prop_assert_eq!(n, 0);
                prop_assert!(applied.cancelled.contains(&s.plan));
            } else {
                prop_assert_eq!(n, 1);
                let v = applied.visits.iter().find(|v| v.plans.contains(&s.plan)).unwrap();
                prop_assert_eq!(Some(v.id), s.visit);
                for sub in &p.subjects {
                    prop_assert!(v.subjects.iter().any(|x| x.subject == sub.subject && (x.mandatory || !sub.mandatory)));
                }
            }
        }
        let ids: HashSet<u64> = applied.visits.iter().map(|v| v.id).collect();
        prop_assert_eq!(ids.len(), applied.visits.len());
    }
}

#[test]
fn bad_batches_are_errors_not_panics() {
    let rules = Rules::default();
    let s = from();
    let plan = Plan {
        id: 1,
        department: dept(DeptKind::Fire),
        target: Target::Enterprise(1),
        window: Window::new(s, s.plus(9)).unwrap(),
        planned: s.plus(2),
        subjects: vec![PlanSubject {
            subject: Subject::FireSafety,
            mandatory: true,
        }],
        risk: Risk::Medium,
        urgent: false,
        accompanied: false,
    };
    let batch = |plans: Vec<Plan>| Batch {
        from: s,
        plans,
        requests: vec![],
        history: vec![],
        booked: vec![],
        first_visit_id: 1,
    };
    assert!(coordinate(&batch(vec![plan.clone()]), &rules).is_ok());
    assert_eq!(
        coordinate(&batch(vec![plan.clone(), plan.clone()]), &rules),
        Err(CoordError::DuplicatePlan(1))
    );
    let mut early = plan.clone();
    early.planned = s.plus(-1);
    early.window.start = s.plus(-5);
    assert!(matches!(
        coordinate(&batch(vec![early]), &rules),
        Err(CoordError::BadPlan { plan: 1, .. })
    ));
    let mut outside = plan.clone();
    outside.planned = s.plus(20);
    assert!(matches!(
        coordinate(&batch(vec![outside]), &rules),
        Err(CoordError::BadPlan { .. })
    ));
    let mut wrong = plan.clone();
    wrong.subjects[0].subject = Subject::Labour;
    let e = coordinate(&batch(vec![wrong]), &rules)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not planned by fire"), "{e}");
    let mut none = plan.clone();
    none.subjects.clear();
    assert!(coordinate(&batch(vec![none]), &rules).is_err());
    let mut inverted = plan.clone();
    inverted.window = Window {
        start: s.plus(5),
        end: s,
    };
    assert!(coordinate(&batch(vec![inverted]), &rules).is_err());
    let mut long = plan;
    long.window.end = s.plus(400);
    assert!(coordinate(&batch(vec![long]), &rules).is_err());
    let c = coordinate(&batch(vec![]), &rules).unwrap();
    assert_eq!(
        apply(
            &batch(vec![]),
            &c,
            &[Decision {
                plan: 7,
                accept: true
            }]
        ),
        Err(CoordError::UnknownPlan(7))
    );
}
