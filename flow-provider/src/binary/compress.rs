//! Compressing and decompressing the column files of a trace in place (`flow-models compress`,
//! `flow-models decompress`), safely: the new form of a field is written under a temporary name,
//! synced and renamed into place ([`AtomicFile`]), and only then is the old form removed. A kill
//! at any moment leaves every field complete in at least one form; while both forms are there a
//! query fails naming both files (never a wrong answer), and running the command again checks
//! that the two hold the same values and removes the old one.
//!
//! A column is compressed in independent frames of [`FRAME_ROWS`] rows, compressed in parallel
//! and concatenated, which every codec's CLI decompresses as one file. zstd frames carry their
//! content size and the file ends with a seek table (zstd's seekable format, in a skippable
//! frame the `zstd` CLI passes over), so a scan splits the column by frame.

use super::compressed::{Codec, ColumnReader, Compression};
use super::dir::ColumnFile;
use super::frames::GZIP_LENGTH_FIELD;
use super::mmap::map_file;
use crate::FlowError;
use crate::atomic::AtomicFile;
use datafusion::common::{DataFusionError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Rows per independently compressed frame: 8 MiB of a 64-bit column, 128 frames for the 50 M
/// trace's columns (enough to share among cores, few enough that a seek table is tiny).
pub const FRAME_ROWS: usize = 1 << 20;

/// How columns are compressed (plain data: a sink that compresses ships it to executors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompressOptions {
    pub codec: Codec,
    /// The codec's level (its default when `None`).
    pub level: Option<u32>,
    /// Rows per independently compressed frame.
    #[serde(default = "default_frame_rows")]
    pub frame_rows: usize,
}

fn default_frame_rows() -> usize {
    FRAME_ROWS
}

impl CompressOptions {
    pub fn new(codec: Codec) -> Self {
        CompressOptions {
            codec,
            level: None,
            frame_rows: FRAME_ROWS,
        }
    }

    /// The options of a writer's `compression` / `compression_level` /
    /// `compression_frame_rows` options (`none`: `None`).
    pub fn parse(
        codec: &str,
        level: Option<&str>,
        frame_rows: Option<&str>,
    ) -> Result<Option<Self>> {
        let codec = match codec.to_ascii_lowercase().as_str() {
            "none" | "" => return Ok(None),
            "zstd" | "zst" => Codec::Zstd,
            "gzip" | "gz" => Codec::Gzip,
            "xz" => Codec::Xz,
            "bzip2" | "bz2" => Codec::Bzip2,
            "lz4" => Codec::Lz4,
            other => {
                return Err(plan_err(format!(
                    "compression '{other}': expected zstd, xz, gz, bz2, lz4 or none"
                )));
            }
        };
        let number = |what: &str, value: Option<&str>| {
            value
                .map(|v| match v.parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(plan_err(format!("{what} '{v}' is not a positive number"))),
                })
                .transpose()
        };
        Ok(Some(CompressOptions {
            level: number("compression level", level)?.map(|l| l as u32),
            frame_rows: number("compression frame rows", frame_rows)?.unwrap_or(FRAME_ROWS),
            codec,
        }))
    }
}

/// Compresses the plain column file `path` (a file of a trace being written, not yet visible)
/// into `{path}.{ext}` and removes `path`.
pub fn compress_new_file(path: &Path, options: CompressOptions) -> Result<()> {
    let column = column_file(path)?;
    compress_file(
        &column,
        &with_ext(path, options.codec.ext()),
        options,
        &|_| {},
    )?;
    std::fs::remove_file(path).map_err(|e| io_err("cannot remove", path, e))
}

/// What one command did to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    /// Bytes on disk before and after.
    pub before: u64,
    pub after: u64,
}

fn io_err(what: &'static str, path: &Path, e: std::io::Error) -> DataFusionError {
    FlowError::io(what, path, e).into()
}

fn plan_err(msg: String) -> DataFusionError {
    DataFusionError::Plan(msg)
}

