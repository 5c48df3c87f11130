//! `onemap tiles export`: write every non-empty tile of a zoom range to an
//! MBTiles or PMTiles archive.

use crate::args::{TilesArgs, TilesCommand, TilesExportArgs};
use anyhow::Context;
use onemap_tiles::{ExportOptions, LayerSet, TileSource};
use std::sync::Arc;
use std::time::Instant;

pub fn run(a: TilesArgs) -> anyhow::Result<i32> {
    match a.command {
        TilesCommand::Export(e) => export(e),
    }
}

fn export(a: TilesExportArgs) -> anyhow::Result<i32> {
    let layers = match &a.layers {
        Some(list) => LayerSet::parse(list)?,
        None => LayerSet::all(),
    };
    let started = Instant::now();
    let city = crate::load_city(&a.data)?;
    // The export renders each tile once: no cache.
    let source = TileSource::new(Arc::new(city), 0);
    let loaded = started.elapsed();
    let opts = ExportOptions {
        format: a.format,
        minzoom: a.minzoom,
        maxzoom: a.maxzoom,
        layers,
    };
    let bar = crate::progress::steps(0);
    bar.set_message(format!("tiles z{}–{}", a.minzoom, a.maxzoom));
    let summary = onemap_tiles::export(&source, &opts, &a.out, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("cannot export {}", a.out.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {}: {} tiles ({} enumerated), {:.1} MiB, in {:.2} s (city loaded in {:.2} s)",
        a.out.display(),
        summary.tiles,
        summary.enumerated,
        summary.file_bytes as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64(),
        loaded.as_secs_f64()
    );
    Ok(0)
}
