//! Prints one enterprise's or school's plans with their suggestions and its
//! calendar, for reading the reasons: `… --example debug_target -- large 0`
//! (the first large enterprise of 西天尾镇), `-- enterprise ID`, `-- school ID`.
use onemap_coord::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "large".into());
    let id: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let (_, city) = match onemap_synth::generate(&onemap_synth::SynthConfig::default()) {
        Ok(c) => c,
        Err(e) => return eprintln!("{e}"),
    };
    let Ok(sites) = Sites::from_city(&city) else {
        return;
    };
    let t = match kind.as_str() {
        "school" => Target::School(id),
        "large" => {
            let Some(town) = sites.town_named("西天尾镇").map(|t| t.id) else {
                return;
            };
            let Some(e) = sites
                .enterprises
                .iter()
                .filter(|e| e.large && e.town == town)
                .nth(id as usize)
            else {
                return eprintln!("no such large enterprise");
            };
            Target::Enterprise(e.id)
        }
        _ => Target::Enterprise(id),
    };
    let Some((town, _)) = sites.place_of(t) else {
        return eprintln!("no such target");
    };
    let Ok(demo) = demo::generate(sites, &DemoConfig::default()) else {
        return;
    };
    let demo = demo.restrict(Scope::Town(town));
    let Ok(run) = run_year(&demo, &Rules::default(), &YearPolicy::default()) else {
        return;
    };
    for p in demo.plans.iter().filter(|p| p.target == t) {
        let Some(s) = run.suggestions.iter().find(|s| s.plan == p.id) else {
            continue;
        };
        let subj: Vec<_> = p
            .subjects
            .iter()
            .map(|s| format!("{}{}", s.subject.zh(), if s.mandatory { "*" } else { "" }))
            .collect();
        println!(
            "#{} {} {} [{}..{}] {} 风险{}{}{} -> {} {} | {}",
            p.id,
            p.department.kind.zh(),
            p.planned,
            p.window.start,
            p.window.end,
            subj.join(","),
            p.risk.zh(),
            if p.urgent { " 紧急" } else { "" },
            if p.accompanied { " 请陪同" } else { "" },
            s.action.zh(),
            s.date.map(|d| d.to_string()).unwrap_or_default(),
            s.reason.text
        );
    }
    for r in demo.requests.iter().filter(|r| r.target == t) {
        println!("request #{} {:?}", r.id, r.kind);
    }
    for v in calendar_of(&run.visits, t) {
        println!(
            "visit #{} {} {} {:?} plans={:?} depts={:?} accompanied={}",
            v.id,
            v.date,
            v.mode.zh(),
            v.purpose,
            v.plans,
            v.kinds().map(|k| k.zh()).collect::<Vec<_>>(),
            v.accompanied
        );
    }
}