/// The column files of the trace at `dir` (a tool that changes a trace in place takes one), by
/// field: twins (a field both plain and compressed, left by a killed run) under one field.
fn trace_files(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>> {
    // Listed here, not discovered: discovery fails on twins, and would probe every
    // compressed file only to be told how many traces there are.
    let mut fields: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| io_err("cannot read", dir, e))?;
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((field, _, _)) = super::dir::parse_file_name(name) else {
            continue;
        };
        match fields.iter_mut().find(|(f, _)| f == field) {
            Some((_, files)) => files.push(path.clone()),
            None => fields.push((field.to_string(), vec![path.clone()])),
        }
    }
    if fields.is_empty() {
        return Err(plan_err(format!(
            "{}: holds no flow-models column files (name one trace directory)",
            dir.display()
        )));
    }
    Ok(fields)
}

/// A column file as discovery would describe it.
fn column_file(path: &Path) -> Result<ColumnFile> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (field, dtype, codec) = super::dir::parse_file_name(name)
        .ok_or_else(|| plan_err(format!("{}: not a column file", path.display())))?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| io_err("cannot read", path, e))?
        .len();
    Ok(ColumnFile {
        field: field.to_string(),
        dtype,
        location: super::dir::Location::Local(path.to_path_buf()),
        bytes,
        compression: codec.map(|c| Compression::probe(c, path)).transpose()?,
    })
}

/// The fields named (all when none is), each with its files, checked to exist.
fn selected<'a>(
    all: &'a [(String, Vec<PathBuf>)],
    fields: &[String],
    dir: &Path,
) -> Result<Vec<&'a (String, Vec<PathBuf>)>> {
    if fields.is_empty() {
        return Ok(all.iter().collect());
    }
    fields
        .iter()
        .map(|f| {
            all.iter().find(|(name, _)| name == f).ok_or_else(|| {
                let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
                plan_err(format!(
                    "{}: no field '{f}' (fields: {})",
                    dir.display(),
                    names.join(", ")
                ))
            })
        })
        .collect()
}

/// Compresses `fields` (all when empty) of the trace at `dir` in place with `options`; fields
/// already compressed are left as they are. `progress` is told the input bytes done.
pub fn compress_trace(
    dir: &Path,
    fields: &[String],
    options: CompressOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<FieldChange>> {
    change_trace(dir, fields, Some(options), progress)
}

/// Decompresses `fields` (all when empty) of the trace at `dir` in place, restoring the plain
/// files byte for byte; plain fields are left as they are.
pub fn decompress_trace(
    dir: &Path,
    fields: &[String],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<FieldChange>> {
    change_trace(dir, fields, None, progress)
}

/// Compresses (`Some` options) or decompresses the fields; twins a killed run left (both forms
/// present: the new one was complete when renamed into place) are checked and finished.
fn change_trace(
    dir: &Path,
    fields: &[String],
    compress: Option<CompressOptions>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<FieldChange>> {
    let all = trace_files(dir)?;
    let mut changes = Vec::new();
    for (field, files) in selected(&all, fields, dir)? {
        let plain = files.iter().find(|p| is_plain(p));
        let packed = files.iter().find(|p| !is_plain(p));
        let change = match (plain, packed, compress) {
            (Some(plain), Some(packed), _) => {
                same_values(plain, packed)?;
                match compress {
                    Some(_) => finish(field, plain, packed)?,
                    None => finish(field, packed, plain)?,
                }
            }
            (Some(plain), None, Some(options)) => {
                let target = with_ext(plain, options.codec.ext());
                compress_file(&column_file(plain)?, &target, options, progress)?;
                finish(field, plain, &target)?
            }
            (None, Some(packed), None) => {
                let target = packed.with_extension("");
                decompress_file(&column_file(packed)?, &target, progress)?;
                finish(field, packed, &target)?
            }
            _ => continue,
        };
        changes.push(change);
    }
    Ok(changes)
}

/// What a column named as compressed is compressed with.
fn compression_of(column: &ColumnFile) -> Result<&Compression> {
    (column.compression.as_ref())
        .ok_or_else(|| DataFusionError::Internal(format!("{} is not compressed", column.location)))
}

fn is_plain(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    super::dir::parse_file_name(name).is_some_and(|(_, _, codec)| codec.is_none())
}

fn with_ext(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(ext);
    path.with_file_name(name)
}

/// Removes `old` now that `new` holds the field, and says what changed.
fn finish(field: &str, old: &Path, new: &Path) -> Result<FieldChange> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len());
    let before = size(old).map_err(|e| io_err("cannot read", old, e))?;
    let after = size(new).map_err(|e| io_err("cannot read", new, e))?;
    std::fs::remove_file(old).map_err(|e| io_err("cannot remove", old, e))?;
    sync_dir(old)?;
    Ok(FieldChange {
        field: field.to_string(),
        before,
        after,
    })
}

/// Syncs the directory holding `path`, so that a rename or removal in it is durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("cannot sync", dir, e))
}

