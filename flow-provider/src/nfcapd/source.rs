//! Opening one nfcapd file for a scan: the `FileOpener` (its `FileSource` is the shared
//! [`FlowSource`](crate::listing::FlowSource) over [`NfcapdOptions`]). Local files are
//! memory-mapped; remote objects are streamed by one GET ([`super::remote`]); both feed the same block
//! decoder, which walks a window of the file (the whole map, or what was received). A local
//! file split into byte ranges (`FileRange`) decodes, in each partition, the layout 2 blocks
//! whose header starts inside its range; layout 1 files carry extension maps in-stream, so the
//! range that holds the first block decodes the whole file and the others yield nothing.
//! Objects are not split (see `FlowSource::repartitioned`).
//!
//! What was decoded and skipped is counted in the scan's metrics (`EXPLAIN ANALYZE`): files,
//! bytes (mapped, or read from a store), blocks, flows, and, with `skip_corrupt`, the corrupt
//! blocks and unreadable files skipped, labelled with the file and its first error.

use super::NfcapdOptions;
use super::nets::AddrNet;
use super::remote::{RemoteFile, Window, nf_error};
use super::schema::{projection_for, to_batch};
use super::window::TimeWindow;
use crate::binary::mmap::map_open_file;
use crate::listing::{OpenerArgs, OpenerFactory, file_display_name};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result, internal_datafusion_err};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::filter_pushdown::PushedDown;
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};
use datafusion_datasource::PartitionedFile;
use datafusion_datasource::file_stream::{FileOpenFuture, FileOpener};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use nfcapd_decode::{
    Blocks, DecodeStats, ExtMaps, FileInfo, FlowColumns, HEADER_BYTES, Layout, NfError, Projection,
    RawBlock, decode_block_with, read_appendix, read_file_header, read_header,
};
use object_store::{GetOptions, GetResult, GetResultPayload, ObjectStore};
use std::sync::Arc;
use std::sync::Mutex;

impl OpenerFactory for NfcapdOptions {
    fn file_type(&self) -> &'static str {
        "nfcapd"
    }

    fn opener(&self, scan: OpenerArgs) -> Result<Arc<dyn FileOpener>> {
        // Only the projected file columns are decoded; ProjectionOpener applies the rest.
        let schema = Arc::new(scan.file_schema.project(scan.columns)?);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        Ok(Arc::new(NfcapdOpener {
            store: scan.store,
            store_url: scan.store_url.clone(),
            decoding: Decoding {
                options: self.clone(),
                projection: projection_for(&names),
                schema: schema.clone(),
                batch_size: scan.batch_size.max(1),
                metrics: ScanMetrics::new(scan.metrics, scan.partition),
            },
        }))
    }

    /// Time windows skip files (the filter stays); address nets are answered exactly.
    fn with_filters(&self, filters: &[Arc<dyn PhysicalExpr>]) -> Option<(Self, Vec<PushedDown>)> {
        let mut next = self.clone();
        next.window = self.window.and(&TimeWindow::from_filters(filters));
        let pushed = filters
            .iter()
            .map(|f| match AddrNet::from_filter(f) {
                Some(net) => {
                    next.nets.add(net);
                    PushedDown::Yes
                }
                None => PushedDown::No,
            })
            .collect();
        (next != *self).then_some((next, pushed))
    }

    fn fmt_extra(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if !self.window.is_unbounded() {
            write!(f, ", {}", self.window)?;
        }
        if !self.nets.is_empty() {
            write!(f, ", {}", self.nets)?;
        }
        Ok(())
    }
}

struct NfcapdOpener {
    store: Arc<dyn ObjectStore>,
    store_url: ObjectStoreUrl,
    decoding: Decoding,
}

/// How a partition decodes its files: the same for each.
#[derive(Clone)]
struct Decoding {
    options: NfcapdOptions,
    projection: Projection,
    schema: SchemaRef,
    batch_size: usize,
    metrics: ScanMetrics,
}

