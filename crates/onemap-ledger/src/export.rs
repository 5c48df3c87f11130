//! Where a table's rows go: a JSON preview, CSV (UTF-8 with a BOM, so
//! Excel opens Chinese), XLSX with real column types, a GeoPackage (rows
//! with positions).

use crate::query::{Cell, Sink};
use crate::registry::{Field, Kind, Lang};
use crate::LedgerError;
use onemap_core::time::{civil_from_days, CST_OFFSET_S};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook, Worksheet};
use std::io::Write;

/// The download formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DownloadFormat {
    Csv,
    Xlsx,
    Gpkg,
}

impl DownloadFormat {
    pub fn key(self) -> &'static str {
        match self {
            DownloadFormat::Csv => "csv",
            DownloadFormat::Xlsx => "xlsx",
            DownloadFormat::Gpkg => "gpkg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            DownloadFormat::Csv => "text/csv; charset=utf-8",
            DownloadFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            DownloadFormat::Gpkg => "application/geopackage+sqlite3",
        }
    }
}

impl std::str::FromStr for DownloadFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(DownloadFormat::Csv),
            "xlsx" => Ok(DownloadFormat::Xlsx),
            "gpkg" | "geopackage" => Ok(DownloadFormat::Gpkg),
            other => Err(format!(
                "unknown format {other:?}: expected csv, xlsx or gpkg"
            )),
        }
    }
}

/// The most rows an XLSX sheet holds (Excel's limit, less the header).
pub const XLSX_MAX_ROWS: u64 = 1_048_575;

