//! Query values from text, as the command line (`--by h3:9`) and the HTTP
//! API (`?by=h3:9`) both take them: parsed here once, so the same bad value
//! fails with the same [`IndexError`] — and the same message — from both.
//! Plain values (times, boxes, area ids, categories) parse in `onemap_core`;
//! this module adds the ones the queries are made of.
//!
//! Only the text is checked here; what depends on the question (an H3
//! resolution's range, a box's size, a page's limit) is checked by the query.

use crate::filter::{EventFilter, TimeWindow};
use crate::hotspots::HotspotPlace;
use crate::stats::GroupBy;
use crate::IndexError;
use onemap_core::{parse_list, Layer, Level, TimeBound};
use std::str::FromStr;

/// At most the first 80 characters of a value quoted in a message.
fn excerpt(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The `RES` of `h3:RES` in `text`.
fn h3_resolution(text: &str, res: &str) -> Result<u8, IndexError> {
    res.parse()
        .map_err(|_| IndexError::BadH3Resolution(excerpt(text)))
}

/// `district`, `town`, `village`, `grid` or `unit` (any case, or plural), or
/// `h3:RES`.
impl FromStr for GroupBy {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Self, IndexError> {
        let s = s.trim();
        if let Some(res) = s.strip_prefix("h3:") {
            return h3_resolution(s, res).map(GroupBy::H3);
        }
        s.parse::<Level>()
            .map(GroupBy::Level)
            .map_err(|_| IndexError::UnknownGroupBy(excerpt(s)))
    }
}

/// `unit` or `h3:RES`.
impl FromStr for HotspotPlace {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Self, IndexError> {
        let s = s.trim();
        if s == "unit" {
            return Ok(HotspotPlace::Unit);
        }
        match s.strip_prefix("h3:") {
            Some(res) => h3_resolution(s, res).map(HotspotPlace::H3),
            None => Err(IndexError::UnknownPlace(excerpt(s))),
        }
    }
}

impl TimeWindow {
    /// The window `[from, to)` between two bounds given as text (either may
    /// be open); `from` after `to` is [`IndexError::InvalidWindow`].
    pub fn between(from: Option<TimeBound>, to: Option<TimeBound>) -> Result<Self, IndexError> {
        TimeWindow::new(from.map(TimeBound::unix), to.map(TimeBound::unix))
    }
}

impl EventFilter {
    /// The filter a feature query on `layer` asks for: a time window and
    /// comma lists of categories and statuses (see [`onemap_core::parse_list`]).
    ///
    /// Events take all of them. Homesteads take only `statuses`, as
    /// homestead statuses (idle, demolishing, reclaimed). Any other layer
    /// takes none. A filter given to a layer that does not take it is
    /// [`IndexError::FilterNotApplicable`], whatever its values; then an
    /// unknown value is [`onemap_core::CoreError::UnknownValue`].
    pub fn for_layer(
        layer: Layer,
        window: TimeWindow,
        categories: Option<&str>,
        statuses: Option<&str>,
    ) -> Result<Self, IndexError> {
        let timed = window != TimeWindow::ALL;
        let refused = match layer {
            Layer::Events => false,
            Layer::Homesteads => timed || categories.is_some(),
            _ => timed || categories.is_some() || statuses.is_some(),
        };
        if refused {
            return Err(IndexError::FilterNotApplicable(layer));
        }
        let homes = layer == Layer::Homesteads;
        Ok(EventFilter {
            from: window.from,
            to: window.to,
            categories: categories.map(parse_list).transpose()?,
            statuses: statuses.filter(|_| !homes).map(parse_list).transpose()?,
            homestead_statuses: statuses.filter(|_| homes).map(parse_list).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onemap_core::{CoreError, EventCategory, EventStatus, HomesteadStatus};

    #[test]
    fn group_by() {
        let g = |s: &str| s.parse::<GroupBy>();
        assert_eq!(g("district"), Ok(GroupBy::Level(Level::District)));
        assert_eq!(g(" Villages "), Ok(GroupBy::Level(Level::Village)));
        assert_eq!(g("unit"), Ok(GroupBy::Level(Level::Unit)));
        assert_eq!(g("h3:9"), Ok(GroupBy::H3(9)));
        // The range is the query's check: stats and hot spots differ.
        assert_eq!(g("h3:2"), Ok(GroupBy::H3(2)));
        for bad in ["country", "", "h3", "H3:9", "h4:9"] {
            assert_eq!(g(bad), Err(IndexError::UnknownGroupBy(bad.into())), "{bad}");
        }
        for bad in ["h3:x", "h3:", "h3:300", "h3:-1", "h3: 9"] {
            assert_eq!(
                g(bad),
                Err(IndexError::BadH3Resolution(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            g("country").unwrap_err().to_string(),
            "unknown grouping 'country' (expected district, town, village, grid, unit or h3:RES)"
        );
        assert_eq!(
            g("h3:x").unwrap_err().to_string(),
            "invalid H3 resolution in 'h3:x': expected h3:RES with RES a number"
        );
    }

    #[test]
    fn hotspot_place() {
        let p = |s: &str| s.parse::<HotspotPlace>();
        assert_eq!(p("unit"), Ok(HotspotPlace::Unit));
        assert_eq!(p(" h3:11 "), Ok(HotspotPlace::H3(11)));
        assert_eq!(p("h3:3"), Ok(HotspotPlace::H3(3)));
        for bad in ["street", "units", "Unit", "village", ""] {
            assert_eq!(p(bad), Err(IndexError::UnknownPlace(bad.into())), "{bad}");
        }
        assert_eq!(p("h3:x"), Err(IndexError::BadH3Resolution("h3:x".into())));
        assert_eq!(
            p("street").unwrap_err().to_string(),
            "unknown hot-spot place 'street' (expected unit or h3:RES)"
        );
    }

    #[test]
    fn windows_between_bounds() {
        let t = |s: &str| Some(s.parse::<TimeBound>().unwrap());
        let w = TimeWindow::between(t("2026-01-01"), t("2026-02-01")).unwrap();
        assert_eq!(w.from, Some(1_767_196_800));
        assert_eq!(w.to, Some(1_769_875_200));
        assert_eq!(TimeWindow::between(None, None), Ok(TimeWindow::ALL));
        assert_eq!(
            TimeWindow::between(None, t("100")),
            Ok(TimeWindow {
                from: None,
                to: Some(100)
            })
        );
        // An empty window is a window; a backwards one is not.
        assert!(TimeWindow::between(t("5"), t("5")).is_ok());
        assert_eq!(
            TimeWindow::between(t("2026-10-01"), t("2026-09-01")),
            Err(IndexError::InvalidWindow {
                from: 1_790_784_000,
                to: 1_788_192_000
            })
        );
    }

    #[test]
    fn filters_per_layer() {
        let w = TimeWindow::new(Some(10), Some(20)).unwrap();
        let f = EventFilter::for_layer(Layer::Events, w, Some("road,drainage"), Some("closed"))
            .unwrap();
        assert_eq!(
            f,
            EventFilter {
                from: Some(10),
                to: Some(20),
                categories: Some(vec![EventCategory::Road, EventCategory::Drainage]),
                statuses: Some(vec![EventStatus::Closed]),
                homestead_statuses: None,
            }
        );
        let h =
            EventFilter::for_layer(Layer::Homesteads, TimeWindow::ALL, None, Some("idle")).unwrap();
        assert_eq!(h.homestead_statuses, Some(vec![HomesteadStatus::Idle]));
        assert!(h.statuses.is_none() && h.applies_to(Layer::Homesteads));
        for layer in Layer::ALL {
            let none = EventFilter::for_layer(layer, TimeWindow::ALL, None, None).unwrap();
            assert!(none.is_unrestricted(), "{layer}");
        }
        // Statuses of the wrong kind are unknown values.
        let unknown = |layer, status| {
            EventFilter::for_layer(layer, TimeWindow::ALL, None, Some(status)).unwrap_err()
        };
        assert!(matches!(
            unknown(Layer::Events, "idle"),
            IndexError::Core(CoreError::UnknownValue {
                kind: "event status",
                ..
            })
        ));
        assert!(matches!(
            unknown(Layer::Homesteads, "closed"),
            IndexError::Core(CoreError::UnknownValue {
                kind: "homestead status",
                ..
            })
        ));
        // A filter on a layer that does not take it is refused before its
        // values are read.
        let refused = [
            (Layer::Homesteads, w, None, None),
            (Layer::Homesteads, TimeWindow::ALL, Some("weather"), None),
            (Layer::Ships, TimeWindow::ALL, None, Some("idle")),
            (Layer::Schools, TimeWindow::ALL, Some("road"), None),
            (Layer::Districts, w, None, None),
            (Layer::Units, TimeWindow::ALL, Some(","), None),
        ];
        for (layer, w, c, s) in refused {
            assert_eq!(
                EventFilter::for_layer(layer, w, c, s),
                Err(IndexError::FilterNotApplicable(layer)),
                "{layer} {c:?} {s:?}"
            );
        }
    }
}
