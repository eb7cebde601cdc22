//! csv_flow and nfdump pipe text read as DataFusion reads a file: the reader's `TextSource`
//! opens it from an object store that hands the bytes over in small chunks (so lines split
//! across chunks are exercised), and the batches are drained.

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::common::DataFusionError;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion_datasource::file::FileSource;
use datafusion_datasource::file_scan_config::FileScanConfigBuilder;
use datafusion_datasource::{PartitionedFile, TableSchema};
use flow_provider::text::LineFormat;
use flow_provider::text::source::TextSource;
use futures::StreamExt;
use futures::executor::block_on;
use futures::stream::BoxStream;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use std::fmt;
use std::sync::Arc;

/// An in-memory store whose reads come in chunks of `chunk` bytes, as a network or file
/// stream's do.
#[derive(Debug)]
struct ChunkedStore {
    inner: InMemory,
    chunk: usize,
}

impl fmt::Display for ChunkedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkedStore({})", self.chunk)
    }
}

#[async_trait]
impl ObjectStore for ChunkedStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let mut result = self.inner.get_opts(location, options).await?;
        let chunk = self.chunk.max(1);
        let GetResultPayload::Stream(stream) = result.payload else {
            unreachable!("InMemory returns streams")
        };
        result.payload = GetResultPayload::Stream(
            stream
                .flat_map(move |r| {
                    let pieces: Vec<object_store::Result<Bytes>> = match r {
                        Ok(bytes) => (0..bytes.len())
                            .step_by(chunk)
                            .map(|at| Ok(bytes.slice(at..(at + chunk).min(bytes.len()))))
                            .collect(),
                        Err(e) => vec![Err(e)],
                    };
                    futures::stream::iter(pieces)
                })
                .boxed(),
        );
        Ok(result)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// Reads `data` as a whole file of `format` and checks the outcome: either every non-blank line
/// became a row, or the error names the file and the line.
pub fn read_text(format: LineFormat, data: &[u8]) {
    let h = crate::fnv(data);
    let chunk = 1 + (h % 97) as usize;
    let batch_size = 1 + ((h >> 8) % 9) as usize;
    let name = format!("fuzz-input.{}", format.name());
    let location = Path::from(name.as_str());
    let store = Arc::new(ChunkedStore {
        inner: InMemory::new(),
        chunk,
    });
    block_on(store.put(&location, PutPayload::from(data.to_vec()))).expect("in-memory put");
    let source =
        TextSource::new(format, TableSchema::from(format.schema())).with_batch_size(batch_size);
    let config =
        FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), source.clone()).build();
    let opener = source
        .create_file_opener(store, &config, 0)
        .expect("the text source always gives an opener");
    let result = block_on(async {
        let mut batches = opener
            .open(PartitionedFile::new(name.clone(), data.len() as u64))?
            .await?;
        let mut rows = 0;
        while let Some(batch) = batches.next().await {
            rows += batch?.num_rows();
        }
        Ok::<usize, DataFusionError>(rows)
    });
    match result {
        Ok(rows) => {
            // Every line was UTF-8 (each is checked), so the whole input is.
            let text = std::str::from_utf8(data).expect("accepted input is UTF-8");
            let lines = text.split('\n').filter(|l| !l.trim().is_empty()).count();
            assert_eq!(rows, lines, "rows lost or invented");
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&name) && msg.contains(": line "),
                "error without the file name and line: {msg}"
            );
        }
    }
}
