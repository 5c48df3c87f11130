//! An area's file: one pass over its events, one over each point layer in
//! it, and a few ledger queries (each reading only the area's villages).

use crate::{FileRequest, FilesError, Month, MAX_ROWS};
use onemap_core::{
    AreaId, BBox, EventCategory, EventStatus, HomesteadStatus, Layer, Level, ProtectionLevel,
};
use onemap_index::{AreaRef, City, NO_UNIT};
use onemap_ledger::{Cell, Ledger, LedgerError, Query, Sink, TableSource};
use serde::Serialize;
use std::collections::BTreeMap;

/// One area's file.
#[derive(Debug, Clone, Serialize)]
pub struct AreaFile {
    pub area: AreaHead,
    /// The children (a town's villages, a village's grids…), each with its
    /// own figures; empty for a unit.
    pub children: Vec<ChildRow>,
    /// Who leads it, from the cadres ledger (None: no ledgers).
    pub leaders: Option<Vec<Leader>>,
    pub events: EventFigures,
    /// The ledgers' counts (None: the city's ledgers were not generated).
    pub ledgers: Option<LedgerCounts>,
    pub heritage: HeritageFile,
    pub homesteads: HomesteadFile,
    pub enterprises: SiteRows,
    pub schools: SiteRows,
}

/// The area itself.
#[derive(Debug, Clone, Serialize)]
pub struct AreaHead {
    pub id: AreaId,
    pub level: Level,
    pub name: String,
    /// Its ancestors, from the district down to its parent.
    pub parents: Vec<AreaRef>,
    pub bbox: BBox,
    /// The grid's or unit's leader as the map names it (areas of other
    /// levels have none).
    pub leader: Option<String>,
    /// The level of its children (None for a unit).
    pub child_level: Option<Level>,
}

/// A child area with its figures.
#[derive(Debug, Clone, Serialize)]
pub struct ChildRow {
    pub area: AreaRef,
    pub leader: Option<String>,
    /// Events reported and closed in the file's months.
    pub reported: u64,
    pub closed: u64,
    /// Events open now, and of them overdue.
    pub open: u64,
    pub overdue: u64,
    /// From the ledgers (None without them).
    pub people: Option<u64>,
    pub care: Option<u64>,
    pub houses: Option<u64>,
    pub heritage: u64,
    pub homesteads: u64,
    pub enterprises: u64,
    pub schools: u64,
}

/// A cadre who leads the area or a part of it.
#[derive(Debug, Clone, Serialize)]
pub struct Leader {
    /// The post's key: party_secretary, director, grid_leader, unit_leader.
    pub post: &'static str,
    pub name: Option<String>,
    /// Masked unless the reader may see personal fields.
    pub phone: Option<String>,
    pub party: Option<bool>,
    /// The area the cadre leads.
    pub area: AreaRef,
}

/// One month's events.
#[derive(Debug, Clone, Serialize)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Its first and the next month's first moment (Unix seconds).
    pub start: i64,
    pub end: i64,
    /// Events reported in the month.
    pub reported: u64,
    /// Events closed in the month (whenever reported).
    pub closed: u64,
    /// Reported in the month, by category.
    pub by_category: BTreeMap<&'static str, u64>,
}

/// The area's events over time and now.
#[derive(Debug, Clone, Serialize)]
pub struct EventFigures {
    pub months: Vec<MonthRow>,
    /// The months together: reported and closed, by category.
    pub reported: u64,
    pub closed: u64,
    pub reported_by_category: BTreeMap<&'static str, u64>,
    pub closed_by_category: BTreeMap<&'static str, u64>,
    pub now: NowFigures,
}

/// Every event of the area, at the moment asked.
#[derive(Debug, Clone, Serialize)]
pub struct NowFigures {
    pub at: i64,
    pub total: u64,
    pub open: u64,
    pub closed: u64,
    /// Open events past the limit of the step they wait for.
    pub overdue: u64,
    pub closure_rate: Option<f64>,
    pub open_by_status: BTreeMap<&'static str, u64>,
}

