//! Writer of flow-models binary traces: one raw native-endian array file per column, named
//! `{field}.{dtype}` (no key underscore, so flow-models 2.2 reads them back), committed atomically.

mod ahead;
mod chunked;
mod early_sync;
mod remote;

pub use remote::RemoteTraceWriter;

use super::compress::{CompressOptions, compress_new_file};
use super::dir::parse_file_name;
use super::direct::ColumnFile;
use super::mmap::value_bytes;
use crate::atomic::AtomicDir;
use crate::fields::arrow_to_dtype;
use ahead::Ahead;
use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use chunked::Chunked;
use datafusion::common::{DataFusionError, Result};
use early_sync::EarlySync;
use std::fs;
use std::path::{Path, PathBuf};

pub struct FlowBinWriter {
    /// Columns being written whole, each on a thread of its own. Declared before `dir`: a
    /// writer dropped unfinished stops them before its temporary directory is removed.
    ahead: Ahead,
    dir: AtomicDir,
    /// Every column's name, type and file; `None` while the column is written ahead.
    files: Vec<Column>,
    rows: u64,
    early: EarlySync,
    /// Compress every column file before the trace is moved into place.
    compression: Option<CompressOptions>,
}

/// A column's name, type and file.
type Column = (String, DataType, Option<Chunked<ColumnFile>>);

/// Batches of at least this many bytes are written by two threads.
const PARALLEL_WRITE: usize = 4 << 20;

fn err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

/// A failed write of column `name` of the trace at `target` (`No space left on device`, …).
fn column_err(target: &Path, name: &str, e: std::io::Error) -> DataFusionError {
    crate::FlowError::Column {
        target: target.to_path_buf(),
        column: name.to_string(),
        source: e,
    }
    .into()
}

/// An existing directory is replaced only when it holds nothing but a trace (column files),
/// so a mistyped `-O` cannot wipe out unrelated data.
pub(crate) fn only_trace_files(dir: &Path) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_column = name.to_str().and_then(parse_file_name).is_some();
        if !is_column || !entry.file_type().is_ok_and(|t| t.is_file()) {
            return Err(err(format!(
                "refusing to replace {}: it holds {}, which is not a flow-models column file",
                dir.display(),
                name.to_string_lossy()
            )));
        }
    }
    Ok(())
}

/// An error for the first NULL of `array` (at row `first_row` + its index), which the binary
/// format cannot store.
fn no_nulls(name: &str, array: &ArrayRef, first_row: u64) -> Result<()> {
    if array.null_count() == 0 {
        return Ok(());
    }
    let row = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
    Err(err(format!(
        "column '{name}' is NULL at row {}: the binary format cannot store NULL \
         (use COALESCE or a filter)",
        first_row + row as u64
    )))
}

/// The type code of each column of `schema`; an error for a type the format cannot store.
fn dtype_codes(schema: &Schema) -> Result<Vec<char>> {
    schema
        .fields()
        .iter()
        .map(|f| {
            arrow_to_dtype(f.data_type()).ok_or_else(|| {
                err(format!(
                    "column '{}' has type {}, which the flow-models binary format cannot store \
                     (it stores Int8..Int64, UInt8..UInt64, Float32, Float64): cast it",
                    f.name(),
                    f.data_type()
                ))
            })
        })
        .collect()
}

impl FlowBinWriter {
    pub fn create(target: &Path, schema: &Schema) -> Result<Self> {
        let codes = dtype_codes(schema)?;
        let dir = AtomicDir::create(target, only_trace_files)?;
        let files = schema
            .fields()
            .iter()
            .zip(codes)
            .map(|(f, code)| {
                let path: PathBuf = dir.path().join(format!("{}.{code}", f.name()));
                ColumnFile::create(&path)
                    .map(|file| {
                        let direct = file.is_direct();
                        let chunked = Some(Chunked::new(file, direct));
                        (f.name().clone(), f.data_type().clone(), chunked)
                    })
                    .map_err(|e| err(format!("cannot create {}: {e}", path.display())))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            ahead: Ahead::default(),
            dir,
            files,
            rows: 0,
            early: EarlySync::default(),
            compression: None,
        })
    }

    /// The trace written with every column file compressed (`None`: plain).
    pub fn with_compression(mut self, compression: Option<CompressOptions>) -> Self {
        self.compression = compression;
        self
    }

    /// Starts writing `values` as the whole of column `name`, on a thread of its own, before
    /// (and while) the batches bring the other columns: the sort hands over a column whose
    /// values are all equal (sorted, it is the input) before it has computed the order, so
    /// that the disk starts at once. The batches then carry the other columns only, in the
    /// schema's order; `finish` checks that every column got the same number of rows.
    pub fn write_column(&mut self, name: &str, values: ArrayRef) -> Result<()> {
        let column = self
            .files
            .iter()
            .position(|(n, _, f)| n == name && f.is_some())
            .ok_or_else(|| err(format!("no column '{name}' left to write")))?;
        let (_, data_type, file) = &mut self.files[column];
        if values.data_type() != data_type {
            return Err(err(format!(
                "column '{name}' is {data_type}, not {}",
                values.data_type()
            )));
        }
        no_nulls(name, &values, 0)?;
        let file = file.take().expect("a column not yet written");
        self.ahead.start(column, values, file);
        Ok(())
    }

