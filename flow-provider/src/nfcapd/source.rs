//! Opening one nfcapd file for a scan: the `FileOpener` (its `FileSource` is the shared
//! [`FlowSource`](crate::listing::FlowSource) over [`NfcapdOptions`]). Local files are
//! memory-mapped, remote objects fetched whole; both feed the same block decoder. A file split
//! into byte ranges (`FileRange`) decodes, in each partition, the layout 2 blocks whose header
//! starts inside its range; layout 1 files carry extension maps in-stream, so the range that
//! holds the first block decodes the whole file and the others yield nothing.
//!
//! What was decoded and skipped is counted in the scan's metrics (`EXPLAIN ANALYZE`): files,
//! bytes, blocks, flows, and, with `skip_corrupt`, the corrupt blocks and unreadable files
//! skipped, labelled with the file and its first error.

use super::NfcapdOptions;
use super::schema::{projection_for, to_batch};
use crate::binary::mmap::map_open_file;
use crate::listing::{OpenerArgs, OpenerFactory};
use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};
use datafusion_datasource::PartitionedFile;
use datafusion_datasource::file_stream::{FileOpenFuture, FileOpener};
use futures::{StreamExt, TryStreamExt};
use nfcapd_decode::Blocks;
use nfcapd_decode::ExtMaps;
use nfcapd_decode::NfError;
use nfcapd_decode::{DecodeStats, decode_block_with};
use nfcapd_decode::{FileInfo, Layout, read_header};
use nfcapd_decode::{FlowColumns, Projection};
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};
use std::sync::Arc;

impl OpenerFactory for NfcapdOptions {
    fn file_type(&self) -> &'static str {
        "nfcapd"
    }

    fn opener(&self, scan: OpenerArgs) -> Result<Arc<dyn FileOpener>> {
        // Only the projected file columns are decoded; ProjectionOpener applies the rest.
        let schema = Arc::new(scan.file_schema.project(scan.columns)?);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        Ok(Arc::new(NfcapdOpener {
            options: *self,
            projection: projection_for(&names),
            schema: schema.clone(),
            batch_size: scan.batch_size,
            store: scan.store,
            metrics: ScanMetrics::new(scan.metrics, scan.partition),
        }))
    }
}

struct NfcapdOpener {
    options: NfcapdOptions,
    projection: Projection,
    schema: SchemaRef,
    batch_size: usize,
    store: Arc<dyn ObjectStore>,
    metrics: ScanMetrics,
}

/// The counters of one partition of a scan.
#[derive(Clone)]
struct ScanMetrics {
    set: ExecutionPlanMetricsSet,
    partition: usize,
    files: Count,
    bytes: Count,
    blocks: Count,
    flows: Count,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let count = |name| MetricBuilder::new(set).counter(name, partition);
        Self {
            files: count("files"),
            bytes: count("file_bytes"),
            blocks: count("blocks"),
            flows: count("flows"),
            set: set.clone(),
            partition,
        }
    }

    /// What was skipped in `file`: `n` of `what` (`corrupt_blocks_skipped`, `files_skipped`),
    /// the first for `reason`.
    fn skipped(&self, what: &'static str, file: &str, reason: &NfError, n: usize) {
        MetricBuilder::new(&self.set)
            .with_new_label("file", file.to_string())
            .with_new_label("first_error", reason.clone().with_file(file).to_string())
            .counter(what, self.partition)
            .add(n);
    }
}

/// Files nfcapd keeps beside its data in a collector directory: its statistics file and the
/// file it is still writing. Reading a whole tree skips them instead of failing on them.
pub fn is_collector_side_file(name: &str) -> bool {
    name == ".nfstat" || name.starts_with("nfcapd.current.")
}

impl FileOpener for NfcapdOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = self.store.clone();
        let (options, projection, schema, batch_size) = (
            self.options,
            self.projection,
            self.schema.clone(),
            self.batch_size,
        );
        let metrics = self.metrics.clone();
        Ok(Box::pin(async move {
            let location = file.object_meta.location.clone();
            if location.filename().is_some_and(is_collector_side_file) {
                return Ok(futures::stream::empty().boxed());
            }
            // A local file is mapped, not read (as datasource-csv tells them apart).
            let (bytes, name) = match store.get(&location).await?.payload {
                GetResultPayload::File(file, path) => {
                    (map_open_file(&file, &path)?, path.display().to_string())
                }
                GetResultPayload::Stream(chunks) => {
                    let chunks: Vec<bytes::Bytes> = chunks.try_collect().await?;
                    (Buffer::from(chunks.concat()), location.to_string())
                }
            };
            metrics.files.add(1);
            metrics.bytes.add(bytes.len());
            let range = file
                .range
                .map(|r| (r.start.max(0) as u64, r.end.max(0) as u64));
            let batches = FileBatches::open(
                bytes, name, range, options, projection, schema, batch_size, metrics,
            )?;
            Ok(futures::stream::iter(batches).boxed())
        }))
    }
}

