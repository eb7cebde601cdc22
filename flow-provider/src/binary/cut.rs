//! Cutting a binary trace by record range without decoding it, as flow-models' `cut` does with
//! `dd`: each column file's byte range is copied (by the kernel's `copy_file_range` where the
//! file system allows), every file keeping its name (`_field.dtype` key files included) and
//! type. The output directory appears whole or not at all ([`AtomicDir`]).

use super::compressed::ColumnReader;
use super::dir::discover;
use super::writer::only_trace_files;
use crate::atomic::AtomicDir;
use datafusion::common::{DataFusionError, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("cut: {what} {}: {e}", path.display()))
}

/// Copies records `skip .. skip + count` (all after `skip` when `count` is `None`; both clipped
/// to the trace) of the single trace at `input` into a new trace at `output`. Returns the
/// number of records written.
pub fn cut_trace(input: &Path, output: &Path, skip: usize, count: Option<usize>) -> Result<u64> {
    let traces = discover(input)?;
    let [trace] = traces.as_slice() else {
        return Err(DataFusionError::Plan(format!(
            "cut: {} holds {} traces; cut copies one (convert reads several)",
            input.display(),
            traces.len()
        )));
    };
    let start = skip.min(trace.rows);
    let rows = count.map_or(trace.rows - start, |c| c.min(trace.rows - start));
    let dir = AtomicDir::create(output, only_trace_files)?;
    for column in &trace.columns {
        let width = column.width() as u64;
        let path = column.location.local("cut")?;
        let (from, want) = (start as u64 * width, rows as u64 * width);
        // A compressed column is cut into a plain one (the name without the codec's extension).
        let name = match column.compression {
            None => path.file_name(),
            Some(_) => path.file_stem(),
        };
        let target = dir.path().join(name.unwrap_or_default());
        let mut dst = File::create(&target).map_err(|e| io_err("cannot create", &target, e))?;
        let copied = match &column.compression {
            None => {
                let mut src = File::open(path).map_err(|e| io_err("cannot open", path, e))?;
                src.seek(SeekFrom::Start(from))
                    .map_err(|e| io_err("cannot seek in", path, e))?;
                std::io::copy(&mut src.take(want), &mut dst)
                    .map_err(|e| io_err("copying", path, e))?
            }
            Some(z) => {
                let mut src = ColumnReader::open(column, z, from)?;
                let mut left = want;
                while left > 0 {
                    let n = left.min(1 << 20);
                    dst.write_all(src.read_buffer(n as usize)?.as_slice())
                        .map_err(|e| io_err("cannot write", &target, e))?;
                    left -= n;
                }
                want
            }
        };
        if copied != want {
            return Err(io_err(
                "short read of",
                path,
                std::io::Error::other(format!("{copied} of {want} bytes (changed while read?)")),
            ));
        }
        dst.sync_all()
            .map_err(|e| io_err("cannot sync", &target, e))?;
    }
    dir.commit()?;
    Ok(rows as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, values: &[u32]) {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    #[test]
    fn a_range_of_every_column_with_its_name() {
        let tmp = tempfile::tempdir().unwrap();
        let (input, output) = (tmp.path().join("in"), tmp.path().join("out"));
        std::fs::create_dir(&input).unwrap();
        write(&input, "first.I", &[10, 11, 12, 13, 14]);
        write(&input, "_sp.I", &[20, 21, 22, 23, 24]);
        assert_eq!(cut_trace(&input, &output, 1, Some(3)).unwrap(), 3);
        let read = |n: &str| std::fs::read(output.join(n)).unwrap();
        let ne = |v: &[u32]| v.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
        assert_eq!(read("first.I"), ne(&[11, 12, 13]));
        assert_eq!(read("_sp.I"), ne(&[21, 22, 23]));
        // Past the end: clipped, as dd does.
        assert_eq!(cut_trace(&input, &output, 4, Some(10)).unwrap(), 1);
        assert_eq!(read("first.I"), ne(&[14]));
        assert_eq!(cut_trace(&input, &output, 9, None).unwrap(), 0);
        assert!(read("first.I").is_empty());
    }
}