/// The counts of the one table's ledgers in the area.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerCounts {
    pub people: u64,
    /// The care group (关爱人群: any care tag).
    pub care: u64,
    /// People with each tag (care tags, then veterans).
    pub tags: Vec<CareTag>,
    pub houses: u64,
    /// Houses appraised C or D (局部危险、整栋危险).
    pub dangerous_houses: u64,
    pub cadres: u64,
    pub projects: u64,
}

/// People with one tag.
#[derive(Debug, Clone, Serialize)]
pub struct CareTag {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub care: bool,
    pub people: u64,
}

/// Heritage points in the area.
#[derive(Debug, Clone, Serialize)]
pub struct HeritageFile {
    pub total: u64,
    /// By protection level (every level, zero or not).
    pub by_level: BTreeMap<&'static str, u64>,
    /// The first [`MAX_ROWS`] by unit, then id.
    pub rows: Vec<HeritageRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeritageRow {
    pub id: u64,
    pub name: String,
    pub level: ProtectionLevel,
    pub watch: onemap_core::Watch,
    pub lon: f64,
    pub lat: f64,
    pub village: Option<AreaRef>,
}

/// Idle homesteads in the area (by the interior point of each plot).
#[derive(Debug, Clone, Serialize)]
pub struct HomesteadFile {
    pub total: u64,
    pub area_m2: f64,
    /// Per status (every status, zero or not): count and area.
    pub by_status: Vec<HomesteadSum>,
    pub rows: Vec<HomesteadRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HomesteadSum {
    pub status: HomesteadStatus,
    pub count: u64,
    pub area_m2: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HomesteadRow {
    pub id: u64,
    pub status: HomesteadStatus,
    pub area_m2: f64,
    pub lon: f64,
    pub lat: f64,
    pub village: Option<AreaRef>,
}

/// Enterprises or schools in the area.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRows {
    pub total: u64,
    /// Large enterprises (规上企业); students of the schools.
    pub large: u64,
    pub students: u64,
    pub rows: Vec<SiteRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    pub id: u64,
    pub name: String,
    /// An enterprise's industry, a school's kind.
    pub kind: String,
    /// Employees or students.
    pub size: u32,
    pub large: bool,
    pub village: Option<AreaRef>,
}

/// The file of area `id`.
pub fn area_file(
    city: &City,
    ledgers: Option<&dyn TableSource>,
    id: AreaId,
    req: &FileRequest,
) -> Result<AreaFile, FilesError> {
    let areas = city.areas();
    let (level, _) = areas.position(id).ok_or(FilesError::UnknownArea(id))?;
    let area = areas.get(id).ok_or(FilesError::UnknownArea(id))?;
    let child_level = level.child();
    let kids = Children::new(city, id, child_level);

    // Parents, district first.
    let mut parents = Vec::new();
    let mut cur = area.parent;
    while let Some(p) = cur.and_then(|p| areas.get(p)) {
        parents.push(AreaRef {
            id: p.id,
            level: p.level,
            name: p.name.as_str().into(),
        });
        cur = p.parent;
    }
    parents.reverse();
    let bbox = city
        .feature(Layer::for_level(level), id.get())
        .and_then(|f| match f.properties {
            onemap_index::Properties::Area { bbox, .. } => Some(bbox),
            _ => None,
        })
        .ok_or(FilesError::UnknownArea(id))?;

    let mut children: Vec<ChildRow> = kids
        .areas
        .iter()
        .map(|a| ChildRow {
            area: AreaRef {
                id: a.id,
                level: a.level,
                name: a.name.as_str().into(),
            },
            leader: a.leader.clone(),
            reported: 0,
            closed: 0,
            open: 0,
            overdue: 0,
            people: None,
            care: None,
            houses: None,
            heritage: 0,
            homesteads: 0,
            enterprises: 0,
            schools: 0,
        })
        .collect();

    let events = event_figures(city, id, req, &kids, &mut children)?;
    let heritage = heritage(city, id, &kids, &mut children)?;
    let homesteads = homesteads(city, id, &kids, &mut children)?;
    let enterprises = sites(city, id, Layer::Enterprises, &kids, &mut children)?;
    let schools = sites(city, id, Layer::Schools, &kids, &mut children)?;

    let (leaders, counts) = match ledgers {
        None => (None, None),
        Some(l) => {
            let leaders = leaders(city, l, id, level, req)?;
            let counts = ledger_counts(city, l, id, req, &kids, &mut children)?;
            (Some(leaders), Some(counts))
        }
    };

    Ok(AreaFile {
        area: AreaHead {
            id,
            level,
            name: area.name.clone(),
            parents,
            bbox,
            leader: area.leader.clone(),
            child_level,
        },
        children,
        leaders,
        events,
        ledgers: counts,
        heritage,
        homesteads,
        enterprises,
        schools,
    })
}

/// The children of an area, and which of them holds a unit.
struct Children<'a> {
    level: Option<Level>,
    areas: &'a [onemap_core::Area],
    /// The position of the first child in its level.
    first: u32,
    /// For every unit, its ancestor's position at the children's level
    /// (None: the children are units, a unit is its own).
    ancestors: Option<&'a [u32]>,
}

impl<'a> Children<'a> {
    fn new(city: &'a City, id: AreaId, level: Option<Level>) -> Children<'a> {
        let Some(cl) = level else {
            return Children {
                level: None,
                areas: &[],
                first: 0,
                ancestors: None,
            };
        };
        let all = city.areas().level(cl);
        let own = id.level().map_or(0, |l| l.depth());
        let span = 10u64.pow(3 * (cl.depth() - own) as u32);
        let (lo, hi) = (id.get() * span, (id.get() + 1) * span);
        let a = all.partition_point(|x| x.id.get() < lo);
        let b = all.partition_point(|x| x.id.get() < hi);
        Children {
            level: Some(cl),
            areas: &all[a..b],
            first: a as u32,
            ancestors: city.unit_ancestors(cl),
        }
    }

    /// The child holding the unit at position `unit`.
    fn of_unit(&self, unit: u32) -> Option<usize> {
        self.level?;
        if unit == NO_UNIT {
            return None;
        }
        let pos = match self.ancestors {
            Some(a) => *a.get(unit as usize)?,
            None => unit,
        };
        let i = pos.checked_sub(self.first)? as usize;
        (i < self.areas.len()).then_some(i)
    }

    /// The child holding an area id (a ledger row's area).
    fn of_area(&self, id: AreaId) -> Option<usize> {
        let a = id.ancestor_at(self.level?)?;
        self.areas.binary_search_by_key(&a, |x| x.id).ok()
    }
}

fn category_map() -> BTreeMap<&'static str, u64> {
    EventCategory::ALL.iter().map(|c| (c.as_str(), 0)).collect()
}

fn event_figures(
    city: &City,
    id: AreaId,
    req: &FileRequest,
    kids: &Children<'_>,
    children: &mut [ChildRow],
) -> Result<EventFigures, FilesError> {
    let months: Vec<Month> = req.until.window();
    let bounds: Vec<i64> = months
        .iter()
        .map(|m| m.start())
        .chain(std::iter::once(req.until.next().start()))
        .collect();
    let (lo, hi) = (bounds[0], bounds[bounds.len() - 1]);
    let month_of = |t: i64| -> Option<usize> {
        if t < lo || t >= hi {
            return None;
        }
        Some(bounds.partition_point(|&b| b <= t) - 1)
    };
    let mut rows: Vec<MonthRow> = months
        .iter()
        .enumerate()
        .map(|(i, m)| MonthRow {
            month: m.to_string(),
            start: bounds[i],
            end: bounds[i + 1],
            reported: 0,
            closed: 0,
            by_category: category_map(),
        })
        .collect();
    let mut reported_by = category_map();
    let mut closed_by = category_map();
    let mut open_by: BTreeMap<&'static str, u64> = EventStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| (s.as_str(), 0))
        .collect();
    let (mut total, mut open, mut overdue) = (0u64, 0u64, 0u64);
    let cols = city.event_columns();
    let closed_code = EventStatus::Closed.code();
    for &p in city.positions_in_area(Layer::Events, id)? {
        let p = p as usize;
        let (cat, status) = (cols.category[p], cols.status[p]);
        let Some(c) = EventCategory::from_code(cat) else {
            continue;
        };
        let child = kids.of_unit(cols.points.unit[p]);
        total += 1;
        let shut = status == closed_code;
        if !shut {
            open += 1;
            if let Some(s) = EventStatus::from_code(status) {
                *open_by.entry(s.as_str()).or_default() += 1;
            }
            let late = cols.status_at[p] < req.cutoffs[status as usize];
            overdue += u64::from(late);
            if let Some(k) = child {
                children[k].open += 1;
                children[k].overdue += u64::from(late);
            }
        }
        if let Some(m) = month_of(cols.reported_at[p]) {
            rows[m].reported += 1;
            *rows[m].by_category.entry(c.as_str()).or_default() += 1;
            *reported_by.entry(c.as_str()).or_default() += 1;
            if let Some(k) = child {
                children[k].reported += 1;
            }
        }
        if shut {
            if let Some(m) = month_of(cols.status_at[p]) {
                rows[m].closed += 1;
                *closed_by.entry(c.as_str()).or_default() += 1;
                if let Some(k) = child {
                    children[k].closed += 1;
                }
            }
        }
    }
    let closed = total - open;
    Ok(EventFigures {
        reported: rows.iter().map(|r| r.reported).sum(),
        closed: rows.iter().map(|r| r.closed).sum(),
        months: rows,
        reported_by_category: reported_by,
        closed_by_category: closed_by,
        now: NowFigures {
            at: req.now,
            total,
            open,
            closed,
            overdue,
            closure_rate: (total > 0).then(|| closed as f64 / total as f64),
            open_by_status: open_by,
        },
    })
}

/// The village holding a unit position (for rows of a point layer).
fn village_of(city: &City, unit: u32) -> Option<AreaRef> {
    if unit == NO_UNIT {
        return None;
    }
    let pos = *city.unit_ancestors(Level::Village)?.get(unit as usize)?;
    let v = city.areas().level(Level::Village).get(pos as usize)?;
    Some(AreaRef {
        id: v.id,
        level: Level::Village,
        name: v.name.as_str().into(),
    })
}

fn heritage(
    city: &City,
    id: AreaId,
    kids: &Children<'_>,
    children: &mut [ChildRow],
) -> Result<HeritageFile, FilesError> {
    let items = city.heritage_points();
    let cols = city.columns_of(Layer::Heritage);
    let mut by_level: BTreeMap<&'static str, u64> = ProtectionLevel::ALL
        .iter()
        .map(|l| (l.as_str(), 0))
        .collect();
    let mut rows = Vec::new();
    let found = city.positions_in_area(Layer::Heritage, id)?;
    for &p in found {
        let Some(h) = items.get(p as usize) else {
            continue;
        };
        let unit = cols.map_or(NO_UNIT, |c| c.unit[p as usize]);
        *by_level.entry(h.level.as_str()).or_default() += 1;
        if let Some(k) = kids.of_unit(unit) {
            children[k].heritage += 1;
        }
        if rows.len() < MAX_ROWS {
            rows.push(HeritageRow {
                id: h.id,
                name: h.name.clone(),
                level: h.level,
                watch: h.watch,
                lon: h.lon,
                lat: h.lat,
                village: village_of(city, unit),
            });
        }
    }
    Ok(HeritageFile {
        total: found.len() as u64,
        by_level,
        rows,
    })
}

fn homesteads(
    city: &City,
    id: AreaId,
    kids: &Children<'_>,
    children: &mut [ChildRow],
) -> Result<HomesteadFile, FilesError> {
    let items = city.homesteads();
    let cols = city.columns_of(Layer::Homesteads);
    let mut sums: Vec<HomesteadSum> = HomesteadStatus::ALL
        .iter()
        .map(|s| HomesteadSum {
            status: *s,
            count: 0,
            area_m2: 0.0,
        })
        .collect();
    let mut rows = Vec::new();
    let found = city.positions_in_area(Layer::Homesteads, id)?;
    for &p in found {
        let Some(h) = items.get(p as usize) else {
            continue;
        };
        let unit = cols.map_or(NO_UNIT, |c| c.unit[p as usize]);
        if let Some(s) = sums.iter_mut().find(|s| s.status == h.status) {
            s.count += 1;
            s.area_m2 += h.area_m2;
        }
        if let Some(k) = kids.of_unit(unit) {
            children[k].homesteads += 1;
        }
        if rows.len() < MAX_ROWS {
            let (lon, lat) = cols.map_or((0.0, 0.0), |c| (c.lon[p as usize], c.lat[p as usize]));
            rows.push(HomesteadRow {
                id: h.id,
                status: h.status,
                area_m2: h.area_m2,
                lon,
                lat,
                village: village_of(city, unit),
            });
        }
    }
    Ok(HomesteadFile {
        total: found.len() as u64,
        area_m2: sums.iter().map(|s| s.area_m2).sum(),
        by_status: sums,
        rows,
    })
}

fn sites(
    city: &City,
    id: AreaId,
    layer: Layer,
    kids: &Children<'_>,
    children: &mut [ChildRow],
) -> Result<SiteRows, FilesError> {
    let cols = city.columns_of(layer);
    let found = city.positions_in_area(layer, id)?;
    let mut out = SiteRows {
        total: found.len() as u64,
        large: 0,
        students: 0,
        rows: Vec::new(),
    };
    for &p in found {
        let unit = cols.map_or(NO_UNIT, |c| c.unit[p as usize]);
        let row = match layer {
            Layer::Enterprises => city.enterprises().get(p as usize).map(|e| {
                out.large += u64::from(e.large);
                SiteRow {
                    id: e.id,
                    name: e.name.clone(),
                    kind: e.industry.clone(),
                    size: e.employees,
                    large: e.large,
                    village: None,
                }
            }),
            _ => city.schools().get(p as usize).map(|s| {
                out.students += u64::from(s.students);
                SiteRow {
                    id: s.id,
                    name: s.name.clone(),
                    kind: s.kind.as_str().to_string(),
                    size: s.students,
                    large: false,
                    village: None,
                }
            }),
        };
        if let Some(k) = kids.of_unit(unit) {
            match layer {
                Layer::Enterprises => children[k].enterprises += 1,
                _ => children[k].schools += 1,
            }
        }
        if let Some(mut r) = row {
            if out.rows.len() < MAX_ROWS {
                r.village = village_of(city, unit);
                out.rows.push(r);
            }
        }
    }
    Ok(out)
}

/// A sink that counts the rows of each child area (the query's only field
/// is `area_id`).
struct ByChild<'a, 'b> {
    kids: &'a Children<'b>,
    counts: Vec<u64>,
    total: u64,
}

impl Sink for ByChild<'_, '_> {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError> {
        self.total += 1;
        if let Some(Cell::Int(a)) = cells.first() {
            if let Some(k) = AreaId::new(*a).ok().and_then(|a| self.kids.of_area(a)) {
                self.counts[k] += 1;
            }
        }
        Ok(())
    }
}

/// A sink that counts only.
struct Count;
impl Sink for Count {
    fn wants_rows(&self) -> bool {
        false
    }
    fn row(&mut self, _: &[Cell<'_>]) -> Result<(), LedgerError> {
        Ok(())
    }
}

/// A sink that keeps the rows, as text (a leader's fields).
#[derive(Default)]
struct Rows(Vec<Vec<Option<String>>>);
impl Sink for Rows {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError> {
        self.0.push(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Null => None,
                    Cell::Text(t) => Some(t.to_string()),
                    Cell::Int(n) => Some(n.to_string()),
                    Cell::Bool(b) => Some(b.to_string()),
                    Cell::Float(f) => Some(f.to_string()),
                    Cell::Date(d) => Some(d.to_string()),
                    Cell::Time(t) => Some(t.to_string()),
                })
                .collect(),
        );
        Ok(())
    }
}

