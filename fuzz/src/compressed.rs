//! The frame splitter of compressed columns: what a zstd file's seek table or frame headers, an
//! xz file's stream indexes and an lz4 file's frame headers say about the file
//! (`flow_provider::binary::compressed`), on any bytes.

use flow_provider::binary::compressed::{Frame, lz4_frames, xz_streams, zstd_frames};

/// Frames found are inside the file and in ascending order; never a panic.
pub fn frames(data: &[u8]) {
    let check = |frames: Option<Vec<Frame>>| {
        let mut previous: Option<u64> = None;
        for f in frames.iter().flatten() {
            assert!(f.offset < data.len() as u64, "{f:?} beyond {} bytes", data.len());
            assert!(previous.is_none_or(|p| p < f.offset), "{frames:?} out of order");
            previous = Some(f.offset);
        }
    };
    check(zstd_frames(data));
    check(xz_streams(data));
    check(lz4_frames(data));
}
