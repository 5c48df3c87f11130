//! Every style in styles/ asks only for what the tiles hold: each
//! `source-layer` is a tile layer, each `["get", field]` a field of that
//! layer (as the catalog lists them), and each value an expression compares
//! a field with (`match` labels, `==`, `!=`, `in`) is one the data can
//! hold: a name of the registries in onemap-core (EventStatus,
//! EventCategory, HomesteadStatus, ProtectionLevel, Watch, SchoolKind,
//! Level) for enum fields, a number or a boolean for the others. A style
//! that colours a status the data never has (`demolished` for homesteads,
//! whose statuses are idle, demolishing, reclaimed) fails here.

use onemap_core::{
    EventCategory, EventStatus, HomesteadStatus, Layer, Level, ProtectionLevel, SchoolKind, Watch,
};
use onemap_tiles::{fields, rules, LayerSet};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a field of a tile layer may hold.
#[derive(Debug, Clone)]
enum Kind {
    /// One of these names.
    Enum(Vec<&'static str>),
    /// Any text (names, leaders, industries, H3 cells).
    Text,
    Number,
    Boolean,
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Kind {
    Kind::Enum(all.iter().map(|&x| name(x)).collect())
}

/// The enum registry behind a field of a tile layer, if it has one.
fn registry(layer: Option<Layer>, field: &str) -> Option<Kind> {
    Some(match (layer, field) {
        (Some(Layer::Events), "category") => names(EventCategory::ALL, EventCategory::as_str),
        (Some(Layer::Events), "status") => names(EventStatus::ALL, EventStatus::as_str),
        (Some(Layer::Homesteads), "status") => names(HomesteadStatus::ALL, HomesteadStatus::as_str),
        (Some(Layer::Heritage), "level") => names(ProtectionLevel::ALL, ProtectionLevel::as_str),
        (Some(Layer::Heritage), "watch") => names(Watch::ALL, Watch::as_str),
        (Some(Layer::Schools), "kind") => names(SchoolKind::ALL, SchoolKind::as_str),
        // Areas and their labels: the level's name.
        (None, "level") => names(&Level::ALL, Level::as_str),
        (Some(l), "level") if l.area_level().is_some() => names(&Level::ALL, Level::as_str),
        _ => return None,
    })
}

/// Every tile layer with its fields, from the catalog's own sources.
fn catalog() -> BTreeMap<&'static str, BTreeMap<&'static str, Kind>> {
    rules()
        .iter()
        .map(|r| {
            let fs = fields(r)
                .into_iter()
                .map(|(name, t)| {
                    let kind = registry(r.layer, name).unwrap_or(match t {
                        "Number" => Kind::Number,
                        "Boolean" => Kind::Boolean,
                        "String" => Kind::Text,
                        other => panic!("unknown field type {other}"),
                    });
                    (name, kind)
                })
                .collect();
            (r.name, fs)
        })
        .collect()
}

/// Problems found in one style.
struct Check<'a> {
    style: String,
    catalog: &'a BTreeMap<&'static str, BTreeMap<&'static str, Kind>>,
    problems: Vec<String>,
}

impl Check<'_> {
    fn problem(&mut self, layer: &str, what: String) {
        self.problems
            .push(format!("{}: layer {layer}: {what}", self.style));
    }

    /// The field an expression reads, if it is `["get", "field"]` (or a
    /// legacy filter's bare field name when `bare` allows it).
    fn field_of(v: &Value, bare: bool) -> Option<&str> {
        match v {
            Value::Array(a) if a.len() == 2 && a[0] == "get" => a[1].as_str(),
            Value::String(s) if bare => Some(s),
            _ => None,
        }
    }

