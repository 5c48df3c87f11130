//! Each layer's feature encoder: which field of a record goes into which
//! column (see `schema`); an area is also checked to be filed at the level
//! its id has.

use super::feature::FeatureBuilder;
use crate::fgb::schema::{area, enterprise, event, heritage, homestead, school, ship};
use onemap_core::{Area, Enterprise, Event, HeritagePoint, Homestead, Level, School, Ship};

pub(super) fn encode_area(level: Level, a: &Area, f: &mut FeatureBuilder) -> Result<(), String> {
    if a.level != level || a.id.level() != Some(level) {
        return Err(format!(
            "area {} is filed as a {} but its id has {} digits (a {} id has {})",
            a.id,
            a.level,
            a.id.to_string().len(),
            level,
            level.id_digits()
        ));
    }
    f.multipolygon(&a.geometry);
    f.id(area::ID, a.id.get())?;
    f.string(area::NAME, &a.name)?;
    if let Some(p) = a.parent {
        f.id(area::PARENT_ID, p.get())?;
    }
    if let Some(l) = &a.leader {
        f.string(area::LEADER, l)?;
    }
    Ok(())
}

pub(super) fn encode_event(e: &Event, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(e.lon, e.lat);
    f.id(event::ID, e.id)?;
    f.string(event::CATEGORY, e.category.as_str())?;
    f.string(event::STATUS, e.status.as_str())?;
    f.long(event::REPORTED_AT, e.reported_at);
    if let Some(t) = e.closed_at {
        f.long(event::CLOSED_AT, t);
    }
    f.id(event::UNIT_ID, e.unit.get())?;
    f.long(event::STATUS_AT, e.status_at);
    Ok(())
}

pub(super) fn encode_ship(s: &Ship, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(s.lon, s.lat);
    f.uint(ship::MMSI, s.mmsi);
    f.string(ship::NAME, &s.name)?;
    f.string(ship::HOME_PORT, &s.home_port)?;
    f.float(ship::SPEED_KN, s.speed_kn);
    f.float(ship::HEADING_DEG, s.heading_deg);
    f.boolean(ship::IN_PORT, s.in_port);
    f.long(ship::REPORTED_AT, s.reported_at);
    Ok(())
}

pub(super) fn encode_heritage(h: &HeritagePoint, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(h.lon, h.lat);
    f.id(heritage::ID, h.id)?;
    f.string(heritage::NAME, &h.name)?;
    f.string(heritage::LEVEL, h.level.as_str())?;
    f.string(heritage::WATCH, h.watch.as_str())
}

pub(super) fn encode_homestead(h: &Homestead, f: &mut FeatureBuilder) -> Result<(), String> {
    f.multipolygon(&h.geometry);
    f.id(homestead::ID, h.id)?;
    f.double(homestead::AREA_M2, h.area_m2);
    f.string(homestead::STATUS, h.status.as_str())
}

pub(super) fn encode_enterprise(e: &Enterprise, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(e.lon, e.lat);
    f.id(enterprise::ID, e.id)?;
    f.string(enterprise::NAME, &e.name)?;
    f.string(enterprise::INDUSTRY, &e.industry)?;
    f.uint(enterprise::EMPLOYEES, e.employees);
    f.boolean(enterprise::LARGE, e.large);
    Ok(())
}

pub(super) fn encode_school(s: &School, f: &mut FeatureBuilder) -> Result<(), String> {
    f.point(s.lon, s.lat);
    f.id(school::ID, s.id)?;
    f.string(school::NAME, &s.name)?;
    f.string(school::KIND, s.kind.as_str())?;
    f.uint(school::STUDENTS, s.students);
    Ok(())
}
