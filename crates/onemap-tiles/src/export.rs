//! Offline export: every non-empty tile of a zoom range, rendered in
//! parallel, gzipped, and written to an MBTiles (SQLite) or PMTiles v3
//! archive by the store's writers ([`onemap_store::archive`]), which write
//! to a temporary file next to the output and rename it into place at the
//! end, so a failed or interrupted export never leaves a half-written
//! archive behind.

use crate::{LayerSet, TileRequest, TileSource, TilesError, MAX_SERVE_ZOOM};
use onemap_core::tile::tiles_covering;
use onemap_core::{BBox, TileCoord};
use onemap_index::EventFilter;
use onemap_store::archive::{
    hilbert_tile_id, ArchiveError, ArchiveMeta, MbtilesWriter, PmtilesWriter,
};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use thiserror::Error;

/// Tiles rendered per parallel batch (then written in order by one thread).
const BATCH: usize = 1024;

/// The archive format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// SQLite MBTiles 1.3 (TMS rows, gzipped `pbf` tiles).
    MbTiles,
    /// PMTiles v3 (gzipped MVT tiles, gzipped directories).
    PmTiles,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "mbtiles" => Ok(ExportFormat::MbTiles),
            "pmtiles" => Ok(ExportFormat::PmTiles),
            _ => Err(format!("unknown format {s:?}; use mbtiles or pmtiles")),
        }
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    pub minzoom: u8,
    pub maxzoom: u8,
    pub layers: LayerSet,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Tiles enumerated over the city bounds.
    pub enumerated: u64,
    /// Non-empty tiles written.
    pub tiles: u64,
    /// Sum of the gzipped tile sizes.
    pub tile_bytes: u64,
    /// Size of the archive file.
    pub file_bytes: u64,
}

/// Errors raised by an export.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error("invalid zoom range {min}..={max}: zooms go from 0 to {limit}")]
    InvalidZooms { min: u8, max: u8, limit: u8 },
    #[error(transparent)]
    Tiles(#[from] TilesError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Writing the archive failed (`i/o: …`, `mbtiles: …` or `pmtiles: …`).
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// The tiles an export enumerates at each zoom, in PMTiles (Hilbert) order.
pub fn export_tiles(source: &TileSource, minzoom: u8, maxzoom: u8) -> Vec<TileCoord> {
    let b = source.bounds();
    let bbox = BBox {
        min_lon: b[0],
        min_lat: b[1],
        max_lon: b[2],
        max_lat: b[3],
    };
    let mut all = Vec::new();
    for z in minzoom..=maxzoom {
        let mut tiles: Vec<TileCoord> = tiles_covering(&bbox, z).collect();
        tiles.sort_by_cached_key(|t| tile_id(*t));
        all.extend(tiles);
    }
    all
}

fn tile_id(t: TileCoord) -> u64 {
    hilbert_tile_id(t.z(), t.x(), t.y()).unwrap_or(u64::MAX)
}

/// Exports the tiles of `opts` to `out`. `progress` is called with
/// (tiles done, tiles total) after each batch.
pub fn export(
    source: &TileSource,
    opts: &ExportOptions,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportSummary, ExportError> {
    if opts.minzoom > opts.maxzoom || opts.maxzoom > MAX_SERVE_ZOOM {
        return Err(ExportError::InvalidZooms {
            min: opts.minzoom,
            max: opts.maxzoom,
            limit: MAX_SERVE_ZOOM,
        });
    }
    let meta = archive_meta(source, opts);
    let mut sink = match opts.format {
        ExportFormat::MbTiles => Sink::Mb(MbtilesWriter::create(out, &meta)?),
        ExportFormat::PmTiles => Sink::Pm(Box::new(PmtilesWriter::create(out, &meta)?)),
    };
    let tiles = export_tiles(source, opts.minzoom, opts.maxzoom);
    let total = tiles.len() as u64;
    let mut summary = ExportSummary {
        enumerated: total,
        ..ExportSummary::default()
    };
    let mut done = 0u64;
    progress(0, total);
    for batch in tiles.chunks(BATCH) {
        let rendered: Vec<(TileCoord, Option<Vec<u8>>)> = batch
            .par_iter()
            .map(|&tile| {
                let req = TileRequest {
                    layers: opts.layers,
                    tile,
                    filter: EventFilter::default(),
                };
                let bytes = source.render_uncached(&req)?;
                Ok((tile, bytes.map(|b| gzip(&b)).transpose()?))
            })
            .collect::<Result<_, ExportError>>()?;
        for (tile, data) in rendered {
            if let Some(data) = data {
                sink.put(tile, &data)?;
                summary.tiles += 1;
                summary.tile_bytes += data.len() as u64;
            }
        }
        done += batch.len() as u64;
        progress(done, total);
    }
    summary.file_bytes = sink.finish()?;
    Ok(summary)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::default(),
    );
    enc.write_all(data)?;
    enc.finish()
}

/// The archive-level facts of an export.
fn archive_meta(source: &TileSource, opts: &ExportOptions) -> ArchiveMeta {
    let tj = source.tilejson(&opts.layers, "");
    let b = source.bounds();
    ArchiveMeta {
        name: format!("onemap {}", opts.layers.names()),
        minzoom: opts.minzoom,
        maxzoom: opts.maxzoom,
        bounds: b,
        center: (
            (b[0] + b[2]) / 2.0,
            (b[1] + b[3]) / 2.0,
            10.clamp(opts.minzoom, opts.maxzoom),
        ),
        vector_layers: tj["vector_layers"].clone(),
    }
}

/// The archive being written.
enum Sink {
    Mb(MbtilesWriter),
    Pm(Box<PmtilesWriter>),
}

impl Sink {
    fn put(&mut self, t: TileCoord, data: &[u8]) -> Result<(), ArchiveError> {
        match self {
            Sink::Mb(w) => w.put_tile(t.z(), t.x(), t.y(), data),
            Sink::Pm(w) => w.put_tile(t.z(), t.x(), t.y(), data),
        }
    }

    /// Finishes the archive and renames it into place; its size.
    fn finish(self) -> Result<u64, ArchiveError> {
        match self {
            Sink::Mb(w) => w.finish(),
            Sink::Pm(w) => w.finish(),
        }
    }
}
