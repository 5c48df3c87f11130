//! The ships' applied positions and port crossings in PostGIS.

use super::{u32_of, PgLive};
use crate::{Crossing, ShipPosition, StoreError};

/// The ships that have positions, as `m (mmsi)`: found by skipping through
/// `ship_positions_mmsi_at_idx` (a recursive loose index scan), so listing
/// them does not read the whole history.
const SHIPS: &str = "WITH RECURSIVE m (mmsi) AS (
                 SELECT min(mmsi) FROM ship_positions
                 UNION ALL
                 SELECT (SELECT min(q.mmsi) FROM ship_positions q WHERE q.mmsi > m.mmsi)
                 FROM m WHERE m.mmsi IS NOT NULL)";

impl PgLive {
    /// Records applied ship positions and the port crossings they caused,
    /// in one transaction (all or nothing).
    pub async fn record_ships(
        &self,
        positions: &[ShipPosition],
        crossings: &[Crossing],
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .transaction()
            .await
            .map_err(self.err("begin recording ships"))?;
        if !positions.is_empty() {
            let mmsi: Vec<i64> = positions.iter().map(|p| i64::from(p.mmsi)).collect();
            let at: Vec<i64> = positions.iter().map(|p| p.time).collect();
            let speed: Vec<f32> = positions.iter().map(|p| p.speed_kn).collect();
            let course: Vec<f32> = positions.iter().map(|p| p.course_deg).collect();
            let in_port: Vec<bool> = positions.iter().map(|p| p.in_port).collect();
            let lon: Vec<f64> = positions.iter().map(|p| p.lon).collect();
            let lat: Vec<f64> = positions.iter().map(|p| p.lat).collect();
            tx.execute(
                "INSERT INTO ship_positions (mmsi, at, speed_kn, course_deg, in_port, geom)
                 SELECT m, to_timestamp(t), s, c, p, ST_SetSRID(ST_MakePoint(x, y), 4326)
                 FROM unnest($1::int8[], $2::int8[], $3::float4[], $4::float4[], $5::bool[],
                             $6::float8[], $7::float8[]) WITH ORDINALITY AS u(m, t, s, c, p, x, y, n)
                 ORDER BY n",
                &[&mmsi, &at, &speed, &course, &in_port, &lon, &lat],
            )
            .await
            .map_err(self.err("record ship positions"))?;
        }
        if !crossings.is_empty() {
            let mmsi: Vec<i64> = crossings.iter().map(|c| i64::from(c.mmsi)).collect();
            let port: Vec<&str> = crossings.iter().map(|c| c.port.as_str()).collect();
            let kind: Vec<&str> = crossings
                .iter()
                .map(|c| if c.arrival { "arrival" } else { "departure" })
                .collect();
            let at: Vec<i64> = crossings.iter().map(|c| c.time).collect();
            tx.execute(
                "INSERT INTO ship_crossings (mmsi, port, kind, at)
                 SELECT m, p, k, to_timestamp(t)
                 FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[]) WITH ORDINALITY AS u(m, p, k, t, n)
                 ORDER BY n",
                &[&mmsi, &port, &kind, &at],
            )
            .await
            .map_err(self.err("record ship crossings"))?;
        }
        tx.commit()
            .await
            .map_err(self.err("commit ship positions"))?;
        Ok(())
    }

    /// Every ship's latest recorded position, by MMSI. The ships are found
    /// by skipping through `ship_positions_mmsi_at_idx` (a recursive loose
    /// index scan) and each one's latest is one probe of it, so start-up
    /// does not read the whole history (positions are recorded in time
    /// order per ship: stale reports are never applied).
    pub async fn latest_ship_positions(&self) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            &format!(
                "{SHIPS}
             SELECT p.mmsi, extract(epoch FROM p.at)::int8, ST_X(p.geom), ST_Y(p.geom),
                    p.speed_kn, p.course_deg, p.in_port
             FROM m CROSS JOIN LATERAL (
                 SELECT * FROM ship_positions q WHERE q.mmsi = m.mmsi
                 ORDER BY q.at DESC, q.id DESC LIMIT 1) p
             ORDER BY p.mmsi"
            ),
            &[],
        )
        .await
    }

    /// One ship's recorded positions from `from` on, oldest first.
    pub async fn ship_track(&self, mmsi: u32, from: i64) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            "SELECT mmsi, extract(epoch FROM at)::int8, ST_X(geom), ST_Y(geom), speed_kn,
                    course_deg, in_port
             FROM ship_positions WHERE mmsi = $1 AND at >= to_timestamp($2) ORDER BY at, id",
            &[&i64::from(mmsi), &(from as f64)],
        )
        .await
    }

    /// Recorded crossings in `[from, to)`, oldest first, of one port or all
    /// (`i64::MIN` and `i64::MAX` are open ends, beyond PostgreSQL's times).
    pub async fn crossings(
        &self,
        port: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<Crossing>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT mmsi, port, kind, extract(epoch FROM at)::int8 FROM ship_crossings
                 WHERE ($1::text IS NULL OR port = $1)
                   AND ($2::float8 IS NULL OR at >= to_timestamp($2))
                   AND ($3::float8 IS NULL OR at < to_timestamp($3))
                 ORDER BY at, id",
                &[
                    &port,
                    &(from != i64::MIN).then_some(from as f64),
                    &(to != i64::MAX).then_some(to as f64),
                ],
            )
            .await
            .map_err(self.err("read ship crossings"))?;
        rows.iter()
            .map(|r| {
                Ok(Crossing {
                    mmsi: u32_of("ship_crossings", r.get(0))?,
                    port: r.get(1),
                    arrival: r.get::<_, &str>(2) == "arrival",
                    time: r.get(3),
                })
            })
            .collect()
    }

    async fn positions(
        &self,
        sql: &str,
        args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<ShipPosition>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(sql, args)
            .await
            .map_err(self.err("read ship positions"))?;
        rows.iter()
            .map(|r| {
                Ok(ShipPosition {
                    mmsi: u32_of("ship_positions", r.get(0))?,
                    time: r.get(1),
                    lon: r.get(2),
                    lat: r.get(3),
                    speed_kn: r.get(4),
                    course_deg: r.get(5),
                    in_port: r.get(6),
                })
            })
            .collect()
    }

    /// Each ship's recorded positions of the last `secs` seconds before its
    /// latest, by MMSI, oldest first (the ships found as in
    /// [`PgLive::latest_ship_positions`], each one's window one range of the
    /// index).
    pub async fn recent_ship_positions(&self, secs: i64) -> Result<Vec<ShipPosition>, StoreError> {
        self.positions(
            &format!(
                "{SHIPS}
             SELECT p.mmsi, extract(epoch FROM p.at)::int8, ST_X(p.geom), ST_Y(p.geom),
                    p.speed_kn, p.course_deg, p.in_port
             FROM m
             CROSS JOIN LATERAL (SELECT max(q.at) AS last FROM ship_positions q
                                 WHERE q.mmsi = m.mmsi) l
             CROSS JOIN LATERAL (
                 SELECT * FROM ship_positions q
                 WHERE q.mmsi = m.mmsi AND q.at >= l.last - make_interval(secs => $1)) p
             ORDER BY p.mmsi, p.at, p.id"
            ),
            &[&(secs as f64)],
        )
        .await
    }
}
