//! The ships' applied positions (`ship_positions`, a point feature table)
//! and port crossings (`ship_crossings`) in the GeoPackage file.

use super::gpkg::{gpkg_point, read_point};
use super::{db, EmbeddedStore};
use crate::{Crossing, ShipPosition, StoreError};
use rusqlite::params;

impl EmbeddedStore {
    /// Records applied ship positions and the port crossings they caused,
    /// all in one transaction (all or nothing).
    pub fn record_ships(
        &self,
        positions: &[ShipPosition],
        crossings: &[Crossing],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(|e| db(&self.path, "record ship positions", e))?;
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO ship_positions (geom, mmsi, at, speed_kn, course_deg, in_port) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(|e| db(&self.path, "record ship positions", e))?;
            for p in positions {
                ins.execute(params![
                    gpkg_point(p.lon, p.lat),
                    p.mmsi,
                    p.time,
                    f64::from(p.speed_kn),
                    f64::from(p.course_deg),
                    p.in_port
                ])
                .map_err(|e| db(&self.path, "record ship positions", e))?;
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO ship_crossings (mmsi, port, kind, at) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| db(&self.path, "record ship crossings", e))?;
            for c in crossings {
                let kind = if c.arrival { "arrival" } else { "departure" };
                ins.execute(params![c.mmsi, c.port, kind, c.time])
                    .map_err(|e| db(&self.path, "record ship crossings", e))?;
            }
        }
        tx.commit()
            .map_err(|e| db(&self.path, "record ship positions", e))
    }

    /// Every ship's latest recorded position (to lay over the city's ships
    /// at start-up), by MMSI.
    pub fn latest_ship_positions(&self) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT p.mmsi, p.at, p.geom, p.speed_kn, p.course_deg, p.in_port FROM ship_positions p \
             JOIN (SELECT mmsi, max(fid) AS fid FROM ship_positions GROUP BY mmsi) l ON p.fid = l.fid ORDER BY p.mmsi",
            params![],
        )
    }

    /// Each ship's recorded positions of the last `secs` seconds before its
    /// latest, by MMSI, oldest first.
    pub fn recent_ship_positions(&self, secs: i64) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT p.mmsi, p.at, p.geom, p.speed_kn, p.course_deg, p.in_port FROM ship_positions p \
             JOIN (SELECT mmsi, max(at) AS at FROM ship_positions GROUP BY mmsi) l \
               ON p.mmsi = l.mmsi AND p.at >= l.at - ?1 \
             ORDER BY p.mmsi, p.at, p.fid",
            params![secs],
        )
    }

    /// One ship's recorded positions from `from` on, oldest first.
    pub fn ship_track(&self, mmsi: u32, from: i64) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT mmsi, at, geom, speed_kn, course_deg, in_port FROM ship_positions \
             WHERE mmsi = ?1 AND at >= ?2 ORDER BY at, fid",
            params![mmsi, from],
        )
    }

    /// Recorded crossings, oldest first, of one port or all.
    pub fn crossings(
        &self,
        port: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<Crossing>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare("SELECT mmsi, port, kind, at FROM ship_crossings WHERE (?1 IS NULL OR port = ?1) AND at >= ?2 AND at < ?3 ORDER BY at, id")
            .map_err(|e| db(&self.path, "read ship crossings", e))?;
        let rows = st
            .query_map(params![port, from, to], |r| {
                Ok(Crossing {
                    mmsi: r.get(0)?,
                    port: r.get(1)?,
                    arrival: r.get::<_, String>(2)? == "arrival",
                    time: r.get(3)?,
                })
            })
            .map_err(|e| db(&self.path, "read ship crossings", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| db(&self.path, "read ship crossings", e))
    }

    fn positions(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ShipPosition>, StoreError> {
        let conn = self.lock();
        let mut st = conn
            .prepare(sql)
            .map_err(|e| db(&self.path, "read ship positions", e))?;
        let rows = st
            .query_map(args, |r| {
                let geom: Vec<u8> = r.get(2)?;
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, i64>(1)?,
                    read_point(&geom),
                    r.get::<_, f64>(3)?,
                    r.get::<_, f64>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })
            .map_err(|e| db(&self.path, "read ship positions", e))?;
        let mut out = Vec::new();
        for r in rows {
            let (mmsi, time, pt, speed, course, in_port) =
                r.map_err(|e| db(&self.path, "read ship positions", e))?;
            let (lon, lat) = pt.ok_or_else(|| StoreError::BadStoredValue {
                path: self.path.clone(),
                reason: format!("ship {mmsi} at {time}: not a GeoPackage point"),
            })?;
            out.push(ShipPosition {
                mmsi,
                time,
                lon,
                lat,
                speed_kn: speed as f32,
                course_deg: course as f32,
                in_port,
            });
        }
        Ok(out)
    }
}
