//! What a query asks for: time windows, event filters and pages.

use crate::IndexError;
use onemap_core::{BBox, Event, EventCategory, EventStatus, HomesteadStatus};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The largest page (and the largest `k` of a nearest query).
pub const MAX_LIMIT: usize = 10_000;

/// The largest box a query may cover, in degrees on each side (the whole
/// city is about 1.2° × 0.8°): a larger one is a mistake, not a question.
/// A rule of the queries, like [`MAX_LIMIT`], so every caller — the API, the
/// command line, a library user — meets the same one; a [`BBox`] itself may
/// be any size (a tile at zoom 0 is the whole world).
pub const MAX_BBOX_DEGREES: f64 = 5.0;

/// `bbox` if a query may cover it (see [`MAX_BBOX_DEGREES`]).
pub(crate) fn check_query_bbox(bbox: &BBox) -> Result<(), IndexError> {
    if bbox.width() > MAX_BBOX_DEGREES || bbox.height() > MAX_BBOX_DEGREES {
        return Err(IndexError::BBoxTooLarge {
            width: bbox.width(),
            height: bbox.height(),
            max: MAX_BBOX_DEGREES,
        });
    }
    Ok(())
}

/// A half-open window `[from, to)` of Unix seconds on an event's
/// `reported_at`; a missing bound is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeWindow {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl TimeWindow {
    /// All of time.
    pub const ALL: TimeWindow = TimeWindow {
        from: None,
        to: None,
    };

    pub fn new(from: Option<i64>, to: Option<i64>) -> Result<Self, IndexError> {
        let w = TimeWindow { from, to };
        w.check()?;
        Ok(w)
    }

    pub fn contains(&self, t: i64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }

    pub(crate) fn check(&self) -> Result<(), IndexError> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if from > to => Err(IndexError::InvalidWindow { from, to }),
            _ => Ok(()),
        }
    }
}

/// Which events a query keeps. Every field narrows: a time window on
/// `reported_at` (half-open `[from, to)`), and sets of categories and
/// statuses (`Some(vec![])` keeps nothing). The default keeps everything.
///
/// For homesteads, only `homestead_statuses` applies (idle, demolishing,
/// reclaimed: "idle homesteads in a town"); it applies to no other layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub categories: Option<Vec<EventCategory>>,
    pub statuses: Option<Vec<EventStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homestead_statuses: Option<Vec<HomesteadStatus>>,
}

impl EventFilter {
    /// Whether the filter keeps every feature of every layer.
    pub fn is_unrestricted(&self) -> bool {
        !self.restricts_events() && self.homestead_statuses.is_none()
    }

    /// Whether any of the events' fields narrows.
    pub fn restricts_events(&self) -> bool {
        self.from.is_some()
            || self.to.is_some()
            || self.categories.is_some()
            || self.statuses.is_some()
    }

    /// Whether the filter applies to `layer`: events take the event
    /// fields, homesteads their statuses, other layers no restriction.
    pub fn applies_to(&self, layer: onemap_core::Layer) -> bool {
        match layer {
            onemap_core::Layer::Events => self.homestead_statuses.is_none(),
            onemap_core::Layer::Homesteads => !self.restricts_events(),
            _ => self.is_unrestricted(),
        }
    }

    /// Whether a homestead with `status` passes the filter.
    pub fn keeps_homestead(&self, status: HomesteadStatus) -> bool {
        self.homestead_statuses
            .as_ref()
            .is_none_or(|s| s.contains(&status))
    }

    pub fn window(&self) -> TimeWindow {
        TimeWindow {
            from: self.from,
            to: self.to,
        }
    }

    /// Whether `e` passes the filter: the definition every query follows.
    pub fn matches(&self, e: &Event) -> bool {
        self.window().contains(e.reported_at)
            && self
                .categories
                .as_ref()
                .is_none_or(|c| c.contains(&e.category))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&e.status))
    }
}

