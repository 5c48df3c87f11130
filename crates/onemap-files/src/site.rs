//! An enterprise's or a school's file: what the map knows of it, where it
//! is, and the events reported nearest to it.

use crate::{FileRequest, FilesError};
use onemap_core::{EventCategory, EventStatus, Layer};
use onemap_index::{City, EventFilter, Location, Properties};
use serde::Serialize;

/// The most events listed near a site, and how far they may be (metres).
pub const NEARBY_K: usize = 20;
pub const NEARBY_M: f64 = 500.0;

/// An enterprise or a school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteKind {
    Enterprise,
    School,
}

impl SiteKind {
    pub fn key(self) -> &'static str {
        match self {
            SiteKind::Enterprise => "enterprise",
            SiteKind::School => "school",
        }
    }

    pub fn layer(self) -> Layer {
        match self {
            SiteKind::Enterprise => Layer::Enterprises,
            SiteKind::School => Layer::Schools,
        }
    }
}

/// A site's file.
#[derive(Debug, Clone, Serialize)]
pub struct SiteFile {
    pub kind: SiteKind,
    pub id: u64,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// The layer's properties (an enterprise's industry, employees and
    /// size; a school's kind and students).
    pub properties: serde_json::Value,
    /// The unit, grid, village, town and district holding it (None: at
    /// sea or outside every unit).
    pub location: Option<Location>,
    /// The events reported nearest to it (at most [`NEARBY_K`], within
    /// [`NEARBY_M`]), the nearest first.
    pub nearby: Vec<NearbyEvent>,
    pub nearby_radius_m: f64,
}

/// An event near a site.
#[derive(Debug, Clone, Serialize)]
pub struct NearbyEvent {
    pub id: u64,
    pub distance_m: f64,
    pub category: EventCategory,
    pub status: EventStatus,
    pub reported_at: i64,
    pub lon: f64,
    pub lat: f64,
}

/// The file of enterprise or school `id`.
pub fn site_file(
    city: &City,
    kind: SiteKind,
    id: u64,
    _req: &FileRequest,
) -> Result<SiteFile, FilesError> {
    let unknown = || FilesError::UnknownSite {
        kind: kind.key(),
        id,
    };
    let f = city.feature(kind.layer(), id).ok_or_else(unknown)?;
    let (name, properties) = match &f.properties {
        Properties::Enterprise {
            name,
            industry,
            employees,
            large,
        } => (
            name.clone(),
            serde_json::json!({ "industry": industry, "employees": employees, "large": large }),
        ),
        Properties::School {
            name,
            kind,
            students,
        } => (
            name.clone(),
            serde_json::json!({ "school_kind": kind, "students": students }),
        ),
        _ => return Err(unknown()),
    };
    let location = city.locate(f.lon, f.lat)?;
    let filter = EventFilter::default();
    let nearby = city
        .nearest(
            Layer::Events,
            f.lon,
            f.lat,
            NEARBY_K,
            Some(NEARBY_M),
            &filter,
        )?
        .into_iter()
        .filter_map(|n| match n.feature.properties {
            Properties::Event {
                category,
                status,
                reported_at,
                ..
            } => Some(NearbyEvent {
                id: n.feature.id,
                distance_m: n.distance_m,
                category,
                status,
                reported_at,
                lon: n.feature.lon,
                lat: n.feature.lat,
            }),
            _ => None,
        })
        .collect();
    Ok(SiteFile {
        kind,
        id,
        name,
        lon: f.lon,
        lat: f.lat,
        properties,
        location,
        nearby,
        nearby_radius_m: NEARBY_M,
    })
}
