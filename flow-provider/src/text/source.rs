//! Reading text flow files: a `FileOpener` (its `FileSource` is [`TextSource`], the shared
//! [`FlowSource`] over a [`LineFormat`]) that streams a file's bytes from the object store (local
//! or remote alike), splits lines and parses them into batches.
//!
//! A large file is split into byte ranges read by different partitions, locally and in a store
//! alike, through DataFusion's own ranged CSV reading ([`AlignedBoundaryStream`]: a range reads
//! the lines that start in it, by one ranged GET that reaches the end of its last line). A
//! range that starts the file numbers its lines in errors; a later one does not know how many
//! lines precede it and names the line by its byte offset instead.

use super::parse::{LineFormat, LineParser};
use crate::listing::{FlowSource, OpenerArgs, OpenerFactory, file_display_name};
use arrow::array::RecordBatch;
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion_datasource::PartitionedFile;
use datafusion_datasource::boundary_stream::AlignedBoundaryStream;
use datafusion_datasource::file_stream::{FileOpenFuture, FileOpener};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;

/// The `FileSource` of csv_flow and pipe files.
pub type TextSource = FlowSource<LineFormat>;

impl OpenerFactory for LineFormat {
    fn file_type(&self) -> &'static str {
        self.name()
    }

    /// A range reads the lines that start in it, in a local file or an object alike.
    fn splits_files(&self, _local: bool) -> bool {
        true
    }

    fn opener(&self, scan: OpenerArgs) -> Result<Arc<dyn FileOpener>> {
        Ok(Arc::new(TextOpener {
            format: *self,
            columns: scan.columns.to_vec(),
            batch_size: scan.batch_size,
            store: scan.store,
            store_url: scan.store_url.clone(),
        }))
    }
}

struct TextOpener {
    format: LineFormat,
    /// The file columns the projection needs; the opener emits only these.
    columns: Vec<usize>,
    batch_size: usize,
    store: Arc<dyn ObjectStore>,
    store_url: ObjectStoreUrl,
}

impl FileOpener for TextOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = self.store.clone();
        let format = self.format;
        let batch_size = self.batch_size;
        let columns = self.columns.clone();
        let name = file_display_name(&self.store_url, &file.object_meta.location);
        Ok(Box::pin(async move {
            let location = file.object_meta.location.clone();
            let size = file.object_meta.size;
            let read_error =
                |e: object_store::Error| DataFusionError::Execution(format!("{name}: {e}"));
            // A whole file is the range of all its bytes (read the same way: a local file by
            // blocking reads in place, an object by one GET).
            let (start, end) = file
                .range
                .map_or((0, size), |r| (r.start.max(0) as u64, r.end.max(0) as u64));
            let aligned = AlignedBoundaryStream::new(
                store.clone(),
                location.clone(),
                start,
                end,
                size,
                b'\n',
            );
            let chunks = aligned.await.map_err(read_error)?;
            let origin = match start {
                0 => Origin::FileStart,
                _ => Origin::Range {
                    store,
                    location,
                    start,
                    size,
                },
            };
            let chunks = chunks.map_err(Into::into).boxed();
            let batches = parse_stream(chunks, format, batch_size, name, origin);
            Ok(batches.map(move |b| Ok(b?.project(&columns)?)).boxed())
        }))
    }
}

/// Where the lines a partition parses start: at the start of the file (its lines are
/// numbered), or after the first line end at or after byte `start - 1` (they are named by
/// their byte offset).
enum Origin {
    FileStart,
    Range {
        store: Arc<dyn ObjectStore>,
        location: Path,
        start: u64,
        size: u64,
    },
}

impl Origin {
    /// How an error names the line numbered `line_no` by the partition, `pos` bytes into
    /// what it parses (found by reads from `start - 1` on: errors only).
    async fn name_line(&self, line_no: u64, pos: u64) -> Result<String> {
        let Origin::Range {
            store,
            location,
            start,
            size,
        } = self
        else {
            return Ok(format!("line {line_no}"));
        };
        let mut at = start - 1;
        while at < *size {
            let end = (at + (64 << 10)).min(*size);
            let bytes = store.get_range(location, at..end).await?;
            if let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
                return Ok(format!("the line at byte {}", at + nl as u64 + 1 + pos));
            }
            at = end;
        }
        Ok(format!("a line after byte {start}"))
    }
}

/// State of the line splitter between chunks.
struct Lines {
    chunks: BoxStream<'static, Result<Bytes>>,
    parser: LineParser,
    carry: Vec<u8>,
    line_no: u64,
    /// Bytes of the lines parsed so far: where the next one starts in what is parsed.
    pos: u64,
    batch_size: usize,
    file: String,
    origin: Origin,
    done: bool,
}

/// A line that does not parse: what is wrong with it, and where it is.
struct BadLine {
    line_no: u64,
    pos: u64,
    msg: String,
}

impl Lines {
    fn parse_line(&mut self, line: &[u8]) -> std::result::Result<(), BadLine> {
        self.line_no += 1;
        let parsed = match std::str::from_utf8(line) {
            Ok(text) => self.parser.push_line(text),
            Err(_) => Err("is not valid UTF-8".into()),
        };
        let bad = |msg| BadLine {
            line_no: self.line_no,
            pos: self.pos,
            msg,
        };
        parsed.map_err(bad)?;
        self.pos += line.len() as u64 + 1;
        Ok(())
    }

    /// The error for `bad`, naming the file and the line.
    async fn error(&mut self, bad: BadLine) -> DataFusionError {
        let name = self.parser.format().name();
        match self.origin.name_line(bad.line_no, bad.pos).await {
            Ok(line) => DataFusionError::Execution(format!(
                "{name} file {}: {line}: {}",
                self.file, bad.msg
            )),
            Err(e) => e,
        }
    }

    /// Parses every complete line of `chunk` (plus the carried partial line).
    fn feed(&mut self, chunk: &[u8]) -> std::result::Result<(), BadLine> {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if self.carry.is_empty() {
                self.parse_line(&rest[..nl])?;
            } else {
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(&rest[..nl]);
                self.parse_line(&line)?;
            }
            rest = &rest[nl + 1..];
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    /// Parses lines until a batch is full or the input ends.
    async fn fill(&mut self) -> Result<()> {
        while !self.done && self.parser.rows() < self.batch_size {
            let parsed = match self.chunks.next().await {
                Some(chunk) => self.feed(&chunk?),
                None => {
                    self.done = true;
                    let last = std::mem::take(&mut self.carry);
                    match last.is_empty() {
                        true => Ok(()),
                        false => self.parse_line(&last),
                    }
                }
            };
            if let Err(bad) = parsed {
                return Err(self.error(bad).await);
            }
        }
        Ok(())
    }
}

fn parse_stream(
    chunks: BoxStream<'static, Result<Bytes>>,
    format: LineFormat,
    batch_size: usize,
    file: String,
    origin: Origin,
) -> BoxStream<'static, Result<RecordBatch>> {
    let state = Lines {
        chunks,
        parser: LineParser::new(format),
        carry: Vec::new(),
        line_no: 0,
        pos: 0,
        batch_size,
        file,
        origin,
        done: false,
    };
    futures::stream::try_unfold(state, |mut s| async move {
        s.fill().await?;
        if s.parser.rows() == 0 {
            return Ok(None);
        }
        let batch = s.parser.take_batch()?;
        Ok(Some((batch, s)))
    })
    .boxed()
}
