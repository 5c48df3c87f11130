//! `onemap lists`: the problem, development and task lists of a city
//! directory's store (a table, or JSON), and `onemap lists build` (the
//! demo's items, generated from the city and its seed into `lists.json`,
//! then into the store if its lists are empty).
//!
//! `onemap synth` writes `lists.json`; the embedded store takes its items
//! the first time it is opened by `serve` or here (a city written before
//! the lists opens with empty lists).

use anyhow::{bail, Context};
use onemap_core::lists::{is_overdue, ListFilter, ListItem};
use onemap_core::{parse_list, AreaId, CityData, CityMeta};
use onemap_store::EmbeddedStore;
use std::path::{Path, PathBuf};

/// The demo's items in a city directory.
pub const LISTS_FILE: &str = "lists.json";

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ListsArgs {
    #[command(subcommand)]
    pub command: Option<ListsCommand>,
    /// City directory.
    #[arg(long, default_value = crate::args::DEFAULT_DATA)]
    pub data: PathBuf,
    /// The embedded store's file [default: onemap.gpkg in the city directory].
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Items at this area or under it.
    #[arg(long)]
    pub area: Option<AreaId>,
    /// Comma list: problem, development, task.
    #[arg(long)]
    pub kind: Option<String>,
    /// Comma list: open, in_progress, done.
    #[arg(long)]
    pub status: Option<String>,
    /// Only items whose owner has this name.
    #[arg(long)]
    pub owner: Option<String>,
    /// Only overdue items.
    #[arg(long)]
    pub overdue: bool,
    /// At most this many rows (newest first), 1..=500.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Rows to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// JSON out ({total, rows}) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ListsCommand {
    /// Generate the demo's items for a city directory (lists.json) and put
    /// them in its store when its lists are empty.
    Build {
        /// City directory.
        #[arg(long, default_value = crate::args::DEFAULT_DATA)]
        data: PathBuf,
        /// The embedded store's file [default: onemap.gpkg in the city directory].
        #[arg(long)]
        store: Option<PathBuf>,
    },
}

/// The demo's items of a city.
pub fn generate(meta: &CityMeta, city: &CityData) -> Vec<ListItem> {
    onemap_synth::lists::list_items(
        &city.areas,
        &city.events,
        meta.seed,
        meta.history_end.unwrap_or(onemap_synth::HISTORY_END),
    )
}

/// Writes the demo's items into `dir/lists.json`.
pub fn write(dir: &Path, items: &[ListItem]) -> anyhow::Result<()> {
    let path = dir.join(LISTS_FILE);
    let text = serde_json::to_string(items)?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Puts the demo's items of `dir` (if it has them) into `store` when its
/// lists are empty; how many.
pub fn seed(dir: &Path, store: &EmbeddedStore) -> anyhow::Result<usize> {
    let path = dir.join(LISTS_FILE);
    if !path.exists() {
        return Ok(0);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let items: Vec<ListItem> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a list of items", path.display()))?;
    Ok(store.list_import(&items)?)
}

pub fn run(a: ListsArgs) -> anyhow::Result<i32> {
    if let Some(ListsCommand::Build { data, store }) = a.command {
        let (meta, city) = onemap_store::read_city_dir(&data)
            .with_context(|| format!("cannot load {}", data.display()))?;
        let items = generate(&meta, &city);
        write(&data, &items)?;
        let path = crate::serve::store_path(&data, store.as_deref());
        let s = EmbeddedStore::open(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        let n = seed(&data, &s)?;
        println!(
            "{} list items written to {}; {n} put into {}{}",
            items.len(),
            data.join(LISTS_FILE).display(),
            path.display(),
            if n == 0 {
                " (its lists were not empty)"
            } else {
                ""
            }
        );
        return Ok(0);
    }
    if !(1..=onemap_store::MAX_LIST_PAGE).contains(&a.limit) {
        bail!(
            "--limit {} is out of range: 1 to {}",
            a.limit,
            onemap_store::MAX_LIST_PAGE
        );
    }
    let path = crate::serve::store_path(&a.data, a.store.as_deref());
    if !a.data.join("city.json").exists() && a.store.is_none() {
        bail!(
            "{} is not a city directory (no city.json)",
            a.data.display()
        );
    }
    let store = EmbeddedStore::open(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    seed(&a.data, &store)?;
    let today = onemap_live::today();
    let f = ListFilter {
        area: a.area,
        kinds: a
            .kind
            .as_deref()
            .map(parse_list)
            .transpose()?
            .unwrap_or_default(),
        statuses: a
            .status
            .as_deref()
            .map(parse_list)
            .transpose()?
            .unwrap_or_default(),
        owner: a.owner.clone(),
        overdue: a.overdue.then_some(true),
        today: today.clone(),
        ..Default::default()
    };
    let page = store.list_page(&f, a.offset, a.limit)?;
    if a.json {
        let rows: Vec<serde_json::Value> = page
            .rows
            .iter()
            .map(|i| {
                let mut v = serde_json::to_value(i).unwrap_or_default();
                v["area"] = serde_json::json!(i.area.to_string());
                v["overdue"] = serde_json::json!(is_overdue(i, &today));
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"total": page.total, "rows": rows}))?
        );
        return Ok(0);
    }
    println!(
        "{:>6}  {:<11}  {:<12}  {:<11}  {:<10}  {:<20}  title",
        "id", "kind", "area", "status", "due", "owner"
    );
    for i in &page.rows {
        let due = i.due.clone().unwrap_or_else(|| "-".into());
        let mark = if is_overdue(i, &today) { "!" } else { "" };
        println!(
            "{:>6}  {:<11}  {:<12}  {:<11}  {:<10}{mark:1} {:<20}  {}",
            i.id,
            i.kind.as_str(),
            i.area.to_string(),
            i.status.as_str(),
            due,
            i.owner.name,
            i.title
        );
    }
    println!(
        "{} of {} item(s){}",
        page.rows.len(),
        page.total,
        if page.rows.iter().any(|i| is_overdue(i, &today)) {
            " (! overdue)"
        } else {
            ""
        }
    );
    Ok(0)
}

/// Puts the demo's items of `dir` (if it has them) into the lists of the
/// PostGIS database at `url` when they are empty (`onemap import`), or in
/// place of them (`--replace`); how many.
pub async fn import_pg(dir: &Path, url: &str, replace: bool) -> anyhow::Result<usize> {
    let path = dir.join(LISTS_FILE);
    if !path.exists() {
        return Ok(0);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let items: Vec<ListItem> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a list of items", path.display()))?;
    let live = onemap_store::PgLive::new(url)?;
    Ok(if replace {
        live.list_replace(&items).await?
    } else {
        live.list_import(&items).await?
    })
}

/// Writes the items of the PostGIS database at `url` (if it has any) into
/// `dir/lists.json`, by id (`onemap export`); how many.
pub async fn export_pg(dir: &Path, url: &str) -> anyhow::Result<usize> {
    let live = onemap_store::PgLive::new(url)?;
    let all = ListFilter::default();
    let mut items = Vec::new();
    loop {
        let page = live
            .list_page(&all, items.len(), onemap_store::MAX_LIST_PAGE)
            .await?;
        let done = page.rows.is_empty() || items.len() + page.rows.len() >= page.total as usize;
        items.extend(page.rows);
        if done {
            break;
        }
    }
    items.sort_by_key(|i| i.id);
    if !items.is_empty() {
        write(dir, &items)?;
    }
    Ok(items.len())
}
