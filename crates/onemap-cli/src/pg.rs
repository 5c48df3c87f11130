//! `onemap db migrate`, `onemap import` and `onemap export`: the city in and
//! out of PostGIS.

use crate::args::{DbArgs, DbCommand, ExportArgs, ImportArgs};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use onemap_store::postgres::{city_rows, schema_version};
use onemap_store::{ImportMode, PgStore};
use std::time::Instant;

/// A single-threaded runtime for one command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A bar counting rows (hidden when stderr is not a terminal).
fn rows_bar(total: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{human_pos}}/{{human_len}} rows {verb} {{msg}}"
        ))
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub fn db(a: DbArgs) -> anyhow::Result<i32> {
    match a.command {
        DbCommand::Migrate { postgres } => runtime()?.block_on(async {
            let mut store = PgStore::connect(&postgres).await?;
            let applied = store
                .migrate()
                .await
                .with_context(|| format!("cannot migrate {}", store.target()))?;
            if applied.is_empty() {
                println!(
                    "{}: schema already at version {}",
                    store.target(),
                    schema_version()
                );
            } else {
                println!(
                    "{}: applied migration(s) {}; schema at version {}",
                    store.target(),
                    applied
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    schema_version()
                );
            }
            Ok(0)
        }),
    }
}

pub fn import(a: ImportArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let (meta, city) = onemap_store::read_city_dir(&a.dir)
        .with_context(|| format!("cannot read {}", a.dir.display()))?;
    let read = started.elapsed();
    let mode = if a.replace {
        ImportMode::Replace
    } else {
        ImportMode::Refuse
    };
    runtime()?.block_on(async {
        let mut store = PgStore::connect(&a.postgres).await?;
        let bar = rows_bar(city_rows(&city), "imported");
        let mut progress = |table: &'static str, n: u64| {
            bar.set_message(table);
            bar.inc(n);
        };
        let copy_started = Instant::now();
        let result = store.import(&meta, &city, mode, &mut progress).await;
        bar.finish_and_clear();
        result.with_context(|| format!("cannot import into {}", store.target()))?;
        import_ledgers(&a.dir, &mut store, a.replace).await?;
        let lists = crate::lists::import_pg(&a.dir, &a.postgres, a.replace)
            .await
            .with_context(|| format!("cannot import the lists into {}", store.target()))?;
        if lists > 0 {
            println!("imported {lists} list items");
        }
        println!(
            "imported {} areas, {} events, {} ships, {} heritage points, {} homesteads, {} enterprises, {} schools into {} in {:.2} s (read {:.2} s, write {:.2} s)",
            city.areas.len(),
            city.events.len(),
            city.ships.len(),
            city.heritage.len(),
            city.homesteads.len(),
            city.enterprises.len(),
            city.schools.len(),
            store.target(),
            started.elapsed().as_secs_f64(),
            read.as_secs_f64(),
            copy_started.elapsed().as_secs_f64(),
        );
        Ok(0)
    })
}

pub fn export(a: ExportArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    runtime()?.block_on(async {
        let mut store = PgStore::connect(&a.postgres).await?;
        let total: u64 = store
            .counts()
            .await
            .with_context(|| format!("cannot export from {}", store.target()))?
            .iter()
            .map(|(_, n)| n)
            .sum();
        let bar = rows_bar(total, "exported");
        let mut progress = |table: &'static str, n: u64| {
            bar.set_message(table);
            bar.inc(n);
        };
        let result = store.load(&mut progress).await;
        bar.finish_and_clear();
        let (meta, city) =
            result.with_context(|| format!("cannot export from {}", store.target()))?;
        let loaded = started.elapsed();
        onemap_store::write_city_dir(&a.dir, &meta, &city)
            .with_context(|| format!("cannot write {}", a.dir.display()))?;
        let ledgers_started = Instant::now();
        let bar = rows_bar(0, "exported");
        let mut progress = |l: onemap_ledger::Ledger, n: u64| {
            bar.set_message(l.key());
            bar.inc(n);
        };
        let moved = onemap_ledger::pg::export(store.client_mut(), &a.dir, &mut progress).await;
        bar.finish_and_clear();
        let moved =
            moved.with_context(|| format!("cannot export the ledgers from {}", store.target()))?;
        if let Some(moved) = moved {
            println!(
                "exported the ledgers ({}) in {:.2} s",
                describe(&moved),
                ledgers_started.elapsed().as_secs_f64()
            );
        }
        crate::lists::export_pg(&a.dir, &a.postgres)
            .await
            .with_context(|| format!("cannot export the lists from {}", store.target()))?;
        println!(
            "exported {} areas and {} events from {} to {} in {:.2} s (read {:.2} s, write {:.2} s)",
            city.areas.len(),
            city.events.len(),
            store.target(),
            a.dir.display(),
            started.elapsed().as_secs_f64(),
            loaded.as_secs_f64(),
            (started.elapsed() - loaded).as_secs_f64(),
        );
        Ok(0)
    })
}

/// Rows per ledger, for a message.
fn describe(moved: &[(onemap_ledger::Ledger, u64)]) -> String {
    moved
        .iter()
        .map(|(l, n)| format!("{n} {}", l.key()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The city directory's ledgers (its ledgers/ folder) into the database, in
/// a transaction of their own: all or none. Without a folder, a --replace
/// removes the old city's ledgers; else nothing is done.
async fn import_ledgers(
    dir: &std::path::Path,
    store: &mut PgStore,
    replace: bool,
) -> anyhow::Result<()> {
    let target = store.target().to_string();
    if !onemap_ledger::file::ledgers_dir(dir).is_dir() {
        if replace {
            onemap_ledger::pg::clear(store.client_mut())
                .await
                .with_context(|| format!("cannot remove the old ledgers from {target}"))?;
        }
        return Ok(());
    }
    let ledgers = onemap_ledger::Ledgers::open(dir)
        .with_context(|| format!("cannot read the ledgers of {}", dir.display()))?;
    let total: u64 = onemap_ledger::Ledger::STORED
        .iter()
        .map(|l| ledgers.get(*l).rows())
        .sum();
    let started = Instant::now();
    let bar = rows_bar(total, "imported");
    let mut progress = |l: onemap_ledger::Ledger, n: u64| {
        bar.set_message(l.key());
        bar.inc(n);
    };
    let moved =
        onemap_ledger::pg::import(store.client_mut(), &ledgers, replace, &mut progress).await;
    bar.finish_and_clear();
    let moved = moved.with_context(|| format!("cannot import the ledgers into {target}"))?;
    println!(
        "imported the ledgers ({}) in {:.2} s",
        describe(&moved),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
