//! The zoom rules: one table saying, for every tile layer, at which zooms it
//! appears, how much it is generalized, and where dense point layers turn
//! into H3 hexagon aggregates. Everything else (the index's pre-generalized
//! geometry, TileJSON, the style, the docs) reads this table.

use onemap_core::Layer;
use std::fmt::Write;

/// The name of the layer of area name points (one label per area).
pub const LABELS: &str = "labels";

/// Where a point layer is drawn as H3 hexagons with counts instead of points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregation {
    /// Points are drawn one by one from this zoom on; below it, hexagons.
    pub points_from: u8,
    /// `(max zoom, H3 resolution)` steps, in increasing zoom: a zoom uses the
    /// resolution of the first step whose max zoom it does not exceed.
    pub resolutions: &'static [(u8, u8)],
    /// The density limit from `points_from` on: a tile whose window (tile
    /// plus buffer) holds more than this many points (after the request's
    /// filter) draws them as hexagons of [`Aggregation::dense_resolution`]
    /// instead, the way tippecanoe drops or clusters its densest features,
    /// so no tile grows past a few hundred kilobytes or milliseconds.
    pub max_points: usize,
    pub dense_resolution: u8,
}

/// The rule of one tile layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerRule {
    /// The layer name in tiles and URLs.
    pub name: &'static str,
    /// The data layer it draws; `None` for [`LABELS`].
    pub layer: Option<Layer>,
    pub minzoom: u8,
    /// The deepest zoom tiles are made for; clients overzoom beyond it.
    pub maxzoom: u8,
    /// Douglas–Peucker tolerance in tile pixels (extent 4096; a 512-pixel
    /// screen tile shows 8 of them per screen pixel, and geojson-vt defaults
    /// to 3); 0 for points.
    pub tolerance_px: f64,
    /// For area layers: the zoom from which their names appear in [`LABELS`].
    pub label_from: Option<u8>,
    pub aggregation: Option<Aggregation>,
}

/// The H3 steps shared by the dense point layers (events, enterprises).
const DENSE_H3: &[(u8, u8)] = &[(7, 5), (8, 6), (10, 7), (12, 8), (13, 9)];
/// At most this many points in one tile of a dense layer (see
/// [`Aggregation::max_points`]): about 60 KB of events.
pub const MAX_TILE_POINTS: usize = 4096;
/// The hexagons of a tile over the density limit: edges of about 66 m,
/// some 300 hexagons across a z14 tile.
const DENSE_TILE_H3: u8 = 10;

const fn area(
    name: &'static str,
    layer: Layer,
    minzoom: u8,
    tolerance_px: f64,
    label_from: u8,
) -> LayerRule {
    LayerRule {
        name,
        layer: Some(layer),
        minzoom,
        maxzoom: 18,
        tolerance_px,
        label_from: Some(label_from),
        aggregation: None,
    }
}

const fn points(name: &'static str, layer: Layer, minzoom: u8, dense: bool) -> LayerRule {
    LayerRule {
        name,
        layer: Some(layer),
        minzoom,
        maxzoom: 18,
        tolerance_px: 0.0,
        label_from: None,
        aggregation: if dense {
            Some(Aggregation {
                points_from: 14,
                resolutions: DENSE_H3,
                max_points: MAX_TILE_POINTS,
                dense_resolution: DENSE_TILE_H3,
            })
        } else {
            None
        },
    }
}

/// The table. Area layers come coarse to fine, then points, then labels.
static RULES: [LayerRule; 12] = [
    area("districts", Layer::Districts, 0, 2.0, 6),
    area("towns", Layer::Towns, 8, 2.0, 10),
    area("villages", Layer::Villages, 10, 1.5, 12),
    area("grids", Layer::Grids, 12, 1.0, 14),
    area("units", Layer::Units, 14, 1.0, 16),
    LayerRule {
        name: "homesteads",
        layer: Some(Layer::Homesteads),
        minzoom: 15,
        maxzoom: 18,
        tolerance_px: 0.5,
        label_from: None,
        aggregation: None,
    },
    points("events", Layer::Events, 5, true),
    points("enterprises", Layer::Enterprises, 5, true),
    points("ships", Layer::Ships, 8, false),
    points("heritage", Layer::Heritage, 10, false),
    points("schools", Layer::Schools, 11, false),
    LayerRule {
        name: LABELS,
        layer: None,
        minzoom: 6,
        maxzoom: 18,
        tolerance_px: 0.0,
        label_from: None,
        aggregation: None,
    },
];

/// Every tile layer's rule.
pub fn rules() -> &'static [LayerRule] {
    &RULES
}

/// The rule of a tile layer by name.
pub fn rule(name: &str) -> Option<&'static LayerRule> {
    RULES.iter().find(|r| r.name == name)
}

/// The rule of a data layer.
pub fn rule_for(layer: Layer) -> &'static LayerRule {
    RULES
        .iter()
        .find(|r| r.layer == Some(layer))
        .expect("every data layer has a zoom rule")
}

impl LayerRule {
    /// Whether the layer has features at zoom `z`.
    pub fn visible_at(&self, z: u8) -> bool {
        (self.minzoom..=self.maxzoom).contains(&z)
    }

