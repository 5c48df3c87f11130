//! Reading a city directory.
//!
//! A layer file is read whole into memory and parsed with the FlatBuffers
//! accessors of the `flatgeobuf` crate (every table is verified), but framed
//! and decoded here rather than through `FgbReader`: its feature iterator
//! stops silently when a file is cut at a feature boundary, allocates
//! whatever size a corrupt length prefix announces, and its property and
//! geometry readers index without bounds checks (a crafted file panics
//! them). Here every length is checked against the file, a short file is
//! reported as truncated, and features are decoded in parallel.
//!
//! This module holds what the reader gives (a city directory, its
//! metadata, one layer file); `layers` decodes each layer's features,
//! `file` checks a file's framing and header and splits it into features,
//! `row` decodes a feature's properties and `geometry` its geometry.

mod file;
mod geometry;
mod layers;
mod row;

use super::{layer_path, meta_path};
use crate::StoreError;
use onemap_core::{
    Area, AreaTree, CityData, CityMeta, Enterprise, Event, HeritagePoint, Homestead, Layer, School,
    Ship,
};
use rayon::prelude::*;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

pub(crate) use layers::{
    read_areas, read_enterprises, read_events, read_heritage, read_homesteads, read_schools,
    read_ships,
};

/// The features of one layer file.
#[derive(Debug, Clone)]
pub(crate) enum LayerData {
    /// The areas of one level, ascending by id.
    Areas(Vec<Area>),
    Events(Vec<Event>),
    Ships(Vec<Ship>),
    Heritage(Vec<HeritagePoint>),
    Homesteads(Vec<Homestead>),
    Enterprises(Vec<Enterprise>),
    Schools(Vec<School>),
}

/// Reads only a city directory's `city.json` and its areas (for work that
/// needs the area tree and not the layers, like the one table's ledgers).
pub fn read_city_areas(dir: &Path) -> Result<(CityMeta, AreaTree), StoreError> {
    let levels: Vec<Layer> = Layer::ALL
        .into_iter()
        .filter(|l| l.area_level().is_some())
        .collect();
    for path in std::iter::once(meta_path(dir)).chain(levels.iter().map(|l| layer_path(dir, *l))) {
        if !path.exists() {
            return Err(StoreError::MissingFile { path });
        }
    }
    let meta = read_meta(&meta_path(dir))?;
    let layers = levels
        .par_iter()
        .map(|&l| read_layer(&layer_path(dir, l), l))
        .collect::<Vec<_>>();
    let mut areas = Vec::new();
    for layer in layers {
        if let LayerData::Areas(v) = layer? {
            areas.extend(v);
        }
    }
    Ok((meta, AreaTree::from_areas(areas)))
}

/// Reads a city directory written by [`write_city_dir`](crate::write_city_dir).
///
/// The layers are read in parallel. Features come back in ascending id order
/// (ships by MMSI), so a city whose vectors are in that order reads back
/// equal to what was written.
pub fn read_city_dir(dir: &Path) -> Result<(CityMeta, CityData), StoreError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(StoreError::MissingDir {
                path: dir.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(StoreError::Io {
                action: "open directory",
                path: dir.to_path_buf(),
                source,
            })
        }
        Ok(m) if !m.is_dir() => {
            return Err(StoreError::NotADirectory {
                path: dir.to_path_buf(),
            })
        }
        Ok(_) => {}
    }
    // Name a missing file before spending time on the others.
    let paths = std::iter::once(meta_path(dir)).chain(Layer::ALL.map(|l| layer_path(dir, l)));
    for path in paths {
        if !path.exists() {
            return Err(StoreError::MissingFile { path });
        }
    }
    let (meta, layers) = rayon::join(
        || read_meta(&meta_path(dir)),
        || {
            Layer::ALL
                .par_iter()
                .map(|&l| read_layer(&layer_path(dir, l), l))
                .collect::<Vec<_>>()
        },
    );
    let meta = meta?;
    let mut city = CityData::default();
    let mut areas = Vec::new();
    for layer in layers {
        match layer? {
            LayerData::Areas(v) => areas.extend(v),
            LayerData::Events(v) => city.events = v,
            LayerData::Ships(v) => city.ships = v,
            LayerData::Heritage(v) => city.heritage = v,
            LayerData::Homesteads(v) => city.homesteads = v,
            LayerData::Enterprises(v) => city.enterprises = v,
            LayerData::Schools(v) => city.schools = v,
        }
    }
    city.areas = AreaTree::from_areas(areas);
    Ok((meta, city))
}

/// Reads `city.json`.
pub(crate) fn read_meta(path: &Path) -> Result<CityMeta, StoreError> {
    let bytes = load(path)?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads one layer file, holding `layer`'s features.
pub(crate) fn read_layer(path: &Path, layer: Layer) -> Result<LayerData, StoreError> {
    Ok(match layer.area_level() {
        Some(level) => LayerData::Areas(read_areas(path, level)?),
        None => match layer {
            Layer::Events => LayerData::Events(read_events(path)?),
            Layer::Ships => LayerData::Ships(read_ships(path)?),
            Layer::Heritage => LayerData::Heritage(read_heritage(path)?),
            Layer::Homesteads => LayerData::Homesteads(read_homesteads(path)?),
            Layer::Enterprises => LayerData::Enterprises(read_enterprises(path)?),
            _ => LayerData::Schools(read_schools(path)?),
        },
    })
}

fn load(path: &Path) -> Result<Vec<u8>, StoreError> {
    fs::read(path).map_err(|source| {
        if source.kind() == ErrorKind::NotFound {
            StoreError::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            StoreError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            }
        }
    })
}
