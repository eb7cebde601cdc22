//! `flow-models compress` and `flow-models decompress`: the column files of a trace compressed
//! or decompressed in place, one field after another, each replaced safely (see
//! `flow_provider::binary::compress`).

use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result};
use flow_provider::binary::compress::{
    CompressOptions, FieldChange, compress_trace, decompress_trace,
};
use flow_provider::binary::compressed::Codec;
use std::path::PathBuf;

/// A compression format (the CLI tool that reads it).
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum CodecArg {
    /// `.zst`, with a seek table (zstd's seekable format)
    Zstd,
    /// `.xz`, a stream per frame
    Xz,
    /// `.gz`
    #[value(alias = "gzip")]
    Gz,
    /// `.bz2`
    #[value(alias = "bzip2")]
    Bz2,
    /// `.lz4` (lz4 frame format)
    Lz4,
}

impl From<CodecArg> for Codec {
    fn from(c: CodecArg) -> Codec {
        match c {
            CodecArg::Zstd => Codec::Zstd,
            CodecArg::Xz => Codec::Xz,
            CodecArg::Gz => Codec::Gzip,
            CodecArg::Bz2 => Codec::Bzip2,
            CodecArg::Lz4 => Codec::Lz4,
        }
    }
}

/// Compress the column files of a binary trace in place (read in place by every tool).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # the bulky fields of a trace as zstd (octets.Q -> octets.Q.zst ...)\n  \
    flow-models compress trace octets packets first last sa0 da0\n\n  \
    # every field, xz at level 9\n  \
    flow-models compress --codec xz --level 9 trace\n\n\
    Every tool reads a trace with compressed fields as it is, decompressing only the columns\n\
    a query needs, batch by batch. Files are made of frames of 2^20 rows; a scan splits zstd,\n\
    xz, lz4 and gz files over the cores by frame (as it splits `xz -T0` and `bgzip` files);\n\
    bz2 streams do not say their size, so a bz2 column is read by one partition, its streams\n\
    decoded ahead on all cores. The files are those of the ordinary CLI tools:\n\
    `zstd -d octets.Q.zst` gives back octets.Q.\n\
    The in-memory sort holds a compressed column decompressed (within --memory-limit);\n\
    merge and every other tool stream it.\n\n\
    Each file is written under a temporary name, synced and renamed into place before the\n\
    plain one is removed: a kill leaves every field complete in at least one form (a query\n\
    then fails naming both files), and running the command again finishes the job.")]
pub struct Args {
    /// The trace directory
    pub trace: PathBuf,
    /// Fields to compress (all when none is named)
    pub fields: Vec<String>,
    /// Compression format
    #[arg(long, value_enum, default_value = "zstd")]
    pub codec: CodecArg,
    /// Compression level (the codec's default when not given: zstd 3, xz 6, gz 6, bz2 9;
    /// lz4 has one level)
    #[arg(long)]
    pub level: Option<u32>,
    /// Rows per independently compressed frame (what a scan of zstd splits at)
    #[arg(long, default_value_t = flow_provider::binary::compress::FRAME_ROWS)]
    pub frame_rows: usize,
}

/// Decompress the column files of a binary trace in place (byte for byte the original files).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # every compressed field of a trace back to plain files\n  \
    flow-models decompress trace\n\n  \
    # only octets (octets.Q.zst -> octets.Q)\n  \
    flow-models decompress trace octets")]
pub struct DecompressArgs {
    /// The trace directory
    pub trace: PathBuf,
    /// Fields to decompress (all when none is named)
    pub fields: Vec<String>,
}

pub async fn run(args: Args) -> Result<()> {
    let mut options = CompressOptions::new(args.codec.into());
    options.level = args.level;
    options.frame_rows = args.frame_rows.max(1);
    let (trace, fields) = (args.trace, args.fields);
    let total = trace_bytes(&trace);
    let changes = blocking(move || {
        let bar = crate::progress::bytes(total);
        let done = compress_trace(&trace, &fields, options, &|n| bar.inc(n));
        bar.finish_and_clear();
        done
    })
    .await?;
    report("compress", &changes);
    Ok(())
}

pub async fn run_decompress(args: DecompressArgs) -> Result<()> {
    let (trace, fields) = (args.trace, args.fields);
    let changes = blocking(move || {
        let bar = crate::progress::bytes(None);
        let done = decompress_trace(&trace, &fields, &|n| bar.inc(n));
        bar.finish_and_clear();
        done
    })
    .await?;
    report("decompress", &changes);
    Ok(())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    SpawnedTask::spawn_blocking(f)
        .join_unwind()
        .await
        .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?
}

/// Bytes of the plain files of the trace (what `compress` reads), for the bar.
fn trace_bytes(trace: &std::path::Path) -> Option<u64> {
    let entries = std::fs::read_dir(trace).ok()?;
    Some(
        entries
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum(),
    )
}

fn report(tool: &str, changes: &[FieldChange]) {
    if changes.is_empty() {
        eprintln!("flow-models {tool}: nothing to do");
    }
    for c in changes {
        eprintln!(
            "flow-models {tool}: {}: {} -> {} bytes",
            c.field, c.before, c.after
        );
    }
}
