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
use crate::binary::compress::{CompressOptions, compress_in_frames, file_end};
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
    columns: Vec<Column>,
    /// How columns are compressed (frames of `frame_rows` rows, as `flow-models compress`
    /// writes them, each sent once complete); plain when `None`.
    compression: Option<CompressOptions>,
    rows: u64,
    published: bool,
}

/// A column being uploaded.
struct Column {
    field: String,
    /// `{field}.{dtype}`, with the codec's extension when compressed.
    file: String,
    upload: Upload,
    /// Values of a compressed column not yet a whole frame.
    pending: Vec<u8>,
    /// Bytes per frame of a compressed column.
    frame_bytes: usize,
    /// (compressed, decompressed) bytes of each frame sent.
    frames: Vec<(u32, u32)>,
}

impl RemoteTraceWriter {
    /// A trace at `target` of columns `schema`, compressed as `compression` says.
    pub fn create(
        target: Object,
        schema: &Schema,
        compression: Option<CompressOptions>,
    ) -> Result<Self> {
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
                let mut file = format!("{}.{code}", f.name());
                if let Some(c) = compression {
                    file = format!("{file}.{}", c.codec.ext());
                }
                let width = crate::binary::dir::dtype_width(code);
                Column {
                    field: f.name().clone(),
                    upload: Upload::new(&target, temp.clone().join(file.as_str())),
                    file,
                    pending: Vec::new(),
                    frame_bytes: compression.map_or(0, |c| c.frame_rows.max(1) * width),
                    frames: Vec::new(),
                }
            })
            .collect();
        Ok(Self {
            target,
            temp,
            columns,
            compression,
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
        let mut payloads = Vec::with_capacity(self.columns.len());
        for (column, array) in self.columns.iter_mut().zip(batch.columns()) {
            no_nulls(&column.field, array, self.rows)?;
            let data = array.to_data();
            let values = value_bytes(&data);
            let Some(c) = self.compression else {
                payloads.push(Bytes::copy_from_slice(values));
                continue;
            };
            column.pending.extend_from_slice(values);
            let whole = column.pending.len() / column.frame_bytes * column.frame_bytes;
            let frames: Vec<u8> = column.pending.drain(..whole).collect();
            payloads.push(pack(c, &frames, column.frame_bytes, &mut column.frames)?);
        }
        self.send(payloads)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Sends each column its bytes, concurrently.
    fn send(&mut self, payloads: Vec<Bytes>) -> Result<()> {
        let sends = (self.columns.iter_mut().zip(payloads))
            .filter(|(_, bytes)| !bytes.is_empty())
            .map(|(column, bytes)| column.upload.write(bytes));
        block_on(futures::future::try_join_all(sends))??;
        Ok(())
    }

    /// Completes the uploads (a compressed column's last frame and end first) and publishes
    /// the trace (see the module docs); returns the number of rows written.
    pub fn finish(mut self) -> Result<u64> {
        if let Some(c) = self.compression {
            let mut ends = Vec::with_capacity(self.columns.len());
            for column in &mut self.columns {
                let rest = std::mem::take(&mut column.pending);
                let mut end = pack(c, &rest, column.frame_bytes, &mut column.frames)?.to_vec();
                end.extend(file_end(c.codec, &column.frames));
                ends.push(Bytes::from(end));
            }
            self.send(ends)?;
        }
        let finished = self.columns.iter_mut().map(|c| c.upload.finish());
        block_on(futures::future::try_join_all(finished))??;
        block_on(self.publish())??;
        self.published = true;
        Ok(self.rows)
    }

    async fn publish(&self) -> Result<()> {
        let store = &self.target.store;
        let fail = |e: object_store::Error| err(format!("writing {}: {e}", self.target.url));
        for Column { file, .. } in &self.columns {
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
            if !self.columns.iter().any(|c| c.file == name) {
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

/// `values` (whole frames of `frame_bytes`, but the last) compressed frame by frame on all
/// cores and concatenated; each frame's sizes appended to `frames`.
fn pack(
    options: CompressOptions,
    values: &[u8],
    frame_bytes: usize,
    frames: &mut Vec<(u32, u32)>,
) -> Result<Bytes> {
    let mut out = Vec::new();
    frames.extend(compress_in_frames(
        options,
        values,
        frame_bytes,
        &|_| {},
        &|e| err(format!("cannot compress: {e}")),
        &mut |packed| {
            out.extend_from_slice(packed);
            Ok(())
        },
    )?);
    Ok(Bytes::from(out))
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