/// The counters of one partition of a scan.
#[derive(Clone)]
struct ScanMetrics {
    set: ExecutionPlanMetricsSet,
    partition: usize,
    files: Count,
    pruned: Count,
    bytes: Count,
    blocks: Count,
    flows: Count,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let count = |name| MetricBuilder::new(set).counter(name, partition);
        Self {
            files: count("files"),
            pruned: count("files_pruned"),
            bytes: count("file_bytes"),
            blocks: count("blocks"),
            flows: count("flows"),
            set: set.clone(),
            partition,
        }
    }

    /// Counts what a scan of `file` decoded and skipped.
    fn count(&self, file: &str, stats: DecodeStats) {
        self.blocks.add(stats.blocks as usize);
        self.flows.add(stats.flows as usize);
        if let Some(e) = &stats.first_error {
            let n = stats.blocks_corrupt as usize;
            self.skipped("corrupt_blocks_skipped", file, e, n);
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

type Batches = BoxStream<'static, Result<RecordBatch>>;

impl FileOpener for NfcapdOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = self.store.clone();
        let url = file_display_name(&self.store_url, &file.object_meta.location);
        let decoding = self.decoding.clone();
        Ok(Box::pin(async move {
            let location = file.object_meta.location.clone();
            if location.filename().is_some_and(is_collector_side_file) {
                return Ok(stream::empty().boxed());
            }
            decoding.metrics.files.add(1);
            let size = file.object_meta.size;
            let range = file.range.map_or((0, u64::MAX), |r| {
                (r.start.max(0) as u64, r.end.max(0) as u64)
            });
            let fetched = decoding.metrics.bytes.clone();
            let remote = RemoteFile::new(store.clone(), location.clone(), url, size, fetched);
            // A GET of the whole object; a local file is opened, not read, and mapped instead.
            let got = store
                .get_opts(&location, GetOptions::new())
                .await
                .map_err(|e| remote.read_error(0, e))?;
            match &got.payload {
                GetResultPayload::File(file, path) => {
                    let bytes = map_open_file(file, path)?;
                    decoding.metrics.bytes.add(bytes.len());
                    let name = path.display().to_string();
                    let Some(part) = decoding.part(read_header(&bytes), range, &name)? else {
                        return Ok(stream::empty().boxed());
                    };
                    let walk = Walk::new(&part);
                    let decoder = BlockDecoder::new(name, decoding, ExtMaps::new());
                    let batches = MappedBatches {
                        bytes,
                        walk,
                        decoder,
                    };
                    Ok(stream::iter(batches).boxed())
                }
                GetResultPayload::Stream(_) => remote_batches(got, remote, range, decoding).await,
            }
        }))
    }
}

