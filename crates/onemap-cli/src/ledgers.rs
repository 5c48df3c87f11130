//! `onemap ledgers build` (the one table's ledgers of a city directory,
//! generated from its areas and seed) and `onemap table` (a table of a
//! ledger to a file or stdout: CSV, XLSX or GeoPackage).

use anyhow::{bail, Context};
use onemap_core::AreaId;
use onemap_ledger::{
    Access, CsvSink, DownloadFormat, GenConfig, Lang, Ledger, Ledgers, Query, XlsxSink,
};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct LedgersArgs {
    #[command(subcommand)]
    pub command: LedgersCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LedgersCommand {
    /// Generate the ledgers (people, houses, cadres, projects) of a city
    /// directory into its ledgers/ folder, replacing them whole.
    Build(BuildArgs),
    /// The ledgers and their fields (key, labels, type, sensitivity).
    Fields {
        /// Only this ledger.
        #[arg(long)]
        ledger: Option<Ledger>,
    },
    /// The standard templates (id, names, ledger, fields and filter) every
    /// account sees; use one with `onemap table --template ID`.
    Templates,
    /// What each ledger file holds, whatever its bytes: rows, village
    /// batches and a SHA-256 of its metadata and values, a line per ledger
    /// (two folders with the same lines hold the same ledgers).
    Digest {
        /// City directory.
        #[arg(long, default_value = crate::args::DEFAULT_DATA)]
        data: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// City directory.
    #[arg(long, default_value = crate::args::DEFAULT_DATA)]
    pub data: PathBuf,
    /// Seed [default: the city's].
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// people, houses, cadres, projects, enterprises, schools, heritage,
    /// homesteads or events (or 人员台账 …).
    #[arg(
        long,
        required_unless_present = "template",
        conflicts_with = "template"
    )]
    pub ledger: Option<Ledger>,
    /// A template: a standard one (std:care, std:unsafe_houses, …; see
    /// `onemap ledgers templates`) or a saved one's number in the city's
    /// store. Its ledger, fields and filter; --fields replaces its fields,
    /// --where and --tag narrow it.
    #[arg(long)]
    pub template: Option<String>,
    /// An area id: the rows of its subtree [default: the city].
    #[arg(long)]
    pub area: Option<u64>,
    /// A filter on a coded field, repeatable: tags=care, sex=female, safety=c|d.
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Shorthand for --where tags=TAG (care: the care group).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Comma-separated field keys, or all [default: the ledger's defaults].
    #[arg(long, default_value = "")]
    pub fields: String,
    /// Last updated at or after / before (a date, ISO time or Unix seconds).
    #[arg(long)]
    pub updated_from: Option<onemap_core::TimeBound>,
    #[arg(long)]
    pub updated_to: Option<onemap_core::TimeBound>,
    /// Events reported at or after / before (a date, ISO time or Unix seconds).
    #[arg(long)]
    pub reported_from: Option<onemap_core::TimeBound>,
    #[arg(long)]
    pub reported_to: Option<onemap_core::TimeBound>,
    /// People at least / at most this old.
    #[arg(long)]
    pub age_min: Option<u32>,
    #[arg(long)]
    pub age_max: Option<u32>,
    /// csv, xlsx or gpkg.
    #[arg(long, default_value = "csv")]
    pub format: DownloadFormat,
    /// Labels and coded values in zh or en.
    #[arg(long, default_value = "zh")]
    pub lang: Lang,
    /// Personal fields in the clear (ID numbers, phones, illnesses); masked
    /// without it. The command reads the files directly: keep them where
    /// only those allowed can.
    #[arg(long)]
    pub personal: bool,
    /// Output file [default: stdout for csv; required for xlsx and gpkg].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// City directory.
    #[arg(long, default_value = crate::args::DEFAULT_DATA)]
    pub data: PathBuf,
}

pub fn run(a: LedgersArgs) -> anyhow::Result<i32> {
    match a.command {
        LedgersCommand::Build(b) => build(b),
        LedgersCommand::Templates => {
            println!(
                "{}",
                serde_json::to_string_pretty(onemap_ledger::templates::STANDARD)?
            );
            Ok(0)
        }
        LedgersCommand::Digest { data } => {
            for (l, rows, batches, hash) in onemap_ledger::file::digest(&data)? {
                println!("{} rows={rows} batches={batches} sha256={hash}", l.key());
            }
            Ok(0)
        }
        LedgersCommand::Fields { ledger } => {
            let list: Vec<_> = Ledger::ALL
                .into_iter()
                .filter(|l| ledger.is_none_or(|x| x == *l))
                .map(|l| serde_json::json!({"key": l.key(), "zh": l.zh(), "en": l.en(), "fields": l.fields()}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(0)
        }
    }
}

fn build(a: BuildArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let (meta, city) = onemap_store::read_city_dir(&a.data)
        .with_context(|| format!("cannot load {}", a.data.display()))?;
    let cfg = GenConfig {
        seed: a.seed.unwrap_or(meta.seed),
        until: meta.history_end.unwrap_or(onemap_synth::HISTORY_END),
    };
    let written = write(&a.data, &city, cfg)?;
    println!(
        "ledgers of {} written to {} in {:.1} s: {}",
        meta.name,
        onemap_ledger::file::ledgers_dir(&a.data).display(),
        started.elapsed().as_secs_f64(),
        counts(&written)
    );
    Ok(0)
}

/// The rows written, in words.
pub fn counts(w: &onemap_ledger::Written) -> String {
    format!(
        "{} people, {} houses, {} cadres, {} projects (synthetic); {} enterprises, {} schools, {} heritage sites, {} idle homesteads",
        w.people, w.houses, w.cadres, w.projects, w.enterprises, w.schools, w.heritage, w.homesteads
    )
}

/// Writes a city's ledgers with a progress bar (shared with `synth`): the
/// generated ones and its places (enterprises, schools, heritage sites,
/// idle homesteads), each placed in its unit.
pub fn write(
    dir: &std::path::Path,
    city: &onemap_core::CityData,
    cfg: GenConfig,
) -> anyhow::Result<onemap_ledger::Written> {
    let areas = &city.areas;
    let places = onemap_ledger::Places::of_city(city);
    if !places.outside.is_empty() {
        let (l, id) = places.outside[0];
        eprintln!(
            "note: {} places lie in no unit of the city and are not in the ledgers (the first: {} {id})",
            places.outside.len(),
            l.key()
        );
    }
    let bar = crate::progress::steps(areas.level(onemap_core::Level::Village).len() as u64);
    bar.set_message("ledgers");
    let b = bar.clone();
    let w = onemap_ledger::write_ledgers(dir, areas, cfg, &places, &move |done, _| {
        b.set_position(done as u64)
    })
    .with_context(|| format!("writing the ledgers of {}", dir.display()))?;
    bar.finish_and_clear();
    Ok(w)
}

/// A template's ledger and query text: a standard one by its id, a saved
/// one by its number from the city's embedded store.
fn template(data: &std::path::Path, id: &str) -> anyhow::Result<(Ledger, String)> {
    if let Some(s) = onemap_ledger::templates::standard(id) {
        return Ok((s.ledger, s.params.to_string()));
    }
    let Ok(n) = id.parse::<i64>() else {
        bail!(
            "--template: no standard template {id:?} ({}), and not a saved template's number",
            onemap_ledger::templates::STANDARD
                .iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let path = data.join(onemap_store::EMBEDDED_FILE);
    if !path.exists() {
        bail!(
            "--template {n}: {} has no store ({} is missing)",
            data.display(),
            path.display()
        );
    }
    let store = onemap_store::EmbeddedStore::open(&path)?;
    let t = store
        .templates()?
        .into_iter()
        .find(|t| t.id == n)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--template {n}: no saved template {n} in {}",
                path.display()
            )
        })?;
    let ledger = t
        .ledger
        .parse::<Ledger>()
        .map_err(|e| anyhow::anyhow!("template {n}: {e}"))?;
    Ok((ledger, t.params))
}

/// Where the command's rows come from: the ledger files, or the events as
/// the server would hold them (the city's events with the embedded
/// store's changes laid over them).
enum Source {
    Files(Box<(Ledgers, onemap_core::AreaTree)>),
    Events(Box<onemap_index::City>),
}

impl Source {
    fn open(data: &std::path::Path, ledger: Ledger) -> anyhow::Result<Source> {
        if !ledger.is_live() {
            let ledgers = Ledgers::open(data)?;
            let (_, areas) = onemap_store::read_city_areas(data)
                .with_context(|| format!("cannot load {}", data.display()))?;
            return Ok(Source::Files(Box::new((ledgers, areas))));
        }
        let mut city = crate::load_city(data)?;
        let path = data.join(onemap_store::EMBEDDED_FILE);
        if path.exists() {
            let store = onemap_store::EmbeddedStore::open(&path)
                .with_context(|| format!("cannot open the store {}", path.display()))?;
            let changed = store.events()?;
            if !changed.is_empty() {
                city = city
                    .with_events(changed)
                    .context("cannot lay the store's changes over the city")?;
            }
        }
        Ok(Source::Events(Box::new(city)))
    }

    fn run(
        &self,
        q: &Query,
        access: Access,
        sink: &mut dyn onemap_ledger::Sink,
    ) -> Result<onemap_ledger::Summary, onemap_ledger::LedgerError> {
        match self {
            Source::Files(f) => onemap_ledger::run(&f.0, &f.1, q, access, sink),
            Source::Events(city) => onemap_ledger::events::run_events(
                city.areas(),
                q,
                access,
                sink,
                onemap_core::Deadlines::default(),
                onemap_core::time::now(),
                |a| city.events_in_area(a).map_err(|e| e.to_string()),
            ),
        }
    }
}

pub fn table(a: TableArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let today = (onemap_core::time::now() + onemap_core::time::CST_OFFSET_S).div_euclid(86_400);
    let (ledger, params) = match (&a.template, a.ledger) {
        (Some(t), _) => template(&a.data, t)?,
        (None, Some(l)) => (l, String::new()),
        (None, None) => bail!("--ledger or --template is required"),
    };
    let mut q = Query::new(ledger, today);
    q.lang = a.lang;
    q.apply_params(&params)?;
    q.set_fields(&a.fields)?;
    if let Some(id) = a.area {
        q.area = Some(AreaId::new(id).map_err(|e| anyhow::anyhow!("--area: {e}"))?);
    }
    for f in &a.filters {
        q.add_filter(f)?;
    }
    for t in &a.tag {
        q.add_filter(&format!("tags={t}"))?;
    }
    // Given here, they replace the template's.
    if let Some(t) = a.updated_from {
        q.updated_from = Some(t.unix());
    }
    if let Some(t) = a.updated_to {
        q.updated_to = Some(t.unix());
    }
    q.age_min = a.age_min.or(q.age_min);
    q.age_max = a.age_max.or(q.age_max);
    if let Some(t) = a.reported_from {
        q.reported_from = Some(t.unix());
    }
    if let Some(t) = a.reported_to {
        q.reported_to = Some(t.unix());
    }
    let access = Access {
        personal: a.personal,
    };
    let source = Source::open(&a.data, ledger)?;
    let run = |q: &Query, sink: &mut dyn onemap_ledger::Sink| source.run(q, access, sink);
    let summary = match a.format {
        DownloadFormat::Csv => {
            let out: Box<dyn Write> = match &a.out {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut sink = CsvSink::new(std::io::BufWriter::new(out), &q.fields, q.lang)?;
            let s = run(&q, &mut sink)?;
            sink.finish()?.flush()?;
            s
        }
        DownloadFormat::Xlsx | DownloadFormat::Gpkg => {
            let Some(path) = &a.out else {
                bail!("--out FILE is required for {}", a.format.key());
            };
            let (bytes, s) = if a.format == DownloadFormat::Xlsx {
                let mut sink = XlsxSink::new(&q.fields, q.lang, q.ledger.zh())?;
                let s = run(&q, &mut sink)?;
                (sink.finish()?, s)
            } else {
                let bytes = onemap_ledger::gpkg::write_with(&q, run)?;
                let n = bytes.len();
                (
                    bytes,
                    onemap_ledger::Summary {
                        rows: n as u64,
                        written: n as u64,
                    },
                )
            };
            // Whole or not at all: a temporary file renamed into place.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            tmp.write_all(&bytes)?;
            tmp.persist(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            s
        }
    };
    if a.out.is_some() {
        eprintln!(
            "{} rows of the {} ledger ({}) in {:.2} s",
            summary.rows,
            q.ledger.key(),
            if q.describe().is_empty() {
                "all".to_string()
            } else {
                q.describe()
            },
            started.elapsed().as_secs_f64()
        );
    }
    Ok(0)
}