    /// The H3 resolution of the hexagon aggregates at zoom `z`, or `None` when
    /// the layer is drawn as points (or not at all) there.
    pub fn h3_resolution(&self, z: u8) -> Option<u8> {
        let agg = self.aggregation?;
        if !self.visible_at(z) || z >= agg.points_from {
            return None;
        }
        agg.resolutions
            .iter()
            .find(|&&(max_z, _)| z <= max_z)
            .map(|&(_, res)| res)
    }

    /// Where the layer is drawn as points at zoom `z`: the density limit and
    /// the H3 resolution of a tile over it (`None` for a layer without
    /// aggregation, or where it is hexagons anyway, or not drawn).
    pub fn density_limit(&self, z: u8) -> Option<(usize, u8)> {
        let agg = self.aggregation?;
        (self.visible_at(z) && z >= agg.points_from)
            .then_some((agg.max_points, agg.dense_resolution))
    }

    /// Every H3 resolution the layer's hexagons use, ascending.
    pub fn h3_resolutions(&self) -> Vec<u8> {
        let mut rs: Vec<u8> = (0..=self.maxzoom)
            .filter_map(|z| self.h3_resolution(z).or(self.density_limit(z).map(|d| d.1)))
            .collect();
        rs.sort_unstable();
        rs.dedup();
        rs
    }

    /// Whether names of this area layer appear in [`LABELS`] at zoom `z`.
    pub fn labelled_at(&self, z: u8) -> bool {
        self.label_from.is_some_and(|from| z >= from)
    }
}

/// The table as Markdown, for the docs.
pub fn rules_markdown() -> String {
    let mut s = String::from(
        "| layer | zooms | simplify (px of 4096) | labels from | H3 hexagons |\n|---|---|---|---|---|\n",
    );
    for r in rules() {
        let labels = r.label_from.map_or("–".to_string(), |z| format!("z{z}"));
        let hex = match r.aggregation {
            None => "–".to_string(),
            Some(a) => {
                let mut parts = Vec::new();
                let mut from = r.minzoom;
                for &(max_z, res) in a.resolutions {
                    if max_z >= from && from < a.points_from {
                        let to = max_z.min(a.points_from - 1);
                        let zs = if from == to {
                            format!("z{from}")
                        } else {
                            format!("z{from}–{to}")
                        };
                        parts.push(format!("{zs} → res {res}"));
                        from = to + 1;
                    }
                }
                parts.push(format!(
                    "points from z{}, but res {} in a tile of more than {} points",
                    a.points_from, a.dense_resolution, a.max_points
                ));
                parts.join("; ")
            }
        };
        let _ = writeln!(
            s,
            "| {} | {}–{} | {} | {} | {} |",
            r.name, r.minzoom, r.maxzoom, r.tolerance_px, labels, hex
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_one_rule() {
        for l in Layer::ALL {
            assert_eq!(rule_for(l).name, l.as_str());
            assert_eq!(rules().iter().filter(|r| r.layer == Some(l)).count(), 1);
        }
        assert!(rule(LABELS).is_some());
        assert_eq!(rules().len(), Layer::ALL.len() + 1);
        for r in rules() {
            assert!(r.minzoom <= r.maxzoom, "{}", r.name);
            assert_eq!(
                r.tolerance_px > 0.0,
                !r.layer.is_some_and(|l| l.is_point()) && r.name != LABELS
            );
        }
    }

    #[test]
    fn labels_cover_every_labelled_zoom() {
        let labels = rule(LABELS).unwrap();
        for r in rules().iter().filter(|r| r.label_from.is_some()) {
            assert!(
                r.label_from.unwrap() >= labels.minzoom.max(r.minzoom),
                "{}",
                r.name
            );
        }
    }

    #[test]
    fn h3_steps() {
        let ev = rule("events").unwrap();
        let got: Vec<_> = (0..=18).map(|z| ev.h3_resolution(z)).collect();
        let mut want = vec![None; 5];
        want.extend([5, 5, 5, 6, 7, 7, 8, 8, 9].map(Some));
        want.extend([None; 5]);
        assert_eq!(got, want);
        assert_eq!(rule("ships").unwrap().h3_resolution(9), None);
        let dense: Vec<_> = (0..=18).map(|z| ev.density_limit(z)).collect();
        let mut want = vec![None; 14];
        want.extend([Some((MAX_TILE_POINTS, 10)); 5]);
        assert_eq!(dense, want);
        assert_eq!(ev.h3_resolutions(), vec![5, 6, 7, 8, 9, 10]);
        assert_eq!(rule("ships").unwrap().density_limit(16), None);
        assert!(rule("ships").unwrap().h3_resolutions().is_empty());
    }

    #[test]
    fn architecture_md_has_the_table() {
        let doc = include_str!("../../../docs/engine.md");
        let md = rules_markdown();
        assert!(
            doc.contains(&md),
            "docs/engine.md lacks the rules table:\n{md}"
        );
    }

    #[test]
    fn markdown_lists_every_layer() {
        let md = rules_markdown();
        assert_eq!(md.lines().count(), rules().len() + 2);
        assert!(md.contains("| events | 5–18 | 0 | – | z5–7 → res 5; z8 → res 6; z9–10 → res 7; z11–12 → res 8; z13 → res 9; points from z14, but res 10 in a tile of more than 4096 points |"), "{md}");
        assert!(md.contains("| districts | 0–18 | 2 | z6 | – |"), "{md}");
    }
}
