//! Column files written with O_DIRECT where the file system takes it: whole aligned chunks go
//! from our buffer to the disk without a copy into the page cache. On the development VM that
//! copy was the largest cost of writing a trace, and the most variable (docs/performance.md,
//! "Writing"). Anything O_DIRECT
//! refuses (an unaligned buffer or length: a file's tail; a file system without it) is written
//! through the page cache instead, from the same position.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Alignment of buffers, lengths and offsets that O_DIRECT writes need (at most a 4 KiB block).
pub const ALIGN: usize = 4096;

/// Whether `bytes` start at an [`ALIGN`]-aligned address.
pub fn is_aligned(bytes: &[u8]) -> bool {
    bytes.as_ptr().align_offset(ALIGN) == 0
}

pub struct ColumnFile {
    file: File,
    path: PathBuf,
    direct: bool,
}

impl ColumnFile {
    /// Creates (or truncates) `path`, opened for direct writes when the file system allows.
    pub fn create(path: &Path) -> io::Result<Self> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let direct = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_DIRECT)
                .open(path);
            if let Ok(file) = direct {
                return Ok(Self {
                    file,
                    path: path.to_owned(),
                    direct: true,
                });
            }
        }
        Ok(Self {
            file: File::create(path)?,
            path: path.to_owned(),
            direct: false,
        })
    }

    /// Whether whole chunks need [`ALIGN`]-aligned buffers to go out directly.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Continues through the page cache, at the current position.
    fn buffered(&mut self) -> io::Result<()> {
        let at = self.file.stream_position()?;
        let mut file = OpenOptions::new().write(true).open(&self.path)?;
        file.seek(SeekFrom::Start(at))?;
        self.file = file;
        self.direct = false;
        Ok(())
    }
}

impl Write for ColumnFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let aligned = is_aligned(buf) && buf.len().is_multiple_of(ALIGN);
        if self.direct && !aligned {
            self.buffered()?;
        }
        match self.file.write(buf) {
            Err(e) if self.direct && e.kind() == io::ErrorKind::InvalidInput => {
                self.buffered()?;
                self.file.write(buf)
            }
            written => written,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Aligned chunks, then a tail of any length (through the page cache): the file reads back
    /// whole, on whatever file system the temporary directory is.
    #[test]
    fn aligned_chunks_and_an_odd_tail_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.Q");
        let mut f = ColumnFile::create(&path).unwrap();
        let raw: Vec<u8> = (0..3 * ALIGN + 4 * ALIGN)
            .map(|i| (i % 253) as u8)
            .collect();
        let start = raw.as_ptr().align_offset(ALIGN);
        let chunk = &raw[start..start + 2 * ALIGN];
        f.write_all(chunk).unwrap();
        f.write_all(chunk).unwrap();
        f.write_all(&raw[1..1001]).unwrap();
        f.file().sync_all().unwrap();
        assert!(!f.is_direct(), "the tail goes through the page cache");
        let back = std::fs::read(&path).unwrap();
        assert_eq!(back.len(), 4 * ALIGN + 1000);
        assert_eq!(&back[..2 * ALIGN], chunk);
        assert_eq!(&back[2 * ALIGN..4 * ALIGN], chunk);
        assert_eq!(&back[4 * ALIGN..], &raw[1..1001]);
    }
}
