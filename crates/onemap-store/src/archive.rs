//! Tile archives: an MBTiles 1.3 file (SQLite) or a PMTiles v3 file of
//! gzipped MVT tiles, as `onemap tiles export` writes them.
//!
//! Each writer writes to a temporary file next to the output (a hidden
//! `.onemap-export-*.tmp`) and [`MbtilesWriter::finish`] /
//! [`PmtilesWriter::finish`] rename it into place, so a failed or
//! interrupted export (a writer dropped before `finish`) never leaves a
//! half-written archive behind: the temporary file is removed with it.
//!
//! Tiles are given in XYZ coordinates (y down from the north) and as the
//! gzipped bytes to store; the MBTiles writer turns y into the TMS row.

use serde_json::{json, Value as Json};
use std::fs::File;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;
use thiserror::Error;

/// Errors raised writing an archive. The messages are one line each.
#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("mbtiles: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("pmtiles: {0}")]
    PmTiles(#[from] pmtiles::PmtError),
}

/// Archive-level facts, the same for both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveMeta {
    /// The archive's name (MBTiles `name`, PMTiles metadata `name`).
    pub name: String,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// `[west, south, east, north]` in degrees.
    pub bounds: [f64; 4],
    /// Longitude, latitude and zoom a viewer starts at.
    pub center: (f64, f64, u8),
    /// The TileJSON `vector_layers` array.
    pub vector_layers: Json,
}

/// A tile's position in PMTiles order (the Hilbert curve of each zoom, zoom
/// by zoom), or `None` for a tile outside its zoom's grid. Tiles written in
/// this order make a PMTiles file with the fewest directory entries.
pub fn hilbert_tile_id(z: u8, x: u32, y: u32) -> Option<u64> {
    pmtiles::TileCoord::new(z, x, y)
        .ok()
        .map(|c| pmtiles::TileId::from(c).value())
}

/// The temporary file an archive is written to, and where it goes.
struct Staged {
    tmp: NamedTempFile,
    out: PathBuf,
}

impl Staged {
    fn new(out: &Path) -> Result<Staged, ArchiveError> {
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".onemap-export-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        Ok(Staged {
            tmp,
            out: out.to_path_buf(),
        })
    }

    /// Renames the written file into place; its size.
    fn persist(self) -> Result<u64, ArchiveError> {
        // Temporary files are private (0600); an archive is an ordinary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(self.tmp.path(), std::fs::Permissions::from_mode(0o644))?;
        }
        let file = self.tmp.persist(&self.out).map_err(|e| e.error)?;
        Ok(file.metadata()?.len())
    }
}

/// An MBTiles 1.3 archive being written: `metadata` and `tiles` tables,
/// `format` `pbf`, TMS rows, tiles inserted in one transaction.
pub struct MbtilesWriter {
    conn: rusqlite::Connection,
    file: Staged,
}

impl MbtilesWriter {
    /// Starts the archive that [`finish`](Self::finish) puts at `out`: the
    /// schema and the metadata rows.
    pub fn create(out: &Path, m: &ArchiveMeta) -> Result<MbtilesWriter, ArchiveError> {
        let file = Staged::new(out)?;
        let conn = rusqlite::Connection::open(file.tmp.path())?;
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
        Ok(MbtilesWriter { conn, file })
    }

    /// Adds tile `z/x/y` (XYZ) with its gzipped bytes.
    pub fn put_tile(&mut self, z: u8, x: u32, y: u32, data: &[u8]) -> Result<(), ArchiveError> {
        let row = (1u32 << z) - 1 - y;
        self.conn
            .prepare_cached(
                "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute((z, x, row, data))?;
        Ok(())
    }

    /// Commits the tiles, closes the database and renames it into place;
    /// the archive's size in bytes.
    pub fn finish(self) -> Result<u64, ArchiveError> {
        let MbtilesWriter { conn, file } = self;
        conn.execute_batch("COMMIT")?;
        conn.close().map_err(|(_, e)| e)?;
        file.persist()
    }
}

/// A PMTiles v3 archive being written: gzipped MVT tiles, gzipped
/// directories, the metadata as gzipped JSON.
pub struct PmtilesWriter {
    w: pmtiles::PmTilesStreamWriter<File>,
    file: Staged,
}

impl PmtilesWriter {
    /// Starts the archive that [`finish`](Self::finish) puts at `out`.
    /// Tiles are best added in [`hilbert_tile_id`] order.
    pub fn create(out: &Path, m: &ArchiveMeta) -> Result<PmtilesWriter, ArchiveError> {
        use pmtiles::{Compression, PmTilesWriter, TileType};
        let file = Staged::new(out)?;
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
            .create(file.tmp.reopen()?)?;
        Ok(PmtilesWriter { w, file })
    }

