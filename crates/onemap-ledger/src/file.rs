//! Ledger files: one Arrow IPC file per ledger in a city directory's
//! `ledgers/` folder, one record batch per village in village id order (so
//! an area's rows are a few batches, read alone). Any Arrow reader opens
//! them (pyarrow, polars, DuckDB); the schema's metadata names the ledger,
//! the seed and the villages, and says the rows are synthetic.

use crate::generate::{generate, GenConfig, VillageRows};
use crate::registry::Ledger;
use crate::table::schema;
use crate::LedgerError;
use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::{read_footer_length, FileDecoder};
use arrow_ipc::writer::FileWriter;
use arrow_ipc::Block;
use arrow_schema::Schema;
use onemap_core::{AreaId, AreaTree};
use std::fs::File;
use std::io::BufWriter;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The folder of a city directory that holds the ledgers.
pub fn ledgers_dir(city_dir: &Path) -> PathBuf {
    city_dir.join("ledgers")
}

/// Rows written per ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub people: u64,
    pub houses: u64,
    pub cadres: u64,
    pub projects: u64,
    pub enterprises: u64,
    pub schools: u64,
    pub heritage: u64,
    pub homesteads: u64,
}

impl Written {
    fn of_mut(&mut self, ledger: Ledger) -> &mut u64 {
        match ledger {
            Ledger::People => &mut self.people,
            Ledger::Houses => &mut self.houses,
            Ledger::Cadres => &mut self.cadres,
            Ledger::Projects => &mut self.projects,
            Ledger::Enterprises => &mut self.enterprises,
            Ledger::Schools => &mut self.schools,
            Ledger::Heritage => &mut self.heritage,
            Ledger::Homesteads => &mut self.homesteads,
            Ledger::Events => unreachable!("the events ledger is never written to a file"),
        }
    }
}