/// Decodes the blocks of one file (or of one byte range of it) into batches.
struct FileBatches {
    bytes: Buffer,
    name: String,
    info: Option<FileInfo>,
    /// Byte range whose blocks this scan decodes.
    range: (u64, u64),
    /// Position and index of the next block header.
    cursor: (u64, u64),
    skip_corrupt: bool,
    projection: Projection,
    schema: SchemaRef,
    batch_size: usize,
    maps: ExtMaps,
    scratch: Vec<u8>,
    stats: DecodeStats,
    out: FlowColumns,
    done: bool,
    metrics: ScanMetrics,
}

impl FileBatches {
    #[allow(clippy::too_many_arguments)]
    fn open(
        bytes: Buffer,
        name: String,
        range: Option<(u64, u64)>,
        options: NfcapdOptions,
        projection: Projection,
        schema: SchemaRef,
        batch_size: usize,
        metrics: ScanMetrics,
    ) -> Result<Self> {
        let range = range.unwrap_or((0, u64::MAX));
        let mut info = match read_header(&bytes) {
            Ok(info) => Some(info),
            // A broken header belongs to the range that starts the file.
            Err(_) if range.0 > 0 => None,
            Err(e) if options.skip_corrupt => {
                metrics.skipped("files_skipped", &name, &e, 1);
                None
            }
            Err(e) => return Err(nf_error(e, &name)),
        };
        if let Some(i) = &mut info
            && let Some(e) = i.appendix_error.take()
            && !options.skip_corrupt
            && range.0 == 0
        {
            return Err(nf_error(e, &name));
        }
        let cursor = info.as_ref().map_or((0, 0), |i| (i.first_block_offset, 0));
        // Layout 1 blocks depend on maps from earlier blocks: one range takes the whole file.
        let range = match &info {
            Some(i) if i.layout == Layout::V1 => {
                if range.0 <= i.first_block_offset && i.first_block_offset < range.1 {
                    (0, u64::MAX)
                } else {
                    (0, 0)
                }
            }
            _ => range,
        };
        Ok(Self {
            done: info.is_none(),
            bytes,
            name,
            info,
            range,
            cursor,
            skip_corrupt: options.skip_corrupt,
            projection,
            schema,
            batch_size: batch_size.max(1),
            maps: ExtMaps::new(),
            scratch: Vec::new(),
            stats: DecodeStats::default(),
            out: FlowColumns::default(),
            metrics,
        })
    }

    /// Decodes blocks until a batch is full or the range is done.
    fn fill(&mut self) -> Result<()> {
        let Some(info) = &self.info else {
            self.done = true;
            return Ok(());
        };
        while self.out.rows < self.batch_size && !self.done {
            let mut blocks = Blocks::resume(&self.bytes, info, self.cursor.0, self.cursor.1);
            let next = blocks.next();
            self.cursor = blocks.position();
            let in_range = |offset: u64| offset >= self.range.0 && offset < self.range.1;
            let result = match next {
                Some(Ok(raw)) if in_range(raw.offset) => decode_block_with(
                    info,
                    &raw,
                    &self.projection,
                    &mut self.maps,
                    &mut self.out,
                    &mut self.scratch,
                    &mut self.stats,
                )
                .map(|_| ()),
                Some(Ok(raw)) if raw.offset < self.range.0 => continue,
                // A framing error ends the walk; it is reported by the range it happens in.
                Some(Err(e)) if in_range(e.offset) => {
                    self.done = true;
                    Err(e)
                }
                _ => {
                    self.done = true;
                    Ok(())
                }
            };
            if let Err(e) = result {
                if !self.skip_corrupt {
                    return Err(nf_error(e, &self.name));
                }
                self.stats.blocks_corrupt += 1;
                if self.stats.first_error.is_none() {
                    self.stats.first_error = Some(e);
                }
            }
        }
        if self.done {
            self.finish();
        }
        Ok(())
    }
}

impl FileBatches {
    /// Counts what the file's range gave and skipped.
    fn finish(&mut self) {
        let stats = std::mem::take(&mut self.stats);
        self.metrics.blocks.add(stats.blocks as usize);
        self.metrics.flows.add(stats.flows as usize);
        if let Some(e) = &stats.first_error {
            let n = stats.blocks_corrupt as usize;
            self.metrics
                .skipped("corrupt_blocks_skipped", &self.name, e, n);
        }
    }
}

fn nf_error(e: NfError, name: &str) -> DataFusionError {
    crate::FlowError::from(e.with_file(name)).into()
}

impl Iterator for FileBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.out.rows == 0 {
            return None;
        }
        if !self.done
            && let Err(e) = self.fill()
        {
            self.done = true;
            self.out.clear();
            return Some(Err(e));
        }
        if self.out.rows == 0 {
            return None;
        }
        Some(to_batch(&mut self.out, &self.schema))
    }
}