/// Checks that the plain file `plain` and the compressed `packed` hold the same bytes (twins a
/// killed run left), else an error naming both.
fn same_values(plain: &Path, packed: &Path) -> Result<()> {
    let column = column_file(packed)?;
    let data = map_file(plain)?;
    let compression = compression_of(&column)?;
    let differ = || {
        plan_err(format!(
            "{} and {} hold the same field with different values: remove the wrong one",
            plain.display(),
            packed.display()
        ))
    };
    let mut reader = ColumnReader::open(&column, compression, 0)?;
    for chunk in data.as_slice().chunks(1 << 20) {
        if reader
            .read_buffer(chunk.len())
            .map_err(|_| differ())?
            .as_slice()
            != chunk
        {
            return Err(differ());
        }
    }
    reader.expect_end().map_err(|_| differ())
}

/// Compresses one frame of a column.
fn compress_frame(codec: Codec, level: Option<u32>, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    match codec {
        Codec::Zstd => {
            let level = level.map_or(zstd::DEFAULT_COMPRESSION_LEVEL, |l| l as i32);
            out = zstd::bulk::compress(data, level)?;
        }
        Codec::Gzip => {
            // A member that says its length in an extra field of its header (see
            // `frames::gzip_frames`; gzip tools pass over it), written once it is known.
            let level = flate2::Compression::new(level.unwrap_or(6));
            let extra = [GZIP_LENGTH_FIELD.as_slice(), &[4, 0, 0, 0, 0, 0]].concat();
            let mut e = flate2::GzBuilder::new().extra(extra).write(out, level);
            e.write_all(data)?;
            out = e.finish()?;
            let len = u32::try_from(out.len()).map_err(std::io::Error::other)?;
            out[16..20].copy_from_slice(&len.to_le_bytes());
        }
        Codec::Xz => {
            let mut e = liblzma::write::XzEncoder::new(out, level.unwrap_or(6));
            e.write_all(data)?;
            out = e.finish()?;
        }
        Codec::Bzip2 => {
            let level = bzip2::Compression::new(level.unwrap_or(9));
            let mut e = bzip2::write::BzEncoder::new(out, level);
            e.write_all(data)?;
            out = e.finish()?;
        }
        Codec::Lz4 => {
            let mut info = lz4_flex::frame::FrameInfo::new();
            info.content_size = Some(data.len() as u64);
            let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
            e.write_all(data)?;
            out = e.finish().map_err(std::io::Error::other)?;
        }
    }
    Ok(out)
}

/// Compresses `data` in frames of `frame_bytes`, [`available_parallelism`] frames at a time,
/// each on a thread of its own (`progress` told each frame's bytes); hands each compressed
/// frame to `emit` in order and returns the `(compressed, decompressed)` sizes of the frames.
/// A frame the codec fails on is the error `fail` makes.
///
/// [`available_parallelism`]: std::thread::available_parallelism
pub(crate) fn compress_in_frames(
    options: CompressOptions,
    data: &[u8],
    frame_bytes: usize,
    progress: &(dyn Fn(u64) + Sync),
    fail: &dyn Fn(std::io::Error) -> DataFusionError,
    emit: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<Vec<(u32, u32)>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let frames: Vec<&[u8]> = data.chunks(frame_bytes.max(1)).collect();
    let mut sizes = Vec::with_capacity(frames.len());
    for group in frames.chunks(threads) {
        let packed: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|s| {
            let jobs: Vec<_> = (group.iter())
                .map(|frame| {
                    s.spawn(move || {
                        let packed = compress_frame(options.codec, options.level, frame);
                        progress(frame.len() as u64);
                        packed
                    })
                })
                .collect();
            jobs.into_iter()
                .map(|j| {
                    j.join()
                        .unwrap_or_else(|_| Err(std::io::Error::other("panicked")))
                })
                .collect()
        });
        for (frame, packed) in group.iter().zip(packed) {
            let packed = packed.map_err(fail)?;
            emit(&packed)?;
            sizes.push((packed.len() as u32, frame.len() as u32));
        }
    }
    Ok(sizes)
}

