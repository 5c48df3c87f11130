use onemap_coord::*;
fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap();
    let id: u64 = args.next().unwrap().parse().unwrap();
    let t = if kind == "school" {
        Target::School(id)
    } else {
        Target::Enterprise(id)
    };
    let (_, city) = onemap_synth::generate(&onemap_synth::SynthConfig::default()).unwrap();
    let sites = Sites::from_city(&city).unwrap();
    let demo = demo::generate(sites, &DemoConfig::default()).unwrap();
    let plans: Vec<_> = demo.plans.iter().filter(|p| p.target == t).collect();
    let run = run_year(
        &demo
            .clone()
            .restrict(Scope::Town(demo.sites.place_of(t).unwrap().0)),
        &Rules::default(),
        &YearPolicy::default(),
    )
    .unwrap();
    for p in &plans {
        let s = run.suggestions.iter().find(|s| s.plan == p.id).unwrap();
        let subj: Vec<_> = p
            .subjects
            .iter()
            .map(|s| format!("{}{}", s.subject.zh(), if s.mandatory { "*" } else { "" }))
            .collect();
        println!(
            "#{} {} {} [{}..{}] {} risk={} urg={} acc={} -> {} {:?} | {}",
            p.id,
            p.department.kind.zh(),
            p.planned,
            p.window.start,
            p.window.end,
            subj.join(","),
            p.risk.zh(),
            p.urgent,
            p.accompanied,
            s.action.zh(),
            s.date.map(|d| d.to_string()),
            s.reason.text
        );
    }
    for v in calendar_of(&run.visits, t) {
        println!(
            "visit #{} {} {:?} {:?} plans={:?} depts={:?} acc={}",
            v.id,
            v.date,
            v.mode,
            v.purpose,
            v.plans,
            v.kinds().map(|k| k.zh()).collect::<Vec<_>>(),
            v.accompanied
        );
    }
}