    /// Appends `batch`: every column not written ahead, in the schema's order.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut pairs = Vec::with_capacity(batch.num_columns());
        let mut arrays = batch.columns().iter().zip(batch.schema_ref().fields());
        for (name, _, file) in &mut self.files {
            let Some(file) = file else { continue };
            match arrays.next() {
                Some((array, field)) if field.name() == name => {
                    no_nulls(name, array, self.rows)?;
                    pairs.push((array, name.as_str(), file));
                }
                other => {
                    let got = other.map_or("none", |(_, f)| f.name().as_str());
                    return Err(err(format!(
                        "expected column '{name}' in the batch, got {got}"
                    )));
                }
            }
        }
        if let Some((_, extra)) = arrays.next() {
            return Err(err(format!(
                "column '{}' is not one to write",
                extra.name()
            )));
        }
        let target = self.dir.target();
        let write = |(array, name, file): (&ArrayRef, &str, &mut Chunked<ColumnFile>)| {
            file.write_all(value_bytes(&array.to_data()))
                .map_err(|e| column_err(target, name, e))
        };
        // Copying a large batch (into the aligned chunk buffers, or the kernel's copy into the
        // page cache) takes a core: half of the columns go to a second thread.
        let half = if pairs.len() > 1 && batch.get_array_memory_size() >= PARALLEL_WRITE {
            pairs.split_off(pairs.len() / 2)
        } else {
            Vec::new()
        };
        let (a, b) = std::thread::scope(|s| {
            let other =
                (!half.is_empty()).then(|| s.spawn(|| half.into_iter().try_for_each(write)));
            let mine = pairs.into_iter().try_for_each(write);
            (mine, other.map_or(Ok(Ok(())), |t| t.join()))
        });
        a?;
        b.map_err(|_| err("writing columns panicked".into()))??;
        self.early.request_due(&mut self.files);
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Flushes, syncs and moves the trace into place; returns the number of rows written.
    /// The columns are synced to disk concurrently, one thread each: waiting for one sync after
    /// the other took longer than writing a small trace.
    pub fn finish(mut self) -> Result<u64> {
        if self.files.iter().all(|(_, _, f)| f.is_none()) {
            // Every column was written ahead (no batches).
            self.rows = self.ahead.writes.first().map_or(0, |w| w.1);
        }
        // (Popped one by one: on an error, the others are still stopped and waited for.)
        while let Some((column, rows, thread)) = self.ahead.writes.pop() {
            let name = &self.files[column].0;
            let file = thread
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
                .map_err(|e| column_err(self.dir.target(), name, e))?;
            if rows != self.rows {
                return Err(err(format!(
                    "column '{name}' has {rows} rows, the others {}",
                    self.rows
                )));
            }
            self.files[column].2 = Some(file);
        }
        let target = self.dir.target().to_path_buf();
        self.early
            .finish()
            .map_err(|e| err(format!("writing {}: {e}", target.display())))?;
        let target = &target;
        let synced: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .files
                .into_iter()
                .filter_map(|(name, _, file)| file.map(|f| (name, f)))
                .map(|(name, file)| {
                    s.spawn(move || {
                        file.finish()
                            .and_then(|file| file.file().sync_all())
                            .map_err(|e| column_err(target, &name, e))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        synced.into_iter().collect::<Result<Vec<()>>>()?;
        if let Some(options) = self.compression {
            let dir = self.dir.path();
            let entries = fs::read_dir(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
            for entry in entries.flatten() {
                compress_new_file(&entry.path(), options)?;
            }
        }
        self.dir.commit()?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch large enough for two writing threads: every column complete and in place.
    #[test]
    fn a_large_batch_is_written_by_two_threads_whole() {
        use arrow::array::{UInt8Array, UInt16Array, UInt64Array};
        use arrow::datatypes::{DataType, Field};
        use std::sync::Arc;
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t");
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::UInt8, false),
            Field::new("b", DataType::UInt16, false),
            Field::new("c", DataType::UInt64, false),
        ]));
        let rows = 1 << 20; // 11 MiB a batch
        let mut w = FlowBinWriter::create(&target, &schema).unwrap();
        for b in 0..2u64 {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(UInt8Array::from_iter_values(
                    (0..rows).map(|i| (i % 251) as u8),
                )),
                Arc::new(UInt16Array::from_iter_values((0..rows).map(|i| i as u16))),
                Arc::new(UInt64Array::from_iter_values(
                    (0..rows).map(|i| b << 32 | i),
                )),
            ];
            let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
            assert!(batch.get_array_memory_size() >= PARALLEL_WRITE);
            w.write(&batch).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2 * rows);
        let a = fs::read(target.join("a.B")).unwrap();
        let b = fs::read(target.join("b.H")).unwrap();
        let c = fs::read(target.join("c.Q")).unwrap();
        assert_eq!((a.len(), b.len(), c.len()), (2 << 20, 4 << 20, 16 << 20));
        let row = (1 << 20) + 300; // the second batch's row 300
        assert_eq!(a[row], 49);
        assert_eq!(u16::from_ne_bytes([b[2 * row], b[2 * row + 1]]), 300);
        let c_at = u64::from_ne_bytes(c[8 * row..8 * row + 8].try_into().unwrap());
        assert_eq!(c_at, 1 << 32 | 300);
    }
}
