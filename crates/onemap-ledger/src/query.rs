//! A table asked of a ledger: which rows (area subtree, tags, coded values,
//! last update, age) and which fields, read village batch by village batch
//! and handed to a [`Sink`] row by row, masked as the reader's access says.

use crate::file::Ledgers;
use crate::registry::{Field, Kind, Lang, Ledger, Mask, Sensitivity, Source, CARE_MASK};
use crate::LedgerError;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, TimestampSecondType, UInt16Type, UInt64Type, UInt8Type};
use arrow_array::{Array, BooleanArray, RecordBatch};
use onemap_core::time::civil_from_days;
use onemap_core::{AreaId, AreaTree, Level};
use std::borrow::Cow;

/// Which rows and fields.
#[derive(Debug, Clone)]
pub struct Query {
    pub ledger: Ledger,
    /// Rows in this area's subtree (None: the whole city, or the reader's
    /// scope).
    pub area: Option<AreaId>,
    /// Rows with every one of these tag bits.
    pub tags_all: u16,
    /// Rows in the care group (关爱人群: any care tag).
    pub care: bool,
    /// Rows whose coded field is one of these codes, per field.
    pub choices: Vec<(&'static Field, Vec<u8>)>,
    /// Rows whose boolean field is this.
    pub flags: Vec<(&'static Field, bool)>,
    /// Rows last updated at or after / before these moments (Unix seconds).
    pub updated_from: Option<i64>,
    pub updated_to: Option<i64>,
    /// Events reported at or after / before these moments (Unix seconds).
    pub reported_from: Option<i64>,
    pub reported_to: Option<i64>,
    /// People of at least / at most this age on `today`.
    pub age_min: Option<u32>,
    pub age_max: Option<u32>,
    /// The fields, in order.
    pub fields: Vec<&'static Field>,
    /// The day ages are counted to (days since 1970-01-01).
    pub today: i64,
    pub lang: Lang,
}

impl Query {
    /// All rows of a ledger with its default fields.
    pub fn new(ledger: Ledger, today: i64) -> Query {
        Query {
            ledger,
            area: None,
            tags_all: 0,
            care: false,
            choices: Vec::new(),
            flags: Vec::new(),
            updated_from: None,
            updated_to: None,
            reported_from: None,
            reported_to: None,
            age_min: None,
            age_max: None,
            fields: ledger
                .default_fields()
                .iter()
                .filter_map(|k| ledger.field(k))
                .collect(),
            today,
            lang: Lang::Zh,
        }
    }

    /// Sets the fields from keys separated by commas (`all` for every one).
    pub fn set_fields(&mut self, list: &str) -> Result<(), LedgerError> {
        let list = list.trim();
        if list.is_empty() {
            return Ok(());
        }
        if list == "all" {
            self.fields = self.ledger.fields().iter().collect();
            return Ok(());
        }
        let mut out = Vec::new();
        for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            let f = self.ledger.field(k).ok_or_else(|| {
                LedgerError::BadQuery(format!(
                    "the {} ledger has no field {k:?}; its fields: {}",
                    self.ledger.key(),
                    self.ledger
                        .fields()
                        .iter()
                        .map(|f| f.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        if out.len() > MAX_FIELDS {
            return Err(LedgerError::BadQuery(format!(
                "at most {MAX_FIELDS} fields"
            )));
        }
        self.fields = out;
        Ok(())
    }

    /// Adds a filter `key=value[|value…]` on a coded, tag or yes/no field
    /// (values by their key, e.g. `safety=c|d`, `tags=care`,
    /// `tags=elderly_alone`, `party=true`).
    pub fn add_filter(&mut self, filter: &str) -> Result<(), LedgerError> {
        let (k, v) = filter.split_once('=').ok_or_else(|| {
            LedgerError::BadQuery(format!(
                "filter {filter:?} is not key=value (e.g. tags=care, sex=female)"
            ))
        })?;
        let (k, v) = (k.trim(), v.trim());
        let f = self.ledger.field(k).ok_or_else(|| {
            LedgerError::BadQuery(format!(
                "the {} ledger has no field {k:?}",
                self.ledger.key()
            ))
        })?;
        match f.kind {
            Kind::Tags(choices) => {
                for t in v.split('|').map(str::trim) {
                    if t == "care" {
                        self.care = true;
                        continue;
                    }
                    let c = find_choice(choices, t, f)?;
                    self.tags_all |= 1 << (c - 1);
                }
            }
            Kind::Choice(choices) => {
                let codes = v
                    .split('|')
                    .map(|t| find_choice(choices, t.trim(), f))
                    .collect::<Result<Vec<u8>, _>>()?;
                self.choices.push((f, codes));
            }
            Kind::Bool => {
                let b = match v {
                    "true" | "yes" | "1" | "是" => true,
                    "false" | "no" | "0" | "否" => false,
                    _ => {
                        return Err(LedgerError::BadQuery(format!(
                            "{k} is yes or no: true or false, not {v:?}"
                        )))
                    }
                };
                self.flags.push((f, b));
            }
            _ => {
                return Err(LedgerError::BadQuery(format!(
                    "{k} cannot be filtered by value: filters take coded fields ({}); use updated_from/updated_to or age_min/age_max for times and ages",
                    self.ledger
                        .fields()
                        .iter()
                        .filter(|f| matches!(f.kind, Kind::Choice(_) | Kind::Tags(_) | Kind::Bool))
                        .map(|f| f.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
        Ok(())
    }

    /// Applies a template's query text (`fields=…&tags=care&age_max=60`):
    /// its fields, coded filters, update window and ages, as the one
    /// table's API takes them.
    pub fn apply_params(&mut self, text: &str) -> Result<(), LedgerError> {
        for (k, v) in form_urlencoded::parse(text.trim().as_bytes()) {
            let (k, v) = (k.trim(), v.trim());
            let number = || {
                v.parse::<u32>()
                    .map_err(|_| LedgerError::BadQuery(format!("{k} is a whole number, got {v:?}")))
            };
            let time = || {
                v.parse::<onemap_core::TimeBound>()
                    .map(onemap_core::TimeBound::unix)
                    .map_err(|e| LedgerError::BadQuery(format!("{k}: {e}")))
            };
            match k {
                "" => {}
                "fields" => self.set_fields(v)?,
                "updated_from" => self.updated_from = Some(time()?),
                "updated_to" => self.updated_to = Some(time()?),
                "reported_from" => self.reported_from = Some(time()?),
                "reported_to" => self.reported_to = Some(time()?),
                "age_min" => self.age_min = Some(number()?),
                "age_max" => self.age_max = Some(number()?),
                _ => self.add_filter(&format!("{k}={v}"))?,
            }
        }
        Ok(())
    }

    /// Whether the answer holds personal fields.
    pub fn has_personal(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.sensitivity == Sensitivity::Personal)
    }

    /// The filter in words, for the download log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.area {
            parts.push(format!("area={a}"));
        }
        if self.care {
            parts.push("tags=care".into());
        }
        for (i, t) in crate::registry::TAGS.iter().enumerate() {
            if self.tags_all & (1 << i) != 0 {
                parts.push(format!("tags={}", t.key));
            }
        }
        for (f, codes) in &self.choices {
            let keys: Vec<&str> = codes
                .iter()
                .filter_map(|c| {
                    f.kind
                        .choices()
                        .iter()
                        .find(|x| x.code == *c)
                        .map(|x| x.key)
                })
                .collect();
            parts.push(format!("{}={}", f.key, keys.join("|")));
        }
        for (f, b) in &self.flags {
            parts.push(format!("{}={b}", f.key));
        }
        if let Some(t) = self.updated_from {
            parts.push(format!("updated_from={t}"));
        }
        if let Some(t) = self.updated_to {
            parts.push(format!("updated_to={t}"));
        }
        if let Some(t) = self.reported_from {
            parts.push(format!("reported_from={t}"));
        }
        if let Some(t) = self.reported_to {
            parts.push(format!("reported_to={t}"));
        }
        if let Some(a) = self.age_min {
            parts.push(format!("age_min={a}"));
        }
        if let Some(a) = self.age_max {
            parts.push(format!("age_max={a}"));
        }
        parts.join("&")
    }
}

/// The most fields a table may have.
pub const MAX_FIELDS: usize = 64;

fn find_choice(choices: &[crate::registry::Choice], t: &str, f: &Field) -> Result<u8, LedgerError> {
    choices
        .iter()
        .find(|c| c.key == t || c.zh == t)
        .map(|c| c.code)
        .ok_or_else(|| {
            let mut keys: Vec<&str> = choices.iter().map(|c| c.key).collect();
            if matches!(f.kind, Kind::Tags(_)) {
                keys.insert(0, "care");
            }
            LedgerError::BadQuery(format!(
                "{} has no value {t:?}; its values: {}",
                f.key,
                keys.join(", ")
            ))
        })
}

/// What the reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Personal fields in the clear (else masked).
    pub personal: bool,
}

/// One cell of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(u64),
    Float(f64),
    /// Days since 1970-01-01.
    Date(i32),
    /// Unix seconds.
    Time(i64),
    Bool(bool),
}

/// Where the rows go.
pub trait Sink {
    /// Whether the sink takes more rows (a preview stops; the count goes on).
    fn wants_rows(&self) -> bool {
        true
    }
    /// The most rows the sink takes (a preview's), if it stops early: a
    /// source that can count apart (the database) sends no more than this.
    fn row_limit(&self) -> Option<usize> {
        None
    }
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError>;
}

/// What a run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Rows that match.
    pub rows: u64,
    /// Rows handed to the sink.
    pub written: u64,
}

/// Refuses a window or an age range on a ledger without the column asked,
/// and an area this city does not have.
pub fn check(q: &Query, areas: &AreaTree) -> Result<(), LedgerError> {
    for (asked, key, what) in [
        (
            q.updated_from.is_some() || q.updated_to.is_some(),
            "updated",
            "last updates (updated_from, updated_to)",
        ),
        (
            q.age_min.is_some() || q.age_max.is_some(),
            "birth",
            "ages (age_min, age_max)",
        ),
        (
            q.reported_from.is_some() || q.reported_to.is_some(),
            "reported",
            "report times (reported_from, reported_to)",
        ),
    ] {
        if asked && q.ledger.field(key).is_none() {
            return Err(LedgerError::BadQuery(format!(
                "the {} ledger has no {what}",
                q.ledger.key()
            )));
        }
    }
    if let Some(a) = q.area {
        a.level()
            .ok_or_else(|| LedgerError::BadQuery(format!("{a} is not an area id")))?;
        if areas.get(a).is_none() {
            return Err(LedgerError::UnknownArea(a));
        }
    }
    Ok(())
}

/// Runs a query on the ledger files: every matching row (in area order) to
/// `sink`, masked as `access` says; the count of all matching rows. Whole
/// village batches are chosen by id before any is read.
pub fn run(
    ledgers: &Ledgers,
    areas: &AreaTree,
    q: &Query,
    access: Access,
    sink: &mut dyn Sink,
) -> Result<Summary, LedgerError> {
    check(q, areas)?;
    if q.ledger.is_live() {
        return Err(LedgerError::Internal(format!(
            "the {} ledger comes from the live city, not from a file",
            q.ledger.key()
        )));
    }
    let file = ledgers.get(q.ledger);
    let (batches, row_area) = match q.area.and_then(|a| Some((a, a.level()?))) {
        None => ((0..file.villages().len()).collect::<Vec<_>>(), None),
        Some((a, level)) if level <= Level::Village => (
            file.villages()
                .iter()
                .enumerate()
                .filter(|(_, v)| v.ancestor_at(level) == Some(a))
                .map(|(i, _)| i)
                .collect(),
            None,
        ),
        Some((a, level)) => {
            let v = a.ancestor_at(Level::Village);
            let idx = file
                .villages()
                .iter()
                .position(|x| Some(*x) == v)
                .into_iter()
                .collect();
            (idx, Some((a, level)))
        }
    };
    let mut summary = Summary::default();
    for i in batches {
        feed(
            &file.batch(i)?,
            q,
            row_area,
            access,
            areas,
            sink,
            &mut summary,
        )?;
    }
    Ok(summary)
}

/// Runs a query on batches from elsewhere (the live events, a database
/// cursor): each batch holds the ledger's stored columns
/// ([`crate::table::schema`]); every row is tested against the whole
/// query, area included, so a source may hand over more rows than match
/// but never fewer.
pub fn run_batches(
    batches: impl IntoIterator<Item = Result<RecordBatch, LedgerError>>,
    areas: &AreaTree,
    q: &Query,
    access: Access,
    sink: &mut dyn Sink,
) -> Result<Summary, LedgerError> {
    check(q, areas)?;
    let row_area = q.area.and_then(|a| Some((a, a.level()?)));
    let mut summary = Summary::default();
    for b in batches {
        feed(&b?, q, row_area, access, areas, sink, &mut summary)?;
    }
    Ok(summary)
}

/// One batch: its matching rows counted, masked and handed to the sink.
fn feed(
    batch: &RecordBatch,
    q: &Query,
    row_area: Option<(AreaId, Level)>,
    access: Access,
    areas: &AreaTree,
    sink: &mut dyn Sink,
    summary: &mut Summary,
) -> Result<(), LedgerError> {
    let mask = row_mask(batch, q, row_area)?;
    let n = mask.true_count() as u64;
    summary.rows += n;
    if n == 0 || !sink.wants_rows() {
        return Ok(());
    }
    let rows = arrow_select::filter::filter_record_batch(batch, &mask)
        .map_err(|e| LedgerError::Internal(e.to_string()))?;
    let cols = columns(&rows, q, access, areas)?;
    let mut cells: Vec<Cell<'_>> = Vec::with_capacity(cols.len());
    for r in 0..rows.num_rows() {
        if !sink.wants_rows() {
            break;
        }
        cells.clear();
        for c in &cols {
            cells.push(c.cell(r));
        }
        sink.row(&cells)?;
        summary.written += 1;
    }
    Ok(())
}

fn col<'b>(batch: &'b RecordBatch, key: &str) -> Result<&'b dyn Array, LedgerError> {
    batch
        .column_by_name(key)
        .map(|a| a.as_ref())
        .ok_or_else(|| LedgerError::Internal(format!("no column {key}")))
}

fn row_mask(
    batch: &RecordBatch,
    q: &Query,
    row_area: Option<(AreaId, Level)>,
) -> Result<BooleanArray, LedgerError> {
    let n = batch.num_rows();
    let mut keep = vec![true; n];
    if let Some((a, level)) = row_area {
        let ids = col(batch, "area_id")?.as_primitive::<UInt64Type>();
        for (k, id) in keep.iter_mut().zip(ids.values()) {
            *k &= AreaId::new(*id).ok().and_then(|x| x.ancestor_at(level)) == Some(a);
        }
    }
    if q.tags_all != 0 || q.care {
        let tags = col(batch, "tags")?.as_primitive::<UInt16Type>();
        for (k, t) in keep.iter_mut().zip(tags.values()) {
            *k &= (t & q.tags_all) == q.tags_all && (!q.care || t & CARE_MASK != 0);
        }
    }
    for (f, codes) in &q.choices {
        let v = col(batch, f.key)?.as_primitive::<UInt8Type>();
        for (k, c) in keep.iter_mut().zip(v.values()) {
            *k &= codes.contains(c);
        }
    }
    for (f, b) in &q.flags {
        let v = col(batch, f.key)?.as_boolean();
        for (i, k) in keep.iter_mut().enumerate() {
            *k &= v.value(i) == *b;
        }
    }
    for (key, from, to) in [
        ("updated", q.updated_from, q.updated_to),
        ("reported", q.reported_from, q.reported_to),
    ] {
        if from.is_some() || to.is_some() {
            let v = col(batch, key)?.as_primitive::<TimestampSecondType>();
            let (lo, hi) = (from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
            for (k, t) in keep.iter_mut().zip(v.values()) {
                *k &= *t >= lo && *t < hi;
            }
        }
    }
    if q.age_min.is_some() || q.age_max.is_some() {
        let v = col(batch, "birth")?.as_primitive::<Date32Type>();
        let lo = q.age_min.unwrap_or(0);
        let hi = q.age_max.unwrap_or(u32::MAX);
        for (k, b) in keep.iter_mut().zip(v.values()) {
            let age = age_on(i64::from(*b), q.today);
            *k &= age >= lo && age <= hi;
        }
    }
    Ok(BooleanArray::from(keep))
}

/// Whole years from the birth day to `today` (0 if born later).
pub fn age_on(birth: i64, today: i64) -> u32 {
    let (by, bm, bd) = civil_from_days(birth);
    let (ty, tm, td) = civil_from_days(today);
    let mut years = ty - by;
    if (tm, td) < (bm, bd) {
        years -= 1;
    }
    years.max(0) as u32
}

/// One field of the filtered rows, ready to give cells.
enum Column<'a> {
    Str(&'a arrow_array::StringArray, Option<Mask>),
    U64(&'a arrow_array::UInt64Array),
    F64(&'a arrow_array::Float64Array),
    Date(&'a arrow_array::Date32Array),
    Time(&'a arrow_array::TimestampSecondArray),
    Bool(&'a arrow_array::BooleanArray),
    Choice(
        &'a arrow_array::UInt8Array,
        &'static [crate::registry::Choice],
        Lang,
        bool,
    ),
    Tags(&'a arrow_array::UInt16Array, Lang),
    Area(&'a arrow_array::UInt64Array, Level, &'a AreaTree),
    Age(&'a arrow_array::Date32Array, i64),
}

fn columns<'a>(
    rows: &'a RecordBatch,
    q: &Query,
    access: Access,
    areas: &'a AreaTree,
) -> Result<Vec<Column<'a>>, LedgerError> {
    q.fields
        .iter()
        .map(|f| {
            let masked = f.sensitivity == Sensitivity::Personal && !access.personal;
            Ok(match f.source {
                Source::AreaName(level) => Column::Area(
                    col(rows, "area_id")?.as_primitive::<UInt64Type>(),
                    level,
                    areas,
                ),
                Source::Age => {
                    Column::Age(col(rows, "birth")?.as_primitive::<Date32Type>(), q.today)
                }
                Source::Column => {
                    let a = col(rows, f.key)?;
                    match f.kind {
                        Kind::Text => {
                            Column::Str(a.as_string::<i32>(), masked.then_some(f.mask).flatten())
                        }
                        Kind::Int => Column::U64(a.as_primitive::<UInt64Type>()),
                        Kind::Float => Column::F64(a.as_primitive()),
                        Kind::Date => Column::Date(a.as_primitive()),
                        Kind::Time => Column::Time(a.as_primitive()),
                        Kind::Bool => Column::Bool(a.as_boolean()),
                        Kind::Choice(c) => {
                            Column::Choice(a.as_primitive::<UInt8Type>(), c, q.lang, masked)
                        }
                        Kind::Tags(_) => Column::Tags(a.as_primitive::<UInt16Type>(), q.lang),
                    }
                }
            })
        })
        .collect()
}

impl Column<'_> {
    fn cell(&self, r: usize) -> Cell<'_> {
        match self {
            Column::Str(a, mask) => {
                let s = a.value(r);
                if s.is_empty() {
                    // No value (a child's phone): empty in every format.
                    return Cell::Null;
                }
                match mask {
                    None => Cell::Text(Cow::Borrowed(s)),
                    Some(m) => Cell::Text(Cow::Owned(mask_text(s, *m))),
                }
            }
            Column::U64(a) => Cell::Int(a.value(r)),
            Column::F64(a) => Cell::Float(a.value(r)),
            Column::Date(a) => Cell::Date(a.value(r)),
            Column::Time(a) if a.is_null(r) => Cell::Null,
            Column::Time(a) => Cell::Time(a.value(r)),
            Column::Bool(a) => Cell::Bool(a.value(r)),
            Column::Choice(a, choices, lang, masked) => {
                let code = a.value(r);
                if *masked {
                    // Masked whether or not there is a value: an empty
                    // cell would tell who has none.
                    Cell::Text(Cow::Borrowed("***"))
                } else if code == 0 {
                    Cell::Null
                } else {
                    choices
                        .iter()
                        .find(|c| c.code == code)
                        .map_or(Cell::Null, |c| Cell::Text(Cow::Borrowed(c.label(*lang))))
                }
            }
            Column::Tags(a, lang) => {
                let t = a.value(r);
                if t == 0 {
                    return Cell::Null;
                }
                let sep = if *lang == Lang::Zh { "、" } else { "; " };
                let labels: Vec<&str> = crate::registry::TAGS
                    .iter()
                    .filter(|c| t & (1 << (c.code - 1)) != 0)
                    .map(|c| c.label(*lang))
                    .collect();
                Cell::Text(Cow::Owned(labels.join(sep)))
            }
            Column::Area(a, level, areas) => AreaId::new(a.value(r))
                .ok()
                .and_then(|id| id.ancestor_at(*level))
                .and_then(|id| areas.get(id))
                .map_or(Cell::Null, |x| Cell::Text(Cow::Borrowed(x.name.as_str()))),
            Column::Age(a, today) => Cell::Int(u64::from(age_on(i64::from(a.value(r)), *today))),
        }
    }
}

/// A personal value as a reader without the right sees it.
pub fn mask_text(s: &str, m: Mask) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let keep = |head: usize, tail: usize| -> String {
        if n <= head + tail {
            return "*".repeat(n);
        }
        let mut out: String = chars[..head].iter().collect();
        out.extend(std::iter::repeat_n('*', n - head - tail));
        out.extend(&chars[n - tail..]);
        out
    };
    match m {
        Mask::IdNumber => keep(6, 4),
        Mask::Phone => keep(3, 4),
        Mask::Name => {
            let mut out = String::new();
            out.push(chars[0]);
            out.extend(std::iter::repeat_n('*', n - 1));
            out
        }
        Mask::Whole => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(
            mask_text("350302199001011234", Mask::IdNumber),
            "350302********1234"
        );
        assert_eq!(mask_text("13812345678", Mask::Phone), "138****5678");
        assert_eq!(mask_text("林建国", Mask::Name), "林**");
        assert_eq!(mask_text("恶性肿瘤", Mask::Whole), "***");
        assert_eq!(mask_text("", Mask::Phone), "");
        assert_eq!(mask_text("1234", Mask::Phone), "****");
    }

    #[test]
    fn ages() {
        let d = onemap_core::time::days_from_civil;
        assert_eq!(age_on(d(2000, 3, 1), d(2026, 2, 28)), 25);
        assert_eq!(age_on(d(2000, 3, 1), d(2026, 3, 1)), 26);
        assert_eq!(age_on(d(2030, 1, 1), d(2026, 3, 1)), 0);
    }
}