fn query(ledger: Ledger, id: AreaId, req: &FileRequest) -> Query {
    let today = (req.now + onemap_core::time::CST_OFFSET_S).div_euclid(86_400);
    let mut q = Query::new(ledger, today);
    q.area = Some(id);
    q
}

/// The leaders shown: a town's or district's village secretaries and
/// directors, a village's secretary, director and grid leaders, a grid's
/// leader and unit leaders, a unit's leader.
fn leaders(
    city: &City,
    ledgers: &dyn TableSource,
    id: AreaId,
    level: Level,
    req: &FileRequest,
) -> Result<Vec<Leader>, FilesError> {
    let posts: &[&str] = match level {
        Level::District | Level::Town => &["party_secretary", "director"],
        Level::Village => &["party_secretary", "director", "grid_leader"],
        Level::Grid => &["grid_leader", "unit_leader"],
        Level::Unit => &["unit_leader"],
    };
    let mut out = Vec::new();
    for post in posts {
        let mut q = query(Ledger::Cadres, id, req);
        q.set_fields("name,phone,party,area_id")?;
        q.add_filter(&format!("post={post}"))?;
        let mut rows = Rows::default();
        ledgers.run(city.areas(), &q, req.access, &mut rows)?;
        for r in rows.0 {
            if out.len() >= MAX_ROWS {
                break;
            }
            let area = r
                .get(3)
                .cloned()
                .flatten()
                .and_then(|a| a.parse::<u64>().ok())
                .and_then(|a| AreaId::new(a).ok())
                .and_then(|a| city.areas().get(a));
            let Some(area) = area else { continue };
            out.push(Leader {
                post,
                name: r.first().cloned().flatten(),
                phone: r.get(1).cloned().flatten(),
                party: r.get(2).cloned().flatten().map(|b| b == "true"),
                area: AreaRef {
                    id: area.id,
                    level: area.level,
                    name: area.name.as_str().into(),
                },
            });
        }
    }
    Ok(out)
}

