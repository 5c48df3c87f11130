//! One feature's properties decoded into a [`Row`] (every length checked,
//! numbers widened, text checked as UTF-8) and read back typed, and
//! [`FeatError`], what can be wrong with one feature.

use super::file::{read_u32, LayerFile};
use crate::fgb::schema::{self, ColumnDef, MAX_COLUMNS};
use crate::StoreError;
use flatgeobuf::ColumnType;
use onemap_core::{AreaId, CoreError};
use std::path::Path;
use std::str::FromStr;

/// What is wrong with one feature; placed in its file by [`FeatError::at`].
pub(super) enum FeatError {
    Msg(String),
    Value {
        column: &'static str,
        value: String,
        source: CoreError,
    },
}

impl FeatError {
    pub(super) fn at(self, path: &Path, feature: usize) -> StoreError {
        let path = path.to_path_buf();
        match self {
            FeatError::Msg(reason) => StoreError::BadFeature {
                path,
                feature,
                reason,
            },
            FeatError::Value {
                column,
                value,
                source,
            } => StoreError::BadValue {
                path,
                feature,
                column,
                value,
                source: Box::new(source),
            },
        }
    }
}

pub(super) fn msg(s: impl Into<String>) -> FeatError {
    FeatError::Msg(s.into())
}

/// One property value, widened.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Int(i64),
    UInt(u64),
    Real(f64),
    Bool(bool),
    Text(&'a str),
}

/// The properties of one feature, by our column index.
pub(super) struct Row<'a> {
    vals: [Option<Val<'a>>; MAX_COLUMNS],
    columns: &'static [ColumnDef],
}

