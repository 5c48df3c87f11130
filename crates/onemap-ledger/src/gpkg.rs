//! A table as a GeoPackage (OGC 12-128r18, version 1.2): one point feature
//! table in WGS 84 whose columns are the fields asked (named by their
//! labels), for ledgers whose rows have a position. QGIS and GDAL open it.

use crate::query::{Access, Cell, Query, Sink, Summary};
use crate::registry::Kind;
use crate::source::TableSource;
use crate::LedgerError;
use onemap_core::AreaTree;
use rusqlite::{params_from_iter, Connection, ToSql};

fn db(e: rusqlite::Error) -> LedgerError {
    LedgerError::Write(std::io::Error::other(e.to_string()))
}

/// A GeoPackage geometry blob of a point: the header (magic, version 0,
/// little-endian, no envelope, SRS 4326) then the WKB point.
pub fn point_blob(lon: f64, lat: f64) -> Vec<u8> {
    let mut b = Vec::with_capacity(29);
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    b.push(0b0000_0001); // little-endian, no envelope, not empty, standard
    b.extend_from_slice(&4326i32.to_le_bytes());
    b.push(1); // WKB little-endian
    b.extend_from_slice(&1u32.to_le_bytes()); // Point
    b.extend_from_slice(&lon.to_le_bytes());
    b.extend_from_slice(&lat.to_le_bytes());
    b
}

fn sql_type(k: &Kind) -> &'static str {
    match k {
        Kind::Int => "INTEGER",
        Kind::Float => "DOUBLE",
        Kind::Date => "DATE",
        Kind::Time => "DATETIME",
        Kind::Bool => "BOOLEAN",
        _ => "TEXT",
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Rows<'c> {
    stmt: rusqlite::Statement<'c>,
    n: usize,
    bbox: [f64; 4],
}

impl Sink for Rows<'_> {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError> {
        let (fields, pos) = cells.split_at(self.n);
        let (Some(Cell::Float(lon)), Some(Cell::Float(lat))) = (pos.first(), pos.get(1)) else {
            return Err(LedgerError::Internal("a row without its position".into()));
        };
        self.bbox = [
            self.bbox[0].min(*lon),
            self.bbox[1].min(*lat),
            self.bbox[2].max(*lon),
            self.bbox[3].max(*lat),
        ];
        let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(point_blob(*lon, *lat))];
        for c in fields {
            values.push(match c {
                Cell::Null => Box::new(rusqlite::types::Null),
                Cell::Text(s) => Box::new(s.to_string()),
                Cell::Int(i) => Box::new(i64::try_from(*i).unwrap_or(i64::MAX)),
                Cell::Float(f) => Box::new(*f),
                Cell::Bool(b) => Box::new(*b),
                Cell::Date(d) => Box::new(crate::export::date_text(*d)),
                Cell::Time(t) => Box::new(iso_utc(*t)),
            });
        }
        self.stmt
            .execute(params_from_iter(values.iter()))
            .map_err(db)?;
        Ok(())
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` (GeoPackage DATETIME is ISO 8601 in UTC).
fn iso_utc(t: i64) -> String {
    let (y, m, d) = onemap_core::time::civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The table as the bytes of a GeoPackage file.
pub fn write(
    ledgers: &dyn TableSource,
    areas: &AreaTree,
    q: &Query,
    access: Access,
) -> Result<Vec<u8>, LedgerError> {
    write_with(q, |q, sink| ledgers.run(areas, q, access, sink))
}

/// [`write`] with the rows from elsewhere: `rows` runs the query it is
/// given (the fields asked and the position) into the sink, as
/// [`run`](crate::query::run) or [`run_batches`](crate::query::run_batches)
/// do.
pub fn write_with(
    q: &Query,
    rows: impl FnOnce(&Query, &mut dyn Sink) -> Result<Summary, LedgerError>,
) -> Result<Vec<u8>, LedgerError> {
    if !q.ledger.has_position() {
        return Err(LedgerError::BadQuery(format!(
            "the {} ledger has no positions",
            q.ledger.key()
        )));
    }
    let dir = tempfile::tempdir().map_err(LedgerError::Write)?;
    let path = dir.path().join("table.gpkg");
    let mut conn = Connection::open(&path).map_err(db)?;
    let table = q.ledger.key();
    let mut cols = String::new();
    let mut names = vec!["geom".to_string()];
    let mut seen = std::collections::HashSet::new();
    for f in &q.fields {
        let mut name = f.label(q.lang).to_string();
        if !seen.insert(name.clone()) {
            name = format!("{name} ({})", f.key);
            seen.insert(name.clone());
        }
        cols.push_str(&format!(", {} {}", quote(&name), sql_type(&f.kind)));
        names.push(quote(&name));
    }
    let now = iso_utc(onemap_core::time::now());
    conn.execute_batch(&format!(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10200;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
           organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
           definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
           identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL,
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
           geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
           m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
         CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT{cols});
         INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', 'POINT', 4326, 0, 0);",
        t = quote(table),
    ))
    .map_err(db)?;
    let mut with_pos = q.clone();
    let n = with_pos.fields.len();
    for k in ["lon", "lat"] {
        if let Some(f) = q.ledger.field(k) {
            with_pos.fields.push(f);
        }
    }
    let tx = conn.transaction().map_err(db)?;
    let bbox = {
        let marks = vec!["?"; n + 1].join(", ");
        let names = names.join(", ");
        let stmt = tx
            .prepare(&format!(
                "INSERT INTO {} ({names}) VALUES ({marks})",
                quote(table)
            ))
            .map_err(db)?;
        let mut sink = Rows {
            stmt,
            n,
            bbox: [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
        };
        rows(&with_pos, &mut sink)?;
        sink.bbox
    };
    let bbox: [Option<f64>; 4] = bbox.map(|v| v.is_finite().then_some(v));
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, \
         min_x, min_y, max_x, max_y, srs_id) VALUES (?1, 'features', ?2, ?3, ?4, ?5, ?6, ?7, ?8, 4326)",
        rusqlite::params![
            table,
            q.ledger.label(q.lang),
            format!("onemap one table: {} ({})", q.ledger.en(), q.describe()),
            now,
            bbox[0],
            bbox[1],
            bbox[2],
            bbox[3]
        ],
    )
    .map_err(db)?;
    tx.commit().map_err(db)?;
    drop(conn);
    std::fs::read(&path).map_err(LedgerError::Write)
}