/// The batches of a remote file (or of a range of it) from `got`, its whole body streamed:
/// the header from its first bytes, then the blocks, then, when the range reports its errors,
/// the layout 2 appendix (a broken one fails the scan after the blocks).
///
/// The walk over the received bytes gathers the blocks of about a batch into a [`Job`]; jobs
/// are decoded on DataFusion's blocking threads, up to one per core at once for layout 2
/// (whose blocks are independent), one at a time for layout 1 (whose extension maps carry
/// from block to block), and their batches come out in the file's order.
async fn remote_batches(
    got: GetResult,
    file: RemoteFile,
    range: (u64, u64),
    decoding: Decoding,
) -> Result<Batches> {
    let file = Arc::new(file);
    let mut window = Window::new(file.clone(), got.into_stream());
    let head = window.read(0..file.size.min(HEADER_BYTES as u64)).await?;
    let mut header = read_file_header(&head, file.size);
    // A layout 2 file's statistics are in its appendix, at its end: read first when a time
    // window may skip the file (and then not again after the blocks).
    let read_ahead = !decoding.options.window.is_unbounded();
    if let Ok(info) = &mut header
        && read_ahead
    {
        file.read_appendix(info).await?;
    }
    let Some(part) = decoding.part(header, range, &file.url)? else {
        return Ok(stream::empty().boxed());
    };
    let appendix = part.info.appendix_range();
    let appendix = appendix.filter(|_| !read_ahead && decoding.reports_appendix(range));
    let workers = match part.info.layout {
        Layout::V1 => 1,
        Layout::V2 => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let walk = Walk::new(&part);
    let decoder = Arc::new(JobDecoder {
        info: part.info,
        name: file.url.clone(),
        maps: Mutex::new(ExtMaps::new()),
        decoding,
    });
    let batch_size = decoder.decoding.batch_size;
    let url = file.url.clone();
    let jobs = stream::try_unfold(
        (walk, window, appendix),
        move |(mut walk, mut window, mut appendix)| {
            let url = url.clone();
            async move {
                let mut job = Job::new(batch_size);
                while !job.full() && !walk.done {
                    job.window = window.bytes.clone();
                    if let Fill::Needs(upto) = walk.fill(&window.bytes, window.base, &mut job)? {
                        window.extend(walk.cursor.0, upto).await?;
                    }
                }
                if job.is_empty() {
                    if let Some(range) = appendix.take() {
                        let mut info = walk.info.clone();
                        read_appendix(&mut info, &window.read(range).await?);
                        if let Some(e) = info.appendix_error {
                            return Err(nf_error(e, &url));
                        }
                    }
                    return Ok(None);
                }
                Ok(Some((job, (walk, window, appendix))))
            }
        },
    );
    let decode = decoder.clone();
    let decoded = jobs
        .map_ok(move |job| {
            let decoder = decode.clone();
            let task = SpawnedTask::spawn_blocking(move || decoder.decode(job));
            async move {
                let joined = task.join_unwind().await;
                joined.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?
            }
        })
        .try_buffered(workers);
    // The counts of the whole file are reported once, when it is done.
    let batches = stream::try_unfold(
        (decoded.boxed(), DecodeStats::default()),
        move |(mut decoded, mut stats)| {
            let decoder = decoder.clone();
            async move {
                while let Some((batch, counts)) = decoded.try_next().await? {
                    stats.add(counts);
                    if let Some(batch) = batch {
                        return Ok(Some((batch, (decoded, stats))));
                    }
                }
                decoder.decoding.metrics.count(&decoder.name, stats);
                Ok(None)
            }
        },
    );
    Ok(batches.boxed())
}

/// What a partition decodes of a file: its header, and the byte range whose blocks it decodes.
struct Part {
    info: FileInfo,
    range: (u64, u64),
}

impl Decoding {
    /// The part of a file a partition with byte range `range` decodes, given the file's
    /// header: `None` when nothing.
    fn part(
        &self,
        header: Result<FileInfo, NfError>,
        range: (u64, u64),
        name: &str,
    ) -> Result<Option<Part>> {
        let mut info = match header {
            Ok(info) => info,
            // A broken header belongs to the range that starts the file.
            Err(_) if range.0 > 0 => return Ok(None),
            Err(e) if self.options.skip_corrupt => {
                self.metrics.skipped("files_skipped", name, &e, 1);
                return Ok(None);
            }
            Err(e) => return Err(nf_error(e, name)),
        };
        if let Some(e) = info.appendix_error.take()
            && self.reports_appendix(range)
        {
            return Err(nf_error(e, name));
        }
        if !self.options.window.meets(info.stat.as_ref()) {
            // Counted once, by the range that starts the file.
            if range.0 == 0 {
                self.metrics.pruned.add(1);
            }
            return Ok(None);
        }
        // Layout 1 blocks depend on maps from earlier blocks: one range takes the whole file.
        let first = info.first_block_offset;
        let range = match info.layout {
            Layout::V1 if range.0 <= first && first < range.1 => (0, u64::MAX),
            Layout::V1 => return Ok(None),
            Layout::V2 => range,
        };
        Ok(Some(Part { info, range }))
    }

    /// Whether the range reports a broken appendix: the one that starts the file, unless
    /// corrupt data is skipped.
    fn reports_appendix(&self, range: (u64, u64)) -> bool {
        range.0 == 0 && !self.options.skip_corrupt
    }
}

/// A local file's batches: its map is the decoder's window.
struct MappedBatches {
    bytes: arrow::buffer::Buffer,
    walk: Walk,
    decoder: BlockDecoder,
}

impl Iterator for MappedBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let batch = match self.walk.fill(&self.bytes, 0, &mut self.decoder) {
                Ok(Fill::Ready) => self.decoder.batch(),
                // A whole file holds all its blocks.
                Ok(Fill::Needs(upto)) => Err(internal_datafusion_err!(
                    "{}: the blocks need bytes up to {upto} of a mapped file",
                    self.decoder.name
                )),
                Err(e) => Err(e),
            };
            if self.walk.done && !matches!(batch, Ok(Some(_))) {
                self.decoder.finish();
            }
            // A batch whose rows the nets all dropped: on to the next blocks.
            if matches!(batch, Ok(None)) && !self.walk.done {
                continue;
            }
            return batch.transpose();
        }
    }
}

