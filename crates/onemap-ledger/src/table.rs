//! A ledger's stored columns: the Arrow schema made from the registry, and
//! the builder the generator fills row by row.

use crate::registry::{Field, Kind, Ledger, Source};
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, StringBuilder, TimestampSecondBuilder,
    UInt16Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema, TimeUnit};
use std::collections::HashMap;
use std::sync::Arc;

/// The zone of the `Time` columns (China Standard Time).
pub const TIME_ZONE: &str = "+08:00";

/// The fields a ledger stores (the rest are derived when read).
pub fn stored_fields(ledger: Ledger) -> impl Iterator<Item = &'static Field> {
    ledger
        .fields()
        .iter()
        .filter(|f| f.source == Source::Column)
}

/// The Arrow type a field is stored as.
pub fn data_type(f: &Field) -> DataType {
    match f.kind {
        Kind::Text => DataType::Utf8,
        Kind::Int => DataType::UInt64,
        Kind::Float => DataType::Float64,
        Kind::Date => DataType::Date32,
        Kind::Time => DataType::Timestamp(TimeUnit::Second, Some(TIME_ZONE.into())),
        Kind::Bool => DataType::Boolean,
        Kind::Choice(_) => DataType::UInt8,
        Kind::Tags(_) => DataType::UInt16,
    }
}

/// The schema of a ledger's file, with the metadata that says what it is.
pub fn schema(ledger: Ledger, meta: &[(&str, String)]) -> Schema {
    let fields: Vec<ArrowField> = stored_fields(ledger)
        .map(|f| {
            let mut m = HashMap::new();
            m.insert("label_zh".to_string(), f.zh.to_string());
            m.insert("label_en".to_string(), f.en.to_string());
            m.insert(
                "sensitivity".to_string(),
                format!("{:?}", f.sensitivity).to_lowercase(),
            );
            ArrowField::new(f.key, data_type(f), crate::registry::nullable(ledger, f))
                .with_metadata(m)
        })
        .collect();
    let mut m: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (format!("onemap.{k}"), v.clone()))
        .collect();
    m.insert("onemap.ledger".into(), ledger.key().into());
    m.insert(
        "onemap.synthetic".into(),
        "true: generated people, never real ones".into(),
    );
    Schema::new_with_metadata(fields, m)
}

/// One cell as the generator gives it.
#[derive(Debug, Clone)]
pub enum Value {
    U64(u64),
    U8(u8),
    U16(u16),
    F64(f64),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i32),
    /// Unix seconds.
    Time(i64),
    Str(String),
}

enum Builder {
    U64(UInt64Builder),
    U8(UInt8Builder),
    U16(UInt16Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Time(TimestampSecondBuilder),
    Str(StringBuilder),
}

impl Builder {
    fn of(f: &Field) -> Builder {
        match data_type(f) {
            DataType::Utf8 => Builder::Str(StringBuilder::new()),
            DataType::UInt64 => Builder::U64(UInt64Builder::new()),
            DataType::Float64 => Builder::F64(Float64Builder::new()),
            DataType::Date32 => Builder::Date(Date32Builder::new()),
            DataType::Boolean => Builder::Bool(BooleanBuilder::new()),
            DataType::UInt8 => Builder::U8(UInt8Builder::new()),
            DataType::UInt16 => Builder::U16(UInt16Builder::new()),
            _ => Builder::Time(TimestampSecondBuilder::new().with_timezone(TIME_ZONE)),
        }
    }

    fn push(&mut self, v: &Value) -> bool {
        match (self, v) {
            (Builder::U64(b), Value::U64(x)) => b.append_value(*x),
            (Builder::U8(b), Value::U8(x)) => b.append_value(*x),
            (Builder::U16(b), Value::U16(x)) => b.append_value(*x),
            (Builder::F64(b), Value::F64(x)) => b.append_value(*x),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Builder::Date(b), Value::Date(x)) => b.append_value(*x),
            (Builder::Time(b), Value::Time(x)) => b.append_value(*x),
            (Builder::Str(b), Value::Str(x)) => b.append_value(x),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::U64(b) => Arc::new(b.finish()),
            Builder::U8(b) => Arc::new(b.finish()),
            Builder::U16(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
        }
    }
}

/// A ledger's rows being built, one builder per stored column. Ids are
/// written as 0 and numbered later ([`Columns::offset_ids`]), so the
/// generator can make villages in parallel.
#[derive(Default)]
pub struct Columns {
    ledger: Option<Ledger>,
    keys: Vec<&'static str>,
    builders: Vec<Builder>,
    /// Id columns kept aside until the batch is made (offsets are added).
    ids: HashMap<&'static str, Vec<u64>>,
    len: usize,
}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("ledger", &self.ledger)
            .field("len", &self.len)
            .finish()
    }
}

/// The columns that hold ids numbered across the city.
const ID_COLUMNS: &[&str] = &[
    "person_id",
    "house_id",
    "cadre_id",
    "project_id",
    "household",
    "house",
];

impl Columns {
    pub fn new(ledger: Ledger) -> Columns {
        let fields: Vec<&Field> = stored_fields(ledger).collect();
        Columns {
            ledger: Some(ledger),
            keys: fields.iter().map(|f| f.key).collect(),
            builders: fields.iter().map(|f| Builder::of(f)).collect(),
            ids: HashMap::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a row: one value per stored column, in the registry's order.
    ///
    /// # Panics
    /// On a row that does not match the schema: a bug in the generator,
    /// never input.
    pub fn push(&mut self, row: &[(&'static str, Value)]) {
        assert_eq!(row.len(), self.keys.len(), "row width of {:?}", self.ledger);
        for (i, (key, v)) in row.iter().enumerate() {
            assert_eq!(*key, self.keys[i], "column order of {:?}", self.ledger);
            if ID_COLUMNS.contains(key) {
                if let Value::U64(x) = v {
                    self.ids.entry(key).or_default().push(*x);
                    continue;
                }
            }
            assert!(
                self.builders[i].push(v),
                "type of {key} in {:?}",
                self.ledger
            );
        }
        self.len += 1;
    }

    /// Adds `base` to an id column; a column numbered 0.. per village
    /// (the ledger's own id) gets `base + index`.
    pub fn offset_ids(&mut self, key: &str, base: u64) {
        let own = self
            .ledger
            .is_some_and(|l| crate::generate::id_key(l) == key);
        if let Some(v) = self.ids.get_mut(key) {
            for (i, x) in v.iter_mut().enumerate() {
                *x = if own { base + i as u64 } else { *x + base };
            }
        }
    }

    /// The largest value of an id column (0 if none).
    pub fn max_u64(&self, key: &str) -> u64 {
        self.ids
            .get(key)
            .and_then(|v| v.iter().max().copied())
            .unwrap_or(0)
    }

    /// The rows as an Arrow batch of `schema`.
    pub fn finish(&mut self, schema: Arc<Schema>) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(self.keys.len());
        for (i, key) in self.keys.iter().enumerate() {
            match self.ids.remove(key) {
                Some(v) => cols.push(Arc::new(arrow_array::UInt64Array::from(v))),
                None if ID_COLUMNS.contains(key) => {
                    cols.push(Arc::new(arrow_array::UInt64Array::from(Vec::<u64>::new())))
                }
                None => cols.push(self.builders[i].finish()),
            }
        }
        self.len = 0;
        RecordBatch::try_new(schema, cols)
    }
}