/// Generates the ledgers of a city (with its `places`) and writes them to
/// `city_dir/ledgers/`, replacing what was there only once every file is
/// whole. `progress` is told each village done (done, total).
pub fn write_ledgers(
    city_dir: &Path,
    areas: &AreaTree,
    cfg: GenConfig,
    places: &crate::Places,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Written, LedgerError> {
    let tmp = tempfile::Builder::new()
        .prefix(".ledgers-")
        .tempdir_in(city_dir)
        .map_err(|e| LedgerError::io(city_dir, e))?;
    let villages: Vec<String> = areas
        .level(onemap_core::Level::Village)
        .iter()
        .map(|v| v.id.get().to_string())
        .collect();
    let meta = [
        ("seed", cfg.seed.to_string()),
        ("until", cfg.until.to_string()),
        ("villages", format!("[{}]", villages.join(","))),
    ];
    let mut writers = Vec::new();
    let mut schemas = Vec::new();
    for ledger in Ledger::STORED {
        let path = tmp.path().join(ledger.file_name());
        let f = File::create(&path).map_err(|e| LedgerError::io(&path, e))?;
        let s = Arc::new(schema(ledger, &meta));
        let w = FileWriter::try_new(BufWriter::with_capacity(1 << 20, f), &s)
            .map_err(|e| LedgerError::arrow(&path, e))?;
        writers.push((w, path));
        schemas.push(s);
    }
    let total = villages.len();
    let mut done = 0usize;
    let mut written = Written::default();
    generate(
        areas,
        cfg,
        places,
        |mut v: VillageRows| -> Result<(), LedgerError> {
            for (i, ledger) in Ledger::STORED.into_iter().enumerate() {
                let cols = v.of_mut(ledger);
                *written.of_mut(ledger) += cols.len() as u64;
                let (w, path) = &mut writers[i];
                let batch = cols
                    .finish(schemas[i].clone())
                    .map_err(|e| LedgerError::arrow(path, e))?;
                w.write(&batch).map_err(|e| LedgerError::arrow(path, e))?;
            }
            done += 1;
            progress(done, total);
            Ok(())
        },
    )?;
    for (mut w, path) in writers {
        w.finish().map_err(|e| LedgerError::arrow(&path, e))?;
        let buf = w.into_inner().map_err(|e| LedgerError::arrow(&path, e))?;
        let f = buf
            .into_inner()
            .map_err(|e| LedgerError::io(&path, e.into_error()))?;
        f.sync_all().map_err(|e| LedgerError::io(&path, e))?;
    }
    swap_in(city_dir, tmp)?;
    Ok(written)
}

/// Puts a folder of whole ledger files in place of `city_dir/ledgers/`:
/// the old one (if any) aside, the new one in place, the old one removed.
pub(crate) fn swap_in(city_dir: &Path, tmp: tempfile::TempDir) -> Result<(), LedgerError> {
    let target = ledgers_dir(city_dir);
    let old = city_dir.join(".ledgers-old");
    let _ = std::fs::remove_dir_all(&old);
    if target.exists() {
        std::fs::rename(&target, &old).map_err(|e| LedgerError::io(&target, e))?;
    }
    let tmp_path = tmp.keep();
    std::fs::rename(&tmp_path, &target).map_err(|e| LedgerError::io(&target, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// What a ledger file holds, whatever its bytes: its rows, batches and a
/// SHA-256 of its metadata (sorted) and of every batch's values (each
/// batch encoded alone as an Arrow IPC stream without metadata). Two files
/// with the same digest hold the same rows, values, batches and metadata
/// (the bytes of two writes differ: the metadata's order is a hash map's).
pub fn digest(city_dir: &Path) -> Result<Vec<(Ledger, u64, usize, String)>, LedgerError> {
    use sha2::Digest;
    let ledgers = Ledgers::open(city_dir)?;
    let mut out = Vec::new();
    for l in Ledger::STORED {
        let f = ledgers.get(l);
        let mut h = sha2::Sha256::new();
        let mut meta: Vec<(&String, &String)> = f.schema().metadata().iter().collect();
        meta.sort();
        for (k, v) in meta {
            h.update(format!("{k}={v}\n").as_bytes());
        }
        let plain = Arc::new(Schema::new(f.schema().fields().clone()));
        for i in 0..f.villages().len() {
            let b = f.batch(i)?;
            let b = RecordBatch::try_new(plain.clone(), b.columns().to_vec())
                .map_err(|e| LedgerError::arrow(&f.path, e))?;
            let mut buf = Vec::new();
            let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut buf, &plain)
                .map_err(|e| LedgerError::arrow(&f.path, e))?;
            w.write(&b).map_err(|e| LedgerError::arrow(&f.path, e))?;
            w.finish().map_err(|e| LedgerError::arrow(&f.path, e))?;
            drop(w);
            h.update((buf.len() as u64).to_le_bytes());
            h.update(&buf);
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        out.push((l, f.rows(), f.villages().len(), hex));
    }
    Ok(out)
}

/// One ledger's file, open: its footer read, its batches read on demand.
pub struct LedgerFile {
    pub ledger: Ledger,
    path: PathBuf,
    file: File,
    schema: Arc<Schema>,
    decoder: FileDecoder,
    blocks: Vec<Block>,
    villages: Vec<AreaId>,
    rows: u64,
}

impl std::fmt::Debug for LedgerFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerFile")
            .field("path", &self.path)
            .field("batches", &self.blocks.len())
            .finish()
    }
}

impl LedgerFile {
    pub fn open(path: &Path, ledger: Ledger) -> Result<LedgerFile, LedgerError> {
        let file = File::open(path).map_err(|e| LedgerError::io(path, e))?;
        let len = file.metadata().map_err(|e| LedgerError::io(path, e))?.len();
        let bad = |why: String| LedgerError::BadFile {
            path: path.to_path_buf(),
            why,
        };
        if len < 10 {
            return Err(bad("too short to be an Arrow IPC file".into()));
        }
        let mut trailer = [0u8; 10];
        file.read_exact_at(&mut trailer, len - 10)
            .map_err(|e| LedgerError::io(path, e))?;
        let footer_len =
            read_footer_length(trailer).map_err(|e| bad(format!("not an Arrow IPC file: {e}")))?;
        let footer_start = (len - 10)
            .checked_sub(footer_len as u64)
            .ok_or_else(|| bad("footer longer than the file".into()))?;
        let mut footer_buf = vec![0u8; footer_len];
        file.read_exact_at(&mut footer_buf, footer_start)
            .map_err(|e| LedgerError::io(path, e))?;
        let footer = arrow_ipc::root_as_footer(&footer_buf)
            .map_err(|e| bad(format!("unreadable footer: {e}")))?;
        let fb_schema = footer
            .schema()
            .ok_or_else(|| bad("footer without a schema".into()))?;
        let schema = Arc::new(
            arrow_ipc::convert::try_fb_to_schema(fb_schema)
                .map_err(|e| bad(format!("unreadable schema: {e}")))?,
        );
        let expected = crate::table::schema(ledger, &[]);
        for f in expected.fields() {
            match schema.field_with_name(f.name()) {
                Ok(g) if g.data_type() == f.data_type() => {}
                _ => {
                    return Err(bad(format!(
                        "column {} is missing or of another type: written by another version? Run `onemap ledgers build` again",
                        f.name()
                    )))
                }
            }
        }
        if schema.metadata().get("onemap.ledger").map(String::as_str) != Some(ledger.key()) {
            return Err(bad(format!("not the {} ledger", ledger.key())));
        }
        let villages: Vec<AreaId> = schema
            .metadata()
            .get("onemap.villages")
            .and_then(|s| serde_json::from_str::<Vec<u64>>(s).ok())
            .ok_or_else(|| bad("no village list in the metadata".into()))?
            .into_iter()
            .map(AreaId::new)
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("bad village id: {e}")))?;
        let blocks: Vec<Block> = footer
            .recordBatches()
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default();
        if blocks.len() != villages.len() {
            return Err(bad(format!(
                "{} batches for {} villages",
                blocks.len(),
                villages.len()
            )));
        }
        let decoder = FileDecoder::new(schema.clone(), footer.version());
        let mut out = LedgerFile {
            ledger,
            path: path.to_path_buf(),
            file,
            schema,
            decoder,
            blocks,
            villages,
            rows: 0,
        };
        // Row counts are in each batch's header: read them once.
        let mut rows = 0u64;
        for i in 0..out.blocks.len() {
            rows += out.batch_rows(i)?;
        }
        out.rows = rows;
        Ok(out)
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The villages, one per batch, in order.
    pub fn villages(&self) -> &[AreaId] {
        &self.villages
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The rows of the `i`-th batch, from its message header alone.
    fn batch_rows(&self, i: usize) -> Result<u64, LedgerError> {
        let bad = |why: String| LedgerError::BadFile {
            path: self.path.clone(),
            why,
        };
        let block = self
            .blocks
            .get(i)
            .ok_or_else(|| bad(format!("no batch {i}")))?;
        let mut buf = vec![0u8; block.metaDataLength() as usize];
        self.file
            .read_exact_at(&mut buf, block.offset() as u64)
            .map_err(|e| LedgerError::io(&self.path, e))?;
        // A continuation marker (0xFFFFFFFF) and the length, then the message.
        let start = if buf.get(..4) == Some(&[0xff; 4]) {
            8
        } else {
            4
        };
        let msg = buf
            .get(start..)
            .and_then(|b| arrow_ipc::root_as_message(b).ok())
            .ok_or_else(|| bad(format!("batch {i} has no readable header")))?;
        let rb = msg
            .header_as_record_batch()
            .ok_or_else(|| bad(format!("batch {i} is not a record batch")))?;
        u64::try_from(rb.length()).map_err(|_| bad(format!("batch {i} has a negative length")))
    }

    /// The batch of the `i`-th village.
    pub fn batch(&self, i: usize) -> Result<RecordBatch, LedgerError> {
        let block = self.blocks.get(i).ok_or_else(|| LedgerError::BadFile {
            path: self.path.clone(),
            why: format!("no batch {i}"),
        })?;
        let len = block.bodyLength() as usize + block.metaDataLength() as usize;
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, block.offset() as u64)
            .map_err(|e| LedgerError::io(&self.path, e))?;
        let data = Buffer::from_vec(buf);
        self.decoder
            .read_record_batch(block, &data)
            .map_err(|e| LedgerError::arrow(&self.path, e))?
            .ok_or_else(|| LedgerError::BadFile {
                path: self.path.clone(),
                why: format!("batch {i} is empty"),
            })
    }
}

/// Every ledger of a city, open.
#[derive(Debug)]
pub struct Ledgers {
    files: Vec<LedgerFile>,
    pub dir: PathBuf,
}

impl Ledgers {
    /// Opens `city_dir/ledgers/`; [`LedgerError::NotGenerated`] if it is
    /// not there.
    pub fn open(city_dir: &Path) -> Result<Ledgers, LedgerError> {
        let dir = ledgers_dir(city_dir);
        if !dir.is_dir() {
            return Err(LedgerError::NotGenerated(city_dir.to_path_buf()));
        }
        // One an older onemap wrote, without every ledger: to be built again.
        if let Some(l) = Ledger::STORED
            .iter()
            .find(|l| !dir.join(l.file_name()).is_file())
        {
            return Err(LedgerError::Outdated {
                dir: city_dir.to_path_buf(),
                missing: l.file_name(),
            });
        }
        let files = Ledger::STORED
            .into_iter()
            .map(|l| LedgerFile::open(&dir.join(l.file_name()), l))
            .collect::<Result<_, _>>()?;
        Ok(Ledgers { files, dir })
    }

    pub fn get(&self, ledger: Ledger) -> &LedgerFile {
        &self.files[Ledger::STORED
            .iter()
            .position(|l| *l == ledger)
            .unwrap_or_default()]
    }
}