fn ledger_counts(
    city: &City,
    ledgers: &dyn TableSource,
    id: AreaId,
    req: &FileRequest,
    kids: &Children<'_>,
    children: &mut [ChildRow],
) -> Result<LedgerCounts, FilesError> {
    let areas = city.areas();
    let by_child = |q: &Query| -> Result<(u64, Vec<u64>), FilesError> {
        let mut q = q.clone();
        q.set_fields("area_id")?;
        let mut sink = ByChild {
            kids,
            counts: vec![0; kids.areas.len()],
            total: 0,
        };
        let s = ledgers.run(areas, &q, req.access, &mut sink)?;
        Ok((s.rows, sink.counts))
    };
    let count = |q: &Query| -> Result<u64, FilesError> {
        Ok(ledgers.run(areas, q, req.access, &mut Count)?.rows)
    };
    let people_q = query(Ledger::People, id, req);
    let (people, per) = by_child(&people_q)?;
    for (c, n) in children.iter_mut().zip(per) {
        c.people = Some(n);
    }
    let mut care_q = people_q.clone();
    care_q.add_filter("tags=care")?;
    let (care, per) = by_child(&care_q)?;
    for (c, n) in children.iter_mut().zip(per) {
        c.care = Some(n);
    }
    let mut tags = Vec::new();
    for t in onemap_ledger::registry::TAGS {
        let mut q = people_q.clone();
        q.add_filter(&format!("tags={}", t.key))?;
        tags.push(CareTag {
            key: t.key,
            zh: t.zh,
            en: t.en,
            care: (1u16 << (t.code - 1)) & onemap_ledger::registry::CARE_MASK != 0,
            people: count(&q)?,
        });
    }
    let houses_q = query(Ledger::Houses, id, req);
    let (houses, per) = by_child(&houses_q)?;
    for (c, n) in children.iter_mut().zip(per) {
        c.houses = Some(n);
    }
    let mut danger_q = houses_q.clone();
    danger_q.add_filter("safety=c|d")?;
    Ok(LedgerCounts {
        people,
        care,
        tags,
        houses,
        dangerous_houses: count(&danger_q)?,
        cadres: count(&query(Ledger::Cadres, id, req))?,
        projects: count(&query(Ledger::Projects, id, req))?,
    })
}