/// What ends a file of frames of `(compressed, decompressed)` bytes: zstd's seek table (none
/// for a file of no frame), nothing for the other codecs.
pub(crate) fn file_end(codec: Codec, frames: &[(u32, u32)]) -> Vec<u8> {
    match codec {
        Codec::Zstd if !frames.is_empty() => seek_table(frames),
        _ => Vec::new(),
    }
}

/// The seek table of zstd's seekable format for frames of `(compressed, decompressed)` bytes.
fn seek_table(frames: &[(u32, u32)]) -> Vec<u8> {
    let mut t = Vec::with_capacity(8 + frames.len() * 8 + 9);
    t.extend_from_slice(&0x184D_2A5Eu32.to_le_bytes());
    t.extend_from_slice(&((frames.len() * 8 + 9) as u32).to_le_bytes());
    for (c, d) in frames {
        t.extend_from_slice(&c.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    t.extend_from_slice(&(frames.len() as u32).to_le_bytes());
    t.push(0); // no checksums
    t.extend_from_slice(&0x8F92_EAB1u32.to_le_bytes());
    t
}

/// Writes the plain column `column` compressed as the file `target` (atomically).
pub fn compress_file(
    column: &ColumnFile,
    target: &Path,
    options: CompressOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    let path = column.location.local("compress")?;
    let data = map_file(path)?;
    let frame_bytes = options.frame_rows.max(1) * column.width().max(1);
    let mut out = AtomicFile::create(target)?;
    let sizes = compress_in_frames(
        options,
        data.as_slice(),
        frame_bytes,
        progress,
        &|e| io_err("cannot compress", path, e),
        &mut |packed| (out.write_all(packed)).map_err(|e| io_err("cannot write", target, e)),
    )?;
    out.write_all(&file_end(options.codec, &sizes))
        .map_err(|e| io_err("cannot write", target, e))?;
    out.commit()?;
    sync_dir(target)
}

/// Writes the compressed column `column` decompressed as the file `target` (atomically).
pub fn decompress_file(
    column: &ColumnFile,
    target: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    let compression = compression_of(column)?;
    let mut reader = ColumnReader::open(column, compression, 0)?;
    let mut out = AtomicFile::create(target)?;
    let mut scratch = vec![0u8; 1 << 20];
    loop {
        let n = reader.read_some(&mut scratch)?;
        if n == 0 {
            break;
        }
        out.write_all(&scratch[..n])
            .map_err(|e| io_err("cannot write", target, e))?;
        progress(n as u64);
    }
    out.commit()?;
    sync_dir(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::compressed::{xz_len, zstd_frames};

    /// A column file of `values` (u64) at `dir/name`.
    fn column(dir: &Path, name: &str, values: &[u64]) -> ColumnFile {
        let path = dir.join(name);
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        std::fs::write(&path, bytes).unwrap();
        column_file(&path).unwrap()
    }

    fn options(codec: Codec, frame_rows: usize) -> CompressOptions {
        CompressOptions {
            frame_rows,
            ..CompressOptions::new(codec)
        }
    }

    #[test]
    fn zstd_frames_from_the_seek_table_and_from_the_headers() {
        let tmp = tempfile::tempdir().unwrap();
        let values: Vec<u64> = (0..95).map(|i| i * i * 1_000_003).collect();
        let plain = column(tmp.path(), "x.Q", &values);
        let target = tmp.path().join("x.Q.zst");
        compress_file(&plain, &target, options(Codec::Zstd, 10), &|_| {}).unwrap();
        let data = std::fs::read(&target).unwrap();
        let frames = zstd_frames(&data).unwrap();
        let lens: Vec<u64> = frames.iter().map(|f| f.len).collect();
        assert_eq!(lens, [vec![80; 9], vec![40]].concat());
        for f in &frames {
            let at = f.offset as usize;
            assert_eq!(data[at..at + 4], 0xFD2F_B528u32.to_le_bytes(), "{f:?}");
        }
        // Without its seek table (a file made otherwise): the same frames, from the headers.
        let table = 8 + frames.len() * 8 + 9;
        let bare = &data[..data.len() - table];
        assert_eq!(zstd_frames(bare).unwrap(), frames);
        // A reader opened inside the fifth frame starts there and skips to the byte.
        let packed = column_file(&target).unwrap();
        let z = packed.compression.clone().unwrap();
        assert_eq!(z.len, Some(760));
        assert!(z.splittable());
        let mut reader = ColumnReader::open(&packed, &z, 333).unwrap();
        let want: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(
            reader.read_buffer(760 - 333).unwrap().as_slice(),
            &want[333..]
        );
        reader.expect_end().unwrap();
        // A frame without its content size cannot be started at: not splittable.
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.include_contentsize(false).unwrap();
        e.write_all(&want).unwrap();
        assert_eq!(zstd_frames(&e.finish().unwrap()), None);
        assert_eq!(zstd_frames(b"not zstd"), None);
    }

    #[test]
    fn xz_length_from_the_indexes_of_every_stream() {
        let one = |bytes: &[u8]| {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        };
        let (a, b) = (one(&[7u8; 1000]), one(&[1u8; 333]));
        assert_eq!(xz_len(&a), Some(1000));
        // Two streams with stream padding between them.
        let two = [a.clone(), vec![0; 8], b].concat();
        assert_eq!(xz_len(&two), Some(1333));
        // A block per stream, after its 12-byte header.
        let blocks = crate::binary::compressed::xz_blocks(&two).unwrap();
        let at = (a.len() + 8) as u64;
        let (offsets, lens): (Vec<u64>, Vec<u64>) =
            blocks.iter().map(|s| (s.offset, s.len)).unzip();
        assert_eq!((offsets, lens), (vec![12, at + 12], vec![1000, 333]));
        assert_eq!(xz_len(&a[..a.len() - 1]), None);
        assert_eq!(xz_len(&a[1..]), None);
        assert_eq!(xz_len(b"YZ"), None);
    }

    #[test]
    fn every_codec_round_trips_in_frames_and_bzip2_does_not_tell_its_length() {
        let tmp = tempfile::tempdir().unwrap();
        let values: Vec<u64> = (0..1000).map(|i| (i % 37) * 1500 + i).collect();
        for codec in Codec::ALL {
            let plain = column(tmp.path(), "y.Q", &values);
            let target = tmp.path().join(format!("y.Q.{}", codec.ext()));
            compress_file(&plain, &target, options(codec, 64), &|_| {}).unwrap();
            let packed = column_file(&target).unwrap();
            let z = packed.compression.clone().unwrap();
            // zstd, xz and lz4 frames say their sizes: 16 frames of 64 rows each, split
            // points of a scan; our gzip members too (in an extra field), gathered into
            // frames of 256 KiB at least; bzip2 streams do not.
            let (len, frames) = match codec {
                Codec::Zstd | Codec::Xz | Codec::Lz4 => (Some(8000), 16),
                Codec::Gzip => (Some(8000), 1),
                Codec::Bzip2 => (None, 0),
            };
            assert_eq!((z.len, z.frames.len()), (len, frames), "{codec:?}");
            if frames > 0 {
                // Starting inside the last frame but one.
                let mut reader = ColumnReader::open(&packed, &z, 7000).unwrap();
                let want: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
                assert_eq!(reader.read_buffer(1000).unwrap().as_slice(), &want[7000..]);
                reader.expect_end().unwrap();
            }
            let back = crate::binary::compressed::read_whole(&packed, &z, 8000).unwrap();
            let want: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
            assert_eq!(back.as_slice(), &want[..], "{codec:?}");
            assert_eq!(
                crate::binary::compressed::measure(&packed, &z, None).unwrap(),
                8000
            );
            std::fs::remove_file(&target).unwrap();
        }
    }
}
