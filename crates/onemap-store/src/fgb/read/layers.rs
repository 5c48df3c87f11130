//! Each layer's features decoded from its file, column by column (see
//! `schema`), and sorted by id (ships by MMSI).

use super::file::LayerFile;
use super::geometry::{multipolygon, point};
use super::load;
use super::row::FeatError;
use crate::fgb::schema::{area, enterprise, event, heritage, homestead, school, ship};
use crate::StoreError;
use onemap_core::{
    Area, CoreError, Enterprise, Event, HeritagePoint, Homestead, Layer, Level, School, Ship,
};
use rayon::prelude::*;
use std::path::Path;

/// Reads an area layer file (`districts.fgb` … `units.fgb`) holding areas of
/// `level`, ascending by id.
pub(crate) fn read_areas(path: &Path, level: Level) -> Result<Vec<Area>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::for_level(level))?;
    let mut areas = file.decode(|row, feat| {
        let id = row.area_id(area::ID)?;
        if id.level() != Some(level) {
            return Err(FeatError::Value {
                column: "id",
                value: id.to_string(),
                source: CoreError::UnknownValue {
                    kind: "area id",
                    value: id.to_string(),
                    expected: format!("a {}-digit {level} code", level.id_digits()),
                },
            });
        }
        Ok(Area {
            id,
            level,
            name: row.text(area::NAME)?.to_owned(),
            parent: row.opt_area_id(area::PARENT_ID)?,
            leader: row.opt_text(area::LEADER)?.map(str::to_owned),
            geometry: multipolygon(feat)?,
        })
    })?;
    areas.par_sort_by_key(|a| a.id);
    Ok(areas)
}

/// Reads `events.fgb`, ascending by id.
pub(crate) fn read_events(path: &Path) -> Result<Vec<Event>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Events)?;
    let mut events = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        let reported_at = row.i64(event::REPORTED_AT)?;
        let closed_at = row.opt_i64(event::CLOSED_AT)?;
        Ok(Event {
            id: row.u64(event::ID)?,
            lon,
            lat,
            category: row.parse(event::CATEGORY)?,
            status: row.parse(event::STATUS)?,
            reported_at,
            closed_at,
            // A file from before status_at was kept: an open event entered
            // its status when reported, a closed one when closed.
            status_at: row
                .opt_i64(event::STATUS_AT)?
                .unwrap_or(closed_at.unwrap_or(reported_at)),
            unit: row.area_id(event::UNIT_ID)?,
        })
    })?;
    events.par_sort_by_key(|e| e.id);
    Ok(events)
}

/// Reads `ships.fgb`, ascending by MMSI.
pub(crate) fn read_ships(path: &Path) -> Result<Vec<Ship>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Ships)?;
    let mut ships = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(Ship {
            mmsi: row.u32(ship::MMSI)?,
            name: row.text(ship::NAME)?.to_owned(),
            home_port: row.text(ship::HOME_PORT)?.to_owned(),
            lon,
            lat,
            speed_kn: row.f32(ship::SPEED_KN)?,
            heading_deg: row.f32(ship::HEADING_DEG)?,
            in_port: row.bool(ship::IN_PORT)?,
            reported_at: row.i64(ship::REPORTED_AT)?,
        })
    })?;
    ships.par_sort_by_key(|s| s.mmsi);
    Ok(ships)
}

/// Reads `heritage.fgb`, ascending by id.
pub(crate) fn read_heritage(path: &Path) -> Result<Vec<HeritagePoint>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Heritage)?;
    let mut points = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(HeritagePoint {
            id: row.u64(heritage::ID)?,
            name: row.text(heritage::NAME)?.to_owned(),
            lon,
            lat,
            level: row.parse(heritage::LEVEL)?,
            watch: row.parse(heritage::WATCH)?,
        })
    })?;
    points.par_sort_by_key(|p| p.id);
    Ok(points)
}

/// Reads `homesteads.fgb`, ascending by id.
pub(crate) fn read_homesteads(path: &Path) -> Result<Vec<Homestead>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Homesteads)?;
    let mut homesteads = file.decode(|row, feat| {
        Ok(Homestead {
            id: row.u64(homestead::ID)?,
            geometry: multipolygon(feat)?,
            area_m2: row.f64(homestead::AREA_M2)?,
            status: row.parse(homestead::STATUS)?,
        })
    })?;
    homesteads.par_sort_by_key(|h| h.id);
    Ok(homesteads)
}

/// Reads `enterprises.fgb`, ascending by id.
pub(crate) fn read_enterprises(path: &Path) -> Result<Vec<Enterprise>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Enterprises)?;
    let mut enterprises = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(Enterprise {
            id: row.u64(enterprise::ID)?,
            name: row.text(enterprise::NAME)?.to_owned(),
            lon,
            lat,
            industry: row.text(enterprise::INDUSTRY)?.to_owned(),
            employees: row.u32(enterprise::EMPLOYEES)?,
            large: row.bool(enterprise::LARGE)?,
        })
    })?;
    enterprises.par_sort_by_key(|e| e.id);
    Ok(enterprises)
}

/// Reads `schools.fgb`, ascending by id.
pub(crate) fn read_schools(path: &Path) -> Result<Vec<School>, StoreError> {
    let bytes = load(path)?;
    let file = LayerFile::open(path, &bytes, Layer::Schools)?;
    let mut schools = file.decode(|row, feat| {
        let (lon, lat) = point(feat)?;
        Ok(School {
            id: row.u64(school::ID)?,
            name: row.text(school::NAME)?.to_owned(),
            lon,
            lat,
            kind: row.parse(school::KIND)?,
            students: row.u32(school::STUDENTS)?,
        })
    })?;
    schools.par_sort_by_key(|s| s.id);
    Ok(schools)
}
