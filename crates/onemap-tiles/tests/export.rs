//! `export` of a small generated city (z5–10) to MBTiles and PMTiles, read
//! back tile for tile and compared with what `TileSource` serves.

use flate2::read::GzDecoder;
use onemap_core::TileCoord;
use onemap_index::{City, EventFilter};
use onemap_synth::{generate, SynthConfig};
use onemap_tiles::{
    export, export_tiles, ExportFormat, ExportOptions, LayerSet, TileRequest, TileSource,
};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

type Tiles = BTreeMap<(u8, u32, u32), Vec<u8>>;

const MINZOOM: u8 = 5;
const MAXZOOM: u8 = 10;

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(b).read_to_end(&mut out).expect("gzip");
    out
}

fn source() -> &'static TileSource {
    static SRC: OnceLock<TileSource> = OnceLock::new();
    SRC.get_or_init(|| {
        let (_, data) = generate(&SynthConfig {
            seed: 7,
            scale: 0.02,
            events: None,
            ..Default::default()
        })
        .expect("valid config");
        TileSource::new(Arc::new(City::build(data).expect("a valid city")), 64 << 20)
    })
}

/// What the source serves over the enumerated tiles, empty tiles left out.
fn expected(src: &TileSource, layers: LayerSet) -> Tiles {
    export_tiles(src, MINZOOM, MAXZOOM)
        .into_iter()
        .filter_map(|tile: TileCoord| {
            let req = TileRequest {
                layers,
                tile,
                filter: EventFilter::default(),
            };
            let t = src.tile(&req).unwrap()?;
            Some(((tile.z(), tile.x(), tile.y()), t.bytes.to_vec()))
        })
        .collect()
}

fn read_mbtiles(path: &std::path::Path) -> (Tiles, BTreeMap<String, String>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        .unwrap();
    let tiles = stmt
        .query_map([], |r| {
            let z: u8 = r.get(0)?;
            let row: u32 = r.get(2)?;
            let data: Vec<u8> = r.get(3)?;
            Ok(((z, r.get(1)?, (1u32 << z) - 1 - row), gunzip(&data)))
        })
        .unwrap()
        .collect::<Result<Tiles, _>>()
        .unwrap();
    let mut stmt = conn.prepare("SELECT name, value FROM metadata").unwrap();
    let meta = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (tiles, meta)
}

/// A minimal PMTiles v3 reader: 127-byte header, gzipped varint directories.
fn read_pmtiles(file: &[u8]) -> (Tiles, serde_json::Value) {
    assert_eq!(&file[..7], b"PMTiles");
    assert_eq!(file[7], 3);
    let u = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    let (root, meta, leaves, data) = ((u(8), u(16)), (u(24), u(32)), u(40), u(56));
    assert_eq!(file[97], 2, "gzip internal compression");
    assert_eq!(file[98], 2, "gzip tile compression");
    assert_eq!(file[99], 1, "mvt tiles");
    assert_eq!((file[100], file[101]), (MINZOOM, MAXZOOM));
    let metadata = serde_json::from_slice(&gunzip(&file[meta.0..meta.0 + meta.1])).unwrap();
    let mut tiles = Tiles::new();
    walk(file, root, leaves, data, &mut tiles);
    (tiles, metadata)
}

fn walk(file: &[u8], (off, len): (usize, usize), leaves: usize, data: usize, out: &mut Tiles) {
    let dir = gunzip(&file[off..off + len]);
    let mut p = &dir[..];
    let mut varint = || {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = p[0];
            p = &p[1..];
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return v;
            }
        }
    };
    let n = varint() as usize;
    let mut ids = Vec::with_capacity(n);
    let mut last = 0;
    for _ in 0..n {
        last += varint();
        ids.push(last);
    }
    let runs: Vec<u64> = (0..n).map(|_| varint()).collect();
    let lens: Vec<usize> = (0..n).map(|_| varint() as usize).collect();
    let mut offs: Vec<usize> = Vec::with_capacity(n);
    for i in 0..n {
        let v = varint() as usize;
        offs.push(if v == 0 && i > 0 {
            offs[i - 1] + lens[i - 1]
        } else {
            v - 1
        });
    }
    for i in 0..n {
        if runs[i] == 0 {
            walk(file, (leaves + offs[i], lens[i]), leaves, data, out);
            continue;
        }
        let bytes = gunzip(&file[data + offs[i]..data + offs[i] + lens[i]]);
        for id in ids[i]..ids[i] + runs[i] {
            let c = pmtiles::TileCoord::from(pmtiles::TileId::new(id).unwrap());
            out.insert((c.z(), c.x(), c.y()), bytes.clone());
        }
    }
}

#[test]
fn archives_hold_the_served_tiles() {
    let src = source();
    let dir = tempfile::tempdir().unwrap();
    let layers = LayerSet::all();
    let want = expected(src, layers);
    assert!(want.len() > 20, "only {} tiles", want.len());
    for z in MINZOOM..=MAXZOOM {
        assert!(want.keys().any(|k| k.0 == z), "no tile at zoom {z}");
    }

    for format in [ExportFormat::MbTiles, ExportFormat::PmTiles] {
        let out = dir.path().join(format!("city.{format:?}"));
        let opts = ExportOptions {
            format,
            minzoom: MINZOOM,
            maxzoom: MAXZOOM,
            layers,
        };
        let mut calls = Vec::new();
        let started = std::time::Instant::now();
        let summary = export(src, &opts, &out, &mut |d, t| calls.push((d, t))).unwrap();
        eprintln!(
            "{format:?}: {} of {} tiles, {} tile bytes, {} file bytes in {:.2} s",
            summary.tiles,
            summary.enumerated,
            summary.tile_bytes,
            summary.file_bytes,
            started.elapsed().as_secs_f64()
        );
        assert_eq!(summary.tiles, want.len() as u64);
        assert_eq!(calls.first(), Some(&(0, summary.enumerated)));
        assert_eq!(
            calls.last(),
            Some(&(summary.enumerated, summary.enumerated))
        );
        assert_eq!(std::fs::metadata(&out).unwrap().len(), summary.file_bytes);

        let got = match format {
            ExportFormat::MbTiles => {
                let (tiles, meta) = read_mbtiles(&out);
                assert_eq!(meta["format"], "pbf");
                assert_eq!(meta["minzoom"], MINZOOM.to_string());
                assert_eq!(meta["maxzoom"], MAXZOOM.to_string());
                assert_eq!(meta["bounds"].split(',').count(), 4);
                let json: serde_json::Value = serde_json::from_str(&meta["json"]).unwrap();
                assert_eq!(
                    json["vector_layers"].as_array().unwrap().len(),
                    layers.len()
                );
                tiles
            }
            ExportFormat::PmTiles => {
                let (tiles, meta) = read_pmtiles(&std::fs::read(&out).unwrap());
                assert_eq!(
                    meta["vector_layers"].as_array().unwrap().len(),
                    layers.len()
                );
                tiles
            }
        };
        assert_eq!(got.len(), want.len(), "{format:?}");
        for (k, v) in &want {
            assert!(got.get(k) == Some(v), "{format:?}: tile {k:?} differs");
        }
    }
    // Only the two archives: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn bad_zoom_range_writes_nothing() {
    let src = source();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.mbtiles");
    let opts = ExportOptions {
        format: ExportFormat::MbTiles,
        minzoom: 9,
        maxzoom: 8,
        layers: LayerSet::all(),
    };
    assert!(export(src, &opts, &out, &mut |_, _| {}).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
