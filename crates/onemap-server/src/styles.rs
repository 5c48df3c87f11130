//! MapLibre style documents from the `styles/` folder, with their tile,
//! TileJSON and glyph URLs pointed at the host that serves them.

use crate::ServerError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The style documents by name (`day` for `styles/day.json`).
#[derive(Debug, Default)]
pub struct Styles(BTreeMap<String, Value>);

impl Styles {
    /// Reads every `*.json` in `dir`; a missing folder gives no styles.
    pub fn load(dir: &Path) -> Result<Self, ServerError> {
        let mut styles = BTreeMap::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!("no styles folder at {}", dir.display());
                return Ok(Styles(styles));
            }
            Err(source) => {
                return Err(ServerError::Read {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        };
        for entry in entries {
            let path = entry
                .map_err(|source| ServerError::Read {
                    path: dir.to_path_buf(),
                    source,
                })?
                .path();
            let (Some(name), Some("json")) = (
                path.file_stem().and_then(|s| s.to_str()),
                path.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|source| ServerError::Read {
                path: path.clone(),
                source,
            })?;
            let doc: Value = serde_json::from_str(&text).map_err(|source| ServerError::Style {
                path: path.clone(),
                source,
            })?;
            styles.insert(name.to_string(), doc);
        }
        Ok(Styles(styles))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The style `name` with every root-relative URL (`/tiles/…`,
    /// `/fonts/…`) made absolute on `base` (e.g. `http://host:8080`).
    pub fn resolved(&self, name: &str, base: &str) -> Option<Value> {
        let mut doc = self.0.get(name)?.clone();
        let absolute = |v: &mut Value| {
            if let Value::String(s) = v {
                if s.starts_with('/') {
                    *s = format!("{base}{s}");
                }
            }
        };
        if let Some(sources) = doc.get_mut("sources").and_then(Value::as_object_mut) {
            for source in sources.values_mut() {
                if let Some(url) = source.get_mut("url") {
                    absolute(url);
                }
                if let Some(Value::Array(tiles)) = source.get_mut("tiles") {
                    tiles.iter_mut().for_each(absolute);
                }
            }
        }
        for key in ["glyphs", "sprite"] {
            if let Some(v) = doc.get_mut(key) {
                absolute(v);
            }
        }
        Some(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_absolute() {
        let mut m = BTreeMap::new();
        m.insert(
            "day".to_string(),
            serde_json::json!({
                "glyphs": "/fonts/{fontstack}/{range}.pbf",
                "sources": {
                    "a": {"type": "vector", "url": "/tiles/districts.json"},
                    "b": {"type": "vector", "tiles": ["/tiles/events/{z}/{x}/{y}.mvt", "https://x/y"]}
                }
            }),
        );
        let s = Styles(m);
        let d = s.resolved("day", "http://h:1").unwrap();
        assert_eq!(d["sources"]["a"]["url"], "http://h:1/tiles/districts.json");
        assert_eq!(
            d["sources"]["b"]["tiles"][0],
            "http://h:1/tiles/events/{z}/{x}/{y}.mvt"
        );
        assert_eq!(d["sources"]["b"]["tiles"][1], "https://x/y");
        assert_eq!(d["glyphs"], "http://h:1/fonts/{fontstack}/{range}.pbf");
        assert!(s.resolved("night", "http://h").is_none());
    }
}