/// What [`Walk::fill`] got to.
enum Fill {
    /// A batch is full, or the range is done.
    Ready,
    /// The window ended: it must reach this file offset for the walk to go on.
    Needs(u64),
}

/// Where the blocks a walk finds go: decoded at once ([`BlockDecoder`]) or gathered for a
/// worker ([`Job`]).
trait BlockSink {
    /// Whether the blocks taken make a batch.
    fn full(&self) -> bool;
    /// A block of the range, of the file `info` describes.
    fn block(&mut self, info: &FileInfo, raw: &RawBlock<'_>) -> Result<()>;
    /// The framing error that ended the walk: skipped and counted, or the error.
    fn broken(&mut self, e: NfError) -> Result<()>;
}

/// The walk over the blocks of one file (or of one byte range of it), from a window of the
/// file's bytes to a [`BlockSink`].
struct Walk {
    info: FileInfo,
    /// Byte range whose blocks this scan decodes.
    range: (u64, u64),
    /// Position and index of the next block header.
    cursor: (u64, u64),
    done: bool,
}

impl Walk {
    fn new(part: &Part) -> Self {
        Self {
            info: part.info.clone(),
            range: part.range,
            cursor: (part.info.first_block_offset, 0),
            done: false,
        }
    }

    /// Hands the blocks of `window` (the file's bytes from offset `base`) to `sink` until it
    /// is full, the range is done, or the window ends. After an error the range is done.
    fn fill(&mut self, window: &[u8], base: u64, sink: &mut impl BlockSink) -> Result<Fill> {
        if self.done {
            return Ok(Fill::Ready);
        }
        let filled = self.walk(window, base, sink);
        if filled.is_err() {
            self.done = true;
        }
        filled
    }

    fn walk(&mut self, window: &[u8], base: u64, sink: &mut impl BlockSink) -> Result<Fill> {
        while !sink.full() && !self.done {
            let (pos, index) = self.cursor;
            let mut blocks = Blocks::window(window, base, &self.info, pos, index);
            let next = blocks.next();
            self.cursor = blocks.position();
            if next.is_none()
                && let Some(upto) = blocks.needs()
                && self.cursor.0 < self.range.1
            {
                return Ok(Fill::Needs(upto));
            }
            match next {
                Some(Ok(raw)) if self.in_range(raw.offset) => sink.block(&self.info, &raw)?,
                Some(Ok(raw)) if raw.offset < self.range.0 => continue,
                // A framing error ends the walk; it is reported by the range it happens in.
                Some(Err(e)) if self.reports(e.offset) => {
                    self.done = true;
                    sink.broken(e)?;
                }
                _ => self.done = true,
            }
        }
        Ok(Fill::Ready)
    }

    fn in_range(&self, offset: u64) -> bool {
        offset >= self.range.0 && offset < self.range.1
    }

    /// Whether an error at `offset` is this range's to report: the range's last also
    /// reports a file whose blocks end past its end.
    fn reports(&self, offset: u64) -> bool {
        self.in_range(offset) || (offset >= self.range.0 && self.range.1 >= self.info.file_len)
    }
}

/// Decodes blocks into the rows of a batch.
struct BlockDecoder {
    name: String,
    decoding: Decoding,
    maps: ExtMaps,
    scratch: Vec<u8>,
    stats: DecodeStats,
    out: FlowColumns,
}

impl BlockSink for BlockDecoder {
    fn full(&self) -> bool {
        self.out.rows >= self.decoding.batch_size
    }

    fn block(&mut self, info: &FileInfo, raw: &RawBlock<'_>) -> Result<()> {
        let decoded = decode_block_with(
            info,
            raw,
            &self.decoding.projection,
            &mut self.maps,
            &mut self.out,
            &mut self.scratch,
            &mut self.stats,
        );
        match decoded {
            Ok(_) => Ok(()),
            Err(e) => self.broken(e),
        }
    }

