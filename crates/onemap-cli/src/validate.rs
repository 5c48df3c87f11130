use crate::args::ValidateArgs;
use crate::progress;
use anyhow::Context;
use std::time::Instant;

pub fn run(a: ValidateArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let (meta, city) = onemap_store::read_city_dir(&a.dir)
        .with_context(|| format!("cannot validate {}", a.dir.display()))?;
    let bar = progress::steps(8);
    let report = onemap_store::validate_city(&meta, &city, &|step| {
        bar.inc(1);
        bar.set_message(step.to_string());
    });
    bar.finish_and_clear();
    println!("{} — {}", a.dir.display(), meta.name);
    println!("{report}");
    println!("({:.1} s)", started.elapsed().as_secs_f64());
    Ok(if report.is_ok() { 0 } else { 1 })
}
