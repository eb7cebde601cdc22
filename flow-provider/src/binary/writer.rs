//! Writer of flow-models binary traces: one raw native-endian array file per column, named
//! `{field}.{dtype}` (no key underscore, so flow-models 2.2 reads them back), committed atomically.

use super::dir::parse_file_name;
use super::direct::{ALIGN, ColumnFile, is_aligned};
use super::mmap::value_bytes;
use crate::atomic::AtomicDir;
use crate::fields::arrow_to_dtype;
use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use datafusion::common::{DataFusionError, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct FlowBinWriter {
    /// Columns being written whole, each on a thread of its own. Declared before `dir`: a
    /// writer dropped unfinished stops them before its temporary directory is removed.
    ahead: Ahead,
    dir: AtomicDir,
    /// Every column's name, type and file; `None` while the column is written ahead.
    files: Vec<(String, DataType, Option<Chunked<ColumnFile>>)>,
    rows: u64,
    early: EarlySync,
}

/// Columns given whole before the batches ([`FlowBinWriter::write_column`]), each written by a
/// thread of its own: (column, rows, thread returning the file).
#[derive(Default)]
struct Ahead {
    writes: Vec<(usize, u64, AheadThread)>,
    stop: Arc<AtomicBool>,
}

type AheadThread = std::thread::JoinHandle<std::io::Result<Chunked<ColumnFile>>>;

/// Bytes a column written ahead hands to its file at a time (between two looks at whether the
/// writer was dropped).
const AHEAD_STEP: usize = 16 << 20;

impl Drop for Ahead {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, _, thread) in self.writes.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Bytes of a column written between two requests for a background sync of it.
const EARLY_SYNC: u64 = 64 << 20;

/// Syncs column files on a thread of its own while the trace is still being written: the disk
/// then works while the writer computes, and the final sync finds little left to write (without
/// it, a large trace sat in the page cache until `finish` and then waited for the whole disk
/// write). A failed early sync fails `finish`.
#[derive(Default)]
struct EarlySync {
    worker: Option<SyncWorker>,
}

/// The early-sync thread and the queue of its requests: (column, file).
struct SyncWorker {
    requests: std::sync::mpsc::Sender<(usize, File)>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl EarlySync {
    /// Queues a sync of column `column`'s `file` (of the data written so far). A handle that
    /// cannot be cloned is skipped: the final sync still covers it.
    fn request(&mut self, column: usize, file: &File) {
        let Ok(file) = file.try_clone() else { return };
        let worker = self.worker.get_or_insert_with(|| {
            let (requests, rx) = std::sync::mpsc::channel();
            let thread = std::thread::spawn(move || sync_requests(rx));
            SyncWorker { requests, thread }
        });
        // A send fails only after the thread stopped on an error, which `finish` reports.
        let _ = worker.requests.send((column, file));
    }

    /// Waits for the queued syncs.
    fn finish(self) -> std::io::Result<()> {
        match self.worker {
            None => Ok(()),
            Some(SyncWorker { requests, thread }) => {
                drop(requests);
                thread
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            }
        }
    }
}

/// The early-sync thread: syncs the requested files, each column once however many requests
/// for it queued up during the previous syncs.
fn sync_requests(rx: std::sync::mpsc::Receiver<(usize, File)>) -> std::io::Result<()> {
    while let Ok(first) = rx.recv() {
        let mut pending = vec![first];
        for (column, file) in rx.try_iter() {
            pending.retain(|(c, _)| *c != column);
            pending.push((column, file));
        }
        for (_, file) in pending {
            file.sync_data()?;
        }
    }
    Ok(())
}

/// Size of every write but a file's last: 2 MiB at 2 MiB-aligned offsets, so the kernel can keep
/// the written pages in 2 MiB page-cache folios, which later scans map with one page-table entry
/// each (small writes leave 4 KiB pages: scanning a 50 M-row trace then spends about half its
/// time on page tables).
const CHUNK: usize = 2 << 20;

/// Batches of at least this many bytes are written by two threads.
const PARALLEL_WRITE: usize = 4 << 20;

/// A column file written in whole `CHUNK`s.
struct Chunked<W: Write> {
    file: W,
    /// The chunk being filled: `len` bytes at `raw[start..]`, the first [`ALIGN`]-aligned
    /// address of `raw` (direct writes need it).
    raw: Vec<u8>,
    start: usize,
    len: usize,
    /// Whether the caller's buffers may go to `file` as they are only when aligned.
    needs_alignment: bool,
    /// Bytes handed to `file` since the last early sync was asked for.
    unsynced: u64,
}

impl<W: Write> Chunked<W> {
    fn new(file: W, needs_alignment: bool) -> Self {
        let raw = vec![0; CHUNK + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN);
        Self {
            file,
            raw,
            start,
            len: 0,
            needs_alignment,
            unsynced: 0,
        }
    }

    fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        // Straight from the caller's buffer when nothing is pending: whole chunks, or to a
        // direct file from an aligned buffer (the sort's gathered columns) every whole block.
        let step = if !self.needs_alignment {
            CHUNK
        } else if is_aligned(bytes) {
            bytes.len() / ALIGN * ALIGN
        } else {
            0
        };
        while self.len == 0 && step > 0 && bytes.len() >= step {
            self.file.write_all(&bytes[..step])?;
            bytes = &bytes[step..];
            self.unsynced += step as u64;
        }
        while !bytes.is_empty() {
            let take = (CHUNK - self.len).min(bytes.len());
            let at = self.start + self.len;
            self.raw[at..at + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
            if self.len == CHUNK {
                self.file
                    .write_all(&self.raw[self.start..self.start + CHUNK])?;
                self.len = 0;
                self.unsynced += CHUNK as u64;
            }
        }
        Ok(())
    }

    /// Writes the tail and returns the file.
    fn finish(mut self) -> std::io::Result<W> {
        self.file
            .write_all(&self.raw[self.start..self.start + self.len])?;
        Ok(self.file)
    }
}

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
fn only_trace_files(dir: &Path) -> Result<()> {
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

impl FlowBinWriter {
    pub fn create(target: &Path, schema: &Schema) -> Result<Self> {
        let mut codes = Vec::with_capacity(schema.fields().len());
        for f in schema.fields() {
            let code = arrow_to_dtype(f.data_type()).ok_or_else(|| {
                err(format!(
                    "column '{}' has type {}, which the flow-models binary format cannot store \
                     (it stores Int8..Int64, UInt8..UInt64, Float32, Float64): cast it",
                    f.name(),
                    f.data_type()
                ))
            })?;
            codes.push(code);
        }
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
        })
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
        let mut file = file.take().expect("a column not yet written");
        let stop = self.ahead.stop.clone();
        let rows = values.len() as u64;
        let thread = std::thread::spawn(move || {
            let data = values.to_data();
            for step in value_bytes(&data).chunks(AHEAD_STEP) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                file.write_all(step)?;
            }
            Ok(file)
        });
        self.ahead.writes.push((column, rows, thread));
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
        for (column, (_, _, file)) in self.files.iter_mut().enumerate() {
            if let Some(file) = file.as_mut().filter(|f| f.unsynced >= EARLY_SYNC) {
                file.unsynced = 0;
                self.early.request(column, file.file.file());
            }
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Flushes, syncs and moves the trace into place; returns the number of rows written.
    /// The columns are synced to disk concurrently, one thread each: waiting for 21 syncs one
    /// after the other took longer than writing a 1 M-record trace.
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
        self.dir.commit()?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the size of every write it receives, its bytes, and whether its buffer was
    /// [`ALIGN`]-aligned.
    #[derive(Default)]
    struct Writes(Vec<usize>, Vec<u8>, Vec<bool>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.len());
            self.1.extend_from_slice(buf);
            self.2.push(is_aligned(buf));
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

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

    fn u32_column(values: impl IntoIterator<Item = u32>) -> ArrayRef {
        std::sync::Arc::new(arrow::array::UInt32Array::from_iter_values(values))
    }

    fn three_columns() -> Schema {
        use arrow::datatypes::Field;
        Schema::new(vec![
            Field::new("a", DataType::UInt32, false),
            Field::new("b", DataType::UInt32, false),
            Field::new("c", DataType::UInt32, false),
        ])
    }

    fn u32s(path: &Path) -> Vec<u32> {
        let bytes = fs::read(path).unwrap();
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
            .collect()
    }

    /// Columns given whole (several `AHEAD_STEP`s long) and columns brought by batches end up
    /// side by side, each complete.
    #[test]
    fn columns_written_ahead_join_the_batches() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t");
        let schema = three_columns();
        let rows = (AHEAD_STEP / 4 * 2 + 1000) as u32;
        let mut w = FlowBinWriter::create(&target, &schema).unwrap();
        w.write_column("b", u32_column(0..rows)).unwrap();
        // Twice the same column is refused, as is a value of another type.
        assert!(w.write_column("b", u32_column(0..rows)).is_err());
        let wrong: ArrayRef = std::sync::Arc::new(arrow::array::UInt16Array::from(vec![1]));
        let e = w.write_column("c", wrong).unwrap_err().to_string();
        assert!(e.contains("column 'c' is UInt32, not UInt16"), "{e}");
        let batch_schema = std::sync::Arc::new(schema.project(&[0, 2]).unwrap());
        for start in (0..rows).step_by(1 << 20) {
            let end = (start + (1 << 20)).min(rows);
            let batch = RecordBatch::try_new(
                batch_schema.clone(),
                vec![u32_column(start..end), u32_column((start..end).map(|v| !v))],
            )
            .unwrap();
            w.write(&batch).unwrap();
        }
        assert_eq!(w.finish().unwrap(), u64::from(rows));
        assert_eq!(u32s(&target.join("a.I")), (0..rows).collect::<Vec<_>>());
        assert_eq!(u32s(&target.join("b.I")), (0..rows).collect::<Vec<_>>());
        let c: Vec<u32> = (0..rows).map(|v| !v).collect();
        assert_eq!(u32s(&target.join("c.I")), c);
    }

    #[test]
    fn every_column_may_be_written_ahead() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t");
        let mut w = FlowBinWriter::create(&target, &three_columns()).unwrap();
        for name in ["c", "a", "b"] {
            w.write_column(name, u32_column([7; 5])).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 5);
        for name in ["a.I", "b.I", "c.I"] {
            assert_eq!(u32s(&target.join(name)), [7; 5]);
        }
    }

    /// A column written ahead whose length is not the batches', batches that bring a column
    /// written ahead or miss one: errors, and nothing at the target.
    #[test]
    fn columns_that_do_not_fit_together_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("t");
        let schema = three_columns();
        let two = std::sync::Arc::new(schema.project(&[0, 2]).unwrap());
        let batch = |schema: &std::sync::Arc<Schema>, n: u32| {
            let columns = schema.fields().iter().map(|_| u32_column(0..n)).collect();
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        };

        let mut w = FlowBinWriter::create(&target, &schema).unwrap();
        w.write_column("b", u32_column(0..10)).unwrap();
        w.write(&batch(&two, 9)).unwrap();
        let e = w.finish().unwrap_err().to_string();
        assert!(e.contains("column 'b' has 10 rows, the others 9"), "{e}");
        assert!(!target.exists());

        let mut w = FlowBinWriter::create(&target, &schema).unwrap();
        w.write_column("b", u32_column(0..10)).unwrap();
        let e = w.write(&batch(&schema.clone().into(), 10)).unwrap_err();
        assert!(
            e.to_string()
                .contains("expected column 'c' in the batch, got b"),
            "{e}"
        );
        let one = std::sync::Arc::new(schema.project(&[0]).unwrap());
        let e = w.write(&batch(&one, 10)).unwrap_err();
        assert!(
            e.to_string()
                .contains("expected column 'c' in the batch, got none"),
            "{e}"
        );
        drop(w);
        assert!(!target.exists());
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "temporary left"
        );
    }

    #[test]
    fn a_column_larger_than_the_early_sync_step_is_written_whole() {
        use arrow::array::UInt64Array;
        use arrow::datatypes::{DataType, Field};
        use std::sync::Arc;
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("big");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "octets",
            DataType::UInt64,
            false,
        )]));
        let mut w = FlowBinWriter::create(&target, &schema).unwrap();
        // 72 MiB: a background sync is asked for after the first 64 MiB.
        let rows_per_batch = 1 << 20;
        for b in 0..9u64 {
            let values = UInt64Array::from_iter_values((0..rows_per_batch).map(|i| b << 32 | i));
            let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
            w.write(&batch).unwrap();
        }
        assert!(w.early.worker.is_some(), "no early sync was asked for");
        assert_eq!(w.finish().unwrap(), 9 * rows_per_batch);
        let bytes = fs::read(target.join("octets.Q")).unwrap();
        assert_eq!(bytes.len() as u64, 72 << 20);
        let at = |row: usize| u64::from_ne_bytes(bytes[row * 8..row * 8 + 8].try_into().unwrap());
        assert_eq!(at(0), 0);
        assert_eq!(at((8 << 20) + 5), 8 << 32 | 5);
        assert_eq!(at((9 << 20) - 1), 8 << 32 | ((1 << 20) - 1));
    }

    #[test]
    fn writes_whole_aligned_chunks_then_the_tail() {
        let mut w = Chunked::new(Writes::default(), false);
        let data: Vec<u8> = (0..5 * CHUNK + 123).map(|i| (i % 251) as u8).collect();
        // Odd-sized pieces, as batches of different lengths and widths arrive.
        for piece in data.chunks(65_536 * 3 + 7) {
            w.write_all(piece).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.0, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK, 123]);
        assert_eq!(out.1, data);

        // Pieces larger than a chunk: whole chunks go straight out when nothing is pending,
        // otherwise through the buffer; the writes stay whole aligned chunks.
        let mut w = Chunked::new(Writes::default(), false);
        let half = 2 * CHUNK + CHUNK / 2;
        for piece in [&data[..2 * CHUNK], &data[2 * CHUNK..half], &data[half..]] {
            w.write_all(piece).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.0, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK, 123]);
        assert_eq!(out.1, data);

        // A file written direct takes the caller's buffer only when it is aligned: from an
        // unaligned one every chunk goes through the (aligned) buffer.
        let mut w = Chunked::new(Writes::default(), true);
        let unaligned = &data[1..];
        for piece in [&unaligned[..2 * CHUNK], &unaligned[2 * CHUNK..]] {
            w.write_all(piece).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.0, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK, 122]);
        assert_eq!(out.1, unaligned);
        assert_eq!(out.2, [true; 6]);

        // From an aligned buffer, every whole block goes straight to a direct file, whatever
        // the piece's length; a partial block waits in the buffer for the next pieces.
        let mut w = Chunked::new(Writes::default(), true);
        let start = data.as_ptr().align_offset(ALIGN);
        let aligned = &data[start..start + CHUNK + 100];
        let pieces = [3 * ALIGN, CHUNK / 2, 100 + ALIGN];
        let mut at = 0;
        for len in pieces {
            w.write_all(&aligned[at..at + len]).unwrap();
            at += len;
        }
        w.write_all(&aligned[at..]).unwrap();
        let out = w.finish().unwrap();
        let rest = CHUNK + 100 - 3 * ALIGN - CHUNK / 2;
        assert_eq!(out.0, [3 * ALIGN, CHUNK / 2, ALIGN, rest - ALIGN]);
        assert_eq!(out.1, aligned);
        assert_eq!(out.2, [true; 4]);
    }
}
