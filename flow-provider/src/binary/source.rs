//! The bytes of a column file, one way for both places a trace can be: a local file is mapped
//! (zero-copy: the arrays are the page-cache pages), an object in a store is fetched by range
//! (only the rows a scan needs). The scan asks for rows and gets a buffer that holds them.

use super::dir::{ColumnFile, Location};
use super::mmap::map_file;
use crate::store::Object;
use arrow::buffer::Buffer;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ObjectStoreExt;
use std::ops::Range;

/// Rows of one column: `buffer` holds rows `first_row..` of the file.
#[derive(Debug, Clone)]
pub struct ColumnRows {
    pub buffer: Buffer,
    pub first_row: usize,
}

/// Rows `rows` of `column` (or more of them: a mapped file is handed over whole). A remote
/// object is fetched with one ranged GET; an object shorter than listed (replaced or
/// truncated since) is an error naming it, never a shorter column.
pub async fn read_rows(
    runtime: &RuntimeEnv,
    column: &ColumnFile,
    rows: Range<usize>,
) -> Result<ColumnRows> {
    let url = match &column.location {
        Location::Local(path) => {
            return Ok(ColumnRows {
                buffer: map_file(path)?,
                first_row: 0,
            });
        }
        Location::Remote(url) => url,
    };
    let object = Object::resolve(runtime, url)?
        .ok_or_else(|| DataFusionError::Internal(format!("{url} is not a URL")))?;
    let width = column.width();
    let range = (rows.start * width) as u64..(rows.end * width) as u64;
    let bytes = object
        .store
        .get_range(&object.key, range.clone())
        .await
        .map_err(|e| fetch_error(url, &range, e))?;
    if bytes.len() as u64 != range.end - range.start {
        return Err(DataFusionError::Execution(format!(
            "flowbin: {url}: bytes {}..{} asked, {} received: the object is shorter than when \
             the table was made (replaced or truncated?)",
            range.start,
            range.end,
            bytes.len()
        )));
    }
    let mut buffer = Buffer::from(bytes);
    // A slice of a network buffer may start anywhere; Arrow needs the type's alignment.
    if buffer.as_ptr().align_offset(width.max(1)) != 0 {
        buffer = Buffer::from_slice_ref(buffer.as_slice());
    }
    Ok(ColumnRows {
        buffer,
        first_row: rows.start,
    })
}

fn fetch_error(url: &str, range: &Range<u64>, e: object_store::Error) -> DataFusionError {
    DataFusionError::Execution(format!(
        "flowbin: {url}: cannot read bytes {}..{}: {e}",
        range.start, range.end
    ))
}
