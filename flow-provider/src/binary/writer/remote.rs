//! A binary trace written to an object store: one object per column, `{prefix}/{field}.{dtype}`
//! as on disk, made as atomic as a store allows.
//!
//! Stores have no rename and no multi-object commit, so the columns are uploaded under a
//! hidden temporary prefix beside the target (`{parent}/.{name}.tmp-{pid}-{nanos}/`, which
//! readers never take for a trace: they skip hidden "directories") and published only once
//! every upload has completed: each is copied to the target prefix, column files of an older
//! trace there that the new one does not have are deleted, then the temporaries are deleted.
//! What a reader sees:
//! - while the columns are uploaded, and after a failure or a crash in that phase: the old
//!   trace (or nothing), unchanged; a crash leaves the temporary prefix (its name says which
//!   process wrote it), which may be deleted;
//! - during the publication (a few copy requests): a listing of the target can see some new
//!   and some old columns; a trace whose length changed then fails to read with "columns
//!   differ in length"; one of the same length reads mixed columns. Publication is one
//!   request per column, not one for the whole trace: replacing a trace that others read at
//!   the same moment needs a new prefix (write `trace-v2`, then switch readers).

use super::{dtype_codes, no_nulls};
use crate::binary::dir::parse_file_name;
use crate::binary::mmap::value_bytes;
use crate::store::{Object, block_on};
use crate::upload::Upload;
use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

fn err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

/// A trace being uploaded to `target`; dropped unfinished, its uploads are aborted and nothing
/// changes at the target.
pub struct RemoteTraceWriter {
    target: Object,
    temp: ObjectPath,
    /// Each column's field name, file name (`{field}.{dtype}`) and upload.
    columns: Vec<(String, String, Upload)>,
    rows: u64,
    published: bool,
}

impl RemoteTraceWriter {
    pub fn create(target: Object, schema: &Schema) -> Result<Self> {
        let codes = dtype_codes(schema)?;
        block_on(only_trace_objects(&target))??;
        let name = target.key.filename().unwrap_or("trace").to_string();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let temp_name = format!(".{name}.tmp-{}-{nanos}", std::process::id());
        let mut parts: Vec<_> = target.key.parts().collect();
        parts.pop();
        parts.push(temp_name.as_str().into());
        let temp = ObjectPath::from_iter(parts);
        let columns = schema
            .fields()
            .iter()
            .zip(codes)
            .map(|(f, code)| {
                let file = format!("{}.{code}", f.name());
                let upload = Upload::new(&target, temp.clone().join(file.as_str()));
                (f.name().clone(), file, upload)
            })
            .collect();
        Ok(Self {
            target,
            temp,
            columns,
            rows: 0,
            published: false,
        })
    }

    /// Appends `batch`, whose columns are the schema's, in order; the columns are sent
    /// concurrently.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_columns() != self.columns.len() {
            return Err(err(format!(
                "{} columns in the batch, {} in the trace",
                batch.num_columns(),
                self.columns.len()
            )));
        }
        let mut sends = Vec::with_capacity(self.columns.len());
        for ((name, _, upload), array) in self.columns.iter_mut().zip(batch.columns()) {
            no_nulls(name, array, self.rows)?;
            let bytes = Bytes::copy_from_slice(value_bytes(&array.to_data()));
            sends.push(upload.write(bytes));
        }
        block_on(futures::future::try_join_all(sends))??;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Completes the uploads and publishes the trace (see the module docs); returns the
    /// number of rows written.
    pub fn finish(mut self) -> Result<u64> {
        let finished = self.columns.iter_mut().map(|(_, _, u)| u.finish());
        block_on(futures::future::try_join_all(finished))??;
        block_on(self.publish())??;
        self.published = true;
        Ok(self.rows)
    }

    async fn publish(&self) -> Result<()> {
        let store = &self.target.store;
        let fail = |e: object_store::Error| err(format!("writing {}: {e}", self.target.url));
        for (_, file, _) in &self.columns {
            let from = self.temp.clone().join(file.as_str());
            store
                .copy(&from, &self.target.key.clone().join(file.as_str()))
                .await
                .map_err(fail)?;
        }
        // Columns of an older trace at the target that the new one does not have.
        let old = store
            .list_with_delimiter(Some(&self.target.key))
            .await
            .map_err(fail)?;
        for meta in old.objects {
            let name = meta.location.filename().unwrap_or_default();
            if !self.columns.iter().any(|(_, file, _)| file == name) {
                store.delete(&meta.location).await.map_err(fail)?;
            }
        }
        self.remove_temporaries().await;
        Ok(())
    }

    async fn remove_temporaries(&self) {
        let store = &self.target.store;
        if let Ok(objects) = store.list(Some(&self.temp)).try_collect::<Vec<_>>().await {
            for meta in objects {
                let _ = store.delete(&meta.location).await;
            }
        }
    }
}

/// Refuses a target prefix that holds anything but one trace's column files (other objects
/// or "subdirectories"), so a mistyped `-O` cannot delete unrelated data, as on disk.
async fn only_trace_objects(target: &Object) -> Result<()> {
    let found = target
        .store
        .list_with_delimiter(Some(&target.key))
        .await
        .map_err(|e| err(format!("{}: {e}", target.url)))?;
    let stranger = found
        .common_prefixes
        .first()
        .or_else(|| {
            found
                .objects
                .iter()
                .map(|m| &m.location)
                .find(|k| k.filename().and_then(parse_file_name).is_none())
        })
        .map(|k| target.url_of(k));
    match stranger {
        Some(other) => Err(err(format!(
            "refusing to replace {}: it holds {other}, which is not a flow-models column file",
            target.url
        ))),
        None => Ok(()),
    }
}

impl Drop for RemoteTraceWriter {
    fn drop(&mut self) {
        // Finished or not, no temporary stays: completed uploads are deleted here, unfinished
        // ones abort themselves (`Upload`'s drop). Writers are dropped on the thread that
        // wrote, never inside `block_on`.
        if !self.published {
            let _ = block_on(self.remove_temporaries());
        }
    }
}