    /// Checks that `value` (a literal, or a `["literal", …]` array) is one
    /// `field` of `source_layer` can hold.
    fn value(&mut self, id: &str, source_layer: &str, field: &str, value: &Value) {
        let value = match value {
            Value::Array(a) if a.len() == 2 && a[0] == "literal" => &a[1],
            v => v,
        };
        if let Value::Array(items) = value {
            for v in items {
                self.value(id, source_layer, field, v);
            }
            return;
        }
        let Some(kind) = self
            .catalog
            .get(source_layer)
            .and_then(|f| f.get(field))
            .cloned()
        else {
            return; // reported where the field is read
        };
        let ok = match (&kind, value) {
            (Kind::Enum(names), Value::String(s)) => names.contains(&s.as_str()),
            (Kind::Text, Value::String(_)) => true,
            (Kind::Number, Value::Number(_)) => true,
            (Kind::Boolean, Value::Bool(_)) => true,
            _ => false,
        };
        if !ok {
            self.problem(
                id,
                format!("{field} is compared with {value}, which it never holds ({kind:?})"),
            );
        }
    }

    /// Walks an expression (or a legacy filter when `legacy`), checking
    /// every field it reads and every value it compares one with.
    fn expr(&mut self, id: &str, source_layer: &str, v: &Value, legacy: bool) {
        let Value::Array(a) = v else {
            return;
        };
        let Some(op) = a.first().and_then(Value::as_str) else {
            a.iter()
                .for_each(|x| self.expr(id, source_layer, x, legacy));
            return;
        };
        match op {
            "get" | "has" if a.len() == 2 => {
                if let Some(f) = a[1].as_str() {
                    let known = self
                        .catalog
                        .get(source_layer)
                        .is_some_and(|fs| fs.contains_key(f));
                    if !known {
                        self.problem(id, format!("reads {f:?}, not a field of {source_layer}"));
                    }
                }
                return;
            }
            "match" if a.len() >= 4 => {
                if let Some(f) = Self::field_of(&a[1], false) {
                    // Labels are every other item after the input, the
                    // last item being the fallback.
                    for label in a[2..a.len() - 1].iter().step_by(2) {
                        self.value(id, source_layer, f, label);
                    }
                }
            }
            "==" | "!=" if a.len() == 3 => {
                let geometry =
                    a[1] == serde_json::json!(["geometry-type"]) || (legacy && a[1] == "$type");
                if geometry {
                    let ok = a[2]
                        .as_str()
                        .is_some_and(|t| ["Point", "LineString", "Polygon"].contains(&t));
                    if !ok {
                        self.problem(id, format!("compares the geometry type with {}", a[2]));
                    }
                } else if let Some(f) = Self::field_of(&a[1], legacy) {
                    self.compare(id, source_layer, f, &a[2], legacy);
                } else if let Some(f) = Self::field_of(&a[2], false) {
                    self.compare(id, source_layer, f, &a[1], false);
                }
            }
            "in" | "!in" if a.len() >= 3 => {
                if let Some(f) = Self::field_of(&a[1], legacy) {
                    for v in &a[2..] {
                        self.compare(id, source_layer, f, v, legacy);
                    }
                }
            }
            _ => {}
        }
        // A legacy filter's combinators hold legacy filters.
        let legacy = legacy && ["all", "any", "none"].contains(&op);
        for x in &a[1..] {
            self.expr(id, source_layer, x, legacy);
        }
    }

    /// A field compared with an operand: a literal must be a value the
    /// field holds (other expressions are walked on their own). A legacy
    /// filter names its field bare, so it is checked here.
    fn compare(
        &mut self,
        id: &str,
        source_layer: &str,
        field: &str,
        operand: &Value,
        legacy: bool,
    ) {
        let known = self
            .catalog
            .get(source_layer)
            .is_some_and(|fs| fs.contains_key(field));
        if legacy && !known {
            self.problem(
                id,
                format!("filters on {field:?}, not a field of {source_layer}"),
            );
            return;
        }
        let literal = match operand {
            Value::Array(x) => x.first().and_then(Value::as_str) == Some("literal"),
            _ => true,
        };
        if literal {
            self.value(id, source_layer, field, operand);
        }
    }

