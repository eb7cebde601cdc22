//! The frame splitter of compressed columns: what a zstd file's seek table or frame headers and
//! an xz file's indexes say about the file (`flow_provider::binary::compressed`), on any bytes.

use flow_provider::binary::compressed::{xz_len, zstd_frames};

/// Frames found are inside the file, in ascending order, and start with a zstd frame's magic
/// (or are a seek table's entries adding up to the file); an xz length is whatever the index
/// says, never a panic.
pub fn frames(data: &[u8]) {
    if let Some(frames) = zstd_frames(data) {
        let mut previous: Option<u64> = None;
        for f in &frames {
            assert!(f.offset < data.len() as u64, "{f:?} beyond {} bytes", data.len());
            assert!(previous.is_none_or(|p| p < f.offset), "{frames:?} out of order");
            previous = Some(f.offset);
        }
    }
    let _ = xz_len(data);
}
