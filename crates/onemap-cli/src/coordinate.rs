//! `onemap coordinate`: the demo year of coordinated enterprise inspections
//! and school visits for a town, a district or the city — before and after
//! (issue 17). Plans and requests are generated from the seed (the city's
//! by default) and coordinated month by month by `onemap-coord`.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CoordinateArgs {
    /// The town or district: its id (350304003) or Chinese name (西天尾镇),
    /// or `city`.
    #[arg(long, visible_alias = "area", default_value = "西天尾镇")]
    pub town: String,
    /// The demo year.
    #[arg(long, default_value_t = 2023)]
    pub year: i32,
    /// Seed of the demo plans [default: the city's seed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// The figures as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// City directory to load.
    #[arg(long, default_value = crate::args::DEFAULT_DATA)]
    pub data: PathBuf,
}

pub fn run(a: CoordinateArgs) -> anyhow::Result<i32> {
    let (meta, city) = onemap_store::read_city_dir(&a.data)
        .with_context(|| format!("cannot load {}", a.data.display()))?;
    let request = onemap_coord::ReportRequest {
        city: &city,
        area: &a.town,
        year: a.year,
        seed: a.seed.unwrap_or(meta.seed),
    };
    let figures = onemap_coord::report(&request)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &figures)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", figures.table())?;
    }
    Ok(0)
}
