//! Writing a city directory.
//!
//! The features are encoded with the FlatBuffers tables and the packed
//! R-tree of the `flatgeobuf` crate, but not with its `FgbWriter`: that
//! writer spools every feature to a temporary file and, when finishing, seeks
//! back to each one (one seek and read per feature) and sorts by Hilbert value
//! recomputing both values on every comparison — over 5 s for a million
//! points. Here features are encoded in parallel into memory, Hilbert values
//! are computed once, and the file is written in one sequential pass. The
//! output is what `FgbWriter` would produce for the same features (same
//! feature encoding, same descending Hilbert order, same packed R-tree); the
//! header differs only in spelling out the CRS organisation ("EPSG").
//!
//! This module stages the files and renames them into place; `layers`
//! fills each layer's columns, `feature` encodes one feature, and `file`
//! lays out a layer file (header, packed R-tree, features in Hilbert
//! order).

mod feature;
mod file;
mod layers;

use super::{layer_path, meta_path};
use crate::StoreError;
use file::{encode, EncodedLayer};
use layers::{
    encode_area, encode_enterprise, encode_event, encode_heritage, encode_homestead, encode_school,
    encode_ship,
};
use onemap_core::{
    Area, CityData, CityMeta, Enterprise, Event, HeritagePoint, Homestead, Layer, Level, School,
    Ship,
};
use rayon::prelude::*;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes a whole city into `dir` (created if missing): one `<layer>.fgb`
/// per [`Layer`] and `city.json`.
///
/// All files are first written under temporary names in `dir`, in parallel,
/// and only renamed into place once every one of them is complete, so a
/// failed write leaves the previous files (if any) untouched and no
/// half-written file behind (short of the renames themselves failing
/// midway). `city.json` is renamed last. The same input always gives
/// byte-identical files.
pub fn write_city_dir(dir: &Path, meta: &CityMeta, city: &CityData) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        action: "create directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut jobs: Vec<Job> = Level::ALL
        .into_iter()
        .map(|l| Job::Areas(l, city.areas.level(l)))
        .collect();
    jobs.extend([
        Job::Events(&city.events),
        Job::Ships(&city.ships),
        Job::Heritage(&city.heritage),
        Job::Homesteads(&city.homesteads),
        Job::Enterprises(&city.enterprises),
        Job::Schools(&city.schools),
        // Last, so it is renamed into place last.
        Job::Meta(meta),
    ]);
    let staged: Vec<Result<Staged, StoreError>> =
        jobs.par_iter().map(|job| job.stage(dir)).collect();
    // On the first error, dropping the rest removes their temporary files.
    let staged = staged
        .into_iter()
        .collect::<Result<Vec<Staged>, StoreError>>()?;
    for s in staged {
        s.commit()?;
    }
    Ok(())
}

/// One file to write.
enum Job<'a> {
    Meta(&'a CityMeta),
    Areas(Level, &'a [Area]),
    Events(&'a [Event]),
    Ships(&'a [Ship]),
    Heritage(&'a [HeritagePoint]),
    Homesteads(&'a [Homestead]),
    Enterprises(&'a [Enterprise]),
    Schools(&'a [School]),
}

/// What goes into a file.
enum Content {
    Json(Vec<u8>),
    Layer(EncodedLayer),
}

impl Job<'_> {
    fn dest(&self, dir: &Path) -> PathBuf {
        let layer = match self {
            Job::Meta(_) => return meta_path(dir),
            Job::Areas(l, _) => Layer::for_level(*l),
            Job::Events(_) => Layer::Events,
            Job::Ships(_) => Layer::Ships,
            Job::Heritage(_) => Layer::Heritage,
            Job::Homesteads(_) => Layer::Homesteads,
            Job::Enterprises(_) => Layer::Enterprises,
            Job::Schools(_) => Layer::Schools,
        };
        layer_path(dir, layer)
    }

    fn content(&self) -> Result<Content, String> {
        let layer = match self {
            Job::Meta(meta) => {
                let mut json = serde_json::to_vec_pretty(meta).map_err(|e| e.to_string())?;
                json.push(b'\n');
                return Ok(Content::Json(json));
            }
            Job::Areas(level, v) => encode(Layer::for_level(*level), v, |a, f| {
                encode_area(*level, a, f)
            }),
            Job::Events(v) => encode(Layer::Events, v, encode_event),
            Job::Ships(v) => encode(Layer::Ships, v, encode_ship),
            Job::Heritage(v) => encode(Layer::Heritage, v, encode_heritage),
            Job::Homesteads(v) => encode(Layer::Homesteads, v, encode_homestead),
            Job::Enterprises(v) => encode(Layer::Enterprises, v, encode_enterprise),
            Job::Schools(v) => encode(Layer::Schools, v, encode_school),
        };
        layer.map(Content::Layer)
    }

    /// Writes the file under its temporary name.
    fn stage(&self, dir: &Path) -> Result<Staged, StoreError> {
        let staged = Staged::new(self.dest(dir));
        let content = self.content().map_err(|reason| StoreError::InvalidData {
            path: staged.dest.clone(),
            reason,
        })?;
        let io = |source| StoreError::Io {
            action: "write",
            path: staged.tmp.clone(),
            source,
        };
        let file = File::create(&staged.tmp).map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        match &content {
            Content::Json(json) => out.write_all(json).map_err(io)?,
            Content::Layer(layer) => layer.write(&mut out).map_err(io)?,
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(staged)
    }
}

/// A finished file under its temporary name; removed on drop unless
/// committed.
struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Staged {
    fn new(dest: PathBuf) -> Self {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        Staged {
            tmp,
            dest,
            committed: false,
        }
    }

    fn commit(mut self) -> Result<(), StoreError> {
        fs::rename(&self.tmp, &self.dest).map_err(|source| StoreError::Io {
            action: "rename into place",
            path: self.dest.clone(),
            source,
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