/// `YYYY-MM-DD`.
pub fn date_text(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS`, China time.
pub fn time_text(t: i64) -> String {
    let local = t + CST_OFFSET_S;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A cell as text (CSV, the preview's display).
pub fn cell_text(c: &Cell<'_>, lang: Lang) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Text(s) => s.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Date(d) => date_text(*d),
        Cell::Time(t) => time_text(*t),
        Cell::Bool(b) => match (lang, b) {
            (Lang::Zh, true) => "是".into(),
            (Lang::Zh, false) => "否".into(),
            (Lang::En, true) => "yes".into(),
            (Lang::En, false) => "no".into(),
        },
    }
}

/// The header row's labels.
pub fn headers(fields: &[&Field], lang: Lang) -> Vec<&'static str> {
    fields.iter().map(|f| f.label(lang)).collect()
}

/// The first rows as JSON values (text, numbers, booleans; dates and times
/// as text), for the preview.
pub struct Preview {
    pub limit: usize,
    pub rows: Vec<Vec<serde_json::Value>>,
    lang: Lang,
}

impl Preview {
    pub fn new(limit: usize, lang: Lang) -> Preview {
        Preview {
            limit,
            rows: Vec::new(),
            lang,
        }
    }
}

impl Sink for Preview {
    fn wants_rows(&self) -> bool {
        self.rows.len() < self.limit
    }

    fn row_limit(&self) -> Option<usize> {
        Some(self.limit)
    }

    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError> {
        use serde_json::Value as J;
        self.rows.push(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Null => J::Null,
                    Cell::Int(i) => J::from(*i),
                    Cell::Float(f) => J::from(*f),
                    Cell::Bool(b) => J::from(*b),
                    other => J::from(cell_text(other, self.lang)),
                })
                .collect(),
        );
        Ok(())
    }
}

/// CSV: a UTF-8 byte-order mark, the header row in the language asked,
/// then one line per row (RFC 4180 quoting).
pub struct CsvSink<W: Write> {
    w: csv::Writer<W>,
    lang: Lang,
    buf: Vec<String>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(mut out: W, fields: &[&Field], lang: Lang) -> Result<CsvSink<W>, LedgerError> {
        out.write_all("\u{feff}".as_bytes())
            .map_err(LedgerError::Write)?;
        let mut w = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(out);
        w.write_record(headers(fields, lang))
            .map_err(|e| LedgerError::Write(e.into()))?;
        Ok(CsvSink {
            w,
            lang,
            buf: Vec::new(),
        })
    }

    pub fn finish(mut self) -> Result<W, LedgerError> {
        self.w.flush().map_err(LedgerError::Write)?;
        self.w
            .into_inner()
            .map_err(|e| LedgerError::Write(std::io::Error::other(e.to_string())))
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError> {
        self.buf.clear();
        self.buf
            .extend(cells.iter().map(|c| cell_text(c, self.lang)));
        self.w
            .write_record(&self.buf)
            .map_err(|e| LedgerError::Write(e.into()))
    }
}

/// XLSX: one sheet, a bold frozen header with filters, numbers as numbers
/// (ids of 16 digits or more, like area codes, as text: Excel keeps 15),
/// days and moments as Excel dates, yes/no as booleans.
pub struct XlsxSink {
    book: Workbook,
    sheet: Worksheet,
    row: u32,
    date: XFormat,
    time: XFormat,
    cols: u16,
}

impl XlsxSink {
    pub fn new(fields: &[&Field], lang: Lang, sheet_name: &str) -> Result<XlsxSink, LedgerError> {
        let mut book = Workbook::new();
        let mut sheet = book
            .new_worksheet_with_constant_memory()
            .map_err(xlsx_err)?;
        sheet.set_name(sheet_name).map_err(xlsx_err)?;
        let bold = XFormat::new().set_bold();
        for (i, f) in fields.iter().enumerate() {
            let c = i as u16;
            let width = match f.kind {
                Kind::Text | Kind::Tags(_) => 18.0,
                Kind::Time => 19.0,
                Kind::Date => 11.0,
                _ => 10.0,
            };
            sheet.set_column_width(c, width).map_err(xlsx_err)?;
            sheet
                .write_string_with_format(0, c, f.label(lang), &bold)
                .map_err(xlsx_err)?;
        }
        if !fields.is_empty() {
            sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        }
        Ok(XlsxSink {
            book,
            sheet,
            row: 0,
            date: XFormat::new().set_num_format("yyyy-mm-dd"),
            time: XFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            cols: fields.len() as u16,
        })
    }

    /// The workbook's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, LedgerError> {
        if self.cols > 0 {
            self.sheet
                .autofilter(0, 0, self.row, self.cols - 1)
                .map_err(xlsx_err)?;
        }
        self.book.push_worksheet(self.sheet);
        self.book.save_to_buffer().map_err(xlsx_err)
    }
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> LedgerError {
    LedgerError::Write(std::io::Error::other(e.to_string()))
}

fn excel_day(days: i32) -> Result<ExcelDateTime, LedgerError> {
    let (y, m, d) = civil_from_days(i64::from(days));
    ExcelDateTime::from_ymd(y.clamp(1900, 9999) as u16, m as u8, d as u8).map_err(xlsx_err)
}

impl Sink for XlsxSink {
    fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), LedgerError> {
        if u64::from(self.row) >= XLSX_MAX_ROWS {
            return Err(LedgerError::TooLarge(format!(
                "an XLSX sheet holds at most {XLSX_MAX_ROWS} rows: narrow the filter or download CSV"
            )));
        }
        self.row += 1;
        let r = self.row;
        for (i, c) in cells.iter().enumerate() {
            let col = i as u16;
            let res = match c {
                Cell::Null => Ok(&mut self.sheet),
                Cell::Text(s) => self.sheet.write_string(r, col, s.as_ref()),
                Cell::Int(v) if *v >= 1_000_000_000_000_000 => {
                    self.sheet.write_string(r, col, v.to_string())
                }
                Cell::Int(v) => self.sheet.write_number(r, col, *v as f64),
                Cell::Float(v) => self.sheet.write_number(r, col, *v),
                Cell::Bool(b) => self.sheet.write_boolean(r, col, *b),
                Cell::Date(d) => {
                    let dt = excel_day(*d)?;
                    self.sheet
                        .write_datetime_with_format(r, col, &dt, &self.date)
                }
                Cell::Time(t) => {
                    let local = t + CST_OFFSET_S;
                    let s = local.rem_euclid(86_400);
                    let dt = excel_day(local.div_euclid(86_400) as i32)?
                        .and_hms((s / 3600) as u16, (s / 60 % 60) as u8, (s % 60) as f64)
                        .map_err(xlsx_err)?;
                    self.sheet
                        .write_datetime_with_format(r, col, &dt, &self.time)
                }
            };
            res.map_err(xlsx_err)?;
        }
        Ok(())
    }
}