    /// Adds tile `z/x/y` (XYZ) with its gzipped bytes.
    pub fn put_tile(&mut self, z: u8, x: u32, y: u32, data: &[u8]) -> Result<(), ArchiveError> {
        self.w.add_tile(pmtiles::TileCoord::new(z, x, y)?, data)?;
        Ok(())
    }

    /// Writes the directories and header and renames the file into place;
    /// the archive's size in bytes.
    pub fn finish(self) -> Result<u64, ArchiveError> {
        let PmtilesWriter { w, file } = self;
        w.finalize()?;
        file.persist()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ArchiveMeta {
        ArchiveMeta {
            name: "onemap test".into(),
            minzoom: 1,
            maxzoom: 2,
            bounds: [118.5, 25.0, 119.5, 25.8],
            center: (119.0, 25.4, 2),
            vector_layers: json!([{"id": "districts", "fields": {}}]),
        }
    }

    #[test]
    fn mbtiles_rows_are_tms_and_metadata_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.mbtiles");
        let mut w = MbtilesWriter::create(&out, &meta()).unwrap();
        w.put_tile(2, 3, 0, b"abc").unwrap();
        w.put_tile(1, 1, 1, b"de").unwrap();
        // Nothing at `out` before finish; only the temporary file.
        assert!(!out.exists());
        let size = w.finish().unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let conn = rusqlite::Connection::open(&out).unwrap();
        let mut s = conn
            .prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY zoom_level")
            .unwrap();
        let tiles: Vec<(u8, u32, u32, Vec<u8>)> = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            tiles,
            vec![(1, 1, 0, b"de".to_vec()), (2, 3, 3, b"abc".to_vec())]
        );
        let get = |k: &str| -> String {
            conn.query_row("SELECT value FROM metadata WHERE name = ?1", [k], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert_eq!(get("format"), "pbf");
        assert_eq!(get("bounds"), "118.5,25,119.5,25.8");
        assert_eq!(get("center"), "119,25.4,2");
        assert_eq!(
            get("json"),
            r#"{"vector_layers":[{"fields":{},"id":"districts"}]}"#
        );
    }

    #[test]
    fn a_dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for mb in [true, false] {
            let out = dir.path().join("a.archive");
            if mb {
                let mut w = MbtilesWriter::create(&out, &meta()).unwrap();
                w.put_tile(1, 0, 0, b"x").unwrap();
            } else {
                let mut w = PmtilesWriter::create(&out, &meta()).unwrap();
                w.put_tile(1, 0, 0, b"x").unwrap();
            }
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("no/such/dir/a.mbtiles");
        let e = MbtilesWriter::create(&out, &meta()).err().unwrap();
        assert!(e.to_string().starts_with("i/o: "), "{e}");
        let e = PmtilesWriter::create(&out, &meta()).err().unwrap();
        assert!(e.to_string().starts_with("i/o: "), "{e}");
    }

    #[test]
    fn pmtiles_header_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.pmtiles");
        let mut w = PmtilesWriter::create(&out, &meta()).unwrap();
        let mut tiles = [(2, 3, 0), (1, 1, 1), (1, 0, 0), (2, 0, 0)];
        tiles.sort_by_key(|&(z, x, y)| hilbert_tile_id(z, x, y));
        for (z, x, y) in tiles {
            w.put_tile(z, x, y, b"t").unwrap();
        }
        let size = w.finish().unwrap();
        let f = std::fs::read(&out).unwrap();
        assert_eq!(f.len() as u64, size);
        assert_eq!(&f[..7], b"PMTiles");
        assert_eq!(f[7], 3);
        assert_eq!((f[100], f[101]), (1, 2), "zoom range");
        assert_eq!(hilbert_tile_id(0, 0, 0), Some(0));
        assert_eq!(hilbert_tile_id(1, 0, 0), Some(1));
        assert_eq!(hilbert_tile_id(1, 2, 0), None);
    }
}