/// Categories and statuses as bit sets over their codes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventMask {
    categories: u32,
    statuses: u32,
}

impl EventMask {
    pub(crate) fn new(
        categories: Option<&[EventCategory]>,
        statuses: Option<&[EventStatus]>,
    ) -> Self {
        EventMask {
            categories: categories.map_or(u32::MAX, |c| c.iter().fold(0, |m, c| m | 1 << c.code())),
            statuses: statuses.map_or(u32::MAX, |s| s.iter().fold(0, |m, s| m | 1 << s.code())),
        }
    }

    pub(crate) fn of(filter: &EventFilter) -> Self {
        Self::new(filter.categories.as_deref(), filter.statuses.as_deref())
    }

    #[inline]
    pub(crate) fn accepts(&self, category: u8, status: u8) -> bool {
        self.categories & (1 << category) != 0 && self.statuses & (1 << status) != 0
    }

    pub(crate) fn is_all(&self) -> bool {
        self.categories == u32::MAX && self.statuses == u32::MAX
    }
}

/// Where the next page starts. Opaque to callers: pass back what a page
/// returned. (It is the last id of the previous page.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Cursor(pub(crate) u64);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Cursor {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Self, IndexError> {
        s.trim()
            .parse()
            .map(Cursor)
            .map_err(|_| IndexError::InvalidCursor(s.to_string()))
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for Cursor {
    type Error = IndexError;
    fn try_from(s: String) -> Result<Self, IndexError> {
        s.parse()
    }
}

/// Which page of a result: at most `limit` (1..=[`MAX_LIMIT`]) features,
/// after `cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    pub fn first(limit: usize) -> Self {
        PageRequest {
            limit,
            cursor: None,
        }
    }

    pub(crate) fn check(&self) -> Result<(), IndexError> {
        check_limit(self.limit)
    }

    pub(crate) fn after(&self) -> Option<u64> {
        self.cursor.map(|c| c.0)
    }
}

pub(crate) fn check_limit(limit: usize) -> Result<(), IndexError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(())
    } else {
        Err(IndexError::Limit {
            limit,
            max: MAX_LIMIT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_cursors() {
        let w = TimeWindow::new(Some(10), Some(20)).unwrap();
        assert!(w.contains(10) && w.contains(19) && !w.contains(20) && !w.contains(9));
        assert!(TimeWindow::new(Some(3), Some(2)).is_err());
        assert!(TimeWindow::new(Some(3), Some(3)).is_ok());
        let c: Cursor = "42".parse().unwrap();
        assert_eq!(c.to_string(), "42");
        assert!("x".parse::<Cursor>().is_err());
        assert!(
            check_limit(0).is_err() && check_limit(10_001).is_err() && check_limit(10_000).is_ok()
        );
        let m = EventMask::new(Some(&[EventCategory::Road]), Some(&[]));
        assert!(!m.accepts(EventCategory::Road.code(), 0));
        let m = EventMask::new(Some(&[EventCategory::Road]), None);
        assert!(m.accepts(EventCategory::Road.code(), 5) && !m.accepts(0, 5));
    }

    #[test]
    fn query_boxes_have_a_size_limit() {
        let b = |w: f64, h: f64| BBox::new(118.0, 24.0, 118.0 + w, 24.0 + h).unwrap();
        assert!(check_query_bbox(&b(5.0, 5.0)).is_ok());
        assert!(check_query_bbox(&b(0.0, 0.0)).is_ok());
        for (w, h) in [(5.01, 1.0), (1.0, 5.01)] {
            assert_eq!(
                check_query_bbox(&b(w, h)),
                Err(IndexError::BBoxTooLarge {
                    width: b(w, h).width(),
                    height: b(w, h).height(),
                    max: 5.0
                })
            );
        }
        assert_eq!(
            check_query_bbox(&b(19.1, 5.1)).unwrap_err().to_string(),
            "the box is 19.10° × 5.10°; a query covers at most 5° on each side"
        );
    }
}