impl<'a> Row<'a> {
    pub(super) fn read(props: &'a [u8], file: &LayerFile) -> Result<Self, FeatError> {
        let mut row = Row {
            vals: [None; MAX_COLUMNS],
            columns: file.columns,
        };
        let cut = || msg("a property runs past the end of the feature");
        let mut o = 0;
        // A single trailing byte is tolerated, as flatgeobuf does.
        while o + 1 < props.len() {
            let idx = usize::from(u16::from_le_bytes([props[o], props[o + 1]]));
            o += 2;
            let Some(&ty) = file.types.get(idx) else {
                return Err(msg(format!(
                    "a property refers to column {idx}, but the file has {} columns",
                    file.types.len()
                )));
            };
            let size = match ty {
                ColumnType::Byte | ColumnType::UByte | ColumnType::Bool => 1,
                ColumnType::Short | ColumnType::UShort => 2,
                ColumnType::Int | ColumnType::UInt | ColumnType::Float => 4,
                ColumnType::Long | ColumnType::ULong | ColumnType::Double => 8,
                ColumnType::String
                | ColumnType::Json
                | ColumnType::DateTime
                | ColumnType::Binary => {
                    let n = read_u32(props, o).ok_or_else(cut)? as usize;
                    o += 4;
                    n
                }
                _ => return Err(msg(format!("column {idx} has {}", schema::type_name(ty)))),
            };
            let b = props.get(o..o.saturating_add(size)).ok_or_else(cut)?;
            o += size;
            let Some(ours) = file.map[idx] else { continue };
            // Numbers, zero-padded to 8 bytes (little-endian, so widening is free).
            let mut a = [0u8; 8];
            let k = b.len().min(8);
            a[..k].copy_from_slice(&b[..k]);
            let val = match ty {
                ColumnType::Byte => Val::Int(i64::from(b[0] as i8)),
                ColumnType::UByte => Val::Int(i64::from(b[0])),
                ColumnType::Bool => Val::Bool(b[0] != 0),
                ColumnType::Short => Val::Int(i64::from(i16::from_le_bytes([a[0], a[1]]))),
                ColumnType::UShort => Val::Int(i64::from(u16::from_le_bytes([a[0], a[1]]))),
                ColumnType::Int => {
                    Val::Int(i64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])))
                }
                ColumnType::UInt => {
                    Val::Int(i64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])))
                }
                ColumnType::Long => Val::Int(i64::from_le_bytes(a)),
                ColumnType::ULong => Val::UInt(u64::from_le_bytes(a)),
                ColumnType::Float => {
                    Val::Real(f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])))
                }
                ColumnType::Double => Val::Real(f64::from_le_bytes(a)),
                _ => Val::Text(std::str::from_utf8(b).map_err(|_| {
                    msg(format!(
                        "column '{}' holds text that is not UTF-8",
                        file.columns[usize::from(ours)].name
                    ))
                })?),
            };
            row.vals[usize::from(ours)] = Some(val);
        }
        Ok(row)
    }

    fn name(&self, col: u16) -> &'static str {
        self.columns[usize::from(col)].name
    }

    fn opt(&self, col: u16) -> Option<Val<'a>> {
        self.vals[usize::from(col)]
    }

    fn req(&self, col: u16) -> Result<Val<'a>, FeatError> {
        self.opt(col)
            .ok_or_else(|| msg(format!("column '{}' is null", self.name(col))))
    }

    fn out_of_range(&self, col: u16, v: impl std::fmt::Display) -> FeatError {
        msg(format!(
            "value {v} in column '{}' is out of range",
            self.name(col)
        ))
    }

    fn mismatch(&self, col: u16) -> FeatError {
        msg(format!(
            "column '{}' holds a value of another type",
            self.name(col)
        ))
    }

    fn as_i64(&self, col: u16, v: Val) -> Result<i64, FeatError> {
        match v {
            Val::Int(v) => Ok(v),
            Val::UInt(v) => i64::try_from(v).map_err(|_| self.out_of_range(col, v)),
            _ => Err(self.mismatch(col)),
        }
    }

    pub(super) fn i64(&self, col: u16) -> Result<i64, FeatError> {
        self.as_i64(col, self.req(col)?)
    }

    pub(super) fn opt_i64(&self, col: u16) -> Result<Option<i64>, FeatError> {
        self.opt(col).map(|v| self.as_i64(col, v)).transpose()
    }

    fn as_u64(&self, col: u16, v: Val) -> Result<u64, FeatError> {
        match v {
            Val::Int(v) => u64::try_from(v).map_err(|_| self.out_of_range(col, v)),
            Val::UInt(v) => Ok(v),
            _ => Err(self.mismatch(col)),
        }
    }

    pub(super) fn u64(&self, col: u16) -> Result<u64, FeatError> {
        self.as_u64(col, self.req(col)?)
    }

    pub(super) fn u32(&self, col: u16) -> Result<u32, FeatError> {
        let v = self.u64(col)?;
        u32::try_from(v).map_err(|_| self.out_of_range(col, v))
    }

    pub(super) fn f64(&self, col: u16) -> Result<f64, FeatError> {
        match self.req(col)? {
            Val::Real(v) => Ok(v),
            _ => Err(self.mismatch(col)),
        }
    }

    pub(super) fn f32(&self, col: u16) -> Result<f32, FeatError> {
        self.f64(col).map(|v| v as f32)
    }

    pub(super) fn bool(&self, col: u16) -> Result<bool, FeatError> {
        match self.req(col)? {
            Val::Bool(v) => Ok(v),
            _ => Err(self.mismatch(col)),
        }
    }

    fn as_text(&self, col: u16, v: Val<'a>) -> Result<&'a str, FeatError> {
        match v {
            Val::Text(s) => Ok(s),
            _ => Err(self.mismatch(col)),
        }
    }

    pub(super) fn text(&self, col: u16) -> Result<&'a str, FeatError> {
        self.as_text(col, self.req(col)?)
    }

    pub(super) fn opt_text(&self, col: u16) -> Result<Option<&'a str>, FeatError> {
        self.opt(col).map(|v| self.as_text(col, v)).transpose()
    }

    /// A coded enum stored by name.
    pub(super) fn parse<E: FromStr<Err = CoreError>>(&self, col: u16) -> Result<E, FeatError> {
        let s = self.text(col)?;
        s.parse().map_err(|source| FeatError::Value {
            column: self.name(col),
            value: s.to_owned(),
            source,
        })
    }

    fn as_area_id(&self, col: u16, v: Val) -> Result<AreaId, FeatError> {
        let raw = self.as_u64(col, v)?;
        AreaId::new(raw).map_err(|source| FeatError::Value {
            column: self.name(col),
            value: raw.to_string(),
            source,
        })
    }

    pub(super) fn area_id(&self, col: u16) -> Result<AreaId, FeatError> {
        self.as_area_id(col, self.req(col)?)
    }

    pub(super) fn opt_area_id(&self, col: u16) -> Result<Option<AreaId>, FeatError> {
        self.opt(col).map(|v| self.as_area_id(col, v)).transpose()
    }
}
