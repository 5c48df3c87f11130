use crate::args::SynthArgs;
use crate::progress;
use anyhow::{bail, Context};
use onemap_core::Level;
use onemap_synth::SynthConfig;
use std::time::Instant;

pub fn run(a: SynthArgs) -> anyhow::Result<i32> {
    let cfg = SynthConfig {
        seed: a.seed,
        scale: a.scale,
        events: a.events,
        history_end: a
            .until
            .map_or(onemap_synth::HISTORY_END, |day| day + 86_400),
    };
    cfg.validate()?;
    let started = Instant::now();
    let bar = progress::steps(11);
    let (meta, city) = onemap_synth::generate_with_progress(&cfg, &|step, i, _| {
        bar.set_position(i);
        bar.set_message(step.to_string());
    })?;
    if a.validate {
        bar.set_message("validating");
        let report = onemap_store::validate_city(&meta, &city, &|_| {});
        if !report.is_ok() {
            bar.finish_and_clear();
            eprintln!("{report}");
            bail!("the generated city is invalid; nothing was written");
        }
    }
    bar.set_position(10);
    bar.set_message(format!("writing {}", a.out.display()));
    onemap_store::write_city_dir(&a.out, &meta, &city)
        .with_context(|| format!("writing the city to {}", a.out.display()))?;
    bar.finish_and_clear();
    let ledgers = if a.no_ledgers {
        None
    } else {
        let cfg = onemap_ledger::GenConfig {
            seed: meta.seed,
            until: meta.history_end.unwrap_or(onemap_synth::HISTORY_END),
        };
        Some(crate::ledgers::write(&a.out, &city, cfg)?)
    };
    let items = crate::lists::generate(&meta, &city);
    crate::lists::write(&a.out, &items)?;
    let c = |l| city.areas.level(l).len();
    println!(
        "{} (seed {}, scale {}) written to {} in {:.1} s",
        meta.name,
        meta.seed,
        meta.scale,
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    if let Some(end) = meta.history_end {
        println!(
            "  event history through {} (China time)",
            onemap_core::time::cst_date(end - 1)
        );
    }
    println!(
        "  areas: {} districts, {} towns, {} villages, {} grids, {} units",
        c(Level::District),
        c(Level::Town),
        c(Level::Village),
        c(Level::Grid),
        c(Level::Unit)
    );
    let closed = city.events.iter().filter(|e| !e.status.is_open()).count();
    println!(
        "  layers: {} events ({:.2}% closed), {} ships, {} heritage points, {} idle homesteads, {} enterprises, {} schools",
        city.events.len(),
        100.0 * closed as f64 / city.events.len().max(1) as f64,
        city.ships.len(),
        city.heritage.len(),
        city.homesteads.len(),
        city.enterprises.len(),
        city.schools.len()
    );
    println!(
        "  lists: {} problem, development and task items (synthetic)",
        items.len()
    );
    if let Some(w) = ledgers {
        println!("  ledgers: {}", crate::ledgers::counts(&w));
    }
    Ok(0)
}
