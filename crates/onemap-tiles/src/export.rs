//! Offline export: every non-empty tile of a zoom range, rendered in
//! parallel, gzipped, and written to an MBTiles (SQLite) or PMTiles v3
//! archive. The archive is written to a temporary file next to the output
//! and renamed into place at the end, so a failed or interrupted export never
//! leaves a half-written archive behind.

use crate::{LayerSet, TileRequest, TileSource, TilesError, MAX_SERVE_ZOOM};
use onemap_core::tile::tiles_covering;
use onemap_core::{BBox, TileCoord};
use onemap_index::EventFilter;
use rayon::prelude::*;
use serde_json::{json, Value as Json};
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
    #[error("mbtiles: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("pmtiles: {0}")]
    PmTiles(#[from] pmtiles::PmtError),
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
    pmtiles::TileCoord::new(t.z(), t.x(), t.y())
        .map(|c| pmtiles::TileId::from(c).value())
        .unwrap_or(u64::MAX)
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
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".onemap-export-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let meta = Metadata::of(source, opts);
    let mut sink = match opts.format {
        ExportFormat::MbTiles => Sink::mbtiles(tmp.path(), &meta)?,
        ExportFormat::PmTiles => Sink::pmtiles(tmp.reopen()?, &meta)?,
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
    sink.finish()?;
    // Temporary files are private (0600); an archive is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    let file = tmp.persist(out).map_err(|e| e.error)?;
    summary.file_bytes = file.metadata()?.len();
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

/// Archive-level facts shared by both formats.
struct Metadata {
    name: String,
    minzoom: u8,
    maxzoom: u8,
    bounds: [f64; 4],
    center: (f64, f64, u8),
    vector_layers: Json,
}

impl Metadata {
    fn of(source: &TileSource, opts: &ExportOptions) -> Self {
        let tj = source.tilejson(&opts.layers, "");
        let b = source.bounds();
        Metadata {
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
}

enum Sink {
    Mb(rusqlite::Connection),
    Pm(Box<pmtiles::PmTilesStreamWriter<std::fs::File>>),
}

impl Sink {
    fn mbtiles(path: &Path, m: &Metadata) -> Result<Sink, ExportError> {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
             CREATE UNIQUE INDEX metadata_name ON metadata (name);
             CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL,
                                 tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL);
             CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
        )?;
        let b = m.bounds;
        let rows = [
            ("name", m.name.clone()),
            ("format", "pbf".to_owned()),
            ("type", "overlay".to_owned()),
            ("version", "1".to_owned()),
            ("description", "onemap vector tiles".to_owned()),
            ("minzoom", m.minzoom.to_string()),
            ("maxzoom", m.maxzoom.to_string()),
            ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
            (
                "center",
                format!("{},{},{}", m.center.0, m.center.1, m.center.2),
            ),
            (
                "json",
                json!({ "vector_layers": m.vector_layers }).to_string(),
            ),
        ];
        for (k, v) in rows {
            conn.execute("INSERT INTO metadata (name, value) VALUES (?1, ?2)", (k, v))?;
        }
        conn.execute_batch("BEGIN")?;
        Ok(Sink::Mb(conn))
    }

    fn pmtiles(file: std::fs::File, m: &Metadata) -> Result<Sink, ExportError> {
        use pmtiles::{Compression, PmTilesWriter, TileType};
        let b = m.bounds;
        let metadata = json!({
            "name": m.name,
            "format": "pbf",
            "type": "overlay",
            "vector_layers": m.vector_layers,
        });
        let w = PmTilesWriter::new(TileType::Mvt)
            .precompressed(Compression::Gzip)
            .internal_compression(Compression::Gzip)
            .min_zoom(m.minzoom)
            .max_zoom(m.maxzoom)
            .bounds(b[0], b[1], b[2], b[3])
            .center(m.center.0, m.center.1)
            .center_zoom(m.center.2)
            .metadata(metadata.to_string())
            .create(file)?;
        Ok(Sink::Pm(Box::new(w)))
    }

    fn put(&mut self, t: TileCoord, data: &[u8]) -> Result<(), ExportError> {
        match self {
            Sink::Mb(conn) => {
                let row = (1u32 << t.z()) - 1 - t.y();
                conn.prepare_cached(
                    "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute((t.z(), t.x(), row, data))?;
            }
            Sink::Pm(w) => w.add_tile(pmtiles::TileCoord::new(t.z(), t.x(), t.y())?, data)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<(), ExportError> {
        match self {
            Sink::Mb(conn) => {
                conn.execute_batch("COMMIT")?;
                conn.close().map_err(|(_, e)| e)?;
            }
            Sink::Pm(w) => w.finalize()?,
        }
        Ok(())
    }
}
