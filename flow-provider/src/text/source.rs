//! Reading text flow files: a `FileOpener` (its `FileSource` is [`TextSource`], the shared
//! [`FlowSource`] over a [`LineFormat`]) that streams a file's bytes from the object store (local
//! or remote alike), splits lines and parses them into batches.

use super::parse::{LineFormat, LineParser};
use crate::listing::{FlowSource, OpenerArgs, OpenerFactory, file_display_name};
use arrow::array::RecordBatch;
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion_datasource::PartitionedFile;
use datafusion_datasource::file_stream::{FileOpenFuture, FileOpener};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;

/// The `FileSource` of csv_flow and pipe files.
pub type TextSource = FlowSource<LineFormat>;

impl OpenerFactory for LineFormat {
    fn file_type(&self) -> &'static str {
        self.name()
    }

    /// Lines do not align with byte ranges, so each file is read whole by one partition
    /// (several files are still read in parallel).
    fn splits_files(&self) -> bool {
        false
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
            let chunks = store
                .get(&location)
                .await
                .map_err(|e| DataFusionError::Execution(format!("{name}: {e}")))?
                .into_stream();
            let batches =
                parse_stream(chunks.map_err(Into::into).boxed(), format, batch_size, name);
            Ok(batches.map(move |b| Ok(b?.project(&columns)?)).boxed())
        }))
    }
}

/// State of the line splitter between chunks.
struct Lines {
    chunks: BoxStream<'static, Result<Bytes>>,
    parser: LineParser,
    carry: Vec<u8>,
    line_no: u64,
    batch_size: usize,
    file: String,
    done: bool,
}

impl Lines {
    fn parse_line(&mut self, line: &[u8]) -> Result<()> {
        self.line_no += 1;
        let text =
            std::str::from_utf8(line).map_err(|_| self.error("is not valid UTF-8".into()))?;
        self.parser.push_line(text).map_err(|m| self.error(m))
    }

    fn error(&self, msg: String) -> DataFusionError {
        DataFusionError::Execution(format!(
            "{} file {}: line {}: {msg}",
            self.parser_name(),
            self.file,
            self.line_no
        ))
    }

    fn parser_name(&self) -> &'static str {
        self.parser.format().name()
    }

    /// Parses every complete line of `chunk` (plus the carried partial line).
    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
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
}

fn parse_stream(
    chunks: BoxStream<'static, Result<Bytes>>,
    format: LineFormat,
    batch_size: usize,
    file: String,
) -> BoxStream<'static, Result<RecordBatch>> {
    let state = Lines {
        chunks,
        parser: LineParser::new(format),
        carry: Vec::new(),
        line_no: 0,
        batch_size,
        file,
        done: false,
    };
    futures::stream::try_unfold(state, |mut s| async move {
        while !s.done && s.parser.rows() < s.batch_size {
            match s.chunks.next().await {
                Some(chunk) => s.feed(&chunk?)?,
                None => {
                    s.done = true;
                    if !s.carry.is_empty() {
                        let last = std::mem::take(&mut s.carry);
                        s.parse_line(&last)?;
                    }
                }
            }
        }
        if s.parser.rows() == 0 {
            return Ok(None);
        }
        let batch = s.parser.take_batch()?;
        Ok(Some((batch, s)))
    })
    .boxed()
}