    /// A corrupt block is counted with `skip_corrupt`, else an error naming the file (and
    /// the rows decoded before it are dropped).
    fn broken(&mut self, e: NfError) -> Result<()> {
        if !self.decoding.options.skip_corrupt {
            self.out.clear();
            return Err(nf_error(e, &self.name));
        }
        self.stats.blocks_corrupt += 1;
        self.stats.first_error.get_or_insert(e);
        Ok(())
    }
}

/// Decompression buffers of dropped decoders, for the next ones: a block decompresses to up to
/// 5 MiB, so a new buffer per file would be allocated, zeroed and faulted in each time (a day
/// of 288 small files spent about a quarter of its time there). At most [`SCRATCH_KEPT`].
static SCRATCH: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
const SCRATCH_KEPT: usize = 8;

impl Drop for BlockDecoder {
    fn drop(&mut self) {
        let scratch = std::mem::take(&mut self.scratch);
        let mut kept = lock(&SCRATCH);
        if scratch.capacity() > 0 && kept.len() < SCRATCH_KEPT {
            kept.push(scratch);
        }
    }
}

impl BlockDecoder {
    fn new(name: String, decoding: Decoding, maps: ExtMaps) -> Self {
        let out = FlowColumns {
            filter: decoding.options.nets.row_filter(),
            ..FlowColumns::default()
        };
        Self {
            name,
            decoding,
            maps,
            scratch: lock(&SCRATCH).pop().unwrap_or_default(),
            stats: DecodeStats::default(),
            out,
        }
    }

    /// The rows decoded so far (the records in the pushed nets) as a batch, `None` when there
    /// are none.
    fn batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.out.rows == 0 {
            return Ok(None);
        }
        to_batch(&mut self.out, &self.decoding.schema).map(Some)
    }

    /// Counts what the file's range gave and skipped.
    fn finish(&mut self) {
        let stats = std::mem::take(&mut self.stats);
        self.decoding.metrics.count(&self.name, stats);
    }
}

/// The blocks of about a batch, gathered by the walk over a remote file's bytes for a worker:
/// each block's header and payload (a slice of the received bytes, not a copy).
struct Job {
    blocks: Vec<(RawBlock<'static>, Bytes)>,
    rows: usize,
    batch_size: usize,
    /// The framing error that ended the walk after these blocks.
    broken: Option<NfError>,
    /// The bytes the walk is over (the blocks' payloads are slices of them).
    window: Bytes,
}

impl Job {
    fn new(batch_size: usize) -> Self {
        Self {
            blocks: Vec::new(),
            rows: 0,
            batch_size,
            broken: None,
            window: Bytes::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.broken.is_none()
    }
}

impl BlockSink for Job {
    fn full(&self) -> bool {
        self.rows >= self.batch_size
    }

    fn block(&mut self, _info: &FileInfo, raw: &RawBlock<'_>) -> Result<()> {
        let payload = self.window.slice_ref(raw.payload);
        self.blocks.push((
            RawBlock {
                payload: &[],
                ..*raw
            },
            payload,
        ));
        self.rows += raw.num_records as usize;
        Ok(())
    }

    fn broken(&mut self, e: NfError) -> Result<()> {
        self.broken = Some(e);
        Ok(())
    }
}

/// Decodes the [`Job`]s of one remote file.
struct JobDecoder {
    info: FileInfo,
    name: String,
    decoding: Decoding,
    /// Layout 1 extension maps, carried from job to job (jobs of layout 1 run one at a time).
    maps: Mutex<ExtMaps>,
}

impl JobDecoder {
    /// The batch of `job`'s blocks (none when they hold no flows), and what they counted.
    fn decode(&self, job: Job) -> Result<(Option<RecordBatch>, DecodeStats)> {
        let layout1 = self.info.layout == Layout::V1;
        let maps = match layout1 {
            true => std::mem::take(&mut *lock(&self.maps)),
            false => ExtMaps::new(),
        };
        let mut decoder = BlockDecoder::new(self.name.clone(), self.decoding.clone(), maps);
        self.decode_blocks(job, &mut decoder)?;
        if layout1 {
            *lock(&self.maps) = std::mem::take(&mut decoder.maps);
        }
        let batch = decoder.batch()?;
        Ok((batch, std::mem::take(&mut decoder.stats)))
    }

    fn decode_blocks(&self, job: Job, decoder: &mut BlockDecoder) -> Result<()> {
        for (header, payload) in &job.blocks {
            let raw = RawBlock { payload, ..*header };
            decoder.block(&self.info, &raw)?;
        }
        match job.broken {
            Some(e) => decoder.broken(e),
            None => Ok(()),
        }
    }
}

/// The value in `m`, also after a panic while it was held (the job that panicked fails the
/// scan; what it left is still a valid value).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