    fn style(&mut self, doc: &Value) {
        // The tile URL's layer list names tile layers.
        for (name, src) in doc["sources"].as_object().expect("sources") {
            if let Some(url) = src["url"].as_str() {
                let layers = url
                    .rsplit("/tiles/")
                    .next()
                    .and_then(|l| l.strip_suffix(".json"))
                    .unwrap_or_else(|| panic!("{}: source {name}: {url}", self.style));
                if let Err(e) = LayerSet::parse(layers) {
                    self.problem(name, format!("source URL {url}: {e}"));
                }
            }
        }
        for layer in doc["layers"].as_array().expect("layers") {
            let id = layer["id"].as_str().unwrap_or("?").to_string();
            let Some(source_layer) = layer["source-layer"].as_str() else {
                continue;
            };
            if !self.catalog.contains_key(source_layer) {
                self.problem(
                    &id,
                    format!("source-layer {source_layer:?} is no tile layer"),
                );
                continue;
            }
            if let Some(f) = layer.get("filter") {
                self.expr(&id, source_layer, f, true);
            }
            for part in ["paint", "layout"] {
                if let Some(props) = layer.get(part).and_then(Value::as_object) {
                    for v in props.values() {
                        self.expr(&id, source_layer, v, false);
                    }
                }
            }
        }
    }
}

/// The problems of a style document.
fn problems(name: &str, doc: &Value) -> Vec<String> {
    let catalog = catalog();
    let mut c = Check {
        style: name.to_string(),
        catalog: &catalog,
        problems: Vec::new(),
    };
    c.style(doc);
    c.problems
}

#[test]
fn every_style_asks_only_for_what_the_tiles_hold() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/styles");
    let mut seen = 0;
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("styles/") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        all.extend(problems(&path.display().to_string(), &doc));
        seen += 1;
    }
    assert!(seen >= 2, "the day and wall styles are checked");
    assert!(all.is_empty(), "{}", all.join("\n"));
}

/// The check itself finds what it is for, in every form a style may say it.
#[test]
fn the_check_finds_values_fields_and_layers_the_tiles_do_not_have() {
    let style = |layers: Value| {
        serde_json::json!({
            "version": 8,
            "sources": {"onemap": {"type": "vector", "url": "/tiles/events,homesteads,towns.json"}},
            "layers": layers,
        })
    };
    let bad = [
        serde_json::json!({"id": "a", "source-layer": "homesteads", "type": "fill",
            "paint": {"fill-color": ["match", ["get", "status"], "demolished", "#999", "#000"]}}),
        serde_json::json!({"id": "b", "source-layer": "events", "type": "circle",
            "filter": ["==", ["get", "status"], "open"]}),
        serde_json::json!({"id": "c", "source-layer": "events", "type": "circle",
            "filter": ["in", ["get", "category"], ["literal", ["road", "weather"]]]}),
        serde_json::json!({"id": "d", "source-layer": "events", "type": "circle",
            "filter": ["==", "status", "pending"]}),
        serde_json::json!({"id": "e", "source-layer": "events", "type": "circle",
            "paint": {"circle-radius": ["get", "severity"]}}),
        serde_json::json!({"id": "f", "source-layer": "boats", "type": "circle"}),
        serde_json::json!({"id": "g", "source-layer": "towns", "type": "fill",
            "filter": ["match", ["get", "level"], ["town", "county"], true, false]}),
        serde_json::json!({"id": "h", "source-layer": "events", "type": "fill",
            "filter": ["==", ["get", "count"], "many"]}),
    ];
    for layer in bad {
        let id = layer["id"].clone();
        let found = problems("test", &style(serde_json::json!([layer])));
        assert_eq!(found.len(), 1, "layer {id}: {found:?}");
    }
    let good = serde_json::json!([
        {"id": "a", "source-layer": "homesteads", "type": "fill",
            "paint": {"fill-color": ["match", ["get", "status"], "demolishing", "#999", ["idle", "reclaimed"], "#0a0", "#000"]}},
        {"id": "b", "source-layer": "events", "type": "circle",
            "filter": ["all", ["==", ["geometry-type"], "Point"], ["!=", ["get", "status"], "closed"]]},
        {"id": "c", "source-layer": "events", "type": "fill",
            "paint": {"fill-opacity": ["interpolate", ["linear"], ["get", "count"], 1, 0.2, 50, 0.8]}},
    ]);
    assert_eq!(problems("test", &style(good)), Vec::<String>::new());
    let bad_source = serde_json::json!({"version": 8,
        "sources": {"onemap": {"type": "vector", "url": "/tiles/events,boats.json"}}, "layers": []});
    assert_eq!(problems("test", &bad_source).len(), 1);
}
