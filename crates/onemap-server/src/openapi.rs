//! `/api/openapi.json`: a hand-written OpenAPI 3.1 description of the API.

use serde_json::{json, Map, Value};

fn param(name: &str, place: &str, kind: &str, required: bool, text: &str) -> Value {
    json!({
        "name": name, "in": place, "required": required,
        "schema": {"type": kind}, "description": text
    })
}

fn q(name: &str, kind: &str, text: &str) -> Value {
    param(name, "query", kind, false, text)
}

fn path(name: &str, text: &str) -> Value {
    param(name, "path", "string", true, text)
}

fn filters() -> Vec<Value> {
    vec![
        q("from", "string", "Start (inclusive): YYYY-MM-DD (China Standard Time midnight), ISO 8601 date-time, or Unix seconds."),
        q("to", "string", "End (exclusive), same forms as 'from'."),
        q("category", "string", "Comma list of event categories (drainage, sanitation, dispute, road, safety_hazard, illegal_building, public_order, other)."),
        q("status", "string", "Comma list of event statuses (reported, discussing, routed, handled, fed_back, closed); for homesteads, of homestead statuses (idle, demolishing, reclaimed)."),
    ]
}

fn op(summary: &str, params: Vec<Value>, content: &str, errors: &[u16]) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "OK", "content": {content: {}}}),
    );
    for code in errors {
        let what = match code {
            204 => "No Content: a valid tile with nothing in it",
            304 => "Not Modified: the If-None-Match ETag still holds",
            400 => "Bad request: malformed input",
            404 => "Not found: unknown layer, style, area or feature",
            _ => "Unprocessable: a value out of range or unknown",
        };
        let body = if *code >= 400 {
            json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        } else {
            json!({"description": what})
        };
        responses.insert(code.to_string(), body);
    }
    json!({"get": {"summary": summary, "parameters": params, "responses": responses}})
}

/// The document.
pub fn document() -> Value {
    let json_ = "application/json";
    let geo = "application/geo+json";
    let page = || {
        vec![
            q("limit", "integer", "Page size, 1..=10000 (default 100)."),
            q("cursor", "string", "next_cursor of the previous page."),
        ]
    };
    let scope = || {
        vec![
            q("area", "string", "Only under this area id."),
            q(
                "bbox",
                "string",
                "Only in min_lon,min_lat,max_lon,max_lat (at most 5° a side).",
            ),
        ]
    };
    let mut tile_params = vec![
        path("layers", "Comma list of tile layers (see /catalog)."),
        path("z", "Zoom"),
        path("x", "Column"),
        path("y", "Row, followed by .mvt"),
    ];
    tile_params.extend(filters());
    let mut features = vec![path("layer", "A data layer: districts, towns, villages, grids, units, events, ships, heritage, homesteads, enterprises, schools."), q("polygon", "string", "lon lat,lon lat,… exterior ring.")];
    features.extend(scope());
    features.extend(page());
    features.extend(filters());
    let mut nearest = vec![
        path("layer", "A point layer."),
        q("lon", "number", "Longitude (required)."),
        q("lat", "number", "Latitude (required)."),
        q("k", "integer", "How many (default 5)."),
        q("max_distance", "number", "Metres."),
    ];
    nearest.extend(filters());
    let window = || {
        vec![
            q("from", "string", "Start of the window."),
            q("to", "string", "End of the window (exclusive)."),
        ]
    };
    let mut stats = vec![q(
        "by",
        "string",
        "district, town, village, grid, unit or h3:RES (5..=12).",
    )];
    stats.extend(scope());
    stats.extend(window());
    let mut hot = vec![
        q("place", "string", "unit (default) or h3:RES (11..=12)."),
        q(
            "min_count",
            "integer",
            "Least events at one place (default 10).",
        ),
        q("category", "string", "Comma list of categories."),
        q("limit", "integer", "At most this many (default 20)."),
    ];
    hot.extend(scope());
    hot.extend(window());
    let mut area = vec![path("id", "Area id (6 to 18 digits).")];
    area.extend(window());
    json!({
        "openapi": "3.1.0",
        "info": {"title": "onemap", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Whole city, one map: vector tiles, styles and spatial queries over an in-memory city. Errors are JSON {\"error\": {\"code\", \"message\"}}."},
        "paths": {
            "/tiles/{layers}/{z}/{x}/{y}.mvt": op("A Mapbox Vector Tile (gzip when accepted; strong ETag)", tile_params, "application/vnd.mapbox-vector-tile", &[204, 304, 400, 404, 422]),
            "/tiles/{layers}.json": op("TileJSON 3.0 of a layer set", vec![path("layers", "Comma list of tile layers.")], json_, &[400, 404, 422]),
            "/catalog": op("Tile layers and their fields", vec![], json_, &[]),
            "/styles/{name}.json": op("A MapLibre style (day, wall)", vec![path("name", "Style name.")], json_, &[404]),
            "/api/locate": op("The unit, grid, village, town and district at a point (null at sea)", vec![q("lon", "number", "Longitude (required)."), q("lat", "number", "Latitude (required).")], json_, &[400, 422]),
            "/api/features/{layer}": op("Features in a box, an area or a polygon, one page, as GeoJSON", features, geo, &[400, 404, 422]),
            "/api/features/{layer}/{id}": op("One feature as GeoJSON", vec![path("layer", "Layer."), path("id", "Feature id.")], geo, &[400, 404]),
            "/api/nearest/{layer}": op("The k nearest features (geodesic metres)", nearest, geo, &[400, 404, 422]),
            "/api/stats": op("Event figures grouped by area level or H3 cell", stats, json_, &[400, 404, 422]),
            "/api/hotspots": op("Places where the same problem keeps coming back", hot, json_, &[400, 404, 422]),
            "/api/areas/{id}": op("An area: figures, leader, breadcrumb, children", area, json_, &[400, 404, 422]),
            "/api/areas/search": op("Areas whose name contains q", vec![q("q", "string", "Text to look for (required)."), q("limit", "integer", "At most (default 20).")], json_, &[400, 422]),
            "/api/wall": op("The wall display summary", vec![], json_, &[]),
            "/api/ships": op("The fleet now (positions are posted to POST /api/ships/positions with a ship_feed token)", vec![q("port", "string", "Home port."), q("state", "string", "in_port or at_sea.")], json_, &[400, 422]),
            "/api/ships/{mmsi}": op("A ship now, with its track over the 24 h up to its last report as a GeoJSON LineString", vec![path("mmsi", "The ship's MMSI.")], json_, &[400, 404]),
            "/api/ships/crossings": op("Departures and arrivals per port per day (China time)", vec![q("port", "string", "Port name."), q("from", "string", "Start of the window."), q("to", "string", "End of the window (exclusive).")], json_, &[400, 422]),
            "/api/ships/geofence": op("Port areas and restricted zones as GeoJSON polygons (kind port or zone)", vec![], "application/geo+json", &[]),
            "/api/ships/stream": op("Server-sent events: position, departure, arrival, alert (each with a rising seq), lagged", vec![], "text/event-stream", &[]),
            "/healthz": op("Liveness, the loaded city's counts and its store (status degraded when the database cannot be reached)", vec![], json_, &[]),
            "/metrics": op("Prometheus metrics", vec![], "text/plain", &[]),
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
        }}}
    })
}
