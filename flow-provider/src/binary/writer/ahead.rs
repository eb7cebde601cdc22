//! Columns written ahead: a column given whole before the batches goes to its file on a thread
//! of its own while the batches bring the others.

use super::chunked::Chunked;
use crate::binary::direct::ColumnFile;
use crate::binary::mmap::value_bytes;
use arrow::array::{Array, ArrayRef};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Columns given whole before the batches
/// ([`FlowBinWriter::write_column`](super::FlowBinWriter::write_column)), each written by a
/// thread of its own: (column, rows, thread returning the file).
#[derive(Default)]
pub(super) struct Ahead {
    pub(super) writes: Vec<(usize, u64, AheadThread)>,
    stop: Arc<AtomicBool>,
}

type AheadThread = std::thread::JoinHandle<std::io::Result<Chunked<ColumnFile>>>;

/// Bytes a column written ahead hands to its file at a time (between two looks at whether the
/// writer was dropped).
const AHEAD_STEP: usize = 16 << 20;

impl Ahead {
    /// Starts writing `values` whole to `file`, column `column`'s, on a thread of its own.
    pub(super) fn start(&mut self, column: usize, values: ArrayRef, mut file: Chunked<ColumnFile>) {
        let stop = self.stop.clone();
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
        self.writes.push((column, rows, thread));
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, _, thread) in self.writes.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::FlowBinWriter;
    use super::*;
    use arrow::array::RecordBatch;
    use arrow::datatypes::{DataType, Schema};
    use std::fs;
    use std::path::Path;

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
}
