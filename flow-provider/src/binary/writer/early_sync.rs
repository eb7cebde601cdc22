//! Early sync: column files synced in the background while the trace is still being written,
//! so that `finish` finds little left to write.

use super::Column;
use std::fs::File;

/// Bytes of a column written between two requests for a background sync of it.
const EARLY_SYNC: u64 = 64 << 20;

/// Syncs column files on a thread of its own while the trace is still being written: the disk
/// then works while the writer computes, and the final sync finds little left to write (without
/// it, a large trace sat in the page cache until `finish` and then waited for the whole disk
/// write). A failed early sync fails `finish`.
#[derive(Default)]
pub(super) struct EarlySync {
    pub(super) worker: Option<SyncWorker>,
}

/// The early-sync thread and the queue of its requests: (column, file).
pub(super) struct SyncWorker {
    requests: std::sync::mpsc::Sender<(usize, File)>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl EarlySync {
    /// Asks for a sync of every column file with [`EARLY_SYNC`] bytes or more written since the
    /// last request for it.
    pub(super) fn request_due(&mut self, files: &mut [Column]) {
        for (column, (_, _, file)) in files.iter_mut().enumerate() {
            if let Some(file) = file.as_mut().filter(|f| f.unsynced >= EARLY_SYNC) {
                file.unsynced = 0;
                self.request(column, file.file.file());
            }
        }
    }

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
    pub(super) fn finish(self) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::super::FlowBinWriter;
    use arrow::array::RecordBatch;
    use arrow::datatypes::Schema;
    use std::fs;

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
}
